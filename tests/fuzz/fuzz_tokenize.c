/* fuzz_tokenize.c — libFuzzer harness for the tokenizers themselves: fixed
 * tokenizers of every kind (fuzz_tokenizers.h: WordPiece from vocab.txt,
 * cased and uncased, and from tokenizer.json; byte-level BPE; Unigram;
 * SentencePiece BPE with byte fallback) encode any text without a crash,
 * leak or hang, every id is inside the vocabulary and the encoding fits
 * max_seq. Input layout:
 *   byte 0   the tokenizer (% 6)
 *   byte 1   max_seq (bits 0-6, 0 = no truncation); bit 7 pads to it
 *   rest     the text; a tab splits a pair, as the emitted program's
 *            --vocab mode reads a line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/tokenizer.h"
#include "fuzz_tokenizers.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { N_TOK = 6 };
static tok_tokenizer *toks[N_TOK];

static void load_json(const char *text, tok_tokenizer **out)
{
    ir_diag d;
    ir_diag_init(&d);
    if (tok_load_json_text(text, strlen(text), "fuzz.json", out, &d) != IR_OK)
        fuzz_require(0, d.msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    ir_diag d;
    ir_diag_init(&d);
    tok_options o = tok_options_default();
    if (tok_load_vocab_text(FUZZ_VOCAB_TXT, sizeof FUZZ_VOCAB_TXT - 1, "vocab.txt",
                            &o, &toks[0], &d) != IR_OK)
        fuzz_require(0, d.msg);
    o.lowercase = false;
    o.strip_accents = 0;
    if (tok_load_vocab_text(FUZZ_VOCAB_TXT, sizeof FUZZ_VOCAB_TXT - 1, "vocab.txt",
                            &o, &toks[1], &d) != IR_OK)
        fuzz_require(0, d.msg);
    load_json(FUZZ_TOK_WORDPIECE_JSON, &toks[2]);
    load_json(FUZZ_TOK_BPE_JSON, &toks[3]);
    load_json(FUZZ_TOK_UNIGRAM_JSON, &toks[4]);
    load_json(FUZZ_TOK_SPBPE_JSON, &toks[5]);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const tok_tokenizer *t = toks[data[0] % N_TOK];
    size_t max_seq = data[1] & 0x7f;
    int flags = max_seq && (data[1] & 0x80) ? TOK_PAD : 0;
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    const char *tab = memchr(text, '\t', len);
    size_t a_len = tab ? (size_t)(tab - text) : len;
    tok_encoding enc = {0};
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = tok_encode_n(t, text, a_len, tab ? tab + 1 : NULL,
                               tab ? len - a_len - 1 : 0, max_seq, flags, &enc, &d);
    fuzz_explained(s, &d);
    if (s == IR_OK) {
        int64_t v = (int64_t)tok_vocab_size(t);
        /* a max_seq below the special tokens is refused, so what encodes
         * fits */
        if (max_seq && enc.len > max_seq)
            fuzz_fail("encoding longer than max_seq");
        for (size_t i = 0; i < enc.len; i++)
            if (enc.input_ids[i] < 0 || enc.input_ids[i] >= v)
                fuzz_fail("token id outside the vocabulary");
    }
    tok_encoding_free(&enc);
    return 0;
}

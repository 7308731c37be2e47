/* fuzz_tokenizer_json.c — libFuzzer harness for Hugging Face tokenizer.json
 * files (tok_load_json_text, what tok_load_json runs on a file's bytes):
 * any text gives a tokenizer (WordPiece, BPE, Unigram) or a refusal naming
 * the component by its JSON path. A tokenizer that loads encodes a fixed
 * single text and a pair, with and without truncation and padding, and
 * splits a text into words. Seeds: fuzz_tokenizers.h. */
#include <stddef.h>
#include <stdint.h>

#include "frontend/tokenizer.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_word(const char *word, size_t len, void *ctx)
{
    (void)word;
    *(size_t *)ctx += len;
}

static const char TEXT_A[] = " the  THE caf\xC3\xA9 <mask> ab\tbab \xE4\xB8\xAD\xFF"
                             " <s>x</s>\n\xE2\x80\x8B\xEF\xBC\xA1!";
static const char TEXT_B[] = "the\xCC\x81 a a a a a a a a a a a a a a a a a a a";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *t = NULL;
    ir_status s = tok_load_json_text((const char *)data, size, "tokenizer.json",
                                     &t, &d);
    fuzz_explained(s, &d);
    if (s == IR_OK) {
        tok_encoding enc = {0};
        const size_t max_seq[] = {0, 1, 2, 7};
        for (size_t i = 0; i < sizeof max_seq / sizeof max_seq[0]; i++) {
            ir_diag_init(&d);
            s = tok_encode(t, TEXT_A, i & 1 ? NULL : TEXT_B, max_seq[i],
                           max_seq[i] ? TOK_PAD : 0, &enc, &d);
            fuzz_explained(s, &d);
        }
        size_t bytes = 0;
        ir_diag_init(&d);
        s = tok_words(t, TEXT_A, sizeof TEXT_A - 1, count_word, &bytes, &enc, &d);
        fuzz_explained(s, &d);
        tok_encoding_free(&enc);
    }
    tok_free(t);
    return 0;
}

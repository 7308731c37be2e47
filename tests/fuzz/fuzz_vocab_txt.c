/* fuzz_vocab_txt.c — libFuzzer harness for vocab.txt (tok_load_vocab_text,
 * what tok_load_vocab runs on a file's bytes): any text gives a WordPiece
 * tokenizer or a refusal with a message. The first byte sets the
 * BertNormalizer options (bit 0 lowercase, bits 1-2 strip_accents -1/0/1,
 * bit 3 clean_text, bit 4 handle_chinese_chars); the rest is the file. A
 * tokenizer that loads encodes a fixed pair (accents, CJK, specials,
 * invalid UTF-8, an over-long word) with and without truncation, and
 * lists its vocabulary. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "frontend/tokenizer.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_entry(int64_t id, const char *token, size_t len, void *ctx)
{
    (void)id, (void)token;
    *(size_t *)ctx += len;
}

static const char TEXT_A[] = "The quick brown [MASK] jumped! Caf\xC3\xA9 na\xC3\xAFve "
                             "\xE4\xB8\xAD\xE6\x96\x87 \xFF\xFE x [SEP] unaffable";
static const char TEXT_B[] = "supercalifragilisticexpialidocious-and-more, 123 "
                             "\xF0\x9F\x98\x80 [UNK]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    tok_options o = tok_options_default();
    o.lowercase = data[0] & 1;
    o.strip_accents = (int)((data[0] >> 1) & 3) % 3 - 1;
    o.clean_text = (data[0] >> 3) & 1;
    o.handle_chinese_chars = (data[0] >> 4) & 1;
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *t = NULL;
    ir_status s = tok_load_vocab_text((const char *)data + 1, size - 1,
                                      "vocab.txt", &o, &t, &d);
    fuzz_explained(s, &d);
    if (s == IR_OK) {
        tok_encoding enc = {0};
        for (size_t max = 0; max <= 8; max += 8) {
            ir_diag_init(&d);
            s = tok_encode(t, TEXT_A, TEXT_B, max, max ? TOK_PAD : 0, &enc, &d);
            fuzz_explained(s, &d);
        }
        tok_encoding_free(&enc);
        size_t bytes = 0;
        tok_vocab_each(t, count_entry, &bytes);
        (void)tok_token_id(t, "[CLS]");
    }
    tok_free(t);
    return 0;
}

/* tokenizer_pretok.h — Hugging Face pre-tokenizers for BPE and Unigram
 * files (private to the tokenizer files):
 *   ByteLevel        GPT-2's split (contractions, letters, digits, other,
 *                    whitespace; tokenizer_bytelevel.c) and its byte ->
 *                    printable code point mapping; add_prefix_space puts a
 *                    space before each piece of text that lacks one.
 *   Metaspace        ' ' -> replacement ("▁"), the replacement prepended
 *                    (prepend_scheme always / first / never), then a split
 *                    before each replacement.
 *   WhitespaceSplit  split on whitespace, which is dropped.
 * A Sequence is the array itself. */
#ifndef DISTILC_TOKENIZER_PRETOK_H
#define DISTILC_TOKENIZER_PRETOK_H

#include "frontend/tokenizer_pipe.h"

typedef enum tok_pretok_kind {
    TOK_PRETOK_BYTELEVEL,
    TOK_PRETOK_METASPACE,
    TOK_PRETOK_WHITESPACE_SPLIT,
    TOK_PRETOK_COUNT
} tok_pretok_kind;

typedef enum tok_prepend {
    TOK_PREPEND_ALWAYS,
    TOK_PREPEND_FIRST,
    TOK_PREPEND_NEVER,
    TOK_PREPEND_COUNT
} tok_prepend;

typedef struct tok_pretok {
    tok_pretok_kind kind;
    bool add_prefix_space, use_regex; /* ByteLevel */
    char rep[8];                      /* Metaspace replacement, UTF-8 */
    size_t rep_len;
    tok_prepend prepend;
    bool split;
} tok_pretok;

typedef struct tok_pretok_scratch {
    tok_str str[2];
    tok_spans spans[2];
    tok_str tmp; /* ByteLevel's word with its prefix space */
} tok_pretok_scratch;

/* Runs pre[0..n) on in[0..len); *str and *spans (in the scratch) hold the
 * words. origin: in starts the whole input. */
ir_status tok_pretok_run(const tok_pretok *pre, size_t n, tok_pretok_scratch *ps,
                         const char *in, size_t len, bool origin,
                         const tok_str **str, const tok_spans **spans,
                         ir_diag *d);
void tok_pretok_scratch_free(tok_pretok_scratch *ps);

/* ---- tokenizer_bytelevel.c ---------------------------------------------- */
/* GPT-2's printable stand-in for byte b (U+0021..U+007E, U+00A1..U+00AC,
 * U+00AE..U+00FF stand for themselves; the other 68 bytes become U+0100 +
 * their rank among them), as UTF-8 in out; returns its length (1 or 2). */
size_t tok_bytelevel_char(unsigned char b, char out[2]);
/* Calls fn(off, len) for each piece of GPT-2's pattern
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * over s[0..n) (valid UTF-8), in order; the pieces cover s. */
typedef ir_status (*tok_piece_fn)(void *ctx, size_t off, size_t len);
ir_status tok_bytelevel_split(const char *s, size_t n, tok_piece_fn fn,
                              void *ctx);

#endif

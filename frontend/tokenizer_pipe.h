/* tokenizer_pipe.h — the general tokenizer.json pipeline (private to the
 * tokenizer files): what Hugging Face tokenizers runs for BPE and Unigram
 * models, one stage after another on each piece of text:
 *
 *   raw text ─ added tokens (normalized=false) split out
 *     └ each segment: normalizers (tokenizer_norm.c)
 *        └ added tokens (normalized=true) split out
 *           └ pre-tokenizers (tokenizer_pretok.c) ─► words
 *              └ each word: the model (tokenizer_bpe.c, tokenizer_unigram.c)
 *
 * tokenizer_pipe.c runs it, tokenizer_pipe_load.c builds it from the JSON.
 * Strings are UTF-8 in growable buffers; a stage reads one buffer and writes
 * the next, so a call allocates nothing once its buffers have grown. */
#ifndef DISTILC_TOKENIZER_PIPE_H
#define DISTILC_TOKENIZER_PIPE_H

#include "frontend/tokenizer_internal.h"

/* A growable byte string. */
typedef struct tok_str {
    char *p;
    size_t n, cap;
} tok_str;

ir_status tok_str_reserve(tok_str *s, size_t cap, ir_diag *d);
ir_status tok_str_put(tok_str *s, const char *p, size_t n, ir_diag *d);
ir_status tok_str_cp(tok_str *s, uint32_t cp, ir_diag *d); /* one code point */

/* A piece of a tok_str: bytes [off, off + len). origin: the piece starts
 * where the whole input starts (Metaspace's prepend_scheme "first"). */
typedef struct tok_span {
    size_t off, len;
    bool origin;
} tok_span;

typedef struct tok_spans {
    tok_span *v;
    size_t n, cap;
} tok_spans;

ir_status tok_spans_push(tok_spans *s, size_t off, size_t len, bool origin,
                         ir_diag *d);

ir_status tok_pipe_oom(ir_diag *d);

/* Builds t's pipeline from a BPE or Unigram tokenizer.json (root). */
ir_status tok_pipe_load(tok_jctx *c, tok_tokenizer *t, const json_value *root);

#endif

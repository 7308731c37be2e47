/* tokenizer_bpe.h — the BPE model of a tokenizer.json (private to the
 * tokenizer files): a word's characters, looked up in the vocabulary (the
 * tokenizer's hash table), are merged pair by pair, always the pair whose
 * merge rule comes first in "merges" (leftmost on a tie), until no rule
 * applies. Characters missing from the vocabulary become <0xXX> byte
 * tokens (byte_fallback) or the unknown token (consecutive ones fused with
 * fuse_unk), or are dropped when there is no unknown token. */
#ifndef DISTILC_TOKENIZER_BPE_H
#define DISTILC_TOKENIZER_BPE_H

#include "frontend/tokenizer_pipe.h"

typedef struct tok_bpe_merge {
    uint64_t pair; /* left id << 32 | right id; UINT64_MAX: empty slot */
    uint32_t rank;
    int64_t id; /* the merged token */
} tok_bpe_merge;

typedef struct tok_bpe {
    tok_bpe_merge *merges; /* open addressing, power-of-two size */
    size_t n_slots, n_merges;
    char *prefix, *suffix; /* continuing_subword_prefix, end_of_word_suffix */
    size_t prefix_len, suffix_len;
    int64_t unk_id; /* -1: none */
    bool fuse_unk, byte_fallback, ignore_merges;
    int64_t byte_ids[256]; /* <0xXX> ids, -1 where missing */
} tok_bpe;

typedef struct tok_bpe_sym {
    int64_t id;
} tok_bpe_sym;

typedef struct tok_bpe_scratch {
    tok_bpe_sym *sym;
    size_t cap;
    tok_str key; /* prefix + char + suffix */
} tok_bpe_scratch;

/* Adds the rule left + right -> merged at the next rank. */
ir_status tok_bpe_add_merge(tok_bpe *m, int64_t left, int64_t right,
                            int64_t merged, ir_diag *d);
/* Appends the ids of word w[0..n) (valid UTF-8) to out. */
ir_status tok_bpe_word(const tok_tokenizer *t, const tok_bpe *m,
                       tok_bpe_scratch *s, const char *w, size_t n,
                       tok_ids *out, ir_diag *d);
void tok_bpe_free(tok_bpe *m);
void tok_bpe_scratch_free(tok_bpe_scratch *s);

#endif

/* tokenizer_bpe.h — the BPE model of a tokenizer.json (private to the
 * tokenizer files): a word's characters, looked up in the vocabulary (the
 * tokenizer's hash table), are merged pair by pair, always the pair whose
 * merge rule comes first in "merges" (leftmost on a tie), until no rule
 * applies. Characters missing from the vocabulary become <0xXX> byte
 * tokens (byte_fallback) or the unknown token (consecutive ones fused with
 * fuse_unk), or are dropped when there is no unknown token. A word of n
 * characters takes O(n log n): a heap of candidate merges, not a rescan
 * per merge, so a 100k-character "word" (a line without spaces) is fast. */
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

/* A symbol of the word being merged: a doubly linked list over the array,
 * so a merge unlinks its right symbol in O(1). */
typedef struct tok_bpe_sym {
    int64_t id;
    size_t prev, next; /* neighbours; SIZE_MAX at the word's ends */
    bool gone;         /* merged into its left neighbour */
} tok_bpe_sym;

/* A candidate merge of the symbol at pos with its right neighbour, in a
 * min-heap by (rank, pos): HF's order, the best rule first and the
 * leftmost on a tie. Entries go stale when a neighbour merges first; they
 * are dropped when popped (the pair at pos no longer has that rank). */
typedef struct tok_bpe_cand {
    uint32_t rank;
    size_t pos;
} tok_bpe_cand;

typedef struct tok_bpe_scratch {
    tok_bpe_sym *sym;
    size_t cap;
    tok_bpe_cand *heap;
    size_t heap_n, heap_cap;
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

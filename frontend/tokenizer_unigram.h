/* tokenizer_unigram.h — the Unigram model of a tokenizer.json (private to
 * the tokenizer files; XLM-R, ALBERT, T5, DeBERTa-v3): each piece has a
 * log-probability, and a word becomes the sequence of pieces with the
 * highest total (Viterbi over byte positions). A character no piece starts
 * with costs the lowest score minus 10 and becomes the unknown token;
 * consecutive unknowns are fused into one, and with byte_fallback an
 * unknown becomes the <0xXX> tokens of its bytes instead. */
#ifndef DISTILC_TOKENIZER_UNIGRAM_H
#define DISTILC_TOKENIZER_UNIGRAM_H

#include "frontend/tokenizer_pipe.h"

typedef struct tok_unigram {
    double *score; /* [n] by id */
    size_t n;
    double unk_score; /* lowest score - 10 (SentencePiece's kUnkPenalty) */
    int64_t unk_id;
    bool byte_fallback;
    int64_t byte_ids[256]; /* <0xXX> ids, -1 where missing */
    size_t max_piece; /* longest piece, bytes */
} tok_unigram;

/* One lattice position: the best path ending here. */
typedef struct tok_unigram_node {
    double score;
    size_t from; /* where its last piece starts */
    int64_t id;  /* that piece, unk_id for an unknown character */
    bool reached;
} tok_unigram_node;

typedef struct tok_unigram_scratch {
    tok_unigram_node *node;
    size_t cap;
    tok_ids rev; /* path ids, last first */
    size_t *rev_from;
    size_t rev_cap;
} tok_unigram_scratch;

ir_status tok_unigram_word(const tok_tokenizer *t, const tok_unigram *m,
                           tok_unigram_scratch *s, const char *w, size_t n,
                           tok_ids *out, ir_diag *d);
void tok_unigram_free(tok_unigram *m);
void tok_unigram_scratch_free(tok_unigram_scratch *s);

#endif

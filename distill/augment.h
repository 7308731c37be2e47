/* augment.h — TinyBERT-style data augmentation (Jiao et al. 2020, sec. 3.3)
 * for task-specific distillation: every training example is copied N times
 * with whole words replaced, with probability p each, by one of their K
 * most similar words; the student is then distilled on the originals plus
 * the copies, with the teacher giving every target (so a copy's gold label
 * does not matter). TinyBERT drew replacements from BERT's masked-LM and
 * GloVe; we use the nearest neighbours by cosine similarity in the
 * teacher's own input word-embedding table, which needs nothing outside
 * the teacher.
 *
 *     aug_options o;
 *     aug_options_default(&o);                  // copies 0 = off
 *     o.copies = 2;                             // --augment 2
 *     train_data big;
 *     aug_stats st;
 *     if (aug_train_data(&tr, tok, teacher_enc, &o, &big, &st, &d) != IR_OK)
 *         ... d.msg names the option or the mismatch at fault
 *     // big.n == 3 * tr.n: the originals, then copy 1 of each, then copy 2
 *     train_data_free(&big);
 *
 * Or in two steps (tests, reuse of one table for several data sets):
 * aug_table_build (neighbours of the ids aug_data_wanted marks) then
 * aug_data_augment.
 *
 * Works on token ids (no re-tokenization): lengths, masks, types and labels
 * are copied unchanged. Only eligible whole words are replaced: not a
 * special token, not a "##" continuation, at least one letter, and not the
 * first piece of a multi-piece word (the next token is not "##..."), so a
 * word's pieces are never split apart. Deterministic: copy c of example i
 * draws from distill/kernels.h's counter-based generator seeded from
 * (seed, i, c), so the same options give the same data whatever the number
 * of copies or threads (a resumed run depends on it).
 */
#ifndef DISTILC_DISTILL_AUGMENT_H
#define DISTILC_DISTILL_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "distill/data.h"
#include "frontend/tokenizer.h"
#include "ir/diag.h"
#include "ir/encoder.h"

enum { AUG_MAX_COPIES = 64, AUG_MAX_NEIGHBOURS = 100 };

typedef struct aug_options {
    int64_t copies;     /* copies per example; 0 = off (default) */
    double prob;        /* per eligible word, TinyBERT's p_t: 0.4 */
    int64_t neighbours; /* candidates per word, TinyBERT's K: 15 */
    uint64_t seed;      /* 42 */
} aug_options;

void aug_options_default(aug_options *o);
/* IR_ERR_INPUT naming the option (and its command-line spelling) when
 * copies is outside 0..AUG_MAX_COPIES, prob outside [0, 1] or neighbours
 * outside 1..AUG_MAX_NEIGHBOURS. */
ir_status aug_options_check(const aug_options *o, ir_diag *d);

/* What a vocabulary id is to the augmenter. */
typedef enum aug_kind {
    AUG_KIND_OTHER, /* special ([PAD] [UNK] [CLS] [SEP] [MASK] [unusedN]),
                       no letter, or not in the vocabulary */
    AUG_KIND_WORD,  /* an eligible whole word */
    AUG_KIND_PIECE, /* a "##" continuation piece */
    AUG_KIND_COUNT
} aug_kind;

/* Classifies one token's text. */
aug_kind aug_token_kind(const char *token, size_t len);

/* The neighbour table: for every wanted word, its nearest eligible words
 * (itself excluded) by cosine similarity, nearest first, ties to the lower
 * id. Rows that were not wanted, or are not words, have no neighbours. */
typedef struct aug_table {
    size_t V;        /* rows of the embedding table */
    size_t K;        /* neighbours asked for */
    uint8_t *kind;   /* [V] aug_kind */
    uint8_t *count;  /* [V] neighbours found (0..K) */
    int32_t *nb;     /* [V,K] neighbour ids; the first count[v] are valid */
    size_t n_words;  /* eligible words in the vocabulary */
    size_t n_rows;   /* rows whose neighbours were computed */
} aug_table;

/* Builds the table from emb [V,W] (row v = word v's embedding). wanted [V]
 * (NULL = all) picks the rows to compute; the candidates are always every
 * eligible word. IR_ERR_INPUT when the vocabulary has ids >= V (the
 * embedding table does not match the vocabulary) or K is out of range.
 * One GEMM per block of rows over normalised rows, then a partial top-K. */
ir_status aug_table_build(const tok_tokenizer *tok, const float *emb,
                          size_t V, size_t W, const uint8_t *wanted,
                          size_t K, aug_table *out, ir_diag *d);
void aug_table_free(aug_table *t);

/* wanted[v] = 1 for every id that occurs in td's rows, else 0.
 * IR_ERR_INPUT when an id is outside [0, V). */
ir_status aug_data_wanted(const train_data *td, size_t V, uint8_t *wanted,
                          ir_diag *d);

typedef struct aug_stats {
    size_t examples_in, examples_out;
    size_t eligible;    /* positions of the copies that could be replaced */
    size_t replaced;    /* positions of the copies that were */
    size_t words;       /* eligible words in the vocabulary */
    size_t rows;        /* of which neighbours were computed */
    double table_s;     /* seconds to build the neighbour table */
    double augment_s;   /* seconds to write the copies */
} aug_stats;

/* out = src's rows followed by o->copies copies of each (copy c of all
 * examples after copy c-1). st may be NULL. With copies 0, out is a plain
 * copy of src. */
ir_status aug_data_augment(const train_data *src, const aug_table *t,
                           const aug_options *o, train_data *out,
                           aug_stats *st, ir_diag *d);

/* The whole thing for the commands: checks o, builds the table from the
 * teacher's embeddings.word for the ids in src, augments, frees the table. */
ir_status aug_train_data(const train_data *src, const tok_tokenizer *tok,
                         const ir_encoder *teacher, const aug_options *o,
                         train_data *out, aug_stats *st, ir_diag *d);

#endif

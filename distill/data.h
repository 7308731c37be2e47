/* data.h — training examples for the trainer: a GLUE split or an unlabelled
 * corpus, tokenized once into fixed-width rows, and the deterministic order
 * and batches the training loop walks.
 *
 *     train_data td;
 *     if (train_data_from_glue(&ds, tok, 128, &td, &d) != IR_OK) ...
 *     size_t *perm = malloc(td.n * sizeof *perm);
 *     train_data_order(&td, seed, epoch, perm);     // same seed+epoch,
 *                                                   // same order: resumable
 *     train_batch_buf buf = {0};
 *     train_batch b;
 *     train_data_batch(&td, perm + i, B, &buf, &b, &d);  // b.T = longest
 *     ...                                                // row, rounded up
 *     train_batch_buf_free(&buf);
 *     train_data_free(&td);
 *
 * Every example is stored padded to td.T (the max sequence length) so a
 * batch is gathered by copying rows; a batch is then cut to the longest
 * example in it rounded up to a multiple of TRAIN_BATCH_T_STEP (Hugging
 * Face's dynamic padding with pad_to_multiple_of): padding changes nothing
 * in a masked encoder, short batches cost proportionally less, and the
 * coarse step keeps the number of distinct activation shapes (each one an
 * allocation the trainer caches) small.
 *
 * A corpus file has one example per line: a text, or two texts separated by
 * one tab (a pair); blank lines are skipped; no labels (general
 * distillation).
 *
 * Padding cells hold the tokenizer's pad id (tok_pad_id: [PAD] = 0 for
 * BERT, <pad> = 1 for RoBERTa and XLM-R) and mask 0. A model that counts
 * positions over ids != pad (RoBERTa) then sees the batch Hugging Face's
 * tokenizer would give it. train_data_set_inputs fits the rows to the
 * model's own input contract after tokenizing (its pad id, no token types).
 */
#ifndef DISTILC_DISTILL_DATA_H
#define DISTILC_DISTILL_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frontend/glue.h"
#include "frontend/tokenizer.h"
#include "ir/diag.h"

enum { TRAIN_BATCH_T_STEP = 16 };

/* One batch as the loss functions see it: row-major [B,T] int32 arrays. */
typedef struct train_batch {
    size_t B, T;
    const int32_t *ids, *types, *mask;
    const int32_t *labels;   /* [B] or NULL */
    const float *targets;    /* [B] regression or NULL */
    /* Data parallel (distill/ddp.h): when this batch is one rank's share
     * of a global batch, the global batch's rows, non-padding tokens and
     * sum over its rows of tokens squared (the attention loss's valid
     * pairs). The losses divide by these rather than by the share's own
     * counts, so that the ranks' losses and gradients sum to the global
     * batch's. 0 = this batch is the whole batch. */
    size_t global_rows, global_tokens, global_pairs;
} train_batch;

/* What a batch's losses are weighted by: its share of the global batch's
 * rows (per-example losses), tokens (hidden-state MSE) and pairs
 * (attention MSE); exactly 1 for a whole batch. */
typedef struct train_batch_share {
    double rows, tokens, pairs;
} train_batch_share;
train_batch_share train_batch_share_get(const train_batch *b);
/* Rank `rank` of `ranks`'s share of the whole batch b: rows
 * [B rank / ranks, B (rank+1) / ranks) (none when B < ranks), pointing into
 * b's arrays, with b's counts as its global ones. */
void train_batch_split(const train_batch *b, int rank, int ranks,
                       train_batch *out);

typedef struct train_data {
    size_t n;                /* examples */
    size_t T;                /* row width = max sequence length */
    int32_t *ids;            /* [n,T] padded with pad_id */
    int32_t *types;          /* [n,T] */
    int32_t *mask;           /* [n,T] 1 token, 0 padding */
    uint32_t *len;           /* [n] tokens before padding */
    int32_t *labels;         /* [n] class indices, or NULL */
    float *targets;          /* [n] regression scores, or NULL */
    int n_labels;            /* classes; 1 for regression; 0 for a corpus */
    size_t n_truncated;      /* examples that fill all T tokens (cut, or
                                exactly T long) */
    size_t tokens;           /* sum of len */
    int32_t pad_id;          /* what padding cells hold */
} train_data;

/* Tokenizes a loaded GLUE split. Needs labels (IR_ERR_INPUT on a test
 * split). max_seq >= 8. */
ir_status train_data_from_glue(const glue_dataset *ds,
                               const tok_tokenizer *tok, size_t max_seq,
                               train_data *out, ir_diag *d);
/* Reads a corpus file (see above); limit 0 = all lines. IR_ERR_IO when the
 * file cannot be read, IR_ERR_INPUT naming the line with more than one
 * tab, or when the file has no example. */
ir_status train_data_from_corpus(const char *path, const tok_tokenizer *tok,
                                 size_t max_seq, size_t limit,
                                 train_data *out, ir_diag *d);
void train_data_free(train_data *td);

/* Fits tokenized rows to a model's inputs: padding cells get pad_id (the
 * id its positions treat as padding: distill/teacher.h's teacher_pad_id),
 * and without token types (a DistilBERT, RoBERTa or XLM-R teacher, whose
 * graph reads type row 0 whatever the tokenizer says) every type id
 * becomes 0, so a BERT vocabulary's pair template (text B = type 1)
 * cannot index past such a model's one type row. */
void train_data_set_inputs(train_data *td, int32_t pad_id, bool token_types);

/* perm[0..n) = a permutation of the examples, a pure function of (seed,
 * epoch) (Fisher-Yates over distill/rng.c's counter-based generator). */
void train_data_order(const train_data *td, uint64_t seed, uint64_t epoch,
                      size_t *perm);

/* Length-bucketed order (dynamic padding's other half: batches of
 * similar length, so a short batch is cut short): the examples shuffled as
 * train_data_order does, then each pool of `pool` x `batch` consecutive
 * examples sorted by length (ties kept in shuffled order), cut into
 * batches of `batch`, and the full batches shuffled among themselves by a
 * second stream of the same (seed, epoch); the last, partial batch (n not a
 * multiple of batch) stays last, where the loop expects it. A pure function
 * of (seed, epoch, batch, pool): a resumed run walks the same batches.
 * Every example appears exactly once. pool 0 or batch 0: train_data_order.
 * IR_ERR_NOMEM when the scratch (three arrays of n) cannot be had.
 * Hugging Face's group_by_length does the same with pools of 50 batches. */
ir_status train_data_order_buckets(const train_data *td, uint64_t seed,
                                   uint64_t epoch, size_t batch, size_t pool,
                                   size_t *perm, ir_diag *d);

/* A 64-bit hash of the examples (sizes, ids, types, mask, labels,
 * targets): what a checkpoint records so that a resume on other data (a
 * changed file, limit, vocabulary or augmentation) is refused. FNV-1a over
 * 32-bit words; about a second per GB. */
uint64_t train_data_hash(const train_data *td);

/* Scratch a batch is gathered into; zero-initialise, reuse, free. */
typedef struct train_batch_buf {
    int32_t *ids, *types, *mask, *labels;
    float *targets;
    size_t cap;              /* rows * T capacity of ids/types/mask */
    size_t cap_rows;
} train_batch_buf;
void train_batch_buf_free(train_batch_buf *buf);

/* Gathers examples idx[0..B) into buf and points out at it, with out->T the
 * longest of them rounded up to a multiple of TRAIN_BATCH_T_STEP (at most
 * td->T). */
ir_status train_data_batch(const train_data *td, const size_t *idx, size_t B,
                           train_batch_buf *buf, train_batch *out,
                           ir_diag *d);

#endif

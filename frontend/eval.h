/* eval.h — evaluating a sequence classifier on a GLUE split: tokenise,
 * batch (examples sorted by length so each batch pads only to its own
 * longest), run the model, collect predictions, compute the task's metrics.
 *
 *     glue_dataset ds;  tok_tokenizer *tok;  ir_graph *g;   // loaded before
 *     eval_model m;
 *     if (eval_model_init(&m, g, &d) != IR_OK) ...     // finds the inputs
 *     eval_options o = eval_options_default();          // max_seq 128, batch 32
 *     eval_result r;
 *     if (eval_run(&ds, tok, &o, eval_model_run, &m, &r, &d) != IR_OK) ...
 *     printf("%s %.4f\n", r.metrics.v[r.metrics.main].name,
 *            r.metrics.v[r.metrics.main].value);
 *     eval_result_free(&r);
 *
 * The model is anything behind an eval_run_fn: eval_model_run runs an
 * ir_graph in the reference interpreter; a backend passes its own
 * (backend/eval_rt.h: the oneDNN encoder runtime; backend/engine.h puts
 * both behind one interface for callers that choose between them). Model
 * inputs follow Hugging Face's names: input_ids, attention_mask and
 * token_type_ids (a model without token_type_ids simply does not get it);
 * the output is the one named "logits", else the first, shaped
 * [batch, n_labels] (n_labels = 1 for STS-B's regression score).
 * Predictions are the argmax of the logits (the first maximum on ties, as
 * numpy.argmax) or, for STS-B, the single logit. A model exported with a
 * fixed sequence length gets every batch padded up to it (a batch longer
 * than it is an error suggesting --max-seq). Nothing here prints:
 * progress goes through o.progress.
 */
#ifndef DISTILC_EVAL_H
#define DISTILC_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frontend/glue.h"
#include "frontend/metrics.h"
#include "frontend/tokenizer.h"
#include "ir/dist.h"
#include "ir/ir.h"

/* One padded batch, row-major [rows][seq]. index[r] is the example's
 * position in the dataset. */
typedef struct eval_batch {
    size_t rows, seq;
    const int64_t *input_ids;      /* [rows*seq] */
    const int64_t *attention_mask; /* [rows*seq] 1 real, 0 padding */
    const int64_t *token_type_ids; /* [rows*seq] */
    const size_t *index;           /* [rows] */
    size_t n_labels;               /* logits per row the caller expects */
    int64_t pad_id;                /* the id padding uses */
} eval_batch;

/* Runs the model on b and writes logits[rows*n_labels]. Returns IR_OK or
 * fills d (IR_ERR_INPUT when the model's output has the wrong shape). */
typedef ir_status (*eval_run_fn)(void *ctx, const eval_batch *b,
                                 float *logits, ir_diag *d);
/* Called after each batch with examples done so far and the total. */
typedef void (*eval_progress_fn)(void *ctx, size_t done, size_t total);

typedef struct eval_options {
    size_t max_seq;      /* truncate longest_first to this many tokens */
    size_t batch;        /* examples per batch */
    int64_t pad_id;      /* what padding holds; -1: the tokenizer's
                          * (tok_pad_id). A model that counts positions over
                          * ids != pad (RoBERTa) gives its own. */
    eval_progress_fn progress;
    void *progress_ctx;
    /* Split across processes (ir/dist.h; NULL: one). The batches are one
     * process's; rank r of n runs batches r, r + n, ... and the logits are
     * gathered (a sum over ranks of rows the others leave zero: exact), so
     * every rank ends with one process's logits, predictions and metrics,
     * bit for bit when each runs the model as the one process did (same
     * backend and thread count). Progress is reported by rank 0 only. */
    ir_dist *dist;
} eval_options;

eval_options eval_options_default(void); /* max_seq 128, batch 32, pad -1 */

typedef struct eval_result {
    const glue_task *task;
    glue_split split;
    size_t n_examples;
    size_t n_labels;      /* logits per example */
    bool has_metrics;     /* false on a split without labels */
    metric_set metrics;
    int *pred_class;      /* [n_examples] argmax; NULL for STS-B */
    double *pred_score;   /* [n_examples] STS-B score; NULL otherwise */
    float *logits;        /* [n_examples*n_labels], dataset order */
    size_t n_batches;
    size_t real_tokens;   /* tokens that are not padding */
    size_t padded_tokens; /* rows*seq summed over batches */
    double seconds;       /* whole evaluation, wall clock */
    double tokenize_seconds;
    double model_seconds; /* inside the run callback */
} eval_result;

/* Evaluates ds. On failure r is left empty (safe to free) and d names the
 * example (file:line) or batch at fault. */
ir_status eval_run(const glue_dataset *ds, const tok_tokenizer *tok,
                   const eval_options *o, eval_run_fn run, void *run_ctx,
                   eval_result *r, ir_diag *d);
void eval_result_free(eval_result *r);

/* ---- the reference interpreter as an eval_run_fn ------------------------ */
typedef struct eval_model {
    ir_graph *g;
    int in_ids, in_mask, in_types; /* index in g->inputs, -1 when absent */
    int out_logits;                /* index in g->outputs */
} eval_model;

/* Matches g's inputs by name. IR_ERR_INPUT when input_ids is missing or an
 * input has a name eval cannot feed (the message lists the names). */
ir_status eval_model_init(eval_model *m, ir_graph *g, ir_diag *d);
ir_status eval_model_run(void *ctx, const eval_batch *b, float *logits,
                         ir_diag *d);

#endif

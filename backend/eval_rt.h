/* eval_rt.h — the oneDNN encoder runtime (backend/rt.h) as an eval_run_fn
 * for frontend/eval.h's eval_run: evaluating a GLUE split on the runtime.
 *
 *     eval_rt ert = {.m = model, .labels = 2, .types = true, .bucket = 8,
 *                    .max_positions = 512};
 *     eval_run(&ds, tok, &o, eval_rt_run, &ert, &result, &d);
 *
 * It lives in backend/ because it runs the runtime; the evaluation itself
 * (tokenising, batching, metrics) stays in frontend/.
 */
#ifndef DISTILC_BACKEND_EVAL_RT_H
#define DISTILC_BACKEND_EVAL_RT_H

#include <stdbool.h>
#include <stddef.h>

#include "frontend/eval.h"

/* m from rt_model_from_graph (backend/rt_encoder.h); labels is its head's
 * width. Batches are padded (mask 0) up to a multiple of `bucket` tokens,
 * at most max_positions, so that a length-sorted evaluation meets a few
 * shapes rather than one per length (the runtime builds primitives per
 * shape); padded keys get zero attention, so the logits do not change. */
struct rt_model;
typedef struct eval_rt {
    struct rt_model *m;
    size_t labels;
    bool types;             /* the model reads token_type_ids (else 0) */
    size_t bucket;          /* 0 or 1: no padding */
    size_t max_positions;   /* the longest sequence the model's positions
                             * serve (ir_encoder_max_seq) */
} eval_rt;
ir_status eval_rt_run(void *ctx, const eval_batch *b, float *logits,
                      ir_diag *d);

#endif

/* ddp.h — data-parallel training's gradient sum, in the manner of PyTorch's
 * DistributedDataParallel: as the backward finishes a part of the gradient
 * block (model.h train_grad_ready) the part joins a bucket, and a full
 * bucket is summed across the ranks with a non-blocking allreduce while
 * the backward goes on below it; the step then waits for the last buckets
 * and every rank holds the same summed gradients, so every rank takes the
 * same optimizer step. Plus the check that the ranks start from the same
 * options, data and weights.
 *
 *     train_ddp g;
 *     train_ddp_begin(&g, dist, p, 0);             // per step, after the loss
 *     train_grad_ready r = train_ddp_ready(&g);
 *     train_backward_ready(p, a, da, ids, types, mask, &r);
 *     train_ddp_finish(&g, extra, &d);             // the sums are in p->grads
 *
 * The losses are normalised by the global batch (data.h train_batch
 * share), so the sum of the ranks' gradients is the global batch's
 * gradient: the same as one process up to the order of the float sums,
 * and the same bits for the same number of ranks (the buckets and the
 * reduction's order depend only on the model and the rank count).
 *
 * Buckets: contiguous runs of the gradient block, summed in place (no
 * copy); ready parts that touch join one run, up to TRAIN_DDP_BUCKET
 * floats (PyTorch's 25 MB default). A rank whose share of a batch is
 * empty reports the whole block at once.
 */
#ifndef DISTILC_DISTILL_DDP_H
#define DISTILC_DISTILL_DDP_H

#include <stddef.h>
#include <stdint.h>

#include "distill/data.h"
#include "distill/model.h"
#include "distill/params.h"
#include "distill/trainer.h"
#include "ir/diag.h"
#include "ir/dist.h"

enum { TRAIN_DDP_BUCKET = 25 * 1024 * 1024 / 4, TRAIN_DDP_RUNS = 4 };

typedef struct train_ddp {
    ir_dist *dist;
    float *grads;
    size_t n, bucket;
    size_t lo[TRAIN_DDP_RUNS], hi[TRAIN_DDP_RUNS]; /* pending runs; lo == hi: free */
    size_t covered;           /* floats reported so far this step */
    size_t buckets;           /* allreduces started this step */
    ir_status status;         /* the first failure of a start */
    ir_diag diag;
} train_ddp;

/* Starts a step's sum over p's gradient block; bucket floats (0 =
 * TRAIN_DDP_BUCKET). */
void train_ddp_begin(train_ddp *g, ir_dist *dist, train_params *p,
                     size_t bucket);
/* The hook for train_backward_ready. */
train_grad_ready train_ddp_ready(train_ddp *g);
/* Reports the whole block (a rank with no rows in this batch). */
void train_ddp_all_ready(train_ddp *g);
/* Starts what is pending, sums the extra block (may be NULL), waits for
 * every bucket. IR_ERR_IO from the communicator (naming the rank);
 * IR_ERR_FAILED when the backward did not report every float. */
ir_status train_ddp_finish(train_ddp *g, train_extra *x, ir_diag *d);

/* Refuses ranks that would not train the same model: a hash of the
 * options that set the result (opts_hash, the caller's), of the training
 * data and of p's and x's starting weights, compared with rank 0's.
 * IR_ERR_INPUT on every rank, naming what differs and the highest rank
 * that differs; IR_OK on one process. */
ir_status train_ddp_fingerprint(ir_dist *dist, uint64_t opts_hash,
                                const train_data *data, const train_params *p,
                                const train_extra *x, ir_diag *d);

/* FNV-1a over bytes, continuing from h (start: TRAIN_DDP_FNV_SEED). */
#define TRAIN_DDP_FNV_SEED 1469598103934665603ULL
uint64_t train_ddp_hash(uint64_t h, const void *bytes, size_t n);

#endif

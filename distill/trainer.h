/* trainer.h — the training loop: batches from distill/data.h, a loss
 * function (plain fine-tuning here, TinyBERT distillation in distill_*.c),
 * backward, global-norm clipping, AdamW with linear warmup and decay,
 * periodic dev evaluation with keep-best, checkpoints that survive a kill,
 * and a stop with a clear message on NaN/Inf.
 *
 *     train_loop_options o;
 *     train_loop_options_default(&o);
 *     o.batch = 32; o.epochs = 3; o.lr = 2e-5f; o.ckpt_dir = "ckpt";
 *     train_dev_set dev = {.data = &dev_td, .kind = METRIC_KIND_ACC};
 *     o.eval = train_dev_eval; o.eval_user = &dev;  o.eval_every = 200;
 *     train_result r;
 *     if (train_loop_run(p, &train_td, &o, train_loss_finetune, NULL, &r,
 *                        &d) != IR_OK)
 *         ...d.msg names the step and the loss that went NaN, or the file...
 *     train_result_free(&r);
 *
 * One step: zero grads; for the batch, the loss fn runs the forward into
 * `a` and writes dLoss/dActs into `da`; the loop runs train_backward, clips
 * the global gradient norm (params and extra) to o.grad_clip, and steps
 * AdamW on params (decay on matrices) and on the extra block (no decay).
 * The lr of step k (0-based) is distill/schedule.h's linear warmup/decay.
 *
 * Determinism: the example order is a pure function of (seed, epoch, and
 * the bucket pool with length buckets on) and
 * a checkpoint stores the step, so a resumed run repeats the same batches
 * (the loop draws no other random numbers: dropout is off);
 * with the GEMM implementation pinned (gemm.h: p->gemm created with
 * GEMM_ONEDNN or GEMM_BLAS, or NULL for the reference loop) and the same
 * thread count, the losses of a resumed run equal the uninterrupted run's
 * bit for bit. Data parallel (options.dist): the same batches and losses
 * as one process up to the order of float sums, bit for bit between runs
 * on the same number of ranks. The history (train_result.hist) covers this call only;
 * the figures of train_result include the steps before a resume.
 */
#ifndef DISTILC_DISTILL_TRAINER_H
#define DISTILC_DISTILL_TRAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distill/data.h"
#include "distill/model.h"
#include "distill/params.h"
#include "frontend/metrics.h"
#include "ir/diag.h"
#include "ir/dist.h"

/* The parts of one step's loss; unused parts are 0. total is what is
 * minimised (and checked for NaN/Inf). */
typedef struct train_loss_parts {
    float total, pred, emb, hidden, attn;
} train_loss_parts;

/* Runs p's forward into a, writes dLoss/dActs into da (zeroed by the
 * caller: logits, hidden[l], scores[l]), fills the parts. The loop then
 * calls train_backward, clips, and steps AdamW. a and da are sized for the
 * batch (a->B == b->B, a->T == b->T). Extra parameters (train_extra) get
 * their gradients added by the loss fn itself. */
typedef ir_status (*train_loss_fn)(void *user, const train_params *p,
                                   train_acts *a, train_acts *da,
                                   const train_batch *b,
                                   train_loss_parts *out, ir_diag *d);

/* Trainable parameters outside train_params (the distillation's width
 * projections): four caller-owned blocks of n floats. Stepped with the
 * same AdamW and lr (no weight decay), clipped with the rest, saved in and
 * restored from checkpoints. The loop zeroes grads before each step. */
typedef struct train_extra {
    float *params, *grads, *m, *v;
    size_t n;
} train_extra;

/* The loop's optimizer pieces, for loops of their own (a supernet's):
 * the global L2 norm of p's gradients and x's (x may be NULL), in double;
 * torch's clip_grad_norm_ (scale by max / (norm + 1e-6) when below 1;
 * max <= 0: off); AdamW on an extra block, train_adamw_update's arithmetic
 * without weight decay (step counts from 1). */
double train_grad_norm(const train_params *p, const train_extra *x);
void train_grad_clip(train_params *p, train_extra *x, double norm, float max);
void train_extra_adamw(train_extra *x, const train_adamw *o, int64_t step);

/* Plain fine-tuning (user ignored, may be NULL): cross-entropy on
 * b->labels, or MSE on b->targets when the head is a regression head
 * (p->cfg.head == IR_ENC_HEAD_REGRESSION). Sets parts.pred = total. */
ir_status train_loss_finetune(void *user, const train_params *p,
                              train_acts *a, train_acts *da,
                              const train_batch *b, train_loss_parts *out,
                              ir_diag *d);

/* Dev evaluation: the task's main metric (higher is better), e.g. accuracy,
 * combined_score for MRPC/STS-B, Matthews correlation for CoLA. */
typedef ir_status (*train_eval_fn)(void *user, const train_params *p,
                                   double *metric, ir_diag *d);

/* The ready-made dev evaluator: forward over data in batches of `batch`
 * (0 = 64), argmax (or the score for regression) against its labels. */
typedef struct train_dev_set {
    const train_data *data;
    metric_kind kind;
    size_t batch;
    metric_set last;         /* filled by each call: every metric */
    /* filled by each call: the mean cross-entropy of the gold labels
     * (classification) or squared error of the targets (regression): a
     * continuous score that still orders models whose metric ties */
    double last_loss;
} train_dev_set;
ir_status train_dev_eval(void *user /* train_dev_set * */,
                         const train_params *p, double *metric, ir_diag *d);

/* What the loop reports to its progress callback. */
typedef enum train_event {
    TRAIN_EVENT_STEP,        /* after each optimizer step */
    TRAIN_EVENT_EVAL,        /* after a dev evaluation (dev set) */
    TRAIN_EVENT_CKPT,        /* after writing a checkpoint */
    TRAIN_EVENT_COUNT
} train_event;
typedef struct train_status {
    train_event event;
    int64_t step, total_steps;   /* steps done (1-based after a step) */
    int64_t epoch;               /* 0-based epoch of the step */
    train_loss_parts loss;       /* this step's loss */
    float lr;                    /* lr used by this step */
    double tokens_per_s;         /* non-padding tokens / s, every run */
    double elapsed_s, eta_s;
    double dev;                  /* last dev metric, NaN if none yet */
    double best_dev;             /* best so far, NaN if none */
    const char *ckpt_path;       /* TRAIN_EVENT_CKPT: the file written */
} train_status;
typedef void (*train_progress_fn)(void *user, const train_status *s);

/* Steps between checkpoints when train_loop_options.ckpt_every is 0: a
 * checkpoint (parameters and both AdamW moments) costs about what a step
 * of a small student does, so a kill loses at most this many steps while
 * the writes stay around 1% of the run. */
enum { TRAIN_CKPT_EVERY = 100 };

typedef struct train_loop_options {
    size_t batch;            /* 32 */
    size_t max_seq;          /* 0 = the data's T; else batches are cut to it
                                (must be <= data T) */
    int64_t epochs;          /* 3; ignored when steps > 0 */
    int64_t steps;           /* 0 = epochs * ceil(n / batch) */
    float lr;                /* peak lr, 5e-5 */
    float warmup;            /* warmup fraction of the steps, 0.1 */
    float weight_decay;      /* 0.01 (AdamW, decoupled) */
    float beta1, beta2, eps; /* 0.9, 0.999, 1e-8 */
    float grad_clip;         /* global L2 norm; 1.0; <= 0 = off */
    uint64_t seed;           /* data order; 42 */
    size_t bucket_pool;      /* 0: a plain shuffle; else length-bucketed
                                batches, each pool of this many batches
                                sorted by length (train_data_order_buckets):
                                less padding, same determinism. Recorded
                                in checkpoints with the data (a resume with
                                another pool is refused) */
    int64_t eval_every;      /* steps between dev evals; 0 = end only */
    int64_t ckpt_every;      /* steps between checkpoints (besides those
                                at evals and the end); 0 = TRAIN_CKPT_EVERY.
                                A count of steps, not a time, so where a
                                run can resume from is repeatable; it
                                changes nothing in the result */
    const char *ckpt_dir;    /* NULL = no checkpoints; created if absent */
    bool resume;             /* continue from ckpt_dir/last.ckpt; its
                                seed, batch, sequence length, data, lr,
                                warmup, weight decay, clipping, step count
                                and precisions must be this run's
                                (train_ckpt_match) */
    const char *plot_path;   /* NULL = no plot; an SVG of loss and dev */
    train_eval_fn eval;      /* NULL = no dev evaluation */
    void *eval_user;
    bool keep_best;          /* true: p ends with the best-on-dev weights */
    /* Seconds the loss fn has spent in a teacher's forward so far, given
     * the loss's user pointer (NULL: no teacher). Read after every step:
     * checkpoints keep the total over every run, and a resumed run learns
     * the earlier runs' share (train_result.teacher_seconds_before). */
    double (*teacher_seconds)(void *user);
    train_progress_fn progress;
    void *progress_user;
    train_extra *extra;      /* NULL = none */
    int64_t stop_at;         /* 0 = run to the end; else stop after this
                                step as a kill would (last.ckpt written,
                                no keep-best swap): splits a run for tests
                                and time-sliced training */
    /* The precisions the loss computes with ("fp32", "bf16"; NULL =
     * "fp32"), by the names the command line uses. Recorded in checkpoints:
     * a resume with other ones is IR_ERR_INPUT naming the option. */
    const char *gemm_precision;    /* student GEMMs (--gemm-precision) */
    const char *teacher_precision; /* teacher (--teacher-precision) */
    /* The caller's hash of what its loss computes with beyond the data
     * (0: none), recorded in checkpoints: a resume with another is
     * IR_ERR_INPUT (distill_run: temperature, layer map, teacher shape). */
    uint64_t loss_hash;
    const char *what;        /* label in messages and the plot: "finetune" */
    const char *metric_name; /* the dev metric in the plot; NULL "metric" */
    /* Data parallel (distill/ddp.h): the communicator, NULL = one process.
     * Every rank calls train_loop_run with the same options, data and
     * starting weights (checked at the start: IR_ERR_INPUT naming what
     * differs). Each step, rank r of n takes rows [B r / n, B (r+1) / n)
     * of the global batch of `batch` examples (the order and the batches
     * are one process's), the gradients are summed across the ranks as
     * the backward runs, and every rank takes the same optimizer step; the
     * losses are the global batch's. Only rank 0 reports progress and
     * writes checkpoints and the plot; a resume reads last.ckpt on rank 0
     * and hands it to the others, so a run stopped at one rank count
     * continues at another. Dev evaluation runs on every rank. */
    ir_dist *dist;
    size_t dist_bucket;      /* floats per gradient bucket; 0 = ddp.h's */
} train_loop_options;
void train_loop_options_default(train_loop_options *o);

/* One point of the history kept for plots and reports. */
typedef struct train_point {
    int64_t step;
    float loss;              /* total loss of that step */
    float lr;
} train_point;
typedef struct train_dev_point {
    int64_t step;
    double metric;
} train_dev_point;

/* The figures cover every step of the run, those before a resume
 * included (read back from the checkpoint), except where said. */
typedef struct train_result {
    int64_t steps;           /* steps done in total (incl. before resume) */
    int64_t start_step;      /* step resumed from (0 = fresh) */
    int64_t total_steps;
    float last_loss;         /* of step `steps` (0 when none ran) */
    double best_dev, last_dev; /* NaN when no eval ran */
    int64_t best_step;
    double seconds, tokens_per_s;
    double run_seconds;      /* this call's share of seconds */
    double teacher_seconds_before; /* of seconds, those in the teacher
                                      (teacher_seconds) in the runs before
                                      a resume (0: fresh, or no teacher) */
    /* the rate after this run's first step, whose time includes the
     * one-off setup (oneDNN's JIT, the GEMM helper timing both libraries
     * per shape): what a long run settles at; NaN before a second step */
    double steady_tokens_per_s;
    size_t tokens;           /* non-padding tokens trained on */
    int ranks;               /* processes that trained (1 without MPI) */
    double comm_wait_s;      /* this call's time waiting for the gradient
                                sums, after the overlap hid what it could */
    train_point *hist;       /* [n_hist] every step of this call */
    size_t n_hist;
    train_dev_point *dev;    /* [n_dev] */
    size_t n_dev;
} train_result;
void train_result_free(train_result *r);

/* Runs the loop. Returns:
 *   IR_ERR_INPUT   bad options (named), labels missing for fine-tuning,
 *                  a checkpoint that does not match p's config, seed, step
 *                  count or precisions
 *   IR_ERR_FAILED  NaN/Inf in the loss or gradients: the message names the
 *                  step and the loss part; ckpt_dir/last.ckpt is the last
 *                  good state (nothing of the bad step is written)
 *   IR_ERR_IO      a checkpoint could not be written or read
 * r is filled as far as the run got (free it in every case). */
ir_status train_loop_run(train_params *p, const train_data *train,
                         const train_loop_options *o, train_loss_fn loss,
                         void *user, train_result *r, ir_diag *d);

#endif

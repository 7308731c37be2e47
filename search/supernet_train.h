/* supernet_train.h — training a weight-sharing supernet (supernet.h) with
 * TinyBERT's layer-wise distillation, and estimating a candidate's task
 * metric from its slice: the fitness the evolutionary search maximises.
 *
 *     ir_encoder *te;  teacher_load_onnx("teacher.onnx", &te, &d);
 *     search_supernet *sn;
 *     search_supernet_from_encoder(te, true, &sn, &d);   // teacher, sorted
 *     ir_encoder *tsorted;                               // the same function,
 *     search_supernet_encoder(sn, &te->cfg, &tsorted, &d); // heads in slice order
 *     teacher *t;  teacher_new(tsorted, TEACHER_ENGINE_AUTO, NULL, NULL, &t, &d);
 *     search_supernet_train_opts o;
 *     search_supernet_train_opts_default(&o);
 *     o.steps = 300;
 *     search_supernet_train_result r;
 *     search_supernet_train(sn, &space, t, &train, &o, &r, &d);
 *     double acc;
 *     search_supernet_evaluate(sn, &cand_cfg, &heldout, METRIC_KIND_ACC,
 *                              &acc, NULL, &d);
 *
 * One step (the sandwich rule, Yu & Huang 2019): the teacher runs once on
 * the batch; then the largest sliceable candidate, the smallest, and
 * n_random random ones (each a one-choice step from the previous step's:
 * search_supernet_sandwich's walk) each run forward with the distillation terms of
 * distill_loss.h (DISTILL_STAGE_ALL: embedding, hidden-state and attention
 * MSE plus the soft cross-entropy on the logits; layer map uniform) and
 * backward, their gradients summed into the supernet's slice they came
 * from; then one clipped AdamW step on the supernet with a linear warmup
 * and decay. Training every step's extremes keeps the small sub-networks
 * from being starved by the large ones sharing their weights.
 *
 * Width projections: a candidate narrower than the teacher needs W_e and
 * W_h [C_s, C_t] (distill_loss.h). The trainer keeps one pair for the
 * supernet's width, [C, C_t], starting as the selection of the first C_s
 * teacher dims (the ones a sorted supernet's slice holds), and each
 * candidate uses and trains its first C_s rows: the same slicing as the
 * weights.
 *
 * The teacher given must line up with the supernet's slices: the full
 * slice of a supernet made from the teacher with reorder (as above), or
 * any teacher for a randomly initialised supernet.
 */
#ifndef DISTILC_SEARCH_SUPERNET_TRAIN_H
#define DISTILC_SEARCH_SUPERNET_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distill/data.h"
#include "ir/dist.h"
#include "distill/teacher.h"
#include "frontend/metrics.h"
#include "search/space.h"
#include "search/supernet.h"

typedef struct search_supernet_train_opts {
    int64_t steps;        /* optimizer steps; required > 0 */
    size_t batch;         /* 32 (the data's rows are cut as td was made) */
    size_t n_random;      /* random candidates per step besides the two
                             extremes; 2 */
    float lr;             /* peak; 1e-4 (the supernet starts trained) */
    float warmup;         /* fraction of the steps; 0.1 */
    float weight_decay;   /* 0.01 on matrices */
    float grad_clip;      /* global L2 norm; 1.0; <= 0 off */
    uint64_t seed;        /* data order and candidate draws; 42 */
    /* stop after the step during which this CLOCK_MONOTONIC second is
     * passed (0: run all steps); the lr schedule then follows whichever
     * is further along, the steps or the time to the deadline */
    double deadline_s;
    /* Checkpoints (NULL: none): the supernet with its AdamW moments, the
     * projections and the loop's state (random stream, sandwich, data
     * position, loss sums) every ckpt_every steps (0: TRAIN_CKPT_EVERY)
     * and at the end, written atomically. With resume and the file
     * present the loop continues from it, to the same supernet bit for bit
     * as a run never stopped (same threads and GEMM); its seed, steps,
     * batch, data and lr must be this run's (distill/checkpoint.h's
     * train_ckpt_match). A deadline then counts the seconds trained
     * before, as if the run had not stopped. */
    const char *ckpt_path;
    int64_t ckpt_every;
    bool resume;
    void (*progress)(void *user, int64_t step, int64_t total, float loss);
    void *progress_user;
    /* Data parallel (distill/ddp.h; NULL: one process): every rank runs
     * the teacher and each candidate on its share of the batch, the
     * gradients are summed across ranks before the one AdamW step, and
     * the candidates (drawn from the seeded stream) are the same on every
     * rank. Rank 0 writes and reads the checkpoint (handing it to the
     * others), reports progress and decides the deadline and the lr it
     * sets, so every rank stops at the same step. */
    ir_dist *dist;
} search_supernet_train_opts;
void search_supernet_train_opts_default(search_supernet_train_opts *o);

/* Over every run of the training, those before a resume included. */
typedef struct search_supernet_train_result {
    int64_t steps;        /* steps done */
    int64_t start_step;   /* resumed from (0: fresh) */
    int64_t subnets;      /* sub-network forward/backward passes */
    double seconds;
    double teacher_seconds; /* of seconds, those in the teacher's forward */
    double first_loss;    /* mean over the candidates of the first step */
    double last_loss;     /* the same, mean of the last 10% of the steps */
    size_t tokens;        /* non-padding tokens of the batches */
} search_supernet_train_result;

/* IR_ERR_INPUT for bad options, a teacher whose config the supernet's
 * slices do not fit (another vocabulary, labels, head counts that do not
 * divide), or a space none of whose genomes the supernet can slice;
 * IR_ERR_FAILED naming the step and candidate when a loss turns NaN/Inf
 * (the supernet then holds the previous step's weights). */
ir_status search_supernet_train(search_supernet *sn, const search_space *sp,
                                teacher *t, const train_data *td,
                                const search_supernet_train_opts *o,
                                search_supernet_train_result *r, ir_diag *d);

/* The candidate's task metric on labelled data (train_dev_eval's main
 * metric: accuracy, Matthews correlation, the mean of accuracy and F1 or
 * of Pearson and Spearman) from its slice of the supernet, as is: no
 * training; and, when loss is given, the slice's mean loss on the same
 * data (train_dev_set.last_loss: cross-entropy of the labels, or squared
 * error), which still ranks slices whose metric ties. IR_ERR_UNSUPPORTED
 * for a factorized candidate. */
ir_status search_supernet_evaluate(const search_supernet *sn,
                                   const ir_encoder_config *c,
                                   const train_data *data, metric_kind kind,
                                   double *metric, double *loss, ir_diag *d);

#endif

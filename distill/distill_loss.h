/* distill_loss.h — TinyBERT's distillation objective (Jiao et al. 2020) as
 * the trainer's train_loss_fn: the teacher runs on the same batch, and the
 * student is pulled towards it layer by layer.
 *
 *     distill_loss_opts o;
 *     distill_loss_opts_default(&o, student_cfg.layers, teacher_cfg.layers);
 *     o.stage = DISTILL_STAGE_INTERMEDIATE;
 *     distill_loss *L;
 *     distill_loss_new(&student_cfg, t, &o, &L, &d);     // t: teacher.h
 *     distill_loss_init_proj(L, keep_dims, 42);          // or NULL: random
 *     lo.extra = distill_loss_extra(L);                  // trainer.h options
 *     train_loop_run(p, &data, &lo, distill_loss_fn, L, &r, &d);
 *     distill_loss_set_stage(L, DISTILL_STAGE_PREDICTION); ... run again ...
 *     distill_loss_free(L);
 *
 * The terms (losses.h has each with its backward and the rules chosen):
 *   intermediate  L_emb  = MSE(E^S W_e, E^T)                (eq. 8)
 *                 L_hid  = sum_m MSE(H^S_m W_h, H^T_g(m))   (eq. 7)
 *                 L_attn = sum_m MSE(A^S_m, A^T_g(m))       (eq. 3)
 *   prediction    L_pred = CE(softmax(z^T/t), log_softmax(z^S/t))  (eq. 10)
 *                 (a regression head: MSE(z^S, z^T), as TinyBERT's code)
 * g is the layer map (student.h). W_e, W_h [C_s, C_t] are learned, one for
 * the embeddings and one shared by all layers as in the paper, and exist
 * only when the widths differ; they live in a train_extra block (W_e then
 * W_h) that the loop steps with AdamW and checkpoints. Hidden and embedding
 * MSE skip padded tokens; attention MSE skips pairs touching padding, on
 * the unnormalised scores. Heads: the teacher's A_t must be a multiple r of
 * the student's A_s, and student head h is compared with the mean of
 * teacher heads h*r .. h*r+r-1 (losses.h explains why averaging).
 */
#ifndef DISTILC_DISTILL_DISTILL_LOSS_H
#define DISTILC_DISTILL_DISTILL_LOSS_H

#include "distill/model.h"
#include "distill/teacher.h"
#include "distill/trainer.h"

typedef enum distill_stage {
    DISTILL_STAGE_INTERMEDIATE, /* L_emb + L_hid + L_attn */
    DISTILL_STAGE_PREDICTION,   /* L_pred */
    DISTILL_STAGE_ALL,          /* the sum of both */
    DISTILL_STAGE_COUNT
} distill_stage;
const char *distill_stage_name(distill_stage s); /* "intermediate", ... */

typedef struct distill_loss_opts {
    distill_stage stage;
    float temperature;       /* t of eq. 10; 1 */
    float w_emb, w_hidden, w_attn, w_pred; /* term weights; 1 each */
    /* g(m) for m = 1..L_s (1-based teacher layers); uniform by default */
    int64_t layer_map[IR_ENCODER_MAX_LAYERS];
} distill_loss_opts;
void distill_loss_opts_default(distill_loss_opts *o, int64_t student_layers,
                               int64_t teacher_layers);

typedef struct distill_loss distill_loss;

/* t is borrowed (must outlive L). IR_ERR_INPUT when the head counts do not
 * fit the attention rule, the labels differ, the map leaves 1..L_t, or the
 * temperature is not > 0. */
ir_status distill_loss_new(const ir_encoder_config *student, teacher *t,
                           const distill_loss_opts *o, distill_loss **out,
                           ir_diag *d);
void distill_loss_free(distill_loss *L);
void distill_loss_set_stage(distill_loss *L, distill_stage s);
/* The projections as the loop's extra block (n = 0 when the widths agree;
 * never NULL). */
train_extra *distill_loss_extra(distill_loss *L);
/* W_e and W_h start as the selection W[i, keep[i]] = 1 when keep (the
 * teacher dims student_init_from_teacher kept, [C_s]) is given, else
 * N(0, 1/C_s) from seed. */
void distill_loss_init_proj(distill_loss *L, const int64_t *keep,
                            uint64_t seed);

/* The train_loss_fn (user = distill_loss *): student forward, teacher
 * forward, the stage's terms, their gradients into da and the extra block. */
ir_status distill_loss_fn(void *user, const train_params *p, train_acts *a,
                          train_acts *da, const train_batch *b,
                          train_loss_parts *out, ir_diag *d);

/* Wall-clock seconds spent so far inside distill_loss_fn: the student's
 * forward, the teacher's forward, and the terms with their gradients (the
 * loop's backward and optimizer step are not included). */
typedef struct distill_loss_times {
    double student_forward, teacher, terms;
    int64_t calls;
} distill_loss_times;
distill_loss_times distill_loss_get_times(const distill_loss *L);

/* The GEMM helper the terms' projections use (backend/gemm.h; NULL = the
 * reference loop). distill_loss_fn takes the student's; callers of
 * distill_loss_compute set it here. */
void distill_loss_set_gemm(distill_loss *L, struct gemm_ctx *g);

/* The instruction set of the terms' kernels (distill/kernels.h train_isa;
 * AUTO unless set, and clamped to what may run here): the hook that holds
 * each vector path to the portable one in the tests. */
void distill_loss_set_isa(distill_loss *L, train_isa isa);

/* The terms alone, given both forwards: a (student, filled) and tout (the
 * teacher on the same batch). da NULL = loss only (no gradients, extra
 * grads untouched); else gradients are ADDED into da and the extra grads. */
ir_status distill_loss_compute(distill_loss *L, const train_acts *a,
                               train_acts *da, const teacher_outputs *tout,
                               const int32_t *mask, train_loss_parts *out,
                               ir_diag *d);

/* distill_loss_compute on a data-parallel share of a batch (data.h
 * train_batch_share_get): each term weighted by the share's part of what
 * its mean divides by, so the shares' losses and gradients sum to the
 * whole batch's. */
ir_status distill_loss_compute_share(distill_loss *L, const train_acts *a,
                                     train_acts *da,
                                     const teacher_outputs *tout,
                                     const int32_t *mask,
                                     const train_batch_share *sh,
                                     train_loss_parts *out, ir_diag *d);

#endif

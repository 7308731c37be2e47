/* run.h — the one driver of a TinyBERT distillation (Jiao et al. 2020),
 * which `distilc distill` and the distill stage of `distilc compress` both
 * call: the student set up from the teacher (or at random), the teacher's
 * forward with the taps the losses need, then three stages, each one run
 * of distill/trainer.h's loop with distill/distill_loss.h as its loss:
 *   general       intermediate losses on a corpus (only with one)
 *   intermediate  intermediate losses on the task's train split
 *   prediction    soft cross-entropy on the task's train split
 * and the trained student as an encoder (and as ONNX when asked).
 *
 *     distill_plan p;
 *     distill_plan_default(&p, &recipe);     // the recipe's stage settings
 *     p.teacher = tenc; p.student = student_cfg; p.loss = loss_opts;
 *     p.gemm = gemm; p.train = &train_td; p.output = "student.onnx";
 *     distill_result r;
 *     if (distill_run(&p, &r, &d) != IR_OK)
 *         ... d.msg, e.g. "prediction distillation: step 3: loss is NaN"
 *     ... r.stage[DISTILL_RUN_PREDICTION].train.last_loss, r.student ...
 *     distill_result_free(&r);
 *
 * What differs between the callers goes through the plan's hooks: how
 * progress is shown, and (compress) the step counts set from a time budget
 * before each stage, with the step times measured by distill_job_time_step.
 * Nothing here prints. The data, the GEMM context and the checkpoint folder
 * are the caller's, so each caller names its inputs in its own words.
 */
#ifndef DISTILC_DISTILL_RUN_H
#define DISTILC_DISTILL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/gemm.h"
#include "distill/checkpoint.h"
#include "distill/distill_loss.h"
#include "distill/teacher.h"
#include "distill/trainer.h"
#include "frontend/recipe.h"
#include "ir/encoder.h"

/* The stages, in the order they run. */
enum {
    DISTILL_RUN_GENERAL,
    DISTILL_RUN_INTERMEDIATE,
    DISTILL_RUN_PREDICTION,
    DISTILL_RUN_STAGES
};
const char *distill_run_stage_name(int stage); /* "general", ... */

/* The run in progress, as the hooks see it. */
typedef struct distill_job distill_job;

typedef struct distill_stage_result {
    bool ran;
    recipe_stage cfg;          /* the settings it ran with */
    size_t examples;           /* in its data */
    train_result train;        /* steps, losses, seconds, rates */
    distill_loss_times times;  /* inside the loss fn during this stage;
                                  the teacher's over every run of it
                                  (a resumed stage counts the killed
                                  runs' too), the rest this run's */
    gemm_stats gemm;           /* the student's GEMMs during this stage */
} distill_stage_result;

typedef struct distill_result {
    distill_stage_result stage[DISTILL_RUN_STAGES];
    bool teacher_ready;        /* the teacher's forward was set up */
    teacher_engine engine;     /* which one runs the teacher */
    ir_encoder *student;       /* the trained student (owned) */
} distill_result;
void distill_result_free(distill_result *r);

typedef struct distill_plan {
    /* the models */
    const ir_encoder *teacher;       /* lifted, its head kind set */
    teacher_engine engine;           /* AUTO */
    ir_precision teacher_prec;  /* FP32 */
    ir_encoder_config student;       /* from student_config_make */
    distill_loss_opts loss;          /* layer map, temperature */
    bool init_random;                /* else from the teacher (student.h) */
    /* No distillation (the control of issue 17): the prediction stage
     * fine-tunes the student on the train split's labels (cross-entropy,
     * MSE for a regression head: train_loss_finetune) and the teacher only
     * initialises it; its forward never runs. The other stages must be
     * skipped (IR_ERR_INPUT otherwise). */
    bool labels_only;
    uint64_t init_seed;              /* random init, projections' init */
    gemm_ctx *gemm;                  /* the student's, its precision set */
    /* the data: corpus for general (NULL: general does not run), train for
     * the other two */
    const train_data *corpus, *train;
    /* the prediction stage's dev evaluation (keep-best; NULL: none) */
    train_eval_fn eval;
    void *eval_user;
    /* the stages: a stage with skip set does not run */
    recipe_stage stage[DISTILL_RUN_STAGES];
    const char *ckpt_dir;  /* checkpoints in DIR/<stage>/ (NULL: none); DIR exists */
    /* Continue from DIR's checkpoints: a stage with one continues from it
     * (its options checked: trainer.h), a stage without one starts afresh
     * from where the stages before it left the student, so a kill anywhere
     * loses at most the steps since the last checkpoint. No checkpoint at
     * all is IR_ERR_INPUT (a wrong DIR?) unless resume_fresh_ok. */
    bool resume;
    bool resume_fresh_ok;
    const char *plot;      /* loss curves in PLOT-<stage>.svg (NULL: none) */
    const char *output;    /* the student as ONNX (NULL: not written) */
    const char *labels_meta; /* the classes' names for the student's
                                metadata and encoder (ir_encoder's
                                labels_meta; NULL: none) */
    bool token_types;      /* its ONNX takes token_type_ids (true; false
                            * for a teacher without them, as
                            * teacher_load_onnx_inputs says) */
    /* Data parallel (trainer.h train_loop_options.dist; NULL: one
     * process): every stage trains across the ranks; rank 0 decides what
     * resumes (its checkpoints), writes checkpoints, plots and the ONNX,
     * and its step timings are everyone's. */
    ir_dist *dist;
    /* hooks (NULL: none), all given `user` */
    void *user;
    /* Before a stage runs: may change its settings (cfg), e.g. the steps. */
    ir_status (*stage_begin)(void *user, distill_job *job, int stage,
                             recipe_stage *cfg, ir_diag *d);
    void (*progress)(void *user, int stage, const train_status *s);
    /* After a stage's loop returned s (also on failure). */
    void (*stage_end)(void *user, int stage, const distill_stage_result *r,
                      ir_status s);
} distill_plan;

/* Teacher engine AUTO, fp32, init from the teacher seeded by the
 * intermediate stage, the stages as rec says (NULL: recipe_default);
 * everything else empty. */
void distill_plan_default(distill_plan *p, const recipe *rec);

/* Runs the plan; r is filled as far as it got (free it in every case).
 * A stage's failure is prefixed "STAGE distillation". */
ir_status distill_run(const distill_plan *p, distill_result *r, ir_diag *d);

/* The header of `stage`'s checkpoint when the run resumes and there is
 * one (*found; its step count, seconds, ...), for stage_begin hooks that
 * must keep the step count a killed run planned. IR_ERR_INPUT / IR_ERR_IO
 * for a file that is not a readable checkpoint. */
ir_status distill_job_checkpoint(const distill_job *job, int stage, bool *found,
                                 train_ckpt_state *st, ir_diag *d);

/* Seconds per optimizer step of `stage`'s loss on its data with settings
 * cfg: three steps on a throwaway copy of the student, the last two timed
 * (the student, the projections and the run are left as they were). For
 * stage_begin hooks that plan steps from a time budget. */
ir_status distill_job_time_step(distill_job *job, int stage,
                                const recipe_stage *cfg, double *step_s,
                                ir_diag *d);

#endif

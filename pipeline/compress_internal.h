/* compress_internal.h — what the stages of `distilc compress` share inside
 * the library: the stage functions (one file each) and the helpers that
 * measure a model the same way for teacher and student. Not installed. */
#ifndef DISTILC_PIPELINE_COMPRESS_INTERNAL_H
#define DISTILC_PIPELINE_COMPRESS_INTERNAL_H

#include "backend/rt.h"
#include "distill/data.h"
#include "distill/run.h"
#include "frontend/recipe.h"
#include "frontend/glue.h"
#include "frontend/tokenizer.h"
#include "ir/encoder.h"
#include "pipeline/compress.h"

ir_status compress_stage_lift(compress_ctx *c, ir_diag *d);    /* compress_lift.c */
ir_status compress_stage_supernet(compress_ctx *c, ir_diag *d); /* compress_supernet.c */
ir_status compress_stage_search(compress_ctx *c, ir_diag *d);  /* compress_search.c */
ir_status compress_stage_distill(compress_ctx *c, ir_diag *d); /* compress_distill.c */
ir_status compress_stage_build(compress_ctx *c, ir_diag *d);   /* compress_build.c */
ir_status compress_stage_eval(compress_ctx *c, ir_diag *d);    /* compress_build.c */
ir_status compress_stage_control_ft(compress_ctx *c, ir_diag *d); /* compress_control.c */
ir_status compress_stage_control_kd(compress_ctx *c, ir_diag *d); /* compress_control.c */
ir_status compress_stage_report(compress_ctx *c, ir_diag *d);  /* report.c */

/* The space cut to what the teacher tc can teach and initialise (no
 * deeper, wider, more heads or neurons; heads dividing the teacher's): gene
 * lists are filtered; IR_ERR_INPUT naming the gene when none is left, or
 * saying so when no hidden and heads pair gives heads the search allows
 * (SEARCH_MIN_HEAD_DIM) and the teacher can teach (no larger than its).
 * compress_search.c. */
ir_status compress_space_fit_teacher(search_space *sp, const ir_encoder_config *tc,
                                     ir_diag *d);
/* Whether the teacher t can initialise and teach the student s (no
 * larger in any dimension, heads dividing the teacher's, head size no
 * larger). compress_search.c. */
bool compress_teachable(const ir_encoder_config *t, const ir_encoder_config *s);
/* Before anything trains: the setting fits the teacher, and the latency
 * limit (--latency-ms, --speedup or the space's) is not far below what the
 * cheapest candidate measures here; IR_ERR_INPUT naming both numbers.
 * compress_check.c. */
ir_status compress_check_latency_limit(compress_ctx *c, ir_diag *d);
/* The teacher's config as the stages see it: lifted sizes from the state,
 * vocabulary, labels and head from the task; sp's base set to match. */
void compress_teacher_config(compress_ctx *c, search_space *sp,
                             ir_encoder_config *tc);
/* Seconds the supernet and search stages took (done or run in this call),
 * -1 when unknown: what the distillation's budget is reckoned from. */
double compress_used_before_distill(const compress_ctx *c);

/* The supernet's training part and held-out part of the task's training
 * split (first --limit examples, tokenized at compress_task_max_seq; the
 * held-out part is the last min(500, n/5)). compress_supernet.c. */
ir_status compress_supernet_data(compress_ctx *c, train_data *train,
                                 train_data *heldout, ir_diag *d);
/* What the supernet fitness is (scored on `heldout` examples), for the
 * report. */
void compress_supernet_fitness_name(const compress_ctx *c, int64_t heldout,
                                    char *buf, size_t n);
/* Tokens per training example: 64 for one-text tasks, 128 for pairs (two
 * sentences rarely fit in 64), at most what the teacher's positions serve
 * (ir_encoder_max_seq). */
int64_t compress_task_max_seq(const compress_ctx *c);
/* Tokenized rows fit to the teacher's inputs as lift recorded them
 * (train_data_set_inputs: its pad id, token types or none). */
void compress_fit_inputs(const compress_ctx *c, const tok_tokenizer *tok,
                         train_data *td);

/* Sets the OpenMP threads for the trainer's work (supernet, its scoring,
 * distillation): o->train_threads, or all cores. The runtime and the
 * latency micro-benchmarks set their own. compress.c. */
void compress_train_threads(const compress_ctx *c);

/* The runtime precision of the constraints' setting. */
ir_precision compress_rt_precision(const compress_ctx *c);
/* The tokenizer of --tokenizer (a tokenizer.json) or --vocab (uncased BERT
 * WordPiece). */
ir_status compress_tokenizer(const compress_ctx *c, tok_tokenizer **out,
                             ir_diag *d);
/* Dev metrics of e (oneDNN runtime at the setting's precision and threads,
 * o->dev_limit examples, batches padded with its pad id, token types when
 * `types`) and its median latency at the setting's batch and sequence
 * length, into m (shape, parameters and metrics; size_bytes is the
 * caller's). label names it in progress and messages. */
ir_status compress_measure_model(compress_ctx *c, const ir_encoder *e,
                                 bool types, const char *label,
                                 compress_model *m, ir_diag *d);
/* The dev metrics alone (no latency: a control has the student's shape). */
ir_status compress_measure_metrics(compress_ctx *c, const ir_encoder *e,
                                   bool types, const char *label,
                                   compress_metrics *cm, ir_diag *d);

/* ---- compress_distill.c: what distill and the controls share ------------ */
/* The recipe as compress runs it (o->recipe or the defaults, the task's
 * lengths, the budget's short-run rate without a recipe), the tokenizer,
 * the teacher, the searched student's config, the GEMM context, the train
 * split (augmented when `augment` and o->augment) and the corpus (when
 * `corpus` and o->corpus), and a distill plan over them (p: its stages,
 * models and data set; output, checkpoints and hooks are the caller's).
 * `record`: the augmentation's figures go into the results. */
typedef struct compress_dsetup {
    recipe rec;
    tok_tokenizer *tok;
    ir_encoder *tenc;
    gemm_ctx *gemm;
    glue_dataset tr_ds;
    train_data tr, corpus;
    size_t n_task;          /* train examples before augmentation */
    double distill_s;       /* the budget's seconds for distill (0: none) */
    distill_plan p;
} compress_dsetup;
ir_status compress_dsetup_open(compress_ctx *c, bool augment, bool corpus,
                               bool record, compress_dsetup *ds, ir_diag *d);
void compress_dsetup_close(compress_dsetup *ds);

/* ---- compress_files.c: output hashes and checkpoint folders ------------ */
/* FNV-1a over the file's 64-bit words (the tail bytes one by one): a check
 * that an output is the one a stage wrote, not a cryptographic hash.
 * IR_ERR_IO naming the file. */
ir_status compress_file_hash(const char *path, uint64_t *hash, ir_diag *d);
/* Whether every output of stage def exists under OUT (*missing: the first
 * that does not). */
bool compress_outputs_exist(const compress_options *o, const compress_stage_def *def,
                            const char **missing);
/* The hashes of the files stage i wrote (its outputs and the optional ones
 * it did write; none for an edited_after stage) into st->out[i]. */
ir_status compress_outputs_record(const compress_options *o,
                                  const compress_stage_def *def,
                                  compress_state *st, int i, ir_diag *d);
/* Whether the files stage i wrote are there and unchanged, by the hashes
 * the state recorded (a state without them: by existence); why gets what
 * is not ("student.onnx changed since the stage wrote it"). */
bool compress_outputs_intact(const compress_options *o, const compress_stage_def *def,
                             const compress_state *st, int i, char *why, size_t n);
/* Removes OUT/ckpt/<stage>, for a stage that starts afresh. */
ir_status compress_ckpt_clear(const compress_options *o, int stage, ir_diag *d);
/* Removes path and what it holds, at most depth folder levels down;
 * symbolic links are removed, never followed. 0 or -1 (errno). */
int compress_remove_tree(const char *path, int depth);

/* Size of a file in bytes, -1 when it cannot be stat'ed. */
int64_t compress_file_size(const char *path);
/* Seconds on the monotonic clock. */
double compress_now_s(void);

#endif

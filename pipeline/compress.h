/* compress.h — `distilc compress`: teacher to deployable student in one run,
 * as a machine of six stages that each write their result into the output
 * folder and record their completion in OUT/state.json.
 *
 *     compress_options o;
 *     compress_options_default(&o);
 *     o.teacher = "teacher.onnx"; o.task = "SST-2"; o.data = "glue";
 *     o.vocab = "vocab.txt"; o.out = "out"; o.budget_minutes = 5;
 *     // or o.tokenizer = "tokenizer.json" (RoBERTa's, XLM-R's, ...)
 *     compress_state st;
 *     if (compress_run(&o, compress_stages_default(), NULL, &st, &d) != IR_OK)
 *         ... d.msg: "stage distill: ..." naming the option or file at fault
 *     compress_report_table(stdout, &o, &st);        // pipeline/report.h
 *
 * The stages, in order (compress_stages_default):
 *   lift     teacher ONNX -> encoder; its dev metrics and runtime latency
 *   supernet a weight-sharing supernet made from the teacher and trained
 *            by layer-wise distillation over the space
 *            (search/supernet_train.h) -> OUT/supernet/; skipped (a note
 *            in supernet.json) with the proxy fitness
 *   search   evolutionary search in the space (constraints from the
 *            options, latency from search/latency.h, fitness: the
 *            candidate's slice of the supernet on held-out training
 *            examples) -> student shape
 *   distill  TinyBERT: general distillation on the corpus (when given),
 *            then intermediate and prediction losses on the task ->
 *            OUT/student.onnx
 *   build    OUT/bin/model (backend/emit.h)
 *   eval     the student's dev metrics and runtime latency
 *   control-finetune, control-kd  (only with o.controls; otherwise they
 *            record that they were not asked for) the controls of the
 *            GLUE table (issue 17): the searched shape, initialised from
 *            the teacher as distill initialises it, trained for as many
 *            steps as distill's task stages took together, with the
 *            prediction stage's settings and seed, either on the labels
 *            alone (no teacher: cross-entropy, MSE for STS-B; the
 *            unaugmented train split) or by the prediction loss alone
 *            (DistilBERT-style soft targets, on distill's own, possibly
 *            augmented, data) -> OUT/controls/{finetune,kd}.onnx and
 *            their dev metrics
 *   report   OUT/report.json and OUT/report.svg (pipeline/report.h)
 *
 * Rerunning: every stage has a fingerprint, a hash of its inputs (the
 * teacher file's size and mtime, the data, space and corpus files', the
 * options that stage reads) chained with the previous stage's, so changing
 * an input redoes the first stage that reads it and everything after. A
 * stage is skipped when state.json says it finished with the same
 * fingerprint and its output files are still the ones it wrote (their
 * hashes are in state.json: a file rewritten since redoes its stage and
 * everything after). --from STAGE (o.from) redoes from that stage
 * whatever the state says.
 *
 * Resuming: the training stages (supernet, distill) checkpoint every
 * o.ckpt_every steps into OUT/ckpt/<stage>/, the search its evolution
 * after the initial population and each generation
 * (OUT/ckpt/search/evolution.ckpt), with the latency cache written as it
 * grows. A stage that was started with the same fingerprint and did not
 * finish (a kill), or finished but lost or changed an output, continues
 * from its checkpoints (c->resume), to the same result bit for bit as a
 * run never killed, at the same thread count; for the search, as a run
 * never killed that saw the same timings: every shape the killed run
 * timed is looked up in the cache rather than timed again (a shape timed
 * twice times differently), and the shapes it had not reached are timed
 * as in any run. Any other run of a stage removes its checkpoints first,
 * and a run that finishes every stage removes OUT/ckpt/. A checkpoint
 * that is corrupt, or was written with other options, is refused
 * (IR_ERR_INPUT naming the file).
 *
 * The budget (o.budget_minutes) bounds supernet training, search and
 * distillation together: the supernet gets o.supernet_fraction of it (none
 * with the proxy fitness), the search o.search_fraction (after which
 * candidate latencies are interpolated from the cache instead of
 * measured), distillation the rest, converted into optimizer steps from a
 * measured step time.
 */
#ifndef DISTILC_PIPELINE_COMPRESS_H
#define DISTILC_PIPELINE_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"
#include "ir/dist.h"
#include "search/space.h"

typedef enum compress_stage {
    COMPRESS_LIFT,
    COMPRESS_SUPERNET,
    COMPRESS_SEARCH,
    COMPRESS_DISTILL,
    COMPRESS_BUILD,
    COMPRESS_EVAL,
    COMPRESS_CONTROL_FT,
    COMPRESS_CONTROL_KD,
    COMPRESS_REPORT,
    COMPRESS_STAGE_COUNT
} compress_stage;
/* "lift", ..., "eval", "control-finetune", "control-kd", "report" */
const char *compress_stage_name(compress_stage s);
bool compress_stage_parse(const char *s, compress_stage *out);

typedef struct compress_options {
    const char *teacher;     /* TEACHER.onnx (required) */
    const char *task;        /* GLUE task name (required, unless task_desc) */
    const char *data;        /* GLUE root or the task's folder (required
                                with task) */
    /* The user's own task (frontend/user_data.h: user_task_open; its files
     * are in it, task and data are then not needed); NULL: the GLUE task
     * named by task. The caller owns it. */
    const struct glue_task *task_desc;
    const char *vocab;       /* vocab.txt (uncased BERT WordPiece), or */
    const char *tokenizer;   /* a tokenizer.json: one of the two required */
    const char *out;         /* output folder (required; created) */
    const char *space;       /* NULL: the built-in default space */
    const char *corpus;      /* NULL: no general distillation */
    const char *share;       /* NULL: the space's sharing choices */
    double latency_ms;       /* 0: the space's limit */
    double speedup;          /* > 0: the limit is the teacher's latency (as
                                lift measured it) / speedup; not with
                                latency_ms */
    int64_t max_params;      /* 0: the space's limit */
    double budget_minutes;   /* 0: no budget (recipe defaults: epochs) */
    double supernet_fraction; /* share of the budget for the supernet, 0.3 */
    double search_fraction;  /* share of the budget for the search, 0.1 */
    bool proxy_fitness;      /* true: no supernet; the search ranks by
                                search_proxy_fitness (evolution.h) */
    int64_t children_per_cycle; /* the search's K children a cycle
                                   (evolution.h), scored together: spread
                                   over the ranks under mpirun; 0 or 1:
                                   one child a cycle */
    int64_t seq, batch, threads; /* latency setting; 0: the space's */
    const char *precision;   /* NULL: the space's (fp32, bf16, int8) */
    int64_t limit;           /* first N train examples / corpus lines; 0 all */
    int64_t distill_steps;   /* > 0: steps per distillation stage, whatever
                                the budget says */
    int64_t supernet_steps;  /* > 0: supernet steps, whatever the budget
                                says */
    int64_t train_threads;   /* threads for training and the supernet's
                                scoring; 0: all cores (the setting's
                                --threads is for latency only) */
    bool cpu_clock;          /* time models and latency micro-benchmarks on
                                the thread's CPU clock (needs threads = 1):
                                repeatable on a machine other jobs share */
    int64_t dev_limit;       /* first N dev examples; 0 all */
    int from;                /* -1: resume; else the compress_stage to redo
                                from */
    const char *latency_cache; /* NULL: search/latency.h's per-machine file */
    const char *command;     /* the command line, for the emitted header */
    /* TinyBERT data augmentation of the distill stage's task data
     * (distill/augment.h): copies per example, 0 = off; replacement
     * probability (0.4) and neighbours per word (15) */
    int64_t augment;
    double augment_prob;
    int64_t augment_neighbours;
    /* steps between the supernet's and the distillation's checkpoints
     * (OUT/ckpt/); 0: distill/trainer.h's TRAIN_CKPT_EVERY. Not part of
     * any fingerprint: it changes where a kill can resume from, not the
     * result */
    int64_t ckpt_every;
    /* Data parallel under mpirun (ir/dist.h; NULL: one process). Rank 0
     * runs the stage machine: it reads and writes OUT (state.json, every
     * output, the checkpoints) and alone runs lift, build, eval, the
     * controls (as one process) and report, measuring latency on its
     * machine; the training stages, supernet and distill, run on every
     * rank (distill/ddp.h), which get rank 0's state before each of them,
     * and so does the search with the supernet fitness: rank 0 draws and
     * times, every rank scores a share (search/fitness_dist.h). OUT need
     * not be shared between hosts; the inputs (teacher, data, vocabulary)
     * must be the same on every host. */
    ir_dist *dist;
    /* A recipe (frontend/recipe.h; NULL: the defaults): the supernet's
     * steps and batch, the search's population and generations, the
     * distillation stages' settings (steps, lr, batch, max-seq, seed,
     * buckets: as written, not the budget's short-run learning rate); the
     * caller fills what the options did not give (steps, augmentation,
     * controls) from it. The stage fingerprints take its settings, each in
     * the stage it sets (a new distillation step count keeps the supernet;
     * a touched but equal file redoes nothing); recipe_path is its file. */
    const struct recipe *recipe;
    const char *recipe_path;
    /* Train the two controls (the control-finetune and control-kd stages). */
    bool controls;
} compress_options;
void compress_options_default(compress_options *o);
/* The task every stage reads: o->task_desc, else the GLUE task o->task
 * names (NULL when it names none). */
const struct glue_task *compress_task(const compress_options *o);

/* ---- what the stages find out (kept in state.json) ---------------------- */
enum { COMPRESS_METRICS_MAX = 4, COMPRESS_TEXT = 192 };

typedef struct compress_metrics {
    int n;
    int main;                /* index of the task's main metric */
    char name[COMPRESS_METRICS_MAX][32];
    double value[COMPRESS_METRICS_MAX]; /* NaN: undefined */
} compress_metrics;

typedef struct compress_model {
    char shape[COMPRESS_TEXT];   /* "L4 H312 A12 F1200 E0 none" */
    int64_t parameters;
    int64_t size_bytes;          /* the ONNX file */
    double latency_ms;           /* distilc runtime, median; NaN unknown */
    compress_metrics metrics;    /* dev */
    int64_t dev_examples;
} compress_model;

/* The distillation stages (general runs only with a corpus). */
enum { COMPRESS_DSTAGES = 3 };
typedef struct compress_dstage {
    bool ran;
    int64_t steps;
    int64_t examples;
    double epochs;               /* steps / batches per epoch */
    double final_loss, seconds, tokens_per_s;
    /* of seconds: in the teacher's forward, and the rest (the student's
     * forward, backward, loss terms and optimizer); NaN unknown */
    double teacher_s, student_s;
} compress_dstage;

/* A control (the control-finetune and control-kd stages). */
enum { COMPRESS_CONTROLS = 2 };
typedef struct compress_control {
    bool ran;                    /* false: not asked for */
    int64_t steps, examples;
    double final_loss, seconds, teacher_s, student_s;
    compress_metrics metrics;    /* dev */
} compress_control;

typedef struct compress_results {
    compress_model teacher, student;
    /* the teacher's sizes (lift) */
    int64_t t_layers, t_hidden, t_heads, t_ffn, t_vocab, t_positions,
        t_type_vocab, t_labels;
    /* its FFN activation as ir_act_ffn_code (0 gelu, the default of a
     * state written before the field), which every candidate keeps */
    int64_t t_activation;
    /* its input contract, which every stage keeps (the supernet's and the
     * student's ONNX, the program, the batches): whether it takes
     * token_type_ids (true unless a DistilBERT, RoBERTa or XLM-R export
     * says otherwise), and the pad id its positions count from (RoBERTa,
     * XLM-R; -1: positions 0..S-1) */
    bool t_token_types;
    int64_t t_pad_id;
    /* its head's activation after the first token's dense layer
     * (ir_act_name: "tanh", "relu" for DistilBERT, "gelu" for ELECTRA;
     * "": tanh) and its LayerNorm epsilon (RoBERTa 1e-5; NaN: unknown):
     * the supernet's sub-networks and the candidates are the teacher's
     * family, not BERT's */
    char t_pool_act[16];
    double t_ln_eps;
    /* its relative position bias (MPNet; ir_encoder_config's rel_*; 0
     * buckets: none, the default of a state written before the fields),
     * which the supernet's sub-networks, the candidates and the student
     * carry */
    int64_t t_rel_buckets, t_rel_max_distance;
    bool t_rel_bidirectional;
    /* supernet */
    bool sn_trained;
    int64_t sn_steps, sn_subnets, sn_examples, sn_heldout;
    double sn_seconds, sn_first_loss, sn_last_loss, sn_budget_s;
    double sn_teacher_s;         /* of sn_seconds in the teacher (this
                                    run's share when it resumed); NaN
                                    unknown */
    /* search */
    int64_t s_layers, s_hidden, s_heads, s_ffn, s_embed;
    char s_share[32];            /* "none", "groups:2", ... */
    char fitness[COMPRESS_TEXT]; /* what the fitness was */
    char latency_src[COMPRESS_TEXT]; /* where predicted latencies came from */
    double predicted_ms;         /* of the chosen student */
    double limit_ms;             /* the constraints searched under (0 none) */
    int64_t limit_params;
    int64_t evaluated, cycles, measured, interpolated;
    double timed_s;              /* this run's latency timings, wall s */
    double timed_others_cores;   /* other processes' average cores during
                                    them (ir/machine_load.h); NaN unknown */
    /* distill */
    compress_dstage dstage[COMPRESS_DSTAGES];
    double step_s;               /* measured seconds per optimizer step */
    bool fixed_steps;            /* steps came from --steps */
    bool recipe_steps;           /* else from a recipe (--recipe) */
    char teacher_engine[32];
    /* data augmentation (distill/augment.h) of the task stages' data: the
     * options, the rows trained on (originals + copies), the words the
     * copies replaced out of those they could */
    int64_t aug_copies, aug_neighbours;
    double aug_prob;
    int64_t aug_examples, aug_replaced, aug_eligible;
    /* the controls: [0] fine-tuning on labels, [1] prediction loss only */
    compress_control ctl[COMPRESS_CONTROLS];
    /* budget */
    double budget_s;             /* 0: none */
    double search_budget_s, distill_budget_s;
    /* build */
    int64_t program_bytes, weights_bytes;
    /* the training threads (per rank) and ranks of the run that last
     * started or resumed a stage: a checkpoint resumed at another count
     * goes on, but not bit for bit as the run it continues (0: unknown) */
    int64_t run_train_threads, run_ranks;
    /* the setting of this run (filled by compress_run, not saved: it is
     * part of the lift stage's fingerprint) */
    int64_t set_seq, set_batch, set_threads;
    char set_precision[8];
    char set_clock[8];           /* "wall" or "cpu" */
    char space_name[256];
} compress_results;

/* A file a stage wrote (relative to OUT) and the hash of its bytes when
 * the stage finished (FNV-1a over 64-bit words). */
enum { COMPRESS_OUTPUTS_MAX = 6, COMPRESS_OUTPUT_NAME = 64 };
typedef struct compress_output {
    char name[COMPRESS_OUTPUT_NAME];
    uint64_t hash;
} compress_output;

typedef struct compress_state {
    bool done[COMPRESS_STAGE_COUNT];
    /* the inputs' fingerprint the stage finished with, or (not done) the
     * one it was started with: the same again resumes it */
    uint64_t fp[COMPRESS_STAGE_COUNT];
    compress_output out[COMPRESS_STAGE_COUNT][COMPRESS_OUTPUTS_MAX];
    int n_out[COMPRESS_STAGE_COUNT];  /* 0 in a state of an older distilc */
    double seconds[COMPRESS_STAGE_COUNT];
    bool ran[COMPRESS_STAGE_COUNT];   /* ran in this call (not saved) */
    compress_results r;
} compress_state;
void compress_state_init(compress_state *s);
/* OUT/state.json ("distilc-compress-state", version 1). A missing file is
 * an empty state (IR_OK); another format or version is IR_ERR_INPUT saying
 * to delete it or rerun with --from lift. */
ir_status compress_state_load(const char *path, compress_state *s,
                              ir_diag *d);
/* Written to a temporary file renamed over the old one. */
ir_status compress_state_save(const char *path, const compress_state *s,
                              ir_diag *d);


/* ---- the stage machine -------------------------------------------------- */
typedef struct compress_ctx compress_ctx;

/* Hooks for the command's progress display (all may be NULL). train and
 * eval hooks receive the distillation's and evaluations' progress. */
typedef struct compress_hooks {
    void *user;
    void (*stage_begin)(void *user, compress_stage s, bool skipped,
                        const char *why);
    void (*stage_end)(void *user, compress_stage s, double seconds);
    /* a unit of work inside a stage: label, done, total (done == total:
     * finished) */
    void (*work)(void *user, const char *label, size_t done, size_t total);
    /* a note worth showing the user ("search: budget spent, ...") */
    void (*note)(void *user, const char *text);
} compress_hooks;

/* What a stage is: its function and the files (relative to OUT) it must
 * leave behind for a later run to skip it. */
typedef ir_status (*compress_stage_fn)(compress_ctx *c, ir_diag *d);
typedef struct compress_stage_def {
    compress_stage_fn fn;
    const char *outputs[4];      /* NULL-terminated */
    /* files it may write (NULL-terminated): their hashes are recorded and
     * checked like the outputs' when they exist */
    const char *optional[2];
    /* its outputs are meant to be edited afterwards (report.json gets its
     * ONNX Runtime figures from bench/compress_report_ort.py): checked for
     * existence only, not by hash */
    bool edited_after;
} compress_stage_def;
/* The real stages (compress_lift.c ... report.c). */
const compress_stage_def *compress_stages_default(void);

/* What a stage function sees. */
struct compress_ctx {
    const compress_options *o;
    compress_state *st;
    const compress_hooks *h;
    search_space space;          /* loaded and overridden from the options */
    /* The stage continues from its checkpoints in OUT/ckpt/<stage>/ when
     * there are any (a run of it with the same inputs stopped); when false
     * the folder was emptied before the stage was called. */
    bool resume;
    char out_path[4096];         /* scratch for compress_path */
};
/* OUT/rel in c->out_path (valid until the next call). */
const char *compress_path(compress_ctx *c, const char *rel);
/* OUT/ckpt/<stage> into buf, created (with OUT/ckpt); IR_ERR_IO naming it. */
ir_status compress_ckpt_dir(compress_ctx *c, compress_stage s, char *buf,
                            size_t n, ir_diag *d);
void compress_note(compress_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void compress_work(compress_ctx *c, const char *label, size_t done,
                   size_t total);

/* Checks the options (IR_ERR_INPUT naming the option), loads the space,
 * loads OUT/state.json, and runs every stage that is not up to date. On a
 * stage's failure d says "stage NAME: ..." and the state records the
 * stages before it as done. st receives the final state. */
ir_status compress_run(const compress_options *o,
                       const compress_stage_def *stages,
                       const compress_hooks *h, compress_state *st,
                       ir_diag *d);

/* The fingerprint of each stage's inputs, chained (fp[i] covers stages
 * 0..i), given the constraints in effect (the space's with the options'
 * overrides); exposed for tests. IR_ERR_INPUT naming a file that does not
 * exist (the teacher, the vocabulary, the space, the corpus). */
ir_status compress_fingerprints(const compress_options *o,
                                const search_constraints *cons,
                                uint64_t fp[COMPRESS_STAGE_COUNT], ir_diag *d);
/* The space the options ask for (file or built-in) with the constraint
 * overrides applied (latency, params, seq, batch, threads, precision). */
ir_status compress_space_load(const compress_options *o, search_space *sp,
                              ir_diag *d);

/* The budget split in seconds: the supernet's and the search's shares, and
 * distillation's, which is what the two earlier stages left (used: the
 * seconds they actually took; < 0 while not known) but never less than
 * half its own share. All 0 without a budget. */
typedef struct compress_budget {
    double supernet_s, search_s, distill_s;
} compress_budget;
void compress_budget_split(const compress_options *o, double used,
                           compress_budget *b);

#endif

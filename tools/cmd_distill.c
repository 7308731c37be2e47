/* cmd_distill.c — `distilc distill TEACHER.onnx --task T --data DIR
 * --student layers=L,hidden=H,heads=A,ffn=F -o STUDENT.onnx`: TinyBERT
 * distillation of a fine-tuned teacher into a smaller student.
 *
 * The flow: teacher ONNX -> ir_encoder (distill/teacher.h) -> student
 * config (distill/student.h) -> the data -> distill/run.h's driver, the
 * one `distilc compress` uses too (student init, then the stages general
 * on --corpus, intermediate and prediction on the task's train split, and
 * the student written as ONNX) -> dev evaluation of teacher and student on
 * the oneDNN runtime (backend/engine.h). Settings come from
 * frontend/recipe.h's defaults, then --recipe FILE, then the command line.
 * This file holds what is the command's own: options, progress display,
 * messages and the report. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/engine.h"
#include "backend/gemm.h"
#include "distill/augment.h"
#include "distill/data.h"
#include "distill/run.h"
#include "distill/student.h"
#include "distill/teacher.h"
#include "distill/trainer.h"
#include "frontend/eval.h"
#include "frontend/glue.h"
#include "frontend/recipe.h"
#include "frontend/user_data.h"
#include "ir/clock.h"
#include "tools/cli.h"
#include "tools/cmd_eval.h"
#include "tools/cmds.h"
#include "tools/progress.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc distill TEACHER.onnx --task T --data DIR -o STUDENT.onnx\n"
            "         --student layers=L,hidden=H,heads=A,ffn=F[,embed=E]\n"
            "         [--share none|all|groups:K|attention|ffn] [--corpus FILE]\n"
            "         [--steps N | --epochs N] [--recipe FILE] [--init teacher|random]\n"
            "         [--layer-map LIST] [--temperature X] [--ckpt-dir D] [--resume]\n"
            "         [--ckpt-every N]\n"
            "         [--plot F.svg] [--limit N] [--dev-limit N] [--skip-bad-lines]\n"
            "         [--vocab V | --tokenizer FILE]\n"
            "         [--batch N] [--max-seq N] [--lr X] [--seed N] [--threads N]\n"
            "         [--teacher-engine auto|onednn|trainer] [--json] [--progress M]\n"
            "         [--teacher-precision fp32|bf16] [--gemm-precision fp32|bf16]\n"
            "         [--augment N] [--augment-prob P] [--augment-neighbours K]\n"
            "\n"
            "Distils a fine-tuned BERT-style classifier (the teacher) into a\n"
            "smaller student with TinyBERT's losses (Jiao et al. 2020): general\n"
            "distillation on a text corpus when one is given (embedding, hidden-\n"
            "state and attention losses), then on the task's train split the\n"
            "same intermediate losses, then the prediction loss (soft cross-\n"
            "entropy at a temperature). Teacher and student are evaluated on the\n"
            "dev split at the end; the student is written as ONNX (input_ids,\n"
            "attention_mask, token_type_ids -> logits).\n"
            "\n"
            "  --task T          CoLA, SST-2, MRPC, STS-B, ... (or sst2, stsb, ...)\n"
            "  --data DIR        a GLUE root or the task's folder; without\n"
            "                    --task, your own data (below)\n"
            "  --student SPEC    layers=L,hidden=H,heads=A,ffn=F[,embed=E]: the\n"
            "                    student's shape (E: factorized embeddings,\n"
            "                    projected after the LayerNorm when the teacher's\n"
            "                    are, as ELECTRA-small's and ALBERT's)\n"
            "  -o, --output F    the student (.onnx)\n"
            "  --share S         parameter sharing across the student's layers:\n"
            "                    none (default), all, groups:K (K divides layers),\n"
            "                    attention, ffn\n"
            "  --init I          teacher (default): every g(m)-th teacher layer,\n"
            "                    narrowed to the heads, FFN neurons and hidden dims\n"
            "                    of largest weight magnitude; random: N(0, 0.02)\n"
            "  --layer-map LIST  g(m) for each student layer, 1-based teacher\n"
            "                    layers, e.g. 3,6,9,12 (default m*L_t/L_s)\n"
            "  --corpus FILE     general-distillation text, one example a line\n"
            "  --recipe FILE     an XML recipe (schema frontend/recipe.xsd); options\n"
            "                    given here override it\n"
            "  --steps N         optimizer steps per stage (overrides epochs)\n"
            "  --epochs N        epochs per stage\n"
            "  --batch N, --max-seq N, --lr X, --seed N   for every stage\n"
            "  --temperature X   prediction-loss temperature (1)\n"
            "  --ckpt-dir D      checkpoints per stage in D/<stage>/\n"
            "  --ckpt-every N    a checkpoint every N steps of a stage (100), and at\n"
            "                    its end\n"
            "  --resume          continue from D's checkpoints (a kill loses at most\n"
            "                    N steps; the options that set the result must be\n"
            "                    the same)\n"
            "  --plot F.svg      loss curves, one SVG per stage (F-<stage>.svg)\n"
            "  --limit N         first N training examples (and corpus lines)\n"
            "  --dev-limit N     first N dev examples\n"
            "  --skip-bad-lines  count and skip malformed lines of the task's\n"
            "                    files (a warning says how many)\n"
            "  --augment N       TinyBERT data augmentation: the intermediate and\n"
            "                    prediction stages train on the train split plus N\n"
            "                    copies of each example (0 = off, the default; at\n"
            "                    most 64) in which each whole word is replaced, with\n"
            "                    probability P, by one of its K nearest words in\n"
            "                    the teacher's word embeddings (cosine). Epochs then\n"
            "                    count the augmented set, N+1 times the steps\n"
            "  --augment-prob P  replacement probability, in [0, 1] (0.4)\n"
            "  --augment-neighbours K  candidates per word, 1..100 (15)\n"
            "  --vocab FILE      BERT vocab.txt, or --tokenizer FILE a Hugging Face\n"
            "                    tokenizer.json (default: tokenizer.json or\n"
            "                    vocab.txt beside the teacher); batches pad with\n"
            "                    the teacher's pad id\n"
            "  --teacher-engine  auto (default: oneDNN runtime, else the trainer's\n"
            "                    forward), onednn or trainer\n"
            "  --teacher-precision P  fp32 (default) or bf16: the teacher's\n"
            "                    matmuls on the oneDNN runtime in bf16 (needs\n"
            "                    AVX512-BF16; the teacher only gives targets)\n"
            "  --gemm-precision P  fp32 (default) or bf16: the student's GEMMs\n"
            "                    with bf16 inputs and f32 accumulation\n"
            "  --threads N       threads (default: all cores)\n"
            "  --json            print the final report as one JSON object\n"
            "  --progress MODE   auto, bar, json or off\n"
            "  --help            this text\n"
            "\n");
    cli_user_data_usage(f);
    fprintf(f,
            "The student keeps the task's label names (ONNX metadata\n"
            "distilc.labels).\n"
            "Exit status: 0 ok, 1 failure (incl. NaN), 2 bad input or usage.\n");
}

/* ---- progress ---------------------------------------------------------------- */

typedef struct dp_progress {
    progress_mode mode;
    double t_last;
    bool drawn;             /* a bar is on the line */
} dp_progress;

static void dp_progress_cb(void *user, int stage, const train_status *s)
{
    dp_progress *fp = user;
    const char *name = distill_run_stage_name(stage);
    double now = ir_clock_wall_s();
    bool final = s->step == s->total_steps && s->event == TRAIN_EVENT_STEP;
    if (fp->mode == PROGRESS_OFF)
        return;
    if (s->event == TRAIN_EVENT_STEP && !final &&
        now - fp->t_last < (fp->mode == PROGRESS_BAR ? 0.2 : 0.5))
        return;
    fp->t_last = now;
    if (fp->mode == PROGRESS_BAR) {
        if (s->event == TRAIN_EVENT_EVAL) {
            fprintf(stderr, "\r\033[K  %s step %lld: dev %.4f (best %.4f)\n",
                    name, (long long)s->step, s->dev, s->best_dev);
            fp->drawn = false;
            return;
        }
        if (s->event != TRAIN_EVENT_STEP)
            return;
        int width = 20, fill = (int)((double)width * (double)s->step /
                                     (double)(s->total_steps ? s->total_steps : 1));
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r\033[K%-12s [%s] %lld/%lld  loss %.4f  %.0f tok/s  "
                "ETA %.0fs", name, bar, (long long)s->step,
                (long long)s->total_steps, (double)s->loss.total,
                s->tokens_per_s, isfinite(s->eta_s) ? s->eta_s : 0.0);
        fp->drawn = true;
        if (final) {
            fputc('\n', stderr);
            fp->drawn = false;
        }
        return;
    }
    static const char *const names[TRAIN_EVENT_COUNT] = {"step", "eval", "checkpoint"};
    fprintf(stderr, "{\"event\":\"%s\",\"stage\":\"%s\",\"step\":%lld,\"total\":%lld",
            names[s->event], name, (long long)s->step,
            (long long)s->total_steps);
    if (s->event == TRAIN_EVENT_STEP) {
        fprintf(stderr, ",\"loss\":%.6g,\"emb\":%.6g,\"hidden\":%.6g,\"attn\":%.6g,"
                "\"pred\":%.6g,\"lr\":%.6g,\"tokens_per_s\":%.6g,\"eta_s\":",
                (double)s->loss.total, (double)s->loss.emb, (double)s->loss.hidden,
                (double)s->loss.attn, (double)s->loss.pred, (double)s->lr,
                s->tokens_per_s);
        evalcmd_json_number(stderr, s->eta_s);
    } else if (s->event == TRAIN_EVENT_EVAL) {
        fputs(",\"dev\":", stderr);
        evalcmd_json_number(stderr, s->dev);
    } else {
        fputs(",\"path\":", stderr);
        cli_json_string(stderr, s->ckpt_path ? s->ckpt_path : "");
    }
    fputs("}\n", stderr);
    fflush(stderr);
}

/* Each stage starts its own progress line. */
static ir_status dp_stage_begin(void *user, distill_job *job, int stage,
                                recipe_stage *cfg, ir_diag *d)
{
    (void)job, (void)cfg, (void)d;
    dp_progress *fp = user;
    (void)stage;
    *fp = (dp_progress){.mode = fp->mode};
    return IR_OK;
}

static void dp_stage_end(void *user, int stage, const distill_stage_result *r,
                         ir_status s)
{
    (void)stage, (void)r, (void)s;
    dp_progress *fp = user;
    if (fp->drawn)
        fputc('\n', stderr);
}

/* ---- evaluation on the oneDNN runtime ------------------------------------ */

/* Evaluates encoder e (with the teacher's inputs: token types or not) on
 * ds; fills r (free it). */
static ir_status eval_encoder(const ir_encoder *e, bool types,
                              const glue_dataset *ds, const tok_tokenizer *tok,
                              size_t max_seq, progress_mode pm,
                              const char *label, eval_result *r, ir_diag *d)
{
    rt_options ro;
    rt_options_default(&ro);
    engine *eng = NULL;
    ir_status st = engine_onednn_from_encoder(e, &ro, types, 0, &eng, d);
    if (st != IR_OK)
        return ir_diag_prefix(d, "evaluating the %s", label);
    eval_options eo = eval_options_default();
    eo.max_seq = max_seq;
    eo.pad_id = teacher_pad_id(&e->cfg, tok);
    progress p;
    progress_init(&p, stderr, label, ds->n, pm);
    eo.progress = progress_callback;
    eo.progress_ctx = &p;
    st = eval_run(ds, tok, &eo, engine_eval_run, eng, r, d);
    progress_finish(&p);
    engine_free(eng);
    if (st != IR_OK)
        ir_diag_prefix(d, "evaluating the %s", label);
    return st;
}

/* ---- options ---------------------------------------------------------------- */

static bool parse_float(const char *opt, const char *text, double lo, double hi,
                        float *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v > lo && v <= hi)) {
        cli_error("distill: --%s '%s': expected a number in (%g, %g], see "
                  "'distilc distill --help'", opt, text, lo, hi);
        return false;
    }
    *out = (float)v;
    return true;
}

/* A count that may be 0 (--augment 0 turns off a recipe's augmentation). */
static bool parse_count(const char *opt, const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < 0) {
        cli_error("distill: --%s '%s': expected a non-negative integer, see "
                  "'distilc distill --help'", opt, text);
        return false;
    }
    *out = v;
    return true;
}

/* The options as cli_parse stores them (NULL: not given). */
typedef struct dist_text {
    const char *task, *data, *vocab, *tokjson, *student, *share, *corpus,
        *steps, *epochs,
        *recipe, *init, *map, *temp, *limit, *dlimit, *batch, *seq, *lr, *seed,
        *threads, *engine, *progress, *tprec, *gprec, *aug, *aug_prob, *aug_nb,
        *ckev;
    cli_user_data user;          /* the user's own data (no --task) */
    const char *pos[1];
    int npos;
} dist_text;

/* What the options say, checked. */
typedef struct dist_args {
    const char *teacher, *output, *ckdir, *plot, *gprec_s;
    bool resume, json, init_teacher, skip_bad;
    recipe rec;                  /* the recipe, overridden by the options */
    int64_t limit, dlimit, threads;
    const glue_task *task;
    glue_task *owned;            /* the user's own task, freed at the end */
    student_spec spec;
    ir_enc_share share;
    int64_t share_k;
    teacher_engine engine;
    ir_precision tprec;
    ir_precision gprec;
    progress_mode pm;
    aug_options aug;
} dist_args;

/* cli_parse, then the recipe with the options' texts over it. Returns -1
 * to go on, else the exit status. */
static int args_read(int argc, char **argv, dist_text *t, dist_args *a)
{
    cli_user_data_init(&t->user);
    cli_option opts[] = {
        {"user data group", 0, CLI_GROUP, t->user.options},
        {"task", 0, CLI_VALUE, &t->task}, {"data", 0, CLI_VALUE, &t->data},
        {"vocab", 0, CLI_VALUE, &t->vocab}, {"tokenizer", 0, CLI_VALUE, &t->tokjson},
        {"student", 0, CLI_VALUE, &t->student},
        {"share", 0, CLI_VALUE, &t->share}, {"corpus", 0, CLI_VALUE, &t->corpus},
        {"steps", 0, CLI_VALUE, &t->steps}, {"epochs", 0, CLI_VALUE, &t->epochs},
        {"recipe", 0, CLI_VALUE, &t->recipe}, {"init", 0, CLI_VALUE, &t->init},
        {"layer-map", 0, CLI_VALUE, &t->map}, {"temperature", 0, CLI_VALUE, &t->temp},
        {"ckpt-dir", 0, CLI_VALUE, &a->ckdir}, {"resume", 0, CLI_FLAG, &a->resume},
        {"ckpt-every", 0, CLI_VALUE, &t->ckev},
        {"plot", 0, CLI_VALUE, &a->plot}, {"limit", 0, CLI_VALUE, &t->limit},
        {"dev-limit", 0, CLI_VALUE, &t->dlimit}, {"output", 'o', CLI_VALUE, &a->output},
        {"batch", 0, CLI_VALUE, &t->batch}, {"max-seq", 0, CLI_VALUE, &t->seq},
        {"lr", 0, CLI_VALUE, &t->lr}, {"seed", 0, CLI_VALUE, &t->seed},
        {"threads", 0, CLI_VALUE, &t->threads},
        {"teacher-engine", 0, CLI_VALUE, &t->engine},
        {"teacher-precision", 0, CLI_VALUE, &t->tprec},
        {"gemm-precision", 0, CLI_VALUE, &t->gprec},
        {"augment", 0, CLI_VALUE, &t->aug},
        {"augment-prob", 0, CLI_VALUE, &t->aug_prob},
        {"augment-neighbours", 0, CLI_VALUE, &t->aug_nb},
        {"json", 0, CLI_FLAG, &a->json}, {"progress", 0, CLI_VALUE, &t->progress},
        {"skip-bad-lines", 0, CLI_FLAG, &a->skip_bad},
        {NULL, 0, 0, NULL},
    };
    int rc = cli_parse("distill", argc, argv, opts, t->pos, 1, &t->npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    recipe *rec = &a->rec;
    recipe_default(rec);
    if (t->recipe) {
        if (!cli_check_input_file("distill", "--recipe", t->recipe))
            return 2;
        ir_diag d;
        ir_diag_init(&d);
        if (recipe_load_file(t->recipe, rec, &d) != IR_OK) {
            ir_diag_prefix(&d, "distill: --recipe");
            return cli_fail(&d);
        }
    }
    /* the command line overrides the recipe */
#define OVERRIDE(field, text)                                                  \
    if (text) {                                                               \
        snprintf(rec->field, sizeof rec->field, "%s", text);                  \
        rec->line.field = 0; /* the option's now, not the recipe's */        \
    }
    OVERRIDE(task, t->task);
    OVERRIDE(data, t->data);
    /* either tokenizer option replaces the recipe's tokenizer, whichever
     * kind it named */
    if (t->vocab || t->tokjson)
        rec->vocab[0] = rec->tokenizer[0] = '\0';
    OVERRIDE(vocab, t->vocab);
    OVERRIDE(tokenizer, t->tokjson);
    OVERRIDE(student, t->student);
    OVERRIDE(share, t->share);
    OVERRIDE(init, t->init);
    OVERRIDE(layer_map, t->map);
    OVERRIDE(corpus, t->corpus);
#undef OVERRIDE
    return -1;
}

/* The options every stage takes, and augmentation. -1 or the exit status. */
static int args_stages(const dist_text *t, dist_args *a)
{
    recipe *rec = &a->rec;
    recipe_stage *stages[3] = {&rec->general, &rec->intermediate, &rec->prediction};
    int64_t v;
    if (t->epochs && t->steps) {
        cli_error("distill: give --epochs or --steps, not both");
        return 2;
    }
    for (int i = 0; i < 3; i++) {
        recipe_stage *s = stages[i];
        if (t->steps) {
            if (!cli_parse_positive("distill", "steps", t->steps, &v))
                return 2;
            s->steps = v;
        }
        if (t->epochs) {
            if (!cli_parse_positive("distill", "epochs", t->epochs, &v))
                return 2;
            s->epochs = v;
            s->steps = 0;
        }
        if (t->batch) {
            if (!cli_parse_positive("distill", "batch", t->batch, &v))
                return 2;
            s->batch = v;
        }
        if (t->ckev) {
            if (!cli_parse_positive("distill", "ckpt-every", t->ckev, &v))
                return 2;
            s->ckpt_every = v;
        }
        if (t->seq) {
            if (!cli_parse_positive("distill", "max-seq", t->seq, &v))
                return 2;
            if (v < 8) {
                cli_error("distill: --max-seq %lld: expected at least 8", (long long)v);
                return 2;
            }
            s->max_seq = v;
        }
        if (t->seed) {
            char *end;
            errno = 0;
            unsigned long long sv = strtoull(t->seed, &end, 10);
            if (errno || end == t->seed || *end || t->seed[0] == '-') {
                cli_error("distill: --seed '%s': expected a non-negative integer",
                          t->seed);
                return 2;
            }
            s->seed = (uint64_t)sv;
        }
        if ((t->lr && !parse_float("lr", t->lr, 0.0, 1.0, &s->lr)) ||
            (t->temp && !parse_float("temperature", t->temp, 0.0, 1e6, &s->temperature)))
            return 2;
    }
    if ((t->aug && !parse_count("augment", t->aug, &rec->augment_copies)) ||
        (t->aug_nb && !parse_count("augment-neighbours", t->aug_nb,
                                   &rec->augment_neighbours)))
        return 2;
    if (t->aug_prob) {
        char *end;
        errno = 0;
        double pv = strtod(t->aug_prob, &end);
        if (errno || end == t->aug_prob || *end) {
            cli_error("distill: --augment-prob '%s': expected a number in [0, 1]",
                      t->aug_prob);
            return 2;
        }
        rec->augment_prob = (float)pv;
    }
    /* the task stages' data: one augmented set for both, seeded like the
     * intermediate stage */
    aug_options_default(&a->aug);
    a->aug.copies = rec->augment_copies;
    a->aug.prob = rec->augment_prob;
    a->aug.neighbours = rec->augment_neighbours;
    a->aug.seed = rec->intermediate.seed;
    ir_diag d;
    ir_diag_init(&d);
    if (aug_options_check(&a->aug, &d) != IR_OK) {
        cli_error("distill: %s", d.msg);
        return 2;
    }
    return -1;
}

/* What gave a setting, for its messages: the recipe's element when the
 * recipe set it and no option overrode it ("--recipe r.xml:2: <student>"),
 * else the option ("--student"). */
static const char *dist_origin(const recipe *rec, int line, const char *element,
                               const char *option, char *buf, size_t n)
{
    if (line <= 0)
        return option;
    snprintf(buf, n, "--recipe %s:%d: <%s>", rec->file, line, element);
    return buf;
}
#define ORIGIN(rec, field, element, option)                                    \
    dist_origin((rec), (rec)->line.field, (element), (option),                \
                (char[RECIPE_PATH_MAX + 64]){0}, RECIPE_PATH_MAX + 64)

/* The other options' values and the inputs' presence. -1 or the exit status. */
static int args_check(const dist_text *t, dist_args *a)
{
    const recipe *rec = &a->rec;
    if ((t->limit && !cli_parse_positive("distill", "limit", t->limit, &a->limit)) ||
        (t->dlimit && !cli_parse_positive("distill", "dev-limit", t->dlimit, &a->dlimit)) ||
        (t->threads && !cli_parse_positive("distill", "threads", t->threads, &a->threads)))
        return 2;
    if (t->npos != 1 || (rec->task[0] && !rec->data[0]) ||
        (!rec->task[0] && !rec->data[0] && !t->user.train) ||
        !rec->student[0] || !a->output) {
        cli_error("distill: need TEACHER.onnx, --task and --data (or your own "
                  "data: --data DIR, or --train FILE --dev FILE), --student "
                  "and -o (or a --recipe giving them), see 'distilc distill "
                  "--help'");
        return 2;
    }
    if (rec->task[0] && !glue_task_lookup(rec->task)) {
        cli_error("distill: %s '%s' is not a GLUE task (%s)",
                  ORIGIN(rec, task, "task", "--task"), rec->task,
                  glue_task_names());
        return 2;
    }
    ir_diag d;
    ir_diag_init(&d);
    if (student_spec_parse(rec->student, &a->spec, &d) != IR_OK) {
        cli_error("distill: %s: %s", ORIGIN(rec, student, "student", "--student"),
                  d.msg);
        return 2;
    }
    if (student_share_parse(rec->share, &a->share, &a->share_k, &d) != IR_OK) {
        cli_error("distill: %s: %s", ORIGIN(rec, share, "share", "--share"), d.msg);
        return 2;
    }
    if (a->share == IR_ENC_SHARE_GROUPS && a->spec.layers % a->share_k != 0) {
        cli_error("distill: %s groups:%lld does not divide the student's "
                  "layers = %lld (%s)", ORIGIN(rec, share, "share", "--share"),
                  (long long)a->share_k, (long long)a->spec.layers,
                  ORIGIN(rec, student, "student", "--student"));
        return 2;
    }
    a->init_teacher = strcmp(rec->init, "teacher") == 0;
    if (!a->init_teacher && strcmp(rec->init, "random") != 0) {
        cli_error("distill: %s '%s': expected teacher or random",
                  ORIGIN(rec, init, "init", "--init"), rec->init);
        return 2;
    }
    a->engine = TEACHER_ENGINE_AUTO;
    if (t->engine) {
        if (strcmp(t->engine, "onednn") == 0) a->engine = TEACHER_ENGINE_RT;
        else if (strcmp(t->engine, "trainer") == 0) a->engine = TEACHER_ENGINE_TRAIN;
        else if (strcmp(t->engine, "auto") != 0) {
            cli_error("distill: --teacher-engine '%s': expected auto, onednn or "
                      "trainer", t->engine);
            return 2;
        }
    }
    a->tprec = IR_PRECISION_FP32;
    if (t->tprec && (!ir_precision_parse(t->tprec, &a->tprec) ||
                    a->tprec > TEACHER_PRECISION_LAST)) {
        cli_error("distill: --teacher-precision '%s': expected fp32 or bf16", t->tprec);
        return 2;
    }
    if (a->tprec != IR_PRECISION_FP32 && a->engine == TEACHER_ENGINE_TRAIN) {
        cli_error("distill: --teacher-precision %s needs --teacher-engine onednn "
                  "or auto (the trainer engine runs fp32 only)", t->tprec);
        return 2;
    }
    a->gprec = IR_PRECISION_FP32;
    a->gprec_s = t->gprec;
    if (t->gprec && (!ir_precision_parse(t->gprec, &a->gprec) ||
                    a->gprec > GEMM_PRECISION_LAST)) {
        cli_error("distill: --gemm-precision '%s': expected fp32 or bf16", t->gprec);
        return 2;
    }
    a->pm = PROGRESS_AUTO;
    if (t->progress && !progress_mode_parse(t->progress, &a->pm)) {
        cli_error("distill: --progress '%s': expected auto, bar, json or off",
                  t->progress);
        return 2;
    }
    if (a->resume && !a->ckdir) {
        cli_error("distill: --resume needs --ckpt-dir");
        return 2;
    }
    a->teacher = t->pos[0];
    if (!cli_check_input_file("distill", "teacher", a->teacher))
        return 2;
    int rc = rec->data[0] ? evalcmd_check_path("distill", "--data", rec->data)
                          : 0;
    if (rc != 0)
        return rc;
    if (rec->corpus[0] && !rec->general.skip &&
        !cli_check_input_file("distill", "--corpus", rec->corpus))
        return 2;
    if ((rec->vocab[0] && !cli_check_input_file("distill", "--vocab", rec->vocab)) ||
        (rec->tokenizer[0] &&
         !cli_check_input_file("distill", "--tokenizer", rec->tokenizer)))
        return 2;
    if (!cli_check_output_file("distill", "-o", a->output) ||
        !cli_check_output_file("distill", "--plot", a->plot) ||
        !cli_check_output_dir("distill", "--ckpt-dir", a->ckdir))
        return 2;
    return -1;
}

/* The command line, read and checked into a. -1 to go on, else the exit
 * status (0 after --help). */
static int args_parse(int argc, char **argv, dist_args *a)
{
    dist_text t;
    memset(&t, 0, sizeof t);
    memset(a, 0, sizeof *a);
    int rc = args_read(argc, argv, &t, a);
    if (rc < 0)
        rc = args_stages(&t, a);
    if (rc < 0)
        rc = args_check(&t, a);
    /* last: the user's own task reads train for its label set */
    if (rc < 0 && (rc = cli_task_open("distill", a->rec.task[0] ? a->rec.task
                                                              : NULL,
                                      a->rec.data[0] ? a->rec.data : NULL,
                                      &t.user, a->skip_bad, NULL, 0, &a->task,
                                      &a->owned)) == 0)
        rc = -1;
    return rc;
}

/* ---- the run ------------------------------------------------------------------ */

/* What the run loads and makes; dist_state_free frees it all. */
typedef struct dist_state {
    tok_tokenizer *tok;
    ir_encoder *tenc;
    gemm_ctx *gemm;
    glue_dataset tr_ds, dev_ds;
    train_data tr, corpus, dev;
    aug_stats aug_st;
    distill_plan plan;
    distill_result res;
    eval_result ter, ser;
} dist_state;

static void dist_state_free(dist_state *st)
{
    distill_result_free(&st->res);
    eval_result_free(&st->ter);
    eval_result_free(&st->ser);
    train_data_free(&st->tr);
    train_data_free(&st->corpus);
    train_data_free(&st->dev);
    glue_dataset_free(&st->tr_ds);
    glue_dataset_free(&st->dev_ds);
    gemm_ctx_free(st->gemm);
    ir_encoder_free(st->tenc);
    tok_free(st->tok);
}

/* Tokenizer, teacher, the student's config and layer map into the plan,
 * the student's GEMM context. -1 to go on, else the exit status. */
static int dist_models(const dist_args *a, dist_state *st, ir_diag *d)
{
    const recipe *rec = &a->rec;
    distill_plan *p = &st->plan;
    int rc = evalcmd_load_tokenizer("distill", rec->vocab[0] ? rec->vocab : NULL,
                                    rec->tokenizer[0] ? rec->tokenizer : NULL,
                                    a->teacher, &st->tok);
    if (rc != 0)
        return rc;
    if (teacher_load_onnx_inputs(a->teacher, &st->tenc, &p->token_types, d) != IR_OK)
        return cli_fail(d);
    ir_encoder_config *tc = &st->tenc->cfg;
    int64_t want_labels = a->task->is_regression ? 1 : a->task->n_labels;
    if (tc->labels != want_labels) {
        cli_error("distill: the teacher '%s' has %lld outputs but %s needs %lld: "
                  "fine-tune it on the task first (distilc finetune)", a->teacher,
                  (long long)tc->labels, a->task->name, (long long)want_labels);
        return 2;
    }
    if (teacher_check_tokenizer(tc, st->tok, d) != IR_OK) {
        cli_error("distill: teacher '%s': %s", a->teacher, d->msg);
        return 2;
    }
    tc->head = a->task->is_regression ? IR_ENC_HEAD_REGRESSION
                                      : IR_ENC_HEAD_CLASSIFICATION;
    if (student_config_make(tc, &a->spec, a->share, a->share_k, &p->student,
                            d) != IR_OK) {
        cli_error("distill: %s: %s", ORIGIN(rec, student, "student", "--student"),
                  d->msg);
        return 2;
    }
    distill_loss_opts_default(&p->loss, p->student.layers, tc->layers);
    if (rec->layer_map[0]) {
        if (student_layer_map_parse(rec->layer_map, p->student.layers, tc->layers,
                                    p->loss.layer_map, d) != IR_OK) {
            cli_error("distill: %s: %s",
                      ORIGIN(rec, layer_map, "layer-map", "--layer-map"), d->msg);
            return 2;
        }
    } else
        student_layer_map_uniform(p->student.layers, tc->layers, p->loss.layer_map);
    p->loss.temperature = rec->prediction.temperature;
    if (gemm_ctx_create(gemm_impl_for_cpu(), &st->gemm, d) != IR_OK)
        return cli_fail(d);
    if (a->gprec != IR_PRECISION_FP32 &&
        gemm_ctx_set_precision(st->gemm, a->gprec, d) != IR_OK) {
        ir_diag_prefix(d, "distill: --gemm-precision %s", a->gprec_s);
        return cli_fail(d);
    }
    return -1;
}

/* Says what augmentation made, in the progress mode's form. */
static void dist_augment_note(const dist_args *a, const dist_state *st)
{
    const aug_stats *as = &st->aug_st;
    progress ap;
    progress_init(&ap, stderr, "augment", 1, a->pm); /* resolves AUTO */
    if (ap.mode == PROGRESS_JSON)
        fprintf(stderr, "{\"event\":\"augment\",\"copies\":%lld,\"prob\":%g,"
                "\"neighbours\":%lld,\"examples_in\":%zu,\"examples\":%zu,"
                "\"replaced\":%zu,\"eligible\":%zu,\"neighbour_rows\":%zu,"
                "\"table_s\":%.3f}\n", (long long)a->aug.copies, a->aug.prob,
                (long long)a->aug.neighbours, as->examples_in, as->examples_out,
                as->replaced, as->eligible, as->rows, as->table_s);
    else if (ap.mode == PROGRESS_BAR)
        fprintf(stderr, "augment     %zu -> %zu examples, %zu of %zu words "
                "replaced (neighbours of %zu words in %.1f s)\n",
                as->examples_in, as->examples_out, as->replaced, as->eligible,
                as->rows, as->table_s);
}

/* The train split (augmented), the dev split and the corpus. -1 to go on,
 * else the exit status. */
static int dist_data(const dist_args *a, dist_state *st, ir_diag *d)
{
    const recipe *rec = &a->rec;
    size_t task_seq = (size_t)(rec->intermediate.max_seq > rec->prediction.max_seq
                                   ? rec->intermediate.max_seq
                                   : rec->prediction.max_seq);
    bool general = rec->corpus[0] && !rec->general.skip;
    int64_t need_seq = (int64_t)task_seq;
    if (general && rec->general.max_seq > need_seq)
        need_seq = rec->general.max_seq;
    int64_t can_seq = ir_encoder_max_seq(&st->plan.student);
    if (need_seq > can_seq) {
        cli_error("distill: max-seq %lld exceeds the %lld tokens the teacher's "
                  "positions serve", (long long)need_seq, (long long)can_seq);
        return 2;
    }
    glue_load_opts gl = {.skip_bad_lines = a->skip_bad, .limit = (size_t)a->limit,
                         .offer_skip = true};
    ir_status s = glue_load(a->task, rec->data, GLUE_SPLIT_TRAIN, &gl, &st->tr_ds, d);
    evalcmd_note_skipped("distill", &st->tr_ds);
    if (s == IR_OK)
        s = train_data_from_glue(&st->tr_ds, st->tok, task_seq, &st->tr, d);
    if (s != IR_OK)
        return cli_fail(d);
    if (a->aug.copies > 0) {
        train_data big;
        if (aug_train_data(&st->tr, st->tok, st->tenc, &a->aug, &big, &st->aug_st,
                           d) != IR_OK)
            return cli_fail(d);
        train_data_free(&st->tr);
        st->tr = big;
        dist_augment_note(a, st);
    }
    glue_load_opts dl = {.skip_bad_lines = a->skip_bad,
                         .limit = (size_t)a->dlimit, .offer_skip = true};
    s = glue_load(a->task, rec->data, GLUE_SPLIT_DEV, &dl, &st->dev_ds, d);
    evalcmd_note_skipped("distill", &st->dev_ds);
    if (s == IR_OK)
        s = train_data_from_glue(&st->dev_ds, st->tok,
                                 (size_t)rec->prediction.max_seq, &st->dev, d);
    if (s == IR_OK && general)
        s = train_data_from_corpus(rec->corpus, st->tok,
                                   (size_t)rec->general.max_seq,
                                   (size_t)a->limit, &st->corpus, d);
    if (s != IR_OK)
        return cli_fail(d);
    /* the teacher's inputs: its pad id, token types or none */
    int32_t pad = (int32_t)teacher_pad_id(&st->tenc->cfg, st->tok);
    bool types = st->plan.token_types;
    train_data_set_inputs(&st->tr, pad, types);
    train_data_set_inputs(&st->dev, pad, types);
    if (general)
        train_data_set_inputs(&st->corpus, pad, types);
    return -1;
}

/* ---- the report ------------------------------------------------------------- */

static void report_json(FILE *f, const dist_args *a, const dist_state *st,
                        double secs)
{
    const distill_result *res = &st->res;
    fputs("{\"teacher\":", f);
    cli_json_string(f, a->teacher);
    fputs(",\"output\":", f);
    cli_json_string(f, a->output);
    fprintf(f, ",\"task\":\"%s\",\"student\":\"%s\",\"share\":\"%s\","
            "\"init\":\"%s\",\"layer_map\":[", a->task->name, a->rec.student,
            a->rec.share, a->rec.init);
    for (int64_t m = 0; m < st->plan.student.layers; m++)
        fprintf(f, "%s%lld", m ? "," : "", (long long)st->plan.loss.layer_map[m]);
    fprintf(f, "],\"teacher_engine\":\"%s\",\"teacher_precision\":\"%s\","
            "\"gemm_precision\":\"%s\",\"teacher_params\":%lld,"
            "\"student_params\":%lld,", teacher_engine_name(res->engine),
            ir_precision_name(a->tprec), ir_precision_name(a->gprec),
            (long long)ir_encoder_param_count(st->tenc),
            (long long)ir_encoder_param_count(res->student));
    fprintf(f, "\"augment\":{\"copies\":%lld,\"prob\":%g,\"neighbours\":%lld,"
            "\"train_examples\":%zu,\"replaced\":%zu,\"eligible\":%zu,"
            "\"table_s\":", (long long)a->aug.copies, a->aug.prob,
            (long long)a->aug.neighbours, st->tr.n, st->aug_st.replaced,
            st->aug_st.eligible);
    evalcmd_json_number(f, st->aug_st.table_s);
    fputs("},\"stages\":[", f);
    bool first = true;
    for (int i = 0; i < DISTILL_RUN_STAGES; i++) {
        const distill_stage_result *r = &res->stage[i];
        if (!r->ran)
            continue;
        fprintf(f, "%s{\"stage\":\"%s\",\"examples\":%zu,\"steps\":%lld,"
                "\"resumed_from\":%lld,", first ? "" : ",",
                distill_run_stage_name(i), r->examples, (long long)r->train.steps,
                (long long)r->train.start_step);
        /* the student's (and projections') matmuls, forward, backward
         * and dev evaluation: how much of the stage is GEMM time
         * (student_gemm_*) */
        const struct {
            const char *key;
            double v;
        } nums[] = {
            {"final_loss", r->train.last_loss},
            {"tokens_per_s", r->train.tokens_per_s},
            {"steady_tokens_per_s", r->train.steady_tokens_per_s},
            {"seconds", r->train.seconds},
            {"student_forward_s", r->times.student_forward},
            {"teacher_s", r->times.teacher},
            {"loss_terms_s", r->times.terms},
            {"student_gemm_s", r->gemm.seconds},
            {"student_gemm_gflop", r->gemm.flops * 1e-9},
        };
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
            fprintf(f, "%s\"%s\":", k ? "," : "", nums[k].key);
            evalcmd_json_number(f, nums[k].v);
        }
        fputs("}", f);
        first = false;
    }
    fprintf(f, "],\"dev_examples\":%zu,\"metric\":\"%s\",\"teacher_dev\":",
            st->dev_ds.n, st->ter.metrics.v[st->ter.metrics.main].name);
    evalcmd_json_metrics(f, &st->ter.metrics);
    fputs(",\"student_dev\":", f);
    evalcmd_json_metrics(f, &st->ser.metrics);
    fputs(",\"seconds\":", f);
    evalcmd_json_number(f, secs);
    fputs("}\n", f);
}

static void report_text(FILE *f, const dist_args *a, const dist_state *st)
{
    const distill_result *res = &st->res;
    const ir_encoder_config *tc = &st->tenc->cfg;
    int64_t tparams = ir_encoder_param_count(st->tenc);
    int64_t sparams = ir_encoder_param_count(res->student);
    fprintf(f, "teacher     %s: %lld layers, hidden %lld, %lld heads, ffn %lld, "
            "%lld parameters (%s)\n", a->teacher, (long long)tc->layers,
            (long long)tc->hidden, (long long)tc->heads, (long long)tc->ffn,
            (long long)tparams, teacher_engine_name(res->engine));
    fprintf(f, "student     %s: %s, share %s, init %s, %lld parameters "
            "(%.1fx smaller)\n", a->output, a->rec.student, a->rec.share,
            a->rec.init, (long long)sparams, (double)tparams / (double)sparams);
    fprintf(f, "layer map   ");
    for (int64_t m = 0; m < st->plan.student.layers; m++)
        fprintf(f, "%s%lld->%lld", m ? ", " : "", (long long)m + 1,
                (long long)st->plan.loss.layer_map[m]);
    fputc('\n', f);
    if (a->aug.copies > 0)
        fprintf(f, "augment     %lld copies (prob %g, %lld neighbours): %zu "
                "train examples, %zu of %zu words replaced\n",
                (long long)a->aug.copies, a->aug.prob, (long long)a->aug.neighbours,
                st->tr.n, st->aug_st.replaced, st->aug_st.eligible);
    for (int i = 0; i < DISTILL_RUN_STAGES; i++) {
        const distill_stage_result *r = &res->stage[i];
        if (r->ran)
            fprintf(f, "%-13s%lld steps on %zu examples, final loss %.4f, "
                    "%.0f tokens/s (%.1f s: student forward %.1f, teacher "
                    "%.1f, loss %.1f, the rest backward and update; "
                    "student GEMMs %.1f s at %.0f GFLOP/s)\n",
                    distill_run_stage_name(i), (long long)r->train.steps,
                    r->examples, (double)r->train.last_loss,
                    r->train.tokens_per_s, r->train.seconds,
                    r->times.student_forward, r->times.teacher, r->times.terms,
                    r->gemm.seconds,
                    r->gemm.seconds > 0 ? r->gemm.flops * 1e-9 / r->gemm.seconds
                                        : 0.0);
    }
    const metric_value *tm = &st->ter.metrics.v[st->ter.metrics.main];
    const metric_value *sm = &st->ser.metrics.v[st->ser.metrics.main];
    fprintf(f, "dev %-8s teacher %.4f, student %.4f (%zu examples)\n", tm->name,
            tm->value, sm->value, st->dev_ds.n);
}

/* ---- the command -------------------------------------------------------------- */

int cmd_distill(int argc, char **argv, ir_dist *dc)
{
    dist_args a;
    int rc = args_parse(argc, argv, &a);
    if (rc >= 0) {
        user_task_free(a.owned);
        return rc;
    }
    /* data parallel: rank 0 alone shows progress and writes (run.h) */
    if (ir_dist_rank(dc) != 0)
        a.pm = PROGRESS_OFF;
    char *labels = NULL;
    if (a.threads)
        omp_set_num_threads((int)a.threads);
    double t_start = ir_clock_wall_s();
    ir_diag d;
    ir_diag_init(&d);
    dist_state st;
    memset(&st, 0, sizeof st);
    distill_plan *p = &st.plan;
    distill_plan_default(p, &a.rec);
    if ((rc = dist_models(&a, &st, &d)) >= 0 || (rc = dist_data(&a, &st, &d)) >= 0)
        goto done;
    /* checkpoints in D/<stage>/ (the loop makes the last level) */
    if (a.ckdir && ir_dist_rank(dc) == 0 && mkdir(a.ckdir, 0777) != 0 &&
        errno != EEXIST) {
        ir_diag_set(&d, IR_ERR_IO, "--ckpt-dir '%s': %s", a.ckdir, strerror(errno));
        rc = cli_fail(&d);
        goto done;
    }
    train_dev_set devset = {.data = &st.dev, .kind = a.task->metric, .batch = 64};
    progress pr;
    progress_init(&pr, stderr, "distill", 1, a.pm); /* resolves AUTO */
    dp_progress fp = {.mode = pr.mode};
    p->teacher = st.tenc;
    p->engine = a.engine;
    p->teacher_prec = a.tprec;
    p->init_random = !a.init_teacher;
    p->gemm = st.gemm;
    p->corpus = a.rec.corpus[0] && !a.rec.general.skip ? &st.corpus : NULL;
    p->train = &st.tr;
    p->eval = train_dev_eval;
    p->eval_user = &devset;
    p->ckpt_dir = a.ckdir;
    p->resume = a.resume;
    p->dist = dc;
    p->plot = a.plot;
    p->output = a.output;
    if (task_labels_to_json(a.task, &labels, &d) != IR_OK) {
        rc = cli_fail(&d);
        goto done;
    }
    p->labels_meta = labels; /* the student's label names (metadata) */
    p->user = &fp;
    p->stage_begin = dp_stage_begin;
    p->progress = dp_progress_cb;
    p->stage_end = dp_stage_end;
    /* train and write the student, then evaluate both on dev */
    size_t dev_seq = (size_t)a.rec.prediction.max_seq;
    if (distill_run(p, &st.res, &d) != IR_OK ||
        eval_encoder(st.tenc, p->token_types, &st.dev_ds, st.tok, dev_seq,
                     pr.mode, "teacher", &st.ter, &d) != IR_OK ||
        eval_encoder(st.res.student, p->token_types, &st.dev_ds, st.tok,
                     dev_seq, pr.mode, "student", &st.ser, &d) != IR_OK) {
        rc = cli_fail(&d);
        goto done;
    }
    if (a.json)
        report_json(stdout, &a, &st, ir_clock_wall_s() - t_start);
    else
        report_text(stdout, &a, &st);
    rc = 0;
done:
    dist_state_free(&st);
    free(labels);
    user_task_free(a.owned);
    return rc;
}

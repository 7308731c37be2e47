/* cmd_distill.c — `distilc distill TEACHER.onnx --task T --data DIR
 * --student layers=L,hidden=H,heads=A,ffn=F -o STUDENT.onnx`: TinyBERT
 * distillation of a fine-tuned teacher into a smaller student.
 *
 * The flow: teacher ONNX -> ir_encoder (distill/teacher.h) -> student
 * config and initial weights (distill/student.h) -> stages, each one run
 * of distill/trainer.h's loop with distill/distill_loss.h as its loss:
 *   general       on --corpus, intermediate losses (only with a corpus)
 *   intermediate  on the task's train split, intermediate losses
 *   prediction    on the task's train split, soft cross-entropy
 * -> dev evaluation of teacher and student on the oneDNN runtime
 * (frontend/eval.h) -> train_params_to_encoder -> ir_encoder_to_graph ->
 * onnx_save_file. Settings come from frontend/recipe.h's defaults, then
 * --recipe FILE, then the command line. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backend/gemm.h"
#include "backend/rt_encoder.h"
#include "distill/augment.h"
#include "distill/data.h"
#include "distill/distill_loss.h"
#include "frontend/recipe.h"
#include "distill/student.h"
#include "distill/teacher.h"
#include "distill/trainer.h"
#include "frontend/eval.h"
#include "frontend/glue.h"
#include "frontend/onnx.h"
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
            "         [--plot F.svg] [--limit N] [--dev-limit N] [--vocab V]\n"
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
            "  --data DIR        a GLUE root or the task's folder\n"
            "  --student SPEC    layers=L,hidden=H,heads=A,ffn=F[,embed=E]: the\n"
            "                    student's shape (E: factorized embeddings)\n"
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
            "  --resume          continue from D's checkpoints\n"
            "  --plot F.svg      loss curves, one SVG per stage (F-<stage>.svg)\n"
            "  --limit N         first N training examples (and corpus lines)\n"
            "  --dev-limit N     first N dev examples\n"
            "  --augment N       TinyBERT data augmentation: the intermediate and\n"
            "                    prediction stages train on the train split plus N\n"
            "                    copies of each example (0 = off, the default; at\n"
            "                    most 64) in which each whole word is replaced, with\n"
            "                    probability P, by one of its K nearest words in\n"
            "                    the teacher's word embeddings (cosine). Epochs then\n"
            "                    count the augmented set, N+1 times the steps\n"
            "  --augment-prob P  replacement probability, in [0, 1] (0.4)\n"
            "  --augment-neighbours K  candidates per word, 1..100 (15)\n"
            "  --vocab FILE      BERT vocab.txt (default: beside the teacher)\n"
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
            "\n"
            "Exit status: 0 ok, 1 failure (incl. NaN), 2 bad input or usage.\n");
}

/* ---- progress ---------------------------------------------------------------- */

typedef struct dp_progress {
    progress_mode mode;
    const char *stage;
    double t_last;
    bool drawn;
} dp_progress;

static void dp_progress_cb(void *user, const train_status *s)
{
    dp_progress *fp = user;
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
                    fp->stage, (long long)s->step, s->dev, s->best_dev);
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
                "ETA %.0fs", fp->stage, bar, (long long)s->step,
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
            names[s->event], fp->stage, (long long)s->step,
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

/* ---- evaluation on the oneDNN runtime ------------------------------------ */

typedef struct dist_eval {
    rt_model *m;
    size_t labels;
} dist_eval;

static ir_status dist_eval_run(void *ctx, const eval_batch *b, float *logits,
                               ir_diag *d)
{
    dist_eval *e = ctx;
    if (b->n_labels != e->labels)
        return ir_diag_set(d, IR_ERR_INPUT, "the model has %zu outputs, the task "
                           "needs %zu", e->labels, b->n_labels);
    return rt_model_run(e->m, (int64_t)b->rows, (int64_t)b->seq, b->input_ids,
                        b->token_type_ids, b->attention_mask, logits, NULL, d);
}

/* Evaluates encoder e on ds; fills r (free it). */
static ir_status eval_encoder(const ir_encoder *e, const glue_dataset *ds,
                              const tok_tokenizer *tok, size_t max_seq,
                              progress_mode pm, const char *label,
                              eval_result *r, ir_diag *d)
{
    rt_options ro;
    rt_options_default(&ro);
    dist_eval de = {NULL, (size_t)e->cfg.labels};
    ir_status st = rt_model_from_encoder(e, &ro, &de.m, d);
    if (st != IR_OK)
        return ir_diag_prefix(d, "evaluating the %s", label);
    eval_options eo = eval_options_default();
    eo.max_seq = max_seq;
    progress p;
    progress_init(&p, stderr, label, ds->n, pm);
    eo.progress = progress_callback;
    eo.progress_ctx = &p;
    st = eval_run(ds, tok, &eo, dist_eval_run, &de, r, d);
    progress_finish(&p);
    rt_model_free(de.m);
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

/* One stage of the run. */
typedef struct stage_run {
    const char *name;
    recipe_stage *cfg;
    distill_stage loss;
    const train_data *data;
    train_result r;
    bool ran;
    distill_loss_times times; /* inside the loss fn during this stage */
    gemm_stats gemm;          /* the student's GEMM helper, this stage */
} stage_run;

static void plot_name(char *buf, size_t n, const char *plot, const char *stage)
{
    const char *dot = strrchr(plot, '.');
    if (dot && strcmp(dot, ".svg") == 0)
        snprintf(buf, n, "%.*s-%s.svg", (int)(dot - plot), plot, stage);
    else
        snprintf(buf, n, "%s-%s.svg", plot, stage);
}

int cmd_distill(int argc, char **argv)
{
    const char *task_s = NULL, *data_s = NULL, *vocab_s = NULL, *student_s = NULL;
    const char *share_s = NULL, *corpus_s = NULL, *steps_s = NULL, *epochs_s = NULL;
    const char *recipe_s = NULL, *init_s = NULL, *map_s = NULL, *temp_s = NULL;
    const char *ckdir = NULL, *plot = NULL, *limit_s = NULL, *dlimit_s = NULL;
    const char *output = NULL, *batch_s = NULL, *seq_s = NULL, *lr_s = NULL;
    const char *seed_s = NULL, *threads_s = NULL, *engine_s = NULL, *prog_s = NULL;
    const char *tprec_s = NULL, *gprec_s = NULL;
    const char *aug_s = NULL, *aug_prob_s = NULL, *aug_nb_s = NULL;
    bool resume = false, json = false;
    cli_option opts[] = {
        {"task", 0, CLI_VALUE, &task_s}, {"data", 0, CLI_VALUE, &data_s},
        {"vocab", 0, CLI_VALUE, &vocab_s}, {"student", 0, CLI_VALUE, &student_s},
        {"share", 0, CLI_VALUE, &share_s}, {"corpus", 0, CLI_VALUE, &corpus_s},
        {"steps", 0, CLI_VALUE, &steps_s}, {"epochs", 0, CLI_VALUE, &epochs_s},
        {"recipe", 0, CLI_VALUE, &recipe_s}, {"init", 0, CLI_VALUE, &init_s},
        {"layer-map", 0, CLI_VALUE, &map_s}, {"temperature", 0, CLI_VALUE, &temp_s},
        {"ckpt-dir", 0, CLI_VALUE, &ckdir}, {"resume", 0, CLI_FLAG, &resume},
        {"plot", 0, CLI_VALUE, &plot}, {"limit", 0, CLI_VALUE, &limit_s},
        {"dev-limit", 0, CLI_VALUE, &dlimit_s}, {"output", 'o', CLI_VALUE, &output},
        {"batch", 0, CLI_VALUE, &batch_s}, {"max-seq", 0, CLI_VALUE, &seq_s},
        {"lr", 0, CLI_VALUE, &lr_s}, {"seed", 0, CLI_VALUE, &seed_s},
        {"threads", 0, CLI_VALUE, &threads_s},
        {"teacher-engine", 0, CLI_VALUE, &engine_s},
        {"teacher-precision", 0, CLI_VALUE, &tprec_s},
        {"gemm-precision", 0, CLI_VALUE, &gprec_s},
        {"augment", 0, CLI_VALUE, &aug_s},
        {"augment-prob", 0, CLI_VALUE, &aug_prob_s},
        {"augment-neighbours", 0, CLI_VALUE, &aug_nb_s},
        {"json", 0, CLI_FLAG, &json}, {"progress", 0, CLI_VALUE, &prog_s},
        {NULL, 0, 0, NULL},
    };
    const char *pos[1];
    int npos = 0;
    int rc = cli_parse("distill", argc, argv, opts, pos, 1, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    ir_diag d;
    ir_diag_init(&d);
    recipe rec;
    recipe_default(&rec);
    if (recipe_s) {
        if (!cli_check_input_file("distill", "--recipe", recipe_s))
            return 2;
        if (recipe_load_file(recipe_s, &rec, &d) != IR_OK) {
            ir_diag_prefix(&d, "distill: --recipe");
            return cli_fail(&d);
        }
    }
    /* the command line overrides the recipe */
#define OVERRIDE(field, text)                                                  \
    if (text)                                                                 \
        snprintf(rec.field, sizeof rec.field, "%s", text)
    OVERRIDE(task, task_s);
    OVERRIDE(data, data_s);
    OVERRIDE(vocab, vocab_s);
    OVERRIDE(student, student_s);
    OVERRIDE(share, share_s);
    OVERRIDE(init, init_s);
    OVERRIDE(layer_map, map_s);
    OVERRIDE(corpus, corpus_s);
#undef OVERRIDE
    recipe_stage *stages[3] = {&rec.general, &rec.intermediate, &rec.prediction};
    int64_t v;
    if (epochs_s && steps_s) {
        cli_error("distill: give --epochs or --steps, not both");
        return 2;
    }
    for (int i = 0; i < 3; i++) {
        recipe_stage *s = stages[i];
        if (steps_s) {
            if (!cli_parse_positive("distill", "steps", steps_s, &v))
                return 2;
            s->steps = v;
        }
        if (epochs_s) {
            if (!cli_parse_positive("distill", "epochs", epochs_s, &v))
                return 2;
            s->epochs = v;
            s->steps = 0;
        }
        if (batch_s) {
            if (!cli_parse_positive("distill", "batch", batch_s, &v))
                return 2;
            s->batch = v;
        }
        if (seq_s) {
            if (!cli_parse_positive("distill", "max-seq", seq_s, &v))
                return 2;
            if (v < 8) {
                cli_error("distill: --max-seq %lld: expected at least 8", (long long)v);
                return 2;
            }
            s->max_seq = v;
        }
        if (seed_s) {
            char *end;
            errno = 0;
            unsigned long long sv = strtoull(seed_s, &end, 10);
            if (errno || end == seed_s || *end || seed_s[0] == '-') {
                cli_error("distill: --seed '%s': expected a non-negative integer",
                          seed_s);
                return 2;
            }
            s->seed = (uint64_t)sv;
        }
        if ((lr_s && !parse_float("lr", lr_s, 0.0, 1.0, &s->lr)) ||
            (temp_s && !parse_float("temperature", temp_s, 0.0, 1e6, &s->temperature)))
            return 2;
    }
    if ((aug_s && !parse_count("augment", aug_s, &rec.augment_copies)) ||
        (aug_nb_s && !parse_count("augment-neighbours", aug_nb_s,
                                  &rec.augment_neighbours)))
        return 2;
    if (aug_prob_s) {
        char *end;
        errno = 0;
        double pv = strtod(aug_prob_s, &end);
        if (errno || end == aug_prob_s || *end) {
            cli_error("distill: --augment-prob '%s': expected a number in [0, 1]",
                      aug_prob_s);
            return 2;
        }
        rec.augment_prob = (float)pv;
    }
    /* the task stages' data: one augmented set for both, seeded like the
     * intermediate stage */
    aug_options aug;
    aug_options_default(&aug);
    aug.copies = rec.augment_copies;
    aug.prob = rec.augment_prob;
    aug.neighbours = rec.augment_neighbours;
    aug.seed = rec.intermediate.seed;
    if (aug_options_check(&aug, &d) != IR_OK) {
        cli_error("distill: %s", d.msg);
        return 2;
    }
    aug_stats aug_st = {0};
    int64_t limit = 0, dlimit = 0, threads = 0;
    if ((limit_s && !cli_parse_positive("distill", "limit", limit_s, &limit)) ||
        (dlimit_s && !cli_parse_positive("distill", "dev-limit", dlimit_s, &dlimit)) ||
        (threads_s && !cli_parse_positive("distill", "threads", threads_s, &threads)))
        return 2;
    if (npos != 1 || !rec.task[0] || !rec.data[0] || !rec.student[0] || !output) {
        cli_error("distill: need TEACHER.onnx, --task, --data, --student and -o "
                  "(or a --recipe giving them), see 'distilc distill --help'");
        return 2;
    }
    const glue_task *task = glue_task_lookup(rec.task);
    if (!task) {
        cli_error("distill: --task '%s' is not a GLUE task (%s)", rec.task,
                  glue_task_names());
        return 2;
    }
    student_spec spec;
    if (student_spec_parse(rec.student, &spec, &d) != IR_OK) {
        cli_error("distill: --student: %s", d.msg);
        return 2;
    }
    ir_enc_share share;
    int64_t share_k;
    if (student_share_parse(rec.share, &share, &share_k, &d) != IR_OK) {
        cli_error("distill: --share: %s", d.msg);
        return 2;
    }
    if (share == IR_ENC_SHARE_GROUPS && spec.layers % share_k != 0) {
        cli_error("distill: --share groups:%lld does not divide the student's "
                  "layers = %lld", (long long)share_k, (long long)spec.layers);
        return 2;
    }
    bool init_teacher = strcmp(rec.init, "teacher") == 0;
    if (!init_teacher && strcmp(rec.init, "random") != 0) {
        cli_error("distill: --init '%s': expected teacher or random", rec.init);
        return 2;
    }
    teacher_engine engine = TEACHER_ENGINE_AUTO;
    if (engine_s) {
        if (strcmp(engine_s, "onednn") == 0) engine = TEACHER_ENGINE_RT;
        else if (strcmp(engine_s, "trainer") == 0) engine = TEACHER_ENGINE_TRAIN;
        else if (strcmp(engine_s, "auto") != 0) {
            cli_error("distill: --teacher-engine '%s': expected auto, onednn or "
                      "trainer", engine_s);
            return 2;
        }
    }
    ir_precision tprec = IR_PRECISION_FP32;
    if (tprec_s && (!ir_precision_parse(tprec_s, &tprec) ||
                    tprec > TEACHER_PRECISION_LAST)) {
        cli_error("distill: --teacher-precision '%s': expected fp32 or bf16", tprec_s);
        return 2;
    }
    if (tprec != IR_PRECISION_FP32 && engine == TEACHER_ENGINE_TRAIN) {
        cli_error("distill: --teacher-precision %s needs --teacher-engine onednn "
                  "or auto (the trainer engine runs fp32 only)", tprec_s);
        return 2;
    }
    ir_precision gprec = IR_PRECISION_FP32;
    if (gprec_s && (!ir_precision_parse(gprec_s, &gprec) ||
                    gprec > GEMM_PRECISION_LAST)) {
        cli_error("distill: --gemm-precision '%s': expected fp32 or bf16", gprec_s);
        return 2;
    }
    progress_mode pm = PROGRESS_AUTO;
    if (prog_s && !progress_mode_parse(prog_s, &pm)) {
        cli_error("distill: --progress '%s': expected auto, bar, json or off", prog_s);
        return 2;
    }
    if (resume && !ckdir) {
        cli_error("distill: --resume needs --ckpt-dir");
        return 2;
    }
    const char *teacher_path = pos[0];
    if (!cli_check_input_file("distill", "teacher", teacher_path))
        return 2;
    if ((rc = evalcmd_check_path("distill", "--data", rec.data)) != 0)
        return rc;
    if (rec.corpus[0] && !rec.general.skip &&
        !cli_check_input_file("distill", "--corpus", rec.corpus))
        return 2;
    if (threads)
        omp_set_num_threads((int)threads);

    double t_start = ir_clock_wall_s();
    tok_tokenizer *tok = NULL;
    ir_encoder *tenc = NULL, *senc = NULL;
    train_params *tp = NULL, *sp = NULL;
    teacher *teach = NULL;
    distill_loss *loss = NULL;
    gemm_ctx *gemm = NULL;
    glue_dataset tr_ds = {0}, dev_ds = {0};
    train_data tr = {0}, corpus = {0}, dev = {0};
    eval_result ter = {0}, ser = {0};
    stage_run runs[3] = {
        {.name = "general", .cfg = &rec.general,
         .loss = DISTILL_STAGE_INTERMEDIATE, .data = &corpus},
        {.name = "intermediate", .cfg = &rec.intermediate,
         .loss = DISTILL_STAGE_INTERMEDIATE, .data = &tr},
        {.name = "prediction", .cfg = &rec.prediction,
         .loss = DISTILL_STAGE_PREDICTION, .data = &tr},
    };
    int64_t keep[4096];
    bool have_keep = false;
    ir_status s;
    if ((rc = evalcmd_load_tokenizer("distill", rec.vocab[0] ? rec.vocab : NULL,
                                     NULL, teacher_path, &tok)) != 0)
        goto done;
    /* teacher and student */
    s = teacher_load_onnx(teacher_path, &tenc, &d);
    if (s != IR_OK)
        goto fail;
    int64_t want_labels = task->is_regression ? 1 : task->n_labels;
    if (tenc->cfg.labels != want_labels) {
        cli_error("distill: the teacher '%s' has %lld outputs but %s needs %lld: "
                  "fine-tune it on the task first (distilc finetune)", teacher_path,
                  (long long)tenc->cfg.labels, task->name, (long long)want_labels);
        rc = 2;
        goto done;
    }
    tenc->cfg.head = task->is_regression ? IR_ENC_HEAD_REGRESSION
                                         : IR_ENC_HEAD_CLASSIFICATION;
    ir_encoder_config sc;
    if (student_config_make(&tenc->cfg, &spec, share, share_k, &sc, &d) != IR_OK) {
        cli_error("distill: --student: %s", d.msg);
        rc = 2;
        goto done;
    }
    distill_loss_opts lo;
    distill_loss_opts_default(&lo, sc.layers, tenc->cfg.layers);
    if (rec.layer_map[0]) {
        if (student_layer_map_parse(rec.layer_map, sc.layers, tenc->cfg.layers,
                                    lo.layer_map, &d) != IR_OK) {
            cli_error("distill: --layer-map: %s", d.msg);
            rc = 2;
            goto done;
        }
    } else
        student_layer_map_uniform(sc.layers, tenc->cfg.layers, lo.layer_map);
    lo.temperature = rec.prediction.temperature;
    s = train_params_new(&sc, &sp, &d);
    if (s != IR_OK)
        goto fail;
    s = gemm_ctx_create(gemm_impl_for_cpu(), &gemm, &d);
    if (s != IR_OK)
        goto fail;
    sp->gemm = gemm;
    if (gprec != IR_PRECISION_FP32) {
        s = gemm_ctx_set_precision(gemm, gprec, &d);
        if (s != IR_OK) {
            ir_diag_prefix(&d, "distill: --gemm-precision %s", gprec_s);
            goto fail;
        }
    }
    if (init_teacher) {
        s = train_params_from_encoder(tenc, &tp, &d);
        if (s == IR_OK && sc.hidden <= (int64_t)(sizeof keep / sizeof keep[0])) {
            s = student_init_from_teacher(sp, tp, lo.layer_map, keep, &d);
            have_keep = s == IR_OK;
        }
        train_params_free(tp);
        tp = NULL;
        if (s != IR_OK)
            goto fail;
    } else
        student_init_random(sp, rec.intermediate.seed);
    /* The teacher keeps the embedding output and the mapped layers only. */
    bool want_h[IR_ENCODER_MAX_LAYERS + 1] = {false}, want_s[IR_ENCODER_MAX_LAYERS] = {false};
    want_h[0] = true;
    for (int64_t m = 0; m < sc.layers; m++) {
        want_h[lo.layer_map[m]] = true;
        want_s[lo.layer_map[m] - 1] = true;
    }
    s = teacher_new_prec(tenc, engine, tprec, want_h, want_s, &teach, &d);
    if (s != IR_OK)
        goto fail;
    s = distill_loss_new(&sc, teach, &lo, &loss, &d);
    if (s != IR_OK)
        goto fail;
    distill_loss_init_proj(loss, have_keep ? keep : NULL, rec.intermediate.seed);
    /* data */
    size_t task_seq = (size_t)(rec.intermediate.max_seq > rec.prediction.max_seq
                                   ? rec.intermediate.max_seq : rec.prediction.max_seq);
    bool general = rec.corpus[0] && !rec.general.skip;
    int64_t need_seq = (int64_t)task_seq;
    if (general && rec.general.max_seq > need_seq)
        need_seq = rec.general.max_seq;
    if (need_seq > sc.max_positions) {
        cli_error("distill: max-seq %lld exceeds the teacher's %lld positions",
                  (long long)need_seq, (long long)sc.max_positions);
        rc = 2;
        goto done;
    }
    glue_load_opts gl = {.skip_bad_lines = false, .limit = (size_t)limit};
    s = glue_load(task, rec.data, GLUE_SPLIT_TRAIN, &gl, &tr_ds, &d);
    if (s == IR_OK)
        s = train_data_from_glue(&tr_ds, tok, task_seq, &tr, &d);
    if (s != IR_OK)
        goto fail;
    if (aug.copies > 0) {
        train_data big;
        s = aug_train_data(&tr, tok, tenc, &aug, &big, &aug_st, &d);
        if (s != IR_OK)
            goto fail;
        train_data_free(&tr);
        tr = big; /* the stages point at tr */
        progress ap;
        progress_init(&ap, stderr, "augment", 1, pm); /* resolves AUTO */
        progress_mode am = ap.mode;
        if (am == PROGRESS_JSON)
            fprintf(stderr, "{\"event\":\"augment\",\"copies\":%lld,\"prob\":%g,"
                    "\"neighbours\":%lld,\"examples_in\":%zu,\"examples\":%zu,"
                    "\"replaced\":%zu,\"eligible\":%zu,\"neighbour_rows\":%zu,"
                    "\"table_s\":%.3f}\n", (long long)aug.copies, aug.prob,
                    (long long)aug.neighbours, aug_st.examples_in,
                    aug_st.examples_out, aug_st.replaced, aug_st.eligible,
                    aug_st.rows, aug_st.table_s);
        else if (am == PROGRESS_BAR)
            fprintf(stderr, "augment     %zu -> %zu examples, %zu of %zu words "
                    "replaced (neighbours of %zu words in %.1f s)\n",
                    aug_st.examples_in, aug_st.examples_out, aug_st.replaced,
                    aug_st.eligible, aug_st.rows, aug_st.table_s);
    }
    glue_load_opts dl = {.skip_bad_lines = false, .limit = (size_t)dlimit};
    s = glue_load(task, rec.data, GLUE_SPLIT_DEV, &dl, &dev_ds, &d);
    if (s == IR_OK)
        s = train_data_from_glue(&dev_ds, tok, (size_t)rec.prediction.max_seq, &dev, &d);
    if (s != IR_OK)
        goto fail;
    if (general) {
        s = train_data_from_corpus(rec.corpus, tok, (size_t)rec.general.max_seq,
                                   (size_t)limit, &corpus, &d);
        if (s != IR_OK)
            goto fail;
    }
    /* the stages: checkpoints in D/<stage>/ (the loop makes the last level) */
    if (ckdir && mkdir(ckdir, 0777) != 0 && errno != EEXIST) {
        s = ir_diag_set(&d, IR_ERR_IO, "--ckpt-dir '%s': %s", ckdir, strerror(errno));
        goto fail;
    }
    train_dev_set devset = {.data = &dev, .kind = task->metric, .batch = 64};
    progress pr;
    progress_init(&pr, stderr, "distill", 1, pm); /* resolves AUTO */
    for (int i = 0; i < 3; i++) {
        stage_run *st = &runs[i];
        if ((i == 0 && !general) || st->cfg->skip)
            continue;
        distill_loss_times t0 = distill_loss_get_times(loss);
        gemm_stats g0 = gemm_ctx_stats(gemm);
        recipe_stage *c = st->cfg;
        train_loop_options o;
        train_loop_options_default(&o);
        o.batch = (size_t)c->batch;
        o.max_seq = (size_t)c->max_seq < st->data->T ? (size_t)c->max_seq : 0;
        o.epochs = c->epochs;
        o.steps = c->steps;
        o.lr = c->lr;
        o.warmup = c->warmup;
        o.weight_decay = c->weight_decay;
        o.seed = c->seed;
        o.eval_every = c->eval_every;
        o.ckpt_every = c->ckpt_every;
        o.what = st->name;
        char ckbuf[4096], plotbuf[4096];
        if (ckdir) {
            snprintf(ckbuf, sizeof ckbuf, "%s/%s", ckdir, st->name);
            o.ckpt_dir = ckbuf;
            o.resume = resume;
            /* recorded, so a resume with other numbers is refused */
            o.gemm_precision = ir_precision_name(gprec);
            o.teacher_precision = ir_precision_name(tprec);
        }
        if (plot) {
            plot_name(plotbuf, sizeof plotbuf, plot, st->name);
            o.plot_path = plotbuf;
        }
        distill_loss_set_stage(loss, st->loss);
        /* the projections learn with the intermediate losses only */
        if (st->loss == DISTILL_STAGE_INTERMEDIATE && distill_loss_extra(loss)->n)
            o.extra = distill_loss_extra(loss);
        if (st->loss == DISTILL_STAGE_PREDICTION) {
            o.eval = train_dev_eval;
            o.eval_user = &devset;
            o.keep_best = true;
        }
        dp_progress fp = {.mode = pr.mode, .stage = st->name};
        o.progress = dp_progress_cb;
        o.progress_user = &fp;
        s = train_loop_run(sp, st->data, &o, distill_loss_fn, loss, &st->r, &d);
        if (fp.drawn)
            fputc('\n', stderr);
        st->ran = true;
        distill_loss_times t1 = distill_loss_get_times(loss);
        st->times = (distill_loss_times){t1.student_forward - t0.student_forward,
                                         t1.teacher - t0.teacher,
                                         t1.terms - t0.terms, t1.calls - t0.calls};
        gemm_stats g1 = gemm_ctx_stats(gemm);
        st->gemm = (gemm_stats){g1.seconds - g0.seconds, g1.flops - g0.flops,
                                g1.calls - g0.calls};
        if (s != IR_OK) {
            ir_diag_prefix(&d, "%s distillation", st->name);
            goto fail;
        }
    }
    /* write the student, then evaluate both on dev */
    s = ir_encoder_new(&sc, &senc, &d);
    if (s == IR_OK)
        s = train_params_to_encoder(sp, senc, &d);
    ir_graph *g = NULL;
    if (s == IR_OK) {
        ir_encoder_graph_opts go;
        ir_encoder_graph_opts_default(&go);
        s = ir_encoder_to_graph(senc, &go, &g, &d);
    }
    if (s == IR_OK)
        s = onnx_save_file(g, output, NULL, &d);
    ir_graph_free(g);
    if (s != IR_OK)
        goto fail;
    s = eval_encoder(tenc, &dev_ds, tok, (size_t)rec.prediction.max_seq, pr.mode,
                     "teacher", &ter, &d);
    if (s == IR_OK)
        s = eval_encoder(senc, &dev_ds, tok, (size_t)rec.prediction.max_seq,
                         pr.mode, "student", &ser, &d);
    if (s != IR_OK)
        goto fail;
    /* report */
    double secs = ir_clock_wall_s() - t_start;
    const metric_value *tm = &ter.metrics.v[ter.metrics.main];
    const metric_value *smv = &ser.metrics.v[ser.metrics.main];
    int64_t tparams = ir_encoder_param_count(tenc), sparams = ir_encoder_param_count(senc);
    FILE *f = stdout;
    if (json) {
        fputs("{\"teacher\":", f);
        cli_json_string(f, teacher_path);
        fputs(",\"output\":", f);
        cli_json_string(f, output);
        fprintf(f, ",\"task\":\"%s\",\"student\":\"%s\",\"share\":\"%s\","
                "\"init\":\"%s\",\"layer_map\":[", task->name, rec.student,
                rec.share, rec.init);
        for (int64_t m = 0; m < sc.layers; m++)
            fprintf(f, "%s%lld", m ? "," : "", (long long)lo.layer_map[m]);
        fprintf(f, "],\"teacher_engine\":\"%s\",\"teacher_precision\":\"%s\","
                "\"gemm_precision\":\"%s\",\"teacher_params\":%lld,"
                "\"student_params\":%lld,",
                teacher_engine_name(teacher_engine_used(teach)),
                ir_precision_name(tprec), ir_precision_name(gprec),
                (long long)tparams, (long long)sparams);
        fprintf(f, "\"augment\":{\"copies\":%lld,\"prob\":%g,\"neighbours\":%lld,"
                "\"train_examples\":%zu,\"replaced\":%zu,\"eligible\":%zu,"
                "\"table_s\":", (long long)aug.copies, aug.prob,
                (long long)aug.neighbours, tr.n, aug_st.replaced, aug_st.eligible);
        evalcmd_json_number(f, aug_st.table_s);
        fputs("},\"stages\":[", f);
        bool first = true;
        for (int i = 0; i < 3; i++) {
            if (!runs[i].ran)
                continue;
            fprintf(f, "%s{\"stage\":\"%s\",\"examples\":%zu,\"steps\":%lld,"
                    "\"resumed_from\":%lld,\"final_loss\":", first ? "" : ",",
                    runs[i].name, runs[i].data->n, (long long)runs[i].r.steps,
                    (long long)runs[i].r.start_step);
            evalcmd_json_number(f, runs[i].r.last_loss);
            fputs(",\"tokens_per_s\":", f);
            evalcmd_json_number(f, runs[i].r.tokens_per_s);
            fputs(",\"steady_tokens_per_s\":", f);
            evalcmd_json_number(f, runs[i].r.steady_tokens_per_s);
            fputs(",\"seconds\":", f);
            evalcmd_json_number(f, runs[i].r.seconds);
            fputs(",\"student_forward_s\":", f);
            evalcmd_json_number(f, runs[i].times.student_forward);
            fputs(",\"teacher_s\":", f);
            evalcmd_json_number(f, runs[i].times.teacher);
            fputs(",\"loss_terms_s\":", f);
            evalcmd_json_number(f, runs[i].times.terms);
            /* the student's (and projections') matmuls, forward, backward
             * and dev evaluation: how much of the stage is GEMM time */
            fputs(",\"student_gemm_s\":", f);
            evalcmd_json_number(f, runs[i].gemm.seconds);
            fputs(",\"student_gemm_gflop\":", f);
            evalcmd_json_number(f, runs[i].gemm.flops * 1e-9);
            fputs("}", f);
            first = false;
        }
        fprintf(f, "],\"dev_examples\":%zu,\"metric\":\"%s\",\"teacher_dev\":",
                dev_ds.n, tm->name);
        evalcmd_json_metrics(f, &ter.metrics);
        fputs(",\"student_dev\":", f);
        evalcmd_json_metrics(f, &ser.metrics);
        fputs(",\"seconds\":", f);
        evalcmd_json_number(f, secs);
        fputs("}\n", f);
    } else {
        fprintf(f, "teacher     %s: %lld layers, hidden %lld, %lld heads, ffn %lld, "
                "%lld parameters (%s)\n", teacher_path, (long long)tenc->cfg.layers,
                (long long)tenc->cfg.hidden, (long long)tenc->cfg.heads,
                (long long)tenc->cfg.ffn, (long long)tparams,
                teacher_engine_name(teacher_engine_used(teach)));
        fprintf(f, "student     %s: %s, share %s, init %s, %lld parameters "
                "(%.1fx smaller)\n", output, rec.student, rec.share, rec.init,
                (long long)sparams, (double)tparams / (double)sparams);
        fprintf(f, "layer map   ");
        for (int64_t m = 0; m < sc.layers; m++)
            fprintf(f, "%s%lld->%lld", m ? ", " : "", (long long)m + 1,
                    (long long)lo.layer_map[m]);
        fputc('\n', f);
        if (aug.copies > 0)
            fprintf(f, "augment     %lld copies (prob %g, %lld neighbours): %zu "
                    "train examples, %zu of %zu words replaced\n",
                    (long long)aug.copies, aug.prob, (long long)aug.neighbours,
                    tr.n, aug_st.replaced, aug_st.eligible);
        for (int i = 0; i < 3; i++)
            if (runs[i].ran)
                fprintf(f, "%-13s%lld steps on %zu examples, final loss %.4f, "
                        "%.0f tokens/s (%.1f s: student forward %.1f, teacher "
                        "%.1f, loss %.1f, the rest backward and update; "
                        "student GEMMs %.1f s at %.0f GFLOP/s)\n",
                        runs[i].name, (long long)runs[i].r.steps,
                        runs[i].data->n, (double)runs[i].r.last_loss,
                        runs[i].r.tokens_per_s, runs[i].r.seconds,
                        runs[i].times.student_forward, runs[i].times.teacher,
                        runs[i].times.terms, runs[i].gemm.seconds,
                        runs[i].gemm.seconds > 0
                            ? runs[i].gemm.flops * 1e-9 / runs[i].gemm.seconds
                            : 0.0);
        fprintf(f, "dev %-8s teacher %.4f, student %.4f (%zu examples)\n", tm->name,
                tm->value, smv->value, dev_ds.n);
    }
    rc = 0;
    goto done;
fail:
    rc = cli_fail(&d);
done:
    for (int i = 0; i < 3; i++)
        train_result_free(&runs[i].r);
    eval_result_free(&ter);
    eval_result_free(&ser);
    train_data_free(&tr);
    train_data_free(&corpus);
    train_data_free(&dev);
    glue_dataset_free(&tr_ds);
    glue_dataset_free(&dev_ds);
    distill_loss_free(loss);
    teacher_free(teach);
    train_params_free(sp);
    train_params_free(tp);
    gemm_ctx_free(gemm);
    ir_encoder_free(tenc);
    ir_encoder_free(senc);
    tok_free(tok);
    return rc;
}

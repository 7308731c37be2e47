/* cmd_finetune.c — `distilc finetune MODEL.onnx --task T --data DIR -o OUT`:
 * fine-tunes a BERT-style classifier on a GLUE task's train split with
 * distill/trainer.h and writes the result as ONNX.
 *
 * The flow: ONNX -> passes "default,fuse" -> ir_encoder_lift -> (a fresh
 * head when the label count is not the task's) -> train_params -> the loop
 * (cross-entropy, MSE for STS-B) with dev evaluation, checkpoints, resume
 * and a plot -> train_params_to_encoder -> ir_encoder_to_graph ->
 * onnx_save_file. The progress line and the final JSON report are printed
 * here; the work is the library's. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/gemm.h"
#include "distill/data.h"
#include "distill/params.h"
#include "distill/teacher.h"
#include "distill/trainer.h"
#include "frontend/glue.h"
#include "frontend/onnx.h"
#include "frontend/recipe.h"
#include "frontend/tokenizer.h"
#include "frontend/user_data.h"
#include "ir/clock.h"
#include "ir/encoder.h"
#include "frontend/json.h"
#include "passes/encoder_from_onnx.h"
#include "tools/cli.h"
#include "tools/cli_groups.h"
#include "tools/cmd_eval.h"
#include "tools/cmds.h"
#include "tools/progress.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc finetune MODEL.onnx --task T --data DIR -o OUT.onnx\n"
            "                        [--vocab V | --tokenizer FILE]\n"
            "                        [--epochs N | --steps N] [--batch 32]\n"
            "                        [--max-seq 128] [--lr 2e-5] [--warmup 0.1]\n"
            "                        [--weight-decay 0.01] [--grad-clip 1.0]\n"
            "                        [--seed 42] [--eval-every N] [--no-eval]\n"
            "                        [--ckpt-dir D] [--ckpt-every N] [--resume]\n"
            "                        [--plot F.svg] [--limit N] [--dev-limit N]\n"
            "                        [--skip-bad-lines]\n"
            "                        [--threads N] [--gemm onednn]\n"
            "                        [--gemm-precision fp32|bf16] [--json]\n"
            "                        [--progress MODE] [--recipe FILE]\n"
            "                        [--bucket N]\n"
            "\n"
            "Fine-tunes a BERT-style sequence classifier (an ONNX export such as\n"
            "Hugging Face's BertForSequenceClassification) on a GLUE task's\n"
            "train split, evaluates it on the dev split and writes the\n"
            "fine-tuned model as ONNX (inputs input_ids, attention_mask,\n"
            "token_type_ids; output logits). Cross-entropy for classification,\n"
            "MSE for STS-B; AdamW with linear warmup and decay; dropout off.\n"
            "\n"
            "  --task T          CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE,\n"
            "                    WNLI (or sst2, stsb, ...)\n"
            "  --data DIR        a GLUE root, the task's folder (train.tsv and\n"
            "                    dev.tsv inside); without --task, your own\n"
            "                    data (below)\n"
            "  -o, --output F    the fine-tuned model (.onnx)\n"
            "  --vocab FILE      a BERT vocab.txt (uncased); --tokenizer FILE a\n"
            "                    tokenizer.json (default: either beside MODEL)\n"
            "  --epochs N        passes over the train split (3)\n"
            "  --steps N         optimizer steps instead of epochs\n"
            "  --batch N         examples per step (32)\n"
            "  --max-seq N       truncate to N tokens (128)\n"
            "  --lr X            peak learning rate (2e-5)\n"
            "  --warmup F        warmup fraction of the steps (0.1)\n"
            "  --weight-decay X  AdamW decoupled decay (0.01)\n"
            "  --grad-clip X     global gradient norm limit (1.0; 0 = off)\n"
            "  --seed N          data order and fresh-head seed (42)\n"
            "  --eval-every N    dev evaluation every N steps (default: at the\n"
            "                    end only); the best-on-dev weights are written\n"
            "  --no-eval         skip dev evaluation (writes the last weights)\n"
            "  --ckpt-dir D      checkpoints D/last.ckpt and D/best.ckpt, written\n"
            "                    atomically every N steps, at evaluations and at\n"
            "                    the end\n"
            "  --ckpt-every N    N (default 100)\n"
            "  --resume          continue from D/last.ckpt (same options and\n"
            "                    --threads: then the result is bit-identical; a\n"
            "                    changed --lr, --batch, --seed or data is refused)\n"
            "  --stop-after N    stop after step N as a kill would (last.ckpt\n"
            "                    written, no model): time-sliced training\n"
            "  --bucket N        length-bucketed batches: each pool of N batches\n"
            "                    is sorted by length, so batches hold examples of\n"
            "                    similar length and are padded less (0: a plain\n"
            "                    shuffle, the default; 50 is Hugging Face's\n"
            "                    group_by_length); deterministic and resumable\n"
            "  --plot F.svg      loss and dev-metric curves\n"
            "  --limit N         first N training examples only\n"
            "  --dev-limit N     first N dev examples only\n"
            "  --skip-bad-lines  count and skip malformed lines of the task's\n"
            "                    files (a warning says how many)\n"
            "  --threads N       threads for the GEMMs (default: all cores)\n"
            "  --gemm G          onednn, openblas, auto (fastest per shape; not\n"
            "                    bitwise repeatable across runs) or ref (the\n"
            "                    plain reference loop, slow); default: oneDNN on\n"
            "                    AVX-512 CPUs, OpenBLAS below (distilc system)\n"
            "  --gemm-precision P  fp32 (default) or bf16: GEMMs with bf16\n"
            "                    inputs and f32 accumulation (oneDNN, needs\n"
            "                    AVX512-BF16; faster, ~3 significant digits)\n"
            "  --json            print the final report as one JSON object\n"
            "  --progress MODE   auto (a bar on a terminal, JSON lines on stderr\n"
            "                    otherwise), bar, json or off\n"
            "  --recipe FILE     an XML recipe (frontend/recipe.xsd): its task,\n"
            "                    data, vocab and <prediction> stage settings are\n"
            "                    the defaults; options given here override them\n"
            "  --help            this text\n"
            "\n");
    cli_user_data_usage(f);
    fprintf(f,
            "The model keeps the task's label names (ONNX metadata\n"
            "distilc.labels).\n"
            "A model whose head has another label count than the task gets a\n"
            "fresh head (N(0, 0.02), seeded). On NaN/Inf the run stops, names\n"
            "the step and loss and keeps the last good checkpoint.\n"
            "On a shared machine, OMP_WAIT_POLICY=passive in the environment keeps\n"
            "OpenMP threads from spinning (much faster when cores are busy).\n"
            "Exit status: 0 ok, 1 failure (incl. NaN), 2 bad input or usage.\n");
}

/* ---- progress: a bar with loss, lr, tokens/s and ETA, or JSON lines ---- */

typedef struct ft_progress {
    progress_mode mode;     /* BAR, JSON or OFF */
    double t_last;
    bool drawn;
} ft_progress;

static void fmt_eta(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, n, "?");
    else if (s >= 3600)
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, n, "%.0fs", s);
}

static void ft_progress_cb(void *user, const train_status *s)
{
    ft_progress *fp = user;
    double now = ir_clock_wall_s();
    bool final = s->step == s->total_steps && s->event == TRAIN_EVENT_STEP;
    if (fp->mode == PROGRESS_BAR) {
        if (s->event == TRAIN_EVENT_EVAL) {
            fprintf(stderr, "\r\033[K  step %lld: dev %.4f (best %.4f)\n",
                    (long long)s->step, s->dev, s->best_dev);
            fp->drawn = false;
            return;
        }
        if (s->event != TRAIN_EVENT_STEP || (!final && now - fp->t_last < 0.2))
            return;
        fp->t_last = now;
        int width = 20, fill = (int)((double)width * (double)s->step /
                                     (double)s->total_steps);
        char bar[32], eta[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        fmt_eta(eta, sizeof eta, s->eta_s);
        fprintf(stderr, "\r\033[Kfinetune [%s] %lld/%lld  loss %.4f  lr %.2e  "
                "%.0f tok/s  ETA %s", bar, (long long)s->step,
                (long long)s->total_steps, (double)s->loss.total, (double)s->lr,
                s->tokens_per_s, eta);
        fp->drawn = true;
        if (final) {
            fputc('\n', stderr);
            fp->drawn = false;
        }
        return;
    }
    if (fp->mode != PROGRESS_JSON)
        return;
    if (s->event == TRAIN_EVENT_STEP && !final && now - fp->t_last < 0.5)
        return;
    if (s->event == TRAIN_EVENT_STEP)
        fp->t_last = now;
    static const char *const names[TRAIN_EVENT_COUNT] = {"step", "eval", "checkpoint"};
    fprintf(stderr, "{\"event\":\"%s\",\"step\":%lld,\"total\":%lld", names[s->event],
            (long long)s->step, (long long)s->total_steps);
    if (s->event == TRAIN_EVENT_CKPT) {
        fputs(",\"path\":", stderr);
        cli_json_string(stderr, s->ckpt_path);
    } else {
        fprintf(stderr, ",\"epoch\":%lld,\"loss\":", (long long)s->epoch);
        json_write_number(stderr, s->loss.total, 6);
        fputs(",\"lr\":", stderr);
        json_write_number(stderr, s->lr, 6);
        fputs(",\"tokens_per_s\":", stderr);
        json_write_number(stderr, s->tokens_per_s, 6);
        fputs(",\"eta_s\":", stderr);
        json_write_number(stderr, s->eta_s, 6);
    }
    if (s->event == TRAIN_EVENT_EVAL) {
        fputs(",\"dev\":", stderr);
        json_write_number(stderr, s->dev, 6);
        fputs(",\"best_dev\":", stderr);
        json_write_number(stderr, s->best_dev, 6);
    }
    fputs("}\n", stderr);
    fflush(stderr);
}

/* ---- model in and out ---------------------------------------------------- */

/* encoder_open_options.check: whether the graph takes token_type_ids
 * (DistilBERT, RoBERTa and XLM-R exports do not). */
static ir_status note_types(const ir_graph *g, void *user, ir_diag *d)
{
    (void)d;
    bool *types = user;
    *types = false;
    for (int i = 0; i < g->n_inputs; i++)
        *types = *types || !strcmp(g->inputs[i]->name, "token_type_ids");
    return IR_OK;
}

/* MODEL.onnx -> passes -> encoder; *types: whether it takes token types,
 * which the fine-tuned model keeps. */
static ir_status model_lift(const char *path, ir_encoder **out, bool *types,
                            ir_diag *d)
{
    encoder_open_options o = {.check = note_types, .user = types};
    ir_status s = encoder_from_onnx(path, &o, out, d);
    if (s != IR_OK)
        ir_diag_prefix(d, "%s", path);
    return s;
}

/* A copy of e with `labels` outputs and a fresh head (all other weights
 * copied): random N(0, 0.02) from the seed, biases zero. */
static ir_status head_fresh(const ir_encoder *e, int64_t labels, ir_enc_head kind,
                            uint64_t seed, ir_encoder **out, ir_diag *d)
{
    ir_encoder_config c = e->cfg;
    c.labels = labels;
    c.head = kind;
    ir_encoder *n;
    ir_status s = ir_encoder_new(&c, &n, d);
    if (s != IR_OK)
        return s;
    ir_encoder_init_opts io;
    ir_encoder_init_opts_default(&io);
    io.seed = seed;
    ir_encoder_init_random(n, &io);
    for (size_t i = 0; i < n->n_weights; i++) {
        const char *name = n->weights[i].name;
        if (strncmp(name, "head.", 5) == 0)
            continue;
        ir_tensor *src = ir_encoder_find(e, name);
        if (src && src->nbytes == n->weights[i].t->nbytes)
            memcpy(n->weights[i].t->data, src->data, src->nbytes);
    }
    *out = n;
    return IR_OK;
}

static ir_status model_save(const train_params *p, ir_encoder *e, bool types,
                            const char *path, ir_diag *d)
{
    ir_status s = train_params_to_encoder(p, e, d);
    ir_graph *g = NULL;
    if (s == IR_OK) {
        ir_encoder_graph_opts go;
        ir_encoder_graph_opts_default(&go);
        go.token_types = types; /* the model's inputs, as it came */
        s = ir_encoder_to_graph(e, &go, &g, d);
    }
    if (s == IR_OK)
        s = onnx_save_file(g, path, NULL, d);
    ir_graph_free(g);
    return s;
}

/* ---- options ------------------------------------------------------------ */

/* The command line with the recipe's defaults under it, parsed and
 * checked. */
typedef struct ft_args {
    recipe rcp;            /* --recipe (task, data, vocab or tokenizer point
                              into it) */
    const char *model, *output, *vocab, *tokjson, *data, *ckdir, *plot;
    const glue_task *task;
    glue_task *owned;      /* the user's own task (no --task), freed */
    int64_t epochs, steps, batch, seq, seed, evev, ckev, limit, dlimit;
    int64_t threads, stop_after, bucket;
    bool resume, no_eval, json, gemm_ref, skip_bad;
    gemm_impl gi;
    ir_precision gprec;
    progress_mode pm;
    train_loop_options o;  /* lr, warmup, weight decay, clip */
} ft_args;

/* The typed options as cli_parse leaves them (0 or NaN: not given). */
typedef struct ft_opts {
    cli_int epochs, steps, evev, ckev, stop_after, bucket;
    cli_float lr, warmup, wd, clip;
    cli_enum gemm, gprec;
    cli_name gprecs[GEMM_PRECISION_LAST + 2];
    const char *seed_s, *recipe_s;
    cli_data data;
    cli_user_data user;
    cli_runtime rt;
    cli_output out;
} ft_opts;

enum { FT_GEMM_REF = -2 }; /* --gemm ref: the plain loop, no library */

static void ft_opts_init(ft_opts *t)
{
    static const cli_name gemms[] = {{"onednn", GEMM_ONEDNN},
                                     {"openblas", GEMM_BLAS},
                                     {"auto", GEMM_AUTO},
                                     {"ref", FT_GEMM_REF},
                                     {NULL, 0}};
    *t = (ft_opts){
        .epochs = {0, 1, 0, NULL},
        .steps = {0, 1, 0, NULL},
        .evev = {0, 1, 0, NULL},
        .ckev = {0, 1, 0, NULL},
        .stop_after = {0, 1, 0, NULL},
        .bucket = {-1, 0, 1000000, NULL},
        .lr = {NAN, 1e-12, 1.0,
               "--lr '%s': expected a number in [1e-12, 1], see 'distilc "
               "finetune --help'"},
        .warmup = {NAN, 0.0, 0.999,
                   "--warmup '%s': expected a number in [0, 0.999], see "
                   "'distilc finetune --help'"},
        .wd = {NAN, 0.0, 10.0,
               "--weight-decay '%s': expected a number in [0, 10], see "
               "'distilc finetune --help'"},
        .clip = {NAN, 0.0, 1e9,
                 "--grad-clip '%s': expected a number in [0, 1e+09], see "
                 "'distilc finetune --help'"},
        .gemm = {-1, gemms,
                 "--gemm '%s': expected onednn, openblas, auto or ref"},
        .gprec = {IR_PRECISION_FP32, t->gprecs,
                  "--gemm-precision '%s': expected fp32 or bf16"},
    };
    for (int p = 0; p <= GEMM_PRECISION_LAST; p++)
        t->gprecs[p] = (cli_name){ir_precision_name((ir_precision)p), p};
    cli_data_init(&t->data, CLI_DATA_TASK | CLI_DATA_DATA | CLI_DATA_VOCAB |
                                CLI_DATA_TOKENIZER | CLI_DATA_LIMIT |
                                CLI_DATA_DEV_LIMIT | CLI_DATA_MAX_SEQ |
                                CLI_DATA_SKIP_BAD_LINES);
    cli_user_data_init(&t->user);
    cli_runtime_init(&t->rt, CLI_RT_BATCH | CLI_RT_THREADS, NULL);
    cli_output_init(&t->out, CLI_OUT_JSON | CLI_OUT_PROGRESS,
                    "--progress '%s': expected auto, bar, json or off");
}

/* The defaults, a recipe's prediction-stage settings over them (the
 * fine-tuning stage: hard labels), and the options given over both. */
static void ft_settings(const ft_opts *t, bool have_recipe, ft_args *a)
{
    train_loop_options_default(&a->o);
    a->o.lr = 2e-5f;
    a->o.what = "finetune";
    a->epochs = 3, a->steps = 0, a->batch = 32, a->seq = 128, a->seed = 42;
    a->evev = 0, a->ckev = 0, a->bucket = 0;
    if (have_recipe) {
        const recipe_stage *st = &a->rcp.prediction;
        a->epochs = st->epochs;
        a->steps = st->steps;
        a->batch = st->batch;
        a->seq = st->max_seq;
        a->seed = (int64_t)st->seed;
        a->evev = st->eval_every;
        a->ckev = st->ckpt_every;
        a->bucket = st->bucket;
        a->o.lr = st->lr;
        a->o.warmup = st->warmup;
        a->o.weight_decay = st->weight_decay;
    }
    const cli_int *ints[] = {&t->epochs, &t->steps, &t->rt.batch,
                             &t->data.max_seq, &t->evev, &t->ckev};
    int64_t *dests[] = {&a->epochs, &a->steps, &a->batch, &a->seq, &a->evev,
                        &a->ckev};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        if (ints[i]->value)
            *dests[i] = ints[i]->value;
    const cli_float *floats[] = {&t->lr, &t->warmup, &t->wd, &t->clip};
    float *fdests[] = {&a->o.lr, &a->o.warmup, &a->o.weight_decay,
                       &a->o.grad_clip};
    for (size_t i = 0; i < sizeof floats / sizeof *floats; i++)
        if (!isnan(floats[i]->value))
            *fdests[i] = (float)floats[i]->value;
    if (t->epochs.value)
        a->steps = 0; /* --epochs overrides a recipe's steps */
    if (t->bucket.value >= 0)
        a->bucket = t->bucket.value; /* --bucket 0 turns a recipe's off */
    a->limit = t->data.limit.value;
    a->dlimit = t->data.dev_limit.value;
    a->skip_bad = t->data.skip_bad_lines;
    a->threads = t->rt.threads.value;
    a->stop_after = t->stop_after.value;
}

/* Checks what the parser cannot (exit status, or -1 to go on). */
static int ft_check(const ft_opts *t, ft_args *a)
{
    if (t->seed_s) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(t->seed_s, &end, 10);
        if (errno || end == t->seed_s || *end || t->seed_s[0] == '-') {
            cli_error("finetune: --seed '%s': expected a non-negative integer",
                      t->seed_s);
            return 2;
        }
        a->seed = (int64_t)v;
    }
    if (t->epochs.value && t->steps.value) {
        cli_error("finetune: give --epochs or --steps, not both");
        return 2;
    }
    if (a->seq < 8 || a->seq > 4096) {
        cli_error("finetune: --max-seq %lld: expected 8..4096", (long long)a->seq);
        return 2;
    }
    if (t->stop_after.value && !a->ckdir) {
        cli_error("finetune: --stop-after needs --ckpt-dir (to resume from)");
        return 2;
    }
    if (a->resume && !a->ckdir) {
        cli_error("finetune: --resume needs --ckpt-dir (where last.ckpt is)");
        return 2;
    }
    if (a->no_eval && t->evev.value) {
        cli_error("finetune: --no-eval and --eval-every contradict each other");
        return 2;
    }
    a->gemm_ref = t->gemm.value == FT_GEMM_REF;
    a->gi = t->gemm.value >= 0 ? (gemm_impl)t->gemm.value : gemm_impl_for_cpu();
    a->gprec = (ir_precision)t->gprec.value;
    if (a->gprec != IR_PRECISION_FP32 && a->gemm_ref) {
        cli_error("finetune: --gemm-precision %s needs a GEMM library, not --gemm ref",
                  ir_precision_name(a->gprec));
        return 2;
    }
    a->pm = (progress_mode)t->out.progress.value;
    a->json = t->out.json;
    if (!cli_check_input_file("finetune", "model", a->model))
        return 2;
    int rc;
    if (a->data && (rc = evalcmd_check_path("finetune", "--data", a->data)) != 0)
        return rc;
    if (!cli_check_output_file("finetune", "-o", a->output) ||
        !cli_check_output_file("finetune", "--plot", a->plot) ||
        !cli_check_output_dir("finetune", "--ckpt-dir", a->ckdir))
        return 2;
    return -1;
}

/* Exit status, or -1 to go on with *a filled. */
static int ft_args_parse(int argc, char **argv, ft_args *a)
{
    ft_opts t;
    ft_opts_init(&t);
    a->output = a->ckdir = a->plot = NULL;
    a->resume = a->no_eval = false;
    a->owned = NULL;
    cli_option opts[] = {
        {"data group", 0, CLI_GROUP, t.data.options},
        {"user data group", 0, CLI_GROUP, t.user.options},
        {"runtime group", 0, CLI_GROUP, t.rt.options},
        {"output group", 0, CLI_GROUP, t.out.options},
        {"output", 'o', CLI_VALUE, &a->output},
        {"epochs", 0, CLI_INT, &t.epochs},
        {"steps", 0, CLI_INT, &t.steps},
        {"lr", 0, CLI_FLOAT, &t.lr},
        {"warmup", 0, CLI_FLOAT, &t.warmup},
        {"weight-decay", 0, CLI_FLOAT, &t.wd},
        {"grad-clip", 0, CLI_FLOAT, &t.clip},
        {"seed", 0, CLI_VALUE, &t.seed_s},
        {"eval-every", 0, CLI_INT, &t.evev},
        {"no-eval", 0, CLI_FLAG, &a->no_eval},
        {"ckpt-dir", 0, CLI_VALUE, &a->ckdir},
        {"ckpt-every", 0, CLI_INT, &t.ckev},
        {"resume", 0, CLI_FLAG, &a->resume},
        {"plot", 0, CLI_VALUE, &a->plot},
        {"gemm", 0, CLI_ENUM, &t.gemm},
        {"stop-after", 0, CLI_INT, &t.stop_after},
        {"bucket", 0, CLI_INT, &t.bucket},
        {"recipe", 0, CLI_VALUE, &t.recipe_s},
        {"gemm-precision", 0, CLI_ENUM, &t.gprec},
        {0},
    };
    const char *pos[1];
    int npos = 0;
    int rc = cli_parse("finetune", argc, argv, opts, pos, 1, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    const char *task_name = t.data.task;
    a->data = t.data.data;
    a->vocab = t.data.vocab;
    a->tokjson = t.data.tokenizer;
    if (t.recipe_s) {
        ir_diag rd;
        ir_diag_init(&rd);
        recipe_default(&a->rcp);
        if (recipe_load_file(t.recipe_s, &a->rcp, &rd) != IR_OK) {
            ir_diag_prefix(&rd, "finetune: --recipe");
            return cli_fail(&rd);
        }
        if (!task_name && a->rcp.task[0])
            task_name = a->rcp.task;
        if (!a->data && a->rcp.data[0])
            a->data = a->rcp.data;
        /* the recipe's tokenizer, unless an option names one */
        if (!a->vocab && !a->tokjson) {
            a->vocab = a->rcp.vocab[0] ? a->rcp.vocab : NULL;
            a->tokjson = a->rcp.tokenizer[0] ? a->rcp.tokenizer : NULL;
        }
    }
    if (npos != 1 || (task_name && !a->data) ||
        (!task_name && !a->data && !t.user.train) || !a->output) {
        cli_error("finetune: need MODEL.onnx, --task and --data (or your own "
                  "data: --data DIR, or --train FILE --dev FILE) and -o, see "
                  "'distilc finetune --help'");
        return 2;
    }
    a->model = pos[0];
    ft_settings(&t, t.recipe_s != NULL, a);
    if ((rc = ft_check(&t, a)) >= 0)
        return rc;
    if ((rc = cli_task_open("finetune", task_name, a->data, &t.user,
                            a->skip_bad, NULL, 0, &a->task, &a->owned)) != 0)
        return rc;
    return -1;
}

/* The task's label names on the model (its metadata, which the emitted
 * program prints), replacing whatever names it came with. */
static ir_status ft_set_labels(const ft_args *a, ir_encoder *e, ir_diag *d)
{
    char *json = NULL;
    ir_status s = task_labels_to_json(a->task, &json, d);
    if (s == IR_OK && !ir_encoder_set_labels(e, json))
        s = ir_diag_set(d, IR_ERR_NOMEM, "finetune: out of memory");
    free(json);
    return s;
}

/* ---- the run ------------------------------------------------------------- */

/* The model, lifted, with the head the task needs (a fresh one when its
 * label count differs; *new_head says so); *types: whether it takes
 * token_type_ids. */
static ir_status ft_model(const ft_args *a, ir_encoder **enc, bool *new_head,
                          bool *types, ir_diag *d)
{
    ir_status s = model_lift(a->model, enc, types, d);
    if (s != IR_OK)
        return s;
    const glue_task *task = a->task;
    int64_t want_labels = task->is_regression ? 1 : task->n_labels;
    ir_enc_head want_head = task->is_regression ? IR_ENC_HEAD_REGRESSION
                                                : IR_ENC_HEAD_CLASSIFICATION;
    *new_head = (*enc)->cfg.labels != want_labels;
    if (*new_head) {
        fprintf(stderr, "distilc: finetune: the model's head has %lld outputs, %s "
                "needs %lld: training a fresh head (seed %lld)\n",
                (long long)(*enc)->cfg.labels, task->name,
                (long long)want_labels, (long long)a->seed);
        ir_encoder *fresh = NULL;
        s = head_fresh(*enc, want_labels, want_head, (uint64_t)a->seed, &fresh,
                       d);
        if (s != IR_OK)
            return s;
        ir_encoder_free(*enc);
        *enc = fresh;
    }
    (*enc)->cfg.head = want_head;
    return IR_OK;
}

/* The GEMM library the trainer's parameters run on (none for --gemm ref). */
static ir_status ft_gemm(const ft_args *a, train_params *p, gemm_ctx **gemm,
                         ir_diag *d)
{
    if (a->gemm_ref)
        return IR_OK;
    ir_status s = gemm_ctx_create(a->gi, gemm, d);
    if (s != IR_OK)
        return s;
    p->gemm = *gemm;
    if (a->gprec != IR_PRECISION_FP32) {
        s = gemm_ctx_set_precision(*gemm, a->gprec, d);
        if (s != IR_OK)
            ir_diag_prefix(d, "finetune: --gemm-precision %s",
                           ir_precision_name(a->gprec));
    }
    return s;
}

/* The task's train split and (unless --no-eval) its dev split. */
typedef struct ft_data {
    glue_dataset tr_ds, dev_ds;
    train_data tr, dev;
    train_dev_set devset;
} ft_data;

/* Both splits fit to the model's inputs: its pad id (teacher_pad_id) and
 * token types or none. */
static ir_status ft_data_load(const ft_args *a, const tok_tokenizer *tok,
                              const ir_encoder_config *c, bool types,
                              ft_data *fd, ir_diag *d)
{
    int32_t pad = (int32_t)teacher_pad_id(c, tok);
    glue_load_opts lo = {.skip_bad_lines = a->skip_bad, .limit = (size_t)a->limit,
                         .offer_skip = true};
    ir_status s = glue_load(a->task, a->data, GLUE_SPLIT_TRAIN, &lo, &fd->tr_ds, d);
    evalcmd_note_skipped("finetune", &fd->tr_ds);
    if (s == IR_OK)
        s = train_data_from_glue(&fd->tr_ds, tok, (size_t)a->seq, &fd->tr, d);
    fd->devset = (train_dev_set){.data = &fd->dev, .kind = a->task->metric,
                                 .batch = 64};
    if (s == IR_OK)
        train_data_set_inputs(&fd->tr, pad, types);
    if (s != IR_OK || a->no_eval)
        return s;
    glue_load_opts dl = {.skip_bad_lines = a->skip_bad,
                         .limit = (size_t)a->dlimit, .offer_skip = true};
    s = glue_load(a->task, a->data, GLUE_SPLIT_DEV, &dl, &fd->dev_ds, d);
    evalcmd_note_skipped("finetune", &fd->dev_ds);
    if (s == IR_OK)
        s = train_data_from_glue(&fd->dev_ds, tok, (size_t)a->seq, &fd->dev, d);
    if (s == IR_OK)
        train_data_set_inputs(&fd->dev, pad, types);
    return s;
}

static void ft_data_free(ft_data *fd)
{
    train_data_free(&fd->tr);
    train_data_free(&fd->dev);
    glue_dataset_free(&fd->tr_ds);
    glue_dataset_free(&fd->dev_ds);
}

/* The loop's options from the command line (o holds lr, warmup, ...). */
static void ft_loop_options(ft_args *a, ft_data *fd, ft_progress *fp)
{
    train_loop_options *o = &a->o;
    if (!a->no_eval) {
        o->eval = train_dev_eval;
        o->eval_user = &fd->devset;
        o->eval_every = a->evev;
    }
    o->batch = (size_t)a->batch;
    o->epochs = a->epochs;
    o->steps = a->steps;
    o->seed = (uint64_t)a->seed;
    o->bucket_pool = (size_t)a->bucket;
    o->ckpt_dir = a->ckdir;
    o->ckpt_every = a->ckev;
    o->resume = a->resume;
    o->gemm_precision = ir_precision_name(a->gprec); /* checked on --resume */
    o->plot_path = a->plot;
    o->stop_at = a->stop_after;
    o->metric_name = metric_kind_name(a->task->metric);
    progress pr;
    progress_init(&pr, stderr, "finetune", 1, a->pm); /* resolves AUTO */
    *fp = (ft_progress){.mode = pr.mode};
    o->progress = ft_progress_cb;
    o->progress_user = fp;
}

/* ---- the report ---------------------------------------------------------- */

static void ft_print_json(FILE *f, const ft_args *a, const ft_data *fd,
                          const train_result *r, bool new_head, bool stopped,
                          double secs)
{
    fputs("{\"model\":", f);
    cli_json_string(f, a->model);
    fputs(",\"output\":", f);
    cli_json_string(f, a->output);
    fprintf(f, ",\"task\":\"%s\",\"train_examples\":%zu,\"truncated\":%zu,"
            "\"fresh_head\":%s,\"steps\":%lld,\"resumed_from\":%lld,"
            "\"batch\":%lld,\"bucket\":%lld,\"max_seq\":%lld,\"lr\":%g,\"seed\":%lld,"
            "\"gemm\":\"%s\",\"gemm_precision\":\"%s\",\"stopped\":%s,"
            "\"final_loss\":", a->task->name, fd->tr.n, fd->tr.n_truncated,
            new_head ? "true" : "false", (long long)r->steps,
            (long long)r->start_step, (long long)a->batch,
            (long long)a->bucket, (long long)a->seq,
            (double)a->o.lr, (long long)a->seed,
            a->gemm_ref ? "ref" : gemm_impl_name(a->gi),
            ir_precision_name(a->gprec), stopped ? "true" : "false");
    json_write_number(f, r->last_loss, 6);
    fputs(",\"tokens_per_s\":", f);
    json_write_number(f, r->tokens_per_s, 6);
    fputs(",\"steady_tokens_per_s\":", f);
    json_write_number(f, r->steady_tokens_per_s, 6);
    fputs(",\"train_seconds\":", f);
    json_write_number(f, r->seconds, 6);
    fputs(",\"seconds\":", f);
    json_write_number(f, secs, 6);
    /* data parallel: the processes that trained, and the time the
     * gradient sums cost after the overlap with the backward */
    fprintf(f, ",\"ranks\":%d,\"comm_wait_seconds\":", r->ranks ? r->ranks : 1);
    json_write_number(f, r->comm_wait_s, 6);
    if (!a->no_eval) {
        const metric_set *last = &fd->devset.last;
        fprintf(f, ",\"dev_examples\":%zu,\"dev_metric\":\"%s\",\"best_dev\":",
                fd->dev.n, last->n ? last->v[last->main].name : "");
        json_write_number(f, r->best_dev, 6);
        fprintf(f, ",\"best_step\":%lld,\"last_dev\":", (long long)r->best_step);
        json_write_number(f, r->last_dev, 6);
    }
    fputs("}\n", f);
}

static void ft_print_text(FILE *f, const ft_args *a, const ft_data *fd,
                          const train_result *r, bool new_head)
{
    fprintf(f, "model       %s -> %s\n", a->model, a->output);
    fprintf(f, "task        %s, %zu train examples (%zu truncated to %lld tokens)%s\n",
            a->task->name, fd->tr.n, fd->tr.n_truncated, (long long)a->seq,
            new_head ? ", fresh head" : "");
    fprintf(f, "steps       %lld (batch %lld, lr %g%s)\n", (long long)r->steps,
            (long long)a->batch, (double)a->o.lr,
            r->start_step ? ", resumed" : "");
    fprintf(f, "final loss  %.4f\n", (double)r->last_loss);
    fprintf(f, "throughput  %.0f tokens/s (%.1f s training)\n", r->tokens_per_s,
            r->seconds);
    if (!a->no_eval) {
        const metric_set *last = &fd->devset.last;
        fprintf(f, "dev %-8s best %.4f at step %lld, last %.4f (%zu examples)\n",
                last->n ? last->v[last->main].name : "metric", r->best_dev,
                (long long)r->best_step, r->last_dev, fd->dev.n);
    }
}

int cmd_finetune(int argc, char **argv, ir_dist *dc)
{
    ft_args a;
    int rc = ft_args_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    /* data parallel: every rank trains its share, rank 0 alone reports and
     * writes (distill/trainer.h) */
    a.o.dist = dc;
    if (ir_dist_rank(dc) != 0)
        a.pm = PROGRESS_OFF;
    if (a.threads)
        omp_set_num_threads((int)a.threads);

    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *tok = NULL;
    ir_encoder *enc = NULL;
    train_params *p = NULL;
    gemm_ctx *gemm = NULL;
    ft_data fd = {0};
    train_result r = {0};
    bool new_head = false, types = true;
    double t_start = ir_clock_wall_s();
    if ((rc = evalcmd_load_tokenizer("finetune", a.vocab, a.tokjson, a.model,
                                     &tok)) != 0)
        goto done;
    if (ft_model(&a, &enc, &new_head, &types, &d) != IR_OK)
        goto fail;
    if (teacher_check_tokenizer(&enc->cfg, tok, &d) != IR_OK) {
        cli_error("finetune: model '%s': %s", a.model, d.msg);
        rc = 2;
        goto done;
    }
    if (a.seq > ir_encoder_max_seq(&enc->cfg)) {
        cli_error("finetune: --max-seq %lld exceeds the %lld tokens the model's "
                  "positions serve", (long long)a.seq,
                  (long long)ir_encoder_max_seq(&enc->cfg));
        rc = 2;
        goto done;
    }
    if (train_params_from_encoder(enc, &p, &d) != IR_OK ||
        ft_gemm(&a, p, &gemm, &d) != IR_OK ||
        ft_data_load(&a, tok, &enc->cfg, types, &fd, &d) != IR_OK)
        goto fail;
    ft_progress fp;
    ft_loop_options(&a, &fd, &fp);
    ir_status s = train_loop_run(p, &fd.tr, &a.o, train_loss_finetune, NULL, &r, &d);
    if (fp.drawn)
        fputc('\n', stderr);
    if (s != IR_OK)
        goto fail;
    bool stopped = a.stop_after && r.steps == a.stop_after && r.steps < r.total_steps;
    if (stopped && ir_dist_rank(dc) == 0)
        fprintf(stderr, "distilc: finetune: stopped after step %lld of %lld as asked; "
                "continue with --resume --ckpt-dir %s\n", (long long)r.steps,
                (long long)r.total_steps, a.ckdir);
    else if (!stopped && ir_dist_rank(dc) == 0 &&
             (ft_set_labels(&a, enc, &d) != IR_OK ||
              model_save(p, enc, types, a.output, &d) != IR_OK))
        goto fail;
    double secs = ir_clock_wall_s() - t_start;
    if (a.json)
        ft_print_json(stdout, &a, &fd, &r, new_head, stopped, secs);
    else
        ft_print_text(stdout, &a, &fd, &r, new_head);
    rc = 0;
    goto done;
fail:
    rc = cli_fail(&d);
done:
    train_result_free(&r);
    ft_data_free(&fd);
    train_params_free(p);
    gemm_ctx_free(gemm);
    ir_encoder_free(enc);
    tok_free(tok);
    user_task_free(a.owned);
    return rc;
}

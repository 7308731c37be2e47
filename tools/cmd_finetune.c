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
#include "distill/trainer.h"
#include "frontend/glue.h"
#include "frontend/onnx.h"
#include "frontend/recipe.h"
#include "frontend/tokenizer.h"
#include "ir/clock.h"
#include "ir/encoder.h"
#include "passes/encoder_from_onnx.h"
#include "tools/cli.h"
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
            "                        [--threads N] [--gemm onednn]\n"
            "                        [--gemm-precision fp32|bf16] [--json]\n"
            "                        [--progress MODE] [--recipe FILE]\n"
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
            "                    dev.tsv inside)\n"
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
            "                    atomically at evaluations and at the end\n"
            "  --ckpt-every N    also every N steps\n"
            "  --resume          continue from D/last.ckpt (same options and\n"
            "                    --threads: then the result is bit-identical)\n"
            "  --stop-after N    stop after step N as a kill would (last.ckpt\n"
            "                    written, no model): time-sliced training\n"
            "  --plot F.svg      loss and dev-metric curves\n"
            "  --limit N         first N training examples only\n"
            "  --dev-limit N     first N dev examples only\n"
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
            "\n"
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

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
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
        json_num(stderr, s->loss.total);
        fputs(",\"lr\":", stderr);
        json_num(stderr, s->lr);
        fputs(",\"tokens_per_s\":", stderr);
        json_num(stderr, s->tokens_per_s);
        fputs(",\"eta_s\":", stderr);
        json_num(stderr, s->eta_s);
    }
    if (s->event == TRAIN_EVENT_EVAL) {
        fputs(",\"dev\":", stderr);
        json_num(stderr, s->dev);
        fputs(",\"best_dev\":", stderr);
        json_num(stderr, s->best_dev);
    }
    fputs("}\n", stderr);
    fflush(stderr);
}

/* ---- model in and out ---------------------------------------------------- */

/* MODEL.onnx -> passes -> encoder. */
static ir_status model_lift(const char *path, ir_encoder **out, ir_diag *d)
{
    ir_status s = encoder_from_onnx(path, NULL, out, d);
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

static ir_status model_save(const train_params *p, ir_encoder *e, const char *path,
                            ir_diag *d)
{
    ir_status s = train_params_to_encoder(p, e, d);
    ir_graph *g = NULL;
    if (s == IR_OK) {
        ir_encoder_graph_opts go;
        ir_encoder_graph_opts_default(&go);
        s = ir_encoder_to_graph(e, &go, &g, d);
    }
    if (s == IR_OK)
        s = onnx_save_file(g, path, NULL, d);
    ir_graph_free(g);
    return s;
}

/* ---- options ------------------------------------------------------------ */

static bool parse_float(const char *opt, const char *text, double lo, double hi,
                        float *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= lo && v <= hi)) {
        cli_error("finetune: --%s '%s': expected a number in [%g, %g], see "
                  "'distilc finetune --help'", opt, text, lo, hi);
        return false;
    }
    *out = (float)v;
    return true;
}

static bool parse_count(const char *opt, const char *text, int64_t *out)
{
    return !text || cli_parse_positive("finetune", opt, text, out);
}

int cmd_finetune(int argc, char **argv)
{
    const char *task_name = NULL, *data = NULL, *output = NULL, *vocab = NULL;
    const char *tokjson = NULL, *epochs_s = NULL, *steps_s = NULL, *batch_s = NULL;
    const char *seq_s = NULL, *lr_s = NULL, *warm_s = NULL, *wd_s = NULL;
    const char *clip_s = NULL, *seed_s = NULL, *evev_s = NULL, *ckdir = NULL;
    const char *ckev_s = NULL, *plot = NULL, *limit_s = NULL, *dlimit_s = NULL;
    const char *threads_s = NULL, *gemm_s = NULL, *prog_s = NULL, *stop_s = NULL;
    const char *recipe_s = NULL, *gprec_s = NULL;
    bool resume = false, no_eval = false, json = false;
    cli_option opts[] = {
        {"task", 0, CLI_VALUE, &task_name}, {"data", 0, CLI_VALUE, &data},
        {"output", 'o', CLI_VALUE, &output}, {"vocab", 0, CLI_VALUE, &vocab},
        {"tokenizer", 0, CLI_VALUE, &tokjson}, {"epochs", 0, CLI_VALUE, &epochs_s},
        {"steps", 0, CLI_VALUE, &steps_s}, {"batch", 0, CLI_VALUE, &batch_s},
        {"max-seq", 0, CLI_VALUE, &seq_s}, {"lr", 0, CLI_VALUE, &lr_s},
        {"warmup", 0, CLI_VALUE, &warm_s}, {"weight-decay", 0, CLI_VALUE, &wd_s},
        {"grad-clip", 0, CLI_VALUE, &clip_s}, {"seed", 0, CLI_VALUE, &seed_s},
        {"eval-every", 0, CLI_VALUE, &evev_s}, {"no-eval", 0, CLI_FLAG, &no_eval},
        {"ckpt-dir", 0, CLI_VALUE, &ckdir}, {"ckpt-every", 0, CLI_VALUE, &ckev_s},
        {"resume", 0, CLI_FLAG, &resume}, {"plot", 0, CLI_VALUE, &plot},
        {"limit", 0, CLI_VALUE, &limit_s}, {"dev-limit", 0, CLI_VALUE, &dlimit_s},
        {"threads", 0, CLI_VALUE, &threads_s}, {"gemm", 0, CLI_VALUE, &gemm_s},
        {"json", 0, CLI_FLAG, &json}, {"progress", 0, CLI_VALUE, &prog_s},
        {"stop-after", 0, CLI_VALUE, &stop_s},
        {"recipe", 0, CLI_VALUE, &recipe_s},
        {"gemm-precision", 0, CLI_VALUE, &gprec_s},
        {NULL, 0, 0, NULL},
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
    /* A recipe's task, data, vocab and prediction-stage settings (the
     * fine-tuning stage: hard labels) are the defaults; options override. */
    recipe rcp;
    bool have_recipe = false;
    if (recipe_s) {
        ir_diag rd;
        ir_diag_init(&rd);
        recipe_default(&rcp);
        if (recipe_load_file(recipe_s, &rcp, &rd) != IR_OK) {
            ir_diag_prefix(&rd, "finetune: --recipe");
            return cli_fail(&rd);
        }
        have_recipe = true;
        if (!task_name && rcp.task[0])
            task_name = rcp.task;
        if (!data && rcp.data[0])
            data = rcp.data;
        if (!vocab && rcp.vocab[0])
            vocab = rcp.vocab;
    }
    if (npos != 1 || !task_name || !data || !output) {
        cli_error("finetune: need MODEL.onnx, --task, --data and -o, see "
                  "'distilc finetune --help'");
        return 2;
    }
    const glue_task *task = glue_task_lookup(task_name);
    if (!task) {
        cli_error("finetune: --task '%s' is not a GLUE task (%s)", task_name,
                  glue_task_names());
        return 2;
    }
    train_loop_options o;
    train_loop_options_default(&o);
    o.lr = 2e-5f;
    o.what = "finetune";
    int64_t epochs = 3, steps = 0, batch = 32, seq = 128, seed = 42, evev = 0;
    int64_t ckev = 0, limit = 0, dlimit = 0, threads = 0, stop_after = 0;
    if (have_recipe) {
        const recipe_stage *st = &rcp.prediction;
        epochs = st->epochs;
        steps = st->steps;
        batch = st->batch;
        seq = st->max_seq;
        seed = (int64_t)st->seed;
        evev = st->eval_every;
        ckev = st->ckpt_every;
        o.lr = st->lr;
        o.warmup = st->warmup;
        o.weight_decay = st->weight_decay;
    }
    if (!parse_count("epochs", epochs_s, &epochs) || !parse_count("steps", steps_s, &steps) ||
        !parse_count("batch", batch_s, &batch) || !parse_count("max-seq", seq_s, &seq) ||
        !parse_count("eval-every", evev_s, &evev) ||
        !parse_count("ckpt-every", ckev_s, &ckev) || !parse_count("limit", limit_s, &limit) ||
        !parse_count("dev-limit", dlimit_s, &dlimit) ||
        !parse_count("threads", threads_s, &threads) ||
        !parse_count("stop-after", stop_s, &stop_after))
        return 2;
    if (seed_s) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(seed_s, &end, 10);
        if (errno || end == seed_s || *end || seed_s[0] == '-') {
            cli_error("finetune: --seed '%s': expected a non-negative integer", seed_s);
            return 2;
        }
        seed = (int64_t)v;
    }
    if ((lr_s && !parse_float("lr", lr_s, 1e-12, 1.0, &o.lr)) ||
        (warm_s && !parse_float("warmup", warm_s, 0.0, 0.999, &o.warmup)) ||
        (wd_s && !parse_float("weight-decay", wd_s, 0.0, 10.0, &o.weight_decay)) ||
        (clip_s && !parse_float("grad-clip", clip_s, 0.0, 1e9, &o.grad_clip)))
        return 2;
    if (epochs_s && steps_s) {
        cli_error("finetune: give --epochs or --steps, not both");
        return 2;
    }
    if (epochs_s)
        steps = 0; /* --epochs overrides a recipe's steps */
    if (seq < 8 || seq > 4096) {
        cli_error("finetune: --max-seq %lld: expected 8..4096", (long long)seq);
        return 2;
    }
    if (stop_s && !ckdir) {
        cli_error("finetune: --stop-after needs --ckpt-dir (to resume from)");
        return 2;
    }
    if (resume && !ckdir) {
        cli_error("finetune: --resume needs --ckpt-dir (where last.ckpt is)");
        return 2;
    }
    if (no_eval && evev_s) {
        cli_error("finetune: --no-eval and --eval-every contradict each other");
        return 2;
    }
    gemm_impl gi = gemm_impl_for_cpu();
    bool gemm_ref = false;
    if (gemm_s) {
        if (strcmp(gemm_s, "onednn") == 0) gi = GEMM_ONEDNN;
        else if (strcmp(gemm_s, "openblas") == 0) gi = GEMM_BLAS;
        else if (strcmp(gemm_s, "auto") == 0) gi = GEMM_AUTO;
        else if (strcmp(gemm_s, "ref") == 0) gemm_ref = true;
        else {
            cli_error("finetune: --gemm '%s': expected onednn, openblas, auto or ref",
                      gemm_s);
            return 2;
        }
    }
    gemm_precision gprec = GEMM_FP32;
    if (gprec_s && !gemm_precision_parse(gprec_s, &gprec)) {
        cli_error("finetune: --gemm-precision '%s': expected fp32 or bf16", gprec_s);
        return 2;
    }
    if (gprec != GEMM_FP32 && gemm_ref) {
        cli_error("finetune: --gemm-precision %s needs a GEMM library, not --gemm ref",
                  gprec_s);
        return 2;
    }
    progress_mode pm = PROGRESS_AUTO;
    if (prog_s && !progress_mode_parse(prog_s, &pm)) {
        cli_error("finetune: --progress '%s': expected auto, bar, json or off", prog_s);
        return 2;
    }
    const char *model_path = pos[0];
    if (!cli_check_input_file("finetune", "model", model_path))
        return 2;
    if ((rc = evalcmd_check_path("finetune", "--data", data)) != 0)
        return rc;
    if (threads)
        omp_set_num_threads((int)threads);

    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *tok = NULL;
    ir_encoder *enc = NULL, *fresh = NULL;
    train_params *p = NULL;
    gemm_ctx *gemm = NULL;
    glue_dataset tr_ds = {0}, dev_ds = {0};
    train_data tr = {0}, dev = {0};
    train_result r = {0};
    ir_status s = IR_OK;
    double t_start = ir_clock_wall_s();
    if ((rc = evalcmd_load_tokenizer("finetune", vocab, tokjson, model_path, &tok)) != 0)
        goto done;
    s = model_lift(model_path, &enc, &d);
    if (s != IR_OK)
        goto fail;
    /* the head the task needs */
    int64_t want_labels = task->is_regression ? 1 : task->n_labels;
    ir_enc_head want_head = task->is_regression ? IR_ENC_HEAD_REGRESSION
                                                : IR_ENC_HEAD_CLASSIFICATION;
    bool new_head = enc->cfg.labels != want_labels;
    if (new_head) {
        fprintf(stderr, "distilc: finetune: the model's head has %lld outputs, %s "
                "needs %lld: training a fresh head (seed %lld)\n",
                (long long)enc->cfg.labels, task->name, (long long)want_labels,
                (long long)seed);
        s = head_fresh(enc, want_labels, want_head, (uint64_t)seed, &fresh, &d);
        if (s != IR_OK)
            goto fail;
        ir_encoder_free(enc);
        enc = fresh;
        fresh = NULL;
    }
    enc->cfg.head = want_head;
    if (seq > enc->cfg.max_positions) {
        cli_error("finetune: --max-seq %lld exceeds the model's %lld positions",
                  (long long)seq, (long long)enc->cfg.max_positions);
        rc = 2;
        goto done;
    }
    s = train_params_from_encoder(enc, &p, &d);
    if (s != IR_OK)
        goto fail;
    if (!gemm_ref) {
        s = gemm_ctx_create(gi, &gemm, &d);
        if (s != IR_OK)
            goto fail;
        p->gemm = gemm;
        if (gprec != GEMM_FP32) {
            s = gemm_ctx_set_precision(gemm, gprec, &d);
            if (s != IR_OK) {
                ir_diag_prefix(&d, "finetune: --gemm-precision %s", gprec_s);
                goto fail;
            }
        }
    }
    /* data */
    glue_load_opts lo = {.skip_bad_lines = false, .limit = (size_t)limit};
    s = glue_load(task, data, GLUE_SPLIT_TRAIN, &lo, &tr_ds, &d);
    if (s == IR_OK)
        s = train_data_from_glue(&tr_ds, tok, (size_t)seq, &tr, &d);
    if (s != IR_OK)
        goto fail;
    train_dev_set devset = {.data = &dev, .kind = task->metric, .batch = 64};
    if (!no_eval) {
        glue_load_opts dl = {.skip_bad_lines = false, .limit = (size_t)dlimit};
        s = glue_load(task, data, GLUE_SPLIT_DEV, &dl, &dev_ds, &d);
        if (s == IR_OK)
            s = train_data_from_glue(&dev_ds, tok, (size_t)seq, &dev, &d);
        if (s != IR_OK)
            goto fail;
        o.eval = train_dev_eval;
        o.eval_user = &devset;
        o.eval_every = evev;
    }
    o.batch = (size_t)batch;
    o.epochs = epochs;
    o.steps = steps;
    o.seed = (uint64_t)seed;
    o.ckpt_dir = ckdir;
    o.ckpt_every = ckev;
    o.resume = resume;
    o.gemm_precision = gemm_precision_name(gprec); /* checked on --resume */
    o.plot_path = plot;
    o.stop_at = stop_after;
    o.metric_name = metric_kind_name(task->metric);
    progress pr;
    progress_init(&pr, stderr, "finetune", 1, pm); /* resolves AUTO */
    ft_progress fp = {.mode = pr.mode};
    o.progress = ft_progress_cb;
    o.progress_user = &fp;
    s = train_loop_run(p, &tr, &o, train_loss_finetune, NULL, &r, &d);
    if (fp.drawn)
        fputc('\n', stderr);
    if (s != IR_OK)
        goto fail;
    bool stopped = stop_after && r.steps == stop_after && r.steps < r.total_steps;
    if (stopped) {
        fprintf(stderr, "distilc: finetune: stopped after step %lld of %lld as asked; "
                "continue with --resume --ckpt-dir %s\n", (long long)r.steps,
                (long long)r.total_steps, ckdir);
    } else {
        s = model_save(p, enc, output, &d);
        if (s != IR_OK)
            goto fail;
    }
    /* report */
    FILE *f = stdout;
    double secs = ir_clock_wall_s() - t_start;
    if (json) {
        fputs("{\"model\":", f);
        cli_json_string(f, model_path);
        fputs(",\"output\":", f);
        cli_json_string(f, output);
        fprintf(f, ",\"task\":\"%s\",\"train_examples\":%zu,\"truncated\":%zu,"
                "\"fresh_head\":%s,\"steps\":%lld,\"resumed_from\":%lld,"
                "\"batch\":%lld,\"max_seq\":%lld,\"lr\":%g,\"seed\":%lld,"
                "\"gemm\":\"%s\",\"gemm_precision\":\"%s\",\"stopped\":%s,"
                "\"final_loss\":", task->name, tr.n, tr.n_truncated,
                new_head ? "true" : "false", (long long)r.steps,
                (long long)r.start_step, (long long)batch, (long long)seq,
                (double)o.lr, (long long)seed, gemm_ref ? "ref" : gemm_impl_name(gi),
                gemm_precision_name(gprec),
                stopped ? "true" : "false");
        json_num(f, r.last_loss);
        fputs(",\"tokens_per_s\":", f);
        json_num(f, r.tokens_per_s);
        fputs(",\"steady_tokens_per_s\":", f);
        json_num(f, r.steady_tokens_per_s);
        fputs(",\"train_seconds\":", f);
        json_num(f, r.seconds);
        fputs(",\"seconds\":", f);
        json_num(f, secs);
        if (!no_eval) {
            fprintf(f, ",\"dev_examples\":%zu,\"dev_metric\":\"%s\",\"best_dev\":",
                    dev.n, devset.last.n ? devset.last.v[devset.last.main].name : "");
            json_num(f, r.best_dev);
            fprintf(f, ",\"best_step\":%lld,\"last_dev\":", (long long)r.best_step);
            json_num(f, r.last_dev);
        }
        fputs("}\n", f);
    } else {
        fprintf(f, "model       %s -> %s\n", model_path, output);
        fprintf(f, "task        %s, %zu train examples (%zu truncated to %lld tokens)%s\n",
                task->name, tr.n, tr.n_truncated, (long long)seq,
                new_head ? ", fresh head" : "");
        fprintf(f, "steps       %lld (batch %lld, lr %g%s)\n", (long long)r.steps,
                (long long)batch, (double)o.lr,
                r.start_step ? ", resumed" : "");
        fprintf(f, "final loss  %.4f\n", (double)r.last_loss);
        fprintf(f, "throughput  %.0f tokens/s (%.1f s training)\n", r.tokens_per_s,
                r.seconds);
        if (!no_eval)
            fprintf(f, "dev %-8s best %.4f at step %lld, last %.4f (%zu examples)\n",
                    devset.last.n ? devset.last.v[devset.last.main].name : "metric",
                    r.best_dev, (long long)r.best_step, r.last_dev, dev.n);
    }
    rc = 0;
    goto done;
fail:
    rc = cli_fail(&d);
done:
    train_result_free(&r);
    train_data_free(&tr);
    train_data_free(&dev);
    glue_dataset_free(&tr_ds);
    glue_dataset_free(&dev_ds);
    train_params_free(p);
    gemm_ctx_free(gemm);
    ir_encoder_free(enc);
    ir_encoder_free(fresh);
    tok_free(tok);
    return rc;
}

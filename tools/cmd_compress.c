/* cmd_compress.c — `distilc compress TEACHER.onnx --task T --data DIR
 * --vocab V -o OUT`: the one-command pipeline (pipeline/compress.h) —
 * lift, supernet, search, distill, build, eval, report — with progress on stderr and
 * the summary table on stdout. This file only parses options, draws
 * progress (tools/progress.h) and prints; the stages are library code. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/compress.h"
#include "pipeline/report.h"
#include "tools/cli.h"
#include "tools/cmds.h"
#include "tools/progress.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc compress TEACHER.onnx --task T --data DIR --vocab V -o OUT\n"
            "         [--latency-ms X | --speedup S | --params N]\n"
            "         [--share none|all|groups:K]\n"
            "         [--corpus FILE] [--budget-minutes M] [--space FILE]\n"
            "         [--seq S] [--batch B] [--threads T] [--precision P]\n"
            "         [--limit N] [--dev-limit N] [--from STAGE] [--cache PATH]\n"
            "         [--fitness supernet|proxy] [--steps N] [--supernet-steps N]\n"
            "         [--clock wall|cpu] [--train-threads N] [--progress MODE]\n"
            "         [--augment N] [--augment-prob P] [--augment-neighbours K]\n"
            "\n"
            "Makes a fine-tuned BERT-style teacher small and fast in one run:\n"
            "  lift     the teacher's dev metrics and latency (oneDNN runtime)\n"
            "  supernet a weight-sharing supernet made from the teacher, trained\n"
            "           by layer-wise distillation over the search space\n"
            "  search   a student shape under the constraints (evolution over\n"
            "           the space; accuracy estimated by the supernet on held-out\n"
            "           training examples, latency from the latency model)\n"
            "  distill  TinyBERT distillation (general on --corpus first, then\n"
            "           task-specific) -> OUT/student.onnx\n"
            "  build    the standalone program OUT/bin/model\n"
            "  eval     the student's dev metrics and latency\n"
            "  report   OUT/report.json, OUT/report.svg and the table below\n"
            "Every stage records itself in OUT/state.json with a fingerprint of\n"
            "its inputs; a rerun skips the stages that are up to date.\n"
            "\n"
            "  --task T            CoLA, SST-2, MRPC, STS-B, ... (or sst2, ...)\n"
            "  --data DIR          a GLUE root or the task's folder\n"
            "  --vocab V           the teacher's vocab.txt\n"
            "  -o, --output OUT    the output folder (created)\n"
            "  --latency-ms X      latency limit at the setting below\n"
            "  --speedup S         latency limit = the teacher's latency (as lift\n"
            "                      measures it, same setting and clock) / S\n"
            "  --params N          parameter limit\n"
            "  --share S           fix the sharing scheme: none, all, groups:K,\n"
            "                      attention, ffn (default: searched)\n"
            "  --corpus FILE       general-distillation text, one example a line\n"
            "  --budget-minutes M  bounds supernet training, search and\n"
            "                      distillation together (30%% / 10%% / 60%%);\n"
            "                      without it: one pass for the supernet and\n"
            "                      the default epochs for distillation\n"
            "  --fitness F         supernet (default) or proxy: rank shapes by\n"
            "                      size, with no supernet (quicker, blinder)\n"
            "  --steps N           steps per distillation stage, --supernet-steps N\n"
            "                      the supernet's: fixed work, whatever the budget\n"
            "                      (the same student on a busy or a quiet machine)\n"
            "  --clock C           wall (default) or cpu: time on the thread's CPU\n"
            "                      clock (with --threads 1), unmoved by other jobs\n"
            "  --train-threads N   threads for training the supernet and the\n"
            "                      student (default: all cores; --threads is the\n"
            "                      latency setting only)\n"
            "  --space FILE        search space (default: the built-in\n"
            "                      search/spaces/default.xml)\n"
            "  --seq S --batch B --threads T --precision fp32|bf16|int8\n"
            "                      the setting latency is predicted and measured\n"
            "                      at (default: the space's)\n"
            "  --augment N         TinyBERT data augmentation in the distill stage:\n"
            "                      the task stages train on the train split plus N\n"
            "                      copies of each example with words replaced by\n"
            "                      neighbours in the teacher's word embeddings\n"
            "                      (0 = off; see distilc distill --help); the step\n"
            "                      counts stay those of the budget, --steps or the\n"
            "                      unaugmented default\n"
            "  --augment-prob P    replacement probability per word (0.4)\n"
            "  --augment-neighbours K  candidates per word (15)\n"
            "  --limit N           first N training examples (and corpus lines)\n"
            "  --dev-limit N       first N dev examples\n"
            "  --from STAGE        redo from this stage (lift, supernet, search,\n"
            "                      distill, build, eval, report)\n"
            "  --cache PATH        latency cache (default: per machine)\n"
            "  --progress MODE     auto, bar, json or off\n"
            "  --help              this text\n"
            "\n"
            "ONNX Runtime latencies: python3 bench/compress_report_ort.py OUT\n"
            "fills them into OUT/report.json afterwards.\n"
            "Exit status: 0 ok, 1 failure, 2 bad input or usage.\n");
}

typedef struct ui {
    progress_mode mode;
    progress bar;
    bool open;
    char label[64];
} ui;

static void ui_close(ui *u)
{
    if (u->open)
        progress_finish(&u->bar);
    u->open = false;
}

static void ui_stage_begin(void *user, compress_stage s, bool skipped,
                           const char *why)
{
    ui *u = user;
    ui_close(u);
    if (u->mode == PROGRESS_OFF)
        return;
    if (u->mode == PROGRESS_JSON)
        fprintf(stderr, "{\"event\":\"stage\",\"stage\":\"%s\",\"skipped\":%s,"
                "\"why\":\"%s\"}\n", compress_stage_name(s),
                skipped ? "true" : "false", why);
    else
        fprintf(stderr, "%s %s (%s)\n", skipped ? "skip " : "stage",
                compress_stage_name(s), why);
}

static void ui_stage_end(void *user, compress_stage s, double seconds)
{
    ui *u = user;
    ui_close(u);
    if (u->mode == PROGRESS_JSON)
        fprintf(stderr, "{\"event\":\"stage_done\",\"stage\":\"%s\",\"seconds\":%.3f}\n",
                compress_stage_name(s), seconds);
    else if (u->mode == PROGRESS_BAR)
        fprintf(stderr, "      %s done in %.1f s\n", compress_stage_name(s), seconds);
}

static void ui_work(void *user, const char *label, size_t done, size_t total)
{
    ui *u = user;
    if (u->mode == PROGRESS_OFF)
        return;
    if (!u->open || strcmp(u->label, label) != 0) {
        ui_close(u);
        snprintf(u->label, sizeof u->label, "%s", label);
        progress_init(&u->bar, stderr, label, total, u->mode);
        u->open = true;
    }
    u->bar.total = total;
    progress_update(&u->bar, done);
    if (done >= total)
        ui_close(u);
}

static void ui_note(void *user, const char *text)
{
    ui *u = user;
    if (u->mode == PROGRESS_OFF)
        return;
    ui_close(u);
    if (u->mode == PROGRESS_JSON) {
        fputs("{\"event\":\"note\",\"text\":", stderr);
        cli_json_string(stderr, text);
        fputs("}\n", stderr);
    } else
        fprintf(stderr, "      %s\n", text);
}

/* A number for an option the library range-checks (naming it). */
static bool parse_number(const char *opt, const char *text, bool integer,
                         double *out)
{
    char *end;
    errno = 0;
    double v = integer ? (double)strtoll(text, &end, 10) : strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || (integer && v < 0)) {
        cli_error("compress: option --%s expects %s, got '%s'", opt,
                  integer ? "a non-negative integer" : "a number", text);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_pos_double(const char *opt, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0) || !isfinite(v)) {
        cli_error("compress: option --%s expects a positive number, got '%s'", opt,
                  text);
        return false;
    }
    *out = v;
    return true;
}

int cmd_compress(int argc, char **argv)
{
    const char *task = NULL, *data = NULL, *vocab = NULL, *out = NULL, *lat = NULL,
               *params = NULL, *share = NULL, *corpus = NULL, *budget = NULL,
               *space = NULL, *seq = NULL, *batch = NULL, *threads = NULL,
               *prec = NULL, *limit = NULL, *dlimit = NULL, *from = NULL,
               *cache = NULL, *prog = NULL, *fitness = NULL, *steps = NULL,
               *sn_steps = NULL, *clock = NULL, *tthreads = NULL, *speedup = NULL;
    const char *aug = NULL, *aug_prob = NULL, *aug_nb = NULL;
    cli_option opts[] = {
        {"task", 0, CLI_VALUE, &task}, {"data", 0, CLI_VALUE, &data},
        {"vocab", 0, CLI_VALUE, &vocab}, {"output", 'o', CLI_VALUE, &out},
        {"latency-ms", 0, CLI_VALUE, &lat}, {"params", 0, CLI_VALUE, &params},
        {"share", 0, CLI_VALUE, &share}, {"corpus", 0, CLI_VALUE, &corpus},
        {"budget-minutes", 0, CLI_VALUE, &budget}, {"space", 0, CLI_VALUE, &space},
        {"seq", 0, CLI_VALUE, &seq}, {"batch", 0, CLI_VALUE, &batch},
        {"threads", 0, CLI_VALUE, &threads}, {"precision", 0, CLI_VALUE, &prec},
        {"limit", 0, CLI_VALUE, &limit}, {"dev-limit", 0, CLI_VALUE, &dlimit},
        {"from", 0, CLI_VALUE, &from}, {"cache", 0, CLI_VALUE, &cache},
        {"progress", 0, CLI_VALUE, &prog}, {"fitness", 0, CLI_VALUE, &fitness},
        {"steps", 0, CLI_VALUE, &steps}, {"supernet-steps", 0, CLI_VALUE, &sn_steps},
        {"clock", 0, CLI_VALUE, &clock}, {"speedup", 0, CLI_VALUE, &speedup}, {"train-threads", 0, CLI_VALUE, &tthreads},
        {"augment", 0, CLI_VALUE, &aug}, {"augment-prob", 0, CLI_VALUE, &aug_prob},
        {"augment-neighbours", 0, CLI_VALUE, &aug_nb},
        {NULL, 0, 0, NULL},
    };
    const char *pos[1];
    int npos = 0;
    int rc = cli_parse("compress", argc, argv, opts, pos, 1, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    if (npos != 1 || !task || !data || !vocab || !out) {
        cli_error("compress: need TEACHER.onnx, --task, --data, --vocab and -o OUT, "
                  "see 'distilc compress --help'");
        return 2;
    }
    compress_options o;
    compress_options_default(&o);
    o.teacher = pos[0];
    o.task = task;
    o.data = data;
    o.vocab = vocab;
    o.out = out;
    o.space = space;
    o.corpus = corpus;
    o.share = share;
    o.precision = prec;
    o.latency_cache = cache;
    if ((lat != NULL) + (params != NULL) + (speedup != NULL) > 1) {
        cli_error("compress: give one of --latency-ms, --speedup and --params");
        return 2;
    }
    if ((lat && !parse_pos_double("latency-ms", lat, &o.latency_ms)) ||
        (speedup && !parse_pos_double("speedup", speedup, &o.speedup)) ||
        (budget && !parse_pos_double("budget-minutes", budget, &o.budget_minutes)) ||
        (params && !cli_parse_positive("compress", "params", params, &o.max_params)) ||
        (seq && !cli_parse_positive("compress", "seq", seq, &o.seq)) ||
        (batch && !cli_parse_positive("compress", "batch", batch, &o.batch)) ||
        (threads && !cli_parse_positive("compress", "threads", threads, &o.threads)) ||
        (limit && !cli_parse_positive("compress", "limit", limit, &o.limit)) ||
        (dlimit && !cli_parse_positive("compress", "dev-limit", dlimit, &o.dev_limit)) ||
        (steps && !cli_parse_positive("compress", "steps", steps, &o.distill_steps)) ||
        (tthreads &&
         !cli_parse_positive("compress", "train-threads", tthreads, &o.train_threads)) ||
        (sn_steps &&
         !cli_parse_positive("compress", "supernet-steps", sn_steps, &o.supernet_steps)))
        return 2;
    double av;
    if (aug) {
        if (!parse_number("augment", aug, true, &av))
            return 2;
        o.augment = (int64_t)av;
    }
    if (aug_prob && !parse_number("augment-prob", aug_prob, false, &o.augment_prob))
        return 2;
    if (aug_nb) {
        if (!parse_number("augment-neighbours", aug_nb, true, &av))
            return 2;
        o.augment_neighbours = (int64_t)av;
    }
    if (clock) {
        if (strcmp(clock, "wall") != 0 && strcmp(clock, "cpu") != 0) {
            cli_error("compress: option --clock '%s': expected wall or cpu", clock);
            return 2;
        }
        o.cpu_clock = strcmp(clock, "cpu") == 0;
    }
    if (o.threads > 1024) {
        cli_error("compress: option --threads: at most 1024");
        return 2;
    }
    if (fitness) {
        if (strcmp(fitness, "proxy") != 0 && strcmp(fitness, "supernet") != 0) {
            cli_error("compress: option --fitness '%s': expected supernet or proxy",
                      fitness);
            return 2;
        }
        o.proxy_fitness = strcmp(fitness, "proxy") == 0;
    }
    if (from) {
        compress_stage st;
        if (!compress_stage_parse(from, &st)) {
            cli_error("compress: option --from '%s': expected lift, supernet, search, "
                      "distill, build, eval or report", from);
            return 2;
        }
        o.from = (int)st;
    }
    ui u = {.mode = PROGRESS_AUTO};
    if (prog && !progress_mode_parse(prog, &u.mode)) {
        cli_error("compress: option --progress '%s': expected auto, bar, json or off",
                  prog);
        return 2;
    }
    if (u.mode == PROGRESS_AUTO) {
        progress probe;
        progress_init(&probe, stderr, "", 1, PROGRESS_AUTO); /* resolves AUTO */
        u.mode = probe.mode;
    }
    if (!cli_check_input_file("compress", "teacher", o.teacher) ||
        !cli_check_input_file("compress", "--vocab", o.vocab) ||
        (space && !cli_check_input_file("compress", "--space", space)) ||
        (corpus && !cli_check_input_file("compress", "--corpus", corpus)))
        return 2;
    /* the command line, for the emitted program's header comment */
    char cmdline[2048];
    size_t k = (size_t)snprintf(cmdline, sizeof cmdline, "distilc");
    for (int i = 0; i < argc && k < sizeof cmdline; i++)
        k += (size_t)snprintf(cmdline + k, sizeof cmdline - k, " %s", argv[i]);
    o.command = cmdline;
    if (o.threads)
        omp_set_num_threads((int)o.threads);

    compress_hooks h = {.user = &u, .stage_begin = ui_stage_begin,
                        .stage_end = ui_stage_end, .work = ui_work, .note = ui_note};
    compress_state *st = malloc(sizeof *st);
    if (!st) {
        cli_error("compress: out of memory");
        return 1;
    }
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = compress_run(&o, compress_stages_default(), &h, st, &d);
    ui_close(&u);
    if (s != IR_OK) {
        ir_diag_prefix(&d, "compress");
        rc = cli_fail(&d);
    } else {
        compress_report_table(stdout, &o, st);
        rc = 0;
    }
    free(st);
    return rc;
}

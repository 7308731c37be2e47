/* cmd_compress.c — `distilc compress TEACHER.onnx --task T --data DIR
 * --vocab V|--tokenizer F -o OUT`: the one-command pipeline (pipeline/compress.h) —
 * lift, supernet, search, distill, build, eval, report — with progress on stderr and
 * the summary table on stdout. This file only parses options, draws
 * progress (tools/progress.h) and prints; the stages are library code. */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/user_data.h"
#include "frontend/recipe.h"
#include "pipeline/compress.h"
#include "pipeline/report.h"
#include "tools/cli.h"
#include "tools/cli_groups.h"
#include "tools/cmds.h"
#include "tools/progress.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc compress TEACHER.onnx --task T --data DIR\n"
            "         | TEACHER.onnx --data DIR|--train F --dev F [--text-column C]\n"
            "           [--text-pair-column C] [--label-column C] [--regression]\n"
            "           [--metric M]\n"
            "         (--vocab V | --tokenizer FILE) -o OUT\n"
            "         [--latency-ms X | --speedup S | --params N]\n"
            "         [--share none|all|groups:K]\n"
            "         [--corpus FILE] [--budget-minutes M] [--space FILE]\n"
            "         [--seq S] [--batch B] [--threads T] [--precision P]\n"
            "         [--limit N] [--dev-limit N] [--from STAGE] [--cache PATH]\n"
            "         [--fitness supernet|proxy] [--steps N] [--supernet-steps N]\n"
            "         [--clock wall|cpu] [--train-threads N] [--progress MODE]\n"
            "         [--augment N] [--augment-prob P] [--augment-neighbours K]\n"
            "         [--ckpt-every N] [--recipe FILE] [--controls]\n"
            "         [--children-per-cycle K]\n"
            "\n"
            "Makes a fine-tuned BERT-style teacher (BERT, DistilBERT, RoBERTa,\n"
            "XLM-R, ELECTRA...) small and fast in one run; the student and its\n"
            "program take the teacher's inputs (no token_type_ids when it has\n"
            "none):\n"
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
            "  control-finetune, control-kd  the controls (with --controls)\n"
            "  report   OUT/report.json, OUT/report.svg and the table below\n"
            "Every stage records itself in OUT/state.json with a fingerprint of\n"
            "its inputs and the hashes of its outputs; a rerun skips the stages\n"
            "that are up to date. A killed run is resumed by running the same\n"
            "command again: supernet and distill continue from their last\n"
            "checkpoint in OUT/ckpt/ (to the same student, bit for bit, at the\n"
            "same --train-threads), the other stages are redone.\n"
            "\n"
            "  --task T            CoLA, SST-2, MRPC, STS-B, ... (or sst2, ...)\n"
            "  --data DIR          a GLUE root or the task's folder; without\n"
            "                      --task, your own data (below)\n"
            "  --vocab V           the teacher's vocab.txt (uncased WordPiece)\n"
            "  --tokenizer FILE    or its Hugging Face tokenizer.json (WordPiece,\n"
            "                      byte-level BPE, Unigram, SentencePiece BPE)\n"
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
            "  --children-per-cycle K  the search draws K children a cycle and\n"
            "                      scores them together, split over the ranks\n"
            "                      under mpirun (default 1; the result depends\n"
            "                      on K, not on the ranks)\n"
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
            "                      distill, build, eval, control-finetune,\n"
            "                      control-kd, report)\n"
            "  --cache PATH        latency cache (default: per machine)\n"
            "  --ckpt-every N      a checkpoint every N training steps of the\n"
            "                      supernet and distill stages (100)\n"
            "  --recipe FILE       an XML recipe (frontend/recipe.xsd; the GLUE\n"
            "                      table's: distill/recipes/tinybert-glue-*.xml):\n"
            "                      the task, data and vocabulary, <supernet> steps\n"
            "                      and batch, <search population generations>, the\n"
            "                      distillation stages' steps, rates, lengths, seed\n"
            "                      and length buckets, <augment> and <controls>;\n"
            "                      options given here override it\n"
            "  --controls          also train the two controls the full method is\n"
            "                      measured against, each its own resumable stage:\n"
            "                      control-finetune (the searched shape from the\n"
            "                      same initialisation, fine-tuned on the labels\n"
            "                      without a teacher) and control-kd (prediction-\n"
            "                      loss distillation only), for as many steps as\n"
            "                      distill's task stages took, same seed; their\n"
            "                      dev metrics go into the report\n"
            "  --progress MODE     auto, bar, json or off\n"
            "  --help              this text\n"
            "\n");
    cli_user_data_usage(f);
    fprintf(f,
            "The student keeps the label names (ONNX metadata distilc.labels)\n"
            "and OUT/bin/model prints them (\"label_name\").\n"
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
    /* A test hook, DISTILC_TEST_KILL_AT=LABEL:N: the process SIGKILLs
     * itself when the work called LABEL reports N done (e.g. "search:5",
     * the fifth cycle of the evolution, after its first checkpoint). It
     * puts a kill -9 exactly where a test wants one, where a kill from
     * outside, timed by a clock, would land anywhere on a fast or busy
     * machine (tests/tools/test_kill_resume.sh). */
    char kill_label[64];
    size_t kill_at;
} ui;

/* Reads DISTILC_TEST_KILL_AT into u (ignored unless LABEL:N, N > 0). */
static void ui_kill_hook(ui *u)
{
    const char *v = getenv("DISTILC_TEST_KILL_AT");
    const char *colon = v ? strrchr(v, ':') : NULL;
    if (!colon || colon == v || (size_t)(colon - v) >= sizeof u->kill_label)
        return;
    char *end;
    unsigned long long n = strtoull(colon + 1, &end, 10);
    if (*end || n == 0)
        return;
    memcpy(u->kill_label, v, (size_t)(colon - v));
    u->kill_label[colon - v] = '\0';
    u->kill_at = (size_t)n;
}

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
    if (u->kill_at && done >= u->kill_at && strcmp(label, u->kill_label) == 0)
        raise(SIGKILL);
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

/* The typed options of compress (0 or -1: not given). */
typedef struct compress_args {
    cli_float latency_ms, speedup, budget;
    cli_int params, steps, supernet_steps, train_threads, ckpt_every;
    cli_int children;
    cli_int augment, augment_neighbours;
    cli_float augment_prob;
    cli_enum from, fitness, clock;
    cli_name stages[COMPRESS_STAGE_COUNT + 1];
} compress_args;

static void compress_args_init(compress_args *a, const compress_options *o)
{
    static const cli_name fitnesses[] = {{"supernet", 0}, {"proxy", 1},
                                         {NULL, 0}};
    static const cli_name clocks[] = {{"wall", 0}, {"cpu", 1}, {NULL, 0}};
    *a = (compress_args){
        .latency_ms = {0, CLI_ABOVE_ZERO, 0,
                       "option --latency-ms expects a positive number, got "
                       "'%s'"},
        .speedup = {0, CLI_ABOVE_ZERO, 0,
                    "option --speedup expects a positive number, got '%s'"},
        .budget = {0, CLI_ABOVE_ZERO, 0,
                   "option --budget-minutes expects a positive number, got "
                   "'%s'"},
        .params = {0, 1, 0, NULL},
        .steps = {0, 1, 0, NULL},
        .supernet_steps = {0, 1, 0, NULL},
        .train_threads = {0, 1, 0, NULL},
        .ckpt_every = {0, 1, 0, NULL},
        .children = {1, 1, 0, NULL},
        .augment = {-1, 0, 0,
                    "option --augment expects a non-negative integer, got "
                    "'%s'"},
        .augment_neighbours = {-1, 0, 0,
                               "option --augment-neighbours expects a "
                               "non-negative integer, got '%s'"},
        /* the library range-checks the probability, naming the option */
        .augment_prob = {NAN, -DBL_MAX, 0,
                         "option --augment-prob expects a number, got '%s'"},
        .from = {o->from, a->stages,
                 "option --from '%s': expected lift, supernet, search, "
                 "distill, build, eval, control-finetune, control-kd or "
                 "report"},
        .fitness = {0, fitnesses,
                    "option --fitness '%s': expected supernet or proxy"},
        .clock = {0, clocks, "option --clock '%s': expected wall or cpu"},
    };
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++)
        a->stages[i] = (cli_name){compress_stage_name((compress_stage)i), i};
}

/* Parses the command line into *o (exit status, or -1 to go on). The
 * library checks what it takes as text (--precision, --share) and names
 * the option itself. */
/* --recipe: loaded into *rec, its task, data and tokenizer the defaults of
 * the options (exit status, or -1 to go on). */
static int recipe_apply(const char *path, recipe *rec, cli_data *data)
{
    ir_diag d;
    ir_diag_init(&d);
    recipe_default(rec);
    if (recipe_load_file(path, rec, &d) != IR_OK) {
        ir_diag_prefix(&d, "compress: --recipe");
        return cli_fail(&d);
    }
    if (!data->task && rec->task[0])
        data->task = rec->task;
    if (!data->data && rec->data[0])
        data->data = rec->data;
    if (!data->vocab && !data->tokenizer) {
        data->vocab = rec->vocab[0] ? rec->vocab : NULL;
        data->tokenizer = rec->tokenizer[0] ? rec->tokenizer : NULL;
    }
    return -1;
}

static int compress_args_parse(int argc, char **argv, compress_options *o,
                               recipe *rec, progress_mode *mode,
                               glue_task **owned)
{
    compress_options_default(o);
    compress_args a;
    compress_args_init(&a, o);
    cli_data data;
    cli_data_init(&data, CLI_DATA_TASK | CLI_DATA_DATA | CLI_DATA_VOCAB |
                             CLI_DATA_TOKENIZER | CLI_DATA_LIMIT |
                             CLI_DATA_DEV_LIMIT);
    cli_user_data ud;
    cli_user_data_init(&ud);
    cli_runtime rt;
    cli_runtime_init(&rt, CLI_RT_SEQ | CLI_RT_BATCH | CLI_RT_THREADS, NULL);
    cli_output out;
    cli_output_init(&out, CLI_OUT_PROGRESS,
                    "option --progress '%s': expected auto, bar, json or off");
    cli_option opts[] = {
        {"data group", 0, CLI_GROUP, data.options},
        {"user data group", 0, CLI_GROUP, ud.options},
        {"output", 'o', CLI_VALUE, &o->out},
        {"latency-ms", 0, CLI_FLOAT, &a.latency_ms},
        {"speedup", 0, CLI_FLOAT, &a.speedup},
        {"budget-minutes", 0, CLI_FLOAT, &a.budget},
        {"params", 0, CLI_INT, &a.params},
        {"share", 0, CLI_VALUE, &o->share},
        {"corpus", 0, CLI_VALUE, &o->corpus},
        {"space", 0, CLI_VALUE, &o->space},
        {"runtime group", 0, CLI_GROUP, rt.options},
        {"precision", 0, CLI_VALUE, &o->precision},
        {"from", 0, CLI_ENUM, &a.from},
        {"cache", 0, CLI_VALUE, &o->latency_cache},
        {"output group", 0, CLI_GROUP, out.options},
        {"fitness", 0, CLI_ENUM, &a.fitness},
        {"children-per-cycle", 0, CLI_INT, &a.children},
        {"steps", 0, CLI_INT, &a.steps},
        {"supernet-steps", 0, CLI_INT, &a.supernet_steps},
        {"clock", 0, CLI_ENUM, &a.clock},
        {"train-threads", 0, CLI_INT, &a.train_threads},
        {"ckpt-every", 0, CLI_INT, &a.ckpt_every},
        {"augment", 0, CLI_INT, &a.augment},
        {"augment-prob", 0, CLI_FLOAT, &a.augment_prob},
        {"augment-neighbours", 0, CLI_INT, &a.augment_neighbours},
        {"recipe", 0, CLI_VALUE, &o->recipe_path},
        {"controls", 0, CLI_FLAG, &o->controls},
        {0},
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
    if (o->recipe_path) {
        if (!cli_check_input_file("compress", "--recipe", o->recipe_path))
            return 2;
        if ((rc = recipe_apply(o->recipe_path, rec, &data)) >= 0)
            return rc;
        o->recipe = rec;
    }
    if (npos != 1 || (data.task && !data.data) ||
        (!data.task && !data.data && !ud.train) ||
        (!data.vocab && !data.tokenizer) || !o->out) {
        cli_error("compress: need TEACHER.onnx, --task and --data (or your "
                  "own data: --data DIR, or --train FILE --dev FILE), --vocab "
                  "or --tokenizer, and -o OUT, see 'distilc compress --help'");
        return 2;
    }
    if (data.vocab && data.tokenizer) {
        cli_error("compress: give --vocab or --tokenizer, not both");
        return 2;
    }
    o->teacher = pos[0];
    o->task = data.task;
    o->data = data.data;
    o->vocab = data.vocab;
    o->tokenizer = data.tokenizer;
    o->limit = data.limit.value;
    o->dev_limit = data.dev_limit.value;
    o->seq = rt.seq.value;
    o->batch = rt.batch.value;
    o->threads = rt.threads.value;
    o->latency_ms = a.latency_ms.value;
    o->speedup = a.speedup.value;
    o->budget_minutes = a.budget.value;
    o->max_params = a.params.value;
    o->distill_steps = a.steps.value;
    o->supernet_steps = a.supernet_steps.value;
    o->train_threads = a.train_threads.value;
    o->ckpt_every = a.ckpt_every.value;
    /* what the options leave unsaid, the recipe says (or the defaults) */
    if (o->recipe) {
        if (o->supernet_steps <= 0 && rec->supernet.steps > 0)
            o->supernet_steps = rec->supernet.steps;
        o->augment = rec->augment_copies;
        o->augment_prob = rec->augment_prob;
        o->augment_neighbours = rec->augment_neighbours;
        o->controls = o->controls || rec->controls;
    }
    if (a.augment.value >= 0)
        o->augment = a.augment.value;
    if (!isnan(a.augment_prob.value))
        o->augment_prob = a.augment_prob.value;
    if (a.augment_neighbours.value >= 0)
        o->augment_neighbours = a.augment_neighbours.value;
    o->from = a.from.value;
    o->proxy_fitness = a.fitness.value == 1;
    o->children_per_cycle = a.children.value;
    o->cpu_clock = a.clock.value == 1;
    if ((o->latency_ms > 0) + (o->max_params > 0) + (o->speedup > 0) > 1) {
        cli_error("compress: give one of --latency-ms, --speedup and --params");
        return 2;
    }
    if (o->threads > 1024) {
        cli_error("compress: option --threads: at most 1024");
        return 2;
    }
    *mode = (progress_mode)out.progress.value;
    if (*mode == PROGRESS_AUTO) {
        progress probe;
        progress_init(&probe, stderr, "", 1, PROGRESS_AUTO); /* resolves AUTO */
        *mode = probe.mode;
    }
    if (!cli_check_input_file("compress", "teacher", o->teacher) ||
        (o->vocab && !cli_check_input_file("compress", "--vocab", o->vocab)) ||
        (o->tokenizer &&
         !cli_check_input_file("compress", "--tokenizer", o->tokenizer)) ||
        (o->space && !cli_check_input_file("compress", "--space", o->space)) ||
        (o->corpus && !cli_check_input_file("compress", "--corpus", o->corpus)))
        return 2;
    if (!cli_check_output_dir("compress", "-o", o->out))
        return 2;
    const glue_task *task;
    int trc = cli_task_open("compress", data.task, data.data, &ud, false,
                            NULL, 0, &task, owned);
    if (trc != 0)
        return trc;
    o->task_desc = *owned;
    if (*owned)
        o->task = (*owned)->name;
    return -1;
}

int cmd_compress(int argc, char **argv, ir_dist *dc)
{
    compress_options o;
    recipe *rec = malloc(sizeof *rec); /* --recipe (o.recipe points at it) */
    if (!rec) {
        cli_error("compress: out of memory");
        return 1;
    }
    ui u = {.mode = PROGRESS_AUTO};
    ui_kill_hook(&u);
    glue_task *owned = NULL; /* the user's own task, when no --task */
    int rc = compress_args_parse(argc, argv, &o, rec, &u.mode, &owned);
    if (rc >= 0) {
        free(rec);
        return rc;
    }
    /* the command line, for the emitted program's header comment */
    char cmdline[2048];
    cli_command_line(argc, argv, cmdline, sizeof cmdline);
    o.command = cmdline;
    if (o.threads)
        omp_set_num_threads((int)o.threads);

    /* data parallel: rank 0 runs the stage machine and shows it, every
     * rank trains (pipeline/compress.h) */
    o.dist = dc;
    compress_hooks h = {.user = &u, .stage_begin = ui_stage_begin,
                        .stage_end = ui_stage_end, .work = ui_work, .note = ui_note};
    if (ir_dist_rank(dc) != 0)
        h = (compress_hooks){0};
    compress_state *st = malloc(sizeof *st);
    if (!st) {
        cli_error("compress: out of memory");
        user_task_free(owned);
        free(rec);
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
    user_task_free(owned);
    free(rec);
    return rc;
}

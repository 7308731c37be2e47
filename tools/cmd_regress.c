/* cmd_regress.c — `distilc regress BASE.onnx CANDIDATE.onnx --task T[,T2]
 * --data DIR [--max-drop 1.0]`: the regression test users run on GLUE
 * subsets after compressing a model. Both models are evaluated on each task
 * (same tokenisation, same examples); the task's main metric (GLUE's task
 * score: the metric, or the mean of the two for MRPC/QQP/STS-B) is compared
 * in points (×100). A task fails when the candidate is more than --max-drop
 * points below the base, or when either score is undefined (NaN); the
 * command then exits 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/junit.h"
#include "tools/cli.h"
#include "tools/cmd_eval.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc regress BASE.onnx CANDIDATE.onnx --task T[,T2...]\n"
            "                       --data DIR [--max-drop 1.0] [--split dev]\n"
            "                       [--limit N] [--vocab V | --tokenizer FILE]\n"
            "                       [--max-seq 128] [--batch 32] [--backend ref]\n"
            "                       [--junit FILE] [--json] [--progress MODE]\n"
            "\n"
            "Evaluates both models on each task and prints a table: the main\n"
            "metric of base and candidate and the drop in points (x100).\n"
            "Exits 1 when any task's candidate is more than --max-drop points\n"
            "below the base (or a score is undefined), 0 otherwise.\n"
            "\n"
            "  --task LIST       comma-separated GLUE tasks (SST-2,CoLA,...)\n"
            "  --data DIR        a GLUE root folder (DIR/<TASK>/dev.tsv)\n"
            "  --max-drop P      allowed drop in points, default 1.0\n"
            "  --split S         train, dev (default); test has no labels\n"
            "  --limit N         only the first N examples of each task\n"
            "  --vocab FILE      a BERT vocab.txt; --tokenizer FILE: a\n"
            "                    tokenizer.json (default: beside BASE)\n"
            "  --no-lower        keep case and accents (cased vocab.txt)\n"
            "  --max-seq N, --batch N, --backend ref   as for distilc eval\n"
            "  --junit FILE      JUnit XML: one testcase per task, a failure\n"
            "                    element with the numbers when it drops too far\n"
            "  --json            one JSON object instead of the table\n"
            "  --progress MODE   auto, bar, json or off (on stderr)\n"
            "  --help            this text\n"
            "\n"
            "Exit status: 0 all tasks within --max-drop, 1 a task dropped too\n"
            "far or a run failed, 2 bad input or usage.\n");
}

typedef struct task_outcome {
    const glue_task *task;
    metric_set base, cand;
    double base_main, cand_main, drop; /* main metric, drop in points */
    double seconds;
    size_t n_examples;
    bool passed;
    char message[256];  /* why it failed */
    char details[1024]; /* every metric of both */
} task_outcome;

static void describe(task_outcome *t, double max_drop)
{
    const char *name = t->base.v[t->base.main].name;
    t->base_main = t->base.v[t->base.main].value;
    t->cand_main = t->cand.v[t->cand.main].value;
    t->drop = (t->base_main - t->cand_main) * 100.0;
    if (!isfinite(t->base_main) || !isfinite(t->cand_main)) {
        t->passed = false;
        snprintf(t->message, sizeof t->message, "%s: %s is undefined (base "
                 "%.4f, candidate %.4f)", t->task->name, name, t->base_main,
                 t->cand_main);
    } else {
        t->passed = !(t->drop > max_drop);
        snprintf(t->message, sizeof t->message, "%s: %s %s %.2f points "
                 "(base %.2f, candidate %.2f, max drop %.2f)", t->task->name,
                 name, t->drop > 0 ? "dropped" : "rose", fabs(t->drop),
                 100 * t->base_main, 100 * t->cand_main, max_drop);
    }
    size_t k = (size_t)snprintf(t->details, sizeof t->details,
                                "%zu examples;", t->n_examples);
    for (size_t i = 0; i < t->base.n && k < sizeof t->details; i++)
        k += (size_t)snprintf(t->details + k, sizeof t->details - k,
                              " %s: base %.6f candidate %.6f;",
                              t->base.v[i].name, t->base.v[i].value,
                              metric_set_get(&t->cand, t->base.v[i].name));
}

/* Splits "SST-2,CoLA" into tasks; exit status. */
static int parse_tasks(const char *list, const glue_task **out, size_t max,
                       size_t *n)
{
    *n = 0;
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) {
        cli_error("regress: --task list too long");
        return 2;
    }
    char *save = NULL;
    for (char *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        while (*s == ' ')
            s++;
        if (!*s)
            continue;
        const glue_task *t = glue_task_lookup(s);
        if (!t) {
            cli_error("regress: --task '%s' is not a GLUE task (%s)", s,
                      glue_task_names());
            return 2;
        }
        if (*n >= max) {
            cli_error("regress: more than %zu tasks in --task", max);
            return 2;
        }
        out[(*n)++] = t;
    }
    if (*n == 0) {
        cli_error("regress: --task names no task");
        return 2;
    }
    return 0;
}

static void print_table(FILE *f, const task_outcome *t, size_t n,
                        double max_drop)
{
    fprintf(f, "%-8s %-22s %9s %10s %7s  %s\n", "task", "metric", "base",
            "candidate", "drop", "result");
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        failed += !t[i].passed;
        fprintf(f, "%-8s %-22s %9.2f %10.2f %7.2f  %s\n", t[i].task->name,
                t[i].base.v[t[i].base.main].name, 100 * t[i].base_main,
                100 * t[i].cand_main, t[i].drop, t[i].passed ? "ok" : "FAIL");
    }
    fprintf(f, "%zu of %zu tasks within the allowed drop of %.2f points\n",
            n - failed, n, max_drop);
}

static void print_json(FILE *f, const char *base, const char *cand,
                       const task_outcome *t, size_t n, double max_drop)
{
    bool passed = true;
    fputs("{\"base\":", f);
    cli_json_string(f, base);
    fputs(",\"candidate\":", f);
    cli_json_string(f, cand);
    fputs(",\"max_drop\":", f);
    evalcmd_json_number(f, max_drop);
    fputs(",\"tasks\":[", f);
    for (size_t i = 0; i < n; i++) {
        passed &= t[i].passed;
        fputs(i ? ",{\"task\":" : "{\"task\":", f);
        cli_json_string(f, t[i].task->name);
        fprintf(f, ",\"examples\":%zu,\"metric\":\"%s\",\"base\":",
                t[i].n_examples, t[i].base.v[t[i].base.main].name);
        evalcmd_json_number(f, t[i].base_main);
        fputs(",\"candidate\":", f);
        evalcmd_json_number(f, t[i].cand_main);
        fputs(",\"drop\":", f);
        evalcmd_json_number(f, t[i].drop);
        fprintf(f, ",\"passed\":%s,\"base_metrics\":",
                t[i].passed ? "true" : "false");
        evalcmd_json_metrics(f, &t[i].base);
        fputs(",\"candidate_metrics\":", f);
        evalcmd_json_metrics(f, &t[i].cand);
        fputs(",\"seconds\":", f);
        evalcmd_json_number(f, t[i].seconds);
        fputc('}', f);
    }
    fprintf(f, "],\"passed\":%s}\n", passed ? "true" : "false");
}

static int write_junit(const char *path, const char *base, const char *cand,
                       const task_outcome *t, size_t n, double max_drop)
{
    junit_case cases[GLUE_TASK_COUNT];
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        cases[i] = (junit_case){
            .name = t[i].task->name,
            .classname = "distilc.regress",
            .seconds = t[i].seconds,
            .failure_message = t[i].passed ? NULL : t[i].message,
            .failure_text = t[i].passed ? NULL : t[i].details,
            .system_out = t[i].passed ? t[i].message : NULL,
        };
        total += t[i].seconds;
    }
    char drop[32], ts[32];
    snprintf(drop, sizeof drop, "%.4f", max_drop);
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(ts, sizeof ts, "1970-01-01T00:00:00Z");
    junit_property props[] = {{"base", base}, {"candidate", cand},
                              {"max_drop", drop}};
    junit_suite s = {.name = "distilc regress", .timestamp = ts,
                     .seconds = total, .properties = props,
                     .n_properties = 3, .cases = cases, .n_cases = n};
    ir_diag d;
    ir_diag_init(&d);
    return junit_write_file(path, &s, 1, &d) == IR_OK ? 0 : cli_fail(&d);
}

/* Evaluates one task with both models into *t (exit status). */
static int regress_task(const glue_task *task, const char *data,
                        glue_split split, const glue_load_opts *lo,
                        const tok_tokenizer *tok, const eval_options *eo,
                        progress_mode pm, ir_graph *gb, const char *base,
                        ir_graph *gc, const char *cand, double max_drop,
                        task_outcome *t)
{
    ir_diag d;
    ir_diag_init(&d);
    glue_dataset ds = {0};
    if (glue_load(task, data, split, lo, &ds, &d) != IR_OK)
        return cli_fail(&d);
    int rc = 0;
    if (!ds.has_labels) {
        cli_error("regress: %s: the %s split has no labels to compare "
                  "against (use dev or train)", ds.path,
                  glue_split_name(split));
        rc = 2;
        goto done;
    }
    if (ds.n_skipped)
        cli_error("regress: warning: %s: skipped %zu malformed lines",
                  ds.path, ds.n_skipped);
    char label[96];
    eval_result rb = {0}, rcand = {0};
    snprintf(label, sizeof label, "%s base", task->name);
    rc = evalcmd_run("regress", gb, base, &ds, tok, eo, pm, label, &rb);
    if (rc == 0) {
        snprintf(label, sizeof label, "%s candidate", task->name);
        rc = evalcmd_run("regress", gc, cand, &ds, tok, eo, pm, label, &rcand);
    }
    if (rc == 0) {
        t->task = task;
        t->base = rb.metrics;
        t->cand = rcand.metrics;
        t->n_examples = ds.n;
        t->seconds = rb.seconds + rcand.seconds;
        describe(t, max_drop);
    }
    eval_result_free(&rb);
    eval_result_free(&rcand);
done:
    glue_dataset_free(&ds);
    return rc;
}

int cmd_regress(int argc, char **argv)
{
    const char *task_s = NULL, *data = NULL, *split_s = "dev", *limit_s = NULL,
               *vocab = NULL, *tokjson = NULL, *max_seq_s = NULL,
               *batch_s = NULL, *backend = "ref", *junit = NULL,
               *max_drop_s = "1.0", *progress_s = "auto";
    bool json = false, skip_bad = false, no_lower = false;
    cli_option opts[] = {
        {"task", 0, CLI_VALUE, &task_s},
        {"data", 0, CLI_VALUE, &data},
        {"max-drop", 0, CLI_VALUE, &max_drop_s},
        {"split", 0, CLI_VALUE, &split_s},
        {"limit", 0, CLI_VALUE, &limit_s},
        {"vocab", 0, CLI_VALUE, &vocab},
        {"tokenizer", 0, CLI_VALUE, &tokjson},
        {"no-lower", 0, CLI_FLAG, &no_lower},
        {"max-seq", 0, CLI_VALUE, &max_seq_s},
        {"batch", 0, CLI_VALUE, &batch_s},
        {"backend", 0, CLI_VALUE, &backend},
        {"json", 0, CLI_FLAG, &json},
        {"junit", 0, CLI_VALUE, &junit},
        {"skip-bad-lines", 0, CLI_FLAG, &skip_bad},
        {"progress", 0, CLI_VALUE, &progress_s},
        {NULL, 0, 0, NULL},
    };
    const char *pos[2];
    int npos;
    int rc = cli_parse("regress", argc, argv, opts, pos, 2, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    if (npos != 2 || !task_s || !data) {
        cli_error("regress: needs BASE.onnx CANDIDATE.onnx, --task and "
                  "--data, see 'distilc regress --help'");
        return 2;
    }
    const glue_task *tasks[GLUE_TASK_COUNT];
    size_t n_tasks;
    if ((rc = parse_tasks(task_s, tasks, GLUE_TASK_COUNT, &n_tasks)) != 0)
        return rc;
    glue_split split;
    if (!glue_split_lookup(split_s, &split)) {
        cli_error("regress: --split '%s' is not a split (train, dev, test)",
                  split_s);
        return 2;
    }
    char *end;
    double max_drop = strtod(max_drop_s, &end);
    if (end == max_drop_s || *end || !isfinite(max_drop) || max_drop < 0) {
        cli_error("regress: --max-drop expects a number of points >= 0, got "
                  "'%s'", max_drop_s);
        return 2;
    }
    eval_options eo = eval_options_default();
    glue_load_opts lo = {.skip_bad_lines = skip_bad, .limit = 0};
    int64_t v;
    if (limit_s) {
        if (!cli_parse_positive("regress", "limit", limit_s, &v))
            return 2;
        lo.limit = (size_t)v;
    }
    if (max_seq_s) {
        if (!cli_parse_positive("regress", "max-seq", max_seq_s, &v))
            return 2;
        eo.max_seq = (size_t)v;
    }
    if (batch_s) {
        if (!cli_parse_positive("regress", "batch", batch_s, &v))
            return 2;
        eo.batch = (size_t)v;
    }
    if (eo.max_seq < 2) {
        cli_error("regress: --max-seq must be at least 2 ([CLS] and [SEP])");
        return 2;
    }
    progress_mode pm;
    if (!progress_mode_parse(progress_s, &pm)) {
        cli_error("regress: --progress '%s' is not auto, bar, json or off",
                  progress_s);
        return 2;
    }
    if ((rc = evalcmd_check_backend("regress", backend)) != 0 ||
        (rc = evalcmd_check_path("regress", "BASE", pos[0])) != 0 ||
        (rc = evalcmd_check_path("regress", "CANDIDATE", pos[1])) != 0 ||
        (rc = evalcmd_check_path("regress", "--data", data)) != 0 ||
        (rc = evalcmd_check_path("regress", "--vocab", vocab)) != 0 ||
        (rc = evalcmd_check_path("regress", "--tokenizer", tokjson)) != 0)
        return rc;

    tok_tokenizer *tok = NULL;
    ir_graph *gb = NULL, *gc = NULL;
    task_outcome out[GLUE_TASK_COUNT];
    memset(out, 0, sizeof out);
    if ((rc = evalcmd_load_tokenizer_opts("regress", vocab, tokjson, pos[0],
                                          no_lower, &tok)) != 0 ||
        (rc = evalcmd_load_model("regress", pos[0], &gb)) != 0 ||
        (rc = evalcmd_load_model("regress", pos[1], &gc)) != 0)
        goto done;
    for (size_t i = 0; i < n_tasks; i++) {
        rc = regress_task(tasks[i], data, split, &lo, tok, &eo, pm, gb, pos[0],
                          gc, pos[1], max_drop, &out[i]);
        if (rc != 0)
            goto done;
    }
    bool passed = true;
    for (size_t i = 0; i < n_tasks; i++)
        passed &= out[i].passed;
    if (junit && (rc = write_junit(junit, pos[0], pos[1], out, n_tasks,
                                   max_drop)) != 0)
        goto done;
    if (json)
        print_json(stdout, pos[0], pos[1], out, n_tasks, max_drop);
    else
        print_table(stdout, out, n_tasks, max_drop);
    for (size_t i = 0; i < n_tasks; i++)
        if (!out[i].passed)
            cli_error("regress: %s", out[i].message);
    rc = passed ? 0 : 1;
    if (fflush(stdout) != 0)
        rc = 1;
done:
    ir_graph_free(gb);
    ir_graph_free(gc);
    tok_free(tok);
    return rc;
}

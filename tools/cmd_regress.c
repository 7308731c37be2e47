/* cmd_regress.c — `distilc regress BASE.onnx CANDIDATE.onnx --task T[,T2]
 * --data DIR [--max-drop 1.0]`: the regression test users run on GLUE
 * subsets after compressing a model. Both models are evaluated on each task
 * (same tokenisation, same examples); the task's main metric (GLUE's task
 * score: the metric, or the mean of the two for MRPC/QQP/STS-B) is compared
 * in points (×100). A task fails when the candidate is more than --max-drop
 * points below the base, or when either score is undefined (NaN); the
 * command then exits 1. Each model is opened once (on oneDNN: compiled once,
 * at its own precision: --base-precision and --precision) and evaluated on
 * every task; the evaluation options are cmd_eval.c's shared table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/junit.h"
#include "frontend/user_data.h"
#include "tools/cli.h"
#include "tools/cmd_eval.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc regress BASE.onnx CANDIDATE.onnx --task T[,T2...]\n"
            "                       --data DIR [--max-drop 1.0] [--split dev]\n"
            "                       [--limit N] [--vocab V | --tokenizer FILE]\n"
            "                       [--max-seq 128] [--batch 32]\n"
            "                       [--backend onednn|ref] [--threads N]\n"
            "                       [--precision fp32|bf16|int8]\n"
            "                       [--base-precision fp32|bf16|int8]\n"
            "                       [--junit FILE] [--json] [--progress MODE]\n"
            "\n"
            "Evaluates both models on each task and prints a table: the main\n"
            "metric of base and candidate and the drop in points (x100).\n"
            "Exits 1 when any task's candidate is more than --max-drop points\n"
            "below the base (or a score is undefined), 0 otherwise.\n"
            "\n"
            "  --task LIST       comma-separated GLUE tasks (SST-2,CoLA,...)\n"
            "  --data DIR        a GLUE root folder (DIR/<TASK>/dev.tsv); without\n"
            "                    --task, your own data, one task (below)\n"
            "  --max-drop P      allowed drop in points, default 1.0\n");
    evalcmd_options_usage(f);
    fprintf(f,
            "  --precision P     onednn: the CANDIDATE's precision: fp32\n"
            "                    (default), bf16 or int8\n"
            "  --base-precision P  onednn: the BASE's precision: fp32\n"
            "                    (default, whatever --precision says), bf16\n"
            "                    or int8; so an int8 candidate is checked\n"
            "                    against an fp32 base by default\n"
            "  --junit FILE      JUnit XML: one testcase per task, a failure\n"
            "                    element with the numbers when it drops too far\n"
            "  --json            one JSON object instead of the table\n"
            "  --help            this text\n"
            "\n");
    cli_user_data_usage(f);
    fprintf(f,
            "The label set: CANDIDATE's label names when it keeps them, else\n"
            "train's.\n"
            "Both models use the same backend (--threads applies to both);\n"
            "with the default, each is compiled for oneDNN when it lowers.\n"
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

/* How a model runs: "onednn int8", "ref". */
static void model_desc(const evalcmd_model *m, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s", evalcmd_model_backend(m),
             m->eng->precision ? " " : "",
             m->eng->precision ? ir_precision_name(m->precision) : "");
}

static void print_table(FILE *f, const evalcmd_model *base,
                        const evalcmd_model *cand, const task_outcome *t,
                        size_t n, double max_drop)
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
    char base_run[32], cand_run[32];
    model_desc(base, base_run, sizeof base_run);
    model_desc(cand, cand_run, sizeof cand_run);
    fprintf(f, "%zu of %zu tasks within the allowed drop of %.2f points "
            "(base: %s, candidate: %s)\n", n - failed, n, max_drop, base_run,
            cand_run);
}

static void print_json(FILE *f, const evalcmd_model *base,
                       const evalcmd_model *cand, const task_outcome *t,
                       size_t n, double max_drop)
{
    bool passed = true;
    fputs("{\"base\":", f);
    cli_json_string(f, base->path);
    fputs(",\"candidate\":", f);
    cli_json_string(f, cand->path);
    fprintf(f, ",\"base_backend\":\"%s\",\"base_precision\":\"%s\","
            "\"candidate_backend\":\"%s\",\"candidate_precision\":\"%s\"",
            evalcmd_model_backend(base), ir_precision_name(base->precision),
            evalcmd_model_backend(cand), ir_precision_name(cand->precision));
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

static int write_junit(const char *path, const evalcmd_model *base,
                       const evalcmd_model *cand, const task_outcome *t,
                       size_t n, double max_drop)
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
    char base_run[32], cand_run[32];
    model_desc(base, base_run, sizeof base_run);
    model_desc(cand, cand_run, sizeof cand_run);
    junit_property props[] = {{"base", base->path},
                              {"candidate", cand->path},
                              {"base_backend", base_run},
                              {"candidate_backend", cand_run},
                              {"max_drop", drop}};
    junit_suite s = {.name = "distilc regress", .timestamp = ts,
                     .seconds = total, .properties = props,
                     .n_properties = 5, .cases = cases, .n_cases = n};
    ir_diag d;
    ir_diag_init(&d);
    return junit_write_file(path, &s, 1, &d) == IR_OK ? 0 : cli_fail(&d);
}

/* Evaluates one task with both models into *t (exit status). */
static int regress_task(const glue_task *task, const char *data,
                        const evalcmd_options *eo, const tok_tokenizer *tok,
                        evalcmd_model *base, evalcmd_model *cand,
                        double max_drop, task_outcome *t)
{
    ir_diag d;
    ir_diag_init(&d);
    glue_dataset ds = {0};
    if (glue_load(task, data, eo->split, &eo->load, &ds, &d) != IR_OK)
        return cli_fail(&d);
    int rc = 0;
    if (!ds.has_labels) {
        cli_error("regress: %s: the %s split has no labels to compare "
                  "against (use dev or train)", ds.path,
                  glue_split_name(eo->split));
        rc = 2;
        goto done;
    }
    if (ds.n_skipped)
        cli_error("regress: warning: %s: skipped %zu malformed lines",
                  ds.path, ds.n_skipped);
    char label[96];
    eval_result rb = {0}, rcand = {0};
    snprintf(label, sizeof label, "%s base", task->name);
    rc = evalcmd_model_eval(base, &ds, tok, eo, label, &rb);
    if (rc == 0) {
        snprintf(label, sizeof label, "%s candidate", task->name);
        rc = evalcmd_model_eval(cand, &ds, tok, eo, label, &rcand);
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

int cmd_regress(int argc, char **argv, ir_dist *dc)
{
    const char *task_s = NULL, *data = NULL, *junit = NULL;
    cli_float max_drop = {1.0, 0, 0,
                          "--max-drop expects a number of points >= 0, got "
                          "'%s'"};
    bool json = false;
    evalcmd_options eo;
    evalcmd_options_init(&eo);
    cli_enum base_prec_i = {-1, eo.runtime.precisions,
                            "--base-precision '%s' is not fp32, bf16 or int8"};
    cli_user_data ud;
    cli_user_data_init(&ud);
    const cli_option own[] = {
        {"task", 0, CLI_VALUE, &task_s},
        {"data", 0, CLI_VALUE, &data},
        {"user data group", 0, CLI_GROUP, ud.options},
        {"max-drop", 0, CLI_FLOAT, &max_drop},
        {"base-precision", 0, CLI_ENUM, &base_prec_i},
        {"json", 0, CLI_FLAG, &json},
        {"junit", 0, CLI_VALUE, &junit},
        {0},
    };
    const char *pos[2];
    int npos;
    int rc = evalcmd_parse("regress", argc, argv, own, usage, &eo, pos, 2,
                           &npos);
    if (rc != CLI_OK)
        return rc == CLI_HELP ? 0 : rc;
    /* under mpirun: each model's examples split across the ranks, rank 0
     * writes */
    eo.dist = dc;
    if (ir_dist_rank(dc) != 0)
        junit = NULL;
    if (npos != 2 || (task_s && !data) ||
        (!task_s && !data && !ud.train && !ud.dev)) {
        cli_error("regress: needs BASE.onnx CANDIDATE.onnx, --task and "
                  "--data (or your own data: --data, --dev FILE), see "
                  "'distilc regress --help'");
        return 2;
    }
    if (!cli_check_output_file("regress", "--junit", junit))
        return 2;
    const glue_task *tasks[GLUE_TASK_COUNT];
    size_t n_tasks = 1;
    glue_task *owned = NULL; /* the user's own task: one, without --task */
    if (task_s) {
        if (cli_user_data_given(&ud)) {
            cli_error("regress: --train, --dev and the column options are "
                      "for your own data, without --task");
            return 2;
        }
        if ((rc = parse_tasks(task_s, tasks, GLUE_TASK_COUNT, &n_tasks)) != 0)
            return rc;
    } else {
        /* the candidate's label names when it keeps them, else train's */
        char **ml = NULL;
        size_t nml = 0;
        if ((rc = evalcmd_model_labels(pos[1], &ml, &nml)) != 0)
            return rc;
        rc = cli_task_open("regress", NULL, data, &ud, eo.load.skip_bad_lines,
                           (const char *const *)ml, nml, &tasks[0], &owned);
        task_labels_free(ml, nml);
        if (rc != 0)
            return rc;
    }
    /* The base stays fp32 unless asked: --precision is the candidate's. */
    ir_precision base_prec = IR_PRECISION_FP32;
    if (base_prec_i.value >= 0) {
        base_prec = (ir_precision)base_prec_i.value;
        if (evalcmd_backend_is_ref(&eo)) {
            cli_error("regress: --base-precision applies to --backend onednn "
                      "(not ref)");
            user_task_free(owned);
            return 2;
        }
    }
    if ((rc = evalcmd_check_path("regress", "BASE", pos[0])) != 0 ||
        (rc = evalcmd_check_path("regress", "CANDIDATE", pos[1])) != 0 ||
        (data && (rc = evalcmd_check_path("regress", "--data", data)) != 0)) {
        user_task_free(owned);
        return rc;
    }

    tok_tokenizer *tok = NULL;
    evalcmd_model base = {0}, cand = {0};
    task_outcome out[GLUE_TASK_COUNT];
    memset(out, 0, sizeof out);
    if ((rc = evalcmd_load_tokenizer_opts("regress", eo.vocab, eo.tokenizer,
                                          pos[0], eo.no_lower, &tok)) != 0 ||
        (rc = evalcmd_model_open("regress", pos[0], &eo, base_prec,
                                 &base)) != 0 ||
        (rc = evalcmd_model_open("regress", pos[1], &eo, eo.rt.precision,
                                 &cand)) != 0)
        goto done;
    for (size_t i = 0; i < n_tasks; i++) {
        rc = regress_task(tasks[i], data, &eo, tok, &base, &cand, max_drop.value,
                          &out[i]);
        if (rc != 0)
            goto done;
    }
    bool passed = true;
    for (size_t i = 0; i < n_tasks; i++)
        passed &= out[i].passed;
    if (junit && (rc = write_junit(junit, &base, &cand, out, n_tasks,
                                   max_drop.value)) != 0)
        goto done;
    if (json)
        print_json(stdout, &base, &cand, out, n_tasks, max_drop.value);
    else
        print_table(stdout, &base, &cand, out, n_tasks, max_drop.value);
    for (size_t i = 0; i < n_tasks; i++)
        if (!out[i].passed)
            cli_error("regress: %s", out[i].message);
    rc = passed ? 0 : 1;
    if (fflush(stdout) != 0)
        rc = 1;
done:
    evalcmd_model_close(&base);
    evalcmd_model_close(&cand);
    tok_free(tok);
    user_task_free(owned);
    return rc;
}

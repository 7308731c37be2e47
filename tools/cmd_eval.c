/* cmd_eval.c — `distilc eval MODEL.onnx --task T --data DIR`: evaluates a
 * sequence classifier on a GLUE split and prints the task's metrics (a
 * table, or one JSON object with --json), optionally a JUnit report and the
 * per-example predictions. The work is frontend/eval.c's; this file parses
 * options, loads the files, reports progress and prints.
 * Also the helpers cmd_regress.c shares (see cmd_eval.h). */
#include "tools/cmd_eval.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/rt_encoder.h"
#include "frontend/junit.h"
#include "frontend/onnx.h"
#include "tools/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc eval MODEL.onnx --task T --data DIR [--split dev]\n"
            "                    [--limit N] [--vocab V | --tokenizer FILE]\n"
            "                    [--max-seq 128] [--batch 32]\n"
            "                    [--backend onednn|ref] [--threads N]\n"
            "                    [--precision fp32|bf16|int8]\n"
            "                    [--json] [--junit FILE] [--predictions FILE]\n"
            "                    [--skip-bad-lines] [--progress MODE]\n"
            "\n"
            "Tokenises a GLUE split, runs the classifier on it in batches\n"
            "(sorted by length, each padded to its longest example) and\n"
            "prints the task's metrics as GLUE defines them.\n"
            "\n"
            "  --task T          CoLA, SST-2, MRPC, STS-B, QQP, MNLI, MNLI-mm,\n"
            "                    QNLI, RTE, WNLI (or HF names: sst2, stsb, ...)\n"
            "  --data DIR        a GLUE root (DIR/SST-2/dev.tsv), the task's\n"
            "                    folder, or the .tsv file itself\n"
            "  --split S         train, dev (default) or test (no metrics)\n"
            "  --limit N         only the first N examples\n"
            "  --vocab FILE      a BERT vocab.txt (uncased)\n"
            "  --tokenizer FILE  a Hugging Face tokenizer.json\n"
            "                    (default: vocab.txt or tokenizer.json beside\n"
            "                    the model)\n"
            "  --no-lower        keep case and accents (cased vocab.txt)\n"
            "  --max-seq N       truncate pairs longest_first to N tokens (128)\n"
            "  --batch N         examples per batch (32)\n"
            "  --backend B       onednn: the compiled encoder runtime; ref: the\n"
            "                    reference interpreter. Default: onednn when\n"
            "                    the model is a BERT-style encoder it can\n"
            "                    lower, else ref (with a note on stderr)\n"
            "  --threads N       onednn: threads (default: all cores)\n"
            "  --precision P     onednn: fp32 (default), bf16 or int8\n"
            "  --json            one JSON object: task, split, examples,\n"
            "                    metrics, seconds, ...\n"
            "  --junit FILE      also write a JUnit XML report\n"
            "  --predictions FILE  JSON lines, one per example in file order:\n"
            "                    {\"index\":i,\"line\":L,\"label\":k,"
            "\"logits\":[...]}\n"
            "                    (STS-B: \"score\" instead of \"label\")\n"
            "  --skip-bad-lines  count and skip malformed lines\n"
            "  --progress MODE   auto (a bar on a terminal, JSON lines on\n"
            "                    stderr otherwise), bar, json or off\n"
            "  --help            this text\n"
            "\n"
            "Model inputs are matched by name: input_ids, attention_mask,\n"
            "token_type_ids; the output is 'logits' (or the first output).\n"
            "Exit status: 0 ok, 1 failure, 2 bad input or usage.\n");
}

/* ---- shared helpers ------------------------------------------------------ */

void evalcmd_json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs("null", f);
}

void evalcmd_json_metrics(FILE *f, const metric_set *ms)
{
    fputc('{', f);
    for (size_t i = 0; i < ms->n; i++) {
        fprintf(f, "%s\"%s\":", i ? "," : "", ms->v[i].name);
        evalcmd_json_number(f, ms->v[i].value);
    }
    fputc('}', f);
}

int evalcmd_check_backend(const char *cmd, const char *backend)
{
    if (strcmp(backend, "ref") == 0)
        return 0;
    if (strcmp(backend, "onednn") == 0) {
        cli_error("%s: --backend onednn: %s runs the reference interpreter "
                  "only (distilc eval has --backend onednn; use --backend "
                  "ref)", cmd, cmd);
        return 2;
    }
    cli_error("%s: --backend '%s' is not a backend (ref, onednn)", cmd,
              backend);
    return 2;
}

int evalcmd_check_path(const char *cmd, const char *opt, const char *path)
{
    if (!path || access(path, F_OK) == 0)
        return 0;
    cli_error("%s: %s %s: %s", cmd, opt, path, strerror(errno));
    return 2;
}

/* path's folder joined with name, if that file exists. */
static bool beside(const char *path, const char *name, char *buf, size_t n)
{
    const char *slash = strrchr(path, '/');
    int len = slash ? (int)(slash - path) : 1;
    const char *dir = slash ? path : ".";
    if (snprintf(buf, n, "%.*s/%s", len, dir, name) >= (int)n)
        return false;
    return access(buf, R_OK) == 0;
}

int evalcmd_load_tokenizer(const char *cmd, const char *vocab,
                           const char *json, const char *model_path,
                           tok_tokenizer **out)
{
    return evalcmd_load_tokenizer_opts(cmd, vocab, json, model_path, false,
                                       out);
}

int evalcmd_load_tokenizer_opts(const char *cmd, const char *vocab,
                                const char *json, const char *model_path,
                                bool no_lower, tok_tokenizer **out)
{
    *out = NULL;
    if (vocab && json) {
        cli_error("%s: give --vocab or --tokenizer, not both", cmd);
        return 2;
    }
    char found[4096];
    if (!vocab && !json) {
        if (model_path && beside(model_path, "tokenizer.json", found,
                                 sizeof found))
            json = found;
        else if (model_path && beside(model_path, "vocab.txt", found,
                                      sizeof found))
            vocab = found;
        else {
            cli_error("%s: no tokenizer: give --vocab vocab.txt or "
                      "--tokenizer tokenizer.json (none found beside the "
                      "model)", cmd);
            return 2;
        }
    }
    ir_diag d;
    ir_diag_init(&d);
    ir_status st;
    if (json) {
        if (no_lower) {
            cli_error("%s: --no-lower applies to --vocab only (a "
                      "tokenizer.json says its own normalisation)", cmd);
            return 2;
        }
        st = tok_load_json(json, out, &d);
    } else {
        tok_options o = tok_options_default();
        if (no_lower) {
            o.lowercase = false;
            o.strip_accents = 0;
        }
        st = tok_load_vocab(vocab, &o, out, &d);
    }
    return st == IR_OK ? 0 : cli_fail(&d);
}

int evalcmd_load_model(const char *cmd, const char *path, ir_graph **out)
{
    ir_diag d;
    ir_diag_init(&d);
    if (onnx_load_file(path, NULL, out, &d) != IR_OK) {
        *out = NULL;
        return cli_fail(&d);
    }
    return 0;
}

int evalcmd_run(const char *cmd, ir_graph *g, const char *model_path,
                const glue_dataset *ds, const tok_tokenizer *tok,
                const eval_options *o, progress_mode pm, const char *label,
                eval_result *r)
{
    ir_diag d;
    ir_diag_init(&d);
    eval_model m;
    if (eval_model_init(&m, g, &d) != IR_OK) {
        ir_diag_prefix(&d, "%s", model_path);
        return cli_fail(&d);
    }
    progress p;
    progress_init(&p, stderr, label, ds->n, pm);
    eval_options oo = *o;
    oo.progress = progress_callback;
    oo.progress_ctx = &p;
    ir_status st = eval_run(ds, tok, &oo, eval_model_run, &m, r, &d);
    progress_finish(&p);
    if (st != IR_OK) {
        ir_diag_prefix(&d, "%s", model_path);
        return cli_fail(&d);
    }
    return 0;
}

/* ---- eval ---------------------------------------------------------------- */

/* eval's backend choice: --backend onednn|ref, or unset = onednn when the
 * graph lifts (a note on stderr when it falls back to ref). */
typedef struct eval_backend {
    const char *name;    /* NULL: auto */
    rt_options ro;
} eval_backend;

static int eval_with_backend(const eval_backend *be, ir_graph *g,
                             const char *model_path, const glue_dataset *ds,
                             const tok_tokenizer *tok, const eval_options *o,
                             progress_mode pm, const char *label,
                             eval_result *r)
{
    if (be->name && strcmp(be->name, "ref") == 0)
        return evalcmd_run("eval", g, model_path, ds, tok, o, pm, label, r);
    ir_diag d;
    ir_diag_init(&d);
    eval_model em; /* the same input checks the interpreter path makes */
    if (eval_model_init(&em, g, &d) != IR_OK) {
        ir_diag_prefix(&d, "%s", model_path);
        return cli_fail(&d);
    }
    eval_rt er = {NULL, 0, em.in_types >= 0, 8, 0};
    ir_encoder *e = NULL;
    ir_status st = rt_model_from_graph(g, &be->ro, &er.m, &e, &d);
    if (st != IR_OK) {
        bool theirs = st == IR_ERR_UNSUPPORTED || st == IR_ERR_INPUT;
        /* An asked-for precision is not silently dropped. */
        if (be->name || !theirs || be->ro.precision != RT_FP32) {
            ir_diag_prefix(&d, "%s", model_path);
            return cli_fail(&d);
        }
        cli_error("eval: note: %s: %s; using the reference interpreter",
                  model_path, d.msg);
        return evalcmd_run("eval", g, model_path, ds, tok, o, pm, label, r);
    }
    er.labels = (size_t)e->cfg.labels;
    er.max_positions = (size_t)e->cfg.max_positions;
    ir_encoder_free(e);
    progress p;
    progress_init(&p, stderr, label, ds->n, pm);
    eval_options oo = *o;
    oo.progress = progress_callback;
    oo.progress_ctx = &p;
    st = eval_run(ds, tok, &oo, eval_rt_run, &er, r, &d);
    progress_finish(&p);
    rt_model_free(er.m);
    if (st != IR_OK) {
        ir_diag_prefix(&d, "%s", model_path);
        return cli_fail(&d);
    }
    return 0;
}

static bool parse_size(const char *cmd, const char *opt, const char *text,
                       size_t *out)
{
    int64_t v;
    if (!cli_parse_positive(cmd, opt, text, &v))
        return false;
    *out = (size_t)v;
    return true;
}

static int write_predictions(const char *path, const glue_dataset *ds,
                             const eval_result *r)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_error("eval: --predictions %s: %s", path, strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < r->n_examples; i++) {
        fprintf(f, "{\"index\":%zu,\"line\":%zu,", i, ds->examples[i].line);
        if (r->pred_class)
            fprintf(f, "\"label\":%d,", r->pred_class[i]);
        else {
            fputs("\"score\":", f);
            evalcmd_json_number(f, r->pred_score[i]);
            fputc(',', f);
        }
        fputs("\"logits\":[", f);
        for (size_t k = 0; k < r->n_labels; k++) {
            float v = r->logits[i * r->n_labels + k];
            if (k)
                fputc(',', f);
            if (isfinite(v))
                fprintf(f, "%.9g", (double)v); /* exact for a float */
            else
                fputs("null", f);
        }
        fputs("]}\n", f);
    }
    if (fclose(f) != 0) {
        cli_error("eval: --predictions %s: write error", path);
        return 1;
    }
    return 0;
}

static void print_table(FILE *f, const char *model, const glue_dataset *ds,
                        const eval_result *r)
{
    fprintf(f, "model     %s\n", model);
    fprintf(f, "task      %s (%s split, %zu examples, %s)\n", ds->task->name,
            glue_split_name(ds->split), r->n_examples, ds->path);
    if (ds->n_skipped)
        fprintf(f, "skipped   %zu malformed lines (first: line %zu, %s)\n",
                ds->n_skipped, ds->skipped_lines[0], ds->first_skip_reason);
    if (r->has_metrics) {
        for (size_t i = 0; i < r->metrics.n; i++) {
            const metric_value *v = &r->metrics.v[i];
            fprintf(f, "%-22s %8.4f%s\n", v->name, v->value,
                    i == r->metrics.main ? "   (main)" : "");
        }
    } else {
        fprintf(f, "metrics   none: the %s split has no labels "
                "(--predictions writes the predictions)\n",
                glue_split_name(ds->split));
    }
    double pad = r->padded_tokens
                     ? 100.0 * (double)(r->padded_tokens - r->real_tokens) /
                           (double)r->padded_tokens
                     : 0.0;
    fprintf(f, "time      %.2f s (tokenise %.2f s, model %.2f s), %zu "
            "batches, %.1f%% padding\n", r->seconds, r->tokenize_seconds,
            r->model_seconds, r->n_batches, pad);
}

static void print_json(FILE *f, const char *model, const glue_dataset *ds,
                       const eval_result *r)
{
    fputs("{\"task\":", f);
    cli_json_string(f, ds->task->name);
    fprintf(f, ",\"split\":\"%s\",\"examples\":%zu,\"metrics\":",
            glue_split_name(ds->split), r->n_examples);
    if (r->has_metrics) {
        evalcmd_json_metrics(f, &r->metrics);
        fprintf(f, ",\"main_metric\":\"%s\"", r->metrics.v[r->metrics.main].name);
    } else {
        fputs("{}", f);
    }
    fputs(",\"seconds\":", f);
    evalcmd_json_number(f, r->seconds);
    fputs(",\"model\":", f);
    cli_json_string(f, model);
    fputs(",\"data\":", f);
    cli_json_string(f, ds->path);
    fprintf(f, ",\"skipped_lines\":%zu,\"batches\":%zu,\"tokens\":%zu,"
            "\"padded_tokens\":%zu}\n", ds->n_skipped, r->n_batches,
            r->real_tokens, r->padded_tokens);
}

static void iso_time(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(buf, n, "1970-01-01T00:00:00Z");
}

static int write_eval_junit(const char *path, const char *model,
                            const glue_dataset *ds, const eval_result *r)
{
    char ts[32], vals[METRIC_SET_MAX][32], out[1024];
    iso_time(ts, sizeof ts);
    junit_property props[METRIC_SET_MAX + 3];
    size_t np = 0;
    props[np++] = (junit_property){"model", model};
    props[np++] = (junit_property){"data", ds->path};
    props[np++] = (junit_property){"split", glue_split_name(ds->split)};
    size_t k = 0;
    k += (size_t)snprintf(out, sizeof out, "%s on %s (%s, %zu examples):",
                          model, ds->task->name, glue_split_name(ds->split),
                          r->n_examples);
    for (size_t i = 0; r->has_metrics && i < r->metrics.n; i++) {
        snprintf(vals[i], sizeof vals[i], "%.6f", r->metrics.v[i].value);
        props[np++] = (junit_property){r->metrics.v[i].name, vals[i]};
        if (k < sizeof out)
            k += (size_t)snprintf(out + k, sizeof out - k, " %s=%s",
                                  r->metrics.v[i].name, vals[i]);
    }
    junit_case c = {.name = ds->task->name, .classname = "distilc.eval",
                    .seconds = r->seconds, .system_out = out};
    junit_suite s = {.name = "distilc eval", .timestamp = ts,
                     .seconds = r->seconds, .properties = props,
                     .n_properties = np, .cases = &c, .n_cases = 1};
    ir_diag d;
    ir_diag_init(&d);
    if (junit_write_file(path, &s, 1, &d) != IR_OK)
        return cli_fail(&d);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    const char *task_s = NULL, *data = NULL, *split_s = "dev", *limit_s = NULL,
               *vocab = NULL, *tokjson = NULL, *max_seq_s = NULL,
               *batch_s = NULL, *backend = NULL, *junit = NULL,
               *preds = NULL, *progress_s = "auto", *threads_s = NULL,
               *precision_s = NULL;
    bool json = false, skip_bad = false, no_lower = false;
    cli_option opts[] = {
        {"task", 0, CLI_VALUE, &task_s},
        {"data", 0, CLI_VALUE, &data},
        {"split", 0, CLI_VALUE, &split_s},
        {"limit", 0, CLI_VALUE, &limit_s},
        {"vocab", 0, CLI_VALUE, &vocab},
        {"tokenizer", 0, CLI_VALUE, &tokjson},
        {"no-lower", 0, CLI_FLAG, &no_lower},
        {"max-seq", 0, CLI_VALUE, &max_seq_s},
        {"batch", 0, CLI_VALUE, &batch_s},
        {"backend", 0, CLI_VALUE, &backend},
        {"threads", 0, CLI_VALUE, &threads_s},
        {"precision", 0, CLI_VALUE, &precision_s},
        {"json", 0, CLI_FLAG, &json},
        {"junit", 0, CLI_VALUE, &junit},
        {"predictions", 0, CLI_VALUE, &preds},
        {"skip-bad-lines", 0, CLI_FLAG, &skip_bad},
        {"progress", 0, CLI_VALUE, &progress_s},
        {NULL, 0, 0, NULL},
    };
    const char *pos[1];
    int npos;
    int rc = cli_parse("eval", argc, argv, opts, pos, 1, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    if (npos != 1 || !task_s || !data) {
        cli_error("eval: needs MODEL.onnx, --task and --data, see 'distilc "
                  "eval --help'");
        return 2;
    }
    const glue_task *task = glue_task_lookup(task_s);
    if (!task) {
        cli_error("eval: --task '%s' is not a GLUE task (%s)", task_s,
                  glue_task_names());
        return 2;
    }
    glue_split split;
    if (!glue_split_lookup(split_s, &split)) {
        cli_error("eval: --split '%s' is not a split (train, dev, test)",
                  split_s);
        return 2;
    }
    eval_options eo = eval_options_default();
    glue_load_opts lo = {.skip_bad_lines = skip_bad, .limit = 0};
    progress_mode pm;
    if ((limit_s && !parse_size("eval", "limit", limit_s, &lo.limit)) ||
        (max_seq_s && !parse_size("eval", "max-seq", max_seq_s, &eo.max_seq)) ||
        (batch_s && !parse_size("eval", "batch", batch_s, &eo.batch)))
        return 2;
    if (eo.max_seq < 2) {
        cli_error("eval: --max-seq must be at least 2 ([CLS] and [SEP])");
        return 2;
    }
    if (!progress_mode_parse(progress_s, &pm)) {
        cli_error("eval: --progress '%s' is not auto, bar, json or off",
                  progress_s);
        return 2;
    }
    eval_backend be = {backend, {RT_FP32, 0}};
    rt_options_default(&be.ro);
    if (backend && strcmp(backend, "ref") != 0 && strcmp(backend, "onednn") != 0) {
        cli_error("eval: --backend '%s' is not a backend (onednn, ref)", backend);
        return 2;
    }
    if (precision_s && !rt_precision_parse(precision_s, &be.ro.precision)) {
        cli_error("eval: --precision '%s' is not fp32, bf16 or int8", precision_s);
        return 2;
    }
    if (threads_s) {
        int64_t t;
        if (!cli_parse_positive("eval", "threads", threads_s, &t))
            return 2;
        be.ro.threads = t > 4096 ? 4096 : (int)t;
    }
    if (backend && strcmp(backend, "ref") == 0 &&
        (threads_s || be.ro.precision != RT_FP32)) {
        cli_error("eval: --threads and --precision apply to --backend onednn");
        return 2;
    }
    if ((rc = evalcmd_check_path("eval", "MODEL", pos[0])) != 0 ||
        (rc = evalcmd_check_path("eval", "--data", data)) != 0 ||
        (rc = evalcmd_check_path("eval", "--vocab", vocab)) != 0 ||
        (rc = evalcmd_check_path("eval", "--tokenizer", tokjson)) != 0)
        return rc;

    tok_tokenizer *tok = NULL;
    ir_graph *g = NULL;
    glue_dataset ds = {0};
    eval_result r = {0};
    ir_diag d;
    ir_diag_init(&d);
    if ((rc = evalcmd_load_tokenizer_opts("eval", vocab, tokjson, pos[0],
                                          no_lower, &tok)) != 0)
        goto done;
    if (glue_load(task, data, split, &lo, &ds, &d) != IR_OK) {
        rc = cli_fail(&d);
        goto done;
    }
    if (ds.n_skipped)
        cli_error("eval: warning: %s: skipped %zu malformed lines (first: "
                  "line %zu: %s)", ds.path, ds.n_skipped, ds.skipped_lines[0],
                  ds.first_skip_reason);
    if ((rc = evalcmd_load_model("eval", pos[0], &g)) != 0)
        goto done;
    if ((rc = eval_with_backend(&be, g, pos[0], &ds, tok, &eo, pm, task->name,
                                &r)) != 0)
        goto done;
    if (preds && (rc = write_predictions(preds, &ds, &r)) != 0)
        goto done;
    if (junit && (rc = write_eval_junit(junit, pos[0], &ds, &r)) != 0)
        goto done;
    if (json)
        print_json(stdout, pos[0], &ds, &r);
    else
        print_table(stdout, pos[0], &ds, &r);
    if (fflush(stdout) != 0)
        rc = 1;
done:
    eval_result_free(&r);
    glue_dataset_free(&ds);
    ir_graph_free(g);
    tok_free(tok);
    return rc;
}

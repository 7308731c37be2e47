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

#include "frontend/junit.h"
#include "frontend/json.h"
#include "frontend/onnx.h"
#include "frontend/user_data.h"
#include "ir/file_atomic.h"
#include "tools/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc eval MODEL.onnx --task T --data DIR [--split dev]\n"
            "       distilc eval MODEL.onnx --data DIR|--dev FILE [--train FILE]\n"
            "                    [--text-column C] [--label-column C] ...\n"
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
            "                    folder, or the .tsv file itself; without\n"
            "                    --task, your own data (below)\n");
    evalcmd_options_usage(f);
    fprintf(f,
            "  --precision P     onednn: fp32 (default), bf16 or int8\n");
    fprintf(f,
            "  --json            one JSON object: task, split, examples,\n"
            "                    metrics, seconds, backend, precision, ...\n"
            "  --junit FILE      also write a JUnit XML report\n"
            "  --predictions FILE  JSON lines, one per example in file order:\n"
            "                    {\"index\":i,\"line\":L,\"label\":k,"
            "\"logits\":[...]}\n"
            "                    (STS-B: \"score\" instead of \"label\")\n"
            "  --help            this text\n"
            "\n");
    cli_user_data_usage(f);
    fprintf(f,
            "A model made by distilc keeps its label names (ONNX metadata\n"
            "distilc.labels): with your own data they are the label set (no\n"
            "--train needed), and the table, --json (per_class) and\n"
            "--predictions (label_name) name the classes.\n"
            "\n"
            "Model inputs are matched by name: input_ids, attention_mask,\n"
            "token_type_ids, or other exporters' names for them (TF Hub's\n"
            "input_word_ids, input_mask, input_type_ids; segment_ids;\n"
            "tf2onnx's ':0' suffix); the output is 'logits' (or the first).\n"
            "Exit status: 0 ok, 1 failure, 2 bad input or usage.\n");
}

/* ---- the evaluation options eval and regress share ----------------------- */

void evalcmd_options_usage(FILE *f)
{
    fprintf(f,
            "  --split S         train, dev (default) or test (no labels)\n"
            "  --limit N         only the first N examples (of each task)\n"
            "  --vocab FILE      a BERT vocab.txt (uncased)\n"
            "  --tokenizer FILE  a Hugging Face tokenizer.json\n"
            "                    (default: vocab.txt or tokenizer.json beside\n"
            "                    the (base) model)\n"
            "  --no-lower        keep case and accents (cased vocab.txt)\n"
            "  --max-seq N       truncate pairs longest_first to N tokens (128)\n"
            "  --batch N         examples per batch (32)\n"
            "  --backend B       onednn: the compiled encoder runtime; ref: the\n"
            "                    reference interpreter. Default: onednn when\n"
            "                    the model is a BERT-style encoder it can\n"
            "                    lower, else ref (with a note on stderr)\n"
            "  --skip-bad-lines  count and skip malformed lines\n"
            "  --progress MODE   auto (a bar on a terminal, JSON lines on\n"
            "                    stderr otherwise), bar, json or off\n"
            "  --threads N       onednn: threads (default: all cores)\n");
}

void evalcmd_options_init(evalcmd_options *o)
{
    memset(o, 0, sizeof *o);
    o->split_s = "dev";
    cli_data_init(&o->data, CLI_DATA_VOCAB | CLI_DATA_TOKENIZER |
                                CLI_DATA_LIMIT | CLI_DATA_MAX_SEQ |
                                CLI_DATA_SKIP_BAD_LINES);
    cli_runtime_init(&o->runtime, CLI_RT_BATCH | CLI_RT_THREADS |
                                      CLI_RT_PRECISION,
                     "--precision '%s' is not fp32, bf16 or int8");
    cli_output_init(&o->output, CLI_OUT_PROGRESS,
                    "--progress '%s' is not auto, bar, json or off");
    cli_option *t = o->options;
    t[0] = (cli_option){"split", 0, CLI_VALUE, &o->split_s};
    t[1] = (cli_option){"no-lower", 0, CLI_FLAG, &o->no_lower};
    t[2] = (cli_option){"backend", 0, CLI_VALUE, &o->backend};
    t[3] = (cli_option){"data group", 0, CLI_GROUP, o->data.options};
    t[4] = (cli_option){"runtime group", 0, CLI_GROUP, o->runtime.options};
    t[5] = (cli_option){"output group", 0, CLI_GROUP, o->output.options};
    t[6] = (cli_option){0};
}

bool evalcmd_backend_is_ref(const evalcmd_options *o)
{
    return o->backend && strcmp(o->backend, "ref") == 0;
}

/* Turns the parsed values into the library's options and checks what the
 * parser cannot (exit status: 0, or 2 after printing the usage error
 * naming the option). */
static int options_check(const char *cmd, evalcmd_options *o)
{
    o->vocab = o->data.vocab;
    o->tokenizer = o->data.tokenizer;
    o->load = (glue_load_opts){.skip_bad_lines = o->data.skip_bad_lines,
                               .limit = (size_t)o->data.limit.value,
                               .offer_skip = true};
    o->eval = eval_options_default();
    if (o->data.max_seq.value)
        o->eval.max_seq = (size_t)o->data.max_seq.value;
    if (o->runtime.batch.value)
        o->eval.batch = (size_t)o->runtime.batch.value;
    o->progress = (progress_mode)o->output.progress.value;
    rt_options_default(&o->rt);
    if (o->runtime.precision.value >= 0)
        o->rt.precision = (ir_precision)o->runtime.precision.value;
    if (o->runtime.threads.value)
        o->rt.threads = o->runtime.threads.value > 4096 ? 4096
                                                  : (int)o->runtime.threads.value;
    if (!glue_split_lookup(o->split_s, &o->split)) {
        cli_error("%s: --split '%s' is not a split (train, dev, test)", cmd,
                  o->split_s);
        return 2;
    }
    if (o->eval.max_seq < 2) {
        cli_error("%s: --max-seq must be at least 2 ([CLS] and [SEP])", cmd);
        return 2;
    }
    if (o->backend && !evalcmd_backend_is_ref(o) &&
        strcmp(o->backend, "onednn") != 0) {
        cli_error("%s: --backend '%s' is not a backend (onednn, ref)", cmd,
                  o->backend);
        return 2;
    }
    if (evalcmd_backend_is_ref(o) &&
        (o->runtime.threads.value || o->runtime.precision.value >= 0)) {
        cli_error("%s: --threads and --precision apply to --backend onednn "
                  "(not ref)", cmd);
        return 2;
    }
    int rc;
    if ((rc = evalcmd_check_path(cmd, "--vocab", o->vocab)) != 0 ||
        (rc = evalcmd_check_path(cmd, "--tokenizer", o->tokenizer)) != 0)
        return rc;
    return 0;
}

int evalcmd_parse(const char *cmd, int argc, char **argv,
                  const cli_option *own, void (*usage)(FILE *),
                  evalcmd_options *o, const char **positional,
                  int max_positional, int *n_positional)
{
    const cli_option table[] = {
        {"own options", 0, CLI_GROUP, (void *)own},
        {"evaluation options", 0, CLI_GROUP, o->options},
        {0},
    };
    int rc = cli_parse(cmd, argc, argv, table, positional, max_positional,
                       n_positional);
    if (rc == CLI_HELP)
        usage(stdout);
    if (rc != CLI_OK)
        return rc;
    return options_check(cmd, o);
}

/* ---- a model on the backend the options chose ---------------------------- */

int evalcmd_model_open(const char *cmd, const char *path,
                       const evalcmd_options *o, ir_precision prec,
                       evalcmd_model *m)
{
    *m = (evalcmd_model){.path = path, .precision = prec};
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    if (onnx_load_file(path, NULL, &g, &d) != IR_OK)
        return cli_fail(&d);
    /* The interpreter's input checks run for both backends; they also tell
     * the runtime whether the model reads token_type_ids. */
    eval_model inputs;
    ir_status st = eval_model_init(&inputs, g, &d);
    if (st == IR_OK && !evalcmd_backend_is_ref(o)) {
        rt_options ro = o->rt;
        ro.precision = prec;
        st = engine_onednn_new(g, &ro, inputs.in_types >= 0, 8, &m->eng, &d);
        if (st == IR_OK) {
            /* The runtime packed its own copy of the weights: regress holds
             * two models, so the graph goes now. */
            ir_graph_free(g);
            return 0;
        }
        bool theirs = st == IR_ERR_UNSUPPORTED || st == IR_ERR_INPUT;
        /* An asked-for backend or precision is not silently dropped. */
        if (!o->backend && theirs && prec == IR_PRECISION_FP32) {
            cli_error("%s: note: %s: %s; using the reference interpreter", cmd,
                      path, d.msg);
            /* The failed lowering rewrote g in place (fused ops), which the
             * interpreter runs as well. */
            ir_diag_init(&d);
            st = IR_OK;
        }
    }
    if (st == IR_OK)
        st = engine_ref_new(g, &m->eng, &d); /* g is the engine's now */
    else
        ir_graph_free(g);
    if (st == IR_OK)
        return 0;
    ir_diag_prefix(&d, "%s", path);
    evalcmd_model_close(m);
    return cli_fail(&d);
}

int evalcmd_model_eval(evalcmd_model *m, const glue_dataset *ds,
                       const tok_tokenizer *tok, const evalcmd_options *o,
                       const char *label, eval_result *r)
{
    progress p;
    progress_init(&p, stderr, label, ds->n,
                  ir_dist_rank(o->dist) == 0 ? o->progress : PROGRESS_OFF);
    eval_options eo = o->eval;
    eo.dist = o->dist;
    if (eo.pad_id < 0)
        eo.pad_id = m->eng->pad_id; /* the model's own, when it has one */
    eo.progress = progress_callback;
    eo.progress_ctx = &p;
    ir_diag d;
    ir_diag_init(&d);
    ir_status st = eval_run(ds, tok, &eo, engine_eval_run, m->eng, r, &d);
    progress_finish(&p);
    if (st != IR_OK) {
        ir_diag_prefix(&d, "%s", m->path);
        return cli_fail(&d);
    }
    return 0;
}

const char *evalcmd_model_backend(const evalcmd_model *m)
{
    return m->eng->name;
}

void evalcmd_model_close(evalcmd_model *m)
{
    engine_free(m->eng);
    m->eng = NULL;
}

/* ---- shared helpers ------------------------------------------------------ */

void evalcmd_json_number(FILE *f, double v)
{
    json_write_number(f, v, 17);
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

void evalcmd_note_skipped(const char *cmd, const glue_dataset *ds)
{
    if (ds->n_skipped)
        cli_error("%s: warning: %s: skipped %zu malformed lines (first: line "
                  "%zu: %s)", cmd, ds->path, ds->n_skipped,
                  ds->skipped_lines[0], ds->first_skip_reason);
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

/* ---- eval ---------------------------------------------------------------- */

static int write_predictions(const char *path, const glue_dataset *ds,
                             const eval_result *r)
{
    ir_file_atomic out; /* a full disk leaves the old file, not half a new one */
    ir_diag d;
    ir_diag_init(&d);
    if (ir_file_atomic_open(&out, path, 0644, &d) != IR_OK) {
        cli_error("eval: --predictions: %s", d.msg);
        return 1;
    }
    FILE *f = out.f;
    for (size_t i = 0; i < r->n_examples; i++) {
        fprintf(f, "{\"index\":%zu,\"line\":%zu,", i, ds->examples[i].line);
        if (r->pred_class) {
            fprintf(f, "\"label\":%d,", r->pred_class[i]);
            if (ds->task->label_names) {
                fputs("\"label_name\":", f);
                cli_json_string(f, ds->task->label_names[r->pred_class[i]]);
                fputc(',', f);
            }
        } else {
            fputs("\"score\":", f);
            evalcmd_json_number(f, r->pred_score[i]);
            fputc(',', f);
        }
        fputs("\"logits\":[", f);
        for (size_t k = 0; k < r->n_labels; k++) {
            float v = r->logits[i * r->n_labels + k];
            if (k)
                fputc(',', f);
            json_write_number(f, v, 9); /* 9 digits: exact for a float */
        }
        fputs("]}\n", f);
    }
    if (ir_file_atomic_commit(&out, &d) != IR_OK) {
        cli_error("eval: --predictions: %s", d.msg);
        return 1;
    }
    return 0;
}

static void print_table(FILE *f, const evalcmd_model *m,
                        const glue_dataset *ds, const eval_result *r,
                        const metric_class *pc)
{
    fprintf(f, "model     %s\n", m->path);
    fprintf(f, "backend   %s", evalcmd_model_backend(m));
    if (m->eng->precision)
        fprintf(f, " %s", ir_precision_name(m->precision));
    fputc('\n', f);
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
        for (int k = 0; pc && k < ds->task->n_labels; k++)
            fprintf(f, "class %-16.40s precision %.4f recall %.4f f1 %.4f "
                    "(%zu examples)\n", ds->task->label_names[k],
                    pc[k].precision, pc[k].recall, pc[k].f1, pc[k].support);
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

static void print_json(FILE *f, const evalcmd_model *m,
                       const glue_dataset *ds, const eval_result *r,
                       const metric_class *pc)
{
    fputs("{\"task\":", f);
    cli_json_string(f, ds->task->name);
    fprintf(f, ",\"split\":\"%s\",\"examples\":%zu,\"metrics\":",
            glue_split_name(ds->split), r->n_examples);
    if (r->has_metrics) {
        evalcmd_json_metrics(f, &r->metrics);
        fprintf(f, ",\"main_metric\":\"%s\"", r->metrics.v[r->metrics.main].name);
        if (pc) {
            fputs(",\"per_class\":[", f);
            for (int k = 0; k < ds->task->n_labels; k++) {
                fputs(k ? ",{\"label\":" : "{\"label\":", f);
                cli_json_string(f, ds->task->label_names[k]);
                fputs(",\"precision\":", f);
                evalcmd_json_number(f, pc[k].precision);
                fputs(",\"recall\":", f);
                evalcmd_json_number(f, pc[k].recall);
                fputs(",\"f1\":", f);
                evalcmd_json_number(f, pc[k].f1);
                fprintf(f, ",\"support\":%zu}", pc[k].support);
            }
            fputc(']', f);
        }
    } else {
        fputs("{}", f);
    }
    fputs(",\"seconds\":", f);
    evalcmd_json_number(f, r->seconds);
    fputs(",\"model\":", f);
    cli_json_string(f, m->path);
    fprintf(f, ",\"backend\":\"%s\",\"precision\":\"%s\"",
            evalcmd_model_backend(m), ir_precision_name(m->precision));
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

int evalcmd_model_labels(const char *path, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    if (onnx_load_file(path, NULL, &g, &d) != IR_OK)
        return cli_fail(&d);
    ir_status st = IR_OK;
    for (int i = 0; i < g->n_meta && st == IR_OK; i++)
        if (strcmp(g->meta[i].key, TASK_LABELS_META) == 0 &&
            (st = task_labels_from_json(g->meta[i].value, names, n, &d)) !=
                IR_OK)
            ir_diag_prefix(&d, "%s", path);
    ir_graph_free(g);
    return st == IR_OK ? 0 : cli_fail(&d);
}

/* Per-class precision, recall and F1 of a classification with labels
 * (malloc'd, n_labels entries), or NULL. */
static metric_class *per_class(const glue_dataset *ds, const eval_result *r)
{
    const glue_task *t = ds->task;
    if (!r->has_metrics || !r->pred_class || !t->label_names)
        return NULL;
    ir_diag d;
    ir_diag_init(&d);
    int *gold = NULL;
    metric_class *pc = malloc((size_t)t->n_labels * sizeof *pc);
    if (!pc || glue_dataset_gold_classes(ds, &gold, &d) != IR_OK ||
        metrics_per_class(r->pred_class, gold, r->n_examples, t->n_labels, pc,
                          &d) != IR_OK) {
        free(pc);
        pc = NULL;
    }
    free(gold);
    return pc;
}

int cmd_eval(int argc, char **argv, ir_dist *dc)
{
    const char *task_s = NULL, *data = NULL, *junit = NULL, *preds = NULL;
    bool json = false;
    evalcmd_options eo;
    evalcmd_options_init(&eo);
    cli_user_data ud;
    cli_user_data_init(&ud);
    const cli_option own[] = {
        {"task", 0, CLI_VALUE, &task_s},
        {"data", 0, CLI_VALUE, &data},
        {"user data group", 0, CLI_GROUP, ud.options},
        {"json", 0, CLI_FLAG, &json},
        {"junit", 0, CLI_VALUE, &junit},
        {"predictions", 0, CLI_VALUE, &preds},
        {0},
    };
    const char *pos[1];
    int npos;
    int rc = evalcmd_parse("eval", argc, argv, own, usage, &eo, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc == CLI_HELP ? 0 : rc;
    /* under mpirun: the examples split across the ranks, rank 0 writes */
    eo.dist = dc;
    if (ir_dist_rank(dc) != 0)
        preds = junit = NULL;
    if (npos != 1 || (task_s && !data) ||
        (!task_s && !data && !ud.train && !ud.dev)) {
        cli_error("eval: needs MODEL.onnx, --task and --data (or your own "
                  "data: --data, --dev FILE), see 'distilc eval --help'");
        return 2;
    }
    if ((rc = evalcmd_check_path("eval", "MODEL", pos[0])) != 0 ||
        (data && (rc = evalcmd_check_path("eval", "--data", data)) != 0))
        return rc;
    if (!cli_check_output_file("eval", "--predictions", preds) ||
        !cli_check_output_file("eval", "--junit", junit))
        return 2;
    /* the user's own data: the label set the model was trained on, when it
     * keeps it, else train's */
    char **mlabels = NULL;
    size_t n_mlabels = 0;
    if (!task_s && (rc = evalcmd_model_labels(pos[0], &mlabels, &n_mlabels)) != 0)
        return rc;
    const glue_task *task = NULL;
    glue_task *owned = NULL;
    rc = cli_task_open("eval", task_s, data, &ud, eo.load.skip_bad_lines,
                       (const char *const *)mlabels, n_mlabels, &task,
                       &owned);
    task_labels_free(mlabels, n_mlabels);
    if (rc != 0)
        return rc;

    tok_tokenizer *tok = NULL;
    evalcmd_model m = {0};
    glue_dataset ds = {0};
    eval_result r = {0};
    metric_class *pc = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if ((rc = evalcmd_load_tokenizer_opts("eval", eo.vocab, eo.tokenizer,
                                          pos[0], eo.no_lower, &tok)) != 0)
        goto done;
    if (glue_load(task, data, eo.split, &eo.load, &ds, &d) != IR_OK) {
        rc = cli_fail(&d);
        goto done;
    }
    evalcmd_note_skipped("eval", &ds);
    if ((rc = evalcmd_model_open("eval", pos[0], &eo, eo.rt.precision,
                                 &m)) != 0 ||
        (rc = evalcmd_model_eval(&m, &ds, tok, &eo, task->name, &r)) != 0)
        goto done;
    pc = per_class(&ds, &r);
    if (preds && (rc = write_predictions(preds, &ds, &r)) != 0)
        goto done;
    if (junit && (rc = write_eval_junit(junit, pos[0], &ds, &r)) != 0)
        goto done;
    if (json)
        print_json(stdout, &m, &ds, &r, pc);
    else
        print_table(stdout, &m, &ds, &r, pc);
    if (fflush(stdout) != 0)
        rc = 1;
done:
    free(pc);
    eval_result_free(&r);
    glue_dataset_free(&ds);
    evalcmd_model_close(&m);
    tok_free(tok);
    user_task_free(owned);
    return rc;
}

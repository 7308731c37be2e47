/* cmd_run.c — `distilc run MODEL.onnx --input NAME=FILE.pb ... --output-dir
 * DIR`: runs a model on TensorProto inputs with the reference interpreter
 * (--backend ref) or the oneDNN encoder runtime (--backend onednn, which
 * compiles a BERT-style classifier through backend/rt_encoder.h) and writes DIR/output_K.pb for the K-th graph output (graph order, named
 * as the output), the layout of ONNX's own conformance cases, so the result
 * can be compared with any other runtime's.
 *
 * Every input is checked against the model's declaration before running:
 * unknown names, missing inputs and dtype/shape misfits are the user's input
 * (exit 2) and the message names the input and the file. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/rt_encoder.h"
#include "frontend/onnx.h"
#include "ir/input_role.h"
#include "ir/interp.h"
#include "ir/ir.h"
#include "passes/pass.h"
#include "tools/cli.h"
#include "tools/cli_groups.h"
#include "tools/cmds.h"
#include "tools/model_open.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc run MODEL.onnx --input NAME=FILE.pb ... "
            "--output-dir DIR\n"
            "                   [--backend ref|onednn] [--threads N]\n"
            "                   [--precision fp32|bf16|int8] [--passes LIST]\n"
            "\n"
            "Runs the model on the given inputs (serialized ONNX TensorProto\n"
            "files, as in ONNX's test_data_set folders) and writes\n"
            "DIR/output_K.pb for the K-th model output, in graph order.\n"
            "\n"
            "  --input NAME=FILE   one per model input (repeat the option)\n"
            "  --output-dir DIR    where output_K.pb go (created if needed)\n"
            "  --backend NAME      ref: the reference interpreter (default);\n"
            "                      onednn: the compiled encoder runtime, for\n"
            "                      BERT-style classifiers (inputs input_ids,\n"
            "                      attention_mask[, token_type_ids], or TF\n"
            "                      Hub's and tf2onnx's names for them; output\n"
            "                      logits); a graph it cannot lower is exit 2\n"
            "                      naming the layer and node\n"
            "  --threads N         onednn: threads (default: all cores)\n"
            "  --precision P       onednn: fp32 (default), bf16 or int8\n"
            "  --passes LIST       passes to run first, comma-separated, e.g.\n"
            "                      'default' (see distilc export-onnx --help)\n"
            "  --help              this text\n"
            "\n"
            "Exit status: 0 ok, 1 failure, 2 bad model, input or usage.\n");
}

/* mkdir -p; returns false with errno set. */
static bool make_dirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return false;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return false;
    struct stat st;
    if (stat(buf, &st) != 0)
        return false;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return false;
    }
    return true;
}

static void tensor_type_text(const ir_tensor *t, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "%s[", ir_dtype_name(t->dtype));
    for (int i = 0; i < t->rank && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%" PRId64, i ? "," : "",
                                 t->dims[i]);
    if (used < n)
        snprintf(buf + used, n - used, "]");
}

/* Symbolic dims seen so far, so that "batch" is one size across inputs. */
typedef struct sym_binding {
    const char *name;
    int64_t size;
    const char *input;
} sym_binding;

static ir_status check_input(const ir_value *decl, const ir_tensor *t,
                             const char *file, sym_binding *syms, int *n_syms,
                             ir_diag *d)
{
    char want[256], got[256];
    cli_format_type(decl, want, sizeof want);
    tensor_type_text(t, got, sizeof got);
    if (decl->dtype != IR_DT_UNDEF && t->dtype != decl->dtype)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "input '%s': %s holds %s but the model declares %s "
                           "(dtype differs)", decl->name, file, got, want);
    if (decl->rank >= 0 && t->rank != decl->rank)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "input '%s': %s holds %s but the model declares %s "
                           "(rank %d, not %d)", decl->name, file, got, want,
                           t->rank, decl->rank);
    for (int i = 0; decl->rank >= 0 && i < decl->rank; i++) {
        ir_dim dd = decl->dims[i];
        if (ir_dim_known(dd)) {
            if (dd.size != t->dims[i])
                return ir_diag_set(d, IR_ERR_INPUT,
                                   "input '%s': %s holds %s but the model "
                                   "declares %s (axis %d is %" PRId64
                                   ", not %" PRId64 ")",
                                   decl->name, file, got, want, i, t->dims[i],
                                   dd.size);
            continue;
        }
        if (!dd.sym)
            continue;
        int k = 0;
        while (k < *n_syms && strcmp(syms[k].name, dd.sym) != 0)
            k++;
        if (k == *n_syms) {
            if (*n_syms < 64) {
                syms[k].name = dd.sym;
                syms[k].size = t->dims[i];
                syms[k].input = decl->name;
                (*n_syms)++;
            }
        } else if (syms[k].size != t->dims[i]) {
            return ir_diag_set(d, IR_ERR_INPUT,
                               "input '%s': %s holds %s but dim '%s' is %" PRId64
                               " in input '%s'", decl->name, file, got, dd.sym,
                               syms[k].size, syms[k].input);
        }
    }
    return IR_OK;
}

/* --backend onednn: compiles g (rewriting it) and runs the inputs, which
 * have been checked against g's declarations already. */
static ir_status run_onednn(ir_graph *g, ir_tensor *const *given,
                            const rt_options *ro, ir_tensor **out, ir_diag *d)
{
    *out = NULL;
    int idx[IR_INPUT_ROLE_COUNT];
    if (ir_graph_input_roles(g, "it (--backend ref runs any model)", idx, d) != IR_OK) {
        ir_diag_prefix(d, "onednn backend");
        return d->status = IR_ERR_UNSUPPORTED;
    }
    if (g->n_outputs != 1)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "onednn backend: the model has %d outputs; it "
                           "computes one (logits); use --backend ref",
                           g->n_outputs);
    /* given[] is in g->inputs order; the roles say which is which */
    const ir_tensor *ids = given[idx[IR_INPUT_IDS]];
    const ir_tensor *mask = idx[IR_INPUT_MASK] >= 0 ? given[idx[IR_INPUT_MASK]] : NULL;
    const ir_tensor *types = idx[IR_INPUT_TYPES] >= 0 ? given[idx[IR_INPUT_TYPES]] : NULL;
    const ir_tensor *all[3] = {ids, mask, types};
    const char *names[3] = {"token ids", "mask", "token types"};
    for (int i = 0; i < 3; i++)
        if (all[i] && (all[i]->dtype != IR_DT_I64 || all[i]->rank != 2 ||
                       all[i]->dims[0] != ids->dims[0] ||
                       all[i]->dims[1] != ids->dims[1] || ids->dims[0] < 1 ||
                       ids->dims[1] < 1))
            return ir_diag_set(d, IR_ERR_INPUT,
                               "onednn backend: the %s input must be int64 "
                               "[batch, seq] like the token ids", names[i]);
    rt_model *m = NULL;
    ir_encoder *e = NULL;
    ir_status s = rt_model_from_graph(g, ro, &m, &e, d);
    if (s != IR_OK)
        return s;
    int64_t B = ids->dims[0], S = ids->dims[1];
    int64_t od[2] = {B, e->cfg.labels};
    ir_tensor *t = ir_tensor_new(IR_DT_F32, 2, od);
    if (!t)
        s = ir_diag_set(d, IR_ERR_NOMEM, "onednn backend: out of memory");
    if (s == IR_OK)
        s = rt_model_run(m, B, S, ids->data, types ? types->data : NULL,
                         mask ? mask->data : NULL, t->data, NULL, d);
    if (s != IR_OK)
        ir_tensor_free(t);
    else
        *out = t;
    rt_model_free(m);
    ir_encoder_free(e);
    return s;
}

/* The command line, parsed and checked. */
typedef struct run_args {
    const char *model, *out_dir, *passes;
    bool onednn;  /* --backend onednn */
    rt_options ro;
    /* --input NAME=FILE, split */
    size_t n_inputs;
    const char *names[CLI_LIST_MAX], *files[CLI_LIST_MAX];
    char name_buf[CLI_LIST_MAX][256];
} run_args;

/* Splits each NAME=FILE before loading anything, so usage errors come
 * first (exit status, 0 ok). */
static int split_inputs(const cli_list *inputs, run_args *a)
{
    for (size_t i = 0; i < inputs->n; i++) {
        const char *eq = strchr(inputs->items[i], '=');
        size_t len = eq ? (size_t)(eq - inputs->items[i]) : 0;
        if (!eq || len == 0 || eq[1] == '\0' || len >= sizeof a->name_buf[i]) {
            cli_error("run: option --input expects NAME=FILE.pb, got '%s'",
                      inputs->items[i]);
            return 2;
        }
        if (!cli_check_input_file("run", "input file", eq + 1))
            return 2;
        memcpy(a->name_buf[i], inputs->items[i], len);
        a->name_buf[i][len] = '\0';
        a->names[i] = a->name_buf[i];
        a->files[i] = eq + 1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(a->names[j], a->names[i]) == 0) {
                cli_error("run: input '%s' given twice (--input)", a->names[i]);
                return 2;
            }
    }
    a->n_inputs = inputs->n;
    return 0;
}

/* Exit status, or MODEL_ARGS_GO with *a filled. */
static int run_args_parse(int argc, char **argv, run_args *a)
{
    static const cli_name backends[] = {{"ref", 0}, {"onednn", 1}, {NULL, 0}};
    cli_list inputs = {0};
    cli_enum backend = {0, backends,
                        "option --backend: unknown backend '%s' (available: "
                        "ref, onednn)"};
    a->passes = a->out_dir = NULL;
    cli_runtime rt;
    cli_runtime_init(&rt, CLI_RT_THREADS | CLI_RT_PRECISION,
                     CLI_PRECISION_UNKNOWN);
    cli_option opts[] = {
        {"input", 'i', CLI_LIST, &inputs},
        {"output-dir", 0, CLI_VALUE, &a->out_dir},
        {"backend", 0, CLI_ENUM, &backend},
        {"passes", 0, CLI_VALUE, &a->passes},
        {"runtime group", 0, CLI_GROUP, rt.options},
        {0},
    };
    int rc = model_args_parse("run", argc, argv, opts, usage, &a->model);
    if (rc != MODEL_ARGS_GO)
        return rc;
    if (!a->out_dir) {
        cli_error("run: option --output-dir is required");
        return 2;
    }
    if (!cli_check_output_dir("run", "--output-dir", a->out_dir))
        return 2;
    a->onednn = backend.value == 1;
    rt_options_default(&a->ro);
    if (rt.precision.value >= 0)
        a->ro.precision = (ir_precision)rt.precision.value;
    if (rt.threads.value)
        a->ro.threads = rt.threads.value > 4096 ? 4096 : (int)rt.threads.value;
    if (!a->onednn && (rt.threads.value || a->ro.precision != IR_PRECISION_FP32)) {
        cli_error("run: options --threads and --precision need --backend onednn");
        return 2;
    }
    if ((rc = split_inputs(&inputs, a)) != 0)
        return rc;
    return MODEL_ARGS_GO;
}

/* Every --input names an input of g (exit status, 0 ok). */
static int check_input_names(const ir_graph *g, const run_args *a)
{
    for (size_t i = 0; i < a->n_inputs; i++) {
        int k = 0;
        while (k < g->n_inputs && strcmp(g->inputs[k]->name, a->names[i]) != 0)
            k++;
        if (k < g->n_inputs)
            continue;
        char list[1024] = "";
        size_t used = 0;
        for (int j = 0; j < g->n_inputs && used < sizeof list; j++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                     j ? ", " : "", g->inputs[j]->name);
        cli_error("run: '%s' is not an input of %s (its inputs: %s)",
                  a->names[i], a->model, g->n_inputs ? list : "none");
        return 2;
    }
    return 0;
}

/* Reads given[k] for each input of g, in g's order, each checked against
 * its declaration (exit status, 0 ok). */
static int read_inputs(const ir_graph *g, const run_args *a, ir_tensor **given)
{
    ir_diag d;
    ir_diag_init(&d);
    sym_binding syms[64];
    int n_syms = 0;
    for (int k = 0; k < g->n_inputs; k++) {
        size_t i = 0;
        while (i < a->n_inputs && strcmp(a->names[i], g->inputs[k]->name) != 0)
            i++;
        if (i == a->n_inputs) {
            char want[256];
            cli_format_type(g->inputs[k], want, sizeof want);
            cli_error("run: missing input '%s' (%s): give --input %s=FILE.pb",
                      g->inputs[k]->name, want, g->inputs[k]->name);
            return 2;
        }
        if (onnx_tensor_read_file(a->files[i], &given[k], NULL, &d) != IR_OK) {
            ir_diag_prefix(&d, "input '%s'", a->names[i]);
            return cli_fail(&d);
        }
        if (check_input(g->inputs[k], given[k], a->files[i], syms, &n_syms,
                        &d) != IR_OK)
            return cli_fail(&d);
    }
    return 0;
}

/* DIR/output_K.pb for each output (exit status, 0 ok). */
static int write_outputs(const ir_graph *g, const char *out_dir,
                         ir_tensor *const *outs)
{
    if (!make_dirs(out_dir)) {
        cli_error("run: cannot create output folder '%s': %s", out_dir,
                  strerror(errno));
        return 1;
    }
    ir_diag d;
    ir_diag_init(&d);
    for (int k = 0; k < g->n_outputs; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/output_%d.pb", out_dir, k);
        if (onnx_tensor_write_file(path, outs[k], g->outputs[k]->name, &d) !=
            IR_OK)
            return cli_fail(&d);
        char type[256];
        tensor_type_text(outs[k], type, sizeof type);
        printf("%s  %s -> %s\n", g->outputs[k]->name, type, path);
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    run_args a;
    int rc = run_args_parse(argc, argv, &a);
    if (rc != MODEL_ARGS_GO)
        return rc;
    if (!cli_check_input_file("run", "model", a.model))
        return 2;
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    if (onnx_load_file(a.model, NULL, &g, &d) != IR_OK)
        return cli_fail(&d);
    int status = 0;
    ir_tensor **given = NULL, **outs = NULL, *onednn_out = NULL;

    if (a.passes) {
        pass_ctx ctx;
        pass_ctx_init(&ctx, &d);
        if (pass_run_list(g, a.passes, &ctx) != IR_OK) {
            status = cli_fail(&d);
            goto done;
        }
    }
    given = calloc((size_t)g->n_inputs + 1, sizeof *given);
    if (!given) {
        cli_error("run: out of memory");
        status = 1;
        goto done;
    }
    if ((status = check_input_names(g, &a)) != 0 ||
        (status = read_inputs(g, &a, given)) != 0)
        goto done;
    if (a.onednn) {
        if (run_onednn(g, given, &a.ro, &onednn_out, &d) != IR_OK) {
            status = cli_fail(&d);
            goto done;
        }
    } else if (ir_interp_run(g, (const ir_tensor *const *)given, &outs, &d) !=
               IR_OK) {
        status = cli_fail(&d);
        goto done;
    }
    /* the onednn backend computes the one output */
    status = write_outputs(g, a.out_dir, a.onednn ? &onednn_out : outs);

done:
    ir_tensor_free(onednn_out);
    if (outs)
        ir_interp_free_outputs(g, outs);
    if (given) {
        for (int k = 0; k < g->n_inputs; k++)
            ir_tensor_free(given[k]);
        free(given);
    }
    ir_graph_free(g);
    return status;
}

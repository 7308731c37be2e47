/* cmd_inspect.c — `distilc inspect MODEL.onnx`: what a model is before
 * anything is done to it: opset, producer, interface types (symbolic dims
 * kept), op histogram, parameter count and bytes, FLOPs at a given batch and
 * sequence length (rule in ir/flops.h), and ops distilc does not support.
 *
 * A model with unsupported ops is still inspected (loaded with
 * allow_unknown_ops; those nodes are dropped and listed): inspect's job is to
 * report, so it exits 0 and lists them ("unsupported_ops" in --json). The
 * commands that compute (run, export-onnx) refuse such a model with exit 2.
 *
 * --explain adds why the model does or does not become an encoder (the
 * runtime's, trainer's and program's way in): each fusion pass's fused and
 * declined blocks and the encoder lift's verdict (tools/inspect_explain.c,
 * the data from passes/encoder_explain.h). A refusal is reported, not an
 * error: inspect still exits 0. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "ir/flops.h"
#include "ir/ir.h"
#include "passes/pass.h"
#include "tools/cli.h"
#include "tools/cli_groups.h"
#include "tools/cmds.h"
#include "tools/inspect_explain.h"
#include "tools/model_open.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc inspect MODEL.onnx [--seq N] [--batch N] [--explain]\n"
            "                       [--json]\n"
            "\n"
            "Describes an ONNX model: opset, producer, inputs and outputs with\n"
            "their types (symbolic dims shown by name), op histogram, parameter\n"
            "count and bytes (the initializers), FLOPs at the given batch and\n"
            "sequence length (MatMul/Gemm 2*M*N*K, elementwise 1 per element,\n"
            "Softmax/LayerNorm 5 per element), and unsupported ops if any.\n"
            "\n"
            "  --batch N   batch size for the FLOP count (default 1)\n"
            "  --seq N     sequence length for the FLOP count (default 128)\n"
            "  --explain   also run the passes \"default,fuse\" and the encoder\n"
            "              lift (what run, build, distill and compress do):\n"
            "              each fusion pass's fused and declined blocks (the\n"
            "              node, what the pass looked for, where it broke),\n"
            "              and whether the lift takes the model, or the layer,\n"
            "              node and expectation where it stopped\n"
            "  --json      one JSON object instead of the table\n"
            "  --help      this text\n"
            "\n"
            "Exit status: 0 (also when unsupported ops are listed or the lift\n"
            "refuses the model), 1 failure,\n"
            "2 unreadable or invalid model or bad usage.\n");
}

/* Op histogram in op-table order; unknown ops are counted separately. */
typedef struct op_count {
    int64_t n[IR_OP_COUNT];
} op_count;

static void print_values_json(FILE *f, ir_value **vs, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        const ir_value *v = vs[i];
        fprintf(f, "%s{\"name\":", i ? "," : "");
        cli_json_string(f, v->name);
        fprintf(f, ",\"dtype\":");
        cli_json_string(f, v->dtype == IR_DT_UNDEF ? "?" : ir_dtype_name(v->dtype));
        fprintf(f, ",\"shape\":");
        if (v->rank < 0) {
            fputs("null", f);
        } else {
            fputc('[', f);
            for (int k = 0; k < v->rank; k++) {
                if (k)
                    fputc(',', f);
                if (ir_dim_known(v->dims[k]))
                    fprintf(f, "%" PRId64, v->dims[k].size);
                else if (v->dims[k].sym)
                    cli_json_string(f, v->dims[k].sym);
                else
                    fputs("null", f);
            }
            fputc(']', f);
        }
        fputc('}', f);
    }
    fputc(']', f);
}

static void print_values_text(FILE *f, const char *title, ir_value **vs, int n)
{
    fprintf(f, "%s:\n", title);
    for (int i = 0; i < n; i++) {
        char type[256];
        cli_format_type(vs[i], type, sizeof type);
        fprintf(f, "  %-32s %s\n", vs[i]->name, type);
    }
}

/* FLOPs at batch x seq, or why they are unavailable. */
typedef struct flop_count {
    int64_t batch, seq;
    bool have;        /* sizes were found and fl counted */
    ir_flops fl;
    char note[512];   /* why sizes stayed unknown, if known */
    ir_diag why;      /* why there are no FLOPs (!have) */
} flop_count;

/* FLOPs need sizes: shapes are inferred with batch/seq fixed, on a second
 * copy so that the report shows the interface as declared (symbolic dims),
 * not as fixed for counting. A failure here does not fail inspect; the
 * report says why FLOPs are missing. */
static void count_flops(const char *model, bool has_unknown, flop_count *fc)
{
    ir_diag_init(&fc->why);
    pass_ctx ctx;
    pass_ctx_init(&ctx, &fc->why);
    ctx.fix_batch = fc->batch;
    ctx.fix_seq = fc->seq;
    memset(&fc->fl, 0, sizeof fc->fl);
    fc->have = false;
    fc->note[0] = '\0';
    if (has_unknown) {
        ir_diag_set(&fc->why, IR_ERR_UNSUPPORTED,
                    "the model has unsupported ops");
        return;
    }
    ir_graph *sized = NULL;
    onnx_load_opts lo = {.allow_unknown_ops = true, .unknown_out = NULL};
    /* Exporters compute Reshape targets with Shape/Gather/Concat chains:
     * sizes are only known after folding them (batch and seq fixed), so
     * the cleanup pipeline runs first; plain inference is the fallback. */
    fc->have = onnx_load_file(model, &lo, &sized, &fc->why) == IR_OK &&
               pass_run_list(sized, "default,infer-shapes", &ctx) == IR_OK;
    if (!fc->have && sized) {
        snprintf(fc->note, sizeof fc->note, "%s", fc->why.msg);
        ir_graph_free(sized);
        sized = NULL;
        ir_diag_init(&fc->why);
        fc->have = onnx_load_file(model, &lo, &sized, &fc->why) == IR_OK &&
                   pass_run_list(sized, "infer-shapes", &ctx) == IR_OK;
    }
    if (fc->have)
        ir_graph_flops(sized, &fc->fl);
    ir_graph_free(sized);
}

/* What the report says about the model as given. */
typedef struct inspect_report {
    const char *model;
    const ir_graph *g;
    int64_t params, param_bytes;
    op_count hist;
    const char *unknown; /* the loader's list of unsupported nodes grouped
                            by op, or NULL */
    const char *unknown_ops; /* their op names, one per line, or NULL */
    flop_count fc;
    const encoder_explain *ex; /* --explain, else NULL */
} inspect_report;

static void print_flops_json(FILE *f, const flop_count *fc)
{
    fprintf(f, ",\"flops\":");
    if (fc->have)
        fprintf(f,
                "{\"batch\":%" PRId64 ",\"seq\":%" PRId64
                ",\"total\":%.0f,\"matmul\":%.0f,\"elementwise\":%.0f,"
                "\"normalize\":%.0f,\"reduce\":%.0f,\"uncounted_nodes\":%" PRId64
                "}",
                fc->batch, fc->seq, fc->fl.total, fc->fl.matmul,
                fc->fl.elementwise, fc->fl.normalize, fc->fl.reduce,
                fc->fl.uncounted);
    if (fc->have && fc->note[0]) {
        fprintf(f, ",\"flops_note\":");
        cli_json_string(f, fc->note);
    }
    if (!fc->have) {
        fprintf(f, "null,\"flops_error\":");
        cli_json_string(f, fc->why.msg);
    }
}

static void print_json(FILE *f, const inspect_report *r)
{
    const ir_graph *g = r->g;
    fprintf(f, "{\"file\":");
    cli_json_string(f, r->model);
    fprintf(f, ",\"ir_version\":%" PRId64 ",\"opset\":%" PRId64, g->ir_version,
            g->opset);
    fprintf(f, ",\"producer\":");
    cli_json_string(f, g->producer_name);
    fprintf(f, ",\"producer_version\":");
    cli_json_string(f, g->producer_version);
    fprintf(f, ",\"inputs\":");
    print_values_json(f, g->inputs, g->n_inputs);
    fprintf(f, ",\"outputs\":");
    print_values_json(f, g->outputs, g->n_outputs);
    fprintf(f, ",\"nodes\":%d,\"ops\":{", g->n_nodes);
    bool first = true;
    for (int op = 0; op < IR_OP_COUNT; op++) {
        if (!r->hist.n[op])
            continue;
        fprintf(f, "%s", first ? "" : ",");
        cli_json_string(f, ir_op_name((ir_op)op));
        fprintf(f, ":%" PRId64, r->hist.n[op]);
        first = false;
    }
    fprintf(f, "},\"parameters\":%" PRId64 ",\"parameter_bytes\":%" PRId64,
            r->params, r->param_bytes);
    print_flops_json(f, &r->fc);
    fprintf(f, ",\"unsupported_ops\":[");
    for (const char *p = r->unknown_ops; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char name[512];
        snprintf(name, sizeof name, "%.*s", (int)(n < 511 ? n : 511), p);
        fprintf(f, "%s", p != r->unknown_ops ? "," : "");
        cli_json_string(f, name);
        p += n + (nl != NULL);
    }
    fprintf(f, "]");
    if (r->unknown) {
        fprintf(f, ",\"unsupported_nodes\":");
        cli_json_string(f, r->unknown);
    }
    if (r->ex)
        inspect_explain_json(f, r->ex);
    fprintf(f, "}\n");
}

static void print_text(FILE *f, const inspect_report *r)
{
    const ir_graph *g = r->g;
    const flop_count *fc = &r->fc;
    fprintf(f, "model      %s\n", r->model);
    fprintf(f, "producer   %s %s\n", g->producer_name ? g->producer_name : "?",
            g->producer_version ? g->producer_version : "");
    fprintf(f, "ir/opset   %" PRId64 " / %" PRId64 "\n", g->ir_version, g->opset);
    fprintf(f, "parameters %" PRId64 " (%.2f MB)\n", r->params,
            (double)r->param_bytes / 1e6);
    if (fc->have)
        fprintf(f,
                "flops      %.4g GFLOP at batch %" PRId64 ", seq %" PRId64
                " (matmul %.4g, elementwise %.4g, softmax/layernorm %.4g, "
                "reduce %.4g%s)\n",
                fc->fl.total / 1e9, fc->batch, fc->seq, fc->fl.matmul / 1e9,
                fc->fl.elementwise / 1e9, fc->fl.normalize / 1e9,
                fc->fl.reduce / 1e9,
                fc->fl.uncounted ? "; some nodes uncounted: unknown shapes" : "");
    else
        fprintf(f, "flops      unavailable: %s\n", fc->why.msg);
    if (fc->have && fc->fl.uncounted && fc->note[0])
        fprintf(f, "           (sizes unknown: %s)\n", fc->note);
    print_values_text(f, "inputs", g->inputs, g->n_inputs);
    print_values_text(f, "outputs", g->outputs, g->n_outputs);
    fprintf(f, "ops (%d nodes):\n", g->n_nodes);
    for (int op = 0; op < IR_OP_COUNT; op++)
        if (r->hist.n[op])
            fprintf(f, "  %-24s %6" PRId64 "\n", ir_op_name((ir_op)op),
                    r->hist.n[op]);
    if (r->unknown)
        fprintf(f, "unsupported ops: %s\n", r->unknown);
    if (r->ex)
        inspect_explain_text(f, r->ex);
}

int cmd_inspect(int argc, char **argv)
{
    cli_runtime rt;
    cli_runtime_init(&rt, CLI_RT_SEQ | CLI_RT_BATCH, NULL);
    cli_output out;
    cli_output_init(&out, CLI_OUT_JSON, NULL);
    bool explain = false;
    cli_option opts[] = {
        {"runtime group", 0, CLI_GROUP, rt.options},
        {"explain", 0, CLI_FLAG, &explain},
        {"output group", 0, CLI_GROUP, out.options},
        {0},
    };
    const char *model;
    int rc = model_args_parse("inspect", argc, argv, opts, usage, &model);
    if (rc != MODEL_ARGS_GO)
        return rc;
    if (!cli_check_input_file("inspect", "model", model))
        return 2;
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    char *unknown = NULL, *unknown_ops = NULL;
    onnx_load_opts lo = {.allow_unknown_ops = true, .unknown_out = &unknown,
                         .unknown_ops_out = &unknown_ops};
    if (onnx_load_file(model, &lo, &g, &d) != IR_OK)
        return cli_fail(&d); /* the lists are freed and NULL on failure */
    inspect_report *r = calloc(1, sizeof *r);
    if (!r) {
        free(unknown);
        free(unknown_ops);
        ir_graph_free(g);
        cli_error("inspect: out of memory");
        return 1;
    }
    r->model = model;
    r->g = g;
    r->unknown = unknown;
    r->unknown_ops = unknown_ops;
    /* Parameters are counted before any pass: the model as given. */
    ir_graph_param_stats(g, &r->params, &r->param_bytes);
    for (int i = 0; i < g->n_nodes; i++)
        if ((int)g->nodes[i]->op >= 0 && g->nodes[i]->op < IR_OP_COUNT)
            r->hist.n[g->nodes[i]->op]++;
    r->fc.batch = rt.batch.value ? rt.batch.value : 1;
    r->fc.seq = rt.seq.value ? rt.seq.value : 128;
    count_flops(model, unknown != NULL, &r->fc);
    encoder_explain ex;
    if (explain) {
        if (encoder_explain_onnx(model, &ex, &d) != IR_OK) {
            encoder_explain_free(&ex);
            free(r);
            free(unknown);
            free(unknown_ops);
            ir_graph_free(g);
            return cli_fail(&d);
        }
        r->ex = &ex;
    }
    if (out.json)
        print_json(stdout, r);
    else
        print_text(stdout, r);
    if (explain)
        encoder_explain_free(&ex);
    free(r);
    free(unknown);
    free(unknown_ops);
    ir_graph_free(g);
    return 0;
}

/* registry.c — the pass manager: the table of named passes, pipelines given
 * as comma-separated lists, the verifier between passes and the dumps.
 *
 * Adding a pass: one file under passes/, its declaration in pass.h, one row
 * in pass_table below. */
#include "passes/pass.h"
#include "passes/fuse.h"

#include <string.h>

static const pass_info pass_table[] = {
    {"infer-shapes", "infer dtypes and shapes, naming unknown input dims",
     pass_infer_shapes},
    {"fold", "evaluate constant subgraphs (and Shape/Size of static shapes)",
     pass_fold_constants},
    {"simplify-shapes", "replace Shape arithmetic by constants and *Like ops",
     pass_simplify_shapes},
    {"dce", "remove nodes whose results are never used", pass_dce},
    {"lower-internal", "rewrite internal ops into standard ONNX ops",
     pass_lower_internal},
    /* fusions (passes/fuse_*.c); "fuse" runs them all in order */
    {"fuse", "all fusions in order: " FUSE_PIPELINE, pass_fuse},
    {"fuse-ms-ops", "ONNX Runtime's com.microsoft fused ops -> distilc's",
     pass_fuse_ms_ops},
    {"fuse-layer-norm", "decomposed LayerNorm / LayerNormalization -> LayerNorm",
     pass_fuse_layer_norm},
    {"fuse-gelu", "erf and tanh forms of GELU -> Gelu", pass_fuse_gelu},
    {"fuse-embed-layer-norm", "word+position+type embeddings + LayerNorm -> "
     "EmbedLayerNorm", pass_fuse_embed_layer_norm},
    {"fuse-attention", "self-attention block -> Attention", pass_fuse_attention},
    {"fuse-linear", "MatMul/Gemm + bias + activation -> Linear",
     pass_fuse_linear},
    {"fuse-add-layer-norm", "residual Add + LayerNorm -> AddLayerNorm",
     pass_fuse_add_layer_norm},
};
#define PASS_COUNT ((int)(sizeof pass_table / sizeof pass_table[0]))

static const char default_pipeline[] =
    "infer-shapes,fold,simplify-shapes,fold,dce";

void pass_ctx_init(pass_ctx *ctx, ir_diag *d)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->diag = d;
#ifdef NDEBUG
    ctx->verify = false;
#else
    ctx->verify = true;
#endif
    ctx->dump_after = NULL;
    ctx->dump_out = NULL;
}

const pass_info *pass_find(const char *name)
{
    for (int i = 0; i < PASS_COUNT; i++)
        if (strcmp(pass_table[i].name, name) == 0)
            return &pass_table[i];
    return NULL;
}

const pass_info *pass_list_all(int *count)
{
    if (count)
        *count = PASS_COUNT;
    return pass_table;
}

/* True when `name` is one of the comma-separated words of `list`, or the
 * list is "all". */
static bool list_has(const char *list, const char *name)
{
    if (!list)
        return false;
    size_t len = strlen(name);
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if ((n == 3 && strncmp(p, "all", 3) == 0) ||
            (n == len && strncmp(p, name, n) == 0))
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static ir_status run_one(ir_graph *g, const pass_info *p, pass_ctx *ctx)
{
    ir_status st = p->fn(g, ctx);
    if (st != IR_OK)
        return ir_diag_prefix(ctx->diag, "pass '%s'", p->name);
    if (ctx->verify) {
        st = ir_graph_verify(g, ctx->diag);
        if (st != IR_OK)
            return ir_diag_prefix(ctx->diag,
                                  "graph invalid after pass '%s'", p->name);
    }
    if (list_has(ctx->dump_after, p->name)) {
        FILE *out = ctx->dump_out ? ctx->dump_out : stdout;
        fprintf(out, "# after %s\n", p->name);
        ir_graph_print(g, out);
    }
    return IR_OK;
}

static ir_status unknown_pass(ir_diag *d, const char *name, size_t n)
{
    char valid[512] = "";
    for (int i = 0; i < PASS_COUNT; i++) {
        size_t used = strlen(valid);
        snprintf(valid + used, sizeof valid - used, "%s%s", i ? ", " : "",
                 pass_table[i].name);
    }
    return ir_diag_set(d, IR_ERR_INPUT,
                       "unknown pass '%.*s'; valid passes: %s, default (= %s)",
                       (int)n, name, valid, default_pipeline);
}

ir_status pass_run_list(ir_graph *g, const char *list, pass_ctx *ctx)
{
    if (!list)
        return IR_OK;
    /* Check every name before running anything, so a typo at the end of a
     * long pipeline is reported before the work is done. */
    for (int check = 1; check >= 0; check--) {
        const char *p = list;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            while (n && *p == ' ') { p++; n--; }
            while (n && p[n - 1] == ' ') n--;
            if (n == 0) {
                /* empty item ("a,,b" or trailing comma): ignore */
            } else if (n == 7 && strncmp(p, "default", 7) == 0) {
                if (!check) {
                    ir_status st = pass_run_list(g, default_pipeline, ctx);
                    if (st != IR_OK)
                        return st;
                }
            } else {
                char name[64];
                const pass_info *pi = NULL;
                if (n < sizeof name) {
                    memcpy(name, p, n);
                    name[n] = '\0';
                    pi = pass_find(name);
                }
                if (!pi)
                    return unknown_pass(ctx->diag, p, n);
                if (!check) {
                    ir_status st = run_one(g, pi, ctx);
                    if (st != IR_OK)
                        return st;
                }
            }
            if (!e)
                break;
            p = e + 1;
        }
    }
    return IR_OK;
}

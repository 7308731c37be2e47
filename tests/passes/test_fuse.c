/* test_fuse.c — the fusion passes on small graphs built by hand in the
 * forms exporters write: each graph is run through the reference
 * interpreter, fused, checked for the expected op histogram, and run again;
 * outputs must agree within 1e-5 (absolute, plus 1e-5 relative).
 *
 * Forms covered: MatMul+Add(+Gelu/Relu/Tanh) and Gemm (transB, alpha, beta)
 * -> Linear; decomposed LayerNorm (Pow and Mul squares, Div and Reciprocal)
 * and LayerNormalization -> LayerNorm; GELU erf form in three association
 * orders and the tanh form -> Gelu (-> Linear activation); a BERT
 * self-attention block with Hugging Face's mask (finfo.min and -10000) and
 * with an additive mask input, k transposed in one or two steps, and the
 * mask over MPNet's position bias (the fused op's input 4) -> Attention;
 * residual Add + LayerNorm -> AddLayerNorm; word+type+position embeddings
 * + LayerNorm -> EmbedLayerNorm; and a decline (LayerNorm over axis 1).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "ir/interp.h"
#include "passes/fuse.h"
#include "testutil.h"

/* ---- helpers ---------------------------------------------------------------- */

static uint32_t rng_state = 12345u;
static float rnd(void) /* uniform in [-1, 1) */
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static ir_tensor *rand_tensor(int rank, const int64_t *dims, float scale)
{
    ir_tensor *t = ir_tensor_new(IR_DT_F32, rank, dims);
    for (int64_t i = 0; i < ir_tensor_numel(t); i++)
        ((float *)t->data)[i] = scale * rnd();
    return t;
}

static ir_value *rand_const(ir_graph *g, const char *name, int rank,
                            const int64_t *dims, float scale)
{
    return ir_graph_add_constant(g, name, rand_tensor(rank, dims, scale));
}

static ir_value *scalar(ir_graph *g, const char *name, float v)
{
    ir_tensor *t = ir_tensor_new(IR_DT_F32, 0, NULL);
    ((float *)t->data)[0] = v;
    return ir_graph_add_constant(g, ir_graph_unique_name(g, name), t);
}

static ir_value *ints(ir_graph *g, const char *name, int n, const int64_t *v)
{
    ir_tensor *t = ir_tensor_new(IR_DT_I64, 1, (int64_t[]){n});
    memcpy(t->data, v, sizeof(int64_t) * (size_t)n);
    return ir_graph_add_constant(g, ir_graph_unique_name(g, name), t);
}

static int count_op(const ir_graph *g, ir_op op)
{
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++)
        c += g->nodes[i]->op == op;
    return c;
}

static double max_diff(const ir_tensor *a, const ir_tensor *b)
{
    if (!ir_tensor_same_shape(a, b))
        return INFINITY;
    double m = 0.0;
    for (int64_t i = 0; i < ir_tensor_numel(a); i++) {
        double x = ((float *)a->data)[i], y = ((float *)b->data)[i];
        double d = fabs(x - y) / (1.0 + fabs(y));
        if (!(d <= m))
            m = d;
    }
    return m;
}

/* Runs g on ins, fuses with `passes`, runs again, compares output 0. Returns
 * the fuse report of the last pass via pass list (NULL = whole pipeline). */
static void fuse_and_compare(ir_graph *g, const ir_tensor *const *ins,
                             const char *passes, const char *what)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_tensor **before = NULL, **after = NULL;
    ir_status st = ir_interp_run(g, ins, &before, &d);
    CHECK_MSG(st == IR_OK, "%s: run before: %s", what, d.msg);
    pass_ctx ctx;
    pass_ctx_init(&ctx, &d);
    ctx.verify = true;
    st = pass_run_list(g, passes, &ctx);
    CHECK_MSG(st == IR_OK, "%s: fuse: %s", what, d.msg);
    st = ir_interp_run(g, ins, &after, &d);
    CHECK_MSG(st == IR_OK, "%s: run after: %s", what, d.msg);
    if (before && after) {
        double e = max_diff(after[0], before[0]);
        CHECK_MSG(e <= 1e-5, "%s: outputs differ by %g after fusion", what, e);
        printf("%-44s max rel diff %.2e\n", what, e);
    }
    ir_interp_free_outputs(g, before);
    ir_interp_free_outputs(g, after);
}

/* The report of one fusion run on g (which must succeed). */
static fuse_report fuse_report_of(ir_graph *g,
                                  ir_status (*run)(ir_graph *, pass_ctx *,
                                                   fuse_report *))
{
    ir_diag d;
    ir_diag_init(&d);
    pass_ctx ctx;
    pass_ctx_init(&ctx, &d);
    fuse_report rep = {0};
    CHECK_MSG(run(g, &ctx, &rep) == IR_OK, "%s", d.msg);
    return rep;
}

/* ---- Linear ---------------------------------------------------------------- */

enum { B = 2, S = 5, K = 8, N = 6 };

static ir_value *input_bsk(ir_graph *g, const char *name, int64_t k)
{
    ir_dim d[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(k)};
    return ir_graph_add_input(g, name, IR_DT_F32, 3, d);
}

static void test_linear(ir_op act, bool bias_first, const char *act_name)
{
    ir_graph *g = ir_graph_new("linear");
    g->opset = 14;
    ir_value *x = input_bsk(g, "x", K);
    ir_value *w = rand_const(g, "W", 2, (int64_t[]){K, N}, 0.5f);
    ir_value *b = rand_const(g, "b", 1, (int64_t[]){N}, 0.5f);
    ir_value *y = ir_node_make1(g, IR_OP_MATMUL, "mm", x, w);
    y = bias_first ? ir_node_make1(g, IR_OP_ADD, "bias", b, y)
                   : ir_node_make1(g, IR_OP_ADD, "bias", y, b);
    if (act != IR_OP_COUNT)
        y = ir_node_make1(g, act, "act", y, NULL);
    ir_graph_mark_output(g, y);
    ir_tensor *xt = rand_tensor(3, (int64_t[]){B, S, K}, 1.0f);
    const ir_tensor *ins[1] = {xt};
    char what[64];
    snprintf(what, sizeof what, "Linear %s", act_name);
    fuse_and_compare(g, ins, "fuse", what);
    CHECK(count_op(g, IR_OP_LINEAR) == 1 && g->n_nodes == 1);
    CHECK(strcmp(ir_node_attr_string(g->nodes[0], "activation", "?"),
                 act_name) == 0);
    ir_tensor_free(xt);
    ir_graph_free(g);
}

static void test_gemm(void)
{
    ir_graph *g = ir_graph_new("gemm");
    g->opset = 13;
    ir_dim d[2] = {ir_dim_sym(g, "batch"), ir_dim_const(K)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, d);
    ir_value *w = rand_const(g, "W", 2, (int64_t[]){N, K}, 0.5f); /* [N,K] */
    ir_value *c = rand_const(g, "c", 1, (int64_t[]){N}, 0.5f);
    ir_value *in[3] = {x, w, c};
    ir_node *gm = ir_graph_add_node(g, IR_OP_GEMM, "gemm", 3, in, 1);
    ir_node_set_attr_int(g, gm, "transB", 1);
    ir_node_set_attr_float(g, gm, "alpha", 0.5f);
    ir_node_set_attr_float(g, gm, "beta", 2.0f);
    ir_value *y = ir_node_make1(g, IR_OP_TANH, "act", gm->outputs[0], NULL);
    ir_graph_mark_output(g, y);
    ir_tensor *xt = rand_tensor(2, (int64_t[]){3, K}, 1.0f);
    const ir_tensor *ins[1] = {xt};
    fuse_and_compare(g, ins, "fuse-linear", "Gemm transB alpha beta + Tanh");
    CHECK(count_op(g, IR_OP_LINEAR) == 1 && g->n_nodes == 1);
    ir_tensor_free(xt);
    ir_graph_free(g);
}

/* ---- GELU -------------------------------------------------------------------- */

/* form 0: torch Mul(Mul(x, 1+erf(x/sqrt2)), 0.5); 1: Mul(Mul(x,0.5), a) with
 * Mul(x, 1/sqrt2); 2: Mul(x, Mul(a, 0.5)); 3: tanh form with Pow. */
static ir_value *gelu_build(ir_graph *g, ir_value *x, int form)
{
    if (form == 3) {
        ir_value *c = ir_node_make1(g, IR_OP_POW, "cube", x, scalar(g, "three", 3.0f));
        c = ir_node_make1(g, IR_OP_MUL, "k1", scalar(g, "k", 0.044715f), c);
        ir_value *s = ir_node_make1(g, IR_OP_ADD, "inner", x, c);
        s = ir_node_make1(g, IR_OP_MUL, "k2", s, scalar(g, "c", 0.7978845608f));
        ir_value *t = ir_node_make1(g, IR_OP_TANH, "tanh", s, NULL);
        ir_value *a = ir_node_make1(g, IR_OP_ADD, "one", t, scalar(g, "one", 1.0f));
        ir_value *h = ir_node_make1(g, IR_OP_MUL, "half", x, scalar(g, "h", 0.5f));
        return ir_node_make1(g, IR_OP_MUL, "prod", h, a);
    }
    ir_value *s = form == 1
                      ? ir_node_make1(g, IR_OP_MUL, "scale", x, scalar(g, "r", 0.70710678f))
                      : ir_node_make1(g, IR_OP_DIV, "scale", x, scalar(g, "r", 1.4142135f));
    ir_value *e = ir_node_make1(g, IR_OP_ERF, "erf", s, NULL);
    ir_value *a = ir_node_make1(g, IR_OP_ADD, "one", scalar(g, "one", 1.0f), e);
    if (form == 0) {
        ir_value *p = ir_node_make1(g, IR_OP_MUL, "xa", x, a);
        return ir_node_make1(g, IR_OP_MUL, "half", p, scalar(g, "h", 0.5f));
    }
    if (form == 1) {
        ir_value *h = ir_node_make1(g, IR_OP_MUL, "half", x, scalar(g, "h", 0.5f));
        return ir_node_make1(g, IR_OP_MUL, "prod", a, h);
    }
    ir_value *h = ir_node_make1(g, IR_OP_MUL, "half", a, scalar(g, "h", 0.5f));
    return ir_node_make1(g, IR_OP_MUL, "prod", x, h);
}

static void test_gelu(int form)
{
    ir_graph *g = ir_graph_new("gelu");
    g->opset = 14;
    ir_value *x = input_bsk(g, "x", K);
    ir_value *w = rand_const(g, "W", 2, (int64_t[]){K, N}, 0.5f);
    ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "mm", x, w);
    ir_graph_mark_output(g, gelu_build(g, h, form));
    ir_tensor *xt = rand_tensor(3, (int64_t[]){B, S, K}, 2.0f);
    const ir_tensor *ins[1] = {xt};
    fuse_and_compare(g, ins, "fuse-gelu", form == 3 ? "GELU tanh form"
                                                    : "GELU erf form");
    CHECK_MSG(count_op(g, IR_OP_GELU) == 1 && g->n_nodes == 2,
              "form %d: %d Gelu, %d nodes", form, count_op(g, IR_OP_GELU),
              g->n_nodes);
    fuse_and_compare(g, ins, "fuse-linear", "GELU then Linear");
    CHECK(g->n_nodes == 1 && count_op(g, IR_OP_LINEAR) == 1);
    ir_tensor_free(xt);
    ir_graph_free(g);
}

/* ---- LayerNorm --------------------------------------------------------------- */

/* Decomposed as torch < 17 writes it; square_by_mul / recip pick variants. */
static ir_value *ln_build(ir_graph *g, ir_value *x, int64_t c, bool square_by_mul,
                          bool recip, int64_t axis)
{
    ir_value *mean = ir_node_make1(g, IR_OP_REDUCE_MEAN, "mean", x, NULL);
    ir_node_set_attr_ints(g, mean->producer, "axes", 1, (int64_t[]){axis});
    ir_value *d = ir_node_make1(g, IR_OP_SUB, "dev", x, mean);
    ir_value *sq = square_by_mul ? ir_node_make1(g, IR_OP_MUL, "sq", d, d)
                                 : ir_node_make1(g, IR_OP_POW, "sq", d, scalar(g, "two", 2.0f));
    ir_value *var = ir_node_make1(g, IR_OP_REDUCE_MEAN, "var", sq, NULL);
    ir_node_set_attr_ints(g, var->producer, "axes", 1, (int64_t[]){axis});
    ir_value *ve = ir_node_make1(g, IR_OP_ADD, "eps", var, scalar(g, "e", 1e-12f));
    ir_value *sd = ir_node_make1(g, IR_OP_SQRT, "std", ve, NULL);
    ir_value *n = recip ? ir_node_make1(g, IR_OP_MUL, "norm", d,
                                        ir_node_make1(g, IR_OP_RECIPROCAL, "rstd", sd, NULL))
                        : ir_node_make1(g, IR_OP_DIV, "norm", d, sd);
    ir_value *gm = rand_const(g, "gamma", 1, (int64_t[]){c}, 1.0f);
    ir_value *bt = rand_const(g, "beta", 1, (int64_t[]){c}, 1.0f);
    ir_value *y = ir_node_make1(g, IR_OP_MUL, "scale", gm, n);
    return ir_node_make1(g, IR_OP_ADD, "shift", y, bt);
}

static void test_layer_norm(void)
{
    for (int v = 0; v < 3; v++) {
        ir_graph *g = ir_graph_new("ln");
        g->opset = 13;
        ir_value *x = input_bsk(g, "x", K);
        ir_graph_mark_output(g, ln_build(g, x, K, v == 1, v == 2, -1));
        ir_tensor *xt = rand_tensor(3, (int64_t[]){B, S, K}, 3.0f);
        const ir_tensor *ins[1] = {xt};
        fuse_and_compare(g, ins, "fuse-layer-norm", "decomposed LayerNorm");
        CHECK_MSG(g->n_nodes == 1 && count_op(g, IR_OP_LAYER_NORM) == 1,
                  "variant %d: %d nodes", v, g->n_nodes);
        ir_tensor_free(xt);
        ir_graph_free(g);
    }
    /* LayerNormalization-17 */
    ir_graph *g = ir_graph_new("ln17");
    g->opset = 17;
    ir_value *x = input_bsk(g, "x", K);
    ir_value *in[3] = {x, rand_const(g, "s", 1, (int64_t[]){K}, 1.0f),
                       rand_const(g, "b", 1, (int64_t[]){K}, 1.0f)};
    ir_node *n = ir_graph_add_node(g, IR_OP_LAYER_NORMALIZATION, "ln", 3, in, 1);
    ir_node_set_attr_float(g, n, "epsilon", 1e-12f);
    ir_graph_mark_output(g, n->outputs[0]);
    ir_tensor *xt = rand_tensor(3, (int64_t[]){B, S, K}, 3.0f);
    const ir_tensor *ins[1] = {xt};
    fuse_and_compare(g, ins, "fuse-layer-norm", "LayerNormalization");
    CHECK(g->n_nodes == 1 && count_op(g, IR_OP_LAYER_NORM) == 1);
    ir_graph_free(g);
    /* Over axis 1: recognised, declined, left alone. */
    g = ir_graph_new("ln_axis1");
    g->opset = 13;
    x = input_bsk(g, "x", K);
    ir_graph_mark_output(g, ln_build(g, x, K, false, false, 1));
    fuse_report rep = fuse_report_of(g, fuse_layer_norm_run);
    CHECK(rep.fused == 0 && rep.declined == 1 && strstr(rep.notes, "last axis"));
    CHECK(count_op(g, IR_OP_LAYER_NORM) == 0);
    ir_tensor_free(xt);
    ir_graph_free(g);
}

/* The same decline kept as data by the pass manager (pass_ctx.fuse_log, what
 * inspect --explain prints): one entry per fusion pass run, in order, with
 * the anchor node, its op, the rule and the reason. */
static void test_fuse_log(void)
{
    ir_graph *g = ir_graph_new("ln_axis1_log");
    g->opset = 13;
    ir_value *x = input_bsk(g, "x", K);
    ir_graph_mark_output(g, ln_build(g, x, K, false, false, 1));
    ir_diag d;
    ir_diag_init(&d);
    pass_ctx ctx;
    pass_ctx_init(&ctx, &d);
    fuse_log log = {0};
    ctx.fuse_log = &log;
    CHECK_MSG(pass_run_list(g, "infer-shapes,fuse", &ctx) == IR_OK, "%s", d.msg);
    CHECK_MSG(log.n_passes == 7, "%d passes logged", log.n_passes);
    const fuse_pass_log *ln = log.n_passes > 1 ? &log.passes[1] : NULL;
    CHECK(log.n_passes > 0 && strcmp(log.passes[0].pass, "fuse-ms-ops") == 0);
    CHECK(ln && strcmp(ln->pass, "fuse-layer-norm") == 0 && ln->fused == 0 &&
          ln->declined == 1);
    if (ln && ln->declined == 1) {
        const fuse_declined *dc = &ln->declines[0];
        const ir_node *anchor = NULL;
        for (int i = 0; i < g->n_nodes; i++)
            if (strcmp(g->nodes[i]->name, dc->node) == 0)
                anchor = g->nodes[i];
        CHECK_MSG(anchor && strcmp(ir_op_name(anchor->op), dc->op) == 0,
                  "anchor '%s' (%s) is a node of the graph", dc->node, dc->op);
        CHECK(strstr(dc->why, "last axis") && strstr(dc->rule, "LayerNorm"));
    }
    for (int i = 2; i < log.n_passes; i++)
        CHECK_MSG(log.passes[i].declined == 0 && log.passes[i].fused == 0,
                  "%s: %d fused, %d declined", log.passes[i].pass,
                  log.passes[i].fused, log.passes[i].declined);
    fuse_log_free(&log);
    CHECK(log.n_passes == 0 && log.passes == NULL);
    ir_graph_free(g);
}

/* ---- residual + LayerNorm -------------------------------------------------- */

static void test_add_layer_norm(void)
{
    ir_graph *g = ir_graph_new("addln");
    g->opset = 14;
    ir_value *x = input_bsk(g, "x", K);
    ir_value *r = input_bsk(g, "r", K);
    ir_value *w = rand_const(g, "W", 2, (int64_t[]){K, K}, 0.5f);
    ir_value *b = rand_const(g, "b", 1, (int64_t[]){K}, 0.5f);
    ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "mm", x, w);
    h = ir_node_make1(g, IR_OP_ADD, "bias", h, b);
    h = ir_node_make1(g, IR_OP_ADD, "residual", h, r);
    ir_graph_mark_output(g, ln_build(g, h, K, false, false, -1));
    ir_tensor *xt = rand_tensor(3, (int64_t[]){B, S, K}, 1.0f);
    ir_tensor *rt = rand_tensor(3, (int64_t[]){B, S, K}, 1.0f);
    const ir_tensor *ins[2] = {xt, rt};
    fuse_and_compare(g, ins, "fuse", "Linear + residual + LayerNorm");
    CHECK(g->n_nodes == 2 && count_op(g, IR_OP_LINEAR) == 1 &&
          count_op(g, IR_OP_ADD_LAYER_NORM) == 1);
    ir_tensor_free(xt);
    ir_tensor_free(rt);
    ir_graph_free(g);
}

/* ---- embeddings ------------------------------------------------------------- */

static void test_embed_layer_norm(void)
{
    enum { V = 11, P = 9, T = 2 };
    ir_graph *g = ir_graph_new("embed");
    g->opset = 14;
    ir_dim d[2] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq")};
    ir_value *ids = ir_graph_add_input(g, "input_ids", IR_DT_I64, 2, d);
    ir_value *tids = ir_graph_add_input(g, "token_type_ids", IR_DT_I64, 2, d);
    ir_value *wt = rand_const(g, "word", 2, (int64_t[]){V, K}, 1.0f);
    ir_value *pt = rand_const(g, "pos", 2, (int64_t[]){P, K}, 1.0f);
    ir_value *tt = rand_const(g, "type", 2, (int64_t[]){T, K}, 1.0f);
    /* positions: a constant [1,S] (as folding leaves the sliced buffer) */
    ir_tensor *pid = ir_tensor_new(IR_DT_I64, 2, (int64_t[]){1, S});
    for (int i = 0; i < S; i++)
        ((int64_t *)pid->data)[i] = i;
    ir_value *pids = ir_graph_add_constant(g, "position_ids", pid);
    ir_value *e = ir_node_make1(g, IR_OP_GATHER, "we", wt, ids);
    ir_value *te = ir_node_make1(g, IR_OP_GATHER, "te", tt, tids);
    ir_value *pe = ir_node_make1(g, IR_OP_GATHER, "pe", pt, pids);
    e = ir_node_make1(g, IR_OP_ADD, "sum1", e, te);
    e = ir_node_make1(g, IR_OP_ADD, "sum2", e, pe);
    ir_graph_mark_output(g, ln_build(g, e, K, false, false, -1));
    ir_tensor *it = ir_tensor_new(IR_DT_I64, 2, (int64_t[]){B, S});
    ir_tensor *ttt = ir_tensor_new(IR_DT_I64, 2, (int64_t[]){B, S});
    for (int i = 0; i < B * S; i++) {
        ((int64_t *)it->data)[i] = (i * 7) % V;
        ((int64_t *)ttt->data)[i] = i % S >= S / 2;
    }
    const ir_tensor *ins[2] = {it, ttt};
    fuse_and_compare(g, ins, "fuse", "embeddings + LayerNorm");
    CHECK_MSG(g->n_nodes == 1 && count_op(g, IR_OP_EMBED_LAYER_NORM) == 1,
              "%d nodes", g->n_nodes);
    ir_tensor_free(it);
    ir_tensor_free(ttt);
    ir_graph_free(g);
}

/* ---- attention --------------------------------------------------------------- */

enum { H = 2, D = 3, HID = H * D };

static ir_value *att_lin(ir_graph *g, ir_value *x, const char *nm)
{
    ir_value *w = rand_const(g, nm, 2, (int64_t[]){HID, HID}, 0.5f);
    ir_value *b = rand_const(g, nm, 1, (int64_t[]){HID}, 0.5f);
    ir_value *y = ir_node_make1(g, IR_OP_MATMUL, nm, x, w);
    return ir_node_make1(g, IR_OP_ADD, nm, b, y);
}

static ir_value *att_transpose(ir_graph *g, ir_value *v, const int64_t *perm)
{
    ir_value *t = ir_node_make1(g, IR_OP_TRANSPOSE, "tr", v, NULL);
    ir_node_set_attr_ints(g, t->producer, "perm", 4, perm);
    return t;
}

static ir_value *att_heads(ir_graph *g, ir_value *v, const int64_t *perm)
{
    ir_value *r = ir_node_make1(g, IR_OP_RESHAPE, "split",
                                v, ints(g, "shape", 4, (int64_t[]){0, 0, H, D}));
    return att_transpose(g, r, perm);
}

/* mask_form 0: HF mask with finfo.min, 1: with -10000 and a Mul scale, two
 * Transposes for k, 2: an additive float mask input [B,1,1,S], 3: the HF
 * mask over MPNet's position bias, a float input [1,H,S,S] added to the
 * scaled scores first (the fused op's input 4). */
static void test_attention(int mask_form)
{
    ir_graph *g = ir_graph_new("attention");
    g->opset = 14;
    ir_value *x = input_bsk(g, "x", HID);
    ir_dim md[2] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq")};
    ir_dim ad[4] = {ir_dim_sym(g, "batch"), ir_dim_const(1), ir_dim_const(1),
                    ir_dim_sym(g, "seq")};
    ir_value *mask = mask_form == 2
                         ? ir_graph_add_input(g, "additive_mask", IR_DT_F32, 4, ad)
                         : ir_graph_add_input(g, "attention_mask", IR_DT_I64, 2, md);
    ir_value *madd = mask;
    if (mask_form != 2) {
        ir_value *u = ir_node_make1(g, IR_OP_UNSQUEEZE, "u1", mask,
                                    ints(g, "ax", 1, (int64_t[]){1}));
        u = ir_node_make1(g, IR_OP_UNSQUEEZE, "u2", u, ints(g, "ax", 1, (int64_t[]){2}));
        ir_value *c = ir_node_make1(g, IR_OP_CAST, "cast", u, NULL);
        ir_node_set_attr_int(g, c->producer, "to", IR_DT_F32);
        ir_value *s = ir_node_make1(g, IR_OP_SUB, "inv", scalar(g, "one", 1.0f), c);
        madd = ir_node_make1(g, IR_OP_MUL, "fill", s,
                             scalar(g, "min", mask_form == 0 ? -FLT_MAX : -10000.0f));
    }
    static const int64_t bshd[4] = {0, 2, 1, 3}, bhds[4] = {0, 2, 3, 1},
                         swap[4] = {0, 1, 3, 2};
    ir_value *q = att_heads(g, att_lin(g, x, "q"), bshd);
    ir_value *k = mask_form == 1
                      ? att_transpose(g, att_heads(g, att_lin(g, x, "k"), bshd), swap)
                      : att_heads(g, att_lin(g, x, "k"), bhds);
    ir_value *v = att_heads(g, att_lin(g, x, "v"), bshd);
    ir_value *s = ir_node_make1(g, IR_OP_MATMUL, "qk", q, k);
    s = mask_form == 1 ? ir_node_make1(g, IR_OP_MUL, "scale", scalar(g, "c", 1.0f / sqrtf(D)), s)
                       : ir_node_make1(g, IR_OP_DIV, "scale", s, scalar(g, "c", sqrtf(D)));
    ir_dim pd[4] = {ir_dim_const(1), ir_dim_const(H), ir_dim_sym(g, "seq"),
                    ir_dim_sym(g, "seq")};
    ir_value *pbias = mask_form == 3
                          ? ir_graph_add_input(g, "position_bias", IR_DT_F32, 4, pd)
                          : NULL;
    if (pbias)
        s = ir_node_make1(g, IR_OP_ADD, "position_bias", s, pbias);
    s = ir_node_make1(g, IR_OP_ADD, "mask", s, madd);
    ir_value *p = ir_node_make1(g, IR_OP_SOFTMAX, "softmax", s, NULL);
    ir_node_set_attr_int(g, p->producer, "axis", -1);
    ir_value *c = ir_node_make1(g, IR_OP_MATMUL, "ctx", p, v);
    c = att_transpose(g, c, bshd);
    c = ir_node_make1(g, IR_OP_RESHAPE, "merge", c, ints(g, "shape", 3, (int64_t[]){0, 0, HID}));
    ir_graph_mark_output(g, c);

    ir_tensor *xt = rand_tensor(3, (int64_t[]){B, S, HID}, 1.0f);
    ir_tensor *mt;
    if (mask_form == 2) {
        mt = rand_tensor(4, (int64_t[]){B, 1, 1, S}, 3.0f);
    } else {
        mt = ir_tensor_new(IR_DT_I64, 2, (int64_t[]){B, S});
        for (int i = 0; i < B * S; i++) /* row 1 is padded after 2 tokens */
            ((int64_t *)mt->data)[i] = i < S || i % S < 2;
    }
    ir_tensor *pt = rand_tensor(4, (int64_t[]){1, H, S, S}, 2.0f);
    const ir_tensor *ins[3] = {xt, mt, pt};
    static const char *names[] = {"Attention, HF mask finfo.min",
                                  "Attention, -10000 mask, Mul scale, 2 Tr",
                                  "Attention, additive mask input",
                                  "Attention, position bias + HF mask"};
    fuse_and_compare(g, ins, "fuse", names[mask_form]);
    CHECK_MSG(g->n_nodes == 1 && count_op(g, IR_OP_ATTENTION) == 1,
              "form %d: %d nodes, %d Attention", mask_form, g->n_nodes,
              count_op(g, IR_OP_ATTENTION));
    if (g->n_nodes == 1) {
        const ir_node *a = g->nodes[0];
        CHECK(ir_node_attr_int(a, "heads", 0) == H);
        CHECK(fabsf(ir_node_attr_float(a, "scale", 0) - 1.0f / sqrtf(D)) < 1e-6f);
        CHECK(strcmp(ir_node_attr_string(a, "mask_kind", ""),
                     mask_form == 2 ? "additive" : "key_padding") == 0);
        CHECK(mask_form == 3 ? a->n_inputs == 5 && a->inputs[4] == pbias
                             : a->n_inputs <= 4);
    }
    ir_tensor_free(pt);
    ir_tensor_free(xt);
    ir_tensor_free(mt);
    ir_graph_free(g);
}

/* ---- model mode: test_fuse MODEL.onnx [INPUT.pb...] --------------------------
 * Used by tests/passes/test_fuse_models.py: loads a model, runs "default", then
 * each fusion with its report, prints the op histogram, and compares the
 * outputs before and after fusion (given inputs, or random ones with unknown
 * dims set to 2 and integer inputs in {0,1}); prints "maxdiff E". */

static ir_tensor *model_random_input(const ir_value *v)
{
    int64_t dims[IR_MAX_RANK];
    for (int i = 0; i < v->rank; i++)
        dims[i] = ir_dim_known(v->dims[i]) ? v->dims[i].size : 2;
    ir_tensor *t = ir_tensor_new(v->dtype, v->rank < 0 ? 0 : v->rank, dims);
    for (int64_t i = 0; t && i < ir_tensor_numel(t); i++)
        ir_tensor_set_f64(t, i, ir_dtype_is_float(v->dtype) ? rnd()
                                                            : (double)(i % 3 != 2));
    return t;
}

static int model_main(int argc, char **argv)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    if (onnx_load_file(argv[1], NULL, &g, &d) != IR_OK) {
        printf("load failed: %s\n", d.msg);
        return 2;
    }
    ir_tensor **ins = calloc((size_t)g->n_inputs + 1, sizeof *ins);
    for (int i = 0; i < g->n_inputs; i++) {
        if (i + 2 < argc) {
            if (onnx_tensor_read_file(argv[i + 2], &ins[i], NULL, &d) != IR_OK) {
                printf("input failed: %s\n", d.msg);
                return 2;
            }
        } else {
            ins[i] = model_random_input(g->inputs[i]);
        }
    }
    ir_tensor **before = NULL, **after = NULL;
    int rc = 0;
    if (ir_interp_run(g, (const ir_tensor *const *)ins, &before, &d) != IR_OK) {
        printf("run before failed: %s\n", d.msg);
        rc = 2;
        goto out;
    }
    pass_ctx ctx;
    pass_ctx_init(&ctx, &d);
    ctx.verify = true;
    if (pass_run_list(g, "default", &ctx) != IR_OK) {
        printf("default pipeline failed: %s\n", d.msg);
        rc = 2;
        goto out;
    }
    static const struct {
        const char *name;
        ir_status (*run)(ir_graph *, pass_ctx *, fuse_report *);
    } fusions[] = {
        {"fuse-layer-norm", fuse_layer_norm_run}, {"fuse-gelu", fuse_gelu_run},
        {"fuse-embed-layer-norm", fuse_embed_layer_norm_run},
        {"fuse-attention", fuse_attention_run}, {"fuse-linear", fuse_linear_run},
        {"fuse-add-layer-norm", fuse_add_layer_norm_run},
    };
    for (size_t k = 0; k < sizeof fusions / sizeof fusions[0]; k++) {
        fuse_report rep = {0};
        if (fusions[k].run(g, &ctx, &rep) != IR_OK ||
            ir_graph_verify(g, &d) != IR_OK) {
            printf("%s failed: %s\n", fusions[k].name, d.msg);
            rc = 1;
            goto out;
        }
        printf("%s: fused %d declined %d\n%s", fusions[k].name, rep.fused,
               rep.declined, rep.notes);
    }
    printf("ops");
    for (int op = 0; op < IR_OP_COUNT; op++)
        if (count_op(g, (ir_op)op))
            printf(" %s=%d", ir_op_name((ir_op)op), count_op(g, (ir_op)op));
    printf("\n");
    if (ir_interp_run(g, (const ir_tensor *const *)ins, &after, &d) != IR_OK) {
        printf("run after failed: %s\n", d.msg);
        rc = 1;
        goto out;
    }
    double worst = 0.0;
    for (int i = 0; i < g->n_outputs; i++)
        if (before[i]->dtype == IR_DT_F32) {
            double e = max_diff(after[i], before[i]);
            worst = e > worst ? e : worst;
        }
    printf("maxdiff %.3e\n", worst);
    for (int i = 0; i < g->n_outputs; i++) { /* the logits for the oracle */
        char path[512];
        snprintf(path, sizeof path, "%s.fused_out_%d.pb", argv[1], i);
        if (getenv("FUSE_WRITE_OUTPUTS"))
            onnx_tensor_write_file(path, after[i], g->outputs[i]->name, &d);
    }
out:
    ir_interp_free_outputs(g, before);
    ir_interp_free_outputs(g, after);
    for (int i = 0; i < g->n_inputs; i++)
        ir_tensor_free(ins[i]);
    free(ins);
    ir_graph_free(g);
    return rc;
}

/* ---- com.microsoft ops ----------------------------------------------------- */

/* fuse-ms-ops: FusedMatMul(x [B,S,K] batch- and matrix-transposed, W;
 * alpha) becomes Transpose + MatMul + Mul with the same numbers; an
 * Attention whose qkv_hidden_sizes differ is declined, the attribute named
 * (the interpreter runs it; distilc's Attention takes equal thirds). */
static void test_ms_ops(void)
{
    ir_graph *g = ir_graph_new("fused_matmul");
    g->opset = 14;
    ir_value *in[2] = {input_bsk(g, "x", K), rand_const(g, "w", 2, (int64_t[]){3, 5}, 1.0f)};
    ir_node *n = ir_graph_add_node(g, IR_OP_MS_FUSED_MATMUL, "fmm", 2, in, 1);
    ir_node_set_attr_int(g, n, "transBatchA", 1); /* [B,S,K] -> [S,B,K] */
    ir_node_set_attr_int(g, n, "transA", 1);      /* -> [S,K,B], B = 3 */
    ir_node_set_attr_float(g, n, "alpha", 0.25f);
    ir_graph_mark_output(g, n->outputs[0]);
    ir_tensor *xt = rand_tensor(3, (int64_t[]){3, S, K}, 1.0f);
    const ir_tensor *ins[1] = {xt};
    fuse_and_compare(g, ins, "infer-shapes,fuse-ms-ops", "FusedMatMul");
    CHECK(count_op(g, IR_OP_MS_FUSED_MATMUL) == 0 &&
          count_op(g, IR_OP_TRANSPOSE) == 1 && count_op(g, IR_OP_MATMUL) == 1 &&
          count_op(g, IR_OP_MUL) == 1);
    ir_tensor_free(xt);
    ir_graph_free(g);

    g = ir_graph_new("ms_attention");
    ir_value *ain[2] = {input_bsk(g, "x", K),
                        rand_const(g, "w", 2, (int64_t[]){K, 2 * K + 4}, 1.0f)};
    n = ir_graph_add_node(g, IR_OP_MS_ATTENTION, "att", 2, ain, 1);
    ir_node_set_attr_int(g, n, "num_heads", 2);
    ir_node_set_attr_ints(g, n, "qkv_hidden_sizes", 3, (int64_t[]){K, K, 4});
    ir_graph_mark_output(g, n->outputs[0]);
    fuse_report rep = fuse_report_of(g, fuse_ms_ops_run);
    CHECK_MSG(rep.fused == 0 && rep.declined == 1 &&
              strstr(rep.notes, "qkv_hidden_sizes"), "report: %s", rep.notes);
    CHECK(count_op(g, IR_OP_MS_ATTENTION) == 1);
    ir_graph_free(g);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return model_main(argc, argv);
    test_linear(IR_OP_COUNT, false, "none");
    test_linear(IR_OP_RELU, true, "relu");
    test_linear(IR_OP_TANH, false, "tanh");
    test_gemm();
    for (int f = 0; f < 4; f++)
        test_gelu(f);
    test_layer_norm();
    test_fuse_log();
    test_add_layer_norm();
    test_embed_layer_norm();
    for (int f = 0; f < 4; f++)
        test_attention(f);
    test_ms_ops();
    return test_finish("test_fuse");
}

/* fuse_linear.c — the fuse-linear pass: a matrix product with a constant
 * weight, its bias and its activation become one Linear op (ai.distilc):
 *     Linear(x, W[K,N], bias[N]?; activation) = act(x·W + bias)
 *
 * Forms recognised:
 *  1. MatMul-13(x, W) with W a constant f32 matrix, then optionally
 *     Add-14(., b) with b a constant whose only non-1 axis is the last and
 *     holds N values (either operand order), then optionally one activation
 *     read only there: Gelu-20 (approximate "none" / "tanh", usually made by
 *     fuse-gelu), Relu-14, Tanh-13;
 *  2. Gemm-13(A, B, C?) with transA = 0 and B constant: W = alpha·B (or
 *     alpha·Bᵀ when transB = 1), bias = beta·C when C is a constant vector
 *     of N values, then an activation as above.
 * A MatMul whose second operand is computed (attention's QKᵀ) is not a
 * Linear and is left alone silently.
 */
#include "passes/fuse_common.h"

#include <string.h>

enum { LI_X, LI_W, LI_B, LI_OUT };

/* A constant f32 matrix. */
static const ir_tensor *li_weight(const ir_value *v)
{
    const ir_tensor *t = fuse_const(v);
    return t && t->dtype == IR_DT_F32 && t->rank == 2 ? t : NULL;
}

/* A constant f32 with n values all along the last axis. */
static bool li_bias_ok(const ir_value *v, int64_t n)
{
    const ir_tensor *t = fuse_const(v);
    return t && t->dtype == IR_DT_F32 && t->rank >= 1 &&
           t->dims[t->rank - 1] == n && ir_tensor_numel(t) == n;
}

/* After y (the product, or product+bias): an activation read only by y. */
static void li_match_activation(fuse_state *fs, fuse_match *m)
{
    ir_value *y = m->v[LI_OUT];
    ir_node *c = fuse_sole_consumer(fs, y);
    m->s[0] = "none";
    if (!c || c->inputs[0] != y)
        return;
    if (c->op == IR_OP_GELU) {
        const char *ap = ir_node_attr_string(c, "approximate", "none");
        m->s[0] = strcmp(ap, "tanh") == 0 ? "gelu_tanh" : "gelu";
    } else if (c->op == IR_OP_RELU) {
        m->s[0] = "relu";
    } else if (c->op == IR_OP_TANH) {
        m->s[0] = "tanh";
    } else {
        return;
    }
    fuse_take(m, c);
    m->v[LI_OUT] = c->outputs[0];
}

static bool li_match_matmul(fuse_state *fs, ir_node *mm, fuse_match *m)
{
    if (mm->op != IR_OP_MATMUL)
        return false;
    const ir_tensor *w = li_weight(mm->inputs[1]);
    if (!w)
        return false;
    if (mm->inputs[0]->rank == 1)
        return fuse_decline(m, "a 1-D x (MatMul drops the axis) is not a Linear");
    m->v[LI_X] = mm->inputs[0];
    m->v[LI_W] = mm->inputs[1];
    m->v[LI_OUT] = mm->outputs[0];
    ir_node *add = fuse_sole_consumer(fs, mm->outputs[0]);
    if (add && add->op == IR_OP_ADD) {
        ir_value *b = add->inputs[add->inputs[0] == mm->outputs[0] ? 1 : 0];
        if (li_bias_ok(b, w->dims[1])) {
            m->v[LI_B] = b;
            m->v[LI_OUT] = add->outputs[0];
            fuse_take(m, add);
        }
    }
    li_match_activation(fs, m);
    return true;
}

static bool li_match_gemm(fuse_state *fs, ir_node *gm, fuse_match *m)
{
    if (gm->op != IR_OP_GEMM)
        return false;
    const ir_tensor *b = li_weight(gm->inputs[1]);
    if (!b)
        return false;
    if (ir_node_attr_int(gm, "transA", 0) != 0)
        return fuse_decline(m, "transA = 1 is not supported");
    int64_t n = ir_node_attr_int(gm, "transB", 0) ? b->dims[0] : b->dims[1];
    ir_value *c = gm->n_inputs > 2 ? gm->inputs[2] : NULL;
    if (c && !li_bias_ok(c, n))
        return fuse_decline(m, "C '%s' is not a constant vector of %lld values",
                            c->name, (long long)n);
    m->v[LI_X] = gm->inputs[0];
    m->v[LI_W] = gm->inputs[1];
    m->v[LI_B] = c;
    m->v[LI_OUT] = gm->outputs[0];
    li_match_activation(fs, m);
    return true;
}

static ir_status li_rewrite(fuse_state *fs, fuse_match *m)
{
    ir_node *a = m->anchor;
    ir_value *w = m->v[LI_W], *b = m->v[LI_B];
    if (a->op == IR_OP_GEMM) {
        /* Fold alpha, beta and transB into new constants. */
        const ir_tensor *bt = fuse_const(w);
        bool trans = ir_node_attr_int(a, "transB", 0) != 0;
        double alpha = ir_node_attr_float(a, "alpha", 1.0f);
        double beta = ir_node_attr_float(a, "beta", 1.0f);
        int64_t K = trans ? bt->dims[1] : bt->dims[0];
        int64_t N = trans ? bt->dims[0] : bt->dims[1];
        if (trans || alpha != 1.0) {
            ir_tensor *t = ir_tensor_new(IR_DT_F32, 2, (int64_t[]){K, N});
            if (!t)
                return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
            const float *src = bt->data;
            float *dst = t->data;
            for (int64_t k = 0; k < K; k++)
                for (int64_t j = 0; j < N; j++)
                    dst[k * N + j] = (float)(alpha * (trans ? src[j * K + k]
                                                            : src[k * N + j]));
            if (!(w = fuse_add_const(fs, "linear_W", t)))
                return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
        }
        if (b && beta != 1.0) {
            ir_tensor *t = ir_tensor_new(IR_DT_F32, 1, (int64_t[]){N});
            if (!t)
                return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
            for (int64_t j = 0; j < N; j++)
                ((float *)t->data)[j] =
                    (float)(beta * ((const float *)fuse_const(b)->data)[j]);
            if (!(b = fuse_add_const(fs, "linear_b", t)))
                return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
        }
    }
    ir_value *in[3] = {m->v[LI_X], w, b};
    ir_node *n = fuse_add_node(fs, IR_OP_LINEAR, a, b ? 3 : 2, in);
    if (!n || !ir_node_set_attr_string(fs->g, n, "activation", m->s[0]))
        return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
    return fuse_replace(fs, m->v[LI_OUT], n->outputs[0]);
}

static const fuse_rule li_rules[] = {
    {"MatMul by a constant (+ bias Add) (+ Gelu/Relu/Tanh)", li_match_matmul,
     li_rewrite},
    {"Gemm with a constant B (+ Gelu/Relu/Tanh)", li_match_gemm, li_rewrite},
};

ir_status fuse_linear_run(ir_graph *g, pass_ctx *ctx, fuse_report *r)
{
    return fuse_run_rules(g, ctx, "fuse-linear", li_rules,
                          (int)(sizeof li_rules / sizeof li_rules[0]), r);
}

ir_status pass_fuse_linear(ir_graph *g, pass_ctx *ctx)
{
    return fuse_linear_run(g, ctx, NULL);
}

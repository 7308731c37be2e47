/* fuse_layer_norm.c — the fuse-layer-norm pass: layer normalisation over the
 * last axis, as exporters write it, becomes one LayerNorm op (ai.distilc).
 *
 * Forms recognised (x any float tensor, all reductions over the last axis):
 *  1. decomposed, as torch.onnx.export writes nn.LayerNorm below opset 17
 *     (and TF/Keras exporters and ORT's fusion test models):
 *        mean = ReduceMean(x); d = Sub(x, mean)
 *        var  = ReduceMean(Pow(d, 2))          or ReduceMean(Mul(d, d))
 *        n    = Div(d, Sqrt(Add(var, eps)))    or Mul(d, Reciprocal(Sqrt(..)))
 *        y    = Add(Mul(n, gamma), beta)       (either operand order)
 *     which is LayerNormalization-17 with axis -1 (population variance);
 *  2. LayerNormalization-17 itself with axis = -1 (or rank-1), 1-D Scale/B
 *     and only output Y used.
 * Declined (with the reason): reductions over other axes, gamma/beta not
 * vectors, a missing gamma, interior values read elsewhere.
 */
#include "passes/fuse_common.h"

#include <string.h>

enum { LN_X, LN_GAMMA, LN_BETA, LN_OUT };

/* True when the node reduces over the last axis only (keepdims default 1). */
static bool ln_reduces_last_axis(const ir_node *n)
{
    int64_t axes[4];
    if (fuse_node_axes(n, axes, 4) != 1)
        return false;
    if (ir_node_attr_int(n, "keepdims", 1) != 1)
        return false;
    if (axes[0] == -1)
        return true;
    const ir_value *x = n->inputs[0];
    return x->rank > 0 && axes[0] == x->rank - 1;
}

/* A vector usable as gamma/beta: a constant whose only non-1 axis is the
 * last, or a computed / input f32 value of rank 1 (the kernel checks its
 * length when it runs). */
static bool ln_const_vec(const ir_value *v)
{
    const ir_tensor *t = fuse_const(v);
    if (!t)
        return v->rank == 1 && v->dtype == IR_DT_F32;
    if (t->dtype != IR_DT_F32 || t->rank < 1)
        return false;
    return ir_tensor_numel(t) == t->dims[t->rank - 1];
}

/* Anchor: the first ReduceMean (the mean of x). */
static bool ln_match_decomposed(fuse_state *fs, ir_node *rm, fuse_match *m)
{
    if (rm->op != IR_OP_REDUCE_MEAN)
        return false;
    ir_value *x = rm->inputs[0];
    ir_node *sub = fuse_sole_consumer(fs, rm->outputs[0]);
    if (!sub || sub->op != IR_OP_SUB || sub->inputs[0] != x ||
        sub->inputs[1] != rm->outputs[0])
        return false;
    ir_value *d = sub->outputs[0];
    ir_node *cons[3];
    if (fuse_consumers(fs, d, cons, 3) != 2 || d->is_output)
        return false;
    /* One consumer squares d, the other divides it by the deviation. */
    ir_node *sq = NULL, *dv = NULL;
    for (int k = 0; k < 2; k++) {
        ir_node *c = cons[k];
        if ((c->op == IR_OP_POW && c->inputs[0] == d &&
             fuse_const_near(c->inputs[1], 2.0, 1e-6)) ||
            (c->op == IR_OP_MUL && c->inputs[0] == d && c->inputs[1] == d))
            sq = c;
        else if (c->op == IR_OP_DIV || c->op == IR_OP_MUL)
            dv = c;
    }
    if (!sq || !dv)
        return false;
    ir_node *rm2 = fuse_sole_consumer(fs, sq->outputs[0]);
    if (!rm2 || rm2->op != IR_OP_REDUCE_MEAN)
        return false;
    ir_node *add = fuse_sole_consumer(fs, rm2->outputs[0]);
    double eps;
    if (!add || add->op != IR_OP_ADD ||
        !fuse_other_than_scalar(add, &eps, NULL))
        return false;
    ir_node *sqrt = fuse_sole_consumer(fs, add->outputs[0]);
    if (!sqrt || sqrt->op != IR_OP_SQRT)
        return false;
    ir_node *recip = NULL;
    if (dv->op == IR_OP_DIV) {
        if (dv->inputs[0] != d || dv->inputs[1] != sqrt->outputs[0])
            return false;
    } else {
        int other = dv->inputs[0] == d ? 1 : 0;
        recip = dv->inputs[other] ? dv->inputs[other]->producer : NULL;
        if (!recip || recip->op != IR_OP_RECIPROCAL ||
            recip->inputs[0] != sqrt->outputs[0])
            return false;
    }
    fuse_take(m, rm); fuse_take(m, sub); fuse_take(m, sq); fuse_take(m, rm2);
    fuse_take(m, add); fuse_take(m, sqrt); fuse_take(m, recip); fuse_take(m, dv);
    /* From here the pattern is recognised: problems are reported. */
    if (!ln_reduces_last_axis(rm) || !ln_reduces_last_axis(rm2))
        return fuse_decline(m, "ReduceMean '%s' or '%s' does not reduce over "
                            "the last axis alone with keepdims=1",
                            rm->name, rm2->name);
    ir_value *n = dv->outputs[0];
    ir_node *mul = fuse_sole_consumer(fs, n);
    if (!mul || mul->op != IR_OP_MUL)
        return fuse_decline(m, "no Mul by gamma after '%s'", dv->name);
    ir_value *gamma = mul->inputs[mul->inputs[0] == n ? 1 : 0];
    if (!ln_const_vec(gamma))
        return fuse_decline(m, "gamma '%s' of '%s' is not a constant f32 "
                            "vector", gamma->name, mul->name);
    fuse_take(m, mul);
    ir_value *out = mul->outputs[0], *beta = NULL;
    ir_node *badd = fuse_sole_consumer(fs, out);
    if (badd && badd->op == IR_OP_ADD) {
        ir_value *b = badd->inputs[badd->inputs[0] == out ? 1 : 0];
        if (ln_const_vec(b)) {
            beta = b;
            fuse_take(m, badd);
            out = badd->outputs[0];
        }
    }
    m->v[LN_X] = x;
    m->v[LN_GAMMA] = gamma;
    m->v[LN_BETA] = beta;
    m->v[LN_OUT] = out;
    m->f[0] = eps;
    return true;
}

/* Anchor: LayerNormalization-17 over the last axis. */
static bool ln_match_onnx(fuse_state *fs, ir_node *n, fuse_match *m)
{
    if (n->op != IR_OP_LAYER_NORMALIZATION)
        return false;
    for (int k = 1; k < n->n_outputs; k++)
        if (n->outputs[k] && (fuse_uses(fs, n->outputs[k]) > 0 ||
                              n->outputs[k]->is_output))
            return fuse_decline(m, "its Mean/InvStdDev outputs are used");
    int64_t axis = ir_node_attr_int(n, "axis", -1);
    const ir_value *x = n->inputs[0];
    if (axis != -1 && !(x->rank > 0 && axis == x->rank - 1))
        return fuse_decline(m, "axis %lld is not the last axis",
                            (long long)axis);
    if (!ln_const_vec(n->inputs[1]) ||
        (n->n_inputs > 2 && n->inputs[2] && !ln_const_vec(n->inputs[2])))
        return fuse_decline(m, "Scale or B is not a constant f32 vector");
    m->v[LN_X] = n->inputs[0];
    m->v[LN_GAMMA] = n->inputs[1];
    m->v[LN_BETA] = n->n_inputs > 2 ? n->inputs[2] : NULL;
    m->v[LN_OUT] = n->outputs[0];
    m->f[0] = ir_node_attr_float(n, "epsilon", 1e-5f);
    return true;
}

static ir_status ln_rewrite(fuse_state *fs, fuse_match *m)
{
    ir_value *in[3] = {m->v[LN_X], m->v[LN_GAMMA], m->v[LN_BETA]};
    ir_node *ln = fuse_add_node(fs, IR_OP_LAYER_NORM, m->anchor,
                                in[2] ? 3 : 2, in);
    if (!ln || !ir_node_set_attr_float(fs->g, ln, "epsilon", (float)m->f[0]))
        return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
    return fuse_replace(fs, m->v[LN_OUT], ln->outputs[0]);
}

static const fuse_rule ln_rules[] = {
    {"decomposed LayerNorm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, "
     "Div, Mul, Add)", ln_match_decomposed, ln_rewrite},
    {"LayerNormalization over the last axis", ln_match_onnx, ln_rewrite},
};

ir_status fuse_layer_norm_run(ir_graph *g, pass_ctx *ctx, fuse_report *r)
{
    return fuse_run_rules(g, ctx, "fuse-layer-norm", ln_rules,
                          (int)(sizeof ln_rules / sizeof ln_rules[0]), r);
}

ir_status pass_fuse_layer_norm(ir_graph *g, pass_ctx *ctx)
{
    return fuse_layer_norm_run(g, ctx, NULL);
}

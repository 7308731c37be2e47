/* fuse_add_layer_norm.c — the fuse-add-layer-norm pass: a residual Add read
 * only by a LayerNorm becomes one AddLayerNorm (ai.distilc):
 *     LayerNorm(Add(x, residual), gamma, beta)
 *         -> AddLayerNorm(x, residual, gamma, beta; epsilon)
 * (ONNX Runtime calls this SkipLayerNormalization). Runs after
 * fuse-layer-norm (which makes the LayerNorm ops) and after fuse-linear, so
 * a sublayer's bias stays in its Linear. The Add's operands keep their order
 * so the sum rounds as before. Declined when the sum is read elsewhere too
 * (the fused op does not output it).
 */
#include "passes/fuse_common.h"

enum { AL_A, AL_B, AL_OUT };

static bool al_match(fuse_state *fs, ir_node *ln, fuse_match *m)
{
    if (ln->op != IR_OP_LAYER_NORM)
        return false;
    ir_node *add = fuse_producer(fs, ln->inputs[0], IR_OP_ADD);
    if (!add)
        return false;
    if (!fuse_single_use(fs, add->outputs[0]))
        return fuse_decline(m, "the sum '%s' is also read elsewhere",
                            add->outputs[0]->name);
    fuse_take(m, add);
    m->v[AL_A] = add->inputs[0];
    m->v[AL_B] = add->inputs[1];
    m->v[AL_OUT] = ln->outputs[0];
    return true;
}

static ir_status al_rewrite(fuse_state *fs, fuse_match *m)
{
    ir_node *ln = m->anchor;
    ir_value *in[4] = {m->v[AL_A], m->v[AL_B], ln->inputs[1],
                       ln->n_inputs > 2 ? ln->inputs[2] : NULL};
    ir_node *n = fuse_add_node(fs, IR_OP_ADD_LAYER_NORM, ln, in[3] ? 4 : 3, in);
    if (!n || !ir_node_set_attr_float(fs->g, n, "epsilon",
                                      ir_node_attr_float(ln, "epsilon", 1e-5f)))
        return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
    return fuse_replace(fs, m->v[AL_OUT], n->outputs[0]);
}

static const fuse_rule al_rules[] = {
    {"residual Add + LayerNorm", al_match, al_rewrite},
};

ir_status fuse_add_layer_norm_run(ir_graph *g, pass_ctx *ctx, fuse_report *r)
{
    return fuse_run_rules(g, ctx, "fuse-add-layer-norm", al_rules, 1, r);
}

ir_status pass_fuse_add_layer_norm(ir_graph *g, pass_ctx *ctx)
{
    return fuse_add_layer_norm_run(g, ctx, NULL);
}

/* fuse_ms_ops.c — the "fuse-ms-ops" pass: ONNX Runtime's com.microsoft
 * fused ops (what its transformer optimizer, and Optimum's --optimize O2,
 * write) become distilc's own, so the later fusions and the encoder lift
 * see an ORT-optimised BERT as they see a plain export:
 *
 *   Gelu(x)                       -> Gelu(x, approximate "none")
 *   BiasGelu(x, b)                -> Gelu(Add(x, b))         (fuse-linear then
 *   FastGelu(x, b?)               -> Gelu(Add(x, b), "tanh")  takes MatMul+Add+Gelu)
 *   SkipLayerNormalization(x, skip, g, beta?, bias?)
 *                                 -> AddLayerNorm(x, skip, g, beta, bias)
 *   EmbedLayerNormalization(ids, seg?, word, pos, segemb?, g, beta, mask?, pids?)
 *                                 -> EmbedLayerNorm(ids, word, pos, g, beta,
 *                                                   seg?, segemb?, pids?)
 *   Attention(x, W, b?, mask_index?; num_heads, scale, mask_filter_value)
 *                                 -> Attention(x, W, b, mask; heads, scale,
 *                                    mask_kind, mask_filler)
 *   FusedMatMul(A, B; alpha, transA, transB, transBatchA, transBatchB)
 *                                 -> Mul(MatMul(Transpose(A)?, Transpose(B)?),
 *                                        alpha)?   (the kernel's own order)
 *
 * Each is exact except two things the optimizer itself introduced, undone
 * here: the Casts of int64 ids and masks to int32 are skipped (a Gather
 * reads either the same), and Attention's mask_index, when it is
 * key lengths (the sum of each mask row, by EmbedLayerNormalization or a
 * ReduceSum), becomes
 * the key-padding mask it was summed from. The two agree for right-padded
 * masks, the case the optimizer fuses for; for any other mask the mask
 * wins, which is what the model before optimisation computed.
 * Declined, with the reason in the report: outputs distilc's ops lack
 * (SkipLayerNormalization's mean, inv_std_var and input_skip_bias_sum,
 * EmbedLayerNormalization's embedding_sum) when read, and attention outside
 * BERT self-attention (ir/ops/ms_attention.h), with unequal
 * qkv_hidden_sizes (the interpreter runs those) or with a mask_index of
 * another form, and FusedMatMul on inputs of unknown rank (the Transposes'
 * perms depend on it).
 */
#include "ir/ops/ms_attention.h"
#include "ir/ops/ms_matmul.h"
#include "passes/fuse_common.h"

#include <math.h>
#include <string.h>

#define MS_LN_EPS 1e-12f /* ORT's default epsilon of its LayerNorm ops */

static bool ms_is(const ir_node *n, ir_op op)
{
    return n && n->op == op;
}

static ir_value *ms_in(const ir_node *n, int k)
{
    return k < n->n_inputs ? n->inputs[k] : NULL;
}

/* Output k of n is read by something. */
static bool ms_read(const fuse_state *fs, const ir_node *n, int k)
{
    return k < n->n_outputs && n->outputs[k] && fuse_uses(fs, n->outputs[k]) > 0;
}

/* v, or the integer value it was Cast to int32 from. */
static ir_value *ms_uncast(ir_value *v)
{
    const ir_node *c = v ? v->producer : NULL;
    if (c && c->op == IR_OP_CAST && ir_node_attr_int(c, "to", 0) == IR_DT_I32 &&
        ir_dtype_is_int(c->inputs[0]->dtype))
        return c->inputs[0];
    return v;
}

static ir_status ms_nomem(fuse_state *fs)
{
    return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
}

/* ---- GELU ----------------------------------------------------------------- */

static bool gelu_match(fuse_state *fs, ir_node *n, fuse_match *m)
{
    (void)fs;
    if (!ms_is(n, IR_OP_MS_GELU) && !ms_is(n, IR_OP_MS_BIAS_GELU) &&
        !ms_is(n, IR_OP_MS_FAST_GELU))
        return false;
    fuse_take(m, n);
    m->s[0] = n->op == IR_OP_MS_FAST_GELU ? "tanh" : "none";
    return true;
}

static ir_status gelu_rewrite(fuse_state *fs, fuse_match *m)
{
    ir_node *n = m->anchor;
    ir_value *x = n->inputs[0], *b = ms_in(n, 1);
    if (b) {
        ir_value *in[2] = {x, b};
        ir_node *add = fuse_add_node(fs, IR_OP_ADD, n, 2, in);
        if (!add)
            return ms_nomem(fs);
        x = add->outputs[0];
    }
    ir_node *g = fuse_add_node(fs, IR_OP_GELU, n, 1, &x);
    if (!g || !ir_node_set_attr_string(fs->g, g, "approximate", m->s[0]))
        return ms_nomem(fs);
    return fuse_replace(fs, n->outputs[0], g->outputs[0]);
}

/* ---- SkipLayerNormalization ----------------------------------------------- */

static bool skip_match(fuse_state *fs, ir_node *n, fuse_match *m)
{
    if (!ms_is(n, IR_OP_MS_SKIP_LAYER_NORM))
        return false;
    static const char *const outs[] = {NULL, "mean", "inv_std_var",
                                       "input_skip_bias_sum"};
    for (int k = 1; k < 4; k++)
        if (ms_read(fs, n, k))
            return fuse_decline(m, "node '%s': output %d (%s) is read; "
                                "AddLayerNorm has one output", n->name, k,
                                outs[k]);
    fuse_take(m, n);
    return true;
}

static ir_status skip_rewrite(fuse_state *fs, fuse_match *m)
{
    ir_node *n = m->anchor;
    ir_value *in[5] = {n->inputs[0], n->inputs[1], n->inputs[2], ms_in(n, 3),
                       ms_in(n, 4)};
    int k = in[4] ? 5 : in[3] ? 4 : 3;
    ir_node *a = fuse_add_node(fs, IR_OP_ADD_LAYER_NORM, n, k, in);
    if (!a || !ir_node_set_attr_float(fs->g, a, "epsilon",
                                      ir_node_attr_float(n, "epsilon", MS_LN_EPS)))
        return ms_nomem(fs);
    return fuse_replace(fs, n->outputs[0], a->outputs[0]);
}

/* ---- EmbedLayerNormalization ---------------------------------------------- */

static bool embed_match(fuse_state *fs, ir_node *n, fuse_match *m)
{
    if (!ms_is(n, IR_OP_MS_EMBED_LAYER_NORM))
        return false;
    if (ms_read(fs, n, 2))
        return fuse_decline(m, "node '%s': output 2 (embedding_sum) is read; "
                            "EmbedLayerNorm has one output", n->name);
    fuse_take(m, n);
    return true;
}

static ir_status embed_rewrite(fuse_state *fs, fuse_match *m)
{
    ir_node *n = m->anchor;
    ir_value *seg = ms_uncast(ms_in(n, 1)), *pids = ms_uncast(ms_in(n, 8));
    ir_value *in[8] = {ms_uncast(n->inputs[0]), n->inputs[2], n->inputs[3],
                       n->inputs[5], n->inputs[6], seg, ms_in(n, 4), pids};
    int k = pids ? 8 : seg ? 7 : 5;
    ir_node *e = fuse_add_node(fs, IR_OP_EMBED_LAYER_NORM, n, k, in);
    if (!e || !ir_node_set_attr_float(fs->g, e, "epsilon",
                                      ir_node_attr_float(n, "epsilon", MS_LN_EPS)))
        return ms_nomem(fs);
    /* mask_index stays EmbedLayerNormalization's until the Attentions that
     * read it are rewritten; then nothing reads the old node. */
    return fuse_replace(fs, n->outputs[0], e->outputs[0]);
}

/* ---- Attention ------------------------------------------------------------ */

enum { AM_MASK };

/* The [B,S] mask a ReduceSum over axis 1 (keepdims 0) summed into key
 * lengths: what the optimizer writes for mask_index when it could not fuse
 * EmbedLayerNormalization (RoBERTa's CumSum position ids). NULL otherwise. */
static ir_value *att_summed_mask(const ir_node *p)
{
    int64_t axes[2];
    if (!ms_is(p, IR_OP_REDUCE_SUM) || ir_node_attr_int(p, "keepdims", 1) != 0 ||
        fuse_node_axes(p, axes, 2) != 1)
        return NULL;
    ir_value *mask = ms_uncast(p->inputs[0]);
    if (mask->rank != 2 || (axes[0] != 1 && axes[0] != -1))
        return NULL;
    return mask;
}

/* The [B,S] key mask mask_index stands for: itself when 2-D, or the mask
 * EmbedLayerNormalization or a ReduceSum summed it from (the header says why
 * the mask, not the lengths). NULL (with m->why) otherwise. */
static ir_value *att_key_mask(ir_node *n, ir_value *mi, fuse_match *m)
{
    const ir_node *p = mi->producer;
    if (ms_is(p, IR_OP_MS_EMBED_LAYER_NORM) && p->outputs[1] == mi) {
        ir_value *mask = ms_uncast(ms_in(p, 7));
        if (mask)
            return mask;
        fuse_decline(m, "node '%s': mask_index from EmbedLayerNormalization "
                     "'%s' without a mask input", n->name, p->name);
        return NULL;
    }
    ir_value *summed = att_summed_mask(p);
    if (summed)
        return summed;
    mi = ms_uncast(mi);
    if (mi->rank == 2)
        return mi;
    fuse_decline(m, "node '%s': mask_index '%s' of rank %d: distilc takes "
                 "key lengths summed from a [B,S] mask (by "
                 "EmbedLayerNormalization or ReduceSum) or a [B,S] 0/1 mask",
                 n->name, mi->name, mi->rank);
    return NULL;
}

static bool att_match(fuse_state *fs, ir_node *n, fuse_match *m)
{
    (void)fs;
    if (!ms_is(n, IR_OP_MS_ATTENTION))
        return false;
    const char *bad = ir_ms_attention_unsupported(n);
    if (bad)
        return fuse_decline(m, "node '%s': %s is not BERT self-attention",
                            n->name, bad);
    const ir_tensor *w = fuse_const(n->inputs[1]);
    int64_t heads = ir_node_attr_int(n, "num_heads", 0), nq, nv;
    char why[200];
    if (!w || w->rank != 2)
        return fuse_decline(m, "node '%s': weights are not a constant [K,3N]",
                            n->name);
    if (!ir_ms_attention_sizes(n, w->dims[1], &nq, &nv, why, sizeof why))
        return fuse_decline(m, "node '%s': %s", n->name, why);
    if (nq != nv) /* the runtime's Attention splits W in equal thirds */
        return fuse_decline(m, "node '%s': attribute qkv_hidden_sizes gives q "
                            "and k %lld columns, v %lld: distilc's Attention "
                            "takes equal sizes", n->name, (long long)nq,
                            (long long)nv);
    ir_value *mi = ms_in(n, 3);
    m->v[AM_MASK] = mi ? att_key_mask(n, mi, m) : NULL;
    if (mi && !m->v[AM_MASK])
        return true; /* declined: m->why says why */
    double scale = ir_node_attr_float(n, "scale", 0.0f);
    m->f[0] = scale != 0.0 ? scale : 1.0 / sqrt((double)(nq / heads));
    m->i[0] = heads;
    fuse_take(m, n);
    return true;
}

static ir_status att_rewrite(fuse_state *fs, fuse_match *m)
{
    ir_node *n = m->anchor;
    ir_value *in[4] = {n->inputs[0], n->inputs[1], ms_in(n, 2), m->v[AM_MASK]};
    int k = in[3] ? 4 : in[2] ? 3 : 2;
    ir_node *a = fuse_add_node(fs, IR_OP_ATTENTION, n, k, in);
    bool kp = in[3] != NULL;
    if (!a || !ir_node_set_attr_int(fs->g, a, "heads", m->i[0]) ||
        !ir_node_set_attr_float(fs->g, a, "scale", (float)m->f[0]) ||
        !ir_node_set_attr_string(fs->g, a, "mask_kind", kp ? "key_padding" : "none") ||
        (kp && !ir_node_set_attr_float(fs->g, a, "mask_filler",
                                       ir_node_attr_float(n, "mask_filter_value",
                                                          -10000.0f))))
        return ms_nomem(fs);
    return fuse_replace(fs, n->outputs[0], a->outputs[0]);
}

/* ---- FusedMatMul ---------------------------------------------------------- */

static bool fmm_match(fuse_state *fs, ir_node *n, fuse_match *m)
{
    (void)fs;
    if (!ms_is(n, IR_OP_MS_FUSED_MATMUL))
        return false;
    for (int k = 0; k < 2; k++) {
        int perm[IR_MAX_RANK];
        const char *attr = NULL;
        const ir_value *v = n->inputs[k];
        if (v->rank < 0)
            return fuse_decline(m, "node '%s': input %d '%s' has unknown rank",
                                n->name, k, v->name);
        if (ir_ms_matmul_perm(n, k, v->rank, perm, &attr) < 0)
            return fuse_decline(m, "node '%s': attribute %s on input '%s' of "
                                "rank %d", n->name, attr, v->name, v->rank);
    }
    m->f[0] = ir_node_attr_float(n, "alpha", 1.0f);
    fuse_take(m, n);
    return true;
}

/* v, or Transpose(v) by the perm n's attributes give input k. */
static ir_value *fmm_operand(fuse_state *fs, ir_node *n, int k)
{
    ir_value *v = n->inputs[k];
    int perm[IR_MAX_RANK];
    int64_t p64[IR_MAX_RANK];
    const char *attr;
    if (ir_ms_matmul_perm(n, k, v->rank, perm, &attr) <= 0)
        return v;
    for (int i = 0; i < v->rank; i++)
        p64[i] = perm[i];
    ir_node *t = fuse_add_node(fs, IR_OP_TRANSPOSE, n, 1, &v);
    if (!t || !ir_node_set_attr_ints(fs->g, t, "perm", v->rank, p64))
        return NULL;
    /* one per input: node names must differ in the ONNX written back */
    t->name = ir_graph_strfmt(fs->g, "%s_fusedTranspose%s", n->name, k ? "B" : "A");
    if (!t->name)
        return NULL;
    return t->outputs[0];
}

static ir_status fmm_rewrite(fuse_state *fs, fuse_match *m)
{
    ir_node *n = m->anchor;
    ir_value *in[2] = {fmm_operand(fs, n, 0), fmm_operand(fs, n, 1)};
    if (!in[0] || !in[1])
        return ms_nomem(fs);
    ir_node *mm = fuse_add_node(fs, IR_OP_MATMUL, n, 2, in);
    if (!mm)
        return ms_nomem(fs);
    ir_value *y = mm->outputs[0];
    if (m->f[0] != 1.0) {
        ir_tensor *t = ir_tensor_new(IR_DT_F32, 0, NULL);
        if (!t)
            return ms_nomem(fs);
        *(float *)t->data = (float)m->f[0];
        ir_value *mul_in[2] = {y, fuse_add_const(fs, "fused_matmul_alpha", t)};
        ir_node *mul = mul_in[1] ? fuse_add_node(fs, IR_OP_MUL, n, 2, mul_in) : NULL;
        if (!mul)
            return ms_nomem(fs);
        y = mul->outputs[0];
    }
    return fuse_replace(fs, n->outputs[0], y);
}

static const fuse_rule ms_rules[] = {
    {"com.microsoft Gelu / BiasGelu / FastGelu -> [Add +] Gelu", gelu_match,
     gelu_rewrite},
    {"com.microsoft SkipLayerNormalization -> AddLayerNorm", skip_match,
     skip_rewrite},
    {"com.microsoft EmbedLayerNormalization -> EmbedLayerNorm", embed_match,
     embed_rewrite},
    {"com.microsoft Attention -> Attention (key-padding mask)", att_match,
     att_rewrite},
    {"com.microsoft FusedMatMul -> [Transpose +] MatMul [+ Mul by alpha]",
     fmm_match, fmm_rewrite},
};

ir_status fuse_ms_ops_run(ir_graph *g, pass_ctx *ctx, fuse_report *r)
{
    return fuse_run_rules(g, ctx, "fuse-ms-ops", ms_rules,
                          (int)(sizeof ms_rules / sizeof ms_rules[0]), r);
}

ir_status pass_fuse_ms_ops(ir_graph *g, pass_ctx *ctx)
{
    return fuse_ms_ops_run(g, ctx, NULL);
}

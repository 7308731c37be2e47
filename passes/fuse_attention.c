/* fuse_attention.c — the fuse-attention pass: a BERT self-attention block
 * becomes one Attention op (ai.distilc, kernel in ir/ops/fused.c):
 *     Attention(x, Wqkv[K,3N], bqkv[3N], mask, position_bias; heads, scale,
 *               mask_kind, mask_filler)
 *
 * The block as torch.onnx.export writes Hugging Face's BertSelfAttention
 * (and ORT's fusion test models), anchored at the Softmax:
 *     q = Transpose[0,2,1,3](Reshape(lin_q(x), [B,S,H,D]))      (same for v)
 *     kT = Transpose[0,2,3,1](Reshape(lin_k(x), ..))
 *          or Transpose[0,1,3,2](Transpose[0,2,1,3](Reshape(..)))
 *     s = MatMul(q, kT), then Div(s, c) / Mul(s, c) / Mul(c, s) or nothing
 *     s = Add(s, P) (either order, optional: MPNet's relative position
 *         bias, any value beside the scores; only under a mask found as
 *         below, the order MPNet adds them)
 *     s = Add(s, m) (either order, optional)
 *     p = Softmax(s) over the last axis (Softmax-13 axis -1/3; at opsets
 *         below 13 axis 3 = the last of a rank-4 tensor, same rows)
 *     y = Reshape(Transpose[0,2,1,3](MatMul(p, v)), [B,S,N])
 * lin_* is Linear(x, W, b) with no activation (fuse-linear) or
 * Add(MatMul(x, W), b) with constants, either operand order; the three read
 * the same x. H comes from the Reshape (its inferred type, its constant
 * shape, or the constant in a Concat building the shape).
 *
 * The mask: when m is built from a graph input as Hugging Face does —
 * Mul(Sub(1, Cast(Unsqueeze(Unsqueeze(mask, 1), 2))), filler), Unsqueeze with
 * axes [1,2] in one step, Cast optional, filler torch.finfo.min or -10000 —
 * the fused op reads the raw mask (mask_kind "key_padding", mask_filler);
 * any other m is passed as it is (mask_kind "additive"), which is exact too.
 * DistilBERT's masked_fill writes the mask as a select instead of an add:
 *     s = Where(Cast?(Expand(Reshape|Unsqueeze(Equal(mask, 0)) to
 *               [B,1,1,S], s)), filler, s)
 * (the Expand reads the scores for their shape only), and scales q before
 * QK^T: MatMul(Div(q, c), kT). Both are accepted: replacing masked scores
 * by the filler and adding the filler give the same softmax for a row with
 * at least one real token (exp underflows to 0 either way), as for the
 * additive finfo.min mask.
 * Declined with a reason (any Softmax feeding MatMul(p, v) that does not
 * fit): an extra bias before the Softmax other than that one, different
 * x for q/k/v,
 * non-constant weights, heads unknown, a softmax over another axis,
 * interior values read twice.
 */
#include "passes/fuse_common.h"

#include <math.h>
#include <string.h>

enum { AT_X, AT_WQ, AT_BQ, AT_WK, AT_BK, AT_WV, AT_BV, AT_MASK, AT_OUT,
       AT_RQ, AT_MASKRAW, AT_PBIAS };

static bool at_perm_is(const ir_node *t, const int64_t *want)
{
    int64_t p[8];
    if (!t || t->op != IR_OP_TRANSPOSE || fuse_transpose_perm(t, p, 8) != 4)
        return false;
    return memcmp(p, want, sizeof(int64_t) * 4) == 0;
}

static const int64_t perm_bshd[4] = {0, 2, 1, 3};
static const int64_t perm_bhds[4] = {0, 2, 3, 1};
static const int64_t perm_swap[4] = {0, 1, 3, 2};

/* lin(x): Linear(x, W, b, none) or Add(MatMul(x, W), b). Fills x, W, b. */
static bool at_linear(fuse_state *fs, ir_value *v, ir_value **x, ir_value **w,
                      ir_value **b, fuse_match *m)
{
    ir_node *n = v ? v->producer : NULL;
    if (!n || !fuse_single_use(fs, v))
        return false;
    if (n->op == IR_OP_LINEAR) {
        if (strcmp(ir_node_attr_string(n, "activation", "none"), "none") != 0)
            return false;
        *x = n->inputs[0];
        *w = n->inputs[1];
        *b = n->n_inputs > 2 ? n->inputs[2] : NULL;
        fuse_take(m, n);
        return fuse_const(*w) != NULL;
    }
    if (n->op != IR_OP_ADD)
        return false;
    for (int k = 0; k < 2; k++) {
        ir_node *mm = n->inputs[k]->producer;
        if (mm && mm->op == IR_OP_MATMUL && fuse_single_use(fs, n->inputs[k]) &&
            fuse_const(n->inputs[1 - k])) {
            *x = mm->inputs[0];
            *w = mm->inputs[1];
            *b = n->inputs[1 - k];
            fuse_take(m, n);
            fuse_take(m, mm);
            return fuse_const(*w) != NULL;
        }
    }
    return false;
}

/* Transpose[perm](Reshape(lin)): returns the Reshape, records the nodes. */
static ir_node *at_heads_view(fuse_state *fs, ir_value *v, const int64_t *perm,
                              fuse_match *m)
{
    ir_node *t = v ? v->producer : NULL;
    if (!at_perm_is(t, perm) || !fuse_single_use(fs, v))
        return NULL;
    ir_node *r = t->inputs[0]->producer;
    if (!r || r->op != IR_OP_RESHAPE || !fuse_single_use(fs, t->inputs[0]))
        return NULL;
    fuse_take(m, t);
    fuse_take(m, r);
    return r;
}

/* The head count written in a [B,S,H,D] Reshape; -1 when not visible. */
static int64_t at_heads_of(const ir_node *r)
{
    const ir_value *o = r->outputs[0];
    if (o->rank == 4 && ir_dim_known(o->dims[2]))
        return o->dims[2].size;
    const ir_tensor *t = fuse_const(r->inputs[1]);
    if (t && ir_tensor_numel(t) == 4 && ir_tensor_get_i64(t, 2) > 0)
        return ir_tensor_get_i64(t, 2);
    const ir_node *c = r->inputs[1]->producer;
    if (c && c->op == IR_OP_CONCAT && c->n_inputs == 4) {
        double h;
        if (fuse_const_scalar(c->inputs[2], &h) && h > 0)
            return (int64_t)h;
    }
    return -1;
}

/* Hugging Face's extended mask; sets the raw mask and the filler. */
static bool at_key_padding(const ir_value *madd, ir_value **raw,
                           double *filler)
{
    const ir_node *mul = madd->producer;
    if (!mul || mul->op != IR_OP_MUL)
        return false;
    int slot;
    ir_value *s = fuse_other_than_scalar(mul, filler, &slot);
    const ir_node *sub = s ? s->producer : NULL;
    if (!sub || sub->op != IR_OP_SUB || !fuse_const_near(sub->inputs[0], 1.0, 0))
        return false;
    ir_value *v = sub->inputs[1];
    if (v->producer && v->producer->op == IR_OP_CAST) {
        if (ir_node_attr_int(v->producer, "to", 0) != IR_DT_F32)
            return false;
        v = v->producer->inputs[0];
    }
    /* Unsqueeze axes 1 then 2, or [1,2] at once. */
    int64_t want = 2, ax[4];
    while (want > 0) {
        const ir_node *u = v->producer;
        if (!u || u->op != IR_OP_UNSQUEEZE)
            return false;
        int na = fuse_node_axes(u, ax, 4);
        if (na == 2 && want == 2 && ax[0] == 1 && ax[1] == 2)
            want = 0;
        else if (na == 1 && ax[0] == want)
            want--;
        else
            return false;
        v = u->inputs[0];
    }
    if (!v->is_input || v->rank != 2)
        return false;
    *raw = v;
    return true;
}

/* The padding condition of DistilBERT's masked_fill, Equal(mask, 0) viewed
 * as [B,1,1,S] (Reshape or Unsqueeze [1,2]) and broadcast to the scores
 * (Expand / ExpandLike, whose shape input may read the scores), with an
 * optional Cast to bool. Sets the raw mask input; the Expand (when it reads
 * the scores) goes into *expand so the scores' second reader is known. */
static bool at_where_cond(const ir_value *cond, ir_value **raw,
                          const ir_node **expand)
{
    const ir_value *v = cond;
    const ir_node *n = v->producer;
    if (n && n->op == IR_OP_CAST && ir_node_attr_int(n, "to", 0) == IR_DT_BOOL)
        n = (v = n->inputs[0])->producer;
    *expand = NULL;
    if (n && (n->op == IR_OP_EXPAND || n->op == IR_OP_EXPAND_LIKE)) {
        *expand = n;
        n = (v = n->inputs[0])->producer;
    }
    if (!n)
        return false;
    if (n->op == IR_OP_RESHAPE) {
        const ir_value *o = n->outputs[0];
        if (o->rank != 4 || !ir_dim_known(o->dims[1]) || o->dims[1].size != 1 ||
            !ir_dim_known(o->dims[2]) || o->dims[2].size != 1)
            return false;
    } else if (n->op == IR_OP_UNSQUEEZE) {
        int64_t ax[4];
        if (fuse_node_axes(n, ax, 4) != 2 || ax[0] != 1 || ax[1] != 2)
            return false;
    } else {
        return false;
    }
    const ir_node *eq = n->inputs[0]->producer;
    if (!eq || eq->op != IR_OP_EQUAL)
        return false;
    for (int k = 0; k < 2; k++) {
        ir_value *x = eq->inputs[k];
        if (x->is_input && x->rank == 2 && fuse_const_near(eq->inputs[1 - k], 0.0, 0)) {
            *raw = x;
            return true;
        }
    }
    return false;
}

/* s read by its consumer and, at most, by the mask's Expand for its shape. */
static bool at_scores_use(const fuse_state *fs, const ir_value *s,
                          const ir_node *expand)
{
    if (fuse_single_use(fs, s))
        return true;
    return expand && !s->is_output && fuse_uses(fs, s) == 2 &&
           expand->n_inputs > 1 && expand->inputs[1] == s;
}

static bool at_match(fuse_state *fs, ir_node *sm, fuse_match *m)
{
    if (sm->op != IR_OP_SOFTMAX)
        return false;
    /* Softmax feeding MatMul(p, v) is attention's signature: from here on a
     * shape that does not fit is declined with its reason, so the report
     * (appended to the lift's refusal by encoder_from_graph) says why. */
    ir_node *pv = fuse_sole_consumer(fs, sm->outputs[0]);
    if (!pv || pv->op != IR_OP_MATMUL || pv->inputs[0] != sm->outputs[0])
        return false;
    ir_value *s = sm->inputs[0];
    /* Optional additive mask. */
    ir_node *madd = fuse_producer(fs, s, IR_OP_ADD);
    ir_value *mask = NULL;
    if (madd && fuse_single_use(fs, s)) {
        /* Hugging Face's extended mask marks the mask side when present. */
        for (int k = 0; k < 2 && !mask; k++) {
            ir_value *raw;
            double filler;
            if (at_key_padding(madd->inputs[1 - k], &raw, &filler)) {
                mask = madd->inputs[1 - k];
                s = madd->inputs[k];
            }
        }
        for (int k = 0; k < 2 && !mask; k++) {
            ir_node *p = madd->inputs[k]->producer;
            if (p && (p->op == IR_OP_DIV || p->op == IR_OP_MUL ||
                      p->op == IR_OP_MATMUL)) {
                mask = madd->inputs[1 - k];
                s = madd->inputs[k];
            }
        }
        fuse_take(m, madd);
        if (!mask)
            return fuse_decline(m, "the Add '%s' before the Softmax has no "
                                "(scaled) QK^T input (an extra bias, such as "
                                "a relative position bias?)", madd->name);
    }
    /* A position bias under Hugging Face's mask: Add(scaled QK^T, P). */
    ir_value *pbias = NULL;
    ir_value *raw0;
    double fill0;
    ir_node *padd = mask && at_key_padding(mask, &raw0, &fill0)
                        ? fuse_producer(fs, s, IR_OP_ADD) : NULL;
    if (padd && fuse_single_use(fs, s)) {
        int side = -1;
        for (int k = 0; k < 2; k++) {
            ir_node *p = padd->inputs[k]->producer;
            if (p && (p->op == IR_OP_DIV || p->op == IR_OP_MUL ||
                      p->op == IR_OP_MATMUL))
                side = side < 0 ? k : 2;
        }
        fuse_take(m, padd);
        if (side < 0 || side > 1)
            return fuse_decline(m, "the Add '%s' under the mask has %s (scaled) "
                                "QK^T input (one, beside a position bias, "
                                "expected)", padd->name, side < 0 ? "no" : "two");
        pbias = padd->inputs[1 - side];
        s = padd->inputs[side];
    }
    /* Or DistilBERT's select: Where(padding, filler, s). */
    ir_node *where = madd ? NULL : fuse_producer(fs, s, IR_OP_WHERE);
    ir_value *where_raw = NULL;
    const ir_node *expand = NULL;
    double where_filler = 0.0;
    if (where && fuse_single_use(fs, s)) {
        s = where->inputs[2];
        ir_node *qk0 = s->producer;
        fuse_take(m, where);
        if (!qk0 || !(qk0->op == IR_OP_MATMUL || qk0->op == IR_OP_DIV ||
                      qk0->op == IR_OP_MUL))
            return fuse_decline(m, "the Where '%s' before the Softmax does not "
                                "select from the (scaled) scores", where->name);
        if (!fuse_const_scalar(where->inputs[1], &where_filler) ||
            !at_where_cond(where->inputs[0], &where_raw, &expand))
            return fuse_decline(m, "the Where '%s' before the Softmax is not "
                                "Where(Equal(mask input, 0) as [B,1,1,S], "
                                "constant filler, scores) (a masked_fill "
                                "key-padding mask)", where->name);
        if (!at_scores_use(fs, s, expand))
            return fuse_decline(m, "the scores '%s' have readers besides the "
                                "masked_fill", s->name);
    } else {
        where = NULL;
    }
    /* Optional scale. */
    double scale = 1.0, c;
    ir_node *sc = s->producer;
    if (sc && (sc->op == IR_OP_DIV || sc->op == IR_OP_MUL) &&
        (where ? at_scores_use(fs, s, expand) : fuse_single_use(fs, s))) {
        int slot;
        ir_value *o = fuse_other_than_scalar(sc, &c, &slot);
        if (!o || (sc->op == IR_OP_DIV && slot != 1) || c == 0.0)
            return fuse_decline(m, "the scores' scale '%s' is not a division "
                                "or product by a nonzero constant", sc->name);
        scale = sc->op == IR_OP_DIV ? 1.0 / c : c;
        fuse_take(m, sc);
        s = o;
    }
    ir_node *qk = s->producer;
    bool scaled = sc != qk;
    if (!qk || qk->op != IR_OP_MATMUL)
        return fuse_decline(m, "the Softmax's scores '%s' are not QK^T (a "
                            "MatMul, optionally scaled, masked by an Add or a "
                            "Where) but %s%s", s->name,
                            qk ? ir_op_name(qk->op) : "a graph input",
                            qk && qk->op == IR_OP_ADD
                                ? " (an extra bias, such as a relative "
                                  "position bias?)" : "");
    if (!(where && !scaled ? at_scores_use(fs, s, expand) : fuse_single_use(fs, s)))
        return fuse_decline(m, "the scores '%s' are read elsewhere too",
                            s->name);
    /* DistilBERT scales q instead: MatMul(Div(q, c) or Mul(q, c), kT). */
    ir_node *qs = qk->inputs[0]->producer;
    ir_value *qv = qk->inputs[0];
    if (!scaled && qs && (qs->op == IR_OP_DIV || qs->op == IR_OP_MUL) &&
        fuse_single_use(fs, qk->inputs[0])) {
        int slot;
        ir_value *o = fuse_other_than_scalar(qs, &c, &slot);
        if (o && !(qs->op == IR_OP_DIV && slot != 1) && c != 0.0 &&
            o->producer && o->producer->op == IR_OP_TRANSPOSE) {
            scale = qs->op == IR_OP_DIV ? 1.0 / c : c;
            fuse_take(m, qs);
            qv = o;
        }
    }
    fuse_take(m, qk);
    fuse_take(m, pv);
    /* The shape of the block is clear from here on: report problems. */
    int64_t axis = ir_node_attr_int(sm, "axis", fs->g->opset < 13 ? 1 : -1);
    if (axis != -1 && axis != 3)
        return fuse_decline(m, "Softmax axis %lld is not the last (3)",
                            (long long)axis);
    ir_node *rq = at_heads_view(fs, qv, perm_bshd, m);
    ir_node *rk = at_heads_view(fs, qk->inputs[1], perm_bhds, m);
    if (!rk) {
        ir_node *t2 = qk->inputs[1]->producer;
        if (at_perm_is(t2, perm_swap) && fuse_single_use(fs, qk->inputs[1]) &&
            (rk = at_heads_view(fs, t2->inputs[0], perm_bshd, m)))
            fuse_take(m, t2);
    }
    ir_node *rv = at_heads_view(fs, pv->inputs[1], perm_bshd, m);
    if (!rq || !rk || !rv)
        return fuse_decline(m, "q, k or v is not Transpose(Reshape(..)) into "
                            "[B,H,S,D] (k as [B,H,D,S])");
    ir_node *to = fuse_sole_consumer(fs, pv->outputs[0]);
    if (!at_perm_is(to, perm_bshd))
        return fuse_decline(m, "the context '%s' is not transposed back with "
                            "perm [0,2,1,3]", pv->outputs[0]->name);
    ir_node *ro = fuse_sole_consumer(fs, to->outputs[0]);
    if (!ro || ro->op != IR_OP_RESHAPE || ro->inputs[0] != to->outputs[0])
        return fuse_decline(m, "no Reshape back to [B,S,N] after '%s'",
                            to->name);
    if (ro->outputs[0]->rank >= 0 && ro->outputs[0]->rank != 3)
        return fuse_decline(m, "the output Reshape '%s' is not to rank 3",
                            ro->name);
    fuse_take(m, to);
    fuse_take(m, ro);
    ir_value *xq, *xk, *xv;
    if (!at_linear(fs, rq->inputs[0], &xq, &m->v[AT_WQ], &m->v[AT_BQ], m) ||
        !at_linear(fs, rk->inputs[0], &xk, &m->v[AT_WK], &m->v[AT_BK], m) ||
        !at_linear(fs, rv->inputs[0], &xv, &m->v[AT_WV], &m->v[AT_BV], m))
        return fuse_decline(m, "q, k or v is not a linear map of x with "
                            "constant weights");
    if (xq != xk || xq != xv)
        return fuse_decline(m, "q, k and v read different inputs (not "
                            "self-attention)");
    int64_t heads = at_heads_of(rq);
    if (heads <= 0)
        return fuse_decline(m, "the head count is not visible in Reshape '%s' "
                            "(run infer-shapes/fold first)", rq->name);
    m->v[AT_X] = xq;
    m->v[AT_MASK] = mask;
    m->v[AT_PBIAS] = pbias;
    m->v[AT_OUT] = ro->outputs[0];
    m->i[0] = heads;
    m->f[0] = scale;
    m->s[0] = mask ? "additive" : "none";
    double filler;
    ir_value *raw;
    if (where) {
        m->s[0] = "key_padding";
        m->v[AT_MASK] = where_raw;
        m->f[1] = where_filler;
    } else if (mask && at_key_padding(mask, &raw, &filler)) {
        m->s[0] = "key_padding";
        m->v[AT_MASK] = raw;
        m->f[1] = filler;
    }
    return true;
}

/* Checks a weight / bias and returns its payload (f32, W [K,N], b [N]). */
static const ir_tensor *at_param(const ir_value *v, int rank)
{
    const ir_tensor *t = fuse_const(v);
    if (!t || t->dtype != IR_DT_F32)
        return NULL;
    if (rank == 2 ? t->rank != 2 : ir_tensor_numel(t) != t->dims[t->rank - 1])
        return NULL;
    return t;
}

static ir_status at_rewrite(fuse_state *fs, fuse_match *m)
{
    const ir_tensor *w[3], *b[3];
    for (int k = 0; k < 3; k++) {
        w[k] = at_param(m->v[AT_WQ + 2 * k], 2);
        b[k] = m->v[AT_BQ + 2 * k] ? at_param(m->v[AT_BQ + 2 * k], 1) : NULL;
        if (!w[k] || (m->v[AT_BQ + 2 * k] && !b[k])) {
            fuse_decline(m, "a q/k/v weight or bias is not an f32 matrix / "
                         "vector");
            return IR_OK;
        }
    }
    int64_t K = w[0]->dims[0], N = w[0]->dims[1];
    for (int k = 0; k < 3; k++)
        if (w[k]->dims[0] != K || w[k]->dims[1] != N ||
            (b[k] && ir_tensor_numel(b[k]) != N)) {
            fuse_decline(m, "q, k and v weights differ in shape");
            return IR_OK;
        }
    if (N % m->i[0] != 0) {
        fuse_decline(m, "heads %lld do not divide the width %lld",
                     (long long)m->i[0], (long long)N);
        return IR_OK;
    }
    /* Pack [Wq | Wk | Wv] column blocks and [bq | bk | bv]. */
    ir_tensor *W = ir_tensor_new(IR_DT_F32, 2, (int64_t[]){K, 3 * N});
    ir_tensor *B = ir_tensor_new(IR_DT_F32, 1, (int64_t[]){3 * N});
    if (!W || !B) {
        ir_tensor_free(W); ir_tensor_free(B);
        return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
    }
    float *wd = W->data, *bd = B->data;
    for (int k = 0; k < 3; k++) {
        const float *src = w[k]->data;
        for (int64_t r = 0; r < K; r++)
            memcpy(wd + r * 3 * N + k * N, src + r * N, sizeof(float) * (size_t)N);
        if (b[k])
            memcpy(bd + k * N, b[k]->data, sizeof(float) * (size_t)N);
    }
    ir_value *wv = fuse_add_const(fs, "attention_Wqkv", W);
    ir_value *bv = fuse_add_const(fs, "attention_bqkv", B);
    ir_value *in[5] = {m->v[AT_X], wv, bv, m->v[AT_MASK], m->v[AT_PBIAS]};
    ir_node *n = wv && bv ? fuse_add_node(fs, IR_OP_ATTENTION, m->anchor,
                                          in[4] ? 5 : in[3] ? 4 : 3, in)
                          : NULL;
    if (!n || !ir_node_set_attr_int(fs->g, n, "heads", m->i[0]) ||
        !ir_node_set_attr_float(fs->g, n, "scale", (float)m->f[0]) ||
        !ir_node_set_attr_string(fs->g, n, "mask_kind", m->s[0]) ||
        (strcmp(m->s[0], "key_padding") == 0 &&
         !ir_node_set_attr_float(fs->g, n, "mask_filler", (float)m->f[1])))
        return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
    return fuse_replace(fs, m->v[AT_OUT], n->outputs[0]);
}

static const fuse_rule at_rules[] = {
    {"self-attention: linears, heads view, scaled QK^T, mask, Softmax, "
     "context", at_match, at_rewrite},
};

ir_status fuse_attention_run(ir_graph *g, pass_ctx *ctx, fuse_report *r)
{
    return fuse_run_rules(g, ctx, "fuse-attention", at_rules, 1, r);
}

ir_status pass_fuse_attention(ir_graph *g, pass_ctx *ctx)
{
    return fuse_attention_run(g, ctx, NULL);
}

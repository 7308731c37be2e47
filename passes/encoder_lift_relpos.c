/* encoder_lift_relpos.c — recognising MPNet's relative position bias, the
 * value fuse-attention passes to every layer's Attention as input 4.
 *
 * transformers' MPNetEncoder.compute_position_bias (4.40) computes, with
 * relative_position_bucket's num_buckets R and max_distance M:
 *     rel  = arange(S)[None, :] - arange(S)[:, None]         key - query
 *     n    = -rel;  ret = (n < 0) * (R / 2);  n = |n|        (bidirectional)
 *     small = n < exact;  exact = R / 4
 *     large = min(exact + (log(n.float() / exact) / log(M / exact)
 *                          * (R / 2 - exact)).long(), R / 2 - 1)
 *     bucket = ret + where(small, n, large)
 *     bias = table[bucket].permute(2, 0, 1).unsqueeze(0).expand(B, ...)
 * which torch.onnx.export writes, after distilc's default passes, as
 *     Expand|ExpandLike?(Unsqueeze(Transpose[2,0,1](Gather(table, bucket)),
 *                                  [0]))
 *     bucket = Add(ret, Where(Less(n', exact), n', large))  (either order)
 *     ret    = Mul(Cast(Less(n, 0)), R/2), plus an Add of 0 when kept
 *     n'     = Abs(n), n = Neg(Sub(Unsqueeze(r, [0]), Unsqueeze(r, [1])))
 *     large  = Min(Add(Cast(Mul(Div(Log(Div(Cast(n'), exact)), log(M /
 *              exact)), R/2 - exact)), exact), R/2 - 1)     (either order)
 *     r      = RangeLike(h){start 0, delta 1, like_axis 1} or
 *              Range(0, S, 1)
 * with Casts anywhere and the clamp's constant possibly an ExpandLike of
 * it (ConstantOfShape). The one-direction form (T5's bidirectional=False,
 * which ir_encoder_to_graph writes too) has no ret and
 *     n' = Neg(Min(rel, 0)),  half = R instead of R / 2.
 * Optimum's and ONNX Runtime's graphs are the same ops (ORT drops the Add
 * of 0 and a Cast). Each constant must agree with the others (exact =
 * half / 2, the span half - exact, the clamp half - 1, M an integer whose
 * log ratio is the float constant), so a changed formula is refused with
 * the node where it differs rather than computed as MPNet's.
 */
#include "passes/encoder_lift_internal.h"
#include "passes/fuse_common.h"
#include "ir/relpos.h"

#include <math.h>

static bool fail(lift_relpos *o, const ir_node *n, const char *expected)
{
    o->at = n;
    o->expected = expected;
    return false;
}

/* The producer of v (Casts skipped) when it is an `op`, else NULL. */
static const ir_node *made_by(const ir_value *v, ir_op op)
{
    const ir_node *n = v ? lift_uncast(v)->producer : NULL;
    return n && n->op == op ? n : NULL;
}

/* A constant integer scalar, also broadcast by Expand / ExpandLike (the
 * default passes' form of ConstantOfShape and full_like). */
static bool fill_int(const ir_value *v, int64_t *out)
{
    const ir_node *e = lift_uncast(v)->producer;
    if (e && (e->op == IR_OP_EXPAND || e->op == IR_OP_EXPAND_LIKE))
        v = e->inputs[0];
    return lift_const_int(v, out);
}

/* A constant f32 scalar. */
static bool const_float(const ir_value *v, float *out)
{
    const ir_tensor *t = fuse_const(v);
    if (!t || t->dtype != IR_DT_F32 || ir_tensor_numel(t) != 1)
        return false;
    *out = ((const float *)t->data)[0];
    return true;
}

/* Binary n with a constant integer on one side: the other side. */
static const ir_value *beside_int(const ir_node *n, int64_t *c)
{
    if (!n || n->n_inputs != 2)
        return NULL;
    for (int k = 0; k < 2; k++)
        if (fill_int(n->inputs[1 - k], c))
            return n->inputs[k];
    return NULL;
}

/* Binary n with a constant float on one side (only slot 1 when the op is
 * not commutative): the other side. */
static const ir_value *beside_float(const ir_node *n, float *c, bool either)
{
    if (!n || n->n_inputs != 2)
        return NULL;
    for (int k = 0; k < 2; k++)
        if ((either || k == 0) && const_float(n->inputs[1 - k], c))
            return n->inputs[k];
    return NULL;
}

/* Unsqueeze(r, [axis]): r, or NULL. */
static const ir_value *unsqueezed(const ir_value *v, int64_t axis)
{
    const ir_node *u = made_by(v, IR_OP_UNSQUEEZE);
    int64_t ax[4];
    return u && fuse_node_axes(u, ax, 4) == 1 && ax[0] == axis ? u->inputs[0]
                                                                : NULL;
}

/* 0, 1, ..., S-1 over the sequence: RangeLike along axis 1 of a [B,S,..]
 * value, or Range(0, S, 1). */
static bool seq_range(const ir_value *r)
{
    const ir_node *n = lift_uncast(r)->producer;
    if (n && n->op == IR_OP_RANGE_LIKE)
        return ir_node_attr_int(n, "start", 0) == 0 &&
               ir_node_attr_int(n, "delta", 1) == 1 &&
               ir_node_attr_int(n, "like_axis", 0) == 1;
    int64_t start, delta;
    return n && n->op == IR_OP_RANGE && lift_const_int(n->inputs[0], &start) &&
           start == 0 && lift_const_int(n->inputs[2], &delta) && delta == 1;
}

/* key - query: Sub(Unsqueeze(r, [0]), Unsqueeze(r, [1])) of one range. */
static bool key_minus_query(const ir_value *v, lift_relpos *o)
{
    const ir_node *sub = made_by(v, IR_OP_SUB);
    const ir_value *key = sub ? unsqueezed(sub->inputs[0], 0) : NULL;
    const ir_value *query = sub ? unsqueezed(sub->inputs[1], 1) : NULL;
    if (!key || key != query || !seq_range(key))
        return fail(o, sub ? sub : lift_uncast(v)->producer,
                    "Sub(Unsqueeze(r, [0]), Unsqueeze(r, [1])) with r = "
                    "0..S-1 (key - query positions)");
    return true;
}

/* The distances' source: bidirectional |Neg(key - query)| with the side
 * term ret = Mul(Cast(Less(Neg(..), 0)), half) (+ 0); one direction
 * Neg(Min(key - query, 0)). Sets *half for bidirectional. */
static bool distances(const ir_value *dist, const ir_value *ret,
                      int64_t *half, lift_relpos *o)
{
    if (!ret) {
        const ir_node *neg = made_by(dist, IR_OP_NEG);
        const ir_node *mn = neg ? made_by(neg->inputs[0], IR_OP_MIN) : NULL;
        int64_t zero = -1;
        const ir_value *rel = beside_int(mn, &zero);
        if (!rel || zero != 0)
            return fail(o, neg ? neg : lift_uncast(dist)->producer,
                        "Neg(Min(key - query, 0)) (one-direction distances) "
                        "or Abs of the query - key (both directions, with "
                        "the side's bucket offset added)");
        return key_minus_query(rel, o);
    }
    const ir_node *abs = made_by(dist, IR_OP_ABS);
    const ir_node *neg = abs ? made_by(abs->inputs[0], IR_OP_NEG) : NULL;
    if (!neg)
        return fail(o, lift_uncast(dist)->producer,
                    "Abs(Neg(key - query)) (the distance both ways)");
    int64_t c;
    const ir_node *plus = made_by(ret, IR_OP_ADD);
    const ir_value *r = plus ? beside_int(plus, &c) : NULL;
    if (r && c == 0)
        ret = r; /* ret = 0; ret += ...: an Add of 0 */
    const ir_node *mul = made_by(ret, IR_OP_MUL);
    const ir_value *side = beside_int(mul, half);
    const ir_node *less = side ? made_by(side, IR_OP_LESS) : NULL;
    if (!less || lift_uncast(less->inputs[0]) != lift_uncast(abs->inputs[0]) ||
        !lift_const_int(less->inputs[1], &c) || c != 0)
        return fail(o, mul ? mul : lift_uncast(ret)->producer,
                    "Mul(Cast(Less(query - key, 0)), buckets / 2) (the bucket "
                    "offset of keys after the query)");
    return key_minus_query(neg->inputs[0], o);
}

/* large = Min(Add(Cast(Mul(Div(Log(Div(Cast(dist), exact_f)), logc),
 * span)), exact2), top). */
static bool log_buckets(const ir_value *v, const ir_value *dist,
                        int64_t *top, int64_t *exact2, float *span,
                        float *logc, float *exact_f, lift_relpos *o)
{
    static const char want[] =
        "Min(exact + Cast(Log(Cast(distance) / exact) / log(max_distance / "
        "exact) * (half - exact)), half - 1) (relative_position_bucket's "
        "logarithmic buckets)";
    const ir_node *mn = made_by(v, IR_OP_MIN);
    const ir_value *x = beside_int(mn, top);
    const ir_node *add = x ? made_by(x, IR_OP_ADD) : NULL;
    x = beside_int(add, exact2);
    const ir_node *mul = x ? made_by(x, IR_OP_MUL) : NULL;
    x = beside_float(mul, span, true);
    const ir_node *div = x ? made_by(x, IR_OP_DIV) : NULL;
    x = beside_float(div, logc, false);
    const ir_node *log = x ? made_by(x, IR_OP_LOG) : NULL;
    const ir_node *scaled = log ? made_by(log->inputs[0], IR_OP_DIV) : NULL;
    x = beside_float(scaled, exact_f, false);
    if (!x || lift_uncast(x) != lift_uncast(dist)) {
        const ir_node *at = scaled ? scaled : log ? log : div ? div : mul ? mul
                          : add ? add : mn ? mn : lift_uncast(v)->producer;
        return fail(o, at, want);
    }
    return true;
}

static bool bucket_ids(const ir_value *v, lift_relpos *o)
{
    const ir_node *top_node = lift_uncast(v)->producer, *where = NULL;
    const ir_value *ret = NULL;
    if (top_node && top_node->op == IR_OP_ADD && top_node->n_inputs == 2) {
        for (int k = 0; k < 2 && !where; k++)
            if ((where = made_by(top_node->inputs[k], IR_OP_WHERE)))
                ret = top_node->inputs[1 - k];
    } else if (top_node && top_node->op == IR_OP_WHERE) {
        where = top_node;
    }
    if (!where)
        return fail(o, top_node, "the bucket ids: Where(distance < exact, "
                    "distance, logarithmic bucket), plus the offset of keys "
                    "after the query when bidirectional");
    const ir_value *dist = lift_uncast(where->inputs[1]);
    const ir_node *less = made_by(where->inputs[0], IR_OP_LESS);
    int64_t exact = 0, exact2, top, half = 0;
    float span, logc, exact_f;
    if (!less || lift_uncast(less->inputs[0]) != dist ||
        !lift_const_int(less->inputs[1], &exact) || exact < 1)
        return fail(o, where, "Where(Less(distance, exact), distance, ..) "
                    "(relative_position_bucket's is_small)");
    if (!log_buckets(where->inputs[2], dist, &top, &exact2, &span, &logc,
                     &exact_f, o) ||
        !distances(dist, ret, &half, o))
        return false;
    if (!ret)
        half = top + 1;
    if (exact != half / 2 || exact2 != exact || top != half - 1 ||
        exact_f != (float)exact || span != (float)(half - exact))
        return fail(o, where, "constants of one bucketing: exact = half / 2, "
                    "span = half - exact, clamp = half - 1 (half the buckets "
                    "each way when bidirectional)");
    double m = (double)exact * exp((double)logc);
    int64_t M = (int64_t)llround(m);
    if (!(m > exact && m < 1e9) || ir_relpos_log_ratio(M, exact) != logc)
        return fail(o, made_by(where->inputs[2], IR_OP_MIN),
                    "log(max_distance / exact) for a whole max_distance");
    o->bidirectional = ret != NULL;
    o->buckets = o->bidirectional ? 2 * half : half;
    o->max_distance = M;
    return true;
}

bool lift_relative_bias(const ir_value *v, int64_t heads, lift_relpos *o)
{
    memset(o, 0, sizeof *o);
    const ir_node *n = v ? v->producer : NULL;
    if (n && (n->op == IR_OP_EXPAND || n->op == IR_OP_EXPAND_LIKE))
        n = n->inputs[0]->producer;
    int64_t ax[4];
    if (!n || n->op != IR_OP_UNSQUEEZE || fuse_node_axes(n, ax, 4) != 1 ||
        ax[0] != 0)
        return fail(o, n, "MPNet's relative position bias: Unsqueeze(.., [0]) "
                    "of the [heads, S, S] bias, broadcast over the batch");
    const ir_node *t = n->inputs[0]->producer;
    int64_t perm[8];
    if (!t || t->op != IR_OP_TRANSPOSE || fuse_transpose_perm(t, perm, 8) != 3 ||
        perm[0] != 2 || perm[1] != 0 || perm[2] != 1)
        return fail(o, t, "Transpose [2,0,1] of the table's rows ([S, S, "
                    "heads] -> [heads, S, S])");
    const ir_node *gt = t->inputs[0]->producer;
    const ir_tensor *table = gt && gt->op == IR_OP_GATHER &&
                                     ir_node_attr_int(gt, "axis", 0) == 0
                                 ? fuse_const(gt->inputs[0]) : NULL;
    if (!table || table->dtype != IR_DT_F32 || table->rank != 2 ||
        table->dims[1] != heads)
        return fail(o, gt, "Gather(relative bias table f32 [buckets, heads], "
                    "bucket ids) with one column per attention head");
    if (!bucket_ids(gt->inputs[1], o))
        return false;
    if (table->dims[0] < o->buckets)
        return fail(o, gt, "a table with a row for every bucket");
    o->table = table;
    return true;
}

/* lower_internal.c — rewrites distilc's internal ops (ir/ops/internal.c)
 * into standard ONNX so a saved model runs in any ONNX runtime. The
 * equivalences are the ones documented in ir/ops/internal.c:
 *
 *   SliceLike(x, like){axis, like_axis, start}
 *     -> Slice(x, [start], Slice(Shape(like), [la], [la+1], [0]), [axis])
 *   ExpandLike(x, like){like_axes, sizes}
 *     -> Expand(x, Concat(Gather(Shape(like), [la_i]) or [size_i], ...))
 *   RangeLike(like){like_axis, start, delta, dtype}
 *     -> Range(start, Cast?(Gather(Shape(like), la)), delta)
 *
 * Only ops available from opset 11 on are used (Slice-10+ with inputs,
 * Gather, Concat, Expand, Range-11, Cast), so the result is valid for every
 * opset the loader accepts. */
#include "passes/pass.h"

#include <stdlib.h>

typedef struct lower {
    ir_graph *g;
    const ir_node *n; /* the node being lowered, for names */
} lower;

static ir_value *lw_const_i64(lower *l, int rank, int n, const int64_t *v)
{
    int64_t len = n;
    ir_tensor *t = ir_tensor_new(IR_DT_I64, rank, rank ? &len : NULL);
    if (!t)
        return NULL;
    for (int i = 0; i < n; i++)
        ((int64_t *)t->data)[i] = v[i];
    return ir_graph_add_constant(
        l->g, ir_graph_unique_name(l->g, ir_graph_strfmt(l->g, "%s_k", l->n->name)), t);
}

static ir_value *lw_node(lower *l, ir_op op, const char *suffix, int n_in,
                         ir_value *const *ins)
{
    /* ONNX wants unique node names: the new node's id makes them so */
    ir_node *m = ir_graph_add_node(
        l->g, op,
        ir_graph_strfmt(l->g, "%s/%s_%d", l->n->name, suffix, l->g->next_node_id),
        n_in, ins, 1);
    return m ? m->outputs[0] : NULL;
}

/* The final node writes the internal node's own output value. */
static bool lw_final(lower *l, ir_node *n, ir_op op, int n_in,
                     ir_value *const *ins, bool *remove)
{
    ir_node *m = ir_graph_add_node_with_outputs(
        l->g, op, ir_graph_strfmt(l->g, "%s/%s", n->name, ir_op_name(op)),
        n_in, ins, n->n_outputs, n->outputs);
    if (!m)
        return false;
    remove[n->id] = true;
    return true;
}

static bool lower_slice_like(lower *l, ir_node *n, bool *remove)
{
    int64_t la = ir_node_attr_int(n, "like_axis", 0);
    int64_t axis = ir_node_attr_int(n, "axis", 0);
    int64_t start = ir_node_attr_int(n, "start", 0);
    int64_t la1 = la + 1, zero = 0;
    ir_value *shp = lw_node(l, IR_OP_SHAPE, "Shape", 1, &n->inputs[1]);
    ir_value *a = lw_const_i64(l, 1, 1, &la), *b = lw_const_i64(l, 1, 1, &la1);
    ir_value *z = lw_const_i64(l, 1, 1, &zero);
    if (!shp || !a || !b || !z)
        return false;
    /* la = -1 would make la+1 = 0: an empty slice; take the end instead */
    if (la == -1)
        ((int64_t *)b->constant->data)[0] = INT64_MAX;
    ir_value *si[4] = {shp, a, b, z};
    ir_value *end = lw_node(l, IR_OP_SLICE, "end", 4, si);
    ir_value *st = lw_const_i64(l, 1, 1, &start);
    ir_value *ax = lw_const_i64(l, 1, 1, &axis);
    if (!end || !st || !ax)
        return false;
    ir_value *ins[4] = {n->inputs[0], st, end, ax};
    return lw_final(l, n, IR_OP_SLICE, 4, ins, remove);
}

static bool lower_expand_like(lower *l, ir_node *n, bool *remove)
{
    const int64_t *axes, *sizes;
    int na = ir_node_attr_ints(n, "like_axes", &axes);
    int ns = ir_node_attr_ints(n, "sizes", &sizes);
    if (na <= 0 || na > IR_MAX_RANK)
        return false;
    ir_value *shp = lw_node(l, IR_OP_SHAPE, "Shape", 1, &n->inputs[1]);
    if (!shp)
        return false;
    ir_value *pieces[IR_MAX_RANK];
    for (int i = 0; i < na; i++) {
        if (axes[i] >= 0) {
            ir_value *ix = lw_const_i64(l, 1, 1, &axes[i]);
            ir_value *gi[2] = {shp, ix};
            pieces[i] = ix ? lw_node(l, IR_OP_GATHER, "dim", 2, gi) : NULL;
        } else {
            int64_t one = 1;
            pieces[i] = lw_const_i64(l, 1, 1, ns > i ? &sizes[i] : &one);
        }
        if (!pieces[i])
            return false;
    }
    ir_value *shape = pieces[0];
    if (na > 1) {
        shape = lw_node(l, IR_OP_CONCAT, "shape", na, pieces);
        if (!shape || !ir_node_set_attr_int(l->g, shape->producer, "axis", 0))
            return false;
    }
    ir_value *ins[2] = {n->inputs[0], shape};
    return lw_final(l, n, IR_OP_EXPAND, 2, ins, remove);
}

static bool lower_range_like(lower *l, ir_node *n, bool *remove)
{
    int64_t la = ir_node_attr_int(n, "like_axis", 0);
    ir_dtype dt = (ir_dtype)ir_node_attr_int(n, "dtype", IR_DT_I64);
    ir_value *shp = lw_node(l, IR_OP_SHAPE, "Shape", 1, &n->inputs[0]);
    ir_value *ix = lw_const_i64(l, 0, 1, &la);
    if (!shp || !ix)
        return false;
    ir_value *gi[2] = {shp, ix};
    ir_value *limit = lw_node(l, IR_OP_GATHER, "limit", 2, gi);
    if (!limit)
        return false;
    if (dt != IR_DT_I64) {
        limit = lw_node(l, IR_OP_CAST, "cast", 1, &limit);
        if (!limit || !ir_node_set_attr_int(l->g, limit->producer, "to", dt))
            return false;
    }
    ir_tensor *s = ir_tensor_new(dt, 0, NULL), *d = ir_tensor_new(dt, 0, NULL);
    if (!s || !d) {
        ir_tensor_free(s);
        ir_tensor_free(d);
        return false;
    }
    ir_tensor_set_f64(s, 0, (double)ir_node_attr_int(n, "start", 0));
    ir_tensor_set_f64(d, 0, (double)ir_node_attr_int(n, "delta", 1));
    ir_value *sv = ir_graph_add_constant(
        l->g, ir_graph_unique_name(l->g, ir_graph_strfmt(l->g, "%s_start", n->name)), s);
    ir_value *dv = ir_graph_add_constant(
        l->g, ir_graph_unique_name(l->g, ir_graph_strfmt(l->g, "%s_delta", n->name)), d);
    if (!sv || !dv)
        return false;
    ir_value *ins[3] = {sv, limit, dv};
    return lw_final(l, n, IR_OP_RANGE, 3, ins, remove);
}

ir_status pass_lower_internal(ir_graph *g, pass_ctx *ctx)
{
    int n_nodes = g->n_nodes;
    bool *remove = calloc((size_t)g->next_node_id + 1, sizeof(bool));
    ir_node **nodes = malloc(sizeof(ir_node *) * ((size_t)n_nodes + 1));
    if (!remove || !nodes) {
        free(remove);
        free(nodes);
        return ir_diag_set(ctx->diag, IR_ERR_NOMEM, "out of memory lowering");
    }
    for (int i = 0; i < n_nodes; i++)
        nodes[i] = g->nodes[i];
    ir_status st = IR_OK;
    bool any = false;
    for (int i = 0; i < n_nodes && st == IR_OK; i++) {
        ir_node *n = nodes[i];
        if (!(ir_op_get(n->op)->flags & IR_OPF_INTERNAL))
            continue;
        lower l = {g, n};
        bool ok;
        switch (n->op) {
        case IR_OP_SLICE_LIKE: ok = lower_slice_like(&l, n, remove); break;
        case IR_OP_EXPAND_LIKE: ok = lower_expand_like(&l, n, remove); break;
        case IR_OP_RANGE_LIKE: ok = lower_range_like(&l, n, remove); break;
        default:
            st = ir_diag_set(ctx->diag, IR_ERR_UNSUPPORTED,
                             "node '%s' (%s): no lowering to standard ONNX",
                             n->name, ir_op_name(n->op));
            continue;
        }
        if (!ok)
            st = ir_diag_set(ctx->diag, IR_ERR_NOMEM,
                             "node '%s' (%s): out of memory or bad attributes "
                             "while lowering", n->name, ir_op_name(n->op));
        any = true;
    }
    /* remove[] is indexed by id; lowered nodes all have ids below the old
     * next_node_id, the new ones are never removed */
    if (st == IR_OK && any) {
        bool *rm = calloc((size_t)g->next_node_id + 1, sizeof(bool));
        if (!rm) {
            st = ir_diag_set(ctx->diag, IR_ERR_NOMEM, "out of memory lowering");
        } else {
            for (int i = 0; i < n_nodes; i++)
                rm[nodes[i]->id] = remove[nodes[i]->id];
            ir_graph_remove_nodes(g, rm);
            free(rm);
            st = ir_graph_toposort(g, ctx->diag);
            /* types for the new values (savers and later passes read them) */
            if (st == IR_OK)
                st = pass_infer_shapes(g, ctx);
        }
    }
    free(remove);
    free(nodes);
    return st;
}

/* internal.c — distilc's own ops (domain "ai.distilc"), made by the
 * simplify-shapes pass in place of Shape arithmetic so that later passes see
 * plain data flow instead of computed shape tensors. Each reads only the
 * dims of its `like` input, never its data, and has an exact standard-ONNX
 * equivalent that passes/lower_internal.c writes back before export:
 *
 *   SliceLike(data, like) {axis, like_axis, start}
 *       = Slice-13(data, starts=[start], ends=[dim(like, like_axis)],
 *                  axes=[axis])  (ends clamped to the data's dim as ONNX does)
 *   ExpandLike(data, like) {like_axes, sizes}
 *       = Expand-13(data, shape) with shape[i] = dim(like, like_axes[i]) when
 *         like_axes[i] >= 0, else sizes[i]
 *   RangeLike(like) {like_axis, start, delta, dtype}
 *       = Range-11(start, dim(like, like_axis), delta) in dtype
 *
 * The kernels build the standard op's inputs and call its kernel, so the
 * semantics cannot drift from the ONNX ones.
 */
#include "ir/ops/kernel.h"

#include <string.h>

/* The axis attribute normalised against rank r, or a failure naming it. */
static ir_status attr_axis(ir_diag *d, const ir_node *n, const char *name,
                           int r, int *out)
{
    int64_t ax = ir_node_attr_int(n, name, 0);
    if (!ir_axis_normalize(ax, r, out))
        return ir_kernel_fail(d, n, IR_ERR_INPUT,
                              "attribute %s=%lld is out of range for rank %d",
                              name, (long long)ax, r);
    return IR_OK;
}

static ir_tensor *i64_vector(int n, const int64_t *v)
{
    int64_t len = n;
    ir_tensor *t = ir_tensor_new(IR_DT_I64, 1, &len);
    if (t && n)
        memcpy(t->data, v, sizeof(int64_t) * (size_t)n);
    return t;
}

/* ---- SliceLike ------------------------------------------------------------ */

ir_status ir_eval_SLICE_LIKE(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0], *like = a->inputs[1];
    int axis, la;
    ir_status st = attr_axis(a->diag, a->node, "axis", x->rank, &axis);
    if (st == IR_OK)
        st = attr_axis(a->diag, a->node, "like_axis", like->rank, &la);
    if (st != IR_OK)
        return st;
    int64_t start = ir_node_attr_int(a->node, "start", 0);
    int64_t end = like->dims[la], ax = axis;
    ir_tensor *starts = i64_vector(1, &start), *ends = i64_vector(1, &end);
    ir_tensor *axes = i64_vector(1, &ax);
    if (!starts || !ends || !axes) {
        ir_tensor_free(starts); ir_tensor_free(ends); ir_tensor_free(axes);
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    }
    const ir_tensor *ins[4] = {x, starts, ends, axes};
    ir_kernel_args sa = *a;
    sa.n_inputs = 4;
    sa.inputs = ins;
    if (sa.opset < 13)
        sa.opset = 13;
    st = ir_eval_SLICE(&sa);
    ir_tensor_free(starts); ir_tensor_free(ends); ir_tensor_free(axes);
    return st;
}

ir_status ir_infer_SLICE_LIKE(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0], *like = a->node->inputs[1];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    out->rank = x->rank;
    if (x->rank < 0)
        return IR_OK;
    memcpy(out->dims, x->dims, sizeof(ir_dim) * (size_t)x->rank);
    int axis, la;
    if (!ir_axis_normalize(ir_node_attr_int(a->node, "axis", 0), x->rank, &axis))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis out of range for rank %d", x->rank);
    int64_t start = ir_node_attr_int(a->node, "start", 0);
    if (like->rank < 0 ||
        !ir_axis_normalize(ir_node_attr_int(a->node, "like_axis", 0),
                           like->rank, &la)) {
        out->dims[axis] = ir_dim_unknown();
        return IR_OK;
    }
    ir_dim e = like->dims[la], xd = x->dims[axis];
    if (e.size >= 0 && xd.size >= 0 && start >= 0) {
        /* Slice-13 clamping of [start, end) into [0, dim] */
        int64_t s = start < xd.size ? start : xd.size;
        int64_t en = e.size < xd.size ? e.size : xd.size;
        out->dims[axis] = ir_dim_const(en > s ? en - s : 0);
    } else if (start == 0 && e.size < 0) {
        /* the like dim fits in the data (the reason the slice exists:
         * position ids cut to the sequence length) */
        out->dims[axis] = e;
    } else {
        out->dims[axis] = ir_dim_unknown();
    }
    return IR_OK;
}

/* ---- ExpandLike ----------------------------------------------------------- */

/* Target shape of ExpandLike from the like dims (known sizes only). */
static ir_status expand_like_shape(ir_diag *d, const ir_node *n,
                                   const int64_t *like_dims, int like_rank,
                                   int64_t *shape, int *len)
{
    const int64_t *axes, *sizes;
    int na = ir_node_attr_ints(n, "like_axes", &axes);
    int ns = ir_node_attr_ints(n, "sizes", &sizes);
    if (na < 0 || na > IR_MAX_RANK || (ns >= 0 && ns != na))
        return ir_kernel_fail(d, n, IR_ERR_INPUT,
                              "attributes like_axes and sizes must be lists "
                              "of equal length (at most %d)", IR_MAX_RANK);
    for (int i = 0; i < na; i++) {
        int ax;
        if (axes[i] < 0) {
            shape[i] = ns > 0 ? sizes[i] : 1;
            continue;
        }
        if (!ir_axis_normalize(axes[i], like_rank, &ax))
            return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                  "like_axes[%d]=%lld out of range for rank %d",
                                  i, (long long)axes[i], like_rank);
        shape[i] = like_dims[ax];
    }
    *len = na;
    return IR_OK;
}

ir_status ir_eval_EXPAND_LIKE(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0], *like = a->inputs[1];
    int64_t shape[IR_MAX_RANK];
    int len = 0;
    ir_status st = expand_like_shape(a->diag, a->node, like->dims, like->rank,
                                     shape, &len);
    if (st != IR_OK)
        return st;
    ir_tensor *sh = i64_vector(len, shape);
    if (!sh)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    const ir_tensor *ins[2] = {x, sh};
    ir_kernel_args ea = *a;
    ea.n_inputs = 2;
    ea.inputs = ins;
    st = ir_eval_EXPAND(&ea);
    ir_tensor_free(sh);
    return st;
}

ir_status ir_infer_EXPAND_LIKE(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0], *like = a->node->inputs[1];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    out->rank = -1;
    const int64_t *axes, *sizes;
    int na = ir_node_attr_ints(a->node, "like_axes", &axes);
    int ns = ir_node_attr_ints(a->node, "sizes", &sizes);
    if (x->rank < 0 || like->rank < 0 || na < 0 || na > IR_MAX_RANK)
        return IR_OK;
    ir_dim target[IR_MAX_RANK];
    for (int i = 0; i < na; i++) {
        int ax;
        if (axes[i] < 0)
            target[i] = ir_dim_const(ns > i ? sizes[i] : 1);
        else if (ir_axis_normalize(axes[i], like->rank, &ax))
            target[i] = like->dims[ax];
        else
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "like_axes[%d] out of range", i);
    }
    /* Expand-13: numpy broadcast of the data against the target shape. */
    int r = na > x->rank ? na : x->rank;
    for (int i = 0; i < r; i++) {
        int ti = i - (r - na), xi = i - (r - x->rank);
        ir_dim t = ti >= 0 ? target[ti] : ir_dim_const(1);
        ir_dim d = xi >= 0 ? x->dims[xi] : ir_dim_const(1);
        if (t.size == 1)
            out->dims[i] = d;
        else if (d.size == 1 || ir_dim_equal(t, d))
            out->dims[i] = t;
        else if (t.size >= 0 && d.size >= 0)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "cannot broadcast dim %lld to %lld",
                                  (long long)d.size, (long long)t.size);
        else
            out->dims[i] = t.size >= 0 ? t : (d.size >= 0 ? d : t);
    }
    out->rank = r;
    return IR_OK;
}

/* ---- RangeLike ------------------------------------------------------------ */

ir_status ir_eval_RANGE_LIKE(ir_kernel_args *a)
{
    const ir_tensor *like = a->inputs[0];
    int la;
    ir_status st = attr_axis(a->diag, a->node, "like_axis", like->rank, &la);
    if (st != IR_OK)
        return st;
    ir_dtype dt = (ir_dtype)ir_node_attr_int(a->node, "dtype", IR_DT_I64);
    if (dt != IR_DT_I64 && dt != IR_DT_I32 && dt != IR_DT_F32)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "dtype %s (want i64, i32 or f32)",
                              ir_dtype_name(dt));
    ir_tensor *s = ir_tensor_new(dt, 0, NULL), *l = ir_tensor_new(dt, 0, NULL);
    ir_tensor *dl = ir_tensor_new(dt, 0, NULL);
    if (!s || !l || !dl) {
        ir_tensor_free(s); ir_tensor_free(l); ir_tensor_free(dl);
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    }
    ir_tensor_set_f64(s, 0, (double)ir_node_attr_int(a->node, "start", 0));
    ir_tensor_set_f64(l, 0, (double)like->dims[la]);
    ir_tensor_set_f64(dl, 0, (double)ir_node_attr_int(a->node, "delta", 1));
    const ir_tensor *ins[3] = {s, l, dl};
    ir_kernel_args ra = *a;
    ra.n_inputs = 3;
    ra.inputs = ins;
    st = ir_eval_RANGE(&ra);
    ir_tensor_free(s); ir_tensor_free(l); ir_tensor_free(dl);
    return st;
}

ir_status ir_infer_RANGE_LIKE(ir_infer_args *a)
{
    const ir_value *like = a->node->inputs[0];
    ir_value *out = a->node->outputs[0];
    out->dtype = (ir_dtype)ir_node_attr_int(a->node, "dtype", IR_DT_I64);
    out->rank = 1;
    out->dims[0] = ir_dim_unknown();
    int la;
    int64_t start = ir_node_attr_int(a->node, "start", 0);
    int64_t delta = ir_node_attr_int(a->node, "delta", 1);
    if (like->rank < 0 ||
        !ir_axis_normalize(ir_node_attr_int(a->node, "like_axis", 0),
                           like->rank, &la))
        return IR_OK;
    ir_dim e = like->dims[la];
    if (e.size >= 0 && delta != 0) {
        /* Range-11: max(ceil((limit - start) / delta), 0) elements */
        int64_t num = e.size - start;
        int64_t cnt = delta > 0 ? (num + delta - 1) / delta
                                : (-num + -delta - 1) / -delta;
        out->dims[0] = ir_dim_const(cnt > 0 ? cnt : 0);
    } else if (start == 0 && delta == 1) {
        out->dims[0] = e;
    }
    return IR_OK;
}

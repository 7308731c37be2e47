/* slice_gather.c — ops that pick parts of a tensor: Slice (strided ranges
 * per axis), Gather (rows by index) and GatherElements (one element by
 * index per output position). Indices are checked before any read:
 * a bad index is IR_ERR_INPUT naming it, never an out-of-bounds access. */
#include "ir/ops/shape_ops.h"

#include <string.h>

/* ---- Slice (ONNX Slice-1/10/11/13) ----------------------------------------
 * Before opset 10 starts/ends/axes are attributes and steps are 1; from 10
 * they are inputs 1..4 (axes and steps optional). Per axis (Slice-13 spec):
 * negative start/end add the dim; start clamps to [0, dim] (step > 0) or
 * [0, dim-1] (step < 0), end to [0, dim] or [-1, dim-1]; INT64_MAX ends mean
 * "to the end". count = ceil((end - start) / step), at least 0. */

typedef struct slice_spec {
    int n;                          /* number of sliced axes */
    int64_t starts[SHP_MAX_LIST], ends[SHP_MAX_LIST];
    int64_t axes[SHP_MAX_LIST], steps[SHP_MAX_LIST];
} slice_spec;

/* Clamped start and count of one axis of size dim. */
static void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step,
                       int64_t *first, int64_t *count)
{
    if (dim == 0) { /* nothing to take; the clamps below assume dim >= 1 */
        *first = 0;
        *count = 0;
        return;
    }
    if (start < 0)
        start += dim;
    if (end < 0)
        end += dim;
    if (step > 0) {
        start = start < 0 ? 0 : start > dim ? dim : start;
        end = end < 0 ? 0 : end > dim ? dim : end;
        int64_t span = end - start;
        *count = span <= 0 ? 0 : 1 + (span - 1) / step;
    } else {
        start = start < 0 ? 0 : start > dim - 1 ? dim - 1 : start;
        end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
        int64_t span = start - end;
        /* -step without overflow: any step <= -dim takes one element */
        int64_t ns = step < -INT64_MAX ? INT64_MAX : -step;
        *count = span <= 0 ? 0 : 1 + (span - 1) / ns;
    }
    *first = start;
}

/* Checks the spec against rank; fills per-axis (first, step, count) with
 * axes not sliced taking everything. dims may hold -1 (infer only). */
static ir_status slice_check(ir_diag *d, const ir_node *node, const slice_spec *sp,
                             int rank, int *axis_of)
{
    bool seen[IR_MAX_RANK] = {false};
    for (int i = 0; i < sp->n; i++) {
        int ax;
        if (!ir_axis_normalize(sp->axes[i], rank, &ax))
            return ir_kernel_fail(d, node, IR_ERR_INPUT,
                                  "axis %lld is outside [-%d, %d)",
                                  (long long)sp->axes[i], rank, rank);
        if (seen[ax])
            return ir_kernel_fail(d, node, IR_ERR_INPUT, "axis %lld is repeated",
                                  (long long)sp->axes[i]);
        if (sp->steps[i] == 0)
            return ir_kernel_fail(d, node, IR_ERR_INPUT,
                                  "step for axis %lld is 0",
                                  (long long)sp->axes[i]);
        seen[ax] = true;
        axis_of[i] = ax;
    }
    return IR_OK;
}

/* Completes axes/steps defaults and checks list lengths. */
static ir_status slice_defaults(ir_diag *d, const ir_node *node, slice_spec *sp,
                                int n_ends, int n_axes, int n_steps)
{
    if (n_ends != sp->n || (n_axes >= 0 && n_axes != sp->n) ||
        (n_steps >= 0 && n_steps != sp->n))
        return ir_kernel_fail(d, node, IR_ERR_INPUT,
                              "starts, ends, axes and steps differ in length "
                              "(%d, %d, %d, %d)", sp->n, n_ends, n_axes, n_steps);
    for (int i = 0; i < sp->n; i++) {
        if (n_axes < 0)
            sp->axes[i] = i;
        if (n_steps < 0)
            sp->steps[i] = 1;
    }
    return IR_OK;
}

static ir_status slice_attr_list(ir_diag *d, const ir_node *node, const char *name,
                                 int64_t *out, int *n)
{
    const int64_t *v;
    int k = ir_node_attr_ints(node, name, &v);
    if (k > SHP_MAX_LIST)
        return ir_kernel_fail(d, node, IR_ERR_INPUT, "too many %s", name);
    if (k > 0)
        memcpy(out, v, sizeof(int64_t) * (size_t)k);
    *n = k;
    return IR_OK;
}

ir_status ir_eval_SLICE(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    slice_spec sp;
    int n_ends, n_axes = -1, n_steps = -1;
    ir_status s;
    if (a->opset < 10) {
        if ((s = slice_attr_list(a->diag, a->node, "starts", sp.starts, &sp.n)) ||
            (s = slice_attr_list(a->diag, a->node, "ends", sp.ends, &n_ends)) ||
            (s = slice_attr_list(a->diag, a->node, "axes", sp.axes, &n_axes)))
            return s;
        if (sp.n < 0 || n_ends < 0)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "attributes 'starts' and 'ends' are required");
    } else {
        if (a->n_inputs < 3 || !a->inputs[1] || !a->inputs[2])
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "inputs 'starts' and 'ends' are required");
        if ((s = shp_tensor_ints(a, a->inputs[1], "starts", sp.starts, &sp.n)) ||
            (s = shp_tensor_ints(a, a->inputs[2], "ends", sp.ends, &n_ends)))
            return s;
        if (a->n_inputs > 3 && a->inputs[3] &&
            (s = shp_tensor_ints(a, a->inputs[3], "axes", sp.axes, &n_axes)))
            return s;
        if (a->n_inputs > 4 && a->inputs[4] &&
            (s = shp_tensor_ints(a, a->inputs[4], "steps", sp.steps, &n_steps)))
            return s;
    }
    int axis_of[SHP_MAX_LIST];
    if ((s = slice_defaults(a->diag, a->node, &sp, n_ends, n_axes, n_steps)) ||
        (s = slice_check(a->diag, a->node, &sp, x->rank, axis_of)))
        return s;
    int r = x->rank;
    int64_t first[IR_MAX_RANK], step[IR_MAX_RANK], odims[IR_MAX_RANK];
    for (int i = 0; i < r; i++) {
        first[i] = 0;
        step[i] = 1;
        odims[i] = x->dims[i];
    }
    for (int i = 0; i < sp.n; i++) {
        int ax = axis_of[i];
        slice_axis(x->dims[ax], sp.starts[i], sp.ends[i], sp.steps[i],
                   &first[ax], &odims[ax]);
        /* a step is only walked when two or more elements are taken, and
         * then |step| < dim; a huge step taking one element is never used */
        step[ax] = odims[ax] > 1 ? sp.steps[i] : 0;
    }
    ir_tensor *o;
    if (ir_tensor_create(x->dtype, r, odims, &o, a->diag) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (Slice)", a->node->name);
    int64_t n = ir_tensor_numel(o);
    if (n > 0) {
        int64_t istr[IR_MAX_RANK], idx[IR_MAX_RANK] = {0}, off = 0;
        ir_strides(r, x->dims, istr);
        for (int i = 0; i < r; i++)
            off += first[i] * istr[i];
        size_t es = ir_dtype_size(x->dtype);
        for (int64_t k = 0; k < n; k++) {
            memcpy((char *)o->data + (size_t)k * es,
                   (const char *)x->data + (size_t)off * es, es);
            for (int i = r - 1; i >= 0; i--) {
                if (++idx[i] < odims[i]) {
                    off += step[i] * istr[i];
                    break;
                }
                off -= step[i] * istr[i] * (odims[i] - 1);
                idx[i] = 0;
            }
        }
    }
    a->outputs[0] = o;
    return IR_OK;
}

/* True when a slice of a symbolic dim keeps all of it. */
static bool slice_is_whole(int64_t start, int64_t end, int64_t step)
{
    return step == 1 && (start == 0 || start <= -((int64_t)1 << 62)) &&
           end >= INT32_MAX; /* exporters write INT64_MAX or INT32_MAX */
}

ir_status ir_infer_SLICE(ir_infer_args *a)
{
    ir_node *node = a->node;
    const ir_value *x = node->inputs[0];
    ir_value *out = node->outputs[0];
    out->dtype = x->dtype;
    out->rank = -1;
    if (x->rank < 0)
        return IR_OK;
    int r = x->rank;
    out->rank = r;
    slice_spec sp;
    int n_ends = -1, n_axes = -1, n_steps = -1;
    bool known = true;  /* every list constant */
    bool axes_known = true;
    if (a->opset < 10) {
        ir_status s;
        if ((s = slice_attr_list(a->diag, node, "starts", sp.starts, &sp.n)) ||
            (s = slice_attr_list(a->diag, node, "ends", sp.ends, &n_ends)) ||
            (s = slice_attr_list(a->diag, node, "axes", sp.axes, &n_axes)))
            return s;
        known = sp.n >= 0 && n_ends >= 0;
    } else {
        ir_value *const *in = node->inputs;
        int ni = node->n_inputs;
        known = ni >= 3 && shp_value_ints(in[1], sp.starts, &sp.n) &&
                shp_value_ints(in[2], sp.ends, &n_ends);
        if (ni > 3 && in[3] && !shp_value_ints(in[3], sp.axes, &n_axes))
            axes_known = known = false;
        if (ni > 4 && in[4] && !shp_value_ints(in[4], sp.steps, &n_steps))
            known = false;
        if (!known && axes_known && n_axes >= 0) {
            /* only the listed axes change: the others keep their dims */
            int axis_of[SHP_MAX_LIST];
            sp.n = n_axes;
            for (int i = 0; i < n_axes; i++)
                sp.steps[i] = 1;
            memcpy(out->dims, x->dims, sizeof(ir_dim) * (size_t)r);
            if (slice_check(a->diag, node, &sp, r, axis_of) != IR_OK)
                return a->diag->status;
            for (int i = 0; i < n_axes; i++)
                out->dims[axis_of[i]] = ir_dim_unknown();
            return IR_OK;
        }
    }
    if (!known) {
        for (int i = 0; i < r; i++)
            out->dims[i] = ir_dim_unknown();
        return IR_OK;
    }
    int axis_of[SHP_MAX_LIST];
    ir_status s;
    if ((s = slice_defaults(a->diag, node, &sp, n_ends, n_axes, n_steps)) ||
        (s = slice_check(a->diag, node, &sp, r, axis_of)))
        return s;
    memcpy(out->dims, x->dims, sizeof(ir_dim) * (size_t)r);
    for (int i = 0; i < sp.n; i++) {
        int ax = axis_of[i];
        ir_dim d = x->dims[ax];
        if (ir_dim_known(d)) {
            int64_t first, count;
            slice_axis(d.size, sp.starts[i], sp.ends[i], sp.steps[i], &first,
                       &count);
            out->dims[ax] = ir_dim_const(count);
        } else if (!slice_is_whole(sp.starts[i], sp.ends[i], sp.steps[i])) {
            out->dims[ax] = ir_dim_unknown();
        }
    }
    return IR_OK;
}

/* ---- Gather (ONNX Gather-1/11/13) -----------------------------------------
 * out = data[:axis] ++ indices.shape ++ data[axis+1:]; negative indices
 * count from the back (opset 11); anything outside [-dim, dim) is an error. */

/* Every index in [-dim, dim) before any read; the first bad one named. */
static ir_status gather_check_indices(const ir_kernel_args *a,
                                      const ir_tensor *ind, int64_t dim,
                                      int axis)
{
    int64_t n = ir_tensor_numel(ind);
    for (int64_t j = 0; j < n; j++) {
        int64_t v = ir_tensor_get_i64(ind, j);
        if (v < -dim || v >= dim)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "index %lld (entry %lld of indices) is "
                                  "outside [-%lld, %lld) on axis %d",
                                  (long long)v, (long long)j, (long long)dim,
                                  (long long)dim, axis);
    }
    return IR_OK;
}

ir_status ir_eval_GATHER(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0], *ind = a->inputs[1];
    int axis;
    int64_t axis_attr = ir_node_attr_int(a->node, "axis", 0);
    if (!ir_axis_normalize(axis_attr, x->rank, &axis))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis %lld is outside [-%d, %d)",
                              (long long)axis_attr, x->rank, x->rank);
    if (ind->dtype != IR_DT_I64 && ind->dtype != IR_DT_I32)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "indices must be int32 or int64, got %s",
                              ir_dtype_name(ind->dtype));
    int r = x->rank - 1 + ind->rank;
    if (r > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "output rank %d exceeds %d", r, IR_MAX_RANK);
    int64_t dims[IR_MAX_RANK];
    int k = 0;
    for (int i = 0; i < axis; i++)
        dims[k++] = x->dims[i];
    for (int i = 0; i < ind->rank; i++)
        dims[k++] = ind->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        dims[k++] = x->dims[i];
    int64_t dim = x->dims[axis], n_idx = ir_tensor_numel(ind);
    ir_status st = gather_check_indices(a, ind, dim, axis);
    if (st != IR_OK)
        return st;
    ir_tensor *o;
    if (ir_tensor_create(x->dtype, r, dims, &o, a->diag) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (Gather)", a->node->name);
    size_t es = ir_dtype_size(x->dtype);
    int64_t outer = ir_numel_checked(axis, x->dims);
    int64_t inner = ir_numel_checked(x->rank - axis - 1, x->dims + axis + 1);
    size_t chunk = (size_t)inner * es;
    char *dst = o->data;
    for (int64_t i = 0; i < outer; i++)
        for (int64_t j = 0; j < n_idx; j++) {
            int64_t v = ir_tensor_get_i64(ind, j);
            if (v < 0)
                v += dim;
            shp_copy_elems(dst, (const char *)x->data +
                                    (size_t)((i * dim + v) * inner) * es,
                           chunk, 1);
            dst += chunk;
        }
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_GATHER(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0], *ind = a->node->inputs[1];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    out->rank = -1;
    if (x->rank < 0 || !ind || ind->rank < 0)
        return IR_OK;
    int axis;
    int64_t axis_attr = ir_node_attr_int(a->node, "axis", 0);
    if (!ir_axis_normalize(axis_attr, x->rank, &axis))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis %lld is outside [-%d, %d)",
                              (long long)axis_attr, x->rank, x->rank);
    int r = x->rank - 1 + ind->rank;
    if (r > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "output rank %d exceeds %d", r, IR_MAX_RANK);
    ir_dim dims[IR_MAX_RANK];
    int k = 0;
    for (int i = 0; i < axis; i++)
        dims[k++] = x->dims[i];
    for (int i = 0; i < ind->rank; i++)
        dims[k++] = ind->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        dims[k++] = x->dims[i];
    out->rank = r;
    memcpy(out->dims, dims, sizeof(ir_dim) * (size_t)r);
    return IR_OK;
}

/* ---- GatherElements (ONNX GatherElements-13) -----------------------------
 * out has the shape of indices (same rank as data): out[i0..i(r-1)] =
 * data[i0.., indices[i0..i(r-1)], ..i(r-1)] with the index on `axis`
 * (negative ones add the axis' size). On every other axis indices may not
 * be longer than data. */

static ir_status gather_elements_check(const ir_kernel_args *a, int *axis)
{
    const ir_tensor *x = a->inputs[0], *ind = a->inputs[1];
    int64_t axis_attr = ir_node_attr_int(a->node, "axis", 0);
    if (!ir_axis_normalize(axis_attr, x->rank, axis))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis %lld is outside [-%d, %d)",
                              (long long)axis_attr, x->rank, x->rank);
    if (ind->dtype != IR_DT_I64 && ind->dtype != IR_DT_I32)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "indices must be int32 or int64, got %s",
                              ir_dtype_name(ind->dtype));
    if (ind->rank != x->rank)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "indices have rank %d, data rank %d: they must "
                              "be equal", ind->rank, x->rank);
    for (int i = 0; i < x->rank; i++)
        if (i != *axis && ind->dims[i] > x->dims[i])
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "indices are %lld long on axis %d, data "
                                  "only %lld", (long long)ind->dims[i], i,
                                  (long long)x->dims[i]);
    return gather_check_indices(a, ind, x->dims[*axis], *axis);
}

ir_status ir_eval_GATHER_ELEMENTS(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0], *ind = a->inputs[1];
    int axis = 0;
    ir_status s = gather_elements_check(a, &axis);
    if (s != IR_OK)
        return s;
    ir_tensor *o;
    if (ir_tensor_create(x->dtype, ind->rank, ind->dims, &o, a->diag) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (GatherElements)", a->node->name);
    size_t es = ir_dtype_size(x->dtype);
    int64_t xstride[IR_MAX_RANK], idx[IR_MAX_RANK] = {0}, st = 1;
    for (int i = x->rank - 1; i >= 0; i--) {
        xstride[i] = st;
        st *= x->dims[i];
    }
    int64_t n = ir_tensor_numel(ind), dim = x->dims[axis];
    for (int64_t j = 0; j < n; j++) {
        int64_t v = ir_tensor_get_i64(ind, j), src = 0;
        if (v < 0)
            v += dim;
        for (int i = 0; i < x->rank; i++)
            src += (i == axis ? v : idx[i]) * xstride[i];
        memcpy((char *)o->data + (size_t)j * es,
               (const char *)x->data + (size_t)src * es, es);
        for (int i = ind->rank - 1; i >= 0; i--) { /* next output index */
            if (++idx[i] < ind->dims[i])
                break;
            idx[i] = 0;
        }
    }
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_GATHER_ELEMENTS(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0], *ind = a->node->inputs[1];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    out->rank = -1;
    if (!ind || ind->rank < 0)
        return IR_OK;
    if (x->rank >= 0 && x->rank != ind->rank)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "indices have rank %d, data rank %d: they must "
                              "be equal", ind->rank, x->rank);
    out->rank = ind->rank;
    memcpy(out->dims, ind->dims, sizeof(ir_dim) * (size_t)ind->rank);
    return IR_OK;
}

/* reduce.c — ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceProd for the
 * reference interpreter, and their shape inference.
 *
 * Where the axes come from depends on the opset (ONNX operator spec):
 *   ReduceSum-1/11 and the others up to opset 17: attribute `axes`;
 *   ReduceSum-13 and the others from opset 18: optional input 1 (int64),
 *     plus attribute `noop_with_empty_axes` (default 0): when axes are absent
 *     or empty, reduce over all axes — or, if it is 1, return the input.
 * keepdims (default 1) keeps reduced axes as size 1. Axes may be negative;
 * a repeated axis is an error. Reducing a zero-size axis gives the identity
 * of the reduction: Sum 0, Prod 1, Max -inf (the type's minimum for
 * integers), Min +inf (the maximum), Mean NaN (0/0, as numpy).
 *
 * Float types accumulate in double (so ReduceMean/ReduceSum over long rows
 * stay accurate); integer types in int64 with wrap-around.
 */
#include "ir/ops/kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum reduce_kind {
    REDUCE_MEAN, REDUCE_SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD
} reduce_kind;

/* Which axes to reduce, as read from the node (attribute or input 1). */
typedef struct reduce_axes {
    bool known;          /* false: input 1 present but not a constant */
    bool noop;           /* axes empty and noop_with_empty_axes = 1 */
    bool reduced[IR_MAX_RANK];
} reduce_axes;

static bool reduce_axes_from_input(ir_op op, int64_t opset)
{
    return op == IR_OP_REDUCE_SUM ? opset >= 13 : opset >= 18;
}

/* Fills ax for an input of rank r. axes_t is the axes tensor (input form)
 * or NULL when absent/unknown; axes_unknown says input 1 is present but has
 * no value yet (infer only). */
static ir_status reduce_axes_read(const ir_node *n, int64_t opset, int r,
                                  const ir_tensor *axes_t, bool axes_unknown,
                                  reduce_axes *ax, ir_diag *d)
{
    memset(ax, 0, sizeof *ax);
    ax->known = true;
    int count = 0;
    int64_t buf[IR_MAX_RANK * 2];
    const int64_t *list = NULL;
    bool noop_attr = false;
    if (reduce_axes_from_input(n->op, opset)) {
        noop_attr = ir_node_attr_int(n, "noop_with_empty_axes", 0) != 0;
        if (axes_unknown) {
            ax->known = false;
            return IR_OK;
        }
        if (axes_t) {
            int64_t m = ir_tensor_numel(axes_t);
            if (axes_t->rank > 1 || !ir_dtype_is_int(axes_t->dtype))
                return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                      "axes (input 1) must be a 1-D int64 tensor");
            if (m > (int64_t)(sizeof buf / sizeof buf[0]))
                return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                      "axes (input 1) has %lld entries for an "
                                      "input of rank %d",
                                      (long long)m, r);
            for (int64_t i = 0; i < m; i++)
                buf[i] = ir_tensor_get_i64(axes_t, i);
            list = buf;
            count = (int)m;
        }
    } else {
        count = ir_node_attr_ints(n, "axes", &list);
        if (count < 0)
            count = 0;
    }
    if (count == 0) {
        if (noop_attr)
            ax->noop = true;
        else
            for (int i = 0; i < r; i++)
                ax->reduced[i] = true;
        return IR_OK;
    }
    for (int i = 0; i < count; i++) {
        int k;
        if (!ir_axis_normalize(list[i], r, &k))
            return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                  "axis %lld is out of range for an input of "
                                  "rank %d",
                                  (long long)list[i], r);
        if (ax->reduced[k])
            return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                  "axis %lld is listed twice", (long long)list[i]);
        ax->reduced[k] = true;
    }
    return IR_OK;
}

static void reduce_int_limits(ir_dtype t, int64_t *lo, int64_t *hi)
{
    switch (t) {
    case IR_DT_I8: *lo = INT8_MIN; *hi = INT8_MAX; break;
    case IR_DT_U8: *lo = 0; *hi = UINT8_MAX; break;
    case IR_DT_I32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    default: *lo = INT64_MIN; *hi = INT64_MAX; break;
    }
}

static ir_status reduce_eval(ir_kernel_args *a, reduce_kind kind)
{
    const ir_tensor *X = a->inputs[0];
    const ir_tensor *axes_t = a->n_inputs > 1 ? a->inputs[1] : NULL;
    bool is_float = ir_dtype_is_float(X->dtype);
    if (!is_float && !ir_dtype_is_int(X->dtype))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "element type %s is not supported",
                              ir_dtype_name(X->dtype));
    int r = X->rank;
    reduce_axes ax;
    ir_status st = reduce_axes_read(a->node, a->opset, r, axes_t, false, &ax,
                                    a->diag);
    if (st != IR_OK)
        return st;
    if (ax.noop) {
        ir_tensor *Y = ir_tensor_clone(X);
        if (!Y)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
        a->outputs[0] = Y;
        return IR_OK;
    }
    bool keep = ir_node_attr_int(a->node, "keepdims", 1) != 0;
    int64_t kd[IR_MAX_RANK], od[IR_MAX_RANK], ostr[IR_MAX_RANK];
    int orank = 0;
    int64_t count = 1; /* elements folded into each output */
    for (int i = 0; i < r; i++) {
        kd[i] = ax.reduced[i] ? 1 : X->dims[i];
        if (ax.reduced[i])
            count *= X->dims[i];
        if (!ax.reduced[i] || keep)
            od[orank++] = kd[i];
    }
    ir_strides(r, kd, ostr);
    for (int i = 0; i < r; i++)
        if (ax.reduced[i])
            ostr[i] = 0; /* every index along a reduced axis hits one output */
    ir_tensor *Y;
    st = ir_tensor_create(X->dtype, orank, od, &Y, a->diag);
    if (st != IR_OK)
        return ir_kernel_fail(a->diag, a->node, st, "output: %s", a->diag->msg);
    int64_t nout = ir_tensor_numel(Y), nin = ir_tensor_numel(X);
    double *facc = NULL;
    int64_t *iacc = NULL;
    if (is_float)
        facc = malloc((size_t)(nout ? nout : 1) * sizeof *facc);
    else
        iacc = malloc((size_t)(nout ? nout : 1) * sizeof *iacc);
    if (!facc && !iacc) {
        ir_tensor_free(Y);
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    }
    int64_t lo, hi;
    reduce_int_limits(X->dtype, &lo, &hi);
    for (int64_t o = 0; o < nout; o++) {
        switch (kind) {
        case REDUCE_MEAN:
        case REDUCE_SUM:
            if (facc) facc[o] = 0.0; else iacc[o] = 0;
            break;
        case REDUCE_PROD:
            if (facc) facc[o] = 1.0; else iacc[o] = 1;
            break;
        case REDUCE_MAX:
            if (facc) facc[o] = -INFINITY; else iacc[o] = lo;
            break;
        case REDUCE_MIN:
            if (facc) facc[o] = INFINITY; else iacc[o] = hi;
            break;
        }
    }
    /* Walk X in row-major order, keeping off = the output element. */
    int64_t idx[IR_MAX_RANK] = {0}, off = 0;
    const float *xf = X->dtype == IR_DT_F32 ? X->data : NULL;
    for (int64_t e = 0; e < nin; e++) {
        if (facc) {
            double v = xf ? (double)xf[e] : ir_tensor_get_f64(X, e);
            double *acc = &facc[off];
            switch (kind) {
            case REDUCE_MEAN:
            case REDUCE_SUM: *acc += v; break;
            case REDUCE_PROD: *acc *= v; break;
            /* NaN propagates, as numpy's max/min do */
            case REDUCE_MAX: if (v > *acc || v != v) *acc = v; break;
            case REDUCE_MIN: if (v < *acc || v != v) *acc = v; break;
            }
        } else {
            int64_t v = ir_tensor_get_i64(X, e);
            int64_t *acc = &iacc[off];
            switch (kind) {
            case REDUCE_MEAN:
            case REDUCE_SUM: *acc = (int64_t)((uint64_t)*acc + (uint64_t)v); break;
            case REDUCE_PROD: *acc = (int64_t)((uint64_t)*acc * (uint64_t)v); break;
            case REDUCE_MAX: if (v > *acc) *acc = v; break;
            case REDUCE_MIN: if (v < *acc) *acc = v; break;
            }
        }
        for (int i = r - 1; i >= 0; i--) {
            idx[i]++;
            off += ostr[i];
            if (idx[i] < X->dims[i])
                break;
            off -= idx[i] * ostr[i];
            idx[i] = 0;
        }
    }
    for (int64_t o = 0; o < nout; o++) {
        if (facc) {
            double v = facc[o];
            if (kind == REDUCE_MEAN)
                v = count ? v / (double)count : NAN;
            ir_tensor_set_f64(Y, o, v);
        } else {
            int64_t v = iacc[o];
            if (kind == REDUCE_MEAN)
                v = count ? v / count : 0;
            if (Y->dtype == IR_DT_I64)
                ((int64_t *)Y->data)[o] = v;
            else
                ir_tensor_set_f64(Y, o, (double)v);
        }
    }
    free(facc);
    free(iacc);
    a->outputs[0] = Y;
    return IR_OK;
}

static ir_status reduce_infer(ir_infer_args *a)
{
    ir_node *n = a->node;
    const ir_value *X = n->inputs[0];
    ir_value *Y = n->outputs[0];
    if (!Y)
        return IR_OK;
    Y->dtype = X->dtype;
    Y->rank = -1;
    if (X->rank < 0)
        return IR_OK;
    const ir_value *av = n->n_inputs > 1 ? n->inputs[1] : NULL;
    bool from_input = reduce_axes_from_input(n->op, a->opset);
    const ir_tensor *axes_t = from_input && av ? av->constant : NULL;
    bool unknown = from_input && av && !av->constant;
    reduce_axes ax;
    ir_status st = reduce_axes_read(n, a->opset, X->rank, axes_t, unknown, &ax,
                                    a->diag);
    if (st != IR_OK)
        return st;
    bool keep = ir_node_attr_int(n, "keepdims", 1) != 0;
    if (ax.noop) {
        ir_value_copy_type(Y, X);
        return IR_OK;
    }
    if (!ax.known) {
        /* Which axes go is unknown: with keepdims the rank survives and
         * size-1 axes stay 1; without it even the rank is unknown. */
        if (keep) {
            Y->rank = X->rank;
            for (int i = 0; i < X->rank; i++)
                Y->dims[i] = X->dims[i].size == 1 ? ir_dim_const(1)
                                                  : ir_dim_unknown();
        }
        return IR_OK;
    }
    int orank = 0;
    for (int i = 0; i < X->rank; i++) {
        if (!ax.reduced[i])
            Y->dims[orank++] = X->dims[i];
        else if (keep)
            Y->dims[orank++] = ir_dim_const(1);
    }
    Y->rank = orank;
    return IR_OK;
}

ir_status ir_eval_REDUCE_MEAN(ir_kernel_args *a) { return reduce_eval(a, REDUCE_MEAN); }
ir_status ir_eval_REDUCE_SUM(ir_kernel_args *a) { return reduce_eval(a, REDUCE_SUM); }
ir_status ir_eval_REDUCE_MAX(ir_kernel_args *a) { return reduce_eval(a, REDUCE_MAX); }
ir_status ir_eval_REDUCE_MIN(ir_kernel_args *a) { return reduce_eval(a, REDUCE_MIN); }
ir_status ir_eval_REDUCE_PROD(ir_kernel_args *a) { return reduce_eval(a, REDUCE_PROD); }
ir_status ir_infer_REDUCE_MEAN(ir_infer_args *a) { return reduce_infer(a); }
ir_status ir_infer_REDUCE_SUM(ir_infer_args *a) { return reduce_infer(a); }
ir_status ir_infer_REDUCE_MAX(ir_infer_args *a) { return reduce_infer(a); }
ir_status ir_infer_REDUCE_MIN(ir_infer_args *a) { return reduce_infer(a); }
ir_status ir_infer_REDUCE_PROD(ir_infer_args *a) { return reduce_infer(a); }

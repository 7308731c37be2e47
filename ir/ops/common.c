/* common.c — helpers shared by op kernels and shape functions. */
#include "ir/ops/kernel.h"

#include <string.h>

ir_status ir_kernel_fail(ir_diag *d, const ir_node *n, ir_status s,
                         const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ir_diag_set(d, s, "node '%s' (%s): %s", n->name, ir_op_name(n->op),
                       buf);
}

bool ir_axis_normalize(int64_t axis, int rank, int *out)
{
    if (axis < -rank || axis >= rank)
        return false;
    *out = (int)(axis < 0 ? axis + rank : axis);
    return true;
}

void ir_strides(int rank, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

ir_status ir_broadcast_dims(int n, const int *ranks, const int64_t *const *dims,
                            int *out_rank, int64_t *out_dims)
{
    int r = 0;
    for (int i = 0; i < n; i++)
        if (ranks[i] > r)
            r = ranks[i];
    if (r > IR_MAX_RANK)
        return IR_ERR_UNSUPPORTED;
    for (int k = 0; k < r; k++) {
        int64_t d = 1;
        for (int i = 0; i < n; i++) {
            int off = k - (r - ranks[i]);
            if (off < 0)
                continue;
            int64_t e = dims[i][off];
            if (e == 1)
                continue;
            if (d == 1)
                d = e;
            else if (d != e)
                return IR_ERR_INPUT;
        }
        out_dims[k] = d;
    }
    *out_rank = r;
    return IR_OK;
}

ir_status ir_broadcast_value_dims(ir_graph *g, int n, const ir_value *const *vs,
                                  int *out_rank, ir_dim *out_dims)
{
    (void)g;
    int r = 0;
    for (int i = 0; i < n; i++) {
        if (!vs[i] || vs[i]->rank < 0) {
            *out_rank = -1;
            return IR_OK;
        }
        if (vs[i]->rank > r)
            r = vs[i]->rank;
    }
    for (int k = 0; k < r; k++) {
        ir_dim d = ir_dim_const(1);
        for (int i = 0; i < n; i++) {
            int off = k - (r - vs[i]->rank);
            if (off < 0)
                continue;
            ir_dim e = vs[i]->dims[off];
            if (e.size == 1)
                continue;
            if (d.size == 1) {
                d = e;
            } else if (ir_dim_known(d) && ir_dim_known(e)) {
                if (d.size != e.size)
                    return IR_ERR_INPUT;
            } else if (!ir_dim_known(d) && ir_dim_known(e)) {
                d = e; /* a symbol broadcast against a size must equal it */
            } else if (!ir_dim_known(d) && !ir_dim_known(e) &&
                       !ir_dim_equal(d, e)) {
                d = ir_dim_unknown();
            }
        }
        out_dims[k] = d;
    }
    *out_rank = r;
    return IR_OK;
}

void ir_value_set_shape(ir_value *v, ir_dtype t, int rank, const int64_t *dims)
{
    v->dtype = t;
    v->rank = rank;
    for (int i = 0; i < rank; i++)
        v->dims[i] = ir_dim_const(dims[i]);
}

void ir_value_copy_type(ir_value *dst, const ir_value *src)
{
    dst->dtype = src->dtype;
    dst->rank = src->rank;
    if (src->rank > 0)
        memcpy(dst->dims, src->dims, sizeof(ir_dim) * (size_t)src->rank);
}

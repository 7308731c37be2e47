/* reshape.c — ops that change a tensor's shape but not its bytes: Reshape,
 * Flatten, Squeeze, Unsqueeze. Eval copies the payload under new dims; the
 * infer hooks keep symbolic dims ("batch", "seq") and name products of them
 * ("batch*seq") so that a later Reshape can split them back. */
#include "ir/ops/shape_ops.h"

#include <string.h>

/* Output = input payload with new dims (row-major order is unchanged). */
static ir_status emit_reshaped(ir_kernel_args *a, int rank, const int64_t *dims)
{
    const ir_tensor *x = a->inputs[0];
    ir_tensor *o;
    if (ir_tensor_create(x->dtype, rank, dims, &o, a->diag) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (%s)", a->node->name,
                              ir_op_name(a->node->op));
    if (o->nbytes != x->nbytes) {
        ir_tensor_free(o);
        return ir_kernel_fail(a->diag, a->node, IR_ERR_FAILED,
                              "internal error: size changed in reshape");
    }
    shp_copy_elems(o->data, x->data, o->nbytes, 1);
    a->outputs[0] = o;
    return IR_OK;
}

/* ---- Reshape (ONNX Reshape-5/13/14) --------------------------------------
 * 0 copies the input dim at the same index (unless allowzero=1, opset 14,
 * where 0 is a real zero); at most one -1, inferred from the element count. */

ir_status ir_eval_RESHAPE(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    int64_t want[SHP_MAX_LIST], dims[IR_MAX_RANK];
    int n;
    ir_status s = shp_tensor_ints(a, a->inputs[1], "shape", want, &n);
    if (s != IR_OK)
        return s;
    if (n > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "target rank %d exceeds %d", n, IR_MAX_RANK);
    bool allowzero = a->opset >= 14 && ir_node_attr_int(a->node, "allowzero", 0);
    char b1[256], b2[256];
    int infer_at = -1;
    bool has_zero = false;
    int64_t known = 1;
    for (int i = 0; i < n; i++) {
        int64_t v = want[i];
        if (v == -1) {
            if (infer_at >= 0)
                return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                      "shape %s has more than one -1",
                                      shp_dims_str(n, want, b1, sizeof b1));
            infer_at = i;
            dims[i] = 1;
            continue;
        }
        if (v < -1)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "shape %s has an invalid entry %lld",
                                  shp_dims_str(n, want, b1, sizeof b1),
                                  (long long)v);
        if (v == 0 && !allowzero) {
            if (i >= x->rank)
                return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                      "shape %s copies dim %d (0) but the "
                                      "input %s has rank %d",
                                      shp_dims_str(n, want, b1, sizeof b1), i,
                                      shp_dims_str(x->rank, x->dims, b2, sizeof b2),
                                      x->rank);
            v = x->dims[i];
        }
        if (v == 0)
            has_zero = true;
        dims[i] = v;
        if (v && known > INT64_MAX / v)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "shape %s overflows",
                                  shp_dims_str(n, want, b1, sizeof b1));
        known *= v;
    }
    if (allowzero && has_zero && infer_at >= 0)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "shape %s has both 0 and -1 with allowzero=1",
                              shp_dims_str(n, want, b1, sizeof b1));
    int64_t total = ir_tensor_numel(x);
    if (infer_at >= 0) {
        if (known == 0 || total % known != 0)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "cannot reshape input %s (%lld elements) to "
                                  "%s: -1 cannot be inferred",
                                  shp_dims_str(x->rank, x->dims, b1, sizeof b1),
                                  (long long)total,
                                  shp_dims_str(n, want, b2, sizeof b2));
        dims[infer_at] = total / known;
        known = total;
    }
    if (known != total)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "cannot reshape input %s (%lld elements) to %s "
                              "(%lld elements)",
                              shp_dims_str(x->rank, x->dims, b1, sizeof b1),
                              (long long)total,
                              shp_dims_str(n, dims, b2, sizeof b2),
                              (long long)known);
    return emit_reshaped(a, n, dims);
}

ir_status ir_infer_RESHAPE(ir_infer_args *a)
{
    ir_graph *g = a->graph;
    const ir_value *x = a->node->inputs[0];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    /* the target: constant entries, or symbols from a Shape/Gather/Concat
     * chain (torch's [batch, seq, 12, 64]) */
    ir_dim want[IR_MAX_RANK];
    bool lit[IR_MAX_RANK];
    int n = shp_value_dims(a->node->inputs[1], a->opset, want, lit, IR_MAX_RANK);
    if (n < 0) {
        /* shape computed at run time: only its length is known */
        int64_t len = shp_value_len(a->node->inputs[1]);
        out->rank = len >= 0 && len <= IR_MAX_RANK ? (int)len : -1;
        for (int i = 0; i < out->rank; i++)
            out->dims[i] = ir_dim_unknown();
        return IR_OK;
    }
    bool allowzero = a->opset >= 14 && ir_node_attr_int(a->node, "allowzero", 0);
    int infer_at = -1;
    ir_dim dims[IR_MAX_RANK];
    shp_prod rest; /* product of every output dim but the -1 */
    shp_prod_init(&rest);
    for (int i = 0; i < n; i++) {
        int64_t w = want[i].size;
        if (!lit[i]) {
            dims[i] = want[i]; /* a size read from another tensor's shape */
        } else if (w == -1 && infer_at < 0) {
            infer_at = i;
            continue;
        } else if (w < 0) {
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "shape entry %d is %lld (only one -1 is "
                                  "allowed)", i, (long long)w);
        } else if (w == 0 && !allowzero) {
            dims[i] = x->rank > i ? x->dims[i] : ir_dim_unknown();
        } else {
            dims[i] = ir_dim_const(w);
        }
        shp_prod_mul(&rest, dims[i]);
    }
    shp_prod total;
    shp_prod_init(&total);
    if (x->rank < 0)
        total.unknown = true;
    for (int i = 0; i < x->rank; i++)
        shp_prod_mul(&total, x->dims[i]);
    if (infer_at >= 0) {
        shp_prod q;
        dims[infer_at] = shp_prod_div(&total, &rest, &q) ? shp_prod_dim(g, &q)
                                                         : ir_dim_unknown();
    } else if (!total.unknown && !rest.unknown && total.n_syms == 0 &&
               rest.n_syms == 0 && total.known != rest.known) {
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "cannot reshape %lld elements into %lld",
                              (long long)total.known, (long long)rest.known);
    }
    out->rank = n;
    memcpy(out->dims, dims, sizeof(ir_dim) * (size_t)n);
    return IR_OK;
}

/* ---- Flatten (ONNX Flatten-1/9/11/13) -------------------------------------
 * [d0..d(axis-1)] x [d(axis)..]: always 2-D; axis in [-r, r]. */

ir_status ir_eval_FLATTEN(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    int64_t axis = ir_node_attr_int(a->node, "axis", 1);
    if (axis < -x->rank || axis > x->rank)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis %lld is outside [-%d, %d]",
                              (long long)axis, x->rank, x->rank);
    if (axis < 0)
        axis += x->rank;
    int64_t dims[2] = {ir_numel_checked((int)axis, x->dims),
                       ir_numel_checked(x->rank - (int)axis, x->dims + axis)};
    return emit_reshaped(a, 2, dims);
}

ir_status ir_infer_FLATTEN(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    out->rank = 2;
    out->dims[0] = out->dims[1] = ir_dim_unknown();
    if (x->rank < 0)
        return IR_OK;
    int64_t axis = ir_node_attr_int(a->node, "axis", 1);
    if (axis < -x->rank || axis > x->rank)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis %lld is outside [-%d, %d]",
                              (long long)axis, x->rank, x->rank);
    if (axis < 0)
        axis += x->rank;
    out->dims[0] = shp_dims_product(a->graph, x->dims, 0, (int)axis);
    out->dims[1] = shp_dims_product(a->graph, x->dims, (int)axis, x->rank);
    return IR_OK;
}

/* ---- Squeeze / Unsqueeze (ONNX Squeeze-1/11/13, Unsqueeze-1/11/13) -------
 * Before opset 13 the axes are an attribute; from 13 an input (optional for
 * Squeeze, required for Unsqueeze). Negative axes count from the back (of
 * the input for Squeeze, of the output for Unsqueeze). */

/* Axes at eval time; *present false when Squeeze got none. */
static ir_status axes_eval(ir_kernel_args *a, int64_t *axes, int *n, bool *present)
{
    *present = false;
    *n = 0;
    if (a->opset >= 13) {
        if (a->n_inputs < 2 || !a->inputs[1])
            return IR_OK;
        *present = true;
        return shp_tensor_ints(a, a->inputs[1], "axes", axes, n);
    }
    const int64_t *v;
    int k = ir_node_attr_ints(a->node, "axes", &v);
    if (k < 0)
        return IR_OK;
    if (k > SHP_MAX_LIST)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "too many axes");
    memcpy(axes, v, sizeof(int64_t) * (size_t)k);
    *n = k;
    *present = true;
    return IR_OK;
}

/* Axes at infer time: 1 known, 0 absent, -1 computed at run time. */
static int axes_infer(ir_infer_args *a, int64_t *axes, int *n)
{
    *n = 0;
    if (a->opset >= 13) {
        if (a->node->n_inputs < 2 || !a->node->inputs[1])
            return 0;
        return shp_value_ints(a->node->inputs[1], axes, n) ? 1 : -1;
    }
    const int64_t *v;
    int k = ir_node_attr_ints(a->node, "axes", &v);
    if (k < 0)
        return 0;
    if (k > SHP_MAX_LIST)
        return -1;
    memcpy(axes, v, sizeof(int64_t) * (size_t)k);
    *n = k;
    return 1;
}

/* Normalises axes against rank into a mask; false (with message) on a bad
 * or repeated axis. */
static ir_status axes_mask(ir_diag *d, const ir_node *node, const int64_t *axes,
                           int n, int rank, bool *mask)
{
    memset(mask, 0, sizeof(bool) * IR_MAX_RANK);
    for (int i = 0; i < n; i++) {
        int ax;
        if (!ir_axis_normalize(axes[i], rank, &ax))
            return ir_kernel_fail(d, node, IR_ERR_INPUT,
                                  "axis %lld is outside [-%d, %d)",
                                  (long long)axes[i], rank, rank);
        if (mask[ax])
            return ir_kernel_fail(d, node, IR_ERR_INPUT,
                                  "axis %lld is repeated", (long long)axes[i]);
        mask[ax] = true;
    }
    return IR_OK;
}

ir_status ir_eval_SQUEEZE(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    int64_t axes[SHP_MAX_LIST], dims[IR_MAX_RANK];
    int n;
    bool present, mask[IR_MAX_RANK];
    ir_status s = axes_eval(a, axes, &n, &present);
    if (s != IR_OK)
        return s;
    if (present) {
        if ((s = axes_mask(a->diag, a->node, axes, n, x->rank, mask)) != IR_OK)
            return s;
    } else {
        for (int i = 0; i < x->rank; i++)
            mask[i] = x->dims[i] == 1; /* no axes: drop every 1 */
    }
    int r = 0;
    for (int i = 0; i < x->rank; i++) {
        if (!mask[i]) {
            dims[r++] = x->dims[i];
        } else if (x->dims[i] != 1) {
            char b[256];
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "cannot squeeze axis %d of size %lld "
                                  "(input %s)", i, (long long)x->dims[i],
                                  shp_dims_str(x->rank, x->dims, b, sizeof b));
        }
    }
    return emit_reshaped(a, r, dims);
}

ir_status ir_infer_SQUEEZE(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    out->rank = -1;
    if (x->rank < 0)
        return IR_OK;
    int64_t axes[SHP_MAX_LIST];
    int n;
    bool mask[IR_MAX_RANK];
    int k = axes_infer(a, axes, &n);
    if (k < 0)
        return IR_OK;
    if (k == 0) {
        for (int i = 0; i < x->rank; i++) {
            if (!ir_dim_known(x->dims[i]))
                return IR_OK; /* a symbol might be 1: rank unknown */
            mask[i] = x->dims[i].size == 1;
        }
    } else {
        ir_status s = axes_mask(a->diag, a->node, axes, n, x->rank, mask);
        if (s != IR_OK)
            return s;
    }
    int r = 0;
    for (int i = 0; i < x->rank; i++) {
        if (!mask[i])
            out->dims[r++] = x->dims[i];
        else if (ir_dim_known(x->dims[i]) && x->dims[i].size != 1)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "cannot squeeze axis %d of size %lld", i,
                                  (long long)x->dims[i].size);
    }
    out->rank = r;
    return IR_OK;
}

ir_status ir_eval_UNSQUEEZE(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    int64_t axes[SHP_MAX_LIST], dims[IR_MAX_RANK];
    int n;
    bool present, mask[IR_MAX_RANK];
    ir_status s = axes_eval(a, axes, &n, &present);
    if (s != IR_OK)
        return s;
    if (!present)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axes are required (%s)",
                              a->opset >= 13 ? "input 1" : "attribute 'axes'");
    int r = x->rank + n;
    if (r > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "output rank %d exceeds %d", r, IR_MAX_RANK);
    if ((s = axes_mask(a->diag, a->node, axes, n, r, mask)) != IR_OK)
        return s;
    for (int i = 0, j = 0; i < r; i++)
        dims[i] = mask[i] ? 1 : x->dims[j++];
    return emit_reshaped(a, r, dims);
}

ir_status ir_infer_UNSQUEEZE(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    out->rank = -1;
    int64_t axes[SHP_MAX_LIST];
    int n;
    bool mask[IR_MAX_RANK];
    int k = axes_infer(a, axes, &n);
    if (k == 0)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axes are required (%s)",
                              a->opset >= 13 ? "input 1" : "attribute 'axes'");
    if (k < 0 || x->rank < 0)
        return IR_OK;
    int r = x->rank + n;
    if (r > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "output rank %d exceeds %d", r, IR_MAX_RANK);
    ir_status s = axes_mask(a->diag, a->node, axes, n, r, mask);
    if (s != IR_OK)
        return s;
    ir_dim dims[IR_MAX_RANK];
    for (int i = 0, j = 0; i < r; i++)
        dims[i] = mask[i] ? ir_dim_const(1) : x->dims[j++];
    out->rank = r;
    memcpy(out->dims, dims, sizeof(ir_dim) * (size_t)r);
    return IR_OK;
}

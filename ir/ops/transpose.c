/* transpose.c — ops that reorder or cut whole blocks of a tensor: Transpose,
 * Concat, Split. All dtypes move by element size; infer hooks keep symbolic
 * dims in place. */
#include "ir/ops/shape_ops.h"

#include <string.h>

/* ---- Transpose (ONNX Transpose-1/13) --------------------------------------
 * out.dims[i] = in.dims[perm[i]]; perm defaults to the reversed axes. */

static ir_status transpose_perm(ir_diag *d, const ir_node *n, int rank, int *perm)
{
    const int64_t *p;
    int k = ir_node_attr_ints(n, "perm", &p);
    if (k < 0) {
        for (int i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
        return IR_OK;
    }
    if (k != rank)
        return ir_kernel_fail(d, n, IR_ERR_INPUT,
                              "perm has %d entries for an input of rank %d", k,
                              rank);
    bool seen[IR_MAX_RANK] = {false};
    for (int i = 0; i < k; i++) {
        if (p[i] < 0 || p[i] >= rank || seen[p[i]])
            return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                  "perm is not a permutation of 0..%d "
                                  "(entry %d is %lld)", rank - 1, i,
                                  (long long)p[i]);
        seen[p[i]] = true;
        perm[i] = (int)p[i];
    }
    return IR_OK;
}

ir_status shp_permute(const ir_tensor *x, const int *perm, ir_tensor **out,
                      ir_diag *d)
{
    int r = x->rank;
    int64_t odims[IR_MAX_RANK], istr[IR_MAX_RANK], step[IR_MAX_RANK];
    ir_strides(r, x->dims, istr);
    for (int i = 0; i < r; i++) {
        odims[i] = x->dims[perm[i]];
        step[i] = istr[perm[i]]; /* input stride walked by output axis i */
    }
    ir_tensor *o;
    ir_status s = ir_tensor_create(x->dtype, r, odims, &o, d);
    if (s != IR_OK)
        return s;
    size_t es = ir_dtype_size(x->dtype);
    int64_t n = ir_tensor_numel(o), idx[IR_MAX_RANK] = {0}, off = 0;
    const char *src = x->data;
    char *dst = o->data;
    for (int64_t k = 0; k < n; k++) {
        memcpy(dst + (size_t)k * es, src + (size_t)off * es, es);
        /* odometer over the output index, tracking the input offset */
        for (int i = r - 1; i >= 0; i--) {
            off += step[i];
            if (++idx[i] < odims[i])
                break;
            off -= step[i] * odims[i];
            idx[i] = 0;
        }
    }
    *out = o;
    return IR_OK;
}

ir_status ir_eval_TRANSPOSE(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    int perm[IR_MAX_RANK];
    ir_status s = transpose_perm(a->diag, a->node, x->rank, perm);
    if (s != IR_OK)
        return s;
    if (shp_permute(x, perm, &a->outputs[0], a->diag) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (Transpose)", a->node->name);
    return IR_OK;
}

ir_status ir_infer_TRANSPOSE(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    out->rank = -1;
    if (x->rank < 0)
        return IR_OK;
    int perm[IR_MAX_RANK];
    ir_status s = transpose_perm(a->diag, a->node, x->rank, perm);
    if (s != IR_OK)
        return s;
    ir_dim dims[IR_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        dims[i] = x->dims[perm[i]];
    out->rank = x->rank;
    memcpy(out->dims, dims, sizeof(ir_dim) * (size_t)x->rank);
    return IR_OK;
}

/* ---- Concat (ONNX Concat-4/11/13) -----------------------------------------
 * All inputs share rank and every dim but axis (negative from opset 11). */

ir_status ir_eval_CONCAT(ir_kernel_args *a)
{
    const ir_tensor *x0 = a->inputs[0];
    int64_t axis_attr = ir_node_attr_int(a->node, "axis", INT64_MIN);
    if (axis_attr == INT64_MIN)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "attribute 'axis' is required");
    int axis;
    if (!x0 || !ir_axis_normalize(axis_attr, x0->rank, &axis))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis %lld is outside [-%d, %d)",
                              (long long)axis_attr, x0 ? x0->rank : 0,
                              x0 ? x0->rank : 0);
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, x0->dims, sizeof dims);
    dims[axis] = 0;
    char b1[256], b2[256];
    for (int k = 0; k < a->n_inputs; k++) {
        const ir_tensor *x = a->inputs[k];
        if (!x)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "input %d is absent", k);
        bool ok = x->rank == x0->rank && x->dtype == x0->dtype;
        for (int i = 0; ok && i < x->rank; i++)
            ok = i == axis || x->dims[i] == x0->dims[i];
        if (!ok)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "input %d %s%s does not match input 0 %s%s "
                                  "outside axis %d", k,
                                  ir_dtype_name(x->dtype),
                                  shp_dims_str(x->rank, x->dims, b1, sizeof b1),
                                  ir_dtype_name(x0->dtype),
                                  shp_dims_str(x0->rank, x0->dims, b2, sizeof b2),
                                  axis);
        dims[axis] += x->dims[axis];
    }
    ir_tensor *o;
    if (ir_tensor_create(x0->dtype, x0->rank, dims, &o, a->diag) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (Concat)", a->node->name);
    size_t es = ir_dtype_size(x0->dtype);
    int64_t outer = ir_numel_checked(axis, dims);
    int64_t inner = ir_numel_checked(x0->rank - axis - 1, dims + axis + 1);
    char *dst = o->data;
    for (int64_t j = 0; j < outer; j++)
        for (int k = 0; k < a->n_inputs; k++) {
            const ir_tensor *x = a->inputs[k];
            size_t chunk = (size_t)(x->dims[axis] * inner) * es;
            shp_copy_elems(dst, (const char *)x->data + (size_t)j * chunk,
                           chunk, 1);
            dst += chunk;
        }
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_CONCAT(ir_infer_args *a)
{
    ir_node *n = a->node;
    ir_value *out = n->outputs[0];
    out->rank = -1;
    out->dtype = n->inputs[0] ? n->inputs[0]->dtype : IR_DT_UNDEF;
    int rank = -1;
    for (int k = 0; k < n->n_inputs; k++)
        if (n->inputs[k] && n->inputs[k]->rank >= 0)
            rank = n->inputs[k]->rank;
    if (rank < 0)
        return IR_OK;
    int64_t axis_attr = ir_node_attr_int(n, "axis", INT64_MIN);
    int axis;
    if (!ir_axis_normalize(axis_attr, rank, &axis))
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "axis %lld is outside [-%d, %d)",
                              (long long)axis_attr, rank, rank);
    ir_dim dims[IR_MAX_RANK];
    for (int i = 0; i < rank; i++)
        dims[i] = ir_dim_unknown();
    shp_prod sum_known; /* the axis: a sum, known only when every part is */
    int64_t total = 0;
    bool all_known = true;
    shp_prod_init(&sum_known);
    for (int k = 0; k < n->n_inputs; k++) {
        const ir_value *x = n->inputs[k];
        if (!x || x->rank < 0) {
            all_known = false;
            continue;
        }
        if (x->rank != rank)
            return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                                  "input %d has rank %d, input 0 rank %d", k,
                                  x->rank, rank);
        if (out->dtype == IR_DT_UNDEF)
            out->dtype = x->dtype;
        for (int i = 0; i < rank; i++) {
            if (i == axis)
                continue;
            ir_dim d = x->dims[i], e = dims[i];
            if (ir_dim_known(d) && ir_dim_known(e) && d.size != e.size)
                return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                                      "input %d has size %lld at axis %d, "
                                      "another input %lld", k,
                                      (long long)d.size, i, (long long)e.size);
            /* prefer a known size, then a named symbol */
            if (ir_dim_known(d) || (!ir_dim_known(e) && !e.sym))
                dims[i] = d;
        }
        if (ir_dim_known(x->dims[axis]))
            total += x->dims[axis].size;
        else
            all_known = false;
    }
    if (all_known)
        dims[axis] = ir_dim_const(total);
    else if (n->n_inputs == 1 && n->inputs[0])
        dims[axis] = n->inputs[0]->dims[axis];
    out->rank = rank;
    memcpy(out->dims, dims, sizeof(ir_dim) * (size_t)rank);
    return IR_OK;
}

/* ---- Split (ONNX Split-2/11/13/18) ----------------------------------------
 * Sizes: 'split' attribute before 13, input 1 from 13; otherwise equal
 * parts, or with num_outputs (18) ceil(dim / n) each and a smaller last. */

/* Fills sizes[n_out] from the dim; -1 where not knowable (dim < 0). */
static ir_status split_sizes(ir_diag *d, const ir_node *node, int64_t opset,
                             const int64_t *given, int n_given, int n_out,
                             int64_t dim, int64_t *sizes)
{
    if (given) {
        if (n_given != n_out)
            return ir_kernel_fail(d, node, IR_ERR_INPUT,
                                  "split has %d entries for %d outputs",
                                  n_given, n_out);
        int64_t sum = 0;
        for (int i = 0; i < n_given; i++) {
            if (given[i] < 0)
                return ir_kernel_fail(d, node, IR_ERR_INPUT,
                                      "split entry %d is negative (%lld)", i,
                                      (long long)given[i]);
            sizes[i] = given[i];
            sum += given[i];
        }
        if (dim >= 0 && sum != dim)
            return ir_kernel_fail(d, node, IR_ERR_INPUT,
                                  "split sizes sum to %lld but the axis has "
                                  "size %lld", (long long)sum, (long long)dim);
        return IR_OK;
    }
    int64_t num = opset >= 18 ? ir_node_attr_int(node, "num_outputs", 0) : 0;
    if (num && num != n_out)
        return ir_kernel_fail(d, node, IR_ERR_INPUT,
                              "num_outputs is %lld but the node has %d outputs",
                              (long long)num, n_out);
    for (int i = 0; i < n_out; i++)
        sizes[i] = -1;
    if (dim < 0)
        return IR_OK;
    if (num) {
        int64_t chunk = (dim + num - 1) / num;
        for (int i = 0; i < n_out; i++) {
            int64_t left = dim - chunk * i;
            sizes[i] = left < 0 ? 0 : left < chunk ? left : chunk;
        }
        return IR_OK;
    }
    if (dim % n_out != 0)
        return ir_kernel_fail(d, node, IR_ERR_INPUT,
                              "axis of size %lld cannot be split into %d "
                              "equal parts", (long long)dim, n_out);
    for (int i = 0; i < n_out; i++)
        sizes[i] = dim / n_out;
    return IR_OK;
}

ir_status ir_eval_SPLIT(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    int axis;
    int64_t axis_attr = ir_node_attr_int(a->node, "axis", 0);
    if (!ir_axis_normalize(axis_attr, x->rank, &axis))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis %lld is outside [-%d, %d)",
                              (long long)axis_attr, x->rank, x->rank);
    int64_t given[SHP_MAX_LIST];
    int n_given = 0;
    bool have = false;
    if (a->opset >= 13) {
        if (a->n_inputs > 1 && a->inputs[1]) {
            ir_status s = shp_tensor_ints(a, a->inputs[1], "split", given, &n_given);
            if (s != IR_OK)
                return s;
            have = true;
        }
    } else {
        const int64_t *v;
        int k = ir_node_attr_ints(a->node, "split", &v);
        if (k > SHP_MAX_LIST)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "too many split entries");
        if (k >= 0) {
            memcpy(given, v, sizeof(int64_t) * (size_t)k);
            n_given = k;
            have = true;
        }
    }
    int64_t sizes[SHP_MAX_LIST];
    if (a->n_outputs > SHP_MAX_LIST)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "more than %d outputs", SHP_MAX_LIST);
    ir_status s = split_sizes(a->diag, a->node, a->opset, have ? given : NULL,
                              n_given, a->n_outputs, x->dims[axis], sizes);
    if (s != IR_OK)
        return s;
    size_t es = ir_dtype_size(x->dtype);
    int64_t outer = ir_numel_checked(axis, x->dims);
    int64_t inner = ir_numel_checked(x->rank - axis - 1, x->dims + axis + 1);
    size_t row = (size_t)(x->dims[axis] * inner) * es; /* one outer step */
    int64_t start = 0;
    for (int k = 0; k < a->n_outputs; k++) {
        int64_t dims[IR_MAX_RANK];
        memcpy(dims, x->dims, sizeof dims);
        dims[axis] = sizes[k];
        ir_tensor *o;
        if (ir_tensor_create(x->dtype, x->rank, dims, &o, a->diag) != IR_OK) {
            for (int j = 0; j < k; j++) {
                ir_tensor_free(a->outputs[j]);
                a->outputs[j] = NULL;
            }
            return ir_diag_prefix(a->diag, "node '%s' (Split)", a->node->name);
        }
        a->outputs[k] = o;
        size_t chunk = (size_t)(sizes[k] * inner) * es;
        for (int64_t j = 0; j < outer; j++)
            shp_copy_elems((char *)o->data + (size_t)j * chunk,
                           (const char *)x->data + (size_t)j * row +
                               (size_t)(start * inner) * es,
                           chunk, 1);
        start += sizes[k];
    }
    return IR_OK;
}

ir_status ir_infer_SPLIT(ir_infer_args *a)
{
    ir_node *n = a->node;
    const ir_value *x = n->inputs[0];
    for (int k = 0; k < n->n_outputs; k++)
        if (n->outputs[k]) {
            n->outputs[k]->dtype = x->dtype;
            n->outputs[k]->rank = -1;
        }
    if (x->rank < 0)
        return IR_OK;
    int axis;
    int64_t axis_attr = ir_node_attr_int(n, "axis", 0);
    if (!ir_axis_normalize(axis_attr, x->rank, &axis))
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "axis %lld is outside [-%d, %d)",
                              (long long)axis_attr, x->rank, x->rank);
    if (n->n_outputs > SHP_MAX_LIST)
        return IR_OK;
    int64_t given[SHP_MAX_LIST], sizes[SHP_MAX_LIST];
    int n_given = 0;
    bool have = false;
    if (a->opset >= 13) {
        if (n->n_inputs > 1 && n->inputs[1]) {
            if (!shp_value_ints(n->inputs[1], given, &n_given))
                n_given = -1; /* run-time sizes */
            have = true;
        }
    } else {
        const int64_t *v;
        int k = ir_node_attr_ints(n, "split", &v);
        if (k > SHP_MAX_LIST)
            return IR_OK;
        if (k >= 0) {
            memcpy(given, v, sizeof(int64_t) * (size_t)k);
            n_given = k;
            have = true;
        }
    }
    int64_t dim = ir_dim_known(x->dims[axis]) ? x->dims[axis].size : -1;
    if (have && n_given < 0) {
        for (int k = 0; k < n->n_outputs; k++)
            sizes[k] = -1;
    } else {
        ir_status s = split_sizes(a->diag, n, a->opset, have ? given : NULL,
                                  n_given, n->n_outputs, dim, sizes);
        if (s != IR_OK)
            return s;
    }
    for (int k = 0; k < n->n_outputs; k++) {
        ir_value *o = n->outputs[k];
        if (!o)
            continue;
        ir_value_copy_type(o, x);
        o->dims[axis] = sizes[k] >= 0 ? ir_dim_const(sizes[k]) : ir_dim_unknown();
        if (n->n_outputs == 1 && sizes[k] < 0)
            o->dims[axis] = x->dims[axis]; /* one part is the whole */
    }
    return IR_OK;
}

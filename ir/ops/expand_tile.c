/* expand_tile.c — ops that repeat a tensor: Expand (numpy broadcast of the
 * input against a shape, in both directions) and Tile (whole copies along
 * each axis). */
#include "ir/ops/shape_ops.h"

#include <string.h>

/* Output element k walks the output index; in_index(axis, i) gives the input
 * index along that axis. One routine serves both ops. */
typedef enum { REPEAT_BROADCAST, REPEAT_TILE } repeat_kind;

static void repeat_copy(const ir_tensor *x, ir_tensor *o, repeat_kind kind)
{
    int r = o->rank, off = r - x->rank; /* x aligned to the right */
    int64_t istr[IR_MAX_RANK] = {0}, idim[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    int64_t xstr[IR_MAX_RANK];
    ir_strides(x->rank, x->dims, xstr);
    for (int i = 0; i < r; i++) {
        idim[i] = i >= off ? x->dims[i - off] : 1;
        istr[i] = i >= off ? xstr[i - off] : 0;
    }
    size_t es = ir_dtype_size(x->dtype);
    int64_t n = ir_tensor_numel(o);
    for (int64_t k = 0; k < n; k++) {
        int64_t src = 0;
        for (int i = 0; i < r; i++) {
            int64_t j = kind == REPEAT_TILE ? idx[i] % idim[i]
                                            : (idim[i] == 1 ? 0 : idx[i]);
            src += j * istr[i];
        }
        memcpy((char *)o->data + (size_t)k * es,
               (const char *)x->data + (size_t)src * es, es);
        for (int i = r - 1; i >= 0; i--) {
            if (++idx[i] < o->dims[i])
                break;
            idx[i] = 0;
        }
    }
}

/* ---- Expand (ONNX Expand-8/13) ------------------------------------------- */

ir_status ir_eval_EXPAND(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    int64_t want[SHP_MAX_LIST], dims[IR_MAX_RANK];
    int n, r;
    ir_status s = shp_tensor_ints(a, a->inputs[1], "shape", want, &n);
    if (s != IR_OK)
        return s;
    if (n > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "shape rank %d exceeds %d", n, IR_MAX_RANK);
    for (int i = 0; i < n; i++)
        if (want[i] < 0)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "shape entry %d is negative (%lld)", i,
                                  (long long)want[i]);
    int ranks[2] = {x->rank, n};
    const int64_t *shapes[2] = {x->dims, want};
    char b1[256], b2[256];
    if (ir_broadcast_dims(2, ranks, shapes, &r, dims) != IR_OK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input %s cannot be broadcast to shape %s",
                              shp_dims_str(x->rank, x->dims, b1, sizeof b1),
                              shp_dims_str(n, want, b2, sizeof b2));
    /* a 0 in either shape gives 0 (broadcast_dims treats 1 vs 0 as 0) */
    ir_tensor *o;
    if (ir_tensor_create(x->dtype, r, dims, &o, a->diag) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (Expand)", a->node->name);
    repeat_copy(x, o, REPEAT_BROADCAST);
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_EXPAND(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    out->rank = -1;
    ir_dim want[IR_MAX_RANK];
    int n = shp_value_dims(a->node->inputs[1], a->opset, want, NULL, IR_MAX_RANK);
    bool have = n >= 0;
    if (!have) {
        int64_t len = shp_value_len(a->node->inputs[1]);
        n = len <= IR_MAX_RANK ? (int)len : -1;
    }
    if (n < 0 || x->rank < 0)
        return IR_OK; /* the rank is the larger of two: both needed */
    int r = x->rank > n ? x->rank : n;
    ir_dim dims[IR_MAX_RANK];
    for (int k = 0; k < r; k++) {
        int xi = k - (r - x->rank), si = k - (r - n);
        ir_dim e = xi >= 0 ? x->dims[xi] : ir_dim_const(1);
        bool e_one = ir_dim_known(e) && e.size == 1;
        if (si < 0) {
            dims[k] = e;
        } else if (!have) {
            /* run-time shape: a known dim other than 1 survives */
            dims[k] = ir_dim_known(e) && !e_one ? e : ir_dim_unknown();
        } else if (!ir_dim_known(want[si])) {
            /* a symbolic target: it wins over 1, an input size over it */
            if (e_one)
                dims[k] = want[si];
            else if (ir_dim_known(e) || ir_dim_equal(e, want[si]))
                dims[k] = e;
            else
                dims[k] = ir_dim_unknown();
        } else {
            int64_t w = want[si].size;
            if (w < 0)
                return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                      "shape entry %d is negative (%lld)", si,
                                      (long long)w);
            if (w == 1)
                dims[k] = e;
            else if (!ir_dim_known(e) || e_one || e.size == w)
                dims[k] = ir_dim_const(w); /* a symbol here must be 1 or w */
            else
                return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                      "input dim %d of size %lld cannot be "
                                      "broadcast to %lld", xi,
                                      (long long)e.size, (long long)w);
        }
    }
    out->rank = r;
    memcpy(out->dims, dims, sizeof(ir_dim) * (size_t)r);
    return IR_OK;
}

/* ---- Tile (ONNX Tile-6/13) ------------------------------------------------
 * repeats: int64 1-D with one entry per input axis, each >= 0. */

ir_status ir_eval_TILE(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    int64_t rep[SHP_MAX_LIST], dims[IR_MAX_RANK];
    int n;
    ir_status s = shp_tensor_ints(a, a->inputs[1], "repeats", rep, &n);
    if (s != IR_OK)
        return s;
    if (n != x->rank)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "repeats has %d entries for an input of rank %d",
                              n, x->rank);
    for (int i = 0; i < n; i++) {
        if (rep[i] < 0)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "repeats entry %d is negative (%lld)", i,
                                  (long long)rep[i]);
        if (rep[i] && x->dims[i] > INT64_MAX / rep[i])
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "output dim %d overflows", i);
        dims[i] = x->dims[i] * rep[i];
    }
    ir_tensor *o;
    if (ir_tensor_create(x->dtype, n, dims, &o, a->diag) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (Tile)", a->node->name);
    repeat_copy(x, o, REPEAT_TILE);
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_TILE(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0];
    ir_value *out = a->node->outputs[0];
    out->dtype = x->dtype;
    out->rank = x->rank;
    int64_t rep[SHP_MAX_LIST];
    int n;
    if (!shp_value_ints(a->node->inputs[1], rep, &n)) {
        for (int i = 0; i < out->rank; i++)
            out->dims[i] = ir_dim_unknown();
        return IR_OK;
    }
    if (x->rank < 0)
        return IR_OK;
    if (n != x->rank)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "repeats has %d entries for an input of rank %d",
                              n, x->rank);
    for (int i = 0; i < n; i++) {
        if (rep[i] < 0)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "repeats entry %d is negative (%lld)", i,
                                  (long long)rep[i]);
        shp_prod p;
        shp_prod_init(&p);
        shp_prod_mul(&p, x->dims[i]);
        shp_prod_mul(&p, ir_dim_const(rep[i]));
        out->dims[i] = rep[i] == 1 ? x->dims[i] : shp_prod_dim(a->graph, &p);
    }
    return IR_OK;
}

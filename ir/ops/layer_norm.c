/* layer_norm.c — LayerNormalization (ONNX opset 17) for the reference
 * interpreter, and its shape inference.
 *
 * ONNX LayerNormalization-17: X is seen as [outer, inner] with
 * outer = d0*..*d(axis-1) and inner = d(axis)*..*d(n-1) (axis default -1).
 * For each row: Mean = mean(x), InvStdDev = 1 / sqrt(var(x) + epsilon)
 * (epsilon default 1e-5, population variance), and
 *     Y = (x - Mean) * InvStdDev * Scale + B
 * with Scale and the optional B broadcast to X's shape. The optional outputs
 * Mean and InvStdDev have X's shape with dims [axis, rank) set to 1 and the
 * type given by stash_type (1 = float, the only one accepted here).
 * Statistics accumulate in double.
 */
#include "ir/norm.h"
#include "ir/ops/kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The elements of t broadcast (numpy, unidirectional) to shape [rank, dims],
 * as a float array of that shape's size; NULL with a message in `why` if t
 * does not broadcast, or on out of memory. */
static float *ln_expand(const ir_tensor *t, int rank, const int64_t *dims,
                        char *why, size_t why_n)
{
    if (t->rank > rank) {
        snprintf(why, why_n, "rank %d is larger than %d", t->rank, rank);
        return NULL;
    }
    int64_t tstr[IR_MAX_RANK] = {0}; /* t's stride per target axis, 0 = bcast */
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int ti = i - (rank - t->rank);
        if (ti < 0)
            continue;
        if (t->dims[ti] != 1 && t->dims[ti] != dims[i]) {
            snprintf(why, why_n, "dimension %d is %lld, expected 1 or %lld", ti,
                     (long long)t->dims[ti], (long long)dims[i]);
            return NULL;
        }
        tstr[i] = t->dims[ti] == 1 ? 0 : s;
        s *= t->dims[ti];
    }
    int64_t n = ir_numel_checked(rank, dims);
    float *out = malloc((size_t)(n > 0 ? n : 1) * sizeof *out);
    if (!out) {
        snprintf(why, why_n, "out of memory");
        return NULL;
    }
    int64_t idx[IR_MAX_RANK] = {0}, off = 0;
    for (int64_t e = 0; e < n; e++) {
        out[e] = (float)ir_tensor_get_f64(t, off);
        /* advance the multi-index, keeping off = sum idx*tstr */
        for (int i = rank - 1; i >= 0; i--) {
            idx[i]++;
            off += tstr[i];
            if (idx[i] < dims[i])
                break;
            off -= idx[i] * tstr[i];
            idx[i] = 0;
        }
    }
    return out;
}

ir_status ir_eval_LAYER_NORMALIZATION(ir_kernel_args *a)
{
    const ir_tensor *X = a->inputs[0], *S = a->inputs[1];
    const ir_tensor *B = a->n_inputs > 2 ? a->inputs[2] : NULL;
    if (!ir_dtype_is_float(X->dtype))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "element type %s is not supported (float types only)",
                              ir_dtype_name(X->dtype));
    int64_t axis_attr = ir_node_attr_int(a->node, "axis", -1);
    double eps = ir_node_attr_float(a->node, "epsilon", 1e-5f);
    int64_t stash = ir_node_attr_int(a->node, "stash_type", 1);
    int r = X->rank, axis;
    if (r == 0 || !ir_axis_normalize(axis_attr, r, &axis))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis %lld is out of range for input X of rank %d",
                              (long long)axis_attr, r);
    if (stash != 1)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "stash_type %lld is not supported (only 1, float)",
                              (long long)stash);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < r; i++) {
        if (i < axis)
            outer *= X->dims[i];
        else
            inner *= X->dims[i];
    }
    /* Scale and B usually vary only over the normalised axes; expand them to
     * those when they can, else to X's whole shape. */
    bool per_row_params = S->rank <= r - axis && (!B || B->rank <= r - axis);
    int er = per_row_params ? r - axis : r;
    const int64_t *edims = per_row_params ? X->dims + axis : X->dims;
    char why[256];
    float *scale = ln_expand(S, er, edims, why, sizeof why);
    if (!scale)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "Scale does not broadcast to X: %s", why);
    float *bias = NULL;
    if (B && !(bias = ln_expand(B, er, edims, why, sizeof why))) {
        free(scale);
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "B does not broadcast to X: %s", why);
    }
    int64_t sd[IR_MAX_RANK];
    memcpy(sd, X->dims, sizeof(int64_t) * (size_t)r);
    for (int i = axis; i < r; i++)
        sd[i] = 1;
    ir_tensor *Y = NULL, *Mn = NULL, *Inv = NULL;
    ir_status st = ir_tensor_create(X->dtype, r, X->dims, &Y, a->diag);
    if (st == IR_OK && a->n_outputs > 1 && a->node->outputs[1])
        st = ir_tensor_create(IR_DT_F32, r, sd, &Mn, a->diag);
    if (st == IR_OK && a->n_outputs > 2 && a->node->outputs[2])
        st = ir_tensor_create(IR_DT_F32, r, sd, &Inv, a->diag);
    if (st != IR_OK) {
        free(scale); free(bias);
        ir_tensor_free(Y); ir_tensor_free(Mn); ir_tensor_free(Inv);
        return ir_kernel_fail(a->diag, a->node, st, "output: %s", a->diag->msg);
    }
    bool f32 = X->dtype == IR_DT_F32;
    float *row = malloc((size_t)(inner > 0 ? inner : 1) * sizeof *row);
    if (!row) {
        free(scale); free(bias);
        ir_tensor_free(Y); ir_tensor_free(Mn); ir_tensor_free(Inv);
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    }
    for (int64_t o = 0; o < outer; o++) {
        const float *x;
        if (f32) {
            x = (const float *)X->data + o * inner;
        } else {
            for (int64_t k = 0; k < inner; k++)
                row[k] = (float)ir_tensor_get_f64(X, o * inner + k);
            x = row;
        }
        const float *sc = scale + (per_row_params ? 0 : o * inner);
        const float *bi = bias ? bias + (per_row_params ? 0 : o * inner) : NULL;
        float *y = f32 ? (float *)Y->data + o * inner : row;
        double mean, inv;
        ir_layer_norm_row_ref(x, y, inner, sc, bi, eps, &mean, &inv);
        if (!f32)
            for (int64_t k = 0; k < inner; k++)
                ir_tensor_set_f64(Y, o * inner + k, row[k]);
        if (Mn)
            ((float *)Mn->data)[o] = (float)mean;
        if (Inv)
            ((float *)Inv->data)[o] = (float)inv;
    }
    free(row); free(scale); free(bias);
    a->outputs[0] = Y;
    if (a->n_outputs > 1) a->outputs[1] = Mn;
    if (a->n_outputs > 2) a->outputs[2] = Inv;
    return IR_OK;
}

ir_status ir_infer_LAYER_NORMALIZATION(ir_infer_args *a)
{
    ir_node *n = a->node;
    const ir_value *X = n->inputs[0];
    int64_t axis_attr = ir_node_attr_int(n, "axis", -1);
    int axis = 0;
    if (X->rank >= 0 && (X->rank == 0 || !ir_axis_normalize(axis_attr, X->rank, &axis)))
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "axis %lld is out of range for input '%s' of rank %d",
                              (long long)axis_attr, X->name, X->rank);
    if (n->outputs[0])
        ir_value_copy_type(n->outputs[0], X);
    for (int k = 1; k < n->n_outputs && k < 3; k++) {
        ir_value *v = n->outputs[k];
        if (!v)
            continue;
        ir_value_copy_type(v, X);
        v->dtype = IR_DT_F32; /* stash_type 1 */
        for (int i = axis; i < X->rank; i++)
            v->dims[i] = ir_dim_const(1);
    }
    return IR_OK;
}

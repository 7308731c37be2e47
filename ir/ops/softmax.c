/* softmax.c — Softmax and LogSoftmax for the reference interpreter.
 *
 * ONNX changed the meaning of `axis` at opset 13:
 *   Softmax-1/11, LogSoftmax-1/11: the input is coerced to 2-D at `axis`
 *     (default 1) — [d0*..*d(axis-1), d(axis)*..*d(n-1)] — and each row of
 *     that matrix is normalised over its whole flattened tail;
 *   Softmax-13, LogSoftmax-13: normalisation runs along `axis` alone
 *     (default -1).
 * Both are computed as x - max first, so large logits do not overflow exp;
 * sums accumulate in double. f16/bf16 are widened to float.
 *
 * Every row is seen as (outer, len, inner): `len` elements normalised
 * together, `inner` apart in memory.
 */
#include "ir/ops/kernel.h"

#include <math.h>
#include <stdlib.h>

static ir_status softmax_eval(ir_kernel_args *a, bool log_form)
{
    const ir_tensor *X = a->inputs[0];
    if (!ir_dtype_is_float(X->dtype))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "element type %s is not supported (float types only)",
                              ir_dtype_name(X->dtype));
    bool legacy = a->opset < 13;
    int64_t axis_attr = ir_node_attr_int(a->node, "axis", legacy ? 1 : -1);
    int r = X->rank, axis;
    /* A scalar has one element; treat it as a 1-element row. */
    if (r == 0)
        axis = 0;
    else if (!ir_axis_normalize(axis_attr, r, &axis))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis %lld is out of range for rank %d",
                              (long long)axis_attr, r);
    int64_t outer = 1, len = 1, inner = 1;
    for (int i = 0; i < r; i++) {
        if (i < axis)
            outer *= X->dims[i];
        else if (legacy || i == axis)
            len *= X->dims[i];
        else
            inner *= X->dims[i];
    }
    ir_tensor *Y;
    ir_status st = ir_tensor_create(X->dtype, X->rank, X->dims, &Y, a->diag);
    if (st != IR_OK)
        return ir_kernel_fail(a->diag, a->node, st, "output: %s", a->diag->msg);
    int64_t n = outer * len * inner;
    float *buf = NULL;
    const float *x;
    float *y;
    if (X->dtype == IR_DT_F32) {
        x = X->data;
        y = Y->data;
    } else {
        buf = malloc((size_t)(n ? n : 1) * sizeof *buf);
        if (!buf) {
            ir_tensor_free(Y);
            return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
        }
        for (int64_t i = 0; i < n; i++)
            buf[i] = (float)ir_tensor_get_f64(X, i);
        x = buf;
        y = buf; /* in place: each element is read before it is written */
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            const float *xr = x + o * len * inner + in;
            float *yr = y + o * len * inner + in;
            float mx = -INFINITY;
            for (int64_t k = 0; k < len; k++)
                if (xr[k * inner] > mx)
                    mx = xr[k * inner];
            double sum = 0.0;
            for (int64_t k = 0; k < len; k++)
                sum += exp((double)xr[k * inner] - mx);
            if (log_form) {
                double ls = log(sum);
                for (int64_t k = 0; k < len; k++)
                    yr[k * inner] = (float)((double)xr[k * inner] - mx - ls);
            } else {
                for (int64_t k = 0; k < len; k++)
                    yr[k * inner] = (float)(exp((double)xr[k * inner] - mx) / sum);
            }
        }
    if (buf) {
        for (int64_t i = 0; i < n; i++)
            ir_tensor_set_f64(Y, i, buf[i]);
        free(buf);
    }
    a->outputs[0] = Y;
    return IR_OK;
}

static ir_status softmax_infer(ir_infer_args *a)
{
    const ir_value *X = a->node->inputs[0];
    ir_value *Y = a->node->outputs[0];
    if (!Y)
        return IR_OK;
    ir_value_copy_type(Y, X);
    if (X->rank > 0) {
        bool legacy = a->opset < 13;
        int64_t axis = ir_node_attr_int(a->node, "axis", legacy ? 1 : -1);
        int ax;
        if (!ir_axis_normalize(axis, X->rank, &ax))
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "axis %lld is out of range for input '%s' of "
                                  "rank %d",
                                  (long long)axis, X->name, X->rank);
    }
    return IR_OK;
}

ir_status ir_eval_SOFTMAX(ir_kernel_args *a) { return softmax_eval(a, false); }
ir_status ir_eval_LOG_SOFTMAX(ir_kernel_args *a) { return softmax_eval(a, true); }
ir_status ir_infer_SOFTMAX(ir_infer_args *a) { return softmax_infer(a); }
ir_status ir_infer_LOG_SOFTMAX(ir_infer_args *a) { return softmax_infer(a); }

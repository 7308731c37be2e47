/* cumsum.c — CumSum (ONNX CumSum-14, also -11): the running sum of x along
 * one axis, given as a scalar input (int32 or int64, negative counts from
 * the end). Attributes: exclusive (1: each output leaves out its own
 * element, so the first is 0) and reverse (1: sums run from the end).
 * RoBERTa, XLM-R and MPNet exports compute position ids with it:
 * cumsum(input_ids != pad) * mask + pad.
 *
 * Sums run in the tensor's own type as numpy.cumsum does (float in float,
 * f16 / bf16 rounded at every step; integers in int64, wrapping into the
 * type on store),
 * so the result matches ONNX Runtime's and the ONNX reference's rounding. */
#include "ir/ops/elementwise.h"

#include <string.h>

/* The axis input: one int32/int64 element, normalised into [0, rank). */
static ir_status cumsum_axis(const ir_kernel_args *a, int rank, int *axis)
{
    const ir_tensor *t = a->inputs[1];
    if (!t)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input 1 (axis) is missing");
    if (t->dtype != IR_DT_I32 && t->dtype != IR_DT_I64)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis must be int32 or int64, not %s",
                              ir_dtype_name(t->dtype));
    if (ir_tensor_numel(t) != 1 || t->rank > 1)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis must be a scalar (0-D, or 1-D of one element)");
    int64_t v = ir_tensor_get_i64(t, 0);
    if (v < -rank || v >= rank || rank == 0)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis %lld is out of range for rank %d",
                              (long long)v, rank);
    *axis = (int)(v < 0 ? v + rank : v);
    return IR_OK;
}

ir_status ir_eval_CUMSUM(ir_kernel_args *a)
{
    ir_status s;
    if (a->n_inputs < 2 || !a->inputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    if ((s = ir_ew_check_tensor_dtype(a, 0, IR_EW_NUMERIC)) != IR_OK)
        return s;
    const ir_tensor *x = a->inputs[0];
    int axis = 0;
    if ((s = cumsum_axis(a, x->rank, &axis)) != IR_OK)
        return s;
    const int exclusive = ir_node_attr_int(a->node, "exclusive", 0) != 0;
    const int reverse = ir_node_attr_int(a->node, "reverse", 0) != 0;
    ir_tensor *o;
    if ((s = ir_tensor_create(x->dtype, x->rank, x->dims, &o, a->diag)) != IR_OK)
        return s;
    /* [outer, len, inner] around the axis */
    int64_t outer = 1, len = x->dims[axis], inner = 1;
    for (int i = 0; i < axis; i++)
        outer *= x->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        inner *= x->dims[i];
    for (int64_t p = 0; p < outer; p++)
        for (int64_t q = 0; q < inner; q++) {
            float accf = 0.0f;
            double accd = 0.0;
            int64_t acci = 0;
            for (int64_t step = 0; step < len; step++) {
                int64_t k = reverse ? len - 1 - step : step;
                int64_t i = (p * len + k) * inner + q;
                if (x->dtype == IR_DT_F32) {
                    float v = ((const float *)x->data)[i];
                    if (!exclusive)
                        accf += v;
                    ((float *)o->data)[i] = accf;
                    if (exclusive)
                        accf += v;
                } else if (ir_dtype_is_float(x->dtype)) {
                    /* f16 / bf16: the running sum is rounded to the type
                     * at every step, as a sum kept in that type is */
                    double v = ir_ew_get_f(x, i);
                    if (!exclusive)
                        accd += v;
                    ir_ew_put_f(o, i, accd);
                    accd = ir_ew_get_f(o, i); /* as stored */
                    if (exclusive)
                        accd += v;
                } else {
                    int64_t v = ir_ew_get_i(x, i);
                    if (!exclusive)
                        acci = (int64_t)((uint64_t)acci + (uint64_t)v);
                    ir_ew_put_i(o, i, acci);
                    if (exclusive)
                        acci = (int64_t)((uint64_t)acci + (uint64_t)v);
                }
            }
        }
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_CUMSUM(ir_infer_args *a)
{
    ir_status s;
    if (a->node->n_inputs < 2 || !a->node->inputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    if ((s = ir_ew_check_value_dtype(a, 0, IR_EW_NUMERIC)) != IR_OK)
        return s;
    const ir_value *ax = a->node->inputs[1];
    if (ax && ax->dtype != IR_DT_UNDEF && ax->dtype != IR_DT_I32 &&
        ax->dtype != IR_DT_I64)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "axis must be int32 or int64, not %s",
                              ir_dtype_name(ax->dtype));
    ir_value_copy_type(a->node->outputs[0], a->node->inputs[0]);
    return IR_OK;
}

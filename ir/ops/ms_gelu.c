/* ms_gelu.c — ONNX Runtime's GELU contrib ops (domain com.microsoft,
 * ContribOperators.md, since version 1), as its transformer optimizer
 * writes them after a MatMul:
 *   Gelu(X)             Y = X·Phi(X), the erf form
 *   BiasGelu(A, B)      Y = Gelu(A + B), B [C] added along the last axis
 *   FastGelu(X, bias?)  Y = the tanh approximation of Gelu(X + bias)
 * The formulas are ir_act_ref's (ir/act.h); the sum is rounded to float
 * first, as the unfused Add did.
 */
#include "ir/act.h"
#include "ir/ops/fused_core.h"

static ir_status ms_gelu_apply(ir_kernel_args *a, ir_act act)
{
    ir_status st = ir_fused_need_f32(a, 0, "X");
    if (st != IR_OK)
        return st;
    const ir_tensor *X = a->inputs[0];
    const ir_tensor *B = a->n_inputs > 1 ? a->inputs[1] : NULL;
    int64_t c = X->rank ? X->dims[X->rank - 1] : 1;
    if (B && (st = ir_fused_check_vec(a, 1, "bias", c)) != IR_OK)
        return st;
    ir_tensor *Y;
    if ((st = ir_tensor_create(IR_DT_F32, X->rank, X->dims, &Y, a->diag)) != IR_OK)
        return st;
    const float *x = X->data, *b = B ? B->data : NULL;
    float *y = Y->data;
    int64_t n = ir_tensor_numel(X);
    for (int64_t e = 0; e < n; e++) {
        float v = b ? x[e] + b[e % c] : x[e];
        y[e] = (float)ir_act_ref(act, v);
    }
    a->outputs[0] = Y;
    return IR_OK;
}

static ir_status ms_gelu_infer(ir_infer_args *a)
{
    if (a->node->outputs[0])
        ir_value_copy_type(a->node->outputs[0], a->node->inputs[0]);
    return IR_OK;
}

ir_status ir_eval_MS_GELU(ir_kernel_args *a) { return ms_gelu_apply(a, IR_ACT_GELU); }
ir_status ir_eval_MS_BIAS_GELU(ir_kernel_args *a) { return ms_gelu_apply(a, IR_ACT_GELU); }
ir_status ir_eval_MS_FAST_GELU(ir_kernel_args *a) { return ms_gelu_apply(a, IR_ACT_GELU_TANH); }
ir_status ir_infer_MS_GELU(ir_infer_args *a) { return ms_gelu_infer(a); }
ir_status ir_infer_MS_BIAS_GELU(ir_infer_args *a) { return ms_gelu_infer(a); }
ir_status ir_infer_MS_FAST_GELU(ir_infer_args *a) { return ms_gelu_infer(a); }

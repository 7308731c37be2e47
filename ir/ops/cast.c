/* cast.c — Cast and CastLike for the reference interpreter.
 *
 * Cast-13 (also 19's 'saturate' attribute, which only concerns float8 types
 * and is ignored) converts between every pair of the dtypes distilc
 * supports: f32 f16 bf16 i8 u8 i32 i64 bool. The spec leaves out-of-range
 * float->int conversions undefined; we define them so no C undefined
 * behaviour is reachable: truncate toward zero, saturate to the target
 * range, NaN gives 0. Integer->integer wraps (numpy's astype). Anything ->
 * bool is "nonzero" (NaN is nonzero, so true). f16/bf16 round to nearest
 * even. CastLike-15 takes the target dtype from its second input.
 */
#include "ir/ops/elementwise.h"

#include <string.h>

/* ONNX TensorProto.DataType names, for messages about types we do not
 * support (codes follow onnx.proto of onnx 1.12, plus float8 from 1.14). */
static const char *onnx_type_name(int64_t code)
{
    static const char *names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
        "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
        "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ"};
    if (code >= 0 && code < (int64_t)(sizeof names / sizeof names[0]))
        return names[code];
    return "unknown";
}

/* Converts src into a new tensor of dtype `to`. */
static ir_status cast_tensor(ir_kernel_args *a, const ir_tensor *src,
                             ir_dtype to, ir_tensor **out)
{
    ir_tensor *o;
    ir_status s = ir_tensor_create(to, src->rank, src->dims, &o, a->diag);
    if (s != IR_OK)
        return s;
    int64_t n = ir_numel_checked(src->rank, src->dims);
    if (src->dtype == to) {
        if (o->nbytes)
            memcpy(o->data, src->data, o->nbytes);
    } else if (to == IR_DT_BOOL) {
        uint8_t *od = o->data;
        for (int64_t i = 0; i < n; i++)
            od[i] = ir_dtype_is_float(src->dtype) ? ir_ew_get_f(src, i) != 0.0
                                                  : ir_ew_get_i(src, i) != 0;
    } else if (ir_dtype_is_float(src->dtype)) {
        /* float -> float rounds; float -> int truncates and saturates */
        for (int64_t i = 0; i < n; i++)
            ir_ew_put_f(o, i, ir_ew_get_f(src, i));
    } else {
        /* int/bool -> int wraps; int -> float converts straight from int64
         * (going through double first could round twice) */
        for (int64_t i = 0; i < n; i++)
            ir_ew_put_i(o, i, ir_ew_get_i(src, i));
    }
    *out = o;
    return IR_OK;
}

/* Reads and checks the 'to' attribute. */
static ir_status cast_target(const ir_node *n, ir_diag *d, ir_dtype *to)
{
    ir_attr *at = ir_node_attr(n, "to");
    if (!at || at->kind != IR_ATTR_INT)
        return ir_kernel_fail(d, n, IR_ERR_INPUT,
                              "attribute 'to' (an integer ONNX data type) is "
                              "required");
    if (!ir_dtype_supported((int)at->i) || at->i != (int)at->i)
        return ir_kernel_fail(d, n, IR_ERR_UNSUPPORTED,
                              "cast to %s (ONNX type %lld) is not supported; "
                              "supported targets are FLOAT, FLOAT16, BFLOAT16, "
                              "INT8, UINT8, INT32, INT64, BOOL",
                              onnx_type_name(at->i), (long long)at->i);
    *to = (ir_dtype)at->i;
    return IR_OK;
}

ir_status ir_eval_CAST(ir_kernel_args *a)
{
    if (a->n_inputs < 1 || !a->inputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    ir_dtype to = IR_DT_UNDEF;
    ir_status s = cast_target(a->node, a->diag, &to);
    return s != IR_OK ? s : cast_tensor(a, a->inputs[0], to, &a->outputs[0]);
}

ir_status ir_infer_CAST(ir_infer_args *a)
{
    if (a->node->n_inputs < 1 || !a->node->inputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    ir_dtype to = IR_DT_UNDEF;
    ir_status s = cast_target(a->node, a->diag, &to);
    if (s != IR_OK)
        return s;
    ir_value_copy_type(a->node->outputs[0], a->node->inputs[0]);
    a->node->outputs[0]->dtype = to;
    return IR_OK;
}

ir_status ir_eval_CAST_LIKE(ir_kernel_args *a)
{
    if (a->n_inputs != 2 || !a->inputs[0] || !a->inputs[1])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "needs two inputs (input, target_type)");
    return cast_tensor(a, a->inputs[0], a->inputs[1]->dtype, &a->outputs[0]);
}

ir_status ir_infer_CAST_LIKE(ir_infer_args *a)
{
    const ir_node *n = a->node;
    if (n->n_inputs != 2 || !n->inputs[0] || !n->inputs[1])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "needs two inputs (input, target_type)");
    ir_value_copy_type(n->outputs[0], n->inputs[0]);
    n->outputs[0]->dtype = n->inputs[1]->dtype;
    return IR_OK;
}

/* registry.c — maps every op of ir/ops.def to its eval and infer hooks. */
#include "ir/ops/kernel.h"

static const ir_op_hooks hooks[] = {
#define IR_OP(ENUM, onnx_name, min_in, max_in, min_out, max_out, flags, flops) \
    [IR_OP_##ENUM] = {ir_eval_##ENUM, ir_infer_##ENUM},
#include "ir/ops.def"
#undef IR_OP
};
_Static_assert(sizeof hooks / sizeof hooks[0] == IR_OP_COUNT,
               "hook table and op enum disagree");

const ir_op_hooks *ir_op_hooks_get(ir_op op)
{
    return (unsigned)op < IR_OP_COUNT ? &hooks[op] : 0;
}

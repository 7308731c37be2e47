/* op_table.c — op properties and the ONNX name map, generated from
 * ir/ops.def. */
#include "ir/ir.h"

#include <string.h>

static const ir_op_info op_table[] = {
#define IR_OP(ENUM, onnx_name, min_in, max_in, min_out, max_out, flags, flops) \
    [IR_OP_##ENUM] = {onnx_name, min_in, max_in, min_out, max_out, flags},
#include "ir/ops.def"
#undef IR_OP
};
_Static_assert(sizeof op_table / sizeof op_table[0] == IR_OP_COUNT,
               "op table and op enum disagree");

const ir_op_info *ir_op_get(ir_op op)
{
    return (unsigned)op < IR_OP_COUNT ? &op_table[op] : NULL;
}

const char *ir_op_name(ir_op op)
{
    return (unsigned)op < IR_OP_COUNT ? op_table[op].name : "?";
}

const char *ir_op_domain(ir_op op)
{
    unsigned f = (unsigned)op < IR_OP_COUNT ? op_table[op].flags : 0;
    return f & IR_OPF_INTERNAL ? "ai.distilc" : f & IR_OPF_MS ? "com.microsoft" : "";
}

/* Ops of different domains may share a name (Attention, Gelu): the domain
 * picks the table entry. */
ir_op ir_op_from_onnx(const char *domain, const char *op_type)
{
    const char *want = domain && strcmp(domain, "ai.onnx") != 0 ? domain : "";
    for (int i = 0; i < IR_OP_COUNT; i++)
        if (strcmp(ir_op_domain((ir_op)i), want) == 0 &&
            strcmp(op_table[i].name, op_type) == 0)
            return (ir_op)i;
    return IR_OP_COUNT;
}

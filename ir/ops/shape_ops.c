/* shape_ops.c — PLACEHOLDER until implemented: each op here reports that it is
 * not implemented yet. */
#include "ir/ops/kernel.h"

#define STUB(E) \
    ir_status ir_eval_##E(ir_kernel_args *a) { return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED, "not implemented"); } \
    ir_status ir_infer_##E(ir_infer_args *a) { (void)a; return IR_OK; }
STUB(CONSTANT)
STUB(SHAPE)
STUB(SIZE)
STUB(RESHAPE)
STUB(FLATTEN)
STUB(SQUEEZE)
STUB(UNSQUEEZE)
STUB(TRANSPOSE)
STUB(CONCAT)
STUB(SPLIT)
STUB(SLICE)
STUB(GATHER)
STUB(EXPAND)
STUB(TILE)
STUB(RANGE)
STUB(CONSTANT_OF_SHAPE)
STUB(DROPOUT)

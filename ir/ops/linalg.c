/* linalg.c — PLACEHOLDER until implemented: each op here reports that it is
 * not implemented yet. */
#include "ir/ops/kernel.h"

#define STUB(E) \
    ir_status ir_eval_##E(ir_kernel_args *a) { return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED, "not implemented"); } \
    ir_status ir_infer_##E(ir_infer_args *a) { (void)a; return IR_OK; }
STUB(MATMUL)
STUB(GEMM)
STUB(SOFTMAX)
STUB(LOG_SOFTMAX)
STUB(LAYER_NORMALIZATION)
STUB(REDUCE_MEAN)
STUB(REDUCE_SUM)
STUB(REDUCE_MAX)
STUB(REDUCE_MIN)
STUB(REDUCE_PROD)

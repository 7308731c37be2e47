/* flops.h — counting the floating-point work of a graph, for `distilc
 * inspect` and the latency model's sanity checks.
 *
 *     pass_ctx ctx; pass_ctx_init(&ctx, &d);
 *     ctx.fix_batch = 1; ctx.fix_seq = 128;
 *     pass_run_list(g, "infer-shapes", &ctx);      // sizes must be known
 *     ir_flops f;
 *     ir_graph_flops(g, &f);
 *     printf("%.1f GFLOP\n", f.total / 1e9);
 *
 * The rule (one multiply-add = 2 FLOPs, the convention that gives BERT-base
 * about 22.4 GFLOP at seq 128):
 *   - MatMul: 2·M·N·K per batch element, i.e. 2·K·numel(output) where K is
 *     the last dimension of input A (ONNX MatMul-13, numpy matmul).
 *   - Gemm: 2·M·N·K, plus M·N when C is given (ONNX Gemm-13); alpha/beta
 *     scaling is not counted.
 *   - Elementwise ops (IR_OPF_ELEMENTWISE in ir/ops.def: Add, Mul, Erf, Gelu,
 *     Where, ...): 1 per output element. Identity, Cast and CastLike move
 *     data and count 0.
 *   - Softmax, LogSoftmax and LayerNormalization: 5 per output element
 *     (max/subtract/exp/sum/divide; mean/centre/square/sum/scale).
 *   - Reductions: 1 per input element.
 *   - Shape and data-movement ops (Shape, Reshape, Transpose, Gather,
 *     Concat, Slice, Expand, Constant, ...): 0.
 * A counted node whose shapes are not all known is skipped and reported in
 * `uncounted` rather than guessed.
 */
#ifndef DISTILC_IR_FLOPS_H
#define DISTILC_IR_FLOPS_H

#include <stdint.h>

#include "ir/ir.h"

typedef struct ir_flops {
    double total;
    double matmul;      /* MatMul + Gemm */
    double elementwise;
    double normalize;   /* Softmax, LogSoftmax, LayerNormalization */
    double reduce;
    int64_t uncounted;  /* nodes that would count but have unknown shapes */
} ir_flops;

/* FLOPs of one node by the rule above; false if its shapes are unknown. */
bool ir_node_flops(const ir_node *n, double *flops);
void ir_graph_flops(const ir_graph *g, ir_flops *out);

#endif

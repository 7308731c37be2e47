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
 * Each op's rule is a column of the op table (ir/ops.def, IR_FLOPS_<rule>).
 * One multiply-add = 2 FLOPs, the convention that gives BERT-base about
 * 22.4 GFLOP at seq 128:
 *   - MATMUL (MatMul, Gemm): 2·M·N·K per batch element, i.e.
 *     2·K·numel(output) where K is the last dimension of input A (ONNX
 *     MatMul-13, numpy matmul); Gemm adds M·N when C is given (ONNX
 *     Gemm-13); alpha/beta scaling is not counted.
 *   - ELEMENTWISE (Add, Mul, Erf, Relu, Tanh, Where, CumSum, ...): 1 per
 *     output element. Identity, Cast and CastLike move data and count 0.
 *   - GELU (Gelu-20): per output element, the FLOPs of its formula written
 *     in standard ops (ir_act_flops: 5 for approximate="none", 9 for
 *     "tanh"), as exporters below opset 20 write it.
 *   - NORMALIZE (Softmax, LogSoftmax, LayerNormalization, LayerNorm): 5 per
 *     output element (max/subtract/exp/sum/divide; mean/centre/square/sum/
 *     scale).
 *   - REDUCE: 1 per input element.
 *   - NONE: shape and data-movement ops (Shape, Reshape, Transpose, Gather,
 *     Concat, Slice, Expand, Constant, ...).
 * A fused op counts the standard ops it stands for (ir/ops/fused.c), so
 * that the fusion passes keep a graph's count:
 *   - LINEAR: MatMul, the bias Add when given, the activation (ir_act_flops
 *     per element).
 *   - ADD_LAYER_NORM: the residual Add, the bias Add when given, LayerNorm.
 *   - ATTENTION: the q|k|v projection (MatMul + bias Add), q·kᵀ, the scale
 *     (when not 1), the mask Add (when masked), Softmax and P·v. With
 *     mask_kind "key_padding" it stands for Hugging Face's extended mask
 *     too, (1 - mask)·filler (Sub and Mul over the [B,S] mask), which the
 *     unfused graph computed once for all layers: ir_graph_flops counts it
 *     once per mask, ir_node_flops with every node.
 *   - EMBED_LAYER_NORM: the Adds of the embedding rows (one per table after
 *     the first) and LayerNorm; the Gathers count 0.
 * ONNX Runtime's contrib ops (domain com.microsoft) count the same way:
 *   - MS_ATTENTION: as ATTENTION with heads = num_heads, the scale always
 *     (its default is 1/sqrt(head size)) and the mask Add when a mask_index
 *     is given (turning it into an additive mask counts 0).
 *   - MS_EMBED_LAYER_NORM: as EMBED_LAYER_NORM, the type table being input 4;
 *     the mask_index output (a ReduceSum of the mask) 1 per mask element.
 *   - BIAS_GELU (BiasGelu, FastGelu): the bias Add when given, then GELU
 *     (erf for BiasGelu, tanh for FastGelu). SkipLayerNormalization uses
 *     ADD_LAYER_NORM and com.microsoft Gelu GELU (erf).
 *   - MS_FUSED_MATMUL (FusedMatMul): as MATMUL with K the axis of A that
 *     transA / transBatchA bring last, plus 1 per output element when
 *     alpha != 1 (the Mul fuse-ms-ops writes for it).
 * A counted node whose shapes are not all known is skipped and reported in
 * `uncounted` rather than guessed.
 */
#ifndef DISTILC_IR_FLOPS_H
#define DISTILC_IR_FLOPS_H

#include <stdint.h>

#include "ir/ir.h"

typedef enum ir_flops_rule {
    IR_FLOPS_NONE,
    IR_FLOPS_ELEMENTWISE,
    IR_FLOPS_MATMUL,
    IR_FLOPS_NORMALIZE,
    IR_FLOPS_REDUCE,
    IR_FLOPS_GELU,
    IR_FLOPS_LINEAR,
    IR_FLOPS_ADD_LAYER_NORM,
    IR_FLOPS_ATTENTION,
    IR_FLOPS_EMBED_LAYER_NORM,
    IR_FLOPS_MS_ATTENTION,
    IR_FLOPS_MS_EMBED_LAYER_NORM,
    IR_FLOPS_BIAS_GELU,
    IR_FLOPS_MS_FUSED_MATMUL,
    IR_FLOPS_RULE_COUNT
} ir_flops_rule;

/* The op's rule from ir/ops.def (IR_FLOPS_NONE out of range). */
ir_flops_rule ir_op_flops_rule(ir_op op);

typedef struct ir_flops {
    double total;
    double matmul;      /* MatMul + Gemm, and the products of fused ops */
    double elementwise;
    double normalize;   /* Softmax, LogSoftmax, LayerNorm (also fused) */
    double reduce;
    int64_t uncounted;  /* nodes that would count but have unknown shapes */
} ir_flops;

/* FLOPs of one node by the rule above; false if its shapes are unknown. */
bool ir_node_flops(const ir_node *n, double *flops);
void ir_graph_flops(const ir_graph *g, ir_flops *out);

#endif

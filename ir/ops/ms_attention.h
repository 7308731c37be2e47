/* ms_attention.h — what of com.microsoft Attention distilc runs
 * (ir/ops/ms_attention.c), asked by its kernel and by the pass that
 * rewrites it into distilc's Attention (passes/fuse_ms_ops.c):
 *
 *     const char *bad = ir_ms_attention_unsupported(node);
 *     if (bad) ...   // "attribute unidirectional=1", "input 4 (past)", ...
 */
#ifndef DISTILC_IR_OPS_MS_ATTENTION_H
#define DISTILC_IR_OPS_MS_ATTENTION_H

#include "ir/ir.h"

/* The first input, output or attribute of n outside BERT self-attention
 * (past state, attention_bias, causal mask, rotary, unequal q/k/v sizes),
 * named; NULL when there is none. */
const char *ir_ms_attention_unsupported(const ir_node *n);

#endif

/* ms_attention.h — what of com.microsoft Attention distilc runs
 * (ir/ops/ms_attention.c), asked by its kernel and by the pass that
 * rewrites it into distilc's Attention (passes/fuse_ms_ops.c):
 *
 *     const char *bad = ir_ms_attention_unsupported(node);
 *     if (bad) ...   // "attribute unidirectional=1", "input 4 (past)", ...
 *     if (!ir_ms_attention_sizes(node, w_cols, &nq, &nv, why, sizeof why)) ...
 */
#ifndef DISTILC_IR_OPS_MS_ATTENTION_H
#define DISTILC_IR_OPS_MS_ATTENTION_H

#include "ir/ir.h"

#include <stddef.h>

/* The first input, output or attribute of n outside BERT self-attention
 * (past state, attention_bias, causal mask, rotary), named; NULL when there
 * is none. */
const char *ir_ms_attention_unsupported(const ir_node *n);

/* The q (= k) and v hidden sizes of n for packed weights of w_cols
 * columns: qkv_hidden_sizes when given, else a third each. False, with why
 * (naming qkv_hidden_sizes or the weights) filled, when they do not fit
 * the weights or num_heads. */
bool ir_ms_attention_sizes(const ir_node *n, int64_t w_cols, int64_t *nq,
                           int64_t *nv, char *why, size_t len);

#endif

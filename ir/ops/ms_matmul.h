/* ms_matmul.h — the axis orders of com.microsoft FusedMatMul's inputs
 * (ir/ops/ms_matmul.c), asked by its kernel, its FLOP rule (ir/flops.c)
 * and the pass that rewrites it into Transpose + MatMul + Mul
 * (passes/fuse_ms_ops.c):
 *
 *     int perm[IR_MAX_RANK];
 *     const char *attr;
 *     int r = ir_ms_matmul_perm(node, 0, rank_of_A, perm, &attr);
 *     // 1: Transpose(A, perm) first; 0: A as it is; -1: attr is at fault
 */
#ifndef DISTILC_IR_OPS_MS_MATMUL_H
#define DISTILC_IR_OPS_MS_MATMUL_H

#include "ir/ir.h"

/* The Transpose perm that FusedMatMul's attributes give input k (0: A with
 * transA, transBatchA; 1: B with transB, transBatchB) of rank `rank`: the
 * batch transpose moves axis 0 behind the other batch axes
 * ([1 .. r-2, 0, r-1]), then the matrix transpose swaps the last two axes.
 * Returns 1 when perm reorders, 0 when it is the identity, and -1 when a
 * flag is set on an input of rank < 2 (*attr then names the attribute). */
int ir_ms_matmul_perm(const ir_node *n, int k, int rank, int *perm,
                      const char **attr);

#endif

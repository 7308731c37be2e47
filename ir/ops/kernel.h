/* kernel.h — the two hooks every op provides: eval (the reference
 * interpreter's kernel, exact ONNX semantics) and infer (dtype and shape of
 * the outputs from the inputs' types, shapes and constant payloads).
 *
 * Each op family lives in one file under ir/ops/ (elementwise.c, matmul.c,
 * reduce.c, shape_ops.c, ...), defines `ir_eval_<ENUM>` and `ir_infer_<ENUM>`
 * for its ops, and ir/ops/registry.c maps every op of ir/ops.def to them.
 *
 * eval: args->inputs[i] is NULL for an absent optional input; the kernel
 * allocates each present output with ir_tensor_create and stores it in
 * args->outputs[i] (the caller frees them). Bad attributes or inputs give
 * IR_ERR_INPUT with a message naming the node and op (use ir_kernel_fail).
 *
 * infer: reads node->inputs[i]->{dtype,rank,dims,constant} and sets
 * node->outputs[i]->{dtype,rank,dims}. When a size cannot be known it is
 * left symbolic (size -1; a name when one can be given). It never fails on
 * unknown input shapes: it leaves the output rank -1. It returns IR_ERR_INPUT
 * when known types or shapes are inconsistent (e.g. MatMul 3x4 · 5x2).
 */
#ifndef DISTILC_IR_OPS_KERNEL_H
#define DISTILC_IR_OPS_KERNEL_H

#include "ir/ir.h"

typedef struct ir_kernel_args {
    ir_graph *graph;                 /* for attribute lookups / names */
    const ir_node *node;
    int64_t opset;                   /* default-domain opset of the model */
    int n_inputs;
    const ir_tensor *const *inputs;  /* [n_inputs], NULL = absent */
    int n_outputs;
    ir_tensor **outputs;             /* [n_outputs], filled by the kernel */
    ir_diag *diag;
} ir_kernel_args;

typedef struct ir_infer_args {
    ir_graph *graph;
    ir_node *node;
    int64_t opset;
    ir_diag *diag;
} ir_infer_args;

typedef ir_status (*ir_eval_fn)(ir_kernel_args *a);
typedef ir_status (*ir_infer_fn)(ir_infer_args *a);

typedef struct ir_op_hooks {
    ir_eval_fn eval;
    ir_infer_fn infer;
} ir_op_hooks;

const ir_op_hooks *ir_op_hooks_get(ir_op op);

#define IR_OP(ENUM, onnx_name, min_in, max_in, min_out, max_out, flags, flops) \
    ir_status ir_eval_##ENUM(ir_kernel_args *a);                              \
    ir_status ir_infer_##ENUM(ir_infer_args *a);
#include "ir/ops.def"
#undef IR_OP

/* ---- helpers shared by kernels (ir/ops/common.c) ------------------------ */

/* "node 'name' (Op): <message>" with status s. */
ir_status ir_kernel_fail(ir_diag *d, const ir_node *n, ir_status s,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Numpy-style broadcast of n shapes; IR_ERR_INPUT if incompatible. */
ir_status ir_broadcast_dims(int n, const int *ranks, const int64_t *const *dims,
                            int *out_rank, int64_t *out_dims);
/* Same on symbolic value shapes, for infer hooks. */
ir_status ir_broadcast_value_dims(ir_graph *g, int n, const ir_value *const *vs,
                                  int *out_rank, ir_dim *out_dims);
/* Normalises a possibly negative axis into [0, rank); false if out of range. */
bool ir_axis_normalize(int64_t axis, int rank, int *out);
/* Strides of a row-major shape (elements). */
void ir_strides(int rank, const int64_t *dims, int64_t *strides);
/* Sets v's type to a known static shape. */
void ir_value_set_shape(ir_value *v, ir_dtype t, int rank, const int64_t *dims);
/* Copies dtype/rank/dims from src. */
void ir_value_copy_type(ir_value *dst, const ir_value *src);

#endif

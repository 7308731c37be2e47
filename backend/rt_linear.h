/* rt_linear.h — the runtime's linear layer y = act(x·W + b) (+ r), one call
 * for every precision and every kernel, and the rule that picks the kernel
 * for an fp32 layer from the CPU and the shape, once, when it is created.
 *
 *     rt_linear l;
 *     // W [K,N] row-major (y = x · W + b), bias [N], GELU fused
 *     if (rt_linear_init(ctx, &l, IR_PRECISION_FP32, RT_KERNEL_AUTO, K, N, W, b,
 *                        IR_ACT_GELU, 0.0f, &d) != IR_OK) ...
 *     rt_linear_run(&l, M, x, y, NULL, &d);    // x [M,K], y [M,N]
 *     printf("%s\n", rt_linear_kernel(&l));    // "openblas" on AVX2 at
 *                                              // BERT-base sizes
 *     rt_linear_free(&l);
 *
 * Kernels (rt.h's rt_kernel): oneDNN matmul with weights packed once
 * (bias, activation and residual as post-ops), oneDNN matmul on plain
 * row-major weights (the same post-ops), OpenBLAS sgemm followed by one
 * vectorised epilogue pass over each thread's block of y (bias,
 * activation, residual), and oneDNN int8 (backend/dnnl_qlinear.h). The
 * epilogue's activations follow ONNX Gelu-20 (erf and tanh forms), Relu-14
 * and Tanh-13, to about 2e-7 relative; oneDNN's own are as close, so the
 * kernels agree to the rounding of the sums (tests/backend/test_dnnl_matmul.c).
 * Like rt.h this sees oneDNN only through backend/dnnl_*.h, and no BLAS
 * header: the emitted program compiles it too.
 */
#ifndef DISTILC_BACKEND_RT_LINEAR_H
#define DISTILC_BACKEND_RT_LINEAR_H

#include <stdint.h>

#include "backend/dnnl_engine.h"
#include "backend/dnnl_matmul.h"
#include "backend/dnnl_qlinear.h"
#include "backend/rt.h"
#include "ir/cpu.h"

typedef struct rt_linear {
    rt_kernel kernel;      /* RT_KERNEL_AUTO while empty */
    ir_precision p;
    onednn_linear *f;      /* ONEDNN_PACKED: fp32 / bf16 */
    onednn_qlinear *q;     /* ONEDNN_INT8 */
    onednn_ctx *ctx;       /* ONEDNN_PLAIN runs through this context */
    float *w;              /* ONEDNN_PLAIN, OPENBLAS: W [K,N] row-major */
    float *b;              /* ONEDNN_PLAIN, OPENBLAS: bias [N] or NULL */
    int64_t k, n;
    ir_act act;
    char name[128];        /* what rt_linear_kernel returns */
} rt_linear;

/* The kernel the runtime gives an fp32 / bf16 / int8 linear of K inputs
 * and N outputs on a CPU of this level (the measurements behind it are in
 * rt_linear.c and BENCHMARKS.md). Deterministic: the same kind of machine
 * always gets the same kernels. */
rt_kernel rt_kernel_rule(cpu_level level, ir_precision p, int64_t k, int64_t n);

/* Creates the layer; force is RT_KERNEL_AUTO (the rule at cpu_level_get())
 * or a kernel for fp32 (bf16 and int8 ignore it). in_scale: int8's static
 * input scale (0: dynamic). W and b are copied (or packed); the caller's
 * memory may go afterwards. */
ir_status rt_linear_init(onednn_ctx *ctx, rt_linear *l, ir_precision p,
                         rt_kernel force, int64_t k, int64_t n,
                         const float *w_kn, const float *b, ir_act act,
                         float in_scale, ir_diag *d);
/* y[rows,N] = act(x[rows,K] · W + b) (+ r[rows,N] when r is not NULL). */
ir_status rt_linear_run(rt_linear *l, int64_t rows, const float *x, float *y,
                        const float *r, ir_diag *d);
void rt_linear_free(rt_linear *l);
/* Bytes of weights the layer holds (as stored by its kernel). */
int64_t rt_linear_bytes(const rt_linear *l);
/* The kernel's name; for int8 oneDNN's implementation too. NULL when
 * the layer is empty. */
const char *rt_linear_kernel(const rt_linear *l);

#endif

/* gemm.h — one sgemm-style call for the trainer (distill/) that runs through
 * oneDNN or OpenBLAS, whichever is faster for the shape on this machine.
 * The first call of each (transA, transB, M, N, K) times both once on a
 * scratch output and remembers the winner in the context.
 *
 *     gemm_ctx *g;
 *     if (gemm_ctx_create(GEMM_AUTO, &g, &d) != IR_OK) ...
 *     // C[M,N] = A[M,K] · B[N,K]ᵀ  (row-major, like cblas_sgemm RowMajor)
 *     gemm_f32(g, 0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N, &d);
 *     gemm_ctx_free(g);
 *
 * Semantics are BLAS sgemm's, row-major: C = alpha·op(A)·op(B) + beta·C with
 * op(A) [M,K] (A stored [K,M] when transA), op(B) [K,N] (B stored [N,K]
 * when transB). With beta == 0, C is not read (may hold NaN).
 *
 * Reproducibility: the two libraries round differently, so a run that must
 * repeat bit for bit (resume after a kill) should pin the choice, with
 * GEMM_ONEDNN / GEMM_BLAS at creation or gemm_ctx_set_choice per shape.
 * A context is used by one thread at a time. No oneDNN or BLAS header here.
 */
#ifndef DISTILC_BACKEND_GEMM_H
#define DISTILC_BACKEND_GEMM_H

#include <stdint.h>

#include "ir/diag.h"
#include "ir/precision.h"

typedef enum gemm_impl {
    GEMM_AUTO,     /* time both once per shape, keep the faster */
    GEMM_ONEDNN,
    GEMM_BLAS,
    GEMM_IMPL_COUNT
} gemm_impl;

typedef struct gemm_ctx gemm_ctx;

ir_status gemm_ctx_create(gemm_impl mode, gemm_ctx **out, ir_diag *d);
/* The library the trainer pins on this CPU (ir/cpu.h level, after
 * DISTILC_MAX_ISA): oneDNN with AVX-512 and up (its brgemm kernels, ~2x
 * OpenBLAS there), OpenBLAS below (oneDNN 2.6's AVX2 f32 gemm ran at half
 * OpenBLAS's speed on Zen 3). A rule, not a timing: runs that must repeat
 * bit for bit get the same library on the same kind of machine. */
gemm_impl gemm_impl_for_cpu(void);
void gemm_ctx_free(gemm_ctx *g);
const char *gemm_impl_name(gemm_impl i); /* "auto", "onednn", "openblas" */

ir_status gemm_f32(gemm_ctx *g, int transA, int transB, int64_t M, int64_t N,
                   int64_t K, float alpha, const float *A, int64_t lda,
                   const float *B, int64_t ldb, float beta, float *C,
                   int64_t ldc, ir_diag *d);

/* C[M,N] = op(A) · op(B) + bias[N] broadcast over the rows (C not read;
 * bias NULL = none). oneDNN adds the bias in its epilogue, which saves
 * the pre-fill pass and the read of C that beta = 1 would cost; OpenBLAS
 * (and the bf16 mode's fallbacks) pre-fill C with the bias, then beta = 1.
 * Shapes are timed and pinned as for gemm_f32 with beta = 1. */
ir_status gemm_f32_bias(gemm_ctx *g, int transA, int transB, int64_t M,
                        int64_t N, int64_t K, const float *A, int64_t lda,
                        const float *B, int64_t ldb, const float *bias,
                        float *C, int64_t ldc, ir_diag *d);

/* Batched products over two batch indices (i, j) < (n0, n1), e.g. (batch,
 * head) of attention: for each, C_ij = alpha·op(A_ij)·op(B_ij) + beta·C_ij
 * with X_ij = X + i·x0 + j·x1 (element strides; lda/ldb/ldc as above), so
 * heads are read in place from a packed q | k | v buffer. One oneDNN
 * strided batched matmul, fp32 whatever the precision mode (these are the
 * small attention products); when oneDNN refuses the views, OpenBLAS per
 * batch. */
typedef struct gemm_batch {
    int64_t n0, n1;       /* batch counts (1 = unused) */
    int64_t a0, a1;       /* strides of A per i, per j */
    int64_t b0, b1;
    int64_t c0, c1;
} gemm_batch;
ir_status gemm_f32_batched(gemm_ctx *g, const gemm_batch *bt, int transA,
                           int transB, int64_t M, int64_t N, int64_t K,
                           float alpha, const float *A, int64_t lda,
                           const float *B, int64_t ldb, float beta, float *C,
                           int64_t ldc, ir_diag *d);

/* The implementation used for a shape: GEMM_AUTO while not yet decided.
 * When timed, *ns_onednn / *ns_blas (if given) get the measured times. */
gemm_impl gemm_ctx_choice(const gemm_ctx *g, int transA, int transB,
                          int64_t M, int64_t N, int64_t K, double *ns_onednn,
                          double *ns_blas);
/* Pins a shape to one implementation (GEMM_AUTO forgets the choice). */
ir_status gemm_ctx_set_choice(gemm_ctx *g, int transA, int transB, int64_t M,
                              int64_t N, int64_t K, gemm_impl impl, ir_diag *d);

/* Running totals of the products a context has run (gemm_f32,
 * gemm_f32_bias, gemm_f32_batched; shape timing included): wall seconds
 * inside the calls and the FLOPs (2·M·N·K per product) they did, so a
 * caller can say how much of its time is matmul, and at what rate. Take
 * two readings and subtract for a span. */
typedef struct gemm_stats {
    double seconds, flops;
    int64_t calls;
} gemm_stats;
gemm_stats gemm_ctx_stats(const gemm_ctx *g);

/* Precision of the products (ir/precision.h), fp32 or bf16: the GEMMs
 * have no int8 mode. IR_PRECISION_BF16 rounds A and B to bf16 (nearest
 * even) in scratch owned by the context and runs oneDNN's bf16 matmul with
 * f32 accumulation and f32 C (alpha, beta as above); it always runs on
 * oneDNN whatever the implementation mode, and costs about 3 significant
 * digits (relative error ~2^-8 per product). An opt-in for speed: the
 * default is IR_PRECISION_FP32, the exact-reproduction mode. */
#define GEMM_PRECISION_LAST IR_PRECISION_BF16
/* IR_ERR_INPUT past GEMM_PRECISION_LAST; IR_ERR_UNSUPPORTED for bf16 on a
 * CPU without native bf16 matmul (AVX512-BF16 or AMX), where it would be
 * slower than fp32. */
ir_status gemm_ctx_set_precision(gemm_ctx *g, ir_precision p, ir_diag *d);
ir_precision gemm_ctx_precision(const gemm_ctx *g);

#endif

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

typedef enum gemm_impl {
    GEMM_AUTO,     /* time both once per shape, keep the faster */
    GEMM_ONEDNN,
    GEMM_BLAS,
    GEMM_IMPL_COUNT
} gemm_impl;

typedef struct gemm_ctx gemm_ctx;

ir_status gemm_ctx_create(gemm_impl mode, gemm_ctx **out, ir_diag *d);
void gemm_ctx_free(gemm_ctx *g);
const char *gemm_impl_name(gemm_impl i); /* "auto", "onednn", "openblas" */

ir_status gemm_f32(gemm_ctx *g, int transA, int transB, int64_t M, int64_t N,
                   int64_t K, float alpha, const float *A, int64_t lda,
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

#endif

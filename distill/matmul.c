/* matmul.c — the trainer's single GEMM routing point (train_matmul) and the
 * plain reference loop beside it (train_matmul_ref).
 *
 * Every matrix product of distill/ goes through train_matmul so that moving
 * to backend/gemm.h's gemm_f32 (oneDNN or OpenBLAS, whichever is faster per
 * shape) is a one-line change here; the reference loop stays as the oracle
 * the fast path is tested against.
 */
#include "distill/kernels.h"

void train_matmul_ref(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                      float alpha, const float *A, size_t lda, const float *B,
                      size_t ldb, float beta, float *C, size_t ldc)
{
    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            /* double accumulation: the oracle should be more exact than
             * whatever it is compared against */
            double acc = 0.0;
            for (size_t k = 0; k < K; k++) {
                float a = trans_a ? A[k * lda + i] : A[i * lda + k];
                float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
                acc += (double)a * (double)b;
            }
            float prev = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
            C[i * ldc + j] = prev + alpha * (float)acc;
        }
    }
}

void train_matmul(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                  float alpha, const float *A, size_t lda, const float *B,
                  size_t ldb, float beta, float *C, size_t ldc)
{
    /* TODO(gemm helper): backend/gemm.h's gemm_f32 needs a gemm_ctx and an
     * ir_diag; the switch is to give train_matmul a context argument (one
     * per trainer, e.g. held beside train_params) and call
     * gemm_f32(ctx, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta,
     * C, ldc, d) here. Until then the reference loop runs. */
    train_matmul_ref(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta,
                     C, ldc);
}

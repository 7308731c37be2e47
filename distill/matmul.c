/* matmul.c — the trainer's single GEMM routing point (train_matmul) and the
 * plain reference loop beside it (train_matmul_ref).
 *
 * Every matrix product of distill/ goes through train_matmul_ctx: with a
 * gemm_ctx (train_params.gemm, owned by the caller) it runs backend/gemm.h's
 * gemm_f32 (oneDNN or OpenBLAS, whichever is faster per shape); without one
 * the reference loop runs, which stays as the oracle the fast path is
 * tested against (tests/distill/test_trainer.c).
 */
#include "backend/gemm.h"
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

void train_matmul_ctx(struct gemm_ctx *g, int trans_a, int trans_b, size_t M,
                      size_t N, size_t K, float alpha, const float *A,
                      size_t lda, const float *B, size_t ldb, float beta,
                      float *C, size_t ldc)
{
    if (g && M && N && K) {
        ir_diag d;
        ir_diag_init(&d);
        if (gemm_f32(g, trans_a, trans_b, (int64_t)M, (int64_t)N, (int64_t)K,
                     alpha, A, (int64_t)lda, B, (int64_t)ldb, beta, C,
                     (int64_t)ldc, &d) == IR_OK)
            return;
        /* The kernels have no error channel, and a shape oneDNN refuses
         * must still be computed: fall through to the oracle. gemm_f32
         * fails before writing C, so beta's accumulation is intact. */
    }
    train_matmul_ref(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta,
                     C, ldc);
}

void train_matmul_bias_ctx(struct gemm_ctx *g, size_t M, size_t N, size_t K,
                           const float *A, size_t lda, const float *B,
                           size_t ldb, const float *bias, float *C,
                           size_t ldc)
{
    if (g && M && N && K) {
        ir_diag d;
        ir_diag_init(&d);
        if (gemm_f32_bias(g, 0, 0, (int64_t)M, (int64_t)N, (int64_t)K, A,
                          (int64_t)lda, B, (int64_t)ldb, bias, C, (int64_t)ldc,
                          &d) == IR_OK)
            return;
        /* failed before finishing C: recompute it whole below */
    }
    if (bias)
        for (size_t i = 0; i < M; i++)
            for (size_t o = 0; o < N; o++)
                C[i * ldc + o] = bias[o];
    train_matmul_ref(0, 0, M, N, K, 1.0f, A, lda, B, ldb, bias ? 1.0f : 0.0f,
                     C, ldc);
}

void train_matmul(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                  float alpha, const float *A, size_t lda, const float *B,
                  size_t ldb, float beta, float *C, size_t ldc)
{
    train_matmul_ctx(NULL, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                     beta, C, ldc);
}

/* test_gemm.c — gemm_f32 (backend/gemm.h) against a naive row-major sgemm
 * in double, for every transpose combination, odd sizes, padded leading
 * dimensions, alpha and beta, through oneDNN, OpenBLAS and the timed
 * automatic choice; plus pinning a choice and the error path.
 * Tolerance: f32 ≤ 1e-4 relative (max abs error over max |reference|). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/gemm.h"
#include "testutil.h"

static uint64_t rng_state = 2463534242ull;
static float frand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

static void ref_gemm(int ta, int tb, int64_t M, int64_t N, int64_t K,
                     float alpha, const float *A, int64_t lda, const float *B,
                     int64_t ldb, float beta, const float *C0, int64_t ldc,
                     double *out /* [M,N] dense */)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) *
                     (tb ? B[j * ldb + k] : B[k * ldb + j]);
            out[i * N + j] = alpha * s + (beta != 0 ? beta * C0[i * ldc + j] : 0);
        }
}

static void check_case(gemm_ctx *g, const char *mode, int ta, int tb,
                       int64_t M, int64_t N, int64_t K, int64_t pad,
                       float alpha, float beta)
{
    int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)((ta ? K : M) * lda), nb = (size_t)((tb ? N : K) * ldb),
           nc = (size_t)(M * ldc);
    float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4),
          *C0 = malloc(nc * 4);
    for (size_t i = 0; i < na; i++) A[i] = frand();
    for (size_t i = 0; i < nb; i++) B[i] = frand();
    for (size_t i = 0; i < nc; i++) C[i] = C0[i] = frand();
    double *ref = malloc((size_t)(M * N) * sizeof *ref);
    ref_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc, ref);
    ir_diag d; ir_diag_init(&d);
    ir_status s = gemm_f32(g, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    double maxd = 0, maxr = 1e-30;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double e = fabs(C[i * ldc + j] - ref[i * N + j]);
            if (!(e <= maxd)) maxd = isnan(e) ? INFINITY : e;
            if (fabs(ref[i * N + j]) > maxr) maxr = fabs(ref[i * N + j]);
        }
    int pad_ok = 1; /* padding columns of C are never written */
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = N; j < ldc; j++)
            pad_ok &= C[i * ldc + j] == C0[i * ldc + j];
    CHECK_MSG(maxd / maxr <= 1e-4 && pad_ok,
              "%s %c%c M=%lld N=%lld K=%lld pad=%lld alpha=%g beta=%g: rel err %g pad_ok=%d",
              mode, ta ? 'T' : 'N', tb ? 'T' : 'N', (long long)M, (long long)N,
              (long long)K, (long long)pad, alpha, beta, maxd / maxr, pad_ok);
    free(A); free(B); free(C); free(C0); free(ref);
}

static void check_all(gemm_impl mode)
{
    gemm_ctx *g;
    ir_diag d; ir_diag_init(&d);
    if (gemm_ctx_create(mode, &g, &d) != IR_OK) {
        CHECK_MSG(0, "%s", d.msg);
        return;
    }
    const char *name = gemm_impl_name(mode);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_case(g, name, ta, tb, 1, 1, 1, 0, 1, 0);
            check_case(g, name, ta, tb, 7, 13, 5, 3, 1, 0);
            check_case(g, name, ta, tb, 33, 17, 65, 0, 0.5f, 1);
            check_case(g, name, ta, tb, 64, 48, 31, 1, 1, 0.25f);
            check_case(g, name, ta, tb, 128, 96, 80, 0, -2, 0);
        }
    if (mode == GEMM_AUTO) {
        gemm_impl c = gemm_ctx_choice(g, 1, 0, 128, 96, 80, NULL, NULL);
        CHECK_MSG(c == GEMM_ONEDNN || c == GEMM_BLAS, "choice made after first call: %s",
                  gemm_impl_name(c));
        CHECK(gemm_ctx_choice(g, 0, 0, 3, 3, 3, NULL, NULL) == GEMM_AUTO);
        /* Pinning: a shape forced to BLAS stays there and stays correct. */
        CHECK(gemm_ctx_set_choice(g, 0, 1, 20, 30, 40, GEMM_BLAS, &d) == IR_OK);
        check_case(g, "pinned", 0, 1, 20, 30, 40, 0, 1, 0);
        CHECK(gemm_ctx_choice(g, 0, 1, 20, 30, 40, NULL, NULL) == GEMM_BLAS);
        /* K = 0: C = beta·C, no reads of A or B. */
        float c2[2] = {2, 4};
        CHECK(gemm_f32(g, 0, 0, 1, 2, 0, 1, NULL, 1, NULL, 2, 0.5f, c2, 2, &d) == IR_OK);
        CHECK(c2[0] == 1 && c2[1] == 2);
        /* Bad leading dimension. */
        float z[4] = {0};
        ir_status s = gemm_f32(g, 0, 0, 2, 2, 2, 1, z, 1, z, 2, 0, z, 2, &d);
        CHECK(s == IR_ERR_INPUT);
        CHECK_MSG(strstr(d.msg, "gemm NN M=2 N=2 K=2 lda=1") != NULL, "%s", d.msg);
    }
    gemm_ctx_free(g);
}

/* The running totals: every call counts, with 2·M·N·K FLOPs per product
 * (a batch of n0·n1 products counts them all), and time only grows. */
static void check_stats(void)
{
    ir_diag d;
    ir_diag_init(&d);
    gemm_ctx *g = NULL;
    CHECK(gemm_ctx_create(GEMM_ONEDNN, &g, &d) == IR_OK);
    if (!g)
        return;
    gemm_stats s0 = gemm_ctx_stats(g);
    CHECK(s0.calls == 0 && s0.flops == 0 && s0.seconds == 0);
    float a[6 * 4], b[4 * 5], bias[5] = {0}, c[2 * 3 * 6 * 5];
    for (int i = 0; i < 24; i++)
        a[i] = frand();
    for (int i = 0; i < 20; i++)
        b[i] = frand();
    CHECK(gemm_f32(g, 0, 0, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5, &d) == IR_OK);
    CHECK(gemm_f32_bias(g, 0, 0, 6, 5, 4, a, 4, b, 5, bias, c, 5, &d) == IR_OK);
    gemm_batch bt = {.n0 = 2, .n1 = 3, .c0 = 3 * 30, .c1 = 30};
    CHECK(gemm_f32_batched(g, &bt, 0, 0, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5, &d) == IR_OK);
    gemm_stats s1 = gemm_ctx_stats(g);
    CHECK_MSG(s1.calls == 3, "calls %lld", (long long)s1.calls);
    CHECK_MSG(s1.flops == (1 + 1 + 6) * 2.0 * 6 * 5 * 4, "flops %g", s1.flops);
    CHECK(s1.seconds > 0);
    gemm_ctx_free(g);
}

int main(void)
{
    check_stats();
    check_all(GEMM_ONEDNN);
    check_all(GEMM_BLAS);
    check_all(GEMM_AUTO);
    return test_finish("test_gemm");
}

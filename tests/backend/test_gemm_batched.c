/* test_gemm_batched.c — backend/gemm.h's additions for the trainer, each
 * against a plain double-accumulating loop:
 *   gemm_f32_batched  attention's (batch, head) products read in place
 *                     from a packed q | k | v buffer, every transpose
 *                     combination, beta 0 and 1 (max abs diff <= 1e-4 on
 *                     O(1) data with K <= 40);
 *   gemm_f32_bias     C = A·B + bias on oneDNN, OpenBLAS and automatic
 *                     (<= 1e-4);
 *   IR_PRECISION_BF16         bf16 operands, f32 accumulation: error within bf16's
 *                     rounding (<= 2e-2 of the result's scale), and beta
 *                     still accumulating;
 * and the errors: batch count 0, unknown precision names and values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/gemm.h"
#include "testutil.h"

static float *rnd(size_t n, unsigned seed)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (float)((seed >> 9) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

/* C = alpha op(A) op(B) + beta C for one product, row-major. */
static void ref_gemm(int ta, int tb, int64_t M, int64_t N, int64_t K,
                     float alpha, const float *A, int64_t lda, const float *B,
                     int64_t ldb, float beta, float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) *
                     (tb ? B[j * ldb + k] : B[k * ldb + j]);
            C[i * ldc + j] = (float)(alpha * s + (beta == 0.0f ? 0.0 : beta * C[i * ldc + j]));
        }
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* Every (ta, tb) on padded operands (lda, ldb, ldc wider than the rows,
 * batch strides with gaps), beta 0 and 1; then attention's in-place case:
 * out[b,:,h] = P[b,h] · v_h with v read from qkv [B,T,3C] and out written
 * at stride C. */
static void test_batched(gemm_ctx *g)
{
    enum { B = 3, T = 9, NH = 4, HS = 5, C = NH * HS, C3 = 3 * C };
    enum { N0 = 2, N1 = 3, M = 7, N = 6, K = 11 };
    ir_diag d;
    ir_diag_init(&d);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int64_t ar = ta ? K : M, ac = ta ? M : K, lda = ac + 3;
            int64_t br = tb ? N : K, bc = tb ? K : N, ldb = bc + 2;
            int64_t ldc = N + 4;
            gemm_batch bt = {N0, N1, 0, ar * lda + 5, 0, br * ldb + 1, 0,
                             M * ldc + 3};
            bt.a0 = N1 * bt.a1 + 7;
            bt.b0 = N1 * bt.b1 + 2;
            bt.c0 = N1 * bt.c1 + 1;
            size_t na = (size_t)(N0 * bt.a0), nb = (size_t)(N0 * bt.b0);
            size_t nc = (size_t)(N0 * bt.c0);
            float *A = rnd(na, 21 + ta), *Bm = rnd(nb, 31 + tb);
            float *got = rnd(nc, 3), *want = malloc(nc * sizeof *want);
            memcpy(want, got, nc * sizeof *want);
            float beta = (ta + tb) % 2 ? 1.0f : 0.0f;
            ir_status s = gemm_f32_batched(g, &bt, ta, tb, M, N, K, 0.5f, A,
                                           lda, Bm, ldb, beta, got, ldc, &d);
            CHECK_MSG(s == IR_OK, "%s", d.msg);
            for (int i = 0; i < N0; i++)
                for (int j = 0; j < N1; j++)
                    ref_gemm(ta, tb, M, N, K, 0.5f, A + i * bt.a0 + j * bt.a1,
                             lda, Bm + i * bt.b0 + j * bt.b1, ldb, beta,
                             want + i * bt.c0 + j * bt.c1, ldc);
            /* the gaps between batches must be untouched too */
            double e = max_diff(got, want, nc);
            printf("batched %c%c beta %g (%s): max diff %.3g\n", ta ? 'T' : 'N',
                   tb ? 'T' : 'N', (double)beta, "padded strides", e);
            CHECK_MSG(e <= 1e-4, "%d%d %g", ta, tb, e);
            free(A);
            free(Bm);
            free(got);
            free(want);
        }
    float *qkv = rnd((size_t)B * T * C3, 11);
    /* out[b,:,h] = P[b,h] · v written in place at stride C, beta 1 */
    float *P = rnd((size_t)B * NH * T * T, 5);
    float *got = rnd((size_t)B * T * C, 7), *want = malloc((size_t)B * T * C * sizeof *want);
    memcpy(want, got, (size_t)B * T * C * sizeof *want);
    gemm_batch bo = {B, NH, NH * T * T, T * T, (int64_t)T * C3, HS, (int64_t)T * C, HS};
    CHECK(gemm_f32_batched(g, &bo, 0, 0, T, HS, T, 1.0f, P, T, qkv + 2 * C, C3,
                           1.0f, got, C, &d) == IR_OK);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            ref_gemm(0, 0, T, HS, T, 1.0f, P + (b * NH + h) * T * T, T,
                     qkv + 2 * C + b * T * C3 + h * HS, C3, 1.0f,
                     want + b * T * C + h * HS, C);
    double e = max_diff(got, want, (size_t)B * T * C);
    printf("batched P·v into strided out: max diff %.3g\n", e);
    CHECK_MSG(e <= 1e-4, "%g", e);
    /* bad input: an empty batch is a caller's error */
    gemm_batch bad = bo;
    bad.n0 = 0;
    CHECK(gemm_f32_batched(g, &bad, 0, 0, T, HS, T, 1.0f, P, T, qkv, C3, 0.0f,
                           got, C, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "batch counts") != NULL);
    free(P);
    free(got);
    free(want);
    free(qkv);
}

static void test_bias(void)
{
    enum { M = 37, K = 29, N = 45 };
    float *A = rnd(M * K, 1), *Bm = rnd(K * N, 2), *bias = rnd(N, 3);
    float want[M * N], got[M * N];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
            want[i * N + j] = bias[j];
    ref_gemm(0, 0, M, N, K, 1.0f, A, K, Bm, N, 1.0f, want, N);
    const gemm_impl impls[] = {GEMM_ONEDNN, GEMM_BLAS, GEMM_AUTO};
    ir_diag d;
    ir_diag_init(&d);
    for (int k = 0; k < 3; k++) {
        gemm_ctx *g;
        CHECK(gemm_ctx_create(impls[k], &g, &d) == IR_OK);
        for (int rep = 0; rep < 2; rep++) { /* AUTO: undecided, then decided */
            for (int i = 0; i < M * N; i++)
                got[i] = NAN; /* C is not read */
            CHECK_MSG(gemm_f32_bias(g, 0, 0, M, N, K, A, K, Bm, N, bias, got, N,
                                    &d) == IR_OK, "%s", d.msg);
            double e = max_diff(got, want, M * N);
            printf("bias %s call %d: max diff %.3g\n", gemm_impl_name(impls[k]),
                   rep + 1, e);
            CHECK_MSG(e <= 1e-4, "%s %g", gemm_impl_name(impls[k]), e);
        }
        gemm_ctx_free(g);
    }
    free(A);
    free(Bm);
    free(bias);
}

static void test_bf16(void)
{
    enum { M = 64, K = 96, N = 48 };
    float *A = rnd(K * M, 4), *Bm = rnd(N * K, 5); /* stored transposed */
    float *C0 = rnd(M * N, 6);
    float want[M * N], got[M * N];
    memcpy(want, C0, sizeof want);
    memcpy(got, C0, sizeof got);
    ref_gemm(1, 1, M, N, K, 1.0f, A, M, Bm, K, 1.0f, want, N);
    ir_diag d;
    ir_diag_init(&d);
    gemm_ctx *g;
    CHECK(gemm_ctx_create(GEMM_ONEDNN, &g, &d) == IR_OK);
    CHECK(gemm_ctx_precision(g) == IR_PRECISION_FP32);
    ir_status s = gemm_ctx_set_precision(g, IR_PRECISION_BF16, &d);
    if (s == IR_ERR_UNSUPPORTED) {
        test_skip("bf16 (%s)", d.msg);
    } else {
        CHECK_MSG(s == IR_OK, "%s", d.msg);
        CHECK(gemm_f32(g, 1, 1, M, N, K, 1.0f, A, M, Bm, K, 1.0f, got, N, &d) == IR_OK);
        double e = max_diff(got, want, M * N), scale = 0;
        for (int i = 0; i < M * N; i++)
            scale = fmax(scale, fabs(want[i]));
        printf("bf16 TT beta 1: max diff %.3g of scale %.3g\n", e, scale);
        CHECK_MSG(e <= 2e-2 * scale, "%g", e);
        CHECK_MSG(e > 0, "bf16 gave exactly the f32 result: not rounding?");
        /* the bias route under bf16 pre-fills and accumulates */
        float bias[N];
        for (int j = 0; j < N; j++)
            bias[j] = (float)j;
        CHECK(gemm_f32_bias(g, 1, 1, M, N, K, A, M, Bm, K, bias, got, N, &d) == IR_OK);
        double eb = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                eb = fmax(eb, fabs(got[i * N + j] - (want[i * N + j] - C0[i * N + j] + bias[j])));
        CHECK_MSG(eb <= 2e-2 * scale, "bias %g", eb);
    }
    CHECK(gemm_ctx_set_precision(g, (ir_precision)7, &d) == IR_ERR_INPUT);
    gemm_ctx_free(g);
    ir_precision p;
    CHECK(ir_precision_parse("bf16", &p) && p == IR_PRECISION_BF16 &&
          p <= GEMM_PRECISION_LAST);
    CHECK(ir_precision_parse("fp32", &p) && p == IR_PRECISION_FP32);
    CHECK(!ir_precision_parse("fp16", &p));
    free(A);
    free(Bm);
    free(C0);
}

int main(void)
{
    ir_diag d;
    ir_diag_init(&d);
    const gemm_impl impls[] = {GEMM_ONEDNN, GEMM_BLAS};
    for (int k = 0; k < 2; k++) {
        gemm_ctx *g;
        CHECK(gemm_ctx_create(impls[k], &g, &d) == IR_OK);
        test_batched(g);
        gemm_ctx_free(g);
    }
    test_bias();
    if (test_part("bf16"))
        test_bf16();
    return test_finish("test_gemm_batched");
}

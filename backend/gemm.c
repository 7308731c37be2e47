/* gemm.c — the GEMM helper of gemm.h: one row-major sgemm over oneDNN's
 * matmul (through dnnl_matmul.c's strided views: a transpose is only a
 * stride swap) or OpenBLAS's cblas_sgemm, chosen per shape by timing. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "backend/dnnl_matmul.h"
#include "backend/gemm.h"

typedef struct gemm_choice {
    int ta, tb;
    int64_t m, n, k;
    gemm_impl impl;
    double ns_onednn, ns_blas;
} gemm_choice;

struct gemm_ctx {
    gemm_impl mode;
    onednn_ctx *dnnl;
    gemm_choice *choices;
    size_t n_choices, cap_choices;
};

const char *gemm_impl_name(gemm_impl i)
{
    static const char *const names[GEMM_IMPL_COUNT] = {"auto", "onednn", "openblas"};
    return (unsigned)i < GEMM_IMPL_COUNT ? names[i] : "?";
}

ir_status gemm_ctx_create(gemm_impl mode, gemm_ctx **out, ir_diag *d)
{
    *out = NULL;
    if ((unsigned)mode >= GEMM_IMPL_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "gemm: unknown implementation %d", (int)mode);
    gemm_ctx *g = calloc(1, sizeof *g);
    if (!g)
        return ir_diag_set(d, IR_ERR_NOMEM, "gemm: out of memory");
    g->mode = mode;
    ir_status s = onednn_ctx_create(&g->dnnl, d);
    if (s != IR_OK) {
        free(g);
        return s;
    }
    *out = g;
    return IR_OK;
}

void gemm_ctx_free(gemm_ctx *g)
{
    if (!g)
        return;
    onednn_ctx_free(g->dnnl);
    free(g->choices);
    free(g);
}

static gemm_choice *choice_find(const gemm_ctx *g, int ta, int tb, int64_t m,
                                int64_t n, int64_t k)
{
    for (size_t i = 0; i < g->n_choices; i++) {
        gemm_choice *c = &g->choices[i];
        if (c->ta == ta && c->tb == tb && c->m == m && c->n == n && c->k == k)
            return c;
    }
    return NULL;
}

static gemm_choice *choice_add(gemm_ctx *g, int ta, int tb, int64_t m,
                               int64_t n, int64_t k)
{
    if (g->n_choices == g->cap_choices) {
        size_t cap = g->cap_choices ? 2 * g->cap_choices : 16;
        gemm_choice *nc = realloc(g->choices, cap * sizeof *nc);
        if (!nc)
            return NULL;
        g->choices = nc;
        g->cap_choices = cap;
    }
    gemm_choice *c = &g->choices[g->n_choices++];
    memset(c, 0, sizeof *c);
    c->ta = ta; c->tb = tb; c->m = m; c->n = n; c->k = k;
    c->impl = GEMM_AUTO;
    return c;
}

gemm_impl gemm_ctx_choice(const gemm_ctx *g, int transA, int transB,
                          int64_t M, int64_t N, int64_t K, double *ns_onednn,
                          double *ns_blas)
{
    gemm_choice *c = choice_find(g, !!transA, !!transB, M, N, K);
    if (ns_onednn)
        *ns_onednn = c ? c->ns_onednn : 0;
    if (ns_blas)
        *ns_blas = c ? c->ns_blas : 0;
    return c ? c->impl : GEMM_AUTO;
}

ir_status gemm_ctx_set_choice(gemm_ctx *g, int transA, int transB, int64_t M,
                              int64_t N, int64_t K, gemm_impl impl, ir_diag *d)
{
    if ((unsigned)impl >= GEMM_IMPL_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "gemm: unknown implementation %d", (int)impl);
    gemm_choice *c = choice_find(g, !!transA, !!transB, M, N, K);
    if (!c && !(c = choice_add(g, !!transA, !!transB, M, N, K)))
        return ir_diag_set(d, IR_ERR_NOMEM, "gemm: out of memory");
    c->impl = impl;
    return IR_OK;
}

static ir_status run_onednn(gemm_ctx *g, int ta, int tb, int64_t M, int64_t N,
                            int64_t K, float alpha, const float *A, int64_t lda,
                            const float *B, int64_t ldb, float beta, float *C,
                            int64_t ldc, ir_diag *d)
{
    onednn_matmul_desc md = {.dt = ONEDNN_F32, .alpha = alpha, .beta = beta};
    /* alpha == 0 would read as 1 in the desc; the caller handles it. */
    md.a = (onednn_view){2, {M, K}, {ta ? 1 : lda, ta ? lda : 1}};
    md.b = (onednn_view){2, {K, N}, {tb ? 1 : ldb, tb ? ldb : 1}};
    md.c = (onednn_view){2, {M, N}, {ldc, 1}};
    onednn_matmul_args ma = {A, B, NULL, C, NULL};
    return onednn_matmul_run(g->dnnl, &md, &ma, d);
}

static void run_blas(int ta, int tb, int64_t M, int64_t N, int64_t K,
                     float alpha, const float *A, int64_t lda, const float *B,
                     int64_t ldb, float beta, float *C, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                tb ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N,
                (blasint)K, alpha, A, (blasint)lda, B, (blasint)ldb, beta, C,
                (blasint)ldc);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Times both on a scratch C (same ldc so oneDNN's cached primitive is the
 * one the real call uses): one warm-up each, then the best of two. */
static ir_status decide(gemm_ctx *g, gemm_choice *c, float alpha,
                        const float *A, int64_t lda, const float *B,
                        int64_t ldb, float beta, int64_t ldc, ir_diag *d)
{
    size_t len = (size_t)(c->m - 1) * (size_t)ldc + (size_t)c->n;
    float *scratch = calloc(len, sizeof *scratch);
    if (!scratch)
        return ir_diag_set(d, IR_ERR_NOMEM, "gemm [%lldx%lld]·[%lldx%lld]: out of memory timing",
                           (long long)c->m, (long long)c->k, (long long)c->k,
                           (long long)c->n);
    double best[2] = {1e300, 1e300};
    ir_status s = IR_OK;
    for (int rep = 0; rep < 3 && s == IR_OK; rep++) {
        double t0 = now_ns();
        s = run_onednn(g, c->ta, c->tb, c->m, c->n, c->k, alpha, A, lda, B, ldb,
                       beta, scratch, ldc, d);
        double t1 = now_ns();
        run_blas(c->ta, c->tb, c->m, c->n, c->k, alpha, A, lda, B, ldb, beta,
                 scratch, ldc);
        double t2 = now_ns();
        if (rep > 0) {
            if (t1 - t0 < best[0]) best[0] = t1 - t0;
            if (t2 - t1 < best[1]) best[1] = t2 - t1;
        }
    }
    free(scratch);
    if (s != IR_OK) { /* oneDNN cannot do it: BLAS can do every shape */
        c->impl = GEMM_BLAS;
        return IR_OK;
    }
    c->ns_onednn = best[0];
    c->ns_blas = best[1];
    c->impl = best[0] <= best[1] ? GEMM_ONEDNN : GEMM_BLAS;
    return IR_OK;
}

ir_status gemm_f32(gemm_ctx *g, int transA, int transB, int64_t M, int64_t N,
                   int64_t K, float alpha, const float *A, int64_t lda,
                   const float *B, int64_t ldb, float beta, float *C,
                   int64_t ldc, ir_diag *d)
{
    int ta = !!transA, tb = !!transB;
    if (M < 0 || N < 0 || K < 0 || lda < (ta ? M : K) || ldb < (tb ? K : N) ||
        ldc < N || lda < 1 || ldb < 1 || ldc < 1)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "gemm %s%s M=%lld N=%lld K=%lld lda=%lld ldb=%lld "
                           "ldc=%lld: sizes negative or leading dims too small",
                           ta ? "T" : "N", tb ? "T" : "N", (long long)M,
                           (long long)N, (long long)K, (long long)lda,
                           (long long)ldb, (long long)ldc);
    if (M == 0 || N == 0)
        return IR_OK;
    if (K == 0 || alpha == 0.0f) { /* C = beta·C; BLAS reads no A/B here */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return IR_OK;
    }
    if (!A || !B || !C)
        return ir_diag_set(d, IR_ERR_INPUT, "gemm M=%lld N=%lld K=%lld: NULL buffer",
                           (long long)M, (long long)N, (long long)K);
    int blas_ok = M <= INT_MAX && N <= INT_MAX && K <= INT_MAX &&
                  lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX;
    gemm_impl impl = g->mode;
    if (impl == GEMM_AUTO) {
        gemm_choice *c = choice_find(g, ta, tb, M, N, K);
        if (!c || c->impl == GEMM_AUTO) {
            if (!c && !(c = choice_add(g, ta, tb, M, N, K)))
                return ir_diag_set(d, IR_ERR_NOMEM, "gemm: out of memory");
            if (!blas_ok) {
                c->impl = GEMM_ONEDNN;
            } else {
                ir_status s = decide(g, c, alpha, A, lda, B, ldb, beta, ldc, d);
                if (s != IR_OK)
                    return s;
            }
        }
        impl = c->impl;
    }
    if (impl == GEMM_BLAS && blas_ok) {
        run_blas(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return IR_OK;
    }
    return run_onednn(g, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, d);
}

/* gemm.c — the GEMM helper of gemm.h: one row-major sgemm over oneDNN's
 * matmul (through dnnl_matmul.c's strided views: a transpose is only a
 * stride swap) or OpenBLAS's cblas_sgemm, chosen per shape by timing; and
 * the opt-in bf16 mode, which rounds both operands to bf16 in the
 * context's scratch and runs oneDNN's bf16 matmul. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "backend/dnnl_matmul.h"
#include "backend/gemm.h"
#include "ir/clock.h"
#include "ir/cpu.h"

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
    ir_precision prec;
    uint16_t *bf;            /* bf16 copies of A then B (IR_PRECISION_BF16) */
    size_t cap_bf;
    gemm_stats stats;        /* running totals, gemm_ctx_stats */
};

gemm_stats gemm_ctx_stats(const gemm_ctx *g) { return g->stats; }

/* One finished call into the totals (failed calls count their time too:
 * it was spent). */
static void stats_add(gemm_ctx *g, double t0, int64_t batch, int64_t M,
                      int64_t N, int64_t K)
{
    g->stats.seconds += ir_clock_wall_s() - t0;
    if (M > 0 && N > 0 && K > 0 && batch > 0)
        g->stats.flops += 2.0 * (double)batch * (double)M * (double)N * (double)K;
    g->stats.calls++;
}

const char *gemm_impl_name(gemm_impl i)
{
    static const char *const names[GEMM_IMPL_COUNT] = {"auto", "onednn", "openblas"};
    return (unsigned)i < GEMM_IMPL_COUNT ? names[i] : "?";
}

gemm_impl gemm_impl_for_cpu(void)
{
    return cpu_level_get() >= CPU_LEVEL_AVX512 ? GEMM_ONEDNN : GEMM_BLAS;
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
    free(g->bf);
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

static ir_status run_onednn_b(gemm_ctx *g, int ta, int tb, int64_t M,
                              int64_t N, int64_t K, float alpha,
                              const float *A, int64_t lda, const float *B,
                              int64_t ldb, const float *bias, float beta,
                              float *C, int64_t ldc, ir_diag *d)
{
    onednn_matmul_desc md = {.dt = ONEDNN_F32, .alpha = alpha, .beta = beta,
                             .has_bias = bias != NULL};
    /* alpha == 0 would read as 1 in the desc; the caller handles it. */
    md.a = (onednn_view){2, {M, K}, {ta ? 1 : lda, ta ? lda : 1}};
    md.b = (onednn_view){2, {K, N}, {tb ? 1 : ldb, tb ? ldb : 1}};
    md.c = (onednn_view){2, {M, N}, {ldc, 1}};
    onednn_matmul_args ma = {A, B, bias, C, NULL};
    return onednn_matmul_run(g->dnnl, &md, &ma, d);
}

static ir_status run_onednn(gemm_ctx *g, int ta, int tb, int64_t M, int64_t N,
                            int64_t K, float alpha, const float *A, int64_t lda,
                            const float *B, int64_t ldb, float beta, float *C,
                            int64_t ldc, ir_diag *d)
{
    return run_onednn_b(g, ta, tb, M, N, K, alpha, A, lda, B, ldb, NULL, beta,
                        C, ldc, d);
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
        double t0 = (1e9 * ir_clock_wall_s());
        s = run_onednn(g, c->ta, c->tb, c->m, c->n, c->k, alpha, A, lda, B, ldb,
                       beta, scratch, ldc, d);
        double t1 = (1e9 * ir_clock_wall_s());
        run_blas(c->ta, c->tb, c->m, c->n, c->k, alpha, A, lda, B, ldb, beta,
                 scratch, ldc);
        double t2 = (1e9 * ir_clock_wall_s());
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

ir_status gemm_ctx_set_precision(gemm_ctx *g, ir_precision p, ir_diag *d)
{
    if ((unsigned)p > GEMM_PRECISION_LAST)
        return ir_diag_set(d, IR_ERR_INPUT, "gemm: unknown precision %d", (int)p);
    if (p == IR_PRECISION_BF16 && !onednn_has_bf16(g->dnnl))
        return ir_diag_set(d, IR_ERR_UNSUPPORTED, "gemm: bf16 needs a CPU with "
                           "native bf16 matmul (AVX512-BF16 or AMX); this one "
                           "has none (use fp32)");
    g->prec = p;
    return IR_OK;
}

ir_precision gemm_ctx_precision(const gemm_ctx *g) { return g->prec; }

/* f32 -> bf16, round to nearest even (NaN stays a quiet NaN). */
static inline uint16_t bf16_round(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* Copies the rows x cols block at src (row stride ld) densely to dst. */
static void bf16_pack(uint16_t *dst, const float *src, int64_t rows,
                      int64_t cols, int64_t ld)
{
#pragma omp parallel for schedule(static) if (rows * cols > 65536)
    for (int64_t i = 0; i < rows; i++) {
        const float *s = src + i * ld;
        uint16_t *o = dst + i * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; j++)
            o[j] = bf16_round(s[j]);
    }
}

/* The bf16 mode: each operand is packed in its stored orientation (a
 * transpose stays a stride swap in the view), then one bf16 matmul. */
static ir_status run_onednn_bf16(gemm_ctx *g, int ta, int tb, int64_t M,
                                 int64_t N, int64_t K, float alpha,
                                 const float *A, int64_t lda, const float *B,
                                 int64_t ldb, float beta, float *C,
                                 int64_t ldc, ir_diag *d)
{
    int64_t ar = ta ? K : M, ac = ta ? M : K;
    int64_t br = tb ? N : K, bc = tb ? K : N;
    size_t na = (size_t)(ar * ac), need = na + (size_t)(br * bc);
    if (need > g->cap_bf) {
        uint16_t *nb = malloc(need * sizeof *nb);
        if (!nb)
            return ir_diag_set(d, IR_ERR_NOMEM, "gemm bf16 M=%lld N=%lld K=%lld: "
                               "out of memory for the bf16 operands",
                               (long long)M, (long long)N, (long long)K);
        free(g->bf);
        g->bf = nb;
        g->cap_bf = need;
    }
    uint16_t *a16 = g->bf, *b16 = g->bf + na;
    bf16_pack(a16, A, ar, ac, lda);
    bf16_pack(b16, B, br, bc, ldb);
    onednn_matmul_desc md = {.dt = ONEDNN_BF16, .alpha = alpha, .beta = beta};
    md.a = (onednn_view){2, {M, K}, {ta ? 1 : ac, ta ? ac : 1}};
    md.b = (onednn_view){2, {K, N}, {tb ? 1 : bc, tb ? bc : 1}};
    md.c = (onednn_view){2, {M, N}, {ldc, 1}};
    onednn_matmul_args ma = {a16, b16, NULL, C, NULL};
    return onednn_matmul_run(g->dnnl, &md, &ma, d);
}

/* gemm_f32 without the bookkeeping (gemm_f32_bias calls it too). */
static ir_status gemm_f32_core(gemm_ctx *g, int transA, int transB, int64_t M,
                               int64_t N, int64_t K, float alpha,
                               const float *A, int64_t lda, const float *B,
                               int64_t ldb, float beta, float *C, int64_t ldc,
                               ir_diag *d)
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
    if (g->prec == IR_PRECISION_BF16)
        return run_onednn_bf16(g, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta,
                               C, ldc, d);
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

/* The bias pre-fill the paths without a bias epilogue use. */
static void fill_bias(float *C, int64_t M, int64_t N, int64_t ldc,
                      const float *bias)
{
#pragma omp parallel for schedule(static) if (M * N > 65536)
    for (int64_t i = 0; i < M; i++)
        memcpy(C + i * ldc, bias, (size_t)N * sizeof *C);
}

static ir_status gemm_f32_bias_core(gemm_ctx *g, int transA, int transB,
                                    int64_t M, int64_t N, int64_t K,
                                    const float *A, int64_t lda,
                                    const float *B, int64_t ldb,
                                    const float *bias, float *C, int64_t ldc,
                                    ir_diag *d)
{
    if (!bias)
        return gemm_f32_core(g, transA, transB, M, N, K, 1.0f, A, lda, B, ldb,
                             0.0f, C, ldc, d);
    int ta = !!transA, tb = !!transB;
    gemm_impl impl = g->mode;
    if (impl == GEMM_AUTO)
        impl = gemm_ctx_choice(g, ta, tb, M, N, K, NULL, NULL);
    /* oneDNN's epilogue needs a decided f32 shape with real operands; all
     * else (BLAS, bf16, undecided, degenerate) takes the pre-fill route
     * through gemm_f32, which validates and times as usual. */
    if (impl == GEMM_ONEDNN && g->prec == IR_PRECISION_FP32 && M > 0 && N > 0 &&
        K > 0 && A && B && C && lda >= (ta ? M : K) && ldb >= (tb ? K : N) &&
        ldc >= N && lda >= 1 && ldb >= 1) {
        ir_diag dd;
        ir_diag_init(&dd);
        if (run_onednn_b(g, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, bias, 0.0f,
                         C, ldc, &dd) == IR_OK)
            return IR_OK;
    }
    if (M > 0 && N > 0 && C && ldc >= N)
        fill_bias(C, M, N, ldc, bias);
    return gemm_f32_core(g, transA, transB, M, N, K, 1.0f, A, lda, B, ldb, 1.0f,
                         C, ldc, d);
}

static ir_status gemm_f32_batched_core(gemm_ctx *g, const gemm_batch *bt,
                                       int transA, int transB, int64_t M,
                                       int64_t N, int64_t K, float alpha,
                                       const float *A, int64_t lda,
                                       const float *B, int64_t ldb, float beta,
                                       float *C, int64_t ldc, ir_diag *d)
{
    int ta = !!transA, tb = !!transB;
    if (bt->n0 < 1 || bt->n1 < 1)
        return ir_diag_set(d, IR_ERR_INPUT, "gemm batched: batch counts %lld x "
                           "%lld must be >= 1", (long long)bt->n0,
                           (long long)bt->n1);
    if (M < 0 || N < 0 || K < 0 || lda < (ta ? M : K) || ldb < (tb ? K : N) ||
        ldc < N || lda < 1 || ldb < 1 || ldc < 1)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "gemm batched %s%s M=%lld N=%lld K=%lld lda=%lld "
                           "ldb=%lld ldc=%lld: sizes negative or leading dims "
                           "too small", ta ? "T" : "N", tb ? "T" : "N",
                           (long long)M, (long long)N, (long long)K,
                           (long long)lda, (long long)ldb, (long long)ldc);
    if (M == 0 || N == 0)
        return IR_OK;
    if (!C)
        return ir_diag_set(d, IR_ERR_INPUT, "gemm batched M=%lld N=%lld: NULL "
                           "output", (long long)M, (long long)N);
    if (K > 0 && alpha != 0.0f && A && B) {
        onednn_matmul_desc md = {.dt = ONEDNN_F32, .alpha = alpha, .beta = beta};
        md.a = (onednn_view){4, {bt->n0, bt->n1, M, K},
                             {bt->a0, bt->a1, ta ? 1 : lda, ta ? lda : 1}};
        md.b = (onednn_view){4, {bt->n0, bt->n1, K, N},
                             {bt->b0, bt->b1, tb ? 1 : ldb, tb ? ldb : 1}};
        md.c = (onednn_view){4, {bt->n0, bt->n1, M, N}, {bt->c0, bt->c1, ldc, 1}};
        onednn_matmul_args ma = {A, B, NULL, C, NULL};
        ir_diag dd;
        ir_diag_init(&dd);
        if (onednn_matmul_run(g->dnnl, &md, &ma, &dd) == IR_OK)
            return IR_OK;
    }
    /* OpenBLAS one product at a time (also the K = 0 / alpha = 0
     * scaling): it takes every view, so a caller that got past the first
     * product never sees a half-done result */
    if (M > INT_MAX || N > INT_MAX || K > INT_MAX || lda > INT_MAX ||
        ldb > INT_MAX || ldc > INT_MAX)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED, "gemm batched M=%lld N=%lld "
                           "K=%lld: too large for BLAS and refused by oneDNN",
                           (long long)M, (long long)N, (long long)K);
    if (K > 0 && alpha != 0.0f && (!A || !B))
        return ir_diag_set(d, IR_ERR_INPUT, "gemm batched: NULL operand");
    for (int64_t i = 0; i < bt->n0; i++)
        for (int64_t j = 0; j < bt->n1; j++)
            run_blas(ta, tb, M, N, K, alpha,
                     A ? A + i * bt->a0 + j * bt->a1 : NULL, lda,
                     B ? B + i * bt->b0 + j * bt->b1 : NULL, ldb, beta,
                     C + i * bt->c0 + j * bt->c1, ldc);
    return IR_OK;
}

/* ---- the public calls: the cores above, timed into the totals ---------- */

ir_status gemm_f32(gemm_ctx *g, int transA, int transB, int64_t M, int64_t N,
                   int64_t K, float alpha, const float *A, int64_t lda,
                   const float *B, int64_t ldb, float beta, float *C,
                   int64_t ldc, ir_diag *d)
{
    double t0 = ir_clock_wall_s();
    ir_status s = gemm_f32_core(g, transA, transB, M, N, K, alpha, A, lda, B,
                                ldb, beta, C, ldc, d);
    stats_add(g, t0, 1, M, N, K);
    return s;
}

ir_status gemm_f32_bias(gemm_ctx *g, int transA, int transB, int64_t M,
                        int64_t N, int64_t K, const float *A, int64_t lda,
                        const float *B, int64_t ldb, const float *bias,
                        float *C, int64_t ldc, ir_diag *d)
{
    double t0 = ir_clock_wall_s();
    ir_status s = gemm_f32_bias_core(g, transA, transB, M, N, K, A, lda, B, ldb,
                                     bias, C, ldc, d);
    stats_add(g, t0, 1, M, N, K);
    return s;
}

ir_status gemm_f32_batched(gemm_ctx *g, const gemm_batch *bt, int transA,
                           int transB, int64_t M, int64_t N, int64_t K,
                           float alpha, const float *A, int64_t lda,
                           const float *B, int64_t ldb, float beta, float *C,
                           int64_t ldc, ir_diag *d)
{
    double t0 = ir_clock_wall_s();
    ir_status s = gemm_f32_batched_core(g, bt, transA, transB, M, N, K, alpha,
                                        A, lda, B, ldb, beta, C, ldc, d);
    stats_add(g, t0, bt->n0 * bt->n1, M, N, K);
    return s;
}

/* test_dnnl_matmul.c — the oneDNN matmul wrappers against a naive loop in
 * double: plain and transposed strided views, bias, every activation, sum
 * (beta) and binary-add residuals, attention as batched matmuls over strided
 * views of a packed [B,S,3H] tensor, the linear layer with packed weights at
 * several M, bf16, and the error paths. Then the runtime's linear layer
 * (backend/rt_linear.h) with each fp32 kernel it can pick (oneDNN packed,
 * oneDNN plain, OpenBLAS + the fused C epilogue) against the same
 * reference and against each other, and the kernel rule. Run natively and
 * with DISTILC_MAX_ISA=avx2 (where the rule picks OpenBLAS).
 *
 * Tolerances: f32 ≤ 1e-4 relative (max abs error over max |reference|);
 * bf16 ≤ 1e-2 relative against a reference fed the same bf16-rounded
 * inputs: products are exact in f32, what is left is f32 accumulation in a
 * different order and the bf16 kernels' own blocking; 1e-2 leaves room for
 * implementations that round partial sums. rt_linear kernels against each
 * other: ≤ 2e-5 relative (sums in a different order, ~1e-6 at K = 768,
 * plus the epilogue's activations, ~2e-7 relative). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "backend/dnnl_matmul.h"
#include "backend/rt_linear.h"
#include "ir/ir.h"
#include "testutil.h"

static uint64_t rng_state = 88172645463325252ull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}
static float *rand_buf(size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

/* Element offset of index idx[] in a view, with broadcast (dim 1 -> 0). */
static int64_t view_off(const onednn_view *v, const int64_t *idx)
{
    int64_t o = 0;
    for (int i = 0; i < v->rank; i++)
        o += (v->dims[i] == 1 ? 0 : idx[i]) * v->strides[i];
    return o;
}

/* Reference of desc on f32 buffers; c_old holds C before the call. */
static void matmul_ref(const onednn_matmul_desc *m, const float *a,
                       const float *b, const float *bias, const float *c_old,
                       const float *r, double *out /* dense C dims */)
{
    int rk = m->c.rank;
    int64_t M = m->c.dims[rk - 2], N = m->c.dims[rk - 1], K = m->a.dims[rk - 1];
    int64_t nb = 1;
    for (int i = 0; i < rk - 2; i++)
        nb *= m->c.dims[i];
    float alpha = m->alpha == 0 ? 1 : m->alpha;
    for (int64_t bi = 0; bi < nb; bi++) {
        int64_t idx[4] = {0};
        int64_t rem = bi;
        for (int i = rk - 3; i >= 0; i--) {
            idx[i] = rem % m->c.dims[i];
            rem /= m->c.dims[i];
        }
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++) {
                    idx[rk - 2] = i; idx[rk - 1] = k;
                    double av = a[view_off(&m->a, idx)];
                    idx[rk - 2] = k; idx[rk - 1] = j;
                    s += av * b[view_off(&m->b, idx)];
                }
                if (m->has_bias)
                    s += bias[j];
                s *= alpha;
                s = ir_act_ref(m->act, s);
                idx[rk - 2] = i; idx[rk - 1] = j;
                if (m->beta != 0)
                    s += m->beta * c_old[view_off(&m->c, idx)];
                if (m->has_r)
                    s += r[view_off(&m->r, idx)];
                out[(bi * M + i) * N + j] = s;
            }
    }
}

/* Max abs error over max |ref|, reading got through the C view. */
static double rel_err(const onednn_matmul_desc *m, const float *got, const double *ref)
{
    int rk = m->c.rank;
    int64_t n = 1;
    for (int i = 0; i < rk; i++)
        n *= m->c.dims[i];
    double maxd = 0, maxr = 1e-30;
    for (int64_t e = 0; e < n; e++) {
        int64_t idx[4], rem = e;
        for (int i = rk - 1; i >= 0; i--) {
            idx[i] = rem % m->c.dims[i];
            rem /= m->c.dims[i];
        }
        double dd = fabs(got[view_off(&m->c, idx)] - ref[e]);
        if (dd > maxd || isnan(dd))
            maxd = isnan(dd) ? INFINITY : dd;
        if (fabs(ref[e]) > maxr)
            maxr = fabs(ref[e]);
    }
    return maxd / maxr;
}

/* 2-D case: C[M,N] = act(alpha A·B + bias) + beta C + R, A and B
 * possibly transposed views. */
static void check_2d(onednn_ctx *ctx, int64_t M, int64_t N, int64_t K, int ta,
                     int tb, int bias, ir_act act, float alpha, float beta,
                     int resid)
{
    float *a = rand_buf((size_t)(M * K)), *b = rand_buf((size_t)(K * N));
    float *bs = rand_buf((size_t)N), *c = rand_buf((size_t)(M * N));
    float *r = rand_buf((size_t)(M * N)), *c_old = malloc((size_t)(M * N) * 4);
    memcpy(c_old, c, (size_t)(M * N) * 4);
    onednn_matmul_desc md = {.dt = ONEDNN_F32, .has_bias = bias, .alpha = alpha,
                             .act = act, .beta = beta, .has_r = resid};
    md.a = (onednn_view){2, {M, K}, {ta ? 1 : K, ta ? M : 1}};
    md.b = (onednn_view){2, {K, N}, {tb ? 1 : N, tb ? K : 1}};
    md.c = onednn_view_dense(2, (int64_t[]){M, N});
    md.r = onednn_view_dense(2, (int64_t[]){M, N});
    double *ref = malloc((size_t)(M * N) * sizeof *ref);
    matmul_ref(&md, a, b, bs, c_old, r, ref);
    onednn_matmul_args ma = {a, b, bs, c, r};
    ir_diag d; ir_diag_init(&d);
    ir_status s = onednn_matmul_run(ctx, &md, &ma, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    double err = rel_err(&md, c, ref);
    CHECK_MSG(err <= 1e-4, "%lldx%lldx%lld ta=%d tb=%d act=%s beta=%g: rel err %g",
              (long long)M, (long long)N, (long long)K, ta, tb,
              ir_act_form_name(act), beta, err);
    free(a); free(b); free(bs); free(c); free(r); free(c_old); free(ref);
}

/* Attention over packed qkv[B,S,3H]: scores = alpha Q·Kᵀ + mask[B,1,1,S],
 * then ctx[B,S,H] (as a [B,h,S,dh] view) = P·V, all strided, no copies. */
static void check_attention(onednn_ctx *ctx, int64_t B, int64_t S, int64_t h,
                            int64_t dh)
{
    int64_t H = h * dh;
    float *qkv = rand_buf((size_t)(B * S * 3 * H));
    float *mask = rand_buf((size_t)(B * S));
    float *scores = malloc((size_t)(B * h * S * S) * 4);
    float *out = malloc((size_t)(B * S * H) * 4);
    onednn_matmul_desc qk = {.dt = ONEDNN_F32, .alpha = 1.0f / sqrtf((float)dh),
                             .has_r = 1};
    qk.a = (onednn_view){4, {B, h, S, dh}, {S * 3 * H, dh, 3 * H, 1}};
    qk.b = (onednn_view){4, {B, h, dh, S}, {S * 3 * H, dh, 1, 3 * H}};
    qk.c = onednn_view_dense(4, (int64_t[]){B, h, S, S});
    qk.r = onednn_view_dense(4, (int64_t[]){B, 1, 1, S});
    double *ref = malloc((size_t)(B * h * S * S) * sizeof *ref);
    matmul_ref(&qk, qkv, qkv + H, NULL, NULL, mask, ref);
    ir_diag d; ir_diag_init(&d);
    ir_status s = onednn_matmul_run(ctx, &qk, &(onednn_matmul_args){qkv, qkv + H, NULL, scores, mask}, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    double err = rel_err(&qk, scores, ref);
    CHECK_MSG(err <= 1e-4, "attention QK B=%lld S=%lld h=%lld dh=%lld: rel err %g",
              (long long)B, (long long)S, (long long)h, (long long)dh, err);

    onednn_matmul_desc pv = {.dt = ONEDNN_F32};
    pv.a = onednn_view_dense(4, (int64_t[]){B, h, S, S});
    pv.b = (onednn_view){4, {B, h, S, dh}, {S * 3 * H, dh, 3 * H, 1}};
    pv.c = (onednn_view){4, {B, h, S, dh}, {S * H, dh, H, 1}};
    double *ref2 = malloc((size_t)(B * S * H) * sizeof *ref2);
    matmul_ref(&pv, scores, qkv + 2 * H, NULL, NULL, NULL, ref2);
    s = onednn_matmul_run(ctx, &pv, &(onednn_matmul_args){scores, qkv + 2 * H, NULL, out, NULL}, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    err = rel_err(&pv, out, ref2);
    CHECK_MSG(err <= 1e-4, "attention PV: rel err %g", err);
    free(qkv); free(mask); free(scores); free(out); free(ref); free(ref2);
}

/* Batch broadcast: A [B,M,K] times one B [1,K,N] (ONNX MatMul-13 rule). */
static void check_broadcast(onednn_ctx *ctx)
{
    int64_t Bn = 3, M = 5, K = 7, N = 9;
    float *a = rand_buf((size_t)(Bn * M * K)), *b = rand_buf((size_t)(K * N));
    float *c = malloc((size_t)(Bn * M * N) * 4);
    onednn_matmul_desc md = {.dt = ONEDNN_F32, .act = IR_ACT_RELU};
    md.a = onednn_view_dense(3, (int64_t[]){Bn, M, K});
    md.b = onednn_view_dense(3, (int64_t[]){1, K, N});
    md.c = onednn_view_dense(3, (int64_t[]){Bn, M, N});
    double ref[3 * 5 * 9];
    matmul_ref(&md, a, b, NULL, NULL, NULL, ref);
    ir_diag d; ir_diag_init(&d);
    CHECK_MSG(onednn_matmul_run(ctx, &md, &(onednn_matmul_args){a, b, NULL, c, NULL}, &d) == IR_OK, "%s", d.msg);
    CHECK(rel_err(&md, c, ref) <= 1e-4);
    free(a); free(b); free(c);
}

static void round_bf16(float *p, size_t n, uint16_t *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = ir_f32_to_bf16(p[i]);
        p[i] = ir_bf16_to_f32(out[i]);
    }
}

static void check_bf16(onednn_ctx *ctx, int64_t M, int64_t N, int64_t K)
{
    float *a = rand_buf((size_t)(M * K)), *b = rand_buf((size_t)(K * N));
    float *bs = rand_buf((size_t)N), *c = malloc((size_t)(M * N) * 4);
    uint16_t *ab = malloc((size_t)(M * K) * 2), *bb = malloc((size_t)(K * N) * 2);
    round_bf16(a, (size_t)(M * K), ab);
    round_bf16(b, (size_t)(K * N), bb);
    onednn_matmul_desc md = {.dt = ONEDNN_BF16, .has_bias = 1,
                             .act = IR_ACT_GELU};
    md.a = onednn_view_dense(2, (int64_t[]){M, K});
    md.b = (onednn_view){2, {K, N}, {1, K}}; /* transposed: nn.Linear's W */
    md.c = onednn_view_dense(2, (int64_t[]){M, N});
    double *ref = malloc((size_t)(M * N) * sizeof *ref);
    matmul_ref(&md, a, b, bs, NULL, NULL, ref);
    ir_diag d; ir_diag_init(&d);
    CHECK_MSG(onednn_matmul_run(ctx, &md, &(onednn_matmul_args){ab, bb, bs, c, NULL}, &d) == IR_OK, "%s", d.msg);
    double err = rel_err(&md, c, ref);
    CHECK_MSG(err <= 1e-2, "bf16 %lldx%lldx%lld: rel err %g", (long long)M,
              (long long)N, (long long)K, err);
    free(a); free(b); free(bs); free(c); free(ab); free(bb); free(ref);
}

/* Linear with packed weights: several M on one object (one re-pack per new
 * layout), W as [N,K] or [K,N], residual via binary add. */
static void check_linear(onednn_ctx *ctx, onednn_dt dt, int64_t K, int64_t N,
                         int w_is_nk, ir_act act)
{
    float *w = rand_buf((size_t)(K * N)), *bias = rand_buf((size_t)N);
    onednn_linear_desc ld = {.dt = dt, .k = K, .n = N, .w_is_nk = w_is_nk,
                             .act = act, .m_hint = 16};
    onednn_linear *lin;
    ir_diag d; ir_diag_init(&d);
    ir_status s = onednn_linear_create(ctx, &ld, w, bias, &lin, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    if (s != IR_OK) {
        free(w); free(bias);
        return;
    }
    int64_t ms[] = {16, 1, 37, 128, 16};
    double tol = dt == ONEDNN_BF16 ? 1e-2 : 1e-4;
    for (size_t t = 0; t < sizeof ms / sizeof *ms; t++) {
        int64_t M = ms[t];
        int resid = (int)(t % 2);
        float *x = rand_buf((size_t)(M * K)), *y = malloc((size_t)(M * N) * 4);
        float *r = rand_buf((size_t)(M * N));
        onednn_matmul_desc md = {.has_bias = 1, .act = act, .has_r = resid};
        md.a = onednn_view_dense(2, (int64_t[]){M, K});
        md.b = (onednn_view){2, {K, N}, {w_is_nk ? 1 : N, w_is_nk ? K : 1}};
        md.c = onednn_view_dense(2, (int64_t[]){M, N});
        md.r = md.c;
        double *ref = malloc((size_t)(M * N) * sizeof *ref);
        float *wr = malloc((size_t)(K * N) * 4);
        memcpy(wr, w, (size_t)(K * N) * 4);
        float *xr = malloc((size_t)(M * K) * 4);
        memcpy(xr, x, (size_t)(M * K) * 4);
        if (dt == ONEDNN_BF16) { /* the linear rounds x and W the same way */
            uint16_t *tmp = malloc((size_t)(K * N > M * K ? K * N : M * K) * 2);
            round_bf16(wr, (size_t)(K * N), tmp);
            round_bf16(xr, (size_t)(M * K), tmp);
            free(tmp);
        }
        matmul_ref(&md, xr, wr, bias, NULL, r, ref);
        free(wr); free(xr);
        s = onednn_linear_run(lin, M, x, y, resid ? r : NULL, &d);
        CHECK_MSG(s == IR_OK, "%s", d.msg);
        double err = rel_err(&md, y, ref);
        CHECK_MSG(err <= tol, "linear %s M=%lld K=%lld N=%lld nk=%d act=%s res=%d: rel err %g",
                  dt == ONEDNN_BF16 ? "bf16" : "f32", (long long)M, (long long)K,
                  (long long)N, w_is_nk, ir_act_form_name(act), resid, err);
        free(x); free(y); free(r); free(ref);
    }
    onednn_linear_free(lin);
    free(w); free(bias);
}

/* y = act(x·W + b) (+ r) by rt_linear with one kernel, for several M on
 * one object; into y, the relative error against the reference. */
static double run_rt_linear(onednn_ctx *ctx, rt_kernel kern, int64_t M,
                            int64_t K, int64_t N, const float *w,
                            const float *bias, ir_act act, const float *x,
                            const float *r, float *y, rt_kernel *got)
{
    rt_linear l;
    ir_diag d; ir_diag_init(&d);
    ir_status s = rt_linear_init(ctx, &l, IR_PRECISION_FP32, kern, K, N, w, bias, act,
                                 0.0f, &d);
    CHECK_MSG(s == IR_OK, "rt_linear %s: %s", rt_kernel_name(kern), d.msg);
    if (s != IR_OK)
        return INFINITY;
    *got = l.kernel;
    s = rt_linear_run(&l, M, x, y, r, &d);
    CHECK_MSG(s == IR_OK, "rt_linear %s: %s", rt_kernel_name(kern), d.msg);
    onednn_matmul_desc md = {.has_bias = bias != NULL, .act = act, .has_r = r != NULL};
    md.a = onednn_view_dense(2, (int64_t[]){M, K});
    md.b = onednn_view_dense(2, (int64_t[]){K, N});
    md.c = onednn_view_dense(2, (int64_t[]){M, N});
    md.r = md.c;
    double *ref = malloc((size_t)(M * N) * sizeof *ref);
    matmul_ref(&md, x, w, bias, NULL, r, ref);
    double err = rel_err(&md, y, ref);
    free(ref);
    rt_linear_free(&l);
    return err;
}

/* Every fp32 kernel of rt_linear (and the rule's own pick) on one shape,
 * against the reference and against oneDNN packed. threads: the OpenMP
 * team (OpenBLAS splits N across it). */
static void check_rt_linear(onednn_ctx *ctx, int64_t M, int64_t K, int64_t N,
                            ir_act act, int with_bias, int with_r,
                            int threads)
{
    omp_set_num_threads(threads);
    float *w = rand_buf((size_t)(K * N)), *bias = rand_buf((size_t)N);
    float *x = rand_buf((size_t)(M * K)), *r = rand_buf((size_t)(M * N));
    float *y[4];
    rt_kernel kerns[4] = {RT_KERNEL_ONEDNN_PACKED, RT_KERNEL_ONEDNN_PLAIN,
                          RT_KERNEL_OPENBLAS, RT_KERNEL_AUTO};
    for (int i = 0; i < 4; i++) {
        y[i] = malloc((size_t)(M * N) * sizeof(float));
        rt_kernel got = RT_KERNEL_AUTO;
        double err = run_rt_linear(ctx, kerns[i], M, K, N, w,
                                   with_bias ? bias : NULL, act, x,
                                   with_r ? r : NULL, y[i], &got);
        rt_kernel want = kerns[i] == RT_KERNEL_AUTO
            ? rt_kernel_rule(cpu_level_get(), IR_PRECISION_FP32, K, N) : kerns[i];
        CHECK_MSG(got == want, "kernel %s, expected %s", rt_kernel_name(got),
                  rt_kernel_name(want));
        CHECK_MSG(err <= 1e-4, "rt_linear %s M=%lld K=%lld N=%lld act=%s bias=%d "
                  "res=%d threads=%d: rel err %g vs reference", rt_kernel_name(got),
                  (long long)M, (long long)K, (long long)N, ir_act_form_name(act),
                  with_bias, with_r, threads, err);
        if (i > 0) { /* against oneDNN packed */
            double num = 0, den = 0;
            for (int64_t j = 0; j < M * N; j++) {
                double e = fabs((double)y[i][j] - y[0][j]);
                num = e > num ? e : num;
                den = fabs(y[0][j]) > den ? fabs(y[0][j]) : den;
            }
            double rel = num / (den > 0 ? den : 1);
            CHECK_MSG(rel <= 2e-5, "rt_linear %s vs onednn_packed M=%lld K=%lld "
                      "N=%lld act=%s: rel diff %g", rt_kernel_name(got),
                      (long long)M, (long long)K, (long long)N,
                      ir_act_form_name(act), rel);
        }
    }
    for (int i = 0; i < 4; i++)
        free(y[i]);
    free(w); free(bias); free(x); free(r);
}

/* The rule: oneDNN packed from AVX-512 up; below, OpenBLAS for layers of
 * at least 2^19 weights (BERT-base class), oneDNN packed for smaller ones;
 * bf16 on oneDNN, int8 on onednn_qlinear. */
static void check_rt_kernel_rule(void)
{
    struct { int64_t k, n; int big; } shapes[] = {
        {768, 3072, 1}, {3072, 768, 1}, {768, 768, 1}, {384, 1536, 1},
        {312, 1200, 0}, {384, 1152, 0}, {768, 2, 0}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        int64_t k = shapes[i].k, n = shapes[i].n;
        rt_kernel low = shapes[i].big ? RT_KERNEL_OPENBLAS : RT_KERNEL_ONEDNN_PACKED;
        CHECK(rt_kernel_rule(CPU_LEVEL_BASELINE, IR_PRECISION_FP32, k, n) == low);
        CHECK_MSG(rt_kernel_rule(CPU_LEVEL_AVX2, IR_PRECISION_FP32, k, n) == low,
                  "avx2 %lldx%lld", (long long)k, (long long)n);
        CHECK(rt_kernel_rule(CPU_LEVEL_AVX512, IR_PRECISION_FP32, k, n) == RT_KERNEL_ONEDNN_PACKED);
        CHECK(rt_kernel_rule(CPU_LEVEL_AMX, IR_PRECISION_FP32, k, n) == RT_KERNEL_ONEDNN_PACKED);
        CHECK(rt_kernel_rule(CPU_LEVEL_AVX2, IR_PRECISION_BF16, k, n) == RT_KERNEL_ONEDNN_PACKED);
        CHECK(rt_kernel_rule(CPU_LEVEL_AVX2, IR_PRECISION_INT8, k, n) == RT_KERNEL_ONEDNN_INT8);
    }
    rt_kernel k;
    CHECK(rt_kernel_parse("openblas", &k) && k == RT_KERNEL_OPENBLAS);
    CHECK(!rt_kernel_parse("mkl", &k));
    printf("rt_linear: at %s the rule picks %s for fp32\n",
           cpu_level_name(cpu_level_get()),
           rt_kernel_name(rt_kernel_rule(cpu_level_get(), IR_PRECISION_FP32, 768, 3072)));
}

static void check_errors(onednn_ctx *ctx)
{
    float buf[64] = {0};
    ir_diag d; ir_diag_init(&d);
    onednn_matmul_desc md = {.dt = ONEDNN_F32};
    md.a = onednn_view_dense(2, (int64_t[]){3, 4});
    md.b = onednn_view_dense(2, (int64_t[]){5, 2});
    md.c = onednn_view_dense(2, (int64_t[]){3, 2});
    ir_status s = onednn_matmul_run(ctx, &md, &(onednn_matmul_args){buf, buf, NULL, buf, NULL}, &d);
    CHECK(s == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "matmul f32 [3x4]·[5x2]") != NULL, "%s", d.msg);

    md.b = onednn_view_dense(2, (int64_t[]){4, 2});
    md.has_r = 1;
    md.r = onednn_view_dense(2, (int64_t[]){2, 2});
    s = onednn_matmul_run(ctx, &md, &(onednn_matmul_args){buf, buf, NULL, buf, buf}, &d);
    CHECK(s == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "residual dim 0") != NULL, "%s", d.msg);

    onednn_linear *lin = NULL;
    onednn_linear_desc ld = {.k = 0, .n = 4};
    s = onednn_linear_create(ctx, &ld, buf, NULL, &lin, &d);
    CHECK(s == IR_ERR_INPUT && lin == NULL);
    CHECK_MSG(strstr(d.msg, "linear f32") != NULL, "%s", d.msg);
}

int main(void)
{
    onednn_ctx *ctx;
    ir_diag d; ir_diag_init(&d);
    if (onednn_ctx_create(&ctx, &d) != IR_OK) {
        fprintf(stderr, "%s\n", d.msg);
        return 1;
    }
    check_2d(ctx, 1, 1, 1, 0, 0, 0, IR_ACT_NONE, 1, 0, 0);
    check_2d(ctx, 7, 13, 5, 0, 0, 1, IR_ACT_GELU, 1, 0, 0);
    check_2d(ctx, 33, 65, 17, 1, 0, 1, IR_ACT_GELU_TANH, 0.5f, 0, 1);
    check_2d(ctx, 64, 31, 96, 0, 1, 0, IR_ACT_RELU, 1, 1.0f, 0);
    check_2d(ctx, 19, 40, 23, 1, 1, 1, IR_ACT_TANH, 2.0f, 0.5f, 1);
    check_2d(ctx, 128, 768, 96, 0, 1, 1, IR_ACT_NONE, 1, 0, 1);
    size_t before = onednn_ctx_cached(ctx);
    check_2d(ctx, 7, 13, 5, 0, 0, 1, IR_ACT_GELU, 1, 0, 0);
    CHECK_MSG(onednn_ctx_cached(ctx) == before, "same shape must hit the cache");
    check_attention(ctx, 2, 9, 3, 8);
    check_attention(ctx, 1, 32, 12, 26);
    check_broadcast(ctx);
    /* bf16: the ctest case test_dnnl_matmul.bf16, skipped where the CPU has
     * no native bf16 (oneDNN 2.6 has no bf16 matmul below AVX512-BF16) */
    if (test_part("bf16") && !onednn_has_bf16(ctx))
        test_skip("bf16: no native bf16 on this CPU (oneDNN isa %s)",
                  onednn_isa_name());
    else if (test_part("bf16")) {
        check_bf16(ctx, 17, 33, 64);
        check_bf16(ctx, 128, 96, 312);
        check_linear(ctx, ONEDNN_BF16, 96, 80, 1, IR_ACT_TANH);
    }
    check_linear(ctx, ONEDNN_F32, 312, 1200, 1, IR_ACT_GELU);
    check_linear(ctx, ONEDNN_F32, 45, 23, 0, IR_ACT_NONE);
    check_rt_kernel_rule();
    int nt = omp_get_max_threads();
    check_rt_linear(ctx, 37, 768, 200, IR_ACT_GELU, 1, 1, 2);
    check_rt_linear(ctx, 128, 312, 1200, IR_ACT_GELU, 1, 0, 2);
    check_rt_linear(ctx, 16, 96, 80, IR_ACT_GELU_TANH, 1, 1, 1);
    check_rt_linear(ctx, 9, 64, 333, IR_ACT_TANH, 1, 0, 2);
    check_rt_linear(ctx, 5, 48, 130, IR_ACT_RELU, 0, 1, 2);
    check_rt_linear(ctx, 1, 768, 2, IR_ACT_NONE, 1, 0, 2);
    check_rt_linear(ctx, 64, 1200, 312, IR_ACT_NONE, 0, 0, 1);
    check_rt_linear(ctx, 24, 768, 768, IR_ACT_GELU, 1, 1, 2); /* 2^19+ */
    omp_set_num_threads(nt);
    check_errors(ctx);
    onednn_ctx_free(ctx);
    return test_finish("test_dnnl_matmul");
}

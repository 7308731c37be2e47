/* test_qlinear.c — the int8 linear layer (backend/dnnl_qlinear.h) at many
 * M, K, N including odd sizes, every activation, with and without bias and
 * residual, dynamic and static activation scales, and its error paths.
 *
 * Two references, both in double:
 * 1. integer: x and W quantised exactly as dnnl_qlinear.c documents, the
 *    u8·s8 products accumulated in int32, dequantised, bias, activation and
 *    residual applied. oneDNN must match it to 1e-4 relative (max abs error
 *    over max |reference|): the integer part is exact, what is left is f32
 *    rounding of scales and bias and oneDNN's own erf/tanh.
 * 2. f32: y = act(x·W + b) + r with the original values. Per element,
 *    |Δ pre-activation| ≤ Σ_k |x||Δw| + |Δx||ŵ| ≤ (sw[n]/2)·Σ_k|x[m,k]| +
 *    (sx/2)·Σ_k|w[k,n]| + (sx·sw[n]/4)·K (each rounding error ≤ half a
 *    step), and every activation here has slope ≤ 1.13 (GELU's maximum), so
 *    |Δy| ≤ 1.13·that bound (+1e-5 for f32 slack). Also, for K ≥ 32 on
 *    uniform data, the relative Frobenius error must stay ≤ 2 % with 8-bit
 *    weights, ≤ 3 % with the 7-bit ones of CPUs without VNNI (the weight
 *    term of the error doubles, the activation term does not: about
 *    sqrt(5/2) = 1.6 times the error; measured 1.33 % and 2.26 %).
 * The bound of 2. holds per element on every CPU; so does 1., exactly. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/dnnl_qlinear.h"
#include "testutil.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}
static float *rand_buf(size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = lo + (frand() + 1.0f) * 0.5f * (hi - lo);
    return p;
}

/* The quantisation of dnnl_qlinear.c, repeated here on purpose. Q is the
 * largest |wq| the layer chose for this CPU: 127 with VNNI, 63 without. */
static void quant_weights(const float *w, int64_t K, int64_t N, int Q,
                          float *sw, int8_t *wq)
{
    for (int64_t j = 0; j < N; j++) {
        float mx = 0.0f;
        for (int64_t i = 0; i < K; i++)
            mx = fabsf(w[i * N + j]) > mx ? fabsf(w[i * N + j]) : mx;
        sw[j] = mx > 0.0f ? mx / (float)Q : 1.0f;
        for (int64_t i = 0; i < K; i++) {
            float v = rintf(w[i * N + j] / sw[j]);
            wq[i * N + j] = (int8_t)(v < -Q ? -Q : v > Q ? Q : v);
        }
    }
}
static void quant_input(const float *x, size_t len, float in_scale, float *sx,
                        int32_t *zp, uint8_t *xq)
{
    if (in_scale > 0.0f) {
        *sx = in_scale;
        *zp = 128;
    } else {
        float lo = 0.0f, hi = 0.0f;
        for (size_t i = 0; i < len; i++) {
            lo = x[i] < lo ? x[i] : lo;
            hi = x[i] > hi ? x[i] : hi;
        }
        float s = (hi - lo) / 255.0f;
        if (s > 0.0f) {
            float z = rintf(-lo / s);
            *sx = s;
            *zp = (int32_t)(z < 0 ? 0 : z > 255 ? 255 : z);
        } else {
            *sx = 1.0f;
            *zp = 0;
        }
    }
    const float inv = 1.0f / *sx, z = (float)*zp + 0.5f;
    for (size_t i = 0; i < len; i++) {
        float v = x[i] * inv + z;
        v = v > 0.0f ? v : 0.0f; /* NaN -> 0 */
        v = v < 255.0f ? v : 255.0f;
        xq[i] = (uint8_t)(int32_t)v;
    }
}

typedef struct qcase {
    int64_t m, k, n;
    ir_act act;
    int bias, resid;
    float in_scale; /* 0 dynamic; < 0: static at -in_scale × the exact scale
                       (below 1 saturates, so only the integer check) */
} qcase;

/* Runs one case; returns the relative Frobenius error against f32. */
static double run_case(onednn_ctx *ctx, const qcase *c)
{
    int64_t M = c->m, K = c->k, N = c->n;
    float *x = rand_buf((size_t)(M * K), -1.5f, 2.5f); /* asymmetric range */
    float *w = rand_buf((size_t)(K * N), -0.5f, 0.5f);
    float *b = c->bias ? rand_buf((size_t)N, -1.0f, 1.0f) : NULL;
    float *r = c->resid ? rand_buf((size_t)(M * N), -1.0f, 1.0f) : NULL;
    float *y = malloc((size_t)(M * N) * sizeof *y);
    float in_scale = c->in_scale;
    int saturating = 0;
    if (in_scale < 0.0f) {
        float mx = 0.0f;
        for (int64_t i = 0; i < M * K; i++)
            mx = fabsf(x[i]) > mx ? fabsf(x[i]) : mx;
        saturating = -in_scale < 1.0f;
        in_scale = -in_scale * mx / 127.0f;
    }
    ir_diag d;
    ir_diag_init(&d);
    onednn_qlinear *q = NULL;
    ir_status s = onednn_qlinear_create(ctx, K, N, w, b, c->act, in_scale, &q, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    if (s == IR_OK) {
        s = onednn_qlinear_run(q, M, x, y, r, &d);
        CHECK_MSG(s == IR_OK, "%s", d.msg);
    }
    double frob = 0.0;
    if (s == IR_OK) {
        float *sw = malloc((size_t)N * sizeof *sw);
        int8_t *wq = malloc((size_t)(K * N));
        uint8_t *xq = malloc((size_t)(M * K));
        float sx;
        int32_t zp;
        quant_weights(w, K, N, onednn_qlinear_weight_max(q), sw, wq);
        quant_input(x, (size_t)(M * K), in_scale, &sx, &zp, xq);
        double ierr = 0, imax = 0, e2 = 0, r2 = 0, worst = 0;
        int bound_ok = 1;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                int32_t acc = 0;
                double f = 0, sum_x = 0, sum_w = 0;
                for (int64_t k = 0; k < K; k++) {
                    acc += ((int32_t)xq[i * K + k] - zp) * (int32_t)wq[k * N + j];
                    f += (double)x[i * K + k] * w[k * N + j];
                    sum_x += fabs(x[i * K + k]);
                    sum_w += fabs(w[k * N + j]);
                }
                double bj = b ? b[j] : 0.0, rij = r ? r[i * N + j] : 0.0;
                double yi = ir_act_ref(c->act, (double)sx * sw[j] * acc + bj) + rij;
                double yf = ir_act_ref(c->act, f + bj) + rij;
                double got = y[i * N + j];
                ierr = fmax(ierr, fabs(got - yi));
                imax = fmax(imax, fabs(yi));
                e2 += (got - yf) * (got - yf);
                r2 += yf * yf;
                double bound = 1.13 * (0.5 * sw[j] * sum_x + 0.5 * sx * sum_w +
                                       0.25 * sx * sw[j] * (double)K) + 1e-5;
                worst = fmax(worst, fabs(got - yf) / bound);
                if (!saturating && fabs(got - yf) > bound)
                    bound_ok = 0;
            }
        double rel = ierr / (imax > 0 ? imax : 1.0);
        CHECK_MSG(rel <= 1e-4,
                  "M=%lld K=%lld N=%lld %s bias=%d resid=%d scale=%g: "
                  "integer-reference error %.3g relative",
                  (long long)M, (long long)K, (long long)N,
                  ir_act_form_name(c->act), c->bias, c->resid,
                  (double)in_scale, rel);
        CHECK_MSG(bound_ok,
                  "M=%lld K=%lld N=%lld %s: f32 error above the quantisation "
                  "bound (worst %.3g of the bound)", (long long)M, (long long)K,
                  (long long)N, ir_act_form_name(c->act), worst);
        frob = r2 > 0 ? sqrt(e2 / r2) : sqrt(e2);
        free(sw);
        free(wq);
        free(xq);
    }
    onednn_qlinear_free(q);
    free(x);
    free(w);
    free(b);
    free(r);
    free(y);
    return frob;
}

/* The Frobenius limit of the header for the weight width this CPU gets. */
static double frob_limit(onednn_ctx *ctx)
{
    float w = 1.0f;
    onednn_qlinear *q = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (onednn_qlinear_create(ctx, 1, 1, &w, NULL, IR_ACT_NONE, 0.0f, &q,
                              &d) != IR_OK)
        return 0.0;
    double lim = onednn_qlinear_weight_max(q) == 127 ? 0.02 : 0.03;
    onednn_qlinear_free(q);
    return lim;
}

/* Every activation x bias x residual x dynamic/static over odd shapes. */
static void test_cases(onednn_ctx *ctx)
{
    const double lim = frob_limit(ctx);
    static const int64_t shapes[][3] = {
        {1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {128, 64, 96}, {7, 130, 3}};
    double worst_frob = 0.0;
    int n = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int a = 0; a < IR_ACT_COUNT; a++)
            for (int bias = 0; bias < 2; bias++)
                for (int resid = 0; resid < 2; resid++)
                    for (int mode = 0; mode < 2; mode++) {
                        qcase c = {shapes[si][0], shapes[si][1], shapes[si][2],
                                   (ir_act)a, bias, resid,
                                   mode ? -1.0f : 0.0f};
                        double f = run_case(ctx, &c);
                        n++;
                        if (c.k >= 32) {
                            CHECK_MSG(f <= lim, "M=%lld K=%lld N=%lld %s: "
                                      "relative Frobenius error %.4f > %g",
                                      (long long)c.m, (long long)c.k,
                                      (long long)c.n, ir_act_form_name(c.act), f,
                                      lim);
                            worst_frob = fmax(worst_frob, f);
                        }
                    }
    /* BERT-like shapes, one combination each. */
    qcase big[] = {{64, 768, 256, IR_ACT_GELU, 1, 0, 0.0f},
                   {32, 1024, 200, IR_ACT_NONE, 1, 1, -1.0f},
                   /* 37000 inputs: quantised in parallel chunks, the last
                    * one ragged; must match the serial formulas exactly */
                   {37, 1000, 48, IR_ACT_RELU, 0, 1, 0.0f}};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        double f = run_case(ctx, &big[i]);
        CHECK_MSG(f <= lim, "K=%lld: relative Frobenius error %.4f > %g",
                  (long long)big[i].k, f, lim);
        worst_frob = fmax(worst_frob, f);
        n++;
    }
    /* Static scale at half the needed range: saturates, integer ref only. */
    qcase sat = {9, 40, 24, IR_ACT_RELU, 1, 0, -0.5f};
    run_case(ctx, &sat);
    printf("qlinear: %d cases, worst relative Frobenius error vs f32 %.4f\n",
           n, worst_frob);
}

/* One layer serves several M (a cached primitive each) and repeats. */
static void test_reuse(onednn_ctx *ctx)
{
    int64_t K = 48, N = 40;
    float *w = rand_buf((size_t)(K * N), -1, 1);
    float *x = rand_buf((size_t)(100 * K), -1, 1);
    float *y1 = malloc(100 * (size_t)N * sizeof *y1);
    float *y2 = malloc(100 * (size_t)N * sizeof *y2);
    ir_diag d;
    ir_diag_init(&d);
    onednn_qlinear *q;
    CHECK(onednn_qlinear_create(ctx, K, N, w, NULL, IR_ACT_NONE, 0, &q, &d) == IR_OK);
    CHECK(onednn_qlinear_run(q, 100, x, y1, NULL, &d) == IR_OK);
    CHECK(onednn_qlinear_run(q, 5, x, y2, NULL, &d) == IR_OK);
    CHECK(onednn_qlinear_run(q, 100, x, y2, NULL, &d) == IR_OK);
    CHECK(memcmp(y1, y2, 100 * (size_t)N * sizeof *y1) == 0);
    /* All-zero input, dynamic: y = bias exactly (here none, so 0). */
    memset(x, 0, (size_t)K * sizeof *x);
    CHECK(onednn_qlinear_run(q, 1, x, y1, NULL, &d) == IR_OK);
    int zero = 1;
    for (int64_t j = 0; j < N; j++)
        zero &= y1[j] == 0.0f;
    CHECK(zero);
    /* Non-finite inputs saturate rather than reaching an undefined float
     * to int conversion: NaN reads as the range's low end, inf as its high
     * end; the run succeeds. */
    x[0] = NAN;
    x[1] = INFINITY;
    CHECK(onednn_qlinear_run(q, 1, x, y1, NULL, &d) == IR_OK);
    onednn_qlinear_free(q);
    free(w);
    free(x);
    free(y1);
    free(y2);
}

static void test_errors(onednn_ctx *ctx)
{
    float w[6] = {1, 2, 3, 4, 5, 6}, x[4] = {0}, y[8];
    ir_diag d;
    onednn_qlinear *q = (onednn_qlinear *)1;
    ir_diag_init(&d);
    CHECK(onednn_qlinear_create(ctx, 0, 3, w, NULL, IR_ACT_NONE, 0, &q, &d) ==
          IR_ERR_INPUT);
    CHECK(q == NULL);
    CHECK_MSG(strstr(d.msg, "K = 0") != NULL, "%s", d.msg);
    CHECK(onednn_qlinear_create(ctx, 2, -1, w, NULL, IR_ACT_NONE, 0, &q, &d) ==
          IR_ERR_INPUT);
    CHECK(onednn_qlinear_create(ctx, 2, 3, NULL, NULL, IR_ACT_NONE, 0, &q, &d) ==
          IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "weights") != NULL, "%s", d.msg);
    CHECK(onednn_qlinear_create(ctx, 2, 3, w, NULL, IR_ACT_COUNT, 0, &q, &d) ==
          IR_ERR_INPUT);
    CHECK(onednn_qlinear_create(ctx, 2, 3, w, NULL, IR_ACT_NONE, -1.0f, &q, &d) ==
          IR_ERR_INPUT);
    CHECK(onednn_qlinear_create(ctx, 2, 3, w, NULL, IR_ACT_NONE, NAN, &q, &d) ==
          IR_ERR_INPUT);
    CHECK(onednn_qlinear_create(ctx, 2, 3, w, NULL, IR_ACT_NONE, 1e-45f, &q, &d) ==
          IR_ERR_INPUT); /* 1/scale overflows */
    float wbad[6] = {1, 2, 3, 4, INFINITY, 6};
    CHECK(onednn_qlinear_create(ctx, 2, 3, wbad, NULL, IR_ACT_NONE, 0, &q, &d) ==
          IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "W[1][1]") != NULL, "%s", d.msg);
    CHECK(onednn_qlinear_create(ctx, 2, 3, w, NULL, IR_ACT_NONE, 0, &q, &d) == IR_OK);
    CHECK(onednn_qlinear_run(q, 0, x, y, NULL, &d) == IR_ERR_INPUT);
    CHECK(onednn_qlinear_run(q, 2, NULL, y, NULL, &d) == IR_ERR_INPUT);
    CHECK(onednn_qlinear_run(q, 2, x, NULL, NULL, &d) == IR_ERR_INPUT);
    CHECK(onednn_qlinear_run(NULL, 2, x, y, NULL, &d) == IR_ERR_INPUT);
    onednn_qlinear_free(q);
    onednn_qlinear_free(NULL);
}

/* The input that saturates 16-bit pair sums when they are possible: every
 * xq at 255 (x >= 0, so zp = 0) against every wq at +Q, so each pair of
 * products is 2·255·Q. 7-bit weights without VNNI keep that below 32767;
 * the exact answer is K·max(x)·max(w) on every CPU. */
static void test_no_saturation(onednn_ctx *ctx)
{
    enum { M = 8, K = 512, N = 32 };
    float *x = malloc(M * K * sizeof *x), *w = malloc(K * N * sizeof *w);
    float *y = malloc(M * N * sizeof *y);
    for (int i = 0; i < M * K; i++)
        x[i] = 2.0f;
    for (int i = 0; i < K * N; i++)
        w[i] = 0.25f;
    ir_diag d;
    ir_diag_init(&d);
    onednn_qlinear *q = NULL;
    ir_status s = onednn_qlinear_create(ctx, K, N, w, NULL, IR_ACT_NONE,
                                        0.0f, &q, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    if (s == IR_OK)
        s = onednn_qlinear_run(q, M, x, y, NULL, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    double worst = 0.0;
    for (int i = 0; s == IR_OK && i < M * N; i++)
        worst = fmax(worst, fabs(y[i] - K * 2.0 * 0.25) / (K * 2.0 * 0.25));
    CHECK_MSG(s == IR_OK && worst <= 1e-5,
              "all-max input: relative error %.3g (16-bit saturation?)", worst);
    printf("qlinear: kernel %s; all-max input error %.2g\n",
           onednn_qlinear_kernel(q), worst);
    onednn_qlinear_free(q);
    free(x);
    free(w);
    free(y);
}

int main(void)
{
    ir_diag d;
    ir_diag_init(&d);
    onednn_ctx *ctx;
    if (onednn_ctx_create(&ctx, &d) != IR_OK) {
        fprintf(stderr, "%s\n", d.msg);
        return 1;
    }
    test_no_saturation(ctx);
    test_cases(ctx);
    test_reuse(ctx);
    test_errors(ctx);
    onednn_ctx_free(ctx);
    return test_finish("test_qlinear");
}

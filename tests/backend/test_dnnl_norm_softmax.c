/* test_dnnl_norm_softmax.c — oneDNN layer normalization (with and without
 * the residual add, scale/shift optional, in place) and softmax against
 * naive loops in double (ONNX LayerNormalization-17 and Softmax-13, axis
 * -1). Tolerance: f32 ≤ 1e-4 relative (max abs error over max |ref|, and
 * ≤ 1e-5 absolute for softmax probabilities). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/dnnl_norm.h"
#include "backend/dnnl_softmax.h"
#include "testutil.h"

static uint64_t rng_state = 1234567ull;
static float frand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}
static float *rand_buf(size_t n, float scale)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand() * scale;
    return p;
}

static void check_ln(onednn_ctx *ctx, int64_t rows, int64_t n, int resid,
                     int affine, int in_place, int with_sum)
{
    size_t len = (size_t)(rows * n);
    float *x = rand_buf(len, 3.0f), *r = rand_buf(len, 1.0f);
    float *g = rand_buf((size_t)n, 1.0f), *b = rand_buf((size_t)n, 1.0f);
    float *y = in_place ? x : malloc(len * 4), *sum = malloc(len * 4);
    float eps = 1e-12f;
    double *ref = malloc(len * sizeof *ref), *ref_sum = malloc(len * sizeof *ref_sum);
    for (int64_t i = 0; i < rows; i++) {
        double mean = 0, var = 0;
        for (int64_t j = 0; j < n; j++) {
            double s = (double)x[i * n + j] + (resid ? (double)r[i * n + j] : 0);
            ref_sum[i * n + j] = (float)s; /* the sum is formed in f32 */
            mean += ref_sum[i * n + j];
        }
        mean /= (double)n;
        for (int64_t j = 0; j < n; j++)
            var += (ref_sum[i * n + j] - mean) * (ref_sum[i * n + j] - mean);
        var /= (double)n;
        for (int64_t j = 0; j < n; j++)
            ref[i * n + j] = (ref_sum[i * n + j] - mean) / sqrt(var + eps) *
                                 (affine ? g[j] : 1) + (affine ? b[j] : 0);
    }
    ir_diag d; ir_diag_init(&d);
    ir_status s = onednn_layer_norm_run(ctx, rows, n, eps, x, resid ? r : NULL,
                                       affine ? g : NULL, affine ? b : NULL, y,
                                       with_sum ? sum : NULL, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    double maxd = 0, maxr = 1e-30, maxs = 0;
    for (size_t i = 0; i < len; i++) {
        double e = fabs(y[i] - ref[i]);
        if (!(e <= maxd)) maxd = isnan(e) ? INFINITY : e;
        if (fabs(ref[i]) > maxr) maxr = fabs(ref[i]);
        if (with_sum && resid && fabs(sum[i] - ref_sum[i]) > maxs)
            maxs = fabs(sum[i] - ref_sum[i]);
    }
    CHECK_MSG(maxd / maxr <= 1e-4 && maxs == 0,
              "layer_norm %lldx%lld resid=%d affine=%d in_place=%d sum=%d: rel err %g, sum err %g",
              (long long)rows, (long long)n, resid, affine, in_place, with_sum,
              maxd / maxr, maxs);
    free(x); free(r); free(g); free(b); free(sum); free(ref); free(ref_sum);
    if (!in_place) free(y);
}

static void check_softmax(onednn_ctx *ctx, int64_t rows, int64_t n, float scale,
                          int in_place)
{
    size_t len = (size_t)(rows * n);
    float *x = rand_buf(len, scale);
    if (n > 2) /* a masked position, as attention's additive mask makes */
        x[1] = -10000.0f;
    float *y = in_place ? x : malloc(len * 4);
    double *ref = malloc(len * sizeof *ref);
    for (int64_t i = 0; i < rows; i++) {
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < n; j++)
            mx = fmax(mx, x[i * n + j]);
        for (int64_t j = 0; j < n; j++)
            sum += exp(x[i * n + j] - mx);
        for (int64_t j = 0; j < n; j++)
            ref[i * n + j] = exp(x[i * n + j] - mx) / sum;
    }
    ir_diag d; ir_diag_init(&d);
    CHECK_MSG(onednn_softmax_run(ctx, rows, n, x, y, &d) == IR_OK, "%s", d.msg);
    double maxd = 0, maxr = 1e-30;
    for (size_t i = 0; i < len; i++) {
        double e = fabs(y[i] - ref[i]);
        if (!(e <= maxd)) maxd = isnan(e) ? INFINITY : e;
        if (fabs(ref[i]) > maxr) maxr = fabs(ref[i]);
    }
    CHECK_MSG(maxd / maxr <= 1e-4 && maxd <= 1e-5,
              "softmax %lldx%lld scale=%g: abs err %g rel %g", (long long)rows,
              (long long)n, scale, maxd, maxd / maxr);
    free(ref);
    free(x);
    if (!in_place) free(y);
}

int main(void)
{
    onednn_ctx *ctx;
    ir_diag d; ir_diag_init(&d);
    if (onednn_ctx_create(&ctx, &d) != IR_OK) {
        fprintf(stderr, "%s\n", d.msg);
        return 1;
    }
    check_ln(ctx, 1, 1, 0, 1, 0, 0);
    check_ln(ctx, 3, 7, 1, 1, 0, 1);
    check_ln(ctx, 37, 768, 1, 1, 1, 0);
    check_ln(ctx, 128, 312, 0, 0, 0, 0);
    check_ln(ctx, 5, 33, 1, 0, 0, 1);
    size_t before = onednn_ctx_cached(ctx);
    check_ln(ctx, 3, 7, 1, 1, 0, 1);
    CHECK(onednn_ctx_cached(ctx) == before);

    check_softmax(ctx, 1, 1, 1, 0);
    check_softmax(ctx, 7, 13, 5, 0);
    check_softmax(ctx, 96, 128, 30, 1);
    check_softmax(ctx, 24, 65, 1, 0);

    float z[4] = {0};
    ir_status s = onednn_layer_norm_run(ctx, 2, 0, 1e-5f, z, NULL, NULL, NULL, z, NULL, &d);
    CHECK(s == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "layer_norm f32 [2x0]") != NULL, "%s", d.msg);
    s = onednn_softmax_run(ctx, -1, 4, z, z, &d);
    CHECK(s == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "softmax f32 [-1x4]") != NULL, "%s", d.msg);
    onednn_ctx_free(ctx);
    return test_finish("test_dnnl_norm_softmax");
}

/* bench_qlinear.c — how much the int8 linear (backend/dnnl_qlinear.h) gains
 * over the fp32 one (onednn_linear) on the shapes a BERT layer runs, with
 * the whole per-call cost included (int8: range, quantising x, matmul,
 * dequantising epilogue). One JSON object per shape on stdout:
 *   {"m":128,"k":768,"n":3072,"act":"gelu_erf","f32_ms":..,"int8_dynamic_ms":..,
 *    "int8_static_ms":..,"f32_gflops":..,"speedup_dynamic":..}
 * Times are medians of [reps] runs after 5 warm-up runs, and the best
 * single runs (best_*: what the machine does when nobody else is busy).
 *
 * Not built by CMake (yet); from the source root:
 *   cc -std=c17 -O2 -D_POSIX_C_SOURCE=200809L -I. bench/bench_qlinear.c \
 *      backend/dnnl_qlinear.c backend/dnnl_matmul.c backend/dnnl_engine.c \
 *      ir/diag.c ir/dtype.c -ldnnl -lm -o /tmp/bench_qlinear
 *   OMP_NUM_THREADS=2 /tmp/bench_qlinear [reps]
 * (ONEDNN_VERBOSE=1 shows the kernels: brg:avx512_core_vnni for int8 on
 * this machine.) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backend/dnnl_qlinear.h"
#include "bench/bench_clock.h"

/* Median seconds of reps calls of q (int8) or else lin (f32); *best gets
 * the fastest call (the better estimate on a machine shared with others). */
static double time_runs(onednn_linear *lin, onednn_qlinear *q, int64_t m,
                        const float *x, float *y, const float *r, int reps,
                        double *best, ir_diag *d)
{
    double *t = malloc((size_t)reps * sizeof *t);
    for (int i = 0; i < reps + 5; i++) {
        double t0 = bench_now_s();
        ir_status s = q ? onednn_qlinear_run(q, m, x, y, r, d)
                        : onednn_linear_run(lin, m, x, y, r, d);
        if (s != IR_OK) {
            free(t);
            return -1.0;
        }
        if (i >= 5)
            t[i - 5] = bench_now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
    double med = t[reps / 2];
    *best = t[0];
    free(t);
    return med;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 30;
    if (reps < 1) {
        fprintf(stderr, "usage: bench_qlinear [reps >= 1]\n");
        return 2;
    }
    static const struct {
        int64_t m, k, n;
        ir_act act;
        int resid;
    } shapes[] = {
        {128, 768, 2304, IR_ACT_NONE, 0},     /* BERT-base qkv */
        {128, 768, 3072, IR_ACT_GELU, 0}, /* FFN in */
        {128, 3072, 768, IR_ACT_NONE, 1},     /* FFN out + residual */
        {128, 312, 1200, IR_ACT_GELU, 0}, /* TinyBERT-4 FFN in */
    };
    ir_diag d;
    ir_diag_init(&d);
    onednn_ctx *ctx;
    if (onednn_ctx_create(&ctx, &d) != IR_OK) {
        fprintf(stderr, "bench_qlinear: %s\n", d.msg);
        return 1;
    }
    int rc = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0] && !rc; si++) {
        int64_t M = shapes[si].m, K = shapes[si].k, N = shapes[si].n;
        float *w = malloc((size_t)(K * N) * sizeof *w);
        float *b = malloc((size_t)N * sizeof *b);
        float *x = malloc((size_t)(M * K) * sizeof *x);
        float *r = malloc((size_t)(M * N) * sizeof *r);
        float *y = malloc((size_t)(M * N) * sizeof *y);
        unsigned seed = 1;
        for (int64_t i = 0; i < K * N; i++)
            w[i] = ((float)(rand_r(&seed) % 2001) - 1000.0f) * 5e-5f;
        for (int64_t i = 0; i < M * K; i++)
            x[i] = ((float)(rand_r(&seed) % 2001) - 800.0f) * 2e-3f;
        for (int64_t i = 0; i < N; i++)
            b[i] = 0.01f;
        for (int64_t i = 0; i < M * N; i++)
            r[i] = 0.5f;
        const float *res = shapes[si].resid ? r : NULL;
        onednn_linear_desc ld = {.dt = ONEDNN_F32, .k = K, .n = N,
                                 .act = shapes[si].act, .m_hint = M};
        onednn_linear *lin = NULL;
        onednn_qlinear *qd = NULL, *qs = NULL;
        double tf = -1, tqd = -1, tqs = -1, bf = 0, bqd = 0, bqs = 0;
        if (onednn_linear_create(ctx, &ld, w, b, &lin, &d) == IR_OK &&
            onednn_qlinear_create(ctx, K, N, w, b, shapes[si].act, 0.0f, &qd, &d) == IR_OK &&
            onednn_qlinear_create(ctx, K, N, w, b, shapes[si].act, 1.6f / 127.0f, &qs,
                                  &d) == IR_OK) {
            tf = time_runs(lin, NULL, M, x, y, res, reps, &bf, &d);
            tqd = tf > 0 ? time_runs(NULL, qd, M, x, y, res, reps, &bqd, &d) : -1;
            tqs = tqd > 0 ? time_runs(NULL, qs, M, x, y, res, reps, &bqs, &d) : -1;
        }
        if (tqs < 0) {
            fprintf(stderr, "bench_qlinear: %s\n", d.msg);
            rc = 1;
        } else {
            double flop = 2.0 * (double)M * (double)K * (double)N;
            printf("{\"m\":%lld,\"k\":%lld,\"n\":%lld,\"act\":\"%s\",\"residual\":%s,"
                   "\"f32_ms\":%.4f,\"int8_dynamic_ms\":%.4f,\"int8_static_ms\":%.4f,"
                   "\"f32_gflops\":%.1f,\"int8_dynamic_gops\":%.1f,"
                   "\"speedup_dynamic\":%.2f,\"speedup_static\":%.2f,"
                   "\"best_f32_ms\":%.4f,\"best_int8_dynamic_ms\":%.4f,"
                   "\"best_int8_static_ms\":%.4f,\"best_speedup_dynamic\":%.2f}\n",
                   (long long)M, (long long)K, (long long)N,
                   ir_act_form_name(shapes[si].act), res ? "true" : "false",
                   tf * 1e3, tqd * 1e3, tqs * 1e3, flop / tf * 1e-9,
                   flop / tqd * 1e-9, tf / tqd, tf / tqs, bf * 1e3, bqd * 1e3,
                   bqs * 1e3, bf / bqd);
        }
        onednn_linear_free(lin);
        onednn_qlinear_free(qd);
        onednn_qlinear_free(qs);
        free(w);
        free(b);
        free(x);
        free(r);
        free(y);
    }
    onednn_ctx_free(ctx);
    return rc;
}

/* rt_linear.c — the runtime's linear layer (rt_linear.h): one call for every
 * precision, and the rule that picks, once per layer at load time on the
 * machine the model runs on, which kernel does an fp32 product:
 *
 *   - oneDNN matmul, weights packed once into the layout it picks (format
 *     tag any), bias / activation / residual as post-ops;
 *   - oneDNN matmul on plain row-major weights, the same post-ops;
 *   - OpenBLAS sgemm, then one vectorised pass over y per thread block for
 *     bias, activation and residual (the fused C epilogue below).
 * bf16 always goes to oneDNN packed (OpenBLAS has no bf16 sgemm), int8 to
 * onednn_qlinear (backend/dnnl_qlinear.h).
 *
 * The rule (rt_kernel_rule), from f32 GFLOP/s of this file's kernels with
 * their epilogues (bench/matmul_ceiling --linear: medians of 5 interleaved
 * rounds, 1 thread; the full tables and machines in BENCHMARKS.md, "The
 * runtime's linear kernels by CPU"):
 *
 *                                      M    oneDNN packed  plain  OpenBLAS
 *   Zen 3 (AVX2 + FMA), BERT-base FFN 128x768·768x3072, no epilogue
 *                                    128       27.8        35.5     54.3
 *   Sapphire Rapids, native (AVX-512, AMX; OpenBLAS's own SkylakeX kernels)
 *     BERT-base FFN up + GELU        128      139.8        54.5    112.3
 *     TinyBERT-4 QKV 312x936         128      172.8       144.2    137.3
 *   Sapphire Rapids as an AVX2 machine (DISTILC_MAX_ISA=avx2,
 *   OPENBLAS_CORETYPE=Haswell)
 *     BERT-base FFN up + GELU        128       79.7        80.3     88.3
 *     BERT-base QKV 768x2304         128       91.0        89.8     93.7
 *     BERT-base FFN down + residual  128       98.8        97.4     95.2
 *     TinyBERT-4 FFN up + GELU       128       87.5        86.5     85.7
 *     TinyBERT-4 QKV                   8       75.4        73.2     49.3
 * With AVX-512 oneDNN 2.6 runs its brgemm kernels and packed weights win
 * every shape. Below that its f32 matmul is a jit gemm on plain weights
 * (format any resolves to ab there), half of OpenBLAS's speed on Zen 3's
 * BERT-base FFN; in the emulation (Sapphire Rapids' core running AVX2
 * code, which does not reproduce what slows oneDNN on Zen 3) OpenBLAS is
 * level with it on the BERT-base layers (-4% to +11% at 128 and 256
 * rows, +6-7% on the whole model), but behind on layers of up to ~400K
 * weights at few rows (TinyBERT-4, the [CLS]-only last layer: 49 against
 * 75). So:
 *   AVX-512 and up                       -> oneDNN packed
 *   below, K·N >= 2^19 (BERT-base class) -> OpenBLAS
 *   below, smaller layers                -> oneDNN packed
 * Plain oneDNN never wins by a margin; it stays selectable (rt_options.
 * kernel) for measurements. A rule by ISA and shape, not a timing: the
 * same kind of machine always gets the same kernels, hence the same
 * rounding, whatever else is running while the model loads.
 *
 * OpenBLAS's own thread pool (Debian's default build uses pthreads) would
 * compete with the runtime's OpenMP threads for the same cores, so each
 * OpenMP thread runs a single-threaded sgemm on its own block of columns
 * and applies the epilogue to it while it is in cache.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "backend/rt_internal.h"
#include "ir/fast_exp.h"

/* OpenBLAS's thread-count calls (its cblas.h has them; netlib's does not). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

const char *rt_kernel_name(rt_kernel k)
{
    static const char *const names[RT_KERNEL_COUNT] = {
        "auto", "onednn_packed", "onednn_plain", "openblas", "onednn_int8"};
    return (unsigned)k < RT_KERNEL_COUNT ? names[k] : "?";
}

int rt_kernel_parse(const char *s, rt_kernel *out)
{
    for (int k = 0; k < RT_KERNEL_COUNT; k++)
        if (strcmp(s, rt_kernel_name((rt_kernel)k)) == 0) {
            *out = (rt_kernel)k;
            return 1;
        }
    return 0;
}

/* Layers with at least this many weights go to OpenBLAS below AVX-512
 * (the header: 768x768 = 589,824 is above, 312x1200 = 374,400 below). */
#define LIN_BLAS_MIN_WEIGHTS ((int64_t)1 << 19)

rt_kernel rt_kernel_rule(cpu_level level, ir_precision p, int64_t k, int64_t n)
{
    if (p == IR_PRECISION_INT8)
        return RT_KERNEL_ONEDNN_INT8;
    if (p == IR_PRECISION_BF16 || level >= CPU_LEVEL_AVX512)
        return RT_KERNEL_ONEDNN_PACKED;
    return k * n >= LIN_BLAS_MIN_WEIGHTS ? RT_KERNEL_OPENBLAS
                                         : RT_KERNEL_ONEDNN_PACKED;
}

/* ---- the fused epilogue ------------------------------------------------- */

/* GELU, erf form (ONNX Gelu-20, approximate="none"): 0.5 x (1 + erf(x/√2)),
 * erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7) on |x|, its sign by
 * a 0/1 factor rather than a branch. */
static inline float lin_gelu_erf(float x)
{
    /* |x| clamped at 9: there 0.5 erfc(9/√2) ~ 1e-19 is below anything the
     * result can show, and every intermediate stays a normal float. At 13
     * (distill/gelu.c's bound) the tail's products are subnormal, ~100
     * cycles each on x86: the TinyBERT-4 FFN up + GELU layer ran at 68
     * GFLOP/s instead of 81 (1 thread, emulated AVX2 machine). */
    float xc = fast_abs_min(x, 9.0f);
    float e = fast_exp_neg(-0.5f * xc * xc);
    float h = fast_erfc_half(xc * 0.70710678118654752440f, e); /* 0.5 erfc(|x|/√2) */
    float pos = (float)(x >= 0.0f);
    return x * (h + pos * (1.0f - 2.0f * h));
}

/* tanh(u) = sign(u) (1 - e) / (1 + e), e = e^(-2|u|) (Tanh-13). */
static inline float lin_tanh(float u)
{
    float a = fast_abs_min(u, 9.0f); /* e^-18 ~ 1.5e-8: t rounds to 1 */
    float e = fast_exp_neg(-2.0f * a);
    float t = (1.0f - e) / (1.0f + e);
    float neg = (float)(u < 0.0f);
    return t - 2.0f * neg * t;
}

/* GELU, tanh form (Gelu-20, approximate="tanh"). */
static inline float lin_gelu_tanh(float x)
{
    float u = 0.79788456080286535588f * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + lin_tanh(u));
}

/* GCC clones for AVX-512 / AVX2 / baseline, picked at load time: the same
 * arithmetic (-std=c17 does not contract to FMA), wider vectors. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define LIN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LIN_CLONES
#endif

/* y[rows, j0..j1) = act(y + b) (+ r), one pass; ld is the row stride of y
 * and r. One loop per activation so each vectorises on its own. */
LIN_CLONES
static void lin_epilogue(float *y, const float *b, const float *r,
                         ir_act act, int64_t rows, int64_t ld, int64_t j0,
                         int64_t j1)
{
    static const float zero[1] = {0.0f};
    for (int64_t i = 0; i < rows; i++) {
        float *yi = y + i * ld;
        const float *ri = r ? r + i * ld : NULL;
        const float *bb = b ? b : zero;
        int64_t bs = b ? 1 : 0; /* stride 0: no bias */
        switch (act) {
        case IR_ACT_GELU:
#pragma omp simd
            for (int64_t j = j0; j < j1; j++)
                yi[j] = lin_gelu_erf(yi[j] + bb[j * bs]);
            break;
        case IR_ACT_GELU_TANH:
#pragma omp simd
            for (int64_t j = j0; j < j1; j++)
                yi[j] = lin_gelu_tanh(yi[j] + bb[j * bs]);
            break;
        case IR_ACT_RELU:
#pragma omp simd
            for (int64_t j = j0; j < j1; j++) {
                float v = yi[j] + bb[j * bs];
                yi[j] = v > 0.0f ? v : 0.0f;
            }
            break;
        case IR_ACT_TANH:
#pragma omp simd
            for (int64_t j = j0; j < j1; j++)
                yi[j] = lin_tanh(yi[j] + bb[j * bs]);
            break;
        default:
            if (b) {
#pragma omp simd
                for (int64_t j = j0; j < j1; j++)
                    yi[j] += b[j];
            }
            break;
        }
        if (ri) {
#pragma omp simd
            for (int64_t j = j0; j < j1; j++)
                yi[j] += ri[j];
        }
    }
}

/* Columns per thread block: whole cache lines, and at least this many so
 * a thread's sgemm is not all packing overhead. */
enum { LIN_COL_ALIGN = 16, LIN_MIN_COLS = 64 };

/* OpenBLAS on the calling thread's OpenMP team: thread t computes columns
 * [j0, j1) of y with a single-threaded sgemm, then its epilogue. */
static void lin_blas_run(const rt_linear *l, int64_t rows, const float *x,
                         float *y, const float *r)
{
    int64_t n = l->n;
    int64_t parts = omp_get_max_threads();
    if (parts > n / LIN_MIN_COLS)
        parts = n / LIN_MIN_COLS;
    if (parts < 1)
        parts = 1;
    int64_t per = (n + parts - 1) / parts;
    per = (per + LIN_COL_ALIGN - 1) / LIN_COL_ALIGN * LIN_COL_ALIGN;
    /* OpenBLAS's thread count is its own process-wide setting: 1 while
     * these calls run (each OpenMP thread is one worker), then as it was,
     * for other users of OpenBLAS in the process (the trainer's gemm.c).
     * Two models run at once from two threads may see each other's
     * setting: that changes the speed only, as OpenBLAS splits sgemm over
     * rows and columns, never over K, so the sums do not change. */
    int was = openblas_get_num_threads();
    if (was != 1)
        openblas_set_num_threads(1);
#pragma omp parallel for schedule(static) num_threads((int)parts) if (parts > 1)
    for (int64_t t = 0; t < parts; t++) {
        int64_t j0 = t * per, j1 = j0 + per < n ? j0 + per : n;
        if (j0 < j1) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows,
                        (int)(j1 - j0), (int)l->k, 1.0f, x, (int)l->k,
                        l->w + j0, (int)n, 0.0f, y + j0, (int)n);
            lin_epilogue(y, l->b, r, l->act, rows, n, j0, j1);
        }
    }
    if (was != 1)
        openblas_set_num_threads(was);
}

/* ---- create, run, free -------------------------------------------------- */

ir_status rt_linear_init(onednn_ctx *ctx, rt_linear *l, ir_precision p,
                         rt_kernel force, int64_t k, int64_t n,
                         const float *w_kn, const float *b, ir_act act,
                         float in_scale, ir_diag *d)
{
    memset(l, 0, sizeof *l);
    if (!w_kn)
        return ir_diag_set(d, IR_ERR_INPUT, "weights are NULL");
    if (k <= 0 || n <= 0 || k > INT32_MAX || n > INT32_MAX ||
        (unsigned)act >= IR_ACT_COUNT || (unsigned)p >= IR_PRECISION_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "linear [%lldx%lld]: K and N must be 1..2^31-1, "
                           "precision and activation valid", (long long)k,
                           (long long)n);
    rt_kernel kern = rt_kernel_rule(cpu_level_get(), p, k, n);
    if (p == IR_PRECISION_FP32 && force != RT_KERNEL_AUTO) {
        if (force == RT_KERNEL_ONEDNN_INT8 || (unsigned)force >= RT_KERNEL_COUNT)
            return ir_diag_set(d, IR_ERR_INPUT, "linear: kernel %s cannot run fp32",
                               rt_kernel_name(force));
        kern = force;
    }
    l->p = p;
    l->k = k;
    l->n = n;
    l->act = act;
    l->ctx = ctx;
    ir_status s = IR_OK;
    if (kern == RT_KERNEL_ONEDNN_INT8) {
        s = onednn_qlinear_create(ctx, k, n, w_kn, b, act, in_scale, &l->q, d);
    } else if (kern == RT_KERNEL_ONEDNN_PACKED) {
        onednn_linear_desc ld = {
            .dt = p == IR_PRECISION_BF16 ? ONEDNN_BF16 : ONEDNN_F32,
            .k = k, .n = n, .w_is_nk = 0, .act = act, .m_hint = 128};
        s = onednn_linear_create(ctx, &ld, w_kn, b, &l->f, d);
    } else {
        size_t wn = (size_t)k * (size_t)n;
        l->w = malloc(wn * sizeof *l->w);
        l->b = b ? malloc((size_t)n * sizeof *l->b) : NULL;
        if (!l->w || (b && !l->b))
            s = ir_diag_set(d, IR_ERR_NOMEM, "linear [%lldx%lld]: out of memory "
                            "for %zu bytes of weights", (long long)k,
                            (long long)n, wn * sizeof *l->w);
        else {
            memcpy(l->w, w_kn, wn * sizeof *l->w);
            if (b)
                memcpy(l->b, b, (size_t)n * sizeof *l->b);
        }
    }
    if (s != IR_OK) {
        rt_linear_free(l);
        return s;
    }
    l->kernel = kern;
    if (kern == RT_KERNEL_ONEDNN_INT8)
        snprintf(l->name, sizeof l->name, "%s (%s)", rt_kernel_name(kern),
                 onednn_qlinear_kernel(l->q));
    else
        snprintf(l->name, sizeof l->name, "%s%s", rt_kernel_name(kern),
                 p == IR_PRECISION_BF16 ? " bf16" : "");
    return IR_OK;
}

ir_status rt_linear_run(rt_linear *l, int64_t rows, const float *x, float *y,
                        const float *r, ir_diag *d)
{
    switch (l->kernel) {
    case RT_KERNEL_ONEDNN_INT8:
        return onednn_qlinear_run(l->q, rows, x, y, r, d);
    case RT_KERNEL_ONEDNN_PACKED:
        return onednn_linear_run(l->f, rows, x, y, r, d);
    case RT_KERNEL_ONEDNN_PLAIN: {
        if (rows <= 0 || !x || !y)
            return ir_diag_set(d, IR_ERR_INPUT, "linear: rows must be positive "
                               "and x, y given");
        onednn_matmul_desc md = {.dt = ONEDNN_F32, .has_bias = l->b != NULL,
                                 .act = l->act, .has_r = r != NULL};
        md.a = onednn_view_dense(2, (int64_t[]){rows, l->k});
        md.b = onednn_view_dense(2, (int64_t[]){l->k, l->n});
        md.c = onednn_view_dense(2, (int64_t[]){rows, l->n});
        md.r = md.c;
        onednn_matmul_args ma = {x, l->w, l->b, y, r};
        return onednn_matmul_run(l->ctx, &md, &ma, d);
    }
    case RT_KERNEL_OPENBLAS:
        if (rows <= 0 || rows > INT32_MAX || !x || !y)
            return ir_diag_set(d, IR_ERR_INPUT, "linear: rows must be 1..2^31-1 "
                               "and x, y given");
        lin_blas_run(l, rows, x, y, r);
        return IR_OK;
    default:
        return ir_diag_set(d, IR_ERR_INPUT, "linear: not created");
    }
}

void rt_linear_free(rt_linear *l)
{
    onednn_qlinear_free(l->q);
    onednn_linear_free(l->f);
    free(l->w);
    free(l->b);
    memset(l, 0, sizeof *l);
}

int64_t rt_linear_bytes(const rt_linear *l)
{
    int64_t kn = l->k * l->n;
    switch (l->kernel) {
    case RT_KERNEL_ONEDNN_INT8: return kn + 4 * l->n;
    case RT_KERNEL_AUTO: return 0;
    default: break;
    }
    /* the packed kind keeps its bias inside onednn_linear: the model's
     * wrapper adds it, as it knows whether there was one */
    return kn * (l->p == IR_PRECISION_BF16 ? 2 : 4) + (l->b ? 4 * l->n : 0);
}

const char *rt_linear_kernel(const rt_linear *l)
{
    return l->kernel == RT_KERNEL_AUTO ? NULL : l->name;
}

/* ---- the model's wrapper ------------------------------------------------ */

ir_status rt_linear_create(rt_model *m, rt_linear *l, ir_precision p,
                           int64_t k, int64_t n, const float *w_kn,
                           const float *b, ir_act act, float in_scale,
                           const char *what, ir_diag *d)
{
    ir_status s = rt_linear_init(m->ctx, l, p, m->o.kernel, k, n, w_kn, b, act,
                                 in_scale, d);
    if (s == IR_OK)
        m->weight_bytes += rt_linear_bytes(l) +
                           (l->kernel == RT_KERNEL_ONEDNN_PACKED && b ? 4 * n : 0);
    else
        ir_diag_prefix(d, "rt: %s", what);
    return s;
}

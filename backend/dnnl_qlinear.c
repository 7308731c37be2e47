/* dnnl_qlinear.c — the int8 linear layer of dnnl_qlinear.h on oneDNN 2.6: a
 * u8 x s8 matmul (src u8, weights s8 packed once in the layout the
 * primitive picks, dst f32) with per-column scales, an f32
 * bias, and activation / residual post-ops. On AVX512-VNNI machines oneDNN
 * runs it with its brgemm avx512_core_vnni kernels (vpdpbusd).
 *
 * Without VNNI (AVX2 machines such as Zen 3, AVX-512 ones before Cascade
 * Lake) oneDNN multiplies with vpmaddubsw, which adds each pair of u8·s8
 * products into a saturating s16: 2·255·127 = 64770 does not fit, and the
 * results were wrong by up to 93% (Zen 3, issue 14). There the weights
 * are quantised to 7 bits (|wq| <= 63, as ONNX Runtime's reduce_range):
 * 2·255·63 = 32130 <= 32767, so no pair can saturate whatever the input.
 * The choice is made when the layer is created, from the CPU it runs on
 * (backend/dnnl_engine.h onednn_int8_has_vnni), so a program built on one
 * machine is right on any other.
 *
 * The per-column scales sx·sw[n] change with every dynamic input, so they
 * are a runtime tensor [1,N] applied by a binary-multiply post-op: oneDNN
 * 2.6 drops from brgemm to its slower gemm:jit path when the output scales
 * are runtime values (DNNL_RUNTIME_F32_VAL), but keeps brgemm for binary
 * post-ops.
 *
 * The quantisation, exactly (tests/backend/test_qlinear.c repeats these formulas to
 * check the result against an integer reference):
 *   weights, per output column n, with Q = 127 (VNNI) or 63 (without):
 *     sw[n] = max_k |W[k,n]| / Q (1 when the column is all zero)
 *     wq[k,n] = rintf(W[k,n] / sw[n])                  in -Q..Q
 *   activations, per tensor (per call of onednn_qlinear_run):
 *     dynamic: lo = min(0, min x), hi = max(0, max x) (0 stays exact),
 *              sx = (hi - lo) / 255, zp = rintf(-lo / sx) clamped 0..255
 *              (sx = 1, zp = 0 when x is all zero)
 *     static:  sx = in_scale, zp = 128
 *     xq = (int)clamp(x * (1 / sx) + (zp + 0.5), 0, 255)  (rounds half up;
 *          written so the compiler can vectorise it)
 *   y[m,n] = act(sx·sw[n] · Σ_k (xq[m,k] - zp)·wq[k,n] + bias[n]) (+ r)
 *
 * The zero point is not given to oneDNN: Σ (xq - zp)·wq = Σ xq·wq -
 * zp·colsum[n], and that per-column correction is folded with the bias into
 * one f32 vector the matmul adds to its s32 accumulator before the post-ops
 * (dst = post-ops(acc + bias)). So the matmul
 * stays a plain u8 x s8 product with no runtime compensation pass over the
 * weights, and one primitive (scales as a runtime tensor) serves every input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/dnnl_internal.h"
#include "backend/dnnl_qlinear.h"

struct onednn_qlinear {
    onednn_ctx *ctx;
    int64_t k, n;
    ir_act act;
    float in_scale;                 /* 0: dynamic */
    int wmax;                       /* Q: 127, or 63 without VNNI */
    char kernel[96];                /* oneDNN's implementation, for bench */
    dnnl_memory_desc_t packed_md;   /* layout the s8 weights are packed in */
    void *packed;                   /* s8 [K,N] in packed_md */
    float *wscale;                  /* [N] sw */
    int32_t *colsum;                /* [N] Σ_k wq[k,n] */
    float *bias;                    /* [N] or NULL */
    float *scales;                  /* [N] sx·sw[n] for the last sx */
    float *beff;                    /* [N] bias/(sx·sw) - zp·colsum */
    float last_sx;                  /* sx, zp scales/beff were made for; */
    int32_t last_zp;                /* last_sx 0 = not yet */
    uint8_t *xq;                    /* quantised input, grown as needed */
    size_t xq_len;
    onednn_cache cache;             /* one entry per (M, residual) */
};

static void qlinear_name(const onednn_qlinear *q, int64_t m, char *buf,
                         size_t n)
{
    snprintf(buf, n, "int8 linear [%lldx%lld]·[%lldx%lld] %s %s",
             (long long)m, (long long)q->k, (long long)q->k, (long long)q->n,
             ir_act_form_name(q->act), q->in_scale > 0 ? "static" : "dynamic");
}


/* Attributes: the per-column scales as a binary multiply (a runtime
 * tensor), then activation, then the residual add. */
static ir_status qlinear_attr(const onednn_qlinear *q,
                              const dnnl_memory_desc_t *scale_md,
                              const dnnl_memory_desc_t *r_md,
                              dnnl_primitive_attr_t *attr, ir_diag *d,
                              const char *what)
{
    dnnl_post_ops_t po = NULL;
    ir_status s = onednn_check(dnnl_primitive_attr_create(attr), d, what);
    if (s == IR_OK)
        s = onednn_check(dnnl_post_ops_create(&po), d, what);
    if (s == IR_OK)
        s = onednn_check(dnnl_post_ops_append_binary(po, dnnl_binary_mul, scale_md),
                         d, what);
    if (s == IR_OK && q->act != IR_ACT_NONE)
        s = onednn_check(dnnl_post_ops_append_eltwise(po, 1.0f, onednn_act_alg(q->act),
                                                      0.0f, 0.0f), d, what);
    if (s == IR_OK && r_md)
        s = onednn_check(dnnl_post_ops_append_binary(po, dnnl_binary_add, r_md),
                         d, what);
    if (s == IR_OK)
        s = onednn_check(dnnl_primitive_attr_set_post_ops(*attr, po), d, what);
    if (po)
        dnnl_post_ops_destroy(po);
    if (s != IR_OK && *attr) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
    }
    return s;
}

/* Primitive desc for M rows. mds: src, weights (as chosen), bias, dst,
 * residual, scales [1,N]. The caller destroys *pd. */
static ir_status qlinear_pd(const onednn_qlinear *q, int64_t m, int with_r,
                            dnnl_primitive_desc_t *pd, dnnl_memory_desc_t *mds,
                            ir_diag *d, const char *what)
{
    dnnl_dims_t sd = {m, q->k}, wd = {q->k, q->n}, bd = {1, q->n},
                dd = {m, q->n};
    dnnl_memory_desc_init_by_tag(&mds[0], 2, sd, dnnl_u8, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&mds[1], 2, wd, dnnl_s8, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&mds[2], 2, bd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&mds[3], 2, dd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&mds[4], 2, dd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&mds[5], 2, bd, dnnl_f32, dnnl_ab);
    dnnl_matmul_desc_t op;
    /* Always with a bias: it carries the zero-point correction. */
    ir_status s = onednn_check(dnnl_matmul_desc_init(&op, &mds[0], &mds[1],
                                                     &mds[2], &mds[3]), d, what);
    if (s != IR_OK)
        return s;
    dnnl_primitive_attr_t attr;
    s = qlinear_attr(q, &mds[5], with_r ? &mds[4] : NULL, &attr, d, what);
    if (s != IR_OK)
        return s;
    s = onednn_check(dnnl_primitive_desc_create(pd, &op, attr, q->ctx->engine, NULL),
                     d, what);
    dnnl_primitive_attr_destroy(attr);
    if (s == IR_OK) /* the layout the implementation chose for the weights */
        mds[1] = *dnnl_primitive_desc_query_md(*pd, dnnl_query_weights_md, 0);
    return s;
}

/* Per-column symmetric quantisation of W [K,N] into wq (row-major [K,N]),
 * filling q->wscale and q->colsum. */
static void qlinear_quantize_weights(onednn_qlinear *q, const float *w,
                                     int8_t *wq)
{
    size_t K = (size_t)q->k, N = (size_t)q->n;
    for (size_t j = 0; j < N; j++)
        q->wscale[j] = 0.0f;
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < N; j++) {
            float a = fabsf(w[i * N + j]);
            if (a > q->wscale[j])
                q->wscale[j] = a;
        }
    for (size_t j = 0; j < N; j++) {
        q->wscale[j] = q->wscale[j] > 0.0f ? q->wscale[j] / (float)q->wmax : 1.0f;
        q->colsum[j] = 0;
    }
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < N; j++) {
            float v = rintf(w[i * N + j] / q->wscale[j]);
            /* |W| <= Q·sw up to rounding of the division: clamp anyway */
            const float qm = (float)q->wmax;
            v = v < -qm ? -qm : v > qm ? qm : v;
            wq[i * N + j] = (int8_t)v;
            q->colsum[j] += (int32_t)v;
        }
}

ir_status onednn_qlinear_create(onednn_ctx *ctx, int64_t k, int64_t n,
                                const float *w, const float *bias,
                                ir_act act, float in_scale,
                                onednn_qlinear **out, ir_diag *d)
{
    char what[256];
    snprintf(what, sizeof what, "int8 linear [Mx%lld]·[%lldx%lld] %s",
             (long long)k, (long long)k, (long long)n, ir_act_form_name(act));
    if (out)
        *out = NULL;
    if (!ctx || !out)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: context and output pointer are required",
                           what);
    if (k <= 0 || n <= 0)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: K = %lld and N = %lld must be positive",
                           what, (long long)k, (long long)n);
    if (!w)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: weights W [K,N] not given", what);
    if ((unsigned)act >= IR_ACT_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: unknown activation %d", what, (int)act);
    for (int64_t i = 0; i < k * n; i++)
        if (!isfinite(w[i]))
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: weight W[%lld][%lld] = %g is not finite", what,
                               (long long)(i / n), (long long)(i % n), (double)w[i]);
    if (!(in_scale >= 0.0f) || isinf(in_scale) ||
        (in_scale > 0.0f && isinf(1.0f / in_scale)))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: input scale %g must be finite and >= 0 "
                           "(0: dynamic), and its inverse finite", what,
                           (double)in_scale);
    /* Σ_k (xq - zp)·wq must fit int32: |.| <= K·255·127. */
    if (k > INT32_MAX / (255 * 127))
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "%s: K = %lld is too large for int32 accumulation",
                           what, (long long)k);
    onednn_qlinear *q = calloc(1, sizeof *q);
    if (!q)
        return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", what);
    q->ctx = ctx;
    q->k = k;
    q->n = n;
    q->act = act;
    q->in_scale = in_scale;
    q->wmax = onednn_int8_has_vnni() ? 127 : 63;
    size_t N = (size_t)n;
    q->wscale = malloc(N * sizeof *q->wscale);
    q->colsum = malloc(N * sizeof *q->colsum);
    q->scales = malloc(N * sizeof *q->scales);
    q->beff = malloc(N * sizeof *q->beff);
    if (bias)
        q->bias = malloc(N * sizeof *q->bias);
    int8_t *wq = malloc((size_t)k * N);
    ir_status s = IR_OK;
    if (!q->wscale || !q->colsum || !q->scales || !q->beff || (bias && !q->bias) || !wq)
        s = ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", what);
    if (s == IR_OK) {
        if (bias)
            memcpy(q->bias, bias, N * sizeof *bias);
        qlinear_quantize_weights(q, w, wq);
        dnnl_primitive_desc_t pd;
        dnnl_memory_desc_t mds[6];
        s = qlinear_pd(q, 128, 0, &pd, mds, d, what);
        if (s == IR_OK) {
            q->packed_md = mds[1];
            const char *impl = NULL;
            if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0,
                                          &impl) != dnnl_success || !impl)
                impl = "?";
            snprintf(q->kernel, sizeof q->kernel, "%s, %d-bit weights", impl,
                     q->wmax == 127 ? 8 : 7);
            dnnl_primitive_desc_destroy(pd);
            dnnl_memory_desc_t wmd;
            dnnl_dims_t wd = {k, n};
            dnnl_memory_desc_init_by_tag(&wmd, 2, wd, dnnl_s8, dnnl_ab);
            s = onednn_reorder_new(ctx, &wmd, wq, &q->packed_md, &q->packed, d, what);
        }
    }
    free(wq);
    if (s != IR_OK) {
        onednn_qlinear_free(q);
        return s;
    }
    *out = q;
    return IR_OK;
}

/* Both loops below work in blocks of QLINEAR_LANES independent lanes: the
 * compiler turns such blocks into SIMD min/max and convert instructions at
 * -O2, where a plain running min or a one-element loop stays scalar (3x
 * slower, measured: 0.76 ms against 0.26 ms for a 128 x 3072 input). */
enum { QLINEAR_LANES = 16 };

/* The library is built for baseline x86-64 (emitted binaries run
 * anywhere), where SSE2 narrows float -> u8 in a dozen shuffles; with GCC
 * on x86-64 the two loops also get AVX2 and AVX-512 clones, picked at load
 * time by the CPU (the results are identical: same operations, wider). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define QLINEAR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define QLINEAR_CLONES
#endif

/* Running min/max of x[0..len) folded into *l, *h (both start at 0). */
QLINEAR_CLONES
static void qlinear_range_part(const float *x, size_t len, float *l, float *h)
{
    float lo[QLINEAR_LANES] = {0}, hi[QLINEAR_LANES] = {0};
    size_t i = 0;
    for (; i + QLINEAR_LANES <= len; i += QLINEAR_LANES)
        for (size_t j = 0; j < QLINEAR_LANES; j++) {
            float v = x[i + j];
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
        }
    for (; i < len; i++) {
        lo[0] = x[i] < lo[0] ? x[i] : lo[0];
        hi[0] = x[i] > hi[0] ? x[i] : hi[0];
    }
    for (size_t j = 0; j < QLINEAR_LANES; j++) {
        *l = lo[j] < *l ? lo[j] : *l;
        *h = hi[j] > *h ? hi[j] : *h;
    }
}

/* sx and zp from the range [l, h] (l <= 0 <= h), per the header comment. */
static void qlinear_params(float l, float h, float *sx, int32_t *zp)
{
    float s = (h - l) / 255.0f;
    if (!(s > 0.0f) || isinf(s)) { /* all zero (or not finite: saturate) */
        *sx = 1.0f;
        *zp = 0;
        return;
    }
    float z = rintf(-l / s);
    *sx = s;
    *zp = (int32_t)(z < 0.0f ? 0.0f : z > 255.0f ? 255.0f : z);
}

/* xq = (int)clamp(x * (1 / sx) + (zp + 0.5), 0, 255): rounds half up;
 * compares rather than fminf/fmaxf so that the block vectorises (to
 * maxps/minps), ordered so that a NaN becomes 0 rather than reaching the
 * int conversion. */
QLINEAR_CLONES
static void qlinear_quantize_input(const float *x, size_t len, float sx,
                                   int32_t zp, uint8_t *xq)
{
    const float inv = 1.0f / sx, z = (float)zp + 0.5f;
    size_t i = 0;
    for (; i + QLINEAR_LANES <= len; i += QLINEAR_LANES) {
        int32_t t[QLINEAR_LANES];
        for (size_t j = 0; j < QLINEAR_LANES; j++) {
            float v = x[i + j] * inv + z;
            v = v > 0.0f ? v : 0.0f; /* NaN -> 0 */
            v = v < 255.0f ? v : 255.0f;
            t[j] = (int32_t)v;
        }
        for (size_t j = 0; j < QLINEAR_LANES; j++)
            xq[i + j] = (uint8_t)t[j];
    }
    for (; i < len; i++) {
        float v = x[i] * inv + z;
        v = v > 0.0f ? v : 0.0f; /* NaN -> 0 */
        v = v < 255.0f ? v : 255.0f;
        xq[i] = (uint8_t)(int32_t)v;
    }
}

/* Output scales and the bias carrying the zero-point correction, for sx, zp:
 * sx·sw·(acc + beff) = sx·sw·(acc - zp·colsum) + bias. */
static void qlinear_epilogue(onednn_qlinear *q, float sx, int32_t zp)
{
    if (q->last_sx == sx && q->last_zp == zp)
        return;
    for (int64_t j = 0; j < q->n; j++) {
        float s = sx * q->wscale[j];
        q->scales[j] = s;
        q->beff[j] = (q->bias ? q->bias[j] / s : 0.0f) -
                     (float)zp * (float)q->colsum[j];
    }
    q->last_sx = sx;
    q->last_zp = zp;
}

/* Chunks the input is split into across threads: a multiple of
 * QLINEAR_LANES so that every chunk runs the same vector blocks as one
 * serial pass would (the result does not depend on the thread count), and
 * large enough that the fork pays: below two chunks it stays serial. */
enum { QLINEAR_CHUNK = 16384 };

/* Range (when dynamic) and quantisation of x in one parallel region: a
 * static schedule over chunks, the min/max reduced at the end of the first
 * loop (its implicit barrier), then every thread derives the same sx, zp
 * and quantises its chunks. Measured on BERT-base int8 with 2 threads. */
static void qlinear_quantize(const onednn_qlinear *q, const float *x, size_t len,
                             uint8_t *xq, float *sx_out, int32_t *zp_out)
{
    const int dynamic = q->in_scale == 0.0f;
    const long chunks = (long)((len + QLINEAR_CHUNK - 1) / QLINEAR_CHUNK);
    float l = 0.0f, h = 0.0f, sx = q->in_scale;
    int32_t zp = 128;
    if (chunks < 2) {
        if (dynamic) {
            qlinear_range_part(x, len, &l, &h);
            qlinear_params(l, h, &sx, &zp);
        }
        qlinear_quantize_input(x, len, sx, zp, xq);
        *sx_out = sx;
        *zp_out = zp;
        return;
    }
#pragma omp parallel firstprivate(sx, zp)
    {
        if (dynamic) {
#pragma omp for schedule(static) reduction(min : l) reduction(max : h)
            for (long c = 0; c < chunks; c++) {
                size_t o = (size_t)c * QLINEAR_CHUNK;
                size_t n = len - o < QLINEAR_CHUNK ? len - o : QLINEAR_CHUNK;
                qlinear_range_part(x + o, n, &l, &h);
            }
            qlinear_params(l, h, &sx, &zp);
        }
#pragma omp for schedule(static)
        for (long c = 0; c < chunks; c++) {
            size_t o = (size_t)c * QLINEAR_CHUNK;
            size_t n = len - o < QLINEAR_CHUNK ? len - o : QLINEAR_CHUNK;
            qlinear_quantize_input(x + o, n, sx, zp, xq + o);
        }
#pragma omp single nowait
        {
            *sx_out = sx;
            *zp_out = zp;
        }
    }
}

ir_status onednn_qlinear_run(onednn_qlinear *q, int64_t m, const float *x,
                             float *y, const float *r, ir_diag *d)
{
    if (!q)
        return ir_diag_set(d, IR_ERR_INPUT, "int8 linear: layer not given");
    char what[256];
    qlinear_name(q, m, what, sizeof what);
    if (m <= 0 || !x || !y)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: M must be positive and x, y given",
                           what);
    onednn_key key;
    memset(&key, 0, sizeof key);
    key.w[0] = m;
    key.w[1] = r != NULL;
    onednn_entry *e = onednn_cache_find(&q->cache, &key);
    if (!e) {
        dnnl_primitive_desc_t pd;
        dnnl_memory_desc_t mds[6];
        ir_status s = qlinear_pd(q, m, r != NULL, &pd, mds, d, what);
        if (s != IR_OK)
            return s;
        void *repacked;
        dnnl_primitive_t prim;
        s = onednn_prim_with_packed_weights(q->ctx, pd, &mds[1], &q->packed_md,
                                            q->packed, &prim, &repacked, d, what);
        if (s != IR_OK)
            return s;
        int ids[6] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST,
                      DNNL_ARG_ATTR_MULTIPLE_POST_OP(1 + (q->act != IR_ACT_NONE)) |
                          DNNL_ARG_SRC_1,
                      DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1};
        int aids[6];
        dnnl_memory_desc_t use[6];
        int n = 0;
        for (int i = 0; i < 6; i++) {
            if (i == 4 && !r)
                continue;
            aids[n] = ids[i];
            use[n++] = mds[i];
        }
        s = onednn_cache_add(q->ctx, &q->cache, &key, prim, n, aids, use, &e, d,
                             what);
        if (s != IR_OK) {
            free(repacked);
            return s;
        }
        e->aux = repacked;
        e->aux_free = onednn_aligned_free;
    }
    size_t len = (size_t)m * (size_t)q->k;
    if (len > q->xq_len) {
        uint8_t *nb = onednn_aligned_alloc(len);
        if (!nb)
            return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory for the u8 input",
                               what);
        free(q->xq);
        q->xq = nb;
        q->xq_len = len;
    }
    float sx;
    int32_t zp;
    qlinear_quantize(q, x, len, q->xq, &sx, &zp);
    qlinear_epilogue(q, sx, zp);
    void *ptrs[6];
    int n = 0;
    ptrs[n++] = q->xq;
    ptrs[n++] = e->aux ? e->aux : q->packed;
    ptrs[n++] = q->beff;
    ptrs[n++] = y;
    if (r)
        ptrs[n++] = (void *)r;
    ptrs[n++] = q->scales;
    return onednn_entry_run(q->ctx, e, ptrs, d, what);
}

int onednn_qlinear_weight_max(const onednn_qlinear *q) { return q ? q->wmax : 0; }

const char *onednn_qlinear_kernel(const onednn_qlinear *q)
{
    return q ? q->kernel : "";
}

void onednn_qlinear_free(onednn_qlinear *q)
{
    if (!q)
        return;
    onednn_cache_clear(&q->cache);
    free(q->packed);
    free(q->wscale);
    free(q->colsum);
    free(q->bias);
    free(q->scales);
    free(q->beff);
    free(q->xq);
    free(q);
}

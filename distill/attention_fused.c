/* attention_fused.c — the trainer's multi-head attention (distill/kernels.h,
 * "multi-head self-attention") with everything of one (batch, head) done
 * in one pass while its T x T tile is still in cache: q·kᵀ, the softmax and
 * probs·v forward; dout·vᵀ, pᵀ·dout, the softmax's backward, ds·k and dsᵀ·q
 * backward. At the student's shapes (T 64, head size 26) these products
 * are too small for oneDNN's batched matmul to reach a good rate, and its
 * separate softmax passes stream the [B,NH,T,T] tensors through memory once
 * more; here each product is a register-blocked micro-kernel on L1-resident
 * operands.
 *
 * Conventions
 * - One product shape serves all six: Cm[M,N] = alpha · A[M,K] · Bm[K,N]
 *   with Bm and Cm row-major (N contiguous) and A read one element at a
 *   time through two strides, so Aᵀ costs nothing (pᵀ·dout, dsᵀ·q).
 * - Per (b, h), q, k, v (and dout) are copied out of the packed rows into
 *   dense per-thread tiles, kᵀ or vᵀ transposed; the head's gradients are
 *   summed there and added into dqkv in one pass at the end; out is
 *   written in place.
 * - Three kernel sets: AVX-512, AVX2 + FMA (for CPUs without AVX-512,
 *   Haswell to Zen 3) and portable C. AUTO picks the best that
 *   cpu_level_get() allows (ir/cpu.h), so DISTILC_MAX_ISA caps it and the
 *   lower sets can be run on any machine. Each product sums every output
 *   over k = 0, 1, ... in order; the sets differ in rounding only (FMA
 *   against multiply-then-add, in the products and in the exp's
 *   polynomial, and the order of the double sums in the softmax rows).
 * - Every (b, h) writes only its own slices, with the same arithmetic
 *   whichever thread runs it, so results do not depend on the thread count.
 * - The softmax row and its backward are attention.c's attn_softmax_row and
 *   attn_softmax_backward_row arithmetic (max, fast_exp_neg_abs, a double
 *   sum, one multiply by its inverse; a double p·dp sum). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "ir/fast_exp.h"
#include "distill/kernels.h"
#include "distill/softmax_row.h"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define ATTN_FUSED_HAVE_AVX512 1
#include <immintrin.h>
#else
#define ATTN_FUSED_HAVE_AVX512 0
#endif
/* The AVX2 set needs the same: GCC or clang intrinsics on x86-64. */
#define ATTN_FUSED_HAVE_AVX2 ATTN_FUSED_HAVE_AVX512

/* The sizes the per-thread scratch is planned for (kernels.h promises
 * these; larger shapes go back to the batched GEMMs). */
enum { FUSED_MAX_T = 512, FUSED_MAX_HS = 128 };

/* x rounded up to a multiple of 16 floats: packed rows start on 64-byte
 * lines. */
static size_t fused_pad16(size_t x)
{
    return (x + 15) / 16 * 16;
}

/* ---- softmax rows: portable C ------------------------------------------
 * Plain C that vectorizes. The AVX-512 and AVX2 versions further down do
 * the same arithmetic with intrinsics: the compiler's own vector code for
 * these short rows spends most of its time in the reductions' horizontal
 * sums. */

/* The rows of softmax_row.h (attention.c's arithmetic). */
static void fused_softmax_row_c(float *pr, const float *sc, const int32_t *mk,
                                size_t T)
{
    train_softmax_row(pr, sc, mk, T);
}

static void fused_softmax_backward_row_c(float *ds, const float *dp,
                                         const float *pr, size_t T)
{
    train_softmax_backward_row(ds, dp, pr, T);
}

/* dst [rows, ldd] = src [rows, lds], cols floats a row. */
static void fused_copy_rows_c(float *dst, size_t ldd, const float *src,
                              size_t lds, size_t rows, size_t cols)
{
    for (size_t j = 0; j < rows; j++)
        for (size_t d = 0; d < cols; d++)
            dst[j * ldd + d] = src[j * lds + d];
}

/* dst [cols, ldd] = src [rows, lds] transposed. */
static void fused_transpose_c(float *dst, size_t ldd, const float *src,
                              size_t lds, size_t rows, size_t cols)
{
    for (size_t j = 0; j < rows; j++)
        for (size_t d = 0; d < cols; d++)
            dst[d * ldd + j] = src[j * lds + d];
}

/* ---- products: portable C ----------------------------------------------
 * Cm[M,N] = alpha · A·Bm, where A[i,k] = A[i*rsa + k*csa] (Cm not read),
 * N <= FUSED_MAX_T. One output row at a time in a local accumulator; the
 * inner loop runs along N and vectorizes. */
static void fused_mm_c(size_t M, size_t N, size_t K, float alpha,
                       const float *A, size_t rsa, size_t csa,
                       const float *Bm, size_t ldb, float *Cm, size_t ldc)
{
    float row[FUSED_MAX_T];
    for (size_t i = 0; i < M; i++) {
        for (size_t n = 0; n < N; n++)
            row[n] = 0.0f;
        for (size_t k = 0; k < K; k++) {
            float a = A[i * rsa + k * csa];
            const float *b = Bm + k * ldb;
#pragma omp simd
            for (size_t n = 0; n < N; n++)
                row[n] += a * b[n];
        }
        float *c = Cm + i * ldc;
        for (size_t n = 0; n < N; n++)
            c[n] = alpha * row[n];
    }
}

/* ---- products: AVX-512 -------------------------------------------------
 * The micro-kernel holds an MR x NV block of 16-float vectors of Cm in
 * registers for the whole K loop: per k, NV loads of Bm's row, MR
 * broadcasts of A, MR*NV FMAs. MR*NV <= 24 accumulators plus NV + 1
 * operands fit the 32 zmm registers. The last vector of a row is masked
 * (N need not be a multiple of 16), loads and stores alike, so nothing
 * past the row is touched. mr and nv are constants at every call (the
 * switch below), so the loops unroll and the accumulators stay in
 * registers. */
#if ATTN_FUSED_HAVE_AVX512

#define FUSED_TARGET __attribute__((target("avx512f")))

enum { FUSED_MR = 8, FUSED_NV = 4 };

static inline __attribute__((always_inline)) FUSED_TARGET void
fused_mk_avx512(int mr, int nv, __mmask16 tail, size_t K, float alpha,
                const float *A, size_t rsa, size_t csa, const float *Bm,
                size_t ldb, float *Cm, size_t ldc)
{
    __m512 c[FUSED_MR][FUSED_NV];
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            c[r][v] = _mm512_setzero_ps();
    for (size_t k = 0; k < K; k++) {
        __m512 b[FUSED_NV];
        const float *bk = Bm + k * ldb;
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            b[v] = _mm512_maskz_loadu_ps(v == nv - 1 ? tail : 0xffff,
                                         bk + 16 * v);
        const float *ak = A + k * csa;
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m512 a = _mm512_set1_ps(ak[(size_t)r * rsa]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                c[r][v] = _mm512_fmadd_ps(a, b[v], c[r][v]);
        }
    }
    __m512 al = _mm512_set1_ps(alpha);
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
        float *cr = Cm + (size_t)r * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            __mmask16 m = v == nv - 1 ? tail : 0xffff;
            _mm512_mask_storeu_ps(cr + 16 * v, m, _mm512_mul_ps(al, c[r][v]));
        }
    }
}

/* One block of mr rows x nv vectors; the cases make mr and nv constants. */
#define FUSED_MK_CASE(MR_, NV_)                                               \
    case (MR_) * 8 + (NV_):                                                   \
        fused_mk_avx512(MR_, NV_, tail, K, alpha, A, rsa, csa, Bm, ldb, Cm,   \
                        ldc);                                                 \
        break;
#define FUSED_MK_CASES(NV_)                                                   \
    FUSED_MK_CASE(1, NV_) FUSED_MK_CASE(2, NV_) FUSED_MK_CASE(3, NV_)         \
    FUSED_MK_CASE(4, NV_) FUSED_MK_CASE(5, NV_) FUSED_MK_CASE(6, NV_)         \
    FUSED_MK_CASE(7, NV_) FUSED_MK_CASE(8, NV_)

FUSED_TARGET
static void fused_block_avx512(int mr, int nv, __mmask16 tail, size_t K,
                               float alpha, const float *A, size_t rsa,
                               size_t csa, const float *Bm, size_t ldb,
                               float *Cm, size_t ldc)
{
    switch (mr * 8 + nv) {
        FUSED_MK_CASES(1)
        FUSED_MK_CASES(2)
        FUSED_MK_CASES(3)
        FUSED_MK_CASES(4)
    default:
        break; /* unreachable: the caller keeps 1 <= mr <= 8, 1 <= nv <= 4 */
    }
}

/* The product of fused_mm_c, tiled into blocks of up to 64 columns and
 * 8 rows (6 at 4 vectors, to stay within the registers). */
FUSED_TARGET
static void fused_mm_avx512(size_t M, size_t N, size_t K, float alpha,
                            const float *A, size_t rsa, size_t csa,
                            const float *Bm, size_t ldb, float *Cm,
                            size_t ldc)
{
    for (size_t n0 = 0; n0 < N; n0 += 16 * FUSED_NV) {
        size_t nn = N - n0 < 16 * FUSED_NV ? N - n0 : 16 * FUSED_NV;
        int nv = (int)((nn + 15) / 16);
        size_t last = nn - 16 * (size_t)(nv - 1); /* 1..16 */
        __mmask16 tail = (__mmask16)((1u << last) - 1u);
        size_t mrmax = nv == 4 ? 6 : FUSED_MR;
        for (size_t m0 = 0; m0 < M; m0 += mrmax) {
            int mr = (int)(M - m0 < mrmax ? M - m0 : mrmax);
            fused_block_avx512(mr, nv, tail, K, alpha, A + m0 * rsa, rsa, csa,
                               Bm + n0, ldb, Cm + m0 * ldc + n0, ldc);
        }
    }
}

/* e^-min(|y|, 87) on 16 lanes: fast_exp_neg_abs (ir/fast_exp.h) step
 * for step, except that the polynomial runs as FMAs (the C build keeps
 * multiplies and adds apart): a result may differ from the scalar one in
 * its last bit or so, and the forward takes 7% less time. */
static inline __attribute__((always_inline)) FUSED_TARGET __m512
fused_exp_neg_abs16(__m512 y)
{
    __m512i b = _mm512_and_si512(_mm512_castps_si512(y),
                                 _mm512_set1_epi32(0x7fffffff));
    b = _mm512_min_epi32(b, _mm512_castps_si512(_mm512_set1_ps(87.0f)));
    /* the negation as a sign flip, -0 included */
    __m512 x = _mm512_castsi512_ps(
        _mm512_xor_si512(b, _mm512_set1_epi32((int)0x80000000u)));
    __m512 shift = _mm512_set1_ps(12582912.0f);
    __m512 n = _mm512_sub_ps(
        _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                      shift),
        shift);
    __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(0.693359375f)));
    r = _mm512_sub_ps(r, _mm512_mul_ps(n, _mm512_set1_ps(-2.12194440e-4f)));
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(
        _mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

/* Lanes j0..j0+15 of a row of T that exist (the last vector is partial). */
static inline __attribute__((always_inline)) FUSED_TARGET __mmask16
fused_lanes(size_t j0, size_t T)
{
    size_t left = T - j0;
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
}

/* fused_softmax_row_c on 16 keys at a time: the max over the keys kept
 * (by mask and row length), their exps summed in double in two
 * accumulators, one multiply by the inverse. */
FUSED_TARGET
static void fused_softmax_row_avx512(float *pr, const float *sc,
                                     const int32_t *mk, size_t T)
{
    __m512 ninf = _mm512_set1_ps(-INFINITY), vmax = ninf;
    for (size_t j = 0; j < T; j += 16) {
        __mmask16 m = fused_lanes(j, T);
        if (mk)
            m = _mm512_mask_cmpneq_epi32_mask(
                m, _mm512_maskz_loadu_epi32(m, mk + j), _mm512_setzero_si512());
        vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(ninf, m, sc + j));
    }
    float maxv = _mm512_reduce_max_ps(vmax);
    if (maxv == -INFINITY) { /* no key at all */
        memset(pr, 0, T * sizeof *pr);
        return;
    }
    __m512 vm = _mm512_set1_ps(maxv);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (size_t j = 0; j < T; j += 16) {
        __mmask16 all = fused_lanes(j, T), m = all;
        if (mk)
            m = _mm512_mask_cmpneq_epi32_mask(
                m, _mm512_maskz_loadu_epi32(m, mk + j), _mm512_setzero_si512());
        __m512 y = _mm512_sub_ps(_mm512_maskz_loadu_ps(all, sc + j), vm);
        __m512 e = _mm512_maskz_mov_ps(m, fused_exp_neg_abs16(y));
        _mm512_mask_storeu_ps(pr + j, all, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(
                                   _mm512_extractf64x4_pd(_mm512_castps_pd(e),
                                                          1))));
    }
    double sum = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    __m512 inv = _mm512_set1_ps(sum > 0.0 ? (float)(1.0 / sum) : 0.0f);
    for (size_t j = 0; j < T; j += 16) {
        __mmask16 all = fused_lanes(j, T);
        _mm512_mask_storeu_ps(
            pr + j, all, _mm512_mul_ps(_mm512_maskz_loadu_ps(all, pr + j), inv));
    }
}

/* fused_softmax_backward_row_c on 16 keys at a time, p·dp summed in
 * double. */
FUSED_TARGET
static void fused_softmax_backward_row_avx512(float *ds, const float *dp,
                                              const float *pr, size_t T)
{
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (size_t j = 0; j < T; j += 16) {
        __mmask16 m = fused_lanes(j, T);
        __m512 p = _mm512_maskz_loadu_ps(m, pr + j);
        __m512 d = _mm512_maskz_loadu_ps(m, dp + j);
        __m256 plo = _mm512_castps512_ps256(p), dlo = _mm512_castps512_ps256(d);
        __m256 phi = _mm256_castpd_ps(
            _mm512_extractf64x4_pd(_mm512_castps_pd(p), 1));
        __m256 dhi = _mm256_castpd_ps(
            _mm512_extractf64x4_pd(_mm512_castps_pd(d), 1));
        s0 = _mm512_add_pd(s0, _mm512_mul_pd(_mm512_cvtps_pd(plo),
                                             _mm512_cvtps_pd(dlo)));
        s1 = _mm512_add_pd(s1, _mm512_mul_pd(_mm512_cvtps_pd(phi),
                                             _mm512_cvtps_pd(dhi)));
    }
    __m512 pdp = _mm512_set1_ps((float)_mm512_reduce_add_pd(
        _mm512_add_pd(s0, s1)));
    for (size_t j = 0; j < T; j += 16) {
        __mmask16 m = fused_lanes(j, T);
        __m512 p = _mm512_maskz_loadu_ps(m, pr + j);
        __m512 d = _mm512_maskz_loadu_ps(m, dp + j);
        __m512 x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, ds + j),
                                 _mm512_mul_ps(p, _mm512_sub_ps(d, pdp)));
        _mm512_mask_storeu_ps(ds + j, m, x);
    }
}

/* dst[d, j] = src[j, d] for j < rows, d < cols (both <= 16): one 16 x 16
 * block transposed in registers (pairs of rows interleaved, then groups of
 * four, then the 128-bit lanes), in place of 256 scalar moves. */
FUSED_TARGET
static void fused_transpose16_avx512(float *dst, size_t ldd, const float *src,
                                     size_t lds, size_t rows, size_t cols)
{
    __m512 r[16], t[16], u[16];
    __mmask16 cm = fused_lanes(0, cols), rm = fused_lanes(0, rows);
#pragma GCC unroll 16
    for (size_t k = 0; k < 16; k++)
        r[k] = k < rows ? _mm512_maskz_loadu_ps(cm, src + k * lds)
                        : _mm512_setzero_ps();
    /* t[2k], t[2k+1]: rows 2k, 2k+1 interleaved within each 128-bit lane */
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    /* u[4k+c], lane L: column 4L + c of rows 4k..4k+3 */
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        u[4 * k] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
        u[4 * k + 1] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0xee);
        u[4 * k + 2] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
        u[4 * k + 3] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xee);
    }
    /* column c + 4L gathers lane L of u[c], u[4+c], u[8+c], u[12+c] */
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
        __m512 v1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
        __m512 w0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xdd);
        __m512 w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xdd);
        r[c] = _mm512_shuffle_f32x4(v0, v1, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(v0, v1, 0xdd);
        r[4 + c] = _mm512_shuffle_f32x4(w0, w1, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(w0, w1, 0xdd);
    }
#pragma GCC unroll 16
    for (size_t n = 0; n < 16; n++)
        if (n < cols)
            _mm512_mask_storeu_ps(dst + n * ldd, rm, r[n]);
}

/* fused_copy_rows_c in whole vectors, the padding of each row up to a
 * multiple of 16 set to 0 (ldd must allow it): the products then load
 * each vector as it was stored, whereas a vector load over several
 * narrower recent stores waits for them to reach the cache (measured: a
 * 15% slower forward when the transposes read such copies). */
FUSED_TARGET
static void fused_copy_rows_avx512(float *dst, size_t ldd, const float *src,
                                   size_t lds, size_t rows, size_t cols)
{
    for (size_t j = 0; j < rows; j++)
        for (size_t d = 0; d < cols; d += 16)
            _mm512_storeu_ps(dst + j * ldd + d,
                             _mm512_maskz_loadu_ps(fused_lanes(d, cols),
                                                   src + j * lds + d));
}

/* dst [cols, ldd] = src [rows, lds] transposed, in 16 x 16 blocks. */
FUSED_TARGET
static void fused_transpose_avx512(float *dst, size_t ldd, const float *src,
                                   size_t lds, size_t rows, size_t cols)
{
    for (size_t j = 0; j < rows; j += 16)
        for (size_t d = 0; d < cols; d += 16)
            fused_transpose16_avx512(dst + d * ldd + j, ldd, src + j * lds + d,
                                     lds, rows - j < 16 ? rows - j : 16,
                                     cols - d < 16 ? cols - d : 16);
}
#endif /* ATTN_FUSED_HAVE_AVX512 */

#if ATTN_FUSED_HAVE_AVX2
/* ---- AVX2 + FMA --------------------------------------------------------
 * The same kernels for CPUs with AVX2 but no AVX-512 (Haswell to Zen 3):
 * 8-float vectors, 16 ymm registers, no mask registers. Row tails go
 * through an 8-float stack buffer (fused_load8 / fused_store8) rather
 * than vmaskmovps, whose store form is microcoded on AMD; nothing past a
 * row is read or written either way. */
#define FUSED_TARGET_AVX2 __attribute__((target("avx2,fma")))

/* At most 6 rows x 2 vectors of Cm: 12 accumulators, 2 operands of Bm and
 * one broadcast of A, 15 of the 16 registers. */
enum { FUSED_MR2 = 6, FUSED_NV2 = 2 };

/* The n (< 8 allowed) floats at p in a vector, the lanes past n = fill. */
static inline __attribute__((always_inline)) FUSED_TARGET_AVX2 __m256
fused_load8(const float *p, size_t n, float fill)
{
    if (n >= 8)
        return _mm256_loadu_ps(p);
    float t[8];
    for (size_t i = 0; i < 8; i++)
        t[i] = i < n ? p[i] : fill;
    return _mm256_loadu_ps(t);
}

/* The first n (< 8 allowed) lanes of x to p. */
static inline __attribute__((always_inline)) FUSED_TARGET_AVX2 void
fused_store8(float *p, size_t n, __m256 x)
{
    if (n >= 8) {
        _mm256_storeu_ps(p, x);
        return;
    }
    float t[8];
    _mm256_storeu_ps(t, x);
    for (size_t i = 0; i < n; i++)
        p[i] = t[i];
}

/* All-ones in the lanes below n (of 8), as a float mask. */
static inline __attribute__((always_inline)) FUSED_TARGET_AVX2 __m256
fused_lanes8(size_t n)
{
    __m256i k = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int nn = n >= 8 ? 8 : (int)n;
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(nn), k));
}

/* fused_mk_avx512 with mr <= 6 rows x nv <= 2 vectors of 8; the last
 * vector of a row has `last` lanes (1..8): its loads are masked
 * (vmaskmovps loads are cheap everywhere), its stores go through
 * fused_store8. */
static inline __attribute__((always_inline)) FUSED_TARGET_AVX2 void
fused_mk_avx2(int mr, int nv, size_t last, __m256i tail, size_t K,
              float alpha, const float *A, size_t rsa, size_t csa,
              const float *Bm, size_t ldb, float *Cm, size_t ldc)
{
    __m256 c[FUSED_MR2][FUSED_NV2];
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++)
            c[r][v] = _mm256_setzero_ps();
    for (size_t k = 0; k < K; k++) {
        __m256 b[FUSED_NV2];
        const float *bk = Bm + k * ldb;
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++)
            b[v] = v == nv - 1 ? _mm256_maskload_ps(bk + 8 * v, tail)
                               : _mm256_loadu_ps(bk + 8 * v);
        const float *ak = A + k * csa;
#pragma GCC unroll 6
        for (int r = 0; r < mr; r++) {
            __m256 a = _mm256_broadcast_ss(ak + (size_t)r * rsa);
#pragma GCC unroll 2
            for (int v = 0; v < nv; v++)
                c[r][v] = _mm256_fmadd_ps(a, b[v], c[r][v]);
        }
    }
    __m256 al = _mm256_set1_ps(alpha);
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++) {
        float *cr = Cm + (size_t)r * ldc;
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++)
            fused_store8(cr + 8 * v, v == nv - 1 ? last : 8,
                         _mm256_mul_ps(al, c[r][v]));
    }
}

#define FUSED_MK2_CASE(MR_, NV_)                                              \
    case (MR_) * 8 + (NV_):                                                   \
        fused_mk_avx2(MR_, NV_, last, tail, K, alpha, A, rsa, csa, Bm, ldb,   \
                      Cm, ldc);                                               \
        break;
#define FUSED_MK2_CASES(NV_)                                                  \
    FUSED_MK2_CASE(1, NV_) FUSED_MK2_CASE(2, NV_) FUSED_MK2_CASE(3, NV_)      \
    FUSED_MK2_CASE(4, NV_) FUSED_MK2_CASE(5, NV_) FUSED_MK2_CASE(6, NV_)

FUSED_TARGET_AVX2
static void fused_block_avx2(int mr, int nv, size_t last, __m256i tail,
                             size_t K, float alpha, const float *A,
                             size_t rsa, size_t csa, const float *Bm,
                             size_t ldb, float *Cm, size_t ldc)
{
    switch (mr * 8 + nv) {
        FUSED_MK2_CASES(1)
        FUSED_MK2_CASES(2)
    default:
        break; /* unreachable: the caller keeps 1 <= mr <= 6, 1 <= nv <= 2 */
    }
}

/* The product of fused_mm_c in blocks of up to 16 columns and 6 rows. */
FUSED_TARGET_AVX2
static void fused_mm_avx2(size_t M, size_t N, size_t K, float alpha,
                          const float *A, size_t rsa, size_t csa,
                          const float *Bm, size_t ldb, float *Cm, size_t ldc)
{
    for (size_t n0 = 0; n0 < N; n0 += 8 * FUSED_NV2) {
        size_t nn = N - n0 < 8 * FUSED_NV2 ? N - n0 : 8 * FUSED_NV2;
        int nv = (int)((nn + 7) / 8);
        size_t last = nn - 8 * (size_t)(nv - 1); /* 1..8 */
        __m256i tail = _mm256_castps_si256(fused_lanes8(last));
        for (size_t m0 = 0; m0 < M; m0 += FUSED_MR2) {
            int mr = (int)(M - m0 < FUSED_MR2 ? M - m0 : FUSED_MR2);
            fused_block_avx2(mr, nv, last, tail, K, alpha, A + m0 * rsa, rsa,
                             csa, Bm + n0, ldb, Cm + m0 * ldc + n0, ldc);
        }
    }
}

/* fused_exp_neg_abs16 on 8 lanes (the same steps, FMAs in the
 * polynomial). */
static inline __attribute__((always_inline)) FUSED_TARGET_AVX2 __m256
fused_exp_neg_abs8(__m256 y)
{
    __m256i b = _mm256_and_si256(_mm256_castps_si256(y),
                                 _mm256_set1_epi32(0x7fffffff));
    b = _mm256_min_epi32(b, _mm256_castps_si256(_mm256_set1_ps(87.0f)));
    __m256 x = _mm256_castsi256_ps(
        _mm256_xor_si256(b, _mm256_set1_epi32((int)0x80000000u)));
    __m256 shift = _mm256_set1_ps(12582912.0f);
    __m256 n = _mm256_sub_ps(
        _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                      shift),
        shift);
    __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(0.693359375f)));
    r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(-2.12194440e-4f)));
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* Horizontal max of 8 floats, and sum of 4 doubles. */
static inline __attribute__((always_inline)) FUSED_TARGET_AVX2 float
fused_hmax8(__m256 v)
{
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v),
                          _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
}

static inline __attribute__((always_inline)) FUSED_TARGET_AVX2 double
fused_hsum4d(__m256d v)
{
    __m128d x = _mm_add_pd(_mm256_castpd256_pd128(v),
                           _mm256_extractf128_pd(v, 1));
    x = _mm_add_sd(x, _mm_unpackhi_pd(x, x));
    return _mm_cvtsd_f64(x);
}

/* The lanes j..j+7 of a row of T that exist and whose key is kept. */
static inline __attribute__((always_inline)) FUSED_TARGET_AVX2 __m256
fused_keep8(const int32_t *mk, size_t j, size_t T)
{
    __m256 m = fused_lanes8(T - j);
    if (!mk)
        return m;
    __m256i k;
    if (T - j >= 8) {
        k = _mm256_loadu_si256((const __m256i *)(mk + j));
    } else {
        int32_t t[8] = {0};
        for (size_t i = 0; i < T - j; i++)
            t[i] = mk[j + i];
        k = _mm256_loadu_si256((const __m256i *)t);
    }
    __m256i z = _mm256_cmpeq_epi32(k, _mm256_setzero_si256());
    return _mm256_andnot_ps(_mm256_castsi256_ps(z), m);
}

/* fused_softmax_row_avx512 on 8 keys at a time. */
FUSED_TARGET_AVX2
static void fused_softmax_row_avx2(float *pr, const float *sc,
                                   const int32_t *mk, size_t T)
{
    __m256 ninf = _mm256_set1_ps(-INFINITY), vmax = ninf;
    for (size_t j = 0; j < T; j += 8) {
        __m256 m = fused_keep8(mk, j, T);
        __m256 x = fused_load8(sc + j, T - j, -INFINITY);
        vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(ninf, x, m));
    }
    float maxv = fused_hmax8(vmax);
    if (maxv == -INFINITY) { /* no key at all */
        memset(pr, 0, T * sizeof *pr);
        return;
    }
    __m256 vm = _mm256_set1_ps(maxv);
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (size_t j = 0; j < T; j += 8) {
        __m256 m = fused_keep8(mk, j, T);
        __m256 y = _mm256_sub_ps(fused_load8(sc + j, T - j, 0.0f), vm);
        __m256 e = _mm256_and_ps(m, fused_exp_neg_abs8(y));
        fused_store8(pr + j, T - j, e);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    double sum = fused_hsum4d(_mm256_add_pd(s0, s1));
    __m256 inv = _mm256_set1_ps(sum > 0.0 ? (float)(1.0 / sum) : 0.0f);
    for (size_t j = 0; j < T; j += 8)
        fused_store8(pr + j, T - j,
                     _mm256_mul_ps(fused_load8(pr + j, T - j, 0.0f), inv));
}

/* fused_softmax_backward_row_avx512 on 8 keys at a time. */
FUSED_TARGET_AVX2
static void fused_softmax_backward_row_avx2(float *ds, const float *dp,
                                            const float *pr, size_t T)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (size_t j = 0; j < T; j += 8) {
        __m256 p = fused_load8(pr + j, T - j, 0.0f);
        __m256 d = fused_load8(dp + j, T - j, 0.0f);
        s0 = _mm256_add_pd(
            s0, _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(p)),
                              _mm256_cvtps_pd(_mm256_castps256_ps128(d))));
        s1 = _mm256_add_pd(
            s1, _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(p, 1)),
                              _mm256_cvtps_pd(_mm256_extractf128_ps(d, 1))));
    }
    __m256 pdp = _mm256_set1_ps((float)fused_hsum4d(_mm256_add_pd(s0, s1)));
    for (size_t j = 0; j < T; j += 8) {
        size_t n = T - j;
        __m256 p = fused_load8(pr + j, n, 0.0f);
        __m256 d = fused_load8(dp + j, n, 0.0f);
        __m256 x = _mm256_add_ps(fused_load8(ds + j, n, 0.0f),
                                 _mm256_mul_ps(p, _mm256_sub_ps(d, pdp)));
        fused_store8(ds + j, n, x);
    }
}

/* fused_copy_rows_avx512 in 8-float vectors: each row padded with zeros
 * up to a multiple of 8 (ldd allows 16), for the same reason. */
FUSED_TARGET_AVX2
static void fused_copy_rows_avx2(float *dst, size_t ldd, const float *src,
                                 size_t lds, size_t rows, size_t cols)
{
    for (size_t j = 0; j < rows; j++)
        for (size_t d = 0; d < cols; d += 8)
            _mm256_storeu_ps(dst + j * ldd + d,
                             fused_load8(src + j * lds + d, cols - d, 0.0f));
}

/* dst[d, j] = src[j, d] for j < rows, d < cols (both <= 8): one 8 x 8
 * block transposed in registers (pairs of rows interleaved, then groups of
 * four, then the 128-bit halves), as fused_transpose16_avx512 does. */
FUSED_TARGET_AVX2
static void fused_transpose8_avx2(float *dst, size_t ldd, const float *src,
                                  size_t lds, size_t rows, size_t cols)
{
    __m256 r[8], t[8], u[8];
#pragma GCC unroll 8
    for (size_t k = 0; k < 8; k++)
        r[k] = k < rows ? fused_load8(src + k * lds, cols, 0.0f)
                        : _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        t[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    /* u[4k+c], half H: column 4H + c of rows 4k..4k+3 */
#pragma GCC unroll 2
    for (int k = 0; k < 2; k++) {
        u[4 * k] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
        u[4 * k + 1] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0xee);
        u[4 * k + 2] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
        u[4 * k + 3] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xee);
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
#pragma GCC unroll 8
    for (size_t n = 0; n < 8; n++)
        if (n < cols)
            fused_store8(dst + n * ldd, rows, r[n]);
}

/* dst [cols, ldd] = src [rows, lds] transposed, in 8 x 8 blocks. */
FUSED_TARGET_AVX2
static void fused_transpose_avx2(float *dst, size_t ldd, const float *src,
                                 size_t lds, size_t rows, size_t cols)
{
    for (size_t j = 0; j < rows; j += 8)
        for (size_t d = 0; d < cols; d += 8)
            fused_transpose8_avx2(dst + d * ldd + j, ldd, src + j * lds + d,
                                  lds, rows - j < 8 ? rows - j : 8,
                                  cols - d < 8 ? cols - d : 8);
}
#endif /* ATTN_FUSED_HAVE_AVX2 */

/* ---- one (b, h) --------------------------------------------------------
 * The bodies are written once over a table of kernels (fused_ops); each
 * driver below inlines them with its own table. Each pair first copies its
 * operands out of the packed rows (every row of qkv is 3C floats long, so
 * a head's T rows lie on T different lines and pages) into dense tiles,
 * computes on those, and adds its gradients back in one pass. As it goes
 * it prefetches the rows of the next pair, which the hardware prefetcher
 * does not predict; measured, this is worth a fifth of the backward's
 * time at B=32, T=64. */
typedef void fused_mm_fn(size_t M, size_t N, size_t K, float alpha,
                         const float *A, size_t rsa, size_t csa,
                         const float *Bm, size_t ldb, float *Cm, size_t ldc);

/* Scratch floats one thread needs for a head of T tokens x hs: the
 * backward's (the forward's kᵀ, scores and q, k, v fit in it): vᵀ
 * [hs, tp], dp [T, tp], and six [T, hsp] tiles (g, q, k and dq, dk, dv). */
static size_t fused_scratch_floats(size_t T, size_t hs)
{
    size_t tp = fused_pad16(T), hsp = fused_pad16(hs);
    return hs * tp + T * tp + 6 * T * hsp;
}

/* Asks for the n floats at x to be brought into cache (a hint). */
static inline __attribute__((always_inline)) void
fused_prefetch(const float *x, size_t n)
{
    const char *p = (const char *)x;
    for (size_t off = 0; off < n * sizeof *x; off += 64)
        __builtin_prefetch(p + off, 0, 3);
    __builtin_prefetch(p + n * sizeof *x - 1, 0, 3);
}

/* Row i of a (b, h) pair: its q, k, v slices (and dout's, when dout is
 * not NULL) in cache ahead of use. */
static inline __attribute__((always_inline)) void
fused_prefetch_row(const float *qkv, const float *dout, size_t b, size_t h,
                   size_t i, size_t T, size_t C, size_t hs)
{
    const float *row = qkv + (b * T + i) * 3 * C + h * hs;
    fused_prefetch(row, hs);
    fused_prefetch(row + C, hs);
    fused_prefetch(row + 2 * C, hs);
    if (dout)
        fused_prefetch(dout + (b * T + i) * C + h * hs, hs);
}

/* dst[0..n) = src[0..n): a loop, not a memcpy call, for the short head
 * rows (the library call costs more than the copy). */
static inline __attribute__((always_inline)) void
fused_copy(float *dst, const float *src, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

/* The kernels one path runs, filled in with constants by each driver so
 * that the calls become direct once the bodies are inlined. */
typedef struct fused_ops {
    fused_mm_fn *mm;
    void (*copy_rows)(float *dst, size_t ldd, const float *src, size_t lds,
                      size_t rows, size_t cols);
    void (*transpose)(float *dst, size_t ldd, const float *src, size_t lds,
                      size_t rows, size_t cols);
    void (*softmax)(float *pr, const float *sc, const int32_t *mk, size_t T);
    void (*softmax_backward)(float *ds, const float *dp, const float *pr,
                             size_t T);
} fused_ops;

/* (b, h) of the forward. (nb, nh) is the pair this thread does next, whose
 * rows are prefetched. */
static inline __attribute__((always_inline)) void
fused_head_forward(const fused_ops *ops, float *out, float *scores,
                   float *probs, const float *qkv, const int32_t *mask,
                   size_t b, size_t h, size_t nb, size_t nh, size_t T,
                   size_t C, size_t NH, float *ws)
{
    size_t hs = C / NH, C3 = 3 * C, tp = fused_pad16(T);
    size_t hsp = fused_pad16(hs);
    float scale = 1.0f / sqrtf((float)hs);
    const int32_t *mk = mask ? mask + b * T : NULL;
    float *sc = scores + (b * NH + h) * T * T;    /* [T,T] */
    float *pr = probs + (b * NH + h) * T * T;     /* [T,T] */
    float *kt = ws;                               /* [hs,tp] kᵀ */
    float *st = kt + hs * tp;                     /* [T,tp] scores */
    float *qd = st + T * tp, *vd = qd + T * hsp;  /* [T,hsp] q, v */
    const float *q0 = qkv + b * T * C3 + h * hs;  /* [T,hs] at stride 3C */
    ops->copy_rows(qd, hsp, q0, C3, T, hs);
    ops->copy_rows(vd, hsp, q0 + 2 * C, C3, T, hs);
    ops->transpose(kt, tp, q0 + C, C3, T, hs);
    /* scores = scale q kᵀ, unmasked (the attention loss reads them) */
    ops->mm(T, T, hs, scale, qd, hsp, 1, kt, tp, st, tp);
    for (size_t i = 0; i < T; i++) {
        fused_copy(sc + i * T, st + i * tp, T);
        ops->softmax(pr + i * T, st + i * tp, mk, T);
        fused_prefetch_row(qkv, NULL, nb, nh, i, T, C, hs);
    }
    /* out[b,:,h] = probs v, in place at row stride C */
    ops->mm(T, hs, T, 1.0f, pr, T, 1, vd, hsp, out + b * T * C + h * hs, C);
}

/* (b, h) of the backward; (nb, nh) as in the forward. */
static inline __attribute__((always_inline)) void
fused_head_backward(const fused_ops *ops, float *dqkv, float *dscores,
                    const float *dout, const float *qkv, const float *probs,
                    size_t b, size_t h, size_t nb, size_t nh, size_t T,
                    size_t C, size_t NH, float *ws)
{
    size_t hs = C / NH, C3 = 3 * C, tp = fused_pad16(T);
    size_t hsp = fused_pad16(hs), th = T * hsp;
    float scale = 1.0f / sqrtf((float)hs);
    const float *pr = probs + (b * NH + h) * T * T; /* [T,T] */
    float *ds = dscores + (b * NH + h) * T * T;    /* [T,T] in/out */
    float *vt = ws, *dp = vt + hs * tp;            /* [hs,tp] vᵀ, [T,tp] */
    float *gd = dp + T * tp, *qd = gd + th, *kd = qd + th; /* [T,hsp] */
    float *dqs = kd + th, *dks = dqs + th, *dvs = dks + th; /* [T,hsp] */
    const float *q0 = qkv + b * T * C3 + h * hs;   /* [T,hs] at stride 3C */
    const float *g0 = dout + b * T * C + h * hs;   /* [T,hs] at stride C */
    for (size_t j = 0; j < T; j++) {
        /* the next pair's operands and the rows its gradients go to, a
         * whole pair of arithmetic ahead of their use; interleaved with
         * the copies, which wait on memory too (measured: better than
         * all prefetches at once) */
        fused_prefetch_row(qkv, dout, nb, nh, j, T, C, hs);
        fused_prefetch_row(dqkv, NULL, nb, nh, j, T, C, hs);
        ops->copy_rows(gd + j * hsp, hsp, g0 + j * C, C, 1, hs);
        ops->copy_rows(qd + j * hsp, hsp, q0 + j * C3, C3, 1, hs);
        ops->copy_rows(kd + j * hsp, hsp, q0 + j * C3 + C, C3, 1, hs);
    }
    ops->transpose(vt, tp, q0 + 2 * C, C3, T, hs);
    /* out_i = sum_j p_ij v_j: dp = g vᵀ, dv = pᵀ g */
    ops->mm(T, T, hs, 1.0f, gd, hsp, 1, vt, tp, dp, tp);
    ops->mm(T, hs, T, 1.0f, pr, 1, T, gd, hsp, dvs, hsp);
    for (size_t i = 0; i < T; i++) {
        ops->softmax_backward(ds + i * T, dp + i * tp, pr + i * T, T);
        fused_prefetch(probs + ((nb * NH + nh) * T + i) * T, T);
        fused_prefetch(dscores + ((nb * NH + nh) * T + i) * T, T);
    }
    /* score_ij = scale q_i · k_j: dq = scale ds k, dk = scale dsᵀ q */
    ops->mm(T, hs, T, scale, ds, T, 1, kd, hsp, dqs, hsp);
    ops->mm(T, hs, T, scale, ds, 1, T, qd, hsp, dks, hsp);
    for (size_t j = 0; j < T; j++) {
        float *dq = dqkv + (b * T + j) * C3 + h * hs;
        float *dk = dq + C, *dv = dq + 2 * C;
        const float *a = dqs + j * hsp, *k = dks + j * hsp, *v = dvs + j * hsp;
#pragma omp simd
        for (size_t d = 0; d < hs; d++) {
            dq[d] += a[d];
            dk[d] += k[d];
            dv[d] += v[d];
        }
    }
}

static const fused_ops fused_ops_c = {
    fused_mm_c, fused_copy_rows_c, fused_transpose_c, fused_softmax_row_c,
    fused_softmax_backward_row_c};

static void fused_heads_forward_c(float *out, float *scores, float *probs,
                                  const float *qkv, const int32_t *mask,
                                  size_t b, size_t h, size_t nb, size_t nh,
                                  size_t T, size_t C, size_t NH, float *ws)
{
    fused_head_forward(&fused_ops_c, out, scores, probs, qkv, mask, b, h, nb,
                       nh, T, C, NH, ws);
}

static void fused_heads_backward_c(float *dqkv, float *dscores,
                                   const float *dout, const float *qkv,
                                   const float *probs, size_t b, size_t h,
                                   size_t nb, size_t nh, size_t T, size_t C,
                                   size_t NH, float *ws)
{
    fused_head_backward(&fused_ops_c, dqkv, dscores, dout, qkv, probs, b, h,
                        nb, nh, T, C, NH, ws);
}

#if ATTN_FUSED_HAVE_AVX512
static const fused_ops fused_ops_avx512 = {
    fused_mm_avx512, fused_copy_rows_avx512, fused_transpose_avx512,
    fused_softmax_row_avx512, fused_softmax_backward_row_avx512};

FUSED_TARGET
static void fused_heads_forward_avx512(float *out, float *scores,
                                       float *probs, const float *qkv,
                                       const int32_t *mask, size_t b,
                                       size_t h, size_t nb, size_t nh,
                                       size_t T, size_t C, size_t NH,
                                       float *ws)
{
    fused_head_forward(&fused_ops_avx512, out, scores, probs, qkv, mask, b, h,
                       nb, nh, T, C, NH, ws);
}

FUSED_TARGET
static void fused_heads_backward_avx512(float *dqkv, float *dscores,
                                        const float *dout, const float *qkv,
                                        const float *probs, size_t b,
                                        size_t h, size_t nb, size_t nh,
                                        size_t T, size_t C, size_t NH,
                                        float *ws)
{
    fused_head_backward(&fused_ops_avx512, dqkv, dscores, dout, qkv, probs,
                        b, h, nb, nh, T, C, NH, ws);
}
#endif

#if ATTN_FUSED_HAVE_AVX2
static const fused_ops fused_ops_avx2 = {
    fused_mm_avx2, fused_copy_rows_avx2, fused_transpose_avx2,
    fused_softmax_row_avx2, fused_softmax_backward_row_avx2};

FUSED_TARGET_AVX2
static void fused_heads_forward_avx2(float *out, float *scores, float *probs,
                                     const float *qkv, const int32_t *mask,
                                     size_t b, size_t h, size_t nb, size_t nh,
                                     size_t T, size_t C, size_t NH, float *ws)
{
    fused_head_forward(&fused_ops_avx2, out, scores, probs, qkv, mask, b, h,
                       nb, nh, T, C, NH, ws);
}

FUSED_TARGET_AVX2
static void fused_heads_backward_avx2(float *dqkv, float *dscores,
                                      const float *dout, const float *qkv,
                                      const float *probs, size_t b, size_t h,
                                      size_t nb, size_t nh, size_t T,
                                      size_t C, size_t NH, float *ws)
{
    fused_head_backward(&fused_ops_avx2, dqkv, dscores, dout, qkv, probs, b,
                        h, nb, nh, T, C, NH, ws);
}
#endif

/* ---- entry points ------------------------------------------------------ */

/* Whether this isa can run here (cpu_level_get(), so DISTILC_MAX_ISA
 * caps it; distill/isa.c): TRAIN_ISA_AUTO becomes the best one. */
static int fused_pick_isa(train_isa *isa)
{
    if (*isa == TRAIN_ISA_AUTO)
        *isa = train_isa_resolve(TRAIN_ISA_AUTO);
    return *isa == TRAIN_ISA_PORTABLE ||
           (*isa == TRAIN_ISA_AVX2 && ATTN_FUSED_HAVE_AVX2 &&
            train_isa_available(*isa)) ||
           (*isa == TRAIN_ISA_AVX512 && ATTN_FUSED_HAVE_AVX512 &&
            train_isa_available(*isa));
}

/* The per-thread scratch for every thread, or NULL (shape out of range,
 * no isa, no memory: the caller then runs nothing). 64-byte aligned. */
static float *fused_scratch(train_isa *isa, size_t T, size_t C, size_t NH,
                            size_t nt, size_t *per)
{
    size_t hs = NH ? C / NH : 0;
    if (!fused_pick_isa(isa) || hs == 0 || hs > FUSED_MAX_HS || T == 0 ||
        T > FUSED_MAX_T)
        return NULL;
    *per = fused_pad16(fused_scratch_floats(T, hs));
    return aligned_alloc(64, nt * *per * sizeof(float));
}

int train_attention_fused_forward(train_isa isa, float *out, float *scores,
                                  float *probs, const float *qkv,
                                  const int32_t *mask, size_t B, size_t T,
                                  size_t C, size_t NH)
{
    size_t per = 0, nt = (size_t)omp_get_max_threads();
    float *all = fused_scratch(&isa, T, C, NH, nt, &per);
    if (!all)
        return 0;
    size_t pairs = B * NH;
#pragma omp parallel for schedule(static) num_threads((int)nt)
    for (size_t bh = 0; bh < pairs; bh++) {
        float *ws = all + (size_t)omp_get_thread_num() * per;
        /* a static schedule gives each thread a contiguous run of pairs */
        size_t nx = bh + 1 < pairs ? bh + 1 : bh;
#if ATTN_FUSED_HAVE_AVX512
        if (isa == TRAIN_ISA_AVX512) {
            fused_heads_forward_avx512(out, scores, probs, qkv, mask, bh / NH,
                                       bh % NH, nx / NH, nx % NH, T, C, NH,
                                       ws);
            continue;
        }
#endif
#if ATTN_FUSED_HAVE_AVX2
        if (isa == TRAIN_ISA_AVX2) {
            fused_heads_forward_avx2(out, scores, probs, qkv, mask, bh / NH,
                                     bh % NH, nx / NH, nx % NH, T, C, NH, ws);
            continue;
        }
#endif
        fused_heads_forward_c(out, scores, probs, qkv, mask, bh / NH, bh % NH,
                              nx / NH, nx % NH, T, C, NH, ws);
    }
    free(all);
    return 1;
}

int train_attention_fused_backward(train_isa isa, float *dqkv, float *dscores,
                                   const float *dout, const float *qkv,
                                   const float *probs, const int32_t *mask,
                                   size_t B, size_t T, size_t C, size_t NH)
{
    size_t per = 0, nt = (size_t)omp_get_max_threads();
    /* all threads' scratch up front: a failure inside the loop would leave
     * some heads added into dqkv and others not */
    float *all = fused_scratch(&isa, T, C, NH, nt, &per);
    if (!all)
        return 0;
    (void)mask; /* masked keys have p = 0: the backward needs no mask */
    size_t pairs = B * NH;
#pragma omp parallel for schedule(static) num_threads((int)nt)
    for (size_t bh = 0; bh < pairs; bh++) {
        float *ws = all + (size_t)omp_get_thread_num() * per;
        size_t nx = bh + 1 < pairs ? bh + 1 : bh;
#if ATTN_FUSED_HAVE_AVX512
        if (isa == TRAIN_ISA_AVX512) {
            fused_heads_backward_avx512(dqkv, dscores, dout, qkv, probs,
                                        bh / NH, bh % NH, nx / NH, nx % NH, T,
                                        C, NH, ws);
            continue;
        }
#endif
#if ATTN_FUSED_HAVE_AVX2
        if (isa == TRAIN_ISA_AVX2) {
            fused_heads_backward_avx2(dqkv, dscores, dout, qkv, probs, bh / NH,
                                      bh % NH, nx / NH, nx % NH, T, C, NH, ws);
            continue;
        }
#endif
        fused_heads_backward_c(dqkv, dscores, dout, qkv, probs, bh / NH,
                               bh % NH, nx / NH, nx % NH, T, C, NH, ws);
    }
    free(all);
    return 1;
}

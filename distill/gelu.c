/* gelu.c — GELU in its exact erf form, as BERT and torch.nn.functional.gelu
 * compute it (ONNX Gelu-20, approximate = "none"):
 *   gelu(x)  = 0.5 x (1 + erf(x / sqrt 2))
 *   gelu'(x) = 0.5 (1 + erf(x / sqrt 2)) + x * phi(x),
 *   phi the standard normal density.
 *
 * This runs over every FFN activation (B*T*F per layer, forward and
 * backward), so it is written for speed: libm's erf/exp calls are opaque to
 * the vectorizer, so erf comes from Abramowitz & Stegun 7.1.26
 * (|error| <= 1.5e-7, below float's resolution of the 1 + erf sum) and exp
 * from a branch-free float range reduction + polynomial (~2 ulp). Both
 * share e^(-x^2/2): erf(x/sqrt2) = 1 - poly(t) e^(-x^2/2), and the same
 * factor is sqrt(2 pi) phi(x), so backward costs one exp per element too.
 * Elementwise and branch-free: bitwise the same for any thread count. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ir/fast_exp.h"
#include "distill/isa.h"
#include "distill/kernels.h"

#define GELU_INV_SQRT2 0.70710678118654752440f
#define GELU_INV_SQRT_2PI 0.39894228040143267794f

/* min(|x|, 13) (fast_exp.h; e^-84.5 is far below any use). */
TRAIN_ISA_INLINE float gelu_abs_clamp(float x) { return fast_abs_min(x, 13.0f); }

/* Phi(x) = 0.5 (1 + erf(x / sqrt 2)) given e = e^(-x^2/2). */
TRAIN_ISA_INLINE float gelu_cdf(float x, float e)
{
    /* 0.5 erfc(|x| / sqrt 2) */
    float erfc_half = fast_erfc_half(fabsf(x) * GELU_INV_SQRT2, e);
    /* x >= 0: 1 - h; else h itself (kept exact for the far negative tail).
     * A 0/1 factor rather than a branch keeps the loop vectorizable. */
    float pos = (float)(x >= 0.0f);
    return erfc_half + pos * (1.0f - 2.0f * erfc_half);
}

/* Chunks of this many elements are the threads' unit of work; each chunk
 * runs one variant of the bodies below (AVX-512, AVX2 or baseline, picked
 * per call from cpu_level_get() through distill/isa.h: same arithmetic,
 * wider vectors, so the same bits on every path). */
#define GELU_CHUNK 4096

TRAIN_ISA_INLINE void gelu_forward_chunk_body(float *out, const float *inp,
                                              size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float xc = gelu_abs_clamp(x);
        float e = fast_exp_neg(-0.5f * xc * xc);
        out[i] = x * gelu_cdf(x, e);
    }
}
TRAIN_ISA_VARIANTS(gelu_forward_chunk,
                   (float *out, const float *inp, size_t n), (out, inp, n))

TRAIN_ISA_INLINE void gelu_backward_chunk_body(float *dinp, const float *dout,
                                               const float *inp, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float xc = gelu_abs_clamp(x);
        float e = fast_exp_neg(-0.5f * xc * xc);
        float pdf = GELU_INV_SQRT_2PI * e;
        dinp[i] += (gelu_cdf(x, e) + x * pdf) * dout[i];
    }
}
TRAIN_ISA_VARIANTS(gelu_backward_chunk,
                   (float *dinp, const float *dout, const float *inp,
                    size_t n),
                   (dinp, dout, inp, n))

void train_gelu_forward_isa(train_isa isa, float *out, const float *inp,
                            size_t N)
{
    isa = train_isa_resolve(isa);
    size_t nc = (N + GELU_CHUNK - 1) / GELU_CHUNK;
#pragma omp parallel for schedule(static) if (nc > 1) /* elementwise: exact */
    for (size_t c = 0; c < nc; c++) {
        size_t at = c * GELU_CHUNK, n = N - at < GELU_CHUNK ? N - at : GELU_CHUNK;
        TRAIN_ISA_CALL(isa, gelu_forward_chunk, (out + at, inp + at, n));
    }
}

void train_gelu_backward_isa(train_isa isa, float *dinp, const float *dout,
                             const float *inp, size_t N)
{
    isa = train_isa_resolve(isa);
    size_t nc = (N + GELU_CHUNK - 1) / GELU_CHUNK;
#pragma omp parallel for schedule(static) if (nc > 1)
    for (size_t c = 0; c < nc; c++) {
        size_t at = c * GELU_CHUNK, n = N - at < GELU_CHUNK ? N - at : GELU_CHUNK;
        TRAIN_ISA_CALL(isa, gelu_backward_chunk,
                       (dinp + at, dout + at, inp + at, n));
    }
}

void train_gelu_forward(float *out, const float *inp, size_t N)
{
    train_gelu_forward_isa(TRAIN_ISA_AUTO, out, inp, N);
}

void train_gelu_backward(float *dinp, const float *dout, const float *inp,
                         size_t N)
{
    train_gelu_backward_isa(TRAIN_ISA_AUTO, dinp, dout, inp, N);
}

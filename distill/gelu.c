/* gelu.c — GELU, the trainer's FFN activation, in both forms HF models
 * use (ONNX Gelu-20):
 *
 * erf, approximate = "none" (BERT, torch.nn.functional.gelu):
 *   gelu(x)  = 0.5 x (1 + erf(x / sqrt 2))
 *   gelu'(x) = 0.5 (1 + erf(x / sqrt 2)) + x * phi(x),
 *   phi the standard normal density.
 * tanh, approximate = "tanh" (HF's gelu_new / gelu_pytorch_tanh):
 *   gelu(x)  = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
 *   gelu'(x) = s + x s (1 - s) 2 u',  s = 0.5 (1 + tanh u) = sigmoid(2u),
 *   u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
 *
 * This runs over every FFN activation (B*T*F per layer, forward and
 * backward), so it is written for speed: libm's erf/exp calls are opaque to
 * the vectorizer, so erf comes from Abramowitz & Stegun 7.1.26
 * (|error| <= 1.5e-7, below float's resolution of the 1 + erf sum) and exp
 * from a branch-free float range reduction + polynomial (~2 ulp). Both
 * share e^(-x^2/2): erf(x/sqrt2) = 1 - poly(t) e^(-x^2/2), and the same
 * factor is sqrt(2 pi) phi(x), so backward costs one exp per element too.
 * The tanh form needs one exp as well, e^(-2|u|), from which both s and
 * s (1 - s) follow without cancellation (see gelu_tanh_sigmoid).
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

#define GELU_SQRT_2_OVER_PI 0.79788456080286535588f
#define GELU_TANH_CUBIC 0.044715f

/* Beyond |x| = 10 (|u| > 43.6) s is 0 or 1 and s (1 - s) is 0 to far
 * below float resolution; they are made exactly so there, so that x s is
 * -0 for a very negative x (as 1 + tanh(u) = 0 gives) rather than x e^-86,
 * and x s (1 - s) u' is 0 rather than inf * tiny once x^2 overflows. */
#define GELU_TANH_XMAX 10.0f

/* s = sigmoid(2u) = 0.5 (1 + tanh u) and s (1 - s) for u = u(x), from
 * e = e^(-2|u|): u >= 0: s = 1 / (1 + e); u < 0: s = e / (1 + e);
 * s (1 - s) = e / (1 + e)^2 for both signs. Written this way rather than
 * as 1 + tanh(u), the negative tail keeps its relative precision (1 +
 * tanh(u) there is a difference of nearly equal numbers), as the erf
 * form's tail does. NaN gives s = 0, so x s stays NaN. */
TRAIN_ISA_INLINE float gelu_tanh_sigmoid(float x, float *s_1ms)
{
    float u = GELU_SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
    /* |u| clamped at 43: e^-86 ~ 4e-38 is still a normal float (no slow
     * subnormal arithmetic); an overflowed x^3 (inf) clamps too. */
    float e = fast_exp_neg(-2.0f * fast_abs_min(u, 43.0f));
    float r = 1.0f / (1.0f + e);
    /* 0/1 factors rather than branches: the loop vectorizes. u's sign
     * comes from its sign bit: (float)(u >= 0.0f) on a computed u keeps
     * GCC from if-converting the AVX2 loop ("control flow in loop"); at
     * u = -0 both numerators give s = 1/2. */
    int32_t ub;
    memcpy(&ub, &u, sizeof ub);
    float pos = 1.0f - (float)((uint32_t)ub >> 31);
    float keep = (float)(x > -GELU_TANH_XMAX); /* 0 far left and for NaN */
    float inside = keep * (float)(x < GELU_TANH_XMAX);
    *s_1ms = inside * e * r * r;
    return keep * (pos + (1.0f - pos) * e) * r;
}

TRAIN_ISA_INLINE void gelu_tanh_forward_chunk_body(float *out,
                                                   const float *inp, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = inp[i], s_1ms;
        out[i] = x * gelu_tanh_sigmoid(x, &s_1ms);
    }
}
TRAIN_ISA_VARIANTS(gelu_tanh_forward_chunk,
                   (float *out, const float *inp, size_t n), (out, inp, n))

/* gelu'(x) = s + x s (1 - s) 2 u'(x); u' from |x| clamped at XMAX, where
 * s (1 - s) is already 0, so x^2 cannot overflow. */
TRAIN_ISA_INLINE void gelu_tanh_backward_chunk_body(float *dinp,
                                                    const float *dout,
                                                    const float *inp, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = inp[i], s_1ms;
        float s = gelu_tanh_sigmoid(x, &s_1ms);
        float xa = fast_abs_min(x, GELU_TANH_XMAX);
        float du = GELU_SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_TANH_CUBIC * xa * xa);
        dinp[i] += (s + x * s_1ms * 2.0f * du) * dout[i];
    }
}
TRAIN_ISA_VARIANTS(gelu_tanh_backward_chunk,
                   (float *dinp, const float *dout, const float *inp,
                    size_t n),
                   (dinp, dout, inp, n))

/* The chunk drivers of both forms; tanh_form picks the bodies. */
static void gelu_forward_run(train_isa isa, int tanh_form, float *out,
                             const float *inp, size_t N)
{
    isa = train_isa_resolve(isa);
    size_t nc = (N + GELU_CHUNK - 1) / GELU_CHUNK;
#pragma omp parallel for schedule(static) if (nc > 1) /* elementwise: exact */
    for (size_t c = 0; c < nc; c++) {
        size_t at = c * GELU_CHUNK, n = N - at < GELU_CHUNK ? N - at : GELU_CHUNK;
        if (tanh_form)
            TRAIN_ISA_CALL(isa, gelu_tanh_forward_chunk, (out + at, inp + at, n));
        else
            TRAIN_ISA_CALL(isa, gelu_forward_chunk, (out + at, inp + at, n));
    }
}

static void gelu_backward_run(train_isa isa, int tanh_form, float *dinp,
                              const float *dout, const float *inp, size_t N)
{
    isa = train_isa_resolve(isa);
    size_t nc = (N + GELU_CHUNK - 1) / GELU_CHUNK;
#pragma omp parallel for schedule(static) if (nc > 1)
    for (size_t c = 0; c < nc; c++) {
        size_t at = c * GELU_CHUNK, n = N - at < GELU_CHUNK ? N - at : GELU_CHUNK;
        if (tanh_form)
            TRAIN_ISA_CALL(isa, gelu_tanh_backward_chunk,
                           (dinp + at, dout + at, inp + at, n));
        else
            TRAIN_ISA_CALL(isa, gelu_backward_chunk,
                           (dinp + at, dout + at, inp + at, n));
    }
}

void train_gelu_forward_isa(train_isa isa, float *out, const float *inp,
                            size_t N)
{
    gelu_forward_run(isa, 0, out, inp, N);
}

void train_gelu_backward_isa(train_isa isa, float *dinp, const float *dout,
                             const float *inp, size_t N)
{
    gelu_backward_run(isa, 0, dinp, dout, inp, N);
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

void train_gelu_tanh_forward_isa(train_isa isa, float *out, const float *inp,
                                 size_t N)
{
    gelu_forward_run(isa, 1, out, inp, N);
}

void train_gelu_tanh_backward_isa(train_isa isa, float *dinp,
                                  const float *dout, const float *inp,
                                  size_t N)
{
    gelu_backward_run(isa, 1, dinp, dout, inp, N);
}

void train_gelu_tanh_forward(float *out, const float *inp, size_t N)
{
    train_gelu_tanh_forward_isa(TRAIN_ISA_AUTO, out, inp, N);
}

void train_gelu_tanh_backward(float *dinp, const float *dout,
                              const float *inp, size_t N)
{
    train_gelu_tanh_backward_isa(TRAIN_ISA_AUTO, dinp, dout, inp, N);
}

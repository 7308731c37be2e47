/* fast_exp.h — e^y for -87 <= y <= 0 in plain float arithmetic, which the
 * vectorizer takes where a libm expf call stops it (GELU's Gaussian,
 * softmax rows). y = n ln2 + r, |r| <= ln2/2; e^r by its degree-6 Taylor
 * polynomial (truncation < 3e-8 relative, about 2 ulp in all); 2^n put
 * into the exponent bits. Callers clamp y into range first.
 * Header-only: the kernels inline it into their loops. In ir/, the lowest
 * layer, so that the trainer (distill/) and the runtime's epilogues
 * (backend/rt_linear.c, also built into the emitted program) share one
 * definition. */
#ifndef DISTILC_IR_FAST_EXP_H
#define DISTILC_IR_FAST_EXP_H

#include <stdint.h>
#include <string.h>

/* Always inlined: the kernels compile their loops once per instruction set
 * (distill/isa.h, backend/rt_linear.c), and GCC may leave a plain inline function out of a
 * function compiled for another target, which stops the vectorizer. */
#if defined(__GNUC__) || defined(__clang__)
#define FAST_EXP_INLINE static inline __attribute__((always_inline))
#else
#define FAST_EXP_INLINE static inline
#endif

FAST_EXP_INLINE float fast_exp_neg(float y)
{
    /* round to nearest by the 1.5 * 2^23 shift (no floorf call, which
     * would stop vectorization on baseline x86-64) */
    float n = (y * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    /* ln2 split in two so n * ln2_hi is exact */
    float r = y - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* min(|x|, lim) for lim >= 0, done on the bits: positive floats order like
 * their bit patterns, and an integer min is branch-free, whereas a float
 * one (fminf, a ternary) leaves GCC a branch that keeps the loop from
 * vectorizing. NaN maps to lim. */
FAST_EXP_INLINE float fast_abs_min(float x, float lim)
{
    int32_t b, l;
    memcpy(&b, &x, sizeof b);
    memcpy(&l, &lim, sizeof l);
    b &= 0x7fffffff;
    b = b < l ? b : l;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* 0.5 erfc(z) for z >= 0, given e = e^(-z^2): Abramowitz & Stegun 7.1.26
 * (|error| <= 1.5e-7 of erfc), the Gaussian tail of an erf-form GELU. One
 * definition for the trainer's GELU (distill/gelu.c) and the runtime's
 * fused epilogue (backend/rt_linear.c); each clamps |x| its own way. */
FAST_EXP_INLINE float fast_erfc_half(float z, float e)
{
    float t = 1.0f / (1.0f + 0.3275911f * z);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    return 0.5f * p * t * e;
}

/* e^-min(|y|, 87): e^y for the y <= 0 a softmax row gives (x - max);
 * below -87 it returns ~e^-87 where expf underflows, far below the 1 the
 * row's maximum contributes. */
FAST_EXP_INLINE float fast_exp_neg_abs(float y)
{
    return fast_exp_neg(-fast_abs_min(y, 87.0f));
}

#endif

/* softmax_row.h — the attention softmax of one row of T keys and its
 * backward, the arithmetic every trainer attention path shares (the tiled
 * and batched-GEMM versions in attention.c, the portable fused kernels in
 * attention_fused.c), so that all of them round alike. Inline: each caller
 * compiles them for its own target (attention.c once per instruction set,
 * distill/isa.h). */
#ifndef DISTILC_DISTILL_SOFTMAX_ROW_H
#define DISTILC_DISTILL_SOFTMAX_ROW_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ir/fast_exp.h"

/* Always inlined: attention.c calls these from functions compiled per
 * ISA, and GCC leaves a plain inline function out of an AVX-512 variant
 * (it was then called at the baseline ISA, 4x slower on the row
 * softmax). */
#if defined(__GNUC__) || defined(__clang__)
#define SOFTMAX_ROW_INLINE static inline __attribute__((always_inline))
#else
#define SOFTMAX_ROW_INLINE static inline
#endif

/* pr = softmax(sc) over keys with mk[j] != 0 (mk NULL: all), all zeros
 * when every key is masked; pr may be sc. Branch-free per key, and the
 * masked and unmasked cases are separate loops (a load of mk[j] guarded by
 * mk != NULL would keep the loop scalar), so the passes vectorize; the sum
 * runs in double lanes, its order fixed per machine, not per thread
 * count. */
SOFTMAX_ROW_INLINE void train_softmax_row(float *pr, const float *sc,
                                     const int32_t *mk, size_t T)
{
    float maxv = -INFINITY;
    if (mk) {
#pragma omp simd reduction(max : maxv)
        for (size_t j = 0; j < T; j++) {
            float v = mk[j] ? sc[j] : -INFINITY;
            maxv = v > maxv ? v : maxv;
        }
    } else {
#pragma omp simd reduction(max : maxv)
        for (size_t j = 0; j < T; j++)
            maxv = sc[j] > maxv ? sc[j] : maxv;
    }
    if (maxv == -INFINITY) { /* no key at all */
        memset(pr, 0, T * sizeof *pr);
        return;
    }
    double sum = 0.0;
    if (mk) {
#pragma omp simd reduction(+ : sum)
        for (size_t j = 0; j < T; j++) {
            /* a 0/1 factor, not a select: no branch */
            float e = fast_exp_neg_abs(sc[j] - maxv) * (float)(mk[j] != 0);
            pr[j] = e;
            sum += e;
        }
    } else {
#pragma omp simd reduction(+ : sum)
        for (size_t j = 0; j < T; j++) {
            float e = fast_exp_neg_abs(sc[j] - maxv);
            pr[j] = e;
            sum += e;
        }
    }
    float inv = sum > 0.0 ? (float)(1.0 / sum) : 0.0f;
#pragma omp simd
    for (size_t j = 0; j < T; j++)
        pr[j] *= inv;
}

/* ds[j] += p[j] (dp[j] - sum_k p[k] dp[k]): the softmax's backward; masked
 * keys have p = 0 and keep only the loss's gradient. */
SOFTMAX_ROW_INLINE void train_softmax_backward_row(float *ds, const float *dp,
                                              const float *pr, size_t T)
{
    double pdp = 0.0;
#pragma omp simd reduction(+ : pdp)
    for (size_t j = 0; j < T; j++)
        pdp += (double)pr[j] * dp[j];
    float pdpf = (float)pdp;
#pragma omp simd
    for (size_t j = 0; j < T; j++)
        ds[j] += pr[j] * (dp[j] - pdpf);
}

#endif

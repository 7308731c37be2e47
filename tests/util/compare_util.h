/* compare_util.h — what the kernel tests compare fast paths with their
 * oracles by (header-only, static inline: each test is its own
 * executable): seeded normal buffers and the largest error relative to the
 * reference's largest magnitude, the measure their tolerances are stated
 * in ("1e-5 relative").
 *
 *     float *x = compare_rand_normal(n, 7, 0.5f);
 *     ...
 *     CHECK_MSG(compare_rel_err(fast, ref, n) < 1e-5, ...);
 */
#ifndef DISTILC_TEST_COMPARE_UTIL_H
#define DISTILC_TEST_COMPARE_UTIL_H

#include <math.h>
#include <stdlib.h>

#include "distill/kernels.h"

/* n floats, scale * N(0, 1) from the trainer's counter-based stream (the
 * same numbers for the same seed on every run). */
static inline float *compare_rand_normal(size_t n, uint64_t seed, float scale)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; x && i < n; i++)
        x[i] = scale * train_rng_normal(seed, i);
    return x;
}

/* max |a - b| / max(max |b|, tiny): b is the reference. */
static inline double compare_rel_err(const float *a, const float *b, size_t n)
{
    double e = 0.0, m = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        e = d > e ? d : e;
        m = fabs(b[i]) > m ? fabs(b[i]) : m;
    }
    return e / m;
}

#endif

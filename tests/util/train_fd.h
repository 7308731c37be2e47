/* train_fd.h — finite-difference helpers shared by the test_train_* tests
 * (header-only, static: each test is its own executable).
 *
 * A test wraps "run the forward, reduce the output to a scalar" in a
 * function f(ctx) and computes the analytic gradient with the backward;
 * fd_compare then perturbs each checked element x[i] by ±eps, takes the
 * central difference (f(x+eps) - f(x-eps)) / 2eps and compares:
 *   err = |analytic - numeric| / max(|analytic|, |numeric|, FD_FLOOR)
 * The forward runs in float, so eps is 1e-2 (float rounding of an O(1)
 * loss is ~1e-7, i.e. ~1e-5 after dividing by 2eps; truncation error is
 * O(eps^2)). FD_FLOOR keeps near-zero gradients from dividing by zero.
 */
#ifndef DISTILC_TEST_TRAIN_FD_H
#define DISTILC_TEST_TRAIN_FD_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

#define FD_EPS 1e-2f
#define FD_FLOOR 1e-2
#define FD_TOL 1e-2

static uint64_t fd_rng_state = 0x2545F4914F6CDD1DULL;
static inline float fd_rand(void) /* uniform in [-1, 1) */
{
    fd_rng_state = fd_rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((fd_rng_state >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}
static inline float *fd_alloc_rand(size_t n, float scale)
{
    float *x = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++)
        x[i] = fd_rand() * scale;
    return x;
}
static inline float *fd_alloc_zero(size_t n)
{
    return calloc(n ? n : 1, sizeof(float));
}
/* sum_i out[i] * r[i] in double: the scalar every kernel test reduces to,
 * so the analytic gradient of the output is exactly r. */
static inline double fd_dot(const float *out, const float *r, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)out[i] * r[i];
    return s;
}

/* Checks grad against central differences of f on every `stride`-th element
 * of x (stride 1 = all); prints the worst error; returns it. */
static inline double fd_compare(const char *what, float *x, const float *grad,
                         size_t n, size_t stride, double (*f)(void *),
                         void *ctx)
{
    double worst = 0.0;
    size_t worst_i = 0;
    double worst_a = 0, worst_n = 0;
    for (size_t i = 0; i < n; i += stride) {
        float keep = x[i];
        x[i] = keep + FD_EPS;
        double fp = f(ctx);
        x[i] = keep - FD_EPS;
        double fm = f(ctx);
        x[i] = keep;
        double num = (fp - fm) / (2.0 * (double)FD_EPS);
        double a = grad[i];
        double den = fmax(fmax(fabs(a), fabs(num)), FD_FLOOR);
        double err = fabs(a - num) / den;
        if (err > worst) {
            worst = err;
            worst_i = i;
            worst_a = a;
            worst_n = num;
        }
    }
    f(ctx); /* leave the forward's saved state as it was */
    printf("  %-28s worst rel err %.2e (elem %zu: analytic %.6g numeric %.6g)\n",
           what, worst, worst_i, worst_a, worst_n);
    CHECK_MSG(worst < FD_TOL, "%s: worst relative error %.3e >= %.0e", what,
              worst, FD_TOL);
    return worst;
}

#endif

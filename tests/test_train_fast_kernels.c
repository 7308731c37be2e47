/* test_train_fast_kernels.c — the trainer's fast elementwise and attention
 * kernels against their oracles:
 *   - tiled attention (train_attention_forward/backward) against the plain
 *     loops (train_attention_*_ref) at a BERT-like head size (hs = 26, the
 *     TinyBERT-4 shape) with a padded batch row and a nonzero loss gradient
 *     on the scores; tolerance 1e-5 relative to the largest magnitude
 *     (same math, different summation order);
 *   - vectorized float GELU against the double erf formula over [-12, 12]:
 *     |error| <= 1e-6 absolute (+ 1e-6 relative for large x), and
 *     its derivative likewise;
 *   - both give the same bits when run twice (the resume test relies on
 *     step-to-step determinism). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill/kernels.h"
#include "tests/compare_util.h"
#include "tests/testutil.h"

static void test_attention_tiled(void)
{
    size_t B = 3, T = 37, NH = 12, C = 312, n3 = B * T * 3 * C;
    size_t ns = B * NH * T * T, no = B * T * C;
    int32_t *mask = malloc(B * T * sizeof *mask);
    for (size_t i = 0; i < B * T; i++) /* row 1 has 12 padded tokens */
        mask[i] = !(i / T == 1 && i % T >= 25);
    float *qkv = compare_rand_normal(n3, 1, 1.0f), *dout = compare_rand_normal(no, 2, 1.0f);
    float *dsl = compare_rand_normal(ns, 3, 0.1f); /* the attention loss's gradient */
    float *o1 = calloc(no, 4), *o2 = calloc(no, 4);
    float *s1 = calloc(ns, 4), *s2 = calloc(ns, 4);
    float *p1 = calloc(ns, 4), *p2 = calloc(ns, 4);
    float *dq1 = compare_rand_normal(n3, 4, 1.0f), *dq2 = malloc(n3 * 4);
    float *ds1 = malloc(ns * 4), *ds2 = malloc(ns * 4);
    memcpy(dq2, dq1, n3 * 4); /* both add into the same prior content */
    memcpy(ds1, dsl, ns * 4);
    memcpy(ds2, dsl, ns * 4);
    train_attention_forward(o1, s1, p1, qkv, mask, B, T, C, NH);
    train_attention_forward_ref(o2, s2, p2, qkv, mask, B, T, C, NH);
    double eo = compare_rel_err(o1, o2, no), es = compare_rel_err(s1, s2, ns),
           ep = compare_rel_err(p1, p2, ns);
    CHECK_MSG(eo < 1e-5 && es < 1e-5 && ep < 1e-5,
              "attention forward: out %.2e scores %.2e probs %.2e", eo, es, ep);
    train_attention_backward(dq1, ds1, dout, qkv, p1, mask, B, T, C, NH);
    train_attention_backward_ref(dq2, ds2, dout, qkv, p2, mask, B, T, C, NH);
    double eq = compare_rel_err(dq1, dq2, n3), ed = compare_rel_err(ds1, ds2, ns);
    CHECK_MSG(eq < 1e-5 && ed < 1e-5, "attention backward: dqkv %.2e dscores %.2e",
              eq, ed);
    printf("  attention tiled vs plain: out %.1e probs %.1e dqkv %.1e dscores %.1e\n",
           eo, ep, eq, ed);
    /* padded keys: probability exactly 0 in the tiled version too */
    int zero = 1;
    for (size_t h = 0; h < NH; h++)
        for (size_t i = 0; i < T; i++)
            for (size_t j = 25; j < T; j++)
                zero &= p1[((1 * NH + h) * T + i) * T + j] == 0.0f;
    CHECK(zero);
    /* run to run: the same bits */
    memcpy(ds2, dsl, ns * 4);
    memset(dq2, 0, n3 * 4);
    memcpy(ds1, dsl, ns * 4);
    memset(dq1, 0, n3 * 4);
    train_attention_backward(dq1, ds1, dout, qkv, p1, mask, B, T, C, NH);
    train_attention_backward(dq2, ds2, dout, qkv, p1, mask, B, T, C, NH);
    CHECK(memcmp(dq1, dq2, n3 * 4) == 0 && memcmp(ds1, ds2, ns * 4) == 0);
    free(mask); free(qkv); free(dout); free(dsl); free(o1); free(o2);
    free(s1); free(s2); free(p1); free(p2); free(dq1); free(dq2);
    free(ds1); free(ds2);
}

static void test_gelu_accuracy(void)
{
    size_t N = 24001;
    float *x = malloc(N * 4), *y = malloc(N * 4), *g = calloc(N, 4),
          *one = malloc(N * 4);
    for (size_t i = 0; i < N; i++) {
        x[i] = -12.0f + 24.0f * (float)i / (float)(N - 1);
        one[i] = 1.0f;
    }
    train_gelu_forward(y, x, N);
    train_gelu_backward(g, one, x, N);
    double ey = 0.0, eg = 0.0;
    for (size_t i = 0; i < N; i++) {
        double X = x[i], cdf = 0.5 * (1.0 + erf(X / sqrt(2.0)));
        double pdf = exp(-0.5 * X * X) * 0.39894228040143267794; /* 1/sqrt(2 pi) */
        double dy = fabs(y[i] - X * cdf) / (1.0 + 1.0 * fabs(X * cdf));
        double dg = fabs(g[i] - (cdf + X * pdf)) / (1.0 + fabs(cdf + X * pdf));
        ey = dy > ey ? dy : ey;
        eg = dg > eg ? dg : eg;
    }
    CHECK_MSG(ey < 1e-6 && eg < 1e-6, "gelu: value err %.2e, derivative err %.2e",
              ey, eg);
    printf("  gelu float vs double erf: value %.1e, derivative %.1e\n", ey, eg);
    /* far tails: exactly the limits' shape, no NaN from overflow */
    float t[4] = {-1e30f, -40.0f, 40.0f, 1e30f}, u[4];
    train_gelu_forward(u, t, 4);
    CHECK_MSG(fabsf(u[0]) < 1e-30f && fabsf(u[1]) < 1e-30f && u[2] == 40.0f &&
              u[3] == 1e30f, "gelu tails: %g %g %g %g", u[0], u[1], u[2], u[3]);
    free(x); free(y); free(g); free(one);
}

int main(void)
{
    test_attention_tiled();
    test_gelu_accuracy();
    return test_finish("test_train_fast_kernels");
}

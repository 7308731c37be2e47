/* test_train_attention_fused.c — the fused per-(batch, head) attention
 * (distill/kernels.h train_attention_fused_*, distill/attention_fused.c)
 * against the plain loops train_attention_*_ref:
 *   - shapes (B,T,C,NH) = (2,64,312,12) the student's head size 26,
 *     (3,17,48,4) odd T, (1,128,256,4) head size 64, (2,5,8,2) tiny,
 *     (2,33,104,4) head size 26 at T 33, each without a mask and with one
 *     that pads the tail of one entry and every key of another (a row
 *     whose keys are all masked must get all-zero probs);
 *   - the backward with a nonzero loss gradient already on the scores and
 *     a nonzero dqkv to add into;
 *   - tolerance: each output's largest error at most 2e-5 of its largest
 *     magnitude (same math, other summation order and FMA rounding);
 *   - the portable C, AVX2 and AVX-512 micro-kernels (each that may run
 *     here: the CPU has it and DISTILC_MAX_ISA allows it; the others are
 *     printed as skipped, with the reason) all meet it, and each vector
 *     set agrees with the portable one to it;
 *   - an isa that may not run here is declined; AUTO runs the best that
 *     may;
 *   - 1 and 2 OpenMP threads give the same bits;
 *   - shapes beyond the scratch plan (T > 512) are declined (return 0) and
 *     leave the outputs untouched. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "distill/kernels.h"
#include "tests/util/compare_util.h"
#include "tests/util/testutil.h"
#include "tests/util/train_isa.h"

static const double TOL = 2e-5;

static float *dup(const float *x, size_t n)
{
    float *y = malloc(n * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

/* One run of the fused forward and backward, its outputs kept. */
typedef struct run {
    float *out, *scores, *probs, *dqkv, *dscores;
} run;

static void run_free(run *r)
{
    free(r->out); free(r->scores); free(r->probs); free(r->dqkv);
    free(r->dscores);
}

/* The inputs of one case. */
typedef struct inputs {
    size_t B, T, C, NH;
    const float *qkv, *dout, *ds0, *dq0;
    const int32_t *mask;
} inputs;

/* Forward then backward with isa on nthreads; the backward reads the
 * reference probs so that its error is its own. 0 if declined. */
static int run_fused(run *r, train_isa isa, int nthreads, const inputs *in,
                     const float *probs_ref)
{
    size_t B = in->B, T = in->T, C = in->C, NH = in->NH;
    size_t nq = B * T * 3 * C, ns = B * NH * T * T, no = B * T * C;
    r->out = malloc(no * sizeof(float));
    r->scores = malloc(ns * sizeof(float));
    r->probs = malloc(ns * sizeof(float));
    r->dscores = dup(in->ds0, ns);
    r->dqkv = dup(in->dq0, nq);
    int saved = omp_get_max_threads();
    omp_set_num_threads(nthreads);
    int ok = train_attention_fused_forward(isa, r->out, r->scores, r->probs,
                                           in->qkv, in->mask, B, T, C, NH);
    ok = ok && train_attention_fused_backward(isa, r->dqkv, r->dscores,
                                              in->dout, in->qkv, probs_ref,
                                              in->mask, B, T, C, NH);
    omp_set_num_threads(saved);
    return ok;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static void test_case(size_t B, size_t T, size_t C, size_t NH, int masked,
                      const int *have)
{
    size_t nq = B * T * 3 * C, ns = B * NH * T * T, no = B * T * C;
    char name[96];
    snprintf(name, sizeof name, "B=%zu T=%zu C=%zu NH=%zu %s", B, T, C, NH,
             masked ? "masked" : "no mask");
    /* entry 0 pads its last third, entry 1 (if any) has no tokens at all */
    int32_t *mask = NULL;
    if (masked) {
        mask = malloc(B * T * sizeof *mask);
        for (size_t b = 0; b < B; b++)
            for (size_t t = 0; t < T; t++)
                mask[b * T + t] = b == 1 ? 0 : (b == 0 ? t < T - T / 3 : 1);
    }
    float *qkv = compare_rand_normal(nq, 11 + T, 1.0f);
    float *dout = compare_rand_normal(no, 12 + T, 1.0f);
    float *ds0 = compare_rand_normal(ns, 13 + T, 0.1f);
    float *dq0 = compare_rand_normal(nq, 14 + T, 0.5f);
    inputs in = {B, T, C, NH, qkv, dout, ds0, dq0, mask};

    float *out_r = malloc(no * sizeof(float));
    float *sc_r = malloc(ns * sizeof(float)), *pr_r = malloc(ns * sizeof(float));
    train_attention_forward_ref(out_r, sc_r, pr_r, qkv, mask, B, T, C, NH);
    float *ds_r = dup(ds0, ns), *dq_r = dup(dq0, nq);
    train_attention_backward_ref(dq_r, ds_r, dout, qkv, pr_r, mask, B, T, C,
                                 NH);

    /* portable first: the vector sets are compared with it */
    train_isa isas[3] = {TRAIN_ISA_PORTABLE, TRAIN_ISA_AVX2, TRAIN_ISA_AVX512};
    run runs[3] = {{0}};
    for (int k = 0; k < 3; k++) {
        if (!have[isas[k]])
            continue;
        const char *isa = train_isa_name(isas[k]);
        run *r = &runs[k];
        CHECK_MSG(run_fused(r, isas[k], 2, &in, pr_r), "%s %s declined",
                  name, isa);
        double eo = compare_rel_err(r->out, out_r, no);
        double es = compare_rel_err(r->scores, sc_r, ns);
        double ep = compare_rel_err(r->probs, pr_r, ns);
        double eq = compare_rel_err(r->dqkv, dq_r, nq);
        double ed = compare_rel_err(r->dscores, ds_r, ns);
        printf("%-36s %-8s out %.2g scores %.2g probs %.2g dqkv %.2g "
               "dscores %.2g\n",
               name, isa, eo, es, ep, eq, ed);
        CHECK_MSG(eo <= TOL && es <= TOL && ep <= TOL && eq <= TOL &&
                      ed <= TOL,
                  "%s %s: errors above %g", name, isa, TOL);
        /* padded keys: probability exactly 0; an empty entry: all 0 */
        int zeros = 1;
        for (size_t b = 0; mask && b < B; b++)
            for (size_t i = 0; i < NH * T; i++)
                for (size_t j = 0; j < T; j++)
                    if (!mask[b * T + j])
                        zeros &= r->probs[(b * NH * T + i) * T + j] == 0.0f;
        CHECK_MSG(zeros, "%s %s: padded keys must get probability 0", name,
                  isa);

        /* one thread: the same bits as two */
        run one = {0};
        CHECK(run_fused(&one, isas[k], 1, &in, pr_r));
        CHECK_MSG(same_bits(one.out, r->out, no) &&
                      same_bits(one.scores, r->scores, ns) &&
                      same_bits(one.probs, r->probs, ns) &&
                      same_bits(one.dqkv, r->dqkv, nq) &&
                      same_bits(one.dscores, r->dscores, ns),
                  "%s %s: 1 and 2 threads differ", name, isa);
        run_free(&one);
        if (k == 0)
            continue;
        /* the vector set against the portable one */
        double e = compare_rel_err(r->out, runs[0].out, no);
        double q = compare_rel_err(r->dqkv, runs[0].dqkv, nq);
        double d = compare_rel_err(r->dscores, runs[0].dscores, ns);
        double p = compare_rel_err(r->probs, runs[0].probs, ns);
        CHECK_MSG(e <= TOL && q <= TOL && d <= TOL && p <= TOL,
                  "%s: %s against portable %g %g %g %g", name, isa, e, q, d,
                  p);
        run_free(r);
    }
    run_free(&runs[0]);
    free(mask); free(qkv); free(dout); free(ds0); free(dq0);
    free(out_r); free(sc_r); free(pr_r); free(ds_r); free(dq_r);
}

/* T beyond the plan: declined before anything is written. */
static void test_declines(void)
{
    enum { B = 1, T = 513, NH = 1, C = 2 };
    float out[B * T * C], qkv[B * T * 3 * C], dq[B * T * 3 * C];
    float *sc = malloc((size_t)T * T * sizeof *sc);
    float *pr = malloc((size_t)T * T * sizeof *pr);
    for (size_t i = 0; i < sizeof out / sizeof *out; i++)
        out[i] = 7.0f;
    for (size_t i = 0; i < sizeof qkv / sizeof *qkv; i++)
        qkv[i] = dq[i] = 1.0f;
    CHECK(!train_attention_fused_forward(TRAIN_ISA_AUTO, out, sc, pr, qkv,
                                         NULL, B, T, C, NH));
    CHECK(out[0] == 7.0f && out[B * T * C - 1] == 7.0f);
    CHECK(!train_attention_fused_backward(TRAIN_ISA_AUTO, dq, sc, out, qkv,
                                          pr, NULL, B, T, C, NH));
    CHECK(dq[0] == 1.0f);
    free(sc);
    free(pr);
}

int main(void)
{
    /* each vector set is accepted exactly when it may run here */
    float qkv[1 * 2 * 3 * 8] = {0}, out[1 * 2 * 8], sc[1 * 2 * 2 * 2];
    float pr[1 * 2 * 2 * 2];
    int have[TRAIN_ISA_COUNT] = {0};
    have[TRAIN_ISA_PORTABLE] = 1;
    for (int k = 0; k < TRAIN_ISA_NVECTOR; k++) {
        train_isa isa = train_isa_vector[k];
        int avail = train_isa_try(isa, "fused attention micro-kernels");
        have[isa] = train_attention_fused_forward(isa, out, sc, pr, qkv, NULL,
                                                  1, 2, 8, 2);
        CHECK_MSG(have[isa] == avail, "%s: accepted %d, may run here %d",
                  train_isa_name(isa), have[isa], avail);
        if (have[isa])
            printf("  fused attention micro-kernels %s: tested\n",
                   train_isa_name(isa));
    }
    printf("  AUTO runs %s\n", train_isa_name(train_isa_resolve(TRAIN_ISA_AUTO)));
    static const size_t shapes[][4] = {
        {2, 64, 312, 12}, {3, 17, 48, 4}, {1, 128, 256, 4},
        {2, 5, 8, 2},     {2, 33, 104, 4},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int masked = 0; masked < 2; masked++)
            test_case(shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3],
                      masked, have);
    test_declines();
    return test_finish("test_train_attention_fused");
}

/* attention_fused_bench.c — times one attention forward + backward of the
 * trainer (distill/kernels.h) at the student's shape, on each version:
 * train_attention_*_ctx on a oneDNN GEMM context (what distilc distill
 * runs), the fused kernels with each micro-kernel set (AVX-512, AVX2 and
 * portable C, each where it may run: DISTILC_MAX_ISA caps them as it caps
 * every other path), and the tiled loops.
 *
 *     OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive build/attention_fused_bench
 *     build/attention_fused_bench B T C NH      # another shape
 *     build/attention_fused_bench 32 64 312 12 2  # only version 2, fused (perf)
 *     DISTILC_MAX_ISA=avx2 build/attention_fused_bench   # as on an AVX2 CPU
 *
 * Median of REPS runs after 3 warm-ups, in milliseconds, with the rate of
 * the six products (2·T·T·hs flops each per (b, h)), and the sum of the
 * fastest forward and backward (steadier on a busy machine). A padding
 * mask on the last quarter of every other batch entry, as real batches
 * have. The ctx row runs whatever train_attention_*_ctx dispatch to (the
 * fused kernels on AVX-512 or AVX2); the batched-GEMM row is what ran
 * before them. A micro-kernel set that may not run here is "declined".
 * It uses only the library's interfaces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "backend/gemm.h"
#include "distill/kernels.h"
#include "bench/bench_clock.h"

enum { REPS = 20, WARM = 3 };

static void fill(float *p, size_t n, unsigned seed, float scale)
{
    unsigned s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = scale * ((float)((s >> 9) & 0xffff) / 32768.0f - 1.0f);
    }
}

/* Which version one timing runs. */
typedef enum {
    V_CTX,       /* train_attention_*_ctx on a oneDNN context */
    V_GEMM,      /* train_attention_*_gemm: the batched oneDNN matmuls */
    V_FUSED,     /* fused, best micro-kernels */
    V_PORTABLE,  /* fused, portable C micro-kernels */
    V_LOOPS,     /* train_attention_forward / _backward */
    V_AVX2,      /* fused, AVX2 micro-kernels */
    V_AVX512,    /* fused, AVX-512 micro-kernels */
    V_COUNT
} version;

static const char *const version_name[V_COUNT] = {
    "ctx (distilc distill's path)", "batched GEMMs (before fusion)",
    "fused, auto isa", "fused, portable C",
    "tiled loops", "fused, AVX2", "fused, AVX-512"};

typedef struct bufs {
    size_t B, T, C, NH;
    float *qkv, *out, *scores, *probs, *dout, *dqkv, *dscores, *dprobs;
    int32_t *mask;
} bufs;

/* One forward (bwd 0) or backward (bwd 1); 0 when the version declined. */
static int run(version v, int bwd, gemm_ctx *g, bufs *x)
{
    size_t B = x->B, T = x->T, C = x->C, NH = x->NH;
    train_isa isa = v == V_PORTABLE ? TRAIN_ISA_PORTABLE
                    : v == V_AVX2   ? TRAIN_ISA_AVX2
                    : v == V_AVX512 ? TRAIN_ISA_AVX512
                                    : TRAIN_ISA_AUTO;
    if (!bwd) {
        switch (v) {
        case V_CTX:
            train_attention_forward_ctx(g, x->out, x->scores, x->probs,
                                        x->qkv, x->mask, B, T, C, NH);
            return 1;
        case V_GEMM:
            train_attention_forward_gemm(g, x->out, x->scores, x->probs,
                                         x->qkv, x->mask, B, T, C, NH);
            return 1;
        case V_LOOPS:
            train_attention_forward(x->out, x->scores, x->probs, x->qkv,
                                    x->mask, B, T, C, NH);
            return 1;
        default:
            return train_attention_fused_forward(isa, x->out, x->scores,
                                                 x->probs, x->qkv, x->mask, B,
                                                 T, C, NH);
        }
    }
    switch (v) {
    case V_CTX:
        train_attention_backward_ctx(g, x->dqkv, x->dscores, x->dprobs,
                                     x->dout, x->qkv, x->probs, x->mask, B, T,
                                     C, NH);
        return 1;
    case V_GEMM:
        train_attention_backward_gemm(g, x->dqkv, x->dscores, x->dprobs,
                                      x->dout, x->qkv, x->probs, x->mask, B,
                                      T, C, NH);
        return 1;
    case V_LOOPS:
        train_attention_backward(x->dqkv, x->dscores, x->dout, x->qkv,
                                 x->probs, x->mask, B, T, C, NH);
        return 1;
    default:
        return train_attention_fused_backward(isa, x->dqkv, x->dscores,
                                              x->dout, x->qkv, x->probs,
                                              x->mask, B, T, C, NH);
    }
}

/* Median milliseconds of REPS runs after WARM, the fastest in *best;
 * < 0 when declined. */
static double time_ms(version v, int bwd, gemm_ctx *g, bufs *x, double *best)
{
    double t[REPS];
    for (int r = 0; r < WARM; r++)
        if (!run(v, bwd, g, x))
            return -1.0;
    for (int r = 0; r < REPS; r++) {
        /* the backward adds into these: keep them from growing */
        if (bwd) {
            memset(x->dqkv, 0, x->B * x->T * 3 * x->C * sizeof(float));
            memset(x->dscores, 0,
                   x->B * x->NH * x->T * x->T * sizeof(float));
        }
        double t0 = bench_now_s();
        run(v, bwd, g, x);
        t[r] = (bench_now_s() - t0) * 1e3;
    }
    qsort(t, REPS, sizeof t[0], bench_cmp_double);
    *best = t[0];
    return t[REPS / 2];
}

int main(int argc, char **argv)
{
    bufs x = {.B = 32, .T = 64, .C = 312, .NH = 12};
    int only = -1; /* a version number: time that one alone (for perf) */
    if (argc == 5 || argc == 6) {
        x.B = strtoul(argv[1], NULL, 10);
        x.T = strtoul(argv[2], NULL, 10);
        x.C = strtoul(argv[3], NULL, 10);
        x.NH = strtoul(argv[4], NULL, 10);
        if (argc == 6)
            only = atoi(argv[5]);
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [B T C NH [VERSION 0-%d]]\n", argv[0],
                V_COUNT - 1);
        return 2;
    }
    if (!x.B || !x.T || !x.NH || x.C % x.NH) {
        fprintf(stderr, "need B, T, NH > 0 and C a multiple of NH\n");
        return 2;
    }
    size_t nq = x.B * x.T * 3 * x.C, no = x.B * x.T * x.C;
    size_t ns = x.B * x.NH * x.T * x.T;
    x.qkv = malloc(nq * sizeof(float));
    x.dqkv = malloc(nq * sizeof(float));
    x.out = malloc(no * sizeof(float));
    x.dout = malloc(no * sizeof(float));
    x.scores = malloc(ns * sizeof(float));
    x.probs = malloc(ns * sizeof(float));
    x.dscores = malloc(ns * sizeof(float));
    x.dprobs = malloc(ns * sizeof(float));
    x.mask = malloc(x.B * x.T * sizeof(int32_t));
    if (!x.qkv || !x.dqkv || !x.out || !x.dout || !x.scores || !x.probs ||
        !x.dscores || !x.dprobs || !x.mask) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    /* every page touched before any timing: the first version timed
     * would otherwise pay the page faults of the outputs */
    memset(x.dqkv, 0, nq * sizeof(float));
    memset(x.out, 0, no * sizeof(float));
    memset(x.scores, 0, ns * sizeof(float));
    memset(x.probs, 0, ns * sizeof(float));
    memset(x.dscores, 0, ns * sizeof(float));
    memset(x.dprobs, 0, ns * sizeof(float));
    fill(x.qkv, nq, 1, 1.0f);
    fill(x.dout, no, 2, 1.0f);
    for (size_t b = 0; b < x.B; b++)
        for (size_t t = 0; t < x.T; t++)
            x.mask[b * x.T + t] = !(b % 2 && t >= x.T * 3 / 4);
    ir_diag d;
    ir_diag_init(&d);
    gemm_ctx *g = NULL;
    if (gemm_ctx_create(GEMM_ONEDNN, &g, &d) != IR_OK) {
        fprintf(stderr, "no GEMM context\n");
        return 1;
    }
    double hs = (double)(x.C / x.NH);
    double flops = 2.0 * (double)x.T * (double)x.T * hs *
                   (double)(x.B * x.NH);
    printf("attention B=%zu T=%zu C=%zu NH=%zu (hs %g), %d threads, median "
           "of %d, auto isa %s\n",
           x.B, x.T, x.C, x.NH, hs, omp_get_max_threads(), REPS,
           train_isa_name(train_isa_resolve(TRAIN_ISA_AUTO)));
    printf("%-30s %10s %10s %10s %14s %10s\n", "version", "fwd ms",
           "bwd ms", "total ms", "GFLOP/s total", "min ms");
    /* two rounds, the first not shown: in a single round the version
     * timed first ran its forward up to twice as slowly as the same code
     * timed again (the buffers' memory state, not the code) */
    for (int round = 0; round < 2; round++) {
        for (int v = 0; v < V_COUNT; v++) {
            if (only >= 0 && v != only)
                continue;
            double fmin = 0.0, bmin = 0.0;
            double f = time_ms((version)v, 0, g, &x, &fmin);
            double b = time_ms((version)v, 1, g, &x, &bmin);
            if (round == 0)
                continue;
            if (f < 0 || b < 0) {
                printf("%-30s declined\n", version_name[v]);
                continue;
            }
            printf("%-30s %10.3f %10.3f %10.3f %14.1f %10.3f\n",
                   version_name[v], f, b, f + b,
                   6.0 * flops / ((f + b) * 1e-3) * 1e-9, fmin + bmin);
        }
    }
    gemm_ctx_free(g);
    free(x.qkv); free(x.dqkv); free(x.out); free(x.dout); free(x.scores);
    free(x.probs); free(x.dscores); free(x.dprobs); free(x.mask);
    return 0;
}

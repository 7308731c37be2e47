/* layer_norm.c — layer normalization over the last axis (ONNX
 * LayerNormalization-17, axis = -1, biased variance), forward saving mean
 * and 1/std per row, and backward:
 *   n = (x - mean) * rstd,  y = n * gamma + beta
 *   dx = rstd * (g - mean(g) - n * mean(g * n)),  g = dy * gamma
 * (the row-wise identity llm.c's layernorm_backward uses).
 * Threads split rows (forward, dx) or columns (dgamma, dbeta, each summed
 * over the rows in row order), so no sum depends on the thread count. */
#include <math.h>

#include "distill/isa.h"
#include "distill/kernels.h"

/* The row bodies are compiled for AVX-512 and AVX2 besides baseline x86-64
 * and picked per call from cpu_level_get() (distill/isa.h): their sums run
 * as simd reductions in double lanes, so a path always sums in the same
 * order whatever the thread count (the paths differ in how many lanes). */
TRAIN_ISA_INLINE void ln_row_forward_body(float *o, float *mean, float *rstd,
                                          const float *x, const float *gamma,
                                          const float *beta, size_t C,
                                          float eps)
{
    double m = 0.0;
#pragma omp simd reduction(+ : m)
    for (size_t c = 0; c < C; c++)
        m += x[c];
    m /= (double)C;
    double v = 0.0;
#pragma omp simd reduction(+ : v)
    for (size_t c = 0; c < C; c++)
        v += (x[c] - m) * (x[c] - m);
    v /= (double)C;
    double s = 1.0 / sqrt(v + (double)eps);
#pragma omp simd
    for (size_t c = 0; c < C; c++)
        o[c] = (float)((x[c] - m) * s) * gamma[c] + beta[c];
    *mean = (float)m;
    *rstd = (float)s;
}
TRAIN_ISA_VARIANTS(ln_row_forward,
                   (float *o, float *mean, float *rstd, const float *x,
                    const float *gamma, const float *beta, size_t C,
                    float eps),
                   (o, mean, rstd, x, gamma, beta, C, eps))

void train_layer_norm_forward_isa(train_isa isa, float *out, float *mean,
                                 float *rstd, const float *inp,
                                 const float *gamma, const float *beta,
                                 size_t BT, size_t C, float eps)
{
    isa = train_isa_resolve(isa);
#pragma omp parallel for schedule(static) if (BT * C > 32768)
    for (size_t i = 0; i < BT; i++)
        TRAIN_ISA_CALL(isa, ln_row_forward,
                       (out + i * C, mean + i, rstd + i, inp + i * C, gamma,
                        beta, C, eps));
}

void train_layer_norm_forward(float *out, float *mean, float *rstd,
                             const float *inp, const float *gamma,
                             const float *beta, size_t BT, size_t C,
                             float eps)
{
    train_layer_norm_forward_isa(TRAIN_ISA_AUTO, out, mean, rstd, inp, gamma,
                                beta, BT, C, eps);
}

TRAIN_ISA_INLINE void ln_row_backward_body(float *dx, const float *dy,
                                           const float *x, const float *gamma,
                                           double m, double s, size_t C)
{
    double gmean = 0.0, gnmean = 0.0;
#pragma omp simd reduction(+ : gmean, gnmean)
    for (size_t c = 0; c < C; c++) {
        double n = (x[c] - m) * s;
        double g = (double)dy[c] * gamma[c];
        gmean += g;
        gnmean += g * n;
    }
    gmean /= (double)C;
    gnmean /= (double)C;
#pragma omp simd
    for (size_t c = 0; c < C; c++) {
        double n = (x[c] - m) * s;
        double g = (double)dy[c] * gamma[c];
        dx[c] += (float)(s * (g - gmean - n * gnmean));
    }
}
TRAIN_ISA_VARIANTS(ln_row_backward,
                   (float *dx, const float *dy, const float *x,
                    const float *gamma, double m, double s, size_t C),
                   (dx, dy, x, gamma, m, s, C))

/* dgamma, dbeta over columns c0..c1, rows in order 0, 1, ... */
TRAIN_ISA_INLINE void ln_cols_backward_body(float *dgamma, float *dbeta,
                                            const float *dout,
                                            const float *inp,
                                            const float *mean,
                                            const float *rstd, size_t BT,
                                            size_t C, size_t c0, size_t c1)
{
    for (size_t i = 0; i < BT; i++) {
        const float *x = inp + i * C;
        const float *dy = dout + i * C;
        double m = mean[i], s = rstd[i];
#pragma omp simd
        for (size_t c = c0; c < c1; c++) {
            double n = (x[c] - m) * s;
            dbeta[c] += dy[c];
            dgamma[c] += (float)(n * dy[c]);
        }
    }
}
TRAIN_ISA_VARIANTS(ln_cols_backward,
                   (float *dgamma, float *dbeta, const float *dout,
                    const float *inp, const float *mean, const float *rstd,
                    size_t BT, size_t C, size_t c0, size_t c1),
                   (dgamma, dbeta, dout, inp, mean, rstd, BT, C, c0, c1))

void train_layer_norm_backward_isa(train_isa isa, float *dinp, float *dgamma,
                                  float *dbeta, const float *dout,
                                  const float *inp, const float *gamma,
                                  const float *mean, const float *rstd,
                                  size_t BT, size_t C)
{
    isa = train_isa_resolve(isa);
#pragma omp parallel for schedule(static) if (BT * C > 32768)
    for (size_t i = 0; i < BT; i++)
        TRAIN_ISA_CALL(isa, ln_row_backward,
                       (dinp + i * C, dout + i * C, inp + i * C, gamma,
                        mean[i], rstd[i], C));
    /* dgamma, dbeta: column blocks, each accumulating rows 0, 1, ... */
    size_t nblk = (C + 63) / 64;
#pragma omp parallel for schedule(static) if (BT * C > 32768)
    for (size_t k = 0; k < nblk; k++) {
        size_t c0 = k * 64, c1 = c0 + 64 < C ? c0 + 64 : C;
        TRAIN_ISA_CALL(isa, ln_cols_backward,
                       (dgamma, dbeta, dout, inp, mean, rstd, BT, C, c0, c1));
    }
}

void train_layer_norm_backward(float *dinp, float *dgamma, float *dbeta,
                              const float *dout, const float *inp,
                              const float *gamma, const float *mean,
                              const float *rstd, size_t BT, size_t C)
{
    train_layer_norm_backward_isa(TRAIN_ISA_AUTO, dinp, dgamma, dbeta, dout,
                                 inp, gamma, mean, rstd, BT, C);
}

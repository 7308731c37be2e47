/* layernorm.c — layer normalization over the last axis (ONNX
 * LayerNormalization-17, axis = -1, biased variance), forward saving mean
 * and 1/std per row, and backward:
 *   n = (x - mean) * rstd,  y = n * gamma + beta
 *   dx = rstd * (g - mean(g) - n * mean(g * n)),  g = dy * gamma
 * (the row-wise identity llm.c's layernorm_backward uses).
 * Threads split rows (forward, dx) or columns (dgamma, dbeta, each summed
 * over the rows in row order), so no sum depends on the thread count. */
#include <math.h>

#include "distill/kernels.h"

void train_layernorm_forward(float *out, float *mean, float *rstd,
                             const float *inp, const float *gamma,
                             const float *beta, size_t BT, size_t C,
                             float eps)
{
#pragma omp parallel for schedule(static) if (BT * C > 32768)
    for (size_t i = 0; i < BT; i++) {
        const float *x = inp + i * C;
        double m = 0.0;
        for (size_t c = 0; c < C; c++)
            m += x[c];
        m /= (double)C;
        double v = 0.0;
        for (size_t c = 0; c < C; c++)
            v += (x[c] - m) * (x[c] - m);
        v /= (double)C;
        double s = 1.0 / sqrt(v + (double)eps);
        float *o = out + i * C;
        for (size_t c = 0; c < C; c++)
            o[c] = (float)((x[c] - m) * s) * gamma[c] + beta[c];
        mean[i] = (float)m;
        rstd[i] = (float)s;
    }
}

void train_layernorm_backward(float *dinp, float *dgamma, float *dbeta,
                              const float *dout, const float *inp,
                              const float *gamma, const float *mean,
                              const float *rstd, size_t BT, size_t C)
{
#pragma omp parallel for schedule(static) if (BT * C > 32768)
    for (size_t i = 0; i < BT; i++) {
        const float *x = inp + i * C;
        const float *dy = dout + i * C;
        double m = mean[i], s = rstd[i];
        double gmean = 0.0, gnmean = 0.0;
        for (size_t c = 0; c < C; c++) {
            double n = (x[c] - m) * s;
            double g = (double)dy[c] * gamma[c];
            gmean += g;
            gnmean += g * n;
        }
        gmean /= (double)C;
        gnmean /= (double)C;
        float *dx = dinp + i * C;
        for (size_t c = 0; c < C; c++) {
            double n = (x[c] - m) * s;
            double g = (double)dy[c] * gamma[c];
            dx[c] += (float)(s * (g - gmean - n * gnmean));
        }
    }
    /* dgamma, dbeta: column blocks, each accumulating rows 0, 1, ... */
    size_t nblk = (C + 63) / 64;
#pragma omp parallel for schedule(static) if (BT * C > 32768)
    for (size_t k = 0; k < nblk; k++) {
        size_t c0 = k * 64, c1 = c0 + 64 < C ? c0 + 64 : C;
        for (size_t i = 0; i < BT; i++) {
            const float *x = inp + i * C;
            const float *dy = dout + i * C;
            double m = mean[i], s = rstd[i];
            for (size_t c = c0; c < c1; c++) {
                double n = (x[c] - m) * s;
                dbeta[c] += dy[c];
                dgamma[c] += (float)(n * dy[c]);
            }
        }
    }
}

/* pooler_head.c — BERT's pooler (tanh of a linear map of the [CLS] row,
 * i.e. row 0 of every sequence) and the classification / regression head
 * (a linear map [B,C] -> [B,NL]; NL = 1 for regression such as STS-B).
 * The pooler's three [B,C]x[C,C] products are plain loops ordered so the
 * inner loop runs along contiguous rows (it has no GEMM context; at
 * B = 32 they are small), threads over output rows, each sum in a fixed
 * order. */
#include <math.h>

#include "distill/kernels.h"

void train_pooler_forward(float *pooled, const float *hidden, const float *w,
                          const float *bias, size_t B, size_t T, size_t C)
{
    /* the [CLS] rows are hidden rows 0, T, 2T... */
#pragma omp parallel for schedule(static) if (B * C * C > 65536)
    for (size_t b = 0; b < B; b++) {
        const float *x = hidden + b * T * C;
        float *y = pooled + b * C;
        for (size_t c = 0; c < C; c++)
            y[c] = bias[c];
        for (size_t k = 0; k < C; k++) {
            float xk = x[k];
            const float *wk = w + k * C;
            for (size_t c = 0; c < C; c++)
                y[c] += xk * wk[c];
        }
        for (size_t c = 0; c < C; c++)
            y[c] = tanhf(y[c]);
    }
}

void train_pooler_backward(float *dhidden, float *dw, float *dbias,
                           float *dpre, const float *dpooled,
                           const float *pooled, const float *hidden,
                           const float *w, size_t B, size_t T, size_t C)
{
    for (size_t i = 0; i < B * C; i++)
        dpre[i] = dpooled[i] * (1.0f - pooled[i] * pooled[i]);
    for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < C; c++)
            dbias[c] += dpre[b * C + c];
    /* dw[k,:] += sum_b hidden[b,0,k] dpre[b,:] */
#pragma omp parallel for schedule(static) if (B * C * C > 65536)
    for (size_t k = 0; k < C; k++) {
        float *dwk = dw + k * C;
        for (size_t b = 0; b < B; b++) {
            float xk = hidden[b * T * C + k];
            const float *g = dpre + b * C;
            for (size_t c = 0; c < C; c++)
                dwk[c] += xk * g[c];
        }
    }
    /* dhidden[b,0,k] += dpre[b,:] · w[k,:] */
#pragma omp parallel for schedule(static) if (B * C * C > 65536)
    for (size_t b = 0; b < B; b++) {
        const float *g = dpre + b * C;
        float *dx = dhidden + b * T * C;
        for (size_t k = 0; k < C; k++) {
            const float *wk = w + k * C;
            float s = 0.0f;
            for (size_t c = 0; c < C; c++)
                s += g[c] * wk[c];
            dx[k] += s;
        }
    }
}

void train_head_forward(float *logits, const float *pooled, const float *w,
                        const float *bias, size_t B, size_t C, size_t NL)
{
    train_linear_forward(logits, pooled, w, bias, B, C, NL);
}

void train_head_backward(float *dpooled, float *dw, float *dbias,
                         const float *dlogits, const float *pooled,
                         const float *w, size_t B, size_t C, size_t NL)
{
    train_linear_backward(dpooled, dw, dbias, dlogits, pooled, w, B, C, NL);
}

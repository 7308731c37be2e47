/* pooler_head.c — BERT's pooler (tanh of a linear map of the [CLS] row,
 * i.e. row 0 of every sequence) and the classification / regression head
 * (a linear map [B,C] -> [B,NL]; NL = 1 for regression such as STS-B). */
#include <math.h>

#include "distill/kernels.h"

void train_pooler_forward(float *pooled, const float *hidden, const float *w,
                          const float *bias, size_t B, size_t T, size_t C)
{
    for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < C; c++)
            pooled[b * C + c] = bias[c];
    /* the [CLS] rows are hidden rows 0, T, 2T...: a strided A with lda T*C */
    train_matmul(0, 0, B, C, C, 1.0f, hidden, T * C, w, C, 1.0f, pooled, C);
    for (size_t i = 0; i < B * C; i++)
        pooled[i] = tanhf(pooled[i]);
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
    train_matmul(1, 0, C, C, B, 1.0f, hidden, T * C, dpre, C, 1.0f, dw, C);
    train_matmul(0, 1, B, C, C, 1.0f, dpre, C, w, C, 1.0f, dhidden, T * C);
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

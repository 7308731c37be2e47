/* pooler_head.c — BERT's pooler (an activation of a linear map of the
 * [CLS] row, i.e. row 0 of every sequence: tanh for BERT and RoBERTa's
 * head dense, relu for DistilBERT's pre_classifier, erf GELU for
 * ELECTRA's head dense) and the classification / regression head
 * (a linear map [B,C] -> [B,NL]; NL = 1 for regression such as STS-B).
 * The pooler's three [B,C]x[C,C] products are plain loops ordered so the
 * inner loop runs along contiguous rows (it has no GEMM context; at
 * B = 32 they are small), threads over output rows, each sum in a fixed
 * order. */
#include <math.h>

#include "distill/kernels.h"

/* y = act(x) over n values; tanh is the default (ir_encoder_pool_act). */
static void pool_act_forward(ir_act act, float *y, const float *x, size_t n)
{
    if (act == IR_ACT_GELU || act == IR_ACT_GELU_TANH) {
        if (act == IR_ACT_GELU)
            train_gelu_forward(y, x, n);
        else
            train_gelu_tanh_forward(y, x, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        y[i] = act == IR_ACT_RELU ? (x[i] > 0.0f ? x[i] : 0.0f) : tanhf(x[i]);
}

/* dx = dy * act'(x), y = act(x) (tanh' from y). */
static void pool_act_backward(ir_act act, float *dx, const float *dy,
                              const float *x, const float *y, size_t n)
{
    if (act == IR_ACT_GELU)
        train_gelu_backward(dx, dy, x, n);
    else if (act == IR_ACT_GELU_TANH)
        train_gelu_tanh_backward(dx, dy, x, n);
    else if (act == IR_ACT_RELU)
        for (size_t i = 0; i < n; i++)
            dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
    else
        for (size_t i = 0; i < n; i++)
            dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void train_pooler_forward(float *pooled, float *pre, const float *hidden,
                          const float *w, const float *bias, ir_act act,
                          size_t B, size_t T, size_t C)
{
    /* the [CLS] rows are hidden rows 0, T, 2T... */
#pragma omp parallel for schedule(static) if (B * C * C > 65536)
    for (size_t b = 0; b < B; b++) {
        const float *x = hidden + b * T * C;
        float *y = pre + b * C;
        for (size_t c = 0; c < C; c++)
            y[c] = bias[c];
        for (size_t k = 0; k < C; k++) {
            float xk = x[k];
            const float *wk = w + k * C;
            for (size_t c = 0; c < C; c++)
                y[c] += xk * wk[c];
        }
    }
    pool_act_forward(act, pooled, pre, B * C);
}

void train_pooler_backward(float *dhidden, float *dw, float *dbias,
                           float *dpre, const float *dpooled,
                           const float *pooled, const float *pre,
                           const float *hidden, const float *w, ir_act act,
                           size_t B, size_t T, size_t C)
{
    pool_act_backward(act, dpre, dpooled, pre, pooled, B * C);
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

/* embed.c — BERT's embedding sum (word + position + token type), with
 * positions 0..T-1 or RoBERTa's (position_of), and
 * ALBERT's factorized variant (a V×E word table and an E→C projection
 * without bias), forward and backward. The LayerNorm after the sum is
 * train_layer_norm_*; the model composes them. */
#include <string.h>

#include "distill/kernels.h"

/* Token t's position row: t, or with a pad id (pad >= 0) transformers'
 * create_position_ids_from_input_ids: pad + the count of non-pad ids up to
 * and including t for a real token, pad for a pad. The runtime numbers
 * them the same way (backend/rt_embed.c). *count is the row's running
 * count, reset at t = 0. */
static size_t position_of(const int32_t *row, size_t t, int64_t pad,
                          int64_t *count)
{
    if (pad < 0)
        return t;
    if (t == 0)
        *count = 0;
    if (row[t] == pad)
        return (size_t)pad;
    return (size_t)(pad + ++*count);
}

void train_embed_forward(float *out, float *wemb, const int32_t *ids,
                         const int32_t *types, const float *word,
                         const float *proj, const float *pos,
                         const float *type, int64_t pad, size_t B, size_t T,
                         size_t C, size_t E)
{
    size_t BT = B * T;
    if (proj) {
        /* gather the E-wide rows, then one GEMM to width C */
        for (size_t i = 0; i < BT; i++)
            memcpy(wemb + i * E, word + (size_t)ids[i] * E, E * sizeof(float));
        train_matmul(0, 0, BT, C, E, 1.0f, wemb, E, proj, C, 0.0f, out, C);
    } else {
        for (size_t i = 0; i < BT; i++)
            memcpy(out + i * C, word + (size_t)ids[i] * C, C * sizeof(float));
    }
    int64_t count = 0;
    for (size_t b = 0; b < B; b++) {
        for (size_t t = 0; t < T; t++) {
            size_t i = b * T + t;
            const float *pr = pos + position_of(ids + b * T, t, pad, &count) * C;
            const float *tr = type + (size_t)(types ? types[i] : 0) * C;
            float *o = out + i * C;
            for (size_t c = 0; c < C; c++)
                o[c] += pr[c] + tr[c];
        }
    }
}

void train_embed_backward(float *dword, float *dproj, float *dpos,
                          float *dtype, float *dwemb, const float *dout,
                          const float *wemb, const int32_t *ids,
                          const int32_t *types, const float *proj,
                          int64_t pad, size_t B, size_t T, size_t C, size_t E)
{
    size_t BT = B * T;
    int64_t count = 0;
    for (size_t b = 0; b < B; b++) {
        for (size_t t = 0; t < T; t++) {
            size_t i = b * T + t;
            const float *g = dout + i * C;
            float *dp = dpos + position_of(ids + b * T, t, pad, &count) * C;
            float *dt = dtype + (size_t)(types ? types[i] : 0) * C;
            for (size_t c = 0; c < C; c++) {
                dp[c] += g[c];
                dt[c] += g[c];
            }
        }
    }
    if (proj) {
        /* dproj[E,C] += wemb^T · dout; dwemb[BT,E] = dout · proj^T */
        if (dproj)
            train_matmul(1, 0, E, C, BT, 1.0f, wemb, E, dout, C, 1.0f, dproj, C);
        train_matmul(0, 1, BT, E, C, 1.0f, dout, C, proj, C, 0.0f, dwemb, E);
        for (size_t i = 0; i < BT; i++) {
            float *dw = dword + (size_t)ids[i] * E;
            for (size_t e = 0; e < E; e++)
                dw[e] += dwemb[i * E + e];
        }
    } else {
        for (size_t i = 0; i < BT; i++) {
            float *dw = dword + (size_t)ids[i] * C;
            for (size_t c = 0; c < C; c++)
                dw[c] += dout[i * C + c];
        }
    }
}

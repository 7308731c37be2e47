/* embed.c — BERT's embedding sum (word + token type + position), with
 * positions 0..T-1 or RoBERTa's (position_of), and
 * ALBERT's factorized variant (a V×E word table and an E→C projection
 * without bias), forward and backward. The LayerNorm after the sum is
 * train_layer_norm_*; the model composes them (embed_ln_proj.c composes
 * the ELECTRA-small / ALBERT block, whose tables are all E wide).
 *
 * The row loops are compiled per instruction set (distill/isa.h). They are
 * elementwise adds with no FMA to contract, so every set gives the same
 * bits; the sum is (word + type) + position, the order of the ONNX graphs
 * Hugging Face exports and of the reference interpreter and the runtime. */
#include <string.h>

#include "distill/isa.h"
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

/* o[c] = (o[c] + tr[c]) + pr[c]: o holds the word row on entry. */
TRAIN_ISA_INLINE void embed_row_add_body(float *o, const float *tr,
                                         const float *pr, size_t C)
{
#pragma omp simd
    for (size_t c = 0; c < C; c++)
        o[c] = (o[c] + tr[c]) + pr[c];
}
TRAIN_ISA_VARIANTS(embed_row_add,
                   (float *o, const float *tr, const float *pr, size_t C),
                   (o, tr, pr, C))

/* dst[c] += g[c]: one row of a table's gradient. */
TRAIN_ISA_INLINE void embed_row_scatter_body(float *dst, const float *g,
                                             size_t C)
{
#pragma omp simd
    for (size_t c = 0; c < C; c++)
        dst[c] += g[c];
}
TRAIN_ISA_VARIANTS(embed_row_scatter,
                   (float *dst, const float *g, size_t C), (dst, g, C))

void train_embed_forward_isa(train_isa isa, float *out, float *wemb,
                             const int32_t *ids, const int32_t *types,
                             const float *word, const float *proj,
                             const float *pos, const float *type, int64_t pad,
                             size_t B, size_t T, size_t C, size_t E)
{
    isa = train_isa_resolve(isa);
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
            TRAIN_ISA_CALL(isa, embed_row_add, (out + i * C, tr, pr, C));
        }
    }
}

void train_embed_forward(float *out, float *wemb, const int32_t *ids,
                         const int32_t *types, const float *word,
                         const float *proj, const float *pos,
                         const float *type, int64_t pad, size_t B, size_t T,
                         size_t C, size_t E)
{
    train_embed_forward_isa(TRAIN_ISA_AUTO, out, wemb, ids, types, word, proj,
                            pos, type, pad, B, T, C, E);
}

void train_embed_backward_isa(train_isa isa, float *dword, float *dproj,
                              float *dpos, float *dtype, float *dwemb,
                              const float *dout, const float *wemb,
                              const int32_t *ids, const int32_t *types,
                              const float *proj, int64_t pad, size_t B,
                              size_t T, size_t C, size_t E)
{
    isa = train_isa_resolve(isa);
    size_t BT = B * T;
    int64_t count = 0;
    for (size_t b = 0; b < B; b++) {
        for (size_t t = 0; t < T; t++) {
            size_t i = b * T + t;
            const float *g = dout + i * C;
            float *dp = dpos + position_of(ids + b * T, t, pad, &count) * C;
            float *dt = dtype + (size_t)(types ? types[i] : 0) * C;
            TRAIN_ISA_CALL(isa, embed_row_scatter, (dp, g, C));
            TRAIN_ISA_CALL(isa, embed_row_scatter, (dt, g, C));
        }
    }
    if (proj) {
        /* dproj[E,C] += wemb^T · dout; dwemb[BT,E] = dout · proj^T */
        if (dproj)
            train_matmul(1, 0, E, C, BT, 1.0f, wemb, E, dout, C, 1.0f, dproj, C);
        train_matmul(0, 1, BT, E, C, 1.0f, dout, C, proj, C, 0.0f, dwemb, E);
        for (size_t i = 0; i < BT; i++)
            TRAIN_ISA_CALL(isa, embed_row_scatter,
                           (dword + (size_t)ids[i] * E, dwemb + i * E, E));
    } else {
        for (size_t i = 0; i < BT; i++)
            TRAIN_ISA_CALL(isa, embed_row_scatter,
                           (dword + (size_t)ids[i] * C, dout + i * C, C));
    }
}

void train_embed_backward(float *dword, float *dproj, float *dpos,
                          float *dtype, float *dwemb, const float *dout,
                          const float *wemb, const int32_t *ids,
                          const int32_t *types, const float *proj,
                          int64_t pad, size_t B, size_t T, size_t C, size_t E)
{
    train_embed_backward_isa(TRAIN_ISA_AUTO, dword, dproj, dpos, dtype, dwemb,
                             dout, wemb, ids, types, proj, pad, B, T, C, E);
}

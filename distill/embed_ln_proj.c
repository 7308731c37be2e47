/* embed_ln_proj.c — the embedding block of ELECTRA-small
 * (ElectraEmbeddings, then ElectraModel's embeddings_project) and ALBERT
 * (AlbertEmbeddings, then AlbertTransformer's embedding_hidden_mapping_in):
 * word, token-type and position tables all E wide, summed, LayerNorm in E,
 * then one Linear E -> C with bias. ir/encoder.h calls it
 * IR_ENC_EMBED_PROJECT_AFTER_LN.
 *
 * Composed from the trainer's own kernels, each on the named instruction
 * set: the sum and its scatter (embed.c, same bits on every set), the
 * LayerNorm (layer_norm.c, its double sums in the set's lanes) and the
 * projection (linear.c, on the caller's GEMM context). */
#include <string.h>

#include "distill/kernels.h"

void train_embed_ln_proj_forward_isa(
    train_isa isa, struct gemm_ctx *g, float *out, float *sum, float *ln,
    float *mean, float *rstd, const int32_t *ids, const int32_t *types,
    const float *word, const float *pos, const float *type,
    const float *gamma, const float *beta, const float *proj,
    const float *proj_b, int64_t pad, size_t B, size_t T, size_t C, size_t E,
    float eps)
{
    size_t BT = B * T;
    /* the unfactorized sum at width E: word rows are E wide already */
    train_embed_forward_isa(isa, sum, NULL, ids, types, word, NULL, pos, type,
                            pad, B, T, E, E);
    train_layer_norm_forward_isa(isa, ln, mean, rstd, sum, gamma, beta, BT, E,
                                 eps);
    train_linear_forward_ctx(g, out, ln, proj, proj_b, BT, E, C);
}

void train_embed_ln_proj_backward_isa(
    train_isa isa, struct gemm_ctx *g, float *dword, float *dpos,
    float *dtype, float *dgamma, float *dbeta, float *dproj, float *dproj_b,
    float *dln, float *dsum, const float *dout, const float *sum,
    const float *ln, const float *mean, const float *rstd,
    const int32_t *ids, const int32_t *types, const float *gamma,
    const float *proj, int64_t pad, size_t B, size_t T, size_t C, size_t E)
{
    size_t BT = B * T;
    /* dln is the projection's input gradient and nothing else's: set */
    train_linear_backward_set_ctx(g, dln, dproj, dproj_b, dout, ln, proj, BT,
                                  E, C);
    /* the LayerNorm's backward adds into its dinp */
    memset(dsum, 0, BT * E * sizeof *dsum);
    train_layer_norm_backward_isa(isa, dsum, dgamma, dbeta, dln, sum, gamma,
                                  mean, rstd, BT, E);
    train_embed_backward_isa(isa, dword, NULL, dpos, dtype, NULL, dsum, NULL,
                             ids, types, NULL, pad, B, T, E, E);
}

void train_embed_ln_proj_forward(
    struct gemm_ctx *g, float *out, float *sum, float *ln, float *mean,
    float *rstd, const int32_t *ids, const int32_t *types, const float *word,
    const float *pos, const float *type, const float *gamma,
    const float *beta, const float *proj, const float *proj_b, int64_t pad,
    size_t B, size_t T, size_t C, size_t E, float eps)
{
    train_embed_ln_proj_forward_isa(TRAIN_ISA_AUTO, g, out, sum, ln, mean,
                                    rstd, ids, types, word, pos, type, gamma,
                                    beta, proj, proj_b, pad, B, T, C, E, eps);
}

void train_embed_ln_proj_backward(
    struct gemm_ctx *g, float *dword, float *dpos, float *dtype,
    float *dgamma, float *dbeta, float *dproj, float *dproj_b, float *dln,
    float *dsum, const float *dout, const float *sum, const float *ln,
    const float *mean, const float *rstd, const int32_t *ids,
    const int32_t *types, const float *gamma, const float *proj, int64_t pad,
    size_t B, size_t T, size_t C, size_t E)
{
    train_embed_ln_proj_backward_isa(TRAIN_ISA_AUTO, g, dword, dpos, dtype,
                                     dgamma, dbeta, dproj, dproj_b, dln, dsum,
                                     dout, sum, ln, mean, rstd, ids, types,
                                     gamma, proj, pad, B, T, C, E);
}

/* kernels.h — forward/backward pairs of every encoder op the trainer runs,
 * in the manner of llm.c's train_gpt2.c: plain C over flat float arrays.
 *
 *     float out[B*T*OC];                        // forward
 *     train_linear_forward(out, inp, w, bias, B*T, C, OC);
 *     ...loss fills dout...
 *     train_linear_backward(dinp, dw, dbias, dout, inp, w, B*T, C, OC);
 *
 * Conventions
 * - x_forward(out, in, weights, dims) / x_backward(dinp, dweights, dout,
 *   saved, dims). Every buffer is row-major and contiguous; its shape is in
 *   the comment beside it.
 * - Backward ADDS into every gradient (dinp, dw, ...): a layer whose weights
 *   are shared by several layers (ALBERT) accumulates naturally, and a value
 *   read twice (a residual) gets both contributions. Zero them before the
 *   step. A gradient pointer may be NULL when that gradient is not wanted
 *   (stated per function).
 * - Matrices are [in, out] so y = x · W + b, the layout of ir/encoder.h.
 * - Kernels do not validate sizes (they are inner loops); the model
 *   (distill/model.h) and the losses validate their inputs and report
 *   through an ir_diag.
 *
 * Legend of dimension letters:
 *   B  batch              T  sequence length      C  hidden width (H)
 *   NH attention heads    hs head size C/NH       F  feed-forward width
 *   V  vocabulary         E  factorized embedding width (ALBERT, ELECTRA-small)
 *   P  max positions      TV token-type vocabulary
 *   N  any element count  BT B*T rows             OC output width
 *   NL labels (head outputs)    R  relative position buckets (MPNet)
 */
#ifndef DISTILC_DISTILL_KERNELS_H
#define DISTILC_DISTILL_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/act.h"

/* ---- instruction sets (distill/isa.c) ---------------------------------
 * Kernels with vector paths compile one body per set and pick one per call
 * from cpu_level_get() (ir/cpu.h), which DISTILC_MAX_ISA caps, so the
 * lower paths run on any machine. The _isa variants below run a named set
 * (clamped to what may run here): the hook the tests use to hold each
 * vector path to the portable one. Ordered: each set needs the ones
 * before it. */
typedef enum train_isa {
    TRAIN_ISA_AUTO,     /* the best that may run here */
    TRAIN_ISA_PORTABLE, /* plain C, baseline x86-64 (or any CPU) */
    TRAIN_ISA_AVX2,     /* AVX2 + FMA */
    TRAIN_ISA_AVX512,   /* AVX-512F */
    TRAIN_ISA_COUNT
} train_isa;
/* 1 when isa may run here (this CPU, capped by DISTILC_MAX_ISA); AUTO and
 * PORTABLE always. */
int train_isa_available(train_isa isa);
/* The best set at or below want that may run here (AUTO: the best);
 * never AUTO. */
train_isa train_isa_resolve(train_isa want);
const char *train_isa_name(train_isa isa); /* "portable", "avx2", ... */

/* ---- matmul (distill/matmul.c) -----------------------------------------
 * The one routing point for every GEMM of the trainer, with the argument
 * list of backend/gemm.h's gemm_f32 (row-major):
 *   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C
 * op(X) = X or X^T; lda/ldb/ldc are row strides of the stored matrices.
 * train_matmul_ref is the plain loop kept as the oracle for the fast one. */
void train_matmul(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                  float alpha, const float *A, size_t lda, const float *B,
                  size_t ldb, float beta, float *C, size_t ldc);
void train_matmul_ref(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                      float alpha, const float *A, size_t lda, const float *B,
                      size_t ldb, float beta, float *C, size_t ldc);
/* The same through backend/gemm.h's gemm_f32 on a caller-owned context
 * (train_params.gemm); g NULL runs train_matmul_ref. A GEMM the helper
 * cannot run falls back to the reference loop, so the result is always
 * computed. */
struct gemm_ctx;
void train_matmul_ctx(struct gemm_ctx *g, int trans_a, int trans_b, size_t M,
                      size_t N, size_t K, float alpha, const float *A,
                      size_t lda, const float *B, size_t ldb, float beta,
                      float *C, size_t ldc);

/* C[M,N] = A[M,K] · B[K,N] + bias[N] (no transposes; bias NULL = none),
 * C not read: on oneDNN the bias rides in the GEMM's epilogue instead of a
 * pre-fill and a beta = 1 read of C. g NULL: pre-fill, then the reference
 * loop with beta = 1 (what train_linear_forward always did). */
void train_matmul_bias_ctx(struct gemm_ctx *g, size_t M, size_t N, size_t K,
                           const float *A, size_t lda, const float *B,
                           size_t ldb, const float *bias, float *C,
                           size_t ldc);

/* ---- counter-based random numbers (distill/rng.c) ----------------------
 * A pure function of (seed, counter): the same numbers on every machine and
 * thread split, and a resumed run redraws exactly what it drew before. */
uint64_t train_rng_u64(uint64_t seed, uint64_t counter);
float train_rng_uniform(uint64_t seed, uint64_t counter); /* [0, 1) */
float train_rng_normal(uint64_t seed, uint64_t counter);  /* N(0, 1) */

/* ---- embeddings (distill/embed.c) --------------------------------------
 * out[b,t,:] = (word[ids[b,t]] (· proj when factorized) + type[types[b,t]])
 *              + pos[p(b,t)]
 * p(b,t) = t when pad < 0; else RoBERTa's numbering (transformers'
 * create_position_ids_from_input_ids): pad + the count of ids != pad in
 * row b up to and including t for a real token, pad for a pad token.
 * Unfactorized: E == C and proj == NULL, wemb unused (may be NULL).
 * Factorized (project_word, distilc's own students): word is [V,E], proj
 * [E,C] (no bias), and wemb keeps the looked-up rows for backward. types
 * NULL means type 0 everywhere. ELECTRA-small's and ALBERT's embeddings
 * project after their LayerNorm instead: train_embed_ln_proj_* below. */
void train_embed_forward(float *out,           /* [B,T,C] */
                         float *wemb,          /* [B,T,E] or NULL */
                         const int32_t *ids,   /* [B,T] in [0,V) */
                         const int32_t *types, /* [B,T] in [0,TV) or NULL */
                         const float *word,    /* [V,E] */
                         const float *proj,    /* [E,C] or NULL */
                         const float *pos,     /* [P,C], P > max p(b,t) */
                         const float *type,    /* [TV,C] */
                         int64_t pad,          /* -1: positions 0..T-1 */
                         size_t B, size_t T, size_t C, size_t E);
/* dwemb is scratch [B,T,E] (overwritten) when factorized, else unused. */
void train_embed_backward(float *dword,        /* [V,E] */
                          float *dproj,        /* [E,C] or NULL */
                          float *dpos,         /* [P,C] */
                          float *dtype,        /* [TV,C] */
                          float *dwemb,        /* [B,T,E] scratch or NULL */
                          const float *dout,   /* [B,T,C] */
                          const float *wemb,   /* [B,T,E] or NULL */
                          const int32_t *ids, const int32_t *types,
                          const float *proj,   /* [E,C] or NULL */
                          int64_t pad,         /* as in forward */
                          size_t B, size_t T, size_t C, size_t E);
/* The same two on a named instruction set (see train_isa): every set gives
 * the same bits (elementwise adds). The sum is (word + type) + position,
 * the order of the exported graphs and the runtime. */
void train_embed_forward_isa(train_isa isa, float *out, float *wemb,
                             const int32_t *ids, const int32_t *types,
                             const float *word, const float *proj,
                             const float *pos, const float *type, int64_t pad,
                             size_t B, size_t T, size_t C, size_t E);
void train_embed_backward_isa(train_isa isa, float *dword, float *dproj,
                              float *dpos, float *dtype, float *dwemb,
                              const float *dout, const float *wemb,
                              const int32_t *ids, const int32_t *types,
                              const float *proj, int64_t pad, size_t B,
                              size_t T, size_t C, size_t E);

/* ---- embeddings projected after their LayerNorm (distill/embed_ln_proj.c)
 * ELECTRA-small's embeddings_project and ALBERT's
 * embedding_hidden_mapping_in (ir/encoder.h IR_ENC_EMBED_PROJECT_AFTER_LN):
 * every table E wide, normalised in E, then a Linear E -> C with bias:
 *   sum[b,t,:] = (word[ids[b,t]] + type[types[b,t]]) + pos[p(b,t)]   (E)
 *   ln = LayerNorm_E(sum; gamma, beta, eps)        as train_layer_norm_*
 *   out = ln · proj + proj_b                       as train_linear_*
 * p(b,t) and types NULL as in train_embed_forward. sum, ln, mean and rstd
 * are kept for backward. g is the projection's GEMM context (NULL: the
 * reference loop). */
void train_embed_ln_proj_forward(struct gemm_ctx *g,
                                 float *out,          /* [B,T,C] */
                                 float *sum,          /* [B,T,E] */
                                 float *ln,           /* [B,T,E] */
                                 float *mean,         /* [B,T] */
                                 float *rstd,         /* [B,T] */
                                 const int32_t *ids,  /* [B,T] in [0,V) */
                                 const int32_t *types, /* [B,T] or NULL */
                                 const float *word,   /* [V,E] */
                                 const float *pos,    /* [P,E] */
                                 const float *type,   /* [TV,E] */
                                 const float *gamma,  /* [E] */
                                 const float *beta,   /* [E] */
                                 const float *proj,   /* [E,C] */
                                 const float *proj_b, /* [C] */
                                 int64_t pad,         /* -1: positions 0..T-1 */
                                 size_t B, size_t T, size_t C, size_t E,
                                 float eps);
/* dln and dsum are scratch (overwritten); every gradient is added into. */
void train_embed_ln_proj_backward(struct gemm_ctx *g,
                                  float *dword,        /* [V,E] */
                                  float *dpos,         /* [P,E] */
                                  float *dtype,        /* [TV,E] */
                                  float *dgamma,       /* [E] */
                                  float *dbeta,        /* [E] */
                                  float *dproj,        /* [E,C] */
                                  float *dproj_b,      /* [C] */
                                  float *dln,          /* [B,T,E] scratch */
                                  float *dsum,         /* [B,T,E] scratch */
                                  const float *dout,   /* [B,T,C] */
                                  const float *sum,    /* [B,T,E] forward's */
                                  const float *ln,     /* [B,T,E] forward's */
                                  const float *mean,   /* [B,T] forward's */
                                  const float *rstd,   /* [B,T] forward's */
                                  const int32_t *ids, const int32_t *types,
                                  const float *gamma,  /* [E] */
                                  const float *proj,   /* [E,C] */
                                  int64_t pad,         /* as in forward */
                                  size_t B, size_t T, size_t C, size_t E);
/* The same two on a named instruction set (see train_isa): the sum and the
 * scatter give the same bits on every set, the LayerNorm agrees to float
 * rounding (the lanes of its double sums), the projection runs on g. */
void train_embed_ln_proj_forward_isa(
    train_isa isa, struct gemm_ctx *g, float *out, float *sum, float *ln,
    float *mean, float *rstd, const int32_t *ids, const int32_t *types,
    const float *word, const float *pos, const float *type,
    const float *gamma, const float *beta, const float *proj,
    const float *proj_b, int64_t pad, size_t B, size_t T, size_t C, size_t E,
    float eps);
void train_embed_ln_proj_backward_isa(
    train_isa isa, struct gemm_ctx *g, float *dword, float *dpos,
    float *dtype, float *dgamma, float *dbeta, float *dproj, float *dproj_b,
    float *dln, float *dsum, const float *dout, const float *sum,
    const float *ln, const float *mean, const float *rstd,
    const int32_t *ids, const int32_t *types, const float *gamma,
    const float *proj, int64_t pad, size_t B, size_t T, size_t C, size_t E);

/* ---- linear (distill/linear.c) -----------------------------------------
 * out = inp · w + bias (ONNX Gemm-13 with transB = 0; bias may be NULL). */
void train_linear_forward(float *out,         /* [BT,OC] */
                          const float *inp,   /* [BT,C] */
                          const float *w,     /* [C,OC] */
                          const float *bias,  /* [OC] or NULL */
                          size_t BT, size_t C, size_t OC);
/* dinp and dbias may be NULL. */
void train_linear_backward(float *dinp,        /* [BT,C] */
                           float *dw,          /* [C,OC] */
                           float *dbias,       /* [OC] or NULL */
                           const float *dout,  /* [BT,OC] */
                           const float *inp,   /* [BT,C] */
                           const float *w,     /* [C,OC] */
                           size_t BT, size_t C, size_t OC);
/* The same with the matmuls on a GEMM context (NULL = reference loop). */
void train_linear_forward_ctx(struct gemm_ctx *g, float *out, const float *inp,
                              const float *w, const float *bias, size_t BT,
                              size_t C, size_t OC);
void train_linear_backward_ctx(struct gemm_ctx *g, float *dinp, float *dw,
                               float *dbias, const float *dout,
                               const float *inp, const float *w, size_t BT,
                               size_t C, size_t OC);

/* The same, except dinp is overwritten (dinp = dout · wᵀ), not added
 * into: for a dinp whose only contribution this is (the model knows which),
 * which spares the GEMM reading dinp back. dw and dbias still add. */
void train_linear_backward_set_ctx(struct gemm_ctx *g, float *dinp, float *dw,
                                   float *dbias, const float *dout,
                                   const float *inp, const float *w, size_t BT,
                                   size_t C, size_t OC);

/* ---- layer normalization (distill/layer_norm.c) -------------------------
 * ONNX LayerNormalization-17 over the last axis: (x - mean) * rstd * gamma
 * + beta, rstd = 1/sqrt(var + eps), var the biased variance. mean and rstd
 * are saved for backward. */
void train_layer_norm_forward(float *out,          /* [BT,C] */
                             float *mean,         /* [BT] */
                             float *rstd,         /* [BT] */
                             const float *inp,    /* [BT,C] */
                             const float *gamma,  /* [C] */
                             const float *beta,   /* [C] */
                             size_t BT, size_t C, float eps);
void train_layer_norm_backward(float *dinp,          /* [BT,C] */
                              float *dgamma,        /* [C] */
                              float *dbeta,         /* [C] */
                              const float *dout,    /* [BT,C] */
                              const float *inp,     /* [BT,C] */
                              const float *gamma,   /* [C] */
                              const float *mean,    /* [BT] */
                              const float *rstd,    /* [BT] */
                              size_t BT, size_t C);
/* The same two on a named instruction set (see train_isa). */
void train_layer_norm_forward_isa(train_isa isa, float *out, float *mean,
                                 float *rstd, const float *inp,
                                 const float *gamma, const float *beta,
                                 size_t BT, size_t C, float eps);
void train_layer_norm_backward_isa(train_isa isa, float *dinp, float *dgamma,
                                  float *dbeta, const float *dout,
                                  const float *inp, const float *gamma,
                                  const float *mean, const float *rstd,
                                  size_t BT, size_t C);

/* ---- multi-head self-attention (distill/attention.c) -------------------
 * qkv holds the packed projections q | k | v per token (ir/encoder.h's
 * attn.qkv). For head h, query i, key j:
 *   scores[b,h,i,j] = q_i · k_j / sqrt(hs)        (saved for TinyBERT)
 *   probs[b,h,i,:]  = softmax over the keys j with mask[b,j] != 0;
 *                     padded keys get probability exactly 0
 *   out[b,i,h*hs:]  = sum_j probs[b,h,i,j] v_j
 * This equals BERT's additive mask (1 - mask) * -10000 (or finfo.min) in
 * f32, where exp underflows to 0. scores keep the raw value at padded keys
 * too; the TinyBERT attention loss excludes them. A row whose keys are all
 * padded gets all-zero probs (BERT would give a uniform row; such a row is
 * a batch entry with no tokens at all). mask NULL = no padding. */
void train_attention_forward(float *out,            /* [B,T,C] */
                             float *scores,         /* [B,NH,T,T] */
                             float *probs,          /* [B,NH,T,T] */
                             const float *qkv,      /* [B,T,3C] */
                             const int32_t *mask,   /* [B,T] or NULL */
                             size_t B, size_t T, size_t C, size_t NH);
/* dscores is in/out: on entry the gradient a loss put directly on the
 * scores (the attention loss; zeros if none), on exit the total gradient
 * of the scores. dqkv is added into. */
void train_attention_backward(float *dqkv,          /* [B,T,3C] */
                              float *dscores,       /* [B,NH,T,T] in/out */
                              const float *dout,    /* [B,T,C] */
                              const float *qkv,     /* [B,T,3C] */
                              const float *probs,   /* [B,NH,T,T] */
                              const int32_t *mask,  /* [B,T] or NULL */
                              size_t B, size_t T, size_t C, size_t NH);
/* The same two on a named instruction set (see train_isa). */
void train_attention_forward_isa(train_isa isa, float *out, float *scores,
                                 float *probs, const float *qkv,
                                 const int32_t *mask, size_t B, size_t T,
                                 size_t C, size_t NH);
void train_attention_backward_isa(train_isa isa, float *dqkv, float *dscores,
                                  const float *dout, const float *qkv,
                                  const float *probs, const int32_t *mask,
                                  size_t B, size_t T, size_t C, size_t NH);
/* The softmax rows of the GEMM versions below, on a named instruction set:
 * probs[r,:] = softmax of scores[r,:] over the keys mask[r / (NH*T)]
 * keeps (r over B*NH*T rows of T), and dscores[r,:] += its backward. */
void train_attention_softmax_rows_isa(train_isa isa, float *probs,
                                      const float *scores,
                                      const int32_t *mask, size_t B,
                                      size_t NH, size_t T);
void train_attention_softmax_backward_rows_isa(train_isa isa, float *dscores,
                                               const float *dprobs,
                                               const float *probs,
                                               size_t rows, size_t T);
/* The same two as plain loops over the packed qkv, without scratch: the
 * oracle the tiled versions above are tested against (they agree to float
 * rounding, not bitwise). */
void train_attention_forward_ref(float *out, float *scores, float *probs,
                                 const float *qkv, const int32_t *mask,
                                 size_t B, size_t T, size_t C, size_t NH);
void train_attention_backward_ref(float *dqkv, float *dscores,
                                  const float *dout, const float *qkv,
                                  const float *probs, const int32_t *mask,
                                  size_t B, size_t T, size_t C, size_t NH);

/* The same on a GEMM context (NULL: the tiled loops above): the q·kᵀ,
 * probs·v and the four backward products run as strided batched matmuls
 * over all (b, h) (backend/gemm.h gemm_f32_batched), the softmax and its
 * backward as row loops. dprobs is scratch [B,NH,T,T] (overwritten; NULL
 * runs the loops). Agrees with the loops to float rounding. */
void train_attention_forward_gemm(struct gemm_ctx *g, float *out,
                                  float *scores, float *probs,
                                  const float *qkv, const int32_t *mask,
                                  size_t B, size_t T, size_t C, size_t NH);
void train_attention_backward_gemm(struct gemm_ctx *g, float *dqkv,
                                   float *dscores, float *dprobs,
                                   const float *dout, const float *qkv,
                                   const float *probs, const int32_t *mask,
                                   size_t B, size_t T, size_t C, size_t NH);

/* What the trainer calls (model.c): with a GEMM context, the fused
 * kernels below (AVX-512 or AVX2), else the GEMM versions above; g NULL (or
 * dprobs NULL in the backward) runs the tiled loops. Same results to float
 * rounding whichever runs. */
void train_attention_forward_ctx(struct gemm_ctx *g, float *out,
                                 float *scores, float *probs,
                                 const float *qkv, const int32_t *mask,
                                 size_t B, size_t T, size_t C, size_t NH);
void train_attention_backward_ctx(struct gemm_ctx *g, float *dqkv,
                                  float *dscores, float *dprobs,
                                  const float *dout, const float *qkv,
                                  const float *probs, const int32_t *mask,
                                  size_t B, size_t T, size_t C, size_t NH);

/* The same fused per (b, h) (distill/attention_fused.c): one parallel loop
 * over the B*NH pairs, each doing its products as register-blocked
 * micro-kernels and its softmax (backward) rows while its T x T tile is in
 * cache; train_attention_*_ctx run it with AUTO. Same arguments and
 * semantics as train_attention_forward / _backward; agrees with the _ref
 * loops to float rounding, and gives the same bits for any thread count.
 * Returns 1 when done, 0 when it ran nothing (T == 0 or > 512, hs == 0 or
 * > 128, isa not available on this CPU, or no memory for the scratch):
 * the caller then uses another version. isa picks the micro-kernels
 * (train_isa above): AUTO the best that may run here, PORTABLE plain C
 * (any CPU; the oracle's twin, several times slower), AVX2 (AVX2 + FMA),
 * AVX512 (AVX-512F); an isa that may not run here is declined. */
int train_attention_fused_forward(train_isa isa, float *out, float *scores,
                                  float *probs, const float *qkv,
                                  const int32_t *mask, size_t B, size_t T,
                                  size_t C, size_t NH);
int train_attention_fused_backward(train_isa isa, float *dqkv, float *dscores,
                                   const float *dout, const float *qkv,
                                   const float *probs, const int32_t *mask,
                                   size_t B, size_t T, size_t C, size_t NH);

/* ---- MPNet's relative position bias (distill/relpos.c) -----------------
 * One bias for every layer, added to the scaled scores before the softmax:
 * bias[h,i,j] = table[bucket(i - j), h], with ir/relpos.h's bucketing of
 * R buckets up to max_distance. The attention forward saves scores =
 * q·k/sqrt(hs) + bias (what the softmax sees, and what TinyBERT's
 * attention loss then compares); its backward reads only probs, so it is
 * unchanged, and its dscores on exit are the bias's gradient too: the
 * table's is their sum over the batch and the layers. */
void train_relpos_forward(float *bias,             /* [NH,T,T] */
                          const float *table,      /* [R,NH] */
                          size_t NH, size_t T, int64_t R,
                          int64_t max_distance, bool bidirectional);
/* Adds into dtable; dscores are one layer's total score gradients. */
void train_relpos_backward(float *dtable,          /* [R,NH] */
                           const float *dscores,   /* [B,NH,T,T] */
                           size_t B, size_t NH, size_t T, int64_t R,
                           int64_t max_distance, bool bidirectional);
/* train_attention_forward_ctx with that bias (NULL: exactly it). With a
 * bias it runs the batched GEMMs (g) or the plain loops (g NULL; the
 * tiled and fused kernels take no bias), the bias added before the
 * softmax rows. */
void train_attention_forward_bias_ctx(struct gemm_ctx *g, float *out,
                                      float *scores, float *probs,
                                      const float *qkv, const int32_t *mask,
                                      const float *bias, /* [NH,T,T] */
                                      size_t B, size_t T, size_t C, size_t NH);

/* ---- GELU (distill/gelu.c) ---------------------------------------------
 * The exact (erf) form BERT uses, ONNX Gelu-20 approximate="none":
 * 0.5 x (1 + erf(x / sqrt 2)). */
void train_gelu_forward(float *out, const float *inp, size_t N); /* [N] */
void train_gelu_backward(float *dinp, const float *dout, const float *inp,
                         size_t N);
/* The same two on a named instruction set (see train_isa). */
void train_gelu_forward_isa(train_isa isa, float *out, const float *inp,
                            size_t N);
void train_gelu_backward_isa(train_isa isa, float *dinp, const float *dout,
                             const float *inp, size_t N);
/* The tanh form (HF's gelu_new / gelu_pytorch_tanh), ONNX Gelu-20
 * approximate="tanh": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
 * Same contract as the erf form: forward writes, backward adds. */
void train_gelu_tanh_forward(float *out, const float *inp, size_t N);
void train_gelu_tanh_backward(float *dinp, const float *dout,
                              const float *inp, size_t N);
void train_gelu_tanh_forward_isa(train_isa isa, float *out, const float *inp,
                                 size_t N);
void train_gelu_tanh_backward_isa(train_isa isa, float *dinp,
                                  const float *dout, const float *inp,
                                  size_t N);

/* ---- residual (distill/residual.c): out = a + b ------------------------
 * out may be a or b (elementwise, in place). db may be NULL: b's gradient
 * is dout itself, so a caller that reads dout needs no copy of it. */
void train_residual_forward(float *out, const float *a, const float *b,
                            size_t N);                         /* [N] each */
void train_residual_backward(float *da, float *db, const float *dout,
                             size_t N);

/* ---- dropout (distill/dropout.c) ---------------------------------------
 * Inverted dropout: out = inp * keep / (1 - p), keep[i] = 1 when
 * train_rng_uniform(seed, offset + i) >= p. The mask is saved (one byte
 * per element) so backward needs no RNG; offset lets one seed serve every
 * dropout site of a step without overlap. p = 0 copies. */
void train_dropout_forward(float *out,          /* [N] */
                           uint8_t *keep,       /* [N] */
                           const float *inp,    /* [N] */
                           size_t N, float p, uint64_t seed, uint64_t offset);
void train_dropout_backward(float *dinp, const float *dout,
                            const uint8_t *keep, size_t N, float p);

/* ---- pooler and head (distill/pooler_head.c) ---------------------------
 * BERT's pooler: pooled = act(pre), pre = hidden[:, 0, :] · w + bias, the
 * [CLS] row; act is tanh (BERT, RoBERTa), relu (DistilBERT's
 * pre_classifier), gelu or gelu_tanh (ELECTRA); anything else is tanh.
 * The classification / regression head is then train_linear_* on pooled
 * ([B,C] -> [B,NL]); train_head_* are those calls under the head's name. */
void train_pooler_forward(float *pooled,        /* [B,C] */
                          float *pre,           /* [B,C] kept for backward */
                          const float *hidden,  /* [B,T,C] */
                          const float *w,       /* [C,C] */
                          const float *bias,    /* [C] */
                          ir_act act,
                          size_t B, size_t T, size_t C);
/* dpre is scratch [B,C] (overwritten). */
void train_pooler_backward(float *dhidden,       /* [B,T,C] (row 0 used) */
                           float *dw,            /* [C,C] */
                           float *dbias,         /* [C] */
                           float *dpre,          /* [B,C] scratch */
                           const float *dpooled, /* [B,C] */
                           const float *pooled,  /* [B,C] */
                           const float *pre,     /* [B,C] from forward */
                           const float *hidden,  /* [B,T,C] */
                           const float *w,       /* [C,C] */
                           ir_act act,
                           size_t B, size_t T, size_t C);
void train_head_forward(float *logits,          /* [B,NL] */
                        const float *pooled,    /* [B,C] */
                        const float *w,         /* [C,NL] */
                        const float *bias,      /* [NL] */
                        size_t B, size_t C, size_t NL);
void train_head_backward(float *dpooled,        /* [B,C] */
                         float *dw,             /* [C,NL] */
                         float *dbias,          /* [NL] */
                         const float *dlogits,  /* [B,NL] */
                         const float *pooled,   /* [B,C] */
                         const float *w,        /* [C,NL] */
                         size_t B, size_t C, size_t NL);

#endif

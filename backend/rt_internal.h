/* rt_internal.h — what the runtime's files (backend/rt*.c) share: the model
 * struct, its linear-layer wrapper (rt_linear.h: fp32 through oneDNN or
 * OpenBLAS as the CPU suits, bf16 through onednn_linear, int8 through
 * onednn_qlinear) and the activation plan. Only backend/rt*.c
 * include it. Like rt.h it sees oneDNN only through backend/dnnl_*.h
 * (and OpenBLAS only in rt_linear.c).
 *
 * Dimension letters: B batch, S sequence, H hidden, A heads, D = H/A head
 * size, F FFN width, E factorized embedding size, NL labels.
 */
#ifndef DISTILC_BACKEND_RT_INTERNAL_H
#define DISTILC_BACKEND_RT_INTERNAL_H

#include <stddef.h>

#include "backend/dnnl_engine.h"
#include "backend/dnnl_matmul.h"
#include "backend/dnnl_qlinear.h"
#include "backend/rt.h"
#include "backend/rt_linear.h"

/* A linear layer y = act(x·W + b) (+ r) at the model's precision: rt_linear
 * (backend/rt_linear.h), with the kernel the rule there picks. */

/* The activation buffers of one forward, carved from one block sized for
 * the largest (B,S) seen so far (grown, never shrunk). Liveness in a layer:
 *   x    [B*S,H]  the layer input, overwritten by the layer output
 *   big  [B*S,max(3H,F)]  qkv, then (dead after attention) the FFN middle
 *   ctx  [B*S,H]  attention context, then h1 = LN(attention block)
 *   tmp  [B*S,H]  linear + residual sums before each LayerNorm
 *   att  [B*A*S*S]  scores, softmaxed in place
 *   madd [B*S]    additive mask
 *   heads [3*B*S*H] q, k, v copied head-major [B,A,S,D] for attention
 *   pbias [A*S*S]  the relative position bias, once per forward, and
 *   sadd [B*A*S*S] it plus the mask, the scores' one fused addend (both
 *                 only with rel_buckets, each sized as att)
 *   wemb [B*S,E]  factorized word lookups (only when E is set)
 *   cls, pooled [B,H]
 * so a layer needs 7·H + max(3H,F) floats per token plus A·S per token for
 * the scores, whatever the depth. */
typedef struct rt_plan {
    int64_t cap_tokens, cap_scores, cap_batch; /* sizes the block holds */
    float *block;
    size_t floats;
    float *x, *big, *ctx, *tmp, *att, *madd, *wemb, *cls, *pooled, *heads;
    float *pbias, *sadd;
} rt_plan;

struct rt_model {
    rt_config c;
    rt_options o;
    onednn_ctx *ctx;
    int threads;              /* resolved from o.threads */
    double serial_flops;      /* layers below this run on one thread */
    float mask_fill;          /* additive value at padded keys */
    /* embeddings, copied */
    float *word, *pos, *type, *eln_g, *eln_b;
    float *rel_bias;          /* [rel_buckets, A] or NULL */
    rt_linear proj;           /* E -> H when factorized (bias only with
                               * embed_after_ln) */
    /* per attention group / per FFN group; with int8 and static scales one
     * per layer instead (the scale is per layer) */
    rt_linear qkv[RT_MAX_LAYERS], ao[RT_MAX_LAYERS];
    rt_linear fin[RT_MAX_LAYERS], fout[RT_MAX_LAYERS];
    float *aln_g[RT_MAX_LAYERS], *aln_b[RT_MAX_LAYERS];
    float *fln_g[RT_MAX_LAYERS], *fln_b[RT_MAX_LAYERS];
    int per_layer_lin;        /* linears indexed by layer, not group */
    rt_linear pool, head;     /* always fp32 */
    int64_t weight_bytes;
    rt_plan plan;
};

/* rt_linear.c: rt_linear_init with the model's context and kernel option;
 * adds the layer's bytes to m->weight_bytes; errors prefixed "rt: what". */
ir_status rt_linear_create(rt_model *m, rt_linear *l, ir_precision p,
                           int64_t k, int64_t n, const float *w_kn,
                           const float *b, ir_act act, float in_scale,
                           const char *what, ir_diag *d);

/* rt_plan.c: makes the block hold batch x seq; IR_ERR_NOMEM naming bytes. */
ir_status rt_plan_reserve(rt_plan *p, const rt_config *c, int64_t batch,
                          int64_t seq, ir_diag *d);
void rt_plan_free(rt_plan *p);
int64_t rt_plan_bytes(const rt_plan *p);

/* rt_embed.c: x[B*S,H] = LN(word[ids] (· proj) + pos[s] + type[types]). */
ir_status rt_embed_forward(rt_model *m, int64_t batch, int64_t seq,
                           const int64_t *ids, const int64_t *types,
                           ir_diag *d);

/* rt_attention.c: ctx[B*S,H] = softmax(Q·Kᵀ/sqrt(D) (+ pbias) + madd)·V
 * from the packed qkv [B*S,3H]; scores_tap [B,A,S,S] gets the pre-mask
 * scores when not NULL. has_mask 0: madd unused. With rel_buckets,
 * plan.pbias (and plan.sadd with a mask) must hold this forward's bias:
 * rt_attention_bias. */
void rt_attention_bias(rt_model *m, int64_t batch, int64_t seq, int has_mask);
ir_status rt_attention_forward(rt_model *m, int64_t batch, int64_t seq,
                               int has_mask, float *scores_tap, ir_diag *d);
/* rt_attention.c: out[B,H] = the context of each sequence's first token
 * only (keys and values over all of big's tokens). */
ir_status rt_attention_forward_cls(rt_model *m, int64_t batch, int64_t seq,
                                   int has_mask, float *out, ir_diag *d);

/* rt_tap.c: t->absmax[layer, site] = max(itself, max |x|) over the rows of
 * x [rows,width] whose mask is 1 (all rows when mask is NULL); notes the
 * first non-finite value in t. */
void rt_tap_absmax(rt_calib_tap *t, int64_t layer, rt_site site,
                   const float *x, int64_t rows, int64_t width,
                   const int64_t *mask);

#endif

/* rt.h — the compiled encoder runtime: a BERT-like encoder (ir/encoder.h's
 * shape of model) run with oneDNN primitives at fp32, bf16 or int8.
 *
 * This header and the files that implement it (backend/rt*.c except
 * rt_encoder.c, backend/dnnl_*.c) depend on oneDNN, libc, libm, ir/diag,
 * ir/act and ir/precision only — no graph IR — because backend/emit ships
 * their sources with every emitted standalone binary.
 *
 *     rt_options o; rt_options_default(&o);       // fp32, all cores
 *     rt_model *m;
 *     if (rt_model_create(&cfg, &w, &o, &m, &d) != IR_OK) ... d.msg
 *     rt_model_run(m, B, S, ids, types, mask, logits, NULL, &d);
 *     rt_model_free(m);
 *
 * Weights follow ir/encoder.h: matrices [in, out] (y = x · W + b), the
 * packed attention projection [H, 3H] as q | k | v, sharing through the
 * group maps. The model copies (reorders) what it needs at create time;
 * the caller's weight memory may be released afterwards.
 */
#ifndef DISTILC_BACKEND_RT_H
#define DISTILC_BACKEND_RT_H

#include <stddef.h>
#include <stdint.h>
#include "ir/act.h"
#include "ir/diag.h"
#include "ir/precision.h"

#define RT_MAX_LAYERS 64

/* Precisions (ir/precision.h): fp32; bf16, matmuls in bf16 (AVX512-BF16),
 * accumulation and the rest f32; int8, linears u8 x s8 (weights per output
 * channel), the rest f32. */

/* Plain numbers, mirroring ir_encoder_config. */
typedef struct rt_config {
    int64_t hidden, layers, heads, ffn;
    int64_t vocab, max_positions, type_vocab;
    int64_t embed;      /* 0: no factorized embedding */
    int embed_after_ln; /* an ir_enc_embed: 1 = positions, types and the
                         * LayerNorm E wide, then proj with bias (ALBERT) */
    int64_t labels;     /* 1 for regression */
    ir_act activation;  /* an FFN activation (ir_act_is_ffn) */
    int regression;     /* 1: one score, no argmax */
    ir_act pool_act;    /* after the first token's dense: tanh, relu, gelu;
                         * IR_ACT_NONE (0) = tanh, as ir/encoder.h */
    int positions;      /* an ir_enc_pos: 0 = 0..S-1, 1 = RoBERTa's, counted
                         * over tokens != pad_id from pad_id + 1 */
    int64_t pad_id;
    /* MPNet's relative position bias (ir/relpos.h), added to every layer's
     * scores before the mask: rel_buckets 0 = none */
    int64_t rel_buckets, rel_max_distance;
    int rel_bidirectional;
    float ln_eps;
    int64_t n_attn_groups, n_ffn_groups;
    int64_t attn_group[RT_MAX_LAYERS], ffn_group[RT_MAX_LAYERS];
} rt_config;

/* The activation after the first token's dense layer (tanh for 0). */
static inline ir_act rt_pool_act(const rt_config *c)
{
    return c->pool_act == IR_ACT_NONE ? IR_ACT_TANH : c->pool_act;
}

typedef struct rt_attn_weights {
    const float *qkv_w, *qkv_b;   /* [H,3H], [3H] */
    const float *out_w, *out_b;   /* [H,H], [H] */
    const float *ln_g, *ln_b;     /* [H] */
} rt_attn_weights;

typedef struct rt_ffn_weights {
    const float *in_w, *in_b;     /* [H,F], [F] */
    const float *out_w, *out_b;   /* [F,H], [H] */
    const float *ln_g, *ln_b;     /* [H] */
} rt_ffn_weights;

typedef struct rt_weights {
    const float *word;            /* [V,E] (E = H when not factorized) */
    const float *proj;            /* [E,H] or NULL */
    const float *proj_b;          /* [H] with embed_after_ln, else NULL */
    const float *pos;             /* [P,N], N = E with embed_after_ln, else H */
    const float *type;            /* [TV,N] */
    const float *eln_g, *eln_b;   /* [N] */
    const float *rel_bias;        /* [rel_buckets, A] with rel_buckets > 0 */
    rt_attn_weights attn[RT_MAX_LAYERS]; /* per attention group */
    rt_ffn_weights ffn[RT_MAX_LAYERS];   /* per FFN group */
    const float *pool_w, *pool_b; /* [H,H], [H] */
    const float *head_w, *head_b; /* [H,labels], [labels] */
    /* int8 with static calibration: per-layer input scales (absmax/127 of
     * the input of qkv, out, ffn.in, ffn.out), 4 floats per layer; NULL =
     * dynamic per-tensor scales computed on every run. */
    const float *act_scales;      /* [layers * 4] or NULL */
} rt_weights;

/* The kernel behind an fp32 / bf16 linear layer. RT_KERNEL_AUTO follows the
 * rule of backend/rt_linear.c, decided once when the model is created from
 * the CPU's level (ir/cpu.h, after DISTILC_MAX_ISA) and the layer's shape:
 * oneDNN with packed weights where it has AVX-512; below, OpenBLAS sgemm
 * with a fused C epilogue for BERT-base-sized layers, oneDNN for smaller. The others force one kernel for every fp32
 * linear (benchmarks, tests); bf16 always runs on oneDNN packed, int8 on
 * onednn_qlinear (RT_KERNEL_ONEDNN_INT8, reported only). */
typedef enum rt_kernel {
    RT_KERNEL_AUTO,
    RT_KERNEL_ONEDNN_PACKED,  /* weights reordered once (format_tag any) */
    RT_KERNEL_ONEDNN_PLAIN,   /* weights kept row-major [K,N] (tag ab) */
    RT_KERNEL_OPENBLAS,       /* cblas_sgemm + one vectorised epilogue pass */
    RT_KERNEL_ONEDNN_INT8,    /* backend/dnnl_qlinear.h */
    RT_KERNEL_COUNT
} rt_kernel;
/* "auto", "onednn_packed", "onednn_plain", "openblas", "onednn_int8" */
const char *rt_kernel_name(rt_kernel k);
int rt_kernel_parse(const char *s, rt_kernel *out); /* 1 ok, 0 unknown */

typedef struct rt_options {
    ir_precision precision;
    int threads;                  /* 0: all cores */
    rt_kernel kernel;             /* fp32 linears: RT_KERNEL_AUTO (default) */
} rt_options;
void rt_options_default(rt_options *o);

/* The four linear inputs of a layer, in rt_weights.act_scales' order. */
typedef enum rt_site {
    RT_SITE_QKV,      /* attention qkv: the layer's input */
    RT_SITE_ATTN_OUT, /* attention out: the attention context */
    RT_SITE_FFN_IN,   /* ffn.in: the attention block's LayerNorm output */
    RT_SITE_FFN_OUT,  /* ffn.out: the activation's output */
    RT_SITE_COUNT
} rt_site;
const char *rt_site_name(rt_site s); /* "qkv", "attn_out", "ffn_in", "ffn_out" */

/* The int8 calibration tap (backend/calibrate.h reads it): over the real
 * tokens of every run (mask 1; all of them without a mask) the running
 * max |x| of each linear's input, and where the first non-finite value
 * was. The caller zeroes it once and may pass it to many runs. */
typedef struct rt_calib_tap {
    float absmax[RT_MAX_LAYERS * RT_SITE_COUNT]; /* [l * RT_SITE_COUNT + site] */
    int nonfinite;             /* 1 once an inf or NaN was seen; then: */
    int64_t nf_layer, nf_row;  /* the first one's layer and row b*S + s */
    rt_site nf_site;
} rt_calib_tap;

/* Optional taps, each NULL when not wanted; with none the run computes
 * nothing for them. For distillation (the teacher's intermediate results):
 * hidden[l] is [B,S,H] for l = 0..L (0 = after the embeddings' LayerNorm);
 * scores[l] is [B,A,S,S], the unnormalised attention scores q·kᵀ/sqrt(dh)
 * (plus the relative position bias when the model has one) before the
 * mask is added. For int8 calibration: calib. Any tap on the
 * last layer makes it run for every token, not only [CLS]. */
typedef struct rt_taps {
    float *hidden[RT_MAX_LAYERS + 1];
    float *scores[RT_MAX_LAYERS];
    rt_calib_tap *calib;
} rt_taps;

typedef struct rt_model rt_model;

/* IR_ERR_INPUT for an inconsistent config (naming the field);
 * IR_ERR_UNSUPPORTED when the CPU lacks the precision (bf16 without
 * AVX512-BF16 / AMX, ...), naming it. */
ir_status rt_model_create(const rt_config *c, const rt_weights *w,
                          const rt_options *o, rt_model **out, ir_diag *d);
/* ids, types (NULL: all 0) and mask (NULL: no padding) are int64 [B,S];
 * logits [B,labels]. Any B >= 1 and 1 <= S <= max_positions; primitives are
 * cached per shape. IR_ERR_INPUT naming the position of an id or a type
 * out of range, or of a mask value other than 0 and 1. */
ir_status rt_model_run(rt_model *m, int64_t batch, int64_t seq,
                       const int64_t *ids, const int64_t *types,
                       const int64_t *mask, float *logits,
                       const rt_taps *taps, ir_diag *d);
/* What the model's linear layers run on, counted by kernel, into buf:
 * "openblas x74" or "onednn_packed x72, onednn_int8 (brg:avx512_core_vnni,
 * 8-bit weights) x2" (int8 names oneDNN's implementation). Returns buf. */
const char *rt_model_kernels(const rt_model *m, char *buf, size_t n);
/* Bytes the model holds (weights as packed + activation plan). */
int64_t rt_model_bytes(const rt_model *m);
void rt_model_free(rt_model *m);

#endif

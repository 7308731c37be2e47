/* params.h — the trainer's parameters in the manner of llm.c: a table of
 * tensor sizes derived from an encoder config, ONE contiguous allocation for
 * all parameters, and the same layout for gradients and the AdamW moments,
 * so zeroing gradients and the optimizer step are flat loops.
 *
 *     ir_encoder_config c;  ... fill, incl. attn_group / ffn_group maps ...
 *     train_params *p;
 *     if (train_params_new(&c, &p, &d) != IR_OK) return d.status;
 *     train_params_init_random(p, 42, 0.02f);     // N(0, 0.02), LN 1/0
 *     ... forward / losses / backward add into p->grads ...
 *     train_adamw opt; train_adamw_default(&opt);
 *     train_adamw_update(p, &opt, step);           // step = 1, 2, ...
 *     train_params_zero_grad(p);
 *     train_params_free(p);
 *
 * Tensors and names follow ir/encoder.h (matrices [in, out]):
 *   embeddings.word [V,E]  embeddings.proj [E,C] (only when factorized)
 *   embeddings.proj_bias [C] (only with embed_kind project_after_ln)
 *   embeddings.position [P,N]  embeddings.type [TV,N]
 *   embeddings.ln.gamma / .beta [N]
 *   (N = E with embed_kind project_after_ln, ELECTRA-small and ALBERT,
 *   whose LayerNorm is before the projection; else N = C)
 *   group{a}.attn.qkv.weight [C,3C] .bias [3C], group{a}.attn.out.weight
 *   [C,C] .bias [C], group{a}.attn.ln.gamma / .beta [C]  (a attention group)
 *   group{f}.ffn.in.weight [C,F] .bias [F], group{f}.ffn.out.weight [F,C]
 *   .bias [C], group{f}.ffn.ln.gamma / .beta [C]           (f FFN group)
 *   pooler.weight [C,C] .bias [C], head.weight [C,NL] .bias [NL]
 *   relative_bias [R,NH] (only with cfg.rel_buckets = R: MPNet)
 * ALBERT-style sharing: layer l reads attention group cfg.attn_group[l] and
 * FFN group cfg.ffn_group[l]; each group is stored once, so the backward of
 * every layer sharing it adds into the same gradient (summed over layers).
 */
#ifndef DISTILC_DISTILL_PARAMS_H
#define DISTILC_DISTILL_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distill/kernels.h"
#include "ir/diag.h"
#include "ir/encoder.h"

typedef struct train_tensor {
    char name[IR_ENCODER_NAME_MAX];
    size_t offset;        /* in floats from the start of the block */
    size_t numel;
    int64_t rows, cols;   /* cols = 1 for vectors */
    bool decay;           /* AdamW weight decay applies (matrices, tables) */
} train_tensor;

/* Views into one block (parameters or gradients): per-group pointers. */
typedef struct train_attn_w {
    float *qkv_w;   /* [C,3C] */
    float *qkv_b;   /* [3C] */
    float *out_w;   /* [C,C] */
    float *out_b;   /* [C] */
    float *ln_g;    /* [C] */
    float *ln_b;    /* [C] */
} train_attn_w;
typedef struct train_ffn_w {
    float *in_w;    /* [C,F] */
    float *in_b;    /* [F] */
    float *out_w;   /* [F,C] */
    float *out_b;   /* [C] */
    float *ln_g;    /* [C] */
    float *ln_b;    /* [C] */
} train_ffn_w;
typedef struct train_weights {
    float *word;    /* [V,E] */
    float *proj;    /* [E,C] or NULL when unfactorized */
    float *proj_b;  /* [C] with project_after_ln, else NULL */
    float *pos;     /* [P,N] (N: C, or E with project_after_ln) */
    float *type;    /* [TV,N] */
    float *eln_g, *eln_b;            /* [N] */
    train_attn_w attn[IR_ENCODER_MAX_LAYERS]; /* per attention group */
    train_ffn_w ffn[IR_ENCODER_MAX_LAYERS];   /* per FFN group */
    float *pool_w;  /* [C,C] */
    float *pool_b;  /* [C] */
    float *head_w;  /* [C,NL] */
    float *head_b;  /* [NL] */
    float *rel_bias; /* [R,NH] MPNet's relative position bias, or NULL */
} train_weights;

typedef struct train_params {
    ir_encoder_config cfg;
    size_t n_tensors;
    train_tensor *tensors;
    size_t n;               /* total floats in each block */
    float *params;          /* [n] */
    float *grads;           /* [n], same layout */
    float *m, *v;           /* [n] AdamW first / second moments */
    train_weights w;        /* views into params */
    train_weights g;        /* views into grads */
    /* GEMM helper for the trainer's matmuls (backend/gemm.h), owned by the
     * caller; NULL (train_params_new's default) = the reference loop. */
    struct gemm_ctx *gemm;
} train_params;

/* IR_ERR_INPUT naming the first bad field, e.g. "config.heads = 3 does not
 * divide config.hidden = 8". */
ir_status train_config_check(const ir_encoder_config *c, ir_diag *d);
/* IR_ERR_UNSUPPORTED naming the activation unless the trainer runs it as
 * an FFN activation: erf GELU ('gelu') and tanh GELU ('gelu_tanh'). */
ir_status train_act_check(ir_act a, ir_diag *d);
/* Validates c and allocates zeroed params, grads and moments. */
ir_status train_params_new(const ir_encoder_config *c, train_params **out,
                           ir_diag *d);
void train_params_free(train_params *p);
/* The tensor of that name, or NULL. */
const train_tensor *train_params_find(const train_params *p,
                                      const char *name);
void train_params_zero_grad(train_params *p);
/* Matrices and tables ~ N(0, std) from a counter-based RNG (deterministic
 * in seed), biases 0, LayerNorm gamma 1 and beta 0 (BERT's init). */
void train_params_init_random(train_params *p, uint64_t seed, float std);

/* AdamW (Loshchilov & Hutter 2019) exactly as torch.optim.AdamW: decoupled
 * decay p -= lr * wd * p on tensors marked decay (not biases, not
 * LayerNorm, as Hugging Face's Trainer groups them), then the Adam step
 * with bias correction 1 - beta^step. */
typedef struct train_adamw {
    float lr, beta1, beta2, eps, weight_decay;
} train_adamw;
void train_adamw_default(train_adamw *o); /* 5e-5, 0.9, 0.999, 1e-8, 0.01 */
/* step counts from 1. */
void train_adamw_update(train_params *p, const train_adamw *o, int64_t step);
/* The same on a named instruction set (distill/kernels.h train_isa);
 * every set gives the same bits. */
void train_adamw_update_isa(train_isa isa, train_params *p,
                            const train_adamw *o, int64_t step);

/* ---- to and from ir/encoder (distill/params_encoder.c) -----------------
 * Copies an encoder's weights into new train_params (same config; grads and
 * moments zero), and trained parameters back into an encoder (which must
 * have p's config). IR_ERR_INPUT when the encoder fails ir_encoder_check or
 * configs differ; IR_ERR_UNSUPPORTED for what the trainer cannot run. */
ir_status train_params_from_encoder(const ir_encoder *e, train_params **out,
                                    ir_diag *d);
ir_status train_params_to_encoder(const train_params *p, ir_encoder *e,
                                  ir_diag *d);

#endif

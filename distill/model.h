/* model.h — the student encoder's whole forward and backward for training,
 * composed from distill/kernels.h over distill/params.h's weights, with
 * every activation the backward and the TinyBERT losses need kept in one
 * allocation (llm.c's ActivationTensors).
 *
 *     train_acts *a, *da;                            // activations, grads
 *     train_acts_new(&p->cfg, B, T, &a, &d);
 *     train_acts_new(&p->cfg, B, T, &da, &d);
 *     train_forward(p, a, ids, types, mask, &d);     // a->logits, ...
 *     train_acts_zero(da);
 *     train_ce_forward(&loss, probs, a->logits, labels, B, NL, &d);
 *     train_ce_backward(da->logits, probs, labels, B, NL, 1.0f);
 *     // distillation: hidden-state losses add into da->hidden[l],
 *     // attention losses into da->scores[l]
 *     train_backward(p, a, da, ids, types, mask);    // adds into p->grads
 *
 * Layer l (post-LN BERT, Hugging Face's BertLayer, dropout off):
 *   qkv = hidden[l] · Wqkv + b;  atty = attention(qkv, relbias, mask)
 *   res1 = hidden[l] + atty · Wo + b;       ln1 = LN(res1)
 *   res2 = ln1 + gelu(ln1 · Win + b) · Wout + b;  hidden[l+1] = LN(res2)
 * gelu is the config's activation: erf (BERT) or tanh (gelu_new).
 * relbias is MPNet's relative position bias (kernels.h train_relpos_*),
 * computed once per forward from the table and shared by the layers.
 * hidden[0] is the embeddings' output after their LayerNorm (TinyBERT's
 * embedding-layer target), hidden[L] the last layer; pooled and logits
 * come from hidden[L]'s [CLS] rows. With embed_kind project_after_ln
 * (ELECTRA-small, ALBERT) the embeddings are summed and normalised E wide
 * (N = E below, else N = C) and hidden[0] is their projection to C, the
 * first layer's input as in Hugging Face's hidden_states[0].
 * Layers that share a group (cfg.attn_group / ffn_group, ALBERT) read the
 * same weights, and the backward adds each use's gradient into them.
 */
#ifndef DISTILC_DISTILL_MODEL_H
#define DISTILC_DISTILL_MODEL_H

#include "distill/params.h"

typedef struct train_acts {
    size_t B, T;
    ir_encoder_config cfg;
    float *wemb;                            /* [B,T,E] factorized lookups
                                             * (project_word only) */
    float *emb;                             /* [B,T,N] sum before LN */
    float *emb_mean, *emb_rstd;             /* [B,T] */
    float *relbias;                         /* [NH,T,T] MPNet's position
                                             * bias, or NULL */
    float *eln;                             /* [B,T,E] project_after_ln: the
                                             * LN's output, the projection's
                                             * input; else NULL */
    float *hidden[IR_ENCODER_MAX_LAYERS + 1]; /* [B,T,C] each */
    float *qkv[IR_ENCODER_MAX_LAYERS];      /* [B,T,3C] */
    float *scores[IR_ENCODER_MAX_LAYERS];   /* [B,NH,T,T] q·k/sqrt(hs)
                                             * (+ relbias) */
    float *probs[IR_ENCODER_MAX_LAYERS];    /* [B,NH,T,T] */
    float *atty[IR_ENCODER_MAX_LAYERS];     /* [B,T,C] */
    /* res1, res2: the projections atty·Wo + b and gelu(.)·Wout + b are
     * written here and the residual added in place (no copy of the
     * projection is kept; its gradient is the residual's, da->res*) */
    float *res1[IR_ENCODER_MAX_LAYERS];     /* [B,T,C] */
    float *ln1[IR_ENCODER_MAX_LAYERS];      /* [B,T,C] */
    float *ln1_mean[IR_ENCODER_MAX_LAYERS], *ln1_rstd[IR_ENCODER_MAX_LAYERS]; /* [B,T] */
    float *fch[IR_ENCODER_MAX_LAYERS];      /* [B,T,F] */
    float *fch_gelu[IR_ENCODER_MAX_LAYERS]; /* [B,T,F] */
    float *res2[IR_ENCODER_MAX_LAYERS];     /* [B,T,C] */
    float *ln2_mean[IR_ENCODER_MAX_LAYERS], *ln2_rstd[IR_ENCODER_MAX_LAYERS]; /* [B,T] */
    float *pooled;                          /* [B,C] */
    float *pool_scratch;                    /* [B,C] the pooler's pre-activation
                                             * (forward), its gradient (backward) */
    float *logits;                          /* [B,NL] */
    size_t n;                               /* floats in the block */
    float *mem;                             /* the one allocation */
} train_acts;

/* IR_ERR_INPUT for a bad config or B, T = 0; IR_ERR_UNSUPPORTED for an
 * activation the trainer lacks (train_act_check: it runs erf and tanh
 * GELU). */
ir_status train_acts_new(const ir_encoder_config *c, size_t B, size_t T,
                         train_acts **out, ir_diag *d);
void train_acts_free(train_acts *a);
void train_acts_zero(train_acts *a);

/* ids, types (NULL = all 0) and mask (NULL = no padding) are [B,T] with
 * a's B and T. IR_ERR_INPUT naming the position of an id, type or length
 * out of range. */
ir_status train_forward(const train_params *p, train_acts *a,
                        const int32_t *ids, const int32_t *types,
                        const int32_t *mask, ir_diag *d);
/* Needs the train_forward that filled a. da holds the loss gradients on
 * entry (logits, hidden[l], scores[l]; all else zero, see train_acts_zero)
 * and is used as scratch. Adds into p->grads. */
void train_backward(train_params *p, const train_acts *a, train_acts *da,
                    const int32_t *ids, const int32_t *types,
                    const int32_t *mask);

/* Told as parts of the gradient block become final during a backward: the
 * floats [off, off + n) of p->grads get nothing more from this backward,
 * so a data-parallel run (distill/ddp.h) can start summing them across
 * ranks while the layers below still run (PyTorch DDP's overlap). Every
 * float of the block is reported exactly once per backward, in the order
 * the backward finishes them: head and pooler, then each layer's
 * attention and FFN groups from the last layer down (a group shared by
 * several layers after its first user), then the relative position bias
 * and the embeddings. Called on the calling thread, between the kernels'
 * OpenMP regions. */
typedef struct train_grad_ready {
    void (*fn)(void *user, size_t off, size_t n);
    void *user;
} train_grad_ready;
/* train_backward that reports to ready (NULL: the plain backward). */
void train_backward_ready(train_params *p, const train_acts *a,
                          train_acts *da, const int32_t *ids,
                          const int32_t *types, const int32_t *mask,
                          const train_grad_ready *ready);

#endif

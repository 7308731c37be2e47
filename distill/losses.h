/* losses.h — the training losses: plain fine-tuning (cross-entropy, MSE for
 * regression) and TinyBERT's distillation losses (Jiao et al. 2020,
 * "TinyBERT: Distilling BERT for Natural Language Understanding"), each a
 * forward returning the scalar loss and a backward ADDING dloss * dL/dx into
 * the gradient buffers (see distill/kernels.h for conventions and letters).
 *
 *     double l;
 *     if (train_ce_forward(&l, probs, logits, labels, B, NL, &d) != IR_OK)
 *         return d.status;                     // a label out of range
 *     train_ce_backward(dlogits, probs, labels, B, NL, 1.0f);
 *
 * Extra letters: CS / CT student / teacher width, NHS / NHT student /
 * teacher heads. mask is the attention_mask [B,T] (1 token, 0 padding);
 * NULL means no padding.
 *
 * Rules chosen where the paper leaves room:
 * - Hidden-state and embedding MSE (eq. 7, 8): MSE(H^S W, H^T) with a
 *   learned W [CS,CT] and no bias, as the paper writes it; W NULL when the
 *   widths agree (identity). With a mask, padded tokens are excluded and the
 *   mean is over valid tokens × CT; NULL averages over all tokens, which is
 *   what TinyBERT's released code does.
 * - Attention MSE (eq. 3): on the scaled, unnormalised scores q·k/sqrt(hs);
 *   pairs (i, j) where query i or key j is padding are excluded; the mean is
 *   over NHS × valid pairs. When NHT != NHS, NHT must be a multiple r of NHS
 *   and student head h is compared with the mean of teacher heads
 *   h*r .. h*r + r-1 (averaging consecutive groups, which keeps every
 *   teacher head's signal; mapping by index would drop NHT - NHS heads).
 * - Prediction loss (eq. 10): CE(softmax(z^T / t), log_softmax(z^S / t))
 *   averaged over the batch (TinyBERT's code also divides by NL; we do not)
 *   and without Hinton's t^2 factor, as in the paper.
 */
#ifndef DISTILC_DISTILL_LOSSES_H
#define DISTILC_DISTILL_LOSSES_H

#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"

/* Cross-entropy with integer labels, mean over the batch (torch's
 * F.cross_entropy). probs keeps the softmax for backward. IR_ERR_INPUT when
 * a label is outside [0, NL). */
ir_status train_ce_forward(double *loss, float *probs,  /* [B,NL] */
                           const float *logits,         /* [B,NL] */
                           const int32_t *labels,       /* [B] */
                           size_t B, size_t NL, ir_diag *d);
void train_ce_backward(float *dlogits,                  /* [B,NL] */
                       const float *probs,              /* [B,NL] */
                       const int32_t *labels, size_t B, size_t NL,
                       float dloss);

/* Mean squared error of a regression head: mean_b (pred_b - target_b)^2. */
double train_mse_forward(const float *pred,             /* [B] */
                         const float *target,           /* [B] */
                         size_t B);
void train_mse_backward(float *dpred, const float *pred, const float *target,
                        size_t B, float dloss);

/* TinyBERT eq. 10: soft cross-entropy with temperature t > 0. Saves the
 * student and teacher softmaxes at temperature t. */
ir_status train_soft_ce_forward(double *loss,
                                float *sprobs,          /* [B,NL] */
                                float *tprobs,          /* [B,NL] */
                                const float *slogits,   /* [B,NL] */
                                const float *tlogits,   /* [B,NL] */
                                size_t B, size_t NL, float temp, ir_diag *d);
void train_soft_ce_backward(float *dslogits,            /* [B,NL] */
                            const float *sprobs, const float *tprobs,
                            size_t B, size_t NL, float temp, float dloss);

/* TinyBERT eq. 7 (hidden states) and eq. 8 (embeddings). proj saves
 * hs · w (or a copy of hs when w is NULL, which requires CS == CT). */
ir_status train_hidden_mse_forward(double *loss,
                                   float *proj,         /* [B,T,CT] */
                                   const float *hs,     /* [B,T,CS] */
                                   const float *ht,     /* [B,T,CT] */
                                   const float *w,      /* [CS,CT] or NULL */
                                   const int32_t *mask, /* [B,T] or NULL */
                                   size_t B, size_t T, size_t CS, size_t CT,
                                   ir_diag *d);
/* dproj is scratch [B,T,CT] (overwritten); dw may be NULL. */
void train_hidden_mse_backward(float *dhs,             /* [B,T,CS] */
                               float *dw,              /* [CS,CT] or NULL */
                               float *dproj,           /* [B,T,CT] scratch */
                               const float *proj, const float *hs,
                               const float *ht, const float *w,
                               const int32_t *mask, size_t B, size_t T,
                               size_t CS, size_t CT, float dloss);

/* TinyBERT eq. 3 on scores; head rule in the header comment. IR_ERR_INPUT
 * when NHT is not a multiple of NHS. */
ir_status train_attn_mse_forward(double *loss,
                                 const float *ss,       /* [B,NHS,T,T] */
                                 const float *ts,       /* [B,NHT,T,T] */
                                 const int32_t *mask,   /* [B,T] or NULL */
                                 size_t B, size_t NHS, size_t NHT, size_t T,
                                 ir_diag *d);
void train_attn_mse_backward(float *dss,                /* [B,NHS,T,T] */
                             const float *ss, const float *ts,
                             const int32_t *mask, size_t B, size_t NHS,
                             size_t NHT, size_t T, float dloss);

#endif

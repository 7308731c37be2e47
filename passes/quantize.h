/* quantize.h — the int8 plan for an encoder: calibrated activation scales
 * for the four linears of every layer (what backend/rt.h's
 * rt_weights.act_scales and backend/dnnl_qlinear.h's static in_scale take),
 * and the weight quantisation error for reports.
 *
 *     // over several calibration batches (any B x T each):
 *     quantize_calib *qc;
 *     if (quantize_calib_begin(enc, &qc, &d) != IR_OK) ... d.msg
 *     for (each batch)
 *         quantize_calib_add(qc, ids, types, mask, B, T, &d);
 *     float *scales = malloc(enc->cfg.layers * 4 * sizeof *scales);
 *     quantize_calib_finish(qc, scales, &d);
 *     quantize_calib_free(qc);
 *
 *     // or one call per batch, max-accumulating into scales (zero it first)
 *     quantize_calibrate(enc, ids, types, mask, B, T, scales, &d);
 *
 * Scales, 4 per layer l, in rt.h's order:
 *   [4l+0] input of attention qkv   (hidden[l], the layer's input)
 *   [4l+1] input of attention out   (the attention context)
 *   [4l+2] input of ffn.in          (the attention block's LayerNorm output)
 *   [4l+3] input of ffn.out         (the GELU output)
 * each absmax / 127 over the calibration tokens, so that dnnl_qlinear's
 * static mode maps the observed range onto u8 1..255 (zero point 128).
 *
 * Absmax rather than a percentile, on purpose: BERT's hidden states carry a
 * few outlier features (values 10-100x the rest, always the same channels;
 * Bondarenko et al. 2021, "Understanding and Overcoming the Challenges of
 * Efficient Transformer Quantization") that the following LayerNorms and
 * the task depend on; a percentile clips exactly those, which costs more
 * accuracy than the coarser step absmax gives the small values. Padding
 * tokens (mask 0) are left out: their activations are never read, and they
 * must not widen the range of the real ones.
 *
 * Calibration runs distill/model.h's train_forward (forward only), so it
 * supports what the trainer supports (erf GELU); other activations get
 * IR_ERR_UNSUPPORTED naming the activation. Memory: the trainer's
 * parameter blocks (weights, gradients and AdamW moments: 4x the model)
 * plus every activation of one batch (for BERT-base about 70 MB per layer
 * at 8 x 128 tokens), so calibrate a large teacher in small batches.
 */
#ifndef DISTILC_PASSES_QUANTIZE_H
#define DISTILC_PASSES_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "ir/encoder.h"

/* The input a scale belongs to, for naming them in reports. */
typedef enum quantize_site {
    QUANTIZE_QKV,
    QUANTIZE_ATTN_OUT,
    QUANTIZE_FFN_IN,
    QUANTIZE_FFN_OUT,
    QUANTIZE_SITE_COUNT
} quantize_site;
const char *quantize_site_name(quantize_site s); /* "qkv", "attn_out", ... */

typedef struct quantize_calib quantize_calib;

/* Copies e's weights (e may be freed afterwards). IR_ERR_INPUT for a bad
 * encoder, IR_ERR_UNSUPPORTED for an activation the trainer lacks. */
ir_status quantize_calib_begin(const ir_encoder *e, quantize_calib **out,
                               ir_diag *d);
/* Runs one batch: ids, types (NULL: all 0), mask (NULL: no padding) are
 * [B,T] as train_forward takes them; T <= max_positions. */
ir_status quantize_calib_add(quantize_calib *qc, const int32_t *ids,
                             const int32_t *types, const int32_t *mask,
                             size_t B, size_t T, ir_diag *d);
/* Tokens seen so far (padding excluded). */
size_t quantize_calib_tokens(const quantize_calib *qc);
/* scales[layers*4] = absmax/127 per site. IR_ERR_INPUT before any token
 * was seen. A site whose inputs were all zero gets 1/127 (any positive
 * scale represents zero exactly; 0 would mean "dynamic" to dnnl_qlinear). */
ir_status quantize_calib_finish(const quantize_calib *qc, float *scales,
                                ir_diag *d);
void quantize_calib_free(quantize_calib *qc);

/* One batch in one call: scales[i] = max(scales[i], this batch's scale),
 * so repeated calls accumulate over batches (start from zeros). Scales of
 * sites whose inputs were all zero are left as they were (0 on the first
 * call: set them before use, see quantize_calib_finish). */
ir_status quantize_calibrate(const ir_encoder *e, const int32_t *ids,
                             const int32_t *types, const int32_t *mask,
                             size_t B, size_t T, float *act_scales,
                             ir_diag *d);

/* ---- weight quantisation error ----------------------------------------- */
/* For W [K,N] quantised as dnnl_qlinear.c does (s8 per output column,
 * sw[n] = max_k |W[k,n]| / 127, wq = rintf(W / sw)), with Ŵ = sw·wq:
 *   max_abs  = max |W - Ŵ|
 *   max_rel  = max over columns of max_k |W - Ŵ| / max_k |W|  (≤ 1/254 by
 *              construction; larger means a bug)
 *   frob_rel = ||W - Ŵ||_F / ||W||_F (0 for an all-zero W) */
typedef struct quantize_werr {
    char name[IR_ENCODER_NAME_MAX];
    int64_t k, n;
    double max_abs, max_rel, frob_rel;
} quantize_werr;

/* IR_ERR_INPUT for k, n <= 0 or w NULL. out->name is left empty. */
ir_status quantize_weight_error(const float *w, int64_t k, int64_t n,
                                quantize_werr *out, ir_diag *d);
/* The error of every matrix the int8 runtime quantises (qkv, attention
 * out, ffn.in, ffn.out of each group), in ir_encoder_weight_spec order:
 * out has room for cap entries, *n_out gets how many there are (when more
 * than cap, only cap are filled). */
ir_status quantize_encoder_weight_errors(const ir_encoder *e,
                                         quantize_werr *out, size_t cap,
                                         size_t *n_out, ir_diag *d);

#endif

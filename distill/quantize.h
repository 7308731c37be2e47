/* quantize.h — the int8 plan for an encoder: calibrated activation scales
 * for the four linears of every layer (what backend/rt.h's
 * rt_weights.act_scales and backend/dnnl_qlinear.h's static in_scale take),
 * from batches or from a file of JSON lines (emit_calibrate.c, for distilc
 * build). The weight quantisation error for reports is
 * backend/qlinear_error.h. Calibration lives in distill/ because it runs
 * the trainer's forward.
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
 * supports what the trainer supports (erf and tanh GELU); others get
 * IR_ERR_UNSUPPORTED naming the activation. Memory: the trainer's
 * parameter blocks (weights, gradients and AdamW moments: 4x the model)
 * plus every activation of one batch (for BERT-base about 70 MB per layer
 * at 8 x 128 tokens), so calibrate a large teacher in small batches.
 */
#ifndef DISTILC_DISTILL_QUANTIZE_H
#define DISTILC_DISTILL_QUANTIZE_H

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

/* ---- from a file -------------------------------------------------------- */
/* int8 calibration (emit_calibrate.c) from a file of JSON lines in the
 * program's input format ({"input_ids":[...],"attention_mask":[...],
 * "token_type_ids":[...]}, one example or a [B][T] batch a line, e.g. the
 * output of `distilc tokenize`): scales[layers * 4] = absmax/127 of each
 * linear's input over the real tokens (above). max_lines 0 = all.
 * IR_ERR_INPUT naming FILE:LINE for a bad line or id out of range. */
ir_status emit_calibrate_file(const ir_encoder *e, const char *path,
                              int64_t max_lines, float *scales,
                              size_t *tokens, ir_diag *d);

#endif

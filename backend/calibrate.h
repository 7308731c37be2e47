/* calibrate.h — int8 calibration: the static activation scales for the
 * four linears of every layer (what backend/rt.h's rt_weights.act_scales
 * and backend/dnnl_qlinear.h's static in_scale take), from batches or from
 * a file of JSON lines (emit_calibrate.c, for distilc build). It runs the
 * fp32 runtime (rt.h) with its calibration tap (rt_calib_tap). The weight
 * quantisation error for reports is backend/qlinear_error.h.
 *
 *     // over several calibration batches (any B x T each):
 *     calib_state *cs;
 *     if (calib_begin(enc, &cs, &d) != IR_OK) ... d.msg
 *     for (each batch)
 *         calib_add(cs, ids, types, mask, B, T, &d);
 *     float *scales = malloc(enc->cfg.layers * 4 * sizeof *scales);
 *     calib_finish(cs, scales, &d);
 *     calib_free(cs);
 *
 *     // or one call per batch, max-accumulating into scales (zero it first)
 *     calib_batch(enc, ids, types, mask, B, T, scales, &d);
 *
 * Scales, 4 per layer l, in rt.h's rt_site order:
 *   [4l+0] input of attention qkv   (hidden[l], the layer's input)
 *   [4l+1] input of attention out   (the attention context)
 *   [4l+2] input of ffn.in          (the attention block's LayerNorm output)
 *   [4l+3] input of ffn.out         (the activation's output)
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
 * Calibration runs what the runtime runs (every FFN activation it
 * supports). Memory: the fp32 model as the runtime packs it (about the
 * size of the weights) plus its activation plan for one batch, which holds
 * one layer at a time (rt.c), so a large batch costs per-layer memory, not
 * per-model. Measured on `distilc build --precision int8 --calibrate` of a
 * BERT of hidden 256, 4 layers, vocab 30522 with 32 x 128 tokens as one
 * batch: 155 MB peak, against 439 MB with the trainer's forward before.
 */
#ifndef DISTILC_BACKEND_CALIBRATE_H
#define DISTILC_BACKEND_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "backend/rt.h"
#include "ir/encoder.h"

typedef struct calib_state calib_state;

/* Builds an fp32 runtime model from e (copied: e may be freed afterwards).
 * IR_ERR_INPUT for a bad encoder, IR_ERR_UNSUPPORTED for one the runtime
 * cannot run. */
ir_status calib_begin(const ir_encoder *e, calib_state **out, ir_diag *d);
/* Runs one batch: ids, types (NULL: all 0), mask (NULL: no padding; 1 marks
 * a real token) are [B,T]; T <= max_positions. IR_ERR_INPUT naming the
 * position of an id out of range; IR_ERR_FAILED naming layer, input and
 * token of a non-finite activation. */
ir_status calib_add(calib_state *cs, const int32_t *ids, const int32_t *types,
                    const int32_t *mask, size_t B, size_t T, ir_diag *d);
/* Tokens seen so far (padding excluded). */
size_t calib_tokens(const calib_state *cs);
/* scales[layers*4] = absmax/127 per site. IR_ERR_INPUT before any token
 * was seen. A site whose inputs were all zero gets 1/127 (any positive
 * scale represents zero exactly; 0 would mean "dynamic" to dnnl_qlinear). */
ir_status calib_finish(const calib_state *cs, float *scales, ir_diag *d);
void calib_free(calib_state *cs);

/* One batch in one call: scales[i] = max(scales[i], this batch's scale),
 * so repeated calls accumulate over batches (start from zeros). Scales of
 * sites whose inputs were all zero are left as they were (0 on the first
 * call: set them before use, see calib_finish). */
ir_status calib_batch(const ir_encoder *e, const int32_t *ids,
                      const int32_t *types, const int32_t *mask, size_t B,
                      size_t T, float *act_scales, ir_diag *d);

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

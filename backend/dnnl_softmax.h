/* dnnl_softmax.h — softmax over the last axis through oneDNN 2.6
 * (softmax_v2, accurate algorithm), as attention applies it to scores.
 *
 *     onednn_softmax_run(ctx, B * heads * S, S, scores, probs, &d);
 *
 * Semantics: ONNX Softmax-13 with axis = -1. y may be x (in place).
 */
#ifndef DISTILC_BACKEND_DNNL_SOFTMAX_H
#define DISTILC_BACKEND_DNNL_SOFTMAX_H

#include <stdint.h>

#include "backend/dnnl_engine.h"

/* x, y: [rows, n]. */
ir_status onednn_softmax_run(onednn_ctx *ctx, int64_t rows, int64_t n,
                             const float *x, float *y, ir_diag *d);

#endif

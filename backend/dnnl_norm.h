/* dnnl_norm.h — layer normalization over the last axis through oneDNN 2.6,
 * with the residual add BERT puts before it (AddLayerNorm).
 *
 *     // h[rows,n] = LayerNorm(attn_out + x) · gamma + beta, eps 1e-12
 *     onednn_layer_norm_run(ctx, rows, n, 1e-12f, attn_out, x, gamma, beta,
 *                          h, NULL, &d);
 *
 * Semantics: ONNX LayerNormalization-17 with axis = -1 (biased variance,
 * y = (s - mean) / sqrt(var + eps) · gamma + beta, s = x + r).
 */
#ifndef DISTILC_BACKEND_DNNL_NORM_H
#define DISTILC_BACKEND_DNNL_NORM_H

#include <stdint.h>

#include "backend/dnnl_engine.h"

/* x, y: [rows, n]; r: [rows, n] residual or NULL; gamma, beta: [n] or NULL
 * (1 and 0); sum_out: [rows, n] receives x + r when not NULL (the next
 * residual), else the sum is formed in y. y may be x (in place). */
ir_status onednn_layer_norm_run(onednn_ctx *ctx, int64_t rows, int64_t n,
                               float eps, const float *x, const float *r,
                               const float *gamma, const float *beta,
                               float *y, float *sum_out, ir_diag *d);

#endif

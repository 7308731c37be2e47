/* norm.h — the one scalar reference of LayerNorm over a row, used by the
 * interpreter's LayerNormalization (ir/ops/layer_norm.c) and the fused
 * LayerNorm, AddLayerNorm and EmbedLayerNorm (ir/ops/fused.c).
 *
 *     double mean, inv;
 *     ir_layer_norm_row_ref(x, y, c, gamma, beta, 1e-12, &mean, &inv);
 *
 * ONNX LayerNormalization-17 on one row of c elements: population
 * variance, sums in double, y = (x - mean) / sqrt(var + eps) * gamma + beta
 * (beta may be NULL). The fast variants (the trainer's distill/layer_norm.c,
 * oneDNN's layer normalization in the runtime) are tested against it.
 */
#ifndef DISTILC_IR_NORM_H
#define DISTILC_IR_NORM_H

#include <math.h>
#include <stdint.h>

static inline void ir_layer_norm_row_ref(const float *x, float *y, int64_t c,
                                         const float *gamma, const float *beta,
                                         double eps, double *mean_out,
                                         double *inv_out)
{
    double sum = 0.0, var = 0.0;
    for (int64_t k = 0; k < c; k++)
        sum += x[k];
    double mean = c ? sum / (double)c : 0.0;
    for (int64_t k = 0; k < c; k++)
        var += ((double)x[k] - mean) * ((double)x[k] - mean);
    var = c ? var / (double)c : 0.0;
    double inv = 1.0 / sqrt(var + eps);
    for (int64_t k = 0; k < c; k++) {
        double v = ((double)x[k] - mean) * inv * gamma[k];
        y[k] = (float)(beta ? v + beta[k] : v);
    }
    if (mean_out)
        *mean_out = mean;
    if (inv_out)
        *inv_out = inv;
}

#endif

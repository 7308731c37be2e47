/* dnnl_qlinear.h — an int8 linear layer: weights s8 per output channel,
 * activations u8 with one scale and zero point per tensor (dynamic: from the
 * input of each run; static: a calibrated scale), u8 x s8 -> s32 matmul
 * (VNNI; 7-bit weights on CPUs without it), dequantised to f32 with bias,
 * activation and residual fused.
 *
 *     onednn_qlinear *q;
 *     onednn_qlinear_create(ctx, K, N, W_kn, bias, IR_ACT_GELU,
 *                           0.0f, &q, &d);        // 0: dynamic
 *     onednn_qlinear_run(q, M, x, y, NULL, &d);   // x, y f32
 *     onednn_qlinear_free(q);
 */
#ifndef DISTILC_BACKEND_DNNL_QLINEAR_H
#define DISTILC_BACKEND_DNNL_QLINEAR_H

#include <stdint.h>
#include "backend/dnnl_matmul.h"

typedef struct onednn_qlinear onednn_qlinear;

/* w is f32 [K,N] (ONNX MatMul layout); bias [N] or NULL. in_scale > 0 fixes
 * the activation scale (static calibration: u8 = round(x / in_scale) + 128,
 * saturated); 0 computes scale and zero point from each input (dynamic,
 * asymmetric u8 over the input's min..max). */
ir_status onednn_qlinear_create(onednn_ctx *ctx, int64_t k, int64_t n,
                                const float *w, const float *bias,
                                ir_act act, float in_scale,
                                onednn_qlinear **out, ir_diag *d);
/* y[M,N] = act(dequant(quant(x) · Wq) + bias) (+ r when not NULL). */
ir_status onednn_qlinear_run(onednn_qlinear *q, int64_t m, const float *x,
                             float *y, const float *r, ir_diag *d);
void onednn_qlinear_free(onednn_qlinear *q);

/* The largest |wq|: 127 where oneDNN has VNNI, 63 where it does not (7-bit
 * weights, so that its 16-bit pair sums cannot saturate; see
 * dnnl_qlinear.c). Chosen when the layer is created, on the CPU it runs. */
int onednn_qlinear_weight_max(const onednn_qlinear *q);
/* oneDNN's implementation and the weight width, e.g.
 * "brg:avx512_core_vnni, 8-bit weights" (what bench reports). */
const char *onednn_qlinear_kernel(const onednn_qlinear *q);

#endif

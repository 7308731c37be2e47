/* linear.c — fully connected layer out = inp · w + bias (ONNX Gemm-13 with
 * transB = 0), forward and backward. w is [in, out] as in ir/encoder.h. */
#include "distill/kernels.h"

void train_linear_forward(float *out, const float *inp, const float *w,
                          const float *bias, size_t BT, size_t C, size_t OC)
{
    train_linear_forward_ctx(NULL, out, inp, w, bias, BT, C, OC);
}

void train_linear_forward_ctx(struct gemm_ctx *g, float *out,
                              const float *inp, const float *w,
                              const float *bias, size_t BT, size_t C,
                              size_t OC)
{
    if (bias) {
        for (size_t i = 0; i < BT; i++)
            for (size_t o = 0; o < OC; o++)
                out[i * OC + o] = bias[o];
    }
    train_matmul_ctx(g, 0, 0, BT, OC, C, 1.0f, inp, C, w, OC,
                     bias ? 1.0f : 0.0f, out, OC);
}

void train_linear_backward(float *dinp, float *dw, float *dbias,
                           const float *dout, const float *inp,
                           const float *w, size_t BT, size_t C, size_t OC)
{
    train_linear_backward_ctx(NULL, dinp, dw, dbias, dout, inp, w, BT, C, OC);
}

void train_linear_backward_ctx(struct gemm_ctx *g, float *dinp, float *dw,
                               float *dbias, const float *dout,
                               const float *inp, const float *w, size_t BT,
                               size_t C, size_t OC)
{
    /* dinp[BT,C] += dout[BT,OC] · w^T */
    if (dinp)
        train_matmul_ctx(g, 0, 1, BT, C, OC, 1.0f, dout, OC, w, OC, 1.0f,
                         dinp, C);
    /* dw[C,OC] += inp^T · dout */
    train_matmul_ctx(g, 1, 0, C, OC, BT, 1.0f, inp, C, dout, OC, 1.0f, dw,
                     OC);
    if (dbias) {
        for (size_t o = 0; o < OC; o++) {
            double s = 0.0;
            for (size_t i = 0; i < BT; i++)
                s += dout[i * OC + o];
            dbias[o] += (float)s;
        }
    }
}

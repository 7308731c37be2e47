/* linear.c — fully connected layer out = inp · w + bias (ONNX Gemm-13 with
 * transB = 0), forward and backward. w is [in, out] as in ir/encoder.h.
 *
 * The bias rides in the forward GEMM (train_matmul_bias_ctx). Its
 * gradient is a column sum of dout, swept row by row so every load is
 * contiguous: threads own blocks of columns and each column sums its rows
 * in order 0, 1, ... in double, so the bits do not depend on the thread
 * count (and equal the plain column loop's). */
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
    train_matmul_bias_ctx(g, BT, OC, C, inp, C, w, OC, bias, out, OC);
}

void train_linear_backward(float *dinp, float *dw, float *dbias,
                           const float *dout, const float *inp,
                           const float *w, size_t BT, size_t C, size_t OC)
{
    train_linear_backward_ctx(NULL, dinp, dw, dbias, dout, inp, w, BT, C, OC);
}

/* Columns per block of the bias sum: 64 doubles of accumulators stay in
 * registers / L1 while the rows stream by. */
enum { BIAS_BLOCK = 64 };

/* dbias[OC] += sum over the BT rows of dout[BT,OC]. */
static void bias_grad(float *dbias, const float *dout, size_t BT, size_t OC)
{
    size_t nblk = (OC + BIAS_BLOCK - 1) / BIAS_BLOCK;
#pragma omp parallel for schedule(static) if (BT * OC > 32768)
    for (size_t k = 0; k < nblk; k++) {
        size_t o0 = k * BIAS_BLOCK;
        size_t n = OC - o0 < BIAS_BLOCK ? OC - o0 : BIAS_BLOCK;
        double acc[BIAS_BLOCK] = {0};
        for (size_t i = 0; i < BT; i++) {
            const float *r = dout + i * OC + o0;
#pragma omp simd
            for (size_t o = 0; o < n; o++)
                acc[o] += r[o];
        }
        for (size_t o = 0; o < n; o++)
            dbias[o0 + o] += (float)acc[o];
    }
}

static void linear_backward(struct gemm_ctx *g, float *dinp, float dinp_beta,
                            float *dw, float *dbias, const float *dout,
                            const float *inp, const float *w, size_t BT,
                            size_t C, size_t OC)
{
    /* dinp[BT,C] (+)= dout[BT,OC] · w^T */
    if (dinp)
        train_matmul_ctx(g, 0, 1, BT, C, OC, 1.0f, dout, OC, w, OC, dinp_beta,
                         dinp, C);
    /* dw[C,OC] += inp^T · dout */
    train_matmul_ctx(g, 1, 0, C, OC, BT, 1.0f, inp, C, dout, OC, 1.0f, dw,
                     OC);
    if (dbias)
        bias_grad(dbias, dout, BT, OC);
}

void train_linear_backward_ctx(struct gemm_ctx *g, float *dinp, float *dw,
                               float *dbias, const float *dout,
                               const float *inp, const float *w, size_t BT,
                               size_t C, size_t OC)
{
    linear_backward(g, dinp, 1.0f, dw, dbias, dout, inp, w, BT, C, OC);
}

void train_linear_backward_set_ctx(struct gemm_ctx *g, float *dinp, float *dw,
                                   float *dbias, const float *dout,
                                   const float *inp, const float *w, size_t BT,
                                   size_t C, size_t OC)
{
    linear_backward(g, dinp, 0.0f, dw, dbias, dout, inp, w, BT, C, OC);
}

/* gelu.c — GELU in its exact erf form, as BERT and torch.nn.functional.gelu
 * compute it (ONNX Gelu-20, approximate = "none"):
 *   gelu(x)  = 0.5 x (1 + erf(x / sqrt 2))
 *   gelu'(x) = 0.5 (1 + erf(x / sqrt 2)) + x * phi(x),
 *   phi the standard normal density. */
#include <math.h>

#include "distill/kernels.h"

#define GELU_INV_SQRT2 0.70710678118654752440
#define GELU_INV_SQRT_2PI 0.39894228040143267794

void train_gelu_forward(float *out, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        double x = inp[i];
        out[i] = (float)(0.5 * x * (1.0 + erf(x * GELU_INV_SQRT2)));
    }
}

void train_gelu_backward(float *dinp, const float *dout, const float *inp,
                         size_t N)
{
    for (size_t i = 0; i < N; i++) {
        double x = inp[i];
        double cdf = 0.5 * (1.0 + erf(x * GELU_INV_SQRT2));
        double pdf = GELU_INV_SQRT_2PI * exp(-0.5 * x * x);
        dinp[i] += (float)((cdf + x * pdf) * dout[i]);
    }
}

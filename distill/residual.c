/* residual.c — the residual connection out = a + b and its backward, which
 * passes the gradient unchanged to both branches (adding into each). */
#include "distill/kernels.h"

void train_residual_forward(float *out, const float *a, const float *b,
                            size_t N)
{
#pragma omp parallel for schedule(static) if (N > 65536) /* elementwise */
    for (size_t i = 0; i < N; i++)
        out[i] = a[i] + b[i];
}

void train_residual_backward(float *da, float *db, const float *dout,
                             size_t N)
{
    if (!db) { /* the caller reads b's gradient from dout itself */
#pragma omp parallel for schedule(static) if (N > 65536)
        for (size_t i = 0; i < N; i++)
            da[i] += dout[i];
        return;
    }
#pragma omp parallel for schedule(static) if (N > 65536)
    for (size_t i = 0; i < N; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

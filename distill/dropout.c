/* dropout.c — inverted dropout with a deterministic counter-based mask
 * (distill/rng.c): element i is kept when uniform(seed, offset + i) >= p and
 * scaled by 1/(1-p), as torch.nn.Dropout does in training mode. The mask is
 * saved so backward needs no RNG. */
#include "distill/kernels.h"

void train_dropout_forward(float *out, uint8_t *keep, const float *inp,
                           size_t N, float p, uint64_t seed, uint64_t offset)
{
    if (p <= 0.0f) {
        for (size_t i = 0; i < N; i++) {
            keep[i] = 1;
            out[i] = inp[i];
        }
        return;
    }
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    for (size_t i = 0; i < N; i++) {
        keep[i] = train_rng_uniform(seed, offset + i) >= p;
        out[i] = keep[i] ? inp[i] * scale : 0.0f;
    }
}

void train_dropout_backward(float *dinp, const float *dout,
                            const uint8_t *keep, size_t N, float p)
{
    float scale = p <= 0.0f ? 1.0f : (p < 1.0f ? 1.0f / (1.0f - p) : 0.0f);
    for (size_t i = 0; i < N; i++)
        if (keep[i])
            dinp[i] += dout[i] * scale;
}

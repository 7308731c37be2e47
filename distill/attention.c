/* attention.c — multi-head scaled dot-product self-attention with BERT's
 * padding mask, forward and backward (semantics of Hugging Face's
 * BertSelfAttention; the projections around it are train_linear_*).
 *
 * Forward saves both the scaled, unmasked scores q·k/sqrt(hs) — which
 * TinyBERT's attention loss compares (eq. 3 of the TinyBERT paper) — and
 * the softmax probabilities backward needs. Masked keys are skipped, which
 * is what the additive -10000 / finfo.min mask computes in f32. */
#include <math.h>

#include "distill/kernels.h"

void train_attention_forward(float *out, float *scores, float *probs,
                             const float *qkv, const int32_t *mask, size_t B,
                             size_t T, size_t C, size_t NH)
{
    size_t hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    for (size_t b = 0; b < B; b++) {
        const int32_t *mk = mask ? mask + b * T : NULL;
        for (size_t h = 0; h < NH; h++) {
            for (size_t i = 0; i < T; i++) {
                const float *q = qkv + (b * T + i) * C3 + h * hs;
                float *sc = scores + ((b * NH + h) * T + i) * T;
                float *pr = probs + ((b * NH + h) * T + i) * T;
                float maxv = -INFINITY;
                for (size_t j = 0; j < T; j++) {
                    const float *k = qkv + (b * T + j) * C3 + C + h * hs;
                    float s = 0.0f;
                    for (size_t d = 0; d < hs; d++)
                        s += q[d] * k[d];
                    sc[j] = s * scale;
                    if ((!mk || mk[j]) && sc[j] > maxv)
                        maxv = sc[j];
                }
                double sum = 0.0;
                for (size_t j = 0; j < T; j++) {
                    pr[j] = (!mk || mk[j]) ? expf(sc[j] - maxv) : 0.0f;
                    sum += pr[j];
                }
                float inv = sum > 0.0 ? (float)(1.0 / sum) : 0.0f;
                float *o = out + (b * T + i) * C + h * hs;
                for (size_t d = 0; d < hs; d++)
                    o[d] = 0.0f;
                for (size_t j = 0; j < T; j++) {
                    pr[j] *= inv;
                    if (pr[j] == 0.0f)
                        continue;
                    const float *v = qkv + (b * T + j) * C3 + 2 * C + h * hs;
                    for (size_t d = 0; d < hs; d++)
                        o[d] += pr[j] * v[d];
                }
            }
        }
    }
}

void train_attention_backward(float *dqkv, float *dscores, const float *dout,
                              const float *qkv, const float *probs,
                              const int32_t *mask, size_t B, size_t T,
                              size_t C, size_t NH)
{
    size_t hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    for (size_t b = 0; b < B; b++) {
        for (size_t h = 0; h < NH; h++) {
            for (size_t i = 0; i < T; i++) {
                const float *pr = probs + ((b * NH + h) * T + i) * T;
                float *ds = dscores + ((b * NH + h) * T + i) * T;
                const float *g = dout + (b * T + i) * C + h * hs;
                /* out_i = sum_j p_ij v_j: dv_j += p_ij g, dp_ij = g · v_j */
                double pdp = 0.0;
                float dp[T > 0 ? T : 1];
                for (size_t j = 0; j < T; j++) {
                    const float *v = qkv + (b * T + j) * C3 + 2 * C + h * hs;
                    float *dv = dqkv + (b * T + j) * C3 + 2 * C + h * hs;
                    float s = 0.0f;
                    for (size_t d = 0; d < hs; d++) {
                        s += g[d] * v[d];
                        dv[d] += pr[j] * g[d];
                    }
                    dp[j] = s;
                    pdp += (double)pr[j] * s;
                }
                /* softmax: dscore_ij = p_ij (dp_ij - sum_k p_ik dp_ik);
                 * masked keys have p = 0 and get only the loss's gradient */
                for (size_t j = 0; j < T; j++)
                    ds[j] += pr[j] * (float)(dp[j] - pdp);
                (void)mask;
                /* score_ij = scale q_i · k_j */
                const float *q = qkv + (b * T + i) * C3 + h * hs;
                float *dq = dqkv + (b * T + i) * C3 + h * hs;
                for (size_t j = 0; j < T; j++) {
                    float gs = ds[j] * scale;
                    if (gs == 0.0f)
                        continue;
                    const float *k = qkv + (b * T + j) * C3 + C + h * hs;
                    float *dk = dqkv + (b * T + j) * C3 + C + h * hs;
                    for (size_t d = 0; d < hs; d++) {
                        dq[d] += gs * k[d];
                        dk[d] += gs * q[d];
                    }
                }
            }
        }
    }
}

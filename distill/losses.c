/* losses.c — fine-tuning and TinyBERT distillation losses; the rules and
 * equation numbers are in distill/losses.h. Sums are accumulated in double
 * so the loss is a stable target for finite-difference tests. */
#include <math.h>
#include <string.h>

#include "distill/kernels.h"
#include "distill/losses.h"

/* softmax of x/temp into p (one row), returns log of the normaliser of
 * x/temp so log p_k = x_k/temp - lse. */
static double softmax_row(float *p, const float *x, size_t n, float temp)
{
    double maxv = -INFINITY;
    for (size_t k = 0; k < n; k++)
        if (x[k] / temp > maxv)
            maxv = x[k] / temp;
    double sum = 0.0;
    for (size_t k = 0; k < n; k++)
        sum += exp(x[k] / temp - maxv);
    double lse = maxv + log(sum);
    for (size_t k = 0; k < n; k++)
        p[k] = (float)exp(x[k] / temp - lse);
    return lse;
}

ir_status train_ce_forward(double *loss, float *probs, const float *logits,
                           const int32_t *labels, size_t B, size_t NL,
                           ir_diag *d)
{
    double total = 0.0;
    for (size_t b = 0; b < B; b++) {
        if (labels[b] < 0 || (size_t)labels[b] >= NL)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "cross-entropy: label %d of batch row %zu is "
                               "outside [0, %zu)", (int)labels[b], b, NL);
        double lse = softmax_row(probs + b * NL, logits + b * NL, NL, 1.0f);
        total += lse - logits[b * NL + (size_t)labels[b]];
    }
    *loss = B ? total / (double)B : 0.0;
    return IR_OK;
}

void train_ce_backward(float *dlogits, const float *probs,
                       const int32_t *labels, size_t B, size_t NL,
                       float dloss)
{
    float s = dloss / (float)B;
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < NL; k++)
            dlogits[b * NL + k] +=
                s * (probs[b * NL + k] - ((int32_t)k == labels[b] ? 1.0f : 0.0f));
}

double train_mse_forward(const float *pred, const float *target, size_t B)
{
    double total = 0.0;
    for (size_t b = 0; b < B; b++)
        total += ((double)pred[b] - target[b]) * ((double)pred[b] - target[b]);
    return B ? total / (double)B : 0.0;
}

void train_mse_backward(float *dpred, const float *pred, const float *target,
                        size_t B, float dloss)
{
    for (size_t b = 0; b < B; b++)
        dpred[b] += dloss * 2.0f * (pred[b] - target[b]) / (float)B;
}

ir_status train_soft_ce_forward(double *loss, float *sprobs, float *tprobs,
                                const float *slogits, const float *tlogits,
                                size_t B, size_t NL, float temp, ir_diag *d)
{
    if (!(temp > 0.0f))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "prediction loss: temperature %g must be > 0",
                           (double)temp);
    double total = 0.0;
    for (size_t b = 0; b < B; b++) {
        double lse = softmax_row(sprobs + b * NL, slogits + b * NL, NL, temp);
        softmax_row(tprobs + b * NL, tlogits + b * NL, NL, temp);
        for (size_t k = 0; k < NL; k++)
            total -= tprobs[b * NL + k] * (slogits[b * NL + k] / temp - lse);
    }
    *loss = B ? total / (double)B : 0.0;
    return IR_OK;
}

void train_soft_ce_backward(float *dslogits, const float *sprobs,
                            const float *tprobs, size_t B, size_t NL,
                            float temp, float dloss)
{
    float s = dloss / (temp * (float)B);
    for (size_t i = 0; i < B * NL; i++)
        dslogits[i] += s * (sprobs[i] - tprobs[i]);
}

static size_t count_valid(const int32_t *mask, size_t BT)
{
    if (!mask)
        return BT;
    size_t n = 0;
    for (size_t i = 0; i < BT; i++)
        n += mask[i] != 0;
    return n;
}

ir_status train_hidden_mse_forward(double *loss, float *proj, const float *hs,
                                   const float *ht, const float *w,
                                   const int32_t *mask, size_t B, size_t T,
                                   size_t CS, size_t CT, ir_diag *d)
{
    size_t BT = B * T;
    if (!w && CS != CT)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "hidden-state loss: student width %zu differs from "
                           "teacher width %zu but no projection W_h was given",
                           CS, CT);
    if (w)
        train_matmul(0, 0, BT, CT, CS, 1.0f, hs, CS, w, CT, 0.0f, proj, CT);
    else
        memcpy(proj, hs, BT * CT * sizeof(float));
    size_t n = count_valid(mask, BT);
    double total = 0.0;
    for (size_t i = 0; i < BT; i++) {
        if (mask && !mask[i])
            continue;
        for (size_t c = 0; c < CT; c++) {
            double e = (double)proj[i * CT + c] - ht[i * CT + c];
            total += e * e;
        }
    }
    *loss = n ? total / ((double)n * (double)CT) : 0.0;
    return IR_OK;
}

void train_hidden_mse_backward(float *dhs, float *dw, float *dproj,
                               const float *proj, const float *hs,
                               const float *ht, const float *w,
                               const int32_t *mask, size_t B, size_t T,
                               size_t CS, size_t CT, float dloss)
{
    size_t BT = B * T, n = count_valid(mask, BT);
    if (n == 0)
        return;
    float s = 2.0f * dloss / ((float)n * (float)CT);
    for (size_t i = 0; i < BT; i++)
        for (size_t c = 0; c < CT; c++)
            dproj[i * CT + c] = (mask && !mask[i])
                ? 0.0f : s * (proj[i * CT + c] - ht[i * CT + c]);
    if (w) {
        if (dw)
            train_matmul(1, 0, CS, CT, BT, 1.0f, hs, CS, dproj, CT, 1.0f, dw, CT);
        train_matmul(0, 1, BT, CS, CT, 1.0f, dproj, CT, w, CT, 1.0f, dhs, CS);
    } else {
        for (size_t i = 0; i < BT * CT; i++)
            dhs[i] += dproj[i];
    }
}

/* valid (query, key) pairs per head over the batch */
static size_t attn_pairs(const int32_t *mask, size_t B, size_t T)
{
    size_t n = 0;
    for (size_t b = 0; b < B; b++) {
        size_t v = count_valid(mask ? mask + b * T : NULL, T);
        n += v * v;
    }
    return n;
}

ir_status train_attn_mse_forward(double *loss, const float *ss,
                                 const float *ts, const int32_t *mask,
                                 size_t B, size_t NHS, size_t NHT, size_t T,
                                 ir_diag *d)
{
    if (NHS == 0 || NHT % NHS != 0)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "attention loss: teacher heads %zu are not a "
                           "multiple of student heads %zu (teacher heads are "
                           "averaged in groups of NHT/NHS); choose a student "
                           "head count dividing %zu", NHT, NHS, NHT);
    size_t r = NHT / NHS, n = attn_pairs(mask, B, T) * NHS;
    double total = 0.0;
    for (size_t b = 0; b < B; b++) {
        const int32_t *mk = mask ? mask + b * T : NULL;
        for (size_t h = 0; h < NHS; h++) {
            for (size_t i = 0; i < T; i++) {
                if (mk && !mk[i])
                    continue;
                for (size_t j = 0; j < T; j++) {
                    if (mk && !mk[j])
                        continue;
                    double t = 0.0;
                    for (size_t g = 0; g < r; g++)
                        t += ts[((b * NHT + h * r + g) * T + i) * T + j];
                    double e = ss[((b * NHS + h) * T + i) * T + j] - t / (double)r;
                    total += e * e;
                }
            }
        }
    }
    *loss = n ? total / (double)n : 0.0;
    return IR_OK;
}

void train_attn_mse_backward(float *dss, const float *ss, const float *ts,
                             const int32_t *mask, size_t B, size_t NHS,
                             size_t NHT, size_t T, float dloss)
{
    size_t r = NHT / NHS, n = attn_pairs(mask, B, T) * NHS;
    if (n == 0)
        return;
    double s = 2.0 * dloss / (double)n;
    for (size_t b = 0; b < B; b++) {
        const int32_t *mk = mask ? mask + b * T : NULL;
        for (size_t h = 0; h < NHS; h++) {
            for (size_t i = 0; i < T; i++) {
                if (mk && !mk[i])
                    continue;
                for (size_t j = 0; j < T; j++) {
                    if (mk && !mk[j])
                        continue;
                    double t = 0.0;
                    for (size_t g = 0; g < r; g++)
                        t += ts[((b * NHT + h * r + g) * T + i) * T + j];
                    size_t k = ((b * NHS + h) * T + i) * T + j;
                    dss[k] += (float)(s * (ss[k] - t / (double)r));
                }
            }
        }
    }
}

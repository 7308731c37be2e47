/* attention.c — multi-head scaled dot-product self-attention with BERT's
 * padding mask, forward and backward (semantics of Hugging Face's
 * BertSelfAttention; the projections around it are train_linear_*).
 *
 * Forward saves both the scaled, unmasked scores q·k/sqrt(hs) — which
 * TinyBERT's attention loss compares (eq. 3 of the TinyBERT paper) — and
 * the softmax probabilities backward needs. Masked keys are skipped, which
 * is what the additive -10000 / finfo.min mask computes in f32.
 *
 * Two versions: train_attention_* work on one (batch, head) at a time in
 * per-thread scratch, with the head's q, k, v gathered into contiguous
 * (partly transposed) tiles so every inner loop runs over T contiguous
 * floats and vectorizes, and the head's gradients summed in scratch before
 * one add into dqkv. train_attention_*_ref are the first, plainer loops,
 * kept as the oracle (tests/distill/test_train_fast_kernels.c) and as the fallback
 * when the scratch cannot be allocated. Every (b, h) writes only its own
 * slices in a fixed order, so results do not depend on the thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "backend/gemm.h"
#include "distill/isa.h"
#include "distill/kernels.h"
#include "distill/softmax_row.h"

/* The plain loops, with MPNet's position bias [NH,T,T] added to the
 * scaled scores when bias is not NULL. */
static void attn_forward_ref(float *out, float *scores, float *probs,
                             const float *qkv, const int32_t *mask,
                             const float *bias, size_t B, size_t T, size_t C,
                             size_t NH)
{
    size_t hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    /* (b, h) pairs write disjoint outputs, each in a fixed order, so the
     * threads change nothing in the result */
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++) {
        const int32_t *mk = mask ? mask + b * T : NULL;
        /* k of one head transposed to [hs,T]: the score loop then runs
         * over contiguous j and vectorizes, while every score still sums
         * its products in the order d = 0, 1, ... (same bits as a dot) */
        float *kt = malloc(hs * T * sizeof *kt);
        for (size_t h = 0; h < NH; h++) {
            for (size_t j = 0; kt && j < T; j++) {
                const float *k = qkv + (b * T + j) * C3 + C + h * hs;
                for (size_t d = 0; d < hs; d++)
                    kt[d * T + j] = k[d];
            }
            for (size_t i = 0; i < T; i++) {
                const float *q = qkv + (b * T + i) * C3 + h * hs;
                float *sc = scores + ((b * NH + h) * T + i) * T;
                float *pr = probs + ((b * NH + h) * T + i) * T;
                float maxv = -INFINITY;
                if (kt) {
                    for (size_t j = 0; j < T; j++)
                        sc[j] = 0.0f;
                    for (size_t d = 0; d < hs; d++) {
                        float qd = q[d];
                        const float *kd = kt + d * T;
                        for (size_t j = 0; j < T; j++)
                            sc[j] += qd * kd[j];
                    }
                } else { /* out of memory for the copy: the plain dots */
                    for (size_t j = 0; j < T; j++) {
                        const float *k = qkv + (b * T + j) * C3 + C + h * hs;
                        float s = 0.0f;
                        for (size_t d = 0; d < hs; d++)
                            s += q[d] * k[d];
                        sc[j] = s;
                    }
                }
                const float *bi = bias ? bias + (h * T + i) * T : NULL;
                for (size_t j = 0; j < T; j++) {
                    sc[j] *= scale;
                    if (bi)
                        sc[j] += bi[j];
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
        free(kt);
    }
}

void train_attention_forward_ref(float *out, float *scores, float *probs,
                                 const float *qkv, const int32_t *mask,
                                 size_t B, size_t T, size_t C, size_t NH)
{
    attn_forward_ref(out, scores, probs, qkv, mask, NULL, B, T, C, NH);
}

void train_attention_backward_ref(float *dqkv, float *dscores, const float *dout,
                              const float *qkv, const float *probs,
                              const int32_t *mask, size_t B, size_t T,
                              size_t C, size_t NH)
{
    size_t hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    /* per (b, h) the gradients land in that head's slices only */
#pragma omp parallel for collapse(2) schedule(static)
    for (size_t b = 0; b < B; b++) {
        for (size_t h = 0; h < NH; h++) {
            /* v of the head transposed to [hs,T], as k in the forward */
            float *vt = malloc(hs * T * sizeof *vt);
            for (size_t j = 0; vt && j < T; j++) {
                const float *v = qkv + (b * T + j) * C3 + 2 * C + h * hs;
                for (size_t d = 0; d < hs; d++)
                    vt[d * T + j] = v[d];
            }
            for (size_t i = 0; i < T; i++) {
                const float *pr = probs + ((b * NH + h) * T + i) * T;
                float *ds = dscores + ((b * NH + h) * T + i) * T;
                const float *g = dout + (b * T + i) * C + h * hs;
                /* out_i = sum_j p_ij v_j: dv_j += p_ij g, dp_ij = g · v_j */
                double pdp = 0.0;
                float dp[T > 0 ? T : 1];
                if (vt) {
                    for (size_t j = 0; j < T; j++)
                        dp[j] = 0.0f;
                    for (size_t d = 0; d < hs; d++) {
                        float gd = g[d];
                        const float *vd = vt + d * T;
                        for (size_t j = 0; j < T; j++)
                            dp[j] += gd * vd[j];
                    }
                } else {
                    for (size_t j = 0; j < T; j++) {
                        const float *v = qkv + (b * T + j) * C3 + 2 * C + h * hs;
                        float s = 0.0f;
                        for (size_t d = 0; d < hs; d++)
                            s += g[d] * v[d];
                        dp[j] = s;
                    }
                }
                for (size_t j = 0; j < T; j++) {
                    float *dv = dqkv + (b * T + j) * C3 + 2 * C + h * hs;
                    for (size_t d = 0; d < hs; d++)
                        dv[d] += pr[j] * g[d];
                    pdp += (double)pr[j] * dp[j];
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
            free(vt);
        }
    }
}

/* ---- the tiled versions ------------------------------------------------ */

/* The per-head bodies are compiled for AVX-512 and AVX2 besides baseline
 * x86-64 and picked per call from cpu_level_get() (distill/isa.h): the
 * inner loops are T-long axpys, which the wider vectors speed up directly.
 * The build has no -march flag and no FMA contraction (-std=c17), so each
 * variant does the same arithmetic apart from how the softmax's double
 * sums group their lanes. */

/* Scratch floats per thread for a head of T tokens x hs (backward's
 * need; forward uses 3 hs T + 2 T T). */
static size_t attn_scratch_floats(size_t T, size_t hs)
{
    return 6 * hs * T + 2 * T * T;
}

/* One (b, h) of the forward; ws holds attn_scratch_floats.
 * Loops are ordered so each inner loop is a T-long axpy whose target rows
 * are independent of the next iteration's (a T x T tile updated row by row
 * per d), rather than one row re-updated hs times in a row, which would
 * chain every step through a store and a reload. Each score still sums
 * its products in d order and each output in j order, as the plain loops
 * do, so the results are the same bits. */
TRAIN_ISA_INLINE void attn_head_forward_body(float *out, float *scores,
                                             float *probs, const float *qkv,
                                             const int32_t *mask, size_t b,
                                             size_t h, size_t T, size_t C,
                                             size_t NH, float *ws)
{
    size_t hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    const int32_t *mk = mask ? mask + b * T : NULL;
    /* kt [hs,T] k transposed; vh [T,hs] v gathered; ot [hs,T] the output
     * transposed; st [T,T] the scores; pt [T,T] the probabilities
     * transposed */
    float *kt = ws, *vh = ws + hs * T, *ot = ws + 2 * hs * T;
    float *st = ws + 3 * hs * T, *pt = st + T * T;
    for (size_t j = 0; j < T; j++) {
        const float *k = qkv + (b * T + j) * C3 + C + h * hs;
        const float *v = k + C;
        for (size_t d = 0; d < hs; d++)
            kt[d * T + j] = k[d];
        memcpy(vh + j * hs, v, hs * sizeof *vh);
    }
    memset(st, 0, T * T * sizeof *st);
    for (size_t d = 0; d < hs; d++) {
        const float *kd = kt + d * T;
        for (size_t i = 0; i < T; i++) {
            float qd = qkv[(b * T + i) * C3 + h * hs + d];
            float *si = st + i * T;
#pragma omp simd
            for (size_t j = 0; j < T; j++)
                si[j] += qd * kd[j];
        }
    }
    for (size_t i = 0; i < T; i++) {
        float *si = st + i * T;
        float *sc = scores + ((b * NH + h) * T + i) * T;
        float *pr = probs + ((b * NH + h) * T + i) * T;
        float maxv = -INFINITY;
        for (size_t j = 0; j < T; j++) {
            si[j] *= scale;
            sc[j] = si[j];
            if ((!mk || mk[j]) && si[j] > maxv)
                maxv = si[j];
        }
        double sum = 0.0;
        for (size_t j = 0; j < T; j++) {
            si[j] = (!mk || mk[j]) ? expf(si[j] - maxv) : 0.0f;
            sum += si[j];
        }
        float inv = sum > 0.0 ? (float)(1.0 / sum) : 0.0f;
        for (size_t j = 0; j < T; j++) {
            float p = si[j] * inv;
            pr[j] = p;
            pt[j * T + i] = p;
        }
    }
    memset(ot, 0, hs * T * sizeof *ot);
    for (size_t j = 0; j < T; j++) {
        if (mk && !mk[j]) /* padded key: its probabilities are all 0 */
            continue;
        const float *v = vh + j * hs, *pj = pt + j * T;
        for (size_t d = 0; d < hs; d++) {
            float vd = v[d];
            float *od = ot + d * T;
#pragma omp simd
            for (size_t i = 0; i < T; i++)
                od[i] += pj[i] * vd;
        }
    }
    for (size_t i = 0; i < T; i++) {
        float *o = out + (b * T + i) * C + h * hs;
        for (size_t d = 0; d < hs; d++)
            o[d] = ot[d * T + i];
    }
}

TRAIN_ISA_VARIANTS(attn_head_forward,
                   (float *out, float *scores, float *probs, const float *qkv,
                    const int32_t *mask, size_t b, size_t h, size_t T,
                    size_t C, size_t NH, float *ws),
                   (out, scores, probs, qkv, mask, b, h, T, C, NH, ws))

/* One (b, h) of the backward; ws holds attn_scratch_floats. */
TRAIN_ISA_INLINE void attn_head_backward_body(float *dqkv, float *dscores,
                                              const float *dout,
                                              const float *qkv,
                                              const float *probs, size_t b,
                                              size_t h, size_t T, size_t C,
                                              size_t NH, float *ws)
{
    size_t hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    /* v^T [hs,T]; k, q gathered [T,hs]; the head's three gradients
     * transposed [hs,T] (dq^T, dk^T, dv^T) so updates run along T */
    float *vt = ws, *kh = ws + hs * T, *qh = ws + 2 * hs * T;
    float *dqt = ws + 3 * hs * T, *dkt = ws + 4 * hs * T;
    float *dvt = ws + 5 * hs * T;
    float *dst = ws + 6 * hs * T;         /* [T,T] dscore^T */
    float *dpt = dst + T * T;             /* [T,T] dp (dout · v^T) */
    for (size_t j = 0; j < T; j++) {
        const float *q = qkv + (b * T + j) * C3 + h * hs;
        const float *k = q + C, *v = q + 2 * C;
        for (size_t d = 0; d < hs; d++)
            vt[d * T + j] = v[d];
        memcpy(kh + j * hs, k, hs * sizeof *kh);
        memcpy(qh + j * hs, q, hs * sizeof *qh);
    }
    memset(dqt, 0, 3 * hs * T * sizeof *dqt); /* dqt, dkt, dvt */
    /* dp_ij = g_i · v_j for the whole tile first, d outermost (the same
     * d order of each sum as a dot, and independent rows per step) */
    memset(dpt, 0, T * T * sizeof *dpt);
    for (size_t d = 0; d < hs; d++) {
        const float *vd = vt + d * T;
        for (size_t i = 0; i < T; i++) {
            float gd = dout[(b * T + i) * C + h * hs + d];
            float *dpi = dpt + i * T;
#pragma omp simd
            for (size_t j = 0; j < T; j++)
                dpi[j] += gd * vd[j];
        }
    }
    for (size_t i = 0; i < T; i++) {
        const float *pr = probs + ((b * NH + h) * T + i) * T;
        float *ds = dscores + ((b * NH + h) * T + i) * T;
        const float *g = dout + (b * T + i) * C + h * hs;
        const float *dp = dpt + i * T;
        /* out_i = sum_j p_ij v_j: dv_j += p_ij g */
        for (size_t d = 0; d < hs; d++) {
            float gd = g[d];
            float *dvd = dvt + d * T;
#pragma omp simd
            for (size_t j = 0; j < T; j++)
                dvd[j] += gd * pr[j];
        }
        /* softmax: dscore_ij = p_ij (dp_ij - sum_k p_ik dp_ik); masked
         * keys have p = 0 and keep only the loss's gradient */
        train_softmax_backward_row(ds, dp, pr, T);
        /* score_ij = scale q_i · k_j: dk_j += scale ds_ij q_i */
        const float *q = qh + i * hs;
        for (size_t d = 0; d < hs; d++) {
            float sq = scale * q[d];
            float *dkd = dkt + d * T;
#pragma omp simd
            for (size_t j = 0; j < T; j++)
                dkd[j] += sq * ds[j];
        }
        for (size_t j = 0; j < T; j++)
            dst[j * T + i] = ds[j];
    }
    /* dq_i = scale sum_j ds_ij k_j, row by row of ds^T */
    for (size_t j = 0; j < T; j++) {
        const float *k = kh + j * hs, *dsj = dst + j * T;
        for (size_t d = 0; d < hs; d++) {
            float sk = scale * k[d];
            float *dqd = dqt + d * T;
#pragma omp simd
            for (size_t i = 0; i < T; i++)
                dqd[i] += sk * dsj[i];
        }
    }
    for (size_t j = 0; j < T; j++) {
        float *dq = dqkv + (b * T + j) * C3 + h * hs;
        float *dk = dq + C, *dv = dq + 2 * C;
        for (size_t d = 0; d < hs; d++) {
            dq[d] += dqt[d * T + j];
            dk[d] += dkt[d * T + j];
            dv[d] += dvt[d * T + j];
        }
    }
}

TRAIN_ISA_VARIANTS(attn_head_backward,
                   (float *dqkv, float *dscores, const float *dout,
                    const float *qkv, const float *probs, size_t b, size_t h,
                    size_t T, size_t C, size_t NH, float *ws),
                   (dqkv, dscores, dout, qkv, probs, b, h, T, C, NH, ws))

void train_attention_forward_isa(train_isa isa, float *out, float *scores,
                                 float *probs, const float *qkv,
                                 const int32_t *mask, size_t B, size_t T,
                                 size_t C, size_t NH)
{
    isa = train_isa_resolve(isa);
    size_t per = attn_scratch_floats(T, C / NH);
    /* all threads' scratch up front: one failure then means no work done */
    size_t nt = (size_t)omp_get_max_threads();
    float *all = malloc(nt * per * sizeof *all);
    if (!all) {
        train_attention_forward_ref(out, scores, probs, qkv, mask, B, T, C,
                                    NH);
        return;
    }
#pragma omp parallel for collapse(2) schedule(static) num_threads((int)nt)
    for (size_t b = 0; b < B; b++)
        for (size_t h = 0; h < NH; h++)
            TRAIN_ISA_CALL(isa, attn_head_forward,
                           (out, scores, probs, qkv, mask, b, h, T, C, NH,
                            all + (size_t)omp_get_thread_num() * per));
    free(all);
}

void train_attention_forward(float *out, float *scores, float *probs,
                             const float *qkv, const int32_t *mask, size_t B,
                             size_t T, size_t C, size_t NH)
{
    train_attention_forward_isa(TRAIN_ISA_AUTO, out, scores, probs, qkv, mask,
                                B, T, C, NH);
}

void train_attention_backward_isa(train_isa isa, float *dqkv, float *dscores,
                                  const float *dout, const float *qkv,
                                  const float *probs, const int32_t *mask,
                                  size_t B, size_t T, size_t C, size_t NH)
{
    isa = train_isa_resolve(isa);
    size_t per = attn_scratch_floats(T, C / NH);
    /* all threads' scratch up front: an allocation failure inside the
     * region would leave some heads added into dqkv and others not */
    size_t nt = (size_t)omp_get_max_threads();
    float *all = malloc(nt * per * sizeof *all);
    if (!all) {
        train_attention_backward_ref(dqkv, dscores, dout, qkv, probs, mask, B,
                                     T, C, NH);
        return;
    }
    /* masked keys have p = 0: the tiled formulas need no mask */
#pragma omp parallel for collapse(2) schedule(static) num_threads((int)nt)
    for (size_t b = 0; b < B; b++)
        for (size_t h = 0; h < NH; h++)
            TRAIN_ISA_CALL(isa, attn_head_backward,
                           (dqkv, dscores, dout, qkv, probs, b, h, T, C, NH,
                            all + (size_t)omp_get_thread_num() * per));
    free(all);
}

void train_attention_backward(float *dqkv, float *dscores, const float *dout,
                              const float *qkv, const float *probs,
                              const int32_t *mask, size_t B, size_t T,
                              size_t C, size_t NH)
{
    train_attention_backward_isa(TRAIN_ISA_AUTO, dqkv, dscores, dout, qkv,
                                 probs, mask, B, T, C, NH);
}

/* ---- the GEMM versions ---------------------------------------------------
 * With a GEMM context the four products of a head run as strided batched
 * matmuls over all (b, h) at once (backend/gemm.h gemm_f32_batched, one
 * oneDNN primitive each), reading q, k, v and writing out and dqkv in place
 * through strides, and only the softmax and its backward remain loops here,
 * one row of T keys at a time. The row arithmetic is the tiled version's
 * (max, expf, a double sum, one multiply by its inverse); the products
 * round as oneDNN rounds, so results agree with the loops to float
 * rounding. */

/* One row of T keys (softmax_row.h), compiled per ISA. */
TRAIN_ISA_INLINE void attn_softmax_row_body(float *pr, const float *sc,
                                            const int32_t *mk, size_t T)
{
    train_softmax_row(pr, sc, mk, T);
}
TRAIN_ISA_VARIANTS(attn_softmax_row,
                   (float *pr, const float *sc, const int32_t *mk, size_t T),
                   (pr, sc, mk, T))

void train_attention_softmax_rows_isa(train_isa isa, float *probs,
                                      const float *scores,
                                      const int32_t *mask, size_t B,
                                      size_t NH, size_t T)
{
    isa = train_isa_resolve(isa);
    size_t rows = B * NH * T;
#pragma omp parallel for schedule(static) if (rows * T > 32768)
    for (size_t r = 0; r < rows; r++)
        TRAIN_ISA_CALL(isa, attn_softmax_row,
                       (probs + r * T, scores + r * T,
                        mask ? mask + (r / (NH * T)) * T : NULL, T));
}

/* The softmax's backward of one row (softmax_row.h), compiled per ISA. */
TRAIN_ISA_INLINE void attn_softmax_backward_row_body(float *ds,
                                                     const float *dpr,
                                                     const float *pr, size_t T)
{
    train_softmax_backward_row(ds, dpr, pr, T);
}
TRAIN_ISA_VARIANTS(attn_softmax_backward_row,
                   (float *ds, const float *dpr, const float *pr, size_t T),
                   (ds, dpr, pr, T))

void train_attention_softmax_backward_rows_isa(train_isa isa, float *dscores,
                                               const float *dp,
                                               const float *probs,
                                               size_t rows, size_t T)
{
    isa = train_isa_resolve(isa);
#pragma omp parallel for schedule(static) if (rows * T > 32768)
    for (size_t r = 0; r < rows; r++)
        TRAIN_ISA_CALL(isa, attn_softmax_backward_row,
                       (dscores + r * T, dp + r * T, probs + r * T, T));
}

/* A (b, h)-batched view of one head's [T, hs] slice of qkv (part 0 = q,
 * 1 = k, 2 = v) as operand strides. */
static void attn_bt_qkv(int64_t *s0, int64_t *s1, size_t T, size_t C,
                        size_t NH)
{
    *s0 = (int64_t)(T * 3 * C);
    *s1 = (int64_t)(C / NH);
}

/* The loops when the GEMMs cannot run: the tiled ones, or with a position
 * bias the plain ones (the only loops that add it). */
static void attn_forward_loops(float *out, float *scores, float *probs,
                               const float *qkv, const int32_t *mask,
                               const float *bias, size_t B, size_t T,
                               size_t C, size_t NH)
{
    if (bias)
        attn_forward_ref(out, scores, probs, qkv, mask, bias, B, T, C, NH);
    else
        train_attention_forward(out, scores, probs, qkv, mask, B, T, C, NH);
}

static void attn_forward_gemm(struct gemm_ctx *g, float *out, float *scores,
                              float *probs, const float *qkv,
                              const int32_t *mask, const float *bias,
                              size_t B, size_t T, size_t C, size_t NH)
{
    if (!g) {
        attn_forward_loops(out, scores, probs, qkv, mask, bias, B, T, C, NH);
        return;
    }
    size_t hs = C / NH;
    int64_t C3 = (int64_t)(3 * C), tt = (int64_t)(T * T), t = (int64_t)T;
    float scale = 1.0f / sqrtf((float)hs);
    ir_diag d;
    ir_diag_init(&d);
    gemm_batch bt = {.n0 = (int64_t)B, .n1 = (int64_t)NH};
    /* scores[b,h] = scale q kᵀ: q [T,hs] and k [T,hs] in place */
    attn_bt_qkv(&bt.a0, &bt.a1, T, C, NH);
    attn_bt_qkv(&bt.b0, &bt.b1, T, C, NH);
    bt.c0 = (int64_t)NH * tt;
    bt.c1 = tt;
    ir_status s = gemm_f32_batched(g, &bt, 0, 1, t, t, (int64_t)hs, scale, qkv,
                                   C3, qkv + C, C3, 0.0f, scores, t, &d);
    if (s == IR_OK && bias) {
        size_t nt = NH * T * T;
#pragma omp parallel for schedule(static) if (B * nt > 32768)
        for (size_t b = 0; b < B; b++)
            for (size_t k = 0; k < nt; k++)
                scores[b * nt + k] += bias[k];
    }
    if (s == IR_OK) {
        train_attention_softmax_rows_isa(TRAIN_ISA_AUTO, probs, scores, mask,
                                         B, NH, T);
        /* out[b,:,h] = probs[b,h] v, written in place at stride C */
        gemm_batch bo = {.n0 = (int64_t)B, .n1 = (int64_t)NH,
                         .a0 = (int64_t)NH * tt, .a1 = tt};
        attn_bt_qkv(&bo.b0, &bo.b1, T, C, NH);
        bo.c0 = (int64_t)(T * C);
        bo.c1 = (int64_t)hs;
        s = gemm_f32_batched(g, &bo, 0, 0, t, (int64_t)hs, t, 1.0f, probs, t,
                             qkv + 2 * C, C3, 0.0f, out, (int64_t)C, &d);
    }
    if (s != IR_OK) /* the kernels have no error channel: the loops can */
        attn_forward_loops(out, scores, probs, qkv, mask, bias, B, T, C, NH);
}

void train_attention_forward_gemm(struct gemm_ctx *g, float *out,
                                  float *scores, float *probs,
                                  const float *qkv, const int32_t *mask,
                                  size_t B, size_t T, size_t C, size_t NH)
{
    attn_forward_gemm(g, out, scores, probs, qkv, mask, NULL, B, T, C, NH);
}

void train_attention_backward_gemm(struct gemm_ctx *g, float *dqkv,
                                   float *dscores, float *dprobs,
                                  const float *dout, const float *qkv,
                                  const float *probs, const int32_t *mask,
                                  size_t B, size_t T, size_t C, size_t NH)
{
    if (!g || !dprobs) {
        train_attention_backward(dqkv, dscores, dout, qkv, probs, mask, B, T,
                                 C, NH);
        return;
    }
    size_t hs = C / NH;
    int64_t C3 = (int64_t)(3 * C), tt = (int64_t)(T * T), t = (int64_t)T;
    int64_t h64 = (int64_t)hs;
    float scale = 1.0f / sqrtf((float)hs);
    ir_diag d;
    ir_diag_init(&d);
    int64_t q0, q1;
    attn_bt_qkv(&q0, &q1, T, C, NH);
    /* the head's slice of dout [T,hs] at stride C */
    int64_t o0 = (int64_t)(T * C), o1 = h64;
    int64_t p0 = (int64_t)NH * tt, p1 = tt;
    /* dp = dout vᵀ, into the scratch (nothing has been added yet, so a
     * failure here can still fall back to the loops) */
    gemm_batch b1 = {(int64_t)B, (int64_t)NH, o0, o1, q0, q1, p0, p1};
    ir_status s = gemm_f32_batched(g, &b1, 0, 1, t, t, h64, 1.0f, dout,
                                   (int64_t)C, qkv + 2 * C, C3, 0.0f, dprobs,
                                   t, &d);
    if (s != IR_OK) {
        train_attention_backward(dqkv, dscores, dout, qkv, probs, mask, B, T,
                                 C, NH);
        return;
    }
    /* from here on gemm_f32_batched computes every product (its per-batch
     * fallback included), so no partial state is left behind */
    /* dv += pᵀ dout */
    gemm_batch b2 = {(int64_t)B, (int64_t)NH, p0, p1, o0, o1, q0, q1};
    gemm_f32_batched(g, &b2, 1, 0, t, h64, t, 1.0f, probs, t, dout, (int64_t)C,
                     1.0f, dqkv + 2 * C, C3, &d);
    train_attention_softmax_backward_rows_isa(TRAIN_ISA_AUTO, dscores, dprobs,
                                              probs, B * NH * T, T);
    (void)mask;
    /* score = scale q kᵀ: dq += scale ds k, dk += scale dsᵀ q */
    gemm_batch b3 = {(int64_t)B, (int64_t)NH, p0, p1, q0, q1, q0, q1};
    gemm_f32_batched(g, &b3, 0, 0, t, h64, t, scale, dscores, t, qkv + C, C3,
                     1.0f, dqkv, C3, &d);
    gemm_f32_batched(g, &b3, 1, 0, t, h64, t, scale, dscores, t, qkv, C3, 1.0f,
                     dqkv + C, C3, &d);
}

/* ---- the dispatch ---------------------------------------------------------
 * The fused per-(b, h) kernels (attention_fused.c) run the trainer's shapes
 * faster than the batched GEMMs with their AVX-512 or AVX2 micro-kernels
 * (their portable C is slower than oneDNN's, so it is not used here);
 * what they decline (neither, T > 512, head size > 128) takes the GEMM
 * versions above. */

void train_attention_forward_ctx(struct gemm_ctx *g, float *out,
                                 float *scores, float *probs,
                                 const float *qkv, const int32_t *mask,
                                 size_t B, size_t T, size_t C, size_t NH)
{
    train_isa isa = train_isa_resolve(TRAIN_ISA_AUTO);
    if (g && isa != TRAIN_ISA_PORTABLE &&
        train_attention_fused_forward(isa, out, scores, probs, qkv, mask, B,
                                      T, C, NH))
        return;
    train_attention_forward_gemm(g, out, scores, probs, qkv, mask, B, T, C, NH);
}

void train_attention_forward_bias_ctx(struct gemm_ctx *g, float *out,
                                      float *scores, float *probs,
                                      const float *qkv, const int32_t *mask,
                                      const float *bias, size_t B, size_t T,
                                      size_t C, size_t NH)
{
    if (!bias)
        train_attention_forward_ctx(g, out, scores, probs, qkv, mask, B, T, C,
                                    NH);
    else
        attn_forward_gemm(g, out, scores, probs, qkv, mask, bias, B, T, C, NH);
}

void train_attention_backward_ctx(struct gemm_ctx *g, float *dqkv,
                                  float *dscores, float *dprobs,
                                  const float *dout, const float *qkv,
                                  const float *probs, const int32_t *mask,
                                  size_t B, size_t T, size_t C, size_t NH)
{
    /* the fused kernels need no dprobs scratch */
    train_isa isa = train_isa_resolve(TRAIN_ISA_AUTO);
    if (g && dprobs && isa != TRAIN_ISA_PORTABLE &&
        train_attention_fused_backward(isa, dqkv, dscores, dout, qkv, probs,
                                       mask, B, T, C, NH))
        return;
    train_attention_backward_gemm(g, dqkv, dscores, dprobs, dout, qkv, probs,
                                  mask, B, T, C, NH);
}

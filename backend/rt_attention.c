/* rt_attention.c — multi-head self-attention as two batched matmuls. The
 * packed projection qkv [B,S,3H] (q | k | v, head a at columns
 * a·D..a·D+D-1 of each part) is first copied head-major into plan.heads
 * (Q, V as [B,A,S,D], K transposed as [B,A,D,S]): oneDNN 2.6 runs batched
 * products on strided views of qkv with its gemm:jit kernels, on dense
 * operands with brgemm, about 1.5x faster for BERT-base (0.73 -> 0.49 ms a
 * layer); the one copy costs far less. Then:
 *   att[B,A,S,S] = (1/sqrt(D)) · Q·Kᵀ + madd[B,1,1,S]   (mask fused)
 *   att = softmax(att) over the last axis, in place
 *   ctx[B,S,A,D] = att · V          (written straight into [B,S,H])
 * The additive mask is 0 at real tokens and m->mask_fill (finfo(f32).min,
 * as transformers 4.x) at padding; see rt.c. MPNet's relative position
 * bias pbias[A,S,S] (ir/relpos.h) goes in the same fused addend: the
 * matmul adds sadd[B,A,S,S] = pbias + madd, made once per forward by
 * rt_attention_bias, or pbias alone (broadcast over B) without a mask. */
#include <math.h>
#include <string.h>

#include "backend/dnnl_softmax.h"
#include "backend/rt_internal.h"
#include "ir/relpos.h"

/* f32 -> bf16, round to nearest even, NaN kept quiet. */
static inline uint16_t att_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : r);
}

/* q and v as [B,A,S,D], k as [B,A,D,S], from the packed qkv [B,S,3H]; heads
 * split across threads. K is transposed in tiles of RT_TILE tokens so that
 * each of its D output rows is written RT_TILE values at a time rather than
 * one per cache line. With bf16 set, Q and K are stored as bf16 (in the
 * first half of their f32 slots) for a bf16 Q·Kᵀ; V stays f32. Only the
 * first q_rows queries of each sequence are copied (S, or 1 for [CLS]). */
enum { RT_TILE = 16 };

static void heads_split(const float *qkv, float *heads, int64_t B, int64_t S,
                        int64_t H, int64_t A, int bf16, int64_t q_rows)
{
    const int64_t D = H / A, T = B * S;
#pragma omp parallel for schedule(static) if (T * H >= 32768)
    for (int64_t ba = 0; ba < B * A; ba++) {
        int64_t b = ba / A, a = ba % A;
        const float *src = qkv + b * S * 3 * H + a * D;
        float *qh = heads + ba * S * D, *vh = heads + 2 * T * H + ba * S * D;
        float *kt = heads + T * H + ba * D * S;
        uint16_t *qb = (uint16_t *)heads + ba * S * D;
        uint16_t *kb = (uint16_t *)(heads + T * H) + ba * D * S;
        for (int64_t s0 = 0; s0 < S; s0 += RT_TILE) {
            int64_t n = S - s0 < RT_TILE ? S - s0 : RT_TILE;
            for (int64_t s = s0; s < s0 + n; s++) {
                const float *row = src + s * 3 * H;
                if (s < q_rows && bf16)
                    for (int64_t j = 0; j < D; j++)
                        qb[s * D + j] = att_bf16(row[j]);
                else if (s < q_rows)
                    memcpy(qh + s * D, row, (size_t)D * sizeof(float));
                memcpy(vh + s * D, row + 2 * H, (size_t)D * sizeof(float));
            }
            for (int64_t j = 0; j < D; j++)
                for (int64_t s = s0; s < s0 + n; s++) {
                    float v = src[s * 3 * H + H + j];
                    if (bf16)
                        kb[j * S + s] = att_bf16(v);
                    else
                        kt[j * S + s] = v;
                }
        }
    }
}

void rt_attention_bias(rt_model *m, int64_t batch, int64_t seq, int has_mask)
{
    const rt_config *c = &m->c;
    const int64_t A = c->heads, S = seq, SS = seq * seq;
    rt_plan *p = &m->plan;
    ir_relpos_bias(p->pbias, m->rel_bias, A, S, c->rel_buckets,
                   c->rel_max_distance, c->rel_bidirectional != 0);
    if (!has_mask)
        return;
#pragma omp parallel for schedule(static) if (batch * A * SS >= 65536)
    for (int64_t ba = 0; ba < batch * A; ba++) {
        const float *pb = p->pbias + (ba % A) * SS, *ma = p->madd + (ba / A) * S;
        float *out = p->sadd + ba * SS;
        for (int64_t i = 0; i < S; i++)
            for (int64_t j = 0; j < S; j++)
                out[i * S + j] = pb[i * S + j] + ma[j];
    }
}

/* The scores' fused addend for queries q0.. of q_rows per sequence: the
 * bias (+ mask) or the mask alone; 0 when there is none. */
static int scores_addend(const rt_model *m, int64_t B, int64_t S,
                         int64_t q_rows, int with_mask, onednn_view *r,
                         const float **data)
{
    const int64_t A = m->c.heads;
    const rt_plan *p = &m->plan;
    if (m->c.rel_buckets > 0) {
        *r = (onednn_view){4, {with_mask ? B : 1, A, q_rows, S},
                           {A * S * S, S * S, S, 1}};
        *data = with_mask ? p->sadd : p->pbias;
        return 1;
    }
    if (!with_mask)
        return 0;
    *r = onednn_view_dense(4, (int64_t[]){B, 1, 1, S});
    *data = p->madd;
    return 1;
}

ir_status rt_attention_forward(rt_model *m, int64_t batch, int64_t seq,
                               int has_mask, float *scores_tap, ir_diag *d)
{
    const int64_t B = batch, S = seq, H = m->c.hidden, A = m->c.heads, D = H / A;
    rt_plan *p = &m->plan;
    /* Dense head-major copies (see the top of the file). At bf16 and int8
     * precision the scores are a bf16 product (f32 accumulation): about
     * twice the rate, and an error well inside what those modes already
     * make in the projections. fp32 stays exact. */
    int bf16 = m->o.precision != IR_PRECISION_FP32 && onednn_has_bf16(m->ctx);
    heads_split(p->big, p->heads, B, S, H, A, bf16, S);
    const float *qh = p->heads, *kh = qh + B * S * H, *vh = kh + B * S * H;
    /* Q·Kᵀ: the mask (and the position bias) go in as a fused residual
     * unless the pre-mask scores are wanted, then the mask is added after
     * the copy. */
    int fuse_mask = has_mask && !scores_tap;
    onednn_matmul_desc qk = {
        .dt = bf16 ? ONEDNN_BF16 : ONEDNN_F32, .alpha = 1.0f / sqrtf((float)D),
        .a = onednn_view_dense(4, (int64_t[]){B, A, S, D}),
        .b = onednn_view_dense(4, (int64_t[]){B, A, D, S}),
        .c = onednn_view_dense(4, (int64_t[]){B, A, S, S}),
    };
    const float *addend = NULL;
    qk.has_r = scores_addend(m, B, S, S, fuse_mask, &qk.r, &addend);
    onednn_matmul_args qa = {qh, kh, NULL, p->att, addend};
    ir_status s = onednn_matmul_run(m->ctx, &qk, &qa, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "rt: attention scores");
    if (scores_tap) {
        memcpy(scores_tap, p->att, (size_t)(B * A * S * S) * sizeof(float));
        if (has_mask)
            for (int64_t b = 0; b < B; b++)
                for (int64_t r = 0; r < A * S; r++) {
                    float *row = p->att + (b * A * S + r) * S;
                    const float *ma = p->madd + b * S;
                    for (int64_t j = 0; j < S; j++)
                        row[j] += ma[j];
                }
    }
    s = onednn_softmax_run(m->ctx, B * A * S, S, p->att, p->att, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "rt: attention softmax");
    /* A strided destination keeps brgemm (only strided sources lose it), so
     * the context goes straight into ctx [B,S,H]. */
    onednn_matmul_desc pv = {
        .dt = ONEDNN_F32,
        .a = onednn_view_dense(4, (int64_t[]){B, A, S, S}),
        .b = onednn_view_dense(4, (int64_t[]){B, A, S, D}),
        .c = {4, {B, A, S, D}, {S * H, D, H, 1}},
    };
    onednn_matmul_args va = {p->att, vh, NULL, p->ctx, NULL};
    s = onednn_matmul_run(m->ctx, &pv, &va, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "rt: attention context");
    return IR_OK;
}

/* The same for one query per sequence, the first ([CLS]): what the last
 * layer of a classifier needs, since the pooler reads only that row. Keys
 * and values still cover every token; the scores are [B,A,1,S] and the
 * context lands in out [B,H]. No score tap: a tapped layer runs whole. */
ir_status rt_attention_forward_cls(rt_model *m, int64_t batch, int64_t seq,
                                   int has_mask, float *out, ir_diag *d)
{
    const int64_t B = batch, S = seq, H = m->c.hidden, A = m->c.heads, D = H / A;
    rt_plan *p = &m->plan;
    int bf16 = m->o.precision != IR_PRECISION_FP32 && onednn_has_bf16(m->ctx);
    heads_split(p->big, p->heads, B, S, H, A, bf16, 1);
    const float *qh = p->heads, *kh = qh + B * S * H, *vh = kh + B * S * H;
    onednn_matmul_desc qk = {
        .dt = bf16 ? ONEDNN_BF16 : ONEDNN_F32, .alpha = 1.0f / sqrtf((float)D),
        .a = {4, {B, A, 1, D}, {A * S * D, S * D, D, 1}},
        .b = onednn_view_dense(4, (int64_t[]){B, A, D, S}),
        .c = onednn_view_dense(4, (int64_t[]){B, A, 1, S}),
    };
    const float *addend = NULL; /* the first query's row of the bias */
    qk.has_r = scores_addend(m, B, S, 1, has_mask, &qk.r, &addend);
    onednn_matmul_args qa = {qh, kh, NULL, p->att, addend};
    ir_status s = onednn_matmul_run(m->ctx, &qk, &qa, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "rt: [CLS] attention scores");
    s = onednn_softmax_run(m->ctx, B * A, S, p->att, p->att, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "rt: [CLS] attention softmax");
    onednn_matmul_desc pv = {
        .dt = ONEDNN_F32,
        .a = onednn_view_dense(4, (int64_t[]){B, A, 1, S}),
        .b = onednn_view_dense(4, (int64_t[]){B, A, S, D}),
        .c = {4, {B, A, 1, D}, {H, D, D, 1}},
    };
    onednn_matmul_args va = {p->att, vh, NULL, out, NULL};
    s = onednn_matmul_run(m->ctx, &pv, &va, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "rt: [CLS] attention context");
    return IR_OK;
}

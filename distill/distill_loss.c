/* distill_loss.c — TinyBERT's distillation terms as a train_loss_fn: runs
 * the student and the teacher on the batch, sums the stage's terms from
 * distill/losses.h and adds their gradients into the student's activation
 * gradients and the projections' extra block. Rules in distill_loss.h.
 * The hidden-state and attention terms, which stream whole [B,T,C] and
 * [B,NH,T,T] blocks every step, run here as one threaded pass each (loss
 * and gradient together) with losses.h's per-element arithmetic; tests/
 * test_train_fast_kernels.c holds them to losses.h's gradient bits. Both
 * are compiled per instruction set (distill/isa.h) and run the one
 * cpu_level_get() allows: the elements' arithmetic is the same on each,
 * only the lanes of the double loss sums differ. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "distill/distill_loss.h"
#include "distill/isa.h"
#include "distill/kernels.h"
#include "distill/losses.h"
#include "ir/clock.h"

struct distill_loss {
    ir_encoder_config sc, tc;
    teacher *t;
    distill_loss_opts o;
    train_extra extra;       /* W_e [CS,CT] then W_h [CS,CT], or n = 0 */
    float *extra_mem;        /* the four blocks */
    float *hw, *dhw;         /* [cap,CT] hs · W and its gradient */
    struct gemm_ctx *gemm;   /* the student's GEMM helper (NULL: reference) */
    distill_loss_times times;
    float *probs;            /* [2,capb,NL] student / teacher softmaxes */
    size_t cap, capb;
    train_isa isa;           /* the terms' kernels: AUTO (calloc's 0) unless
                                a test names one */
};

const char *distill_stage_name(distill_stage s)
{
    switch (s) {
    case DISTILL_STAGE_INTERMEDIATE: return "intermediate";
    case DISTILL_STAGE_PREDICTION: return "prediction";
    case DISTILL_STAGE_ALL: return "all";
    default: return "?";
    }
}

void distill_loss_opts_default(distill_loss_opts *o, int64_t student_layers,
                               int64_t teacher_layers)
{
    memset(o, 0, sizeof *o);
    o->stage = DISTILL_STAGE_ALL;
    o->temperature = 1.0f;
    o->w_emb = o->w_hidden = o->w_attn = o->w_pred = 1.0f;
    for (int64_t m = 1; m <= student_layers && m <= IR_ENCODER_MAX_LAYERS; m++) {
        int64_t g = teacher_layers ? m * teacher_layers / student_layers : 0;
        o->layer_map[m - 1] = g < 1 ? 1 : g;
    }
}

ir_status distill_loss_new(const ir_encoder_config *student, teacher *t,
                           const distill_loss_opts *o, distill_loss **out,
                           ir_diag *d)
{
    *out = NULL;
    const ir_encoder_config *tc = teacher_config(t);
    if (tc->heads % student->heads != 0)
        return ir_diag_set(d, IR_ERR_INPUT, "attention loss: the teacher's "
                           "%lld heads are not a multiple of the student's "
                           "%lld (choose heads dividing %lld)",
                           (long long)tc->heads, (long long)student->heads,
                           (long long)tc->heads);
    if (tc->labels != student->labels || tc->head != student->head)
        return ir_diag_set(d, IR_ERR_INPUT, "prediction loss: student head "
                           "(%lld labels) differs from the teacher's (%lld)",
                           (long long)student->labels, (long long)tc->labels);
    if (!(o->temperature > 0.0f))
        return ir_diag_set(d, IR_ERR_INPUT, "temperature %g must be > 0",
                           (double)o->temperature);
    for (int64_t m = 0; m < student->layers; m++)
        if (o->layer_map[m] < 1 || o->layer_map[m] > tc->layers)
            return ir_diag_set(d, IR_ERR_INPUT, "layer map: student layer %lld "
                               "-> teacher layer %lld, outside 1..%lld",
                               (long long)m + 1, (long long)o->layer_map[m],
                               (long long)tc->layers);
    distill_loss *L = calloc(1, sizeof *L);
    if (!L)
        return ir_diag_set(d, IR_ERR_NOMEM, "distillation loss: out of memory");
    L->sc = *student;
    L->tc = *tc;
    L->t = t;
    L->o = *o;
    if (student->hidden != tc->hidden) {
        size_t n = 2 * (size_t)student->hidden * (size_t)tc->hidden;
        L->extra_mem = calloc(4 * n, sizeof(float));
        if (!L->extra_mem) {
            free(L);
            return ir_diag_set(d, IR_ERR_NOMEM, "distillation loss: out of "
                               "memory for the projections");
        }
        L->extra = (train_extra){L->extra_mem, L->extra_mem + n,
                                 L->extra_mem + 2 * n, L->extra_mem + 3 * n, n};
        distill_loss_init_proj(L, NULL, 0);
    }
    *out = L;
    return IR_OK;
}

void distill_loss_free(distill_loss *L)
{
    if (!L)
        return;
    free(L->extra_mem);
    free(L->hw);
    free(L->dhw);
    free(L->probs);
    free(L);
}

void distill_loss_set_stage(distill_loss *L, distill_stage s) { L->o.stage = s; }
train_extra *distill_loss_extra(distill_loss *L) { return &L->extra; }

void distill_loss_init_proj(distill_loss *L, const int64_t *keep,
                            uint64_t seed)
{
    size_t CS = (size_t)L->sc.hidden, CT = (size_t)L->tc.hidden;
    size_t n = L->extra.n;
    if (n == 0)
        return;
    float std = 1.0f / sqrtf((float)CS);
    for (size_t i = 0; i < n; i++)
        L->extra.params[i] = keep ? 0.0f : std * train_rng_normal(seed, i);
    if (keep)
        for (size_t w = 0; w < 2; w++)
            for (size_t i = 0; i < CS; i++)
                L->extra.params[w * CS * CT + i * CT + (size_t)keep[i]] = 1.0f;
    memset(L->extra.m, 0, n * sizeof(float));
    memset(L->extra.v, 0, n * sizeof(float));
}

static ir_status scratch(distill_loss *L, size_t BT, size_t B, ir_diag *d)
{
    size_t CT = (size_t)L->tc.hidden, NL = (size_t)L->sc.labels;
    if (BT > L->cap) {
        free(L->hw);
        free(L->dhw);
        L->hw = malloc(BT * CT * sizeof(float));
        L->dhw = malloc(BT * CT * sizeof(float));
        L->cap = (L->hw && L->dhw) ? BT : 0;
    }
    if (B > L->capb) {
        free(L->probs);
        L->probs = malloc(2 * B * NL * sizeof(float));
        L->capb = L->probs ? B : 0;
    }
    if (L->cap < BT || L->capb < B)
        return ir_diag_set(d, IR_ERR_NOMEM, "distillation loss: out of memory");
    return IR_OK;
}

/* Row blocks of hidden_mse's loss sum: a fixed split, so the sum does not
 * depend on the thread count. */
enum { HIDDEN_MSE_BLOCKS = 64 };

/* The MSE of x [BT,CT] against ht over the valid rows, summed (the loss
 * train_hidden_mse_forward divides by n CT), and when dx is given the
 * gradient train_hidden_mse_backward forms with scale s: into dx when set
 * (as 0 + g, the bits the zeroed scratch plus its dproj gave), else added.
 * One threaded pass, where losses.h copies x, fills dproj and adds it in
 * three; each element takes losses.c's expressions (the error in double
 * for the loss, in float for the gradient), so the gradient has its bits
 * and the loss its value to double rounding. */
/* Rows i0..i1 of hidden_mse: their squared errors' sum into *out. */
TRAIN_ISA_INLINE void hidden_mse_rows_body(double *out, float *dx, int set,
                                           const float *x, const float *ht,
                                           const int32_t *mask, size_t i0,
                                           size_t i1, size_t CT, float s)
{
    double acc = 0.0;
    for (size_t i = i0; i < i1; i++) {
        const float *xi = x + i * CT, *ti = ht + i * CT;
        float *di = dx ? dx + i * CT : NULL;
        int valid = !mask || mask[i];
        if (valid) {
#pragma omp simd reduction(+ : acc)
            for (size_t c = 0; c < CT; c++) {
                double e = (double)xi[c] - ti[c];
                acc += e * e;
            }
        }
        /* padded rows: a zero gradient, added as losses.c adds it */
        float sv = valid ? s : 0.0f;
        if (di && set) {
#pragma omp simd
            for (size_t c = 0; c < CT; c++)
                di[c] = 0.0f + (valid ? sv * (xi[c] - ti[c]) : 0.0f);
        } else if (di) {
#pragma omp simd
            for (size_t c = 0; c < CT; c++)
                di[c] += valid ? sv * (xi[c] - ti[c]) : 0.0f;
        }
    }
    *out = acc;
}
TRAIN_ISA_VARIANTS(hidden_mse_rows,
                   (double *out, float *dx, int set, const float *x,
                    const float *ht, const int32_t *mask, size_t i0,
                    size_t i1, size_t CT, float s),
                   (out, dx, set, x, ht, mask, i0, i1, CT, s))

static double hidden_mse(train_isa isa, float *dx, int set, const float *x,
                         const float *ht, const int32_t *mask, size_t BT,
                         size_t CT, float s)
{
    isa = train_isa_resolve(isa);
    double part[HIDDEN_MSE_BLOCKS];
    size_t per = (BT + HIDDEN_MSE_BLOCKS - 1) / HIDDEN_MSE_BLOCKS;
#pragma omp parallel for schedule(static) if (BT * CT > 32768)
    for (size_t k = 0; k < HIDDEN_MSE_BLOCKS; k++) {
        size_t i0 = k * per < BT ? k * per : BT;
        size_t i1 = (k + 1) * per < BT ? (k + 1) * per : BT;
        TRAIN_ISA_CALL(isa, hidden_mse_rows,
                       (&part[k], dx, set, x, ht, mask, i0, i1, CT, s));
    }
    double total = 0.0;
    for (size_t k = 0; k < HIDDEN_MSE_BLOCKS; k++)
        total += part[k];
    return total;
}

/* One MSE(hs W, ht) term (W NULL when the widths agree), its gradient into
 * dhs and dw when dhs is given. The product hs · W and its two backward
 * products run here on the student's GEMM helper (losses.h would run them
 * on the reference loop); the MSE on hw (or hs) is hidden_mse, the fused
 * form of losses.h's train_hidden_mse_forward / _backward. */
static ir_status hidden_term(distill_loss *L, double *loss, const float *hs,
                             const float *ht, const float *w, float *dw,
                             float *dhs, const int32_t *mask, size_t B,
                             size_t T, float weight, ir_diag *d)
{
    size_t CS = (size_t)L->sc.hidden, CT = (size_t)L->tc.hidden, BT = B * T;
    if (!w && CS != CT) /* losses.h names the mismatch */
        return train_hidden_mse_forward(loss, NULL, hs, ht, NULL, mask, B, T,
                                        CS, CT, d);
    const float *x = hs;
    if (w) {
        train_matmul_ctx(L->gemm, 0, 0, BT, CT, CS, 1.0f, hs, CS, w, CT, 0.0f,
                         L->hw, CT);
        x = L->hw;
    }
    size_t n = 0;
    for (size_t i = 0; i < BT; i++)
        n += !mask || mask[i] != 0;
    /* losses.c's scale, in float as there */
    float s = n ? 2.0f * weight / ((float)n * (float)CT) : 0.0f;
    float *dx = dhs && n ? (w ? L->dhw : dhs) : NULL;
    double total = hidden_mse(L->isa, dx, w != NULL, x, ht, mask, BT, CT, s);
    *loss = n ? total / ((double)n * (double)CT) : 0.0;
    if (!dhs || !w)
        return IR_OK;
    if (!n) /* no valid token: a zero gradient through the products */
        memset(L->dhw, 0, BT * CT * sizeof(float));
    /* dhs += dhw · Wᵀ;  dW += hsᵀ · dhw */
    train_matmul_ctx(L->gemm, 0, 1, BT, CS, CT, 1.0f, L->dhw, CT, w, CT, 1.0f,
                     dhs, CS);
    train_matmul_ctx(L->gemm, 1, 0, CS, CT, BT, 1.0f, hs, CS, L->dhw, CT, 1.0f,
                     dw, CT);
    return IR_OK;
}

/* Student score j of row si minus the mean of the teacher's r heads there
 * (losses.c's double expression). */
TRAIN_ISA_INLINE double attn_err(const float *si, const float *ti, size_t TT,
                              size_t j, size_t r, double rr)
{
    double t = 0.0;
    for (size_t g = 0; g < r; g++)
        t += ti[g * TT + j];
    return si[j] - t / rr;
}

/* One (b, h) of attn_term: the squared errors of the student head's
 * [T,T] scores ss against the mean of the teacher's r heads ts (r blocks
 * of [T,T], one after another), summed over valid (query, key) pairs, and
 * dss += s * error when dss is given. Rows whose keys are all valid (no
 * padding in the entry) take branch-free loops that vectorize, over
 * blocks of ATTN_TERM_BLOCK keys. */
enum { ATTN_TERM_BLOCK = 64 };

TRAIN_ISA_INLINE void attn_term_head_body(double *out, float *dss,
                                          const float *ss, const float *ts,
                                          const int32_t *mk, int all_valid,
                                          size_t T, size_t r, double s)
{
    size_t TT = T * T;
    double total = 0.0, rr = (double)r;
    for (size_t i = 0; i < T; i++) {
        if (mk && !mk[i])
            continue;
        const float *si = ss + i * T, *ti = ts + i * T;
        float *di = dss ? dss + i * T : NULL;
        if (!all_valid) {
            for (size_t j = 0; j < T; j++) {
                if (!mk[j])
                    continue;
                double e = attn_err(si, ti, TT, j, r, rr);
                total += e * e;
                if (di)
                    di[j] += (float)(s * e);
            }
            continue;
        }
        /* all keys valid: blocks of keys, the teacher's r heads summed
         * head by head into t (per key the order of attn_err: the same
         * bits), so that every loop runs along the keys and vectorizes
         * (attn_err's inner loop over the heads kept them scalar) */
        for (size_t j0 = 0; j0 < T; j0 += ATTN_TERM_BLOCK) {
            size_t nj = T - j0 < ATTN_TERM_BLOCK ? T - j0 : ATTN_TERM_BLOCK;
            const float *sj = si + j0;
            double t[ATTN_TERM_BLOCK];
            for (size_t j = 0; j < nj; j++)
                t[j] = 0.0;
            for (size_t g = 0; g < r; g++) {
                const float *tg = ti + g * TT + j0;
#pragma omp simd
                for (size_t j = 0; j < nj; j++)
                    t[j] += tg[j];
            }
            if (di) {
                float *dj = di + j0;
#pragma omp simd reduction(+ : total)
                for (size_t j = 0; j < nj; j++) {
                    double e = sj[j] - t[j] / rr;
                    total += e * e;
                    dj[j] += (float)(s * e);
                }
            } else {
#pragma omp simd reduction(+ : total)
                for (size_t j = 0; j < nj; j++) {
                    double e = sj[j] - t[j] / rr;
                    total += e * e;
                }
            }
        }
    }
    *out = total;
}
TRAIN_ISA_VARIANTS(attn_term_head,
                   (double *out, float *dss, const float *ss, const float *ts,
                    const int32_t *mk, int all_valid, size_t T, size_t r,
                    double s),
                   (out, dss, ss, ts, mk, all_valid, T, r, s))

/* TinyBERT's attention term (eq. 3 of the TinyBERT paper) of one student
 * layer: the loss train_attn_mse_forward gives and, when dss is given,
 * the gradient train_attn_mse_backward adds (weight dloss), in one pass
 * over the [B,NH,T,T] scores instead of two, on all threads over (b, h).
 * Every element takes losses.c's double expression, so the gradient has
 * the same bits; the loss sums each (b, h) first and those in order, so
 * it equals the serial sum to double rounding whatever the thread count.
 * Per-head sums that cannot be allocated, or shapes the loss refuses,
 * go to the two losses.h calls (which name the error). */
static ir_status attn_term(train_isa isa, double *loss, float *dss,
                           const float *ss, const float *ts,
                           const int32_t *mask, size_t B, size_t NHS,
                           size_t NHT, size_t T, float dloss, ir_diag *d)
{
    isa = train_isa_resolve(isa);
    double *part = NHS && NHT % NHS == 0 ? malloc(B * NHS * sizeof *part)
                                         : NULL;
    if (!part) {
        ir_status st = train_attn_mse_forward(loss, ss, ts, mask, B, NHS,
                                              NHT, T, d);
        if (st == IR_OK && dss)
            train_attn_mse_backward(dss, ss, ts, mask, B, NHS, NHT, T, dloss);
        return st;
    }
    size_t r = NHT / NHS, pairs = 0;
    for (size_t b = 0; b < B; b++) {
        size_t v = 0;
        for (size_t t = 0; t < T; t++)
            v += !mask || mask[b * T + t] != 0;
        pairs += v * v;
    }
    size_t n = pairs * NHS, TT = T * T;
    double s = n ? 2.0 * dloss / (double)n : 0.0;
#pragma omp parallel for collapse(2) schedule(static) if (B * NHS * TT > 32768)
    for (size_t b = 0; b < B; b++) {
        for (size_t h = 0; h < NHS; h++) {
            const int32_t *mk = mask ? mask + b * T : NULL;
            int all = 1;
            for (size_t t = 0; mk && t < T; t++)
                all &= mk[t] != 0;
            double *pk = &part[b * NHS + h];
            *pk = 0.0;
            if (n)
                TRAIN_ISA_CALL(isa, attn_term_head,
                               (pk, dss ? dss + (b * NHS + h) * TT : NULL,
                                ss + (b * NHS + h) * TT,
                                ts + (b * NHT + h * r) * TT, mk, all, T, r,
                                s));
        }
    }
    double total = 0.0;
    for (size_t k = 0; k < B * NHS; k++)
        total += part[k];
    free(part);
    *loss = n ? total / (double)n : 0.0;
    return IR_OK;
}

/* distill_loss_compute on a data-parallel share (data.h): each term is
 * weighted by the share's part of what its mean divides by (tokens for
 * the hidden-state terms, valid pairs for the attention term, rows for
 * the prediction term), so that the ranks' terms and gradients sum to the
 * global batch's. A whole batch has every part exactly 1. */
static ir_status compute_share(distill_loss *L, const train_acts *a,
                               train_acts *da, const teacher_outputs *tout,
                               const int32_t *mask,
                               const train_batch_share *sh,
                               train_loss_parts *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    size_t B = a->B, T = a->T, LS = (size_t)L->sc.layers;
    size_t CS = (size_t)L->sc.hidden, CT = (size_t)L->tc.hidden;
    size_t NL = (size_t)L->sc.labels;
    if (tout->B != B || tout->T != T)
        return ir_diag_set(d, IR_ERR_INPUT, "distillation loss: teacher batch "
                           "%zux%zu differs from the student's %zux%zu",
                           tout->B, tout->T, B, T);
    ir_status st = scratch(L, B * T, B, d);
    if (st != IR_OK)
        return st;
    const distill_loss_opts *o = &L->o;
    const float *we = L->extra.n ? L->extra.params : NULL;
    const float *wh = L->extra.n ? L->extra.params + CS * CT : NULL;
    float *dwe = L->extra.n ? L->extra.grads : NULL;
    float *dwh = L->extra.n ? L->extra.grads + CS * CT : NULL;
    double total = 0.0;
    if (o->stage != DISTILL_STAGE_PREDICTION) {
        double l;
        if (!tout->hidden[0])
            return ir_diag_set(d, IR_ERR_INPUT, "distillation loss: the "
                               "teacher did not keep its embedding output");
        st = hidden_term(L, &l, a->hidden[0], tout->hidden[0], we, dwe,
                         da ? da->hidden[0] : NULL, mask, B, T,
                         (float)(o->w_emb * sh->tokens), d);
        if (st != IR_OK)
            return ir_diag_prefix(d, "embedding loss");
        l *= sh->tokens;
        out->emb = (float)l;
        total += o->w_emb * l;
        for (size_t m = 1; m <= LS; m++) {
            size_t g = (size_t)o->layer_map[m - 1];
            if (!tout->hidden[g] || !tout->scores[g - 1])
                return ir_diag_set(d, IR_ERR_INPUT, "distillation loss: the "
                                   "teacher did not keep layer %zu", g);
            st = hidden_term(L, &l, a->hidden[m], tout->hidden[g], wh, dwh,
                             da ? da->hidden[m] : NULL, mask, B, T,
                             (float)(o->w_hidden * sh->tokens), d);
            if (st != IR_OK)
                return ir_diag_prefix(d, "hidden-state loss, student layer %zu", m);
            l *= sh->tokens;
            out->hidden += (float)l;
            total += o->w_hidden * l;
            st = attn_term(L->isa, &l, da ? da->scores[m - 1] : NULL,
                           a->scores[m - 1],
                           tout->scores[g - 1], mask, B, (size_t)L->sc.heads,
                           (size_t)L->tc.heads, T,
                           (float)(o->w_attn * sh->pairs), d);
            if (st != IR_OK)
                return ir_diag_prefix(d, "attention loss, student layer %zu", m);
            l *= sh->pairs;
            out->attn += (float)l;
            total += o->w_attn * l;
        }
    }
    if (o->stage != DISTILL_STAGE_INTERMEDIATE) {
        double l;
        if (L->sc.head == IR_ENC_HEAD_REGRESSION) {
            l = train_mse_forward(a->logits, tout->logits, B);
            if (da)
                train_mse_backward(da->logits, a->logits, tout->logits, B,
                                   (float)(o->w_pred * sh->rows));
        } else {
            float *sp = L->probs, *tp = L->probs + B * NL;
            st = train_soft_ce_forward(&l, sp, tp, a->logits, tout->logits, B,
                                       NL, o->temperature, d);
            if (st != IR_OK)
                return ir_diag_prefix(d, "prediction loss");
            if (da)
                train_soft_ce_backward(da->logits, sp, tp, B, NL,
                                       o->temperature,
                                       (float)(o->w_pred * sh->rows));
        }
        l *= sh->rows;
        out->pred = (float)l;
        total += o->w_pred * l;
    }
    out->total = (float)total;
    return IR_OK;
}

ir_status distill_loss_compute(distill_loss *L, const train_acts *a,
                               train_acts *da, const teacher_outputs *tout,
                               const int32_t *mask, train_loss_parts *out,
                               ir_diag *d)
{
    const train_batch_share whole = {1.0, 1.0, 1.0};
    return compute_share(L, a, da, tout, mask, &whole, out, d);
}

ir_status distill_loss_compute_share(distill_loss *L, const train_acts *a,
                                     train_acts *da,
                                     const teacher_outputs *tout,
                                     const int32_t *mask,
                                     const train_batch_share *sh,
                                     train_loss_parts *out, ir_diag *d)
{
    return compute_share(L, a, da, tout, mask, sh, out, d);
}

distill_loss_times distill_loss_get_times(const distill_loss *L) { return L->times; }

ir_status distill_loss_fn(void *user, const train_params *p, train_acts *a,
                          train_acts *da, const train_batch *b,
                          train_loss_parts *out, ir_diag *d)
{
    distill_loss *L = user;
    L->gemm = p->gemm;
    double t0 = ir_clock_wall_s();
    ir_status st = train_forward(p, a, b->ids, b->types, b->mask, d);
    if (st != IR_OK)
        return st;
    double t1 = ir_clock_wall_s();
    teacher_outputs tout;
    st = teacher_run(L->t, b->B, b->T, b->ids, b->types, b->mask, &tout, d);
    if (st != IR_OK)
        return st;
    double t2 = ir_clock_wall_s();
    train_batch_share sh = train_batch_share_get(b);
    st = compute_share(L, a, da, &tout, b->mask, &sh, out, d);
    L->times.student_forward += t1 - t0;
    L->times.teacher += t2 - t1;
    L->times.terms += ir_clock_wall_s() - t2;
    L->times.calls++;
    return st;
}

void distill_loss_set_gemm(distill_loss *L, struct gemm_ctx *g)
{
    L->gemm = g;
}

void distill_loss_set_isa(distill_loss *L, train_isa isa)
{
    L->isa = isa;
}

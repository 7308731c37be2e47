/* distill_loss.c — TinyBERT's distillation terms as a train_loss_fn: runs
 * the student and the teacher on the batch, sums the stage's terms from
 * distill/losses.h and adds their gradients into the student's activation
 * gradients and the projections' extra block. Rules in distill_loss.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "distill/distill_loss.h"
#include "distill/kernels.h"
#include "distill/losses.h"

struct distill_loss {
    ir_encoder_config sc, tc;
    teacher *t;
    distill_loss_opts o;
    train_extra extra;       /* W_e [CS,CT] then W_h [CS,CT], or n = 0 */
    float *extra_mem;        /* the four blocks */
    float *proj, *dproj;     /* [cap,CT] hidden-loss scratch */
    float *hw, *dhw;         /* [cap,CT] hs · W and its gradient */
    struct gemm_ctx *gemm;   /* the student's GEMM helper (NULL: reference) */
    distill_loss_times times;
    float *probs;            /* [2,capb,NL] student / teacher softmaxes */
    size_t cap, capb;
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
    free(L->proj);
    free(L->dproj);
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
        free(L->proj);
        free(L->dproj);
        free(L->hw);
        free(L->dhw);
        L->proj = malloc(BT * CT * sizeof(float));
        L->dproj = malloc(BT * CT * sizeof(float));
        L->hw = malloc(BT * CT * sizeof(float));
        L->dhw = malloc(BT * CT * sizeof(float));
        L->cap = (L->proj && L->dproj && L->hw && L->dhw) ? BT : 0;
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

/* One MSE(hs W, ht) term (W NULL when the widths agree), its gradient into
 * dhs and dw when dhs is given. The product hs · W and its two backward
 * products run here on the student's GEMM helper (losses.h would run them
 * on the reference loop); losses.h then sees an unprojected MSE on hw. */
static ir_status hidden_term(distill_loss *L, double *loss, const float *hs,
                             const float *ht, const float *w, float *dw,
                             float *dhs, const int32_t *mask, size_t B,
                             size_t T, float weight, ir_diag *d)
{
    size_t CS = (size_t)L->sc.hidden, CT = (size_t)L->tc.hidden, BT = B * T;
    const float *x = hs;
    if (w) {
        train_matmul_ctx(L->gemm, 0, 0, BT, CT, CS, 1.0f, hs, CS, w, CT, 0.0f,
                         L->hw, CT);
        x = L->hw;
    }
    ir_status st = train_hidden_mse_forward(loss, L->proj, x, ht, NULL, mask, B,
                                            T, CT, CT, d);
    if (st != IR_OK || !dhs)
        return st;
    if (!w) {
        train_hidden_mse_backward(dhs, NULL, L->dproj, L->proj, x, ht, NULL,
                                  mask, B, T, CT, CT, weight);
        return IR_OK;
    }
    memset(L->dhw, 0, BT * CT * sizeof(float));
    train_hidden_mse_backward(L->dhw, NULL, L->dproj, L->proj, x, ht, NULL,
                              mask, B, T, CT, CT, weight);
    /* dhs += dhw · Wᵀ;  dW += hsᵀ · dhw */
    train_matmul_ctx(L->gemm, 0, 1, BT, CS, CT, 1.0f, L->dhw, CT, w, CT, 1.0f,
                     dhs, CS);
    train_matmul_ctx(L->gemm, 1, 0, CS, CT, BT, 1.0f, hs, CS, L->dhw, CT, 1.0f,
                     dw, CT);
    return IR_OK;
}

ir_status distill_loss_compute(distill_loss *L, const train_acts *a,
                               train_acts *da, const teacher_outputs *tout,
                               const int32_t *mask, train_loss_parts *out,
                               ir_diag *d)
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
                         da ? da->hidden[0] : NULL, mask, B, T, o->w_emb, d);
        if (st != IR_OK)
            return ir_diag_prefix(d, "embedding loss");
        out->emb = (float)l;
        total += o->w_emb * l;
        for (size_t m = 1; m <= LS; m++) {
            size_t g = (size_t)o->layer_map[m - 1];
            if (!tout->hidden[g] || !tout->scores[g - 1])
                return ir_diag_set(d, IR_ERR_INPUT, "distillation loss: the "
                                   "teacher did not keep layer %zu", g);
            st = hidden_term(L, &l, a->hidden[m], tout->hidden[g], wh, dwh,
                             da ? da->hidden[m] : NULL, mask, B, T,
                             o->w_hidden, d);
            if (st != IR_OK)
                return ir_diag_prefix(d, "hidden-state loss, student layer %zu", m);
            out->hidden += (float)l;
            total += o->w_hidden * l;
            st = train_attn_mse_forward(&l, a->scores[m - 1], tout->scores[g - 1],
                                        mask, B, (size_t)L->sc.heads,
                                        (size_t)L->tc.heads, T, d);
            if (st != IR_OK)
                return ir_diag_prefix(d, "attention loss, student layer %zu", m);
            if (da)
                train_attn_mse_backward(da->scores[m - 1], a->scores[m - 1],
                                        tout->scores[g - 1], mask, B,
                                        (size_t)L->sc.heads, (size_t)L->tc.heads,
                                        T, o->w_attn);
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
                                   o->w_pred);
        } else {
            float *sp = L->probs, *tp = L->probs + B * NL;
            st = train_soft_ce_forward(&l, sp, tp, a->logits, tout->logits, B,
                                       NL, o->temperature, d);
            if (st != IR_OK)
                return ir_diag_prefix(d, "prediction loss");
            if (da)
                train_soft_ce_backward(da->logits, sp, tp, B, NL,
                                       o->temperature, o->w_pred);
        }
        out->pred = (float)l;
        total += o->w_pred * l;
    }
    out->total = (float)total;
    return IR_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

distill_loss_times distill_loss_get_times(const distill_loss *L) { return L->times; }

ir_status distill_loss_fn(void *user, const train_params *p, train_acts *a,
                          train_acts *da, const train_batch *b,
                          train_loss_parts *out, ir_diag *d)
{
    distill_loss *L = user;
    L->gemm = p->gemm;
    double t0 = now_s();
    ir_status st = train_forward(p, a, b->ids, b->types, b->mask, d);
    if (st != IR_OK)
        return st;
    double t1 = now_s();
    teacher_outputs tout;
    st = teacher_run(L->t, b->B, b->T, b->ids, b->types, b->mask, &tout, d);
    if (st != IR_OK)
        return st;
    double t2 = now_s();
    st = distill_loss_compute(L, a, da, &tout, b->mask, out, d);
    L->times.student_forward += t1 - t0;
    L->times.teacher += t2 - t1;
    L->times.terms += now_s() - t2;
    L->times.calls++;
    return st;
}

void distill_loss_set_gemm(distill_loss *L, struct gemm_ctx *g)
{
    L->gemm = g;
}

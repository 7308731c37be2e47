/* test_train_fast_kernels.c — the trainer's fast elementwise and attention
 * kernels against their oracles:
 *   - tiled attention (train_attention_forward/backward) against the plain
 *     loops (train_attention_*_ref) at a BERT-like head size (hs = 26, the
 *     TinyBERT-4 shape) with a padded batch row and a nonzero loss gradient
 *     on the scores; tolerance 1e-5 relative to the largest magnitude
 *     (same math, different summation order);
 *   - vectorized float GELU against the double erf formula over [-12, 12]:
 *     |error| <= 1e-6 absolute (+ 1e-6 relative for large x), and
 *     its derivative likewise;
 *   - both give the same bits when run twice (the resume test relies on
 *     step-to-step determinism);
 *   - the distillation loss's one-pass, threaded attention and hidden-
 *     state terms (distill/distill_loss.c) against losses.h's serial
 *     forward and backward calls as distill_loss.c made them before, with
 *     the teacher's heads averaged in pairs (student width 48, projected
 *     to the teacher's 96) and one to one (equal widths), a padded batch
 *     entry, T = 37: the gradients on the scores, on the hidden states and
 *     on the projections have the same bits, the losses agree to 1e-6
 *     relative (their sums are grouped per head / row block). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill/distill_loss.h"
#include "distill/kernels.h"
#include "distill/losses.h"
#include "tests/compare_util.h"
#include "tests/encoder_fixture.h"
#include "tests/testutil.h"

static void test_attention_tiled(void)
{
    size_t B = 3, T = 37, NH = 12, C = 312, n3 = B * T * 3 * C;
    size_t ns = B * NH * T * T, no = B * T * C;
    int32_t *mask = malloc(B * T * sizeof *mask);
    for (size_t i = 0; i < B * T; i++) /* row 1 has 12 padded tokens */
        mask[i] = !(i / T == 1 && i % T >= 25);
    float *qkv = compare_rand_normal(n3, 1, 1.0f), *dout = compare_rand_normal(no, 2, 1.0f);
    float *dsl = compare_rand_normal(ns, 3, 0.1f); /* the attention loss's gradient */
    float *o1 = calloc(no, 4), *o2 = calloc(no, 4);
    float *s1 = calloc(ns, 4), *s2 = calloc(ns, 4);
    float *p1 = calloc(ns, 4), *p2 = calloc(ns, 4);
    float *dq1 = compare_rand_normal(n3, 4, 1.0f), *dq2 = malloc(n3 * 4);
    float *ds1 = malloc(ns * 4), *ds2 = malloc(ns * 4);
    memcpy(dq2, dq1, n3 * 4); /* both add into the same prior content */
    memcpy(ds1, dsl, ns * 4);
    memcpy(ds2, dsl, ns * 4);
    train_attention_forward(o1, s1, p1, qkv, mask, B, T, C, NH);
    train_attention_forward_ref(o2, s2, p2, qkv, mask, B, T, C, NH);
    double eo = compare_rel_err(o1, o2, no), es = compare_rel_err(s1, s2, ns),
           ep = compare_rel_err(p1, p2, ns);
    CHECK_MSG(eo < 1e-5 && es < 1e-5 && ep < 1e-5,
              "attention forward: out %.2e scores %.2e probs %.2e", eo, es, ep);
    train_attention_backward(dq1, ds1, dout, qkv, p1, mask, B, T, C, NH);
    train_attention_backward_ref(dq2, ds2, dout, qkv, p2, mask, B, T, C, NH);
    double eq = compare_rel_err(dq1, dq2, n3), ed = compare_rel_err(ds1, ds2, ns);
    CHECK_MSG(eq < 1e-5 && ed < 1e-5, "attention backward: dqkv %.2e dscores %.2e",
              eq, ed);
    printf("  attention tiled vs plain: out %.1e probs %.1e dqkv %.1e dscores %.1e\n",
           eo, ep, eq, ed);
    /* padded keys: probability exactly 0 in the tiled version too */
    int zero = 1;
    for (size_t h = 0; h < NH; h++)
        for (size_t i = 0; i < T; i++)
            for (size_t j = 25; j < T; j++)
                zero &= p1[((1 * NH + h) * T + i) * T + j] == 0.0f;
    CHECK(zero);
    /* run to run: the same bits */
    memcpy(ds2, dsl, ns * 4);
    memset(dq2, 0, n3 * 4);
    memcpy(ds1, dsl, ns * 4);
    memset(dq1, 0, n3 * 4);
    train_attention_backward(dq1, ds1, dout, qkv, p1, mask, B, T, C, NH);
    train_attention_backward(dq2, ds2, dout, qkv, p1, mask, B, T, C, NH);
    CHECK(memcmp(dq1, dq2, n3 * 4) == 0 && memcmp(ds1, ds2, ns * 4) == 0);
    free(mask); free(qkv); free(dout); free(dsl); free(o1); free(o2);
    free(s1); free(s2); free(p1); free(p2); free(dq1); free(dq2);
    free(ds1); free(ds2);
}

static void test_gelu_accuracy(void)
{
    size_t N = 24001;
    float *x = malloc(N * 4), *y = malloc(N * 4), *g = calloc(N, 4),
          *one = malloc(N * 4);
    for (size_t i = 0; i < N; i++) {
        x[i] = -12.0f + 24.0f * (float)i / (float)(N - 1);
        one[i] = 1.0f;
    }
    train_gelu_forward(y, x, N);
    train_gelu_backward(g, one, x, N);
    double ey = 0.0, eg = 0.0;
    for (size_t i = 0; i < N; i++) {
        double X = x[i], cdf = 0.5 * (1.0 + erf(X / sqrt(2.0)));
        double pdf = exp(-0.5 * X * X) * 0.39894228040143267794; /* 1/sqrt(2 pi) */
        double dy = fabs(y[i] - X * cdf) / (1.0 + 1.0 * fabs(X * cdf));
        double dg = fabs(g[i] - (cdf + X * pdf)) / (1.0 + fabs(cdf + X * pdf));
        ey = dy > ey ? dy : ey;
        eg = dg > eg ? dg : eg;
    }
    CHECK_MSG(ey < 1e-6 && eg < 1e-6, "gelu: value err %.2e, derivative err %.2e",
              ey, eg);
    printf("  gelu float vs double erf: value %.1e, derivative %.1e\n", ey, eg);
    /* far tails: exactly the limits' shape, no NaN from overflow */
    float t[4] = {-1e30f, -40.0f, 40.0f, 1e30f}, u[4];
    train_gelu_forward(u, t, 4);
    CHECK_MSG(fabsf(u[0]) < 1e-30f && fabsf(u[1]) < 1e-30f && u[2] == 40.0f &&
              u[3] == 1e30f, "gelu tails: %g %g %g %g", u[0], u[1], u[2], u[3]);
    free(x); free(y); free(g); free(one);
}

/* B * NHS * T * T and B * T * CT above the terms' threading thresholds
 * (32768), so the threaded loops are the ones compared. */
static void test_loss_terms(int64_t student_heads)
{
    enum { B = 10, T = 37, NHT = 12 };
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config tc, sc;
    enc_small_config(&tc, 96, 2, NHT, 30, 40, 2);
    enc_small_config(&sc, 8 * student_heads, 2, student_heads, 30, 40, 2);
    ir_encoder *te = NULL;
    teacher *t = NULL;
    distill_loss *L = NULL;
    train_params *p = NULL;
    train_acts *a = NULL, *da = NULL;
    CHECK(ir_encoder_new(&tc, &te, &d) == IR_OK);
    ir_encoder_init_opts io;
    ir_encoder_init_opts_default(&io);
    io.std = 0.5f; io.seed = 5;
    ir_encoder_init_random(te, &io);
    CHECK(teacher_new(te, TEACHER_ENGINE_TRAIN, NULL, NULL, &t, &d) == IR_OK);
    int32_t ids[B * T], mask[B * T];
    for (int i = 0; i < B * T; i++) {
        ids[i] = (7 * i + 3) % 30;
        mask[i] = !(i / T == 2 && i % T >= 29); /* entry 2: 8 padded keys */
    }
    teacher_outputs tout;
    CHECK(teacher_run(t, B, T, ids, NULL, mask, &tout, &d) == IR_OK);
    distill_loss_opts o;
    distill_loss_opts_default(&o, 2, 2);
    o.stage = DISTILL_STAGE_INTERMEDIATE;
    o.w_attn = 0.7f;
    o.w_emb = 0.3f;
    o.w_hidden = 0.2f;
    CHECK(distill_loss_new(&sc, t, &o, &L, &d) == IR_OK);
    distill_loss_init_proj(L, NULL, 11);
    if (distill_loss_extra(L)->n) /* the loss adds into the projections' */
        memset(distill_loss_extra(L)->grads, 0,
               distill_loss_extra(L)->n * sizeof(float));
    CHECK(train_params_new(&sc, &p, &d) == IR_OK);
    train_params_init_random(p, 6, 0.5f);
    CHECK(train_acts_new(&sc, B, T, &a, &d) == IR_OK);
    CHECK(train_acts_new(&sc, B, T, &da, &d) == IR_OK);
    CHECK(train_forward(p, a, ids, NULL, mask, &d) == IR_OK);
    train_acts_zero(da);
    train_loss_parts parts;
    CHECK(distill_loss_compute(L, a, da, &tout, mask, &parts, &d) == IR_OK);
    /* the reference: losses.h's forward and backward, layer by layer */
    size_t ns = (size_t)B * student_heads * T * T;
    float *ref = malloc(ns * sizeof *ref);
    double want = 0.0;
    int same = 1;
    for (int m = 0; m < 2; m++) {
        double l = 0.0;
        int g = (int)o.layer_map[m];
        CHECK(train_attn_mse_forward(&l, a->scores[m], tout.scores[g - 1], mask,
                                     B, (size_t)student_heads, NHT, T, &d) == IR_OK);
        memset(ref, 0, ns * sizeof *ref);
        train_attn_mse_backward(ref, a->scores[m], tout.scores[g - 1], mask, B,
                                (size_t)student_heads, NHT, T, o.w_attn);
        same &= memcmp(ref, da->scores[m], ns * sizeof *ref) == 0;
        want += l;
    }
    double rel = fabs(parts.attn - want) / want;
    printf("  attention loss term, %lld student heads: loss %.6f vs %.6f "
           "(rel %.1e), gradient bits %s\n", (long long)student_heads,
           parts.attn, want, rel, same ? "equal" : "DIFFER");
    CHECK_MSG(same, "attention term gradient differs from losses.h's");
    CHECK_MSG(rel < 1e-6, "attention term loss %.9g vs %.9g", parts.attn, want);
    free(ref);

    /* hidden states (m = 0: the embeddings against W_e): the projection,
     * then losses.h's MSE on it, and the products back, all on the
     * reference loops as the loss runs them without a GEMM context */
    size_t CS = (size_t)sc.hidden, CT = (size_t)tc.hidden, BT = (size_t)B * T;
    train_extra *xe = distill_loss_extra(L);
    const float *W[2] = {xe->n ? xe->params : NULL,
                         xe->n ? xe->params + CS * CT : NULL};
    float *dW = xe->n ? calloc(xe->n, sizeof *dW) : NULL;
    float *hw = malloc(BT * CT * sizeof *hw), *proj = malloc(BT * CT * sizeof *proj);
    float *dproj = malloc(BT * CT * sizeof *dproj), *dhw = malloc(BT * CT * sizeof *dhw);
    float *dh = malloc(BT * CS * sizeof *dh);
    double want_h = 0.0, want_e = 0.0;
    same = 1;
    for (int m = 0; m <= 2; m++) {
        const float *w = W[m > 0], *hs = a->hidden[m];
        const float *ht = tout.hidden[m ? o.layer_map[m - 1] : 0];
        float weight = m ? o.w_hidden : o.w_emb, *dwk = dW ? dW + (m > 0) * CS * CT : NULL;
        const float *x = hs;
        if (w) {
            train_matmul_ref(0, 0, BT, CT, CS, 1.0f, hs, CS, w, CT, 0.0f, hw, CT);
            x = hw;
        }
        double l = 0.0;
        CHECK(train_hidden_mse_forward(&l, proj, x, ht, NULL, mask, B, T, CT,
                                       CT, &d) == IR_OK);
        *(m ? &want_h : &want_e) += l;
        memset(dh, 0, BT * CS * sizeof *dh);
        if (w) {
            memset(dhw, 0, BT * CT * sizeof *dhw);
            train_hidden_mse_backward(dhw, NULL, dproj, proj, x, ht, NULL, mask,
                                      B, T, CT, CT, weight);
            train_matmul_ref(0, 1, BT, CS, CT, 1.0f, dhw, CT, w, CT, 1.0f, dh, CS);
            train_matmul_ref(1, 0, CS, CT, BT, 1.0f, hs, CS, dhw, CT, 1.0f, dwk, CT);
        } else {
            train_hidden_mse_backward(dh, NULL, dproj, proj, x, ht, NULL, mask,
                                      B, T, CT, CT, weight);
        }
        same &= memcmp(dh, da->hidden[m], BT * CS * sizeof *dh) == 0;
    }
    if (dW)
        same &= memcmp(dW, xe->grads, xe->n * sizeof *dW) == 0;
    double re = fabs(parts.emb - want_e) / want_e, rh = fabs(parts.hidden - want_h) / want_h;
    printf("  hidden-state loss terms, width %zu -> %zu: emb rel %.1e, hidden "
           "rel %.1e, gradient bits %s\n", CS, CT, re, rh, same ? "equal" : "DIFFER");
    CHECK_MSG(same, "hidden-state term gradients differ from losses.h's");
    CHECK_MSG(re < 1e-6 && rh < 1e-6, "hidden-state losses %.9g %.9g vs %.9g %.9g",
              parts.emb, parts.hidden, want_e, want_h);
    free(dW); free(hw); free(proj); free(dproj); free(dhw); free(dh);
    train_acts_free(a);
    train_acts_free(da);
    train_params_free(p);
    distill_loss_free(L);
    teacher_free(t);
    ir_encoder_free(te);
}

int main(void)
{
    test_attention_tiled();
    test_gelu_accuracy();
    test_loss_terms(6);  /* teacher heads averaged in pairs, projected */
    test_loss_terms(12); /* one to one, equal widths */
    return test_finish("test_train_fast_kernels");
}

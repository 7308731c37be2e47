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
 *   - vectorized float tanh GELU (gelu_new) against ir_act_ref's double
 *     formula over [-12, 12], the same measure and bound (1e-6), its
 *     derivative against the double derivative, the far tails exact, and
 *     each vector path the portable path's bits;
 *   - both give the same bits when run twice (the resume test relies on
 *     step-to-step determinism);
 *   - the distillation loss's one-pass, threaded attention and hidden-
 *     state terms (distill/distill_loss.c) against losses.h's serial
 *     forward and backward calls as distill_loss.c made them before, with
 *     the teacher's heads averaged in pairs (student width 48, projected
 *     to the teacher's 96) and one to one (equal widths), a padded batch
 *     entry, T = 37: the gradients on the scores, on the hidden states and
 *     on the projections have the same bits, the losses agree to 1e-6
 *     relative (their sums are grouped per head / row block), on each
 *     instruction set of their kernels that may run here;
 *   - every vector path against the portable one (AVX2, AVX-512: each
 *     that may run here, the others printed as skipped with the reason):
 *     GELU forward and backward the same bits (elementwise, no FMA
 *     contraction); the tiled attention, the GEMM path's softmax rows and
 *     their backward, LayerNorm forward and backward within 1e-6 of the
 *     largest magnitude (only the lanes of their double sums differ);
 *   - ELECTRA-small's embedding block (E 128 -> 256, train_embed_ln_proj_*)
 *     the same way: its sum the same bits, output and every gradient within
 *     1e-6 of the largest magnitude. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill/distill_loss.h"
#include "distill/kernels.h"
#include "distill/losses.h"
#include "ir/act.h"
#include "tests/util/compare_util.h"
#include "tests/util/encoder_fixture.h"
#include "tests/util/testutil.h"
#include "tests/util/train_isa.h"

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
        double ref = ir_act_ref(IR_ACT_GELU, X);
        double dy = fabs(y[i] - ref) / (1.0 + 1.0 * fabs(ref));
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

/* d/dx 0.5 x (1 + tanh u), u = c (x + a x^3), in double. */
static double gelu_tanh_deriv_ref(double x)
{
    const double c = 0.79788456080286535588, a = 0.044715;
    double t = tanh(c * (x + a * x * x * x));
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3.0 * a * x * x);
}

static void test_gelu_tanh(void)
{
    /* N above one thread chunk (4096) and not a multiple of any width */
    size_t N = 24001;
    float *x = malloc(N * 4), *y = malloc(N * 4), *g = calloc(N, 4),
          *one = malloc(N * 4);
    for (size_t i = 0; i < N; i++) {
        x[i] = -12.0f + 24.0f * (float)i / (float)(N - 1);
        one[i] = 1.0f;
    }
    train_gelu_tanh_forward_isa(TRAIN_ISA_PORTABLE, y, x, N);
    train_gelu_tanh_backward_isa(TRAIN_ISA_PORTABLE, g, one, x, N);
    /* |float - double| / (1 + |double|): 1e-6 is a few float ulps of the
     * values near 1 and of the 1 + ... sums inside */
    double ey = 0.0, eg = 0.0;
    for (size_t i = 0; i < N; i++) {
        double ref = ir_act_ref(IR_ACT_GELU_TANH, x[i]);
        double dref = gelu_tanh_deriv_ref(x[i]);
        double dy = fabs(y[i] - ref) / (1.0 + fabs(ref));
        double dg = fabs(g[i] - dref) / (1.0 + fabs(dref));
        ey = dy > ey ? dy : ey;
        eg = dg > eg ? dg : eg;
    }
    CHECK_MSG(ey < 1e-6 && eg < 1e-6,
              "gelu_tanh: value err %.2e, derivative err %.2e", ey, eg);
    printf("  gelu_tanh float vs ir_act_ref (double): value %.1e, "
           "derivative %.1e\n", ey, eg);
    /* far tails: the limits, no NaN from overflow of x^3 */
    float t[4] = {-1e30f, -40.0f, 40.0f, 1e30f}, u[4];
    train_gelu_tanh_forward(u, t, 4);
    float gt[4] = {0, 0, 0, 0}, ones[4] = {1, 1, 1, 1};
    train_gelu_tanh_backward(gt, ones, t, 4);
    CHECK_MSG(fabsf(u[0]) < 1e-30f && fabsf(u[1]) < 1e-30f && u[2] == 40.0f &&
              u[3] == 1e30f, "gelu_tanh tails: %g %g %g %g", u[0], u[1], u[2],
              u[3]);
    CHECK_MSG(gt[0] == 0.0f && gt[1] == 0.0f && gt[2] == 1.0f && gt[3] == 1.0f,
              "gelu_tanh derivative tails: %g %g %g %g", gt[0], gt[1], gt[2],
              gt[3]);
    /* every vector path: the portable path's bits (elementwise, no FMA
     * contraction), also for a backward that adds into nonzero dinp */
    float *dy = compare_rand_normal(N, 23, 1.0f);
    float *g0 = compare_rand_normal(N, 24, 1.0f), *gin = malloc(N * 4);
    memcpy(gin, g0, N * 4);
    train_gelu_tanh_backward_isa(TRAIN_ISA_PORTABLE, g0, dy, x, N);
    for (int k = 0; k < TRAIN_ISA_NVECTOR; k++) {
        train_isa isa = train_isa_vector[k];
        if (!train_isa_try(isa, "gelu_tanh"))
            continue;
        float *yv = malloc(N * 4), *gv = malloc(N * 4);
        memcpy(gv, gin, N * 4);
        train_gelu_tanh_forward_isa(isa, yv, x, N);
        train_gelu_tanh_backward_isa(isa, gv, dy, x, N);
        CHECK_MSG(memcmp(yv, y, N * 4) == 0 && memcmp(gv, g0, N * 4) == 0,
                  "gelu_tanh %s: not the portable path's bits",
                  train_isa_name(isa));
        printf("  gelu_tanh %s vs portable: same bits\n", train_isa_name(isa));
        free(yv); free(gv);
    }
    free(x); free(y); free(g); free(one); free(dy); free(g0); free(gin);
}

/* B * NHS * T * T and B * T * CT above the terms' threading thresholds
 * (32768), so the threaded loops are the ones compared. */
static void test_loss_terms(int64_t student_heads, train_isa isa)
{
    if (isa != TRAIN_ISA_PORTABLE && !train_isa_try(isa, "loss terms"))
        return;
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
    distill_loss_set_isa(L, isa);
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
    printf("  attention loss term (%s), %lld student heads: loss %.6f vs "
           "%.6f (rel %.1e), gradient bits %s\n", train_isa_name(isa),
           (long long)student_heads, parts.attn, want, rel,
           same ? "equal" : "DIFFER");
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
    printf("  hidden-state loss terms (%s), width %zu -> %zu: emb rel %.1e, "
           "hidden rel %.1e, gradient bits %s\n", train_isa_name(isa), CS, CT,
           re, rh, same ? "equal" : "DIFFER");
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

/* Each vector path against the portable one: what they differ in is how
 * the lanes of a double sum are grouped, far below float resolution. */
static const double ISA_TOL = 1e-6;

static float *isa_dup(const float *x, size_t n)
{
    float *y = malloc(n * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

static void test_isa_paths(void)
{
    /* GELU over [-12, 12] and both tails, N not a multiple of any width
     * and above one thread chunk */
    size_t N = 24001;
    float *x = malloc(N * 4), *dy = compare_rand_normal(N, 21, 1.0f);
    for (size_t i = 0; i < N; i++)
        x[i] = -12.0f + 24.0f * (float)i / (float)(N - 1);
    x[0] = -1e30f;
    x[N - 1] = 1e30f;
    float *y0 = malloc(N * 4), *g0 = compare_rand_normal(N, 22, 1.0f);
    float *gin = isa_dup(g0, N);
    train_gelu_forward_isa(TRAIN_ISA_PORTABLE, y0, x, N);
    train_gelu_backward_isa(TRAIN_ISA_PORTABLE, g0, dy, x, N);

    /* tiled attention and the softmax rows: the shape and mask of
     * test_attention_tiled */
    size_t B = 3, T = 37, NH = 12, C = 312, n3 = B * T * 3 * C;
    size_t ns = B * NH * T * T, no = B * T * C;
    int32_t *mask = malloc(B * T * sizeof *mask);
    for (size_t i = 0; i < B * T; i++)
        mask[i] = !(i / T == 1 && i % T >= 25);
    float *qkv = compare_rand_normal(n3, 1, 1.0f);
    float *dout = compare_rand_normal(no, 2, 1.0f);
    float *dsl = compare_rand_normal(ns, 3, 0.1f);
    float *dq_in = compare_rand_normal(n3, 4, 1.0f);
    float *sc_in = compare_rand_normal(ns, 5, 2.0f);
    float *o0 = malloc(no * 4), *s0 = malloc(ns * 4), *p0 = malloc(ns * 4);
    float *dq0 = isa_dup(dq_in, n3), *ds0 = isa_dup(dsl, ns);
    float *sp0 = malloc(ns * 4), *sb0 = isa_dup(dsl, ns);
    train_attention_forward_isa(TRAIN_ISA_PORTABLE, o0, s0, p0, qkv, mask, B,
                                T, C, NH);
    train_attention_backward_isa(TRAIN_ISA_PORTABLE, dq0, ds0, dout, qkv, p0,
                                 mask, B, T, C, NH);
    train_attention_softmax_rows_isa(TRAIN_ISA_PORTABLE, sp0, sc_in, mask, B,
                                     NH, T);
    train_attention_softmax_backward_rows_isa(TRAIN_ISA_PORTABLE, sb0, sc_in,
                                              p0, B * NH * T, T);

    /* LayerNorm at the student's width (312) and an odd one (37) */
    size_t BT = 64, LC = 312;
    float *lx = compare_rand_normal(BT * LC, 7, 2.0f);
    float *lg = compare_rand_normal(LC, 8, 1.0f), *lb = compare_rand_normal(LC, 9, 1.0f);
    float *ldy = compare_rand_normal(BT * LC, 10, 1.0f);
    float *lo0 = malloc(BT * LC * 4), *lm0 = malloc(BT * 4), *lr0 = malloc(BT * 4);
    float *ldx0 = compare_rand_normal(BT * LC, 11, 0.5f);
    float *ldx_in = isa_dup(ldx0, BT * LC);
    float *ldg0 = compare_rand_normal(LC, 12, 0.5f), *ldb0 = compare_rand_normal(LC, 13, 0.5f);
    float *ldg_in = isa_dup(ldg0, LC), *ldb_in = isa_dup(ldb0, LC);
    train_layer_norm_forward_isa(TRAIN_ISA_PORTABLE, lo0, lm0, lr0, lx, lg, lb,
                                BT, LC, 1e-5f);
    train_layer_norm_backward_isa(TRAIN_ISA_PORTABLE, ldx0, ldg0, ldb0, ldy, lx,
                                 lg, lm0, lr0, BT, LC);
    float *lo7 = malloc(BT * 37 * 4), *lm7 = malloc(BT * 4), *lr7 = malloc(BT * 4);
    train_layer_norm_forward_isa(TRAIN_ISA_PORTABLE, lo7, lm7, lr7, lx, lg, lb,
                                BT, 37, 1e-5f);

    for (int k = 0; k < TRAIN_ISA_NVECTOR; k++) {
        train_isa isa = train_isa_vector[k];
        const char *name = train_isa_name(isa);
        if (!train_isa_try(isa, "gelu, attention, softmax, layernorm"))
            continue;
        float *y = malloc(N * 4), *g = isa_dup(gin, N);
        train_gelu_forward_isa(isa, y, x, N);
        train_gelu_backward_isa(isa, g, dy, x, N);
        CHECK_MSG(memcmp(y, y0, N * 4) == 0 && memcmp(g, g0, N * 4) == 0,
                  "gelu %s: not the portable path's bits", name);

        float *o = malloc(no * 4), *sc = malloc(ns * 4), *pr = malloc(ns * 4);
        float *dq = isa_dup(dq_in, n3), *ds = isa_dup(dsl, ns);
        float *sp = malloc(ns * 4), *sb = isa_dup(dsl, ns);
        train_attention_forward_isa(isa, o, sc, pr, qkv, mask, B, T, C, NH);
        train_attention_backward_isa(isa, dq, ds, dout, qkv, p0, mask, B, T,
                                     C, NH);
        train_attention_softmax_rows_isa(isa, sp, sc_in, mask, B, NH, T);
        train_attention_softmax_backward_rows_isa(isa, sb, sc_in, p0,
                                                  B * NH * T, T);
        double ea = compare_rel_err(o, o0, no), es = compare_rel_err(sc, s0, ns);
        double ep = compare_rel_err(pr, p0, ns);
        double eq = compare_rel_err(dq, dq0, n3), ed = compare_rel_err(ds, ds0, ns);
        double esp = compare_rel_err(sp, sp0, ns), esb = compare_rel_err(sb, sb0, ns);
        CHECK_MSG(ea <= ISA_TOL && es <= ISA_TOL && ep <= ISA_TOL &&
                      eq <= ISA_TOL && ed <= ISA_TOL,
                  "attention %s vs portable: out %.2e scores %.2e probs %.2e "
                  "dqkv %.2e dscores %.2e", name, ea, es, ep, eq, ed);
        CHECK_MSG(esp <= ISA_TOL && esb <= ISA_TOL,
                  "softmax rows %s vs portable: %.2e, backward %.2e", name,
                  esp, esb);

        float *lo = malloc(BT * LC * 4), *lm = malloc(BT * 4), *lr = malloc(BT * 4);
        float *ldx = isa_dup(ldx_in, BT * LC);
        float *ldg = isa_dup(ldg_in, LC), *ldb = isa_dup(ldb_in, LC);
        train_layer_norm_forward_isa(isa, lo, lm, lr, lx, lg, lb, BT, LC, 1e-5f);
        train_layer_norm_backward_isa(isa, ldx, ldg, ldb, ldy, lx, lg, lm, lr,
                                     BT, LC);
        double lo_e = compare_rel_err(lo, lo0, BT * LC);
        double lm_e = compare_rel_err(lm, lm0, BT), lr_e = compare_rel_err(lr, lr0, BT);
        double ldx_e = compare_rel_err(ldx, ldx0, BT * LC);
        double ldg_e = compare_rel_err(ldg, ldg0, LC), ldb_e = compare_rel_err(ldb, ldb0, LC);
        float *lo7i = malloc(BT * 37 * 4), *lm7i = malloc(BT * 4), *lr7i = malloc(BT * 4);
        train_layer_norm_forward_isa(isa, lo7i, lm7i, lr7i, lx, lg, lb, BT, 37,
                                    1e-5f);
        double l7_e = compare_rel_err(lo7i, lo7, BT * 37);
        CHECK_MSG(lo_e <= ISA_TOL && lm_e <= ISA_TOL && lr_e <= ISA_TOL &&
                      ldx_e <= ISA_TOL && ldg_e <= ISA_TOL &&
                      ldb_e <= ISA_TOL && l7_e <= ISA_TOL,
                  "layernorm %s vs portable: out %.2e mean %.2e rstd %.2e "
                  "dinp %.2e dgamma %.2e dbeta %.2e (C 37: %.2e)", name, lo_e,
                  lm_e, lr_e, ldx_e, ldg_e, ldb_e, l7_e);
        printf("  %s vs portable: gelu same bits; attention out %.1e dqkv "
               "%.1e dscores %.1e; softmax rows %.1e / %.1e; layernorm out "
               "%.1e dinp %.1e dgamma %.1e\n", name, ea, eq, ed, esp, esb,
               lo_e, ldx_e, ldg_e);
        free(y); free(g); free(o); free(sc); free(pr); free(dq); free(ds);
        free(sp); free(sb); free(lo); free(lm); free(lr); free(ldx);
        free(ldg); free(ldb); free(lo7i); free(lm7i); free(lr7i);
    }
    free(x); free(dy); free(y0); free(g0); free(gin); free(mask); free(qkv);
    free(dout); free(dsl); free(dq_in); free(sc_in); free(o0); free(s0);
    free(p0); free(dq0); free(ds0); free(sp0); free(sb0); free(lx); free(lg);
    free(lb); free(ldy); free(lo0); free(lm0); free(lr0); free(ldx0);
    free(ldx_in); free(ldg0); free(ldb0); free(ldg_in); free(ldb_in);
    free(lo7); free(lm7); free(lr7);
}

/* ELECTRA-small's embedding block (tables E = 128 wide, projected to
 * C = 256; a padded batch of 3 x 37 with pad id 0) on each vector set
 * against the portable one: the sum (elementwise) and the scatter into
 * the tables give the same bits; the LayerNorm's statistics, the block's
 * output and the gradients of the LayerNorm, the projection and the tables
 * agree within ISA_TOL of the largest magnitude (only the lanes of the
 * LayerNorm's double sums differ; the projection runs on the same loop). */
typedef struct elp_bufs {
    float *out, *sum, *ln, *mean, *rstd;                    /* forward */
    float *dword, *dpos, *dtype, *dg, *db, *dproj, *dpb, *dln, *dsum; /* backward */
} elp_bufs;

static void elp_run(train_isa isa, elp_bufs *o, const int32_t *ids,
                    const int32_t *types, float *const *w, const float *dout,
                    size_t B, size_t T, size_t C, size_t E, size_t V, size_t P)
{
    size_t BT = B * T;
    *o = (elp_bufs){calloc(BT * C, 4), calloc(BT * E, 4), calloc(BT * E, 4),
                    calloc(BT, 4), calloc(BT, 4), calloc(V * E, 4), calloc(P * E, 4),
                    calloc(2 * E, 4), calloc(E, 4), calloc(E, 4), calloc(E * C, 4),
                    calloc(C, 4), calloc(BT * E, 4), calloc(BT * E, 4)};
    train_embed_ln_proj_forward_isa(isa, NULL, o->out, o->sum, o->ln, o->mean, o->rstd,
                                    ids, types, w[0], w[1], w[2], w[3], w[4], w[5],
                                    w[6], 0, B, T, C, E, 1e-12f);
    train_embed_ln_proj_backward_isa(isa, NULL, o->dword, o->dpos, o->dtype, o->dg,
                                     o->db, o->dproj, o->dpb, o->dln, o->dsum, dout,
                                     o->sum, o->ln, o->mean, o->rstd, ids, types, w[3],
                                     w[5], 0, B, T, C, E);
}

static void elp_free(elp_bufs *o)
{
    float **f = (float **)o;
    for (size_t i = 0; i < sizeof *o / sizeof(float *); i++)
        free(f[i]);
}

static void test_embed_ln_proj_isa(void)
{
    size_t B = 3, T = 37, C = 256, E = 128, V = 300, P = 40, BT = B * T;
    int32_t *ids = malloc(BT * sizeof *ids), *types = malloc(BT * sizeof *types);
    for (size_t i = 0; i < BT; i++) {
        bool pad = i / T == 1 && i % T >= 25;
        ids[i] = pad ? 0 : (int32_t)(1 + train_rng_u64(31, i) % (V - 1));
        types[i] = !pad && i % T >= 12;
    }
    /* word, pos, type, gamma, beta, proj, proj_b */
    float *w[7] = {compare_rand_normal(V * E, 32, 1.0f), compare_rand_normal(P * E, 33, 1.0f),
                   compare_rand_normal(2 * E, 34, 1.0f), compare_rand_normal(E, 35, 1.0f),
                   compare_rand_normal(E, 36, 1.0f), compare_rand_normal(E * C, 37, 0.1f),
                   compare_rand_normal(C, 38, 1.0f)};
    float *dout = compare_rand_normal(BT * C, 39, 1.0f);
    elp_bufs ref;
    elp_run(TRAIN_ISA_PORTABLE, &ref, ids, types, w, dout, B, T, C, E, V, P);
    for (int k = 0; k < TRAIN_ISA_NVECTOR; k++) {
        train_isa isa = train_isa_vector[k];
        if (!train_isa_try(isa, "emb-ln-proj"))
            continue;
        elp_bufs o;
        elp_run(isa, &o, ids, types, w, dout, B, T, C, E, V, P);
        bool sum_same = memcmp(o.sum, ref.sum, BT * E * 4) == 0;
        double e_out = compare_rel_err(o.out, ref.out, BT * C);
        double e_ln = compare_rel_err(o.ln, ref.ln, BT * E);
        double e_st = fmax(compare_rel_err(o.mean, ref.mean, BT),
                           compare_rel_err(o.rstd, ref.rstd, BT));
        double e_tab = fmax(compare_rel_err(o.dword, ref.dword, V * E),
                            fmax(compare_rel_err(o.dpos, ref.dpos, P * E),
                                 compare_rel_err(o.dtype, ref.dtype, 2 * E)));
        double e_lng = fmax(compare_rel_err(o.dg, ref.dg, E),
                            compare_rel_err(o.db, ref.db, E));
        double e_proj = fmax(compare_rel_err(o.dproj, ref.dproj, E * C),
                             compare_rel_err(o.dpb, ref.dpb, C));
        CHECK_MSG(sum_same, "emb-ln-proj %s: the sum is not the portable bits",
                  train_isa_name(isa));
        CHECK_MSG(e_out <= ISA_TOL && e_ln <= ISA_TOL && e_st <= ISA_TOL &&
                      e_tab <= ISA_TOL && e_lng <= ISA_TOL && e_proj <= ISA_TOL,
                  "emb-ln-proj %s vs portable: out %.2e ln %.2e mean/rstd %.2e "
                  "dtables %.2e dgamma/dbeta %.2e dproj %.2e", train_isa_name(isa),
                  e_out, e_ln, e_st, e_tab, e_lng, e_proj);
        printf("  emb-ln-proj %s vs portable: sum %s bits; out %.1e ln %.1e "
               "dtables %.1e dgamma/dbeta %.1e dproj %.1e\n", train_isa_name(isa),
               sum_same ? "same" : "DIFFERENT", e_out, e_ln, e_tab, e_lng, e_proj);
        elp_free(&o);
    }
    elp_free(&ref);
    for (int i = 0; i < 7; i++)
        free(w[i]);
    free(dout); free(ids); free(types);
}

int main(void)
{
    test_attention_tiled();
    test_gelu_accuracy();
    test_gelu_tanh();
    test_isa_paths();
    test_embed_ln_proj_isa();
    /* every set of the terms' kernels against losses.h's */
    static const train_isa isas[] = {TRAIN_ISA_PORTABLE, TRAIN_ISA_AVX2,
                                     TRAIN_ISA_AVX512};
    for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++) {
        test_loss_terms(6, isas[k]);  /* teacher heads averaged in pairs,
                                         projected */
        test_loss_terms(12, isas[k]); /* one to one, equal widths */
    }
    return test_finish("test_train_fast_kernels");
}

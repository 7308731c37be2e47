/* test_quantize.c — the int8 plan (backend/calibrate.h,
 * backend/qlinear_error.h).
 *
 * Calibration: on small random encoders (no sharing, and ALBERT-style all
 * layers one group, whose per-layer scales must still differ), two batches
 * of different shapes with padding. The expected scales are computed
 * independently: the trainer's forward (distill/model.h) with its
 * reference matmul loops (calibration itself runs the fp32 runtime's
 * GEMMs and fused GELU epilogue, rt.h's calibration tap), then max |x|
 * over the unpadded rows of each linear's input, over both batches, / 127.
 * Tolerance 1e-4 relative: the two only round differently (measured
 * 2.5e-7 here, natively and under DISTILC_MAX_ISA=avx2). A non-finite
 * activation is reported where it first appears.
 *
 * End to end (backend/rt.h): a random encoder's logits at int8, dynamic and
 * with scales calibrated on the same batch, against fp32: max |Δlogit| ≤
 * 5 % of max |logit| (int8 keeps about 2-3 significant digits per linear;
 * through 2 layers, pooler and head the measured error is 1-1.5 %).
 *
 * Weight error: a hand-made matrix with known rounding, the 1/254 bound on
 * random weights, and which matrices of an encoder are reported. Then the
 * error paths. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/calibrate.h"
#include "backend/rt_encoder.h"
#include "distill/model.h"
#include "distill/params.h"
#include "backend/qlinear_error.h"
#include "testutil.h"

static void small_config(ir_encoder_config *c, ir_enc_share share)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_init(c);
    c->hidden = 16; c->layers = 3; c->heads = 4; c->ffn = 40; c->vocab = 30;
    c->max_positions = 12; c->type_vocab = 2; c->labels = 2;
    c->ln_eps = 1e-5f;
    ir_encoder_config_share(c, share, 0, &d);
}

static ir_encoder *random_encoder(ir_enc_share share, uint64_t seed)
{
    ir_encoder_config c;
    small_config(&c, share);
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder *e = NULL;
    if (ir_encoder_new(&c, &e, &d) != IR_OK) {
        fprintf(stderr, "%s\n", d.msg);
        return NULL;
    }
    ir_encoder_init_opts o;
    ir_encoder_init_opts_default(&o);
    o.seed = seed;
    o.std = 0.3f;      /* large enough that layers differ visibly */
    o.bias_std = 0.1f;
    o.ln_std = 0.2f;
    ir_encoder_init_random(e, &o);
    return e;
}

typedef struct batch {
    size_t B, T;
    int32_t ids[64], types[64], mask[64];
} batch;

static void make_batch(batch *b, size_t B, size_t T, int64_t vocab,
                       unsigned seed)
{
    b->B = B;
    b->T = T;
    for (size_t i = 0; i < B * T; i++) {
        b->ids[i] = (int32_t)((i * 7 + seed * 13) % (size_t)vocab);
        b->types[i] = (int32_t)((i % T) >= T / 2);
        /* row r keeps T - 2r tokens: the later rows are padded */
        b->mask[i] = (i % T) < T - 2 * (i / T);
    }
}

/* max |x| over rows with mask set, x [rows, width]. */
static float masked_absmax(const float *x, size_t rows, size_t width,
                           const int32_t *mask)
{
    float m = 0.0f;
    for (size_t i = 0; i < rows; i++)
        if (!mask || mask[i])
            for (size_t j = 0; j < width; j++)
                m = fmaxf(m, fabsf(x[i * width + j]));
    return m;
}

/* Expected scales over the batches, via the reference forward; with_pad
 * also counts the padded rows (to show the test would notice). */
static void expected_scales(const ir_encoder *e, const batch *bs, int nb,
                            int with_pad, float *want)
{
    ir_diag d;
    ir_diag_init(&d);
    train_params *p;
    CHECK(train_params_from_encoder(e, &p, &d) == IR_OK);
    size_t L = (size_t)e->cfg.layers, C = (size_t)e->cfg.hidden,
           F = (size_t)e->cfg.ffn;
    memset(want, 0, L * 4 * sizeof *want);
    for (int k = 0; k < nb; k++) {
        const batch *b = &bs[k];
        train_acts *a;
        CHECK(train_acts_new(&p->cfg, b->B, b->T, &a, &d) == IR_OK);
        CHECK_MSG(train_forward(p, a, b->ids, b->types, b->mask, &d) == IR_OK, "%s", d.msg);
        size_t BT = b->B * b->T;
        const int32_t *mk = with_pad ? NULL : b->mask;
        for (size_t l = 0; l < L; l++) {
            float m[4] = {masked_absmax(a->hidden[l], BT, C, mk),
                          masked_absmax(a->atty[l], BT, C, mk),
                          masked_absmax(a->ln1[l], BT, C, mk),
                          masked_absmax(a->fch_gelu[l], BT, F, mk)};
            for (int s = 0; s < 4; s++)
                want[l * 4 + (size_t)s] = fmaxf(want[l * 4 + (size_t)s], m[s] / 127.0f);
        }
        train_acts_free(a);
    }
    train_params_free(p);
}

static double max_rel_diff(const float *a, const float *b, size_t n)
{
    double w = 0;
    for (size_t i = 0; i < n; i++)
        w = fmax(w, fabs((double)a[i] - b[i]) / fmax(fabs((double)b[i]), 1e-30));
    return w;
}

static void test_calibration(ir_enc_share share)
{
    ir_encoder *e = random_encoder(share, 7 + (uint64_t)share);
    CHECK(e != NULL);
    if (!e)
        return;
    batch bs[2];
    make_batch(&bs[0], 3, 9, e->cfg.vocab, 1);
    make_batch(&bs[1], 2, 5, e->cfg.vocab, 2);
    size_t n = (size_t)e->cfg.layers * 4;
    float want[IR_ENCODER_MAX_LAYERS * 4], got[IR_ENCODER_MAX_LAYERS * 4];
    float padded[IR_ENCODER_MAX_LAYERS * 4];
    expected_scales(e, bs, 2, 0, want);
    expected_scales(e, bs, 2, 1, padded);

    ir_diag d;
    ir_diag_init(&d);
    calib_state *qc;
    CHECK(calib_begin(e, &qc, &d) == IR_OK);
    for (int k = 0; k < 2; k++)
        CHECK_MSG(calib_add(qc, bs[k].ids, bs[k].types, bs[k].mask, bs[k].B,
                                     bs[k].T, &d) == IR_OK, "%s", d.msg);
    /* tokens: batch 0 rows keep 9, 7, 5; batch 1 rows keep 5, 3 */
    CHECK(calib_tokens(qc) == 9 + 7 + 5 + 5 + 3);
    CHECK(calib_finish(qc, got, &d) == IR_OK);
    calib_free(qc);
    double err = max_rel_diff(got, want, n);
    CHECK_MSG(err <= 1e-4, "share %d: scales differ from the reference forward's "
              "absmax/127 by %.3g relative", (int)share, err);
    int positive = 1, layers_differ = 0;
    for (size_t i = 0; i < n; i++) {
        positive &= got[i] > 0.0f;
        if (i >= 4)
            layers_differ |= got[i] != got[i - 4];
    }
    CHECK(positive);
    CHECK(layers_differ);
    /* Counting the padding would change some scale: the exclusion is seen. */
    CHECK(max_rel_diff(padded, want, n) > 1e-3); /* shared weights, yet per-layer inputs differ */

    /* The one-call form accumulates the same maxima batch by batch. */
    float acc[IR_ENCODER_MAX_LAYERS * 4] = {0};
    for (int k = 0; k < 2; k++)
        CHECK_MSG(calib_batch(e, bs[k].ids, bs[k].types, bs[k].mask, bs[k].B,
                                     bs[k].T, acc, &d) == IR_OK, "%s", d.msg);
    CHECK(memcmp(acc, got, n * sizeof *acc) == 0);
    printf("calibration (share %d): %zu scales, worst difference %.2g, "
           "layer 0: qkv %.4f attn_out %.4f ffn_in %.4f ffn_out %.4f\n",
           (int)share, n, err, (double)got[0], (double)got[1], (double)got[2],
           (double)got[3]);
    ir_encoder_free(e);
}

static void test_calibration_errors(void)
{
    ir_diag d;
    ir_diag_init(&d);
    calib_state *qc = (calib_state *)1;
    float sc[IR_ENCODER_MAX_LAYERS * 4] = {0};
    CHECK(calib_begin(NULL, &qc, &d) == IR_ERR_INPUT);
    CHECK(qc == NULL);

    ir_encoder *e = random_encoder(IR_ENC_SHARE_NONE, 3);
    CHECK(calib_begin(e, &qc, &d) == IR_OK);
    /* nothing seen yet */
    CHECK(calib_finish(qc, sc, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "no tokens") != NULL, "%s", d.msg);
    batch b;
    make_batch(&b, 2, 4, e->cfg.vocab, 0);
    /* all padding: still no tokens */
    int32_t pad[8] = {0};
    CHECK(calib_add(qc, b.ids, NULL, pad, 2, 4, &d) == IR_OK);
    CHECK(calib_finish(qc, sc, &d) == IR_ERR_INPUT);
    /* no mask and no types: every token counts */
    CHECK(calib_add(qc, b.ids, NULL, NULL, 2, 4, &d) == IR_OK);
    CHECK(calib_tokens(qc) == 8);
    CHECK(calib_finish(qc, sc, &d) == IR_OK);
    CHECK(sc[0] > 0.0f && sc[e->cfg.layers * 4 - 1] > 0.0f);
    /* an id outside the vocabulary names its position */
    b.ids[5] = 999;
    CHECK(calib_add(qc, b.ids, NULL, NULL, 2, 4, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "input_ids[1][1]") != NULL, "%s", d.msg);
    /* longer than max_positions */
    int32_t long_ids[13] = {0};
    CHECK(calib_add(qc, long_ids, NULL, NULL, 1, 13, &d) == IR_ERR_INPUT);
    CHECK(calib_add(qc, NULL, NULL, NULL, 1, 4, &d) == IR_ERR_INPUT);
    calib_free(qc);
    calib_free(NULL);
    CHECK(calib_batch(e, b.ids, NULL, NULL, 2, 4, NULL, &d) == IR_ERR_INPUT);
    ir_encoder_free(e);

    /* A non-finite activation names the first place it appears: a NaN in
     * layer 1's ffn.in bias reaches the input of its ffn.out first. */
    e = random_encoder(IR_ENC_SHARE_NONE, 4);
    make_batch(&b, 2, 4, e->cfg.vocab, 0);
    ir_tensor *bias = ir_encoder_find(e, "group1.ffn.in.bias");
    CHECK(bias != NULL);
    if (bias)
        ((float *)bias->data)[3] = NAN;
    CHECK(calib_begin(e, &qc, &d) == IR_OK);
    CHECK(calib_add(qc, b.ids, NULL, NULL, 2, 4, &d) == IR_ERR_FAILED);
    CHECK_MSG(strstr(d.msg, "layer 1, input of ffn_out: non-finite activation "
                            "at batch row 0, position 0") != NULL, "%s", d.msg);
    calib_free(qc);
    ir_encoder_free(e);

    /* Any activation the runtime runs calibrates (the trainer's forward,
     * the reference above, has erf GELU only). */
    ir_encoder_config c;
    small_config(&c, IR_ENC_SHARE_NONE);
    c.activation = IR_ACT_RELU;
    CHECK(ir_encoder_new(&c, &e, &d) == IR_OK);
    CHECK_MSG(calib_batch(e, b.ids, NULL, NULL, 2, 4, sc, &d) == IR_OK, "%s", d.msg);
    ir_encoder_free(e);
}

static void test_weight_error(void)
{
    ir_diag d;
    ir_diag_init(&d);
    /* W [2,2]: column 0 max 1 -> step 1/127; 0.3 rounds to 38/127.
     * column 1 all zero -> no error. */
    const float w[4] = {1.0f, 0.0f, 0.3f, 0.0f};
    quantize_werr r;
    CHECK(quantize_weight_error(w, 2, 2, &r, &d) == IR_OK);
    double e03 = fabs(0.3 - (double)(1.0f / 127.0f) * 38.0);
    CHECK_MSG(fabs(r.max_abs - e03) < 1e-7, "max_abs %g, want %g", r.max_abs, e03);
    CHECK(fabs(r.max_rel - e03) < 1e-7);
    CHECK(fabs(r.frob_rel - e03 / sqrt(1.0 + 0.09)) < 1e-7);
    CHECK(r.k == 2 && r.n == 2);

    ir_encoder *e = random_encoder(IR_ENC_SHARE_NONE, 11);
    quantize_werr errs[32];
    size_t n = 0;
    CHECK(quantize_encoder_weight_errors(e, errs, 32, &n, &d) == IR_OK);
    CHECK(n == 12); /* 3 layers x qkv, out, ffn.in, ffn.out */
    CHECK(strcmp(errs[0].name, "group0.attn.qkv.weight") == 0);
    /* weight-spec order: every attention group, then every FFN group */
    CHECK(strcmp(errs[1].name, "group0.attn.out.weight") == 0);
    CHECK(strcmp(errs[6].name, "group0.ffn.in.weight") == 0);
    CHECK(strcmp(errs[11].name, "group2.ffn.out.weight") == 0);
    CHECK(errs[11].k == 40 && errs[11].n == 16);
    CHECK(errs[0].k == 16 && errs[0].n == 48);
    double worst = 0, worst_frob = 0;
    for (size_t i = 0; i < n && i < 32; i++) {
        worst = fmax(worst, errs[i].max_rel);
        worst_frob = fmax(worst_frob, errs[i].frob_rel);
    }
    CHECK_MSG(worst <= (1.0 / 254.0) * (1 + 1e-5), "max_rel %g above half a step", worst);
    CHECK(worst_frob > 0 && worst_frob < 0.02);
    printf("weight error: %zu matrices, worst max_rel %.5f (bound %.5f), worst "
           "frob_rel %.5f\n", n, worst, 1.0 / 254.0, worst_frob);
    /* counting only */
    size_t n2 = 0;
    CHECK(quantize_encoder_weight_errors(e, NULL, 0, &n2, &d) == IR_OK);
    CHECK(n2 == 12);
    ir_encoder_free(e);

    /* shared: one group, so 4 matrices */
    e = random_encoder(IR_ENC_SHARE_ALL, 12);
    CHECK(quantize_encoder_weight_errors(e, errs, 32, &n, &d) == IR_OK);
    CHECK(n == 4);
    ir_encoder_free(e);

    CHECK(quantize_weight_error(NULL, 2, 2, &r, &d) == IR_ERR_INPUT);
    CHECK(quantize_weight_error(w, 0, 2, &r, &d) == IR_ERR_INPUT);
    CHECK(quantize_weight_error(w, 2, -1, &r, &d) == IR_ERR_INPUT);
    CHECK(quantize_encoder_weight_errors(NULL, errs, 32, &n, &d) == IR_ERR_INPUT);
    CHECK(strcmp(rt_site_name(RT_SITE_FFN_OUT), "ffn_out") == 0);
}

/* rt int8 (dynamic and calibrated static) against rt fp32. */
static void test_rt_int8(void)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config c;
    small_config(&c, IR_ENC_SHARE_NONE);
    c.hidden = 64; c.heads = 4; c.ffn = 128; c.layers = 2; c.vocab = 100;
    c.max_positions = 32; c.labels = 3;
    CHECK(ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, &d) == IR_OK);
    ir_encoder *e = NULL;
    CHECK_MSG(ir_encoder_new(&c, &e, &d) == IR_OK, "%s", d.msg);
    if (!e)
        return;
    ir_encoder_init_opts o;
    ir_encoder_init_opts_default(&o);
    o.seed = 5;
    o.std = 0.1f;
    o.bias_std = 0.05f;
    ir_encoder_init_random(e, &o);
    enum { B = 4, T = 16 };
    int32_t ids[B * T], types[B * T], mask[B * T];
    int64_t ids64[B * T], types64[B * T], mask64[B * T];
    for (int i = 0; i < B * T; i++) {
        ids[i] = (i * 37 + 11) % 100;
        types[i] = (i % T) >= T / 2;
        mask[i] = (i % T) < T - 3 * (i / T);
        ids64[i] = ids[i];
        types64[i] = types[i];
        mask64[i] = mask[i];
    }
    float scales[IR_ENCODER_MAX_LAYERS * 4] = {0};
    CHECK(calib_batch(e, ids, types, mask, B, T, scales, &d) == IR_OK);
    rt_weights w;
    CHECK(rt_weights_from_encoder(e, &w, &d) == IR_OK);
    float logits[3][B * 3];
    const char *names[3] = {"fp32", "int8 dynamic", "int8 static"};
    int ran = 0;
    for (int k = 0; k < 3; k++) {
        rt_options ro;
        rt_options_default(&ro);
        ro.precision = k ? IR_PRECISION_INT8 : IR_PRECISION_FP32;
        w.act_scales = k == 2 ? scales : NULL;
        rt_config rc;
        CHECK(rt_config_from_encoder(&e->cfg, &rc, &d) == IR_OK);
        rt_model *m = NULL;
        ir_status s = rt_model_create(&rc, &w, &ro, &m, &d);
        /* fp32 and int8 run on every x86-64 CPU: never skipped */
        CHECK_MSG(s == IR_OK, "rt %s: %s", names[k], d.msg);
        if (s != IR_OK)
            continue;
        s = rt_model_run(m, B, T, ids64, types64, mask64, logits[k], NULL, &d);
        CHECK_MSG(s == IR_OK, "%s", d.msg);
        rt_model_free(m);
        ran |= (s == IR_OK) << k;
    }
    double lmax = 0;
    for (int i = 0; i < B * 3; i++)
        lmax = fmax(lmax, fabs(logits[0][i]));
    for (int k = 1; k < 3; k++) {
        if ((ran & 1) == 0 || (ran & (1 << k)) == 0)
            continue;
        double err = 0;
        for (int i = 0; i < B * 3; i++)
            err = fmax(err, fabs((double)logits[k][i] - logits[0][i]));
        CHECK_MSG(err <= 0.05 * lmax, "%s logits differ from fp32 by %.3g "
                  "(max |logit| %.3g)", names[k], err, lmax);
        printf("rt %s vs fp32: max |dlogit| %.3g, %.2f%% of max |logit| %.3g\n",
               names[k], err, 100 * err / lmax, lmax);
    }
    ir_encoder_free(e);
}

int main(void)
{
    test_calibration(IR_ENC_SHARE_NONE);
    test_calibration(IR_ENC_SHARE_ALL);
    test_calibration_errors();
    test_weight_error();
    test_rt_int8();
    return test_finish("test_quantize");
}

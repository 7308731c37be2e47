/* test_rt.c — the oneDNN encoder runtime (backend/rt.h) against the
 * reference interpreter running ir_encoder_to_graph's graph of the same
 * random encoder, and its taps against the trainer's forward
 * (distill/model.h).
 *
 * Tolerances: fp32 logits, hidden states and scores within 1e-4 absolute
 * (the same arithmetic in another order); bf16 logits within 0.05 of fp32
 * (8-bit mantissas on every matmul input, logits of size ~1); int8 within
 * 0.15 of fp32. Covered: plain, factorized embeddings (both kinds: the
 * word projected, and ELECTRA-small / ALBERT's projection after an E-wide
 * LayerNorm, whose graph lifts back to the same config), shared layers
 * (ALBERT-style and groups), regression head, gelu_tanh and relu, MPNet's
 * relative position bias (both directions and one, lifted back), padded
 * batches, several (B,S) in a row on one model (primitive and plan reuse,
 * growing and shrinking), the graph path (passes + lift), bad configs and
 * inputs; every fp32 linear kernel (oneDNN packed, oneDNN plain, OpenBLAS
 * with its C epilogue), forced, against the reference at the same 1e-4, and
 * the kernel the rule picks (bench's report) on this CPU level: run it also
 * with DISTILC_MAX_ISA=avx2, where the rule picks OpenBLAS. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/rt.h"
#include "backend/rt_encoder.h"
#include "backend/rt_linear.h"
#include "distill/model.h"
#include "ir/encoder.h"
#include "ir/interp.h"
#include "passes/encoder_from_onnx.h"
#include "tests/util/encoder_fixture.h"
#include "testutil.h"

static void base_config(ir_encoder_config *c)
{
    ir_encoder_config_init(c);
    c->hidden = 32;
    c->layers = 3;
    c->heads = 4;
    c->ffn = 48;
    c->vocab = 60;
    c->max_positions = 40;
    c->type_vocab = 2;
    c->labels = 3;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_share(c, IR_ENC_SHARE_NONE, 0, &d);
}

static ir_graph *lower(const ir_encoder *e)
{
    ir_encoder_graph_opts o;
    ir_encoder_graph_opts_default(&o);
    o.token_types = true;
    ir_graph *g = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (ir_encoder_to_graph(e, &o, &g, &d) != IR_OK)
        fprintf(stderr, "ir_encoder_to_graph: %s\n", d.msg);
    return g;
}

/* Runs m on x and returns the worst logit difference to the reference. */
static double rt_vs_ref(rt_model *m, ir_graph *g, const enc_inputs *x, int64_t labels)
{
    float *want = enc_interp_logits(g, x);
    float *got = calloc((size_t)(x->B * labels), sizeof *got);
    ir_diag d;
    ir_diag_init(&d);
    double worst = INFINITY;
    if (want && rt_model_run(m, x->B, x->S, x->ids->data, x->types->data,
                             x->mask->data, got, NULL, &d) == IR_OK)
        worst = enc_max_diff(got, want, x->B * labels);
    else
        fprintf(stderr, "rt_model_run: %s\n", d.msg);
    free(want);
    free(got);
    return worst;
}

/* One config through both paths (encoder -> rt, graph -> passes -> lift ->
 * rt) on several shapes, reusing the model across them. */
static void check_config(const char *name, ir_encoder_config *c, uint64_t seed)
{
    ir_encoder *e = enc_random_encoder(c, seed, 0.2f);
    ir_graph *g = e ? lower(e) : NULL;
    ir_graph *g2 = e ? lower(e) : NULL;
    CHECK_MSG(e && g && g2, "%s: encoder and graph", name);
    if (!e || !g || !g2)
        goto done;
    ir_diag d;
    ir_diag_init(&d);
    rt_options o;
    rt_options_default(&o);
    o.threads = 2;
    rt_model *m = NULL, *mg = NULL;
    ir_status s = rt_model_from_encoder(e, &o, &m, &d);
    CHECK_MSG(s == IR_OK, "%s: rt_model_from_encoder: %s", name, d.msg);
    s = rt_model_from_graph(g2, &o, &mg, NULL, &d);
    CHECK_MSG(s == IR_OK, "%s: rt_model_from_graph: %s", name, d.msg);
    /* small, larger, smaller again, the first again (cache hits) */
    static const int64_t shapes[][2] = {{1, 5}, {3, 11}, {4, 16}, {2, 7}, {1, 5}, {3, 11}};
    for (size_t i = 0; m && mg && i < sizeof shapes / sizeof shapes[0]; i++) {
        enc_inputs x = enc_inputs_make(shapes[i][0], shapes[i][1], 3, c->vocab,
                                       (unsigned)(seed + i));
        double e1 = rt_vs_ref(m, g, &x, c->labels);
        double e2 = rt_vs_ref(mg, g, &x, c->labels);
        CHECK_MSG(e1 <= 1e-4 && e2 <= 1e-4,
                  "%s B=%lld S=%lld: max |rt - ref| = %.3g (encoder), %.3g (graph); "
                  "tolerance 1e-4", name, (long long)x.B, (long long)x.S, e1, e2);
        if (i == 2)
            printf("%s: B=%lld S=%lld max |rt - ref| = %.2g\n", name,
                   (long long)x.B, (long long)x.S, e1);
        enc_inputs_free(&x);
    }
    if (m)
        CHECK(rt_model_bytes(m) > 0);
    rt_model_free(m);
    rt_model_free(mg);
done:
    ir_graph_free(g);
    ir_graph_free(g2);
    ir_encoder_free(e);
}

static void check_lift_roundtrip(const char *name, const ir_encoder_config *c);

static void test_vs_interp(void)
{
    ir_encoder_config c;
    ir_diag d;
    ir_diag_init(&d);
    base_config(&c);
    check_config("plain", &c, 1);

    base_config(&c);
    c.embed = 12;
    ir_encoder_config_share(&c, IR_ENC_SHARE_ALL, 0, &d);
    check_config("factorized+shared-all", &c, 2);

    base_config(&c);
    c.layers = 4;
    c.head = IR_ENC_HEAD_REGRESSION;
    c.labels = 1;
    c.activation = IR_ACT_GELU_TANH;
    ir_encoder_config_share(&c, IR_ENC_SHARE_GROUPS, 2, &d);
    check_config("regression+gelu_tanh+groups", &c, 3);

    base_config(&c);
    c.layers = 1; /* the only layer is also the [CLS]-only last one */
    ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, &d);
    check_config("one layer", &c, 5);

    base_config(&c);
    c.activation = IR_ACT_RELU;
    c.heads = 2;
    ir_encoder_config_share(&c, IR_ENC_SHARE_FFN, 0, &d);
    check_config("relu+shared-ffn", &c, 4);

    /* RoBERTa's positions as ir_encoder_to_graph writes them (CumSum over
     * ids != pad) and DistilBERT's relu head: the graph path also lifts
     * that form back */
    base_config(&c);
    c.positions = IR_ENC_POS_PADDED;
    c.pad_id = 1;
    c.pool_act = IR_ACT_RELU;
    check_config("padded positions+relu head", &c, 6);

    /* MPNet: its relative position bias (32 buckets, max distance 128) on
     * RoBERTa's positions; then bucketings small enough that the sequences
     * here reach their logarithmic buckets and the clamp, both ways and
     * in one direction */
    c.pool_act = IR_ACT_NONE;
    c.rel_buckets = 32;
    c.rel_max_distance = 128;
    c.rel_bidirectional = true;
    check_config("relative position bias (MPNet)", &c, 8);
    check_lift_roundtrip("relative position bias (MPNet)", &c);
    c.rel_buckets = 12;
    c.rel_max_distance = 7;
    check_config("relative position bias 12/7", &c, 9);
    c.rel_buckets = 8;
    c.rel_max_distance = 6;
    c.rel_bidirectional = false;
    check_config("relative position bias, one direction, 8/6", &c, 10);
    check_lift_roundtrip("relative position bias, one direction", &c);
}

/* The encoder's graph, through the passes and the lift, gives back the
 * config it was written from (embedding kind and sharing included). */
static void check_lift_roundtrip(const char *name, const ir_encoder_config *c)
{
    ir_encoder *e = enc_random_encoder(c, 9, 0.2f);
    ir_graph *g = e ? lower(e) : NULL;
    ir_encoder *back = NULL;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = g ? encoder_from_graph(g, NULL, &back, &d) : IR_ERR_INPUT;
    CHECK_MSG(s == IR_OK, "%s: lift: %s", name, d.msg);
    if (back) {
        CHECK_MSG(back->cfg.rel_buckets == c->rel_buckets &&
                  (c->rel_buckets == 0 ||
                   (back->cfg.rel_max_distance == c->rel_max_distance &&
                    back->cfg.rel_bidirectional == c->rel_bidirectional)),
                  "%s: lifted relative position bias %lld/%lld/%d, wrote "
                  "%lld/%lld/%d", name, (long long)back->cfg.rel_buckets,
                  (long long)back->cfg.rel_max_distance,
                  back->cfg.rel_bidirectional, (long long)c->rel_buckets,
                  (long long)c->rel_max_distance, c->rel_bidirectional);
        CHECK_MSG(back->cfg.embed_kind == c->embed_kind &&
                  back->cfg.embed == c->embed &&
                  back->cfg.n_attn_groups == c->n_attn_groups &&
                  back->cfg.n_ffn_groups == c->n_ffn_groups,
                  "%s: lifted embed %lld kind %s, groups %lld/%lld; wrote "
                  "embed %lld kind %s, groups %lld/%lld", name,
                  (long long)back->cfg.embed, ir_enc_embed_name(back->cfg.embed_kind),
                  (long long)back->cfg.n_attn_groups, (long long)back->cfg.n_ffn_groups,
                  (long long)c->embed, ir_enc_embed_name(c->embed_kind),
                  (long long)c->n_attn_groups, (long long)c->n_ffn_groups);
    }
    ir_encoder_free(back);
    ir_graph_free(g);
    ir_encoder_free(e);
}

static void test_embed_after_ln(void)
{
    ir_encoder_config c;
    ir_diag d;
    ir_diag_init(&d);
    base_config(&c);
    c.embed = 12;
    c.embed_kind = IR_ENC_EMBED_PROJECT_AFTER_LN;
    check_config("project_after_ln (ELECTRA-small)", &c, 6);
    check_lift_roundtrip("project_after_ln", &c);
    ir_encoder_config_share(&c, IR_ENC_SHARE_ALL, 0, &d);
    check_config("project_after_ln+shared-all (ALBERT)", &c, 7);
    check_lift_roundtrip("project_after_ln+shared-all", &c);
    /* A kind past the enum, or project_after_ln without E: named. */
    c.embed_kind = IR_ENC_EMBED_COUNT;
    CHECK(ir_encoder_config_validate(&c, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "embed_kind") != NULL);
    ir_diag_init(&d);
    c.embed_kind = IR_ENC_EMBED_PROJECT_AFTER_LN;
    c.embed = 0;
    CHECK(ir_encoder_config_validate(&c, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "embed_kind") != NULL);
}

/* Each fp32 kernel forced for every linear, and the rule's own pick, on a
 * model wide enough that OpenBLAS splits its columns across 2 threads and
 * whose FFN (256x2048, 2^19 weights) is as large as the rule's threshold:
 * under DISTILC_MAX_ISA=avx2 the rule mixes kernels in one model. */
static void test_kernels(void)
{
    ir_encoder_config c;
    ir_diag d;
    ir_diag_init(&d);
    base_config(&c);
    c.hidden = 256;
    c.heads = 4;
    c.ffn = 2048;
    c.embed = 24;
    ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, &d);
    ir_encoder *e = enc_random_encoder(&c, 11, 0.1f); /* wider: smaller weights */
    ir_graph *g = e ? lower(e) : NULL;
    CHECK_MSG(e && g, "kernels: encoder and graph");
    static const rt_kernel kerns[] = {RT_KERNEL_AUTO, RT_KERNEL_ONEDNN_PACKED,
                                      RT_KERNEL_ONEDNN_PLAIN, RT_KERNEL_OPENBLAS};
    for (size_t k = 0; e && g && k < sizeof kerns / sizeof *kerns; k++) {
        rt_options o;
        rt_options_default(&o);
        o.threads = 2;
        o.kernel = kerns[k];
        rt_model *m = NULL;
        ir_status s = rt_model_from_encoder(e, &o, &m, &d);
        CHECK_MSG(s == IR_OK, "kernel %s: %s", rt_kernel_name(kerns[k]), d.msg);
        if (s != IR_OK)
            continue;
        char used[256];
        rt_model_kernels(m, used, sizeof used);
        /* proj, 3 layers x (qkv, out, ffn in, ffn out), pooler, head: the
         * kernels in order of first use with their counts */
        int64_t H = c.hidden, F = c.ffn;
        int64_t kn[][2] = {{c.embed, H}, {H, 3 * H}, {H, H}, {H, F}, {F, H},
                           {H, H}, {H, c.labels}};
        int count[RT_KERNEL_COUNT] = {0};
        rt_kernel order[RT_KERNEL_COUNT];
        int n_order = 0;
        for (int i = 0; i < 7; i++) {
            rt_kernel want = kerns[k] != RT_KERNEL_AUTO ? kerns[k]
                : rt_kernel_rule(cpu_level_get(), IR_PRECISION_FP32, kn[i][0], kn[i][1]);
            if (!count[want])
                order[n_order++] = want;
            count[want] += i >= 1 && i <= 4 ? 3 : 1;
        }
        char expect[128];
        size_t at = 0;
        for (int i = 0; i < n_order; i++)
            at += (size_t)snprintf(expect + at, sizeof expect - at, "%s%s x%d",
                                  i ? ", " : "", rt_kernel_name(order[i]),
                                  count[order[i]]);
        CHECK_MSG(strcmp(used, expect) == 0, "kernel %s: model reports '%s', "
                  "expected '%s'", rt_kernel_name(kerns[k]), used, expect);
        double worst = 0;
        for (int i = 0; i < 3; i++) {
            enc_inputs x = enc_inputs_make(1 + i, 9 + 7 * i, 3, c.vocab,
                                           (unsigned)(40 + i));
            double err = rt_vs_ref(m, g, &x, c.labels);
            worst = err > worst || !(err == err) ? err : worst;
            enc_inputs_free(&x);
        }
        printf("kernel %s (%s): max |rt - ref| = %.2g (tolerance 1e-4)\n",
               rt_kernel_name(kerns[k]), used, worst);
        CHECK_MSG(worst <= 1e-4, "kernel %s: max |rt - ref| = %.3g",
                  rt_kernel_name(kerns[k]), worst);
        rt_model_free(m);
    }
    ir_graph_free(g);
    ir_encoder_free(e);
}

/* hidden[l] and pre-mask scores[l] against train_forward on the same
 * weights (the trainer's params laid out as rt_weights). */
static void test_taps(void)
{
    ir_encoder_config c;
    base_config(&c);
    ir_diag d;
    ir_diag_init(&d);
    train_params *p = NULL;
    if (train_params_new(&c, &p, &d) != IR_OK) {
        CHECK_MSG(0, "train_params_new: %s", d.msg);
        return;
    }
    train_params_init_random(p, 7, 0.2f);
    const int64_t B = 3, S = 9, H = c.hidden, A = c.heads;
    train_acts *a = NULL;
    CHECK(train_acts_new(&c, B, S, &a, &d) == IR_OK);
    enc_inputs x = enc_inputs_make(B, S, 3, c.vocab, 5);
    int32_t ids[27], types[27], mask[27];
    for (int i = 0; i < B * S; i++) {
        ids[i] = (int32_t)((int64_t *)x.ids->data)[i];
        types[i] = (int32_t)((int64_t *)x.types->data)[i];
        mask[i] = (int32_t)((int64_t *)x.mask->data)[i];
    }
    CHECK(a && train_forward(p, a, ids, types, mask, &d) == IR_OK);

    rt_config rc;
    CHECK(rt_config_from_encoder(&c, &rc, &d) == IR_OK);
    rt_weights w;
    memset(&w, 0, sizeof w);
    const train_weights *tw = &p->w;
    w.word = tw->word; w.proj = tw->proj; w.pos = tw->pos; w.type = tw->type;
    w.eln_g = tw->eln_g; w.eln_b = tw->eln_b;
    for (int64_t g = 0; g < c.n_attn_groups; g++)
        w.attn[g] = (rt_attn_weights){tw->attn[g].qkv_w, tw->attn[g].qkv_b,
                                      tw->attn[g].out_w, tw->attn[g].out_b,
                                      tw->attn[g].ln_g, tw->attn[g].ln_b};
    for (int64_t g = 0; g < c.n_ffn_groups; g++)
        w.ffn[g] = (rt_ffn_weights){tw->ffn[g].in_w, tw->ffn[g].in_b,
                                    tw->ffn[g].out_w, tw->ffn[g].out_b,
                                    tw->ffn[g].ln_g, tw->ffn[g].ln_b};
    w.pool_w = tw->pool_w; w.pool_b = tw->pool_b;
    w.head_w = tw->head_w; w.head_b = tw->head_b;
    rt_model *m = NULL;
    CHECK_MSG(rt_model_create(&rc, &w, NULL, &m, &d) == IR_OK, "create: %s", d.msg);
    rt_taps taps;
    memset(&taps, 0, sizeof taps);
    float *hid = calloc((size_t)((c.layers + 1) * B * S * H), sizeof(float));
    float *sco = calloc((size_t)(c.layers * B * A * S * S), sizeof(float));
    for (int64_t l = 0; l <= c.layers; l++)
        taps.hidden[l] = hid + l * B * S * H;
    for (int64_t l = 0; l < c.layers; l++)
        taps.scores[l] = sco + l * B * A * S * S;
    float logits[9];
    ir_status s = m ? rt_model_run(m, B, S, x.ids->data, x.types->data,
                                   x.mask->data, logits, &taps, &d)
                    : IR_ERR_FAILED;
    CHECK_MSG(s == IR_OK, "run with taps: %s", d.msg);
    if (s == IR_OK && a) {
        double wh = 0, ws = 0;
        for (int64_t l = 0; l <= c.layers; l++) {
            double v = enc_max_diff(taps.hidden[l], a->hidden[l], B * S * H);
            wh = v > wh || isnan(v) ? v : wh;
        }
        for (int64_t l = 0; l < c.layers; l++) {
            double v = enc_max_diff(taps.scores[l], a->scores[l], B * A * S * S);
            ws = v > ws || isnan(v) ? v : ws;
        }
        double wl = enc_max_diff(logits, a->logits, B * c.labels);
        printf("taps: max |rt - trainer| hidden %.2g, scores %.2g, logits %.2g\n",
               wh, ws, wl);
        CHECK_MSG(wh <= 1e-4 && ws <= 1e-4 && wl <= 1e-4,
                  "taps vs train_forward: hidden %.3g scores %.3g logits %.3g "
                  "(tolerance 1e-4)", wh, ws, wl);
        /* The taps must not change the result: without them the last layer
         * runs for the [CLS] rows only (rt.c), with them whole. */
        float again[9];
        CHECK(rt_model_run(m, B, S, x.ids->data, x.types->data, x.mask->data,
                           again, NULL, &d) == IR_OK);
        CHECK(enc_max_diff(again, logits, B * c.labels) <= 1e-5);
    }
    free(hid);
    free(sco);
    rt_model_free(m);
    enc_inputs_free(&x);
    train_acts_free(a);
    train_params_free(p);
}

/* bf16 and int8 against fp32 on the same inputs. */
static void test_precisions(void)
{
    ir_encoder_config c;
    base_config(&c);
    c.hidden = 64;
    c.ffn = 128;
    ir_encoder *e = enc_random_encoder(&c, 11, 0.2f);
    if (!e) {
        CHECK(0);
        return;
    }
    ir_diag d;
    ir_diag_init(&d);
    rt_model *m32 = NULL;
    CHECK(rt_model_from_encoder(e, NULL, &m32, &d) == IR_OK);
    enc_inputs x = enc_inputs_make(4, 20, 3, c.vocab, 3);
    float ref[12], got[12];
    CHECK(m32 && rt_model_run(m32, 4, 20, x.ids->data, x.types->data,
                              x.mask->data, ref, NULL, &d) == IR_OK);
    static const struct { ir_precision p; double tol; } cases[] = {
        {IR_PRECISION_BF16, 0.05}, {IR_PRECISION_INT8, 0.15}};
    for (size_t i = 0; i < 2; i++) {
        /* bf16 is the ctest case test_rt.bf16; int8 runs on every CPU */
        const int bf16 = cases[i].p == IR_PRECISION_BF16;
        if (!test_part(bf16 ? "bf16" : "all-but-bf16"))
            continue;
        rt_options o;
        rt_options_default(&o);
        o.precision = cases[i].p;
        rt_model *m = NULL;
        ir_diag_init(&d);
        ir_status s = rt_model_from_encoder(e, &o, &m, &d);
        const char *pn = ir_precision_name(cases[i].p);
        if (bf16 && s == IR_ERR_UNSUPPORTED) {
            /* the clear refusal, then the skip */
            CHECK_MSG(strstr(d.msg, "bf16 needs a CPU") != NULL, "%s", d.msg);
            test_skip("bf16: %s", d.msg);
            continue;
        }
        CHECK_MSG(s == IR_OK, "%s create: %s", pn, d.msg);
        if (s != IR_OK)
            continue;
        s = rt_model_run(m, 4, 20, x.ids->data, x.types->data, x.mask->data, got,
                         NULL, &d);
        CHECK_MSG(s == IR_OK, "%s run: %s", pn, d.msg);
        double err = enc_max_diff(got, ref, 12);
        printf("%s: max |logit - fp32| = %.3g (tolerance %.2g)\n", pn, err, cases[i].tol);
        CHECK_MSG(err <= cases[i].tol, "%s error %.3g > %.2g", pn, err, cases[i].tol);
        rt_model_free(m);
    }
    /* int8 with static (calibrated) input scales: one linear per layer. The
     * scales here are a generous absmax of 12 for every input, so the
     * tolerance is looser (0.3). */
    rt_config rc;
    rt_weights w;
    float scales[4 * 3];
    for (int i = 0; i < 12; i++)
        scales[i] = 12.0f / 127.0f;
    rt_options o;
    rt_options_default(&o);
    o.precision = IR_PRECISION_INT8;
    rt_model *m8 = NULL;
    CHECK(rt_config_from_encoder(&c, &rc, &d) == IR_OK);
    CHECK(rt_weights_from_encoder(e, &w, &d) == IR_OK);
    w.act_scales = scales;
    ir_status s = rt_model_create(&rc, &w, &o, &m8, &d);
    if (s == IR_OK) {
        s = rt_model_run(m8, 4, 20, x.ids->data, x.types->data, x.mask->data, got,
                         NULL, &d);
        CHECK_MSG(s == IR_OK, "int8 static run: %s", d.msg);
        double err = enc_max_diff(got, ref, 12);
        printf("int8 static scales: max |logit - fp32| = %.3g (tolerance 0.3)\n", err);
        CHECK(err <= 0.3);
    } else {
        CHECK_MSG(s == IR_ERR_UNSUPPORTED, "int8 static create: %s", d.msg);
    }
    rt_model_free(m8);
    rt_model_free(m32);
    enc_inputs_free(&x);
    ir_encoder_free(e);
}

/* A bad config field or input must be IR_ERR_INPUT naming it. */
static void expect_bad(const rt_config *c, const rt_weights *w, const char *needle)
{
    ir_diag d;
    ir_diag_init(&d);
    rt_model *m = NULL;
    ir_status s = rt_model_create(c, w, NULL, &m, &d);
    CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, needle),
              "want IR_ERR_INPUT naming '%s', got %s: %s", needle,
              ir_status_name(s), d.msg);
    CHECK(m == NULL);
}

static void test_errors(void)
{
    ir_encoder_config ec;
    base_config(&ec);
    ir_encoder *e = enc_random_encoder(&ec, 9, 0.2f);
    if (!e) {
        CHECK(0);
        return;
    }
    ir_diag d;
    ir_diag_init(&d);
    rt_config c, bad;
    rt_weights w;
    CHECK(rt_config_from_encoder(&ec, &c, &d) == IR_OK);
    CHECK(rt_weights_from_encoder(e, &w, &d) == IR_OK);
    bad = c; bad.heads = 5;             expect_bad(&bad, &w, "config.heads");
    bad = c; bad.layers = 0;            expect_bad(&bad, &w, "config.layers");
    bad = c; bad.attn_group[1] = 7;     expect_bad(&bad, &w, "config.attn_group[1]");
    bad = c; bad.regression = 1;        expect_bad(&bad, &w, "config.labels");
    bad = c; bad.embed = 8;             expect_bad(&bad, &w, "proj");
    bad = c; bad.embed_after_ln = 1;    expect_bad(&bad, &w, "embed_after_ln");
    rt_weights bw = w; bw.ffn[2].in_w = NULL; expect_bad(&c, &bw, "ffn[2].in_w");
    rt_options o;
    rt_options_default(&o);
    o.threads = -1;
    rt_model *m = NULL;
    CHECK(rt_model_create(&c, &w, &o, &m, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "threads"));
    rt_options_default(&o);
    o.kernel = RT_KERNEL_ONEDNN_INT8; /* int8 is a precision, not an fp32 kernel */
    CHECK(rt_model_create(&c, &w, &o, &m, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "options.kernel"));

    CHECK(rt_model_create(&c, &w, NULL, &m, &d) == IR_OK);
    enc_inputs x = enc_inputs_make(2, 6, 3, ec.vocab, 1);
    float logits[6];
    ((int64_t *)x.ids->data)[7] = ec.vocab; /* row 1, position 1 */
    ir_status s = rt_model_run(m, 2, 6, x.ids->data, NULL, NULL, logits, NULL, &d);
    CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, "input_ids[1][1]"), "%s", d.msg);
    ((int64_t *)x.ids->data)[7] = 1;
    ((int64_t *)x.types->data)[2] = 2;
    s = rt_model_run(m, 2, 6, x.ids->data, x.types->data, NULL, logits, NULL, &d);
    CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, "token_type_ids[0][2]"), "%s", d.msg);
    ((int64_t *)x.types->data)[2] = 0;
    /* A mask other than 0/1 would make (1 - mask) * fill inf or NaN. */
    int64_t *mk = x.mask->data;
    for (int v = -3; v <= 7; v += 10) {
        int64_t keep = mk[9];
        mk[9] = v; /* row 1, position 3 */
        s = rt_model_run(m, 2, 6, x.ids->data, x.types->data, mk, logits, NULL, &d);
        CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, "attention_mask[1][3]") &&
                  strstr(d.msg, "must be 0 (padding) or 1"), "%s", d.msg);
        mk[9] = keep;
    }
    s = rt_model_run(m, 1, ec.max_positions + 1, x.ids->data, NULL, NULL, logits,
                     NULL, &d);
    CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, "max_positions"), "%s", d.msg);
    /* Still usable after errors; NULL types and mask mean 0 and no padding. */
    CHECK(rt_model_run(m, 1, 6, x.ids->data, NULL, NULL, logits, NULL, &d) == IR_OK);
    rt_model_free(m);
    enc_inputs_free(&x);

    ir_precision p;
    CHECK(ir_precision_parse("bf16", &p) && p == IR_PRECISION_BF16);
    CHECK(!ir_precision_parse("fp16", &p));
    CHECK(strcmp(ir_precision_name(IR_PRECISION_INT8), "int8") == 0);
    ir_encoder_free(e);
}

int main(void)
{
    test_vs_interp();
    test_embed_after_ln();
    test_taps();
    test_precisions();
    test_kernels();
    test_errors();
    return test_finish("test_rt");
}

/* test_encoder.c — ir/encoder: config validation (each error names its
 * field), the weight table and parameter counts (BERT-base's known count),
 * deterministic random init, lowering to a graph that the reference
 * interpreter runs on padded batches (padding must not change a row's
 * logits; opset 14 and 17 graphs agree; no token_type_ids input equals
 * all-zero types), and ALBERT-style sharing (fewer parameters, one constant
 * read by several layers).
 *
 * Lifting: encoder -> graph -> passes "default,fuse" -> ir_encoder_lift
 * gives back the same config (sharing map included, MPNet's relative
 * position bias too) and bitwise-equal weights, and a graph that breaks
 * the pattern (a layer, or the bias's bucketing) is refused naming the
 * layer and node.
 *
 * With `--lift DIR` (DIR = a tests/util/bert_export.py output) it lifts the
 * torch-exported model, lowers the encoder again and checks its logits
 * against PyTorch's (1e-4); tests/ir/test_encoder_torch.py drives it.
 *
 * With `--export DIR` it instead writes a few encoders as ONNX files with
 * inputs and the interpreter's logits, for tests/ir/test_encoder_torch.py
 * to compare against PyTorch and ONNX Runtime.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "ir/encoder.h"
#include "ir/interp.h"
#include "passes/encoder_from_onnx.h"
#include "passes/encoder_lift.h"
#include "passes/fuse.h"
#include "tests/util/encoder_fixture.h"
#include "testutil.h"

/* A small config used throughout: 2 layers, hidden 16, 4 heads. */
static void small_config(ir_encoder_config *c)
{
    ir_encoder_config_init(c);
    c->hidden = 16;
    c->layers = 2;
    c->heads = 4;
    c->ffn = 32;
    c->vocab = 50;
    c->max_positions = 24;
    c->type_vocab = 2;
    c->labels = 3;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_share(c, IR_ENC_SHARE_NONE, 0, &d);
}

/* ---- config validation -------------------------------------------------- */

static void expect_invalid(const ir_encoder_config *c, const char *field)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = ir_encoder_config_validate(c, &d);
    CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, field),
              "expected IR_ERR_INPUT naming '%s', got %s: %s", field,
              ir_status_name(s), d.msg);
}

static void test_validation(void)
{
    ir_encoder_config c;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_init(&c);
    CHECK(ir_encoder_config_validate(&c, &d) == IR_OK);

    small_config(&c); c.heads = 5;
    expect_invalid(&c, "config.heads");
    small_config(&c); c.hidden = 0;
    expect_invalid(&c, "config.hidden");
    small_config(&c); c.layers = 0;
    expect_invalid(&c, "config.layers");
    small_config(&c); c.layers = IR_ENCODER_MAX_LAYERS + 1;
    expect_invalid(&c, "config.layers");
    small_config(&c); c.ffn = -3;
    expect_invalid(&c, "config.ffn");
    small_config(&c); c.embed = -1;
    expect_invalid(&c, "config.embed");
    small_config(&c); c.ln_eps = 0.0f;
    expect_invalid(&c, "config.ln_eps");
    small_config(&c); c.head = IR_ENC_HEAD_REGRESSION;
    expect_invalid(&c, "config.labels");
    small_config(&c); c.activation = IR_ACT_COUNT;
    expect_invalid(&c, "config.activation");
    small_config(&c); c.attn_group[1] = 2;
    expect_invalid(&c, "config.attn_group[1]");
    small_config(&c); c.n_ffn_groups = 2; c.ffn_group[1] = 0;
    expect_invalid(&c, "config.ffn_group: group 1 is used by no layer");

    small_config(&c);
    CHECK(ir_encoder_config_share(&c, IR_ENC_SHARE_GROUPS, 0, &d) ==
          IR_ERR_INPUT);
    CHECK(strstr(d.msg, "groups:0") != NULL);

    /* ir_encoder_new refuses a bad config with the same message. */
    small_config(&c); c.heads = 3;
    ir_encoder *e = (ir_encoder *)1;
    CHECK(ir_encoder_new(&c, &e, &d) == IR_ERR_INPUT && e == NULL);
    CHECK(strstr(d.msg, "config.heads = 3") != NULL);

    ir_act a;
    ir_enc_head h;
    CHECK(ir_act_parse("gelu_tanh", &a) && a == IR_ACT_GELU_TANH);
    CHECK(!ir_act_parse("swish", &a));
    CHECK(ir_enc_head_parse("regression", &h) && h == IR_ENC_HEAD_REGRESSION);
}

/* ---- weights and counts --------------------------------------------------- */

static void test_weights(void)
{
    ir_encoder_config c;
    ir_encoder_config_init(&c);
    /* Hugging Face BertForSequenceClassification (bert-base, 2 labels). */
    CHECK(ir_encoder_config_param_count(&c) == 109483778);

    small_config(&c);
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder *e = NULL;
    CHECK(ir_encoder_new(&c, &e, &d) == IR_OK);
    CHECK(e->n_weights == 5 + 2 * 6 + 2 * 6 + 4);
    CHECK(ir_encoder_param_count(e) == ir_encoder_config_param_count(&c));
    CHECK(ir_encoder_check(e, &d) == IR_OK);
    ir_tensor *qkv = ir_encoder_find(e, "group1.attn.qkv.weight");
    CHECK(qkv && qkv->rank == 2 && qkv->dims[0] == 16 && qkv->dims[1] == 48);
    ir_tensor *fo = ir_encoder_find(e, "group0.ffn.out.weight");
    CHECK(fo && fo->dims[0] == 32 && fo->dims[1] == 16);
    CHECK(ir_encoder_find(e, "embeddings.proj") == NULL);
    CHECK(ir_encoder_find(e, "group2.attn.qkv.weight") == NULL);

    /* Defaults: N(0, 0.02) matrices, zero biases, LayerNorm 1 / 0. */
    ir_encoder_init_random(e, NULL);
    const float *g = ir_encoder_find(e, "group0.attn.ln.gamma")->data;
    const float *bb = ir_encoder_find(e, "group0.ffn.in.bias")->data;
    CHECK(g[0] == 1.0f && g[15] == 1.0f && bb[0] == 0.0f);
    ir_tensor *word = ir_encoder_find(e, "embeddings.word");
    double s2 = 0;
    int64_t n = ir_tensor_numel(word);
    for (int64_t i = 0; i < n; i++)
        s2 += (double)((float *)word->data)[i] * ((float *)word->data)[i];
    double sd = sqrt(s2 / (double)n);
    CHECK_MSG(fabs(sd - 0.02) < 0.002, "word embedding std %g", sd);

    /* Deterministic in the seed. */
    ir_encoder *e2 = enc_random_encoder(&c, 7, 0.3f);
    ir_encoder *e3 = enc_random_encoder(&c, 7, 0.3f);
    ir_encoder *e4 = enc_random_encoder(&c, 8, 0.3f);
    bool same = true, differ = false;
    for (size_t i = 0; i < e2->n_weights; i++) {
        same &= memcmp(e2->weights[i].t->data, e3->weights[i].t->data,
                       e2->weights[i].t->nbytes) == 0;
        differ |= memcmp(e2->weights[i].t->data, e4->weights[i].t->data,
                         e2->weights[i].t->nbytes) != 0;
    }
    CHECK(same && differ);

    /* A wrong shape is caught by ir_encoder_check, naming the weight. */
    int64_t bad[1] = {5};
    ir_tensor_free(e2->weights[3].t);
    e2->weights[3].t = ir_tensor_new(IR_DT_F32, 1, bad);
    CHECK(ir_encoder_check(e2, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, e2->weights[3].name) != NULL);

    /* Factorized embeddings: V x E and E x H instead of V x H. */
    c.embed = 8;
    ir_encoder *ef = NULL;
    CHECK(ir_encoder_new(&c, &ef, &d) == IR_OK);
    ir_tensor *proj = ir_encoder_find(ef, "embeddings.proj");
    CHECK(proj && proj->dims[0] == 8 && proj->dims[1] == 16);
    CHECK(ir_encoder_find(ef, "embeddings.word")->dims[1] == 8);
    CHECK(ir_encoder_param_count(ef) ==
          ir_encoder_param_count(e) - 50 * 16 + 50 * 8 + 8 * 16);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ir_encoder_describe(ef, f);
    fclose(f);
    CHECK(strstr(text, "2 layers, hidden 16, 4 heads") != NULL);
    CHECK(strstr(text, "factorized 8 -> 16") != NULL);
    free(text);

    ir_encoder_free(e);
    ir_encoder_free(e2);
    ir_encoder_free(e3);
    ir_encoder_free(e4);
    ir_encoder_free(ef);
}

/* ---- running the graph -------------------------------------------------- */

static ir_graph *lower(const ir_encoder *e, int64_t opset, bool types,
                       ir_enc_mask mask)
{
    ir_encoder_graph_opts o;
    ir_encoder_graph_opts_default(&o);
    o.opset = opset;
    o.token_types = types;
    o.mask = mask;
    ir_graph *g = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (ir_encoder_to_graph(e, &o, &g, &d) != IR_OK)
        fprintf(stderr, "ir_encoder_to_graph: %s\n", d.msg);
    return g;
}

/* Every row of the padded batch must equal that row run alone, unpadded:
 * the mask really hides the padding. */
static void check_padding(ir_graph *g, const ir_encoder *e, const enc_inputs *x,
                          const float *logits, const char *what)
{
    int64_t labels = e->cfg.labels;
    double worst = 0;
    for (int64_t r = 0; r < x->B; r++) {
        int64_t len = enc_inputs_len(x->S, 2, r);
        enc_inputs one = {1, len, NULL, NULL, NULL};
        int64_t dims[2] = {1, len};
        one.ids = ir_tensor_new(IR_DT_I64, 2, dims);
        one.mask = ir_tensor_new(IR_DT_I64, 2, dims);
        one.types = ir_tensor_new(IR_DT_I64, 2, dims);
        for (int64_t j = 0; j < len; j++) {
            ((int64_t *)one.ids->data)[j] = ((int64_t *)x->ids->data)[r * x->S + j];
            ((int64_t *)one.mask->data)[j] = 1;
            ((int64_t *)one.types->data)[j] = ((int64_t *)x->types->data)[r * x->S + j];
        }
        float *l1 = enc_interp_logits(g, &one);
        CHECK(l1 != NULL);
        if (l1) {
            double m = enc_max_diff(l1, logits + r * labels, labels);
            if (!(m <= worst))
                worst = m;
        }
        free(l1);
        enc_inputs_free(&one);
    }
    CHECK_MSG(worst <= 1e-5, "%s: padded vs unpadded rows differ by %g",
              what, worst);
}

static void test_graph(void)
{
    ir_encoder_config c;
    small_config(&c);
    ir_encoder *e = enc_random_encoder(&c, 1, 0.3f);
    enc_inputs x = enc_inputs_make(3, 9, 2, c.vocab, 5);

    ir_graph *g17 = lower(e, 17, true, IR_ENC_MASK_FINFO_MIN);
    ir_graph *g14 = lower(e, 14, true, IR_ENC_MASK_FINFO_MIN);
    ir_graph *g10k = lower(e, 17, true, IR_ENC_MASK_10000);
    CHECK(g17 && g14 && g10k);
    if (!g17 || !g14 || !g10k)
        return;
    CHECK(g17->n_inputs == 3 && strcmp(g17->inputs[2]->name, "token_type_ids") == 0);
    CHECK(g17->n_outputs == 1 && strcmp(g17->outputs[0]->name, "logits") == 0);
    /* The graph holds exactly the encoder's weights as f32 constants. */
    int64_t f32_params = 0;
    for (int i = 0; i < g17->n_values; i++) {
        const ir_value *v = g17->values[i];
        if (v->constant && v->constant->dtype == IR_DT_F32 && v->constant->rank > 0)
            f32_params += ir_tensor_numel(v->constant);
    }
    CHECK_MSG(f32_params == ir_encoder_param_count(e), "graph %lld, encoder %lld",
              (long long)f32_params, (long long)ir_encoder_param_count(e));

    float *l17 = enc_interp_logits(g17, &x), *l14 = enc_interp_logits(g14, &x);
    float *l10k = enc_interp_logits(g10k, &x);
    CHECK(l17 && l14 && l10k);
    if (l17 && l14 && l10k) {
        bool finite = true, varied = false;
        for (int i = 0; i < 3 * 3; i++) {
            finite &= isfinite(l17[i]) != 0;
            varied |= l17[i] != l17[0];
        }
        CHECK(finite && varied);
        double m = enc_max_diff(l17, l14, 9);
        CHECK_MSG(m <= 1e-5, "opset 17 vs 14 differ by %g", m);
        m = enc_max_diff(l17, l10k, 9);
        CHECK_MSG(m <= 1e-5, "finfo.min vs -10000 masks differ by %g", m);
        check_padding(g17, e, &x, l17, "opset 17");
        check_padding(g14, e, &x, l14, "opset 14");
    }

    /* Without token_type_ids: the same as all-zero types. */
    ir_graph *gnt = lower(e, 17, false, IR_ENC_MASK_FINFO_MIN);
    CHECK(gnt && gnt->n_inputs == 2);
    if (gnt) {
        memset(x.types->data, 0, x.types->nbytes);
        float *a = enc_interp_logits(g17, &x), *b = enc_interp_logits(gnt, &x);
        CHECK(a && b && enc_max_diff(a, b, 9) <= 1e-6);
        free(a);
        free(b);
    }

    /* The graph survives an ONNX round trip with the same logits. */
    void *buf = NULL;
    size_t len = 0;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = onnx_save_buffer(g17, &buf, &len, &d);
    CHECK_MSG(s == IR_OK, "onnx_save_buffer: %s", d.msg);
    if (s == IR_OK) {
        ir_graph *back = NULL;
        s = onnx_load_buffer(buf, len, NULL, NULL, &back, &d);
        CHECK_MSG(s == IR_OK, "onnx_load_buffer: %s", d.msg);
        if (s == IR_OK) {
            float *a = enc_interp_logits(g17, &x), *b = enc_interp_logits(back, &x);
            CHECK(a && b && enc_max_diff(a, b, 9) == 0.0);
            free(a);
            free(b);
            ir_graph_free(back);
        }
        free(buf);
    }

    /* Bad options are refused. */
    ir_encoder_graph_opts o;
    ir_encoder_graph_opts_default(&o);
    o.opset = 11;
    ir_graph *bad = (ir_graph *)1;
    CHECK(ir_encoder_to_graph(e, &o, &bad, &d) == IR_ERR_UNSUPPORTED && !bad);
    CHECK(strstr(d.msg, "opset 11") != NULL);

    free(l17);
    free(l14);
    free(l10k);
    ir_graph_free(g17);
    ir_graph_free(g14);
    ir_graph_free(g10k);
    ir_graph_free(gnt);
    enc_inputs_free(&x);
    ir_encoder_free(e);
}

/* The value read as input `slot` of the node named `name`, or NULL. */
static const ir_value *node_input(const ir_graph *g, const char *name, int slot)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i]->name, name) == 0)
            return g->nodes[i]->inputs[slot];
    return NULL;
}

static void test_sharing(void)
{
    ir_encoder_config c;
    small_config(&c);
    c.layers = 4;
    ir_diag d;
    ir_diag_init(&d);
    CHECK(ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, &d) == IR_OK);
    int64_t full = ir_encoder_config_param_count(&c);
    int64_t H = 16, F = 32;
    int64_t attn = H * 3 * H + 3 * H + H * H + H + 2 * H;
    int64_t ffn = H * F + F + F * H + H + 2 * H;

    struct { ir_enc_share s; int64_t k, na, nf; } cases[] = {
        {IR_ENC_SHARE_ALL, 0, 1, 1},
        {IR_ENC_SHARE_GROUPS, 2, 2, 2},
        {IR_ENC_SHARE_GROUPS, 3, 2, 2},
        {IR_ENC_SHARE_ATTENTION, 0, 1, 4},
        {IR_ENC_SHARE_FFN, 0, 4, 1},
    };
    enc_inputs x = enc_inputs_make(2, 6, 2, c.vocab, 11);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ir_encoder_config sc = c;
        CHECK(ir_encoder_config_share(&sc, cases[i].s, cases[i].k, &d) == IR_OK);
        CHECK(sc.n_attn_groups == cases[i].na && sc.n_ffn_groups == cases[i].nf);
        CHECK(ir_encoder_config_validate(&sc, &d) == IR_OK);
        int64_t want = full - (4 - cases[i].na) * attn - (4 - cases[i].nf) * ffn;
        CHECK_MSG(ir_encoder_config_param_count(&sc) == want,
                  "case %zu: %lld params, expected %lld", i,
                  (long long)ir_encoder_config_param_count(&sc), (long long)want);

        ir_encoder *e = enc_random_encoder(&sc, 3, 0.3f);
        ir_graph *g = lower(e, 17, true, IR_ENC_MASK_FINFO_MIN);
        CHECK(g != NULL);
        if (!g) {
            ir_encoder_free(e);
            continue;
        }
        /* Layers of one group read the very same constant value. */
        const ir_value *q0 = node_input(g, "layer0.attn.q.matmul", 1);
        const ir_value *q3 = node_input(g, "layer3.attn.q.matmul", 1);
        const ir_value *f0 = node_input(g, "layer0.ffn.in.matmul", 1);
        const ir_value *f1 = node_input(g, "layer1.ffn.in.matmul", 1);
        CHECK(q0 && q3 && f0 && f1);
        CHECK((q0 == q3) == (sc.attn_group[0] == sc.attn_group[3]));
        CHECK((f0 == f1) == (sc.ffn_group[0] == sc.ffn_group[1]));
        int64_t count = 0, bytes = 0;
        ir_graph_param_stats(g, &count, &bytes);
        CHECK(count >= want && count < want + 200); /* + index buffers */
        float *l = enc_interp_logits(g, &x);
        CHECK(l && isfinite(l[0]));
        if (l)
            check_padding(g, e, &x, l, "shared");
        free(l);
        ir_graph_free(g);
        ir_encoder_free(e);
    }
    enc_inputs_free(&x);
}

static void test_variants(void)
{
    /* Factorized embeddings, tanh GELU, ReLU, a regression head. */
    for (int v = 0; v < 3; v++) {
        ir_encoder_config c;
        small_config(&c);
        if (v == 0)
            c.embed = 8;
        if (v == 1)
            c.activation = IR_ACT_GELU_TANH;
        if (v == 2) {
            c.activation = IR_ACT_RELU;
            c.head = IR_ENC_HEAD_REGRESSION;
            c.labels = 1;
        }
        ir_encoder *e = enc_random_encoder(&c, 20 + (uint64_t)v, 0.3f);
        enc_inputs x = enc_inputs_make(2, 5, 2, c.vocab, 3);
        ir_graph *g = lower(e, 17, true, IR_ENC_MASK_FINFO_MIN);
        ir_graph *g14 = lower(e, 14, true, IR_ENC_MASK_FINFO_MIN);
        CHECK(g && g14);
        if (g && g14) {
            float *a = enc_interp_logits(g, &x), *b = enc_interp_logits(g14, &x);
            CHECK_MSG(a && b && enc_max_diff(a, b, 2 * c.labels) <= 1e-5,
                      "variant %d", v);
            if (a)
                check_padding(g, e, &x, a, "variant");
            free(a);
            free(b);
        }
        ir_graph_free(g);
        ir_graph_free(g14);
        enc_inputs_free(&x);
        ir_encoder_free(e);
    }
}

/* ---- lifting --------------------------------------------------------------- */

static ir_graph *lower_fused(const ir_encoder *e, int64_t opset, bool types)
{
    ir_graph *g = lower(e, opset, types, IR_ENC_MASK_FINFO_MIN);
    ir_diag d;
    ir_diag_init(&d);
    pass_ctx ctx;
    pass_ctx_init(&ctx, &d);
    if (g && pass_run_list(g, "default,fuse", &ctx) != IR_OK) {
        fprintf(stderr, "passes: %s\n", d.msg);
        ir_graph_free(g);
        return NULL;
    }
    return g;
}

static void test_lift(void)
{
    struct { int64_t embed; ir_act act; ir_enc_share share; int64_t k;
             int64_t opset; bool types; bool regression; } cases[] = {
        {0, IR_ACT_GELU, IR_ENC_SHARE_NONE, 0, 17, true, false},
        {0, IR_ACT_GELU, IR_ENC_SHARE_NONE, 0, 14, false, false},
        {8, IR_ACT_GELU_TANH, IR_ENC_SHARE_ALL, 0, 17, true, false},
        {0, IR_ACT_RELU, IR_ENC_SHARE_ATTENTION, 0, 14, true, true},
        {0, IR_ACT_GELU, IR_ENC_SHARE_FFN, 0, 17, true, false},
        {8, IR_ACT_GELU, IR_ENC_SHARE_GROUPS, 2, 14, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ir_encoder_config c;
        small_config(&c);
        c.layers = 4;
        c.embed = cases[i].embed;
        c.activation = cases[i].act;
        if (cases[i].regression) {
            c.head = IR_ENC_HEAD_REGRESSION;
            c.labels = 1;
        }
        ir_diag d;
        ir_diag_init(&d);
        CHECK(ir_encoder_config_share(&c, cases[i].share, cases[i].k, &d) == IR_OK);
        ir_encoder *e = enc_random_encoder(&c, 40 + i, 0.3f);
        ir_graph *g = lower_fused(e, cases[i].opset, cases[i].types);
        CHECK_MSG(g != NULL, "lift case %zu: fusing failed", i);
        ir_encoder *back = NULL;
        ir_status s = g ? ir_encoder_lift(g, &back, &d) : IR_ERR_FAILED;
        CHECK_MSG(s == IR_OK, "lift case %zu: %s", i, d.msg);
        if (s == IR_OK) {
            CHECK_MSG(ir_encoder_config_equal(&c, &back->cfg),
                      "lift case %zu: config differs", i);
            bool equal = back->n_weights == e->n_weights;
            for (size_t w = 0; equal && w < e->n_weights; w++)
                equal = strcmp(e->weights[w].name, back->weights[w].name) == 0 &&
                        memcmp(e->weights[w].t->data, back->weights[w].t->data,
                               e->weights[w].t->nbytes) == 0;
            CHECK_MSG(equal, "lift case %zu: weights differ", i);
        }
        ir_encoder_free(back);

        /* A layer that breaks the pattern is named, with its node. */
        if (g && i == 0) {
            for (int n = 0; n < g->n_nodes; n++)
                if (strcmp(g->nodes[n]->name, "layer2.ffn.out.matmul_fusedLinear") == 0)
                    ir_node_set_attr_string(g, g->nodes[n], "activation", "relu");
            s = ir_encoder_lift(g, &back, &d);
            CHECK(s == IR_ERR_UNSUPPORTED && back == NULL);
            CHECK_MSG(strstr(d.msg, "layer 2") && strstr(d.msg, "layer2.ffn.in"),
                      "message: %s", d.msg);
            /* The same refusal as data (what inspect --explain prints). */
            ir_lift_refusal why;
            s = ir_encoder_lift_why(g, &back, &why, &d);
            CHECK(s == IR_ERR_UNSUPPORTED && back == NULL);
            CHECK_MSG(why.layer == 2 && strstr(why.node, "layer2.ffn.in") &&
                      why.op && strcmp(why.op, "Linear") == 0 &&
                      strstr(why.expected, "FFN output Linear") &&
                      strstr(d.msg, why.expected),
                      "refusal: layer %lld node '%s' (%s) expected '%s'",
                      (long long)why.layer, why.node, why.op ? why.op : "-",
                      why.expected);
        }
        ir_graph_free(g);
        ir_encoder_free(e);
    }

    /* A graph with no encoder in it says what to do. */
    ir_graph *g = ir_graph_new("empty");
    ir_encoder *back = NULL;
    ir_diag d;
    ir_diag_init(&d);
    CHECK(ir_encoder_lift(g, &back, &d) == IR_ERR_UNSUPPORTED);
    CHECK(strstr(d.msg, "no Attention") && strstr(d.msg, "default,fuse"));
    ir_lift_refusal why;
    CHECK(ir_encoder_lift_why(g, &back, &why, &d) == IR_ERR_UNSUPPORTED);
    CHECK_MSG(why.layer == -1 && !why.node[0] && !why.op &&
              strstr(why.expected, "Attention"), "expected '%s'", why.expected);
    ir_graph_free(g);
}

/* The node of g called name, or NULL. */
static ir_node *node_named(ir_graph *g, const char *name)
{
    for (int n = 0; n < g->n_nodes; n++)
        if (strcmp(g->nodes[n]->name, name) == 0)
            return g->nodes[n];
    return NULL;
}

/* MPNet's relative position bias lifts back exactly; a bucketing that is
 * not MPNet's is refused naming layer 0, the node and the expectation. */
static void test_lift_relpos(void)
{
    ir_encoder_config c;
    small_config(&c);
    c.positions = IR_ENC_POS_PADDED;
    c.pad_id = 1;
    c.rel_buckets = 32;
    c.rel_max_distance = 128;
    c.rel_bidirectional = true;
    ir_encoder *e = enc_random_encoder(&c, 77, 0.3f);
    ir_diag d;
    ir_diag_init(&d);
    for (int variant = 0; variant < 3; variant++) {
        ir_graph *g = lower_fused(e, 14, false);
        CHECK_MSG(g != NULL, "relpos: fusing failed");
        if (!g)
            break;
        ir_node *n = NULL;
        const char *want = NULL;
        if (variant == 1) { /* the clamp at 14 where 32 buckets clamp at 15 */
            ir_value *top = ir_graph_find_value(g, "relpos_top");
            CHECK(top && top->constant);
            if (top && top->constant)
                ((int64_t *)top->constant->data)[0] = 14;
            want = "clamp = half - 1";
        } else if (variant == 2) { /* a square root where the log was */
            n = node_named(g, "relpos.log");
            CHECK(n != NULL);
            if (n)
                n->op = IR_OP_SQRT;
            want = "logarithmic buckets";
        }
        ir_encoder *back = NULL;
        ir_status s = ir_encoder_lift(g, &back, &d);
        if (variant == 0) {
            CHECK_MSG(s == IR_OK, "relpos lift: %s", d.msg);
            CHECK(back && ir_encoder_config_equal(&c, &back->cfg));
            const ir_tensor *t = back ? ir_encoder_find(back, "relative_bias") : NULL;
            CHECK(t && memcmp(t->data, ir_encoder_find(e, "relative_bias")->data,
                              t->nbytes) == 0);
        } else {
            CHECK_MSG(s == IR_ERR_UNSUPPORTED && !back &&
                      strstr(d.msg, "layer 0") && strstr(d.msg, "node 'relpos.") &&
                      strstr(d.msg, want), "relpos variant %d: %s", variant, d.msg);
            printf("refused as it should be: %s\n", d.msg);
        }
        ir_encoder_free(back);
        ir_graph_free(g);
    }
    ir_encoder_free(e);
}

/* ---- --export DIR: fixtures for tests/ir/test_encoder_torch.py ----------- */

static int export_cases(const char *dir)
{
    struct { const char *name; int64_t embed; ir_act act; ir_enc_share share;
             int64_t opset; bool types; ir_enc_mask mask; ir_enc_head head; } cases[] = {
        {"plain17", 0, IR_ACT_GELU, IR_ENC_SHARE_NONE, 17, true, IR_ENC_MASK_FINFO_MIN, IR_ENC_HEAD_CLASSIFICATION},
        {"plain14_notypes", 0, IR_ACT_GELU, IR_ENC_SHARE_NONE, 14, false, IR_ENC_MASK_10000, IR_ENC_HEAD_CLASSIFICATION},
        {"factor_shared", 8, IR_ACT_GELU_TANH, IR_ENC_SHARE_ALL, 17, true, IR_ENC_MASK_FINFO_MIN, IR_ENC_HEAD_CLASSIFICATION},
        {"attnshare_relu_reg", 0, IR_ACT_RELU, IR_ENC_SHARE_ATTENTION, 14, true, IR_ENC_MASK_FINFO_MIN, IR_ENC_HEAD_REGRESSION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ir_encoder_config c;
        small_config(&c);
        c.layers = 3;
        c.embed = cases[i].embed;
        c.activation = cases[i].act;
        c.head = cases[i].head;
        if (c.head == IR_ENC_HEAD_REGRESSION)
            c.labels = 1;
        ir_diag d;
        ir_diag_init(&d);
        ir_encoder_config_share(&c, cases[i].share, 0, &d);
        ir_encoder *e = enc_random_encoder(&c, 100 + i, 0.3f);
        ir_graph *g = lower(e, cases[i].opset, cases[i].types, cases[i].mask);
        if (!g)
            return 1;
        enc_inputs x = enc_inputs_make(3, 10, 2, c.vocab, 17 + (unsigned)i);
        float *l = enc_interp_logits(g, &x);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.onnx", dir, cases[i].name);
        ir_status s = onnx_save_file(g, path, NULL, &d);
        int64_t od[2] = {3, c.labels};
        ir_tensor *lt = ir_tensor_new(IR_DT_F32, 2, od);
        if (l)
            memcpy(lt->data, l, lt->nbytes);
        const ir_tensor *ts[4] = {x.ids, x.mask, x.types, lt};
        const char *names[4] = {"input_ids", "attention_mask", "token_type_ids", "logits"};
        for (int k = 0; k < 4 && s == IR_OK; k++) {
            snprintf(path, sizeof path, "%s/%s.%s.pb", dir, cases[i].name, names[k]);
            s = onnx_tensor_write_file(path, ts[k], names[k], &d);
        }
        if (s != IR_OK || !l) {
            fprintf(stderr, "export %s: %s\n", cases[i].name, d.msg);
            return 1;
        }
        printf("%s layers=%lld hidden=%lld heads=%lld ffn=%lld embed=%lld "
               "act=%s eps=%g types=%d", cases[i].name, (long long)c.layers,
               (long long)c.hidden, (long long)c.heads, (long long)c.ffn,
               (long long)c.embed, ir_act_name(c.activation),
               (double)c.ln_eps, cases[i].types);
        printf("  mask=%s head=%s attn_groups=", cases[i].mask == IR_ENC_MASK_10000
               ? "10000" : "finfo", ir_enc_head_name(c.head));
        for (int64_t l = 0; l < c.layers; l++)
            printf("%s%lld", l ? "," : "", (long long)c.attn_group[l]);
        printf(" ffn_groups=");
        for (int64_t l = 0; l < c.layers; l++)
            printf("%s%lld", l ? "," : "", (long long)c.ffn_group[l]);
        printf("\n");
        free(l);
        ir_tensor_free(lt);
        enc_inputs_free(&x);
        ir_graph_free(g);
        ir_encoder_free(e);
    }
    return 0;
}

static ir_status refuse(const ir_graph *g, void *user, ir_diag *d)
{
    (void)g;
    ++*(int *)user;
    return ir_diag_set(d, IR_ERR_INPUT, "not this one");
}

/* encoder_from_onnx: a saved encoder comes back; each step's failure
 * carries the caller's prefix, and the loader's carries none. */
static void test_from_onnx(void)
{
    ir_encoder_config c;
    small_config(&c);
    ir_encoder *e = enc_random_encoder(&c, 9, 0.3f);
    char dir[512], path[600];
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    CHECK(e && test_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/enc.onnx", dir);
    CHECK_MSG(ir_encoder_to_graph(e, NULL, &g, &d) == IR_OK &&
                  onnx_save_file(g, path, NULL, &d) == IR_OK, "%s", d.msg);
    ir_graph_free(g);
    ir_encoder *back = NULL;
    CHECK_MSG(encoder_from_onnx(path, NULL, &back, &d) == IR_OK, "%s", d.msg);
    CHECK(back && ir_encoder_config_equal(&c, &back->cfg));
    ir_encoder_free(back);

    int calls = 0;
    encoder_open_options o = {.check = refuse, .user = &calls,
                              .check_prefix = "C", .prepare = "P", .lift = "L"};
    CHECK(encoder_from_onnx(path, &o, &back, &d) == IR_ERR_INPUT && !back);
    CHECK_MSG(calls == 1 && strcmp(d.msg, "C: not this one") == 0, "%s", d.msg);
    o.check = NULL;
    g = enc_not_an_encoder();
    CHECK(encoder_from_graph(g, &o, &back, &d) == IR_ERR_UNSUPPORTED && !back);
    CHECK_MSG(strncmp(d.msg, "L: ", 3) == 0, "%s", d.msg);
    ir_graph_free(g);
    snprintf(path, sizeof path, "%s/nope.onnx", dir);
    CHECK(encoder_from_onnx(path, &o, &back, &d) == IR_ERR_INPUT && !back);
    CHECK_MSG(d.msg[0] != 'L' && d.msg[0] != 'P', "%s", d.msg);
    ir_encoder_free(e);
}

static int lift_exported(const char *dir)
{
    char path[1024];
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL, *g2 = NULL;
    ir_encoder *e = NULL;
    ir_tensor *in[3] = {NULL, NULL, NULL}, *want = NULL, **outs = NULL;
    int rc = 1;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (onnx_load_file(path, NULL, &g, &d) != IR_OK ||
        encoder_from_graph(g, NULL, &e, &d) != IR_OK)
        goto done;
    ir_encoder_describe(e, stdout);
    ir_encoder_graph_opts o;
    ir_encoder_graph_opts_default(&o);
    o.token_types = g->n_inputs == 3;
    if (ir_encoder_to_graph(e, &o, &g2, &d) != IR_OK)
        goto done;
    for (int k = 0; k < g2->n_inputs; k++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, k);
        if (onnx_tensor_read_file(path, &in[k], NULL, &d) != IR_OK)
            goto done;
    }
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
    if (onnx_tensor_read_file(path, &want, NULL, &d) != IR_OK ||
        ir_interp_run(g2, (const ir_tensor *const *)in, &outs, &d) != IR_OK)
        goto done;
    double m = ir_tensor_numel(want) == ir_tensor_numel(outs[0])
                   ? enc_max_diff(want->data, outs[0]->data, ir_tensor_numel(want))
                   : INFINITY;
    printf("lifted and lowered again: max |diff| vs torch %g\n", m);
    rc = m <= 1e-4 ? 0 : 1;
done:
    if (rc && d.msg[0])
        fprintf(stderr, "%s: %s\n", dir, d.msg);
    if (outs)
        ir_interp_free_outputs(g2, outs);
    for (int k = 0; k < 3; k++)
        ir_tensor_free(in[k]);
    ir_tensor_free(want);
    ir_encoder_free(e);
    ir_graph_free(g2);
    ir_graph_free(g);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--lift") == 0)
        return lift_exported(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--export") == 0)
        return export_cases(argv[2]);
    test_validation();
    test_weights();
    test_graph();
    test_sharing();
    test_variants();
    test_lift();
    test_lift_relpos();
    test_from_onnx();
    return test_finish("test_encoder");
}

/* test_train_model.c — the trainer's parameter table, AdamW and the whole
 * encoder forward + backward (distill/model.h) against central finite
 * differences of a total TinyBERT-style loss:
 *   CE(logits) + soft-CE(logits, teacher, t=2)
 *   + sum_l hidden-MSE(hidden[l] W_h, teacher[l])   (l = 0..L, C 8 -> 10)
 *   + sum_l attention-MSE(scores[l], teacher 4 heads -> 2)
 * on a tiny encoder (2 layers, hidden 8, 2 heads, FFN 16, vocab 20, a
 * padded batch) in five forms: plain, factorized embeddings (E = 4) with
 * all layers sharing one group, FFN-only sharing, MPNet's relative
 * position bias (8 buckets, max distance 4; its table checked whole), on
 * the loops and on a GEMM context (the batched and fused attention
 * kernels), and the embeddings projected after their E-wide LayerNorm as
 * ELECTRA-small (E = 6) and ALBERT (E = 4, all layers one group) have
 * them. Every 3rd parameter
 * is checked (eps 1e-2 in float, relative error < 1e-2 with a floor of
 * 1e-2 on the denominator, see train_fd.h); weights are drawn with std 0.3
 * and LayerNorm/bias noise so that no gradient is trivially small.
 * AdamW's vector paths (AVX2, AVX-512; each that may run here, the others
 * printed as skipped) give the portable path's bits over two steps.
 */
#include <string.h>

#include "backend/gemm.h"
#include "distill/losses.h"
#include "distill/model.h"
#include "train_fd.h"
#include "train_isa.h"

enum { B = 2, T = 5, CT = 10, NHT = 4, NL = 3 };

static void tiny_config(ir_encoder_config *c, int64_t embed, int share)
{
    memset(c, 0, sizeof *c);
    c->hidden = 8; c->layers = 2; c->heads = 2; c->ffn = 16; c->vocab = 20;
    c->max_positions = 8; c->type_vocab = 2; c->embed = embed; c->labels = NL;
    c->activation = IR_ACT_GELU; c->head = IR_ENC_HEAD_CLASSIFICATION;
    c->ln_eps = 1e-5f;
    /* share: 0 none, 1 all layers one group, 2 FFN only */
    c->n_attn_groups = share == 1 ? 1 : 2;
    c->n_ffn_groups = share ? 1 : 2;
    for (int l = 0; l < 2; l++) {
        c->attn_group[l] = share == 1 ? 0 : l;
        c->ffn_group[l] = share ? 0 : l;
    }
}

typedef struct model_ctx {
    train_params *p;
    train_acts *a, *da;
    const int32_t *ids, *types, *mask, *labels;
    float *teacher_h[3], *teacher_s[2], *teacher_logits, *wh;
    float *proj[3], *dproj, *probs, *sprobs, *tprobs;
    int failed; /* a forward or loss call failed (checked once per test) */
} model_ctx;

static double total_loss(void *p)
{
    model_ctx *m = p;
    ir_diag d;
    ir_diag_init(&d);
    const ir_encoder_config *c = &m->p->cfg;
    size_t C = (size_t)c->hidden, NH = (size_t)c->heads;
    double total = 0, l;
    m->failed |= train_forward(m->p, m->a, m->ids, m->types, m->mask, &d) != IR_OK;
    train_ce_forward(&l, m->probs, m->a->logits, m->labels, B, NL, &d);
    total += l;
    train_soft_ce_forward(&l, m->sprobs, m->tprobs, m->a->logits, m->teacher_logits, B,
                          NL, 2.0f, &d);
    total += l;
    for (int k = 0; k <= 2; k++) {
        train_hidden_mse_forward(&l, m->proj[k], m->a->hidden[k], m->teacher_h[k], m->wh,
                                 m->mask, B, T, C, CT, &d);
        total += l;
    }
    for (int k = 0; k < 2; k++) {
        m->failed |= train_attn_mse_forward(&l, m->a->scores[k], m->teacher_s[k], m->mask,
                                            B, NH, NHT, T, &d) != IR_OK;
        total += l;
    }
    return total;
}

static void total_backward(model_ctx *m, float *dwh)
{
    const ir_encoder_config *c = &m->p->cfg;
    size_t C = (size_t)c->hidden, NH = (size_t)c->heads;
    total_loss(m);
    train_params_zero_grad(m->p);
    train_acts_zero(m->da);
    train_ce_backward(m->da->logits, m->probs, m->labels, B, NL, 1.0f);
    train_soft_ce_backward(m->da->logits, m->sprobs, m->tprobs, B, NL, 2.0f, 1.0f);
    for (int k = 0; k <= 2; k++)
        train_hidden_mse_backward(m->da->hidden[k], dwh, m->dproj, m->proj[k],
                                  m->a->hidden[k], m->teacher_h[k], m->wh, m->mask, B, T,
                                  C, CT, 1.0f);
    for (int k = 0; k < 2; k++)
        train_attn_mse_backward(m->da->scores[k], m->a->scores[k], m->teacher_s[k], m->mask,
                                B, NH, NHT, T, 1.0f);
    train_backward(m->p, m->a, m->da, m->ids, m->types, m->mask);
}

/* kind: where the embeddings project (ELECTRA-small and ALBERT: after
 * the LayerNorm); rel: MPNet's relative position bias with rel buckets (0:
 * none) up to distance 4, so T = 5 reaches the exact, logarithmic and
 * clamped buckets; gemm: the trainer's GEMM context (the batched / fused
 * kernels), else the loops. */
static void test_composed(const char *label, int64_t embed, ir_enc_embed kind,
                          int share, int64_t rel, bool gemm)
{
    static const int32_t ids[B * T] = {2, 7, 19, 3, 1, 2, 11, 5, 0, 0};
    static const int32_t types[B * T] = {0, 0, 1, 1, 1, 0, 0, 1, 0, 0};
    static const int32_t mask[B * T] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    static const int32_t labels[B] = {2, 0};
    ir_encoder_config c;
    tiny_config(&c, embed, share);
    c.rel_buckets = rel;
    c.rel_max_distance = 4;
    c.rel_bidirectional = true;
    c.embed_kind = kind;
    ir_diag d;
    ir_diag_init(&d);
    model_ctx m = {0};
    m.ids = ids; m.types = types; m.mask = mask; m.labels = labels;
    CHECK(train_params_new(&c, &m.p, &d) == IR_OK);
    gemm_ctx *gc = NULL;
    if (gemm) {
        CHECK_MSG(gemm_ctx_create(GEMM_AUTO, &gc, &d) == IR_OK, "%s", d.msg);
        m.p->gemm = gc;
    }
    CHECK(train_acts_new(&c, B, T, &m.a, &d) == IR_OK);
    CHECK(train_acts_new(&c, B, T, &m.da, &d) == IR_OK);
    train_params_init_random(m.p, 7, 0.3f);
    for (size_t i = 0; i < m.p->n_tensors; i++) {
        const train_tensor *t = &m.p->tensors[i];
        if (!t->decay) /* biases and LayerNorm: 1/0 plus noise */
            for (size_t k = 0; k < t->numel; k++)
                m.p->params[t->offset + k] += 0.2f * fd_rand();
    }
    size_t C = 8;
    for (int k = 0; k <= 2; k++) {
        m.teacher_h[k] = fd_alloc_rand(B * T * CT, 1);
        m.proj[k] = fd_alloc_zero(B * T * CT);
    }
    for (int k = 0; k < 2; k++)
        m.teacher_s[k] = fd_alloc_rand(B * NHT * T * T, 1);
    m.teacher_logits = fd_alloc_rand(B * NL, 2);
    m.wh = fd_alloc_rand(C * CT, 0.5f);
    m.dproj = fd_alloc_zero(B * T * CT);
    m.probs = fd_alloc_zero(B * NL);
    m.sprobs = fd_alloc_zero(B * NL);
    m.tprobs = fd_alloc_zero(B * NL);
    float *dwh = fd_alloc_zero(C * CT);

    total_backward(&m, dwh);
    printf(" %s: %zu parameters, loss %.6f\n", label, m.p->n, total_loss(&m));
    char what[64];
    snprintf(what, sizeof what, "%s params", label);
    fd_compare(what, m.p->params, m.p->grads, m.p->n, 3, total_loss, &m);
    snprintf(what, sizeof what, "%s W_h", label);
    fd_compare(what, m.wh, dwh, C * CT, 1, total_loss, &m);
    /* the padded tokens' embeddings take no gradient through the losses
     * (masked) nor through attention (keys masked) — only their own
     * position/type rows would, and ids 0 appear only there */
    const float *gword = m.p->g.word;
    size_t E = embed ? (size_t)embed : C;
    float g0 = 0;
    for (size_t e = 0; e < E; e++)
        g0 += fabsf(gword[0 * E + e]);
    CHECK_MSG(g0 == 0.0f, "padded id 0 got gradient %g", g0);
    CHECK(!m.failed);
    if (rel) { /* the table's gradient is checked whole */
        const train_tensor *t = train_params_find(m.p, "relative_bias");
        CHECK(t && t->rows == rel && t->cols == 2);
        if (t) {
            snprintf(what, sizeof what, "%s relative_bias", label);
            fd_compare(what, m.p->params + t->offset, m.p->grads + t->offset,
                       t->numel, 1, total_loss, &m);
        }
    }
    gemm_ctx_free(gc);

    for (int k = 0; k <= 2; k++) { free(m.teacher_h[k]); free(m.proj[k]); }
    for (int k = 0; k < 2; k++) free(m.teacher_s[k]);
    free(m.teacher_logits); free(m.wh); free(m.dproj); free(m.probs); free(m.sprobs);
    free(m.tprobs); free(dwh);
    train_acts_free(m.a); train_acts_free(m.da); train_params_free(m.p);
}

static void test_params_table(void)
{
    ir_encoder_config c;
    ir_diag d;
    ir_diag_init(&d);
    train_params *p;
    tiny_config(&c, 4, 1);
    CHECK(train_params_new(&c, &p, &d) == IR_OK);
    /* word 20x4 + proj 4x8 + pos 8x8 + type 2x8 + ln 2x8
     * + one attention group (8x24 + 24 + 8x8 + 8 + 16)
     * + one FFN group (8x16 + 16 + 16x8 + 8 + 16) + pooler 72 + head 27 */
    size_t want = 80 + 32 + 64 + 16 + 16 + (192 + 24 + 64 + 8 + 16) +
                  (128 + 16 + 128 + 8 + 16) + 72 + 27;
    CHECK_MSG(p->n == want, "%zu parameters, expected %zu", p->n, want);
    const train_tensor *t = train_params_find(p, "group0.ffn.in.weight");
    CHECK(t && t->rows == 8 && t->cols == 16 && t->decay);
    CHECK(p->w.ffn[0].in_w == p->params + t->offset);
    CHECK(p->g.ffn[0].in_w == p->grads + t->offset);
    CHECK(train_params_find(p, "embeddings.proj") != NULL);
    CHECK(train_params_find(p, "group1.attn.qkv.weight") == NULL);
    t = train_params_find(p, "embeddings.ln.gamma");
    CHECK(t && !t->decay);
    /* deterministic init */
    train_params_init_random(p, 3, 0.02f);
    float first = p->params[5];
    train_params_init_random(p, 3, 0.02f);
    CHECK(p->params[5] == first && first != 0.0f);
    CHECK(p->w.eln_g[0] == 1.0f && p->w.eln_b[0] == 0.0f);

    /* AdamW, one step by hand: m = 0.1 g, v = 0.001 g^2, bias-corrected
     * mhat = g, vhat = g^2, so the step is lr * g / (|g| + eps) */
    train_params_zero_grad(p);
    float w0 = p->w.word[0], b0 = 0.5f;
    p->w.head_b[0] = b0;
    p->g.word[0] = 0.25f;
    p->g.head_b[0] = -2.0f;
    train_adamw o;
    train_adamw_default(&o);
    o.lr = 0.1f;
    o.weight_decay = 0.5f;
    train_adamw_update(p, &o, 1);
    float want_w = w0 * (1 - 0.1f * 0.5f) - 0.1f * 0.25f / (0.25f + 1e-8f);
    float want_b = b0 + 0.1f; /* a bias: no decay */
    CHECK_MSG(fabsf(p->w.word[0] - want_w) < 1e-6f, "%g vs %g", p->w.word[0], want_w);
    CHECK_MSG(fabsf(p->w.head_b[0] - want_b) < 1e-6f, "%g vs %g", p->w.head_b[0], want_b);
    train_params_free(p);

    /* bad configs name their field */
    tiny_config(&c, 0, 0);
    c.heads = 3;
    CHECK(train_params_new(&c, &p, &d) == IR_ERR_INPUT && p == NULL);
    CHECK(strstr(d.msg, "config.heads = 3") != NULL);
    tiny_config(&c, 0, 0);
    c.ffn_group[1] = 0; /* FFN group 1 now unused */
    CHECK(train_params_new(&c, &p, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "FFN group 1") != NULL);
    tiny_config(&c, 0, 0);
    c.embed = -1;
    CHECK(train_params_new(&c, &p, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "config.embed") != NULL);

    /* forward input errors name the position */
    tiny_config(&c, 0, 0);
    train_acts *a;
    CHECK(train_acts_new(&c, 1, 9, &a, &d) == IR_ERR_INPUT); /* > 8 positions */
    CHECK(strstr(d.msg, "max_positions") != NULL);
    CHECK(train_params_new(&c, &p, &d) == IR_OK);
    CHECK(train_acts_new(&c, 1, 3, &a, &d) == IR_OK);
    int32_t ids[3] = {1, 20, 2};
    CHECK(train_forward(p, a, ids, NULL, NULL, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "input_ids[0][1] = 20") != NULL);
    train_acts_free(a);
    train_params_free(p);
}

/* Two AdamW steps on every set against the portable one: the same bits
 * (elementwise; IEEE vector division and sqrt round as the scalar ones).
 * Hidden 64, vocabulary 1000: the word embeddings (64000 floats) span
 * several of the update's chunks and a ragged tail. */
static void test_adamw_isa(void)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config c;
    tiny_config(&c, 0, 0);
    c.hidden = 64; c.ffn = 256; c.vocab = 1000;
    train_params *ref = NULL, *p = NULL;
    CHECK(train_params_new(&c, &ref, &d) == IR_OK);
    CHECK(train_params_new(&c, &p, &d) == IR_OK);
    if (!ref || !p)
        return;
    train_adamw o;
    train_adamw_default(&o);
    o.lr = 1e-3f;
    size_t n = ref->n, bytes = n * sizeof(float);
    train_params_init_random(ref, 5, 0.02f);
    for (int step = 1; step <= 2; step++) {
        for (size_t i = 0; i < n; i++)
            ref->grads[i] = train_rng_normal(6 + (uint64_t)step, i);
        if (step == 1) { /* every set starts from the same state */
            memcpy(p->params, ref->params, bytes);
            memset(p->m, 0, bytes);
            memset(p->v, 0, bytes);
            memset(ref->m, 0, bytes);
            memset(ref->v, 0, bytes);
        }
        train_adamw_update_isa(TRAIN_ISA_PORTABLE, ref, &o, step);
    }
    for (int k = 0; k < TRAIN_ISA_NVECTOR; k++) {
        train_isa isa = train_isa_vector[k];
        if (!train_isa_try(isa, "adamw"))
            continue;
        train_params_init_random(p, 5, 0.02f);
        memset(p->m, 0, bytes);
        memset(p->v, 0, bytes);
        for (int step = 1; step <= 2; step++) {
            for (size_t i = 0; i < n; i++)
                p->grads[i] = train_rng_normal(6 + (uint64_t)step, i);
            train_adamw_update_isa(isa, p, &o, step);
        }
        int same = memcmp(p->params, ref->params, bytes) == 0 &&
                   memcmp(p->m, ref->m, bytes) == 0 &&
                   memcmp(p->v, ref->v, bytes) == 0;
        CHECK_MSG(same, "adamw %s: not the portable path's bits",
                  train_isa_name(isa));
        printf("  adamw %s: %s the portable bits (%zu parameters)\n",
               train_isa_name(isa), same ? "same as" : "DIFFERENT from", n);
    }
    train_params_free(ref);
    train_params_free(p);
}

/* ELECTRA-small / ALBERT's embeddings (project_after_ln): the tables and
 * the LayerNorm are E wide, and the projection to H has a bias, named and
 * laid out as ir/encoder.h says; a bad kind is refused naming the field. */
static void test_params_after_ln(void)
{
    ir_encoder_config c;
    tiny_config(&c, 6, 0);
    c.embed_kind = IR_ENC_EMBED_PROJECT_AFTER_LN;
    ir_diag d;
    ir_diag_init(&d);
    train_params *p = NULL;
    CHECK_MSG(train_params_new(&c, &p, &d) == IR_OK, "%s", d.msg);
    if (!p)
        return;
    /* in ir_encoder_weight_spec's order, with its shapes */
    for (size_t i = 0; i < p->n_tensors; i++) {
        ir_encoder_wspec w;
        CHECK(ir_encoder_weight_spec(&c, i, &w));
        const train_tensor *t = &p->tensors[i];
        CHECK_MSG(strcmp(w.name, t->name) == 0 && w.dims[0] == t->rows &&
                      (w.rank == 1 ? t->cols == 1 : w.dims[1] == t->cols),
                  "tensor %zu: trainer %s [%lld,%lld], encoder %s", i, t->name,
                  (long long)t->rows, (long long)t->cols, w.name);
    }
    CHECK(p->n_tensors == ir_encoder_weight_count(&c));
    const train_tensor *t = train_params_find(p, "embeddings.position");
    CHECK(t && t->rows == 8 && t->cols == 6);
    t = train_params_find(p, "embeddings.proj_bias");
    CHECK(t && t->rows == 8 && !t->decay && p->w.proj_b == p->params + t->offset);
    t = train_params_find(p, "embeddings.ln.gamma");
    CHECK(t && t->rows == 6);
    train_params_init_random(p, 3, 0.02f);
    CHECK(p->w.eln_g[5] == 1.0f && p->w.proj_b[7] == 0.0f);
    train_params_free(p);
    /* project_word has no proj_bias */
    c.embed_kind = IR_ENC_EMBED_PROJECT_WORD;
    CHECK(train_params_new(&c, &p, &d) == IR_OK);
    CHECK(p && !p->w.proj_b && !train_params_find(p, "embeddings.proj_bias"));
    train_params_free(p);
    c.embed_kind = IR_ENC_EMBED_COUNT;
    CHECK(train_config_check(&c, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "config.embed_kind") != NULL, "message: %s", d.msg);
    c.embed_kind = IR_ENC_EMBED_PROJECT_AFTER_LN;
    c.embed = 0;
    CHECK(train_config_check(&c, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "project_after_ln needs config.embed > 0") != NULL,
              "message: %s", d.msg);
}

int main(void)
{
    test_params_after_ln();
    test_params_table();
    test_adamw_isa();
    test_composed("plain", 0, IR_ENC_EMBED_PROJECT_WORD, 0, 0, false);
    test_composed("E=4, all layers shared", 4, IR_ENC_EMBED_PROJECT_WORD, 1, 0, false);
    test_composed("FFN-only sharing", 0, IR_ENC_EMBED_PROJECT_WORD, 2, 0, false);
    test_composed("relative position bias", 0, IR_ENC_EMBED_PROJECT_WORD, 0, 8, false);
    test_composed("relative position bias, GEMM context", 0,
                  IR_ENC_EMBED_PROJECT_WORD, 0, 8, true);
    /* ELECTRA-small: tables E = 6 wide, LayerNorm in E, then E -> 8 */
    test_composed("E=6 after LN (ELECTRA-small)", 6, IR_ENC_EMBED_PROJECT_AFTER_LN,
                  0, 0, false);
    /* ALBERT: E = 4 after the LayerNorm, one layer shared by both depths */
    test_composed("E=4 after LN, all shared (ALBERT)", 4,
                  IR_ENC_EMBED_PROJECT_AFTER_LN, 1, 0, false);
    return test_finish("test_train_model");
}

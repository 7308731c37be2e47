/* model.c — the encoder's training forward and backward (see model.h),
 * composed layer by layer from distill/kernels.h, and the activation block
 * laid out like the parameters: sizes walked once to count, once to bind. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "distill/kernels.h"
#include "distill/model.h"

/* Takes n floats from the block (base NULL = counting pass). */
static float *carve(float *base, size_t *used, size_t n)
{
    float *p = base ? base + *used : NULL;
    *used += n;
    return p;
}

/* ELECTRA-small / ALBERT: tables E wide, LayerNorm in E, then E -> C. */
static bool embed_after_ln(const ir_encoder_config *c)
{
    return c->embed > 0 && c->embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN;
}

static size_t acts_bind(train_acts *a, float *base)
{
    const ir_encoder_config *c = &a->cfg;
    size_t B = a->B, T = a->T, BT = B * T, C = (size_t)c->hidden;
    size_t NH = (size_t)c->heads, F = (size_t)c->ffn, L = (size_t)c->layers;
    size_t E = c->embed ? (size_t)c->embed : 0, used = 0;
    bool after_ln = embed_after_ln(c);
    a->wemb = E && !after_ln ? carve(base, &used, BT * E) : NULL;
    a->emb = carve(base, &used, BT * (after_ln ? E : C));
    a->emb_mean = carve(base, &used, BT);
    a->emb_rstd = carve(base, &used, BT);
    a->relbias = c->rel_buckets > 0 ? carve(base, &used, NH * T * T) : NULL;
    a->eln = after_ln ? carve(base, &used, BT * E) : NULL;
    for (size_t l = 0; l <= L; l++)
        a->hidden[l] = carve(base, &used, BT * C);
    for (size_t l = 0; l < L; l++) {
        a->qkv[l] = carve(base, &used, BT * 3 * C);
        a->scores[l] = carve(base, &used, B * NH * T * T);
        a->probs[l] = carve(base, &used, B * NH * T * T);
        a->atty[l] = carve(base, &used, BT * C);
        a->res1[l] = carve(base, &used, BT * C);
        a->ln1[l] = carve(base, &used, BT * C);
        a->ln1_mean[l] = carve(base, &used, BT);
        a->ln1_rstd[l] = carve(base, &used, BT);
        a->fch[l] = carve(base, &used, BT * F);
        a->fch_gelu[l] = carve(base, &used, BT * F);
        a->res2[l] = carve(base, &used, BT * C);
        a->ln2_mean[l] = carve(base, &used, BT);
        a->ln2_rstd[l] = carve(base, &used, BT);
    }
    a->pooled = carve(base, &used, B * C);
    a->pool_scratch = carve(base, &used, B * C);
    a->logits = carve(base, &used, B * (size_t)c->labels);
    return used;
}

ir_status train_acts_new(const ir_encoder_config *c, size_t B, size_t T,
                         train_acts **out, ir_diag *d)
{
    *out = NULL;
    ir_status s = train_config_check(c, d);
    if (s != IR_OK)
        return s;
    if (B == 0 || T == 0)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "trainer activations: batch %zu x sequence %zu "
                           "must both be >= 1", B, T);
    /* padded positions start at pad_id + 1, so T tokens need pad_id + T + 1 rows */
    int64_t first = c->positions == IR_ENC_POS_PADDED ? c->pad_id + 1 : 0;
    if ((int64_t)T + first > c->max_positions)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "trainer activations: sequence length %zu exceeds "
                           "config.max_positions = %lld%s", T,
                           (long long)c->max_positions,
                           first ? " less the positions before pad_id + 1" : "");
    s = train_act_check(c->activation, d);
    if (s != IR_OK)
        return s;
    train_acts *a = calloc(1, sizeof *a);
    if (!a)
        return ir_diag_set(d, IR_ERR_NOMEM, "trainer activations: out of memory");
    a->B = B;
    a->T = T;
    a->cfg = *c;
    a->n = acts_bind(a, NULL);
    a->mem = calloc(a->n, sizeof(float));
    if (!a->mem) {
        size_t n = a->n;
        free(a);
        return ir_diag_set(d, IR_ERR_NOMEM,
                           "trainer activations: out of memory for %zu floats "
                           "(batch %zu x sequence %zu)", n, B, T);
    }
    acts_bind(a, a->mem);
    *out = a;
    return IR_OK;
}

void train_acts_free(train_acts *a)
{
    if (!a)
        return;
    free(a->mem);
    free(a);
}

void train_acts_zero(train_acts *a)
{
    memset(a->mem, 0, a->n * sizeof(float));
}

/* Same sizes and sharing maps: the activations fit these parameters. */
static bool acts_fit(const ir_encoder_config *a, const ir_encoder_config *b)
{
    if (a->hidden != b->hidden || a->layers != b->layers ||
        a->heads != b->heads || a->ffn != b->ffn || a->embed != b->embed ||
        embed_after_ln(a) != embed_after_ln(b) || a->labels != b->labels ||
        (a->rel_buckets > 0) != (b->rel_buckets > 0))
        return false;
    for (int64_t l = 0; l < a->layers; l++)
        if (a->attn_group[l] != b->attn_group[l] ||
            a->ffn_group[l] != b->ffn_group[l])
            return false;
    return true;
}

/* The FFN's activation, as train_act_check admitted it (train_acts_new):
 * erf GELU unless the config says tanh. */
static void ffn_act_forward(ir_act act, float *out, const float *inp, size_t n)
{
    if (act == IR_ACT_GELU_TANH)
        train_gelu_tanh_forward(out, inp, n);
    else
        train_gelu_forward(out, inp, n);
}

static void ffn_act_backward(ir_act act, float *dinp, const float *dout,
                             const float *inp, size_t n)
{
    if (act == IR_ACT_GELU_TANH)
        train_gelu_tanh_backward(dinp, dout, inp, n);
    else
        train_gelu_backward(dinp, dout, inp, n);
}

/* The embeddings' position numbering: -1 for 0..T-1, else the pad id. */
static int64_t pos_pad(const ir_encoder_config *c)
{
    return c->positions == IR_ENC_POS_PADDED ? c->pad_id : -1;
}

ir_status train_forward(const train_params *p, train_acts *a,
                        const int32_t *ids, const int32_t *types,
                        const int32_t *mask, ir_diag *d)
{
    const ir_encoder_config *c = &p->cfg;
    if (!acts_fit(c, &a->cfg))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "trainer forward: activations were made for another config");
    size_t B = a->B, T = a->T, BT = B * T, C = (size_t)c->hidden;
    size_t NH = (size_t)c->heads, F = (size_t)c->ffn, L = (size_t)c->layers;
    size_t E = c->embed ? (size_t)c->embed : C, NL = (size_t)c->labels;
    float eps = c->ln_eps;
    for (size_t i = 0; i < BT; i++) {
        if (ids[i] < 0 || ids[i] >= c->vocab)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "trainer forward: input_ids[%zu][%zu] = %d is "
                               "outside the vocabulary [0, %lld)", i / T, i % T,
                               (int)ids[i], (long long)c->vocab);
        if (types && (types[i] < 0 || types[i] >= c->type_vocab))
            return ir_diag_set(d, IR_ERR_INPUT,
                               "trainer forward: token_type_ids[%zu][%zu] = %d "
                               "is outside [0, %lld)", i / T, i % T,
                               (int)types[i], (long long)c->type_vocab);
    }
    const train_weights *w = &p->w;
    if (embed_after_ln(c)) {
        train_embed_ln_proj_forward(p->gemm, a->hidden[0], a->emb, a->eln,
                                    a->emb_mean, a->emb_rstd, ids, types,
                                    w->word, w->pos, w->type, w->eln_g,
                                    w->eln_b, w->proj, w->proj_b, pos_pad(c),
                                    B, T, C, E, eps);
    } else {
        train_embed_forward(a->emb, a->wemb, ids, types, w->word, w->proj,
                            w->pos, w->type, pos_pad(c), B, T, C, E);
        train_layer_norm_forward(a->hidden[0], a->emb_mean, a->emb_rstd,
                                 a->emb, w->eln_g, w->eln_b, BT, C, eps);
    }
    if (c->rel_buckets > 0)
        train_relpos_forward(a->relbias, w->rel_bias, NH, T, c->rel_buckets,
                             c->rel_max_distance, c->rel_bidirectional);
    for (size_t l = 0; l < L; l++) {
        const train_attn_w *aw = &w->attn[c->attn_group[l]];
        const train_ffn_w *fw = &w->ffn[c->ffn_group[l]];
        train_linear_forward_ctx(p->gemm, a->qkv[l], a->hidden[l], aw->qkv_w, aw->qkv_b, BT, C, 3 * C);
        train_attention_forward_bias_ctx(p->gemm, a->atty[l], a->scores[l],
                                         a->probs[l], a->qkv[l], mask,
                                         a->relbias, B, T, C, NH);
        /* res1 = hidden + (atty · Wo + b): the projection lands in res1 and
         * the residual is added in place (same sum, no extra buffer) */
        train_linear_forward_ctx(p->gemm, a->res1[l], a->atty[l], aw->out_w, aw->out_b, BT, C, C);
        train_residual_forward(a->res1[l], a->hidden[l], a->res1[l], BT * C);
        train_layer_norm_forward(a->ln1[l], a->ln1_mean[l], a->ln1_rstd[l], a->res1[l],
                                aw->ln_g, aw->ln_b, BT, C, eps);
        train_linear_forward_ctx(p->gemm, a->fch[l], a->ln1[l], fw->in_w, fw->in_b, BT, C, F);
        ffn_act_forward(c->activation, a->fch_gelu[l], a->fch[l], BT * F);
        train_linear_forward_ctx(p->gemm, a->res2[l], a->fch_gelu[l], fw->out_w, fw->out_b, BT, F, C);
        train_residual_forward(a->res2[l], a->ln1[l], a->res2[l], BT * C);
        train_layer_norm_forward(a->hidden[l + 1], a->ln2_mean[l], a->ln2_rstd[l],
                                a->res2[l], fw->ln_g, fw->ln_b, BT, C, eps);
    }
    train_pooler_forward(a->pooled, a->pool_scratch, a->hidden[L], w->pool_w,
                         w->pool_b, ir_encoder_pool_act(c), B, T, C);
    train_head_forward(a->logits, a->pooled, w->head_w, w->head_b, B, C, NL);
    return IR_OK;
}

/* Reports the gradient floats [from, to) as final (model.h). The block's
 * layout (params.c) keeps each attention group's six tensors together, each
 * FFN group's, the pooler with the head, and the embeddings before the
 * first group, so each unit the backward finishes is one range. */
static void grad_ready(const train_grad_ready *r, const train_params *p,
                       const float *from, const float *to)
{
    if (r && to > from)
        r->fn(r->user, (size_t)(from - p->grads), (size_t)(to - from));
}

/* Whether layer l is the first (lowest) user of its attention (ffn = 0)
 * or FFN (ffn = 1) group: the backward, which walks the layers down, is
 * then done with that group's gradient. */
static bool first_user(const ir_encoder_config *c, size_t l, int ffn)
{
    const int64_t *grp = ffn ? c->ffn_group : c->attn_group;
    for (size_t k = 0; k < l; k++)
        if (grp[k] == grp[l])
            return false;
    return true;
}

void train_backward(train_params *p, const train_acts *a, train_acts *da,
                    const int32_t *ids, const int32_t *types,
                    const int32_t *mask)
{
    train_backward_ready(p, a, da, ids, types, mask, NULL);
}

void train_backward_ready(train_params *p, const train_acts *a,
                          train_acts *da, const int32_t *ids,
                          const int32_t *types, const int32_t *mask,
                          const train_grad_ready *ready)
{
    const ir_encoder_config *c = &p->cfg;
    size_t B = a->B, T = a->T, BT = B * T, C = (size_t)c->hidden;
    size_t NH = (size_t)c->heads, F = (size_t)c->ffn, L = (size_t)c->layers;
    size_t E = c->embed ? (size_t)c->embed : C, NL = (size_t)c->labels;
    const train_weights *w = &p->w;
    train_weights *g = &p->g;

    train_head_backward(da->pooled, g->head_w, g->head_b, da->logits, a->pooled,
                        w->head_w, B, C, NL);
    train_pooler_backward(da->hidden[L], g->pool_w, g->pool_b, da->pool_scratch,
                          da->pooled, a->pooled, a->pool_scratch, a->hidden[L],
                          w->pool_w, ir_encoder_pool_act(c), B, T, C);
    grad_ready(ready, p, g->pool_w, g->head_b + NL);
    for (size_t l = L; l-- > 0;) {
        const train_attn_w *aw = &w->attn[c->attn_group[l]];
        const train_ffn_w *fw = &w->ffn[c->ffn_group[l]];
        train_attn_w *ag = &g->attn[c->attn_group[l]];
        train_ffn_w *fg = &g->ffn[c->ffn_group[l]];
        /* hidden[l+1] = LN(res2), res2 = ln1 + fcproj */
        train_layer_norm_backward(da->res2[l], fg->ln_g, fg->ln_b, da->hidden[l + 1],
                                 a->res2[l], fw->ln_g, a->ln2_mean[l], a->ln2_rstd[l],
                                 BT, C);
        /* the projection's gradient is da->res2 itself */
        train_residual_backward(da->ln1[l], NULL, da->res2[l], BT * C);
        /* fch_gelu and atty get no other gradient: overwrite, which
         * spares the GEMM a read of the zeroed buffer */
        train_linear_backward_set_ctx(p->gemm, da->fch_gelu[l], fg->out_w, fg->out_b,
                                      da->res2[l], a->fch_gelu[l], fw->out_w, BT, F, C);
        ffn_act_backward(c->activation, da->fch[l], da->fch_gelu[l], a->fch[l],
                         BT * F);
        train_linear_backward_ctx(p->gemm, da->ln1[l], fg->in_w, fg->in_b, da->fch[l], a->ln1[l],
                              fw->in_w, BT, C, F);
        if (first_user(c, l, 1))
            grad_ready(ready, p, fg->in_w, fg->ln_b + C);
        /* ln1 = LN(res1), res1 = hidden[l] + attproj */
        train_layer_norm_backward(da->res1[l], ag->ln_g, ag->ln_b, da->ln1[l],
                                 a->res1[l], aw->ln_g, a->ln1_mean[l], a->ln1_rstd[l],
                                 BT, C);
        train_residual_backward(da->hidden[l], NULL, da->res1[l], BT * C);
        train_linear_backward_set_ctx(p->gemm, da->atty[l], ag->out_w, ag->out_b,
                                      da->res1[l], a->atty[l], aw->out_w, BT, C, C);
        /* da->probs[l] (no gradient of its own) is the scratch for dp */
        train_attention_backward_ctx(p->gemm, da->qkv[l], da->scores[l], da->probs[l],
                                     da->atty[l], a->qkv[l], a->probs[l], mask, B,
                                     T, C, NH);
        if (c->rel_buckets > 0) /* every layer adds the one bias */
            train_relpos_backward(g->rel_bias, da->scores[l], B, NH, T,
                                  c->rel_buckets, c->rel_max_distance,
                                  c->rel_bidirectional);
        train_linear_backward_ctx(p->gemm, da->hidden[l], ag->qkv_w, ag->qkv_b, da->qkv[l],
                              a->hidden[l], aw->qkv_w, BT, C, 3 * C);
        if (first_user(c, l, 0))
            grad_ready(ready, p, ag->qkv_w, ag->ln_b + C);
    }
    if (g->rel_bias)
        grad_ready(ready, p, g->rel_bias,
                   g->rel_bias + (size_t)c->rel_buckets * NH);
    if (embed_after_ln(c)) {
        /* da->eln and da->emb (no gradients of their own) are its scratch */
        train_embed_ln_proj_backward(p->gemm, g->word, g->pos, g->type,
                                     g->eln_g, g->eln_b, g->proj, g->proj_b,
                                     da->eln, da->emb, da->hidden[0], a->emb,
                                     a->eln, a->emb_mean, a->emb_rstd, ids,
                                     types, w->eln_g, w->proj, pos_pad(c), B,
                                     T, C, E);
    } else {
        train_layer_norm_backward(da->emb, g->eln_g, g->eln_b, da->hidden[0],
                                  a->emb, w->eln_g, a->emb_mean, a->emb_rstd,
                                  BT, C);
        train_embed_backward(g->word, g->proj, g->pos, g->type, da->wemb,
                             da->emb, a->wemb, ids, types, w->proj, pos_pad(c),
                             B, T, C, E);
    }
    grad_ready(ready, p, p->grads, g->attn[0].qkv_w);
}

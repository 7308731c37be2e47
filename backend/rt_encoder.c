/* rt_encoder.c — ir_encoder -> rt_config / rt_weights, and an ONNX graph
 * -> rt_model by way of passes/encoder_from_onnx.h. The only
 * runtime file that sees the graph IR (see backend/rt.h on why). */
#include <stdio.h>
#include <string.h>

#include "backend/rt_encoder.h"
#include "passes/encoder_from_onnx.h"

ir_status rt_config_from_encoder(const ir_encoder_config *ec, rt_config *c,
                                 ir_diag *d)
{
    memset(c, 0, sizeof *c);
    if (ec->layers > RT_MAX_LAYERS)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "rt: %lld layers; the runtime handles up to %d",
                           (long long)ec->layers, RT_MAX_LAYERS);
    c->hidden = ec->hidden;
    c->layers = ec->layers;
    c->heads = ec->heads;
    c->ffn = ec->ffn;
    c->vocab = ec->vocab;
    c->max_positions = ec->max_positions;
    c->type_vocab = ec->type_vocab;
    c->embed = ec->embed;
    c->embed_after_ln = ec->embed > 0 &&
                        ec->embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN;
    c->labels = ec->labels;
    c->activation = ec->activation; /* one enum, ir/act.h */
    c->regression = ec->head == IR_ENC_HEAD_REGRESSION;
    c->pool_act = ec->pool_act;
    c->positions = ec->positions == IR_ENC_POS_PADDED;
    c->pad_id = ec->pad_id;
    c->rel_buckets = ec->rel_buckets;
    c->rel_max_distance = ec->rel_max_distance;
    c->rel_bidirectional = ec->rel_bidirectional;
    c->ln_eps = ec->ln_eps;
    c->n_attn_groups = ec->n_attn_groups;
    c->n_ffn_groups = ec->n_ffn_groups;
    for (int64_t l = 0; l < ec->layers; l++) {
        c->attn_group[l] = ec->attn_group[l];
        c->ffn_group[l] = ec->ffn_group[l];
    }
    return IR_OK;
}

static const float *find_f32(const ir_encoder *e, const char *name, int *bad)
{
    ir_tensor *t = ir_encoder_find(e, name);
    if (!t || t->dtype != IR_DT_F32) {
        *bad = 1;
        return NULL;
    }
    return (const float *)t->data;
}

ir_status rt_weights_from_encoder(const ir_encoder *e, rt_weights *w, ir_diag *d)
{
    memset(w, 0, sizeof *w);
    ir_status s = ir_encoder_check(e, d);
    if (s != IR_OK)
        return s;
    const ir_encoder_config *c = &e->cfg;
    int bad = 0;
    char n[IR_ENCODER_NAME_MAX + 16];
    w->word = find_f32(e, "embeddings.word", &bad);
    if (c->embed > 0)
        w->proj = find_f32(e, "embeddings.proj", &bad);
    if (c->embed > 0 && c->embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN)
        w->proj_b = find_f32(e, "embeddings.proj_bias", &bad);
    w->pos = find_f32(e, "embeddings.position", &bad);
    w->type = find_f32(e, "embeddings.type", &bad);
    w->eln_g = find_f32(e, "embeddings.ln.gamma", &bad);
    w->eln_b = find_f32(e, "embeddings.ln.beta", &bad);
    if (c->rel_buckets > 0)
        w->rel_bias = find_f32(e, "relative_bias", &bad);
#define GW(field, fmt, g) (snprintf(n, sizeof n, fmt, (long long)(g)), field = find_f32(e, n, &bad))
    for (int64_t g = 0; g < c->n_attn_groups; g++) {
        rt_attn_weights *a = &w->attn[g];
        GW(a->qkv_w, "group%lld.attn.qkv.weight", g);
        GW(a->qkv_b, "group%lld.attn.qkv.bias", g);
        GW(a->out_w, "group%lld.attn.out.weight", g);
        GW(a->out_b, "group%lld.attn.out.bias", g);
        GW(a->ln_g, "group%lld.attn.ln.gamma", g);
        GW(a->ln_b, "group%lld.attn.ln.beta", g);
    }
    for (int64_t g = 0; g < c->n_ffn_groups; g++) {
        rt_ffn_weights *f = &w->ffn[g];
        GW(f->in_w, "group%lld.ffn.in.weight", g);
        GW(f->in_b, "group%lld.ffn.in.bias", g);
        GW(f->out_w, "group%lld.ffn.out.weight", g);
        GW(f->out_b, "group%lld.ffn.out.bias", g);
        GW(f->ln_g, "group%lld.ffn.ln.gamma", g);
        GW(f->ln_b, "group%lld.ffn.ln.beta", g);
    }
#undef GW
    w->pool_w = find_f32(e, "pooler.weight", &bad);
    w->pool_b = find_f32(e, "pooler.bias", &bad);
    w->head_w = find_f32(e, "head.weight", &bad);
    w->head_b = find_f32(e, "head.bias", &bad);
    if (bad)
        return ir_diag_set(d, IR_ERR_INPUT, "rt: the encoder lacks an f32 weight "
                           "its config implies (see ir_encoder_check)");
    return IR_OK;
}

ir_status rt_model_from_encoder(const ir_encoder *e, const rt_options *o,
                                rt_model **out, ir_diag *d)
{
    *out = NULL;
    rt_config c;
    rt_weights w;
    ir_status s = rt_config_from_encoder(&e->cfg, &c, d);
    if (s == IR_OK)
        s = rt_weights_from_encoder(e, &w, d);
    if (s == IR_OK)
        s = rt_model_create(&c, &w, o, out, d);
    return s;
}

ir_status rt_model_from_graph(ir_graph *g, const rt_options *o, rt_model **out,
                              ir_encoder **enc_out, ir_diag *d)
{
    *out = NULL;
    if (enc_out)
        *enc_out = NULL;
    static const encoder_open_options names = {
        .prepare = "onednn backend: preparing the graph",
        .lift = "onednn backend: cannot lower this graph (it handles "
                "BERT-style encoders; use --backend ref)"};
    ir_encoder *e = NULL;
    ir_status s = encoder_from_graph(g, &names, &e, d);
    if (s != IR_OK)
        return s;
    s = rt_model_from_encoder(e, o, out, d);
    if (s != IR_OK)
        ir_diag_prefix(d, "onednn backend");
    if (enc_out && s == IR_OK)
        *enc_out = e;
    else
        ir_encoder_free(e);
    return s;
}

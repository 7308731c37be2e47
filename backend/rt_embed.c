/* rt_embed.c — BERT's embeddings in plain C: a gather of word, position
 * (0..S-1, as Hugging Face numbers them; or RoBERTa's, see position_of)
 * and token-type rows, summed, then
 * LayerNorm through oneDNN. Factorized embeddings (ALBERT) gather E-wide
 * word rows and project them to H with one linear whose residual input is
 * the position + type sum, so the add is fused into the matmul; ELECTRA-
 * small and ALBERT normalise E wide and project after (embed_after_ln). */
#include <stdio.h>
#include <string.h>

#include "backend/dnnl_norm.h"
#include "backend/rt_internal.h"

static ir_status check_ids(const rt_config *c, int64_t batch, int64_t seq,
                           const int64_t *ids, const int64_t *types, ir_diag *d)
{
    for (int64_t i = 0; i < batch * seq; i++) {
        if (ids[i] < 0 || ids[i] >= c->vocab)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "rt: input_ids[%lld][%lld] = %lld is outside the "
                               "vocabulary (0..%lld)", (long long)(i / seq),
                               (long long)(i % seq), (long long)ids[i],
                               (long long)c->vocab - 1);
        if (types && (types[i] < 0 || types[i] >= c->type_vocab))
            return ir_diag_set(d, IR_ERR_INPUT,
                               "rt: token_type_ids[%lld][%lld] = %lld is outside "
                               "0..%lld", (long long)(i / seq), (long long)(i % seq),
                               (long long)types[i], (long long)c->type_vocab - 1);
    }
    return IR_OK;
}

/* The position row of token t = (row, s): s, or with padded positions
 * transformers' create_position_ids_from_input_ids, pad_id + the count of
 * non-pad ids in the row up to and including s for a non-pad id, pad_id
 * for a pad. *count carries the row's running count (reset at s = 0). */
static int64_t position_of(const rt_config *c, const int64_t *ids, int64_t t,
                           int64_t seq, int64_t *count)
{
    if (c->positions == 0)
        return t % seq;
    if (t % seq == 0)
        *count = 0;
    if (ids[t] == c->pad_id)
        return c->pad_id;
    return c->pad_id + ++*count;
}

static ir_status past_positions(const rt_config *c, int64_t t, int64_t seq,
                                int64_t pi, ir_diag *d)
{
    return ir_diag_set(d, IR_ERR_INPUT, "rt: input_ids[%lld][%lld]: position "
                       "%lld is past the model's %lld positions",
                       (long long)(t / seq), (long long)(t % seq),
                       (long long)pi, (long long)c->max_positions);
}

/* ELECTRA-small / ALBERT: (word + type) + position summed E wide (the
 * reference's order), LayerNorm in E, then proj with its bias to H. */
static ir_status embed_after_ln(rt_model *m, int64_t batch, int64_t seq,
                                const int64_t *ids, const int64_t *types,
                                ir_diag *d)
{
    const rt_config *c = &m->c;
    int64_t E = c->embed, T = batch * seq, count = 0;
    rt_plan *p = &m->plan;
    for (int64_t t = 0; t < T; t++) {
        int64_t pi = position_of(c, ids, t, seq, &count);
        if (pi >= c->max_positions)
            return past_positions(c, t, seq, pi, d);
        const float *wr = m->word + ids[t] * E, *pr = m->pos + pi * E;
        const float *tr = m->type + (types ? types[t] : 0) * E;
        float *o = p->wemb + t * E;
        for (int64_t e = 0; e < E; e++)
            o[e] = (wr[e] + tr[e]) + pr[e];
    }
    ir_status s = onednn_layer_norm_run(m->ctx, T, E, c->ln_eps, p->wemb, NULL,
                                        m->eln_g, m->eln_b, p->wemb, NULL, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "rt: embeddings LayerNorm");
    s = rt_linear_run(&m->proj, T, p->wemb, p->x, NULL, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "rt: embeddings projection");
    return IR_OK;
}

ir_status rt_embed_forward(rt_model *m, int64_t batch, int64_t seq,
                           const int64_t *ids, const int64_t *types, ir_diag *d)
{
    const rt_config *c = &m->c;
    ir_status s = check_ids(c, batch, seq, ids, types, d);
    if (s != IR_OK)
        return s;
    if (c->embed_after_ln)
        return embed_after_ln(m, batch, seq, ids, types, d);
    int64_t H = c->hidden, E = c->embed, T = batch * seq;
    rt_plan *p = &m->plan;
    /* sum[t] = pos[s] + type[tt] (+ word[id] when not factorized) */
    float *sum = E > 0 ? p->tmp : p->x;
    int64_t count = 0;
    for (int64_t t = 0; t < T; t++) {
        int64_t pi = position_of(c, ids, t, seq, &count);
        if (pi >= c->max_positions)
            return past_positions(c, t, seq, pi, d);
        const float *pr = m->pos + pi * H;
        const float *tr = m->type + (types ? types[t] : 0) * H;
        float *o = sum + t * H;
        if (E > 0) {
            for (int64_t h = 0; h < H; h++)
                o[h] = pr[h] + tr[h];
        } else {
            /* The order the reference adds in: (word + type) + position. */
            const float *wr = m->word + ids[t] * H;
            for (int64_t h = 0; h < H; h++)
                o[h] = (wr[h] + tr[h]) + pr[h];
        }
    }
    if (E > 0) {
        for (int64_t t = 0; t < T; t++)
            memcpy(p->wemb + t * E, m->word + ids[t] * E, (size_t)E * sizeof(float));
        s = rt_linear_run(&m->proj, T, p->wemb, p->x, p->tmp, d);
        if (s != IR_OK)
            return ir_diag_prefix(d, "rt: embeddings projection");
    }
    s = onednn_layer_norm_run(m->ctx, T, H, c->ln_eps, p->x, NULL, m->eln_g,
                             m->eln_b, p->x, NULL, d);
    if (s != IR_OK)
        ir_diag_prefix(d, "rt: embeddings LayerNorm");
    return s;
}

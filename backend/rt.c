/* rt.c — the compiled encoder runtime (backend/rt.h): checks a config,
 * packs its weights into oneDNN linears once, and runs post-LN BERT
 * (Hugging Face's BertModel + tanh pooler + classifier) layer by layer
 * over one reused activation block (rt_plan.c):
 *   x = embeddings(ids, types)                                 rt_embed.c
 *   P = relative position bias (MPNet only, once)             rt_attention.c
 *   per layer l (a = attn_group[l], f = ffn_group[l]):
 *     big = x · Wqkv[a] + b                                   packed q|k|v
 *     ctx = attention(big, P, mask)                            rt_attention.c
 *     tmp = ctx · Wo[a] + b + x;       ctx = LN(tmp)          residual fused
 *     big = act(ctx · Win[f] + b)                             act fused
 *     tmp = big · Wout[f] + b + ctx;   x = LN(tmp)
 *   logits = act(x[:,0] · Wp + bp) · Wh + bh     act: tanh, relu or gelu
 * The last layer runs for the [CLS] rows only (run_last_layer_cls) unless
 * a tap asks for its output (distillation's hidden states and scores,
 * int8 calibration's linear inputs: rt_tap.c).
 * The mask is additive, (1 - mask) · finfo(f32).min, which is what
 * transformers 4.x and ir_encoder_to_graph's default put in the graph; for
 * any row with at least one real token it gives the same softmax as the
 * original BERT's -10000 (exp underflows to 0 either way).
 * Depends only on oneDNN (through backend/dnnl_*.h), libc, libm, OpenMP
 * and ir/diag: backend/emit ships this file with standalone binaries. */
#include <float.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/dnnl_norm.h"
#include "backend/rt_internal.h"

void rt_options_default(rt_options *o)
{
    o->precision = IR_PRECISION_FP32;
    o->threads = 0;
    o->kernel = RT_KERNEL_AUTO;
}

#define BAD(...) ir_diag_set(d, IR_ERR_INPUT, "rt: " __VA_ARGS__)

static ir_status check_config(const rt_config *c, ir_diag *d)
{
    if (c->hidden <= 0) return BAD("config.hidden = %lld must be positive", (long long)c->hidden);
    if (c->layers < 1 || c->layers > RT_MAX_LAYERS)
        return BAD("config.layers = %lld must be 1..%d", (long long)c->layers, RT_MAX_LAYERS);
    if (c->heads <= 0 || c->hidden % c->heads != 0)
        return BAD("config.heads = %lld does not divide config.hidden = %lld",
                   (long long)c->heads, (long long)c->hidden);
    if (c->ffn <= 0) return BAD("config.ffn = %lld must be positive", (long long)c->ffn);
    if (c->vocab <= 0) return BAD("config.vocab = %lld must be positive", (long long)c->vocab);
    if (c->max_positions <= 0)
        return BAD("config.max_positions = %lld must be positive", (long long)c->max_positions);
    if (c->type_vocab < 1)
        return BAD("config.type_vocab = %lld must be at least 1", (long long)c->type_vocab);
    if (c->embed < 0) return BAD("config.embed = %lld must be 0 or positive", (long long)c->embed);
    if (c->embed_after_ln < 0 || c->embed_after_ln > 1 ||
        (c->embed_after_ln && c->embed == 0))
        return BAD("config.embed_after_ln = %d: 0, or 1 with config.embed > 0",
                   c->embed_after_ln);
    if (c->labels < 1) return BAD("config.labels = %lld must be at least 1", (long long)c->labels);
    if (c->regression && c->labels != 1)
        return BAD("config.labels = %lld but a regression head has 1", (long long)c->labels);
    if (!ir_act_is_ffn(c->activation))
        return BAD("config.activation = %d is not gelu, gelu_tanh or relu", (int)c->activation);
    ir_act pa = rt_pool_act(c);
    if (pa != IR_ACT_TANH && pa != IR_ACT_RELU && pa != IR_ACT_GELU)
        return BAD("config.pool_act = %d is not tanh, relu or gelu", (int)c->pool_act);
    if (c->positions < 0 || c->positions > 1)
        return BAD("config.positions = %d is not 0 (absolute) or 1 (padded)", c->positions);
    if (c->positions == 1 &&
        (c->pad_id < 0 || c->pad_id >= c->vocab || c->pad_id + 2 > c->max_positions))
        return BAD("config.pad_id = %lld: padded positions need it in the "
                   "vocabulary and pad_id + 2 <= max_positions", (long long)c->pad_id);
    int64_t rel_half = c->rel_bidirectional ? c->rel_buckets / 2 : c->rel_buckets;
    if (c->rel_buckets < 0 || c->rel_bidirectional < 0 || c->rel_bidirectional > 1 ||
        (c->rel_buckets > 0 && (rel_half < 2 || c->rel_max_distance <= rel_half / 2)))
        return BAD("config.rel_buckets = %lld, rel_max_distance = %lld, "
                   "rel_bidirectional = %d: no relative position bias (0), or "
                   "at least 2 buckets each way and a max distance past the "
                   "exact ones", (long long)c->rel_buckets,
                   (long long)c->rel_max_distance, c->rel_bidirectional);
    if (!(c->ln_eps >= 0.0f)) return BAD("config.ln_eps must be >= 0");
    if (c->n_attn_groups < 1 || c->n_attn_groups > c->layers)
        return BAD("config.n_attn_groups = %lld must be 1..layers (%lld)",
                   (long long)c->n_attn_groups, (long long)c->layers);
    if (c->n_ffn_groups < 1 || c->n_ffn_groups > c->layers)
        return BAD("config.n_ffn_groups = %lld must be 1..layers (%lld)",
                   (long long)c->n_ffn_groups, (long long)c->layers);
    for (int64_t l = 0; l < c->layers; l++) {
        if (c->attn_group[l] < 0 || c->attn_group[l] >= c->n_attn_groups)
            return BAD("config.attn_group[%lld] = %lld is not a group (0..%lld)",
                       (long long)l, (long long)c->attn_group[l],
                       (long long)c->n_attn_groups - 1);
        if (c->ffn_group[l] < 0 || c->ffn_group[l] >= c->n_ffn_groups)
            return BAD("config.ffn_group[%lld] = %lld is not a group (0..%lld)",
                       (long long)l, (long long)c->ffn_group[l],
                       (long long)c->n_ffn_groups - 1);
    }
    return IR_OK;
}

static float *copy_vec(const float *src, int64_t n, int64_t *bytes)
{
    if (!src)
        return NULL;
    float *p = malloc((size_t)n * sizeof *p);
    if (p) {
        memcpy(p, src, (size_t)n * sizeof *p);
        *bytes += n * (int64_t)sizeof *p;
    }
    return p;
}

/* Linears and LayerNorm vectors of the layers; sets per_layer_lin. */
static ir_status create_layers(rt_model *m, const rt_weights *w, ir_diag *d)
{
    const rt_config *c = &m->c;
    int64_t H = c->hidden, F = c->ffn;
    ir_precision p = m->o.precision;
    m->per_layer_lin = p == IR_PRECISION_INT8 && w->act_scales != NULL;
    int64_t n_att = m->per_layer_lin ? c->layers : c->n_attn_groups;
    int64_t n_ffn = m->per_layer_lin ? c->layers : c->n_ffn_groups;
    char what[96];
    ir_status s = IR_OK;
    for (int64_t i = 0; i < n_att && s == IR_OK; i++) {
        int64_t g = m->per_layer_lin ? c->attn_group[i] : i;
        const rt_attn_weights *aw = &w->attn[g];
        const float *sc = m->per_layer_lin ? w->act_scales + 4 * i : NULL;
        snprintf(what, sizeof what, "attn[%lld].qkv_w", (long long)g);
        s = rt_linear_create(m, &m->qkv[i], p, H, 3 * H, aw->qkv_w, aw->qkv_b,
                             IR_ACT_NONE, sc ? sc[0] : 0.0f, what, d);
        if (s != IR_OK)
            break;
        snprintf(what, sizeof what, "attn[%lld].out_w", (long long)g);
        s = rt_linear_create(m, &m->ao[i], p, H, H, aw->out_w, aw->out_b,
                             IR_ACT_NONE, sc ? sc[1] : 0.0f, what, d);
    }
    for (int64_t i = 0; i < n_ffn && s == IR_OK; i++) {
        int64_t g = m->per_layer_lin ? c->ffn_group[i] : i;
        const rt_ffn_weights *fw = &w->ffn[g];
        const float *sc = m->per_layer_lin ? w->act_scales + 4 * i : NULL;
        snprintf(what, sizeof what, "ffn[%lld].in_w", (long long)g);
        s = rt_linear_create(m, &m->fin[i], p, H, F, fw->in_w, fw->in_b,
                             c->activation, sc ? sc[2] : 0.0f, what, d);
        if (s != IR_OK)
            break;
        snprintf(what, sizeof what, "ffn[%lld].out_w", (long long)g);
        s = rt_linear_create(m, &m->fout[i], p, F, H, fw->out_w, fw->out_b,
                             IR_ACT_NONE, sc ? sc[3] : 0.0f, what, d);
    }
    if (s != IR_OK)
        return s;
    for (int64_t g = 0; g < c->n_attn_groups; g++) {
        m->aln_g[g] = copy_vec(w->attn[g].ln_g, H, &m->weight_bytes);
        m->aln_b[g] = copy_vec(w->attn[g].ln_b, H, &m->weight_bytes);
        if (!m->aln_g[g] || !m->aln_b[g])
            return ir_diag_set(d, IR_ERR_INPUT, "rt: weights.attn[%lld].ln_g/ln_b "
                               "missing (or out of memory)", (long long)g);
    }
    for (int64_t g = 0; g < c->n_ffn_groups; g++) {
        m->fln_g[g] = copy_vec(w->ffn[g].ln_g, H, &m->weight_bytes);
        m->fln_b[g] = copy_vec(w->ffn[g].ln_b, H, &m->weight_bytes);
        if (!m->fln_g[g] || !m->fln_b[g])
            return ir_diag_set(d, IR_ERR_INPUT, "rt: weights.ffn[%lld].ln_g/ln_b "
                               "missing (or out of memory)", (long long)g);
    }
    return IR_OK;
}

ir_status rt_model_create(const rt_config *c, const rt_weights *w,
                          const rt_options *o, rt_model **out, ir_diag *d)
{
    *out = NULL;
    rt_options def;
    rt_options_default(&def);
    if (!o)
        o = &def;
    ir_status s = check_config(c, d);
    if (s != IR_OK)
        return s;
    if ((unsigned)o->precision >= IR_PRECISION_COUNT)
        return BAD("options.precision = %d is not fp32, bf16 or int8", (int)o->precision);
    if ((unsigned)o->kernel >= RT_KERNEL_COUNT || o->kernel == RT_KERNEL_ONEDNN_INT8)
        return BAD("options.kernel = %d is not auto, onednn_packed, onednn_plain "
                   "or openblas", (int)o->kernel);
    if (o->threads < 0)
        return BAD("options.threads = %d must be 0 (all cores) or positive", o->threads);
    if (!w->word || !w->pos || !w->type || !w->eln_g || !w->eln_b ||
        (c->embed > 0 && !w->proj) || (c->embed_after_ln && !w->proj_b) ||
        !w->pool_w || !w->head_w)
        return BAD("weights: word, pos, type, eln_g/eln_b, pool_w, head_w%s "
                   "must all be given", c->embed_after_ln ? " and proj, proj_b"
                   : c->embed > 0 ? " and proj (factorized)" : "");
    if (c->rel_buckets > 0 && !w->rel_bias)
        return BAD("weights.rel_bias [%lld, %lld] must be given with "
                   "config.rel_buckets", (long long)c->rel_buckets,
                   (long long)c->heads);
    rt_model *m = calloc(1, sizeof *m);
    if (!m)
        return ir_diag_set(d, IR_ERR_NOMEM, "rt: out of memory");
    m->c = *c;
    m->o = *o;
    m->threads = o->threads > 0 ? o->threads : omp_get_num_procs();
    m->mask_fill = -FLT_MAX;
    /* With OMP_WAIT_POLICY=passive idle OpenMP threads sleep, and each of
     * the ~14 parallel regions of a layer pays a futex wake-up (tens of us,
     * measured): TinyBERT-4 int8 at seq 128 ran in 5.4 ms on one thread
     * against 6.7 ms on two, while fp32 (4x the matmul time) lost 13.1
     * against 8.5. So under passive waiting a layer whose fp32-equivalent
     * work (int8 counted 1/4, bf16 1/2) is under 0.1 GFLOP stays on one
     * thread; with spinning threads (the default) only truly tiny ones. */
    const char *wait = getenv("OMP_WAIT_POLICY");
    m->serial_flops = wait && (strcmp(wait, "passive") == 0 ||
                               strcmp(wait, "PASSIVE") == 0) ? 1e8 : 8e6;
    omp_set_num_threads(m->threads);
    s = onednn_ctx_create(&m->ctx, d);
    if (s == IR_OK && o->precision == IR_PRECISION_BF16 && !onednn_has_bf16(m->ctx))
        s = ir_diag_set(d, IR_ERR_UNSUPPORTED,
                        "rt: precision bf16 needs a CPU with AVX512-BF16 or AMX; "
                        "this one has neither (use fp32)");
    int64_t H = c->hidden, E = c->embed > 0 ? c->embed : H;
    int64_t N = c->embed_after_ln ? E : H; /* width of positions, types, LN */
    if (s == IR_OK) {
        m->word = copy_vec(w->word, c->vocab * E, &m->weight_bytes);
        m->pos = copy_vec(w->pos, c->max_positions * N, &m->weight_bytes);
        m->type = copy_vec(w->type, c->type_vocab * N, &m->weight_bytes);
        m->eln_g = copy_vec(w->eln_g, N, &m->weight_bytes);
        m->eln_b = copy_vec(w->eln_b, N, &m->weight_bytes);
        if (c->rel_buckets > 0)
            m->rel_bias = copy_vec(w->rel_bias, c->rel_buckets * c->heads,
                                   &m->weight_bytes);
        if (!m->word || !m->pos || !m->type || !m->eln_g || !m->eln_b ||
            (c->rel_buckets > 0 && !m->rel_bias))
            s = ir_diag_set(d, IR_ERR_NOMEM, "rt: out of memory copying embeddings");
    }
    /* The small E->H projection, pooler and head stay fp32 at every
     * precision: they are a sliver of the time and int8 would cost accuracy
     * where it shows most (the logits). */
    if (s == IR_OK && c->embed > 0)
        s = rt_linear_create(m, &m->proj,
                             o->precision == IR_PRECISION_BF16 ? IR_PRECISION_BF16
                                                               : IR_PRECISION_FP32,
                             E, H, w->proj, c->embed_after_ln ? w->proj_b : NULL,
                             IR_ACT_NONE, 0.0f, "proj", d);
    if (s == IR_OK)
        s = create_layers(m, w, d);
    if (s == IR_OK)
        s = rt_linear_create(m, &m->pool, IR_PRECISION_FP32, H, H, w->pool_w, w->pool_b,
                             rt_pool_act(c), 0.0f, "pool_w", d);
    if (s == IR_OK)
        s = rt_linear_create(m, &m->head, IR_PRECISION_FP32, H, c->labels, w->head_w,
                             w->head_b, IR_ACT_NONE, 0.0f, "head_w", d);
    if (s != IR_OK) {
        rt_model_free(m);
        return s;
    }
    *out = m;
    return IR_OK;
}

/* madd[b,s] = (1 - mask) · fill, the graph's arithmetic; returns 0 when
 * every token is real (the add is then skipped). */
static int fill_mask(rt_model *m, int64_t n, const int64_t *mask)
{
    if (!mask)
        return 0;
    int any = 0;
    for (int64_t i = 0; i < n; i++) {
        any |= mask[i] != 1;
        m->plan.madd[i] = mask[i] == 1 ? 0.0f : (1.0f - (float)mask[i]) * m->mask_fill;
    }
    return any;
}

/* mask is the run's [B*S] mask, or NULL when every token is real; only the
 * calibration tap reads it (attention reads plan.madd). */
static ir_status run_layer(rt_model *m, int64_t l, int64_t B, int64_t S,
                           const int64_t *mask, const rt_taps *taps, ir_diag *d)
{
    const rt_config *c = &m->c;
    rt_plan *p = &m->plan;
    int64_t T = B * S, H = c->hidden;
    int64_t a = c->attn_group[l], f = c->ffn_group[l];
    int64_t ia = m->per_layer_lin ? l : a, iff = m->per_layer_lin ? l : f;
    int has_mask = mask != NULL;
    rt_calib_tap *cal = taps ? taps->calib : NULL;
    if (cal)
        rt_tap_absmax(cal, l, RT_SITE_QKV, p->x, T, H, mask);
    ir_status s = rt_linear_run(&m->qkv[ia], T, p->x, p->big, NULL, d);
    if (s == IR_OK)
        s = rt_attention_forward(m, B, S, has_mask, taps ? taps->scores[l] : NULL, d);
    if (s == IR_OK && cal)
        rt_tap_absmax(cal, l, RT_SITE_ATTN_OUT, p->ctx, T, H, mask);
    if (s == IR_OK)
        s = rt_linear_run(&m->ao[ia], T, p->ctx, p->tmp, p->x, d);
    if (s == IR_OK)
        s = onednn_layer_norm_run(m->ctx, T, H, c->ln_eps, p->tmp, NULL, m->aln_g[a],
                                 m->aln_b[a], p->ctx, NULL, d);
    if (s == IR_OK && cal)
        rt_tap_absmax(cal, l, RT_SITE_FFN_IN, p->ctx, T, H, mask);
    if (s == IR_OK)
        s = rt_linear_run(&m->fin[iff], T, p->ctx, p->big, NULL, d);
    if (s == IR_OK && cal)
        rt_tap_absmax(cal, l, RT_SITE_FFN_OUT, p->big, T, c->ffn, mask);
    if (s == IR_OK)
        s = rt_linear_run(&m->fout[iff], T, p->big, p->tmp, p->ctx, d);
    if (s == IR_OK)
        s = onednn_layer_norm_run(m->ctx, T, H, c->ln_eps, p->tmp, NULL, m->fln_g[f],
                                 m->fln_b[f], p->x, NULL, d);
    if (s != IR_OK)
        ir_diag_prefix(d, "rt: layer %lld", (long long)l);
    return s;
}

/* The last layer when only the pooler reads it: every token still feeds
 * the keys and values, but attention, its projection, the FFN and both
 * LayerNorms run for each sequence's first token alone, and the result
 * lands in plan.cls. Exact (the other rows never reach the logits); saves
 * about three quarters of a layer: a quarter of a 2-layer student. */
static ir_status run_last_layer_cls(rt_model *m, int64_t l, int64_t B, int64_t S,
                                    int has_mask, ir_diag *d)
{
    const rt_config *c = &m->c;
    rt_plan *p = &m->plan;
    int64_t H = c->hidden;
    int64_t a = c->attn_group[l], f = c->ffn_group[l];
    int64_t ia = m->per_layer_lin ? l : a, iff = m->per_layer_lin ? l : f;
    for (int64_t b = 0; b < B; b++)
        memcpy(p->cls + b * H, p->x + b * S * H, (size_t)H * sizeof(float));
    ir_status s = rt_linear_run(&m->qkv[ia], B * S, p->x, p->big, NULL, d);
    if (s == IR_OK)
        s = rt_attention_forward_cls(m, B, S, has_mask, p->ctx, d);
    if (s == IR_OK)
        s = rt_linear_run(&m->ao[ia], B, p->ctx, p->tmp, p->cls, d);
    if (s == IR_OK)
        s = onednn_layer_norm_run(m->ctx, B, H, c->ln_eps, p->tmp, NULL, m->aln_g[a],
                                 m->aln_b[a], p->ctx, NULL, d);
    if (s == IR_OK)
        s = rt_linear_run(&m->fin[iff], B, p->ctx, p->big, NULL, d);
    if (s == IR_OK)
        s = rt_linear_run(&m->fout[iff], B, p->big, p->tmp, p->ctx, d);
    if (s == IR_OK)
        s = onednn_layer_norm_run(m->ctx, B, H, c->ln_eps, p->tmp, NULL, m->fln_g[f],
                                 m->fln_b[f], p->cls, NULL, d);
    if (s != IR_OK)
        ir_diag_prefix(d, "rt: layer %lld ([CLS] only)", (long long)l);
    return s;
}

ir_status rt_model_run(rt_model *m, int64_t batch, int64_t seq,
                       const int64_t *ids, const int64_t *types,
                       const int64_t *mask, float *logits,
                       const rt_taps *taps, ir_diag *d)
{
    const rt_config *c = &m->c;
    if (batch < 1)
        return BAD("batch = %lld must be at least 1", (long long)batch);
    if (seq < 1 || seq > c->max_positions)
        return BAD("seq = %lld must be 1..max_positions (%lld)", (long long)seq,
                   (long long)c->max_positions);
    if (!ids || !logits)
        return BAD("input ids and the logits buffer must be given");
    /* (1 - mask) * fill: any other value overflows to inf or NaN. */
    for (int64_t i = 0; mask && i < batch * seq; i++)
        if (mask[i] != 0 && mask[i] != 1)
            return BAD("attention_mask[%lld][%lld] = %lld must be 0 (padding) "
                       "or 1 (a token)", (long long)(i / seq),
                       (long long)(i % seq), (long long)mask[i]);
    ir_status s = rt_plan_reserve(&m->plan, c, batch, seq, d);
    if (s != IR_OK)
        return s;
    /* OpenMP's thread count is per calling thread: set it on every run so a
     * model keeps its own count whoever drives it. A layer under ~8 MFLOP
     * fp32-equivalent (a tiny model or a handful of tokens) runs on one
     * thread: there each
     * primitive's fork/join costs more than it saves, and far more when
     * the cores are shared with other processes (m->serial_flops: larger
     * when the threads sleep between regions). */
    int64_t H = c->hidden, T = batch * seq;
    double layer_flops = 2.0 * (double)T * (double)H * (4.0 * H + 2.0 * c->ffn) /
                         (m->o.precision == IR_PRECISION_INT8   ? 4.0
                          : m->o.precision == IR_PRECISION_BF16 ? 2.0
                                                                : 1.0);
    omp_set_num_threads(layer_flops < m->serial_flops ? 1 : m->threads);
    size_t hbytes = (size_t)(T * H) * sizeof(float);
    int has_mask = fill_mask(m, T, mask);
    s = rt_embed_forward(m, batch, seq, ids, types, d);
    if (s != IR_OK)
        return s;
    if (c->rel_buckets > 0) /* one bias for every layer */
        rt_attention_bias(m, batch, seq, has_mask);
    if (taps && taps->hidden[0])
        memcpy(taps->hidden[0], m->plan.x, hbytes);
    int64_t L = c->layers;
    /* Taps on the last layer need all of its rows. */
    int cls_only = !(taps && (taps->hidden[L] || taps->scores[L - 1] || taps->calib));
    for (int64_t l = 0; l < L - cls_only; l++) {
        if ((s = run_layer(m, l, batch, seq, has_mask ? mask : NULL, taps, d)) != IR_OK)
            return s;
        if (taps && taps->hidden[l + 1])
            memcpy(taps->hidden[l + 1], m->plan.x, hbytes);
    }
    if (cls_only)
        s = run_last_layer_cls(m, L - 1, batch, seq, has_mask, d);
    else
        for (int64_t b = 0; b < batch; b++)
            memcpy(m->plan.cls + b * H, m->plan.x + b * seq * H, (size_t)H * sizeof(float));
    if (s != IR_OK)
        return s;
    s = rt_linear_run(&m->pool, batch, m->plan.cls, m->plan.pooled, NULL, d);
    if (s == IR_OK)
        s = rt_linear_run(&m->head, batch, m->plan.pooled, logits, NULL, d);
    if (s != IR_OK)
        ir_diag_prefix(d, "rt: pooler/head");
    return s;
}

/* Adds l's kernel to the tally names[]/counts[] (distinct names, in order
 * of first use). */
static void kernels_tally(const rt_linear *l, const char **names, int *counts,
                          int *n, int cap)
{
    const char *k = rt_linear_kernel(l);
    if (!k)
        return;
    for (int i = 0; i < *n; i++)
        if (strcmp(names[i], k) == 0) {
            counts[i]++;
            return;
        }
    if (*n < cap) {
        names[*n] = k;
        counts[(*n)++] = 1;
    }
}

const char *rt_model_kernels(const rt_model *m, char *buf, size_t n)
{
    enum { CAP = 8 };
    const char *names[CAP];
    int counts[CAP], k = 0;
    kernels_tally(&m->proj, names, counts, &k, CAP);
    for (int i = 0; i < RT_MAX_LAYERS; i++) {
        kernels_tally(&m->qkv[i], names, counts, &k, CAP);
        kernels_tally(&m->ao[i], names, counts, &k, CAP);
        kernels_tally(&m->fin[i], names, counts, &k, CAP);
        kernels_tally(&m->fout[i], names, counts, &k, CAP);
    }
    kernels_tally(&m->pool, names, counts, &k, CAP);
    kernels_tally(&m->head, names, counts, &k, CAP);
    size_t o = 0;
    if (n)
        buf[0] = '\0';
    for (int i = 0; i < k && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%s x%d", i ? ", " : "",
                              names[i], counts[i]);
    return buf;
}

int64_t rt_model_bytes(const rt_model *m)
{
    return m->weight_bytes + rt_plan_bytes(&m->plan);
}

void rt_model_free(rt_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < RT_MAX_LAYERS; i++) {
        rt_linear_free(&m->qkv[i]);
        rt_linear_free(&m->ao[i]);
        rt_linear_free(&m->fin[i]);
        rt_linear_free(&m->fout[i]);
        free(m->aln_g[i]);
        free(m->aln_b[i]);
        free(m->fln_g[i]);
        free(m->fln_b[i]);
    }
    rt_linear_free(&m->proj);
    rt_linear_free(&m->pool);
    rt_linear_free(&m->head);
    free(m->word);
    free(m->pos);
    free(m->type);
    free(m->eln_g);
    free(m->eln_b);
    free(m->rel_bias);
    rt_plan_free(&m->plan);
    onednn_ctx_free(m->ctx);
    free(m);
}

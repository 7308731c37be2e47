/* params.c — the parameter table for an encoder config, the contiguous
 * parameter / gradient / moment blocks, random initialisation and the flat
 * AdamW update. See params.h for the layout and names. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "distill/isa.h"
#include "distill/kernels.h"
#include "distill/params.h"

ir_status train_act_check(ir_act a, ir_diag *d)
{
    if (a == IR_ACT_GELU || a == IR_ACT_GELU_TANH)
        return IR_OK;
    return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                       "trainer: FFN activation '%s' is not implemented; the "
                       "trainer runs 'gelu' (erf) and 'gelu_tanh'",
                       ir_act_name(a));
}

ir_status train_config_check(const ir_encoder_config *c, ir_diag *d)
{
#define NEED(cond, ...) \
    do { if (!(cond)) return ir_diag_set(d, IR_ERR_INPUT, __VA_ARGS__); } while (0)
    NEED(c->layers >= 1 && c->layers <= IR_ENCODER_MAX_LAYERS,
         "config.layers = %lld is outside [1, %d]", (long long)c->layers,
         IR_ENCODER_MAX_LAYERS);
    NEED(c->hidden >= 1, "config.hidden = %lld must be >= 1", (long long)c->hidden);
    NEED(c->heads >= 1 && c->hidden % c->heads == 0,
         "config.heads = %lld does not divide config.hidden = %lld",
         (long long)c->heads, (long long)c->hidden);
    NEED(c->ffn >= 1, "config.ffn = %lld must be >= 1", (long long)c->ffn);
    NEED(c->vocab >= 1, "config.vocab = %lld must be >= 1", (long long)c->vocab);
    NEED(c->max_positions >= 1, "config.max_positions = %lld must be >= 1",
         (long long)c->max_positions);
    NEED(c->type_vocab >= 1, "config.type_vocab = %lld must be >= 1",
         (long long)c->type_vocab);
    NEED(c->embed >= 0, "config.embed = %lld must be >= 0 (0 = unfactorized)",
         (long long)c->embed);
    NEED(c->labels >= 1, "config.labels = %lld must be >= 1", (long long)c->labels);
    NEED(c->n_attn_groups >= 1 && c->n_attn_groups <= c->layers,
         "config.n_attn_groups = %lld is outside [1, layers = %lld]",
         (long long)c->n_attn_groups, (long long)c->layers);
    NEED(c->n_ffn_groups >= 1 && c->n_ffn_groups <= c->layers,
         "config.n_ffn_groups = %lld is outside [1, layers = %lld]",
         (long long)c->n_ffn_groups, (long long)c->layers);
    bool used_a[IR_ENCODER_MAX_LAYERS] = {false}, used_f[IR_ENCODER_MAX_LAYERS] = {false};
    for (int64_t l = 0; l < c->layers; l++) {
        NEED(c->attn_group[l] >= 0 && c->attn_group[l] < c->n_attn_groups,
             "config.attn_group[%lld] = %lld is outside [0, n_attn_groups = %lld)",
             (long long)l, (long long)c->attn_group[l], (long long)c->n_attn_groups);
        NEED(c->ffn_group[l] >= 0 && c->ffn_group[l] < c->n_ffn_groups,
             "config.ffn_group[%lld] = %lld is outside [0, n_ffn_groups = %lld)",
             (long long)l, (long long)c->ffn_group[l], (long long)c->n_ffn_groups);
        used_a[c->attn_group[l]] = used_f[c->ffn_group[l]] = true;
    }
    for (int64_t g = 0; g < c->n_attn_groups; g++)
        NEED(used_a[g], "config.attn_group: attention group %lld is used by no layer",
             (long long)g);
    for (int64_t g = 0; g < c->n_ffn_groups; g++)
        NEED(used_f[g], "config.ffn_group: FFN group %lld is used by no layer",
             (long long)g);
    ir_act pa = ir_encoder_pool_act(c);
    NEED(pa == IR_ACT_TANH || pa == IR_ACT_RELU || pa == IR_ACT_GELU ||
         pa == IR_ACT_GELU_TANH, "config.pool_act = %s: the trainer's head "
         "runs tanh, relu, gelu or gelu_tanh", ir_act_name(pa));
    NEED(c->positions == IR_ENC_POS_ABSOLUTE ||
         (c->positions == IR_ENC_POS_PADDED && c->pad_id >= 0 &&
          c->pad_id < c->vocab && c->pad_id + 2 <= c->max_positions),
         "config.pad_id = %lld: padded positions need it in the vocabulary "
         "and pad_id + 2 <= max_positions = %lld", (long long)c->pad_id,
         (long long)c->max_positions);
    int64_t rel_half = c->rel_bidirectional ? c->rel_buckets / 2 : c->rel_buckets;
    NEED(c->rel_buckets == 0 ||
         (c->rel_buckets > 0 && rel_half >= 2 && c->rel_max_distance > rel_half / 2),
         "config.rel_buckets = %lld, rel_max_distance = %lld: no relative "
         "position bias (0), or at least 2 buckets each way and a max "
         "distance past the exact ones", (long long)c->rel_buckets,
         (long long)c->rel_max_distance);
    NEED((unsigned)c->embed_kind < IR_ENC_EMBED_COUNT,
         "config.embed_kind = %d is not project_word or project_after_ln",
         (int)c->embed_kind);
    NEED(c->embed_kind != IR_ENC_EMBED_PROJECT_AFTER_LN || c->embed > 0,
         "config.embed_kind = project_after_ln needs config.embed > 0 (the "
         "width of the embedding tables)");
#undef NEED
    return IR_OK;
}

/* Appends one tensor to the table (tensors NULL = count only). */
static void table_add(train_tensor *tensors, size_t *n, size_t *total,
                      int64_t rows, int64_t cols, bool decay, const char *fmt,
                      long long group)
{
    if (tensors) {
        train_tensor *t = &tensors[*n];
        snprintf(t->name, sizeof t->name, fmt, group);
        t->offset = *total;
        t->rows = rows;
        t->cols = cols;
        t->numel = (size_t)(rows * cols);
        t->decay = decay;
    }
    (*n)++;
    *total += (size_t)(rows * cols);
}

/* Fills the table in the order params.h lists; returns the tensor count. */
static size_t table_build(const ir_encoder_config *c, train_tensor *t,
                          size_t *total)
{
    int64_t C = c->hidden, F = c->ffn, E = c->embed ? c->embed : c->hidden;
    bool after_ln = c->embed > 0 && c->embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN;
    int64_t N = after_ln ? E : C; /* the tables' and the LayerNorm's width */
    size_t n = 0;
    *total = 0;
    table_add(t, &n, total, c->vocab, E, true, "embeddings.word%.0lld", 0);
    if (c->embed)
        table_add(t, &n, total, E, C, true, "embeddings.proj%.0lld", 0);
    if (after_ln)
        table_add(t, &n, total, C, 1, false, "embeddings.proj_bias%.0lld", 0);
    table_add(t, &n, total, c->max_positions, N, true, "embeddings.position%.0lld", 0);
    table_add(t, &n, total, c->type_vocab, N, true, "embeddings.type%.0lld", 0);
    table_add(t, &n, total, N, 1, false, "embeddings.ln.gamma%.0lld", 0);
    table_add(t, &n, total, N, 1, false, "embeddings.ln.beta%.0lld", 0);
    for (int64_t a = 0; a < c->n_attn_groups; a++) {
        table_add(t, &n, total, C, 3 * C, true, "group%lld.attn.qkv.weight", a);
        table_add(t, &n, total, 3 * C, 1, false, "group%lld.attn.qkv.bias", a);
        table_add(t, &n, total, C, C, true, "group%lld.attn.out.weight", a);
        table_add(t, &n, total, C, 1, false, "group%lld.attn.out.bias", a);
        table_add(t, &n, total, C, 1, false, "group%lld.attn.ln.gamma", a);
        table_add(t, &n, total, C, 1, false, "group%lld.attn.ln.beta", a);
    }
    for (int64_t f = 0; f < c->n_ffn_groups; f++) {
        table_add(t, &n, total, C, F, true, "group%lld.ffn.in.weight", f);
        table_add(t, &n, total, F, 1, false, "group%lld.ffn.in.bias", f);
        table_add(t, &n, total, F, C, true, "group%lld.ffn.out.weight", f);
        table_add(t, &n, total, C, 1, false, "group%lld.ffn.out.bias", f);
        table_add(t, &n, total, C, 1, false, "group%lld.ffn.ln.gamma", f);
        table_add(t, &n, total, C, 1, false, "group%lld.ffn.ln.beta", f);
    }
    table_add(t, &n, total, C, C, true, "pooler.weight%.0lld", 0);
    table_add(t, &n, total, C, 1, false, "pooler.bias%.0lld", 0);
    table_add(t, &n, total, C, c->labels, true, "head.weight%.0lld", 0);
    table_add(t, &n, total, c->labels, 1, false, "head.bias%.0lld", 0);
    if (c->rel_buckets > 0) /* an embedding table: decayed, as HF does */
        table_add(t, &n, total, c->rel_buckets, c->heads, true,
                  "relative_bias%.0lld", 0);
    return n;
}

/* Points the views at one block, walking the table in its order. */
static void weights_bind(const train_params *p, float *base, train_weights *w)
{
    const train_tensor *t = p->tensors;
    size_t i = 0;
    memset(w, 0, sizeof *w);
#define NEXT() (base + t[i++].offset)
    w->word = NEXT();
    w->proj = p->cfg.embed ? NEXT() : NULL;
    w->proj_b = p->cfg.embed && p->cfg.embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN
                    ? NEXT() : NULL;
    w->pos = NEXT();
    w->type = NEXT();
    w->eln_g = NEXT();
    w->eln_b = NEXT();
    for (int64_t a = 0; a < p->cfg.n_attn_groups; a++) {
        train_attn_w *x = &w->attn[a];
        x->qkv_w = NEXT(); x->qkv_b = NEXT(); x->out_w = NEXT();
        x->out_b = NEXT(); x->ln_g = NEXT(); x->ln_b = NEXT();
    }
    for (int64_t f = 0; f < p->cfg.n_ffn_groups; f++) {
        train_ffn_w *x = &w->ffn[f];
        x->in_w = NEXT(); x->in_b = NEXT(); x->out_w = NEXT();
        x->out_b = NEXT(); x->ln_g = NEXT(); x->ln_b = NEXT();
    }
    w->pool_w = NEXT();
    w->pool_b = NEXT();
    w->head_w = NEXT();
    w->head_b = NEXT();
    w->rel_bias = p->cfg.rel_buckets > 0 ? NEXT() : NULL;
#undef NEXT
}

ir_status train_params_new(const ir_encoder_config *c, train_params **out,
                           ir_diag *d)
{
    *out = NULL;
    ir_status s = train_config_check(c, d);
    if (s != IR_OK)
        return s;
    train_params *p = calloc(1, sizeof *p);
    if (!p)
        return ir_diag_set(d, IR_ERR_NOMEM, "trainer parameters: out of memory");
    p->cfg = *c;
    size_t total;
    p->n_tensors = table_build(c, NULL, &total);
    p->tensors = calloc(p->n_tensors, sizeof *p->tensors);
    p->n = total;
    /* one block per role, each laid out by the same table */
    p->params = calloc(total, sizeof(float));
    p->grads = calloc(total, sizeof(float));
    p->m = calloc(total, sizeof(float));
    p->v = calloc(total, sizeof(float));
    if (!p->tensors || !p->params || !p->grads || !p->m || !p->v) {
        train_params_free(p);
        return ir_diag_set(d, IR_ERR_NOMEM,
                           "trainer parameters: out of memory for 4 x %zu floats",
                           total);
    }
    table_build(c, p->tensors, &total);
    weights_bind(p, p->params, &p->w);
    weights_bind(p, p->grads, &p->g);
    *out = p;
    return IR_OK;
}

void train_params_free(train_params *p)
{
    if (!p)
        return;
    free(p->tensors);
    free(p->params);
    free(p->grads);
    free(p->m);
    free(p->v);
    free(p);
}

const train_tensor *train_params_find(const train_params *p, const char *name)
{
    for (size_t i = 0; i < p->n_tensors; i++)
        if (strcmp(p->tensors[i].name, name) == 0)
            return &p->tensors[i];
    return NULL;
}

void train_params_zero_grad(train_params *p)
{
    memset(p->grads, 0, p->n * sizeof(float));
}

void train_params_init_random(train_params *p, uint64_t seed, float std)
{
    for (size_t i = 0; i < p->n_tensors; i++) {
        const train_tensor *t = &p->tensors[i];
        float *x = p->params + t->offset;
        size_t len = strlen(t->name);
        bool gamma = len >= 5 && strcmp(t->name + len - 5, "gamma") == 0;
        for (size_t k = 0; k < t->numel; k++) {
            if (t->decay) /* counter = global offset: layout-stable draws */
                x[k] = std * train_rng_normal(seed, t->offset + k);
            else
                x[k] = gamma ? 1.0f : 0.0f;
        }
    }
}

void train_adamw_default(train_adamw *o)
{
    o->lr = 5e-5f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->weight_decay = 0.01f;
}

/* One AdamW step's constants (train_adamw_update). */
typedef struct adamw_coef {
    float keep, step_size, inv_sqrt_bc2, b1, b2, c1, c2, eps;
} adamw_coef;

/* The step on n elements, one at a time: the portable path, and the
 * tails of the vector ones. GCC keeps this loop scalar whatever the
 * target (sqrtf may set errno, and the build keeps -fmath-errno), so the
 * vector paths below spell it out in intrinsics. */
TRAIN_ISA_INLINE void adamw_chunk_body(float *x, const float *g, float *m,
                                       float *v, size_t n, const adamw_coef *k)
{
    float keep = k->keep, step_size = k->step_size;
    float inv_sqrt_bc2 = k->inv_sqrt_bc2, eps = k->eps;
    float b1 = k->b1, b2 = k->b2, c1 = k->c1, c2 = k->c2;
    for (size_t i = 0; i < n; i++) {
        float gk = g[i];
        float mk = b1 * m[i] + c1 * gk;
        float vk = b2 * v[i] + c2 * gk * gk;
        m[i] = mk;
        v[i] = vk;
        x[i] = x[i] * keep - step_size * mk / (sqrtf(vk) * inv_sqrt_bc2 + eps);
    }
}

static void adamw_chunk_portable(float *x, const float *g, float *m, float *v,
                                 size_t n, const adamw_coef *k)
{
    adamw_chunk_body(x, g, m, v, n, k);
}

/* adamw_chunk_body on 8 (AVX2) or 16 (AVX-512) lanes: the same operations
 * in the same order (no FMA: a multiply and an add each round, as in the
 * C), and IEEE vector division and sqrt round exactly as the scalar ones,
 * so every path gives the same bits. W is the vector width in floats. */
#if TRAIN_ISA_X86
#define ADAMW_VECTOR_LOOP(W, VT, P)                                           \
    VT keep = P##_set1_ps(k->keep), ss = P##_set1_ps(k->step_size);           \
    VT ib = P##_set1_ps(k->inv_sqrt_bc2), eps = P##_set1_ps(k->eps);          \
    VT b1 = P##_set1_ps(k->b1), b2 = P##_set1_ps(k->b2);                      \
    VT c1 = P##_set1_ps(k->c1), c2 = P##_set1_ps(k->c2);                      \
    size_t i = 0;                                                             \
    for (; i + (W) <= n; i += (W)) {                                          \
        VT gk = P##_loadu_ps(g + i);                                          \
        VT mk = P##_add_ps(P##_mul_ps(b1, P##_loadu_ps(m + i)),               \
                           P##_mul_ps(c1, gk));                               \
        VT vk = P##_add_ps(P##_mul_ps(b2, P##_loadu_ps(v + i)),               \
                           P##_mul_ps(P##_mul_ps(c2, gk), gk));               \
        P##_storeu_ps(m + i, mk);                                             \
        P##_storeu_ps(v + i, vk);                                             \
        VT den = P##_add_ps(P##_mul_ps(P##_sqrt_ps(vk), ib), eps);            \
        P##_storeu_ps(x + i,                                                  \
                      P##_sub_ps(P##_mul_ps(P##_loadu_ps(x + i), keep),       \
                                 P##_div_ps(P##_mul_ps(ss, mk), den)));       \
    }                                                                         \
    adamw_chunk_body(x + i, g + i, m + i, v + i, n - i, k);

TRAIN_TARGET_AVX2
static void adamw_chunk_avx2(float *x, const float *g, float *m, float *v,
                             size_t n, const adamw_coef *k)
{
    ADAMW_VECTOR_LOOP(8, __m256, _mm256)
}

TRAIN_TARGET_AVX512
static void adamw_chunk_avx512(float *x, const float *g, float *m, float *v,
                               size_t n, const adamw_coef *k)
{
    ADAMW_VECTOR_LOOP(16, __m512, _mm512)
}
#endif

/* Elements per unit of work of the threads. */
#define ADAMW_CHUNK 16384

void train_adamw_update_isa(train_isa isa, train_params *p,
                            const train_adamw *o, int64_t step)
{
    /* torch.optim.AdamW's order of operations, in float like torch's f32
     * tensors: decoupled decay, moments, then
     *   x -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps).
     * Only the two bias corrections are formed in double (once per step).
     * Elementwise, so any thread split gives the same bits; float keeps
     * the loop to single-precision arithmetic, which matters because this
     * streams every parameter, gradient and moment once per step. */
    isa = train_isa_resolve(isa);
    double bc1 = 1.0 - pow(o->beta1, (double)step);
    double bc2 = 1.0 - pow(o->beta2, (double)step);
    adamw_coef k = {.step_size = (float)(o->lr / bc1),
                    .inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2)),
                    .b1 = o->beta1, .b2 = o->beta2, .eps = o->eps,
                    .c1 = 1.0f - o->beta1, .c2 = 1.0f - o->beta2};
    for (size_t i = 0; i < p->n_tensors; i++) {
        const train_tensor *t = &p->tensors[i];
        k.keep = 1.0f - (t->decay ? o->lr * o->weight_decay : 0.0f);
        float *x = p->params + t->offset;
        const float *g = p->grads + t->offset;
        float *m = p->m + t->offset, *v = p->v + t->offset;
        size_t nc = (t->numel + ADAMW_CHUNK - 1) / ADAMW_CHUNK;
#pragma omp parallel for schedule(static) if (t->numel > 65536)
        for (size_t c = 0; c < nc; c++) {
            size_t at = c * ADAMW_CHUNK;
            size_t n = t->numel - at < ADAMW_CHUNK ? t->numel - at
                                                    : ADAMW_CHUNK;
            TRAIN_ISA_CALL(isa, adamw_chunk,
                           (x + at, g + at, m + at, v + at, n, &k));
        }
    }
}

void train_adamw_update(train_params *p, const train_adamw *o, int64_t step)
{
    train_adamw_update_isa(TRAIN_ISA_AUTO, p, o, step);
}

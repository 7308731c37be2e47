/* encoder.c — the encoder config (defaults, sharing maps, validation), its
 * weight table (names and shapes in one fixed order), allocation, lookup,
 * parameter counts and a text summary.
 *
 * The weight table is the one place that knows the naming scheme; the graph
 * lowering, the lifting and the trainer all walk it through
 * ir_encoder_weight_spec so they cannot disagree on a name or a shape.
 */
#include "ir/encoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ir_encoder_config_init(ir_encoder_config *c)
{
    memset(c, 0, sizeof *c);
    c->hidden = 768;
    c->layers = 12;
    c->heads = 12;
    c->ffn = 3072;
    c->vocab = 30522;
    c->max_positions = 512;
    c->type_vocab = 2;
    c->embed = 0;
    c->labels = 2;
    c->activation = IR_ACT_GELU;
    c->head = IR_ENC_HEAD_CLASSIFICATION;
    c->pool_act = IR_ACT_NONE; /* tanh */
    c->positions = IR_ENC_POS_ABSOLUTE;
    c->pad_id = 0;
    c->ln_eps = 1e-12f;
    c->n_attn_groups = c->n_ffn_groups = c->layers;
    for (int64_t l = 0; l < IR_ENCODER_MAX_LAYERS; l++)
        c->attn_group[l] = c->ffn_group[l] = l;
}

ir_status ir_encoder_config_share(ir_encoder_config *c, ir_enc_share s,
                                  int64_t k, ir_diag *d)
{
    int64_t L = c->layers;
    if (L < 1 || L > IR_ENCODER_MAX_LAYERS)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "config.layers = %lld: must be 1..%d before "
                           "choosing a sharing scheme",
                           (long long)L, IR_ENCODER_MAX_LAYERS);
    if (s == IR_ENC_SHARE_GROUPS && (k < 1 || k > L))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "sharing groups:%lld: the group size must be "
                           "1..layers (%lld)", (long long)k, (long long)L);
    for (int64_t l = 0; l < L; l++) {
        int64_t a = l, f = l;
        switch (s) {
        case IR_ENC_SHARE_NONE: break;
        case IR_ENC_SHARE_ALL: a = f = 0; break;
        case IR_ENC_SHARE_GROUPS: a = f = l / k; break;
        case IR_ENC_SHARE_ATTENTION: a = 0; break;
        case IR_ENC_SHARE_FFN: f = 0; break;
        default:
            return ir_diag_set(d, IR_ERR_INPUT, "unknown sharing scheme %d",
                               (int)s);
        }
        c->attn_group[l] = a;
        c->ffn_group[l] = f;
    }
    int64_t ng = (s == IR_ENC_SHARE_GROUPS) ? (L + k - 1) / k : L;
    c->n_attn_groups = (s == IR_ENC_SHARE_ALL || s == IR_ENC_SHARE_ATTENTION) ? 1 : ng;
    c->n_ffn_groups = (s == IR_ENC_SHARE_ALL || s == IR_ENC_SHARE_FFN) ? 1 : ng;
    for (int64_t l = L; l < IR_ENCODER_MAX_LAYERS; l++)
        c->attn_group[l] = c->ffn_group[l] = 0;
    return IR_OK;
}

static ir_status check_map(const char *what, const int64_t *map, int64_t n,
                           int64_t L, ir_diag *d)
{
    if (n < 1 || n > L)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "config.n_%s_groups = %lld: must be 1..layers "
                           "(%lld)", what, (long long)n, (long long)L);
    bool used[IR_ENCODER_MAX_LAYERS] = {false};
    for (int64_t l = 0; l < L; l++) {
        if (map[l] < 0 || map[l] >= n)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "config.%s_group[%lld] = %lld: must be "
                               "0..%lld (n_%s_groups - 1)",
                               what, (long long)l, (long long)map[l],
                               (long long)(n - 1), what);
        used[map[l]] = true;
    }
    for (int64_t g = 0; g < n; g++)
        if (!used[g])
            return ir_diag_set(d, IR_ERR_INPUT,
                               "config.%s_group: group %lld is used by no "
                               "layer (its weights would be dead); number "
                               "groups 0..n-1 in use", what, (long long)g);
    return IR_OK;
}

/* Sizes beyond this are surely a mistake and would overflow counts. */
#define DIM_LIMIT ((int64_t)1 << 24)

/* The relative position bias: none, or a bucketing whose exact range
 * (half / 2 distances) is at least 1 and whose logarithmic range ends past
 * it (ir/relpos.h divides by log(max_distance / exact)). */
static ir_status ir_encoder_relpos_validate(const ir_encoder_config *c,
                                            ir_diag *d)
{
    if (c->rel_buckets == 0)
        return IR_OK;
    int64_t min = c->rel_bidirectional ? 4 : 2;
    if (c->rel_buckets < min || c->rel_buckets > DIM_LIMIT)
        return ir_diag_set(d, IR_ERR_INPUT, "config.rel_buckets = %lld: must "
                           "be 0 (no relative position bias) or %lld..%lld "
                           "(%s)", (long long)c->rel_buckets, (long long)min,
                           (long long)DIM_LIMIT, c->rel_bidirectional
                           ? "bidirectional: half the buckets each way"
                           : "one direction");
    int64_t exact = (c->rel_bidirectional ? c->rel_buckets / 2
                                          : c->rel_buckets) / 2;
    if (c->rel_max_distance <= exact || c->rel_max_distance > DIM_LIMIT)
        return ir_diag_set(d, IR_ERR_INPUT, "config.rel_max_distance = %lld: "
                           "must be more than the %lld distances with their "
                           "own bucket (and at most %lld)",
                           (long long)c->rel_max_distance, (long long)exact,
                           (long long)DIM_LIMIT);
    return IR_OK;
}

static ir_status check_pos(const char *field, int64_t v, ir_diag *d)
{
    if (v < 1 || v > DIM_LIMIT)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "config.%s = %lld: must be 1..%lld", field,
                           (long long)v, (long long)DIM_LIMIT);
    return IR_OK;
}

ir_status ir_encoder_config_validate(const ir_encoder_config *c, ir_diag *d)
{
    ir_status s;
    if ((s = check_pos("hidden", c->hidden, d)) ||
        (s = check_pos("heads", c->heads, d)) ||
        (s = check_pos("ffn", c->ffn, d)) ||
        (s = check_pos("vocab", c->vocab, d)) ||
        (s = check_pos("max_positions", c->max_positions, d)) ||
        (s = check_pos("type_vocab", c->type_vocab, d)) ||
        (s = check_pos("labels", c->labels, d)))
        return s;
    if (c->layers < 1 || c->layers > IR_ENCODER_MAX_LAYERS)
        return ir_diag_set(d, IR_ERR_INPUT, "config.layers = %lld: must be "
                           "1..%d", (long long)c->layers,
                           IR_ENCODER_MAX_LAYERS);
    if (c->hidden % c->heads != 0)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "config.heads = %lld does not divide config.hidden "
                           "= %lld (each head needs hidden/heads dims)",
                           (long long)c->heads, (long long)c->hidden);
    if (c->embed < 0 || c->embed > DIM_LIMIT)
        return ir_diag_set(d, IR_ERR_INPUT, "config.embed = %lld: must be 0 "
                           "(no factorization) or 1..%lld",
                           (long long)c->embed, (long long)DIM_LIMIT);
    if ((unsigned)c->embed_kind >= IR_ENC_EMBED_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "config.embed_kind = %d: not "
                           "project_word or project_after_ln",
                           (int)c->embed_kind);
    if (c->embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN && c->embed == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "config.embed_kind = "
                           "project_after_ln needs config.embed > 0 (the E "
                           "of the embedding tables)");
    if (!ir_act_is_ffn(c->activation))
        return ir_diag_set(d, IR_ERR_INPUT, "config.activation = %d: not "
                           "gelu, gelu_tanh or relu", (int)c->activation);
    if ((unsigned)c->head >= IR_ENC_HEAD_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "config.head = %d: not "
                           "classification or regression", (int)c->head);
    if (c->head == IR_ENC_HEAD_REGRESSION && c->labels != 1)
        return ir_diag_set(d, IR_ERR_INPUT, "config.labels = %lld: a "
                           "regression head has exactly 1 output",
                           (long long)c->labels);
    ir_act pa = ir_encoder_pool_act(c);
    if (pa != IR_ACT_TANH && pa != IR_ACT_RELU && pa != IR_ACT_GELU)
        return ir_diag_set(d, IR_ERR_INPUT, "config.pool_act = %s: not tanh, "
                           "relu or gelu", ir_act_name(c->pool_act));
    if ((unsigned)c->positions >= IR_ENC_POS_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "config.positions = %d: not "
                           "absolute or padded", (int)c->positions);
    if (c->positions == IR_ENC_POS_PADDED &&
        (c->pad_id < 0 || c->pad_id >= c->vocab ||
         c->pad_id + 2 > c->max_positions))
        return ir_diag_set(d, IR_ERR_INPUT, "config.pad_id = %lld: padded "
                           "positions need 0 <= pad_id < vocab (%lld) and "
                           "pad_id + 2 <= max_positions (%lld)",
                           (long long)c->pad_id, (long long)c->vocab,
                           (long long)c->max_positions);
    if ((s = ir_encoder_relpos_validate(c, d)) != IR_OK)
        return s;
    if (!(c->ln_eps > 0.0f) || !isfinite(c->ln_eps))
        return ir_diag_set(d, IR_ERR_INPUT, "config.ln_eps = %g: must be a "
                           "positive finite number", (double)c->ln_eps);
    if ((s = check_map("attn", c->attn_group, c->n_attn_groups, c->layers, d)))
        return s;
    return check_map("ffn", c->ffn_group, c->n_ffn_groups, c->layers, d);
}

bool ir_encoder_config_equal(const ir_encoder_config *a,
                             const ir_encoder_config *b)
{
    if (a->hidden != b->hidden || a->layers != b->layers ||
        a->heads != b->heads || a->ffn != b->ffn || a->vocab != b->vocab ||
        a->max_positions != b->max_positions ||
        a->type_vocab != b->type_vocab || a->embed != b->embed ||
        a->embed_kind != b->embed_kind ||
        a->labels != b->labels || a->activation != b->activation ||
        a->head != b->head || a->ln_eps != b->ln_eps ||
        ir_encoder_pool_act(a) != ir_encoder_pool_act(b) ||
        a->positions != b->positions ||
        a->pad_id != b->pad_id || a->rel_buckets != b->rel_buckets ||
        (a->rel_buckets > 0 &&
         (a->rel_max_distance != b->rel_max_distance ||
          a->rel_bidirectional != b->rel_bidirectional)) ||
        a->n_attn_groups != b->n_attn_groups ||
        a->n_ffn_groups != b->n_ffn_groups)
        return false;
    for (int64_t l = 0; l < a->layers && l < IR_ENCODER_MAX_LAYERS; l++)
        if (a->attn_group[l] != b->attn_group[l] ||
            a->ffn_group[l] != b->ffn_group[l])
            return false;
    return true;
}

static const char *const head_names[IR_ENC_HEAD_COUNT] = {"classification",
                                                          "regression"};

const char *ir_enc_pos_name(ir_enc_pos p)
{
    static const char *const names[IR_ENC_POS_COUNT] = {"absolute", "padded"};
    return (unsigned)p < IR_ENC_POS_COUNT ? names[p] : "?";
}

const char *ir_enc_embed_name(ir_enc_embed k)
{
    static const char *const names[IR_ENC_EMBED_COUNT] = {"project_word",
                                                          "project_after_ln"};
    return (unsigned)k < IR_ENC_EMBED_COUNT ? names[k] : "?";
}

const char *ir_enc_head_name(ir_enc_head h)
{
    return (unsigned)h < IR_ENC_HEAD_COUNT ? head_names[h] : "?";
}

bool ir_enc_head_parse(const char *s, ir_enc_head *out)
{
    for (int i = 0; i < IR_ENC_HEAD_COUNT; i++)
        if (strcmp(s, head_names[i]) == 0) {
            *out = (ir_enc_head)i;
            return true;
        }
    return false;
}

/* ---- the weight table ---------------------------------------------------
 * Order: embeddings, the relative position bias (when there is one),
 * attention groups, FFN groups, pooler, head. */

enum { ATTN_PER_GROUP = 6, FFN_PER_GROUP = 6 };

static bool after_ln(const ir_encoder_config *c)
{
    return c->embed > 0 && c->embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN;
}

static size_t n_embed_weights(const ir_encoder_config *c)
{
    return after_ln(c) ? 7 : c->embed > 0 ? 6 : 5;
}

size_t ir_encoder_weight_count(const ir_encoder_config *c)
{
    return n_embed_weights(c) + (c->rel_buckets > 0) +
           (size_t)c->n_attn_groups * ATTN_PER_GROUP +
           (size_t)c->n_ffn_groups * FFN_PER_GROUP + 4;
}

/* Group weights are named "group{g}.{part}.{suffix}"; g < 0 = no group. */
static void spec(ir_encoder_wspec *o, int rank, int64_t d0, int64_t d1,
                 long long g, const char *part, const char *suffix)
{
    if (g < 0)
        snprintf(o->name, sizeof o->name, "%s", suffix);
    else
        snprintf(o->name, sizeof o->name, "group%lld.%s.%s", g, part, suffix);
    o->rank = rank;
    o->dims[0] = d0;
    o->dims[1] = rank > 1 ? d1 : 0;
}

bool ir_encoder_weight_spec(const ir_encoder_config *c, size_t i,
                            ir_encoder_wspec *o)
{
    int64_t H = c->hidden, F = c->ffn;
    int64_t E = c->embed > 0 ? c->embed : H;
    size_t ne = n_embed_weights(c);
    if (i < ne) {
        /* k numbers the 7 weights of project_after_ln; the others skip
         * proj_bias (k 2) and, unfactorized, proj (k 1) too. */
        size_t k = after_ln(c) ? i : c->embed > 0 ? (i < 2 ? i : i + 1)
                                                  : (i == 0 ? 0 : i + 2);
        int64_t N = after_ln(c) ? E : H; /* the width the tables and LN have */
        switch (k) {
        case 0: spec(o, 2, c->vocab, E, -1, NULL, "embeddings.word"); break;
        case 1: spec(o, 2, E, H, -1, NULL, "embeddings.proj"); break;
        case 2: spec(o, 1, H, 0, -1, NULL, "embeddings.proj_bias"); break;
        case 3: spec(o, 2, c->max_positions, N, -1, NULL, "embeddings.position"); break;
        case 4: spec(o, 2, c->type_vocab, N, -1, NULL, "embeddings.type"); break;
        case 5: spec(o, 1, N, 0, -1, NULL, "embeddings.ln.gamma"); break;
        default: spec(o, 1, N, 0, -1, NULL, "embeddings.ln.beta"); break;
        }
        return true;
    }
    i -= ne;
    if (c->rel_buckets > 0) {
        if (i == 0) {
            spec(o, 2, c->rel_buckets, c->heads, -1, NULL, "relative_bias");
            return true;
        }
        i--;
    }
    size_t na = (size_t)c->n_attn_groups * ATTN_PER_GROUP;
    if (i < na) {
        long long g = (long long)(i / ATTN_PER_GROUP);
        switch (i % ATTN_PER_GROUP) {
        case 0: spec(o, 2, H, 3 * H, g, "attn", "qkv.weight"); break;
        case 1: spec(o, 1, 3 * H, 0, g, "attn", "qkv.bias"); break;
        case 2: spec(o, 2, H, H, g, "attn", "out.weight"); break;
        case 3: spec(o, 1, H, 0, g, "attn", "out.bias"); break;
        case 4: spec(o, 1, H, 0, g, "attn", "ln.gamma"); break;
        default: spec(o, 1, H, 0, g, "attn", "ln.beta"); break;
        }
        return true;
    }
    i -= na;
    size_t nf = (size_t)c->n_ffn_groups * FFN_PER_GROUP;
    if (i < nf) {
        long long g = (long long)(i / FFN_PER_GROUP);
        switch (i % FFN_PER_GROUP) {
        case 0: spec(o, 2, H, F, g, "ffn", "in.weight"); break;
        case 1: spec(o, 1, F, 0, g, "ffn", "in.bias"); break;
        case 2: spec(o, 2, F, H, g, "ffn", "out.weight"); break;
        case 3: spec(o, 1, H, 0, g, "ffn", "out.bias"); break;
        case 4: spec(o, 1, H, 0, g, "ffn", "ln.gamma"); break;
        default: spec(o, 1, H, 0, g, "ffn", "ln.beta"); break;
        }
        return true;
    }
    i -= nf;
    switch (i) {
    case 0: spec(o, 2, H, H, -1, NULL, "pooler.weight"); return true;
    case 1: spec(o, 1, H, 0, -1, NULL, "pooler.bias"); return true;
    case 2: spec(o, 2, H, c->labels, -1, NULL, "head.weight"); return true;
    case 3: spec(o, 1, c->labels, 0, -1, NULL, "head.bias"); return true;
    default: return false;
    }
}

static int64_t spec_numel(const ir_encoder_wspec *s)
{
    return s->rank == 1 ? s->dims[0] : s->dims[0] * s->dims[1];
}

int64_t ir_encoder_config_param_count(const ir_encoder_config *c)
{
    int64_t n = 0;
    size_t nw = ir_encoder_weight_count(c);
    for (size_t i = 0; i < nw; i++) {
        ir_encoder_wspec s;
        ir_encoder_weight_spec(c, i, &s);
        n += spec_numel(&s);
    }
    return n;
}

ir_status ir_encoder_new(const ir_encoder_config *c, ir_encoder **out,
                         ir_diag *d)
{
    *out = NULL;
    ir_status s = ir_encoder_config_validate(c, d);
    if (s != IR_OK)
        return s;
    ir_encoder *e = calloc(1, sizeof *e);
    size_t nw = ir_encoder_weight_count(c);
    if (!e || !(e->weights = calloc(nw, sizeof *e->weights))) {
        free(e);
        return ir_diag_set(d, IR_ERR_NOMEM, "encoder: out of memory");
    }
    e->cfg = *c;
    e->n_weights = nw;
    for (size_t i = 0; i < nw; i++) {
        ir_encoder_wspec sp;
        ir_encoder_weight_spec(c, i, &sp);
        memcpy(e->weights[i].name, sp.name, sizeof sp.name);
        if ((s = ir_tensor_create(IR_DT_F32, sp.rank, sp.dims,
                                  &e->weights[i].t, d)) != IR_OK) {
            ir_encoder_free(e);
            return ir_diag_prefix(d, "encoder weight '%s'", sp.name);
        }
    }
    *out = e;
    return IR_OK;
}

void ir_encoder_free(ir_encoder *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_weights; i++)
        ir_tensor_free(e->weights[i].t);
    free(e->weights);
    free(e->labels_meta);
    free(e);
}

bool ir_encoder_set_labels(ir_encoder *e, const char *json)
{
    char *c = json ? strdup(json) : NULL;
    if (json && !c)
        return false;
    free(e->labels_meta);
    e->labels_meta = c;
    return true;
}

ir_tensor *ir_encoder_find(const ir_encoder *e, const char *name)
{
    for (size_t i = 0; i < e->n_weights; i++)
        if (strcmp(e->weights[i].name, name) == 0)
            return e->weights[i].t;
    return NULL;
}

int64_t ir_encoder_param_count(const ir_encoder *e)
{
    int64_t n = 0;
    for (size_t i = 0; i < e->n_weights; i++)
        if (e->weights[i].t)
            n += ir_tensor_numel(e->weights[i].t);
    return n;
}

ir_status ir_encoder_check(const ir_encoder *e, ir_diag *d)
{
    ir_status s = ir_encoder_config_validate(&e->cfg, d);
    if (s != IR_OK)
        return s;
    size_t nw = ir_encoder_weight_count(&e->cfg);
    if (e->n_weights != nw)
        return ir_diag_set(d, IR_ERR_INPUT, "encoder has %zu weights, its "
                           "config implies %zu", e->n_weights, nw);
    for (size_t i = 0; i < nw; i++) {
        ir_encoder_wspec sp;
        ir_encoder_weight_spec(&e->cfg, i, &sp);
        const ir_encoder_weight *w = &e->weights[i];
        if (strcmp(w->name, sp.name) != 0)
            return ir_diag_set(d, IR_ERR_INPUT, "encoder weight %zu is '%s', "
                               "expected '%s'", i, w->name, sp.name);
        const ir_tensor *t = w->t;
        bool ok = t && t->dtype == IR_DT_F32 && t->rank == sp.rank &&
                  t->dims[0] == sp.dims[0] &&
                  (sp.rank == 1 || t->dims[1] == sp.dims[1]);
        if (!ok) {
            if (sp.rank == 1)
                return ir_diag_set(d, IR_ERR_INPUT, "encoder weight '%s': "
                                   "expected f32[%lld]", sp.name,
                                   (long long)sp.dims[0]);
            return ir_diag_set(d, IR_ERR_INPUT, "encoder weight '%s': "
                               "expected f32[%lld,%lld]", sp.name,
                               (long long)sp.dims[0], (long long)sp.dims[1]);
        }
    }
    return IR_OK;
}

static void describe_map(FILE *out, const char *what, const int64_t *map,
                         int64_t n, int64_t L)
{
    fprintf(out, "  %s groups: %lld (layer->group:", what, (long long)n);
    for (int64_t l = 0; l < L; l++)
        fprintf(out, " %lld", (long long)map[l]);
    fprintf(out, ")\n");
}

void ir_encoder_describe(const ir_encoder *e, FILE *out)
{
    const ir_encoder_config *c = &e->cfg;
    fprintf(out, "encoder: %lld layers, hidden %lld, %lld heads (head size "
            "%lld), ffn %lld, %s\n", (long long)c->layers,
            (long long)c->hidden, (long long)c->heads,
            (long long)(c->hidden / (c->heads ? c->heads : 1)),
            (long long)c->ffn, ir_act_name(c->activation));
    fprintf(out, "  embeddings: vocab %lld, positions %lld, token types %lld",
            (long long)c->vocab, (long long)c->max_positions,
            (long long)c->type_vocab);
    if (c->embed > 0)
        fprintf(out, ", factorized %lld -> %lld (%s)", (long long)c->embed,
                (long long)c->hidden, ir_enc_embed_name(c->embed_kind));
    if (c->positions == IR_ENC_POS_PADDED)
        fprintf(out, ", positions counted over non-pad tokens from pad id "
                "%lld + 1", (long long)c->pad_id);
    if (c->rel_buckets > 0)
        fprintf(out, "\n  relative position bias: %lld buckets (%s), max "
                "distance %lld, shared by all layers", (long long)c->rel_buckets,
                c->rel_bidirectional ? "bidirectional" : "one direction",
                (long long)c->rel_max_distance);
    fprintf(out, "\n  head: %s, %lld output%s; layer norm eps %g\n",
            ir_enc_head_name(c->head), (long long)c->labels,
            c->labels == 1 ? "" : "s", (double)c->ln_eps);
    if (ir_encoder_pool_act(c) != IR_ACT_TANH)
        fprintf(out, "  first-token dense activation: %s\n",
                ir_act_name(ir_encoder_pool_act(c)));
    if (c->n_attn_groups == c->layers && c->n_ffn_groups == c->layers) {
        fprintf(out, "  sharing: none\n");
    } else {
        describe_map(out, "attention", c->attn_group, c->n_attn_groups,
                     c->layers);
        describe_map(out, "ffn", c->ffn_group, c->n_ffn_groups, c->layers);
    }
    int64_t n = ir_encoder_param_count(e);
    fprintf(out, "  parameters: %lld (%.2f M, %.1f MB f32)\n", (long long)n,
            (double)n / 1e6, (double)n * 4.0 / 1e6);
}

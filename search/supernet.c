/* supernet.c — the weight-sharing supernet of supernet.h: slicing a
 * candidate's weights out of the largest encoder and adding its gradients
 * back. Both directions walk the candidate's tensor table (distill/params.h)
 * and map each tensor to the same-named supernet tensor, so the slicing
 * rules live in one function (slice_map). */
#include "search/supernet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distill/student.h"

struct search_supernet {
    ir_encoder_config cfg;
    train_params *p;
};

static int64_t list_max(const search_space *sp, search_gene g)
{
    int64_t m = 0;
    for (size_t i = 0; i < sp->n[g]; i++)
        if (sp->values[g][i] > m)
            m = sp->values[g][i];
    return m;
}

ir_status search_supernet_new(const search_space *sp, uint64_t seed,
                              search_supernet **out, ir_diag *d)
{
    *out = NULL;
    ir_encoder_config c = sp->base;
    c.layers = list_max(sp, SEARCH_GENE_LAYERS);
    c.hidden = list_max(sp, SEARCH_GENE_HIDDEN);
    c.ffn = list_max(sp, SEARCH_GENE_FFN);
    c.embed = 0;
    /* the most heads the widest layer takes (the head count only changes
     * how the q/k/v columns are grouped, not which weights exist) */
    c.heads = 1;
    for (int64_t a = c.hidden / SEARCH_MIN_HEAD_DIM; a >= 1; a--)
        if (c.hidden % a == 0) {
            c.heads = a;
            break;
        }
    ir_status s = ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, d);
    if (s != IR_OK)
        return s;
    search_supernet *sn = calloc(1, sizeof *sn);
    if (!sn)
        return ir_diag_set(d, IR_ERR_NOMEM, "supernet: out of memory");
    sn->cfg = c;
    if ((s = train_params_new(&c, &sn->p, d)) != IR_OK) {
        free(sn);
        return ir_diag_prefix(d, "supernet");
    }
    train_params_init_random(sn->p, seed, 0.02f);
    *out = sn;
    return IR_OK;
}

void search_supernet_unfolded_config(const ir_encoder_config *c,
                                     ir_encoder_config *out)
{
    *out = *c;
    if (c->embed > 0) {
        out->embed = 0;
        out->embed_kind = IR_ENC_EMBED_PROJECT_WORD; /* as an unfactorized student's */
    }
    /* no sharing cannot fail */
    ir_encoder_config_share(out, IR_ENC_SHARE_NONE, 0, NULL);
}

ir_status search_supernet_from_encoder(const ir_encoder *e, bool reorder,
                                       search_supernet **out, ir_diag *d)
{
    *out = NULL;
    const ir_encoder_config *c = &e->cfg;
    ir_encoder_config sc;
    search_supernet_unfolded_config(c, &sc);
    bool plain = ir_encoder_config_equal(c, &sc);
    train_params *t = NULL;
    ir_status s = train_params_from_encoder(e, &t, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "supernet");
    search_supernet *sn = calloc(1, sizeof *sn);
    if (!sn) {
        train_params_free(t);
        return ir_diag_set(d, IR_ERR_NOMEM, "supernet: out of memory");
    }
    sn->cfg = sc;
    if (!reorder && plain) {
        sn->p = t;
        *out = sn;
        return IR_OK;
    }
    /* reorder: the same function with every axis sorted by importance, so
     * that a slice's "first k" are the k that matter most. A shared or
     * factorized teacher is unfolded on the way: each layer its group's
     * weights (exact), the embeddings as H-wide tables (exact for a
     * projected word table; after the LayerNorm, a start the supernet's
     * training corrects, see student_init_from_teacher) */
    int64_t map[IR_ENCODER_MAX_LAYERS];
    for (int64_t l = 0; l < sc.layers; l++)
        map[l] = l + 1;
    if ((s = train_params_new(&sc, &sn->p, d)) == IR_OK)
        s = reorder ? student_init_from_teacher_ordered(sn->p, t, map, NULL, d)
                    : student_init_from_teacher(sn->p, t, map, NULL, d);
    train_params_free(t);
    if (s != IR_OK) {
        search_supernet_free(sn);
        return ir_diag_prefix(d, "supernet");
    }
    *out = sn;
    return IR_OK;
}

void search_supernet_free(search_supernet *sn)
{
    if (!sn)
        return;
    train_params_free(sn->p);
    free(sn);
}

const ir_encoder_config *search_supernet_config(const search_supernet *sn)
{
    return &sn->cfg;
}

train_params *search_supernet_params(search_supernet *sn) { return sn->p; }

ir_status search_supernet_check(const search_supernet *sn,
                                const ir_encoder_config *c, ir_diag *d)
{
    const ir_encoder_config *m = &sn->cfg;
    ir_status s = ir_encoder_config_validate(c, d);
    if (s != IR_OK)
        return s;
    if (c->embed > 0)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED, "supernet: embed = %lld: "
                           "factorized embeddings are not sliced from the "
                           "supernet yet (use embed 0)", (long long)c->embed);
#define FITS(f)                                                               \
    if (c->f > m->f)                                                          \
        return ir_diag_set(d, IR_ERR_INPUT, "supernet: " #f " = %lld exceeds "\
                           "the supernet's %lld", (long long)c->f,            \
                           (long long)m->f);
    FITS(layers) FITS(hidden) FITS(ffn)
#undef FITS
#define SAME(f)                                                               \
    if (c->f != m->f)                                                         \
        return ir_diag_set(d, IR_ERR_INPUT, "supernet: " #f " = %lld differs "\
                           "from the supernet's %lld", (long long)c->f,       \
                           (long long)m->f);
    SAME(vocab) SAME(max_positions) SAME(type_vocab) SAME(labels)
    SAME(rel_buckets) SAME(rel_max_distance)
#undef SAME
    if (c->rel_bidirectional != m->rel_bidirectional)
        return ir_diag_set(d, IR_ERR_INPUT, "supernet: the relative position "
                           "bias's direction differs from the supernet's");
    if (c->activation != m->activation || c->head != m->head)
        return ir_diag_set(d, IR_ERR_INPUT, "supernet: activation or head "
                           "type differs from the supernet's");
    return IR_OK;
}

/* Where sub tensor t lives in the supernet: its same-named tensor (group
 * numbers map to supernet layers one to one), of which the sub tensor is
 * the top-left rows x cols block, except the packed q|k|v projection,
 * whose three column blocks of width C (sub) sit at 0, Cmax and 2·Cmax. */
typedef struct slice {
    const train_tensor *sup;
    int64_t rows, cols;     /* of the sub tensor */
    int parts;              /* 3 for q|k|v, else 1 */
    int64_t part_sub, part_sup; /* column block widths */
} slice;

/* The supernet layer a candidate's group reads: the teacher layer that the
 * group's first layer learns from under the uniform map g(m) = m·L/L_c
 * (distill/student.h), so a shallow candidate holds the layers it is
 * distilled towards, as student_init_from_teacher would start it. */
static int64_t sup_layer(const ir_encoder_config *sup,
                         const ir_encoder_config *c, bool attn, int64_t grp)
{
    const int64_t *gm = attn ? c->attn_group : c->ffn_group;
    for (int64_t l = 0; l < c->layers; l++)
        if (gm[l] == grp)
            return (l + 1) * sup->layers / c->layers - 1;
    return grp;
}

static ir_status slice_map(const search_supernet *sn, const train_params *sub,
                           const train_tensor *t, slice *out, ir_diag *d)
{
    char name[IR_ENCODER_NAME_MAX];
    snprintf(name, sizeof name, "%s", t->name);
    if (strncmp(t->name, "group", 5) == 0) {
        char *rest;
        long long g = strtoll(t->name + 5, &rest, 10);
        bool attn = strncmp(rest, ".attn.", 6) == 0;
        snprintf(name, sizeof name, "group%lld%s",
                 (long long)sup_layer(&sn->cfg, &sub->cfg, attn, g), rest);
    }
    const train_tensor *sup = train_params_find(sn->p, name);
    if (!sup)
        return ir_diag_set(d, IR_ERR_INPUT, "supernet: no tensor '%s'", t->name);
    out->sup = sup;
    out->rows = t->rows;
    out->cols = t->cols;
    out->parts = 1;
    out->part_sub = t->cols;
    out->part_sup = sup->cols;
    size_t n = strlen(t->name);
    bool qkv = n > 9 && (strstr(t->name, ".attn.qkv.") != NULL);
    if (qkv) {
        out->parts = 3;
        out->part_sub = t->cols / 3;
        out->part_sup = sup->cols / 3;
        /* a bias is [3C] stored as rows = 3C, cols = 1 */
        if (t->cols == 1) {
            out->part_sub = t->rows / 3;
            out->part_sup = sup->rows / 3;
        }
    }
    if (t->rows > sup->rows || t->cols > sup->cols)
        return ir_diag_set(d, IR_ERR_INPUT, "supernet: '%s' [%lld,%lld] is "
                           "larger than the supernet's [%lld,%lld]", t->name,
                           (long long)t->rows, (long long)t->cols,
                           (long long)sup->rows, (long long)sup->cols);
    return IR_OK;
}

/* Copies between the sub block (dense rows x cols) and the supernet
 * tensor; to_sub chooses the direction (copy into sub, or add into sup). */
static void slice_move(const slice *s, float *sub_base, size_t sub_off,
                       float *sup_base, bool to_sub)
{
    float *a = sub_base + sub_off;
    float *b = sup_base + s->sup->offset;
    int64_t sup_cols = s->sup->cols;
    if (s->parts == 3 && s->cols == 1) { /* q|k|v bias vector */
        for (int p = 0; p < 3; p++)
            for (int64_t i = 0; i < s->part_sub; i++) {
                float *x = &a[p * s->part_sub + i], *y = &b[p * s->part_sup + i];
                if (to_sub)
                    *x = *y;
                else
                    *y += *x;
            }
        return;
    }
    for (int64_t r = 0; r < s->rows; r++)
        for (int p = 0; p < s->parts; p++)
            for (int64_t c = 0; c < s->part_sub; c++) {
                float *x = &a[r * s->cols + p * s->part_sub + c];
                float *y = &b[r * sup_cols + p * s->part_sup + c];
                if (to_sub)
                    *x = *y;
                else
                    *y += *x;
            }
}

ir_status search_supernet_extract(const search_supernet *sn,
                                  const ir_encoder_config *c,
                                  train_params **out, ir_diag *d)
{
    *out = NULL;
    ir_status s = search_supernet_check(sn, c, d);
    if (s != IR_OK)
        return s;
    train_params *p;
    if ((s = train_params_new(c, &p, d)) != IR_OK)
        return s;
    p->gemm = sn->p->gemm;
    for (size_t i = 0; i < p->n_tensors && s == IR_OK; i++) {
        slice sl;
        if ((s = slice_map(sn, p, &p->tensors[i], &sl, d)) == IR_OK)
            slice_move(&sl, p->params, p->tensors[i].offset, sn->p->params, true);
    }
    if (s != IR_OK) {
        train_params_free(p);
        return s;
    }
    *out = p;
    return IR_OK;
}

ir_status search_supernet_encoder(const search_supernet *sn,
                                  const ir_encoder_config *c, ir_encoder **out,
                                  ir_diag *d)
{
    *out = NULL;
    train_params *p;
    ir_status s = search_supernet_extract(sn, c, &p, d);
    if (s != IR_OK)
        return s;
    ir_encoder *e;
    if ((s = ir_encoder_new(c, &e, d)) == IR_OK &&
        (s = train_params_to_encoder(p, e, d)) != IR_OK) {
        ir_encoder_free(e);
        e = NULL;
    }
    train_params_free(p);
    *out = e;
    return s;
}

ir_status search_supernet_add_grads(search_supernet *sn,
                                    const train_params *sub, ir_diag *d)
{
    ir_status s = search_supernet_check(sn, &sub->cfg, d);
    for (size_t i = 0; i < sub->n_tensors && s == IR_OK; i++) {
        slice sl;
        if ((s = slice_map(sn, sub, &sub->tensors[i], &sl, d)) == IR_OK)
            slice_move(&sl, sub->grads, sub->tensors[i].offset, sn->p->grads, false);
    }
    return s;
}

static bool sliceable(const search_supernet *sn, const search_space *sp,
                      const search_genome *g, int64_t *params)
{
    ir_encoder_config c;
    if (search_space_decode(sp, g, &c, NULL) != IR_OK ||
        search_supernet_check(sn, &c, NULL) != IR_OK || !search_space_valid(sp, g))
        return false;
    *params = ir_encoder_config_param_count(&c);
    return true;
}

size_t search_supernet_sandwich(const search_supernet *sn,
                                const search_space *sp, search_rng *r,
                                size_t n_random, const search_genome *prev,
                                search_genome *out)
{
    /* the extremes by enumeration (spaces are thousands of genomes) */
    int64_t lo = INT64_MAX, hi = -1, np;
    search_genome gl = {{0}}, gh = {{0}}, g;
    double total = search_space_total(sp);
    for (uint64_t i = 0; (double)i < total; i++) {
        search_space_genome_at(sp, i, &g);
        if (!sliceable(sn, sp, &g, &np))
            continue;
        if (np > hi)
            hi = np, gh = g;
        if (np < lo)
            lo = np, gl = g;
    }
    if (hi < 0)
        return 0;
    size_t n = 0;
    out[n++] = gh;
    out[n++] = gl;
    for (size_t k = 0; k < n_random; k++) {
        bool found = false;
        /* a walk: the previous step's k-th random candidate with one
         * choice changed, so consecutive steps pull the shared weights in
         * nearby directions */
        for (int t = 0; prev && t < 100 && !found; t++)
            found = search_space_mutate(sp, r, &prev[2 + k], 0.0, &g) &&
                    sliceable(sn, sp, &g, &np);
        for (int t = 0; t < 10000 && !found; t++) {
            for (int i = 0; i < SEARCH_GENE_COUNT; i++)
                g.g[i] = (uint8_t)search_rng_below(r, sp->n[i]);
            found = sliceable(sn, sp, &g, &np);
        }
        if (found)
            out[n++] = g;
    }
    return n;
}

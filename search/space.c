/* space.c — the search space as plain data: decoding genomes into encoder
 * configs, and the genetic operators the evolution uses: sampling,
 * mutation, crossover, enumeration. Reading it from XML is
 * frontend/space_xml.c's job; the loaders here add the check that some
 * candidate is valid.
 */
#include "search/space.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Draws allowed before sampling or mutation gives up. */
#define SEARCH_MAX_TRIES 10000
/* Genomes the load check enumerates; a larger space is checked by drawing
 * (32 choices for each gene make 10^9 genomes: enumerating a space with no
 * valid one took minutes). */
#define SEARCH_ENUM_MAX (1u << 20)

static bool space_has_valid(const search_space *sp)
{
    if (search_space_total(sp) <= SEARCH_ENUM_MAX)
        return search_space_count_valid(sp, 1) > 0;
    /* As many draws as sampling makes: a space whose valid candidates are
     * rarer than that would fail at its first sample anyway. */
    search_rng r;
    search_rng_seed(&r, 1);
    search_genome g;
    return search_space_sample(sp, &r, &g, NULL) == IR_OK;
}

ir_status search_space_load_file(const char *path, search_space *sp,
                                 ir_diag *d)
{
    return space_xml_load_file(path, sp, space_has_valid, d);
}

ir_status search_space_load_memory(const char *text, size_t len,
                                   const char *name, search_space *sp,
                                   ir_diag *d)
{
    return space_xml_load_memory(text, len, name, sp, space_has_valid, d);
}

/* ---- random numbers ---------------------------------------------------- */
void search_rng_seed(search_rng *r, uint64_t seed) { r->s = seed; }

uint64_t search_rng_next(search_rng *r)
{
    /* splitmix64 (Steele, Lea, Flood 2014): full period, good enough for
     * choosing genes and cheap to copy. */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double search_rng_uniform(search_rng *r)
{
    return (double)(search_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

size_t search_rng_below(search_rng *r, size_t n)
{
    return n ? (size_t)(search_rng_next(r) % n) : 0;
}

/* ---- genomes ----------------------------------------------------------- */
ir_status search_space_decode(const search_space *sp, const search_genome *g,
                              ir_encoder_config *c, ir_diag *d)
{
    for (int i = 0; i < SEARCH_GENE_COUNT; i++)
        if (g->g[i] >= sp->n[i])
            return ir_diag_set(d, IR_ERR_INPUT, "gene %s = %u: the space has "
                               "%zu choices", search_gene_name((search_gene)i),
                               g->g[i], sp->n[i]);
    *c = sp->base;
    c->layers = sp->values[SEARCH_GENE_LAYERS][g->g[SEARCH_GENE_LAYERS]];
    c->hidden = sp->values[SEARCH_GENE_HIDDEN][g->g[SEARCH_GENE_HIDDEN]];
    c->heads = sp->values[SEARCH_GENE_HEADS][g->g[SEARCH_GENE_HEADS]];
    c->ffn = sp->values[SEARCH_GENE_FFN][g->g[SEARCH_GENE_FFN]];
    c->embed = sp->values[SEARCH_GENE_EMBED][g->g[SEARCH_GENE_EMBED]];
    const search_share *sh = &sp->share[g->g[SEARCH_GENE_SHARE]];
    if (c->hidden % c->heads != 0 || c->hidden / c->heads < SEARCH_MIN_HEAD_DIM)
        return ir_diag_set(d, IR_ERR_INPUT, "heads = %lld: must divide hidden "
                           "= %lld into heads of >= %d dims",
                           (long long)c->heads, (long long)c->hidden,
                           SEARCH_MIN_HEAD_DIM);
    if (c->embed != 0 && c->embed >= c->hidden)
        return ir_diag_set(d, IR_ERR_INPUT, "embed = %lld: a factorized "
                           "embedding must be narrower than hidden = %lld",
                           (long long)c->embed, (long long)c->hidden);
    /* groups:K with K = layers is "all" and K = 1 is "none": one spelling
     * per architecture keeps the search from counting it twice. */
    if (sh->scheme == IR_ENC_SHARE_GROUPS &&
        (sh->k <= 1 || sh->k >= c->layers || c->layers % sh->k != 0))
        return ir_diag_set(d, IR_ERR_INPUT, "sharing groups:%lld: needs 1 < K "
                           "< layers = %lld and K dividing layers",
                           (long long)sh->k, (long long)c->layers);
    if (sh->scheme != IR_ENC_SHARE_NONE && c->layers == 1)
        return ir_diag_set(d, IR_ERR_INPUT, "sharing with one layer is the "
                           "same as none");
    ir_status s = ir_encoder_config_share(c, sh->scheme, sh->k, d);
    if (s != IR_OK)
        return s;
    return ir_encoder_config_validate(c, d);
}

static bool is_layer_matrix(const char *name)
{
    return strncmp(name, "group", 5) == 0 && strstr(name, ".weight") != NULL;
}

double search_config_size_mb(const ir_encoder_config *c, ir_precision p)
{
    double bytes = 0;
    size_t nw = ir_encoder_weight_count(c);
    for (size_t i = 0; i < nw; i++) {
        ir_encoder_wspec s;
        ir_encoder_weight_spec(c, i, &s);
        double numel = (double)s.dims[0] * (s.rank == 2 ? (double)s.dims[1] : 1);
        double per = 4;
        if (p == IR_PRECISION_BF16)
            per = 2;
        else if (p == IR_PRECISION_INT8 && is_layer_matrix(s.name))
            per = 1;
        bytes += numel * per;
    }
    return bytes / (1024.0 * 1024.0);
}

int64_t search_config_body_params(const ir_encoder_config *c)
{
    int64_t n = 0;
    size_t nw = ir_encoder_weight_count(c);
    for (size_t i = 0; i < nw; i++) {
        ir_encoder_wspec s;
        ir_encoder_weight_spec(c, i, &s);
        if (strncmp(s.name, "group", 5) == 0)
            n += s.dims[0] * (s.rank == 2 ? s.dims[1] : 1);
    }
    return n;
}

bool search_space_valid(const search_space *sp, const search_genome *g)
{
    ir_encoder_config c;
    if (search_space_decode(sp, g, &c, NULL) != IR_OK)
        return false;
    if (sp->cons.max_params > 0 &&
        ir_encoder_config_param_count(&c) > sp->cons.max_params)
        return false;
    if (sp->cons.max_size_mb > 0 &&
        search_config_size_mb(&c, sp->cons.precision) > sp->cons.max_size_mb)
        return false;
    return true;
}

ir_status search_space_sample(const search_space *sp, search_rng *r,
                              search_genome *out, ir_diag *d)
{
    for (int t = 0; t < SEARCH_MAX_TRIES; t++) {
        for (int i = 0; i < SEARCH_GENE_COUNT; i++)
            out->g[i] = (uint8_t)search_rng_below(r, sp->n[i]);
        if (search_space_valid(sp, out))
            return IR_OK;
    }
    return ir_diag_set(d, IR_ERR_INPUT, "%s: no valid candidate in %d random "
                       "draws: the constraints (max params %lld, max size "
                       "%.1f MB) or the validity rules exclude nearly the "
                       "whole space", sp->name, SEARCH_MAX_TRIES,
                       (long long)sp->cons.max_params, sp->cons.max_size_mb);
}

bool search_space_mutate(const search_space *sp, search_rng *r,
                         const search_genome *parent, double p,
                         search_genome *child)
{
    for (int t = 0; t < SEARCH_MAX_TRIES / 10; t++) {
        *child = *parent;
        bool changed = false;
        for (int i = 0; i < SEARCH_GENE_COUNT; i++) {
            if (sp->n[i] < 2 || search_rng_uniform(r) >= p)
                continue;
            /* a different value, uniformly among the others */
            size_t v = search_rng_below(r, sp->n[i] - 1);
            child->g[i] = (uint8_t)(v >= parent->g[i] ? v + 1 : v);
            changed = true;
        }
        if (!changed) { /* force one gene so the child differs */
            size_t movable[SEARCH_GENE_COUNT], nm = 0;
            for (int i = 0; i < SEARCH_GENE_COUNT; i++)
                if (sp->n[i] >= 2)
                    movable[nm++] = (size_t)i;
            if (nm == 0)
                break;
            size_t i = movable[search_rng_below(r, nm)];
            size_t v = search_rng_below(r, sp->n[i] - 1);
            child->g[i] = (uint8_t)(v >= parent->g[i] ? v + 1 : v);
        }
        if (search_space_valid(sp, child))
            return true;
    }
    *child = *parent;
    return false;
}

bool search_space_crossover(const search_space *sp, search_rng *r,
                            const search_genome *a, const search_genome *b,
                            search_genome *child)
{
    for (int t = 0; t < 100; t++) {
        for (int i = 0; i < SEARCH_GENE_COUNT; i++)
            child->g[i] = (search_rng_next(r) & 1) ? a->g[i] : b->g[i];
        if (search_space_valid(sp, child))
            return true;
    }
    *child = *a;
    return false;
}

double search_space_total(const search_space *sp)
{
    double n = 1;
    for (int i = 0; i < SEARCH_GENE_COUNT; i++)
        n *= (double)sp->n[i];
    return n;
}

void search_space_genome_at(const search_space *sp, uint64_t i,
                            search_genome *out)
{
    for (int g = SEARCH_GENE_COUNT - 1; g >= 0; g--) {
        uint64_t n = sp->n[g] ? sp->n[g] : 1;
        out->g[g] = (uint8_t)(i % n);
        i /= n;
    }
}

size_t search_space_count_valid(const search_space *sp, size_t limit)
{
    double total = search_space_total(sp);
    size_t n = 0;
    for (uint64_t i = 0; (double)i < total; i++) {
        search_genome g;
        search_space_genome_at(sp, i, &g);
        if (search_space_valid(sp, &g) && ++n == limit)
            break;
    }
    return n;
}

bool search_genome_equal(const search_genome *a, const search_genome *b)
{
    return memcmp(a->g, b->g, sizeof a->g) == 0;
}

void search_config_format(const ir_encoder_config *c, char *buf, size_t n)
{
    search_share sh = {IR_ENC_SHARE_NONE, 0};
    if (c->n_attn_groups == 1 && c->n_ffn_groups == 1 && c->layers > 1)
        sh.scheme = IR_ENC_SHARE_ALL;
    else if (c->n_attn_groups == 1 && c->layers > 1)
        sh.scheme = IR_ENC_SHARE_ATTENTION;
    else if (c->n_ffn_groups == 1 && c->layers > 1)
        sh.scheme = IR_ENC_SHARE_FFN;
    else if (c->n_attn_groups < c->layers) {
        sh.scheme = IR_ENC_SHARE_GROUPS;
        sh.k = (c->layers + c->n_attn_groups - 1) / c->n_attn_groups;
    }
    char s[32];
    search_share_format(&sh, s, sizeof s);
    snprintf(buf, n, "L%lld H%lld A%lld F%lld E%lld %s", (long long)c->layers,
             (long long)c->hidden, (long long)c->heads, (long long)c->ffn,
             (long long)c->embed, s);
}

/* evolution.c — aging evolution over a search space (see evolution.h) and
 * the Pareto front of its candidates. */
#include "search/evolution.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Redraws of a child that breaks a constraint, then of an initial member. */
#define EVO_CHILD_TRIES 20
#define EVO_INIT_TRIES 200

void search_evo_opts_default(search_evo_opts *o)
{
    memset(o, 0, sizeof *o);
    o->population = 32;
    o->generations = 10;
    o->tournament = 8;
    o->mutation_p = 0.3;
    o->crossover_p = 0.25;
}

typedef struct evo {
    const search_space *sp;
    const search_evo_opts *o;
    search_cand *all;
    size_t n, cap;
    /* open-addressing index genome -> position in all (memo) */
    size_t *slot;
    size_t nslot;
} evo;

static uint64_t genome_hash(const search_genome *g)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < SEARCH_GENE_COUNT; i++)
        h = (h ^ g->g[i]) * 0x100000001b3ull;
    return h;
}

static ir_status evo_grow(evo *e, ir_diag *d)
{
    if (e->n < e->cap)
        return IR_OK;
    size_t cap = e->cap ? 2 * e->cap : 256;
    search_cand *na = realloc(e->all, cap * sizeof *na);
    size_t *ns = calloc(2 * cap, sizeof *ns);
    if (!na || !ns) {
        if (na)
            e->all = na;
        free(ns);
        return ir_diag_set(d, IR_ERR_NOMEM, "search: out of memory");
    }
    e->all = na;
    e->cap = cap;
    free(e->slot);
    e->slot = ns; /* slots hold index + 1; 0 = empty */
    e->nslot = 2 * cap;
    for (size_t i = 0; i < e->n; i++) {
        size_t h = (size_t)(genome_hash(&e->all[i].g) % e->nslot);
        while (e->slot[h])
            h = (h + 1) % e->nslot;
        e->slot[h] = i + 1;
    }
    return IR_OK;
}

static bool evo_find(const evo *e, const search_genome *g, size_t *at)
{
    if (!e->nslot)
        return false;
    size_t h = (size_t)(genome_hash(g) % e->nslot);
    while (e->slot[h]) {
        if (search_genome_equal(&e->all[e->slot[h] - 1].g, g)) {
            *at = e->slot[h] - 1;
            return true;
        }
        h = (h + 1) % e->nslot;
    }
    return false;
}

/* The candidate for g, evaluated once; *at is its index in e->all. */
static ir_status evo_eval(evo *e, const search_genome *g, size_t *at,
                          ir_diag *d)
{
    if (evo_find(e, g, at))
        return IR_OK;
    ir_status s = evo_grow(e, d);
    if (s != IR_OK)
        return s;
    search_cand c;
    memset(&c, 0, sizeof c);
    c.g = *g;
    if ((s = search_space_decode(e->sp, g, &c.cfg, d)) != IR_OK)
        return s;
    const search_constraints *k = &e->sp->cons;
    c.params = ir_encoder_config_param_count(&c.cfg);
    c.size_mb = search_config_size_mb(&c.cfg, k->precision);
    char name[96];
    if (e->o->latency &&
        (s = e->o->latency(e->o->latency_ctx, &c.cfg, &c.latency_ms, d)) != IR_OK) {
        search_config_format(&c.cfg, name, sizeof name);
        return ir_diag_prefix(d, "candidate %s: latency", name);
    }
    /* the constraints first: fitness may be costly (a supernet
     * evaluation) and is wasted on a candidate that cannot be kept */
    bool meets = (k->max_params <= 0 || c.params <= k->max_params) &&
                 (k->max_size_mb <= 0 || c.size_mb <= k->max_size_mb) &&
                 (!e->o->latency || k->latency_ms <= 0 ||
                  c.latency_ms <= k->latency_ms);
    c.fitness = -INFINITY;
    if (meets &&
        (s = e->o->fitness(e->o->fitness_ctx, &c.cfg, &c.fitness, d)) != IR_OK) {
        search_config_format(&c.cfg, name, sizeof name);
        return ir_diag_prefix(d, "candidate %s: fitness", name);
    }
    c.feasible = meets && isfinite(c.fitness);
    *at = e->n;
    e->all[e->n++] = c;
    size_t h = (size_t)(genome_hash(g) % e->nslot);
    while (e->slot[h])
        h = (h + 1) % e->nslot;
    e->slot[h] = *at + 1;
    return IR_OK;
}

/* Fitter: higher fitness, then lower latency. */
static bool fitter(const search_cand *a, const search_cand *b)
{
    if (a->fitness != b->fitness)
        return a->fitness > b->fitness;
    return a->latency_ms < b->latency_ms;
}

static size_t tournament(const evo *e, const size_t *pop, size_t np,
                         search_rng *r)
{
    size_t k = e->o->tournament ? e->o->tournament : 1;
    if (k > np)
        k = np;
    size_t best = pop[search_rng_below(r, np)];
    for (size_t i = 1; i < k; i++) {
        size_t c = pop[search_rng_below(r, np)];
        if (fitter(&e->all[c], &e->all[best]))
            best = c;
    }
    return best;
}

ir_status search_evolve(const search_space *sp, const search_evo_opts *o,
                        search_result *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    if (!o->fitness)
        return ir_diag_set(d, IR_ERR_INPUT, "search: no fitness function");
    if (o->population < 2)
        return ir_diag_set(d, IR_ERR_INPUT, "search: population = %zu must be "
                           "at least 2", o->population);
    evo e = {.sp = sp, .o = o};
    search_rng r;
    search_rng_seed(&r, o->seed);
    size_t np = o->population;
    size_t *pop = malloc(np * sizeof *pop); /* ring: pop[head] is oldest */
    ir_status s = pop ? IR_OK : ir_diag_set(d, IR_ERR_NOMEM, "search: out of memory");
    size_t total = o->generations * np, done = 0;

    /* initial population: random feasible genomes */
    size_t filled = 0, tries = 0;
    while (s == IR_OK && filled < np) {
        search_genome g;
        size_t at;
        if ((s = search_space_sample(sp, &r, &g, d)) != IR_OK ||
            (s = evo_eval(&e, &g, &at, d)) != IR_OK)
            break;
        if (e.all[at].feasible)
            pop[filled++] = at;
        else if (++tries > EVO_INIT_TRIES * np) {
            s = ir_diag_set(d, IR_ERR_INPUT, "search: %zu random candidates "
                            "and fewer than %zu meet the constraints (latency "
                            "<= %g ms, params <= %lld, size <= %g MB); relax "
                            "them or shrink the space", tries, np,
                            sp->cons.latency_ms, (long long)sp->cons.max_params,
                            sp->cons.max_size_mb);
        }
    }

    size_t head = 0;
    while (s == IR_OK && done < total) {
        size_t p1 = tournament(&e, pop, np, &r);
        search_genome base = e.all[p1].g, child;
        if (search_rng_uniform(&r) < o->crossover_p) {
            size_t p2 = tournament(&e, pop, np, &r);
            search_genome mix;
            if (search_space_crossover(sp, &r, &e.all[p1].g, &e.all[p2].g, &mix))
                base = mix;
        }
        size_t at = p1;
        bool ok = false;
        for (int t = 0; t < EVO_CHILD_TRIES && s == IR_OK && !ok; t++) {
            if (!search_space_mutate(sp, &r, &base, o->mutation_p, &child))
                break;
            if ((s = evo_eval(&e, &child, &at, d)) == IR_OK)
                ok = e.all[at].feasible;
        }
        /* a parent with no feasible child ages out like everyone else: its
         * copy takes the new slot */
        pop[head] = ok ? at : p1;
        head = (head + 1) % np;
        done++;
        if (o->progress)
            o->progress(o->progress_ctx, done, total);
        if (o->stop && o->stop(o->progress_ctx))
            break;
    }
    free(pop);
    free(e.slot);
    if (s != IR_OK) {
        free(e.all);
        return s;
    }
    out->all = e.all;
    out->n = e.n;
    out->cycles = done;
    out->front = malloc((e.n ? e.n : 1) * sizeof *out->front);
    if (!out->front) {
        search_result_free(out);
        return ir_diag_set(d, IR_ERR_NOMEM, "search: out of memory");
    }
    out->n_front = search_pareto_front(out->all, out->n, out->front);
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < e.n; i++)
        if (e.all[i].feasible && (best == SIZE_MAX || fitter(&e.all[i], &e.all[best])))
            best = i;
    out->best = best == SIZE_MAX ? 0 : best;
    return IR_OK;
}

void search_result_free(search_result *r)
{
    free(r->all);
    free(r->front);
    memset(r, 0, sizeof *r);
}

size_t search_pareto_front(search_cand *c, size_t n, size_t *idx)
{
    size_t nf = 0;
    for (size_t i = 0; i < n; i++) {
        c[i].front = false;
        if (!c[i].feasible)
            continue;
        bool dominated = false;
        for (size_t j = 0; j < n && !dominated; j++) {
            if (j == i || !c[j].feasible)
                continue;
            bool ge = c[j].fitness >= c[i].fitness && c[j].latency_ms <= c[i].latency_ms;
            bool strict = c[j].fitness > c[i].fitness || c[j].latency_ms < c[i].latency_ms;
            /* an identical point earlier in the list wins */
            if ((ge && strict) || (!strict && ge && j < i))
                dominated = true;
        }
        if (!dominated) {
            c[i].front = true;
            idx[nf++] = i;
        }
    }
    /* insertion sort by latency: fronts are short */
    for (size_t i = 1; i < nf; i++)
        for (size_t j = i; j > 0 && c[idx[j - 1]].latency_ms > c[idx[j]].latency_ms; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    return nf;
}

ir_status search_proxy_fitness(void *ctx, const ir_encoder_config *c,
                               double *fitness, ir_diag *d)
{
    double S = ctx ? (double)*(const int64_t *)ctx : 128;
    double H = (double)c->hidden, F = (double)c->ffn, L = (double)c->layers;
    /* multiply-adds per token: projections 4H², FFN 2HF, attention 2SH */
    double flops = 2 * L * (4 * H * H + 2 * H * F + 2 * S * H);
    double params = (double)search_config_body_params(c);
    if (!(params > 0) || !(flops > 0))
        return ir_diag_set(d, IR_ERR_INPUT, "proxy fitness: empty encoder");
    *fitness = 0.5 * log(params) + 0.5 * log(flops);
    return IR_OK;
}

/* evolution.c — aging evolution over a search space (see evolution.h),
 * its checkpoints (search/evolution_ckpt.h holds the file) and the Pareto
 * front of its candidates. */
#include "search/evolution.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "search/evolution_ckpt.h"

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

/* Where the evolution is between cycles: what a checkpoint keeps besides
 * the candidates. */
typedef struct evo_state {
    size_t *pop;   /* ring of indices into all: pop[head] is the oldest */
    size_t head, done;
    search_rng r;
    bool stopped;
} evo_state;

/* The initial population: random genomes meeting the constraints. */
static ir_status evo_populate(evo *e, evo_state *st, ir_diag *d)
{
    const search_space *sp = e->sp;
    size_t np = e->o->population, filled = 0, tries = 0;
    while (filled < np) {
        search_genome g;
        size_t at;
        ir_status s = search_space_sample(sp, &st->r, &g, d);
        if (s == IR_OK)
            s = evo_eval(e, &g, &at, d);
        if (s != IR_OK)
            return s;
        if (e->all[at].feasible)
            st->pop[filled++] = at;
        else if (++tries > EVO_INIT_TRIES * np)
            return ir_diag_set(d, IR_ERR_INPUT, "search: %zu random candidates "
                               "and fewer than %zu meet the constraints (latency "
                               "<= %g ms, params <= %lld, size <= %g MB); relax "
                               "them or shrink the space", tries, np,
                               sp->cons.latency_ms, (long long)sp->cons.max_params,
                               sp->cons.max_size_mb);
    }
    return IR_OK;
}

/* One cycle: a child of the tournament winners joins, the oldest leaves. */
static ir_status evo_cycle(evo *e, evo_state *st, ir_diag *d)
{
    const search_evo_opts *o = e->o;
    const search_space *sp = e->sp;
    size_t np = o->population;
    size_t p1 = tournament(e, st->pop, np, &st->r);
    search_genome base = e->all[p1].g, child;
    if (search_rng_uniform(&st->r) < o->crossover_p) {
        size_t p2 = tournament(e, st->pop, np, &st->r);
        search_genome mix;
        if (search_space_crossover(sp, &st->r, &e->all[p1].g, &e->all[p2].g, &mix))
            base = mix;
    }
    size_t at = p1;
    bool ok = false;
    ir_status s = IR_OK;
    for (int t = 0; t < EVO_CHILD_TRIES && s == IR_OK && !ok; t++) {
        if (!search_space_mutate(sp, &st->r, &base, o->mutation_p, &child))
            break;
        if ((s = evo_eval(e, &child, &at, d)) == IR_OK)
            ok = e->all[at].feasible;
    }
    if (s != IR_OK)
        return s;
    /* a parent with no feasible child ages out like everyone else: its
     * copy takes the new slot */
    st->pop[st->head] = ok ? at : p1;
    st->head = (st->head + 1) % np;
    st->done++;
    return IR_OK;
}

static ir_status evo_checkpoint(const evo *e, const evo_state *st, ir_diag *d)
{
    const search_evo_opts *o = e->o;
    if (!o->ckpt_path)
        return IR_OK;
    search_evo_ckpt ck = {
        .population = o->population, .generations = o->generations,
        .tournament = o->tournament, .seed = o->seed,
        .mutation_p = o->mutation_p, .crossover_p = o->crossover_p,
        .space_hash = search_space_hash(e->sp), .caller_hash = o->ckpt_hash,
        .rng = st->r.s, .done = st->done, .head = st->head,
        .stopped = st->stopped, .pop = st->pop, .cand = e->all, .n = e->n,
    };
    /* the caller's measurements are kept first: a checkpoint never holds a
     * candidate whose timings a kill could still lose */
    if (o->checkpoint) {
        ir_status s = o->checkpoint(o->progress_ctx, st->done, ck.user, d);
        if (s != IR_OK)
            return s;
    }
    return search_evo_ckpt_write(o->ckpt_path, &ck, d);
}

/* The first option of the checkpoint that differs from this run's, in
 * msg; false when they all agree. */
static bool ckpt_differs(const search_evo_ckpt *ck, const search_evo_opts *o,
                         const search_space *sp, char *msg, size_t n)
{
    if (ck->population != o->population)
        snprintf(msg, n, "population %llu, this run has %zu",
                 (unsigned long long)ck->population, o->population);
    else if (ck->generations != o->generations)
        snprintf(msg, n, "%llu generations, this run has %zu",
                 (unsigned long long)ck->generations, o->generations);
    else if (ck->tournament != o->tournament)
        snprintf(msg, n, "tournament %llu, this run has %zu",
                 (unsigned long long)ck->tournament, o->tournament);
    else if (ck->seed != o->seed)
        snprintf(msg, n, "seed %llu, this run has %llu",
                 (unsigned long long)ck->seed, (unsigned long long)o->seed);
    else if (ck->mutation_p != o->mutation_p)
        snprintf(msg, n, "mutation rate %g, this run has %g", ck->mutation_p,
                 o->mutation_p);
    else if (ck->crossover_p != o->crossover_p)
        snprintf(msg, n, "crossover rate %g, this run has %g", ck->crossover_p,
                 o->crossover_p);
    else if (ck->space_hash != search_space_hash(sp))
        snprintf(msg, n, "another search space or other constraints");
    else if (ck->caller_hash != o->ckpt_hash)
        snprintf(msg, n, "another fitness or latency setting (hash %016llx, "
                 "this run's %016llx)", (unsigned long long)ck->caller_hash,
                 (unsigned long long)o->ckpt_hash);
    else
        return false;
    return true;
}

/* The state of the checkpoint at o->ckpt_path into e and st, after
 * checking it was written by a run with these options and space. */
static ir_status evo_restore(evo *e, evo_state *st, double user[SEARCH_EVO_USER],
                             ir_diag *d)
{
    const char *path = e->o->ckpt_path;
    search_evo_ckpt ck;
    ir_status s = search_evo_ckpt_read(path, &ck, d);
    if (s != IR_OK)
        return s;
    char why[256];
    if (ckpt_differs(&ck, e->o, e->sp, why, sizeof why)) {
        search_evo_ckpt_free(&ck);
        return ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': written "
                           "with %s; resume with the options it was written "
                           "with, or delete it to start the search afresh",
                           path, why);
    }
    for (size_t i = 0; i < ck.n && s == IR_OK; i++) {
        search_cand c = ck.cand[i];
        size_t at;
        if (evo_find(e, &c.g, &at)) {
            s = ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': candidate "
                            "%zu repeats candidate %zu (the file is corrupt); "
                            "delete it to start the search afresh", path, i, at);
            break;
        }
        if ((s = search_space_decode(e->sp, &c.g, &c.cfg, d)) != IR_OK) {
            char inner[IR_DIAG_MSG_MAX];
            snprintf(inner, sizeof inner, "%s", d->msg);
            s = ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': candidate "
                            "%zu: %s; delete it to start the search afresh",
                            path, i, inner);
            break;
        }
        if ((s = evo_grow(e, d)) != IR_OK)
            break;
        c.params = ir_encoder_config_param_count(&c.cfg);
        c.size_mb = search_config_size_mb(&c.cfg, e->sp->cons.precision);
        c.front = false;
        e->all[e->n] = c;
        size_t h = (size_t)(genome_hash(&c.g) % e->nslot);
        while (e->slot[h])
            h = (h + 1) % e->nslot;
        e->slot[h] = ++e->n;
    }
    for (size_t i = 0; i < ck.population && s == IR_OK; i++)
        if (!e->all[ck.pop[i]].feasible)
            s = ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': population "
                            "member %zu is a candidate that breaks the "
                            "constraints (the file is corrupt); delete it to "
                            "start the search afresh", path, i);
    if (s == IR_OK) {
        memcpy(st->pop, ck.pop, ck.population * sizeof *st->pop);
        st->head = (size_t)ck.head;
        st->done = (size_t)ck.done;
        st->r.s = ck.rng;
        st->stopped = ck.stopped;
        memcpy(user, ck.user, sizeof ck.user);
    }
    search_evo_ckpt_free(&ck);
    return s;
}

static bool ckpt_exists(const char *path)
{
    struct stat sb;
    /* anything there is read: a folder or a FIFO is refused by the reader */
    return path && (stat(path, &sb) == 0 || errno != ENOENT);
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
    evo_state st = {.pop = malloc(o->population * sizeof *st.pop)};
    search_rng_seed(&st.r, o->seed);
    size_t np = o->population;
    ir_status s = st.pop ? IR_OK : ir_diag_set(d, IR_ERR_NOMEM, "search: out of memory");
    size_t total = o->generations * np;
    if (s == IR_OK && o->resume && ckpt_exists(o->ckpt_path)) {
        double user[SEARCH_EVO_USER];
        if ((s = evo_restore(&e, &st, user, d)) == IR_OK) {
            out->resumed = true;
            out->resumed_at = st.done;
            if (o->resumed)
                o->resumed(o->progress_ctx, st.done, user);
            if (o->progress)
                o->progress(o->progress_ctx, st.done, total);
        }
    } else if (s == IR_OK && (s = evo_populate(&e, &st, d)) == IR_OK)
        s = evo_checkpoint(&e, &st, d);

    while (s == IR_OK && !st.stopped && st.done < total) {
        if ((s = evo_cycle(&e, &st, d)) != IR_OK)
            break;
        if (o->progress)
            o->progress(o->progress_ctx, st.done, total);
        st.stopped = o->stop && o->stop(o->progress_ctx);
        /* after each generation and at the end, stopped or not */
        if (st.done % np == 0 || st.done == total || st.stopped)
            s = evo_checkpoint(&e, &st, d);
    }
    free(st.pop);
    free(e.slot);
    if (s != IR_OK) {
        free(e.all);
        return s;
    }
    out->all = e.all;
    out->n = e.n;
    out->cycles = st.done;
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

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
    /* candidates that meet the constraints and wait for their fitness
     * (the next evo_score), in the order they were drawn */
    bool *pending;          /* [cap] */
    size_t *wait;           /* [cap] */
    size_t nwait;
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
    if (na)
        e->all = na;
    bool *np = na ? realloc(e->pending, cap * sizeof *np) : NULL;
    if (np)
        e->pending = np;
    size_t *nw = np ? realloc(e->wait, cap * sizeof *nw) : NULL;
    if (nw)
        e->wait = nw;
    size_t *ns = calloc(2 * cap, sizeof *ns);
    if (!na || !np || !nw || !ns) {
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

/* The candidate for g, added once; *at is its index in e->all. A new one
 * gets its latency and, when it meets the constraints, waits for its
 * fitness (pending until evo_score); one that does not is kept with
 * fitness -inf. */
static ir_status evo_add(evo *e, const search_genome *g, size_t *at, ir_diag *d)
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
    if (e->o->latency &&
        (s = e->o->latency(e->o->latency_ctx, &c.cfg, &c.latency_ms, d)) != IR_OK) {
        char name[96];
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
    *at = e->n;
    e->pending[e->n] = meets;
    if (meets)
        e->wait[e->nwait++] = e->n;
    e->all[e->n++] = c;
    size_t h = (size_t)(genome_hash(g) % e->nslot);
    while (e->slot[h])
        h = (h + 1) % e->nslot;
    e->slot[h] = *at + 1;
    return IR_OK;
}

/* Scores the waiting candidates: one batch through o->fitness_batch (the
 * caller may spread it over processes), or o->fitness on each in order. */
static ir_status evo_score(evo *e, ir_diag *d)
{
    const search_evo_opts *o = e->o;
    size_t n = e->nwait;
    if (!n)
        return IR_OK;
    ir_status s = IR_OK;
    char name[96];
    if (o->fitness_batch) {
        ir_encoder_config *cfg = malloc(n * sizeof *cfg);
        double *fit = malloc(n * sizeof *fit);
        if (!cfg || !fit)
            s = ir_diag_set(d, IR_ERR_NOMEM, "search: out of memory");
        for (size_t i = 0; i < n && s == IR_OK; i++)
            cfg[i] = e->all[e->wait[i]].cfg;
        if (s == IR_OK &&
            (s = o->fitness_batch(o->fitness_ctx, cfg, n, fit, d)) != IR_OK) {
            if (n == 1) {
                search_config_format(&cfg[0], name, sizeof name);
                ir_diag_prefix(d, "candidate %s: fitness", name);
            } else
                ir_diag_prefix(d, "fitness of %zu candidates", n);
        }
        for (size_t i = 0; i < n && s == IR_OK; i++)
            e->all[e->wait[i]].fitness = fit[i];
        free(cfg);
        free(fit);
    } else {
        for (size_t i = 0; i < n && s == IR_OK; i++) {
            search_cand *c = &e->all[e->wait[i]];
            if ((s = o->fitness(o->fitness_ctx, &c->cfg, &c->fitness, d)) != IR_OK) {
                search_config_format(&c->cfg, name, sizeof name);
                ir_diag_prefix(d, "candidate %s: fitness", name);
            }
        }
    }
    if (s != IR_OK)
        return s;
    for (size_t i = 0; i < n; i++) {
        search_cand *c = &e->all[e->wait[i]];
        c->feasible = isfinite(c->fitness);
        e->pending[e->wait[i]] = false;
    }
    e->nwait = 0;
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

static ir_status too_few_feasible(const search_space *sp, size_t tries,
                                  size_t np, ir_diag *d)
{
    return ir_diag_set(d, IR_ERR_INPUT, "search: %zu random candidates and "
                       "fewer than %zu meet the constraints (latency <= %g ms, "
                       "params <= %lld, size <= %g MB); relax them or shrink "
                       "the space", tries, np, sp->cons.latency_ms,
                       (long long)sp->cons.max_params, sp->cons.max_size_mb);
}

/* The initial population: random genomes meeting the constraints, drawn
 * as a block and scored as one; while some turn out unusable, a block of
 * as many more. The draws and the population are those of drawing and
 * scoring one at a time until `population` are usable. */
static ir_status evo_populate(evo *e, evo_state *st, ir_diag *d)
{
    const search_space *sp = e->sp;
    size_t np = e->o->population, filled = 0, tries = 0;
    size_t *drawn = malloc(np * sizeof *drawn);
    if (!drawn)
        return ir_diag_set(d, IR_ERR_NOMEM, "search: out of memory");
    ir_status s = IR_OK;
    while (s == IR_OK && filled < np) {
        size_t nd = 0;
        while (s == IR_OK && filled + nd < np) {
            search_genome g;
            size_t at;
            if ((s = search_space_sample(sp, &st->r, &g, d)) == IR_OK &&
                (s = evo_add(e, &g, &at, d)) == IR_OK) {
                if (e->pending[at] || e->all[at].feasible)
                    drawn[nd++] = at;
                else if (++tries > EVO_INIT_TRIES * np)
                    s = too_few_feasible(sp, tries, np, d);
            }
        }
        if (s == IR_OK)
            s = evo_score(e, d);
        for (size_t i = 0; i < nd && s == IR_OK; i++) {
            if (e->all[drawn[i]].feasible)
                st->pop[filled++] = drawn[i];
            else if (++tries > EVO_INIT_TRIES * np)
                s = too_few_feasible(sp, tries, np, d);
        }
    }
    free(drawn);
    return s;
}

/* A child of a cycle: its parents and where its redraws are. */
typedef struct evo_child {
    size_t p1;             /* the first tournament's winner */
    search_genome base;    /* what it mutates: p1, or p1 crossed with p2 */
    size_t at;             /* its last draw (index into all) */
    int tries;
    bool ok;               /* a usable child */
    bool done;             /* ok, or no more redraws */
} evo_child;

/* Mutates until the child is usable, waits for a fitness (pending: false
 * returned through done), or has no redraws left. */
static ir_status child_draw(evo *e, evo_state *st, evo_child *ch, ir_diag *d)
{
    while (!ch->done) {
        search_genome g;
        if (ch->tries >= EVO_CHILD_TRIES ||
            !search_space_mutate(e->sp, &st->r, &ch->base, e->o->mutation_p, &g)) {
            ch->done = true;
            break;
        }
        ch->tries++;
        ir_status s = evo_add(e, &g, &ch->at, d);
        if (s != IR_OK)
            return s;
        if (e->pending[ch->at])
            return IR_OK; /* scored with the others of its round */
        if (e->all[ch->at].feasible)
            ch->ok = ch->done = true;
    }
    return IR_OK;
}

/* One cycle of k children: each of tournament winners, all drawn from the
 * same population, scored together (redraws of unusable ones in further
 * rounds), then inserted in draw order, the k oldest leaving. k = 1 draws
 * and scores in the order of the one-child algorithm. */
static ir_status evo_cycle(evo *e, evo_state *st, evo_child *ch, size_t k,
                           ir_diag *d)
{
    const search_evo_opts *o = e->o;
    const search_space *sp = e->sp;
    size_t np = o->population;
    ir_status s = IR_OK;
    for (size_t j = 0; j < k && s == IR_OK; j++) {
        evo_child *c = &ch[j];
        memset(c, 0, sizeof *c);
        c->p1 = tournament(e, st->pop, np, &st->r);
        c->base = e->all[c->p1].g;
        c->at = c->p1;
        if (search_rng_uniform(&st->r) < o->crossover_p) {
            size_t p2 = tournament(e, st->pop, np, &st->r);
            search_genome mix;
            if (search_space_crossover(sp, &st->r, &e->all[c->p1].g,
                                       &e->all[p2].g, &mix))
                c->base = mix;
        }
    }
    for (;;) {
        for (size_t j = 0; j < k && s == IR_OK; j++)
            s = child_draw(e, st, &ch[j], d);
        if (s != IR_OK)
            return s;
        if (!e->nwait)
            break;
        if ((s = evo_score(e, d)) != IR_OK)
            return s;
        for (size_t j = 0; j < k; j++)
            if (!ch[j].done && e->all[ch[j].at].feasible)
                ch[j].ok = ch[j].done = true;
    }
    /* a parent with no feasible child ages out like everyone else: its
     * copy takes the new slot */
    for (size_t j = 0; j < k; j++) {
        st->pop[st->head] = ch[j].ok ? ch[j].at : ch[j].p1;
        st->head = (st->head + 1) % np;
        st->done++;
    }
    return IR_OK;
}

static size_t children_per_cycle(const search_evo_opts *o)
{
    return o->children_per_cycle ? o->children_per_cycle : 1;
}

/* The caller's hash with K folded in: a checkpoint of one K is refused by
 * a run of another (its cycles drew otherwise). K = 1 keeps the caller's
 * hash, so checkpoints written before K existed resume. */
static uint64_t ckpt_caller_hash(const search_evo_opts *o)
{
    size_t k = children_per_cycle(o);
    return k == 1 ? o->ckpt_hash
                  : (o->ckpt_hash ^ (0x9e3779b97f4a7c15ull * (uint64_t)k)) *
                        0x100000001b3ull;
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
        .space_hash = search_space_hash(e->sp), .caller_hash = ckpt_caller_hash(o),
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
    else if (ck->caller_hash == o->ckpt_hash && children_per_cycle(o) > 1)
        snprintf(msg, n, "1 child per cycle, this run has %zu",
                 children_per_cycle(o));
    else if (ck->caller_hash != ckpt_caller_hash(o))
        snprintf(msg, n, "another fitness or latency setting or another "
                 "number of children per cycle (hash %016llx, this run's "
                 "%016llx)", (unsigned long long)ck->caller_hash,
                 (unsigned long long)ckpt_caller_hash(o));
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
        e->pending[e->n] = false;
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
    if (o->children_per_cycle > o->population)
        return ir_diag_set(d, IR_ERR_INPUT, "search: %zu children per cycle "
                           "exceed the population (%zu): each cycle's children "
                           "replace its oldest members", o->children_per_cycle,
                           o->population);
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

    size_t kmax = children_per_cycle(o);
    evo_child *ch = s == IR_OK ? malloc(kmax * sizeof *ch) : NULL;
    if (s == IR_OK && !ch)
        s = ir_diag_set(d, IR_ERR_NOMEM, "search: out of memory");
    while (s == IR_OK && !st.stopped && st.done < total) {
        size_t k = total - st.done < kmax ? total - st.done : kmax;
        size_t gen = st.done / np;
        if ((s = evo_cycle(&e, &st, ch, k, d)) != IR_OK)
            break;
        if (o->progress)
            o->progress(o->progress_ctx, st.done, total);
        st.stopped = o->stop && o->stop(o->progress_ctx);
        /* after each generation and at the end, stopped or not */
        if (st.done / np != gen || st.done == total || st.stopped)
            s = evo_checkpoint(&e, &st, d);
    }
    free(ch);
    free(st.pop);
    free(e.slot);
    free(e.pending);
    free(e.wait);
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

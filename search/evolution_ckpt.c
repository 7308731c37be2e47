/* evolution_ckpt.c — writing and reading an evolution's checkpoint (see
 * search/evolution_ckpt.h). The reader trusts nothing: every count is
 * checked against the file's size before anything is allocated, and the
 * checksum and the indices before the state is handed out. */
#include "search/evolution_ckpt.h"

#include <stdlib.h>
#include <string.h>

#include "ir/file_atomic.h"
#include "ir/file_read.h"

#define CKPT_MAGIC "DSTLEVO"   /* 8 bytes with its NUL */
/* magic, version, genes; 6 u64 options, 2 f64; rng, done, head, stopped;
 * user; n */
#define CKPT_HEADER (8 + 4 + 4 + 6 * 8 + 2 * 8 + 4 * 8 + SEARCH_EVO_USER * 8 + 8)
#define CKPT_CAND (SEARCH_GENE_COUNT + 1 + 8 + 8)
/* far beyond any search (a candidate is 23 bytes), small enough to read */
#define CKPT_MAX_BYTES ((int64_t)256 << 20)

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* ---- writing ---------------------------------------------------------------- */

typedef struct wbuf {
    unsigned char *p;
    size_t n;
} wbuf;

static void put(wbuf *w, const void *v, size_t n)
{
    memcpy(w->p + w->n, v, n);
    w->n += n;
}
static void put_u64(wbuf *w, uint64_t v) { put(w, &v, 8); }
static void put_f64(wbuf *w, double v) { put(w, &v, 8); }

ir_status search_evo_ckpt_write(const char *path, const search_evo_ckpt *c,
                                ir_diag *d)
{
    size_t size = CKPT_HEADER + 8 * (size_t)c->population + CKPT_CAND * c->n + 8;
    wbuf w = {malloc(size), 0};
    if (!w.p)
        return ir_diag_set(d, IR_ERR_NOMEM, "search checkpoint '%s': out of "
                           "memory", path);
    put(&w, CKPT_MAGIC, 8);
    uint32_t u32[2] = {SEARCH_EVO_CKPT_VERSION, SEARCH_GENE_COUNT};
    put(&w, u32, sizeof u32);
    put_u64(&w, c->population);
    put_u64(&w, c->generations);
    put_u64(&w, c->tournament);
    put_u64(&w, c->seed);
    put_u64(&w, c->space_hash);
    put_u64(&w, c->caller_hash);
    put_f64(&w, c->mutation_p);
    put_f64(&w, c->crossover_p);
    put_u64(&w, c->rng);
    put_u64(&w, c->done);
    put_u64(&w, c->head);
    put_u64(&w, c->stopped ? 1 : 0);
    for (int i = 0; i < SEARCH_EVO_USER; i++)
        put_f64(&w, c->user[i]);
    put_u64(&w, c->n);
    for (size_t i = 0; i < c->population; i++)
        put_u64(&w, c->pop[i]);
    for (size_t i = 0; i < c->n; i++) {
        const search_cand *k = &c->cand[i];
        put(&w, k->g.g, SEARCH_GENE_COUNT);
        unsigned char f = k->feasible ? 1 : 0;
        put(&w, &f, 1);
        put_f64(&w, k->fitness);
        put_f64(&w, k->latency_ms);
    }
    put_u64(&w, fnv(0xcbf29ce484222325ull, w.p, w.n));
    ir_status s = ir_file_write_atomic(path, w.p, w.n, 0644, d);
    free(w.p);
    if (s != IR_OK)
        return ir_diag_prefix(d, "search checkpoint");
    return IR_OK;
}

/* ---- reading ---------------------------------------------------------------- */

typedef struct rbuf {
    const unsigned char *p;
    size_t at;
} rbuf;

static void get(rbuf *r, void *v, size_t n)
{
    memcpy(v, r->p + r->at, n);
    r->at += n;
}
static uint64_t get_u64(rbuf *r)
{
    uint64_t v;
    get(r, &v, 8);
    return v;
}
static double get_f64(rbuf *r)
{
    double v;
    get(r, &v, 8);
    return v;
}

/* The advice every refusal ends with. */
#define CKPT_ADVICE "delete it, or rerun with --from search, to start the search afresh"

static ir_status parse(const char *path, const unsigned char *buf, size_t len,
                       search_evo_ckpt *c, ir_diag *d)
{
    if (len < CKPT_HEADER + 8 || memcmp(buf, CKPT_MAGIC, 8) != 0)
        return ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': not a "
                           "distilc search checkpoint%s; " CKPT_ADVICE, path,
                           len < CKPT_HEADER + 8 ? " (too short)" : " (bad magic)");
    rbuf r = {buf, 8};
    uint32_t u32[2];
    get(&r, u32, sizeof u32);
    if (u32[0] != SEARCH_EVO_CKPT_VERSION || u32[1] != SEARCH_GENE_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': version %u "
                           "with %u genes; this distilc reads version %d with "
                           "%d; " CKPT_ADVICE, path, u32[0], u32[1],
                           SEARCH_EVO_CKPT_VERSION, SEARCH_GENE_COUNT);
    c->population = get_u64(&r);
    c->generations = get_u64(&r);
    c->tournament = get_u64(&r);
    c->seed = get_u64(&r);
    c->space_hash = get_u64(&r);
    c->caller_hash = get_u64(&r);
    c->mutation_p = get_f64(&r);
    c->crossover_p = get_f64(&r);
    c->rng = get_u64(&r);
    c->done = get_u64(&r);
    c->head = get_u64(&r);
    uint64_t stopped = get_u64(&r);
    for (int i = 0; i < SEARCH_EVO_USER; i++)
        c->user[i] = get_f64(&r);
    uint64_t n = get_u64(&r);
    /* the sizes against the file before any allocation or multiplication
     * that could overflow */
    size_t room = len - CKPT_HEADER - 8;
    if (c->population > room / 8 || n > room / CKPT_CAND ||
        8 * c->population + CKPT_CAND * n != room)
        return ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': %zu bytes, "
                           "not what a population of %llu and %llu candidates "
                           "take (truncated?); " CKPT_ADVICE, path, len,
                           (unsigned long long)c->population,
                           (unsigned long long)n);
    uint64_t sum;
    memcpy(&sum, buf + len - 8, 8);
    if (sum != fnv(0xcbf29ce484222325ull, buf, len - 8))
        return ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': checksum "
                           "mismatch (the file is corrupt); " CKPT_ADVICE, path);
    const char *bad = NULL;
    if (c->population < 2)
        bad = "a population below 2";
    else if (n == 0)
        bad = "no candidates";
    else if (c->head >= c->population)
        bad = "the ring's head outside the population";
    else if (stopped > 1)
        bad = "a stop flag that is neither 0 nor 1";
    else if (c->generations <= UINT64_MAX / c->population &&
             c->done > c->generations * c->population)
        bad = "more cycles than its generations";
    if (bad)
        return ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': %s; "
                           CKPT_ADVICE, path, bad);
    c->stopped = stopped == 1;
    c->n = (size_t)n;
    c->pop = malloc(c->population * sizeof *c->pop);
    c->cand = calloc(c->n, sizeof *c->cand);
    if (!c->pop || !c->cand)
        return ir_diag_set(d, IR_ERR_NOMEM, "search checkpoint '%s': out of "
                           "memory", path);
    for (size_t i = 0; i < c->population; i++) {
        uint64_t k = get_u64(&r);
        if (k >= n)
            return ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': "
                               "population member %zu is candidate %llu of %llu; "
                               CKPT_ADVICE, path, i, (unsigned long long)k,
                               (unsigned long long)n);
        c->pop[i] = (size_t)k;
    }
    for (size_t i = 0; i < c->n; i++) {
        search_cand *k = &c->cand[i];
        get(&r, k->g.g, SEARCH_GENE_COUNT);
        unsigned char f;
        get(&r, &f, 1);
        if (f > 1)
            return ir_diag_set(d, IR_ERR_INPUT, "search checkpoint '%s': candidate "
                               "%zu: a feasible flag that is neither 0 nor 1; "
                               CKPT_ADVICE, path, i);
        k->feasible = f == 1;
        k->fitness = get_f64(&r);
        k->latency_ms = get_f64(&r);
    }
    return IR_OK;
}

ir_status search_evo_ckpt_read(const char *path, search_evo_ckpt *c, ir_diag *d)
{
    memset(c, 0, sizeof *c);
    char *buf;
    size_t len;
    ir_status s = ir_file_read_all(path, "search checkpoint", CKPT_MAX_BYTES, &buf,
                                   &len, d);
    if (s != IR_OK)
        return s;
    s = parse(path, (const unsigned char *)buf, len, c, d);
    free(buf);
    if (s != IR_OK)
        search_evo_ckpt_free(c);
    return s;
}

void search_evo_ckpt_free(search_evo_ckpt *c)
{
    free(c->pop);
    free(c->cand);
    memset(c, 0, sizeof *c);
}

uint64_t search_space_hash(const search_space *sp)
{
    uint64_t h = fnv(0xcbf29ce484222325ull, "search-space/1", 14);
    for (int g = 0; g < SEARCH_GENE_COUNT; g++) {
        uint64_t n = sp->n[g];
        h = fnv(h, &n, sizeof n);
        for (size_t i = 0; i < sp->n[g] && i < SEARCH_MAX_CHOICES; i++) {
            int64_t v = sp->values[g][i];
            if (g == SEARCH_GENE_SHARE) /* the gene indexes share[] */
                v = (int64_t)sp->share[i].scheme * 1000003 + sp->share[i].k;
            h = fnv(h, &v, sizeof v);
        }
    }
    const search_constraints *k = &sp->cons;
    double f[2] = {k->latency_ms, k->max_size_mb};
    int64_t i[5] = {k->seq, k->batch, k->threads, (int64_t)k->precision,
                    k->max_params};
    h = fnv(h, f, sizeof f);
    h = fnv(h, i, sizeof i);
    const ir_encoder_config *b = &sp->base;
    int64_t base[5] = {b->vocab, b->max_positions, b->type_vocab, b->labels,
                       (int64_t)b->activation};
    return fnv(h, base, sizeof base);
}

/* test_evolution_batch.c — the evolution scores its candidates in blocks
 * (search/evolution.h: the initial population, then K children per cycle)
 * through a batch fitness, which is where compress spreads them over MPI
 * ranks (search/fitness_dist.h). Here the ranks are simulated: a batch
 * callback that scores its block in shares, in an order other than the
 * block's.
 *  - K = 1 (the default) is the algorithm before batching, bit for bit:
 *    digests of whole results (every candidate's genome, fitness and
 *    latency bits, the front, the best) recorded from that code at three
 *    seeds, one with a fitness that makes some candidates unusable (their
 *    children are redrawn);
 *  - with a batch fitness split in 1, 2, 3 or 5 shares the result is the
 *    one without a batch callback, for K = 1 and K = 4;
 *  - K > 1 is deterministic in the seed, runs the same number of cycles,
 *    and differs from K = 1 (other draws);
 *  - a K = 4 search killed mid-run (a batch fails) at 3 simulated ranks
 *    resumes from its checkpoint at 2 to the uninterrupted result; a
 *    resume with another K is refused, naming it;
 *  - a batch whose fitness fails is passed on as the error. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "search/evolution.h"
#include "testutil.h"

static const char *space_xml =
    "<space version=\"1\">\n"
    "  <choices>\n"
    "    <layers>2 4 6 8</layers>\n"
    "    <hidden>128 256 384 512</hidden>\n"
    "    <heads>2 4 8</heads>\n"
    "    <ffn>256 512 1024 2048</ffn>\n"
    "    <sharing>none all</sharing>\n"
    "  </choices>\n"
    "  <constraints><latency ms=\"3.0\"/></constraints>\n"
    "</space>\n";

typedef struct fit_ctx {
    bool holes;   /* some shapes unusable (-inf) */
    int shares;   /* simulated ranks of the batch callback */
    int calls, batches;
    bool fail;
    int kill_at;  /* > 0: the batch with this number fails (a kill) */
} fit_ctx;

static ir_status synth_fitness(void *ctx, const ir_encoder_config *c, double *f,
                               ir_diag *d)
{
    fit_ctx *fc = ctx;
    fc->calls++;
    if (fc->holes && c->hidden == 256 && c->heads == 8) {
        *f = -INFINITY;
        return IR_OK;
    }
    *f = -(fabs(log2((double)c->hidden / 384)) + fabs(log2((double)c->ffn / 1024)) +
           fabs((double)c->layers - 6) / 2 + (c->heads == 4 ? 0 : 0.25) +
           (c->n_attn_groups == c->layers ? 0 : 0.5)) +
         1e-3 * sin((double)(c->hidden * 7 + c->ffn * 3 + c->layers));
    return IR_OK;
}

static ir_status synth_latency(void *ctx, const ir_encoder_config *c, double *ms,
                               ir_diag *d)
{
    double H = (double)c->hidden, F = (double)c->ffn;
    *ms = (double)c->layers * (4 * H * H + 2 * H * F) * 1e-6 + 0.1;
    return IR_OK;
}

#ifndef EVO_GOLDEN_ONLY
/* Ranks simulated: share r scores candidates r, r + shares, ..., the last
 * share first, as ranks finishing in any order would. */
static ir_status batch_fitness(void *ctx, const ir_encoder_config *c, size_t n,
                               double *f, ir_diag *d)
{
    fit_ctx *fc = ctx;
    fc->batches++;
    if (fc->fail || fc->batches == fc->kill_at)
        return ir_diag_set(d, IR_ERR_FAILED, "rank 1 lost its supernet");
    for (int r = fc->shares - 1; r >= 0; r--)
        for (size_t i = (size_t)r; i < n; i += (size_t)fc->shares) {
            ir_status s = synth_fitness(ctx, &c[i], &f[i], d);
            if (s != IR_OK)
                return s;
        }
    return IR_OK;
}
#endif

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* Everything a result holds, as one number. */
static uint64_t digest(const search_result *r)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < r->n; i++) {
        const search_cand *c = &r->all[i];
        h = fnv(h, c->g.g, sizeof c->g.g);
        h = fnv(h, &c->fitness, sizeof c->fitness);
        h = fnv(h, &c->latency_ms, sizeof c->latency_ms);
        h = fnv(h, &c->feasible, 1);
    }
    uint64_t v[4] = {r->n, r->best, r->cycles, r->n_front};
    h = fnv(h, v, sizeof v);
    for (size_t i = 0; i < r->n_front; i++) {
        uint64_t f = r->front[i];
        h = fnv(h, &f, sizeof f);
    }
    return h;
}

typedef struct ckpt_run {
    const char *path;
    bool resume;
    int kill_at;
    ir_status status;   /* of the evolution */
} ckpt_run;

static uint64_t run_ck(const search_space *sp, uint64_t seed, bool holes, size_t k,
                       int shares, size_t *n_out, ckpt_run *cr)
{
    fit_ctx fc = {.holes = holes, .shares = shares, .kill_at = cr ? cr->kill_at : 0};
    search_evo_opts o;
    search_evo_opts_default(&o);
    o.population = 16;
    o.generations = 6;
    o.seed = seed;
    o.fitness = synth_fitness;
    o.fitness_ctx = &fc;
    o.latency = synth_latency;
#ifndef EVO_GOLDEN_ONLY
    o.children_per_cycle = k;
    if (shares > 0)
        o.fitness_batch = batch_fitness;
#else
    (void)k;
#endif
    if (cr) {
        o.ckpt_path = cr->path;
        o.resume = cr->resume;
    }
    search_result r;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = search_evolve(sp, &o, &r, &d);
    if (cr) {
        cr->status = s;
        if (s != IR_OK) {
            printf("  %s\n", d.msg);
            return 0;
        }
    }
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    if (s != IR_OK)
        return 0;
    uint64_t h = digest(&r);
    if (n_out)
        *n_out = r.cycles;
    /* each distinct candidate meeting the constraints is scored once */
    size_t meets = 0;
    for (size_t i = 0; i < r.n; i++)
        meets += r.all[i].latency_ms <= sp->cons.latency_ms;
    if (!cr || !cr->resume)
        CHECK(fc.calls == (int)meets);
    else
        CHECK(r.resumed && r.resumed_at > 0 && fc.calls < (int)meets);
    search_result_free(&r);
    return h;
}

static uint64_t run(const search_space *sp, uint64_t seed, bool holes, size_t k,
                    int shares, size_t *n_out)
{
    return run_ck(sp, seed, holes, k, shares, n_out, NULL);
}

int main(void)
{
    search_space sp;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = search_space_load_memory(space_xml, strlen(space_xml), "evo.xml",
                                           &sp, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    if (s != IR_OK)
        return test_finish("test_evolution_batch");
    static const struct { uint64_t seed; bool holes; } cases[] = {
        {3, false}, {11, true}, {0, true}};
#ifdef EVO_GOLDEN_ONLY
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        printf("0x%016llxull,\n",
               (unsigned long long)run(&sp, cases[i].seed, cases[i].holes, 1, 0, NULL));
    return 0;
#else
    /* recorded from the one-child, one-at-a-time evolution (main before
     * batching) with EVO_GOLDEN_ONLY */
    static const uint64_t golden[] = {0x5d6f480a701a742cull, 0x394dcd4c44b77989ull,
                                      0xb8c6ff812f195731ull};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t seed = cases[i].seed;
        bool holes = cases[i].holes;
        size_t c1 = 0, c4 = 0;
        uint64_t plain = run(&sp, seed, holes, 1, 0, &c1);
        CHECK_MSG(plain == golden[i], "seed %llu: K = 1 is not the one-child "
                  "algorithm (digest %016llx)", (unsigned long long)seed,
                  (unsigned long long)plain);
        uint64_t k4 = run(&sp, seed, holes, 4, 0, &c4);
        CHECK(c1 == 96 && c4 == 96);
        CHECK(k4 != plain);
        CHECK(run(&sp, seed, holes, 4, 0, NULL) == k4);
        static const int shares[] = {1, 2, 3, 5};
        for (size_t j = 0; j < 4; j++) {
            CHECK_MSG(run(&sp, seed, holes, 1, shares[j], NULL) == plain,
                      "seed %llu, K = 1, %d shares", (unsigned long long)seed,
                      shares[j]);
            CHECK_MSG(run(&sp, seed, holes, 4, shares[j], NULL) == k4,
                      "seed %llu, K = 4, %d shares", (unsigned long long)seed,
                      shares[j]);
        }
        /* K = 5 does not divide the 96 cycles: the last cycle has one */
        size_t c5 = 0;
        run(&sp, seed, holes, 5, 2, &c5);
        CHECK(c5 == 96);
        printf("seed %llu%s: K = 1 %016llx, K = 4 %016llx\n",
               (unsigned long long)seed, holes ? " (unusable shapes)" : "",
               (unsigned long long)plain, (unsigned long long)k4);
    }

    /* killed at 3 ranks in its 20th batch, resumed at 2 */
    char dir[] = "/tmp/distilc-evo-batch-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char ck[128];
    snprintf(ck, sizeof ck, "%s/evolution.ckpt", dir);
    uint64_t want = run(&sp, 11, true, 4, 0, NULL);
    ckpt_run cr = {.path = ck, .kill_at = 20};
    run_ck(&sp, 11, true, 4, 3, NULL, &cr);
    CHECK(cr.status == IR_ERR_FAILED);
    cr = (ckpt_run){.path = ck, .resume = true, .status = IR_OK};
    ckpt_run other = {.path = ck, .resume = true};
    run_ck(&sp, 11, true, 2, 2, NULL, &other);
    CHECK(other.status == IR_ERR_INPUT);
    other = (ckpt_run){.path = ck, .resume = true};
    run_ck(&sp, 11, true, 1, 2, NULL, &other);
    CHECK(other.status == IR_ERR_INPUT);
    size_t cyc = 0;
    CHECK_MSG(run_ck(&sp, 11, true, 4, 2, &cyc, &cr) == want && cr.status == IR_OK,
              "K = 4 killed at 3 ranks and resumed at 2: another result");
    CHECK(cyc == 96);
    unlink(ck);
    rmdir(dir);

    /* a failing batch is the search's error; K above the population is
     * refused */
    fit_ctx fc = {.shares = 2, .fail = true};
    search_evo_opts o;
    search_evo_opts_default(&o);
    o.population = 8;
    o.generations = 2;
    o.fitness = synth_fitness;
    o.fitness_ctx = &fc;
    o.fitness_batch = batch_fitness;
    o.latency = synth_latency;
    search_result r;
    CHECK(search_evolve(&sp, &o, &r, &d) == IR_ERR_FAILED);
    CHECK(strstr(d.msg, "rank 1 lost its supernet") != NULL);
    printf("failing batch: %s\n", d.msg);
    fc.fail = false;
    o.children_per_cycle = 9;
    CHECK(search_evolve(&sp, &o, &r, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "9 children per cycle") != NULL);
    printf("K too large: %s\n", d.msg);
    return test_finish("test_evolution_batch");
#endif
}

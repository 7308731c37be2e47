/* test_evolution_resume.c — an evolution stopped anywhere (a kill, stood in
 * for by a callback that fails) and resumed from its checkpoint ends with
 * the result of one never stopped, bit for bit: the same candidates in the
 * same order, the same fitness and latency bits, the same front and best.
 * The resumed run does not evaluate again what its checkpoint holds. A
 * checkpoint of other options is refused naming the option; one truncated
 * at any length, or with a bit flipped in any byte, or forged with a valid
 * checksum, is refused naming the file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "search/evolution.h"
#include "search/evolution_ckpt.h"
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

/* What the callbacks count, and where a run is "killed": the fitness call
 * numbered kill_fitness fails (mid-generation), or the checkpoint hook at
 * kill_done cycles (a generation's end, before its checkpoint). 0: never. */
typedef struct calls {
    int fitness, latency, checkpoints, resumed;
    int kill_fitness;
    size_t kill_done;
    size_t stop_at;          /* the stop callback ends the run there */
    size_t seen;             /* the cycles the progress callback last saw */
    size_t resumed_done;
    double resumed_user[SEARCH_EVO_USER];
} calls;

/* The optimum L6 H384 A4 F1024 is excluded by the latency limit; the
 * fitness has ties (heads, sharing) so the tie-breaks are exercised too. */
static ir_status fitness(void *ctx, const ir_encoder_config *c, double *f,
                         ir_diag *d)
{
    calls *k = ctx;
    if (++k->fitness == k->kill_fitness)
        return ir_diag_set(d, IR_ERR_FAILED, "killed");
    *f = -(fabs(log2((double)c->hidden / 384)) + fabs(log2((double)c->ffn / 1024)) +
           fabs((double)c->layers - 6) / 2 + (c->heads == 4 ? 0 : 0.25) +
           (c->n_attn_groups == c->layers ? 0 : 0.5));
    return IR_OK;
}

/* FLOPs per token in ms, with a digit pattern that makes every latency's
 * low bits matter. */
static ir_status latency(void *ctx, const ir_encoder_config *c, double *ms,
                         ir_diag *d)
{
    calls *k = ctx;
    k->latency++;
    double H = (double)c->hidden, F = (double)c->ffn;
    *ms = (double)c->layers * (4 * H * H + 2 * H * F) * 1e-6 / 3.0 + 0.1 +
          1e-9 * (double)c->heads;
    return IR_OK;
}

static ir_status checkpoint(void *ctx, size_t done, double user[SEARCH_EVO_USER],
                            ir_diag *d)
{
    calls *k = ctx;
    if (k->kill_done && done == k->kill_done)
        return ir_diag_set(d, IR_ERR_FAILED, "killed");
    k->checkpoints++;
    user[0] = (double)done;
    user[1] = (double)k->fitness;
    user[2] = -1.5;
    user[3] = NAN;
    return IR_OK;
}

static void resumed(void *ctx, size_t done, const double user[SEARCH_EVO_USER])
{
    calls *k = ctx;
    k->resumed++;
    k->resumed_done = done;
    memcpy(k->resumed_user, user, sizeof k->resumed_user);
}

static void progress(void *ctx, size_t done, size_t total)
{
    (void)total;
    calls *k = ctx;
    k->seen = done;
}

static bool stop_at(void *ctx)
{
    calls *k = ctx;
    return k->stop_at && k->seen >= k->stop_at;
}

static void opts(search_evo_opts *o, calls *k, const char *ckpt)
{
    search_evo_opts_default(o);
    o->population = 8;
    o->generations = 6;
    o->seed = 11;
    o->fitness = fitness;
    o->fitness_ctx = k;
    o->latency = latency;
    o->latency_ctx = k;
    o->progress = progress;
    o->progress_ctx = k;
    o->stop = stop_at;
    o->ckpt_path = ckpt;
    o->ckpt_hash = 0x1234;
    o->checkpoint = checkpoint;
    o->resumed = resumed;
}

/* Bit for bit: the same candidates, in the same order, with the same
 * numbers; the same front, best and cycle count. */
static bool same(const search_result *a, const search_result *b, const char *what)
{
    bool ok = a->n == b->n && a->n_front == b->n_front && a->best == b->best &&
              a->cycles == b->cycles;
    for (size_t i = 0; ok && i < a->n; i++) {
        const search_cand *x = &a->all[i], *y = &b->all[i];
        ok = search_genome_equal(&x->g, &y->g) &&
             memcmp(&x->fitness, &y->fitness, sizeof x->fitness) == 0 &&
             memcmp(&x->latency_ms, &y->latency_ms, sizeof x->latency_ms) == 0 &&
             x->feasible == y->feasible && x->front == y->front &&
             x->params == y->params && x->size_mb == y->size_mb &&
             ir_encoder_config_equal(&x->cfg, &y->cfg);
    }
    for (size_t i = 0; ok && i < a->n_front; i++)
        ok = a->front[i] == b->front[i];
    if (!ok)
        fprintf(stderr, "%s: %zu candidates, %zu cycles, best %zu; the never "
                "stopped run %zu, %zu, %zu\n", what, b->n, b->cycles, b->best,
                a->n, a->cycles, a->best);
    return ok;
}

static size_t ckpt_candidates(const char *path)
{
    search_evo_ckpt ck;
    ir_diag d;
    ir_diag_init(&d);
    if (search_evo_ckpt_read(path, &ck, &d) != IR_OK)
        return 0;
    size_t n = ck.n;
    search_evo_ckpt_free(&ck);
    return n;
}

static bool write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* A resume from a damaged checkpoint: refused as bad input naming the
 * file; nothing evaluated. */
static bool refused(const search_space *sp, const char *path, const char *want)
{
    calls k = {0};
    search_evo_opts o;
    opts(&o, &k, path);
    o.resume = true;
    search_result r;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = search_evolve(sp, &o, &r, &d);
    bool ok = s == IR_ERR_INPUT && strstr(d.msg, path) && k.fitness == 0 &&
              k.latency == 0 && (!want || strstr(d.msg, want));
    if (s == IR_OK)
        search_result_free(&r);
    if (!ok)
        fprintf(stderr, "not refused as expected (status %d, %d evaluations): %s\n",
                (int)s, k.fitness, d.msg);
    return ok;
}

int main(void)
{
    search_space sp;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = search_space_load_memory(space_xml, strlen(space_xml), "evo.xml",
                                           &sp, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    char dir[256], ref_ck[512], ck[512];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    snprintf(ref_ck, sizeof ref_ck, "%s/ref.ckpt", dir);
    snprintf(ck, sizeof ck, "%s/evolution.ckpt", dir);

    /* the never stopped run, checkpointing; the checkpoints change nothing */
    calls k0 = {0};
    search_evo_opts o;
    opts(&o, &k0, NULL);
    search_result plain, ref;
    CHECK(search_evolve(&sp, &o, &plain, &d) == IR_OK);
    calls kr = {0};
    opts(&o, &kr, ref_ck);
    s = search_evolve(&sp, &o, &ref, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    if (s != IR_OK)
        return test_finish("test_evolution_resume");
    CHECK(same(&plain, &ref, "with checkpoints"));
    search_result_free(&plain);
    /* after the initial population and each of the 6 generations */
    CHECK_MSG(kr.checkpoints == 7, "%d checkpoints", kr.checkpoints);
    CHECK(ref.cycles == 48 && !ref.resumed);
    printf("never stopped: %zu candidates (%d scored, %d timed), %zu cycles, "
           "best %zu\n", ref.n, kr.fitness, kr.latency, ref.cycles, ref.best);

    /* killed mid-generation (the n-th fitness call) or at a generation's
     * end (its checkpoint not written yet), then resumed: the same result;
     * only the candidates the checkpoint does not hold are evaluated */
    int mid[] = {3, 9, 14, 20, 27, 33};
    size_t ends[] = {8, 16, 32, 48};
    for (int i = 0; i < 6 + 4; i++) {
        calls k = {0};
        if (i < 6)
            k.kill_fitness = mid[i];
        else
            k.kill_done = ends[i - 6];
        unlink(ck);
        opts(&o, &k, ck);
        search_result r;
        s = search_evolve(&sp, &o, &r, &d);
        CHECK_MSG(s == IR_ERR_FAILED && strstr(d.msg, "killed"), "kill %d: %s", i, d.msg);
        size_t held = ckpt_candidates(ck);
        calls k2 = {0};
        opts(&o, &k2, ck);
        o.resume = true;
        s = search_evolve(&sp, &o, &r, &d);
        CHECK_MSG(s == IR_OK, "resume %d: %s", i, d.msg);
        if (s != IR_OK)
            continue;
        char what[64];
        snprintf(what, sizeof what, "kill %d, resumed", i);
        CHECK(same(&ref, &r, what));
        /* each candidate is timed once over both runs when the kill came
         * after the first checkpoint */
        CHECK_MSG((size_t)k2.latency == ref.n - held, "kill %d: %d timed on resume, "
                  "%zu of %zu were in the checkpoint", i, k2.latency, held, ref.n);
        CHECK(r.resumed == (held > 0));
        if (held > 0) {
            CHECK(k2.resumed == 1 && k2.resumed_done == r.resumed_at);
            /* the caller's numbers come back as saved */
            CHECK(k2.resumed_user[0] == (double)r.resumed_at &&
                  k2.resumed_user[2] == -1.5 && isnan(k2.resumed_user[3]));
        }
        if (held > 0)
            printf("kill %d (%s %zu): resumed at cycle %zu with %zu candidates, "
                   "%d more timed\n", i, i < 6 ? "fitness call" : "cycle",
                   i < 6 ? (size_t)mid[i] : ends[i - 6], r.resumed_at, held,
                   k2.latency);
        else
            printf("kill %d (fitness call %d, in the initial population): no "
                   "checkpoint yet, started afresh\n", i, i < 6 ? mid[i] : 0);
        search_result_free(&r);
    }

    /* killed twice: during the run and again during its resume */
    {
        calls k = {.kill_fitness = 12};
        unlink(ck);
        opts(&o, &k, ck);
        search_result r;
        CHECK(search_evolve(&sp, &o, &r, &d) == IR_ERR_FAILED);
        calls k2 = {.kill_fitness = 9};
        opts(&o, &k2, ck);
        o.resume = true;
        CHECK(search_evolve(&sp, &o, &r, &d) == IR_ERR_FAILED);
        calls k3 = {0};
        opts(&o, &k3, ck);
        o.resume = true;
        s = search_evolve(&sp, &o, &r, &d);
        CHECK_MSG(s == IR_OK, "%s", d.msg);
        if (s == IR_OK) {
            CHECK(same(&ref, &r, "killed twice"));
            search_result_free(&r);
        }
    }

    /* a finished checkpoint: nothing left to evaluate */
    {
        calls k = {0};
        opts(&o, &k, ref_ck);
        o.resume = true;
        search_result r;
        s = search_evolve(&sp, &o, &r, &d);
        CHECK_MSG(s == IR_OK, "%s", d.msg);
        if (s == IR_OK) {
            CHECK(same(&ref, &r, "resumed when finished"));
            CHECK(k.fitness == 0 && k.latency == 0 && r.resumed_at == 48);
            search_result_free(&r);
        }
    }

    /* stopped (a budget) at cycle 13: the checkpoint says so, and a resume
     * ends there too rather than run on */
    {
        calls k = {.stop_at = 13};
        unlink(ck);
        opts(&o, &k, ck);
        search_result stopped, r;
        CHECK(search_evolve(&sp, &o, &stopped, &d) == IR_OK);
        CHECK(stopped.cycles == 13);
        calls k2 = {0};
        opts(&o, &k2, ck);
        o.resume = true;
        s = search_evolve(&sp, &o, &r, &d);
        CHECK_MSG(s == IR_OK, "%s", d.msg);
        if (s == IR_OK) {
            CHECK(same(&stopped, &r, "resumed after a stop"));
            CHECK(k2.fitness == 0 && k2.latency == 0);
            search_result_free(&r);
        }
        search_result_free(&stopped);
    }

    /* other options than the checkpoint's: refused naming them; no resume
     * without the flag (the file is then overwritten by a fresh run) */
    {
        struct { const char *want; size_t pop, gens; uint64_t seed, hash; double lat; }
        other[] = {
            {"population 8, this run has 10", 10, 6, 11, 0x1234, 3.0},
            {"6 generations, this run has 7", 8, 7, 11, 0x1234, 3.0},
            {"seed 11, this run has 12", 8, 6, 12, 0x1234, 3.0},
            {"another fitness or latency setting", 8, 6, 11, 0x99, 3.0},
            {"another search space or other constraints", 8, 6, 11, 0x1234, 2.5},
        };
        for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
            calls k = {0};
            opts(&o, &k, ref_ck);
            o.resume = true;
            o.population = other[i].pop;
            o.generations = other[i].gens;
            o.seed = other[i].seed;
            o.ckpt_hash = other[i].hash;
            search_space sp2 = sp;
            sp2.cons.latency_ms = other[i].lat;
            search_result r;
            s = search_evolve(&sp2, &o, &r, &d);
            CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, other[i].want) &&
                      strstr(d.msg, ref_ck) && k.fitness == 0,
                      "option %zu: %s", i, d.msg);
            if (s == IR_OK)
                search_result_free(&r);
        }
        printf("refused: %s\n", d.msg);
    }

    /* damaged checkpoints: every truncation, every flipped bit (the
     * checksum), and a few forged with a valid checksum (the checks behind
     * it), are bad input naming the file; nothing crashes (ASan) */
    size_t len = 0;
    char *good = test_read_file(ref_ck, &len);
    CHECK(good && len > 200);
    if (good) {
        int bad = 0;
        for (size_t n = 0; n < len; n++)
            bad += !(write_bytes(ck, good, n) && refused(&sp, ck, NULL));
        CHECK_MSG(bad == 0, "%d of %zu truncations not refused", bad, len);
        bad = 0;
        unsigned char *flip = malloc(len);
        for (size_t i = 0; flip && i < len; i++) {
            memcpy(flip, good, len);
            flip[i] ^= (unsigned char)(1u << (i % 8));
            bad += !(write_bytes(ck, flip, len) && refused(&sp, ck, NULL));
        }
        CHECK_MSG(bad == 0, "%d of %zu flipped bytes not refused", bad, len);
        /* forged: the field changed and the checksum made to match */
        struct { size_t at; uint64_t v; const char *want; } forge[] = {
            {8 + 8 + 8 * 10, 9, "head"},           /* ring head 9 of 8 */
            {8 + 8, 1, "population of 1"},           /* population 1 */
            {8 + 8 + 8 * 11, 7, "stop flag"},        /* stopped 7 */
            {8 + 8 + 8 * 9, 4096, "more cycles"},    /* done */
            {8 + 8 + 8 * 12 + 8 * SEARCH_EVO_USER, (uint64_t)1 << 60,
             "truncated"},                           /* n */
            {8 + 8 + 8 * 13 + 8 * SEARCH_EVO_USER, 1000, "population member 0"},
        };
        for (size_t f = 0; flip && f < sizeof forge / sizeof forge[0]; f++) {
            memcpy(flip, good, len);
            memcpy(flip + forge[f].at, &forge[f].v, 8);
            uint64_t h = 0xcbf29ce484222325ull;
            for (size_t i = 0; i + 8 < len; i++)
                h = (h ^ flip[i]) * 0x100000001b3ull;
            memcpy(flip + len - 8, &h, 8);
            CHECK_MSG(write_bytes(ck, flip, len) && refused(&sp, ck, forge[f].want),
                      "forged field %zu", f);
        }
        /* a candidate's genome out of its gene's range, and a repeated one */
        size_t cand0 = 8 + 8 + 8 * 13 + 8 * SEARCH_EVO_USER + 8 * 8;
        for (int f = 0; flip && f < 2; f++) {
            memcpy(flip, good, len);
            if (f == 0)
                flip[cand0] = 200;
            else
                memcpy(flip + cand0 + 23, flip + cand0, SEARCH_GENE_COUNT);
            uint64_t h = 0xcbf29ce484222325ull;
            for (size_t i = 0; i + 8 < len; i++)
                h = (h ^ flip[i]) * 0x100000001b3ull;
            memcpy(flip + len - 8, &h, 8);
            CHECK_MSG(write_bytes(ck, flip, len) &&
                      refused(&sp, ck, f == 0 ? "candidate 0" : "repeats"),
                      "forged candidate %d", f);
        }
        free(flip);
        free(good);
        /* a folder where the checkpoint should be */
        unlink(ck);
        CHECK(mkdir(ck, 0700) == 0 && refused(&sp, ck, NULL));
        rmdir(ck);
    }
    printf("damaged checkpoints: %zu truncations and a flipped bit in each of "
           "the %zu bytes refused\n", len, len);
    search_result_free(&ref);
    unlink(ref_ck);
    rmdir(dir);
    return test_finish("test_evolution_resume");
}

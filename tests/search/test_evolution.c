/* test_evolution.c — aging evolution on a synthetic fitness whose optimum
 * under a latency constraint is known by enumerating the space: the search
 * finds it, is deterministic in the seed, keeps only feasible candidates on
 * a front that is non-dominated, and reports bad setups clearly. */
#include <math.h>
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

/* Peaks at L6 H384 A4 F1024 without sharing (value 0), which the latency
 * limit excludes. */
static ir_status synth_fitness(void *ctx, const ir_encoder_config *c,
                               double *f, ir_diag *d)
{
    int *calls = ctx;
    (*calls)++;
    *f = -(fabs(log2((double)c->hidden / 384)) + fabs(log2((double)c->ffn / 1024)) +
           fabs((double)c->layers - 6) / 2 + (c->heads == 4 ? 0 : 0.25) +
           (c->n_attn_groups == c->layers ? 0 : 0.5));
    return IR_OK;
}

/* A stand-in latency: proportional to the FLOPs per token, in ms. */
static ir_status synth_latency(void *ctx, const ir_encoder_config *c,
                               double *ms, ir_diag *d)
{
    double H = (double)c->hidden, F = (double)c->ffn;
    *ms = (double)c->layers * (4 * H * H + 2 * H * F) * 1e-6 + 0.1;
    return IR_OK;
}

static void best_by_enumeration(const search_space *sp, double *best_f)
{
    *best_f = -INFINITY;
    int dummy = 0;
    for (uint64_t i = 0; i < (uint64_t)search_space_total(sp); i++) {
        search_genome g;
        search_space_genome_at(sp, i, &g);
        if (!search_space_valid(sp, &g))
            continue;
        ir_encoder_config c;
        search_space_decode(sp, &g, &c, NULL);
        double f, ms;
        synth_fitness(&dummy, &c, &f, NULL);
        synth_latency(NULL, &c, &ms, NULL);
        if (ms <= sp->cons.latency_ms && f > *best_f)
            *best_f = f;
    }
}

static ir_status failing_latency(void *ctx, const ir_encoder_config *c,
                                 double *ms, ir_diag *d)
{
    return ir_diag_set(d, IR_ERR_FAILED, "timer broke");
}

int main(void)
{
    search_space sp;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = search_space_load_memory(space_xml, strlen(space_xml), "evo.xml", &sp, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    double want;
    best_by_enumeration(&sp, &want);
    CHECK(want < 0); /* the unconstrained peak is excluded */

    int calls = 0;
    search_evo_opts o;
    search_evo_opts_default(&o);
    o.population = 16;
    o.generations = 12;
    o.seed = 3;
    o.fitness = synth_fitness;
    o.fitness_ctx = &calls;
    o.latency = synth_latency;
    search_result r;
    s = search_evolve(&sp, &o, &r, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    if (s != IR_OK)
        return test_finish("test_evolution");
    char buf[96];
    search_config_format(&r.all[r.best].cfg, buf, sizeof buf);
    printf("best %s fitness %.3f (optimum %.3f), latency %.3f ms, %zu distinct "
           "of %zu valid, front %zu\n", buf, r.all[r.best].fitness, want,
           r.all[r.best].latency_ms, r.n, search_space_count_valid(&sp, 0), r.n_front);
    CHECK(r.all[r.best].fitness == want);
    CHECK(r.all[r.best].feasible && r.all[r.best].latency_ms <= 3.0);
    CHECK(r.cycles == 16 * 12);
    /* each distinct genome is scored once, and only when it meets the
     * constraints (the others keep fitness -inf) */
    size_t meeting = 0;
    for (size_t i = 0; i < r.n; i++)
        meeting += r.all[i].latency_ms <= 3.0;
    CHECK_MSG((size_t)calls == meeting && meeting < r.n, "%d fitness calls, %zu "
              "candidates meet the limit of %zu", calls, meeting, r.n);
    for (size_t i = 0; i < r.n; i++)
        if (r.all[i].latency_ms > 3.0)
            CHECK(r.all[i].fitness == -INFINITY && !r.all[i].feasible);

    /* the front: feasible, sorted by latency, nobody dominates a member */
    CHECK(r.n_front >= 2);
    for (size_t i = 0; i < r.n_front; i++) {
        const search_cand *a = &r.all[r.front[i]];
        CHECK(a->feasible && a->front);
        if (i)
            CHECK(r.all[r.front[i - 1]].latency_ms <= a->latency_ms);
        for (size_t j = 0; j < r.n; j++) {
            const search_cand *b = &r.all[j];
            if (!b->feasible)
                continue;
            bool dom = b->fitness >= a->fitness && b->latency_ms <= a->latency_ms &&
                       (b->fitness > a->fitness || b->latency_ms < a->latency_ms);
            CHECK(!dom);
        }
    }
    /* and every feasible non-member is dominated by (or equal to) a member */
    for (size_t j = 0; j < r.n; j++) {
        const search_cand *b = &r.all[j];
        if (!b->feasible || b->front)
            continue;
        bool covered = false;
        for (size_t i = 0; i < r.n_front && !covered; i++) {
            const search_cand *a = &r.all[r.front[i]];
            covered = a->fitness >= b->fitness && a->latency_ms <= b->latency_ms;
        }
        CHECK(covered);
    }

    /* deterministic in the seed; another seed explores differently */
    search_result r2, r3;
    CHECK(search_evolve(&sp, &o, &r2, &d) == IR_OK);
    CHECK(r2.n == r.n && r2.n_front == r.n_front && r2.best == r.best);
    for (size_t i = 0; i < r.n && i < r2.n; i++)
        CHECK(search_genome_equal(&r.all[i].g, &r2.all[i].g));
    o.seed = 4;
    CHECK(search_evolve(&sp, &o, &r3, &d) == IR_OK);
    bool differs = r3.n != r.n;
    for (size_t i = 0; i < r.n && i < r3.n && !differs; i++)
        differs = !search_genome_equal(&r.all[i].g, &r3.all[i].g);
    CHECK(differs);
    search_result_free(&r2);
    search_result_free(&r3);
    search_result_free(&r);

    /* impossible constraint: a clear error naming the limit */
    sp.cons.latency_ms = 0.01;
    CHECK(search_evolve(&sp, &o, &r, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "latency <= 0.01 ms"), "%s", d.msg);
    sp.cons.latency_ms = 3.0;
    /* callback errors name the candidate */
    o.latency = failing_latency;
    CHECK(search_evolve(&sp, &o, &r, &d) == IR_ERR_FAILED);
    CHECK_MSG(strstr(d.msg, "candidate L") && strstr(d.msg, "timer broke"), "%s", d.msg);
    o.latency = synth_latency;
    o.population = 1;
    CHECK(search_evolve(&sp, &o, &r, &d) == IR_ERR_INPUT);
    o.population = 16;
    o.fitness = NULL;
    CHECK(search_evolve(&sp, &o, &r, &d) == IR_ERR_INPUT);

    /* the front on hand-made points */
    search_cand pts[5];
    memset(pts, 0, sizeof pts);
    double fl[5][2] = {{1, 1}, {2, 2}, {1.5, 3}, {2, 2}, {3, 5}};
    for (int i = 0; i < 5; i++) {
        pts[i].fitness = fl[i][0];
        pts[i].latency_ms = fl[i][1];
        pts[i].feasible = i != 4; /* the best one breaks a constraint */
    }
    size_t idx[5];
    size_t nf = search_pareto_front(pts, 5, idx);
    CHECK(nf == 2 && idx[0] == 0 && idx[1] == 1);
    CHECK(!pts[2].front && !pts[3].front && !pts[4].front);
    return test_finish("test_evolution");
}

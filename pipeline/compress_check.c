/* compress_check.c — what `distilc compress` can check about its limits
 * before anything trains.
 *
 * The search stage finds out that no candidate meets a latency limit only
 * after the supernet stage has trained (a minute of a small budget, an
 * hour of a large one): --latency-ms 0.001 was refused after 60 s. Before
 * the supernet and before the search, this measures the cheapest
 * candidate of the space (cut to what the teacher can teach) as a whole
 * model in the runtime, at the limit's setting: when even it is well over
 * the limit, no candidate can meet it and the run stops there, naming
 * both numbers. Well over: LATENCY_MARGIN times, so that timing noise never
 * refuses a limit the search could meet; a limit between is left to the
 * search, which says so itself. */
#include <math.h>
#include <stdio.h>

#include "pipeline/compress_internal.h"
#include "search/latency.h"

enum { CHECK_RUNS = 5, CHECK_MAX_GENOMES = 1 << 20 };
#define LATENCY_MARGIN 1.5

/* Multiply-adds per token of a candidate: what its latency grows with. */
static double candidate_cost(const ir_encoder_config *c, int64_t seq)
{
    double h = (double)c->hidden, f = (double)c->ffn;
    return (double)c->layers * (4 * h * h + 2 * h * f + 2 * (double)seq * h);
}

/* The cheapest valid candidate of sp that the teacher tc can teach (the
 * search's fitness rules the others out); false when there is none or the
 * space is too large to go through. */
static bool cheapest_candidate(const search_space *sp,
                               const ir_encoder_config *tc,
                               ir_encoder_config *out)
{
    size_t total = 1;
    for (int i = 0; i < SEARCH_GENE_COUNT; i++) {
        if (sp->n[i] == 0 || total > CHECK_MAX_GENOMES / sp->n[i])
            return false;
        total *= sp->n[i];
    }
    bool found = false;
    double best = INFINITY;
    for (size_t k = 0; k < total; k++) {
        search_genome g;
        size_t r = k;
        for (int i = 0; i < SEARCH_GENE_COUNT; i++) {
            g.g[i] = (uint8_t)(r % sp->n[i]);
            r /= sp->n[i];
        }
        ir_encoder_config c;
        if (!search_space_valid(sp, &g) ||
            search_space_decode(sp, &g, &c, NULL) != IR_OK ||
            !compress_teachable(tc, &c))
            continue;
        double cost = candidate_cost(&c, sp->cons.seq);
        if (cost < best) {
            best = cost;
            *out = c;
            found = true;
        }
    }
    return found;
}

ir_status compress_check_latency_limit(compress_ctx *c, ir_diag *d)
{
    const compress_results *r = &c->st->r;
    search_space sp = c->space;
    ir_encoder_config tc;
    compress_teacher_config(c, &sp, &tc);
    /* the tokens the positions serve (RoBERTa-style numbering loses
     * pad_id + 1 of them), as every stage counts them */
    if (sp.cons.seq > ir_encoder_max_seq(&tc))
        return ir_diag_set(d, IR_ERR_INPUT, "--seq %lld exceeds the %lld tokens "
                           "the teacher's positions serve", (long long)sp.cons.seq,
                           (long long)ir_encoder_max_seq(&tc));
    ir_status s = compress_space_fit_teacher(&sp, &tc, d);
    if (s != IR_OK)
        return s;
    double limit = sp.cons.latency_ms;
    const char *what = "--latency-ms";
    if (c->o->speedup > 0) {
        if (!(r->teacher.latency_ms > 0))
            return IR_OK; /* the search says the teacher's latency is unknown */
        limit = r->teacher.latency_ms / c->o->speedup;
        what = "--speedup";
    } else if (!(c->o->latency_ms > 0)) {
        what = "the space's latency limit";
    }
    ir_encoder_config small;
    if (!(limit > 0) || !cheapest_candidate(&sp, &tc, &small))
        return IR_OK; /* no limit, or nothing to measure: the search decides */
    search_latency_query q = {.batch = sp.cons.batch, .seq = sp.cons.seq,
                              .threads = (int)sp.cons.threads,
                              .precision = sp.cons.precision};
    double ms = 0;
    s = search_latency_measure_model(&small, &q, CHECK_RUNS,
                                     c->o->cpu_clock ? SEARCH_CLOCK_CPU
                                                     : SEARCH_CLOCK_WALL,
                                     7, &ms, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "latency of the smallest candidate");
    compress_note(c, "latency check: the smallest candidate (layers %lld, "
                  "hidden %lld, ffn %lld) takes %.3f ms, the limit is %g ms",
                  (long long)small.layers, (long long)small.hidden,
                  (long long)small.ffn, ms, limit);
    if (ms > LATENCY_MARGIN * limit)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: a latency of %g ms cannot be "
                           "met: the smallest candidate of %s (layers %lld, "
                           "hidden %lld, heads %lld, ffn %lld) already takes "
                           "%.3f ms here (fastest of %d runs at seq %lld, "
                           "batch %lld, threads %lld, %s); loosen the limit or "
                           "give a --space with smaller choices", what, limit,
                           sp.name, (long long)small.layers,
                           (long long)small.hidden, (long long)small.heads,
                           (long long)small.ffn, ms, CHECK_RUNS,
                           (long long)q.seq, (long long)q.batch,
                           (long long)sp.cons.threads,
                           ir_precision_name(q.precision));
    return IR_OK;
}

/* latency_measure.c — whole-model latencies in the compiled runtime, and
 * the overhead calibration built on them (search/latency.h): what
 * `distilc latency-model` validates against, and what `distilc compress`
 * fits before its search when the cache holds no calibration for its
 * setting (without it the model predicts the primitive sums alone, about
 * 10% under the real runs on this machine: a student chosen right at the
 * limit would miss it). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/rt_encoder.h"
#include "ir/clock.h"
#include "search/latency.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

ir_status search_latency_measure_model(const ir_encoder_config *c,
                                       const search_latency_query *q, int runs,
                                       search_clock clk, uint64_t seed,
                                       double *ms, ir_diag *d)
{
    if (runs < 1)
        return ir_diag_set(d, IR_ERR_INPUT, "latency: runs = %d must be >= 1", runs);
    ir_encoder *e = NULL;
    rt_model *m = NULL;
    int64_t n = q->batch * q->seq;
    int64_t *ids = malloc((size_t)n * sizeof *ids);
    float *logits = malloc((size_t)(q->batch * c->labels) * sizeof *logits);
    double *t = malloc((size_t)runs * sizeof *t);
    ir_status s = (ids && logits && t) ? IR_OK
                                       : ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    if (s == IR_OK)
        s = ir_encoder_new(c, &e, d);
    if (s == IR_OK) {
        ir_encoder_init_opts io;
        ir_encoder_init_opts_default(&io);
        io.seed = seed;
        ir_encoder_init_random(e, &io);
        rt_options o;
        rt_options_default(&o);
        o.threads = q->threads;
        o.precision = q->precision;
        s = rt_model_from_encoder(e, &o, &m, d);
    }
    if (s == IR_OK) {
        for (int64_t i = 0; i < n; i++)
            ids[i] = (i * 7919 + 101) % c->vocab;
        /* with several threads on the wall clock, runs where a thread lost
         * its core (the process burnt well under threads x wall time) are
         * set aside as the latency model does with its primitives */
        int threads = q->threads > 0 ? q->threads : 1;
        bool check = clk == SEARCH_CLOCK_WALL && threads > 1;
        int n_clean = 0;
        for (int r = 0; r < runs + 2 && s == IR_OK; r++) {
            double c0 = check ? (1e3 * ir_clock_s(IR_CLOCK_PROCESS_CPU)) : 0;
            double t0 = search_clock_ms(clk);
            s = rt_model_run(m, q->batch, q->seq, ids, NULL, NULL, logits, NULL, d);
            double dt = search_clock_ms(clk) - t0;
            if (r < 2)
                continue;
            t[r - 2] = dt;
            if (check && (1e3 * ir_clock_s(IR_CLOCK_PROCESS_CPU)) - c0 >= 0.8 * threads * dt)
                t[n_clean++] = dt; /* clean runs packed at the front */
        }
        if (s == IR_OK) {
            /* the fastest run, as the latency model times its primitives:
             * on a shared machine the noise only adds */
            size_t k = check && n_clean ? (size_t)n_clean : (size_t)runs;
            qsort(t, k, sizeof *t, cmp_double);
            *ms = t[0];
        }
    }
    rt_model_free(m);
    ir_encoder_free(e);
    free(ids), free(logits), free(t);
    return s;
}

void search_configs_spread(ir_encoder_config *pool, size_t n_pool, size_t n,
                           ir_encoder_config *out)
{
    for (size_t i = 1; i < n_pool; i++) /* insertion sort by weight volume */
        for (size_t j = i; j > 0 && search_config_body_params(&pool[j - 1]) >
                                        search_config_body_params(&pool[j]); j--) {
            ir_encoder_config t = pool[j];
            pool[j] = pool[j - 1];
            pool[j - 1] = t;
        }
    for (size_t k = 0; k < n; k++)
        out[k] = pool[n > 1 ? k * (n_pool - 1) / (n - 1) : n_pool / 2];
}

ir_status search_latency_calibrate_space(search_latency *m,
                                         const search_space *sp,
                                         const search_latency_query *q,
                                         size_t n, int runs, search_clock clk,
                                         uint64_t seed, ir_diag *d)
{
    if (n < 2 || n > 100)
        return ir_diag_set(d, IR_ERR_INPUT, "latency calibration: %zu models; "
                           "2 to 100 are needed", n);
    /* a pool of 8n draws sorted by layer-weight volume, n taken evenly:
     * the overhead grows with that volume, and a fit on look-alike models
     * pins nothing */
    size_t n_pool = 8 * n;
    search_genome g;
    ir_encoder_config *cfg = calloc(n_pool, sizeof *cfg);
    double *meas = calloc(n, sizeof *meas);
    ir_encoder_config *pick = calloc(n, sizeof *pick);
    ir_status s = (cfg && meas && pick)
                      ? IR_OK : ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    search_rng rng;
    search_rng_seed(&rng, seed);
    for (size_t i = 0; i < n_pool && s == IR_OK; i++)
        if ((s = search_space_sample(sp, &rng, &g, d)) == IR_OK)
            s = search_space_decode(sp, &g, &cfg[i], d);
    if (s == IR_OK)
        search_configs_spread(cfg, n_pool, n, pick);
    for (size_t k = 0; k < n && s == IR_OK; k++) {
        /* predict first: the primitive timings and the real run then do
         * not overlap in time */
        search_latency_estimate est;
        s = search_latency_predict(m, &pick[k], q, &est, d);
        if (s == IR_OK) {
            ir_load_mark a = ir_load_mark_now();
            s = search_latency_measure_model(&pick[k], q, runs, clk, seed + k,
                                             &meas[k], d);
            ir_load_mark b = ir_load_mark_now();
            search_latency_count_load(m, &a, &b);
        }
    }
    if (s == IR_OK)
        s = search_latency_calibrate(m, pick, meas, n, q, d);
    free(cfg), free(meas), free(pick);
    return s;
}

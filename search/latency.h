/* latency.h — a latency model for encoder candidates, built from oneDNN
 * micro-benchmarks on the machine it runs on.
 *
 * A candidate's latency is predicted as the sum of the primitives the
 * compiled runtime (backend/rt.c) runs for it, each timed once at its exact
 * shape and cached per machine:
 *   embeddings  gather + sum (plain C) [+ E->H linear] + LayerNorm
 *   per layer   linear (M=B*S, H, 3H); attention (B, A, S, dh): Q·Kᵀ with
 *               the mask fused, softmax, P·V; linear (M, H, H) + residual;
 *               LayerNorm (M, H); linear (M, H, F) + activation;
 *               linear (M, F, H) + residual; LayerNorm (M, H)
 *   last layer  the same with one query per sequence in the attention and
 *               M = B in everything after it ([CLS] only, as rt.c runs it)
 *   head        pooler linear (B, H, H, tanh) + classifier (B, H, labels)
 * plus an overhead a + b·W fitted once against whole-model runs
 * (search_latency_calibrate; 0 until calibrated), W = MB of encoder-layer
 * weights with each sharing group counted once: the primitives are timed
 * with hot caches, a real inference streams every group's weights in cold,
 * so the gap grows with W (measured here: about 0.1 ms per MB at fp32, one
 * thread) and not with the layer count.
 *
 *     search_latency_opts o; search_latency_opts_default(&o);
 *     search_latency *lm;
 *     if (search_latency_create(&o, &lm, &d) != IR_OK) ...
 *     search_latency_query q = {.batch = 1, .seq = 128, .threads = 2,
 *                               .precision = IR_PRECISION_FP32};
 *     search_latency_estimate e;
 *     search_latency_predict(lm, &cfg, &q, &e, &d);   // e.total_ms
 *     search_latency_save(lm, &d);                    // keep the timings
 *     search_latency_free(lm);
 *
 * Cache: a JSON file (format "distilc-latency", version 1) at --cache PATH
 * or ~/.cache/distilc/latency-v<version>-<hash of the CPU model and core
 * count>.json,
 * one entry per primitive, setting and shape
 * ("linear/fp32/t2/wall/128,312,936,0/a1": kind, precision, threads, clock,
 * dims, activation tag).
 * When measuring is off, a missing shape is interpolated from the nearest
 * cached shape of the same primitive by its work (FLOPs or bytes).
 * Threads: oneDNN runs on OpenMP; the model sets the OpenMP thread count
 * of the calling thread to the query's before timing.
 */
#ifndef DISTILC_SEARCH_LATENCY_H
#define DISTILC_SEARCH_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"
#include "ir/encoder.h"
#include "ir/machine_load.h"
#include "search/space.h"

/* What a timing measures. Wall time is what a user sees; the calling
 * thread's CPU time leaves out the time the thread waited for a core, so
 * on a machine shared with other jobs it still gives the unloaded figure
 * (one thread only: other threads' work and waits are not counted). */
typedef enum search_clock {
    SEARCH_CLOCK_WALL,
    SEARCH_CLOCK_CPU,
    SEARCH_CLOCK_COUNT
} search_clock;
const char *search_clock_name(search_clock c); /* "wall", "cpu" */
bool search_clock_parse(const char *s, search_clock *out);
/* Now in milliseconds on that clock (monotonic / this thread's CPU). */
double search_clock_ms(search_clock c);

typedef struct search_latency_opts {
    const char *cache_path; /* NULL: the per-machine default path */
    bool load_cache;        /* read the cache file if it exists (true) */
    bool measure;           /* time missing shapes (true) or interpolate */
    double min_time_ms;     /* timing budget per primitive (50) */
    int reps;               /* at least this many samples, the fastest is
                               kept (5) */
    search_clock clock;     /* SEARCH_CLOCK_WALL; CPU needs threads = 1 */
    /* write the cache after every call that timed something new (predict,
     * calibrate), not only on search_latency_save: a run killed after it
     * keeps every timing, and its rerun looks them up instead of timing
     * the shapes again (false). A write that fails turns this off; the
     * caller's own search_latency_save then reports why. */
    bool save_each;
} search_latency_opts;
void search_latency_opts_default(search_latency_opts *o);

typedef struct search_latency_query {
    int64_t batch, seq;
    int threads;            /* 0: all cores */
    ir_precision precision;
} search_latency_query;

typedef struct search_latency_estimate {
    double total_ms;
    double embed_ms, layers_ms, head_ms; /* primitive sums */
    double overhead_ms;     /* the calibrated a + b·W */
    bool calibrated;        /* an overhead fit exists for this query */
    int measured;           /* primitives timed by this call */
} search_latency_estimate;

typedef struct search_latency search_latency;

/* IR_ERR_INPUT when the cache file exists but is not a distilc latency
 * cache of this version (the message says to delete it). */
ir_status search_latency_create(const search_latency_opts *o,
                                search_latency **out, ir_diag *d);
void search_latency_free(search_latency *m);
/* The cache file in use and the machine key it is for. */
const char *search_latency_cache_path(const search_latency *m);
const char *search_latency_cpu(const search_latency *m);
size_t search_latency_entries(const search_latency *m);

/* IR_ERR_INPUT for a bad query or config; IR_ERR_UNSUPPORTED when oneDNN
 * cannot run a primitive at the precision (naming it); without measuring,
 * IR_ERR_INPUT when the cache has nothing to interpolate from. */
ir_status search_latency_predict(search_latency *m, const ir_encoder_config *c,
                                 const search_latency_query *q,
                                 search_latency_estimate *out, ir_diag *d);
/* Fits overhead = a + b·W (W as above) to measured whole-model latencies
 * (measured_ms[i] of cfgs[i]) by least squares with a, b >= 0 and keeps it
 * for this query's batch, seq, threads and precision. */
ir_status search_latency_calibrate(search_latency *m,
                                   const ir_encoder_config *cfgs,
                                   const double *measured_ms, size_t n,
                                   const search_latency_query *q, ir_diag *d);
/* Whether an overhead fit exists for q's setting (on the model's clock). */
bool search_latency_calibrated(search_latency *m,
                               const search_latency_query *q);
/* latency_measure.c: the fastest of `runs` forward passes (after two
 * warm-ups) of a random-weight encoder c in the compiled runtime at q, on
 * clock clk — what the model predicts. */
ir_status search_latency_measure_model(const ir_encoder_config *c,
                                       const search_latency_query *q, int runs,
                                       search_clock clk, uint64_t seed,
                                       double *ms, ir_diag *d);
/* latency_measure.c: sorts pool[n_pool] by layer-weight volume (the
 * overhead grows with it) and copies n of them spread evenly over it into
 * out: calibration models that are not look-alikes. */
void search_configs_spread(ir_encoder_config *pool, size_t n_pool, size_t n,
                           ir_encoder_config *out);
/* latency_measure.c: measures n (2..100) models of sp spread over its
 * layer-weight volume and fits the overhead for q with them
 * (search_latency_calibrate). clk should be the model's clock. */
ir_status search_latency_calibrate_space(search_latency *m,
                                         const search_space *sp,
                                         const search_latency_query *q,
                                         size_t n, int runs, search_clock clk,
                                         uint64_t seed, ir_diag *d);
/* How busy the rest of the machine was while this model timed primitives
 * and calibration runs (ir/machine_load.h): timing beside another job
 * gives slow figures even on the CPU clock, from the memory traffic, and a
 * search with them rejects students that fit. Callers warn when
 * search_latency_timed_busy says so. False when the
 * machine's load cannot be read here (out zero then). */
typedef struct search_latency_load_info {
    double timed_s;      /* wall seconds spent timing */
    double others_cores; /* other processes' average CPU cores meanwhile */
} search_latency_load_info;
bool search_latency_load(const search_latency *m, search_latency_load_info *out);
/* Counts the window between marks a and b (ir_load_mark_now) as timing:
 * what m times itself is counted already; callers add the whole-model runs
 * they time for it (search_latency_measure_model). */
void search_latency_count_load(search_latency *m, const ir_load_mark *a,
                               const ir_load_mark *b);
/* Whether a warning is due: at least a second of timing while other jobs
 * kept half a core or more busy on average, beyond expected_cores (what
 * the caller's own helpers use: polling MPI ranks). out is filled as by
 * search_latency_load. */
bool search_latency_timed_busy(const search_latency *m, double expected_cores,
                               search_latency_load_info *out);

/* Writes the cache (creating its folder) when something changed: to a
 * temporary file renamed over the old one (ir/file_atomic.h), so a kill
 * leaves the old cache or the new one. */
ir_status search_latency_save(search_latency *m, ir_diag *d);

/* Kendall's tau-b between two series (ties counted as in scipy). */
double search_kendall_tau(const double *x, const double *y, size_t n);

#endif

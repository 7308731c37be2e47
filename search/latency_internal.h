/* latency_internal.h — what search/latency.c (model, cache) and
 * search/latency_bench.c (the micro-benchmarks) share: one cache entry,
 * i.e. one primitive at one shape and setting, and the call that times it.
 * Not installed. */
#ifndef DISTILC_SEARCH_LATENCY_INTERNAL_H
#define DISTILC_SEARCH_LATENCY_INTERNAL_H

#include "backend/dnnl_engine.h"
#include "ir/act.h"
#include "search/latency.h"

typedef enum lat_kind {
    LAT_LINEAR,    /* d = {M, K, N}; tag = ir_act + 8 * residual */
    LAT_ATTENTION, /* d = {B, A, S, dh}; tag 1: one query ([CLS]) */
    LAT_LAYER_NORM, /* d = {rows, n} */
    LAT_EMBED,     /* d = {tokens, H, E} gather and sum */
    LAT_OVERHEAD,  /* d = {B, S}: fitted constant */
    LAT_OVERHEAD_MB,    /* d = {B, S}: fitted term per MB of layer weights */
    LAT_KIND_COUNT
} lat_kind;



typedef struct lat_entry {
    lat_kind kind;
    ir_precision prec;
    int threads;
    search_clock clock;
    int64_t d[4];
    int tag;
    double ms;
} lat_entry;

/* Times k's primitive (kinds LAT_LINEAR..LAT_EMBED) with OpenMP set to
 * k->threads, on o's clock and budget; *ms is the per-call time. */
ir_status lat_measure(onednn_ctx *ctx, const search_latency_opts *o,
                      const lat_entry *k, double *ms, ir_diag *d);

#endif

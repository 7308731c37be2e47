/* latency_bench.c — the micro-benchmarks behind the latency model: each
 * primitive a candidate runs (a linear with its fused epilogue, the
 * attention block, a LayerNorm, the embedding gather), set up with random
 * data at one shape and timed through the same backend/dnnl_*.h calls
 * backend/rt.c makes. See latency.c for the timing policy. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/dnnl_matmul.h"
#include "backend/dnnl_norm.h"
#include "backend/dnnl_qlinear.h"
#include "backend/dnnl_softmax.h"
#include "ir/clock.h"
#include "search/latency_internal.h"

typedef ir_status (*bench_fn)(void *arg, ir_diag *d);

static ir_status bench_time(const search_latency_opts *o, bench_fn fn,
                            void *arg, int threads, double *ms, ir_diag *d)
{
    search_clock clk = o->clock;
    ir_status s = fn(arg, d); /* warm-up: creation, packing */
    if (s != IR_OK)
        return s;
    double t0 = search_clock_ms(clk);
    if ((s = fn(arg, d)) != IR_OK)
        return s;
    double one = fmax(search_clock_ms(clk) - t0, 1e-4);
    /* Samples of about 0.2 ms (at least one call) until the budget is
     * spent, at least `reps` of them: many short samples spread over the
     * budget give the fastest one a chance to fall between the bursts of
     * other processes, where a few long rounds would all be hit.
     * With several threads on the wall clock a sample is clean when the
     * process burnt about threads x its wall time (OpenMP threads spin
     * between regions; a thread that lost its core burns nothing while
     * the others wait at the barrier). The budget stretches up to 10x
     * until three clean samples are seen; without any, the fastest
     * sample is kept. */
    bool check = clk == SEARCH_CLOCK_WALL && threads > 1;
    long per = (long)(0.2 / one);
    if (per < 1)
        per = 1;
    double best = one, best_clean = INFINITY, start = search_clock_ms(clk);
    int n_clean = 0;
    for (long n = 0; n < 1000000; n++) {
        double c0 = check ? (1e3 * ir_clock_s(IR_CLOCK_PROCESS_CPU)) : 0;
        t0 = search_clock_ms(clk);
        for (long i = 0; i < per; i++)
            if ((s = fn(arg, d)) != IR_OK)
                return s;
        double t1 = search_clock_ms(clk), dt = (t1 - t0) / (double)per;
        best = fmin(best, dt);
        if (check && (1e3 * ir_clock_s(IR_CLOCK_PROCESS_CPU)) - c0 >= 0.8 * threads * (t1 - t0)) {
            best_clean = fmin(best_clean, dt);
            n_clean++;
        }
        double spent = t1 - start;
        bool enough = n + 1 >= o->reps && spent >= o->min_time_ms;
        if (enough && (!check || n_clean >= 3 || spent >= 10 * o->min_time_ms))
            break;
    }
    *ms = check && n_clean ? best_clean : best;
    return IR_OK;
}

static float *rand_buf(size_t n, uint32_t seed)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        return NULL;
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = ((float)(x >> 8) / 16777216.0f - 0.5f) * 0.1f;
    }
    return p;
}

typedef struct linear_arg {
    int64_t m;
    const float *x, *r;
    float *y;
    onednn_linear *lin;
    onednn_qlinear *q;  /* int8: dynamic activation scales, as backend/rt */
} linear_arg;

static ir_status linear_run(void *p, ir_diag *d)
{
    linear_arg *a = p;
    if (a->q)
        return onednn_qlinear_run(a->q, a->m, a->x, a->y, a->r, d);
    return onednn_linear_run(a->lin, a->m, a->x, a->y, a->r, d);
}

static ir_status measure_linear(onednn_ctx *ctx, const search_latency_opts *o,
                                 const lat_entry *k,
                                double *ms, ir_diag *d)
{
    int64_t M = k->d[0], K = k->d[1], N = k->d[2];
    ir_act act = (ir_act)(k->tag % 8);
    bool res = k->tag >= 8;
    float *w = rand_buf((size_t)(K * N), 1), *b = rand_buf((size_t)N, 2);
    float *x = rand_buf((size_t)(M * K), 3), *y = rand_buf((size_t)(M * N), 4);
    float *r = res ? rand_buf((size_t)(M * N), 5) : NULL;
    linear_arg a = {.m = M, .x = x, .r = r, .y = y};
    ir_status s = IR_OK;
    if (!w || !b || !x || !y || (res && !r))
        s = ir_diag_set(d, IR_ERR_NOMEM, "latency model: out of memory");
    else if (k->prec == IR_PRECISION_INT8)
        s = onednn_qlinear_create(ctx, K, N, w, b, act, 0.0f, &a.q, d);
    else {
        /* m_hint 128 as backend/rt_linear.c packs */
        onednn_linear_desc ld = {
            .dt = k->prec == IR_PRECISION_BF16 ? ONEDNN_BF16 : ONEDNN_F32,
            .k = K, .n = N, .w_is_nk = 0, .act = act, .m_hint = 128};
        s = onednn_linear_create(ctx, &ld, w, b, &a.lin, d);
    }
    if (s == IR_OK)
        s = bench_time(o, linear_run, &a, k->threads, ms, d);
    onednn_linear_free(a.lin);
    onednn_qlinear_free(a.q);
    free(w), free(b), free(x), free(y), free(r);
    return s;
}

typedef struct attn_arg {
    onednn_ctx *ctx;
    int64_t B, A, S, D;
    int64_t Q;             /* queries per sequence: S, or 1 for [CLS] */
    float *qkv, *att, *ctxo;
} attn_arg;

/* The calls of backend/rt_attention.c without a mask (inputs without
 * padding, as the benchmarks and the validation run them), for all S
 * queries of a sequence or (Q = 1) the last layer's [CLS] alone. */
static ir_status attn_run(void *p, ir_diag *d)
{
    attn_arg *a = p;
    int64_t B = a->B, A = a->A, S = a->S, D = a->D, H = A * D, Q = a->Q;
    onednn_matmul_desc qk = {
        .dt = ONEDNN_F32, .alpha = 1.0f / sqrtf((float)D),
        .a = {4, {B, A, Q, D}, {S * 3 * H, D, 3 * H, 1}},
        .b = {4, {B, A, D, S}, {S * 3 * H, D, 1, 3 * H}},
        .c = onednn_view_dense(4, (int64_t[]){B, A, Q, S}),
    };
    onednn_matmul_args qa = {a->qkv, a->qkv + H, NULL, a->att, NULL};
    ir_status s = onednn_matmul_run(a->ctx, &qk, &qa, d);
    if (s == IR_OK)
        s = onednn_softmax_run(a->ctx, B * A * Q, S, a->att, a->att, d);
    if (s != IR_OK)
        return s;
    onednn_matmul_desc pv = {
        .dt = ONEDNN_F32,
        .a = onednn_view_dense(4, (int64_t[]){B, A, Q, S}),
        .b = {4, {B, A, S, D}, {S * 3 * H, D, 3 * H, 1}},
        .c = {4, {B, A, Q, D}, {Q * H, D, H, 1}},
    };
    onednn_matmul_args va = {a->att, a->qkv + 2 * H, NULL, a->ctxo, NULL};
    return onednn_matmul_run(a->ctx, &pv, &va, d);
}

static ir_status measure_attention(onednn_ctx *ctx, const search_latency_opts *o,
                                 const lat_entry *k,
                                   double *ms, ir_diag *d)
{
    attn_arg a = {ctx, k->d[0], k->d[1], k->d[2], k->d[3],
                  k->tag == 1 ? 1 : k->d[2], NULL, NULL, NULL};
    int64_t H = a.A * a.D;
    a.qkv = rand_buf((size_t)(a.B * a.S * 3 * H), 6);
    a.att = rand_buf((size_t)(a.B * a.A * a.S * a.S), 7);
    a.ctxo = rand_buf((size_t)(a.B * a.S * H), 8);
    ir_status s = (a.qkv && a.att && a.ctxo)
                      ? bench_time(o, attn_run, &a, k->threads, ms, d)
                      : ir_diag_set(d, IR_ERR_NOMEM, "latency model: out of memory");
    free(a.qkv), free(a.att), free(a.ctxo);
    return s;
}

typedef struct ln_arg {
    onednn_ctx *ctx;
    int64_t rows, n;
    float *x, *g, *b, *y;
} ln_arg;

static ir_status ln_run(void *p, ir_diag *d)
{
    ln_arg *a = p;
    return onednn_layer_norm_run(a->ctx, a->rows, a->n, 1e-12f, a->x, NULL,
                                a->g, a->b, a->y, NULL, d);
}

static ir_status measure_layer_norm(onednn_ctx *ctx, const search_latency_opts *o,
                                 const lat_entry *k,
                                   double *ms, ir_diag *d)
{
    ln_arg a = {ctx, k->d[0], k->d[1], NULL, NULL, NULL, NULL};
    a.x = rand_buf((size_t)(a.rows * a.n), 9);
    a.y = rand_buf((size_t)(a.rows * a.n), 10);
    a.g = rand_buf((size_t)a.n, 11);
    a.b = rand_buf((size_t)a.n, 12);
    ir_status s = (a.x && a.y && a.g && a.b)
                      ? bench_time(o, ln_run, &a, k->threads, ms, d)
                      : ir_diag_set(d, IR_ERR_NOMEM, "latency model: out of memory");
    free(a.x), free(a.y), free(a.g), free(a.b);
    return s;
}

/* Rows in the benchmark's word table: enough to miss the caches like a
 * real vocabulary does, small enough to allocate quickly. */
#define LAT_EMBED_ROWS 8192

typedef struct embed_arg {
    int64_t T, S, H, E;
    const float *word, *pos, *type;
    float *x, *wemb;
    const int64_t *ids;
} embed_arg;

/* The loops of backend/rt_embed.c (gather and sum, types all 0). */
static ir_status embed_run(void *p, ir_diag *d)
{
    embed_arg *a = p;
    int64_t H = a->H, E = a->E;
    for (int64_t t = 0; t < a->T; t++) {
        const float *pr = a->pos + (t % a->S) * H, *tr = a->type;
        float *o = a->x + t * H;
        if (E > 0) {
            for (int64_t h = 0; h < H; h++)
                o[h] = pr[h] + tr[h];
        } else {
            const float *wr = a->word + a->ids[t] * H;
            for (int64_t h = 0; h < H; h++)
                o[h] = (wr[h] + tr[h]) + pr[h];
        }
    }
    if (E > 0)
        for (int64_t t = 0; t < a->T; t++)
            memcpy(a->wemb + t * E, a->word + a->ids[t] * E, (size_t)E * sizeof(float));
    return IR_OK;
}

static ir_status measure_embed(onednn_ctx *ctx, const search_latency_opts *o,
                                 const lat_entry *k,
                               double *ms, ir_diag *d)
{
    embed_arg a = {.T = k->d[0], .S = k->d[3], .H = k->d[1], .E = k->d[2]};
    int64_t W = a.E > 0 ? a.E : a.H;
    float *word = rand_buf((size_t)(LAT_EMBED_ROWS * W), 13);
    float *pos = rand_buf((size_t)(a.S * a.H), 14);
    float *type = rand_buf((size_t)a.H, 15);
    a.x = rand_buf((size_t)(a.T * a.H), 16);
    a.wemb = rand_buf((size_t)(a.T * W), 17);
    int64_t *ids = malloc((size_t)a.T * sizeof *ids);
    ir_status s;
    if (word && pos && type && a.x && a.wemb && ids) {
        for (int64_t t = 0; t < a.T; t++)
            ids[t] = (t * 7919 + 13) % LAT_EMBED_ROWS;
        a.word = word, a.pos = pos, a.type = type, a.ids = ids;
        s = bench_time(o, embed_run, &a, 1 /* plain C, one thread */, ms, d);
    } else
        s = ir_diag_set(d, IR_ERR_NOMEM, "latency model: out of memory");
    free(word), free(pos), free(type), free(a.x), free(a.wemb), free(ids);
    return s;
}

ir_status lat_measure(onednn_ctx *ctx, const search_latency_opts *o,
                      const lat_entry *k, double *ms, ir_diag *d)
{
    omp_set_num_threads(k->threads);
    switch (k->kind) {
    case LAT_LINEAR: return measure_linear(ctx, o, k, ms, d);
    case LAT_ATTENTION: return measure_attention(ctx, o, k, ms, d);
    case LAT_LAYER_NORM: return measure_layer_norm(ctx, o, k, ms, d);
    case LAT_EMBED: return measure_embed(ctx, o, k, ms, d);
    default:
        return ir_diag_set(d, IR_ERR_FAILED, "internal error: latency kind "
                           "%d is not a primitive", (int)k->kind);
    }
}

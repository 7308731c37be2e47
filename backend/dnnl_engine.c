/* dnnl_engine.c — lifetime of the oneDNN engine and stream, the primitive
 * cache every wrapper (matmul, layer norm, softmax) shares, and the mapping
 * of oneDNN statuses to ir_status. See dnnl_engine.h for use. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl_debug.h>

#include "backend/dnnl_internal.h"
#include "ir/cpu.h"

ir_status onednn_check(dnnl_status_t st, ir_diag *d, const char *what)
{
    if (st == dnnl_success)
        return IR_OK;
    ir_status s = IR_ERR_FAILED;
    const char *hint = "";
    switch (st) {
    case dnnl_unimplemented:
        s = IR_ERR_UNSUPPORTED;
        hint = " (no oneDNN implementation for this shape/layout/dtype)";
        break;
    case dnnl_out_of_memory: s = IR_ERR_NOMEM; break;
    case dnnl_invalid_arguments: s = IR_ERR_INPUT; break;
    default: break;
    }
    return ir_diag_set(d, s, "%s: oneDNN %s%s", what, dnnl_status2str(st), hint);
}

/* oneDNN's own cap for each of distilc's levels (oneDNN's lowest is
 * SSE4.1: at the baseline it runs its SSE4.1 kernels or reference code). */
static dnnl_cpu_isa_t isa_for_level(cpu_level l)
{
    switch (l) {
    case CPU_LEVEL_BASELINE: return dnnl_cpu_isa_sse41;
    case CPU_LEVEL_AVX2: return dnnl_cpu_isa_avx2;
    case CPU_LEVEL_AVX512: return dnnl_cpu_isa_avx512_core;
    case CPU_LEVEL_AVX512_VNNI: return dnnl_cpu_isa_avx512_core_vnni;
    case CPU_LEVEL_AVX512_BF16: return dnnl_cpu_isa_avx512_core_bf16;
    default: return dnnl_cpu_isa_all;
    }
}

/* The cap is set once per process, before oneDNN picks any kernel (it
 * refuses a change after that). A cap set in oneDNN's own variable
 * (ONEDNN_MAX_CPU_ISA) is left to oneDNN when distilc's is not capping. */
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;

static void isa_cap_once(void)
{
    const char *cap = getenv(CPU_MAX_ISA_ENV);
    if (cap && *cap) /* cpu_level_get has the cap (baseline if unknown) */
        dnnl_set_max_cpu_isa(isa_for_level(cpu_level_get()));
}

static dnnl_cpu_isa_t effective_isa(void)
{
    pthread_once(&isa_once, isa_cap_once);
    return dnnl_get_effective_cpu_isa();
}

const char *onednn_isa_name(void)
{
    switch (effective_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

/* The VNNI bit of oneDNN's isa masks (avx512_core_vnni and everything
 * above it) and the AVX-VNNI one (avx2_vnni). */
int onednn_int8_has_vnni(void)
{
    unsigned isa = (unsigned)effective_isa();
    return (isa & 0x40u) != 0 || (isa & 0x400u) != 0;
}

int onednn_bf16_native(void)
{
    dnnl_cpu_isa_t isa = effective_isa();
    return isa == dnnl_cpu_isa_avx512_core_bf16 ||
           isa == dnnl_cpu_isa_avx512_core_amx;
}

ir_status onednn_ctx_create(onednn_ctx **out, ir_diag *d)
{
    *out = NULL;
    /* refuses an unknown DISTILC_MAX_ISA before any work */
    if (cpu_cap_check(d) != IR_OK)
        return IR_ERR_INPUT;
    (void)effective_isa(); /* the cap, before the engine exists */
    onednn_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return ir_diag_set(d, IR_ERR_NOMEM, "oneDNN context: out of memory");
    ir_status s = onednn_check(dnnl_engine_create(&ctx->engine, dnnl_cpu, 0),
                               d, "oneDNN context: creating the CPU engine");
    if (s == IR_OK)
        s = onednn_check(dnnl_stream_create(&ctx->stream, ctx->engine,
                                            dnnl_stream_default_flags),
                         d, "oneDNN context: creating the stream");
    if (s != IR_OK) {
        onednn_ctx_free(ctx);
        return s;
    }
    ctx->has_bf16 = onednn_bf16_native();
    *out = ctx;
    return IR_OK;
}

static void entry_free(onednn_entry *e)
{
    for (int i = 0; i < e->n_args; i++)
        if (e->args[i].memory)
            dnnl_memory_destroy(e->args[i].memory);
    if (e->prim)
        dnnl_primitive_destroy(e->prim);
    if (e->aux && e->aux_free)
        e->aux_free(e->aux);
    free(e);
}

void onednn_cache_clear(onednn_cache *c)
{
    onednn_entry *e = c->head;
    while (e) {
        onednn_entry *next = e->next;
        entry_free(e);
        e = next;
    }
    c->head = NULL;
    c->n = 0;
}

void onednn_ctx_clear_cache(onednn_ctx *ctx) { onednn_cache_clear(&ctx->cache); }

void onednn_ctx_free(onednn_ctx *ctx)
{
    if (!ctx)
        return;
    onednn_ctx_clear_cache(ctx);
    if (ctx->stream)
        dnnl_stream_destroy(ctx->stream);
    if (ctx->engine)
        dnnl_engine_destroy(ctx->engine);
    free(ctx);
}

size_t onednn_ctx_cached(const onednn_ctx *ctx) { return ctx->cache.n; }
int onednn_has_bf16(const onednn_ctx *ctx) { return ctx->has_bf16; }

onednn_entry *onednn_cache_find(onednn_cache *c, const onednn_key *key)
{
    onednn_entry *prev = NULL;
    for (onednn_entry *e = c->head; e; prev = e, e = e->next) {
        if (memcmp(&e->key, key, sizeof *key) != 0)
            continue;
        if (prev) { /* move to front: a model reuses a few shapes a lot */
            prev->next = e->next;
            e->next = c->head;
            c->head = e;
        }
        return e;
    }
    return NULL;
}

ir_status onednn_prim_from_desc(onednn_ctx *ctx, const void *op_desc,
                                const_dnnl_primitive_attr_t attr,
                                dnnl_primitive_desc_t *pd_out,
                                dnnl_primitive_t *prim_out, ir_diag *d,
                                const char *what)
{
    *pd_out = NULL;
    *prim_out = NULL;
    ir_status s = onednn_check(
        dnnl_primitive_desc_create(pd_out, op_desc, attr, ctx->engine, NULL),
        d, what);
    if (s != IR_OK)
        return s;
    s = onednn_check(dnnl_primitive_create(prim_out, *pd_out), d, what);
    if (s != IR_OK) {
        dnnl_primitive_desc_destroy(*pd_out);
        *pd_out = NULL;
    }
    return s;
}

ir_status onednn_cache_add(onednn_ctx *ctx, onednn_cache *c,
                           const onednn_key *key,
                           dnnl_primitive_t prim, int n_args,
                           const int *arg_ids, const dnnl_memory_desc_t *mds,
                           onednn_entry **out, ir_diag *d, const char *what)
{
    *out = NULL;
    IR_CHECK(d, n_args <= ONEDNN_MAX_ARGS);
    onednn_entry *e = calloc(1, sizeof *e);
    if (!e) {
        dnnl_primitive_destroy(prim);
        return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", what);
    }
    e->key = *key;
    e->prim = prim;
    e->n_args = n_args;
    for (int i = 0; i < n_args; i++) {
        e->args[i].arg = arg_ids[i];
        /* DNNL_MEMORY_NONE handle: the caller's buffer is set per run. */
        ir_status s = onednn_check(dnnl_memory_create(&e->args[i].memory,
                                                      &mds[i], ctx->engine,
                                                      DNNL_MEMORY_NONE),
                                   d, what);
        if (s != IR_OK) {
            entry_free(e);
            return s;
        }
    }
    e->next = c->head;
    c->head = e;
    c->n++;
    *out = e;
    return IR_OK;
}

ir_status onednn_entry_run(onednn_ctx *ctx, onednn_entry *e,
                           void *const *ptrs, ir_diag *d, const char *what)
{
    for (int i = 0; i < e->n_args; i++) {
        if (!ptrs[i])
            continue;
        ir_status s = onednn_check(
            dnnl_memory_set_data_handle_v2(e->args[i].memory, ptrs[i],
                                           ctx->stream),
            d, what);
        if (s != IR_OK)
            return s;
    }
    ir_status s = onednn_check(
        dnnl_primitive_execute(e->prim, ctx->stream, e->n_args, e->args), d,
        what);
    if (s == IR_OK)
        s = onednn_check(dnnl_stream_wait(ctx->stream), d, what);
    return s;
}

void onednn_aligned_free(void *p) { free(p); }

void *onednn_aligned_alloc(size_t n)
{
    size_t r = (n + 63) / 64 * 64;
    return aligned_alloc(64, r ? r : 64);
}

ir_status onednn_reorder_new(onednn_ctx *ctx, const dnnl_memory_desc_t *src_md,
                             const void *src, const dnnl_memory_desc_t *dst_md,
                             void **out, ir_diag *d, const char *what)
{
    *out = NULL;
    void *buf = onednn_aligned_alloc(dnnl_memory_desc_get_size(dst_md));
    if (!buf)
        return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory packing weights", what);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t ms = NULL, md = NULL;
    ir_status s = onednn_check(dnnl_reorder_primitive_desc_create(
                                   &pd, src_md, ctx->engine, dst_md, ctx->engine, NULL),
                               d, what);
    if (s == IR_OK)
        s = onednn_check(dnnl_primitive_create(&prim, pd), d, what);
    if (s == IR_OK)
        s = onednn_check(dnnl_memory_create(&ms, src_md, ctx->engine, (void *)src), d, what);
    if (s == IR_OK)
        s = onednn_check(dnnl_memory_create(&md, dst_md, ctx->engine, buf), d, what);
    if (s == IR_OK) {
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, md}};
        s = onednn_check(dnnl_primitive_execute(prim, ctx->stream, 2, a), d, what);
        if (s == IR_OK)
            s = onednn_check(dnnl_stream_wait(ctx->stream), d, what);
    }
    if (ms) dnnl_memory_destroy(ms);
    if (md) dnnl_memory_destroy(md);
    if (prim) dnnl_primitive_destroy(prim);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (s != IR_OK)
        free(buf);
    else
        *out = buf;
    return s;
}

ir_status onednn_prim_with_packed_weights(onednn_ctx *ctx, dnnl_primitive_desc_t pd,
                                          const dnnl_memory_desc_t *want_md,
                                          const dnnl_memory_desc_t *packed_md,
                                          const void *packed, dnnl_primitive_t *prim,
                                          void **repacked, ir_diag *d, const char *what)
{
    *prim = NULL;
    *repacked = NULL;
    ir_status s = IR_OK;
    if (!dnnl_memory_desc_equal(want_md, packed_md))
        /* This shape wants another weight layout: pack a copy once. */
        s = onednn_reorder_new(ctx, packed_md, packed, want_md, repacked, d, what);
    if (s == IR_OK)
        s = onednn_check(dnnl_primitive_create(prim, pd), d, what);
    dnnl_primitive_desc_destroy(pd);
    if (s != IR_OK) {
        free(*repacked);
        *repacked = NULL;
    }
    return s;
}

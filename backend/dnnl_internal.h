/* dnnl_internal.h — what the backend's oneDNN files share: the context's
 * layout, the primitive cache, and a helper that turns a dnnl_status_t into
 * an ir_status with a message. Only backend/dnnl_*.c include it.
 *
 * The cache: each entry is keyed by a plain struct (zeroed, then filled, so
 * memcmp compares it) describing primitive kind, dtypes, dims, strides and
 * attributes. It owns the primitive and the memory objects it runs with;
 * handles are re-pointed at the caller's buffers on every run.
 */
#ifndef DISTILC_BACKEND_DNNL_INTERNAL_H
#define DISTILC_BACKEND_DNNL_INTERNAL_H

#include <oneapi/dnnl/dnnl.h>

#include "backend/dnnl_engine.h"
#include "ir/act.h"

#define ONEDNN_KEY_WORDS 48
#define ONEDNN_MAX_ARGS 8

typedef struct onednn_key {
    int64_t w[ONEDNN_KEY_WORDS];
} onednn_key;

typedef struct onednn_entry {
    onednn_key key;
    dnnl_primitive_t prim;
    int n_args;
    dnnl_exec_arg_t args[ONEDNN_MAX_ARGS];  /* memory objects, handles reset */
    void *aux;                               /* packed weights etc., or NULL */
    void (*aux_free)(void *);
    struct onednn_entry *next;
} onednn_entry;

/* A list of entries, most recently used first. The context has one; a
 * linear layer (dnnl_matmul.c) has its own, freed with it. */
typedef struct onednn_cache {
    onednn_entry *head;
    size_t n;
} onednn_cache;

struct onednn_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    onednn_cache cache;
    int has_bf16;
};

/* IR_OK on dnnl_success; else IR_ERR_UNSUPPORTED (unimplemented),
 * IR_ERR_NOMEM (out_of_memory), IR_ERR_INPUT (invalid_arguments) or
 * IR_ERR_FAILED, with "<what>: oneDNN <status>". */
ir_status onednn_check(dnnl_status_t st, ir_diag *d, const char *what);

/* oneDNN's eltwise algorithm for an activation (ir/act.h), applied as a
 * post-op; dnnl_alg_kind_undef for IR_ACT_NONE. */
dnnl_alg_kind_t onednn_act_alg(ir_act a);

onednn_entry *onednn_cache_find(onednn_cache *c, const onednn_key *key);
void onednn_cache_clear(onednn_cache *c);
/* Creates a cache entry owning prim (and the memory objects for args, with
 * the memory descs queried from the primitive); on failure frees prim. */
ir_status onednn_cache_add(onednn_ctx *ctx, onednn_cache *c,
                           const onednn_key *key,
                           dnnl_primitive_t prim, int n_args,
                           const int *arg_ids, const dnnl_memory_desc_t *mds,
                           onednn_entry **out, ir_diag *d, const char *what);
/* Sets the arg's data handle and executes the entry's primitive. ptrs[i]
 * goes to args[i]; NULL ptrs keep the previous handle. */
ir_status onednn_entry_run(onednn_ctx *ctx, onednn_entry *e,
                           void *const *ptrs, ir_diag *d, const char *what);

/* 64-byte aligned memory for packed weights and quantized inputs (size
 * rounded up to 64; never NULL for n = 0 unless out of memory), and its
 * free (a function, for onednn_entry's aux_free). */
void *onednn_aligned_alloc(size_t n);
void onednn_aligned_free(void *p);
/* Reorders src (in src_md) once into a new aligned buffer in dst_md (the
 * packed layout an implementation chose): *out on success. */
ir_status onednn_reorder_new(onednn_ctx *ctx, const dnnl_memory_desc_t *src_md,
                             const void *src, const dnnl_memory_desc_t *dst_md,
                             void **out, ir_diag *d, const char *what);

/* Creates pd's primitive (pd is destroyed). Its weights want want_md; when
 * that differs from the layout they were packed in once (packed_md), a copy
 * is packed into *repacked (else NULL), which the caller keeps with the
 * primitive. */
ir_status onednn_prim_with_packed_weights(onednn_ctx *ctx, dnnl_primitive_desc_t pd,
                                          const dnnl_memory_desc_t *want_md,
                                          const dnnl_memory_desc_t *packed_md,
                                          const void *packed, dnnl_primitive_t *prim,
                                          void **repacked, ir_diag *d, const char *what);

/* Turns a primitive desc into a primitive, with a message on failure. */
ir_status onednn_prim_from_desc(onednn_ctx *ctx, const void *op_desc,
                                const_dnnl_primitive_attr_t attr,
                                dnnl_primitive_desc_t *pd_out,
                                dnnl_primitive_t *prim_out, ir_diag *d,
                                const char *what);

#endif

/* dnnl_engine.h — the oneDNN context: one CPU engine, one stream and a cache
 * of primitives keyed by shape, owned by one object (no globals), so several
 * compilations or trainers can each hold their own.
 *
 *     onednn_ctx *ctx;
 *     ir_diag d; ir_diag_init(&d);
 *     if (onednn_ctx_create(&ctx, &d) != IR_OK) return d.status;
 *     ... onednn_matmul_run(ctx, &desc, &args, &d) ...   (dnnl_matmul.h)
 *     onednn_ctx_free(ctx);
 *
 * Names use the prefix onednn_ because the library itself owns dnnl_.
 * A context is not thread-safe: one thread drives it at a time (oneDNN runs
 * each primitive on OpenMP threads; OMP_NUM_THREADS sets how many).
 * This header does not include oneDNN's headers: callers outside backend/
 * never see them.
 */
#ifndef DISTILC_BACKEND_DNNL_ENGINE_H
#define DISTILC_BACKEND_DNNL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"

typedef struct onednn_ctx onednn_ctx;

ir_status onednn_ctx_create(onednn_ctx **out, ir_diag *d);
void onednn_ctx_free(onednn_ctx *ctx);

/* Primitives held in the cache (for tests and benchmarks). */
size_t onednn_ctx_cached(const onednn_ctx *ctx);
/* Drops every cached primitive and packed weight copy. */
void onednn_ctx_clear_cache(onednn_ctx *ctx);

/* True when the CPU has native bf16 matmul (AVX512-BF16 or AMX); bf16 still
 * runs without it, only slower (oneDNN emulates it). */
int onednn_has_bf16(const onednn_ctx *ctx);

/* oneDNN's instruction set as it runs here, after DISTILC_MAX_ISA (ir/cpu.h),
 * which every oneDNN user in distilc goes through: "avx2",
 * "avx512_core_vnni", "avx512_core_amx", ... */
const char *onednn_isa_name(void);

/* True when oneDNN's u8·s8 int8 products use VNNI (or AMX), which sum into
 * s32 directly. Without it they go through vpmaddubsw, whose pairs of
 * u8·s8 products saturate at 16 bits: dnnl_qlinear.c then keeps weights to
 * 7 bits so that no pair can reach the limit (2·255·63 < 32767). */
int onednn_int8_has_vnni(void);

/* True when bf16 matmuls run in hardware (AVX512-BF16 or AMX) after the cap;
 * the same answer as onednn_has_bf16 without a context. */
int onednn_bf16_native(void);

#endif

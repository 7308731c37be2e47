/* emit_weights.h — model.weights, the weight file of an emitted standalone
 * program: an encoder's rt_config and its f32 tensors, read back by mmap
 * into the rt_config + rt_weights that backend/rt.h takes.
 *
 *     emit_tensor t[] = {{"embeddings.word", 2, {V, H}, word}, ...};
 *     emit_weights_write("out/model.weights", &cfg, t, n, &d);
 *
 *     emit_weights_file f;
 *     if (emit_weights_open("out/model.weights", true, &f, &d) != IR_OK) ...d.msg
 *     rt_model_create(&f.cfg, &f.w, &opts, &m, &d);   // copies the weights
 *     emit_weights_close(&f);                         // unmaps
 *
 * Layout (all integers little-endian):
 *   0   magic "DSTLCWTS"            8 bytes
 *   8   version (u32), n_tensors (u32)
 *   16  file_bytes (u64): the whole file; a truncated copy is caught here
 *   24  table_offset (u64), data_offset (u64)
 *   40  checksum (u64): XXH64 (seed 0) of the whole file with these 8
 *       bytes read as zeros; a flipped bit anywhere is caught here
 *   48  the config: EMIT_WEIGHTS_CFG_WORDS i64 (see emit_weights.c)
 *   table_offset: n_tensors entries of EMIT_WEIGHTS_ENTRY_BYTES:
 *       name[48] (NUL-padded), dtype u32 (1 = f32), rank u32, dims[2] i64,
 *       offset u64, bytes u64
 *   each tensor's data at a 64-byte aligned offset, f32 little-endian.
 * Opening validates everything (magic, version, size, the checksum unless
 * told not to, every offset and size in range, tensor shapes against the
 * config) and names what is wrong. The checksum reads every byte once,
 * which mostly moves page faults the copy into oneDNN's layouts would take
 * anyway: on a BERT-base file (438 MB, page cache warm) the checksum pass
 * took 0.20 s, a whole load (open + rt_model_create, 1 thread) 0.57 s
 * against 0.53 s without it (one measurement on a busy machine, with the
 * hand-written XXH64 that libxxhash replaced; not measured again).
 *
 * This file and emit_weights.c depend on libc, libxxhash (Debian's
 * libxxhash-dev, for the checksum), ir/diag and backend/rt.h only: they are
 * shipped inside every emitted program, which links libxxhash too.
 */
#ifndef DISTILC_BACKEND_EMIT_WEIGHTS_H
#define DISTILC_BACKEND_EMIT_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/rt.h"
#include "ir/diag.h"

#define EMIT_WEIGHTS_MAGIC "DSTLCWTS"
/* 2: the config gained pool_act, positions and pad_id (issue 16).
 * 3: and embed_after_ln (ELECTRA-small, ALBERT).
 * 4: the FNV-1a hash of the tensor data became an XXH64 checksum of the
 *    whole file, verified on load (issue 18).
 * 5: and the relative position bias (MPNet): rel_buckets,
 *    rel_max_distance, rel_bidirectional, tensor "relative_bias". */
#define EMIT_WEIGHTS_VERSION 5u
#define EMIT_WEIGHTS_SUM_AT 40
#define EMIT_WEIGHTS_ALIGN 64
#define EMIT_WEIGHTS_NAME_MAX 48
#define EMIT_WEIGHTS_HEADER_BYTES 48
#define EMIT_WEIGHTS_CFG_WORDS (21 + 2 * RT_MAX_LAYERS)
#define EMIT_WEIGHTS_ENTRY_BYTES (EMIT_WEIGHTS_NAME_MAX + 8 + 16 + 16)
/* Optional tensor: int8 static activation scales [layers * 4]. */
#define EMIT_WEIGHTS_ACT_SCALES "quant.act_scales"

/* One tensor to write: f32, rank 1 or 2, named as in ir/encoder.h. */
typedef struct emit_tensor {
    const char *name;
    int rank;
    int64_t dims[2];
    const float *data;
} emit_tensor;

/* Writes path atomically (ir/file_atomic.h: a reader never sees half a
 * file). IR_ERR_IO naming the path on a write failure; IR_ERR_INPUT on a bad
 * tensor (name too long, rank). *hash_out (may be NULL) gets the checksum
 * stored in the header. */
ir_status emit_weights_write(const char *path, const rt_config *cfg,
                             const emit_tensor *tensors, size_t n,
                             uint64_t *hash_out, ir_diag *d);

/* An opened weight file: the config and the weight pointers into the
 * read-only mapping. */
typedef struct emit_weights_file {
    rt_config cfg;
    rt_weights w;
    uint64_t hash;    /* the checksum stored in the header */
    const void *base; /* the mapping */
    size_t size;
} emit_weights_file;

/* IR_ERR_IO when the file cannot be opened or mapped; IR_ERR_INPUT when it
 * is not a valid weight file (the message says which field and how to fix
 * it). verify = false skips the checksum (the structure is still checked):
 * for a huge file on a trusted disk. On error nothing stays mapped. */
ir_status emit_weights_open(const char *path, bool verify,
                            emit_weights_file *out, ir_diag *d);
/* Same checks on a buffer the caller keeps alive (name for messages). */
ir_status emit_weights_parse(const void *buf, size_t size, const char *name,
                             bool verify, emit_weights_file *out, ir_diag *d);
void emit_weights_close(emit_weights_file *f);

/* The checksum a weight file's header holds: XXH64 (seed 0, libxxhash) of
 * the file's size bytes with the checksum field read as zeros. IR_ERR_NOMEM
 * when libxxhash cannot allocate its state. */
ir_status emit_weights_checksum(const void *file, size_t size, uint64_t *sum,
                                ir_diag *d);

#endif

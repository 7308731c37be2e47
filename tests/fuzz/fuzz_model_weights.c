/* fuzz_model_weights.c — libFuzzer harness for model.weights, the weight
 * file of an emitted program (emit_weights_parse, what emit_weights_open
 * and the program's model_load run on the mapped file): any file gives
 * weights or a refusal naming the field, and weights that are accepted are
 * safe to run. Each input is read twice: as it is, and with its size and
 * data hash fields set to match, so that mutations reach the table, the
 * config and the tensor checks behind them. Accepted weights build the
 * runtime (rt_model_create, fp32, one thread) and run one sequence of two
 * tokens, as the program does with its first input line. The buffer is
 * 64-byte aligned, as the program's mapping is. Seeds: the tiny encoder of
 * fuzz_models.h, written by emit_write_weights (make_seeds). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emit_weights.h"
#include "backend/rt.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* file_bytes = size; hash = FNV-1a of each tensor's data in table order
 * (backend/emit_weights.c writes it so), where the table lies inside. */
static void fix_up(uint8_t *b, size_t size)
{
    if (size < 48)
        return;
    uint64_t n = get_u64(b + 8) >> 32, toff = get_u64(b + 24);
    memcpy(b + 16, &(uint64_t){size}, 8);
    uint64_t h = FUZZ_FNV_OFFSET;
    for (uint64_t i = 0; i < n && toff <= size && i < (size - toff) / EMIT_WEIGHTS_ENTRY_BYTES; i++) {
        const uint8_t *e = b + toff + i * EMIT_WEIGHTS_ENTRY_BYTES;
        uint64_t off = get_u64(e + 72), bytes = get_u64(e + 80);
        if (off <= size && bytes <= size - off)
            h = fuzz_fnv1a(h, b + off, bytes);
    }
    memcpy(b + 40, &h, 8);
}

static void run(const uint8_t *buf, size_t size)
{
    emit_weights_file f;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = emit_weights_parse(buf, size, "model.weights", &f, &d);
    fuzz_explained(s, &d);
    if (s != IR_OK)
        return;
    rt_options o;
    rt_options_default(&o);
    o.threads = 1;
    rt_model *m = NULL;
    ir_diag_init(&d);
    s = rt_model_create(&f.cfg, &f.w, &o, &m, &d);
    fuzz_explained(s, &d);
    if (s == IR_OK) {
        int64_t seq = f.cfg.max_positions < 2 ? f.cfg.max_positions : 2;
        int64_t ids[2] = {0, f.cfg.vocab - 1}, mask[2] = {1, 1};
        float *logits = calloc((size_t)f.cfg.labels, sizeof *logits);
        fuzz_require(logits != NULL, "calloc");
        ir_diag_init(&d);
        s = rt_model_run(m, 1, seq, ids, NULL, mask, logits, NULL, &d);
        fuzz_explained(s, &d);
        free(logits);
    }
    rt_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = aligned_alloc(EMIT_WEIGHTS_ALIGN,
                                 (size + EMIT_WEIGHTS_ALIGN) / EMIT_WEIGHTS_ALIGN *
                                     EMIT_WEIGHTS_ALIGN);
    fuzz_require(buf != NULL, "aligned_alloc");
    memcpy(buf, data, size);
    run(buf, size);
    fix_up(buf, size);
    run(buf, size);
    free(buf);
    return 0;
}

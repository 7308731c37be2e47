/* fuzz_model_weights.c — libFuzzer harness for model.weights, the weight
 * file of an emitted program (emit_weights_parse, what emit_weights_open
 * and the program's model_load run on the mapped file): any file gives
 * weights or a refusal naming the field, and weights that are accepted are
 * safe to run. Each input is read twice, checksum verified: as it is, and
 * with its size and checksum fields set to match, so that mutations reach
 * the table, the config and the tensor checks behind them. Accepted weights build the
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

/* file_bytes = size; checksum = the one the header must hold
 * (emit_weights_checksum: XXH64 of the file with that field as zeros). */
static void fix_up(uint8_t *b, size_t size)
{
    if (size < EMIT_WEIGHTS_HEADER_BYTES)
        return;
    uint64_t n = size;
    memcpy(b + 16, &n, 8);
    uint64_t sum = 0;
    ir_diag d;
    ir_diag_init(&d);
    if (emit_weights_checksum(b, size, &sum, &d) != IR_OK)
        return; /* out of memory: the harness then checks a bad sum */
    memcpy(b + EMIT_WEIGHTS_SUM_AT, &sum, 8);
}

static void run(const uint8_t *buf, size_t size)
{
    emit_weights_file f;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = emit_weights_parse(buf, size, "model.weights", true, &f, &d);
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

/* fuzz_checkpoint.c — libFuzzer harness for the trainer's checkpoints
 * (train_ckpt_load, what --resume reads): any file gives the saved state
 * or a refusal saying what differs, never a crash and never a half-written
 * parameter block. The loading run has the tiny config of fuzz_models.h
 * and an extra block of 16 floats, as the seeds (make_seeds) were saved
 * with. Each input is loaded twice: as it is, and with its trailing
 * checksum recomputed, so that a mutated body gets past the checksum to
 * the checks behind it (config, sizes, precisions). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "distill/checkpoint.h"
#include "fuzz_models.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { EXTRA_N = 16 };
static train_params *params;
static float extra_buf[4][EXTRA_N];
static train_extra extra = {extra_buf[0], extra_buf[1], extra_buf[2], extra_buf[3],
                            EXTRA_N};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    ir_encoder_config c;
    fuzz_tiny_config(&c);
    ir_diag d;
    ir_diag_init(&d);
    fuzz_require(train_params_new(&c, &params, &d) == IR_OK, d.msg);
    return 0;
}

static void load(const uint8_t *data, size_t size)
{
    char path[FUZZ_PATH_MAX];
    fuzz_write("last.ckpt", data, size, path);
    train_ckpt_state st;
    memset(&st, 0, sizeof st);
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = train_ckpt_load(path, params, &extra, &st, &d);
    fuzz_explained(s, &d);
    if (s == IR_OK && (memchr(st.gemm_precision, 0, sizeof st.gemm_precision) == NULL ||
                       memchr(st.teacher_precision, 0, sizeof st.teacher_precision) == NULL))
        fuzz_fail("a loaded precision name without its terminator");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);
    if (size < 16)
        return 0;
    uint8_t *fixed = malloc(size);
    fuzz_require(fixed != NULL, "malloc");
    memcpy(fixed, data, size);
    uint64_t sum = fuzz_fnv1a(FUZZ_FNV_OFFSET, fixed, size - 8);
    memcpy(fixed + size - 8, &sum, 8);
    load(fixed, size);
    free(fixed);
    return 0;
}

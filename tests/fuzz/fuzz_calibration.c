/* fuzz_calibration.c — libFuzzer harness for int8 calibration files
 * (distilc build --calibrate FILE: emit_calibrate_file): JSON lines in the
 * emitted program's input format, each run through the fp32 runtime of the
 * fuzz encoder (fuzz_models.h) with its calibration tap. Any file gives
 * scales or a refusal naming FILE:LINE. Lines are capped at 64 so that one
 * input stays a few milliseconds. */
#include <stddef.h>
#include <stdint.h>

#include "backend/calibrate.h"
#include "fuzz_models.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ir_encoder *enc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    enc = fuzz_model_encoder();
    fuzz_require(enc != NULL, "the fuzz encoder");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[FUZZ_PATH_MAX];
    fuzz_write("calib.jsonl", data, size, path);
    float scales[IR_ENCODER_MAX_LAYERS * 4];
    size_t tokens = 0;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = emit_calibrate_file(enc, path, 64, scales, &tokens, &d);
    fuzz_explained(s, &d);
    return 0;
}

/* fuzz_tensor_proto.c — libFuzzer harness for TensorProto files, what
 * `distilc run --input NAME=FILE.pb` reads (onnx_tensor_read_file): any
 * bytes give a tensor or a refusal with a message. The input is written to
 * tensor/input.pb in the scratch folder, beside ext.data (4 KiB), the file
 * the external-data seeds name (seeds_onnx.c), so external data relative
 * to the .pb's folder is read too. A tensor that loads is written back
 * (onnx_tensor_write_file), the path `distilc run --output-dir` takes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "frontend/onnx.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char dir[FUZZ_PATH_MAX], path[FUZZ_PATH_MAX];
    fuzz_require(mkdir(fuzz_path("tensor", dir), 0700) == 0, dir);
    static unsigned char block[4096];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (unsigned char)(i * 37u + 1u);
    fuzz_write("tensor/ext.data", block, sizeof block, path);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[FUZZ_PATH_MAX], out[FUZZ_PATH_MAX];
    fuzz_write("tensor/input.pb", data, size, path);
    ir_diag d;
    ir_diag_init(&d);
    ir_tensor *t = NULL;
    char *name = NULL;
    ir_status s = onnx_tensor_read_file(path, &t, &name, &d);
    fuzz_explained(s, &d);
    if (s == IR_OK) {
        ir_diag_init(&d);
        s = onnx_tensor_write_file(fuzz_path("tensor/output.pb", out), t, name, &d);
        fuzz_explained(s, &d);
    }
    free(name);
    ir_tensor_free(t);
    return 0;
}

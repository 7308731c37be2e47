/* fuzz_onnx_load.c — libFuzzer harness for the ONNX loader
 * (onnx_load_buffer): any byte string must load or be refused with a
 * status and a message, never crash, leak or trip a sanitizer. A model
 * that loads is saved again (the writer on whatever the reader accepted).
 *
 * External data resolves against a folder the harness makes once:
 *   ext.onnx.data   64 KiB, the file the seeds' external tensors name
 *   sub/            a folder (a location naming it must be refused)
 *   escape.data     a symbolic link to ../outside.data, outside the folder
 * so the seeds (make_seeds: seeds_onnx.c) reach the external-data reader,
 * its offset/length checks and its escape checks. A model refused as
 * unsupported is loaded again with unknown ops dropped and listed, as
 * inspect does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/onnx.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base_dir[FUZZ_PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char path[FUZZ_PATH_MAX], sub[FUZZ_PATH_MAX + 16];
    fuzz_path("model", base_dir);
    fuzz_require(mkdir(base_dir, 0700) == 0, base_dir);
    static unsigned char block[65536];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (unsigned char)(i * 131u + 7u);
    fuzz_write("model/ext.onnx.data", block, sizeof block, path);
    fuzz_write("outside.data", block, 4096, path);
    snprintf(sub, sizeof sub, "%s/sub", base_dir);
    fuzz_require(mkdir(sub, 0700) == 0, sub);
    snprintf(sub, sizeof sub, "%s/escape.data", base_dir);
    fuzz_require(symlink("../outside.data", sub) == 0, sub);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ir_graph *g = NULL;
    ir_diag d;
    ir_diag_init(&d);
    char *unknown = NULL;
    onnx_load_opts opts = {.allow_unknown_ops = false, .unknown_out = &unknown};
    ir_status s = onnx_load_buffer(data, size, base_dir, &opts, &g, &d);
    fuzz_explained(s, &d);
    if (s == IR_ERR_UNSUPPORTED) {
        free(unknown);
        unknown = NULL;
        opts.allow_unknown_ops = true;
        ir_diag_init(&d);
        s = onnx_load_buffer(data, size, base_dir, &opts, &g, &d);
        fuzz_explained(s, &d);
    }
    if (s == IR_OK) {
        void *buf = NULL;
        size_t len = 0;
        ir_diag_init(&d);
        s = onnx_save_buffer(g, &buf, &len, &d);
        fuzz_explained(s, &d);
        free(buf);
    }
    free(unknown);
    ir_graph_free(g);
    return 0;
}

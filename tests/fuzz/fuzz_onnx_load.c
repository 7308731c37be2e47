/* fuzz_onnx_load.c — libFuzzer harness for the ONNX loader: any byte string
 * must load or be refused with a status and a message, never crash, leak or
 * trip a sanitizer. Built only with -DDISTILC_FUZZ=ON and CC=clang (see
 * tests/fuzz/CMakeLists.txt for the commands). External data is refused
 * (no base folder), so the harness never touches the file system. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ir_graph *g = NULL;
    ir_diag d;
    ir_diag_init(&d);
    char *unknown = NULL;
    /* Alternate the two loading modes on the first byte so both paths
     * (refuse unknown ops / drop them and report) get explored. */
    onnx_load_opts opts = {.allow_unknown_ops = size && (data[0] & 1),
                           .unknown_out = &unknown};
    ir_status s = onnx_load_buffer(data, size, NULL, &opts, &g, &d);
    if (s == IR_OK) {
        /* A loaded graph must also save: exercise the writer on it. */
        void *buf = NULL;
        size_t len = 0;
        ir_diag_init(&d);
        if (onnx_save_buffer(g, &buf, &len, &d) == IR_OK)
            free(buf);
    } else if (d.msg[0] == '\0') {
        abort(); /* every failure must explain itself */
    }
    free(unknown);
    ir_graph_free(g);
    return 0;
}

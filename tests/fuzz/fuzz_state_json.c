/* fuzz_state_json.c — libFuzzer harness for compress's OUT/state.json
 * (compress_state_load): any file gives a state or a refusal saying to
 * delete it. A state that loads is what a rerun reports from without
 * running the stages again, so the report is made from it too: report.json
 * and report.svg (compress_report_json, compress_report_svg) and the
 * summary table, all written to /dev/null. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz_util.h"
#include "pipeline/compress.h"
#include "pipeline/report.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    devnull = fopen("/dev/null", "w");
    fuzz_require(devnull != NULL, "/dev/null");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[FUZZ_PATH_MAX];
    fuzz_write("state.json", data, size, path);
    static compress_state st; /* large: not on the stack */
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = compress_state_load(path, &st, &d);
    fuzz_explained(s, &d);
    if (s != IR_OK)
        return 0;
    compress_options o;
    compress_options_default(&o);
    o.teacher = "teacher.onnx";
    o.task = "SST-2";
    o.data = "glue";
    o.vocab = "vocab.txt";
    o.out = fuzz_scratch();
    ir_diag_init(&d);
    s = compress_report_json(devnull, &o, &st, &d);
    fuzz_explained(s, &d);
    ir_diag_init(&d);
    s = compress_report_svg(devnull, &o, &st, &d);
    fuzz_explained(s, &d);
    compress_report_table(devnull, &o, &st);
    return 0;
}

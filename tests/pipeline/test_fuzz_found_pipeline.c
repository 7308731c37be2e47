/* test_fuzz_found_pipeline.c — inputs the fuzz harnesses (tests/fuzz) found
 * against compress's state file, each fed to the entry point the harness
 * calls (compress_state_load, then the report a rerun makes from the
 * state), with the answer it must now get. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/compress.h"
#include "pipeline/report.h"
#include "testutil.h"

static const char HEAD[] = "{\"format\": \"distilc-compress-state\", \"version\": 1, "
                           "\"stages\": {}, \"results\": {";

/* Writes HEAD + results + "}}" to dir/state.json and loads it. */
static ir_status load(const char *dir, const char *results, compress_state *st,
                      ir_diag *d)
{
    char path[512];
    snprintf(path, sizeof path, "%s/state.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return IR_ERR_IO;
    fprintf(f, "%s%s}}\n", HEAD, results);
    fclose(f);
    ir_diag_init(d);
    return compress_state_load(path, st, d);
}

/* fuzz_state_json: a count written as 1e13 (or 1e300) was cast to int (or
 * int64), undefined behaviour; such a number now keeps the field's
 * default, as a value of the wrong type does. */
static void test_state_count_not_an_integer(const char *dir)
{
    static compress_state st;
    ir_diag d;
    CHECK_MSG(load(dir, "\"teacher.metrics.n\": 1e13, \"sn_steps\": 1e300, "
                        "\"s_layers\": 4.5, \"t_layers\": 6", &st, &d) == IR_OK,
              "%s", d.msg);
    CHECK(st.r.teacher.metrics.n == 0 && st.r.sn_steps == 0 && st.r.s_layers == 0);
    CHECK(st.r.t_layers == 6);
    CHECK(load(dir, "\"student.metrics.n\": 4294967298", &st, &d) == IR_OK);
    CHECK(st.r.student.metrics.n == 0);
}

/* fuzz_state_json: metrics.main indexes name[] and value[] in the report;
 * an index outside the metrics read past them. Refused at load now. */
static void test_state_main_metric_out_of_range(const char *dir)
{
    static compress_state st;
    ir_diag d;
    const char *bad[] = {"\"teacher.metrics.n\": 2, \"teacher.metrics.main\": 2",
                         "\"student.metrics.n\": 1, \"student.metrics.main\": -1",
                         "\"student.metrics.n\": 4, \"student.metrics.main\": 1000000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ir_status s = load(dir, bad[i], &st, &d);
        CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, "main metric index"),
                  "%s: status %d, %s", bad[i], s, d.msg);
    }
    /* in range, the report reads it */
    CHECK(load(dir, "\"teacher.metrics.n\": 2, \"teacher.metrics.main\": 1, "
                    "\"teacher.metrics.1.name\": \"f1\", \"teacher.metrics.1.value\": 0.5",
               &st, &d) == IR_OK);
    compress_options o;
    compress_options_default(&o);
    o.teacher = "t.onnx", o.task = "MRPC", o.data = dir, o.vocab = "v.txt", o.out = dir;
    FILE *f = fopen("/dev/null", "w");
    if (f) {
        CHECK(compress_report_json(f, &o, &st, &d) == IR_OK);
        fclose(f);
    }
}

int main(void)
{
    char dir[256];
    if (!test_tmpdir(dir, sizeof dir)) {
        fprintf(stderr, "no temporary folder\n");
        return 1;
    }
    test_state_count_not_an_integer(dir);
    test_state_main_metric_out_of_range(dir);
    return test_finish("test_fuzz_found_pipeline");
}

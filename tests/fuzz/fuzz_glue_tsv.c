/* fuzz_glue_tsv.c — libFuzzer harness for the GLUE readers (glue_load):
 * any file, for any task and split, gives a dataset or a refusal naming
 * the file and line. Input layout (seeds_text.c writes it):
 *   byte 0   the task, glue_task_at(byte % GLUE_TASK_COUNT)
 *   byte 1   bits 0-1: the split (% 3); bit 2: skip_bad_lines;
 *            bits 3-4: limit (0 = all)
 *   rest     the .tsv file, written to the scratch folder and loaded by
 *            its path (a data path may name the file itself).
 * A dataset that loads also gives its gold labels or scores, as eval and
 * the metrics read them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "frontend/glue.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const glue_task *t = glue_task_at(data[0] % GLUE_TASK_COUNT);
    glue_split split = (glue_split)((data[1] & 3) % GLUE_SPLIT_COUNT);
    glue_load_opts o = {.skip_bad_lines = (data[1] >> 2) & 1,
                        .limit = (data[1] >> 3) & 3};
    char path[FUZZ_PATH_MAX];
    fuzz_write("split.tsv", data + 2, size - 2, path);
    ir_diag d;
    ir_diag_init(&d);
    glue_dataset ds;
    ir_status s = glue_load(t, path, split, &o, &ds, &d);
    fuzz_explained(s, &d);
    if (s == IR_OK && ds.has_labels) {
        ir_diag_init(&d);
        if (t->is_regression) {
            double *scores = NULL;
            s = glue_dataset_gold_scores(&ds, &scores, &d);
            free(scores);
        } else {
            int *classes = NULL;
            s = glue_dataset_gold_classes(&ds, &classes, &d);
            free(classes);
        }
        fuzz_explained(s, &d);
    }
    glue_dataset_free(&ds);
    return 0;
}

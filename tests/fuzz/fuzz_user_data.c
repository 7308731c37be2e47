/* fuzz_user_data.c — libFuzzer harness for the user's own data
 * (frontend/user_data.h): any CSV, TSV or JSON-lines file, as train and as
 * dev, gives a task and datasets or a refusal naming the file and line.
 * Input layout (seeds_text.c writes it):
 *   byte 0   bits 0-1: the format (% 3: CSV, TSV, JSON lines); bit 2:
 *            --regression; bit 3: a text pair column ("pair"); bit 4:
 *            skip_bad_lines; bits 5-6: limit (0 = all)
 *   rest     the file, written to the scratch folder as train.<ext> and
 *            read through user_task_open (label set from it) and
 *            glue_load for train and dev (the same file)
 * Columns: "text", "pair", "label". Besides "no crash, leak or hang" and
 * "a refusal explains itself", it checks: every label index is inside the
 * set, the set is sorted as user_data.h says and survives the metadata's
 * JSON round trip, and the gold labels or scores read as eval reads them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/user_data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The label set's JSON round trip gives the same names. */
static void labels_round_trip(const glue_task *t)
{
    ir_diag d;
    ir_diag_init(&d);
    char *json = NULL;
    ir_status s = task_labels_to_json(t, &json, &d);
    fuzz_explained(s, &d);
    if (s != IR_OK || !json)
        return;
    char **names = NULL;
    size_t n = 0;
    s = task_labels_from_json(json, &names, &n, &d);
    if (s != IR_OK || n != (size_t)t->n_labels) {
        fprintf(stderr, "labels %s do not read back: %s\n", json, d.msg);
        abort();
    }
    for (size_t k = 0; k < n; k++)
        if (strcmp(names[k], t->label_names[k]) != 0 ||
            (k && strcmp(names[k - 1], names[k]) == 0)) {
            fprintf(stderr, "label %zu: %s read back as %s\n", k,
                    t->label_names[k], names[k]);
            abort();
        }
    task_labels_free(names, n);
    free(json);
}

static void load_split(const glue_task *t, glue_split split,
                       const glue_load_opts *o)
{
    ir_diag d;
    ir_diag_init(&d);
    glue_dataset ds;
    ir_status s = glue_load(t, NULL, split, o, &ds, &d);
    fuzz_explained(s, &d);
    for (size_t i = 0; s == IR_OK && i < ds.n; i++) {
        const glue_example *e = &ds.examples[i];
        if (!e->text_a || !*e->text_a || (t->is_pair && !e->text_b) ||
            (!t->is_regression && (e->label < 0 || e->label >= t->n_labels))) {
            fprintf(stderr, "example %zu (line %zu) out of contract\n", i,
                    e->line);
            abort();
        }
    }
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const names[] = {"train.csv", "train.tsv",
                                        "train.jsonl"};
    char path[FUZZ_PATH_MAX];
    fuzz_write(names[(data[0] & 3) % 3], data + 1, size - 1, path);
    user_data_spec sp = {.train = path, .dev = path,
                         .text_pair_column = (data[0] >> 3) & 1 ? "pair"
                                                                : NULL,
                         .regression = (data[0] >> 2) & 1, .metric = -1,
                         .skip_bad_lines = (data[0] >> 4) & 1};
    glue_load_opts o = {.skip_bad_lines = sp.skip_bad_lines,
                        .limit = (data[0] >> 5) & 3};
    ir_diag d;
    ir_diag_init(&d);
    glue_task *t = NULL;
    ir_status s = user_task_open(&sp, &t, &d);
    fuzz_explained(s, &d);
    if (s != IR_OK)
        return 0;
    labels_round_trip(t);
    load_split(t, GLUE_SPLIT_TRAIN, &o);
    load_split(t, GLUE_SPLIT_DEV, &o);
    user_task_free(t);
    return 0;
}

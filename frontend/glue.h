/* glue.h — readers for the GLUE benchmark's task files, exactly as GLUE
 * distributes them (glue_data/<TASK>/{train,dev,test}.tsv).
 *
 *     const glue_task *t = glue_task_lookup("sst2");       // or "SST-2"
 *     glue_dataset ds;
 *     ir_diag d; ir_diag_init(&d);
 *     glue_load_opts o = {.skip_bad_lines = false, .limit = 0};
 *     if (glue_load(t, "glue_data", GLUE_SPLIT_DEV, &o, &ds, &d) != IR_OK)
 *         fprintf(stderr, "distilc: %s\n", d.msg);   // tools/ prints
 *     for (size_t i = 0; i < ds.n; i++)
 *         use(ds.examples[i].text_a, ds.examples[i].label);
 *     glue_dataset_free(&ds);
 *
 * The files: tab-separated, one example per line, no CSV quoting (a '"' is
 * just a character), UTF-8, optionally opening with a byte-order mark (MRPC
 * does), '\n' or "\r\n" line ends, the last line's end optional. Every file
 * has a header line naming its columns except CoLA's train and dev (four
 * columns: source, label, original label, sentence). A file whose first
 * line holds a lone '\r' is read with '\r' line ends (classic Mac), as
 * Python's universal newlines would. A split without a single example
 * (only its header) is refused: its metrics would be NaN. Columns are found by
 * their header names, so MNLI's 12-column train and 16-column dev read the
 * same way; every row must have as many columns as the header. Test splits
 * have no label column. Blank lines are ignored, as Python's csv reader
 * (which GLUE's own scripts use) ignores them.
 *
 * Labels are indexed as Hugging Face `datasets` (glue.py) indexes them, so
 * a model fine-tuned with HF's run_glue.py agrees with these indices:
 *   CoLA  0 unacceptable, 1 acceptable          (file: 0/1)
 *   SST-2 0 negative, 1 positive                (file: 0/1)
 *   MRPC  0 not_equivalent, 1 equivalent        (file: 0/1)
 *   QQP   0 not_duplicate, 1 duplicate          (file: 0/1)
 *   MNLI  0 entailment, 1 neutral, 2 contradiction (file: the names)
 *   QNLI, RTE 0 entailment, 1 not_entailment    (file: the names)
 *   WNLI  0 not_entailment, 1 entailment        (file: 0/1)
 *   STS-B a similarity score, 0..5, one regression output (a score
 *         outside [0, 5] is a malformed line)
 *
 * Task names are accepted as GLUE spells them (CoLA, SST-2, MRPC, STS-B,
 * QQP, MNLI, MNLI-m, MNLI-mm, QNLI, RTE, WNLI) and as Hugging Face does
 * (cola, sst2, stsb, mnli, mnli_matched, mnli_mismatched, ...), in any case.
 * MNLI (= MNLI-m) reads dev_matched.tsv / test_matched.tsv; MNLI-mm reads
 * dev_mismatched.tsv / test_mismatched.tsv; both read the same train.tsv.
 *
 * A data path P means P/<file>, else P/<TASK>/<file> (a GLUE root folder);
 * P may also be the .tsv file itself.
 *
 * The user's own task (CSV, TSV with a header, JSON lines, named columns)
 * is a glue_task too, built at run time by user_task_open
 * (frontend/user_data.h) with its files, columns, label names and metric
 * in it (t->user); glue_load reads it through the same call (the data path
 * is then unused), so every command takes GLUE's and the user's tasks one
 * way.
 */
#ifndef DISTILC_GLUE_H
#define DISTILC_GLUE_H

#include <stdbool.h>
#include <stddef.h>

#include "frontend/metrics.h"
#include "ir/diag.h"

typedef enum glue_split {
    GLUE_SPLIT_TRAIN,
    GLUE_SPLIT_DEV,
    GLUE_SPLIT_TEST,
    GLUE_SPLIT_COUNT
} glue_split;

enum { GLUE_MAX_LABELS = 3 }; /* of GLUE's tasks; user tasks have more */

/* How a split's file is read: GLUE's own TSV layouts (the table), or one
 * of the user's formats (frontend/user_data.h). */
typedef enum glue_format {
    GLUE_FORMAT_GLUE,  /* GLUE's TSV (header names from the task table) */
    GLUE_FORMAT_CSV,   /* RFC 4180 with a header row */
    GLUE_FORMAT_TSV,   /* a header row, tabs, no quoting */
    GLUE_FORMAT_JSONL, /* one JSON object per line */
    GLUE_FORMAT_COUNT
} glue_format;

typedef struct glue_task {
    const char *name;     /* canonical GLUE spelling: "SST-2", "MNLI-mm" */
    const char *hf_name;  /* Hugging Face config: "sst2", "mnli_mismatched" */
    const char *dir;      /* folder under a GLUE root: "SST-2", "MNLI" */
    bool is_pair;         /* two texts per example */
    bool is_regression;   /* STS-B: a float score, no classes */
    double score_min, score_max; /* the score's range (regression) */
    int n_labels;         /* classes; 1 for regression (one output) */
    const char *const *label_names; /* [n_labels] index -> name; NULL for
                                       regression */
    metric_kind metric;
    const char *files[GLUE_SPLIT_COUNT]; /* file name per split */
    /* How the file is read (internal to the reader, shown for the curious):
     * header names of the text and label columns; label spellings in the
     * file, by index; and the fixed layout of the header-less files. */
    const char *col_a, *col_b, *col_label;
    const char *const *label_values; /* [n_labels] */
    int noheader_cols, noheader_a, noheader_label; /* CoLA train/dev */
    bool noheader_splits[GLUE_SPLIT_COUNT];
    /* A task built at run time from the user's own files
     * (frontend/user_data.h): files[] are then the paths (NULL: that split
     * was not given), formats[] how each is read, and the names and
     * labels belong to the task (user_task_free). false for GLUE's. */
    bool user;
    glue_format formats[GLUE_SPLIT_COUNT];
} glue_task;

/* NULL when the name is not a GLUE task. Case, '-', '_' and ' ' are
 * ignored ("SST-2" == "sst2" == "Sst_2"). */
const glue_task *glue_task_lookup(const char *name);
/* Every task, for listings and tests: GLUE_TASK_COUNT entries. */
enum { GLUE_TASK_COUNT = 10 };
const glue_task *glue_task_at(size_t i);
/* Lists the accepted names, for error messages: "CoLA, SST-2, ...". */
const char *glue_task_names(void);

/* "train", "dev" (also "validation"), "test"; false when unknown. */
bool glue_split_lookup(const char *name, glue_split *out);
const char *glue_split_name(glue_split s);
/* Label index for a label name ("entailment") or file spelling ("1");
 * -1 when the task has no such label. */
int glue_label_lookup(const glue_task *t, const char *name);

typedef struct glue_example {
    const char *text_a;
    const char *text_b;   /* NULL for single-sentence tasks */
    int label;            /* class index; -1 without label or for STS-B */
    double score;         /* STS-B gold score; NaN otherwise */
    bool has_label;       /* false on test splits */
    size_t line;          /* 1-based line number in the file */
} glue_example;

typedef struct glue_load_opts {
    bool skip_bad_lines;  /* count and skip malformed lines, else fail */
    size_t limit;         /* stop after this many examples; 0 = all */
    bool offer_skip;      /* the caller has --skip-bad-lines: a malformed
                             line's message suggests it */
} glue_load_opts;

enum { GLUE_SKIP_REPORT = 8, GLUE_PATH_MAX = 4096 };

typedef struct glue_dataset {
    const glue_task *task;
    glue_split split;
    char path[GLUE_PATH_MAX];  /* the file that was read */
    glue_example *examples;
    size_t n;
    bool has_labels;           /* the file had a label column */
    size_t n_skipped;          /* malformed lines skipped */
    size_t skipped_lines[GLUE_SKIP_REPORT]; /* the first few of them */
    char first_skip_reason[256];            /* why the first was skipped */
    struct ir_arena *arena_;   /* owns the texts (internal) */
} glue_dataset;

/* Reads task/split from data path `dir`. On failure the dataset is left
 * empty (safe to free) and the diag names the file and line:
 *   IR_ERR_INPUT file missing (names the paths tried) or not a regular
 *                file; bad header; no examples; or a malformed line (wrong
 *                column count, unknown label, bad or out-of-range score,
 *                invalid UTF-8, NUL byte) unless opts->skip_bad_lines
 *   IR_ERR_IO    a file that is there but cannot be read
 * opts may be NULL (strict, no limit). */
ir_status glue_load(const glue_task *task, const char *dir, glue_split split,
                    const glue_load_opts *opts, glue_dataset *out,
                    ir_diag *d);
void glue_dataset_free(glue_dataset *ds);

/* Gold labels of a loaded dataset for the metrics: class indices (classes)
 * or scores (STS-B). IR_ERR_INPUT when the split has no labels. The arrays
 * are malloc'd; the caller frees them. */
ir_status glue_dataset_gold_classes(const glue_dataset *ds, int **out,
                                    ir_diag *d);
ir_status glue_dataset_gold_scores(const glue_dataset *ds, double **out,
                                   ir_diag *d);

#endif

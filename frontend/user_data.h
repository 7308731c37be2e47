/* user_data.h — the user's own task: CSV, TSV with a header, or JSON lines,
 * with named columns, turned into a task descriptor (a glue_task built at
 * run time) that every command takes the same way as a GLUE task.
 *
 *     user_data_spec s = {.data = "reviews",          // reviews/train.csv,
 *                         .text_column = "review",    // reviews/dev.csv
 *                         .label_column = "sentiment"};
 *     glue_task *t;
 *     if (user_task_open(&s, &t, &d) != IR_OK)        // reads train's labels
 *         return d.status;   // "reviews/train.csv:7: no 'review' field"
 *     glue_dataset dev;
 *     glue_load(t, NULL, GLUE_SPLIT_DEV, NULL, &dev, &d); // as for GLUE
 *     ... t->label_names[dev.examples[0].label] ...   // "positive"
 *     glue_dataset_free(&dev);
 *     user_task_free(t);
 *
 * Files. The splits are --train FILE / --dev FILE, or a folder holding
 * train.*, dev.* (and test.*, for eval --split test) with one of the
 * extensions below; a data path that is a file serves every split (as a
 * GLUE .tsv does). The format comes from the extension:
 *   .csv          RFC 4180: a header row naming the columns, ',' between
 *                 fields, a field in double quotes may hold ',', line
 *                 breaks and "" (one quote); a quote inside an unquoted
 *                 field is a plain character (as Python's csv reads it);
 *                 anything but ',' or a line end after a closing quote, or
 *                 a quote left open, is a bad row
 *   .tsv          a header row, tabs between fields, no quoting (a '"' is
 *                 a character), as GLUE's own files
 *   .jsonl .json  one JSON object per line (frontend/json.h, strict); the
 *                 columns are its members; a text must be a string, a label
 *                 a string or a number
 * All three: UTF-8, an optional byte-order mark, '\n' or "\r\n" line ends,
 * blank lines ignored, every row as many fields as the header (CSV, TSV).
 * Line numbers in messages are the line a row starts on, counted in the
 * file as a text editor counts them.
 *
 * Columns: text_column (default "text"), text_pair_column (none by
 * default: single-text task), label_column (default "label").
 *
 * Labels. Classification labels are strings or integers (JSON: strings or
 * numbers; the number 1 and the string "1" are the same label). The label
 * set is every distinct label of the train file — the whole file, whatever
 * --limit says — in sorted order: numerically when every label is an
 * integer (so 0/1 data gets GLUE's 0/1 indices), else by bytes (UTF-8 code
 * point order). The order depends on nothing but the set, never on the row
 * order or anything random. A model made by distilc carries it in its ONNX
 * metadata (TASK_LABELS_META, a JSON array of the names in index order);
 * given as spec.labels (eval reads it from the model) it is used instead
 * of train's, and train is not needed. A dev or test label outside the set
 * is a bad row ("label 'x' is not in train's labels").
 * Regression (spec.regression): the label is a number (JSON: a number or a
 * string holding one), any finite value.
 *
 * Metric: accuracy by default, Pearson/Spearman for regression (as STS-B);
 * spec.metric picks F1 (two labels, the second in the order above the
 * positive class, with accuracy beside it, as MRPC) or Matthews correlation
 * (as CoLA).
 *
 * Bad rows (a missing column or field, bad quoting, invalid UTF-8, a NUL
 * byte, an empty text or label, a non-numeric or non-finite value with
 * --regression, a label outside the set) fail the load with "FILE:LINE:
 * reason", or are counted and skipped with glue_load_opts.skip_bad_lines,
 * exactly as GLUE's malformed lines are. A missing header column is never
 * skipped: it names the columns the header has.
 */
#ifndef DISTILC_USER_DATA_H
#define DISTILC_USER_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "frontend/glue.h"
#include "frontend/metrics.h"
#include "ir/diag.h"

/* The ONNX metadata key of a model's label names (index order, a JSON
 * array of strings). */
#define TASK_LABELS_META "distilc.labels" /* = IR_ENCODER_LABELS_META */

enum {
    USER_MAX_LABELS = 1000,   /* classes; more is likely the wrong column */
    USER_MAX_FILE_MB = 2048,  /* a split's file is read whole */
};

typedef struct user_data_spec {
    const char *data;             /* folder with train.* dev.*, or a file
                                     serving every split; may be NULL */
    const char *train, *dev;      /* files (override data's) */
    const char *text_column;      /* NULL: "text" */
    const char *text_pair_column; /* NULL: one text per example */
    const char *label_column;     /* NULL: "label" */
    bool regression;
    int metric;                   /* a metric_kind; -1: the default */
    /* The label set when known already (a model's metadata), else NULL:
     * taken from train. */
    const char *const *labels;
    size_t n_labels;
    bool skip_bad_lines;          /* also while reading train's labels */
    bool offer_skip;              /* messages suggest --skip-bad-lines */
} user_data_spec;

/* Whether a path names one of the user formats by its extension (.csv,
 * .tsv, .jsonl, .json), and which; GLUE_FORMAT_GLUE when not. */
glue_format user_format_of(const char *path);

/* Builds the task: resolves the files, reads train's label set (unless
 * spec->labels), checks the metric fits. *out is freed with
 * user_task_free. IR_ERR_INPUT naming the option, file or line at fault. */
ir_status user_task_open(const user_data_spec *spec, glue_task **out,
                         ir_diag *d);
void user_task_free(glue_task *t);

/* glue_load for a user task (glue_load calls it; t->user). */
ir_status user_data_load(const glue_task *t, glue_split split,
                         const glue_load_opts *o, glue_dataset *out,
                         ir_diag *d);

/* Reads one split from memory: what user_data_load does after reading the
 * file (the fuzz harness and tests use it). path names the text in
 * messages. */
ir_status user_data_parse(const glue_task *t, glue_split split,
                          const char *path, const char *text, size_t len,
                          const glue_load_opts *o, glue_dataset *out,
                          ir_diag *d);

/* ---- labels in a model's metadata ----------------------------------------
 * The task's label names as the JSON array stored under TASK_LABELS_META
 * (malloc'd; *out NULL for a regression task). */
ir_status task_labels_to_json(const glue_task *t, char **out, ir_diag *d);
/* The names back from that array (an array of non-empty strings, at most
 * USER_MAX_LABELS): *names malloc'd, freed with task_labels_free. */
ir_status task_labels_from_json(const char *json, char ***names, size_t *n,
                                ir_diag *d);
void task_labels_free(char **names, size_t n);

#endif

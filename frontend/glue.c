/* glue.c — the GLUE task table and the TSV reader (layouts described in
 * glue.h). The table mirrors GLUE's download script (download_glue_data.py)
 * and Hugging Face datasets' glue.py: file names, header column names, label
 * spellings and label order. The reader streams the file line by line
 * (MNLI's train.tsv is ~400 MB with its parse columns) and keeps only the
 * text columns, copied into an arena freed with the dataset. */
#include "frontend/glue.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/user_data.h"
#include "frontend/utf8_check.h"
#include "ir/arena.h"
#include "ir/file_read.h"

#define STD_FILES {"train.tsv", "dev.tsv", "test.tsv"}
/* A task's label list: a static array (a file-scope compound literal). */
#define NAMES(...) ((const char *const[]){__VA_ARGS__})

static const glue_task glue_tasks[GLUE_TASK_COUNT] = {
    {.name = "CoLA", .hf_name = "cola", .dir = "CoLA",
     .n_labels = 2, .label_names = NAMES("unacceptable", "acceptable"),
     .metric = METRIC_KIND_MCC, .files = STD_FILES,
     .col_a = "sentence", .label_values = NAMES("0", "1"),
     /* train/dev: source, label, original label (mostly empty), sentence */
     .noheader_cols = 4, .noheader_a = 3, .noheader_label = 1,
     .noheader_splits = {true, true, false}},
    {.name = "SST-2", .hf_name = "sst2", .dir = "SST-2",
     .n_labels = 2, .label_names = NAMES("negative", "positive"),
     .metric = METRIC_KIND_ACC, .files = STD_FILES,
     .col_a = "sentence", .col_label = "label",
     .label_values = NAMES("0", "1")},
    {.name = "MRPC", .hf_name = "mrpc", .dir = "MRPC", .is_pair = true,
     .n_labels = 2, .label_names = NAMES("not_equivalent", "equivalent"),
     .metric = METRIC_KIND_ACC_F1, .files = STD_FILES,
     .col_a = "#1 String", .col_b = "#2 String", .col_label = "Quality",
     .label_values = NAMES("0", "1")},
    {.name = "STS-B", .hf_name = "stsb", .dir = "STS-B", .is_pair = true,
     .is_regression = true, .score_min = 0, .score_max = 5,
     .n_labels = 1, .metric = METRIC_KIND_CORR,
     .files = STD_FILES, .col_a = "sentence1", .col_b = "sentence2",
     .col_label = "score"},
    {.name = "QQP", .hf_name = "qqp", .dir = "QQP", .is_pair = true,
     .n_labels = 2, .label_names = NAMES("not_duplicate", "duplicate"),
     .metric = METRIC_KIND_ACC_F1, .files = STD_FILES,
     .col_a = "question1", .col_b = "question2", .col_label = "is_duplicate",
     .label_values = NAMES("0", "1")},
    {.name = "MNLI", .hf_name = "mnli_matched", .dir = "MNLI",
     .is_pair = true, .n_labels = 3,
     .label_names = NAMES("entailment", "neutral", "contradiction"),
     .metric = METRIC_KIND_ACC,
     .files = {"train.tsv", "dev_matched.tsv", "test_matched.tsv"},
     .col_a = "sentence1", .col_b = "sentence2", .col_label = "gold_label",
     .label_values = NAMES("entailment", "neutral", "contradiction")},
    {.name = "MNLI-mm", .hf_name = "mnli_mismatched", .dir = "MNLI",
     .is_pair = true, .n_labels = 3,
     .label_names = NAMES("entailment", "neutral", "contradiction"),
     .metric = METRIC_KIND_ACC,
     .files = {"train.tsv", "dev_mismatched.tsv", "test_mismatched.tsv"},
     .col_a = "sentence1", .col_b = "sentence2", .col_label = "gold_label",
     .label_values = NAMES("entailment", "neutral", "contradiction")},
    {.name = "QNLI", .hf_name = "qnli", .dir = "QNLI", .is_pair = true,
     .n_labels = 2, .label_names = NAMES("entailment", "not_entailment"),
     .metric = METRIC_KIND_ACC, .files = STD_FILES,
     .col_a = "question", .col_b = "sentence", .col_label = "label",
     .label_values = NAMES("entailment", "not_entailment")},
    {.name = "RTE", .hf_name = "rte", .dir = "RTE", .is_pair = true,
     .n_labels = 2, .label_names = NAMES("entailment", "not_entailment"),
     .metric = METRIC_KIND_ACC, .files = STD_FILES,
     .col_a = "sentence1", .col_b = "sentence2", .col_label = "label",
     .label_values = NAMES("entailment", "not_entailment")},
    {.name = "WNLI", .hf_name = "wnli", .dir = "WNLI", .is_pair = true,
     .n_labels = 2, .label_names = NAMES("not_entailment", "entailment"),
     .metric = METRIC_KIND_ACC, .files = STD_FILES,
     .col_a = "sentence1", .col_b = "sentence2", .col_label = "label",
     .label_values = NAMES("0", "1")},
};

/* Spellings beyond each task's name and hf_name, already normalised. */
static const struct {
    const char *alias;
    size_t task;
} glue_aliases[] = {
    {"mnli", 5}, {"mnlim", 5}, {"mnlimatched", 5},
    {"mnlimm", 6}, {"mnlimismatched", 6},
};

/* Lower-cases and drops '-', '_' and ' ' ("SST-2" -> "sst2"); false when
 * the result does not fit. */
static bool name_normalise(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; *in; in++) {
        if (*in == '-' || *in == '_' || *in == ' ')
            continue;
        if (k + 1 >= n)
            return false;
        out[k++] = (char)tolower((unsigned char)*in);
    }
    out[k] = '\0';
    return true;
}

const glue_task *glue_task_lookup(const char *name)
{
    char want[32], have[32];
    if (!name || !name_normalise(name, want, sizeof want) || !*want)
        return NULL;
    for (size_t i = 0; i < GLUE_TASK_COUNT; i++) {
        const glue_task *t = &glue_tasks[i];
        if ((name_normalise(t->name, have, sizeof have) &&
             strcmp(have, want) == 0) ||
            (name_normalise(t->hf_name, have, sizeof have) &&
             strcmp(have, want) == 0))
            return t;
    }
    for (size_t i = 0; i < sizeof glue_aliases / sizeof glue_aliases[0]; i++)
        if (strcmp(glue_aliases[i].alias, want) == 0)
            return &glue_tasks[glue_aliases[i].task];
    return NULL;
}

const glue_task *glue_task_at(size_t i)
{
    return i < GLUE_TASK_COUNT ? &glue_tasks[i] : NULL;
}

const char *glue_task_names(void)
{
    return "CoLA, SST-2, MRPC, STS-B, QQP, MNLI (= MNLI-m), MNLI-mm, QNLI, "
           "RTE, WNLI (or Hugging Face's cola, sst2, mrpc, stsb, qqp, "
           "mnli_matched, mnli_mismatched, qnli, rte, wnli)";
}

bool glue_split_lookup(const char *name, glue_split *out)
{
    char n[16];
    if (!name || !name_normalise(name, n, sizeof n))
        return false;
    if (strcmp(n, "train") == 0)
        *out = GLUE_SPLIT_TRAIN;
    else if (strcmp(n, "dev") == 0 || strcmp(n, "validation") == 0)
        *out = GLUE_SPLIT_DEV;
    else if (strcmp(n, "test") == 0)
        *out = GLUE_SPLIT_TEST;
    else
        return false;
    return true;
}

const char *glue_split_name(glue_split s)
{
    static const char *const names[GLUE_SPLIT_COUNT] = {"train", "dev",
                                                        "test"};
    return (unsigned)s < GLUE_SPLIT_COUNT ? names[s] : "?";
}

int glue_label_lookup(const glue_task *t, const char *name)
{
    if (t->is_regression)
        return -1;
    for (int k = 0; k < t->n_labels; k++)
        if (strcmp(t->label_values[k], name) == 0 ||
            strcmp(t->label_names[k], name) == 0)
            return k;
    return -1;
}

/* ---- the reader ---------------------------------------------------------*/

static bool path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Where the split's file lives (see glue.h); IR_ERR_INPUT naming the paths
 * tried when it is nowhere (what is there is checked when it is opened:
 * a regular file, ir/file_read.h). */
static ir_status glue_resolve(const glue_task *t, const char *dir,
                              glue_split split, char *path, ir_diag *d)
{
    const char *file = t->files[split];
    struct stat st;
    if (stat(dir, &st) != 0)
        return ir_diag_set(d, IR_ERR_INPUT, "%s %s split: data path '%s': %s",
                           t->name, glue_split_name(split), dir,
                           strerror(errno));
    if (!S_ISDIR(st.st_mode)) { /* the .tsv itself */
        snprintf(path, GLUE_PATH_MAX, "%s", dir);
        return IR_OK;
    }
    char alt[GLUE_PATH_MAX];
    snprintf(path, GLUE_PATH_MAX, "%s/%s", dir, file);
    if (path_exists(path))
        return IR_OK;
    snprintf(alt, sizeof alt, "%s/%s/%s", dir, t->dir, file);
    if (path_exists(alt)) {
        snprintf(path, GLUE_PATH_MAX, "%s", alt);
        return IR_OK;
    }
    return ir_diag_set(d, IR_ERR_INPUT,
                       "%s %s split: no file %s or %s (the data folder "
                       "should hold GLUE's %s, or a %s/ folder with it)",
                       t->name, glue_split_name(split), path, alt, file,
                       t->dir);
}

/* One line cut into fields by tabs; only the wanted columns are kept. */
typedef struct row {
    size_t n_fields;
    const char *field[3]; /* a, b, label */
    size_t len[3];
} row;

/* Columns of the file: index of text a, text b, label (-1 when absent) and
 * the column count every row must have. */
typedef struct layout {
    long col[3];
    size_t n_cols;
} layout;

static void row_split(char *line, size_t len, const layout *lay, row *r)
{
    memset(r, 0, sizeof *r);
    size_t start = 0, idx = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        for (int k = 0; k < 3; k++)
            if (lay->col[k] == (long)idx) {
                r->field[k] = line + start;
                r->len[k] = i - start;
            }
        if (i < len)
            line[i] = '\0';
        idx++;
        start = i + 1;
    }
    r->n_fields = idx;
}

/* The header line names the columns; find ours. */
static ir_status layout_from_header(const glue_task *t, glue_split split,
                                    char *line, size_t len, const char *path,
                                    size_t line_no, layout *lay, ir_diag *d)
{
    const char *want[3] = {t->col_a, t->col_b, t->col_label};
    lay->col[0] = lay->col[1] = lay->col[2] = -1;
    size_t bad = utf8_check((const unsigned char *)line, len);
    if (bad != len)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s:%zu: header is not valid UTF-8 (byte %zu)",
                           path, line_no, bad + 1);
    size_t idx = 0;
    char *p = line, *end = line + len;
    for (;;) {
        char *tab = memchr(p, '\t', (size_t)(end - p));
        size_t flen = tab ? (size_t)(tab - p) : (size_t)(end - p);
        for (int k = 0; k < 3; k++)
            if (want[k] && lay->col[k] < 0 && strlen(want[k]) == flen &&
                memcmp(want[k], p, flen) == 0)
                lay->col[k] = (long)idx;
        idx++;
        if (!tab)
            break;
        p = tab + 1;
    }
    lay->n_cols = idx;
    for (int k = 0; k < 2; k++)
        if (want[k] && lay->col[k] < 0)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s:%zu: the header has no '%s' column, which "
                               "%s %s files have (is this the right task?)",
                               path, line_no, want[k], t->name,
                               glue_split_name(split));
    if (lay->col[2] < 0 && split != GLUE_SPLIT_TEST)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s:%zu: the header has no '%s' label column, "
                           "which %s %s files have",
                           path, line_no, t->col_label, t->name,
                           glue_split_name(split));
    return IR_OK;
}

/* Checks one data row and fills ex (texts not yet copied). On a malformed
 * row returns IR_ERR_INPUT with the reason (without file:line) in d. */
static ir_status row_parse(const glue_task *t, const layout *lay, char *line,
                           size_t len, glue_example *ex, row *r, ir_diag *d)
{
    size_t bad = utf8_check((const unsigned char *)line, len);
    if (bad != len)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "invalid UTF-8 at byte %zu", bad + 1);
    row_split(line, len, lay, r);
    if (r->n_fields != lay->n_cols)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "expected %zu tab-separated columns, found %zu "
                           "(GLUE files use no quoting, so a stray tab or a "
                           "line break inside a text shows up here)",
                           lay->n_cols, r->n_fields);
    ex->label = -1;
    ex->score = NAN;
    ex->has_label = lay->col[2] >= 0;
    if (!ex->has_label)
        return IR_OK;
    const char *lab = r->field[2];
    if (t->is_regression) {
        char *endp;
        errno = 0;
        double v = strtod(lab, &endp);
        if (r->len[2] == 0 || isspace((unsigned char)lab[0]) ||
            endp != lab + r->len[2] || errno == ERANGE || !isfinite(v))
            return ir_diag_set(d, IR_ERR_INPUT,
                               "score '%.40s' is not a number", lab);
        if (v < t->score_min || v > t->score_max)
            return ir_diag_set(d, IR_ERR_INPUT, "score %.40s is outside "
                               "[%g, %g], the range of %s scores", lab,
                               t->score_min, t->score_max, t->name);
        ex->score = v;
        return IR_OK;
    }
    for (int k = 0; k < t->n_labels; k++)
        if (strcmp(lab, t->label_values[k]) == 0) {
            ex->label = k;
            return IR_OK;
        }
    char expect[128] = "";
    for (int k = 0; k < t->n_labels; k++) {
        size_t used = strlen(expect);
        snprintf(expect + used, sizeof expect - used, "%s'%s'",
                 k ? ", " : "", t->label_values[k]);
    }
    return ir_diag_set(d, IR_ERR_INPUT, "unknown label '%.40s' (%s has %s)",
                       lab, t->name, expect);
}

static char *arena_strndup(ir_arena *a, const char *s, size_t n)
{
    char *p = ir_arena_alloc(a, n + 1); /* zeroed, so already terminated */
    if (p)
        memcpy(p, s, n);
    return p;
}

static ir_status dataset_push(glue_dataset *ds, size_t *cap,
                              const glue_example *ex)
{
    if (ds->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        glue_example *e = realloc(ds->examples, nc * sizeof *e);
        if (!e)
            return IR_ERR_NOMEM;
        ds->examples = e;
        *cap = nc;
    }
    ds->examples[ds->n++] = *ex;
    return IR_OK;
}

static void dataset_note_skip(glue_dataset *ds, size_t line_no,
                              const char *why)
{
    if (ds->n_skipped < GLUE_SKIP_REPORT)
        ds->skipped_lines[ds->n_skipped] = line_no;
    if (ds->n_skipped == 0)
        snprintf(ds->first_skip_reason, sizeof ds->first_skip_reason, "%s",
                 why);
    ds->n_skipped++;
}

/* Whether a line read up to '\n' holds a '\r' before its end: the file
 * ends its lines with '\r' alone (else at most "\r\n" ends it). */
static bool has_lone_cr(const char *line, size_t len)
{
    if (len && line[len - 1] == '\n')
        len--;
    if (len && line[len - 1] == '\r')
        len--;
    return memchr(line, '\r', len) != NULL;
}

/* The body of glue_load once the file is open: returns with ds filled or
 * an error in d (the caller frees ds on error). */
static ir_status glue_read(FILE *f, const glue_task *t, glue_split split,
                           const glue_load_opts *o, glue_dataset *ds,
                           ir_diag *d)
{
    const char *path = ds->path;
    bool noheader = t->noheader_splits[split];
    layout lay = {{-1, -1, -1}, 0};
    if (noheader) {
        lay.col[0] = t->noheader_a;
        lay.col[2] = t->noheader_label;
        lay.n_cols = (size_t)t->noheader_cols;
    }
    bool have_layout = noheader;
    char *line = NULL;
    size_t line_cap = 0, cap = 0, line_no = 0;
    ssize_t got;
    ir_status st = IR_OK;
    int eol = '\n';
    while ((got = getdelim(&line, &line_cap, eol, f)) >= 0) {
        size_t len = (size_t)got;
        line_no++;
        if (line_no == 1 && eol == '\n' && has_lone_cr(line, len)) {
            eol = '\r'; /* classic Mac: read again, line by '\r' */
            line_no = 0;
            rewind(f);
            continue;
        }
        if (len && line[len - 1] == eol)
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        line[len] = '\0';
        char *text = line;
        /* A byte-order mark may open the file (MRPC's do). */
        if (line_no == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
            text += 3, len -= 3;
        if (len == 0)
            continue;
        bool has_nul = strlen(text) != len;
        if (!have_layout) {
            if (has_nul) {
                st = ir_diag_set(d, IR_ERR_INPUT,
                                 "%s:%zu: header contains a NUL byte (not a "
                                 "text file?)",
                                 path, line_no);
                break;
            }
            st = layout_from_header(t, split, text, len, path, line_no, &lay,
                                    d);
            if (st != IR_OK)
                break;
            have_layout = true;
            ds->has_labels = lay.col[2] >= 0;
            continue;
        }
        glue_example ex = {0};
        row r;
        ex.line = line_no;
        ir_diag why;
        ir_diag_init(&why);
        st = has_nul ? ir_diag_set(&why, IR_ERR_INPUT, "contains a NUL byte")
                     : row_parse(t, &lay, text, len, &ex, &r, &why);
        if (st != IR_OK) {
            if (!o->skip_bad_lines) {
                ir_diag_set(d, st, "%s:%zu: %s%s", path, line_no, why.msg,
                            o->offer_skip ? " (malformed lines can be "
                                            "skipped with --skip-bad-lines)"
                                          : "");
                break;
            }
            dataset_note_skip(ds, line_no, why.msg);
            st = IR_OK;
            continue;
        }
        ex.text_a = arena_strndup(ds->arena_, r.field[0], r.len[0]);
        if (lay.col[1] >= 0)
            ex.text_b = arena_strndup(ds->arena_, r.field[1], r.len[1]);
        if (!ex.text_a || (lay.col[1] >= 0 && !ex.text_b) ||
            dataset_push(ds, &cap, &ex) != IR_OK) {
            st = ir_diag_set(d, IR_ERR_NOMEM, "%s:%zu: out of memory", path,
                             line_no);
            break;
        }
        if (o->limit && ds->n >= o->limit)
            break;
    }
    if (st == IR_OK && ferror(f))
        st = ir_diag_set(d, IR_ERR_IO, "%s:%zu: read error: %s", path,
                         line_no, strerror(errno));
    if (st == IR_OK && !have_layout)
        st = ir_diag_set(d, IR_ERR_INPUT,
                         "%s: empty file (expected a header line)", path);
    else if (st == IR_OK && ds->n == 0 && ds->n_skipped)
        st = ir_diag_set(d, IR_ERR_INPUT, "%s: no examples: all %zu lines "
                         "after the header are malformed (line %zu: %s)",
                         path, ds->n_skipped, ds->skipped_lines[0],
                         ds->first_skip_reason);
    else if (st == IR_OK && ds->n == 0)
        st = ir_diag_set(d, IR_ERR_INPUT, "%s: no examples (%s): a split "
                         "needs at least one", path,
                         noheader ? "the file is empty"
                                  : "nothing after the header line");
    if (noheader)
        ds->has_labels = true;
    free(line);
    return st;
}

ir_status glue_load(const glue_task *task, const char *dir, glue_split split,
                    const glue_load_opts *opts, glue_dataset *out,
                    ir_diag *d)
{
    memset(out, 0, sizeof *out);
    static const glue_load_opts strict = {false, 0, false};
    const glue_load_opts *o = opts ? opts : &strict;
    if (task && task->user) /* the user's own files (user_data.h) */
        return user_data_load(task, split, o, out, d);
    if (!task || !dir || (unsigned)split >= GLUE_SPLIT_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "glue_load: missing task, data path or split");
    out->task = task;
    out->split = split;
    ir_status st = glue_resolve(task, dir, split, out->path, d);
    if (st != IR_OK)
        return st;
    char what[64];
    snprintf(what, sizeof what, "%s %s split", task->name,
             glue_split_name(split));
    FILE *f;
    if ((st = ir_file_fopen(out->path, what, 0, &f, NULL, d)) != IR_OK)
        return st;
    out->arena_ = ir_arena_new();
    if (!out->arena_) {
        fclose(f);
        return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", out->path);
    }
    st = glue_read(f, task, split, o, out, d);
    fclose(f);
    if (st != IR_OK) {
        char keep[GLUE_PATH_MAX];
        memcpy(keep, out->path, sizeof keep);
        glue_dataset_free(out);
        memcpy(out->path, keep, sizeof keep);
        out->task = task;
        out->split = split;
    }
    return st;
}

void glue_dataset_free(glue_dataset *ds)
{
    if (!ds)
        return;
    free(ds->examples);
    ir_arena_free(ds->arena_);
    memset(ds, 0, sizeof *ds);
}

static ir_status gold_check(const glue_dataset *ds, bool want_scores,
                            ir_diag *d)
{
    if (!ds->task)
        return ir_diag_set(d, IR_ERR_INPUT, "no dataset loaded");
    if (!ds->has_labels)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: the %s split has no labels to score against "
                           "(use dev)",
                           ds->path, glue_split_name(ds->split));
    if (ds->task->is_regression != want_scores)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: %s has %s, not %s",
                           ds->path, ds->task->name,
                           want_scores ? "classes" : "scores",
                           want_scores ? "scores" : "classes");
    return IR_OK;
}

ir_status glue_dataset_gold_classes(const glue_dataset *ds, int **out,
                                    ir_diag *d)
{
    *out = NULL;
    ir_status st = gold_check(ds, false, d);
    if (st != IR_OK)
        return st;
    int *g = malloc((ds->n ? ds->n : 1) * sizeof *g);
    if (!g)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ds->n; i++)
        g[i] = ds->examples[i].label;
    *out = g;
    return IR_OK;
}

ir_status glue_dataset_gold_scores(const glue_dataset *ds, double **out,
                                   ir_diag *d)
{
    *out = NULL;
    ir_status st = gold_check(ds, true, d);
    if (st != IR_OK)
        return st;
    double *g = malloc((ds->n ? ds->n : 1) * sizeof *g);
    if (!g)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ds->n; i++)
        g[i] = ds->examples[i].score;
    *out = g;
    return IR_OK;
}

/* user_data.c — the user's own task (user_data.h): the task descriptor
 * built from the options (files from a folder or --train/--dev, format
 * from the extension, columns, the label set sorted from train, the
 * metric) and the label names' JSON in a model's metadata. The readers
 * that cut a split's file into rows are user_data_read.c's. */
#include "frontend/user_data.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/json.h"
#include "frontend/user_data_internal.h"
#include "ir/arena.h"

static char *arena_strdup(ir_arena *a, const char *s)
{
    size_t n = strlen(s);
    char *p = ir_arena_alloc(a, n + 1); /* zeroed: already terminated */
    if (p)
        memcpy(p, s, n);
    return p;
}

glue_format user_format_of(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/'))
        return GLUE_FORMAT_GLUE;
    if (strcmp(dot, ".csv") == 0 || strcmp(dot, ".CSV") == 0)
        return GLUE_FORMAT_CSV;
    if (strcmp(dot, ".tsv") == 0 || strcmp(dot, ".TSV") == 0)
        return GLUE_FORMAT_TSV;
    if (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".json") == 0 ||
        strcmp(dot, ".JSONL") == 0 || strcmp(dot, ".JSON") == 0)
        return GLUE_FORMAT_JSONL;
    return GLUE_FORMAT_GLUE;
}

/* ---- the task ------------------------------------------------------------ */

static bool label_is_int(const char *s, long long *v)
{
    char *end;
    errno = 0;
    if (!*s || isspace((unsigned char)*s))
        return false;
    *v = strtoll(s, &end, 10);
    return *end == '\0' && errno == 0;
}

static int cmp_bytes(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_int(const void *a, const void *b)
{
    long long x = 0, y = 0;
    const char *s = *(char *const *)a, *t = *(char *const *)b;
    label_is_int(s, &x);
    label_is_int(t, &y);
    return x < y ? -1 : x > y ? 1 : strcmp(s, t); /* "01" vs "1": by bytes */
}

/* train.csv, train.tsv, train.jsonl or train.json in dir: NULL when none;
 * IR_ERR_INPUT when more than one. */
static ir_status split_in_dir(user_task *u, const char *dir, glue_split s,
                              ir_diag *d)
{
    static const char *const ext[] = {"csv", "tsv", "jsonl", "json"};
    char path[GLUE_PATH_MAX], found[GLUE_PATH_MAX] = "";
    struct stat st;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.%s", dir, glue_split_name(s),
                 ext[i]);
        if (stat(path, &st) != 0)
            continue;
        if (found[0])
            return ir_diag_set(d, IR_ERR_INPUT, "--data '%s': both %s and %s "
                               "(which is the %s split? give --%s FILE)", dir,
                               found, path, glue_split_name(s),
                               glue_split_name(s));
        snprintf(found, sizeof found, "%s", path);
    }
    if (found[0] && !(u->task.files[s] = arena_strdup(u->arena, found)))
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    return IR_OK;
}

static ir_status set_file(user_task *u, glue_split s, const char *path,
                          const char *opt, ir_diag *d)
{
    glue_format f = user_format_of(path);
    if (f == GLUE_FORMAT_GLUE)
        return ir_diag_set(d, IR_ERR_INPUT, "%s '%s': the format comes from "
                           "the file's extension, which must be .csv, .tsv, "
                           ".jsonl or .json", opt, path);
    if (!(u->task.files[s] = arena_strdup(u->arena, path)))
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    u->task.formats[s] = f;
    return IR_OK;
}

static ir_status resolve_files(user_task *u, const user_data_spec *sp,
                               ir_diag *d)
{
    ir_status st = IR_OK;
    if (sp->data) {
        struct stat sb;
        if (stat(sp->data, &sb) != 0)
            return ir_diag_set(d, IR_ERR_INPUT, "--data '%s': %s", sp->data,
                               strerror(errno));
        if (S_ISDIR(sb.st_mode)) {
            for (int s = 0; s < GLUE_SPLIT_COUNT && st == IR_OK; s++)
                if ((st = split_in_dir(u, sp->data, (glue_split)s, d)) ==
                        IR_OK && u->task.files[s])
                    u->task.formats[s] = user_format_of(u->task.files[s]);
        } else {
            for (int s = 0; s < GLUE_SPLIT_COUNT && st == IR_OK; s++)
                st = set_file(u, (glue_split)s, sp->data, "--data", d);
        }
    }
    if (st == IR_OK && sp->train)
        st = set_file(u, GLUE_SPLIT_TRAIN, sp->train, "--train", d);
    if (st == IR_OK && sp->dev)
        st = set_file(u, GLUE_SPLIT_DEV, sp->dev, "--dev", d);
    if (st == IR_OK && !u->task.files[GLUE_SPLIT_TRAIN] &&
        !u->task.files[GLUE_SPLIT_DEV])
        st = ir_diag_set(d, IR_ERR_INPUT, "%s%s%s: no train or dev file (a "
                         "folder holding train.csv and dev.csv, or .tsv, "
                         ".jsonl; or --train FILE --dev FILE)",
                         sp->data ? "--data '" : "no data",
                         sp->data ? sp->data : "", sp->data ? "'" : "");
    return st;
}

/* The task's name: the data folder's, else the train (or dev) file's, with
 * no extension. */
static ir_status set_name(user_task *u, const user_data_spec *sp,
                          ir_diag *d)
{
    const char *p = sp->data ? sp->data
                    : u->task.files[GLUE_SPLIT_TRAIN]
                        ? u->task.files[GLUE_SPLIT_TRAIN]
                        : u->task.files[GLUE_SPLIT_DEV];
    char buf[256];
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && p[b - 1] != '/')
        b--;
    snprintf(buf, sizeof buf, "%.*s", (int)(n - b), p + b);
    struct stat sb;
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf && !(sp->data && stat(sp->data, &sb) == 0 &&
                               S_ISDIR(sb.st_mode)))
        *dot = '\0';
    if (!buf[0])
        snprintf(buf, sizeof buf, "data");
    u->task.name = arena_strdup(u->arena, buf);
    u->task.hf_name = u->task.name;
    u->task.dir = "";
    return u->task.name ? IR_OK
                        : ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
}

/* The label set: given, or train's distinct labels sorted. */
static ir_status set_labels(user_task *u, const user_data_spec *sp,
                            ir_diag *d)
{
    glue_task *t = &u->task;
    char **names = NULL;
    size_t n = 0;
    char **seen = NULL; /* train's labels, collected */
    size_t n_seen = 0;
    if (sp->labels) {
        names = (char **)sp->labels;
        n = sp->n_labels;
        u->labels_given = true;
    } else {
        if (!t->files[GLUE_SPLIT_TRAIN])
            return ir_diag_set(d, IR_ERR_INPUT, "no train file to take the "
                               "label set from (give --train FILE, or a "
                               "model made by distilc, which keeps its "
                               "labels)");
        ir_status st = user_labels_collect(t, sp->skip_bad_lines,
                                           sp->offer_skip, &seen, &n_seen, d);
        names = seen;
        n = n_seen;
        if (st == IR_OK && n < 2)
            st = ir_diag_set(d, IR_ERR_INPUT, "%s: %s label%s in '%s'%s%s%s: "
                             "a classifier needs at least two (for a number "
                             "to predict use --regression)",
                             t->files[GLUE_SPLIT_TRAIN], n ? "one" : "no",
                             n ? "" : "s", t->col_label, n ? " ('" : "",
                             n ? names[0] : "", n ? "')" : "");
        if (st != IR_OK) {
            task_labels_free(seen, n_seen);
            return st;
        }
        bool ints = true;
        long long v;
        for (size_t i = 0; i < n && ints; i++)
            ints = label_is_int(names[i], &v);
        qsort(names, n, sizeof *names, ints ? cmp_int : cmp_bytes);
    }
    const char **keep = ir_arena_alloc(u->arena, n * sizeof *keep);
    for (size_t i = 0; keep && i < n; i++)
        if (!(keep[i] = arena_strdup(u->arena, names[i])))
            keep = NULL;
    task_labels_free(seen, n_seen);
    if (!keep)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    t->n_labels = (int)n;
    t->label_names = keep;
    t->label_values = keep;
    return IR_OK;
}

static ir_status set_metric(glue_task *t, const user_data_spec *sp,
                            ir_diag *d)
{
    int m = sp->metric;
    if (m < 0)
        m = t->is_regression ? METRIC_KIND_CORR : METRIC_KIND_ACC;
    if (m >= METRIC_KIND_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "unknown metric %d", m);
    if ((m == METRIC_KIND_CORR) != t->is_regression)
        return ir_diag_set(d, IR_ERR_INPUT, "--metric %s is for %s; this "
                           "task is %s", metric_kind_name((metric_kind)m),
                           m == METRIC_KIND_CORR ? "regression"
                                                 : "classification",
                           t->is_regression ? "a regression (--regression)"
                                            : "a classification");
    if (m == METRIC_KIND_ACC_F1 && t->n_labels != 2)
        return ir_diag_set(d, IR_ERR_INPUT, "--metric f1 needs two labels "
                           "(the second is the positive class); %s has %d",
                           t->name, t->n_labels);
    t->metric = (metric_kind)m;
    return IR_OK;
}

ir_status user_task_open(const user_data_spec *sp, glue_task **out,
                         ir_diag *d)
{
    *out = NULL;
    user_task *u = calloc(1, sizeof *u);
    if (!u || !(u->arena = ir_arena_new())) {
        free(u);
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    }
    glue_task *t = &u->task;
    t->user = true;
    t->col_a = sp->text_column ? sp->text_column : "text";
    t->col_b = sp->text_pair_column;
    t->col_label = sp->label_column ? sp->label_column : "label";
    t->is_pair = t->col_b != NULL;
    t->is_regression = sp->regression;
    t->score_min = -INFINITY;
    t->score_max = INFINITY;
    t->n_labels = 1;
    ir_status st = IR_OK;
    if (!(t->col_a = arena_strdup(u->arena, t->col_a)) ||
        !(t->col_label = arena_strdup(u->arena, t->col_label)) ||
        (t->col_b && !(t->col_b = arena_strdup(u->arena, t->col_b))))
        st = ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    if (st == IR_OK && (strcmp(t->col_a, t->col_label) == 0 ||
                        (t->col_b && (strcmp(t->col_b, t->col_a) == 0 ||
                                      strcmp(t->col_b, t->col_label) == 0))))
        st = ir_diag_set(d, IR_ERR_INPUT, "--text-column, --text-pair-column "
                         "and --label-column must name different columns");
    if (st == IR_OK)
        st = resolve_files(u, sp, d);
    if (st == IR_OK)
        st = set_name(u, sp, d);
    if (st == IR_OK && !sp->regression)
        st = set_labels(u, sp, d);
    if (st == IR_OK)
        st = set_metric(t, sp, d);
    if (st != IR_OK) {
        user_task_free(t);
        return st;
    }
    *out = t;
    return IR_OK;
}

void user_task_free(glue_task *t)
{
    if (!t)
        return;
    user_task *u = (user_task *)t;
    ir_arena_free(u->arena);
    free(u);
}

/* ---- labels in a model's metadata --------------------------------------- */

ir_status task_labels_to_json(const glue_task *t, char **out, ir_diag *d)
{
    *out = NULL;
    if (t->is_regression || !t->label_names)
        return IR_OK;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return ir_diag_set(d, IR_ERR_NOMEM, "labels: out of memory");
    fputc('[', f);
    for (int k = 0; k < t->n_labels; k++) {
        if (k)
            fputc(',', f);
        json_write_string(f, t->label_names[k]);
    }
    fputc(']', f);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return ir_diag_set(d, IR_ERR_NOMEM, "labels: out of memory");
    }
    *out = buf;
    return IR_OK;
}

ir_status task_labels_from_json(const char *json, char ***names, size_t *n,
                                ir_diag *d)
{
    *names = NULL;
    *n = 0;
    json_doc doc = {0};
    ir_status st = json_parse(json, strlen(json), TASK_LABELS_META, &doc, d);
    if (st != IR_OK)
        return st;
    const json_value *a = doc.root;
    if (a->type != JSON_ARRAY || a->len < 1 || a->len > USER_MAX_LABELS)
        st = ir_diag_set(d, IR_ERR_INPUT, "%s: expected an array of 1 to %d "
                         "label names", TASK_LABELS_META, USER_MAX_LABELS);
    char **out = st == IR_OK ? calloc(a->len, sizeof *out) : NULL;
    if (st == IR_OK && !out)
        st = ir_diag_set(d, IR_ERR_NOMEM, "labels: out of memory");
    for (size_t i = 0; st == IR_OK && i < a->len; i++) {
        const json_value *v = &a->u.items[i];
        if (v->type != JSON_STRING || v->len == 0 ||
            memchr(v->u.str, '\0', v->len)) {
            st = ir_diag_set(d, IR_ERR_INPUT, "%s: item %zu is not a "
                             "non-empty string", TASK_LABELS_META, i);
            break;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(out[j], v->u.str) == 0)
                st = ir_diag_set(d, IR_ERR_INPUT, "%s: label '%.40s' twice",
                                 TASK_LABELS_META, v->u.str);
        if (st == IR_OK && !(out[i] = strdup(v->u.str)))
            st = ir_diag_set(d, IR_ERR_NOMEM, "labels: out of memory");
    }
    size_t count = st == IR_OK || out ? a->len : 0;
    json_doc_free(&doc);
    if (st != IR_OK) {
        task_labels_free(out, count);
        return st;
    }
    *names = out;
    *n = count;
    return IR_OK;
}

void task_labels_free(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

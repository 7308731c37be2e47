/* user_data_read.c — the readers of the user's own data (user_data.h):
 * a split's file is read whole and cut into rows, CSV and TSV by
 * record_read (RFC 4180 quoting for CSV), JSON lines by json_parse; each
 * row goes through one check (row_take) that keeps it as a glue_example
 * or names why it is bad, so a bad row fails or is skipped with file:line
 * exactly as glue.c's GLUE lines are. The same pass, collecting, gathers
 * train's distinct labels for the label set. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/json.h"
#include "frontend/user_data.h"
#include "frontend/user_data_internal.h"
#include "frontend/utf8_check.h"
#include "ir/arena.h"
#include "ir/file_read.h"

/* ---- small helpers ------------------------------------------------------ */

static char *arena_strndup(ir_arena *a, const char *s, size_t n)
{
    char *p = ir_arena_alloc(a, n + 1); /* zeroed: already terminated */
    if (p)
        memcpy(p, s, n);
    return p;
}

/* ---- one row: the fields a reader found, checked and kept --------------- */

/* What a reader hands over for one row: the three columns' bytes (NULL:
 * the row has no such field), and a label that is a JSON number. */
typedef struct user_row {
    const char *f[3];     /* text, pair, label */
    size_t len[3];
    bool label_is_num;    /* JSON number: num/is_int below */
    double num;
    bool num_is_int;
    int64_t ival;
} user_row;

enum { COL_TEXT, COL_PAIR, COL_LABEL };

/* Reading state shared by the readers: the task, the dataset being
 * filled, and the one rule for a bad row. */
typedef struct reader {
    const glue_task *t;
    glue_split split;
    const char *path;
    const glue_load_opts *o;
    glue_dataset *ds;
    size_t cap;
    bool want_label;      /* the file has labels to read */
    bool collect;         /* gathering train's label set, not mapping it */
    char **seen;          /* collect: the distinct labels so far */
    size_t n_seen, cap_seen;
    bool done;            /* the limit was reached */
} reader;

/* A bad row: fails the read with file:line, or is counted and skipped. */
static ir_status row_bad(reader *r, size_t line, const ir_diag *why,
                         ir_diag *d)
{
    glue_dataset *ds = r->ds;
    if (!r->o->skip_bad_lines)
        return ir_diag_set(d, IR_ERR_INPUT, "%s:%zu: %s%s", r->path, line,
                           why->msg,
                           r->o->offer_skip ? " (malformed lines can be "
                                              "skipped with --skip-bad-lines)"
                                            : "");
    if (ds->n_skipped < GLUE_SKIP_REPORT)
        ds->skipped_lines[ds->n_skipped] = line;
    if (ds->n_skipped == 0)
        snprintf(ds->first_skip_reason, sizeof ds->first_skip_reason, "%s",
                 why->msg);
    ds->n_skipped++;
    return IR_OK;
}

static const char *col_name(const glue_task *t, int k)
{
    return k == COL_TEXT ? t->col_a : k == COL_PAIR ? t->col_b : t->col_label;
}

/* The label's spelling as the label set holds it: a string as it is, a
 * JSON integer in decimal. */
static ir_status label_text(const glue_task *t, const user_row *u, char *num,
                            size_t n_num, const char **s, size_t *len,
                            ir_diag *why)
{
    if (u->label_is_num) {
        if (!u->num_is_int)
            return ir_diag_set(why, IR_ERR_INPUT, "label %g in '%s' is a "
                               "number but not an integer (a class label is a "
                               "string or an integer; a value to predict "
                               "needs --regression)", u->num, t->col_label);
        snprintf(num, n_num, "%lld", (long long)u->ival);
        *s = num;
        *len = strlen(num);
        return IR_OK;
    }
    *s = u->f[COL_LABEL];
    *len = u->len[COL_LABEL];
    return IR_OK;
}

/* A regression value: a JSON number, or text that is one whole. */
static ir_status label_score(const glue_task *t, const user_row *u,
                             double *v, ir_diag *why)
{
    if (u->label_is_num) {
        *v = u->num;
        return IR_OK;
    }
    const char *s = u->f[COL_LABEL];
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (u->len[COL_LABEL] == 0 || isspace((unsigned char)s[0]) ||
        end != s + u->len[COL_LABEL] || errno == ERANGE || !isfinite(*v))
        return ir_diag_set(why, IR_ERR_INPUT, "'%s' value '%.40s' is not a "
                           "finite number (--regression)", t->col_label, s);
    return IR_OK;
}

static int label_index(const glue_task *t, const char *s)
{
    for (int k = 0; k < t->n_labels; k++)
        if (strcmp(t->label_names[k], s) == 0)
            return k;
    return -1;
}

/* The set's names for a message: "'a', 'b', 'c'" (cut when long). */
static void label_list(const glue_task *t, char *buf, size_t n)
{
    buf[0] = '\0';
    for (int k = 0; k < t->n_labels; k++) {
        size_t used = strlen(buf);
        if (used + 48 >= n) {
            snprintf(buf + used, n - used, ", ...");
            return;
        }
        snprintf(buf + used, n - used, "%s'%.40s'", k ? ", " : "",
                 t->label_names[k]);
    }
}

static ir_status seen_add(reader *r, const char *s, size_t len, ir_diag *why)
{
    for (size_t i = 0; i < r->n_seen; i++)
        if (strlen(r->seen[i]) == len && memcmp(r->seen[i], s, len) == 0)
            return IR_OK;
    if (r->n_seen == USER_MAX_LABELS)
        return ir_diag_set(why, IR_ERR_INPUT, "more than %d distinct labels "
                           "in '%s' (is it the right column? a value to "
                           "predict needs --regression)", USER_MAX_LABELS,
                           r->t->col_label);
    if (r->n_seen == r->cap_seen) {
        size_t nc = r->cap_seen ? r->cap_seen * 2 : 16;
        char **g = realloc(r->seen, nc * sizeof *g);
        if (!g)
            return ir_diag_set(why, IR_ERR_NOMEM, "out of memory");
        r->seen = g;
        r->cap_seen = nc;
    }
    char *c = malloc(len + 1);
    if (!c)
        return ir_diag_set(why, IR_ERR_NOMEM, "out of memory");
    memcpy(c, s, len);
    c[len] = '\0';
    r->seen[r->n_seen++] = c;
    return IR_OK;
}

/* Checks one row and keeps it (or its label, when collecting). Returns
 * IR_ERR_INPUT with the reason in why for a bad row, IR_ERR_NOMEM. */
static ir_status row_check(reader *r, const user_row *u, size_t line,
                           glue_example *ex, ir_diag *why)
{
    const glue_task *t = r->t;
    int last = r->want_label ? COL_LABEL : COL_PAIR;
    for (int k = COL_TEXT; k <= last; k++) {
        if (k == COL_PAIR && !t->col_b)
            continue;
        if (k == COL_LABEL && u->label_is_num)
            continue;
        if (!u->f[k])
            return ir_diag_set(why, IR_ERR_INPUT, "no '%s' field",
                               col_name(t, k));
        if (memchr(u->f[k], '\0', u->len[k]))
            return ir_diag_set(why, IR_ERR_INPUT, "'%s' contains a NUL byte",
                               col_name(t, k));
        size_t bad = utf8_check((const unsigned char *)u->f[k], u->len[k]);
        if (bad != u->len[k])
            return ir_diag_set(why, IR_ERR_INPUT, "'%s' is not valid UTF-8 "
                               "(byte %zu of the field)", col_name(t, k),
                               bad + 1);
        if (u->len[k] == 0)
            return ir_diag_set(why, IR_ERR_INPUT, "empty %s in '%s'",
                               k == COL_LABEL ? "label" : "text",
                               col_name(t, k));
    }
    *ex = (glue_example){.label = -1, .score = NAN, .line = line,
                         .has_label = r->want_label};
    if (r->want_label && t->is_regression) {
        ir_status s = label_score(t, u, &ex->score, why);
        if (s != IR_OK || r->collect)
            return s;
    } else if (r->want_label) {
        char num[32];
        const char *s = NULL;
        size_t len = 0;
        ir_status st = label_text(t, u, num, sizeof num, &s, &len, why);
        if (st != IR_OK)
            return st;
        if (r->collect)
            return seen_add(r, s, len, why);
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < 200 ? len : 200), s);
        if (len >= 200 || (ex->label = label_index(t, buf)) < 0) {
            char list[200];
            label_list(t, list, sizeof list);
            return ir_diag_set(why, IR_ERR_INPUT, "label '%.40s' is not one "
                               "of %s (%s)", buf,
                               ((const user_task *)t)->labels_given
                                   ? "the model's labels"
                                   : "train's labels",
                               list);
        }
    }
    if (r->collect)
        return IR_OK;
    ex->text_a = arena_strndup(r->ds->arena_, u->f[COL_TEXT], u->len[COL_TEXT]);
    if (t->col_b)
        ex->text_b = arena_strndup(r->ds->arena_, u->f[COL_PAIR],
                                   u->len[COL_PAIR]);
    if (!ex->text_a || (t->col_b && !ex->text_b))
        return ir_diag_set(why, IR_ERR_NOMEM, "out of memory");
    return IR_OK;
}

/* One row through the check, then kept, skipped or failed. */
static ir_status row_take(reader *r, const user_row *u, size_t line,
                          ir_diag *d)
{
    ir_diag why;
    ir_diag_init(&why);
    glue_example ex;
    ir_status s = row_check(r, u, line, &ex, &why);
    if (s == IR_ERR_NOMEM)
        return ir_diag_set(d, s, "%s:%zu: out of memory", r->path, line);
    if (s != IR_OK)
        return row_bad(r, line, &why, d);
    if (r->collect)
        return IR_OK;
    glue_dataset *ds = r->ds;
    if (ds->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 1024;
        glue_example *e = realloc(ds->examples, nc * sizeof *e);
        if (!e)
            return ir_diag_set(d, IR_ERR_NOMEM, "%s:%zu: out of memory",
                               r->path, line);
        ds->examples = e;
        r->cap = nc;
    }
    ds->examples[ds->n++] = ex;
    if (r->o->limit && ds->n >= r->o->limit)
        r->done = true;
    return IR_OK;
}

/* ---- CSV and TSV ---------------------------------------------------------*/

/* A row's fields as offsets into a scratch buffer (quoted fields are
 * unescaped into it), each NUL-terminated there. */
typedef struct fields {
    char *buf;
    size_t len, cap;
    size_t *start, *flen;
    size_t n, cap_f;
} fields;

static bool fields_put(fields *f, const char *s, size_t n)
{
    if (f->len + n + 1 > f->cap) {
        size_t nc = f->cap ? f->cap : 256;
        while (nc < f->len + n + 1)
            nc *= 2;
        char *b = realloc(f->buf, nc);
        if (!b)
            return false;
        f->buf = b;
        f->cap = nc;
    }
    memcpy(f->buf + f->len, s, n);
    f->len += n;
    return true;
}

static bool fields_begin(fields *f)
{
    if (f->n == f->cap_f) {
        size_t nc = f->cap_f ? f->cap_f * 2 : 16;
        size_t *s = realloc(f->start, nc * sizeof *s);
        if (!s)
            return false;
        f->start = s;
        size_t *l = realloc(f->flen, nc * sizeof *l);
        if (!l)
            return false;
        f->flen = l;
        f->cap_f = nc;
    }
    f->start[f->n] = f->len;
    f->flen[f->n] = 0;
    f->n++;
    return true;
}

static bool fields_end(fields *f)
{
    f->flen[f->n - 1] = f->len - f->start[f->n - 1];
    return fields_put(f, "", 1); /* the NUL */
}

static void fields_free(fields *f)
{
    free(f->buf);
    free(f->start);
    free(f->flen);
}

/* Cuts the record at text[*pos] into f. Line ends: "\n" or "\r\n"; *line
 * advances over every one consumed, inside quotes too. Returns IR_OK, or
 * IR_ERR_INPUT with the reason in why (bad quoting) after moving *pos past
 * the bad record; IR_ERR_NOMEM. */
static ir_status record_read(const char *text, size_t len, size_t *pos,
                             size_t *line, char sep, bool quoting, fields *f,
                             ir_diag *why)
{
    size_t p = *pos;
    f->len = f->n = 0;
    for (;;) {
        if (!fields_begin(f))
            return IR_ERR_NOMEM;
        if (quoting && p < len && text[p] == '"') {
            size_t open_line = *line;
            p++;
            for (;;) {
                if (p >= len) {
                    *pos = p;
                    return ir_diag_set(why, IR_ERR_INPUT, "bad quoting: the "
                                       "quoted field opened on line %zu is "
                                       "never closed", open_line);
                }
                char c = text[p];
                if (c == '"' && p + 1 < len && text[p + 1] == '"') {
                    if (!fields_put(f, "\"", 1))
                        return IR_ERR_NOMEM;
                    p += 2;
                } else if (c == '"') {
                    p++;
                    break;
                } else {
                    if (c == '\n')
                        (*line)++;
                    if (!fields_put(f, &c, 1))
                        return IR_ERR_NOMEM;
                    p++;
                }
            }
            bool ok = p >= len || text[p] == sep || text[p] == '\n' ||
                      (text[p] == '\r' && p + 1 < len && text[p + 1] == '\n');
            if (!ok) {
                char c = text[p];
                while (p < len && text[p] != '\n') /* to the line's end */
                    p++;
                if (p < len) {
                    p++;
                    (*line)++;
                }
                *pos = p;
                return ir_diag_set(why, IR_ERR_INPUT, "bad quoting: '%c' "
                                   "after a closing quote (a quote inside a "
                                   "quoted field is written \"\")",
                                   isprint((unsigned char)c) ? c : '?');
            }
        } else {
            size_t s = p;
            while (p < len && text[p] != sep && text[p] != '\n' &&
                   !(text[p] == '\r' && p + 1 < len && text[p + 1] == '\n'))
                p++;
            if (!fields_put(f, text + s, p - s))
                return IR_ERR_NOMEM;
        }
        if (!fields_end(f))
            return IR_ERR_NOMEM;
        if (p < len && text[p] == sep) {
            p++;
            continue;
        }
        if (p < len && text[p] == '\r')
            p++;
        if (p < len && text[p] == '\n') {
            p++;
            (*line)++;
        }
        *pos = p;
        return IR_OK;
    }
}

/* The header's column of name, or -1. */
static long header_find(const fields *h, const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->buf + h->start[i], name) == 0)
            return (long)i;
    return -1;
}

/* "'a', 'b', 'c'" of the header, for a message. */
static void header_list(const fields *h, char *buf, size_t n)
{
    buf[0] = '\0';
    for (size_t i = 0; i < h->n; i++) {
        size_t used = strlen(buf);
        if (used + 48 >= n) {
            snprintf(buf + used, n - used, ", ...");
            return;
        }
        snprintf(buf + used, n - used, "%s'%.40s'", i ? ", " : "",
                 h->buf + h->start[i]);
    }
}

static ir_status table_read(reader *r, const char *text, size_t len,
                            ir_diag *d)
{
    const glue_task *t = r->t;
    char sep = r->t->formats[r->split] == GLUE_FORMAT_CSV ? ',' : '\t';
    bool quoting = sep == ',';
    fields h = {0}, f = {0};
    size_t pos = 0, line = 1;
    long col[3] = {-1, -1, -1};
    bool have_header = false;
    ir_status st = IR_OK;
    while (pos < len && !r->done) {
        size_t at = line;
        ir_diag why;
        ir_diag_init(&why);
        fields *into = have_header ? &f : &h;
        st = record_read(text, len, &pos, &line, sep, quoting, into, &why);
        if (st == IR_ERR_NOMEM) {
            st = ir_diag_set(d, st, "%s:%zu: out of memory", r->path, at);
            break;
        }
        if (st == IR_OK && into->n == 1 && into->flen[0] == 0)
            continue; /* a blank line */
        if (!have_header) {
            if (st != IR_OK) {
                st = ir_diag_set(d, st, "%s:%zu: header: %s", r->path, at,
                                 why.msg);
                break;
            }
            for (size_t i = 0; i < h.n && st == IR_OK; i++)
                if (memchr(h.buf + h.start[i], '\0', h.flen[i]) ||
                    utf8_check((const unsigned char *)h.buf + h.start[i],
                               h.flen[i]) != h.flen[i])
                    st = ir_diag_set(d, IR_ERR_INPUT, "%s:%zu: header column "
                                     "%zu is not valid UTF-8 text", r->path,
                                     at, i + 1);
            if (st != IR_OK)
                break;
            col[COL_TEXT] = header_find(&h, t->col_a);
            col[COL_PAIR] = header_find(&h, t->col_b);
            col[COL_LABEL] = header_find(&h, t->col_label);
            const char *missing =
                col[COL_TEXT] < 0                 ? t->col_a
                : t->col_b && col[COL_PAIR] < 0   ? t->col_b
                : col[COL_LABEL] < 0 && r->split != GLUE_SPLIT_TEST
                    ? t->col_label
                    : NULL;
            if (missing) {
                char list[256];
                header_list(&h, list, sizeof list);
                st = ir_diag_set(d, IR_ERR_INPUT, "%s:%zu: no column '%s' "
                                 "in the header (it has %s; name the "
                                 "columns with --text-column, "
                                 "--text-pair-column, --label-column)",
                                 r->path, at, missing, list);
                break;
            }
            r->want_label = col[COL_LABEL] >= 0;
            r->ds->has_labels = r->want_label;
            have_header = true;
            continue;
        }
        if (st != IR_OK) {
            st = row_bad(r, at, &why, d);
            if (st != IR_OK)
                break;
            continue;
        }
        if (f.n != h.n) {
            ir_diag_set(&why, IR_ERR_INPUT, "%zu fields, but the header has "
                        "%zu columns%s", f.n, h.n,
                        quoting ? " (a field holding ',' or a line break "
                                  "must be in double quotes)"
                                : " (TSV has no quoting: a tab or line "
                                  "break inside a text breaks the row)");
            if ((st = row_bad(r, at, &why, d)) != IR_OK)
                break;
            continue;
        }
        user_row u = {0};
        for (int k = 0; k < 3; k++)
            if (col[k] >= 0) {
                u.f[k] = f.buf + f.start[col[k]];
                u.len[k] = f.flen[col[k]];
            }
        if ((st = row_take(r, &u, at, d)) != IR_OK)
            break;
    }
    if (st == IR_OK && !have_header)
        st = ir_diag_set(d, IR_ERR_INPUT, "%s: empty file (expected a header "
                         "line naming the columns)", r->path);
    fields_free(&h);
    fields_free(&f);
    return st;
}

/* ---- JSON lines ----------------------------------------------------------*/

/* The member of obj named name as a row field: a string, or for the label
 * a number. */
static ir_status json_field(const json_value *obj, const char *name, int k,
                            user_row *u, ir_diag *why)
{
    const json_value *v = json_get(obj, name);
    if (!v)
        return IR_OK; /* row_check names the missing field */
    if (v->type == JSON_STRING) {
        u->f[k] = v->u.str;
        u->len[k] = v->len;
        return IR_OK;
    }
    if (k == COL_LABEL && v->type == JSON_NUMBER) {
        u->label_is_num = true;
        u->num = v->u.num;
        u->num_is_int = v->is_int;
        u->ival = v->ival;
        return IR_OK;
    }
    return ir_diag_set(why, IR_ERR_INPUT, "'%s' is %s %s, expected a string%s",
                       name, v->type == JSON_ARRAY || v->type == JSON_OBJECT
                                 ? "an" : "a",
                       json_type_name(v->type),
                       k == COL_LABEL ? " or a number" : "");
}

static ir_status jsonl_line(reader *r, const char *s, size_t n, size_t line,
                            ir_diag *d)
{
    const glue_task *t = r->t;
    ir_diag why;
    ir_diag_init(&why);
    json_doc doc = {0};
    user_row u = {0};
    ir_status st = json_parse(s, n, "", &doc, &why);
    if (st == IR_ERR_NOMEM) {
        json_doc_free(&doc);
        return ir_diag_set(d, st, "%s:%zu: out of memory", r->path, line);
    }
    if (st != IR_OK) {
        /* "::1:COL: msg" from the parser: keep the column and the why */
        const char *m = why.msg;
        size_t col = 0;
        if (sscanf(m, ":%*u:%zu:", &col) == 1) {
            const char *rest = strstr(m + 1, ": ");
            char keep[200];
            snprintf(keep, sizeof keep, "%s", rest ? rest + 2 : m);
            ir_diag_set(&why, IR_ERR_INPUT, "not a JSON object (column %zu: "
                        "%s)", col, keep);
        }
    } else if (doc.root->type != JSON_OBJECT) {
        st = ir_diag_set(&why, IR_ERR_INPUT, "expected a JSON object, found "
                         "%s", json_type_name(doc.root->type));
    } else {
        st = json_field(doc.root, t->col_a, COL_TEXT, &u, &why);
        if (st == IR_OK && t->col_b)
            st = json_field(doc.root, t->col_b, COL_PAIR, &u, &why);
        if (st == IR_OK && r->want_label)
            st = json_field(doc.root, t->col_label, COL_LABEL, &u, &why);
    }
    if (st == IR_OK)
        st = row_take(r, &u, line, d);
    else
        st = row_bad(r, line, &why, d);
    json_doc_free(&doc);
    return st;
}

static ir_status jsonl_read(reader *r, const char *text, size_t len,
                            ir_diag *d)
{
    size_t pos = 0, line = 0;
    bool first = true;
    /* labels: the test split reads them when its first object has them */
    r->want_label = r->split != GLUE_SPLIT_TEST;
    ir_status st = IR_OK;
    while (pos < len && !r->done && st == IR_OK) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
        const char *s = text + pos;
        pos = nl ? end + 1 : len;
        line++;
        if (n && s[n - 1] == '\r')
            n--;
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
            k++;
        if (k == n)
            continue; /* blank */
        if (first && r->split == GLUE_SPLIT_TEST) {
            json_doc doc = {0};
            ir_diag ignore;
            ir_diag_init(&ignore);
            if (json_parse(s, n, "", &doc, &ignore) == IR_OK &&
                doc.root->type == JSON_OBJECT)
                r->want_label = json_get(doc.root, r->t->col_label) != NULL;
            json_doc_free(&doc);
        }
        if (first && s[k] == '[') {
            st = ir_diag_set(d, IR_ERR_INPUT, "%s:%zu: a JSON array: write "
                             "one object per line (JSON lines), not an "
                             "array of them", r->path, line);
            break;
        }
        first = false;
        st = jsonl_line(r, s, n, line, d);
    }
    r->ds->has_labels = r->want_label;
    return st;
}

/* ---- a split ------------------------------------------------------------- */

static ir_status read_text(reader *r, const char *text, size_t len,
                           ir_diag *d)
{
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3, len -= 3;
    glue_format fmt = r->t->formats[r->split];
    ir_status st = fmt == GLUE_FORMAT_JSONL ? jsonl_read(r, text, len, d)
                                            : table_read(r, text, len, d);
    glue_dataset *ds = r->ds;
    if (st != IR_OK || r->collect)
        return st;
    if (ds->n == 0 && ds->n_skipped)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: no examples: all %zu rows "
                           "are malformed (line %zu: %s)", r->path,
                           ds->n_skipped, ds->skipped_lines[0],
                           ds->first_skip_reason);
    if (ds->n == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: no examples: a split needs "
                           "at least one", r->path);
    return IR_OK;
}

ir_status user_data_parse(const glue_task *t, glue_split split,
                          const char *path, const char *text, size_t len,
                          const glue_load_opts *opts, glue_dataset *out,
                          ir_diag *d)
{
    static const glue_load_opts strict = {false, 0, false};
    memset(out, 0, sizeof *out);
    if (!t || !t->user || (unsigned)split >= GLUE_SPLIT_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "user_data_parse: not a user "
                           "task or split");
    out->task = t;
    out->split = split;
    snprintf(out->path, sizeof out->path, "%s", path);
    out->arena_ = ir_arena_new();
    if (!out->arena_)
        return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", path);
    reader r = {.t = t, .split = split, .path = out->path,
                .o = opts ? opts : &strict, .ds = out};
    ir_status st = read_text(&r, text, len, d);
    if (st != IR_OK) {
        glue_dataset_free(out);
        out->task = t;
        out->split = split;
        snprintf(out->path, sizeof out->path, "%s", path);
    }
    return st;
}

ir_status user_split_read(const glue_task *t, glue_split split, char **text,
                          size_t *len, ir_diag *d)
{
    const char *path = t->files[split];
    if (!path)
        return ir_diag_set(d, IR_ERR_INPUT, "no %s file: give --%s FILE, or "
                           "a --data folder holding %s.csv, %s.tsv or "
                           "%s.jsonl", glue_split_name(split),
                           glue_split_name(split), glue_split_name(split),
                           glue_split_name(split), glue_split_name(split));
    char what[32];
    snprintf(what, sizeof what, "%s split", glue_split_name(split));
    return ir_file_read_all(path, what, (int64_t)USER_MAX_FILE_MB << 20, text,
                            len, d);
}

ir_status user_data_load(const glue_task *t, glue_split split,
                         const glue_load_opts *o, glue_dataset *out,
                         ir_diag *d)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    ir_status st = user_split_read(t, split, &text, &len, d);
    if (st == IR_OK)
        st = user_data_parse(t, split, t->files[split], text, len, o, out, d);
    free(text);
    return st;
}

ir_status user_labels_collect(const glue_task *t, bool skip, bool offer_skip,
                              char ***labels, size_t *n, ir_diag *d)
{
    *labels = NULL;
    *n = 0;
    glue_load_opts o = {.skip_bad_lines = skip, .offer_skip = offer_skip};
    glue_dataset scratch = {0};
    char *text = NULL;
    size_t len = 0;
    ir_status st = user_split_read(t, GLUE_SPLIT_TRAIN, &text, &len, d);
    if (st != IR_OK)
        return st;
    scratch.arena_ = ir_arena_new();
    reader r = {.t = t, .split = GLUE_SPLIT_TRAIN,
                .path = t->files[GLUE_SPLIT_TRAIN], .o = &o, .ds = &scratch,
                .collect = true};
    st = scratch.arena_ ? read_text(&r, text, len, d)
                        : ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    free(text);
    glue_dataset_free(&scratch);
    if (st != IR_OK) {
        task_labels_free(r.seen, r.n_seen);
        return st;
    }
    *labels = r.seen;
    *n = r.n_seen;
    return IR_OK;
}

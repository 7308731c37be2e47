/* test_user_data.c — the user's own data (frontend/user_data.h): CSV with
 * RFC 4180 quoting (separators, "" and line breaks inside quotes, a BOM,
 * CRLF), TSV with a header, JSON lines with string and number labels; the
 * label set sorted from train (by bytes, numerically for integers) and
 * independent of row order; the task built from a folder or --train/--dev
 * files; every bad row's file:line message, with and without skipping;
 * the labels' metadata round trip; per-class metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/metrics.h"
#include "frontend/user_data.h"
#include "testutil.h"

static char g_tmp[512];

/* Writes text to TMP/rel (making one folder level); returns the path. */
static const char *put(const char *rel, const char *text)
{
    static char path[8][1024];
    static int k;
    char *p = path[k++ % 8];
    const char *slash = strchr(rel, '/');
    if (slash) {
        snprintf(p, 1024, "%s/%.*s", g_tmp, (int)(slash - rel), rel);
        mkdir(p, 0700);
    }
    snprintf(p, 1024, "%s/%s", g_tmp, rel);
    FILE *f = fopen(p, "wb");
    CHECK_MSG(f != NULL, "cannot write %s", p);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

/* A task over train/dev files with columns text, [pair,] label. */
static ir_status open_task(const char *train, const char *dev,
                           const char *pair, bool regression, bool skip,
                           glue_task **t, ir_diag *d)
{
    user_data_spec s = {.train = train, .dev = dev, .text_column = "text",
                        .text_pair_column = pair, .label_column = "label",
                        .regression = regression, .metric = -1,
                        .skip_bad_lines = skip};
    ir_diag_init(d);
    return user_task_open(&s, t, d);
}

/* The message of loading split from t: "" when it loads. */
static const char *load_msg(const glue_task *t, glue_split split, bool skip,
                            glue_dataset *ds, ir_diag *d)
{
    glue_load_opts o = {.skip_bad_lines = skip};
    ir_diag_init(d);
    if (glue_load(t, NULL, split, &o, ds, d) == IR_OK)
        return "";
    return d->msg;
}

static void test_csv(void)
{
    /* a BOM, CRLF, quoted separators, "" and a line break inside quotes,
     * a blank line, an extra column, labels in an order that sorts */
    const char *tr = put("csv/train.csv",
                         "\xEF\xBB\xBFid,text,label\r\n"
                         "1,\"a, b\",pos\r\n"
                         "2,\"she said \"\"hi\"\"\",neg\r\n"
                         "\r\n"
                         "3,\"two\nlines\",neutral\r\n"
                         "4,5\" screen,pos\r\n");
    const char *dv = put("csv/dev.csv", "text,label,id\n"
                                        "x,neg,1\n"
                                        "y,pos,2");
    glue_task *t = NULL;
    ir_diag d;
    CHECK_MSG(open_task(tr, dv, NULL, false, false, &t, &d) == IR_OK, "%s",
              d.msg);
    if (!t)
        return;
    /* sorted by bytes, whatever the rows' order */
    CHECK(t->n_labels == 3 && strcmp(t->label_names[0], "neg") == 0 &&
          strcmp(t->label_names[1], "neutral") == 0 &&
          strcmp(t->label_names[2], "pos") == 0);
    CHECK(t->metric == METRIC_KIND_ACC && !t->is_pair && !t->is_regression);
    glue_dataset ds;
    CHECK_MSG(!*load_msg(t, GLUE_SPLIT_TRAIN, false, &ds, &d), "%s", d.msg);
    CHECK(ds.n == 4 && ds.has_labels);
    if (ds.n == 4) {
        CHECK(strcmp(ds.examples[0].text_a, "a, b") == 0);
        CHECK(ds.examples[0].label == 2 && ds.examples[0].line == 2);
        CHECK(strcmp(ds.examples[1].text_a, "she said \"hi\"") == 0);
        CHECK(ds.examples[1].label == 0);
        CHECK(strcmp(ds.examples[2].text_a, "two\nlines") == 0);
        CHECK_MSG(ds.examples[2].line == 5, "line %zu", ds.examples[2].line);
        CHECK(ds.examples[3].line == 7); /* after the quoted line break */
        CHECK(strcmp(ds.examples[3].text_a, "5\" screen") == 0);
    }
    glue_dataset_free(&ds);
    CHECK_MSG(!*load_msg(t, GLUE_SPLIT_DEV, false, &ds, &d), "%s", d.msg);
    CHECK(ds.n == 2 && ds.examples[1].label == 2 &&
          strcmp(ds.examples[1].text_a, "y") == 0);
    glue_dataset_free(&ds);
    user_task_free(t);
}

static void test_tsv_and_folder(void)
{
    put("tsvdir/train.tsv", "label\ttext\tpair\n1\ta \"q\"\tb\n0\tc\td\n"
                            "10\te\tf\n2\tg\th\n");
    put("tsvdir/dev.tsv", "label\ttext\tpair\n10\tx\ty\n");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tsvdir", g_tmp);
    user_data_spec s = {.data = dir, .text_pair_column = "pair", .metric = -1};
    glue_task *t = NULL;
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(user_task_open(&s, &t, &d) == IR_OK, "%s", d.msg);
    if (!t)
        return;
    /* integers sort numerically: 0 1 2 10, not 0 1 10 2 */
    CHECK(t->n_labels == 4 && strcmp(t->label_names[2], "2") == 0 &&
          strcmp(t->label_names[3], "10") == 0);
    CHECK(t->is_pair && strcmp(t->name, "tsvdir") == 0);
    CHECK(t->formats[GLUE_SPLIT_TRAIN] == GLUE_FORMAT_TSV);
    glue_dataset ds;
    CHECK_MSG(!*load_msg(t, GLUE_SPLIT_TRAIN, false, &ds, &d), "%s", d.msg);
    CHECK(ds.n == 4 && strcmp(ds.examples[0].text_a, "a \"q\"") == 0 &&
          strcmp(ds.examples[0].text_b, "b") == 0 &&
          ds.examples[0].label == 1 && ds.examples[2].label == 3);
    glue_dataset_free(&ds);
    user_task_free(t);

    /* two train files in one folder: which one is meant? */
    put("tsvdir/train.csv", "text,label\na,1\n");
    ir_diag_init(&d);
    CHECK(user_task_open(&s, &t, &d) == IR_ERR_INPUT && !t);
    CHECK_MSG(strstr(d.msg, "train.tsv") && strstr(d.msg, "train.csv"), "%s",
              d.msg);
}

static void test_jsonl(void)
{
    /* number and string labels are the same label; a pair column; a
     * blank line; unknown members are ignored */
    const char *tr = put("j/train.jsonl",
                         "{\"text\": \"a\", \"p\": \"b\", \"label\": 1}\n"
                         "\n"
                         "{\"label\": \"0\", \"text\": \"c \\u00e9\", \"p\": "
                         "\"d\", \"id\": [1]}\r\n"
                         "{\"text\": \"e\", \"p\": \"f\", \"label\": \"1\"}");
    const char *dv = put("j/dev.json", "{\"text\":\"x\",\"p\":\"y\",\"label\":0}\n");
    glue_task *t = NULL;
    ir_diag d;
    CHECK_MSG(open_task(tr, dv, "p", false, false, &t, &d) == IR_OK, "%s",
              d.msg);
    if (!t)
        return;
    CHECK(t->n_labels == 2 && strcmp(t->label_names[0], "0") == 0);
    CHECK(t->formats[GLUE_SPLIT_DEV] == GLUE_FORMAT_JSONL);
    glue_dataset ds;
    CHECK_MSG(!*load_msg(t, GLUE_SPLIT_TRAIN, false, &ds, &d), "%s", d.msg);
    CHECK(ds.n == 3 && ds.examples[1].line == 3 &&
          strcmp(ds.examples[1].text_a, "c \xC3\xA9") == 0 &&
          ds.examples[1].label == 0 && ds.examples[2].label == 1);
    glue_dataset_free(&ds);
    user_task_free(t);

    /* regression: numbers, and strings holding one */
    tr = put("j/reg.jsonl", "{\"text\":\"a\",\"label\":0.5}\n"
                            "{\"text\":\"b\",\"label\":\"-2e3\"}\n");
    CHECK_MSG(open_task(tr, tr, NULL, true, false, &t, &d) == IR_OK, "%s",
              d.msg);
    if (!t)
        return;
    CHECK(t->is_regression && t->metric == METRIC_KIND_CORR && !t->label_names);
    CHECK_MSG(!*load_msg(t, GLUE_SPLIT_DEV, false, &ds, &d), "%s", d.msg);
    CHECK(ds.n == 2 && ds.examples[0].score == 0.5 &&
          ds.examples[1].score == -2000.0);
    glue_dataset_free(&ds);
    user_task_free(t);
}

/* The label set does not depend on the order of train's rows. */
static void test_label_order(void)
{
    const char *a = put("o/a.csv", "text,label\nx,b\nx,B\nx,a\nx,\xC3\xA9\n"
                                   "x,-1\n");
    const char *b = put("o/b.csv", "text,label\nx,-1\nx,\xC3\xA9\nx,a\nx,b\n"
                                   "x,B\nx,a\n");
    glue_task *ta = NULL, *tb = NULL;
    ir_diag d;
    CHECK_MSG(open_task(a, a, NULL, false, false, &ta, &d) == IR_OK, "%s",
              d.msg);
    CHECK_MSG(open_task(b, b, NULL, false, false, &tb, &d) == IR_OK, "%s",
              d.msg);
    if (ta && tb) {
        static const char *const want[] = {"-1", "B", "a", "b", "\xC3\xA9"};
        CHECK(ta->n_labels == 5 && tb->n_labels == 5);
        for (int k = 0; k < 5 && ta->n_labels == 5 && tb->n_labels == 5; k++)
            CHECK_MSG(strcmp(ta->label_names[k], want[k]) == 0 &&
                          strcmp(tb->label_names[k], want[k]) == 0,
                      "label %d: %s / %s", k, ta->label_names[k],
                      tb->label_names[k]);
    }
    user_task_free(ta);
    user_task_free(tb);
    /* mixed integers and negatives: numeric */
    a = put("o/n.csv", "text,label\nx,3\nx,-7\nx,20\n");
    CHECK(open_task(a, a, NULL, false, false, &ta, &d) == IR_OK);
    if (ta)
        CHECK(strcmp(ta->label_names[0], "-7") == 0 &&
              strcmp(ta->label_names[2], "20") == 0);
    user_task_free(ta);
}

/* One bad row: the train file is good, dev holds the bad row; the message
 * must name FILE:LINE and contain why. */
static void bad_row(const char *name, const char *dev_text, const char *why,
                    size_t line, const char *pair, bool regression)
{
    const char *ext = strrchr(name, '.');
    char rel[128];
    snprintf(rel, sizeof rel, "bad/train%s", ext);
    const char *tr =
        strcmp(ext, ".jsonl") == 0
            ? put(rel, "{\"text\":\"a\",\"pair\":\"b\",\"label\":\"pos\"}\n"
                       "{\"text\":\"c\",\"pair\":\"d\",\"label\":\"neg\"}\n")
        : strcmp(ext, ".tsv") == 0
            ? put(rel, "text\tpair\tlabel\na\tb\tpos\nc\td\tneg\n")
            : put(rel, "text,pair,label\na,b,pos\nc,d,neg\n");
    if (regression)
        tr = put(rel, strcmp(ext, ".jsonl") == 0
                          ? "{\"text\":\"a\",\"pair\":\"b\",\"label\":1}\n"
                          : strcmp(ext, ".tsv") == 0
                                ? "text\tpair\tlabel\na\tb\t1\n"
                                : "text,pair,label\na,b,1\n");
    snprintf(rel, sizeof rel, "bad/%s", name);
    const char *dv = put(rel, dev_text);
    glue_task *t = NULL;
    ir_diag d;
    if (open_task(tr, dv, pair, regression, false, &t, &d) != IR_OK) {
        CHECK_MSG(false, "%s: task: %s", name, d.msg);
        return;
    }
    glue_dataset ds;
    char want[1200];
    snprintf(want, sizeof want, "%s:%zu: ", dv, line);
    const char *msg = load_msg(t, GLUE_SPLIT_DEV, false, &ds, &d);
    CHECK_MSG(d.status == IR_ERR_INPUT && strstr(msg, want) &&
                  strstr(msg, why),
              "%s: want '%s...%s', got '%s'", name, want, why, msg);
    glue_dataset_free(&ds);
    /* skipped, when there is a good row to keep */
    msg = load_msg(t, GLUE_SPLIT_DEV, true, &ds, &d);
    if (!*msg)
        CHECK_MSG(ds.n_skipped == 1 && ds.skipped_lines[0] == line &&
                      strstr(ds.first_skip_reason, why),
                  "%s: skipped %zu (line %zu: %s)", name, ds.n_skipped,
                  ds.skipped_lines[0], ds.first_skip_reason);
    else
        CHECK_MSG(strstr(msg, "no examples") || strstr(msg, why),
                  "%s: skipping: %s", name, msg);
    glue_dataset_free(&ds);
    user_task_free(t);
}

static void test_errors(void)
{
    bad_row("a.csv", "text,pair,label\na,b,pos\nc,d\n", "2 fields, but the "
            "header has 3 columns", 3, "pair", false);
    bad_row("b.csv", "text,pair,label\na,b,pos\n\"c\"x,d,neg\n",
            "bad quoting", 3, "pair", false);
    bad_row("c.csv", "text,pair,label\na,b,pos\nc,d,neg\n\"never closed,d,neg\n",
            "never closed", 4, "pair", false);
    bad_row("d.csv", "text,pair,label\na,b,pos\n\xC3\x28,d,neg\n",
            "not valid UTF-8", 3, "pair", false);
    bad_row("e.csv", "text,pair,label\na,b,pos\n,d,neg\n", "empty text", 3,
            "pair", false);
    bad_row("f.csv", "text,pair,label\na,b,pos\nc,d,maybe\n",
            "label 'maybe' is not one of train's labels ('neg', 'pos')", 3,
            "pair", false);
    bad_row("g.csv", "text,pair,label\na,b,1\nc,d,high\n", "is not a finite "
            "number", 3, "pair", true);
    bad_row("h.csv", "text,pair,label\n\"a\nb\",b,pos\nc,d,\n", "empty label",
            4, "pair", false);
    bad_row("i.tsv", "text\tpair\tlabel\na\tb\tpos\nc\td\tneg\te\n",
            "TSV has no quoting", 3, "pair", false);
    bad_row("j.jsonl", "{\"text\":\"a\",\"pair\":\"b\",\"label\":\"pos\"}\n"
            "{\"text\":\"c\",\"label\":\"pos\"}\n", "no 'pair' field", 2,
            "pair", false);
    bad_row("k.jsonl", "{\"text\":\"a\",\"pair\":\"b\",\"label\":\"pos\"}\n"
            "{\"text\":\"c\",\"pair\":\"d\",\"label\":\"pos\"\n",
            "not a JSON object", 2, "pair", false);
    bad_row("l.jsonl", "{\"text\":\"a\",\"pair\":\"b\",\"label\":\"pos\"}\n"
            "{\"text\":3,\"pair\":\"d\",\"label\":\"pos\"}\n",
            "'text' is a number, expected a string", 2, "pair", false);
    bad_row("m.jsonl", "{\"text\":\"a\",\"pair\":\"b\",\"label\":\"pos\"}\n\n"
            "{\"text\":\"\xff\",\"pair\":\"d\",\"label\":\"pos\"}\n",
            "UTF-8", 3, "pair", false);
    bad_row("n.jsonl", "{\"text\":\"a\",\"pair\":\"b\",\"label\":1}\n"
            "{\"text\":\"a\",\"pair\":\"b\",\"label\":true}\n",
            "'label' is a true", 2, "pair", true);
    bad_row("o.jsonl", "{\"text\":\"a\",\"pair\":\"b\",\"label\":\"pos\"}\n"
            "{\"text\":\"a\",\"pair\":\"b\",\"label\":1.5}\n",
            "not an integer", 2, "pair", false);
    bad_row("p.jsonl", "{\"text\":\"a\",\"pair\":\"b\",\"label\":\"pos\"}\n"
            "[1]\n", "expected a JSON object", 2, "pair", false);
    bad_row("q.jsonl", "{\"text\":\"a\\u0000\",\"pair\":\"b\",\"label\":\"pos\"}\n",
            "NUL", 1, "pair", false);

    /* a missing column is never skipped, and names what the header has */
    const char *tr = put("bad/h1.csv", "txt,label\na,b\n");
    glue_task *t = NULL;
    ir_diag d;
    CHECK(open_task(tr, tr, NULL, false, true, &t, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, ":1: no column 'text'") &&
                  strstr(d.msg, "'txt', 'label'"),
              "%s", d.msg);
    /* one label is no classifier */
    tr = put("bad/one.csv", "text,label\na,x\nb,x\n");
    CHECK(open_task(tr, tr, NULL, false, false, &t, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "one label"), "%s", d.msg);
    /* the extension decides the format */
    CHECK(open_task(put("bad/x.txt", "text,label\n"), NULL, NULL, false,
                    false, &t, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "extension"), "%s", d.msg);
    /* a missing file */
    char miss[1024];
    snprintf(miss, sizeof miss, "%s/nope.csv", g_tmp);
    CHECK(open_task(miss, NULL, NULL, false, false, &t, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "nope.csv"), "%s", d.msg);
    /* f1 needs two labels */
    tr = put("bad/three.csv", "text,label\na,x\nb,y\nc,z\n");
    user_data_spec s = {.train = tr, .metric = METRIC_KIND_ACC_F1};
    ir_diag_init(&d);
    CHECK(user_task_open(&s, &t, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "two labels"), "%s", d.msg);
    /* a JSON array file */
    tr = put("bad/arr.json", "[{\"text\":\"a\",\"label\":\"x\"}]\n");
    CHECK(open_task(tr, NULL, NULL, false, false, &t, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, ":1: a JSON array"), "%s", d.msg);
}

/* The label set given (a model's metadata): train is not needed, dev's
 * labels are checked against it. */
static void test_given_labels(void)
{
    const char *dv = put("g/dev.csv", "text,label\na,yes\nb,no\nc,maybe\n");
    static const char *const labels[] = {"yes", "no"}; /* any order */
    user_data_spec s = {.dev = dv, .labels = labels, .n_labels = 2,
                        .metric = -1};
    glue_task *t = NULL;
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(user_task_open(&s, &t, &d) == IR_OK, "%s", d.msg);
    if (!t)
        return;
    CHECK(strcmp(t->label_names[0], "yes") == 0);
    glue_dataset ds;
    const char *msg = load_msg(t, GLUE_SPLIT_DEV, false, &ds, &d);
    CHECK_MSG(strstr(msg, ":4: label 'maybe' is not one of the model's "
                          "labels ('yes', 'no')"),
              "%s", msg);
    glue_dataset_free(&ds);
    CHECK(!*load_msg(t, GLUE_SPLIT_DEV, true, &ds, &d) && ds.n == 2 &&
          ds.examples[0].label == 0 && ds.examples[1].label == 1);
    glue_dataset_free(&ds);

    /* the metadata's round trip */
    char *json = NULL;
    CHECK(task_labels_to_json(t, &json, &d) == IR_OK && json &&
          strcmp(json, "[\"yes\",\"no\"]") == 0);
    char **names = NULL;
    size_t n = 0;
    CHECK(json && task_labels_from_json(json, &names, &n, &d) == IR_OK &&
          n == 2 && strcmp(names[1], "no") == 0);
    task_labels_free(names, n);
    free(json);
    user_task_free(t);
    static const char *const bad[] = {"{}", "[]", "[1]", "[\"a\",\"a\"]",
                                      "[\"\"]", "[\"a\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ir_diag_init(&d);
        CHECK_MSG(task_labels_from_json(bad[i], &names, &n, &d) ==
                          IR_ERR_INPUT && !names,
                  "%s", bad[i]);
    }
}

static void test_per_class(void)
{
    int pred[] = {0, 1, 1, 2, 0}, gold[] = {0, 1, 0, 2, 2};
    metric_class pc[3];
    ir_diag d;
    ir_diag_init(&d);
    CHECK(metrics_per_class(pred, gold, 5, 3, pc, &d) == IR_OK);
    /* class 0: tp 1, predicted 2, gold 2; class 1: tp 1, predicted 2,
     * gold 1; class 2: tp 1, predicted 1, gold 2 */
    CHECK(fabs(pc[0].precision - 0.5) < 1e-12 && fabs(pc[0].recall - 0.5) < 1e-12);
    CHECK(fabs(pc[1].precision - 0.5) < 1e-12 && pc[1].recall == 1.0 &&
          fabs(pc[1].f1 - 2.0 / 3.0) < 1e-12 && pc[1].support == 1);
    CHECK(pc[2].precision == 1.0 && fabs(pc[2].recall - 0.5) < 1e-12);
    int out[] = {3};
    CHECK(metrics_per_class(out, gold, 1, 3, pc, &d) == IR_ERR_INPUT);
}

int main(void)
{
    if (!test_tmpdir(g_tmp, sizeof g_tmp)) {
        fprintf(stderr, "test_user_data: cannot make a temporary directory\n");
        return 1;
    }
    test_csv();
    test_tsv_and_folder();
    test_jsonl();
    test_label_order();
    test_errors();
    test_given_labels();
    test_per_class();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "test_user_data: could not remove %s\n", g_tmp);
    return test_finish("test_user_data");
}

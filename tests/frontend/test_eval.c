/* test_eval.c — evaluation (frontend/eval) and JUnit reports
 * (frontend/junit), read as examples of use:
 *   - a JUnit report is well-formed XML with the right counts, even when
 *     its text holds control characters and invalid UTF-8;
 *   - eval_run batches by length (each batch padded only to its longest,
 *     rows longest first), hands the model [PAD]/mask 0 padding, maps
 *     predictions back to dataset order and computes the task's metrics;
 *   - STS-B takes the single logit as its score;
 *   - the reference-interpreter runner feeds inputs by name and checks the
 *     output's shape;
 *   - errors name the file, line, batch or model input at fault;
 *   - on the real SST-2 dev file with the real vocabulary when present. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "frontend/eval.h"
#include "frontend/junit.h"
#include "testutil.h"

/* ---- JUnit --------------------------------------------------------------- */

static const char *xml_attr(xmlNode *n, const char *name, char *buf, size_t len)
{
    xmlChar *v = xmlGetProp(n, BAD_CAST name);
    if (!v)
        return NULL;
    snprintf(buf, len, "%s", (const char *)v);
    xmlFree(v);
    return buf;
}

static xmlNode *xml_child(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

static void test_junit(void)
{
    junit_case cases[3] = {
        {.name = "SST-2", .classname = "regress", .seconds = 1.25,
         .system_out = "accuracy 0.81 < & >"},
        {.name = "CoLA", .seconds = 2.0,
         .failure_message = "dropped 3.10 points (max 1.00)",
         /* a control character and a stray byte: must not break the XML */
         .failure_text = "base 0.52\x01 candidate 0.49 \xff end"},
        {.name = "WNLI", .skipped_message = "no data"},
    };
    junit_property props[1] = {{"max_drop", "1.0"}};
    junit_suite s = {.name = "distilc regress", .timestamp = "2024-01-01T00:00:00Z",
                     .seconds = 3.25, .properties = props, .n_properties = 1,
                     .cases = cases, .n_cases = 3};
    ir_diag d;
    ir_diag_init(&d);
    char *xml = NULL;
    size_t len = 0;
    CHECK(junit_write_buffer(&s, 1, &xml, &len, &d) == IR_OK);
    CHECK(xml && len == strlen(xml));
    xmlDoc *doc = xml ? xmlReadMemory(xml, (int)len, "junit.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR |
                                          XML_PARSE_NOWARNING)
                      : NULL;
    CHECK_MSG(doc != NULL, "report is not well-formed XML:\n%s", xml ? xml : "");
    if (doc) {
        char b[256];
        xmlNode *root = xmlDocGetRootElement(doc);
        CHECK(strcmp((const char *)root->name, "testsuites") == 0);
        CHECK(strcmp(xml_attr(root, "tests", b, sizeof b), "3") == 0);
        CHECK(strcmp(xml_attr(root, "failures", b, sizeof b), "1") == 0);
        xmlNode *suite = xml_child(root, "testsuite");
        CHECK(suite && strcmp(xml_attr(suite, "skipped", b, sizeof b), "1") == 0);
        CHECK(suite && strcmp(xml_attr(suite, "time", b, sizeof b), "3.250") == 0);
        xmlNode *props_n = xml_child(suite, "properties");
        xmlNode *prop = xml_child(props_n, "property");
        CHECK(prop && strcmp(xml_attr(prop, "name", b, sizeof b), "max_drop") == 0);
        xmlNode *tc = xml_child(suite, "testcase");
        CHECK(tc && strcmp(xml_attr(tc, "classname", b, sizeof b), "regress") == 0);
        xmlNode *out = xml_child(tc, "system-out");
        xmlChar *text = out ? xmlNodeGetContent(out) : NULL;
        CHECK(text && strcmp((const char *)text, "accuracy 0.81 < & >") == 0);
        xmlFree(text);
        xmlNode *tc2 = tc ? tc->next : NULL;
        while (tc2 && tc2->type != XML_ELEMENT_NODE)
            tc2 = tc2->next;
        /* classname defaults to the suite's name */
        CHECK(tc2 && strcmp(xml_attr(tc2, "classname", b, sizeof b),
                            "distilc regress") == 0);
        xmlNode *fail = xml_child(tc2, "failure");
        CHECK(fail && strstr(xml_attr(fail, "message", b, sizeof b), "3.10"));
        text = fail ? xmlNodeGetContent(fail) : NULL;
        CHECK(text && strcmp((const char *)text,
                             "base 0.52? candidate 0.49 ? end") == 0);
        xmlFree(text);
        xmlFreeDoc(doc);
    }
    free(xml);

    char dir[256], path[512];
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/report.xml", dir);
    CHECK(junit_write_file(path, &s, 1, &d) == IR_OK);
    snprintf(path, sizeof path, "%s/no/such/dir/report.xml", dir);
    CHECK(junit_write_file(path, &s, 1, &d) == IR_ERR_IO);
    CHECK(strstr(d.msg, "no/such/dir/report.xml") != NULL);
}

/* ---- fixtures ------------------------------------------------------------ */

static const char vocab_text[] =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ngood\nbad\nmovie\nthe\nvery\n,\n.\n"
    "a\nman\nwoman\nis\nplaying\n";

static tok_tokenizer *tiny_tokenizer(void)
{
    ir_diag d;
    ir_diag_init(&d);
    tok_options o = tok_options_default();
    tok_tokenizer *t = NULL;
    CHECK(tok_load_vocab_text(vocab_text, sizeof vocab_text - 1, "tiny-vocab",
                              &o, &t, &d) == IR_OK);
    return t;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A fake classifier: class 1 ("positive") when the row holds "good" (id 5),
 * else class 0. It also records what it was handed, to check batching. */
typedef struct fake_model {
    int64_t good_id, pad_id;
    size_t calls, rows_seen;
    bool sorted_ok, padding_ok, seq_ok;
    int fail_on_call; /* > 0: return an error on that call */
} fake_model;

static ir_status fake_run(void *ctx, const eval_batch *b, float *logits,
                          ir_diag *d)
{
    fake_model *m = ctx;
    m->calls++;
    if (m->fail_on_call > 0 && (int)m->calls == m->fail_on_call)
        return ir_diag_set(d, IR_ERR_FAILED, "fake model failure");
    size_t prev_len = (size_t)-1, longest = 0;
    for (size_t r = 0; r < b->rows; r++) {
        const int64_t *ids = b->input_ids + r * b->seq;
        const int64_t *mask = b->attention_mask + r * b->seq;
        const int64_t *types = b->token_type_ids + r * b->seq;
        size_t len = 0;
        bool good = false;
        for (size_t k = 0; k < b->seq; k++) {
            if (mask[k]) {
                if (k != len) /* real tokens come first */
                    m->padding_ok = false;
                len++;
                good |= ids[k] == m->good_id;
            } else if (ids[k] != m->pad_id || types[k] != 0) {
                m->padding_ok = false;
            }
        }
        if (len > prev_len)
            m->sorted_ok = false; /* rows are longest first */
        prev_len = len;
        if (len > longest)
            longest = len;
        logits[r * b->n_labels + 0] = good ? -1.0f : 1.0f;
        logits[r * b->n_labels + 1] = good ? 1.0f : -1.0f;
    }
    if (longest != b->seq) /* padded to the batch's own longest */
        m->seq_ok = false;
    m->rows_seen += b->rows;
    return IR_OK;
}

typedef struct progress_log {
    size_t calls, last_done, total;
} progress_log;

static void progress_rec(void *ctx, size_t done, size_t total)
{
    progress_log *p = ctx;
    p->calls++;
    p->last_done = done;
    p->total = total;
}

static const char sst2_dev[] =
    "sentence\tlabel\n"
    "a good movie .\t1\n"                                    /* 6 tokens */
    "bad\t0\n"                                               /* 3 */
    "the movie is very very very good , very good .\t1\n"    /* 13 */
    "the movie is bad .\t0\n"                                /* 7 */
    "good\t0\n"                                              /* 3, wrong */
    "a man is playing , a woman is playing .\t0\n";          /* 12 */

static void test_eval_classes(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/dev.tsv", dir);
    write_file(path, sst2_dev);
    ir_diag d;
    ir_diag_init(&d);
    glue_dataset ds;
    CHECK(glue_load(glue_task_lookup("sst2"), dir, GLUE_SPLIT_DEV, NULL, &ds,
                    &d) == IR_OK);
    CHECK(ds.n == 6);
    tok_tokenizer *tok = tiny_tokenizer();
    if (!tok || ds.n != 6)
        return;

    fake_model m = {.good_id = tok_token_id(tok, "good"), .pad_id = 0,
                    .sorted_ok = true, .padding_ok = true, .seq_ok = true};
    progress_log pl = {0};
    eval_options o = eval_options_default();
    o.batch = 4;
    o.progress = progress_rec;
    o.progress_ctx = &pl;
    eval_result r;
    CHECK(eval_run(&ds, tok, &o, fake_run, &m, &r, &d) == IR_OK);
    CHECK(m.calls == 2 && m.rows_seen == 6 && r.n_batches == 2);
    CHECK(m.sorted_ok && m.padding_ok && m.seq_ok);
    CHECK(pl.last_done == 6 && pl.total == 6 && pl.calls == 3); /* 0, 4, 6 */
    /* Dataset order: the fake model says 1 exactly where "good" occurs. */
    int expect[6] = {1, 0, 1, 0, 1, 0};
    for (int i = 0; i < 6 && r.pred_class; i++)
        CHECK_MSG(r.pred_class[i] == expect[i], "example %d: %d", i,
                  r.pred_class[i]);
    CHECK(r.logits && r.logits[0] == -1.0f && r.logits[1] == 1.0f);
    CHECK(r.has_metrics && r.metrics.n == 1);
    CHECK(fabs(metric_set_get(&r.metrics, "accuracy") - 5.0 / 6.0) < 1e-12);
    /* Batches [13,12,7,6] and [3,3]: 52+6 real tokens, 4*13+2*3 padded. */
    CHECK(r.real_tokens == 44 && r.padded_tokens == 58);
    CHECK(r.n_examples == 6 && r.n_labels == 2 && r.pred_score == NULL);
    eval_result_free(&r);

    /* max_seq truncates: every row is at most 8 tokens. */
    o.max_seq = 8;
    o.batch = 32;
    m.calls = m.rows_seen = 0;
    CHECK(eval_run(&ds, tok, &o, fake_run, &m, &r, &d) == IR_OK);
    CHECK(m.calls == 1 && r.padded_tokens == 6 * 8);
    eval_result_free(&r);

    /* A failing model: the message names the file, the batch and a line. */
    o = eval_options_default();
    o.batch = 2;
    m.calls = 0;
    m.fail_on_call = 2;
    CHECK(eval_run(&ds, tok, &o, fake_run, &m, &r, &d) == IR_ERR_FAILED);
    CHECK_MSG(strstr(d.msg, "dev.tsv") && strstr(d.msg, "batch 2") &&
                  strstr(d.msg, "fake model failure"), "%s", d.msg);
    CHECK(r.logits == NULL && r.pred_class == NULL); /* left empty */
    eval_result_free(&r);

    /* Bad options. */
    o.batch = 0;
    CHECK(eval_run(&ds, tok, &o, fake_run, &m, &r, &d) == IR_ERR_INPUT);
    tok_free(tok);
    glue_dataset_free(&ds);
}

/* STS-B: the one logit is the score; here score = real tokens - 2. */
static ir_status count_run(void *ctx, const eval_batch *b, float *logits,
                           ir_diag *d)
{
    for (size_t r = 0; r < b->rows; r++) {
        int64_t n = 0;
        for (size_t k = 0; k < b->seq; k++)
            n += b->attention_mask[r * b->seq + k];
        logits[r] = (float)(n - 3); /* minus [CLS] [SEP] [SEP] */
    }
    return IR_OK;
}

static void test_eval_stsb(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/stsb.tsv", dir);
    /* STS-B's columns (GLUE layout); texts of 1+1, 2+1, 2+2, 3+3 words. */
    write_file(path,
               "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\t"
               "sentence1\tsentence2\tscore\n"
               "0\tmain\tf\t2012\t0\tn\tn\tgood\tbad\t1.0\n"
               "1\tmain\tf\t2012\t1\tn\tn\ta man\tplaying\t2.5\n"
               "2\tmain\tf\t2012\t2\tn\tn\ta man\ta woman\t3.0\n"
               "3\tmain\tf\t2012\t3\tn\tn\tthe man playing\ta woman playing\t"
               "5.0\n");
    ir_diag d;
    ir_diag_init(&d);
    glue_dataset ds;
    CHECK(glue_load(glue_task_lookup("STS-B"), path, GLUE_SPLIT_DEV, NULL,
                    &ds, &d) == IR_OK);
    tok_tokenizer *tok = tiny_tokenizer();
    eval_result r;
    CHECK(eval_run(&ds, tok, NULL, count_run, NULL, &r, &d) == IR_OK);
    CHECK(r.n_labels == 1 && r.pred_class == NULL && r.pred_score != NULL);
    double expect[4] = {2, 3, 4, 6};
    for (int i = 0; i < 4 && r.pred_score; i++)
        CHECK(r.pred_score[i] == expect[i]);
    CHECK(r.has_metrics && r.metrics.n == 3);
    double rho = metric_set_get(&r.metrics, "spearmanr");
    CHECK_MSG(fabs(rho - 1.0) < 1e-12, "spearman %g", rho);
    eval_result_free(&r);
    tok_free(tok);
    glue_dataset_free(&ds);
}

/* A graph the interpreter runs: logits[b] = sum over tokens of table[id],
 * table row 0 ([PAD]) zero, so padding adds nothing. */
static ir_graph *tiny_graph(int64_t vocab, bool with_types, int64_t fixed_seq)
{
    ir_graph *g = ir_graph_new("tiny_classifier");
    ir_dim dims[2] = {ir_dim_sym(g, "batch"),
                      fixed_seq ? ir_dim_const(fixed_seq) : ir_dim_sym(g, "seq")};
    ir_value *ids = ir_graph_add_input(g, "input_ids", IR_DT_I64, 2, dims);
    ir_graph_add_input(g, "attention_mask", IR_DT_I64, 2, dims);
    if (with_types)
        ir_graph_add_input(g, "token_type_ids", IR_DT_I64, 2, dims);
    int64_t td[2] = {vocab, 2};
    ir_tensor *table = ir_tensor_new(IR_DT_F32, 2, td);
    float *t = table->data;
    for (int64_t v = 1; v < vocab; v++) {
        t[v * 2 + 0] = 0.1f;  /* every word pushes a little to class 0 */
        t[v * 2 + 1] = 0.0f;
    }
    t[5 * 2 + 1] = 1.0f; /* "good" */
    ir_value *w = ir_graph_add_constant(g, "table", table);
    ir_value *emb = ir_node_make1(g, IR_OP_GATHER, "embed", w, ids);
    int64_t one = 1;
    ir_tensor *axes = ir_tensor_new(IR_DT_I64, 1, &one);
    ((int64_t *)axes->data)[0] = 1;
    ir_value *ax = ir_graph_add_constant(g, "axes", axes);
    ir_value *sum = ir_node_make1(g, IR_OP_REDUCE_SUM, "logits", emb, ax);
    ir_node_set_attr_int(g, sum->producer, "keepdims", 0);
    ir_graph_mark_output(g, sum);
    return g;
}

static void test_eval_interp(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/dev.tsv", dir);
    ir_diag d;
    ir_diag_init(&d);
    glue_dataset ds;
    CHECK(glue_load(glue_task_lookup("SST-2"), path, GLUE_SPLIT_DEV, NULL, &ds,
                    &d) == IR_OK);
    tok_tokenizer *tok = tiny_tokenizer();
    ir_graph *g = tiny_graph(17, false, 0);
    eval_model m;
    CHECK_MSG(eval_model_init(&m, g, &d) == IR_OK, "%s", d.msg);
    CHECK(m.in_ids == 0 && m.in_mask == 1 && m.in_types == -1);
    eval_options o = eval_options_default();
    o.batch = 4;
    eval_result r;
    CHECK_MSG(eval_run(&ds, tok, &o, eval_model_run, &m, &r, &d) == IR_OK,
              "%s", d.msg);
    /* "good" outweighs the 0.1 per word in every sentence that has it. */
    int expect[6] = {1, 0, 1, 0, 1, 0};
    for (int i = 0; i < 6 && r.pred_class; i++)
        CHECK(r.pred_class[i] == expect[i]);
    /* Example 1 is "[CLS] bad [SEP]": three words at 0.1 each. */
    CHECK(r.logits && fabsf(r.logits[2] - 0.3f) < 1e-6f && r.logits[3] == 0);
    float dynamic_logits[12];
    memcpy(dynamic_logits, r.logits, sizeof dynamic_logits);
    eval_result_free(&r);
    ir_graph_free(g);

    /* A static export (seq fixed at 16): batches are padded up to it, and
     * padding changes nothing. Fixed at 8, the longest example does not
     * fit and the message says which option helps. */
    g = tiny_graph(17, false, 16);
    CHECK(eval_model_init(&m, g, &d) == IR_OK);
    CHECK_MSG(eval_run(&ds, tok, &o, eval_model_run, &m, &r, &d) == IR_OK,
              "%s", d.msg);
    CHECK(r.logits && memcmp(r.logits, dynamic_logits, sizeof dynamic_logits) == 0);
    eval_result_free(&r);
    ir_graph_free(g);
    g = tiny_graph(17, false, 8);
    CHECK(eval_model_init(&m, g, &d) == IR_OK);
    CHECK(eval_run(&ds, tok, &o, eval_model_run, &m, &r, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "input_ids") && strstr(d.msg, "--max-seq 8"),
              "%s", d.msg);
    ir_graph_free(g);

    /* Wrong head for the task: STS-B wants one output per example. */
    g = tiny_graph(17, true, 0);
    CHECK(eval_model_init(&m, g, &d) == IR_OK && m.in_types == 2);
    glue_dataset ds2;
    snprintf(path, sizeof path, "%s/stsb.tsv", dir);
    CHECK(glue_load(glue_task_lookup("stsb"), path, GLUE_SPLIT_DEV, NULL, &ds2,
                    &d) == IR_OK);
    CHECK(eval_run(&ds2, tok, NULL, eval_model_run, &m, &r, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "shape [4,2]") && strstr(d.msg, "expected [4,1]"),
              "%s", d.msg);
    glue_dataset_free(&ds2);
    ir_graph_free(g);

    /* Inputs eval cannot feed. */
    g = ir_graph_new("odd");
    ir_dim dims[2] = {ir_dim_const(1), ir_dim_const(4)};
    ir_graph_add_input(g, "pixel_values", IR_DT_F32, 2, dims);
    CHECK(eval_model_init(&m, g, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "pixel_values") != NULL);
    ir_graph_free(g);
    g = ir_graph_new("no_ids");
    ir_graph_add_input(g, "attention_mask", IR_DT_I64, 2, dims);
    CHECK(eval_model_init(&m, g, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "input_ids") != NULL);
    ir_graph_free(g);

    tok_free(tok);
    glue_dataset_free(&ds);
}

/* The real SST-2 dev file and BERT's vocabulary, when present. */
static void test_eval_shared(void)
{
    char glue[512], vocab[512], vpath[600];
    if (!test_shared_path("glue", glue, sizeof glue) ||
        !test_shared_path("vocab", vocab, sizeof vocab)) {
        test_skip("shared data absent (glue, vocab)");
        return;
    }
    snprintf(vpath, sizeof vpath, "%s/bert-base-uncased-vocab.txt", vocab);
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *tok = NULL;
    tok_options to = tok_options_default();
    if (tok_load_vocab(vpath, &to, &tok, &d) != IR_OK) {
        test_skip("%s", d.msg);
        return;
    }
    glue_dataset ds;
    glue_load_opts lo = {.limit = 100};
    CHECK_MSG(glue_load(glue_task_lookup("sst2"), glue, GLUE_SPLIT_DEV, &lo,
                        &ds, &d) == IR_OK, "%s", d.msg);
    fake_model m = {.good_id = tok_token_id(tok, "good"), .pad_id = 0,
                    .sorted_ok = true, .padding_ok = true, .seq_ok = true};
    eval_result r;
    CHECK(eval_run(&ds, tok, NULL, fake_run, &m, &r, &d) == IR_OK);
    CHECK(r.n_examples == 100 && r.n_batches == 4 && m.rows_seen == 100);
    CHECK(m.sorted_ok && m.padding_ok && m.seq_ok);
    double acc = metric_set_get(&r.metrics, "accuracy");
    CHECK(acc > 0.3 && acc < 0.8); /* a word-spotting "model" */
    /* Sorting by length saves padding against one max-length batch. */
    CHECK(r.padded_tokens < 100 * 66);
    eval_result_free(&r);
    glue_dataset_free(&ds);
    tok_free(tok);
}

int main(void)
{
    char dir[256];
    test_tmpdir(dir, sizeof dir);
    test_junit();
    test_eval_classes(dir);
    test_eval_stsb(dir);
    test_eval_interp(dir);
    test_eval_shared();
    return test_finish("test_eval");
}

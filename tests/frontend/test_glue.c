/* test_glue.c — the GLUE readers: task names, every task's file layout on
 * fixtures this test writes itself (headers, BOM, CRLF, CR, CoLA without a
 * header, MNLI's matched/mismatched files, test splits without labels),
 * malformed lines with and without skipping, and the real files in
 * $DISTILC_SHARED/glue when present (row counts and label distributions
 * from its PROVENANCE.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/glue.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------*/

/* Writes `len` bytes (strlen when len is 0) to dir/rel, making dir/sub. */
static void put_file(const char *dir, const char *rel, const char *text,
                     size_t len)
{
    char path[1024];
    const char *slash = strchr(rel, '/');
    if (slash) {
        snprintf(path, sizeof path, "%s/%.*s", dir, (int)(slash - rel), rel);
        mkdir(path, 0700);
    }
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f != NULL, "cannot write %s", path);
    if (!f)
        return;
    fwrite(text, 1, len ? len : strlen(text), f);
    fclose(f);
}

typedef struct loaded {
    glue_dataset ds;
    ir_status st;
    ir_diag d;
} loaded;

static loaded load(const char *task, const char *dir, glue_split split,
                   bool skip, size_t limit)
{
    loaded l;
    ir_diag_init(&l.d);
    const glue_task *t = glue_task_lookup(task);
    CHECK_MSG(t != NULL, "task %s", task);
    glue_load_opts o = {.skip_bad_lines = skip, .limit = limit};
    l.st = glue_load(t, dir, split, &o, &l.ds, &l.d);
    return l;
}

/* ---- names --------------------------------------------------------------*/

static void test_names(void)
{
    static const struct {
        const char *in, *canon;
    } names[] = {
        {"CoLA", "CoLA"},       {"cola", "CoLA"},
        {"SST-2", "SST-2"},     {"sst2", "SST-2"},     {"SST2", "SST-2"},
        {"mrpc", "MRPC"},       {"STS-B", "STS-B"},    {"stsb", "STS-B"},
        {"sts_b", "STS-B"},     {"QQP", "QQP"},        {"mnli", "MNLI"},
        {"MNLI-m", "MNLI"},     {"mnli_matched", "MNLI"},
        {"MNLI-mm", "MNLI-mm"}, {"mnli_mismatched", "MNLI-mm"},
        {"qnli", "QNLI"},       {"RTE", "RTE"},        {"wnli", "WNLI"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const glue_task *t = glue_task_lookup(names[i].in);
        CHECK_MSG(t && strcmp(t->name, names[i].canon) == 0, "%s",
                  names[i].in);
    }
    CHECK(glue_task_lookup("sst") == NULL);
    CHECK(glue_task_lookup("") == NULL);
    CHECK(glue_task_lookup("mnli-mmm") == NULL);
    CHECK(glue_task_lookup("ax") == NULL);
    for (size_t i = 0; i < GLUE_TASK_COUNT; i++) {
        const glue_task *t = glue_task_at(i);
        CHECK(glue_task_lookup(t->name) == t && glue_task_lookup(t->hf_name) == t);
        CHECK(strstr(glue_task_names(), t->name) != NULL);
    }
    CHECK(glue_task_at(GLUE_TASK_COUNT) == NULL);

    glue_split s;
    CHECK(glue_split_lookup("dev", &s) && s == GLUE_SPLIT_DEV);
    CHECK(glue_split_lookup("Validation", &s) && s == GLUE_SPLIT_DEV);
    CHECK(glue_split_lookup("TRAIN", &s) && s == GLUE_SPLIT_TRAIN);
    CHECK(glue_split_lookup("test", &s) && s == GLUE_SPLIT_TEST);
    CHECK(!glue_split_lookup("eval", &s));

    /* label order as Hugging Face datasets indexes it */
    const glue_task *mnli = glue_task_lookup("mnli");
    CHECK(mnli->n_labels == 3 && glue_label_lookup(mnli, "entailment") == 0 &&
          glue_label_lookup(mnli, "neutral") == 1 &&
          glue_label_lookup(mnli, "contradiction") == 2);
    const glue_task *wnli = glue_task_lookup("wnli");
    CHECK(glue_label_lookup(wnli, "entailment") == 1 &&
          glue_label_lookup(wnli, "0") == 0 &&
          glue_label_lookup(wnli, "maybe") == -1);
    const glue_task *stsb = glue_task_lookup("stsb");
    CHECK(stsb->is_regression && stsb->n_labels == 1 && stsb->is_pair &&
          stsb->metric == METRIC_KIND_CORR);
    CHECK(glue_task_lookup("cola")->metric == METRIC_KIND_MCC);
    CHECK(glue_task_lookup("qqp")->metric == METRIC_KIND_ACC_F1);
    CHECK(!glue_task_lookup("sst2")->is_pair);
}

/* ---- every task's layout, on fixtures -----------------------------------*/

static void test_fixture_layouts(const char *root)
{
    /* CoLA: train/dev without header (source, label, orig label, sentence),
     * test with "index, sentence"; the last line lacks its '\n'. */
    put_file(root, "CoLA/train.tsv",
             "gj04\t1\t\tOur friends won't buy this analysis.\n"
             "gj04\t0\t*\tThey drank the pub.\n",
             0);
    put_file(root, "CoLA/dev.tsv", "gj04\t1\t\tThe sailors rode.", 0);
    put_file(root, "CoLA/test.tsv",
             "index\tsentence\n0\tBill whistled past the house.\n", 0);
    loaded l = load("cola", root, GLUE_SPLIT_TRAIN, false, 0);
    CHECK_MSG(l.st == IR_OK, "%s", l.d.msg);
    CHECK(l.ds.n == 2 && l.ds.has_labels);
    CHECK(strcmp(l.ds.examples[1].text_a, "They drank the pub.") == 0);
    CHECK(l.ds.examples[0].label == 1 && l.ds.examples[1].label == 0);
    CHECK(l.ds.examples[0].text_b == NULL && l.ds.examples[1].line == 2);
    glue_dataset_free(&l.ds);
    l = load("CoLA", root, GLUE_SPLIT_DEV, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 1 &&
          strcmp(l.ds.examples[0].text_a, "The sailors rode.") == 0);
    glue_dataset_free(&l.ds);
    l = load("CoLA", root, GLUE_SPLIT_TEST, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 1 && !l.ds.has_labels);
    CHECK(!l.ds.examples[0].has_label && l.ds.examples[0].label == -1 &&
          l.ds.examples[0].line == 2);
    glue_dataset_free(&l.ds);

    /* SST-2: a quote is just a character (no CSV quoting) */
    put_file(root, "SST-2/dev.tsv",
             "sentence\tlabel\n\"it 's a charming journey . \t1\n"
             "bleak \t0\n",
             0);
    put_file(root, "SST-2/test.tsv", "index\tsentence\n0\tuneasy mishmash\n",
             0);
    l = load("sst2", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_OK, "%s", l.d.msg);
    CHECK(l.ds.n == 2 &&
          strcmp(l.ds.examples[0].text_a, "\"it 's a charming journey . ") ==
              0 &&
          l.ds.examples[0].label == 1 && l.ds.examples[1].label == 0);
    glue_dataset_free(&l.ds);
    l = load("sst2", root, GLUE_SPLIT_TEST, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 1 &&
          strcmp(l.ds.examples[0].text_a, "uneasy mishmash") == 0);
    glue_dataset_free(&l.ds);

    /* MRPC: byte-order mark, CRLF line ends */
    put_file(root, "MRPC/dev.tsv",
             "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n"
             "1\t1355540\t1355592\tHe said so.\tHe said it.\r\n"
             "0\t2029631\t2029565\tCaf\xC3\xA9 is open.\tIt is shut.\r\n",
             0);
    put_file(root, "MRPC/test.tsv",
             "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
             "0\t1089874\t1089925\tA.\tB.\n",
             0);
    l = load("MRPC", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_OK, "%s", l.d.msg);
    CHECK(l.ds.n == 2 && strcmp(l.ds.examples[0].text_a, "He said so.") == 0 &&
          strcmp(l.ds.examples[0].text_b, "He said it.") == 0 &&
          strcmp(l.ds.examples[1].text_a, "Caf\xC3\xA9 is open.") == 0 &&
          l.ds.examples[0].label == 1 && l.ds.examples[1].label == 0);
    glue_dataset_free(&l.ds);
    l = load("MRPC", root, GLUE_SPLIT_TEST, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 1 && !l.ds.has_labels &&
          strcmp(l.ds.examples[0].text_b, "B.") == 0);
    glue_dataset_free(&l.ds);
    /* the same file with classic Mac line ends ('\r' alone): the same
     * examples and line numbers, a blank line skipped */
    put_file(root, "MRPC/dev.tsv",
             "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r"
             "1\t1355540\t1355592\tHe said so.\tHe said it.\r\r"
             "0\t2029631\t2029565\tCaf\xC3\xA9 is open.\tIt is shut.\r",
             0);
    l = load("MRPC", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_OK, "%s", l.d.msg);
    CHECK(l.ds.n == 2 && strcmp(l.ds.examples[0].text_b, "He said it.") == 0 &&
          strcmp(l.ds.examples[1].text_b, "It is shut.") == 0 &&
          l.ds.examples[1].label == 0 && l.ds.examples[1].line == 4);
    glue_dataset_free(&l.ds);

    /* STS-B: ten columns, a float score; test has nine */
    const char *stsb_head = "index\tgenre\tfilename\tyear\told_index\tsource1"
                            "\tsource2\tsentence1\tsentence2";
    char buf[1024];
    snprintf(buf, sizeof buf,
             "%s\tscore\n"
             "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane."
             "\tAn air plane.\t5.000\n"
             "1\tmain-captions\tMSRvid\t2012test\t0004\tnone\tnone\tA man."
             "\tA flute.\t3.800\n",
             stsb_head);
    put_file(root, "STS-B/train.tsv", buf, 0);
    snprintf(buf, sizeof buf,
             "%s\n0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA girl."
             "\tA boy.\n",
             stsb_head);
    put_file(root, "STS-B/test.tsv", buf, 0);
    l = load("stsb", root, GLUE_SPLIT_TRAIN, false, 0);
    CHECK_MSG(l.st == IR_OK, "%s", l.d.msg);
    CHECK(l.ds.n == 2 && l.ds.examples[0].score == 5.0 &&
          l.ds.examples[1].score == 3.8 && l.ds.examples[1].label == -1 &&
          strcmp(l.ds.examples[1].text_b, "A flute.") == 0);
    double *scores;
    CHECK(glue_dataset_gold_scores(&l.ds, &scores, &l.d) == IR_OK &&
          scores[1] == 3.8);
    free(scores);
    int *classes;
    CHECK(glue_dataset_gold_classes(&l.ds, &classes, &l.d) == IR_ERR_INPUT);
    glue_dataset_free(&l.ds);
    l = load("STS-B", root, GLUE_SPLIT_TEST, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 1 && isnan(l.ds.examples[0].score));
    CHECK(glue_dataset_gold_scores(&l.ds, &scores, &l.d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(l.d.msg, "no labels") != NULL, "%s", l.d.msg);
    glue_dataset_free(&l.ds);

    /* QQP: id, qid1, qid2, question1, question2, is_duplicate */
    put_file(root, "QQP/dev.tsv",
             "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
             "201359\t303345\t303346\tWhy are African-Americans so "
             "beautiful?\tWhy are hispanics so beautiful?\t0\n"
             "263843\t69383\t380476\tI want to pursue PhD?\tHow to do PhD?\t1\n",
             0);
    put_file(root, "QQP/test.tsv",
             "id\tquestion1\tquestion2\n0\tHow?\tWhy?\n", 0);
    l = load("QQP", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_OK, "%s", l.d.msg);
    CHECK(l.ds.n == 2 && l.ds.examples[1].label == 1 &&
          strcmp(l.ds.examples[1].text_b, "How to do PhD?") == 0);
    CHECK(glue_dataset_gold_classes(&l.ds, &classes, &l.d) == IR_OK &&
          classes[0] == 0 && classes[1] == 1);
    free(classes);
    glue_dataset_free(&l.ds);
    l = load("qqp", root, GLUE_SPLIT_TEST, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 1 &&
          strcmp(l.ds.examples[0].text_a, "How?") == 0);
    glue_dataset_free(&l.ds);

    /* MNLI: train has 12 columns, dev_* 16, test_* 10; matched and
     * mismatched files; labels spelled out */
    const char *mn10 = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse"
                       "\tsentence2_binary_parse\tsentence1_parse"
                       "\tsentence2_parse\tsentence1\tsentence2";
    const char *parses = "\t( ( a ) )\t( b )\t(ROOT a)\t(ROOT b)";
    snprintf(buf, sizeof buf, "%s\tlabel1\tgold_label\n0\t31193\t31193n"
             "\tgovernment%s\tConceptually cream.\tProduct and geography."
             "\tneutral\tneutral\n",
             mn10, parses);
    put_file(root, "MNLI/train.tsv", buf, 0);
    snprintf(buf, sizeof buf,
             "%s\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n"
             "0\t63735\t63735n\tslate%s\tThe new rights.\tEveryone hates it."
             "\tneutral\tentailment\tneutral\tneutral\tneutral\tneutral\n"
             "1\t91383\t91383c\tslate%s\tThis site.\tThe site is closed."
             "\tcontradiction\tcontradiction\tcontradiction\tcontradiction"
             "\tcontradiction\tcontradiction\n",
             mn10, parses, parses);
    put_file(root, "MNLI/dev_matched.tsv", buf, 0);
    snprintf(buf, sizeof buf,
             "%s\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n"
             "0\t75290\t75290c\tletters%s\tYour gift.\tYou gave nothing."
             "\tcontradiction\tcontradiction\tcontradiction\tcontradiction"
             "\tcontradiction\tentailment\n",
             mn10, parses);
    put_file(root, "MNLI/dev_mismatched.tsv", buf, 0);
    snprintf(buf, sizeof buf, "%s\n0\t31193\t31193n\tfiction%s\tHi.\tBye.\n",
             mn10, parses);
    put_file(root, "MNLI/test_matched.tsv", buf, 0);
    put_file(root, "MNLI/test_mismatched.tsv", buf, 0);
    l = load("mnli", root, GLUE_SPLIT_TRAIN, false, 0);
    CHECK_MSG(l.st == IR_OK && l.ds.n == 1 && l.ds.examples[0].label == 1,
              "%s", l.d.msg);
    CHECK(strcmp(l.ds.examples[0].text_b, "Product and geography.") == 0);
    glue_dataset_free(&l.ds);
    l = load("MNLI-m", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_OK && l.ds.n == 2, "%s", l.d.msg);
    CHECK(l.ds.examples[0].label == 1 && l.ds.examples[1].label == 2 &&
          strcmp(l.ds.examples[1].text_a, "This site.") == 0);
    CHECK(strstr(l.ds.path, "dev_matched.tsv") != NULL);
    glue_dataset_free(&l.ds);
    l = load("mnli_mismatched", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_OK && l.ds.n == 1, "%s", l.d.msg);
    /* gold_label is the last column, not label1 */
    CHECK(l.ds.examples[0].label == 0 &&
          strstr(l.ds.path, "dev_mismatched.tsv") != NULL);
    glue_dataset_free(&l.ds);
    l = load("MNLI-mm", root, GLUE_SPLIT_TEST, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 1 && !l.ds.has_labels &&
          strstr(l.ds.path, "test_mismatched.tsv") != NULL);
    glue_dataset_free(&l.ds);

    /* QNLI: question, sentence; labels spelled out */
    put_file(root, "QNLI/dev.tsv",
             "index\tquestion\tsentence\tlabel\n"
             "0\tWhat came into force?\tThe treaty did.\tentailment\n"
             "1\tWhat is the name?\tNobody knows.\tnot_entailment\n",
             0);
    l = load("qnli", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_OK && l.ds.n == 2, "%s", l.d.msg);
    CHECK(l.ds.examples[0].label == 0 && l.ds.examples[1].label == 1 &&
          strcmp(l.ds.examples[0].text_a, "What came into force?") == 0);
    glue_dataset_free(&l.ds);

    /* RTE and WNLI: index, sentence1, sentence2, label; WNLI uses 0/1 with
     * 1 = entailment */
    put_file(root, "RTE/train.tsv",
             "index\tsentence1\tsentence2\tlabel\n"
             "0\tNo weapons.\tWeapons found.\tnot_entailment\n",
             0);
    put_file(root, "RTE/test.tsv",
             "index\tsentence1\tsentence2\n0\tMaude.\tMaude Moore.\n", 0);
    put_file(root, "WNLI/dev.tsv",
             "index\tsentence1\tsentence2\tlabel\n0\tThe drain.\tHair.\t0\n"
             "1\tJane knocked.\tSusan.\t1\n",
             0);
    l = load("rte", root, GLUE_SPLIT_TRAIN, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 1 && l.ds.examples[0].label == 1);
    glue_dataset_free(&l.ds);
    l = load("RTE", root, GLUE_SPLIT_TEST, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 1 && !l.ds.examples[0].has_label);
    glue_dataset_free(&l.ds);
    l = load("wnli", root, GLUE_SPLIT_DEV, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 2 && l.ds.examples[1].label == 1 &&
          strcmp(l.ds.task->label_names[1], "entailment") == 0);
    glue_dataset_free(&l.ds);

    /* The data path may be the task folder or the file itself */
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/WNLI", root);
    l = load("wnli", sub, GLUE_SPLIT_DEV, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 2);
    glue_dataset_free(&l.ds);
    snprintf(sub, sizeof sub, "%s/WNLI/dev.tsv", root);
    l = load("wnli", sub, GLUE_SPLIT_DEV, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 2);
    glue_dataset_free(&l.ds);

    /* --limit, and blank lines ignored */
    put_file(root, "SST-2/train.tsv",
             "sentence\tlabel\n\na\t1\n\nb\t0\nc\t1\nd\t0\n", 0);
    l = load("sst2", root, GLUE_SPLIT_TRAIN, false, 2);
    CHECK(l.st == IR_OK && l.ds.n == 2 &&
          strcmp(l.ds.examples[1].text_a, "b") == 0 &&
          l.ds.examples[1].line == 5);
    glue_dataset_free(&l.ds);
}

/* ---- errors -------------------------------------------------------------*/

static void expect_bad(const char *root, const char *task, const char *rel,
                       const char *text, size_t len, glue_split split,
                       size_t bad_line, const char *why, size_t n_good)
{
    put_file(root, rel, text, len);
    loaded l = load(task, root, split, false, 0);
    char where[64];
    snprintf(where, sizeof where, "%s:%zu: ", rel, bad_line);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, where) &&
                  strstr(l.d.msg, why),
              "%s: got status %d: %s", rel, (int)l.st, l.d.msg);
    CHECK(l.ds.n == 0 && l.ds.examples == NULL);
    glue_dataset_free(&l.ds);

    l = load(task, root, split, true, 0);
    CHECK_MSG(l.st == IR_OK, "%s with skip: %s", rel, l.d.msg);
    CHECK_MSG(l.ds.n == n_good && l.ds.n_skipped == 1 &&
                  l.ds.skipped_lines[0] == bad_line &&
                  strstr(l.ds.first_skip_reason, why),
              "%s: n %zu skipped %zu line %zu reason %s", rel, l.ds.n,
              l.ds.n_skipped, l.ds.skipped_lines[0], l.ds.first_skip_reason);
    glue_dataset_free(&l.ds);
}

static void test_errors(const char *root)
{
    expect_bad(root, "sst2", "SST-2/dev.tsv",
               "sentence\tlabel\ngood\t1\ntoo\tmany\t1\nok\t0\n", 0,
               GLUE_SPLIT_DEV, 3, "expected 2 tab-separated columns, found 3",
               2);
    expect_bad(root, "sst2", "SST-2/dev.tsv",
               "sentence\tlabel\ngood\t1\nmissing label\n", 0, GLUE_SPLIT_DEV,
               3, "found 1", 1);
    expect_bad(root, "cola", "CoLA/dev.tsv",
               "gj04\t1\t\tFine.\ngj04\t2\t\tBad label.\n", 0, GLUE_SPLIT_DEV,
               2, "unknown label '2'", 1);
    expect_bad(root, "rte", "RTE/dev.tsv",
               "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n"
               "1\ta\tb\tneutral\n",
               0, GLUE_SPLIT_DEV, 3, "unknown label 'neutral'", 1);
    expect_bad(root, "stsb", "STS-B/dev.tsv",
               "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2"
               "\tsentence1\tsentence2\tscore\n"
               "0\tg\tf\ty\to\ts\ts\ta\tb\t4.2x\n"
               "1\tg\tf\ty\to\ts\ts\ta\tb\t1.5\n",
               0, GLUE_SPLIT_DEV, 2, "score '4.2x' is not a number", 1);
    expect_bad(root, "stsb", "STS-B/dev.tsv",
               "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2"
               "\tsentence1\tsentence2\tscore\n"
               "0\tg\tf\ty\to\ts\ts\ta\tb\tnan\n"
               "1\tg\tf\ty\to\ts\ts\ta\tb\t0\n",
               0, GLUE_SPLIT_DEV, 2, "not a number", 1);
    /* STS-B scores are similarities in [0, 5]: 17.5 is a malformed line */
    expect_bad(root, "stsb", "STS-B/dev.tsv",
               "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2"
               "\tsentence1\tsentence2\tscore\n"
               "0\tg\tf\ty\to\ts\ts\ta\tb\t5.000\n"
               "1\tg\tf\ty\to\ts\ts\ta\tb\t17.5\n"
               "2\tg\tf\ty\to\ts\ts\ta\tb\t0\n",
               0, GLUE_SPLIT_DEV, 3, "score 17.5 is outside [0, 5]", 2);
    expect_bad(root, "stsb", "STS-B/train.tsv",
               "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2"
               "\tsentence1\tsentence2\tscore\n"
               "0\tg\tf\ty\to\ts\ts\ta\tb\t-0.5\n"
               "1\tg\tf\ty\to\ts\ts\ta\tb\t2.4\n",
               0, GLUE_SPLIT_TRAIN, 2, "score -0.5 is outside [0, 5]", 1);
    expect_bad(root, "sst2", "SST-2/dev.tsv",
               "sentence\tlabel\nok\t1\nbad \xC3\x28 byte\t0\n", 0,
               GLUE_SPLIT_DEV, 3, "invalid UTF-8 at byte 5", 1);
    expect_bad(root, "sst2", "SST-2/dev.tsv",
               "sentence\tlabel\nsurrogate \xED\xA0\x80\t0\nok\t1\n", 0,
               GLUE_SPLIT_DEV, 2, "invalid UTF-8", 1);
    expect_bad(root, "sst2", "SST-2/dev.tsv",
               "sentence\tlabel\nnul\0here\t0\nok\t1\n", 31, GLUE_SPLIT_DEV,
               2, "NUL byte", 1);

    /* skipping many: count all, report the first few line numbers */
    char buf[4096] = "sentence\tlabel\n";
    for (int i = 0; i < 20; i++)
        strcat(buf, i % 2 ? "fine\t1\n" : "broken\n");
    put_file(root, "SST-2/dev.tsv", buf, 0);
    loaded l = load("sst2", root, GLUE_SPLIT_DEV, true, 0);
    CHECK(l.st == IR_OK && l.ds.n == 10 && l.ds.n_skipped == 10);
    CHECK(l.ds.skipped_lines[0] == 2 && l.ds.skipped_lines[1] == 4 &&
          l.ds.skipped_lines[GLUE_SKIP_REPORT - 1] == 2 + 2 * 7);
    glue_dataset_free(&l.ds);

    /* header problems are never skipped */
    put_file(root, "MRPC/train.tsv",
             "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 Text\t#2 String\n"
             "1\t1\t2\ta\tb\n",
             0);
    l = load("mrpc", root, GLUE_SPLIT_TRAIN, true, 0);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, "MRPC/train.tsv:1:") &&
                  strstr(l.d.msg, "'#1 String'"),
              "%s", l.d.msg);
    glue_dataset_free(&l.ds);
    put_file(root, "QNLI/train.tsv",
             "index\tquestion\tsentence\n0\ta\tb\n", 0);
    l = load("qnli", root, GLUE_SPLIT_TRAIN, false, 0);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, "'label' label column"),
              "%s", l.d.msg);
    glue_dataset_free(&l.ds);
    put_file(root, "RTE/dev.tsv", "", 0);
    l = load("rte", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, "empty file"), "%s",
              l.d.msg);
    glue_dataset_free(&l.ds);

    /* a split with no example (its metrics would be NaN): only a header, an
     * empty CoLA file, or nothing but malformed lines skipped */
    put_file(root, "SST-2/dev.tsv", "sentence\tlabel\n\n", 0);
    l = load("sst2", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, "SST-2/dev.tsv: no "
              "examples (nothing after the header line)"), "%s", l.d.msg);
    glue_dataset_free(&l.ds);
    put_file(root, "CoLA/dev.tsv", "", 0);
    l = load("cola", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, "no examples (the file "
              "is empty)"), "%s", l.d.msg);
    glue_dataset_free(&l.ds);
    put_file(root, "SST-2/dev.tsv", "sentence\tlabel\nbroken\nbroken\n", 0);
    l = load("sst2", root, GLUE_SPLIT_DEV, true, 0);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, "all 2 lines after the "
              "header are malformed (line 2: "), "%s", l.d.msg);
    glue_dataset_free(&l.ds);

    /* the advice to skip is given only when the caller offers the option */
    put_file(root, "SST-2/dev.tsv", "sentence\tlabel\nok\t1\nbroken\n", 0);
    l = load("sst2", root, GLUE_SPLIT_DEV, false, 0);
    CHECK_MSG(l.st == IR_ERR_INPUT && !strstr(l.d.msg, "--skip-bad-lines"),
              "%s", l.d.msg);
    glue_dataset_free(&l.ds);
    glue_load_opts offer = {.offer_skip = true};
    l.st = glue_load(glue_task_lookup("sst2"), root, GLUE_SPLIT_DEV, &offer,
                     &l.ds, &l.d);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, "SST-2/dev.tsv:3: ") &&
              strstr(l.d.msg, "skipped with --skip-bad-lines"), "%s", l.d.msg);
    glue_dataset_free(&l.ds);

    /* a missing file names both places looked: the user's input (exit 2) */
    l = load("QNLI", root, GLUE_SPLIT_TEST, false, 0);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, "QNLI/test.tsv") &&
                  strstr(l.d.msg, "no file"),
              "%s", l.d.msg);
    glue_dataset_free(&l.ds);
    /* a folder or a FIFO where the file should be: named, never read */
    char p[1024];
    snprintf(p, sizeof p, "%s/QNLI/test.tsv", root);
    mkdir(p, 0700);
    l = load("QNLI", root, GLUE_SPLIT_TEST, false, 0);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, "is a folder"), "%s",
              l.d.msg);
    glue_dataset_free(&l.ds);
    rmdir(p);
    CHECK(mkfifo(p, 0600) == 0);
    l = load("QNLI", root, GLUE_SPLIT_TEST, false, 0);
    CHECK_MSG(l.st == IR_ERR_INPUT && strstr(l.d.msg, "is a FIFO"), "%s",
              l.d.msg);
    glue_dataset_free(&l.ds);
    unlink(p);
    glue_dataset gd;
    ir_diag d;
    ir_diag_init(&d);
    CHECK(glue_load(NULL, root, GLUE_SPLIT_DEV, NULL, &gd, &d) ==
          IR_ERR_INPUT);
    glue_dataset_free(&gd);
}

/* ---- the real GLUE files ------------------------------------------------*/

typedef struct real_case {
    const char *task;
    glue_split split;
    size_t rows, n0, n1; /* n0/n1: label counts (classification) */
    double mean;         /* STS-B mean score */
} real_case;

static void test_real_files(const char *glue)
{
    /* PROVENANCE.md's table */
    static const real_case cases[] = {
        {"SST-2", GLUE_SPLIT_TRAIN, 67349, 29780, 37569, 0},
        {"SST-2", GLUE_SPLIT_DEV, 872, 428, 444, 0},
        {"MRPC", GLUE_SPLIT_TRAIN, 3668, 1194, 2474, 0},
        {"MRPC", GLUE_SPLIT_DEV, 408, 129, 279, 0},
        {"CoLA", GLUE_SPLIT_TRAIN, 8551, 2528, 6023, 0},
        {"CoLA", GLUE_SPLIT_DEV, 1043, 322, 721, 0},
        {"STS-B", GLUE_SPLIT_TRAIN, 5749, 0, 0, 2.701},
        {"STS-B", GLUE_SPLIT_DEV, 1500, 0, 0, 2.3639},
        {"WNLI", GLUE_SPLIT_TRAIN, 635, 323, 312, 0},
        {"WNLI", GLUE_SPLIT_DEV, 71, 40, 31, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const real_case *rc = &cases[c];
        loaded l = load(rc->task, glue, rc->split, false, 0);
        CHECK_MSG(l.st == IR_OK, "%s %s: %s", rc->task,
                  glue_split_name(rc->split), l.d.msg);
        CHECK_MSG(l.ds.n == rc->rows && l.ds.n_skipped == 0,
                  "%s %s: %zu rows, expected %zu", rc->task,
                  glue_split_name(rc->split), l.ds.n, rc->rows);
        if (l.ds.task && l.ds.task->is_regression) {
            double sum = 0, lo = INFINITY, hi = -INFINITY;
            for (size_t i = 0; i < l.ds.n; i++) {
                double s = l.ds.examples[i].score;
                sum += s;
                lo = s < lo ? s : lo;
                hi = s > hi ? s : hi;
            }
            double mean = l.ds.n ? sum / (double)l.ds.n : 0;
            CHECK_MSG(fabs(mean - rc->mean) < 5e-4 && lo == 0.0 && hi == 5.0,
                      "%s mean %.5f min %g max %g", rc->task, mean, lo, hi);
        } else {
            size_t n0 = 0, n1 = 0;
            for (size_t i = 0; i < l.ds.n; i++) {
                n0 += l.ds.examples[i].label == 0;
                n1 += l.ds.examples[i].label == 1;
            }
            CHECK_MSG(n0 == rc->n0 && n1 == rc->n1, "%s %s: labels %zu/%zu",
                      rc->task, glue_split_name(rc->split), n0, n1);
        }
        glue_dataset_free(&l.ds);
    }

    /* first rows, read past MRPC's byte-order mark; CoLA dev's last line has
     * no '\n' */
    loaded l = load("mrpc", glue, GLUE_SPLIT_DEV, false, 1);
    CHECK(l.st == IR_OK && l.ds.n == 1 && l.ds.examples[0].label == 1 &&
          strncmp(l.ds.examples[0].text_a, "He said the foodservice", 23) ==
              0 &&
          l.ds.examples[0].line == 2);
    glue_dataset_free(&l.ds);
    l = load("sst2", glue, GLUE_SPLIT_DEV, false, 0);
    CHECK(l.st == IR_OK &&
          strcmp(l.ds.examples[0].text_a,
                 "it 's a charming and often affecting journey . ") == 0);
    glue_dataset_free(&l.ds);
    l = load("cola", glue, GLUE_SPLIT_DEV, false, 0);
    CHECK(l.st == IR_OK && l.ds.n == 1043 &&
          l.ds.examples[1042].line == 1043 &&
          l.ds.examples[1042].text_a[strlen(l.ds.examples[1042].text_a) - 1] ==
              '.');
    glue_dataset_free(&l.ds);

    /* the SentEval-tokenized MRPC train, given as a file path: 3667 rows */
    char path[1024];
    snprintf(path, sizeof path, "%s/MRPC/senteval_tokenized/train.tsv", glue);
    l = load("mrpc", path, GLUE_SPLIT_TRAIN, false, 0);
    CHECK_MSG(l.st == IR_OK && l.ds.n == 3667, "%s (%zu rows)", l.d.msg,
              l.ds.n);
    glue_dataset_free(&l.ds);
}

int main(void)
{
    test_names();

    char tmp[512];
    if (!test_tmpdir(tmp, sizeof tmp)) {
        fprintf(stderr, "test_glue: cannot make a temporary directory\n");
        return 1;
    }
    test_fixture_layouts(tmp);
    test_errors(tmp);

    char buf[1024];
    const char *glue = test_shared_path("glue", buf, sizeof buf);
    if (glue)
        test_real_files(glue);
    else
        printf("test_glue: real GLUE files skipped: shared data absent\n");

    /* leave no fixtures behind */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "test_glue: could not remove %s\n", tmp);
    return test_finish("test_glue");
}

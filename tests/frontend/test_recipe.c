/* test_recipe.c — distillation recipes (frontend/recipe.h): the shipped
 * example loads; a minimal recipe keeps the defaults it does not mention;
 * relative paths resolve against the recipe's folder; each class of
 * schema error is reported with the file, line and element at fault
 * (unknown element, bad number, out-of-range value, bad enumeration,
 * missing required attribute, malformed XML); and the compiled-in schema is
 * byte-identical to frontend/recipe.xsd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/recipe.h"
#include "testutil.h"

static void test_shipped(void)
{
    char path[4096];
    test_source_path("frontend/recipe.xsd", path, sizeof path);
    char *xsd = test_read_file(path, NULL);
    if (!xsd) {
        test_skip("schema sync check, %s absent", path);
    } else {
        CHECK_MSG(strcmp(xsd, recipe_schema_text()) == 0,
                  "frontend/recipe_schema.c is out of date with %s", path);
        free(xsd);
    }
    test_source_path("distill/recipes/tinybert-sst2.xml", path, sizeof path);
    recipe r;
    recipe_default(&r);
    ir_diag d;
    ir_diag_init(&d);
    char *text = test_read_file(path, NULL);
    if (!text) {
        test_skip("%s absent", path);
        return;
    }
    free(text);
    CHECK_MSG(recipe_load_file(path, &r, &d) == IR_OK, "%s", d.msg);
    CHECK(strcmp(r.task, "SST-2") == 0);
    CHECK(strcmp(r.student, "layers=4,hidden=312,heads=12,ffn=1200") == 0);
    CHECK(strcmp(r.layer_map, "3,6,9,12") == 0);
    CHECK(strstr(r.data, "distill/recipes/../../../shared/glue") != NULL);
    CHECK(r.intermediate.epochs == 10 && r.prediction.epochs == 3);
    CHECK(r.intermediate.lr == 5e-5f && r.prediction.lr == 3e-5f);
    CHECK(r.intermediate.ckpt_every == 500 && r.prediction.eval_every == 500);
    CHECK(r.general.max_seq == 128 && r.corpus[0] == 0);
}

/* The GLUE table's recipes (issue 17): the teachers' fine-tuning and
 * compress's full method per task, each loading and saying what the
 * bench runs. */
static void test_glue_recipes(void)
{
    static const char *const tasks[4][2] = {
        {"sst2", "SST-2"}, {"mrpc", "MRPC"}, {"cola", "CoLA"}, {"stsb", "STS-B"}};
    for (int i = 0; i < 4; i++) {
        char path[4096], name[128];
        ir_diag d;
        ir_diag_init(&d);
        recipe r;
        snprintf(name, sizeof name, "distill/recipes/finetune-minilm-%s.xml", tasks[i][0]);
        test_source_path(name, path, sizeof path);
        recipe_default(&r);
        CHECK_MSG(recipe_load_file(path, &r, &d) == IR_OK, "%s", d.msg);
        CHECK_MSG(strcmp(r.task, tasks[i][1]) == 0 && r.prediction.bucket == 50 &&
                      r.prediction.lr == 5e-5f && r.prediction.batch == 32 &&
                      r.prediction.eval_every > 0 && r.prediction.epochs >= 2,
                  "%s", name);
        snprintf(name, sizeof name, "distill/recipes/tinybert-glue-%s.xml", tasks[i][0]);
        test_source_path(name, path, sizeof path);
        recipe_default(&r);
        CHECK_MSG(recipe_load_file(path, &r, &d) == IR_OK, "%s", d.msg);
        CHECK_MSG(strcmp(r.task, tasks[i][1]) == 0 && r.controls &&
                      r.supernet.steps > 0 && r.search_population == 32 &&
                      r.search_generations == 10 && r.intermediate.steps > 0 &&
                      r.prediction.steps > 0 && r.intermediate.bucket == 50 &&
                      r.prediction.bucket == 50,
                  "%s", name);
        /* augmentation where the task is small: all but SST-2 */
        CHECK_MSG((r.augment_copies > 0) == (i != 0), "%s: augment %lld", name,
                  (long long)r.augment_copies);
    }
}

/* compress's elements: <supernet>, <search>, <controls>, <bucket>. */
static void test_compress_elements(void)
{
    const char *x =
        "<recipe version='1'>\n"
        "  <supernet><steps>7</steps><batch>16</batch></supernet>\n"
        "  <search population='12' generations='3'/>\n"
        "  <prediction><bucket>5</bucket></prediction>\n"
        "  <controls>true</controls>\n"
        "</recipe>\n";
    recipe r;
    recipe_default(&r);
    ir_diag d;
    ir_diag_init(&d);
    CHECK(!r.controls && r.supernet.steps == 0 && r.search_population == 0 &&
          r.prediction.bucket == 0);
    CHECK_MSG(recipe_load_text(x, strlen(x), "c.xml", NULL, &r, &d) == IR_OK, "%s",
              d.msg);
    CHECK(r.supernet.steps == 7 && r.supernet.batch == 16);
    CHECK(r.search_population == 12 && r.search_generations == 3);
    CHECK(r.prediction.bucket == 5 && r.intermediate.bucket == 0 && r.controls);
    const char *bad = "<recipe version='1'>\n<search population='0'/>\n</recipe>\n";
    recipe_default(&r);
    CHECK(recipe_load_text(bad, strlen(bad), "c.xml", NULL, &r, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "c.xml:2") && strstr(d.msg, "population"), "%s", d.msg);
    bad = "<recipe version='1'>\n<prediction><bucket>-1</bucket></prediction>\n</recipe>\n";
    CHECK(recipe_load_text(bad, strlen(bad), "c.xml", NULL, &r, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "c.xml:2") && strstr(d.msg, "bucket"), "%s", d.msg);
}

static void test_minimal(void)
{
    const char *x =
        "<recipe version='1'>\n"
        "  <student layers='2' hidden='64' heads='4' ffn='128' embed='16'/>\n"
        "  <share>groups:2</share>\n"
        "  <tokenizer>tok/tokenizer.json</tokenizer>\n"
        "  <general corpus='wiki.txt'><steps>10</steps></general>\n"
        "  <prediction skip='true'/>\n"
        "</recipe>\n";
    recipe r;
    recipe_default(&r);
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(recipe_load_text(x, strlen(x), "m.xml", "/data/r", &r, &d) == IR_OK,
              "%s", d.msg);
    CHECK(strcmp(r.student, "layers=2,hidden=64,heads=4,ffn=128,embed=16") == 0);
    CHECK(strcmp(r.share, "groups:2") == 0 && strcmp(r.init, "teacher") == 0);
    CHECK(strcmp(r.corpus, "/data/r/wiki.txt") == 0);
    CHECK(strcmp(r.tokenizer, "/data/r/tok/tokenizer.json") == 0 && !r.vocab[0]);
    CHECK(r.general.steps == 10 && r.general.batch == 32);
    CHECK(r.prediction.skip && !r.intermediate.skip);
    CHECK(r.intermediate.epochs == 3 && r.intermediate.lr == 5e-5f &&
          r.prediction.temperature == 1.0f && r.task[0] == 0);
    /* where each text setting came from, for messages that blame it */
    CHECK(strcmp(r.file, "m.xml") == 0);
    CHECK_MSG(r.line.student == 2 && r.line.share == 3 && r.line.tokenizer == 4 &&
              r.line.corpus == 5 && r.line.task == 0 && r.line.layer_map == 0,
              "student %d share %d tokenizer %d corpus %d", r.line.student,
              r.line.share, r.line.tokenizer, r.line.corpus);
}

static void expect_error(const char *what, const char *xml, const char *needle)
{
    recipe r;
    recipe_default(&r);
    ir_diag d;
    ir_diag_init(&d);
    ir_status st = recipe_load_text(xml, strlen(xml), "bad.xml", NULL, &r, &d);
    CHECK_MSG(st == IR_ERR_INPUT, "%s: status %d", what, (int)st);
    CHECK_MSG(strstr(d.msg, needle) != NULL, "%s: expected '%s' in '%s'", what,
              needle, d.msg);
    printf("  %-22s %s\n", what, d.msg);
}

static void test_errors(void)
{
    expect_error("unknown element",
                 "<recipe version='1'>\n<task>SST-2</task>\n<teacher>x</teacher>\n"
                 "</recipe>", "bad.xml:3: element 'teacher'");
    expect_error("bad number",
                 "<recipe version='1'>\n<intermediate>\n<epochs>3</epochs>\n"
                 "<lr>2e-5x</lr>\n</intermediate>\n</recipe>",
                 "bad.xml:4: element 'lr'");
    expect_error("non-positive integer",
                 "<recipe version='1'>\n<prediction>\n<batch>0</batch>\n"
                 "</prediction>\n</recipe>", "bad.xml:3: element 'batch'");
    expect_error("out-of-range fraction",
                 "<recipe version='1'>\n\n<general><warmup>1.5</warmup></general>\n"
                 "</recipe>", "bad.xml:3: element 'warmup'");
    expect_error("bad sharing",
                 "<recipe version='1'>\n<share>groups:0</share>\n</recipe>",
                 "bad.xml:2: element 'share'");
    expect_error("bad init",
                 "<recipe version='1'>\n<init>zeros</init>\n</recipe>",
                 "bad.xml:2: element 'init'");
    expect_error("missing attribute",
                 "<recipe version='1'>\n<student layers='2' hidden='8' heads='2'/>\n"
                 "</recipe>", "bad.xml:2: element 'student'");
    expect_error("bad attribute number",
                 "<recipe version='1'>\n<student layers='two' hidden='8' heads='2' "
                 "ffn='8'/>\n</recipe>", "bad.xml:2: element 'student', attribute 'layers'");
    expect_error("wrong root",
                 "<recipes version='1'/>\n", "bad.xml:1: element 'recipes'");
    expect_error("malformed XML",
                 "<recipe version='1'>\n<task>SST-2</tsk>\n</recipe>",
                 "bad.xml:2: malformed XML");
    expect_error("tiny max-seq",
                 "<recipe version='1'>\n<prediction>\n<max-seq>4</max-seq>\n"
                 "</prediction>\n</recipe>", "bad.xml:3: element 'max-seq'");
    expect_error("another version",
                 "<recipe version='99'>\n<task>SST-2</task>\n</recipe>",
                 "bad.xml:1: element 'recipe': version 99, this distilc reads "
                 "recipes of version 1");
    /* XXE: libxml2's schema validator stops at the entity reference with
     * "Internal error: xmlSchemaVDocWalk"; a DOCTYPE is refused first */
    expect_error("external entity",
                 "<?xml version='1.0'?>\n<!DOCTYPE recipe [\n<!ENTITY x SYSTEM "
                 "'file:///etc/passwd'>\n]>\n<recipe version='1'><task>&x;</task>"
                 "</recipe>", "bad.xml:2: a DOCTYPE is not allowed");
    expect_error("billion laughs",
                 "<!DOCTYPE r [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;"
                 "&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>"
                 "]>\n<recipe version='1'><task>&c;</task></recipe>",
                 "bad.xml:"); /* libxml2 stops it first, as an entity loop */
    /* elements 300 deep: libxml2 stops at its limit, named in our words */
    char deep[300 * 7 + 64];
    size_t n = (size_t)sprintf(deep, "<recipe version='1'>");
    for (int i = 0; i < 300; i++)
        n += (size_t)sprintf(deep + n, "<a>");
    for (int i = 0; i < 300; i++)
        n += (size_t)sprintf(deep + n, "</a>");
    sprintf(deep + n, "</recipe>");
    expect_error("deep nesting", deep, "elements nest more than 256 levels deep");
    recipe r;
    ir_diag d;
    ir_diag_init(&d);
    CHECK(recipe_load_file("/nonexistent/r.xml", &r, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "/nonexistent/r.xml") != NULL);
}

int main(void)
{
    test_shipped();
    test_minimal();
    test_glue_recipes();
    test_compress_elements();
    test_errors();
    return test_finish("test_recipe");
}

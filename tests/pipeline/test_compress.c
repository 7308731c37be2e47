/* test_compress.c — the stage machine of `distilc compress` with fake stage
 * functions (no model is trained here): which stages a run executes and
 * which a rerun skips, --from, changed inputs and missing outputs redoing
 * the right stages, a failing stage naming itself and leaving the earlier
 * ones done, state.json round trips and refusals, the budget split, and
 * report.json / report.svg from a known state (numbers checked exactly). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "frontend/json.h"
#include "frontend/recipe.h"
#include "pipeline/compress.h"
#include "pipeline/report.h"
#include "testutil.h"

/* ---- fixtures: a teacher file, a vocabulary, a data folder ----------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* ---- fake stages: count calls, write their declared outputs --------------- */

typedef struct fake_log {
    int calls[COMPRESS_STAGE_COUNT];
    bool resume[COMPRESS_STAGE_COUNT];   /* c->resume of the last call */
    bool had_ckpt[COMPRESS_STAGE_COUNT]; /* its checkpoint was there */
    int fail_at; /* stage that fails, -1 none */
} fake_log;

/* Stage functions cannot take a user pointer beyond the ctx, so the log
 * lives in a file-static the tests reset (test code only). */
static fake_log flog;

static ir_status fake_stage(compress_ctx *c, compress_stage s, const char *file,
                            ir_diag *d)
{
    flog.calls[s]++;
    flog.resume[s] = c->resume;
    /* the training stages leave a checkpoint, as a kill would */
    if (s == COMPRESS_SUPERNET || s == COMPRESS_DISTILL) {
        char ck[4200];
        struct stat sb;
        if (compress_ckpt_dir(c, s, ck, sizeof ck - 16, d) != IR_OK)
            return IR_ERR_IO;
        strcat(ck, "/last.ckpt");
        flog.had_ckpt[s] = stat(ck, &sb) == 0;
        write_text(ck, "a checkpoint");
    }
    if (flog.fail_at == (int)s)
        return ir_diag_set(d, IR_ERR_FAILED, "fake failure");
    if (file)
        write_text(compress_path(c, file), "x");
    if (s == COMPRESS_SEARCH) {
        c->st->r.s_layers = 2;
        snprintf(c->st->r.s_share, sizeof c->st->r.s_share, "groups:2");
    }
    return IR_OK;
}

#define FAKE(name, stage, file)                                               \
    static ir_status name(compress_ctx *c, ir_diag *d)                        \
    {                                                                         \
        return fake_stage(c, stage, file, d);                                 \
    }
FAKE(f_lift, COMPRESS_LIFT, NULL)
FAKE(f_supernet, COMPRESS_SUPERNET, "supernet.json")
FAKE(f_search, COMPRESS_SEARCH, "pareto.json")
FAKE(f_distill, COMPRESS_DISTILL, "student.onnx")
FAKE(f_build, COMPRESS_BUILD, "model")
FAKE(f_eval, COMPRESS_EVAL, NULL)
FAKE(f_ctl_ft, COMPRESS_CONTROL_FT, NULL)
FAKE(f_ctl_kd, COMPRESS_CONTROL_KD, NULL)
FAKE(f_report, COMPRESS_REPORT, "report.json")

static const compress_stage_def fakes[COMPRESS_STAGE_COUNT] = {
    {f_lift, {NULL}, {NULL}, false},
    {f_supernet, {"supernet.json", NULL}, {"supernet.onnx", NULL}, false},
    {f_search, {"pareto.json", NULL}, {NULL}, false},
    {f_distill, {"student.onnx", NULL}, {NULL}, false},
    {f_build, {"model", NULL}, {NULL}, false},
    {f_eval, {NULL}, {NULL}, false},
    {f_ctl_ft, {NULL}, {NULL}, false},
    {f_ctl_kd, {NULL}, {NULL}, false},
    {f_report, {"report.json", NULL}, {NULL}, true},
};

/* stage_begin hook: appends "STAGE: why; " to the buffer in user. */
static void why_hook(void *user, compress_stage s, bool skipped, const char *why)
{
    char *buf = user;
    if (!skipped)
        snprintf(buf + strlen(buf), 1024 - strlen(buf), "%s: %s; ",
                 compress_stage_name(s), why);
}

/* Runs the machine; returns a bit mask of the stages that were called. */
static int run_mask(const compress_options *o, compress_state *st, ir_status *s,
                    ir_diag *d)
{
    memset(flog.calls, 0, sizeof flog.calls);
    *s = compress_run(o, fakes, NULL, st, d);
    int m = 0;
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++)
        if (flog.calls[i])
            m |= 1 << i;
    return m;
}

enum { ALL = (1 << COMPRESS_STAGE_COUNT) - 1 };
#define FROM(s) (ALL & ~((1 << (s)) - 1))

static void test_skip_logic(const char *dir)
{
    char teacher[4096], vocab[4096], data[4096], out[4096], corpus[4096], path[4200];
    snprintf(teacher, sizeof teacher, "%s/teacher.onnx", dir);
    snprintf(vocab, sizeof vocab, "%s/vocab.txt", dir);
    snprintf(data, sizeof data, "%s/glue", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(corpus, sizeof corpus, "%s/corpus.txt", dir);
    write_text(teacher, "not really onnx: the fake stages never read it");
    write_text(vocab, "[PAD]\n[UNK]\n");
    mkdir(data, 0777);
    write_text(corpus, "a line\n");

    compress_options o;
    compress_options_default(&o);
    o.teacher = teacher;
    o.task = "sst2";
    o.data = data;
    o.vocab = vocab;
    o.out = out;
    compress_state *st = malloc(sizeof *st);
    ir_diag d;
    ir_diag_init(&d);
    ir_status s;
    char whybuf[1024];
    flog.fail_at = -1;

    /* first run: everything; second: nothing */
    int m = run_mask(&o, st, &s, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    CHECK_MSG(m == ALL, "first run mask %x", m);
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++)
        CHECK(st->done[i] && st->ran[i]);
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(s == IR_OK && m == 0, "rerun mask %x", m);
    CHECK(st->r.s_layers == 2 && strcmp(st->r.s_share, "groups:2") == 0);
    CHECK(!st->ran[COMPRESS_LIFT]);

    /* --from distill redoes distill and after */
    o.from = COMPRESS_DISTILL;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_DISTILL), "--from distill mask %x", m);
    o.from = -1;

    /* a supernet input (the training data's --limit) redoes the supernet
     * and after, not lift */
    o.limit = 100;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_SUPERNET), "limit change mask %x", m);

    /* with --supernet-steps the budget no longer sets the supernet's work:
     * a new budget redoes the search and after */
    o.supernet_steps = 5;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_SUPERNET), "supernet steps mask %x", m);
    o.budget_minutes = 3;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_SEARCH), "budget with supernet steps mask %x", m);
    o.budget_minutes = 0;
    o.supernet_steps = 0;
    m = run_mask(&o, st, &s, &d);
    CHECK(m == FROM(COMPRESS_SUPERNET));

    /* a search input (the latency limit) redoes search and after, not the
     * supernet: one supernet serves any limit */
    o.latency_ms = 3;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_SEARCH), "latency change mask %x", m);
    m = run_mask(&o, st, &s, &d);
    CHECK(m == 0);

    /* asking for the controls redoes them and the report, nothing
     * before: the student they are measured against stays */
    o.controls = true;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_CONTROL_FT), "--controls mask %x", m);
    o.controls = false;
    m = run_mask(&o, st, &s, &d);
    CHECK(m == FROM(COMPRESS_CONTROL_FT));

    /* a recipe's settings count in the stage they set: its supernet
     * settings redo the supernet and after, its search's the search and
     * after, its distillation's distill and after; a rewritten file with
     * the same settings (or a moved one) redoes nothing */
    char rpath[4200];
    snprintf(rpath, sizeof rpath, "%s/recipe.xml", dir);
    write_text(rpath, "<recipe version='1'/>");
    recipe rec;
    recipe_default(&rec);
    o.recipe_path = rpath;
    o.recipe = &rec;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_SUPERNET), "--recipe mask %x", m);
    write_text(rpath, "<recipe version='1'></recipe>");
    o.recipe_path = "elsewhere/recipe.xml";
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == 0, "an equal recipe rewritten: mask %x", m);
    rec.intermediate.steps = 3000;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_DISTILL), "recipe distill steps mask %x", m);
    rec.augment_copies = 4;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_DISTILL), "recipe augment mask %x", m);
    rec.intermediate.ckpt_every = 7; /* cadence: the same result */
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == 0, "recipe ckpt-every mask %x", m);
    rec.search_generations = 3;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_SEARCH), "recipe search mask %x", m);
    rec.supernet.batch = 16;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_SUPERNET), "recipe supernet mask %x", m);
    o.recipe_path = NULL;
    o.recipe = NULL;
    m = run_mask(&o, st, &s, &d);
    CHECK(m == FROM(COMPRESS_SUPERNET));

    /* a distill input (the corpus) redoes distill and after */
    o.corpus = corpus;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_DISTILL), "corpus mask %x", m);

    /* a rewritten teacher (new size) redoes everything */
    write_text(teacher, "another teacher, of another size");
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == ALL, "teacher change mask %x", m);

    /* a lift setting (--seq) redoes everything */
    o.seq = 64;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == ALL, "seq change mask %x", m);

    /* a deleted output redoes its stage and after */
    snprintf(path, sizeof path, "%s/model", out);
    remove(path);
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_BUILD), "missing output mask %x", m);

    /* a failing stage names itself; the stages before stay done and a rerun
     * starts at the failed one */
    o.budget_minutes = 2; /* changes the supernet's fingerprint */
    flog.fail_at = COMPRESS_DISTILL;
    m = run_mask(&o, st, &s, &d);
    CHECK(s == IR_ERR_FAILED);
    CHECK_MSG(strstr(d.msg, "stage distill: fake failure") != NULL, "%s", d.msg);
    CHECK(m == ((1 << COMPRESS_SUPERNET) | (1 << COMPRESS_SEARCH) |
                (1 << COMPRESS_DISTILL)));
    flog.fail_at = -1;
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(s == IR_OK && m == FROM(COMPRESS_DISTILL), "after failure mask %x", m);
    /* ... continuing from the checkpoints the failed run left */
    CHECK(flog.resume[COMPRESS_DISTILL] && flog.had_ckpt[COMPRESS_DISTILL]);
    /* a run that finished every stage removed them */
    struct stat sb;
    snprintf(path, sizeof path, "%s/ckpt", out);
    CHECK(stat(path, &sb) != 0);

    /* an output rewritten since (same size, other bytes) redoes its stage,
     * which may resume (any checkpoints are of this very run), and after */
    snprintf(path, sizeof path, "%s/student.onnx", out);
    write_text(path, "y");
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(s == IR_OK && m == FROM(COMPRESS_DISTILL), "rewritten output mask %x", m);
    CHECK(flog.resume[COMPRESS_DISTILL] && !flog.resume[COMPRESS_BUILD]);
    /* ... and says why */
    compress_hooks hk = {.user = whybuf, .stage_begin = why_hook};
    write_text(path, "z");
    whybuf[0] = 0;
    CHECK(compress_run(&o, fakes, &hk, st, &d) == IR_OK);
    CHECK_MSG(strstr(whybuf, "distill: student.onnx changed since the stage wrote it"),
              "%s", whybuf);
    /* an output edited afterwards by design (report.json) is not */
    snprintf(path, sizeof path, "%s/report.json", out);
    write_text(path, "{\"filled in\": 1}");
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(s == IR_OK && m == 0, "edited report.json mask %x", m);
    /* an optional output the stage wrote is checked too; one it did not
     * write is not required */
    snprintf(path, sizeof path, "%s/supernet.onnx", out);
    remove(path);
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(s == IR_OK && m == 0, "optional output absent from the start: %x", m);
    o.from = COMPRESS_SUPERNET;
    run_mask(&o, st, &s, &d);
    o.from = -1;
    write_text(path, "the supernet");
    o.from = COMPRESS_SUPERNET;
    run_mask(&o, st, &s, &d); /* now it exists when the stage ends */
    o.from = -1;
    CHECK(st->n_out[COMPRESS_SUPERNET] == 2);
    write_text(path, "another supernet");
    m = run_mask(&o, st, &s, &d);
    CHECK_MSG(m == FROM(COMPRESS_SUPERNET), "rewritten optional output mask %x", m);

    /* --from and changed inputs start afresh: the checkpoints a failed
     * (or killed) run left are gone before the stage runs */
    flog.fail_at = COMPRESS_BUILD;
    o.from = COMPRESS_SUPERNET;
    run_mask(&o, st, &s, &d); /* leaves the training stages' checkpoints */
    CHECK(s == IR_ERR_FAILED);
    flog.fail_at = -1;
    o.from = COMPRESS_DISTILL;
    m = run_mask(&o, st, &s, &d);
    o.from = -1;
    CHECK(m == FROM(COMPRESS_DISTILL) && !flog.resume[COMPRESS_DISTILL] &&
          !flog.had_ckpt[COMPRESS_DISTILL]);
    flog.fail_at = COMPRESS_BUILD;
    o.from = COMPRESS_SUPERNET;
    run_mask(&o, st, &s, &d);
    CHECK(s == IR_ERR_FAILED);
    flog.fail_at = -1;
    o.from = -1;
    o.limit = 50; /* the supernet's input: both training stages afresh */
    m = run_mask(&o, st, &s, &d);
    CHECK(m == FROM(COMPRESS_SUPERNET) && !flog.resume[COMPRESS_SUPERNET] &&
          !flog.had_ckpt[COMPRESS_SUPERNET] && !flog.resume[COMPRESS_DISTILL] &&
          !flog.had_ckpt[COMPRESS_DISTILL]);
    /* a stage killed mid-way with other inputs than now does not resume */
    flog.fail_at = COMPRESS_DISTILL;
    run_mask(&o, st, &s, &d);
    flog.fail_at = -1;
    o.limit = 60;
    m = run_mask(&o, st, &s, &d);
    CHECK(m == FROM(COMPRESS_SUPERNET) && !flog.resume[COMPRESS_DISTILL] &&
          !flog.had_ckpt[COMPRESS_DISTILL]);

    /* a stage that is not built yet fails with that message */
    compress_stage_def partial[COMPRESS_STAGE_COUNT];
    memcpy(partial, fakes, sizeof partial);
    partial[COMPRESS_BUILD].fn = NULL;
    o.from = COMPRESS_BUILD;
    s = compress_run(&o, partial, NULL, st, &d);
    CHECK(s == IR_ERR_UNSUPPORTED && strstr(d.msg, "stage build: not built yet"));
    o.from = -1;

    /* bad options name themselves */
    compress_options bad = o;
    bad.task = "nope";
    CHECK(compress_run(&bad, fakes, NULL, st, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "--task 'nope'"));
    bad = o;
    bad.share = "groups:x";
    CHECK(compress_run(&bad, fakes, NULL, st, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "--share 'groups:x'"));
    bad = o;
    bad.corpus = "/nonexistent/corpus.txt";
    CHECK(compress_run(&bad, fakes, NULL, st, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "--corpus '/nonexistent/corpus.txt'"));
    bad = o;
    bad.precision = "fp8";
    CHECK(compress_run(&bad, fakes, NULL, st, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "--precision 'fp8'"));
    bad = o;
    bad.vocab = NULL;
    CHECK(compress_run(&bad, fakes, NULL, st, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "--vocab or --tokenizer"));
    bad = o;
    bad.tokenizer = vocab; /* a tokenizer.json besides the vocab.txt */
    CHECK(compress_run(&bad, fakes, NULL, st, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "not both"));

    /* a foreign state file is refused with the way out */
    snprintf(path, sizeof path, "%s/state.json", out);
    write_text(path, "{\"format\": \"something-else\", \"version\": 1}");
    s = compress_run(&o, fakes, NULL, st, &d);
    CHECK(s == IR_ERR_INPUT && strstr(d.msg, "--from lift"));
    write_text(path, "{not json");
    s = compress_run(&o, fakes, NULL, st, &d);
    CHECK(s == IR_ERR_INPUT && strstr(d.msg, "state.json"));
    remove(path);
    m = run_mask(&o, st, &s, &d);
    CHECK(s == IR_OK && m == ALL);
    free(st);
}

static void test_state_roundtrip(const char *dir)
{
    compress_state *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    compress_state_init(a);
    a->done[COMPRESS_LIFT] = a->done[COMPRESS_SEARCH] = true;
    a->fp[COMPRESS_LIFT] = 0xfedcba9876543210ull;
    a->seconds[COMPRESS_SEARCH] = 12.5;
    a->n_out[COMPRESS_SEARCH] = 2;
    a->out[COMPRESS_SEARCH][0] = (compress_output){"search/pareto.json", 0x0123456789abcdefull};
    a->out[COMPRESS_SEARCH][1] = (compress_output){"search/pareto \"x\".svg", 42};
    compress_results *r = &a->r;
    snprintf(r->teacher.shape, sizeof r->teacher.shape, "L12 H768 A12 F3072 E0 none");
    r->teacher.parameters = 109483778;
    r->teacher.latency_ms = 71.25;
    r->teacher.metrics.n = 3;
    r->teacher.metrics.main = 2;
    snprintf(r->teacher.metrics.name[2], 32, "combined_score");
    r->teacher.metrics.value[2] = 0.875;
    snprintf(r->fitness, sizeof r->fitness, "proxy \"quoted\"\\");
    r->dstage[1].ran = true;
    r->dstage[1].steps = 300;
    r->dstage[1].teacher_s = 7.5;
    r->step_s = 0.25;
    r->ctl[1].ran = true;
    r->ctl[1].steps = 600;
    r->ctl[1].teacher_s = 3.25;
    r->ctl[1].metrics.n = 2;
    r->ctl[1].metrics.main = 1;
    snprintf(r->ctl[1].metrics.name[1], 32, "mcc");
    r->ctl[1].metrics.value[1] = 0.375;
    char path[4096];
    snprintf(path, sizeof path, "%s/state.json", dir);
    ir_diag d;
    ir_diag_init(&d);
    CHECK(compress_state_save(path, a, &d) == IR_OK);
    CHECK_MSG(compress_state_load(path, b, &d) == IR_OK, "%s", d.msg);
    CHECK(b->done[COMPRESS_LIFT] && b->done[COMPRESS_SEARCH] && !b->done[COMPRESS_DISTILL]);
    CHECK(b->fp[COMPRESS_LIFT] == 0xfedcba9876543210ull);
    CHECK(b->seconds[COMPRESS_SEARCH] == 12.5);
    CHECK(b->n_out[COMPRESS_SEARCH] == 2 && b->n_out[COMPRESS_LIFT] == 0 &&
          !strcmp(b->out[COMPRESS_SEARCH][0].name, "search/pareto.json") &&
          b->out[COMPRESS_SEARCH][0].hash == 0x0123456789abcdefull &&
          !strcmp(b->out[COMPRESS_SEARCH][1].name, "search/pareto \"x\".svg") &&
          b->out[COMPRESS_SEARCH][1].hash == 42);
    CHECK(strcmp(b->r.teacher.shape, r->teacher.shape) == 0);
    CHECK(b->r.teacher.parameters == 109483778 && b->r.teacher.latency_ms == 71.25);
    CHECK(b->r.teacher.metrics.n == 3 && b->r.teacher.metrics.main == 2);
    CHECK(strcmp(b->r.teacher.metrics.name[2], "combined_score") == 0);
    CHECK(b->r.teacher.metrics.value[2] == 0.875);
    CHECK(b->r.dstage[1].teacher_s == 7.5 && isnan(b->r.dstage[2].teacher_s));
    CHECK(!b->r.ctl[0].ran && b->r.ctl[1].ran && b->r.ctl[1].steps == 600 &&
          b->r.ctl[1].teacher_s == 3.25 && b->r.ctl[1].metrics.n == 2 &&
          b->r.ctl[1].metrics.main == 1 &&
          strcmp(b->r.ctl[1].metrics.name[1], "mcc") == 0 &&
          b->r.ctl[1].metrics.value[1] == 0.375);
    CHECK(isnan(b->r.teacher.metrics.value[0])); /* NaN survives as null */
    CHECK(isnan(b->r.student.latency_ms));
    CHECK(strcmp(b->r.fitness, r->fitness) == 0);
    CHECK(b->r.dstage[1].ran && b->r.dstage[1].steps == 300 && !b->r.dstage[0].ran);
    CHECK(b->r.step_s == 0.25);
    /* no file: an empty state */
    snprintf(path, sizeof path, "%s/none.json", dir);
    CHECK(compress_state_load(path, b, &d) == IR_OK && !b->done[0]);
    /* a FIFO where the state should be: refused at once (issue 18), never
     * a read that blocks until someone writes to it */
    snprintf(path, sizeof path, "%s/fifo.json", dir);
    if (mkfifo(path, 0600) == 0) {
        ir_diag_init(&d);
        CHECK(compress_state_load(path, b, &d) == IR_ERR_INPUT);
        CHECK_MSG(strstr(d.msg, "FIFO") != NULL, "message: %s", d.msg);
        remove(path);
    }
    free(a);
    free(b);
}

static void test_budget(void)
{
    compress_options o;
    compress_options_default(&o);
    compress_budget b;
    compress_budget_split(&o, -1, &b);
    CHECK(b.supernet_s == 0 && b.search_s == 0 && b.distill_s == 0); /* none */
    o.budget_minutes = 10; /* 600 s: 180 supernet, 60 search, 360 distillation */
    compress_budget_split(&o, -1, &b);
    CHECK(fabs(b.supernet_s - 180) < 1e-9 && fabs(b.search_s - 60) < 1e-9 &&
          fabs(b.distill_s - 360) < 1e-9);
    compress_budget_split(&o, 200, &b);  /* quick earlier stages leave more */
    CHECK(fabs(b.distill_s - 400) < 1e-9);
    compress_budget_split(&o, 500, &b);  /* an overrun cannot starve it */
    CHECK(fabs(b.distill_s - 180) < 1e-9);
    o.proxy_fitness = true; /* no supernet: its share goes to distillation */
    compress_budget_split(&o, -1, &b);
    CHECK(b.supernet_s == 0 && fabs(b.distill_s - 540) < 1e-9);
}

static void test_report(const char *dir)
{
    compress_options o;
    compress_options_default(&o);
    o.teacher = "teacher.onnx";
    o.task = "SST-2";
    o.out = dir;
    compress_state *st = malloc(sizeof *st);
    compress_state_init(st);
    compress_results *r = &st->r;
    snprintf(r->teacher.shape, sizeof r->teacher.shape, "L12 H768 A12 F3072 E0 none");
    snprintf(r->student.shape, sizeof r->student.shape, "L4 H312 A12 F1200 E0 none");
    r->teacher.parameters = 100000000;
    r->student.parameters = 12500000;
    r->teacher.size_bytes = 400000000;
    r->student.size_bytes = 50000000;
    r->teacher.latency_ms = 60;
    r->student.latency_ms = 10;
    for (int m = 0; m < 2; m++) {
        compress_model *cm = m ? &r->student : &r->teacher;
        cm->metrics.n = 1;
        cm->metrics.main = 0;
        snprintf(cm->metrics.name[0], 32, "accuracy");
        cm->dev_examples = 872;
    }
    r->teacher.metrics.value[0] = 0.92;
    r->student.metrics.value[0] = 0.897;
    r->budget_s = 300;
    r->search_budget_s = 60;
    r->distill_budget_s = 240;
    r->dstage[1] = (compress_dstage){true, 200, 67349, 0.095, 1.5, 100, 2000, 40, 60};
    r->dstage[2] = (compress_dstage){true, 200, 67349, 0.095, 0.3, 100, 2000, 30, 70};
    /* the controls, 400 steps each (distill's 200 + 200) */
    for (int k = 0; k < COMPRESS_CONTROLS; k++) {
        compress_control *c = &r->ctl[k];
        *c = (compress_control){.ran = true, .steps = 400, .examples = 67349,
                                .final_loss = 0.2, .seconds = 150,
                                .teacher_s = k ? 50 : 0, .student_s = k ? 100 : 150};
        c->metrics.n = 1;
        snprintf(c->metrics.name[0], 32, "accuracy");
        c->metrics.value[0] = k ? 0.881 : 0.86;
    }
    r->step_s = 0.5;
    snprintf(r->set_precision, sizeof r->set_precision, "fp32");
    r->set_seq = 128;
    r->set_batch = 1;
    r->set_threads = 2;
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++)
        st->seconds[i] = i + 1;
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(compress_report_write(&o, st, &d) == IR_OK, "%s", d.msg);
    char path[4096];
    snprintf(path, sizeof path, "%s/report.json", dir);
    char *text = test_read_file(path, NULL);
    CHECK(text != NULL);
    json_doc doc;
    if (text && json_parse(text, strlen(text), path, &doc, &d) == IR_OK) {
        const json_value *t = json_get(doc.root, "teacher");
        const json_value *s = json_get(doc.root, "student");
        CHECK(t && s && t->type == JSON_OBJECT && s->type == JSON_OBJECT);
        const char *keys[] = {"parameters", "latency_ms", "metrics", "size_bytes",
                              "ort_latency_ms"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            CHECK_MSG(t && s && json_get(t, keys[i]) && json_get(s, keys[i]),
                      "key %s", keys[i]);
        const json_value *v = json_get(doc.root, "speedup");
        CHECK(v && v->type == JSON_NUMBER && fabs(v->u.num - 6.0) < 1e-9);
        v = json_get(doc.root, "accuracy_retained");
        CHECK(v && fabs(v->u.num - 0.897 / 0.92) < 1e-9);
        v = json_get(doc.root, "parameter_reduction");
        CHECK(v && fabs(v->u.num - 8.0) < 1e-9);
        v = json_get(doc.root, "ort_speedup");
        CHECK(v && v->type == JSON_NULL);
        const json_value *b = json_get(doc.root, "budget");
        CHECK(b && json_get(b, "minutes") && fabs(json_get(b, "minutes")->u.num - 5) < 1e-9);
        const json_value *al = b ? json_get(b, "allowed") : NULL;
        CHECK(al && al->type == JSON_STRING &&
              strstr(al->u.str, "200 intermediate") != NULL);
        const json_value *stg = json_get(doc.root, "stages");
        CHECK(stg && json_get(stg, "distill") &&
              json_get(json_get(stg, "distill"), "seconds")->u.num == 4);
        v = json_get(doc.root, "total_seconds");
        CHECK(v && v->u.num == 45); /* 1 + 2 + ... + 9 */
        /* teacher and student time per stage: distill's from its stages,
         * the controls' from theirs, lift is all teacher */
        const json_value *sd = stg ? json_get(stg, "distill") : NULL;
        CHECK(sd && json_get(sd, "teacher_seconds")->u.num == 70 &&
              json_get(sd, "student_seconds")->u.num == 130);
        const json_value *sk = stg ? json_get(stg, "control-kd") : NULL;
        CHECK(sk && json_get(sk, "teacher_seconds")->u.num == 50);
        const json_value *sl = stg ? json_get(stg, "lift") : NULL;
        CHECK(sl && json_get(sl, "teacher_seconds")->u.num == 1);
        /* the three rows: finetune, kd, full */
        const json_value *ctl = json_get(doc.root, "controls");
        const json_value *rows = ctl ? json_get(ctl, "rows") : NULL;
        CHECK(rows && rows->type == JSON_ARRAY && rows->len == 3);
        if (rows && rows->type == JSON_ARRAY && rows->len == 3) {
            const char *want[3] = {"finetune", "kd", "full"};
            double main[3] = {0.86, 0.881, 0.897};
            for (size_t i = 0; i < 3; i++) {
                const json_value *row = &rows->u.items[i];
                CHECK_MSG(!strcmp(json_get(row, "name")->u.str, want[i]) &&
                              json_get(row, "main")->u.num == main[i] &&
                              json_get(row, "steps")->u.num == 400,
                          "controls row %zu", i);
            }
        }
        const json_value *sn = json_get(doc.root, "supernet");
        CHECK(sn && json_get(sn, "trained") && json_get(sn, "steps"));
        const json_value *m = t ? json_get(json_get(t, "metrics"), "accuracy") : NULL;
        CHECK(m && m->u.num == 0.92);
        json_doc_free(&doc);
    } else
        CHECK_MSG(false, "report.json does not parse: %s", d.msg);
    free(text);
    snprintf(path, sizeof path, "%s/report.svg", dir);
    text = test_read_file(path, NULL);
    CHECK(text && strstr(text, "<svg") && strstr(text, "</svg>"));
    CHECK(text && strstr(text, "6.00x faster") && strstr(text, "97.5% retained"));
    CHECK(text && strstr(text, "8.0x fewer"));
    free(text);
    /* the table */
    snprintf(path, sizeof path, "%s/table.txt", dir);
    FILE *f = fopen(path, "w");
    compress_report_table(f, &o, st);
    fclose(f);
    text = test_read_file(path, NULL);
    CHECK(text && strstr(text, "6.00x faster") && strstr(text, "97.5% kept"));
    CHECK(text && strstr(text, "L4 H312 A12 F1200 E0 none"));
    CHECK(text && strstr(text, "control: kd only") && strstr(text, "95.8% kept"));
    free(text);
    /* unknown numbers are null, not NaN */
    r->student.latency_ms = NAN;
    f = tmpfile();
    CHECK(compress_report_json(f, &o, st, &d) == IR_OK);
    rewind(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    CHECK(strstr(buf, "\"speedup\": null") != NULL && strstr(buf, "nan") == NULL);
    free(st);
}

int main(void)
{
    char dir[4096];
    if (!test_tmpdir(dir, sizeof dir)) {
        fprintf(stderr, "no temporary directory\n");
        return 1;
    }
    test_skip_logic(dir);
    test_state_roundtrip(dir);
    test_budget();
    test_report(dir);
    return test_finish("test_compress");
}

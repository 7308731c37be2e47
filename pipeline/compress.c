/* compress.c — the stage machine of `distilc compress`: option checks,
 * input fingerprints, the skip/redo decision per stage, the budget split,
 * and the loop that runs the stages and records each one in state.json.
 * The stages themselves live in compress_lift.c, compress_search.c,
 * compress_distill.c, compress_build.c (build and eval) and report.c. */
#include "ir/clock.h"
#include "pipeline/compress.h"
#include "pipeline/compress_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "distill/augment.h"
#include "frontend/glue.h"
#include "frontend/recipe.h"

static const char *const stage_names[COMPRESS_STAGE_COUNT] = {
    "lift", "supernet", "search", "distill", "build", "eval",
    "control-finetune", "control-kd", "report",
};
_Static_assert(sizeof stage_names / sizeof stage_names[0] == COMPRESS_STAGE_COUNT,
               "one name per stage");

const char *compress_stage_name(compress_stage s)
{
    return (unsigned)s < COMPRESS_STAGE_COUNT ? stage_names[s] : "?";
}

bool compress_stage_parse(const char *s, compress_stage *out)
{
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++)
        if (strcmp(s, stage_names[i]) == 0) {
            *out = (compress_stage)i;
            return true;
        }
    return false;
}

void compress_options_default(compress_options *o)
{
    memset(o, 0, sizeof *o);
    o->supernet_fraction = 0.3;
    o->search_fraction = 0.1;
    o->from = -1;
    aug_options ao;
    aug_options_default(&ao);
    o->augment = ao.copies;
    o->augment_prob = ao.prob;
    o->augment_neighbours = ao.neighbours;
}

const char *compress_path(compress_ctx *c, const char *rel)
{
    snprintf(c->out_path, sizeof c->out_path, "%s/%s", c->o->out, rel);
    return c->out_path;
}

void compress_note(compress_ctx *c, const char *fmt, ...)
{
    if (!c->h || !c->h->note)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    c->h->note(c->h->user, buf);
}

void compress_work(compress_ctx *c, const char *label, size_t done, size_t total)
{
    if (c->h && c->h->work)
        c->h->work(c->h->user, label, done, total);
}

/* ---- fingerprints: FNV-1a over what each stage reads ---------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    s = s ? s : "";
    return fnv(h, s, strlen(s) + 1); /* the NUL separates fields */
}

static uint64_t fnv_i64(uint64_t h, int64_t v) { return fnv(h, &v, sizeof v); }
static uint64_t fnv_f64(uint64_t h, double v) { return fnv(h, &v, sizeof v); }

/* A path by what it names, not how it was spelt: "../shared/glue" from
 * the project and "/work/shared/glue" are one folder, and a rerun that
 * spells it the other way must not redo hours of stages. The canonical
 * path when it resolves; a path that names nothing is only "missing" (the
 * stage reads nothing there, however it is spelt). */
static uint64_t fnv_path(uint64_t h, const char *path)
{
    char real[PATH_MAX];
    return fnv_str(h, path && realpath(path, real) ? real : "(missing)");
}

/* A file's identity without reading it: its path, size and modification
 * time (a rewritten file gets a new mtime). Missing: IR_ERR_INPUT naming
 * what. */
static ir_status fnv_file(uint64_t *h, const char *what, const char *path,
                          bool required, ir_diag *d)
{
    struct stat sb;
    *h = fnv_path(*h, path);
    if (stat(path, &sb) != 0) {
        if (!required)
            return IR_OK;
        return ir_diag_set(d, IR_ERR_INPUT, "%s '%s': %s", what, path,
                           strerror(errno));
    }
    *h = fnv_i64(*h, (int64_t)sb.st_size);
    *h = fnv_i64(*h, (int64_t)sb.st_mtim.tv_sec);
    *h = fnv_i64(*h, (int64_t)sb.st_mtim.tv_nsec);
    return IR_OK;
}

/* A recipe's settings by what they set, so an edit redoes only the stages
 * it changes (a new distillation step count keeps the supernet) and a
 * touched but equal file redoes nothing. Checkpoint cadence is left out: it
 * does not change what a stage computes. */
static uint64_t fnv_recipe_stage(uint64_t h, const recipe_stage *s)
{
    int64_t ints[] = {s->skip, s->epochs, s->steps, s->batch, s->max_seq,
                      (int64_t)s->seed, s->eval_every, s->bucket};
    double reals[] = {s->lr, s->warmup, s->weight_decay, s->temperature};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        h = fnv_i64(h, ints[i]);
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        h = fnv_f64(h, reals[i]);
    return h;
}

static uint64_t fnv_recipe_distill(uint64_t h, const recipe *r)
{
    h = fnv_str(h, "recipe-distill/1");
    h = fnv_recipe_stage(h, &r->general);
    h = fnv_recipe_stage(h, &r->intermediate);
    h = fnv_recipe_stage(h, &r->prediction);
    const char *texts[] = {r->student, r->share, r->init, r->layer_map,
                           r->corpus};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        h = fnv_str(h, texts[i]);
    h = fnv_i64(h, r->augment_copies);
    h = fnv_f64(h, r->augment_prob);
    return fnv_i64(h, r->augment_neighbours);
}

ir_status compress_fingerprints(const compress_options *o,
                                const search_constraints *cons,
                                uint64_t fp[COMPRESS_STAGE_COUNT], ir_diag *d)
{
    uint64_t h = 0xcbf29ce484222325ull;
    /* /2: lift records the teacher's input contract (issue 16); a state
     * from before it redoes every stage rather than build a student with
     * BERT's inputs from it. /3: lift records MPNet's relative position
     * bias, and shared or factorized teachers start an unfolded supernet */
    h = fnv_str(h, "distilc-compress/3");
    /* lift: the teacher, the task's dev data, the setting it is timed at */
    ir_status s = fnv_file(&h, "teacher", o->teacher, true, d);
    if (s == IR_OK)
        s = o->tokenizer ? fnv_file(&h, "--tokenizer", o->tokenizer, true, d)
                         : fnv_file(&h, "--vocab", o->vocab, true, d);
    if (s != IR_OK)
        return s;
    const glue_task *t = compress_task(o);
    h = fnv_str(h, t ? t->name : o->task);
    char buf[4096];
    if (t && t->user) {
        /* the user's files, columns, kind, labels and metric */
        for (int i = 0; i < GLUE_SPLIT_COUNT; i++)
            if (t->files[i]) {
                h = fnv_path(h, t->files[i]);
                fnv_file(&h, "--data", t->files[i], false, d);
            }
        h = fnv_str(h, t->col_a);
        h = fnv_str(h, t->col_b ? t->col_b : "");
        h = fnv_str(h, t->col_label);
        h = fnv_i64(h, t->is_regression);
        h = fnv_i64(h, (int64_t)t->metric);
        for (int k = 0; !t->is_regression && k < t->n_labels; k++)
            h = fnv_str(h, t->label_names[k]);
    } else {
        h = fnv_path(h, o->data);
        static const char *const files[] = {"dev.tsv", "train.tsv"};
        for (int i = 0; i < 2; i++) {
            /* either DIR is the task's folder or a GLUE root holding it */
            snprintf(buf, sizeof buf, "%s/%s", o->data, files[i]);
            fnv_file(&h, "--data", buf, false, d);
            if (t) {
                snprintf(buf, sizeof buf, "%s/%s/%s", o->data, t->dir,
                         files[i]);
                fnv_file(&h, "--data", buf, false, d);
            }
        }
    }
    h = fnv_i64(h, o->dev_limit);
    h = fnv_i64(h, cons->seq);
    h = fnv_i64(h, cons->batch);
    h = fnv_i64(h, cons->threads);
    h = fnv_i64(h, (int64_t)cons->precision);
    h = fnv_i64(h, o->cpu_clock);
    fp[COMPRESS_LIFT] = h;
    /* supernet: the space's choices and sharing, the training data, its
     * steps or the budget that sets them (not the limits: one supernet
     * serves any of them) */
    if (o->space) {
        if ((s = fnv_file(&h, "--space", o->space, true, d)) != IR_OK)
            return s;
    } else
        h = fnv_str(h, search_space_default_text());
    h = fnv_str(h, o->share);
    h = fnv_i64(h, o->limit);
    h = fnv_i64(h, o->proxy_fitness);
    h = fnv_i64(h, o->supernet_steps);
    /* a recipe's settings, each in the stage it sets (only when given, so
     * states from before recipes keep their fingerprints): its supernet
     * here, its search and distillation settings below */
    if (o->recipe) {
        h = fnv_str(h, "recipe-supernet/1");
        h = fnv_recipe_stage(h, &o->recipe->supernet);
    }
    if (o->supernet_steps <= 0) { /* the budget sets its steps */
        h = fnv_f64(h, o->budget_minutes);
        h = fnv_f64(h, o->supernet_fraction);
    }
    fp[COMPRESS_SUPERNET] = h;
    /* search: the limits, the budget */
    h = fnv_f64(h, cons->latency_ms);
    h = fnv_f64(h, o->speedup);
    h = fnv_i64(h, cons->max_params);
    h = fnv_f64(h, cons->max_size_mb);
    h = fnv_f64(h, o->budget_minutes);
    h = fnv_f64(h, o->search_fraction);
    if (o->children_per_cycle > 1) /* 1 keeps the states of before */
        h = fnv_i64(h, o->children_per_cycle);
    if (o->recipe) {
        h = fnv_i64(h, o->recipe->search_population);
        h = fnv_i64(h, o->recipe->search_generations);
    }
    fp[COMPRESS_SEARCH] = h;
    /* distill: the training data (train.tsv is in lift's), corpus, limits */
    if (o->corpus && (s = fnv_file(&h, "--corpus", o->corpus, true, d)) != IR_OK)
        return s;
    h = fnv_i64(h, o->limit);
    h = fnv_i64(h, o->distill_steps);
    if (o->recipe)
        h = fnv_recipe_distill(h, o->recipe);
    /* augmentation only when on, so states written before it existed keep
     * their fingerprints */
    if (o->augment > 0) {
        h = fnv_str(h, "augment/1");
        h = fnv_i64(h, o->augment);
        h = fnv_f64(h, o->augment_prob);
        h = fnv_i64(h, o->augment_neighbours);
    }
    fp[COMPRESS_DISTILL] = h;
    /* build, eval, report: nothing of their own beyond the setting */
    h = fnv_str(h, "build/1");
    fp[COMPRESS_BUILD] = h;
    h = fnv_str(h, "eval/1");
    fp[COMPRESS_EVAL] = h;
    /* the controls: whether they were asked for */
    h = fnv_str(h, "control-finetune/1");
    h = fnv_i64(h, o->controls);
    fp[COMPRESS_CONTROL_FT] = h;
    h = fnv_str(h, "control-kd/1");
    fp[COMPRESS_CONTROL_KD] = h;
    h = fnv_str(h, "report/1");
    fp[COMPRESS_REPORT] = h;
    return IR_OK;
}

void compress_budget_split(const compress_options *o, double used,
                           compress_budget *b)
{
    memset(b, 0, sizeof *b);
    if (!(o->budget_minutes > 0))
        return;
    double total = o->budget_minutes * 60.0;
    b->supernet_s = o->proxy_fitness ? 0 : total * o->supernet_fraction;
    b->search_s = total * o->search_fraction;
    /* distillation gets what the earlier stages left; never less than half
     * its share, so an overrunning stage cannot starve it to nothing */
    double share = total - b->supernet_s - b->search_s;
    double rest = total - (used >= 0 ? used : b->supernet_s + b->search_s);
    b->distill_s = rest > 0.5 * share ? rest : 0.5 * share;
}

static int train_threads(const compress_options *o)
{
    return o->train_threads > 0 ? (int)o->train_threads : omp_get_num_procs();
}

void compress_train_threads(const compress_ctx *c)
{
    omp_set_num_threads(train_threads(c->o));
}

/* A training stage resumed with other threads or ranks than the run that
 * wrote its checkpoints goes on, since the user may have moved the run to
 * a larger machine, but its sums are ordered otherwise from there: the
 * student differs in the last bits from the one a run never killed makes.
 * Said, and the new counts kept for the next resume (state.json). */
static void note_threads_change(compress_ctx *c, compress_stage i, bool resume)
{
    compress_results *r = &c->st->r;
    int64_t threads = train_threads(c->o), ranks = ir_dist_size(c->o->dist);
    bool trains = i == COMPRESS_SUPERNET || i == COMPRESS_DISTILL ||
                  i == COMPRESS_CONTROL_FT || i == COMPRESS_CONTROL_KD;
    if (resume && trains && r->run_train_threads > 0 &&
        (r->run_train_threads != threads || r->run_ranks != ranks))
        compress_note(c, "warning: %s resumes with %lld training thread%s on %lld "
                      "rank%s; its checkpoints were written with %lld on %lld: it "
                      "goes on, but not bit for bit as an unkilled run (that needs "
                      "the same --train-threads and ranks)", compress_stage_name(i),
                      (long long)threads, threads == 1 ? "" : "s", (long long)ranks,
                      ranks == 1 ? "" : "s", (long long)r->run_train_threads,
                      (long long)r->run_ranks);
    r->run_train_threads = threads;
    r->run_ranks = ranks;
}

double compress_used_before_distill(const compress_ctx *c)
{
    double used = 0;
    static const compress_stage before[] = {COMPRESS_SUPERNET, COMPRESS_SEARCH};
    for (size_t i = 0; i < 2; i++) {
        compress_stage k = before[i];
        if (!c->st->done[k] && !c->st->ran[k])
            return -1;
        used += c->st->seconds[k];
    }
    return used;
}

/* ---- the space with the options' overrides ------------------------------ */

ir_status compress_space_load(const compress_options *o, search_space *sp,
                              ir_diag *d)
{
    ir_status s;
    if (o->space)
        s = search_space_load_file(o->space, sp, d);
    else {
        const char *t = search_space_default_text();
        s = search_space_load_memory(t, strlen(t), "default.xml (built in)", sp, d);
    }
    if (s != IR_OK)
        return ir_diag_prefix(d, "--space");
    search_constraints *k = &sp->cons;
    if (o->latency_ms > 0)
        k->latency_ms = o->latency_ms;
    if (o->max_params > 0)
        k->max_params = o->max_params;
    if (o->seq > 0)
        k->seq = o->seq;
    if (o->batch > 0)
        k->batch = o->batch;
    if (o->threads > 0)
        k->threads = o->threads;
    if (o->precision && !ir_precision_parse(o->precision, &k->precision))
        return ir_diag_set(d, IR_ERR_INPUT, "--precision '%s': expected fp32, "
                           "bf16 or int8", o->precision);
    if (o->share) {
        search_share sh;
        if (!search_share_parse(o->share, &sh))
            return ir_diag_set(d, IR_ERR_INPUT, "--share '%s': expected none, "
                               "all, groups:K, attention or ffn", o->share);
        /* a fixed scheme: the sharing gene has one choice */
        sp->n[SEARCH_GENE_SHARE] = 1;
        sp->share[0] = sh;
    }
    return IR_OK;
}

/* ---- the real stages ------------------------------------------------------ */

static const compress_stage_def default_stages[COMPRESS_STAGE_COUNT] = {
    [COMPRESS_LIFT] = {compress_stage_lift, {NULL}, {NULL}, false},
    /* supernet.onnx only when a supernet was trained (not with --fitness
     * proxy) */
    [COMPRESS_SUPERNET] = {compress_stage_supernet, {"supernet/supernet.json", NULL},
                           {"supernet/supernet.onnx", NULL}, false},
    [COMPRESS_SEARCH] = {compress_stage_search,
                         {"search/pareto.json", "search/pareto.svg", NULL}, {NULL},
                         false},
    [COMPRESS_DISTILL] = {compress_stage_distill, {"student.onnx", NULL}, {NULL}, false},
    [COMPRESS_BUILD] = {compress_stage_build, {"bin/model", "bin/model.weights", NULL},
                        {"bin/model.c", NULL}, false},
    [COMPRESS_EVAL] = {compress_stage_eval, {NULL}, {NULL}, false},
    /* their models only when the controls were asked for */
    [COMPRESS_CONTROL_FT] = {compress_stage_control_ft, {NULL},
                             {"controls/finetune.onnx", NULL}, false},
    [COMPRESS_CONTROL_KD] = {compress_stage_control_kd, {NULL},
                             {"controls/kd.onnx", NULL}, false},
    [COMPRESS_REPORT] = {compress_stage_report, {"report.json", "report.svg", NULL},
                         {NULL}, true},
};

const glue_task *compress_task(const compress_options *o)
{
    return o->task_desc ? o->task_desc : glue_task_lookup(o->task);
}

const compress_stage_def *compress_stages_default(void)
{
    return default_stages;
}

/* ---- the loop --------------------------------------------------------------- */

static ir_status check_options(const compress_options *o, ir_diag *d)
{
    bool user = o->task_desc != NULL;
    const char *missing = !o->teacher ? "TEACHER.onnx"
                        : !user && !o->task ? "--task"
                        : !user && !o->data ? "--data"
                        : !o->vocab && !o->tokenizer ? "--vocab or --tokenizer"
                        : !o->out ? "-o OUT" : NULL;
    if (missing)
        return ir_diag_set(d, IR_ERR_INPUT, "%s is required", missing);
    if (o->vocab && o->tokenizer)
        return ir_diag_set(d, IR_ERR_INPUT, "give --vocab or --tokenizer, "
                           "not both");
    if (!compress_task(o))
        return ir_diag_set(d, IR_ERR_INPUT, "--task '%s' is not a GLUE task (%s)",
                           o->task, glue_task_names());
    struct stat sb;
    if (user) {
        const glue_task *t = o->task_desc;
        if (!t->files[GLUE_SPLIT_TRAIN] || !t->files[GLUE_SPLIT_DEV])
            return ir_diag_set(d, IR_ERR_INPUT, "compress needs a train and a "
                               "dev split (--train FILE --dev FILE, or a "
                               "--data folder holding train.* and dev.*)");
    } else if (stat(o->data, &sb) != 0)
        return ir_diag_set(d, IR_ERR_INPUT, "--data '%s': %s", o->data,
                           strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        return ir_diag_set(d, IR_ERR_INPUT, "--data '%s': not a folder (a GLUE "
                           "root or the task's folder)", o->data);
    if (o->speedup < 0 || !isfinite(o->speedup) || (o->speedup > 0 && o->latency_ms > 0))
        return ir_diag_set(d, IR_ERR_INPUT, "--speedup must be > 0 and not given "
                           "with --latency-ms");
    if (o->budget_minutes < 0 || !isfinite(o->budget_minutes))
        return ir_diag_set(d, IR_ERR_INPUT, "--budget-minutes must be > 0");
    if (!(o->search_fraction > 0 && o->supernet_fraction >= 0 &&
          o->search_fraction + o->supernet_fraction < 1))
        return ir_diag_set(d, IR_ERR_INPUT, "budget fractions %g (supernet) and "
                           "%g (search): each in [0, 1), their sum below 1",
                           o->supernet_fraction, o->search_fraction);
    if (o->from >= COMPRESS_STAGE_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "--from: no stage %d", o->from);
    aug_options ao = {.copies = o->augment, .prob = o->augment_prob,
                      .neighbours = o->augment_neighbours};
    if (o->augment != 0 && aug_options_check(&ao, d) != IR_OK)
        return IR_ERR_INPUT;
    return IR_OK;
}

ir_status compress_run(const compress_options *o,
                       const compress_stage_def *stages,
                       const compress_hooks *h, compress_state *st,
                       ir_diag *d)
{
    compress_state_init(st);
    ir_status s = check_options(o, d);
    if (s != IR_OK)
        return s;
    compress_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.st = st;
    c.h = h;
    if ((s = compress_space_load(o, &c.space, d)) != IR_OK)
        return s;
    if (o->cpu_clock && c.space.cons.threads != 1)
        return ir_diag_set(d, IR_ERR_INPUT, "--clock cpu times one thread: give "
                           "--threads 1 (the setting has %lld)",
                           (long long)c.space.cons.threads);
    uint64_t fp[COMPRESS_STAGE_COUNT];
    if ((s = compress_fingerprints(o, &c.space.cons, fp, d)) != IR_OK)
        return s;
    ir_dist *dc = o->dist;
    bool lead = ir_dist_rank(dc) == 0; /* rank 0 keeps OUT and decides */
    char state_path[4096];
    snprintf(state_path, sizeof state_path, "%s/state.json", o->out);
    if (lead && mkdir(o->out, 0777) != 0 && errno != EEXIST)
        s = ir_diag_set(d, IR_ERR_IO, "-o '%s': %s", o->out, strerror(errno));
    if (lead && s == IR_OK)
        s = compress_state_load(state_path, st, d);
    ir_dist_bcast_status(dc, &s, 0, d);
    if (s != IR_OK)
        return s;
    compress_results *r = &st->r;
    r->set_seq = c.space.cons.seq;
    r->set_batch = c.space.cons.batch;
    r->set_threads = c.space.cons.threads;
    snprintf(r->set_precision, sizeof r->set_precision, "%s",
             ir_precision_name(c.space.cons.precision));
    snprintf(r->space_name, sizeof r->space_name, "%s", c.space.name);
    snprintf(r->set_clock, sizeof r->set_clock, "%s", o->cpu_clock ? "cpu" : "wall");
    bool redo = false;
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++) {
        const char *why = NULL;
        char whybuf[256];
        /* may the stage continue from its checkpoints: only a run of it
         * with these inputs that did not finish, or finished and then lost
         * or changed an output, left checkpoints of this very run */
        bool resume = false;
        if (redo)
            why = "an earlier stage ran";
        else if (o->from >= 0 && i >= o->from)
            why = "--from";
        else if (!st->done[i]) {
            why = "not done yet";
            resume = st->fp[i] == fp[i];
        } else if (st->fp[i] != fp[i])
            why = "its inputs changed";
        else if (!compress_outputs_intact(o, &stages[i], st, i, whybuf, sizeof whybuf)) {
            why = whybuf;
            resume = true;
        }
        /* rank 0's decision is every rank's */
        int32_t dec[2] = {why != NULL, resume};
        if ((s = ir_dist_bcast(dc, dec, sizeof dec, 0, d)) != IR_OK)
            return s;
        if (!dec[0]) {
            if (h && h->stage_begin)
                h->stage_begin(h->user, (compress_stage)i, true, "up to date");
            continue;
        }
        resume = dec[1] != 0;
        if (!why)
            why = "rank 0 runs it";
        /* from here on everything is redone; a kill mid-stage leaves this
         * and the later stages undone in the state file, this one with the
         * fingerprint it started with so that the next run resumes it */
        redo = true;
        if (lead) {
            if (!resume)
                s = compress_ckpt_clear(o, i, d);
            for (int j = i; j < COMPRESS_STAGE_COUNT && s == IR_OK; j++) {
                st->done[j] = false;
                st->n_out[j] = 0;
                if (j > i)
                    st->fp[j] = 0;
            }
            st->fp[i] = fp[i];
            note_threads_change(&c, (compress_stage)i, resume);
            if (s == IR_OK)
                s = compress_state_save(state_path, st, d);
        }
        /* the others get rank 0's state: the results of the stages before
         * (the searched student, the teacher's sizes, the seconds spent) */
        ir_dist_bcast_status(dc, &s, 0, d);
        if (s == IR_OK && ir_dist_size(dc) > 1)
            s = ir_dist_bcast(dc, st, sizeof *st, 0, d);
        if (s != IR_OK)
            return s;
        if (h && h->stage_begin)
            h->stage_begin(h->user, (compress_stage)i, false, why);
        double t0 = ir_clock_wall_s();
        c.resume = resume;
        const char *missing = NULL;
        /* the supernet fitness of the search is spread over the ranks too
         * (compress_search.c) */
        bool everyone = i == COMPRESS_SUPERNET || i == COMPRESS_DISTILL ||
                        (i == COMPRESS_SEARCH && !o->proxy_fitness);
        if (!stages[i].fn)
            s = ir_diag_set(d, IR_ERR_UNSUPPORTED, "not built yet");
        else if (lead || everyone)
            s = stages[i].fn(&c, d);
        double secs = ir_clock_wall_s() - t0;
        if (lead && s == IR_OK && !compress_outputs_exist(o, &stages[i], &missing))
            s = ir_diag_set(d, IR_ERR_FAILED, "internal error: the stage did not "
                            "write %s", missing);
        if (lead && s == IR_OK)
            s = compress_outputs_record(o, &stages[i], st, i, d);
        /* a stage rank 0 runs alone (the build, a proxy search) may take long:
         * the others wait for its outcome without the usual timeout, then
         * go back to the one they had (DISTILC_MPI_TIMEOUT's, say) */
        double timeout = ir_dist_timeout(dc);
        if (!lead && !everyone)
            ir_dist_set_timeout(dc, 0);
        ir_dist_bcast_status(dc, &s, 0, d);
        if (!lead && !everyone)
            ir_dist_set_timeout(dc, timeout);
        if (s != IR_OK)
            return ir_diag_prefix(d, "stage %s", stage_names[i]);
        st->done[i] = true;
        st->ran[i] = true;
        st->seconds[i] = secs;
        if (lead && (s = compress_state_save(state_path, st, d)) != IR_OK)
            return s;
        if (h && h->stage_end)
            h->stage_end(h->user, (compress_stage)i, secs);
    }
    if (!lead)
        return IR_OK;
    /* every stage done: the checkpoints (parameters and AdamW moments,
     * three times a model each) have served */
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s/ckpt", o->out);
    if (compress_remove_tree(ckpt, 4) != 0)
        compress_note(&c, "warning: could not remove the checkpoints in %s: %s",
                      ckpt, strerror(errno));
    return IR_OK;
}

/* compress_search.c — stage 2 of `distilc compress`: the student's shape.
 *
 * The space (--space or the built-in default) is first cut to what the
 * teacher can teach: distillation initialises the student from the
 * teacher's weights (distill/student.h) and compares attention heads in
 * groups (distill/distill_loss.h), so a student may not be deeper, wider,
 * have more FFN neurons or larger heads than the teacher, and its head
 * count must divide the teacher's. Gene lists are filtered; the cross-gene
 * rule (head size) makes a candidate unusable through its fitness.
 *
 * Fitness: the candidate's task metric from its slice of the supernet the
 * previous stage trained (search/supernet_train.h), on the training
 * examples held out from it; a factorized candidate (which the supernet
 * does not slice) is scored by its unfactorized twin. With --fitness proxy
 * the size proxy of search/evolution.h ranks instead and the report says
 * so.
 * Latency: search/latency.h's model at the setting of the constraints.
 * With a budget, once the search's share is spent, missing shapes are
 * interpolated from the cache instead of timed, which makes the remaining
 * cycles nearly free; the report counts both.
 *
 * Kills: the latency cache is written whenever a candidate or the
 * calibration timed new shapes (search_latency_opts.save_each), and the
 * evolution checkpoints into OUT/ckpt/search/evolution.ckpt after its
 * initial population and each generation, the cache saved first. A killed
 * stage (c->resume) continues from the checkpoint: the candidates it holds
 * keep their fitness and latency, and every shape the killed run timed is
 * looked up in the cache rather than timed again, so the resumed search
 * sees the very timings the killed one saw and ends where a run never
 * killed with those timings ends (at the same thread count). The seconds,
 * and the measured and interpolated counts, of the killed run are carried
 * on (a budget counts the time spent before the kill). A checkpoint of
 * other options or a corrupt one is refused, naming the file.
 *
 * Under mpirun (issue 19) the supernet fitness is spread over the ranks
 * (search/fitness_dist.h): every rank loads the supernet and the held-out
 * examples, rank 0 runs the evolution (it alone draws, times shapes,
 * checks the constraints and writes) and hands each block of candidates
 * to score (the initial population, --children-per-cycle K children) to
 * all; the result is one process's bit for bit at the same threads a
 * rank. The proxy fitness (cheap) stays on rank 0. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/emit.h"
#include "backend/gemm.h"
#include "distill/teacher.h"
#include "pipeline/compress_internal.h"
#include "search/evolution.h"
#include "search/evolution_ckpt.h"
#include "search/fitness_dist.h"
#include "search/latency.h"
#include "search/pareto.h"
#include "search/supernet_train.h"

/* The supernet fitness is the slice's held-out metric, then two
 * tie-breakers below what one held-out example moves the metric (about
 * 1/500 to 1/256; a little less for F1 and MCC): the slice's held-out loss
 * (cross-entropy of the labels or squared error, clamped to
 * SUPERNET_LOSS_MAX, so at most 6e-4 here), which still ranks slices that
 * all predict the majority class on a small task such as MRPC, and then,
 * for slices whose loss ties too, the size proxy (a few units across a
 * space, so a few 1e-7). */
#define SUPERNET_LOSS_EPS 2e-4
#define SUPERNET_LOSS_MAX 3.0
#define SUPERNET_TIE_EPS 1e-7

typedef struct search_run {
    compress_ctx *c;
    search_latency *lm;       /* measuring */
    search_latency *lm_fast;  /* interpolating, after the budget */
    search_latency_opts lo;
    search_latency_query q;
    double t0, budget_s;      /* budget_s 0: none */
    int64_t measured, interpolated;
    int64_t seq;              /* proxy fitness context */
    const ir_encoder_config *teacher;
    search_supernet *sn;      /* NULL: the proxy */
    train_data heldout;
    metric_kind kind;
    bool cache_warned;        /* a failed cache write was reported */
} search_run;

static ir_status latency_cb(void *ctx, const ir_encoder_config *cfg, double *ms,
                            ir_diag *d)
{
    search_run *sr = ctx;
    if (sr->budget_s > 0 && !sr->lm_fast &&
        compress_now_s() - sr->t0 > sr->budget_s) {
        /* keep what was timed, then continue from the cache alone */
        ir_status s = search_latency_save(sr->lm, d);
        search_latency_opts lo = sr->lo;
        lo.measure = false;
        if (s == IR_OK)
            s = search_latency_create(&lo, &sr->lm_fast, d);
        if (s != IR_OK)
            return s;
        compress_note(sr->c, "search: its %.1f s of the budget are spent; "
                      "latencies of new shapes are interpolated from now on",
                      sr->budget_s);
    }
    search_latency_estimate e;
    ir_status s = IR_ERR_INPUT;
    if (sr->lm_fast) {
        s = search_latency_predict(sr->lm_fast, cfg, &sr->q, &e, d);
        if (s == IR_OK)
            sr->interpolated++;
    }
    /* before the budget ran out, or nothing cached to interpolate from */
    if (s != IR_OK) {
        if ((s = search_latency_predict(sr->lm, cfg, &sr->q, &e, d)) != IR_OK)
            return s;
        sr->measured++;
    }
    *ms = e.total_ms;
    return IR_OK;
}

/* Without a fitted overhead for this setting the model predicts the
 * primitive sums alone, which run about 10% under whole models here: a
 * student picked right at the limit would miss it. So before the first
 * search at a setting, a few random-weight models of the space are timed
 * (a few seconds) and the fit is cached with the primitives. */
enum { CALIBRATION_MODELS = 5, CALIBRATION_RUNS = 10 };

static ir_status calibrate_if_needed(compress_ctx *c, search_run *sr,
                                     const search_space *sp, ir_diag *d)
{
    if (search_latency_calibrated(sr->lm, &sr->q))
        return IR_OK;
    double t0 = compress_now_s();
    ir_status s = search_latency_calibrate_space(sr->lm, sp, &sr->q, CALIBRATION_MODELS,
                                       CALIBRATION_RUNS, sr->lo.clock, 7, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "latency model calibration");
    compress_note(c, "search: latency model calibrated on %d whole models in "
                  "%.1f s (kept in %s)", CALIBRATION_MODELS,
                  compress_now_s() - t0, search_latency_cache_path(sr->lm));
    return IR_OK;
}

/* Timings taken while other jobs ran come out slow even on the CPU clock
 * (memory traffic): a cache calibrated beside a training run predicted 27%
 * over the real latency and hid every 3-layer student of the GLUE table's
 * CoLA run. So the load is kept in the report, and a high one is said as
 * it happens. Of this run's timings only: a resumed search's cached ones
 * cost nothing. */
static void warn_if_timed_busy(compress_ctx *c, const search_run *sr,
                               compress_results *r)
{
    search_latency_load_info li;
    bool known = search_latency_load(sr->lm, &li);
    r->timed_s = li.timed_s;
    r->timed_others_cores = known ? li.others_cores : NAN;
    /* under mpirun the other ranks wait for rank 0's timings, and MPI
     * waits by polling: a core each, not counted against the machine */
    if (search_latency_timed_busy(sr->lm, ir_dist_size(c->o->dist) - 1, &li))
        compress_note(c, "warning: other processes kept %.1f CPU cores busy on "
                      "average while the latency model timed (%.0f s): timings "
                      "taken beside other jobs run slow, even on the CPU clock, "
                      "so the search may have turned down students that fit; "
                      "time alone (distilc latency-model --cache FILE) and pass "
                      "--cache FILE", li.others_cores, li.timed_s);
}

bool compress_teachable(const ir_encoder_config *t, const ir_encoder_config *s)
{
    return s->layers <= t->layers && s->hidden <= t->hidden && s->ffn <= t->ffn &&
           s->heads <= t->heads && t->heads % s->heads == 0 &&
           s->hidden / s->heads <= t->hidden / t->heads &&
           (s->embed == 0 || s->embed < s->hidden);
}

static ir_status fitness_cb(void *ctx, const ir_encoder_config *cfg,
                            double *fitness, ir_diag *d)
{
    search_run *sr = ctx;
    if (!compress_teachable(sr->teacher, cfg)) {
        *fitness = -INFINITY; /* unusable: evolution never keeps it */
        return IR_OK;
    }
    if (!sr->sn)
        return search_proxy_fitness(&sr->seq, cfg, fitness, d);
    /* the latency micro-benchmarks set their own thread count */
    compress_train_threads(sr->c);
    ir_encoder_config twin = *cfg;
    twin.embed = 0;
    double metric = 0, loss = 0, proxy = 0;
    ir_status s = search_supernet_evaluate(sr->sn, &twin, &sr->heldout, sr->kind,
                                           &metric, &loss, d);
    if (s == IR_OK)
        s = search_proxy_fitness(&sr->seq, cfg, &proxy, d);
    if (s != IR_OK)
        return s;
    /* ties (common while the supernet is young: many slices land on the
     * majority class) go to the lower held-out loss, then to the larger
     * candidate */
    double l = isfinite(loss) ? fmin(loss, SUPERNET_LOSS_MAX) : SUPERNET_LOSS_MAX;
    *fitness = metric - SUPERNET_LOSS_EPS * l + SUPERNET_TIE_EPS * proxy;
    return s;
}

/* Rank 0 of a spread search: what it still owes the other ranks, which
 * wait for its go, then load the supernet with it, then score its batches
 * until it ends them. */
typedef enum { SPREAD_GO, SPREAD_SERVING, SPREAD_OVER } spread_phase;

typedef struct spread {
    bool on;                  /* the fitness is spread over the ranks */
    spread_phase phase;
    search_fitness_dist fd;
} spread;

/* Every rank's status after each loaded the supernet: the lowest failing
 * rank's error is everyone's. */
static ir_status agree(ir_dist *dc, ir_status s, ir_diag *d)
{
    int size = ir_dist_size(dc);
    int64_t failed = s != IR_OK ? ir_dist_rank(dc) : size;
    ir_status t = ir_dist_allreduce_min_i64(dc, &failed, 1, d);
    if (t != IR_OK || failed == size)
        return t;
    ir_dist_bcast_status(dc, &s, (int)failed, d);
    return s != IR_OK ? s : IR_ERR_FAILED;
}

/* A quick run scores on the first 256 held-out examples (the search's
 * share is small); every rank cuts the same. */
static void cut_heldout(const compress_ctx *c, search_run *sr)
{
    compress_budget bud;
    compress_budget_split(c->o, -1, &bud);
    if (bud.search_s > 0 && bud.search_s < 60 && sr->heldout.n > 256)
        sr->heldout.n = 256;
}

/* The supernet the previous stage wrote, and the examples it held out. */
static ir_status load_supernet(compress_ctx *c, search_run *sr, gemm_ctx **gemm,
                               ir_diag *d)
{
    if (!c->st->r.sn_trained)
        return ir_diag_set(d, IR_ERR_FAILED, "the supernet stage did not train a "
                           "supernet; rerun with --from supernet");
    ir_encoder *e = NULL;
    const char *path = compress_path(c, "supernet/supernet.onnx");
    ir_status s = teacher_load_onnx(path, &e, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "%s", path);
    e->cfg.head = sr->teacher->head;
    s = search_supernet_from_encoder(e, false, &sr->sn, d);
    ir_encoder_free(e);
    if (s == IR_OK && (s = gemm_ctx_create(gemm_impl_for_cpu(), gemm, d)) == IR_OK)
        search_supernet_params(sr->sn)->gemm = *gemm;
    train_data train;
    if (s == IR_OK && (s = compress_supernet_data(c, &train, &sr->heldout, d)) == IR_OK)
        train_data_free(&train);
    sr->kind = compress_task(c->o)->metric;
    return s;
}

static void progress_cb(void *ctx, size_t done, size_t total)
{
    search_run *sr = ctx;
    compress_work(sr->c, "search", done, total);
}

/* A budgeted search ends its evolution once its share is spent (the
 * initial population is always scored). */
static bool stop_cb(void *ctx)
{
    search_run *sr = ctx;
    return sr->budget_s > 0 && compress_now_s() - sr->t0 > sr->budget_s;
}

/* Before each checkpoint of the evolution: the timings made so far go to
 * the cache (save_each has written them unless a write failed), and what
 * the stage counts goes into the checkpoint. */
enum { USER_SECONDS, USER_MEASURED, USER_INTERPOLATED };

static ir_status checkpoint_cb(void *ctx, size_t done, double user[SEARCH_EVO_USER],
                               ir_diag *d)
{
    (void)done, (void)d;
    search_run *sr = ctx;
    ir_diag d2;
    ir_diag_init(&d2);
    if (search_latency_save(sr->lm, &d2) != IR_OK && !sr->cache_warned) {
        sr->cache_warned = true;
        compress_note(sr->c, "warning: %s; a killed search will time its "
                      "shapes again", d2.msg);
    }
    user[USER_SECONDS] = compress_now_s() - sr->t0;
    user[USER_MEASURED] = (double)sr->measured;
    user[USER_INTERPOLATED] = (double)sr->interpolated;
    return IR_OK;
}

/* A resumed evolution: the killed run's seconds count against the budget,
 * its counts go on. */
static void resumed_cb(void *ctx, size_t done, const double user[SEARCH_EVO_USER])
{
    search_run *sr = ctx;
    sr->t0 = compress_now_s() - user[USER_SECONDS];
    sr->measured = (int64_t)user[USER_MEASURED];
    sr->interpolated = (int64_t)user[USER_INTERPOLATED];
    compress_note(sr->c, "search: resumed from its checkpoint after %zu cycles "
                  "(%.1f s of searching)", done, user[USER_SECONDS]);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* What the fitness and latency callbacks compute with beyond the space:
 * kept in the checkpoint, so a resume that would score or time otherwise
 * is refused rather than continued. */
static uint64_t callbacks_hash(const compress_ctx *c, const search_run *sr)
{
    uint64_t h = fnv(0xcbf29ce484222325ull, "compress-search/1", 17);
    int64_t v[8] = {sr->sn != NULL, (int64_t)sr->heldout.n, sr->seq, sr->q.batch,
                    sr->q.seq, sr->q.threads, (int64_t)sr->q.precision,
                    (int64_t)sr->lo.clock};
    h = fnv(h, v, sizeof v);
    h = fnv(h, &sr->lo.min_time_ms, sizeof sr->lo.min_time_ms);
    return fnv(h, c->o->task, strlen(c->o->task));
}

/* A killed search's checkpoint, read before anything else is loaded: a
 * corrupt one is refused at once, and its population (the stage halves
 * the population when few shapes meet the constraints) is the one to
 * resume with. */
static ir_status resume_population(const char *path, search_evo_opts *eo,
                                   ir_diag *d)
{
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return IR_OK;
    search_evo_ckpt ck;
    ir_status s = search_evo_ckpt_read(path, &ck, d);
    if (s != IR_OK)
        return s;
    for (size_t p = eo->population; ; p /= 2) {
        if (ck.population == p) {
            eo->population = p;
            break;
        }
        if (p <= 4)
            break; /* not one the stage runs with: evolution refuses it */
    }
    search_evo_ckpt_free(&ck);
    return IR_OK;
}

ir_status compress_space_fit_teacher(search_space *sp, const ir_encoder_config *t,
                                     ir_diag *d)
{
    static const search_gene genes[] = {SEARCH_GENE_LAYERS, SEARCH_GENE_HIDDEN,
                                        SEARCH_GENE_HEADS, SEARCH_GENE_FFN,
                                        SEARCH_GENE_EMBED};
    for (size_t gi = 0; gi < sizeof genes / sizeof genes[0]; gi++) {
        search_gene g = genes[gi];
        size_t k = 0;
        int64_t limit = g == SEARCH_GENE_LAYERS ? t->layers
                      : g == SEARCH_GENE_HIDDEN ? t->hidden
                      : g == SEARCH_GENE_HEADS ? t->heads
                      : g == SEARCH_GENE_FFN ? t->ffn : t->hidden - 1;
        for (size_t i = 0; i < sp->n[g]; i++) {
            int64_t v = sp->values[g][i];
            bool ok = v <= limit && (g != SEARCH_GENE_HEADS || t->heads % v == 0);
            if (ok)
                sp->values[g][k++] = v;
        }
        if (k == 0)
            return ir_diag_set(d, IR_ERR_INPUT, "--space %s: no %s choice fits "
                               "the teacher (%lld layers, hidden %lld, %lld heads, "
                               "ffn %lld): a student must be no larger and its "
                               "heads must divide the teacher's; give a --space "
                               "for this teacher", sp->name, search_gene_name(g),
                               (long long)t->layers, (long long)t->hidden,
                               (long long)t->heads, (long long)t->ffn);
        sp->n[g] = k;
    }
    /* heads the student may have: at least SEARCH_MIN_HEAD_DIM dims (the
     * space's rule), at most the teacher's (teachable) */
    int64_t tdim = t->hidden / t->heads;
    for (size_t i = 0; i < sp->n[SEARCH_GENE_HIDDEN]; i++)
        for (size_t j = 0; j < sp->n[SEARCH_GENE_HEADS]; j++) {
            int64_t h = sp->values[SEARCH_GENE_HIDDEN][i];
            int64_t a = sp->values[SEARCH_GENE_HEADS][j];
            if (h % a == 0 && h / a >= SEARCH_MIN_HEAD_DIM && h / a <= tdim)
                return IR_OK;
        }
    if (tdim < SEARCH_MIN_HEAD_DIM)
        return ir_diag_set(d, IR_ERR_INPUT, "the teacher's heads have %lld dims "
                           "(hidden %lld / %lld heads) and a student's may not "
                           "be larger, but the search keeps heads of at least "
                           "%d dims: no student of this teacher can be searched",
                           (long long)tdim, (long long)t->hidden,
                           (long long)t->heads, SEARCH_MIN_HEAD_DIM);
    return ir_diag_set(d, IR_ERR_INPUT, "--space %s: no hidden and heads choice "
                       "gives heads of %d to %lld dims (at least the search's "
                       "minimum, at most the teacher's): give a --space with "
                       "such a pair", sp->name, SEARCH_MIN_HEAD_DIM,
                       (long long)tdim);
}

static ir_status search_lead(compress_ctx *c, spread *spr, ir_diag *d)
{
    compress_results *r = &c->st->r;
    search_space sp = c->space;
    ir_encoder_config tc;
    compress_teacher_config(c, &sp, &tc);
    /* the setting fits the teacher (sequence length, heads) and the limit
     * can be met at all (the supernet stage checked too, but may have
     * been skipped) */
    ir_status s = compress_check_latency_limit(c, d);
    if (s != IR_OK)
        return s;
    if ((s = compress_space_fit_teacher(&sp, &tc, d)) != IR_OK)
        return s;
    if (c->o->speedup > 0) {
        /* the limit from the teacher's latency as lift measured it, at the
         * same setting and on the same clock as the candidates */
        if (!(r->teacher.latency_ms > 0))
            return ir_diag_set(d, IR_ERR_FAILED, "--speedup: the teacher's latency "
                               "is unknown; rerun with --from lift");
        sp.cons.latency_ms = r->teacher.latency_ms / c->o->speedup;
        compress_note(c, "search: latency limit %.3f ms (the teacher's %.3f ms / %g)",
                      sp.cons.latency_ms, r->teacher.latency_ms, c->o->speedup);
    }
    compress_budget bud;
    compress_budget_split(c->o, -1, &bud);
    double search_s = bud.search_s;
    r->budget_s = c->o->budget_minutes * 60.0;
    r->search_budget_s = search_s;

    search_evo_opts eo;
    search_evo_opts_default(&eo);
    if (search_s > 0 && search_s < 300) {
        eo.population = 16;
        eo.generations = 6;
    }
    if (search_s > 0 && search_s < 60)
        eo.population = 8;
    /* a recipe's population and generations (issue 17: work in counts,
     * not seconds) */
    if (c->o->recipe && c->o->recipe->search_population > 0)
        eo.population = (size_t)c->o->recipe->search_population;
    if (c->o->recipe && c->o->recipe->search_generations > 0)
        eo.generations = (size_t)c->o->recipe->search_generations;
    char ckpt[4200];
    if ((s = compress_ckpt_dir(c, COMPRESS_SEARCH, ckpt, sizeof ckpt - 32, d)) != IR_OK)
        return s;
    strcat(ckpt, "/evolution.ckpt");
    if (c->resume && (s = resume_population(ckpt, &eo, d)) != IR_OK)
        return s;

    search_run sr = {.c = c, .t0 = compress_now_s(), .budget_s = search_s,
                     .seq = sp.cons.seq, .teacher = &tc};
    search_latency_opts_default(&sr.lo);
    sr.lo.cache_path = c->o->latency_cache;
    sr.lo.save_each = true; /* a kill loses no timing */
    sr.lo.clock = c->o->cpu_clock ? SEARCH_CLOCK_CPU : SEARCH_CLOCK_WALL;
    if (search_s > 0 && search_s < 120)
        sr.lo.min_time_ms = 20; /* a quick run: shorter timings per shape */
    sr.q = (search_latency_query){.batch = sp.cons.batch, .seq = sp.cons.seq,
                                  .threads = (int)sp.cons.threads,
                                  .precision = sp.cons.precision};
    gemm_ctx *gemm = NULL;
    search_result res;
    memset(&res, 0, sizeof res);
    if (spr->on) {
        /* the others load the supernet with rank 0 */
        ir_status go = IR_OK;
        spr->phase = SPREAD_OVER;
        if ((s = ir_dist_bcast_status(c->o->dist, &go, 0, d)) != IR_OK)
            goto done;
    }
    if (!c->o->proxy_fitness) {
        s = load_supernet(c, &sr, &gemm, d);
        if (s != IR_OK)
            ir_diag_prefix(d, "supernet");
        if (spr->on && (s = agree(c->o->dist, s, d)) == IR_OK)
            spr->phase = SPREAD_SERVING;
        if (s != IR_OK)
            goto done;
    }
    if ((s = search_latency_create(&sr.lo, &sr.lm, d)) != IR_OK) {
        ir_diag_prefix(d, "latency model");
        goto done;
    }
    if ((s = calibrate_if_needed(c, &sr, &sp, d)) != IR_OK)
        goto done;
    /* the search's share starts now: a calibration is a one-off per
     * setting, and the stages after plan from the time really spent */
    sr.t0 = compress_now_s();
    /* a quick run: the initial population is always scored, so it (above)
     * and the scoring are kept small enough for the search's share */
    cut_heldout(c, &sr);
    eo.fitness = fitness_cb;
    eo.fitness_ctx = &sr;
    eo.children_per_cycle = c->o->children_per_cycle > 1
                                ? (size_t)c->o->children_per_cycle : 1;
    if (spr->on) {
        spr->fd = (search_fitness_dist){.dc = c->o->dist, .fitness = fitness_cb,
                                        .ctx = &sr};
        eo.fitness = search_fitness_dist_one;
        eo.fitness_ctx = &spr->fd;
        eo.fitness_batch = search_fitness_dist_batch;
    }
    eo.latency = latency_cb;
    eo.latency_ctx = &sr;
    eo.progress = progress_cb;
    eo.progress_ctx = &sr;
    eo.stop = stop_cb;
    eo.ckpt_path = ckpt;
    eo.resume = c->resume;
    eo.ckpt_hash = callbacks_hash(c, &sr);
    eo.checkpoint = checkpoint_cb;
    eo.resumed = resumed_cb;
    s = search_evolve(&sp, &eo, &res, d);
    /* a tight limit in a space cut to the teacher may leave fewer feasible
     * shapes than a population: retry with a small one before giving up */
    while (s == IR_ERR_INPUT && eo.population > 4 &&
           strstr(d->msg, "meet the constraints")) {
        search_result_free(&res);
        eo.population /= 2;
        compress_note(c, "search: few shapes meet the constraints; population %zu",
                      eo.population);
        s = search_evolve(&sp, &eo, &res, d);
    }
    if (spr->phase == SPREAD_SERVING) {
        /* the others are done: they wait for the stage's outcome */
        ir_diag d3;
        ir_diag_init(&d3);
        spr->phase = SPREAD_OVER;
        if (search_fitness_dist_end(&spr->fd, &d3) != IR_OK && s == IR_OK) {
            *d = d3;
            s = d3.status;
        }
    }
    /* evolution's messages start with "search: ", which the stage name
     * already says */
    if (s != IR_OK && strncmp(d->msg, "search: ", 8) == 0)
        memmove(d->msg, d->msg + 8, strlen(d->msg + 8) + 1);
    ir_diag d2;
    ir_diag_init(&d2);
    if (sr.lm && search_latency_save(sr.lm, &d2) != IR_OK)
        compress_note(c, "warning: %s", d2.msg);
    if (s != IR_OK)
        goto done;
    const search_cand *best = &res.all[res.best];
    if (!best->feasible) {
        s = ir_diag_set(d, IR_ERR_INPUT, "no candidate of %s meets the constraints "
                        "(latency <= %g ms, params <= %lld) and fits the teacher; "
                        "loosen --latency-ms / --params", sp.name,
                        sp.cons.latency_ms, (long long)sp.cons.max_params);
        goto done;
    }
    search_latency_estimate est;
    bool calibrated = search_latency_predict(sr.lm, &best->cfg, &sr.q, &est, &d2) ==
                          IR_OK && est.calibrated;
    snprintf(r->latency_src, sizeof r->latency_src, "latency model%s, seq %lld, "
             "batch %lld, %lld threads, %s", calibrated ? "" : " (uncalibrated)",
             (long long)sp.cons.seq, (long long)sp.cons.batch,
             (long long)sp.cons.threads, ir_precision_name(sp.cons.precision));
    if (sr.sn)
        compress_supernet_fitness_name(c, (int64_t)sr.heldout.n, r->fitness,
                                       sizeof r->fitness);
    else
        snprintf(r->fitness, sizeof r->fitness, "%s", SEARCH_PROXY_FITNESS_NAME);
    search_pareto_meta meta = {.space = sp.name, .fitness = r->fitness,
                               .latency = r->latency_src, .cons = sp.cons};
    if ((s = emit_make_dirs(compress_path(c, "search"), d)) != IR_OK)
        goto done;
    if ((s = search_pareto_write_json(compress_path(c, "search/pareto.json"), &res,
                                      &meta, d)) != IR_OK ||
        (s = search_pareto_write_svg(compress_path(c, "search/pareto.svg"), &res,
                                     &meta, d)) != IR_OK)
        goto done;
    r->s_layers = best->cfg.layers;
    r->s_hidden = best->cfg.hidden;
    r->s_heads = best->cfg.heads;
    r->s_ffn = best->cfg.ffn;
    r->s_embed = best->cfg.embed;
    search_share_format(&sp.share[best->g.g[SEARCH_GENE_SHARE]], r->s_share,
                        sizeof r->s_share);
    r->predicted_ms = best->latency_ms;
    r->limit_ms = sp.cons.latency_ms;
    r->limit_params = sp.cons.max_params;
    r->evaluated = (int64_t)res.n;
    r->cycles = (int64_t)res.cycles;
    r->measured = sr.measured;
    r->interpolated = sr.interpolated;
    warn_if_timed_busy(c, &sr, r);
done:
    search_result_free(&res);
    search_latency_free(sr.lm);
    search_latency_free(sr.lm_fast);
    search_supernet_free(sr.sn);
    train_data_free(&sr.heldout);
    gemm_ctx_free(gemm);
    return s;
}

/* A rank other than 0 of a spread search: waits for rank 0's go, loads
 * the supernet and held-out examples, and scores its shares of rank 0's
 * batches until rank 0 ends them. Rank 0's error is the stage's. */
static ir_status search_serve(compress_ctx *c, ir_diag *d)
{
    ir_dist *dc = c->o->dist;
    ir_status s = IR_OK;
    double timeout = ir_dist_timeout(dc);
    ir_dist_set_timeout(dc, 0); /* rank 0 may check the limit by timing */
    ir_status t = ir_dist_bcast_status(dc, &s, 0, d);
    ir_dist_set_timeout(dc, timeout);
    if (t != IR_OK || s != IR_OK)
        return s;
    search_space sp = c->space;
    ir_encoder_config tc;
    compress_teacher_config(c, &sp, &tc);
    search_run sr = {.c = c, .seq = sp.cons.seq, .teacher = &tc};
    gemm_ctx *gemm = NULL;
    s = load_supernet(c, &sr, &gemm, d);
    if (s != IR_OK)
        ir_diag_prefix(d, "supernet (rank %d)", ir_dist_rank(dc));
    if ((s = agree(dc, s, d)) == IR_OK) {
        cut_heldout(c, &sr);
        search_fitness_dist fd = {.dc = dc, .fitness = fitness_cb, .ctx = &sr};
        s = search_fitness_dist_serve(&fd, d);
    }
    search_supernet_free(sr.sn);
    train_data_free(&sr.heldout);
    gemm_ctx_free(gemm);
    return s;
}

ir_status compress_stage_search(compress_ctx *c, ir_diag *d)
{
    ir_dist *dc = c->o->dist;
    spread spr = {.on = !c->o->proxy_fitness && ir_dist_size(dc) > 1,
                  .phase = SPREAD_GO};
    if (spr.on && ir_dist_rank(dc) != 0)
        return search_serve(c, d);
    ir_status s = search_lead(c, &spr, d);
    if (spr.on && spr.phase == SPREAD_GO) {
        /* rank 0 stopped before its go: the others return */
        ir_status stop = s != IR_OK ? s : IR_ERR_FAILED;
        ir_diag d2 = *d;
        ir_dist_bcast_status(dc, &stop, 0, &d2);
    } else if (spr.on && spr.phase == SPREAD_SERVING) {
        ir_diag d2;
        ir_diag_init(&d2);
        search_fitness_dist_end(&spr.fd, &d2);
    }
    return s;
}

void compress_teacher_config(compress_ctx *c, search_space *sp,
                             ir_encoder_config *tc)
{
    const compress_results *r = &c->st->r;
    const glue_task *task = compress_task(c->o);
    /* every candidate shares the teacher's vocabulary, positions (their
     * numbering too, and MPNet's relative position bias), head and FFN
     * activation (the supernet is the
     * teacher: its candidates cannot switch GELU forms) */
    *tc = sp->base;
    tc->layers = r->t_layers;
    tc->hidden = r->t_hidden;
    tc->heads = r->t_heads;
    tc->ffn = r->t_ffn;
    sp->base.vocab = tc->vocab = r->t_vocab;
    sp->base.max_positions = tc->max_positions = r->t_positions;
    sp->base.type_vocab = tc->type_vocab = r->t_type_vocab;
    sp->base.labels = tc->labels = r->t_labels;
    sp->base.positions = tc->positions =
        r->t_pad_id >= 0 ? IR_ENC_POS_PADDED : IR_ENC_POS_ABSOLUTE;
    sp->base.pad_id = tc->pad_id = r->t_pad_id >= 0 ? r->t_pad_id : 0;
    ir_act pool;
    if (ir_act_parse(r->t_pool_act, &pool))
        sp->base.pool_act = tc->pool_act = pool;
    if (r->t_ln_eps > 0)
        sp->base.ln_eps = tc->ln_eps = (float)r->t_ln_eps;
    sp->base.rel_buckets = tc->rel_buckets = r->t_rel_buckets;
    sp->base.rel_max_distance = tc->rel_max_distance = r->t_rel_max_distance;
    sp->base.rel_bidirectional = tc->rel_bidirectional = r->t_rel_bidirectional;
    sp->base.head = tc->head = task->is_regression ? IR_ENC_HEAD_REGRESSION
                                                   : IR_ENC_HEAD_CLASSIFICATION;
    ir_act act = ir_act_from_ffn_code(r->t_activation);
    if (ir_act_is_ffn(act))
        sp->base.activation = tc->activation = act;
}

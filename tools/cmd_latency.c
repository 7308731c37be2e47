/* cmd_latency.c — `distilc latency-model`: fits and checks the search's
 * latency model (search/latency.h) against the real thing. It draws
 * candidates from a search space, predicts each one's latency from the
 * cached primitive timings, and measures it in the compiled runtime
 * (backend/rt.h) on random weights; a few extra candidates first fit the
 * per-model overhead (once per setting, kept in the cache). Reports
 * Kendall's tau between predicted and measured latency and the mean
 * relative error. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/rt_encoder.h"
#include "search/latency.h"
#include "search/space.h"
#include "frontend/json.h"
#include "tools/cli.h"
#include "tools/cli_groups.h"
#include "tools/search_opts.h"
#include "tools/cmds.h"
#include "tools/progress.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc latency-model [--space FILE] [--validate N]\n"
            "                             [--seq S] [--batch B] [--threads T]\n"
            "                             [--precision fp32|bf16|int8]\n"
            "                             [--calibrate K] [--recalibrate]\n"
            "                             [--runs R] [--seed N] [--cache PATH]\n"
            "                             [--clock wall|cpu]\n"
            "                             [--json] [--progress MODE]\n"
            "\n"
            "Builds the latency model the search uses on this machine and\n"
            "checks it: N random candidates of the space are predicted from\n"
            "timed oneDNN primitives and measured end to end in the compiled\n"
            "runtime (random weights, inputs without padding); prints each\n"
            "pair, Kendall's tau and the mean relative error.\n"
            "\n"
            "  --space FILE      search space (default: the built-in default)\n"
            "  --validate N      candidates to predict and measure (0: only\n"
            "                    fit the overhead)\n"
            "  --seq S, --batch B, --threads T, --precision P\n"
            "                    the setting (defaults: the space's latency\n"
            "                    constraint, else 128, 1, 2, fp32)\n"
            "  --calibrate K     models measured to fit the per-model and\n"
            "                    per-layer overhead when the cache has no fit\n"
            "                    for this setting (4); distinct from the N\n"
            "  --recalibrate     fit the overhead again even if cached\n"
            "  --runs R          timed runs per model, fastest kept (15)\n"
            "  --seed N          which candidates are drawn (0)\n"
            "  --cache PATH      latency cache file (default:\n"
            "                    ~/.cache/distilc/latency-<cpu>.json)\n"
            "  --clock C         wall (default): elapsed time; cpu: this thread's\n"
            "                    CPU time, which leaves out waits for a core on a\n"
            "                    machine shared with other jobs (needs --threads 1)\n"
            "  --json            one JSON object with every pair and the scores\n"
            "  --progress MODE   auto, bar, json or off\n"
            "  --help            this text\n"
            "\n"
            "Exit status: 0 ok, 1 failure, 2 bad input or usage.\n");
}

typedef struct pair {
    ir_encoder_config c;
    double pred, meas;
    double sum; /* the primitives alone, without the fitted overhead */
} pair;

static const char *const CMD = "latency-model";

/* The command line, parsed (0: not given). */
typedef struct latency_args {
    cli_int n_val, n_cal, runs, seed;
    bool recal;
    search_opts so;
} latency_args;

/* Exit status, or -1 to go on. */
static int latency_args_parse(int argc, char **argv, latency_args *a)
{
    *a = (latency_args){
        .n_val = {0, 0, 10000,
                  "option --validate expects a count 0..10000, got '%s'"},
        .n_cal = {4, 1, 0, NULL},
        .runs = {15, 1, 0, NULL},
        .seed = {0, 0, 0, NULL},
    };
    search_opts_init(&a->so);
    cli_option opts[] = {
        {"search options", 0, CLI_GROUP, a->so.options},
        {"validate", 0, CLI_INT, &a->n_val},
        {"calibrate", 0, CLI_INT, &a->n_cal},
        {"recalibrate", 0, CLI_FLAG, &a->recal},
        {"runs", 0, CLI_INT, &a->runs},
        {"seed", 0, CLI_INT, &a->seed},
        {0},
    };
    int npos = 0;
    int rc = cli_parse(CMD, argc, argv, opts, NULL, 0, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    return -1;
}

/* The setting: the space's latency constraint, overridden by the command
 * line (exit status, or -1 to go on). */
static int latency_setting(const latency_args *a, const search_space *sp,
                           search_latency_query *q)
{
    search_constraints k = sp->cons;
    int rc = search_opts_setting(CMD, &a->so, sp, &k);
    if (rc >= 0)
        return rc;
    if (a->n_cal.value > 100 || a->runs.value > 1000) {
        cli_error("%s: --calibrate at most 100, --runs at most 1000", CMD);
        return 2;
    }
    *q = (search_latency_query){.batch = k.batch, .seq = k.seq,
                                .threads = (int)k.threads,
                                .precision = k.precision};
    return -1;
}

/* The candidates, pr[0..n_cal) for calibration, then n_val for validation.
 * Validation candidates come from the seed; the calibration ones from a
 * pool of 8K other draws, spread evenly over the weight volume the overhead
 * grows with (a fit on look-alike models pins nothing). All are distinct
 * when the space is large enough. */
static ir_status draw_candidates(const search_space *sp, const latency_args *a,
                                 pair *pr, ir_diag *d)
{
    size_t n_cal = (size_t)a->n_cal.value, n_val = (size_t)a->n_val.value;
    size_t n_all = n_cal + n_val, n_pool = 8 * n_cal;
    search_genome *gs = calloc(n_all ? n_all : 1, sizeof *gs);
    search_genome *pool = calloc(n_pool ? n_pool : 1, sizeof *pool);
    ir_encoder_config *pool_c = calloc(n_pool ? n_pool : 1, sizeof *pool_c);
    ir_encoder_config *cal = calloc(n_cal ? n_cal : 1, sizeof *cal);
    ir_status s = IR_OK;
    if (!gs || !pool || !pool_c || !cal)
        s = ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    search_rng rng;
    search_rng_seed(&rng, (uint64_t)a->seed.value);
    size_t n_valid = search_space_count_valid(sp, n_all + n_pool + 1);
    /* gs[n_cal..n_all) validation, then the pool */
    for (size_t i = 0; i < n_val + n_pool && s == IR_OK; i++) {
        search_genome *g = i < n_val ? &gs[n_cal + i] : &pool[i - n_val];
        for (int t = 0; t < 1000; t++) {
            if ((s = search_space_sample(sp, &rng, g, d)) != IR_OK)
                break;
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = search_genome_equal(g, j < n_val ? &gs[n_cal + j]
                                                       : &pool[j - n_val]);
            if (!dup || n_valid <= i)
                break;
        }
    }
    for (size_t i = 0; i < n_pool && s == IR_OK; i++)
        s = search_space_decode(sp, &pool[i], &pool_c[i], d);
    if (s == IR_OK && n_cal > 0) {
        search_configs_spread(pool_c, n_pool, n_cal, cal);
        for (size_t k = 0; k < n_cal; k++)
            pr[k].c = cal[k];
    }
    for (size_t i = n_cal; i < n_all && s == IR_OK; i++)
        s = search_space_decode(sp, &gs[i], &pr[i].c, d);
    free(gs), free(pool), free(pool_c), free(cal);
    return s;
}

/* Fits the overhead on the measured calibration candidates. */
static ir_status calibrate(search_latency *lm, const pair *pr, size_t n_cal,
                           const search_latency_query *q, ir_diag *d)
{
    double *meas = malloc(n_cal * sizeof *meas);
    ir_encoder_config *cs = malloc(n_cal * sizeof *cs);
    ir_status s = meas && cs ? IR_OK
                             : ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    for (size_t j = 0; s == IR_OK && j < n_cal; j++)
        meas[j] = pr[j].meas, cs[j] = pr[j].c;
    if (s == IR_OK)
        s = search_latency_calibrate(lm, cs, meas, n_cal, q, d);
    free(meas), free(cs);
    return s;
}

/* Predicts and measures pr[first..n_all), fitting the overhead once the
 * calibration candidates are measured when need_cal. */
static ir_status measure_all(search_latency *lm, const latency_args *a,
                             const search_latency_query *q, search_clock clock,
                             pair *pr, bool need_cal, ir_diag *d)
{
    size_t n_cal = (size_t)a->n_cal.value, n_all = n_cal + (size_t)a->n_val.value;
    size_t first = need_cal ? 0 : n_cal;
    progress p;
    progress_init(&p, stderr, "latency", n_all - first,
                  (progress_mode)a->so.out.progress.value);
    ir_status s = IR_OK;
    search_latency_estimate est;
    for (size_t i = first; i < n_all && s == IR_OK; i++) {
        /* predict first: the primitive timings and the real run then do not
         * overlap in time */
        s = search_latency_predict(lm, &pr[i].c, q, &est, d);
        if (s == IR_OK) {
            ir_load_mark m0 = ir_load_mark_now();
            s = search_latency_measure_model(&pr[i].c, q, (int)a->runs.value, clock,
                                             (uint64_t)a->seed.value + i, &pr[i].meas,
                                             d);
            ir_load_mark m1 = ir_load_mark_now();
            search_latency_count_load(lm, &m0, &m1);
        }
        if (s != IR_OK) {
            char buf[96];
            search_config_format(&pr[i].c, buf, sizeof buf);
            ir_diag_prefix(d, "candidate %s", buf);
        }
        progress_update(&p, i + 1 - first);
        if (s == IR_OK && need_cal && i + 1 == n_cal)
            s = calibrate(lm, pr, n_cal, q, d);
    }
    progress_finish(&p);
    /* predictions with the (possibly new) overhead, no timing needed */
    for (size_t i = 0; i < n_all && s == IR_OK; i++)
        if (i >= n_cal || need_cal) {
            s = search_latency_predict(lm, &pr[i].c, q, &est, d);
            pr[i].pred = est.total_ms;
            pr[i].sum = est.embed_ms + est.layers_ms + est.head_ms;
        }
    return s;
}

/* What the run found. */
typedef struct latency_report {
    const search_latency *lm;
    search_latency_query q;
    search_clock clock;
    bool need_cal;
    const pair *cal, *val; /* [n_cal], [n_val] */
    int64_t n_cal, n_val;
    double tau, mre; /* Kendall's tau, mean relative error (NaN: too few) */
} latency_report;

/* Scores over the validation candidates only. */
static void score(latency_report *r)
{
    double *xp = malloc((size_t)(r->n_val ? r->n_val : 1) * sizeof *xp);
    double *xm = malloc((size_t)(r->n_val ? r->n_val : 1) * sizeof *xm);
    double rel = 0;
    for (int64_t i = 0; i < r->n_val; i++) {
        xp[i] = r->val[i].pred;
        xm[i] = r->val[i].meas;
        rel += fabs(r->val[i].pred - r->val[i].meas) / r->val[i].meas;
    }
    r->tau = r->n_val >= 2 ? search_kendall_tau(xp, xm, (size_t)r->n_val) : NAN;
    r->mre = r->n_val ? rel / (double)r->n_val : NAN;
    free(xp), free(xm);
}

static void print_json(const latency_report *r)
{
    printf("{\"cpu\": ");
    cli_json_string(stdout, search_latency_cpu(r->lm));
    printf(", \"cache\": ");
    cli_json_string(stdout, search_latency_cache_path(r->lm));
    printf(", \"seq\": %lld, \"batch\": %lld, \"threads\": %d, \"precision\": "
           "\"%s\", \"clock\": \"%s\", \"calibrated_now\": %s, "
           "\"candidates\": [", (long long)r->q.seq, (long long)r->q.batch,
           r->q.threads, ir_precision_name(r->q.precision),
           search_clock_name(r->clock), r->need_cal ? "true" : "false");
    for (int64_t i = 0; i < r->n_val; i++) {
        char buf[96];
        search_config_format(&r->val[i].c, buf, sizeof buf);
        printf("%s{\"config\": ", i ? ", " : "");
        cli_json_string(stdout, buf);
        printf(", \"predicted_ms\": ");
        json_write_number(stdout, r->val[i].pred, 6);
        printf(", \"primitives_ms\": ");
        json_write_number(stdout, r->val[i].sum, 6);
        printf(", \"measured_ms\": ");
        json_write_number(stdout, r->val[i].meas, 6);
        printf("}");
    }
    printf("], \"kendall_tau\": ");
    json_write_fixed(stdout, r->tau, 4);
    printf(", \"mean_rel_error\": ");
    json_write_fixed(stdout, r->mre, 4);
    search_latency_load_info li;
    bool known = search_latency_load(r->lm, &li);
    printf(", \"timing_load\": {\"seconds\": ");
    json_write_number(stdout, li.timed_s, 6);
    printf(", \"other_cores\": ");
    json_write_number(stdout, known ? li.others_cores : NAN, 4);
    printf("}}\n");
}

static void print_text(const latency_report *r)
{
    printf("latency model on %s (cache %s)\n", search_latency_cpu(r->lm),
           search_latency_cache_path(r->lm));
    printf("setting: seq %lld, batch %lld, %d threads, %s, %s clock; "
           "overhead %s\n", (long long)r->q.seq, (long long)r->q.batch,
           r->q.threads, ir_precision_name(r->q.precision),
           search_clock_name(r->clock),
           r->need_cal ? "fitted now" : "from the cache");
    if (r->need_cal)
        for (int64_t i = 0; i < r->n_cal; i++) {
            char buf[96];
            search_config_format(&r->cal[i].c, buf, sizeof buf);
            printf("  calibration %-32s primitives %8.3f ms  measured %8.3f ms\n",
                   buf, r->cal[i].sum, r->cal[i].meas);
        }
    for (int64_t i = 0; i < r->n_val; i++) {
        const pair *v = &r->val[i];
        char buf[96];
        search_config_format(&v->c, buf, sizeof buf);
        printf("  %-32s predicted %8.3f ms (primitives %8.3f)  measured "
               "%8.3f ms  %+6.1f%%\n", buf, v->pred, v->sum, v->meas,
               100 * (v->pred - v->meas) / v->meas);
    }
    if (r->n_val)
        printf("Kendall tau %.3f, mean relative error %.1f%% over %lld "
               "candidates (targets: tau >= 0.9, error <= 10%%)\n", r->tau,
               100 * r->mre, (long long)r->n_val);
    search_latency_load_info li;
    if (search_latency_load(r->lm, &li))
        printf("timed for %.1f s; other processes used %.2f CPU cores on "
               "average meanwhile\n", li.timed_s, li.others_cores);
}

/* Timings taken beside other jobs run slow even on the CPU clock (memory
 * traffic); a cache filled that way makes compress's search turn down
 * students that fit. Said on stderr, whatever the output format. */
static void warn_if_busy(const search_latency *lm)
{
    search_latency_load_info li;
    if (search_latency_timed_busy(lm, 0, &li))
        fprintf(stderr, "distilc: %s: warning: other processes kept %.1f CPU cores "
                "busy on average while this timed (%.0f s): these timings run "
                "slow; time again on a quiet machine (--recalibrate, a fresh "
                "--cache)\n", CMD, li.others_cores, li.timed_s);
}

int cmd_latency_model(int argc, char **argv)
{
    latency_args a;
    int rc = latency_args_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    search_space sp;
    if ((rc = space_load(CMD, a.so.space, &sp)) != 0)
        return rc;
    search_latency_query q;
    if ((rc = latency_setting(&a, &sp, &q)) >= 0)
        return rc;
    search_latency_opts lo;
    if ((rc = search_opts_latency(CMD, &a.so, q.threads, &lo)) >= 0)
        return rc;
    ir_diag d;
    ir_diag_init(&d);
    search_latency *lm;
    if (search_latency_create(&lo, &lm, &d) != IR_OK)
        return cli_fail(&d);
    size_t n_all = (size_t)(a.n_cal.value + a.n_val.value);
    pair *pr = calloc(n_all ? n_all : 1, sizeof *pr);
    ir_status s = pr ? draw_candidates(&sp, &a, pr, &d)
                     : ir_diag_set(&d, IR_ERR_NOMEM, "out of memory");
    /* does the cache hold an overhead fit for this setting already? */
    search_latency_estimate est;
    if (s == IR_OK)
        s = search_latency_predict(lm, &pr[0].c, &q, &est, &d);
    bool need_cal = s == IR_OK && (a.recal || !est.calibrated) && a.n_cal.value > 0;
    if (s == IR_OK)
        s = measure_all(lm, &a, &q, lo.clock, pr, need_cal, &d);
    ir_diag d2;
    ir_diag_init(&d2);
    if (search_latency_save(lm, &d2) != IR_OK)
        fprintf(stderr, "distilc: %s: warning: %s\n", CMD, d2.msg);
    if (s != IR_OK) {
        free(pr);
        search_latency_free(lm);
        return cli_fail(&d);
    }
    latency_report r = {.lm = lm, .q = q, .clock = lo.clock,
                        .need_cal = need_cal, .cal = pr, .val = pr + a.n_cal.value,
                        .n_cal = a.n_cal.value, .n_val = a.n_val.value};
    score(&r);
    warn_if_busy(lm);
    if (a.so.out.json)
        print_json(&r);
    else
        print_text(&r);
    free(pr);
    search_latency_free(lm);
    return 0;
}

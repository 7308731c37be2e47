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
#include "tools/cli.h"
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

int cmd_latency_model(int argc, char **argv)
{
    const char *space_s = NULL, *val_s = NULL, *seq_s = NULL, *batch_s = NULL,
               *threads_s = NULL, *prec_s = NULL, *cal_s = NULL, *runs_s = NULL,
               *seed_s = NULL, *cache_s = NULL, *progress_s = NULL,
               *clock_s = NULL;
    bool json = false, recal = false;
    cli_option opts[] = {
        {"space", 0, CLI_VALUE, &space_s},
        {"validate", 0, CLI_VALUE, &val_s},
        {"seq", 0, CLI_VALUE, &seq_s},
        {"batch", 0, CLI_VALUE, &batch_s},
        {"threads", 0, CLI_VALUE, &threads_s},
        {"precision", 0, CLI_VALUE, &prec_s},
        {"calibrate", 0, CLI_VALUE, &cal_s},
        {"recalibrate", 0, CLI_FLAG, &recal},
        {"runs", 0, CLI_VALUE, &runs_s},
        {"seed", 0, CLI_VALUE, &seed_s},
        {"cache", 0, CLI_VALUE, &cache_s},
        {"clock", 0, CLI_VALUE, &clock_s},
        {"json", 0, CLI_FLAG, &json},
        {"progress", 0, CLI_VALUE, &progress_s},
        {NULL, 0, CLI_FLAG, NULL},
    };
    int npos = 0;
    int rc = cli_parse("latency-model", argc, argv, opts, NULL, 0, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    const char *cmd = "latency-model";
    progress_mode pm = PROGRESS_AUTO;
    if (progress_s && !progress_mode_parse(progress_s, &pm)) {
        cli_error("%s: option --progress: unknown mode '%s' (auto, bar, json, "
                  "off)", cmd, progress_s);
        return 2;
    }
    ir_diag d;
    ir_diag_init(&d);
    search_space sp;
    ir_status s;
    if (space_s) {
        if (!cli_check_input_file(cmd, "space", space_s))
            return 2;
        s = search_space_load_file(space_s, &sp, &d);
    } else {
        const char *t = search_space_default_text();
        s = search_space_load_memory(t, strlen(t), "default.xml (built in)", &sp, &d);
    }
    if (s != IR_OK)
        return cli_fail(&d);
    search_latency_query q = {.batch = sp.cons.batch, .seq = sp.cons.seq,
                              .threads = (int)sp.cons.threads,
                              .precision = sp.cons.precision};
    int64_t v = 0, n_val = 0, n_cal = 4, runs = 15, seed = 0;
    if (val_s) {
        char *end;
        errno = 0;
        long long x = strtoll(val_s, &end, 10);
        if (errno || *end || end == val_s || x < 0 || x > 10000) {
            cli_error("%s: option --validate expects a count 0..10000, got '%s'",
                      cmd, val_s);
            return 2;
        }
        n_val = x;
    }
    if (seq_s) {
        if (!cli_parse_positive(cmd, "seq", seq_s, &v))
            return 2;
        if (v > sp.base.max_positions) {
            cli_error("%s: option --seq %lld exceeds the space's max-positions "
                      "%lld", cmd, (long long)v, (long long)sp.base.max_positions);
            return 2;
        }
        q.seq = v;
    }
    if (batch_s) {
        if (!cli_parse_positive(cmd, "batch", batch_s, &v))
            return 2;
        q.batch = v;
    }
    if (threads_s) {
        if (!cli_parse_positive(cmd, "threads", threads_s, &v) || v > 1024) {
            if (v > 1024)
                cli_error("%s: option --threads: at most 1024", cmd);
            return 2;
        }
        q.threads = (int)v;
    }
    if (prec_s && !ir_precision_parse(prec_s, &q.precision)) {
        cli_error("%s: option --precision: unknown precision '%s' (fp32, bf16 "
                  "or int8)", cmd, prec_s);
        return 2;
    }
    if ((cal_s && !cli_parse_positive(cmd, "calibrate", cal_s, &n_cal)) ||
        (runs_s && !cli_parse_positive(cmd, "runs", runs_s, &runs)))
        return 2;
    if (n_cal > 100 || runs > 1000) {
        cli_error("%s: --calibrate at most 100, --runs at most 1000", cmd);
        return 2;
    }
    if (seed_s) {
        char *end;
        errno = 0;
        long long x = strtoll(seed_s, &end, 10);
        if (errno || *end || end == seed_s || x < 0) {
            cli_error("%s: option --seed expects an integer >= 0, got '%s'", cmd,
                      seed_s);
            return 2;
        }
        seed = x;
    }

    search_latency_opts lo;
    search_latency_opts_default(&lo);
    lo.cache_path = cache_s;
    if (clock_s && !search_clock_parse(clock_s, &lo.clock)) {
        cli_error("%s: option --clock: unknown clock '%s' (wall or cpu)", cmd,
                  clock_s);
        return 2;
    }
    if (lo.clock == SEARCH_CLOCK_CPU && q.threads != 1) {
        cli_error("%s: option --clock cpu times one thread: add --threads 1",
                  cmd);
        return 2;
    }
    search_latency *lm;
    if ((s = search_latency_create(&lo, &lm, &d)) != IR_OK)
        return cli_fail(&d);

    /* candidates: calibration first, then validation, all distinct */
    size_t n_all = (size_t)(n_cal + n_val);
    pair *pr = calloc(n_all ? n_all : 1, sizeof *pr);
    search_genome *gs = calloc(n_all ? n_all : 1, sizeof *gs);
    if (!pr || !gs) {
        free(pr), free(gs);
        search_latency_free(lm);
        ir_diag_set(&d, IR_ERR_NOMEM, "out of memory");
        return cli_fail(&d);
    }
    /* validation candidates from the seed; the calibration ones from a
     * pool of 8K other draws, spread evenly over the weight volume the
     * overhead grows with (a fit on look-alike models pins nothing) */
    search_rng rng;
    search_rng_seed(&rng, (uint64_t)seed);
    size_t n_valid = search_space_count_valid(&sp, n_all + 8 * (size_t)n_cal + 1);
    size_t n_pool = 8 * (size_t)n_cal;
    search_genome *pool = calloc(n_pool ? n_pool : 1, sizeof *pool);
    if (!pool)
        s = ir_diag_set(&d, IR_ERR_NOMEM, "out of memory");
    /* gs[n_cal..n_all) validation, then the pool, all distinct when the
     * space is large enough */
    for (size_t i = 0; i < (size_t)n_val + n_pool && s == IR_OK; i++) {
        search_genome *g = i < (size_t)n_val ? &gs[n_cal + i] : &pool[i - n_val];
        for (int t = 0; t < 1000; t++) {
            if ((s = search_space_sample(&sp, &rng, g, &d)) != IR_OK)
                break;
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = search_genome_equal(g, j < (size_t)n_val ? &gs[n_cal + j]
                                                               : &pool[j - n_val]);
            if (!dup || n_valid <= i)
                break;
        }
    }
    ir_encoder_config *pool_c = calloc(n_pool ? n_pool : 1, sizeof *pool_c);
    if (!pool_c && s == IR_OK)
        s = ir_diag_set(&d, IR_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n_pool && s == IR_OK; i++)
        s = search_space_decode(&sp, &pool[i], &pool_c[i], &d);
    if (s == IR_OK && n_cal > 0) {
        ir_encoder_config *cal = malloc((size_t)n_cal * sizeof *cal);
        if (!cal)
            s = ir_diag_set(&d, IR_ERR_NOMEM, "out of memory");
        else {
            search_configs_spread(pool_c, n_pool, (size_t)n_cal, cal);
            for (int64_t k = 0; k < n_cal; k++)
                pr[k].c = cal[k];
        }
        free(cal);
    }
    free(pool), free(pool_c);
    for (size_t i = (size_t)n_cal; i < n_all && s == IR_OK; i++)
        s = search_space_decode(&sp, &gs[i], &pr[i].c, &d);

    /* does the cache hold an overhead fit for this setting already? */
    search_latency_estimate est;
    if (s == IR_OK)
        s = search_latency_predict(lm, &pr[0].c, &q, &est, &d);
    bool need_cal = s == IR_OK && (recal || !est.calibrated) && n_cal > 0;
    size_t first = need_cal ? 0 : (size_t)n_cal;
    progress p;
    progress_init(&p, stderr, "latency", n_all - first, pm);
    for (size_t i = first; i < n_all && s == IR_OK; i++) {
        /* predict first: the primitive timings and the real run then do not
         * overlap in time */
        s = search_latency_predict(lm, &pr[i].c, &q, &est, &d);
        if (s == IR_OK)
            s = search_latency_measure_model(&pr[i].c, &q, (int)runs, lo.clock,
                                             (uint64_t)seed + i, &pr[i].meas, &d);
        if (s != IR_OK) {
            char buf[96];
            search_config_format(&pr[i].c, buf, sizeof buf);
            ir_diag_prefix(&d, "candidate %s", buf);
        }
        progress_update(&p, i + 1 - first);
        if (s == IR_OK && need_cal && i + 1 == (size_t)n_cal) {
            double *meas = malloc((size_t)n_cal * sizeof *meas);
            ir_encoder_config *cs = malloc((size_t)n_cal * sizeof *cs);
            if (!meas || !cs)
                s = ir_diag_set(&d, IR_ERR_NOMEM, "out of memory");
            for (int64_t j = 0; s == IR_OK && j < n_cal; j++)
                meas[j] = pr[j].meas, cs[j] = pr[j].c;
            if (s == IR_OK)
                s = search_latency_calibrate(lm, cs, meas, (size_t)n_cal, &q, &d);
            free(meas), free(cs);
        }
    }
    progress_finish(&p);
    /* predictions with the (possibly new) overhead, no timing needed */
    for (size_t i = 0; i < n_all && s == IR_OK; i++)
        if (i >= (size_t)n_cal || need_cal) {
            s = search_latency_predict(lm, &pr[i].c, &q, &est, &d);
            pr[i].pred = est.total_ms;
            pr[i].sum = est.embed_ms + est.layers_ms + est.head_ms;
        }
    ir_diag d2;
    ir_diag_init(&d2);
    if (search_latency_save(lm, &d2) != IR_OK)
        fprintf(stderr, "distilc: %s: warning: %s\n", cmd, d2.msg);
    if (s != IR_OK) {
        free(pr), free(gs);
        search_latency_free(lm);
        return cli_fail(&d);
    }

    /* scores over the validation candidates only */
    pair *val = pr + n_cal;
    double *xp = malloc((size_t)(n_val ? n_val : 1) * sizeof *xp);
    double *xm = malloc((size_t)(n_val ? n_val : 1) * sizeof *xm);
    double rel = 0;
    for (int64_t i = 0; i < n_val; i++) {
        xp[i] = val[i].pred;
        xm[i] = val[i].meas;
        rel += fabs(val[i].pred - val[i].meas) / val[i].meas;
    }
    double tau = n_val >= 2 ? search_kendall_tau(xp, xm, (size_t)n_val) : NAN;
    double mre = n_val ? rel / (double)n_val : NAN;
    est.calibrated = false;
    if (n_val)
        search_latency_predict(lm, &val[0].c, &q, &est, &d2);

    if (json) {
        printf("{\"cpu\": ");
        cli_json_string(stdout, search_latency_cpu(lm));
        printf(", \"cache\": ");
        cli_json_string(stdout, search_latency_cache_path(lm));
        printf(", \"seq\": %lld, \"batch\": %lld, \"threads\": %d, \"precision\": "
               "\"%s\", \"clock\": \"%s\", \"calibrated_now\": %s, "
               "\"candidates\": [", (long long)q.seq, (long long)q.batch, q.threads,
               ir_precision_name(q.precision), search_clock_name(lo.clock),
               need_cal ? "true" : "false");
        for (int64_t i = 0; i < n_val; i++) {
            char buf[96];
            search_config_format(&val[i].c, buf, sizeof buf);
            printf("%s{\"config\": ", i ? ", " : "");
            cli_json_string(stdout, buf);
            printf(", \"predicted_ms\": %.6g, \"primitives_ms\": %.6g, "
                   "\"measured_ms\": %.6g}", val[i].pred, val[i].sum, val[i].meas);
        }
        printf("], \"kendall_tau\": ");
        if (isfinite(tau)) printf("%.4f", tau); else printf("null");
        printf(", \"mean_rel_error\": ");
        if (isfinite(mre)) printf("%.4f", mre); else printf("null");
        printf("}\n");
    } else {
        printf("latency model on %s (cache %s)\n", search_latency_cpu(lm),
               search_latency_cache_path(lm));
        printf("setting: seq %lld, batch %lld, %d threads, %s, %s clock; "
               "overhead %s\n", (long long)q.seq, (long long)q.batch, q.threads,
               ir_precision_name(q.precision), search_clock_name(lo.clock),
               need_cal ? "fitted now" : "from the cache");
        if (need_cal)
            for (int64_t i = 0; i < n_cal; i++) {
                char buf[96];
                search_config_format(&pr[i].c, buf, sizeof buf);
                printf("  calibration %-32s primitives %8.3f ms  measured %8.3f ms\n",
                       buf, pr[i].sum, pr[i].meas);
            }
        for (int64_t i = 0; i < n_val; i++) {
            char buf[96];
            search_config_format(&val[i].c, buf, sizeof buf);
            printf("  %-32s predicted %8.3f ms (primitives %8.3f)  measured "
                   "%8.3f ms  %+6.1f%%\n", buf, val[i].pred, val[i].sum, val[i].meas,
                   100 * (val[i].pred - val[i].meas) / val[i].meas);
        }
        if (n_val)
            printf("Kendall tau %.3f, mean relative error %.1f%% over %lld "
                   "candidates (targets: tau >= 0.9, error <= 10%%)\n", tau,
                   100 * mre, (long long)n_val);
    }
    free(xp), free(xm), free(pr), free(gs);
    search_latency_free(lm);
    return 0;
}

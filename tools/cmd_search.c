/* cmd_search.c — `distilc search`: evolutionary architecture search over a
 * search space (search/space.h) under latency, parameter and size
 * constraints, with latencies from the machine's latency model
 * (search/latency.h), writing the Pareto front of fitness against
 * predicted latency as DIR/pareto.json and DIR/pareto.svg.
 *
 * Until the weight-sharing supernet exists the fitness is a documented
 * proxy (search_proxy_fitness) and every output says so. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "search/evolution.h"
#include "search/latency.h"
#include "search/pareto.h"
#include "search/space.h"
#include "tools/cli.h"
#include "tools/cmds.h"
#include "tools/progress.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc search [--space FILE] -o DIR\n"
            "                      [--latency-ms X] [--params N] [--size-mb X]\n"
            "                      [--seq S] [--batch B] [--threads T]\n"
            "                      [--precision fp32|bf16|int8]\n"
            "                      [--generations N] [--population N] [--seed N]\n"
            "                      [--cache PATH] [--clock wall|cpu] [--no-measure]\n"
            "                      [--json]\n"
            "                      [--progress MODE]\n"
            "\n"
            "Searches the space for encoder shapes with aging evolution and\n"
            "writes the Pareto front of fitness against predicted latency:\n"
            "DIR/pareto.json (every candidate, the front, the best) and\n"
            "DIR/pareto.svg (a scatter plot with the front highlighted).\n"
            "\n"
            "  --space FILE      a search space (search/space.xsd); default: the\n"
            "                    built-in search/spaces/default.xml\n"
            "  -o, --output DIR  where to write (created if missing)\n"
            "  --latency-ms X    latency limit (overrides the space's)\n"
            "  --params N        maximum parameters (overrides the space's)\n"
            "  --size-mb X       maximum weight size in MB at the precision\n"
            "  --seq S, --batch B, --threads T, --precision P\n"
            "                    the setting latency is predicted at\n"
            "                    (defaults: the space's, else 128, 1, 2, fp32)\n"
            "  --generations N   cycles = N x population (10)\n"
            "  --population N    population size (32)\n"
            "  --seed N          random seed (0); same seed, same result\n"
            "  --cache PATH      latency cache file (default:\n"
            "                    ~/.cache/distilc/latency-<cpu>.json)\n"
            "  --clock C         wall (default) or cpu: time primitives by this\n"
            "                    thread's CPU time, robust on a busy machine\n"
            "                    (needs --threads 1)\n"
            "  --no-measure      never time primitives: interpolate from the\n"
            "                    cache only\n"
            "  --json            print the summary as one JSON object\n"
            "  --progress MODE   auto, bar, json or off\n"
            "  --help            this text\n"
            "\n"
            "Fitness: " SEARCH_PROXY_FITNESS_NAME ".\n"
            "Latency: the sum of the oneDNN primitives each candidate runs,\n"
            "timed once per shape on this machine, plus the overhead fitted by\n"
            "'distilc latency-model --validate N' (0 until then).\n"
            "Exit status: 0 ok, 1 failure, 2 bad input or usage.\n");
}

static bool parse_pos_double(const char *opt, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0) || !isfinite(v)) {
        cli_error("search: option --%s expects a positive number, got '%s'",
                  opt, text);
        return false;
    }
    *out = v;
    return true;
}

typedef struct lat_ctx {
    search_latency *lm;
    search_latency_query q;
} lat_ctx;

static ir_status predict_cb(void *ctx, const ir_encoder_config *c, double *ms,
                            ir_diag *d)
{
    lat_ctx *l = ctx;
    search_latency_estimate e;
    ir_status s = search_latency_predict(l->lm, c, &l->q, &e, d);
    *ms = e.total_ms;
    return s;
}

static void print_cand(FILE *f, const char *mark, const search_cand *c)
{
    char buf[96];
    search_config_format(&c->cfg, buf, sizeof buf);
    fprintf(f, "%s %-32s %8.3f ms  %7.2fM params  %7.1f MB  fitness %.4f\n", mark,
            buf, c->latency_ms, (double)c->params / 1e6, c->size_mb, c->fitness);
}

int cmd_search(int argc, char **argv)
{
    const char *space_s = NULL, *out_s = NULL, *lat_s = NULL, *params_s = NULL,
               *size_s = NULL, *seq_s = NULL, *batch_s = NULL, *threads_s = NULL,
               *prec_s = NULL, *gen_s = NULL, *pop_s = NULL, *seed_s = NULL,
               *cache_s = NULL, *progress_s = NULL, *clock_s = NULL;
    bool json = false, no_measure = false;
    cli_option opts[] = {
        {"space", 0, CLI_VALUE, &space_s},
        {"output", 'o', CLI_VALUE, &out_s},
        {"latency-ms", 0, CLI_VALUE, &lat_s},
        {"params", 0, CLI_VALUE, &params_s},
        {"size-mb", 0, CLI_VALUE, &size_s},
        {"seq", 0, CLI_VALUE, &seq_s},
        {"batch", 0, CLI_VALUE, &batch_s},
        {"threads", 0, CLI_VALUE, &threads_s},
        {"precision", 0, CLI_VALUE, &prec_s},
        {"generations", 0, CLI_VALUE, &gen_s},
        {"population", 0, CLI_VALUE, &pop_s},
        {"seed", 0, CLI_VALUE, &seed_s},
        {"cache", 0, CLI_VALUE, &cache_s},
        {"clock", 0, CLI_VALUE, &clock_s},
        {"no-measure", 0, CLI_FLAG, &no_measure},
        {"json", 0, CLI_FLAG, &json},
        {"progress", 0, CLI_VALUE, &progress_s},
        {NULL, 0, CLI_FLAG, NULL},
    };
    int npos = 0;
    int rc = cli_parse("search", argc, argv, opts, NULL, 0, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    if (!out_s) {
        cli_error("search: option -o DIR is required, see 'distilc search --help'");
        return 2;
    }
    progress_mode pm = PROGRESS_AUTO;
    if (progress_s && !progress_mode_parse(progress_s, &pm)) {
        cli_error("search: option --progress: unknown mode '%s' (auto, bar, "
                  "json, off)", progress_s);
        return 2;
    }

    ir_diag d;
    ir_diag_init(&d);
    search_space sp;
    ir_status s;
    if (space_s) {
        if (!cli_check_input_file("search", "space", space_s))
            return 2;
        s = search_space_load_file(space_s, &sp, &d);
    } else {
        const char *t = search_space_default_text();
        s = search_space_load_memory(t, strlen(t), "default.xml (built in)", &sp, &d);
    }
    if (s != IR_OK)
        return cli_fail(&d);

    /* command-line settings override the space's constraints */
    search_constraints *k = &sp.cons;
    int64_t v = 0, gens = 10, pop = 32, seed = 0;
    if (lat_s && !parse_pos_double("latency-ms", lat_s, &k->latency_ms))
        return 2;
    if (size_s && !parse_pos_double("size-mb", size_s, &k->max_size_mb))
        return 2;
    if (params_s) {
        if (!cli_parse_positive("search", "params", params_s, &v))
            return 2;
        k->max_params = v;
    }
    if (seq_s) {
        if (!cli_parse_positive("search", "seq", seq_s, &v))
            return 2;
        if (v > sp.base.max_positions) {
            cli_error("search: option --seq %lld exceeds the space's "
                      "max-positions %lld", (long long)v,
                      (long long)sp.base.max_positions);
            return 2;
        }
        k->seq = v;
    }
    if (batch_s) {
        if (!cli_parse_positive("search", "batch", batch_s, &v))
            return 2;
        k->batch = v;
    }
    if (threads_s) {
        if (!cli_parse_positive("search", "threads", threads_s, &v))
            return 2;
        if (v > 1024) {
            cli_error("search: option --threads: at most 1024");
            return 2;
        }
        k->threads = v;
    }
    if (prec_s && !ir_precision_parse(prec_s, &k->precision)) {
        cli_error("search: option --precision: unknown precision '%s' (fp32, "
                  "bf16 or int8)", prec_s);
        return 2;
    }
    if ((gen_s && !cli_parse_positive("search", "generations", gen_s, &gens)) ||
        (pop_s && !cli_parse_positive("search", "population", pop_s, &pop)))
        return 2;
    if (pop < 2 || pop > 100000 || gens > 100000) {
        cli_error("search: --population must be 2..100000 and --generations at "
                  "most 100000");
        return 2;
    }
    if (seed_s) {
        char *end;
        errno = 0;
        long long sv = strtoll(seed_s, &end, 10);
        if (errno || *end || end == seed_s || sv < 0) {
            cli_error("search: option --seed expects an integer >= 0, got '%s'",
                      seed_s);
            return 2;
        }
        seed = sv;
    }
    if (mkdir(out_s, 0755) != 0 && errno != EEXIST) {
        cli_error("search: output directory '%s': %s", out_s, strerror(errno));
        return 1;
    }

    search_latency_opts lo;
    search_latency_opts_default(&lo);
    lo.cache_path = cache_s;
    lo.measure = !no_measure;
    if (clock_s && !search_clock_parse(clock_s, &lo.clock)) {
        cli_error("search: option --clock: unknown clock '%s' (wall or cpu)",
                  clock_s);
        return 2;
    }
    if (lo.clock == SEARCH_CLOCK_CPU && k->threads != 1) {
        cli_error("search: option --clock cpu times one thread: add --threads 1");
        return 2;
    }
    search_latency *lm;
    if ((s = search_latency_create(&lo, &lm, &d)) != IR_OK)
        return cli_fail(&d);
    lat_ctx lc = {lm, {.batch = k->batch, .seq = k->seq, .threads = (int)k->threads,
                       .precision = k->precision}};

    search_evo_opts eo;
    search_evo_opts_default(&eo);
    eo.population = (size_t)pop;
    eo.generations = (size_t)gens;
    eo.seed = (uint64_t)seed;
    eo.fitness = search_proxy_fitness;
    eo.fitness_ctx = &k->seq;
    eo.latency = predict_cb;
    eo.latency_ctx = &lc;
    progress p;
    progress_init(&p, stderr, "search", eo.population * eo.generations, pm);
    eo.progress = progress_callback;
    eo.progress_ctx = &p;
    search_result r;
    s = search_evolve(&sp, &eo, &r, &d);
    progress_finish(&p);
    /* keep whatever was timed, even when the search failed */
    ir_diag d2;
    ir_diag_init(&d2);
    ir_status s2 = search_latency_save(lm, &d2);
    if (s != IR_OK) {
        search_latency_free(lm);
        return cli_fail(&d);
    }
    if (s2 != IR_OK)
        fprintf(stderr, "distilc: search: warning: %s\n", d2.msg);

    /* is the model calibrated for this setting? (one cheap lookup) */
    search_latency_estimate est;
    bool calibrated = search_latency_predict(lm, &r.all[r.best].cfg, &lc.q, &est,
                                             &d2) == IR_OK && est.calibrated;
    char lat_desc[256];
    snprintf(lat_desc, sizeof lat_desc, "latency model%s, seq %lld, batch %lld, "
             "%lld threads, %s", calibrated ? "" : " (uncalibrated)",
             (long long)k->seq, (long long)k->batch, (long long)k->threads,
             ir_precision_name(k->precision));
    search_pareto_meta meta = {.space = sp.name, .fitness = SEARCH_PROXY_FITNESS_NAME,
                               .latency = lat_desc, .cons = sp.cons};
    char path_json[4096], path_svg[4096];
    snprintf(path_json, sizeof path_json, "%s/pareto.json", out_s);
    snprintf(path_svg, sizeof path_svg, "%s/pareto.svg", out_s);
    if ((s = search_pareto_write_json(path_json, &r, &meta, &d)) != IR_OK ||
        (s = search_pareto_write_svg(path_svg, &r, &meta, &d)) != IR_OK) {
        search_result_free(&r);
        search_latency_free(lm);
        return cli_fail(&d);
    }

    if (json) {
        char best[96];
        search_config_format(&r.all[r.best].cfg, best, sizeof best);
        printf("{\"space\": ");
        cli_json_string(stdout, sp.name);
        printf(", \"fitness\": ");
        cli_json_string(stdout, SEARCH_PROXY_FITNESS_NAME);
        printf(", \"calibrated\": %s, \"evaluated\": %zu, \"cycles\": %zu, "
               "\"front\": %zu, \"best\": ", calibrated ? "true" : "false", r.n,
               r.cycles, r.n_front);
        cli_json_string(stdout, best);
        printf(", \"best_latency_ms\": %.6g, \"best_fitness\": %.6g, "
               "\"pareto_json\": ", r.all[r.best].latency_ms, r.all[r.best].fitness);
        cli_json_string(stdout, path_json);
        printf(", \"pareto_svg\": ");
        cli_json_string(stdout, path_svg);
        printf("}\n");
    } else {
        printf("space %s: %.0f shapes, %zu candidates evaluated in %zu cycles\n",
               sp.name, search_space_total(&sp), r.n, r.cycles);
        printf("fitness: %s\n", SEARCH_PROXY_FITNESS_NAME);
        printf("latency: %s%s\n", lat_desc, calibrated ? "" :
               " -- run 'distilc latency-model --validate N' to fit the overhead");
        printf("constraints: latency <= %g ms, params <= %lld, size <= %g MB "
               "(0 = none)\n", k->latency_ms, (long long)k->max_params,
               k->max_size_mb);
        printf("Pareto front (%zu):\n", r.n_front);
        for (size_t i = 0; i < r.n_front; i++)
            print_cand(stdout, r.front[i] == r.best ? "*" : " ", &r.all[r.front[i]]);
        printf("wrote %s and %s\n", path_json, path_svg);
    }
    search_result_free(&r);
    search_latency_free(lm);
    return 0;
}

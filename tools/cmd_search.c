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
#include "frontend/json.h"
#include "tools/cli.h"
#include "tools/cli_groups.h"
#include "tools/search_opts.h"
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

/* The command line, as parsed (0: not given). */
typedef struct search_args {
    const char *out;
    cli_float latency_ms, size_mb;
    cli_int params, generations, population, seed;
    bool no_measure;
    search_opts so;
} search_args;

/* Exit status, or -1 to go on. */
static int search_args_parse(int argc, char **argv, search_args *a)
{
    *a = (search_args){
        .latency_ms = {0, CLI_ABOVE_ZERO, 0,
                       "option --latency-ms expects a positive number, got "
                       "'%s'"},
        .size_mb = {0, CLI_ABOVE_ZERO, 0,
                    "option --size-mb expects a positive number, got '%s'"},
        .params = {0, 1, 0, NULL},
        .generations = {10, 1, 0, NULL},
        .population = {32, 1, 0, NULL},
        .seed = {0, 0, 0, NULL},
    };
    search_opts_init(&a->so);
    cli_option opts[] = {
        {"search options", 0, CLI_GROUP, a->so.options},
        {"output", 'o', CLI_VALUE, &a->out},
        {"latency-ms", 0, CLI_FLOAT, &a->latency_ms},
        {"params", 0, CLI_INT, &a->params},
        {"size-mb", 0, CLI_FLOAT, &a->size_mb},
        {"generations", 0, CLI_INT, &a->generations},
        {"population", 0, CLI_INT, &a->population},
        {"seed", 0, CLI_INT, &a->seed},
        {"no-measure", 0, CLI_FLAG, &a->no_measure},
        {0},
    };
    int npos = 0;
    int rc = cli_parse("search", argc, argv, opts, NULL, 0, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    if (!a->out) {
        cli_error("search: option -o DIR is required, see 'distilc search --help'");
        return 2;
    }
    if (!cli_check_output_dir("search", "-o", a->out))
        return 2;
    return -1;
}

/* Command-line settings override the space's constraints (exit status, or
 * -1 to go on). */
static int apply_overrides(const search_args *a, search_space *sp)
{
    search_constraints *k = &sp->cons;
    if (a->latency_ms.value > 0)
        k->latency_ms = a->latency_ms.value;
    if (a->size_mb.value > 0)
        k->max_size_mb = a->size_mb.value;
    if (a->params.value)
        k->max_params = a->params.value;
    int rc = search_opts_setting("search", &a->so, sp, k);
    if (rc >= 0)
        return rc;
    if (a->population.value < 2 || a->population.value > 100000 ||
        a->generations.value > 100000) {
        cli_error("search: --population must be 2..100000 and --generations at "
                  "most 100000");
        return 2;
    }
    return -1;
}

/* Where the front went, and how the latencies were predicted. */
typedef struct search_outputs {
    bool calibrated;
    char lat_desc[256], path_json[4096], path_svg[4096];
} search_outputs;

static void print_json(const search_space *sp, const search_result *r,
                       const search_outputs *o)
{
    char best[96];
    search_config_format(&r->all[r->best].cfg, best, sizeof best);
    printf("{\"space\": ");
    cli_json_string(stdout, sp->name);
    printf(", \"fitness\": ");
    cli_json_string(stdout, SEARCH_PROXY_FITNESS_NAME);
    printf(", \"calibrated\": %s, \"evaluated\": %zu, \"cycles\": %zu, "
           "\"front\": %zu, \"best\": ", o->calibrated ? "true" : "false", r->n,
           r->cycles, r->n_front);
    cli_json_string(stdout, best);
    printf(", \"best_latency_ms\": ");
    json_write_number(stdout, r->all[r->best].latency_ms, 6);
    printf(", \"best_fitness\": ");
    json_write_number(stdout, r->all[r->best].fitness, 6);
    printf(", \"pareto_json\": ");
    cli_json_string(stdout, o->path_json);
    printf(", \"pareto_svg\": ");
    cli_json_string(stdout, o->path_svg);
    printf("}\n");
}

static void print_text(const search_space *sp, const search_result *r,
                       const search_outputs *o)
{
    const search_constraints *k = &sp->cons;
    printf("space %s: %.0f shapes, %zu candidates evaluated in %zu cycles\n",
           sp->name, search_space_total(sp), r->n, r->cycles);
    printf("fitness: %s\n", SEARCH_PROXY_FITNESS_NAME);
    printf("latency: %s%s\n", o->lat_desc, o->calibrated ? "" :
           " -- run 'distilc latency-model --validate N' to fit the overhead");
    printf("constraints: latency <= %g ms, params <= %lld, size <= %g MB "
           "(0 = none)\n", k->latency_ms, (long long)k->max_params,
           k->max_size_mb);
    printf("Pareto front (%zu):\n", r->n_front);
    for (size_t i = 0; i < r->n_front; i++)
        print_cand(stdout, r->front[i] == r->best ? "*" : " ",
                   &r->all[r->front[i]]);
    printf("wrote %s and %s\n", o->path_json, o->path_svg);
}

/* Runs the evolution over sp with latencies from lm into *r (status). */
static ir_status evolve(const search_args *a, search_space *sp, lat_ctx *lc,
                        search_result *r, ir_diag *d)
{
    search_evo_opts eo;
    search_evo_opts_default(&eo);
    eo.population = (size_t)a->population.value;
    eo.generations = (size_t)a->generations.value;
    eo.seed = (uint64_t)a->seed.value;
    eo.fitness = search_proxy_fitness;
    eo.fitness_ctx = &sp->cons.seq;
    eo.latency = predict_cb;
    eo.latency_ctx = lc;
    progress p;
    progress_init(&p, stderr, "search", eo.population * eo.generations,
                  (progress_mode)a->so.out.progress.value);
    eo.progress = progress_callback;
    eo.progress_ctx = &p;
    ir_status s = search_evolve(sp, &eo, r, d);
    progress_finish(&p);
    return s;
}

/* Writes DIR/pareto.json and .svg, naming them and the latency setting in
 * *o (status). */
static ir_status write_front(const search_args *a, const search_space *sp,
                             lat_ctx *lc, const search_result *r,
                             search_outputs *o, ir_diag *d)
{
    /* is the model calibrated for this setting? (one cheap lookup) */
    const search_constraints *k = &sp->cons;
    ir_diag d2;
    ir_diag_init(&d2);
    search_latency_estimate est;
    o->calibrated = search_latency_predict(lc->lm, &r->all[r->best].cfg, &lc->q,
                                           &est, &d2) == IR_OK && est.calibrated;
    snprintf(o->lat_desc, sizeof o->lat_desc, "latency model%s, seq %lld, "
             "batch %lld, %lld threads, %s", o->calibrated ? "" : " (uncalibrated)",
             (long long)k->seq, (long long)k->batch, (long long)k->threads,
             ir_precision_name(k->precision));
    search_pareto_meta meta = {.space = sp->name,
                               .fitness = SEARCH_PROXY_FITNESS_NAME,
                               .latency = o->lat_desc, .cons = sp->cons};
    snprintf(o->path_json, sizeof o->path_json, "%s/pareto.json", a->out);
    snprintf(o->path_svg, sizeof o->path_svg, "%s/pareto.svg", a->out);
    ir_status s = search_pareto_write_json(o->path_json, r, &meta, d);
    if (s == IR_OK)
        s = search_pareto_write_svg(o->path_svg, r, &meta, d);
    return s;
}

int cmd_search(int argc, char **argv)
{
    search_args a;
    int rc = search_args_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    search_space sp;
    if ((rc = space_load("search", a.so.space, &sp)) != 0)
        return rc;
    if ((rc = apply_overrides(&a, &sp)) >= 0)
        return rc;
    search_constraints *k = &sp.cons;
    if (mkdir(a.out, 0755) != 0 && errno != EEXIST) {
        cli_error("search: output directory '%s': %s", a.out, strerror(errno));
        return 1;
    }
    search_latency_opts lo;
    if ((rc = search_opts_latency("search", &a.so, k->threads, &lo)) >= 0)
        return rc;
    lo.measure = !a.no_measure;
    ir_diag d;
    ir_diag_init(&d);
    search_latency *lm;
    if (search_latency_create(&lo, &lm, &d) != IR_OK)
        return cli_fail(&d);
    lat_ctx lc = {lm, {.batch = k->batch, .seq = k->seq, .threads = (int)k->threads,
                       .precision = k->precision}};
    search_result r;
    ir_status s = evolve(&a, &sp, &lc, &r, &d);
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
    search_outputs o;
    if (write_front(&a, &sp, &lc, &r, &o, &d) != IR_OK) {
        search_result_free(&r);
        search_latency_free(lm);
        return cli_fail(&d);
    }
    if (a.so.out.json)
        print_json(&sp, &r, &o);
    else
        print_text(&sp, &r, &o);
    search_result_free(&r);
    search_latency_free(lm);
    return 0;
}

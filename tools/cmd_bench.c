/* cmd_bench.c — `distilc bench MODEL.onnx --seq S --batch B`: compiles a
 * BERT-style classifier with the oneDNN runtime (backend/rt_encoder.h),
 * runs it on random valid inputs after a warm-up, and reports latency
 * (median, p10, p90 over the runs), GFLOP/s, the time to load and compile,
 * peak resident memory and, for bf16/int8, the largest logit difference to
 * fp32 on the same inputs, and which kernel each linear layer got
 * (backend/rt_linear.c's rule for this CPU, or --kernel's). --json prints
 * one JSON object (the keys
 * bench/bench_runtime.py reads); progress goes to stderr.
 *
 * FLOPs come from the lifted config (one multiply-add = 2, the rule of
 * ir/flops.h): per layer 2·T·H·(3H + H + 2F) for the linears plus
 * 4·B·S²·H for the two attention matmuls, the E->H projection when
 * factorized, pooler and head (T = B·S tokens). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "backend/dnnl_engine.h"
#include "backend/rt_encoder.h"
#include "ir/clock.h"
#include "ir/cpu.h"
#include "frontend/json.h"
#include "tools/cli.h"
#include "tools/cli_groups.h"
#include "tools/cmds.h"
#include "tools/model_open.h"
#include "tools/progress.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc bench MODEL.onnx --seq S --batch B [--threads T]\n"
            "                     [--precision fp32|bf16|int8] [--warmup N]\n"
            "                     [--runs N] [--kernel K] [--json]\n"
            "\n"
            "Compiles a BERT-style classifier (inputs input_ids,\n"
            "attention_mask[, token_type_ids], output logits) with the oneDNN\n"
            "runtime and times it on random inputs of one shape.\n"
            "\n"
            "  --seq S           tokens per row (required)\n"
            "  --batch B         rows (required)\n"
            "  --threads T       threads (default: all cores)\n"
            "  --precision P     fp32 (default), bf16 or int8; not fp32 also\n"
            "                    reports the max |logit - fp32 logit|\n"
            "  --warmup N        untimed runs first (default 3)\n"
            "  --runs N          timed runs (default 20)\n"
            "  --kernel K        fp32 linears on one kernel: auto (default: by\n"
            "                    CPU and shape: oneDNN packed with AVX-512;\n"
            "                    below, OpenBLAS for BERT-base-sized layers),\n"
            "                    onednn_packed, onednn_plain, openblas\n"
            "  --json            one JSON object on stdout: median_ms, p10_ms,\n"
            "                    p90_ms, gflops, load_ms, peak_rss_mb,\n"
            "                    precision, threads, seq, batch,\n"
            "                    max_abs_err_vs_fp32 (null for fp32), kernels\n"
            "                    (what the linears ran on, with counts), isa\n"
            "  --help            this text\n"
            "\n"
            "The runtime runs on OpenMP threads: on a machine busy with other\n"
            "work, OMP_WAIT_POLICY=passive keeps idle threads from spinning\n"
            "(much steadier timings there, slightly slower on a quiet one).\n"
            "\n"
            "Exit status: 0 ok, 1 failure, 2 bad model, input or usage.\n");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[n] by linear interpolation (numpy's default). */
static double quantile(const double *v, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)pos;
    if (i >= n - 1)
        return v[n - 1];
    return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

/* The FLOPs the runtime does: its last layer runs the QKV projection for
 * every token and the rest for the [CLS] rows only (backend/rt.c). */
static double config_flops(const ir_encoder_config *c, int64_t B, int64_t S)
{
    double T = (double)(B * S), H = (double)c->hidden, F = (double)c->ffn;
    double per_layer = 2 * T * H * (4 * H + 2 * F) + 4.0 * B * S * S * H;
    double last = 2 * T * H * 3 * H + 4.0 * B * S * H + 2.0 * B * H * (H + 2 * F);
    double f = per_layer * (double)(c->layers - 1) + last;
    if (c->embed > 0)
        f += 2 * T * (double)c->embed * H;
    f += 2.0 * B * H * H + 2.0 * B * H * (double)c->labels;
    return f;
}

/* This process's own high-water mark (VmHWM). getrusage's ru_maxrss is
 * not used: Linux carries the parent's peak across fork and exec, so a
 * benchmark started from a large process would report the parent's. */
static double peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double mb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            mb = strtod(line + 6, NULL) / 1024.0; /* kB */
    if (f)
        fclose(f);
    if (mb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        mb = ru.ru_maxrss / 1024.0;
    }
    return mb;
}

/* The command line, parsed and checked. */
typedef struct bench_args {
    const char *model;
    int64_t S, B, warmup, runs;
    bool json;
    rt_options ro;
} bench_args;

/* Exit status, or MODEL_ARGS_GO with *a filled. */
static int bench_args_parse(int argc, char **argv, bench_args *a)
{
    /* --kernel takes every kernel but the int8 one (which --precision int8
     * chooses). */
    cli_name kernels[RT_KERNEL_COUNT + 1];
    int nk = 0;
    for (int k = 0; k < RT_KERNEL_COUNT; k++)
        if (k != RT_KERNEL_ONEDNN_INT8)
            kernels[nk++] = (cli_name){rt_kernel_name((rt_kernel)k), k};
    kernels[nk] = (cli_name){NULL, 0};
    cli_enum kernel = {RT_KERNEL_AUTO, kernels,
                       "option --kernel: unknown kernel '%s' (auto, "
                       "onednn_packed, onednn_plain or openblas)"};
    cli_int warmup = {3, 0, 0, "option --warmup expects a count >= 0, got '%s'"};
    cli_int runs = {20, 1, 0, NULL};
    cli_runtime rt;
    cli_runtime_init(&rt, CLI_RT_SEQ | CLI_RT_BATCH | CLI_RT_THREADS |
                              CLI_RT_PRECISION, CLI_PRECISION_UNKNOWN);
    cli_output out;
    cli_output_init(&out, CLI_OUT_JSON, NULL);
    cli_option opts[] = {
        {"runtime group", 0, CLI_GROUP, rt.options},
        {"warmup", 0, CLI_INT, &warmup},
        {"runs", 0, CLI_INT, &runs},
        {"kernel", 0, CLI_ENUM, &kernel},
        {"output group", 0, CLI_GROUP, out.options},
        {0},
    };
    int rc = model_args_parse("bench", argc, argv, opts, usage, &a->model);
    if (rc != MODEL_ARGS_GO)
        return rc;
    if (!rt.seq.value || !rt.batch.value) {
        cli_error("bench: options --seq and --batch are required, see "
                  "'distilc bench --help'");
        return 2;
    }
    a->warmup = warmup.value;
    a->runs = runs.value;
    if (a->runs > 100000 || a->warmup > 100000 || rt.threads.value > 4096) {
        cli_error("bench: --runs/--warmup at most 100000, --threads at most 4096");
        return 2;
    }
    a->S = rt.seq.value;
    a->B = rt.batch.value;
    a->json = out.json;
    rt_options_default(&a->ro);
    a->ro.threads = (int)rt.threads.value;
    if (rt.precision.value >= 0)
        a->ro.precision = (ir_precision)rt.precision.value;
    a->ro.kernel = (rt_kernel)kernel.value;
    if (!cli_check_input_file("bench", "model", a->model))
        return 2;
    return MODEL_ARGS_GO;
}

/* Random ids (a fixed LCG, so runs are comparable), a first and second
 * segment, no padding: what a full batch of real text looks like. */
static void random_inputs(const ir_encoder_config *c, int64_t B, int64_t S,
                          int64_t *ids, int64_t *types, int64_t *mask)
{
    uint64_t r = 0x9e3779b97f4a7c15u;
    for (int64_t i = 0; i < B * S; i++) {
        r = r * 6364136223846793005u + 1442695040888963407u;
        ids[i] = (int64_t)((r >> 33) % (uint64_t)c->vocab);
        types[i] = c->type_vocab > 1 && (i % S) >= S / 2;
        mask[i] = 1;
    }
}

/* The buffers one timing needs. */
typedef struct bench_buffers {
    int64_t *ids, *types, *mask;
    float *logits, *ref;
    double *ms; /* [runs] */
} bench_buffers;

static bool buffers_alloc(bench_buffers *b, int64_t B, int64_t S,
                          int64_t labels, int64_t runs)
{
    b->ids = malloc((size_t)(B * S) * sizeof *b->ids);
    b->types = malloc((size_t)(B * S) * sizeof *b->types);
    b->mask = malloc((size_t)(B * S) * sizeof *b->mask);
    b->logits = malloc((size_t)(B * labels) * sizeof *b->logits);
    b->ref = malloc((size_t)(B * labels) * sizeof *b->ref);
    b->ms = malloc((size_t)runs * sizeof *b->ms);
    return b->ids && b->types && b->mask && b->logits && b->ref && b->ms;
}

static void buffers_free(bench_buffers *b)
{
    free(b->ids);
    free(b->types);
    free(b->mask);
    free(b->logits);
    free(b->ref);
    free(b->ms);
}

/* Warm-up and timed runs of m, milliseconds into b->ms. */
static ir_status time_runs(rt_model *m, const bench_args *a, bench_buffers *b,
                           ir_diag *d)
{
    progress p;
    progress_init(&p, stderr, "bench", (size_t)(a->warmup + a->runs),
                  PROGRESS_AUTO);
    ir_status s = IR_OK;
    for (int64_t i = 0; i < a->warmup + a->runs && s == IR_OK; i++) {
        double t0 = (1e3 * ir_clock_wall_s());
        s = rt_model_run(m, a->B, a->S, b->ids, b->types, b->mask, b->logits,
                         NULL, d);
        if (s == IR_OK && i >= a->warmup)
            b->ms[i - a->warmup] = (1e3 * ir_clock_wall_s()) - t0;
        if (s == IR_OK)
            progress_update(&p, (size_t)(i + 1));
    }
    progress_finish(&p);
    return s;
}

/* The largest |logit - fp32 logit| on the same inputs (NaN for fp32). */
static ir_status error_vs_fp32(const ir_encoder *e, const bench_args *a,
                               bench_buffers *b, double *err, ir_diag *d)
{
    *err = NAN;
    if (a->ro.precision == IR_PRECISION_FP32)
        return IR_OK;
    rt_options o32 = a->ro;
    o32.precision = IR_PRECISION_FP32;
    rt_model *m32 = NULL;
    ir_status s = rt_model_from_encoder(e, &o32, &m32, d);
    if (s == IR_OK)
        s = rt_model_run(m32, a->B, a->S, b->ids, b->types, b->mask, b->ref,
                         NULL, d);
    rt_model_free(m32);
    if (s != IR_OK)
        return s;
    *err = 0;
    for (int64_t i = 0; i < a->B * e->cfg.labels; i++) {
        double v = fabs((double)b->logits[i] - b->ref[i]);
        if (!(v <= *err))
            *err = v;
    }
    return IR_OK;
}

/* What was measured. */
typedef struct bench_result {
    double med, p10, p90, gflops, load_ms, rss, err;
    int nthreads;
    char kernels[512];
    cpu_info ci;
} bench_result;

static void print_json(const bench_args *a, const bench_result *r)
{
    printf("{\"median_ms\":%.4f,\"p10_ms\":%.4f,\"p90_ms\":%.4f,"
           "\"gflops\":%.2f,\"load_ms\":%.2f,\"peak_rss_mb\":%.1f,"
           "\"precision\":\"%s\",\"threads\":%d,\"seq\":%lld,\"batch\":%lld,"
           "\"kernels\":\"%s\",\"isa\":\"%s\",\"onednn_isa\":\"%s\","
           "\"max_abs_err_vs_fp32\":",
           r->med, r->p10, r->p90, r->gflops, r->load_ms, r->rss,
           ir_precision_name(a->ro.precision), r->nthreads, (long long)a->S,
           (long long)a->B, r->kernels, cpu_level_name(r->ci.level),
           onednn_isa_name());
    json_write_number(stdout, r->err, 6);
    printf("}\n");
}

static void print_text(const bench_args *a, const ir_encoder_config *c,
                       const rt_model *m, const bench_result *r)
{
    printf("model      %s (%lld layers, hidden %lld, heads %lld, ffn %lld)\n",
           a->model, (long long)c->layers, (long long)c->hidden,
           (long long)c->heads, (long long)c->ffn);
    printf("shape      batch %lld x seq %lld, %s, %d threads\n", (long long)a->B,
           (long long)a->S, ir_precision_name(a->ro.precision), r->nthreads);
    printf("latency    median %.3f ms  (p10 %.3f, p90 %.3f; %lld runs after "
           "%lld warm-up)\n", r->med, r->p10, r->p90, (long long)a->runs,
           (long long)a->warmup);
    printf("throughput %.1f GFLOP/s (%.2f GFLOP per run)\n", r->gflops,
           config_flops(c, a->B, a->S) / 1e9);
    printf("kernels    %s (CPU level %s%s, oneDNN %s)\n", r->kernels,
           cpu_level_name(r->ci.level), r->ci.capped ? ", capped" : "",
           onednn_isa_name());
    printf("load       %.1f ms (ONNX load, passes, lift, weight packing)\n",
           r->load_ms);
    printf("memory     peak RSS %.1f MB, model %.1f MB\n", r->rss,
           rt_model_bytes(m) / 1048576.0);
    if (!isnan(r->err))
        printf("accuracy   max |logit - fp32| = %.3g\n", r->err);
}

/* The statistics of the timed runs, and what the runs ran on. */
static void summarize(const bench_args *a, const ir_encoder_config *c,
                      const rt_model *m, bench_buffers *b, bench_result *r)
{
    int runs = (int)a->runs;
    qsort(b->ms, (size_t)runs, sizeof *b->ms, cmp_double);
    r->med = quantile(b->ms, runs, 0.5);
    r->p10 = quantile(b->ms, runs, 0.1);
    r->p90 = quantile(b->ms, runs, 0.9);
    r->gflops = config_flops(c, a->B, a->S) / (r->med * 1e6);
    r->nthreads = a->ro.threads ? a->ro.threads
                                : (int)sysconf(_SC_NPROCESSORS_ONLN);
    rt_model_kernels(m, r->kernels, sizeof r->kernels);
    ir_diag cd;
    ir_diag_init(&cd);
    cpu_info_probe(&r->ci, &cd); /* a bad DISTILC_MAX_ISA failed the load already */
}

int cmd_bench(int argc, char **argv)
{
    bench_args a;
    int rc = bench_args_parse(argc, argv, &a);
    if (rc != MODEL_ARGS_GO)
        return rc;
    ir_diag d;
    ir_diag_init(&d);
    double t0 = (1e3 * ir_clock_wall_s());
    rt_model *m = NULL;
    ir_encoder *e = NULL;
    bench_buffers b = {0};
    bench_result r = {0};
    int status = 0;
    /* The graph goes as soon as the encoder is lifted (a copy), so at most
     * two copies of the weights are alive at once. */
    encoder_open_options mo = {
        .prepare = "onednn backend: preparing the graph",
        .lift = "onednn backend: cannot lower this graph (it handles "
                "BERT-style encoders; use --backend ref)",
    };
    ir_status st = encoder_from_onnx(a.model, &mo, &e, &d);
    if (st == IR_OK)
        st = rt_model_from_encoder(e, &a.ro, &m, &d);
    if (st != IR_OK) {
        status = cli_fail(&d);
        goto done;
    }
    r.load_ms = (1e3 * ir_clock_wall_s()) - t0;
    const ir_encoder_config *c = &e->cfg;
    if (a.S > c->max_positions) {
        cli_error("bench: option --seq %lld exceeds the model's %lld positions",
                  (long long)a.S, (long long)c->max_positions);
        status = 2;
        goto done;
    }
    if (!buffers_alloc(&b, a.B, a.S, c->labels, a.runs)) {
        cli_error("bench: out of memory");
        status = 1;
        goto done;
    }
    random_inputs(c, a.B, a.S, b.ids, b.types, b.mask);
    if (time_runs(m, &a, &b, &d) != IR_OK) {
        status = cli_fail(&d);
        goto done;
    }
    r.rss = peak_rss_mb();
    if (error_vs_fp32(e, &a, &b, &r.err, &d) != IR_OK) {
        status = cli_fail(&d);
        goto done;
    }
    summarize(&a, c, m, &b, &r);
    if (a.json)
        print_json(&a, &r);
    else
        print_text(&a, c, m, &r);
done:
    rt_model_free(m);
    ir_encoder_free(e);
    buffers_free(&b);
    return status;
}

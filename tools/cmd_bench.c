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
#include "tools/cli.h"
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

int cmd_bench(int argc, char **argv)
{
    const char *seq_s = NULL, *batch_s = NULL, *threads_s = NULL,
               *precision_s = NULL, *warmup_s = NULL, *runs_s = NULL,
               *kernel_s = NULL;
    bool json = false;
    cli_option opts[] = {
        {"seq", 0, CLI_VALUE, &seq_s},
        {"batch", 0, CLI_VALUE, &batch_s},
        {"threads", 0, CLI_VALUE, &threads_s},
        {"precision", 0, CLI_VALUE, &precision_s},
        {"warmup", 0, CLI_VALUE, &warmup_s},
        {"runs", 0, CLI_VALUE, &runs_s},
        {"kernel", 0, CLI_VALUE, &kernel_s},
        {"json", 0, CLI_FLAG, &json},
        {NULL, 0, CLI_FLAG, NULL},
    };
    const char *model;
    int rc = model_args_parse("bench", argc, argv, opts, usage, &model);
    if (rc != MODEL_ARGS_GO)
        return rc;
    if (!seq_s || !batch_s) {
        cli_error("bench: options --seq and --batch are required, see "
                  "'distilc bench --help'");
        return 2;
    }
    int64_t S, B, warmup = 3, runs = 20, threads = 0;
    if (!cli_parse_positive("bench", "seq", seq_s, &S) ||
        !cli_parse_positive("bench", "batch", batch_s, &B) ||
        (threads_s && !cli_parse_positive("bench", "threads", threads_s, &threads)) ||
        (runs_s && !cli_parse_positive("bench", "runs", runs_s, &runs)))
        return 2;
    if (warmup_s) {
        char *end;
        long long w = strtoll(warmup_s, &end, 10);
        if (*end || w < 0 || end == warmup_s) {
            cli_error("bench: option --warmup expects a count >= 0, got '%s'",
                      warmup_s);
            return 2;
        }
        warmup = w;
    }
    if (runs > 100000 || warmup > 100000 || threads > 4096) {
        cli_error("bench: --runs/--warmup at most 100000, --threads at most 4096");
        return 2;
    }
    rt_options ro;
    rt_options_default(&ro);
    ro.threads = (int)threads;
    if (precision_s && !rt_precision_parse(precision_s, &ro.precision)) {
        cli_error("bench: option --precision: unknown precision '%s' (fp32, "
                  "bf16 or int8)", precision_s);
        return 2;
    }
    if (kernel_s && (!rt_kernel_parse(kernel_s, &ro.kernel) ||
                     ro.kernel == RT_KERNEL_ONEDNN_INT8)) {
        cli_error("bench: option --kernel: unknown kernel '%s' (auto, "
                  "onednn_packed, onednn_plain or openblas)", kernel_s);
        return 2;
    }
    if (!cli_check_input_file("bench", "model", model))
        return 2;

    ir_diag d;
    ir_diag_init(&d);
    double t0 = (1e3 * ir_clock_wall_s());
    rt_model *m = NULL, *m32 = NULL;
    ir_encoder *e = NULL;
    int64_t *ids = NULL, *types = NULL, *mask = NULL;
    float *logits = NULL, *ref = NULL;
    double *ms = NULL;
    int status = 0;
    /* The graph goes as soon as the encoder is lifted (a copy), so at most
     * two copies of the weights are alive at once. */
    encoder_open_options mo = {
        .prepare = "onednn backend: preparing the graph",
        .lift = "onednn backend: cannot lower this graph (it handles "
                "BERT-style encoders; use --backend ref)",
    };
    ir_status st = encoder_from_onnx(model, &mo, &e, &d);
    if (st == IR_OK)
        st = rt_model_from_encoder(e, &ro, &m, &d);
    if (st != IR_OK) {
        status = cli_fail(&d);
        goto done;
    }
    double load_ms = (1e3 * ir_clock_wall_s()) - t0;
    const ir_encoder_config *c = &e->cfg;
    if (S > c->max_positions) {
        cli_error("bench: option --seq %lld exceeds the model's %lld positions",
                  (long long)S, (long long)c->max_positions);
        status = 2;
        goto done;
    }
    ids = malloc((size_t)(B * S) * sizeof *ids);
    types = malloc((size_t)(B * S) * sizeof *types);
    mask = malloc((size_t)(B * S) * sizeof *mask);
    logits = malloc((size_t)(B * c->labels) * sizeof *logits);
    ref = malloc((size_t)(B * c->labels) * sizeof *ref);
    ms = malloc((size_t)runs * sizeof *ms);
    if (!ids || !types || !mask || !logits || !ref || !ms) {
        cli_error("bench: out of memory");
        status = 1;
        goto done;
    }
    /* Random ids (a fixed LCG, so runs are comparable), a first and second
     * segment, no padding: what a full batch of real text looks like. */
    uint64_t r = 0x9e3779b97f4a7c15u;
    for (int64_t i = 0; i < B * S; i++) {
        r = r * 6364136223846793005u + 1442695040888963407u;
        ids[i] = (int64_t)((r >> 33) % (uint64_t)c->vocab);
        types[i] = c->type_vocab > 1 && (i % S) >= S / 2;
        mask[i] = 1;
    }
    progress p;
    progress_init(&p, stderr, "bench", (size_t)(warmup + runs), PROGRESS_AUTO);
    for (int64_t i = 0; i < warmup + runs; i++) {
        double a = (1e3 * ir_clock_wall_s());
        if (rt_model_run(m, B, S, ids, types, mask, logits, NULL, &d) != IR_OK) {
            progress_finish(&p);
            status = cli_fail(&d);
            goto done;
        }
        if (i >= warmup)
            ms[i - warmup] = (1e3 * ir_clock_wall_s()) - a;
        progress_update(&p, (size_t)(i + 1));
    }
    progress_finish(&p);
    double rss = peak_rss_mb();
    double err = NAN;
    if (ro.precision != RT_FP32) {
        rt_options o32 = ro;
        o32.precision = RT_FP32;
        if (rt_model_from_encoder(e, &o32, &m32, &d) != IR_OK ||
            rt_model_run(m32, B, S, ids, types, mask, ref, NULL, &d) != IR_OK) {
            status = cli_fail(&d);
            goto done;
        }
        err = 0;
        for (int64_t i = 0; i < B * c->labels; i++) {
            double v = fabs((double)logits[i] - ref[i]);
            if (!(v <= err))
                err = v;
        }
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    double med = quantile(ms, (int)runs, 0.5), p10 = quantile(ms, (int)runs, 0.1),
           p90 = quantile(ms, (int)runs, 0.9);
    double gflops = config_flops(c, B, S) / (med * 1e6);
    int nthreads = ro.threads ? ro.threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    char kernels[512];
    rt_model_kernels(m, kernels, sizeof kernels);
    cpu_info ci;
    ir_diag cd;
    ir_diag_init(&cd);
    cpu_info_probe(&ci, &cd); /* a bad DISTILC_MAX_ISA failed the load already */
    if (json) {
        printf("{\"median_ms\":%.4f,\"p10_ms\":%.4f,\"p90_ms\":%.4f,"
               "\"gflops\":%.2f,\"load_ms\":%.2f,\"peak_rss_mb\":%.1f,"
               "\"precision\":\"%s\",\"threads\":%d,\"seq\":%lld,\"batch\":%lld,"
               "\"kernels\":\"%s\",\"isa\":\"%s\",\"onednn_isa\":\"%s\","
               "\"max_abs_err_vs_fp32\":",
               med, p10, p90, gflops, load_ms, rss, rt_precision_name(ro.precision),
               nthreads, (long long)S, (long long)B, kernels,
               cpu_level_name(ci.level), onednn_isa_name());
        if (isnan(err))
            printf("null}\n");
        else
            printf("%.6g}\n", err);
    } else {
        printf("model      %s (%lld layers, hidden %lld, heads %lld, ffn %lld)\n",
               model, (long long)c->layers, (long long)c->hidden,
               (long long)c->heads, (long long)c->ffn);
        printf("shape      batch %lld x seq %lld, %s, %d threads\n", (long long)B,
               (long long)S, rt_precision_name(ro.precision), nthreads);
        printf("latency    median %.3f ms  (p10 %.3f, p90 %.3f; %lld runs after "
               "%lld warm-up)\n", med, p10, p90, (long long)runs, (long long)warmup);
        printf("throughput %.1f GFLOP/s (%.2f GFLOP per run)\n", gflops,
               config_flops(c, B, S) / 1e9);
        printf("kernels    %s (CPU level %s%s, oneDNN %s)\n", kernels,
               cpu_level_name(ci.level), ci.capped ? ", capped" : "",
               onednn_isa_name());
        printf("load       %.1f ms (ONNX load, passes, lift, weight packing)\n", load_ms);
        printf("memory     peak RSS %.1f MB, model %.1f MB\n", rss,
               rt_model_bytes(m) / 1048576.0);
        if (!isnan(err))
            printf("accuracy   max |logit - fp32| = %.3g\n", err);
    }
done:
    rt_model_free(m);
    rt_model_free(m32);
    ir_encoder_free(e);
    free(ids);
    free(types);
    free(mask);
    free(logits);
    free(ref);
    free(ms);
    return status;
}

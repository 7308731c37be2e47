/* cmd_system.c — `distilc system`: what this machine gives distilc's fast
 * paths (backend/machine.h): the CPU and its instruction sets, the level
 * distilc dispatches on after DISTILC_MAX_ISA, oneDNN's ISA, whether bf16
 * and int8 run natively, the BLAS kernel, CPUs, caches and OpenMP settings.
 * Benchmarks and bug reports quote it; tests ask it (--json) what to
 * expect of the CPU they run on. */
#include <stdio.h>
#include <string.h>

#include "backend/machine.h"
#include "tools/cli.h"
#include "tools/cmds.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc system [--json]\n"
            "\n"
            "Prints what distilc finds on this machine: the CPU, its instruction\n"
            "sets, the level distilc's kernels dispatch on, oneDNN's instruction\n"
            "set, whether bf16 and int8 run natively, the BLAS kernel, CPUs,\n"
            "caches and the OpenMP settings.\n"
            "\n"
            "  --json      one JSON object instead of the text\n"
            "  --help      this text\n"
            "\n"
            "Environment: DISTILC_MAX_ISA=%s caps the\n"
            "instruction sets distilc and oneDNN use (to run the lower paths on\n"
            "any machine). Unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set,\n"
            "distilc sets GOMP_SPINCOUNT=1000: idle threads spin briefly, then\n"
            "sleep, so that another busy process does not stall them.\n"
            "\n"
            "Exit status: 0 ok, 2 an unknown DISTILC_MAX_ISA or bad usage.\n",
            cpu_level_names());
}

/* The instruction sets as a space-separated list. */
static void features(const cpu_info *c, char *buf, size_t n)
{
    const struct { unsigned on; const char *name; } f[] = {
        {c->avx2, "avx2"}, {c->fma, "fma"}, {c->f16c, "f16c"},
        {c->avx512f, "avx512f"}, {c->avx512bw, "avx512bw"},
        {c->avx512dq, "avx512dq"}, {c->avx512vl, "avx512vl"},
        {c->avx512_vnni, "avx512_vnni"}, {c->avx512_bf16, "avx512_bf16"},
        {c->avx512_fp16, "avx512_fp16"}, {c->avx_vnni, "avx_vnni"},
        {c->amx_tile, "amx_tile"}, {c->amx_bf16, "amx_bf16"},
        {c->amx_int8, "amx_int8"}};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].on && used < n)
            used += (size_t)snprintf(buf + used, n - used, "%s%s",
                                     used ? " " : "", f[i].name);
    if (!buf[0])
        snprintf(buf, n, "sse2 (baseline)");
}

static void print_json(const backend_machine *m, const char *feat)
{
    const cpu_info *c = &m->cpu;
    printf("{\"cpu\":");
    cli_json_string(stdout, c->brand);
    printf(",\"vendor\":");
    cli_json_string(stdout, c->vendor);
    printf(",\"features\":");
    cli_json_string(stdout, feat);
    printf(",\"native_level\":\"%s\",\"level\":\"%s\",\"capped\":%s",
           cpu_level_name(c->native), cpu_level_name(c->level),
           c->capped ? "true" : "false");
    printf(",\"onednn_version\":\"%s\",\"onednn_isa\":\"%s\"", m->onednn_version,
           m->onednn_isa);
    printf(",\"bf16\":%s,\"int8_vnni\":%s,\"int8_weight_bits\":%d",
           m->bf16_native ? "true" : "false", m->int8_vnni ? "true" : "false",
           m->int8_vnni ? 8 : 7);
    printf(",\"blas_core\":");
    cli_json_string(stdout, m->blas_core);
    printf(",\"cpus_online\":%d,\"cpus_usable\":%d", c->cpus_online,
           c->cpus_usable);
    printf(",\"l1d_bytes\":%lld,\"l2_bytes\":%lld,\"l3_bytes\":%lld",
           (long long)c->l1d_bytes, (long long)c->l2_bytes,
           (long long)c->l3_bytes);
    printf(",\"omp_max_threads\":%d,\"omp_wait_policy\":", m->omp_max_threads);
    cli_json_string(stdout, m->omp_wait_policy);
    printf(",\"gomp_spincount\":");
    cli_json_string(stdout, m->omp_spincount);
    printf(",\"mpi\":%s", ir_dist_built_with_mpi() ? "true" : "false");
    printf("}\n");
}

static void kib(char *buf, size_t n, int64_t bytes)
{
    if (bytes <= 0)
        snprintf(buf, n, "?");
    else if (bytes >= (int64_t)1 << 20)
        snprintf(buf, n, "%lld MiB", (long long)(bytes >> 20));
    else
        snprintf(buf, n, "%lld KiB", (long long)(bytes >> 10));
}

int cmd_system(int argc, char **argv)
{
    bool json = false;
    cli_option opts[] = {
        {.name = "json", .kind = CLI_FLAG, .dest = &json},
        {0},
    };
    int npos = 0;
    int rc = cli_parse("system", argc, argv, opts, NULL, 0, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    backend_machine m;
    ir_diag d;
    ir_diag_init(&d);
    if (backend_machine_probe(&m, &d) != IR_OK)
        return cli_fail(&d);
    char feat[512];
    features(&m.cpu, feat, sizeof feat);
    if (json) {
        print_json(&m, feat);
        return 0;
    }
    const cpu_info *c = &m.cpu;
    char l1[32], l2[32], l3[32];
    kib(l1, sizeof l1, c->l1d_bytes);
    kib(l2, sizeof l2, c->l2_bytes);
    kib(l3, sizeof l3, c->l3_bytes);
    printf("cpu:          %s (%s)\n", c->brand[0] ? c->brand : "?", c->vendor);
    printf("features:     %s\n", feat);
    printf("level:        %s%s%s\n", cpu_level_name(c->level),
           c->capped ? ", capped by " CPU_MAX_ISA_ENV " from " : " (native)",
           c->capped ? cpu_level_name(c->native) : "");
    printf("oneDNN:       %s, isa %s\n", m.onednn_version, m.onednn_isa);
    printf("bf16:         %s\n", m.bf16_native ? "native"
                                               : "not available (refused)");
    printf("int8:         %s\n",
           m.int8_vnni ? "VNNI (s32 sums), 8-bit weights"
                       : "no VNNI: 7-bit weights (16-bit pair sums cannot "
                         "saturate)");
    printf("OpenBLAS:     %s kernels\n", m.blas_core);
    printf("cpus:         %d online, %d usable by this process\n",
           c->cpus_online, c->cpus_usable);
    printf("caches:       L1d %s, L2 %s, L3 %s\n", l1, l2, l3);
    printf("OpenMP:       %d threads, OMP_WAIT_POLICY %s, GOMP_SPINCOUNT %s\n",
           m.omp_max_threads, m.omp_wait_policy, m.omp_spincount);
    printf("MPI:          %s\n", ir_dist_built_with_mpi()
                                      ? "built with it: finetune, distill, "
                                        "compress, eval and regress run data "
                                        "parallel under mpirun"
                                      : "not built (one process)");
    return 0;
}

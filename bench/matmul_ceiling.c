/* matmul_ceiling.c — measures this machine's matmul ceiling, the figure the
 * backend's GFLOP/s are judged against (issue 3), and shows which library
 * the trainer's GEMM helper picks for the shapes a TinyBERT-4 step runs.
 *
 *     build/matmul_ceiling            # OMP_NUM_THREADS / OPENBLAS_NUM_THREADS
 *                                     # set the thread count (default: all)
 *
 * Part 1: 128×768 · 768×3072 (BERT-base FFN at seq 128), median of timed
 * runs after warm-up: oneDNN f32 and bf16 linear (weights packed once, as
 * the runtime does), oneDNN f32 on plain strided operands, OpenBLAS sgemm.
 * Part 0: the cores' own f32 (and int8 VNNI) peak, from loops of
 * independent AVX-512 FMAs (VPDPBUSDs) on every thread: what no matmul can beat, so a target that needs more
 * than it is out of reach of any library.
 * Part 2: gemm_f32 in automatic mode on forward (NN) and backward (NT for
 * dX = dY·Wᵀ, TN for dW = Xᵀ·dY) shapes, with both timings.
 * Part 3: the distillation step's forward shapes (TinyBERT-4 student,
 * MiniLM-L6 teacher, 2048 tokens) with hot caches, plain against packed.
 * Part 4 (alone with --linear): the runtime's linear layer (rt_linear.h)
 * with each fp32 kernel it can pick, on the BERT-base and TinyBERT-4
 * inference shapes (M = 128 tokens, 256 = seq 32 x batch 8, 8 = the
 * [CLS]-only last layer at batch 8) with their fused epilogues; kernels
 * interleaved round by round, the median of 5 rounds of medians, and the
 * kernel rt_kernel_rule picks at this CPU level (DISTILC_MAX_ISA caps it).
 *     DISTILC_MAX_ISA=avx2 OPENBLAS_CORETYPE=Haswell OMP_NUM_THREADS=1 \
 *         build/matmul_ceiling --linear
 * It uses only the library's interfaces (no oneDNN or BLAS header here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "ir/cpu.h"
#include "backend/dnnl_matmul.h"
#include "backend/gemm.h"
#include "backend/rt_linear.h"
#include "bench/bench_clock.h"

static float *rand_buf(size_t n)
{
    float *p = malloc(n * sizeof *p);
    unsigned s = 12345;
    for (size_t i = 0; p && i < n; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = (float)((s >> 9) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

enum { REPS = 30 };

/* Which benchmark to run in time_one. */
typedef enum { B_LINEAR, B_GEMM } bench_kind;

typedef struct bench_case {
    bench_kind kind;
    onednn_linear *lin;
    gemm_ctx *g;
    int ta, tb;
    int64_t m, n, k;
    const float *a, *b;
    float *c;
} bench_case;

static int run_once(bench_case *bc, ir_diag *d)
{
    if (bc->kind == B_LINEAR)
        return onednn_linear_run(bc->lin, bc->m, bc->a, bc->c, NULL, d) == IR_OK;
    return gemm_f32(bc->g, bc->ta, bc->tb, bc->m, bc->n, bc->k, 1.0f, bc->a,
                    bc->ta ? bc->m : bc->k, bc->b, bc->tb ? bc->k : bc->n, 0.0f,
                    bc->c, bc->n, d) == IR_OK;
}

/* Median GFLOP/s over REPS runs after 3 warm-ups; < 0 on error. */
static double time_one(bench_case *bc, ir_diag *d)
{
    double t[REPS];
    for (int i = 0; i < 3; i++)
        if (!run_once(bc, d))
            return -1;
    for (int i = 0; i < REPS; i++) {
        double t0 = bench_now_s();
        if (!run_once(bc, d))
            return -1;
        t[i] = bench_now_s() - t0;
    }
    qsort(t, REPS, sizeof *t, bench_cmp_double);
    return 2.0 * (double)bc->m * (double)bc->n * (double)bc->k / t[REPS / 2] * 1e-9;
}


/* Part 0: FMA peak. 16 independent accumulators per thread cover the FMA
 * latency on both pipes; each iteration is 16 FMAs of 16 lanes (512 FLOP).
 * Built for AVX-512 only where the compiler can target it; the caller
 * checks the CPU first. */
#if defined(__GNUC__) && defined(__x86_64__)
#define FMA_PEAK 1
#include <immintrin.h>

/* -std=c17 turns off FMA contraction, so the FMAs are spelled out */
__attribute__((target("avx512f"), noinline))
static float fma_loop(long iters, float seed)
{
    __m512 acc[16];
    __m512 x = _mm512_set1_ps(1.0f + 1e-7f), y = _mm512_set1_ps(seed * 1e-8f);
    for (int i = 0; i < 16; i++)
        acc[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 16; i++)
            acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    float s = 0;
    for (int i = 0; i < 16; i++)
        s += _mm512_reduce_add_ps(acc[i]);
    return s;
}

/* The AVX2 twin: 16 ymm accumulators of 8 lanes (256 FLOP an iteration),
 * the peak of an AVX2 + FMA machine (or of this one capped at AVX2). */
__attribute__((target("avx2,fma"), noinline))
static float fma_loop_avx2(long iters, float seed)
{
    __m256 acc[16];
    __m256 x = _mm256_set1_ps(1.0f + 1e-7f), y = _mm256_set1_ps(seed * 1e-8f);
    for (int i = 0; i < 16; i++)
        acc[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 16; i++)
            acc[i] = _mm256_fmadd_ps(acc[i], x, y);
    float s = 0, lanes[8];
    for (int i = 0; i < 16; i++) {
        _mm256_storeu_ps(lanes, acc[i]);
        for (int j = 0; j < 8; j++)
            s += lanes[j];
    }
    return s;
}

/* The int8 twin: u8 x s8 dot products of 4 into s32 lanes (VNNI), 16
 * independent accumulators; 2 x 64 ops per instruction (multiply, add). */
__attribute__((target("avx512f,avx512vnni"), noinline))
static int vnni_loop(long iters, int seed)
{
    __m512i acc[16];
    __m512i a = _mm512_set1_epi32(0x01020304 + seed), b = _mm512_set1_epi32(0x01010101);
    for (int i = 0; i < 16; i++)
        acc[i] = _mm512_set1_epi32(i);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 16; i++)
            acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    int s = 0;
    for (int i = 0; i < 16; i++)
        s += _mm512_reduce_add_epi32(acc[i]);
    return s;
}

/* GFLOP/s (int8: GOP/s) of one of the loops above on every thread, best
 * of three; each iteration is 16 instructions of 2 x 16 x (1 or 4) ops. */
static double peak_rate(int vnni, int avx2)
{
    const long iters = 20 * 1000 * 1000;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        float sink = 0;
        double t0 = bench_now_s();
#pragma omp parallel reduction(+ : sink)
        sink += vnni ? (float)vnni_loop(iters, omp_get_thread_num())
               : avx2 ? fma_loop_avx2(iters, (float)omp_get_thread_num())
                      : fma_loop(iters, (float)omp_get_thread_num());
        double t = bench_now_s() - t0;
        double ops = 16.0 * 2 * (avx2 ? 8 : 16) * (vnni ? 4 : 1);
        double gf = ops * (double)iters * omp_get_max_threads() / t * 1e-9;
        if (gf > best && sink == sink)
            best = gf;
    }
    return best;
}
#endif

/* Part 4: GFLOP/s of rt_linear per kernel on runtime shapes. */
enum { LIN_ROUNDS = 5, LIN_REPS = 7 };

static double lin_time(rt_linear *l, int64_t m, const float *x, float *y,
                       const float *r, ir_diag *d)
{
    double t[LIN_REPS];
    for (int i = 0; i < 2; i++)
        if (rt_linear_run(l, m, x, y, r, d) != IR_OK)
            return -1;
    for (int i = 0; i < LIN_REPS; i++) {
        double t0 = bench_now_s();
        if (rt_linear_run(l, m, x, y, r, d) != IR_OK)
            return -1;
        t[i] = bench_now_s() - t0;
    }
    qsort(t, LIN_REPS, sizeof *t, bench_cmp_double);
    return 2.0 * (double)m * (double)l->k * (double)l->n / t[LIN_REPS / 2] * 1e-9;
}

static int linear_kernels(onednn_ctx *ctx)
{
    struct { int64_t k, n; ir_act act; int resid; const char *what; } sh[] = {
        {768, 2304, IR_ACT_NONE, 0, "BERT-base QKV"},
        {768, 768, IR_ACT_NONE, 1, "BERT-base attn out +r"},
        {768, 3072, IR_ACT_GELU, 0, "BERT-base FFN up gelu"},
        {3072, 768, IR_ACT_NONE, 1, "BERT-base FFN down +r"},
        {312, 936, IR_ACT_NONE, 0, "TinyBERT-4 QKV"},
        {312, 312, IR_ACT_NONE, 1, "TinyBERT-4 attn out +r"},
        {312, 1200, IR_ACT_GELU, 0, "TinyBERT-4 FFN up gelu"},
        {1200, 312, IR_ACT_NONE, 1, "TinyBERT-4 FFN down +r"},
    };
    const int64_t ms[] = {128, 256, 8};
    const rt_kernel kerns[3] = {RT_KERNEL_ONEDNN_PACKED, RT_KERNEL_ONEDNN_PLAIN,
                                RT_KERNEL_OPENBLAS};
    const char *omp = getenv("OMP_NUM_THREADS"), *isa = getenv(CPU_MAX_ISA_ENV),
               *core = getenv("OPENBLAS_CORETYPE");
    printf("rt_linear fp32 kernels, GFLOP/s (median of %d interleaved rounds of "
           "medians of %d; level %s, oneDNN %s, OMP_NUM_THREADS=%s, "
           "DISTILC_MAX_ISA=%s, OPENBLAS_CORETYPE=%s)\n", LIN_ROUNDS, LIN_REPS,
           cpu_level_name(cpu_level_get()), onednn_isa_name(), omp ? omp : "unset",
           isa ? isa : "unset", core ? core : "unset");
    printf("  %-24s %5s  %13s %12s %9s  %s\n", "shape", "M", "onednn_packed",
           "onednn_plain", "openblas", "rule");
    size_t cap = 256 * 3072;
    float *x = rand_buf(cap), *w = rand_buf(3072 * 2304), *b = rand_buf(3072),
          *y = malloc(cap * sizeof *y), *r = rand_buf(cap);
    int rc = 0;
    for (size_t i = 0; x && w && b && y && r && i < sizeof sh / sizeof *sh; i++) {
        rt_linear ls[3];
        memset(ls, 0, sizeof ls);
        ir_diag d; ir_diag_init(&d);
        int ok = 1;
        for (int k = 0; k < 3; k++)
            ok = ok && rt_linear_init(ctx, &ls[k], IR_PRECISION_FP32, kerns[k], sh[i].k,
                                      sh[i].n, w, b, sh[i].act, 0.0f, &d) == IR_OK;
        for (size_t mi = 0; ok && mi < sizeof ms / sizeof *ms; mi++) {
            double g[3][LIN_ROUNDS];
            for (int rd = 0; rd < LIN_ROUNDS && ok; rd++)
                for (int k = 0; k < 3 && ok; k++) {
                    g[k][rd] = lin_time(&ls[k], ms[mi], x, y,
                                        sh[i].resid ? r : NULL, &d);
                    ok = g[k][rd] >= 0;
                }
            if (!ok)
                break;
            for (int k = 0; k < 3; k++)
                qsort(g[k], LIN_ROUNDS, sizeof g[k][0], bench_cmp_double);
            printf("  %-24s %5lld  %13.1f %12.1f %9.1f  %s\n", sh[i].what,
                   (long long)ms[mi], g[0][LIN_ROUNDS / 2], g[1][LIN_ROUNDS / 2],
                   g[2][LIN_ROUNDS / 2],
                   rt_kernel_name(rt_kernel_rule(cpu_level_get(), IR_PRECISION_FP32,
                                                 sh[i].k, sh[i].n)));
            fflush(stdout);
        }
        if (!ok) {
            fprintf(stderr, "matmul_ceiling: %s\n", d.msg);
            rc = 1;
        }
        for (int k = 0; k < 3; k++)
            rt_linear_free(&ls[k]);
    }
    free(x); free(w); free(b); free(y); free(r);
    return rc;
}

int main(int argc, char **argv)
{
    const int64_t M = 128, K = 768, N = 3072;
    ir_diag d; ir_diag_init(&d);
    float *a = rand_buf((size_t)(M * K)), *w = rand_buf((size_t)(K * N));
    float *c = malloc((size_t)(M * N) * sizeof *c);
    onednn_ctx *ctx = NULL;
    gemm_ctx *g_dnnl = NULL, *g_blas = NULL, *g_auto = NULL;
    if (!a || !w || !c || onednn_ctx_create(&ctx, &d) != IR_OK ||
        gemm_ctx_create(GEMM_ONEDNN, &g_dnnl, &d) != IR_OK ||
        gemm_ctx_create(GEMM_BLAS, &g_blas, &d) != IR_OK ||
        gemm_ctx_create(GEMM_AUTO, &g_auto, &d) != IR_OK) {
        fprintf(stderr, "matmul_ceiling: %s\n", d.msg[0] ? d.msg : "out of memory");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--linear") == 0) {
        int lrc = linear_kernels(ctx);
        gemm_ctx_free(g_auto);
        gemm_ctx_free(g_blas);
        gemm_ctx_free(g_dnnl);
        onednn_ctx_free(ctx);
        free(a); free(w); free(c);
        return lrc;
    }
    const char *omp = getenv("OMP_NUM_THREADS");
    printf("matmul ceiling, %lldx%lld · %lldx%lld, median of %d (OMP_NUM_THREADS=%s, bf16 native: %s)\n",
           (long long)M, (long long)K, (long long)K, (long long)N, REPS,
           omp ? omp : "unset", onednn_has_bf16(ctx) ? "yes" : "no");
    struct { const char *name; onednn_dt dt; int packed; gemm_ctx *g; } rows[] = {
        {"oneDNN f32, packed weights", ONEDNN_F32, 1, NULL},
        {"oneDNN bf16, packed weights", ONEDNN_BF16, 1, NULL},
        {"oneDNN f32, plain strided (gemm_f32)", ONEDNN_F32, 0, g_dnnl},
        {"OpenBLAS sgemm (gemm_f32)", ONEDNN_F32, 0, g_blas},
    };
#ifdef FMA_PEAK
    /* through the CPU probe, so DISTILC_MAX_ISA=avx2 gives the AVX2 peak */
    if (cpu_level_get() >= CPU_LEVEL_AVX512)
        printf("  %-40s %8.1f GFLOP/s\n", "f32 FMA peak (AVX-512, no memory)",
               peak_rate(0, 0));
    if (cpu_level_get() >= CPU_LEVEL_AVX2)
        printf("  %-40s %8.1f GFLOP/s\n", "f32 FMA peak (AVX2, no memory)",
               peak_rate(0, 1));
    if (cpu_level_get() >= CPU_LEVEL_AVX512_VNNI)
        printf("  %-40s %8.1f GOP/s\n", "u8s8 VNNI peak (AVX-512, no memory)",
               peak_rate(1, 0));
#endif
    int rc = 0;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        bench_case bc = {.m = M, .n = N, .k = K, .a = a, .b = w, .c = c};
        if (rows[i].packed) {
            onednn_linear_desc ld = {.dt = rows[i].dt, .k = K, .n = N, .m_hint = M};
            if (onednn_linear_create(ctx, &ld, w, NULL, &bc.lin, &d) != IR_OK) {
                fprintf(stderr, "matmul_ceiling: %s\n", d.msg);
                rc = 1;
                continue;
            }
            bc.kind = B_LINEAR;
        } else {
            bc.kind = B_GEMM;
            bc.g = rows[i].g;
        }
        double gf = time_one(&bc, &d);
        if (gf < 0) {
            fprintf(stderr, "matmul_ceiling: %s\n", d.msg);
            rc = 1;
        } else {
            printf("  %-40s %8.1f GFLOP/s\n", rows[i].name, gf);
        }
        onednn_linear_free(bc.lin);
    }

    /* Part 2: the GEMM helper's choices for TinyBERT-4 training shapes
     * (batch 32 × seq 64 = 2048 tokens, hidden 312, FFN 1200). */
    printf("\ngemm_f32 automatic choice (first-call timing, ms):\n");
    struct { int ta, tb; int64_t m, n, k; const char *what; } shapes[] = {
        {0, 0, 2048, 1200, 312, "FFN up, forward   X·W"},
        {0, 0, 2048, 312, 1200, "FFN down, forward X·W"},
        {0, 0, 2048, 312, 312, "attn proj, forward X·W"},
        {0, 1, 2048, 312, 1200, "FFN up, dX = dY·Wᵀ"},
        {1, 0, 312, 1200, 2048, "FFN up, dW = Xᵀ·dY"},
        {0, 1, 2048, 1200, 312, "FFN down, dX = dY·Wᵀ"},
        {1, 0, 1200, 312, 2048, "FFN down, dW = Xᵀ·dY"},
        {0, 1, 2048, 312, 312, "attn proj, dX = dY·Wᵀ"},
        {1, 0, 312, 312, 2048, "attn proj, dW = Xᵀ·dY"},
    };
    size_t big = 2048 * 1200;
    float *x = rand_buf(big), *y = rand_buf(big), *z = malloc(big * sizeof *z);
    for (size_t i = 0; x && y && z && i < sizeof shapes / sizeof *shapes; i++) {
        int ta = shapes[i].ta, tb = shapes[i].tb;
        int64_t m = shapes[i].m, n = shapes[i].n, k = shapes[i].k;
        if (gemm_f32(g_auto, ta, tb, m, n, k, 1.0f, x, ta ? m : k, y,
                     tb ? k : n, 0.0f, z, n, &d) != IR_OK) {
            fprintf(stderr, "matmul_ceiling: %s\n", d.msg);
            rc = 1;
            continue;
        }
        double t_d, t_b;
        gemm_impl ch = gemm_ctx_choice(g_auto, ta, tb, m, n, k, &t_d, &t_b);
        printf("  %c%c %5lldx%-5lld · %5lldx%-5lld %-24s onednn %6.2f  openblas %6.2f  -> %s\n",
               ta ? 'T' : 'N', tb ? 'T' : 'N', (long long)m, (long long)k,
               (long long)k, (long long)n, shapes[i].what, t_d * 1e-6,
               t_b * 1e-6, gemm_impl_name(ch));
    }

    /* Part 3: the training step's forward shapes with hot caches, median
     * of REPS: plain operands through gemm_f32 (what the trainer runs,
     * weights change every step) against weights packed once (what
     * packing after every update could at best win). */
    printf("\ndistillation step's forward shapes, hot caches (GFLOP/s):\n");
    struct { int64_t m, k, n; const char *what; } fw[] = {
        {2048, 312, 936, "student QKV"}, {2048, 312, 312, "student attn proj"},
        {2048, 312, 1200, "student FFN up"}, {2048, 1200, 312, "student FFN down"},
        {2048, 384, 1152, "teacher QKV"}, {2048, 384, 1536, "teacher FFN up"},
        {2048, 1536, 384, "teacher FFN down"},
    };
    size_t need = 2048 * 1536;
    float *fx = rand_buf(need), *fwt = rand_buf(need), *fc = malloc(need * sizeof *fc);
    for (size_t i = 0; fx && fwt && fc && i < sizeof fw / sizeof *fw; i++) {
        bench_case plain = {.kind = B_GEMM, .g = g_dnnl, .m = fw[i].m,
                            .n = fw[i].n, .k = fw[i].k, .a = fx, .b = fwt, .c = fc};
        bench_case packed = plain;
        packed.kind = B_LINEAR;
        onednn_linear_desc ld = {.dt = ONEDNN_F32, .k = fw[i].k, .n = fw[i].n,
                                 .m_hint = fw[i].m};
        double gp = -1, gk = -1;
        if (onednn_linear_create(ctx, &ld, fwt, NULL, &packed.lin, &d) == IR_OK)
            gk = time_one(&packed, &d);
        gp = time_one(&plain, &d);
        onednn_linear_free(packed.lin);
        if (gp < 0 || gk < 0) {
            fprintf(stderr, "matmul_ceiling: %s\n", d.msg);
            rc = 1;
            continue;
        }
        printf("  %5lldx%-5lld · %5lldx%-5lld %-18s plain %6.1f  packed %6.1f\n",
               (long long)fw[i].m, (long long)fw[i].k, (long long)fw[i].k,
               (long long)fw[i].n, fw[i].what, gp, gk);
    }
    free(fx); free(fwt); free(fc);
    free(x); free(y); free(z);
    gemm_ctx_free(g_auto);
    gemm_ctx_free(g_blas);
    gemm_ctx_free(g_dnnl);
    printf("\n");
    rc |= linear_kernels(ctx);
    onednn_ctx_free(ctx);
    free(a); free(w); free(c);
    return rc;
}

/* cpu.h — what this CPU can do, found out at run time: the one probe every
 * kernel and precision choice goes through. distilc is built for baseline
 * x86-64, so one build (and one emitted program) runs on any x86-64 CPU and
 * picks its fast paths here, when it runs.
 *
 *     cpu_info ci;
 *     ir_diag d; ir_diag_init(&d);
 *     if (cpu_info_probe(&ci, &d) != IR_OK)        // bad DISTILC_MAX_ISA
 *         return d.status;
 *     if (ci.level >= CPU_LEVEL_AVX2) ... the AVX2 + FMA kernel ...
 *
 *     // hot paths: the same level, probed once per process
 *     if (cpu_level_get() >= CPU_LEVEL_AVX512) ...
 *
 * Levels are cumulative: each includes the ones below. DISTILC_MAX_ISA
 * (baseline, avx2, avx512, avx512_vnni, avx512_bf16, amx) caps the level
 * distilc dispatches on, and backend/ caps oneDNN the same way, so the lower
 * paths can be run and tested on any machine. An unknown value is refused
 * by cpu_info_probe (the command line checks it before any work); kernels
 * that cannot report an error then run at the baseline, which is right
 * everywhere.
 */
#ifndef DISTILC_IR_CPU_H
#define DISTILC_IR_CPU_H

#include <stdint.h>

#include "ir/diag.h"

typedef enum cpu_level {
    CPU_LEVEL_BASELINE,    /* x86-64 (SSE2): the portable C paths */
    CPU_LEVEL_AVX2,        /* AVX2 + FMA (Haswell, Zen 1-3) */
    CPU_LEVEL_AVX512,      /* AVX-512 F, BW, DQ, VL (Skylake-SP) */
    CPU_LEVEL_AVX512_VNNI, /* + VNNI: u8·s8 dot products into s32 */
    CPU_LEVEL_AVX512_BF16, /* + AVX512-BF16 (Cooper Lake, Zen 4) */
    CPU_LEVEL_AMX,         /* + AMX tiles, bf16 and int8 (Sapphire Rapids) */
    CPU_LEVEL_COUNT
} cpu_level;

/* The environment variable that caps the level. */
#define CPU_MAX_ISA_ENV "DISTILC_MAX_ISA"

typedef struct cpu_info {
    char vendor[13];       /* "GenuineIntel", "AuthenticAMD", ... */
    char brand[49];        /* the processor's name string */
    cpu_level native;      /* highest level the CPU and the OS support */
    cpu_level level;       /* min(native, DISTILC_MAX_ISA): what runs */
    int capped;            /* DISTILC_MAX_ISA lowered the level */
    /* single features, as the CPU reports them (and the OS enables) */
    unsigned avx2 : 1, fma : 1, f16c : 1, avx512f : 1, avx512bw : 1,
        avx512dq : 1, avx512vl : 1, avx512_vnni : 1, avx512_bf16 : 1,
        avx512_fp16 : 1, avx_vnni : 1, amx_tile : 1, amx_bf16 : 1,
        amx_int8 : 1;
    int cpus_online;       /* logical CPUs the system has online */
    int cpus_usable;       /* of those, the ones this process may run on */
    int64_t l1d_bytes, l2_bytes, l3_bytes; /* per core / per core / shared;
                                              0 when unknown */
} cpu_info;

/* Fills *out. Fails (IR_ERR_INPUT) only when DISTILC_MAX_ISA holds an
 * unknown name; *out is filled all the same, capped at the baseline. */
ir_status cpu_info_probe(cpu_info *out, ir_diag *d);

/* Only the check of DISTILC_MAX_ISA (no probe): IR_ERR_INPUT naming the
 * variable, its value and the accepted names when it is unknown. For the
 * command line's start and each oneDNN context. */
ir_status cpu_cap_check(ir_diag *d);

/* The level to dispatch on (capped), probed once per process: cheap enough
 * for every kernel call. */
cpu_level cpu_level_get(void);

const char *cpu_level_name(cpu_level l); /* "avx2", ...; "?" out of range */
/* Parses a level name (case-insensitive; "avx512_core" and "sse41" are
 * accepted as oneDNN spells them). Returns 0 when unknown. */
int cpu_level_parse(const char *s, cpu_level *out);
/* The accepted names, for messages: "baseline, avx2, ..." */
const char *cpu_level_names(void);

#endif

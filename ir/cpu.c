/* cpu.c — the CPU probe of cpu.h: cpuid for the instruction sets, xgetbv
 * for what the OS saves on a context switch (a CPU with AVX-512 under an OS
 * that does not enable its registers cannot use it), sysfs for caches and
 * sched_getaffinity for the CPUs this process may use. Intel SDM vol. 2A,
 * CPUID leaves 1 and 7; XCR0 bit layout from vol. 1, 13.3. */
#define _GNU_SOURCE
#include "ir/cpu.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define CPU_X86 1
#else
#define CPU_X86 0
#endif

static const char *const level_names[CPU_LEVEL_COUNT] = {
    "baseline", "avx2", "avx512", "avx512_vnni", "avx512_bf16", "amx"};

const char *cpu_level_name(cpu_level l)
{
    return (unsigned)l < CPU_LEVEL_COUNT ? level_names[l] : "?";
}

const char *cpu_level_names(void)
{
    return "baseline, avx2, avx512, avx512_vnni, avx512_bf16, amx";
}

int cpu_level_parse(const char *s, cpu_level *out)
{
    static const struct { const char *name; cpu_level l; } alias[] = {
        {"sse2", CPU_LEVEL_BASELINE},  {"sse41", CPU_LEVEL_BASELINE},
        {"x86-64", CPU_LEVEL_BASELINE}, {"avx512_core", CPU_LEVEL_AVX512},
        {"avx512_core_vnni", CPU_LEVEL_AVX512_VNNI},
        {"avx512_core_bf16", CPU_LEVEL_AVX512_BF16},
        {"avx512_core_amx", CPU_LEVEL_AMX}};
    if (!s)
        return 0;
    for (int i = 0; i < CPU_LEVEL_COUNT; i++)
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (cpu_level)i;
            return 1;
        }
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcasecmp(s, alias[i].name) == 0) {
            *out = alias[i].l;
            return 1;
        }
    return 0;
}

#if CPU_X86
static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    r[0] = r[1] = r[2] = r[3] = 0;
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

/* XCR0: the register states the OS saves. Only valid with OSXSAVE. */
static uint64_t xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

#define BIT(x, n) (((x) >> (n)) & 1u)

static void probe_features(cpu_info *c)
{
    unsigned r[4], max_leaf;
    cpuid(0, 0, r);
    max_leaf = r[0];
    memcpy(c->vendor, &r[1], 4);
    memcpy(c->vendor + 4, &r[3], 4);
    memcpy(c->vendor + 8, &r[2], 4);
    c->vendor[12] = '\0';

    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000004u) {
        unsigned b[12];
        for (unsigned i = 0; i < 3; i++)
            cpuid(0x80000002u + i, 0, b + 4 * i);
        memcpy(c->brand, b, 48);
        c->brand[48] = '\0';
        /* the string is padded with leading blanks on some CPUs */
        char *p = c->brand;
        while (*p == ' ')
            p++;
        memmove(c->brand, p, strlen(p) + 1);
    }

    cpuid(1, 0, r);
    unsigned ecx1 = r[2];
    int osxsave = BIT(ecx1, 27), avx = BIT(ecx1, 28);
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6;           /* XMM, YMM */
    int os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM */
    int os_amx = (xcr0 & 0x60000) == 0x60000;   /* XTILECFG, XTILEDATA */
    if (!(avx && os_avx))
        return; /* no AVX state: nothing above the baseline can run */
    c->fma = BIT(ecx1, 12);
    c->f16c = BIT(ecx1, 29);
    if (max_leaf < 7)
        return;
    cpuid(7, 0, r);
    unsigned ebx7 = r[1], ecx7 = r[2], edx7 = r[3], max_sub7 = r[0];
    c->avx2 = BIT(ebx7, 5);
    if (os_avx512) {
        c->avx512f = BIT(ebx7, 16);
        c->avx512dq = BIT(ebx7, 17);
        c->avx512bw = BIT(ebx7, 30);
        c->avx512vl = BIT(ebx7, 31);
        c->avx512_vnni = BIT(ecx7, 11);
        c->avx512_fp16 = BIT(edx7, 23);
    }
    if (os_amx) {
        c->amx_bf16 = BIT(edx7, 22);
        c->amx_tile = BIT(edx7, 24);
        c->amx_int8 = BIT(edx7, 25);
    }
    if (max_sub7 >= 1) {
        cpuid(7, 1, r);
        c->avx_vnni = BIT(r[0], 4);
        if (os_avx512)
            c->avx512_bf16 = BIT(r[0], 5);
    }
}
#else
static void probe_features(cpu_info *c) { (void)c; }
#endif

static cpu_level native_level(const cpu_info *c)
{
    if (!(c->avx2 && c->fma))
        return CPU_LEVEL_BASELINE;
    if (!(c->avx512f && c->avx512bw && c->avx512dq && c->avx512vl))
        return CPU_LEVEL_AVX2;
    if (!c->avx512_vnni)
        return CPU_LEVEL_AVX512;
    if (!c->avx512_bf16)
        return CPU_LEVEL_AVX512_VNNI;
    if (!(c->amx_tile && c->amx_bf16 && c->amx_int8))
        return CPU_LEVEL_AVX512_BF16;
    return CPU_LEVEL_AMX;
}

/* One cache's size from sysfs ("32K", "1024K", "32M"), 0 when unknown. */
static int64_t sysfs_cache(int level, const char *type)
{
    for (int i = 0; i < 8; i++) {
        char path[128], buf[64];
        int lv = 0;
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        if (fscanf(f, "%d", &lv) != 1)
            lv = 0;
        fclose(f);
        if (lv != level)
            continue;
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        f = fopen(path, "r");
        if (!f || !fgets(buf, sizeof buf, f)) {
            if (f)
                fclose(f);
            continue;
        }
        fclose(f);
        if (strncmp(buf, type, strlen(type)) != 0)
            continue;
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        f = fopen(path, "r");
        if (!f)
            continue;
        long long v = 0;
        char unit = 0;
        int got = fscanf(f, "%lld%c", &v, &unit);
        fclose(f);
        if (got < 1 || v <= 0)
            continue;
        if (unit == 'K' || unit == 'k')
            v *= 1024;
        else if (unit == 'M' || unit == 'm')
            v *= 1024 * 1024;
        return (int64_t)v;
    }
    return 0;
}

/* min(native, cap); 0 and the baseline when the cap's name is unknown. */
static int apply_cap(cpu_info *c, const char *cap)
{
    c->level = c->native;
    c->capped = 0;
    if (!cap || !*cap)
        return 1;
    cpu_level l;
    if (!cpu_level_parse(cap, &l)) {
        c->level = CPU_LEVEL_BASELINE;
        c->capped = c->native != CPU_LEVEL_BASELINE;
        return 0;
    }
    if (l < c->native) {
        c->level = l;
        c->capped = 1;
    }
    return 1;
}

ir_status cpu_cap_check(ir_diag *d)
{
    const char *cap = getenv(CPU_MAX_ISA_ENV);
    cpu_level l;
    if (cap && *cap && !cpu_level_parse(cap, &l))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s=%s is not an instruction set distilc knows "
                           "(one of: %s)", CPU_MAX_ISA_ENV, cap,
                           cpu_level_names());
    return IR_OK;
}

ir_status cpu_info_probe(cpu_info *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    probe_features(out);
    out->native = native_level(out);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    out->cpus_online = n > 0 ? (int)n : 1;
    cpu_set_t set;
    CPU_ZERO(&set);
    out->cpus_usable = sched_getaffinity(0, sizeof set, &set) == 0
                           ? CPU_COUNT(&set) : out->cpus_online;
    out->l1d_bytes = sysfs_cache(1, "Data");
    out->l2_bytes = sysfs_cache(2, "Unified");
    out->l3_bytes = sysfs_cache(3, "Unified");
    apply_cap(out, getenv(CPU_MAX_ISA_ENV));
    return cpu_cap_check(d);
}

/* Written once under pthread_once, read-only after: kernels on many
 * threads (and concurrent compilations) only read it. */
static pthread_once_t level_once = PTHREAD_ONCE_INIT;
static cpu_level level_value = CPU_LEVEL_BASELINE;

static void level_init(void)
{
    cpu_info c;
    memset(&c, 0, sizeof c);
    probe_features(&c);
    c.native = native_level(&c);
    apply_cap(&c, getenv(CPU_MAX_ISA_ENV));
    level_value = c.level;
}

cpu_level cpu_level_get(void)
{
    pthread_once(&level_once, level_init);
    return level_value;
}

/* test_cpu.c — the CPU probe (ir/cpu.h): level names and aliases, the
 * levels' order, DISTILC_MAX_ISA capping (and refusing an unknown name),
 * and cpu_level_get agreeing with the probe. What the CPU has differs from
 * machine to machine; what is checked holds on every x86-64 CPU. */
#include <stdlib.h>
#include <string.h>

#include "ir/cpu.h"
#include "testutil.h"

static void test_names(void)
{
    for (int i = 0; i < CPU_LEVEL_COUNT; i++) {
        cpu_level l;
        CHECK(cpu_level_parse(cpu_level_name((cpu_level)i), &l) && l == (cpu_level)i);
        CHECK(strstr(cpu_level_names(), cpu_level_name((cpu_level)i)) != NULL);
    }
    cpu_level l;
    CHECK(cpu_level_parse("AVX2", &l) && l == CPU_LEVEL_AVX2); /* any case */
    CHECK(cpu_level_parse("avx512_core", &l) && l == CPU_LEVEL_AVX512);
    CHECK(cpu_level_parse("avx512_core_amx", &l) && l == CPU_LEVEL_AMX);
    CHECK(cpu_level_parse("sse41", &l) && l == CPU_LEVEL_BASELINE);
    CHECK(!cpu_level_parse("avx3", &l));
    CHECK(!cpu_level_parse("", &l));
    CHECK(!cpu_level_parse(NULL, &l));
    CHECK(strcmp(cpu_level_name(CPU_LEVEL_COUNT), "?") == 0);
}

/* The probe's facts are consistent with each other on any CPU. */
static void test_probe(void)
{
    unsetenv(CPU_MAX_ISA_ENV);
    cpu_info c;
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(cpu_info_probe(&c, &d) == IR_OK, "%s", d.msg);
    CHECK(c.level == c.native && !c.capped);
    CHECK(c.cpus_online >= 1 && c.cpus_usable >= 1 &&
          c.cpus_usable <= c.cpus_online);
    /* levels are cumulative: each implies the features below it */
    if (c.native >= CPU_LEVEL_AVX2)
        CHECK(c.avx2 && c.fma);
    if (c.native >= CPU_LEVEL_AVX512)
        CHECK(c.avx512f && c.avx512bw && c.avx512dq && c.avx512vl);
    if (c.native >= CPU_LEVEL_AVX512_VNNI)
        CHECK(c.avx512_vnni);
    if (c.native >= CPU_LEVEL_AVX512_BF16)
        CHECK(c.avx512_bf16);
    printf("cpu: %s (%s), native level %s, L1d %lld, L2 %lld, L3 %lld bytes\n",
           c.brand, c.vendor, cpu_level_name(c.native), (long long)c.l1d_bytes,
           (long long)c.l2_bytes, (long long)c.l3_bytes);
}

static void test_cap(void)
{
    cpu_info c;
    ir_diag d;
    for (int i = 0; i < CPU_LEVEL_COUNT; i++) {
        setenv(CPU_MAX_ISA_ENV, cpu_level_name((cpu_level)i), 1);
        ir_diag_init(&d);
        CHECK(cpu_info_probe(&c, &d) == IR_OK);
        /* never above the cap, never above the CPU; capped only if lower */
        CHECK(c.level <= (cpu_level)i && c.level <= c.native);
        CHECK(c.level == ((cpu_level)i < c.native ? (cpu_level)i : c.native));
        CHECK(c.capped == ((cpu_level)i < c.native));
    }
    setenv(CPU_MAX_ISA_ENV, "avx1024", 1);
    ir_diag_init(&d);
    CHECK(cpu_info_probe(&c, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "DISTILC_MAX_ISA=avx1024") && strstr(d.msg, "avx2"),
              "the message names the variable, its value and the choices: %s",
              d.msg);
    CHECK(c.level == CPU_LEVEL_BASELINE); /* the safe answer */
    unsetenv(CPU_MAX_ISA_ENV);
}

int main(void)
{
    /* cpu_level_get is probed once per process, with the environment the
     * test was started with (ctest runs it natively and capped) */
    cpu_info c;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = cpu_info_probe(&c, &d);
    CHECK(s == IR_OK);
    CHECK(cpu_level_get() == c.level);
    test_names();
    test_probe();
    test_cap();
    return test_finish("test_cpu");
}

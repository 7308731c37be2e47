/* train_isa.h — for the tests that hold each of the trainer's vector paths
 * (distill/kernels.h train_isa) to its portable twin: the sets to try and,
 * for one that may not run here, why (printed, so a run capped at
 * DISTILC_MAX_ISA=avx2 or on an AVX2-only CPU says what it left out). */
#ifndef DISTILC_TESTS_TRAIN_ISA_H
#define DISTILC_TESTS_TRAIN_ISA_H

#include <stdio.h>

#include "distill/kernels.h"
#include "ir/cpu.h"
#include "testutil.h"

/* The vector sets, each compared with TRAIN_ISA_PORTABLE. */
static const train_isa train_isa_vector[] = {TRAIN_ISA_AVX2,
                                             TRAIN_ISA_AVX512};
enum { TRAIN_ISA_NVECTOR = 2 };

/* 1 when isa may run here; else 0 after printing "skipped: ..." with the
 * reason (this CPU lacks it, or DISTILC_MAX_ISA caps it) for what. */
static inline int train_isa_try(train_isa isa, const char *what)
{
    if (train_isa_available(isa))
        return 1;
    cpu_info ci;
    ir_diag d;
    ir_diag_init(&d);
    cpu_info_probe(&ci, &d);
    cpu_level need =
        isa == TRAIN_ISA_AVX512 ? CPU_LEVEL_AVX512 : CPU_LEVEL_AVX2;
    test_skip("%s %s: %s", what, train_isa_name(isa),
              ci.native >= need ? "capped by " CPU_MAX_ISA_ENV
                                : "this CPU does not have it");
    return 0;
}

#endif

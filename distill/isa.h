/* isa.h — how the trainer's kernels compile one body for several
 * instruction sets and pick one when they run (internal to distill/).
 *
 *     TRAIN_ISA_INLINE void gelu_fwd_body(float *o, const float *x, size_t n)
 *     { ...plain C that vectorizes... }
 *     TRAIN_ISA_VARIANTS(gelu_fwd, (float *o, const float *x, size_t n),
 *                        (o, x, n))
 *     ...
 *     TRAIN_ISA_CALL(train_isa_resolve(isa), gelu_fwd, (o, x, n));
 *
 * TRAIN_ISA_VARIANTS defines NAME_portable, NAME_avx2 (AVX2 + FMA) and
 * NAME_avx512 (AVX-512F), each the always-inlined NAME_body compiled for
 * its target; TRAIN_ISA_CALL runs the one an isa names. The choice comes
 * from train_isa_resolve (distill/isa.c), that is from cpu_level_get()
 * (ir/cpu.h), so DISTILC_MAX_ISA reaches every path on any machine (GCC's
 * target_clones, used before, dispatched by CPU alone).
 *
 * The build has no -march and no FMA contraction (-std=c17 implies
 * -ffp-contract=off), so a body the compiler vectorizes does the same
 * arithmetic at each target: elementwise kernels give the same bits on
 * every path, reductions differ only in how their lanes are summed. */
#ifndef DISTILC_DISTILL_ISA_H
#define DISTILC_DISTILL_ISA_H

#include "distill/kernels.h"

/* A body inlined into each variant: GCC leaves a plain inline function
 * out of a function compiled for another target (it is then called at the
 * baseline ISA; softmax_row.h measured that as 4x slower). */
#define TRAIN_ISA_INLINE static inline __attribute__((always_inline))

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define TRAIN_ISA_X86 1
#define TRAIN_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TRAIN_TARGET_AVX512 __attribute__((target("avx512f")))

#define TRAIN_ISA_VARIANTS(NAME, PARAMS, ARGS)                                \
    static void NAME##_portable PARAMS { NAME##_body ARGS; }                  \
    TRAIN_TARGET_AVX2 static void NAME##_avx2 PARAMS { NAME##_body ARGS; }    \
    TRAIN_TARGET_AVX512 static void NAME##_avx512 PARAMS { NAME##_body ARGS; }

/* ISA must be resolved (train_isa_resolve): never AUTO. */
#define TRAIN_ISA_CALL(ISA, NAME, ARGS)                                       \
    do {                                                                      \
        switch (ISA) {                                                        \
        case TRAIN_ISA_AVX512: NAME##_avx512 ARGS; break;                     \
        case TRAIN_ISA_AVX2: NAME##_avx2 ARGS; break;                         \
        default: NAME##_portable ARGS; break;                                 \
        }                                                                     \
    } while (0)
#else
#define TRAIN_ISA_X86 0
#define TRAIN_ISA_VARIANTS(NAME, PARAMS, ARGS)                                \
    static void NAME##_portable PARAMS { NAME##_body ARGS; }
#define TRAIN_ISA_CALL(ISA, NAME, ARGS)                                       \
    do {                                                                      \
        (void)(ISA);                                                          \
        NAME##_portable ARGS;                                                 \
    } while (0)
#endif

#endif

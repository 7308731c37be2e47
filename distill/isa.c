/* isa.c — which of the trainer's kernel sets (train_isa, kernels.h) can run
 * here: the vector ones need the level of ir/cpu.h's cpu_level_get(), which
 * DISTILC_MAX_ISA caps, so every dispatch in distill/ follows the cap. */
#include "distill/isa.h"
#include "distill/kernels.h"
#include "ir/cpu.h"

int train_isa_available(train_isa isa)
{
    switch (isa) {
    case TRAIN_ISA_AUTO:
    case TRAIN_ISA_PORTABLE:
        return 1;
    case TRAIN_ISA_AVX2:
        return TRAIN_ISA_X86 && cpu_level_get() >= CPU_LEVEL_AVX2;
    case TRAIN_ISA_AVX512:
        return TRAIN_ISA_X86 && cpu_level_get() >= CPU_LEVEL_AVX512;
    default:
        return 0;
    }
}

train_isa train_isa_resolve(train_isa want)
{
    /* the best set at or below want that runs here (AUTO: the best) */
    int top = want == TRAIN_ISA_AUTO || want >= TRAIN_ISA_COUNT
                  ? TRAIN_ISA_COUNT - 1 : (int)want;
    for (int i = top; i > TRAIN_ISA_PORTABLE; i--)
        if (train_isa_available((train_isa)i))
            return (train_isa)i;
    return TRAIN_ISA_PORTABLE;
}

const char *train_isa_name(train_isa isa)
{
    switch (isa) {
    case TRAIN_ISA_AUTO: return "auto";
    case TRAIN_ISA_PORTABLE: return "portable";
    case TRAIN_ISA_AVX2: return "avx2";
    case TRAIN_ISA_AVX512: return "avx512";
    default: return "?";
    }
}

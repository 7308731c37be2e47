/* rng.c — counter-based random numbers for the trainer: a value is a pure
 * function of (seed, counter), so dropout masks and initialisations do not
 * depend on call order or threads, and a resumed run draws the same numbers.
 * The mixer is SplitMix64's finaliser (Steele, Lea, Flood 2014) applied to
 * seed and counter combined with a golden-ratio stride.
 */
#include <math.h>

#include "distill/kernels.h"

uint64_t train_rng_u64(uint64_t seed, uint64_t counter)
{
    uint64_t z = seed * 0xD1B54A32D192ED03ULL + (counter + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

float train_rng_uniform(uint64_t seed, uint64_t counter)
{
    /* top 24 bits: exactly representable in a float, so the result is < 1 */
    return (float)(train_rng_u64(seed, counter) >> 40) * (1.0f / 16777216.0f);
}

float train_rng_normal(uint64_t seed, uint64_t counter)
{
    /* Box-Muller on two independent draws from one 64-bit word each */
    uint64_t a = train_rng_u64(seed, 2 * counter);
    uint64_t b = train_rng_u64(seed, 2 * counter + 1);
    double u1 = ((double)(a >> 11) + 1.0) * (1.0 / 9007199254740993.0); /* (0,1] */
    double u2 = (double)(b >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

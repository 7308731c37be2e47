/* rt_tap.c — the int8 calibration tap (rt.h's rt_calib_tap): folds the
 * input of one linear into the running max |x| over the real tokens and
 * notes the first non-finite value. rt.c calls it only when the tap is
 * set, so a run without taps pays nothing. Libc only: shipped with
 * emitted standalone programs like the rest of backend/rt*.c. */
#include <float.h>
#include <math.h>

#include "backend/rt_internal.h"

const char *rt_site_name(rt_site s)
{
    static const char *const names[RT_SITE_COUNT] = {"qkv", "attn_out", "ffn_in",
                                                     "ffn_out"};
    return (unsigned)s < RT_SITE_COUNT ? names[s] : "?";
}

void rt_tap_absmax(rt_calib_tap *t, int64_t layer, rt_site site,
                   const float *x, int64_t rows, int64_t width,
                   const int64_t *mask)
{
    float *m = &t->absmax[layer * RT_SITE_COUNT + site];
    float mx = *m;
    for (int64_t i = 0; i < rows; i++) {
        if (mask && mask[i] != 1)
            continue;
        const float *row = x + i * width;
        float rm = 0.0f;
        int finite = 1;
        for (int64_t j = 0; j < width; j++) {
            float v = fabsf(row[j]);
            rm = v > rm ? v : rm;
            finite &= v <= FLT_MAX; /* false for inf and NaN */
        }
        /* Only the first is kept: later ones are its consequences. */
        if (!finite && !t->nonfinite) {
            t->nonfinite = 1;
            t->nf_layer = layer;
            t->nf_row = i;
            t->nf_site = site;
        }
        mx = rm > mx ? rm : mx;
    }
    *m = mx;
}

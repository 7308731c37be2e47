/* relpos.h — the relative position bias of MPNet (transformers'
 * MPNetEncoder.compute_position_bias and relative_position_bucket, T5's
 * bucketing): a learned table [buckets, heads], read at the bucket of each
 * (query i, key j) distance, gives a bias [heads, S, S] computed once per
 * forward and added to every layer's attention scores before the mask and
 * the softmax.
 *
 *     float *bias = malloc(A * S * S * sizeof *bias);
 *     ir_relpos_bias(bias, table, A, S, 32, 128, true);  // MPNet's
 *     // scores[b, a, i, j] += bias[(a * S + i) * S + j]
 *
 * The bucket of n = i - j (query minus key), as relative_position_bucket
 * computes it for num_buckets R and max_distance M:
 *   bidirectional: half = R / 2, ret = half when n < 0 (a key after the
 *                  query), n = |n|;   otherwise: half = R, ret = 0,
 *                  n = max(n, 0) (keys after the query share bucket 0)
 *   exact = half / 2
 *   ret += n                                            when n < exact
 *   ret += min(half - 1, exact + (int64)(log((float)n / exact)
 *              / (float)log(M / exact) * (half - exact)))  otherwise
 * in float32 as torch computes it (log of a float, divided by the float
 * constant the export writes, times a float, truncated): the buckets agree
 * with torch's for every distance (tests/ir/test_relpos.c, and the export
 * tests through the interpreter).
 *
 * Header-only on libm: the runtime and the emitted program (backend/emit
 * ships this file) use it as the trainer and the lift do.
 */
#ifndef DISTILC_IR_RELPOS_H
#define DISTILC_IR_RELPOS_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

/* The divisor log(max_distance / exact) as the export's float constant
 * (torch writes math.log of the Python float quotient, rounded to f32). */
static inline float ir_relpos_log_ratio(int64_t max_distance, int64_t exact)
{
    return (float)log((double)max_distance / (double)exact);
}

/* The bucket of n = query - key; 0 <= result < buckets for a valid config
 * (buckets >= 4 bidirectional, >= 2 otherwise; max_distance > exact). */
static inline int64_t ir_relpos_bucket(int64_t n, int64_t buckets,
                                       int64_t max_distance, bool bidirectional)
{
    int64_t half = bidirectional ? buckets / 2 : buckets, ret = 0;
    if (bidirectional) {
        ret = n < 0 ? half : 0;
        n = n < 0 ? -n : n;
    } else if (n < 0) {
        n = 0;
    }
    int64_t exact = half / 2;
    if (n < exact)
        return ret + n;
    float r = logf((float)n / (float)exact) /
              ir_relpos_log_ratio(max_distance, exact) * (float)(half - exact);
    int64_t large = exact + (int64_t)r;
    return ret + (large < half - 1 ? large : half - 1);
}

/* out[a, i, j] = table[bucket(i - j), a] for a < A, i, j < S; table is
 * [buckets, A] row-major (transformers' relative_attention_bias.weight).
 * One bucket per diagonal n = i - j (2S - 1 logarithms, not S²). */
static inline void ir_relpos_bias(float *out, const float *table, int64_t A,
                                  int64_t S, int64_t buckets,
                                  int64_t max_distance, bool bidirectional)
{
    for (int64_t n = 1 - S; n < S; n++) {
        const float *row =
            table + ir_relpos_bucket(n, buckets, max_distance, bidirectional) * A;
        int64_t i0 = n > 0 ? n : 0, i1 = n > 0 ? S : S + n;
        for (int64_t a = 0; a < A; a++)
            for (int64_t i = i0; i < i1; i++)
                out[(a * S + i) * S + (i - n)] = row[a];
    }
}

#endif

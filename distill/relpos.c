/* relpos.c — MPNet's relative position bias in the trainer (kernels.h):
 * the [NH,T,T] bias from the table once per forward (ir/relpos.h, the
 * runtime's bucketing), and the table's gradient, which collects each
 * layer's total score gradients at their buckets.
 *
 * The backward walks one diagonal n = i - j at a time (one bucket each)
 * and sums in double over the batch and the diagonal before adding into
 * the table; heads are independent, so they split across threads. */
#include "distill/kernels.h"
#include "ir/relpos.h"

void train_relpos_forward(float *bias, const float *table, size_t NH,
                          size_t T, int64_t R, int64_t max_distance,
                          bool bidirectional)
{
    ir_relpos_bias(bias, table, (int64_t)NH, (int64_t)T, R, max_distance,
                   bidirectional);
}

void train_relpos_backward(float *dtable, const float *dscores, size_t B,
                           size_t NH, size_t T, int64_t R,
                           int64_t max_distance, bool bidirectional)
{
    int64_t S = (int64_t)T;
#pragma omp parallel for schedule(static) if (B * NH * T * T > 65536)
    for (size_t h = 0; h < NH; h++)
        for (int64_t n = 1 - S; n < S; n++) {
            int64_t i0 = n > 0 ? n : 0, i1 = n > 0 ? S : S + n;
            double sum = 0.0;
            for (size_t b = 0; b < B; b++) {
                const float *ds = dscores + (b * NH + h) * T * T;
                for (int64_t i = i0; i < i1; i++)
                    sum += ds[i * S + (i - n)];
            }
            int64_t k = ir_relpos_bucket(n, R, max_distance, bidirectional);
            dtable[k * (int64_t)NH + (int64_t)h] += (float)sum;
        }
}

/* bench_clock.h — the two helpers every C benchmark here times with: the
 * monotonic clock in seconds (ir/clock.h's, the one clock of distilc) and a
 * qsort comparison for medians. */
#ifndef DISTILC_BENCH_CLOCK_H
#define DISTILC_BENCH_CLOCK_H

#include "ir/clock.h"

static inline double bench_now_s(void) { return ir_clock_wall_s(); }

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif

/* bench_clock.h — the two helpers every C benchmark here times with: a
 * monotonic clock in seconds and a qsort comparison for medians. */
#ifndef DISTILC_BENCH_CLOCK_H
#define DISTILC_BENCH_CLOCK_H

#include <time.h>

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif

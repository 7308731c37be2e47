/* clock.h — distilc's one clock, in seconds as doubles:
 *   IR_CLOCK_WALL         the monotonic clock (elapsed time; date changes
 *                         do not move it);
 *   IR_CLOCK_PROCESS_CPU  the CPU time of the whole process;
 *   IR_CLOCK_THREAD_CPU   the CPU time of the calling thread (what
 *                         `--clock cpu` times: other jobs on a shared
 *                         machine do not move it).
 *
 *     double t0 = ir_clock_wall_s();
 *     ... work ...
 *     double seconds = ir_clock_wall_s() - t0;
 *
 * Header-only: every layer, the tools and the benchmarks include it. */
#ifndef DISTILC_IR_CLOCK_H
#define DISTILC_IR_CLOCK_H

#include <time.h>

typedef enum ir_clock_kind {
    IR_CLOCK_WALL,
    IR_CLOCK_PROCESS_CPU,
    IR_CLOCK_THREAD_CPU,
    IR_CLOCK_KIND_COUNT
} ir_clock_kind;

static inline double ir_clock_s(ir_clock_kind k)
{
    clockid_t id = k == IR_CLOCK_PROCESS_CPU ? CLOCK_PROCESS_CPUTIME_ID
                   : k == IR_CLOCK_THREAD_CPU ? CLOCK_THREAD_CPUTIME_ID
                                              : CLOCK_MONOTONIC;
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double ir_clock_wall_s(void) { return ir_clock_s(IR_CLOCK_WALL); }

#endif

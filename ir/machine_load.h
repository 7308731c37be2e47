/* machine_load.h — how much CPU the rest of the machine used while this
 * process timed something.
 *
 * A latency measured on the thread's CPU clock leaves out waits for a core,
 * but not the memory traffic of other jobs: a latency model calibrated
 * beside a training run came out about 27% slow and hid every student that
 * would have fit (BENCHMARKS.md, the GLUE table). Timing code takes a mark
 * before and after its work; the machine's busy CPU time between them, less
 * this process's own, is what the other processes used.
 *
 *     ir_load_mark a = ir_load_mark_now();
 *     ... time something ...
 *     ir_load_mark b = ir_load_mark_now();
 *     double others_s, wall_s;
 *     if (ir_load_between(&a, &b, &others_s, &wall_s))
 *         ... others_s / wall_s: other processes' average cores ...
 *
 * The machine's figure is the kernel's (/proc/stat: user, nice, system,
 * irq, softirq and steal, in clock ticks, usually 10 ms), so a window of a
 * few ticks is coarse; sums over many windows are not. Where /proc/stat
 * cannot be read (not Linux), marks are not ok and ir_load_between says
 * false. */
#ifndef DISTILC_IR_MACHINE_LOAD_H
#define DISTILC_IR_MACHINE_LOAD_H

#include <stdbool.h>

typedef struct ir_load_mark {
    double machine_busy_s; /* every CPU's busy time since boot */
    double own_cpu_s;      /* this process's CPU time */
    double wall_s;         /* the monotonic clock */
    bool ok;               /* machine_busy_s could be read */
} ir_load_mark;

ir_load_mark ir_load_mark_now(void);

/* The CPU seconds other processes (and the hypervisor, as steal) used
 * between a and b, and the wall seconds between them. False when either
 * mark is not ok. The kernel counts in ticks and this process's clock in
 * nanoseconds, so one short window can come out a little below zero: add
 * the windows up first, then clamp the sum at 0 (clamping each window
 * would turn the rounding into a phantom load). */
bool ir_load_between(const ir_load_mark *a, const ir_load_mark *b,
                     double *others_cpu_s, double *wall_s);

#endif

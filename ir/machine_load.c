/* machine_load.c — marks of the machine's busy CPU time (ir/machine_load.h),
 * read from the first line of /proc/stat. */
#include <stdio.h>
#include <unistd.h>

#include "ir/clock.h"
#include "ir/machine_load.h"

/* Every CPU's busy time since boot in seconds; false when unreadable. The
 * line is "cpu user nice system idle iowait irq softirq steal ...": idle
 * and iowait are the time nothing ran. */
static bool machine_busy_s(double *out)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return false;
    unsigned long long v[8] = {0};
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                     &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (got < 7 || hz <= 0)
        return false;
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + (got >= 8 ? v[7] : 0);
    *out = (double)busy / (double)hz;
    return true;
}

ir_load_mark ir_load_mark_now(void)
{
    ir_load_mark m = {0};
    m.ok = machine_busy_s(&m.machine_busy_s);
    m.own_cpu_s = ir_clock_s(IR_CLOCK_PROCESS_CPU);
    m.wall_s = ir_clock_wall_s();
    return m;
}

bool ir_load_between(const ir_load_mark *a, const ir_load_mark *b,
                     double *others_cpu_s, double *wall_s)
{
    *others_cpu_s = 0;
    *wall_s = b->wall_s - a->wall_s;
    if (!a->ok || !b->ok)
        return false;
    *others_cpu_s = (b->machine_busy_s - a->machine_busy_s) -
                    (b->own_cpu_s - a->own_cpu_s);
    return true;
}

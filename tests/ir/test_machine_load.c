/* test_machine_load.c — marks of the machine's load (ir/machine_load.h):
 * the arithmetic between two marks, a mark that could not read the
 * machine, and a real child process spinning while this one sleeps, which
 * the marks must count as another process's CPU time. Only the positive
 * case is checked live: the suite may run other tests beside this one, so
 * a quiet machine cannot be assumed. */
#include <sys/wait.h>
#include <unistd.h>

#include "ir/clock.h"
#include "ir/machine_load.h"
#include "testutil.h"

static void test_arithmetic(void)
{
    /* 3 s of the machine's CPU went by in 2 s, 1 s of it this process's */
    ir_load_mark a = {.machine_busy_s = 100, .own_cpu_s = 5, .wall_s = 10, .ok = true};
    ir_load_mark b = {.machine_busy_s = 103, .own_cpu_s = 6, .wall_s = 12, .ok = true};
    double others, wall;
    CHECK(ir_load_between(&a, &b, &others, &wall));
    CHECK(others == 2 && wall == 2);
    /* ticks against nanoseconds: one short window may come out negative,
     * and is left so, for the sum over windows to stay unbiased */
    b.machine_busy_s = 100.99;
    b.own_cpu_s = 6;
    CHECK(ir_load_between(&a, &b, &others, &wall) && others < 0);
    /* a mark without the machine's figure: nothing known, wall still said */
    b.ok = false;
    CHECK(!ir_load_between(&a, &b, &others, &wall));
    CHECK(others == 0 && wall == 2);
}

static void test_spinning_child(void)
{
    ir_load_mark a = ir_load_mark_now();
    if (!a.ok) {
        test_skip("/proc/stat cannot be read here: the live check needs it");
        return;
    }
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) { /* the other job: 0.6 s of its own CPU time, then gone
                       * (CPU time, not wall: a busy machine only delays it) */
        double t0 = ir_clock_s(IR_CLOCK_PROCESS_CPU);
        volatile unsigned long x = 0;
        while (ir_clock_s(IR_CLOCK_PROCESS_CPU) - t0 < 0.6)
            x++;
        _exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    ir_load_mark b = ir_load_mark_now();
    double others, wall;
    CHECK(ir_load_between(&a, &b, &others, &wall));
    /* this process slept in waitpid while the child burnt 0.6 s: less a
     * few 10 ms ticks of rounding, that is others' time (more if other jobs
     * ran too) */
    CHECK_MSG(others >= 0.5, "others %.3f s over %.3f s", others, wall);
    CHECK(wall >= 0.6);
}

int main(void)
{
    test_arithmetic();
    test_spinning_child();
    return test_finish("test_machine_load");
}

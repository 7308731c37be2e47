/* rt_omp_wait.h — how idle OpenMP threads wait, for the two programs that
 * own a main(): distilc (tools/main.c) and the emitted standalone program
 * (backend/standalone/model_main.c). Called first thing in main:
 *
 *     int main(int argc, char **argv) { rt_omp_wait_default(argv); ... }
 *
 * Why: libgomp's default lets an idle thread spin 300,000 times before it
 * sleeps (~10 ms of a core at ~40 ns a pause), so with another busy process
 * on a 2-core machine the spinning threads take the core the working one
 * needs (TinyBERT-4 at 2 threads: 4.1 ms quiet, 9.3 ms beside one busy
 * process; on a Zen 3 a small model went from 2 to 240 ms). Passive waiting
 * (spin 0) fixes the loaded case but costs 65% quiet (6.8 ms): every
 * parallel region then pays a futex wake. A spin of 1,000 (~40 µs) still
 * covers the gap between one region and the next: 4.8 ms quiet, 10.5 ms
 * loaded (BERT-base s128: 84.7 / 172.6 ms, against 82.1 / 271.4 with
 * libgomp's default; bench/bench_load.py, BENCHMARKS.md).
 *
 * So unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT, the program
 * sets GOMP_SPINCOUNT=1000. libgomp reads its variables once, when it is
 * loaded, before main: the program then executes itself again, once, with
 * the variable set (it is set, so the second run does not repeat this). If
 * that fails, it runs on with libgomp's default. No other state is kept. */
#ifndef DISTILC_BACKEND_RT_OMP_WAIT_H
#define DISTILC_BACKEND_RT_OMP_WAIT_H

#include <stdlib.h>
#include <unistd.h>

#define RT_OMP_SPINCOUNT "1000"

static inline void rt_omp_wait_default(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT"))
        return;
    if (setenv("GOMP_SPINCOUNT", RT_OMP_SPINCOUNT, 1) != 0)
        return;
    execv("/proc/self/exe", argv);
}

#endif

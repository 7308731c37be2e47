/* search_opts.c — the options search and latency-model share (see
 * search_opts.h). */
#include "tools/search_opts.h"

#include <string.h>

void search_opts_init(search_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int c = 0; c < SEARCH_CLOCK_COUNT; c++)
        o->clocks[c] = (cli_name){search_clock_name((search_clock)c), c};
    o->clock = (cli_enum){-1, o->clocks,
                          "option --clock: unknown clock '%s' (wall or cpu)"};
    cli_runtime_init(&o->rt, CLI_RT_SEQ | CLI_RT_BATCH | CLI_RT_THREADS |
                                 CLI_RT_PRECISION, CLI_PRECISION_UNKNOWN);
    cli_output_init(&o->out, CLI_OUT_JSON | CLI_OUT_PROGRESS,
                    CLI_PROGRESS_UNKNOWN);
    cli_option *t = o->options;
    t[0] = (cli_option){"space", 0, CLI_VALUE, &o->space};
    t[1] = (cli_option){"cache", 0, CLI_VALUE, &o->cache};
    t[2] = (cli_option){"clock", 0, CLI_ENUM, &o->clock};
    t[3] = (cli_option){"runtime group", 0, CLI_GROUP, o->rt.options};
    t[4] = (cli_option){"output group", 0, CLI_GROUP, o->out.options};
    t[5] = (cli_option){0};
}

int space_load(const char *cmd, const char *path, search_space *sp)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_status s;
    if (path) {
        if (!cli_check_input_file(cmd, "space", path))
            return 2;
        s = search_space_load_file(path, sp, &d);
    } else {
        const char *t = search_space_default_text();
        s = search_space_load_memory(t, strlen(t), "default.xml (built in)", sp,
                                     &d);
    }
    return s == IR_OK ? 0 : cli_fail(&d);
}

int search_opts_setting(const char *cmd, const search_opts *o,
                        const search_space *sp, search_constraints *k)
{
    const cli_runtime *rt = &o->rt;
    if (rt->seq.value) {
        if (rt->seq.value > sp->base.max_positions) {
            cli_error("%s: option --seq %lld exceeds the space's max-positions "
                      "%lld", cmd, (long long)rt->seq.value,
                      (long long)sp->base.max_positions);
            return 2;
        }
        k->seq = rt->seq.value;
    }
    if (rt->batch.value)
        k->batch = rt->batch.value;
    if (rt->threads.value) {
        if (rt->threads.value > 1024) {
            cli_error("%s: option --threads: at most 1024", cmd);
            return 2;
        }
        k->threads = rt->threads.value;
    }
    if (rt->precision.value >= 0)
        k->precision = (ir_precision)rt->precision.value;
    return -1;
}

int search_opts_latency(const char *cmd, const search_opts *o,
                        int64_t threads, search_latency_opts *lo)
{
    search_latency_opts_default(lo);
    lo->cache_path = o->cache;
    if (o->clock.value >= 0)
        lo->clock = (search_clock)o->clock.value;
    if (lo->clock == SEARCH_CLOCK_CPU && threads != 1) {
        cli_error("%s: option --clock cpu times one thread: add --threads 1",
                  cmd);
        return 2;
    }
    return -1;
}

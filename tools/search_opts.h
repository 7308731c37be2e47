/* search_opts.h — what `distilc search` and `distilc latency-model` share:
 * the search space (--space FILE, else the built-in
 * search/spaces/default.xml), the latency setting over the space's own
 * (--seq --batch --threads --precision), --clock, --cache and the output
 * (--json --progress).
 *
 *     search_opts so;
 *     search_opts_init(&so);
 *     cli_option opts[] = {..., {"search options", 0, CLI_GROUP, so.options},
 *                          {0}};
 *     ... cli_parse ...
 *     search_space sp;
 *     if ((rc = space_load("search", so.space, &sp)) != 0) return rc;
 *     if ((rc = search_opts_setting("search", &so, &sp, &sp.cons)) >= 0)
 *         return rc;
 */
#ifndef DISTILC_TOOLS_SEARCH_OPTS_H
#define DISTILC_TOOLS_SEARCH_OPTS_H

#include "search/latency.h"
#include "search/space.h"
#include "tools/cli_groups.h"

typedef struct search_opts {
    const char *space, *cache; /* NULL: not given */
    cli_enum clock;            /* a search_clock; -1: not given */
    cli_name clocks[SEARCH_CLOCK_COUNT + 1];
    cli_runtime rt;
    cli_output out;
    cli_option options[6];
} search_opts;

/* Makes o's table; o must stay where it is (the table points into it). */
void search_opts_init(search_opts *o);

/* Exit status: 0 ok; 2 when path is not a file; the loader's otherwise
 * (after printing "distilc: CMD: ..." or the loader's message). */
int space_load(const char *cmd, const char *path, search_space *sp);

/* k (the space's constraints, or a copy) with the setting the command line
 * gives over it: --seq within the space's max-positions, --threads at most
 * 1024. Exit status after a usage error, or -1 to go on. */
int search_opts_setting(const char *cmd, const search_opts *o,
                        const search_space *sp, search_constraints *k);

/* The latency model's options (--cache, --clock); the CPU clock times one
 * thread, so it needs threads == 1 (exit status 2 after saying so, or -1
 * to go on). */
int search_opts_latency(const char *cmd, const search_opts *o,
                        int64_t threads, search_latency_opts *lo);

#endif

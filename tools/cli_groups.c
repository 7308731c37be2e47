/* cli_groups.c — the shared option groups (see cli_groups.h). Each init
 * fills the group's table with the entries the mask asks for, pointing into
 * the group's own struct, and ends it with {0}. */
#include "tools/cli_groups.h"

#include <string.h>

/* Appends {name, kind, dest} to t[*n] when the mask has bit. */
static void add(cli_option *t, size_t *n, unsigned which, unsigned bit,
                const char *name, cli_kind kind, void *dest)
{
    if (which & bit)
        t[(*n)++] = (cli_option){name, 0, kind, dest};
}

void cli_runtime_init(cli_runtime *r, unsigned which,
                      const char *precision_bad)
{
    memset(r, 0, sizeof *r);
    r->seq.min = r->batch.min = r->threads.min = 1;
    for (int p = 0; p < IR_PRECISION_COUNT; p++)
        r->precisions[p] = (cli_name){ir_precision_name((ir_precision)p), p};
    r->precision = (cli_enum){-1, r->precisions, precision_bad};
    size_t n = 0;
    cli_option *t = r->options;
    add(t, &n, which, CLI_RT_SEQ, "seq", CLI_INT, &r->seq);
    add(t, &n, which, CLI_RT_BATCH, "batch", CLI_INT, &r->batch);
    add(t, &n, which, CLI_RT_THREADS, "threads", CLI_INT, &r->threads);
    add(t, &n, which, CLI_RT_PRECISION, "precision", CLI_ENUM, &r->precision);
}

void cli_data_init(cli_data *g, unsigned which)
{
    memset(g, 0, sizeof *g);
    g->limit.min = g->dev_limit.min = g->max_seq.min = 1;
    size_t n = 0;
    cli_option *t = g->options;
    add(t, &n, which, CLI_DATA_TASK, "task", CLI_VALUE, &g->task);
    add(t, &n, which, CLI_DATA_DATA, "data", CLI_VALUE, &g->data);
    add(t, &n, which, CLI_DATA_VOCAB, "vocab", CLI_VALUE, &g->vocab);
    add(t, &n, which, CLI_DATA_TOKENIZER, "tokenizer", CLI_VALUE,
        &g->tokenizer);
    add(t, &n, which, CLI_DATA_LIMIT, "limit", CLI_INT, &g->limit);
    add(t, &n, which, CLI_DATA_DEV_LIMIT, "dev-limit", CLI_INT, &g->dev_limit);
    add(t, &n, which, CLI_DATA_MAX_SEQ, "max-seq", CLI_INT, &g->max_seq);
    add(t, &n, which, CLI_DATA_SKIP_BAD_LINES, "skip-bad-lines", CLI_FLAG,
        &g->skip_bad_lines);
}

void cli_output_init(cli_output *o, unsigned which, const char *progress_bad)
{
    memset(o, 0, sizeof *o);
    for (int m = 0; m < PROGRESS_MODE_COUNT; m++)
        o->modes[m] = (cli_name){progress_mode_name((progress_mode)m), m};
    o->progress = (cli_enum){PROGRESS_AUTO, o->modes, progress_bad};
    size_t n = 0;
    add(o->options, &n, which, CLI_OUT_JSON, "json", CLI_FLAG, &o->json);
    add(o->options, &n, which, CLI_OUT_PROGRESS, "progress", CLI_ENUM,
        &o->progress);
}

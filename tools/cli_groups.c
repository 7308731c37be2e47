/* cli_groups.c — the shared option groups (see cli_groups.h). Each init
 * fills the group's table with the entries the mask asks for, pointing into
 * the group's own struct, and ends it with {0}. */
#include "tools/cli_groups.h"

#include <string.h>

#include "frontend/metrics.h"
#include "frontend/user_data.h"

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

void cli_user_data_init(cli_user_data *u)
{
    memset(u, 0, sizeof *u);
    u->metrics[0] = (cli_name){"accuracy", METRIC_KIND_ACC};
    u->metrics[1] = (cli_name){"f1", METRIC_KIND_ACC_F1};
    u->metrics[2] = (cli_name){"mcc", METRIC_KIND_MCC};
    u->metric = (cli_enum){-1, u->metrics,
                           "option --metric: unknown metric '%s' (accuracy, "
                           "f1 or mcc; --regression reports pearson and "
                           "spearmanr)"};
    cli_option *t = u->options;
    t[0] = (cli_option){"train", 0, CLI_VALUE, &u->train};
    t[1] = (cli_option){"dev", 0, CLI_VALUE, &u->dev};
    t[2] = (cli_option){"text-column", 0, CLI_VALUE, &u->text};
    t[3] = (cli_option){"text-pair-column", 0, CLI_VALUE, &u->pair};
    t[4] = (cli_option){"label-column", 0, CLI_VALUE, &u->label};
    t[5] = (cli_option){"regression", 0, CLI_FLAG, &u->regression};
    t[6] = (cli_option){"metric", 0, CLI_ENUM, &u->metric};
    t[7] = (cli_option){0};
}

void cli_user_data_usage(FILE *f)
{
    fprintf(f,
            "Your own data (no --task): CSV, TSV with a header, or JSON lines\n"
            "  --data DIR|FILE   a folder holding train.* and dev.* (.csv,\n"
            "                    .tsv, .jsonl or .json), or one file\n"
            "  --train FILE      the train split (its labels make the label\n"
            "                    set, sorted: numerically when all are\n"
            "                    integers, else by bytes)\n"
            "  --dev FILE        the dev split\n"
            "  --text-column C   the text (default: text)\n"
            "  --text-pair-column C  a second text (default: none)\n"
            "  --label-column C  the label: a string or an integer (default:\n"
            "                    label); with --regression a number\n"
            "  --regression      predict a number (metric: pearson,\n"
            "                    spearmanr)\n"
            "  --metric M        accuracy (default), f1 (two labels, the\n"
            "                    second positive) or mcc\n");
}

bool cli_user_data_given(const cli_user_data *u)
{
    return u && (u->train || u->dev || u->text || u->pair || u->label ||
                 u->regression || u->metric.value >= 0);
}

int cli_task_open(const char *cmd, const char *task_s, const char *data,
                  const cli_user_data *u, bool skip_bad_lines,
                  const char *const *labels, size_t n_labels,
                  const glue_task **task, glue_task **owned)
{
    *task = NULL;
    *owned = NULL;
    if (task_s) {
        if (cli_user_data_given(u)) {
            cli_error("%s: --train, --dev, --text-column, --text-pair-column, "
                      "--label-column, --regression and --metric are for your "
                      "own data, without --task (--task names a GLUE task)",
                      cmd);
            return 2;
        }
        if (!(*task = glue_task_lookup(task_s))) {
            cli_error("%s: --task '%s' is not a GLUE task (%s); for your own "
                      "data leave --task out and name the columns", cmd,
                      task_s, glue_task_names());
            return 2;
        }
        return 0;
    }
    if (!u) {
        cli_error("%s: --task is required", cmd);
        return 2;
    }
    if (!data && !u->train && !u->dev) {
        cli_error("%s: needs --task T --data DIR (GLUE), or your own data: "
                  "--data DIR, or --train FILE --dev FILE", cmd);
        return 2;
    }
    user_data_spec sp = {.data = data, .train = u->train, .dev = u->dev,
                         .text_column = u->text,
                         .text_pair_column = u->pair,
                         .label_column = u->label,
                         .regression = u->regression,
                         .metric = u->metric.value, .labels = labels,
                         .n_labels = n_labels,
                         .skip_bad_lines = skip_bad_lines,
                         .offer_skip = true};
    ir_diag d;
    ir_diag_init(&d);
    if (user_task_open(&sp, owned, &d) != IR_OK) {
        ir_diag_prefix(&d, "%s", cmd);
        return cli_fail(&d);
    }
    *task = *owned;
    return 0;
}

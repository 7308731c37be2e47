/* cli_groups.h — the options several commands share, each defined once: a
 * command includes a group's table with a CLI_GROUP entry (tools/cli.h)
 * and reads the values from the group's struct after cli_parse. A group
 * holds only the options the command asks for (the `which` mask), so each
 * command still takes exactly the options its usage text lists.
 *
 *     cli_runtime rt;
 *     cli_runtime_init(&rt, CLI_RT_THREADS | CLI_RT_PRECISION,
 *                      CLI_PRECISION_UNKNOWN);
 *     cli_option opts[] = {
 *         {"output-dir", 0, CLI_VALUE, &out_dir},
 *         {"runtime group", 0, CLI_GROUP, rt.options},
 *         {0},
 *     };
 *     ... cli_parse(...) ...
 *     if (rt.threads.value) ro.threads = (int)rt.threads.value; // 0: not given
 *
 * Counts are positive (the message for anything else: "option --NAME
 * expects a positive integer, got 'X'"), so 0 marks "not given"; an enum
 * not given is -1 (precision) or its default (progress). Where the
 * commands word a bad enum differently, the command passes its message.
 * A group's table points into its own struct: initialise the struct where
 * it stays (a local of the command), do not copy it.
 */
#ifndef DISTILC_TOOLS_CLI_GROUPS_H
#define DISTILC_TOOLS_CLI_GROUPS_H

#include "backend/rt.h"
#include "frontend/glue.h"
#include "tools/cli.h"
#include "tools/progress.h"

/* The message most commands give for a bad --precision. */
#define CLI_PRECISION_UNKNOWN                                                 \
    "option --precision: unknown precision '%s' (fp32, bf16 or int8)"
/* ... and for a bad --progress (search, latency-model). */
#define CLI_PROGRESS_UNKNOWN                                                  \
    "option --progress: unknown mode '%s' (auto, bar, json, off)"

/* ---- the runtime setting: --seq N --batch N --threads N --precision P ---- */
enum {
    CLI_RT_SEQ = 1 << 0,
    CLI_RT_BATCH = 1 << 1,
    CLI_RT_THREADS = 1 << 2,
    CLI_RT_PRECISION = 1 << 3,
};
typedef struct cli_runtime {
    cli_int seq, batch, threads; /* 0: not given */
    cli_enum precision;          /* an ir_precision; -1: not given */
    cli_name precisions[IR_PRECISION_COUNT + 1];
    cli_option options[5];
} cli_runtime;
/* precision_bad: the command's message for a bad --precision. */
void cli_runtime_init(cli_runtime *r, unsigned which,
                      const char *precision_bad);

/* ---- the data: --task --data --vocab --tokenizer --limit --dev-limit
 * --max-seq --skip-bad-lines ------------------------------------------------ */
enum {
    CLI_DATA_TASK = 1 << 0,
    CLI_DATA_DATA = 1 << 1,
    CLI_DATA_VOCAB = 1 << 2,
    CLI_DATA_TOKENIZER = 1 << 3,
    CLI_DATA_LIMIT = 1 << 4,
    CLI_DATA_DEV_LIMIT = 1 << 5,
    CLI_DATA_MAX_SEQ = 1 << 6,
    CLI_DATA_SKIP_BAD_LINES = 1 << 7,
};
typedef struct cli_data {
    const char *task, *data, *vocab, *tokenizer; /* NULL: not given */
    cli_int limit, dev_limit, max_seq;           /* 0: not given */
    bool skip_bad_lines;
    cli_option options[9];
} cli_data;
void cli_data_init(cli_data *g, unsigned which);

/* ---- the user's own data (frontend/user_data.h): --train F --dev F
 * --text-column C --text-pair-column C --label-column C --regression
 * --metric M. Without --task, --data (a folder or file) and these make the
 * task; with --task, they are a usage error. -------------------------------- */
typedef struct cli_user_data {
    const char *train, *dev;             /* NULL: not given */
    const char *text, *pair, *label;     /* column names; NULL: defaults */
    bool regression;
    cli_enum metric;                     /* a metric_kind; -1: the default */
    cli_name metrics[4];
    cli_option options[8];
} cli_user_data;
void cli_user_data_init(cli_user_data *u);
/* Whether any of the group's options was given. */
bool cli_user_data_given(const cli_user_data *u);
/* The --help lines of the group (the same in every command). */
void cli_user_data_usage(FILE *f);

/* The task of a command that reads data: the GLUE task --task names (data
 * is then a GLUE folder or .tsv), or without --task the user's own, built
 * from data, u and (when known, else taken from train) the label set
 * `labels`. Prints the error and returns its exit status (2 for bad input
 * or usage), else 0 with *task set; *owned is the task to free with
 * user_task_free (NULL for a GLUE task). */
int cli_task_open(const char *cmd, const char *task_s, const char *data,
                  const cli_user_data *u, bool skip_bad_lines,
                  const char *const *labels, size_t n_labels,
                  const glue_task **task, glue_task **owned);

/* ---- what is printed: --json, --progress MODE ----------------------------- */
enum { CLI_OUT_JSON = 1 << 0, CLI_OUT_PROGRESS = 1 << 1 };
typedef struct cli_output {
    bool json;
    cli_enum progress; /* a progress_mode; PROGRESS_AUTO unless given */
    cli_name modes[PROGRESS_MODE_COUNT + 1];
    cli_option options[3];
} cli_output;
/* progress_bad: the command's message for a bad --progress. */
void cli_output_init(cli_output *o, unsigned which, const char *progress_bad);

#endif

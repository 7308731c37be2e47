/* cmd_eval.h — `distilc eval` and `distilc regress` (tools/cmd_eval.c,
 * tools/cmd_regress.c), and the helpers the two share. Called by
 * tools/main.c's dispatch with argv[0] = the subcommand name; each returns
 * the exit status: 0 ok, 1 failed (regress: a task dropped too far), 2 bad
 * input or usage.
 *
 * The two commands take the same evaluation options (tokenizer, split,
 * batching, backend, precision, threads, progress) through one table and
 * one parser, and open and run their models the same way:
 *
 *     evalcmd_options eo;
 *     evalcmd_options_init(&eo);
 *     cli_option own[] = {{.name = "task", .kind = CLI_VALUE, .dest = &task},
 *                         {0}};
 *     int rc = evalcmd_parse("eval", argc, argv, own, usage, &eo, pos, 1,
 *                            &npos);
 *     if (rc != CLI_OK) return rc == CLI_HELP ? 0 : rc;
 *     evalcmd_model m;
 *     if ((rc = evalcmd_model_open("eval", path, &eo, eo.rt.precision,
 *                                  &m)) != 0) return rc;
 *     rc = evalcmd_model_eval(&m, &ds, tok, &eo, "SST-2", &r);
 *     evalcmd_model_close(&m);
 */
#ifndef DISTILC_CMD_EVAL_H
#define DISTILC_CMD_EVAL_H

#include <stdbool.h>
#include <stdio.h>

#include "backend/engine.h"
#include "backend/rt.h"
#include "frontend/eval.h"
#include "frontend/glue.h"
#include "frontend/tokenizer.h"
#include "ir/ir.h"
#include "tools/cli.h"
#include "tools/cli_groups.h"
#include "tools/progress.h"

int cmd_eval(int argc, char **argv, ir_dist *dc);     /* dc: split across ranks */
int cmd_regress(int argc, char **argv, ir_dist *dc);

/* ---- shared by eval and regress (tools-internal) ------------------------ */

/* The evaluation options: the tables cli_parse fills (the data, runtime
 * and output groups, tools/cli_groups.h, and three of their own), then the
 * library's options evalcmd_parse makes of them. */
typedef struct evalcmd_options {
    const char *split_s;  /* --split as given ("dev") */
    const char *backend;  /* --backend as given (NULL: not given) */
    bool no_lower;
    cli_data data;        /* --vocab --tokenizer --limit --max-seq
                             --skip-bad-lines */
    cli_runtime runtime;  /* --batch --threads --precision */
    cli_output output;    /* --progress */
    cli_option options[7];
    /* parsed */
    const char *vocab, *tokenizer; /* NULL: not given */
    glue_split split;      /* --split (dev) */
    glue_load_opts load;   /* --limit, --skip-bad-lines */
    eval_options eval;     /* --max-seq, --batch */
    progress_mode progress;
    rt_options rt;         /* --precision (fp32), --threads (0: all cores) */
    ir_dist *dist;         /* split across ranks under mpirun (NULL: one
                              process); rank 0 alone shows progress */
} evalcmd_options;

/* Makes o's option tables (before the command's own table, which may use
 * o->runtime.precisions). o must stay where it is: the tables point into
 * it. */
void evalcmd_options_init(evalcmd_options *o);
/* Parses a command line with the command's own options `own` (ended by
 * {0}) and o's shared ones, then checks the shared values (a precision or
 * thread count with --backend ref, an unknown backend, --max-seq below 2,
 * a missing --vocab file, ... are usage errors naming the option). Returns
 * CLI_OK to go on; CLI_HELP after printing usage(stdout) (the command exits
 * 0); or an exit status (2) after printing the usage error naming the
 * option. */
int evalcmd_parse(const char *cmd, int argc, char **argv,
                  const cli_option *own, void (*usage)(FILE *),
                  evalcmd_options *o, const char **positional,
                  int max_positional, int *n_positional);
/* The --help lines for the shared options but --precision, whose meaning
 * each command states itself (the same text in both commands). */
void evalcmd_options_usage(FILE *f);
/* --backend ref was given. */
bool evalcmd_backend_is_ref(const evalcmd_options *o);

/* A model ready for evaluation on the backend the options chose:
 * --backend onednn: the compiled encoder runtime (exit 2 naming the node
 * when the graph is not an encoder it can lower); ref: the reference
 * interpreter; not given: onednn when the graph lowers, else ref with a
 * note on stderr (but a precision other than fp32 is never dropped
 * silently: that is an error). */
typedef struct evalcmd_model {
    const char *path;
    ir_precision precision;
    engine *eng;          /* the runtime or the interpreter (backend/engine.h) */
} evalcmd_model;

/* Loads and prepares path with precision prec (exit status, 0 ok; on
 * failure m is closed). */
int evalcmd_model_open(const char *cmd, const char *path,
                       const evalcmd_options *o, ir_precision prec,
                       evalcmd_model *m);
/* Evaluates m on ds with a progress reporter labelled `label` (exit
 * status; errors name the model's path). */
int evalcmd_model_eval(evalcmd_model *m, const glue_dataset *ds,
                       const tok_tokenizer *tok, const evalcmd_options *o,
                       const char *label, eval_result *r);
/* The label names a model made by distilc keeps in its metadata
 * (frontend/user_data.h: TASK_LABELS_META), or none (*names NULL); free
 * them with task_labels_free. Exit status (the model's load error). */
int evalcmd_model_labels(const char *path, char ***names, size_t *n);
/* "onednn" or "ref". */
const char *evalcmd_model_backend(const evalcmd_model *m);
void evalcmd_model_close(evalcmd_model *m);

/* The tokenizer from --vocab or --tokenizer; with neither, vocab.txt or
 * tokenizer.json beside the model (Hugging Face's folder layout). Returns
 * an exit status (0 ok) after printing the error. */
int evalcmd_load_tokenizer(const char *cmd, const char *vocab,
                           const char *json, const char *model_path,
                           tok_tokenizer **out);
/* Same, with --no-lower (cased vocab.txt: no lower-casing, no accent
 * stripping). */
int evalcmd_load_tokenizer_opts(const char *cmd, const char *vocab,
                                const char *json, const char *model_path,
                                bool no_lower, tok_tokenizer **out);
/* With --skip-bad-lines, the lines a load skipped: "distilc: CMD: warning:
 * PATH: skipped N malformed lines (first: line L: reason)" (nothing when
 * none were). */
void evalcmd_note_skipped(const char *cmd, const glue_dataset *ds);
/* Usage check that a path the user named exists: prints "CMD: --OPT PATH:
 * reason" and returns 2 when it does not (0 when it does). */
int evalcmd_check_path(const char *cmd, const char *opt, const char *path);
/* Writes a metric set as a JSON object {"accuracy":0.8,...} (NaN: null). */
void evalcmd_json_metrics(FILE *f, const metric_set *ms);
/* A double as JSON: %.17g, or null when not finite
 * (json_write_number(f, v, 17)). */
void evalcmd_json_number(FILE *f, double v);

#endif

/* cmd_eval.h — `distilc eval` and `distilc regress` (tools/cmd_eval.c,
 * tools/cmd_regress.c), and the helpers the two share. Called by
 * tools/main.c's dispatch with argv[0] = the subcommand name; each returns
 * the exit status: 0 ok, 1 failed (regress: a task dropped too far), 2 bad
 * input or usage. */
#ifndef DISTILC_CMD_EVAL_H
#define DISTILC_CMD_EVAL_H

#include <stdbool.h>
#include <stdio.h>

#include "frontend/eval.h"
#include "frontend/glue.h"
#include "frontend/tokenizer.h"
#include "ir/ir.h"
#include "tools/progress.h"

int cmd_eval(int argc, char **argv);
int cmd_regress(int argc, char **argv);

/* ---- shared by eval and regress (tools-internal) ------------------------ */

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
/* --backend for regress: "ref" is 0; anything else prints why and returns
 * 2 (eval chooses its backend itself, see cmd_eval.c). */
int evalcmd_check_backend(const char *cmd, const char *backend);
/* Loads an ONNX model for evaluation (exit status, 0 ok). */
int evalcmd_load_model(const char *cmd, const char *path, ir_graph **out);
/* Evaluates model g on ds with a progress reporter labelled `label`. */
int evalcmd_run(const char *cmd, ir_graph *g, const char *model_path,
                const glue_dataset *ds, const tok_tokenizer *tok,
                const eval_options *o, progress_mode pm, const char *label,
                eval_result *r);
/* Usage check that a path the user named exists: prints "CMD: --OPT PATH:
 * reason" and returns 2 when it does not (0 when it does). */
int evalcmd_check_path(const char *cmd, const char *opt, const char *path);
/* Writes a metric set as a JSON object {"accuracy":0.8,...} (NaN: null). */
void evalcmd_json_metrics(FILE *f, const metric_set *ms);
/* A double as JSON: %.17g, or null when not finite. */
void evalcmd_json_number(FILE *f, double v);

#endif

/* model_open.h — the first steps of the commands that take one model:
 * parse the options around the one MODEL.onnx argument (build, run, bench,
 * inspect, export-onnx), then (build, bench) load the model, rewrite it
 * with passes "default,fuse" and lift the BERT encoder the backend lowers
 * (passes/encoder_from_onnx.h).
 *
 *     const char *model;
 *     int rc = model_args_parse("bench", argc, argv, opts, usage, &model);
 *     if (rc != MODEL_ARGS_GO)
 *         return rc;                  // 0 after --help, 2 after a usage error
 *     ...
 *     encoder_open_options mo = {.prepare = "onednn backend: preparing the graph",
 *                                .lift = "onednn backend: cannot lower this graph"};
 *     ir_encoder *e;
 *     if (encoder_from_onnx(model, &mo, &e, &d) != IR_OK)
 *         return cli_fail(&d);
 *
 * The message prefixes are the caller's, so each command keeps naming
 * itself and the model the way its users and tests know.
 */
#ifndef DISTILC_TOOLS_MODEL_OPEN_H
#define DISTILC_TOOLS_MODEL_OPEN_H

#include <stdio.h>

#include "ir/encoder.h"
#include "ir/ir.h"
#include "passes/encoder_from_onnx.h"
#include "tools/cli.h"

/* model_args_parse's "carry on" value; every other value is an exit status. */
enum { MODEL_ARGS_GO = -1 };

/* cli_parse for a command taking exactly one MODEL.onnx. Prints usage to
 * stdout on --help (returns 0), names the fault on stderr for a usage error
 * or a missing/extra MODEL argument (returns 2, "CMD: expected one
 * MODEL.onnx, see 'distilc CMD --help'"); else returns MODEL_ARGS_GO with
 * *model set. */
int model_args_parse(const char *cmd, int argc, char **argv,
                     const cli_option *opts, void (*usage)(FILE *),
                     const char **model);

#endif

/* model_open.h — the first steps of the commands that take one model:
 * parse the options around the one MODEL.onnx argument (build, run, bench,
 * inspect, export-onnx), then (build, bench) load the model, rewrite it with passes "default,fuse" and lift the
 * BERT encoder the backend lowers.
 *
 *     const char *model;
 *     int rc = model_args_parse("bench", argc, argv, opts, usage, &model);
 *     if (rc != MODEL_ARGS_GO)
 *         return rc;                  // 0 after --help, 2 after a usage error
 *     ...
 *     model_open_options mo = {.prepare = "onednn backend: preparing the graph",
 *                              .lift = "onednn backend: cannot lower this graph"};
 *     ir_encoder *e;
 *     if (model_open_encoder(model, &mo, &e, &d) != IR_OK)
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

typedef struct model_open_options {
    /* Runs on the loaded graph before any pass (NULL: none); an error it
     * returns is prefixed with check_prefix. */
    ir_status (*check)(const ir_graph *g, void *user, ir_diag *d);
    void *user;
    const char *check_prefix;
    const char *prepare;    /* prefix when the passes fail */
    const char *lift;       /* prefix when ir_encoder_lift fails */
} model_open_options;

/* Loads path, runs o->check, passes "default,fuse" and ir_encoder_lift.
 * The graph is freed as soon as the encoder (a copy) is lifted, so at most
 * two copies of the weights are alive at once. *e is NULL on failure; the
 * loader's and passes' statuses are passed on (IR_ERR_UNSUPPORTED names the
 * layer and node that broke the BERT pattern). */
ir_status model_open_encoder(const char *path, const model_open_options *o,
                             ir_encoder **e, ir_diag *d);

#endif

/* model_open.c — the model argument and the load-passes-lift preamble of
 * the one-model commands (see model_open.h). */
#include "tools/model_open.h"

#include "frontend/onnx.h"
#include "passes/pass.h"

int model_args_parse(const char *cmd, int argc, char **argv,
                     const cli_option *opts, void (*usage)(FILE *),
                     const char **model)
{
    const char *pos[1];
    int npos = 0;
    *model = NULL;
    int rc = cli_parse(cmd, argc, argv, opts, pos, 1, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    if (npos != 1) {
        cli_error("%s: expected one MODEL.onnx, see 'distilc %s --help'", cmd,
                  cmd);
        return 2;
    }
    *model = pos[0];
    return MODEL_ARGS_GO;
}

ir_status model_open_encoder(const char *path, const model_open_options *o,
                             ir_encoder **e, ir_diag *d)
{
    *e = NULL;
    ir_graph *g = NULL;
    ir_status s = onnx_load_file(path, NULL, &g, d);
    if (s == IR_OK && o->check && (s = o->check(g, o->user, d)) != IR_OK)
        ir_diag_prefix(d, "%s", o->check_prefix);
    if (s == IR_OK) {
        pass_ctx ctx;
        pass_ctx_init(&ctx, d);
        s = pass_run_list(g, "default,fuse", &ctx);
        if (s != IR_OK)
            ir_diag_prefix(d, "%s", o->prepare);
    }
    if (s == IR_OK) {
        s = ir_encoder_lift(g, e, d);
        if (s != IR_OK)
            ir_diag_prefix(d, "%s", o->lift);
    }
    ir_graph_free(g);
    return s;
}

/* model_open.c — the model argument of the one-model commands (see
 * model_open.h). */
#include "tools/model_open.h"

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

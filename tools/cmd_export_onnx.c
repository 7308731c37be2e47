/* cmd_export_onnx.c — `distilc export-onnx MODEL.onnx --passes LIST -o
 * OUT.onnx`: load, rewrite with the given passes, lower distilc's internal
 * ops back to standard ONNX ("lower-internal", when the pass manager has
 * it) and save, so any ONNX runtime can run the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "ir/ir.h"
#include "passes/pass.h"
#include "tools/cli.h"
#include "tools/cmds.h"
#include "tools/model_open.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc export-onnx MODEL.onnx [--passes LIST] -o OUT.onnx\n"
            "                           [--dump-after NAME] [--external-data]\n"
            "\n"
            "Loads the model, runs the passes in order, lowers distilc's own\n"
            "ops to standard ONNX, and writes OUT.onnx.\n"
            "\n"
            "  --passes LIST      comma-separated pass names (default: default,\n"
            "                     which is infer-shapes,fold,simplify-shapes,\n"
            "                     fold,dce)\n"
            "  -o, --output FILE  where to write the model\n"
            "  --dump-after NAME  print the graph after pass NAME (comma list,\n"
            "                     or 'all') on stdout\n"
            "  --external-data    write weights to OUT.onnx.data beside it\n"
            "  --help             this text\n"
            "\n");
    int n = 0;
    const pass_info *all = pass_list_all(&n);
    if (n > 0) {
        fprintf(f, "Passes:\n");
        for (int i = 0; i < n; i++)
            fprintf(f, "  %-18s %s\n", all[i].name,
                    all[i].summary ? all[i].summary : "");
        fprintf(f, "\n");
    }
    fprintf(f, "Exit status: 0 ok, 1 failure, 2 bad model or usage.\n");
}

int cmd_export_onnx(int argc, char **argv)
{
    const char *passes = "default", *out = NULL, *dump = NULL;
    bool external = false;
    cli_option opts[] = {
        {.name = "passes", .kind = CLI_VALUE, .dest = &passes},
        {.name = "output", .short_name = 'o', .kind = CLI_VALUE, .dest = &out},
        {.name = "dump-after", .kind = CLI_VALUE, .dest = &dump},
        {.name = "external-data", .kind = CLI_FLAG, .dest = &external},
        {0},
    };
    const char *model;
    int rc = model_args_parse("export-onnx", argc, argv, opts, usage, &model);
    if (rc != MODEL_ARGS_GO)
        return rc;
    if (!out) {
        cli_error("export-onnx: option -o/--output is required");
        return 2;
    }

    if (!cli_check_input_file("export-onnx", "model", model) ||
        !cli_check_output_file("export-onnx", "-o", out))
        return 2;
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    if (onnx_load_file(model, NULL, &g, &d) != IR_OK)
        return cli_fail(&d);
    int status = 0;
    pass_ctx ctx;
    pass_ctx_init(&ctx, &d);
    ctx.verify = true;
    ctx.dump_after = dump;
    ctx.dump_out = stdout;
    if (*passes && pass_run_list(g, passes, &ctx) != IR_OK) {
        status = cli_fail(&d);
        goto done;
    }
    if (pass_find("lower-internal") &&
        pass_run_list(g, "lower-internal", &ctx) != IR_OK) {
        status = cli_fail(&d);
        goto done;
    }
    onnx_save_opts so = {.external_data = external};
    if (onnx_save_file(g, out, &so, &d) != IR_OK)
        status = cli_fail(&d);
done:
    ir_graph_free(g);
    return status;
}

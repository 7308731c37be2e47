/* cmd_build.c — `distilc build MODEL.onnx -o DIR`: compiles a BERT-style
 * classifier into a standalone program DIR/model (oneDNN runtime, weights
 * in DIR/model.weights) that reads token ids as JSON lines on stdin and
 * prints logits. The steps: load, passes "default,fuse", lift the encoder
 * (ir_encoder_lift), then backend/emit writes and compiles the folder.
 *
 * Exit 2 when the model is not one the backend can lower (the message names
 * the layer and node), for bad options or a missing model file; exit 1 when
 * the folder cannot be written or the C compiler is missing or fails. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emit.h"
#include "distill/quantize.h"
#include "ir/encoder.h"
#include "tools/cli.h"
#include "tools/cmds.h"
#include "tools/model_open.h"
#include "tools/progress.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc build MODEL.onnx -o DIR [--precision fp32|bf16|int8]\n"
            "                     [--threads N] [--cc CC] [--cflags FLAGS]\n"
            "                     [--calibrate FILE [--calib-lines N]]\n"
            "                     [--no-compile] [--progress MODE]\n"
            "\n"
            "Compiles a BERT-style classifier (input_ids, attention_mask\n"
            "[, token_type_ids] -> logits) into a standalone program:\n"
            "  DIR/model          the program: JSON lines of token ids on stdin,\n"
            "                     {\"logits\":[...],\"label\":K} lines on stdout\n"
            "                     (DIR/model --help); links libc, libm, libdnnl,\n"
            "                     libopenblas\n"
            "  DIR/model.weights  its weights (mmapped, validated on load)\n"
            "  DIR/model.c, model.h, rt/, Makefile   its sources (make rebuilds)\n"
            "\n"
            "  -o, --output DIR   output folder (created if needed)\n"
            "  --precision P      the program's default precision: fp32 (default),\n"
            "                     bf16, or int8 (dynamic activation scales, or\n"
            "                     static ones with --calibrate)\n"
            "  --calibrate FILE   int8: calibrate activation scales on FILE, JSON\n"
            "                     lines as the program reads them (e.g. the output\n"
            "                     of distilc tokenize); stored in model.weights\n"
            "  --calib-lines N    use the first N lines of FILE (default: all)\n"
            "  --threads N        the program's default thread count (0: all cores)\n"
            "  --cc CC            C compiler (default: $CC, else cc)\n"
            "  --cflags FLAGS     optimisation flags (default: -O2)\n"
            "  --no-compile       write the sources only\n"
            "  --progress MODE    auto (default), bar, json, off (on stderr)\n"
            "  --help             this text\n"
            "\n"
            "Prints a JSON summary on stdout. Exit status: 0 ok, 1 failure\n"
            "(folder not writable, no or failing C compiler), 2 bad model,\n"
            "input or usage.\n");
}

/* The model's interface must be the one the program feeds. */
static ir_status check_interface(const ir_graph *g, void *user, ir_diag *d)
{
    bool *has_types = user; /* set when the model takes token_type_ids */
    *has_types = false;
    bool has_ids = false;
    for (int k = 0; k < g->n_inputs; k++) {
        const char *n = g->inputs[k]->name;
        if (!strcmp(n, "input_ids"))
            has_ids = true;
        else if (!strcmp(n, "token_type_ids"))
            *has_types = true;
        else if (strcmp(n, "attention_mask"))
            return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                               "input '%s' is not one of input_ids, "
                               "attention_mask, token_type_ids: distilc build "
                               "compiles BERT-style classifiers", n);
    }
    if (!has_ids)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "the model has no input_ids input: distilc build "
                           "compiles BERT-style classifiers");
    if (g->n_outputs != 1)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "the model has %d outputs; distilc build compiles "
                           "one (logits)", g->n_outputs);
    return IR_OK;
}

static void command_line(int argc, char **argv, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "distilc");
    for (int i = 0; i < argc && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, " %s", argv[i]);
}

int cmd_build(int argc, char **argv)
{
    const char *out = NULL, *prec_s = NULL, *threads_s = NULL, *cc = NULL;
    const char *cflags = NULL, *progress_s = NULL, *calib = NULL;
    const char *calib_lines_s = NULL;
    bool no_compile = false;
    cli_option opts[] = {
        {"output", 'o', CLI_VALUE, &out},
        {"precision", 0, CLI_VALUE, &prec_s},
        {"threads", 0, CLI_VALUE, &threads_s},
        {"cc", 0, CLI_VALUE, &cc},
        {"cflags", 0, CLI_VALUE, &cflags},
        {"no-compile", 0, CLI_FLAG, &no_compile},
        {"progress", 0, CLI_VALUE, &progress_s},
        {"calibrate", 0, CLI_VALUE, &calib},
        {"calib-lines", 0, CLI_VALUE, &calib_lines_s},
        {NULL, 0, CLI_FLAG, NULL},
    };
    const char *model;
    int rc = model_args_parse("build", argc, argv, opts, usage, &model);
    if (rc != MODEL_ARGS_GO)
        return rc;
    if (!out || !*out) {
        cli_error("build: -o DIR is required, see 'distilc build --help'");
        return 2;
    }
    emit_options eo;
    emit_options_default(&eo);
    if (prec_s && !rt_precision_parse(prec_s, &eo.precision)) {
        cli_error("build: --precision '%s' is not one of fp32, bf16, int8, see "
                  "'distilc build --help'", prec_s);
        return 2;
    }
    if (threads_s) {
        char *end;
        long t = strtol(threads_s, &end, 10);
        if (end == threads_s || *end || t < 0 || t > 4096) {
            cli_error("build: --threads '%s' is not a count (0 = all cores), "
                      "see 'distilc build --help'", threads_s);
            return 2;
        }
        eo.threads = (int)t;
    }
    progress_mode pm = PROGRESS_AUTO;
    if (progress_s && !progress_mode_parse(progress_s, &pm)) {
        cli_error("build: --progress '%s' is not one of auto, bar, json, off",
                  progress_s);
        return 2;
    }
    int64_t calib_lines = 0;
    if (calib_lines_s &&
        !cli_parse_positive("build", "calib-lines", calib_lines_s, &calib_lines))
        return 2;
    if (calib && eo.precision != RT_INT8) {
        cli_error("build: --calibrate applies to --precision int8, see "
                  "'distilc build --help'");
        return 2;
    }
    if (calib_lines_s && !calib) {
        cli_error("build: --calib-lines needs --calibrate FILE");
        return 2;
    }
    if (calib && !cli_check_input_file("build", "calibration file", calib))
        return 2;
    if (cc && !*cc) {
        cli_error("build: --cc is empty: no C compiler named");
        return 2;
    }
    if (!cli_check_input_file("build", "model", model))
        return 2;
    char cmdline[2048];
    command_line(argc, argv, cmdline, sizeof cmdline);
    eo.cc = cc;
    eo.cflags = cflags;
    eo.compile = !no_compile;
    eo.command = cmdline;
    eo.source = model;

    progress p;
    progress_init(&p, stderr, "build", eo.compile ? 4 : 3, pm);
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder *e = NULL;
    bool has_types = true;
    char check_msg[4200], prepare_msg[4200], lift_msg[4200];
    snprintf(check_msg, sizeof check_msg, "%s: cannot build", model);
    snprintf(prepare_msg, sizeof prepare_msg, "%s: preparing the graph", model);
    snprintf(lift_msg, sizeof lift_msg, "%s: cannot build: the backend lowers "
             "BERT-style encoders only", model);
    encoder_open_options mo = {.check = check_interface, .user = &has_types,
                             .check_prefix = check_msg,
                             .prepare = prepare_msg, .lift = lift_msg};
    ir_status s = encoder_from_onnx(model, &mo, &e, &d);
    if (s == IR_OK)
        progress_update(&p, 1);
    float *scales = NULL;
    size_t calib_tokens = 0;
    if (s == IR_OK && calib) {
        scales = calloc((size_t)e->cfg.layers * 4, sizeof *scales);
        s = scales ? emit_calibrate_file(e, calib, calib_lines, scales,
                                         &calib_tokens, &d)
                   : ir_diag_set(&d, IR_ERR_NOMEM, "out of memory");
        eo.act_scales = scales;
    }
    emit_result r;
    if (s == IR_OK) {
        progress_update(&p, 2);
        eo.token_types = has_types;
        /* Write first (step 3), then compile (step 4). */
        eo.compile = false;
        s = emit_encoder(e, out, &eo, &r, &d);
        if (s == IR_OK && !no_compile) {
            progress_update(&p, 3);
            eo.compile = true;
            s = emit_compile(out, &eo, &d);
            if (s == IR_OK) {
                snprintf(r.program, sizeof r.program, "%s/model", out);
                FILE *f = fopen(r.program, "rb");
                if (f) {
                    fseek(f, 0, SEEK_END);
                    r.program_bytes = ftell(f);
                    fclose(f);
                }
            }
        }
    }
    if (s != IR_OK) {
        progress_finish(&p);
        ir_encoder_free(e);
        free(scales);
        return cli_fail(&d);
    }
    progress_update(&p, p.total);
    progress_finish(&p);
    printf("{\"output\":");
    cli_json_string(stdout, out);
    printf(",\"program\":");
    if (no_compile)
        printf("null");
    else
        cli_json_string(stdout, r.program);
    printf(",\"weights\":");
    cli_json_string(stdout, r.weights);
    printf(",\"weights_bytes\":%" PRId64 ",\"program_bytes\":%" PRId64
           ",\"weights_hash\":\"%016" PRIx64 "\",\"precision\":\"%s\","
           "\"threads\":%d,\"calibrated_tokens\":%zu,"
           "\"token_types\":%s,\"hidden\":%" PRId64
           ",\"layers\":%" PRId64 ",\"labels\":%" PRId64 "}\n",
           r.weights_bytes, r.program_bytes, r.hash,
           rt_precision_name(eo.precision), eo.threads, calib_tokens,
           has_types ? "true" : "false", e->cfg.hidden, e->cfg.layers,
           e->cfg.labels);
    ir_encoder_free(e);
    free(scales);
    return 0;
}

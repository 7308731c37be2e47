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

#include "backend/calibrate.h"
#include "backend/emit.h"
#include "ir/encoder.h"
#include "ir/input_role.h"
#include "tools/cli.h"
#include "tools/cli_groups.h"
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
            "[, token_type_ids] -> logits; TF Hub's and tf2onnx's names for\n"
            "them too) into a standalone program, which takes Hugging Face's:\n"
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
    int idx[IR_INPUT_ROLE_COUNT];
    if (ir_graph_input_roles(g, "distilc build (BERT-style classifiers)", idx, d) != IR_OK)
        return d->status = IR_ERR_UNSUPPORTED;
    *has_types = idx[IR_INPUT_TYPES] >= 0;
    if (g->n_outputs != 1)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "the model has %d outputs; distilc build compiles "
                           "one (logits)", g->n_outputs);
    return IR_OK;
}

/* The command line, parsed and checked. */
typedef struct build_args {
    const char *model, *out, *calib;
    int64_t calib_lines;
    progress_mode progress;
    emit_options eo;
    char cmdline[2048];
} build_args;

/* Exit status, or MODEL_ARGS_GO with *a filled. */
static int build_args_parse(int argc, char **argv, build_args *a)
{
    const char *cc = NULL, *cflags = NULL;
    bool no_compile = false;
    cli_int threads = {-1, 0, 4096,
                       "--threads '%s' is not a count (0 = all cores), see "
                       "'distilc build --help'"};
    cli_int calib_lines = {0, 1, 0, NULL};
    a->out = a->calib = NULL;
    cli_runtime rt;
    cli_runtime_init(&rt, CLI_RT_PRECISION,
                     "--precision '%s' is not one of fp32, bf16, int8, see "
                     "'distilc build --help'");
    cli_output out;
    cli_output_init(&out, CLI_OUT_PROGRESS,
                    "--progress '%s' is not one of auto, bar, json, off");
    cli_option opts[] = {
        {"output", 'o', CLI_VALUE, &a->out},
        {"runtime group", 0, CLI_GROUP, rt.options},
        {"threads", 0, CLI_INT, &threads},
        {"cc", 0, CLI_VALUE, &cc},
        {"cflags", 0, CLI_VALUE, &cflags},
        {"no-compile", 0, CLI_FLAG, &no_compile},
        {"output group", 0, CLI_GROUP, out.options},
        {"calibrate", 0, CLI_VALUE, &a->calib},
        {"calib-lines", 0, CLI_INT, &calib_lines},
        {0},
    };
    int rc = model_args_parse("build", argc, argv, opts, usage, &a->model);
    if (rc != MODEL_ARGS_GO)
        return rc;
    if (!a->out || !*a->out) {
        cli_error("build: -o DIR is required, see 'distilc build --help'");
        return 2;
    }
    emit_options_default(&a->eo);
    if (rt.precision.value >= 0)
        a->eo.precision = (ir_precision)rt.precision.value;
    if (threads.value >= 0)
        a->eo.threads = (int)threads.value;
    a->calib_lines = calib_lines.value;
    a->progress = (progress_mode)out.progress.value;
    if (a->calib && a->eo.precision != IR_PRECISION_INT8) {
        cli_error("build: --calibrate applies to --precision int8, see "
                  "'distilc build --help'");
        return 2;
    }
    if (a->calib_lines && !a->calib) {
        cli_error("build: --calib-lines needs --calibrate FILE");
        return 2;
    }
    if (a->calib && !cli_check_input_file("build", "calibration file", a->calib))
        return 2;
    if (cc && !*cc) {
        cli_error("build: --cc is empty: no C compiler named");
        return 2;
    }
    if (!cli_check_input_file("build", "model", a->model) ||
        !cli_check_output_dir("build", "-o", a->out))
        return 2;
    cli_command_line(argc, argv, a->cmdline, sizeof a->cmdline);
    a->eo.cc = cc;
    a->eo.cflags = cflags;
    a->eo.compile = !no_compile;
    a->eo.command = a->cmdline;
    a->eo.source = a->model;
    return MODEL_ARGS_GO;
}

/* Steps 3 and 4: writes the folder, then (unless --no-compile) compiles
 * it, and fills r. */
static ir_status write_and_compile(const ir_encoder *e, build_args *a,
                                   progress *p, emit_result *r, ir_diag *d)
{
    bool compile = a->eo.compile;
    a->eo.compile = false;
    ir_status s = emit_encoder(e, a->out, &a->eo, r, d);
    if (s != IR_OK || !compile)
        return s;
    progress_update(p, 3);
    a->eo.compile = true;
    s = emit_compile(a->out, &a->eo, d);
    if (s != IR_OK)
        return s;
    snprintf(r->program, sizeof r->program, "%s/model", a->out);
    FILE *f = fopen(r->program, "rb");
    if (f) {
        fseek(f, 0, SEEK_END);
        r->program_bytes = ftell(f);
        fclose(f);
    }
    return IR_OK;
}

static void print_summary(const build_args *a, const ir_encoder *e,
                          const emit_result *r, size_t calib_tokens)
{
    printf("{\"output\":");
    cli_json_string(stdout, a->out);
    printf(",\"program\":");
    if (!a->eo.compile)
        printf("null");
    else
        cli_json_string(stdout, r->program);
    printf(",\"weights\":");
    cli_json_string(stdout, r->weights);
    printf(",\"weights_bytes\":%" PRId64 ",\"program_bytes\":%" PRId64
           ",\"weights_hash\":\"%016" PRIx64 "\",\"precision\":\"%s\","
           "\"threads\":%d,\"calibrated_tokens\":%zu,"
           "\"token_types\":%s,\"hidden\":%" PRId64
           ",\"layers\":%" PRId64 ",\"labels\":%" PRId64 "}\n",
           r->weights_bytes, r->program_bytes, r->hash,
           ir_precision_name(a->eo.precision), a->eo.threads, calib_tokens,
           a->eo.token_types ? "true" : "false", e->cfg.hidden, e->cfg.layers,
           e->cfg.labels);
}

int cmd_build(int argc, char **argv)
{
    build_args a;
    int rc = build_args_parse(argc, argv, &a);
    if (rc != MODEL_ARGS_GO)
        return rc;
    progress p;
    progress_init(&p, stderr, "build", a.eo.compile ? 4 : 3, a.progress);
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder *e = NULL;
    bool has_types = true;
    char check_msg[4200], prepare_msg[4200], lift_msg[4200];
    snprintf(check_msg, sizeof check_msg, "%s: cannot build", a.model);
    snprintf(prepare_msg, sizeof prepare_msg, "%s: preparing the graph",
             a.model);
    snprintf(lift_msg, sizeof lift_msg, "%s: cannot build: the backend lowers "
             "BERT-style encoders only", a.model);
    encoder_open_options mo = {.check = check_interface, .user = &has_types,
                             .check_prefix = check_msg,
                             .prepare = prepare_msg, .lift = lift_msg};
    ir_status s = encoder_from_onnx(a.model, &mo, &e, &d);
    if (s == IR_OK)
        progress_update(&p, 1);
    float *scales = NULL;
    size_t calib_tokens = 0;
    if (s == IR_OK && a.calib) {
        scales = calloc((size_t)e->cfg.layers * 4, sizeof *scales);
        s = scales ? emit_calibrate_file(e, a.calib, a.calib_lines, scales,
                                         &calib_tokens, &d)
                   : ir_diag_set(&d, IR_ERR_NOMEM, "out of memory");
        a.eo.act_scales = scales;
    }
    emit_result r;
    if (s == IR_OK) {
        progress_update(&p, 2);
        a.eo.token_types = has_types;
        s = write_and_compile(e, &a, &p, &r, &d);
    }
    if (s != IR_OK) {
        progress_finish(&p);
        ir_encoder_free(e);
        free(scales);
        return cli_fail(&d);
    }
    progress_update(&p, p.total);
    progress_finish(&p);
    print_summary(&a, e, &r, calib_tokens);
    ir_encoder_free(e);
    free(scales);
    return 0;
}

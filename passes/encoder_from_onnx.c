/* encoder_from_onnx.c — ONNX file or graph -> passes "default,fuse" ->
 * ir_encoder_lift, with the caller's message prefixes (see
 * encoder_from_onnx.h). */
#include "passes/encoder_from_onnx.h"

#include <stdio.h>
#include <string.h>

#include "frontend/onnx.h"
#include "passes/encoder_lift.h"
#include "passes/fuse.h"
#include "passes/pass.h"

/* Prefixes d's message with `prefix` when there is one; returns the status. */
static ir_status named(ir_status s, const char *prefix, ir_diag *d)
{
    if (s != IR_OK && prefix)
        ir_diag_prefix(d, "%s", prefix);
    return s;
}

ir_status encoder_from_graph(ir_graph *g, const encoder_open_options *o,
                             ir_encoder **out, ir_diag *d)
{
    static const encoder_open_options none = {0};
    if (!o)
        o = &none;
    *out = NULL;
    ir_status s = IR_OK;
    if (o->check && (s = named(o->check(g, o->user, d), o->check_prefix, d)) != IR_OK)
        return s;
    pass_ctx ctx;
    pass_ctx_init(&ctx, d);
    fuse_report notes = {0};
    ctx.fuse_notes = &notes;
    if ((s = named(pass_run_list(g, ENCODER_PASSES, &ctx), o->prepare, d)) != IR_OK)
        return s;
    s = ir_encoder_lift(g, out, d);
    if (s != IR_OK && notes.declined > 0 && d) {
        /* The lift's refusal is often a fusion's decline seen later. */
        char lift_msg[IR_DIAG_MSG_MAX];
        snprintf(lift_msg, sizeof lift_msg, "%s", d->msg);
        size_t n = strlen(notes.notes);
        if (n > 0 && notes.notes[n - 1] == '\n')
            notes.notes[n - 1] = '\0';
        ir_diag_set(d, s, "%s; the fusion passes declined %d match%s: %s",
                    lift_msg, notes.declined, notes.declined == 1 ? "" : "es",
                    notes.notes);
    }
    return named(s, o->lift, d);
}

ir_status encoder_from_onnx(const char *path, const encoder_open_options *o,
                            ir_encoder **out, ir_diag *d)
{
    *out = NULL;
    ir_graph *g = NULL;
    ir_status s = onnx_load_file(path, NULL, &g, d);
    if (s == IR_OK)
        s = encoder_from_graph(g, o, out, d);
    ir_graph_free(g);
    return s;
}

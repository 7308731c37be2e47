/* encoder_explain.c — the way from ONNX to an encoder (encoder_from_onnx.c)
 * run once more with its reports kept as data: the fusion passes' log and
 * the lift's refusal (see encoder_explain.h). */
#include "passes/encoder_explain.h"

#include <stdio.h>
#include <string.h>

#include "frontend/onnx.h"
#include "passes/encoder_from_onnx.h"
#include "passes/pass.h"

const char *encoder_explain_stage_name(encoder_explain_stage s)
{
    switch (s) {
    case ENCODER_EXPLAIN_OK: return "ok";
    case ENCODER_EXPLAIN_LOAD: return "load";
    case ENCODER_EXPLAIN_PASSES: return "passes";
    case ENCODER_EXPLAIN_LIFT: return "lift";
    }
    return "?";
}

static void explain_init(encoder_explain *ex)
{
    memset(ex, 0, sizeof *ex);
    ex->passes = ENCODER_PASSES;
    ex->lift.layer = -1;
}

/* A stage that stopped: its message, or the status when it was memory. */
static ir_status stopped(encoder_explain *ex, encoder_explain_stage stage,
                         ir_status s, ir_diag *own, ir_diag *d)
{
    if (s == IR_ERR_NOMEM) {
        if (d)
            *d = *own;
        return s;
    }
    ex->stage = stage;
    snprintf(ex->message, sizeof ex->message, "%s", own->msg);
    return IR_OK;
}

ir_status encoder_explain_graph(ir_graph *g, encoder_explain *ex, ir_diag *d)
{
    explain_init(ex);
    ir_diag own;
    ir_diag_init(&own);
    pass_ctx ctx;
    pass_ctx_init(&ctx, &own);
    ctx.fuse_log = &ex->fuse;
    ir_status s = pass_run_list(g, ENCODER_PASSES, &ctx);
    if (s != IR_OK)
        return stopped(ex, ENCODER_EXPLAIN_PASSES, s, &own, d);
    ir_encoder *e = NULL;
    s = ir_encoder_lift_why(g, &e, &ex->lift, &own);
    if (s != IR_OK)
        return stopped(ex, ENCODER_EXPLAIN_LIFT, s, &own, d);
    ex->cfg = e->cfg;
    ir_encoder_free(e);
    ex->stage = ENCODER_EXPLAIN_OK;
    return IR_OK;
}

ir_status encoder_explain_onnx(const char *path, encoder_explain *ex,
                               ir_diag *d)
{
    explain_init(ex);
    ir_diag own;
    ir_diag_init(&own);
    ir_graph *g = NULL;
    ir_status s = onnx_load_file(path, NULL, &g, &own);
    if (s != IR_OK)
        s = stopped(ex, ENCODER_EXPLAIN_LOAD, s, &own, d);
    else
        s = encoder_explain_graph(g, ex, d);
    ir_graph_free(g);
    return s;
}

void encoder_explain_free(encoder_explain *ex)
{
    fuse_log_free(&ex->fuse);
}

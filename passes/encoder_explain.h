/* encoder_explain.h — why a model does, or does not, become the encoder the
 * runtime, the trainer and the program work on: the same way as
 * encoder_from_onnx.h (load, passes "default,fuse", lift), kept as data —
 * every fusion pass's count and declined matches (passes/fuse.h: fuse_log)
 * and, when the lift refuses, the layer, node and expectation where it
 * stopped (passes/encoder_lift.h: ir_lift_refusal). `distilc inspect
 * --explain` prints it; nothing here prints.
 *
 *     encoder_explain ex;
 *     if (encoder_explain_onnx("model.onnx", &ex, &d) != IR_OK) ... (no memory)
 *     for (int i = 0; i < ex.fuse.n_passes; i++)
 *         ... ex.fuse.passes[i].pass, .fused, .declined, .declines[k].why ...
 *     if (ex.stage == ENCODER_EXPLAIN_LIFT)
 *         ... ex.lift.layer, ex.lift.node, ex.lift.expected ...
 *     encoder_explain_free(&ex);
 */
#ifndef DISTILC_PASSES_ENCODER_EXPLAIN_H
#define DISTILC_PASSES_ENCODER_EXPLAIN_H

#include "ir/encoder.h"
#include "ir/ir.h"
#include "passes/encoder_lift.h"
#include "passes/fuse.h"

/* Where the way to an encoder stopped. */
typedef enum encoder_explain_stage {
    ENCODER_EXPLAIN_OK,     /* lifted: cfg holds the encoder's config */
    ENCODER_EXPLAIN_LOAD,   /* the ONNX loader refused it: message */
    ENCODER_EXPLAIN_PASSES, /* a pass of "default,fuse" failed: message */
    ENCODER_EXPLAIN_LIFT,   /* the lift refused: lift and message */
} encoder_explain_stage;

typedef struct encoder_explain {
    const char *passes;    /* the pipeline run: "default,fuse" */
    fuse_log fuse;         /* the fusion passes that ran, in order */
    encoder_explain_stage stage;
    char message[IR_DIAG_MSG_MAX]; /* the stopping stage's own message */
    ir_lift_refusal lift;  /* ENCODER_EXPLAIN_LIFT */
    ir_encoder_config cfg; /* ENCODER_EXPLAIN_OK */
} encoder_explain;

/* "load", "passes", "lift" or "ok". */
const char *encoder_explain_stage_name(encoder_explain_stage s);

/* Runs the way on g (rewritten in place) and fills *ex. A refusal at any
 * stage is part of the explanation, not an error: the status is IR_OK
 * unless memory ran out. Free ex with encoder_explain_free either way. */
ir_status encoder_explain_graph(ir_graph *g, encoder_explain *ex, ir_diag *d);
/* The same from a file, the loader's refusal included (stage LOAD). */
ir_status encoder_explain_onnx(const char *path, encoder_explain *ex,
                               ir_diag *d);
void encoder_explain_free(encoder_explain *ex);

#endif

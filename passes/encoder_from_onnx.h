/* encoder_from_onnx.h — the one way from an ONNX model to the BERT-like
 * encoder the runtime, the trainer and the search work on: load, passes
 * "default,fuse", ir_encoder_lift (passes/encoder_lift.h).
 *
 *     encoder_open_options o = {
 *         .prepare = "onednn backend: preparing the graph",
 *         .lift = "onednn backend: cannot lower this graph"};
 *     ir_encoder *e;
 *     if (encoder_from_onnx("model.onnx", &o, &e, &d) != IR_OK)
 *         ... d.msg: "onednn backend: cannot lower this graph: layer 2 ..."
 *     ir_encoder_free(e);
 *
 * The message prefixes are the caller's: each command keeps naming itself
 * and the model the way its users and tests know (NULL options: the
 * loader's, passes' and lifter's own messages, unprefixed).
 */
#ifndef DISTILC_PASSES_ENCODER_FROM_ONNX_H
#define DISTILC_PASSES_ENCODER_FROM_ONNX_H

#include "ir/encoder.h"
#include "ir/ir.h"

/* The passes between loading and lifting. */
#define ENCODER_PASSES "default,fuse"

typedef struct encoder_open_options {
    /* Runs on the graph before any pass (NULL: none); an error it returns
     * is prefixed with check_prefix. */
    ir_status (*check)(const ir_graph *g, void *user, ir_diag *d);
    void *user;
    const char *check_prefix;
    const char *prepare;    /* prefix when the passes fail (NULL: none) */
    const char *lift;       /* prefix when ir_encoder_lift fails (NULL: none) */
} encoder_open_options;

/* Runs o->check, rewrites g in place (passes "default,fuse") and lifts the
 * encoder: a copy, so g may be freed afterwards. *out is NULL on failure;
 * IR_ERR_UNSUPPORTED names the layer and node that broke the BERT pattern.
 * o may be NULL. */
ir_status encoder_from_graph(ir_graph *g, const encoder_open_options *o,
                             ir_encoder **out, ir_diag *d);
/* Loads path, then encoder_from_graph. The graph is freed as soon as the
 * encoder is lifted, so at most two copies of the weights are alive at
 * once. The loader's statuses are passed on unprefixed (IR_ERR_IO for an
 * unreadable file). */
ir_status encoder_from_onnx(const char *path, const encoder_open_options *o,
                            ir_encoder **out, ir_diag *d);

#endif

/* encoder_lift.h — recognising a BERT-like encoder in a graph after the
 * fusion passes ("default,fuse", passes/fuse.h) and returning it as an
 * ir_encoder (ir/encoder.h). Most callers want the whole way from a file,
 * passes/encoder_from_onnx.h; this is the recogniser alone.
 *
 *     pass_ctx ctx; pass_ctx_init(&ctx, &d);
 *     pass_run_list(g, "default,fuse", &ctx);
 *     ir_encoder *e;
 *     if (ir_encoder_lift(g, &e, &d) != IR_OK)
 *         ... d.msg names the layer and node where the pattern broke ...
 *
 * It is a pass-level job (it reads the fused ops the passes make), so it
 * lives beside them; the encoder's types and its way back to a graph stay
 * in ir/.
 */
#ifndef DISTILC_PASSES_ENCODER_LIFT_H
#define DISTILC_PASSES_ENCODER_LIFT_H

#include "ir/encoder.h"

/* Recognises embeddings -> L x (Attention, AddLayerNorm, Linear+act, Linear,
 * AddLayerNorm) -> pooler -> head in a graph after the fusion passes, and
 * returns the encoder with copies of its weights; layers reading the same
 * constants become one sharing group. IR_ERR_UNSUPPORTED names the layer
 * and node where the pattern broke. */
ir_status ir_encoder_lift(const ir_graph *g, ir_encoder **out, ir_diag *d);

/* Where a refused lift stopped, as data (`distilc inspect --explain`
 * prints it; d.msg says the same in one sentence). */
typedef struct ir_lift_refusal {
    int64_t layer;       /* the layer being read; -1: outside the layers
                            (embeddings, pooler, head) or the graph whole */
    char node[256];      /* the node where the pattern broke; "" when none */
    const char *op;      /* that node's op (static); NULL when none */
    char expected[1024]; /* what the lift expected there */
} ir_lift_refusal;

/* ir_encoder_lift, filling *why (may be NULL) when it returns
 * IR_ERR_UNSUPPORTED. */
ir_status ir_encoder_lift_why(const ir_graph *g, ir_encoder **out,
                              ir_lift_refusal *why, ir_diag *d);

#endif

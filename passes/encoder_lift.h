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

#endif

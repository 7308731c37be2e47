/* rt_encoder.h — the bridge from ir/ to the runtime: an ir_encoder's config
 * and weights as rt_config / rt_weights, and a whole ONNX graph compiled to
 * an rt_model (passes/encoder_from_onnx.h's encoder_from_graph, create).
 *
 *     ir_graph *g; onnx_load_file("model.onnx", NULL, &g, &d);
 *     rt_options o; rt_options_default(&o);
 *     rt_model *m;
 *     if (rt_model_from_graph(g, &o, &m, NULL, &d) != IR_OK)
 *         ... d.msg names the layer and node that could not be lowered
 *     rt_model_run(m, B, S, ids, types, mask, logits, NULL, &d);
 *
 * This file (not backend/rt.c) may know the graph IR.
 */
#ifndef DISTILC_BACKEND_RT_ENCODER_H
#define DISTILC_BACKEND_RT_ENCODER_H

#include "backend/rt.h"
#include "ir/encoder.h"

/* IR_ERR_UNSUPPORTED when the encoder has more layers than RT_MAX_LAYERS. */
ir_status rt_config_from_encoder(const ir_encoder_config *ec, rt_config *c,
                                 ir_diag *d);
/* Points w at e's tensors (no copy: e must outlive rt_model_create).
 * IR_ERR_INPUT naming a missing or misshapen weight. */
ir_status rt_weights_from_encoder(const ir_encoder *e, rt_weights *w,
                                  ir_diag *d);
ir_status rt_model_from_encoder(const ir_encoder *e, const rt_options *o,
                                rt_model **out, ir_diag *d);
/* Rewrites g in place (passes "default", "fuse"), lifts the encoder
 * (encoder_from_graph, messages prefixed "onednn backend: ...") and creates
 * the model. *enc_out (when not NULL) receives the lifted encoder,
 * which the caller frees; on failure it is NULL. IR_ERR_UNSUPPORTED names
 * the layer and node that broke the BERT pattern. */
ir_status rt_model_from_graph(ir_graph *g, const rt_options *o,
                              rt_model **out, ir_encoder **enc_out,
                              ir_diag *d);

#endif

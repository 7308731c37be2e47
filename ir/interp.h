/* interp.h — the reference interpreter: runs a graph node by node with the
 * kernels of ir/ops/ (exact ONNX semantics, clarity over speed). It is the
 * oracle every fast path is tested against.
 *
 *     ir_tensor *ins[2] = {ids, mask};          // in graph->inputs order
 *     ir_tensor **outs = NULL;                  // filled: graph->n_outputs
 *     if (ir_interp_run(g, ins, &outs, &d) != IR_OK) ...
 *     ... use outs[k] ...
 *     ir_interp_free_outputs(g, outs);
 *
 * Inputs are checked against the graph's declared dtypes and shapes (a
 * mismatch is IR_ERR_INPUT naming the input, the expected and the given
 * shape). Intermediates are freed after their last use.
 */
#ifndef DISTILC_IR_INTERP_H
#define DISTILC_IR_INTERP_H

#include "ir/ir.h"

ir_status ir_interp_run(ir_graph *g, const ir_tensor *const *inputs,
                        ir_tensor ***outputs, ir_diag *d);
void ir_interp_free_outputs(const ir_graph *g, ir_tensor **outputs);
/* Evaluates one node on given input tensors (used by constant folding). */
ir_status ir_interp_eval_node(ir_graph *g, const ir_node *n,
                              const ir_tensor *const *inputs,
                              ir_tensor **outputs, ir_diag *d);

#endif

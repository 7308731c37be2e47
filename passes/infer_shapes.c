/* infer_shapes.c — dtype and shape inference over the whole graph.
 *
 * First, graph inputs whose dims are unknown and unnamed get names, so that
 * later passes can tell equal dims apart from merely unknown ones: "batch"
 * and "seq" for axes 0 and 1 of a rank-2 integer input (token ids, masks:
 * the Hugging Face convention), "<input>_d<k>" otherwise. With
 * ctx->fix_batch / ctx->fix_seq > 0 those symbols (and axes 0 / 1 of
 * token inputs, whatever the file named them) become known sizes.
 * Then every node's infer hook (ir/ops/kernel.h) runs in graph order.
 * A hook without an implementation (IR_ERR_UNSUPPORTED) leaves its outputs
 * unknown rather than stopping the pipeline; any other error stops it and
 * names the node. */
#include "passes/pass.h"
#include "ir/ops/kernel.h"

#include <string.h>

static void name_input_dims(ir_graph *g, ir_value *v, const pass_ctx *ctx)
{
    for (int k = 0; k < v->rank; k++) {
        ir_dim *dm = &v->dims[k];
        if (dm->size < 0 && !dm->sym) {
            bool tokens = v->rank == 2 && ir_dtype_is_int(v->dtype);
            if (tokens && k == 0)
                *dm = ir_dim_sym(g, "batch");
            else if (tokens && k == 1)
                *dm = ir_dim_sym(g, "seq");
            else
                *dm = ir_dim_sym(g, ir_graph_strfmt(g, "%s_d%d", v->name, k));
        }
        if (dm->size < 0 && dm->sym) {
            /* the file may call them "batch_size", "sequence_length": axes
             * 0 and 1 of token inputs are batch and seq whatever the name */
            bool tokens = v->rank == 2 && ir_dtype_is_int(v->dtype);
            bool is_batch = strcmp(dm->sym, "batch") == 0 || (tokens && k == 0);
            bool is_seq = strcmp(dm->sym, "seq") == 0 || (tokens && k == 1);
            if (ctx->fix_batch > 0 && is_batch)
                *dm = ir_dim_const(ctx->fix_batch);
            else if (ctx->fix_seq > 0 && is_seq)
                *dm = ir_dim_const(ctx->fix_seq);
        }
    }
}

ir_status pass_infer_shapes(ir_graph *g, pass_ctx *ctx)
{
    for (int i = 0; i < g->n_inputs; i++)
        name_input_dims(g, g->inputs[i], ctx);
    for (int i = 0; i < g->n_nodes; i++) {
        ir_node *n = g->nodes[i];
        const ir_op_hooks *h = ir_op_hooks_get(n->op);
        if (!h || !h->infer)
            continue;
        ir_infer_args a = {.graph = g, .node = n, .opset = g->opset,
                           .diag = ctx->diag};
        ir_status st = h->infer(&a);
        if (st == IR_ERR_UNSUPPORTED) {
            ir_diag_init(ctx->diag); /* unknown stays unknown */
            continue;
        }
        if (st != IR_OK) {
            if (!strstr(ctx->diag->msg, n->name))
                ir_diag_prefix(ctx->diag, "node '%s' (%s)", n->name,
                               ir_op_name(n->op));
            return st;
        }
    }
    return IR_OK;
}

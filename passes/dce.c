/* dce.c — dead code elimination: removes nodes none of whose outputs is
 * used (by a node or as a graph output), to a fixpoint, then drops values
 * nothing refers to (unused constants included). Every node here is free
 * of side effects, so an unused result means a removable node. */
#include "passes/pass.h"

#include <stdlib.h>

ir_status pass_dce(ir_graph *g, pass_ctx *ctx)
{
    bool *remove = calloc((size_t)g->next_node_id + 1, sizeof(bool));
    if (!remove)
        return ir_diag_set(ctx->diag, IR_ERR_NOMEM, "out of memory in dce");
    for (;;) {
        int *uses = ir_graph_use_counts(g);
        if (!uses) {
            free(remove);
            return ir_diag_set(ctx->diag, IR_ERR_NOMEM, "out of memory in dce");
        }
        bool any = false;
        /* Walk backwards so a whole dead chain goes in one sweep: removing
         * a node releases its inputs before their producers are visited. */
        for (int i = g->n_nodes - 1; i >= 0; i--) {
            ir_node *n = g->nodes[i];
            bool used = false;
            for (int k = 0; k < n->n_outputs && !used; k++)
                used = n->outputs[k] && uses[n->outputs[k]->id] > 0;
            if (used)
                continue;
            remove[n->id] = true;
            any = true;
            for (int k = 0; k < n->n_inputs; k++)
                if (n->inputs[k])
                    uses[n->inputs[k]->id]--;
        }
        free(uses);
        if (!any)
            break;
        ir_graph_remove_nodes(g, remove);
    }
    free(remove);
    ir_graph_compact_values(g);
    return IR_OK;
}

/* print.c — PLACEHOLDER: stable text form (to be completed). */
#include "ir/ir.h"

void ir_value_print_type(const ir_value *v, FILE *out)
{
    fprintf(out, "%s", ir_dtype_name(v->dtype));
}

void ir_graph_print(const ir_graph *g, FILE *out)
{
    for (int i = 0; i < g->n_nodes; i++)
        fprintf(out, "%s %s\n", g->nodes[i]->name, ir_op_name(g->nodes[i]->op));
}

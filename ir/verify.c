/* verify.c — PLACEHOLDER: structural checks (to be completed). */
#include "ir/ir.h"

ir_status ir_graph_verify(const ir_graph *g, ir_diag *d)
{
    (void)g; (void)d;
    return IR_OK;
}

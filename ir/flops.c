/* flops.c — FLOP counting by the rule documented in ir/flops.h. Shapes come
 * from the values' inferred dims; nothing here evaluates the graph. */
#include "ir/flops.h"

#include <string.h>

/* Element count of a value with fully known dims, or -1. */
static double value_numel(const ir_value *v)
{
    if (!v || v->rank < 0)
        return -1;
    double n = 1;
    for (int i = 0; i < v->rank; i++) {
        if (!ir_dim_known(v->dims[i]))
            return -1;
        n *= (double)v->dims[i].size;
    }
    return n;
}

typedef enum flop_kind { FK_NONE, FK_MATMUL, FK_EW, FK_NORM, FK_REDUCE } flop_kind;

static flop_kind node_kind(const ir_node *n)
{
    switch (n->op) {
    case IR_OP_MATMUL:
    case IR_OP_GEMM:
        return FK_MATMUL;
    case IR_OP_SOFTMAX:
    case IR_OP_LOG_SOFTMAX:
    case IR_OP_LAYER_NORMALIZATION:
        return FK_NORM;
    case IR_OP_REDUCE_MEAN:
    case IR_OP_REDUCE_SUM:
    case IR_OP_REDUCE_MAX:
    case IR_OP_REDUCE_MIN:
    case IR_OP_REDUCE_PROD:
        return FK_REDUCE;
    case IR_OP_CUMSUM: /* one add per element, as elementwise ops */
        return FK_EW;
    case IR_OP_IDENTITY:
    case IR_OP_CAST:
    case IR_OP_CAST_LIKE:
        return FK_NONE;
    default:
        break;
    }
    const ir_op_info *info = ir_op_get(n->op);
    if (info && (info->flags & IR_OPF_ELEMENTWISE))
        return FK_EW;
    return FK_NONE;
}

static bool node_flops_kind(const ir_node *n, flop_kind k, double *flops)
{
    *flops = 0;
    const ir_value *out = n->n_outputs > 0 ? n->outputs[0] : NULL;
    switch (k) {
    case FK_NONE:
        return true;
    case FK_MATMUL: {
        const ir_value *a = n->n_inputs > 0 ? n->inputs[0] : NULL;
        double on = value_numel(out);
        if (!a || a->rank < 1 || on < 0)
            return false;
        /* K is A's reduced axis: the last one, or the first for Gemm with
         * transA (Gemm inputs are 2-D). */
        int kaxis = a->rank - 1;
        if (n->op == IR_OP_GEMM && ir_node_attr_int(n, "transA", 0) && a->rank == 2)
            kaxis = 0;
        if (!ir_dim_known(a->dims[kaxis]))
            return false;
        *flops = 2.0 * (double)a->dims[kaxis].size * on;
        if (n->op == IR_OP_GEMM && n->n_inputs > 2 && n->inputs[2])
            *flops += on;
        return true;
    }
    case FK_EW: {
        double on = value_numel(out);
        if (on < 0)
            return false;
        *flops = on;
        return true;
    }
    case FK_NORM: {
        double on = value_numel(out);
        if (on < 0)
            return false;
        *flops = 5.0 * on;
        return true;
    }
    case FK_REDUCE: {
        double in = value_numel(n->n_inputs > 0 ? n->inputs[0] : NULL);
        if (in < 0)
            return false;
        *flops = in;
        return true;
    }
    }
    return false;
}

bool ir_node_flops(const ir_node *n, double *flops)
{
    return node_flops_kind(n, node_kind(n), flops);
}

void ir_graph_flops(const ir_graph *g, ir_flops *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = g->nodes[i];
        flop_kind k = node_kind(n);
        double f;
        if (!node_flops_kind(n, k, &f)) {
            out->uncounted++;
            continue;
        }
        switch (k) {
        case FK_MATMUL: out->matmul += f; break;
        case FK_EW: out->elementwise += f; break;
        case FK_NORM: out->normalize += f; break;
        case FK_REDUCE: out->reduce += f; break;
        case FK_NONE: break;
        }
        out->total += f;
    }
}

/* flops.c — FLOP counting by the rules documented in ir/flops.h, one per
 * op from the flops column of ir/ops.def. Shapes come from the values'
 * inferred dims; nothing here evaluates the graph. */
#include "ir/flops.h"

#include <string.h>

#include "ir/act.h"
#include "ir/ops/ms_matmul.h"

static const ir_flops_rule op_rules[] = {
#define IR_OP(ENUM, onnx_name, min_in, max_in, min_out, max_out, flags, flops) \
    [IR_OP_##ENUM] = IR_FLOPS_##flops,
#include "ir/ops.def"
#undef IR_OP
};
_Static_assert(sizeof op_rules / sizeof op_rules[0] == IR_OP_COUNT,
               "flops column and op enum disagree");

ir_flops_rule ir_op_flops_rule(ir_op op)
{
    return (unsigned)op < IR_OP_COUNT ? op_rules[op] : IR_FLOPS_NONE;
}

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

static const ir_value *node_input(const ir_node *n, int k)
{
    return k < n->n_inputs ? n->inputs[k] : NULL;
}

/* Size of v's dimension k (negative counts from the end), or -1. */
static double value_dim(const ir_value *v, int k)
{
    if (!v || v->rank < 1)
        return -1;
    if (k < 0)
        k += v->rank;
    if (k < 0 || k >= v->rank || !ir_dim_known(v->dims[k]))
        return -1;
    return (double)v->dims[k].size;
}

/* MatMul / Gemm: 2·K·numel(out) (+ numel(out) for Gemm's C). */
static bool matmul_flops(const ir_node *n, double on, ir_flops *f)
{
    const ir_value *a = node_input(n, 0);
    if (!a || a->rank < 1)
        return false;
    /* K is A's reduced axis: the last one, or the first for Gemm with
     * transA (Gemm inputs are 2-D). */
    int kaxis = a->rank - 1;
    if (n->op == IR_OP_GEMM && ir_node_attr_int(n, "transA", 0) && a->rank == 2)
        kaxis = 0;
    if (n->op == IR_OP_MS_FUSED_MATMUL) { /* the axis its perm brings last */
        int perm[IR_MAX_RANK];
        const char *attr;
        if (ir_ms_matmul_perm(n, 0, a->rank, perm, &attr) < 0)
            return false;
        kaxis = perm[a->rank - 1];
        if (ir_node_attr_float(n, "alpha", 1.0f) != 1.0f)
            f->elementwise = on;
    }
    double k = value_dim(a, kaxis);
    if (k < 0)
        return false;
    f->matmul = 2.0 * k * on;
    if (n->op == IR_OP_GEMM && node_input(n, 2))
        f->matmul += on;
    return true;
}

/* Linear(x[...,K], W[K,N], bias?; activation). */
static bool linear_flops(const ir_node *n, double on, ir_flops *f)
{
    ir_act act;
    double k = value_dim(node_input(n, 0), -1);
    if (k < 0 || !ir_act_parse(ir_node_attr_string(n, "activation", "none"), &act))
        return false;
    f->matmul = 2.0 * k * on;
    f->elementwise = (node_input(n, 2) ? on : 0) + ir_act_flops(act) * on;
    return true;
}

/* Attention(x[B,S,K], W[K,3N], b[3N]?, mask?, position_bias?) -> y[B,S,N]
 * (the bias adds one value per score); the extended
 * key-padding mask only when mask_prep. */
static bool attention_flops(const ir_node *n, double on, bool mask_prep,
                            ir_flops *f)
{
    const ir_value *x = node_input(n, 0), *mask = node_input(n, 3);
    double b = value_dim(x, 0), s = value_dim(x, 1), k = value_dim(x, 2);
    bool ms = n->op == IR_OP_MS_ATTENTION;
    double heads = (double)ir_node_attr_int(n, ms ? "num_heads" : "heads", 0);
    const char *kind = ir_node_attr_string(n, "mask_kind", "none");
    bool masked = ms ? mask != NULL : strcmp(kind, "none") != 0;
    bool key_padding = strcmp(kind, "key_padding") == 0;
    double mn = key_padding && mask_prep ? value_numel(mask) : 0;
    if (b < 0 || s < 0 || k < 0 || heads <= 0 || mn < 0)
        return false;
    double nn = on / (b * s);          /* N, the hidden size of v and y */
    double scores = b * heads * s * s; /* elements of P [B,H,S,S] */
    /* q and k have Nq = N columns each, or qkv_hidden_sizes' first */
    const int64_t *qkv;
    double nq = ms && ir_node_attr_ints(n, "qkv_hidden_sizes", &qkv) == 3
                    ? (double)qkv[0] : nn;
    double qkv_out = (2.0 * nq + nn) * b * s; /* elements of x·W */
    /* x·W: 2·K·(BS·(2Nq+N)); q·kᵀ: 2·Nq·B·S·S; P·v: 2·S·(BS·N) */
    f->matmul = 2.0 * k * qkv_out + 2.0 * nq * b * s * s + 2.0 * s * on;
    f->elementwise = (node_input(n, 2) ? qkv_out : 0) +
                     (ms || ir_node_attr_float(n, "scale", 1.0f) != 1.0f ? scores : 0) +
                     (masked ? scores : 0) + 2.0 * mn +
                     (!ms && node_input(n, 4) ? scores : 0); /* position bias */
    f->normalize = 5.0 * scores;
    return true;
}

/* FLOPs of n by its rule, split by kind; false if a size is unknown. */
static bool node_flops_split(const ir_node *n, bool mask_prep, ir_flops *f)
{
    memset(f, 0, sizeof *f);
    ir_flops_rule rule = ir_op_flops_rule(n->op);
    if (rule == IR_FLOPS_NONE)
        return true;
    double on = value_numel(n->n_outputs > 0 ? n->outputs[0] : NULL);
    bool ok = on >= 0;
    switch (rule) {
    case IR_FLOPS_NONE:
    case IR_FLOPS_RULE_COUNT:
        break;
    case IR_FLOPS_ELEMENTWISE:
        f->elementwise = on;
        break;
    case IR_FLOPS_GELU: {
        bool tanh_form = strcmp(ir_node_attr_string(n, "approximate", "none"),
                                "tanh") == 0;
        f->elementwise = ir_act_flops(tanh_form ? IR_ACT_GELU_TANH : IR_ACT_GELU) * on;
        break;
    }
    case IR_FLOPS_NORMALIZE:
        f->normalize = 5.0 * on;
        break;
    case IR_FLOPS_REDUCE: {
        double in = value_numel(node_input(n, 0));
        ok = in >= 0;
        f->reduce = in;
        break;
    }
    case IR_FLOPS_MATMUL:
    case IR_FLOPS_MS_FUSED_MATMUL:
        ok = ok && matmul_flops(n, on, f);
        break;
    case IR_FLOPS_LINEAR:
        ok = ok && linear_flops(n, on, f);
        break;
    case IR_FLOPS_ADD_LAYER_NORM: /* x + residual (+ bias), LayerNorm */
        f->elementwise = (node_input(n, 4) ? 2.0 : 1.0) * on;
        f->normalize = 5.0 * on;
        break;
    case IR_FLOPS_ATTENTION:
    case IR_FLOPS_MS_ATTENTION:
        ok = ok && attention_flops(n, on, mask_prep, f);
        break;
    case IR_FLOPS_MS_EMBED_LAYER_NORM: {
        double mn = node_input(n, 7) ? value_numel(node_input(n, 7)) : 0;
        ok = ok && mn >= 0;
        f->elementwise = (node_input(n, 1) && node_input(n, 4) ? 2.0 : 1.0) * on;
        f->normalize = 5.0 * on;
        f->reduce = n->n_outputs > 1 && n->outputs[1] ? mn : 0;
        break;
    }
    case IR_FLOPS_BIAS_GELU:
        f->elementwise = (node_input(n, 1) ? on : 0) +
                         ir_act_flops(n->op == IR_OP_MS_FAST_GELU ? IR_ACT_GELU_TANH
                                                                  : IR_ACT_GELU) * on;
        break;
    case IR_FLOPS_EMBED_LAYER_NORM: /* word + pos (+ type), LayerNorm */
        f->elementwise = (node_input(n, 5) && node_input(n, 6) ? 2.0 : 1.0) * on;
        f->normalize = 5.0 * on;
        break;
    }
    if (!ok) {
        memset(f, 0, sizeof *f);
        return false;
    }
    f->total = f->matmul + f->elementwise + f->normalize + f->reduce;
    return true;
}

bool ir_node_flops(const ir_node *n, double *flops)
{
    ir_flops f;
    bool ok = node_flops_split(n, true, &f);
    *flops = f.total;
    return ok;
}

/* True when an earlier key-padding Attention of g reads the same mask: the
 * extended mask it stands for was computed once. */
static bool mask_counted(const ir_graph *g, int i)
{
    const ir_node *n = g->nodes[i];
    if (n->op != IR_OP_ATTENTION || n->n_inputs < 4 || !n->inputs[3])
        return false;
    for (int j = 0; j < i; j++) {
        const ir_node *m = g->nodes[j];
        if (m->op == IR_OP_ATTENTION && m->n_inputs >= 4 &&
            m->inputs[3] == n->inputs[3] &&
            strcmp(ir_node_attr_string(m, "mask_kind", "none"), "key_padding") == 0)
            return true;
    }
    return false;
}

void ir_graph_flops(const ir_graph *g, ir_flops *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < g->n_nodes; i++) {
        ir_flops f;
        if (!node_flops_split(g->nodes[i], !mask_counted(g, i), &f)) {
            out->uncounted++;
            continue;
        }
        out->matmul += f.matmul;
        out->elementwise += f.elementwise;
        out->normalize += f.normalize;
        out->reduce += f.reduce;
        out->total += f.total;
    }
}

/* fold_constants.c — constant folding.
 *
 * A node is evaluated at compile time, through the reference interpreter's
 * kernels (ir_interp_eval_node), when its op is marked IR_OPF_FOLDABLE in
 * ir/ops.def and every present input is a constant (a Constant node has
 * none). Its outputs become constant values and the node goes away.
 * Shape (ONNX Shape-15: start/end attributes) and Size-13 fold as soon as
 * their input's dims are all known, whatever its data.
 *
 * Size guard: folding must not blow a small graph up into a huge one
 * (ConstantOfShape or Expand of a scalar to a big shape), so results are
 * kept only when they hold at most max(FOLD_MAX_ELEMS, elements of the
 * inputs) elements; inputs above FOLD_MAX_INPUT elements are not evaluated
 * at all (a MatMul of two weight matrices is work better left to runtime).
 * After a sweep that folded something, shapes are inferred again and the
 * sweep repeats, since new constants make more dims known.
 */
#include "passes/pass.h"
#include "ir/interp.h"

#include <stdlib.h>

#define FOLD_MAX_ELEMS ((int64_t)1 << 20)
#define FOLD_MAX_INPUT ((int64_t)1 << 24)

/* Shape / Size of a value with fully known dims; NULL when not known. */
static ir_tensor *fold_shape_of(const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    if (!x || x->rank < 0)
        return NULL;
    for (int i = 0; i < x->rank; i++)
        if (x->dims[i].size < 0)
            return NULL;
    if (n->op == IR_OP_SIZE) {
        int64_t dims[IR_MAX_RANK];
        for (int i = 0; i < x->rank; i++)
            dims[i] = x->dims[i].size;
        int64_t numel = ir_numel_checked(x->rank, dims);
        if (numel < 0)
            return NULL;
        ir_tensor *t = ir_tensor_new(IR_DT_I64, 0, NULL);
        if (t)
            ir_tensor_set_f64(t, 0, (double)numel);
        return t;
    }
    /* Shape-15: start/end clamp to [0, rank] after adding rank if < 0. */
    int64_t r = x->rank;
    int64_t start = ir_node_attr_int(n, "start", 0);
    int64_t end = ir_node_attr_int(n, "end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    if (start < 0) start = 0;
    if (start > r) start = r;
    if (end < 0) end = 0;
    if (end > r) end = r;
    int64_t len = end > start ? end - start : 0;
    ir_tensor *t = ir_tensor_new(IR_DT_I64, 1, &len);
    if (!t)
        return NULL;
    int64_t *p = t->data;
    for (int64_t i = 0; i < len; i++)
        p[i] = x->dims[start + i].size;
    return t;
}

/* Whether the node may be folded, and the total input element count. */
static bool foldable(const ir_node *n, int64_t *in_elems)
{
    const ir_op_info *info = ir_op_get(n->op);
    if (!(info->flags & IR_OPF_FOLDABLE))
        return false;
    if (n->op != IR_OP_CONSTANT && n->n_inputs == 0)
        return false;
    int64_t total = 0;
    for (int k = 0; k < n->n_inputs; k++) {
        const ir_value *v = n->inputs[k];
        if (!v)
            continue;
        if (!v->constant)
            return false;
        total += ir_tensor_numel(v->constant);
    }
    *in_elems = total;
    return total <= FOLD_MAX_INPUT;
}

/* One sweep in graph order (so chains of constants fold in one go); *any
 * says whether something folded. */
static ir_status fold_sweep(ir_graph *g, pass_ctx *ctx, bool *any_out)
{
    bool *remove = calloc((size_t)g->next_node_id + 1, sizeof(bool));
    if (!remove)
        return ir_diag_set(ctx->diag, IR_ERR_NOMEM, "out of memory in fold");
    bool any = false;
    ir_status st = IR_OK;
    for (int i = 0; i < g->n_nodes && st == IR_OK; i++) {
        ir_node *n = g->nodes[i];
        if ((n->op == IR_OP_SHAPE || n->op == IR_OP_SIZE) && n->outputs[0] &&
            !(n->inputs[0] && n->inputs[0]->constant)) {
            ir_tensor *t = fold_shape_of(n);
            if (t) {
                ir_value_set_constant(n->outputs[0], t);
                n->outputs[0]->producer = NULL;
                remove[n->id] = any = true;
            }
            continue;
        }
        int64_t in_elems = 0;
        if (!foldable(n, &in_elems))
            continue;
        const ir_tensor *ins[64];
        ir_tensor *outs[64];
        if (n->n_inputs > 64 || n->n_outputs > 64)
            continue;
        for (int k = 0; k < n->n_inputs; k++)
            ins[k] = n->inputs[k] ? n->inputs[k]->constant : NULL;
        st = ir_interp_eval_node(g, n, ins, outs, ctx->diag);
        if (st == IR_ERR_UNSUPPORTED) {
            /* No kernel yet: leave the node for runtime. */
            ir_diag_init(ctx->diag);
            st = IR_OK;
            continue;
        }
        if (st != IR_OK)
            break;
        int64_t limit = in_elems > FOLD_MAX_ELEMS ? in_elems : FOLD_MAX_ELEMS;
        int64_t out_elems = 0;
        bool complete = true;
        for (int k = 0; k < n->n_outputs; k++) {
            if (outs[k])
                out_elems += ir_tensor_numel(outs[k]);
            else if (n->outputs[k])
                complete = false; /* an output the kernel did not make */
        }
        if (out_elems > limit || !complete) {
            for (int k = 0; k < n->n_outputs; k++)
                ir_tensor_free(outs[k]);
            continue;
        }
        for (int k = 0; k < n->n_outputs; k++) {
            ir_value *v = n->outputs[k];
            if (!v) {
                ir_tensor_free(outs[k]);
                continue;
            }
            ir_value_set_constant(v, outs[k]);
            v->producer = NULL;
        }
        remove[n->id] = any = true;
    }
    if (any)
        ir_graph_remove_nodes(g, remove);
    free(remove);
    *any_out = any;
    return st;
}

/* Sweeps, then re-infers shapes: new constants make more shapes known
 * (Unsqueeze with constant axes), which lets more Shape nodes fold. */
ir_status pass_fold_constants(ir_graph *g, pass_ctx *ctx)
{
    for (int round = 0; round < 8; round++) {
        bool any = false;
        ir_status st = fold_sweep(g, ctx, &any);
        if (st == IR_OK && any)
            st = pass_infer_shapes(g, ctx);
        if (st != IR_OK || !any)
            return st;
    }
    return IR_OK;
}

/* interp.c — the reference interpreter's driver: checks the caller's inputs
 * against the graph's declared types, then runs the nodes in graph order
 * through each op's eval hook (ir/ops/), holding one tensor per value.
 *
 * Memory: graph inputs and constants are read in place (never copied); each
 * intermediate is freed as soon as its last consumer has run (use counts
 * from ir_graph_use_counts, which also count graph-output marks so outputs
 * live to the end); outputs are returned as clones the caller owns.
 *
 * Errors from kernels already name the node and op, so they are passed on
 * unchanged.
 */
#include "ir/interp.h"

#include <stdlib.h>
#include <string.h>

#include "ir/ops/kernel.h"

/* "f32[batch,4]" for a declared value. */
static const char *interp_format_value(const ir_value *v, char *buf, size_t n)
{
    size_t off = (size_t)snprintf(buf, n, "%s", ir_dtype_name(v->dtype));
    if (v->rank < 0) {
        if (off < n)
            snprintf(buf + off, n - off, "[?]");
        return buf;
    }
    if (off < n)
        off += (size_t)snprintf(buf + off, n - off, "[");
    for (int i = 0; i < v->rank && off < n; i++) {
        if (ir_dim_known(v->dims[i]))
            off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? "," : "",
                                    (long long)v->dims[i].size);
        else
            off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? "," : "",
                                    v->dims[i].sym ? v->dims[i].sym : "?");
    }
    if (off < n)
        snprintf(buf + off, n - off, "]");
    return buf;
}

/* "f32[2,4]" for a runtime tensor. */
static const char *interp_format_tensor(const ir_tensor *t, char *buf, size_t n)
{
    size_t off = (size_t)snprintf(buf, n, "%s[", ir_dtype_name(t->dtype));
    for (int i = 0; i < t->rank && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? "," : "",
                                (long long)t->dims[i]);
    if (off < n)
        snprintf(buf + off, n - off, "]");
    return buf;
}

/* A symbolic dimension name bound to a size by the first input using it. */
typedef struct interp_binding {
    const char *sym;
    int64_t size;
    const char *input; /* who bound it, for the message */
    int axis;
} interp_binding;

static ir_status interp_check_inputs(const ir_graph *g,
                                     const ir_tensor *const *inputs, ir_diag *d)
{
    if (g->n_inputs > 0 && !inputs)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "graph '%s' has %d inputs but none were given",
                           g->name ? g->name : "", g->n_inputs);
    interp_binding *bind =
        malloc(sizeof *bind * (size_t)(g->n_inputs * IR_MAX_RANK + 1));
    if (!bind)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    int nbind = 0;
    ir_status st = IR_OK;
    char want[256], got[256];
    for (int i = 0; i < g->n_inputs && st == IR_OK; i++) {
        const ir_value *v = g->inputs[i];
        const ir_tensor *t = inputs[i];
        if (!t) {
            st = ir_diag_set(d, IR_ERR_INPUT,
                             "input %d '%s' (expected %s) was not given", i,
                             v->name, interp_format_value(v, want, sizeof want));
            break;
        }
        bool bad = (v->dtype != IR_DT_UNDEF && v->dtype != t->dtype) ||
                   (v->rank >= 0 && v->rank != t->rank);
        for (int k = 0; !bad && v->rank >= 0 && k < v->rank; k++)
            if (ir_dim_known(v->dims[k]) && v->dims[k].size != t->dims[k])
                bad = true;
        if (bad) {
            st = ir_diag_set(d, IR_ERR_INPUT,
                             "input '%s': expected %s, given %s", v->name,
                             interp_format_value(v, want, sizeof want),
                             interp_format_tensor(t, got, sizeof got));
            break;
        }
        /* A named symbol must mean one size across all inputs. */
        for (int k = 0; v->rank >= 0 && k < v->rank; k++) {
            const char *sym = v->dims[k].sym;
            if (ir_dim_known(v->dims[k]) || !sym)
                continue;
            int b = 0;
            while (b < nbind && strcmp(bind[b].sym, sym) != 0)
                b++;
            if (b == nbind) {
                bind[nbind++] = (interp_binding){sym, t->dims[k], v->name, k};
            } else if (bind[b].size != t->dims[k]) {
                st = ir_diag_set(
                    d, IR_ERR_INPUT,
                    "input '%s': dimension %d ('%s') is %lld, but input '%s' "
                    "dimension %d gave '%s' = %lld (expected %s, given %s)",
                    v->name, k, sym, (long long)t->dims[k], bind[b].input,
                    bind[b].axis, sym, (long long)bind[b].size,
                    interp_format_value(v, want, sizeof want),
                    interp_format_tensor(t, got, sizeof got));
                break;
            }
        }
    }
    free(bind);
    return st;
}

ir_status ir_interp_eval_node(ir_graph *g, const ir_node *n,
                              const ir_tensor *const *inputs,
                              ir_tensor **outputs, ir_diag *d)
{
    for (int k = 0; k < n->n_outputs; k++)
        outputs[k] = NULL;
    const ir_op_hooks *h = ir_op_hooks_get(n->op);
    if (!h || !h->eval)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "node '%s' (%s): no kernel for this op", n->name,
                           ir_op_name(n->op));
    /* Kernels may rely on their required inputs being present. */
    const ir_op_info *info = ir_op_get(n->op);
    for (int k = 0; k < n->n_inputs && k < info->min_inputs; k++)
        if (!inputs[k])
            return ir_diag_set(d, IR_ERR_INPUT,
                               "node '%s' (%s): required input %d is absent",
                               n->name, ir_op_name(n->op), k);
    if (n->n_inputs < info->min_inputs)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "node '%s' (%s): has %d inputs, needs at least %d",
                           n->name, ir_op_name(n->op), n->n_inputs,
                           info->min_inputs);
    ir_kernel_args a = {
        .graph = g,
        .node = n,
        .opset = g->opset,
        .n_inputs = n->n_inputs,
        .inputs = inputs,
        .n_outputs = n->n_outputs,
        .outputs = outputs,
        .diag = d,
    };
    ir_status st = h->eval(&a);
    if (st != IR_OK) {
        for (int k = 0; k < n->n_outputs; k++) {
            ir_tensor_free(outputs[k]);
            outputs[k] = NULL;
        }
        return st;
    }
    return IR_OK;
}

/* The run's state: a tensor per value id; `owned` marks those to free. */
typedef struct interp_state {
    const ir_tensor **val;
    bool *owned;
    int *uses;
    int n;
} interp_state;

static void interp_state_free(interp_state *s)
{
    for (int i = 0; s->owned && i < s->n; i++)
        if (s->owned[i])
            ir_tensor_free((ir_tensor *)s->val[i]);
    free(s->val);
    free(s->owned);
    free(s->uses);
}

static void interp_release(interp_state *s, int id)
{
    if (id < 0 || id >= s->n)
        return;
    if (--s->uses[id] <= 0 && s->owned[id]) {
        ir_tensor_free((ir_tensor *)s->val[id]);
        s->val[id] = NULL;
        s->owned[id] = false;
    }
}

/* Runs one node of the graph, storing its outputs in the state. */
static ir_status interp_step(ir_graph *g, const ir_node *n, interp_state *s,
                             const ir_tensor **ins, ir_tensor **outs,
                             ir_diag *d)
{
    for (int k = 0; k < n->n_inputs; k++) {
        const ir_value *v = n->inputs[k];
        ins[k] = NULL;
        if (!v)
            continue;
        if (v->id < 0 || v->id >= s->n || !s->val[v->id])
            return ir_diag_set(d, IR_ERR_FAILED,
                               "internal error: node '%s' (%s): input %d '%s' "
                               "has no value when the node runs (graph not in "
                               "topological order?)",
                               n->name, ir_op_name(n->op), k, v->name);
        ins[k] = s->val[v->id];
    }
    ir_status st = ir_interp_eval_node(g, n, ins, outs, d);
    if (st != IR_OK)
        return st;
    for (int k = 0; k < n->n_outputs; k++) {
        const ir_value *v = n->outputs[k];
        if (!v || v->id < 0 || v->id >= s->n) {
            ir_tensor_free(outs[k]); /* an output nobody named */
            continue;
        }
        if (!outs[k]) {
            for (int j = k + 1; j < n->n_outputs; j++)
                ir_tensor_free(outs[j]);
            return ir_diag_set(d, IR_ERR_FAILED,
                               "internal error: node '%s' (%s): kernel left "
                               "output %d '%s' unset",
                               n->name, ir_op_name(n->op), k, v->name);
        }
        if (s->owned[v->id])
            ir_tensor_free((ir_tensor *)s->val[v->id]);
        s->val[v->id] = outs[k];
        s->owned[v->id] = true;
        if (s->uses[v->id] <= 0) { /* computed but never read */
            ir_tensor_free(outs[k]);
            s->val[v->id] = NULL;
            s->owned[v->id] = false;
        }
    }
    for (int k = 0; k < n->n_inputs; k++)
        if (n->inputs[k])
            interp_release(s, n->inputs[k]->id);
    return IR_OK;
}

ir_status ir_interp_run(ir_graph *g, const ir_tensor *const *inputs,
                        ir_tensor ***outputs, ir_diag *d)
{
    *outputs = NULL;
    ir_status st = interp_check_inputs(g, inputs, d);
    if (st != IR_OK)
        return st;
    interp_state s = {0};
    s.n = g->n_values;
    s.val = calloc((size_t)s.n + 1, sizeof *s.val);
    s.owned = calloc((size_t)s.n + 1, sizeof *s.owned);
    s.uses = ir_graph_use_counts(g);
    int max_in = 1, max_out = 1;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i]->n_inputs > max_in) max_in = g->nodes[i]->n_inputs;
        if (g->nodes[i]->n_outputs > max_out) max_out = g->nodes[i]->n_outputs;
    }
    const ir_tensor **ins = calloc((size_t)max_in, sizeof *ins);
    ir_tensor **outs = calloc((size_t)max_out, sizeof *outs);
    ir_tensor **result = calloc((size_t)g->n_outputs + 1, sizeof *result);
    if (!s.val || !s.owned || !s.uses || !ins || !outs || !result) {
        st = ir_diag_set(d, IR_ERR_NOMEM, "out of memory starting the interpreter");
        goto done;
    }
    for (int i = 0; i < s.n; i++)
        if (g->values[i]->constant)
            s.val[i] = g->values[i]->constant;
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i]->id >= 0 && g->inputs[i]->id < s.n)
            s.val[g->inputs[i]->id] = inputs[i];
    for (int i = 0; i < g->n_nodes && st == IR_OK; i++)
        st = interp_step(g, g->nodes[i], &s, ins, outs, d);
    for (int i = 0; i < g->n_outputs && st == IR_OK; i++) {
        const ir_value *v = g->outputs[i];
        const ir_tensor *t = v->id >= 0 && v->id < s.n ? s.val[v->id] : NULL;
        if (!t) {
            st = ir_diag_set(d, IR_ERR_INPUT,
                             "graph output '%s' is never computed (no node "
                             "produces it and it is not an input or constant)",
                             v->name);
            break;
        }
        if (!(result[i] = ir_tensor_clone(t)))
            st = ir_diag_set(d, IR_ERR_NOMEM, "out of memory for output '%s'",
                             v->name);
    }
done:
    if (st != IR_OK && result) {
        for (int i = 0; i < g->n_outputs; i++)
            ir_tensor_free(result[i]);
        free(result);
        result = NULL;
    }
    interp_state_free(&s);
    free(ins);
    free(outs);
    *outputs = result;
    return st;
}

void ir_interp_free_outputs(const ir_graph *g, ir_tensor **outputs)
{
    if (!outputs)
        return;
    for (int i = 0; i < g->n_outputs; i++)
        ir_tensor_free(outputs[i]);
    free(outputs);
}

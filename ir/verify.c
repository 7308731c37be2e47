/* verify.c — structural checks on a graph (ir_graph_verify).
 *
 * The pass manager runs this after every pass in debug builds, so a pass
 * that breaks the graph is named at once instead of crashing a later pass.
 * Checks, in order:
 *   1. every value's id is its index in graph->values;
 *   2. node ids are unique and below graph->next_node_id;
 *   3. arity is within the op table (ir/ops.def) and required inputs exist;
 *   4. every value is produced at most once and its producer link agrees;
 *   5. every node input is defined before use: a graph input, a constant or
 *      the output of an earlier node (a later producer means a cycle or a
 *      broken order; the two are told apart);
 *   6. graph outputs are produced;
 *   7. dtypes agree where the op table implies it: the inputs of an
 *      elementwise op with two or more inputs have one dtype (ONNX spec:
 *      Add-14, Equal-11, ... "T" constraints), except Pow-15 (T, T1) and
 *      Where-16's bool condition;
 *   8. a constant's dtype and rank match its tensor.
 * The first problem found is reported; messages name node, op and value.
 */
#include "ir/ir.h"

#include <stdlib.h>

static const char *value_name(const ir_value *v)
{
    return v && v->name ? v->name : "(unnamed)";
}

/* True when v is defined without a node: graph input or constant. */
static bool value_is_source(const ir_value *v)
{
    return v->is_input || v->constant != NULL;
}

/* Depth-first search over producer links from node start, with an
 * explicit stack (a chain of 100,000 nodes would overflow the call stack);
 * colour 1 = on the stack, 2 = done. Returns the node closing a cycle, or
 * NULL (also when out of memory: the caller then reports a broken order,
 * which is true too). */
typedef struct dfs_frame {
    const ir_node *n;
    int k; /* the next input to follow */
} dfs_frame;

static const ir_node *find_cycle(const ir_graph *g, const ir_node *start,
                                 unsigned char *colour)
{
    size_t cap = (size_t)g->next_node_id + 1, n = 1; /* a node enters once */
    dfs_frame *st = malloc(cap * sizeof *st);
    if (!st)
        return NULL;
    st[0] = (dfs_frame){start, 0};
    colour[start->id] = 1;
    const ir_node *found = NULL;
    while (n && !found) {
        dfs_frame *f = &st[n - 1];
        if (f->k == f->n->n_inputs) {
            colour[f->n->id] = 2;
            n--;
            continue;
        }
        const ir_value *v = f->n->inputs[f->k++];
        if (!v || value_is_source(v) || !v->producer)
            continue;
        const ir_node *p = v->producer;
        if (p->id < 0 || p->id >= g->next_node_id)
            continue;
        if (colour[p->id] == 1)
            found = p;
        else if (colour[p->id] == 0 && n < cap) {
            colour[p->id] = 1;
            st[n++] = (dfs_frame){p, 0};
        }
    }
    free(st);
    return found;
}

static ir_status check_values(const ir_graph *g, ir_diag *d)
{
    for (int i = 0; i < g->n_values; i++) {
        const ir_value *v = g->values[i];
        if (!v)
            return ir_diag_set(d, IR_ERR_FAILED, "value slot %d is empty", i);
        if (v->id != i)
            return ir_diag_set(d, IR_ERR_FAILED,
                               "value '%s' has id %d but sits at index %d",
                               value_name(v), v->id, i);
        if (v->rank > IR_MAX_RANK || v->rank < -1)
            return ir_diag_set(d, IR_ERR_INPUT, "value '%s' has rank %d",
                               value_name(v), v->rank);
        const ir_tensor *t = v->constant;
        if (t && (t->dtype != v->dtype || t->rank != v->rank))
            return ir_diag_set(d, IR_ERR_INPUT,
                               "constant '%s' is declared %s rank %d but its "
                               "tensor is %s rank %d",
                               value_name(v), ir_dtype_name(v->dtype), v->rank,
                               ir_dtype_name(t->dtype), t->rank);
        if (t && v->producer)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "constant '%s' is also produced by node '%s' (%s)",
                               value_name(v), v->producer->name,
                               ir_op_name(v->producer->op));
    }
    return IR_OK;
}

/* Arity against the op table, required inputs present. */
static ir_status check_arity(const ir_node *n, ir_diag *d)
{
    if ((unsigned)n->op >= IR_OP_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "node '%s' has unknown op code %d",
                           n->name, (int)n->op);
    const ir_op_info *info = ir_op_get(n->op);
    if (n->n_inputs < info->min_inputs ||
        (info->max_inputs >= 0 && n->n_inputs > info->max_inputs)) {
        if (info->max_inputs < 0)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "node '%s' (%s) has %d inputs, needs at least %d",
                               n->name, info->name, n->n_inputs,
                               info->min_inputs);
        return ir_diag_set(d, IR_ERR_INPUT,
                           "node '%s' (%s) has %d inputs, needs %d to %d",
                           n->name, info->name, n->n_inputs, info->min_inputs,
                           info->max_inputs);
    }
    if (n->n_outputs < info->min_outputs ||
        (info->max_outputs >= 0 && n->n_outputs > info->max_outputs))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "node '%s' (%s) has %d outputs, needs %d to %d",
                           n->name, info->name, n->n_outputs, info->min_outputs,
                           info->max_outputs);
    for (int k = 0; k < info->min_inputs; k++)
        if (!n->inputs[k])
            return ir_diag_set(d, IR_ERR_INPUT,
                               "node '%s' (%s): required input %d is absent",
                               n->name, info->name, k);
    /* Variadic ops (Concat, Min, Max) have no optional inputs. */
    if (info->max_inputs < 0)
        for (int k = 0; k < n->n_inputs; k++)
            if (!n->inputs[k])
                return ir_diag_set(d, IR_ERR_INPUT,
                                   "node '%s' (%s): input %d is absent",
                                   n->name, info->name, k);
    return IR_OK;
}

/* Elementwise dtype agreement (point 7 above). */
static ir_status check_dtypes(const ir_node *n, ir_diag *d)
{
    const ir_op_info *info = ir_op_get(n->op);
    if (!(info->flags & IR_OPF_ELEMENTWISE) || n->n_inputs < 2 ||
        n->op == IR_OP_POW)
        return IR_OK;
    int first = 0;
    if (n->op == IR_OP_WHERE) {
        const ir_value *c = n->inputs[0];
        if (c && c->dtype != IR_DT_UNDEF && c->dtype != IR_DT_BOOL)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "node '%s' (Where): condition '%s' is %s, "
                               "must be bool",
                               n->name, value_name(c), ir_dtype_name(c->dtype));
        first = 1;
    }
    const ir_value *ref = NULL;
    for (int k = first; k < n->n_inputs; k++) {
        const ir_value *v = n->inputs[k];
        if (!v || v->dtype == IR_DT_UNDEF)
            continue;
        if (!ref) {
            ref = v;
            continue;
        }
        if (v->dtype != ref->dtype)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "node '%s' (%s): input '%s' is %s but input "
                               "'%s' is %s (the op needs one dtype)",
                               n->name, info->name, value_name(ref),
                               ir_dtype_name(ref->dtype), value_name(v),
                               ir_dtype_name(v->dtype));
    }
    return IR_OK;
}

ir_status ir_graph_verify(const ir_graph *g, ir_diag *d)
{
    ir_status st = check_values(g, d);
    if (st != IR_OK)
        return st;

    size_t nid = (size_t)(g->next_node_id > 0 ? g->next_node_id : 1);
    size_t nval = (size_t)g->n_values + 1;
    const ir_node **by_id = calloc(nid, sizeof *by_id);
    int *defined_at = malloc(nval * sizeof *defined_at); /* node index, -1 */
    unsigned char *colour = calloc(nid, 1);
    if (!by_id || !defined_at || !colour) {
        free(by_id); free(defined_at); free(colour);
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory verifying graph '%s'",
                           g->name);
    }
    for (int i = 0; i < g->n_values; i++)
        defined_at[i] = value_is_source(g->values[i]) ? -1 : g->n_nodes;

    /* Pass A: ids, arity, single producer, producer links. */
    for (int i = 0; i < g->n_nodes && st == IR_OK; i++) {
        const ir_node *n = g->nodes[i];
        if (n->id < 0 || n->id >= g->next_node_id) {
            st = ir_diag_set(d, IR_ERR_FAILED,
                             "node '%s' (%s) has id %d outside [0, %d)",
                             n->name, ir_op_name(n->op), n->id,
                             g->next_node_id);
            break;
        }
        if (by_id[n->id]) {
            st = ir_diag_set(d, IR_ERR_INPUT,
                             "nodes '%s' and '%s' share id %d",
                             by_id[n->id]->name, n->name, n->id);
            break;
        }
        by_id[n->id] = n;
        if ((st = check_arity(n, d)) != IR_OK)
            break;
        for (int k = 0; k < n->n_outputs; k++) {
            const ir_value *v = n->outputs[k];
            if (!v)
                continue;
            if (v->id < 0 || v->id >= g->n_values || g->values[v->id] != v) {
                st = ir_diag_set(d, IR_ERR_FAILED,
                                 "node '%s' (%s): output %d '%s' is not in "
                                 "the graph's value list",
                                 n->name, ir_op_name(n->op), k, value_name(v));
                break;
            }
            if (value_is_source(v)) {
                st = ir_diag_set(d, IR_ERR_INPUT,
                                 "node '%s' (%s) writes '%s', which is a graph "
                                 "%s",
                                 n->name, ir_op_name(n->op), value_name(v),
                                 v->is_input ? "input" : "constant");
                break;
            }
            if (defined_at[v->id] != g->n_nodes) {
                const ir_node *other = g->nodes[defined_at[v->id]];
                st = ir_diag_set(d, IR_ERR_INPUT,
                                 "value '%s' is produced twice: by node '%s' "
                                 "(%s) and node '%s' (%s)",
                                 value_name(v), other->name,
                                 ir_op_name(other->op), n->name,
                                 ir_op_name(n->op));
                break;
            }
            defined_at[v->id] = i;
        }
    }
    /* Producer links, once double producers are ruled out (a second
     * producer steals the link, and "produced twice" is the better news). */
    for (int i = 0; i < g->n_nodes && st == IR_OK; i++) {
        const ir_node *n = g->nodes[i];
        for (int k = 0; k < n->n_outputs; k++) {
            const ir_value *v = n->outputs[k];
            if (v && (v->producer != n || v->producer_slot != k)) {
                st = ir_diag_set(d, IR_ERR_FAILED,
                                 "node '%s' (%s): output '%s' does not link "
                                 "back to its producer",
                                 n->name, ir_op_name(n->op), value_name(v));
                break;
            }
        }
    }

    /* Pass B: inputs defined before use, dtypes. */
    for (int i = 0; i < g->n_nodes && st == IR_OK; i++) {
        const ir_node *n = g->nodes[i];
        for (int k = 0; k < n->n_inputs && st == IR_OK; k++) {
            const ir_value *v = n->inputs[k];
            if (!v)
                continue;
            if (v->id < 0 || v->id >= g->n_values || g->values[v->id] != v) {
                st = ir_diag_set(d, IR_ERR_FAILED,
                                 "node '%s' (%s): input %d '%s' is not in the "
                                 "graph's value list",
                                 n->name, ir_op_name(n->op), k, value_name(v));
                break;
            }
            int at = defined_at[v->id];
            if (at < i)
                continue;
            if (at == g->n_nodes) {
                st = ir_diag_set(d, IR_ERR_INPUT,
                                 "node '%s' (%s): input %d '%s' is never "
                                 "defined (not a graph input, constant or "
                                 "node output)",
                                 n->name, ir_op_name(n->op), k, value_name(v));
                break;
            }
            const ir_node *cyc = find_cycle(g, n, colour);
            if (cyc)
                st = ir_diag_set(d, IR_ERR_INPUT,
                                 "graph has a cycle through node '%s' (%s) "
                                 "(input '%s' of node '%s' depends on its "
                                 "own output)",
                                 cyc->name, ir_op_name(cyc->op), value_name(v),
                                 n->name);
            else
                st = ir_diag_set(d, IR_ERR_INPUT,
                                 "node '%s' (%s): input '%s' is used before "
                                 "node '%s' (%s) produces it (nodes are not "
                                 "in topological order)",
                                 n->name, ir_op_name(n->op), value_name(v),
                                 g->nodes[at]->name,
                                 ir_op_name(g->nodes[at]->op));
        }
        if (st == IR_OK)
            st = check_dtypes(n, d);
    }

    /* Graph outputs. */
    for (int i = 0; i < g->n_outputs && st == IR_OK; i++) {
        const ir_value *v = g->outputs[i];
        if (!v || v->id < 0 || v->id >= g->n_values || g->values[v->id] != v) {
            st = ir_diag_set(d, IR_ERR_FAILED,
                             "graph output %d '%s' is not in the graph's "
                             "value list", i, value_name(v));
            break;
        }
        if (defined_at[v->id] == g->n_nodes)
            st = ir_diag_set(d, IR_ERR_INPUT,
                             "graph output '%s' is never produced",
                             value_name(v));
    }
    for (int i = 0; i < g->n_inputs && st == IR_OK; i++)
        if (!g->inputs[i]->is_input)
            st = ir_diag_set(d, IR_ERR_FAILED,
                             "graph input '%s' is not flagged as an input",
                             value_name(g->inputs[i]));

    free(by_id);
    free(defined_at);
    free(colour);
    return st;
}

/* graph_sort.c — ir_graph_toposort: nodes into an order where every input
 * is ready before its consumer.
 *
 * The order is the one of a simple rule, kept because passes and golden
 * tests see it: sweep the nodes in their current order, placing every node
 * whose inputs are all ready (those placed earlier in the same sweep
 * count), and sweep again until nothing moves. Done literally that is one
 * sweep per node on a chain written backwards, O(n^2): a 100,000-node
 * model took minutes to load. Here it is O((nodes + edges) log nodes) with
 * the same result: each node counts its inputs not yet ready, each value
 * lists its consumers, and a sweep is a min-heap of the ready nodes still
 * ahead of the sweep's position; a node made ready behind the position
 * waits for the next sweep, as it would in the literal rule. */
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

/* A min-heap of node indices. */
typedef struct idx_heap {
    int *a;
    int n;
} idx_heap;

static void heap_push(idx_heap *h, int v)
{
    int i = h->n++;
    while (i > 0 && h->a[(i - 1) / 2] > v) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = v;
}

static int heap_pop(idx_heap *h)
{
    int top = h->a[0], v = h->a[--h->n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->a[c + 1] < h->a[c])
            c++;
        if (h->a[c] >= v)
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n)
        h->a[i] = v;
    return top;
}

ir_status ir_graph_toposort(ir_graph *g, ir_diag *d)
{
    int n = g->n_nodes, nv = g->n_values;
    if (n == 0)
        return IR_OK;
    /* consumers of each value as node indices, one per input slot
     * (compressed rows: value v's are use[first[v] .. first[v + 1])) */
    size_t n_uses = 0;
    for (int i = 0; i < n; i++)
        n_uses += (size_t)g->nodes[i]->n_inputs;
    int *first = calloc((size_t)nv + 2, sizeof *first);
    int *use = malloc((n_uses + 1) * sizeof *use);
    int *need = calloc((size_t)n, sizeof *need);     /* inputs not ready */
    bool *ready = calloc((size_t)nv + 1, sizeof *ready);
    ir_node **order = malloc((size_t)n * sizeof *order);
    idx_heap now = {malloc((size_t)n * sizeof(int)), 0};
    idx_heap next = {malloc((size_t)n * sizeof(int)), 0};
    if (!first || !use || !need || !ready || !order || !now.a || !next.a) {
        free(first); free(use); free(need); free(ready); free(order);
        free(now.a); free(next.a);
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory sorting the graph");
    }
    for (int i = 0; i < nv; i++) {
        const ir_value *v = g->values[i];
        ready[i] = v->is_input || v->constant || !v->producer;
    }
    for (int i = 0; i < n; i++) {
        const ir_node *nd = g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] && !ready[nd->inputs[k]->id]) {
                need[i]++;
                first[nd->inputs[k]->id + 2]++;
            }
    }
    for (int v = 0; v < nv; v++)
        first[v + 2] += first[v + 1];
    for (int i = 0; i < n; i++) {
        const ir_node *nd = g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] && !ready[nd->inputs[k]->id])
                use[first[nd->inputs[k]->id + 1]++] = i;
        if (need[i] == 0)
            heap_push(&now, i);
    }
    /* first[v] .. first[v + 1] now bound v's consumers */
    int done = 0;
    while (now.n) {
        while (now.n) {
            int i = heap_pop(&now);
            ir_node *nd = g->nodes[i];
            order[done++] = nd;
            for (int k = 0; k < nd->n_outputs; k++) {
                const ir_value *v = nd->outputs[k];
                if (!v || ready[v->id])
                    continue;
                ready[v->id] = true;
                for (int u = first[v->id]; u < first[v->id + 1]; u++)
                    if (--need[use[u]] == 0)
                        heap_push(use[u] > i ? &now : &next, use[u]);
            }
        }
        idx_heap t = now;
        now = next;
        next = t;
    }
    ir_status st = IR_OK;
    if (done < n) {
        for (int i = 0; i < n; i++)
            if (need[i] > 0) {
                st = ir_diag_set(d, IR_ERR_INPUT,
                                 "graph has a cycle (or an input that is never "
                                 "produced) through node '%s' (%s)",
                                 g->nodes[i]->name, ir_op_name(g->nodes[i]->op));
                break;
            }
    } else {
        memcpy(g->nodes, order, sizeof(ir_node *) * (size_t)n);
    }
    free(first); free(use); free(need); free(ready); free(order);
    free(now.a); free(next.a);
    return st;
}

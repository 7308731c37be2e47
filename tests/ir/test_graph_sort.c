/* test_graph_sort.c — ir_graph_toposort and the verifier on graphs of every
 * order, and on long chains.
 *
 * The oracle is the rule ir_graph_toposort promises, written literally
 * (sweep the nodes in order, place every node whose inputs are ready,
 * sweep again until nothing moves): on random graphs in random orders the
 * fast sort must give the same order. Long chains written backwards must
 * sort (the literal rule takes one sweep per node: minutes for 100,000
 * nodes) and must be reported by the verifier without recursion (a
 * depth-first walk 250,000 calls deep overflowed the stack under ASan). */
#include "ir/ir.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* The rule itself: the order the nodes should end up in. */
static void sweep_order(const ir_graph *g, const ir_node **out)
{
    int n = g->n_nodes;
    bool *ready = calloc((size_t)g->n_values + 1, 1);
    bool *placed = calloc((size_t)n + 1, 1);
    for (int i = 0; i < g->n_values; i++) {
        const ir_value *v = g->values[i];
        ready[i] = v->is_input || v->constant || !v->producer;
    }
    int done = 0;
    for (bool moved = true; moved && done < n;) {
        moved = false;
        for (int i = 0; i < n; i++) {
            const ir_node *nd = g->nodes[i];
            bool ok = !placed[i];
            for (int k = 0; ok && k < nd->n_inputs; k++)
                ok = !nd->inputs[k] || ready[nd->inputs[k]->id];
            if (!ok)
                continue;
            placed[i] = moved = true;
            out[done++] = nd;
            for (int k = 0; k < nd->n_outputs; k++)
                ready[nd->outputs[k]->id] = true;
        }
    }
    free(ready);
    free(placed);
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* A random DAG: each node adds two earlier values (inputs, a constant or
 * node outputs), some nodes two-output Splits; then the node list is
 * shuffled. */
static ir_graph *random_graph(uint32_t seed, int n_nodes)
{
    ir_graph *g = ir_graph_new("random");
    ir_dim dims[1] = {ir_dim_const(4)};
    ir_value **vals = malloc((size_t)(2 * n_nodes + 3) * sizeof *vals);
    int nv = 0;
    vals[nv++] = ir_graph_add_input(g, "a", IR_DT_F32, 1, dims);
    vals[nv++] = ir_graph_add_input(g, "b", IR_DT_F32, 1, dims);
    int64_t cd[1] = {4};
    vals[nv++] = ir_graph_add_constant(g, "c", ir_tensor_new(IR_DT_F32, 1, cd));
    for (int i = 0; i < n_nodes; i++) {
        ir_value *x = vals[lcg(&seed) % (uint32_t)nv];
        ir_value *y = vals[lcg(&seed) % (uint32_t)nv];
        char name[32];
        snprintf(name, sizeof name, "n%d", i);
        if (lcg(&seed) % 5 == 0) {
            ir_value *ins[1] = {x};
            ir_node *s = ir_graph_add_node(g, IR_OP_SPLIT, name, 1, ins, 2);
            vals[nv++] = s->outputs[0];
            vals[nv++] = s->outputs[1];
        } else {
            vals[nv++] = ir_node_make1(g, IR_OP_ADD, name, x, y);
        }
    }
    for (int i = g->n_nodes - 1; i > 0; i--) {
        int j = (int)(lcg(&seed) % (uint32_t)(i + 1));
        ir_node *t = g->nodes[i];
        g->nodes[i] = g->nodes[j];
        g->nodes[j] = t;
    }
    free(vals);
    return g;
}

static void test_same_order_as_the_rule(void)
{
    for (uint32_t seed = 1; seed <= 40; seed++) {
        ir_graph *g = random_graph(seed, 5 + (int)(seed * 7 % 90));
        const ir_node **want = calloc((size_t)g->n_nodes, sizeof *want);
        sweep_order(g, want);
        ir_diag d;
        ir_diag_init(&d);
        CHECK_MSG(ir_graph_toposort(g, &d) == IR_OK, "seed %u: %s", seed, d.msg);
        bool same = true;
        for (int i = 0; i < g->n_nodes; i++)
            same = same && g->nodes[i] == want[i];
        CHECK_MSG(same, "seed %u: the order differs from the sweep rule", seed);
        CHECK_MSG(ir_graph_verify(g, &d) == IR_OK, "seed %u: %s", seed, d.msg);
        free(want);
        ir_graph_free(g);
    }
}

/* x -> Relu r0 -> Relu r1 -> ... -> r(n-1), the node list reversed. */
static ir_graph *backward_chain(int n)
{
    ir_graph *g = ir_graph_new("chain");
    ir_dim dims[1] = {ir_dim_const(3)};
    ir_value *v = ir_graph_add_input(g, "x", IR_DT_F32, 1, dims);
    for (int i = 0; i < n; i++) {
        /* names known to be unique: ir_node_make1 would search for a free
         * one, a scan of every value per node */
        char name[32];
        snprintf(name, sizeof name, "r%d", i);
        ir_value *out[1] = {ir_graph_add_value(g, name)};
        ir_node *nd = ir_graph_add_node_with_outputs(g, IR_OP_RELU, name, 1,
                                                     &v, 1, out);
        v = nd->outputs[0];
    }
    ir_graph_mark_output(g, v);
    for (int i = 0; i < n / 2; i++) {
        ir_node *t = g->nodes[i];
        g->nodes[i] = g->nodes[n - 1 - i];
        g->nodes[n - 1 - i] = t;
    }
    return g;
}

static void test_long_chains(void)
{
    enum { N = 250000 };
    ir_graph *g = backward_chain(N);
    ir_diag d;
    ir_diag_init(&d);
    /* out of order: named, without walking 250,000 calls deep */
    CHECK(ir_graph_verify(g, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "not in topological order"));
    CHECK_MSG(ir_graph_toposort(g, &d) == IR_OK, "%s", d.msg);
    CHECK(strcmp(g->nodes[0]->name, "r0") == 0 &&
          strcmp(g->nodes[N - 1]->name, "r249999") == 0);
    CHECK_MSG(ir_graph_verify(g, &d) == IR_OK, "%s", d.msg);
    /* a cycle closed at the far end of the chain: r0 reads r99999 */
    ir_node_set_input(g->nodes[0], 0, g->nodes[N - 1]->outputs[0]);
    CHECK(ir_graph_toposort(g, &d) == IR_ERR_INPUT && strstr(d.msg, "cycle"));
    ir_diag_init(&d);
    CHECK(ir_graph_verify(g, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "graph has a cycle"));
    ir_graph_free(g);
}

int main(void)
{
    test_same_order_as_the_rule();
    test_long_chains();
    return test_finish("test_graph_sort");
}

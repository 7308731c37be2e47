/* test_verify.c — ir_graph_verify accepts well-formed graphs and names the
 * node, op and value at fault in broken ones. */
#include "ir/ir.h"
#include "testutil.h"

#include <string.h>

/* x:f32[2] -> Relu "r1" -> Neg "n1" -> output */
static ir_graph *small_graph(ir_value **x, ir_value **h, ir_value **y)
{
    ir_graph *g = ir_graph_new("small");
    ir_dim dims[1] = {ir_dim_const(2)};
    *x = ir_graph_add_input(g, "x", IR_DT_F32, 1, dims);
    *h = ir_node_make1(g, IR_OP_RELU, "r1", *x, NULL);
    *y = ir_node_make1(g, IR_OP_NEG, "n1", *h, NULL);
    ir_graph_mark_output(g, *y);
    return g;
}

static bool fails_with(const ir_graph *g, const char *a, const char *b)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_status st = ir_graph_verify(g, &d);
    bool ok = st != IR_OK && strstr(d.msg, a) && (!b || strstr(d.msg, b));
    if (!ok)
        fprintf(stderr, "  verify said (%s): %s\n", ir_status_name(st), d.msg);
    return ok;
}

static void test_good_graph(void)
{
    ir_value *x, *h, *y;
    ir_graph *g = small_graph(&x, &h, &y);
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(ir_graph_verify(g, &d) == IR_OK, "%s", d.msg);
    ir_graph_free(g);
}

static void test_dangling_input(void)
{
    ir_value *x, *h, *y;
    ir_graph *g = small_graph(&x, &h, &y);
    ir_value *ghost = ir_graph_add_value(g, "ghost");
    ir_node_set_input(g->nodes[1], 0, ghost);
    CHECK(fails_with(g, "'n1' (Neg)", "'ghost' is never defined"));
    ir_graph_free(g);
}

static void test_double_producer(void)
{
    ir_value *x, *h, *y;
    ir_graph *g = small_graph(&x, &h, &y);
    ir_value *outs[1] = {h};
    ir_value *ins[1] = {x};
    ir_graph_add_node_with_outputs(g, IR_OP_ABS, "again", 1, ins, 1, outs);
    CHECK(fails_with(g, "'r1' is produced twice", "'again' (Abs)"));
    ir_graph_free(g);
}

static void test_cycle(void)
{
    ir_value *x, *h, *y;
    ir_graph *g = small_graph(&x, &h, &y);
    ir_node_set_input(g->nodes[0], 0, y); /* r1 reads n1's output */
    CHECK(fails_with(g, "cycle", "'r1'"));
    ir_graph_free(g);
}

static void test_out_of_order(void)
{
    ir_value *x, *h, *y;
    ir_graph *g = small_graph(&x, &h, &y);
    ir_node *t = g->nodes[0];
    g->nodes[0] = g->nodes[1];
    g->nodes[1] = t;
    CHECK(fails_with(g, "topological order", "'n1' (Neg)"));
    ir_diag d;
    ir_diag_init(&d);
    CHECK(ir_graph_toposort(g, &d) == IR_OK);
    CHECK_MSG(ir_graph_verify(g, &d) == IR_OK, "%s", d.msg);
    ir_graph_free(g);
}

static void test_bad_arity(void)
{
    ir_value *x, *h, *y;
    ir_graph *g = small_graph(&x, &h, &y);
    ir_value *ins[3] = {x, x, x};
    ir_node *n = ir_graph_add_node(g, IR_OP_ADD, "add3", 3, ins, 1);
    CHECK(n != NULL);
    CHECK(fails_with(g, "'add3' (Add) has 3 inputs", "needs 2 to 2"));
    ir_graph_free(g);

    g = small_graph(&x, &h, &y);
    ir_value *ga[2] = {x, NULL};
    ir_graph_add_node(g, IR_OP_GATHER, "ga", 2, ga, 1);
    CHECK(fails_with(g, "'ga' (Gather)", "required input 1 is absent"));
    ir_graph_free(g);
}

static void test_output_not_produced(void)
{
    ir_value *x, *h, *y;
    ir_graph *g = small_graph(&x, &h, &y);
    ir_graph_mark_output(g, ir_graph_add_value(g, "nowhere"));
    CHECK(fails_with(g, "graph output 'nowhere'", "never produced"));
    ir_graph_free(g);
}

static void test_dtype_mismatch(void)
{
    ir_graph *g = ir_graph_new("dt");
    ir_dim dims[1] = {ir_dim_const(2)};
    ir_value *a = ir_graph_add_input(g, "a", IR_DT_F32, 1, dims);
    ir_value *b = ir_graph_add_input(g, "b", IR_DT_I64, 1, dims);
    ir_value *c = ir_graph_add_input(g, "c", IR_DT_BOOL, 1, dims);
    ir_value *p = ir_node_make1(g, IR_OP_POW, "pow", a, b); /* allowed */
    ir_value *w[3] = {c, a, p};
    ir_node *wn = ir_graph_add_node(g, IR_OP_WHERE, "where", 3, w, 1);
    ir_graph_mark_output(g, wn->outputs[0]);
    ir_diag d;
    ir_diag_init(&d);
    p->dtype = IR_DT_F32;
    CHECK_MSG(ir_graph_verify(g, &d) == IR_OK, "%s", d.msg);
    ir_value *s = ir_node_make1(g, IR_OP_ADD, "add", a, b);
    ir_graph_mark_output(g, s);
    CHECK(fails_with(g, "'add' (Add)", "'b' is i64"));
    ir_graph_free(g);
}

static void test_duplicate_node_id(void)
{
    ir_value *x, *h, *y;
    ir_graph *g = small_graph(&x, &h, &y);
    g->nodes[1]->id = g->nodes[0]->id;
    CHECK(fails_with(g, "share id", "'n1'"));
    ir_graph_free(g);
}

int main(void)
{
    test_good_graph();
    test_dangling_input();
    test_double_producer();
    test_cycle();
    test_out_of_order();
    test_bad_arity();
    test_output_not_produced();
    test_dtype_mismatch();
    test_duplicate_node_id();
    return test_finish("test_verify");
}

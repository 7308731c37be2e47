/* test_print.c — the text form of a small graph, compared exactly against
 * a golden (this text is what --dump-after prints and golden tests use). */
#include "ir/ir.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static char *print_to_string(const ir_graph *g)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    ir_graph_print(g, f);
    fclose(f);
    return buf;
}

static const char golden[] =
    "graph \"tiny\" opset 17\n"
    "  input  input_ids: i64[batch,seq]\n"
    "  input  x: f32[batch,4]\n"
    "  const  W: f32[4,3] (12 params)\n"
    "  const  shape: i64[2] = [0, -1]\n"
    "  %mm: f32[batch,3] = MatMul \"mm\"(x, W)\n"
    "  %act = Relu \"act\"(%mm) {alpha=0.1, axes=[0, 1], mode=\"constant\"}\n"
    "  %rs: f32[?] = Reshape \"rs\"(%act, shape)\n"
    "  output rs: f32[?]\n";

static void test_golden(void)
{
    ir_graph *g = ir_graph_new("tiny");
    ir_dim idd[2] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq")};
    ir_graph_add_input(g, "input_ids", IR_DT_I64, 2, idd);
    ir_dim xd[2] = {ir_dim_sym(g, "batch"), ir_dim_const(4)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);
    int64_t wd[2] = {4, 3};
    ir_value *w = ir_graph_add_constant(g, "W", ir_tensor_new(IR_DT_F32, 2, wd));
    int64_t sd[1] = {2};
    ir_tensor *st = ir_tensor_new(IR_DT_I64, 1, sd);
    ir_tensor_set_f64(st, 0, 0);
    ir_tensor_set_f64(st, 1, -1);
    ir_value *shape = ir_graph_add_constant(g, "shape", st);
    ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "mm", x, w);
    h->dtype = IR_DT_F32;
    h->rank = 2;
    h->dims[0] = ir_dim_sym(g, "batch");
    h->dims[1] = ir_dim_const(3);
    ir_value *y = ir_node_make1(g, IR_OP_RELU, "act", h, NULL);
    ir_node *act = y->producer;
    /* attributes are printed sorted by name, whatever the insertion order */
    ir_node_set_attr_string(g, act, "mode", "constant");
    int64_t axes[2] = {0, 1};
    ir_node_set_attr_ints(g, act, "axes", 2, axes);
    ir_node_set_attr_float(g, act, "alpha", 0.1f);
    ir_value *r = ir_node_make1(g, IR_OP_RESHAPE, "rs", y, shape);
    r->dtype = IR_DT_F32;
    ir_graph_mark_output(g, r);

    char *text = print_to_string(g);
    CHECK(text != NULL);
    CHECK_MSG(text && strcmp(text, golden) == 0, "got:\n%s\nwant:\n%s", text,
              golden);
    free(text);
    ir_graph_free(g);
}

static void test_value_types(void)
{
    ir_graph *g = ir_graph_new("types");
    ir_value *v = ir_graph_add_value(g, "v");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    v->dtype = IR_DT_F32;
    ir_value_print_type(v, f);          /* unknown rank */
    fputc(' ', f);
    v->rank = 0;
    ir_value_print_type(v, f);          /* scalar */
    fputc(' ', f);
    v->rank = 2;
    v->dims[0] = ir_dim_sym(g, "batch");
    v->dims[1] = ir_dim_unknown();
    ir_value_print_type(v, f);          /* unnamed symbolic dim */
    fclose(f);
    CHECK_MSG(strcmp(buf, "f32[?] f32[] f32[batch,?]") == 0, "got '%s'", buf);
    free(buf);
    ir_graph_free(g);
}

int main(void)
{
    test_golden();
    test_value_types();
    return test_finish("test_print");
}

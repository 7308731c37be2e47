/* test_ir_graph.c — building a graph by hand with the builder API. */
#include "ir/ir.h"
#include "testutil.h"

int main(void)
{
    ir_graph *g = ir_graph_new("tiny");
    ir_dim xd[2] = {ir_dim_sym(g, "batch"), ir_dim_const(4)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);
    int64_t wd[2] = {4, 3};
    ir_value *w = ir_graph_add_constant(g, "W", ir_tensor_new(IR_DT_F32, 2, wd));
    ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "mm", x, w);
    ir_value *y = ir_node_make1(g, IR_OP_RELU, "act", h, NULL);
    CHECK(ir_graph_mark_output(g, y));
    CHECK(g->n_nodes == 2);
    CHECK(ir_op_from_onnx("", "MatMul") == IR_OP_MATMUL);
    CHECK(ir_op_from_onnx("com.microsoft", "MatMul") == IR_OP_COUNT);
    int64_t params, bytes;
    ir_graph_param_stats(g, &params, &bytes);
    CHECK(params == 12 && bytes == 48);
    ir_diag d;
    ir_diag_init(&d);
    CHECK(ir_graph_verify(g, &d) == IR_OK);
    CHECK(ir_f16_to_f32(ir_f32_to_f16(1.5f)) == 1.5f);
    CHECK(ir_bf16_to_f32(ir_f32_to_bf16(-2.0f)) == -2.0f);
    ir_graph_free(g);
    return test_finish("test_ir_graph");
}

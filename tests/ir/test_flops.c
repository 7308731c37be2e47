/* test_flops.c — the FLOP counting rule of ir/flops.h on small graphs whose
 * counts are worked out by hand. */
#include <string.h>

#include "ir/flops.h"
#include "ir/ir.h"
#include "testutil.h"

/* y = Softmax(Relu(x · W) + b), x f32[2,4], W [4,3], b [3]:
 *   MatMul 2·K·numel(out) = 2·4·6 = 48, Relu 6, Add 6, Softmax 5·6 = 30. */
static void test_small_mlp(void)
{
    ir_graph *g = ir_graph_new("mlp");
    ir_dim xd[2] = {ir_dim_const(2), ir_dim_const(4)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);
    int64_t wd[2] = {4, 3}, bd[1] = {3};
    ir_value *w = ir_graph_add_constant(g, "W", ir_tensor_new(IR_DT_F32, 2, wd));
    ir_value *b = ir_graph_add_constant(g, "b", ir_tensor_new(IR_DT_F32, 1, bd));
    ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "mm", x, w);
    ir_value *r = ir_node_make1(g, IR_OP_RELU, "act", h, NULL);
    ir_value *a = ir_node_make1(g, IR_OP_ADD, "bias", r, b);
    ir_value *y = ir_node_make1(g, IR_OP_SOFTMAX, "sm", a, NULL);
    ir_graph_mark_output(g, y);
    /* Shapes set by hand (infer-shapes is tested with the passes). */
    ir_value *outs[4] = {h, r, a, y};
    for (int i = 0; i < 4; i++) {
        outs[i]->dtype = IR_DT_F32;
        outs[i]->rank = 2;
        outs[i]->dims[0] = ir_dim_const(2);
        outs[i]->dims[1] = ir_dim_const(3);
    }
    ir_flops f;
    ir_graph_flops(g, &f);
    CHECK_MSG(f.matmul == 48, "matmul %g", f.matmul);
    CHECK_MSG(f.elementwise == 12, "elementwise %g", f.elementwise);
    CHECK_MSG(f.normalize == 30, "normalize %g", f.normalize);
    CHECK_MSG(f.total == 90, "total %g", f.total);
    CHECK(f.uncounted == 0);

    /* An unknown size is reported, not guessed. */
    y->dims[1] = ir_dim_unknown();
    ir_graph_flops(g, &f);
    CHECK(f.uncounted == 1);
    CHECK(f.total == 60);
    ir_graph_free(g);
}

/* Gemm(A^T, B, C), A [5,2] transposed -> M=2, K=5; B [5,3]: 2·2·3·5 = 60,
 * plus M·N = 6 for C. */
static void test_gemm_trans_a(void)
{
    ir_graph *g = ir_graph_new("gemm");
    ir_dim ad[2] = {ir_dim_const(5), ir_dim_const(2)};
    ir_value *av = ir_graph_add_input(g, "a", IR_DT_F32, 2, ad);
    int64_t bd[2] = {5, 3}, cd[1] = {3};
    ir_value *bv = ir_graph_add_constant(g, "B", ir_tensor_new(IR_DT_F32, 2, bd));
    ir_value *cv = ir_graph_add_constant(g, "C", ir_tensor_new(IR_DT_F32, 1, cd));
    ir_value *ins[3] = {av, bv, cv};
    ir_node *n = ir_graph_add_node(g, IR_OP_GEMM, "gemm", 3, ins, 1);
    ir_node_set_attr_int(g, n, "transA", 1);
    n->outputs[0]->dtype = IR_DT_F32;
    n->outputs[0]->rank = 2;
    n->outputs[0]->dims[0] = ir_dim_const(2);
    n->outputs[0]->dims[1] = ir_dim_const(3);
    double fl = 0;
    CHECK(ir_node_flops(n, &fl));
    CHECK_MSG(fl == 66, "gemm %g", fl);
    ir_graph_free(g);
}

int main(void)
{
    test_small_mlp();
    test_gemm_trans_a();
    return test_finish("test_flops");
}

/* test_flops.c — the FLOP counting rule of ir/flops.h on small graphs whose
 * counts are worked out by hand, and on small BERT graphs (built from
 * encoders) whose count the fusion passes must keep. */
#include <string.h>

#include "ir/encoder.h"
#include "ir/flops.h"
#include "ir/ir.h"
#include "passes/pass.h"
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

/* FusedMatMul(A [4,2,6,3], B [6,4,5]; transA, transBatchA, alpha 0.5): A'
 * is A permuted [1,2,3,0] = [2,6,3,4], so K = 4 (A's axis 0) and Y is
 * [2,6,3,5], 180 elements: 2·4·180 = 1440 for the product, 180 for alpha.
 * fuse-ms-ops writes Transpose + MatMul + Mul, which count the same. */
static void test_fused_matmul(void)
{
    ir_graph *g = ir_graph_new("fmm");
    ir_dim ad[4] = {ir_dim_const(4), ir_dim_const(2), ir_dim_const(6),
                    ir_dim_const(3)};
    ir_dim bd[3] = {ir_dim_const(6), ir_dim_const(4), ir_dim_const(5)};
    ir_value *ins[2] = {ir_graph_add_input(g, "a", IR_DT_F32, 4, ad),
                        ir_graph_add_input(g, "b", IR_DT_F32, 3, bd)};
    ir_node *n = ir_graph_add_node(g, IR_OP_MS_FUSED_MATMUL, "fmm", 2, ins, 1);
    ir_node_set_attr_int(g, n, "transA", 1);
    ir_node_set_attr_int(g, n, "transBatchA", 1);
    ir_node_set_attr_float(g, n, "alpha", 0.5f);
    ir_graph_mark_output(g, n->outputs[0]);
    ir_diag d;
    ir_diag_init(&d);
    pass_ctx ctx;
    pass_ctx_init(&ctx, &d);
    ir_flops a, b;
    bool ok = pass_run_list(g, "infer-shapes", &ctx) == IR_OK;
    CHECK_MSG(ok, "infer-shapes: %s", d.msg);
    ir_graph_flops(g, &a);
    CHECK_MSG(a.matmul == 1440 && a.elementwise == 180 && a.total == 1620,
              "FusedMatMul: matmul %g, elementwise %g", a.matmul, a.elementwise);
    ok = ok && pass_run_list(g, "fuse-ms-ops,infer-shapes", &ctx) == IR_OK;
    CHECK_MSG(ok, "fuse-ms-ops: %s", d.msg);
    ir_graph_flops(g, &b);
    bool gone = true;
    for (int i = 0; i < g->n_nodes; i++)
        gone = gone && g->nodes[i]->op != IR_OP_MS_FUSED_MATMUL;
    CHECK_MSG(gone && b.total == a.total && b.matmul == a.matmul &&
              b.uncounted == 0, "after fuse-ms-ops: %g (matmul %g), FusedMatMul %s",
              b.total, b.matmul, gone ? "gone" : "left");
    ir_graph_free(g);
}

/* FLOPs of e's graph after `passes` then "default,infer-shapes" at batch
 * 2, seq 7 (what `distilc inspect` runs); the number of fused ops left in
 * *fused. */
static bool encoder_flops(const ir_encoder *e, const ir_encoder_graph_opts *go,
                          const char *passes, ir_flops *f, int *fused)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    pass_ctx ctx;
    pass_ctx_init(&ctx, &d);
    ctx.fix_batch = 2;
    ctx.fix_seq = 7;
    bool ok = ir_encoder_to_graph(e, go, &g, &d) == IR_OK &&
              pass_run_list(g, passes, &ctx) == IR_OK &&
              pass_run_list(g, "default,infer-shapes", &ctx) == IR_OK;
    CHECK_MSG(ok, "%s: %s", passes, d.msg);
    if (ok) {
        ir_graph_flops(g, f);
        *fused = 0;
        for (int i = 0; i < g->n_nodes; i++)
            *fused += (ir_op_get(g->nodes[i]->op)->flags & IR_OPF_INTERNAL) != 0;
    }
    ir_graph_free(g);
    return ok;
}

/* A fused op counts what it fuses: `default` and `default,fuse` give a BERT
 * graph the same FLOPs, kind by kind (fused ops used to count 0), MPNet's
 * position bias (Attention's input 4) included. */
static void test_fuse_keeps_flops(void)
{
    struct {
        const char *name;
        ir_act act;
        int64_t embed;
        bool token_types;
        int64_t rel_buckets; /* MPNet's relative position bias: 32 */
    } cases[] = {
        {"gelu", IR_ACT_GELU, 0, true, 0},
        {"gelu_tanh, factorized", IR_ACT_GELU_TANH, 8, true, 0},
        {"relu, no token types", IR_ACT_RELU, 0, false, 0},
        {"relative position bias", IR_ACT_GELU, 0, false, 32},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ir_diag d;
        ir_diag_init(&d);
        ir_encoder_config c;
        ir_encoder_config_init(&c);
        c.hidden = 16, c.layers = 2, c.heads = 4, c.ffn = 32, c.vocab = 50;
        c.max_positions = 24, c.type_vocab = 2, c.labels = 3;
        c.activation = cases[i].act;
        c.embed = cases[i].embed;
        c.rel_buckets = cases[i].rel_buckets;
        c.rel_max_distance = 128;
        c.rel_bidirectional = true;
        ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, &d);
        ir_encoder *e = NULL;
        CHECK_MSG(ir_encoder_new(&c, &e, &d) == IR_OK, "%s", d.msg);
        if (!e)
            continue;
        ir_encoder_init_random(e, NULL);
        ir_encoder_graph_opts go;
        ir_encoder_graph_opts_default(&go);
        go.token_types = cases[i].token_types;
        ir_flops a, b;
        int fa = 0, fb = 0;
        if (encoder_flops(e, &go, "default", &a, &fa) &&
            encoder_flops(e, &go, "default,fuse", &b, &fb)) {
            CHECK_MSG(fa == 0 && fb >= 4 * c.layers, "%s: %d fused ops after "
                      "fuse, %d before", cases[i].name, fb, fa);
            CHECK_MSG(a.uncounted == 0 && b.uncounted == 0 && a.total > 0,
                      "%s: uncounted %lld / %lld", cases[i].name,
                      (long long)a.uncounted, (long long)b.uncounted);
            CHECK_MSG(a.total == b.total && a.matmul == b.matmul &&
                      a.elementwise == b.elementwise &&
                      a.normalize == b.normalize && a.reduce == b.reduce,
                      "%s: default %.0f (matmul %.0f, elementwise %.0f, "
                      "normalize %.0f, reduce %.0f), default,fuse %.0f (%.0f, "
                      "%.0f, %.0f, %.0f)", cases[i].name, a.total, a.matmul,
                      a.elementwise, a.normalize, a.reduce, b.total, b.matmul,
                      b.elementwise, b.normalize, b.reduce);
            printf("  %s: %.0f FLOPs (%d fused ops)\n", cases[i].name, b.total, fb);
        }
        ir_encoder_free(e);
    }
}

int main(void)
{
    test_small_mlp();
    test_gemm_trans_a();
    test_fused_matmul();
    test_fuse_keeps_flops();
    return test_finish("test_flops");
}

/* make_seeds.c — writes a small seed corpus for fuzz_onnx_load: models built
 * with the graph builder and saved by distilc itself (so no binary seeds
 * live in the repository). Usage: make_seeds OUTDIR */
#include <stdio.h>
#include <string.h>

#include "frontend/onnx.h"

static int save(const ir_graph *g, const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ir_diag d;
    ir_diag_init(&d);
    if (onnx_save_file(g, path, NULL, &d) != IR_OK) {
        fprintf(stderr, "make_seeds: %s\n", d.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds OUTDIR\n");
        return 2;
    }
    int rc = 0;
    /* 1: y = Relu(x · W + b), symbolic batch */
    ir_graph *g = ir_graph_new("mlp");
    ir_dim xd[2] = {ir_dim_sym(g, "batch"), ir_dim_const(4)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);
    int64_t wd[2] = {4, 3}, bd[1] = {3};
    ir_value *w = ir_graph_add_constant(g, "W", ir_tensor_new(IR_DT_F32, 2, wd));
    ir_value *b = ir_graph_add_constant(g, "b", ir_tensor_new(IR_DT_F32, 1, bd));
    ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "mm", x, w);
    h = ir_node_make1(g, IR_OP_ADD, "bias", h, b);
    ir_node *sm = ir_graph_add_node(g, IR_OP_SOFTMAX, "sm", 1, &h, 1);
    ir_node_set_attr_int(g, sm, "axis", -1);
    /* type and shape as shape inference would set them */
    sm->outputs[0]->dtype = IR_DT_F32;
    sm->outputs[0]->rank = 2;
    sm->outputs[0]->dims[0] = xd[0];
    sm->outputs[0]->dims[1] = ir_dim_const(3);
    ir_graph_mark_output(g, sm->outputs[0]);
    ir_graph_set_meta(g, "k", "v");
    rc |= save(g, argv[1], "mlp.onnx");
    ir_graph_free(g);

    /* 2: Constant node, Reshape with an i64 shape, LayerNorm with attrs */
    g = ir_graph_new("shapes");
    ir_dim sd[3] = {ir_dim_const(2), ir_dim_const(3), ir_dim_const(4)};
    x = ir_graph_add_input(g, "x", IR_DT_F32, 3, sd);
    ir_node *c = ir_graph_add_node(g, IR_OP_CONSTANT, "shape", 0, NULL, 1);
    int64_t one = 2;
    ir_attr *a = ir_node_set_attr(g, c, "value", IR_ATTR_TENSOR);
    a->t = ir_tensor_new(IR_DT_I64, 1, &one);
    ((int64_t *)a->t->data)[0] = 6;
    ((int64_t *)a->t->data)[1] = 4;
    h = ir_node_make1(g, IR_OP_RESHAPE, "rs", x, c->outputs[0]);
    int64_t gd[1] = {4};
    ir_value *gamma = ir_graph_add_constant(g, "gamma", ir_tensor_new(IR_DT_F32, 1, gd));
    ir_value *in3[3] = {h, gamma, NULL};
    ir_node *ln = ir_graph_add_node(g, IR_OP_LAYER_NORMALIZATION, "ln", 3, in3, 1);
    ir_node_set_attr_float(g, ln, "epsilon", 1e-5f);
    int64_t perm[2] = {1, 0};
    ir_node *tr = ir_graph_add_node(g, IR_OP_TRANSPOSE, "tr", 1, &ln->outputs[0], 1);
    ir_node_set_attr_ints(g, tr, "perm", 2, perm);
    tr->outputs[0]->dtype = IR_DT_F32;
    tr->outputs[0]->rank = 2;
    tr->outputs[0]->dims[0] = ir_dim_const(4);
    tr->outputs[0]->dims[1] = ir_dim_const(6);
    ir_graph_mark_output(g, tr->outputs[0]);
    rc |= save(g, argv[1], "shapes.onnx");
    ir_graph_free(g);
    return rc;
}

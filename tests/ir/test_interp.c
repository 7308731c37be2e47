/* test_interp.c — the reference interpreter end to end: build a small
 * 2-layer MLP with the builder, run it for two batch sizes and compare with
 * a double-precision loop written here (tolerance 1e-5), then the ways a
 * run is refused: wrong dtype, rank or size of an input, a symbolic
 * dimension ("batch") bound to two sizes, a kernel error, a value nothing
 * computes. Built with ASan, the run also shows nothing leaks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/interp.h"
#include "testutil.h"

enum { IN = 4, HID = 8, OUT = 3 };

static float param(int i) /* deterministic weights in [-1, 1] */
{
    return (float)((i * 37 % 17) - 8) / 8.0f;
}

static ir_value *const_f32(ir_graph *g, const char *name, int rank,
                           const int64_t *dims, int seed)
{
    ir_tensor *t = ir_tensor_new(IR_DT_F32, rank, dims);
    for (int64_t i = 0; i < ir_tensor_numel(t); i++)
        ((float *)t->data)[i] = param(seed + (int)i);
    return ir_graph_add_constant(g, name, t);
}

/* probs = Softmax(Relu(x·W1 + b1)·W2 + b2); outputs: probs, the hidden
 * activation (an intermediate also read by a later node), the input x itself
 * and the constant b2 (graph outputs may be inputs or constants). A second
 * input `mask` [batch] shares the symbol "batch" with x; it is only checked
 * against x and echoed as an output. */
static ir_graph *mlp_build(void)
{
    ir_graph *g = ir_graph_new("mlp");
    ir_dim xd[2] = {ir_dim_sym(g, "batch"), ir_dim_const(IN)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);
    ir_dim md[1] = {ir_dim_sym(g, "batch")};
    ir_value *mask = ir_graph_add_input(g, "mask", IR_DT_I64, 1, md);
    ir_value *w1 = const_f32(g, "W1", 2, (int64_t[]){IN, HID}, 1);
    ir_value *b1 = const_f32(g, "b1", 1, (int64_t[]){HID}, 100);
    ir_value *w2 = const_f32(g, "W2", 2, (int64_t[]){HID, OUT}, 200);
    ir_value *b2 = const_f32(g, "b2", 1, (int64_t[]){OUT}, 300);
    ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "fc1", x, w1);
    h = ir_node_make1(g, IR_OP_ADD, "fc1_bias", h, b1);
    ir_value *act = ir_node_make1(g, IR_OP_RELU, "act", h, NULL);
    ir_value *z = ir_node_make1(g, IR_OP_MATMUL, "fc2", act, w2);
    z = ir_node_make1(g, IR_OP_ADD, "fc2_bias", z, b2);
    ir_value *p = ir_node_make1(g, IR_OP_SOFTMAX, "probs", z, NULL);
    ir_graph_mark_output(g, p);
    ir_graph_mark_output(g, act);
    ir_graph_mark_output(g, x);
    ir_graph_mark_output(g, b2);
    ir_graph_mark_output(g, mask);
    return g;
}

/* The same network in double. */
static void mlp_reference(const float *x, int64_t batch, double *probs,
                          double *act)
{
    for (int64_t b = 0; b < batch; b++) {
        for (int j = 0; j < HID; j++) {
            double s = param(100 + j);
            for (int k = 0; k < IN; k++)
                s += (double)x[b * IN + k] * param(1 + k * HID + j);
            act[b * HID + j] = s > 0 ? s : 0;
        }
        double z[OUT], mx = -INFINITY, sum = 0;
        for (int o = 0; o < OUT; o++) {
            z[o] = param(300 + o);
            for (int j = 0; j < HID; j++)
                z[o] += act[b * HID + j] * param(200 + j * OUT + o);
            mx = fmax(mx, z[o]);
        }
        for (int o = 0; o < OUT; o++)
            sum += exp(z[o] - mx);
        for (int o = 0; o < OUT; o++)
            probs[b * OUT + o] = exp(z[o] - mx) / sum;
    }
}

static void run_mlp(ir_graph *g, int64_t batch)
{
    ir_tensor *x = ir_tensor_new(IR_DT_F32, 2, (int64_t[]){batch, IN});
    ir_tensor *mask = ir_tensor_new(IR_DT_I64, 1, (int64_t[]){batch});
    for (int64_t i = 0; i < batch * IN; i++)
        ((float *)x->data)[i] = (float)((i * 7) % 11 - 5) / 3.0f;
    const ir_tensor *ins[2] = {x, mask};
    ir_tensor **outs = NULL;
    ir_diag d;
    ir_diag_init(&d);
    ir_status st = ir_interp_run(g, ins, &outs, &d);
    CHECK_MSG(st == IR_OK, "batch %lld: %s", (long long)batch, d.msg);
    if (st == IR_OK) {
        double *probs = malloc(sizeof(double) * (size_t)(batch * OUT));
        double *act = malloc(sizeof(double) * (size_t)(batch * HID));
        mlp_reference(x->data, batch, probs, act);
        CHECK(outs[0]->rank == 2 && outs[0]->dims[0] == batch &&
              outs[0]->dims[1] == OUT);
        CHECK(outs[1]->rank == 2 && outs[1]->dims[1] == HID);
        double worst = 0;
        for (int64_t i = 0; i < batch * OUT; i++)
            worst = fmax(worst, fabs(((float *)outs[0]->data)[i] - probs[i]));
        for (int64_t i = 0; i < batch * HID; i++)
            worst = fmax(worst, fabs(((float *)outs[1]->data)[i] - act[i]));
        CHECK_MSG(worst < 1e-5, "batch %lld: worst error %g", (long long)batch,
                  worst);
        /* the input and constant outputs are copies, not the originals */
        CHECK(outs[2] != x && ir_tensor_same_shape(outs[2], x) &&
              (x->nbytes == 0 || memcmp(outs[2]->data, x->data, x->nbytes) == 0));
        CHECK(outs[3]->rank == 1 && outs[3]->dims[0] == OUT &&
              ((float *)outs[3]->data)[1] == param(301));
        CHECK(outs[4]->dtype == IR_DT_I64 && outs[4]->dims[0] == batch);
        free(probs);
        free(act);
        ir_interp_free_outputs(g, outs);
    }
    ir_tensor_free(x);
    ir_tensor_free(mask);
}

/* Runs g on (x, mask) built with the given types; returns the status and
 * leaves the message in d. */
static ir_status run_with(ir_graph *g, ir_dtype xt, int xrank, const int64_t *xd,
                          int64_t mask_len, ir_diag *d)
{
    ir_tensor *x = ir_tensor_new(xt, xrank, xd);
    ir_tensor *mask = ir_tensor_new(IR_DT_I64, 1, (int64_t[]){mask_len});
    const ir_tensor *ins[2] = {x, mask};
    ir_tensor **outs = NULL;
    ir_diag_init(d);
    ir_status st = ir_interp_run(g, ins, &outs, d);
    if (st == IR_OK)
        ir_interp_free_outputs(g, outs);
    else
        CHECK(outs == NULL);
    ir_tensor_free(x);
    ir_tensor_free(mask);
    return st;
}

static void test_input_checks(ir_graph *g)
{
    ir_diag d;
    /* wrong dtype */
    CHECK(run_with(g, IR_DT_I64, 2, (int64_t[]){5, IN}, 5, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "input 'x'") && strstr(d.msg, "f32[batch,4]") &&
                  strstr(d.msg, "i64[5,4]"),
              "message: %s", d.msg);
    /* wrong known size */
    CHECK(run_with(g, IR_DT_F32, 2, (int64_t[]){5, 3}, 5, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "f32[batch,4]") && strstr(d.msg, "f32[5,3]"),
              "message: %s", d.msg);
    /* wrong rank */
    CHECK(run_with(g, IR_DT_F32, 3, (int64_t[]){5, IN, 1}, 5, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "f32[5,4,1]"), "message: %s", d.msg);
    /* "batch" is 5 in x but 6 in mask */
    CHECK(run_with(g, IR_DT_F32, 2, (int64_t[]){5, IN}, 6, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "input 'mask'") && strstr(d.msg, "'batch'") &&
                  strstr(d.msg, "input 'x'") && strstr(d.msg, "= 5"),
              "message: %s", d.msg);
    /* an input not given at all */
    ir_tensor *x = ir_tensor_new(IR_DT_F32, 2, (int64_t[]){2, IN});
    const ir_tensor *ins[2] = {x, NULL};
    ir_tensor **outs = NULL;
    ir_diag_init(&d);
    CHECK(ir_interp_run(g, ins, &outs, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "'mask'") && strstr(d.msg, "not given"), "message: %s",
              d.msg);
    ir_tensor_free(x);
}

/* A kernel's error reaches the caller unchanged, naming the node; nothing
 * computed before it leaks. */
static void test_kernel_error(void)
{
    ir_graph *g = ir_graph_new("bad");
    ir_dim xd[2] = {ir_dim_const(2), ir_dim_const(IN)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);
    ir_value *w1 = const_f32(g, "W1", 2, (int64_t[]){IN, HID}, 1);
    ir_value *w2 = const_f32(g, "W2", 2, (int64_t[]){OUT, OUT}, 2);
    ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "fc1", x, w1);
    ir_value *y = ir_node_make1(g, IR_OP_MATMUL, "fc2_wrong", h, w2);
    ir_graph_mark_output(g, y);
    ir_tensor *xt = ir_tensor_new(IR_DT_F32, 2, (int64_t[]){2, IN});
    const ir_tensor *ins[1] = {xt};
    ir_tensor **outs = NULL;
    ir_diag d;
    ir_diag_init(&d);
    CHECK(ir_interp_run(g, ins, &outs, &d) == IR_ERR_INPUT);
    CHECK_MSG(strncmp(d.msg, "node 'fc2_wrong' (MatMul)", 25) == 0, "message: %s",
              d.msg);
    CHECK(outs == NULL);
    ir_tensor_free(xt);
    ir_graph_free(g);
}

/* Values that no node computes: a node input (internal error naming the
 * node) and a graph output. */
static void test_missing_values(void)
{
    ir_graph *g = ir_graph_new("missing");
    ir_dim xd[1] = {ir_dim_const(3)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 1, xd);
    ir_value *ghost = ir_graph_add_value(g, "ghost");
    ir_value *y = ir_node_make1(g, IR_OP_ADD, "uses_ghost", x, ghost);
    ir_graph_mark_output(g, y);
    ir_tensor *xt = ir_tensor_new(IR_DT_F32, 1, (int64_t[]){3});
    const ir_tensor *ins[1] = {xt};
    ir_tensor **outs = NULL;
    ir_diag d;
    ir_diag_init(&d);
    CHECK(ir_interp_run(g, ins, &outs, &d) == IR_ERR_FAILED);
    CHECK_MSG(strstr(d.msg, "uses_ghost") && strstr(d.msg, "'ghost'"),
              "message: %s", d.msg);
    ir_graph_free(g);

    g = ir_graph_new("missing_out");
    x = ir_graph_add_input(g, "x", IR_DT_F32, 1, xd);
    ir_value *r = ir_node_make1(g, IR_OP_RELU, "act", x, NULL);
    ir_graph_mark_output(g, r);
    ir_graph_mark_output(g, ir_graph_add_value(g, "nowhere"));
    ir_diag_init(&d);
    CHECK(ir_interp_run(g, ins, &outs, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "'nowhere'"), "message: %s", d.msg);
    CHECK(outs == NULL);
    ir_graph_free(g);
    ir_tensor_free(xt);
}

/* ir_interp_eval_node: one node on caller tensors (constant folding uses it). */
static void test_eval_node(void)
{
    ir_graph *g = ir_graph_new("one");
    ir_value *a = const_f32(g, "a", 2, (int64_t[]){2, 3}, 0);
    ir_value *b = const_f32(g, "b", 2, (int64_t[]){3, 2}, 9);
    ir_value *ins_v[2] = {a, b};
    ir_node *n = ir_graph_add_node(g, IR_OP_MATMUL, "mm", 2, ins_v, 1);
    const ir_tensor *ins[2] = {a->constant, b->constant};
    ir_tensor *outs[1];
    ir_diag d;
    ir_diag_init(&d);
    CHECK(ir_interp_eval_node(g, n, ins, outs, &d) == IR_OK);
    double want = 0;
    for (int k = 0; k < 3; k++)
        want += (double)param(k) * param(9 + k * 2);
    CHECK(fabs(((float *)outs[0]->data)[0] - want) < 1e-6);
    ir_tensor_free(outs[0]);
    /* a required input missing is refused before the kernel runs */
    const ir_tensor *half[2] = {a->constant, NULL};
    CHECK(ir_interp_eval_node(g, n, half, outs, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "'mm'") && strstr(d.msg, "input 1"), "message: %s",
              d.msg);
    ir_graph_free(g);
}

int main(void)
{
    ir_graph *g = mlp_build();
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(ir_graph_verify(g, &d) == IR_OK, "%s", d.msg);
    run_mlp(g, 5);
    run_mlp(g, 1);
    run_mlp(g, 0); /* an empty batch runs too */
    test_input_checks(g);
    ir_graph_free(g);
    test_kernel_error();
    test_missing_values();
    test_eval_node();
    return test_finish("test_interp");
}

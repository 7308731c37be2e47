/* test_ops_elementwise.c — the elementwise kernels (ir/ops/elementwise.c,
 * unary.c, cast.c) called the way the interpreter calls them: build a one-node
 * graph (so attributes can be set), then run the op's eval hook on hand-made
 * tensors, or its infer hook on the graph's values.
 *
 * Expected numbers come from numpy / the ONNX spec formulas (worked out by
 * hand in the comments).
 */
#include "ir/ir.h"
#include "ir/ops/kernel.h"
#include "testutil.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* A tensor of dtype t and shape dims filled from vals (numel values). */
static ir_tensor *tens(ir_dtype t, int rank, const int64_t *dims,
                       const double *vals)
{
    ir_tensor *x = ir_tensor_new(t, rank, dims);
    int64_t n = ir_tensor_numel(x);
    for (int64_t i = 0; i < n; i++)
        ir_tensor_set_f64(x, i, vals[i]);
    return x;
}

/* A node of op `op` whose inputs have the tensors' types (NULL = absent). */
static ir_node *node_for(ir_graph *g, ir_op op, int n, const ir_tensor *const *ins)
{
    ir_value *vs[8] = {0};
    for (int i = 0; i < n; i++) {
        if (!ins[i])
            continue;
        ir_dim dims[IR_MAX_RANK];
        for (int k = 0; k < ins[i]->rank; k++)
            dims[k] = ir_dim_const(ins[i]->dims[k]);
        vs[i] = ir_graph_add_input(g, NULL, ins[i]->dtype, ins[i]->rank, dims);
    }
    return ir_graph_add_node(g, op, "n0", n, vs, 1);
}

/* Runs node's eval hook on ins. */
static ir_status eval(ir_graph *g, ir_node *node, int n,
                      const ir_tensor *const *ins, ir_tensor **out, ir_diag *d)
{
    ir_kernel_args a = {g, node, g->opset, n, ins, 1, out, d};
    *out = NULL;
    ir_diag_init(d);
    return ir_op_hooks_get(node->op)->eval(&a);
}

/* One-shot: op on ins without attributes. */
static ir_status run(ir_op op, int n, const ir_tensor *const *ins,
                     ir_tensor **out, ir_diag *d)
{
    ir_graph *g = ir_graph_new("t");
    ir_node *node = node_for(g, op, n, ins);
    ir_status s = eval(g, node, n, ins, out, d);
    ir_graph_free(g);
    return s;
}

static ir_status infer(ir_graph *g, ir_node *node, ir_diag *d)
{
    ir_infer_args a = {g, node, g->opset, d};
    ir_diag_init(d);
    return ir_op_hooks_get(node->op)->infer(&a);
}

/* out has dtype t, shape dims, and values vals (within tol). */
static bool same(const ir_tensor *out, ir_dtype t, int rank,
                 const int64_t *dims, const double *vals, double tol)
{
    if (!out || out->dtype != t || out->rank != rank)
        return false;
    for (int k = 0; k < rank; k++)
        if (out->dims[k] != dims[k])
            return false;
    int64_t n = ir_tensor_numel(out);
    for (int64_t i = 0; i < n; i++) {
        double v = ir_tensor_get_f64(out, i);
        bool ok = isnan(vals[i]) ? isnan(v) : (v == vals[i] || fabs(v - vals[i]) <= tol);
        if (!ok) {
            fprintf(stderr, "  element %lld: got %.9g want %.9g\n",
                    (long long)i, v, vals[i]);
            return false;
        }
    }
    return true;
}

/* Binary op on two small tensors, expecting values. */
static void check_bin(ir_op op, ir_dtype ta, int ra, const int64_t *da,
                      const double *va, ir_dtype tb, int rb, const int64_t *db,
                      const double *vb, ir_dtype tout, int ro,
                      const int64_t *dout, const double *vout, const char *what)
{
    ir_tensor *x = tens(ta, ra, da, va), *y = tens(tb, rb, db, vb), *o;
    const ir_tensor *ins[2] = {x, y};
    ir_diag d;
    ir_status s = run(op, 2, ins, &o, &d);
    CHECK_MSG(s == IR_OK, "%s: %s", what, d.msg);
    CHECK_MSG(same(o, tout, ro, dout, vout, 1e-6), "%s", what);
    ir_tensor_free(x);
    ir_tensor_free(y);
    ir_tensor_free(o);
}

static void test_arith_broadcast(void)
{
    int64_t d23[2] = {2, 3}, d3[1] = {3}, d21[2] = {2, 1}, d13[2] = {1, 3};
    double a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30}, c[2] = {100, 200};
    /* same shape */
    check_bin(IR_OP_ADD, IR_DT_F32, 2, d23, a, IR_DT_F32, 2, d23, a, IR_DT_F32,
              2, d23, (double[]){2, 4, 6, 8, 10, 12}, "add same shape");
    /* trailing broadcast [2,3] + [3] */
    check_bin(IR_OP_ADD, IR_DT_F32, 2, d23, a, IR_DT_F32, 1, d3, b, IR_DT_F32,
              2, d23, (double[]){11, 22, 33, 14, 25, 36}, "add [2,3]+[3]");
    /* both sides broadcast [2,1] - [1,3] -> [2,3] */
    check_bin(IR_OP_SUB, IR_DT_F32, 2, d21, c, IR_DT_F32, 2, d13, b, IR_DT_F32,
              2, d23, (double[]){90, 80, 70, 190, 180, 170}, "sub [2,1]-[1,3]");
    /* scalar (rank 0) on the left */
    check_bin(IR_OP_MUL, IR_DT_F32, 0, NULL, (double[]){2}, IR_DT_F32, 2, d23,
              a, IR_DT_F32, 2, d23, (double[]){2, 4, 6, 8, 10, 12}, "mul scalar");
    check_bin(IR_OP_DIV, IR_DT_F32, 2, d23, a, IR_DT_F32, 1, (int64_t[]){1},
              (double[]){2}, IR_DT_F32, 2, d23,
              (double[]){0.5, 1, 1.5, 2, 2.5, 3}, "div by [1]");
    /* a float divided by zero is IEEE: inf */
    check_bin(IR_OP_DIV, IR_DT_F32, 1, (int64_t[]){2}, (double[]){1, -1},
              IR_DT_F32, 0, NULL, (double[]){0}, IR_DT_F32, 1, (int64_t[]){2},
              (double[]){INFINITY, -INFINITY}, "f32 div by zero");
    /* an empty dim broadcasts to an empty output */
    check_bin(IR_OP_ADD, IR_DT_F32, 2, (int64_t[]){0, 3}, NULL, IR_DT_F32, 1,
              d3, b, IR_DT_F32, 2, (int64_t[]){0, 3}, NULL, "empty");
}

static void test_int_arith(void)
{
    int64_t d4[1] = {4};
    /* Div truncates toward zero: -7/2 = -3, 7/-2 = -3; x/0 gives 0 (no trap) */
    check_bin(IR_OP_DIV, IR_DT_I32, 1, d4, (double[]){-7, 7, 9, 5}, IR_DT_I32,
              1, d4, (double[]){2, -2, 3, 0}, IR_DT_I32, 1, d4,
              (double[]){-3, -3, 3, 0}, "i32 div");
    check_bin(IR_OP_DIV, IR_DT_I64, 1, d4, (double[]){-7, 7, 0, 1}, IR_DT_I64,
              1, d4, (double[]){2, 0, 0, 1}, IR_DT_I64, 1, d4,
              (double[]){-3, 0, 0, 1}, "i64 div");
    /* i8 and u8 wrap like numpy */
    check_bin(IR_OP_ADD, IR_DT_I8, 1, d4, (double[]){127, -128, 1, 2}, IR_DT_I8,
              1, d4, (double[]){1, -1, 2, 3}, IR_DT_I8, 1, d4,
              (double[]){-128, 127, 3, 5}, "i8 add wraps");
    check_bin(IR_OP_SUB, IR_DT_U8, 1, d4, (double[]){0, 5, 255, 3}, IR_DT_U8, 1,
              d4, (double[]){1, 2, 255, 0}, IR_DT_U8, 1, d4,
              (double[]){255, 3, 0, 3}, "u8 sub wraps");
    check_bin(IR_OP_MUL, IR_DT_I32, 1, d4, (double[]){65536, 3, -4, 0}, IR_DT_I32,
              1, d4, (double[]){65536, 4, 5, 9}, IR_DT_I32, 1, d4,
              (double[]){0, 12, -20, 0}, "i32 mul wraps");

    /* INT64_MIN / -1 overflows: wraps to INT64_MIN instead of trapping */
    int64_t one[1] = {1};
    ir_tensor *x = ir_tensor_new(IR_DT_I64, 1, one), *y = ir_tensor_new(IR_DT_I64, 1, one), *o;
    ((int64_t *)x->data)[0] = INT64_MIN;
    ((int64_t *)y->data)[0] = -1;
    const ir_tensor *ins[2] = {x, y};
    ir_diag d;
    CHECK(run(IR_OP_DIV, 2, ins, &o, &d) == IR_OK);
    CHECK(o && ((int64_t *)o->data)[0] == INT64_MIN);
    ir_tensor_free(o);
    /* large int64 values stay exact (no trip through double) */
    ((int64_t *)x->data)[0] = INT64_MAX - 1;
    ((int64_t *)y->data)[0] = 1;
    CHECK(run(IR_OP_ADD, 2, ins, &o, &d) == IR_OK);
    CHECK(o && ((int64_t *)o->data)[0] == INT64_MAX);
    ir_tensor_free(o);
    ir_tensor_free(x);
    ir_tensor_free(y);
}

static void test_half_types(void)
{
    int64_t d3[1] = {3};
    /* exact in both halves */
    check_bin(IR_OP_ADD, IR_DT_F16, 1, d3, (double[]){1.5, -2, 0.25}, IR_DT_F16,
              1, d3, (double[]){2.25, 0.5, 0.25}, IR_DT_F16, 1, d3,
              (double[]){3.75, -1.5, 0.5}, "f16 add");
    check_bin(IR_OP_MUL, IR_DT_BF16, 1, d3, (double[]){1.5, -2, 3}, IR_DT_BF16,
              1, d3, (double[]){2, 0.5, 4}, IR_DT_BF16, 1, d3,
              (double[]){3, -1, 12}, "bf16 mul");
    /* rounding back: 1 + 2^-11 is not an f16, it rounds (to even) to 1 */
    check_bin(IR_OP_ADD, IR_DT_F16, 0, NULL, (double[]){1}, IR_DT_F16,
              0, NULL, (double[]){0.00048828125}, IR_DT_F16, 0, NULL,
              (double[]){1}, "f16 rounds to even");
    /* bf16 keeps 8 significant bits: 256 + 1 -> 256 */
    check_bin(IR_OP_ADD, IR_DT_BF16, 0, NULL, (double[]){256}, IR_DT_BF16, 0,
              NULL, (double[]){1}, IR_DT_BF16, 0, NULL, (double[]){256},
              "bf16 rounds");
    /* unary on halves computes in float */
    ir_tensor *x = tens(IR_DT_F16, 1, d3, (double[]){4, 9, 0.25}), *o;
    const ir_tensor *ins[1] = {x};
    ir_diag d;
    CHECK(run(IR_OP_SQRT, 1, ins, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_F16, 1, d3, (double[]){2, 3, 0.5}, 0));
    ir_tensor_free(o);
    ir_tensor_free(x);
}

static void test_pow(void)
{
    int64_t d3[1] = {3};
    /* pow_types_int64_float32: output keeps the base's type */
    check_bin(IR_OP_POW, IR_DT_I64, 1, d3, (double[]){1, 2, 3}, IR_DT_F32, 1, d3,
              (double[]){4, 5, 6}, IR_DT_I64, 1, d3, (double[]){1, 32, 729},
              "pow i64^f32");
    check_bin(IR_OP_POW, IR_DT_I32, 1, d3, (double[]){1, 2, 3}, IR_DT_I32, 1, d3,
              (double[]){4, 5, 6}, IR_DT_I32, 1, d3, (double[]){1, 32, 729},
              "pow i32^i32");
    check_bin(IR_OP_POW, IR_DT_F32, 1, d3, (double[]){1, 2, 3}, IR_DT_I64, 1, d3,
              (double[]){4, 5, 6}, IR_DT_F32, 1, d3, (double[]){1, 32, 729},
              "pow f32^i64");
    check_bin(IR_OP_POW, IR_DT_F32, 1, d3, (double[]){4, 2, -8}, IR_DT_F32, 0,
              NULL, (double[]){0.5}, IR_DT_F32, 1, d3, (double[]){2, 1.41421354, NAN},
              "pow f32 sqrt");
    /* an integer base with a float exponent truncates: 2^0.5 -> 1 */
    check_bin(IR_OP_POW, IR_DT_I32, 1, d3, (double[]){2, 9, 10}, IR_DT_F32, 0,
              NULL, (double[]){0.5}, IR_DT_I32, 1, d3, (double[]){1, 3, 3},
              "pow i32^0.5");
}

static void test_min_max(void)
{
    int64_t d23[2] = {2, 3}, d3[1] = {3};
    ir_tensor *x = tens(IR_DT_F32, 2, d23, (double[]){1, 5, 3, 7, 2, NAN});
    ir_tensor *y = tens(IR_DT_F32, 1, d3, (double[]){4, 4, 4});
    ir_tensor *z = tens(IR_DT_F32, 0, NULL, (double[]){2.5});
    const ir_tensor *ins[3] = {x, y, z};
    ir_tensor *o;
    ir_diag d;
    /* Max of three inputs broadcast to [2,3]; NaN propagates (numpy) */
    CHECK(run(IR_OP_MAX, 3, ins, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_F32, 2, d23, (double[]){4, 5, 4, 7, 4, NAN}, 0));
    ir_tensor_free(o);
    CHECK(run(IR_OP_MIN, 3, ins, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_F32, 2, d23, (double[]){1, 2.5, 2.5, 2.5, 2, NAN}, 0));
    ir_tensor_free(o);
    /* one input: a copy */
    CHECK(run(IR_OP_MIN, 1, ins, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_F32, 2, d23, (double[]){1, 5, 3, 7, 2, NAN}, 0));
    ir_tensor_free(o);
    ir_tensor_free(x);
    ir_tensor_free(y);
    ir_tensor_free(z);
    check_bin(IR_OP_MAX, IR_DT_I64, 1, d3, (double[]){-5, 0, 9}, IR_DT_I64, 0,
              NULL, (double[]){1}, IR_DT_I64, 1, d3, (double[]){1, 1, 9},
              "max i64");
}

static void test_compare_logic(void)
{
    int64_t d4[1] = {4}, d22[2] = {2, 2}, d2[1] = {2};
    double a[4] = {1, 2, 3, NAN}, b[4] = {2, 2, 2, 2};
    check_bin(IR_OP_EQUAL, IR_DT_F32, 1, d4, a, IR_DT_F32, 1, d4, b, IR_DT_BOOL,
              1, d4, (double[]){0, 1, 0, 0}, "equal f32");
    check_bin(IR_OP_LESS, IR_DT_F32, 1, d4, a, IR_DT_F32, 1, d4, b, IR_DT_BOOL,
              1, d4, (double[]){1, 0, 0, 0}, "less f32 (NaN false)");
    check_bin(IR_OP_LESS_OR_EQUAL, IR_DT_F32, 1, d4, a, IR_DT_F32, 1, d4, b,
              IR_DT_BOOL, 1, d4, (double[]){1, 1, 0, 0}, "less_or_equal");
    check_bin(IR_OP_GREATER, IR_DT_I64, 2, d22, (double[]){1, 5, 3, 2}, IR_DT_I64,
              1, d2, (double[]){2, 4}, IR_DT_BOOL, 2, d22, (double[]){0, 1, 1, 0},
              "greater i64 broadcast");
    check_bin(IR_OP_GREATER_OR_EQUAL, IR_DT_U8, 1, d2, (double[]){200, 3},
              IR_DT_U8, 1, d2, (double[]){100, 3}, IR_DT_BOOL, 1, d2,
              (double[]){1, 1}, "greater_or_equal u8");
    check_bin(IR_OP_EQUAL, IR_DT_BOOL, 1, d4, (double[]){0, 0, 1, 1}, IR_DT_BOOL,
              1, d4, (double[]){0, 1, 0, 1}, IR_DT_BOOL, 1, d4,
              (double[]){1, 0, 0, 1}, "equal bool");
    double p[4] = {0, 0, 1, 1}, q[4] = {0, 1, 0, 1};
    check_bin(IR_OP_AND, IR_DT_BOOL, 1, d4, p, IR_DT_BOOL, 1, d4, q, IR_DT_BOOL,
              1, d4, (double[]){0, 0, 0, 1}, "and");
    check_bin(IR_OP_OR, IR_DT_BOOL, 1, d4, p, IR_DT_BOOL, 1, d4, q, IR_DT_BOOL,
              1, d4, (double[]){0, 1, 1, 1}, "or");
    check_bin(IR_OP_XOR, IR_DT_BOOL, 1, d4, p, IR_DT_BOOL, 0, NULL,
              (double[]){1}, IR_DT_BOOL, 1, d4, (double[]){1, 1, 0, 0}, "xor scalar");
}

/* op on a 1-D input, expecting values. */
static void check_un(ir_op op, ir_dtype t, int n, const double *in,
                     const double *want, double tol, const char *what)
{
    int64_t dn[1] = {n};
    ir_tensor *x = tens(t, 1, dn, in), *o;
    const ir_tensor *ins[1] = {x};
    ir_diag d;
    ir_status s = run(op, 1, ins, &o, &d);
    CHECK_MSG(s == IR_OK, "%s: %s", what, d.msg);
    CHECK_MSG(same(o, t, 1, dn, want, tol), "%s", what);
    ir_tensor_free(x);
    ir_tensor_free(o);
}

static void test_unary(void)
{
    double v[4] = {-2, -0.5, 0.5, 2};
    check_un(IR_OP_NEG, IR_DT_F32, 4, v, (double[]){2, 0.5, -0.5, -2}, 0, "neg");
    check_un(IR_OP_NEG, IR_DT_I32, 3, (double[]){-3, 0, 7}, (double[]){3, 0, -7},
             0, "neg i32");
    check_un(IR_OP_ABS, IR_DT_I8, 3, (double[]){-128, -5, 5},
             (double[]){-128, 5, 5}, 0, "abs i8 (INT8_MIN wraps)");
    check_un(IR_OP_ABS, IR_DT_F32, 4, v, (double[]){2, 0.5, 0.5, 2}, 0, "abs");
    check_un(IR_OP_RELU, IR_DT_F32, 4, v, (double[]){0, 0, 0.5, 2}, 0, "relu");
    check_un(IR_OP_RELU, IR_DT_I64, 3, (double[]){-9, 0, 9}, (double[]){0, 0, 9},
             0, "relu i64");
    check_un(IR_OP_RECIPROCAL, IR_DT_F32, 4, v, (double[]){-0.5, -2, 2, 0.5}, 0,
             "reciprocal");
    check_un(IR_OP_SQRT, IR_DT_F32, 3, (double[]){4, 2, -1},
             (double[]){2, 1.41421356, NAN}, 1e-6, "sqrt");
    check_un(IR_OP_EXP, IR_DT_F32, 3, (double[]){0, 1, -1000},
             (double[]){1, 2.71828183, 0}, 1e-6, "exp");
    check_un(IR_OP_LOG, IR_DT_F32, 3, (double[]){1, 2.718281828, 0},
             (double[]){0, 1, -INFINITY}, 1e-6, "log");
    check_un(IR_OP_ERF, IR_DT_F32, 3, (double[]){0, 1, -3},
             (double[]){0, 0.84270079, -0.99997791}, 1e-6, "erf");
    check_un(IR_OP_TANH, IR_DT_F32, 3, (double[]){0, 1, 50},
             (double[]){0, 0.76159416, 1}, 1e-6, "tanh");
    /* sigmoid must not overflow at the extremes */
    check_un(IR_OP_SIGMOID, IR_DT_F32, 4, (double[]){0, 2, -1000, 1000},
             (double[]){0.5, 0.88079708, 0, 1}, 1e-6, "sigmoid");
    check_un(IR_OP_FLOOR, IR_DT_F32, 4, (double[]){-1.5, -0.5, 0.5, 2},
             (double[]){-2, -1, 0, 2}, 0, "floor");
    check_un(IR_OP_CEIL, IR_DT_F32, 4, (double[]){-1.5, -0.5, 0.5, 2},
             (double[]){-1, -0, 1, 2}, 0, "ceil");
    check_un(IR_OP_NOT, IR_DT_BOOL, 2, (double[]){0, 1}, (double[]){1, 0}, 0, "not");
    check_un(IR_OP_IDENTITY, IR_DT_I64, 3, (double[]){1, -2, 3},
             (double[]){1, -2, 3}, 0, "identity");
    check_un(IR_OP_EXP, IR_DT_BF16, 2, (double[]){0, 1}, (double[]){1, 2.71875},
             0, "exp bf16");
    /* Sign-13 as numpy.sign: -0 gives 0, NaN stays NaN */
    check_un(IR_OP_SIGN, IR_DT_F32, 6, (double[]){-2.5, -0.0, 0, 1e-30, 7, NAN},
             (double[]){-1, 0, 0, 1, 1, NAN}, 0, "sign");
    check_un(IR_OP_SIGN, IR_DT_I64, 3, (double[]){-9, 0, 4}, (double[]){-1, 0, 1},
             0, "sign i64");
    check_un(IR_OP_SIGN, IR_DT_U8, 2, (double[]){0, 200}, (double[]){0, 1}, 0,
             "sign u8");
}

/* CumSum-14 on x with the axis as a scalar tensor of type at, and the
 * exclusive / reverse attributes. */
static void check_cumsum(ir_dtype t, int rank, const int64_t *dims,
                         const double *in, ir_dtype at, int64_t axis,
                         int exclusive, int reverse, const double *want,
                         const char *what)
{
    ir_tensor *x = tens(t, rank, dims, in);
    ir_tensor *ax = tens(at, 0, NULL, (double[]){(double)axis}), *o = NULL;
    const ir_tensor *ins[2] = {x, ax};
    ir_graph *g = ir_graph_new("t");
    ir_node *n = node_for(g, IR_OP_CUMSUM, 2, ins);
    if (exclusive)
        ir_node_set_attr_int(g, n, "exclusive", 1);
    if (reverse)
        ir_node_set_attr_int(g, n, "reverse", 1);
    ir_diag d;
    ir_status s = eval(g, n, 2, ins, &o, &d);
    CHECK_MSG(s == IR_OK, "%s: %s", what, d.msg);
    CHECK_MSG(same(o, t, rank, dims, want, 0), "%s", what);
    ir_graph_free(g);
    ir_tensor_free(x);
    ir_tensor_free(ax);
    ir_tensor_free(o);
}

/* CumSum: the ONNX spec's examples, axes, types, the RoBERTa position ids
 * it is in the graph for, and bad axes. */
static void test_cumsum(void)
{
    const int64_t d5[1] = {5}, d23[2] = {2, 3};
    const double x5[5] = {1, 2, 3, 4, 5};
    check_cumsum(IR_DT_F32, 1, d5, x5, IR_DT_I32, 0, 0, 0,
                 (double[]){1, 3, 6, 10, 15}, "cumsum 1-D");
    check_cumsum(IR_DT_F32, 1, d5, x5, IR_DT_I32, 0, 1, 0,
                 (double[]){0, 1, 3, 6, 10}, "cumsum exclusive");
    check_cumsum(IR_DT_F32, 1, d5, x5, IR_DT_I32, 0, 0, 1,
                 (double[]){15, 14, 12, 9, 5}, "cumsum reverse");
    check_cumsum(IR_DT_F32, 1, d5, x5, IR_DT_I64, 0, 1, 1,
                 (double[]){14, 12, 9, 5, 0}, "cumsum reverse exclusive");
    const double x23[6] = {1, 2, 3, 4, 5, 6};
    check_cumsum(IR_DT_F32, 2, d23, x23, IR_DT_I32, 0, 0, 0,
                 (double[]){1, 2, 3, 5, 7, 9}, "cumsum 2-D axis 0");
    check_cumsum(IR_DT_F32, 2, d23, x23, IR_DT_I32, 1, 0, 0,
                 (double[]){1, 3, 6, 4, 9, 15}, "cumsum 2-D axis 1");
    check_cumsum(IR_DT_I64, 2, d23, x23, IR_DT_I64, -1, 0, 0,
                 (double[]){1, 3, 6, 4, 9, 15}, "cumsum i64, axis -1");
    /* RoBERTa's position ids, padding_idx 1: cumsum(ids != pad, 1) * mask
     * + pad, here the cumsum of the mask [1,1,1,0,0] of one padded row */
    check_cumsum(IR_DT_I32, 1, d5, (double[]){1, 1, 1, 0, 0}, IR_DT_I64, 0, 0, 0,
                 (double[]){1, 2, 3, 3, 3}, "cumsum of a mask");
    /* float sums stay in float, as numpy.cumsum: 2^24 + 1 rounds to 2^24 */
    check_cumsum(IR_DT_F32, 1, (const int64_t[]){3}, (double[]){16777216, 1, 1},
                 IR_DT_I32, 0, 0, 0, (double[]){16777216, 16777216, 16777216},
                 "cumsum in f32");
    /* bad axes: out of range, a float, not a scalar */
    ir_tensor *x = tens(IR_DT_F32, 2, d23, x23), *o = NULL;
    ir_tensor *bad[3] = {tens(IR_DT_I64, 0, NULL, (double[]){2}),
                         tens(IR_DT_F32, 0, NULL, (double[]){0}),
                         tens(IR_DT_I64, 1, (const int64_t[]){2}, (double[]){0, 1})};
    const char *why[3] = {"out of range", "int32 or int64", "scalar"};
    for (int i = 0; i < 3; i++) {
        const ir_tensor *ins[2] = {x, bad[i]};
        ir_diag d;
        CHECK(run(IR_OP_CUMSUM, 2, ins, &o, &d) == IR_ERR_INPUT);
        CHECK_MSG(strstr(d.msg, why[i]) && strstr(d.msg, "CumSum"), "%s", d.msg);
        ir_tensor_free(bad[i]);
    }
    ir_tensor_free(x);
}

/* Gelu-20 against values of 0.5 x (1 + erf(x / sqrt 2)) and the tanh form. */
static void test_gelu(void)
{
    int64_t d4[1] = {4};
    ir_tensor *x = tens(IR_DT_F32, 1, d4, (double[]){1, -1, 2, 0.5}), *o;
    const ir_tensor *ins[1] = {x};
    ir_diag d;
    ir_graph *g = ir_graph_new("gelu");
    ir_node *n = node_for(g, IR_OP_GELU, 1, ins);
    CHECK(eval(g, n, 1, ins, &o, &d) == IR_OK); /* default approximate="none" */
    CHECK(same(o, IR_DT_F32, 1, d4,
               (double[]){0.8413447460685429, -0.15865525393145707,
                          1.9544997361036416, 0.34573123063700656}, 1e-6));
    ir_tensor_free(o);
    ir_node_set_attr_string(g, n, "approximate", "tanh");
    CHECK(eval(g, n, 1, ins, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_F32, 1, d4,
               (double[]){0.8411919906082768, -0.15880800939172324,
                          1.954597694087775, 0.34571400982514394}, 1e-6));
    ir_tensor_free(o);
    ir_node_set_attr_string(g, n, "approximate", "fast");
    CHECK(eval(g, n, 1, ins, &o, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "approximate='fast'") != NULL);
    ir_graph_free(g);
    ir_tensor_free(x);
}

static ir_status cast_to(const ir_tensor *x, int64_t to, ir_tensor **o, ir_diag *d)
{
    ir_graph *g = ir_graph_new("cast");
    const ir_tensor *ins[1] = {x};
    ir_node *n = node_for(g, IR_OP_CAST, 1, ins);
    ir_node_set_attr_int(g, n, "to", to);
    ir_status s = eval(g, n, 1, ins, o, d);
    ir_graph_free(g);
    return s;
}

static void test_cast(void)
{
    static const ir_dtype all[] = {IR_DT_F32, IR_DT_F16, IR_DT_BF16, IR_DT_I8,
                                   IR_DT_U8,  IR_DT_I32, IR_DT_I64,  IR_DT_BOOL};
    int64_t d4[1] = {4};
    ir_diag d;
    ir_tensor *o;
    /* The whole matrix on values every dtype holds exactly. */
    for (size_t i = 0; i < 8; i++)
        for (size_t j = 0; j < 8; j++) {
            bool from_bool = all[i] == IR_DT_BOOL, to_bool = all[j] == IR_DT_BOOL;
            double v[4] = {0, 1, 3, 100}, b[4] = {0, 1, 0, 1};
            const double *in = from_bool ? b : v;
            double want[4];
            for (int k = 0; k < 4; k++)
                want[k] = to_bool ? in[k] != 0 : in[k];
            ir_tensor *x = tens(all[i], 1, d4, in);
            CHECK_MSG(cast_to(x, all[j], &o, &d) == IR_OK, "%s", d.msg);
            CHECK_MSG(same(o, all[j], 1, d4, want, 0), "cast %s -> %s",
                      ir_dtype_name(all[i]), ir_dtype_name(all[j]));
            ir_tensor_free(o);
            ir_tensor_free(x);
        }
    /* float -> int truncates toward zero, saturates, NaN -> 0 */
    ir_tensor *x = tens(IR_DT_F32, 1, (int64_t[]){6},
                        (double[]){-3.7, 3.7, NAN, 1e10, -1e10, INFINITY});
    CHECK(cast_to(x, IR_DT_I32, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_I32, 1, (int64_t[]){6},
               (double[]){-3, 3, 0, INT32_MAX, INT32_MIN, INT32_MAX}, 0));
    ir_tensor_free(o);
    CHECK(cast_to(x, IR_DT_U8, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_U8, 1, (int64_t[]){6}, (double[]){0, 3, 0, 255, 0, 255}, 0));
    ir_tensor_free(o);
    CHECK(cast_to(x, IR_DT_I64, &o, &d) == IR_OK);
    CHECK(o && ((int64_t *)o->data)[3] == 10000000000LL &&
          ((int64_t *)o->data)[5] == INT64_MAX);
    ir_tensor_free(o);
    /* to bool: nonzero, and NaN is nonzero */
    CHECK(cast_to(x, IR_DT_BOOL, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_BOOL, 1, (int64_t[]){6}, (double[]){1, 1, 1, 1, 1, 1}, 0));
    ir_tensor_free(o);
    ir_tensor_free(x);
    /* int -> narrower int wraps like numpy's astype: 300 -> 44, -1 -> 255 */
    x = tens(IR_DT_I32, 1, (int64_t[]){2}, (double[]){300, -1});
    CHECK(cast_to(x, IR_DT_U8, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_U8, 1, (int64_t[]){2}, (double[]){44, 255}, 0));
    ir_tensor_free(o);
    ir_tensor_free(x);
    /* f32 -> f16 rounds to nearest: 0.1 -> 0.099975586 */
    x = tens(IR_DT_F32, 0, NULL, (double[]){0.1});
    CHECK(cast_to(x, IR_DT_F16, &o, &d) == IR_OK);
    CHECK(o && ((uint16_t *)o->data)[0] == 11878);
    ir_tensor_free(o);
    /* unsupported targets name the type */
    CHECK(cast_to(x, 11, &o, &d) == IR_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(d.msg, "DOUBLE") && strstr(d.msg, "n0"), "%s", d.msg);
    CHECK(cast_to(x, 8, &o, &d) == IR_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(d.msg, "STRING") != NULL, "%s", d.msg);
    CHECK(o == NULL);
    /* 'to' is required */
    ir_graph *g = ir_graph_new("cast");
    const ir_tensor *ins[2] = {x, NULL};
    ir_node *n = node_for(g, IR_OP_CAST, 1, ins);
    CHECK(eval(g, n, 1, ins, &o, &d) == IR_ERR_INPUT);
    ir_graph_free(g);

    /* CastLike takes the dtype of its second input */
    ir_tensor *like = tens(IR_DT_I64, 1, (int64_t[]){1}, (double[]){0});
    ir_tensor *y = tens(IR_DT_F32, 1, (int64_t[]){3}, (double[]){1.9, -1.9, 7});
    ins[0] = y;
    ins[1] = like;
    CHECK(run(IR_OP_CAST_LIKE, 2, ins, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_I64, 1, (int64_t[]){3}, (double[]){1, -1, 7}, 0));
    ir_tensor_free(o);
    ir_tensor_free(like);
    ir_tensor_free(y);
    ir_tensor_free(x);
}

static void test_clip(void)
{
    int64_t d5[1] = {5};
    double v[5] = {-3, -0.5, 0, 0.5, 3};
    ir_tensor *x = tens(IR_DT_F32, 1, d5, v), *o;
    ir_diag d;

    /* Clip-6: bounds are attributes */
    ir_graph *g = ir_graph_new("clip6");
    g->opset = 6;
    const ir_tensor *ins1[1] = {x};
    ir_node *n = node_for(g, IR_OP_CLIP, 1, ins1);
    ir_node_set_attr_float(g, n, "min", -1);
    ir_node_set_attr_float(g, n, "max", 1);
    CHECK(eval(g, n, 1, ins1, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_F32, 1, d5, (double[]){-1, -0.5, 0, 0.5, 1}, 0));
    ir_tensor_free(o);
    ir_graph_free(g);

    /* Clip-13: optional scalar inputs; absent min leaves the low side open */
    ir_tensor *lo = tens(IR_DT_F32, 0, NULL, (double[]){-1});
    ir_tensor *hi = tens(IR_DT_F32, 0, NULL, (double[]){0.25});
    const ir_tensor *ins3[3] = {x, lo, hi};
    CHECK(run(IR_OP_CLIP, 3, ins3, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_F32, 1, d5, (double[]){-1, -0.5, 0, 0.25, 0.25}, 0));
    ir_tensor_free(o);
    ins3[1] = NULL;
    CHECK(run(IR_OP_CLIP, 3, ins3, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_F32, 1, d5, (double[]){-3, -0.5, 0, 0.25, 0.25}, 0));
    ir_tensor_free(o);
    /* min > max: every value becomes max (Clip-13) */
    ir_tensor *big = tens(IR_DT_F32, 0, NULL, (double[]){2});
    ins3[1] = big;
    CHECK(run(IR_OP_CLIP, 3, ins3, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_F32, 1, d5, (double[]){0.25, 0.25, 0.25, 0.25, 0.25}, 0));
    ir_tensor_free(o);
    /* a bound of another dtype is an input error */
    ir_tensor *ilo = tens(IR_DT_I32, 0, NULL, (double[]){0});
    ins3[1] = ilo;
    CHECK(run(IR_OP_CLIP, 3, ins3, &o, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "min") != NULL);
    /* integer Clip (Clip-12+) */
    ir_tensor *xi = tens(IR_DT_I32, 1, d5, (double[]){-300, -1, 0, 1, 300});
    ir_tensor *ihi = tens(IR_DT_I32, 0, NULL, (double[]){100});
    const ir_tensor *insi[3] = {xi, ilo, ihi};
    CHECK(run(IR_OP_CLIP, 3, insi, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_I32, 1, d5, (double[]){0, 0, 0, 1, 100}, 0));
    ir_tensor_free(o);
    ir_tensor_free(xi);
    ir_tensor_free(ihi);
    ir_tensor_free(ilo);
    ir_tensor_free(big);
    ir_tensor_free(lo);
    ir_tensor_free(hi);
    ir_tensor_free(x);
}

static void test_where(void)
{
    int64_t d21[2] = {2, 1}, d13[2] = {1, 3}, d23[2] = {2, 3};
    ir_tensor *c = tens(IR_DT_BOOL, 2, d21, (double[]){1, 0});
    ir_tensor *x = tens(IR_DT_F32, 2, d13, (double[]){1, 2, 3});
    ir_tensor *y = tens(IR_DT_F32, 0, NULL, (double[]){-1});
    const ir_tensor *ins[3] = {c, x, y};
    ir_tensor *o;
    ir_diag d;
    CHECK(run(IR_OP_WHERE, 3, ins, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_F32, 2, d23, (double[]){1, 2, 3, -1, -1, -1}, 0));
    ir_tensor_free(o);
    /* the condition must be bool */
    ins[0] = x;
    CHECK(run(IR_OP_WHERE, 3, ins, &o, &d) == IR_ERR_INPUT);
    ir_tensor_free(c);
    ir_tensor_free(x);
    ir_tensor_free(y);
    /* i64 payloads (attention mask style) */
    ir_tensor *c2 = tens(IR_DT_BOOL, 1, (int64_t[]){3}, (double[]){0, 1, 0});
    ir_tensor *x2 = tens(IR_DT_I64, 1, (int64_t[]){3}, (double[]){7, 8, 9});
    ir_tensor *y2 = tens(IR_DT_I64, 1, (int64_t[]){1}, (double[]){0});
    const ir_tensor *ins2[3] = {c2, x2, y2};
    CHECK(run(IR_OP_WHERE, 3, ins2, &o, &d) == IR_OK);
    CHECK(same(o, IR_DT_I64, 1, (int64_t[]){3}, (double[]){0, 8, 0}, 0));
    ir_tensor_free(o);
    ir_tensor_free(c2);
    ir_tensor_free(x2);
    ir_tensor_free(y2);
}

static void test_errors(void)
{
    int64_t d23[2] = {2, 3}, d4[1] = {4};
    ir_tensor *a = tens(IR_DT_F32, 2, d23, (double[]){1, 2, 3, 4, 5, 6});
    ir_tensor *b = tens(IR_DT_I64, 2, d23, (double[]){1, 2, 3, 4, 5, 6});
    ir_tensor *c = tens(IR_DT_F32, 1, d4, (double[]){1, 2, 3, 4});
    ir_tensor *o;
    ir_diag d;
    const ir_tensor *ab[2] = {a, b}, *ac[2] = {a, c}, *aa[2] = {a, a};
    CHECK(run(IR_OP_ADD, 2, ab, &o, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "'n0'") && strstr(d.msg, "f32") && strstr(d.msg, "i64"),
              "%s", d.msg);
    CHECK(o == NULL);
    CHECK(run(IR_OP_MUL, 2, ac, &o, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "[2,3]") && strstr(d.msg, "[4]"), "%s", d.msg);
    CHECK(run(IR_OP_AND, 2, aa, &o, &d) == IR_ERR_INPUT); /* And is bool-only */
    CHECK(run(IR_OP_SQRT, 1, ab + 1, &o, &d) == IR_ERR_INPUT); /* no int Sqrt */
    ir_tensor *bb = tens(IR_DT_BOOL, 1, (int64_t[]){1}, (double[]){1});
    const ir_tensor *b2[2] = {bb, bb};
    CHECK(run(IR_OP_ADD, 2, b2, &o, &d) == IR_ERR_INPUT); /* no bool Add */
    ir_tensor_free(bb);
    ir_tensor_free(a);
    ir_tensor_free(b);
    ir_tensor_free(c);
}

static void test_infer(void)
{
    ir_graph *g = ir_graph_new("infer");
    ir_diag d;
    ir_dim xd[2] = {ir_dim_sym(g, "batch"), ir_dim_const(768)};
    ir_dim bd[1] = {ir_dim_const(768)};
    ir_dim wd[1] = {ir_dim_const(5)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);
    ir_value *b = ir_graph_add_input(g, "b", IR_DT_F32, 1, bd);
    ir_value *i = ir_graph_add_input(g, "i", IR_DT_I64, 1, bd);
    ir_value *w = ir_graph_add_input(g, "w", IR_DT_F32, 1, wd);

    ir_value *y = ir_node_make1(g, IR_OP_ADD, "add", x, b);
    CHECK(infer(g, y->producer, &d) == IR_OK);
    CHECK(y->dtype == IR_DT_F32 && y->rank == 2 && y->dims[0].sym &&
          strcmp(y->dims[0].sym, "batch") == 0 && y->dims[1].size == 768);

    ir_value *e = ir_node_make1(g, IR_OP_LESS, "lt", x, b);
    CHECK(infer(g, e->producer, &d) == IR_OK);
    CHECK(e->dtype == IR_DT_BOOL && e->rank == 2);

    ir_value *bad = ir_node_make1(g, IR_OP_ADD, "bad_types", x, i);
    CHECK(infer(g, bad->producer, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "bad_types") != NULL, "%s", d.msg);

    ir_value *bs = ir_node_make1(g, IR_OP_SUB, "bad_shapes", x, w);
    CHECK(infer(g, bs->producer, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "[batch,768]") && strstr(d.msg, "[5]"), "%s", d.msg);

    ir_value *p = ir_node_make1(g, IR_OP_POW, "pow", i, b);
    CHECK(infer(g, p->producer, &d) == IR_OK && p->dtype == IR_DT_I64);

    ir_value *c = ir_node_make1(g, IR_OP_CAST, "cast", x, NULL);
    ir_node_set_attr_int(g, c->producer, "to", IR_DT_I64);
    CHECK(infer(g, c->producer, &d) == IR_OK);
    CHECK(c->dtype == IR_DT_I64 && c->rank == 2 && c->dims[1].size == 768);
    ir_node_set_attr_int(g, c->producer, "to", 11); /* DOUBLE */
    CHECK(infer(g, c->producer, &d) == IR_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(d.msg, "DOUBLE") != NULL, "%s", d.msg);

    ir_value *cl = ir_node_make1(g, IR_OP_CAST_LIKE, "castlike", b, i);
    CHECK(infer(g, cl->producer, &d) == IR_OK && cl->dtype == IR_DT_I64 &&
          cl->rank == 1);

    ir_value *r = ir_node_make1(g, IR_OP_GELU, "gelu", x, NULL);
    CHECK(infer(g, r->producer, &d) == IR_OK && r->dtype == IR_DT_F32 && r->rank == 2);

    ir_dim cd[2] = {ir_dim_const(1), ir_dim_sym(g, "seq")};
    ir_value *cond = ir_graph_add_input(g, "cond", IR_DT_BOOL, 2, cd);
    ir_value *wins[3] = {cond, b, b};
    ir_node *wn = ir_graph_add_node(g, IR_OP_WHERE, "where", 3, wins, 1);
    /* [1,seq] with [768]: seq must be 768 */
    CHECK(infer(g, wn, &d) == IR_OK);
    CHECK(wn->outputs[0]->dtype == IR_DT_F32 && wn->outputs[0]->rank == 2 &&
          wn->outputs[0]->dims[1].size == 768);

    ir_value *mins[3] = {x, b, w};
    ir_node *mn = ir_graph_add_node(g, IR_OP_MAX, "max3", 3, mins, 1);
    CHECK(infer(g, mn, &d) == IR_ERR_INPUT); /* 768 vs 5 */
    ir_value *mins2[2] = {x, b};
    ir_node *mn2 = ir_graph_add_node(g, IR_OP_MIN, "min2", 2, mins2, 1);
    CHECK(infer(g, mn2, &d) == IR_OK && mn2->outputs[0]->rank == 2);

    /* unknown rank stays unknown */
    ir_value *u = ir_graph_add_value(g, "u");
    u->dtype = IR_DT_F32;
    u->rank = -1;
    ir_value *uy = ir_node_make1(g, IR_OP_MUL, "mul_unknown", u, b);
    CHECK(infer(g, uy->producer, &d) == IR_OK && uy->rank == -1 &&
          uy->dtype == IR_DT_F32);
    ir_graph_free(g);
}

/* BERT-sized bias add: [128,768] + [768], checked against a plain loop and
 * timed (the fast path should take well under a millisecond per call). */
static void test_bert_sized(void)
{
    int64_t dx[2] = {128, 768}, db[1] = {768};
    ir_tensor *x = ir_tensor_new(IR_DT_F32, 2, dx), *b = ir_tensor_new(IR_DT_F32, 1, db), *o;
    float *xs = x->data, *bs = b->data;
    for (int64_t i = 0; i < 128 * 768; i++)
        xs[i] = (float)((i * 37) % 101) * 0.01f;
    for (int64_t j = 0; j < 768; j++)
        bs[j] = (float)j * 0.5f;
    const ir_tensor *ins[2] = {x, b};
    ir_diag d;
    ir_graph *g = ir_graph_new("bias");
    ir_node *n = node_for(g, IR_OP_ADD, 2, ins);
    CHECK(eval(g, n, 2, ins, &o, &d) == IR_OK);
    int64_t bad = 0;
    for (int64_t i = 0; i < 128; i++)
        for (int64_t j = 0; j < 768; j++)
            bad += ((float *)o->data)[i * 768 + j] != xs[i * 768 + j] + bs[j];
    CHECK(bad == 0);
    ir_tensor_free(o);
    clock_t t0 = clock();
    for (int r = 0; r < 20; r++) {
        CHECK(eval(g, n, 2, ins, &o, &d) == IR_OK);
        ir_tensor_free(o);
    }
    double ms = 1000.0 * (double)(clock() - t0) / CLOCKS_PER_SEC / 20;
    printf("f32 Add [128,768]+[768]: %.3f ms per call\n", ms);
    ir_graph_free(g);
    ir_tensor_free(x);
    ir_tensor_free(b);
}

int main(void)
{
    test_arith_broadcast();
    test_int_arith();
    test_half_types();
    test_pow();
    test_min_max();
    test_compare_logic();
    test_unary();
    test_cumsum();
    test_gelu();
    test_cast();
    test_clip();
    test_where();
    test_errors();
    test_infer();
    test_bert_sized();
    return test_finish("test_ops_elementwise");
}

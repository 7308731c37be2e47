/* test_ops_shape.c — the shape and data-movement ops of the reference
 * interpreter, called through their hooks (ir_op_hooks_get) on one-node
 * graphs: each ONNX opset form, negative axes, edge cases, errors, and the
 * infer hooks on symbolic BERT shapes ([batch,seq,768] and friends). */
#include "ir/ops/kernel.h"
#include "testutil.h"

#include <stdint.h>
#include <string.h>

/* ---- fixtures ------------------------------------------------------------ */

static ir_tensor *ten(ir_dtype t, int rank, const int64_t *dims, const double *v)
{
    ir_tensor *x = ir_tensor_new(t, rank, dims);
    int64_t n = ir_tensor_numel(x);
    for (int64_t i = 0; v && i < n; i++)
        ir_tensor_set_f64(x, i, v[i]);
    return x;
}

/* 1-D int64 tensor from a list. */
static ir_tensor *ints(int n, const int64_t *v)
{
    int64_t d = n;
    ir_tensor *x = ir_tensor_new(IR_DT_I64, 1, &d);
    if (n)
        memcpy(x->data, v, sizeof(int64_t) * (size_t)n);
    return x;
}

/* iota f32 tensor: 0, 1, 2, ... */
static ir_tensor *iota(int rank, const int64_t *dims)
{
    ir_tensor *x = ir_tensor_new(IR_DT_F32, rank, dims);
    for (int64_t i = 0; i < ir_tensor_numel(x); i++)
        ((float *)x->data)[i] = (float)i;
    return x;
}

/* A graph with one node of op; its inputs are fresh graph inputs (types are
 * not needed by eval). */
static ir_node *one_node(ir_graph *g, ir_op op, int n_in, int n_out)
{
    ir_value *in[8];
    for (int i = 0; i < n_in; i++)
        in[i] = ir_graph_add_input(g, NULL, IR_DT_F32, -1, NULL);
    return ir_graph_add_node(g, op, NULL, n_in, in, n_out);
}

/* Runs the node's eval hook. */
static ir_status eval(ir_graph *g, ir_node *n, int64_t opset,
                      const ir_tensor *const *in, ir_tensor **out, ir_diag *d)
{
    ir_kernel_args a = {g, n, opset, n->n_inputs, in, n->n_outputs, out, d};
    for (int i = 0; i < n->n_outputs; i++)
        out[i] = NULL;
    ir_diag_init(d);
    return ir_op_hooks_get(n->op)->eval(&a);
}

static ir_status infer(ir_graph *g, ir_node *n, int64_t opset, ir_diag *d)
{
    ir_infer_args a = {g, n, opset, d};
    ir_diag_init(d);
    return ir_op_hooks_get(n->op)->infer(&a);
}

static bool dims_are(const ir_tensor *t, int rank, const int64_t *dims)
{
    if (!t || t->rank != rank)
        return false;
    for (int i = 0; i < rank; i++)
        if (t->dims[i] != dims[i])
            return false;
    return true;
}

static bool vals_are(const ir_tensor *t, int n, const double *v)
{
    if (!t || ir_tensor_numel(t) != n)
        return false;
    for (int i = 0; i < n; i++)
        if (ir_tensor_get_f64(t, i) != v[i])
            return false;
    return true;
}

/* The first n elements are v (the tensor may be longer). */
static bool vals_start(const ir_tensor *t, int n, const double *v)
{
    if (!t || ir_tensor_numel(t) < n)
        return false;
    for (int i = 0; i < n; i++)
        if (ir_tensor_get_f64(t, i) != v[i])
            return false;
    return true;
}

/* "batch,seq,768" style rendering of a value's dims for comparisons. */
static const char *shape_str(const ir_value *v, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = 0;
    if (v->rank < 0)
        return "?rank";
    for (int i = 0; i < v->rank && off < n; i++) {
        const ir_dim d = v->dims[i];
        const char *sep = i ? "," : "";
        if (ir_dim_known(d))
            off += (size_t)snprintf(buf + off, n - off, "%s%lld", sep,
                                    (long long)d.size);
        else
            off += (size_t)snprintf(buf + off, n - off, "%s%s", sep,
                                    d.sym ? d.sym : "?");
    }
    return buf;
}

#define CHECK_SHAPE(v, want)                                                  \
    do {                                                                      \
        char sb_[256];                                                        \
        const char *got_ = shape_str((v), sb_, sizeof sb_);                   \
        CHECK_MSG(strcmp(got_, (want)) == 0, "shape %s, want %s", got_,       \
                  (want));                                                    \
    } while (0)

static void free_outs(ir_tensor **o, int n)
{
    for (int i = 0; i < n; i++)
        ir_tensor_free(o[i]);
}

/* ---- Constant, ConstantOfShape, Range, Shape, Size, Dropout ------------- */

static void test_constant(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    ir_node *n = one_node(g, IR_OP_CONSTANT, 0, 1);
    int64_t dims[2] = {2, 2};
    ir_attr *at = ir_node_set_attr(g, n, "value", IR_ATTR_TENSOR);
    at->t = ten(IR_DT_I32, 2, dims, (double[]){1, 2, 3, 4});
    CHECK(eval(g, n, 17, NULL, o, &d) == IR_OK);
    CHECK(o[0]->dtype == IR_DT_I32 && dims_are(o[0], 2, dims));
    CHECK(vals_are(o[0], 4, (double[]){1, 2, 3, 4}));
    free_outs(o, 1);
    CHECK(infer(g, n, 17, &d) == IR_OK);
    CHECK_SHAPE(n->outputs[0], "2,2");

    ir_node *f = one_node(g, IR_OP_CONSTANT, 0, 1);
    ir_node_set_attr_float(g, f, "value_float", 2.5f);
    CHECK(eval(g, f, 13, NULL, o, &d) == IR_OK);
    CHECK(o[0]->rank == 0 && o[0]->dtype == IR_DT_F32 && vals_are(o[0], 1, (double[]){2.5}));
    free_outs(o, 1);

    ir_node *li = one_node(g, IR_OP_CONSTANT, 0, 1);
    ir_node_set_attr_ints(g, li, "value_ints", 3, (int64_t[]){7, -1, 0});
    CHECK(eval(g, li, 13, NULL, o, &d) == IR_OK);
    CHECK(o[0]->dtype == IR_DT_I64 && vals_are(o[0], 3, (double[]){7, -1, 0}));
    free_outs(o, 1);
    CHECK(infer(g, li, 13, &d) == IR_OK);
    CHECK_SHAPE(li->outputs[0], "3");

    ir_node *vi = one_node(g, IR_OP_CONSTANT, 0, 1);
    ir_node_set_attr_int(g, vi, "value_int", -9);
    CHECK(eval(g, vi, 13, NULL, o, &d) == IR_OK);
    CHECK(o[0]->rank == 0 && ((int64_t *)o[0]->data)[0] == -9);
    free_outs(o, 1);

    ir_node *lf = one_node(g, IR_OP_CONSTANT, 0, 1);
    ir_attr *fl = ir_node_set_attr(g, lf, "value_floats", IR_ATTR_FLOATS);
    float fv[2] = {0.5f, -1.0f};
    fl->n = 2;
    fl->floats = fv;
    CHECK(eval(g, lf, 13, NULL, o, &d) == IR_OK);
    CHECK(vals_are(o[0], 2, (double[]){0.5, -1.0}));
    free_outs(o, 1);

    ir_node *s = one_node(g, IR_OP_CONSTANT, 0, 1);
    ir_node_set_attr_string(g, s, "value_string", "hi");
    CHECK(eval(g, s, 13, NULL, o, &d) == IR_ERR_UNSUPPORTED);
    CHECK(strstr(d.msg, "value_string") != NULL);

    ir_node *none = one_node(g, IR_OP_CONSTANT, 0, 1);
    CHECK(eval(g, none, 13, NULL, o, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, none->name) != NULL);
    ir_graph_free(g);
}

static void test_constant_of_shape(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    ir_node *n = one_node(g, IR_OP_CONSTANT_OF_SHAPE, 1, 1);
    ir_tensor *shape = ints(2, (int64_t[]){2, 3});
    const ir_tensor *in[1] = {shape};
    CHECK(eval(g, n, 17, in, o, &d) == IR_OK);
    CHECK(o[0]->dtype == IR_DT_F32 && vals_are(o[0], 6, (double[]){0, 0, 0, 0, 0, 0}));
    free_outs(o, 1);

    int64_t one = 1;
    ir_attr *at = ir_node_set_attr(g, n, "value", IR_ATTR_TENSOR);
    at->t = ten(IR_DT_I64, 1, &one, (double[]){7});
    CHECK(eval(g, n, 17, in, o, &d) == IR_OK);
    CHECK(o[0]->dtype == IR_DT_I64 && vals_are(o[0], 6, (double[]){7, 7, 7, 7, 7, 7}));
    free_outs(o, 1);

    ir_tensor *zero = ints(2, (int64_t[]){0, 4}); /* zero dims: empty output */
    in[0] = zero;
    CHECK(eval(g, n, 17, in, o, &d) == IR_OK);
    CHECK(o[0]->rank == 2 && o[0]->dims[0] == 0 && ir_tensor_numel(o[0]) == 0);
    free_outs(o, 1);

    ir_tensor *empty = ints(0, NULL); /* empty shape: a scalar */
    in[0] = empty;
    CHECK(eval(g, n, 17, in, o, &d) == IR_OK);
    CHECK(o[0]->rank == 0 && vals_are(o[0], 1, (double[]){7}));
    free_outs(o, 1);

    ir_tensor *neg = ints(1, (int64_t[]){-2});
    in[0] = neg;
    CHECK(eval(g, n, 17, in, o, &d) == IR_ERR_INPUT);

    /* infer: constant shape gives dims; a run-time shape of length 3 gives
     * rank 3 with unknown dims */
    ir_value_set_constant(n->inputs[0], ir_tensor_clone(shape));
    CHECK(infer(g, n, 17, &d) == IR_OK);
    CHECK_SHAPE(n->outputs[0], "2,3");
    CHECK(n->outputs[0]->dtype == IR_DT_I64);
    ir_dim three = ir_dim_const(3);
    ir_node *r = one_node(g, IR_OP_CONSTANT_OF_SHAPE, 1, 1);
    r->inputs[0]->dtype = IR_DT_I64;
    r->inputs[0]->rank = 1;
    r->inputs[0]->dims[0] = three;
    CHECK(infer(g, r, 17, &d) == IR_OK);
    CHECK_SHAPE(r->outputs[0], "?,?,?");
    ir_tensor_free(shape);
    ir_tensor_free(zero);
    ir_tensor_free(empty);
    ir_tensor_free(neg);
    ir_graph_free(g);
}

static void test_range(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    ir_node *n = one_node(g, IR_OP_RANGE, 3, 1);
    struct {
        ir_dtype t;
        double s, l, dl;
        int n;
        double want[6];
    } cases[] = {
        {IR_DT_I64, 3, 9, 3, 2, {3, 6}},          /* ceil(6/3) = 2 */
        {IR_DT_I64, 10, 4, -3, 2, {10, 7}},       /* ceil(-6/-3) = 2 */
        {IR_DT_I32, 0, 5, 2, 3, {0, 2, 4}},
        {IR_DT_I64, 5, 1, 1, 0, {0}},             /* empty */
        {IR_DT_F32, 1, 2, 0.25, 4, {1, 1.25, 1.5, 1.75}},
        {IR_DT_F32, 0, -1, -0.4, 3, {0, -0.4f, -0.8f}},
        {IR_DT_I8, -3, 3, 2, 3, {-3, -1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ir_tensor *s = ten(cases[c].t, 0, NULL, &cases[c].s);
        ir_tensor *l = ten(cases[c].t, 0, NULL, &cases[c].l);
        ir_tensor *dl = ten(cases[c].t, 0, NULL, &cases[c].dl);
        const ir_tensor *in[3] = {s, l, dl};
        CHECK_MSG(eval(g, n, 17, in, o, &d) == IR_OK, "case %zu: %s", c, d.msg);
        CHECK_MSG(o[0] && o[0]->dtype == cases[c].t &&
                      vals_are(o[0], cases[c].n, cases[c].want),
                  "case %zu", c);
        free_outs(o, 1);
        ir_tensor_free(s);
        ir_tensor_free(l);
        ir_tensor_free(dl);
    }
    /* delta 0 and mixed types are errors */
    ir_tensor *s = ten(IR_DT_I64, 0, NULL, (double[]){0});
    ir_tensor *z = ten(IR_DT_I64, 0, NULL, (double[]){0});
    ir_tensor *f = ten(IR_DT_F32, 0, NULL, (double[]){1});
    const ir_tensor *bad1[3] = {s, s, z};
    CHECK(eval(g, n, 17, bad1, o, &d) == IR_ERR_INPUT);
    const ir_tensor *bad2[3] = {s, f, s};
    CHECK(eval(g, n, 17, bad2, o, &d) == IR_ERR_INPUT);
    /* extreme int64 span: no overflow, one element */
    ir_tensor *lo = ten(IR_DT_I64, 0, NULL, NULL), *hi = ten(IR_DT_I64, 0, NULL, NULL),
              *st = ten(IR_DT_I64, 0, NULL, NULL);
    ((int64_t *)lo->data)[0] = INT64_MIN;
    ((int64_t *)hi->data)[0] = INT64_MAX;
    ((int64_t *)st->data)[0] = INT64_MAX;
    const ir_tensor *ext[3] = {lo, hi, st};
    CHECK(eval(g, n, 17, ext, o, &d) == IR_OK);
    CHECK(o[0] && o[0]->dims[0] == 3);
    free_outs(o, 1);
    /* infer: constants give the count, otherwise [?] */
    ir_value_set_constant(n->inputs[0], ten(IR_DT_I64, 0, NULL, (double[]){0}));
    ir_value_set_constant(n->inputs[1], ten(IR_DT_I64, 0, NULL, (double[]){10}));
    ir_value_set_constant(n->inputs[2], ten(IR_DT_I64, 0, NULL, (double[]){4}));
    CHECK(infer(g, n, 17, &d) == IR_OK);
    CHECK_SHAPE(n->outputs[0], "3");
    ir_node *r = one_node(g, IR_OP_RANGE, 3, 1);
    r->inputs[0]->dtype = IR_DT_I64;
    CHECK(infer(g, r, 17, &d) == IR_OK);
    CHECK_SHAPE(r->outputs[0], "?");
    CHECK(r->outputs[0]->dtype == IR_DT_I64);
    ir_tensor_free(s);
    ir_tensor_free(z);
    ir_tensor_free(f);
    ir_tensor_free(lo);
    ir_tensor_free(hi);
    ir_tensor_free(st);
    ir_graph_free(g);
}

static void test_shape_size(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    int64_t dims[4] = {2, 3, 4, 5};
    ir_tensor *x = ten(IR_DT_BF16, 4, dims, NULL);
    const ir_tensor *in[1] = {x};
    ir_node *n = one_node(g, IR_OP_SHAPE, 1, 1);
    CHECK(eval(g, n, 13, in, o, &d) == IR_OK);
    CHECK(o[0]->dtype == IR_DT_I64 && vals_are(o[0], 4, (double[]){2, 3, 4, 5}));
    free_outs(o, 1);
    /* Shape-15 start/end, negative and clamped */
    struct { int64_t s, e; int n; double want[4]; } cases[] = {
        {1, INT64_MAX, 3, {3, 4, 5}}, {-3, -1, 2, {3, 4}}, {-10, 2, 2, {2, 3}},
        {3, 1, 0, {0}}, {0, 100, 4, {2, 3, 4, 5}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ir_node_set_attr_int(g, n, "start", cases[c].s);
        if (cases[c].e != INT64_MAX)
            ir_node_set_attr_int(g, n, "end", cases[c].e);
        CHECK(eval(g, n, 15, in, o, &d) == IR_OK);
        CHECK_MSG(vals_are(o[0], cases[c].n, cases[c].want), "case %zu", c);
        free_outs(o, 1);
    }
    /* before opset 15 the attributes do not exist */
    CHECK(eval(g, n, 13, in, o, &d) == IR_OK && ir_tensor_numel(o[0]) == 4);
    free_outs(o, 1);

    ir_node *sz = one_node(g, IR_OP_SIZE, 1, 1);
    CHECK(eval(g, sz, 13, in, o, &d) == IR_OK);
    CHECK(o[0]->rank == 0 && o[0]->dtype == IR_DT_I64 && vals_are(o[0], 1, (double[]){120}));
    free_outs(o, 1);

    /* infer on a symbolic input */
    ir_dim sd[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(768)};
    ir_value *h = ir_graph_add_input(g, "h", IR_DT_F32, 3, sd);
    ir_node *sh = ir_graph_add_node(g, IR_OP_SHAPE, "sh", 1, &h, 1);
    CHECK(infer(g, sh, 17, &d) == IR_OK);
    CHECK(sh->outputs[0]->dtype == IR_DT_I64);
    CHECK_SHAPE(sh->outputs[0], "3");
    ir_node *ssz = ir_graph_add_node(g, IR_OP_SIZE, "sz", 1, &h, 1);
    CHECK(infer(g, ssz, 17, &d) == IR_OK && ssz->outputs[0]->rank == 0);
    ir_tensor_free(x);
    ir_graph_free(g);
}

static void test_dropout(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[2];
    int64_t dims[2] = {2, 2};
    ir_tensor *x = ten(IR_DT_F32, 2, dims, (double[]){1, 2, 3, 4});
    ir_tensor *ratio = ten(IR_DT_F32, 0, NULL, (double[]){0.1});
    ir_tensor *ratio0 = ten(IR_DT_F32, 0, NULL, (double[]){0});
    ir_tensor *yes = ten(IR_DT_BOOL, 0, NULL, (double[]){1});
    ir_tensor *no = ten(IR_DT_BOOL, 0, NULL, (double[]){0});
    ir_node *n = one_node(g, IR_OP_DROPOUT, 3, 2);

    const ir_tensor *inf[3] = {x, ratio, no};
    CHECK(eval(g, n, 13, inf, o, &d) == IR_OK);
    CHECK(vals_are(o[0], 4, (double[]){1, 2, 3, 4}));
    CHECK(o[1] && o[1]->dtype == IR_DT_BOOL && vals_are(o[1], 4, (double[]){1, 1, 1, 1}));
    free_outs(o, 2);

    const ir_tensor *train[3] = {x, ratio, yes};
    CHECK(eval(g, n, 13, train, o, &d) == IR_ERR_UNSUPPORTED);
    CHECK(strstr(d.msg, "training-mode dropout is random") != NULL);
    const ir_tensor *train0[3] = {x, ratio0, yes};
    CHECK(eval(g, n, 13, train0, o, &d) == IR_OK);
    CHECK(vals_are(o[0], 4, (double[]){1, 2, 3, 4}));
    free_outs(o, 2);
    const ir_tensor *absent[3] = {x, NULL, NULL};
    CHECK(eval(g, n, 13, absent, o, &d) == IR_OK);
    free_outs(o, 2);

    /* opset 7: mask has the data type; ratio is an attribute */
    ir_node *old = one_node(g, IR_OP_DROPOUT, 1, 2);
    ir_node_set_attr_float(g, old, "ratio", 0.3f);
    const ir_tensor *in1[1] = {x};
    CHECK(eval(g, old, 7, in1, o, &d) == IR_OK);
    CHECK(o[1] && o[1]->dtype == IR_DT_F32 && vals_are(o[1], 4, (double[]){1, 1, 1, 1}));
    free_outs(o, 2);

    ir_dim sd[2] = {ir_dim_sym(g, "batch"), ir_dim_const(8)};
    ir_value *h = ir_graph_add_input(g, "h", IR_DT_F32, 2, sd);
    ir_node *dn = ir_graph_add_node(g, IR_OP_DROPOUT, "dn", 1, &h, 2);
    CHECK(infer(g, dn, 13, &d) == IR_OK);
    CHECK_SHAPE(dn->outputs[0], "batch,8");
    CHECK(dn->outputs[1]->dtype == IR_DT_BOOL);
    ir_tensor_free(x);
    ir_tensor_free(ratio);
    ir_tensor_free(ratio0);
    ir_tensor_free(yes);
    ir_tensor_free(no);
    ir_graph_free(g);
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze -------------------------------- */

static void test_reshape(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    int64_t dims[3] = {2, 3, 4};
    ir_tensor *x = iota(3, dims);
    ir_node *n = one_node(g, IR_OP_RESHAPE, 2, 1);
    struct { int n; int64_t shape[4]; int rank; int64_t want[4]; } ok[] = {
        {2, {4, -1}, 2, {4, 6}},
        {3, {0, 0, -1}, 3, {2, 3, 4}},
        {2, {-1, 4}, 2, {6, 4}},
        {4, {2, 0, 2, 2}, 4, {2, 3, 2, 2}},
        {1, {24}, 1, {24}},
    };
    for (size_t c = 0; c < sizeof ok / sizeof ok[0]; c++) {
        ir_tensor *s = ints(ok[c].n, ok[c].shape);
        const ir_tensor *in[2] = {x, s};
        CHECK_MSG(eval(g, n, 13, in, o, &d) == IR_OK, "case %zu: %s", c, d.msg);
        CHECK_MSG(dims_are(o[0], ok[c].rank, ok[c].want), "case %zu", c);
        CHECK(o[0] && memcmp(o[0]->data, x->data, x->nbytes) == 0);
        free_outs(o, 1);
        ir_tensor_free(s);
    }
    /* errors: two -1, size mismatch (message shows both shapes) */
    ir_tensor *two = ints(2, (int64_t[]){-1, -1});
    const ir_tensor *in2[2] = {x, two};
    CHECK(eval(g, n, 13, in2, o, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "more than one -1") != NULL);
    ir_tensor *bad = ints(2, (int64_t[]){5, 5});
    const ir_tensor *in3[2] = {x, bad};
    CHECK(eval(g, n, 13, in3, o, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "[2,3,4]") && strstr(d.msg, "[5,5]"), "%s", d.msg);
    ir_tensor *nodiv = ints(2, (int64_t[]){5, -1});
    const ir_tensor *in4[2] = {x, nodiv};
    CHECK(eval(g, n, 13, in4, o, &d) == IR_ERR_INPUT);

    /* allowzero (opset 14): 0 is a real zero */
    int64_t zd[2] = {0, 3};
    ir_tensor *ze = ten(IR_DT_F32, 2, zd, NULL);
    ir_tensor *s03 = ints(3, (int64_t[]){3, 0, 5});
    const ir_tensor *in5[2] = {ze, s03};
    ir_node_set_attr_int(g, n, "allowzero", 1);
    CHECK(eval(g, n, 14, in5, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 3, (int64_t[]){3, 0, 5}));
    free_outs(o, 1);
    /* the same shape without allowzero copies dim 1 (3): 45 != 0 */
    CHECK(eval(g, n, 13, in5, o, &d) == IR_ERR_INPUT);
    ir_tensor *zm = ints(2, (int64_t[]){0, -1});
    const ir_tensor *in6[2] = {ze, zm};
    CHECK(eval(g, n, 14, in6, o, &d) == IR_ERR_INPUT); /* 0 and -1 together */

    /* every dtype moves by element size */
    ir_dtype types[] = {IR_DT_U8, IR_DT_I8, IR_DT_I32, IR_DT_I64, IR_DT_BOOL,
                        IR_DT_F16, IR_DT_BF16};
    ir_tensor *s6 = ints(1, (int64_t[]){-1});
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        ir_tensor *y = ten(types[t], 3, dims, NULL);
        for (size_t b = 0; b < y->nbytes; b++)
            ((unsigned char *)y->data)[b] = (unsigned char)(b * 7 % 2);
        const ir_tensor *in[2] = {y, s6};
        CHECK(eval(g, n, 13, in, o, &d) == IR_OK);
        CHECK(o[0] && o[0]->dtype == types[t] && o[0]->nbytes == y->nbytes &&
              memcmp(o[0]->data, y->data, y->nbytes) == 0);
        free_outs(o, 1);
        ir_tensor_free(y);
    }
    ir_tensor_free(x);
    ir_tensor_free(two);
    ir_tensor_free(bad);
    ir_tensor_free(nodiv);
    ir_tensor_free(ze);
    ir_tensor_free(s03);
    ir_tensor_free(zm);
    ir_tensor_free(s6);
    ir_graph_free(g);
}

/* The BERT attention pattern on symbolic shapes. */
static void test_reshape_infer_symbolic(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_dim hd[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(768)};
    ir_value *h = ir_graph_add_input(g, "h", IR_DT_F32, 3, hd);

    /* [batch,seq,768] -> Reshape [0,0,12,64] -> Transpose [0,2,1,3] */
    ir_value *s1 = ir_graph_add_constant(g, "s1", ints(4, (int64_t[]){0, 0, 12, 64}));
    ir_value *r1 = ir_node_make1(g, IR_OP_RESHAPE, "r1", h, s1);
    CHECK(infer(g, r1->producer, 17, &d) == IR_OK);
    CHECK_SHAPE(r1, "batch,seq,12,64");
    ir_value *t1 = ir_node_make1(g, IR_OP_TRANSPOSE, "t1", r1, NULL);
    ir_node_set_attr_ints(g, t1->producer, "perm", 4, (int64_t[]){0, 2, 1, 3});
    CHECK(infer(g, t1->producer, 17, &d) == IR_OK);
    CHECK_SHAPE(t1, "batch,12,seq,64");
    CHECK(t1->dtype == IR_DT_F32);

    /* [batch,seq,768] -> [-1,768] names the product; [-1,12,64] after it
     * splits only the known part */
    ir_value *s2 = ir_graph_add_constant(g, "s2", ints(2, (int64_t[]){-1, 768}));
    ir_value *r2 = ir_node_make1(g, IR_OP_RESHAPE, "r2", h, s2);
    CHECK(infer(g, r2->producer, 17, &d) == IR_OK);
    CHECK_SHAPE(r2, "batch*seq,768");
    ir_value *s3 = ir_graph_add_constant(g, "s3", ints(3, (int64_t[]){-1, 12, 64}));
    ir_value *r3 = ir_node_make1(g, IR_OP_RESHAPE, "r3", r2, s3);
    CHECK(infer(g, r3->producer, 17, &d) == IR_OK);
    CHECK_SHAPE(r3, "batch*seq,12,64");
    /* back to [batch, -1, 768] via 0: the -1 resolves to seq */
    ir_dim bd[2] = {ir_dim_sym(g, "batch*seq"), ir_dim_const(768)};
    ir_value *flat = ir_graph_add_input(g, "flat", IR_DT_F32, 2, bd);
    ir_value *s4 = ir_graph_add_constant(g, "s4", ints(3, (int64_t[]){-1, 12, 64}));
    ir_value *r4 = ir_node_make1(g, IR_OP_RESHAPE, "r4", flat, s4);
    CHECK(infer(g, r4->producer, 17, &d) == IR_OK);
    CHECK_SHAPE(r4, "batch*seq,12,64");
    /* [batch,seq,12,64] -> [0,-1,768]: the -1 is seq */
    ir_value *s5 = ir_graph_add_constant(g, "s5", ints(3, (int64_t[]){0, -1, 768}));
    ir_value *r5 = ir_node_make1(g, IR_OP_RESHAPE, "r5", r1, s5);
    CHECK(infer(g, r5->producer, 17, &d) == IR_OK);
    CHECK_SHAPE(r5, "batch,seq,768");
    /* [batch*seq,768] with a constant all-known shape: known dims */
    ir_value *s6 = ir_graph_add_constant(g, "s6", ints(4, (int64_t[]){2, 8, 12, 64}));
    ir_value *r6 = ir_node_make1(g, IR_OP_RESHAPE, "r6", flat, s6);
    CHECK(infer(g, r6->producer, 17, &d) == IR_OK);
    CHECK_SHAPE(r6, "2,8,12,64");
    /* -1 that does not divide the symbols stays unknown */
    ir_value *s7 = ir_graph_add_constant(g, "s7", ints(2, (int64_t[]){5, -1}));
    ir_value *r7 = ir_node_make1(g, IR_OP_RESHAPE, "r7", h, s7);
    CHECK(infer(g, r7->producer, 17, &d) == IR_OK);
    CHECK_SHAPE(r7, "5,?");
    /* run-time shape input of known length 4: rank 4, dims unknown */
    ir_dim four = ir_dim_const(4);
    ir_value *dyn = ir_graph_add_input(g, "dyn", IR_DT_I64, 1, &four);
    ir_value *r8 = ir_node_make1(g, IR_OP_RESHAPE, "r8", h, dyn);
    CHECK(infer(g, r8->producer, 17, &d) == IR_OK);
    CHECK_SHAPE(r8, "?,?,?,?");
    /* known sizes that disagree are an error */
    int64_t kd[2] = {4, 6};
    ir_value *k = ir_graph_add_input(g, "k", IR_DT_F32, 2, (ir_dim[]){ir_dim_const(kd[0]), ir_dim_const(kd[1])});
    ir_value *s9 = ir_graph_add_constant(g, "s9", ints(2, (int64_t[]){5, 5}));
    ir_value *r9 = ir_node_make1(g, IR_OP_RESHAPE, "r9", k, s9);
    CHECK(infer(g, r9->producer, 17, &d) == IR_ERR_INPUT);

    /* torch's chain: Reshape(h, Concat(Unsqueeze(Gather(Shape(h), 0)),
     * Unsqueeze(Gather(Shape(h), 1)), [12], [64])) resolves to symbols */
    ir_value *shp = ir_node_make1(g, IR_OP_SHAPE, "shp", h, NULL);
    CHECK(infer(g, shp->producer, 13, &d) == IR_OK);
    ir_value *parts[4];
    for (int i = 0; i < 2; i++) {
        ir_value *idx = ir_graph_add_constant(g, NULL, ten(IR_DT_I64, 0, NULL, (double[]){i}));
        ir_value *gi = ir_node_make1(g, IR_OP_GATHER, NULL, shp, idx);
        CHECK(infer(g, gi->producer, 13, &d) == IR_OK && gi->rank == 0);
        ir_value *ax0 = ir_graph_add_constant(g, NULL, ints(1, (int64_t[]){0}));
        parts[i] = ir_node_make1(g, IR_OP_UNSQUEEZE, NULL, gi, ax0);
        CHECK(infer(g, parts[i]->producer, 13, &d) == IR_OK);
    }
    parts[2] = ir_graph_add_constant(g, "c12", ints(1, (int64_t[]){12}));
    parts[3] = ir_graph_add_constant(g, "c64", ints(1, (int64_t[]){64}));
    ir_node *cat = ir_graph_add_node(g, IR_OP_CONCAT, "cat", 4, parts, 1);
    ir_node_set_attr_int(g, cat, "axis", 0);
    CHECK(infer(g, cat, 13, &d) == IR_OK);
    CHECK_SHAPE(cat->outputs[0], "4");
    ir_value *rc = ir_node_make1(g, IR_OP_RESHAPE, "rc", h, cat->outputs[0]);
    CHECK(infer(g, rc->producer, 13, &d) == IR_OK);
    CHECK_SHAPE(rc, "batch,seq,12,64");
    /* ... and with -1 in the chain: [batch, -1, 768] from [batch,seq,12,64] */
    ir_value *p3[3] = {parts[0], ir_graph_add_constant(g, "cm1", ints(1, (int64_t[]){-1})),
                       ir_graph_add_constant(g, "c768", ints(1, (int64_t[]){768}))};
    ir_node *cat2 = ir_graph_add_node(g, IR_OP_CONCAT, "cat2", 3, p3, 1);
    ir_node_set_attr_int(g, cat2, "axis", 0);
    ir_value *rc2 = ir_node_make1(g, IR_OP_RESHAPE, "rc2", rc, cat2->outputs[0]);
    CHECK(infer(g, rc2->producer, 13, &d) == IR_OK);
    CHECK_SHAPE(rc2, "batch,seq,768");
    /* Expand / ConstantOfShape of Shape(h) keep the symbols too */
    ir_dim md[2] = {ir_dim_const(1), ir_dim_const(1)};
    ir_value *one11 = ir_graph_add_input(g, "one11", IR_DT_F32, 2, md);
    ir_value *sub = ir_node_make1(g, IR_OP_SHAPE, "sub", h, NULL);
    ir_node_set_attr_int(g, sub->producer, "end", 2);
    CHECK(infer(g, sub->producer, 15, &d) == IR_OK);
    CHECK_SHAPE(sub, "2");
    ir_value *ex = ir_node_make1(g, IR_OP_EXPAND, "ex", one11, sub);
    CHECK(infer(g, ex->producer, 15, &d) == IR_OK);
    CHECK_SHAPE(ex, "batch,seq");
    ir_value *cs = ir_node_make1(g, IR_OP_CONSTANT_OF_SHAPE, "cs", sub, NULL);
    CHECK(infer(g, cs->producer, 15, &d) == IR_OK);
    CHECK_SHAPE(cs, "batch,seq");

    /* Flatten keeps the symbolic product */
    ir_value *fl = ir_node_make1(g, IR_OP_FLATTEN, "fl", h, NULL);
    ir_node_set_attr_int(g, fl->producer, "axis", -1);
    CHECK(infer(g, fl->producer, 17, &d) == IR_OK);
    CHECK_SHAPE(fl, "batch*seq,768");
    ir_graph_free(g);
}

static void test_flatten(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    int64_t dims[4] = {2, 3, 4, 5};
    ir_tensor *x = iota(4, dims);
    const ir_tensor *in[1] = {x};
    ir_node *n = one_node(g, IR_OP_FLATTEN, 1, 1);
    struct { int64_t axis; int64_t want[2]; } cases[] = {
        {0, {1, 120}}, {1, {2, 60}}, {4, {120, 1}}, {-1, {24, 5}}, {-4, {1, 120}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ir_node_set_attr_int(g, n, "axis", cases[c].axis);
        CHECK(eval(g, n, 13, in, o, &d) == IR_OK);
        CHECK_MSG(dims_are(o[0], 2, cases[c].want), "axis %lld",
                  (long long)cases[c].axis);
        free_outs(o, 1);
    }
    ir_node_set_attr_int(g, n, "axis", 5);
    CHECK(eval(g, n, 13, in, o, &d) == IR_ERR_INPUT);
    ir_tensor_free(x);
    ir_graph_free(g);
}

static void test_squeeze_unsqueeze(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    int64_t dims[4] = {1, 3, 1, 2};
    ir_tensor *x = iota(4, dims);

    /* Squeeze-13: axes input, optional */
    ir_node *sq = one_node(g, IR_OP_SQUEEZE, 2, 1);
    ir_tensor *ax = ints(1, (int64_t[]){-2});
    const ir_tensor *in[2] = {x, ax};
    CHECK(eval(g, sq, 13, in, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 3, (int64_t[]){1, 3, 2}));
    free_outs(o, 1);
    const ir_tensor *noax[2] = {x, NULL};
    CHECK(eval(g, sq, 13, noax, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){3, 2}));
    free_outs(o, 1);
    ir_tensor *ax1 = ints(1, (int64_t[]){1});
    const ir_tensor *bad[2] = {x, ax1};
    CHECK(eval(g, sq, 13, bad, o, &d) == IR_ERR_INPUT); /* size 3 */
    /* Squeeze-11: axes attribute */
    ir_node *sq11 = one_node(g, IR_OP_SQUEEZE, 1, 1);
    ir_node_set_attr_ints(g, sq11, "axes", 2, (int64_t[]){0, 2});
    CHECK(eval(g, sq11, 11, in, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){3, 2}));
    free_outs(o, 1);
    ir_node_set_attr_ints(g, sq11, "axes", 2, (int64_t[]){0, -4});
    CHECK(eval(g, sq11, 11, in, o, &d) == IR_ERR_INPUT); /* repeated */

    /* Unsqueeze-13: unsorted, negative axes (of the output rank) */
    int64_t vd[2] = {3, 4};
    ir_tensor *v = iota(2, vd);
    ir_node *un = one_node(g, IR_OP_UNSQUEEZE, 2, 1);
    ir_tensor *uax = ints(2, (int64_t[]){3, 0});
    const ir_tensor *uin[2] = {v, uax};
    CHECK(eval(g, un, 13, uin, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 4, (int64_t[]){1, 3, 4, 1}));
    free_outs(o, 1);
    ir_tensor *uneg = ints(2, (int64_t[]){-1, 1});
    uin[1] = uneg;
    CHECK(eval(g, un, 13, uin, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 4, (int64_t[]){3, 1, 4, 1}));
    free_outs(o, 1);
    uin[1] = NULL;
    CHECK(eval(g, un, 13, uin, o, &d) == IR_ERR_INPUT); /* required */
    ir_node *un11 = one_node(g, IR_OP_UNSQUEEZE, 1, 1);
    ir_node_set_attr_ints(g, un11, "axes", 1, (int64_t[]){1});
    CHECK(eval(g, un11, 11, uin, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 3, (int64_t[]){3, 1, 4}));
    free_outs(o, 1);
    /* scalar -> [1] */
    ir_tensor *sc = ten(IR_DT_I64, 0, NULL, (double[]){5});
    ir_tensor *z = ints(1, (int64_t[]){0});
    const ir_tensor *sin[2] = {sc, z};
    CHECK(eval(g, un, 13, sin, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 1, (int64_t[]){1}) && vals_are(o[0], 1, (double[]){5}));
    free_outs(o, 1);

    /* infer keeps symbols */
    ir_dim hd[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(768)};
    ir_value *h = ir_graph_add_input(g, "h", IR_DT_F32, 3, hd);
    ir_value *axc = ir_graph_add_constant(g, "axc", ints(2, (int64_t[]){1, -1}));
    ir_value *u = ir_node_make1(g, IR_OP_UNSQUEEZE, "u", h, axc);
    CHECK(infer(g, u->producer, 13, &d) == IR_OK);
    CHECK_SHAPE(u, "batch,1,seq,768,1");
    ir_value *axs = ir_graph_add_constant(g, "axs", ints(1, (int64_t[]){-1}));
    ir_value *s = ir_node_make1(g, IR_OP_SQUEEZE, "s", u, axs);
    CHECK(infer(g, s->producer, 13, &d) == IR_OK);
    CHECK_SHAPE(s, "batch,1,seq,768");
    ir_value *s2 = ir_node_make1(g, IR_OP_SQUEEZE, "s2", s, NULL);
    CHECK(infer(g, s2->producer, 13, &d) == IR_OK);
    CHECK_SHAPE(s2, "?rank"); /* batch or seq might be 1 */
    ir_value *bad768 = ir_graph_add_constant(g, "b768", ints(1, (int64_t[]){2}));
    ir_value *s3 = ir_node_make1(g, IR_OP_SQUEEZE, "s3", h, bad768);
    CHECK(infer(g, s3->producer, 13, &d) == IR_ERR_INPUT);
    /* attention mask: [batch,seq] -> Unsqueeze 1 -> Unsqueeze 2 (opset 11) */
    ir_value *m = ir_graph_add_input(g, "m", IR_DT_I64, 2, hd);
    ir_value *m1 = ir_node_make1(g, IR_OP_UNSQUEEZE, "m1", m, NULL);
    ir_node_set_attr_ints(g, m1->producer, "axes", 1, (int64_t[]){1});
    CHECK(infer(g, m1->producer, 11, &d) == IR_OK);
    ir_value *m2 = ir_node_make1(g, IR_OP_UNSQUEEZE, "m2", m1, NULL);
    ir_node_set_attr_ints(g, m2->producer, "axes", 1, (int64_t[]){2});
    CHECK(infer(g, m2->producer, 11, &d) == IR_OK);
    CHECK_SHAPE(m2, "batch,1,1,seq");
    CHECK(m2->dtype == IR_DT_I64);
    ir_tensor_free(x);
    ir_tensor_free(ax);
    ir_tensor_free(ax1);
    ir_tensor_free(v);
    ir_tensor_free(uax);
    ir_tensor_free(uneg);
    ir_tensor_free(sc);
    ir_tensor_free(z);
    ir_graph_free(g);
}

/* ---- Transpose, Concat, Split -------------------------------------------- */

static void test_transpose(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    int64_t dims[3] = {2, 3, 4};
    ir_tensor *x = iota(3, dims);
    const ir_tensor *in[1] = {x};
    ir_node *n = one_node(g, IR_OP_TRANSPOSE, 1, 1);
    /* default: reversed axes; out[k][j][i] = x[i][j][k] */
    CHECK(eval(g, n, 13, in, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 3, (int64_t[]){4, 3, 2}));
    bool ok = true;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                ok &= ((float *)o[0]->data)[k * 6 + j * 2 + i] ==
                      ((float *)x->data)[i * 12 + j * 4 + k];
    CHECK(ok);
    free_outs(o, 1);
    ir_node_set_attr_ints(g, n, "perm", 3, (int64_t[]){1, 0, 2});
    CHECK(eval(g, n, 13, in, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 3, (int64_t[]){3, 2, 4}));
    CHECK(vals_start(o[0], 8, (double[]){0, 1, 2, 3, 12, 13, 14, 15}));
    free_outs(o, 1);
    ir_node_set_attr_ints(g, n, "perm", 3, (int64_t[]){1, 1, 2});
    CHECK(eval(g, n, 13, in, o, &d) == IR_ERR_INPUT);
    ir_node_set_attr_ints(g, n, "perm", 2, (int64_t[]){1, 0});
    CHECK(eval(g, n, 13, in, o, &d) == IR_ERR_INPUT);
    /* i64 and empty tensors */
    int64_t ed[2] = {0, 3};
    ir_tensor *e = ten(IR_DT_I64, 2, ed, NULL);
    ir_node *n2 = one_node(g, IR_OP_TRANSPOSE, 1, 1);
    const ir_tensor *ein[1] = {e};
    CHECK(eval(g, n2, 13, ein, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){3, 0}) && o[0]->dtype == IR_DT_I64);
    free_outs(o, 1);
    ir_tensor_free(x);
    ir_tensor_free(e);
    ir_graph_free(g);
}

static void test_concat(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    int64_t ad[2] = {2, 2}, bd[2] = {2, 1}, cd[2] = {2, 0};
    ir_tensor *a = ten(IR_DT_I32, 2, ad, (double[]){1, 2, 3, 4});
    ir_tensor *b = ten(IR_DT_I32, 2, bd, (double[]){5, 6});
    ir_tensor *c = ten(IR_DT_I32, 2, cd, NULL);
    ir_node *n = one_node(g, IR_OP_CONCAT, 3, 1);
    ir_node_set_attr_int(g, n, "axis", -1);
    const ir_tensor *in[3] = {a, c, b};
    CHECK(eval(g, n, 13, in, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){2, 3}));
    CHECK(vals_are(o[0], 6, (double[]){1, 2, 5, 3, 4, 6}));
    free_outs(o, 1);
    ir_node_set_attr_int(g, n, "axis", 0);
    CHECK(eval(g, n, 13, in, o, &d) == IR_ERR_INPUT); /* dims differ */
    CHECK(strstr(d.msg, n->name) != NULL);
    const ir_tensor *in2[3] = {a, a, a};
    CHECK(eval(g, n, 13, in2, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){6, 2}));
    free_outs(o, 1);
    ir_node_set_attr_int(g, n, "axis", 2);
    CHECK(eval(g, n, 13, in2, o, &d) == IR_ERR_INPUT);

    /* infer: the torch shape chain Concat(Unsqueeze(batch), Unsqueeze(seq),
     * [12], [64]) is [4]; symbolic data concat keeps the other dims */
    ir_dim one = ir_dim_const(1);
    ir_value *u[4];
    for (int i = 0; i < 4; i++)
        u[i] = ir_graph_add_input(g, NULL, IR_DT_I64, 1, &one);
    ir_node *sc = ir_graph_add_node(g, IR_OP_CONCAT, "shape_cat", 4, u, 1);
    ir_node_set_attr_int(g, sc, "axis", 0);
    CHECK(infer(g, sc, 13, &d) == IR_OK);
    CHECK_SHAPE(sc->outputs[0], "4");
    ir_dim hd[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(384)};
    ir_dim kd[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(384)};
    ir_value *hv[2] = {ir_graph_add_input(g, "p", IR_DT_F32, 3, hd),
                       ir_graph_add_input(g, "q", IR_DT_F32, 3, kd)};
    ir_node *hc = ir_graph_add_node(g, IR_OP_CONCAT, "hc", 2, hv, 1);
    ir_node_set_attr_int(g, hc, "axis", -1);
    CHECK(infer(g, hc, 13, &d) == IR_OK);
    CHECK_SHAPE(hc->outputs[0], "batch,seq,768");
    ir_node_set_attr_int(g, hc, "axis", 1);
    CHECK(infer(g, hc, 13, &d) == IR_OK);
    CHECK_SHAPE(hc->outputs[0], "batch,?,384");
    ir_tensor_free(a);
    ir_tensor_free(b);
    ir_tensor_free(c);
    ir_graph_free(g);
}

static void test_split(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[3];
    int64_t dims[2] = {2, 6};
    ir_tensor *x = iota(2, dims);
    /* equal split by default */
    ir_node *n = one_node(g, IR_OP_SPLIT, 1, 3);
    ir_node_set_attr_int(g, n, "axis", -1);
    const ir_tensor *in[2] = {x, NULL};
    CHECK(eval(g, n, 13, in, o, &d) == IR_OK);
    CHECK(dims_are(o[1], 2, (int64_t[]){2, 2}));
    CHECK(vals_are(o[1], 4, (double[]){2, 3, 8, 9}));
    free_outs(o, 3);
    /* split input (13) with a zero-size part */
    ir_node *n13 = one_node(g, IR_OP_SPLIT, 2, 3);
    ir_node_set_attr_int(g, n13, "axis", 1);
    ir_tensor *sp = ints(3, (int64_t[]){1, 0, 5});
    const ir_tensor *in13[2] = {x, sp};
    CHECK(eval(g, n13, 13, in13, o, &d) == IR_OK);
    CHECK(dims_are(o[1], 2, (int64_t[]){2, 0}) && dims_are(o[2], 2, (int64_t[]){2, 5}));
    CHECK(vals_are(o[0], 2, (double[]){0, 6}));
    CHECK(vals_are(o[2], 10, (double[]){1, 2, 3, 4, 5, 7, 8, 9, 10, 11}));
    free_outs(o, 3);
    ir_tensor *badsp = ints(3, (int64_t[]){1, 1, 1});
    in13[1] = badsp;
    CHECK(eval(g, n13, 13, in13, o, &d) == IR_ERR_INPUT);
    /* split attribute (11) */
    ir_node *n11 = one_node(g, IR_OP_SPLIT, 1, 2);
    ir_node_set_attr_ints(g, n11, "split", 2, (int64_t[]){4, 2});
    ir_node_set_attr_int(g, n11, "axis", 1);
    CHECK(eval(g, n11, 11, in, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){2, 4}) && dims_are(o[1], 2, (int64_t[]){2, 2}));
    free_outs(o, 2);
    /* num_outputs (18): parts of ceil(5 / 3) = 2, the last one smaller */
    int64_t d5[2] = {1, 5};
    ir_tensor *x5 = iota(2, d5);
    ir_node *n18 = one_node(g, IR_OP_SPLIT, 1, 3);
    ir_node_set_attr_int(g, n18, "axis", 1);
    ir_node_set_attr_int(g, n18, "num_outputs", 3);
    const ir_tensor *in18[1] = {x5};
    CHECK(eval(g, n18, 18, in18, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){1, 2}) && dims_are(o[2], 2, (int64_t[]){1, 1}));
    CHECK(vals_are(o[2], 1, (double[]){4}));
    free_outs(o, 3);
    /* uneven without num_outputs is an error */
    ir_node *neq = one_node(g, IR_OP_SPLIT, 1, 3);
    ir_node_set_attr_int(g, neq, "axis", 1);
    CHECK(eval(g, neq, 13, in18, o, &d) == IR_ERR_INPUT);

    /* infer: QKV split of [batch,seq,2304] into three 768s */
    ir_dim hd[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(2304)};
    ir_value *h = ir_graph_add_input(g, "h", IR_DT_F32, 3, hd);
    ir_node *qkv = ir_graph_add_node(g, IR_OP_SPLIT, "qkv", 1, &h, 3);
    ir_node_set_attr_int(g, qkv, "axis", -1);
    CHECK(infer(g, qkv, 13, &d) == IR_OK);
    CHECK_SHAPE(qkv->outputs[2], "batch,seq,768");
    ir_node *bs = ir_graph_add_node(g, IR_OP_SPLIT, "bs", 1, &h, 2);
    CHECK(infer(g, bs, 13, &d) == IR_OK);
    CHECK_SHAPE(bs->outputs[0], "?,seq,2304");
    ir_tensor_free(x);
    ir_tensor_free(sp);
    ir_tensor_free(badsp);
    ir_tensor_free(x5);
    ir_graph_free(g);
}

/* ---- Slice, Gather -------------------------------------------------------- */

static void test_slice(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    int64_t dims[2] = {3, 5};
    ir_tensor *x = iota(2, dims); /* rows 0..4, 5..9, 10..14 */
    ir_node *n = one_node(g, IR_OP_SLICE, 5, 1);
    struct {
        int n;
        int64_t st[2], en[2], ax[2], sp[2];
        bool axes, steps;
        int rank;
        int64_t want_dims[2];
        int cnt;
        double want[9];
    } cases[] = {
        /* x[1:3, 1:4] */
        {2, {1, 1}, {3, 4}, {0, 1}, {1, 1}, true, false, 2, {2, 3}, 6, {6, 7, 8, 11, 12, 13}},
        /* x[:, -2:] with INT64_MAX end on axis -1 */
        {1, {-2}, {INT64_MAX}, {-1}, {1}, true, false, 2, {3, 2}, 6, {3, 4, 8, 9, 13, 14}},
        /* x[::-1, ::2] */
        {2, {-1, 0}, {INT64_MIN, 100}, {0, 1}, {-1, 2}, true, true, 2, {3, 3}, 9,
         {10, 12, 14, 5, 7, 9, 0, 2, 4}},
        /* x[2:0:-1, 4:1:-2] */
        {2, {2, 4}, {0, 1}, {0, 1}, {-1, -2}, true, true, 2, {2, 2}, 4, {14, 12, 9, 7}},
        /* empty: start beyond end */
        {1, {3}, {1}, {1}, {1}, true, false, 2, {3, 0}, 0, {0}},
        /* clamped starts/ends, no axes */
        {2, {-100, 1}, {100, 2}, {0}, {0}, false, false, 2, {3, 1}, 3, {1, 6, 11}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ir_tensor *st = ints(cases[c].n, cases[c].st), *en = ints(cases[c].n, cases[c].en);
        ir_tensor *ax = cases[c].axes ? ints(cases[c].n, cases[c].ax) : NULL;
        ir_tensor *sp = cases[c].steps ? ints(cases[c].n, cases[c].sp) : NULL;
        const ir_tensor *in[5] = {x, st, en, ax, sp};
        CHECK_MSG(eval(g, n, 13, in, o, &d) == IR_OK, "case %zu: %s", c, d.msg);
        CHECK_MSG(dims_are(o[0], cases[c].rank, cases[c].want_dims), "case %zu", c);
        CHECK_MSG(vals_are(o[0], cases[c].cnt, cases[c].want), "case %zu", c);
        free_outs(o, 1);
        ir_tensor_free(st);
        ir_tensor_free(en);
        ir_tensor_free(ax);
        ir_tensor_free(sp);
    }
    /* errors: step 0, repeated axis, length mismatch */
    ir_tensor *st = ints(1, (int64_t[]){0}), *en = ints(1, (int64_t[]){2});
    ir_tensor *z = ints(1, (int64_t[]){0});
    const ir_tensor *bad[5] = {x, st, en, NULL, z};
    CHECK(eval(g, n, 13, bad, o, &d) == IR_ERR_INPUT);
    ir_tensor *rep = ints(2, (int64_t[]){1, -1}), *st2 = ints(2, (int64_t[]){0, 0}),
              *en2 = ints(2, (int64_t[]){1, 1});
    const ir_tensor *bad2[5] = {x, st2, en2, rep, NULL};
    CHECK(eval(g, n, 13, bad2, o, &d) == IR_ERR_INPUT);
    const ir_tensor *bad3[5] = {x, st2, en, NULL, NULL};
    CHECK(eval(g, n, 13, bad3, o, &d) == IR_ERR_INPUT);
    /* opset 1: attributes */
    ir_node *n1 = one_node(g, IR_OP_SLICE, 1, 1);
    ir_node_set_attr_ints(g, n1, "starts", 1, (int64_t[]){1});
    ir_node_set_attr_ints(g, n1, "ends", 1, (int64_t[]){-1});
    ir_node_set_attr_ints(g, n1, "axes", 1, (int64_t[]){1});
    const ir_tensor *in1[1] = {x};
    CHECK(eval(g, n1, 9, in1, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){3, 3}) && vals_start(o[0], 3, (double[]){1, 2, 3}));
    free_outs(o, 1);

    /* infer: symbolic dims kept when sliced whole or not sliced */
    ir_dim hd[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(768)};
    ir_value *h = ir_graph_add_input(g, "h", IR_DT_F32, 3, hd);
    ir_value *sin[5] = {h,
        ir_graph_add_constant(g, "s0", ints(2, (int64_t[]){0, 0})),
        ir_graph_add_constant(g, "e0", ints(2, (int64_t[]){INT64_MAX, 1})),
        ir_graph_add_constant(g, "a0", ints(2, (int64_t[]){1, 0})), NULL};
    ir_node *sl = ir_graph_add_node(g, IR_OP_SLICE, "sl", 4, sin, 1);
    CHECK(infer(g, sl, 13, &d) == IR_OK);
    CHECK_SHAPE(sl->outputs[0], "?,seq,768");
    ir_value *s768[4] = {h, ir_graph_add_constant(g, "s1", ints(1, (int64_t[]){-256})),
                         ir_graph_add_constant(g, "e1", ints(1, (int64_t[]){INT64_MAX})),
                         ir_graph_add_constant(g, "a1", ints(1, (int64_t[]){-1}))};
    ir_node *sl2 = ir_graph_add_node(g, IR_OP_SLICE, "sl2", 4, s768, 1);
    CHECK(infer(g, sl2, 13, &d) == IR_OK);
    CHECK_SHAPE(sl2->outputs[0], "batch,seq,256");
    /* run-time ends with constant axes: only that axis is unknown */
    ir_dim one = ir_dim_const(1);
    ir_value *dyn[4] = {h, ir_graph_add_constant(g, "s2", ints(1, (int64_t[]){0})),
                        ir_graph_add_input(g, "e2", IR_DT_I64, 1, &one),
                        ir_graph_add_constant(g, "a2", ints(1, (int64_t[]){1}))};
    ir_node *sl3 = ir_graph_add_node(g, IR_OP_SLICE, "sl3", 4, dyn, 1);
    CHECK(infer(g, sl3, 13, &d) == IR_OK);
    CHECK_SHAPE(sl3->outputs[0], "batch,?,768");
    ir_tensor_free(x);
    ir_tensor_free(st);
    ir_tensor_free(en);
    ir_tensor_free(z);
    ir_tensor_free(rep);
    ir_tensor_free(st2);
    ir_tensor_free(en2);
    ir_graph_free(g);
}

/* GatherElements-13: the spec's two examples, a negative index, the
 * checks that keep every read in bounds, and infer. */
static void test_gather_elements(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    ir_node *n = one_node(g, IR_OP_GATHER_ELEMENTS, 2, 1);
    /* spec example 1: data [[1,2],[3,4]], axis 1, indices [[0,0],[1,0]] */
    ir_tensor *x = ten(IR_DT_F32, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4});
    ir_tensor *ind = ten(IR_DT_I64, 2, (int64_t[]){2, 2}, (double[]){0, 0, 1, 0});
    ir_node_set_attr_int(g, n, "axis", 1);
    const ir_tensor *in[2] = {x, ind};
    CHECK(eval(g, n, 13, in, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){2, 2}) &&
          vals_are(o[0], 4, (double[]){1, 1, 4, 3}));
    free_outs(o, 1);
    /* spec example 2: data 3x3 1..9, axis 0, indices [[1,2,0],[2,0,0]]
     * (shorter than data on axis 0), here with int32 and -1 for 2 */
    ir_tensor *x9 = ten(IR_DT_I64, 2, (int64_t[]){3, 3},
                        (double[]){1, 2, 3, 4, 5, 6, 7, 8, 9});
    ir_tensor *i9 = ten(IR_DT_I32, 2, (int64_t[]){2, 3}, (double[]){1, -1, 0, 2, 0, 0});
    ir_node_set_attr_int(g, n, "axis", 0);
    const ir_tensor *in9[2] = {x9, i9};
    CHECK(eval(g, n, 13, in9, o, &d) == IR_OK);
    CHECK(o[0]->dtype == IR_DT_I64 && dims_are(o[0], 2, (int64_t[]){2, 3}) &&
          vals_are(o[0], 6, (double[]){4, 8, 3, 7, 2, 3}));
    free_outs(o, 1);
    /* out of range, rank mismatch, too long on another axis */
    ir_tensor *oob = ten(IR_DT_I64, 2, (int64_t[]){1, 1}, (double[]){3});
    ir_tensor *r1 = ten(IR_DT_I64, 1, (int64_t[]){2}, (double[]){0, 1});
    ir_tensor *lng = ten(IR_DT_I64, 2, (int64_t[]){1, 4}, (double[]){0, 0, 0, 0});
    const ir_tensor *bad[3][2] = {{x9, oob}, {x9, r1}, {x9, lng}};
    const char *why[3] = {"index 3", "rank", "long on axis 1"};
    for (int i = 0; i < 3; i++) {
        CHECK(eval(g, n, 13, bad[i], o, &d) == IR_ERR_INPUT);
        CHECK_MSG(strstr(d.msg, why[i]) != NULL, "%s", d.msg);
    }
    /* infer: the output has the indices' shape and the data's type */
    ir_dim xd[2] = {ir_dim_const(3), ir_dim_const(3)};
    ir_dim id[2] = {ir_dim_sym(g, "k"), ir_dim_const(3)};
    ir_value *vin[2] = {ir_graph_add_input(g, "x", IR_DT_F32, 2, xd),
                        ir_graph_add_input(g, "i", IR_DT_I64, 2, id)};
    ir_node *ni = ir_graph_add_node(g, IR_OP_GATHER_ELEMENTS, "ge", 2, vin, 1);
    ir_infer_args ia = {g, ni, 13, &d};
    CHECK(ir_op_hooks_get(IR_OP_GATHER_ELEMENTS)->infer(&ia) == IR_OK);
    CHECK(ni->outputs[0]->dtype == IR_DT_F32 && ni->outputs[0]->rank == 2 &&
          ni->outputs[0]->dims[1].size == 3);
    ir_tensor_free(x);
    ir_tensor_free(ind);
    ir_tensor_free(x9);
    ir_tensor_free(i9);
    ir_tensor_free(oob);
    ir_tensor_free(r1);
    ir_tensor_free(lng);
    ir_graph_free(g);
}

/* Pad: a worked example per mode (values by hand from numpy.pad) and the
 * refusals that keep every read in bounds; tests/ir/test_ops_ort.py holds
 * the modes against ONNX Runtime. */
static void test_pad(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    ir_node *n = one_node(g, IR_OP_PAD, 2, 1);
    ir_tensor *x = ten(IR_DT_F32, 1, (int64_t[]){3}, (double[]){1, 2, 3});
    ir_tensor *p = ten(IR_DT_I64, 1, (int64_t[]){2}, (double[]){2, 3});
    const ir_tensor *in[2] = {x, p};
    static const struct { const char *mode; double want[8]; } m[] = {
        {"constant", {0, 0, 1, 2, 3, 0, 0, 0}},
        {"edge", {1, 1, 1, 2, 3, 3, 3, 3}},
        {"reflect", {3, 2, 1, 2, 3, 2, 1, 2}}};
    for (int i = 0; i < 3; i++) {
        ir_node_set_attr_string(g, n, "mode", m[i].mode);
        CHECK_MSG(eval(g, n, 13, in, o, &d) == IR_OK, "%s", d.msg);
        CHECK_MSG(dims_are(o[0], 1, (int64_t[]){8}) && vals_are(o[0], 8, m[i].want),
                  "pad %s", m[i].mode);
        free_outs(o, 1);
    }
    /* refusals: an unknown mode, wrap before opset 19, pads of the wrong
     * length, a crop below zero */
    ir_node_set_attr_string(g, n, "mode", "mirror");
    CHECK(eval(g, n, 13, in, o, &d) == IR_ERR_INPUT && strstr(d.msg, "mirror"));
    ir_node_set_attr_string(g, n, "mode", "wrap");
    CHECK(eval(g, n, 13, in, o, &d) == IR_ERR_INPUT && strstr(d.msg, "opset 19"));
    ir_node_set_attr_string(g, n, "mode", "constant");
    ir_tensor *p3 = ten(IR_DT_I64, 1, (int64_t[]){3}, (double[]){1, 1, 1});
    ir_tensor *pc = ten(IR_DT_I64, 1, (int64_t[]){2}, (double[]){-2, -2});
    const ir_tensor *b1[2] = {x, p3}, *b2[2] = {x, pc};
    CHECK(eval(g, n, 13, b1, o, &d) == IR_ERR_INPUT && strstr(d.msg, "3 pads"));
    CHECK(eval(g, n, 13, b2, o, &d) == IR_ERR_INPUT && strstr(d.msg, "below zero"));
    ir_tensor_free(x);
    ir_tensor_free(p);
    ir_tensor_free(p3);
    ir_tensor_free(pc);
    ir_graph_free(g);
}

static void test_gather(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    int64_t dims[2] = {3, 4};
    ir_tensor *x = iota(2, dims);
    ir_node *n = one_node(g, IR_OP_GATHER, 2, 1);
    /* axis 0, 2-D indices with a negative entry: an embedding lookup */
    int64_t id[2] = {2, 1};
    ir_tensor *ind = ten(IR_DT_I64, 2, id, (double[]){2, -3});
    const ir_tensor *in[2] = {x, ind};
    CHECK(eval(g, n, 13, in, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 3, (int64_t[]){2, 1, 4}));
    CHECK(vals_are(o[0], 8, (double[]){8, 9, 10, 11, 0, 1, 2, 3}));
    free_outs(o, 1);
    /* axis -1, scalar int32 index: a column */
    ir_node_set_attr_int(g, n, "axis", -1);
    ir_tensor *sc = ten(IR_DT_I32, 0, NULL, (double[]){-1});
    const ir_tensor *in2[2] = {x, sc};
    CHECK(eval(g, n, 13, in2, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 1, (int64_t[]){3}) && vals_are(o[0], 3, (double[]){3, 7, 11}));
    free_outs(o, 1);
    /* out of range: an error naming the index, no read */
    ir_tensor *oob = ten(IR_DT_I64, 1, (int64_t[]){2}, (double[]){0, 4});
    const ir_tensor *in3[2] = {x, oob};
    CHECK(eval(g, n, 13, in3, o, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "index 4") != NULL, "%s", d.msg);
    ir_tensor *oobn = ten(IR_DT_I64, 0, NULL, (double[]){-5});
    const ir_tensor *in4[2] = {x, oobn};
    CHECK(eval(g, n, 13, in4, o, &d) == IR_ERR_INPUT);
    ir_node_set_attr_int(g, n, "axis", 2);
    CHECK(eval(g, n, 13, in2, o, &d) == IR_ERR_INPUT);
    /* Shape -> Gather(0) gives a scalar: torch's batch-size chain */
    ir_tensor *shp = ints(3, (int64_t[]){2, 7, 768});
    ir_tensor *zero = ten(IR_DT_I64, 0, NULL, (double[]){0});
    ir_node *n2 = one_node(g, IR_OP_GATHER, 2, 1);
    const ir_tensor *in5[2] = {shp, zero};
    CHECK(eval(g, n2, 13, in5, o, &d) == IR_OK);
    CHECK(o[0]->rank == 0 && vals_are(o[0], 1, (double[]){2}));
    free_outs(o, 1);

    /* infer: embedding [30522,768] gathered by ids [batch,seq];
     * pooler: hidden[:, 0] on axis 1 */
    ir_dim ed[2] = {ir_dim_const(30522), ir_dim_const(768)};
    ir_dim idd[2] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq")};
    ir_value *gin[2] = {ir_graph_add_input(g, "emb", IR_DT_F32, 2, ed),
                        ir_graph_add_input(g, "ids", IR_DT_I64, 2, idd)};
    ir_node *ge = ir_graph_add_node(g, IR_OP_GATHER, "ge", 2, gin, 1);
    CHECK(infer(g, ge, 13, &d) == IR_OK);
    CHECK_SHAPE(ge->outputs[0], "batch,seq,768");
    CHECK(ge->outputs[0]->dtype == IR_DT_F32);
    ir_value *pin[2] = {ge->outputs[0], ir_graph_add_constant(g, "z", ten(IR_DT_I64, 0, NULL, (double[]){0}))};
    ir_node *pool = ir_graph_add_node(g, IR_OP_GATHER, "pool", 2, pin, 1);
    ir_node_set_attr_int(g, pool, "axis", 1);
    CHECK(infer(g, pool, 13, &d) == IR_OK);
    CHECK_SHAPE(pool->outputs[0], "batch,768");
    ir_tensor_free(x);
    ir_tensor_free(ind);
    ir_tensor_free(sc);
    ir_tensor_free(oob);
    ir_tensor_free(oobn);
    ir_tensor_free(shp);
    ir_tensor_free(zero);
    ir_graph_free(g);
}

/* ---- Expand, Tile --------------------------------------------------------- */

static void test_expand_tile(void)
{
    ir_graph *g = ir_graph_new("t");
    ir_diag d;
    ir_tensor *o[1];
    int64_t cd[2] = {3, 1};
    ir_tensor *x = ten(IR_DT_F32, 2, cd, (double[]){1, 2, 3});
    ir_node *e = one_node(g, IR_OP_EXPAND, 2, 1);
    /* [3,1] with [2,1,4]: bidirectional -> [2,3,4] */
    ir_tensor *s = ints(3, (int64_t[]){2, 1, 4});
    const ir_tensor *in[2] = {x, s};
    CHECK(eval(g, e, 13, in, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 3, (int64_t[]){2, 3, 4}));
    CHECK(vals_start(o[0], 8, (double[]){1, 1, 1, 1, 2, 2, 2, 2}));
    CHECK(ir_tensor_get_f64(o[0], 23) == 3);
    free_outs(o, 1);
    /* shape smaller than the input: the input's shape wins */
    ir_tensor *s1 = ints(1, (int64_t[]){1});
    in[1] = s1;
    CHECK(eval(g, e, 13, in, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){3, 1}));
    free_outs(o, 1);
    ir_tensor *sbad = ints(2, (int64_t[]){2, 4});
    in[1] = sbad;
    CHECK(eval(g, e, 13, in, o, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "[3,1]") && strstr(d.msg, "[2,4]"), "%s", d.msg);

    ir_node *t = one_node(g, IR_OP_TILE, 2, 1);
    int64_t td[2] = {2, 2};
    ir_tensor *y = ten(IR_DT_I64, 2, td, (double[]){1, 2, 3, 4});
    ir_tensor *r = ints(2, (int64_t[]){2, 3});
    const ir_tensor *tin[2] = {y, r};
    CHECK(eval(g, t, 13, tin, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){4, 6}));
    CHECK(vals_start(o[0], 12, (double[]){1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}));
    free_outs(o, 1);
    ir_tensor *r0 = ints(2, (int64_t[]){0, 1});
    tin[1] = r0;
    CHECK(eval(g, t, 13, tin, o, &d) == IR_OK);
    CHECK(dims_are(o[0], 2, (int64_t[]){0, 2}));
    free_outs(o, 1);
    ir_tensor *rbad = ints(1, (int64_t[]){2});
    tin[1] = rbad;
    CHECK(eval(g, t, 13, tin, o, &d) == IR_ERR_INPUT);

    /* infer: mask [batch,1,1,seq] expanded with [1,12,1,1]; Tile keeps
     * symbols for repeat 1 */
    ir_dim md[4] = {ir_dim_sym(g, "batch"), ir_dim_const(1), ir_dim_const(1),
                    ir_dim_sym(g, "seq")};
    ir_value *m = ir_graph_add_input(g, "m", IR_DT_F32, 4, md);
    ir_value *ex = ir_node_make1(g, IR_OP_EXPAND, "ex", m,
                                 ir_graph_add_constant(g, "es", ints(4, (int64_t[]){1, 12, 1, 1})));
    CHECK(infer(g, ex->producer, 13, &d) == IR_OK);
    CHECK_SHAPE(ex, "batch,12,1,seq");
    ir_value *ti = ir_node_make1(g, IR_OP_TILE, "ti", m,
                                 ir_graph_add_constant(g, "tr", ints(4, (int64_t[]){1, 1, 8, 2})));
    CHECK(infer(g, ti->producer, 13, &d) == IR_OK);
    CHECK_SHAPE(ti, "batch,1,8,seq*2");
    ir_dim four = ir_dim_const(4);
    ir_value *dyn = ir_graph_add_input(g, "dyn", IR_DT_I64, 1, &four);
    ir_value *ex2 = ir_node_make1(g, IR_OP_EXPAND, "ex2", m, dyn);
    CHECK(infer(g, ex2->producer, 13, &d) == IR_OK);
    CHECK_SHAPE(ex2, "?,?,?,?");
    ir_tensor_free(x);
    ir_tensor_free(s);
    ir_tensor_free(s1);
    ir_tensor_free(sbad);
    ir_tensor_free(y);
    ir_tensor_free(r);
    ir_tensor_free(r0);
    ir_tensor_free(rbad);
    ir_graph_free(g);
}

int main(void)
{
    test_constant();
    test_constant_of_shape();
    test_range();
    test_shape_size();
    test_dropout();
    test_reshape();
    test_reshape_infer_symbolic();
    test_flatten();
    test_squeeze_unsqueeze();
    test_transpose();
    test_concat();
    test_split();
    test_slice();
    test_gather();
    test_gather_elements();
    test_pad();
    test_expand_tile();
    return test_finish("test_ops_shape");
}

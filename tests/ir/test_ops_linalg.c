/* test_ops_linalg.c — MatMul, Gemm, Softmax, LogSoftmax, LayerNormalization
 * and the Reduce ops, run through the interpreter's single-node entry point
 * (ir_interp_eval_node) on hand-made tensors, with their attribute forms
 * across opsets, and checked against plain double-precision loops written
 * here. Tolerances: 1e-5 relative for f32 results (float accumulation over
 * at most a few hundred terms), 1e-2 for f16 (its ulp near 1 is ~1e-3).
 * Also checks the infer hooks (symbolic shapes, error messages) and prints
 * the time of a BERT-sized MatMul.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ir/interp.h"
#include "ir/ops/kernel.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng_state = 12345;
static float rnd(void) /* uniform in [-1, 1) */
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rng_state >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}

static ir_tensor *tensor_rand(ir_dtype t, int rank, const int64_t *dims)
{
    ir_tensor *x = ir_tensor_new(t, rank, dims);
    for (int64_t i = 0; i < ir_tensor_numel(x); i++)
        ir_tensor_set_f64(x, i, rnd());
    return x;
}

static ir_tensor *tensor_of(ir_dtype t, int rank, const int64_t *dims,
                            const double *vals)
{
    ir_tensor *x = ir_tensor_new(t, rank, dims);
    for (int64_t i = 0; i < ir_tensor_numel(x); i++)
        ir_tensor_set_f64(x, i, vals[i]);
    return x;
}

static ir_tensor *axes_of(int n, const int64_t *ax)
{
    int64_t d[1] = {n};
    ir_tensor *x = ir_tensor_new(IR_DT_I64, 1, d);
    if (n)
        memcpy(x->data, ax, sizeof(int64_t) * (size_t)n);
    return x;
}

/* A graph holding one node whose inputs are constants (the graph takes the
 * tensors; NULL = absent optional input). */
static ir_node *node_new(ir_graph *g, ir_op op, int n_in, ir_tensor **ins,
                         int n_out)
{
    ir_value *vs[8];
    for (int i = 0; i < n_in; i++)
        vs[i] = ins[i] ? ir_graph_add_constant(g, NULL, ins[i]) : NULL;
    return ir_graph_add_node(g, op, ir_op_name(op), n_in, vs, n_out);
}

static ir_status node_run(ir_graph *g, ir_node *n, ir_tensor **outs, ir_diag *d)
{
    const ir_tensor *ins[8];
    for (int i = 0; i < n->n_inputs; i++)
        ins[i] = n->inputs[i] ? n->inputs[i]->constant : NULL;
    ir_diag_init(d);
    return ir_interp_eval_node(g, n, ins, outs, d);
}

/* Largest |got - want| / max(1, |want|) over all elements. */
static double max_rel_err(const ir_tensor *got, const double *want, int64_t n)
{
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double w = want[i], e = fabs(ir_tensor_get_f64(got, i) - w);
        if (isnan(w) != isnan(ir_tensor_get_f64(got, i)))
            return INFINITY;
        if (isnan(w))
            continue;
        e /= fabs(w) > 1 ? fabs(w) : 1;
        if (e > worst)
            worst = e;
    }
    return worst;
}

static bool dims_are(const ir_tensor *t, int rank, const int64_t *dims)
{
    if (t->rank != rank)
        return false;
    for (int i = 0; i < rank; i++)
        if (t->dims[i] != dims[i])
            return false;
    return true;
}

/* ---- MatMul ---------------------------------------------------------------- */

/* Reference: numpy.matmul on double, for A [batchA.., M, K], B [batchB.., K, N]
 * after 1-D promotion, with broadcast batch (rank <= 4 here). */
static void ref_matmul(const ir_tensor *A, const ir_tensor *B, const ir_tensor *Y,
                       double *out)
{
    int64_t ad[4] = {1, 1, 1, 1}, bd[4] = {1, 1, 1, 1};
    /* right-align into rank 4 after promotion */
    int64_t pa[4], pb[4];
    int ar = A->rank, br = B->rank;
    memcpy(pa, A->dims, sizeof(int64_t) * (size_t)ar);
    memcpy(pb, B->dims, sizeof(int64_t) * (size_t)br);
    if (ar == 1) { pa[1] = pa[0]; pa[0] = 1; ar = 2; }
    if (br == 1) { pb[1] = 1; br = 2; }
    for (int i = 0; i < ar; i++) ad[4 - ar + i] = pa[i];
    for (int i = 0; i < br; i++) bd[4 - br + i] = pb[i];
    int64_t M = ad[2], K = ad[3], N = bd[3];
    int64_t b0 = ad[0] > bd[0] ? ad[0] : bd[0], b1 = ad[1] > bd[1] ? ad[1] : bd[1];
    int64_t o = 0;
    for (int64_t x = 0; x < b0; x++)
        for (int64_t y = 0; y < b1; y++)
            for (int64_t m = 0; m < M; m++)
                for (int64_t n = 0; n < N; n++) {
                    double s = 0;
                    for (int64_t k = 0; k < K; k++) {
                        int64_t ia = (((ad[0] > 1 ? x : 0) * ad[1] + (ad[1] > 1 ? y : 0)) * M + m) * K + k;
                        int64_t ib = (((bd[0] > 1 ? x : 0) * bd[1] + (bd[1] > 1 ? y : 0)) * K + k) * N + n;
                        s += ir_tensor_get_f64(A, ia) * ir_tensor_get_f64(B, ib);
                    }
                    out[o++] = s;
                }
    (void)Y;
}

static void check_matmul(ir_dtype t, int ar, const int64_t *adims, int br,
                         const int64_t *bdims, int yr, const int64_t *ydims,
                         double tol)
{
    ir_graph *g = ir_graph_new("mm");
    ir_tensor *ins[2] = {tensor_rand(t, ar, adims), tensor_rand(t, br, bdims)};
    ir_node *n = node_new(g, IR_OP_MATMUL, 2, ins, 1);
    ir_tensor *out[1];
    ir_diag d;
    ir_status st = node_run(g, n, out, &d);
    CHECK_MSG(st == IR_OK, "%s", d.msg);
    if (st == IR_OK) {
        CHECK(out[0]->dtype == t);
        CHECK(dims_are(out[0], yr, ydims));
        int64_t ny = ir_tensor_numel(out[0]);
        double *want = malloc(sizeof(double) * (size_t)(ny ? ny : 1));
        ref_matmul(ins[0], ins[1], out[0], want);
        double e = max_rel_err(out[0], want, ny);
        CHECK_MSG(e <= tol, "matmul %s rank %d x %d: worst error %g > %g",
                  ir_dtype_name(t), ar, br, e, tol);
        free(want);
        ir_tensor_free(out[0]);
    }
    ir_graph_free(g);
}

static void test_matmul(void)
{
    /* plain 2-D, sizes that are not multiples of the 4-row / block tiles */
    check_matmul(IR_DT_F32, 2, (int64_t[]){7, 13}, 2, (int64_t[]){13, 5}, 2,
                 (int64_t[]){7, 5}, 1e-5);
    /* K larger than one 128 block, N larger than one 512 block */
    check_matmul(IR_DT_F32, 2, (int64_t[]){9, 300}, 2, (int64_t[]){300, 600}, 2,
                 (int64_t[]){9, 600}, 1e-5);
    /* batched [2,3,4,6] x [6,5] (B broadcast over batch) */
    check_matmul(IR_DT_F32, 4, (int64_t[]){2, 3, 4, 6}, 2, (int64_t[]){6, 5}, 4,
                 (int64_t[]){2, 3, 4, 5}, 1e-5);
    /* batch broadcast on both sides: [2,1,4,6] x [3,6,5] -> [2,3,4,5] */
    check_matmul(IR_DT_F32, 4, (int64_t[]){2, 1, 4, 6}, 3, (int64_t[]){3, 6, 5}, 4,
                 (int64_t[]){2, 3, 4, 5}, 1e-5);
    /* 1-D operands: [6] x [6,5] -> [5]; [3,4,6] x [6] -> [3,4]; [6]x[6] -> [] */
    check_matmul(IR_DT_F32, 1, (int64_t[]){6}, 2, (int64_t[]){6, 5}, 1,
                 (int64_t[]){5}, 1e-5);
    check_matmul(IR_DT_F32, 3, (int64_t[]){3, 4, 6}, 1, (int64_t[]){6}, 2,
                 (int64_t[]){3, 4}, 1e-5);
    check_matmul(IR_DT_F32, 1, (int64_t[]){6}, 1, (int64_t[]){6}, 0, NULL, 1e-5);
    /* zero-size K gives zeros; zero-size M gives an empty result */
    check_matmul(IR_DT_F32, 2, (int64_t[]){3, 0}, 2, (int64_t[]){0, 4}, 2,
                 (int64_t[]){3, 4}, 0);
    check_matmul(IR_DT_F32, 2, (int64_t[]){0, 3}, 2, (int64_t[]){3, 4}, 2,
                 (int64_t[]){0, 4}, 0);
    /* f16 and bf16 go through float */
    check_matmul(IR_DT_F16, 2, (int64_t[]){5, 8}, 2, (int64_t[]){8, 3}, 2,
                 (int64_t[]){5, 3}, 1e-2);
    check_matmul(IR_DT_BF16, 3, (int64_t[]){2, 5, 8}, 3, (int64_t[]){2, 8, 3}, 3,
                 (int64_t[]){2, 5, 3}, 2e-2);

    /* integers are exact */
    {
        ir_graph *g = ir_graph_new("mmi");
        ir_tensor *ins[2] = {
            tensor_of(IR_DT_I64, 2, (int64_t[]){2, 3}, (double[]){1, 2, 3, 4, 5, 6}),
            tensor_of(IR_DT_I64, 2, (int64_t[]){3, 2}, (double[]){7, 8, 9, 10, 11, 12}),
        };
        ir_node *n = node_new(g, IR_OP_MATMUL, 2, ins, 1);
        ir_tensor *out[1];
        ir_diag d;
        CHECK(node_run(g, n, out, &d) == IR_OK);
        const int64_t *y = out[0]->data;
        CHECK(y[0] == 58 && y[1] == 64 && y[2] == 139 && y[3] == 154);
        ir_tensor_free(out[0]);
        ir_graph_free(g);
    }
    /* a shape mismatch names the node and both shapes */
    {
        ir_graph *g = ir_graph_new("mmbad");
        ir_tensor *ins[2] = {tensor_rand(IR_DT_F32, 2, (int64_t[]){3, 4}),
                             tensor_rand(IR_DT_F32, 2, (int64_t[]){5, 2})};
        ir_node *n = node_new(g, IR_OP_MATMUL, 2, ins, 1);
        ir_tensor *out[1];
        ir_diag d;
        CHECK(node_run(g, n, out, &d) == IR_ERR_INPUT);
        CHECK_MSG(strstr(d.msg, "'MatMul'") && strstr(d.msg, "[3,4]") &&
                      strstr(d.msg, "[5,2]"),
                  "message: %s", d.msg);
        CHECK(out[0] == NULL);
        ir_graph_free(g);
    }
}

static void test_matmul_infer(void)
{
    ir_graph *g = ir_graph_new("mminfer");
    ir_dim xd[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(768)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 3, xd);
    ir_value *w = ir_graph_add_constant(
        g, "W", ir_tensor_new(IR_DT_F32, 2, (int64_t[]){768, 3072}));
    ir_value *ins[2] = {x, w};
    ir_node *n = ir_graph_add_node(g, IR_OP_MATMUL, "ffn_in", 2, ins, 1);
    ir_diag d;
    ir_diag_init(&d);
    ir_infer_args ia = {g, n, 17, &d};
    CHECK(ir_op_hooks_get(IR_OP_MATMUL)->infer(&ia) == IR_OK);
    ir_value *y = n->outputs[0];
    CHECK(y->dtype == IR_DT_F32 && y->rank == 3);
    CHECK(y->dims[0].sym && strcmp(y->dims[0].sym, "batch") == 0);
    CHECK(y->dims[1].sym && strcmp(y->dims[1].sym, "seq") == 0);
    CHECK(y->dims[2].size == 3072);

    /* inconsistent known shapes: IR_ERR_INPUT naming node and both shapes */
    ir_value *w2 = ir_graph_add_constant(
        g, "W2", ir_tensor_new(IR_DT_F32, 2, (int64_t[]){512, 10}));
    ir_value *ins2[2] = {x, w2};
    ir_node *n2 = ir_graph_add_node(g, IR_OP_MATMUL, "bad_mm", 2, ins2, 1);
    ia.node = n2;
    CHECK(ir_op_hooks_get(IR_OP_MATMUL)->infer(&ia) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "bad_mm") && strstr(d.msg, "[batch,seq,768]") &&
                  strstr(d.msg, "[512,10]"),
              "message: %s", d.msg);

    /* Gemm with transB: [batch,768] . [10,768]^T -> [batch,10] */
    ir_dim hd[2] = {ir_dim_sym(g, "batch"), ir_dim_const(768)};
    ir_value *h = ir_graph_add_input(g, "h", IR_DT_F32, 2, hd);
    ir_value *wc = ir_graph_add_constant(
        g, "Wc", ir_tensor_new(IR_DT_F32, 2, (int64_t[]){10, 768}));
    ir_value *gin[2] = {h, wc};
    ir_node *gm = ir_graph_add_node(g, IR_OP_GEMM, "cls", 2, gin, 1);
    ir_node_set_attr_int(g, gm, "transB", 1);
    ia.node = gm;
    ir_diag_init(&d);
    CHECK_MSG(ir_op_hooks_get(IR_OP_GEMM)->infer(&ia) == IR_OK, "%s", d.msg);
    CHECK(gm->outputs[0]->rank == 2 && gm->outputs[0]->dims[1].size == 10 &&
          gm->outputs[0]->dims[0].sym &&
          strcmp(gm->outputs[0]->dims[0].sym, "batch") == 0);
    ir_graph_free(g);
}

/* ---- Gemm ------------------------------------------------------------------ */

static void check_gemm(int ta, int tb, float alpha, float beta, int crank,
                       const int64_t *cdims)
{
    const int64_t M = 5, K = 7, N = 6;
    ir_graph *g = ir_graph_new("gemm");
    int64_t adims[2] = {ta ? K : M, ta ? M : K};
    int64_t bdims[2] = {tb ? N : K, tb ? K : N};
    ir_tensor *ins[3] = {tensor_rand(IR_DT_F32, 2, adims),
                         tensor_rand(IR_DT_F32, 2, bdims),
                         crank >= 0 ? tensor_rand(IR_DT_F32, crank, cdims) : NULL};
    ir_node *n = node_new(g, IR_OP_GEMM, crank >= 0 ? 3 : 2, ins, 1);
    ir_node_set_attr_int(g, n, "transA", ta);
    ir_node_set_attr_int(g, n, "transB", tb);
    ir_node_set_attr_float(g, n, "alpha", alpha);
    ir_node_set_attr_float(g, n, "beta", beta);
    ir_tensor *out[1];
    ir_diag d;
    ir_status st = node_run(g, n, out, &d);
    CHECK_MSG(st == IR_OK, "%s", d.msg);
    if (st == IR_OK) {
        CHECK(dims_are(out[0], 2, (int64_t[]){M, N}));
        double want[5 * 6];
        for (int64_t m = 0; m < M; m++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += ir_tensor_get_f64(ins[0], ta ? k * M + m : m * K + k) *
                         ir_tensor_get_f64(ins[1], tb ? j * K + k : k * N + j);
                s *= alpha;
                if (crank >= 0) {
                    /* C broadcast: index by its own shape (rank <= 2) */
                    int64_t c0 = crank == 2 ? cdims[0] : 1;
                    int64_t c1 = crank >= 1 ? cdims[crank - 1] : 1;
                    int64_t ci = (c0 > 1 ? m : 0) * c1 + (c1 > 1 ? j : 0);
                    s += beta * ir_tensor_get_f64(ins[2], ci);
                }
                want[m * N + j] = s;
            }
        double e = max_rel_err(out[0], want, M * N);
        CHECK_MSG(e <= 1e-5, "gemm transA=%d transB=%d C rank %d: error %g", ta,
                  tb, crank, e);
        ir_tensor_free(out[0]);
    }
    ir_graph_free(g);
}

static void test_gemm(void)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            check_gemm(ta, tb, 1.0f, 1.0f, 2, (int64_t[]){5, 6});
    check_gemm(0, 1, 0.5f, 2.0f, 1, (int64_t[]){6});      /* bias row */
    check_gemm(1, 0, 1.5f, -1.0f, 2, (int64_t[]){5, 1});  /* column */
    check_gemm(0, 0, 1.0f, 3.0f, 0, NULL);                /* scalar C */
    check_gemm(1, 1, 2.0f, 1.0f, -1, NULL);               /* no C (opset 11+) */

    /* C that does not broadcast to (M, N) */
    ir_graph *g = ir_graph_new("gemmbad");
    ir_tensor *ins[3] = {tensor_rand(IR_DT_F32, 2, (int64_t[]){2, 3}),
                         tensor_rand(IR_DT_F32, 2, (int64_t[]){3, 4}),
                         tensor_rand(IR_DT_F32, 1, (int64_t[]){3})};
    ir_node *n = node_new(g, IR_OP_GEMM, 3, ins, 1);
    ir_tensor *out[1];
    ir_diag d;
    CHECK(node_run(g, n, out, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "Gemm") && strstr(d.msg, "[3]"), "message: %s", d.msg);
    ir_graph_free(g);
}

/* ---- Softmax / LogSoftmax ---------------------------------------------------- */

/* Reference: normalise groups given by (outer, len, inner) in double. */
static void ref_softmax(const ir_tensor *x, int64_t outer, int64_t len,
                        int64_t inner, bool log_form, double *out)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double mx = -INFINITY, s = 0;
            for (int64_t k = 0; k < len; k++)
                mx = fmax(mx, ir_tensor_get_f64(x, (o * len + k) * inner + i));
            for (int64_t k = 0; k < len; k++)
                s += exp(ir_tensor_get_f64(x, (o * len + k) * inner + i) - mx);
            for (int64_t k = 0; k < len; k++) {
                double v = ir_tensor_get_f64(x, (o * len + k) * inner + i) - mx;
                out[(o * len + k) * inner + i] = log_form ? v - log(s) : exp(v) / s;
            }
        }
}

static void check_softmax(ir_op op, int64_t opset, bool set_axis, int64_t axis,
                          int64_t outer, int64_t len, int64_t inner, float scale)
{
    ir_graph *g = ir_graph_new("softmax");
    g->opset = opset;
    int64_t dims[3] = {2, 3, 4};
    ir_tensor *x = tensor_rand(IR_DT_F32, 3, dims);
    for (int64_t i = 0; i < 24; i++)
        ((float *)x->data)[i] *= scale;
    ir_tensor *ins[1] = {x};
    ir_node *n = node_new(g, op, 1, ins, 1);
    if (set_axis)
        ir_node_set_attr_int(g, n, "axis", axis);
    ir_tensor *out[1];
    ir_diag d;
    ir_status st = node_run(g, n, out, &d);
    CHECK_MSG(st == IR_OK, "%s", d.msg);
    if (st == IR_OK) {
        double want[24];
        ref_softmax(x, outer, len, inner, op == IR_OP_LOG_SOFTMAX, want);
        double e = max_rel_err(out[0], want, 24);
        CHECK_MSG(e <= 1e-5, "%s opset %lld axis %lld: error %g", ir_op_name(op),
                  (long long)opset, (long long)axis, e);
        ir_tensor_free(out[0]);
    }
    ir_graph_free(g);
}

static void test_softmax(void)
{
    ir_op ops[2] = {IR_OP_SOFTMAX, IR_OP_LOG_SOFTMAX};
    for (int i = 0; i < 2; i++) {
        /* opset 11, default axis 1: rows of [2, 12] */
        check_softmax(ops[i], 11, false, 0, 2, 12, 1, 1.0f);
        /* opset 11, axis 2: rows of [6, 4]; axis 0: one row of 24 */
        check_softmax(ops[i], 11, true, 2, 6, 4, 1, 1.0f);
        check_softmax(ops[i], 11, true, 0, 1, 24, 1, 1.0f);
        /* opset 13, default -1: along the last axis */
        check_softmax(ops[i], 13, false, 0, 6, 4, 1, 1.0f);
        /* opset 13, axis 1: along the middle axis only (strided) */
        check_softmax(ops[i], 13, true, 1, 2, 3, 4, 1.0f);
        check_softmax(ops[i], 13, true, -3, 1, 2, 12, 1.0f);
        /* logits in the thousands: no overflow thanks to the max shift */
        check_softmax(ops[i], 13, false, 0, 6, 4, 1, 5000.0f);
    }
    /* axis out of range */
    ir_graph *g = ir_graph_new("sm_bad");
    ir_tensor *ins[1] = {tensor_rand(IR_DT_F32, 2, (int64_t[]){2, 2})};
    ir_node *n = node_new(g, IR_OP_SOFTMAX, 1, ins, 1);
    ir_node_set_attr_int(g, n, "axis", 2);
    ir_tensor *out[1];
    ir_diag d;
    CHECK(node_run(g, n, out, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "axis 2"), "message: %s", d.msg);
    ir_graph_free(g);
}

/* ---- LayerNormalization ----------------------------------------------------- */

static void check_layer_norm(int64_t axis, bool with_b, int n_out)
{
    ir_graph *g = ir_graph_new("ln");
    int64_t dims[3] = {2, 3, 8};
    int ax = (int)(axis < 0 ? axis + 3 : axis);
    int64_t inner = 1, outer = 1;
    for (int i = 0; i < 3; i++)
        if (i < ax) outer *= dims[i]; else inner *= dims[i];
    ir_tensor *x = tensor_rand(IR_DT_F32, 3, dims);
    for (int64_t i = 0; i < 48; i++)
        ((float *)x->data)[i] = ((float *)x->data)[i] * 3.0f + 1.5f;
    ir_tensor *s = tensor_rand(IR_DT_F32, 3 - ax, dims + ax);
    ir_tensor *b = with_b ? tensor_rand(IR_DT_F32, 3 - ax, dims + ax) : NULL;
    ir_tensor *ins[3] = {x, s, b};
    ir_node *n = node_new(g, IR_OP_LAYER_NORMALIZATION, with_b ? 3 : 2, ins, n_out);
    ir_node_set_attr_int(g, n, "axis", axis);
    ir_node_set_attr_float(g, n, "epsilon", 1e-3f);
    ir_tensor *out[3] = {0};
    ir_diag d;
    ir_status st = node_run(g, n, out, &d);
    CHECK_MSG(st == IR_OK, "%s", d.msg);
    if (st == IR_OK) {
        double want[48], wm[48], wi[48];
        for (int64_t o = 0; o < outer; o++) {
            double mean = 0, var = 0;
            for (int64_t k = 0; k < inner; k++)
                mean += ir_tensor_get_f64(x, o * inner + k);
            mean /= (double)inner;
            for (int64_t k = 0; k < inner; k++) {
                double t = ir_tensor_get_f64(x, o * inner + k) - mean;
                var += t * t;
            }
            var /= (double)inner;
            double inv = 1.0 / sqrt(var + (double)1e-3f);
            wm[o] = mean;
            wi[o] = inv;
            for (int64_t k = 0; k < inner; k++)
                want[o * inner + k] =
                    (ir_tensor_get_f64(x, o * inner + k) - mean) * inv *
                        ir_tensor_get_f64(s, k) +
                    (b ? ir_tensor_get_f64(b, k) : 0.0);
        }
        double e = max_rel_err(out[0], want, 48);
        CHECK_MSG(e <= 1e-5, "LayerNorm axis %lld: error %g", (long long)axis, e);
        if (n_out == 3) {
            int64_t sd[3] = {dims[0], dims[1], dims[2]};
            for (int i = ax; i < 3; i++)
                sd[i] = 1;
            CHECK(out[1] && dims_are(out[1], 3, sd) && out[1]->dtype == IR_DT_F32);
            CHECK(out[2] && dims_are(out[2], 3, sd));
            if (out[1] && out[2]) {
                CHECK(max_rel_err(out[1], wm, outer) <= 1e-5);
                CHECK(max_rel_err(out[2], wi, outer) <= 1e-5);
            }
        }
        for (int k = 0; k < 3; k++)
            ir_tensor_free(out[k]);
    }
    ir_graph_free(g);
}

static void test_layer_norm(void)
{
    check_layer_norm(-1, true, 1);
    check_layer_norm(-1, false, 3);
    check_layer_norm(1, true, 3);
    check_layer_norm(0, true, 1);

    /* Scale that does not broadcast */
    ir_graph *g = ir_graph_new("ln_bad");
    ir_tensor *ins[2] = {tensor_rand(IR_DT_F32, 2, (int64_t[]){2, 4}),
                         tensor_rand(IR_DT_F32, 1, (int64_t[]){3})};
    ir_node *n = node_new(g, IR_OP_LAYER_NORMALIZATION, 2, ins, 1);
    ir_tensor *out[1];
    ir_diag d;
    CHECK(node_run(g, n, out, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "Scale"), "message: %s", d.msg);
    ir_graph_free(g);

    /* infer: Mean / InvStdDev keep reduced dims as 1 */
    g = ir_graph_new("ln_infer");
    ir_dim xd[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(16)};
    ir_value *vs[2] = {ir_graph_add_input(g, "x", IR_DT_F32, 3, xd),
                       ir_graph_add_constant(g, "s", ir_tensor_new(IR_DT_F32, 1,
                                                                   (int64_t[]){16}))};
    ir_node *ln = ir_graph_add_node(g, IR_OP_LAYER_NORMALIZATION, "ln", 2, vs, 3);
    ir_diag_init(&d);
    ir_infer_args ia = {g, ln, 17, &d};
    CHECK(ir_op_hooks_get(IR_OP_LAYER_NORMALIZATION)->infer(&ia) == IR_OK);
    CHECK(ln->outputs[0]->rank == 3 && ln->outputs[0]->dims[2].size == 16);
    CHECK(ln->outputs[1]->rank == 3 && ln->outputs[1]->dims[2].size == 1 &&
          ln->outputs[1]->dims[1].sym && strcmp(ln->outputs[1]->dims[1].sym, "seq") == 0);
    ir_graph_free(g);
}

/* ---- reductions ---------------------------------------------------------------- */

/* X = 0..23 as [2,3,4] (+1 so products are not 0). */
static ir_tensor *iota234(ir_dtype t)
{
    ir_tensor *x = ir_tensor_new(t, 3, (int64_t[]){2, 3, 4});
    for (int64_t i = 0; i < 24; i++)
        ir_tensor_set_f64(x, i, (double)(i + 1));
    return x;
}

/* Runs op on X with axes given by attribute (axes_attr) or input (axes_in);
 * n_axes < 0 means "no axes". */
static ir_status run_reduce(ir_op op, int64_t opset, ir_tensor *x, bool as_input,
                            int n_axes, const int64_t *axes, int keepdims,
                            int noop, ir_tensor **out, ir_diag *d)
{
    ir_graph *g = ir_graph_new("reduce");
    g->opset = opset;
    ir_tensor *ins[2] = {x, as_input && n_axes >= 0 ? axes_of(n_axes, axes) : NULL};
    ir_node *n = node_new(g, op, ins[1] ? 2 : 1, ins, 1);
    if (!as_input && n_axes >= 0)
        ir_node_set_attr_ints(g, n, "axes", n_axes, axes);
    if (keepdims >= 0)
        ir_node_set_attr_int(g, n, "keepdims", keepdims);
    if (noop >= 0)
        ir_node_set_attr_int(g, n, "noop_with_empty_axes", noop);
    ir_status st = node_run(g, n, out, d);
    ir_graph_free(g);
    return st;
}

static void test_reduce(void)
{
    ir_tensor *out[1];
    ir_diag d;
    /* ReduceSum opset 11: axes attribute [1], keepdims default 1 -> [2,1,4] */
    CHECK(run_reduce(IR_OP_REDUCE_SUM, 11, iota234(IR_DT_F32), false, 1,
                     (int64_t[]){1}, -1, -1, out, &d) == IR_OK);
    CHECK(dims_are(out[0], 3, (int64_t[]){2, 1, 4}));
    CHECK(ir_tensor_get_f64(out[0], 0) == 1 + 5 + 9);
    CHECK(ir_tensor_get_f64(out[0], 7) == 16 + 20 + 24);
    ir_tensor_free(out[0]);
    /* ReduceSum opset 13: axes as input, negative, keepdims 0 -> [2,3] */
    CHECK(run_reduce(IR_OP_REDUCE_SUM, 13, iota234(IR_DT_F32), true, 1,
                     (int64_t[]){-1}, 0, -1, out, &d) == IR_OK);
    CHECK(dims_are(out[0], 2, (int64_t[]){2, 3}));
    CHECK(ir_tensor_get_f64(out[0], 0) == 1 + 2 + 3 + 4);
    ir_tensor_free(out[0]);
    /* opset 13, no axes: all reduced -> [1,1,1] holding 300 */
    CHECK(run_reduce(IR_OP_REDUCE_SUM, 13, iota234(IR_DT_F32), true, -1, NULL,
                     -1, -1, out, &d) == IR_OK);
    CHECK(dims_are(out[0], 3, (int64_t[]){1, 1, 1}));
    CHECK(ir_tensor_get_f64(out[0], 0) == 300);
    ir_tensor_free(out[0]);
    /* empty axes + noop_with_empty_axes=1: identity */
    CHECK(run_reduce(IR_OP_REDUCE_SUM, 13, iota234(IR_DT_F32), true, 0, NULL,
                     -1, 1, out, &d) == IR_OK);
    CHECK(dims_are(out[0], 3, (int64_t[]){2, 3, 4}));
    CHECK(ir_tensor_get_f64(out[0], 23) == 24);
    ir_tensor_free(out[0]);
    /* ReduceMean opset 17 (attribute) over [0,2], keepdims 0 -> [3] */
    CHECK(run_reduce(IR_OP_REDUCE_MEAN, 17, iota234(IR_DT_F32), false, 2,
                     (int64_t[]){0, -1}, 0, -1, out, &d) == IR_OK);
    CHECK(dims_are(out[0], 1, (int64_t[]){3}));
    /* row 0: (1+2+3+4 + 13+14+15+16)/8 = 8.5 */
    CHECK(fabs(ir_tensor_get_f64(out[0], 0) - 8.5) < 1e-6);
    CHECK(fabs(ir_tensor_get_f64(out[0], 2) - 16.5) < 1e-6);
    ir_tensor_free(out[0]);
    /* ReduceMean opset 18: axes as input */
    CHECK(run_reduce(IR_OP_REDUCE_MEAN, 18, iota234(IR_DT_F32), true, 1,
                     (int64_t[]){2}, 1, -1, out, &d) == IR_OK);
    CHECK(dims_are(out[0], 3, (int64_t[]){2, 3, 1}));
    CHECK(fabs(ir_tensor_get_f64(out[0], 0) - 2.5) < 1e-6);
    ir_tensor_free(out[0]);
    /* Max / Min / Prod */
    CHECK(run_reduce(IR_OP_REDUCE_MAX, 13, iota234(IR_DT_F32), false, 1,
                     (int64_t[]){0}, 0, -1, out, &d) == IR_OK);
    CHECK(ir_tensor_get_f64(out[0], 0) == 13 && ir_tensor_get_f64(out[0], 11) == 24);
    ir_tensor_free(out[0]);
    CHECK(run_reduce(IR_OP_REDUCE_MIN, 13, iota234(IR_DT_F32), false, 1,
                     (int64_t[]){2}, 0, -1, out, &d) == IR_OK);
    CHECK(ir_tensor_get_f64(out[0], 1) == 5);
    ir_tensor_free(out[0]);
    CHECK(run_reduce(IR_OP_REDUCE_PROD, 13, iota234(IR_DT_F32), false, 1,
                     (int64_t[]){2}, 0, -1, out, &d) == IR_OK);
    CHECK(ir_tensor_get_f64(out[0], 0) == 24 && ir_tensor_get_f64(out[0], 1) == 1680);
    ir_tensor_free(out[0]);
    /* integer sum is exact in int64 */
    CHECK(run_reduce(IR_OP_REDUCE_SUM, 13, iota234(IR_DT_I64), true, -1, NULL, 0,
                     -1, out, &d) == IR_OK);
    CHECK(out[0]->rank == 0 && ((int64_t *)out[0]->data)[0] == 300);
    ir_tensor_free(out[0]);
    /* ReduceMean over many values accumulates in double: 1e6 x 0.1 */
    {
        ir_tensor *x = ir_tensor_new(IR_DT_F32, 1, (int64_t[]){1000000});
        for (int64_t i = 0; i < 1000000; i++)
            ((float *)x->data)[i] = 0.1f;
        CHECK(run_reduce(IR_OP_REDUCE_MEAN, 13, x, false, -1, NULL, 0, -1, out,
                         &d) == IR_OK);
        CHECK(fabs(ir_tensor_get_f64(out[0], 0) - (double)0.1f) < 1e-9);
        ir_tensor_free(out[0]);
    }
    /* empty reductions: over a zero-size axis */
    {
        ir_op ops[4] = {IR_OP_REDUCE_SUM, IR_OP_REDUCE_MAX, IR_OP_REDUCE_MIN,
                        IR_OP_REDUCE_PROD};
        double want[4] = {0, -INFINITY, INFINITY, 1};
        for (int i = 0; i < 4; i++) {
            ir_tensor *x = ir_tensor_new(IR_DT_F32, 2, (int64_t[]){2, 0});
            CHECK(run_reduce(ops[i], 11, x, false, 1, (int64_t[]){1}, 1, -1, out,
                             &d) == IR_OK);
            CHECK(dims_are(out[0], 2, (int64_t[]){2, 1}));
            CHECK_MSG(ir_tensor_get_f64(out[0], 1) == want[i], "%s empty gives %g",
                      ir_op_name(ops[i]), ir_tensor_get_f64(out[0], 1));
            ir_tensor_free(out[0]);
        }
    }
    /* errors: axis out of range, repeated axis */
    CHECK(run_reduce(IR_OP_REDUCE_SUM, 11, iota234(IR_DT_F32), false, 1,
                     (int64_t[]){3}, -1, -1, out, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "ReduceSum") && strstr(d.msg, "axis 3"), "message: %s",
              d.msg);
    CHECK(run_reduce(IR_OP_REDUCE_MAX, 18, iota234(IR_DT_F32), true, 2,
                     (int64_t[]){1, -2}, -1, -1, out, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "twice"), "message: %s", d.msg);

    /* infer: constant axes known; non-constant axes leave dims unknown */
    ir_graph *g = ir_graph_new("reduce_infer");
    ir_dim xd[3] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq"), ir_dim_const(768)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 3, xd);
    ir_value *ax = ir_graph_add_constant(g, "ax", axes_of(1, (int64_t[]){-1}));
    ir_value *in1[2] = {x, ax};
    ir_node *n = ir_graph_add_node(g, IR_OP_REDUCE_MEAN, "rm", 2, in1, 1);
    ir_diag_init(&d);
    ir_infer_args ia = {g, n, 18, &d};
    CHECK(ir_op_hooks_get(IR_OP_REDUCE_MEAN)->infer(&ia) == IR_OK);
    ir_value *y = n->outputs[0];
    CHECK(y->rank == 3 && y->dims[2].size == 1 && y->dims[0].sym &&
          strcmp(y->dims[0].sym, "batch") == 0);
    ir_value *ax2 = ir_graph_add_input(g, "ax2", IR_DT_I64, 1, (ir_dim[]){ir_dim_const(1)});
    ir_value *in2[2] = {x, ax2};
    ir_node *n2 = ir_graph_add_node(g, IR_OP_REDUCE_SUM, "rs", 2, in2, 1);
    ia.node = n2;
    CHECK(ir_op_hooks_get(IR_OP_REDUCE_SUM)->infer(&ia) == IR_OK);
    CHECK(n2->outputs[0]->rank == 3 && !ir_dim_known(n2->outputs[0]->dims[2]));
    ir_graph_free(g);
}

/* ---- timing ------------------------------------------------------------------ */

static void time_matmul(int64_t M, int64_t K, int64_t N)
{
    ir_graph *g = ir_graph_new("mmtime");
    ir_tensor *ins[2] = {tensor_rand(IR_DT_F32, 2, (int64_t[]){M, K}),
                         tensor_rand(IR_DT_F32, 2, (int64_t[]){K, N})};
    ir_node *n = node_new(g, IR_OP_MATMUL, 2, ins, 1);
    ir_tensor *out[1];
    ir_diag d;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ir_status st = node_run(g, n, out, &d);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(st == IR_OK);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("MatMul %lldx%lld . %lldx%lld: %.3f s, %.2f GFLOP/s\n", (long long)M,
           (long long)K, (long long)K, (long long)N, s,
           2.0 * (double)(M * K * N) / s * 1e-9);
    if (st == IR_OK)
        ir_tensor_free(out[0]);
    ir_graph_free(g);
}

int main(void)
{
    test_matmul();
    test_matmul_infer();
    test_gemm();
    test_softmax();
    test_layer_norm();
    test_reduce();
    time_matmul(128, 768, 3072); /* BERT-base FFN at seq 128 */
#ifdef NDEBUG
    time_matmul(768, 768, 3072); /* too slow for sanitizer builds */
#endif
    return test_finish("test_ops_linalg");
}

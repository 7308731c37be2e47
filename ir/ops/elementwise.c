/* elementwise.c — the broadcasting ops of the reference interpreter: binary
 * arithmetic (Add Sub Mul Div Pow), variadic Min/Max, comparisons (Equal
 * Less LessOrEqual Greater GreaterOrEqual), logic (And Or Xor) and Where,
 * plus the element/broadcast helpers of elementwise.h used by unary.c and
 * cast.c.
 *
 * Semantics follow the ONNX operator spec at the opsets BERT exports use
 * (Add/Sub/Mul/Div-14, Pow-15, Min/Max-13, Equal-13, Less/Greater-13,
 * LessOrEqual/GreaterOrEqual-16, And/Or/Xor-7, Where-16) with numpy
 * multidirectional broadcasting. Where the spec leaves a result undefined we
 * pick a defined one rather than hit C undefined behaviour: integer division
 * by zero gives 0 and INT_MIN / -1 wraps; integer overflow wraps (numpy).
 *
 * f32 Add/Sub/Mul/Div have a typed loop (BERT calls them on 128x768 tensors
 * hundreds of times per forward); everything else goes through the generic
 * double / int64 path.
 */
#include "ir/ops/elementwise.h"

#include <math.h>
#include <string.h>

/* ---- one element -------------------------------------------------------- */

double ir_ew_get_f(const ir_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case IR_DT_F32: return ((const float *)t->data)[i];
    case IR_DT_F16: return ir_f16_to_f32(((const uint16_t *)t->data)[i]);
    case IR_DT_BF16: return ir_bf16_to_f32(((const uint16_t *)t->data)[i]);
    case IR_DT_I64: return (double)((const int64_t *)t->data)[i];
    default: return (double)ir_ew_get_i(t, i);
    }
}

int64_t ir_ew_get_i(const ir_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case IR_DT_I8: return ((const int8_t *)t->data)[i];
    case IR_DT_U8: return ((const uint8_t *)t->data)[i];
    case IR_DT_BOOL: return ((const uint8_t *)t->data)[i] != 0;
    case IR_DT_I32: return ((const int32_t *)t->data)[i];
    case IR_DT_I64: return ((const int64_t *)t->data)[i];
    default: return ir_ew_f64_to_int(ir_ew_get_f(t, i), IR_DT_I64);
    }
}

int64_t ir_ew_f64_to_int(double v, ir_dtype t)
{
    /* Bounds as doubles: lo is exact, hi_excl is the first value above the
     * range (exact powers of two), so no comparison rounds. */
    double lo, hi_excl;
    int64_t lo_i, hi_i;
    switch (t) {
    case IR_DT_I8: lo = -128.0; hi_excl = 128.0; lo_i = INT8_MIN; hi_i = INT8_MAX; break;
    case IR_DT_U8: lo = 0.0; hi_excl = 256.0; lo_i = 0; hi_i = UINT8_MAX; break;
    case IR_DT_I32:
        lo = -2147483648.0; hi_excl = 2147483648.0;
        lo_i = INT32_MIN; hi_i = INT32_MAX;
        break;
    case IR_DT_BOOL: return v != 0.0;
    default:
        lo = -9223372036854775808.0; hi_excl = 9223372036854775808.0;
        lo_i = INT64_MIN; hi_i = INT64_MAX;
        break;
    }
    if (isnan(v))
        return 0;
    v = trunc(v);
    if (v < lo)
        return lo_i;
    if (v >= hi_excl)
        return hi_i;
    return (int64_t)v;
}

static void put_float(ir_tensor *t, int64_t i, float f)
{
    switch (t->dtype) {
    case IR_DT_F32: ((float *)t->data)[i] = f; break;
    case IR_DT_F16: ((uint16_t *)t->data)[i] = ir_f32_to_f16(f); break;
    case IR_DT_BF16: ((uint16_t *)t->data)[i] = ir_f32_to_bf16(f); break;
    default: break;
    }
}

void ir_ew_put_f(ir_tensor *t, int64_t i, double v)
{
    if (ir_dtype_is_float(t->dtype))
        put_float(t, i, (float)v);
    else if (t->dtype == IR_DT_BOOL)
        ((uint8_t *)t->data)[i] = v != 0.0;
    else
        ir_ew_put_i(t, i, ir_ew_f64_to_int(v, t->dtype));
}

void ir_ew_put_i(ir_tensor *t, int64_t i, int64_t v)
{
    /* Wrapping goes through the unsigned type: narrowing an unsigned value
     * is defined, and GCC/Clang define the unsigned->signed step as modulo. */
    uint64_t u = (uint64_t)v;
    switch (t->dtype) {
    case IR_DT_I8: ((int8_t *)t->data)[i] = (int8_t)(uint8_t)u; break;
    case IR_DT_U8: ((uint8_t *)t->data)[i] = (uint8_t)u; break;
    case IR_DT_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
    case IR_DT_I32: ((int32_t *)t->data)[i] = (int32_t)(uint32_t)u; break;
    case IR_DT_I64: ((int64_t *)t->data)[i] = v; break;
    default: put_float(t, i, (float)v); break;
    }
}

/* ---- messages ----------------------------------------------------------- */

const char *ir_ew_tensor_shape(const ir_tensor *t, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "",
                              (long long)t->dims[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
    return buf;
}

const char *ir_ew_value_shape(const ir_value *v, char *buf, size_t n)
{
    if (v->rank < 0) {
        snprintf(buf, n, "[unknown rank]");
        return buf;
    }
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < v->rank && k < n; i++) {
        const ir_dim *d = &v->dims[i];
        if (ir_dim_known(*d))
            k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "",
                                  (long long)d->size);
        else
            k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "," : "",
                                  d->sym ? d->sym : "?");
    }
    if (k < n)
        snprintf(buf + k, n - k, "]");
    return buf;
}

const char *ir_ew_set_names(unsigned set, char *buf, size_t n)
{
    static const ir_dtype order[] = {IR_DT_F32, IR_DT_F16, IR_DT_BF16, IR_DT_I8,
                                     IR_DT_U8,  IR_DT_I32, IR_DT_I64,  IR_DT_BOOL};
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0] && k < n; i++)
        if (set & IR_EW_BIT(order[i]))
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "",
                                  ir_dtype_name(order[i]));
    return buf;
}

ir_status ir_ew_check_value_dtype(ir_infer_args *a, int slot, unsigned set)
{
    const ir_value *v = a->node->inputs[slot];
    if (!v || v->dtype == IR_DT_UNDEF || ir_ew_in_set(v->dtype, set))
        return IR_OK;
    char names[128];
    return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                          "input %d '%s' has dtype %s; this op takes %s", slot,
                          v->name, ir_dtype_name(v->dtype),
                          ir_ew_set_names(set, names, sizeof names));
}

ir_status ir_ew_check_tensor_dtype(ir_kernel_args *a, int slot, unsigned set)
{
    const ir_tensor *t = a->inputs[slot];
    if (!t || ir_ew_in_set(t->dtype, set))
        return IR_OK;
    char names[128];
    return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                          "input %d has dtype %s; this op takes %s", slot,
                          ir_dtype_name(t->dtype),
                          ir_ew_set_names(set, names, sizeof names));
}

/* ---- broadcasting ------------------------------------------------------- */

ir_status ir_ew_bcast_init(ir_ew_bcast *bc, int n, const ir_tensor *const *ts,
                           const ir_node *node, ir_diag *d)
{
    int ranks[IR_EW_MAX_IN] = {0};
    const int64_t *dims[IR_EW_MAX_IN] = {0};
    IR_CHECK(d, n >= 1 && n <= IR_EW_MAX_IN);
    memset(bc, 0, sizeof *bc);
    for (int k = 0; k < n; k++) {
        ranks[k] = ts[k]->rank;
        dims[k] = ts[k]->dims;
    }
    if (ir_broadcast_dims(n, ranks, dims, &bc->out_rank, bc->out_dims) != IR_OK) {
        char msg[512], one[160];
        size_t k = 0;
        msg[0] = '\0';
        for (int i = 0; i < n && k < sizeof msg; i++)
            k += (size_t)snprintf(msg + k, sizeof msg - k, "%s%s",
                                  i == 0 ? "" : (i == n - 1 ? " and " : ", "),
                                  ir_ew_tensor_shape(ts[i], one, sizeof one));
        return ir_kernel_fail(d, node, IR_ERR_INPUT,
                              "cannot broadcast input shapes %s", msg);
    }
    bc->n = n;
    bc->numel = ir_numel_checked(bc->out_rank, bc->out_dims);
    if (bc->numel < 0)
        return ir_kernel_fail(d, node, IR_ERR_INPUT, "output size overflows");

    /* Walking shape: skip size-1 output dims, merge a dim into the previous
     * one when every input steps through both as one run. */
    int r = 0;
    for (int o = 0; o < bc->out_rank; o++) {
        int64_t len = bc->out_dims[o];
        if (len == 1)
            continue;
        int64_t st[IR_EW_MAX_IN];
        for (int k = 0; k < n; k++) {
            int ax = o - (bc->out_rank - ranks[k]);
            if (ax < 0 || dims[k][ax] == 1) {
                st[k] = 0;
            } else {
                int64_t s = 1;
                for (int j = ax + 1; j < ranks[k]; j++)
                    s *= dims[k][j];
                st[k] = s;
            }
        }
        bool merge = r > 0;
        for (int k = 0; k < n && merge; k++)
            merge = bc->strides[k][r - 1] == st[k] * len;
        if (merge) {
            bc->dims[r - 1] *= len;
            for (int k = 0; k < n; k++)
                bc->strides[k][r - 1] = st[k];
        } else {
            bc->dims[r] = len;
            for (int k = 0; k < n; k++)
                bc->strides[k][r] = st[k];
            r++;
        }
    }
    bc->rank = r;
    return IR_OK;
}

void ir_ew_iter_begin(const ir_ew_bcast *bc, ir_ew_iter *it)
{
    memset(it, 0, sizeof *it);
    it->inner = bc->rank > 0 ? bc->dims[bc->rank - 1] : 1;
    for (int k = 0; k < bc->n; k++)
        it->istride[k] = bc->rank > 0 ? bc->strides[k][bc->rank - 1] : 0;
    it->rows = bc->numel == 0 ? 0 : bc->numel / it->inner;
}

void ir_ew_iter_next(const ir_ew_bcast *bc, ir_ew_iter *it)
{
    it->row++;
    it->out += it->inner;
    for (int ax = bc->rank - 2; ax >= 0; ax--) {
        it->idx[ax]++;
        for (int k = 0; k < bc->n; k++)
            it->off[k] += bc->strides[k][ax];
        if (it->idx[ax] < bc->dims[ax])
            return;
        for (int k = 0; k < bc->n; k++)
            it->off[k] -= bc->strides[k][ax] * bc->dims[ax];
        it->idx[ax] = 0;
    }
}

/* ---- binary ops ---------------------------------------------------------- */

typedef enum bin_kind {
    BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_POW, BIN_MIN, BIN_MAX,
    BIN_EQ, BIN_LT, BIN_LE, BIN_GT, BIN_GE, BIN_AND, BIN_OR, BIN_XOR
} bin_kind;

typedef struct bin_rule {
    unsigned in0, in1;  /* allowed dtypes of the two inputs */
    bool same_type;     /* inputs must share a dtype (all but Pow) */
    bool to_bool;       /* output is bool, else the dtype of input 0 */
} bin_rule;

static bin_rule bin_rule_of(bin_kind k)
{
    bin_rule r = {IR_EW_NUMERIC, IR_EW_NUMERIC, true, false};
    switch (k) {
    case BIN_POW:
        /* Pow-15: base T in {int32, int64, floats}, exponent T1 any numeric;
         * we also accept i8/u8 bases (computed the same way). */
        r.same_type = false;
        break;
    case BIN_EQ: r.in0 = r.in1 = IR_EW_ALL; r.to_bool = true; break;
    case BIN_LT: case BIN_LE: case BIN_GT: case BIN_GE: r.to_bool = true; break;
    case BIN_AND: case BIN_OR: case BIN_XOR:
        r.in0 = r.in1 = IR_EW_BOOL;
        r.to_bool = true;
        break;
    default: break;
    }
    return r;
}

static double bin_f(bin_kind k, double x, double y)
{
    switch (k) {
    case BIN_ADD: return x + y;
    case BIN_SUB: return x - y;
    case BIN_MUL: return x * y;
    case BIN_DIV: return x / y;
    case BIN_POW: return pow(x, y);
    /* numpy minimum/maximum propagate NaN; fmin/fmax would drop it. */
    case BIN_MIN: return isnan(x) || isnan(y) ? NAN : (y < x ? y : x);
    case BIN_MAX: return isnan(x) || isnan(y) ? NAN : (y > x ? y : x);
    case BIN_EQ: return x == y;
    case BIN_LT: return x < y;
    case BIN_LE: return x <= y;
    case BIN_GT: return x > y;
    case BIN_GE: return x >= y;
    default: return 0;
    }
}

/* Integer power by squaring, wrapping like numpy; a negative exponent gives
 * the truncated real result (1, +-1 for base -1, else 0) instead of numpy's
 * error. */
static int64_t ipow(int64_t x, int64_t y)
{
    if (y < 0)
        return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)x;
    for (uint64_t e = (uint64_t)y; e; e >>= 1) {
        if (e & 1)
            r *= b;
        b *= b;
    }
    return (int64_t)r;
}

static int64_t bin_i(bin_kind k, int64_t x, int64_t y)
{
    /* + - * in uint64: signed overflow is undefined in C, wrapping is what
     * numpy does; the store narrows to the output width. */
    switch (k) {
    case BIN_ADD: return (int64_t)((uint64_t)x + (uint64_t)y);
    case BIN_SUB: return (int64_t)((uint64_t)x - (uint64_t)y);
    case BIN_MUL: return (int64_t)((uint64_t)x * (uint64_t)y);
    case BIN_DIV:
        if (y == 0)
            return 0; /* undefined in ONNX; numpy also gives 0 */
        if (x == INT64_MIN && y == -1)
            return INT64_MIN;
        return x / y; /* C truncates toward zero, as ONNX Div requires */
    case BIN_POW: return ipow(x, y);
    case BIN_MIN: return y < x ? y : x;
    case BIN_MAX: return y > x ? y : x;
    case BIN_EQ: return x == y;
    case BIN_LT: return x < y;
    case BIN_LE: return x <= y;
    case BIN_GT: return x > y;
    case BIN_GE: return x >= y;
    case BIN_AND: return x && y;
    case BIN_OR: return x || y;
    case BIN_XOR: return (x != 0) != (y != 0);
    }
    return 0;
}

/* f32 Add/Sub/Mul/Div: one typed loop per row, with the common stride
 * patterns (both contiguous, one side repeated) spelled out so the compiler
 * vectorises them. */
static void bin_f32_row(bin_kind k, float *restrict o, const float *x,
                        int64_t sx, const float *y, int64_t sy, int64_t n)
{
#define ROW(EXPR)                                                             \
    do {                                                                      \
        if (sx == 1 && sy == 1) {                                             \
            for (int64_t j = 0; j < n; j++) {                                 \
                float a_ = x[j], b_ = y[j];                                   \
                o[j] = EXPR;                                                  \
            }                                                                 \
        } else if (sx == 1 && sy == 0) {                                      \
            const float b_ = y[0];                                            \
            for (int64_t j = 0; j < n; j++) {                                 \
                float a_ = x[j];                                              \
                o[j] = EXPR;                                                  \
            }                                                                 \
        } else if (sx == 0 && sy == 1) {                                      \
            const float a_ = x[0];                                            \
            for (int64_t j = 0; j < n; j++) {                                 \
                float b_ = y[j];                                              \
                o[j] = EXPR;                                                  \
            }                                                                 \
        } else {                                                              \
            for (int64_t j = 0; j < n; j++) {                                 \
                float a_ = x[j * sx], b_ = y[j * sy];                         \
                o[j] = EXPR;                                                  \
            }                                                                 \
        }                                                                     \
    } while (0)
    switch (k) {
    case BIN_ADD: ROW(a_ + b_); break;
    case BIN_SUB: ROW(a_ - b_); break;
    case BIN_MUL: ROW(a_ * b_); break;
    case BIN_DIV: ROW(a_ / b_); break;
    default: break;
    }
#undef ROW
}

/* out = x (k) y with broadcasting; checks dtypes against the op's rule. */
static ir_status bin_apply(ir_kernel_args *a, bin_kind k, const ir_tensor *x,
                           const ir_tensor *y, ir_tensor **out)
{
    bin_rule r = bin_rule_of(k);
    char names[128];
    *out = NULL;
    if (!ir_ew_in_set(x->dtype, r.in0) || !ir_ew_in_set(y->dtype, r.in1)) {
        const ir_tensor *bad = ir_ew_in_set(x->dtype, r.in0) ? y : x;
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input dtype %s is not allowed; this op takes %s",
                              ir_dtype_name(bad->dtype),
                              ir_ew_set_names(bad == x ? r.in0 : r.in1, names,
                                              sizeof names));
    }
    if (r.same_type && x->dtype != y->dtype)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "inputs have different dtypes %s and %s; insert "
                              "a Cast so they match",
                              ir_dtype_name(x->dtype), ir_dtype_name(y->dtype));
    const ir_tensor *ins[2] = {x, y};
    ir_ew_bcast bc;
    ir_status s = ir_ew_bcast_init(&bc, 2, ins, a->node, a->diag);
    if (s != IR_OK)
        return s;
    ir_dtype odt = r.to_bool ? IR_DT_BOOL : x->dtype;
    ir_tensor *o;
    if ((s = ir_tensor_create(odt, bc.out_rank, bc.out_dims, &o, a->diag)) != IR_OK)
        return s;

    ir_ew_iter it;
    bool fast = x->dtype == IR_DT_F32 && y->dtype == IR_DT_F32 && k <= BIN_DIV;
    bool xf = ir_dtype_is_float(x->dtype), yf = ir_dtype_is_float(y->dtype);
    for (ir_ew_iter_begin(&bc, &it); it.row < it.rows; ir_ew_iter_next(&bc, &it)) {
        if (fast) {
            bin_f32_row(k, (float *)o->data + it.out,
                        (const float *)x->data + it.off[0], it.istride[0],
                        (const float *)y->data + it.off[1], it.istride[1],
                        it.inner);
            continue;
        }
        for (int64_t j = 0; j < it.inner; j++) {
            int64_t i0 = it.off[0] + j * it.istride[0];
            int64_t i1 = it.off[1] + j * it.istride[1];
            if (xf) /* float base: the exponent of Pow may be an integer */
                ir_ew_put_f(o, it.out + j,
                            bin_f(k, ir_ew_get_f(x, i0), ir_ew_get_f(y, i1)));
            else if (!yf)
                ir_ew_put_i(o, it.out + j,
                            bin_i(k, ir_ew_get_i(x, i0), ir_ew_get_i(y, i1)));
            else /* Pow with integer base, float exponent: numpy's
                    power(x, y).astype(x.dtype), truncating */
                ir_ew_put_i(o, it.out + j,
                            ir_ew_f64_to_int(pow((double)ir_ew_get_i(x, i0),
                                                 ir_ew_get_f(y, i1)),
                                             x->dtype));
        }
    }
    *out = o;
    return IR_OK;
}

static ir_status bin_eval(ir_kernel_args *a, bin_kind k)
{
    if (a->n_inputs != 2 || !a->inputs[0] || !a->inputs[1])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "needs exactly two inputs");
    return bin_apply(a, k, a->inputs[0], a->inputs[1], &a->outputs[0]);
}

/* Shared infer: dtype rule, then the symbolic broadcast. */
static ir_status ew_infer_shape(ir_infer_args *a, int n, ir_dtype odt)
{
    /* variadic Min/Max may have many inputs: those go in the graph arena */
    const ir_value *small[16];
    const ir_value **vs = n <= 16 ? small
                                  : ir_graph_alloc(a->graph, sizeof *vs * (size_t)n);
    ir_value *out = a->node->outputs[0];
    int m = 0;
    if (!vs)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        if (a->node->inputs[i])
            vs[m++] = a->node->inputs[i];
    out->dtype = odt;
    int rank;
    ir_dim dims[IR_MAX_RANK];
    ir_status s = ir_broadcast_value_dims(a->graph, m, vs, &rank, dims);
    if (s != IR_OK) {
        char msg[512], one[160];
        size_t k = 0;
        msg[0] = '\0';
        for (int i = 0; i < m && k < sizeof msg; i++)
            k += (size_t)snprintf(msg + k, sizeof msg - k, "%s%s",
                                  i == 0 ? "" : (i == m - 1 ? " and " : ", "),
                                  ir_ew_value_shape(vs[i], one, sizeof one));
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "cannot broadcast input shapes %s", msg);
    }
    out->rank = rank;
    for (int i = 0; i < rank; i++)
        out->dims[i] = dims[i];
    return IR_OK;
}

/* Inputs first..n-1 must share one dtype when known; returns it (or UNDEF). */
static ir_status infer_same_dtype(ir_infer_args *a, int first, int n,
                                  ir_dtype *common)
{
    *common = IR_DT_UNDEF;
    int at = -1;
    for (int i = first; i < n; i++) {
        const ir_value *v = a->node->inputs[i];
        if (!v || v->dtype == IR_DT_UNDEF)
            continue;
        if (*common == IR_DT_UNDEF) {
            *common = v->dtype;
            at = i;
        } else if (v->dtype != *common) {
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "inputs %d '%s' (%s) and %d '%s' (%s) must "
                                  "have the same dtype; insert a Cast",
                                  at, a->node->inputs[at]->name,
                                  ir_dtype_name(*common), i, v->name,
                                  ir_dtype_name(v->dtype));
        }
    }
    return IR_OK;
}

static ir_status bin_infer(ir_infer_args *a, bin_kind k)
{
    bin_rule r = bin_rule_of(k);
    ir_status s;
    if (a->node->n_inputs != 2 || !a->node->inputs[0] || !a->node->inputs[1])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "needs exactly two inputs");
    if ((s = ir_ew_check_value_dtype(a, 0, r.in0)) != IR_OK ||
        (s = ir_ew_check_value_dtype(a, 1, r.in1)) != IR_OK)
        return s;
    ir_dtype common = a->node->inputs[0]->dtype;
    if (r.same_type && (s = infer_same_dtype(a, 0, 2, &common)) != IR_OK)
        return s;
    return ew_infer_shape(a, 2, r.to_bool ? IR_DT_BOOL : common);
}

#define BINARY(ENUM, KIND)                                                    \
    ir_status ir_eval_##ENUM(ir_kernel_args *a) { return bin_eval(a, KIND); } \
    ir_status ir_infer_##ENUM(ir_infer_args *a) { return bin_infer(a, KIND); }
BINARY(ADD, BIN_ADD)
BINARY(SUB, BIN_SUB)
BINARY(MUL, BIN_MUL)
BINARY(DIV, BIN_DIV)
BINARY(POW, BIN_POW)
BINARY(EQUAL, BIN_EQ)
BINARY(LESS, BIN_LT)
BINARY(LESS_OR_EQUAL, BIN_LE)
BINARY(GREATER, BIN_GT)
BINARY(GREATER_OR_EQUAL, BIN_GE)
BINARY(AND, BIN_AND)
BINARY(OR, BIN_OR)
BINARY(XOR, BIN_XOR)
#undef BINARY

/* ---- Min / Max (variadic, Min-13 / Max-13) -------------------------------
 * Broadcasting n inputs equals broadcasting them pairwise, so fold. */

static ir_status minmax_eval(ir_kernel_args *a, bin_kind k)
{
    if (a->n_inputs < 1)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "needs at least one input");
    for (int i = 0; i < a->n_inputs; i++)
        if (!a->inputs[i])
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "input %d is missing", i);
    ir_status s = ir_ew_check_tensor_dtype(a, 0, IR_EW_NUMERIC);
    if (s != IR_OK)
        return s;
    if (a->n_inputs == 1) {
        a->outputs[0] = ir_tensor_clone(a->inputs[0]);
        return a->outputs[0] ? IR_OK
                             : ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM,
                                              "out of memory");
    }
    ir_tensor *acc = NULL;
    for (int i = 1; i < a->n_inputs; i++) {
        ir_tensor *next;
        s = bin_apply(a, k, acc ? acc : a->inputs[0], a->inputs[i], &next);
        ir_tensor_free(acc);
        if (s != IR_OK)
            return s;
        acc = next;
    }
    a->outputs[0] = acc;
    return IR_OK;
}

static ir_status minmax_infer(ir_infer_args *a)
{
    ir_status s;
    int n = a->node->n_inputs;
    for (int i = 0; i < n; i++)
        if ((s = ir_ew_check_value_dtype(a, i, IR_EW_NUMERIC)) != IR_OK)
            return s;
    ir_dtype common;
    if ((s = infer_same_dtype(a, 0, n, &common)) != IR_OK)
        return s;
    return ew_infer_shape(a, n, common);
}

ir_status ir_eval_MIN(ir_kernel_args *a) { return minmax_eval(a, BIN_MIN); }
ir_status ir_infer_MIN(ir_infer_args *a) { return minmax_infer(a); }
ir_status ir_eval_MAX(ir_kernel_args *a) { return minmax_eval(a, BIN_MAX); }
ir_status ir_infer_MAX(ir_infer_args *a) { return minmax_infer(a); }

/* ---- Where (Where-16): out = cond ? x : y, three-way broadcast ------------ */

ir_status ir_eval_WHERE(ir_kernel_args *a)
{
    if (a->n_inputs != 3 || !a->inputs[0] || !a->inputs[1] || !a->inputs[2])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "needs three inputs (condition, X, Y)");
    const ir_tensor *c = a->inputs[0], *x = a->inputs[1], *y = a->inputs[2];
    if (c->dtype != IR_DT_BOOL)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "condition has dtype %s; it must be bool",
                              ir_dtype_name(c->dtype));
    if (x->dtype != y->dtype)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "X and Y have different dtypes %s and %s",
                              ir_dtype_name(x->dtype), ir_dtype_name(y->dtype));
    ir_ew_bcast bc;
    ir_status s = ir_ew_bcast_init(&bc, 3, a->inputs, a->node, a->diag);
    if (s != IR_OK)
        return s;
    ir_tensor *o;
    if ((s = ir_tensor_create(x->dtype, bc.out_rank, bc.out_dims, &o, a->diag)) != IR_OK)
        return s;
    /* Copy elements as bytes: works for every dtype. */
    size_t es = ir_dtype_size(x->dtype);
    const uint8_t *cd = c->data;
    const char *xd = x->data, *yd = y->data;
    char *od = o->data;
    ir_ew_iter it;
    for (ir_ew_iter_begin(&bc, &it); it.row < it.rows; ir_ew_iter_next(&bc, &it))
        for (int64_t j = 0; j < it.inner; j++) {
            bool take_x = cd[it.off[0] + j * it.istride[0]] != 0;
            const char *src = take_x ? xd + (size_t)(it.off[1] + j * it.istride[1]) * es
                                     : yd + (size_t)(it.off[2] + j * it.istride[2]) * es;
            memcpy(od + (size_t)(it.out + j) * es, src, es);
        }
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_WHERE(ir_infer_args *a)
{
    ir_status s;
    if (a->node->n_inputs != 3)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "needs three inputs (condition, X, Y)");
    if ((s = ir_ew_check_value_dtype(a, 0, IR_EW_BOOL)) != IR_OK)
        return s;
    ir_dtype common;
    if ((s = infer_same_dtype(a, 1, 3, &common)) != IR_OK)
        return s;
    return ew_infer_shape(a, 3, common);
}

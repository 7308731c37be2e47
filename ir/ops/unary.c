/* unary.c — the one-input elementwise ops of the reference interpreter:
 * Not Identity Neg Abs Reciprocal Sqrt Exp Log Erf Tanh Sigmoid Relu Gelu
 * Floor Ceil Sign, and Clip (one data input plus optional bounds).
 *
 * Semantics and allowed dtypes follow the ONNX operator spec: Not-1,
 * Identity-16, Neg-13, Abs-13, Reciprocal/Sqrt/Exp/Log-13, Erf-13, Tanh-13,
 * Sigmoid-13, Relu-14, Floor/Ceil-13, Sign-13 (-1, 0 or 1; NaN stays NaN,
 * as numpy.sign), Gelu-20 (approximate = "none" | "tanh"),
 * Clip-6 (min/max attributes) and Clip-13 (min/max optional inputs). Floating
 * dtypes compute in double and round back; integers compute in int64 and
 * wrap (Neg/Abs of INT_MIN give INT_MIN, as numpy does).
 */
#include "ir/act.h"
#include "ir/ops/elementwise.h"

#include <math.h>
#include <string.h>

/* The math kinds; Relu, Tanh and Gelu are UN_ACT with their ir_act
 * (ir/act.h), whose scalar reference is the one the fused Linear uses. */
typedef enum un_kind {
    UN_NOT, UN_NEG, UN_ABS, UN_RECIPROCAL, UN_SQRT, UN_EXP, UN_LOG, UN_ERF,
    UN_SIGMOID, UN_FLOOR, UN_CEIL, UN_SIGN, UN_ACT
} un_kind;

/* One unary function: a kind, and for UN_ACT the activation. */
typedef struct un_fn {
    un_kind kind;
    ir_act act;
} un_fn;

static unsigned un_dtypes(un_fn f)
{
    switch (f.kind) {
    case UN_NOT: return IR_EW_BOOL;
    case UN_NEG: return IR_EW_FLOATS | IR_EW_SIGNED;
    case UN_ABS: case UN_ERF: case UN_SIGN: return IR_EW_NUMERIC;
    case UN_ACT:
        return f.act == IR_ACT_RELU ? IR_EW_FLOATS | IR_EW_SIGNED : IR_EW_FLOATS;
    default: return IR_EW_FLOATS;
    }
}

static double un_f(un_fn f, double x)
{
    switch (f.kind) {
    case UN_NEG: return -x;
    case UN_ABS: return fabs(x);
    case UN_RECIPROCAL: return 1.0 / x;
    case UN_SQRT: return sqrt(x);
    case UN_EXP: return exp(x);
    case UN_LOG: return log(x);
    case UN_ERF: return erf(x);
    case UN_SIGMOID:
        /* 1 / (1 + e^-x), written so neither branch overflows */
        if (x >= 0)
            return 1.0 / (1.0 + exp(-x));
        else {
            double e = exp(x);
            return e / (1.0 + e);
        }
    case UN_ACT: return ir_act_ref(f.act, x);
    case UN_FLOOR: return floor(x);
    case UN_CEIL: return ceil(x);
    case UN_SIGN: /* numpy.sign: 0 and -0 give 0, NaN stays NaN */
        return x > 0 ? 1.0 : x < 0 ? -1.0 : (x == x ? 0.0 : x);
    default: return x;
    }
}

static int64_t un_i(un_fn f, int64_t x)
{
    switch (f.kind) {
    case UN_NOT: return !x;
    case UN_NEG: return (int64_t)(0 - (uint64_t)x);
    case UN_ABS: return x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
    case UN_ACT: return f.act == IR_ACT_RELU && x < 0 ? 0 : x; /* Relu-14 */
    case UN_SIGN: return x > 0 ? 1 : x < 0 ? -1 : 0;
    default: return x;
    }
}

static ir_status un_apply(ir_kernel_args *a, un_fn k)
{
    ir_status s;
    if (a->n_inputs < 1 || !a->inputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    if ((s = ir_ew_check_tensor_dtype(a, 0, un_dtypes(k))) != IR_OK)
        return s;
    const ir_tensor *x = a->inputs[0];
    ir_tensor *o;
    if ((s = ir_tensor_create(x->dtype, x->rank, x->dims, &o, a->diag)) != IR_OK)
        return s;
    int64_t n = ir_numel_checked(x->rank, x->dims);
    if (x->dtype == IR_DT_F32) {
        const float *xs = x->data;
        float *os = o->data;
        for (int64_t i = 0; i < n; i++)
            os[i] = (float)un_f(k, xs[i]);
    } else if (ir_dtype_is_float(x->dtype)) {
        for (int64_t i = 0; i < n; i++)
            ir_ew_put_f(o, i, un_f(k, ir_ew_get_f(x, i)));
    } else if (k.kind == UN_ERF) {
        /* Erf-13 lists integer types: erf of an integer, truncated back */
        for (int64_t i = 0; i < n; i++)
            ir_ew_put_f(o, i, erf((double)ir_ew_get_i(x, i)));
    } else {
        for (int64_t i = 0; i < n; i++)
            ir_ew_put_i(o, i, un_i(k, ir_ew_get_i(x, i)));
    }
    a->outputs[0] = o;
    return IR_OK;
}

static ir_status un_infer(ir_infer_args *a, un_fn k)
{
    ir_status s;
    if (a->node->n_inputs < 1 || !a->node->inputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    if ((s = ir_ew_check_value_dtype(a, 0, un_dtypes(k))) != IR_OK)
        return s;
    ir_value_copy_type(a->node->outputs[0], a->node->inputs[0]);
    return IR_OK;
}

#define UNARY(ENUM, KIND, ACT)                                                \
    ir_status ir_eval_##ENUM(ir_kernel_args *a)                               \
    {                                                                         \
        return un_apply(a, (un_fn){KIND, ACT});                               \
    }                                                                         \
    ir_status ir_infer_##ENUM(ir_infer_args *a)                               \
    {                                                                         \
        return un_infer(a, (un_fn){KIND, ACT});                               \
    }
UNARY(NOT, UN_NOT, IR_ACT_NONE)
UNARY(NEG, UN_NEG, IR_ACT_NONE)
UNARY(ABS, UN_ABS, IR_ACT_NONE)
UNARY(RECIPROCAL, UN_RECIPROCAL, IR_ACT_NONE)
UNARY(SQRT, UN_SQRT, IR_ACT_NONE)
UNARY(EXP, UN_EXP, IR_ACT_NONE)
UNARY(LOG, UN_LOG, IR_ACT_NONE)
UNARY(ERF, UN_ERF, IR_ACT_NONE)
UNARY(TANH, UN_ACT, IR_ACT_TANH)
UNARY(SIGMOID, UN_SIGMOID, IR_ACT_NONE)
UNARY(RELU, UN_ACT, IR_ACT_RELU)
UNARY(FLOOR, UN_FLOOR, IR_ACT_NONE)
UNARY(CEIL, UN_CEIL, IR_ACT_NONE)
UNARY(SIGN, UN_SIGN, IR_ACT_NONE)
#undef UNARY

/* Gelu-20: the attribute picks the exact (erf) or the tanh form. */
static ir_status gelu_kind(const ir_node *n, ir_diag *d, un_fn *k)
{
    const char *ap = ir_node_attr_string(n, "approximate", "none");
    if (strcmp(ap, "none") == 0)
        *k = (un_fn){UN_ACT, IR_ACT_GELU};
    else if (strcmp(ap, "tanh") == 0)
        *k = (un_fn){UN_ACT, IR_ACT_GELU_TANH};
    else
        return ir_kernel_fail(d, n, IR_ERR_INPUT,
                              "attribute approximate='%s' must be 'none' or "
                              "'tanh'", ap);
    return IR_OK;
}

ir_status ir_eval_GELU(ir_kernel_args *a)
{
    un_fn k = {UN_ACT, IR_ACT_GELU};
    ir_status s = gelu_kind(a->node, a->diag, &k);
    return s != IR_OK ? s : un_apply(a, k);
}

ir_status ir_infer_GELU(ir_infer_args *a)
{
    un_fn k = {UN_ACT, IR_ACT_GELU};
    ir_status s = gelu_kind(a->node, a->diag, &k);
    return s != IR_OK ? s : un_infer(a, k);
}

/* Identity-16: a copy (any dtype). */
ir_status ir_eval_IDENTITY(ir_kernel_args *a)
{
    if (a->n_inputs < 1 || !a->inputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    a->outputs[0] = ir_tensor_clone(a->inputs[0]);
    if (!a->outputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    return IR_OK;
}

ir_status ir_infer_IDENTITY(ir_infer_args *a)
{
    if (a->node->n_inputs < 1 || !a->node->inputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    ir_value_copy_type(a->node->outputs[0], a->node->inputs[0]);
    return IR_OK;
}

/* ---- Clip ----------------------------------------------------------------
 * Clip-6: float attributes min / max (defaults -inf / +inf).
 * Clip-11/12/13: optional scalar inputs 1 (min) and 2 (max) of the input's
 * dtype; 12 added integer types. Per Clip-13, when min > max every value
 * becomes max, which applying min first and then max gives. NaN stays NaN. */

static ir_status clip_bound(ir_kernel_args *a, int slot, const ir_tensor **b)
{
    *b = slot < a->n_inputs ? a->inputs[slot] : NULL;
    if (!*b)
        return IR_OK;
    const char *what = slot == 1 ? "min" : "max";
    if ((*b)->dtype != a->inputs[0]->dtype)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "%s has dtype %s but the input is %s", what,
                              ir_dtype_name((*b)->dtype),
                              ir_dtype_name(a->inputs[0]->dtype));
    if (ir_numel_checked((*b)->rank, (*b)->dims) != 1)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "%s must be a scalar", what);
    return IR_OK;
}

ir_status ir_eval_CLIP(ir_kernel_args *a)
{
    ir_status s;
    if (a->n_inputs < 1 || !a->inputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    if ((s = ir_ew_check_tensor_dtype(a, 0, IR_EW_NUMERIC)) != IR_OK)
        return s;
    const ir_tensor *x = a->inputs[0], *tmin, *tmax;
    if ((s = clip_bound(a, 1, &tmin)) != IR_OK || (s = clip_bound(a, 2, &tmax)) != IR_OK)
        return s;
    bool is_float = ir_dtype_is_float(x->dtype);
    /* Clip-6 attributes (absent in later opsets, so reading them is safe). */
    ir_attr *amin = ir_node_attr(a->node, "min"), *amax = ir_node_attr(a->node, "max");

    ir_tensor *o;
    if ((s = ir_tensor_create(x->dtype, x->rank, x->dims, &o, a->diag)) != IR_OK)
        return s;
    int64_t n = ir_numel_checked(x->rank, x->dims);
    if (is_float) {
        double lo = tmin ? ir_ew_get_f(tmin, 0) : amin ? amin->f : -INFINITY;
        double hi = tmax ? ir_ew_get_f(tmax, 0) : amax ? amax->f : INFINITY;
        for (int64_t i = 0; i < n; i++) {
            double v = ir_ew_get_f(x, i);
            if (v < lo)
                v = lo;
            if (v > hi)
                v = hi;
            ir_ew_put_f(o, i, v);
        }
    } else {
        int64_t lo = tmin ? ir_ew_get_i(tmin, 0)
                   : amin ? ir_ew_f64_to_int(amin->f, IR_DT_I64) : INT64_MIN;
        int64_t hi = tmax ? ir_ew_get_i(tmax, 0)
                   : amax ? ir_ew_f64_to_int(amax->f, IR_DT_I64) : INT64_MAX;
        for (int64_t i = 0; i < n; i++) {
            int64_t v = ir_ew_get_i(x, i);
            if (v < lo)
                v = lo;
            if (v > hi)
                v = hi;
            ir_ew_put_i(o, i, v);
        }
    }
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_CLIP(ir_infer_args *a)
{
    ir_status s;
    const ir_node *n = a->node;
    if (n->n_inputs < 1 || !n->inputs[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    if ((s = ir_ew_check_value_dtype(a, 0, IR_EW_NUMERIC)) != IR_OK)
        return s;
    for (int i = 1; i < n->n_inputs; i++) {
        const ir_value *b = n->inputs[i];
        if (!b)
            continue;
        if (b->dtype != IR_DT_UNDEF && n->inputs[0]->dtype != IR_DT_UNDEF &&
            b->dtype != n->inputs[0]->dtype)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "%s '%s' has dtype %s but the input is %s",
                                  i == 1 ? "min" : "max", b->name,
                                  ir_dtype_name(b->dtype),
                                  ir_dtype_name(n->inputs[0]->dtype));
        bool scalar = true; /* rank 0 per spec; [1] or [1,1] accepted */
        for (int k = 0; k < b->rank; k++)
            if (ir_dim_known(b->dims[k]) && b->dims[k].size != 1)
                scalar = false;
        if (!scalar)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "%s '%s' must be a scalar",
                                  i == 1 ? "min" : "max", b->name);
    }
    ir_value_copy_type(n->outputs[0], n->inputs[0]);
    return IR_OK;
}

/* constant.c — ops that make tensors from attributes or from shapes:
 * Constant, ConstantOfShape, Range, Shape, Size, and Dropout (which at
 * inference is a copy). Semantics follow the ONNX operator specs cited per
 * op; every dtype of ir/ir.h passes through. */
#include "ir/ops/shape_ops.h"

#include <math.h>
#include <string.h>

/* ---- Constant (ONNX Constant-1/9/11/12/13) ------------------------------- */

/* Finds the one value-bearing attribute; builds its tensor when out != NULL,
 * otherwise only reports dtype/rank/dims. */
static ir_status constant_payload(const ir_node *n, ir_diag *d, ir_tensor **out,
                                  ir_dtype *dt, int *rank, int64_t *dims)
{
    const ir_attr *found = NULL;
    for (int i = 0; i < n->n_attrs; i++) {
        const ir_attr *at = &n->attrs[i];
        if (strncmp(at->name, "value", 5) != 0 && strcmp(at->name, "sparse_value") != 0)
            continue;
        if (found)
            return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                  "has both '%s' and '%s'; exactly one value "
                                  "attribute is allowed", found->name, at->name);
        found = at;
    }
    if (!found)
        return ir_kernel_fail(d, n, IR_ERR_INPUT,
                              "has no value attribute (value, value_float, "
                              "value_floats, value_int, value_ints)");
    const char *nm = found->name;
    int64_t len = 0;
    if (strcmp(nm, "value") == 0 && found->kind == IR_ATTR_TENSOR && found->t) {
        *dt = found->t->dtype;
        *rank = found->t->rank;
        memcpy(dims, found->t->dims, sizeof(int64_t) * (size_t)found->t->rank);
        if (out) {
            *out = ir_tensor_clone(found->t);
            if (!*out)
                return ir_kernel_fail(d, n, IR_ERR_NOMEM, "out of memory");
        }
        return IR_OK;
    } else if (strcmp(nm, "value_float") == 0 && found->kind == IR_ATTR_FLOAT) {
        *dt = IR_DT_F32, *rank = 0;
    } else if (strcmp(nm, "value_int") == 0 && found->kind == IR_ATTR_INT) {
        *dt = IR_DT_I64, *rank = 0;
    } else if (strcmp(nm, "value_floats") == 0 && found->kind == IR_ATTR_FLOATS) {
        *dt = IR_DT_F32, *rank = 1, len = found->n, dims[0] = len;
    } else if (strcmp(nm, "value_ints") == 0 && found->kind == IR_ATTR_INTS) {
        *dt = IR_DT_I64, *rank = 1, len = found->n, dims[0] = len;
    } else if (strncmp(nm, "value_string", 12) == 0) {
        return ir_kernel_fail(d, n, IR_ERR_UNSUPPORTED,
                              "string constants ('%s') are not supported: "
                              "distilc has no string tensors", nm);
    } else {
        return ir_kernel_fail(d, n, IR_ERR_UNSUPPORTED,
                              "value attribute '%s' (kind %d) is not supported",
                              nm, (int)found->kind);
    }
    if (!out)
        return IR_OK;
    ir_status s = ir_tensor_create(*dt, *rank, dims, out, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "node '%s' (Constant)", n->name);
    if (strcmp(nm, "value_float") == 0)
        ((float *)(*out)->data)[0] = found->f;
    else if (strcmp(nm, "value_int") == 0)
        ((int64_t *)(*out)->data)[0] = found->i;
    else if (strcmp(nm, "value_floats") == 0)
        shp_copy_elems((*out)->data, found->floats, (size_t)len, sizeof(float));
    else
        shp_copy_elems((*out)->data, found->ints, (size_t)len, sizeof(int64_t));
    return IR_OK;
}

ir_status ir_eval_CONSTANT(ir_kernel_args *a)
{
    ir_dtype dt;
    int rank;
    int64_t dims[IR_MAX_RANK];
    return constant_payload(a->node, a->diag, &a->outputs[0], &dt, &rank, dims);
}

ir_status ir_infer_CONSTANT(ir_infer_args *a)
{
    ir_dtype dt;
    int rank;
    int64_t dims[IR_MAX_RANK];
    ir_status s = constant_payload(a->node, a->diag, NULL, &dt, &rank, dims);
    if (s == IR_OK)
        ir_value_set_shape(a->node->outputs[0], dt, rank, dims);
    return s;
}

/* ---- ConstantOfShape (ONNX ConstantOfShape-9/20) ------------------------- */

/* The fill value: attribute 'value', a one-element tensor; default f32 0. */
static ir_status cos_value(const ir_node *n, ir_diag *d, const ir_tensor **v)
{
    const ir_attr *at = ir_node_attr(n, "value");
    *v = NULL;
    if (!at)
        return IR_OK;
    if (at->kind != IR_ATTR_TENSOR || !at->t || ir_tensor_numel(at->t) != 1)
        return ir_kernel_fail(d, n, IR_ERR_INPUT,
                              "attribute 'value' must be a one-element tensor");
    *v = at->t;
    return IR_OK;
}

ir_status ir_eval_CONSTANT_OF_SHAPE(ir_kernel_args *a)
{
    const ir_tensor *val;
    ir_status s = cos_value(a->node, a->diag, &val);
    if (s != IR_OK)
        return s;
    int64_t dims[SHP_MAX_LIST];
    int n;
    if ((s = shp_tensor_ints(a, a->inputs[0], "shape", dims, &n)) != IR_OK)
        return s;
    if (n > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "output rank %d exceeds %d", n, IR_MAX_RANK);
    for (int i = 0; i < n; i++)
        if (dims[i] < 0)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "shape entry %d is negative (%lld)", i,
                                  (long long)dims[i]);
    ir_dtype dt = val ? val->dtype : IR_DT_F32;
    ir_tensor *o;
    if ((s = ir_tensor_create(dt, n, dims, &o, a->diag)) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (ConstantOfShape)",
                              a->node->name);
    size_t es = ir_dtype_size(dt);
    int64_t cnt = ir_tensor_numel(o);
    if (val)
        for (int64_t i = 0; i < cnt; i++)
            memcpy((char *)o->data + (size_t)i * es, val->data, es);
    a->outputs[0] = o; /* without a value the zero fill is already right */
    return IR_OK;
}

ir_status ir_infer_CONSTANT_OF_SHAPE(ir_infer_args *a)
{
    const ir_tensor *val;
    ir_status s = cos_value(a->node, a->diag, &val);
    if (s != IR_OK)
        return s;
    ir_value *out = a->node->outputs[0];
    out->dtype = val ? val->dtype : IR_DT_F32;
    ir_dim dims[IR_MAX_RANK];
    int n = shp_value_dims(a->node->inputs[0], a->opset, dims, NULL, IR_MAX_RANK);
    if (n >= 0) { /* constant, or a Shape chain: may hold symbols */
        out->rank = n;
        memcpy(out->dims, dims, sizeof(ir_dim) * (size_t)n);
        return IR_OK;
    }
    int64_t len = shp_value_len(a->node->inputs[0]);
    out->rank = len >= 0 && len <= IR_MAX_RANK ? (int)len : -1;
    for (int i = 0; i < out->rank; i++)
        out->dims[i] = ir_dim_unknown();
    return IR_OK;
}

/* ---- Range (ONNX Range-11) ----------------------------------------------- */
/* count = max(ceil((limit - start) / delta), 0); out[i] = start + i * delta. */

static ir_status range_count(const ir_kernel_args *a, int64_t *count)
{
    const ir_tensor *st = a->inputs[0], *li = a->inputs[1], *de = a->inputs[2];
    for (int i = 0; i < 3; i++)
        if (ir_tensor_numel(a->inputs[i]) != 1)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "input %d must be a scalar", i);
    if (st->dtype != li->dtype || st->dtype != de->dtype)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "start, limit and delta must share a type "
                              "(got %s, %s, %s)", ir_dtype_name(st->dtype),
                              ir_dtype_name(li->dtype), ir_dtype_name(de->dtype));
    if (st->dtype == IR_DT_BOOL)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "bool is not a numeric type for Range");
    if (ir_dtype_is_float(st->dtype)) {
        double s = ir_tensor_get_f64(st, 0), l = ir_tensor_get_f64(li, 0),
               d = ir_tensor_get_f64(de, 0);
        if (d == 0 || !isfinite(s) || !isfinite(l) || !isfinite(d))
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "delta must be non-zero and all inputs "
                                  "finite (start %g, limit %g, delta %g)", s, l, d);
        double c = ceil((l - s) / d);
        if (c > 1e12)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "output of %g elements is too large", c);
        *count = c > 0 ? (int64_t)c : 0;
        return IR_OK;
    }
    int64_t s = ir_tensor_get_i64(st, 0), l = ir_tensor_get_i64(li, 0),
            d = ir_tensor_get_i64(de, 0);
    if (d == 0)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "delta must be non-zero");
    /* exact ceil division in unsigned arithmetic: the span between two
     * int64 values may not fit int64, but always fits uint64 */
    uint64_t span, step, c = 0;
    if (d > 0 && l > s) {
        span = (uint64_t)l - (uint64_t)s;
        step = (uint64_t)d;
        c = 1 + (span - 1) / step;
    } else if (d < 0 && l < s) {
        span = (uint64_t)s - (uint64_t)l;
        step = (uint64_t)(-(d + 1)) + 1; /* -d without overflow at INT64_MIN */
        c = 1 + (span - 1) / step;
    }
    if (c > (uint64_t)1e12)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "output of %llu elements is too large",
                              (unsigned long long)c);
    *count = (int64_t)c;
    return IR_OK;
}

ir_status ir_eval_RANGE(ir_kernel_args *a)
{
    int64_t cnt;
    ir_status s = range_count(a, &cnt);
    if (s != IR_OK)
        return s;
    const ir_tensor *st = a->inputs[0], *de = a->inputs[2];
    ir_tensor *o;
    if ((s = ir_tensor_create(st->dtype, 1, &cnt, &o, a->diag)) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (Range)", a->node->name);
    if (ir_dtype_is_float(st->dtype)) {
        double s0 = ir_tensor_get_f64(st, 0), d = ir_tensor_get_f64(de, 0);
        for (int64_t i = 0; i < cnt; i++)
            ir_tensor_set_f64(o, i, s0 + (double)i * d);
    } else {
        int64_t s0 = ir_tensor_get_i64(st, 0), d = ir_tensor_get_i64(de, 0);
        int64_t v = s0;
        for (int64_t i = 0; i < cnt; i++) {
            /* step by addition: every element lies within [start, limit),
             * so no step overflows where i * delta might */
            if (i)
                v += d;
            switch (st->dtype) {
            case IR_DT_I64: ((int64_t *)o->data)[i] = v; break;
            case IR_DT_I32: ((int32_t *)o->data)[i] = (int32_t)v; break;
            case IR_DT_I8: ((int8_t *)o->data)[i] = (int8_t)v; break;
            case IR_DT_U8: ((uint8_t *)o->data)[i] = (uint8_t)v; break;
            default: break;
            }
        }
    }
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_RANGE(ir_infer_args *a)
{
    ir_value *out = a->node->outputs[0];
    ir_value *st = a->node->inputs[0];
    out->dtype = st ? st->dtype : IR_DT_UNDEF;
    out->rank = 1;
    out->dims[0] = ir_dim_unknown();
    /* all three constant: compute the count with the kernel's own rule */
    const ir_tensor *in[3];
    for (int i = 0; i < 3; i++) {
        if (!a->node->inputs[i] || !a->node->inputs[i]->constant)
            return IR_OK;
        in[i] = a->node->inputs[i]->constant;
    }
    ir_diag scratch;
    ir_diag_init(&scratch);
    ir_kernel_args k = {a->graph, a->node, a->opset, 3, in, 0, NULL, &scratch};
    int64_t cnt;
    if (range_count(&k, &cnt) == IR_OK)
        out->dims[0] = ir_dim_const(cnt);
    else
        return ir_diag_set(a->diag, scratch.status, "%s", scratch.msg);
    return IR_OK;
}

/* ---- Shape (ONNX Shape-1/13/15) and Size (Size-1/13) --------------------- */

/* Shape-15: start/end select a slice of the dims; negative counts from the
 * back, both are clamped to [0, rank]. */
static void shape_range(const ir_node *n, int64_t opset, int rank, int *lo,
                        int *hi)
{
    int64_t s = 0, e = rank;
    if (opset >= 15) {
        s = ir_node_attr_int(n, "start", 0);
        e = ir_node_attr_int(n, "end", INT64_MAX);
    }
    if (s < 0)
        s += rank;
    if (e < 0)
        e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    *lo = (int)s;
    *hi = (int)(e < s ? s : e);
}

ir_status ir_eval_SHAPE(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    int lo, hi;
    shape_range(a->node, a->opset, x->rank, &lo, &hi);
    int64_t len = hi - lo;
    ir_tensor *o;
    if (ir_tensor_create(IR_DT_I64, 1, &len, &o, a->diag) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (Shape)", a->node->name);
    for (int i = lo; i < hi; i++)
        ((int64_t *)o->data)[i - lo] = x->dims[i];
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_SHAPE(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0];
    ir_value *out = a->node->outputs[0];
    out->dtype = IR_DT_I64;
    out->rank = 1;
    out->dims[0] = ir_dim_unknown();
    if (x && x->rank >= 0) {
        int lo, hi;
        shape_range(a->node, a->opset, x->rank, &lo, &hi);
        out->dims[0] = ir_dim_const(hi - lo);
    }
    return IR_OK;
}

ir_status ir_eval_SIZE(ir_kernel_args *a)
{
    ir_tensor *o;
    if (ir_tensor_create(IR_DT_I64, 0, NULL, &o, a->diag) != IR_OK)
        return ir_diag_prefix(a->diag, "node '%s' (Size)", a->node->name);
    ((int64_t *)o->data)[0] = ir_tensor_numel(a->inputs[0]);
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_SIZE(ir_infer_args *a)
{
    ir_value *out = a->node->outputs[0];
    out->dtype = IR_DT_I64;
    out->rank = 0;
    return IR_OK;
}

/* ---- Dropout (ONNX Dropout-1/6/7/10/12/13) ------------------------------- */
/* At inference Dropout is the identity; the optional mask output is all
 * true (bool from opset 10, the data type before). From opset 12 ratio and
 * training_mode are inputs; training with ratio > 0 is random and refused. */

static ir_dtype dropout_mask_type(int64_t opset, ir_dtype data)
{
    return opset >= 10 ? IR_DT_BOOL : data;
}

ir_status ir_eval_DROPOUT(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    if (a->opset >= 12) {
        const ir_tensor *ratio = a->n_inputs > 1 ? a->inputs[1] : NULL;
        const ir_tensor *train = a->n_inputs > 2 ? a->inputs[2] : NULL;
        double r = 0.5;
        if (ratio) {
            if (ir_tensor_numel(ratio) != 1 || !ir_dtype_is_float(ratio->dtype))
                return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                      "ratio must be a float scalar");
            r = ir_tensor_get_f64(ratio, 0);
        }
        if (train) {
            if (ir_tensor_numel(train) != 1)
                return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                      "training_mode must be a bool scalar");
            if (ir_tensor_get_i64(train, 0) && r > 0)
                return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                                      "training-mode dropout is random "
                                      "(ratio %g); export the model in eval "
                                      "mode", r);
        }
    }
    if (!(a->outputs[0] = ir_tensor_clone(x)))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    if (a->n_outputs > 1 && a->node->outputs[1]) {
        ir_tensor *m;
        ir_dtype mt = dropout_mask_type(a->opset, x->dtype);
        if (ir_tensor_create(mt, x->rank, x->dims, &m, a->diag) != IR_OK)
            return ir_diag_prefix(a->diag, "node '%s' (Dropout)", a->node->name);
        int64_t n = ir_tensor_numel(m);
        for (int64_t i = 0; i < n; i++)
            ir_tensor_set_f64(m, i, 1.0);
        a->outputs[1] = m;
    }
    return IR_OK;
}

ir_status ir_infer_DROPOUT(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0];
    ir_value_copy_type(a->node->outputs[0], x);
    if (a->node->n_outputs > 1 && a->node->outputs[1]) {
        ir_value_copy_type(a->node->outputs[1], x);
        a->node->outputs[1]->dtype = dropout_mask_type(a->opset, x->dtype);
    }
    return IR_OK;
}

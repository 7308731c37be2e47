/* pad.c — Pad (ONNX Pad-2 with pads / value attributes; Pad-11/13 with
 * pads and constant_value as inputs; Pad-18 with axes; Pad-19's wrap).
 * pads holds the begins of every padded axis, then their ends; a negative
 * pad crops. Each output element reads the input at out - begin; outside
 * the input, by mode: constant (constant_value, default 0), edge (the
 * nearest element), reflect (mirrored without repeating the edge, as
 * numpy.pad's reflect, repeated for pads longer than the axis) or wrap.
 * Every index is computed and checked before a read. */
#include "ir/ops/elementwise.h"

#include <string.h>

typedef enum pad_mode { PAD_CONSTANT, PAD_EDGE, PAD_REFLECT, PAD_WRAP } pad_mode;

typedef struct pad_spec {
    pad_mode mode;
    int64_t begin[IR_MAX_RANK], end[IR_MAX_RANK]; /* per axis of data */
} pad_spec;

static ir_status pad_mode_of(const ir_node *n, int64_t opset, pad_mode *m,
                             ir_diag *d)
{
    const char *s = ir_node_attr_string(n, "mode", "constant");
    if (strcmp(s, "constant") == 0)
        *m = PAD_CONSTANT;
    else if (strcmp(s, "edge") == 0)
        *m = PAD_EDGE;
    else if (strcmp(s, "reflect") == 0)
        *m = PAD_REFLECT;
    else if (strcmp(s, "wrap") == 0 && opset >= 19)
        *m = PAD_WRAP;
    else
        return ir_kernel_fail(d, n, IR_ERR_INPUT,
                              "mode '%s' is not constant, edge, reflect%s", s,
                              opset >= 19 ? " or wrap" : " (wrap needs opset 19)");
    return IR_OK;
}

/* pads (and axes) from the attribute (opset < 11) or the inputs, into
 * begin/end per axis of a rank-`rank` input. pads/axes NULL: attribute. */
static ir_status pad_spec_make(const ir_node *n, int64_t opset, int rank,
                               const ir_tensor *pads, const ir_tensor *axes,
                               pad_spec *p, ir_diag *d)
{
    memset(p, 0, sizeof *p);
    ir_status s = pad_mode_of(n, opset, &p->mode, d);
    if (s != IR_OK)
        return s;
    int64_t vals[2 * IR_MAX_RANK];
    int64_t ax[IR_MAX_RANK];
    int nax = rank;
    for (int i = 0; i < rank; i++)
        ax[i] = i;
    int64_t nv;
    if (opset < 11) {
        const int64_t *a;
        nv = ir_node_attr_ints(n, "pads", &a);
        if (nv < 0)
            return ir_kernel_fail(d, n, IR_ERR_INPUT, "attribute pads is missing");
        if (nv > 2 * IR_MAX_RANK)
            return ir_kernel_fail(d, n, IR_ERR_INPUT, "%lld pads is too many",
                                  (long long)nv);
        memcpy(vals, a, (size_t)nv * sizeof *vals);
    } else {
        if (!pads)
            return ir_kernel_fail(d, n, IR_ERR_INPUT, "input 1 (pads) is missing");
        if (pads->dtype != IR_DT_I64 || pads->rank != 1)
            return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                  "pads must be a 1-D int64 tensor");
        nv = ir_tensor_numel(pads);
        if (nv > 2 * IR_MAX_RANK)
            return ir_kernel_fail(d, n, IR_ERR_INPUT, "%lld pads is too many",
                                  (long long)nv);
        for (int64_t i = 0; i < nv; i++)
            vals[i] = ir_tensor_get_i64(pads, i);
        if (axes) {
            if ((axes->dtype != IR_DT_I64 && axes->dtype != IR_DT_I32) ||
                axes->rank != 1 || ir_tensor_numel(axes) > rank)
                return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                      "axes must be a 1-D int32/int64 tensor "
                                      "of at most %d entries", rank);
            nax = (int)ir_tensor_numel(axes);
            for (int i = 0; i < nax; i++) {
                int64_t v = ir_tensor_get_i64(axes, i);
                if (v < -rank || v >= rank)
                    return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                          "axis %lld is outside [-%d, %d)",
                                          (long long)v, rank, rank);
                ax[i] = v < 0 ? v + rank : v;
                for (int j = 0; j < i; j++)
                    if (ax[j] == ax[i])
                        return ir_kernel_fail(d, n, IR_ERR_INPUT,
                                              "axis %lld is repeated",
                                              (long long)ax[i]);
            }
        }
    }
    if (nv != 2 * nax)
        return ir_kernel_fail(d, n, IR_ERR_INPUT,
                              "%lld pads for %d axes: want %d (the begins, "
                              "then the ends)", (long long)nv, nax, 2 * nax);
    for (int i = 0; i < nax; i++) {
        p->begin[ax[i]] = vals[i];
        p->end[ax[i]] = vals[nax + i];
    }
    return IR_OK;
}

/* Where output coordinate o reads on an axis of size dim: -1 for the
 * constant. dim > 0 here whenever the index is outside it. */
static int64_t pad_source(pad_mode m, int64_t o, int64_t begin, int64_t dim)
{
    int64_t i = o - begin;
    if (i >= 0 && i < dim)
        return i;
    switch (m) {
    case PAD_EDGE: return i < 0 ? 0 : dim - 1;
    case PAD_WRAP: return ((i % dim) + dim) % dim;
    case PAD_REFLECT: {
        if (dim == 1)
            return 0;
        int64_t period = 2 * (dim - 1); /* 0 1 .. dim-1 .. 1 0 1 ... */
        int64_t r = ((i % period) + period) % period;
        return r < dim ? r : period - r;
    }
    default: return -1;
    }
}

ir_status ir_eval_PAD(ir_kernel_args *a)
{
    const ir_tensor *x = a->inputs[0];
    if (!x)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    pad_spec p;
    ir_status s = pad_spec_make(a->node, a->opset, x->rank,
                                a->n_inputs > 1 ? a->inputs[1] : NULL,
                                a->n_inputs > 3 ? a->inputs[3] : NULL, &p,
                                a->diag);
    if (s != IR_OK)
        return s;
    int64_t dims[IR_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        dims[i] = x->dims[i] + p.begin[i] + p.end[i];
        if (dims[i] < 0)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "pads %lld and %lld crop axis %d of size "
                                  "%lld below zero", (long long)p.begin[i],
                                  (long long)p.end[i], i, (long long)x->dims[i]);
        if (p.mode != PAD_CONSTANT && x->dims[i] == 0 && dims[i] > 0)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "axis %d is empty: nothing to pad from", i);
    }
    double cv = 0.0;
    const ir_tensor *c = a->n_inputs > 2 ? a->inputs[2] : NULL;
    if (a->opset < 11)
        cv = ir_node_attr_float(a->node, "value", 0.0f);
    else if (c) {
        if (c->dtype != x->dtype || ir_tensor_numel(c) != 1)
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "constant_value must be one %s",
                                  ir_dtype_name(x->dtype));
        cv = ir_tensor_get_f64(c, 0);
    }
    ir_tensor *o;
    if ((s = ir_tensor_create(x->dtype, x->rank, dims, &o, a->diag)) != IR_OK)
        return s;
    size_t es = ir_dtype_size(x->dtype);
    int64_t xstride[IR_MAX_RANK], idx[IR_MAX_RANK] = {0}, st = 1;
    for (int i = x->rank - 1; i >= 0; i--) {
        xstride[i] = st;
        st *= x->dims[i];
    }
    int64_t n = ir_tensor_numel(o);
    for (int64_t j = 0; j < n; j++) {
        int64_t src = 0;
        for (int i = 0; i < x->rank && src >= 0; i++) {
            int64_t k = pad_source(p.mode, idx[i], p.begin[i], x->dims[i]);
            src = k < 0 ? -1 : src + k * xstride[i];
        }
        if (src < 0)
            ir_tensor_set_f64(o, j, cv);
        else
            memcpy((char *)o->data + (size_t)j * es,
                   (const char *)x->data + (size_t)src * es, es);
        for (int i = x->rank - 1; i >= 0; i--) {
            if (++idx[i] < dims[i])
                break;
            idx[i] = 0;
        }
    }
    a->outputs[0] = o;
    return IR_OK;
}

ir_status ir_infer_PAD(ir_infer_args *a)
{
    const ir_value *x = a->node->inputs[0];
    ir_value *out = a->node->outputs[0];
    if (!x)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "input 0 is missing");
    out->dtype = x->dtype;
    out->rank = x->rank;
    if (x->rank < 0)
        return IR_OK;
    const ir_value *pv = a->node->n_inputs > 1 ? a->node->inputs[1] : NULL;
    const ir_value *av = a->node->n_inputs > 3 ? a->node->inputs[3] : NULL;
    bool known = a->opset < 11 || (pv && pv->constant && (!av || av->constant));
    pad_spec p;
    if (known) {
        ir_status s = pad_spec_make(a->node, a->opset, x->rank,
                                    pv ? pv->constant : NULL,
                                    av ? av->constant : NULL, &p, a->diag);
        if (s != IR_OK)
            return s;
    }
    for (int i = 0; i < x->rank; i++) {
        if (known && ir_dim_known(x->dims[i]))
            out->dims[i] = ir_dim_const(x->dims[i].size + p.begin[i] + p.end[i]);
        else if (known && p.begin[i] == 0 && p.end[i] == 0)
            out->dims[i] = x->dims[i];
        else
            out->dims[i] = ir_dim_unknown();
    }
    return IR_OK;
}

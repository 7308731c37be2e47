/* simplify_shapes.c — removes the shape arithmetic exporters write.
 *
 * torch.onnx.export writes chains such as
 *     Shape(x) -> Gather(1) -> Unsqueeze -> Concat(.., [4], [8]) -> Reshape
 *     Slice(position_ids, [0], Unsqueeze(Gather(Shape(input_ids), 1)), [1])
 *     Expand(token_types, Where(Equal(S, -1), ones, S)), S = Concat(b, s)
 * which hide a static structure behind runtime computation. This pass
 * works out, for every small integer tensor, a symbolic "shape expression":
 * each element is a known number, dim(V, k) (the size of axis k of value V)
 * or unknown. Then consumers are rewritten by the table `rewrites` below
 * (STYLE.md 6: {comment, op, rewrite}; a rewrite may decline):
 *   - an input whose expression is all numbers becomes a constant;
 *   - Reshape gets a constant shape (0 = copy the data's dim at the same
 *     position, -1 = the one remaining size; ONNX Reshape-14, allowzero 0);
 *   - Slice ending at dim(V, k) becomes SliceLike(data, V);
 *   - Expand / ConstantOfShape to a shape of dims of V become
 *     ExpandLike(data, V);
 *   - Range(c, dim(V, k), d) becomes RangeLike(V).
 * The internal ops live in ir/ops/internal.c; lower-internal turns them back
 * into standard ONNX. The dead Shape chains are left for fold and dce.
 *
 * Expressions are evaluated with ONNX semantics (Gather-13, Slice-13,
 * Concat-13, Equal-13, Where-16, ConstantOfShape-9, Add/Sub/Mul/Div-14);
 * an op not listed makes its result unknown, which only makes rewrites
 * decline.
 */
#include "passes/pass.h"
#include "ir/ops/kernel.h"

#include <stdlib.h>
#include <string.h>

#define SX_MAX 16 /* longest tensor analysed (shape vectors are short) */

typedef enum { SX_CONST, SX_DIM, SX_ANY } sx_kind;

typedef struct sx_elem {
    sx_kind kind;
    int64_t c;           /* SX_CONST; for SX_DIM an upper clamp: the element
                            is min(dim, c) (Min-13 of a dim and a number),
                            SX_NO_CLAMP when none */
    const ir_value *v;   /* SX_DIM: size of axis `axis` of v */
    int axis;
} sx_elem;

#define SX_NO_CLAMP INT64_MAX

typedef struct sx_expr {
    int n;               /* element count */
    sx_elem e[SX_MAX];
} sx_expr;

typedef struct simplify {
    ir_graph *g;
    pass_ctx *ctx;
    int cap;             /* values the memo has room for */
    unsigned char *state; /* per value id: 0 not yet, 1 known, 2 unknown, 3 busy */
    sx_expr *memo;
    bool *remove;        /* per node id */
    int rewrites;
} simplify;

static const sx_expr *sx_of(simplify *s, const ir_value *v, int depth);

/* Integer tensors, and f32 ones (exporters cast shapes to float for Min
 * or Div) as long as their values are whole numbers. */
static bool is_shape_dtype(ir_dtype t)
{
    return t == IR_DT_I64 || t == IR_DT_I32 || t == IR_DT_BOOL ||
           t == IR_DT_F32;
}

static sx_elem sx_const(int64_t c)
{
    sx_elem e = {SX_CONST, c, NULL, 0};
    return e;
}

static sx_elem sx_any(void)
{
    sx_elem e = {SX_ANY, 0, NULL, 0};
    return e;
}

/* dim(v, axis), a number when the size is known. */
static sx_elem sx_dim(const ir_value *v, int axis)
{
    if (v->dims[axis].size >= 0)
        return sx_const(v->dims[axis].size);
    sx_elem e = {SX_DIM, SX_NO_CLAMP, v, axis};
    return e;
}

/* A plain dim: no clamp. Rewrites other than Slice need these. */
static bool sx_plain_dim(const sx_elem *e)
{
    return e->kind == SX_DIM && e->c == SX_NO_CLAMP;
}

static bool sx_all_const(const sx_expr *x)
{
    for (int i = 0; i < x->n; i++)
        if (x->e[i].kind != SX_CONST)
            return false;
    return true;
}

/* Two dims known equal: same value and axis, or the same named symbol. */
static bool sx_dim_same(const sx_elem *a, const sx_elem *b)
{
    if (!sx_plain_dim(a) || !sx_plain_dim(b))
        return false;
    if (a->v == b->v && a->axis == b->axis)
        return true;
    return ir_dim_equal(a->v->dims[a->axis], b->v->dims[b->axis]);
}

/* Element i of x under numpy broadcasting of a 1-element tensor. */
static const sx_elem *sx_at(const sx_expr *x, int i)
{
    return &x->e[x->n == 1 ? 0 : i];
}

/* Elementwise arithmetic on two shape expressions (Add/Sub/Mul/Div-14,
 * Min/Max-13); dt is the result's dtype (Div truncates on integers and
 * must be exact on floats to stay a whole number). */
static sx_elem sx_arith(ir_op op, ir_dtype dt, const sx_elem *a,
                        const sx_elem *b)
{
    if (a->kind == SX_CONST && b->kind == SX_CONST) {
        int64_t x = a->c, y = b->c;
        switch (op) {
        case IR_OP_ADD: return sx_const(x + y);
        case IR_OP_SUB: return sx_const(x - y);
        case IR_OP_MUL: return sx_const(x * y);
        case IR_OP_MIN: return sx_const(x < y ? x : y);
        case IR_OP_MAX: return sx_const(x > y ? x : y);
        case IR_OP_DIV:
            if (y == 0 || (dt == IR_DT_F32 && x % y != 0))
                return sx_any();
            return sx_const(x / y);
        default: return sx_any();
        }
    }
    /* min(dim, c): a clamped dim (torch's position-id slices) */
    if (op == IR_OP_MIN && (a->kind == SX_DIM || b->kind == SX_DIM)) {
        const sx_elem *d = a->kind == SX_DIM ? a : b, *o = a->kind == SX_DIM ? b : a;
        if (o->kind != SX_CONST)
            return sx_any();
        sx_elem r = *d;
        r.c = o->c < d->c ? o->c : d->c;
        return r;
    }
    if (!(a->kind == SX_CONST || sx_plain_dim(a)) ||
        !(b->kind == SX_CONST || sx_plain_dim(b)))
        return sx_any();
    /* identities keep a dim a dim: d+0, d-0, d*1, 1*d, d/1 */
    bool bz = b->kind == SX_CONST && b->c == 0;
    bool b1 = b->kind == SX_CONST && b->c == 1;
    bool a0 = a->kind == SX_CONST && a->c == 0;
    bool a1 = a->kind == SX_CONST && a->c == 1;
    if ((op == IR_OP_ADD || op == IR_OP_SUB) && bz)
        return *a;
    if (op == IR_OP_ADD && a0)
        return *b;
    if ((op == IR_OP_MUL || op == IR_OP_DIV) && b1)
        return *a;
    if (op == IR_OP_MUL && a1)
        return *b;
    if (op == IR_OP_SUB && sx_dim_same(a, b))
        return sx_const(0);
    if (op == IR_OP_DIV && sx_dim_same(a, b))
        return sx_const(1);
    return sx_any();
}

/* Equal-13 on one element pair: dims are never negative. */
static sx_elem sx_equal(const sx_elem *a, const sx_elem *b)
{
    if (a->kind == SX_CONST && b->kind == SX_CONST)
        return sx_const(a->c == b->c);
    if (a->kind == SX_DIM && b->kind == SX_CONST && b->c < 0)
        return sx_const(0);
    if (b->kind == SX_DIM && a->kind == SX_CONST && a->c < 0)
        return sx_const(0);
    if (a->kind == SX_DIM && b->kind == SX_CONST && b->c > a->c)
        return sx_const(0); /* beyond the clamp */
    if (b->kind == SX_DIM && a->kind == SX_CONST && a->c > b->c)
        return sx_const(0);
    if (sx_dim_same(a, b))
        return sx_const(1);
    return sx_any();
}

/* One function per op family: the shape expression of the node's only
 * output, from its inputs' expressions in[0..3] (NULL: unknown). */
typedef struct sx_args {
    simplify *s;
    const ir_node *n;
    const ir_value *v;          /* the output */
    const sx_expr *const *in;   /* [4] */
    int depth;
} sx_args;

static bool sx_op_shape(const sx_args *args, sx_expr *out)
{
    const ir_node *n = args->n;
    const ir_value *x = n->inputs[0];
    if (!x || x->rank < 0)
        return false;
    int64_t r = x->rank;
    int64_t st = ir_node_attr_int(n, "start", 0);
    int64_t en = ir_node_attr_int(n, "end", r);
    if (st < 0) st += r;
    if (en < 0) en += r;
    st = st < 0 ? 0 : (st > r ? r : st);
    en = en < 0 ? 0 : (en > r ? r : en);
    for (int64_t i = st; i < en; i++)
        out->e[out->n++] = sx_dim(x, (int)i);
    return true;
}

static bool sx_op_size(const sx_args *args, sx_expr *out)
{
    const ir_node *n = args->n;
    const ir_value *x = n->inputs[0];
    out->n = 1;
    out->e[0] = sx_any();
    if (x && x->rank >= 0) {
        int64_t p = 1;
        for (int i = 0; i < x->rank && p >= 0; i++)
            p = x->dims[i].size >= 0 ? p * x->dims[i].size : -1;
        if (p >= 0)
            out->e[0] = sx_const(p);
    }
    return true;
}

static bool sx_op_same_elements(const sx_args *args, sx_expr *out)
{
    const sx_expr *const *in = args->in;
    /* same elements in the same order, only the rank changes */
    if (!in[0])
        return false;
    *out = *in[0];
    return true;
}

static bool sx_op_cast(const sx_args *args, sx_expr *out)
{
    const ir_node *n = args->n;
    const sx_expr *const *in = args->in;
    if (!in[0])
        return false;
    int64_t to = ir_node_attr_int(n, "to", 0);
    if (to == IR_DT_BOOL) {
        out->n = in[0]->n;
        for (int i = 0; i < out->n; i++)
            out->e[i] = in[0]->e[i].kind == SX_CONST
                ? sx_const(in[0]->e[i].c != 0) : sx_any();
        return true;
    }
    if (to != IR_DT_I64 && to != IR_DT_I32 && to != IR_DT_F32)
        return false;
    *out = *in[0];
    return true;
}

static bool sx_op_gather(const sx_args *args, sx_expr *out)
{
    const ir_node *n = args->n;
    const sx_expr *const *in = args->in;
    if (!in[0] || !in[1] || ir_node_attr_int(n, "axis", 0) != 0)
        return false;
    for (int i = 0; i < in[1]->n; i++) {
        const sx_elem *ix = &in[1]->e[i];
        if (ix->kind != SX_CONST)
            return false;
        int64_t j = ix->c < 0 ? ix->c + in[0]->n : ix->c;
        if (j < 0 || j >= in[0]->n)
            return false;
        out->e[out->n++] = in[0]->e[j];
    }
    return true;
}

static bool sx_op_concat(const sx_args *args, sx_expr *out)
{
    simplify *s = args->s;
    const ir_node *n = args->n;
    const sx_expr *const *in = args->in;
    int depth = args->depth;
    for (int k = 0; k < n->n_inputs; k++) {
        const sx_expr *x = k < 4 ? in[k] : sx_of(s, n->inputs[k], depth + 1);
        if (!x || out->n + x->n > SX_MAX)
            return false;
        memcpy(&out->e[out->n], x->e, sizeof(sx_elem) * (size_t)x->n);
        out->n += x->n;
    }
    return true;
}

static bool sx_op_slice(const sx_args *args, sx_expr *out)
{
    simplify *s = args->s;
    const ir_node *n = args->n;
    const sx_expr *const *in = args->in;
    int depth = args->depth;
    /* Slice-13 on a 1-D tensor: axes must be [0] (or absent). */
    const sx_expr *x = in[0], *st = in[1], *en = in[2], *ax = in[3];
    const sx_expr *sp = n->n_inputs > 4 && n->inputs[4]
        ? sx_of(s, n->inputs[4], depth + 1) : NULL;
    if (!x || !st || !en || st->n != 1 || en->n != 1 ||
        !sx_all_const(st) || !sx_all_const(en))
        return false;
    if (n->n_inputs > 3 && n->inputs[3] &&
        (!ax || ax->n != 1 || ax->e[0].kind != SX_CONST ||
         (ax->e[0].c != 0 && ax->e[0].c != -1)))
        return false;
    int64_t step = 1;
    if (n->n_inputs > 4 && n->inputs[4]) {
        if (!sp || sp->n != 1 || sp->e[0].kind != SX_CONST || sp->e[0].c == 0)
            return false;
        step = sp->e[0].c;
    }
    int64_t dim = x->n, b = st->e[0].c, e = en->e[0].c;
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    if (step > 0) {
        b = b < 0 ? 0 : (b > dim ? dim : b);
        e = e < 0 ? 0 : (e > dim ? dim : e);
        for (int64_t i = b; i < e; i += step)
            out->e[out->n++] = x->e[i];
    } else {
        b = b < 0 ? -1 : (b > dim - 1 ? dim - 1 : b);
        e = e < -1 ? -1 : (e > dim - 1 ? dim - 1 : e);
        for (int64_t i = b; i > e; i += step)
            out->e[out->n++] = x->e[i];
    }
    return true;
}

static bool sx_op_binary(const sx_args *args, sx_expr *out)
{
    const ir_node *n = args->n;
    const ir_value *v = args->v;
    const sx_expr *const *in = args->in;
    const sx_expr *a = in[0], *b = n->n_inputs > 1 ? in[1] : in[0];
    if (!a || !b || n->n_inputs > 2)
        return false;
    if (a->n != b->n && a->n != 1 && b->n != 1)
        return false;
    out->n = a->n > b->n ? a->n : b->n;
    for (int i = 0; i < out->n; i++)
        out->e[i] = n->op == IR_OP_EQUAL
            ? sx_equal(sx_at(a, i), sx_at(b, i))
            : sx_arith(n->op, v->dtype, sx_at(a, i), sx_at(b, i));
    return true;
}

static bool sx_op_where(const sx_args *args, sx_expr *out)
{
    const sx_expr *const *in = args->in;
    const sx_expr *c = in[0], *a = in[1], *b = in[2];
    if (!c || !a || !b)
        return false;
    int m = c->n > a->n ? c->n : a->n;
    m = m > b->n ? m : b->n;
    if ((c->n != m && c->n != 1) || (a->n != m && a->n != 1) ||
        (b->n != m && b->n != 1))
        return false;
    out->n = m;
    for (int i = 0; i < m; i++) {
        const sx_elem *ce = sx_at(c, i);
        out->e[i] = ce->kind != SX_CONST ? sx_any()
                  : (ce->c ? *sx_at(a, i) : *sx_at(b, i));
    }
    return true;
}

static bool sx_op_reduce(const sx_args *args, sx_expr *out)
{
    const ir_node *n = args->n;
    const sx_expr *const *in = args->in;
    /* ReduceProd/ReduceSum-13 of a whole vector: one element */
    const sx_expr *x = in[0];
    if (!x || (n->n_inputs > 1 && n->inputs[1] && !in[1]))
        return false;
    bool prod = n->op == IR_OP_REDUCE_PROD;
    sx_elem acc = sx_const(prod ? 1 : 0);
    for (int i = 0; i < x->n; i++)
        acc = sx_arith(prod ? IR_OP_MUL : IR_OP_ADD, IR_DT_I64, &acc,
                       &x->e[i]);
    out->n = 1;
    out->e[0] = acc;
    return true;
}

static bool sx_op_constant_of_shape(const sx_args *args, sx_expr *out)
{
    const ir_node *n = args->n;
    const sx_expr *const *in = args->in;
    /* a 1-D result: shape = [k] with k known */
    const sx_expr *sh = in[0];
    if (!sh || sh->n != 1 || sh->e[0].kind != SX_CONST ||
        sh->e[0].c < 0 || sh->e[0].c > SX_MAX)
        return false;
    int64_t val = 0;
    ir_attr *at = ir_node_attr(n, "value");
    if (at && at->kind == IR_ATTR_TENSOR && at->t) {
        if (ir_tensor_numel(at->t) != 1)
            return false;
        double d = ir_tensor_get_f64(at->t, 0);
        if (d != (double)(int64_t)d)
            return false;
        val = (int64_t)d;
    }
    out->n = (int)sh->e[0].c;
    for (int i = 0; i < out->n; i++)
        out->e[i] = sx_const(val);
    return true;
}

/* Shape expression of a node's output value (the node's only output). */
static bool sx_eval_node(simplify *s, const ir_node *n, const ir_value *v,
                         sx_expr *out, int depth)
{
    const sx_expr *in[4] = {NULL, NULL, NULL, NULL};
    for (int k = 0; k < n->n_inputs && k < 4; k++)
        if (n->inputs[k])
            in[k] = sx_of(s, n->inputs[k], depth + 1);
    out->n = 0;
    sx_args a = {s, n, v, in, depth};
    switch (n->op) {
    case IR_OP_SHAPE:
        return sx_op_shape(&a, out);
    case IR_OP_SIZE:
        return sx_op_size(&a, out);
    case IR_OP_IDENTITY:
    case IR_OP_UNSQUEEZE:
    case IR_OP_SQUEEZE:
    case IR_OP_RESHAPE:
        return sx_op_same_elements(&a, out);
    case IR_OP_CAST:
        return sx_op_cast(&a, out);
    case IR_OP_GATHER:
        return sx_op_gather(&a, out);
    case IR_OP_CONCAT:
        return sx_op_concat(&a, out);
    case IR_OP_SLICE:
        return sx_op_slice(&a, out);
    case IR_OP_ADD:
    case IR_OP_SUB:
    case IR_OP_MUL:
    case IR_OP_DIV:
    case IR_OP_MIN:
    case IR_OP_MAX:
    case IR_OP_EQUAL:
        return sx_op_binary(&a, out);
    case IR_OP_WHERE:
        return sx_op_where(&a, out);
    case IR_OP_REDUCE_PROD:
    case IR_OP_REDUCE_SUM:
        return sx_op_reduce(&a, out);
    case IR_OP_CONSTANT_OF_SHAPE:
        return sx_op_constant_of_shape(&a, out);
    default:
        return false;
    }
}

/* The shape expression of v, or NULL when v is not a small integer tensor
 * whose elements can be described. Memoised per value. */
static const sx_expr *sx_of(simplify *s, const ir_value *v, int depth)
{
    if (!v || depth > 64 || !is_shape_dtype(v->dtype))
        return NULL;
    if (v->rank > 1 || (v->rank == 1 && v->dims[0].size > SX_MAX))
        return NULL;
    bool cached = v->id < s->cap && s->g->values[v->id] == v;
    if (cached && s->state[v->id] == 1)
        return &s->memo[v->id];
    if (cached && s->state[v->id] >= 2)
        return NULL;
    sx_expr x;
    bool ok = false;
    if (v->constant) {
        int64_t n = ir_tensor_numel(v->constant);
        if (n >= 0 && n <= SX_MAX && v->constant->rank <= 1) {
            x.n = (int)n;
            ok = true;
            for (int i = 0; i < x.n; i++) {
                double d = ir_tensor_get_f64(v->constant, i);
                if (d != (double)(int64_t)d || d > 9.0e15 || d < -9.0e15)
                    ok = false; /* not a whole number: not a shape */
                x.e[i] = sx_const(ir_tensor_get_i64(v->constant, i));
            }
        }
    } else if (v->producer && v->producer->n_outputs == 1 && cached) {
        s->state[v->id] = 3; /* guards against a cycle */
        ok = sx_eval_node(s, v->producer, v, &x, depth);
        /* the element count must agree with the inferred length */
        if (ok && v->rank == 1 && v->dims[0].size >= 0 && v->dims[0].size != x.n)
            ok = false;
        if (ok && v->rank == 0 && x.n != 1)
            ok = false;
        if (!ok && (v->rank == 0 || (v->rank == 1 && v->dims[0].size >= 0))) {
            /* an op not understood (ReduceProd of dims, say): its elements
             * are unknown but their count is, which still lets a Reshape
             * take -1 there */
            x.n = v->rank == 0 ? 1 : (int)v->dims[0].size;
            for (int i = 0; i < x.n; i++)
                x.e[i] = sx_any();
            ok = true;
        }
    }
    if (!cached)
        return NULL;
    s->state[v->id] = ok ? 1 : 2;
    if (ok)
        s->memo[v->id] = x;
    return ok ? &s->memo[v->id] : NULL;
}

/* ---- helpers for rewrites ------------------------------------------------ */

static ir_value *new_i64_const(simplify *s, const char *base, int rank,
                               int n, const int64_t *vals)
{
    int64_t len = n;
    ir_tensor *t = ir_tensor_new(IR_DT_I64, rank, rank ? &len : NULL);
    if (!t)
        return NULL;
    for (int i = 0; i < n; i++)
        ((int64_t *)t->data)[i] = vals[i];
    return ir_graph_add_constant(s->g, ir_graph_unique_name(s->g, base), t);
}

/* Replaces node n by a new node of op `op` writing n's outputs. */
static ir_node *replace_node(simplify *s, ir_node *n, ir_op op, int n_in,
                             ir_value *const *ins)
{
    ir_node *m = ir_graph_add_node_with_outputs(
        s->g, op, ir_graph_strfmt(s->g, "%s_%s", n->name, ir_op_name(op)),
        n_in, ins, n->n_outputs, n->outputs);
    if (m)
        s->remove[n->id] = true;
    return m;
}

/* Finds one `like` value for a list of dims and the axis of each in it: the
 * first dim's value, and for every other dim an axis of it with the same
 * size. Constants give axis -1. False when the dims do not share a value. */
static bool like_axes_of(const sx_expr *x, const ir_value **like,
                         int64_t *axes, int64_t *sizes)
{
    *like = NULL;
    for (int i = 0; i < x->n; i++)
        if (x->e[i].kind == SX_DIM) {
            *like = x->e[i].v;
            break;
        }
    if (!*like)
        return false;
    for (int i = 0; i < x->n; i++) {
        const sx_elem *e = &x->e[i];
        sizes[i] = 1;
        axes[i] = -1;
        if (e->kind == SX_ANY || (e->kind == SX_DIM && !sx_plain_dim(e)))
            return false;
        if (e->kind == SX_CONST) {
            if (e->c < 0)
                return false;
            sizes[i] = e->c;
            continue;
        }
        if (e->v == *like) {
            axes[i] = e->axis;
            continue;
        }
        for (int k = 0; k < (*like)->rank && axes[i] < 0; k++) {
            sx_elem cand = {SX_DIM, 0, *like, k};
            if (sx_dim_same(&cand, e))
                axes[i] = k;
        }
        if (axes[i] < 0)
            return false;
    }
    return true;
}

/* ---- the rewrites -------------------------------------------------------- */

/* Every input (from slot `first` on) that computes to known numbers becomes
 * a constant. Returns 1 if something changed. */
static int rw_constant_inputs(simplify *s, ir_node *n)
{
    int changed = 0;
    for (int k = 0; k < n->n_inputs; k++) {
        ir_value *v = n->inputs[k];
        if (!v || v->constant || !v->producer || v->rank < 0 ||
            (v->rank == 1 && v->dims[0].size < 0))
            continue;
        const sx_expr *x = sx_of(s, v, 0);
        if (!x || !sx_all_const(x))
            continue;
        int64_t len = x->n;
        ir_tensor *t = ir_tensor_new(v->dtype, v->rank, v->rank ? &len : NULL);
        if (!t)
            return -1;
        for (int i = 0; i < x->n; i++)
            ir_tensor_set_f64(t, i, (double)x->e[i].c);
        ir_value *c = ir_graph_add_constant(
            s->g, ir_graph_unique_name(s->g, ir_graph_strfmt(s->g, "%s_c", v->name)), t);
        if (!c)
            return -1;
        ir_node_set_input(n, k, c);
        changed = 1;
    }
    return changed;
}

/* Reshape-14 to a shape of dims: constant shape with 0 (copy the dim at the
 * same position) and at most one -1. */
static int rw_reshape(simplify *s, ir_node *n)
{
    ir_value *data = n->inputs[0], *shape = n->inputs[1];
    if (!data || !shape || shape->constant)
        return 0;
    const sx_expr *x = sx_of(s, shape, 0);
    if (!x || x->n == 0)
        return 0;
    bool allowzero = ir_node_attr_int(n, "allowzero", 0) != 0;
    int64_t out[SX_MAX];
    int unknown = 0;
    for (int i = 0; i < x->n; i++) {
        const sx_elem *e = &x->e[i];
        if (e->kind == SX_CONST) {
            out[i] = e->c;
            if (e->c == -1)
                unknown++;
            continue;
        }
        if (sx_plain_dim(e) && !allowzero && i < data->rank) {
            sx_elem same = sx_dim(data, i);
            if ((e->v == data && e->axis == i) || sx_dim_same(e, &same)) {
                out[i] = 0;
                continue;
            }
        }
        out[i] = -1;
        unknown++;
    }
    if (unknown > 1)
        return 0;
    ir_value *c = new_i64_const(s, ir_graph_strfmt(s->g, "%s_shape", n->name),
                                1, x->n, out);
    if (!c)
        return -1;
    ir_node_set_input(n, 1, c);
    return 1;
}

/* Slice-13 whose ends are dims: each axis ending at dim(V, k) (start a
 * number >= 0, step 1) becomes a SliceLike(.., V); the axes with numeric
 * ends stay in one ordinary Slice with constant inputs in front. An end
 * min(dim, c) is accepted when c >= the data's size on that axis, since
 * Slice clamps the end to that size anyway. */
static int rw_slice(simplify *s, ir_node *n)
{
    ir_value *data = n->inputs[0];
    if (n->n_inputs < 3 || !data)
        return 0;
    const sx_expr *st = sx_of(s, n->inputs[1], 0);
    const sx_expr *en = sx_of(s, n->inputs[2], 0);
    const sx_expr *ax = n->n_inputs > 3 && n->inputs[3]
        ? sx_of(s, n->inputs[3], 0) : NULL;
    const sx_expr *sp = n->n_inputs > 4 && n->inputs[4]
        ? sx_of(s, n->inputs[4], 0) : NULL;
    if (!st || !en || st->n != en->n || en->n == 0 || en->n > IR_MAX_RANK ||
        !sx_all_const(st) || (n->n_inputs > 3 && n->inputs[3] && !ax) ||
        (n->n_inputs > 4 && n->inputs[4] && !sp))
        return 0;
    if ((ax && (ax->n != en->n || !sx_all_const(ax))) ||
        (sp && (sp->n != en->n || !sx_all_const(sp))))
        return 0;
    int m = en->n, n_dim = 0, n_num = 0;
    int64_t nums[4][IR_MAX_RANK]; /* starts, ends, axes, steps of numeric axes */
    for (int i = 0; i < m; i++) {
        int64_t axis = ax ? ax->e[i].c : i;
        int64_t step = sp ? sp->e[i].c : 1;
        const sx_elem *e = &en->e[i];
        if (e->kind == SX_CONST) {
            nums[0][n_num] = st->e[i].c;
            nums[1][n_num] = e->c;
            nums[2][n_num] = axis;
            nums[3][n_num] = step;
            n_num++;
            continue;
        }
        if (e->kind != SX_DIM || step != 1 || st->e[i].c < 0)
            return 0;
        if (e->c != SX_NO_CLAMP) {
            int a;
            if (data->rank < 0 || !ir_axis_normalize(axis, data->rank, &a) ||
                data->dims[a].size < 0 || e->c < data->dims[a].size)
                return 0;
        }
        n_dim++;
    }
    if (n_dim == 0)
        return 0;
    ir_value *cur = data;
    if (n_num > 0) {
        ir_value *ins[5] = {cur, NULL, NULL, NULL, NULL};
        for (int k = 0; k < 4; k++)
            if (!(ins[k + 1] = new_i64_const(
                      s, ir_graph_strfmt(s->g, "%s_num", n->name), 1, n_num,
                      nums[k])))
                return -1;
        ir_node *sl = ir_graph_add_node(
            s->g, IR_OP_SLICE, ir_graph_strfmt(s->g, "%s_num", n->name), 5,
            ins, 1);
        if (!sl)
            return -1;
        cur = sl->outputs[0];
    }
    int done = 0;
    for (int i = 0; i < m; i++) {
        const sx_elem *e = &en->e[i];
        if (e->kind != SX_DIM)
            continue;
        ir_value *ins[2] = {cur, (ir_value *)e->v};
        ir_node *sl;
        if (++done == n_dim) {
            sl = replace_node(s, n, IR_OP_SLICE_LIKE, 2, ins);
        } else {
            sl = ir_graph_add_node(
                s->g, IR_OP_SLICE_LIKE,
                ir_graph_strfmt(s->g, "%s_SliceLike%d", n->name, i), 2, ins, 1);
        }
        if (!sl)
            return -1;
        ir_node_set_attr_int(s->g, sl, "axis", ax ? ax->e[i].c : i);
        ir_node_set_attr_int(s->g, sl, "like_axis", e->axis);
        ir_node_set_attr_int(s->g, sl, "start", st->e[i].c);
        cur = sl->outputs[0];
    }
    return 1;
}

/* Sets ExpandLike's attributes from a shape expression. */
static bool set_expand_attrs(simplify *s, ir_node *m, int n,
                             const int64_t *axes, const int64_t *sizes)
{
    return ir_node_set_attr_ints(s->g, m, "like_axes", n, axes) &&
           ir_node_set_attr_ints(s->g, m, "sizes", n, sizes);
}

/* Expand-13 to a shape made of dims of one value: ExpandLike. */
static int rw_expand(simplify *s, ir_node *n)
{
    const sx_expr *x = sx_of(s, n->inputs[1], 0);
    const ir_value *like;
    int64_t axes[SX_MAX], sizes[SX_MAX];
    if (!x || x->n > IR_MAX_RANK || !like_axes_of(x, &like, axes, sizes))
        return 0;
    ir_value *ins[2] = {n->inputs[0], (ir_value *)like};
    ir_node *m = replace_node(s, n, IR_OP_EXPAND_LIKE, 2, ins);
    if (!m || !set_expand_attrs(s, m, x->n, axes, sizes))
        return -1;
    return 1;
}

/* ConstantOfShape-9 of dims of one value: ExpandLike of the scalar. */
static int rw_constant_of_shape(simplify *s, ir_node *n)
{
    const sx_expr *x = sx_of(s, n->inputs[0], 0);
    const ir_value *like;
    int64_t axes[SX_MAX], sizes[SX_MAX];
    if (!x || x->n > IR_MAX_RANK || !like_axes_of(x, &like, axes, sizes))
        return 0;
    ir_attr *at = ir_node_attr(n, "value");
    ir_tensor *t;
    if (at && at->kind == IR_ATTR_TENSOR && at->t) {
        if (ir_tensor_numel(at->t) != 1)
            return 0;
        t = ir_tensor_new(at->t->dtype, 0, NULL);
        if (t)
            memcpy(t->data, at->t->data, ir_dtype_size(t->dtype));
    } else {
        t = ir_tensor_new(IR_DT_F32, 0, NULL); /* default: float 0 */
    }
    if (!t)
        return -1;
    ir_value *scalar = ir_graph_add_constant(
        s->g, ir_graph_unique_name(s->g, ir_graph_strfmt(s->g, "%s_value", n->name)), t);
    if (!scalar)
        return -1;
    ir_value *ins[2] = {scalar, (ir_value *)like};
    ir_node *m = replace_node(s, n, IR_OP_EXPAND_LIKE, 2, ins);
    if (!m || !set_expand_attrs(s, m, x->n, axes, sizes))
        return -1;
    return 1;
}

/* Range-11(c, dim(V, k), d) with integer c, d: RangeLike. */
static int rw_range(simplify *s, ir_node *n)
{
    const ir_value *start = n->inputs[0], *delta = n->inputs[2];
    ir_dtype dt = start->dtype;
    if (!start->constant || !delta->constant ||
        (dt != IR_DT_I64 && dt != IR_DT_I32))
        return 0;
    const sx_expr *lim = sx_of(s, n->inputs[1], 0);
    if (!lim || lim->n != 1 || !sx_plain_dim(&lim->e[0]))
        return 0;
    ir_value *ins[1] = {(ir_value *)lim->e[0].v};
    int64_t c = ir_tensor_get_i64(start->constant, 0);
    int64_t d = ir_tensor_get_i64(delta->constant, 0);
    ir_node *m = replace_node(s, n, IR_OP_RANGE_LIKE, 1, ins);
    if (!m)
        return -1;
    ir_node_set_attr_int(s->g, m, "like_axis", lim->e[0].axis);
    ir_node_set_attr_int(s->g, m, "start", c);
    ir_node_set_attr_int(s->g, m, "delta", d);
    ir_node_set_attr_int(s->g, m, "dtype", dt);
    return 1;
}

/* Grows the memo to cover every value of the graph. */
static bool memo_reserve(simplify *s)
{
    if (s->cap >= s->g->n_values && s->state)
        return true;
    int cap = s->g->n_values + 256;
    unsigned char *st = realloc(s->state, (size_t)cap);
    if (!st)
        return false;
    s->state = st;
    sx_expr *m = realloc(s->memo, sizeof(sx_expr) * (size_t)cap);
    if (!m)
        return false;
    s->memo = m;
    memset(s->state + s->cap, 0, (size_t)(cap - s->cap));
    s->cap = cap;
    return true;
}

typedef struct rewrite {
    const char *comment;
    ir_op op;                 /* IR_OP_COUNT: any op */
    int (*fn)(simplify *s, ir_node *n); /* 1 done, 0 declined, <0 no memory */
} rewrite;

static const rewrite rewrites[] = {
    {"inputs computed from known dims become constants", IR_OP_COUNT,
     rw_constant_inputs},
    {"Reshape to dims: constant shape with 0 / -1", IR_OP_RESHAPE, rw_reshape},
    {"Slice to dim(V,k): SliceLike(data, V)", IR_OP_SLICE, rw_slice},
    {"Expand to dims of V: ExpandLike(data, V)", IR_OP_EXPAND, rw_expand},
    {"ConstantOfShape of dims of V: ExpandLike(value, V)",
     IR_OP_CONSTANT_OF_SHAPE, rw_constant_of_shape},
    {"Range(c, dim(V,k), d): RangeLike(V)", IR_OP_RANGE, rw_range},
};

/* One sweep of the rewrite table over the nodes; *count gets the number of
 * rewrites made. */
static ir_status simplify_round(ir_graph *g, pass_ctx *ctx, int *count)
{
    simplify s = {.g = g, .ctx = ctx};
    int n_nodes = g->n_nodes;
    ir_node **nodes = malloc(sizeof(ir_node *) * ((size_t)n_nodes + 1));
    /* nodes added by rewrites have ids up to next_node_id + n_nodes */
    s.remove = calloc((size_t)g->next_node_id + (size_t)n_nodes + 1, sizeof(bool));
    ir_status st = IR_OK;
    if (!memo_reserve(&s) || !nodes || !s.remove) {
        st = ir_diag_set(ctx->diag, IR_ERR_NOMEM, "out of memory in simplify-shapes");
        goto done;
    }
    if (n_nodes > 0) /* an empty graph may have no node array at all */
        memcpy(nodes, g->nodes, sizeof(ir_node *) * (size_t)n_nodes);
    for (int i = 0; i < n_nodes; i++) {
        ir_node *n = nodes[i];
        for (size_t r = 0; r < sizeof rewrites / sizeof rewrites[0]; r++) {
            if (s.remove[n->id])
                break;
            if (rewrites[r].op != IR_OP_COUNT && rewrites[r].op != n->op)
                continue;
            /* room for the constants earlier rewrites made; expressions
             * are not held across this call, so moving the memo is safe */
            if (!memo_reserve(&s)) {
                st = ir_diag_set(ctx->diag, IR_ERR_NOMEM, "out of memory");
                goto done;
            }
            int rc = rewrites[r].fn(&s, n);
            if (rc < 0) {
                st = ir_diag_set(ctx->diag, IR_ERR_NOMEM,
                                 "out of memory rewriting node '%s' (%s)",
                                 n->name, ir_op_name(n->op));
                goto done;
            }
            s.rewrites += rc;
        }
    }
    ir_graph_remove_nodes(g, s.remove);
    st = ir_graph_toposort(g, ctx->diag);
done:
    *count = s.rewrites;
    free(s.state);
    free(s.memo);
    free(s.remove);
    free(nodes);
    return st;
}

/* Rewrites, then re-infers shapes so the new ops' outputs carry symbolic
 * dims (SliceLike of position ids is [1,seq], not [1,?]) and folds, so the
 * next round can match what they feed; stops when a round changes
 * nothing. */
ir_status pass_simplify_shapes(ir_graph *g, pass_ctx *ctx)
{
    for (int round = 0; round < 8; round++) {
        int count = 0;
        ir_status st = simplify_round(g, ctx, &count);
        /* folding what became constant (ReduceProd of known dims, say)
         * opens the next round's rewrites */
        if (st == IR_OK && count > 0)
            st = pass_infer_shapes(g, ctx);
        if (st == IR_OK && count > 0)
            st = pass_fold_constants(g, ctx);
        if (st != IR_OK || count == 0)
            return st;
    }
    return IR_OK;
}

/* shape_ops.c — helpers shared by the shape and data-movement kernels: integer
 * lists from tensors and constants, element copies, and symbolic products of
 * dims ("batch*seq") for the infer hooks. See shape_ops.h. */
#include "ir/ops/shape_ops.h"

#include <string.h>

ir_status shp_tensor_ints(const ir_kernel_args *a, const ir_tensor *t,
                          const char *what, int64_t *out, int *n)
{
    if (t->rank > 1)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input '%s' must be 1-D, got rank %d", what,
                              t->rank);
    if (t->dtype != IR_DT_I64 && t->dtype != IR_DT_I32)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input '%s' must be int64 or int32, got %s",
                              what, ir_dtype_name(t->dtype));
    int64_t len = ir_tensor_numel(t);
    if (len < 0 || len > SHP_MAX_LIST)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "input '%s' has %lld entries, more than %d",
                              what, (long long)len, SHP_MAX_LIST);
    for (int64_t i = 0; i < len; i++)
        out[i] = ir_tensor_get_i64(t, i);
    *n = (int)len;
    return IR_OK;
}

bool shp_value_ints(const ir_value *v, int64_t *out, int *n)
{
    if (!v || !v->constant)
        return false;
    const ir_tensor *t = v->constant;
    if (t->rank > 1 || (t->dtype != IR_DT_I64 && t->dtype != IR_DT_I32))
        return false;
    int64_t len = ir_tensor_numel(t);
    if (len < 0 || len > SHP_MAX_LIST)
        return false;
    for (int64_t i = 0; i < len; i++)
        out[i] = ir_tensor_get_i64(t, i);
    *n = (int)len;
    return true;
}

int64_t shp_value_len(const ir_value *v)
{
    if (!v)
        return -1;
    if (v->rank == 0)
        return 1;
    if (v->rank == 1 && ir_dim_known(v->dims[0]))
        return v->dims[0].size;
    return -1;
}

/* depth bounds the recursion and *visits the work: a Concat of Concats
 * of 4,096 inputs each, 16 deep, would otherwise be 4096^16 visits of a
 * value reused under every input. */
enum { SHP_DIMS_MAX_DEPTH = 16, SHP_DIMS_MAX_VISITS = 4096 };

static int value_dims_rec(const ir_value *v, int64_t opset, ir_dim *out,
                          bool *lit, int max, int depth, int *visits)
{
    int64_t k[SHP_MAX_LIST];
    int n;
    if (!v || depth > SHP_DIMS_MAX_DEPTH || ++*visits > SHP_DIMS_MAX_VISITS)
        return -1;
    if (shp_value_ints(v, k, &n)) {
        if (n > max)
            return -1;
        for (int i = 0; i < n; i++) {
            out[i] = ir_dim_const(k[i]);
            lit[i] = true;
        }
        return n;
    }
    const ir_node *p = v->producer;
    if (!p || p->n_inputs < 1 || !p->inputs[0])
        return -1;
    const ir_value *x = p->inputs[0];
    switch (p->op) {
    case IR_OP_SHAPE: {
        if (x->rank < 0)
            return -1;
        int64_t s = 0, e = x->rank;
        if (opset >= 15) { /* Shape-15 start/end, as in constant.c */
            s = ir_node_attr_int(p, "start", 0);
            e = ir_node_attr_int(p, "end", INT64_MAX);
        }
        if (s < 0)
            s += x->rank;
        if (e < 0)
            e += x->rank;
        s = s < 0 ? 0 : s > x->rank ? x->rank : s;
        e = e < s ? s : e > x->rank ? x->rank : e;
        if (e - s > max)
            return -1;
        for (int64_t i = s; i < e; i++) {
            out[i - s] = x->dims[i];
            lit[i - s] = false;
        }
        return (int)(e - s);
    }
    case IR_OP_GATHER: {
        ir_dim src[SHP_MAX_LIST];
        bool src_lit[SHP_MAX_LIST];
        int m = value_dims_rec(x, opset, src, src_lit, SHP_MAX_LIST, depth + 1,
                               visits);
        if (m < 0 || p->n_inputs < 2 || ir_node_attr_int(p, "axis", 0) != 0 ||
            !shp_value_ints(p->inputs[1], k, &n) || n > max)
            return -1;
        for (int i = 0; i < n; i++) {
            int64_t j = k[i] < 0 ? k[i] + m : k[i];
            if (j < 0 || j >= m)
                return -1;
            out[i] = src[j];
            lit[i] = src_lit[j];
        }
        return n;
    }
    case IR_OP_CONCAT: {
        int total = 0;
        for (int i = 0; i < p->n_inputs; i++) {
            int m = value_dims_rec(p->inputs[i], opset, out + total,
                                   lit + total, max - total, depth + 1, visits);
            if (m < 0)
                return -1;
            total += m;
        }
        return total;
    }
    case IR_OP_UNSQUEEZE:
    case IR_OP_SQUEEZE:
    case IR_OP_CAST:
    case IR_OP_IDENTITY:
        /* the values are unchanged; only a 0-D/1-D view moves */
        if (p->op == IR_OP_CAST && !ir_dtype_is_int(v->dtype) &&
            v->dtype != IR_DT_UNDEF)
            return -1;
        return value_dims_rec(x, opset, out, lit, max, depth + 1, visits);
    default:
        return -1;
    }
}

int shp_value_dims(const ir_value *v, int64_t opset, ir_dim *out, bool *lit,
                   int max)
{
    bool scratch[SHP_MAX_LIST];
    if (max > SHP_MAX_LIST)
        max = SHP_MAX_LIST;
    int visits = 0;
    return value_dims_rec(v, opset, out, lit ? lit : scratch, max, 0, &visits);
}

void shp_copy_elems(void *dst, const void *src, size_t nelem, size_t es)
{
    if (nelem)
        memcpy(dst, src, nelem * es);
}

const char *shp_dims_str(int rank, const int64_t *dims, char *buf, size_t n)
{
    size_t off = 0;
    off += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? "," : "",
                                (long long)dims[i]);
    if (off < n)
        snprintf(buf + off, n - off, "]");
    return buf;
}

/* ---- symbolic products --------------------------------------------------- */

void shp_prod_init(shp_prod *p)
{
    memset(p, 0, sizeof *p);
    p->known = 1;
}

static void prod_mul_known(shp_prod *p, int64_t k)
{
    if (k == 0) {
        p->known = 0;
    } else if (p->known != 0) {
        if (p->known > INT64_MAX / k)
            p->unknown = true; /* overflow: give up rather than wrap */
        else
            p->known *= k;
    }
}

/* A factor of a symbol name is all digits: a known size folded into it. */
static bool factor_number(const char *s, int len, int64_t *v)
{
    if (len == 0 || len > 18)
        return false;
    int64_t x = 0;
    for (int i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return true;
}

void shp_prod_mul(shp_prod *p, ir_dim d)
{
    if (ir_dim_known(d)) {
        prod_mul_known(p, d.size);
        return;
    }
    if (!d.sym || !d.sym[0]) {
        p->unknown = true;
        return;
    }
    /* "batch*seq" is the product of batch and seq */
    const char *s = d.sym;
    while (*s) {
        const char *e = strchr(s, '*');
        int len = e ? (int)(e - s) : (int)strlen(s);
        int64_t num;
        if (factor_number(s, len, &num)) {
            prod_mul_known(p, num);
        } else if (p->n_syms < SHP_MAX_SYMS && len > 0) {
            p->sym[p->n_syms] = s;
            p->sym_len[p->n_syms] = len;
            p->n_syms++;
        } else {
            p->unknown = true;
        }
        if (!e)
            break;
        s = e + 1;
    }
}

bool shp_prod_div(const shp_prod *p, const shp_prod *q, shp_prod *out)
{
    if (p->unknown || q->unknown || q->known == 0 || p->known % q->known != 0)
        return false;
    shp_prod r = *p;
    r.known = p->known / q->known;
    for (int i = 0; i < q->n_syms; i++) {
        int hit = -1;
        for (int j = 0; j < r.n_syms && hit < 0; j++)
            if (r.sym_len[j] == q->sym_len[i] &&
                memcmp(r.sym[j], q->sym[i], (size_t)q->sym_len[i]) == 0)
                hit = j;
        if (hit < 0)
            return false;
        for (int j = hit; j + 1 < r.n_syms; j++) {
            r.sym[j] = r.sym[j + 1];
            r.sym_len[j] = r.sym_len[j + 1];
        }
        r.n_syms--;
    }
    *out = r;
    return true;
}

ir_dim shp_prod_dim(ir_graph *g, const shp_prod *p)
{
    if (p->known == 0)
        return ir_dim_const(0); /* zero times anything is zero */
    if (p->unknown)
        return ir_dim_unknown();
    if (p->n_syms == 0)
        return ir_dim_const(p->known);
    char buf[512];
    size_t off = 0;
    for (int i = 0; i < p->n_syms && off < sizeof buf; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%.*s",
                                i ? "*" : "", p->sym_len[i], p->sym[i]);
    if (p->known != 1 && off < sizeof buf)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "*%lld",
                                (long long)p->known);
    if (off >= sizeof buf)
        return ir_dim_unknown();
    ir_dim d = {-1, ir_graph_strdup(g, buf)};
    return d;
}

ir_dim shp_dims_product(ir_graph *g, const ir_dim *dims, int lo, int hi)
{
    shp_prod p;
    shp_prod_init(&p);
    for (int i = lo; i < hi; i++)
        shp_prod_mul(&p, dims[i]);
    return shp_prod_dim(g, &p);
}

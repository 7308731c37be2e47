/* onnx_load.c — ONNX ModelProto -> ir_graph (IR version 3+, default-domain
 * opsets 7..25).
 *
 * The order: model header checks (ir_version, opset), a scan of every node
 * for ops distilc does not know (all listed in one message), initializers
 * (constants; those also listed as graph inputs are not runtime inputs),
 * graph inputs, node outputs (so nodes may come in any order), node inputs
 * and attributes, value_info hints, graph outputs, then a topological sort.
 * Constant nodes stay IR_OP_CONSTANT nodes: only initializers count as
 * parameters.
 *
 * Name lookups go through a small hash table: BERT-large has ~10k values and
 * ir_graph_find_value is a linear scan.
 */
#include "frontend/onnx_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define OPSET_MIN 7
#define OPSET_MAX 25

/* ---- name table ------------------------------------------------------------ */

typedef struct name_map {
    ir_value **slots;
    size_t cap; /* power of two */
} name_map;

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool map_init(name_map *m, size_t expect)
{
    m->cap = 64;
    while (m->cap < expect * 2 + 16)
        m->cap *= 2;
    m->slots = calloc(m->cap, sizeof *m->slots);
    return m->slots != NULL;
}

static ir_value *map_get(const name_map *m, const char *name)
{
    size_t i = name_hash(name) & (m->cap - 1);
    while (m->slots[i]) {
        if (strcmp(m->slots[i]->name, name) == 0)
            return m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

/* The table is sized for every name the model can define, so it never
 * fills up (load_model counts them first). */
static void map_put(name_map *m, ir_value *v)
{
    size_t i = name_hash(v->name) & (m->cap - 1);
    while (m->slots[i])
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = v;
}

/* ---- loader state ------------------------------------------------------------ */

typedef struct loader {
    const Onnx__ModelProto *model;
    const Onnx__GraphProto *gp;
    const char *base_dir;
    const onnx_load_opts *opts;
    ir_graph *g;
    ir_diag *d;
    name_map names;
    ir_op *ops;         /* per node proto: mapped op, IR_OP_COUNT if unknown */
    ir_node **nodes;    /* per node proto: created node (NULL if dropped) */
} loader;

/* "node 'name'", or "node #3" for an unnamed one (names are optional). */
static const char *node_label(char *buf, size_t n, const Onnx__NodeProto *np,
                              size_t idx)
{
    if (np->name && *np->name)
        snprintf(buf, n, "node '%.400s'", np->name);
    else
        snprintf(buf, n, "node #%zu", idx);
    return buf;
}
#define NODE_LABEL(np, i) node_label((char[448]){0}, 448, (np), (i))

static const char *op_label(const Onnx__NodeProto *np)
{
    return np->op_type ? np->op_type : "(no op_type)";
}

static bool is_default_domain(const char *dom)
{
    return !dom || !*dom || strcmp(dom, "ai.onnx") == 0;
}

/* ---- type protos ------------------------------------------------------------- */

/* Reads a TypeProto's tensor type into dtype/rank/dims. rank -1 when the
 * shape is absent. Non-tensor types and unsupported element types are
 * reported (what = "graph input 'x'"). */
static ir_status read_tensor_type(loader *L, const Onnx__TypeProto *tp,
                                  const char *what, ir_dtype *dtype, int *rank,
                                  ir_dim *dims)
{
    *dtype = IR_DT_UNDEF;
    *rank = -1;
    if (!tp)
        return IR_OK; /* no type given: inferred later */
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                           "%s is not a tensor (sequence, map, optional and "
                           "sparse values are not supported)", what);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type && tt->elem_type != 0) {
        if (!ir_dtype_supported(tt->elem_type))
            return ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                               "%s has element type %s (%d), which distilc "
                               "does not support", what,
                               onnx_dtype_name(tt->elem_type),
                               (int)tt->elem_type);
        *dtype = (ir_dtype)tt->elem_type;
    }
    if (!tt->shape)
        return IR_OK;
    if (tt->shape->n_dim > IR_MAX_RANK)
        return ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                           "%s has rank %zu; distilc handles up to %d", what,
                           tt->shape->n_dim, IR_MAX_RANK);
    *rank = (int)tt->shape->n_dim;
    for (int i = 0; i < *rank; i++) {
        const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[i];
        if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            /* Some exporters write -1 for "unknown" in type protos (not
             * in tensors): read it as an unknown dim. */
            dims[i] = dm->dim_value >= 0 ? ir_dim_const(dm->dim_value)
                                         : ir_dim_unknown();
        } else if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                   dm->dim_param && *dm->dim_param) {
            dims[i] = ir_dim_sym(L->g, dm->dim_param);
            if (!dims[i].sym)
                return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
        } else {
            dims[i] = ir_dim_unknown();
        }
    }
    return IR_OK;
}

/* ---- attributes -------------------------------------------------------------- */

static const char *attr_kind_name(int type)
{
    switch (type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: return "GRAPH";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: return "GRAPHS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: return "TENSORS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR: return "SPARSE_TENSOR";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS: return "SPARSE_TENSORS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO: return "TYPE_PROTO";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS: return "TYPE_PROTOS";
    default: return "unknown";
    }
}

/* Old models (IR version 1) may leave `type` unset: infer it from the
 * field that is filled, as onnx's own checker does. */
static int attr_type(const Onnx__AttributeProto *ap)
{
    if (ap->has_type && ap->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
        return ap->type;
    if (ap->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    if (ap->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    if (ap->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    if (ap->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    if (ap->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    if (ap->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    if (ap->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    if (ap->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    if (ap->n_graphs) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS;
    if (ap->n_tensors) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS;
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

/* ONNX strings are bytes; distilc's attribute strings are C strings. */
static const char *copy_bytes(loader *L, ProtobufCBinaryData b, const char *what,
                              ir_status *st)
{
    if (b.len && memchr(b.data, 0, b.len)) {
        *st = ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                          "%s: string contains a NUL byte", what);
        return NULL;
    }
    char *s = ir_graph_alloc(L->g, b.len + 1);
    if (!s) {
        *st = ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (b.len)
        memcpy(s, b.data, b.len);
    *st = IR_OK;
    return s;
}

static ir_status load_attr(loader *L, const Onnx__NodeProto *np, size_t idx,
                           ir_node *n, const Onnx__AttributeProto *ap)
{
    char what[768];
    const char *aname = ap->name ? ap->name : "";
    snprintf(what, sizeof what, "%s (%.100s) attribute '%.200s'",
             NODE_LABEL(np, idx), op_label(np), aname);
    if (!*aname)
        return ir_diag_set(L->d, IR_ERR_INPUT, "%s: attribute has no name", what);
    if (ir_node_attr(n, aname))
        return ir_diag_set(L->d, IR_ERR_INPUT, "%s is given twice", what);
    int type = attr_type(ap);
    ir_status st = IR_OK;
    ir_attr *a;
    switch (type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        if (!(a = ir_node_set_attr(L->g, n, aname, IR_ATTR_FLOAT)))
            break;
        a->f = ap->f;
        return IR_OK;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        if (!(a = ir_node_set_attr(L->g, n, aname, IR_ATTR_INT)))
            break;
        a->i = ap->i;
        return IR_OK;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
        const char *s = copy_bytes(L, ap->s, what, &st);
        if (!s)
            return st;
        if (!(a = ir_node_set_attr(L->g, n, aname, IR_ATTR_STRING)))
            break;
        a->s = s;
        return IR_OK;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        if (!ap->t)
            return ir_diag_set(L->d, IR_ERR_INPUT, "%s: TENSOR attribute "
                               "without a tensor", what);
        ir_tensor *t;
        st = onnx_tensor_from_proto(ap->t, true, L->base_dir, what, &t, L->d);
        if (st != IR_OK)
            return st;
        if (!(a = ir_node_set_attr(L->g, n, aname, IR_ATTR_TENSOR))) {
            ir_tensor_free(t);
            break;
        }
        a->t = t;
        return IR_OK;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: {
        size_t cnt = type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS ? ap->n_floats
                   : type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS ? ap->n_ints
                   : ap->n_strings;
        if (cnt > INT_MAX / 8)
            return ir_diag_set(L->d, IR_ERR_UNSUPPORTED, "%s: list of %zu "
                               "elements is too long", what, cnt);
        ir_attr_kind k = type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS ? IR_ATTR_FLOATS
                       : type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS ? IR_ATTR_INTS
                       : IR_ATTR_STRINGS;
        /* Build the list first: ir_node_set_attr may move n->attrs. */
        float *fl = NULL;
        int64_t *il = NULL;
        const char **sl = NULL;
        if (k == IR_ATTR_FLOATS && cnt) {
            if (!(fl = ir_graph_alloc(L->g, cnt * sizeof *fl)))
                break;
            memcpy(fl, ap->floats, cnt * sizeof *fl);
        } else if (k == IR_ATTR_INTS && cnt) {
            if (!(il = ir_graph_alloc(L->g, cnt * sizeof *il)))
                break;
            memcpy(il, ap->ints, cnt * sizeof *il);
        } else if (k == IR_ATTR_STRINGS && cnt) {
            if (!(sl = ir_graph_alloc(L->g, cnt * sizeof *sl)))
                break;
            for (size_t i = 0; i < cnt; i++)
                if (!(sl[i] = copy_bytes(L, ap->strings[i], what, &st)))
                    return st;
        }
        if (!(a = ir_node_set_attr(L->g, n, aname, k)))
            break;
        a->n = (int)cnt;
        a->floats = fl;
        a->ints = il;
        a->strings = sl;
        return IR_OK;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED:
        return ir_diag_set(L->d, IR_ERR_INPUT, "%s has no type and no value",
                           what);
    default:
        return ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                           "%s is of kind %s, which distilc does not support "
                           "(subgraphs and control flow are out of scope)",
                           what, attr_kind_name(type));
    }
    return ir_diag_set(L->d, IR_ERR_NOMEM, "%s: out of memory", what);
}

/* ---- model header ---------------------------------------------------------- */

static ir_status check_header(const Onnx__ModelProto *m, int64_t *opset,
                              ir_diag *d)
{
    if (!m->graph)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "not an ONNX model: no graph (a TensorProto .pb "
                           "file or another protobuf message?)");
    if (!m->has_ir_version)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "not an ONNX model: ir_version is missing");
    if (m->ir_version < 3)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "ONNX IR version %lld is too old (distilc reads 3 "
                           "and newer); re-export the model",
                           (long long)m->ir_version);
    bool found = false;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (!is_default_domain(o->domain))
            continue;
        found = true;
        *opset = o->has_version ? o->version : 0;
    }
    if (!found) {
        /* Legal for a model made only of other domains' ops (ONNX Runtime's
         * contrib-op tests); load_model refuses default-domain nodes then. */
        *opset = 0;
        return IR_OK;
    }
    if (*opset < OPSET_MIN || *opset > OPSET_MAX)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "opset %lld of the default ONNX domain is not "
                           "supported (distilc handles opsets %d..%d; "
                           "re-export with opset_version=17)",
                           (long long)*opset, OPSET_MIN, OPSET_MAX);
    return IR_OK;
}

/* ---- unknown ops ------------------------------------------------------------- */

/* The nodes of one unknown op: how many, and the first of them. */
typedef struct unknown_op {
    const char *domain, *op; /* domain "" for the default one */
    size_t count, first;     /* nodes, index of the first */
} unknown_op;

typedef struct unknown_ops {
    unknown_op *ops;         /* in order of first appearance */
    size_t n, cap;
    size_t *slots;           /* hash of (domain, op) -> index + 1 */
    size_t n_slots;          /* power of two, > 2n */
} unknown_ops;

static bool unknown_grow(unknown_ops *u)
{
    if (u->n < u->cap && 2 * (u->n + 1) < u->n_slots)
        return true;
    size_t cap = u->cap ? 2 * u->cap : 16;
    unknown_op *ops = realloc(u->ops, cap * sizeof *ops);
    if (!ops)
        return false;
    u->ops = ops;
    u->cap = cap;
    size_t ns = 4 * cap;
    size_t *slots = calloc(ns, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < u->n; i++) {
        size_t h = (name_hash(u->ops[i].op) ^ name_hash(u->ops[i].domain)) & (ns - 1);
        while (slots[h])
            h = (h + 1) & (ns - 1);
        slots[h] = i + 1;
    }
    free(u->slots);
    u->slots = slots;
    u->n_slots = ns;
    return true;
}

/* Counts node idx under its op. */
static bool unknown_add(unknown_ops *u, const char *domain, const char *op,
                        size_t idx)
{
    if (!unknown_grow(u))
        return false;
    size_t h = (name_hash(op) ^ name_hash(domain)) & (u->n_slots - 1);
    for (; u->slots[h]; h = (h + 1) & (u->n_slots - 1)) {
        unknown_op *k = &u->ops[u->slots[h] - 1];
        if (strcmp(k->op, op) == 0 && strcmp(k->domain, domain) == 0) {
            k->count++;
            return true;
        }
    }
    u->ops[u->n] = (unknown_op){domain, op, 1, idx};
    u->slots[h] = ++u->n;
    return true;
}

/* A growing string. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_add(strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_add(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0 || b->failed) {
        b->failed = true;
        return;
    }
    if (b->len + (size_t)k + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)k + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->failed = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)k;
}

/* One op's item: "Foo (node 'n')", or "Foo ×940 (first: node 'n')". */
static void unknown_item(const loader *L, const unknown_op *k, strbuf *b)
{
    const Onnx__NodeProto *np = L->gp->node[k->first];
    bool dom = !is_default_domain(k->domain);
    if (k->count == 1)
        sb_add(b, "%s%.128s%s%.128s (%s)", b->len ? ", " : "",
               dom ? k->domain : "", dom ? "." : "", k->op,
               NODE_LABEL(np, k->first));
    else
        sb_add(b, "%s%.128s%s%.128s \u00d7%zu (first: %s)", b->len ? ", " : "",
               dom ? k->domain : "", dom ? "." : "", k->op, k->count,
               NODE_LABEL(np, k->first));
}

/* The ops grouped, in order of first appearance; with budget > 0, whole
 * items while they fit in `budget` bytes, then "and N more ops (M
 * nodes)". NULL when out of memory. */
static char *unknown_text(const loader *L, const unknown_ops *u, size_t budget)
{
    strbuf b = {0};
    size_t i = 0;
    for (; i < u->n && !b.failed; i++) {
        size_t before = b.len;
        unknown_item(L, &u->ops[i], &b);
        if (budget && b.len > budget && i > 0) {
            b.len = before; /* this item would not fit whole */
            b.s[before] = '\0';
            break;
        }
    }
    if (i < u->n) {
        size_t nodes = 0;
        for (size_t j = i; j < u->n; j++)
            nodes += u->ops[j].count;
        sb_add(&b, ", and %zu more op%s (%zu node%s)", u->n - i,
               u->n - i == 1 ? "" : "s", nodes, nodes == 1 ? "" : "s");
    }
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* The op names alone, one per line ("com.microsoft.Foo\nBar\n"). */
static char *unknown_names(const unknown_ops *u)
{
    strbuf b = {0};
    for (size_t i = 0; i < u->n; i++) {
        bool dom = !is_default_domain(u->ops[i].domain);
        sb_add(&b, "%s%s%s\n", dom ? u->ops[i].domain : "", dom ? "." : "",
               u->ops[i].op);
    }
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* Maps every node's op and groups the unknown ones by op (an empty u when
 * there are none). */
static ir_status scan_ops(loader *L, unknown_ops *u)
{
    const Onnx__GraphProto *gp = L->gp;
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        if (!np->op_type || !*np->op_type)
            return ir_diag_set(L->d, IR_ERR_INPUT, "%s has no op_type",
                               NODE_LABEL(np, i));
        L->ops[i] = ir_op_from_onnx(np->domain ? np->domain : "", np->op_type);
        if (L->ops[i] != IR_OP_COUNT)
            continue;
        if (!unknown_add(u, np->domain ? np->domain : "", np->op_type, i))
            return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
    }
    return IR_OK;
}

/* Refuses the unknown ops (one message, grouped, at most a few KB), or
 * hands their lists to the caller (allow_unknown_ops). */
static ir_status report_unknown(loader *L, const unknown_ops *u)
{
    const onnx_load_opts *o = L->opts;
    if (!u->n)
        return IR_OK;
    if (!o || !o->allow_unknown_ops) {
        size_t nodes = 0;
        for (size_t i = 0; i < u->n; i++)
            nodes += u->ops[i].count;
        /* a budget that leaves room for the file name in front */
        char *list = unknown_text(L, u, IR_DIAG_MSG_MAX / 2);
        ir_status st = ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                                   "%zu node%s use%s ops distilc does not "
                                   "support: %s", nodes, nodes == 1 ? "" : "s",
                                   nodes == 1 ? "s" : "",
                                   list ? list : "(out of memory listing them)");
        free(list);
        return st;
    }
    if (o->unknown_out && !(*o->unknown_out = unknown_text(L, u, 0)))
        return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
    if (o->unknown_ops_out && !(*o->unknown_ops_out = unknown_names(u)))
        return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
    return IR_OK;
}

/* ---- graph ------------------------------------------------------------------- */

static ir_value *define_value(loader *L, const char *name)
{
    ir_value *v = ir_graph_add_value(L->g, name);
    if (v)
        map_put(&L->names, v);
    return v;
}

static const char *defined_by(const ir_value *v)
{
    if (v->is_input)
        return "a graph input";
    if (v->constant)
        return "an initializer";
    if (v->producer)
        return "another node";
    return "another value";
}

static ir_status load_initializers(loader *L)
{
    const Onnx__GraphProto *gp = L->gp;
    if (gp->n_sparse_initializer)
        return ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                           "graph has %zu sparse initializers; sparse tensors "
                           "are not supported", gp->n_sparse_initializer);
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *tp = gp->initializer[i];
        const char *name = tp->name ? tp->name : "";
        char what[600];
        snprintf(what, sizeof what, "initializer '%.500s'", name);
        if (!*name)
            return ir_diag_set(L->d, IR_ERR_INPUT, "initializer %zu has no "
                               "name", i);
        if (map_get(&L->names, name))
            return ir_diag_set(L->d, IR_ERR_INPUT, "%s is defined twice", what);
        ir_tensor *t;
        ir_status st = onnx_tensor_from_proto(tp, true, L->base_dir, what, &t, L->d);
        if (st != IR_OK)
            return st;
        ir_value *v = ir_graph_add_constant(L->g, name, t);
        if (!v)
            return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
        map_put(&L->names, v);
    }
    return IR_OK;
}

static ir_status load_inputs(loader *L)
{
    const Onnx__GraphProto *gp = L->gp;
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *name = vi->name ? vi->name : "";
        char what[600];
        snprintf(what, sizeof what, "graph input '%.500s'", name);
        if (!*name)
            return ir_diag_set(L->d, IR_ERR_INPUT, "graph input %zu has no "
                               "name", i);
        ir_value *old = map_get(&L->names, name);
        if (old && old->constant && !old->is_input)
            continue; /* an initializer also listed as input (IR < 4 style) */
        if (old)
            return ir_diag_set(L->d, IR_ERR_INPUT, "%s is listed twice", what);
        ir_dtype dt;
        int rank;
        ir_dim dims[IR_MAX_RANK];
        ir_status st = read_tensor_type(L, vi->type, what, &dt, &rank, dims);
        if (st != IR_OK)
            return st;
        ir_value *v = ir_graph_add_input(L->g, name, dt, rank, dims);
        if (!v)
            return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
        map_put(&L->names, v);
    }
    return IR_OK;
}

/* Creates every known node's outputs and the node itself (inputs are wired
 * in a second pass, so producers may follow consumers in the file). */
static ir_status load_node_outputs(loader *L)
{
    const Onnx__GraphProto *gp = L->gp;
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        bool known = L->ops[i] != IR_OP_COUNT;
        if (np->n_output > 64 || np->n_input > 4096)
            return ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                               "%s (%s) has %zu inputs and %zu outputs; "
                               "too many", NODE_LABEL(np, i), op_label(np),
                               np->n_input, np->n_output);
        ir_value *outs[64];
        for (size_t k = 0; k < np->n_output; k++) {
            const char *on = np->output[k];
            outs[k] = NULL;
            if (!on || !*on)
                continue; /* absent optional output */
            ir_value *old = map_get(&L->names, on);
            if (old)
                return ir_diag_set(L->d, IR_ERR_INPUT,
                                   "%s (%s) output '%s' is already "
                                   "defined by %s%s%s%s",
                                   NODE_LABEL(np, i), op_label(np), on,
                                   defined_by(old), old->producer ? " '" : "",
                                   old->producer ? old->producer->name : "",
                                   old->producer ? "'" : "");
            if (!(outs[k] = define_value(L, on)))
                return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
        }
        if (!known)
            continue; /* dropped (allow_unknown_ops): outputs stay unproduced */
        const ir_op_info *info = ir_op_get(L->ops[i]);
        long ni = (long)np->n_input, no = (long)np->n_output;
        if (ni < info->min_inputs || (info->max_inputs >= 0 && ni > info->max_inputs))
            return ir_diag_set(L->d, IR_ERR_INPUT,
                               "%s (%s) has %ld inputs; %s takes %d..%s",
                               NODE_LABEL(np, i), op_label(np), ni, info->name,
                               info->min_inputs,
                               info->max_inputs < 0 ? "any" :
                               ir_graph_strfmt(L->g, "%d", info->max_inputs));
        if (no < info->min_outputs || (info->max_outputs >= 0 && no > info->max_outputs))
            return ir_diag_set(L->d, IR_ERR_INPUT,
                               "%s (%s) has %ld outputs; %s gives %d..%s",
                               NODE_LABEL(np, i), op_label(np), no, info->name,
                               info->min_outputs,
                               info->max_outputs < 0 ? "any" :
                               ir_graph_strfmt(L->g, "%d", info->max_outputs));
        ir_node *n = ir_graph_add_node_with_outputs(
            L->g, L->ops[i], np->name && *np->name ? np->name : NULL,
            (int)np->n_input, NULL, (int)np->n_output, outs);
        if (!n)
            return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
        L->nodes[i] = n;
    }
    return IR_OK;
}

static ir_status load_node_inputs(loader *L)
{
    const Onnx__GraphProto *gp = L->gp;
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        ir_node *n = L->nodes[i];
        if (!n)
            continue;
        for (size_t k = 0; k < np->n_input; k++) {
            const char *in = np->input[k];
            if (!in || !*in) {
                n->inputs[k] = NULL; /* absent optional input */
                continue;
            }
            ir_value *v = map_get(&L->names, in);
            if (!v)
                return ir_diag_set(L->d, IR_ERR_INPUT,
                                   "%s (%s) reads '%s', which no node, "
                                   "graph input or initializer defines",
                                   NODE_LABEL(np, i), op_label(np), in);
            n->inputs[k] = v;
        }
        for (size_t k = 0; k < np->n_attribute; k++) {
            ir_status st = load_attr(L, np, i, n, np->attribute[k]);
            if (st != IR_OK)
                return st;
        }
    }
    return IR_OK;
}

/* value_info: dtype/shape hints for intermediate values. Only fills what is
 * unknown; hints that do not parse are ignored (they are hints). */
static void load_value_info(loader *L)
{
    const Onnx__GraphProto *gp = L->gp;
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = gp->value_info[i];
        if (!vi->name)
            continue;
        ir_value *v = map_get(&L->names, vi->name);
        if (!v || v->constant || v->is_input)
            continue;
        ir_dtype dt;
        int rank;
        ir_dim dims[IR_MAX_RANK];
        ir_diag scratch;
        ir_diag_init(&scratch);
        ir_diag *keep = L->d;
        L->d = &scratch;
        ir_status st = read_tensor_type(L, vi->type, "value_info", &dt, &rank, dims);
        L->d = keep;
        if (st != IR_OK)
            continue;
        if (v->dtype == IR_DT_UNDEF)
            v->dtype = dt;
        if (v->rank < 0 && rank >= 0) {
            v->rank = rank;
            memcpy(v->dims, dims, sizeof(ir_dim) * (size_t)rank);
        }
    }
}

static ir_status load_outputs(loader *L)
{
    const Onnx__GraphProto *gp = L->gp;
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        const char *name = vi->name ? vi->name : "";
        char what[600];
        snprintf(what, sizeof what, "graph output '%.500s'", name);
        ir_value *v = *name ? map_get(&L->names, name) : NULL;
        if (!v)
            return ir_diag_set(L->d, IR_ERR_INPUT,
                               "%s is not produced by any node, graph input or "
                               "initializer", what);
        ir_dtype dt;
        int rank;
        ir_dim dims[IR_MAX_RANK];
        ir_status st = read_tensor_type(L, vi->type, what, &dt, &rank, dims);
        if (st != IR_OK)
            return st;
        if (v->dtype == IR_DT_UNDEF)
            v->dtype = dt;
        if (v->rank < 0 && rank >= 0) {
            v->rank = rank;
            memcpy(v->dims, dims, sizeof(ir_dim) * (size_t)rank);
        }
        if (!v->is_output && !ir_graph_mark_output(L->g, v))
            return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
    }
    return IR_OK;
}

static ir_status load_meta(loader *L)
{
    const Onnx__ModelProto *m = L->model;
    ir_graph *g = L->g;
    g->ir_version = m->ir_version;
    if ((m->producer_name && !(g->producer_name = ir_graph_strdup(g, m->producer_name))) ||
        (m->producer_version && !(g->producer_version = ir_graph_strdup(g, m->producer_version))) ||
        (m->doc_string && !(g->doc = ir_graph_strdup(g, m->doc_string))))
        return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = m->metadata_props[i];
        if (!e->key)
            continue;
        if (!ir_graph_set_meta(g, e->key, e->value ? e->value : ""))
            return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
    }
    return IR_OK;
}

static ir_status load_model(loader *L, ir_graph **out)
{
    const Onnx__ModelProto *m = L->model;
    int64_t opset = 0;
    ir_status st = check_header(m, &opset, L->d);
    if (st != IR_OK)
        return st;
    L->gp = m->graph;
    const Onnx__GraphProto *gp = L->gp;

    size_t n_names = gp->n_initializer + gp->n_input;
    for (size_t i = 0; i < gp->n_node; i++)
        n_names += gp->node[i]->n_output;
    L->g = ir_graph_new(gp->name && *gp->name ? gp->name : "graph");
    L->ops = calloc(gp->n_node + 1, sizeof *L->ops);
    L->nodes = calloc(gp->n_node + 1, sizeof *L->nodes);
    if (!L->g || !L->ops || !L->nodes || !map_init(&L->names, n_names))
        return ir_diag_set(L->d, IR_ERR_NOMEM, "out of memory");
    L->g->opset = opset;

    unknown_ops u = {0};
    st = scan_ops(L, &u);
    if (st == IR_OK)
        st = report_unknown(L, &u);
    free(u.ops);
    free(u.slots);
    if (st != IR_OK)
        return st;
    for (size_t i = 0; opset == 0 && i < gp->n_node; i++)
        if (L->ops[i] != IR_OP_COUNT && is_default_domain(gp->node[i]->domain))
            return ir_diag_set(L->d, IR_ERR_INPUT,
                               "%s (%s) uses the default ONNX domain, but the "
                               "model imports no opset for it (opset_import "
                               "lacks domain \"\")", NODE_LABEL(gp->node[i], i),
                               op_label(gp->node[i]));

    if ((st = load_meta(L)) != IR_OK ||
        (st = load_initializers(L)) != IR_OK ||
        (st = load_inputs(L)) != IR_OK ||
        (st = load_node_outputs(L)) != IR_OK ||
        (st = load_node_inputs(L)) != IR_OK)
        return st;
    load_value_info(L);
    if ((st = load_outputs(L)) != IR_OK ||
        (st = ir_graph_toposort(L->g, L->d)) != IR_OK)
        return st;
    *out = L->g;
    L->g = NULL;
    return IR_OK;
}

/* Loads an unpacked model and frees it. */
static ir_status load_unpacked(Onnx__ModelProto *m, const char *base_dir,
                               const onnx_load_opts *opts, ir_graph **out,
                               ir_diag *d)
{
    loader L = {.model = m, .base_dir = base_dir, .opts = opts, .d = d};
    ir_status st = load_model(&L, out);
    if (st != IR_OK && opts && opts->unknown_out) {
        free(*opts->unknown_out);
        *opts->unknown_out = NULL;
    }
    if (st != IR_OK && opts && opts->unknown_ops_out) {
        free(*opts->unknown_ops_out);
        *opts->unknown_ops_out = NULL;
    }
    ir_graph_free(L.g);
    free(L.ops);
    free(L.nodes);
    free(L.names.slots);
    onnx__model_proto__free_unpacked(m, NULL);
    return st;
}

static ir_status unpack_model(const void *buf, size_t len,
                              Onnx__ModelProto **m, ir_diag *d)
{
    if (len == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "empty input: not an ONNX model");
    /* before protobuf-c, whose unpacker recurses once per nested message */
    ir_status st = onnx_wire_check_nesting(&onnx__model_proto__descriptor,
                                           buf, len, "an ONNX model", d);
    if (st != IR_OK)
        return st;
    *m = onnx__model_proto__unpack(NULL, len, buf);
    if (!*m)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "not an ONNX model: the protobuf does not parse "
                           "(truncated or corrupt file?)");
    return IR_OK;
}

ir_status onnx_load_buffer(const void *buf, size_t len, const char *base_dir,
                           const onnx_load_opts *opts, ir_graph **out,
                           ir_diag *d)
{
    *out = NULL;
    if (opts && opts->unknown_out)
        *opts->unknown_out = NULL;
    if (opts && opts->unknown_ops_out)
        *opts->unknown_ops_out = NULL;
    Onnx__ModelProto *m;
    ir_status st = unpack_model(buf, len, &m, d);
    return st != IR_OK ? st : load_unpacked(m, base_dir, opts, out, d);
}

ir_status onnx_load_file(const char *path, const onnx_load_opts *opts,
                         ir_graph **out, ir_diag *d)
{
    *out = NULL;
    if (opts && opts->unknown_out)
        *opts->unknown_out = NULL;
    if (opts && opts->unknown_ops_out)
        *opts->unknown_ops_out = NULL;
    void *buf;
    size_t len;
    ir_status st = onnx_file_read(path, "model", &buf, &len, d);
    if (st != IR_OK)
        return st;
    /* The file's bytes are dropped as soon as they are parsed; weights
     * then move from the parsed message into tensors without a copy. */
    Onnx__ModelProto *m = NULL;
    st = unpack_model(buf, len, &m, d);
    free(buf);
    if (st == IR_OK) {
        /* External data lives beside the model. */
        char *dir = strdup(path);
        if (!dir) {
            onnx__model_proto__free_unpacked(m, NULL);
            return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
        }
        char *slash = strrchr(dir, '/');
        const char *base = ".";
        if (slash) {
            *(slash == dir ? slash + 1 : slash) = '\0';
            base = dir;
        }
        st = load_unpacked(m, base, opts, out, d);
        free(dir);
    }
    if (st != IR_OK && d)
        ir_diag_prefix(d, "%s", path);
    return st;
}

/* onnx_save.c — ir_graph -> ONNX ModelProto (IR version 8 or what the opset
 * needs, producer "distilc").
 *
 * The proto tree is built in a scratch arena that borrows the graph's names
 * and tensor payloads (nothing is copied), packed, then the arena is freed.
 * Initializers are the values holding a constant that no node produces;
 * Constant nodes keep their tensor attribute inline. With external data,
 * every initializer above 1 KiB goes to "<file>.data" beside the model
 * (64-byte aligned offsets), as onnx.external_data_helper lays it out, and
 * both files are replaced atomically (temporary file, then rename).
 */
#include "frontend/onnx_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir/arena.h"

#ifndef DISTILC_VERSION
#define DISTILC_VERSION "0"
#endif

#define EXT_MIN_BYTES 1024 /* smaller weights stay inside the model */
#define EXT_ALIGN 64

typedef struct saver {
    const ir_graph *g;
    ir_arena *a;
    ir_diag *d;
    FILE *ext;            /* external data file being written, or NULL */
    const char *ext_name; /* its base name, the 'location' key */
    const char *ext_path; /* for messages */
    int64_t ext_off;
} saver;

#define NEW(s, T) ((T *)ir_arena_alloc((s)->a, sizeof(T)))
#define NEWN(s, T, n) ((T *)ir_arena_alloc((s)->a, sizeof(T) * ((size_t)(n) + 1)))

static char *sv_str(saver *s, const char *str)
{
    (void)s; /* borrowed: the graph outlives the proto tree */
    return (char *)(str ? str : "");
}

static char *sv_fmt(saver *s, const char *fmt, long long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, fmt, v);
    char *p = ir_arena_alloc(s->a, (size_t)n + 1);
    if (p)
        memcpy(p, buf, (size_t)n + 1);
    return p;
}

/* ONNX checker: opsets 19-20 need IR 9, 21-22 IR 10, 23+ IR 11. */
static int64_t ir_version_for(int64_t opset)
{
    if (opset >= 23) return 11;
    if (opset >= 21) return 10;
    if (opset >= 19) return 9;
    return 8;
}

static Onnx__ValueInfoProto *value_info(saver *s, const ir_value *v)
{
    Onnx__ValueInfoProto *vi = NEW(s, Onnx__ValueInfoProto);
    Onnx__TypeProto *tp = NEW(s, Onnx__TypeProto);
    Onnx__TypeProto__Tensor *tt = NEW(s, Onnx__TypeProto__Tensor);
    if (!vi || !tp || !tt)
        return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    vi->name = sv_str(s, v->name);
    /* An unknown dtype leaves the type out: ONNX Runtime then infers it,
     * while elem_type 0 would be refused. (onnx.checker wants a type:
     * run shape inference before saving for a checker-clean model.) */
    if (v->dtype == IR_DT_UNDEF)
        return vi;
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = (int32_t)v->dtype;
    if (v->rank < 0)
        return vi;
    Onnx__TensorShapeProto *sh = NEW(s, Onnx__TensorShapeProto);
    Onnx__TensorShapeProto__Dimension **dims =
        NEWN(s, Onnx__TensorShapeProto__Dimension *, v->rank);
    if (!sh || !dims)
        return NULL;
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)v->rank;
    sh->dim = dims;
    for (int i = 0; i < v->rank; i++) {
        Onnx__TensorShapeProto__Dimension *dm = NEW(s, Onnx__TensorShapeProto__Dimension);
        if (!dm)
            return NULL;
        onnx__tensor_shape_proto__dimension__init(dm);
        if (ir_dim_known(v->dims[i])) {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dm->dim_value = v->dims[i].size;
        } else if (v->dims[i].sym) {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dm->dim_param = sv_str(s, v->dims[i].sym);
        }
        dims[i] = dm;
    }
    tt->shape = sh;
    return vi;
}

static Onnx__StringStringEntryProto *entry(saver *s, const char *k, char *v)
{
    Onnx__StringStringEntryProto *e = NEW(s, Onnx__StringStringEntryProto);
    if (!e || !v)
        return NULL;
    onnx__string_string_entry_proto__init(e);
    e->key = sv_str(s, k);
    e->value = v;
    return e;
}

/* Appends t's bytes to the external data file; fills tp's external keys. */
static ir_status write_external(saver *s, const ir_tensor *t,
                                Onnx__TensorProto *tp)
{
    static const char zeros[EXT_ALIGN];
    int64_t pad = (EXT_ALIGN - s->ext_off % EXT_ALIGN) % EXT_ALIGN;
    if ((pad && fwrite(zeros, 1, (size_t)pad, s->ext) != (size_t)pad) ||
        fwrite(t->data, 1, t->nbytes, s->ext) != t->nbytes)
        return ir_diag_set(s->d, IR_ERR_IO, "cannot write '%s': %s",
                           s->ext_path, strerror(errno));
    s->ext_off += pad;
    Onnx__StringStringEntryProto **ed = NEWN(s, Onnx__StringStringEntryProto *, 3);
    if (!ed || !(ed[0] = entry(s, "location", sv_str(s, s->ext_name))) ||
        !(ed[1] = entry(s, "offset", sv_fmt(s, "%lld", (long long)s->ext_off))) ||
        !(ed[2] = entry(s, "length", sv_fmt(s, "%lld", (long long)t->nbytes))))
        return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
    s->ext_off += (int64_t)t->nbytes;
    tp->has_raw_data = 0;
    tp->raw_data.len = 0;
    tp->raw_data.data = NULL;
    tp->has_data_location = 1;
    tp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    tp->n_external_data = 3;
    tp->external_data = ed;
    return IR_OK;
}

static ir_status save_attr(saver *s, const ir_node *n, const ir_attr *at,
                           Onnx__AttributeProto **out)
{
    Onnx__AttributeProto *ap = NEW(s, Onnx__AttributeProto);
    if (!ap)
        return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
    onnx__attribute_proto__init(ap);
    ap->name = sv_str(s, at->name);
    ap->has_type = 1;
    switch (at->kind) {
    case IR_ATTR_FLOAT:
        ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        ap->has_f = 1;
        ap->f = at->f;
        break;
    case IR_ATTR_INT:
        ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        ap->has_i = 1;
        ap->i = at->i;
        break;
    case IR_ATTR_STRING:
        ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
        ap->has_s = 1;
        ap->s.data = (uint8_t *)sv_str(s, at->s);
        ap->s.len = strlen((const char *)ap->s.data);
        break;
    case IR_ATTR_TENSOR: {
        if (!at->t)
            return ir_diag_set(s->d, IR_ERR_FAILED, "node '%s' (%s) attribute "
                               "'%s' has no tensor", n->name,
                               ir_op_name(n->op), at->name);
        Onnx__TensorProto *tp = NEW(s, Onnx__TensorProto);
        if (!tp)
            return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
        onnx__tensor_proto__init(tp);
        onnx_tensor_to_proto(at->t, "", tp);
        tp->name = NULL;
        ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
        ap->t = tp;
        break;
    }
    case IR_ATTR_FLOATS:
        ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
        ap->n_floats = (size_t)at->n;
        ap->floats = at->floats;
        break;
    case IR_ATTR_INTS:
        ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        ap->n_ints = (size_t)at->n;
        ap->ints = at->ints;
        break;
    case IR_ATTR_STRINGS: {
        ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
        ProtobufCBinaryData *sl = NEWN(s, ProtobufCBinaryData, at->n);
        if (!sl)
            return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
        for (int i = 0; i < at->n; i++) {
            sl[i].data = (uint8_t *)sv_str(s, at->strings[i]);
            sl[i].len = strlen((const char *)sl[i].data);
        }
        ap->n_strings = (size_t)at->n;
        ap->strings = sl;
        break;
    }
    default:
        return ir_diag_set(s->d, IR_ERR_FAILED, "node '%s' (%s) attribute '%s' "
                           "has an unknown kind %d", n->name, ir_op_name(n->op),
                           at->name, (int)at->kind);
    }
    *out = ap;
    return IR_OK;
}

static ir_status save_node(saver *s, const ir_node *n, Onnx__NodeProto **out)
{
    Onnx__NodeProto *np = NEW(s, Onnx__NodeProto);
    if (!np)
        return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
    onnx__node_proto__init(np);
    np->name = sv_str(s, n->name);
    np->op_type = sv_str(s, ir_op_name(n->op));
    np->domain = (char *)ir_op_domain(n->op);
    /* Trailing absent optional inputs are simply left out (ONNX IR spec). */
    int ni = n->n_inputs;
    while (ni > 0 && !n->inputs[ni - 1])
        ni--;
    np->input = NEWN(s, char *, ni);
    np->output = NEWN(s, char *, n->n_outputs);
    np->attribute = NEWN(s, Onnx__AttributeProto *, n->n_attrs);
    if (!np->input || !np->output || !np->attribute)
        return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
    np->n_input = (size_t)ni;
    for (int i = 0; i < ni; i++)
        np->input[i] = sv_str(s, n->inputs[i] ? n->inputs[i]->name : "");
    np->n_output = (size_t)n->n_outputs;
    for (int i = 0; i < n->n_outputs; i++)
        np->output[i] = sv_str(s, n->outputs[i] ? n->outputs[i]->name : "");
    np->n_attribute = (size_t)n->n_attrs;
    for (int i = 0; i < n->n_attrs; i++) {
        ir_status st = save_attr(s, n, &n->attrs[i], &np->attribute[i]);
        if (st != IR_OK)
            return st;
    }
    *out = np;
    return IR_OK;
}

static ir_status build_model(saver *s, Onnx__ModelProto *m)
{
    const ir_graph *g = s->g;
    onnx__model_proto__init(m);
    int64_t opset = g->opset > 0 ? g->opset : 17;
    m->has_ir_version = 1;
    m->ir_version = ir_version_for(opset);
    m->producer_name = "distilc";
    m->producer_version = DISTILC_VERSION;
    m->doc_string = g->doc ? (char *)g->doc : NULL;

    /* The default domain, then each other domain the nodes use (version 1). */
    const char *domains[3] = {"", NULL, NULL};
    int n_domains = 1;
    for (int i = 0; i < g->n_nodes; i++) {
        const char *dom = ir_op_domain(g->nodes[i]->op);
        bool seen = false;
        for (int k = 0; k < n_domains; k++)
            seen = seen || strcmp(domains[k], dom) == 0;
        if (!seen && n_domains < 3)
            domains[n_domains++] = dom;
    }
    m->opset_import = NEWN(s, Onnx__OperatorSetIdProto *, 3);
    for (int i = 0; m->opset_import && i < n_domains; i++) {
        Onnx__OperatorSetIdProto *o = NEW(s, Onnx__OperatorSetIdProto);
        if (!o)
            return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
        onnx__operator_set_id_proto__init(o);
        o->domain = (char *)domains[i];
        o->has_version = 1;
        o->version = i == 0 ? opset : 1;
        m->opset_import[m->n_opset_import++] = o;
    }
    m->metadata_props = NEWN(s, Onnx__StringStringEntryProto *, g->n_meta);
    Onnx__GraphProto *gp = NEW(s, Onnx__GraphProto);
    if (!m->opset_import || !m->metadata_props || !gp)
        return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->n_meta; i++) {
        Onnx__StringStringEntryProto *e =
            entry(s, g->meta[i].key, sv_str(s, g->meta[i].value));
        if (!e)
            return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
        m->metadata_props[m->n_metadata_props++] = e;
    }
    onnx__graph_proto__init(gp);
    m->graph = gp;
    gp->name = sv_str(s, g->name);

    gp->node = NEWN(s, Onnx__NodeProto *, g->n_nodes);
    gp->initializer = NEWN(s, Onnx__TensorProto *, g->n_values);
    gp->input = NEWN(s, Onnx__ValueInfoProto *, g->n_inputs);
    gp->output = NEWN(s, Onnx__ValueInfoProto *, g->n_outputs);
    if (!gp->node || !gp->initializer || !gp->input || !gp->output)
        return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->n_nodes; i++) {
        ir_status st = save_node(s, g->nodes[i], &gp->node[i]);
        if (st != IR_OK)
            return st;
    }
    gp->n_node = (size_t)g->n_nodes;
    for (int i = 0; i < g->n_values; i++) {
        const ir_value *v = g->values[i];
        if (!v->constant || v->producer)
            continue;
        Onnx__TensorProto *tp = NEW(s, Onnx__TensorProto);
        if (!tp)
            return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
        onnx__tensor_proto__init(tp);
        onnx_tensor_to_proto(v->constant, v->name, tp);
        if (s->ext && v->constant->nbytes > EXT_MIN_BYTES) {
            ir_status st = write_external(s, v->constant, tp);
            if (st != IR_OK)
                return st;
        }
        gp->initializer[gp->n_initializer++] = tp;
    }
    for (int i = 0; i < g->n_inputs; i++)
        if (!(gp->input[i] = value_info(s, g->inputs[i])))
            return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
    gp->n_input = (size_t)g->n_inputs;
    for (int i = 0; i < g->n_outputs; i++)
        if (!(gp->output[i] = value_info(s, g->outputs[i])))
            return ir_diag_set(s->d, IR_ERR_NOMEM, "out of memory");
    gp->n_output = (size_t)g->n_outputs;
    return IR_OK;
}

/* Packs m into a malloc'd buffer. Protobuf messages are limited to 2 GiB. */
static ir_status pack_model(const Onnx__ModelProto *m, void **buf, size_t *len,
                            ir_diag *d)
{
    size_t n = onnx__model_proto__get_packed_size(m);
    if (n > (size_t)INT32_MAX)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "the model would be %zu bytes, over protobuf's 2 GiB "
                           "limit: save it with external data", n);
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory for a %zu-byte model",
                           n);
    onnx__model_proto__pack(m, p);
    *buf = p;
    *len = n;
    return IR_OK;
}

ir_status onnx_save_buffer(const ir_graph *g, void **buf, size_t *len,
                           ir_diag *d)
{
    *buf = NULL;
    *len = 0;
    saver s = {.g = g, .d = d, .a = ir_arena_new()};
    if (!s.a)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    Onnx__ModelProto m;
    ir_status st = build_model(&s, &m);
    if (st == IR_OK)
        st = pack_model(&m, buf, len, d);
    ir_arena_free(s.a);
    return st;
}

ir_status onnx_save_file(const ir_graph *g, const char *path,
                         const onnx_save_opts *opts, ir_diag *d)
{
    saver s = {.g = g, .d = d, .a = ir_arena_new()};
    if (!s.a)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    char data_path[PATH_MAX];
    ir_file_atomic data;
    ir_status st = IR_OK;
    if (opts && opts->external_data) {
        if ((size_t)snprintf(data_path, sizeof data_path, "%s.data", path) >= sizeof data_path) {
            ir_arena_free(s.a);
            return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': path too long",
                               path);
        }
        st = ir_file_atomic_open(&data, data_path, 0644, d);
        if (st != IR_OK) {
            ir_arena_free(s.a);
            return st;
        }
        s.ext = data.f;
        const char *slash = strrchr(data_path, '/');
        s.ext_name = slash ? slash + 1 : data_path;
        s.ext_path = data_path;
    }
    Onnx__ModelProto m;
    void *buf = NULL;
    size_t len = 0;
    st = build_model(&s, &m);
    if (st == IR_OK)
        st = pack_model(&m, &buf, &len, d);
    /* The weights go in place first: a model never points at a data file
     * that is not there yet. */
    if (s.ext && st == IR_OK)
        st = ir_file_atomic_commit(&data, d);
    else if (s.ext)
        ir_file_atomic_abort(&data);
    if (st == IR_OK)
        st = ir_file_write_atomic(path, buf, len, 0644, d);
    free(buf);
    ir_arena_free(s.a);
    return st;
}

/* seeds_onnx.c — seeds of fuzz_onnx_load and fuzz_tensor_proto: models
 * built with the graph builder and saved by distilc itself, and models
 * packed here with protobuf-c where the builder cannot go: initializers in
 * external data (good, past the end, escaping the folder through "..", an
 * absolute path, a symbolic link, naming a folder), subgraphs nested 3, 32
 * and 200 deep (Loop bodies, If branches), unknown ops; and TensorProto
 * files of every dtype distilc reads, in raw_data, in the typed fields
 * and in external data. The external files are those the harnesses make
 * (fuzz_onnx_load.c: ext.onnx.data, escape.data, sub/; fuzz_tensor_proto.c:
 * ext.data). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "onnx/onnx.pb-c.h"
#include "seeds.h"

/* ---- models from the graph builder ---------------------------------------- */

static int save_graph(const char *out, const ir_graph *g, const char *name)
{
    void *buf = NULL;
    size_t len = 0;
    ir_diag d;
    ir_diag_init(&d);
    if (onnx_save_buffer(g, &buf, &len, &d) != IR_OK) {
        fprintf(stderr, "make_seeds: %s: %s\n", name, d.msg);
        return 1;
    }
    int rc = seed_put(out, "onnx_load", name, buf, len);
    free(buf);
    return rc;
}

/* y = Softmax(x · W + b), a symbolic batch, metadata. */
static int seed_mlp(const char *out)
{
    ir_graph *g = ir_graph_new("mlp");
    ir_dim xd[2] = {ir_dim_sym(g, "batch"), ir_dim_const(4)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);
    int64_t wd[2] = {4, 3}, bd[1] = {3};
    ir_value *w = ir_graph_add_constant(g, "W", ir_tensor_new(IR_DT_F32, 2, wd));
    ir_value *b = ir_graph_add_constant(g, "b", ir_tensor_new(IR_DT_F32, 1, bd));
    ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "mm", x, w);
    h = ir_node_make1(g, IR_OP_ADD, "bias", h, b);
    ir_node *sm = ir_graph_add_node(g, IR_OP_SOFTMAX, "sm", 1, &h, 1);
    ir_node_set_attr_int(g, sm, "axis", -1);
    sm->outputs[0]->dtype = IR_DT_F32;
    sm->outputs[0]->rank = 2;
    sm->outputs[0]->dims[0] = xd[0];
    sm->outputs[0]->dims[1] = ir_dim_const(3);
    ir_graph_mark_output(g, sm->outputs[0]);
    ir_graph_set_meta(g, "k", "v");
    int rc = save_graph(out, g, "mlp.onnx");
    ir_graph_free(g);
    return rc;
}

/* A Constant node, Reshape by an i64 shape, LayerNorm and Transpose with
 * attributes. */
static int seed_shapes(const char *out)
{
    ir_graph *g = ir_graph_new("shapes");
    ir_dim sd[3] = {ir_dim_const(2), ir_dim_const(3), ir_dim_const(4)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 3, sd);
    ir_node *c = ir_graph_add_node(g, IR_OP_CONSTANT, "shape", 0, NULL, 1);
    int64_t two = 2;
    ir_attr *a = ir_node_set_attr(g, c, "value", IR_ATTR_TENSOR);
    a->t = ir_tensor_new(IR_DT_I64, 1, &two);
    ((int64_t *)a->t->data)[0] = 6;
    ((int64_t *)a->t->data)[1] = 4;
    ir_value *h = ir_node_make1(g, IR_OP_RESHAPE, "rs", x, c->outputs[0]);
    int64_t gd[1] = {4};
    ir_value *gamma = ir_graph_add_constant(g, "gamma", ir_tensor_new(IR_DT_F32, 1, gd));
    ir_value *in3[3] = {h, gamma, NULL};
    ir_node *ln = ir_graph_add_node(g, IR_OP_LAYER_NORMALIZATION, "ln", 3, in3, 1);
    ir_node_set_attr_float(g, ln, "epsilon", 1e-5f);
    int64_t perm[2] = {1, 0};
    ir_node *tr = ir_graph_add_node(g, IR_OP_TRANSPOSE, "tr", 1, &ln->outputs[0], 1);
    ir_node_set_attr_ints(g, tr, "perm", 2, perm);
    tr->outputs[0]->dtype = IR_DT_F32;
    tr->outputs[0]->rank = 2;
    tr->outputs[0]->dims[0] = ir_dim_const(4);
    tr->outputs[0]->dims[1] = ir_dim_const(6);
    ir_graph_mark_output(g, tr->outputs[0]);
    int rc = save_graph(out, g, "shapes.onnx");
    ir_graph_free(g);
    return rc;
}

/* ---- models packed with protobuf-c --------------------------------------- */

/* y = Op(x, w): x f32[2] an input, w f32[2] an initializer. The caller
 * changes what it needs (op, w's payload, attributes) before packing. */
typedef struct proto_model {
    Onnx__ModelProto m;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    Onnx__GraphProto g;
    Onnx__NodeProto node, *nodes[1];
    char *node_in[2], *node_out[1];
    Onnx__TensorProto w, *inits[1];
    int64_t w_dims[1];
    float w_data[2];
    Onnx__ValueInfoProto x, y, *ins[1], *outs[1];
    Onnx__TypeProto x_type;
    Onnx__TypeProto__Tensor x_tt;
    Onnx__TensorShapeProto x_shape;
    Onnx__TensorShapeProto__Dimension x_dim, *x_dims[1];
} proto_model;

static void proto_model_init(proto_model *p, const char *op)
{
    memset(p, 0, sizeof *p);
    onnx__model_proto__init(&p->m);
    p->m.has_ir_version = 1;
    p->m.ir_version = 8;
    p->m.producer_name = "make_seeds";
    onnx__operator_set_id_proto__init(&p->opset);
    p->opset.domain = "";
    p->opset.has_version = 1;
    p->opset.version = 17;
    p->opsets[0] = &p->opset;
    p->m.n_opset_import = 1;
    p->m.opset_import = p->opsets;
    onnx__graph_proto__init(&p->g);
    p->g.name = "g";
    p->m.graph = &p->g;

    onnx__node_proto__init(&p->node);
    p->node.name = "n0";
    p->node.op_type = (char *)op;
    p->node.domain = "";
    p->node_in[0] = "x";
    p->node_in[1] = "w";
    p->node.input = p->node_in;
    p->node.n_input = 2;
    p->node_out[0] = "y";
    p->node.output = p->node_out;
    p->node.n_output = 1;
    p->nodes[0] = &p->node;
    p->g.node = p->nodes;
    p->g.n_node = 1;

    onnx__tensor_proto__init(&p->w);
    p->w.name = "w";
    p->w_dims[0] = 2;
    p->w.dims = p->w_dims;
    p->w.n_dims = 1;
    p->w.has_data_type = 1;
    p->w.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    p->w_data[0] = 0.5f;
    p->w_data[1] = -2.0f;
    p->w.has_raw_data = 1;
    p->w.raw_data.data = (uint8_t *)p->w_data;
    p->w.raw_data.len = sizeof p->w_data;
    p->inits[0] = &p->w;
    p->g.initializer = p->inits;
    p->g.n_initializer = 1;

    onnx__value_info_proto__init(&p->x);
    p->x.name = "x";
    onnx__type_proto__init(&p->x_type);
    onnx__type_proto__tensor__init(&p->x_tt);
    onnx__tensor_shape_proto__init(&p->x_shape);
    onnx__tensor_shape_proto__dimension__init(&p->x_dim);
    p->x_dim.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    p->x_dim.dim_value = 2;
    p->x_dims[0] = &p->x_dim;
    p->x_shape.dim = p->x_dims;
    p->x_shape.n_dim = 1;
    p->x_tt.has_elem_type = 1;
    p->x_tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    p->x_tt.shape = &p->x_shape;
    p->x_type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    p->x_type.tensor_type = &p->x_tt;
    p->x.type = &p->x_type;
    p->ins[0] = &p->x;
    p->g.input = p->ins;
    p->g.n_input = 1;
    onnx__value_info_proto__init(&p->y);
    p->y.name = "y";
    p->outs[0] = &p->y;
    p->g.output = p->outs;
    p->g.n_output = 1;
}

static int put_model(const char *out, const Onnx__ModelProto *m, const char *name)
{
    size_t n = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return 1;
    onnx__model_proto__pack(m, buf);
    int rc = seed_put(out, "onnx_load", name, buf, n);
    free(buf);
    return rc;
}

/* w in external data: location, offset, length (NULL: key left out). */
static int seed_external(const char *out, const char *name, const char *loc,
                         const char *off, const char *len)
{
    proto_model p;
    proto_model_init(&p, "Add");
    Onnx__StringStringEntryProto e[3], *ep[3];
    const char *keys[3] = {"location", "offset", "length"};
    const char *vals[3] = {loc, off, len};
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        if (!vals[i])
            continue;
        onnx__string_string_entry_proto__init(&e[n]);
        e[n].key = (char *)keys[i];
        e[n].value = (char *)vals[i];
        ep[n] = &e[n];
        n++;
    }
    p.w.has_raw_data = 0;
    p.w.has_data_location = 1;
    p.w.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    p.w.external_data = ep;
    p.w.n_external_data = n;
    return put_model(out, &p.m, name);
}

/* A chain of `depth` graphs, each node's attribute holding the next graph
 * (Loop's "body", or If's then_branch when `branches`, its else_branch a
 * leaf), the innermost an Identity: the nesting the loader's unpacking
 * must survive. */
static int seed_nested(const char *out, const char *name, size_t depth,
                       int branches)
{
    proto_model p;
    proto_model_init(&p, branches ? "If" : "Loop");
    Onnx__GraphProto *g = calloc(depth, sizeof *g);
    Onnx__NodeProto *nd = calloc(depth, sizeof *nd);
    Onnx__NodeProto **ndp = calloc(depth, sizeof *ndp);
    Onnx__AttributeProto *at = calloc(2 * depth, sizeof *at);
    Onnx__AttributeProto **atp = calloc(2 * depth, sizeof *atp);
    if (!g || !nd || !ndp || !at || !atp) {
        free(g), free(nd), free(ndp), free(at), free(atp);
        return 1;
    }
    static char *io_in[1] = {"x"}, *io_out[1] = {"y"};
    Onnx__GraphProto leaf = ONNX__GRAPH_PROTO__INIT;
    Onnx__NodeProto leaf_node = ONNX__NODE_PROTO__INIT, *leaf_nodes[1] = {&leaf_node};
    leaf.name = "leaf";
    leaf_node.op_type = "Identity";
    leaf_node.domain = "";
    leaf_node.input = io_in;
    leaf_node.n_input = 1;
    leaf_node.output = io_out;
    leaf_node.n_output = 1;
    leaf.node = leaf_nodes;
    leaf.n_node = 1;
    for (size_t k = 0; k < depth; k++) {
        onnx__graph_proto__init(&g[k]);
        g[k].name = "body";
        onnx__node_proto__init(&nd[k]);
        nd[k].op_type = k + 1 < depth ? (branches ? "If" : "Loop") : "Identity";
        nd[k].domain = "";
        nd[k].input = io_in;
        nd[k].n_input = 1;
        nd[k].output = io_out;
        nd[k].n_output = 1;
        ndp[k] = &nd[k];
        g[k].node = &ndp[k];
        g[k].n_node = 1;
    }
    /* graph k's node holds graph k + 1; the model's own node holds g[0] */
    for (size_t k = 0; k < depth; k++) {
        Onnx__NodeProto *holder = k == 0 ? &p.node : &nd[k - 1];
        size_t na = branches ? 2 : 1;
        for (size_t j = 0; j < na; j++) {
            Onnx__AttributeProto *a = &at[2 * k + j];
            onnx__attribute_proto__init(a);
            a->name = branches ? (j ? "else_branch" : "then_branch") : "body";
            a->has_type = 1;
            a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
            a->g = j ? &leaf : &g[k];
            atp[2 * k + j] = a;
        }
        holder->attribute = &atp[2 * k];
        holder->n_attribute = na;
    }
    int rc = put_model(out, &p.m, name);
    free(g), free(nd), free(ndp), free(at), free(atp);
    return rc;
}

/* Unknown ops of the default domain and another: refused in one message,
 * or dropped and listed (inspect). */
static int seed_unknown(const char *out)
{
    proto_model p;
    proto_model_init(&p, "FancyOp");
    p.node.domain = "com.example";
    return put_model(out, &p.m, "unknown_op.onnx");
}

/* ---- TensorProto files ------------------------------------------------- */

static int put_tensor(const char *out, const Onnx__TensorProto *t, const char *name)
{
    size_t n = onnx__tensor_proto__get_packed_size(t);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return 1;
    onnx__tensor_proto__pack(t, buf);
    int rc = seed_put(out, "tensor_proto", name, buf, n);
    free(buf);
    return rc;
}

static int seeds_tensors(const char *out)
{
    int rc = 0;
    /* raw_data of each dtype distilc reads, ranks 0 to 3 */
    static const struct {
        int dtype;
        int rank;
        const char *name;
    } raw[] = {{ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, "f32.pb"},
               {ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, "i64.pb"},
               {ONNX__TENSOR_PROTO__DATA_TYPE__INT32, 3, "i32.pb"},
               {ONNX__TENSOR_PROTO__DATA_TYPE__INT8, 1, "i8.pb"},
               {ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 1, "u8.pb"},
               {ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 1, "bool.pb"},
               {ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, 2, "f16.pb"},
               {ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16, 1, "bf16.pb"},
               {ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, "scalar.pb"}};
    static const size_t esize[] = {[1] = 4, [2] = 1, [3] = 1, [6] = 4, [7] = 8,
                                   [9] = 1, [10] = 2, [16] = 2};
    uint8_t payload[256];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 29u + 3u);
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
        int64_t dims[3] = {2, 3, 2};
        size_t numel = 1;
        for (int r = 0; r < raw[i].rank; r++)
            numel *= (size_t)dims[r];
        t.name = "input_ids";
        t.has_data_type = 1;
        t.data_type = raw[i].dtype;
        t.dims = dims;
        t.n_dims = (size_t)raw[i].rank;
        t.has_raw_data = 1;
        t.raw_data.data = payload;
        t.raw_data.len = numel * esize[raw[i].dtype];
        if (raw[i].dtype == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
            memset(payload, 1, t.raw_data.len);
        rc |= put_tensor(out, &t, raw[i].name);
    }
    /* the typed fields: float_data, int64_data, int32_data (for f16) */
    float fv[3] = {1.5f, -0.0f, 3e38f};
    int64_t iv[3] = {101, 7592, 102}, d3[1] = {3};
    int32_t hv[3] = {0x3c00, 0x7c00, 0xfc01};
    Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
    t.has_data_type = 1;
    t.dims = d3;
    t.n_dims = 1;
    t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t.float_data = fv;
    t.n_float_data = 3;
    rc |= put_tensor(out, &t, "float_data.pb");
    t.n_float_data = 0;
    t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t.int64_data = iv;
    t.n_int64_data = 3;
    rc |= put_tensor(out, &t, "int64_data.pb");
    t.n_int64_data = 0;
    t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    t.int32_data = hv;
    t.n_int32_data = 3;
    rc |= put_tensor(out, &t, "int32_data_f16.pb");
    t.n_int32_data = 0;
    /* external data beside the .pb */
    Onnx__StringStringEntryProto e[3] = {ONNX__STRING_STRING_ENTRY_PROTO__INIT,
                                         ONNX__STRING_STRING_ENTRY_PROTO__INIT,
                                         ONNX__STRING_STRING_ENTRY_PROTO__INIT};
    Onnx__StringStringEntryProto *ep[3] = {&e[0], &e[1], &e[2]};
    e[0].key = "location", e[0].value = "ext.data";
    e[1].key = "offset", e[1].value = "64";
    e[2].key = "length", e[2].value = "12";
    t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t.has_data_location = 1;
    t.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    t.external_data = ep;
    t.n_external_data = 3;
    rc |= put_tensor(out, &t, "external.pb");
    return rc;
}

int seeds_onnx(const char *out, const char *tmp)
{
    (void)tmp;
    int rc = seed_mlp(out) | seed_shapes(out) | seed_unknown(out);
    rc |= seed_external(out, "ext_good.onnx", "ext.onnx.data", "64", "8");
    rc |= seed_external(out, "ext_rest.onnx", "ext.onnx.data", "65528", NULL);
    rc |= seed_external(out, "ext_past_end.onnx", "ext.onnx.data", "65535", "8");
    rc |= seed_external(out, "ext_dotdot.onnx", "../outside.data", "0", "8");
    rc |= seed_external(out, "ext_absolute.onnx", "/etc/hostname", "0", "8");
    rc |= seed_external(out, "ext_symlink.onnx", "escape.data", "0", "8");
    rc |= seed_external(out, "ext_folder.onnx", "sub", "0", "8");
    rc |= seed_external(out, "ext_missing.onnx", "missing.data", NULL, NULL);
    rc |= seed_nested(out, "loop_depth3.onnx", 3, 0);
    rc |= seed_nested(out, "loop_depth32.onnx", 32, 0);
    rc |= seed_nested(out, "loop_depth200.onnx", 200, 0);
    rc |= seed_nested(out, "if_depth32.onnx", 32, 1);
    rc |= seeds_tensors(out);
    return rc;
}

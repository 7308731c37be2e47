/* test_onnx_load.c — loading ONNX models: what is accepted, and how each kind
 * of bad input is refused (status + a message naming the thing at fault).
 *
 * Most cases start from `tiny`, a model "y = Add(x, w)" written directly as
 * protobuf-c structs on the stack, and change one field: that shows exactly
 * which field the loader checks. Whole-file cases (empty, truncated, random
 * bytes, a tensor file, a missing file, external data) use a temp folder.
 * Run under the sanitizer build: none of these may leak or crash.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/onnx.h"
#include "onnx/onnx.pb-c.h"
#include "testutil.h"

/* ---- the tiny model ------------------------------------------------------- */

typedef struct tiny {
    Onnx__ModelProto m;
    Onnx__OperatorSetIdProto opset, *opsets[2];
    Onnx__GraphProto g;
    Onnx__NodeProto node[3], *nodes[3];
    char *node_in[3][3], *node_out[3][2];
    Onnx__AttributeProto attr, *attrs[1];
    Onnx__TensorProto init, *inits[2];
    int64_t init_dims[2];
    float init_data[4];
    Onnx__ValueInfoProto in, out, *ins[2], *outs[1];
    Onnx__TypeProto in_type;
    Onnx__TypeProto__Tensor in_tt;
    Onnx__TensorShapeProto in_shape;
    Onnx__TensorShapeProto__Dimension in_dim[3], *in_dims[3];
} tiny;

/* y = Add(x, w); x: f32[batch, 2]; w: f32[2,2] initializer (raw_data). */
static void tiny_init(tiny *t)
{
    memset(t, 0, sizeof *t);
    onnx__model_proto__init(&t->m);
    t->m.has_ir_version = 1;
    t->m.ir_version = 7;
    t->m.producer_name = "pytorch";
    onnx__operator_set_id_proto__init(&t->opset);
    t->opset.domain = "";
    t->opset.has_version = 1;
    t->opset.version = 13;
    t->opsets[0] = &t->opset;
    t->m.n_opset_import = 1;
    t->m.opset_import = t->opsets;
    onnx__graph_proto__init(&t->g);
    t->g.name = "torch_jit";
    t->m.graph = &t->g;

    for (int i = 0; i < 3; i++) {
        onnx__node_proto__init(&t->node[i]);
        t->node[i].input = t->node_in[i];
        t->node[i].output = t->node_out[i];
        t->node[i].domain = "";
        t->nodes[i] = &t->node[i];
    }
    t->node[0].name = "add0";
    t->node[0].op_type = "Add";
    t->node_in[0][0] = "x";
    t->node_in[0][1] = "w";
    t->node[0].n_input = 2;
    t->node_out[0][0] = "y";
    t->node[0].n_output = 1;
    t->g.node = t->nodes;
    t->g.n_node = 1;
    onnx__attribute_proto__init(&t->attr);
    t->attrs[0] = &t->attr;

    onnx__tensor_proto__init(&t->init);
    t->init.name = "w";
    t->init_dims[0] = t->init_dims[1] = 2;
    t->init.n_dims = 2;
    t->init.dims = t->init_dims;
    t->init.has_data_type = 1;
    t->init.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    for (int i = 0; i < 4; i++)
        t->init_data[i] = (float)i + 0.5f;
    t->init.has_raw_data = 1;
    t->init.raw_data.data = (uint8_t *)t->init_data;
    t->init.raw_data.len = sizeof t->init_data;
    t->inits[0] = &t->init;
    t->g.initializer = t->inits;
    t->g.n_initializer = 1;

    onnx__value_info_proto__init(&t->in);
    t->in.name = "x";
    onnx__type_proto__init(&t->in_type);
    onnx__type_proto__tensor__init(&t->in_tt);
    onnx__tensor_shape_proto__init(&t->in_shape);
    t->in.type = &t->in_type;
    t->in_type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->in_type.tensor_type = &t->in_tt;
    t->in_tt.has_elem_type = 1;
    t->in_tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->in_tt.shape = &t->in_shape;
    for (int i = 0; i < 3; i++) {
        onnx__tensor_shape_proto__dimension__init(&t->in_dim[i]);
        t->in_dims[i] = &t->in_dim[i];
    }
    t->in_dim[0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    t->in_dim[0].dim_param = "batch";
    t->in_dim[1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    t->in_dim[1].dim_value = 2;
    t->in_shape.dim = t->in_dims;
    t->in_shape.n_dim = 2;
    t->ins[0] = &t->in;
    t->g.input = t->ins;
    t->g.n_input = 1;

    onnx__value_info_proto__init(&t->out);
    t->out.name = "y";
    t->outs[0] = &t->out;
    t->g.output = t->outs;
    t->g.n_output = 1;
}

/* Packs the model and loads it from memory (base_dir for external data). */
static ir_status tiny_load_opts(const tiny *t, const char *base_dir,
                                const onnx_load_opts *opts, ir_graph **g,
                                ir_diag *d)
{
    size_t n = onnx__model_proto__get_packed_size(&t->m);
    uint8_t *buf = malloc(n);
    onnx__model_proto__pack(&t->m, buf);
    ir_diag_init(d);
    ir_status s = onnx_load_buffer(buf, n, base_dir, opts, g, d);
    free(buf);
    return s;
}

/* Loads and expects failure with status `want` and every `needle` in the
 * message. */
static void expect_fail(const tiny *t, const char *base_dir, ir_status want,
                        const char *what, const char *needle1,
                        const char *needle2)
{
    ir_graph *g = (ir_graph *)1;
    ir_diag d;
    ir_status s = tiny_load_opts(t, base_dir, NULL, &g, &d);
    CHECK_MSG(s == want, "%s: got %s (%s), want %s", what, ir_status_name(s),
              d.msg, ir_status_name(want));
    CHECK_MSG(g == NULL, "%s: *out not cleared", what);
    CHECK_MSG(!needle1 || strstr(d.msg, needle1), "%s: '%s' not in: %s", what,
              needle1, d.msg);
    CHECK_MSG(!needle2 || strstr(d.msg, needle2), "%s: '%s' not in: %s", what,
              needle2, d.msg);
    if (s == IR_OK)
        ir_graph_free(g);
}

/* ---- accepted models ---------------------------------------------------------- */

static void test_tiny_loads(void)
{
    tiny t;
    tiny_init(&t);
    ir_graph *g = NULL;
    ir_diag d;
    CHECK_MSG(tiny_load_opts(&t, NULL, NULL, &g, &d) == IR_OK, "%s", d.msg);
    if (!g)
        return;
    CHECK(strcmp(g->name, "torch_jit") == 0);
    CHECK(g->opset == 13 && g->ir_version == 7);
    CHECK(g->producer_name && strcmp(g->producer_name, "pytorch") == 0);
    CHECK(g->n_inputs == 1 && g->n_outputs == 1 && g->n_nodes == 1);
    ir_value *x = g->inputs[0];
    CHECK(x->dtype == IR_DT_F32 && x->rank == 2);
    CHECK(!ir_dim_known(x->dims[0]) && x->dims[0].sym &&
          strcmp(x->dims[0].sym, "batch") == 0);
    CHECK(x->dims[1].size == 2);
    ir_value *w = ir_graph_find_value(g, "w");
    CHECK(w && w->constant && !w->is_input);
    CHECK(w && w->constant && ((float *)w->constant->data)[3] == 3.5f);
    CHECK(g->nodes[0]->op == IR_OP_ADD && g->nodes[0]->inputs[1] == w);
    CHECK(strcmp(g->outputs[0]->name, "y") == 0);
    ir_diag_init(&d);
    CHECK_MSG(ir_graph_verify(g, &d) == IR_OK, "%s", d.msg);
    ir_graph_free(g);

    /* An initializer also listed as a graph input (IR < 4 exporters) is a
     * constant, not a runtime input; a dim with neither value nor param is
     * unknown. */
    Onnx__ValueInfoProto win = ONNX__VALUE_INFO_PROTO__INIT;
    win.name = "w";
    t.ins[1] = &win;
    t.g.n_input = 2;
    t.in_shape.n_dim = 3; /* in_dim[2] has no value */
    CHECK_MSG(tiny_load_opts(&t, NULL, NULL, &g, &d) == IR_OK, "%s", d.msg);
    if (g) {
        CHECK(g->n_inputs == 1 && g->inputs[0]->rank == 3);
        CHECK(g->inputs[0]->dims[2].size < 0 && !g->inputs[0]->dims[2].sym);
        ir_graph_free(g);
    }
}

/* Typed fields instead of raw_data: float_data, int64_data, int32_data
 * (f16 as bit patterns, bool as 0/1). */
static void test_typed_fields(void)
{
    tiny t;
    tiny_init(&t);
    ir_graph *g = NULL;
    ir_diag d;
    t.init.has_raw_data = 0;
    t.init.n_float_data = 4;
    t.init.float_data = t.init_data;
    CHECK_MSG(tiny_load_opts(&t, NULL, NULL, &g, &d) == IR_OK, "%s", d.msg);
    if (g) {
        ir_value *w = ir_graph_find_value(g, "w");
        CHECK(((float *)w->constant->data)[2] == 2.5f);
        ir_graph_free(g);
    }
    int32_t halves[4] = {0x3c00, 0x4000, 0xbc00, 0};
    t.init.n_float_data = 0;
    t.init.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    t.init.n_int32_data = 4;
    t.init.int32_data = halves;
    CHECK_MSG(tiny_load_opts(&t, NULL, NULL, &g, &d) == IR_OK, "%s", d.msg);
    if (g) {
        ir_value *w = ir_graph_find_value(g, "w");
        CHECK(w->constant->dtype == IR_DT_F16);
        CHECK(ir_f16_to_f32(((uint16_t *)w->constant->data)[1]) == 2.0f);
        CHECK(ir_f16_to_f32(((uint16_t *)w->constant->data)[2]) == -1.0f);
        ir_graph_free(g);
    }
    int32_t bools[4] = {1, 0, 1, 2};
    t.init.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
    t.init.int32_data = bools;
    expect_fail(&t, NULL, IR_ERR_INPUT, "bool 2", "initializer 'w'",
                "does not fit BOOL");
    int64_t longs[4] = {INT64_MIN, -1, 0, INT64_MAX};
    t.init.n_int32_data = 0;
    t.init.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t.init.n_int64_data = 4;
    t.init.int64_data = longs;
    CHECK_MSG(tiny_load_opts(&t, NULL, NULL, &g, &d) == IR_OK, "%s", d.msg);
    if (g) {
        ir_value *w = ir_graph_find_value(g, "w");
        CHECK(((int64_t *)w->constant->data)[0] == INT64_MIN);
        CHECK(((int64_t *)w->constant->data)[3] == INT64_MAX);
        ir_graph_free(g);
    }
    t.init.n_int64_data = 3;
    expect_fail(&t, NULL, IR_ERR_INPUT, "short int64_data", "int64_data holds 3",
                "needs 4");
}

/* Constant nodes stay nodes; parameters are the initializers alone;
 * value_info fills in intermediate types. */
static void test_constant_node_and_value_info(void)
{
    tiny t;
    tiny_init(&t);
    /* c = Constant(value=[7, 8] i64); y2 = Add(y, c) */
    int64_t cdims[1] = {2}, cdata[2] = {7, 8};
    Onnx__TensorProto ct = ONNX__TENSOR_PROTO__INIT;
    ct.n_dims = 1;
    ct.dims = cdims;
    ct.has_data_type = 1;
    ct.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    ct.n_int64_data = 2;
    ct.int64_data = cdata;
    t.attr.name = "value";
    t.attr.has_type = 1;
    t.attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    t.attr.t = &ct;
    t.node[1].op_type = "Constant";
    t.node[1].name = "c";
    t.node_out[1][0] = "c_out";
    t.node[1].n_output = 1;
    t.node[1].n_attribute = 1;
    t.node[1].attribute = t.attrs;
    t.node[2].op_type = "Add";
    t.node_in[2][0] = "y";
    t.node_in[2][1] = "c_out";
    t.node[2].n_input = 2;
    t.node_out[2][0] = "y2";
    t.node[2].n_output = 1;
    t.g.n_node = 3;
    t.out.name = "y2";
    /* value_info: y is f32 with rank 2 */
    Onnx__ValueInfoProto vi = ONNX__VALUE_INFO_PROTO__INIT;
    Onnx__ValueInfoProto *vis[1] = {&vi};
    vi.name = "y";
    vi.type = &t.in_type;
    t.g.n_value_info = 1;
    t.g.value_info = vis;

    ir_graph *g = NULL;
    ir_diag d;
    CHECK_MSG(tiny_load_opts(&t, NULL, NULL, &g, &d) == IR_OK, "%s", d.msg);
    if (!g)
        return;
    CHECK(g->n_nodes == 3);
    ir_node *c = NULL;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i]->op == IR_OP_CONSTANT)
            c = g->nodes[i];
    CHECK(c && strcmp(c->name, "c") == 0);
    ir_attr *a = c ? ir_node_attr(c, "value") : NULL;
    CHECK(a && a->kind == IR_ATTR_TENSOR && a->t->dtype == IR_DT_I64 &&
          ((int64_t *)a->t->data)[1] == 8);
    int64_t params;
    ir_graph_param_stats(g, &params, NULL);
    CHECK_MSG(params == 4, "params %lld", (long long)params);
    ir_value *y = ir_graph_find_value(g, "y");
    CHECK(y && y->dtype == IR_DT_F32 && y->rank == 2);
    ir_graph_free(g);

    /* Nodes out of order are sorted: the consumer first in the file. */
    t.nodes[0] = &t.node[2];
    t.nodes[2] = &t.node[0];
    CHECK_MSG(tiny_load_opts(&t, NULL, NULL, &g, &d) == IR_OK, "%s", d.msg);
    if (g) {
        CHECK(g->nodes[g->n_nodes - 1]->outputs[0] ==
              ir_graph_find_value(g, "y2"));
        ir_graph_free(g);
    }
}

/* ---- refused models -------------------------------------------------------- */

static void test_structure_errors(void)
{
    tiny t;
    tiny_init(&t);
    t.node_in[0][1] = "w_missing";
    expect_fail(&t, NULL, IR_ERR_INPUT, "undefined input", "node 'add0' (Add) "
                "reads 'w_missing', which no node, graph input or initializer "
                "defines", NULL);

    tiny_init(&t);
    t.node_out[0][0] = "x";
    expect_fail(&t, NULL, IR_ERR_INPUT, "output redefines input",
                "output 'x' is already defined by a graph input", NULL);

    tiny_init(&t);
    t.node[1] = t.node[0]; /* a second Add also writing 'y' */
    t.node[1].name = "add1";
    t.g.n_node = 2;
    expect_fail(&t, NULL, IR_ERR_INPUT, "two producers", "node 'add1'",
                "'y' is already defined by another node 'add0'");

    tiny_init(&t);
    t.node[0].n_input = 1;
    expect_fail(&t, NULL, IR_ERR_INPUT, "arity", "node 'add0' (Add) has 1 "
                "inputs", "2..2");

    tiny_init(&t);
    t.out.name = "nowhere";
    expect_fail(&t, NULL, IR_ERR_INPUT, "dangling output",
                "graph output 'nowhere' is not produced", NULL);

    /* a cycle: y = Add(x, z), z = Relu(y) feeding back */
    tiny_init(&t);
    t.node_in[0][1] = "z";
    t.node[1].op_type = "Relu";
    t.node[1].name = "loop";
    t.node_in[1][0] = "y";
    t.node[1].n_input = 1;
    t.node_out[1][0] = "z";
    t.node[1].n_output = 1;
    t.g.n_node = 2;
    expect_fail(&t, NULL, IR_ERR_INPUT, "cycle", "cycle", NULL);

    tiny_init(&t);
    t.m.graph = NULL;
    expect_fail(&t, NULL, IR_ERR_INPUT, "no graph", "no graph", NULL);

    tiny_init(&t);
    t.m.has_ir_version = 0;
    expect_fail(&t, NULL, IR_ERR_INPUT, "no ir_version", "ir_version", NULL);

    /* a subgraph attribute */
    tiny_init(&t);
    Onnx__GraphProto sub = ONNX__GRAPH_PROTO__INIT;
    t.attr.name = "body";
    t.attr.has_type = 1;
    t.attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    t.attr.g = &sub;
    t.node[0].n_attribute = 1;
    t.node[0].attribute = t.attrs;
    expect_fail(&t, NULL, IR_ERR_UNSUPPORTED, "graph attribute",
                "node 'add0' (Add) attribute 'body'", "GRAPH");
}

static void test_unknown_ops(void)
{
    tiny t;
    tiny_init(&t);
    /* y = Add(x, w); u = FancyOp(y) (unnamed); v = com.microsoft.MultiHeadAttention(u) */
    t.node[1].op_type = "FancyOp";
    t.node_in[1][0] = "y";
    t.node[1].n_input = 1;
    t.node_out[1][0] = "u";
    t.node[1].n_output = 1;
    t.node[2].op_type = "MultiHeadAttention";
    t.node[2].domain = "com.microsoft";
    t.node[2].name = "attn_3";
    t.node_in[2][0] = "u";
    t.node[2].n_input = 1;
    t.node_out[2][0] = "v";
    t.node[2].n_output = 1;
    t.g.n_node = 3;
    t.out.name = "v";
    expect_fail(&t, NULL, IR_ERR_UNSUPPORTED, "unknown ops",
                "FancyOp (node #1)", "com.microsoft.MultiHeadAttention (node 'attn_3')");

    /* inspect-style loading: keep going, get the list back */
    char *list = NULL;
    onnx_load_opts o = {.allow_unknown_ops = true, .unknown_out = &list};
    ir_graph *g = NULL;
    ir_diag d;
    CHECK_MSG(tiny_load_opts(&t, NULL, &o, &g, &d) == IR_OK, "%s", d.msg);
    CHECK(list && strstr(list, "FancyOp (node #1), com.microsoft.MultiHeadAttention"));
    CHECK(g && g->n_nodes == 1 && g->nodes[0]->op == IR_OP_ADD);
    free(list);
    ir_graph_free(g);

    /* a model whose ops are all known leaves the list NULL */
    tiny_init(&t);
    list = (char *)"stale";
    CHECK(tiny_load_opts(&t, NULL, &o, &g, &d) == IR_OK && list == NULL);
    ir_graph_free(g);
}

static void test_opsets(void)
{
    tiny t;
    tiny_init(&t);
    t.opset.version = 30;
    expect_fail(&t, NULL, IR_ERR_UNSUPPORTED, "opset 30", "opset 30", "7..25");
    t.opset.version = 5;
    expect_fail(&t, NULL, IR_ERR_UNSUPPORTED, "opset 5", "opset 5", NULL);
    t.opset.domain = "ai.onnx";
    t.opset.version = 17;
    ir_graph *g = NULL;
    ir_diag d;
    CHECK_MSG(tiny_load_opts(&t, NULL, NULL, &g, &d) == IR_OK, "%s", d.msg);
    CHECK(g && g->opset == 17);
    ir_graph_free(g);
    t.opset.domain = "com.microsoft";
    expect_fail(&t, NULL, IR_ERR_INPUT, "no default opset", "opset_import",
                NULL);
}

static void test_tensor_errors(void)
{
    tiny t;
    tiny_init(&t);
    t.init.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    expect_fail(&t, NULL, IR_ERR_UNSUPPORTED, "double", "initializer 'w'",
                "DOUBLE");

    tiny_init(&t);
    t.in_tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__STRING;
    expect_fail(&t, NULL, IR_ERR_UNSUPPORTED, "string input",
                "graph input 'x'", "STRING");

    tiny_init(&t);
    t.init_dims[0] = t.init_dims[1] = (int64_t)1 << 40;
    expect_fail(&t, NULL, IR_ERR_INPUT, "dims overflow", "initializer 'w'",
                "overflows");

    tiny_init(&t);
    t.init_dims[1] = -2;
    expect_fail(&t, NULL, IR_ERR_INPUT, "negative dim", "initializer 'w'",
                "negative dimension -2");

    tiny_init(&t);
    t.init.raw_data.len = 10;
    expect_fail(&t, NULL, IR_ERR_INPUT, "payload length", "initializer 'w'",
                "raw_data holds 10 bytes");

    tiny_init(&t);
    t.init.has_raw_data = 0;
    expect_fail(&t, NULL, IR_ERR_INPUT, "no payload", "initializer 'w'",
                "holds 0 values");

    tiny_init(&t);
    int64_t dims9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    t.init.dims = dims9;
    t.init.n_dims = 9;
    expect_fail(&t, NULL, IR_ERR_UNSUPPORTED, "rank 9", "initializer 'w'",
                "rank 9");

    tiny_init(&t);
    Onnx__TensorProto__Segment seg = ONNX__TENSOR_PROTO__SEGMENT__INIT;
    t.init.segment = &seg;
    expect_fail(&t, NULL, IR_ERR_UNSUPPORTED, "segment", "initializer 'w'",
                "segment");
}

/* ---- files ----------------------------------------------------------------- */

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fwrite(p, 1, n, f) == n);
    fclose(f);
}

static void expect_file_fail(const char *path, ir_status want,
                             const char *needle)
{
    ir_graph *g = NULL;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = onnx_load_file(path, NULL, &g, &d);
    CHECK_MSG(s == want, "%s: got %s (%s)", path, ir_status_name(s), d.msg);
    CHECK_MSG(strstr(d.msg, path) != NULL, "path not named: %s", d.msg);
    CHECK_MSG(!needle || strstr(d.msg, needle), "'%s' not in: %s", needle,
              d.msg);
    CHECK(g == NULL);
    ir_graph_free(g);
}

static void test_bad_files(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/nonexistent.onnx", dir);
    expect_file_fail(path, IR_ERR_INPUT, "No such file");

    snprintf(path, sizeof path, "%s/empty.onnx", dir);
    write_bytes(path, "", 0);
    expect_file_fail(path, IR_ERR_INPUT, "empty");

    /* Random bytes (a fixed LCG so failures reproduce). */
    snprintf(path, sizeof path, "%s/random.onnx", dir);
    uint8_t junk[4096];
    for (uint32_t seed = 1; seed <= 8; seed++) {
        uint32_t x = seed * 2654435761u;
        for (size_t i = 0; i < sizeof junk; i++) {
            x = x * 1664525u + 1013904223u;
            junk[i] = (uint8_t)(x >> 24);
        }
        write_bytes(path, junk, sizeof junk >> (seed % 4));
        expect_file_fail(path, IR_ERR_INPUT, "not an ONNX model");
    }

    /* A valid protobuf that is a tensor, not a model. */
    snprintf(path, sizeof path, "%s/tensor.pb", dir);
    int64_t dims[2] = {3, 5};
    ir_tensor *t = ir_tensor_new(IR_DT_F32, 2, dims);
    ir_diag d;
    ir_diag_init(&d);
    CHECK(onnx_tensor_write_file(path, t, "input_0", &d) == IR_OK);
    ir_tensor_free(t);
    expect_file_fail(path, IR_ERR_INPUT, "not an ONNX model");

    /* A valid model cut short at several lengths. */
    tiny m;
    tiny_init(&m);
    size_t n = onnx__model_proto__get_packed_size(&m.m);
    uint8_t *buf = malloc(n);
    onnx__model_proto__pack(&m.m, buf);
    snprintf(path, sizeof path, "%s/cut.onnx", dir);
    size_t cuts[] = {1, 2, 5, n / 4, n / 3, n / 2, 2 * n / 3, n - 20, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(path, buf, cuts[i]);
        ir_graph *g = NULL;
        ir_diag_init(&d);
        ir_status s = onnx_load_file(path, NULL, &g, &d);
        CHECK_MSG(s == IR_ERR_INPUT && g == NULL && strstr(d.msg, path),
                  "cut at %zu of %zu: %s %s", cuts[i], n, ir_status_name(s),
                  d.msg);
        ir_graph_free(g);
    }
    /* ... and whole it loads from its file. */
    snprintf(path, sizeof path, "%s/whole.onnx", dir);
    write_bytes(path, buf, n);
    ir_graph *g = NULL;
    CHECK(onnx_load_file(path, NULL, &g, &d) == IR_OK && g);
    ir_graph_free(g);
    free(buf);
    /* A missing .pb tensor file is the user's error (exit 2), naming it. */
    ir_tensor *u = NULL;
    CHECK(onnx_tensor_read_file("/nonexistent/x.pb", &u, NULL, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "/nonexistent/x.pb") != NULL && u == NULL);
}

/* ---- nesting -------------------------------------------------------------- */

/* Raw protobuf bytes (the wire format), so a test can write what no
 * exporter would: a growing buffer, fields appended one at a time. */
typedef struct wire {
    uint8_t *p;
    size_t n;
} wire;

static void wire_varint(wire *w, uint64_t v)
{
    w->p = realloc(w->p, w->n + 10);
    do {
        w->p[w->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void wire_int(wire *w, unsigned field, uint64_t v)
{
    wire_varint(w, (uint64_t)field << 3);
    wire_varint(w, v);
}

/* Appends field = bytes (a string or a whole message). */
static void wire_bytes(wire *w, unsigned field, const void *b, size_t n)
{
    wire_varint(w, (uint64_t)field << 3 | 2);
    wire_varint(w, n);
    w->p = realloc(w->p, w->n + n + 1);
    memcpy(w->p + w->n, b, n);
    w->n += n;
}

/* field = the message m, which is freed. */
static void wire_msg(wire *w, unsigned field, wire *m)
{
    wire_bytes(w, field, m->p, m->n);
    free(m->p);
    *m = (wire){0};
}

/* A model whose graph holds a Loop whose body holds a Loop ...: `graphs`
 * graphs in all, the innermost empty (the shape of the 133 KB file with
 * 5,000 levels that overflowed protobuf-c's stack). */
static wire nested_loops(int graphs)
{
    wire g = {0};
    wire_bytes(&g, 2, "g", 1); /* GraphProto.name */
    for (int i = 1; i < graphs; i++) {
        wire attr = {0}, node = {0}, outer = {0};
        wire_bytes(&attr, 1, "body", 4); /* AttributeProto.name */
        wire_int(&attr, 20, 5);          /* .type = GRAPH */
        wire_msg(&attr, 6, &g);          /* .g */
        wire_bytes(&node, 4, "Loop", 4); /* NodeProto.op_type */
        wire_msg(&node, 5, &attr);       /* .attribute */
        wire_msg(&outer, 1, &node);      /* GraphProto.node */
        wire_bytes(&outer, 2, "g", 1);
        g = outer;
    }
    wire opset = {0}, m = {0};
    wire_bytes(&opset, 1, "", 0); /* OperatorSetIdProto.domain */
    wire_int(&opset, 2, 14);      /* .version */
    wire_int(&m, 1, 8);           /* ModelProto.ir_version */
    wire_msg(&m, 8, &opset);      /* .opset_import */
    wire_msg(&m, 7, &g);          /* .graph */
    return m;
}

/* A model whose graph input has the type sequence(sequence(...(tensor))),
 * `levels` sequences deep: TypeProto nests too, without any subgraph. */
static wire nested_types(int levels)
{
    wire t = {0}, tt = {0};
    wire_int(&tt, 1, 1);    /* TypeProto.Tensor.elem_type = FLOAT */
    wire_msg(&t, 1, &tt);   /* TypeProto.tensor_type */
    for (int i = 0; i < levels; i++) {
        wire seq = {0}, outer = {0};
        wire_msg(&seq, 1, &t);    /* TypeProto.Sequence.elem_type */
        wire_msg(&outer, 4, &seq); /* TypeProto.sequence_type */
        t = outer;
    }
    wire vi = {0}, g = {0}, opset = {0}, m = {0};
    wire_bytes(&vi, 1, "x", 1); /* ValueInfoProto.name */
    wire_msg(&vi, 2, &t);       /* .type */
    wire_msg(&g, 11, &vi);      /* GraphProto.input */
    wire_bytes(&opset, 1, "", 0);
    wire_int(&opset, 2, 14);
    wire_int(&m, 1, 8);
    wire_msg(&m, 8, &opset);
    wire_msg(&m, 7, &g);
    return m;
}

static void expect_buffer(const wire *w, ir_status want, const char *needle,
                          const char *what)
{
    ir_graph *g = NULL;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = onnx_load_buffer(w->p, w->n, NULL, NULL, &g, &d);
    CHECK_MSG(s == want && g == NULL && strstr(d.msg, needle), "%s: %s: %s",
              what, ir_status_name(s), d.msg);
    ir_graph_free(g);
}

/* A model of `n` nodes, node i of op name(i) (op_type only: the loader
 * lists unknown ops before it wires anything). */
static wire many_ops(int n, void (*name)(int, char *, size_t))
{
    wire g = {0}, opset = {0}, m = {0};
    for (int i = 0; i < n; i++) {
        char op[128];
        name(i, op, sizeof op);
        wire node = {0};
        wire_bytes(&node, 4, op, strlen(op));
        wire_msg(&g, 1, &node);
    }
    wire_bytes(&opset, 1, "", 0);
    wire_int(&opset, 2, 14);
    wire_int(&m, 1, 8);
    wire_msg(&m, 8, &opset);
    wire_msg(&m, 7, &g);
    return m;
}

static void foo_bar(int i, char *buf, size_t n)
{
    snprintf(buf, n, "%s", i < 940 ? "Foo" : "Bar");
}

static void distinct(int i, char *buf, size_t n)
{
    snprintf(buf, n, "Op%03d_with_a_long_name_xxxxxxxxxxxxxxxxxxxxxxxx", i % 300);
}

/* 1,000 unsupported nodes: one message, grouped by op with counts, cut at
 * whole items with "and N more" (it was one line cut mid-name at 4 KB). */
static void test_unknown_ops_grouped(void)
{
    wire w = many_ops(1000, foo_bar);
    expect_buffer(&w, IR_ERR_UNSUPPORTED, "1000 nodes use ops distilc does not "
                  "support: Foo \u00d7940 (first: node #0), Bar \u00d760 (first: "
                  "node #940)", "Foo x940, Bar x60");
    free(w.p);
    w = many_ops(1000, distinct);
    ir_graph *g = NULL;
    ir_diag d;
    ir_diag_init(&d);
    CHECK(onnx_load_buffer(w.p, w.n, NULL, NULL, &g, &d) == IR_ERR_UNSUPPORTED);
    size_t len = strlen(d.msg);
    const char *more = strstr(d.msg, ", and ");
    int n_more = 0, n_nodes = 0;
    CHECK_MSG(more && sscanf(more, ", and %d more ops (%d nodes)", &n_more,
                             &n_nodes) == 2 && strcmp(d.msg + len - 6, "nodes)") == 0,
              "%s", d.msg);
    CHECK_MSG(len < IR_DIAG_MSG_MAX / 2 + 200 && n_more > 200 && n_more < 300 &&
              strstr(d.msg, "Op000_with_a_long_name_xxxxxxxxxxxxxxxxxxxxxxxx "
                     "\u00d74 (first: node #0)"), "%zu bytes, %d more: %s", len,
              n_more, d.msg);
    /* inspect's way: the grouped list uncut, and every op by name, one per
     * line (the nodes are dropped, leaving an empty graph) */
    char *list = NULL, *names = NULL;
    onnx_load_opts o = {.allow_unknown_ops = true, .unknown_out = &list,
                        .unknown_ops_out = &names};
    CHECK_MSG(onnx_load_buffer(w.p, w.n, NULL, &o, &g, &d) == IR_OK, "%s", d.msg);
    CHECK(list && !strstr(list, "more ops") &&
          strstr(list, "Op299_with_a_long_name_xxxxxxxxxxxxxxxxxxxxxxxx \u00d73"));
    size_t lines = 0;
    for (const char *p = names; p && *p; p++)
        lines += *p == '\n';
    CHECK_MSG(lines == 300 && names && strncmp(names, "Op000_", 6) == 0,
              "%zu names", lines);
    free(list);
    free(names);
    ir_graph_free(g);
    free(w.p);
}

/* Nesting is bounded before protobuf-c unpacks (it recurses per message):
 * 64 graph levels reach the loader (which refuses the Loop op), 65 and
 * 5,000 are refused naming the limit, and so are 300 nested types; the
 * same bytes cut short are a parse error naming the byte. */
static void test_nesting(void)
{
    wire w = nested_loops(64);
    expect_buffer(&w, IR_ERR_UNSUPPORTED, "Loop", "64 graph levels");
    free(w.p);
    w = nested_loops(65);
    expect_buffer(&w, IR_ERR_INPUT, "at most 64 levels", "65 graph levels");
    free(w.p);
    w = nested_loops(5000);
    CHECK(w.n > 100000); /* as large as the file that crashed */
    expect_buffer(&w, IR_ERR_INPUT, "ONNX_MAX_GRAPH_DEPTH", "5000 graph levels");
    w.n -= 3;
    expect_buffer(&w, IR_ERR_INPUT, "does not parse at byte", "5000 levels, cut");
    free(w.p);
    w = nested_types(100);
    expect_buffer(&w, IR_ERR_UNSUPPORTED, "not a tensor", "100 nested types");
    free(w.p);
    w = nested_types(300);
    expect_buffer(&w, IR_ERR_INPUT, "ONNX_MAX_MESSAGE_DEPTH", "300 nested types");
    free(w.p);
    /* groups (wire types 3 and 4), which ONNX never writes */
    w = nested_loops(1);
    wire_varint(&w, 99u << 3 | 3);
    wire_varint(&w, 99u << 3 | 4);
    expect_buffer(&w, IR_ERR_INPUT, "does not parse", "a group");
    free(w.p);
}

/* External data: good, escaping the folder, out of range. */
static void test_external_data(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/weights.bin", dir);
    float payload[6] = {0, 0, 1.5f, 2.5f, 3.5f, 4.5f}; /* w at offset 8 */
    write_bytes(path, payload, sizeof payload);

    tiny t;
    tiny_init(&t);
    Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT,
                                 off = ONNX__STRING_STRING_ENTRY_PROTO__INIT,
                                 len = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    Onnx__StringStringEntryProto *ext[3] = {&loc, &off, &len};
    loc.key = "location";
    loc.value = "weights.bin";
    off.key = "offset";
    off.value = "8";
    len.key = "length";
    len.value = "16";
    t.init.has_raw_data = 0;
    t.init.has_data_location = 1;
    t.init.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    t.init.n_external_data = 3;
    t.init.external_data = ext;
    ir_graph *g = NULL;
    ir_diag d;
    CHECK_MSG(tiny_load_opts(&t, dir, NULL, &g, &d) == IR_OK, "%s", d.msg);
    if (g) {
        ir_value *w = ir_graph_find_value(g, "w");
        CHECK(w && w->constant->mmap_base &&
              ((float *)w->constant->data)[0] == 1.5f &&
              ((float *)w->constant->data)[3] == 4.5f);
        ir_graph_free(g);
    }
    /* No length key: the rest of the file. */
    t.init.n_external_data = 2;
    CHECK_MSG(tiny_load_opts(&t, dir, NULL, &g, &d) == IR_OK, "%s", d.msg);
    ir_graph_free(g);
    t.init.n_external_data = 3;

    /* From memory without a folder: refused, not guessed. */
    expect_fail(&t, NULL, IR_ERR_INPUT, "no base dir", "initializer 'w'",
                "external data");
    loc.value = "../weights.bin";
    expect_fail(&t, dir, IR_ERR_INPUT, "dotdot", "'../weights.bin' is refused",
                NULL);
    loc.value = "sub/../../etc/passwd";
    expect_fail(&t, dir, IR_ERR_INPUT, "inner dotdot", "is refused", NULL);
    loc.value = "/etc/passwd";
    expect_fail(&t, dir, IR_ERR_INPUT, "absolute", "is refused", NULL);
    /* A symlink inside the folder that points out of it. */
    char link[600];
    snprintf(link, sizeof link, "%s/escape.bin", dir);
    CHECK(symlink("/etc/hostname", link) == 0);
    loc.value = "escape.bin";
    expect_fail(&t, dir, IR_ERR_INPUT, "symlink", "outside the model's folder",
                NULL);
    unlink(link);
    /* the model names a file that is not there: the user's input (exit 2) */
    loc.value = "missing.bin";
    expect_fail(&t, dir, IR_ERR_INPUT, "missing file", "missing.bin",
                "No such file");
    /* a FIFO inside the folder: refused at once (an open would block until
     * something wrote to it), and so is a folder */
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/pipe.bin", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    loc.value = "pipe.bin";
    expect_fail(&t, dir, IR_ERR_INPUT, "FIFO", "pipe.bin", "is a FIFO");
    unlink(fifo);
    CHECK(mkdir(fifo, 0700) == 0);
    expect_fail(&t, dir, IR_ERR_INPUT, "folder", "pipe.bin", "is a folder");
    rmdir(fifo);
    loc.value = "weights.bin";
    off.value = "16";
    expect_fail(&t, dir, IR_ERR_INPUT, "past the end", "runs past the end",
                NULL);
    off.value = "100";
    expect_fail(&t, dir, IR_ERR_INPUT, "offset past end", "offset 100", NULL);
    off.value = "-8";
    expect_fail(&t, dir, IR_ERR_INPUT, "negative offset", "offset '-8'", NULL);
    off.value = "0";
    len.value = "12";
    expect_fail(&t, dir, IR_ERR_INPUT, "length mismatch", "holds 12 bytes",
                "need 16");
    unlink(path);
}


/* ---- real exporter output ----------------------------------------------------- */

/* Looks up "| file | ... | nodes | params |" in PROVENANCE.md; false when
 * the file is not in a table. */
static bool provenance_counts(const char *md, const char *file, long *nodes,
                              long *params)
{
    char key[300];
    snprintf(key, sizeof key, "| %s |", file);
    /* A name also listed under a folder (gelu.onnx and approximation/
     * gelu.onnx) is ambiguous by file name alone: not compared. */
    char sub[300];
    snprintf(sub, sizeof sub, "/%s |", file);
    if (strstr(md, sub))
        return false;
    for (const char *p = strstr(md, key); p; p = strstr(p + 1, key)) {
        if (p != md && p[-1] != '\n')
            continue;
        /* columns: file, bytes, blob, sha256, opset, nodes, params */
        const char *c = p;
        for (int col = 0; col < 5 && c; col++)
            c = strchr(c + 1, '|');
        if (c && sscanf(c, "| %ld | %ld |", nodes, params) == 2)
            return true;
    }
    return false;
}

static void collect_onnx(const char *dir, char ***files, size_t *n)
{
    DIR *dd = opendir(dir);
    for (struct dirent *e; dd && (e = readdir(dd));) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        size_t len = strlen(e->d_name);
        if (S_ISDIR(st.st_mode)) {
            collect_onnx(path, files, n);
        } else if (len > 5 && strcmp(e->d_name + len - 5, ".onnx") == 0) {
            *files = realloc(*files, sizeof(char *) * (*n + 1));
            (*files)[(*n)++] = strdup(path);
        }
    }
    if (dd)
        closedir(dd);
}

/* ONNX Runtime's BERT test graphs (PyTorch, Keras and fusion-test exports):
 * each loads or is refused as unsupported; loaded ones have the node and
 * parameter counts PROVENANCE.md lists, and survive a save/load cycle. */
static void test_bert_models(void)
{
    char root[512];
    if (!test_shared_path("bert-onnx", root, sizeof root)) {
        printf("test_onnx_load: bert-onnx sweep skipped: shared data absent\n");
        return;
    }
    char mdpath[600];
    snprintf(mdpath, sizeof mdpath, "%s/PROVENANCE.md", root);
    char *md = NULL;
    FILE *f = fopen(mdpath, "rb");
    if (f) {
        md = calloc(1, 1 << 20);
        if (fread(md, 1, (1 << 20) - 1, f) == 0)
            md[0] = '\0';
        fclose(f);
    }
    char **files = NULL;
    size_t n = 0;
    collect_onnx(root, &files, &n);
    int loaded = 0, unsupported = 0, matched = 0;
    for (size_t i = 0; i < n; i++) {
        ir_graph *g = NULL;
        ir_diag d;
        ir_diag_init(&d);
        ir_status s = onnx_load_file(files[i], NULL, &g, &d);
        CHECK_MSG(s == IR_OK || s == IR_ERR_UNSUPPORTED, "%s", d.msg);
        if (s == IR_ERR_UNSUPPORTED)
            unsupported++;
        if (s != IR_OK) {
            free(files[i]);
            continue;
        }
        loaded++;
        int64_t params;
        ir_graph_param_stats(g, &params, NULL);
        long want_nodes, want_params;
        const char *base = strrchr(files[i], '/') + 1;
        if (md && provenance_counts(md, base, &want_nodes, &want_params)) {
            matched++;
            CHECK_MSG(g->n_nodes == want_nodes && params == want_params,
                      "%s: %d nodes, %lld params; PROVENANCE.md says %ld, %ld",
                      base, g->n_nodes, (long long)params, want_nodes,
                      want_params);
        }
        void *buf = NULL;
        size_t len = 0;
        ir_graph *h = NULL;
        CHECK_MSG(onnx_save_buffer(g, &buf, &len, &d) == IR_OK, "%s", d.msg);
        CHECK_MSG(onnx_load_buffer(buf, len, NULL, NULL, &h, &d) == IR_OK,
                  "%s resaved: %s", base, d.msg);
        if (h) {
            int64_t p2;
            ir_graph_param_stats(h, &p2, NULL);
            CHECK_MSG(h->n_nodes == g->n_nodes && p2 == params &&
                      h->n_inputs == g->n_inputs && h->n_outputs == g->n_outputs,
                      "%s changed in a save/load cycle", base);
        }
        ir_graph_free(h);
        free(buf);
        ir_graph_free(g);
        free(files[i]);
    }
    free(files);
    free(md);
    printf("test_onnx_load: bert-onnx: %zu models, %d loaded (%d checked "
           "against PROVENANCE.md), %d unsupported\n", n, loaded, matched,
           unsupported);
    CHECK(loaded > 100);
}

int main(void)
{
    char dir[512];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    test_tiny_loads();
    test_typed_fields();
    test_constant_node_and_value_info();
    test_structure_errors();
    test_unknown_ops();
    test_unknown_ops_grouped();
    test_opsets();
    test_tensor_errors();
    test_bad_files(dir);
    test_nesting();
    test_external_data(dir);
    test_bert_models();
    const char *left[] = {"empty.onnx", "random.onnx", "tensor.pb", "cut.onnx",
                          "whole.onnx"};
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, left[i]);
        unlink(p);
    }
    rmdir(dir);
    return test_finish("test_onnx_load");
}

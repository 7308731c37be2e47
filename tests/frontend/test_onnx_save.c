/* test_onnx_save.c — saving graphs as ONNX and loading them back.
 *
 * Shows the round trip a user relies on ("every model distilc makes can be
 * written back as ONNX"): build a graph with the builder, save it (in
 * memory, to a file, with external data), load it again and compare
 * structure and payloads; write and read a conformance-style .pb tensor;
 * then load every ONNX conformance model in the shared data and count how
 * many load and how many are refused as unsupported.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/onnx.h"
#include "testutil.h"

/* y = Softmax(Relu(x · W + b) * two), two from a Constant node; plus a
 * LayerNormalization with every attribute kind hung on it. */
static ir_graph *build_model(void)
{
    ir_graph *g = ir_graph_new("tiny_mlp");
    ir_dim xd[2] = {ir_dim_sym(g, "batch"), ir_dim_const(64)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);

    int64_t wd[2] = {64, 64}, bd[1] = {64};
    ir_tensor *wt = ir_tensor_new(IR_DT_F32, 2, wd); /* 16 KiB: goes external */
    ir_tensor *bt = ir_tensor_new(IR_DT_F32, 1, bd); /* 256 B: stays inline */
    for (int64_t i = 0; i < 64 * 64; i++)
        ((float *)wt->data)[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    for (int64_t i = 0; i < 64; i++)
        ((float *)bt->data)[i] = (float)i / 64.0f;
    ir_value *w = ir_graph_add_constant(g, "W", wt);
    ir_value *b = ir_graph_add_constant(g, "b", bt);

    ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "mm", x, w);
    h = ir_node_make1(g, IR_OP_ADD, "bias", h, b);
    h = ir_node_make1(g, IR_OP_RELU, "act", h, NULL);

    ir_node *c = ir_graph_add_node(g, IR_OP_CONSTANT, "two", 0, NULL, 1);
    ir_attr *ca = ir_node_set_attr(g, c, "value", IR_ATTR_TENSOR);
    ca->t = ir_tensor_new(IR_DT_F32, 0, NULL);
    ((float *)ca->t->data)[0] = 2.0f;
    h = ir_node_make1(g, IR_OP_MUL, "scale", h, c->outputs[0]);

    ir_value *ln_in[3] = {h, w, NULL}; /* a NULL trailing optional input */
    ir_node *ln = ir_graph_add_node(g, IR_OP_LAYER_NORMALIZATION, "ln", 3,
                                    ln_in, 1);
    ir_node_set_attr_float(g, ln, "epsilon", 1e-12f);
    ir_node_set_attr_int(g, ln, "axis", -1);
    ir_node_set_attr_string(g, ln, "note", "kept verbatim");
    int64_t ints[3] = {1, -2, 3};
    ir_node_set_attr_ints(g, ln, "some_ints", 3, ints);
    ir_attr *fl = ir_node_set_attr(g, ln, "some_floats", IR_ATTR_FLOATS);
    fl->n = 2;
    fl->floats = ir_graph_alloc(g, 2 * sizeof(float));
    fl->floats[0] = 0.5f;
    fl->floats[1] = -1.25f;
    ir_attr *sl = ir_node_set_attr(g, ln, "some_strings", IR_ATTR_STRINGS);
    sl->n = 2;
    sl->strings = ir_graph_alloc(g, 2 * sizeof(char *));
    sl->strings[0] = ir_graph_strdup(g, "alpha");
    sl->strings[1] = ir_graph_strdup(g, "");

    ir_node *sm = ir_graph_add_node(g, IR_OP_SOFTMAX, "probs", 1,
                                    &ln->outputs[0], 1);
    ir_node_set_attr_int(g, sm, "axis", -1);
    sm->outputs[0]->dtype = IR_DT_F32;
    sm->outputs[0]->rank = 2;
    sm->outputs[0]->dims[0] = ir_dim_sym(g, "batch");
    sm->outputs[0]->dims[1] = ir_dim_const(64);
    ir_graph_mark_output(g, sm->outputs[0]);
    ir_graph_set_meta(g, "task", "sst2");
    g->doc = ir_graph_strdup(g, "a tiny test model");
    return g;
}

static bool tensors_equal(const ir_tensor *a, const ir_tensor *b)
{
    return a && b && a->dtype == b->dtype && ir_tensor_same_shape(a, b) &&
           a->nbytes == b->nbytes &&
           (a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0);
}

static bool attrs_equal(const ir_attr *a, const ir_attr *b)
{
    if (!a || !b || strcmp(a->name, b->name) != 0 || a->kind != b->kind)
        return false;
    switch (a->kind) {
    case IR_ATTR_FLOAT: return a->f == b->f;
    case IR_ATTR_INT: return a->i == b->i;
    case IR_ATTR_STRING: return strcmp(a->s, b->s) == 0;
    case IR_ATTR_TENSOR: return tensors_equal(a->t, b->t);
    case IR_ATTR_FLOATS:
        return a->n == b->n && (a->n == 0 ||
               memcmp(a->floats, b->floats, sizeof(float) * (size_t)a->n) == 0);
    case IR_ATTR_INTS:
        return a->n == b->n && (a->n == 0 ||
               memcmp(a->ints, b->ints, sizeof(int64_t) * (size_t)a->n) == 0);
    case IR_ATTR_STRINGS:
        if (a->n != b->n)
            return false;
        for (int i = 0; i < a->n; i++)
            if (strcmp(a->strings[i], b->strings[i]) != 0)
                return false;
        return true;
    default: return false;
    }
}

static bool values_equal(const ir_value *a, const ir_value *b)
{
    if (!a || !b)
        return a == b;
    if (strcmp(a->name, b->name) != 0 || a->dtype != b->dtype ||
        a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (!ir_dim_equal(a->dims[i], b->dims[i]))
            return false;
    return true;
}

/* Structure and payloads, in the order the graph lists them. */
static void check_same_graph(const ir_graph *a, const ir_graph *b)
{
    CHECK(strcmp(a->name, b->name) == 0);
    CHECK(b->opset == a->opset);
    CHECK(b->producer_name && strcmp(b->producer_name, "distilc") == 0);
    CHECK(b->doc && a->doc && strcmp(a->doc, b->doc) == 0);
    CHECK(b->n_meta == a->n_meta);
    for (int i = 0; i < a->n_meta && i < b->n_meta; i++)
        CHECK(strcmp(a->meta[i].key, b->meta[i].key) == 0 &&
              strcmp(a->meta[i].value, b->meta[i].value) == 0);
    CHECK(b->n_inputs == a->n_inputs);
    for (int i = 0; i < a->n_inputs && i < b->n_inputs; i++)
        CHECK_MSG(values_equal(a->inputs[i], b->inputs[i]), "input %d", i);
    CHECK(b->n_outputs == a->n_outputs);
    for (int i = 0; i < a->n_outputs && i < b->n_outputs; i++)
        CHECK_MSG(values_equal(a->outputs[i], b->outputs[i]), "output %d", i);
    CHECK(b->n_nodes == a->n_nodes);
    for (int i = 0; i < a->n_nodes && i < b->n_nodes; i++) {
        const ir_node *x = a->nodes[i], *y = b->nodes[i];
        CHECK_MSG(x->op == y->op && strcmp(x->name, y->name) == 0,
                  "node %d: %s vs %s", i, x->name, y->name);
        for (int k = 0; k < x->n_outputs && k < y->n_outputs; k++)
            CHECK(strcmp(x->outputs[k]->name, y->outputs[k]->name) == 0);
        /* trailing absent inputs are dropped on save */
        for (int k = 0; k < y->n_inputs; k++)
            CHECK(x->inputs[k] == NULL ? y->inputs[k] == NULL
                  : strcmp(x->inputs[k]->name, y->inputs[k]->name) == 0);
        CHECK_MSG(x->n_attrs == y->n_attrs, "node %s attrs %d vs %d", x->name,
                  x->n_attrs, y->n_attrs);
        for (int k = 0; k < x->n_attrs; k++)
            CHECK_MSG(attrs_equal(&x->attrs[k], ir_node_attr(y, x->attrs[k].name)),
                      "node %s attr %s", x->name, x->attrs[k].name);
    }
    int64_t pa, pb, ba, bb;
    ir_graph_param_stats(a, &pa, &ba);
    ir_graph_param_stats(b, &pb, &bb);
    CHECK_MSG(pa == pb && ba == bb, "params %lld vs %lld", (long long)pa,
              (long long)pb);
    for (int i = 0; i < a->n_values; i++) {
        const ir_value *v = a->values[i];
        if (!v->constant)
            continue;
        const ir_value *w = ir_graph_find_value(b, v->name);
        CHECK_MSG(w && tensors_equal(v->constant, w->constant), "constant %s",
                  v->name);
    }
}

static void test_roundtrip_buffer(void)
{
    ir_graph *g = build_model();
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(ir_graph_verify(g, &d) == IR_OK, "%s", d.msg);
    void *buf = NULL;
    size_t len = 0;
    CHECK_MSG(onnx_save_buffer(g, &buf, &len, &d) == IR_OK, "%s", d.msg);
    CHECK(len > 16 * 1024); /* W is inline */
    ir_graph *h = NULL;
    CHECK_MSG(onnx_load_buffer(buf, len, NULL, NULL, &h, &d) == IR_OK, "%s",
              d.msg);
    if (h) {
        check_same_graph(g, h);
        CHECK(h->ir_version == 8);
        CHECK_MSG(ir_graph_verify(h, &d) == IR_OK, "%s", d.msg);
        /* Saving the reloaded graph gives the same bytes. */
        void *buf2 = NULL;
        size_t len2 = 0;
        CHECK(onnx_save_buffer(h, &buf2, &len2, &d) == IR_OK);
        CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
        free(buf2);
    }
    ir_graph_free(h);
    free(buf);
    ir_graph_free(g);
}

static void test_roundtrip_external(const char *dir)
{
    ir_graph *g = build_model();
    ir_diag d;
    ir_diag_init(&d);
    char path[512], data[600];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    snprintf(data, sizeof data, "%s.data", path);
    onnx_save_opts so = {.external_data = true};
    CHECK_MSG(onnx_save_file(g, path, &so, &d) == IR_OK, "%s", d.msg);
    struct stat sm, sd;
    CHECK(stat(path, &sm) == 0 && sm.st_size < 4096); /* W left the model */
    CHECK(stat(data, &sd) == 0 && sd.st_size >= 64 * 64 * 4);
    ir_graph *h = NULL;
    CHECK_MSG(onnx_load_file(path, NULL, &h, &d) == IR_OK, "%s", d.msg);
    if (h) {
        check_same_graph(g, h);
        ir_value *w = ir_graph_find_value(h, "W");
        ir_value *b = ir_graph_find_value(h, "b");
        CHECK(w && w->constant && w->constant->mmap_base != NULL);
        CHECK(b && b->constant && b->constant->mmap_base == NULL);
    }
    ir_graph_free(h);

    /* Plain file save replaces the file atomically and leaves no temp. */
    CHECK_MSG(onnx_save_file(g, path, NULL, &d) == IR_OK, "%s", d.msg);
    CHECK(stat(path, &sm) == 0 && sm.st_size > 16 * 1024);
    DIR *dd = opendir(dir);
    int n_files = 0;
    for (struct dirent *e; dd && (e = readdir(dd));)
        if (e->d_name[0] != '.')
            n_files++;
    if (dd)
        closedir(dd);
    CHECK_MSG(n_files == 2, "%d files in %s (temporaries left?)", n_files, dir);

    /* An unwritable path is reported with the path. */
    ir_diag_init(&d);
    CHECK(onnx_save_file(g, "/nonexistent-dir/x.onnx", NULL, &d) == IR_ERR_IO);
    CHECK(strstr(d.msg, "/nonexistent-dir/x.onnx") != NULL);
    ir_graph_free(g);
    remove(data);
    remove(path);
}

static void test_tensor_files(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/input_0.pb", dir);
    int64_t dims[3] = {2, 3, 4};
    ir_tensor *t = ir_tensor_new(IR_DT_I64, 3, dims);
    for (int64_t i = 0; i < 24; i++)
        ((int64_t *)t->data)[i] = i * 1000003 - 7;
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(onnx_tensor_write_file(path, t, "input_ids", &d) == IR_OK, "%s",
              d.msg);
    ir_tensor *u = NULL;
    char *name = NULL;
    CHECK_MSG(onnx_tensor_read_file(path, &u, &name, &d) == IR_OK, "%s", d.msg);
    CHECK(tensors_equal(t, u));
    CHECK(name && strcmp(name, "input_ids") == 0);
    free(name);
    ir_tensor_free(u);
    ir_tensor_free(t);

    /* A scalar f16 and an empty tensor survive too. */
    ir_tensor *s = ir_tensor_new(IR_DT_F16, 0, NULL);
    ((uint16_t *)s->data)[0] = ir_f32_to_f16(1.5f);
    CHECK(onnx_tensor_write_file(path, s, NULL, &d) == IR_OK);
    CHECK(onnx_tensor_read_file(path, &u, NULL, &d) == IR_OK && tensors_equal(s, u));
    ir_tensor_free(u);
    ir_tensor_free(s);
    int64_t zd[2] = {0, 5};
    ir_tensor *z = ir_tensor_new(IR_DT_F32, 2, zd);
    CHECK(onnx_tensor_write_file(path, z, "empty", &d) == IR_OK);
    CHECK(onnx_tensor_read_file(path, &u, NULL, &d) == IR_OK && tensors_equal(z, u));
    ir_tensor_free(u);
    ir_tensor_free(z);
    remove(path);
}

/* distilc's own ops travel in the "ai.distilc" domain (opset 1) and come
 * back as the same ops. */
static void test_internal_ops(void)
{
    ir_graph *g = ir_graph_new("internal");
    ir_dim xd[1] = {ir_dim_sym(g, "n")};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 1, xd);
    ir_value *y = ir_graph_add_input(g, "y", IR_DT_F32, 1, xd);
    ir_value *z = ir_node_make1(g, IR_OP_EXPAND_LIKE, "el", x, y);
    ir_graph_mark_output(g, z);
    void *buf = NULL;
    size_t len = 0;
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(onnx_save_buffer(g, &buf, &len, &d) == IR_OK, "%s", d.msg);
    bool has_domain = false;
    for (size_t i = 0; buf && i + 10 <= len && !has_domain; i++)
        has_domain = memcmp((char *)buf + i, "ai.distilc", 10) == 0;
    CHECK(has_domain);
    ir_graph *h = NULL;
    CHECK_MSG(onnx_load_buffer(buf, len, NULL, NULL, &h, &d) == IR_OK, "%s",
              d.msg);
    CHECK(h && h->n_nodes == 1 && h->nodes[0]->op == IR_OP_EXPAND_LIKE);
    ir_graph_free(h);
    free(buf);
    ir_graph_free(g);
}

/* Every conformance model either loads or is refused as unsupported; the
 * inputs and outputs beside the loaded ones read as tensors. */
static void test_conformance_models(void)
{
    char root[512];
    if (!test_shared_path("onnx-node", root, sizeof root)) {
        printf("test_onnx_save: conformance sweep skipped: shared data absent\n");
        return;
    }
    DIR *dd = opendir(root);
    CHECK(dd != NULL);
    if (!dd)
        return;
    int loaded = 0, unsupported = 0, other = 0, pb_ok = 0, pb_unsup = 0;
    for (struct dirent *e; (e = readdir(dd));) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/model.onnx", root, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        ir_graph *g = NULL;
        ir_diag d;
        ir_diag_init(&d);
        ir_status s = onnx_load_file(path, NULL, &g, &d);
        if (s == IR_OK) {
            loaded++;
            for (int k = 0; k < 8; k++) {
                char pb[1200];
                snprintf(pb, sizeof pb, "%s/%s/test_data_set_0/%s_%d.pb", root,
                         e->d_name, k % 2 ? "output" : "input", k / 2);
                if (stat(pb, &st) != 0)
                    continue;
                ir_tensor *t = NULL;
                ir_diag td;
                ir_diag_init(&td);
                ir_status ts = onnx_tensor_read_file(pb, &t, NULL, &td);
                if (ts == IR_OK)
                    pb_ok++;
                else if (ts == IR_ERR_UNSUPPORTED)
                    pb_unsup++;
                else
                    CHECK_MSG(0, "%s: %s", pb, td.msg);
                ir_tensor_free(t);
            }
        } else if (s == IR_ERR_UNSUPPORTED) {
            unsupported++;
        } else {
            other++;
            printf("  %s: %s: %s\n", e->d_name, ir_status_name(s), d.msg);
        }
        ir_graph_free(g);
    }
    closedir(dd);
    printf("test_onnx_save: conformance models: %d loaded, %d unsupported, "
           "%d other errors; tensors: %d read, %d unsupported dtype\n",
           loaded, unsupported, other, pb_ok, pb_unsup);
    CHECK(loaded > 0);
    CHECK_MSG(other == 0, "%d conformance models failed with errors other "
              "than 'unsupported'", other);
}

int main(void)
{
    char dir[512];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    test_roundtrip_buffer();
    test_roundtrip_external(dir);
    test_tensor_files(dir);
    test_internal_ops();
    rmdir(dir);
    test_conformance_models();
    return test_finish("test_onnx_save");
}

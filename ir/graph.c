/* graph.c — graph lifetime, the builder API and the editing primitives
 * passes use. Every structure comes from the graph's arena; growing arrays
 * are reallocated in the arena (the old copy is simply abandoned), which
 * keeps ownership trivial at the cost of a little memory. */
#include "ir/ir.h"
#include "ir/arena.h"

#include <stdlib.h>
#include <string.h>

bool ir_dim_equal(ir_dim a, ir_dim b)
{
    if (a.size >= 0 || b.size >= 0)
        return a.size == b.size;
    return a.sym && b.sym && strcmp(a.sym, b.sym) == 0;
}

void *ir_graph_alloc(ir_graph *g, size_t bytes)
{
    return ir_arena_alloc(g->arena, bytes);
}

const char *ir_graph_strdup(ir_graph *g, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = ir_arena_alloc(g->arena, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

const char *ir_graph_strfmt(ir_graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = ir_arena_alloc(g->arena, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

ir_dim ir_dim_sym(ir_graph *g, const char *name)
{
    ir_dim d = {-1, ir_graph_strdup(g, name)};
    return d;
}

/* Grows an arena array of pointers/structs to hold one more element. */
static bool grow(ir_graph *g, void **arr, int n, int *cap, size_t elem)
{
    if (n < *cap)
        return true;
    int ncap = *cap ? *cap * 2 : 16;
    void *p = ir_arena_alloc(g->arena, (size_t)ncap * elem);
    if (!p)
        return false;
    if (n)
        memcpy(p, *arr, (size_t)n * elem);
    *arr = p;
    *cap = ncap;
    return true;
}

ir_graph *ir_graph_new(const char *name)
{
    ir_graph *tmp = calloc(1, sizeof *tmp);
    if (!tmp)
        return NULL;
    tmp->arena = ir_arena_new();
    if (!tmp->arena) {
        free(tmp);
        return NULL;
    }
    tmp->ir_version = 8;
    tmp->opset = 17;
    tmp->name = ir_graph_strdup(tmp, name ? name : "graph");
    return tmp;
}

static void free_attr_tensors(ir_node *n)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (n->attrs[i].kind == IR_ATTR_TENSOR) {
            ir_tensor_free(n->attrs[i].t);
            n->attrs[i].t = NULL;
        }
}

void ir_graph_free(ir_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_values; i++)
        ir_tensor_free(g->values[i]->constant);
    for (int i = 0; i < g->n_nodes; i++)
        free_attr_tensors(g->nodes[i]);
    ir_arena_free(g->arena);
    free(g);
}

ir_value *ir_graph_find_value(const ir_graph *g, const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i]->name && strcmp(g->values[i]->name, name) == 0)
            return g->values[i];
    return NULL;
}

const char *ir_graph_unique_name(ir_graph *g, const char *base)
{
    if (!base || !*base)
        base = "v";
    if (!ir_graph_find_value(g, base))
        return ir_graph_strdup(g, base);
    for (int k = 1;; k++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%.480s_%d", base, k);
        if (!ir_graph_find_value(g, buf))
            return ir_graph_strdup(g, buf);
    }
}

ir_value *ir_graph_add_value(ir_graph *g, const char *name)
{
    if (!grow(g, (void **)&g->values, g->n_values, &g->cap_values,
              sizeof(ir_value *)))
        return NULL;
    ir_value *v = ir_arena_alloc(g->arena, sizeof *v);
    if (!v)
        return NULL;
    v->name = name ? ir_graph_strdup(g, name)
                   : ir_graph_strfmt(g, "_v%d", g->n_values);
    if (!v->name)
        return NULL;
    v->rank = -1;
    v->id = g->n_values;
    g->values[g->n_values++] = v;
    return v;
}

ir_value *ir_graph_add_input(ir_graph *g, const char *name, ir_dtype t,
                             int rank, const ir_dim *dims)
{
    if (rank > IR_MAX_RANK)
        return NULL;
    if (!grow(g, (void **)&g->inputs, g->n_inputs, &g->cap_inputs,
              sizeof(ir_value *)))
        return NULL;
    ir_value *v = ir_graph_add_value(g, name);
    if (!v)
        return NULL;
    v->dtype = t;
    v->rank = rank;
    for (int i = 0; i < rank && dims; i++)
        v->dims[i] = dims[i];
    v->is_input = true;
    g->inputs[g->n_inputs++] = v;
    return v;
}

void ir_value_set_constant(ir_value *v, ir_tensor *t)
{
    if (v->constant != t)
        ir_tensor_free(v->constant);
    v->constant = t;
    if (!t)
        return;
    v->dtype = t->dtype;
    v->rank = t->rank;
    for (int i = 0; i < t->rank; i++)
        v->dims[i] = ir_dim_const(t->dims[i]);
}

ir_value *ir_graph_add_constant(ir_graph *g, const char *name, ir_tensor *t)
{
    ir_value *v = ir_graph_add_value(g, name);
    if (!v) {
        ir_tensor_free(t);
        return NULL;
    }
    ir_value_set_constant(v, t);
    return v;
}

bool ir_graph_mark_output(ir_graph *g, ir_value *v)
{
    if (!grow(g, (void **)&g->outputs, g->n_outputs, &g->cap_outputs,
              sizeof(ir_value *)))
        return false;
    v->is_output = true;
    g->outputs[g->n_outputs++] = v;
    return true;
}

bool ir_graph_set_meta(ir_graph *g, const char *key, const char *value)
{
    for (int i = 0; i < g->n_meta; i++)
        if (strcmp(g->meta[i].key, key) == 0) {
            g->meta[i].value = ir_graph_strdup(g, value);
            return g->meta[i].value != NULL;
        }
    if (!grow(g, (void **)&g->meta, g->n_meta, &g->cap_meta, sizeof(ir_meta)))
        return false;
    g->meta[g->n_meta].key = ir_graph_strdup(g, key);
    g->meta[g->n_meta].value = ir_graph_strdup(g, value);
    g->n_meta++;
    return true;
}

ir_node *ir_graph_add_node_with_outputs(ir_graph *g, ir_op op, const char *name,
                                        int n_inputs, ir_value *const *inputs,
                                        int n_outputs, ir_value *const *outputs)
{
    if (!grow(g, (void **)&g->nodes, g->n_nodes, &g->cap_nodes,
              sizeof(ir_node *)))
        return NULL;
    ir_node *n = ir_arena_alloc(g->arena, sizeof *n);
    if (!n)
        return NULL;
    n->op = op;
    n->id = g->next_node_id++;
    n->name = name ? ir_graph_strdup(g, name)
                   : ir_graph_strfmt(g, "%s_%d", ir_op_name(op), n->id);
    n->n_inputs = n_inputs;
    n->inputs = ir_arena_alloc(g->arena, sizeof(ir_value *) * (size_t)(n_inputs + 1));
    n->n_outputs = n_outputs;
    n->outputs = ir_arena_alloc(g->arena, sizeof(ir_value *) * (size_t)(n_outputs + 1));
    if (!n->name || !n->inputs || !n->outputs)
        return NULL;
    for (int i = 0; i < n_inputs; i++)
        n->inputs[i] = inputs ? inputs[i] : NULL;
    for (int i = 0; i < n_outputs; i++) {
        ir_value *v = outputs[i];
        n->outputs[i] = v;
        if (v) {
            v->producer = n;
            v->producer_slot = i;
        }
    }
    g->nodes[g->n_nodes++] = n;
    return n;
}

ir_node *ir_graph_add_node(ir_graph *g, ir_op op, const char *name,
                           int n_inputs, ir_value *const *inputs,
                           int n_outputs)
{
    ir_value *outs[64];
    if (n_outputs > 64)
        return NULL;
    const char *base = name ? name : ir_op_name(op);
    for (int i = 0; i < n_outputs; i++) {
        char buf[512];
        if (n_outputs == 1)
            snprintf(buf, sizeof buf, "%.500s", base);
        else
            snprintf(buf, sizeof buf, "%.480s_out%d", base, i);
        outs[i] = ir_graph_add_value(g, ir_graph_unique_name(g, buf));
        if (!outs[i])
            return NULL;
    }
    return ir_graph_add_node_with_outputs(g, op, name, n_inputs, inputs,
                                          n_outputs, outs);
}

ir_value *ir_node_make1(ir_graph *g, ir_op op, const char *name, ir_value *a,
                        ir_value *b)
{
    ir_value *in[2] = {a, b};
    ir_node *n = ir_graph_add_node(g, op, name, b ? 2 : 1, in, 1);
    return n ? n->outputs[0] : NULL;
}

/* ---- attributes ---------------------------------------------------------- */

ir_attr *ir_node_attr(const ir_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t ir_node_attr_int(const ir_node *n, const char *name, int64_t dflt)
{
    ir_attr *a = ir_node_attr(n, name);
    return a && a->kind == IR_ATTR_INT ? a->i : dflt;
}

float ir_node_attr_float(const ir_node *n, const char *name, float dflt)
{
    ir_attr *a = ir_node_attr(n, name);
    if (a && a->kind == IR_ATTR_FLOAT)
        return a->f;
    if (a && a->kind == IR_ATTR_INT)
        return (float)a->i;
    return dflt;
}

const char *ir_node_attr_string(const ir_node *n, const char *name,
                                const char *dflt)
{
    ir_attr *a = ir_node_attr(n, name);
    return a && a->kind == IR_ATTR_STRING ? a->s : dflt;
}

int ir_node_attr_ints(const ir_node *n, const char *name, const int64_t **out)
{
    ir_attr *a = ir_node_attr(n, name);
    if (!a || a->kind != IR_ATTR_INTS) {
        *out = NULL;
        return -1;
    }
    *out = a->ints;
    return a->n;
}

ir_attr *ir_node_set_attr(ir_graph *g, ir_node *n, const char *name,
                          ir_attr_kind kind)
{
    ir_attr *a = ir_node_attr(n, name);
    if (!a) {
        ir_attr *na = ir_arena_alloc(g->arena, sizeof(ir_attr) * (size_t)(n->n_attrs + 1));
        if (!na)
            return NULL;
        if (n->n_attrs)
            memcpy(na, n->attrs, sizeof(ir_attr) * (size_t)n->n_attrs);
        n->attrs = na;
        a = &na[n->n_attrs++];
        a->name = ir_graph_strdup(g, name);
        if (!a->name)
            return NULL;
    } else if (a->kind == IR_ATTR_TENSOR) {
        ir_tensor_free(a->t);
    }
    const char *keep = a->name;
    memset(a, 0, sizeof *a);
    a->name = keep;
    a->kind = kind;
    return a;
}

bool ir_node_set_attr_int(ir_graph *g, ir_node *n, const char *name, int64_t v)
{
    ir_attr *a = ir_node_set_attr(g, n, name, IR_ATTR_INT);
    if (a)
        a->i = v;
    return a != NULL;
}

bool ir_node_set_attr_float(ir_graph *g, ir_node *n, const char *name, float v)
{
    ir_attr *a = ir_node_set_attr(g, n, name, IR_ATTR_FLOAT);
    if (a)
        a->f = v;
    return a != NULL;
}

bool ir_node_set_attr_ints(ir_graph *g, ir_node *n, const char *name,
                           int count, const int64_t *v)
{
    ir_attr *a = ir_node_set_attr(g, n, name, IR_ATTR_INTS);
    if (!a)
        return false;
    a->ints = ir_arena_alloc(g->arena, sizeof(int64_t) * (size_t)(count + 1));
    if (!a->ints)
        return false;
    if (count)
        memcpy(a->ints, v, sizeof(int64_t) * (size_t)count);
    a->n = count;
    return true;
}

bool ir_node_set_attr_string(ir_graph *g, ir_node *n, const char *name,
                             const char *s)
{
    ir_attr *a = ir_node_set_attr(g, n, name, IR_ATTR_STRING);
    if (!a)
        return false;
    a->s = ir_graph_strdup(g, s);
    return a->s != NULL;
}

/* ---- editing ------------------------------------------------------------- */

void ir_node_set_input(ir_node *n, int slot, ir_value *v)
{
    if (slot >= 0 && slot < n->n_inputs)
        n->inputs[slot] = v;
}

void ir_graph_replace_uses(ir_graph *g, ir_value *old_v, ir_value *new_v)
{
    if (old_v == new_v)
        return;
    for (int i = 0; i < g->n_nodes; i++) {
        ir_node *n = g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] == old_v)
                n->inputs[k] = new_v;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        if (g->outputs[i] != old_v)
            continue;
        /* A graph output keeps its name: the interface must not change.
         * new_v may itself be an input/output or constant; if it is a plain
         * intermediate value it takes the output's name. */
        if (!new_v->is_input && !new_v->is_output && !old_v->is_input) {
            const char *nm = old_v->name;
            old_v->name = ir_graph_strfmt(g, "%s_replaced%d", nm, old_v->id);
            new_v->name = nm;
        }
        g->outputs[i] = new_v;
        new_v->is_output = true;
        old_v->is_output = false;
    }
}

void ir_graph_remove_nodes(ir_graph *g, const bool *remove)
{
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        ir_node *n = g->nodes[i];
        if (remove[n->id]) {
            free_attr_tensors(n);
            for (int j = 0; j < n->n_outputs; j++)
                if (n->outputs[j] && n->outputs[j]->producer == n)
                    n->outputs[j]->producer = NULL;
            continue;
        }
        g->nodes[k++] = n;
    }
    g->n_nodes = k;
}

void ir_graph_compact_values(ir_graph *g)
{
    int *uses = ir_graph_use_counts(g);
    if (!uses)
        return;
    int k = 0;
    for (int i = 0; i < g->n_values; i++) {
        ir_value *v = g->values[i];
        bool keep = v->is_input || v->is_output || uses[i] > 0 || v->producer;
        if (!keep) {
            ir_tensor_free(v->constant);
            v->constant = NULL;
            continue;
        }
        v->id = k;
        g->values[k++] = v;
    }
    g->n_values = k;
    free(uses);
}

int *ir_graph_use_counts(const ir_graph *g)
{
    int *c = calloc((size_t)g->n_values + 1, sizeof(int));
    if (!c)
        return NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] && n->inputs[k]->id < g->n_values)
                c[n->inputs[k]->id]++;
    }
    for (int i = 0; i < g->n_outputs; i++)
        c[g->outputs[i]->id]++;
    return c;
}

void ir_graph_param_stats(const ir_graph *g, int64_t *count, int64_t *bytes)
{
    int64_t c = 0, b = 0;
    for (int i = 0; i < g->n_values; i++) {
        const ir_tensor *t = g->values[i]->constant;
        if (!t)
            continue;
        c += ir_tensor_numel(t);
        b += (int64_t)t->nbytes;
    }
    if (count) *count = c;
    if (bytes) *bytes = b;
}

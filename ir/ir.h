/* ir.h — distilc's graph IR: dtypes, shapes, tensors, values, nodes, graphs.
 *
 * A graph owns an arena: every value, node, attribute and name string of the
 * graph comes from it, and ir_graph_free releases them all at once. Constant
 * tensor payloads (initializers) are owned by their ir_tensor (heap or mmap)
 * and released by ir_graph_free too.
 *
 * Worked example — build y = Relu(x · W) and print it:
 *
 *     ir_graph *g = ir_graph_new("tiny");
 *     ir_dim xd[2] = { ir_dim_sym(g, "batch"), ir_dim_const(4) };
 *     ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);
 *     int64_t wd[2] = {4, 3};
 *     ir_tensor *wt = ir_tensor_new(IR_DT_F32, 2, wd);     // zero-filled
 *     ir_value *w = ir_graph_add_constant(g, "W", wt);     // graph takes wt
 *     ir_value *h = ir_node_make1(g, IR_OP_MATMUL, "mm", x, w);
 *     ir_value *y = ir_node_make1(g, IR_OP_RELU, "act", h, NULL);
 *     ir_graph_mark_output(g, y);
 *     ir_diag d; ir_diag_init(&d);
 *     if (ir_graph_verify(g, &d) != IR_OK) puts(d.msg);
 *     ir_graph_print(g, stdout);
 *     ir_graph_free(g);
 *
 * Conventions: counts are size_t or int (ranks, arities); functions that can
 * fail return ir_status and fill an ir_diag; nothing here prints or exits.
 */
#ifndef DISTILC_IR_H
#define DISTILC_IR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/diag.h"

/* ---- dtypes -------------------------------------------------------------
 * Values equal ONNX TensorProto.DataType so conversion is an identity. */
typedef enum ir_dtype {
    IR_DT_UNDEF = 0,
    IR_DT_F32 = 1,
    IR_DT_U8 = 2,
    IR_DT_I8 = 3,
    IR_DT_I32 = 6,
    IR_DT_I64 = 7,
    IR_DT_BOOL = 9,
    IR_DT_F16 = 10,
    IR_DT_BF16 = 16,
    IR_DT_COUNT = 17 /* sentinel: one past the largest code */
} ir_dtype;

const char *ir_dtype_name(ir_dtype t);     /* "f32", "i64", ... ; "?" if unknown */
size_t ir_dtype_size(ir_dtype t);          /* bytes per element; 0 if unsupported */
bool ir_dtype_supported(int onnx_code);    /* one of the dtypes above */
bool ir_dtype_is_float(ir_dtype t);        /* f32, f16, bf16 */
bool ir_dtype_is_int(ir_dtype t);          /* i8, u8, i32, i64 */

/* f16 / bf16 <-> f32 conversion (round to nearest even). */
float ir_f16_to_f32(uint16_t h);
uint16_t ir_f32_to_f16(float f);
float ir_bf16_to_f32(uint16_t h);
uint16_t ir_f32_to_bf16(float f);

/* ---- shapes -------------------------------------------------------------
 * A dimension is a known size (>= 0) or symbolic (size < 0) with an optional
 * name ("batch", "seq"); two symbolic dims with the same name are equal. */
#define IR_MAX_RANK 8
typedef struct ir_dim {
    int64_t size;     /* >= 0 known; -1 symbolic / unknown */
    const char *sym;  /* name when symbolic (arena string), else NULL */
} ir_dim;

static inline ir_dim ir_dim_const(int64_t n) { ir_dim d = {n, NULL}; return d; }
static inline ir_dim ir_dim_unknown(void) { ir_dim d = {-1, NULL}; return d; }
static inline bool ir_dim_known(ir_dim d) { return d.size >= 0; }
bool ir_dim_equal(ir_dim a, ir_dim b); /* same size, or same symbol name */

/* ---- tensors ------------------------------------------------------------
 * Dense, row-major, contiguous. Used for initializers, Constant payloads and
 * the interpreter's runtime values. data is NULL only when numel == 0. */
typedef struct ir_tensor {
    ir_dtype dtype;
    int rank;                 /* 0 = scalar */
    int64_t dims[IR_MAX_RANK];
    void *data;
    size_t nbytes;
    void *mmap_base;          /* non-NULL when data lives in a mapping */
    size_t mmap_len;
} ir_tensor;

/* Zero-filled tensor; NULL on overflow or out of memory. */
ir_tensor *ir_tensor_new(ir_dtype t, int rank, const int64_t *dims);
/* Like ir_tensor_new but reports why in d (IR_ERR_INPUT on overflow). */
ir_status ir_tensor_create(ir_dtype t, int rank, const int64_t *dims,
                           ir_tensor **out, ir_diag *d);
ir_tensor *ir_tensor_clone(const ir_tensor *t);
void ir_tensor_free(ir_tensor *t);
/* Element count; sets *overflow (if given) when it does not fit. */
int64_t ir_tensor_numel(const ir_tensor *t);
/* Product of dims with overflow check; returns -1 on overflow/negative. */
int64_t ir_numel_checked(int rank, const int64_t *dims);
/* Element i read as double / int64 whatever the dtype (for small tensors:
 * shapes, axes, scalars). */
double ir_tensor_get_f64(const ir_tensor *t, int64_t i);
int64_t ir_tensor_get_i64(const ir_tensor *t, int64_t i);
void ir_tensor_set_f64(ir_tensor *t, int64_t i, double v);
bool ir_tensor_same_shape(const ir_tensor *a, const ir_tensor *b);

/* ---- ops ----------------------------------------------------------------
 * One table, ir/ops.def; the enum, names and properties all come from it. */
typedef enum ir_op {
#define IR_OP(ENUM, onnx_name, min_in, max_in, min_out, max_out, flags, flops) \
    IR_OP_##ENUM,
#include "ir/ops.def"
#undef IR_OP
    IR_OP_COUNT
} ir_op;

enum {
    IR_OPF_ELEMENTWISE = 1 << 0, /* output shape = broadcast of inputs */
    IR_OPF_COMMUTATIVE = 1 << 1,
    IR_OPF_FOLDABLE = 1 << 2,    /* may be evaluated at compile time */
    IR_OPF_SHAPE = 1 << 3,       /* works on shapes, not on data */
    IR_OPF_INTERNAL = 1 << 4,    /* distilc's own op, domain "ai.distilc" */
    IR_OPF_MS = 1 << 5,          /* ONNX Runtime's contrib op, "com.microsoft" */
};

typedef struct ir_op_info {
    const char *name;        /* ONNX op_type (or internal op name) */
    int min_inputs, max_inputs;   /* max -1 = variadic */
    int min_outputs, max_outputs;
    unsigned flags;
} ir_op_info;

const ir_op_info *ir_op_get(ir_op op);
const char *ir_op_name(ir_op op);
/* Look up by ONNX (domain, op_type); domain "" or "ai.onnx" is the default
 * domain, "ai.distilc" the internal one, "com.microsoft" ONNX Runtime's
 * contrib ops. Returns IR_OP_COUNT if unknown. */
ir_op ir_op_from_onnx(const char *domain, const char *op_type);
/* The ONNX domain an op is written in: "", "ai.distilc" or "com.microsoft". */
const char *ir_op_domain(ir_op op);

/* ---- attributes ---------------------------------------------------------- */
typedef enum ir_attr_kind {
    IR_ATTR_FLOAT, IR_ATTR_INT, IR_ATTR_STRING, IR_ATTR_TENSOR,
    IR_ATTR_FLOATS, IR_ATTR_INTS, IR_ATTR_STRINGS, IR_ATTR_KIND_COUNT
} ir_attr_kind;

typedef struct ir_attr {
    const char *name;
    ir_attr_kind kind;
    float f;
    int64_t i;
    const char *s;           /* NUL-terminated (ONNX strings are bytes; a
                                string with NUL is rejected by the loader) */
    ir_tensor *t;            /* owned by the graph */
    int n;                   /* element count for the list kinds */
    float *floats;
    int64_t *ints;
    const char **strings;
} ir_attr;

/* ---- values, nodes, graphs ---------------------------------------------- */
typedef struct ir_node ir_node;

typedef struct ir_value {
    const char *name;
    ir_dtype dtype;          /* IR_DT_UNDEF until inferred */
    int rank;                /* -1 unknown */
    ir_dim dims[IR_MAX_RANK];
    ir_tensor *constant;     /* initializer payload, or NULL */
    ir_node *producer;       /* NULL for graph inputs and constants */
    int producer_slot;       /* output index in the producer */
    bool is_input, is_output;
    int id;                  /* index in graph->values */
} ir_value;

struct ir_node {
    const char *name;
    ir_op op;
    int n_inputs;
    ir_value **inputs;       /* NULL entry = absent optional input */
    int n_outputs;
    ir_value **outputs;      /* NULL entry = absent optional output */
    int n_attrs;
    ir_attr *attrs;
    int id;                  /* unique per graph, stable across passes */
};

typedef struct ir_meta {
    const char *key, *value;
} ir_meta;

typedef struct ir_arena ir_arena;

typedef struct ir_graph {
    ir_arena *arena;
    const char *name;
    int64_t ir_version;      /* ONNX IR version of the source, 8 when built */
    int64_t opset;           /* default-domain opset */
    const char *producer_name, *producer_version, *doc;
    ir_meta *meta; int n_meta, cap_meta;
    ir_node **nodes; int n_nodes, cap_nodes;     /* topological order */
    ir_value **values; int n_values, cap_values; /* every value, by id */
    ir_value **inputs; int n_inputs, cap_inputs;    /* runtime inputs only */
    ir_value **outputs; int n_outputs, cap_outputs;
    int next_node_id;
} ir_graph;

/* Lifetime. */
ir_graph *ir_graph_new(const char *name);
void ir_graph_free(ir_graph *g);

/* Arena helpers (memory freed with the graph). Abort-free: NULL on OOM. */
void *ir_graph_alloc(ir_graph *g, size_t bytes);      /* zeroed */
const char *ir_graph_strdup(ir_graph *g, const char *s);
const char *ir_graph_strfmt(ir_graph *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
ir_dim ir_dim_sym(ir_graph *g, const char *name);
/* A name not yet used by any value, built from base ("base", "base_1", ...). */
const char *ir_graph_unique_name(ir_graph *g, const char *base);

/* Builder. Values are created unnamed-safe: a NULL name gets a fresh one. */
ir_value *ir_graph_add_value(ir_graph *g, const char *name);
ir_value *ir_graph_find_value(const ir_graph *g, const char *name);
ir_value *ir_graph_add_input(ir_graph *g, const char *name, ir_dtype t,
                             int rank, const ir_dim *dims);
/* Takes ownership of t (also on failure). */
ir_value *ir_graph_add_constant(ir_graph *g, const char *name, ir_tensor *t);
void ir_value_set_constant(ir_value *v, ir_tensor *t); /* frees the old one */
bool ir_graph_mark_output(ir_graph *g, ir_value *v);
/* Appends a node; outputs are created with fresh names derived from the
 * node name. inputs may contain NULL for absent optional inputs. */
ir_node *ir_graph_add_node(ir_graph *g, ir_op op, const char *name,
                           int n_inputs, ir_value *const *inputs,
                           int n_outputs);
/* Same, with caller-made outputs (used by the ONNX loader). */
ir_node *ir_graph_add_node_with_outputs(ir_graph *g, ir_op op, const char *name,
                                        int n_inputs, ir_value *const *inputs,
                                        int n_outputs, ir_value *const *outputs);
/* Convenience: one- or two-input node with one output, returns the output. */
ir_value *ir_node_make1(ir_graph *g, ir_op op, const char *name,
                        ir_value *a, ir_value *b);
bool ir_graph_set_meta(ir_graph *g, const char *key, const char *value);

/* Attributes (set replaces an attribute of the same name). */
ir_attr *ir_node_attr(const ir_node *n, const char *name);
int64_t ir_node_attr_int(const ir_node *n, const char *name, int64_t dflt);
float ir_node_attr_float(const ir_node *n, const char *name, float dflt);
const char *ir_node_attr_string(const ir_node *n, const char *name,
                                const char *dflt);
/* ints list; returns count (-1 if absent), *out points into the graph. */
int ir_node_attr_ints(const ir_node *n, const char *name, const int64_t **out);
ir_attr *ir_node_set_attr(ir_graph *g, ir_node *n, const char *name,
                          ir_attr_kind kind);
bool ir_node_set_attr_int(ir_graph *g, ir_node *n, const char *name, int64_t v);
bool ir_node_set_attr_float(ir_graph *g, ir_node *n, const char *name, float v);
bool ir_node_set_attr_ints(ir_graph *g, ir_node *n, const char *name,
                           int count, const int64_t *v);
bool ir_node_set_attr_string(ir_graph *g, ir_node *n, const char *name,
                             const char *s);

/* Editing, for passes. */
/* Every use of old (node inputs, graph outputs) now reads new. When old is a
 * graph output, new takes over its name so the graph's interface is kept. */
void ir_graph_replace_uses(ir_graph *g, ir_value *old_v, ir_value *new_v);
void ir_node_set_input(ir_node *n, int slot, ir_value *v);
/* Removes nodes for which remove[node->id] is true (array sized
 * g->next_node_id), keeping order. */
void ir_graph_remove_nodes(ir_graph *g, const bool *remove);
/* Drops values no longer referenced by any node, input, output or constant
 * use; constants' payloads are freed. */
void ir_graph_compact_values(ir_graph *g);
/* Re-sorts nodes topologically (stable); IR_ERR_INPUT names a cycle. */
ir_status ir_graph_toposort(ir_graph *g, ir_diag *d);
/* Consumers: counts[value->id] = number of node inputs + output marks. */
int *ir_graph_use_counts(const ir_graph *g); /* malloc'd, caller frees */

/* Checks: every input defined before use, outputs produced once, arity
 * within the op table, no cycles, dtypes/ranks consistent where known. */
ir_status ir_graph_verify(const ir_graph *g, ir_diag *d);

/* Stable text form (golden tests rely on it; see ir/print.c for grammar). */
void ir_graph_print(const ir_graph *g, FILE *out);
void ir_value_print_type(const ir_value *v, FILE *out); /* "f32[batch,4]" */

/* Parameter count and bytes: sum over constants (initializers). */
void ir_graph_param_stats(const ir_graph *g, int64_t *count, int64_t *bytes);

#endif

/* onnx.h — ONNX models and tensors in and out (protobuf-c; bindings generated
 * at build time from the system's onnx/onnx.proto).
 *
 *     ir_graph *g; ir_diag d; ir_diag_init(&d);
 *     if (onnx_load_file("bert.onnx", NULL, &g, &d) != IR_OK) { ...d.msg... }
 *     onnx_save_file(g, "out.onnx", NULL, &d);
 *     ir_graph_free(g);
 *
 * Loading accepts opsets 11..17 of the default domain as exporters write
 * them (and newer opsets whose ops keep the semantics distilc implements);
 * initializers become constant values, Constant nodes stay IR_OP_CONSTANT
 * nodes with their "value" tensor attribute (so parameter counts are the
 * initializers' alone), external data is read relative to the model's
 * folder and a location escaping it is refused. Unknown ops are listed in
 * one IR_ERR_UNSUPPORTED message, grouped by op with their counts and first
 * node ("Foo ×940 (first: node 'n0'), Bar ..."), whole items up to
 * about 2 KB and then "and N more ops (M nodes)". A file nesting
 * graphs (Loop, If, Scan bodies) more than 64 levels deep, or protobuf
 * messages more than 256, is refused before it is unpacked
 * (frontend/onnx_wire.c), naming the limit.
 */
#ifndef DISTILC_FRONTEND_ONNX_H
#define DISTILC_FRONTEND_ONNX_H

#include "ir/ir.h"

typedef struct onnx_load_opts {
    bool allow_unknown_ops; /* keep going (inspect lists them) — unknown
                               nodes are then dropped from the graph and
                               listed in *unknown_out */
    char **unknown_out;     /* if non-NULL: malloc'd text listing unknown ops
                               grouped by op, in order of first appearance
                               ("Op (node 'n'), Foo ×3 (first: node
                               'm')"), NULL if none */
    char **unknown_ops_out; /* if non-NULL: malloc'd names of the unknown
                               ops, one per line ("com.microsoft.X\nFoo\n"),
                               NULL if none */
} onnx_load_opts;

ir_status onnx_load_file(const char *path, const onnx_load_opts *opts,
                         ir_graph **out, ir_diag *d);
/* From memory; base_dir resolves external data (NULL: external data refused). */
ir_status onnx_load_buffer(const void *buf, size_t len, const char *base_dir,
                           const onnx_load_opts *opts, ir_graph **out,
                           ir_diag *d);

typedef struct onnx_save_opts {
    bool external_data;     /* write weights to "<file>.data" beside it */
} onnx_save_opts;

ir_status onnx_save_file(const ir_graph *g, const char *path,
                         const onnx_save_opts *opts, ir_diag *d);
/* Serialised model in a malloc'd buffer. */
ir_status onnx_save_buffer(const ir_graph *g, void **buf, size_t *len,
                           ir_diag *d);

/* A serialised TensorProto (.pb, the format of ONNX's conformance cases). */
ir_status onnx_tensor_read_file(const char *path, ir_tensor **out,
                                char **name_out /* malloc'd, may be NULL */,
                                ir_diag *d);
ir_status onnx_tensor_write_file(const char *path, const ir_tensor *t,
                                 const char *name, ir_diag *d);

#endif

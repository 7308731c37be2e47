/* onnx_internal.h — helpers shared by the ONNX loader, saver and tensor
 * files (frontend/onnx_*.c). Only these files see protobuf-c types; the rest
 * of distilc uses frontend/onnx.h.
 *
 *     ir_tensor *t;
 *     if (onnx_tensor_from_proto(tp, false, model_dir, "initializer 'W'", &t, d))
 *         return d->status;        // message names the tensor at fault
 */
#ifndef DISTILC_FRONTEND_ONNX_INTERNAL_H
#define DISTILC_FRONTEND_ONNX_INTERNAL_H

#include "frontend/onnx.h"
#include "ir/file_atomic.h"
#include "onnx/onnx.pb-c.h"

/* How deeply a file may nest, checked by onnx_wire_check_nesting before
 * protobuf-c unpacks it (its unpacker recurses once per nested message):
 * graphs inside node attributes (Loop, If and Scan bodies), and messages
 * of any kind (TypeProto nests too). A BERT export nests 7 messages and 1
 * graph. */
enum { ONNX_MAX_GRAPH_DEPTH = 64, ONNX_MAX_MESSAGE_DEPTH = 256 };

/* Walks the wire format of a serialised `desc` message (e.g.
 * &onnx__model_proto__descriptor) with an explicit stack, without
 * recursion: IR_ERR_INPUT naming the limit when it nests deeper than the
 * limits above, or "not WHAT: ..." naming the byte where it stops being
 * well-formed protobuf (what: "an ONNX model"). */
ir_status onnx_wire_check_nesting(const ProtobufCMessageDescriptor *desc,
                                  const void *buf, size_t len,
                                  const char *what, ir_diag *d);

/* ONNX TensorProto.DataType name ("DOUBLE") for messages. */
const char *onnx_dtype_name(int64_t code);

/* Converts a TensorProto (raw_data, typed fields or external data) into a
 * new tensor. base_dir resolves external data; NULL refuses it. `what`
 * names the tensor in messages ("initializer 'W'"). With steal, tp must
 * come from protobuf-c unpack with the default allocator: its raw_data
 * buffer then moves into the tensor instead of being copied (a BERT-base
 * model is 440 MB of raw_data) and tp->raw_data.data becomes NULL. */
ir_status onnx_tensor_from_proto(Onnx__TensorProto *tp, bool steal,
                                 const char *base_dir, const char *what,
                                 ir_tensor **out, ir_diag *d);

/* Fills *tp (already initialised with ONNX__TENSOR_PROTO__INIT) so that it
 * describes t with raw_data. tp borrows t's dims and data: t must outlive
 * tp, and tp must not be freed with onnx__tensor_proto__free_unpacked. */
void onnx_tensor_to_proto(const ir_tensor *t, const char *name,
                          Onnx__TensorProto *tp);

/* Reads a whole file into a malloc'd buffer: a regular file of at most
 * ONNX_FILE_MAX bytes (protobuf's own limit; larger models keep their
 * weights in external data). IR_ERR_INPUT for a missing file, one that is
 * not regular or too large, IR_ERR_IO when it cannot be read; the message
 * names it as `what` ("model", "tensor file"). ir/file_read.h. */
#define ONNX_FILE_MAX ((int64_t)INT32_MAX)
ir_status onnx_file_read(const char *path, const char *what, void **buf,
                         size_t *len, ir_diag *d);

#endif

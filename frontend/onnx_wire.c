/* onnx_wire.c — how deeply a serialised message nests, read from the
 * protobuf wire format before protobuf-c unpacks it.
 *
 * protobuf-c's unpacker calls itself once per nested message. A model is a
 * tree of messages that may nest without end: a graph holds nodes, a node
 * attributes, an attribute a graph (the bodies of Loop, If and Scan), and
 * a TypeProto may hold a TypeProto (sequences, maps, optionals). 5,000
 * nested Loop bodies fit in 133 KB and overflow the stack inside
 * protobuf_c_message_unpack. So the bytes are walked first, with an
 * explicit stack of the messages that are open and the message
 * descriptors protobuf-c generated (they say which field numbers hold a
 * message, and of which type), and a file that nests deeper than the
 * limits of onnx_internal.h is refused before any recursion happens.
 *
 * The walk accepts exactly what is well-formed protobuf without groups
 * (which ONNX never uses and protobuf-c refuses); anything else is
 * reported as the parse failure it is, since the unpacker would stop there
 * too. Wire format: https://protobuf.dev/programming-guides/encoding/ */
#include <stdint.h>

#include "frontend/onnx_internal.h"

enum {
    WIRE_VARINT = 0,
    WIRE_FIXED64 = 1,
    WIRE_BYTES = 2, /* length-delimited: strings, bytes, packed, messages */
    WIRE_FIXED32 = 5,
};

/* A message being walked: its type and the offset where it ends. */
typedef struct wire_frame {
    const ProtobufCMessageDescriptor *desc;
    size_t end;
} wire_frame;

/* A base-128 varint at *pos, not past end (at most 10 bytes). */
static bool wire_varint(const uint8_t *b, size_t end, size_t *pos,
                        uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (*pos >= end)
            return false;
        uint8_t c = b[(*pos)++];
        v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static ir_status wire_malformed(const char *what, size_t at, ir_diag *d)
{
    return ir_diag_set(d, IR_ERR_INPUT,
                       "not %s: the protobuf does not parse at byte %zu "
                       "(truncated or corrupt file?)", what, at);
}

ir_status onnx_wire_check_nesting(const ProtobufCMessageDescriptor *desc,
                                  const void *buf, size_t len,
                                  const char *what, ir_diag *d)
{
    const uint8_t *b = buf;
    const ProtobufCMessageDescriptor *graph = &onnx__graph_proto__descriptor;
    wire_frame stack[ONNX_MAX_MESSAGE_DEPTH];
    int top = 0, graphs = desc == graph;
    stack[0] = (wire_frame){desc, len};
    size_t pos = 0;
    for (;;) {
        /* close every message that ends here */
        while (pos == stack[top].end) {
            if (top == 0)
                return IR_OK;
            graphs -= stack[top].desc == graph;
            top--;
        }
        size_t at = pos, end = stack[top].end;
        uint64_t tag, n;
        if (!wire_varint(b, end, &pos, &tag) || (tag >> 3) == 0 ||
            (tag >> 3) > UINT32_MAX)
            return wire_malformed(what, at, d);
        switch ((int)(tag & 7)) {
        case WIRE_VARINT:
            if (!wire_varint(b, end, &pos, &n))
                return wire_malformed(what, at, d);
            break;
        case WIRE_FIXED64:
        case WIRE_FIXED32: {
            size_t w = (tag & 7) == WIRE_FIXED64 ? 8 : 4;
            if (end - pos < w)
                return wire_malformed(what, at, d);
            pos += w;
            break;
        }
        case WIRE_BYTES: {
            if (!wire_varint(b, end, &pos, &n) || n > end - pos)
                return wire_malformed(what, at, d);
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(stack[top].desc,
                                                        (unsigned)(tag >> 3));
            if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE) {
                pos += (size_t)n; /* a string, bytes, packed or unknown field */
                break;
            }
            const ProtobufCMessageDescriptor *sub = f->descriptor;
            if (sub == graph && graphs + 1 > ONNX_MAX_GRAPH_DEPTH)
                return ir_diag_set(d, IR_ERR_INPUT,
                                   "graphs nest more than %d levels deep (a "
                                   "graph in a node attribute, as the bodies "
                                   "of Loop, If and Scan are; at byte %zu); "
                                   "distilc reads at most %d levels "
                                   "(ONNX_MAX_GRAPH_DEPTH)",
                                   ONNX_MAX_GRAPH_DEPTH, at,
                                   ONNX_MAX_GRAPH_DEPTH);
            if (top + 1 >= ONNX_MAX_MESSAGE_DEPTH)
                return ir_diag_set(d, IR_ERR_INPUT,
                                   "protobuf messages nest more than %d "
                                   "levels deep (field '%s' of %s at byte "
                                   "%zu); distilc reads at most %d levels "
                                   "(ONNX_MAX_MESSAGE_DEPTH)",
                                   ONNX_MAX_MESSAGE_DEPTH, f->name,
                                   stack[top].desc->name, at,
                                   ONNX_MAX_MESSAGE_DEPTH);
            graphs += sub == graph;
            stack[++top] = (wire_frame){sub, pos + (size_t)n};
            break;
        }
        default: /* groups (3, 4) and the unused types 6, 7 */
            return wire_malformed(what, at, d);
        }
    }
}

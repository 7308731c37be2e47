/* act.h — the activations: one enum, one name table and one scalar
 * reference each, shared by the IR (Gelu/Relu/Tanh ops and the fused
 * Linear's "activation" attribute), the encoder config, the runtime and its
 * oneDNN wrappers, the trainer, the search and the emitted standalone
 * program (backend/emit embeds this file and ir/act.c, as it does ir/cpu.c).
 *
 *     ir_act a;
 *     if (!ir_act_parse(ir_node_attr_string(n, "activation", "none"), &a))
 *         ...                                 // not an activation name
 *     y = ir_act_ref(a, x);                   // the reference, in double
 *     printf("%s\n", ir_act_name(a));         // "gelu"
 *
 * IR_ACT_NONE is 0, so a zeroed descriptor (backend/dnnl_matmul.h) has no
 * activation. The numbers are part of the latency cache's keys
 * (search/latency.c): they never move. Emitted weight files and trainer
 * checkpoints store an FFN's activation as its own code, gelu 0,
 * gelu_tanh 1, relu 2 (ir_act_ffn_code).
 *
 * Fast variants (the runtime's vectorised epilogues in backend/rt_linear.c,
 * the trainer's GELU in distill/gelu.c, oneDNN's eltwise post-ops) are
 * tested against ir_act_ref; they are not references.
 */
#ifndef DISTILC_IR_ACT_H
#define DISTILC_IR_ACT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum ir_act {
    IR_ACT_NONE,      /* identity: a linear layer without activation */
    IR_ACT_GELU,      /* erf form, as BERT and torch's default gelu */
    IR_ACT_GELU_TANH, /* tanh approximation (gelu_new) */
    IR_ACT_RELU,
    IR_ACT_TANH,      /* BERT's pooler */
    IR_ACT_COUNT
} ir_act;

/* The name graphs, recipes, search spaces and reports spell:
 * "gelu", "gelu_tanh", "relu", "tanh", "none"; "?" out of range. */
const char *ir_act_name(ir_act a);
/* The name that says which GELU formula, as the runtime's messages and
 * benchmark reports print it: "gelu_erf" for IR_ACT_GELU, else as
 * ir_act_name. */
const char *ir_act_form_name(ir_act a);
/* Parses ir_act_name's spellings; false if unknown (out untouched). */
bool ir_act_parse(const char *s, ir_act *out);
/* FLOPs per element of the activation's formula written in standard ONNX
 * ops, as exporters write it (ir/flops.h): gelu 5 (Div, Erf, Add, Mul,
 * Mul), gelu_tanh 9 (x·x, ·x, ·0.044715, +x, ·sqrt(2/pi), Tanh, +1, ·x,
 * ·0.5), relu 1, tanh 1, none 0. */
int ir_act_flops(ir_act a);

/* The activations an encoder's FFN may use (ir/encoder.h, backend/rt.h):
 * gelu, gelu_tanh and relu. */
static inline bool ir_act_is_ffn(ir_act a)
{
    return a == IR_ACT_GELU || a == IR_ACT_GELU_TANH || a == IR_ACT_RELU;
}
/* An FFN activation as weight files and checkpoints store it (gelu 0,
 * gelu_tanh 1, relu 2; -1 for the others), and back (IR_ACT_COUNT, which
 * no config accepts, for an unknown code). */
static inline int64_t ir_act_ffn_code(ir_act a)
{
    return ir_act_is_ffn(a) ? (int64_t)a - IR_ACT_GELU : -1;
}
static inline ir_act ir_act_from_ffn_code(int64_t code)
{
    return code >= 0 && code <= IR_ACT_RELU - IR_ACT_GELU
               ? (ir_act)(code + IR_ACT_GELU) : IR_ACT_COUNT;
}

/* The one scalar reference of each activation, in double, as the ONNX
 * operators define them: Gelu-20 approximate "none" x·Phi(x) and "tanh",
 * Relu-14 (NaN stays NaN), Tanh-13. The interpreter's Gelu/Relu/Tanh ops,
 * the fused Linear and the tests' oracles all call this one. */
static inline double ir_act_ref(ir_act a, double x)
{
    switch (a) {
    case IR_ACT_GELU:
        return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440)); /* 1/sqrt2 */
    case IR_ACT_GELU_TANH: {
        const double c = 0.79788456080286535588; /* sqrt(2/pi) */
        return 0.5 * x * (1.0 + tanh(c * (x + 0.044715 * x * x * x)));
    }
    case IR_ACT_RELU: return x > 0 ? x : (x == x ? 0.0 : x);
    case IR_ACT_TANH: return tanh(x);
    default: return x;
    }
}

#endif

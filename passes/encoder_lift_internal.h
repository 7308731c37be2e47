/* encoder_lift_internal.h — what the encoder lift's files share
 * (passes/encoder_lift*.c); nothing else includes it. */
#ifndef DISTILC_PASSES_ENCODER_LIFT_INTERNAL_H
#define DISTILC_PASSES_ENCODER_LIFT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ir/ir.h"

/* v with Casts (integer, bool and float conversions) skipped. */
static inline const ir_value *lift_uncast(const ir_value *v)
{
    while (v && v->producer && v->producer->op == IR_OP_CAST)
        v = v->producer->inputs[0];
    return v;
}

/* A constant integer scalar (int64 or int32, one element), Casts skipped. */
static inline bool lift_const_int(const ir_value *v, int64_t *out)
{
    v = lift_uncast(v);
    if (!v || !v->constant || ir_tensor_numel(v->constant) != 1)
        return false;
    const ir_tensor *t = v->constant;
    if (t->dtype == IR_DT_I64) {
        *out = ir_tensor_get_i64(t, 0);
        return true;
    }
    if (t->dtype == IR_DT_I32) {
        int32_t x;
        memcpy(&x, t->data, sizeof x);
        *out = x;
        return true;
    }
    return false;
}

/* Whether v computes RoBERTa's position ids from input_ids (transformers'
 * create_position_ids_from_input_ids); sets *pad_id. */
bool lift_padded_positions(const ir_value *v, int64_t *pad_id);

/* MPNet's relative position bias (ir/relpos.h) as lift_relative_bias
 * found it, or where it broke. */
typedef struct lift_relpos {
    int64_t buckets, max_distance;
    bool bidirectional;
    const ir_tensor *table;   /* [rows >= buckets, heads] f32 */
    const ir_node *at;        /* on failure: the node that broke it */
    const char *expected;     /*             and what was expected there */
} lift_relpos;

/* Whether v (an Attention's input 4) is the bias transformers'
 * MPNetEncoder.compute_position_bias computes, as the exporters write it
 * (encoder_lift_relpos.c), over a table of `heads` columns. */
bool lift_relative_bias(const ir_value *v, int64_t heads, lift_relpos *out);

#endif

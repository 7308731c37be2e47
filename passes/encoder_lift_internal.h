/* encoder_lift_internal.h — what the encoder lift's files share
 * (passes/encoder_lift*.c); nothing else includes it. */
#ifndef DISTILC_PASSES_ENCODER_LIFT_INTERNAL_H
#define DISTILC_PASSES_ENCODER_LIFT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ir/ir.h"

/* Whether v computes RoBERTa's position ids from input_ids (transformers'
 * create_position_ids_from_input_ids); sets *pad_id. */
bool lift_padded_positions(const ir_value *v, int64_t *pad_id);

#endif

/* input_role.h — what a model's graph input carries, from its name.
 *
 * distilc feeds three inputs: token ids, the attention mask and token
 * types. Exporters name them differently: Hugging Face (input_ids,
 * attention_mask, token_type_ids), Google's BERT and TF Hub / Model Garden
 * (input_ids or input_word_ids, input_mask, segment_ids or input_type_ids),
 * KerasNLP (token_ids, padding_mask, segment_ids), and tf2onnx adds ":0".
 * Every command that feeds a teacher, and the lift that tells the token
 * type table from the word table, asks here, so one list decides.
 *
 *     ir_input_role r = ir_input_role_of("input_mask:0"); // IR_INPUT_MASK
 *     ir_input_role_name(r);   // "attention_mask", Hugging Face's name
 *
 * A student distilc writes takes Hugging Face's names. */
#ifndef DISTILC_IR_INPUT_ROLE_H
#define DISTILC_IR_INPUT_ROLE_H

#include "ir/diag.h"
#include "ir/ir.h"

typedef enum ir_input_role {
    IR_INPUT_UNKNOWN = -1,
    IR_INPUT_IDS,   /* token ids */
    IR_INPUT_MASK,  /* 1 for a token, 0 for padding */
    IR_INPUT_TYPES, /* token types (segments) */
    IR_INPUT_ROLE_COUNT
} ir_input_role;

/* The role of an input named name (NULL: unknown). */
ir_input_role ir_input_role_of(const char *name);
/* Hugging Face's name of a role ("input_ids", ...; "?" for unknown). */
const char *ir_input_role_name(ir_input_role r);
/* Every name accepted for r, comma-separated, for error messages. */
const char *ir_input_role_aliases(ir_input_role r);
/* The index in g->inputs of the input with role r, or -1. */
int ir_graph_input_with_role(const ir_graph *g, ir_input_role r);
/* Every input of g by its role: idx[r] its index in g->inputs, or -1.
 * IR_ERR_INPUT naming the input when one has no known name (listing them
 * all) or two carry one role, and when there are no token ids; who names
 * the command for the message ("eval"). */
ir_status ir_graph_input_roles(const ir_graph *g, const char *who,
                               int idx[IR_INPUT_ROLE_COUNT], ir_diag *d);

#endif

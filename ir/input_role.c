/* input_role.c — the names of a model's inputs that distilc knows
 * (ir/input_role.h). */
#include <string.h>

#include "ir/input_role.h"

/* Each role's names; the first is Hugging Face's, which students take. */
static const char *const ids_names[] = {"input_ids", "input_word_ids", "token_ids", NULL};
static const char *const mask_names[] = {"attention_mask", "input_mask", "padding_mask",
                                         NULL};
static const char *const types_names[] = {"token_type_ids", "input_type_ids",
                                          "segment_ids", NULL};
static const char *const *const role_names[IR_INPUT_ROLE_COUNT] = {
    ids_names, mask_names, types_names};

ir_input_role ir_input_role_of(const char *name)
{
    if (!name)
        return IR_INPUT_UNKNOWN;
    /* tf2onnx names a tensor after its output slot: "input_mask:0" */
    size_t n = strlen(name);
    if (n > 2 && strcmp(name + n - 2, ":0") == 0)
        n -= 2;
    for (int r = 0; r < IR_INPUT_ROLE_COUNT; r++)
        for (const char *const *p = role_names[r]; *p; p++)
            if (strlen(*p) == n && strncmp(*p, name, n) == 0)
                return (ir_input_role)r;
    return IR_INPUT_UNKNOWN;
}

const char *ir_input_role_name(ir_input_role r)
{
    return r >= 0 && r < IR_INPUT_ROLE_COUNT ? role_names[r][0] : "?";
}

const char *ir_input_role_aliases(ir_input_role r)
{
    switch (r) {
    case IR_INPUT_IDS: return "input_ids, input_word_ids, token_ids";
    case IR_INPUT_MASK: return "attention_mask, input_mask, padding_mask";
    case IR_INPUT_TYPES: return "token_type_ids, input_type_ids, segment_ids";
    default: return "?";
    }
}

int ir_graph_input_with_role(const ir_graph *g, ir_input_role r)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (ir_input_role_of(g->inputs[i]->name) == r)
            return i;
    return -1;
}

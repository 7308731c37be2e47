/* input_role.c — the names of a model's inputs that distilc knows
 * (ir/input_role.h). */
#include <string.h>

#include "ir/input_role.h"

/* Each role's names in one list, which both the lookup and the error
 * messages read; the first is Hugging Face's, which students take. */
#define IDS_HF "input_ids"
#define MASK_HF "attention_mask"
#define TYPES_HF "token_type_ids"
static const char *const hf_names[IR_INPUT_ROLE_COUNT] = {IDS_HF, MASK_HF, TYPES_HF};
static const char *const role_lists[IR_INPUT_ROLE_COUNT] = {
    IDS_HF ", input_word_ids, token_ids",
    MASK_HF ", input_mask, padding_mask",
    TYPES_HF ", input_type_ids, segment_ids"};

/* Whether name[0..n) is one of list's ", "-separated names. */
static bool in_list(const char *list, const char *name, size_t n)
{
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t k = end ? (size_t)(end - p) : strlen(p);
        if (k == n && strncmp(p, name, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 2;
    }
    return false;
}

ir_input_role ir_input_role_of(const char *name)
{
    if (!name)
        return IR_INPUT_UNKNOWN;
    /* tf2onnx names a tensor after its output slot: "input_mask:0" */
    size_t n = strlen(name);
    if (n > 2 && strcmp(name + n - 2, ":0") == 0)
        n -= 2;
    for (int r = 0; r < IR_INPUT_ROLE_COUNT; r++)
        if (n > 0 && in_list(role_lists[r], name, n))
            return (ir_input_role)r;
    return IR_INPUT_UNKNOWN;
}

const char *ir_input_role_name(ir_input_role r)
{
    return r >= 0 && r < IR_INPUT_ROLE_COUNT ? hf_names[r] : "?";
}

const char *ir_input_role_aliases(ir_input_role r)
{
    return r >= 0 && r < IR_INPUT_ROLE_COUNT ? role_lists[r] : "?";
}

int ir_graph_input_with_role(const ir_graph *g, ir_input_role r)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (ir_input_role_of(g->inputs[i]->name) == r)
            return i;
    return -1;
}

ir_status ir_graph_input_roles(const ir_graph *g, const char *who,
                               int idx[IR_INPUT_ROLE_COUNT], ir_diag *d)
{
    for (int r = 0; r < IR_INPUT_ROLE_COUNT; r++)
        idx[r] = -1;
    for (int i = 0; i < g->n_inputs; i++) {
        const char *name = g->inputs[i]->name;
        ir_input_role r = ir_input_role_of(name);
        if (r == IR_INPUT_UNKNOWN)
            return ir_diag_set(d, IR_ERR_INPUT, "input '%s' is not one %s can "
                               "feed: not token ids (%s), a mask (%s) or token "
                               "types (%s)", name, who, role_lists[IR_INPUT_IDS],
                               role_lists[IR_INPUT_MASK], role_lists[IR_INPUT_TYPES]);
        if (idx[r] >= 0)
            return ir_diag_set(d, IR_ERR_INPUT, "inputs '%s' and '%s' both carry %s",
                               g->inputs[idx[r]]->name, name, hf_names[r]);
        idx[r] = i;
    }
    if (idx[IR_INPUT_IDS] < 0)
        return ir_diag_set(d, IR_ERR_INPUT, "the model has no token ids input "
                           "(named one of %s), which %s needs", role_lists[IR_INPUT_IDS],
                           who);
    return IR_OK;
}

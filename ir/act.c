/* act.c — the activations' name table (see ir/act.h). One row per
 * activation: the spelling files use, the formula's name where it differs,
 * and the FLOPs of its standard-op form. */
#include "ir/act.h"

#include <string.h>

typedef struct act_row {
    const char *name;
    const char *form; /* NULL: as name */
    int flops;
} act_row;

static const act_row act_table[IR_ACT_COUNT] = {
    [IR_ACT_NONE] = {"none", NULL, 0},
    [IR_ACT_GELU] = {"gelu", "gelu_erf", 5},
    [IR_ACT_GELU_TANH] = {"gelu_tanh", NULL, 9},
    [IR_ACT_RELU] = {"relu", NULL, 1},
    [IR_ACT_TANH] = {"tanh", NULL, 1},
};

const char *ir_act_name(ir_act a)
{
    return (unsigned)a < IR_ACT_COUNT ? act_table[a].name : "?";
}

const char *ir_act_form_name(ir_act a)
{
    if ((unsigned)a >= IR_ACT_COUNT)
        return "?";
    return act_table[a].form ? act_table[a].form : act_table[a].name;
}

bool ir_act_parse(const char *s, ir_act *out)
{
    for (int i = 0; s && i < IR_ACT_COUNT; i++)
        if (strcmp(s, act_table[i].name) == 0) {
            *out = (ir_act)i;
            return true;
        }
    return false;
}

int ir_act_flops(ir_act a)
{
    return (unsigned)a < IR_ACT_COUNT ? act_table[a].flops : 0;
}

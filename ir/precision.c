/* precision.c — the precisions' names (see ir/precision.h). */
#include "ir/precision.h"

#include <string.h>

static const char *const precision_names[IR_PRECISION_COUNT] = {
    [IR_PRECISION_FP32] = "fp32",
    [IR_PRECISION_BF16] = "bf16",
    [IR_PRECISION_INT8] = "int8",
};

const char *ir_precision_name(ir_precision p)
{
    return (unsigned)p < IR_PRECISION_COUNT ? precision_names[p] : "?";
}

bool ir_precision_parse(const char *s, ir_precision *out)
{
    for (int i = 0; s && i < IR_PRECISION_COUNT; i++)
        if (strcmp(s, precision_names[i]) == 0) {
            *out = (ir_precision)i;
            return true;
        }
    return false;
}

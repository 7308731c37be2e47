/* test_input_role.c — the names distilc knows for a model's inputs
 * (ir/input_role.h): every name an error message lists is one the lookup
 * takes, tf2onnx's ":0" suffix, and names it must not take. */
#include <string.h>

#include "ir/input_role.h"
#include "testutil.h"

static void test_aliases_listed_are_taken(void)
{
    for (int r = 0; r < IR_INPUT_ROLE_COUNT; r++) {
        char list[256];
        snprintf(list, sizeof list, "%s", ir_input_role_aliases((ir_input_role)r));
        int n = 0;
        for (char *save, *p = strtok_r(list, ", ", &save); p;
             p = strtok_r(NULL, ", ", &save), n++) {
            CHECK_MSG(ir_input_role_of(p) == (ir_input_role)r, "%s", p);
            char suffixed[96];
            snprintf(suffixed, sizeof suffixed, "%s:0", p);
            CHECK_MSG(ir_input_role_of(suffixed) == (ir_input_role)r, "%s", suffixed);
        }
        CHECK(n == 3);
        /* students take Hugging Face's name, the first listed */
        CHECK(strncmp(ir_input_role_aliases((ir_input_role)r),
                      ir_input_role_name((ir_input_role)r),
                      strlen(ir_input_role_name((ir_input_role)r))) == 0);
    }
    CHECK(strcmp(ir_input_role_name(IR_INPUT_IDS), "input_ids") == 0);
    CHECK(strcmp(ir_input_role_name(IR_INPUT_MASK), "attention_mask") == 0);
    CHECK(strcmp(ir_input_role_name(IR_INPUT_TYPES), "token_type_ids") == 0);
}

static void test_names_not_taken(void)
{
    static const char *const not[] = {"", ":0", "input_ids:1", "input_ids:",
                                      "Input_Ids", "position_ids", "input_idsx",
                                      "mask", "x:0"};
    for (size_t i = 0; i < sizeof not / sizeof *not; i++)
        CHECK_MSG(ir_input_role_of(not[i]) == IR_INPUT_UNKNOWN, "'%s'", not[i]);
    CHECK(ir_input_role_of(NULL) == IR_INPUT_UNKNOWN);
    CHECK(strcmp(ir_input_role_name(IR_INPUT_UNKNOWN), "?") == 0);
}

int main(void)
{
    test_aliases_listed_are_taken();
    test_names_not_taken();
    return test_finish("test_input_role");
}

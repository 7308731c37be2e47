/* fuzz_recipe_xml.c — libFuzzer harness for distillation recipes
 * (recipe_load_text, what recipe_load_file runs on a file's bytes): any
 * text gives a recipe or a refusal naming the file, line and element.
 * libxml2 parses it without network access and validates it against the
 * compiled-in schema (frontend/recipe.xsd); entities (XXE, billion laughs)
 * must be refused or stay bounded. Relative paths resolve against the
 * scratch folder. */
#include <stddef.h>
#include <stdint.h>

#include "frontend/recipe.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    recipe r;
    recipe_default(&r);
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = recipe_load_text((const char *)data, size, "recipe.xml",
                                   fuzz_scratch(), &r, &d);
    fuzz_explained(s, &d);
    return 0;
}

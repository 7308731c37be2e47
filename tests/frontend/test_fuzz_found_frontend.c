/* test_fuzz_found_frontend.c — inputs the fuzz harnesses (tests/fuzz) found
 * against the frontend's readers, each fed to the same entry point the
 * harness calls, with the answer it must now get. One function per
 * finding, named after the harness that found it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/json.h"
#include "testutil.h"

/* fuzz_json: a number beyond a double's range (2e308) was read as
 * infinity, which no JSON writer can write back (json_write_number makes
 * it null): refused now, like NaN, naming the place. Underflow still
 * reads as zero. */
static void test_json_number_out_of_range(void)
{
    static const char *const big[] = {"2e308", "[1, -1e999]", "{\"ms\": 1E400}",
                                      "123456789e301"};
    json_doc doc;
    ir_diag d;
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        ir_diag_init(&d);
        ir_status s = json_parse(big[i], strlen(big[i]), "t.json", &doc, &d);
        CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, "out of range"),
                  "%s: status %d, %s", big[i], s, d.msg);
        if (s == IR_OK)
            json_doc_free(&doc);
    }
    ir_diag_init(&d);
    CHECK(json_parse("[1e308, -2.5E-3372036854775808]", 31, "t.json", &doc, &d) == IR_OK);
    if (d.status == IR_OK) {
        CHECK(doc.root->u.items[0].u.num == 1e308);
        CHECK(doc.root->u.items[1].u.num == 0.0);
        json_doc_free(&doc);
    }
}

int main(void)
{
    test_json_number_out_of_range();
    return test_finish("test_fuzz_found_frontend");
}

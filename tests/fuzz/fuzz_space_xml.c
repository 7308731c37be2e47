/* fuzz_space_xml.c — libFuzzer harness for search spaces
 * (search_space_load_memory: the XML reader of frontend/space_xml.c with
 * the search's own validity check): any text gives a space or a refusal
 * naming the file and what is wrong. A space that loads samples, mutates
 * and decodes a few genomes, as the evolution does with it. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "search/space.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static search_space sp;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = search_space_load_memory((const char *)data, size, "space.xml",
                                           &sp, &d);
    fuzz_explained(s, &d);
    if (s != IR_OK)
        return 0;
    search_rng r;
    search_rng_seed(&r, 1);
    for (int i = 0; i < 4; i++) {
        search_genome g, h;
        ir_encoder_config c;
        ir_diag_init(&d);
        s = search_space_sample(&sp, &r, &g, &d);
        fuzz_explained(s, &d);
        if (s != IR_OK)
            break;
        if (!search_space_mutate(&sp, &r, &g, 0.5, &h))
            h = g;
        ir_diag_init(&d);
        s = search_space_decode(&sp, &h, &c, &d);
        fuzz_explained(s, &d);
    }
    return 0;
}

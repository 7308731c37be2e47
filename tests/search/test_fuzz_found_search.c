/* test_fuzz_found_search.c — inputs that break the search's readers,
 * found with the fuzz harnesses (tests/fuzz), each fed to the entry point
 * the harness calls, with the answer it must now get. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/latency.h"
#include "search/space.h"
#include "testutil.h"

/* fuzz_latency_cache: interpolating from a cached embedding entry summed
 * its two widths as int64, so "embed/.../8,9223372036854775807,1,8/a0"
 * overflowed (UBSan: signed integer overflow). Found reading the
 * harness's coverage of entry_work and confirmed by replaying the cache
 * through fuzz_latency_cache. The prediction is made now, finite. */
static void test_latency_embed_dims_overflow(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/latency.json", dir);
    search_latency_opts o;
    search_latency_opts_default(&o);
    o.cache_path = path;
    o.load_cache = false;
    o.measure = false;
    search_latency *m = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (search_latency_create(&o, &m, &d) != IR_OK) {
        CHECK_MSG(0, "%s", d.msg);
        return;
    }
    /* a cache of this machine (its CPU string), one entry of each kind the
     * prediction needs, the embedding's widths at the int64 limit */
    FILE *f = fopen(path, "w");
    if (!f) {
        CHECK_MSG(0, "cannot write %s", path);
        search_latency_free(m);
        return;
    }
    /* the entries of an encoder H16 L2 at batch 1, seq 8 (as
     * tests/fuzz/seeds_model.c measures them), but the embedding's, whose
     * widths are at the int64 limit: it is interpolated from */
    static const char *const keys[] = {
        "embed/fp32/t1/wall/8,9223372036854775807,1,8/a0",
        "layernorm/fp32/t1/wall/8,16,0,0/a0", "linear/fp32/t1/wall/8,16,48,0/a0",
        "attention/fp32/t1/wall/1,2,8,8/a0", "linear/fp32/t1/wall/8,16,16,0/a8",
        "linear/fp32/t1/wall/8,16,32,0/a1", "linear/fp32/t1/wall/8,32,16,0/a8",
        "attention/fp32/t1/wall/1,2,8,8/a1", "linear/fp32/t1/wall/1,16,16,0/a8",
        "layernorm/fp32/t1/wall/1,16,0,0/a0", "linear/fp32/t1/wall/1,16,32,0/a1",
        "linear/fp32/t1/wall/1,32,16,0/a8", "linear/fp32/t1/wall/1,16,16,0/a4",
        "linear/fp32/t1/wall/1,16,2,0/a0"};
    fprintf(f, "{\"format\": \"distilc-latency\", \"version\": 2, \"cpu\": \"%s\", "
               "\"entries\": {", search_latency_cpu(m));
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        fprintf(f, "%s\"%s\": 0.01", i ? ", " : "", keys[i]);
    fprintf(f, "}}\n");
    fclose(f);
    search_latency_free(m);
    o.load_cache = true;
    ir_diag_init(&d);
    CHECK_MSG(search_latency_create(&o, &m, &d) == IR_OK, "%s", d.msg);
    if (!m)
        return;
    ir_encoder_config c;
    ir_encoder_config_init(&c);
    c.hidden = 16, c.layers = 2, c.heads = 2, c.ffn = 32, c.vocab = 40;
    c.max_positions = 16, c.type_vocab = 2, c.labels = 2;
    ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, &d);
    search_latency_query q = {.batch = 1, .seq = 8, .threads = 1,
                              .precision = IR_PRECISION_FP32};
    search_latency_estimate e;
    ir_diag_init(&d);
    ir_status s = search_latency_predict(m, &c, &q, &e, &d);
    CHECK_MSG(s == IR_OK && isfinite(e.total_ms), "status %d, %s", s, d.msg);
    search_latency_free(m);
}

/* A space of 32 choices for every gene: 32^6 = 10^9 genomes. */
static char *wide_space(const char *max_params)
{
    size_t cap = 8192, k = 0;
    char *x = malloc(cap);
    if (!x)
        return NULL;
    k += (size_t)snprintf(x + k, cap - k, "<space version=\"1\"><base vocab=\"40\" "
                          "max-positions=\"16\" type-vocab=\"2\" labels=\"2\" "
                          "activation=\"gelu\" head=\"classification\"/><choices>");
    static const char *const gene[5] = {"layers", "hidden", "heads", "ffn", "embed"};
    static const int step[5] = {1, 64, 1, 64, 16}, first[5] = {1, 64, 1, 64, 0};
    for (int g = 0; g < 5; g++) {
        k += (size_t)snprintf(x + k, cap - k, "<%s>", gene[g]);
        for (int i = 0; i < 32; i++)
            k += (size_t)snprintf(x + k, cap - k, "%s%d", i ? " " : "",
                                  first[g] + step[g] * i);
        k += (size_t)snprintf(x + k, cap - k, "</%s>", gene[g]);
    }
    k += (size_t)snprintf(x + k, cap - k, "<sharing>none all attention ffn");
    for (int i = 2; i < 30; i++)
        k += (size_t)snprintf(x + k, cap - k, " groups:%d", i);
    snprintf(x + k, cap - k, "</sharing></choices><constraints><params max=\"%s\"/>"
             "</constraints></space>", max_params);
    return x;
}

/* fuzz_space_xml: loading a space checks that some candidate is valid, by
 * enumerating every genome; with 32 choices a gene and constraints no
 * candidate meets that was 10^9 genomes, minutes (a hang; found as the
 * harness's slowest inputs, confirmed by replay). A space that large is
 * checked by drawing now: refused at once when nothing fits, loaded when
 * something does. The ctest timeout (TEST_SETTINGS, 120 s) catches a
 * return of the enumeration. */
static void test_space_wide_and_empty(void)
{
    search_space sp;
    ir_diag d;
    char *none = wide_space("1"), *some = wide_space("100000000");
    CHECK(none && some);
    if (none && some) {
        ir_diag_init(&d);
        ir_status s = search_space_load_memory(none, strlen(none), "wide.xml", &sp, &d);
        CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, "no combination"), "status %d, %s",
                  s, d.msg);
        ir_diag_init(&d);
        CHECK_MSG(search_space_load_memory(some, strlen(some), "wide.xml", &sp, &d) ==
                      IR_OK, "%s", d.msg);
    }
    free(none);
    free(some);
}

int main(void)
{
    char dir[256];
    if (!test_tmpdir(dir, sizeof dir)) {
        fprintf(stderr, "no temporary folder\n");
        return 1;
    }
    test_latency_embed_dims_overflow(dir);
    test_space_wide_and_empty();
    return test_finish("test_fuzz_found_search");
}

/* test_search_space.c — the search space: the default space parses and
 * matches its compiled-in copy, schema and semantic errors name the line
 * and element, sampling/mutation/crossover stay in the space and respect
 * validity and the static constraints, enumeration counts. */
#include <stdlib.h>
#include <string.h>

#include "search/space.h"
#include "testutil.h"

static ir_status load(const char *xml, search_space *sp, ir_diag *d)
{
    ir_diag_init(d);
    return search_space_load_memory(xml, strlen(xml), "t.xml", sp, d);
}

static void test_default_space(void)
{
    char p[4096];
    search_space sp;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = search_space_load_file(test_source_path("search/spaces/default.xml", p, sizeof p), &sp, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    CHECK(sp.n[SEARCH_GENE_LAYERS] == 5 && sp.values[SEARCH_GENE_LAYERS][2] == 4);
    CHECK(sp.n[SEARCH_GENE_HIDDEN] == 6 && sp.values[SEARCH_GENE_HIDDEN][3] == 312);
    CHECK(sp.n[SEARCH_GENE_SHARE] == 5 && sp.share[2].scheme == IR_ENC_SHARE_GROUPS &&
          sp.share[2].k == 2);
    CHECK(sp.cons.latency_ms == 10 && sp.cons.seq == 128 && sp.cons.batch == 1 &&
          sp.cons.threads == 2 && sp.cons.precision == IR_PRECISION_FP32);
    CHECK(sp.cons.max_params == 40000000 && sp.cons.max_size_mb == 160);
    CHECK(sp.base.vocab == 30522 && sp.base.labels == 2);
    CHECK(search_space_total(&sp) == 5.0 * 6 * 5 * 6 * 2 * 5);
    size_t nv = search_space_count_valid(&sp, 0);
    CHECK(nv > 100 && nv < 9000);
    printf("default space: %.0f genomes, %zu valid\n", search_space_total(&sp), nv);

    /* the compiled-in copies are the shipped files */
    char *xsd = test_read_file(test_source_path("search/space.xsd", p, sizeof p), NULL);
    CHECK_MSG(xsd && strcmp(xsd, search_space_schema_text()) == 0,
              "frontend/space_text.c is stale: regenerate it from search/space.xsd");
    free(xsd);
    char *def = test_read_file(test_source_path("search/spaces/default.xml", p, sizeof p), NULL);
    CHECK_MSG(def && strcmp(def, search_space_default_text()) == 0,
              "frontend/space_text.c is stale: regenerate it from search/spaces/default.xml");
    free(def);
    search_space sp2;
    CHECK(load(search_space_default_text(), &sp2, &d) == IR_OK);
}

static const char *minimal =
    "<space version=\"1\">\n"
    "  <choices>\n"
    "    <layers>2 4</layers>\n"
    "    <hidden>64 128</hidden>\n"
    "    <heads>2 4 8</heads>\n"
    "    <ffn>128 256</ffn>\n"
    "  </choices>\n"
    "</space>\n";

static void test_errors(void)
{
    search_space sp;
    ir_diag d;
    CHECK(load(minimal, &sp, &d) == IR_OK);
    CHECK(sp.n[SEARCH_GENE_EMBED] == 1 && sp.values[SEARCH_GENE_EMBED][0] == 0);
    CHECK(sp.n[SEARCH_GENE_SHARE] == 1 && sp.share[0].scheme == IR_ENC_SHARE_NONE);
    CHECK(sp.cons.latency_ms == 0 && sp.cons.max_params == 0);
    CHECK(sp.cons.seq == 128 && sp.cons.batch == 1 && sp.cons.threads == 2);
    /* without a latency element the default seq fits the positions */
    const char *short_pos =
        "<space version=\"1\"><base max-positions=\"16\"/><choices><layers>2</layers>"
        "<hidden>64</hidden><heads>2</heads><ffn>128</ffn></choices></space>";
    CHECK(load(short_pos, &sp, &d) == IR_OK && sp.cons.seq == 16);
    /* ... but an explicit one that does not is an error naming it */
    const char *long_seq =
        "<space version=\"1\"><base max-positions=\"16\"/><choices><layers>2</layers>"
        "<hidden>64</hidden><heads>2</heads><ffn>128</ffn></choices>\n<constraints>"
        "<latency ms=\"1\" seq=\"32\"/></constraints></space>";
    CHECK(load(long_seq, &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "t.xml:2: element 'latency'") && strstr(d.msg, "seq"), "%s", d.msg);

    /* a bad list item: schema error naming line 4 and element heads */
    const char *bad_heads =
        "<space version=\"1\">\n  <choices>\n    <layers>2</layers>\n"
        "    <heads>2 x</heads>\n    <hidden>64</hidden>\n    <ffn>128</ffn>\n"
        "  </choices>\n</space>\n";
    CHECK(load(bad_heads, &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "t.xml:4:") && strstr(d.msg, "'heads'"), "%s", d.msg);

    /* an unknown element */
    const char *unknown =
        "<space version=\"1\">\n  <choices>\n    <layers>2</layers>\n"
        "    <hidden>64</hidden>\n    <heads>2</heads>\n    <ffn>128</ffn>\n"
        "    <depth>3</depth>\n  </choices>\n</space>\n";
    CHECK(load(unknown, &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "t.xml:7:") && strstr(d.msg, "depth"), "%s", d.msg);

    /* a missing required element */
    const char *missing =
        "<space version=\"1\">\n  <choices>\n    <layers>2</layers>\n"
        "    <hidden>64</hidden>\n    <heads>2</heads>\n  </choices>\n</space>\n";
    CHECK(load(missing, &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "t.xml:2:") && strstr(d.msg, "ffn"), "%s", d.msg);

    /* bad sharing token, bad precision */
    const char *bad_share =
        "<space version=\"1\">\n  <choices>\n    <layers>2</layers>\n"
        "    <hidden>64</hidden>\n    <heads>2</heads>\n    <ffn>128</ffn>\n"
        "    <sharing>none some</sharing>\n  </choices>\n</space>\n";
    CHECK(load(bad_share, &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "t.xml:7:") && strstr(d.msg, "sharing"), "%s", d.msg);
    const char *bad_prec =
        "<space version=\"1\">\n  <choices>\n    <layers>2</layers>\n"
        "    <hidden>64</hidden>\n    <heads>2</heads>\n    <ffn>128</ffn>\n"
        "  </choices>\n  <constraints>\n    <latency ms=\"3\" precision=\"fp8\"/>\n"
        "  </constraints>\n</space>\n";
    CHECK(load(bad_prec, &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "t.xml:9:") && strstr(d.msg, "latency"), "%s", d.msg);

    /* a DOCTYPE (entities for XXE or billion laughs) is refused, naming
     * its line */
    CHECK(load("<?xml version='1.0'?>\n<!DOCTYPE space [<!ENTITY x SYSTEM "
               "'file:///etc/passwd'>]>\n<space version=\"1\"><choices><layers>"
               "&x;</layers></choices></space>", &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "t.xml:2: a DOCTYPE is not allowed"), "%s", d.msg);

    /* not XML at all: the parser's line */
    CHECK(load("<space version=\"1\">\n<choices>\n</space>", &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "t.xml:3:"), "%s", d.msg);

    /* semantic checks after the schema: version, duplicates, no valid
     * combination */
    CHECK(load("<space version=\"2\"><choices><layers>2</layers><hidden>64</hidden>"
               "<heads>2</heads><ffn>128</ffn></choices></space>", &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "version 2"), "%s", d.msg);
    const char *dup =
        "<space version=\"1\">\n  <choices>\n    <layers>2</layers>\n"
        "    <hidden>64 128 64</hidden>\n    <heads>2</heads>\n    <ffn>128</ffn>\n"
        "  </choices>\n</space>\n";
    CHECK(load(dup, &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "t.xml:4:") && strstr(d.msg, "'hidden'") &&
              strstr(d.msg, "twice"), "%s", d.msg);
    const char *none_valid =
        "<space version=\"1\">\n  <choices>\n    <layers>2</layers>\n"
        "    <hidden>64</hidden>\n    <heads>3 5</heads>\n    <ffn>128</ffn>\n"
        "  </choices>\n</space>\n";
    CHECK(load(none_valid, &sp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "t.xml:2:") && strstr(d.msg, "no combination"), "%s", d.msg);

    /* a missing file is an I/O error naming it */
    ir_diag_init(&d);
    CHECK(search_space_load_file("/nonexistent/space.xml", &sp, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "/nonexistent/space.xml") != NULL);
}

static void test_genomes(void)
{
    search_space sp;
    ir_diag d;
    CHECK(load(search_space_default_text(), &sp, &d) == IR_OK);
    sp.cons.max_params = 15000000; /* excludes the larger candidates */
    search_rng r;
    search_rng_seed(&r, 7);
    int bad = 0, changed = 0, in_space = 0;
    for (int i = 0; i < 300; i++) {
        search_genome g, m, x;
        CHECK(search_space_sample(&sp, &r, &g, &d) == IR_OK);
        ir_encoder_config c;
        if (search_space_decode(&sp, &g, &c, &d) != IR_OK ||
            c.hidden % c.heads != 0 || c.hidden / c.heads < SEARCH_MIN_HEAD_DIM ||
            ir_encoder_config_param_count(&c) > sp.cons.max_params ||
            (c.embed && c.embed >= c.hidden))
            bad++;
        if (search_space_mutate(&sp, &r, &g, 0.3, &m)) {
            changed += !search_genome_equal(&g, &m);
            in_space += search_space_valid(&sp, &m);
        } else
            in_space++;
        search_genome g2;
        CHECK(search_space_sample(&sp, &r, &g2, &d) == IR_OK);
        search_space_crossover(&sp, &r, &g, &g2, &x);
        CHECK(search_space_valid(&sp, &x));
        for (int k = 0; k < SEARCH_GENE_COUNT; k++)
            CHECK(x.g[k] == g.g[k] || x.g[k] == g2.g[k]);
    }
    CHECK_MSG(bad == 0, "%d sampled genomes break validity or constraints", bad);
    CHECK(changed > 250);
    CHECK(in_space == 300);

    /* sampling is deterministic in the seed */
    search_rng a, b;
    search_rng_seed(&a, 99);
    search_rng_seed(&b, 99);
    for (int i = 0; i < 20; i++) {
        search_genome ga, gb;
        search_space_sample(&sp, &a, &ga, &d);
        search_space_sample(&sp, &b, &gb, &d);
        CHECK(search_genome_equal(&ga, &gb));
    }

    /* decoding rules, with messages naming the field */
    search_genome g = {{0}};
    ir_encoder_config c;
    /* hidden 128 (index 0) with 12 heads (index 4) */
    g.g[SEARCH_GENE_HEADS] = 4;
    CHECK(search_space_decode(&sp, &g, &c, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "heads"), "%s", d.msg);
    g.g[SEARCH_GENE_HEADS] = 0;
    g.g[SEARCH_GENE_EMBED] = 1; /* embed 128 with hidden 128 */
    CHECK(search_space_decode(&sp, &g, &c, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "embed"), "%s", d.msg);
    g.g[SEARCH_GENE_HIDDEN] = 3; /* 312 */
    g.g[SEARCH_GENE_LAYERS] = 1; /* 3 layers: groups:2 does not divide */
    g.g[SEARCH_GENE_SHARE] = 2;
    CHECK(search_space_decode(&sp, &g, &c, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "groups:2"), "%s", d.msg);
    g.g[SEARCH_GENE_LAYERS] = 2; /* 4 layers, groups of 2 */
    CHECK(search_space_decode(&sp, &g, &c, &d) == IR_OK);
    CHECK(c.layers == 4 && c.hidden == 312 && c.embed == 128 &&
          c.n_attn_groups == 2 && c.attn_group[3] == 1);
    char buf[128];
    search_config_format(&c, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, "L4 H312 A2 F512 E128 groups:2") == 0, "%s", buf);
    g.g[SEARCH_GENE_LAYERS] = 200;
    CHECK(search_space_decode(&sp, &g, &c, &d) == IR_ERR_INPUT);

    /* size: fp32 is 4 bytes a parameter, bf16 half, int8 (f32 embeddings) between */
    g = (search_genome){{2, 3, 4, 3, 0, 0}}; /* TinyBERT-4: L4 H312 A12 F1200 */
    CHECK(search_space_decode(&sp, &g, &c, &d) == IR_OK);
    double mb = search_config_size_mb(&c, IR_PRECISION_FP32);
    CHECK(mb * 1024 * 1024 == 4.0 * (double)ir_encoder_config_param_count(&c));
    CHECK(search_config_size_mb(&c, IR_PRECISION_INT8) < mb && search_config_size_mb(&c, IR_PRECISION_BF16) == mb / 2);
    CHECK(search_config_body_params(&c) == 4 * (312 * 936 + 936 + 312 * 312 + 312 + 2 * 312 +
                                                312 * 1200 + 1200 + 1200 * 312 + 312 + 2 * 312));

    /* enumeration visits each genome once */
    search_genome first, last;
    search_space_genome_at(&sp, 0, &first);
    search_space_genome_at(&sp, (uint64_t)search_space_total(&sp) - 1, &last);
    for (int k = 0; k < SEARCH_GENE_COUNT; k++) {
        CHECK(first.g[k] == 0);
        CHECK(last.g[k] == sp.n[k] - 1);
    }

    /* the share/precision names round-trip */
    search_share sh;
    CHECK(search_share_parse("groups:3", &sh) && sh.k == 3);
    CHECK(!search_share_parse("groups:0", &sh) && !search_share_parse("half", &sh));
    ir_precision pr;
    CHECK(ir_precision_parse("bf16", &pr) && pr == IR_PRECISION_BF16);
    CHECK(!ir_precision_parse("fp16", &pr));
}

int main(void)
{
    test_default_space();
    test_errors();
    test_genomes();
    return test_finish("test_search_space");
}

/* seeds_text.c — seeds of the text harnesses: GLUE files of every task and
 * split (fuzz_glue_tsv), the user's CSV, TSV and JSON lines
 * (fuzz_user_data), vocab.txt and tokenizer.json files
 * (fuzz_vocab_txt, fuzz_tokenizer_json, from fuzz_tokenizers.h), texts
 * for every tokenizer (fuzz_tokenize), JSON documents (fuzz_json), the
 * emitted program's input lines (fuzz_program_stdin), and the recipes and
 * search spaces the repository ships plus hostile XML (fuzz_recipe_xml,
 * fuzz_space_xml). The byte layouts before the texts are those the
 * harnesses document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/glue.h"
#include "fuzz_tokenizers.h"
#include "search/space.h"
#include "seeds.h"

/* ---- GLUE ---------------------------------------------------------------- */

/* One value of a row: the column's text, or a label. */
static void glue_field(char *buf, size_t n, const glue_task *t, const char *col,
                       size_t row)
{
    if (t->col_label && strcmp(col, t->col_label) == 0) {
        if (t->is_regression)
            snprintf(buf, n, "%.1f", (double)(row % 6) * 0.9);
        else
            snprintf(buf, n, "%s", t->label_values[row % (size_t)t->n_labels]);
    } else if (strcmp(col, "index") == 0) {
        snprintf(buf, n, "%zu", row);
    } else {
        static const char *const text[] = {
            "The quick brown fox jumps over the lazy dog .",
            "It 's a \"charming\" and often affecting journey .",
            "Caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 !"};
        snprintf(buf, n, "%s", text[row % 3]);
    }
}

/* A header line and three rows, with GLUE's columns for the task and
 * split (an "index" column first, as most GLUE files have). */
static void glue_file(char *buf, size_t n, const glue_task *t, glue_split s,
                      const char *eol)
{
    size_t k = 0;
    if (t->noheader_splits[s]) { /* CoLA: source, label, original, sentence */
        for (size_t r = 0; r < 3; r++) {
            char sent[256];
            glue_field(sent, sizeof sent, t, "sentence", r);
            k += (size_t)snprintf(buf + k, n - k, "gj04\t%zu\t\t%s%s", r % 2, sent, eol);
        }
        return;
    }
    const char *cols[4] = {"index", t->col_a, t->col_b,
                           s == GLUE_SPLIT_TEST ? NULL : t->col_label};
    int first = 1;
    for (int c = 0; c < 4; c++)
        if (cols[c]) {
            k += (size_t)snprintf(buf + k, n - k, "%s%s", first ? "" : "\t", cols[c]);
            first = 0;
        }
    k += (size_t)snprintf(buf + k, n - k, "%s", eol);
    for (size_t r = 0; r < 3; r++) {
        first = 1;
        for (int c = 0; c < 4; c++)
            if (cols[c]) {
                char f[256];
                glue_field(f, sizeof f, t, cols[c], r);
                k += (size_t)snprintf(buf + k, n - k, "%s%s", first ? "" : "\t", f);
                first = 0;
            }
        k += (size_t)snprintf(buf + k, n - k, "%s", eol);
    }
}

static int seeds_glue(const char *out)
{
    int rc = 0;
    char text[4096], name[64];
    for (size_t i = 0; i < GLUE_TASK_COUNT; i++) {
        const glue_task *t = glue_task_at(i);
        for (int s = 0; s < GLUE_SPLIT_COUNT; s++) {
            unsigned char mode[2] = {(unsigned char)i, (unsigned char)s};
            glue_file(text, sizeof text, t, (glue_split)s, "\n");
            snprintf(name, sizeof name, "%s_%s.tsv", t->hf_name,
                     glue_split_name((glue_split)s));
            rc |= seed_prefixed(out, "glue_tsv", name, mode, 2, text);
        }
        /* the dev split with a byte-order mark, CRLF and skip_bad_lines */
        unsigned char mode[2] = {(unsigned char)i, GLUE_SPLIT_DEV | 4};
        glue_file(text + 3, sizeof text - 3, t, GLUE_SPLIT_DEV, "\r\n");
        memcpy(text, "\xEF\xBB\xBF", 3);
        snprintf(name, sizeof name, "%s_dev_bom_crlf.tsv", t->hf_name);
        rc |= seed_prefixed(out, "glue_tsv", name, mode, 2, text);
    }
    return rc;
}

/* ---- the user's own data --------------------------------------------------- */

/* fuzz_user_data: byte 0 = format | regression << 2 | pair << 3 |
 * skip << 4, then the file. */
static int seeds_user_data(const char *out)
{
    static const struct {
        unsigned char mode;
        const char *name, *text;
    } seeds[] = {
        {0, "quoted.csv",
         "\xEF\xBB\xBFid,text,label\r\n1,\"a, \"\"b\"\"\",pos\r\n"
         "2,\"two\nlines\",neg\r\n\r\n3,5\" screen,neutral\r\n"},
        {0 | 8, "pair.csv", "text,pair,label\nq,p,1\nr,s,0\nt,u,10\n"},
        {0 | 4, "regression.csv", "label,text\n1.5,a\n-2e3,b\n0,c\n"},
        {0 | 16, "bad_rows.csv",
         "text,label\na,x\n\"b\"c,y\n\xC3\x28,x\n,y\nd\nok,y\n"},
        {1, "plain.tsv", "text\tlabel\na \"q\"\tyes\nb\tno\n"},
        {1 | 8 | 16, "pair.tsv",
         "label\ttext\tpair\n1\ta\tb\n0\tc\n2\te\tf\n"},
        {2, "strings.jsonl",
         "{\"text\":\"a\",\"label\":\"cat\"}\n\n"
         "{\"label\":\"dog\",\"text\":\"b \\u00e9\",\"x\":[1,{}]}\r\n"},
        {2 | 8, "numbers.jsonl",
         "{\"text\":\"a\",\"pair\":\"b\",\"label\":1}\n"
         "{\"text\":\"c\",\"pair\":\"d\",\"label\":\"0\"}\n"},
        {2 | 4 | 16, "regression.jsonl",
         "{\"text\":\"a\",\"label\":0.25}\n{\"text\":\"b\",\"label\":\"3\"}\n"
         "{\"text\":\"c\",\"label\":true}\n[1]\n{\"text\":\"d\"\n"},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        rc |= seed_prefixed(out, "user_data", seeds[i].name, &seeds[i].mode, 1,
                            seeds[i].text);
    return rc;
}

/* ---- tokenizers ------------------------------------------------------------ */

static int seeds_tokenizers(const char *out)
{
    int rc = 0;
    /* vocab.txt: options byte 25 = lowercase, strip -1, clean, CJK */
    unsigned char opt = 1 | 8 | 16;
    rc |= seed_prefixed(out, "vocab_txt", "uncased.txt", &opt, 1, FUZZ_VOCAB_TXT);
    opt = 2 | 8; /* cased, strip_accents off, no CJK split */
    rc |= seed_prefixed(out, "vocab_txt", "cased.txt", &opt, 1, FUZZ_VOCAB_TXT);
    opt = 1 | 8 | 16;
    rc |= seed_prefixed(out, "vocab_txt", "crlf_dup.txt", &opt, 1,
                        "[PAD]\r\n[UNK]  \r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nthe\r\nthe\r\n"
                        "##s\r\n\r\n\xE4\xB8\xAD\r\n");
    rc |= seed_text(out, "tokenizer_json", "wordpiece.json", FUZZ_TOK_WORDPIECE_JSON);
    rc |= seed_text(out, "tokenizer_json", "bpe.json", FUZZ_TOK_BPE_JSON);
    rc |= seed_text(out, "tokenizer_json", "unigram.json", FUZZ_TOK_UNIGRAM_JSON);
    rc |= seed_text(out, "tokenizer_json", "spbpe.json", FUZZ_TOK_SPBPE_JSON);
    /* a Replace regex that backtracks without bound on a long enough run
     * of " a" (ICU's step limit stops it): mutations that lengthen the
     * pattern's reach must still end in bounded time */
    rc |= seed_text(out, "tokenizer_json", "backtrack.json",
                    "{\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"Regex\":"
                    "\"( ?a| a)+b\"},\"content\":\"x\"},\"model\":{\"type\":\"Unigram\","
                    "\"unk_id\":0,\"vocab\":[[\"<unk>\",0.0],[\"a\",-1.0],[\"x\",-1.0]]}}");

    static const char *const texts[] = {
        "The quick brown fox jumped over the lazy dog.\tUnaffable caf\xC3\xA9!",
        "  the  THE\tthe\xCC\x81 <mask> [MASK] <s></s>  ",
        "\xE4\xB8\xAD\xE6\x96\x87\xF0\x9F\x98\x80 \xEF\xBC\xA1\xE2\x80\x8B x\xFF\xC0\xAF y",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ab ab ab\n\r\t"};
    char name[32];
    for (unsigned k = 0; k < 6; k++)
        for (unsigned j = 0; j < sizeof texts / sizeof texts[0]; j++) {
            unsigned char mode[2] = {(unsigned char)k, j % 2 ? 0x80 | 8 : 0};
            snprintf(name, sizeof name, "tok%u_text%u", k, j);
            rc |= seed_prefixed(out, "tokenize", name, mode, 2, texts[j]);
        }
    return rc;
}

/* ---- JSON and the program's input ---------------------------------------- */

static int seeds_json(const char *out)
{
    static const char *const docs[] = {
        "{\"input_ids\":[101,7592,102],\"attention_mask\":[1,1,1],"
        "\"token_type_ids\":[0,0,0]}",
        "{\"format\": \"distilc-compress-state\", \"version\": 1, \"stages\": "
        "{\"lift\": {\"done\": true, \"fingerprint\": \"00ff\", \"seconds\": 1.5e-3}}}",
        "[null, true, false, -0, 0.5, 1e308, -2.5E-300, 9223372036854775807, "
        "-9223372036854775808, 18446744073709551616, \"\"]",
        "\"\\u0000\\ud83d\\ude00\\u00e9\\\"\\\\\\/\\b\\f\\n\\r\\t \xE4\xB8\xAD\"",
        "{\"a\":{\"a\":{\"a\":[[[[[[[[[[{\"b\":[]}]]]]]]]]]]}}, \"a\": 2}",
        " \t\r\n{}\n",
    };
    int rc = 0;
    char name[32];
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        snprintf(name, sizeof name, "doc%zu.json", i);
        rc |= seed_text(out, "json", name, docs[i]);
    }
    /* nesting near the limit (JSON_MAX_DEPTH 512) */
    char deep[1100];
    memset(deep, '[', 500);
    memset(deep + 500, ']', 500);
    deep[1000] = '\0';
    rc |= seed_text(out, "json", "deep500.json", deep);
    return rc;
}

static int seeds_program(const char *out)
{
    /* the fuzz model: vocabulary 40, 16 positions, 2 token types */
    int rc = seed_text(out, "program_stdin", "lines.jsonl",
        "{\"input_ids\":[1,7,39,2]}\n"
        "{\"input_ids\":[1,7,2],\"attention_mask\":[1,1,0],\"token_type_ids\":[0,1,1]}\n"
        "\n"
        "{\"input_ids\":[[1,5,2,0],[1,6,7,2]],\"attention_mask\":[[1,1,1,0],[1,1,1,1]]}\n"
        "  \t \n"
        "{\"input_ids\":[1,40,2]}\n"
        "{\"input_ids\":[],\"x\":1}\n"
        "{\"input_ids\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}\n"
        "not json\n"
        "{\"input_ids\":[101,2023,102],\"attention_mask\":[7,-3,1]}\n");
    rc |= seed_text(out, "program_stdin", "batch.jsonl",
        "{\"input_ids\":[[1,2],[3,4],[5,6]],\"token_type_ids\":[[0,1],[1,0],[0,0]]}\n"
        "{\"input_ids\":[[1,2],[3]]}\n"
        "{\"input_ids\":[[1,2],7]}\n"
        "{\"input_ids\":[1.5,2]}\n");
    unsigned char text_mode = 0x01;
    rc |= seed_prefixed(out, "program_stdin", "vocab_mode.txt", &text_mode, 1,
        "The quick brown fox jumped.\tOver the lazy dog!\n"
        "\n"
        "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 unaffable unaffable unaffable unaffable\n"
        "\t\n");
    return rc;
}

/* ---- XML ----------------------------------------------------------------- */

static int seed_file(const char *out, const char *harness, const char *name,
                     const char *src, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", src, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "make_seeds: cannot read %s\n", path);
        return 1;
    }
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return seed_put(out, harness, name, buf, n);
}

static const char XML_XXE[] =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
    "<recipe version=\"1\"><task>&x;</task></recipe>\n";
static const char XML_LAUGHS[] =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">"
    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
    "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>\n"
    "<recipe version=\"1\"><task>&d;</task></recipe>\n";

static int seeds_xml(const char *out, const char *src)
{
    int rc = seed_file(out, "recipe_xml", "tinybert-sst2.xml", src,
                       "distill/recipes/tinybert-sst2.xml");
    rc |= seed_text(out, "recipe_xml", "minimal.xml",
        "<recipe version=\"1\"><task>sst2</task><student layers=\"2\" "
        "hidden=\"64\" heads=\"2\" ffn=\"128\"/><augment copies=\"2\" prob=\"0.4\" "
        "neighbours=\"5\"/><prediction><steps>10</steps><batch>4</batch>"
        "<lr>1e-4</lr></prediction></recipe>\n");
    /* the GLUE table's recipes: compress's elements and length buckets */
    rc |= seed_file(out, "recipe_xml", "tinybert-glue-mrpc.xml", src,
                    "distill/recipes/tinybert-glue-mrpc.xml");
    rc |= seed_file(out, "recipe_xml", "finetune-minilm-sst2.xml", src,
                    "distill/recipes/finetune-minilm-sst2.xml");
    rc |= seed_text(out, "recipe_xml", "xxe.xml", XML_XXE);
    rc |= seed_text(out, "recipe_xml", "laughs.xml", XML_LAUGHS);
    rc |= seed_file(out, "space_xml", "default.xml", src, "search/spaces/default.xml");
    rc |= seed_text(out, "space_xml", "builtin.xml", search_space_default_text());
    rc |= seed_text(out, "space_xml", "small.xml",
        "<space version=\"1\"><base vocab=\"40\" max-positions=\"16\" type-vocab=\"2\" "
        "labels=\"1\" activation=\"relu\" head=\"regression\"/><choices>"
        "<layers>1 2</layers><hidden>32 64</hidden><heads>1 2</heads>"
        "<ffn>64</ffn><embed>0 16</embed><sharing>none groups:2 all</sharing>"
        "</choices><constraints><latency ms=\"1\" seq=\"8\" batch=\"1\" threads=\"1\" "
        "precision=\"int8\"/></constraints></space>\n");
    return rc;
}

int seeds_text(const char *out, const char *src)
{
    return seeds_glue(out) | seeds_user_data(out) | seeds_tokenizers(out) |
           seeds_json(out) |
           seeds_program(out) | seeds_xml(out, src);
}

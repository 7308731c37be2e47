/* test_tokenizer_json.c — the tokenizer.json kinds beyond WordPiece, piece
 * by piece on files this test writes: GPT-2's byte mapping and split, BPE
 * merges on a tiny vocabulary (and their order against a naive reference,
 * and a 100k-character word), Unigram's Viterbi on a tiny one, the
 * Metaspace and normalizer stages, and the errors a bad or unsupported
 * file gets (naming the component by its JSON path). The comparison with
 * Hugging Face on real-sized files is tests/frontend/test_tokenizer_json_hf.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/tokenizer.h"
#include "frontend/tokenizer_pretok.h"
#include "tests/util/testutil.h"

static tok_tokenizer *load(const char *json, ir_diag *d)
{
    tok_tokenizer *t = NULL;
    ir_diag_init(d);
    tok_load_json_text(json, strlen(json), "t.json", &t, d);
    return t;
}

static void expect(const tok_tokenizer *t, const char *a, const char *b,
                   size_t max_seq, const int64_t *want, size_t n, int line)
{
    tok_encoding enc = {0};
    ir_diag d;
    ir_diag_init(&d);
    ir_status st = tok_encode(t, a, b, max_seq, 0, &enc, &d);
    int ok = st == IR_OK && enc.len == n &&
             memcmp(enc.input_ids, want, n * sizeof *want) == 0;
    CHECK_MSG(ok, "line %d: status %d len %zu (want %zu) %s", line, st,
              enc.len, n, d.msg);
    if (!ok && st == IR_OK) {
        for (size_t i = 0; i < enc.len; i++)
            fprintf(stderr, " %lld", (long long)enc.input_ids[i]);
        fputc('\n', stderr);
    }
    tok_encoding_free(&enc);
}

#define EXPECT(t, a, b, max, ...)                                             \
    do {                                                                      \
        const int64_t want_[] = {__VA_ARGS__};                                \
        expect(t, a, b, max, want_, sizeof want_ / sizeof want_[0], __LINE__); \
    } while (0)

static void test_byte_mapping(void)
{
    char c[2];
    /* printable bytes stand for themselves, the rest from U+0100 on */
    CHECK(tok_bytelevel_char('a', c) == 1 && c[0] == 'a');
    CHECK(tok_bytelevel_char(' ', c) == 2 && memcmp(c, "\xC4\xA0", 2) == 0);  /* Ġ */
    CHECK(tok_bytelevel_char('\n', c) == 2 && memcmp(c, "\xC4\x8A", 2) == 0); /* Ċ */
    CHECK(tok_bytelevel_char(0xAD, c) == 2 && memcmp(c, "\xC5\x83", 2) == 0); /* U+0143 */
    CHECK(tok_bytelevel_char(0xE9, c) == 2 && memcmp(c, "\xC3\xA9", 2) == 0); /* é */
    /* 256 bytes, 256 distinct code points */
    int seen = 0;
    for (int i = 0; i < 256; i++)
        for (int j = i + 1; j < 256; j++) {
            char a[2] = {0, 0}, b[2] = {0, 0};
            size_t la = tok_bytelevel_char((unsigned char)i, a);
            size_t lb = tok_bytelevel_char((unsigned char)j, b);
            seen += la == lb && memcmp(a, b, la) == 0;
        }
    CHECK(seen == 0);
}

typedef struct pieces {
    char text[16][16];
    size_t n;
} pieces;

static ir_status piece_cb(void *ctx, size_t off, size_t len)
{
    (void)off;
    pieces *p = ctx;
    snprintf(p->text[p->n++], 16, "%zu", len);
    return IR_OK;
}

static void test_gpt2_split(void)
{
    /* "Hello" " world" "'s" "  " " x" "!!" " 12" "\n" */
    const char *s = "Hello world's   x!! 12\n";
    pieces p = {0};
    CHECK(tok_bytelevel_split(s, strlen(s), piece_cb, &p) == IR_OK);
    const char *want[] = {"5", "6", "2", "2", "2", "2", "3", "1"};
    CHECK_MSG(p.n == 8, "%zu pieces", p.n);
    for (size_t i = 0; i < 8 && i < p.n; i++)
        CHECK_MSG(strcmp(p.text[i], want[i]) == 0, "piece %zu: %s bytes", i,
                  p.text[i]);
}

/* Byte-level BPE: l o w → lo w → low; Ġ marks a space. */
static const char BPE[] =
    "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":7,\"content\":\"<mask>\","
    "\"single_word\":false,\"lstrip\":true,\"rstrip\":false,\"normalized\":false,"
    "\"special\":true}],\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
    "\"trim_offsets\":true,\"use_regex\":true},"
    "\"post_processor\":{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\",2],"
    "\"cls\":[\"<s>\",0],\"trim_offsets\":true,\"add_prefix_space\":false},"
    "\"model\":{\"type\":\"BPE\",\"vocab\":{\"<s>\":0,\"<pad>\":1,\"</s>\":2,"
    "\"l\":3,\"o\":4,\"w\":5,\"\\u0120\":6,\"<mask>\":7,\"lo\":8,\"low\":9,"
    "\"\\u0120low\":10},\"merges\":[\"l o\",[\"lo\",\"w\"],[\"\\u0120\",\"low\"]]}}";

static void test_bpe(void)
{
    ir_diag d;
    tok_tokenizer *t = load(BPE, &d);
    CHECK_MSG(t, "%s", d.msg);
    if (!t)
        return;
    EXPECT(t, "low", NULL, 0, 0, 9, 2);
    EXPECT(t, "low low", NULL, 0, 0, 9, 10, 2);
    EXPECT(t, "lowo", NULL, 0, 0, 9, 4, 2);
    EXPECT(t, "low", "wol", 0, 0, 9, 2, 2, 5, 4, 3, 2); /* <s> A </s></s> B </s> */
    EXPECT(t, "low  <mask>", NULL, 0, 0, 9, 7, 2); /* lstrip takes the spaces */
    EXPECT(t, "lowlowlow", "low", 5, 0, 9, 2, 2, 2); /* longest_first, 1 left */
    tok_free(t);
}

/* ---- BPE merge order against a naive reference ---------------------------
 * SentencePiece-BPE layout (no normalizer, pre-tokenizer or processor, so a
 * line is one word) over the alphabet a, b, c with random merge rules, some
 * giving a token another rule gives too (HF allows it: "a bc" and "ab c").
 * The reference merges as HF's BPE is specified: the pair whose rule comes
 * first in "merges", the leftmost on a tie, rescanning after each merge. */

enum { MO_ALPHA = 3, MO_RULES = 48, MO_TOK_MAX = 64 };

typedef struct mo_model {
    char tok[MO_ALPHA + MO_RULES][MO_TOK_MAX]; /* id -> token */
    int n_tok;
    int left[MO_RULES], right[MO_RULES], merged[MO_RULES]; /* by rank */
} mo_model;

static int mo_find(const mo_model *m, const char *s)
{
    for (int i = 0; i < m->n_tok; i++)
        if (strcmp(m->tok[i], s) == 0)
            return i;
    return -1;
}

static void mo_build(mo_model *m, unsigned seed)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < MO_ALPHA; i++)
        m->tok[m->n_tok++][0] = (char)('a' + i);
    for (int r = 0; r < MO_RULES;) {
        seed = seed * 1103515245u + 12345u;
        int x = (int)((seed >> 8) % (unsigned)m->n_tok);
        seed = seed * 1103515245u + 12345u;
        int y = (int)((seed >> 8) % (unsigned)m->n_tok);
        char s[2 * MO_TOK_MAX];
        snprintf(s, sizeof s, "%s%s", m->tok[x], m->tok[y]);
        bool dup = false;
        for (int k = 0; k < r; k++)
            dup = dup || (m->left[k] == x && m->right[k] == y);
        if (dup || strlen(s) >= 12)
            continue;
        int id = mo_find(m, s);
        if (id < 0) {
            id = m->n_tok++;
            snprintf(m->tok[id], MO_TOK_MAX, "%s", s);
        }
        m->left[r] = x;
        m->right[r] = y;
        m->merged[r] = id;
        r++;
    }
}

static char *mo_json(const mo_model *m)
{
    size_t cap = 16384, n = 0;
    char *j = malloc(cap);
    n += (size_t)snprintf(j + n, cap - n, "{\"version\":\"1.0\",\"added_tokens\":[],"
                          "\"normalizer\":null,\"pre_tokenizer\":null,"
                          "\"post_processor\":null,\"model\":{\"type\":\"BPE\","
                          "\"vocab\":{");
    for (int i = 0; i < m->n_tok; i++)
        n += (size_t)snprintf(j + n, cap - n, "%s\"%s\":%d", i ? "," : "",
                              m->tok[i], i);
    n += (size_t)snprintf(j + n, cap - n, "},\"merges\":[");
    for (int r = 0; r < MO_RULES; r++)
        n += (size_t)snprintf(j + n, cap - n, "%s\"%s %s\"", r ? "," : "",
                              m->tok[m->left[r]], m->tok[m->right[r]]);
    snprintf(j + n, cap - n, "]}}");
    return j;
}

/* The reference: rescan for the best rule after every merge. */
static size_t mo_naive(const mo_model *m, const char *w, int *ids)
{
    size_t n = strlen(w);
    for (size_t i = 0; i < n; i++)
        ids[i] = w[i] - 'a';
    for (;;) {
        int best_r = -1;
        size_t best_i = 0;
        for (size_t i = 0; i + 1 < n; i++)
            for (int r = 0; r < MO_RULES; r++)
                if (m->left[r] == ids[i] && m->right[r] == ids[i + 1] &&
                    (best_r < 0 || r < best_r)) {
                    best_r = r;
                    best_i = i;
                }
        if (best_r < 0)
            return n;
        ids[best_i] = m->merged[best_r];
        memmove(ids + best_i + 1, ids + best_i + 2,
                (n - best_i - 2) * sizeof *ids);
        n--;
    }
}

static void test_bpe_merge_order(void)
{
    enum { WORD = 800 };
    char *w = malloc(WORD + 1);
    int *want = malloc(WORD * sizeof *want);
    tok_encoding enc = {0};
    int bad = 0;
    for (unsigned model = 0; model < 6; model++) {
        mo_model m;
        mo_build(&m, 7919u * model + 1);
        char *json = mo_json(&m);
        ir_diag d;
        tok_tokenizer *t = load(json, &d);
        free(json);
        CHECK_MSG(t, "model %u: %s", model, d.msg);
        if (!t)
            continue;
        unsigned seed = model + 99;
        for (int k = 0; k < 40; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t len = k < 30 ? 1 + (seed >> 8) % 40 : WORD;
            for (size_t i = 0; i < len; i++) {
                seed = seed * 1103515245u + 12345u;
                /* skewed letters, so long runs and repeated pairs occur */
                unsigned r = (seed >> 8) % 8;
                w[i] = r < 4 ? 'a' : r < 7 ? 'b' : 'c';
            }
            w[len] = '\0';
            size_t n = mo_naive(&m, w, want);
            ir_diag_init(&d);
            bool ok = tok_encode(t, w, NULL, 0, 0, &enc, &d) == IR_OK &&
                      enc.len == n;
            for (size_t i = 0; ok && i < n; i++)
                ok = enc.input_ids[i] == want[i];
            if (!ok && bad++ < 3)
                CHECK_MSG(false, "model %u word %d (%zu chars '%.40s'): %zu "
                          "ids, the reference %zu %s", model, k, len, w,
                          enc.len, n, d.msg);
        }
        tok_free(t);
    }
    CHECK_MSG(bad == 0, "%d words differ from the reference", bad);
    tok_encoding_free(&enc);
    free(want);
    free(w);
}

/* A 100001-character word (a line without spaces) with rules a+a, aa+aa,
 * aaaa+aaaa: 12500 tokens "aaaaaaaa" and, the ties going to the leftmost
 * pair at every level, the odd "a" last. Rescanning per merge would take
 * minutes (10^10 steps); the heap takes milliseconds. */
static void test_bpe_long_word(void)
{
    static const char json[] =
        "{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":null,"
        "\"pre_tokenizer\":null,\"post_processor\":null,\"model\":{"
        "\"type\":\"BPE\",\"vocab\":{\"a\":0,\"aa\":1,\"aaaa\":2,"
        "\"aaaaaaaa\":3},\"merges\":[\"a a\",\"aa aa\",\"aaaa aaaa\"]}}";
    enum { LEN = 100001 };
    ir_diag d;
    tok_tokenizer *t = load(json, &d);
    CHECK_MSG(t, "%s", d.msg);
    char *w = malloc(LEN + 1);
    if (!t || !w) {
        tok_free(t);
        free(w);
        return;
    }
    memset(w, 'a', LEN);
    w[LEN] = '\0';
    tok_encoding enc = {0};
    CHECK_MSG(tok_encode(t, w, NULL, 0, 0, &enc, &d) == IR_OK, "%s", d.msg);
    bool ok = enc.len == LEN / 8 + 1 && enc.input_ids[enc.len - 1] == 0;
    for (size_t i = 0; ok && i + 1 < enc.len; i++)
        ok = enc.input_ids[i] == 3;
    CHECK_MSG(ok, "%zu ids (want %d: %d x 3, then 0)", enc.len, LEN / 8 + 1,
              LEN / 8);
    tok_encoding_free(&enc);
    tok_free(t);
    free(w);
}

/* Unigram: Viterbi picks the best total, an unknown char costs min - 10. */
static const char UNIGRAM[] =
    "{\"version\":\"1.0\",\"added_tokens\":[],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":["
    "{\"type\":\"Lowercase\"},{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" {2,}\"},"
    "\"content\":\" \"}]},"
    "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\","
    "\"prepend_scheme\":\"always\",\"split\":true},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\","
    "\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
    "\"pair\":[{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}],"
    "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
    "\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"byte_fallback\":false,\"vocab\":["
    "[\"<unk>\",0.0],[\"<s>\",0.0],[\"\\u2581\",-2.0],[\"a\",-1.0],[\"b\",-1.0],"
    "[\"ab\",-1.5],[\"\\u2581ab\",-4.0],[\"\\u2581a\",-1.0],[\"bb\",-3.0]]}}";

static void test_unigram(void)
{
    ir_diag d;
    tok_tokenizer *t = load(UNIGRAM, &d);
    CHECK_MSG(t, "%s", d.msg);
    if (!t)
        return;
    /* ▁ab: ▁a + b = -2 beats ▁ab = -4 and ▁ + ab = -3.5 */
    EXPECT(t, "ab", NULL, 0, 1, 7, 4);
    /* ▁ + ab (-3.5) beats ▁a+b? no: ▁a b b = -3, ▁a bb = -4 */
    EXPECT(t, "AbB", NULL, 0, 1, 7, 4, 4);
    /* x and y are unknown: fused into one <unk>; two spaces become one */
    EXPECT(t, "a  xy", NULL, 0, 1, 7, 2, 0);
    EXPECT(t, "a", "b", 0, 7, 2, 4);
    tok_free(t);
}

/* A hostile Replace regex: "(a+)+$" backtracks exponentially on a run of
 * a's ended by a b. Encoding stops with an error in bounded work (ICU's
 * step limit, the same on any machine) instead of running for years; a
 * text it handles still encodes with the same tokenizer afterwards. */
static void test_regex_backtracking(void)
{
    static const char json[] =
        "{\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"(a+)+$\"},"
        "\"content\":\"x\"},\"model\":{\"type\":\"Unigram\",\"unk_id\":0,"
        "\"vocab\":[[\"<unk>\",0.0],[\"a\",-1.0],[\"b\",-1.0],[\"x\",-1.0]]}}";
    ir_diag d;
    tok_tokenizer *t = load(json, &d);
    CHECK_MSG(t, "%s", d.msg);
    if (!t)
        return;
    char text[64];
    memset(text, 'a', 48);
    strcpy(text + 48, "b");
    tok_encoding enc = {0};
    ir_diag_init(&d);
    CHECK_MSG(tok_encode(t, text, NULL, 0, 0, &enc, &d) == IR_ERR_INPUT &&
              strstr(d.msg, "Replace regex") && strstr(d.msg, "backtracks"),
              "status %d: %s", d.status, d.msg);
    tok_encoding_free(&enc);
    /* the whole text matched: one "x" */
    ir_diag_init(&d);
    CHECK_MSG(tok_encode(t, "aaaa", NULL, 0, 0, &enc, &d) == IR_OK && enc.len == 1 &&
              enc.input_ids[0] == 3, "status %d: %s, %zu ids", d.status, d.msg, enc.len);
    tok_encoding_free(&enc);
    tok_free(t);
}

static void expect_error(const char *json, ir_status want, const char *needle,
                         int line)
{
    ir_diag d;
    tok_tokenizer *t = load(json, &d);
    CHECK_MSG(!t && d.status == want && strstr(d.msg, needle), "line %d: "
              "status %d, message \"%s\" (want \"%s\")", line, d.status, d.msg,
              needle);
    tok_free(t);
}

static void test_errors(void)
{
    char *buf = malloc(sizeof BPE + 256);
    if (!buf)
        return;
    /* An unsupported pre-tokenizer inside a Sequence: named by its path. */
    const char *seq = strstr(BPE, "\"pre_tokenizer\":{");
    const char *end = strstr(seq, "},") + 2;
    snprintf(buf, sizeof BPE + 256, "%.*s\"pre_tokenizer\":{\"type\":\"Sequence\","
             "\"pretokenizers\":[{\"type\":\"WhitespaceSplit\"},{\"type\":"
             "\"Digits\",\"individual_digits\":true}]},%s",
             (int)(seq - BPE), BPE, end);
    expect_error(buf, IR_ERR_UNSUPPORTED,
                 "pre_tokenizer.pretokenizers[1]: type \"Digits\" is not "
                 "supported", __LINE__);
    expect_error("{\"model\":{\"type\":\"WordLevel\",\"vocab\":{}}}",
                 IR_ERR_UNSUPPORTED, "model: type \"WordLevel\" is not supported",
                 __LINE__);
    expect_error("{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":"
                 "\"NFC\"},{\"type\":\"Nmt\"}]},\"model\":{\"type\":\"BPE\","
                 "\"vocab\":{},\"merges\":[]}}",
                 IR_ERR_UNSUPPORTED, "normalizer.normalizers[1]: type \"Nmt\"",
                 __LINE__);
    expect_error("{\"post_processor\":{\"type\":\"Whatever\"},\"model\":{\"type\":"
                 "\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0]]}}",
                 IR_ERR_UNSUPPORTED, "post_processor: type \"Whatever\"", __LINE__);
    /* Malformed: a merge of tokens not in the vocabulary, a bad charsmap,
     * a broken regex, a unk_id past the vocabulary, truncated JSON. */
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":"
                 "[\"a b\"]}}", IR_ERR_INPUT, "model.merges[0]: its right side",
                 __LINE__);
    expect_error("{\"normalizer\":{\"type\":\"Precompiled\",\"precompiled_charsmap\":"
                 "\"AAAA\"},\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":"
                 "[[\"<unk>\",0]]}}", IR_ERR_INPUT, "normalizer: "
                 "precompiled_charsmap", __LINE__);
    expect_error("{\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"(\"},"
                 "\"content\":\"\"},\"model\":{\"type\":\"BPE\",\"vocab\":{},"
                 "\"merges\":[]}}", IR_ERR_UNSUPPORTED, "normalizer: the regex",
                 __LINE__);
    expect_error("{\"model\":{\"type\":\"Unigram\",\"unk_id\":3,\"vocab\":"
                 "[[\"<unk>\",0]]}}", IR_ERR_INPUT, "model.unk_id", __LINE__);
    expect_error("{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"<unk>\",0]",
                 IR_ERR_INPUT, "t.json:1:", __LINE__);
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[],"
                 "\"dropout\":0.1}}", IR_ERR_UNSUPPORTED, "model.dropout",
                 __LINE__);
    /* Sequences nested 200 deep (each level a recursive call of the
     * loader): refused naming the limit, post-processors and normalizers */
    for (int kind = 0; kind < 2; kind++) {
        const char *open = kind ? "{\"type\":\"Sequence\",\"processors\":["
                                : "{\"type\":\"Sequence\",\"normalizers\":[";
        size_t lo = strlen(open), levels = 200;
        char *deep = malloc(levels * (lo + 2) + 256);
        size_t n = (size_t)sprintf(deep, "{\"%s\":", kind ? "post_processor"
                                                         : "normalizer");
        for (size_t i = 0; i < levels; i++)
            n += (size_t)sprintf(deep + n, "%s", open);
        for (size_t i = 0; i < levels; i++)
            n += (size_t)sprintf(deep + n, "]}");
        sprintf(deep + n, ",\"model\":{\"type\":\"BPE\",\"vocab\":{},"
                "\"merges\":[]}}");
        expect_error(deep, IR_ERR_UNSUPPORTED, "more than 8 levels deep",
                     __LINE__);
        free(deep);
    }
    /* Every prefix of a valid file is an error, never a crash or a leak. */
    for (size_t n = 0; n < strlen(UNIGRAM); n += 7) {
        ir_diag d;
        tok_tokenizer *t = NULL;
        ir_diag_init(&d);
        CHECK(tok_load_json_text(UNIGRAM, n, "cut.json", &t, &d) != IR_OK && !t);
    }
    free(buf);
}

int main(void)
{
    test_byte_mapping();
    test_gpt2_split();
    test_bpe();
    test_bpe_merge_order();
    test_bpe_long_word();
    test_unigram();
    test_regex_backtracking();
    test_errors();
    return test_finish("test_tokenizer_json");
}

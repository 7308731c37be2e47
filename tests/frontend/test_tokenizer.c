/* test_tokenizer.c — the BERT WordPiece tokenizer and its JSON reader, on a
 * tiny vocabulary this test writes itself, then on the real BERT vocabulary
 * in $DISTILC_SHARED/vocab when present. The full comparison with Hugging
 * Face tokenizers is tests/frontend/test_tokenizer_hf.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/json.h"
#include "frontend/tokenizer.h"
#include "frontend/unicode.h"
#include "testutil.h"

/* ids: 0 [PAD] 1 [UNK] 2 [CLS] 3 [SEP] 4 [MASK] 5 hello 6 world 7 , 8 !
 * 9 un 10 ##aff 11 ##able 12 cafe 13 北 14 京 15 x 16 ##x 17 a 18 b
 * 19 Hello 20 . 21 naive */
static const char VOCAB[] =
    "[PAD]\n[UNK]\r\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n,\n!\nun\n##aff\n"
    "##able\ncafe\n北\n京\nx\n##x\na\nb\nHello\n.\nnaive\n";

/* Encodes (a, b) and checks the ids against want[0..n). */
static void expect_ids(const tok_tokenizer *t, const char *a, size_t a_len,
                       const char *b, size_t max_seq, int flags,
                       const int64_t *want, size_t n, int line)
{
    tok_encoding enc = {0};
    ir_diag d;
    ir_diag_init(&d);
    ir_status st = tok_encode_n(t, a, a_len, b, b ? strlen(b) : 0, max_seq,
                                flags, &enc, &d);
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

#define EXPECT(t, a, b, max, flags, ...)                                      \
    do {                                                                      \
        const int64_t want_[] = {__VA_ARGS__};                                \
        expect_ids(t, a, strlen(a), b, max, flags, want_,                     \
                   sizeof want_ / sizeof want_[0], __LINE__);                 \
    } while (0)

static void test_tiny_vocab(void)
{
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *t = NULL;
    tok_options o = tok_options_default();
    CHECK(tok_load_vocab_text(VOCAB, strlen(VOCAB), "tiny", &o, &t, &d) ==
          IR_OK);
    if (!t)
        return;
    CHECK(tok_vocab_size(t) == 22);
    CHECK(tok_token_id(t, "[UNK]") == 1); /* CRLF line */
    /* Lowercasing, punctuation split, [CLS]/[SEP]. */
    EXPECT(t, "Hello, World!", NULL, 0, 0, 2, 5, 7, 6, 8, 3);
    /* WordPiece continuation pieces; an unmatchable word is one [UNK]. */
    EXPECT(t, "unaffable unafx", NULL, 0, 0, 2, 9, 10, 11, 1, 3);
    /* Accents stripped when lowercasing (NFD then drop Mn). */
    EXPECT(t, "Café NAÏVE", NULL, 0, 0, 2, 12, 21, 3);
    /* CJK ideographs become words of their own. */
    EXPECT(t, "北京", NULL, 0, 0, 2, 13, 14, 3);
    /* Control characters removed, tab/newline are spaces, U+00A0 too. */
    EXPECT(t, "hel\x01lo\tworld\xc2\xa0x", NULL, 0, 0, 2, 5, 6, 15, 3);
    /* NUL inside the text (explicit length) is removed too. */
    {
        const int64_t want[] = {2, 5, 3};
        expect_ids(t, "hel\0lo", 6, NULL, 0, 0, want, 3, __LINE__);
    }
    /* Invalid UTF-8 becomes U+FFFD, which clean_text removes. */
    EXPECT(t, "hel\xfflo \xe2\x82", NULL, 0, 0, 2, 5, 3);
    /* Empty texts. */
    EXPECT(t, "", NULL, 0, 0, 2, 3);
    EXPECT(t, "", "", 0, 0, 2, 3, 3);
    /* Special tokens in the raw text are kept whole. */
    EXPECT(t, "a[MASK]b [sep]", NULL, 0, 0, 2, 17, 4, 18, 1, 1, 1, 3);
    /* Very long words: 100 chars are split, 101 are [UNK]. */
    {
        char w[102];
        memset(w, 'x', 101);
        w[101] = '\0';
        EXPECT(t, w, NULL, 0, 0, 2, 1, 3);
        w[100] = '\0';
        tok_encoding enc = {0};
        CHECK(tok_encode(t, w, NULL, 0, 0, &enc, &d) == IR_OK);
        CHECK(enc.len == 102 && enc.input_ids[1] == 15 &&
              enc.input_ids[100] == 16);
        tok_encoding_free(&enc);
    }
    /* Pairs: type ids and mask. */
    {
        tok_encoding enc = {0};
        CHECK(tok_encode(t, "hello", "world", 0, 0, &enc, &d) == IR_OK);
        const int64_t ids[] = {2, 5, 3, 6, 3}, types[] = {0, 0, 0, 1, 1};
        CHECK(enc.len == 5 && !memcmp(enc.input_ids, ids, sizeof ids) &&
              !memcmp(enc.token_type_ids, types, sizeof types));
        /* Padding to max_seq: [PAD]=0, mask 0, type 0. */
        CHECK(tok_encode(t, "hello", "world", 8, TOK_PAD, &enc, &d) == IR_OK);
        CHECK(enc.len == 8 && enc.input_ids[7] == 0 &&
              enc.attention_mask[4] == 1 && enc.attention_mask[5] == 0 &&
              enc.token_type_ids[7] == 0);
        /* max_seq below the special tokens is an input error. */
        CHECK(tok_encode(t, "hello", "world", 2, 0, &enc, &d) ==
              IR_ERR_INPUT);
        CHECK(strstr(d.msg, "special") != NULL);
        tok_encoding_free(&enc);
    }
    /* longest_first truncation (HF): the longer text loses tokens. */
    EXPECT(t, "a a a a a", "b", 6, 0, 2, 17, 17, 3, 18, 3);
    EXPECT(t, "a", "b b b b b", 6, 0, 2, 17, 3, 18, 18, 3);
    /* Both too long: max/2 each, the odd one to the longer (B on a tie). */
    EXPECT(t, "a a a a", "b b b b", 8, 0, 2, 17, 17, 3, 18, 18, 18, 3);
    EXPECT(t, "a a a a a", "b b b b", 8, 0, 2, 17, 17, 17, 3, 18, 18, 3);
    EXPECT(t, "a a a", NULL, 4, 0, 2, 17, 17, 3);
    tok_free(t);

    /* Cased: no lowercasing, accents kept (strip follows lowercase). */
    o.lowercase = false;
    CHECK(tok_load_vocab_text(VOCAB, strlen(VOCAB), "tiny", &o, &t, &d) ==
          IR_OK);
    EXPECT(t, "Hello hello Café", NULL, 0, 0, 2, 19, 5, 1, 3);
    tok_free(t);
}

static void collect(const char *w, size_t n, void *ctx)
{
    char *buf = ctx;
    strncat(buf, w, n);
    strcat(buf, "|");
}

static void test_words(void)
{
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *t = NULL;
    tok_options o = tok_options_default();
    CHECK(tok_load_vocab_text(VOCAB, strlen(VOCAB), "tiny", &o, &t, &d) ==
          IR_OK);
    if (!t)
        return;
    tok_encoding enc = {0};
    char buf[256] = "";
    const char *s = "Don't STOP!İx 한 ﬁ";
    CHECK(tok_words(t, s, strlen(s), collect, buf, &enc, &d) == IR_OK);
    /* İ: NFD I + U+0307, mark dropped, then lowercased; Hangul syllables
     * decompose to jamo; ﬁ has no canonical decomposition. */
    CHECK_MSG(strcmp(buf, "don|'|t|stop|!|ix|\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab|ﬁ|") == 0,
              "%s", buf);
    tok_encoding_free(&enc);
    tok_free(t);
}

static void test_vocab_errors(void)
{
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *t = (tok_tokenizer *)1;
    CHECK(tok_load_vocab("/nonexistent/vocab.txt", NULL, &t, &d) == IR_ERR_INPUT);
    CHECK(t == NULL && strstr(d.msg, "/nonexistent/vocab.txt"));
    const char *no_unk = "[PAD]\n[CLS]\n[SEP]\nhello\n";
    CHECK(tok_load_vocab_text(no_unk, strlen(no_unk), "v.txt", NULL, &t, &d) ==
          IR_ERR_INPUT);
    CHECK(strstr(d.msg, "v.txt") && strstr(d.msg, "[UNK]"));
}

static const char JSON_TOK[] =
    "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
    "\"added_tokens\":[{\"id\":3,\"content\":\"[SEP]\",\"single_word\":false,"
    "\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}],"
    "\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,"
    "\"handle_chinese_chars\":true,\"strip_accents\":null,\"lowercase\":%s},"
    "\"pre_tokenizer\":{\"type\":\"%s\"},"
    "\"post_processor\":{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",3],"
    "\"cls\":[\"[CLS]\",2]},"
    "\"model\":{\"type\":\"%s\",\"unk_token\":\"[UNK]\","
    "\"continuing_subword_prefix\":\"##\",\"max_input_chars_per_word\":5,"
    "\"vocab\":{\"[PAD]\":0,\"[UNK]\":1,\"[CLS]\":2,\"[SEP]\":3,\"hello\":4,"
    "\"x\":5,\"##x\":6,\"Hello\":7}}}";

static void test_tokenizer_json(void)
{
    ir_diag d;
    ir_diag_init(&d);
    char buf[2048];
    tok_tokenizer *t = NULL;
    snprintf(buf, sizeof buf, JSON_TOK, "true", "BertPreTokenizer", "WordPiece");
    CHECK(tok_load_json_text(buf, strlen(buf), "tok.json", &t, &d) == IR_OK);
    if (t) {
        /* max_input_chars_per_word 5 from the file. */
        EXPECT(t, "HELLO xxxxx xxxxxx[SEP]", NULL, 0, 0, 2, 4, 5, 6, 6, 6, 6,
               1, 3, 3);
        tok_free(t);
    }
    snprintf(buf, sizeof buf, JSON_TOK, "false", "BertPreTokenizer", "WordPiece");
    CHECK(tok_load_json_text(buf, strlen(buf), "tok.json", &t, &d) == IR_OK);
    if (t) {
        EXPECT(t, "Hello", NULL, 0, 0, 2, 7, 3);
        tok_free(t);
    }
    /* Other components are rejected, naming the component. */
    snprintf(buf, sizeof buf, JSON_TOK, "true", "Whitespace", "WordPiece");
    CHECK(tok_load_json_text(buf, strlen(buf), "tok.json", &t, &d) ==
          IR_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(d.msg, "pre_tokenizer") && strstr(d.msg, "Whitespace"),
              "%s", d.msg);
    snprintf(buf, sizeof buf, JSON_TOK, "true", "BertPreTokenizer", "BPE");
    CHECK(tok_load_json_text(buf, strlen(buf), "tok.json", &t, &d) ==
          IR_ERR_UNSUPPORTED);
    /* (a BPE model takes the general pipeline, which has no
     * BertNormalizer: tests/frontend/test_tokenizer_json.c) */
    CHECK_MSG(strstr(d.msg, "normalizer") && strstr(d.msg, "BertNormalizer"),
              "%s", d.msg);
    CHECK(t == NULL);
    /* Malformed JSON: file, line and column. */
    const char *bad = "{\"normalizer\":\n  {\"type\": \"BertNormalizer\",}}";
    CHECK(tok_load_json_text(bad, strlen(bad), "bad.json", &t, &d) ==
          IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "bad.json:2:") != NULL, "%s", d.msg);
}

static void test_json(void)
{
    ir_diag d;
    ir_diag_init(&d);
    json_doc doc;
    const char *ok = " {\"a\": [1, -2.5e3, true, false, null, \"\\u00e9\\ud83d\\ude00\\n\"],"
                     " \"b\": {}, \"c\": []} ";
    CHECK(json_parse(ok, strlen(ok), "t", &doc, &d) == IR_OK);
    const json_value *a = json_get(doc.root, "a");
    CHECK(a && a->type == JSON_ARRAY && a->len == 6);
    if (a && a->len == 6) {
        CHECK(a->u.items[0].is_int && a->u.items[0].ival == 1);
        CHECK(!a->u.items[1].is_int && a->u.items[1].u.num == -2500.0);
        CHECK(a->u.items[2].type == JSON_TRUE && a->u.items[4].type == JSON_NULL);
        CHECK(a->u.items[5].len == 7 &&
              strcmp(a->u.items[5].u.str, "\xc3\xa9\xf0\x9f\x98\x80\n") == 0);
    }
    CHECK(json_get(doc.root, "b")->type == JSON_OBJECT);
    CHECK(json_get(doc.root, "zz") == NULL);
    json_doc_free(&doc);
    /* Strictness: each of these is rejected. */
    const char *bad[] = {"", "[1,]", "{\"a\":1,}", "// c\n1", "01", "1.", "-",
                         "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\tb\"",
                         "\"\xff\"", "[1] 2", "NaN", "{1:2}", "[", "\"abc",
                         "tru", "{\"a\" 1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ir_status st = json_parse(bad[i], strlen(bad[i]), "t", &doc, &d);
        CHECK_MSG(st == IR_ERR_INPUT, "accepted %s", bad[i]);
    }
    /* Nesting limit. */
    size_t deep = JSON_MAX_DEPTH + 10;
    char *s = malloc(2 * deep + 1);
    memset(s, '[', deep);
    memset(s + deep, ']', deep);
    s[2 * deep] = '\0';
    CHECK(json_parse(s, 2 * deep, "t", &doc, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "more than 512 levels deep"));
    /* ... and at the limit it parses */
    memmove(s + JSON_MAX_DEPTH, s + deep, JSON_MAX_DEPTH);
    CHECK_MSG(json_parse(s, 2 * JSON_MAX_DEPTH, "t", &doc, &d) == IR_OK,
              "%s", d.msg);
    json_doc_free(&doc);
    free(s);
}

static void test_utf8(void)
{
    uint32_t cp;
    /* Python: b"\xe2\x82x".decode("utf-8", "replace") == "\ufffdx" */
    CHECK(uni_utf8_decode((const unsigned char *)"\xe2\x82x", 3, &cp) == 2 &&
          cp == 0xFFFD);
    CHECK(uni_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp) == 1 &&
          cp == 0xFFFD); /* surrogate: three replacements in Python */
    CHECK(uni_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp) ==
              4 && cp == 0x1F600);
    CHECK(uni_flags(0x4E2D) & UNI_CJK);
    CHECK(uni_flags(0x3002) & UNI_PUNCT);
    CHECK(uni_flags('$') & UNI_PUNCT); /* ASCII symbols count as punctuation */
    CHECK(uni_flags(0x200B) & UNI_CONTROL);
}

static void test_real_vocab(void)
{
    char dir[4096], path[4200];
    if (!test_shared_path("vocab", dir, sizeof dir)) {
        printf("test_tokenizer: real vocab skipped: shared data absent\n");
        return;
    }
    snprintf(path, sizeof path, "%s/bert-base-uncased-vocab.txt", dir);
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *t = NULL;
    CHECK(tok_load_vocab(path, NULL, &t, &d) == IR_OK);
    if (!t)
        return;
    CHECK(tok_vocab_size(t) == 30522);
    /* The example of frontend/tokenizer.h (ids checked against HF). */
    EXPECT(t, "Hello, world!", "Second text", 128, 0, 101, 7592, 1010, 2088,
           999, 102, 2117, 3793, 102);
    EXPECT(t, "unaffable", NULL, 0, 0, 101, 14477, 20961, 3468, 102);
    tok_free(t);
}

int main(void)
{
    test_tiny_vocab();
    test_words();
    test_vocab_errors();
    test_tokenizer_json();
    test_json();
    test_utf8();
    test_real_vocab();
    return test_finish("test_tokenizer");
}

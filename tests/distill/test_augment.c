/* test_augment.c — TinyBERT-style data augmentation (distill/augment.h) on a
 * synthetic vocabulary whose embeddings form known clusters:
 *   - token classes (special, ## piece, no letter, word);
 *   - the neighbour table equals a brute-force double-precision cosine
 *     ranking, stays inside each cluster, and never offers a special token,
 *     a ## piece or a word without a letter, even when their embeddings
 *     are identical to a word's;
 *   - a copy keeps length, mask, types and labels; only eligible whole
 *     words change ([CLS], [SEP], ## pieces and the piece before a ## never
 *     do), each to one of its neighbours;
 *   - the replacement rate is prob within 0.04 (over ~4000 positions the
 *     binomial standard deviation is under 0.008, so that is 5 sigma);
 *   - same seed -> identical data, other seed -> different, copy 1 is the
 *     same whatever the number of copies, copies 0 -> the source;
 *   - every bad option, and an embedding table smaller than the
 *     vocabulary, is IR_ERR_INPUT naming the option;
 *   - a recipe's <augment/> loads, and a bad one is rejected naming the
 *     line and the attribute;
 *   - compress: --augment changes the distill stage's fingerprint (and not
 *     the search's), augment 0 leaves the fingerprints as before it existed,
 *     and a bad value is rejected naming the option.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill/augment.h"
#include "distill/kernels.h"
#include "frontend/recipe.h"
#include "pipeline/compress.h"
#include "testutil.h"

/* ids 0..7 special / no letter, 8..31 four clusters of six words, then
 * pieces and a non-ASCII word. */
static const char *const VOCAB[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", ",", "1990",
    "cat", "dog", "cow", "pig", "horse", "goat",
    "red", "blue", "green", "pink", "black", "white",
    "run", "walk", "jump", "swim", "climb", "crawl",
    "one", "two", "three", "four", "five", "six",
    "play", "##ing", "##s", "##5", "café",
};
enum { NV = sizeof VOCAB / sizeof VOCAB[0], W = 8, CLUSTER0 = 8, CSIZE = 6,
       NCLUSTER = 4, ID_PLAY = 32, ID_ING = 33, ID_S = 34, ID_P5 = 35,
       ID_CAFE = 36 };

static tok_tokenizer *make_tok(void)
{
    char text[1024] = "";
    for (size_t i = 0; i < NV; i++) {
        strcat(text, VOCAB[i]);
        strcat(text, "\n");
    }
    tok_options o = tok_options_default();
    tok_tokenizer *t = NULL;
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(tok_load_vocab_text(text, strlen(text), "synthetic", &o, &t, &d) == IR_OK,
              "%s", d.msg);
    return t;
}

/* Cluster c lies along axis c; word j of it is tilted towards axis 7 by
 * 0.15 j, so within a cluster the nearest words are those of nearest j.
 * Everything that must never be a neighbour sits exactly on a word
 * ("cat"), where it would otherwise win. */
static void make_emb(float *e)
{
    memset(e, 0, (size_t)NV * W * sizeof *e);
    for (int v = 0; v < NV; v++) {
        float *r = e + v * W;
        if (v >= CLUSTER0 && v < CLUSTER0 + NCLUSTER * CSIZE) {
            int c = (v - CLUSTER0) / CSIZE, j = (v - CLUSTER0) % CSIZE;
            r[c] = 1.0f;
            r[7] = 0.15f * (float)j;
            r[5] = 0.01f * (float)v; /* breaks symmetric ties */
        } else if (v == ID_PLAY) {
            r[4] = 1.0f;
        } else if (v == ID_CAFE) {
            r[4] = 1.0f;
            r[6] = 0.5f;
        } else {
            r[0] = 1.0f; /* same direction as "cat" */
            r[5] = 0.01f * (float)CLUSTER0;
        }
    }
}

static void test_kinds(void)
{
    CHECK(aug_token_kind("[CLS]", 5) == AUG_KIND_OTHER);
    CHECK(aug_token_kind("[unused12]", 10) == AUG_KIND_OTHER);
    CHECK(aug_token_kind(",", 1) == AUG_KIND_OTHER);
    CHECK(aug_token_kind("1990", 4) == AUG_KIND_OTHER);
    CHECK(aug_token_kind("##", 2) == AUG_KIND_OTHER);
    CHECK(aug_token_kind("##ing", 5) == AUG_KIND_PIECE);
    CHECK(aug_token_kind("##5", 3) == AUG_KIND_PIECE);
    CHECK(aug_token_kind("cat", 3) == AUG_KIND_WORD);
    CHECK(aug_token_kind("b52", 3) == AUG_KIND_WORD);
    CHECK(aug_token_kind("café", strlen("café")) == AUG_KIND_WORD);
    CHECK(aug_token_kind("\xc2\xa3", 2) == AUG_KIND_OTHER);     /* £ */
    CHECK(aug_token_kind("\xe2\x80\x94", 3) == AUG_KIND_OTHER); /* em dash */
}

/* Brute-force reference: the K nearest eligible words of v by cosine in
 * double precision, ties to the lower id. */
static int ref_neighbours(const float *e, int v, int K, int *out)
{
    double best[NV];
    int m = 0;
    for (int u = 0; u < NV; u++) {
        if (u == v || aug_token_kind(VOCAB[u], strlen(VOCAB[u])) != AUG_KIND_WORD)
            continue;
        double dot = 0, nu = 0, nv = 0;
        for (int k = 0; k < W; k++) {
            dot += (double)e[u * W + k] * e[v * W + k];
            nu += (double)e[u * W + k] * e[u * W + k];
            nv += (double)e[v * W + k] * e[v * W + k];
        }
        double s = dot / sqrt(nu * nv);
        int p = m < K ? m++ : K;
        if (p == K && !(s > best[K - 1]))
            continue;
        if (p == K)
            p = K - 1;
        while (p > 0 && s > best[p - 1]) {
            best[p] = best[p - 1];
            out[p] = out[p - 1];
            p--;
        }
        best[p] = s;
        out[p] = u;
    }
    return m;
}

static void test_table(tok_tokenizer *tok, const float *e)
{
    ir_diag d;
    ir_diag_init(&d);
    aug_table t;
    const size_t K = 5;
    CHECK_MSG(aug_table_build(tok, e, NV, W, NULL, K, &t, &d) == IR_OK, "%s", d.msg);
    CHECK(t.n_words == (size_t)(NCLUSTER * CSIZE + 2));
    CHECK(t.n_rows == t.n_words);
    for (int v = 0; v < NV; v++) {
        bool word = aug_token_kind(VOCAB[v], strlen(VOCAB[v])) == AUG_KIND_WORD;
        CHECK(t.kind[v] == (word ? AUG_KIND_WORD
                            : (v == ID_ING || v == ID_S || v == ID_P5)
                                ? AUG_KIND_PIECE : AUG_KIND_OTHER));
        if (!word) {
            CHECK(t.count[v] == 0);
            continue;
        }
        int ref[8];
        int m = ref_neighbours(e, v, (int)K, ref);
        CHECK_MSG(t.count[v] == (size_t)m, "word %s: %d neighbours, want %d",
                  VOCAB[v], t.count[v], m);
        for (int k = 0; k < m && k < t.count[v]; k++)
            CHECK_MSG(t.nb[(size_t)v * K + (size_t)k] == ref[k],
                      "word %s neighbour %d: %s, want %s", VOCAB[v], k,
                      VOCAB[t.nb[(size_t)v * K + (size_t)k]], VOCAB[ref[k]]);
        /* a cluster of six: the five nearest are the rest of the cluster */
        if (v >= CLUSTER0 && v < CLUSTER0 + NCLUSTER * CSIZE)
            for (size_t k = 0; k < t.count[v]; k++)
                CHECK((t.nb[(size_t)v * K + k] - CLUSTER0) / CSIZE ==
                      (v - CLUSTER0) / CSIZE);
    }
    /* "dog" (j = 1): nearest are cat (j = 0) and cow (j = 2) */
    CHECK(t.nb[9 * K] == 10 || t.nb[9 * K] == 8);
    aug_table_free(&t);

    /* wanted rows only */
    uint8_t wanted[NV] = {0};
    wanted[8] = wanted[ID_ING] = 1;
    CHECK(aug_table_build(tok, e, NV, W, wanted, K, &t, &d) == IR_OK);
    CHECK(t.n_rows == 1 && t.count[8] == K && t.count[9] == 0 && t.count[ID_ING] == 0);
    aug_table_free(&t);
}

/* n rows "[CLS] w w ... [SEP]" of random length from a mix of words,
 * specials, digits and "play ##ing" / "dog ##s" pairs. */
static void make_data(train_data *td, size_t n, size_t T)
{
    memset(td, 0, sizeof *td);
    td->n = n;
    td->T = T;
    td->ids = calloc(n * T, sizeof *td->ids);
    td->types = calloc(n * T, sizeof *td->types);
    td->mask = calloc(n * T, sizeof *td->mask);
    td->len = calloc(n, sizeof *td->len);
    td->labels = calloc(n, sizeof *td->labels);
    td->n_labels = 2;
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = 6 + train_rng_u64(7, c++) % (T - 6);
        int32_t *r = td->ids + i * T;
        r[0] = 2;
        for (size_t p = 1; p + 1 < len; p++) {
            uint64_t x = train_rng_u64(7, c++) % 10;
            if (x < 6)
                r[p] = (int32_t)(CLUSTER0 + train_rng_u64(7, c++) % (NCLUSTER * CSIZE));
            else if (x == 6)
                r[p] = (int32_t)(1 + train_rng_u64(7, c++) % 7); /* specials , 1990 */
            else if (x == 7 && p + 2 < len) {
                r[p] = ID_PLAY;
                r[++p] = ID_ING;
            } else if (x == 8 && p + 2 < len) {
                r[p] = 9;
                r[++p] = ID_S;
            } else
                r[p] = ID_CAFE;
        }
        r[len - 1] = 3;
        for (size_t p = 0; p < len; p++) {
            td->mask[i * T + p] = 1;
            td->types[i * T + p] = p > len / 2;
        }
        td->len[i] = (uint32_t)len;
        td->labels[i] = (int32_t)(i % 2);
        td->tokens += len;
    }
}

static bool data_equal(const train_data *a, size_t ia, const train_data *b,
                       size_t ib, size_t n)
{
    size_t T = a->T;
    return memcmp(a->ids + ia * T, b->ids + ib * T, n * T * sizeof(int32_t)) == 0 &&
           memcmp(a->types + ia * T, b->types + ib * T, n * T * sizeof(int32_t)) == 0 &&
           memcmp(a->mask + ia * T, b->mask + ib * T, n * T * sizeof(int32_t)) == 0 &&
           memcmp(a->len + ia, b->len + ib, n * sizeof(uint32_t)) == 0 &&
           memcmp(a->labels + ia, b->labels + ib, n * sizeof(int32_t)) == 0;
}

static bool is_neighbour(const aug_table *t, int32_t w, int32_t r)
{
    for (size_t k = 0; k < t->count[w]; k++)
        if (t->nb[(size_t)w * t->K + k] == r)
            return true;
    return false;
}

static void test_augment(tok_tokenizer *tok, const float *e)
{
    ir_diag d;
    ir_diag_init(&d);
    const size_t n = 400, T = 24;
    train_data src, out, again, other, one, zero;
    make_data(&src, n, T);
    uint8_t wanted[NV];
    CHECK(aug_data_wanted(&src, NV, wanted, &d) == IR_OK);
    CHECK(wanted[2] && wanted[3] && wanted[ID_CAFE] && !wanted[0]);
    aug_table t;
    CHECK_MSG(aug_table_build(tok, e, NV, W, wanted, 5, &t, &d) == IR_OK, "%s", d.msg);
    aug_options o;
    aug_options_default(&o);
    CHECK(o.copies == 0 && fabs(o.prob - 0.4) < 1e-12 && o.neighbours == 15);
    o.copies = 2;
    o.neighbours = 5;
    aug_stats st;
    CHECK_MSG(aug_data_augment(&src, &t, &o, &out, &st, &d) == IR_OK, "%s", d.msg);
    CHECK(out.n == 3 * n && out.T == T && out.n_labels == 2);
    CHECK(out.tokens == 3 * src.tokens);
    CHECK(st.examples_in == n && st.examples_out == 3 * n);
    CHECK(data_equal(&out, 0, &src, 0, n)); /* the originals come first */
    size_t eligible = 0, replaced = 0, bad = 0;
    for (size_t c = 1; c <= 2; c++)
        for (size_t i = 0; i < n; i++) {
            size_t j = c * n + i;
            CHECK(out.len[j] == src.len[i] && out.labels[j] == src.labels[i]);
            CHECK(memcmp(out.mask + j * T, src.mask + i * T, T * 4) == 0);
            CHECK(memcmp(out.types + j * T, src.types + i * T, T * 4) == 0);
            const int32_t *a = src.ids + i * T, *b = out.ids + j * T;
            for (size_t p = 0; p < T; p++) {
                bool ok_pos = p < src.len[i] && t.kind[a[p]] == AUG_KIND_WORD &&
                              !(p + 1 < src.len[i] && t.kind[a[p + 1]] == AUG_KIND_PIECE);
                eligible += ok_pos;
                if (a[p] == b[p])
                    continue;
                replaced++;
                if (!ok_pos || !is_neighbour(&t, a[p], b[p]))
                    bad++;
            }
        }
    CHECK_MSG(bad == 0, "%zu replacements at ineligible positions or not "
              "neighbours", bad);
    /* neighbours are distinct from the word, so a draw always changes it */
    CHECK(st.eligible == eligible && st.replaced == replaced);
    double rate = (double)replaced / (double)eligible;
    CHECK_MSG(eligible > 3000 && fabs(rate - 0.4) < 0.04,
              "replacement rate %.4f over %zu positions, want 0.4 +- 0.04",
              rate, eligible);
    printf("replacement rate %.4f over %zu eligible positions (prob 0.4)\n",
           rate, eligible);

    /* determinism */
    CHECK(aug_data_augment(&src, &t, &o, &again, NULL, &d) == IR_OK);
    CHECK(data_equal(&out, 0, &again, 0, 3 * n));
    o.seed = 43;
    CHECK(aug_data_augment(&src, &t, &o, &other, NULL, &d) == IR_OK);
    CHECK(data_equal(&out, 0, &other, 0, n));
    CHECK(!data_equal(&out, n, &other, n, 2 * n));
    o.seed = 42;
    o.copies = 1;
    CHECK(aug_data_augment(&src, &t, &o, &one, NULL, &d) == IR_OK);
    CHECK(one.n == 2 * n && data_equal(&out, 0, &one, 0, 2 * n));
    o.copies = 0;
    CHECK(aug_data_augment(&src, &t, &o, &zero, &st, &d) == IR_OK);
    CHECK(zero.n == n && data_equal(&zero, 0, &src, 0, n) && st.replaced == 0);
    /* prob 0 changes nothing, prob 1 every eligible word */
    train_data p0, p1;
    o.copies = 1;
    o.prob = 0.0;
    CHECK(aug_data_augment(&src, &t, &o, &p0, &st, &d) == IR_OK);
    CHECK(data_equal(&p0, n, &src, 0, n) && st.replaced == 0);
    o.prob = 1.0;
    CHECK(aug_data_augment(&src, &t, &o, &p1, &st, &d) == IR_OK);
    CHECK(st.replaced == st.eligible && st.eligible > 0);
    train_data_free(&p0);
    train_data_free(&p1);
    train_data_free(&again);
    train_data_free(&other);
    train_data_free(&one);
    train_data_free(&zero);
    train_data_free(&out);
    aug_table_free(&t);

    /* the whole path from an encoder's embeddings.word */
    ir_encoder_config cfg;
    ir_encoder_config_init(&cfg);
    cfg.hidden = W;
    cfg.layers = 1;
    cfg.heads = 2;
    cfg.ffn = 16;
    cfg.vocab = NV;
    cfg.max_positions = 32;
    CHECK(ir_encoder_config_share(&cfg, IR_ENC_SHARE_NONE, 0, &d) == IR_OK);
    ir_encoder *enc = NULL;
    CHECK_MSG(ir_encoder_new(&cfg, &enc, &d) == IR_OK, "%s", d.msg);
    if (enc) {
        ir_tensor *wt = ir_encoder_find(enc, "embeddings.word");
        CHECK(wt && wt->dims[0] == NV && wt->dims[1] == W);
        if (wt)
            memcpy(wt->data, e, (size_t)NV * W * sizeof(float));
        o = (aug_options){.copies = 2, .prob = 0.4, .neighbours = 5, .seed = 42};
        CHECK_MSG(aug_train_data(&src, tok, enc, &o, &again, &st, &d) == IR_OK,
                  "%s", d.msg);
        CHECK(again.n == 3 * n && st.rows > 0 && st.words == NCLUSTER * CSIZE + 2);
        train_data_free(&again);
        ir_encoder_free(enc);
    }
    train_data_free(&src);
}

static void expect_input_error(ir_status s, const ir_diag *d, const char *what)
{
    CHECK_MSG(s == IR_ERR_INPUT, "%s: status %d", what, (int)s);
    CHECK_MSG(strstr(d->msg, what) != NULL, "message '%s' does not name %s",
              d->msg, what);
}

static void test_errors(tok_tokenizer *tok, const float *e)
{
    ir_diag d;
    ir_diag_init(&d);
    aug_options o;
    aug_options_default(&o);
    CHECK(aug_options_check(&o, &d) == IR_OK);
    o.copies = -1;
    expect_input_error(aug_options_check(&o, &d), &d, "--augment");
    o.copies = AUG_MAX_COPIES + 1;
    expect_input_error(aug_options_check(&o, &d), &d, "--augment");
    o.copies = 1;
    o.prob = 1.5;
    expect_input_error(aug_options_check(&o, &d), &d, "--augment-prob");
    o.prob = NAN;
    expect_input_error(aug_options_check(&o, &d), &d, "--augment-prob");
    o.prob = -0.1;
    expect_input_error(aug_options_check(&o, &d), &d, "--augment-prob");
    o.prob = 0.4;
    o.neighbours = 0;
    expect_input_error(aug_options_check(&o, &d), &d, "--augment-neighbours");
    o.neighbours = AUG_MAX_NEIGHBOURS + 1;
    expect_input_error(aug_options_check(&o, &d), &d, "--augment-neighbours");
    aug_table t;
    expect_input_error(aug_table_build(tok, e, NV, W, NULL, 0, &t, &d), &d,
                       "--augment-neighbours");
    /* an embedding table with fewer rows than the vocabulary has ids */
    expect_input_error(aug_table_build(tok, e, NV - 3, W, NULL, 5, &t, &d), &d,
                       "vocabulary");
    /* bad options reach aug_data_augment too, and out stays empty */
    train_data src, out;
    make_data(&src, 4, 12);
    o.neighbours = 5;
    o.copies = 65;
    CHECK(aug_table_build(tok, e, NV, W, NULL, 5, &t, &d) == IR_OK);
    expect_input_error(aug_data_augment(&src, &t, &o, &out, NULL, &d), &d, "--augment");
    CHECK(out.n == 0 && out.ids == NULL);
    /* an id outside the table */
    uint8_t wanted[NV];
    src.ids[1] = NV + 5;
    expect_input_error(aug_data_wanted(&src, NV, wanted, &d), &d, "token id");
    o.copies = 1;
    expect_input_error(aug_data_augment(&src, &t, &o, &out, NULL, &d), &d, "token id");
    aug_table_free(&t);
    train_data_free(&src);
}

static void test_recipe(void)
{
    ir_diag d;
    ir_diag_init(&d);
    recipe r;
    recipe_default(&r);
    CHECK(r.augment_copies == 0 && r.augment_prob == 0.4f && r.augment_neighbours == 15);
    const char *ok = "<recipe version='1'>\n<augment copies='4' neighbours='7'/>\n</recipe>\n";
    CHECK_MSG(recipe_load_text(ok, strlen(ok), "ok.xml", NULL, &r, &d) == IR_OK, "%s", d.msg);
    CHECK(r.augment_copies == 4 && r.augment_prob == 0.4f && r.augment_neighbours == 7);
    static const char *const bad[][2] = {
        {"<recipe version='1'>\n\n<augment copies='65'/>\n</recipe>\n", "copies"},
        {"<recipe version='1'>\n\n<augment copies='1' prob='-0.5'/>\n</recipe>\n", "prob"},
        {"<recipe version='1'>\n\n<augment copies='1' neighbours='0'/>\n</recipe>\n", "neighbours"},
        {"<recipe version='1'>\n\n<augment prob='0.5'/>\n</recipe>\n", "copies"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        recipe_default(&r);
        ir_status s = recipe_load_text(bad[i][0], strlen(bad[i][0]), "bad.xml", NULL, &r, &d);
        CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, "bad.xml:3:") &&
                  strstr(d.msg, "augment") && strstr(d.msg, bad[i][1]),
                  "recipe %zu: %s", i, d.msg);
    }
}

static void test_compress_options(void)
{
    char dir[4096], teacher[4200], vocab[4200];
    if (!test_tmpdir(dir, sizeof dir)) {
        CHECK_MSG(0, "no temporary directory");
        return;
    }
    snprintf(teacher, sizeof teacher, "%s/t.onnx", dir);
    snprintf(vocab, sizeof vocab, "%s/vocab.txt", dir);
    FILE *f = fopen(teacher, "w");
    if (f)
        fclose(f);
    f = fopen(vocab, "w");
    if (f)
        fclose(f);
    compress_options o;
    compress_options_default(&o);
    CHECK(o.augment == 0 && o.augment_prob == 0.4 && o.augment_neighbours == 15);
    o.teacher = teacher;
    o.vocab = vocab;
    o.task = "SST-2";
    o.data = dir;
    search_constraints cons;
    memset(&cons, 0, sizeof cons);
    ir_diag d;
    ir_diag_init(&d);
    uint64_t off[COMPRESS_STAGE_COUNT], on[COMPRESS_STAGE_COUNT],
        prob[COMPRESS_STAGE_COUNT], plain[COMPRESS_STAGE_COUNT];
    CHECK_MSG(compress_fingerprints(&o, &cons, off, &d) == IR_OK, "%s", d.msg);
    o.augment_prob = 0.9; /* ignored while augment is 0 */
    CHECK(compress_fingerprints(&o, &cons, plain, &d) == IR_OK);
    CHECK(memcmp(off, plain, sizeof off) == 0);
    o.augment = 2;
    CHECK(compress_fingerprints(&o, &cons, prob, &d) == IR_OK);
    o.augment_prob = 0.4;
    CHECK(compress_fingerprints(&o, &cons, on, &d) == IR_OK);
    CHECK(on[COMPRESS_SEARCH] == off[COMPRESS_SEARCH]);
    CHECK(on[COMPRESS_DISTILL] != off[COMPRESS_DISTILL]);
    CHECK(prob[COMPRESS_DISTILL] != on[COMPRESS_DISTILL]);
    CHECK(on[COMPRESS_REPORT] != off[COMPRESS_REPORT]);
    /* compress_run checks the options before touching anything */
    o.out = dir;
    compress_state st;
    o.augment_neighbours = 0;
    expect_input_error(compress_run(&o, compress_stages_default(), NULL, &st, &d),
                       &d, "--augment-neighbours");
    remove(teacher);
    remove(vocab);
    remove(dir);
}

int main(void)
{
    test_recipe();
    tok_tokenizer *tok = make_tok();
    float *e = malloc((size_t)NV * W * sizeof *e);
    make_emb(e);
    test_kinds();
    if (tok) {
        test_table(tok, e);
        test_augment(tok, e);
        test_errors(tok, e);
    }
    test_compress_options();
    free(e);
    tok_free(tok);
    return test_finish("augment");
}

/* test_student.c — making students (distill/student.h): the spec string and
 * sharing option parsers with their error messages, the student config,
 * layer maps, and initialisation from a teacher:
 * - a student of the teacher's own shape with the identity map IS the
 *   teacher (every parameter equal, exactly);
 * - a narrower student (16 -> 8 wide, 4 -> 2 heads, FFN 32 -> 16, 4 -> 2
 *   layers) holds exact slices of the teacher at the kept dims, and a
 *   planted heavy hidden dim / head / FFN neuron is kept;
 * - a factorized student with E = H_s reproduces the sliced word table to
 *   1e-4 (word · proj), and with E < H_s does no worse than the rank-E
 *   bound allows (error below the teacher's own table norm);
 * - a wider student is refused (IR_ERR_UNSUPPORTED naming the field);
 * - students of an ELECTRA-small / ALBERT teacher (embeddings projected
 *   after their LayerNorm): see test_after_ln_teacher.
 */
#include <math.h>
#include <string.h>

#include "distill/kernels.h"
#include "distill/model.h"
#include "distill/student.h"
#include "testutil.h"

static void test_spec(void)
{
    ir_diag d;
    ir_diag_init(&d);
    student_spec s;
    CHECK(student_spec_parse("layers=4,hidden=312,heads=12,ffn=1200", &s, &d) == IR_OK);
    CHECK(s.layers == 4 && s.hidden == 312 && s.heads == 12 && s.ffn == 1200 &&
          s.embed == 0);
    CHECK(student_spec_parse("ffn=64,embed=16,heads=2,hidden=32,layers=2", &s, &d) == IR_OK);
    CHECK(s.embed == 16 && s.hidden == 32);
    struct { const char *text, *needle; } bad[] = {
        {"layers=4,hidden=312,heads=12", "missing ffn"},
        {"layers=4,hidden=312,heads=12,ffn=12x", "ffn = '12x'"},
        {"layers=4,hidden=312,heads=12,ffn=0", "ffn = '0'"},
        {"layers=4,hidden=312,heads=5,ffn=1200", "heads = 5 does not divide hidden = 312"},
        {"layers=4,hidden=312,heads=12,ffn=1200,depth=3", "unknown key 'depth'"},
        {"layers=4,hidden=312,heads=12,ffn", "'ffn' is not key=value"},
        {"layers=4,layers=5,hidden=8,heads=2,ffn=8", "'layers' given twice"},
        {"layers=99,hidden=8,heads=2,ffn=8", "layers = 99"},
        {"", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ir_diag_init(&d);
        CHECK(student_spec_parse(bad[i].text, &s, &d) == IR_ERR_INPUT);
        CHECK_MSG(strstr(d.msg, bad[i].needle) != NULL, "'%s': got '%s'",
                  bad[i].text, d.msg);
    }
}

static void test_share_and_config(void)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_enc_share sh;
    int64_t k;
    CHECK(student_share_parse("none", &sh, &k, &d) == IR_OK && sh == IR_ENC_SHARE_NONE);
    CHECK(student_share_parse("all", &sh, &k, &d) == IR_OK && sh == IR_ENC_SHARE_ALL);
    CHECK(student_share_parse("attention", &sh, &k, &d) == IR_OK &&
          sh == IR_ENC_SHARE_ATTENTION);
    CHECK(student_share_parse("ffn", &sh, &k, &d) == IR_OK && sh == IR_ENC_SHARE_FFN);
    CHECK(student_share_parse("groups:2", &sh, &k, &d) == IR_OK &&
          sh == IR_ENC_SHARE_GROUPS && k == 2);
    CHECK(student_share_parse("groups:0", &sh, &k, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "groups:0") != NULL);
    CHECK(student_share_parse("layers", &sh, &k, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "unknown sharing 'layers'") != NULL);

    ir_encoder_config t;
    ir_encoder_config_init(&t); /* BERT-base as the teacher */
    student_spec s = {.layers = 4, .hidden = 312, .heads = 12, .ffn = 1200};
    ir_encoder_config c;
    CHECK(student_config_make(&t, &s, IR_ENC_SHARE_GROUPS, 2, &c, &d) == IR_OK);
    CHECK(c.n_attn_groups == 2 && c.attn_group[3] == 1 && c.vocab == t.vocab &&
          c.labels == t.labels && c.max_positions == t.max_positions);
    ir_diag_init(&d);
    CHECK(student_config_make(&t, &s, IR_ENC_SHARE_GROUPS, 3, &c, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "groups:3 does not divide") != NULL, "%s", d.msg);

    int64_t map[IR_ENCODER_MAX_LAYERS];
    student_layer_map_uniform(4, 12, map);
    CHECK(map[0] == 3 && map[1] == 6 && map[2] == 9 && map[3] == 12);
    student_layer_map_uniform(3, 4, map);
    CHECK(map[0] == 1 && map[1] == 2 && map[2] == 4);
    CHECK(student_layer_map_parse("2,4,6,12", 4, 12, map, &d) == IR_OK && map[3] == 12);
    CHECK(student_layer_map_parse("2,4,6", 4, 12, map, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "3 entries for 4 student layers") != NULL);
    CHECK(student_layer_map_parse("2,4,6,13", 4, 12, map, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "'13' is not a teacher layer in 1..12") != NULL);
}

static void teacher_config(ir_encoder_config *c)
{
    ir_encoder_config_init(c);
    c->hidden = 16; c->layers = 4; c->heads = 4; c->ffn = 32; c->vocab = 30;
    c->max_positions = 12; c->type_vocab = 2; c->labels = 2; c->ln_eps = 1e-5f;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_share(c, IR_ENC_SHARE_NONE, 0, &d);
}

/* Random teacher with noisy LayerNorms and biases, so that slices are told
 * apart. */
static train_params *make_teacher(void)
{
    ir_encoder_config c;
    teacher_config(&c);
    ir_diag d;
    ir_diag_init(&d);
    train_params *t;
    if (train_params_new(&c, &t, &d) != IR_OK)
        return NULL;
    train_params_init_random(t, 11, 0.3f);
    for (size_t i = 0; i < t->n; i++)
        t->params[i] += 0.05f * train_rng_normal(12, i);
    return t;
}

static void test_identity_init(void)
{
    train_params *t = make_teacher();
    CHECK(t != NULL);
    if (!t)
        return;
    ir_diag d;
    ir_diag_init(&d);
    train_params *s;
    CHECK(train_params_new(&t->cfg, &s, &d) == IR_OK);
    int64_t map[IR_ENCODER_MAX_LAYERS], keep[16];
    student_layer_map_uniform(4, 4, map);
    CHECK(student_init_from_teacher(s, t, map, keep, &d) == IR_OK);
    size_t diff = 0;
    for (size_t i = 0; i < t->n; i++)
        diff += s->params[i] != t->params[i];
    CHECK_MSG(diff == 0, "%zu of %zu parameters differ", diff, t->n);
    for (int i = 0; i < 16; i++)
        CHECK(keep[i] == i);
    printf("  identity student == teacher: %zu parameters, %zu differ\n", t->n, diff);
    train_params_free(s);
    train_params_free(t);
}

static void test_narrow_init(void)
{
    train_params *t = make_teacher();
    if (!t)
        return;
    /* Plant what magnitude must keep: hidden dim 13 heavy everywhere, head
     * 3 of teacher layer 2 (student layer 1 under map 2,4) and FFN neuron
     * 30 of teacher layer 4 heavy. */
    const ir_encoder_config *tc = &t->cfg;
    int64_t H = tc->hidden, F = tc->ffn;
    for (int64_t v = 0; v < tc->vocab; v++)
        t->w.word[v * H + 13] *= 10.0f;
    for (int64_t r = 0; r < H; r++)
        for (int64_t j = 12; j < 16; j++)
            for (int blk = 0; blk < 3; blk++)
                t->w.attn[1].qkv_w[r * 3 * H + blk * H + j] *= 10.0f;
    for (int64_t r = 0; r < H; r++)
        t->w.ffn[3].in_w[r * F + 30] *= 10.0f;
    for (int64_t r = 0; r < H; r++)
        t->w.ffn[3].out_w[30 * H + r] *= 10.0f;

    ir_diag d;
    ir_diag_init(&d);
    student_spec sp = {.layers = 2, .hidden = 8, .heads = 2, .ffn = 16};
    ir_encoder_config sc;
    CHECK(student_config_make(tc, &sp, IR_ENC_SHARE_NONE, 0, &sc, &d) == IR_OK);
    train_params *s;
    CHECK(train_params_new(&sc, &s, &d) == IR_OK);
    int64_t map[IR_ENCODER_MAX_LAYERS], keep[8];
    student_layer_map_uniform(2, 4, map);
    CHECK(map[0] == 2 && map[1] == 4);
    CHECK(student_init_from_teacher(s, t, map, keep, &d) == IR_OK);
    bool has13 = false, sorted = true;
    for (int i = 0; i < 8; i++) {
        has13 |= keep[i] == 13;
        if (i)
            sorted &= keep[i] > keep[i - 1];
    }
    CHECK(has13 && sorted);
    /* exact slices: embeddings, LayerNorms, pooler, head */
    int ok = 1;
    for (int64_t v = 0; v < tc->vocab; v++)
        for (int c = 0; c < 8; c++)
            ok &= s->w.word[v * 8 + c] == t->w.word[v * H + keep[c]];
    for (int c = 0; c < 8; c++) {
        ok &= s->w.eln_g[c] == t->w.eln_g[keep[c]];
        ok &= s->w.attn[0].ln_b[c] == t->w.attn[1].ln_b[keep[c]];
        ok &= s->w.ffn[1].ln_g[c] == t->w.ffn[3].ln_g[keep[c]];
        ok &= s->w.pool_b[c] == t->w.pool_b[keep[c]];
        ok &= s->w.head_w[c * 2 + 1] == t->w.head_w[keep[c] * 2 + 1];
    }
    CHECK_MSG(ok, "a sliced tensor differs from the teacher at the kept dims");
    /* Head 3 (teacher cols 12..15; head size 4 both sides, so no q scale)
     * is kept: student head 1 = teacher head 3 (heads kept in order). */
    int head_ok = 1;
    for (int r = 0; r < 8; r++)
        for (int j = 0; j < 4; j++)
            head_ok &= s->w.attn[0].qkv_w[r * 24 + 8 + 4 + j] ==
                       t->w.attn[1].qkv_w[keep[r] * 48 + 16 + 12 + j];
    CHECK_MSG(head_ok, "planted heavy head 3 of teacher layer 2 was not kept as "
              "student head 1");
    /* FFN neuron 30 is kept in student layer 2 (at position 14 or 15) */
    CHECK(s->w.ffn[1].in_b[15] == t->w.ffn[3].in_b[30] ||
          s->w.ffn[1].in_b[14] == t->w.ffn[3].in_b[30]);

    /* the student runs */
    train_acts *a;
    CHECK(train_acts_new(&sc, 1, 6, &a, &d) == IR_OK);
    int32_t ids[6] = {1, 5, 7, 9, 2, 0}, mask[6] = {1, 1, 1, 1, 1, 0};
    CHECK(train_forward(s, a, ids, NULL, mask, &d) == IR_OK);
    CHECK(isfinite(a->logits[0]) && isfinite(a->logits[1]));
    train_acts_free(a);
    train_params_free(s);

    /* factorized students: E = H_s exact, E < H_s approximate */
    for (int64_t E = 8; E >= 4; E -= 4) {
        sp.embed = E;
        CHECK(student_config_make(tc, &sp, IR_ENC_SHARE_ALL, 0, &sc, &d) == IR_OK);
        CHECK(train_params_new(&sc, &s, &d) == IR_OK);
        CHECK(student_init_from_teacher(s, t, map, keep, &d) == IR_OK);
        double err = 0, norm = 0;
        for (int64_t v = 0; v < tc->vocab; v++)
            for (int c = 0; c < 8; c++) {
                double x = 0;
                for (int64_t e = 0; e < E; e++)
                    x += (double)s->w.word[v * E + e] * s->w.proj[e * 8 + c];
                double ref = t->w.word[v * H + keep[c]];
                err += (x - ref) * (x - ref);
                norm += ref * ref;
            }
        double rel = sqrt(err / norm);
        printf("  factorized E=%lld: word·proj vs sliced table rel. error %.2e\n",
               (long long)E, rel);
        CHECK_MSG(E == 8 ? rel < 1e-4 : rel < 0.9, "E=%lld rel err %.3e",
                  (long long)E, rel);
        train_params_free(s);
    }

    /* wider than the teacher: refused, naming the field */
    sp = (student_spec){.layers = 2, .hidden = 32, .heads = 4, .ffn = 16};
    CHECK(student_config_make(tc, &sp, IR_ENC_SHARE_NONE, 0, &sc, &d) == IR_OK);
    CHECK(train_params_new(&sc, &s, &d) == IR_OK);
    ir_diag_init(&d);
    CHECK(student_init_from_teacher(s, t, map, NULL, &d) == IR_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(d.msg, "hidden = 32") && strstr(d.msg, "--init random"),
              "%s", d.msg);
    train_params_free(s);
    train_params_free(t);
}

/* MPNet's relative position bias: the student keeps it (its config is the
 * teacher's), and its table's columns are the teacher heads the first
 * attention group kept (the planted heavy head 3 of teacher layer 2 is
 * student head 1). */
static void test_relpos_init(void)
{
    ir_encoder_config c;
    teacher_config(&c);
    c.rel_buckets = 8;
    c.rel_max_distance = 6;
    c.rel_bidirectional = true;
    ir_diag d;
    ir_diag_init(&d);
    train_params *t = NULL, *s = NULL;
    CHECK(train_params_new(&c, &t, &d) == IR_OK);
    if (!t)
        return;
    train_params_init_random(t, 11, 0.3f);
    int64_t H = c.hidden;
    for (int64_t r = 0; r < H; r++)
        for (int64_t j = 12; j < 16; j++)
            for (int blk = 0; blk < 3; blk++)
                t->w.attn[1].qkv_w[r * 3 * H + blk * H + j] *= 10.0f;
    student_spec sp = {.layers = 2, .hidden = 8, .heads = 2, .ffn = 16};
    ir_encoder_config sc;
    CHECK(student_config_make(&c, &sp, IR_ENC_SHARE_NONE, 0, &sc, &d) == IR_OK);
    CHECK(sc.rel_buckets == 8 && sc.rel_max_distance == 6 && sc.rel_bidirectional);
    CHECK(train_params_new(&sc, &s, &d) == IR_OK);
    int64_t map[IR_ENCODER_MAX_LAYERS];
    student_layer_map_uniform(2, 4, map);
    CHECK_MSG(s && student_init_from_teacher(s, t, map, NULL, &d) == IR_OK,
              "%s", d.msg);
    if (s) {
        int col1 = 1, col0 = 0;
        for (int k = 0; k < 3; k++) {
            int same = 1;
            for (int64_t b = 0; b < 8; b++)
                same &= s->w.rel_bias[b * 2] == t->w.rel_bias[b * 4 + k];
            col0 |= same;
        }
        for (int64_t b = 0; b < 8; b++)
            col1 &= s->w.rel_bias[b * 2 + 1] == t->w.rel_bias[b * 4 + 3];
        CHECK_MSG(col0 && col1, "the student's relative bias columns are not "
                  "the kept teacher heads' (head 3 second)");
    }
    train_params_free(s);
    train_params_free(t);
}

/* A factorized teacher (E = 8) into an unfactorized student of the same
 * width: the student's word table is the teacher's word · proj. */
static void test_factorized_teacher(void)
{
    ir_encoder_config c;
    teacher_config(&c);
    c.embed = 8;
    ir_diag d;
    ir_diag_init(&d);
    train_params *t, *s;
    CHECK(train_params_new(&c, &t, &d) == IR_OK);
    train_params_init_random(t, 21, 0.3f);
    student_spec sp = {.layers = 2, .hidden = 16, .heads = 4, .ffn = 32};
    ir_encoder_config sc;
    CHECK(student_config_make(&c, &sp, IR_ENC_SHARE_NONE, 0, &sc, &d) == IR_OK);
    CHECK(sc.embed == 0);
    CHECK(train_params_new(&sc, &s, &d) == IR_OK);
    int64_t map[2] = {1, 3};
    CHECK(student_init_from_teacher(s, t, map, NULL, &d) == IR_OK);
    double worst = 0;
    for (int64_t v = 0; v < c.vocab; v++)
        for (int64_t h = 0; h < 16; h++) {
            double x = 0;
            for (int64_t e = 0; e < 8; e++)
                x += (double)t->w.word[v * 8 + e] * t->w.proj[e * 16 + h];
            worst = fmax(worst, fabs(x - s->w.word[v * 16 + h]));
        }
    printf("  factorized teacher -> full student: word table max |diff| %.2e\n", worst);
    CHECK(worst < 1e-5);
    /* student layer 2 is teacher layer 3 (full width: exact copy) */
    CHECK(memcmp(s->w.ffn[1].in_w, t->w.ffn[2].in_w, 16 * 32 * sizeof(float)) == 0);
    train_params_free(s);
    train_params_free(t);
}

/* An ELECTRA-small / ALBERT teacher (tables E = 8 wide, LayerNorm in E,
 * projection to H = 16 with a bias). */
static train_params *make_after_ln_teacher(ir_enc_share share)
{
    ir_encoder_config c;
    teacher_config(&c);
    c.embed = 8;
    c.embed_kind = IR_ENC_EMBED_PROJECT_AFTER_LN;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_share(&c, share, 0, &d);
    train_params *t;
    if (train_params_new(&c, &t, &d) != IR_OK)
        return NULL;
    train_params_init_random(t, 31, 0.3f);
    for (size_t i = 0; i < t->n; i++)
        t->params[i] += 0.05f * train_rng_normal(32, i);
    return t;
}

/* Students of a teacher whose embeddings are projected after their
 * LayerNorm:
 * - unfactorized: no embed_kind; its tables are the teacher's through the
 *   projection (word · proj to 1e-5) and its LayerNorm shift is
 *   beta · proj + proj_bias;
 * - factorized at the teacher's shape: projects after its LayerNorm too
 *   and IS the teacher (every parameter equal);
 * - narrower (E 8 -> 4, H 16 -> 8): exact columns of the teacher's E-wide
 *   tables and LayerNorm, the projection the teacher's at those rows and
 *   the kept H columns;
 * - E wider than the teacher's, or projecting after the LayerNorm from a
 *   teacher that does not: refused, naming why;
 * - ALBERT (one layer shared by all): each student layer copies it. */
static void test_after_ln_teacher(void)
{
    train_params *t = make_after_ln_teacher(IR_ENC_SHARE_NONE);
    CHECK(t != NULL);
    if (!t)
        return;
    const ir_encoder_config *tc = &t->cfg;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config sc;
    train_params *s = NULL;
    int64_t map[4] = {1, 2, 3, 4}, keep[16];

    student_spec sp = {.layers = 2, .hidden = 16, .heads = 4, .ffn = 32};
    CHECK(student_config_make(tc, &sp, IR_ENC_SHARE_NONE, 0, &sc, &d) == IR_OK);
    CHECK(sc.embed == 0 && sc.embed_kind == IR_ENC_EMBED_PROJECT_WORD);
    CHECK(train_params_new(&sc, &s, &d) == IR_OK);
    int64_t map2[2] = {2, 4};
    CHECK_MSG(s && student_init_from_teacher(s, t, map2, keep, &d) == IR_OK, "%s", d.msg);
    double worst = 0, worst_b = 0;
    for (int64_t h = 0; s && h < 16; h++) {
        for (int64_t v = 0; v < tc->vocab; v++) {
            double x = 0;
            for (int64_t e = 0; e < 8; e++)
                x += (double)t->w.word[v * 8 + e] * t->w.proj[e * 16 + keep[h]];
            worst = fmax(worst, fabs(x - s->w.word[v * 16 + h]));
        }
        double b = t->w.proj_b[keep[h]];
        for (int64_t e = 0; e < 8; e++)
            b += (double)t->w.eln_b[e] * t->w.proj[e * 16 + keep[h]];
        worst_b = fmax(worst_b, fabs(b - s->w.eln_b[h]));
    }
    printf("  ELECTRA-small teacher -> unfactorized student: word max |diff| %.2e, "
           "LN shift %.2e\n", worst, worst_b);
    CHECK(worst < 1e-5 && worst_b < 1e-5);
    train_params_free(s);

    sp = (student_spec){.layers = 4, .hidden = 16, .heads = 4, .ffn = 32, .embed = 8};
    CHECK(student_config_make(tc, &sp, IR_ENC_SHARE_NONE, 0, &sc, &d) == IR_OK);
    CHECK(ir_encoder_config_equal(&sc, tc));
    CHECK(train_params_new(&sc, &s, &d) == IR_OK);
    CHECK(s && student_init_from_teacher(s, t, map, NULL, &d) == IR_OK);
    size_t diff = 0;
    for (size_t i = 0; s && i < t->n; i++)
        diff += s->params[i] != t->params[i];
    CHECK_MSG(diff == 0, "%zu of %zu parameters differ", diff, t->n);
    train_params_free(s);

    sp = (student_spec){.layers = 2, .hidden = 8, .heads = 2, .ffn = 16, .embed = 4};
    CHECK(student_config_make(tc, &sp, IR_ENC_SHARE_NONE, 0, &sc, &d) == IR_OK);
    CHECK(sc.embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN);
    CHECK(train_params_new(&sc, &s, &d) == IR_OK);
    CHECK_MSG(s && student_init_from_teacher(s, t, map2, keep, &d) == IR_OK, "%s", d.msg);
    int exact = 1;
    for (int64_t e = 0; s && e < 4; e++) {
        int64_t te = -1; /* the teacher column student column e came from */
        for (int64_t k = 0; k < 8 && te < 0; k++)
            if (s->w.eln_g[e] == t->w.eln_g[k] && s->w.eln_b[e] == t->w.eln_b[k])
                te = k;
        exact &= te >= 0;
        for (int64_t v = 0; te >= 0 && v < tc->vocab; v++)
            exact &= s->w.word[v * 4 + e] == t->w.word[v * 8 + te];
        for (int64_t p = 0; te >= 0 && p < tc->max_positions; p++)
            exact &= s->w.pos[p * 4 + e] == t->w.pos[p * 8 + te];
        for (int64_t c = 0; te >= 0 && c < 8; c++)
            exact &= s->w.proj[e * 8 + c] == t->w.proj[te * 16 + keep[c]];
    }
    for (int64_t c = 0; s && c < 8; c++)
        exact &= s->w.proj_b[c] == t->w.proj_b[keep[c]];
    CHECK_MSG(exact, "narrow after-LN student: not exact slices of the teacher");
    train_params_free(s);

    sp.embed = 12;
    CHECK(student_config_make(tc, &sp, IR_ENC_SHARE_NONE, 0, &sc, &d) == IR_OK);
    CHECK(train_params_new(&sc, &s, &d) == IR_OK);
    CHECK(s && student_init_from_teacher(s, t, map2, NULL, &d) == IR_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(d.msg, "embed = 12 is more than the teacher's 8") != NULL,
              "%s", d.msg);
    train_params_free(s);
    train_params_free(t);

    /* a BERT teacher cannot seed embeddings projected after the LN */
    t = make_teacher();
    sc.embed = 4;
    CHECK(t && train_params_new(&sc, &s, &d) == IR_OK);
    CHECK(s && student_init_from_teacher(s, t, map2, NULL, &d) == IR_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(d.msg, "project_after_ln") != NULL && strstr(d.msg, "unfactorized"),
              "%s", d.msg);
    train_params_free(s);
    train_params_free(t);

    /* ALBERT: one shared layer; an unshared two-layer student copies it twice */
    t = make_after_ln_teacher(IR_ENC_SHARE_ALL);
    CHECK(t && t->cfg.n_attn_groups == 1 && t->cfg.n_ffn_groups == 1);
    sp = (student_spec){.layers = 2, .hidden = 16, .heads = 4, .ffn = 32, .embed = 8};
    CHECK(t && student_config_make(&t->cfg, &sp, IR_ENC_SHARE_NONE, 0, &sc, &d) == IR_OK);
    CHECK(sc.n_attn_groups == 2 && train_params_new(&sc, &s, &d) == IR_OK);
    CHECK(s && student_init_from_teacher(s, t, map2, NULL, &d) == IR_OK);
    for (int l = 0; s && l < 2; l++)
        CHECK(memcmp(s->w.ffn[l].in_w, t->w.ffn[0].in_w, 16 * 32 * sizeof(float)) == 0 &&
              memcmp(s->w.attn[l].qkv_w, t->w.attn[0].qkv_w, 16 * 48 * sizeof(float)) == 0);
    train_params_free(s);
    train_params_free(t);
}

int main(void)
{
    test_after_ln_teacher();
    test_factorized_teacher();
    test_relpos_init();
    test_spec();
    test_share_and_config();
    test_identity_init();
    test_narrow_init();
    return test_finish("test_student");
}

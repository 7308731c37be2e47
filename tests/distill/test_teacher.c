/* test_teacher.c — the teacher's forward (distill/teacher.h): the oneDNN
 * runtime with taps and the trainer's train_forward must give the same
 * logits, hidden states [L+1] and unnormalised scores [L] on a padded
 * batch (max abs difference <= 1e-4, weights N(0, 0.1) so activations are
 * O(1)); and a teacher saved as ONNX comes back through teacher_load_onnx
 * with its config. Runs with a plain, a factorized + shared and a
 * gelu_tanh teacher on both engines, the other families' heads and
 * embeddings (DistilBERT: relu head, no token types; RoBERTa: padded
 * positions from pad_id 1, no token types; ELECTRA: gelu head), and a
 * relu-FFN one (no trainer path:
 * AUTO must still work on the runtime, TRAIN must refuse it, naming it).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "distill/teacher.h"
#include "frontend/onnx.h"
#include "testutil.h"

enum { B = 2, T = 7 };

/* What a family changes in BERT's config (zeroed: BERT). */
typedef struct family {
    ir_act pool_act;
    bool padded;      /* RoBERTa's positions, pad_id 1 */
    bool no_types;    /* type_vocab 1, no token_type_ids */
} family;

static ir_encoder *make_family(int64_t embed, ir_enc_share share, ir_act act,
                               family f)
{
    ir_encoder_config c;
    ir_encoder_config_init(&c);
    c.hidden = 16; c.layers = 3; c.heads = 4; c.ffn = 32; c.vocab = 40;
    c.max_positions = 16; c.type_vocab = 2; c.labels = 3; c.embed = embed;
    c.activation = act;
    c.pool_act = f.pool_act;
    if (f.padded) {
        c.positions = IR_ENC_POS_PADDED;
        c.pad_id = 1;
    }
    if (f.no_types)
        c.type_vocab = 1;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_share(&c, share, 0, &d);
    ir_encoder *e;
    if (ir_encoder_new(&c, &e, &d) != IR_OK)
        return NULL;
    ir_encoder_init_opts o;
    ir_encoder_init_opts_default(&o);
    o.seed = 5;
    o.std = 0.1f;
    o.bias_std = 0.05f;
    o.ln_std = 0.05f;
    ir_encoder_init_random(e, &o);
    return e;
}

static ir_encoder *make_encoder(int64_t embed, ir_enc_share share,
                                ir_act act)
{
    return make_family(embed, share, act, (family){0});
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void compare_engines(const char *what, ir_encoder *e)
{
    ir_diag d;
    ir_diag_init(&d);
    teacher *rt = NULL, *tr = NULL;
    CHECK_MSG(teacher_new(e, TEACHER_ENGINE_RT, NULL, NULL, &rt, &d) == IR_OK,
              "%s", d.msg);
    CHECK_MSG(teacher_new(e, TEACHER_ENGINE_TRAIN, NULL, NULL, &tr, &d) == IR_OK,
              "%s", d.msg);
    if (!rt || !tr) {
        teacher_free(rt);
        teacher_free(tr);
        return;
    }
    CHECK(teacher_engine_used(rt) == TEACHER_ENGINE_RT);
    CHECK(teacher_engine_used(tr) == TEACHER_ENGINE_TRAIN);
    int32_t ids[B * T] = {2, 7, 9, 33, 4, 3, 0, 2, 11, 39, 3, 0, 0, 0};
    int32_t types[B * T] = {0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0};
    int32_t mask[B * T] = {1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0};
    const ir_encoder_config *c = &e->cfg;
    /* padding carries the pad id, as a tokenizer writes it */
    for (size_t i = 0; i < B * T; i++)
        if (!mask[i] && c->positions == IR_ENC_POS_PADDED)
            ids[i] = (int32_t)c->pad_id;
    const int32_t *ty = c->type_vocab > 1 ? types : NULL;
    teacher_outputs a, b;
    CHECK(teacher_run(rt, B, T, ids, ty, mask, &a, &d) == IR_OK);
    CHECK(teacher_run(tr, B, T, ids, ty, mask, &b, &d) == IR_OK);
    size_t H = (size_t)c->hidden, A = (size_t)c->heads;
    double worst = max_diff(a.logits, b.logits, B * (size_t)c->labels);
    for (int64_t l = 0; l <= c->layers; l++)
        worst = fmax(worst, max_diff(a.hidden[l], b.hidden[l], B * T * H));
    /* scores at padded keys are raw values in both: compare them all */
    for (int64_t l = 0; l < c->layers; l++)
        worst = fmax(worst, max_diff(a.scores[l], b.scores[l], B * A * T * T));
    printf("  %-26s onednn vs trainer: max |diff| %.2e (logits, hidden, scores)\n",
           what, worst);
    CHECK_MSG(worst <= 1e-4, "%s: engines differ by %.3e", what, worst);
    /* a second, smaller batch reuses the buffers */
    CHECK(teacher_run(rt, 1, 3, ids, ty, mask, &a, &d) == IR_OK);
    CHECK(teacher_run(tr, 1, 3, ids, ty, mask, &b, &d) == IR_OK);
    CHECK(max_diff(a.logits, b.logits, (size_t)c->labels) <= 1e-4);
    /* too long for the positions: named */
    ir_diag_init(&d);
    int32_t many[20] = {0};
    CHECK(teacher_run(rt, 1, 20, many, NULL, NULL, &a, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "sequence length 20") != NULL);
    teacher_free(rt);
    teacher_free(tr);
}

static void test_engines(void)
{
    ir_encoder *e = make_encoder(0, IR_ENC_SHARE_NONE, IR_ACT_GELU);
    CHECK(e != NULL);
    if (e)
        compare_engines("plain", e);
    ir_encoder_free(e);
    e = make_encoder(8, IR_ENC_SHARE_ALL, IR_ACT_GELU);
    if (e)
        compare_engines("factorized, all shared", e);
    ir_encoder_free(e);
    e = make_encoder(0, IR_ENC_SHARE_NONE, IR_ACT_GELU_TANH);
    if (e)
        compare_engines("tanh GELU (gelu_new)", e);
    ir_encoder_free(e);
    e = make_family(0, IR_ENC_SHARE_NONE, IR_ACT_GELU,
                    (family){.pool_act = IR_ACT_RELU, .no_types = true});
    if (e)
        compare_engines("DistilBERT (relu head)", e);
    ir_encoder_free(e);
    e = make_family(0, IR_ENC_SHARE_NONE, IR_ACT_GELU,
                    (family){.pool_act = IR_ACT_TANH, .padded = true, .no_types = true});
    if (e)
        compare_engines("RoBERTa (padded positions)", e);
    ir_encoder_free(e);
    e = make_family(0, IR_ENC_SHARE_NONE, IR_ACT_GELU,
                    (family){.pool_act = IR_ACT_GELU});
    if (e)
        compare_engines("ELECTRA (gelu head)", e);
    ir_encoder_free(e);
}

static void test_fallback_and_load(void)
{
    ir_diag d;
    ir_diag_init(&d);
    /* ReLU FFNs run in the runtime but not in the trainer */
    ir_encoder *e = make_encoder(0, IR_ENC_SHARE_NONE, IR_ACT_RELU);
    if (!e)
        return;
    teacher *t = NULL;
    CHECK(teacher_new(e, TEACHER_ENGINE_AUTO, NULL, NULL, &t, &d) == IR_OK);
    CHECK(t && teacher_engine_used(t) == TEACHER_ENGINE_RT);
    teacher_free(t);
    ir_diag_init(&d);
    teacher *t2 = NULL;
    ir_status st = teacher_new(e, TEACHER_ENGINE_TRAIN, NULL, NULL, &t2, &d);
    CHECK(st == IR_ERR_UNSUPPORTED || st == IR_OK);
    if (t2) {
        int32_t ids[3] = {1, 2, 3};
        teacher_outputs o;
        ir_diag_init(&d);
        CHECK(teacher_run(t2, 1, 3, ids, NULL, NULL, &o, &d) == IR_ERR_UNSUPPORTED);
        printf("  relu on the trainer: %s\n", d.msg);
    } else
        printf("  relu on the trainer: %s\n", d.msg);
    CHECK_MSG(strstr(d.msg, "'relu'") != NULL, "not named: %s", d.msg);
    teacher_free(t2);
    ir_encoder_free(e);

    /* ONNX round trip */
    e = make_encoder(0, IR_ENC_SHARE_NONE, IR_ACT_GELU);
    char dir[256], path[300];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    snprintf(path, sizeof path, "%s/teacher.onnx", dir);
    ir_graph *g;
    CHECK(ir_encoder_to_graph(e, NULL, &g, &d) == IR_OK);
    CHECK(onnx_save_file(g, path, NULL, &d) == IR_OK);
    ir_graph_free(g);
    ir_encoder *back = NULL;
    CHECK_MSG(teacher_load_onnx(path, &back, &d) == IR_OK, "%s", d.msg);
    CHECK(back && back->cfg.layers == 3 && back->cfg.hidden == 16 &&
          back->cfg.heads == 4 && back->cfg.labels == 3);
    ir_encoder_free(back);
    ir_diag_init(&d);
    snprintf(path, sizeof path, "%s/missing.onnx", dir);
    CHECK(teacher_load_onnx(path, &back, &d) == IR_ERR_INPUT); /* the user's */
    CHECK(strstr(d.msg, "missing.onnx") != NULL);
    ir_encoder_free(e);
}

int main(void)
{
    test_engines();
    test_fallback_and_load();
    return test_finish("test_teacher");
}

/* test_teacher.c — the teacher's forward (distill/teacher.h): the oneDNN
 * runtime with taps and the trainer's train_forward must give the same
 * logits, hidden states [L+1] and unnormalised scores [L] on a padded
 * batch (max abs difference <= 1e-4, weights N(0, 0.1) so activations are
 * O(1)); and a teacher saved as ONNX comes back through teacher_load_onnx
 * with its config. Runs with a plain, a factorized + shared and a
 * gelu_tanh teacher on both engines, the other families' heads and
 * embeddings (DistilBERT: relu head, no token types; RoBERTa: padded
 * positions from pad_id 1, no token types; ELECTRA: gelu head; MPNet:
 * RoBERTa's plus a relative position bias, in the scores too), and a
 * relu-FFN one (no trainer path:
 * AUTO must still work on the runtime, TRAIN must refuse it, naming it).
 * ELECTRA-small and ALBERT (embeddings projected after an E-wide
 * LayerNorm; ALBERT with one layer at every depth) on both engines, and the
 * trainer's forward against the reference interpreter on their graphs and
 * on those graphs lifted back (logits to 1e-4). With "--compare DIR" it
 * checks one exported model instead (see compare_export).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "distill/teacher.h"
#include "frontend/onnx.h"
#include "tests/util/encoder_fixture.h"
#include "testutil.h"

enum { B = 2, T = 7 };

/* What a family changes in BERT's config (zeroed: BERT). */
typedef struct family {
    ir_act pool_act;
    bool padded;      /* RoBERTa's positions, pad_id 1 */
    bool no_types;    /* type_vocab 1, no token_type_ids */
    int64_t rel;      /* MPNet's relative position bias: buckets (0 none) */
    bool after_ln;    /* ELECTRA-small, ALBERT: project after the E-wide LN */
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
    if (f.rel) { /* max distance 5: T = 7 reaches the clamp */
        c.rel_buckets = f.rel;
        c.rel_max_distance = 5;
        c.rel_bidirectional = true;
    }
    if (f.after_ln)
        c.embed_kind = IR_ENC_EMBED_PROJECT_AFTER_LN;
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
    e = make_family(0, IR_ENC_SHARE_NONE, IR_ACT_GELU,
                    (family){.pool_act = IR_ACT_TANH, .padded = true,
                             .no_types = true, .rel = 12});
    if (e)
        compare_engines("MPNet (relative bias)", e);
    ir_encoder_free(e);
    /* ELECTRA-small: tables E = 8 wide, LayerNorm in E, projected to 16 */
    e = make_family(8, IR_ENC_SHARE_NONE, IR_ACT_GELU,
                    (family){.pool_act = IR_ACT_GELU, .after_ln = true});
    CHECK(e != NULL);
    if (e)
        compare_engines("ELECTRA-small (E 8 after LN)", e);
    ir_encoder_free(e);
    /* ALBERT: the same embeddings (E 24 > H here), one layer at all depths */
    e = make_family(24, IR_ENC_SHARE_ALL, IR_ACT_GELU_TANH,
                    (family){.after_ln = true});
    CHECK(e != NULL);
    if (e)
        compare_engines("ALBERT (E 24 after LN, 1 layer x3)", e);
    ir_encoder_free(e);
}

/* The trainer's forward against the reference interpreter on the graph
 * ir_encoder_to_graph writes (opset 17 and the decomposed LayerNorm of
 * opset 14), for the ELECTRA-small and ALBERT shapes: logits to 1e-4 on a
 * padded batch. The same graph saved as ONNX lifts back to the same
 * config (embeddings projected after the LN, the sharing) and the
 * trainer's forward on the lifted teacher gives the same logits. */
static void test_after_ln_vs_interpreter(void)
{
    struct { const char *what; int64_t embed; ir_enc_share share; ir_act act; } k[] = {
        {"ELECTRA-small", 8, IR_ENC_SHARE_NONE, IR_ACT_GELU},
        {"ALBERT", 24, IR_ENC_SHARE_ALL, IR_ACT_GELU_TANH},
    };
    char dir[256], path[300];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        for (int opset = 14; opset <= 17; opset += 3) {
            ir_encoder *e = make_family(k[i].embed, k[i].share, k[i].act,
                                        (family){.pool_act = IR_ACT_GELU,
                                                 .after_ln = true});
            ir_diag d;
            ir_diag_init(&d);
            ir_encoder_graph_opts go;
            ir_encoder_graph_opts_default(&go);
            go.opset = opset;
            ir_graph *g = NULL;
            CHECK(e && ir_encoder_to_graph(e, &go, &g, &d) == IR_OK);
            if (!g) {
                ir_encoder_free(e);
                continue;
            }
            enc_inputs x = enc_inputs_make(B, T, 3, e->cfg.vocab, 9);
            float *want = enc_interp_logits(g, &x);
            int32_t ids[B * T], types[B * T], mask[B * T];
            for (size_t j = 0; j < B * T; j++) {
                ids[j] = (int32_t)((int64_t *)x.ids->data)[j];
                types[j] = (int32_t)((int64_t *)x.types->data)[j];
                mask[j] = (int32_t)((int64_t *)x.mask->data)[j];
            }
            snprintf(path, sizeof path, "%s/%s-%d.onnx", dir, k[i].what, opset);
            CHECK(onnx_save_file(g, path, NULL, &d) == IR_OK);
            ir_encoder *back = NULL;
            CHECK_MSG(teacher_load_onnx(path, &back, &d) == IR_OK, "%s", d.msg);
            CHECK(back && ir_encoder_config_equal(&back->cfg, &e->cfg));
            const ir_encoder *run[2] = {e, back};
            double worst[2] = {INFINITY, INFINITY};
            for (int r = 0; r < 2 && want && run[r]; r++) {
                teacher *t = NULL;
                teacher_outputs o;
                CHECK(teacher_new(run[r], TEACHER_ENGINE_TRAIN, NULL, NULL, &t, &d) == IR_OK);
                CHECK(t && teacher_run(t, B, T, ids, types, mask, &o, &d) == IR_OK);
                if (t)
                    worst[r] = max_diff(o.logits, want, B * (size_t)e->cfg.labels);
                teacher_free(t);
            }
            printf("  %-13s opset %d: trainer vs interpreter logits max |diff| "
                   "%.2e (lifted back: %.2e; tolerance 1e-4)\n", k[i].what, opset,
                   worst[0], worst[1]);
            CHECK_MSG(worst[0] <= 1e-4 && worst[1] <= 1e-4, "%s opset %d: %.3e / %.3e",
                      k[i].what, opset, worst[0], worst[1]);
            free(want);
            enc_inputs_free(&x);
            ir_encoder_free(back);
            ir_graph_free(g);
            ir_encoder_free(e);
        }
}

/* --compare DIR: a model exported as tests/util/families.py writes it
 * (DIR/model.onnx, DIR/test_data_set_0/input_K.pb named after the graph's
 * inputs, output_0.pb torch's logits), lifted as distill lifts a teacher;
 * the trainer's forward against the oneDNN runtime (logits, hidden states,
 * scores) and its logits against torch's, each to 1e-4. Exit 0 when both
 * hold, 1 otherwise. tests/tools/test_families_distill_factorized.sh runs
 * it on its ELECTRA-small and ALBERT teachers. */
static int compare_export(const char *dir)
{
    char path[1024];
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder *e = NULL;
    teacher *tr = NULL, *rt = NULL;
    ir_tensor *in[3] = {NULL, NULL, NULL}, *want = NULL;
    int32_t *buf = NULL;
    int rc = 1;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (teacher_load_onnx(path, &e, &d) != IR_OK)
        goto done;
    /* ids, mask, types by the names the exporter gave them */
    const int32_t *x[3] = {NULL, NULL, NULL};
    size_t Bx = 0, Tx = 0;
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, k);
        FILE *f = fopen(path, "rb");
        if (!f)
            break;
        fclose(f);
        char *name = NULL;
        ir_tensor *t = NULL;
        if (onnx_tensor_read_file(path, &t, &name, &d) != IR_OK)
            goto done;
        int slot = !strcmp(name, "input_ids") ? 0 : !strcmp(name, "attention_mask") ? 1
                 : !strcmp(name, "token_type_ids") ? 2 : -1;
        free(name);
        if (slot < 0 || t->dtype != IR_DT_I64 || t->rank != 2) {
            ir_diag_set(&d, IR_ERR_INPUT, "%s: not an int64 [batch, seq] input_ids, "
                        "attention_mask or token_type_ids", path);
            ir_tensor_free(t);
            goto done;
        }
        in[slot] = t;
        Bx = (size_t)t->dims[0];
        Tx = (size_t)t->dims[1];
    }
    if (!in[0] || !in[1]) {
        ir_diag_set(&d, IR_ERR_INPUT, "%s: no input_ids or attention_mask", dir);
        goto done;
    }
    size_t BT = Bx * Tx;
    buf = malloc(3 * BT * sizeof *buf);
    for (int k = 0; k < 3; k++)
        if (in[k]) {
            for (size_t j = 0; j < BT; j++)
                buf[k * BT + j] = (int32_t)((const int64_t *)in[k]->data)[j];
            x[k] = buf + k * BT;
        }
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
    if (onnx_tensor_read_file(path, &want, NULL, &d) != IR_OK ||
        teacher_new(e, TEACHER_ENGINE_TRAIN, NULL, NULL, &tr, &d) != IR_OK ||
        teacher_new(e, TEACHER_ENGINE_RT, NULL, NULL, &rt, &d) != IR_OK)
        goto done;
    teacher_outputs a, b;
    if (teacher_run(tr, Bx, Tx, x[0], x[2], x[1], &a, &d) != IR_OK ||
        teacher_run(rt, Bx, Tx, x[0], x[2], x[1], &b, &d) != IR_OK)
        goto done;
    const ir_encoder_config *c = &e->cfg;
    size_t NL = (size_t)c->labels, H = (size_t)c->hidden, A = (size_t)c->heads;
    double eng = max_diff(a.logits, b.logits, Bx * NL);
    for (int64_t l = 0; l <= c->layers; l++)
        eng = fmax(eng, max_diff(a.hidden[l], b.hidden[l], BT * H));
    for (int64_t l = 0; l < c->layers; l++)
        eng = fmax(eng, max_diff(a.scores[l], b.scores[l], Bx * A * Tx * Tx));
    double torch = (size_t)ir_tensor_numel(want) == Bx * NL
                       ? max_diff(a.logits, want->data, Bx * NL) : INFINITY;
    double big = 0;
    for (size_t j = 0; j < Bx * NL; j++)
        big = fmax(big, fabs(a.logits[j]));
    printf("%s: embed %lld (%s), hidden %lld, %lld layers in %lld attention "
           "group(s): trainer vs onednn max |diff| %.2e (logits, hidden, scores), "
           "trainer vs torch logits %.2e (|logits| up to %.3f; tolerance 1e-4)\n",
           dir, (long long)c->embed, ir_enc_embed_name(c->embed_kind),
           (long long)c->hidden, (long long)c->layers, (long long)c->n_attn_groups,
           eng, torch, big);
    rc = eng <= 1e-4 && torch <= 1e-4 ? 0 : 1;
done:
    if (rc && d.msg[0])
        fprintf(stderr, "%s: %s\n", dir, d.msg);
    teacher_free(tr);
    teacher_free(rt);
    for (int k = 0; k < 3; k++)
        ir_tensor_free(in[k]);
    ir_tensor_free(want);
    free(buf);
    ir_encoder_free(e);
    return rc;
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

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--compare") == 0)
        return compare_export(argv[2]);
    test_engines();
    test_after_ln_vs_interpreter();
    test_fallback_and_load();
    return test_finish("test_teacher");
}

/* test_distill_loss.c — the distillation loss fn (distill/distill_loss.h)
 * against central finite differences (train_fd.h: eps 1e-2 in float,
 * relative error < 1e-2 with a 1e-2 floor):
 * - the projections W_e, W_h (student width 6, teacher 8): every element;
 * - the whole loss backward through da (hidden[l], scores[l], logits) and
 *   train_backward into the student's parameters, every 5th parameter, for
 *   each stage (intermediate, prediction at t = 2, all);
 * on a tiny teacher (3 layers, 4 heads) and student (2 layers, 2 heads,
 * map 2,3) and a padded batch. Also: padded positions do not count, the
 * loss fn equals compute on the teacher's outputs, and bad setups (heads
 * not dividing, temperature 0, map out of range) are named.
 */
#include <string.h>

#include "distill/distill_loss.h"
#include "distill/kernels.h"
#include "tests/util/encoder_fixture.h"
#include "train_fd.h"

enum { B = 2, T = 5 };

static const int32_t ids[B * T] = {2, 7, 9, 3, 0, 2, 11, 15, 3, 4};
static const int32_t types[B * T] = {0, 0, 0, 1, 0, 0, 0, 1, 1, 1};
static const int32_t mask[B * T] = {1, 1, 1, 1, 0, 1, 1, 1, 1, 1};

typedef struct ctx {
    distill_loss *L;
    train_params *p;
    train_acts *a;
    teacher_outputs tout;
} ctx;

static double loss_only(void *vp)
{
    ctx *c = vp;
    ir_diag d;
    ir_diag_init(&d);
    train_loss_parts parts;
    if (train_forward(c->p, c->a, ids, types, mask, &d) != IR_OK ||
        distill_loss_compute(c->L, c->a, NULL, &c->tout, mask, &parts, &d) != IR_OK)
        return 1e30;
    return parts.total;
}

static void analytic(ctx *c, train_acts *da)
{
    ir_diag d;
    ir_diag_init(&d);
    train_params_zero_grad(c->p);
    train_extra *x = distill_loss_extra(c->L);
    memset(x->grads, 0, x->n * sizeof(float));
    train_acts_zero(da);
    train_loss_parts parts;
    CHECK(train_forward(c->p, c->a, ids, types, mask, &d) == IR_OK);
    CHECK(distill_loss_compute(c->L, c->a, da, &c->tout, mask, &parts, &d) == IR_OK);
    train_backward(c->p, c->a, da, ids, types, mask);
}

static void test_gradients(void)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config tc, sc;
    enc_small_config(&tc, 8, 3, 4, 20, 8, 3);
    enc_small_config(&sc, 6, 2, 2, 20, 8, 3);
    ir_encoder *te;
    CHECK(ir_encoder_new(&tc, &te, &d) == IR_OK);
    ir_encoder_init_opts io;
    ir_encoder_init_opts_default(&io);
    io.std = 0.3f; io.bias_std = 0.1f; io.ln_std = 0.1f; io.seed = 3;
    ir_encoder_init_random(te, &io);
    teacher *t;
    CHECK(teacher_new(te, TEACHER_ENGINE_TRAIN, NULL, NULL, &t, &d) == IR_OK);
    ctx c = {0};
    CHECK(teacher_run(t, B, T, ids, types, mask, &c.tout, &d) == IR_OK);
    distill_loss_opts o;
    distill_loss_opts_default(&o, 2, 3);
    CHECK(o.layer_map[0] == 1 && o.layer_map[1] == 3);
    o.layer_map[0] = 2;
    o.temperature = 2.0f;
    /* Term weights below 1 (also checks they reach the backward) keep the
     * float loss small enough that its rounding stays under the FD noise
     * budget. */
    o.w_emb = 0.3f;
    o.w_hidden = 0.2f;
    o.w_attn = 0.1f;
    CHECK(distill_loss_new(&sc, t, &o, &c.L, &d) == IR_OK);
    train_extra *x = distill_loss_extra(c.L);
    CHECK(x->n == 2 * 6 * 8);
    distill_loss_init_proj(c.L, NULL, 9);
    CHECK(train_params_new(&sc, &c.p, &d) == IR_OK);
    train_params_init_random(c.p, 4, 0.3f);
    for (size_t i = 0; i < c.p->n; i++)
        c.p->params[i] += 0.05f * train_rng_normal(8, i);
    train_acts *da;
    CHECK(train_acts_new(&sc, B, T, &c.a, &d) == IR_OK);
    CHECK(train_acts_new(&sc, B, T, &da, &d) == IR_OK);

    static const struct { distill_stage s; const char *name; } stages[] = {
        {DISTILL_STAGE_INTERMEDIATE, "intermediate"},
        {DISTILL_STAGE_PREDICTION, "prediction"},
        {DISTILL_STAGE_ALL, "all"},
    };
    for (size_t k = 0; k < 3; k++) {
        distill_loss_set_stage(c.L, stages[k].s);
        printf(" stage %s (loss %.4f)\n", stages[k].name, loss_only(&c));
        analytic(&c, da);
        float *g = fd_alloc_zero(c.p->n);
        memcpy(g, c.p->grads, c.p->n * sizeof(float));
        float *gx = fd_alloc_zero(x->n);
        memcpy(gx, x->grads, x->n * sizeof(float));
        if (stages[k].s != DISTILL_STAGE_PREDICTION)
            fd_compare("projections W_e, W_h", x->params, gx, x->n, 1, loss_only, &c);
        fd_compare("student params via da", c.p->params, g, c.p->n, 5, loss_only, &c);
        free(g);
        free(gx);
    }

    /* the loss fn = student forward + teacher + compute */
    distill_loss_set_stage(c.L, DISTILL_STAGE_ALL);
    train_batch b = {.B = B, .T = T, .ids = ids, .types = types, .mask = mask};
    train_loss_parts p1, p2;
    train_acts_zero(da);
    CHECK(distill_loss_fn(c.L, c.p, c.a, da, &b, &p1, &d) == IR_OK);
    CHECK(teacher_run(t, B, T, ids, types, mask, &c.tout, &d) == IR_OK);
    CHECK(distill_loss_compute(c.L, c.a, NULL, &c.tout, mask, &p2, &d) == IR_OK);
    CHECK(p1.total == p2.total && p1.emb > 0 && p1.hidden > 0 && p1.attn > 0 &&
          p1.pred > 0);
    CHECK(fabsf(p1.total - (0.3f * p1.emb + 0.2f * p1.hidden + 0.1f * p1.attn +
                            p1.pred)) < 1e-4f * p1.total);

    /* padded token 4 of row 0: the teacher's values there do not count */
    float *h = (float *)c.tout.hidden[2];
    float *s = (float *)c.tout.scores[1];
    double before = loss_only(&c);
    for (int j = 0; j < 8; j++)
        h[4 * 8 + j] += 5.0f;
    for (int hd = 0; hd < 4; hd++)
        for (int q = 0; q < T; q++)
            s[(hd * T + q) * T + 4] += 5.0f; /* key 4 of row 0 */
    CHECK(loss_only(&c) == before);

    /* bad setups */
    distill_loss *bad = NULL;
    ir_encoder_config sc3;
    enc_small_config(&sc3, 6, 2, 3, 20, 8, 3);
    ir_diag_init(&d);
    CHECK(distill_loss_new(&sc3, t, &o, &bad, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "teacher's 4 heads are not a multiple of the student's 3"));
    o.temperature = 0;
    CHECK(distill_loss_new(&sc, t, &o, &bad, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "temperature"));
    o.temperature = 1;
    o.layer_map[1] = 4;
    CHECK(distill_loss_new(&sc, t, &o, &bad, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "teacher layer 4, outside 1..3"));

    /* equal widths: no projections */
    ir_encoder_config sc8;
    enc_small_config(&sc8, 8, 2, 2, 20, 8, 3);
    distill_loss_opts_default(&o, 2, 3);
    CHECK(distill_loss_new(&sc8, t, &o, &bad, &d) == IR_OK);
    CHECK(bad && distill_loss_extra(bad)->n == 0);
    distill_loss_free(bad);

    train_acts_free(da);
    train_acts_free(c.a);
    train_params_free(c.p);
    distill_loss_free(c.L);
    teacher_free(t);
    ir_encoder_free(te);
}

int main(void)
{
    test_gradients();
    return test_finish("test_distill_loss");
}

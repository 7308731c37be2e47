/* test_train_losses.c — each loss of distill/losses.h against central
 * finite differences (train_fd.h: eps 1e-2 in float, relative error
 * < 1e-2), hand-computed values for the simple cases, the padding and
 * head-averaging rules of TinyBERT's attention loss, and the input errors.
 */
#include <string.h>

#include "distill/losses.h"
#include "train_fd.h"

typedef struct loss_ctx {
    float *x, *y, *w, *tmp1, *tmp2; const int32_t *labels, *mask;
    size_t B, T, N1, N2, NH2; float temp; int kind;
} loss_ctx;

static double loss_f(void *p)
{
    loss_ctx *c = p;
    double l = 0;
    ir_diag d;
    ir_diag_init(&d);
    switch (c->kind) {
    case 0: train_ce_forward(&l, c->tmp1, c->x, c->labels, c->B, c->N1, &d); break;
    case 1: l = train_mse_forward(c->x, c->y, c->B); break;
    case 2: train_soft_ce_forward(&l, c->tmp1, c->tmp2, c->x, c->y, c->B, c->N1, c->temp, &d); break;
    case 3: train_hidden_mse_forward(&l, c->tmp1, c->x, c->y, c->w, c->mask, c->B, c->T,
                                     c->N1, c->N2, &d); break;
    case 4: train_attn_mse_forward(&l, c->x, c->y, c->mask, c->B, c->N1, c->NH2, c->T, &d); break;
    }
    return l;
}

static void test_ce_mse_softce(void)
{
    size_t B = 3, NL = 4;
    int32_t labels[3] = {2, 0, 3};
    loss_ctx c = {fd_alloc_rand(B * NL, 2), fd_alloc_rand(B * NL, 2), NULL,
                  fd_alloc_zero(B * NL), fd_alloc_zero(B * NL), labels, NULL,
                  B, 1, NL, 0, 0, 2.0f, 0};
    float *g = fd_alloc_zero(B * NL);
    ir_diag d;
    ir_diag_init(&d);

    /* cross-entropy: uniform logits give log(NL) */
    double l;
    float zeros[12] = {0};
    CHECK(train_ce_forward(&l, c.tmp1, zeros, labels, B, NL, &d) == IR_OK);
    CHECK(fabs(l - log(4.0)) < 1e-6);
    loss_f(&c);
    train_ce_backward(g, c.tmp1, labels, B, NL, 1.0f);
    fd_compare("cross-entropy dlogits", c.x, g, B * NL, 1, loss_f, &c);
    int32_t bad[3] = {2, 4, 0};
    CHECK(train_ce_forward(&l, c.tmp1, c.x, bad, B, NL, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "label 4 of batch row 1") != NULL);

    /* MSE: ((1-0)^2 + (0-2)^2) / 2 = 2.5 */
    float p2[2] = {1, 0}, t2[2] = {0, 2};
    CHECK(fabs(train_mse_forward(p2, t2, 2) - 2.5) < 1e-12);
    c.kind = 1;
    memset(g, 0, B * NL * sizeof(float));
    train_mse_backward(g, c.x, c.y, B, 1.0f);
    fd_compare("mse dpred", c.x, g, B, 1, loss_f, &c);

    /* soft CE at temperature 2; with equal logits it equals the entropy */
    c.kind = 2;
    memset(g, 0, B * NL * sizeof(float));
    loss_f(&c);
    train_soft_ce_backward(g, c.tmp1, c.tmp2, B, NL, c.temp, 1.0f);
    fd_compare("soft-ce (t=2) dstudent", c.x, g, B * NL, 1, loss_f, &c);
    CHECK(train_soft_ce_forward(&l, c.tmp1, c.tmp2, zeros, zeros, B, NL, 2.0f, &d) == IR_OK);
    CHECK(fabs(l - log(4.0)) < 1e-6);
    CHECK(train_soft_ce_forward(&l, c.tmp1, c.tmp2, c.x, c.y, B, NL, 0.0f, &d) == IR_ERR_INPUT);
    free(c.x); free(c.y); free(c.tmp1); free(c.tmp2); free(g);
}

static void test_hidden_mse(void)
{
    size_t B = 2, T = 3, CS = 4, CT = 6;
    static const int32_t mask[6] = {1, 1, 1, 1, 0, 0};
    loss_ctx c = {fd_alloc_rand(B * T * CS, 1), fd_alloc_rand(B * T * CT, 1),
                  fd_alloc_rand(CS * CT, 1), fd_alloc_zero(B * T * CT), NULL, NULL, mask,
                  B, T, CS, CT, 0, 1, 3};
    float *dhs = fd_alloc_zero(B * T * CS), *dw = fd_alloc_zero(CS * CT),
          *scratch = fd_alloc_zero(B * T * CT);
    loss_f(&c);
    train_hidden_mse_backward(dhs, dw, scratch, c.tmp1, c.x, c.y, c.w, mask, B, T, CS, CT, 1.0f);
    fd_compare("hidden-mse (W_h) dstudent", c.x, dhs, B * T * CS, 1, loss_f, &c);
    fd_compare("hidden-mse (W_h) dW_h", c.w, dw, CS * CT, 1, loss_f, &c);
    /* padded tokens (batch 1, t 1..2) take no gradient and do not count */
    for (size_t i = 4 * CS; i < 6 * CS; i++)
        CHECK(dhs[i] == 0.0f);

    /* equal widths, no projection, no mask: plain MSE over everything */
    ir_diag d;
    ir_diag_init(&d);
    double l;
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 3, 0};
    CHECK(train_hidden_mse_forward(&l, scratch, a, b, NULL, NULL, 1, 2, 2, 2, &d) == IR_OK);
    CHECK(fabs(l - (4.0 + 16.0) / 4.0) < 1e-9);
    CHECK(train_hidden_mse_forward(&l, scratch, a, b, NULL, NULL, 1, 1, 2, 4, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "no projection") != NULL);
    free(c.x); free(c.y); free(c.w); free(c.tmp1); free(dhs); free(dw); free(scratch);
}

static void test_attn_mse(void)
{
    size_t B = 2, T = 3, NHS = 2, NHT = 4;
    static const int32_t mask[6] = {1, 1, 1, 1, 1, 0};
    loss_ctx c = {fd_alloc_rand(B * NHS * T * T, 2), fd_alloc_rand(B * NHT * T * T, 2), NULL,
                  NULL, NULL, NULL, mask, B, T, NHS, 0, NHT, 1, 4};
    float *g = fd_alloc_zero(B * NHS * T * T);
    loss_f(&c);
    train_attn_mse_backward(g, c.x, c.y, mask, B, NHS, NHT, T, 1.0f);
    fd_compare("attention-mse (4->2 heads)", c.x, g, B * NHS * T * T, 1, loss_f, &c);
    /* pairs touching the padded token (batch 1, position 2) are excluded */
    for (size_t h = 0; h < NHS; h++)
        for (size_t i = 0; i < T; i++)
            for (size_t j = 0; j < T; j++)
                if (i == 2 || j == 2)
                    CHECK(g[((1 * NHS + h) * T + i) * T + j] == 0.0f);

    /* averaging rule: student head equal to the mean of its teacher group
     * gives zero loss */
    float ss[1 * 1 * 2 * 2] = {1, 2, 3, 4}, ts[1 * 2 * 2 * 2] = {0, 2, 2, 4, 2, 2, 4, 4};
    double l = 1;
    ir_diag d;
    ir_diag_init(&d);
    CHECK(train_attn_mse_forward(&l, ss, ts, NULL, 1, 1, 2, 2, &d) == IR_OK);
    CHECK(l == 0.0);
    CHECK(train_attn_mse_forward(&l, ss, ts, NULL, 1, 3, 4, 2, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "not a multiple") != NULL);
    free(c.x); free(c.y); free(g);
}

int main(void)
{
    test_ce_mse_softce();
    test_hidden_mse();
    test_attn_mse();
    return test_finish("test_train_losses");
}

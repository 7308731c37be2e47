/* test_ddp.c — the pieces of data-parallel training (distill/ddp.h) that
 * need no second process, on the one-process communicator:
 * - train_backward_ready reports every float of the gradient block exactly
 *   once, for a plain student, ALBERT-style sharing (one group for every
 *   layer), MPNet's relative position bias and factorized embeddings
 *   (project_after_ln); the bucketed sum (train_ddp) covers the block with
 *   tiny buckets too;
 * - a batch split into shares (train_batch_split, 1 to 4 of them, one
 *   share empty when there are more shares than rows) whose losses and
 *   gradients are summed equals the whole batch: fine-tuning (classes and
 *   regression) and distillation (every stage, projections included),
 *   within 1e-5 of the largest gradient (the float sums run in another
 *   order), and bit for bit with one share.
 * That sum is what the ranks' allreduce forms; tests/tools/test_mpi.sh runs
 * the same under mpirun.
 */
#include <math.h>
#include <string.h>

#include "distill/ddp.h"
#include "distill/distill_loss.h"
#include "distill/kernels.h"
#include "tests/util/encoder_fixture.h"
#include "testutil.h"

enum { B = 3, T = 16, V = 20 };

/* rows of 16, 9 and 5 tokens; labels and targets per row */
static int32_t ids[B * T], types[B * T], mask[B * T];
static const int32_t labels[B] = {1, 0, 1};
static const float targets[B] = {0.5f, -1.0f, 2.0f};

static void batch_fill(void)
{
    static const size_t len[B] = {16, 9, 5};
    for (size_t r = 0; r < B; r++)
        for (size_t t = 0; t < T; t++) {
            size_t i = r * T + t;
            mask[i] = t < len[r];
            ids[i] = mask[i] ? (int32_t)(1 + (r * 7 + t * 3) % (V - 1)) : 0;
            types[i] = mask[i] && t >= len[r] / 2;
        }
}

/* ---- every gradient float reported once ----------------------------------- */

typedef struct seen {
    unsigned char *count;
    size_t n;
    int order_bad;
} seen;

static void seen_fn(void *user, size_t off, size_t n)
{
    seen *s = user;
    for (size_t i = off; i < off + n && i < s->n; i++)
        s->count[i]++;
    if (off + n > s->n)
        s->order_bad = 1;
}

static void check_coverage(const char *what, const ir_encoder_config *c)
{
    ir_diag d;
    ir_diag_init(&d);
    train_params *p;
    train_acts *a, *da;
    CHECK_MSG(train_params_new(c, &p, &d) == IR_OK, "%s: %s", what, d.msg);
    train_params_init_random(p, 5, 0.1f);
    CHECK(train_acts_new(c, B, T, &a, &d) == IR_OK);
    CHECK(train_acts_new(c, B, T, &da, &d) == IR_OK);
    CHECK(train_forward(p, a, ids, types, mask, &d) == IR_OK);
    train_acts_zero(da);
    for (size_t i = 0; i < (size_t)B * (size_t)c->labels; i++)
        da->logits[i] = 0.1f;
    seen s = {calloc(p->n, 1), p->n, 0};
    train_grad_ready r = {seen_fn, &s};
    train_params_zero_grad(p);
    train_backward_ready(p, a, da, ids, types, mask, &r);
    size_t once = 0;
    for (size_t i = 0; i < p->n; i++)
        once += s.count[i] == 1;
    CHECK_MSG(once == p->n && !s.order_bad, "%s: %zu of %zu floats reported "
              "exactly once", what, once, p->n);
    /* the bucketed sum on one process: buckets of 7 floats still cover it */
    train_ddp g;
    train_ddp_begin(&g, NULL, p, 7);
    train_grad_ready gr = train_ddp_ready(&g);
    train_acts_zero(da);
    for (size_t i = 0; i < (size_t)B * (size_t)c->labels; i++)
        da->logits[i] = 0.1f;
    train_params_zero_grad(p);
    train_backward_ready(p, a, da, ids, types, mask, &gr);
    CHECK_MSG(train_ddp_finish(&g, NULL, &d) == IR_OK && g.buckets > 1,
              "%s: %s (%zu buckets)", what, d.msg, g.buckets);
    printf(" %s: %zu gradient floats, each reported once; %zu buckets of <= 7\n",
           what, p->n, g.buckets);
    free(s.count);
    train_acts_free(a);
    train_acts_free(da);
    train_params_free(p);
}

static void test_coverage(void)
{
    ir_encoder_config c;
    enc_small_config(&c, 8, 3, 2, V, T + 2, 2);
    check_coverage("plain", &c);
    ir_diag d;
    ir_diag_init(&d);
    enc_small_config(&c, 8, 3, 2, V, T + 2, 2);
    CHECK(ir_encoder_config_share(&c, IR_ENC_SHARE_ALL, 0, &d) == IR_OK);
    check_coverage("ALBERT sharing", &c);
    enc_small_config(&c, 8, 2, 2, V, T + 2, 3);
    c.rel_buckets = 8;
    c.rel_max_distance = 16;
    c.rel_bidirectional = true;
    check_coverage("relative bias", &c);
    enc_small_config(&c, 8, 2, 2, V, T + 2, 2);
    c.embed = 4;
    c.embed_kind = IR_ENC_EMBED_PROJECT_AFTER_LN;
    check_coverage("project_after_ln", &c);
}

/* ---- shares sum to the whole batch ---------------------------------------- */

/* The summed losses and gradients (params then extra) of the batch split
 * into `shares`. */
static double sum_shares(train_loss_fn fn, void *user, train_params *p,
                         train_extra *x, const train_batch *b, int shares,
                         float *g)
{
    ir_diag d;
    ir_diag_init(&d);
    size_t nx = x ? x->n : 0;
    memset(g, 0, (p->n + nx) * sizeof(float));
    double loss = 0.0;
    for (int r = 0; r < shares; r++) {
        train_batch lb;
        train_batch_split(b, r, shares, &lb);
        if (lb.B == 0)
            continue;
        train_acts *a, *da;
        CHECK(train_acts_new(&p->cfg, lb.B, lb.T, &a, &d) == IR_OK);
        CHECK(train_acts_new(&p->cfg, lb.B, lb.T, &da, &d) == IR_OK);
        train_params_zero_grad(p);
        if (x)
            memset(x->grads, 0, nx * sizeof(float));
        train_acts_zero(da);
        train_loss_parts parts;
        CHECK_MSG(fn(user, p, a, da, &lb, &parts, &d) == IR_OK, "%s", d.msg);
        train_backward(p, a, da, lb.ids, lb.types, lb.mask);
        for (size_t i = 0; i < p->n; i++)
            g[i] += p->grads[i];
        for (size_t i = 0; i < nx; i++)
            g[p->n + i] += x->grads[i];
        loss += parts.total;
        train_acts_free(a);
        train_acts_free(da);
    }
    return loss;
}

static void check_shares(const char *what, train_loss_fn fn, void *user,
                         train_params *p, train_extra *x, const train_batch *b)
{
    size_t n = p->n + (x ? x->n : 0);
    float *whole = calloc(n, sizeof(float)), *g = calloc(n, sizeof(float));
    double l1 = sum_shares(fn, user, p, x, b, 1, whole);
    double top = 0.0;
    for (size_t i = 0; i < n; i++)
        top = fmax(top, fabs(whole[i]));
    /* one share: the whole batch itself, the same bits as before the
     * shares existed */
    train_batch plain = *b;
    double l0 = sum_shares(fn, user, p, x, &plain, 1, g);
    CHECK_MSG(l0 == l1 && memcmp(g, whole, n * sizeof(float)) == 0,
              "%s: one share is not the whole batch bit for bit", what);
    for (int shares = 2; shares <= 4; shares++) {
        double lk = sum_shares(fn, user, p, x, b, shares, g);
        double worst = 0.0;
        for (size_t i = 0; i < n; i++)
            worst = fmax(worst, fabs(g[i] - whole[i]));
        double rel = worst / fmax(top, 1e-30);
        double lrel = fabs(lk - l1) / fmax(fabs(l1), 1e-30);
        printf(" %s, %d shares: loss %.6g vs %.6g (rel %.2g), gradient "
               "max diff %.2g of max %.3g (rel %.2g)\n", what, shares, lk, l1,
               lrel, worst, top, rel);
        CHECK_MSG(rel <= 1e-5 && lrel <= 1e-5, "%s, %d shares: gradient rel "
                  "%.3g, loss rel %.3g (tolerance 1e-5)", what, shares, rel, lrel);
    }
    free(whole);
    free(g);
}

static void test_finetune_shares(void)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config c;
    train_params *p;
    train_batch b = {.B = B, .T = T, .ids = ids, .types = types, .mask = mask,
                     .labels = labels};
    enc_small_config(&c, 8, 2, 2, V, T + 2, 2);
    CHECK(train_params_new(&c, &p, &d) == IR_OK);
    train_params_init_random(p, 11, 0.3f);
    check_shares("finetune (classes)", train_loss_finetune, NULL, p, NULL, &b);
    train_params_free(p);
    enc_small_config(&c, 8, 2, 2, V, T + 2, 1);
    c.head = IR_ENC_HEAD_REGRESSION;
    CHECK(train_params_new(&c, &p, &d) == IR_OK);
    train_params_init_random(p, 12, 0.3f);
    b.labels = NULL;
    b.targets = targets;
    check_shares("finetune (regression)", train_loss_finetune, NULL, p, NULL, &b);
    train_params_free(p);
}

static void test_distill_shares(void)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config tc, sc;
    enc_small_config(&tc, 8, 3, 4, V, T + 2, 2);
    enc_small_config(&sc, 6, 2, 2, V, T + 2, 2);
    ir_encoder *te;
    CHECK(ir_encoder_new(&tc, &te, &d) == IR_OK);
    ir_encoder_init_opts io;
    ir_encoder_init_opts_default(&io);
    io.std = 0.3f; io.bias_std = 0.1f; io.ln_std = 0.1f; io.seed = 3;
    ir_encoder_init_random(te, &io);
    teacher *t;
    CHECK(teacher_new(te, TEACHER_ENGINE_TRAIN, NULL, NULL, &t, &d) == IR_OK);
    distill_loss_opts o;
    distill_loss_opts_default(&o, 2, 3);
    o.temperature = 2.0f;
    distill_loss *L;
    CHECK(distill_loss_new(&sc, t, &o, &L, &d) == IR_OK);
    distill_loss_init_proj(L, NULL, 9);
    train_params *p;
    CHECK(train_params_new(&sc, &p, &d) == IR_OK);
    train_params_init_random(p, 4, 0.3f);
    train_batch b = {.B = B, .T = T, .ids = ids, .types = types, .mask = mask,
                     .labels = labels};
    static const struct { distill_stage s; const char *name; } stages[] = {
        {DISTILL_STAGE_INTERMEDIATE, "distill (intermediate)"},
        {DISTILL_STAGE_PREDICTION, "distill (prediction)"},
        {DISTILL_STAGE_ALL, "distill (all)"},
    };
    for (size_t k = 0; k < 3; k++) {
        distill_loss_set_stage(L, stages[k].s);
        check_shares(stages[k].name, distill_loss_fn, L, p,
                     distill_loss_extra(L), &b);
    }
    train_params_free(p);
    distill_loss_free(L);
    teacher_free(t);
    ir_encoder_free(te);
}

int main(void)
{
    batch_fill();
    test_coverage();
    test_finetune_shares();
    test_distill_shares();
    return test_finish("test_ddp");
}

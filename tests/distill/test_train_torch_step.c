/* test_train_torch_step.c — one training step of the C trainer against
 * PyTorch numbers. tests/distill/test_train_step_torch.py writes a "DSTEP" v3
 * file (format in that script: config, batch, teacher tensors, weights,
 * expected losses and gradients computed in float64) and runs this program
 * with DISTILC_TORCH_STEP pointing at it. Run alone (no variable) it
 * prints "skipped" and passes.
 *
 * Tolerance: per tensor, max |c - torch| / max|torch| < 1e-4 (the C step
 * runs in float32, torch in float64); each loss within 1e-4 relative.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill/losses.h"
#include "distill/model.h"
#include "testutil.h"

typedef struct step_file {
    ir_encoder_config c;
    int64_t B, T, CT, NHT;
    float temp;
    int32_t *ids, *types, *mask, *labels;
    float *t_hidden, *t_scores, *t_logits, *wh;
    uint64_t n;
    float *params, *grads, *dwh;
    double losses[4];
} step_file;

static int rd(FILE *f, void *p, size_t size, size_t n)
{
    return fread(p, size, n, f) == n;
}

static void *rd_alloc(FILE *f, size_t size, size_t n, int *ok)
{
    void *p = malloc(size * (n ? n : 1));
    *ok &= p && rd(f, p, size, n);
    return p;
}

static int step_read(const char *path, step_file *s)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return 0;
    }
    char magic[8];
    uint32_t version = 0;
    int ok = rd(f, magic, 1, 8) && rd(f, &version, 4, 1);
    if (!ok || memcmp(magic, "DSTEP\0\0\0", 8) != 0 || version != 3) {
        fprintf(stderr, "%s: not a DSTEP v3 file (version %u); regenerate it with "
                "tests/distill/test_train_step_torch.py from this tree\n", path, version);
        fclose(f);
        return 0;
    }
    ir_encoder_config *c = &s->c;
    memset(c, 0, sizeof *c);
    int64_t v[13];
    ok &= rd(f, v, 8, 13);
    c->layers = v[0]; c->hidden = v[1]; c->heads = v[2]; c->ffn = v[3]; c->vocab = v[4];
    c->max_positions = v[5]; c->type_vocab = v[6]; c->embed = v[7]; c->labels = v[8];
    c->n_attn_groups = v[9]; c->n_ffn_groups = v[10];
    c->activation = ir_act_from_ffn_code(v[11]); /* 0 gelu, 1 gelu_tanh */
    c->embed_kind = (ir_enc_embed)v[12];         /* 0 project_word, 1 after LN */
    if (!ok || !ir_act_is_ffn(c->activation) || (uint64_t)v[12] >= IR_ENC_EMBED_COUNT ||
        c->layers < 1 || c->layers > IR_ENCODER_MAX_LAYERS) {
        fclose(f);
        return 0;
    }
    ok &= rd(f, c->attn_group, 8, (size_t)c->layers) && rd(f, c->ffn_group, 8, (size_t)c->layers);
    int64_t dims[4];
    ok &= rd(f, dims, 8, 4);
    s->B = dims[0]; s->T = dims[1]; s->CT = dims[2]; s->NHT = dims[3];
    ok &= rd(f, &c->ln_eps, 4, 1) && rd(f, &s->temp, 4, 1);
    size_t BT = (size_t)(s->B * s->T), C = (size_t)c->hidden;
    if (!ok || s->B < 1 || s->T < 1 || s->B * s->T > 4096 || s->CT < 1 || s->NHT < 1) {
        fclose(f);
        return 0;
    }
    s->ids = rd_alloc(f, 4, BT, &ok);
    s->types = rd_alloc(f, 4, BT, &ok);
    s->mask = rd_alloc(f, 4, BT, &ok);
    s->labels = rd_alloc(f, 4, (size_t)s->B, &ok);
    s->t_hidden = rd_alloc(f, 4, BT * (size_t)s->CT, &ok);
    s->t_scores = rd_alloc(f, 4, (size_t)(s->B * s->NHT) * (size_t)(s->T * s->T), &ok);
    s->t_logits = rd_alloc(f, 4, (size_t)(s->B * c->labels), &ok);
    s->wh = rd_alloc(f, 4, C * (size_t)s->CT, &ok);
    ok &= rd(f, &s->n, 8, 1) && s->n < (1u << 24);
    if (ok) {
        s->params = rd_alloc(f, 4, s->n, &ok);
        ok &= rd(f, s->losses, 8, 4);
        s->grads = rd_alloc(f, 4, s->n, &ok);
        s->dwh = rd_alloc(f, 4, C * (size_t)s->CT, &ok);
    }
    fclose(f);
    return ok;
}

/* max |a - b| / max |b| over one tensor */
static double tensor_err(const float *a, const float *b, size_t n)
{
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        md = fmax(md, fabs((double)a[i] - b[i]));
        mb = fmax(mb, fabs((double)b[i]));
    }
    return md / fmax(mb, 1e-12);
}

int main(void)
{
    const char *path = getenv("DISTILC_TORCH_STEP");
    if (!path || !*path) {
        printf("skipped: DISTILC_TORCH_STEP unset (run through "
               "tests/distill/test_train_step_torch.py)\n");
        return test_finish("test_train_torch_step");
    }
    step_file s = {0};
    CHECK_MSG(step_read(path, &s), "could not read %s", path);
    if (test_failures)
        return test_finish("test_train_torch_step");
    ir_diag d;
    ir_diag_init(&d);
    train_params *p = NULL;
    train_acts *a = NULL, *da = NULL;
    size_t B = (size_t)s.B, T = (size_t)s.T, CT = (size_t)s.CT, NHT = (size_t)s.NHT;
    size_t C = (size_t)s.c.hidden, NH = (size_t)s.c.heads, NL = (size_t)s.c.labels;
    size_t L = (size_t)s.c.layers;
    CHECK_MSG(train_params_new(&s.c, &p, &d) == IR_OK, "%s", d.msg);
    CHECK_MSG(train_acts_new(&s.c, B, T, &a, &d) == IR_OK, "%s", d.msg);
    CHECK_MSG(train_acts_new(&s.c, B, T, &da, &d) == IR_OK, "%s", d.msg);
    if (test_failures)
        return test_finish("test_train_torch_step");
    CHECK_MSG(p->n == s.n, "parameter count %zu, file has %llu", p->n,
              (unsigned long long)s.n);
    if (p->n == s.n) {
        memcpy(p->params, s.params, p->n * sizeof(float));
        float *probs = calloc(B * NL, 4), *sp = calloc(B * NL, 4), *tp = calloc(B * NL, 4);
        float *proj = calloc(B * T * CT, 4), *dproj = calloc(B * T * CT, 4);
        float *dwh = calloc(C * CT, 4);
        double l[4];
        CHECK(train_forward(p, a, s.ids, s.types, s.mask, &d) == IR_OK);
        CHECK(train_ce_forward(&l[0], probs, a->logits, s.labels, B, NL, &d) == IR_OK);
        CHECK(train_soft_ce_forward(&l[1], sp, tp, a->logits, s.t_logits, B, NL, s.temp,
                                    &d) == IR_OK);
        CHECK(train_hidden_mse_forward(&l[2], proj, a->hidden[L], s.t_hidden, s.wh, s.mask,
                                       B, T, C, CT, &d) == IR_OK);
        CHECK(train_attn_mse_forward(&l[3], a->scores[0], s.t_scores, s.mask, B, NH, NHT, T,
                                     &d) == IR_OK);
        static const char *names[4] = {"cross-entropy", "soft cross-entropy",
                                       "hidden MSE", "attention MSE"};
        for (int k = 0; k < 4; k++) {
            double e = fabs(l[k] - s.losses[k]) / fmax(fabs(s.losses[k]), 1e-12);
            printf("  loss %-20s C %.8f torch %.8f rel err %.2e\n", names[k], l[k],
                   s.losses[k], e);
            CHECK_MSG(e < 1e-4, "%s loss differs", names[k]);
        }
        train_params_zero_grad(p);
        train_acts_zero(da);
        train_ce_backward(da->logits, probs, s.labels, B, NL, 1.0f);
        train_soft_ce_backward(da->logits, sp, tp, B, NL, s.temp, 1.0f);
        train_hidden_mse_backward(da->hidden[L], dwh, dproj, proj, a->hidden[L], s.t_hidden,
                                  s.wh, s.mask, B, T, C, CT, 1.0f);
        train_attn_mse_backward(da->scores[0], a->scores[0], s.t_scores, s.mask, B, NH, NHT,
                                T, 1.0f);
        train_backward(p, a, da, s.ids, s.types, s.mask);
        double worst = 0;
        const char *worst_name = "";
        for (size_t i = 0; i < p->n_tensors; i++) {
            const train_tensor *t = &p->tensors[i];
            double e = tensor_err(p->grads + t->offset, s.grads + t->offset, t->numel);
            CHECK_MSG(e < 1e-4, "gradient of %s: relative error %.3e", t->name, e);
            if (e > worst) {
                worst = e;
                worst_name = t->name;
            }
        }
        double ewh = tensor_err(dwh, s.dwh, C * CT);
        CHECK_MSG(ewh < 1e-4, "gradient of W_h: relative error %.3e", ewh);
        printf("  gradients: %zu tensors + W_h, worst rel err %.2e (%s), W_h %.2e\n",
               p->n_tensors, worst, worst_name, ewh);
        free(probs); free(sp); free(tp); free(proj); free(dproj); free(dwh);
    }
    train_acts_free(a);
    train_acts_free(da);
    train_params_free(p);
    free(s.ids); free(s.types); free(s.mask); free(s.labels); free(s.t_hidden);
    free(s.t_scores); free(s.t_logits); free(s.wh); free(s.params); free(s.grads); free(s.dwh);
    return test_finish("test_train_torch_step");
}

/* test_supernet.c — the weight-sharing supernet: the largest candidate is
 * the supernet itself, a smaller one reads exactly the first
 * layers/dims/neurons (q, k, v sliced separately), gradients go back to
 * the slice they came from (shared groups summed into one supernet layer),
 * misfits are refused naming the dimension, the sandwich holds the largest
 * and smallest candidates, and a few sandwich steps of supernet training
 * lower the loss of both extremes on a toy batch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill/losses.h"
#include "distill/model.h"
#include "search/supernet.h"
#include "testutil.h"

static const char *space_xml =
    "<space version=\"1\">\n"
    "  <base vocab=\"50\" max-positions=\"16\" type-vocab=\"2\" labels=\"2\"/>\n"
    "  <choices>\n"
    "    <layers>1 2</layers>\n"
    "    <hidden>32 64</hidden>\n"
    "    <heads>2 4</heads>\n"
    "    <ffn>64 128</ffn>\n"
    "    <embed>0 16</embed>\n"
    "    <sharing>none all</sharing>\n"
    "  </choices>\n"
    "</space>\n";

static float *at(train_params *p, const char *name)
{
    const train_tensor *t = train_params_find(p, name);
    return t ? p->params + t->offset : NULL;
}

static ir_encoder_config shape(int64_t L, int64_t H, int64_t A, int64_t F,
                               ir_enc_share sh)
{
    ir_encoder_config c;
    ir_encoder_config_init(&c);
    c.vocab = 50, c.max_positions = 16, c.layers = L, c.hidden = H;
    c.heads = A, c.ffn = F;
    ir_encoder_config_share(&c, sh, 0, NULL);
    return c;
}

/* Mean CE of config c (sliced from sn) on the toy batch; with train, the
 * gradients are added into the supernet. */
static double step_loss(search_supernet *sn, const ir_encoder_config *c,
                        const int32_t *ids, const int32_t *labels, size_t B,
                        size_t T, bool train)
{
    ir_diag d;
    train_params *p;
    train_acts *a, *da;
    if (search_supernet_extract(sn, c, &p, &d) != IR_OK)
        return NAN;
    train_acts_new(c, B, T, &a, &d);
    train_acts_new(c, B, T, &da, &d);
    double loss = NAN;
    float probs[16 * 2];
    if (train_forward(p, a, ids, NULL, NULL, &d) == IR_OK &&
        train_ce_forward(&loss, probs, a->logits, labels, B, 2, &d) == IR_OK && train) {
        train_acts_zero(da);
        train_ce_backward(da->logits, probs, labels, B, 2, 1.0f);
        train_backward(p, a, da, ids, NULL, NULL);
        search_supernet_add_grads(sn, p, &d);
    }
    train_acts_free(a);
    train_acts_free(da);
    train_params_free(p);
    return loss;
}

int main(void)
{
    ir_diag d;
    ir_diag_init(&d);
    search_space sp;
    ir_status s = search_space_load_memory(space_xml, strlen(space_xml), "sn.xml", &sp, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    search_supernet *sn;
    s = search_supernet_new(&sp, 7, &sn, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    if (s != IR_OK)
        return test_finish("test_supernet");
    const ir_encoder_config *mc = search_supernet_config(sn);
    CHECK(mc->layers == 2 && mc->hidden == 64 && mc->ffn == 128 && mc->heads == 4 &&
          mc->embed == 0);
    train_params *sup = search_supernet_params(sn);

    /* the largest candidate is the supernet, bit for bit */
    ir_encoder_config big = shape(2, 64, 4, 128, IR_ENC_SHARE_NONE);
    train_params *p;
    CHECK(search_supernet_extract(sn, &big, &p, &d) == IR_OK);
    CHECK(p->n == sup->n && memcmp(p->params, sup->params, p->n * sizeof(float)) == 0);
    train_params_free(p);

    /* a slice: first 32 dims, 64 neurons; its one layer is the supernet's
     * layer 2 (group1), the layer a 1-layer student of a 2-layer teacher
     * learns from (uniform map); q, k, v sliced separately */
    ir_encoder_config small = shape(1, 32, 2, 64, IR_ENC_SHARE_NONE);
    CHECK(search_supernet_extract(sn, &small, &p, &d) == IR_OK);
    int bad = 0;
    float *sq = at(p, "group0.attn.qkv.weight"), *bq = at(sup, "group1.attn.qkv.weight");
    for (int r = 0; r < 32; r++)
        for (int part = 0; part < 3; part++)
            for (int c = 0; c < 32; c++)
                bad += sq[r * 96 + part * 32 + c] != bq[r * 192 + part * 64 + c];
    float *sqb = at(p, "group0.attn.qkv.bias"), *bqb = at(sup, "group1.attn.qkv.bias");
    sup->params[(size_t)(bqb - sup->params) + 64] = 0.5f; /* k bias, first entry */
    train_params_free(p);
    CHECK(search_supernet_extract(sn, &small, &p, &d) == IR_OK);
    sqb = at(p, "group0.attn.qkv.bias");
    CHECK(sqb[32] == 0.5f); /* k starts at 32 in the slice, 64 in the supernet */
    float *si = at(p, "group0.ffn.in.weight"), *bi = at(sup, "group1.ffn.in.weight");
    for (int r = 0; r < 32; r++)
        for (int c = 0; c < 64; c++)
            bad += si[r * 64 + c] != bi[r * 128 + c];
    float *so = at(p, "group0.ffn.out.weight"), *bo = at(sup, "group1.ffn.out.weight");
    for (int r = 0; r < 64; r++)
        for (int c = 0; c < 32; c++)
            bad += so[r * 32 + c] != bo[r * 64 + c];
    float *sw = at(p, "embeddings.word"), *bw = at(sup, "embeddings.word");
    for (int r = 0; r < 50; r++)
        for (int c = 0; c < 32; c++)
            bad += sw[r * 32 + c] != bw[r * 64 + c];
    float *sh = at(p, "head.weight"), *bh = at(sup, "head.weight");
    for (int r = 0; r < 32; r++)
        for (int c = 0; c < 2; c++)
            bad += sh[r * 2 + c] != bh[r * 2 + c];
    CHECK_MSG(bad == 0, "%d sliced values differ from the supernet's", bad);

    /* the same slice as an encoder */
    ir_encoder *enc;
    CHECK(search_supernet_encoder(sn, &small, &enc, &d) == IR_OK);
    if (enc) {
        ir_tensor *tw = ir_encoder_find(enc, "group0.ffn.in.weight");
        CHECK(tw && ir_encoder_check(enc, &d) == IR_OK);
        CHECK(tw && memcmp(tw->data, si, 32 * 64 * sizeof(float)) == 0);
        ir_encoder_free(enc);
    }

    /* gradients go back where they came from */
    train_params_zero_grad(sup);
    for (size_t i = 0; i < p->n; i++)
        p->grads[i] = 1.0f;
    CHECK(search_supernet_add_grads(sn, p, &d) == IR_OK);
    size_t nz = 0;
    double sum = 0;
    for (size_t i = 0; i < sup->n; i++) {
        nz += sup->grads[i] != 0;
        sum += sup->grads[i];
    }
    CHECK(nz == p->n && sum == (double)p->n);
    const train_tensor *tq = train_params_find(sup, "group1.attn.qkv.weight");
    CHECK(sup->grads[tq->offset + 64] == 1.0f && sup->grads[tq->offset + 32] == 0.0f);
    train_params_free(p);
    /* a shared candidate: both layers' gradients land in supernet layer 0 */
    ir_encoder_config shared = shape(2, 32, 2, 64, IR_ENC_SHARE_ALL);
    CHECK(search_supernet_extract(sn, &shared, &p, &d) == IR_OK);
    train_params_zero_grad(sup);
    for (size_t i = 0; i < p->n; i++)
        p->grads[i] = 1.0f;
    CHECK(search_supernet_add_grads(sn, p, &d) == IR_OK);
    const train_tensor *t1 = train_params_find(sup, "group1.ffn.in.weight");
    double s1 = 0;
    for (size_t i = 0; i < t1->numel; i++)
        s1 += sup->grads[t1->offset + i];
    CHECK(s1 == 0);
    train_params_free(p);

    /* misfits */
    ir_encoder_config wide = shape(1, 128, 4, 64, IR_ENC_SHARE_NONE);
    CHECK(search_supernet_extract(sn, &wide, &p, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "hidden = 128") != NULL);
    ir_encoder_config fact = small;
    fact.embed = 16;
    CHECK(search_supernet_extract(sn, &fact, &p, &d) == IR_ERR_UNSUPPORTED);
    CHECK(strstr(d.msg, "embed") != NULL);
    ir_encoder_config voc = small;
    voc.vocab = 51;
    CHECK(search_supernet_check(sn, &voc, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "vocab") != NULL);

    /* the sandwich: largest and smallest first */
    search_rng r;
    search_rng_seed(&r, 1);
    search_genome sw_g[4];
    size_t n = search_supernet_sandwich(sn, &sp, &r, 2, NULL, sw_g);
    CHECK(n == 4);
    ir_encoder_config c0, c1;
    search_space_decode(&sp, &sw_g[0], &c0, &d);
    search_space_decode(&sp, &sw_g[1], &c1, &d);
    CHECK(c0.layers == 2 && c0.hidden == 64 && c0.ffn == 128 && c0.embed == 0 &&
          c0.n_attn_groups == 2);
    CHECK(ir_encoder_config_param_count(&c1) < ir_encoder_config_param_count(&c0));
    CHECK(c1.hidden == 32 && c1.ffn == 64 && c1.embed == 0);
    /* the walk: each random genome differs from the previous step's in
     * exactly one choice */
    search_genome next[4];
    CHECK(search_supernet_sandwich(sn, &sp, &r, 2, sw_g, next) == 4);
    for (int k = 2; k < 4; k++) {
        int diff = 0;
        for (int i = 0; i < SEARCH_GENE_COUNT; i++)
            diff += next[k].g[i] != sw_g[k].g[i];
        CHECK_MSG(diff == 1, "random genome %d changed %d choices", k, diff);
    }

    /* sandwich training lowers both extremes' loss on a toy task:
     * label = whether token 1 appears in the sequence */
    enum { B = 8, T = 6 };
    int32_t ids[B * T], labels[B];
    for (int b = 0; b < B; b++) {
        labels[b] = b % 2;
        for (int t = 0; t < T; t++)
            ids[b * T + t] = 2 + (b * 7 + t * 3) % 40;
        ids[b * T + 0] = 0;
        if (labels[b])
            ids[b * T + 3] = 1;
    }
    double l0 = step_loss(sn, &c0, ids, labels, B, T, false);
    double l1 = step_loss(sn, &c1, ids, labels, B, T, false);
    train_adamw opt;
    train_adamw_default(&opt);
    opt.lr = 3e-3f;
    for (int step = 1; step <= 15; step++) {
        train_params_zero_grad(sup);
        n = search_supernet_sandwich(sn, &sp, &r, 1, NULL, sw_g);
        for (size_t k = 0; k < n; k++) {
            ir_encoder_config c;
            search_space_decode(&sp, &sw_g[k], &c, &d);
            step_loss(sn, &c, ids, labels, B, T, true);
        }
        train_adamw_update(sup, &opt, step);
    }
    double l0b = step_loss(sn, &c0, ids, labels, B, T, false);
    double l1b = step_loss(sn, &c1, ids, labels, B, T, false);
    printf("sandwich training: largest %.4f -> %.4f, smallest %.4f -> %.4f\n", l0, l0b,
           l1, l1b);
    CHECK(isfinite(l0) && isfinite(l1) && l0b < l0 && l1b < l1);
    search_supernet_free(sn);
    return test_finish("test_supernet");
}

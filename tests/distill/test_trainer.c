/* test_trainer.c — the training loop and its pieces on a tiny encoder
 * (2 layers, hidden 16, 2 heads, FFN 32, vocab 40) and synthetic data:
 *  - the GEMM helper (oneDNN and OpenBLAS through backend/gemm.h) against
 *    the reference loop: forward logits and every gradient, relative error
 *    < 1e-4 of the largest magnitude;
 *  - the schedule against Hugging Face's linear warmup/decay formula;
 *  - data: deterministic order per (seed, epoch), batch width rounding,
 *    corpus files (pairs, blank lines, a bad line);
 *  - the loop: the loss falls on a learnable task (label = whether token 5
 *    occurs), dev accuracy > 0.9, keep-best, extra parameters stepped,
 *    NaN stops with a message naming the step, bad options refused;
 *  - dev evaluation's mean loss equals the batch loss of the same examples;
 *  - train_params <-> ir_encoder, and the trained encoder lowered to ONNX
 *    graph gives the trainer's logits in the reference interpreter (< 1e-4);
 *  - the SVG plot is written.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/gemm.h"
#include "distill/data.h"
#include "distill/kernels.h"
#include "distill/params.h"
#include "distill/plot_svg.h"
#include "distill/schedule.h"
#include "distill/trainer.h"
#include "ir/encoder.h"
#include "ir/interp.h"
#include "testutil.h"
#include "train_synth.h"

static void tiny_config(ir_encoder_config *c, int64_t labels)
{
    ir_encoder_config_init(c);
    c->hidden = 16; c->layers = 2; c->heads = 2; c->ffn = 32; c->vocab = 40;
    c->max_positions = 32; c->type_vocab = 2; c->labels = labels;
    c->ln_eps = 1e-12f;
    ir_diag d;
    ir_encoder_config_share(c, IR_ENC_SHARE_NONE, 0, &d);
}

/* The tiny encoder with `labels` outputs and random weights (normal, std) */
static train_params *tiny_params(int64_t labels, uint64_t seed, float std)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config c;
    tiny_config(&c, labels);
    train_params *p = NULL;
    CHECK_MSG(train_params_new(&c, &p, &d) == IR_OK, "%s", d.msg);
    if (p)
        train_params_init_random(p, seed, std);
    return p;
}

static double max_abs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

/* forward + backward of the fine-tuning loss with p->gemm as set */
static void grads_of(train_params *p, const train_data *td, float *logits)
{
    ir_diag d;
    ir_diag_init(&d);
    size_t B = 4, idx[4] = {0, 1, 2, 3};
    train_batch_buf buf = {0};
    train_batch b;
    CHECK(train_data_batch(td, idx, B, &buf, &b, &d) == IR_OK);
    train_acts *a, *da;
    CHECK(train_acts_new(&p->cfg, B, b.T, &a, &d) == IR_OK);
    CHECK(train_acts_new(&p->cfg, B, b.T, &da, &d) == IR_OK);
    train_params_zero_grad(p);
    train_loss_parts lp;
    CHECK(train_loss_finetune(NULL, p, a, da, &b, &lp, &d) == IR_OK);
    train_backward(p, a, da, b.ids, b.types, b.mask);
    memcpy(logits, a->logits, B * 2 * sizeof(float));
    train_acts_free(a);
    train_acts_free(da);
    train_batch_buf_free(&buf);
}

static void test_gemm_vs_reference(void)
{
    ir_diag d;
    ir_diag_init(&d);
    train_params *p = tiny_params(2, 7, 0.2f);
    train_data td;
    train_synth_data(&td, 8, 24, 3);
    float ref_logits[8], fast_logits[8];
    float *ref = malloc(p->n * sizeof(float));
    grads_of(p, &td, ref_logits);
    memcpy(ref, p->grads, p->n * sizeof(float));
    double scale = max_abs(ref, p->n);
    const gemm_impl impls[] = {GEMM_ONEDNN, GEMM_BLAS};
    for (size_t k = 0; k < 2; k++) {
        gemm_ctx *g;
        CHECK(gemm_ctx_create(impls[k], &g, &d) == IR_OK);
        p->gemm = g;
        grads_of(p, &td, fast_logits);
        double worst = 0, worst_l = 0;
        for (size_t i = 0; i < p->n; i++)
            worst = fmax(worst, fabs(p->grads[i] - ref[i]));
        for (size_t i = 0; i < 8; i++)
            worst_l = fmax(worst_l, fabs(fast_logits[i] - ref_logits[i]));
        printf("gemm %s vs reference: worst grad diff %.3g (of max %.3g), "
               "logits %.3g\n", gemm_impl_name(impls[k]), worst, scale, worst_l);
        CHECK_MSG(worst <= 1e-4 * scale, "%s grads %g", gemm_impl_name(impls[k]), worst);
        CHECK_MSG(worst_l <= 1e-4, "%s logits %g", gemm_impl_name(impls[k]), worst_l);
        p->gemm = NULL;
        gemm_ctx_free(g);
    }
    free(ref);
    train_data_free(&td);
    train_params_free(p);
}

/* train_dev_eval's last_loss is the mean cross-entropy of the gold labels:
 * the fine-tuning loss of the same examples in one batch (dev evaluation
 * sorts them by length and batches them its own way), within 1e-5. */
static void test_dev_loss(void)
{
    ir_diag d;
    ir_diag_init(&d);
    train_params *p = tiny_params(2, 9, 0.5f);
    train_data td;
    train_synth_data(&td, 4, 24, 5);
    train_dev_set ds = {.data = &td, .kind = METRIC_KIND_ACC, .batch = 3};
    double acc;
    CHECK_MSG(train_dev_eval(&ds, p, &acc, &d) == IR_OK, "%s", d.msg);
    float logits[8];
    grads_of(p, &td, logits); /* the loss of examples 0-3 in one batch */
    double ce = 0;
    for (size_t k = 0; k < 4; k++) {
        double m = fmax(logits[2 * k], logits[2 * k + 1]);
        double lse = m + log(exp(logits[2 * k] - m) + exp(logits[2 * k + 1] - m));
        ce += lse - logits[2 * k + td.labels[k]];
    }
    ce /= 4;
    printf("dev loss %.6f, by hand %.6f, accuracy %.2f\n", ds.last_loss, ce, acc);
    CHECK_MSG(fabs(ds.last_loss - ce) <= 1e-5 * fmax(1, ce), "dev loss %g vs %g",
              ds.last_loss, ce);
    CHECK(ce > 0);
    train_data_free(&td);
    train_params_free(p);
}

static void test_schedule(void)
{
    train_schedule s;
    train_schedule_init(&s, 1e-3f, 0.1f, 95); /* ceil(9.5) = 10 warmup */
    CHECK(s.warmup_steps == 10);
    CHECK(train_schedule_lr(&s, 0) == 0.0f);
    CHECK(fabsf(train_schedule_lr(&s, 5) - 5e-4f) < 1e-9f);
    CHECK(fabsf(train_schedule_lr(&s, 10) - 1e-3f) < 1e-9f);
    CHECK(fabsf(train_schedule_lr(&s, 52) - 1e-3f * 43.0f / 85.0f) < 1e-9f);
    CHECK(train_schedule_lr(&s, 95) == 0.0f);
    CHECK(train_schedule_lr(&s, 200) == 0.0f);
    train_schedule_init(&s, 1e-3f, 0.0f, 4);
    CHECK(s.warmup_steps == 0 && train_schedule_lr(&s, 0) == 1e-3f);
}

static void test_data(void)
{
    ir_diag d;
    ir_diag_init(&d);
    train_data td;
    train_synth_data(&td, 37, 40, 9);
    size_t p1[37], p2[37], p3[37];
    train_data_order(&td, 5, 0, p1);
    train_data_order(&td, 5, 0, p2);
    train_data_order(&td, 5, 1, p3);
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    CHECK(memcmp(p1, p3, sizeof p1) != 0);
    int seen[37] = {0};
    for (size_t i = 0; i < 37; i++)
        seen[p1[i]]++;
    int all = 1;
    for (size_t i = 0; i < 37; i++)
        all &= seen[i] == 1;
    CHECK_MSG(all, "order is not a permutation");
    /* batch width: longest row rounded up to TRAIN_BATCH_T_STEP, capped */
    train_batch_buf buf = {0};
    train_batch b;
    CHECK(train_data_batch(&td, p1, 5, &buf, &b, &d) == IR_OK);
    uint32_t longest = 0;
    for (size_t i = 0; i < 5; i++)
        longest = td.len[p1[i]] > longest ? td.len[p1[i]] : longest;
    size_t want = (longest + TRAIN_BATCH_T_STEP - 1) / TRAIN_BATCH_T_STEP * TRAIN_BATCH_T_STEP;
    CHECK(b.T == (want > 40 ? 40 : want));
    CHECK(b.B == 5 && b.labels && b.labels[2] == td.labels[p1[2]]);
    CHECK(b.ids[3 * b.T + 1] == td.ids[p1[3] * 40 + 1]);
    train_batch_buf_free(&buf);
    train_data_free(&td);

    /* corpus: one text or a pair per line; blank lines skipped */
    char dir[256], path[300];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    snprintf(path, sizeof path, "%s/corpus.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("hello world\n\nfirst text\tsecond text\r\nlast line", f);
    fclose(f);
    tok_tokenizer *tok;
    const char *vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\nfirst\n"
                        "second\ntext\nlast\nline\n";
    tok_options to = tok_options_default();
    CHECK(tok_load_vocab_text(vocab, strlen(vocab), "v", &to, &tok, &d) == IR_OK);
    CHECK(train_data_from_corpus(path, tok, 16, 0, &td, &d) == IR_OK);
    CHECK(td.n == 3 && !td.labels && td.len[0] == 4 && td.len[1] == 7);
    CHECK(td.ids[0] == 2 && td.ids[1] == 5 && td.ids[3] == 3);
    CHECK(td.types[16 + 5] == 1 && td.types[16 + 2] == 0);
    train_data_free(&td);
    CHECK(train_data_from_corpus(path, tok, 16, 2, &td, &d) == IR_OK && td.n == 2);
    train_data_free(&td);
    f = fopen(path, "w");
    fputs("ok line\na\tb\tc\n", f);
    fclose(f);
    CHECK(train_data_from_corpus(path, tok, 16, 0, &td, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, ":2:") && strstr(d.msg, "tab"), "%s", d.msg);
    snprintf(path, sizeof path, "%s/missing.txt", dir);
    CHECK(train_data_from_corpus(path, tok, 16, 0, &td, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "missing.txt") != NULL);
    tok_free(tok);
}

/* A loss fn wrapping the fine-tuning loss that also trains an extra block:
 * loss += 0.5 * sum (x - 0.1)^2, so x must move from 0 towards 0.1. */
static ir_status loss_with_extra(void *user, const train_params *p, train_acts *a,
                                 train_acts *da, const train_batch *b,
                                 train_loss_parts *out, ir_diag *d)
{
    train_extra *x = user;
    ir_status s = train_loss_finetune(NULL, p, a, da, b, out, d);
    for (size_t i = 0; i < x->n; i++) {
        out->total += 0.5f * (x->params[i] - 0.1f) * (x->params[i] - 0.1f);
        x->grads[i] += x->params[i] - 0.1f;
    }
    return s;
}

static ir_status loss_nan_at_3(void *user, const train_params *p, train_acts *a,
                               train_acts *da, const train_batch *b,
                               train_loss_parts *out, ir_diag *d)
{
    int *calls = user;
    ir_status s = train_loss_finetune(NULL, p, a, da, b, out, d);
    if (++*calls == 3)
        out->pred = out->total = NAN;
    return s;
}

static void test_loop(void)
{
    ir_diag d;
    ir_diag_init(&d);
    train_params *p = tiny_params(2, 1, 0.02f);
    gemm_ctx *g;
    CHECK(gemm_ctx_create(GEMM_ONEDNN, &g, &d) == IR_OK);
    p->gemm = g;
    train_data tr, dev;
    train_synth_data(&tr, 256, 16, 11);
    train_synth_data(&dev, 64, 16, 12);
    float xb[4 * 3] = {0};
    train_extra x = {xb, xb + 3, xb + 6, xb + 9, 3};
    train_dev_set ds = {.data = &dev, .kind = METRIC_KIND_ACC, .batch = 16};
    char dir[256], plot[300];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    snprintf(plot, sizeof plot, "%s/curves.svg", dir);
    train_loop_options o;
    train_loop_options_default(&o);
    o.batch = 16; o.epochs = 6; o.lr = 3e-3f; o.warmup = 0.05f;
    o.eval = train_dev_eval; o.eval_user = &ds; o.eval_every = 16;
    o.extra = &x; o.plot_path = plot;
    train_result r;
    ir_status s = train_loop_run(p, &tr, &o, loss_with_extra, &x, &r, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    CHECK(r.steps == 6 * 16 && r.n_hist == 96 && r.n_dev == 6);
    double first = 0, last = 0;
    for (size_t i = 0; i < 8; i++) {
        first += r.hist[i].loss / 8;
        last += r.hist[r.n_hist - 1 - i].loss / 8;
    }
    printf("loop: loss %.4f -> %.4f, best dev accuracy %.4f at step %lld, "
           "extra %.3f\n", first, last, r.best_dev, (long long)r.best_step, xb[0]);
    CHECK_MSG(last < 0.5 * first, "loss %g -> %g", first, last);
    CHECK_MSG(r.best_dev > 0.9, "dev accuracy %g", r.best_dev);
    CHECK_MSG(fabsf(xb[0] - 0.1f) < 0.03f && xb[0] == xb[2], "extra %g", xb[0]);
    /* keep-best: p holds the best-on-dev weights */
    double m;
    CHECK(train_dev_eval(&ds, p, &m, &d) == IR_OK && m == r.best_dev);
    FILE *f = fopen(plot, "r");
    char head[64] = {0};
    CHECK(f && fread(head, 1, 63, f) > 0 && strstr(head, "<?xml"));
    if (f)
        fclose(f);
    train_result_free(&r);

    /* NaN: stops at the step, says which loss, status FAILED */
    int calls = 0;
    train_loop_options o2;
    train_loop_options_default(&o2);
    o2.batch = 16; o2.steps = 5;
    s = train_loop_run(p, &tr, &o2, loss_nan_at_3, &calls, &r, &d);
    CHECK(s == IR_ERR_FAILED && r.steps == 2);
    CHECK_MSG(strstr(d.msg, "step 3") && strstr(d.msg, "prediction loss"), "%s", d.msg);
    train_result_free(&r);

    /* bad options and data without labels */
    o2.batch = 0;
    CHECK(train_loop_run(p, &tr, &o2, train_loss_finetune, NULL, &r, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "batch") != NULL);
    train_result_free(&r);
    o2.batch = 4; o2.warmup = 1.5f;
    CHECK(train_loop_run(p, &tr, &o2, train_loss_finetune, NULL, &r, &d) == IR_ERR_INPUT);
    train_result_free(&r);
    o2.warmup = 0; o2.resume = true;
    CHECK(train_loop_run(p, &tr, &o2, train_loss_finetune, NULL, &r, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "resume") != NULL);
    train_result_free(&r);
    o2.resume = false;
    free(tr.labels);
    tr.labels = NULL;
    CHECK(train_loop_run(p, &tr, &o2, train_loss_finetune, NULL, &r, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "labels") != NULL, "%s", d.msg);
    train_result_free(&r);

    train_data_free(&tr);
    train_data_free(&dev);
    train_params_free(p);
    gemm_ctx_free(g);
}

/* train_params <-> encoder, and the lowered graph against train_forward */
static void test_encoder_roundtrip(void)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config c;
    tiny_config(&c, 3);
    ir_encoder *e;
    CHECK(ir_encoder_new(&c, &e, &d) == IR_OK);
    ir_encoder_init_opts io;
    ir_encoder_init_opts_default(&io);
    io.std = 0.3f; io.bias_std = 0.1f; io.ln_std = 0.1f; io.seed = 4;
    ir_encoder_init_random(e, &io);
    train_params *p;
    CHECK(train_params_from_encoder(e, &p, &d) == IR_OK);
    const train_tensor *t = train_params_find(p, "group1.ffn.in.bias");
    ir_tensor *et = ir_encoder_find(e, "group1.ffn.in.bias");
    CHECK(t && et && memcmp(p->params + t->offset, et->data, et->nbytes) == 0);
    for (size_t i = 0; i < p->n; i++) /* "train" */
        p->params[i] *= 0.9f;
    CHECK(train_params_to_encoder(p, e, &d) == IR_OK);
    CHECK(((float *)et->data)[1] == p->params[t->offset + 1]);

    enum { B = 2, T = 7 };
    int32_t ids[B * T], mask[B * T], types[B * T];
    ir_tensor *in[3];
    int64_t dims[2] = {B, T};
    for (int k = 0; k < 3; k++)
        in[k] = ir_tensor_new(IR_DT_I64, 2, dims);
    for (int i = 0; i < B * T; i++) {
        ids[i] = (i * 7 + 3) % 40;
        mask[i] = i < T || i % T < 4;
        types[i] = i % T > 3 && mask[i];
    }
    ir_graph *g;
    ir_encoder_graph_opts go;
    ir_encoder_graph_opts_default(&go);
    CHECK(ir_encoder_to_graph(e, &go, &g, &d) == IR_OK);
    for (int k = 0; k < g->n_inputs; k++) {
        const char *name = g->inputs[k]->name;
        const int32_t *src = strcmp(name, "input_ids") == 0 ? ids
                           : strcmp(name, "attention_mask") == 0 ? mask : types;
        for (int i = 0; i < B * T; i++)
            ((int64_t *)in[k]->data)[i] = src[i];
    }
    ir_tensor **outs = NULL;
    CHECK(ir_interp_run(g, (const ir_tensor *const *)in, &outs, &d) == IR_OK);
    train_acts *a;
    CHECK(train_acts_new(&c, B, T, &a, &d) == IR_OK);
    CHECK(train_forward(p, a, ids, types, mask, &d) == IR_OK);
    double worst = 0;
    for (int i = 0; outs && i < B * 3; i++)
        worst = fmax(worst, fabs(((float *)outs[0]->data)[i] - a->logits[i]));
    printf("trained encoder -> ONNX graph: interpreter vs trainer logits %.3g\n", worst);
    CHECK_MSG(worst < 1e-4, "%g", worst);
    if (outs)
        ir_interp_free_outputs(g, outs);
    ir_graph_free(g);
    train_acts_free(a);
    for (int k = 0; k < 3; k++)
        ir_tensor_free(in[k]);

    /* a config mismatch is refused */
    ir_encoder_config c2;
    tiny_config(&c2, 2);
    ir_encoder *e2;
    CHECK(ir_encoder_new(&c2, &e2, &d) == IR_OK);
    CHECK(train_params_to_encoder(p, e2, &d) == IR_ERR_INPUT);
    ir_encoder_free(e2);
    train_params_free(p);
    ir_encoder_free(e);
}

static void test_plot_empty(void)
{
    ir_diag d;
    ir_diag_init(&d);
    CHECK(train_plot_svg("/nonexistent-dir/x.svg", "t", NULL, 0, NULL, 0, NULL, &d) ==
          IR_ERR_IO);
    CHECK(strstr(d.msg, "/nonexistent-dir/x.svg") != NULL);
}

int main(void)
{
    test_schedule();
    test_data();
    test_gemm_vs_reference();
    test_dev_loss();
    test_encoder_roundtrip();
    test_loop();
    test_plot_empty();
    return test_finish("test_trainer");
}

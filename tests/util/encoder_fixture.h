/* encoder_fixture.h — what the encoder tests (test_encoder, test_rt) build
 * their cases from (header-only, static inline: each test is its own
 * executable): a random encoder, padded token batches to feed both the
 * reference interpreter and the fast paths, and the interpreter run that
 * is their oracle; and the small config the trainer tests use.
 *
 *     ir_encoder *e = enc_random_encoder(&cfg, 1, 0.2f);
 *     enc_inputs x = enc_inputs_make(3, 11, 2, cfg.vocab, 5);
 *     float *want = enc_interp_logits(g, &x);    // g: ir_encoder_to_graph's
 *     ... CHECK(enc_max_diff(got, want, x.B * cfg.labels) <= 1e-4);
 *     free(want);
 *     enc_inputs_free(&x);
 */
#ifndef DISTILC_TEST_ENCODER_FIXTURE_H
#define DISTILC_TEST_ENCODER_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/encoder.h"
#include "ir/interp.h"
#include "ir/ir.h"

/* An encoder of config c with N(0, std) weights and random biases and
 * LayerNorm parameters too (std 0.1), so a bias or gamma wired to the
 * wrong place changes the outputs. NULL on failure, reported on stderr. */
static inline ir_encoder *enc_random_encoder(const ir_encoder_config *c,
                                             uint64_t seed, float std)
{
    ir_encoder *e = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (ir_encoder_new(c, &e, &d) != IR_OK) {
        fprintf(stderr, "ir_encoder_new: %s\n", d.msg);
        return NULL;
    }
    ir_encoder_init_opts o;
    ir_encoder_init_opts_default(&o);
    o.seed = seed;
    o.std = std;
    o.bias_std = 0.1f;
    o.ln_std = 0.1f;
    ir_encoder_init_random(e, &o);
    return e;
}

/* A small unshared config for the trainer tests: H hidden, L layers, A
 * heads, FFN 2H, two token types, LayerNorm eps 1e-5. */
static inline void enc_small_config(ir_encoder_config *c, int64_t H, int64_t L,
                                    int64_t A, int64_t vocab, int64_t max_pos,
                                    int64_t labels)
{
    ir_encoder_config_init(c);
    c->hidden = H; c->layers = L; c->heads = A; c->ffn = 2 * H;
    c->vocab = vocab; c->max_positions = max_pos; c->type_vocab = 2;
    c->labels = labels; c->ln_eps = 1e-5f;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_share(c, IR_ENC_SHARE_NONE, 0, &d);
}

/* input_ids, attention_mask, token_type_ids, each int64 [B, S]. */
typedef struct enc_inputs {
    int64_t B, S;
    ir_tensor *ids, *mask, *types;
} enc_inputs;

/* Real tokens of row r: S - pad_step * r, at least 1. */
static inline int64_t enc_inputs_len(int64_t S, int64_t pad_step, int64_t r)
{
    return S - pad_step * r < 1 ? 1 : S - pad_step * r;
}

/* Row r has enc_inputs_len real tokens (ids 1..vocab-1 from an LCG in
 * seed, segment 1 from half-way), then padding (id 0, mask 0). */
static inline enc_inputs enc_inputs_make(int64_t B, int64_t S, int64_t pad_step,
                                         int64_t vocab, unsigned seed)
{
    enc_inputs x = {B, S, NULL, NULL, NULL};
    int64_t dims[2] = {B, S};
    x.ids = ir_tensor_new(IR_DT_I64, 2, dims);
    x.mask = ir_tensor_new(IR_DT_I64, 2, dims);
    x.types = ir_tensor_new(IR_DT_I64, 2, dims);
    for (int64_t r = 0; r < B; r++) {
        int64_t len = enc_inputs_len(S, pad_step, r);
        for (int64_t j = 0; j < S; j++) {
            int64_t k = r * S + j;
            bool real = j < len;
            seed = seed * 1103515245u + 12345u;
            ((int64_t *)x.ids->data)[k] = real ? 1 + (seed >> 8) % (vocab - 1) : 0;
            ((int64_t *)x.mask->data)[k] = real;
            ((int64_t *)x.types->data)[k] = real && j >= len / 2;
        }
    }
    return x;
}

static inline void enc_inputs_free(enc_inputs *x)
{
    ir_tensor_free(x->ids);
    ir_tensor_free(x->mask);
    ir_tensor_free(x->types);
}

/* The interpreter's first output on x (logits [B, labels]) as a malloc'd
 * copy; NULL on failure, reported on stderr. */
static inline float *enc_interp_logits(ir_graph *g, const enc_inputs *x)
{
    const ir_tensor *in[3] = {x->ids, x->mask, x->types};
    ir_tensor **outs = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (ir_interp_run(g, in, &outs, &d) != IR_OK) {
        fprintf(stderr, "interp: %s\n", d.msg);
        return NULL;
    }
    float *r = malloc(outs[0]->nbytes);
    memcpy(r, outs[0]->data, outs[0]->nbytes);
    ir_interp_free_outputs(g, outs);
    return r;
}

/* y = Relu(x), x f32 [2,3]: a graph that is no encoder and has no
 * input_ids, for the refusals. */
static inline ir_graph *enc_not_an_encoder(void)
{
    ir_graph *g = ir_graph_new("relu");
    ir_dim xd[2] = {ir_dim_const(2), ir_dim_const(3)};
    ir_value *x = ir_graph_add_input(g, "x", IR_DT_F32, 2, xd);
    ir_graph_mark_output(g, ir_node_make1(g, IR_OP_RELU, "act", x, NULL));
    return g;
}

/* max |a - b|; a NaN anywhere makes it NaN (fails every <= check). */
static inline double enc_max_diff(const float *a, const float *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = fabs((double)a[i] - b[i]);
        if (isnan(v))
            return v;
        if (v > m)
            m = v;
    }
    return m;
}

#endif

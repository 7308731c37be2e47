/* fuzz_models.h — the small encoders the model-shaped harnesses share with
 * their seeds (make_seeds): one that runs (latency cache, calibration, the
 * emitted program's stdin: hidden 16, 2 layers, 2 heads, FFN 32,
 * vocabulary 40, 16 positions, 2 token types, 2 labels) and a tinier one
 * whose files are small enough to mutate quickly (checkpoints and
 * model.weights: hidden 4, 1 layer, 1 head, FFN 8, vocabulary 8, 4
 * positions); and the query the latency harness predicts at. */
#ifndef DISTILC_FUZZ_MODELS_H
#define DISTILC_FUZZ_MODELS_H

#include "ir/encoder.h"
#include "search/latency.h"
#include "tests/util/encoder_fixture.h"

static inline void fuzz_model_config(ir_encoder_config *c)
{
    enc_small_config(c, 16, 2, 2, 40, 16, 2);
}

static inline void fuzz_tiny_config(ir_encoder_config *c)
{
    enc_small_config(c, 4, 1, 1, 8, 4, 2);
}

/* A random-weight encoder of that config (seeded: the same every run). */
static inline ir_encoder *fuzz_model_encoder(void)
{
    ir_encoder_config c;
    fuzz_model_config(&c);
    return enc_random_encoder(&c, 7, 0.2f);
}

static inline search_latency_query fuzz_model_query(void)
{
    search_latency_query q = {.batch = 1, .seq = 8, .threads = 1,
                              .precision = IR_PRECISION_FP32};
    return q;
}

#endif

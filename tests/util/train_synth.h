/* train_synth.h — a small synthetic labelled task for the training tests
 * (header-only, static: each test is its own executable): n examples of 4
 * to T-1 tokens over ids 6..39 after a [CLS]-like 1, label 1 iff id 5
 * appears, rows padded to T. Learnable by any encoder, deterministic in
 * seed. */
#ifndef DISTILC_TEST_TRAIN_SYNTH_H
#define DISTILC_TEST_TRAIN_SYNTH_H

#include <stdlib.h>
#include <string.h>

#include "distill/data.h"
#include "distill/kernels.h"

static void train_synth_data(train_data *td, size_t n, size_t T, uint64_t seed)
{
    memset(td, 0, sizeof *td);
    td->n = n; td->T = T; td->n_labels = 2;
    td->ids = calloc(n * T, sizeof(int32_t));
    td->types = calloc(n * T, sizeof(int32_t));
    td->mask = calloc(n * T, sizeof(int32_t));
    td->len = calloc(n, sizeof(uint32_t));
    td->labels = calloc(n, sizeof(int32_t));
    for (size_t i = 0; i < n; i++) {
        size_t len = 4 + train_rng_u64(seed, 1000 + i) % (T - 4);
        int has = (int)(train_rng_u64(seed, 2000 + i) % 2);
        int32_t *r = td->ids + i * T;
        r[0] = 1; /* [CLS]-like */
        for (size_t t = 1; t < len; t++) {
            r[t] = 6 + (int32_t)(train_rng_u64(seed, i * 131 + t) % 34);
            td->mask[i * T + t] = 1;
        }
        td->mask[i * T] = 1;
        if (has)
            r[1 + train_rng_u64(seed, 3000 + i) % (len - 1)] = 5;
        td->len[i] = (uint32_t)len;
        td->labels[i] = has;
        td->tokens += len;
    }
}

#endif

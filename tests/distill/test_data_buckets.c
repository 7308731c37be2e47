/* test_data_buckets.c — length-bucketed batches (issue 17:
 * train_data_order_buckets in distill/data.h, train_loop_options.bucket_pool
 * in distill/trainer.h), on the synthetic task of train_synth.h (lengths 4
 * to T-1):
 *  - every example exactly once per epoch, for batch sizes that divide n
 *    and that do not, pools of one batch to more than the data, and n no
 *    larger than a batch;
 *  - a pure function of (seed, epoch, batch, pool): the same call twice
 *    gives the same order, another epoch or seed another one; pool 0 is
 *    train_data_order's plain shuffle;
 *  - inside a pool the batches are sorted by length, so the padded tokens
 *    of an epoch (each batch cut to its longest row) fall well below the
 *    plain shuffle's (here by more than half);
 *  - the loop with buckets on, killed after step 7 and resumed, ends with
 *    the same parameters bit for bit as a run never killed (same GEMM
 *    library, one thread); a resume with another pool is refused, naming
 *    the pool.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/gemm.h"
#include "distill/data.h"
#include "distill/params.h"
#include "distill/trainer.h"
#include "testutil.h"
#include "train_synth.h"

/* Whether perm[0..n) holds each of 0..n-1 once. */
static bool is_permutation(const size_t *perm, size_t n)
{
    char *seen = calloc(n, 1);
    bool ok = seen != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = perm[i] < n && !seen[perm[i]];
        if (ok)
            seen[perm[i]] = 1;
    }
    free(seen);
    return ok;
}

/* Tokens an epoch pays for: each batch padded to its longest row. */
static size_t padded_tokens(const train_data *td, const size_t *perm,
                            size_t batch)
{
    size_t total = 0;
    for (size_t at = 0; at < td->n; at += batch) {
        size_t nb = td->n - at < batch ? td->n - at : batch, longest = 0;
        for (size_t b = 0; b < nb; b++)
            if (td->len[perm[at + b]] > longest)
                longest = td->len[perm[at + b]];
        total += nb * longest;
    }
    return total;
}

static void test_order(void)
{
    ir_diag d;
    ir_diag_init(&d);
    const size_t ns[] = {1000, 1003, 16, 5};
    const size_t batches[] = {16, 7, 32};
    const size_t pools[] = {1, 4, 50, 1000};
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++) {
        train_data td;
        train_synth_data(&td, ns[a], 48, 3 + a);
        size_t n = td.n;
        size_t *p1 = malloc(n * sizeof *p1), *p2 = malloc(n * sizeof *p2);
        for (size_t b = 0; b < sizeof batches / sizeof *batches; b++)
            for (size_t c = 0; c < sizeof pools / sizeof *pools; c++)
                for (uint64_t ep = 0; ep < 3; ep++) {
                    CHECK(train_data_order_buckets(&td, 9, ep, batches[b], pools[c],
                                                   p1, &d) == IR_OK);
                    CHECK_MSG(is_permutation(p1, n), "n %zu batch %zu pool %zu "
                              "epoch %llu: not every example once", n, batches[b],
                              pools[c], (unsigned long long)ep);
                    CHECK(train_data_order_buckets(&td, 9, ep, batches[b], pools[c],
                                                   p2, &d) == IR_OK);
                    CHECK_MSG(memcmp(p1, p2, n * sizeof *p1) == 0,
                              "n %zu batch %zu pool %zu: two calls differ", n,
                              batches[b], pools[c]);
                }
        free(p1);
        free(p2);
        train_data_free(&td);
    }

    train_data td;
    train_synth_data(&td, 1000, 48, 21);
    size_t n = td.n, B = 16;
    size_t *plain = malloc(n * sizeof *plain), *b0 = malloc(n * sizeof *b0),
           *b1 = malloc(n * sizeof *b1), *b2 = malloc(n * sizeof *b2);
    train_data_order(&td, 9, 0, plain);
    CHECK(train_data_order_buckets(&td, 9, 0, B, 0, b0, &d) == IR_OK);
    CHECK_MSG(memcmp(plain, b0, n * sizeof *plain) == 0,
              "pool 0 is not the plain shuffle");
    CHECK(train_data_order_buckets(&td, 9, 0, B, 50, b0, &d) == IR_OK);
    CHECK(train_data_order_buckets(&td, 9, 1, B, 50, b1, &d) == IR_OK);
    CHECK(train_data_order_buckets(&td, 10, 0, B, 50, b2, &d) == IR_OK);
    CHECK_MSG(memcmp(b0, b1, n * sizeof *b0) != 0, "two epochs, one order");
    CHECK_MSG(memcmp(b0, b2, n * sizeof *b0) != 0, "two seeds, one order");
    /* the batches of a pool are sorted by length: within each batch the
     * rows are in length order, and the padding falls */
    bool sorted = true;
    for (size_t at = 0; at + B <= n; at += B)
        for (size_t i = 1; i < B; i++)
            sorted = sorted && td.len[b0[at + i - 1]] <= td.len[b0[at + i]];
    CHECK_MSG(sorted, "a bucketed batch is not in length order");
    size_t pad_plain = padded_tokens(&td, plain, B) - td.tokens;
    size_t pad_bucket = padded_tokens(&td, b0, B) - td.tokens;
    printf("padding an epoch (1000 examples of 4..47 tokens, batch 16): plain "
           "shuffle %zu tokens, buckets of 50 batches %zu\n", pad_plain, pad_bucket);
    CHECK_MSG(2 * pad_bucket < pad_plain, "buckets pad %zu tokens, the plain "
              "shuffle %zu", pad_bucket, pad_plain);
    /* the batches themselves are shuffled: the first batch is not always
     * the shortest of its pool across epochs */
    CHECK(td.len[b0[0]] != td.len[b1[0]] || td.len[b0[B]] != td.len[b1[B]]);
    free(plain);
    free(b0);
    free(b1);
    free(b2);
    train_data_free(&td);
}

/* A tiny 2-layer encoder (hidden 16) with labels 2, weights N(0, 0.02). */
static train_params *tiny_params(gemm_ctx *g)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config c;
    ir_encoder_config_init(&c);
    c.hidden = 16; c.layers = 2; c.heads = 2; c.ffn = 32; c.vocab = 40;
    c.max_positions = 48; c.type_vocab = 2; c.labels = 2; c.ln_eps = 1e-12f;
    ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, &d);
    train_params *p = NULL;
    CHECK_MSG(train_params_new(&c, &p, &d) == IR_OK, "%s", d.msg);
    if (p) {
        train_params_init_random(p, 1, 0.02f);
        p->gemm = g;
    }
    return p;
}

/* 20 steps of batch 8 over 70 examples (so an epoch boundary and a partial
 * batch fall inside), buckets of 3 batches, checkpoints in ckdir. */
static ir_status run_loop(train_params *p, const train_data *td, const char *ckdir,
                          int64_t stop_at, bool resume, size_t pool, ir_diag *d)
{
    train_loop_options o;
    train_loop_options_default(&o);
    o.batch = 8; o.steps = 20; o.lr = 3e-3f; o.seed = 4; o.bucket_pool = pool;
    o.ckpt_dir = ckdir; o.ckpt_every = 5; o.stop_at = stop_at; o.resume = resume;
    train_result r;
    ir_status s = train_loop_run(p, td, &o, train_loss_finetune, NULL, &r, d);
    train_result_free(&r);
    return s;
}

static void test_resume(void)
{
    omp_set_num_threads(1);
    ir_diag d;
    ir_diag_init(&d);
    gemm_ctx *g = NULL;
    CHECK(gemm_ctx_create(GEMM_BLAS, &g, &d) == IR_OK);
    train_data td;
    train_synth_data(&td, 70, 24, 5);
    char dir[256], a[300], b[300];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    snprintf(a, sizeof a, "%s/whole", dir);
    snprintf(b, sizeof b, "%s/killed", dir);
    train_params *whole = tiny_params(g), *killed = tiny_params(g);
    CHECK_MSG(run_loop(whole, &td, a, 0, false, 3, &d) == IR_OK, "%s", d.msg);
    CHECK_MSG(run_loop(killed, &td, b, 7, false, 3, &d) == IR_OK, "%s", d.msg);
    /* a resume with another pool would walk other batches: refused */
    train_params *other = tiny_params(g);
    CHECK(run_loop(other, &td, b, 0, true, 4, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "bucket") != NULL, "%s", d.msg);
    train_params_free(other);
    CHECK_MSG(run_loop(killed, &td, b, 0, true, 3, &d) == IR_OK, "%s", d.msg);
    CHECK_MSG(whole && killed &&
                  memcmp(whole->params, killed->params,
                         whole->n * sizeof *whole->params) == 0,
              "killed at step 7 and resumed: parameters differ from a run "
              "never killed");
    train_params_free(whole);
    train_params_free(killed);
    train_data_free(&td);
    gemm_ctx_free(g);
}

int main(void)
{
    test_order();
    test_resume();
    return test_finish("test_data_buckets");
}

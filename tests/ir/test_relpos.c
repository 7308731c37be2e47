/* test_relpos.c — MPNet's relative position buckets (ir/relpos.h) against
 * torch's: the distances where each bucket begins, as transformers 4.40's
 * MPNetEncoder.relative_position_bucket (32 buckets, max distance 128) and
 * T5Attention._relative_position_bucket (bidirectional 16 / 20, and one
 * direction 32 / 128) give them for n = query - key in -300..300; the bias
 * laid out [heads, S, S]; and the config's checks of the option.
 * Exact: the buckets are integers. */
#include <stdlib.h>
#include <string.h>

#include "ir/encoder.h"
#include "ir/relpos.h"
#include "testutil.h"

/* {first n of the bucket, bucket}, n ascending, from torch. */
typedef struct start { int64_t n, bucket; } start;

/* Every n in 0..300 (sign +1) or -300..0 (sign -1) falls in the bucket of
 * the last start at or before it. */
static void check_starts(const char *name, const start *st, size_t k,
                         int sign, int64_t R, int64_t M, bool bidi)
{
    int bad = 0;
    for (int64_t a = 0; a <= 300; a++) {
        int64_t n = sign * a, want = -1;
        for (size_t i = 0; i < k; i++)
            if (sign * st[i].n <= a)
                want = st[i].bucket;
        int64_t got = ir_relpos_bucket(n, R, M, bidi);
        if (got != want && bad++ < 5)
            fprintf(stderr, "%s: n = %lld: bucket %lld, torch %lld\n", name,
                    (long long)n, (long long)got, (long long)want);
    }
    CHECK_MSG(bad == 0, "%s: %d distances in the wrong bucket", name, bad);
}

static void test_buckets(void)
{
    static const start mpnet_pos[] = {
        {0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7}, {8, 8},
        {12, 9}, {16, 10}, {23, 11}, {32, 12}, {46, 13}, {64, 14}, {91, 15}};
    static const start mpnet_neg[] = {
        {0, 0}, {-1, 17}, {-2, 18}, {-3, 19}, {-4, 20}, {-5, 21}, {-6, 22},
        {-7, 23}, {-8, 24}, {-12, 25}, {-16, 26}, {-23, 27}, {-32, 28},
        {-46, 29}, {-64, 30}, {-91, 31}};
    check_starts("mpnet n >= 0", mpnet_pos, 16, 1, 32, 128, true);
    check_starts("mpnet n <= 0", mpnet_neg, 16, -1, 32, 128, true);
    static const start small_pos[] = {{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4},
                                      {6, 5}, {9, 6}, {14, 7}};
    static const start small_neg[] = {{0, 0}, {-1, 9}, {-2, 10}, {-3, 11},
                                      {-4, 12}, {-6, 13}, {-9, 14}, {-14, 15}};
    check_starts("16/20 n >= 0", small_pos, 8, 1, 16, 20, true);
    check_starts("16/20 n <= 0", small_neg, 8, -1, 16, 20, true);
    static const start uni[] = {
        {0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7},
        {8, 8}, {9, 9}, {10, 10}, {11, 11}, {12, 12}, {13, 13}, {14, 14},
        {15, 15}, {16, 16}, {19, 17}, {21, 18}, {24, 19}, {27, 20}, {31, 21},
        {35, 22}, {40, 23}, {46, 24}, {52, 25}, {59, 26}, {67, 27}, {77, 28},
        {87, 29}, {99, 30}, {113, 31}};
    static const start uni_neg[] = {{0, 0}};
    check_starts("one direction n >= 0", uni, 32, 1, 32, 128, false);
    check_starts("one direction n <= 0", uni_neg, 1, -1, 32, 128, false);
}

/* The bias is table[bucket(i - j), a] at [a, i, j]. */
static void test_bias_layout(void)
{
    enum { R = 16, A = 3, S = 21 };
    float table[R * A], bias[A * S * S];
    for (int k = 0; k < R * A; k++)
        table[k] = (float)k;
    ir_relpos_bias(bias, table, A, S, R, 20, true);
    int bad = 0;
    for (int a = 0; a < A; a++)
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                int64_t b = ir_relpos_bucket(i - j, R, 20, true);
                bad += bias[(a * S + i) * S + j] != table[b * A + a];
            }
    CHECK_MSG(bad == 0, "bias layout: %d entries differ", bad);
    /* S = 1: only the diagonal, bucket 0 */
    ir_relpos_bias(bias, table, A, 1, R, 20, true);
    CHECK(bias[0] == 0.0f && bias[1] == 1.0f && bias[2] == 2.0f);
}

/* A config's relative position bias: its weight and its checks. */
static void test_config(void)
{
    ir_encoder_config c;
    ir_encoder_config_init(&c);
    c.hidden = 16; c.heads = 4; c.layers = 2; c.ffn = 32; c.vocab = 50;
    c.max_positions = 20;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, &d);
    size_t plain = ir_encoder_weight_count(&c);
    c.rel_buckets = 32;
    c.rel_max_distance = 128;
    c.rel_bidirectional = true;
    CHECK(ir_encoder_config_validate(&c, &d) == IR_OK);
    CHECK(ir_encoder_weight_count(&c) == plain + 1);
    bool found = false;
    for (size_t i = 0; i < ir_encoder_weight_count(&c); i++) {
        ir_encoder_wspec s;
        ir_encoder_weight_spec(&c, i, &s);
        if (strcmp(s.name, "relative_bias") == 0)
            found = s.rank == 2 && s.dims[0] == 32 && s.dims[1] == 4;
    }
    CHECK_MSG(found, "relative_bias [32, 4] in the weight table");
    ir_encoder_config o = c;
    o.rel_max_distance = 64;
    CHECK(!ir_encoder_config_equal(&c, &o));
    /* too few buckets for two directions; a max distance inside the exact
     * range (log(M / exact) <= 0) */
    c.rel_buckets = 3;
    CHECK(ir_encoder_config_validate(&c, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "rel_buckets") != NULL);
    ir_diag_init(&d);
    c.rel_buckets = 32;
    c.rel_max_distance = 8;
    CHECK(ir_encoder_config_validate(&c, &d) == IR_ERR_INPUT &&
          strstr(d.msg, "rel_max_distance") != NULL);
    ir_diag_init(&d);
    c.rel_bidirectional = false;
    c.rel_max_distance = 17; /* exact = 16 one way */
    CHECK(ir_encoder_config_validate(&c, &d) == IR_OK);
}

int main(void)
{
    test_buckets();
    test_bias_layout();
    test_config();
    return test_finish("test_relpos");
}

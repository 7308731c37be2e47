/* test_ops_ms.c — the reference kernels of ONNX Runtime's com.microsoft
 * ops (ir/ops/ms_*.c: Gelu, FastGelu, BiasGelu, SkipLayerNormalization,
 * EmbedLayerNormalization, Attention, FusedMatMul) on cases small enough
 * to work out by hand, each value written here with how it was obtained,
 * and their refusals, each of which must name the attribute or input at
 * fault. tests/passes/test_ms_ops.py compares the same kernels with ONNX
 * Runtime on random inputs.
 *
 * Tolerance: 1e-6 absolute on every output (the kernels round float sums
 * of at most four terms; the wanted values are exact to double precision).
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "ir/interp.h"
#include "ir/ops/kernel.h"
#include "testutil.h"

#define TOL 1e-6
#define MAX_IO 9

/* GELU of 1, -1 and 2: x·Phi(x) (erf form) and its tanh approximation. */
#define GELU_1 0.8413447460685429
#define GELU_M1 (-0.15865525393145707)
#define GELU_2 1.9544997361036416
#define TGELU_1 0.8411919906082768
#define TGELU_M1 (-0.15880800939172324)
#define TGELU_2 1.954597694087775
/* LayerNorm of [1,2,3,4]: mean 2.5, variance 1.25 -> (x - 2.5)/sqrt(1.25). */
#define LN_A 1.3416407864998738 /* 1.5/sqrt(1.25) */
#define LN_B 0.4472135954999579 /* 0.5/sqrt(1.25) */
/* Softmax of [a, 0] at index 0 = sigmoid(a). */
#define SIG_RSQRT2 0.6697615493266569 /* sigmoid(1/sqrt(2)) */
#define SIG_2 0.8807970779778823      /* sigmoid(2) */

/* ---- one node of constants -------------------------------------------- */

typedef struct ms_node {
    ir_graph *g;
    ir_node *n;
    ir_tensor *out[MAX_IO];
    ir_diag d;
} ms_node;

static ir_tensor *tf32(int rank, const int64_t *dims, const double *v)
{
    ir_tensor *t = ir_tensor_new(IR_DT_F32, rank, dims);
    for (int64_t i = 0; i < ir_tensor_numel(t); i++)
        ir_tensor_set_f64(t, i, v[i]);
    return t;
}

static ir_tensor *ti32(int rank, const int64_t *dims, const double *v)
{
    ir_tensor *t = ir_tensor_new(IR_DT_I32, rank, dims);
    for (int64_t i = 0; i < ir_tensor_numel(t); i++)
        ir_tensor_set_f64(t, i, v[i]);
    return t;
}

/* op over inputs ins[n_in] (NULL: absent; the graph takes them) with
 * n_out outputs, of which those whose bit is clear in `absent` exist. */
static void ms_build(ms_node *m, ir_op op, int n_in, ir_tensor **ins, int n_out,
                     unsigned absent)
{
    memset(m, 0, sizeof *m);
    m->g = ir_graph_new("ms");
    ir_value *vs[MAX_IO];
    for (int i = 0; i < n_in; i++)
        vs[i] = ins[i] ? ir_graph_add_constant(m->g, NULL, ins[i]) : NULL;
    m->n = ir_graph_add_node(m->g, op, ir_op_name(op), n_in, vs, n_out);
    for (int k = 0; k < n_out; k++)
        if (absent & (1u << k))
            m->n->outputs[k] = NULL;
}

static ir_status ms_eval(ms_node *m)
{
    const ir_tensor *ins[MAX_IO];
    for (int i = 0; i < m->n->n_inputs; i++)
        ins[i] = m->n->inputs[i] ? m->n->inputs[i]->constant : NULL;
    ir_diag_init(&m->d);
    return ir_interp_eval_node(m->g, m->n, ins, m->out, &m->d);
}

static void ms_free(ms_node *m)
{
    for (int k = 0; k < MAX_IO; k++)
        ir_tensor_free(m->out[k]);
    ir_graph_free(m->g);
}

/* Output k of m evaluated, with n elements equal to want within TOL. */
static void ms_expect(ms_node *m, int k, int64_t n, const double *want,
                      const char *what)
{
    const ir_tensor *t = m->out[k];
    CHECK_MSG(t && ir_tensor_numel(t) == n, "%s: output %d has %lld elements",
              what, k, t ? (long long)ir_tensor_numel(t) : -1LL);
    if (!t || ir_tensor_numel(t) != n)
        return;
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(ir_tensor_get_f64(t, i) - want[i]);
        worst = e > worst || isnan(e) ? e : worst;
    }
    CHECK_MSG(worst <= TOL, "%s: output %d off by %g", what, k, worst);
}

/* Evaluates m and checks output 0 against want[n]. */
static void ms_run(ms_node *m, int64_t n, const double *want, const char *what)
{
    ir_status st = ms_eval(m);
    CHECK_MSG(st == IR_OK, "%s: %s", what, m->d.msg);
    if (st == IR_OK)
        ms_expect(m, 0, n, want, what);
}

/* Evaluates m, which must fail with status st and a message holding
 * `names`; frees m. */
static void ms_refused(ms_node *m, ir_status st, const char *names,
                       const char *what)
{
    ir_status got = ms_eval(m);
    CHECK_MSG(got == st && strstr(m->d.msg, names),
              "%s: want status %d naming '%s', got %d: %s", what, st, names,
              got, m->d.msg);
    ms_free(m);
}

/* ---- GELU family ------------------------------------------------------- */

static void test_gelu(void)
{
    int64_t d4[1] = {4}, d22[2] = {2, 2}, d2[1] = {2};
    const double x[4] = {0, 1, -1, 2};
    ms_node m;

    ms_build(&m, IR_OP_MS_GELU, 1, (ir_tensor *[]){tf32(1, d4, x)}, 1, 0);
    ms_run(&m, 4, (double[]){0, GELU_1, GELU_M1, GELU_2}, "Gelu");
    ms_free(&m);

    ms_build(&m, IR_OP_MS_FAST_GELU, 1, (ir_tensor *[]){tf32(1, d4, x)}, 1, 0);
    ms_run(&m, 4, (double[]){0, TGELU_1, TGELU_M1, TGELU_2}, "FastGelu");
    ms_free(&m);

    /* bias [1,-1] along the last axis turns [[0,1],[-1,2]] into
     * [[1,0],[0,1]] */
    const double b[2] = {1, -1};
    ms_build(&m, IR_OP_MS_FAST_GELU, 2,
             (ir_tensor *[]){tf32(2, d22, x), tf32(1, d2, b)}, 1, 0);
    ms_run(&m, 4, (double[]){TGELU_1, 0, 0, TGELU_1}, "FastGelu with bias");
    ms_free(&m);

    ms_build(&m, IR_OP_MS_BIAS_GELU, 2,
             (ir_tensor *[]){tf32(2, d22, x), tf32(1, d2, b)}, 1, 0);
    ms_run(&m, 4, (double[]){GELU_1, 0, 0, GELU_1}, "BiasGelu");
    ms_free(&m);

    /* a bias that is not [C] is named */
    ms_build(&m, IR_OP_MS_BIAS_GELU, 2,
             (ir_tensor *[]){tf32(2, d22, x), tf32(1, d4, x)}, 1, 0);
    ms_refused(&m, IR_ERR_INPUT, "bias", "BiasGelu with a [4] bias on [2,2]");
    ir_tensor *xi = ti32(1, d4, x);
    ms_build(&m, IR_OP_MS_GELU, 1, &xi, 1, 0);
    ms_refused(&m, IR_ERR_UNSUPPORTED, "X", "Gelu of int32");
}

/* ---- SkipLayerNormalization -------------------------------------------- */

/* x + skip (+ bias) = [1,2,3,4] or [2,3,4,5]: both normalise to
 * [-LN_A, -LN_B, LN_B, LN_A]; gamma [1,2,1,2], beta [0,0,1,1]. */
static void test_skip_layer_norm(void)
{
    int64_t d[3] = {1, 1, 4}, c[1] = {4};
    const double x[4] = {1, 0, 3, 0}, skip[4] = {0, 2, 0, 4};
    const double gamma[4] = {1, 2, 1, 2}, beta[4] = {0, 0, 1, 1};
    const double ones[4] = {1, 1, 1, 1};
    const double y[4] = {-LN_A, -2 * LN_B, 1 + LN_B, 1 + 2 * LN_A};
    const double y_nobeta[4] = {-LN_A, -2 * LN_B, LN_B, 2 * LN_A};
    ms_node m;

    ms_build(&m, IR_OP_MS_SKIP_LAYER_NORM, 4,
             (ir_tensor *[]){tf32(3, d, x), tf32(3, d, skip), tf32(1, c, gamma),
                             tf32(1, c, beta)}, 1, 0);
    ms_run(&m, 4, y, "SkipLayerNormalization");
    ms_free(&m);

    ms_build(&m, IR_OP_MS_SKIP_LAYER_NORM, 3,
             (ir_tensor *[]){tf32(3, d, x), tf32(3, d, skip), tf32(1, c, gamma)},
             1, 0);
    ms_run(&m, 4, y_nobeta, "SkipLayerNormalization without beta");
    ms_free(&m);

    /* with bias, and output 3 (input_skip_bias_sum) asked for, 1 and 2 not */
    ms_build(&m, IR_OP_MS_SKIP_LAYER_NORM, 5,
             (ir_tensor *[]){tf32(3, d, x), tf32(3, d, skip), tf32(1, c, gamma),
                             tf32(1, c, beta), tf32(1, c, ones)}, 4, 0x6);
    ms_run(&m, 4, y, "SkipLayerNormalization with bias");
    ms_expect(&m, 3, 4, (double[]){2, 3, 4, 5}, "input_skip_bias_sum");
    ms_free(&m);

    /* the training outputs are refused by name */
    ms_build(&m, IR_OP_MS_SKIP_LAYER_NORM, 3,
             (ir_tensor *[]){tf32(3, d, x), tf32(3, d, skip), tf32(1, c, gamma)},
             2, 0);
    ms_refused(&m, IR_ERR_UNSUPPORTED, "mean", "SkipLayerNormalization mean");
    ms_build(&m, IR_OP_MS_SKIP_LAYER_NORM, 3,
             (ir_tensor *[]){tf32(3, d, x), tf32(3, d, skip), tf32(1, c, gamma)},
             3, 0x2);
    ms_refused(&m, IR_ERR_UNSUPPORTED, "inv_std_var",
               "SkipLayerNormalization inv_std_var");
    ms_build(&m, IR_OP_MS_SKIP_LAYER_NORM, 3,
             (ir_tensor *[]){tf32(3, d, x), tf32(3, d, skip), tf32(1, (int64_t[]){3}, ones)},
             1, 0);
    ms_refused(&m, IR_ERR_INPUT, "gamma", "SkipLayerNormalization gamma [3]");
}

/* ---- EmbedLayerNormalization ------------------------------------------- */

/* word rows [1,1,1,1], [9,9,9,9], [4,3,2,1]; position rows [0,1,2,3], 0;
 * segment rows 0, [1,2,3,4]; gamma 1, beta 0. ids [0,2] sum to [1,2,3,4],
 * [4,3,2,1]: LayerNorm [-LN_A,-LN_B,LN_B,LN_A] and its mirror. */
static const double word[12] = {1, 1, 1, 1, 9, 9, 9, 9, 4, 3, 2, 1};
static const double pos[8] = {0, 1, 2, 3, 0, 0, 0, 0};
static const double seg_emb[8] = {0, 0, 0, 0, 1, 2, 3, 4};
static const double ln_ones[4] = {1, 1, 1, 1}, ln_zeros[4] = {0, 0, 0, 0};

/* EmbedLayerNormalization(ids, seg?, word, pos, segemb?, gamma, beta,
 * mask?) with B = 1 (ids [[0,2]], segment ids [[1,0]]) or 2 (ids
 * [[0,2],[2,0]], mask [[1,1],[1,0]]). */
static void embed_build(ms_node *m, int B, bool seg, bool mask, int n_out,
                        unsigned absent)
{
    int64_t ids_d[2] = {B, 2}, w_d[2] = {3, 4}, p_d[2] = {2, 4}, c[1] = {4};
    const double ids[4] = {0, 2, 2, 0}, segs[4] = {1, 0, 0, 0};
    const double mk[4] = {1, 1, 1, 0};
    ir_tensor *in[8] = {ti32(2, ids_d, ids), seg ? ti32(2, ids_d, segs) : NULL,
                        tf32(2, w_d, word), tf32(2, p_d, pos),
                        seg ? tf32(2, p_d, seg_emb) : NULL,
                        tf32(1, c, ln_ones), tf32(1, c, ln_zeros),
                        mask ? ti32(2, ids_d, mk) : NULL};
    ms_build(m, IR_OP_MS_EMBED_LAYER_NORM, mask ? 8 : 7, in, n_out, absent);
}

static void test_embed_layer_norm(void)
{
    const double n4[4] = {-LN_A, -LN_B, LN_B, LN_A};
    ms_node m;

    /* no segment: [1,2,3,4] and [4,3,2,1] + 0 */
    embed_build(&m, 1, false, false, 3, 0x2);
    ms_run(&m, 8, (double[]){-LN_A, -LN_B, LN_B, LN_A, LN_A, LN_B, -LN_B, -LN_A},
           "EmbedLayerNormalization without segment");
    ms_expect(&m, 2, 8, (double[]){1, 2, 3, 4, 4, 3, 2, 1}, "embedding_sum");
    ms_free(&m);

    /* segment ids [1,0] add [1,2,3,4] to the first token: [2,4,6,8]
     * normalises like [1,2,3,4] */
    embed_build(&m, 1, true, false, 3, 0x2);
    ms_run(&m, 8, (double[]){n4[0], n4[1], n4[2], n4[3], n4[3], n4[2], n4[1], n4[0]},
           "EmbedLayerNormalization with segment");
    ms_expect(&m, 2, 8, (double[]){2, 4, 6, 8, 4, 3, 2, 1},
              "embedding_sum with segment");
    ms_free(&m);

    /* mask [[1,1],[1,0]]: mask_index = the key lengths [2, 1]; without a
     * mask, zeros. Batch 1, ids [2,0]: word[2] + pos[0] = [4,4,4,4] and
     * word[0] + pos[1] = [1,1,1,1], both constant rows, normalise to 0. */
    for (int with_mask = 0; with_mask < 2; with_mask++) {
        embed_build(&m, 2, false, with_mask, 2, 0);
        ms_run(&m, 16, (double[]){n4[0], n4[1], n4[2], n4[3], n4[3], n4[2], n4[1],
                                  n4[0], 0, 0, 0, 0, 0, 0, 0, 0},
               with_mask ? "EmbedLayerNormalization with mask"
                         : "EmbedLayerNormalization without mask");
        ms_expect(&m, 1, 2, with_mask ? (double[]){2, 1} : (double[]){0, 0},
                  "mask_index");
        ms_free(&m);
    }

    /* refusals */
    embed_build(&m, 1, true, false, 1, 0);
    m.n->inputs[4] = NULL; /* segment_ids without segment_embedding */
    ms_refused(&m, IR_ERR_INPUT, "segment_embedding", "segment ids alone");
    embed_build(&m, 1, false, false, 1, 0);
    m.n->inputs[5] = NULL;
    ms_refused(&m, IR_ERR_INPUT, "gamma", "no gamma");
    embed_build(&m, 1, false, false, 2, 0);
    ir_node_set_attr_int(m.g, m.n, "mask_index_type", 2);
    ms_refused(&m, IR_ERR_UNSUPPORTED, "mask_index_type", "mask_index_type 2");
}

/* ---- Attention --------------------------------------------------------- */

/* x [[1,0],[0,1]] (B 1, S 2, K 2), one head, W = [I | I | I] (+ more v
 * columns): q = k = v = x, scores = scale·I. Row 0 of softmax(scale·I) is
 * [sigmoid(scale), 1 - sigmoid(scale)], row 1 its mirror, and y = P·x = P.
 * mask: NULL, or an int32 tensor; v_cols: 2, or 4 with qkv_hidden_sizes
 * [2,2,4] (v = [x, x]); bias[bias_len] or NULL. */
static void att_build(ms_node *m, ir_tensor *mask, const double *bias,
                      int64_t bias_len, int v_cols)
{
    int64_t xd[3] = {1, 2, 2}, wd[2] = {2, 4 + v_cols}, bd[1] = {bias_len};
    double w[16];
    for (int r = 0; r < 2; r++)
        for (int col = 0; col < 4 + v_cols; col++)
            w[r * (4 + v_cols) + col] = col % 2 == r;
    ir_tensor *in[4] = {tf32(3, xd, (double[]){1, 0, 0, 1}), tf32(2, wd, w),
                        bias ? tf32(1, bd, bias) : NULL, mask};
    ms_build(m, IR_OP_MS_ATTENTION, mask ? 4 : bias ? 3 : 2, in, 1, 0);
    ir_node_set_attr_int(m->g, m->n, "num_heads", 1);
    if (v_cols != 2)
        ir_node_set_attr_ints(m->g, m->n, "qkv_hidden_sizes", 3,
                              (int64_t[]){2, 2, v_cols});
}

static void test_attention(void)
{
    const double p = SIG_RSQRT2, q = 1 - SIG_RSQRT2; /* default scale 1/sqrt(2) */
    int64_t b1[1] = {1}, bs[2] = {1, 2}, bss[3] = {1, 2, 2};
    ms_node m;

    att_build(&m, NULL, NULL, 0, 2);
    ms_run(&m, 4, (double[]){p, q, q, p}, "Attention");
    ms_free(&m);

    /* bias 1 on v only: y + 1 */
    att_build(&m, NULL, (double[]){0, 0, 0, 0, 1, 1}, 6, 2);
    ms_run(&m, 4, (double[]){p + 1, q + 1, q + 1, p + 1}, "Attention with bias");
    ms_free(&m);

    /* scale 2 */
    att_build(&m, NULL, NULL, 0, 2);
    ir_node_set_attr_float(m.g, m.n, "scale", 2.0f);
    ms_run(&m, 4, (double[]){SIG_2, 1 - SIG_2, 1 - SIG_2, SIG_2}, "Attention scale 2");
    ms_free(&m);

    /* key length 1: key 1 gets -10000, every query reads key 0 = [1,0] */
    att_build(&m, ti32(1, b1, (double[]){1}), NULL, 0, 2);
    ms_run(&m, 4, (double[]){1, 0, 1, 0}, "Attention with key lengths");
    ms_free(&m);

    /* the same as a [B,S] 0/1 mask */
    att_build(&m, ti32(2, bs, (double[]){1, 0}), NULL, 0, 2);
    ms_run(&m, 4, (double[]){1, 0, 1, 0}, "Attention with a 0/1 mask");
    ms_free(&m);

    /* [B,S,S]: query 0 sees both keys, query 1 only key 0 */
    att_build(&m, ti32(3, bss, (double[]){1, 1, 1, 0}), NULL, 0, 2);
    ms_run(&m, 4, (double[]){p, q, 1, 0}, "Attention with a [B,S,S] mask");
    ms_free(&m);

    /* mask_filter_value -1, scale 1, key length 1: query 0 scores [1, -1]
     * (softmax [sigmoid(2), ..]), query 1 [0, 1 - 1] = [0, 0] */
    att_build(&m, ti32(1, b1, (double[]){1}), NULL, 0, 2);
    ir_node_set_attr_float(m.g, m.n, "scale", 1.0f);
    ir_node_set_attr_float(m.g, m.n, "mask_filter_value", -1.0f);
    ms_run(&m, 4, (double[]){SIG_2, 1 - SIG_2, 0.5, 0.5},
           "Attention mask_filter_value -1");
    ms_free(&m);

    /* qkv_hidden_sizes [2,2,4]: v = [x, x], y = [P, P] row by row */
    att_build(&m, NULL, NULL, 0, 4);
    ms_run(&m, 8, (double[]){p, q, p, q, q, p, q, p}, "Attention qkv_hidden_sizes");
    ms_free(&m);

    /* refusals, each naming its input or attribute */
    att_build(&m, NULL, NULL, 0, 2);
    ir_node_set_attr_int(m.g, m.n, "unidirectional", 1);
    ms_refused(&m, IR_ERR_UNSUPPORTED, "unidirectional", "unidirectional=1");
    att_build(&m, NULL, NULL, 0, 2);
    ir_node_set_attr_int(m.g, m.n, "do_rotary", 1);
    ms_refused(&m, IR_ERR_UNSUPPORTED, "do_rotary", "do_rotary=1");
    att_build(&m, ti32(1, (int64_t[]){2}, (double[]){1, 0}), NULL, 0, 2);
    ms_refused(&m, IR_ERR_UNSUPPORTED, "[2B]", "start/end mask_index");
    att_build(&m, ti32(2, (int64_t[]){1, 3}, (double[]){1, 1, 1}), NULL, 0, 2);
    ms_refused(&m, IR_ERR_UNSUPPORTED, "mask_index", "[1,3] mask for S 2");
    att_build(&m, NULL, NULL, 0, 2);
    ir_node_set_attr_int(m.g, m.n, "num_heads", 3);
    ms_refused(&m, IR_ERR_INPUT, "num_heads", "3 heads over 2 columns");
    att_build(&m, NULL, NULL, 0, 4);
    ir_node_set_attr_ints(m.g, m.n, "qkv_hidden_sizes", 3, (int64_t[]){4, 2, 2});
    ms_refused(&m, IR_ERR_INPUT, "qkv_hidden_sizes", "q and k of different sizes");
    att_build(&m, NULL, NULL, 0, 4);
    ir_node_set_attr_ints(m.g, m.n, "qkv_hidden_sizes", 3, (int64_t[]){2, 2, 2});
    ms_refused(&m, IR_ERR_INPUT, "qkv_hidden_sizes", "sizes not summing to W's");
    att_build(&m, NULL, (double[]){0, 0, 0}, 3, 2); /* [3] for 6 columns */
    ms_refused(&m, IR_ERR_INPUT, "bias", "short bias");
}

/* ---- FusedMatMul ------------------------------------------------------- */

/* A = [[1,2],[3,4]], B = [[1,0],[1,1]]:
 *   A·B = [[3,2],[7,4]], Aᵀ·B = [[4,3],[6,4]], A·Bᵀ = [[1,3],[3,7]]. */
static void fmm_build(ms_node *m, int a_rank, const int64_t *a_dims,
                      const char *attr1, const char *attr2)
{
    int64_t bd[2] = {2, 2};
    ms_build(m, IR_OP_MS_FUSED_MATMUL, 2,
             (ir_tensor *[]){tf32(a_rank, a_dims, (double[]){1, 2, 3, 4}),
                             tf32(2, bd, (double[]){1, 0, 1, 1})}, 1, 0);
    if (attr1)
        ir_node_set_attr_int(m->g, m->n, attr1, 1);
    if (attr2)
        ir_node_set_attr_int(m->g, m->n, attr2, 1);
}

static void test_fused_matmul(void)
{
    int64_t a2[2] = {2, 2}, a3[3] = {2, 1, 2}, a1[1] = {4};
    ms_node m;
    fmm_build(&m, 2, a2, NULL, NULL);
    ms_run(&m, 4, (double[]){3, 2, 7, 4}, "FusedMatMul");
    ms_free(&m);
    fmm_build(&m, 2, a2, "transA", NULL);
    ir_node_set_attr_float(m.g, m.n, "alpha", 0.5f);
    ms_run(&m, 4, (double[]){2, 1.5, 3, 2}, "FusedMatMul transA alpha 0.5");
    ms_free(&m);
    fmm_build(&m, 2, a2, "transB", NULL);
    ms_run(&m, 4, (double[]){1, 3, 3, 7}, "FusedMatMul transB");
    ms_free(&m);
    /* A [2,1,2] batch-transposed is [1,2,2] = [[1,2],[3,4]]: A·B again, and
     * with transA too, Aᵀ·B */
    fmm_build(&m, 3, a3, "transBatchA", NULL);
    ms_run(&m, 4, (double[]){3, 2, 7, 4}, "FusedMatMul transBatchA");
    CHECK(m.out[0] && m.out[0]->rank == 3 && m.out[0]->dims[0] == 1);
    ms_free(&m);
    fmm_build(&m, 3, a3, "transBatchA", "transA");
    ms_run(&m, 4, (double[]){4, 3, 6, 4}, "FusedMatMul transBatchA transA");
    ms_free(&m);
    /* without the batch transpose, A [2,1,2]·B is [2,1,2]: rows [3,2], [7,4] */
    fmm_build(&m, 3, a3, NULL, NULL);
    ms_run(&m, 4, (double[]){3, 2, 7, 4}, "FusedMatMul batch of two");
    CHECK(m.out[0] && m.out[0]->rank == 3 && m.out[0]->dims[0] == 2);
    ms_free(&m);

    fmm_build(&m, 1, a1, "transA", NULL);
    ms_refused(&m, IR_ERR_INPUT, "transA", "transA on a 1-D A");
    fmm_build(&m, 2, (int64_t[]){1, 4}, NULL, NULL);
    ms_refused(&m, IR_ERR_INPUT, "inner dimensions", "A [1,4] · B [2,2]");
}

int main(void)
{
    test_gelu();
    test_skip_layer_norm();
    test_embed_layer_norm();
    test_attention();
    test_fused_matmul();
    return test_finish("test_ops_ms");
}

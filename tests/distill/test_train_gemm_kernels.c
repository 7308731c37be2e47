/* test_train_gemm_kernels.c — the trainer kernels that run on a GEMM
 * context (distill/kernels.h *_ctx), against their plain loops:
 *   - attention through strided batched matmuls (train_attention_*_gemm)
 *     and through the dispatch the trainer calls (train_attention_*_ctx:
 *     the fused kernels on AVX-512) against train_attention_*_ref at the TinyBERT-4 head size (hs 26),
 *     with padded keys, a batch entry with no tokens at all, a nonzero
 *     loss gradient on the scores and a nonzero dqkv to add into; and
 *     the forward with MPNet's position bias against its plain loops;
 *     tolerance 1e-5 relative to the largest magnitude (same math, oneDNN's
 *     summation order); NULL dprobs falls back to the loops;
 *   - the linear layer with its bias in the GEMM's epilogue, and the
 *     backward that overwrites dinp (train_linear_backward_set_ctx, dinp
 *     starting as NaN) against the reference loops (1e-5 relative); the
 *     bias gradient's row sweep gives the same bits as a column loop;
 * on oneDNN and on OpenBLAS. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/gemm.h"
#include "distill/kernels.h"
#include "tests/util/compare_util.h"
#include "tests/util/testutil.h"

static float *dup(const float *x, size_t n)
{
    float *y = malloc(n * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

typedef void attn_fwd_fn(struct gemm_ctx *, float *, float *, float *,
                         const float *, const int32_t *, size_t, size_t,
                         size_t, size_t);
typedef void attn_bwd_fn(struct gemm_ctx *, float *, float *, float *,
                         const float *, const float *, const float *,
                         const int32_t *, size_t, size_t, size_t, size_t);

static void test_attention(gemm_ctx *g, const char *name, attn_fwd_fn *fwd,
                           attn_bwd_fn *bwd)
{
    enum { B = 3, T = 11, NH = 3, HS = 26, C = NH * HS };
    size_t nq = (size_t)B * T * 3 * C, ns = (size_t)B * NH * T * T;
    size_t no = (size_t)B * T * C;
    float *qkv = compare_rand_normal(nq, 1, 1.0f);
    int32_t mask[B * T];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            mask[b * T + t] = b == 2 ? 0 : (b == 1 ? t < 6 : 1);
    float *out_r = malloc(no * sizeof(float)), *out_g = malloc(no * sizeof(float));
    float *sc_r = malloc(ns * sizeof(float)), *sc_g = malloc(ns * sizeof(float));
    float *pr_r = malloc(ns * sizeof(float)), *pr_g = malloc(ns * sizeof(float));
    train_attention_forward_ref(out_r, sc_r, pr_r, qkv, mask, B, T, C, NH);
    fwd(g, out_g, sc_g, pr_g, qkv, mask, B, T, C, NH);
    double eo = compare_rel_err(out_g, out_r, no), es = compare_rel_err(sc_g, sc_r, ns);
    double ep = compare_rel_err(pr_g, pr_r, ns);
    printf("attention forward on %s: out %.3g scores %.3g probs %.3g\n", name,
           eo, es, ep);
    CHECK_MSG(eo <= 1e-5 && es <= 1e-5 && ep <= 1e-5, "%s %g %g %g", name, eo,
              es, ep);
    /* padded keys get probability exactly 0, an empty entry all zeros */
    int zeros = 1;
    for (int h = 0; h < NH; h++)
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) {
                if (!mask[1 * T + j])
                    zeros &= pr_g[((1 * NH + h) * T + i) * T + j] == 0.0f;
                zeros &= pr_g[((2 * NH + h) * T + i) * T + j] == 0.0f;
            }
    CHECK_MSG(zeros, "%s: padded keys must get probability 0", name);

    float *dout = compare_rand_normal(no, 2, 1.0f);
    float *ds0 = compare_rand_normal(ns, 3, 0.1f);
    float *dq0 = compare_rand_normal(nq, 4, 0.5f);
    float *ds_r = dup(ds0, ns), *ds_g = dup(ds0, ns);
    float *dq_r = dup(dq0, nq), *dq_g = dup(dq0, nq);
    float *scratch = malloc(ns * sizeof(float));
    train_attention_backward_ref(dq_r, ds_r, dout, qkv, pr_r, mask, B, T, C, NH);
    bwd(g, dq_g, ds_g, scratch, dout, qkv, pr_r, mask,
                                 B, T, C, NH);
    double eq = compare_rel_err(dq_g, dq_r, nq), ed = compare_rel_err(ds_g, ds_r, ns);
    printf("attention backward on %s: dqkv %.3g dscores %.3g\n", name, eq, ed);
    CHECK_MSG(eq <= 1e-5 && ed <= 1e-5, "%s %g %g", name, eq, ed);
    /* no scratch: the loops, same numbers */
    float *ds_n = dup(ds0, ns), *dq_n = dup(dq0, nq);
    bwd(g, dq_n, ds_n, NULL, dout, qkv, pr_r, mask, B,
                                 T, C, NH);
    CHECK(compare_rel_err(dq_n, dq_r, nq) <= 1e-5 && compare_rel_err(ds_n, ds_r, ns) <= 1e-5);
    free(ds_n); free(dq_n);
    free(qkv); free(out_r); free(out_g); free(sc_r); free(sc_g);
    free(pr_r); free(pr_g); free(dout); free(ds0); free(dq0);
    free(ds_r); free(ds_g); free(dq_r); free(dq_g); free(scratch);
}

/* MPNet's position bias: the batched GEMMs add it before the softmax as
 * the plain loops do (g NULL), and a zero bias changes nothing. */
static void test_attention_bias(gemm_ctx *g, const char *name)
{
    enum { B = 2, T = 9, NH = 2, HS = 16, C = NH * HS };
    size_t nq = (size_t)B * T * 3 * C, ns = (size_t)B * NH * T * T;
    size_t no = (size_t)B * T * C;
    float *qkv = compare_rand_normal(nq, 21, 1.0f);
    float *bias = compare_rand_normal((size_t)NH * T * T, 22, 1.0f);
    float *zero = calloc((size_t)NH * T * T, sizeof(float));
    int32_t mask[B * T];
    for (int i = 0; i < B * T; i++)
        mask[i] = i < T || i % T < 4;
    float *o[3], *sc[3], *pr[3];
    for (int k = 0; k < 3; k++) {
        o[k] = malloc(no * sizeof(float));
        sc[k] = malloc(ns * sizeof(float));
        pr[k] = malloc(ns * sizeof(float));
    }
    train_attention_forward_bias_ctx(NULL, o[0], sc[0], pr[0], qkv, mask, bias,
                                     B, T, C, NH);
    train_attention_forward_bias_ctx(g, o[1], sc[1], pr[1], qkv, mask, bias,
                                     B, T, C, NH);
    double eo = compare_rel_err(o[1], o[0], no), es = compare_rel_err(sc[1], sc[0], ns);
    double ep = compare_rel_err(pr[1], pr[0], ns);
    printf("attention forward with a position bias on %s: out %.3g scores "
           "%.3g probs %.3g\n", name, eo, es, ep);
    CHECK_MSG(eo <= 1e-5 && es <= 1e-5 && ep <= 1e-5, "%s %g %g %g", name, eo,
              es, ep);
    train_attention_forward_ref(o[0], sc[0], pr[0], qkv, mask, B, T, C, NH);
    train_attention_forward_bias_ctx(g, o[2], sc[2], pr[2], qkv, mask, zero,
                                     B, T, C, NH);
    CHECK(compare_rel_err(o[2], o[0], no) <= 1e-5 &&
          compare_rel_err(pr[2], pr[0], ns) <= 1e-5);
    for (int k = 0; k < 3; k++) {
        free(o[k]); free(sc[k]); free(pr[k]);
    }
    free(qkv); free(bias); free(zero);
}

static void test_linear(gemm_ctx *g, const char *name)
{
    enum { BT = 133, C = 40, OC = 150 }; /* OC: two full bias blocks + 22 */
    float *x = compare_rand_normal(BT * C, 5, 1.0f), *w = compare_rand_normal(C * OC, 6, 0.2f);
    float *b = compare_rand_normal(OC, 7, 0.5f);
    float *y_r = malloc(BT * OC * sizeof(float)), *y_g = malloc(BT * OC * sizeof(float));
    train_linear_forward(y_r, x, w, b, BT, C, OC);
    for (int i = 0; i < BT * OC; i++)
        y_g[i] = NAN; /* out is not read */
    train_linear_forward_ctx(g, y_g, x, w, b, BT, C, OC);
    double ey = compare_rel_err(y_g, y_r, BT * OC);
    printf("linear forward with bias on %s: %.3g\n", name, ey);
    CHECK_MSG(ey <= 1e-5, "%s %g", name, ey);

    float *dy = compare_rand_normal(BT * OC, 8, 1.0f);
    float *dx_r = compare_rand_normal(BT * C, 9, 1.0f), *dx_g = malloc(BT * C * sizeof(float));
    float *dw_r = compare_rand_normal(C * OC, 10, 1.0f), *dw_g = dup(dw_r, C * OC);
    float *db_r = compare_rand_normal(OC, 11, 1.0f), *db_g = dup(db_r, OC);
    float *db0 = dup(db_r, OC);
    /* reference: dx = 0 + dout wᵀ via the adding backward on zeros */
    for (int i = 0; i < BT * C; i++) {
        dx_r[i] = 0.0f;
        dx_g[i] = NAN; /* overwritten, never read */
    }
    train_linear_backward(dx_r, dw_r, db_r, dy, x, w, BT, C, OC);
    train_linear_backward_set_ctx(g, dx_g, dw_g, db_g, dy, x, w, BT, C, OC);
    double ex = compare_rel_err(dx_g, dx_r, BT * C), ew = compare_rel_err(dw_g, dw_r, C * OC);
    printf("linear backward (set dinp) on %s: dinp %.3g dw %.3g\n", name, ex, ew);
    CHECK_MSG(ex <= 1e-5 && ew <= 1e-5, "%s %g %g", name, ex, ew);
    /* the bias gradient: the plain column loop's bits */
    int same = 1;
    for (int o = 0; o < OC; o++) {
        double s = 0.0;
        for (int i = 0; i < BT; i++)
            s += dy[i * OC + o];
        same &= db_g[o] == db0[o] + (float)s;
    }
    CHECK_MSG(same, "%s: bias gradient differs from the column loop", name);
    free(x); free(w); free(b); free(y_r); free(y_g); free(dy); free(dx_r);
    free(dx_g); free(dw_r); free(dw_g); free(db_r); free(db_g); free(db0);
}

int main(void)
{
    ir_diag d;
    ir_diag_init(&d);
    const gemm_impl impls[] = {GEMM_ONEDNN, GEMM_BLAS};
    for (int k = 0; k < 2; k++) {
        gemm_ctx *g;
        CHECK_MSG(gemm_ctx_create(impls[k], &g, &d) == IR_OK, "%s", d.msg);
        char name[64];
        snprintf(name, sizeof name, "%s, batched GEMMs", gemm_impl_name(impls[k]));
        test_attention(g, name, train_attention_forward_gemm,
                       train_attention_backward_gemm);
        snprintf(name, sizeof name, "%s, dispatch", gemm_impl_name(impls[k]));
        test_attention(g, name, train_attention_forward_ctx,
                       train_attention_backward_ctx);
        test_attention_bias(g, gemm_impl_name(impls[k]));
        test_linear(g, gemm_impl_name(impls[k]));
        gemm_ctx_free(g);
    }
    return test_finish("test_train_gemm_kernels");
}

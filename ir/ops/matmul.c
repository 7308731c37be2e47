/* matmul.c — MatMul and Gemm for the reference interpreter, and their shape
 * inference.
 *
 * Semantics follow the ONNX operator spec: MatMul-13 (numpy.matmul: 1-D
 * operands are promoted to a matrix and the added axis removed again, leading
 * "batch" axes broadcast) and Gemm-13 (Y = alpha * A' * B' + beta * C, A' and
 * B' optionally transposed, C unidirectionally broadcast to (M, N)).
 *
 * Float types (f32, and f16/bf16 widened to float) accumulate in float, as
 * ONNX Runtime does; i32/i64 accumulate in int64. The float kernel must be
 * fast enough to run BERT-base through the interpreter (about 22 GFLOP per
 * sequence of 128), so it is blocked for the caches and its innermost loop is
 * a contiguous axpy over a row of the output that compilers vectorise. No
 * BLAS here: only backend/ and distill/ may use it.
 *
 * Dimension letters: M rows of A, K the contracted axis, N columns of B.
 */
#include "ir/ops/kernel.h"

#include <stdlib.h>
#include <string.h>

/* Block sizes for the float kernel: a KB x NB panel of B (128 x 512 floats =
 * 256 KiB) stays in L2 while every row of A streams past it; the output row
 * piece (NB floats = 2 KiB) stays in L1. */
#define MM_KB 128
#define MM_NB 512

/* ---- small helpers ------------------------------------------------------ */

/* "[batch,seq,768]" for messages. */
static const char *mm_format_value_shape(const ir_value *v, char *buf, size_t n)
{
    if (v->rank < 0) {
        snprintf(buf, n, "[?]");
        return buf;
    }
    size_t off = 0;
    off += (size_t)snprintf(buf + off, n - off, "[");
    for (int i = 0; i < v->rank && off < n; i++) {
        const ir_dim *dm = &v->dims[i];
        if (ir_dim_known(*dm))
            off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? "," : "",
                                    (long long)dm->size);
        else
            off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? "," : "",
                                    dm->sym ? dm->sym : "?");
    }
    if (off < n)
        snprintf(buf + off, n - off, "]");
    return buf;
}

static const char *mm_format_dims(int rank, const int64_t *dims, char *buf,
                                  size_t n)
{
    size_t off = 0;
    off += (size_t)snprintf(buf + off, n - off, "[");
    for (int i = 0; i < rank && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? "," : "",
                                (long long)dims[i]);
    if (off < n)
        snprintf(buf + off, n - off, "]");
    return buf;
}

static bool mm_dtype_ok(ir_dtype t)
{
    return t == IR_DT_F32 || t == IR_DT_F16 || t == IR_DT_BF16 ||
           t == IR_DT_I32 || t == IR_DT_I64;
}

/* The tensor's elements as float: the payload itself for f32 (*owned false),
 * else a widened heap copy (*owned true). NULL only on out of memory. */
static float *mm_as_float(const ir_tensor *t, size_t n, bool *owned)
{
    *owned = false;
    if (t->dtype == IR_DT_F32)
        return (float *)t->data;
    float *f = malloc((n ? n : 1) * sizeof *f);
    if (!f)
        return NULL;
    for (size_t i = 0; i < n; i++)
        f[i] = (float)ir_tensor_get_f64(t, (int64_t)i);
    *owned = true;
    return f;
}

static int64_t *mm_as_i64(const ir_tensor *t, size_t n)
{
    int64_t *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = ir_tensor_get_i64(t, (int64_t)i);
    return p;
}

/* Stores float results into t (a no-op when t is f32 and f is its data). */
static void mm_store_float(ir_tensor *t, const float *f, size_t n)
{
    if (t->dtype == IR_DT_F32 && (const void *)f == t->data)
        return;
    for (size_t i = 0; i < n; i++)
        ir_tensor_set_f64(t, (int64_t)i, f[i]);
}

static void mm_store_i64(ir_tensor *t, const int64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (t->dtype == IR_DT_I64)
            ((int64_t *)t->data)[i] = v[i];
        else
            ((int32_t *)t->data)[i] = (int32_t)v[i];
    }
}

/* ---- the kernels ---------------------------------------------------------- */

/* c[M,N] += a[M,K] . b[K,N], all row-major with leading dims lda, ldb, ldc.
 * i-k-j order inside KB x NB panels of b: the inner loop is an axpy over a
 * contiguous piece of one output row. */
/* Optimised even in Debug builds: test suites run BERT-sized graphs through
 * the interpreter under ASan, where an -O0 kernel is 3-4x slower. The
 * sanitizer checks stay on. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static void mm_f32_kernel(size_t M, size_t N, size_t K, const float *a,
                          size_t lda, const float *b, size_t ldb, float *c,
                          size_t ldc)
{
    for (size_t j0 = 0; j0 < N; j0 += MM_NB) {
        size_t nb = N - j0 < MM_NB ? N - j0 : MM_NB;
        for (size_t k0 = 0; k0 < K; k0 += MM_KB) {
            size_t kb = K - k0 < MM_KB ? K - k0 : MM_KB;
            size_t i = 0;
            /* Four rows at a time: each loaded row of b serves four axpys. */
            for (; i + 4 <= M; i += 4) {
                float *restrict c0 = c + (i + 0) * ldc + j0;
                float *restrict c1 = c + (i + 1) * ldc + j0;
                float *restrict c2 = c + (i + 2) * ldc + j0;
                float *restrict c3 = c + (i + 3) * ldc + j0;
                for (size_t k = k0; k < k0 + kb; k++) {
                    const float *restrict bk = b + k * ldb + j0;
                    float a0 = a[(i + 0) * lda + k], a1 = a[(i + 1) * lda + k];
                    float a2 = a[(i + 2) * lda + k], a3 = a[(i + 3) * lda + k];
                    for (size_t j = 0; j < nb; j++) {
                        float bv = bk[j];
                        c0[j] += a0 * bv;
                        c1[j] += a1 * bv;
                        c2[j] += a2 * bv;
                        c3[j] += a3 * bv;
                    }
                }
            }
            for (; i < M; i++) {
                float *restrict ci = c + i * ldc + j0;
                for (size_t k = k0; k < k0 + kb; k++) {
                    const float *restrict bk = b + k * ldb + j0;
                    float av = a[i * lda + k];
                    for (size_t j = 0; j < nb; j++)
                        ci[j] += av * bk[j];
                }
            }
        }
    }
}

static void mm_i64_kernel(size_t M, size_t N, size_t K, const int64_t *a,
                          const int64_t *b, int64_t *c)
{
    for (size_t i = 0; i < M; i++)
        for (size_t k = 0; k < K; k++) {
            /* wrap-around like the C types ONNX Runtime uses, without UB */
            uint64_t av = (uint64_t)a[i * K + k];
            for (size_t j = 0; j < N; j++)
                c[i * N + j] = (int64_t)((uint64_t)c[i * N + j] +
                                         av * (uint64_t)b[k * N + j]);
        }
}

/* ---- MatMul --------------------------------------------------------------- */

ir_status ir_eval_MATMUL(ir_kernel_args *a)
{
    const ir_tensor *A = a->inputs[0], *B = a->inputs[1];
    char s1[256], s2[256];
    if (A->dtype != B->dtype)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "inputs have different types %s and %s",
                              ir_dtype_name(A->dtype), ir_dtype_name(B->dtype));
    if (!mm_dtype_ok(A->dtype))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "element type %s is not supported",
                              ir_dtype_name(A->dtype));
    if (A->rank < 1 || B->rank < 1)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "inputs must have rank >= 1, got %s and %s",
                              mm_format_dims(A->rank, A->dims, s1, sizeof s1),
                              mm_format_dims(B->rank, B->dims, s2, sizeof s2));
    /* Promote 1-D operands: A [K] -> [1,K], B [K] -> [K,1]. */
    int64_t ad[IR_MAX_RANK], bd[IR_MAX_RANK];
    int ar = A->rank, br = B->rank;
    memcpy(ad, A->dims, sizeof(int64_t) * (size_t)ar);
    memcpy(bd, B->dims, sizeof(int64_t) * (size_t)br);
    if (ar == 1) { ad[1] = ad[0]; ad[0] = 1; ar = 2; }
    if (br == 1) { bd[1] = 1; br = 2; }
    int64_t M = ad[ar - 2], K = ad[ar - 1], N = bd[br - 1];
    if (bd[br - 2] != K)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "inner dimensions differ: A is %s, B is %s",
                              mm_format_dims(A->rank, A->dims, s1, sizeof s1),
                              mm_format_dims(B->rank, B->dims, s2, sizeof s2));
    /* Broadcast the batch axes. */
    int ranks[2] = {ar - 2, br - 2};
    const int64_t *bdims[2] = {ad, bd};
    int batch_rank;
    int64_t batch[IR_MAX_RANK];
    if (ir_broadcast_dims(2, ranks, bdims, &batch_rank, batch) != IR_OK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "batch dimensions do not broadcast: A is %s, B is %s",
                              mm_format_dims(A->rank, A->dims, s1, sizeof s1),
                              mm_format_dims(B->rank, B->dims, s2, sizeof s2));
    int64_t od[IR_MAX_RANK];
    int orank = batch_rank;
    memcpy(od, batch, sizeof(int64_t) * (size_t)batch_rank);
    if (A->rank > 1) od[orank++] = M;
    if (B->rank > 1) od[orank++] = N;
    if (orank > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "output rank %d exceeds %d", orank, IR_MAX_RANK);
    ir_tensor *Y;
    ir_status st = ir_tensor_create(A->dtype, orank, od, &Y, a->diag);
    if (st != IR_OK)
        return ir_kernel_fail(a->diag, a->node, st, "output: %s", a->diag->msg);

    /* Batch strides of A and B in matrices; 0 where the axis broadcasts. */
    int64_t nbatch = ir_numel_checked(batch_rank, batch);
    int64_t astr[IR_MAX_RANK], bstr[IR_MAX_RANK];
    {
        int64_t s = 1;
        for (int i = batch_rank - 1; i >= 0; i--) {
            int ai = i - (batch_rank - ranks[0]);
            astr[i] = (ai >= 0 && ad[ai] != 1) ? s : 0;
            if (ai >= 0) s *= ad[ai];
        }
        s = 1;
        for (int i = batch_rank - 1; i >= 0; i--) {
            int bi = i - (batch_rank - ranks[1]);
            bstr[i] = (bi >= 0 && bd[bi] != 1) ? s : 0;
            if (bi >= 0) s *= bd[bi];
        }
    }
    size_t na = (size_t)ir_tensor_numel(A), nbn = (size_t)ir_tensor_numel(B);
    size_t ny = (size_t)ir_tensor_numel(Y);
    size_t mk = (size_t)(M * K), kn = (size_t)(K * N), mn = (size_t)(M * N);
    bool is_float = ir_dtype_is_float(A->dtype);
    bool oa = false, ob = false, oy = false;
    float *fa = NULL, *fb = NULL, *fy = NULL;
    int64_t *ia = NULL, *ib = NULL, *iy = NULL;
    if (is_float) {
        fa = mm_as_float(A, na, &oa);
        fb = mm_as_float(B, nbn, &ob);
        if (Y->dtype == IR_DT_F32) {
            fy = Y->data;
        } else {
            fy = calloc(ny ? ny : 1, sizeof *fy);
            oy = true;
        }
        if ((na && !fa) || (nbn && !fb) || (ny && !fy))
            goto nomem;
    } else {
        ia = mm_as_i64(A, na);
        ib = mm_as_i64(B, nbn);
        iy = calloc(ny ? ny : 1, sizeof *iy);
        if (!ia || !ib || !iy)
            goto nomem;
    }
    for (int64_t bi = 0; bi < nbatch && mn > 0; bi++) {
        /* Unravel the batch index into A's and B's matrix offsets. */
        int64_t rem = bi, aoff = 0, boff = 0;
        for (int i = batch_rank - 1; i >= 0; i--) {
            int64_t idx = rem % batch[i];
            rem /= batch[i];
            aoff += idx * astr[i];
            boff += idx * bstr[i];
        }
        if (is_float)
            mm_f32_kernel((size_t)M, (size_t)N, (size_t)K, fa + aoff * (int64_t)mk,
                          (size_t)K, fb + boff * (int64_t)kn, (size_t)N,
                          fy + bi * (int64_t)mn, (size_t)N);
        else
            mm_i64_kernel((size_t)M, (size_t)N, (size_t)K, ia + aoff * (int64_t)mk,
                          ib + boff * (int64_t)kn, iy + bi * (int64_t)mn);
    }
    if (is_float)
        mm_store_float(Y, fy, ny);
    else
        mm_store_i64(Y, iy, ny);
    if (oa) free(fa);
    if (ob) free(fb);
    if (oy) free(fy);
    free(ia); free(ib); free(iy);
    a->outputs[0] = Y;
    return IR_OK;
nomem:
    if (oa) free(fa);
    if (ob) free(fb);
    if (oy) free(fy);
    free(ia); free(ib); free(iy);
    ir_tensor_free(Y);
    return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
}

/* Symbolic broadcast of two dim lists (right-aligned); false if two known
 * sizes clash. */
static bool mm_broadcast_sym(int ra, const ir_dim *da, int rb, const ir_dim *db,
                             int *ro, ir_dim *out)
{
    int r = ra > rb ? ra : rb;
    for (int k = 0; k < r; k++) {
        int ia = k - (r - ra), ib = k - (r - rb);
        ir_dim x = ia >= 0 ? da[ia] : ir_dim_const(1);
        ir_dim y = ib >= 0 ? db[ib] : ir_dim_const(1);
        if (x.size == 1)
            out[k] = y;
        else if (y.size == 1)
            out[k] = x;
        else if (ir_dim_known(x) && ir_dim_known(y)) {
            if (x.size != y.size)
                return false;
            out[k] = x;
        } else if (ir_dim_known(x))
            out[k] = x;
        else if (ir_dim_known(y))
            out[k] = y;
        else
            out[k] = ir_dim_equal(x, y) ? x : ir_dim_unknown();
    }
    *ro = r;
    return true;
}

/* Known sizes that differ are an error; a symbol against anything is not. */
static bool mm_dims_clash(ir_dim x, ir_dim y)
{
    return ir_dim_known(x) && ir_dim_known(y) && x.size != y.size;
}

ir_status ir_infer_MATMUL(ir_infer_args *a)
{
    ir_node *n = a->node;
    const ir_value *A = n->inputs[0], *B = n->inputs[1];
    ir_value *Y = n->outputs[0];
    char s1[256], s2[256];
    if (!Y)
        return IR_OK;
    if (A->dtype != IR_DT_UNDEF && B->dtype != IR_DT_UNDEF &&
        A->dtype != B->dtype)
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "inputs have different types %s and %s",
                              ir_dtype_name(A->dtype), ir_dtype_name(B->dtype));
    Y->dtype = A->dtype != IR_DT_UNDEF ? A->dtype : B->dtype;
    Y->rank = -1;
    if (A->rank < 0 || B->rank < 0)
        return IR_OK;
    if (A->rank == 0 || B->rank == 0)
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "inputs must have rank >= 1, got %s and %s",
                              mm_format_value_shape(A, s1, sizeof s1),
                              mm_format_value_shape(B, s2, sizeof s2));
    ir_dim ad[IR_MAX_RANK + 1], bd[IR_MAX_RANK + 1];
    int ar = A->rank, br = B->rank;
    memcpy(ad, A->dims, sizeof(ir_dim) * (size_t)ar);
    memcpy(bd, B->dims, sizeof(ir_dim) * (size_t)br);
    if (ar == 1) { ad[1] = ad[0]; ad[0] = ir_dim_const(1); ar = 2; }
    if (br == 1) { bd[1] = ir_dim_const(1); br = 2; }
    if (mm_dims_clash(ad[ar - 1], bd[br - 2]))
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "inner dimensions differ: A '%s' is %s, B '%s' is %s",
                              A->name, mm_format_value_shape(A, s1, sizeof s1),
                              B->name, mm_format_value_shape(B, s2, sizeof s2));
    ir_dim od[2 * IR_MAX_RANK];
    int orank;
    if (!mm_broadcast_sym(ar - 2, ad, br - 2, bd, &orank, od))
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "batch dimensions do not broadcast: A '%s' is %s, "
                              "B '%s' is %s",
                              A->name, mm_format_value_shape(A, s1, sizeof s1),
                              B->name, mm_format_value_shape(B, s2, sizeof s2));
    if (A->rank > 1) od[orank++] = ad[ar - 2];
    if (B->rank > 1) od[orank++] = bd[br - 1];
    if (orank > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, n, IR_ERR_UNSUPPORTED,
                              "output rank %d exceeds %d", orank, IR_MAX_RANK);
    Y->rank = orank;
    memcpy(Y->dims, od, sizeof(ir_dim) * (size_t)orank);
    return IR_OK;
}

/* ---- Gemm ----------------------------------------------------------------- */

ir_status ir_eval_GEMM(ir_kernel_args *a)
{
    const ir_tensor *A = a->inputs[0], *B = a->inputs[1];
    const ir_tensor *C = a->n_inputs > 2 ? a->inputs[2] : NULL;
    char s1[256], s2[256];
    int64_t ta = ir_node_attr_int(a->node, "transA", 0);
    int64_t tb = ir_node_attr_int(a->node, "transB", 0);
    float alpha = ir_node_attr_float(a->node, "alpha", 1.0f);
    float beta = ir_node_attr_float(a->node, "beta", 1.0f);
    if (A->dtype != B->dtype || (C && C->dtype != A->dtype))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "inputs have different types %s, %s%s%s",
                              ir_dtype_name(A->dtype), ir_dtype_name(B->dtype),
                              C ? " and " : "", C ? ir_dtype_name(C->dtype) : "");
    if (!mm_dtype_ok(A->dtype))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "element type %s is not supported",
                              ir_dtype_name(A->dtype));
    if (A->rank != 2 || B->rank != 2)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "A and B must be 2-D, got %s and %s",
                              mm_format_dims(A->rank, A->dims, s1, sizeof s1),
                              mm_format_dims(B->rank, B->dims, s2, sizeof s2));
    int64_t M = ta ? A->dims[1] : A->dims[0], K = ta ? A->dims[0] : A->dims[1];
    int64_t K2 = tb ? B->dims[1] : B->dims[0], N = tb ? B->dims[0] : B->dims[1];
    if (K != K2)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "inner dimensions differ: A is %s (transA=%lld), "
                              "B is %s (transB=%lld)",
                              mm_format_dims(2, A->dims, s1, sizeof s1),
                              (long long)ta,
                              mm_format_dims(2, B->dims, s2, sizeof s2),
                              (long long)tb);
    /* C broadcasts unidirectionally to (M, N). */
    int64_t cs0 = 0, cs1 = 0; /* strides into C over (m, n) */
    if (C) {
        int64_t c0 = C->rank >= 2 ? C->dims[C->rank - 2] : 1;
        int64_t c1 = C->rank >= 1 ? C->dims[C->rank - 1] : 1;
        if (C->rank > 2 || (c0 != 1 && c0 != M) || (c1 != 1 && c1 != N))
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "C of shape %s does not broadcast to (%lld, %lld)",
                                  mm_format_dims(C->rank, C->dims, s1, sizeof s1),
                                  (long long)M, (long long)N);
        cs1 = c1 == 1 ? 0 : 1;
        cs0 = c0 == 1 ? 0 : c1;
    }
    int64_t od[2] = {M, N};
    ir_tensor *Y;
    ir_status st = ir_tensor_create(A->dtype, 2, od, &Y, a->diag);
    if (st != IR_OK)
        return ir_kernel_fail(a->diag, a->node, st, "output: %s", a->diag->msg);
    size_t mk = (size_t)(M * K), kn = (size_t)(K * N), mn = (size_t)(M * N);
    if (ir_dtype_is_float(A->dtype)) {
        bool oa, ob;
        float *fa = mm_as_float(A, mk, &oa), *fb = mm_as_float(B, kn, &ob);
        float *pa = malloc((mk ? mk : 1) * sizeof *pa);
        float *pb = malloc((kn ? kn : 1) * sizeof *pb);
        float *fy = calloc(mn ? mn : 1, sizeof *fy);
        if ((mk && !fa) || (kn && !fb) || !pa || !pb || !fy) {
            if (oa) free(fa);
            if (ob) free(fb);
            free(pa); free(pb); free(fy);
            ir_tensor_free(Y);
            return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
        }
        /* Lay A' and B' out row-major so one kernel serves all four cases. */
        for (int64_t m = 0; m < M; m++)
            for (int64_t k = 0; k < K; k++)
                pa[m * K + k] = ta ? fa[k * M + m] : fa[m * K + k];
        for (int64_t k = 0; k < K; k++)
            for (int64_t nn = 0; nn < N; nn++)
                pb[k * N + nn] = tb ? fb[nn * K + k] : fb[k * N + nn];
        mm_f32_kernel((size_t)M, (size_t)N, (size_t)K, pa, (size_t)K, pb,
                      (size_t)N, fy, (size_t)N);
        for (int64_t m = 0; m < M; m++)
            for (int64_t nn = 0; nn < N; nn++) {
                float v = alpha * fy[m * N + nn];
                if (C && beta != 0.0f)
                    v += beta * (float)ir_tensor_get_f64(C, m * cs0 + nn * cs1);
                fy[m * N + nn] = v;
            }
        mm_store_float(Y, fy, mn);
        if (oa) free(fa);
        if (ob) free(fb);
        free(pa); free(pb); free(fy);
    } else {
        /* Integer Gemm: alpha and beta are applied in double then truncated,
         * as the ONNX reference implementation's numpy arithmetic does. */
        for (int64_t m = 0; m < M; m++)
            for (int64_t nn = 0; nn < N; nn++) {
                int64_t acc = 0;
                for (int64_t k = 0; k < K; k++) {
                    int64_t x = ir_tensor_get_i64(A, ta ? k * M + m : m * K + k);
                    int64_t w = ir_tensor_get_i64(B, tb ? nn * K + k : k * N + nn);
                    acc = (int64_t)((uint64_t)acc + (uint64_t)x * (uint64_t)w);
                }
                double v = (double)alpha * (double)acc;
                if (C)
                    v += (double)beta *
                         (double)ir_tensor_get_i64(C, m * cs0 + nn * cs1);
                ir_tensor_set_f64(Y, m * N + nn, v);
            }
    }
    a->outputs[0] = Y;
    return IR_OK;
}

ir_status ir_infer_GEMM(ir_infer_args *a)
{
    ir_node *n = a->node;
    const ir_value *A = n->inputs[0], *B = n->inputs[1];
    ir_value *Y = n->outputs[0];
    char s1[256], s2[256];
    if (!Y)
        return IR_OK;
    Y->dtype = A->dtype != IR_DT_UNDEF ? A->dtype : B->dtype;
    Y->rank = -1;
    if (A->rank < 0 || B->rank < 0)
        return IR_OK;
    if (A->rank != 2 || B->rank != 2)
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "A and B must be 2-D, got %s and %s",
                              mm_format_value_shape(A, s1, sizeof s1),
                              mm_format_value_shape(B, s2, sizeof s2));
    int64_t ta = ir_node_attr_int(n, "transA", 0);
    int64_t tb = ir_node_attr_int(n, "transB", 0);
    ir_dim M = A->dims[ta ? 1 : 0], K = A->dims[ta ? 0 : 1];
    ir_dim K2 = B->dims[tb ? 1 : 0], N = B->dims[tb ? 0 : 1];
    if (mm_dims_clash(K, K2))
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "inner dimensions differ: A '%s' is %s, B '%s' is %s",
                              A->name, mm_format_value_shape(A, s1, sizeof s1),
                              B->name, mm_format_value_shape(B, s2, sizeof s2));
    Y->rank = 2;
    Y->dims[0] = M;
    Y->dims[1] = N;
    return IR_OK;
}

/* dnnl_matmul.c — oneDNN 2.6 matmul primitives (dnnl_matmul_desc_init, then
 * dnnl_primitive_desc_create) behind the two calls of dnnl_matmul.h: a
 * general strided batched matmul cached per shape in the context, and a
 * linear layer whose weights are packed once into the layout the primitive
 * asks for (weights memory desc with format_tag any). Semantics follow ONNX
 * MatMul-13 (batched, broadcast batch dims) and Gemm-13 (alpha, beta, bias),
 * with the fused epilogue described in the header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/dnnl_internal.h"
#include "backend/dnnl_matmul.h"
#include "ir/ir.h"

onednn_view onednn_view_dense(int rank, const int64_t *dims)
{
    onednn_view v;
    memset(&v, 0, sizeof v);
    v.rank = rank;
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        v.dims[i] = dims[i];
        v.strides[i] = s;
        s *= dims[i];
    }
    return v;
}

/* ir_f32_to_bf16, bit for bit (round to nearest even, NaN kept quiet), but
 * inline and branch-free so the conversion loop vectorises. */
static inline uint16_t matmul_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    uint32_t nan = (u >> 16) | 0x40u;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? nan : r);
}

static dnnl_data_type_t dt_of(onednn_dt t)
{
    return t == ONEDNN_BF16 ? dnnl_bf16 : dnnl_f32;
}

dnnl_alg_kind_t onednn_act_alg(ir_act a)
{
    switch (a) {
    case IR_ACT_GELU: return dnnl_eltwise_gelu_erf;
    case IR_ACT_GELU_TANH: return dnnl_eltwise_gelu_tanh;
    case IR_ACT_RELU: return dnnl_eltwise_relu;
    case IR_ACT_TANH: return dnnl_eltwise_tanh;
    default: return dnnl_alg_kind_undef;
    }
}

/* "[2x3x4]" into buf. */
static const char *dims_str(const onednn_view *v, char *buf, size_t n)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, n - o, "[");
    for (int i = 0; i < v->rank && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? "x" : "",
                              (long long)v->dims[i]);
    if (o < n)
        snprintf(buf + o, n - o, "]");
    return buf;
}

/* "matmul f32 [MxK]·[KxN]->[MxN]": names the primitive and shape in errors. */
static void desc_name(const onednn_matmul_desc *m, char *buf, size_t n)
{
    char a[96], b[96], c[96];
    snprintf(buf, n, "matmul %s %s·%s->%s", m->dt == ONEDNN_BF16 ? "bf16" : "f32",
             dims_str(&m->a, a, sizeof a), dims_str(&m->b, b, sizeof b),
             dims_str(&m->c, c, sizeof c));
}

static int view_ok(const onednn_view *v)
{
    if (v->rank < 2 || v->rank > ONEDNN_MAX_RANK)
        return 0;
    for (int i = 0; i < v->rank; i++)
        if (v->dims[i] <= 0 || v->strides[i] < 0)
            return 0;
    return 1;
}

static ir_status desc_check(const onednn_matmul_desc *m, const char *what,
                            ir_diag *d)
{
    if ((unsigned)m->dt >= ONEDNN_DT_COUNT || (unsigned)m->act >= IR_ACT_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: bad dtype or activation", what);
    if (!view_ok(&m->a) || !view_ok(&m->b) || !view_ok(&m->c))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: ranks must be 2..%d, dims positive, strides "
                           "non-negative", what, ONEDNN_MAX_RANK);
    int r = m->c.rank;
    if (m->a.rank != r || m->b.rank != r)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: A, B and C must have the same rank", what);
    const int64_t *a = m->a.dims, *b = m->b.dims, *c = m->c.dims;
    if (a[r - 1] != b[r - 2] || a[r - 2] != c[r - 2] || b[r - 1] != c[r - 1])
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: inner dims or output dims do not match "
                           "(need A[..,M,K]·B[..,K,N] -> C[..,M,N])", what);
    for (int i = 0; i < r - 2; i++) {
        int64_t want = a[i] > b[i] ? a[i] : b[i];
        if ((a[i] != 1 && a[i] != want) || (b[i] != 1 && b[i] != want) ||
            c[i] != want)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: batch dim %d does not broadcast", what, i);
    }
    if (m->has_r) {
        if (!view_ok(&m->r) || m->r.rank != r)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: residual view must have C's rank", what);
        for (int i = 0; i < r; i++)
            if (m->r.dims[i] != 1 && m->r.dims[i] != c[i])
                return ir_diag_set(d, IR_ERR_INPUT,
                                   "%s: residual dim %d (%lld) does not "
                                   "broadcast to C", what, i,
                                   (long long)m->r.dims[i]);
    }
    return IR_OK;
}

static int key_put_view(onednn_key *k, int o, const onednn_view *v)
{
    k->w[o++] = v->rank;
    for (int i = 0; i < ONEDNN_MAX_RANK; i++) {
        k->w[o++] = i < v->rank ? v->dims[i] : 0;
        k->w[o++] = i < v->rank ? v->strides[i] : 0;
    }
    return o;
}

static int64_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (int64_t)u;
}

static void md_of_view(dnnl_memory_desc_t *md, const onednn_view *v,
                       dnnl_data_type_t t)
{
    dnnl_dims_t dims, strides;
    for (int i = 0; i < v->rank; i++) {
        dims[i] = v->dims[i];
        strides[i] = v->strides[i];
    }
    dnnl_memory_desc_init_by_strides(md, v->rank, dims, t, strides);
}

/* Attributes for alpha, activation, sum and binary add; *attr is NULL when
 * none are needed. */
static ir_status make_attr(float alpha, ir_act act, float beta,
                           const dnnl_memory_desc_t *r_md,
                           dnnl_primitive_attr_t *attr, ir_diag *d,
                           const char *what)
{
    *attr = NULL;
    if (alpha == 1.0f && act == IR_ACT_NONE && beta == 0.0f && !r_md)
        return IR_OK;
    dnnl_post_ops_t po = NULL;
    ir_status s = onednn_check(dnnl_primitive_attr_create(attr), d, what);
    if (s == IR_OK && alpha != 1.0f)
        s = onednn_check(dnnl_primitive_attr_set_output_scales(*attr, 1, 0, &alpha),
                         d, what);
    if (s == IR_OK)
        s = onednn_check(dnnl_post_ops_create(&po), d, what);
    if (s == IR_OK && act != IR_ACT_NONE)
        s = onednn_check(dnnl_post_ops_append_eltwise(po, 1.0f, onednn_act_alg(act),
                                                      0.0f, 0.0f), d, what);
    if (s == IR_OK && beta != 0.0f)
        s = onednn_check(dnnl_post_ops_append_sum(po, beta), d, what);
    if (s == IR_OK && r_md)
        s = onednn_check(dnnl_post_ops_append_binary(po, dnnl_binary_add, r_md),
                         d, what);
    if (s == IR_OK)
        s = onednn_check(dnnl_primitive_attr_set_post_ops(*attr, po), d, what);
    if (po)
        dnnl_post_ops_destroy(po);
    if (s != IR_OK) {
        if (*attr)
            dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
    }
    return s;
}

/* Index of the binary post-op among the post-ops (for its exec arg id). */
static int binary_index(ir_act act, float beta)
{
    return (act != IR_ACT_NONE) + (beta != 0.0f);
}

ir_status onednn_matmul_run(onednn_ctx *ctx, const onednn_matmul_desc *desc,
                            const onednn_matmul_args *args, ir_diag *d)
{
    char what[512];
    desc_name(desc, what, sizeof what);
    ir_status s = desc_check(desc, what, d);
    if (s != IR_OK)
        return s;
    if (!args->a || !args->b || !args->c || (desc->has_bias && !args->bias) ||
        (desc->has_r && !args->r))
        return ir_diag_set(d, IR_ERR_INPUT, "%s: a buffer is NULL", what);
    float alpha = desc->alpha == 0.0f ? 1.0f : desc->alpha;

    onednn_key key;
    memset(&key, 0, sizeof key);
    int o = 0;
    key.w[o++] = 1; /* kind: strided matmul */
    key.w[o++] = desc->dt;
    key.w[o++] = desc->has_bias;
    key.w[o++] = float_bits(alpha);
    key.w[o++] = desc->act;
    key.w[o++] = float_bits(desc->beta);
    key.w[o++] = desc->has_r;
    o = key_put_view(&key, o, &desc->a);
    o = key_put_view(&key, o, &desc->b);
    o = key_put_view(&key, o, &desc->c);
    if (desc->has_r)
        o = key_put_view(&key, o, &desc->r);
    IR_CHECK(d, o <= ONEDNN_KEY_WORDS);

    onednn_entry *e = onednn_cache_find(&ctx->cache, &key);
    if (!e) {
        dnnl_memory_desc_t mds[5];
        int ids[5];
        int n = 0;
        md_of_view(&mds[n], &desc->a, dt_of(desc->dt)); ids[n++] = DNNL_ARG_SRC;
        md_of_view(&mds[n], &desc->b, dt_of(desc->dt)); ids[n++] = DNNL_ARG_WEIGHTS;
        if (desc->has_bias) {
            dnnl_dims_t bd;
            for (int i = 0; i < desc->c.rank; i++)
                bd[i] = 1;
            bd[desc->c.rank - 1] = desc->c.dims[desc->c.rank - 1];
            dnnl_memory_desc_init_by_tag(&mds[n], desc->c.rank, bd, dnnl_f32,
                                         desc->c.rank == 2 ? dnnl_ab
                                         : desc->c.rank == 3 ? dnnl_abc
                                                             : dnnl_abcd);
            ids[n++] = DNNL_ARG_BIAS;
        }
        md_of_view(&mds[n], &desc->c, dnnl_f32); ids[n++] = DNNL_ARG_DST;
        const dnnl_memory_desc_t *r_md = NULL;
        if (desc->has_r) {
            md_of_view(&mds[n], &desc->r, dnnl_f32);
            r_md = &mds[n];
            ids[n++] = DNNL_ARG_ATTR_MULTIPLE_POST_OP(
                           binary_index(desc->act, desc->beta)) | DNNL_ARG_SRC_1;
        }
        dnnl_matmul_desc_t op;
        s = onednn_check(dnnl_matmul_desc_init(&op, &mds[0], &mds[1],
                                               desc->has_bias ? &mds[2] : NULL,
                                               &mds[desc->has_bias ? 3 : 2]),
                         d, what);
        if (s != IR_OK)
            return s;
        dnnl_primitive_attr_t attr;
        s = make_attr(alpha, desc->act, desc->beta, r_md, &attr, d, what);
        if (s != IR_OK)
            return s;
        dnnl_primitive_desc_t pd;
        dnnl_primitive_t prim;
        s = onednn_prim_from_desc(ctx, &op, attr, &pd, &prim, d, what);
        if (attr)
            dnnl_primitive_attr_destroy(attr);
        if (s != IR_OK)
            return s;
        dnnl_primitive_desc_destroy(pd);
        s = onednn_cache_add(ctx, &ctx->cache, &key, prim, n, ids, mds, &e, d, what);
        if (s != IR_OK)
            return s;
    }
    void *ptrs[5];
    int n = 0;
    ptrs[n++] = (void *)args->a;
    ptrs[n++] = (void *)args->b;
    if (desc->has_bias)
        ptrs[n++] = (void *)args->bias;
    ptrs[n++] = args->c;
    if (desc->has_r)
        ptrs[n++] = (void *)args->r;
    return onednn_entry_run(ctx, e, ptrs, d, what);
}

/* ---- linear ------------------------------------------------------------ */

struct onednn_linear {
    onednn_ctx *ctx;
    onednn_linear_desc desc;
    dnnl_memory_desc_t packed_md;   /* layout the weights are packed in */
    void *packed;                   /* [K,N] in packed_md */
    float *bias;                    /* [N] or NULL */
    uint16_t *xb;                   /* bf16 copy of x, grown as needed */
    size_t xb_len;
    onednn_cache cache;             /* one entry per (M, residual) */
};

/* Matmul op desc for M rows of this linear, weights in format any. */
static void linear_mds(const onednn_linear_desc *ld, int64_t m,
                       dnnl_memory_desc_t *src, dnnl_memory_desc_t *wei,
                       dnnl_memory_desc_t *bias, dnnl_memory_desc_t *dst)
{
    dnnl_dims_t sd = {m, ld->k}, wd = {ld->k, ld->n}, bd = {1, ld->n},
                dd = {m, ld->n};
    dnnl_memory_desc_init_by_tag(src, 2, sd, dt_of(ld->dt), dnnl_ab);
    dnnl_memory_desc_init_by_tag(wei, 2, wd, dt_of(ld->dt), dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(bias, 2, bd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(dst, 2, dd, dnnl_f32, dnnl_ab);
}

/* Primitive desc for M rows; caller destroys it. */
static ir_status linear_pd(onednn_linear *lin, int64_t m, int with_r,
                           dnnl_primitive_desc_t *pd, dnnl_memory_desc_t *mds,
                           ir_diag *d, const char *what)
{
    const onednn_linear_desc *ld = &lin->desc;
    linear_mds(ld, m, &mds[0], &mds[1], &mds[2], &mds[3]);
    dnnl_dims_t rd = {m, ld->n};
    dnnl_memory_desc_init_by_tag(&mds[4], 2, rd, dnnl_f32, dnnl_ab);
    dnnl_matmul_desc_t op;
    ir_status s = onednn_check(dnnl_matmul_desc_init(&op, &mds[0], &mds[1],
                                                     lin->bias ? &mds[2] : NULL,
                                                     &mds[3]), d, what);
    if (s != IR_OK)
        return s;
    dnnl_primitive_attr_t attr;
    s = make_attr(1.0f, ld->act, 0.0f, with_r ? &mds[4] : NULL, &attr, d, what);
    if (s != IR_OK)
        return s;
    s = onednn_check(dnnl_primitive_desc_create(pd, &op, attr, lin->ctx->engine, NULL),
                     d, what);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (s == IR_OK) /* the layout the implementation chose for the weights */
        mds[1] = *dnnl_primitive_desc_query_md(*pd, dnnl_query_weights_md, 0);
    return s;
}

static void linear_name(const onednn_linear_desc *ld, int64_t m, char *buf, size_t n)
{
    snprintf(buf, n, "linear %s [%lldx%lld]·[%lldx%lld] %s",
             ld->dt == ONEDNN_BF16 ? "bf16" : "f32", (long long)m,
             (long long)ld->k, (long long)ld->k, (long long)ld->n,
             ir_act_form_name(ld->act));
}

ir_status onednn_linear_create(onednn_ctx *ctx, const onednn_linear_desc *ld,
                               const float *w, const float *bias,
                               onednn_linear **out, ir_diag *d)
{
    *out = NULL;
    int64_t m = ld->m_hint > 0 ? ld->m_hint : 128;
    char what[256];
    linear_name(ld, m, what, sizeof what);
    if (ld->k <= 0 || ld->n <= 0 || (unsigned)ld->dt >= ONEDNN_DT_COUNT ||
        (unsigned)ld->act >= IR_ACT_COUNT || !w)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: K and N must be positive, dtype/activation "
                           "valid, W given", what);
    onednn_linear *lin = calloc(1, sizeof *lin);
    if (!lin)
        return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", what);
    lin->ctx = ctx;
    lin->desc = *ld;
    if (bias) {
        lin->bias = malloc((size_t)ld->n * sizeof *bias);
        if (!lin->bias) {
            free(lin);
            return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", what);
        }
        memcpy(lin->bias, bias, (size_t)ld->n * sizeof *bias);
    }
    dnnl_primitive_desc_t pd;
    dnnl_memory_desc_t mds[5];
    ir_status s = linear_pd(lin, m, 0, &pd, mds, d, what);
    if (s == IR_OK) {
        lin->packed_md = mds[1];
        dnnl_primitive_desc_destroy(pd);
        /* The user's W: f32 [K,N], row-major or transposed ([N,K] rows). */
        dnnl_memory_desc_t wmd;
        dnnl_dims_t wd = {ld->k, ld->n};
        dnnl_dims_t ws = {ld->w_is_nk ? 1 : ld->n, ld->w_is_nk ? ld->k : 1};
        dnnl_memory_desc_init_by_strides(&wmd, 2, wd, dnnl_f32, ws);
        s = onednn_reorder_new(ctx, &wmd, w, &lin->packed_md, &lin->packed, d, what);
    }
    if (s != IR_OK) {
        onednn_linear_free(lin);
        return s;
    }
    *out = lin;
    return IR_OK;
}

/* As in dnnl_qlinear.c: baseline x86-64 builds get AVX2 / AVX-512 clones
 * of the conversion loop with GCC (same results, wider vectors). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MATMUL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MATMUL_CLONES
#endif

/* xb[0..len) = bf16(x). */
MATMUL_CLONES
static void linear_to_bf16_part(const float *x, size_t len, uint16_t *xb)
{
    for (size_t i = 0; i < len; i++)
        xb[i] = matmul_to_bf16(x[i]);
}

/* The same in chunks across threads: a serial pass over 128x3072 floats
 * costs about a tenth of the bf16 matmul it feeds. (The clones are on the
 * serial part: OpenMP's outlined body would not inherit them.) */
enum { MATMUL_CHUNK = 16384 };

static void linear_to_bf16(const float *x, size_t len, uint16_t *xb)
{
    long chunks = (long)((len + MATMUL_CHUNK - 1) / MATMUL_CHUNK);
#pragma omp parallel for schedule(static) if (chunks >= 4)
    for (long c = 0; c < chunks; c++) {
        size_t o = (size_t)c * MATMUL_CHUNK;
        linear_to_bf16_part(x + o, len - o < MATMUL_CHUNK ? len - o : MATMUL_CHUNK,
                            xb + o);
    }
}

ir_status onednn_linear_run(onednn_linear *lin, int64_t m, const float *x,
                            float *y, const float *r, ir_diag *d)
{
    const onednn_linear_desc *ld = &lin->desc;
    char what[256];
    linear_name(ld, m, what, sizeof what);
    if (m <= 0 || !x || !y)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: M must be positive and x, y given", what);
    onednn_key key;
    memset(&key, 0, sizeof key);
    key.w[0] = m;
    key.w[1] = r != NULL;
    onednn_entry *e = onednn_cache_find(&lin->cache, &key);
    if (!e) {
        dnnl_primitive_desc_t pd;
        dnnl_memory_desc_t mds[5];
        ir_status s = linear_pd(lin, m, r != NULL, &pd, mds, d, what);
        if (s != IR_OK)
            return s;
        void *repacked;
        dnnl_primitive_t prim;
        s = onednn_prim_with_packed_weights(lin->ctx, pd, &mds[1], &lin->packed_md,
                                            lin->packed, &prim, &repacked, d, what);
        if (s != IR_OK)
            return s;
        int ids[5] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST,
                      DNNL_ARG_ATTR_MULTIPLE_POST_OP(ld->act != IR_ACT_NONE) |
                          DNNL_ARG_SRC_1};
        dnnl_memory_desc_t amds[5] = {mds[0], mds[1], mds[2], mds[3], mds[4]};
        int n = 0;
        int aids[5];
        dnnl_memory_desc_t use[5];
        for (int i = 0; i < 5; i++) {
            if ((i == 2 && !lin->bias) || (i == 4 && !r))
                continue;
            aids[n] = ids[i];
            use[n++] = amds[i];
        }
        s = onednn_cache_add(lin->ctx, &lin->cache, &key, prim, n, aids, use, &e,
                             d, what);
        if (s != IR_OK) {
            free(repacked);
            return s;
        }
        e->aux = repacked;
        e->aux_free = onednn_aligned_free;
    }
    const void *src = x;
    if (ld->dt == ONEDNN_BF16) {
        size_t len = (size_t)m * (size_t)ld->k;
        if (len > lin->xb_len) {
            uint16_t *nb = realloc(lin->xb, len * sizeof *nb);
            if (!nb)
                return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory for bf16 input", what);
            lin->xb = nb;
            lin->xb_len = len;
        }
        linear_to_bf16(x, len, lin->xb);
        src = lin->xb;
    }
    void *ptrs[5];
    int n = 0;
    ptrs[n++] = (void *)src;
    ptrs[n++] = e->aux ? e->aux : lin->packed;
    if (lin->bias)
        ptrs[n++] = lin->bias;
    ptrs[n++] = y;
    if (r)
        ptrs[n++] = (void *)r;
    return onednn_entry_run(lin->ctx, e, ptrs, d, what);
}

void onednn_linear_free(onednn_linear *lin)
{
    if (!lin)
        return;
    onednn_cache_clear(&lin->cache);
    free(lin->packed);
    free(lin->bias);
    free(lin->xb);
    free(lin);
}

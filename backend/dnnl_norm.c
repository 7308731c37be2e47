/* dnnl_norm.c — layer normalization (dnnl_layer_normalization_forward_desc_init,
 * inference, scale and shift as separate [n] vectors) cached by shape in the
 * context. The residual add runs as a plain loop first: oneDNN 2.6's layer
 * norm takes no binary post-op, and the sum is wanted anyway as the next
 * residual. ONNX LayerNormalization-17, axis -1. */
#include <stdio.h>
#include <string.h>

#include "backend/dnnl_internal.h"
#include "backend/dnnl_norm.h"

ir_status onednn_layer_norm_run(onednn_ctx *ctx, int64_t rows, int64_t n,
                               float eps, const float *x, const float *r,
                               const float *gamma, const float *beta,
                               float *y, float *sum_out, ir_diag *d)
{
    char what[160];
    snprintf(what, sizeof what, "layer_norm f32 [%lldx%lld]%s", (long long)rows,
             (long long)n, r ? " with residual" : "");
    if (rows <= 0 || n <= 0 || !x || !y || !(eps >= 0.0f))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: rows and n must be positive, x and y given, "
                           "eps >= 0", what);
    const float *src = x;
    if (r) {
        float *s = sum_out ? sum_out : y;
        size_t len = (size_t)rows * (size_t)n;
        for (size_t i = 0; i < len; i++)
            s[i] = x[i] + r[i];
        src = s;
    }
    onednn_key key;
    memset(&key, 0, sizeof key);
    uint32_t eb;
    memcpy(&eb, &eps, sizeof eb);
    key.w[0] = 2; /* kind: layer norm */
    key.w[1] = rows;
    key.w[2] = n;
    key.w[3] = eb;
    key.w[4] = gamma != NULL;
    key.w[5] = beta != NULL;
    onednn_entry *e = onednn_cache_find(&ctx->cache, &key);
    if (!e) {
        dnnl_memory_desc_t data, vec;
        dnnl_dims_t dd = {rows, n}, vd = {n};
        dnnl_memory_desc_init_by_tag(&data, 2, dd, dnnl_f32, dnnl_ab);
        dnnl_memory_desc_init_by_tag(&vec, 1, vd, dnnl_f32, dnnl_a);
        unsigned flags = (gamma ? dnnl_use_scale : 0u) | (beta ? dnnl_use_shift : 0u);
        dnnl_layer_normalization_desc_t op;
        ir_status s = onednn_check(dnnl_layer_normalization_forward_desc_init(
                                       &op, dnnl_forward_inference, &data, NULL,
                                       eps, flags), d, what);
        if (s != IR_OK)
            return s;
        dnnl_primitive_desc_t pd;
        dnnl_primitive_t prim;
        s = onednn_prim_from_desc(ctx, &op, NULL, &pd, &prim, d, what);
        if (s != IR_OK)
            return s;
        dnnl_primitive_desc_destroy(pd);
        int ids[4] = {DNNL_ARG_SRC, DNNL_ARG_DST, 0, 0};
        dnnl_memory_desc_t mds[4] = {data, data, vec, vec};
        int na = 2;
        if (gamma) ids[na++] = DNNL_ARG_SCALE;
        if (beta) ids[na++] = DNNL_ARG_SHIFT;
        s = onednn_cache_add(ctx, &ctx->cache, &key, prim, na, ids, mds, &e, d, what);
        if (s != IR_OK)
            return s;
    }
    void *ptrs[4] = {(void *)src, y, NULL, NULL};
    int na = 2;
    if (gamma) ptrs[na++] = (void *)gamma;
    if (beta) ptrs[na++] = (void *)beta;
    return onednn_entry_run(ctx, e, ptrs, d, what);
}

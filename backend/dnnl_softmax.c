/* dnnl_softmax.c — softmax over the last axis with oneDNN 2.6's softmax_v2
 * (dnnl_softmax_v2_forward_desc_init, dnnl_softmax_accurate: subtracts the
 * row max first), cached by shape in the context. ONNX Softmax-13, axis -1. */
#include <stdio.h>
#include <string.h>

#include "backend/dnnl_internal.h"
#include "backend/dnnl_softmax.h"

ir_status onednn_softmax_run(onednn_ctx *ctx, int64_t rows, int64_t n,
                             const float *x, float *y, ir_diag *d)
{
    char what[128];
    snprintf(what, sizeof what, "softmax f32 [%lldx%lld]", (long long)rows,
             (long long)n);
    if (rows <= 0 || n <= 0 || !x || !y)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: rows and n must be positive, x and y given", what);
    onednn_key key;
    memset(&key, 0, sizeof key);
    key.w[0] = 3; /* kind: softmax */
    key.w[1] = rows;
    key.w[2] = n;
    onednn_entry *e = onednn_cache_find(&ctx->cache, &key);
    if (!e) {
        dnnl_memory_desc_t data;
        dnnl_dims_t dd = {rows, n};
        dnnl_memory_desc_init_by_tag(&data, 2, dd, dnnl_f32, dnnl_ab);
        dnnl_softmax_v2_desc_t op;
        ir_status s = onednn_check(dnnl_softmax_v2_forward_desc_init(
                                       &op, dnnl_forward_inference,
                                       dnnl_softmax_accurate, &data, &data, 1),
                                   d, what);
        if (s != IR_OK)
            return s;
        dnnl_primitive_desc_t pd;
        dnnl_primitive_t prim;
        s = onednn_prim_from_desc(ctx, &op, NULL, &pd, &prim, d, what);
        if (s != IR_OK)
            return s;
        dnnl_primitive_desc_destroy(pd);
        int ids[2] = {DNNL_ARG_SRC, DNNL_ARG_DST};
        dnnl_memory_desc_t mds[2] = {data, data};
        s = onednn_cache_add(ctx, &ctx->cache, &key, prim, 2, ids, mds, &e, d, what);
        if (s != IR_OK)
            return s;
    }
    void *ptrs[2] = {(void *)x, y};
    return onednn_entry_run(ctx, e, ptrs, d, what);
}

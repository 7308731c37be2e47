/* rt_linear.c — the runtime's linear layer: one call for every precision.
 * fp32 and bf16 go through onednn_linear (weights packed once into the
 * layout oneDNN picks, bias, activation and residual as post-ops); int8
 * goes through onednn_qlinear (backend/dnnl_qlinear.h: s8 weights per
 * output channel, u8 activations, dequantised with the same post-ops). */
#include <stdio.h>

#include "backend/rt_internal.h"

ir_status rt_linear_create(rt_model *m, rt_linear *l, rt_precision p,
                           int64_t k, int64_t n, const float *w_kn,
                           const float *b, onednn_act act, float in_scale,
                           const char *what, ir_diag *d)
{
    l->f = NULL;
    l->q = NULL;
    if (!w_kn)
        return ir_diag_set(d, IR_ERR_INPUT, "rt: weights.%s is NULL", what);
    ir_status s;
    if (p == RT_INT8) {
        s = onednn_qlinear_create(m->ctx, k, n, w_kn, b, act, in_scale, &l->q, d);
        if (s == IR_OK)
            m->weight_bytes += k * n + 4 * n;
    } else {
        onednn_linear_desc ld = {
            .dt = p == RT_BF16 ? ONEDNN_BF16 : ONEDNN_F32,
            .k = k, .n = n, .w_is_nk = 0, .act = act, .m_hint = 128};
        s = onednn_linear_create(m->ctx, &ld, w_kn, b, &l->f, d);
        if (s == IR_OK)
            m->weight_bytes += k * n * (p == RT_BF16 ? 2 : 4) + (b ? 4 * n : 0);
    }
    if (s != IR_OK)
        ir_diag_prefix(d, "rt: %s", what);
    return s;
}

ir_status rt_linear_run(rt_linear *l, int64_t rows, const float *x, float *y,
                        const float *r, ir_diag *d)
{
    if (l->q)
        return onednn_qlinear_run(l->q, rows, x, y, r, d);
    return onednn_linear_run(l->f, rows, x, y, r, d);
}

void rt_linear_free(rt_linear *l)
{
    onednn_qlinear_free(l->q);
    onednn_linear_free(l->f);
    l->f = NULL;
    l->q = NULL;
}

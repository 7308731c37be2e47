/* qlinear_error.c — how much int8 weight quantisation loses, per matrix,
 * for reports (qlinear_error.h). The rounding repeats backend/dnnl_qlinear.c's
 * (s8 per output column, scale absmax/127, rintf) so the numbers describe
 * exactly the weights the int8 runtime multiplies with. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend/qlinear_error.h"

ir_status quantize_weight_error(const float *w, int64_t k, int64_t n,
                                quantize_werr *out, ir_diag *d)
{
    if (!w || !out || k <= 0 || n <= 0)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "int8 weight error: need W [K,N] with K = %lld and "
                           "N = %lld positive, and an output", (long long)k,
                           (long long)n);
    memset(out, 0, sizeof *out);
    out->k = k;
    out->n = n;
    double e2 = 0.0, w2 = 0.0;
    for (int64_t j = 0; j < n; j++) {
        float mx = 0.0f;
        for (int64_t i = 0; i < k; i++) {
            float a = fabsf(w[i * n + j]);
            mx = a > mx ? a : mx;
        }
        float sw = mx > 0.0f ? mx / 127.0f : 1.0f;
        double col = 0.0;
        for (int64_t i = 0; i < k; i++) {
            float v = rintf(w[i * n + j] / sw);
            v = v < -127.0f ? -127.0f : v > 127.0f ? 127.0f : v;
            double err = fabs((double)w[i * n + j] - (double)sw * v);
            col = err > col ? err : col;
            e2 += err * err;
            w2 += (double)w[i * n + j] * w[i * n + j];
        }
        out->max_abs = col > out->max_abs ? col : out->max_abs;
        if (mx > 0.0f && col / mx > out->max_rel)
            out->max_rel = col / mx;
    }
    out->frob_rel = w2 > 0.0 ? sqrt(e2 / w2) : 0.0;
    return IR_OK;
}

/* The matrices the runtime quantises: "group{g}.attn.qkv.weight" etc. */
static int is_quantised_matrix(const char *name)
{
    static const char *const tails[] = {".attn.qkv.weight", ".attn.out.weight",
                                        ".ffn.in.weight", ".ffn.out.weight"};
    size_t len = strlen(name);
    if (strncmp(name, "group", 5) != 0)
        return 0;
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        size_t tl = strlen(tails[i]);
        if (len > tl && strcmp(name + len - tl, tails[i]) == 0)
            return 1;
    }
    return 0;
}

ir_status quantize_encoder_weight_errors(const ir_encoder *e,
                                         quantize_werr *out, size_t cap,
                                         size_t *n_out, ir_diag *d)
{
    if (!e || !n_out || (cap && !out))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "int8 weight error: encoder and outputs are required");
    *n_out = 0;
    ir_status s = ir_encoder_check(e, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "int8 weight error");
    size_t n = 0;
    for (size_t i = 0; i < e->n_weights; i++) {
        const ir_encoder_weight *w = &e->weights[i];
        if (!is_quantised_matrix(w->name))
            continue;
        if (n < cap) {
            const ir_tensor *t = w->t;
            s = quantize_weight_error((const float *)t->data, t->dims[0],
                                      t->dims[1], &out[n], d);
            if (s != IR_OK)
                return ir_diag_prefix(d, "weight '%s'", w->name);
            snprintf(out[n].name, sizeof out[n].name, "%s", w->name);
        }
        n++;
    }
    *n_out = n;
    return IR_OK;
}

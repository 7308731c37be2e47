/* quantize.c — calibration of the int8 plan (quantize.h): runs the
 * trainer's forward (distill/model.h keeps every activation, so the input
 * of each linear is at hand) over calibration batches and keeps the
 * largest |value| each linear input reaches on real (unpadded) tokens.
 * The trainer's GEMMs go through backend/gemm.h pinned to oneDNN: fast, and
 * the same numbers on every run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/gemm.h"
#include "distill/model.h"
#include "distill/params.h"
#include "distill/quantize.h"

struct quantize_calib {
    train_params *p;
    gemm_ctx *gemm;
    train_acts *a;      /* for the last batch's B x T */
    size_t tokens;
    float absmax[IR_ENCODER_MAX_LAYERS * QUANTIZE_SITE_COUNT];
};

const char *quantize_site_name(quantize_site s)
{
    static const char *const names[QUANTIZE_SITE_COUNT] = {
        "qkv", "attn_out", "ffn_in", "ffn_out"};
    return (unsigned)s < QUANTIZE_SITE_COUNT ? names[s] : "?";
}

ir_status quantize_calib_begin(const ir_encoder *e, quantize_calib **out,
                               ir_diag *d)
{
    if (out)
        *out = NULL;
    if (!e || !out)
        return ir_diag_set(d, IR_ERR_INPUT, "int8 calibration: no encoder given");
    quantize_calib *qc = calloc(1, sizeof *qc);
    if (!qc)
        return ir_diag_set(d, IR_ERR_NOMEM, "int8 calibration: out of memory");
    ir_status s = train_params_from_encoder(e, &qc->p, d);
    if (s == IR_OK)
        s = gemm_ctx_create(GEMM_ONEDNN, &qc->gemm, d);
    if (s != IR_OK) {
        ir_diag_prefix(d, "int8 calibration");
        quantize_calib_free(qc);
        return s;
    }
    qc->p->gemm = qc->gemm;
    *out = qc;
    return IR_OK;
}

/* Folds the rows of x [rows, width] whose mask is set into *m; IR_ERR_FAILED
 * naming the token on a non-finite value. */
static ir_status absmax_rows(const float *x, size_t rows, size_t width,
                             const int32_t *mask, size_t T, float *m,
                             size_t layer, quantize_site site, ir_diag *d)
{
    float mx = *m;
    for (size_t i = 0; i < rows; i++) {
        if (mask && !mask[i])
            continue;
        const float *row = x + i * width;
        float rm = 0.0f;
        int finite = 1;
        for (size_t j = 0; j < width; j++) {
            float v = fabsf(row[j]);
            rm = v > rm ? v : rm;
            finite &= v <= 3.402823466e38f; /* false for inf and NaN */
        }
        if (!finite)
            return ir_diag_set(d, IR_ERR_FAILED,
                               "int8 calibration: layer %zu, input of %s: "
                               "non-finite activation at batch row %zu, "
                               "position %zu (has the model diverged?)",
                               layer, quantize_site_name(site), i / T, i % T);
        mx = rm > mx ? rm : mx;
    }
    *m = mx;
    return IR_OK;
}

ir_status quantize_calib_add(quantize_calib *qc, const int32_t *ids,
                             const int32_t *types, const int32_t *mask,
                             size_t B, size_t T, ir_diag *d)
{
    if (!qc || !ids)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "int8 calibration: calibration state and input_ids "
                           "are required");
    const ir_encoder_config *c = &qc->p->cfg;
    if (!qc->a || qc->a->B != B || qc->a->T != T) {
        train_acts_free(qc->a);
        qc->a = NULL;
        ir_status s = train_acts_new(c, B, T, &qc->a, d);
        if (s != IR_OK)
            return ir_diag_prefix(d, "int8 calibration");
    }
    train_acts *a = qc->a;
    ir_status s = train_forward(qc->p, a, ids, types, mask, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "int8 calibration");
    size_t BT = B * T, C = (size_t)c->hidden, F = (size_t)c->ffn;
    for (size_t l = 0; l < (size_t)c->layers; l++) {
        const float *in[QUANTIZE_SITE_COUNT] = {a->hidden[l], a->atty[l],
                                                a->ln1[l], a->fch_gelu[l]};
        const size_t width[QUANTIZE_SITE_COUNT] = {C, C, C, F};
        for (int k = 0; k < QUANTIZE_SITE_COUNT; k++) {
            s = absmax_rows(in[k], BT, width[k], mask, T,
                            &qc->absmax[l * QUANTIZE_SITE_COUNT + (size_t)k], l,
                            (quantize_site)k, d);
            if (s != IR_OK)
                return s;
        }
    }
    for (size_t i = 0; i < BT; i++)
        qc->tokens += !mask || mask[i];
    return IR_OK;
}

size_t quantize_calib_tokens(const quantize_calib *qc)
{
    return qc ? qc->tokens : 0;
}

ir_status quantize_calib_finish(const quantize_calib *qc, float *scales,
                                ir_diag *d)
{
    if (!qc || !scales)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "int8 calibration: state and output scales are required");
    if (!qc->tokens)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "int8 calibration: no tokens seen (every batch was "
                           "empty or fully padded); add calibration data");
    size_t n = (size_t)qc->p->cfg.layers * QUANTIZE_SITE_COUNT;
    for (size_t i = 0; i < n; i++)
        scales[i] = (qc->absmax[i] > 0.0f ? qc->absmax[i] : 1.0f) / 127.0f;
    return IR_OK;
}

void quantize_calib_free(quantize_calib *qc)
{
    if (!qc)
        return;
    train_acts_free(qc->a);
    train_params_free(qc->p);
    gemm_ctx_free(qc->gemm);
    free(qc);
}

ir_status quantize_calibrate(const ir_encoder *e, const int32_t *ids,
                             const int32_t *types, const int32_t *mask,
                             size_t B, size_t T, float *act_scales,
                             ir_diag *d)
{
    if (!act_scales)
        return ir_diag_set(d, IR_ERR_INPUT, "int8 calibration: output scales are required");
    quantize_calib *qc;
    ir_status s = quantize_calib_begin(e, &qc, d);
    if (s != IR_OK)
        return s;
    s = quantize_calib_add(qc, ids, types, mask, B, T, d);
    if (s == IR_OK) {
        size_t n = (size_t)e->cfg.layers * QUANTIZE_SITE_COUNT;
        for (size_t i = 0; i < n; i++) {
            float sc = qc->absmax[i] / 127.0f;
            act_scales[i] = sc > act_scales[i] ? sc : act_scales[i];
        }
    }
    quantize_calib_free(qc);
    return s;
}

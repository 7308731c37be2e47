/* calibrate.c — int8 calibration (calibrate.h): runs calibration batches
 * through the fp32 runtime with its calibration tap on (rt.h's
 * rt_calib_tap, filled in rt.c's layer loop), which keeps the largest
 * |value| each linear input reaches on real (unpadded) tokens. */
#include <stdlib.h>

#include "backend/calibrate.h"
#include "backend/input64.h"
#include "backend/rt_encoder.h"

struct calib_state {
    rt_model *m;
    int64_t layers, labels;
    size_t tokens;
    rt_calib_tap tap; /* absmax accumulated over every batch */
};

ir_status calib_begin(const ir_encoder *e, calib_state **out, ir_diag *d)
{
    if (out)
        *out = NULL;
    if (!e || !out)
        return ir_diag_set(d, IR_ERR_INPUT, "int8 calibration: no encoder given");
    calib_state *cs = calloc(1, sizeof *cs);
    if (!cs)
        return ir_diag_set(d, IR_ERR_NOMEM, "int8 calibration: out of memory");
    rt_options o;
    rt_options_default(&o); /* fp32, all cores */
    ir_status s = rt_model_from_encoder(e, &o, &cs->m, d);
    if (s != IR_OK) {
        ir_diag_prefix(d, "int8 calibration");
        calib_free(cs);
        return s;
    }
    cs->layers = e->cfg.layers;
    cs->labels = e->cfg.labels;
    *out = cs;
    return IR_OK;
}

ir_status calib_add(calib_state *cs, const int32_t *ids, const int32_t *types,
                    const int32_t *mask, size_t B, size_t T, ir_diag *d)
{
    if (!cs || !ids)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "int8 calibration: calibration state and input_ids "
                           "are required");
    size_t BT = B * T;
    /* The runtime takes int64 inputs; the logits are not needed. */
    int64_t *buf = malloc((3 * BT + 1) * sizeof *buf);
    float *logits = malloc(((size_t)cs->labels * B + 1) * sizeof *logits);
    if (!buf || !logits) {
        free(buf);
        free(logits);
        return ir_diag_set(d, IR_ERR_NOMEM, "int8 calibration: out of memory "
                           "for a batch of %zu x %zu", B, T);
    }
    int64_t *ids64 = buf, *types64 = buf + BT, *mask64 = buf + 2 * BT;
    input64_widen(BT, ids, types, mask, ids64, types64, mask64);
    rt_taps taps = {.calib = &cs->tap};
    cs->tap.nonfinite = 0;
    ir_status s = rt_model_run(cs->m, (int64_t)B, (int64_t)T, ids64, types64,
                               mask64, logits, &taps, d);
    if (s != IR_OK)
        ir_diag_prefix(d, "int8 calibration");
    else if (cs->tap.nonfinite)
        s = ir_diag_set(d, IR_ERR_FAILED,
                        "int8 calibration: layer %lld, input of %s: "
                        "non-finite activation at batch row %lld, position "
                        "%lld (has the model diverged?)",
                        (long long)cs->tap.nf_layer, rt_site_name(cs->tap.nf_site),
                        (long long)(cs->tap.nf_row / (int64_t)T),
                        (long long)(cs->tap.nf_row % (int64_t)T));
    else
        for (size_t i = 0; i < BT; i++)
            cs->tokens += mask64[i] == 1;
    free(buf);
    free(logits);
    return s;
}

size_t calib_tokens(const calib_state *cs)
{
    return cs ? cs->tokens : 0;
}

ir_status calib_finish(const calib_state *cs, float *scales, ir_diag *d)
{
    if (!cs || !scales)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "int8 calibration: state and output scales are required");
    if (!cs->tokens)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "int8 calibration: no tokens seen (every batch was "
                           "empty or fully padded); add calibration data");
    size_t n = (size_t)cs->layers * RT_SITE_COUNT;
    for (size_t i = 0; i < n; i++)
        scales[i] = (cs->tap.absmax[i] > 0.0f ? cs->tap.absmax[i] : 1.0f) / 127.0f;
    return IR_OK;
}

void calib_free(calib_state *cs)
{
    if (!cs)
        return;
    rt_model_free(cs->m);
    free(cs);
}

ir_status calib_batch(const ir_encoder *e, const int32_t *ids,
                      const int32_t *types, const int32_t *mask, size_t B,
                      size_t T, float *act_scales, ir_diag *d)
{
    if (!act_scales)
        return ir_diag_set(d, IR_ERR_INPUT, "int8 calibration: output scales are required");
    calib_state *cs;
    ir_status s = calib_begin(e, &cs, d);
    if (s != IR_OK)
        return s;
    s = calib_add(cs, ids, types, mask, B, T, d);
    if (s == IR_OK) {
        size_t n = (size_t)cs->layers * RT_SITE_COUNT;
        for (size_t i = 0; i < n; i++) {
            float sc = cs->tap.absmax[i] / 127.0f;
            act_scales[i] = sc > act_scales[i] ? sc : act_scales[i];
        }
    }
    calib_free(cs);
    return s;
}

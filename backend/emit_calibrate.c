/* emit_calibrate.c — int8 calibration for distilc build: reads examples as
 * JSON lines (the emitted program's own input format) and runs them through
 * calibrate.h (the fp32 runtime with its calibration tap), giving the
 * static activation scales model.weights carries. One line is one
 * calibration batch (a 1-D line is a batch of one). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/calibrate.h"
#include "frontend/json.h"
#include "ir/file_read.h"

/* One array of integers (or a [B][T] array of them) into dst[B*T] as
 * int32, checked against [0, limit). */
static ir_status read_ids(const json_value *v, const char *key, int64_t B,
                          int64_t T, bool two_d, int64_t limit, int32_t *dst,
                          const char *where, ir_diag *d)
{
    if (!v || v->type != JSON_ARRAY || (int64_t)v->len != (two_d ? B : T))
        return ir_diag_set(d, IR_ERR_INPUT, "%s: \"%s\" must be an array of "
                           "%" PRId64 " %s", where, key, two_d ? B : T,
                           two_d ? "rows" : "integers");
    for (int64_t b = 0; b < B; b++) {
        const json_value *row = two_d ? &v->u.items[b] : v;
        if (row->type != JSON_ARRAY || (int64_t)row->len != T)
            return ir_diag_set(d, IR_ERR_INPUT, "%s: \"%s\" row %" PRId64
                               " must hold %" PRId64 " integers", where, key,
                               b, T);
        for (int64_t t = 0; t < T; t++) {
            const json_value *x = &row->u.items[t];
            if (x->type != JSON_NUMBER || !x->is_int || x->ival < 0 ||
                x->ival >= limit)
                return ir_diag_set(d, IR_ERR_INPUT, "%s: \"%s\"[%" PRId64
                                   "][%" PRId64 "] is not an integer in "
                                   "0..%" PRId64, where, key, b, t, limit - 1);
            dst[b * T + t] = (int32_t)x->ival;
        }
    }
    return IR_OK;
}

static ir_status calibrate_line(calib_state *cs, const ir_encoder *e,
                                const json_value *root, const char *where,
                                ir_diag *d)
{
    const ir_encoder_config *c = &e->cfg;
    const json_value *ids = root->type == JSON_OBJECT
                                ? json_get(root, "input_ids") : NULL;
    if (!ids || ids->type != JSON_ARRAY || ids->len == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: expected an object with a "
                           "non-empty \"input_ids\" array", where);
    bool two_d = ids->u.items[0].type == JSON_ARRAY;
    int64_t B = two_d ? (int64_t)ids->len : 1;
    int64_t T = two_d ? (int64_t)ids->u.items[0].len : (int64_t)ids->len;
    if (T < 1 || T > c->max_positions)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: %" PRId64 " tokens; the model "
                           "takes 1..%" PRId64, where, T, c->max_positions);
    int32_t *buf = malloc((size_t)(3 * B * T) * sizeof *buf);
    if (!buf)
        return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", where);
    int32_t *pi = buf, *pt = buf + B * T, *pm = buf + 2 * B * T;
    const json_value *types = json_get(root, "token_type_ids");
    const json_value *mask = json_get(root, "attention_mask");
    ir_status s = read_ids(ids, "input_ids", B, T, two_d, c->vocab, pi, where, d);
    if (s == IR_OK && types)
        s = read_ids(types, "token_type_ids", B, T, two_d, c->type_vocab, pt,
                     where, d);
    if (s == IR_OK && mask)
        s = read_ids(mask, "attention_mask", B, T, two_d, 2, pm, where, d);
    if (s == IR_OK)
        s = calib_add(cs, pi, types ? pt : NULL, mask ? pm : NULL,
                               (size_t)B, (size_t)T, d);
    free(buf);
    return s;
}

ir_status emit_calibrate_file(const ir_encoder *e, const char *path,
                              int64_t max_lines, float *scales,
                              size_t *tokens, ir_diag *d)
{
    FILE *f = NULL; /* a regular file only (ir/file_read.h) */
    ir_status fs = ir_file_fopen(path, "calibration file", 0, &f, NULL, d);
    if (fs != IR_OK)
        return fs;
    calib_state *cs = NULL;
    ir_status s = calib_begin(e, &cs, d);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t lineno = 0, used = 0;
    while (s == IR_OK && (max_lines <= 0 || used < max_lines) &&
           (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;
        char where[1024];
        snprintf(where, sizeof where, "%s:%" PRId64, path, lineno);
        json_doc doc;
        s = json_parse(line, (size_t)len, where, &doc, d);
        if (s != IR_OK)
            break;
        s = calibrate_line(cs, e, doc.root, where, d);
        json_doc_free(&doc);
        used++;
    }
    free(line);
    fclose(f);
    if (s == IR_OK && used == 0)
        s = ir_diag_set(d, IR_ERR_INPUT, "calibration file %s holds no "
                        "examples", path);
    if (s == IR_OK)
        s = calib_finish(cs, scales, d);
    if (s == IR_OK && tokens)
        *tokens = calib_tokens(cs);
    calib_free(cs);
    return s;
}

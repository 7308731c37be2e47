/* qlinear_error.h — how much int8 weight quantisation loses, per matrix,
 * for reports: the weights quantised exactly as backend/dnnl_qlinear.c
 * does, compared with the originals.
 *
 *     quantize_werr errs[64];
 *     size_t n;
 *     if (quantize_encoder_weight_errors(enc, errs, 64, &n, &d) != IR_OK) ...
 *     for (size_t i = 0; i < n && i < 64; i++)
 *         printf("%s %.3g\n", errs[i].name, errs[i].frob_rel);
 */
#ifndef DISTILC_BACKEND_QLINEAR_ERROR_H
#define DISTILC_BACKEND_QLINEAR_ERROR_H

#include <stddef.h>
#include <stdint.h>

#include "ir/encoder.h"

/* For W [K,N] quantised as dnnl_qlinear.c does (s8 per output column,
 * sw[n] = max_k |W[k,n]| / 127, wq = rintf(W / sw)), with Ŵ = sw·wq:
 *   max_abs  = max |W - Ŵ|
 *   max_rel  = max over columns of max_k |W - Ŵ| / max_k |W|  (≤ 1/254 by
 *              construction; larger means a bug)
 *   frob_rel = ||W - Ŵ||_F / ||W||_F (0 for an all-zero W) */
typedef struct quantize_werr {
    char name[IR_ENCODER_NAME_MAX];
    int64_t k, n;
    double max_abs, max_rel, frob_rel;
} quantize_werr;

/* IR_ERR_INPUT for k, n <= 0 or w NULL. out->name is left empty. */
ir_status quantize_weight_error(const float *w, int64_t k, int64_t n,
                                quantize_werr *out, ir_diag *d);
/* The error of every matrix the int8 runtime quantises (qkv, attention
 * out, ffn.in, ffn.out of each group), in ir_encoder_weight_spec order:
 * out has room for cap entries, *n_out gets how many there are (when more
 * than cap, only cap are filled). */
ir_status quantize_encoder_weight_errors(const ir_encoder *e,
                                         quantize_werr *out, size_t cap,
                                         size_t *n_out, ir_diag *d);

#endif

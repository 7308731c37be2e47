/* eval_rt.c — eval_rt_run (eval_rt.h): one evaluation batch through the
 * oneDNN encoder runtime, padded up to a bucket of tokens so that a
 * length-sorted evaluation meets few shapes. */
#include "backend/eval_rt.h"

#include <stdlib.h>

#include "backend/rt.h"

ir_status eval_rt_run(void *ctx, const eval_batch *b, float *logits,
                      ir_diag *d)
{
    eval_rt *r = ctx;
    if (r->labels != b->n_labels)
        return ir_diag_set(d, IR_ERR_INPUT, "model output 'logits' has shape "
                           "[%zu,%zu], expected [%zu,%zu] (batch, labels of the "
                           "task)", b->rows, r->labels, b->rows, b->n_labels);
    size_t seq = b->seq;
    if (r->bucket > 1) {
        seq = (seq + r->bucket - 1) / r->bucket * r->bucket;
        if (seq > r->max_positions)
            seq = b->seq > r->max_positions ? b->seq : r->max_positions;
    }
    if (seq == b->seq)
        return rt_model_run(r->m, (int64_t)b->rows, (int64_t)seq, b->input_ids,
                            r->types ? b->token_type_ids : NULL,
                            b->attention_mask, logits, NULL, d);
    size_t n = b->rows * seq;
    int64_t *buf = malloc(3 * n * sizeof *buf);
    if (!buf)
        return ir_diag_set(d, IR_ERR_NOMEM, "eval: out of memory");
    int64_t *ids = buf, *mask = buf + n, *types = buf + 2 * n;
    for (size_t i = 0; i < b->rows; i++)
        for (size_t k = 0; k < seq; k++) {
            bool in = k < b->seq;
            size_t src = i * b->seq + k;
            ids[i * seq + k] = in ? b->input_ids[src] : b->pad_id;
            mask[i * seq + k] = in ? b->attention_mask[src] : 0;
            types[i * seq + k] = in ? b->token_type_ids[src] : 0;
        }
    ir_status st = rt_model_run(r->m, (int64_t)b->rows, (int64_t)seq, ids,
                                r->types ? types : NULL, mask, logits, NULL, d);
    free(buf);
    return st;
}

/* ms_norm.c — ONNX Runtime's LayerNorm contrib ops (domain com.microsoft,
 * ContribOperators.md, since version 1):
 *
 *   SkipLayerNormalization(input, skip, gamma, beta?, bias?; epsilon=1e-12)
 *       -> output, mean?, inv_std_var?, input_skip_bias_sum?
 *       s = input + skip (+ bias); output = LayerNorm(s) over the last axis;
 *       input_skip_bias_sum = s. mean and inv_std_var (training outputs)
 *       are refused.
 *   EmbedLayerNormalization(input_ids, segment_ids?, word_embedding,
 *       position_embedding, segment_embedding?, gamma, beta, mask?,
 *       position_ids?; epsilon=1e-12, mask_index_type=1)
 *       -> output, mask_index?, embedding_sum?
 *       s = word[ids] + segment[segment_ids] + position[position_ids
 *       (absent: 0..S-1)]; output = LayerNorm(s); mask_index [B] int32 =
 *       the sum of each mask row (the key lengths Attention reads; zeros
 *       without a mask); embedding_sum = s.
 *
 * The sums and LayerNorm are the fused ops' (ir/ops/fused_core.h): one
 * oracle per formula.
 */
#include "ir/ops/fused_core.h"

#include <stdlib.h>
#include <string.h>

#define MS_LN_EPS 1e-12f /* ORT's default epsilon of both ops */

static bool ms_wants(const ir_kernel_args *a, int k)
{
    return a->n_outputs > k && a->node->outputs[k];
}

ir_status ir_eval_MS_SKIP_LAYER_NORM(ir_kernel_args *a)
{
    if (ms_wants(a, 1) || ms_wants(a, 2))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "outputs 1 and 2 (mean, inv_std_var: training "
                              "outputs) are not supported; leave them empty");
    return ir_fused_add_layer_norm(a, ir_node_attr_float(a->node, "epsilon",
                                                         MS_LN_EPS),
                                   ms_wants(a, 3) ? 3 : -1);
}

ir_status ir_infer_MS_SKIP_LAYER_NORM(ir_infer_args *a)
{
    ir_status st = ir_infer_ADD_LAYER_NORM(a);
    ir_node *n = a->node;
    if (st == IR_OK && n->n_outputs > 3 && n->outputs[3] && n->outputs[0])
        ir_value_copy_type(n->outputs[3], n->outputs[0]);
    return st;
}

/* mask_index: [B] int32, the sum of each row of the [B,S] mask. */
static ir_status ms_mask_index(ir_kernel_args *a, const ir_tensor *ids,
                               const ir_tensor *mask)
{
    int64_t B = ids->dims[0], S = ids->dims[1];
    if (mask && (mask->rank != 2 || mask->dims[0] != B || mask->dims[1] != S))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input 7 (mask) must be [B,S] = [%lld,%lld] "
                              "like input_ids", (long long)B, (long long)S);
    ir_tensor *M;
    ir_status st = ir_tensor_create(IR_DT_I32, 1, &B, &M, a->diag);
    if (st != IR_OK)
        return st;
    int32_t *m = M->data;
    for (int64_t b = 0; b < B; b++) {
        int64_t sum = 0;
        for (int64_t j = 0; mask && j < S; j++)
            sum += ir_tensor_get_i64(mask, b * S + j);
        m[b] = (int32_t)sum;
    }
    a->outputs[1] = M;
    return IR_OK;
}

ir_status ir_eval_MS_EMBED_LAYER_NORM(ir_kernel_args *a)
{
    const ir_tensor *in[9] = {0};
    for (int k = 0; k < a->n_inputs && k < 9; k++)
        in[k] = a->inputs[k];
    static const char *const need[] = {"input_ids", NULL, "word_embedding",
                                       "position_embedding", NULL, "gamma",
                                       "beta"};
    for (int k = 0; k < 7; k++)
        if (need[k] && !in[k])
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "input %d (%s) is required", k, need[k]);
    ir_status st;
    if ((st = ir_fused_need_f32(a, 2, "word_embedding")) != IR_OK ||
        (st = ir_fused_need_f32(a, 3, "position_embedding")) != IR_OK ||
        (in[4] && (st = ir_fused_need_f32(a, 4, "segment_embedding")) != IR_OK))
        return st;
    if (!in[1] != !in[4])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "segment_ids (input 1) and segment_embedding "
                              "(input 4) must be given together");
    if (in[0]->rank != 2 || !ir_dtype_is_int(in[0]->dtype))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input_ids must be integer [B,S], got rank %d %s",
                              in[0]->rank, ir_dtype_name(in[0]->dtype));
    int64_t type = ir_node_attr_int(a->node, "mask_index_type", 1);
    if (type != 0 && type != 1)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "mask_index_type %lld is not supported (0: no "
                              "mask_index, 1: key lengths)", (long long)type);
    ir_fused_embed_args e = {in[0], in[1], in[8], in[2], in[3], in[4]};
    float *s;
    int rank;
    int64_t dims[IR_MAX_RANK];
    if ((st = ir_fused_embed_sum(a, &e, &s, &rank, dims)) != IR_OK)
        return st;
    st = ir_fused_ln_rows(a, s, rank, dims, 5, 6,
                          ir_node_attr_float(a->node, "epsilon", MS_LN_EPS));
    if (st == IR_OK && ms_wants(a, 1) && type == 1)
        st = ms_mask_index(a, in[0], in[7]);
    if (st == IR_OK && ms_wants(a, 2))
        st = ir_fused_out_copy(a, 2, s, rank, dims);
    free(s);
    return st;
}

ir_status ir_infer_MS_EMBED_LAYER_NORM(ir_infer_args *a)
{
    ir_node *n = a->node;
    const ir_value *ids = n->inputs[0], *W = n->n_inputs > 2 ? n->inputs[2] : NULL;
    ir_value *Y = n->outputs[0];
    if (!W)
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "input 2 (word_embedding) is required");
    if (ids->rank >= 0 && ids->rank != 2)
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "input_ids '%s' must have rank 2, has %d",
                              ids->name, ids->rank);
    if (Y) {
        Y->dtype = W->dtype;
        Y->rank = ids->rank < 0 ? -1 : 3;
        if (ids->rank == 2) {
            Y->dims[0] = ids->dims[0];
            Y->dims[1] = ids->dims[1];
            Y->dims[2] = W->rank == 2 ? W->dims[1] : ir_dim_unknown();
        }
    }
    if (n->n_outputs > 1 && n->outputs[1]) {
        ir_value *M = n->outputs[1];
        M->dtype = IR_DT_I32;
        M->rank = ids->rank < 0 ? -1 : 1;
        if (ids->rank == 2)
            M->dims[0] = ids->dims[0];
    }
    if (n->n_outputs > 2 && n->outputs[2] && Y)
        ir_value_copy_type(n->outputs[2], Y);
    return IR_OK;
}

/* ms_attention.c — ONNX Runtime's Attention contrib op (domain
 * com.microsoft, ContribOperators.md, since version 1): BERT self-attention
 * with packed q|k|v weights, as its transformer optimizer writes it.
 *
 *   Attention(input[B,S,K], weights[K,3N], bias[3N]?, mask_index?; num_heads,
 *             scale = 1/sqrt(N/num_heads), mask_filter_value = -10000)
 *       -> output[B,S,N]
 *
 * The computation is distilc's fused Attention (ir/ops/fused_core.h) with
 * the mask turned into an additive one, mask_filter_value where a key is
 * masked and 0 elsewhere. mask_index forms supported:
 *   [B]      key lengths (right padding): key j of batch b is masked when
 *            j >= mask_index[b] (what EmbedLayerNormalization's mask_index
 *            output gives)
 *   [B,S]    a 0/1 key mask (0 = masked)
 *   [B,S,S]  a 0/1 mask per query and key
 * Refused, naming the input or attribute: the [2B] start/end and 4-D
 * forms, past / attention_bias / past_sequence_length inputs, the present
 * output, unidirectional=1, do_rotary=1 and unequal qkv_hidden_sizes.
 */
#include "ir/ops/fused_core.h"
#include "ir/ops/ms_attention.h"

#include <math.h>

static ir_status ms_att_refuse(ir_kernel_args *a, const char *what)
{
    return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                          "%s is not supported (distilc runs BERT "
                          "self-attention: no past state, no causal mask)",
                          what);
}

const char *ir_ms_attention_unsupported(const ir_node *n)
{
    static const char *const inputs[] = {
        NULL, NULL, NULL, NULL, "input 4 (past)", "input 5 (attention_bias)",
        "input 6 (past_sequence_length)"};
    for (int k = 4; k < n->n_inputs && k < 7; k++)
        if (n->inputs[k])
            return inputs[k];
    if (n->n_outputs > 1 && n->outputs[1])
        return "output 1 (present)";
    if (ir_node_attr_int(n, "unidirectional", 0) != 0)
        return "attribute unidirectional=1";
    if (ir_node_attr_int(n, "do_rotary", 0) != 0)
        return "attribute do_rotary=1";
    const int64_t *qkv;
    int nq = ir_node_attr_ints(n, "qkv_hidden_sizes", &qkv);
    if (nq > 0 && (nq != 3 || qkv[0] != qkv[1] || qkv[1] != qkv[2]))
        return "attribute qkv_hidden_sizes with unequal sizes";
    return NULL;
}

/* The additive mask [B,S] or [B,S,S] for mask_index mk, and its strides
 * over [B,H,S,S]. */
static ir_status ms_att_mask(ir_kernel_args *a, const ir_tensor *mk, int64_t B,
                             int64_t S, float filler, ir_tensor **out,
                             int64_t *str)
{
    int64_t d[3] = {B, S, S};
    int rank;
    if (mk->rank == 1 && mk->dims[0] == B)
        rank = 2;
    else if (mk->rank == 2 && mk->dims[0] == B && mk->dims[1] == S)
        rank = 2;
    else if (mk->rank == 3 && mk->dims[0] == B && mk->dims[1] == S &&
             mk->dims[2] == S)
        rank = 3;
    else if (mk->rank == 1 && mk->dims[0] == 2 * B)
        return ms_att_refuse(a, "input 3 (mask_index) of shape [2B] (end and "
                                "start positions)");
    else
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "input 3 (mask_index) of rank %d is not "
                              "supported: give [B] key lengths, a [B,S] or "
                              "[B,S,S] 0/1 mask (B=%lld, S=%lld)", mk->rank,
                              (long long)B, (long long)S);
    ir_status st = ir_tensor_create(IR_DT_F32, rank, d, out, a->diag);
    if (st != IR_OK)
        return st;
    float *m = (*out)->data;
    int64_t n = ir_tensor_numel(*out);
    for (int64_t e = 0; e < n; e++) {
        bool masked = mk->rank == 1 ? e % S >= ir_tensor_get_i64(mk, e / S)
                                    : ir_tensor_get_i64(mk, e) == 0;
        m[e] = masked ? filler : 0.0f;
    }
    str[0] = rank == 2 ? S : S * S;
    str[1] = 0;
    str[2] = rank == 2 ? 0 : S;
    str[3] = 1;
    return IR_OK;
}

ir_status ir_eval_MS_ATTENTION(ir_kernel_args *a)
{
    ir_status st;
    if ((st = ir_fused_need_f32(a, 0, "input")) != IR_OK ||
        (st = ir_fused_need_f32(a, 1, "weights")) != IR_OK)
        return st;
    const ir_tensor *X = a->inputs[0], *W = a->inputs[1];
    const ir_tensor *Bq = a->n_inputs > 2 ? a->inputs[2] : NULL;
    const ir_tensor *Mk = a->n_inputs > 3 ? a->inputs[3] : NULL;
    if (X->rank != 3 || W->rank != 2 || W->dims[0] != X->dims[2] ||
        W->dims[1] % 3 != 0)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input must be [B,S,K] and weights [K,3N]; got "
                              "ranks %d and %d", X->rank, W->rank);
    const char *bad = ir_ms_attention_unsupported(a->node);
    if (bad)
        return ms_att_refuse(a, bad);
    int64_t B = X->dims[0], S = X->dims[1], N = W->dims[1] / 3;
    int64_t H = ir_node_attr_int(a->node, "num_heads", 0);
    if (H <= 0 || N % H != 0)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "num_heads %lld must divide the hidden size %lld",
                              (long long)H, (long long)N);
    if ((st = ir_fused_check_vec(a, 2, "bias", 3 * N)) != IR_OK)
        return st;
    double scale = ir_node_attr_float(a->node, "scale", 0.0f);
    if (scale == 0.0)
        scale = 1.0 / sqrt((double)(N / H));
    float filler = ir_node_attr_float(a->node, "mask_filter_value", -10000.0f);
    ir_fused_attention_args p = {X, W, Bq, H, scale, NULL, {0}, false, filler};
    ir_tensor *M = NULL;
    if (Mk && (st = ms_att_mask(a, Mk, B, S, filler, &M, p.mask_str)) != IR_OK)
        return st;
    p.mask = M;
    st = ir_fused_attention(a, &p);
    ir_tensor_free(M);
    return st;
}

ir_status ir_infer_MS_ATTENTION(ir_infer_args *a)
{
    return ir_infer_ATTENTION(a);
}

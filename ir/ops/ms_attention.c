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
 * qkv_hidden_sizes [Nq, Nk, Nv] splits weights [K, Nq+Nk+Nv] (q and k
 * must be equal: their dot products are the scores); the default scale
 * is then 1/sqrt(Nq/num_heads) and output [B,S,Nv].
 * Refused, naming the input or attribute: the [2B] start/end and 4-D
 * forms, past / attention_bias / past_sequence_length inputs, the present
 * output, unidirectional=1, do_rotary=1, and qkv_hidden_sizes that do not
 * fit the weights or the heads.
 */
#include "ir/ops/fused_core.h"
#include "ir/ops/ms_attention.h"

#include <math.h>
#include <stdio.h>

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
    return NULL;
}

bool ir_ms_attention_sizes(const ir_node *n, int64_t w_cols, int64_t *nq,
                           int64_t *nv, char *why, size_t len)
{
    const int64_t *qkv;
    int k = ir_node_attr_ints(n, "qkv_hidden_sizes", &qkv);
    int64_t heads = ir_node_attr_int(n, "num_heads", 0);
    if (k <= 0) {
        *nq = *nv = w_cols / 3;
        if (w_cols % 3 == 0 && heads > 0 && *nq % heads == 0)
            return true;
        snprintf(why, len, "weights have %lld columns: without "
                 "qkv_hidden_sizes they must be 3N with num_heads %lld "
                 "dividing N", (long long)w_cols, (long long)heads);
        return false;
    }
    *nq = qkv[0];
    *nv = k == 3 ? qkv[2] : 0;
    if (k == 3 && qkv[0] == qkv[1] && qkv[0] > 0 && qkv[2] > 0 &&
        qkv[0] + qkv[1] + qkv[2] == w_cols && heads > 0 &&
        qkv[0] % heads == 0 && qkv[2] % heads == 0)
        return true;
    snprintf(why, len, "attribute qkv_hidden_sizes [%lld%s%lld%s%lld] does "
             "not fit: want 3 sizes, q equal to k, summing to the weights' "
             "%lld columns, each divisible by num_heads %lld",
             (long long)qkv[0], k > 1 ? "," : "", k > 1 ? (long long)qkv[1] : 0,
             k > 2 ? "," : "", k > 2 ? (long long)qkv[2] : 0,
             (long long)w_cols, (long long)heads);
    return false;
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
    if (X->rank != 3 || W->rank != 2 || W->dims[0] != X->dims[2])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input must be [B,S,K] and weights [K,*] with "
                              "the same K; got ranks %d and %d", X->rank,
                              W->rank);
    const char *bad = ir_ms_attention_unsupported(a->node);
    if (bad)
        return ms_att_refuse(a, bad);
    int64_t B = X->dims[0], S = X->dims[1], Nq, Nv;
    int64_t H = ir_node_attr_int(a->node, "num_heads", 0);
    char why[200];
    if (!ir_ms_attention_sizes(a->node, W->dims[1], &Nq, &Nv, why, sizeof why))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT, "%s", why);
    if ((st = ir_fused_check_vec(a, 2, "bias", W->dims[1])) != IR_OK)
        return st;
    double scale = ir_node_attr_float(a->node, "scale", 0.0f);
    if (scale == 0.0)
        scale = 1.0 / sqrt((double)(Nq / H));
    float filler = ir_node_attr_float(a->node, "mask_filter_value", -10000.0f);
    ir_fused_attention_args p = {X, W, Bq, H, scale, NULL, {0}, false, filler,
                                 Nq, NULL, {0}};
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
    ir_status st = ir_infer_ATTENTION(a);
    const int64_t *qkv;
    ir_value *Y = a->node->outputs[0];
    if (st == IR_OK && Y && Y->rank == 3 &&
        ir_node_attr_ints(a->node, "qkv_hidden_sizes", &qkv) == 3)
        Y->dims[2] = ir_dim_const(qkv[2]); /* v's size, not a third of W's */
    return st;
}

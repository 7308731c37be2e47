/* fused.c — reference kernels (eval + infer) of distilc's fused ops, domain
 * "ai.distilc": Linear, LayerNorm, AddLayerNorm, Attention, EmbedLayerNorm.
 *
 * The fusion passes (passes/fuse_*.c) make these ops out of standard ONNX
 * subgraphs; each kernel here computes exactly what the subgraph computed,
 * written plainly (one loop nest per formula, sums in double) because it is
 * the oracle the oneDNN backend and the emitted binaries are tested against.
 *
 *   Linear(x[...,K], W[K,N], bias[N]?; activation)        -> y[...,N]
 *       y = act(x·W + bias)   (MatMul-13 + Add-14, then Gelu-20 "none" /
 *       "tanh", Relu-14 or Tanh-13; activation "none|gelu|gelu_tanh|relu|tanh")
 *   LayerNorm(x[...,C], gamma[C], beta[C]?; epsilon)         -> y[...,C]
 *       LayerNormalization-17 with axis = -1
 *   AddLayerNorm(x, residual, gamma, beta?, bias?; epsilon)  -> y
 *       LayerNorm(x + residual (+ bias)), numpy broadcasting of the sum
 *   Attention(x[B,S,K], W[K,3N], b[3N]?, mask?, position_bias?; heads,
 *             scale, mask_kind, mask_filler)                  -> y[B,S,N]
 *       q|k|v = x·W + b split in three along the last axis, H = heads,
 *       D = N/H; per head P = Softmax-13(scale·q·kᵀ + R + M) over keys,
 *       R the position_bias broadcast (numpy) to [B,H,S,S] (MPNet's
 *       relative position bias, added before the mask as it does), 0 when
 *       absent;
 *       y = P·v with heads concatenated back ([B,S,H,D] -> [B,S,N]).
 *       M by mask_kind: "none": 0; "key_padding": mask is [B,S] (1 keep,
 *       0 pad) and M[b,:,:,j] = (1 - mask[b,j]) · mask_filler, the form
 *       Hugging Face builds; "additive": mask is added as given, broadcast
 *       (numpy) to [B,H,S,S].
 *   EmbedLayerNorm(input_ids, word[V,C], pos[P,C], gamma, beta,
 *                  token_type_ids?, type[T,C]?, position_ids?; epsilon) -> y
 *       LayerNorm(word[ids] + pos[pids] + type[tids]) with Gather-13 index
 *       rules (negative indices count from the end); the three index
 *       tensors broadcast (numpy) together; absent position_ids means
 *       0..S-1 along the last index axis; absent token types add nothing.
 */
#include "ir/act.h"
#include "ir/norm.h"
#include "ir/ops/fused_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- small shared pieces ------------------------------------------------ */

ir_status ir_fused_need_f32(ir_kernel_args *a, int k, const char *what)
{
    const ir_tensor *t = a->inputs[k];
    if (!t || t->dtype != IR_DT_F32)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_UNSUPPORTED,
                              "input %d (%s) must be f32, got %s", k, what,
                              t ? ir_dtype_name(t->dtype) : "nothing");
    return IR_OK;
}

/* Strides of t seen broadcast to [rank, dims] (0 along broadcast axes);
 * false when t does not broadcast to that shape. */
bool ir_fused_bcast_strides(const ir_tensor *t, int rank,
                                const int64_t *dims, int64_t *str)
{
    if (t->rank > rank)
        return false;
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int ti = i - (rank - t->rank);
        str[i] = 0;
        if (ti < 0)
            continue;
        if (t->dims[ti] != 1 && t->dims[ti] != dims[i])
            return false;
        str[i] = t->dims[ti] == 1 ? 0 : s;
        s *= t->dims[ti];
    }
    return true;
}

/* Offset of multi-index idx under strides str. */
static int64_t fused_offset(int rank, const int64_t *idx, const int64_t *str)
{
    int64_t off = 0;
    for (int i = 0; i < rank; i++)
        off += idx[i] * str[i];
    return off;
}

/* Increments a row-major multi-index; false after the last one. */
static bool fused_next(int rank, const int64_t *dims, int64_t *idx)
{
    for (int i = rank - 1; i >= 0; i--) {
        if (++idx[i] < dims[i])
            return true;
        idx[i] = 0;
    }
    return false;
}

/* gamma / beta must be [C] (or any shape with C elements along the last
 * axis only, e.g. [1,C]). */
ir_status ir_fused_check_vec(ir_kernel_args *a, int k, const char *what,
                                 int64_t c)
{
    const ir_tensor *t = k < a->n_inputs ? a->inputs[k] : NULL;
    if (!t)
        return IR_OK;
    ir_status st = ir_fused_need_f32(a, k, what);
    if (st != IR_OK)
        return st;
    if (ir_tensor_numel(t) != c || (t->rank > 0 && t->dims[t->rank - 1] != c))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input %d (%s) must have %lld elements along its "
                              "last axis only", k, what, (long long)c);
    return IR_OK;
}

static void fused_infer_copy0(ir_infer_args *a)
{
    if (a->node->outputs[0])
        ir_value_copy_type(a->node->outputs[0], a->node->inputs[0]);
}

/* ---- Linear -------------------------------------------------------------- */

ir_status ir_eval_LINEAR(ir_kernel_args *a)
{
    ir_status st;
    if ((st = ir_fused_need_f32(a, 0, "x")) != IR_OK ||
        (st = ir_fused_need_f32(a, 1, "W")) != IR_OK)
        return st;
    const ir_tensor *X = a->inputs[0], *W = a->inputs[1];
    const ir_tensor *B = a->n_inputs > 2 ? a->inputs[2] : NULL;
    const char *act_s = ir_node_attr_string(a->node, "activation", "none");
    ir_act act;
    if (!ir_act_parse(act_s, &act))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "unknown activation '%s' (none, gelu, gelu_tanh, "
                              "relu, tanh)", act_s);
    if (W->rank != 2 || X->rank < 1 || X->dims[X->rank - 1] != W->dims[0])
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "x's last axis must equal W's rows (W must be "
                              "[K,N]); x rank %d, W rank %d", X->rank, W->rank);
    int64_t K = W->dims[0], N = W->dims[1];
    if ((st = ir_fused_check_vec(a, 2, "bias", N)) != IR_OK)
        return st;
    int64_t od[IR_MAX_RANK];
    memcpy(od, X->dims, sizeof(int64_t) * (size_t)X->rank);
    od[X->rank - 1] = N;
    ir_tensor *Y;
    if ((st = ir_tensor_create(IR_DT_F32, X->rank, od, &Y, a->diag)) != IR_OK)
        return st;
    int64_t M = K ? ir_tensor_numel(X) / K : ir_tensor_numel(Y) / (N ? N : 1);
    const float *x = X->data, *w = W->data, *b = B ? B->data : NULL;
    float *y = Y->data;
    double *acc = malloc(sizeof *acc * (size_t)(N ? N : 1));
    if (!acc) {
        ir_tensor_free(Y);
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    }
    for (int64_t m = 0; m < M; m++) { /* y[m,:] = x[m,:]·W, row by row */
        for (int64_t n = 0; n < N; n++)
            acc[n] = 0.0;
        for (int64_t k = 0; k < K; k++) {
            double xv = x[m * K + k];
            const float *wr = w + k * N;
            for (int64_t n = 0; n < N; n++)
                acc[n] += xv * wr[n];
        }
        for (int64_t n = 0; n < N; n++) {
            /* round like the unfused MatMul and Add did before activating */
            float v = (float)acc[n];
            if (b)
                v = v + b[n];
            /* as the standalone ONNX ops compute them (ir/ops/unary.c) */
            y[m * N + n] = (float)ir_act_ref(act, v);
        }
    }
    free(acc);
    a->outputs[0] = Y;
    return IR_OK;
}

ir_status ir_infer_LINEAR(ir_infer_args *a)
{
    ir_node *n = a->node;
    const ir_value *X = n->inputs[0], *W = n->inputs[1];
    ir_value *Y = n->outputs[0];
    if (!Y)
        return IR_OK;
    Y->dtype = X->dtype != IR_DT_UNDEF ? X->dtype : W->dtype;
    Y->rank = X->rank;
    if (X->rank < 1)
        return IR_OK;
    memcpy(Y->dims, X->dims, sizeof(ir_dim) * (size_t)X->rank);
    Y->dims[X->rank - 1] = W->rank == 2 ? W->dims[1] : ir_dim_unknown();
    if (W->rank == 2 && ir_dim_known(W->dims[0]) &&
        ir_dim_known(X->dims[X->rank - 1]) &&
        W->dims[0].size != X->dims[X->rank - 1].size)
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "x's last axis is %lld but W has %lld rows",
                              (long long)X->dims[X->rank - 1].size,
                              (long long)W->dims[0].size);
    return IR_OK;
}

/* ---- LayerNorm and AddLayerNorm ----------------------------------------- */

/* Normalises every row (last axis) of s[rows, c] into a new tensor of
 * shape [rank, dims]: output 0. */
ir_status ir_fused_ln_rows(ir_kernel_args *a, const float *s, int rank,
                           const int64_t *dims, int gamma_k, int beta_k,
                           double eps)
{
    int64_t c = rank ? dims[rank - 1] : 1;
    ir_status st;
    if ((st = ir_fused_check_vec(a, gamma_k, "gamma", c)) != IR_OK ||
        (st = ir_fused_check_vec(a, beta_k, "beta", c)) != IR_OK)
        return st;
    const ir_tensor *G = a->inputs[gamma_k];
    const ir_tensor *Bt = beta_k < a->n_inputs ? a->inputs[beta_k] : NULL;
    ir_tensor *Y;
    if ((st = ir_tensor_create(IR_DT_F32, rank, dims, &Y, a->diag)) != IR_OK)
        return st;
    int64_t rows = c ? ir_tensor_numel(Y) / c : 0;
    for (int64_t r = 0; r < rows; r++)
        ir_layer_norm_row_ref(s + r * c, (float *)Y->data + r * c, c, G->data,
                              Bt ? Bt->data : NULL, eps, NULL, NULL);
    a->outputs[0] = Y;
    return IR_OK;
}

ir_status ir_eval_LAYER_NORM(ir_kernel_args *a)
{
    ir_status st = ir_fused_need_f32(a, 0, "x");
    if (st != IR_OK)
        return st;
    const ir_tensor *X = a->inputs[0];
    if (X->rank < 1)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "x must have rank >= 1");
    return ir_fused_ln_rows(a, X->data, X->rank, X->dims, 1, 2,
                            ir_node_attr_float(a->node, "epsilon", 1e-5f));
}

ir_status ir_infer_LAYER_NORM(ir_infer_args *a)
{
    fused_infer_copy0(a);
    return IR_OK;
}

/* s = x + residual (+ bias), Add-14 broadcasting, in that order: inputs 0,
 * 1 and 4. Shared with com.microsoft SkipLayerNormalization. */
ir_status ir_fused_add_sum(ir_kernel_args *a, float **sum, int *out_rank,
                           int64_t *dims)
{
    ir_status st;
    if ((st = ir_fused_need_f32(a, 0, "x")) != IR_OK ||
        (st = ir_fused_need_f32(a, 1, "residual")) != IR_OK)
        return st;
    const ir_tensor *X = a->inputs[0], *R = a->inputs[1];
    const ir_tensor *Bs = a->n_inputs > 4 ? a->inputs[4] : NULL;
    int ranks[2] = {X->rank, R->rank}, rank;
    const int64_t *dl[2] = {X->dims, R->dims};
    if (ir_broadcast_dims(2, ranks, dl, &rank, dims) != IR_OK || rank < 1)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "x (rank %d) and residual (rank %d) do not "
                              "broadcast to one shape of rank >= 1",
                              X->rank, R->rank);
    int64_t sx[IR_MAX_RANK], sr[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    ir_fused_bcast_strides(X, rank, dims, sx);
    ir_fused_bcast_strides(R, rank, dims, sr);
    int64_t c = dims[rank - 1];
    if (Bs && (st = ir_fused_check_vec(a, 4, "bias", c)) != IR_OK)
        return st;
    int64_t n = ir_numel_checked(rank, dims);
    float *s = malloc(sizeof *s * (size_t)(n > 0 ? n : 1));
    if (!s)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    const float *x = X->data, *r = R->data;
    for (int64_t e = 0; e < n; e++) {
        float v = x[fused_offset(rank, idx, sx)] + r[fused_offset(rank, idx, sr)];
        if (Bs)
            v += ((const float *)Bs->data)[idx[rank - 1]];
        s[e] = v;
        fused_next(rank, dims, idx);
    }
    *sum = s;
    *out_rank = rank;
    return IR_OK;
}

ir_status ir_fused_out_copy(ir_kernel_args *a, int k, const float *s, int rank,
                           const int64_t *dims)
{
    ir_tensor *T;
    ir_status st = ir_tensor_create(IR_DT_F32, rank, dims, &T, a->diag);
    if (st != IR_OK)
        return st;
    memcpy(T->data, s, T->nbytes);
    a->outputs[k] = T;
    return IR_OK;
}

ir_status ir_fused_add_layer_norm(ir_kernel_args *a, double eps, int sum_k)
{
    float *s;
    int rank;
    int64_t dims[IR_MAX_RANK];
    ir_status st = ir_fused_add_sum(a, &s, &rank, dims);
    if (st != IR_OK)
        return st;
    st = ir_fused_ln_rows(a, s, rank, dims, 2, 3, eps);
    if (st == IR_OK && sum_k >= 0)
        st = ir_fused_out_copy(a, sum_k, s, rank, dims);
    free(s);
    return st;
}

ir_status ir_eval_ADD_LAYER_NORM(ir_kernel_args *a)
{
    return ir_fused_add_layer_norm(a, ir_node_attr_float(a->node, "epsilon", 1e-5f),
                                   -1);
}

ir_status ir_infer_ADD_LAYER_NORM(ir_infer_args *a)
{
    ir_node *n = a->node;
    ir_value *Y = n->outputs[0];
    if (!Y)
        return IR_OK;
    const ir_value *vs[2] = {n->inputs[0], n->inputs[1]};
    Y->dtype = vs[0]->dtype;
    if (vs[0]->rank < 0 || vs[1]->rank < 0) {
        Y->rank = -1;
        return IR_OK;
    }
    int rank;
    if (ir_broadcast_value_dims(a->graph, 2, vs, &rank, Y->dims) != IR_OK)
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "x '%s' and residual '%s' do not broadcast",
                              vs[0]->name, vs[1]->name);
    Y->rank = rank;
    return IR_OK;
}

/* ---- Attention ------------------------------------------------------------ */

ir_status ir_eval_ATTENTION(ir_kernel_args *a)
{
    ir_status st;
    if ((st = ir_fused_need_f32(a, 0, "x")) != IR_OK ||
        (st = ir_fused_need_f32(a, 1, "W")) != IR_OK)
        return st;
    const ir_tensor *X = a->inputs[0], *W = a->inputs[1];
    const ir_tensor *Bq = a->n_inputs > 2 ? a->inputs[2] : NULL;
    const ir_tensor *Mk = a->n_inputs > 3 ? a->inputs[3] : NULL;
    const ir_tensor *Pb = a->n_inputs > 4 ? a->inputs[4] : NULL;
    int64_t H = ir_node_attr_int(a->node, "heads", 0);
    double scale = ir_node_attr_float(a->node, "scale", 1.0f);
    const char *kind = ir_node_attr_string(a->node, "mask_kind", "none");
    float filler = ir_node_attr_float(a->node, "mask_filler", -10000.0f);
    bool key_padding = strcmp(kind, "key_padding") == 0;
    bool additive = strcmp(kind, "additive") == 0;
    if (!key_padding && !additive && strcmp(kind, "none") != 0)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "unknown mask_kind '%s' (none, key_padding, "
                              "additive)", kind);
    if ((key_padding || additive) && !Mk)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "mask_kind '%s' needs input 3 (mask)", kind);
    if (X->rank != 3 || W->rank != 2 || W->dims[0] != X->dims[2] ||
        W->dims[1] % 3 != 0)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "x must be [B,S,K] and W [K,3N]; got x rank %d, "
                              "W rank %d", X->rank, W->rank);
    int64_t B = X->dims[0], S = X->dims[1], N3 = W->dims[1];
    int64_t N = N3 / 3;
    if (H <= 0 || N % H != 0)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "heads %lld must divide the hidden size %lld",
                              (long long)H, (long long)N);
    if ((st = ir_fused_check_vec(a, 2, "bias", N3)) != IR_OK)
        return st;
    /* Mask strides over [B,H,S(query),S(key)]. */
    int64_t mdims[4] = {B, H, S, S}, mstr[4] = {0, 0, 0, 0};
    if (Mk) {
        if (key_padding) {
            if (Mk->rank != 2 || Mk->dims[0] != B || Mk->dims[1] != S)
                return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                      "key_padding mask must be [B,S] = "
                                      "[%lld,%lld]", (long long)B, (long long)S);
            mstr[0] = S;
            mstr[3] = 1;
        } else if (!ir_fused_bcast_strides(Mk, 4, mdims, mstr)) {
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "additive mask does not broadcast to "
                                  "[B,H,S,S] = [%lld,%lld,%lld,%lld]",
                                  (long long)B, (long long)H, (long long)S,
                                  (long long)S);
        }
    }
    int64_t pstr[4] = {0, 0, 0, 0};
    if (Pb && (Pb->dtype != IR_DT_F32 || !ir_fused_bcast_strides(Pb, 4, mdims, pstr)))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "position_bias (input 4) must be f32 and "
                              "broadcast to [B,H,S,S] = [%lld,%lld,%lld,%lld]",
                              (long long)B, (long long)H, (long long)S,
                              (long long)S);
    ir_fused_attention_args p = {X, W, Bq, H, scale, Mk, {0}, key_padding,
                                 filler, 0, Pb, {0}};
    memcpy(p.mask_str, mstr, sizeof mstr);
    memcpy(p.pos_bias_str, pstr, sizeof pstr);
    return ir_fused_attention(a, &p);
}

/* The attention computation itself, shared with com.microsoft Attention
 * (ir/ops/ms_attention.c): inputs already checked, y is output 0. */
ir_status ir_fused_attention(ir_kernel_args *a, const ir_fused_attention_args *arg)
{
    const ir_tensor *X = arg->x, *W = arg->w, *Bq = arg->bias, *Mk = arg->mask;
    int64_t B = X->dims[0], S = X->dims[1], K = X->dims[2], N3 = W->dims[1];
    /* q and k have Nq columns each, v (and y) N; Dq and D per head. */
    int64_t Nq = arg->qk_hidden > 0 ? arg->qk_hidden : N3 / 3, N = N3 - 2 * Nq;
    int64_t H = arg->heads, Dq = Nq / H, D = N / H;
    const int64_t *mstr = arg->mask_str;
    ir_status st;
    ir_tensor *Y;
    int64_t yd[3] = {B, S, N};
    if ((st = ir_tensor_create(IR_DT_F32, 3, yd, &Y, a->diag)) != IR_OK)
        return st;
    /* qkv[B*S, 3N] = x·W + b, rounded to float as the unfused graph did. */
    float *qkv = malloc(sizeof *qkv * (size_t)(B * S * N3 + 1));
    float *prob = malloc(sizeof *prob * (size_t)(S + 1));
    if (!qkv || !prob) {
        free(qkv); free(prob); ir_tensor_free(Y);
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    }
    const float *x = X->data, *w = W->data, *bias = Bq ? Bq->data : NULL;
    for (int64_t m = 0; m < B * S; m++)
        for (int64_t n = 0; n < N3; n++) {
            double acc = 0.0;
            for (int64_t k = 0; k < K; k++)
                acc += (double)x[m * K + k] * w[k * N3 + n];
            float v = (float)acc;
            qkv[m * N3 + n] = bias ? v + bias[n] : v;
        }
    float *y = Y->data;
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < S; i++) {
                const float *q = qkv + (b * S + i) * N3 + h * Dq;
                float mx = -INFINITY;
                for (int64_t j = 0; j < S; j++) {
                    const float *k = qkv + (b * S + j) * N3 + Nq + h * Dq;
                    double dot = 0.0;
                    for (int64_t d = 0; d < Dq; d++)
                        dot += (double)q[d] * k[d];
                    float sc = (float)((float)dot * arg->scale);
                    int64_t at[4] = {b, h, i, j};
                    if (arg->pos_bias)
                        sc += ((const float *)arg->pos_bias->data)
                            [fused_offset(4, at, arg->pos_bias_str)];
                    if (Mk) {
                        double mv = ir_tensor_get_f64(Mk, fused_offset(4, at, mstr));
                        sc += arg->key_padding ? (float)(1.0f - (float)mv) * arg->filler
                                          : (float)mv;
                    }
                    prob[j] = sc;
                    if (sc > mx)
                        mx = sc;
                }
                double sum = 0.0; /* Softmax-13 along the keys, x - max */
                for (int64_t j = 0; j < S; j++)
                    sum += (prob[j] = (float)exp((double)prob[j] - mx));
                for (int64_t j = 0; j < S; j++)
                    prob[j] = (float)(prob[j] / sum);
                for (int64_t d = 0; d < D; d++) {
                    double acc = 0.0;
                    for (int64_t j = 0; j < S; j++)
                        acc += (double)prob[j] * qkv[(b * S + j) * N3 + 2 * Nq + h * D + d];
                    y[(b * S + i) * N + h * D + d] = (float)acc;
                }
            }
    free(qkv);
    free(prob);
    a->outputs[0] = Y;
    return IR_OK;
}

ir_status ir_infer_ATTENTION(ir_infer_args *a)
{
    ir_node *n = a->node;
    const ir_value *X = n->inputs[0], *W = n->inputs[1];
    ir_value *Y = n->outputs[0];
    if (!Y)
        return IR_OK;
    Y->dtype = X->dtype;
    Y->rank = X->rank;
    if (X->rank != 3) {
        if (X->rank >= 0)
            return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                                  "x '%s' must have rank 3, has %d", X->name,
                                  X->rank);
        return IR_OK;
    }
    Y->dims[0] = X->dims[0];
    Y->dims[1] = X->dims[1];
    Y->dims[2] = W->rank == 2 && ir_dim_known(W->dims[1])
                     ? ir_dim_const(W->dims[1].size / 3)
                     : ir_dim_unknown();
    return IR_OK;
}

/* ---- EmbedLayerNorm ------------------------------------------------------ */

/* Gather-13 row index: negative counts from the end; false if out of range. */
static bool fused_row(int64_t i, int64_t rows, int64_t *out)
{
    if (i < 0)
        i += rows;
    if (i < 0 || i >= rows)
        return false;
    *out = i;
    return true;
}

/* The summed embedding rows (see fused.c's header), shared with
 * com.microsoft EmbedLayerNormalization: *sum is malloc'd [rank, dims],
 * dims[rank - 1] = C. */
ir_status ir_fused_embed_sum(ir_kernel_args *a, const ir_fused_embed_args *e,
                             float **sum, int *out_rank, int64_t *dims)
{
    const ir_tensor *ids = e->ids, *tids = e->tids, *T = e->type;
    const ir_tensor *Wd = e->word, *P = e->pos, *pids = e->pids;
    if (Wd->rank != 2 || P->rank != 2 || (T && T->rank != 2) ||
        P->dims[1] != Wd->dims[1] || (T && T->dims[1] != Wd->dims[1]))
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "embedding tables must be [rows, C] with one C");
    int64_t C = Wd->dims[1];
    if (ids->rank < 1)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input_ids must have rank >= 1");
    /* Broadcast shape of the index tensors, then [.., C]. */
    const ir_tensor *ix[3] = {ids, tids, pids};
    int ranks[3], nb = 0;
    const int64_t *dl[3];
    for (int k = 0; k < 3; k++)
        if (ix[k]) {
            ranks[nb] = ix[k]->rank;
            dl[nb++] = ix[k]->dims;
        }
    int rank;
    if (ir_broadcast_dims(nb, ranks, dl, &rank, dims) != IR_OK ||
        rank + 1 > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "input_ids, token_type_ids and position_ids do "
                              "not broadcast together");
    int64_t str[3][IR_MAX_RANK];
    for (int k = 0; k < 3; k++)
        if (ix[k])
            ir_fused_bcast_strides(ix[k], rank, dims, str[k]);
    int64_t rows = ir_numel_checked(rank, dims);
    float *s = malloc(sizeof *s * (size_t)(rows * C + 1));
    if (!s)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_NOMEM, "out of memory");
    int64_t idx[IR_MAX_RANK] = {0};
    const float *wt = Wd->data, *pt = P->data, *tt = T ? T->data : NULL;
    for (int64_t r = 0; r < rows; r++) {
        int64_t wi, pi, ti = 0;
        int64_t raw_p = pids ? ir_tensor_get_i64(pids, fused_offset(rank, idx, str[2]))
                             : idx[rank - 1];
        bool ok = fused_row(ir_tensor_get_i64(ids, fused_offset(rank, idx, str[0])),
                            Wd->dims[0], &wi) &&
                  fused_row(raw_p, P->dims[0], &pi);
        if (ok && tids && T)
            ok = fused_row(ir_tensor_get_i64(tids, fused_offset(rank, idx, str[1])),
                           T->dims[0], &ti);
        if (!ok) {
            free(s);
            return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                                  "an index at row %lld is out of range of its "
                                  "embedding table", (long long)r);
        }
        /* The order of the exported Adds: (word + type) + pos. */
        for (int64_t c = 0; c < C; c++) {
            float v = wt[wi * C + c];
            if (tt && tids)
                v += tt[ti * C + c];
            s[r * C + c] = v + pt[pi * C + c];
        }
        fused_next(rank, dims, idx);
    }
    dims[rank] = C;
    *out_rank = rank + 1;
    *sum = s;
    return IR_OK;
}

ir_status ir_eval_EMBED_LAYER_NORM(ir_kernel_args *a)
{
    ir_status st;
    const ir_tensor *tids = a->n_inputs > 5 ? a->inputs[5] : NULL;
    const ir_tensor *T = a->n_inputs > 6 ? a->inputs[6] : NULL;
    if ((st = ir_fused_need_f32(a, 1, "word")) != IR_OK ||
        (st = ir_fused_need_f32(a, 2, "pos")) != IR_OK ||
        (T && (st = ir_fused_need_f32(a, 6, "type")) != IR_OK))
        return st;
    if (!tids != !T)
        return ir_kernel_fail(a->diag, a->node, IR_ERR_INPUT,
                              "token_type_ids (input 5) and the type table "
                              "(input 6) must be given together");
    ir_fused_embed_args e = {a->inputs[0], tids, a->n_inputs > 7 ? a->inputs[7] : NULL,
                             a->inputs[1], a->inputs[2], T};
    float *s;
    int rank;
    int64_t dims[IR_MAX_RANK];
    if ((st = ir_fused_embed_sum(a, &e, &s, &rank, dims)) != IR_OK)
        return st;
    st = ir_fused_ln_rows(a, s, rank, dims, 3, 4,
                          ir_node_attr_float(a->node, "epsilon", 1e-5f));
    free(s);
    return st;
}

ir_status ir_infer_EMBED_LAYER_NORM(ir_infer_args *a)
{
    ir_node *n = a->node;
    ir_value *Y = n->outputs[0];
    if (!Y)
        return IR_OK;
    const ir_value *ids = n->inputs[0], *Wd = n->inputs[1];
    Y->dtype = Wd->dtype;
    const ir_value *vs[3];
    int nv = 0;
    vs[nv++] = ids;
    if (n->n_inputs > 5 && n->inputs[5])
        vs[nv++] = n->inputs[5];
    if (n->n_inputs > 7 && n->inputs[7])
        vs[nv++] = n->inputs[7];
    for (int k = 0; k < nv; k++)
        if (vs[k]->rank < 0) {
            Y->rank = -1;
            return IR_OK;
        }
    int rank;
    if (ir_broadcast_value_dims(a->graph, nv, vs, &rank, Y->dims) != IR_OK ||
        rank + 1 > IR_MAX_RANK)
        return ir_kernel_fail(a->diag, n, IR_ERR_INPUT,
                              "index inputs do not broadcast together");
    Y->rank = rank + 1;
    Y->dims[rank] = Wd->rank == 2 ? Wd->dims[1] : ir_dim_unknown();
    return IR_OK;
}

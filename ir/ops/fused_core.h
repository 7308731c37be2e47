/* fused_core.h — pieces of the fused ops' reference kernels (ir/ops/fused.c)
 * that ONNX Runtime's contrib ops (ir/ops/ms_*.c) compute the same way, so
 * there is one oracle for each formula. Private to ir/ops/.
 */
#ifndef DISTILC_IR_OPS_FUSED_CORE_H
#define DISTILC_IR_OPS_FUSED_CORE_H

#include "ir/ops/kernel.h"

/* Input k must be present and f32 ("input k (what) must be f32"). */
ir_status ir_fused_need_f32(ir_kernel_args *a, int k, const char *what);
/* Input k, when present, is f32 with c elements along its last axis only. */
ir_status ir_fused_check_vec(ir_kernel_args *a, int k, const char *what,
                             int64_t c);
/* Strides of t broadcast (numpy) to [rank, dims]; false if it does not. */
bool ir_fused_bcast_strides(const ir_tensor *t, int rank, const int64_t *dims,
                            int64_t *str);
/* LayerNorm of every row of s (shape [rank, dims], normalised over the last
 * axis) with gamma = input gamma_k, beta = input beta_k (absent: none) and
 * epsilon eps: output 0. */
ir_status ir_fused_ln_rows(ir_kernel_args *a, const float *s, int rank,
                           const int64_t *dims, int gamma_k, int beta_k,
                           double eps);
/* AddLayerNorm's sum x + residual (+ bias): inputs 0, 1 and 4, numpy
 * broadcasting; *sum is malloc'd [*rank, dims]. */
ir_status ir_fused_add_sum(ir_kernel_args *a, float **sum, int *rank,
                           int64_t *dims);
/* AddLayerNorm with epsilon eps into output 0; the sum also into output
 * sum_k when sum_k >= 0. */
ir_status ir_fused_add_layer_norm(ir_kernel_args *a, double eps, int sum_k);
/* Output k as a new f32 tensor [rank, dims] holding a copy of s. */
ir_status ir_fused_out_copy(ir_kernel_args *a, int k, const float *s, int rank,
                           const int64_t *dims);

/* Multi-head self-attention with packed q|k|v (see fused.c's header):
 * x [B,S,K] f32, w [K,3N] f32, bias [3N] or NULL, heads dividing N; or,
 * with qk_hidden Nq > 0, w [K,2Nq+Nv] packing q and k of Nq columns and v
 * of Nv (com.microsoft Attention's qkv_hidden_sizes), heads dividing both.
 * The
 * mask, when given, is read at strides mask_str over [B,H,S(query),S(key)]:
 * key_padding adds (1 - m) * filler, otherwise m is added as it is.
 * Writes output 0, y [B,S,N] (N = Nv). */
typedef struct ir_fused_attention_args {
    const ir_tensor *x, *w, *bias;
    int64_t heads;
    double scale;
    const ir_tensor *mask;
    int64_t mask_str[4];
    bool key_padding;
    float filler;
    int64_t qk_hidden; /* Nq; 0: a third of w's columns, like v's */
    /* f32 added to the scaled scores before the mask (MPNet's relative
     * position bias), read at strides pos_bias_str over [B,H,S,S]; NULL:
     * none. */
    const ir_tensor *pos_bias;
    int64_t pos_bias_str[4];
} ir_fused_attention_args;

ir_status ir_fused_attention(ir_kernel_args *a, const ir_fused_attention_args *arg);

/* Embedding rows summed, word[ids] (+ type[tids]) + pos[pids] (pids absent:
 * 0..S-1 along the last index axis); index tensors broadcast together. */
typedef struct ir_fused_embed_args {
    const ir_tensor *ids, *tids, *pids;  /* tids, pids may be NULL */
    const ir_tensor *word, *pos, *type;  /* f32 [rows, C]; type may be NULL */
} ir_fused_embed_args;

/* *sum is malloc'd (the caller frees it), shape [*rank, dims] with C last. */
ir_status ir_fused_embed_sum(ir_kernel_args *a, const ir_fused_embed_args *e,
                             float **sum, int *rank, int64_t *dims);

#endif

/* dnnl_matmul.h — oneDNN matmul wrappers: a general strided, batched matmul
 * (attention reads Q, K, V as views of a packed [B,S,3H] tensor, no
 * transposes) and a linear layer whose weights are reordered once into the
 * layout oneDNN picks (format_tag any), with bias, activation and residual
 * fused as post-ops.
 *
 *     // y[M,N] = gelu(x[M,K] · Wᵀ + b), W given as [N,K] like nn.Linear
 *     onednn_linear_desc ld = { .dt = ONEDNN_F32, .k = K, .n = N,
 *                               .w_is_nk = 1, .act = IR_ACT_GELU };
 *     onednn_linear *lin;
 *     if (onednn_linear_create(ctx, &ld, W, b, &lin, &d) != IR_OK) ...
 *     onednn_linear_run(lin, M, x, y, NULL, &d);
 *     onednn_linear_free(lin);
 *
 *     // scores[B,h,S,S] = (1/sqrt(dh)) Q·Kᵀ + mask, Q/K strided in qkv[B,S,3H]
 *     onednn_matmul_desc md = { .dt = ONEDNN_F32, .alpha = 1/sqrtf(dh),
 *         .a = {4, {B,h,S,dh}, {S*3*H, dh, 3*H, 1}},          // Q
 *         .b = {4, {B,h,dh,S}, {S*3*H, dh, 1, 3*H}},          // Kᵀ
 *         .c = onednn_view_dense(4, (int64_t[]){B,h,S,S}),
 *         .has_r = 1, .r = onednn_view_dense(4, (int64_t[]){B,1,1,S}) };
 *     onednn_matmul_args ma = { qkv, qkv + H, NULL, scores, mask };
 *     onednn_matmul_run(ctx, &md, &ma, &d);
 *
 * Semantics (ONNX MatMul-13 / Gemm-13 with fused epilogue):
 *     C = act(alpha · (A·B + bias)) + beta · C_old + R
 * (alpha scales the bias too: oneDNN 2.x applies output scales after the
 * bias; pre-divide the bias by alpha for Gemm's alpha·A·B + bias).
 * A [..,M,K], B [..,K,N], C [..,M,N]; batch dims of A and B are equal or 1
 * (broadcast); bias is f32 [N]; R is f32, broadcastable to C. Activations
 * (ir/act.h): GELU erf form (ONNX Gelu-20 approximate="none"), GELU tanh
 * form (approximate="tanh"), Relu-14, Tanh-13, or none.
 * bf16: A and B hold bf16 (uint16_t) values, C and R stay f32.
 */
#ifndef DISTILC_BACKEND_DNNL_MATMUL_H
#define DISTILC_BACKEND_DNNL_MATMUL_H

#include <stdint.h>

#include "backend/dnnl_engine.h"
#include "ir/act.h"

typedef enum onednn_dt {
    ONEDNN_F32,
    ONEDNN_BF16,
    ONEDNN_DT_COUNT
} onednn_dt;

#define ONEDNN_MAX_RANK 4

/* A strided view of a buffer: dims and strides in elements. */
typedef struct onednn_view {
    int rank; /* 2..ONEDNN_MAX_RANK */
    int64_t dims[ONEDNN_MAX_RANK];
    int64_t strides[ONEDNN_MAX_RANK];
} onednn_view;

/* Row-major contiguous view of the given dims. */
onednn_view onednn_view_dense(int rank, const int64_t *dims);

typedef struct onednn_matmul_desc {
    onednn_dt dt;       /* of A and B */
    onednn_view a, b, c;
    int has_bias;
    float alpha;        /* 0 is read as 1 so a zeroed desc means plain A·B */
    ir_act act;
    float beta;         /* 0: C is overwritten */
    int has_r;
    onednn_view r;      /* dims 1 where broadcast */
} onednn_matmul_desc;

typedef struct onednn_matmul_args {
    const void *a, *b;  /* f32 or bf16 per desc.dt */
    const float *bias;  /* [N] or NULL */
    float *c;
    const float *r;
} onednn_matmul_args;

/* Runs C = ... as above; the primitive is cached in ctx by desc. Errors:
 * IR_ERR_INPUT for inconsistent shapes, IR_ERR_UNSUPPORTED when oneDNN has
 * no implementation, each naming the matmul's shapes. */
ir_status onednn_matmul_run(onednn_ctx *ctx, const onednn_matmul_desc *desc,
                            const onednn_matmul_args *args, ir_diag *d);

/* ---- linear layer with pre-packed weights ------------------------------ */
typedef struct onednn_linear onednn_linear;

typedef struct onednn_linear_desc {
    onednn_dt dt;      /* compute precision; x, y, bias, residual are f32 */
    int64_t k, n;      /* in and out features */
    int w_is_nk;       /* W given as [N,K] (nn.Linear, ONNX Gemm transB=1)
                          when 1, as [K,N] (ONNX MatMul) when 0 */
    ir_act act;
    int64_t m_hint;    /* rows to pack for (0: 128); other M re-pack once */
} onednn_linear_desc;

/* W (f32) is reordered into oneDNN's chosen layout and not kept; bias [N]
 * (or NULL) is copied. */
ir_status onednn_linear_create(onednn_ctx *ctx, const onednn_linear_desc *ld,
                               const float *w, const float *bias,
                               onednn_linear **out, ir_diag *d);
/* y[M,N] = act(x[M,K] · W + bias) (+ r[M,N] when r is not NULL). */
ir_status onednn_linear_run(onednn_linear *lin, int64_t m, const float *x,
                            float *y, const float *r, ir_diag *d);
void onednn_linear_free(onednn_linear *lin);

#endif

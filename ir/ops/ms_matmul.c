/* ms_matmul.c — ONNX Runtime's FusedMatMul contrib op (domain
 * com.microsoft, ContribOperators.md, since version 1), which its graph
 * optimizer writes for a MatMul whose inputs were transposed or scaled:
 *
 *   FusedMatMul(A, B; alpha = 1, transA = 0, transB = 0, transBatchA = 0,
 *               transBatchB = 0) -> Y = alpha · A'·B'
 *
 * A' is A with, when transBatchA, axis 0 moved behind the other batch axes
 * ([1 .. r-2, 0, r-1]) and then, when transA, its last two axes swapped; B'
 * likewise. A'·B' is MatMul-13 (numpy broadcasting of the batch axes), so
 * the kernel runs MatMul's (ir/ops/matmul.c) on transposed copies and
 * multiplies by alpha after it, in float: the Transpose + MatMul + Mul the
 * pass fuse-ms-ops rewrites it into computes the same numbers. f32 only,
 * as ORT's CPU kernel.
 */
#include "ir/ops/fused_core.h"
#include "ir/ops/ms_matmul.h"
#include "ir/ops/shape_ops.h"

int ir_ms_matmul_perm(const ir_node *n, int k, int rank, int *perm,
                      const char **attr)
{
    static const char *const names[2][2] = {{"transBatchA", "transA"},
                                            {"transBatchB", "transB"}};
    bool batch = ir_node_attr_int(n, names[k][0], 0) != 0;
    bool mat = ir_node_attr_int(n, names[k][1], 0) != 0;
    for (int i = 0; i < rank; i++)
        perm[i] = i;
    if ((batch || mat) && rank < 2) {
        *attr = names[k][batch ? 0 : 1];
        return -1;
    }
    if (batch)
        for (int i = 0; i < rank - 1; i++)
            perm[i] = i < rank - 2 ? i + 1 : 0;
    if (mat) {
        int t = perm[rank - 2];
        perm[rank - 2] = perm[rank - 1];
        perm[rank - 1] = t;
    }
    for (int i = 0; i < rank; i++)
        if (perm[i] != i)
            return 1;
    return 0;
}

static ir_status ms_mm_rank_fail(ir_diag *d, const ir_node *n, int k,
                                 const char *attr, int rank)
{
    return ir_kernel_fail(d, n, IR_ERR_INPUT,
                          "attribute %s needs input %d (%s) of rank >= 2, "
                          "got rank %d", attr, k, k ? "B" : "A", rank);
}

ir_status ir_eval_MS_FUSED_MATMUL(ir_kernel_args *a)
{
    ir_status st;
    if ((st = ir_fused_need_f32(a, 0, "A")) != IR_OK ||
        (st = ir_fused_need_f32(a, 1, "B")) != IR_OK)
        return st;
    const ir_tensor *in[2];
    ir_tensor *copy[2] = {NULL, NULL};
    for (int k = 0; k < 2 && st == IR_OK; k++) {
        int perm[IR_MAX_RANK];
        const char *attr = NULL;
        int r = ir_ms_matmul_perm(a->node, k, a->inputs[k]->rank, perm, &attr);
        in[k] = a->inputs[k];
        if (r < 0)
            st = ms_mm_rank_fail(a->diag, a->node, k, attr, in[k]->rank);
        else if (r > 0 && (st = shp_permute(in[k], perm, &copy[k], a->diag)) == IR_OK)
            in[k] = copy[k];
    }
    if (st == IR_OK) {
        ir_kernel_args mm = *a;
        mm.n_inputs = 2;
        mm.inputs = in;
        st = ir_eval_MATMUL(&mm);
    }
    ir_tensor_free(copy[0]);
    ir_tensor_free(copy[1]);
    float alpha = ir_node_attr_float(a->node, "alpha", 1.0f);
    if (st == IR_OK && alpha != 1.0f) {
        float *y = a->outputs[0]->data;
        for (int64_t e = 0, n = ir_tensor_numel(a->outputs[0]); e < n; e++)
            y[e] *= alpha;
    }
    return st;
}

/* MatMul's shape rule on the inputs' shapes as the attributes reorder
 * them. */
ir_status ir_infer_MS_FUSED_MATMUL(ir_infer_args *a)
{
    ir_node *n = a->node;
    ir_value v[2], *vp[2];
    for (int k = 0; k < 2; k++) {
        v[k] = *n->inputs[k];
        vp[k] = &v[k];
        if (v[k].rank < 0)
            continue;
        int perm[IR_MAX_RANK];
        const char *attr = NULL;
        if (ir_ms_matmul_perm(n, k, v[k].rank, perm, &attr) < 0)
            return ms_mm_rank_fail(a->diag, n, k, attr, v[k].rank);
        for (int i = 0; i < v[k].rank; i++)
            v[k].dims[i] = n->inputs[k]->dims[perm[i]];
    }
    ir_node tmp = *n;
    tmp.inputs = vp;
    ir_infer_args mm = *a;
    mm.node = &tmp;
    return ir_infer_MATMUL(&mm);
}

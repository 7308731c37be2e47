/* elementwise.h — helpers private to the elementwise kernels (elementwise.c,
 * unary.c, cast.c): reading and writing one element of any dtype, a numpy
 * broadcasting walker, dtype sets and shape strings for messages.
 *
 * The kernels compute in two "classes": floating dtypes (f32, f16, bf16) are
 * read as double, computed, and rounded back through float (so f16 and bf16
 * behave as "compute in float, round to nearest even"); integer dtypes and
 * bool are read as int64_t and written back wrapping modulo 2^bits, which is
 * what numpy (ONNX's reference implementation) does.
 *
 * Walking a broadcast:
 *
 *     ir_ew_bcast bc;
 *     if ((s = ir_ew_bcast_init(&bc, 2, ins, a->node, a->diag)) != IR_OK)
 *         return s;
 *     ir_ew_iter it;
 *     for (ir_ew_iter_begin(&bc, &it); it.row < it.rows; ir_ew_iter_next(&bc, &it))
 *         for (int64_t j = 0; j < it.inner; j++)
 *             out[it.out + j] = f(x[it.off[0] + j * it.istride[0]], ...);
 */
#ifndef DISTILC_IR_OPS_ELEMENTWISE_H
#define DISTILC_IR_OPS_ELEMENTWISE_H

#include "ir/ops/kernel.h"

#define IR_EW_MAX_IN 3 /* Where has three inputs; variadic ops go pairwise */

/* Dtype sets as bit masks over ir_dtype codes (all codes are < 32). */
#define IR_EW_BIT(t) (1u << (unsigned)(t))
#define IR_EW_FLOATS (IR_EW_BIT(IR_DT_F32) | IR_EW_BIT(IR_DT_F16) | IR_EW_BIT(IR_DT_BF16))
#define IR_EW_SIGNED (IR_EW_BIT(IR_DT_I8) | IR_EW_BIT(IR_DT_I32) | IR_EW_BIT(IR_DT_I64))
#define IR_EW_INTS (IR_EW_SIGNED | IR_EW_BIT(IR_DT_U8))
#define IR_EW_NUMERIC (IR_EW_FLOATS | IR_EW_INTS)
#define IR_EW_BOOL IR_EW_BIT(IR_DT_BOOL)
#define IR_EW_ALL (IR_EW_NUMERIC | IR_EW_BOOL)

static inline bool ir_ew_in_set(ir_dtype t, unsigned set)
{
    return (unsigned)t < 32 && (set & IR_EW_BIT(t)) != 0;
}

/* One element, any supported dtype. */
double ir_ew_get_f(const ir_tensor *t, int64_t i);
int64_t ir_ew_get_i(const ir_tensor *t, int64_t i);
/* Writes a double: float dtypes round (via float), integer dtypes truncate
 * toward zero and saturate (NaN gives 0), bool is v != 0. */
void ir_ew_put_f(ir_tensor *t, int64_t i, double v);
/* Writes an int64: integer dtypes wrap, float dtypes convert, bool v != 0. */
void ir_ew_put_i(ir_tensor *t, int64_t i, int64_t v);
/* Truncates toward zero and clamps into the range of integer dtype t. */
int64_t ir_ew_f64_to_int(double v, ir_dtype t);

/* "[2,3]" for a tensor, "[batch,?,768]" / "[unknown rank]" for a value. */
const char *ir_ew_tensor_shape(const ir_tensor *t, char *buf, size_t n);
const char *ir_ew_value_shape(const ir_value *v, char *buf, size_t n);
/* "f32, i64" style list of a dtype set, for messages. */
const char *ir_ew_set_names(unsigned set, char *buf, size_t n);

/* Broadcast of n <= IR_EW_MAX_IN tensors. The output shape is kept as is;
 * the walking shape drops size-1 dims and merges dims that are contiguous
 * for every input, so same-shape inputs walk as one flat row. */
typedef struct ir_ew_bcast {
    int out_rank;
    int64_t out_dims[IR_MAX_RANK];
    int64_t numel;
    int n;
    int rank;                                   /* walking rank */
    int64_t dims[IR_MAX_RANK];
    int64_t strides[IR_EW_MAX_IN][IR_MAX_RANK]; /* 0 on broadcast dims */
} ir_ew_bcast;

/* IR_ERR_INPUT naming the node and every shape when they cannot broadcast. */
ir_status ir_ew_bcast_init(ir_ew_bcast *bc, int n, const ir_tensor *const *ts,
                           const ir_node *node, ir_diag *d);

typedef struct ir_ew_iter {
    int64_t rows, row;              /* rows of the innermost dim */
    int64_t inner;                  /* innermost length */
    int64_t istride[IR_EW_MAX_IN];  /* innermost stride per input (0 or 1..) */
    int64_t off[IR_EW_MAX_IN];      /* element offset of the row per input */
    int64_t out;                    /* element offset of the row in output */
    int64_t idx[IR_MAX_RANK];
} ir_ew_iter;

void ir_ew_iter_begin(const ir_ew_bcast *bc, ir_ew_iter *it);
void ir_ew_iter_next(const ir_ew_bcast *bc, ir_ew_iter *it);

/* Checks that a known dtype of node input `slot` is in `set`. */
ir_status ir_ew_check_value_dtype(ir_infer_args *a, int slot, unsigned set);
ir_status ir_ew_check_tensor_dtype(ir_kernel_args *a, int slot, unsigned set);

#endif

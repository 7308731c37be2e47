/* tensor.c — dense row-major tensors: creation with overflow checks, element
 * access for small shape/scalar tensors, and release (heap or mmap). */
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Element counts beyond this are refused: 2^40 elements is far past any
 * model this tool handles and keeps byte sizes clear of size_t overflow. */
#define IR_MAX_NUMEL ((int64_t)1 << 40)

int64_t ir_numel_checked(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return -1;
        if (dims[i] == 0)
            n = 0;
        else if (n > IR_MAX_NUMEL / dims[i])
            return -1;
        else
            n *= dims[i];
    }
    return n;
}

int64_t ir_tensor_numel(const ir_tensor *t)
{
    return ir_numel_checked(t->rank, t->dims);
}

ir_status ir_tensor_create(ir_dtype t, int rank, const int64_t *dims,
                           ir_tensor **out, ir_diag *d)
{
    *out = NULL;
    if (rank < 0 || rank > IR_MAX_RANK)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "tensor rank %d is outside 0..%d", rank, IR_MAX_RANK);
    size_t es = ir_dtype_size(t);
    if (es == 0)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "tensor element type %d is not supported", (int)t);
    int64_t n = ir_numel_checked(rank, dims);
    if (n < 0)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "tensor shape has a negative dimension or its size "
                           "overflows");
    ir_tensor *x = calloc(1, sizeof *x);
    if (!x)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory for a tensor");
    x->dtype = t;
    x->rank = rank;
    for (int i = 0; i < rank; i++)
        x->dims[i] = dims[i];
    x->nbytes = (size_t)n * es;
    if (x->nbytes) {
        x->data = calloc(1, x->nbytes);
        if (!x->data) {
            free(x);
            return ir_diag_set(d, IR_ERR_NOMEM,
                               "out of memory for a tensor of %zu bytes",
                               (size_t)n * es);
        }
    }
    *out = x;
    return IR_OK;
}

ir_tensor *ir_tensor_new(ir_dtype t, int rank, const int64_t *dims)
{
    ir_tensor *x;
    return ir_tensor_create(t, rank, dims, &x, NULL) == IR_OK ? x : NULL;
}

ir_tensor *ir_tensor_clone(const ir_tensor *t)
{
    ir_tensor *x = ir_tensor_new(t->dtype, t->rank, t->dims);
    if (x && t->nbytes)
        memcpy(x->data, t->data, t->nbytes);
    return x;
}

void ir_tensor_free(ir_tensor *t)
{
    if (!t)
        return;
    if (t->mmap_base)
        munmap(t->mmap_base, t->mmap_len);
    else
        free(t->data);
    free(t);
}

bool ir_tensor_same_shape(const ir_tensor *a, const ir_tensor *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

double ir_tensor_get_f64(const ir_tensor *t, int64_t i)
{
    const void *p = t->data;
    switch (t->dtype) {
    case IR_DT_F32: return ((const float *)p)[i];
    case IR_DT_F16: return ir_f16_to_f32(((const uint16_t *)p)[i]);
    case IR_DT_BF16: return ir_bf16_to_f32(((const uint16_t *)p)[i]);
    case IR_DT_I8: return ((const int8_t *)p)[i];
    case IR_DT_U8: return ((const uint8_t *)p)[i];
    case IR_DT_I32: return ((const int32_t *)p)[i];
    case IR_DT_I64: return (double)((const int64_t *)p)[i];
    case IR_DT_BOOL: return ((const uint8_t *)p)[i] != 0;
    default: return 0;
    }
}

int64_t ir_tensor_get_i64(const ir_tensor *t, int64_t i)
{
    const void *p = t->data;
    switch (t->dtype) {
    case IR_DT_I64: return ((const int64_t *)p)[i];
    case IR_DT_I32: return ((const int32_t *)p)[i];
    case IR_DT_I8: return ((const int8_t *)p)[i];
    case IR_DT_U8: return ((const uint8_t *)p)[i];
    case IR_DT_BOOL: return ((const uint8_t *)p)[i] != 0;
    default: {
        double v = ir_tensor_get_f64(t, i);
        /* saturate instead of undefined behaviour on huge floats */
        if (v != v) return 0;
        if (v >= 9.2e18) return INT64_MAX;
        if (v <= -9.2e18) return INT64_MIN;
        return (int64_t)v;
    }
    }
}

void ir_tensor_set_f64(ir_tensor *t, int64_t i, double v)
{
    void *p = t->data;
    switch (t->dtype) {
    case IR_DT_F32: ((float *)p)[i] = (float)v; break;
    case IR_DT_F16: ((uint16_t *)p)[i] = ir_f32_to_f16((float)v); break;
    case IR_DT_BF16: ((uint16_t *)p)[i] = ir_f32_to_bf16((float)v); break;
    case IR_DT_I8: ((int8_t *)p)[i] = (int8_t)v; break;
    case IR_DT_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case IR_DT_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case IR_DT_I64: ((int64_t *)p)[i] = (int64_t)v; break;
    case IR_DT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: break;
    }
}

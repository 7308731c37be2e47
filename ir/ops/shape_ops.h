/* shape_ops.h — private helpers of the shape and data-movement kernels
 * (constant.c, reshape.c, transpose.c, slice_gather.c, expand_tile.c), and
 * of the kernels that transpose an input first (ms_matmul.c).
 *
 * Two concerns live here:
 *  - reading small integer lists (axes, shapes, repeats) from attributes and
 *    tensors, with the node named in every error;
 *  - symbolic products of dims, so that infer hooks can say that
 *    [batch,seq,768] reshaped to [-1,768] is ["batch*seq",768] and later
 *    reshape it back. A product is a known factor times a multiset of symbol
 *    names; a dim named "batch*seq" is read back as the factors batch, seq.
 */
#ifndef DISTILC_IR_OPS_SHAPE_OPS_H
#define DISTILC_IR_OPS_SHAPE_OPS_H

#include "ir/ops/kernel.h"

/* Longest list of axes/dims the kernels accept (inputs are at most rank 8,
 * but a malformed shape tensor may be longer: it is refused, not truncated). */
#define SHP_MAX_LIST 64

/* Reads a 0-D or 1-D integer tensor into out[SHP_MAX_LIST]; *n = length.
 * what names the input in the message ("shape", "axes"). */
ir_status shp_tensor_ints(const ir_kernel_args *a, const ir_tensor *t,
                          const char *what, int64_t *out, int *n);

/* The same for an infer hook: true when v is a constant integer list. */
bool shp_value_ints(const ir_value *v, int64_t *out, int *n);

/* Length of a 1-D value (e.g. a shape input) when known, else -1. */
int64_t shp_value_len(const ir_value *v);

/* Resolves a 1-D (or scalar) integer value to the dims it holds, following
 * the chains torch.onnx writes around every Reshape: constants, Shape(x)
 * (with start/end), Gather of a constant index, Unsqueeze/Squeeze, Concat
 * on axis 0, Cast. Entries may be symbolic ("batch"). lit[i] (if lit is
 * given) says entry i is a literal integer from a constant, whose -1 or 0
 * mean what the op says, rather than a size read from a shape. Returns the
 * length (<= max) or -1 when the chain cannot be followed. */
int shp_value_dims(const ir_value *v, int64_t opset, ir_dim *out, bool *lit,
                   int max);

/* Copies nelem elements of es bytes (all dtypes move by element size). */
void shp_copy_elems(void *dst, const void *src, size_t nelem, size_t es);

/* x with its axes reordered: out.dims[i] = x.dims[perm[i]] (Transpose);
 * *out is new. */
ir_status shp_permute(const ir_tensor *x, const int *perm, ir_tensor **out,
                      ir_diag *d);

/* Formats dims as "[2,3,4]" into buf (for error messages). */
const char *shp_dims_str(int rank, const int64_t *dims, char *buf, size_t n);

/* ---- symbolic products --------------------------------------------------- */
#define SHP_MAX_SYMS 32

typedef struct shp_prod {
    bool unknown;               /* an anonymous dim took part: no answer */
    int64_t known;              /* product of the known factors */
    int n_syms;
    const char *sym[SHP_MAX_SYMS]; /* factor names: slices into arena names */
    int sym_len[SHP_MAX_SYMS];
} shp_prod;

void shp_prod_init(shp_prod *p);
void shp_prod_mul(shp_prod *p, ir_dim d);
/* p / q when q's factors divide p's; false otherwise. */
bool shp_prod_div(const shp_prod *p, const shp_prod *q, shp_prod *out);
/* A dim for p: known size, a single symbol, or a "a*b" symbol. */
ir_dim shp_prod_dim(ir_graph *g, const shp_prod *p);
/* Product of dims[lo..hi) as a dim (used by Flatten and Reshape). */
ir_dim shp_dims_product(ir_graph *g, const ir_dim *dims, int lo, int hi);

#endif

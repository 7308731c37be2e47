/* encoder_graph.c — lowering an ir_encoder to a graph of standard ONNX ops,
 * computed the way a Hugging Face BertForSequenceClassification export
 * computes it (transformers 4.x code paths, as tests/util/bert_export.py
 * mirrors them), so that the result runs in the reference interpreter, in
 * ONNX Runtime, and is recognised again by the fusion passes and the lifter.
 *
 * The graph, per ONNX operator spec (opset 13..17; Unsqueeze-13 takes its
 * axes as an input, ReduceMean-13 as an attribute):
 *   S1      = Gather(Shape(input_ids), [1])               the sequence length
 *   pos_ids = Slice(position_ids[1,P], [0], S1, [1])      [1,S], 0..S-1
 *   or, with padded positions (RoBERTa), as transformers'
 *   create_position_ids_from_input_ids exports:
 *   nonpad  = Cast(Not(Equal(input_ids, pad)), int64)
 *   pos_ids = CumSum(nonpad, 1) · nonpad + pad              [B,S]
 *   e  = Gather(word, ids) (· proj)  +  Gather(type, token_type_ids)
 *        + Gather(position, pos_ids)          (without token types: type
 *                                              row 0, via a zeros buffer)
 *   h  = LayerNorm(e)
 *   M  = (1 - Cast(Unsqueeze(attention_mask, [1,2]))) · filler   [B,1,1,S]
 *   with a relative position bias (MPNet), once for all layers, as
 *   torch.onnx.export writes MPNetEncoder.compute_position_bias:
 *   r  = Range(0, S, 1);  n = Neg(Sub(Unsqueeze(r, [0]), Unsqueeze(r, [1])))
 *        (query - key; one direction: n = Neg(Min(key - query, 0)))
 *   bidirectional: ret = Mul(Cast(Less(n, 0)), half);  n = Abs(n)
 *   big = Min(Add(Cast(Mul(Div(Log(Div(Cast(n), exact)), log(M/exact)),
 *                          half - exact)), exact), half - 1)
 *   bucket = (ret +) Where(Less(n, exact), n, big)
 *   P  = Unsqueeze(Transpose(Gather(relative_bias, bucket), [2,0,1]), [0])
 *                                                           [1,A,S,S]
 *   per layer l (weights of groups attn_group[l], ffn_group[l]):
 *     q = h · Wq + bq, k, v likewise: the packed Wqkv [H,3H] is written as
 *         three constants group{a}.attn.{q,k,v}.weight [H,H] (and .bias), so
 *         the graph is the three nn.Linear of BertSelfAttention
 *     q = Transpose(Reshape(q, [0,0,A,D]), [0,2,1,3]); k likewise with
 *     [0,2,3,1] (k already transposed, as torch writes it); v as q
 *     ctx = Softmax-13(q·k / sqrt(D) (+ P) + M, axis -1) · v
 *     a = LayerNorm(Reshape(Transpose(ctx, [0,2,1,3]), [0,0,H]) · Wo + bo + h)
 *     h = LayerNorm(act(a · Wi + bi) · Wo2 + bo2 + a)
 *   logits = Tanh(Gather(h, 0, axis 1) · Wp + bp) · Whead + bhead
 * LayerNorm is LayerNormalization-17 at opset 17, and below it the
 * decomposition torch writes (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt,
 * Div, Mul, Add). GELU is the erf form x·(1 + erf(x/√2))·0.5 or the tanh
 * form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), op for op as torch's
 * ONNX symbolic writes them (there is no Gelu op before opset 20).
 */
#include "ir/encoder.h"
#include "ir/relpos.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ir_encoder_graph_opts_default(ir_encoder_graph_opts *o)
{
    o->opset = 17;
    o->token_types = true;
    o->mask = IR_ENC_MASK_FINFO_MIN;
}

/* The builder: every helper returns NULL when an input is NULL or memory
 * runs out, so a build is a straight line checked once at the end. */
typedef struct eg {
    ir_graph *g;
    const ir_encoder *e;
    int64_t opset;
    /* shared small constants */
    ir_value *one, *half, *sqrt2, *zero_idx;
} eg;

static ir_value *node(eg *b, ir_op op, const char *name, int n,
                      ir_value *const *in)
{
    for (int i = 0; i < n; i++)
        if (!in[i])
            return NULL;
    ir_node *nd = ir_graph_add_node(b->g, op, name, n, in, 1);
    return nd ? nd->outputs[0] : NULL;
}

static ir_value *op1(eg *b, ir_op op, const char *name, ir_value *x)
{
    return node(b, op, name, 1, &x);
}

static ir_value *op2(eg *b, ir_op op, const char *name, ir_value *x,
                     ir_value *y)
{
    ir_value *in[2] = {x, y};
    return node(b, op, name, 2, in);
}

static ir_node *last_node(eg *b, ir_value *v)
{
    return v ? v->producer : NULL;
}

static bool set_int(eg *b, ir_value *v, const char *attr, int64_t x)
{
    ir_node *n = last_node(b, v);
    return n && ir_node_set_attr_int(b->g, n, attr, x);
}

static bool set_ints(eg *b, ir_value *v, const char *attr, int cnt,
                     const int64_t *x)
{
    ir_node *n = last_node(b, v);
    return n && ir_node_set_attr_ints(b->g, n, attr, cnt, x);
}

/* A constant int64 tensor of rank 0 (cnt < 0, one value) or rank 1. */
static ir_value *const_i64(eg *b, const char *name, int cnt,
                           const int64_t *vals)
{
    int64_t dims[1] = {cnt < 0 ? 1 : cnt};
    ir_tensor *t = ir_tensor_new(IR_DT_I64, cnt < 0 ? 0 : 1, dims);
    if (!t)
        return NULL;
    memcpy(t->data, vals, sizeof(int64_t) * (size_t)dims[0]);
    return ir_graph_add_constant(b->g, ir_graph_unique_name(b->g, name), t);
}

static ir_value *const_f32(eg *b, const char *name, float v)
{
    ir_tensor *t = ir_tensor_new(IR_DT_F32, 0, NULL);
    if (!t)
        return NULL;
    *(float *)t->data = v;
    return ir_graph_add_constant(b->g, ir_graph_unique_name(b->g, name), t);
}

/* Shared scalars, made on first use so no constant is left unread. */
static ir_value *shared_f32(eg *b, ir_value **slot, const char *name, float v)
{
    if (!*slot)
        *slot = const_f32(b, name, v);
    return *slot;
}

static ir_value *weight(eg *b, const char *name)
{
    return ir_graph_find_value(b->g, name);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The packed q|k|v weight [H,3H] (or bias [3H]) of an attention group
 * becomes three constants "group{a}.attn.{q,k,v}.weight" [H,H] (".bias"
 * [H]), the three nn.Linear of a Hugging Face export. */
static bool add_qkv_parts(eg *b, const char *name, const ir_tensor *t)
{
    size_t stem = strlen(name) - strlen("qkv.weight");
    bool is_bias = ends_with(name, ".bias");
    if (is_bias)
        stem = strlen(name) - strlen("qkv.bias");
    int64_t rows = is_bias ? 1 : t->dims[0];
    int64_t cols = (is_bias ? t->dims[0] : t->dims[1]) / 3;
    static const char *const part[3] = {"q", "k", "v"};
    for (int j = 0; j < 3; j++) {
        int64_t dims[2] = {rows, cols};
        ir_tensor *pt = is_bias ? ir_tensor_new(IR_DT_F32, 1, &cols)
                                : ir_tensor_new(IR_DT_F32, 2, dims);
        if (!pt)
            return false;
        const float *src = t->data;
        float *dst = pt->data;
        for (int64_t r = 0; r < rows; r++)
            memcpy(dst + r * cols, src + r * 3 * cols + j * cols,
                   sizeof(float) * (size_t)cols);
        char nm[IR_ENCODER_NAME_MAX + 8];
        snprintf(nm, sizeof nm, "%.*s%s.%s", (int)stem, name, part[j],
                 is_bias ? "bias" : "weight");
        if (!ir_graph_add_constant(b->g, nm, pt))
            return false;
    }
    return true;
}

static ir_value *gweight(eg *b, const char *part, int64_t g, const char *sfx)
{
    char buf[IR_ENCODER_NAME_MAX];
    snprintf(buf, sizeof buf, "group%lld.%s.%s", (long long)g, part, sfx);
    return weight(b, buf);
}

/* x · W + bias, as torch exports nn.Linear on a 3-D input. */
static ir_value *linear(eg *b, const char *name, ir_value *x, ir_value *w,
                        ir_value *bias)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s.matmul", name);
    ir_value *y = op2(b, IR_OP_MATMUL, buf, x, w);
    snprintf(buf, sizeof buf, "%s.add", name);
    return op2(b, IR_OP_ADD, buf, y, bias);
}

static ir_value *layer_norm(eg *b, const char *name, ir_value *x,
                            ir_value *gamma, ir_value *beta)
{
    float eps = b->e->cfg.ln_eps;
    if (b->opset >= 17) {
        ir_value *in[3] = {x, gamma, beta};
        ir_value *y = node(b, IR_OP_LAYER_NORMALIZATION, name, 3, in);
        if (!set_int(b, y, "axis", -1) || !last_node(b, y) ||
            !ir_node_set_attr_float(b->g, last_node(b, y), "epsilon", eps))
            return NULL;
        return y;
    }
    /* LayerNorm as torch.onnx.export writes it below opset 17. */
    char buf[256];
    int64_t axes[1] = {-1};
    snprintf(buf, sizeof buf, "%s.mean", name);
    ir_value *mean = op1(b, IR_OP_REDUCE_MEAN, buf, x);
    if (!set_ints(b, mean, "axes", 1, axes))
        return NULL;
    snprintf(buf, sizeof buf, "%s.sub", name);
    ir_value *dx = op2(b, IR_OP_SUB, buf, x, mean);
    snprintf(buf, sizeof buf, "%s.pow", name);
    ir_value *sq = op2(b, IR_OP_POW, buf, dx,
                       const_f32(b, "ln_two", 2.0f));
    snprintf(buf, sizeof buf, "%s.var", name);
    ir_value *var = op1(b, IR_OP_REDUCE_MEAN, buf, sq);
    if (!set_ints(b, var, "axes", 1, axes))
        return NULL;
    snprintf(buf, sizeof buf, "%s.add_eps", name);
    ir_value *ve = op2(b, IR_OP_ADD, buf, var, const_f32(b, "ln_eps", eps));
    snprintf(buf, sizeof buf, "%s.sqrt", name);
    ir_value *sd = op1(b, IR_OP_SQRT, buf, ve);
    snprintf(buf, sizeof buf, "%s.div", name);
    ir_value *y = op2(b, IR_OP_DIV, buf, dx, sd);
    snprintf(buf, sizeof buf, "%s.mul", name);
    y = op2(b, IR_OP_MUL, buf, y, gamma);
    snprintf(buf, sizeof buf, "%s.add", name);
    return op2(b, IR_OP_ADD, buf, y, beta);
}

static ir_value *activation_of(eg *b, ir_act a, const char *name, ir_value *x)
{
    char buf[256];
    switch (a) {
    case IR_ACT_RELU:
        return op1(b, IR_OP_RELU, name, x);
    case IR_ACT_GELU: {
        snprintf(buf, sizeof buf, "%s.div", name);
        ir_value *t = op2(b, IR_OP_DIV, buf, x,
                          shared_f32(b, &b->sqrt2, "sqrt2", (float)sqrt(2.0)));
        snprintf(buf, sizeof buf, "%s.erf", name);
        t = op1(b, IR_OP_ERF, buf, t);
        snprintf(buf, sizeof buf, "%s.add", name);
        t = op2(b, IR_OP_ADD, buf, t, shared_f32(b, &b->one, "one", 1.0f));
        snprintf(buf, sizeof buf, "%s.mul", name);
        t = op2(b, IR_OP_MUL, buf, x, t);
        snprintf(buf, sizeof buf, "%s.mul_half", name);
        return op2(b, IR_OP_MUL, buf, t, shared_f32(b, &b->half, "half", 0.5f));
    }
    case IR_ACT_GELU_TANH: {
        snprintf(buf, sizeof buf, "%s.sq", name);
        ir_value *x2 = op2(b, IR_OP_MUL, buf, x, x);
        snprintf(buf, sizeof buf, "%s.cube", name);
        ir_value *x3 = op2(b, IR_OP_MUL, buf, x, x2);
        snprintf(buf, sizeof buf, "%s.kappa", name);
        ir_value *t = op2(b, IR_OP_MUL, buf, const_f32(b, "gelu_kappa", 0.044715f), x3);
        snprintf(buf, sizeof buf, "%s.inner_add", name);
        t = op2(b, IR_OP_ADD, buf, x, t);
        snprintf(buf, sizeof buf, "%s.beta", name);
        t = op2(b, IR_OP_MUL, buf,
                const_f32(b, "gelu_beta", (float)sqrt(2.0 / 3.14159265358979323846)), t);
        snprintf(buf, sizeof buf, "%s.tanh", name);
        t = op1(b, IR_OP_TANH, buf, t);
        snprintf(buf, sizeof buf, "%s.add", name);
        t = op2(b, IR_OP_ADD, buf, shared_f32(b, &b->one, "one", 1.0f), t);
        snprintf(buf, sizeof buf, "%s.mul", name);
        t = op2(b, IR_OP_MUL, buf, x, t);
        snprintf(buf, sizeof buf, "%s.mul_half", name);
        return op2(b, IR_OP_MUL, buf, shared_f32(b, &b->half, "half", 0.5f), t);
    }
    default:
        return NULL;
    }
}

/* [B,S,H] -> [B,A,S,D] (perm 0,2,1,3) or, for keys, [B,A,D,S] (0,2,3,1). */
static ir_value *split_heads(eg *b, const char *name, ir_value *x,
                             ir_value *shape, bool keys)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s.reshape", name);
    ir_value *r = op2(b, IR_OP_RESHAPE, buf, x, shape);
    snprintf(buf, sizeof buf, "%s.transpose", name);
    ir_value *t = op1(b, IR_OP_TRANSPOSE, buf, r);
    int64_t perm_q[4] = {0, 2, 1, 3}, perm_k[4] = {0, 2, 3, 1};
    if (!set_ints(b, t, "perm", 4, keys ? perm_k : perm_q))
        return NULL;
    return t;
}

static ir_value *layer(eg *b, int64_t l, ir_value *h, ir_value *mask_add,
                       ir_value *rel_bias, ir_value *heads_shape,
                       ir_value *merge_shape, ir_value *scale)
{
    const ir_encoder_config *c = &b->e->cfg;
    int64_t ga = c->attn_group[l], gf = c->ffn_group[l];
    char p[64], buf[256];
    snprintf(p, sizeof p, "layer%lld", (long long)l);

    /* Three projections, as BertSelfAttention's query / key / value. */
    ir_value *qkv[3];
    static const char *const part[3] = {"q", "k", "v"};
    for (int j = 0; j < 3; j++) {
        char wn[32], bn[32];
        snprintf(wn, sizeof wn, "%s.weight", part[j]);
        snprintf(bn, sizeof bn, "%s.bias", part[j]);
        snprintf(buf, sizeof buf, "%s.attn.%s", p, part[j]);
        ir_value *y = linear(b, buf, h, gweight(b, "attn", ga, wn),
                             gweight(b, "attn", ga, bn));
        qkv[j] = split_heads(b, buf, y, heads_shape, j == 1);
    }
    ir_value *q = qkv[0], *k = qkv[1], *v = qkv[2];

    snprintf(buf, sizeof buf, "%s.attn.scores", p);
    ir_value *s = op2(b, IR_OP_MATMUL, buf, q, k);
    snprintf(buf, sizeof buf, "%s.attn.scale", p);
    s = op2(b, IR_OP_DIV, buf, s, scale);
    if (rel_bias) {
        snprintf(buf, sizeof buf, "%s.attn.position_bias", p);
        s = op2(b, IR_OP_ADD, buf, s, rel_bias);
    }
    snprintf(buf, sizeof buf, "%s.attn.mask", p);
    s = op2(b, IR_OP_ADD, buf, s, mask_add);
    snprintf(buf, sizeof buf, "%s.attn.softmax", p);
    s = op1(b, IR_OP_SOFTMAX, buf, s);
    if (!set_int(b, s, "axis", -1))
        return NULL;
    snprintf(buf, sizeof buf, "%s.attn.context", p);
    ir_value *ctx = op2(b, IR_OP_MATMUL, buf, s, v);
    snprintf(buf, sizeof buf, "%s.attn.merge_transpose", p);
    ctx = op1(b, IR_OP_TRANSPOSE, buf, ctx);
    int64_t perm[4] = {0, 2, 1, 3};
    if (!set_ints(b, ctx, "perm", 4, perm))
        return NULL;
    snprintf(buf, sizeof buf, "%s.attn.merge", p);
    ctx = op2(b, IR_OP_RESHAPE, buf, ctx, merge_shape);

    snprintf(buf, sizeof buf, "%s.attn.out", p);
    ir_value *o = linear(b, buf, ctx, gweight(b, "attn", ga, "out.weight"),
                         gweight(b, "attn", ga, "out.bias"));
    snprintf(buf, sizeof buf, "%s.attn.residual", p);
    o = op2(b, IR_OP_ADD, buf, o, h);
    snprintf(buf, sizeof buf, "%s.attn.ln", p);
    ir_value *a = layer_norm(b, buf, o, gweight(b, "attn", ga, "ln.gamma"),
                             gweight(b, "attn", ga, "ln.beta"));

    snprintf(buf, sizeof buf, "%s.ffn.in", p);
    ir_value *f = linear(b, buf, a, gweight(b, "ffn", gf, "in.weight"),
                         gweight(b, "ffn", gf, "in.bias"));
    snprintf(buf, sizeof buf, "%s.ffn.act", p);
    f = activation_of(b, b->e->cfg.activation, buf, f);
    snprintf(buf, sizeof buf, "%s.ffn.out", p);
    f = linear(b, buf, f, gweight(b, "ffn", gf, "out.weight"),
               gweight(b, "ffn", gf, "out.bias"));
    snprintf(buf, sizeof buf, "%s.ffn.residual", p);
    f = op2(b, IR_OP_ADD, buf, f, a);
    snprintf(buf, sizeof buf, "%s.ffn.ln", p);
    return layer_norm(b, buf, f, gweight(b, "ffn", gf, "ln.gamma"),
                      gweight(b, "ffn", gf, "ln.beta"));
}

/* A [1, P] int64 buffer (0..P-1, or zeros) sliced to [1, S], as the
 * position_ids / token_type_ids buffers of transformers' BertEmbeddings. */
static ir_value *buffer_slice(eg *b, const char *name, bool iota,
                              ir_value *seq1)
{
    int64_t P = b->e->cfg.max_positions, dims[2] = {1, P};
    ir_tensor *t = ir_tensor_new(IR_DT_I64, 2, dims);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < P; i++)
        ((int64_t *)t->data)[i] = iota ? i : 0;
    ir_value *buf = ir_graph_add_constant(b->g, name, t);
    int64_t zero = 0, one = 1;
    char nm[128];
    snprintf(nm, sizeof nm, "%s.slice", name);
    ir_value *in[4] = {buf, const_i64(b, "slice_start", 1, &zero), seq1,
                       const_i64(b, "slice_axis", 1, &one)};
    return node(b, IR_OP_SLICE, nm, 4, in);
}

/* RoBERTa's position ids [B,S]: pad + the running count of non-pad ids
 * for a real token, pad for a pad (transformers'
 * create_position_ids_from_input_ids, as torch.onnx exports it). */
static ir_value *padded_positions(eg *b, ir_value *ids)
{
    int64_t pad = b->e->cfg.pad_id, one = 1;
    ir_value *is_pad = op2(b, IR_OP_EQUAL, "embeddings.pos_is_pad", ids,
                           const_i64(b, "pad_id", -1, &pad));
    ir_value *nonpad = op1(b, IR_OP_CAST, "embeddings.pos_nonpad",
                           op1(b, IR_OP_NOT, "embeddings.pos_not_pad", is_pad));
    if (!set_int(b, nonpad, "to", IR_DT_I64))
        return NULL;
    ir_value *count = op2(b, IR_OP_CUMSUM, "embeddings.pos_cumsum", nonpad,
                          const_i64(b, "cumsum_axis", -1, &one));
    ir_value *kept = op2(b, IR_OP_MUL, "embeddings.pos_keep", count, nonpad);
    return op2(b, IR_OP_ADD, "embeddings.pos_ids", kept,
               const_i64(b, "pad_id", -1, &pad));
}

/* A cast of x to dtype dt. */
static ir_value *cast(eg *b, const char *name, ir_value *x, ir_dtype dt)
{
    ir_value *y = op1(b, IR_OP_CAST, name, x);
    return set_int(b, y, "to", dt) ? y : NULL;
}

/* MPNet's relative position bias [1,A,S,S] for the sequence length seq
 * (an int64 scalar), op for op as torch exports compute_position_bias. */
static ir_value *relative_bias(eg *b, ir_value *seq)
{
    const ir_encoder_config *c = &b->e->cfg;
    bool bidi = c->rel_bidirectional;
    int64_t half = bidi ? c->rel_buckets / 2 : c->rel_buckets;
    int64_t exact = half / 2, zero = 0, one = 1, top = half - 1;
    ir_value *r = node(b, IR_OP_RANGE, "relpos.range", 3,
                       (ir_value *[]){const_i64(b, "relpos_zero", -1, &zero), seq,
                                      const_i64(b, "relpos_one", -1, &one)});
    ir_value *key = op2(b, IR_OP_UNSQUEEZE, "relpos.key", r,
                        const_i64(b, "relpos_axis0", 1, &zero));
    ir_value *query = op2(b, IR_OP_UNSQUEEZE, "relpos.query", r,
                          const_i64(b, "relpos_axis1", 1, &one));
    ir_value *rel = op2(b, IR_OP_SUB, "relpos.relative", key, query);
    ir_value *ret = NULL, *n;
    if (bidi) {
        n = op1(b, IR_OP_NEG, "relpos.n", rel);
        ir_value *after = op2(b, IR_OP_LESS, "relpos.after", n,
                              const_i64(b, "relpos_zero", -1, &zero));
        ret = op2(b, IR_OP_MUL, "relpos.side", cast(b, "relpos.side_cast", after,
                                                    IR_DT_I64),
                  const_i64(b, "relpos_half", -1, &half));
        n = op1(b, IR_OP_ABS, "relpos.distance", n);
    } else {
        n = op1(b, IR_OP_NEG, "relpos.distance",
                op2(b, IR_OP_MIN, "relpos.before", rel,
                    const_i64(b, "relpos_zero", -1, &zero)));
    }
    ir_value *small = op2(b, IR_OP_LESS, "relpos.is_small", n,
                          const_i64(b, "relpos_exact", -1, &exact));
    ir_value *x = op2(b, IR_OP_DIV, "relpos.scaled",
                      cast(b, "relpos.float", n, IR_DT_F32),
                      const_f32(b, "relpos_exact_f", (float)exact));
    x = op1(b, IR_OP_LOG, "relpos.log", x);
    x = op2(b, IR_OP_DIV, "relpos.log_ratio", x,
            const_f32(b, "relpos_log_max",
                      ir_relpos_log_ratio(c->rel_max_distance, exact)));
    x = op2(b, IR_OP_MUL, "relpos.log_buckets", x,
            const_f32(b, "relpos_log_span", (float)(half - exact)));
    x = op2(b, IR_OP_ADD, "relpos.large", cast(b, "relpos.truncate", x, IR_DT_I64),
            const_i64(b, "relpos_exact", -1, &exact));
    x = op2(b, IR_OP_MIN, "relpos.clamp", x, const_i64(b, "relpos_top", -1, &top));
    ir_value *bucket = node(b, IR_OP_WHERE, "relpos.bucket", 3,
                            (ir_value *[]){small, n, x});
    if (ret)
        bucket = op2(b, IR_OP_ADD, "relpos.bucket_side", ret, bucket);
    ir_value *vals = op2(b, IR_OP_GATHER, "relpos.gather",
                         weight(b, "relative_bias"), bucket);
    ir_value *t = op1(b, IR_OP_TRANSPOSE, "relpos.heads_first", vals);
    int64_t perm[3] = {2, 0, 1};
    if (!set_ints(b, t, "perm", 3, perm))
        return NULL;
    return op2(b, IR_OP_UNSQUEEZE, "relpos.bias", t,
               const_i64(b, "relpos_axis0", 1, &zero));
}

static ir_status build(eg *b, const ir_encoder_graph_opts *o, ir_diag *d)
{
    ir_graph *g = b->g;
    const ir_encoder *e = b->e;
    const ir_encoder_config *c = &e->cfg;
    int64_t H = c->hidden, A = c->heads, D = H / A;

    ir_dim bs[2] = {ir_dim_sym(g, "batch"), ir_dim_sym(g, "seq")};
    ir_value *ids = ir_graph_add_input(g, "input_ids", IR_DT_I64, 2, bs);
    ir_value *mask = ir_graph_add_input(g, "attention_mask", IR_DT_I64, 2, bs);
    ir_value *types = o->token_types
        ? ir_graph_add_input(g, "token_type_ids", IR_DT_I64, 2, bs)
        : NULL;
    if (!ids || !mask || (o->token_types && !types))
        return ir_diag_set(d, IR_ERR_NOMEM, "encoder graph: out of memory");

    for (size_t i = 0; i < e->n_weights; i++) {
        const char *name = e->weights[i].name;
        if (ends_with(name, ".attn.qkv.weight") ||
            ends_with(name, ".attn.qkv.bias")) {
            if (!add_qkv_parts(b, name, e->weights[i].t))
                return ir_diag_set(d, IR_ERR_NOMEM, "encoder graph: out of "
                                   "memory splitting '%s'", name);
            continue;
        }
        ir_tensor *t = ir_tensor_clone(e->weights[i].t);
        if (!t || !ir_graph_add_constant(g, name, t))
            return ir_diag_set(d, IR_ERR_NOMEM, "encoder graph: out of memory "
                               "copying weight '%s'", e->weights[i].name);
    }
    int64_t zero = 0, one = 1;
    b->zero_idx = const_i64(b, "index0", -1, &zero);

    /* Embeddings. */
    ir_value *shape = op1(b, IR_OP_SHAPE, "embeddings.shape", ids);
    ir_value *seq1 = op2(b, IR_OP_GATHER, "embeddings.seq_len", shape,
                         const_i64(b, "index1", 1, &one));
    ir_value *x = op2(b, IR_OP_GATHER, "embeddings.word_gather",
                      weight(b, "embeddings.word"), ids);
    bool after_ln = c->embed > 0 &&
                    c->embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN;
    if (c->embed > 0 && !after_ln)
        x = op2(b, IR_OP_MATMUL, "embeddings.proj_matmul", x,
                weight(b, "embeddings.proj"));
    ir_value *tids = types ? types
                           : buffer_slice(b, "embeddings.token_type_ids",
                                          false, seq1);
    ir_value *te = op2(b, IR_OP_GATHER, "embeddings.type_gather",
                       weight(b, "embeddings.type"), tids);
    x = op2(b, IR_OP_ADD, "embeddings.add_type", x, te);
    ir_value *pids = c->positions == IR_ENC_POS_PADDED
        ? padded_positions(b, ids)
        : buffer_slice(b, "embeddings.position_ids", true, seq1);
    ir_value *pe = op2(b, IR_OP_GATHER, "embeddings.position_gather",
                       weight(b, "embeddings.position"), pids);
    x = op2(b, IR_OP_ADD, "embeddings.add_position", x, pe);
    ir_value *h = layer_norm(b, "embeddings.ln", x,
                             weight(b, "embeddings.ln.gamma"),
                             weight(b, "embeddings.ln.beta"));
    /* ELECTRA-small / ALBERT: the sum was E wide; now to H. */
    if (after_ln)
        h = linear(b, "embeddings.proj", h, weight(b, "embeddings.proj"),
                   weight(b, "embeddings.proj_bias"));

    /* Additive mask [B,1,1,S]. */
    int64_t ax12[2] = {1, 2};
    ir_value *m = op2(b, IR_OP_UNSQUEEZE, "mask.unsqueeze", mask,
                      const_i64(b, "mask_axes", 2, ax12));
    m = op1(b, IR_OP_CAST, "mask.cast", m);
    if (!set_int(b, m, "to", IR_DT_F32))
        return ir_diag_set(d, IR_ERR_NOMEM, "encoder graph: out of memory");
    m = op2(b, IR_OP_SUB, "mask.invert",
            shared_f32(b, &b->one, "one", 1.0f), m);
    float filler = o->mask == IR_ENC_MASK_10000 ? -10000.0f : -FLT_MAX;
    m = op2(b, IR_OP_MUL, "mask.additive", m, const_f32(b, "mask_filler", filler));

    /* Layers. */
    int64_t hs[4] = {0, 0, A, D}, ms[3] = {0, 0, H};
    ir_value *heads_shape = const_i64(b, "heads_shape", 4, hs);
    ir_value *merge_shape = const_i64(b, "merge_shape", 3, ms);
    ir_value *scale = const_f32(b, "attn_scale", (float)sqrt((double)D));
    ir_value *rel = NULL;
    if (c->rel_buckets > 0) {
        ir_value *seq = op2(b, IR_OP_GATHER, "relpos.seq_len", shape,
                            const_i64(b, "index1_scalar", -1, &one));
        if (!(rel = relative_bias(b, seq)))
            return ir_diag_set(d, IR_ERR_NOMEM, "encoder graph: out of memory");
    }
    for (int64_t l = 0; l < c->layers; l++)
        h = layer(b, l, h, m, rel, heads_shape, merge_shape, scale);

    /* Pooler on the first token, then the head. */
    ir_value *first = op2(b, IR_OP_GATHER, "pooler.first_token", h, b->zero_idx);
    if (!set_int(b, first, "axis", 1))
        return ir_diag_set(d, IR_ERR_NOMEM, "encoder graph: out of memory");
    ir_value *pooled = linear(b, "pooler", first, weight(b, "pooler.weight"),
                              weight(b, "pooler.bias"));
    pooled = ir_encoder_pool_act(c) == IR_ACT_TANH
                 ? op1(b, IR_OP_TANH, "pooler.tanh", pooled)
                 : activation_of(b, ir_encoder_pool_act(c), "pooler.act", pooled);
    ir_value *logits = op2(b, IR_OP_MATMUL, "head.matmul", pooled,
                           weight(b, "head.weight"));
    logits = op2(b, IR_OP_ADD, "logits", logits, weight(b, "head.bias"));
    if (!logits || !ir_graph_mark_output(g, logits))
        return ir_diag_set(d, IR_ERR_NOMEM, "encoder graph: out of memory");
    logits->dtype = IR_DT_F32;
    logits->rank = 2;
    logits->dims[0] = bs[0];
    logits->dims[1] = ir_dim_const(c->labels);
    return IR_OK;
}

ir_status ir_encoder_to_graph(const ir_encoder *e,
                              const ir_encoder_graph_opts *o, ir_graph **out,
                              ir_diag *d)
{
    *out = NULL;
    ir_encoder_graph_opts def;
    if (!o) {
        ir_encoder_graph_opts_default(&def);
        o = &def;
    }
    if (o->opset < 13 || o->opset > 17)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "encoder graph: opset %lld is not supported; use "
                           "13..17 (17 writes LayerNormalization, below it "
                           "LayerNorm is decomposed)", (long long)o->opset);
    ir_status s = ir_encoder_check(e, d);
    if (s != IR_OK)
        return s;
    ir_graph *g = ir_graph_new("encoder");
    if (!g)
        return ir_diag_set(d, IR_ERR_NOMEM, "encoder graph: out of memory");
    g->opset = o->opset;
    g->producer_name = ir_graph_strdup(g, "distilc");
    eg b = {g, e, o->opset, NULL, NULL, NULL, NULL};
    s = build(&b, o, d);
    if (s == IR_OK) {
        char buf[64];
        snprintf(buf, sizeof buf, "%lld", (long long)e->cfg.layers);
        if (!ir_graph_set_meta(g, "distilc.encoder.layers", buf) ||
            !ir_graph_set_meta(g, "distilc.encoder.activation",
                               ir_act_name(e->cfg.activation)) ||
            !ir_graph_set_meta(g, "distilc.encoder.head",
                               ir_enc_head_name(e->cfg.head)) ||
            (e->labels_meta &&
             !ir_graph_set_meta(g, IR_ENCODER_LABELS_META, e->labels_meta)))
            s = ir_diag_set(d, IR_ERR_NOMEM, "encoder graph: out of memory");
    }
    if (s == IR_OK)
        s = ir_graph_verify(g, d);
    if (s != IR_OK) {
        ir_graph_free(g);
        return s;
    }
    *out = g;
    return IR_OK;
}

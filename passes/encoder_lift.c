/* encoder_lift.c — recognising a BERT-like encoder in a fused graph (after
 * "default,fuse", see passes/fuse.h) and returning it as an ir_encoder.
 *
 * The shape looked for, walking forward from the first Attention's input:
 *   embeddings   EmbedLayerNorm(ids, word, pos, gamma, beta, types?, type?,
 *                pids?), or (AddLayer|Layer)Norm over a sum of Gathers —
 *                word (optionally · proj, factorized), type, position
 *   layer l      a  = Attention(h, Wqkv, bqkv, attention_mask[, P])
 *                (P: MPNet's relative position bias, the same in every
 *                layer, encoder_lift_relpos.c)
 *                h1 = AddLayerNorm(Linear(a, Wo, bo), h)
 *                h  = AddLayerNorm(Linear(Linear(h1, Wi, bi, act), Wo2, bo2), h1)
 *   pooler, head Linear(Linear(Gather(h, 0, axis 1), Wp, bp, act), Wh, bh)
 *                act tanh (BERT's pooler, RoBERTa's head dense), relu
 *                (DistilBERT's pre_classifier) or gelu (ELECTRA's head)
 * Index tensors for positions and absent token types are the buffers a
 * Hugging Face export slices ([1,P] int64: 0..P-1, or zeros); positions may
 * also be RoBERTa's, computed from input_ids (encoder_lift_positions.c).
 *
 * Sharing: layers whose attention (or FFN) weights are equal, value for
 * value (the same constant, or copies of it as the fusion makes), form one
 * group; groups are numbered in order of first use, as the encoder wants.
 * A graph that does not fit says which layer and which node broke it.
 */
#include "passes/encoder_lift.h"
#include "ir/input_role.h"
#include "passes/encoder_lift_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ATT_W, ATT_B, ATT_OW, ATT_OB, ATT_G, ATT_BETA, ATT_N };
enum { FFN_IW, FFN_IB, FFN_OW, FFN_OB, FFN_G, FFN_BETA, FFN_N };

typedef struct lift_layer {
    const ir_tensor *att[ATT_N];
    const ir_tensor *ffn[FFN_N];
} lift_layer;

typedef struct lift {
    const ir_graph *g;
    ir_diag *d;
    ir_tensor **owned;      /* zero biases and summed biases we made */
    size_t n_owned, cap_owned;
    lift_layer layers[IR_ENCODER_MAX_LAYERS];
    int64_t n_layers;
    const ir_tensor *word, *proj, *proj_b, *pos, *type, *emb_g, *emb_b;
    const ir_tensor *pool_w, *pool_b, *head_w, *head_b;
    const ir_value *rel_value;  /* layer 0's position bias, or NULL */
    lift_relpos rel;
    const ir_tensor *rel_table; /* [buckets, heads] */
    ir_encoder_config cfg;
    ir_lift_refusal *why;   /* where a refusal stopped (may be NULL) */
} lift;

static const char *node_desc(const ir_node *n, char *buf, size_t len)
{
    if (!n)
        snprintf(buf, len, "(a graph input or constant)");
    else
        snprintf(buf, len, "node '%s' (%s)", n->name, ir_op_name(n->op));
    return buf;
}

/* Keeps the refusal as data for ir_encoder_lift_why. */
static void refusal_note(lift *L, int64_t layer, const ir_node *n,
                         const char *expected)
{
    if (!L->why)
        return;
    L->why->layer = layer;
    snprintf(L->why->node, sizeof L->why->node, "%s",
             n && n->name ? n->name : "");
    L->why->op = n ? ir_op_name(n->op) : NULL;
    snprintf(L->why->expected, sizeof L->why->expected, "%s", expected);
}

static ir_status broke(lift *L, int64_t layer, const ir_node *n,
                       const char *expected)
{
    char buf[300];
    refusal_note(L, layer, n, expected);
    if (layer < 0)
        return ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                           "encoder lift: %s: expected %s", node_desc(n, buf,
                           sizeof buf), expected);
    return ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                       "encoder lift: layer %lld: %s: expected %s",
                       (long long)layer, node_desc(n, buf, sizeof buf),
                       expected);
}

static bool own(lift *L, ir_tensor *t)
{
    if (!t)
        return false;
    if (L->n_owned == L->cap_owned) {
        size_t cap = L->cap_owned ? 2 * L->cap_owned : 16;
        ir_tensor **p = realloc(L->owned, cap * sizeof *p);
        if (!p) {
            ir_tensor_free(t);
            return false;
        }
        L->owned = p;
        L->cap_owned = cap;
    }
    L->owned[L->n_owned++] = t;
    return true;
}

/* The nodes reading v (at most max of them); returns how many there are. */
static int users(const ir_graph *g, const ir_value *v, ir_node **out, int max)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        ir_node *nd = g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] == v) {
                if (n < max)
                    out[n] = nd;
                n++;
                break;
            }
    }
    return n;
}

/* The one user of v with op `op` (and, if slot >= 0, reading v there). */
static ir_node *user_op(const ir_graph *g, const ir_value *v, ir_op op)
{
    ir_node *u[8];
    int n = users(g, v, u, 8);
    ir_node *found = NULL;
    for (int i = 0; i < n && i < 8; i++)
        if (u[i]->op == op) {
            if (found)
                return NULL;
            found = u[i];
        }
    return found;
}

static const ir_tensor *const_f32(const ir_value *v)
{
    return v && v->constant && v->constant->dtype == IR_DT_F32 ? v->constant
                                                               : NULL;
}

static bool is_act(const ir_node *n, const char *act)
{
    return n && n->op == IR_OP_LINEAR &&
           strcmp(ir_node_attr_string(n, "activation", "none"), act) == 0;
}

/* A Linear's weight [K,N] and bias [N] (zeros when absent). */
static ir_status linear_weights(lift *L, int64_t layer, const ir_node *n,
                                const ir_tensor **w, const ir_tensor **b)
{
    *w = const_f32(n->inputs[1]);
    if (!*w || (*w)->rank != 2)
        return broke(L, layer, n, "a constant f32 [in,out] weight");
    *b = n->n_inputs > 2 && n->inputs[2] ? const_f32(n->inputs[2]) : NULL;
    if (n->n_inputs > 2 && n->inputs[2] && !*b)
        return broke(L, layer, n, "a constant f32 bias");
    if (!*b) {
        int64_t dim = (*w)->dims[1];
        ir_tensor *z = ir_tensor_new(IR_DT_F32, 1, &dim);
        if (!own(L, z))
            return ir_diag_set(L->d, IR_ERR_NOMEM, "encoder lift: out of memory");
        *b = z;
    }
    return IR_OK;
}

/* AddLayerNorm(x, residual, gamma, beta?, bias?): the normalisation's
 * weights; a bias input is added into *lin_bias (the Linear before it). */
static ir_status add_ln_weights(lift *L, int64_t layer, const ir_node *n,
                                const ir_tensor **gamma, const ir_tensor **beta,
                                const ir_tensor **lin_bias, float *eps)
{
    *gamma = const_f32(n->inputs[2]);
    if (!*gamma || (*gamma)->rank != 1)
        return broke(L, layer, n, "a constant f32 gamma");
    *eps = ir_node_attr_float(n, "epsilon", 1e-5f);
    int64_t dim = (*gamma)->dims[0];
    *beta = n->n_inputs > 3 && n->inputs[3] ? const_f32(n->inputs[3]) : NULL;
    if (!*beta) {
        ir_tensor *z = ir_tensor_new(IR_DT_F32, 1, &dim);
        if (!own(L, z))
            return ir_diag_set(L->d, IR_ERR_NOMEM, "encoder lift: out of memory");
        *beta = z;
    }
    const ir_tensor *extra = n->n_inputs > 4 && n->inputs[4] ? const_f32(n->inputs[4]) : NULL;
    if (extra && lin_bias) {
        if (ir_tensor_numel(extra) != dim)
            return broke(L, layer, n, "a bias of the hidden size");
        ir_tensor *sum = ir_tensor_clone(*lin_bias);
        if (!own(L, sum))
            return ir_diag_set(L->d, IR_ERR_NOMEM, "encoder lift: out of memory");
        for (int64_t i = 0; i < dim; i++)
            ((float *)sum->data)[i] += ((const float *)extra->data)[i];
        *lin_bias = sum;
    }
    return IR_OK;
}

static bool reads(const ir_node *n, int slot, const ir_value *v)
{
    return n && slot < n->n_inputs && n->inputs[slot] == v;
}

/* AddLayerNorm reading (a, b) in either order as (x, residual). */
static bool add_ln_of(const ir_node *n, const ir_value *a, const ir_value *b)
{
    return n && n->op == IR_OP_ADD_LAYER_NORM &&
           ((reads(n, 0, a) && reads(n, 1, b)) ||
            (reads(n, 0, b) && reads(n, 1, a)));
}

static ir_status check_eps(lift *L, int64_t layer, const ir_node *n, float eps)
{
    if (eps != L->cfg.ln_eps)
        return broke(L, layer, n, "the same LayerNorm epsilon as the "
                     "embeddings' (an encoder has one)");
    return IR_OK;
}

/* The Attention's input 4, MPNet's relative position bias: layer 0's
 * sets the config, every other layer must read the same bias. */
static ir_status layer_relpos(lift *L, int64_t l, const ir_node *att,
                              int64_t heads)
{
    const ir_value *pb = att->n_inputs > 4 ? att->inputs[4] : NULL;
    if (l > 0 && pb == L->rel_value)
        return IR_OK;
    if (l > 0 && (!pb || !L->rel_value))
        return broke(L, l, att, pb ? "no position bias, as layer 0" :
                     "layer 0's relative position bias (one for all layers)");
    if (!pb)
        return IR_OK;
    lift_relpos r;
    if (!lift_relative_bias(pb, heads, &r))
        return broke(L, l, r.at, r.expected);
    if (l == 0) {
        L->rel_value = pb;
        L->rel = r;
        return IR_OK;
    }
    int64_t n = r.buckets * heads;
    if (r.buckets != L->rel.buckets || r.max_distance != L->rel.max_distance ||
        r.bidirectional != L->rel.bidirectional ||
        memcmp(r.table->data, L->rel.table->data, (size_t)n * sizeof(float)))
        return broke(L, l, att, "layer 0's relative position bias (one table "
                     "and bucketing for all layers)");
    return IR_OK;
}

static ir_status lift_layer_at(lift *L, int64_t l, const ir_value *h,
                               const ir_value **next)
{
    const ir_graph *g = L->g;
    lift_layer *ly = &L->layers[l];
    ir_node *att = user_op(g, h, IR_OP_ATTENTION);
    if (!att || att->inputs[0] != h)
        return broke(L, l, h->producer, "its output to feed one Attention");
    ly->att[ATT_W] = const_f32(att->inputs[1]);
    ly->att[ATT_B] = att->n_inputs > 2 && att->inputs[2] ? const_f32(att->inputs[2]) : NULL;
    if (!ly->att[ATT_W] || !ly->att[ATT_B] || ly->att[ATT_W]->rank != 2)
        return broke(L, l, att, "constant packed q|k|v weight and bias");
    int64_t H = ly->att[ATT_W]->dims[0];
    if (ly->att[ATT_W]->dims[1] != 3 * H)
        return broke(L, l, att, "a [H,3H] q|k|v weight (self-attention "
                     "keeping the hidden size)");
    int64_t heads = ir_node_attr_int(att, "heads", 0);
    const char *mk = ir_node_attr_string(att, "mask_kind", "none");
    const ir_value *mv = att->n_inputs > 3 ? att->inputs[3] : NULL;
    if (strcmp(mk, "key_padding") != 0 || !mv || !mv->is_input)
        return broke(L, l, att, "a key-padding mask read from the "
                     "attention_mask input");
    if (heads <= 0 || H % heads != 0)
        return broke(L, l, att, "a 'heads' attribute dividing the hidden size");
    double want = 1.0 / sqrt((double)(H / heads));
    double scale = ir_node_attr_float(att, "scale", 1.0f);
    if (fabs(scale - want) > 1e-6 * want)
        return broke(L, l, att, "scale 1/sqrt(head size)");
    if (l == 0) {
        L->cfg.hidden = H;
        L->cfg.heads = heads;
    } else if (H != L->cfg.hidden || heads != L->cfg.heads) {
        return broke(L, l, att, "the hidden size and head count of layer 0");
    }
    ir_status s = layer_relpos(L, l, att, heads);
    if (s != IR_OK)
        return s;

    ir_node *out = user_op(g, att->outputs[0], IR_OP_LINEAR);
    if (!is_act(out, "none") || out->inputs[0] != att->outputs[0])
        return broke(L, l, att, "its output to feed the attention output Linear");
    s = linear_weights(L, l, out, &ly->att[ATT_OW], &ly->att[ATT_OB]);
    if (s != IR_OK)
        return s;
    ir_node *aln = user_op(g, out->outputs[0], IR_OP_ADD_LAYER_NORM);
    if (!add_ln_of(aln, out->outputs[0], h))
        return broke(L, l, out, "AddLayerNorm(output, layer input) after it");
    float eps;
    if ((s = add_ln_weights(L, l, aln, &ly->att[ATT_G], &ly->att[ATT_BETA],
                            &ly->att[ATT_OB], &eps)) != IR_OK ||
        (s = check_eps(L, l, aln, eps)) != IR_OK)
        return s;

    const ir_value *a = aln->outputs[0];
    ir_node *fin = user_op(g, a, IR_OP_LINEAR);
    if (!fin || fin->inputs[0] != a)
        return broke(L, l, aln, "its output to feed the FFN input Linear");
    ir_act act;
    if (!ir_act_parse(ir_node_attr_string(fin, "activation", "none"), &act) ||
        !ir_act_is_ffn(act))
        return broke(L, l, fin, "activation gelu, gelu_tanh or relu");
    if (l == 0)
        L->cfg.activation = act;
    else if (act != L->cfg.activation)
        return broke(L, l, fin, "the activation of layer 0");
    if ((s = linear_weights(L, l, fin, &ly->ffn[FFN_IW], &ly->ffn[FFN_IB])) != IR_OK)
        return s;
    ir_node *fout = user_op(g, fin->outputs[0], IR_OP_LINEAR);
    if (!is_act(fout, "none") || fout->inputs[0] != fin->outputs[0])
        return broke(L, l, fin, "its output to feed the FFN output Linear");
    if ((s = linear_weights(L, l, fout, &ly->ffn[FFN_OW], &ly->ffn[FFN_OB])) != IR_OK)
        return s;
    ir_node *fln = user_op(g, fout->outputs[0], IR_OP_ADD_LAYER_NORM);
    if (!add_ln_of(fln, fout->outputs[0], a))
        return broke(L, l, fout, "AddLayerNorm(FFN output, attention block "
                     "output) after it");
    if ((s = add_ln_weights(L, l, fln, &ly->ffn[FFN_G], &ly->ffn[FFN_BETA],
                            &ly->ffn[FFN_OB], &eps)) != IR_OK ||
        (s = check_eps(L, l, fln, eps)) != IR_OK)
        return s;
    int64_t F = ly->ffn[FFN_IW]->dims[1];
    if (ly->ffn[FFN_IW]->dims[0] != H || ly->ffn[FFN_OW]->dims[0] != F ||
        ly->ffn[FFN_OW]->dims[1] != H || ly->att[ATT_OW]->dims[0] != H ||
        ly->att[ATT_OW]->dims[1] != H)
        return broke(L, l, fin, "FFN and output weights [H,F], [F,H], [H,H]");
    if (l == 0)
        L->cfg.ffn = F;
    else if (F != L->cfg.ffn)
        return broke(L, l, fin, "the FFN size of layer 0");
    *next = fln->outputs[0];
    return IR_OK;
}

/* ---- embeddings ---------------------------------------------------------- */

/* The constant int64 buffer an index value was sliced (and expanded, as
 * transformers does with its buffered token_type_ids) from, or NULL. */
static const ir_tensor *index_buffer(const ir_value *v)
{
    for (int depth = 0; v && depth < 4; depth++) {
        if (v->constant)
            return v->constant;
        const ir_node *p = v->producer;
        if (!p || !(p->op == IR_OP_SLICE || p->op == IR_OP_SLICE_LIKE ||
                    p->op == IR_OP_EXPAND || p->op == IR_OP_EXPAND_LIKE))
            return NULL;
        v = p->inputs[0];
    }
    return NULL;
}

static bool buffer_is_zeros(const ir_tensor *t)
{
    int64_t n = ir_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        if (ir_tensor_get_i64(t, i) != 0)
            return false;
    return true;
}

static bool buffer_is_iota(const ir_tensor *t)
{
    int64_t n = ir_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        if (ir_tensor_get_i64(t, i) != i)
            return false;
    return true;
}

/* One summed term of the embeddings: Gather(table, index) or, for the
 * factorized word embedding, Linear/MatMul(Gather(word, ids), proj). */
static ir_status emb_term(lift *L, const ir_value *v)
{
    const ir_node *n = v->producer;
    if (n && (n->op == IR_OP_LINEAR || n->op == IR_OP_MATMUL) &&
        (n->op == IR_OP_MATMUL || (is_act(n, "none") &&
                                   (n->n_inputs < 3 || !n->inputs[2])))) {
        L->proj = const_f32(n->inputs[1]);
        if (!L->proj)
            return broke(L, -1, n, "a constant embedding projection [E,H]");
        v = n->inputs[0];
        n = v->producer;
        if (!n || n->op != IR_OP_GATHER || !n->inputs[1]->is_input)
            return broke(L, -1, n, "Gather(word table, input_ids) before the "
                         "projection");
    }
    if (!n || n->op != IR_OP_GATHER || ir_node_attr_int(n, "axis", 0) != 0)
        return broke(L, -1, n, "an embedding Gather (word, position or "
                     "token type)");
    const ir_tensor *table = const_f32(n->inputs[0]);
    const ir_value *idx = n->inputs[1];
    if (!table || table->rank != 2)
        return broke(L, -1, n, "a constant f32 embedding table");
    const ir_tensor *buf = idx->is_input ? NULL : index_buffer(idx);
    int64_t pad;
    if (!idx->is_input && lift_padded_positions(idx, &pad)) {
        L->pos = table;
        L->cfg.positions = IR_ENC_POS_PADDED;
        L->cfg.pad_id = pad;
    } else if (idx->is_input && ir_input_role_of(idx->name) == IR_INPUT_TYPES)
        L->type = table;
    else if (idx->is_input)
        L->word = table;
    else if (buf && buffer_is_iota(buf))
        L->pos = table;
    else if (buf && buffer_is_zeros(buf))
        L->type = table;
    else
        return broke(L, -1, n, "indices from input_ids, token_type_ids, or a "
                     "position / zero buffer");
    return IR_OK;
}

/* Collects the terms of an Add tree into emb_term. */
static ir_status emb_sum(lift *L, const ir_value *v, int depth)
{
    const ir_node *n = v->producer;
    if (n && n->op == IR_OP_ADD && depth < 4) {
        ir_status s = emb_sum(L, n->inputs[0], depth + 1);
        return s != IR_OK ? s : emb_sum(L, n->inputs[1], depth + 1);
    }
    return emb_term(L, v);
}

static ir_status lift_embeddings(lift *L, const ir_node *n)
{
    ir_status s;
    /* ELECTRA-small and ALBERT: the sum and its LayerNorm are E wide and a
     * Linear with bias maps them to H just before the first layer. */
    const ir_node *ln = n && n->n_inputs > 0 ? n->inputs[0]->producer : NULL;
    if (is_act(n, "none") && ln &&
        (ln->op == IR_OP_EMBED_LAYER_NORM || ln->op == IR_OP_LAYER_NORM ||
         ln->op == IR_OP_ADD_LAYER_NORM)) {
        /* refused before recursing: a chain of projections would recurse
         * once per link */
        if (L->proj)
            return broke(L, -1, n, "one embedding projection (E -> H after "
                         "the LayerNorm), not a second one before it");
        if ((s = linear_weights(L, -1, n, &L->proj, &L->proj_b)) != IR_OK)
            return s;
        L->cfg.embed_kind = IR_ENC_EMBED_PROJECT_AFTER_LN;
        const ir_tensor *proj = L->proj;
        n = n->inputs[0]->producer;
        if ((s = lift_embeddings(L, n)) != IR_OK)
            return s;
        if (L->proj != proj)
            return broke(L, -1, n, "one embedding projection (E -> H after "
                         "the LayerNorm), not a second one before it");
        if (L->word->dims[1] != proj->dims[0] || L->pos->dims[1] != proj->dims[0])
            return broke(L, -1, n, "word and position tables as wide as the "
                         "projection's input (E)");
        return IR_OK;
    }
    if (!n)
        return broke(L, -1, n, "the embeddings' LayerNorm before the first "
                     "Attention");
    if (n->op == IR_OP_EMBED_LAYER_NORM) {
        L->word = const_f32(n->inputs[1]);
        L->pos = const_f32(n->inputs[2]);
        L->emb_g = const_f32(n->inputs[3]);
        L->emb_b = const_f32(n->inputs[4]);
        L->type = n->n_inputs > 6 && n->inputs[6] ? const_f32(n->inputs[6]) : NULL;
        const ir_value *pids = n->n_inputs > 7 ? n->inputs[7] : NULL;
        const ir_tensor *pb = pids ? index_buffer(pids) : NULL;
        int64_t pad;
        if (pids && !(pb && buffer_is_iota(pb))) {
            if (!lift_padded_positions(pids, &pad))
                return broke(L, -1, n, "position ids 0..S-1, or RoBERTa's "
                             "counted over input_ids != pad from pad + 1");
            L->cfg.positions = IR_ENC_POS_PADDED;
            L->cfg.pad_id = pad;
        }
        const ir_value *tids = n->n_inputs > 5 ? n->inputs[5] : NULL;
        const ir_tensor *tb = tids && !tids->is_input ? index_buffer(tids) : NULL;
        if (tids && !tids->is_input && !(tb && buffer_is_zeros(tb)))
            return broke(L, -1, n, "token types from token_type_ids or zeros");
        L->cfg.ln_eps = ir_node_attr_float(n, "epsilon", 1e-5f);
    } else if (n->op == IR_OP_LAYER_NORM || n->op == IR_OP_ADD_LAYER_NORM) {
        if ((s = emb_sum(L, n->inputs[0], 0)) != IR_OK)
            return s;
        if (n->op == IR_OP_ADD_LAYER_NORM &&
            (s = emb_sum(L, n->inputs[1], 0)) != IR_OK)
            return s;
        int beta_slot = n->op == IR_OP_LAYER_NORM ? 2 : 3;
        if (n->op == IR_OP_ADD_LAYER_NORM && n->n_inputs > 4 && n->inputs[4])
            return broke(L, -1, n, "no bias in the embeddings' sum");
        L->emb_g = const_f32(n->inputs[n->op == IR_OP_LAYER_NORM ? 1 : 2]);
        L->emb_b = n->n_inputs > beta_slot && n->inputs[beta_slot]
                       ? const_f32(n->inputs[beta_slot]) : NULL;
        L->cfg.ln_eps = ir_node_attr_float(n, "epsilon", 1e-5f);
    } else {
        return broke(L, -1, n, "EmbedLayerNorm or a LayerNorm over the "
                     "embeddings' sum");
    }
    if (!L->word || !L->pos || !L->emb_g || !L->emb_b)
        return broke(L, -1, n, "constant word and position tables, gamma "
                     "and beta");
    return IR_OK;
}

/* ---- pooler and head ------------------------------------------------------ */

static ir_status lift_head(lift *L, const ir_value *h)
{
    const ir_graph *g = L->g;
    ir_node *first = user_op(g, h, IR_OP_GATHER);
    const ir_tensor *ix = first ? first->inputs[1]->constant : NULL;
    if (!first || first->inputs[0] != h ||
        ir_node_attr_int(first, "axis", 0) != 1 || !ix ||
        ir_tensor_numel(ix) != 1 || ix->rank != 0 ||
        ir_tensor_get_i64(ix, 0) != 0)
        return broke(L, L->n_layers - 1, h->producer,
                     "Gather(h, 0, axis 1) (the first token) for the pooler "
                     "or another layer's Attention");
    ir_node *pool = user_op(g, first->outputs[0], IR_OP_LINEAR);
    ir_act pa = IR_ACT_NONE;
    if (!pool || !ir_act_parse(ir_node_attr_string(pool, "activation", "none"), &pa) ||
        !(pa == IR_ACT_TANH || pa == IR_ACT_RELU || pa == IR_ACT_GELU))
        return broke(L, -1, first, "the pooler Linear with tanh after it (or "
                     "the classifier's dense with tanh, relu or gelu)");
    L->cfg.pool_act = pa == IR_ACT_TANH ? IR_ACT_NONE : pa;
    ir_status s = linear_weights(L, -1, pool, &L->pool_w, &L->pool_b);
    if (s != IR_OK)
        return s;
    ir_node *head = user_op(g, pool->outputs[0], IR_OP_LINEAR);
    if (!is_act(head, "none") || !head->outputs[0]->is_output)
        return broke(L, -1, pool, "the head Linear giving the graph's output");
    return linear_weights(L, -1, head, &L->head_w, &L->head_b);
}

/* ---- sharing and the result ---------------------------------------------- */

static bool same_tensors(const ir_tensor *const *a, const ir_tensor *const *b,
                         int n)
{
    for (int i = 0; i < n; i++) {
        if (a[i] == b[i])
            continue;
        if (!ir_tensor_same_shape(a[i], b[i]) || a[i]->nbytes != b[i]->nbytes ||
            memcmp(a[i]->data, b[i]->data, a[i]->nbytes) != 0)
            return false;
    }
    return true;
}

static void assign_groups(lift *L)
{
    ir_encoder_config *c = &L->cfg;
    c->n_attn_groups = c->n_ffn_groups = 0;
    int64_t first_a[IR_ENCODER_MAX_LAYERS], first_f[IR_ENCODER_MAX_LAYERS];
    for (int64_t l = 0; l < L->n_layers; l++) {
        int64_t ga = -1, gf = -1;
        for (int64_t k = 0; k < c->n_attn_groups && ga < 0; k++)
            if (same_tensors(L->layers[first_a[k]].att, L->layers[l].att, ATT_N))
                ga = k;
        for (int64_t k = 0; k < c->n_ffn_groups && gf < 0; k++)
            if (same_tensors(L->layers[first_f[k]].ffn, L->layers[l].ffn, FFN_N))
                gf = k;
        if (ga < 0) {
            ga = c->n_attn_groups++;
            first_a[ga] = l;
        }
        if (gf < 0) {
            gf = c->n_ffn_groups++;
            first_f[gf] = l;
        }
        c->attn_group[l] = ga;
        c->ffn_group[l] = gf;
    }
}

static const ir_tensor *weight_source(const lift *L, const char *name)
{
    if (strcmp(name, "embeddings.word") == 0) return L->word;
    if (strcmp(name, "embeddings.proj") == 0) return L->proj;
    if (strcmp(name, "embeddings.proj_bias") == 0) return L->proj_b;
    if (strcmp(name, "embeddings.position") == 0) return L->pos;
    if (strcmp(name, "embeddings.type") == 0) return L->type;
    if (strcmp(name, "embeddings.ln.gamma") == 0) return L->emb_g;
    if (strcmp(name, "embeddings.ln.beta") == 0) return L->emb_b;
    if (strcmp(name, "relative_bias") == 0) return L->rel_table;
    if (strcmp(name, "pooler.weight") == 0) return L->pool_w;
    if (strcmp(name, "pooler.bias") == 0) return L->pool_b;
    if (strcmp(name, "head.weight") == 0) return L->head_w;
    if (strcmp(name, "head.bias") == 0) return L->head_b;
    long long g;
    char part[8], rest[32];
    if (sscanf(name, "group%lld.%7[a-z].%31s", &g, part, rest) != 3)
        return NULL;
    static const char *const att_names[ATT_N] = {
        "qkv.weight", "qkv.bias", "out.weight", "out.bias", "ln.gamma", "ln.beta"};
    static const char *const ffn_names[FFN_N] = {
        "in.weight", "in.bias", "out.weight", "out.bias", "ln.gamma", "ln.beta"};
    bool is_att = strcmp(part, "attn") == 0;
    const int64_t *map = is_att ? L->cfg.attn_group : L->cfg.ffn_group;
    for (int64_t l = 0; l < L->n_layers; l++) {
        if (map[l] != g)
            continue;
        for (int i = 0; i < 6; i++)
            if (strcmp(rest, is_att ? att_names[i] : ffn_names[i]) == 0)
                return is_att ? L->layers[l].att[i] : L->layers[l].ffn[i];
        return NULL;
    }
    return NULL;
}

static ir_status lift_run(lift *L, ir_encoder **out)
{
    const ir_graph *g = L->g;
    const ir_node *att0 = NULL;
    for (int i = 0; i < g->n_nodes && !att0; i++)
        if (g->nodes[i]->op == IR_OP_ATTENTION)
            att0 = g->nodes[i];
    if (!att0) {
        refusal_note(L, -1, NULL, "an Attention node: fuse-attention fuses "
                     "each self-attention block into one, and fused none");
        return ir_diag_set(L->d, IR_ERR_UNSUPPORTED,
                           "encoder lift: graph '%s' has no Attention node; "
                           "run the passes \"default,fuse\" first, and check "
                           "the fuse-attention report for why a block was "
                           "declined", g->name ? g->name : "?");
    }
    ir_status s = lift_embeddings(L, att0->inputs[0]->producer);
    if (s != IR_OK)
        return s;
    const ir_value *h = att0->inputs[0];
    while (user_op(g, h, IR_OP_ATTENTION)) {
        if (L->n_layers == IR_ENCODER_MAX_LAYERS)
            return broke(L, L->n_layers, h->producer, "at most 64 layers");
        const ir_value *next = NULL;
        if ((s = lift_layer_at(L, L->n_layers, h, &next)) != IR_OK)
            return s;
        L->n_layers++;
        h = next;
    }
    if ((s = lift_head(L, h)) != IR_OK)
        return s;

    ir_encoder_config *c = &L->cfg;
    int64_t H = c->hidden;
    c->layers = L->n_layers;
    c->vocab = L->word->dims[0];
    c->embed = L->proj ? L->word->dims[1] : 0;
    c->max_positions = L->pos->dims[0];
    c->labels = L->head_w->dims[1];
    if (!L->type) {
        /* No token types at all: one zero row adds nothing. */
        int64_t dims[2] = {1, c->embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN
                                  ? c->embed : H};
        ir_tensor *z = ir_tensor_new(IR_DT_F32, 2, dims);
        if (!own(L, z))
            return ir_diag_set(L->d, IR_ERR_NOMEM, "encoder lift: out of memory");
        L->type = z;
    }
    c->type_vocab = L->type->dims[0];
    if (L->rel_value) {
        /* rows past the buckets are never read: keep the ones that are */
        c->rel_buckets = L->rel.buckets;
        c->rel_max_distance = L->rel.max_distance;
        c->rel_bidirectional = L->rel.bidirectional;
        L->rel_table = L->rel.table;
        if (L->rel.table->dims[0] > c->rel_buckets) {
            int64_t dims[2] = {c->rel_buckets, c->heads};
            ir_tensor *t = ir_tensor_new(IR_DT_F32, 2, dims);
            if (!own(L, t))
                return ir_diag_set(L->d, IR_ERR_NOMEM, "encoder lift: out of memory");
            memcpy(t->data, L->rel.table->data, t->nbytes);
            L->rel_table = t;
        }
    }
    /* The head type is not in the ops: the exporter's note says it, else
     * one output means regression, as Hugging Face's num_labels == 1. */
    c->head = c->labels == 1 ? IR_ENC_HEAD_REGRESSION : IR_ENC_HEAD_CLASSIFICATION;
    for (int i = 0; i < g->n_meta; i++)
        if (strcmp(g->meta[i].key, "distilc.encoder.head") == 0)
            ir_enc_head_parse(g->meta[i].value, &c->head);
    assign_groups(L);

    ir_encoder *e = NULL;
    if ((s = ir_encoder_new(c, &e, L->d)) != IR_OK)
        return ir_diag_prefix(L->d, "encoder lift");
    for (int i = 0; i < g->n_meta; i++)
        if (strcmp(g->meta[i].key, IR_ENCODER_LABELS_META) == 0 &&
            !ir_encoder_set_labels(e, g->meta[i].value)) {
            ir_encoder_free(e);
            return ir_diag_set(L->d, IR_ERR_NOMEM, "encoder lift: out of memory");
        }
    for (size_t i = 0; i < e->n_weights; i++) {
        ir_tensor *dst = e->weights[i].t;
        const ir_tensor *src = weight_source(L, e->weights[i].name);
        if (!src || ir_tensor_numel(src) != ir_tensor_numel(dst) ||
            src->dtype != IR_DT_F32) {
            ir_diag_set(L->d, IR_ERR_UNSUPPORTED, "encoder lift: weight '%s' "
                        "has %lld values in the graph, the encoder wants %lld",
                        e->weights[i].name,
                        (long long)(src ? ir_tensor_numel(src) : 0),
                        (long long)ir_tensor_numel(dst));
            ir_encoder_free(e);
            return IR_ERR_UNSUPPORTED;
        }
        memcpy(dst->data, src->data, dst->nbytes);
    }
    *out = e;
    return IR_OK;
}

ir_status ir_encoder_lift_why(const ir_graph *g, ir_encoder **out,
                              ir_lift_refusal *why, ir_diag *d)
{
    *out = NULL;
    if (why)
        *why = (ir_lift_refusal){.layer = -1};
    lift *L = calloc(1, sizeof *L);
    if (!L)
        return ir_diag_set(d, IR_ERR_NOMEM, "encoder lift: out of memory");
    L->g = g;
    L->d = d;
    L->why = why;
    ir_encoder_config_init(&L->cfg);
    ir_status s = lift_run(L, out);
    /* A refusal not at a node (a weight's size, the config's check): the
     * message is what was expected. */
    if (s == IR_ERR_UNSUPPORTED && why && !why->expected[0]) {
        const char *msg = d ? d->msg : "";
        if (strncmp(msg, "encoder lift: ", 14) == 0)
            msg += 14;
        snprintf(why->expected, sizeof why->expected, "%s", msg);
    }
    for (size_t i = 0; i < L->n_owned; i++)
        ir_tensor_free(L->owned[i]);
    free(L->owned);
    free(L);
    return s;
}

ir_status ir_encoder_lift(const ir_graph *g, ir_encoder **out, ir_diag *d)
{
    return ir_encoder_lift_why(g, out, NULL, d);
}

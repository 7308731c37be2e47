/* fuse_embed_layer_norm.c — the fuse-embed-layer-norm pass: BERT's input
 * embeddings become one EmbedLayerNorm (ai.distilc):
 *     LayerNorm(Gather(word, ids) + Gather(type, tids) + Gather(pos, pids))
 *         -> EmbedLayerNorm(ids, word, pos, gamma, beta, tids, type, pids)
 *
 * The sum is a tree of Adds (any association, as torch and TF write it)
 * over two or three Gather-13 nodes on constant f32 tables [rows, C] with
 * axis 0; it must be read only by the LayerNorm (made by fuse-layer-norm).
 * Which table is which: the word table is gathered by a graph input (the
 * one with the most rows when two are); of the others, a table gathered by
 * a graph input, else the one with fewer rows, is the token-type table
 * (type vocabularies are tiny: 2 in BERT); the last is the position table.
 * With two Gathers there is no token-type table. The position indices are
 * kept as computed (position_ids, input 7), so any position scheme
 * (Hugging Face's sliced buffer, Range, a user input) stays exact.
 */
#include "passes/fuse_common.h"

enum { EM_IDS, EM_WORD, EM_POS, EM_GAMMA, EM_BETA, EM_TIDS, EM_TYPE, EM_PIDS,
       EM_OUT };

/* Collects the leaves of the Add tree under v (interior Adds single-use). */
static int em_leaves(fuse_state *fs, ir_value *v, ir_value **leaves, int n,
                     fuse_match *m)
{
    ir_node *add = fuse_producer(fs, v, IR_OP_ADD);
    if (add && fuse_single_use(fs, v) && n < 4) {
        fuse_take(m, add);
        n = em_leaves(fs, add->inputs[0], leaves, n, m);
        return em_leaves(fs, add->inputs[1], leaves, n, m);
    }
    if (n < 4)
        leaves[n] = v;
    return n + 1;
}

/* v = Gather(table, idx) with a constant f32 [rows, C] table on axis 0. */
static ir_node *em_gather(fuse_state *fs, ir_value *v, int64_t c)
{
    ir_node *g = fuse_producer(fs, v, IR_OP_GATHER);
    if (!g || ir_node_attr_int(g, "axis", 0) != 0)
        return NULL;
    const ir_tensor *t = fuse_const(g->inputs[0]);
    if (!t || t->dtype != IR_DT_F32 || t->rank != 2 || t->dims[1] != c)
        return NULL;
    return g;
}

static int64_t em_rows(const ir_node *g)
{
    return fuse_const(g->inputs[0])->dims[0];
}

static bool em_match(fuse_state *fs, ir_node *ln, fuse_match *m)
{
    if (ln->op != IR_OP_LAYER_NORM)
        return false;
    ir_value *sum = ln->inputs[0];
    if (!fuse_producer(fs, sum, IR_OP_ADD) || !fuse_single_use(fs, sum))
        return false;
    const ir_tensor *gamma = fuse_const(ln->inputs[1]);
    if (!gamma)
        return false;
    int64_t c = ir_tensor_numel(gamma);
    ir_value *leaves[4];
    int n = em_leaves(fs, sum, leaves, 0, m);
    if (n < 2 || n > 3)
        return false;
    ir_node *g[3];
    for (int k = 0; k < n; k++)
        if (!(g[k] = em_gather(fs, leaves[k], c)))
            return false;
    /* The word table: gathered by a graph input, the most rows. */
    int word = -1;
    for (int k = 0; k < n; k++)
        if (g[k]->inputs[1]->is_input &&
            (word < 0 || em_rows(g[k]) > em_rows(g[word])))
            word = k;
    if (word < 0)
        return fuse_decline(m, "no embedding is gathered by a graph input "
                            "(input_ids)");
    int rest[2], nr = 0;
    for (int k = 0; k < n; k++)
        if (k != word)
            rest[nr++] = k;
    int pos = rest[0], type = -1;
    if (nr == 2) {
        bool in0 = g[rest[0]]->inputs[1]->is_input;
        bool in1 = g[rest[1]]->inputs[1]->is_input;
        if (in0 != in1)
            type = in0 ? rest[0] : rest[1];
        else
            type = em_rows(g[rest[0]]) <= em_rows(g[rest[1]]) ? rest[0] : rest[1];
        pos = type == rest[0] ? rest[1] : rest[0];
    }
    for (int k = 0; k < n; k++) {
        if (!fuse_single_use(fs, g[k]->outputs[0]))
            return fuse_decline(m, "embedding '%s' is also read elsewhere",
                                g[k]->outputs[0]->name);
        fuse_take(m, g[k]);
    }
    m->v[EM_IDS] = g[word]->inputs[1];
    m->v[EM_WORD] = g[word]->inputs[0];
    m->v[EM_POS] = g[pos]->inputs[0];
    m->v[EM_PIDS] = g[pos]->inputs[1];
    m->v[EM_GAMMA] = ln->inputs[1];
    m->v[EM_BETA] = ln->n_inputs > 2 ? ln->inputs[2] : NULL;
    if (!m->v[EM_BETA])
        return fuse_decline(m, "LayerNorm without beta");
    if (type >= 0) {
        m->v[EM_TYPE] = g[type]->inputs[0];
        m->v[EM_TIDS] = g[type]->inputs[1];
    }
    m->v[EM_OUT] = ln->outputs[0];
    return true;
}

static ir_status em_rewrite(fuse_state *fs, fuse_match *m)
{
    ir_value *in[8] = {m->v[EM_IDS], m->v[EM_WORD], m->v[EM_POS],
                       m->v[EM_GAMMA], m->v[EM_BETA], m->v[EM_TIDS],
                       m->v[EM_TYPE], m->v[EM_PIDS]};
    ir_node *n = fuse_add_node(fs, IR_OP_EMBED_LAYER_NORM, m->anchor, 8, in);
    if (!n || !ir_node_set_attr_float(fs->g, n, "epsilon",
                                      ir_node_attr_float(m->anchor, "epsilon",
                                                         1e-5f)))
        return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
    return fuse_replace(fs, m->v[EM_OUT], n->outputs[0]);
}

static const fuse_rule em_rules[] = {
    {"word + position (+ token type) embeddings + LayerNorm", em_match,
     em_rewrite},
};

ir_status fuse_embed_layer_norm_run(ir_graph *g, pass_ctx *ctx,
                                    fuse_report *r)
{
    return fuse_run_rules(g, ctx, "fuse-embed-layer-norm", em_rules, 1, r);
}

ir_status pass_fuse_embed_layer_norm(ir_graph *g, pass_ctx *ctx)
{
    return fuse_embed_layer_norm_run(g, ctx, NULL);
}

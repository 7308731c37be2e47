/* fuse_common.c — the fusion passes' shared matching helpers and the rule
 * driver (see fuse_common.h for the contract between driver and rules).
 *
 * The driver keeps consumer counts current after every rewrite (a rewrite
 * changes who reads what, and the next match's single-consumer checks must
 * see that), and at the end removes the nodes that became unreadable:
 * starting from the matched nodes it removes any node none of whose outputs
 * is read, then tries that node's producers, until nothing changes.
 */
#include "passes/fuse_common.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- state ----------------------------------------------------------------- */

static ir_status fuse_refresh_uses(fuse_state *fs)
{
    free(fs->uses);
    fs->uses = ir_graph_use_counts(fs->g);
    fs->n_uses = fs->g->n_values;
    if (!fs->uses)
        return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
    return IR_OK;
}

int fuse_uses(const fuse_state *fs, const ir_value *v)
{
    if (!v || v->id < 0 || v->id >= fs->n_uses)
        return 0;
    return fs->uses[v->id];
}

bool fuse_single_use(const fuse_state *fs, const ir_value *v)
{
    return v && !v->is_output && fuse_uses(fs, v) == 1;
}

int fuse_consumers(const fuse_state *fs, const ir_value *v, ir_node **out,
                   int max)
{
    int n = 0;
    for (int i = 0; i < fs->g->n_nodes; i++) {
        ir_node *nd = fs->g->nodes[i];
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

ir_node *fuse_sole_consumer(const fuse_state *fs, const ir_value *v)
{
    ir_node *c[2];
    if (!v || v->is_output || fuse_consumers(fs, v, c, 2) != 1)
        return NULL;
    return c[0];
}

static bool fuse_is_consumed(const fuse_state *fs, const ir_node *n)
{
    return n->id >= 0 && n->id < fs->n_consumed && fs->consumed[n->id];
}

ir_node *fuse_producer(fuse_state *fs, const ir_value *v, ir_op op)
{
    if (!v || !v->producer || v->constant || v->producer->op != op ||
        fuse_is_consumed(fs, v->producer))
        return NULL;
    return v->producer;
}

/* ---- constants ------------------------------------------------------------- */

const ir_tensor *fuse_const(const ir_value *v)
{
    if (!v)
        return NULL;
    if (v->constant)
        return v->constant;
    if (v->producer && v->producer->op == IR_OP_CONSTANT) {
        const ir_attr *a = ir_node_attr(v->producer, "value");
        if (a && a->kind == IR_ATTR_TENSOR)
            return a->t;
    }
    return NULL;
}

bool fuse_const_scalar(const ir_value *v, double *out)
{
    const ir_tensor *t = fuse_const(v);
    if (!t || ir_tensor_numel(t) != 1)
        return false;
    *out = ir_tensor_get_f64(t, 0);
    return true;
}

bool fuse_const_near(const ir_value *v, double want, double tol)
{
    double c;
    if (!fuse_const_scalar(v, &c))
        return false;
    return fabs(c - want) <= tol * fmax(1.0, fabs(want));
}

ir_value *fuse_other_than_scalar(const ir_node *n, double *c, int *slot)
{
    if (n->n_inputs != 2)
        return NULL;
    for (int k = 0; k < 2; k++)
        if (fuse_const_scalar(n->inputs[k], c)) {
            if (slot)
                *slot = k;
            return n->inputs[1 - k];
        }
    return NULL;
}

int fuse_node_axes(const ir_node *n, int64_t *axes, int max)
{
    const int64_t *a;
    int cnt = ir_node_attr_ints(n, "axes", &a);
    if (cnt >= 0) {
        for (int i = 0; i < cnt && i < max; i++)
            axes[i] = a[i];
        return cnt <= max ? cnt : -1;
    }
    if (n->n_inputs < 2 || !n->inputs[1])
        return -1;
    const ir_tensor *t = fuse_const(n->inputs[1]);
    if (!t || ir_tensor_numel(t) > max)
        return -1;
    int64_t k = ir_tensor_numel(t);
    for (int64_t i = 0; i < k; i++)
        axes[i] = ir_tensor_get_i64(t, i);
    return (int)k;
}

int fuse_transpose_perm(const ir_node *n, int64_t *perm, int max)
{
    const int64_t *p;
    int cnt = ir_node_attr_ints(n, "perm", &p);
    if (cnt < 0 || cnt > max)
        return -1;
    for (int i = 0; i < cnt; i++)
        perm[i] = p[i];
    return cnt;
}

/* ---- match bookkeeping --------------------------------------------------- */

void fuse_take(fuse_match *m, ir_node *n)
{
    if (!n || m->n_nodes >= FUSE_MAX_NODES)
        return;
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i] == n)
            return;
    m->nodes[m->n_nodes++] = n;
}

bool fuse_decline(fuse_match *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->why, sizeof m->why, fmt, ap);
    va_end(ap);
    if (!m->why[0])
        snprintf(m->why, sizeof m->why, "declined");
    return true;
}

/* ---- rewriting --------------------------------------------------------------- */

ir_node *fuse_add_node(fuse_state *fs, ir_op op, const ir_node *anchor,
                       int n_inputs, ir_value *const *inputs)
{
    const char *name = ir_graph_strfmt(fs->g, "%s_fused%s", anchor->name,
                                       ir_op_name(op));
    return ir_graph_add_node(fs->g, op, name, n_inputs, inputs, 1);
}

ir_value *fuse_add_const(fuse_state *fs, const char *base, ir_tensor *t)
{
    return ir_graph_add_constant(fs->g, ir_graph_unique_name(fs->g, base), t);
}

ir_status fuse_replace(fuse_state *fs, ir_value *old_v, ir_value *new_v)
{
    /* Keep the old value's type on the new one when the new one has none
     * (infer hooks may not have run on the fused node). */
    if (new_v->rank < 0 && new_v->dtype == IR_DT_UNDEF) {
        new_v->dtype = old_v->dtype;
        new_v->rank = old_v->rank;
        memcpy(new_v->dims, old_v->dims, sizeof new_v->dims);
    }
    ir_graph_replace_uses(fs->g, old_v, new_v);
    return fuse_refresh_uses(fs);
}

/* ---- the driver ---------------------------------------------------------------- */

static void fuse_note(fuse_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fuse_note(fuse_report *r, const char *fmt, ...)
{
    if (!r)
        return;
    size_t used = strlen(r->notes);
    if (used + 1 >= sizeof r->notes)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->notes + used, sizeof r->notes - used, fmt, ap);
    va_end(ap);
}

/* ---- the log as data (fuse.h: fuse_log) ----------------------------------- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* A new entry for this run of pass_name, or NULL when out of memory. */
static fuse_pass_log *fuse_log_open(fuse_log *log, const char *pass_name)
{
    fuse_pass_log *p = realloc(log->passes,
                               sizeof *p * (size_t)(log->n_passes + 1));
    if (!p)
        return NULL;
    log->passes = p;
    p += log->n_passes++;
    memset(p, 0, sizeof *p);
    p->pass = pass_name;
    return p;
}

static bool fuse_log_decline(fuse_pass_log *p, const ir_node *anchor,
                             const char *rule, const char *why)
{
    fuse_declined *v = realloc(p->declines, sizeof *v * (size_t)(p->declined + 1));
    if (!v)
        return false;
    p->declines = v;
    fuse_declined *e = &v[p->declined];
    e->node = dup_str(anchor->name ? anchor->name : "?");
    e->why = dup_str(why);
    e->op = ir_op_name(anchor->op);
    e->rule = rule;
    if (!e->node || !e->why) {
        free(e->node);
        free(e->why);
        return false;
    }
    p->declined++;
    return true;
}

void fuse_log_free(fuse_log *log)
{
    for (int i = 0; i < log->n_passes; i++) {
        fuse_pass_log *p = &log->passes[i];
        for (int k = 0; k < p->declined; k++) {
            free(p->declines[k].node);
            free(p->declines[k].why);
        }
        free(p->declines);
    }
    free(log->passes);
    memset(log, 0, sizeof *log);
}

/* Removes matched nodes no longer read, then their producers likewise. */
static ir_status fuse_sweep(fuse_state *fs)
{
    ir_graph *g = fs->g;
    bool *cand = calloc((size_t)g->next_node_id + 1, sizeof *cand);
    bool *gone = calloc((size_t)g->next_node_id + 1, sizeof *gone);
    if (!cand || !gone) {
        free(cand); free(gone);
        return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < fs->n_consumed && i < g->next_node_id; i++)
        cand[i] = fs->consumed[i];
    ir_status st = fuse_refresh_uses(fs);
    bool changed = true;
    while (st == IR_OK && changed) {
        changed = false;
        for (int i = g->n_nodes - 1; i >= 0; i--) {
            ir_node *n = g->nodes[i];
            if (!cand[n->id] || gone[n->id])
                continue;
            bool read = false;
            for (int k = 0; k < n->n_outputs; k++)
                if (n->outputs[k] && (n->outputs[k]->is_output ||
                                      fs->uses[n->outputs[k]->id] > 0))
                    read = true;
            if (read)
                continue;
            gone[n->id] = true;
            changed = true;
            for (int k = 0; k < n->n_inputs; k++) {
                ir_value *v = n->inputs[k];
                if (!v)
                    continue;
                fs->uses[v->id]--;
                if (v->producer && !v->constant)
                    cand[v->producer->id] = true;
            }
        }
    }
    if (st == IR_OK) {
        ir_graph_remove_nodes(g, gone);
        ir_graph_compact_values(g);
        st = ir_graph_toposort(g, fs->ctx->diag);
    }
    free(cand);
    free(gone);
    return st;
}

ir_status fuse_run_rules(ir_graph *g, pass_ctx *ctx, const char *pass_name,
                         const fuse_rule *rules, int n_rules,
                         fuse_report *report)
{
    fuse_state fs = {.g = g, .ctx = ctx};
    if (!report)
        report = ctx->fuse_notes;
    ir_status st = fuse_refresh_uses(&fs);
    fs.n_consumed = g->next_node_id;
    fs.consumed = calloc((size_t)fs.n_consumed + 1, sizeof *fs.consumed);
    fuse_match *m = malloc(sizeof *m);
    fuse_pass_log *plog = ctx->fuse_log && st == IR_OK
                              ? fuse_log_open(ctx->fuse_log, pass_name) : NULL;
    if (st == IR_OK && (!fs.consumed || !m || (ctx->fuse_log && !plog)))
        st = ir_diag_set(ctx->diag, IR_ERR_NOMEM, "out of memory");
    int n_orig = g->n_nodes;
    /* Only the nodes present at the start are anchors; rewrites append. */
    ir_node **orig = st == IR_OK ? malloc(sizeof *orig * (size_t)(n_orig + 1))
                                 : NULL;
    if (st == IR_OK && !orig)
        st = ir_diag_set(ctx->diag, IR_ERR_NOMEM, "out of memory");
    if (st == IR_OK)
        memcpy(orig, g->nodes, sizeof *orig * (size_t)n_orig);
    for (int i = 0; st == IR_OK && i < n_orig; i++) {
        ir_node *anchor = orig[i];
        if (fuse_is_consumed(&fs, anchor))
            continue;
        for (int r = 0; r < n_rules && st == IR_OK; r++) {
            memset(m, 0, sizeof *m);
            m->anchor = anchor;
            if (!rules[r].match(&fs, anchor, m))
                continue;
            if (!m->why[0])
                st = rules[r].rewrite(&fs, m);
            if (st != IR_OK) {
                ir_diag_prefix(ctx->diag, "%s: node '%s' (%s)", pass_name,
                               anchor->name, rules[r].comment);
                break;
            }
            if (m->why[0]) {
                if (report)
                    report->declined++;
                fuse_note(report, "node '%s' (%s): %s\n", anchor->name,
                          rules[r].comment, m->why);
                if (plog && !fuse_log_decline(plog, anchor, rules[r].comment,
                                              m->why))
                    st = ir_diag_set(ctx->diag, IR_ERR_NOMEM, "out of memory");
                continue;
            }
            if (report)
                report->fused++;
            if (plog)
                plog->fused++;
            fuse_take(m, anchor);
            for (int k = 0; k < m->n_nodes; k++)
                if (m->nodes[k]->id < fs.n_consumed)
                    fs.consumed[m->nodes[k]->id] = true;
            break;
        }
    }
    if (st == IR_OK)
        st = fuse_sweep(&fs);
    free(orig);
    free(m);
    free(fs.uses);
    free(fs.consumed);
    return st;
}

/* fuse_common.h — pattern-matching helpers shared by the fusion passes
 * (passes/fuse_*.c) and the driver that runs a table of rewrite rules.
 *
 * Each fusion is a table of rules {comment, match, rewrite} (STYLE.md 6):
 *
 *     static const fuse_rule rules[] = {
 *         {"Gelu erf form: x*0.5*(1+erf(x/sqrt2))", gelu_match_erf,
 *          gelu_rewrite},
 *     };
 *     return fuse_run_rules(g, ctx, "fuse-gelu", rules, 1, report);
 *
 * The driver offers every node of the graph (in order) to each rule's match
 * as the pattern's anchor (usually its last node). match returns false when
 * the anchor is not the start of this pattern at all (silent), or true with
 * m->why set when it recognised the pattern's shape but must decline (that
 * reason is reported), or true with m->why empty when the rewrite may run.
 * rewrite builds the fused node(s), redirects the pattern's output with
 * fuse_replace, and may still decline by setting m->why.
 *
 * Rewrites never delete nodes themselves: the nodes they list in m->nodes
 * (and, transitively, whatever fed only them, such as Shape chains) are
 * removed at the end of the pass once nothing reads them; the graph is then
 * re-sorted. So a rewrite stays correct even when an interior value turns out
 * to have another reader: that node just stays.
 */
#ifndef DISTILC_PASSES_FUSE_COMMON_H
#define DISTILC_PASSES_FUSE_COMMON_H

#include "passes/fuse.h"
#include "passes/pass.h"

#define FUSE_MAX_NODES 96
#define FUSE_MAX_VALS 24

typedef struct fuse_match {
    ir_node *anchor;
    ir_node *nodes[FUSE_MAX_NODES]; /* matched nodes: removed once unused */
    int n_nodes;
    ir_value *v[FUSE_MAX_VALS];      /* named slots, each pass has an enum */
    double f[8];                     /* numbers found (epsilon, scale...) */
    int64_t i[8];
    const char *s[4];
    char why[240];                   /* non-empty = declined, and why */
} fuse_match;

typedef struct fuse_state {
    ir_graph *g;
    pass_ctx *ctx;
    int *uses;          /* use counts by value id, kept current */
    int n_uses;
    bool *consumed;     /* by node id: already part of an accepted match */
    int n_consumed;
} fuse_state;

typedef struct fuse_rule {
    const char *comment;
    bool (*match)(fuse_state *fs, ir_node *anchor, fuse_match *m);
    ir_status (*rewrite)(fuse_state *fs, fuse_match *m);
} fuse_rule;

ir_status fuse_run_rules(ir_graph *g, pass_ctx *ctx, const char *pass_name,
                         const fuse_rule *rules, int n_rules,
                         fuse_report *report);

/* ---- matching helpers -------------------------------------------------- */

/* Records n as part of the match (no-op when full or NULL). */
void fuse_take(fuse_match *m, ir_node *n);
/* Sets m->why (printf-style) and returns true, for `return fuse_decline(..)`
 * inside match functions. */
bool fuse_decline(fuse_match *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The producer of v when it is a node of op `op` (and not consumed). */
ir_node *fuse_producer(fuse_state *fs, const ir_value *v, ir_op op);
/* Number of readers of v (node inputs + graph-output marks). */
int fuse_uses(const fuse_state *fs, const ir_value *v);
/* v is read once and is not a graph output. */
bool fuse_single_use(const fuse_state *fs, const ir_value *v);
/* The nodes reading v (up to max), returns their count. */
int fuse_consumers(const fuse_state *fs, const ir_value *v, ir_node **out,
                   int max);
/* The only consumer of v, or NULL when it has zero or several. */
ir_node *fuse_sole_consumer(const fuse_state *fs, const ir_value *v);

/* v's constant payload: an initializer or a Constant node's "value". */
const ir_tensor *fuse_const(const ir_value *v);
/* A float constant with one element; false otherwise. */
bool fuse_const_scalar(const ir_value *v, double *out);
/* A one-element constant equal to want within relative tolerance tol. */
bool fuse_const_near(const ir_value *v, double want, double tol);
/* For a binary node: the input that is a one-element constant (its value in
 * *c, its slot in *slot) and the other input; NULL when neither is. */
ir_value *fuse_other_than_scalar(const ir_node *n, double *c, int *slot);
/* Axes of a reduction/unsqueeze-like node: the "axes" attribute or the
 * constant input 1. Returns the count, -1 when not known. */
int fuse_node_axes(const ir_node *n, int64_t *axes, int max);
/* Transpose's perm; -1 when absent (reverse) or not readable. */
int fuse_transpose_perm(const ir_node *n, int64_t *perm, int max);

/* ---- rewriting helpers ------------------------------------------------- */

/* Adds a node named after the anchor ("<anchor>_fused<Op>"). */
ir_node *fuse_add_node(fuse_state *fs, ir_op op, const ir_node *anchor,
                       int n_inputs, ir_value *const *inputs);
/* A new constant value holding t (the graph takes t). */
ir_value *fuse_add_const(fuse_state *fs, const char *base, ir_tensor *t);
/* Every reader of old now reads new; use counts are refreshed. */
ir_status fuse_replace(fuse_state *fs, ir_value *old_v, ir_value *new_v);

#endif

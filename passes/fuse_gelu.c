/* fuse_gelu.c — the fuse-gelu pass: GELU written out in elementary ops
 * becomes one Gelu node (Gelu-20; approximate "none" or "tanh").
 *
 * erf form, GELU(x) = x * 0.5 * (1 + erf(x / sqrt 2)):
 *     e = Erf(Div(x, 1.41421..)) or Erf(Mul(x, 0.70710..))
 *     a = Add(e, 1)                         (either order)
 *     then the product of x, a and 0.5 in any of the association orders
 *     exporters write: Mul(Mul(x, a), 0.5) (torch), Mul(Mul(x, 0.5), a)
 *     (Hugging Face's old gelu), Mul(x, Mul(a, 0.5)), operands either side.
 * tanh form, 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))):
 *     c = Pow(x, 3) or Mul(x, Mul(x, x)) or Mul(Mul(x, x), x)
 *     t = Tanh(Mul(Add(x, Mul(c, 0.044715)), 0.79788..))
 *     a = Add(t, 1), then the same product as above.
 * Constants are matched with relative tolerance 1e-4 (exporters round
 * sqrt 2 and sqrt(2/pi) differently).
 * The anchor is the Erf / Tanh node.
 */
#include "passes/fuse_common.h"

#include <math.h>

enum { GE_X, GE_OUT };

#define GE_TOL 1e-4

/* The other operand of a binary node n besides v (NULL if v is not one). */
static ir_value *ge_other(const ir_node *n, const ir_value *v)
{
    if (n->n_inputs != 2)
        return NULL;
    if (n->inputs[0] == v)
        return n->inputs[1];
    if (n->inputs[1] == v)
        return n->inputs[0];
    return NULL;
}

/* From a = 1 + f(x): finds the product x * a * 0.5 and records its nodes;
 * returns the product's value, NULL when not that shape. */
static ir_value *ge_match_product(fuse_state *fs, ir_value *x, ir_value *a,
                                  fuse_match *m)
{
    ir_node *m1 = fuse_sole_consumer(fs, a);
    if (!m1 || m1->op != IR_OP_MUL)
        return NULL;
    ir_value *o = ge_other(m1, a);
    if (o == x) { /* Mul(Mul(x, a), 0.5) */
        ir_node *m2 = fuse_sole_consumer(fs, m1->outputs[0]);
        ir_value *c = m2 && m2->op == IR_OP_MUL ? ge_other(m2, m1->outputs[0])
                                                : NULL;
        if (!c || !fuse_const_near(c, 0.5, GE_TOL))
            return NULL;
        fuse_take(m, m1); fuse_take(m, m2);
        return m2->outputs[0];
    }
    if (fuse_const_near(o, 0.5, GE_TOL)) { /* Mul(x, Mul(a, 0.5)) */
        ir_node *m2 = fuse_sole_consumer(fs, m1->outputs[0]);
        if (!m2 || m2->op != IR_OP_MUL || ge_other(m2, m1->outputs[0]) != x)
            return NULL;
        fuse_take(m, m1); fuse_take(m, m2);
        return m2->outputs[0];
    }
    /* Mul(Mul(x, 0.5), a) */
    ir_node *h = o && o->producer && o->producer->op == IR_OP_MUL ? o->producer
                                                                   : NULL;
    if (!h || ge_other(h, x) == NULL || !fuse_const_near(ge_other(h, x), 0.5, GE_TOL) ||
        !fuse_single_use(fs, h->outputs[0]))
        return NULL;
    fuse_take(m, h); fuse_take(m, m1);
    return m1->outputs[0];
}

/* e's consumer Add(e, 1): returns its output. */
static ir_value *ge_match_plus_one(fuse_state *fs, ir_node *e, fuse_match *m)
{
    ir_node *add = fuse_sole_consumer(fs, e->outputs[0]);
    if (!add || add->op != IR_OP_ADD ||
        !fuse_const_near(ge_other(add, e->outputs[0]), 1.0, GE_TOL))
        return NULL;
    fuse_take(m, add);
    return add->outputs[0];
}

static bool ge_match_erf(fuse_state *fs, ir_node *erf, fuse_match *m)
{
    if (erf->op != IR_OP_ERF)
        return false;
    ir_node *sc = erf->inputs[0]->producer;
    if (!sc || !fuse_single_use(fs, erf->inputs[0]))
        return false;
    ir_value *x;
    if (sc->op == IR_OP_DIV && fuse_const_near(sc->inputs[1], M_SQRT2, GE_TOL))
        x = sc->inputs[0];
    else if (sc->op == IR_OP_MUL &&
             (fuse_const_near(sc->inputs[1], M_SQRT1_2, GE_TOL) ||
              fuse_const_near(sc->inputs[0], M_SQRT1_2, GE_TOL)))
        x = fuse_const_near(sc->inputs[1], M_SQRT1_2, GE_TOL) ? sc->inputs[0]
                                                                : sc->inputs[1];
    else
        return false;
    fuse_take(m, sc);
    fuse_take(m, erf);
    ir_value *a = ge_match_plus_one(fs, erf, m);
    ir_value *out = a ? ge_match_product(fs, x, a, m) : NULL;
    if (!out)
        return false;
    m->v[GE_X] = x;
    m->v[GE_OUT] = out;
    m->s[0] = "none";
    return true;
}

/* x^3 as Pow(x, 3) or a product of three x. Returns x, NULL otherwise. */
static ir_value *ge_match_cube(fuse_state *fs, ir_value *c, fuse_match *m)
{
    ir_node *n = c ? c->producer : NULL;
    if (!n || !fuse_single_use(fs, c))
        return NULL;
    if (n->op == IR_OP_POW && fuse_const_near(n->inputs[1], 3.0, GE_TOL)) {
        fuse_take(m, n);
        return n->inputs[0];
    }
    if (n->op != IR_OP_MUL)
        return NULL;
    for (int k = 0; k < 2; k++) {
        ir_value *x = n->inputs[k];
        ir_node *sq = n->inputs[1 - k]->producer;
        if (sq && sq->op == IR_OP_MUL && sq->inputs[0] == x &&
            sq->inputs[1] == x) {
            fuse_take(m, n); fuse_take(m, sq);
            return x;
        }
    }
    return NULL;
}

static bool ge_match_tanh(fuse_state *fs, ir_node *th, fuse_match *m)
{
    if (th->op != IR_OP_TANH)
        return false;
    double c;
    ir_node *ms = th->inputs[0]->producer; /* Mul(inner, sqrt(2/pi)) */
    if (!ms || ms->op != IR_OP_MUL || !fuse_single_use(fs, th->inputs[0]))
        return false;
    ir_value *inner = fuse_other_than_scalar(ms, &c, NULL);
    if (!inner || fabs(c - 0.7978845608028654) > GE_TOL * c)
        return false;
    ir_node *ad = inner->producer; /* Add(x, Mul(cube, 0.044715)) */
    if (!ad || ad->op != IR_OP_ADD || !fuse_single_use(fs, inner))
        return false;
    for (int k = 0; k < 2; k++) {
        ir_value *x = ad->inputs[k];
        ir_node *mc = ad->inputs[1 - k]->producer;
        if (!mc || mc->op != IR_OP_MUL)
            continue;
        ir_value *cube = fuse_other_than_scalar(mc, &c, NULL);
        if (!cube || fabs(c - 0.044715) > GE_TOL * 0.044715)
            continue;
        fuse_match save = *m;
        if (ge_match_cube(fs, cube, m) != x) {
            *m = save;
            continue;
        }
        fuse_take(m, mc); fuse_take(m, ad); fuse_take(m, ms); fuse_take(m, th);
        ir_value *a = ge_match_plus_one(fs, th, m);
        ir_value *out = a ? ge_match_product(fs, x, a, m) : NULL;
        if (!out)
            return false;
        m->v[GE_X] = x;
        m->v[GE_OUT] = out;
        m->s[0] = "tanh";
        return true;
    }
    return false;
}

static ir_status ge_rewrite(fuse_state *fs, fuse_match *m)
{
    ir_node *n = fuse_add_node(fs, IR_OP_GELU, m->anchor, 1, &m->v[GE_X]);
    if (!n || !ir_node_set_attr_string(fs->g, n, "approximate", m->s[0]))
        return ir_diag_set(fs->ctx->diag, IR_ERR_NOMEM, "out of memory");
    return fuse_replace(fs, m->v[GE_OUT], n->outputs[0]);
}

static const fuse_rule ge_rules[] = {
    {"GELU erf form x*0.5*(1+erf(x/sqrt2))", ge_match_erf, ge_rewrite},
    {"GELU tanh form 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))", ge_match_tanh,
     ge_rewrite},
};

ir_status fuse_gelu_run(ir_graph *g, pass_ctx *ctx, fuse_report *r)
{
    return fuse_run_rules(g, ctx, "fuse-gelu", ge_rules,
                          (int)(sizeof ge_rules / sizeof ge_rules[0]), r);
}

ir_status pass_fuse_gelu(ir_graph *g, pass_ctx *ctx)
{
    return fuse_gelu_run(g, ctx, NULL);
}

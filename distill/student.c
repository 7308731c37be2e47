/* student.c — the student's config from a spec string and a sharing
 * scheme, layer maps, and initialisation (random or cut out of the
 * teacher by weight magnitude). The rules are in student.h's comment. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill/kernels.h"
#include "distill/student.h"

/* ---- spec, sharing, config ---------------------------------------------- */

/* Parses a whole decimal integer >= min from [s, s+n). */
static bool parse_int(const char *s, size_t n, int64_t min, int64_t *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return false;
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno || v < min)
        return false;
    *out = v;
    return true;
}

ir_status student_spec_parse(const char *text, student_spec *out, ir_diag *d)
{
    static const char *keys[] = {"layers", "hidden", "heads", "ffn", "embed"};
    int64_t val[5] = {0, 0, 0, 0, 0};
    bool seen[5] = {false, false, false, false, false};
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return ir_diag_set(d, IR_ERR_INPUT, "student spec is empty; expected "
                           "layers=L,hidden=H,heads=A,ffn=F[,embed=E]");
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (!eq)
            return ir_diag_set(d, IR_ERR_INPUT, "student spec '%s': '%.*s' is "
                               "not key=value", text, (int)n, p);
        size_t kn = (size_t)(eq - p);
        int k = -1;
        for (int i = 0; i < 5; i++)
            if (strlen(keys[i]) == kn && strncmp(keys[i], p, kn) == 0)
                k = i;
        if (k < 0)
            return ir_diag_set(d, IR_ERR_INPUT, "student spec '%s': unknown key "
                               "'%.*s' (expected layers, hidden, heads, ffn, "
                               "embed)", text, (int)kn, p);
        if (seen[k])
            return ir_diag_set(d, IR_ERR_INPUT, "student spec '%s': '%s' given "
                               "twice", text, keys[k]);
        if (!parse_int(eq + 1, n - kn - 1, k == 4 ? 0 : 1, &val[k]))
            return ir_diag_set(d, IR_ERR_INPUT, "student spec '%s': %s = '%.*s' "
                               "is not a %s integer", text, keys[k],
                               (int)(n - kn - 1), eq + 1,
                               k == 4 ? "non-negative" : "positive");
        seen[k] = true;
        p += n;
        if (*p == ',')
            p++;
    }
    for (int i = 0; i < 4; i++)
        if (!seen[i])
            return ir_diag_set(d, IR_ERR_INPUT, "student spec '%s': missing "
                               "%s=N", text, keys[i]);
    if (val[0] > IR_ENCODER_MAX_LAYERS)
        return ir_diag_set(d, IR_ERR_INPUT, "student spec '%s': layers = %lld "
                           "is more than %d", text, (long long)val[0],
                           IR_ENCODER_MAX_LAYERS);
    if (val[1] % val[2] != 0)
        return ir_diag_set(d, IR_ERR_INPUT, "student spec '%s': heads = %lld "
                           "does not divide hidden = %lld", text,
                           (long long)val[2], (long long)val[1]);
    out->layers = val[0];
    out->hidden = val[1];
    out->heads = val[2];
    out->ffn = val[3];
    out->embed = val[4];
    return IR_OK;
}

ir_status student_share_parse(const char *text, ir_enc_share *share,
                              int64_t *k, ir_diag *d)
{
    *k = 0;
    if (!text)
        text = "";
    static const struct { const char *name; ir_enc_share s; } names[] = {
        {"none", IR_ENC_SHARE_NONE},       {"all", IR_ENC_SHARE_ALL},
        {"attention", IR_ENC_SHARE_ATTENTION}, {"ffn", IR_ENC_SHARE_FFN},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(text, names[i].name) == 0) {
            *share = names[i].s;
            return IR_OK;
        }
    if (strncmp(text, "groups:", 7) == 0) {
        if (!parse_int(text + 7, strlen(text + 7), 1, k))
            return ir_diag_set(d, IR_ERR_INPUT, "sharing '%s': K in groups:K "
                               "must be a positive integer", text);
        *share = IR_ENC_SHARE_GROUPS;
        return IR_OK;
    }
    return ir_diag_set(d, IR_ERR_INPUT, "unknown sharing '%s' (expected none, "
                       "all, groups:K, attention, ffn)", text);
}

ir_status student_config_make(const ir_encoder_config *teacher,
                              const student_spec *s, ir_enc_share share,
                              int64_t k, ir_encoder_config *out, ir_diag *d)
{
    ir_encoder_config c = *teacher;
    c.layers = s->layers;
    c.hidden = s->hidden;
    c.heads = s->heads;
    c.ffn = s->ffn;
    c.embed = s->embed;
    /* factorized, the student projects where its teacher does (after the
     * LayerNorm for ELECTRA-small and ALBERT); unfactorized, no kind */
    if (!s->embed || !teacher->embed)
        c.embed_kind = IR_ENC_EMBED_PROJECT_WORD;
    if (s->hidden % s->heads != 0)
        return ir_diag_set(d, IR_ERR_INPUT, "student heads = %lld does not "
                           "divide hidden = %lld", (long long)s->heads,
                           (long long)s->hidden);
    if (share == IR_ENC_SHARE_GROUPS && (k < 1 || s->layers % k != 0))
        return ir_diag_set(d, IR_ERR_INPUT, "sharing groups:%lld does not "
                           "divide the student's layers = %lld", (long long)k,
                           (long long)s->layers);
    ir_status st = ir_encoder_config_share(&c, share, k, d);
    if (st != IR_OK)
        return st;
    st = ir_encoder_config_validate(&c, d);
    if (st != IR_OK)
        return ir_diag_prefix(d, "student");
    *out = c;
    return IR_OK;
}

void student_layer_map_uniform(int64_t ls, int64_t lt, int64_t *map)
{
    for (int64_t m = 1; m <= ls; m++) {
        int64_t g = m * lt / ls;
        map[m - 1] = g < 1 ? 1 : g;
    }
}

ir_status student_layer_map_parse(const char *text, int64_t ls, int64_t lt,
                                  int64_t *map, ir_diag *d)
{
    const char *p = text ? text : "";
    int64_t n = 0;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int64_t v;
        if (!parse_int(p, len, 1, &v) || v > lt)
            return ir_diag_set(d, IR_ERR_INPUT, "layer map '%s': '%.*s' is not "
                               "a teacher layer in 1..%lld", text, (int)len, p,
                               (long long)lt);
        if (n == ls)
            return ir_diag_set(d, IR_ERR_INPUT, "layer map '%s': more than the "
                               "student's %lld layers", text, (long long)ls);
        map[n++] = v;
        p += len;
        if (*p == ',')
            p++;
    }
    if (n != ls)
        return ir_diag_set(d, IR_ERR_INPUT, "layer map '%s': %lld entries for "
                           "%lld student layers", text ? text : "",
                           (long long)n, (long long)ls);
    return IR_OK;
}

void student_init_random(train_params *s, uint64_t seed)
{
    train_params_init_random(s, seed, 0.02f);
}

/* ---- init from the teacher ----------------------------------------------- */

typedef struct scored { double s; int64_t i; } scored;

static int cmp_score_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->i < y->i ? -1 : (x->i > y->i);
}
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : (x > y);
}

/* The k indices with the largest scores (ties: lower index), ascending,
 * or by decreasing score when ordered. */
static bool top_k(const double *score, int64_t n, int64_t k, bool ordered,
                  int64_t *out)
{
    scored *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return false;
    for (int64_t i = 0; i < n; i++)
        v[i] = (scored){score[i], i};
    qsort(v, (size_t)n, sizeof *v, cmp_score_desc);
    for (int64_t i = 0; i < k; i++)
        out[i] = v[i].i;
    free(v);
    if (!ordered)
        qsort(out, (size_t)k, sizeof *out, cmp_i64);
    return true;
}

/* Adds each column's share of m's total sum of squares into imp[col] (cols
 * = true) or each row's (cols = false): every matrix counts equally. */
static void add_importance(double *imp, const float *m, int64_t rows,
                           int64_t cols, bool by_col)
{
    double total = 0;
    for (int64_t i = 0; i < rows * cols; i++)
        total += (double)m[i] * m[i];
    if (total <= 0)
        return;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            double v = (double)m[r * cols + c] * m[r * cols + c] / total;
            imp[by_col ? c : r] += v;
        }
}

/* Top-E eigenvectors of the symmetric PSD g [n,n] into q [n,E] by
 * orthogonal iteration (Golub & Van Loan §8.2.4): q = orth(g·q). */
static void top_eigvecs(struct gemm_ctx *gc, float *q, const float *g,
                        int64_t n, int64_t e)
{
    float *z = malloc((size_t)(n * e) * sizeof *z);
    for (int64_t i = 0; i < n * e; i++)
        q[i] = train_rng_normal(7, (uint64_t)i);
    for (int it = 0; it < 60; it++) {
        if (it > 0) {
            train_matmul_ctx(gc, 0, 0, (size_t)n, (size_t)e, (size_t)n, 1.0f, g,
                         (size_t)n, q, (size_t)e, 0.0f, z, (size_t)e);
            memcpy(q, z, (size_t)(n * e) * sizeof *q);
        }
        /* modified Gram-Schmidt on the columns */
        for (int64_t j = 0; j < e; j++) {
            for (int64_t p = 0; p < j; p++) {
                double dot = 0;
                for (int64_t r = 0; r < n; r++)
                    dot += (double)q[r * e + j] * q[r * e + p];
                for (int64_t r = 0; r < n; r++)
                    q[r * e + j] -= (float)dot * q[r * e + p];
            }
            double nn = 0;
            for (int64_t r = 0; r < n; r++)
                nn += (double)q[r * e + j] * q[r * e + j];
            float inv = nn > 1e-30 ? (float)(1.0 / sqrt(nn)) : 0.0f;
            for (int64_t r = 0; r < n; r++)
                q[r * e + j] *= inv;
        }
    }
    free(z);
}

static double col_norm(const float *m, int64_t ld, int64_t col,
                       const int64_t *rows, int64_t nrows)
{
    double s = 0;
    for (int64_t r = 0; r < nrows; r++) {
        double v = m[rows[r] * ld + col];
        s += v * v;
    }
    return sqrt(s);
}
static double row_norm(const float *m, int64_t ld, int64_t row,
                       const int64_t *cols, int64_t ncols)
{
    double s = 0;
    for (int64_t c = 0; c < ncols; c++) {
        double v = m[row * ld + cols[c]];
        s += v * v;
    }
    return sqrt(s);
}

/* First student layer that uses group g in map (attention or FFN). */
static int64_t first_layer_of(const int64_t *groups, int64_t layers, int64_t g)
{
    for (int64_t l = 0; l < layers; l++)
        if (groups[l] == g)
            return l;
    return 0;
}

/* One attention group: heads and head dims by magnitude; the teacher
 * heads kept go to heads_out [As] when not NULL. */
static ir_status init_attention(train_attn_w *sw, const train_attn_w *tw,
                                const ir_encoder_config *sc,
                                const ir_encoder_config *tc,
                                const int64_t *keep, bool ordered,
                                int64_t *heads_out, ir_diag *d)
{
    int64_t Ht = tc->hidden, At = tc->heads, hst = Ht / At;
    int64_t Hs = sc->hidden, As = sc->heads, hss = Hs / As;
    double *hscore = calloc((size_t)At, sizeof *hscore);
    double *dscore = calloc((size_t)hst, sizeof *dscore);
    int64_t *heads = malloc((size_t)As * sizeof *heads);
    int64_t *dims = malloc((size_t)hss * sizeof *dims);
    int64_t *colmap = malloc((size_t)Hs * sizeof *colmap); /* student -> teacher */
    if (!hscore || !dscore || !heads || !dims || !colmap) {
        free(hscore); free(dscore); free(heads); free(dims); free(colmap);
        return ir_diag_set(d, IR_ERR_NOMEM, "student init: out of memory");
    }
    const float *qkv = tw->qkv_w; /* [Ht,3Ht] */
    for (int64_t h = 0; h < At; h++)
        for (int64_t j = 0; j < hst; j++) {
            int64_t c = h * hst + j;
            for (int blk = 0; blk < 3; blk++) {
                double n = col_norm(qkv, 3 * Ht, blk * Ht + c, keep, Hs);
                hscore[h] += n * n;
            }
            double o = row_norm(tw->out_w, Ht, c, keep, Hs);
            hscore[h] += o * o;
        }
    top_k(hscore, At, As, ordered, heads);
    if (heads_out)
        memcpy(heads_out, heads, (size_t)As * sizeof *heads);
    for (int64_t hp = 0; hp < As; hp++) {
        int64_t h = heads[hp];
        for (int64_t j = 0; j < hst; j++) {
            int64_t c = h * hst + j;
            dscore[j] = col_norm(qkv, 3 * Ht, c, keep, Hs) *
                            col_norm(qkv, 3 * Ht, Ht + c, keep, Hs) +
                        col_norm(qkv, 3 * Ht, 2 * Ht + c, keep, Hs) *
                            row_norm(tw->out_w, Ht, c, keep, Hs);
        }
        top_k(dscore, hst, hss, ordered, dims);
        for (int64_t jp = 0; jp < hss; jp++)
            colmap[hp * hss + jp] = h * hst + dims[jp];
    }
    /* q is scaled so q·k / sqrt(hss) keeps the teacher's q·k / sqrt(hst). */
    float qscale = (float)sqrt((double)hss / (double)hst);
    for (int blk = 0; blk < 3; blk++) {
        float sc_ = blk == 0 ? qscale : 1.0f;
        for (int64_t r = 0; r < Hs; r++)
            for (int64_t c = 0; c < Hs; c++)
                sw->qkv_w[r * 3 * Hs + blk * Hs + c] =
                    sc_ * qkv[keep[r] * 3 * Ht + blk * Ht + colmap[c]];
        for (int64_t c = 0; c < Hs; c++)
            sw->qkv_b[blk * Hs + c] = sc_ * tw->qkv_b[blk * Ht + colmap[c]];
    }
    for (int64_t c = 0; c < Hs; c++)
        for (int64_t r = 0; r < Hs; r++)
            sw->out_w[c * Hs + r] = tw->out_w[colmap[c] * Ht + keep[r]];
    for (int64_t r = 0; r < Hs; r++) {
        sw->out_b[r] = tw->out_b[keep[r]];
        sw->ln_g[r] = tw->ln_g[keep[r]];
        sw->ln_b[r] = tw->ln_b[keep[r]];
    }
    free(hscore); free(dscore); free(heads); free(dims); free(colmap);
    return IR_OK;
}

/* One FFN group: neurons by |in_f|·|out_f|. */
static ir_status init_ffn(train_ffn_w *sw, const train_ffn_w *tw,
                          const ir_encoder_config *sc,
                          const ir_encoder_config *tc, const int64_t *keep,
                          bool ordered, ir_diag *d)
{
    int64_t Ht = tc->hidden, Ft = tc->ffn, Hs = sc->hidden, Fs = sc->ffn;
    double *score = malloc((size_t)Ft * sizeof *score);
    int64_t *sel = malloc((size_t)Fs * sizeof *sel);
    if (!score || !sel) {
        free(score); free(sel);
        return ir_diag_set(d, IR_ERR_NOMEM, "student init: out of memory");
    }
    for (int64_t f = 0; f < Ft; f++)
        score[f] = col_norm(tw->in_w, Ft, f, keep, Hs) *
                   row_norm(tw->out_w, Ht, f, keep, Hs);
    top_k(score, Ft, Fs, ordered, sel);
    for (int64_t r = 0; r < Hs; r++)
        for (int64_t f = 0; f < Fs; f++)
            sw->in_w[r * Fs + f] = tw->in_w[keep[r] * Ft + sel[f]];
    for (int64_t f = 0; f < Fs; f++) {
        sw->in_b[f] = tw->in_b[sel[f]];
        for (int64_t r = 0; r < Hs; r++)
            sw->out_w[f * Hs + r] = tw->out_w[sel[f] * Ht + keep[r]];
    }
    for (int64_t r = 0; r < Hs; r++) {
        sw->out_b[r] = tw->out_b[keep[r]];
        sw->ln_g[r] = tw->ln_g[keep[r]];
        sw->ln_b[r] = tw->ln_b[keep[r]];
    }
    free(score); free(sel);
    return IR_OK;
}

/* ELECTRA-small / ALBERT: tables E wide, LayerNorm in E, then E -> H. */
static bool after_ln(const ir_encoder_config *c)
{
    return c->embed > 0 && c->embed_kind == IR_ENC_EMBED_PROJECT_AFTER_LN;
}

/* The teacher's embeddings as H_t-wide tables, the form a student that
 * sums and normalises H wide starts from (pointers into t, or into *owned,
 * one allocation to free):
 * - unfactorized: the tables themselves;
 * - project_word: word · proj, the rest as they are;
 * - project_after_ln: every table · proj; as the LayerNorm's shift
 *   beta · proj + proj_bias, and as its gain per output dim c the spread
 *   the projection gives unit-variance normalised inputs,
 *   sqrt(sum_e (gamma_e proj[e,c])^2). LayerNorm and projection do not
 *   commute, so this is a start, which the embedding loss corrects. */
typedef struct wide_tables {
    const float *word, *pos, *type; /* [V,Ht] [P,Ht] [TV,Ht] */
    const float *gamma, *beta;      /* [Ht] */
} wide_tables;

static ir_status teacher_wide_tables(const train_params *t, struct gemm_ctx *gc,
                                     wide_tables *w, float **owned, ir_diag *d)
{
    const ir_encoder_config *tc = &t->cfg;
    size_t V = (size_t)tc->vocab, P = (size_t)tc->max_positions;
    size_t TV = (size_t)tc->type_vocab, Ht = (size_t)tc->hidden;
    size_t Et = tc->embed ? (size_t)tc->embed : Ht;
    bool aln = after_ln(tc);
    *w = (wide_tables){t->w.word, t->w.pos, t->w.type, t->w.eln_g, t->w.eln_b};
    *owned = NULL;
    if (!tc->embed)
        return IR_OK;
    size_t n = V * Ht + (aln ? (P + TV + 2) * Ht : 0);
    float *m = malloc(n * sizeof *m);
    if (!m)
        return ir_diag_set(d, IR_ERR_NOMEM, "student init: out of memory");
    *owned = m;
    float *word = m;
    train_matmul_ctx(gc, 0, 0, V, Ht, Et, 1.0f, t->w.word, Et, t->w.proj, Ht,
                     0.0f, word, Ht);
    w->word = word;
    if (!aln)
        return IR_OK;
    float *pos = word + V * Ht, *type = pos + P * Ht;
    float *gamma = type + TV * Ht, *beta = gamma + Ht;
    train_matmul_ctx(gc, 0, 0, P, Ht, Et, 1.0f, t->w.pos, Et, t->w.proj, Ht,
                     0.0f, pos, Ht);
    train_matmul_ctx(gc, 0, 0, TV, Ht, Et, 1.0f, t->w.type, Et, t->w.proj, Ht,
                     0.0f, type, Ht);
    for (size_t c = 0; c < Ht; c++) {
        double g2 = 0, b = t->w.proj_b[c];
        for (size_t e = 0; e < Et; e++) {
            double pe = t->w.proj[e * Ht + c];
            g2 += (double)t->w.eln_g[e] * t->w.eln_g[e] * pe * pe;
            b += (double)t->w.eln_b[e] * pe;
        }
        gamma[c] = (float)sqrt(g2);
        beta[c] = (float)b;
    }
    *w = (wide_tables){word, pos, type, gamma, beta};
    return IR_OK;
}

/* Embeddings of a student that normalises H wide (unfactorized or
 * project_word): the teacher's tables at width H_t (teacher_wide_tables)
 * sliced to the kept dims, the word table then factorized through its
 * top-E eigenvectors when the student is. */
static ir_status init_embeddings_wide(train_params *s, const train_params *t,
                                      const int64_t *keep, ir_diag *d)
{
    const ir_encoder_config *sc = &s->cfg, *tc = &t->cfg;
    int64_t V = tc->vocab, Ht = tc->hidden, Hs = sc->hidden;
    wide_tables wt;
    float *owned = NULL;
    ir_status st = teacher_wide_tables(t, s->gemm, &wt, &owned, d);
    if (st != IR_OK)
        return st;
    float *ws = sc->embed ? malloc((size_t)(V * Hs) * sizeof *ws) : s->w.word;
    if (!ws) {
        free(owned);
        return ir_diag_set(d, IR_ERR_NOMEM, "student init: out of memory");
    }
    for (int64_t v = 0; v < V; v++)
        for (int64_t c = 0; c < Hs; c++)
            ws[v * Hs + c] = wt.word[v * Ht + keep[c]];
    if (sc->embed) {
        int64_t Es = sc->embed;
        float *g = malloc((size_t)(Hs * Hs) * sizeof *g);
        float *q = malloc((size_t)(Hs * Es) * sizeof *q);
        if (!g || !q) {
            free(g); free(q); free(ws); free(owned);
            return ir_diag_set(d, IR_ERR_NOMEM, "student init: out of memory");
        }
        train_matmul_ctx(s->gemm, 1, 0, (size_t)Hs, (size_t)Hs, (size_t)V, 1.0f, ws,
                     (size_t)Hs, ws, (size_t)Hs, 0.0f, g, (size_t)Hs);
        top_eigvecs(s->gemm, q, g, Hs, Es);
        /* word = ws · q [V,Es]; proj = qᵀ [Es,Hs] */
        train_matmul_ctx(s->gemm, 0, 0, (size_t)V, (size_t)Es, (size_t)Hs, 1.0f, ws,
                     (size_t)Hs, q, (size_t)Es, 0.0f, s->w.word, (size_t)Es);
        for (int64_t e = 0; e < Es; e++)
            for (int64_t c = 0; c < Hs; c++)
                s->w.proj[e * Hs + c] = q[c * Es + e];
        free(g); free(q); free(ws);
    }
    for (int64_t p = 0; p < tc->max_positions; p++)
        for (int64_t c = 0; c < Hs; c++)
            s->w.pos[p * Hs + c] = wt.pos[p * Ht + keep[c]];
    for (int64_t p = 0; p < tc->type_vocab; p++)
        for (int64_t c = 0; c < Hs; c++)
            s->w.type[p * Hs + c] = wt.type[p * Ht + keep[c]];
    for (int64_t c = 0; c < Hs; c++) {
        s->w.eln_g[c] = wt.gamma[keep[c]];
        s->w.eln_b[c] = wt.beta[keep[c]];
    }
    free(owned);
    return IR_OK;
}

/* Embeddings projected after their LayerNorm, from a teacher that has
 * them too: the E_s teacher embedding dims with the most weight (every
 * table's column, the LayerNorm gamma, the projection's row), their
 * columns of the tables and the LayerNorm, and the projection's rows of
 * them and columns of the kept H dims. E_s = E_t and H_s = H_t copy the
 * teacher's embeddings exactly. */
static ir_status init_embeddings_after_ln(train_params *s, const train_params *t,
                                          const int64_t *keep, bool ordered,
                                          ir_diag *d)
{
    const ir_encoder_config *sc = &s->cfg, *tc = &t->cfg;
    int64_t Et = tc->embed, Es = sc->embed, Ht = tc->hidden, Hs = sc->hidden;
    double *imp = calloc((size_t)Et, sizeof *imp);
    int64_t *ke = malloc((size_t)Es * sizeof *ke);
    if (!imp || !ke) {
        free(imp); free(ke);
        return ir_diag_set(d, IR_ERR_NOMEM, "student init: out of memory");
    }
    add_importance(imp, t->w.word, tc->vocab, Et, true);
    add_importance(imp, t->w.pos, tc->max_positions, Et, true);
    add_importance(imp, t->w.type, tc->type_vocab, Et, true);
    add_importance(imp, t->w.eln_g, 1, Et, true);
    add_importance(imp, t->w.proj, Et, Ht, false);
    bool ok = top_k(imp, Et, Es, ordered, ke);
    free(imp);
    if (!ok) {
        free(ke);
        return ir_diag_set(d, IR_ERR_NOMEM, "student init: out of memory");
    }
    struct { float *dst; const float *src; int64_t rows; } tab[] = {
        {s->w.word, t->w.word, tc->vocab},
        {s->w.pos, t->w.pos, tc->max_positions},
        {s->w.type, t->w.type, tc->type_vocab},
        {s->w.eln_g, t->w.eln_g, 1},
        {s->w.eln_b, t->w.eln_b, 1},
    };
    for (size_t k = 0; k < sizeof tab / sizeof tab[0]; k++)
        for (int64_t r = 0; r < tab[k].rows; r++)
            for (int64_t e = 0; e < Es; e++)
                tab[k].dst[r * Es + e] = tab[k].src[r * Et + ke[e]];
    for (int64_t e = 0; e < Es; e++)
        for (int64_t c = 0; c < Hs; c++)
            s->w.proj[e * Hs + c] = t->w.proj[ke[e] * Ht + keep[c]];
    for (int64_t c = 0; c < Hs; c++)
        s->w.proj_b[c] = t->w.proj_b[keep[c]];
    free(ke);
    return IR_OK;
}

/* init_from_teacher has checked that a student projecting after its
 * LayerNorm has a teacher that does too. */
static ir_status init_embeddings(train_params *s, const train_params *t,
                                 const int64_t *keep, bool ordered, ir_diag *d)
{
    if (after_ln(&s->cfg))
        return init_embeddings_after_ln(s, t, keep, ordered, d);
    return init_embeddings_wide(s, t, keep, d);
}

/* The H_s residual dims with the most weight (student.h). */
static void hidden_importance(double *imp, const train_params *t)
{
    const ir_encoder_config *c = &t->cfg;
    int64_t H = c->hidden, F = c->ffn, E = c->embed ? c->embed : H;
    if (c->embed)
        add_importance(imp, t->w.proj, E, H, true);
    else
        add_importance(imp, t->w.word, c->vocab, H, true);
    if (after_ln(c)) {
        /* the tables and their LayerNorm are E wide: H is the projection's */
        add_importance(imp, t->w.proj_b, 1, H, true);
    } else {
        add_importance(imp, t->w.pos, c->max_positions, H, true);
        add_importance(imp, t->w.type, c->type_vocab, H, true);
        add_importance(imp, t->w.eln_g, 1, H, true);
    }
    for (int64_t a = 0; a < c->n_attn_groups; a++) {
        add_importance(imp, t->w.attn[a].qkv_w, H, 3 * H, false);
        add_importance(imp, t->w.attn[a].out_w, H, H, true);
        add_importance(imp, t->w.attn[a].ln_g, 1, H, true);
    }
    for (int64_t f = 0; f < c->n_ffn_groups; f++) {
        add_importance(imp, t->w.ffn[f].in_w, H, F, false);
        add_importance(imp, t->w.ffn[f].out_w, F, H, true);
        add_importance(imp, t->w.ffn[f].ln_g, 1, H, true);
    }
    add_importance(imp, t->w.pool_w, H, H, false);
    add_importance(imp, t->w.pool_w, H, H, true);
    add_importance(imp, t->w.head_w, H, c->labels, false);
}

static ir_status init_from_teacher(train_params *s, const train_params *t,
                                   const int64_t *layer_map, int64_t *keep_dims,
                                   bool ordered, ir_diag *d)
{
    const ir_encoder_config *sc = &s->cfg, *tc = &t->cfg;
    if (after_ln(sc) && !after_ln(tc))
        return ir_diag_set(d, IR_ERR_UNSUPPORTED, "student embed_kind = "
                           "project_after_ln: its embeddings are initialised "
                           "from a teacher that projects after the LayerNorm "
                           "too (ELECTRA-small, ALBERT); this teacher's are "
                           "%s (use --init random)",
                           tc->embed ? ir_enc_embed_name(tc->embed_kind)
                                     : "unfactorized");
#define WIDER(what, a, b)                                                      \
    if ((a) > (b))                                                            \
        return ir_diag_set(d, IR_ERR_UNSUPPORTED, "student %s = %lld is more "  \
                           "than the teacher's %lld: cannot initialise from "  \
                           "the teacher (use --init random)", what,           \
                           (long long)(a), (long long)(b))
    WIDER("hidden", sc->hidden, tc->hidden);
    WIDER("heads", sc->heads, tc->heads);
    WIDER("head size", sc->hidden / sc->heads, tc->hidden / tc->heads);
    WIDER("ffn", sc->ffn, tc->ffn);
    /* after the LayerNorm: columns of the teacher's E; else eigenvectors
     * of an [H_s,H_s] matrix */
    WIDER("embed", sc->embed, after_ln(sc) ? tc->embed : sc->hidden);
#undef WIDER
    if (sc->vocab != tc->vocab || sc->max_positions != tc->max_positions ||
        sc->type_vocab != tc->type_vocab || sc->labels != tc->labels)
        return ir_diag_set(d, IR_ERR_INPUT, "student and teacher differ in "
                           "vocab, positions, type vocab or labels");
    for (int64_t m = 0; m < sc->layers; m++)
        if (layer_map[m] < 1 || layer_map[m] > tc->layers)
            return ir_diag_set(d, IR_ERR_INPUT, "layer map: student layer "
                               "%lld maps to teacher layer %lld, outside "
                               "1..%lld", (long long)m + 1,
                               (long long)layer_map[m], (long long)tc->layers);
    int64_t Ht = tc->hidden, Hs = sc->hidden;
    double *imp = calloc((size_t)Ht, sizeof *imp);
    int64_t *keep = malloc((size_t)Hs * sizeof *keep);
    if (!imp || !keep) {
        free(imp); free(keep);
        return ir_diag_set(d, IR_ERR_NOMEM, "student init: out of memory");
    }
    hidden_importance(imp, t);
    top_k(imp, Ht, Hs, ordered, keep);
    ir_status st = init_embeddings(s, t, keep, ordered, d);
    int64_t *heads = malloc((size_t)sc->heads * sizeof *heads);
    if (st == IR_OK && !heads)
        st = ir_diag_set(d, IR_ERR_NOMEM, "student init: out of memory");
    for (int64_t a = 0; st == IR_OK && a < sc->n_attn_groups; a++) {
        int64_t l = first_layer_of(sc->attn_group, sc->layers, a);
        int64_t ta = tc->attn_group[layer_map[l] - 1];
        st = init_attention(&s->w.attn[a], &t->w.attn[ta], sc, tc, keep, ordered,
                            a == 0 ? heads : NULL, d);
    }
    /* MPNet's relative position bias: one table for all layers, so its
     * columns follow the heads the first attention group kept */
    if (st == IR_OK && heads && s->w.rel_bias && t->w.rel_bias &&
        sc->rel_buckets == tc->rel_buckets &&
        sc->rel_max_distance == tc->rel_max_distance &&
        sc->rel_bidirectional == tc->rel_bidirectional)
        for (int64_t b = 0; b < sc->rel_buckets; b++)
            for (int64_t hp = 0; hp < sc->heads; hp++)
                s->w.rel_bias[b * sc->heads + hp] =
                    t->w.rel_bias[b * tc->heads + heads[hp]];
    free(heads);
    for (int64_t f = 0; st == IR_OK && f < sc->n_ffn_groups; f++) {
        int64_t l = first_layer_of(sc->ffn_group, sc->layers, f);
        int64_t tf = tc->ffn_group[layer_map[l] - 1];
        st = init_ffn(&s->w.ffn[f], &t->w.ffn[tf], sc, tc, keep, ordered, d);
    }
    if (st == IR_OK) {
        for (int64_t r = 0; r < Hs; r++) {
            for (int64_t c = 0; c < Hs; c++)
                s->w.pool_w[r * Hs + c] = t->w.pool_w[keep[r] * Ht + keep[c]];
            s->w.pool_b[r] = t->w.pool_b[keep[r]];
            for (int64_t k = 0; k < sc->labels; k++)
                s->w.head_w[r * sc->labels + k] =
                    t->w.head_w[keep[r] * tc->labels + k];
        }
        memcpy(s->w.head_b, t->w.head_b, (size_t)sc->labels * sizeof(float));
        if (keep_dims)
            memcpy(keep_dims, keep, (size_t)Hs * sizeof *keep);
    }
    free(imp);
    free(keep);
    return st;
}

ir_status student_init_from_teacher(train_params *s, const train_params *t,
                                    const int64_t *layer_map,
                                    int64_t *keep_dims, ir_diag *d)
{
    return init_from_teacher(s, t, layer_map, keep_dims, false, d);
}

ir_status student_init_from_teacher_ordered(train_params *s,
                                            const train_params *t,
                                            const int64_t *layer_map,
                                            int64_t *keep_dims, ir_diag *d)
{
    return init_from_teacher(s, t, layer_map, keep_dims, true, d);
}

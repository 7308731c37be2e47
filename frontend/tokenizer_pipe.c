/* tokenizer_pipe.c — running a BPE or Unigram pipeline (the stages are
 * drawn in tokenizer_pipe.h) on one text: the tok_engine that
 * tokenizer.c calls between reading the text and truncating, templating and
 * padding the ids. Also the small buffer helpers the stages share.
 *
 * Added tokens are found as HF's AddedVocabulary finds them: leftmost
 * match, the longest token at that place; a single_word token glued to a
 * word character is skipped; lstrip / rstrip take the whitespace before /
 * after the match into it. */
#include "frontend/tokenizer_pipe_model.h"
#include "ir/grow.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>

#include "frontend/unicode.h"

ir_status tok_pipe_oom(ir_diag *d)
{
    return ir_diag_set(d, IR_ERR_NOMEM, "tokenizer: out of memory");
}

ir_status tok_str_reserve(tok_str *s, size_t cap, ir_diag *d)
{
    if (cap <= s->cap)
        return IR_OK;
    size_t c = s->cap ? s->cap : 256;
    while (c < cap)
        c *= 2;
    char *p = realloc(s->p, c);
    if (!p)
        return tok_pipe_oom(d);
    s->p = p;
    s->cap = c;
    return IR_OK;
}

ir_status tok_str_put(tok_str *s, const char *p, size_t n, ir_diag *d)
{
    ir_status st = tok_str_reserve(s, s->n + n + 1, d);
    if (st != IR_OK)
        return st;
    if (n)
        memcpy(s->p + s->n, p, n);
    s->n += n;
    s->p[s->n] = '\0';
    return IR_OK;
}

ir_status tok_str_cp(tok_str *s, uint32_t cp, ir_diag *d)
{
    char b[4];
    return tok_str_put(s, b, uni_utf8_encode(cp, b), d);
}

ir_status tok_spans_push(tok_spans *s, size_t off, size_t len, bool origin,
                         ir_diag *d)
{
    if (!len)
        return IR_OK;
    tok_span *v = ir_grow(s->v, &s->cap, s->n + 1, 64, sizeof *v);
    if (!v)
        return tok_pipe_oom(d);
    s->v = v;
    s->v[s->n++] = (tok_span){off, len, origin};
    return IR_OK;
}

typedef struct pipe_scratch {
    const tok_tokenizer *owner; /* the regex clones belong to its pipeline */
    tok_str clean;              /* the input made valid UTF-8 */
    tok_str seg;                /* one normalised segment */
    tok_norm_scratch norm;
    tok_pretok_scratch pre;
    tok_bpe_scratch bpe;
    tok_unigram_scratch uni;
} pipe_scratch;

static void scratch_free(void *p)
{
    pipe_scratch *s = p;
    if (!s)
        return;
    free(s->clean.p);
    free(s->seg.p);
    tok_norm_scratch_free(&s->norm);
    tok_pretok_scratch_free(&s->pre);
    tok_bpe_scratch_free(&s->bpe);
    tok_unigram_scratch_free(&s->uni);
    free(s);
}

typedef struct prun {
    const tok_tokenizer *t;
    const tok_pipe *p;
    pipe_scratch *s;
    tok_ids *out;
    tok_word_fn fn;
    void *ctx;
    ir_diag *d;
} prun;

/* Pre-tokenizers, then the model on each word. */
static ir_status words(prun *r, const char *s, size_t n, bool origin)
{
    if (!n)
        return IR_OK;
    const tok_str *str;
    const tok_spans *sp;
    ir_status st = tok_pretok_run(r->p->pre, r->p->n_pre, &r->s->pre, s, n,
                                  origin, &str, &sp, r->d);
    for (size_t i = 0; st == IR_OK && i < sp->n; i++) {
        const char *w = str->p + sp->v[i].off;
        size_t len = sp->v[i].len;
        if (r->fn)
            r->fn(w, len, r->ctx);
        else if (r->p->unigram)
            st = tok_unigram_word(r->t, &r->p->uni, &r->s->uni, w, len, r->out,
                                  r->d);
        else
            st = tok_bpe_word(r->t, &r->p->bpe, &r->s->bpe, w, len, r->out,
                              r->d);
    }
    return st;
}

static bool is_word_char(uint32_t c)
{
    if (c < 0x80)
        return (c | 32) - 'a' < 26 || c - '0' < 10 || c == '_';
    uint32_t m = U_GET_GC_MASK((UChar32)c);
    return u_hasBinaryProperty((UChar32)c, UCHAR_ALPHABETIC) ||
           (m & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) || c == 0x200C ||
           c == 0x200D;
}

static uint32_t cp_before(const char *s, size_t i, size_t *start)
{
    size_t a = i - 1;
    while (a > 0 && ((unsigned char)s[a] & 0xC0) == 0x80)
        a--;
    uint32_t cp;
    uni_utf8_decode((const unsigned char *)s + a, i - a, &cp);
    *start = a;
    return cp;
}

/* The longest added token of the wanted kind at s[i..n), or NULL. */
static const tok_added *added_at(const tok_tokenizer *t, const char *s,
                                 size_t n, size_t i, bool normalized)
{
    const tok_added *best = NULL;
    for (size_t k = 0; k < t->n_added; k++) {
        const tok_added *a = &t->added[k];
        if (a->normalized == normalized && a->len <= n - i &&
            (!best || a->len > best->len) && memcmp(s + i, a->text, a->len) == 0)
            best = a;
    }
    return best;
}

typedef ir_status (*seg_fn)(prun *r, const char *s, size_t n, bool origin);

/* Splits s[0..n) at the added tokens of one kind: seg on the text between,
 * the token's id (or the token to fn) for each match. */
static ir_status split_added(prun *r, const char *s, size_t n, bool normalized,
                             bool origin, seg_fn seg)
{
    const tok_tokenizer *t = r->t;
    size_t done = 0;
    ir_status st;
    for (size_t i = 0; i < n; i++) {
        if (!t->added_first[(unsigned char)s[i]])
            continue;
        const tok_added *a = added_at(t, s, n, i, normalized);
        if (!a)
            continue;
        size_t start = i, stop = i + a->len, k;
        if (a->single_word) {
            uint32_t cp;
            bool glued = start > 0 && is_word_char(cp_before(s, start, &k));
            if (!glued && stop < n) {
                uni_utf8_decode((const unsigned char *)s + stop, n - stop, &cp);
                glued = is_word_char(cp);
            }
            if (glued) {
                i = stop - 1;
                continue;
            }
        }
        if (a->lstrip) {
            while (start > done) {
                uint32_t cp = cp_before(s, start, &k);
                if (!(uni_flags(cp) & UNI_SPACE))
                    break;
                start = k;
            }
        }
        if (a->rstrip) {
            while (stop < n) {
                uint32_t cp;
                size_t len = uni_utf8_decode((const unsigned char *)s + stop,
                                             n - stop, &cp);
                if (!(uni_flags(cp) & UNI_SPACE))
                    break;
                stop += len;
            }
        }
        if (start > done &&
            (st = seg(r, s + done, start - done, origin && done == 0)))
            return st;
        if (r->fn)
            r->fn(a->text, a->len, r->ctx);
        else if ((st = tok_ids_push(r->out, a->id, r->d)))
            return st;
        done = stop;
        i = stop - 1;
    }
    return done < n ? seg(r, s + done, n - done, origin && done == 0) : IR_OK;
}

/* One segment of the raw text: normalised, then split at the normalised
 * added tokens, then pre-tokenised. */
static ir_status segment(prun *r, const char *s, size_t n, bool origin)
{
    const char *ns;
    size_t nn;
    ir_status st = tok_norm_run(r->p->norms, r->p->n_norms, &r->s->norm, s, n,
                                &ns, &nn, r->d);
    if (st != IR_OK)
        return st;
    if (!r->p->added_norm)
        return words(r, ns, nn, origin);
    /* The pre-tokenizers reuse no normaliser buffer, but keep a copy so
     * that the splitter reads stable text. */
    r->s->seg.n = 0;
    if ((st = tok_str_put(&r->s->seg, ns, nn, r->d)))
        return st;
    return split_added(r, r->s->seg.p, nn, true, origin, words);
}

/* The input as valid UTF-8: each ill-formed subsequence becomes U+FFFD, as
 * Python's decode(errors="replace") gives HF. */
static ir_status make_valid(pipe_scratch *s, const char *text, size_t n,
                            const char **out, ir_diag *d)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = p[i] < 0x80 ? 1 : uni_utf8_decode(p + i, n - i, &cp);
        if (p[i] >= 0x80 && cp == 0xFFFD &&
            !(k == 3 && p[i] == 0xEF && p[i + 1] == 0xBF && p[i + 2] == 0xBD))
            break;
        i += k;
    }
    *out = text;
    if (i == n)
        return IR_OK;
    s->clean.n = 0;
    ir_status st = tok_str_put(&s->clean, text, i, d);
    while (st == IR_OK && i < n) {
        uint32_t cp;
        i += uni_utf8_decode(p + i, n - i, &cp);
        st = tok_str_cp(&s->clean, cp, d);
    }
    *out = s->clean.p;
    return st;
}

static ir_status pipe_encode(const tok_tokenizer *t, const char *text,
                             size_t n, tok_ids *out, tok_word_fn fn, void *ctx,
                             void **scratch, ir_diag *d)
{
    pipe_scratch *s = *scratch;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return tok_pipe_oom(d);
        *scratch = s;
    }
    if (s->owner != t) {
        tok_norm_scratch_free(&s->norm); /* regex clones of another file */
        s->owner = t;
    }
    const char *valid;
    ir_status st = make_valid(s, text, n, &valid, d);
    if (st != IR_OK)
        return st;
    n = valid == text ? n : s->clean.n;
    prun r = {t, t->model, s, out, fn, ctx, d};
    if (!r.p->added_raw)
        return segment(&r, valid, n, true);
    return split_added(&r, valid, n, false, true, segment);
}

const tok_engine tok_pipe_engine = {pipe_encode, tok_pipe_free, scratch_free};

void tok_pipe_free(void *pipe)
{
    tok_pipe *p = pipe;
    if (!p)
        return;
    for (size_t i = 0; i < p->n_norms; i++)
        tok_norm_free(&p->norms[i]);
    free(p->norms);
    free(p->pre);
    tok_bpe_free(&p->bpe);
    tok_unigram_free(&p->uni);
    free(p);
}

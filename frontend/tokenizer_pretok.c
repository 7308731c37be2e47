/* tokenizer_pretok.c — running the pre-tokenizers of tokenizer_pretok.h
 * (Hugging Face pre_tokenizers/{byte_level,metaspace,whitespace}.rs
 * behaviour). Each stage reads the words of the previous one and writes
 * new words into the other buffer; empty words are dropped, as HF drops
 * empty splits. */
#include "frontend/tokenizer_pretok.h"

#include <stdlib.h>
#include <string.h>

#include "frontend/unicode.h"

typedef struct stage {
    const char *in; /* the word being split */
    bool origin;    /* it starts the input */
    tok_str *str;   /* output words */
    tok_spans *spans;
    ir_diag *d;
} stage;

/* ByteLevel: the piece's bytes as printable code points, one word. */
static ir_status bytelevel_piece(void *ctx, size_t off, size_t len)
{
    stage *g = ctx;
    size_t start = g->str->n;
    ir_status st = tok_str_reserve(g->str, start + 2 * len, g->d);
    if (st != IR_OK)
        return st;
    char *o = g->str->p + start;
    for (size_t i = 0; i < len; i++)
        o += tok_bytelevel_char((unsigned char)g->in[off + i], o);
    g->str->n = (size_t)(o - g->str->p);
    return tok_spans_push(g->spans, start, g->str->n - start, false, g->d);
}

static ir_status bytelevel(const tok_pretok *p, stage *g, const char *w,
                           size_t n, tok_str *tmp)
{
    if (p->add_prefix_space && w[0] != ' ') {
        tmp->n = 0;
        ir_status st;
        if ((st = tok_str_put(tmp, " ", 1, g->d)) ||
            (st = tok_str_put(tmp, w, n, g->d)))
            return st;
        w = tmp->p;
        n = tmp->n;
    }
    g->in = w;
    if (!p->use_regex)
        return bytelevel_piece(g, 0, n);
    return tok_bytelevel_split(w, n, bytelevel_piece, g);
}

/* Metaspace: spaces become the replacement, which is prepended, then each
 * replacement starts a new word (HF's MergedWithNext). */
static ir_status metaspace(const tok_pretok *p, stage *g, const char *w,
                           size_t n)
{
    tok_str *o = g->str;
    size_t start = o->n;
    ir_status st;
    bool starts_rep = n >= p->rep_len && memcmp(w, p->rep, p->rep_len) == 0;
    if (w[0] == ' ')
        starts_rep = true;
    bool pre = !starts_rep && (p->prepend == TOK_PREPEND_ALWAYS ||
                               (p->prepend == TOK_PREPEND_FIRST && g->origin));
    if (pre && (st = tok_str_put(o, p->rep, p->rep_len, g->d)))
        return st;
    for (size_t i = 0; i < n; i++) {
        st = w[i] == ' ' ? tok_str_put(o, p->rep, p->rep_len, g->d)
                         : tok_str_put(o, w + i, 1, g->d);
        if (st != IR_OK)
            return st;
    }
    if (!p->split)
        return tok_spans_push(g->spans, start, o->n - start, false, g->d);
    size_t word = start;
    for (size_t i = start; i < o->n;) {
        if (i > word && o->n - i >= p->rep_len &&
            memcmp(o->p + i, p->rep, p->rep_len) == 0) {
            if ((st = tok_spans_push(g->spans, word, i - word, false, g->d)))
                return st;
            word = i;
            i += p->rep_len;
        } else {
            i++;
        }
    }
    return tok_spans_push(g->spans, word, o->n - word, false, g->d);
}

static ir_status whitespace_split(stage *g, const char *w, size_t n)
{
    const unsigned char *u = (const unsigned char *)w;
    size_t word = 0;
    bool in_word = false;
    ir_status st;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = uni_utf8_decode(u + i, n - i, &cp);
        bool space = (uni_flags(cp) & UNI_SPACE) != 0;
        if (space && in_word) {
            size_t off = g->str->n;
            if ((st = tok_str_put(g->str, w + word, i - word, g->d)) ||
                (st = tok_spans_push(g->spans, off, i - word,
                                     g->origin && word == 0, g->d)))
                return st;
        }
        if (!space && !in_word)
            word = i;
        in_word = !space;
        i += k;
    }
    if (in_word) {
        size_t off = g->str->n;
        if ((st = tok_str_put(g->str, w + word, n - word, g->d)) ||
            (st = tok_spans_push(g->spans, off, n - word,
                                 g->origin && word == 0, g->d)))
            return st;
    }
    return IR_OK;
}

ir_status tok_pretok_run(const tok_pretok *pre, size_t n, tok_pretok_scratch *ps,
                         const char *in, size_t len, bool origin,
                         const tok_str **str, const tok_spans **spans,
                         ir_diag *d)
{
    /* The input as the one word of stage -1, in buffer 1. */
    tok_str *cur_s = &ps->str[1];
    tok_spans *cur_w = &ps->spans[1];
    cur_s->n = 0;
    cur_w->n = 0;
    ir_status st;
    if (len && ((st = tok_str_put(cur_s, in, len, d)) ||
                (st = tok_spans_push(cur_w, 0, len, origin, d))))
        return st;
    for (size_t k = 0; k < n; k++) {
        tok_str *next_s = &ps->str[k & 1];
        tok_spans *next_w = &ps->spans[k & 1];
        next_s->n = 0;
        next_w->n = 0;
        for (size_t i = 0; i < cur_w->n; i++) {
            const tok_span *sp = &cur_w->v[i];
            if (!sp->len)
                continue;
            stage g = {NULL, sp->origin, next_s, next_w, d};
            const char *w = cur_s->p + sp->off;
            switch (pre[k].kind) {
            case TOK_PRETOK_BYTELEVEL:
                st = bytelevel(&pre[k], &g, w, sp->len, &ps->tmp);
                break;
            case TOK_PRETOK_METASPACE:
                st = metaspace(&pre[k], &g, w, sp->len);
                break;
            case TOK_PRETOK_WHITESPACE_SPLIT:
                st = whitespace_split(&g, w, sp->len);
                break;
            default:
                st = ir_diag_set(d, IR_ERR_FAILED, "tokenizer: "
                                 "pre-tokenizer kind %d", (int)pre[k].kind);
            }
            if (st != IR_OK)
                return st;
        }
        cur_s = next_s;
        cur_w = next_w;
    }
    *str = cur_s;
    *spans = cur_w;
    return IR_OK;
}

void tok_pretok_scratch_free(tok_pretok_scratch *ps)
{
    for (int i = 0; i < 2; i++) {
        free(ps->str[i].p);
        free(ps->spans[i].v);
    }
    free(ps->tmp.p);
    memset(ps, 0, sizeof *ps);
}

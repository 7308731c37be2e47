/* tokenizer.c — encoding text with a loaded BERT tokenizer, following
 * Hugging Face tokenizers (normalizers/bert.rs, pre_tokenizers/bert.rs,
 * models/wordpiece, utils/truncation.rs, processors/template.rs):
 *
 *   raw text ─ split out added (special) tokens, matched on the raw bytes
 *     └ each other segment, one code point at a time:
 *        clean_text: drop NUL, U+FFFD, Cc/Cf/Co/Cs (not \t\n\r); whitespace
 *                    becomes ' '
 *        handle_chinese_chars: a CJK ideograph becomes a word of its own
 *        strip_accents: NFD, drop Mn       lowercase: per code point
 *        split: whitespace ends a word, punctuation is a word of its own
 *     └ each word: WordPiece greedy longest match, "##" continuations, a
 *       word longer than max_input_chars_per_word or with an unmatched
 *       rest is one [UNK]
 *   then truncation (longest_first), the template ([CLS] A [SEP] B [SEP])
 *   and padding.
 *
 * Streaming one code point at a time keeps it in one pass over the input
 * with no intermediate normalised string. Character classes come from the
 * generated tables in unicode_tables.c (see frontend/unicode.h). */
#include "frontend/tokenizer.h"

#include <stdlib.h>
#include <string.h>

#include "frontend/tokenizer_internal.h"
#include "frontend/unicode.h"

/* ---- vocabulary hash table ---------------------------------------------- */

uint64_t tok_hash_bytes(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static ir_status vocab_grow(tok_tokenizer *t, ir_diag *d)
{
    size_t n = t->n_slots ? t->n_slots * 2 : 1024;
    tok_vocab_slot *s = malloc(n * sizeof *s);
    if (!s)
        return ir_diag_set(d, IR_ERR_NOMEM, "tokenizer: out of memory");
    for (size_t i = 0; i < n; i++)
        s[i].id = -1;
    for (size_t i = 0; i < t->n_slots; i++) {
        if (t->slots[i].id < 0)
            continue;
        size_t j = t->slots[i].hash & (n - 1);
        while (s[j].id >= 0)
            j = (j + 1) & (n - 1);
        s[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = s;
    t->n_slots = n;
    return IR_OK;
}

ir_status tok_vocab_put(tok_tokenizer *t, const char *s, size_t n, int64_t id,
                        ir_diag *d)
{
    if ((t->n_tokens + 1) * 2 > t->n_slots && vocab_grow(t, d) != IR_OK)
        return d ? d->status : IR_ERR_NOMEM;
    uint64_t h = tok_hash_bytes(TOK_HASH_SEED, s, n);
    size_t j = h & (t->n_slots - 1);
    for (;; j = (j + 1) & (t->n_slots - 1)) {
        tok_vocab_slot *sl = &t->slots[j];
        if (sl->id < 0)
            break;
        if (sl->hash == h && sl->len == n &&
            memcmp(t->blob + sl->off, s, n) == 0) {
            sl->id = id; /* HF: a later line overwrites */
            return IR_OK;
        }
    }
    if (t->blob_len + n + 1 > t->blob_cap) {
        size_t cap = t->blob_cap ? t->blob_cap * 2 : 65536;
        while (cap < t->blob_len + n + 1)
            cap *= 2;
        char *nb = realloc(t->blob, cap);
        if (!nb)
            return ir_diag_set(d, IR_ERR_NOMEM, "tokenizer: out of memory");
        t->blob = nb;
        t->blob_cap = cap;
    }
    if (n > UINT32_MAX || t->blob_len > UINT32_MAX)
        return ir_diag_set(d, IR_ERR_INPUT, "tokenizer: vocabulary too large");
    memcpy(t->blob + t->blob_len, s, n);
    t->blob[t->blob_len + n] = '\0';
    t->slots[j] = (tok_vocab_slot){h, (uint32_t)t->blob_len, (uint32_t)n, id};
    t->blob_len += n + 1;
    t->n_tokens++;
    if (n > t->max_token_bytes)
        t->max_token_bytes = n;
    return IR_OK;
}

int64_t tok_vocab_find(const tok_tokenizer *t, const char *pre, size_t pre_n,
                       const char *s, size_t n)
{
    if (!t->n_slots)
        return -1;
    uint64_t h = tok_hash_bytes(tok_hash_bytes(TOK_HASH_SEED, pre, pre_n), s, n);
    for (size_t j = h & (t->n_slots - 1);; j = (j + 1) & (t->n_slots - 1)) {
        const tok_vocab_slot *sl = &t->slots[j];
        if (sl->id < 0)
            return -1;
        if (sl->hash == h && sl->len == pre_n + n &&
            memcmp(t->blob + sl->off, pre, pre_n) == 0 &&
            memcmp(t->blob + sl->off + pre_n, s, n) == 0)
            return sl->id;
    }
}

int64_t tok_token_id(const tok_tokenizer *tok, const char *token)
{
    return tok_vocab_find(tok, "", 0, token, strlen(token));
}

size_t tok_vocab_size(const tok_tokenizer *tok) { return tok->n_tokens; }

int64_t tok_pad_id(const tok_tokenizer *tok) { return tok->pad_id; }

void tok_vocab_each(const tok_tokenizer *tok, tok_vocab_fn fn, void *ctx)
{
    for (size_t j = 0; j < tok->n_slots; j++) {
        const tok_vocab_slot *sl = &tok->slots[j];
        if (sl->id >= 0)
            fn(sl->id, tok->blob + sl->off, sl->len, ctx);
    }
}

tok_options tok_options_default(void)
{
    return (tok_options){.lowercase = true, .strip_accents = -1,
                         .clean_text = true, .handle_chinese_chars = true};
}

/* ---- per-call working buffers ------------------------------------------- */

typedef struct scratch {
    char *word; /* the word being built, UTF-8 */
    size_t word_len, word_cap, word_chars;
    tok_ids ids[2]; /* token ids of text A and text B */
    void *engine;   /* the engine's working memory (tok_engine) */
    void (*engine_free)(void *);
} scratch;

ir_status tok_ids_push(tok_ids *a, int64_t id, ir_diag *d)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        int64_t *nv = realloc(a->v, cap * sizeof *nv);
        if (!nv)
            return ir_diag_set(d, IR_ERR_NOMEM, "tokenizer: out of memory");
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = id;
    return IR_OK;
}

static ir_status scratch_get(tok_encoding *enc, scratch **out, ir_diag *d)
{
    if (!enc->scratch) {
        enc->scratch = calloc(1, sizeof(scratch));
        if (!enc->scratch)
            return ir_diag_set(d, IR_ERR_NOMEM, "tokenizer: out of memory");
    }
    *out = enc->scratch;
    return IR_OK;
}

void tok_encoding_free(tok_encoding *enc)
{
    scratch *s = enc->scratch;
    if (s) {
        free(s->word);
        free(s->ids[0].v);
        free(s->ids[1].v);
        if (s->engine)
            s->engine_free(s->engine);
        free(s);
    }
    free(enc->input_ids);
    free(enc->token_type_ids);
    free(enc->attention_mask);
    memset(enc, 0, sizeof *enc);
}

/* ---- one text -> words -> ids ------------------------------------------- */

typedef struct run {
    const tok_tokenizer *t;
    scratch *s;
    tok_ids *out;    /* ids go here ... */
    tok_word_fn fn; /* ... or words go to fn */
    void *ctx;
    ir_diag *d;
} run;

static ir_status word_putc(run *r, uint32_t cp)
{
    scratch *s = r->s;
    if (s->word_len + 4 > s->word_cap) {
        size_t cap = s->word_cap ? s->word_cap * 2 : 256;
        char *nw = realloc(s->word, cap);
        if (!nw)
            return ir_diag_set(r->d, IR_ERR_NOMEM, "tokenizer: out of memory");
        s->word = nw;
        s->word_cap = cap;
    }
    if (cp < 0x80)
        s->word[s->word_len++] = (char)cp;
    else
        s->word_len += uni_utf8_encode(cp, s->word + s->word_len);
    s->word_chars++;
    return IR_OK;
}

static int is_cont(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

/* WordPiece (HF models/wordpiece/mod.rs, tokenize): greedy longest match
 * from the left; pieces after the first carry the continuing prefix. */
static ir_status wordpiece(run *r, const char *w, size_t n, size_t nchars)
{
    const tok_tokenizer *t = r->t;
    if (nchars > t->max_chars)
        return tok_ids_push(r->out, t->unk_id, r->d);
    size_t base = r->out->n, start = 0;
    while (start < n) {
        size_t end = n;
        if (end - start > t->max_token_bytes) {
            end = start + t->max_token_bytes;
            while (end > start && is_cont(w[end]))
                end--;
        }
        int64_t id = -1;
        while (end > start) {
            id = start ? tok_vocab_find(t, t->prefix, t->prefix_len, w + start,
                                        end - start)
                       : tok_vocab_find(t, "", 0, w, end);
            if (id >= 0)
                break;
            end--;
            while (end > start && is_cont(w[end]))
                end--;
        }
        if (id < 0) {
            r->out->n = base;
            return tok_ids_push(r->out, t->unk_id, r->d);
        }
        ir_status st = tok_ids_push(r->out, id, r->d);
        if (st != IR_OK)
            return st;
        start = end;
    }
    return IR_OK;
}

static ir_status flush(run *r)
{
    scratch *s = r->s;
    if (!s->word_len)
        return IR_OK;
    ir_status st = IR_OK;
    if (r->fn)
        r->fn(s->word, s->word_len, r->ctx);
    else
        st = wordpiece(r, s->word, s->word_len, s->word_chars);
    s->word_len = 0;
    s->word_chars = 0;
    return st;
}

/* A code point after normalisation: BertPreTokenizer splits on whitespace
 * (removed) and punctuation (isolated). */
static ir_status split_char(run *r, uint32_t c)
{
    uint8_t f = uni_flags(c);
    ir_status st;
    if (f & UNI_SPACE)
        return flush(r);
    if (f & UNI_PUNCT) {
        if ((st = flush(r)) != IR_OK || (st = word_putc(r, c)) != IR_OK)
            return st;
        return flush(r);
    }
    return word_putc(r, c);
}

/* strip_accents then lowercase one code point (BertNormalizer order), each
 * result split. */
static ir_status norm_char(run *r, uint32_t cp)
{
    const tok_tokenizer *t = r->t;
    uint32_t a[UNI_MAP_MAX], b[UNI_MAP_MAX];
    size_t na = 1;
    a[0] = cp;
    if (t->strip)
        na = uni_strip(cp, a);
    for (size_t i = 0; i < na; i++) {
        size_t nb = 1;
        b[0] = a[i];
        if (t->opt.lowercase)
            nb = uni_lower(a[i], b);
        for (size_t j = 0; j < nb; j++) {
            ir_status st = split_char(r, b[j]);
            if (st != IR_OK)
                return st;
        }
    }
    return IR_OK;
}

static ir_status run_segment(run *r, const unsigned char *p, size_t n)
{
    const tok_tokenizer *t = r->t;
    bool clean = t->opt.clean_text, cjk = t->opt.handle_chinese_chars;
    bool lower = t->opt.lowercase;
    ir_status st = IR_OK;
    size_t i = 0;
    while (i < n) {
        uint32_t cp = p[i];
        if (cp < 0x80) {
            /* ASCII: no accents, no CJK; lowercase is A-Z only. */
            i++;
            uint8_t f = uni_flags(cp);
            if (clean && (f & UNI_CONTROL))
                continue;
            if (f & UNI_SPACE) {
                st = flush(r);
            } else if (f & UNI_PUNCT) {
                if ((st = flush(r)) == IR_OK && (st = word_putc(r, cp)) == IR_OK)
                    st = flush(r);
            } else {
                if (lower && cp >= 'A' && cp <= 'Z')
                    cp += 32;
                st = word_putc(r, cp);
            }
        } else {
            i += uni_utf8_decode(p + i, n - i, &cp);
            uint8_t f = uni_flags(cp);
            if (clean) {
                if (f & UNI_CONTROL)
                    continue;
                if (f & UNI_SPACE) {
                    st = flush(r);
                    if (st != IR_OK)
                        return st;
                    continue;
                }
            }
            if (cjk && (f & UNI_CJK)) {
                /* " c " in HF: a word of its own. */
                if ((st = flush(r)) == IR_OK && (st = norm_char(r, cp)) == IR_OK)
                    st = flush(r);
            } else {
                st = norm_char(r, cp);
            }
        }
        if (st != IR_OK)
            return st;
    }
    return flush(r);
}

/* Added tokens are found in the raw text first (leftmost, longest), and the
 * text between them is normalised and split on its own. */
static ir_status run_text(run *r, const char *text, size_t n)
{
    const tok_tokenizer *t = r->t;
    const unsigned char *p = (const unsigned char *)text;
    size_t seg = 0;
    ir_status st;
    if (t->engine) {
        scratch *s = r->s;
        if (s->engine && s->engine_free != t->engine->free_scratch) {
            s->engine_free(s->engine);
            s->engine = NULL;
        }
        s->engine_free = t->engine->free_scratch;
        return t->engine->encode(t, text, n, r->out, r->fn, r->ctx,
                                 &s->engine, r->d);
    }
    r->s->word_len = r->s->word_chars = 0;
    if (t->n_added) {
        for (size_t i = 0; i < n; i++) {
            if (!t->added_first[p[i]])
                continue;
            const tok_added *best = NULL;
            for (size_t k = 0; k < t->n_added; k++) {
                const tok_added *a = &t->added[k];
                if (a->len <= n - i && (!best || a->len > best->len) &&
                    memcmp(text + i, a->text, a->len) == 0)
                    best = &t->added[k];
            }
            if (!best)
                continue;
            if ((st = run_segment(r, p + seg, i - seg)) != IR_OK)
                return st;
            if (r->fn)
                r->fn(best->text, best->len, r->ctx);
            else if ((st = tok_ids_push(r->out, best->id, r->d)) != IR_OK)
                return st;
            i += best->len - 1;
            seg = i + 1;
        }
    }
    return run_segment(r, p + seg, n - seg);
}

ir_status tok_words(const tok_tokenizer *tok, const char *text, size_t len,
                    tok_word_fn fn, void *ctx, tok_encoding *enc, ir_diag *d)
{
    scratch *s = NULL;
    ir_status st = scratch_get(enc, &s, d);
    if (st != IR_OK)
        return st;
    run r = {tok, s, NULL, fn, ctx, d};
    return run_text(&r, text, len);
}

/* ---- truncation, template, padding -------------------------------------- */

/* HF utils/truncation.rs, TruncationStrategy::LongestFirst with stride 0:
 * for a pair, the shorter keeps min(its length, max/2) and the longer gets
 * the rest; when both must be cut, the longer (B on a tie) gets the odd
 * token. */
static void truncate_longest_first(size_t *na, size_t *nb, bool pair,
                                   size_t max_len)
{
    size_t total = *na + (pair ? *nb : 0);
    if (total <= max_len)
        return;
    if (!pair) {
        *na = max_len;
        return;
    }
    size_t n1 = *na, n2 = *nb;
    bool swap = false;
    if (n1 > n2) {
        size_t tmp = n1;
        n1 = n2;
        n2 = tmp;
        swap = true;
    }
    if (n1 > max_len)
        n2 = n1;
    else
        n2 = n1 > max_len - n1 ? n1 : max_len - n1;
    if (n1 + n2 > max_len) {
        n1 = max_len / 2;
        n2 = n1 + max_len % 2;
    }
    if (swap) {
        size_t tmp = n1;
        n1 = n2;
        n2 = tmp;
    }
    if (n1 < *na)
        *na = n1;
    if (n2 < *nb)
        *nb = n2;
}

static ir_status enc_reserve(tok_encoding *enc, size_t n, ir_diag *d)
{
    if (n <= enc->cap)
        return IR_OK;
    size_t cap = enc->cap ? enc->cap : 64;
    while (cap < n)
        cap *= 2;
    int64_t *a = realloc(enc->input_ids, cap * sizeof *a);
    if (a)
        enc->input_ids = a;
    int64_t *b = realloc(enc->token_type_ids, cap * sizeof *b);
    if (b)
        enc->token_type_ids = b;
    int64_t *c = realloc(enc->attention_mask, cap * sizeof *c);
    if (c)
        enc->attention_mask = c;
    if (!a || !b || !c)
        return ir_diag_set(d, IR_ERR_NOMEM, "tokenizer: out of memory");
    enc->cap = cap;
    return IR_OK;
}

static void enc_put(tok_encoding *enc, int64_t id, int64_t type, int64_t mask)
{
    enc->input_ids[enc->len] = id;
    enc->token_type_ids[enc->len] = type;
    enc->attention_mask[enc->len] = mask;
    enc->len++;
}

ir_status tok_encode_n(const tok_tokenizer *tok, const char *a, size_t a_len,
                       const char *b, size_t b_len, size_t max_seq, int flags,
                       tok_encoding *enc, ir_diag *d)
{
    scratch *s = NULL;
    ir_status st = scratch_get(enc, &s, d);
    if (st != IR_OK)
        return st;
    bool pair = b != NULL;
    const tok_template *tp = pair ? &tok->pair : &tok->single;
    if (max_seq && max_seq < tp->n_special)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "tokenizer: max_seq %zu is less than the %zu special "
                           "tokens a %s needs",
                           max_seq, tp->n_special, pair ? "pair" : "single text");
    s->ids[0].n = s->ids[1].n = 0;
    run r = {tok, s, &s->ids[0], NULL, NULL, d};
    if ((st = run_text(&r, a, a_len)) != IR_OK)
        return st;
    if (pair) {
        r.out = &s->ids[1];
        if ((st = run_text(&r, b, b_len)) != IR_OK)
            return st;
    }
    size_t na = s->ids[0].n, nb = s->ids[1].n;
    if (max_seq)
        truncate_longest_first(&na, &nb, pair, max_seq - tp->n_special);
    size_t total = na + nb + tp->n_special;
    size_t want = (flags & TOK_PAD) && max_seq > total ? max_seq : total;
    if ((st = enc_reserve(enc, want, d)) != IR_OK)
        return st;
    enc->len = 0;
    for (size_t i = 0; i < tp->n; i++) {
        const tok_piece *pc = &tp->pieces[i];
        if (pc->seq < 0) {
            for (size_t k = 0; k < pc->n_ids; k++)
                enc_put(enc, pc->ids[k], pc->type_id, 1);
        } else {
            size_t cnt = pc->seq == 0 ? na : nb;
            for (size_t k = 0; k < cnt; k++)
                enc_put(enc, s->ids[pc->seq].v[k], pc->type_id, 1);
        }
    }
    while (enc->len < want)
        enc_put(enc, tok->pad_id, 0, 0);
    return IR_OK;
}

ir_status tok_encode(const tok_tokenizer *tok, const char *a, const char *b,
                     size_t max_seq, int flags, tok_encoding *enc, ir_diag *d)
{
    return tok_encode_n(tok, a, strlen(a), b, b ? strlen(b) : 0, max_seq, flags,
                        enc, d);
}

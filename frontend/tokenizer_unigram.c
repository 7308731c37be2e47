/* tokenizer_unigram.c — Viterbi over a word with a Unigram model
 * (tokenizer_unigram.h; Hugging Face models/unigram behaviour). Pieces that
 * start at a position are found by hashing its growing prefixes once
 * (FNV-1a is incremental) and probing the vocabulary table with each; they
 * are tried shortest first and a later one must score strictly higher, so
 * ties go the way HF's trie walk sends them. */
#include "frontend/tokenizer_unigram.h"
#include "ir/grow.h"

#include <stdlib.h>
#include <string.h>

/* The id of s[0..n) whose hash is h, or -1. */
static int64_t find_hashed(const tok_tokenizer *t, uint64_t h, const char *s,
                           size_t n)
{
    if (!t->n_slots)
        return -1;
    for (size_t j = h & (t->n_slots - 1);; j = (j + 1) & (t->n_slots - 1)) {
        const tok_vocab_slot *sl = &t->slots[j];
        if (sl->id < 0)
            return -1;
        if (sl->hash == h && sl->len == n && memcmp(t->blob + sl->off, s, n) == 0)
            return sl->id;
    }
}

static size_t char_len(const char *w, size_t n, size_t i)
{
    size_t k = 1;
    while (i + k < n && ((unsigned char)w[i + k] & 0xC0) == 0x80)
        k++;
    return k;
}

static void relax(tok_unigram_node *to, double score, size_t from, int64_t id)
{
    if (!to->reached || score > to->score) {
        to->score = score;
        to->from = from;
        to->id = id;
        to->reached = true;
    }
}

/* HF looks every piece of the path up again by its text: a run of
 * unknowns can spell a piece. */
static ir_status emit(const tok_tokenizer *t, const tok_unigram *m,
                      const char *w, size_t a, size_t b, int64_t id,
                      tok_ids *out, ir_diag *d)
{
    if (id == m->unk_id) {
        int64_t real = tok_vocab_find(t, "", 0, w + a, b - a);
        if (real >= 0)
            return tok_ids_push(out, real, d);
    }
    if (id == m->unk_id && m->byte_fallback) {
        bool ok = true;
        for (size_t i = a; ok && i < b; i++)
            ok = m->byte_ids[(unsigned char)w[i]] >= 0;
        if (ok) {
            for (size_t i = a; i < b; i++) {
                ir_status st = tok_ids_push(out, m->byte_ids[(unsigned char)w[i]], d);
                if (st != IR_OK)
                    return st;
            }
            return IR_OK;
        }
    }
    if (id < 0)
        return ir_diag_set(d, IR_ERR_INPUT, "tokenizer: \"%.*s\" has no "
                           "piece and the Unigram model has no unk_id",
                           (int)(b - a), w + a);
    return tok_ids_push(out, id, d);
}

ir_status tok_unigram_word(const tok_tokenizer *t, const tok_unigram *m,
                           tok_unigram_scratch *s, const char *w, size_t n,
                           tok_ids *out, ir_diag *d)
{
    if (!n)
        return IR_OK;
    tok_unigram_node *nn = ir_grow(s->node, &s->cap, n + 1, 64, sizeof *nn);
    if (!nn)
        return tok_pipe_oom(d);
    s->node = nn;
    tok_unigram_node *nd = s->node;
    for (size_t i = 0; i <= n; i++)
        nd[i].reached = false;
    nd[0] = (tok_unigram_node){0.0, 0, -1, true};
    for (size_t i = 0; i < n;) {
        size_t k = char_len(w, n, i);
        double base = nd[i].score;
        bool single = false;
        uint64_t h = TOK_HASH_SEED;
        size_t lim = n - i < m->max_piece ? n - i : m->max_piece;
        for (size_t len = 1; len <= lim; len++) {
            h = tok_hash_bytes(h, w + i + len - 1, 1);
            if (len < lim && ((unsigned char)w[i + len] & 0xC0) == 0x80)
                continue; /* pieces end on a character boundary */
            int64_t id = find_hashed(t, h, w + i, len);
            if (id < 0 || (size_t)id >= m->n)
                continue;
            relax(&nd[i + len], base + m->score[id], i, id);
            single |= len == k;
        }
        if (!single)
            relax(&nd[i + k], base + m->unk_score, i, m->unk_id);
        i += k;
    }
    /* Back from the end; runs of unknowns become one. */
    s->rev.n = 0;
    size_t n_rev = 0;
    for (size_t at = n; at > 0; at = nd[at].from) {
        size_t *nf = ir_grow(s->rev_from, &s->rev_cap, n_rev + 1, 64,
                             sizeof *nf);
        if (!nf)
            return tok_pipe_oom(d);
        s->rev_from = nf;
        ir_status st = tok_ids_push(&s->rev, nd[at].id, d);
        if (st != IR_OK)
            return st;
        s->rev_from[n_rev++] = at;
    }
    /* rev[i] is the piece ending at rev_from[i]; it starts at rev_from[i+1]
     * (or 0). Walk forwards. */
    for (size_t i = n_rev; i-- > 0;) {
        size_t end = s->rev_from[i];
        size_t start = i + 1 < n_rev ? s->rev_from[i + 1] : 0;
        int64_t id = s->rev.v[i];
        if (id == m->unk_id) {
            while (i > 0 && s->rev.v[i - 1] == m->unk_id)
                end = s->rev_from[--i];
        }
        ir_status st = emit(t, m, w, start, end, id, out, d);
        if (st != IR_OK)
            return st;
    }
    return IR_OK;
}

void tok_unigram_free(tok_unigram *m)
{
    free(m->score);
    memset(m, 0, sizeof *m);
}

void tok_unigram_scratch_free(tok_unigram_scratch *s)
{
    free(s->node);
    free(s->rev.v);
    free(s->rev_from);
    memset(s, 0, sizeof *s);
}

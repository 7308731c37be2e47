/* tokenizer_bpe.c — encoding a word with a BPE model (tokenizer_bpe.h;
 * Hugging Face models/bpe behaviour without dropout). Words are short, so
 * each step scans the symbols for the best-ranked pair: the same result as
 * a priority queue of pairs, with no queue to keep. */
#include "frontend/tokenizer_bpe.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static const tok_bpe_merge *merge_find(const tok_bpe *m, uint64_t pair)
{
    if (!m->n_slots)
        return NULL;
    for (size_t j = mix(pair) & (m->n_slots - 1);; j = (j + 1) & (m->n_slots - 1)) {
        if (m->merges[j].pair == pair)
            return &m->merges[j];
        if (m->merges[j].pair == UINT64_MAX)
            return NULL;
    }
}

static ir_status merges_grow(tok_bpe *m, ir_diag *d)
{
    size_t n = m->n_slots ? m->n_slots * 2 : 1024;
    tok_bpe_merge *s = malloc(n * sizeof *s);
    if (!s)
        return tok_pipe_oom(d);
    for (size_t i = 0; i < n; i++)
        s[i].pair = UINT64_MAX;
    for (size_t i = 0; i < m->n_slots; i++) {
        if (m->merges[i].pair == UINT64_MAX)
            continue;
        size_t j = mix(m->merges[i].pair) & (n - 1);
        while (s[j].pair != UINT64_MAX)
            j = (j + 1) & (n - 1);
        s[j] = m->merges[i];
    }
    free(m->merges);
    m->merges = s;
    m->n_slots = n;
    return IR_OK;
}

ir_status tok_bpe_add_merge(tok_bpe *m, int64_t left, int64_t right,
                            int64_t merged, ir_diag *d)
{
    if (left < 0 || right < 0 || left > UINT32_MAX || right >= UINT32_MAX)
        return ir_diag_set(d, IR_ERR_INPUT, "tokenizer: merge ids out of range");
    if ((m->n_merges + 1) * 2 > m->n_slots && merges_grow(m, d) != IR_OK)
        return d ? d->status : IR_ERR_NOMEM;
    uint64_t pair = (uint64_t)left << 32 | (uint64_t)right;
    size_t j = mix(pair) & (m->n_slots - 1);
    while (m->merges[j].pair != UINT64_MAX) {
        if (m->merges[j].pair == pair)
            return IR_OK; /* a repeated rule keeps its first rank (HF) */
        j = (j + 1) & (m->n_slots - 1);
    }
    m->merges[j] = (tok_bpe_merge){pair, (uint32_t)m->n_merges, merged};
    m->n_merges++;
    return IR_OK;
}

static ir_status sym_push(tok_bpe_scratch *s, size_t *n, int64_t id,
                          ir_diag *d)
{
    if (*n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        tok_bpe_sym *ns = realloc(s->sym, cap * sizeof *ns);
        if (!ns)
            return tok_pipe_oom(d);
        s->sym = ns;
        s->cap = cap;
    }
    s->sym[(*n)++].id = id;
    return IR_OK;
}

/* The id of one character of the word, with the prefix when it is not the
 * first and the suffix when it is the last; -1 when absent. */
static int64_t char_id(const tok_tokenizer *t, const tok_bpe *m,
                       tok_bpe_scratch *s, const char *c, size_t k,
                       bool first, bool last, ir_diag *d)
{
    if ((first || !m->prefix_len) && (!last || !m->suffix_len))
        return tok_vocab_find(t, "", 0, c, k);
    s->key.n = 0;
    if ((!first && tok_str_put(&s->key, m->prefix, m->prefix_len, d)) ||
        tok_str_put(&s->key, c, k, d) ||
        (last && tok_str_put(&s->key, m->suffix, m->suffix_len, d)))
        return -2;
    return tok_vocab_find(t, "", 0, s->key.p, s->key.n);
}

ir_status tok_bpe_word(const tok_tokenizer *t, const tok_bpe *m,
                       tok_bpe_scratch *s, const char *w, size_t n,
                       tok_ids *out, ir_diag *d)
{
    ir_status st;
    if (m->ignore_merges) {
        int64_t id = tok_vocab_find(t, "", 0, w, n);
        if (id >= 0)
            return tok_ids_push(out, id, d);
    }
    size_t ns = 0;
    bool unk_pending = false;
    for (size_t i = 0; i < n;) {
        size_t k = 1;
        while (i + k < n && ((unsigned char)w[i + k] & 0xC0) == 0x80)
            k++;
        int64_t id = char_id(t, m, s, w + i, k, i == 0, i + k == n, d);
        if (id == -2)
            return tok_pipe_oom(d);
        if (id >= 0) {
            if (unk_pending && (st = sym_push(s, &ns, m->unk_id, d)))
                return st;
            unk_pending = false;
            if ((st = sym_push(s, &ns, id, d)))
                return st;
            i += k;
            continue;
        }
        bool bytes_ok = m->byte_fallback;
        for (size_t b = 0; bytes_ok && b < k; b++)
            bytes_ok = m->byte_ids[(unsigned char)w[i + b]] >= 0;
        if (bytes_ok) {
            if (unk_pending && (st = sym_push(s, &ns, m->unk_id, d)))
                return st;
            unk_pending = false;
            for (size_t b = 0; b < k; b++)
                if ((st = sym_push(s, &ns, m->byte_ids[(unsigned char)w[i + b]],
                                   d)))
                    return st;
        } else if (m->unk_id >= 0) {
            if (unk_pending && !m->fuse_unk &&
                (st = sym_push(s, &ns, m->unk_id, d)))
                return st;
            unk_pending = true;
        }
        i += k;
    }
    if (unk_pending && (st = sym_push(s, &ns, m->unk_id, d)))
        return st;
    /* Merge the best-ranked pair until none applies. */
    tok_bpe_sym *sy = s->sym;
    while (ns > 1) {
        size_t best = 0;
        const tok_bpe_merge *bm = NULL;
        for (size_t i = 0; i + 1 < ns; i++) {
            if (sy[i].id > UINT32_MAX || sy[i + 1].id > UINT32_MAX)
                continue;
            const tok_bpe_merge *mg = merge_find(
                m, (uint64_t)sy[i].id << 32 | (uint64_t)sy[i + 1].id);
            if (mg && (!bm || mg->rank < bm->rank)) {
                bm = mg;
                best = i;
            }
        }
        if (!bm)
            break;
        sy[best].id = bm->id;
        memmove(sy + best + 1, sy + best + 2, (ns - best - 2) * sizeof *sy);
        ns--;
    }
    for (size_t i = 0; i < ns; i++)
        if ((st = tok_ids_push(out, sy[i].id, d)))
            return st;
    return IR_OK;
}

void tok_bpe_free(tok_bpe *m)
{
    free(m->merges);
    free(m->prefix);
    free(m->suffix);
    memset(m, 0, sizeof *m);
}

void tok_bpe_scratch_free(tok_bpe_scratch *s)
{
    free(s->sym);
    free(s->key.p);
    memset(s, 0, sizeof *s);
}

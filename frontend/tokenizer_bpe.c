/* tokenizer_bpe.c — encoding a word with a BPE model (tokenizer_bpe.h;
 * Hugging Face models/bpe behaviour without dropout). The merge loop is
 * HF's word.merge_all: a min-heap of candidate merges ordered by (rank,
 * position of the left symbol), the symbols a linked list; a popped
 * candidate whose pair has changed since it was pushed is skipped. Each
 * merge pushes at most two candidates, so a word of n symbols costs
 * O(n log n). */
#include "frontend/tokenizer_bpe.h"
#include "ir/grow.h"

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
    tok_bpe_sym *ns = ir_grow(s->sym, &s->cap, *n + 1, 64, sizeof *ns);
    if (!ns)
        return tok_pipe_oom(d);
    s->sym = ns;
    s->sym[(*n)++] = (tok_bpe_sym){.id = id};
    return IR_OK;
}

/* ---- the candidate heap ------------------------------------------------- */

static bool cand_before(tok_bpe_cand a, tok_bpe_cand b)
{
    return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos);
}

static ir_status heap_push(tok_bpe_scratch *s, tok_bpe_cand c, ir_diag *d)
{
    tok_bpe_cand *h = ir_grow(s->heap, &s->heap_cap, s->heap_n + 1, 64,
                              sizeof *h);
    if (!h)
        return tok_pipe_oom(d);
    s->heap = h;
    size_t i = s->heap_n++;
    while (i > 0 && cand_before(c, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = c;
    return IR_OK;
}

static tok_bpe_cand heap_pop(tok_bpe_scratch *s)
{
    tok_bpe_cand *h = s->heap;
    tok_bpe_cand top = h[0], last = h[--s->heap_n];
    size_t n = s->heap_n, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && cand_before(h[c + 1], h[c]))
            c++;
        if (!cand_before(h[c], last))
            break;
        h[i] = h[c];
        i = c;
    }
    if (n)
        h[i] = last;
    return top;
}

/* The rule merging the symbol at pos with its right neighbour, or NULL. */
static const tok_bpe_merge *pair_rule(const tok_bpe *m, const tok_bpe_sym *sy,
                                      size_t pos)
{
    size_t q = sy[pos].next;
    if (q == SIZE_MAX || sy[pos].id > UINT32_MAX || sy[q].id > UINT32_MAX)
        return NULL;
    return merge_find(m, (uint64_t)sy[pos].id << 32 | (uint64_t)sy[q].id);
}

/* Pushes the merge of pos with its right neighbour, when a rule has it. */
static ir_status cand_offer(const tok_bpe *m, tok_bpe_scratch *s, size_t pos,
                            ir_diag *d)
{
    const tok_bpe_merge *mg = pair_rule(m, s->sym, pos);
    return mg ? heap_push(s, (tok_bpe_cand){mg->rank, pos}, d) : IR_OK;
}

/* Merges sym[0..ns) best rule first until none applies (HF's merge_all). */
static ir_status merge_all(const tok_bpe *m, tok_bpe_scratch *s, size_t ns,
                           ir_diag *d)
{
    tok_bpe_sym *sy = s->sym;
    for (size_t i = 0; i < ns; i++) {
        sy[i].prev = i ? i - 1 : SIZE_MAX;
        sy[i].next = i + 1 < ns ? i + 1 : SIZE_MAX;
        sy[i].gone = false;
    }
    s->heap_n = 0;
    ir_status st;
    for (size_t i = 0; i + 1 < ns; i++)
        if ((st = cand_offer(m, s, i, d)))
            return st;
    while (s->heap_n) {
        tok_bpe_cand c = heap_pop(s);
        if (sy[c.pos].gone)
            continue;
        /* Stale: the pair at pos changed since (a neighbour merged first).
         * A rank names one rule, so an equal rank means the same pair. */
        const tok_bpe_merge *mg = pair_rule(m, sy, c.pos);
        if (!mg || mg->rank != c.rank)
            continue;
        size_t q = sy[c.pos].next;
        sy[c.pos].id = mg->id;
        sy[q].gone = true;
        sy[c.pos].next = sy[q].next;
        if (sy[q].next != SIZE_MAX)
            sy[sy[q].next].prev = c.pos;
        if (sy[c.pos].prev != SIZE_MAX &&
            (st = cand_offer(m, s, sy[c.pos].prev, d)))
            return st;
        if ((st = cand_offer(m, s, c.pos, d)))
            return st;
    }
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
    if ((st = merge_all(m, s, ns, d)))
        return st;
    for (size_t i = 0; ns && i != SIZE_MAX; i = s->sym[i].next)
        if ((st = tok_ids_push(out, s->sym[i].id, d)))
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
    free(s->heap);
    free(s->key.p);
    memset(s, 0, sizeof *s);
}

/* data.c — GLUE splits and corpus files tokenized into fixed-width rows,
 * the seeded epoch order, and batch gathering (see data.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distill/data.h"
#include "distill/kernels.h"
#include "ir/file_read.h"

void train_data_free(train_data *td)
{
    if (!td)
        return;
    free(td->ids);
    free(td->types);
    free(td->mask);
    free(td->len);
    free(td->labels);
    free(td->targets);
    memset(td, 0, sizeof *td);
}

/* Allocates rows for n examples of width T: ids all pad (the tokenizer's
 * pad id), types and mask 0. */
static ir_status data_alloc(train_data *td, size_t n, size_t T,
                            const tok_tokenizer *tok, ir_diag *d)
{
    memset(td, 0, sizeof *td);
    td->n = n;
    td->T = T;
    td->pad_id = (int32_t)tok_pad_id(tok);
    td->ids = malloc(n * T * sizeof(int32_t));
    td->types = calloc(n * T, sizeof(int32_t));
    td->mask = calloc(n * T, sizeof(int32_t));
    td->len = calloc(n, sizeof(uint32_t));
    if (!td->ids || !td->types || !td->mask || !td->len) {
        train_data_free(td);
        return ir_diag_set(d, IR_ERR_NOMEM,
                           "training data: out of memory for %zu x %zu tokens", n, T);
    }
    for (size_t i = 0; i < n * T; i++)
        td->ids[i] = td->pad_id;
    return IR_OK;
}

void train_data_set_inputs(train_data *td, int32_t pad_id, bool token_types)
{
    size_t nT = td->n * td->T;
    for (size_t i = 0; i < nT; i++) {
        if (!td->mask[i])
            td->ids[i] = pad_id;
        if (!token_types)
            td->types[i] = 0;
    }
    td->pad_id = pad_id;
}

/* Tokenizes one example into row i. */
static ir_status data_encode(train_data *td, size_t i, const tok_tokenizer *tok,
                             const char *a, const char *b, tok_encoding *enc,
                             ir_diag *d)
{
    ir_status s = tok_encode(tok, a, b, td->T, 0, enc, d);
    if (s != IR_OK)
        return s;
    /* tok_encode truncates without saying so; a full row was most likely
     * cut (an example exactly T long is counted too) */
    if (enc->len == td->T)
        td->n_truncated++;
    int32_t *ids = td->ids + i * td->T, *ty = td->types + i * td->T;
    int32_t *m = td->mask + i * td->T;
    for (size_t t = 0; t < enc->len; t++) {
        ids[t] = (int32_t)enc->input_ids[t];
        ty[t] = (int32_t)enc->token_type_ids[t];
        m[t] = 1;
    }
    td->len[i] = (uint32_t)enc->len;
    td->tokens += enc->len;
    return IR_OK;
}

ir_status train_data_from_glue(const glue_dataset *ds,
                               const tok_tokenizer *tok, size_t max_seq,
                               train_data *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    if (max_seq < 8)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "training data: max sequence length %zu is below 8", max_seq);
    if (!ds->has_labels)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "training data: %s has no label column (a test split?); "
                           "training needs the train or dev split", ds->path);
    if (ds->n == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "training data: %s has no examples", ds->path);
    ir_status s = data_alloc(out, ds->n, max_seq, tok, d);
    if (s != IR_OK)
        return s;
    bool regression = ds->task->is_regression;
    out->n_labels = ds->task->n_labels;
    if (regression)
        out->targets = calloc(ds->n, sizeof(float));
    else
        out->labels = calloc(ds->n, sizeof(int32_t));
    if (regression ? !out->targets : !out->labels) {
        train_data_free(out);
        return ir_diag_set(d, IR_ERR_NOMEM, "training data: out of memory");
    }
    tok_encoding enc = {0};
    for (size_t i = 0; i < ds->n; i++) {
        const glue_example *ex = &ds->examples[i];
        s = data_encode(out, i, tok, ex->text_a, ex->text_b, &enc, d);
        if (s != IR_OK) {
            ir_diag_prefix(d, "%s:%zu", ds->path, ex->line);
            break;
        }
        if (regression)
            out->targets[i] = (float)ex->score;
        else
            out->labels[i] = ex->label;
    }
    tok_encoding_free(&enc);
    if (s != IR_OK)
        train_data_free(out);
    return s;
}

ir_status train_data_from_corpus(const char *path, const tok_tokenizer *tok,
                                 size_t max_seq, size_t limit,
                                 train_data *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    if (max_seq < 8)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "training data: max sequence length %zu is below 8", max_seq);
    char *text = NULL;
    size_t len = 0;
    /* a regular file, whole (no limit: it must fit in memory anyway) */
    ir_status s = ir_file_read_all(path, "corpus", 0, &text, &len, d);
    if (s != IR_OK)
        return s;
    /* pass 1: cut into lines in place, count non-blank ones */
    size_t n = 0;
    for (char *p = text; p < text + len;) {
        char *e = memchr(p, '\n', (size_t)(text + len - p));
        if (!e)
            e = text + len;
        *e = 0;
        if (e > p && e[-1] == '\r')
            e[-1] = 0;
        if (*p)
            n++;
        p = e + 1;
    }
    if (limit && n > limit)
        n = limit;
    if (n == 0) {
        free(text);
        return ir_diag_set(d, IR_ERR_INPUT, "corpus %s: no text lines", path);
    }
    s = data_alloc(out, n, max_seq, tok, d);
    tok_encoding enc = {0};
    size_t i = 0, line = 0;
    for (char *p = text; s == IR_OK && i < n && p < text + len;) {
        size_t l = strlen(p);
        line++;
        if (l) {
            char *b = strchr(p, '\t');
            if (b) {
                *b++ = 0;
                if (strchr(b, '\t')) {
                    s = ir_diag_set(d, IR_ERR_INPUT,
                                    "corpus %s:%zu: more than one tab; a line is a "
                                    "text or a pair 'A<TAB>B'", path, line);
                    break;
                }
            }
            s = data_encode(out, i, tok, p, b, &enc, d);
            if (s != IR_OK)
                ir_diag_prefix(d, "corpus %s:%zu", path, line);
            i++;
        }
        p += l + 1;
    }
    tok_encoding_free(&enc);
    free(text);
    if (s != IR_OK)
        train_data_free(out);
    return s;
}

void train_data_order(const train_data *td, uint64_t seed, uint64_t epoch,
                      size_t *perm)
{
    size_t n = td->n;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    /* Fisher-Yates; the epoch selects a disjoint counter range, so each
     * epoch's order depends on nothing but (seed, epoch). The modulo bias
     * (< n / 2^64) is immaterial. */
    uint64_t base = epoch * (uint64_t)n;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(train_rng_u64(seed, base + (i - 1)) % i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

/* One example of a pool: its length and its place in the shuffled order
 * (the tie-break that keeps the sort deterministic whatever qsort does). */
typedef struct bucket_key {
    uint32_t len;
    size_t pos, idx;
} bucket_key;

static int bucket_key_cmp(const void *a, const void *b)
{
    const bucket_key *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The batch shuffle's stream: another seed than the examples' shuffle, so
 * the two never share counters. */
#define BUCKET_SEED_SALT 0x9e3779b97f4a7c15ULL

ir_status train_data_order_buckets(const train_data *td, uint64_t seed,
                                   uint64_t epoch, size_t batch, size_t pool,
                                   size_t *perm, ir_diag *d)
{
    train_data_order(td, seed, epoch, perm);
    size_t n = td->n;
    if (!batch || !pool || n <= batch)
        return IR_OK;
    size_t span = batch * pool;
    size_t nfull = n / batch;
    bucket_key *keys = malloc((span < n ? span : n) * sizeof *keys);
    size_t *moved = malloc(n * sizeof *moved);
    size_t *order = malloc(nfull * sizeof *order);
    if (!keys || !moved || !order) {
        free(keys);
        free(moved);
        free(order);
        return ir_diag_set(d, IR_ERR_NOMEM, "length buckets: out of memory "
                           "for %zu examples", n);
    }
    for (size_t c = 0; c < n; c += span) {
        size_t m = n - c < span ? n - c : span;
        for (size_t i = 0; i < m; i++)
            keys[i] = (bucket_key){td->len[perm[c + i]], c + i, perm[c + i]};
        qsort(keys, m, sizeof *keys, bucket_key_cmp);
        for (size_t i = 0; i < m; i++)
            perm[c + i] = keys[i].idx;
    }
    for (size_t k = 0; k < nfull; k++)
        order[k] = k;
    uint64_t s2 = seed ^ BUCKET_SEED_SALT, base = epoch * (uint64_t)nfull;
    for (size_t i = nfull; i > 1; i--) {
        size_t j = (size_t)(train_rng_u64(s2, base + (i - 1)) % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (size_t k = 0; k < nfull; k++)
        memcpy(moved + k * batch, perm + order[k] * batch, batch * sizeof *perm);
    memcpy(moved + nfull * batch, perm + nfull * batch,
           (n - nfull * batch) * sizeof *perm);
    memcpy(perm, moved, n * sizeof *perm);
    free(keys);
    free(moved);
    free(order);
    return IR_OK;
}

static uint64_t hash_words(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        uint32_t w;
        memcpy(&w, b + 4 * i, 4);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    return h;
}

uint64_t train_data_hash(const train_data *td)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    uint64_t sizes[4] = {td->n, td->T, (uint64_t)td->n_labels,
                         (uint64_t)(td->labels != NULL) |
                             (uint64_t)(td->targets != NULL) << 1};
    h = hash_words(h, sizes, 2 * 4);
    size_t nt = td->n * td->T;
    if (td->ids)
        h = hash_words(h, td->ids, nt);
    if (td->types)
        h = hash_words(h, td->types, nt);
    if (td->mask)
        h = hash_words(h, td->mask, nt);
    if (td->labels)
        h = hash_words(h, td->labels, td->n);
    if (td->targets)
        h = hash_words(h, td->targets, td->n);
    return h;
}

void train_batch_buf_free(train_batch_buf *buf)
{
    free(buf->ids);
    free(buf->types);
    free(buf->mask);
    free(buf->labels);
    free(buf->targets);
    memset(buf, 0, sizeof *buf);
}

ir_status train_data_batch(const train_data *td, const size_t *idx, size_t B,
                           train_batch_buf *buf, train_batch *out, ir_diag *d)
{
    size_t T = 0;
    for (size_t b = 0; b < B; b++) {
        IR_CHECK(d, idx[b] < td->n);
        if (td->len[idx[b]] > T)
            T = td->len[idx[b]];
    }
    T = (T + TRAIN_BATCH_T_STEP - 1) / TRAIN_BATCH_T_STEP * TRAIN_BATCH_T_STEP;
    if (T > td->T)
        T = td->T;
    if (T == 0)
        T = td->T;
    if (B * T > buf->cap || B > buf->cap_rows) {
        size_t cap = B * td->T, rows = B;
        train_batch_buf_free(buf);
        buf->ids = malloc(cap * sizeof(int32_t));
        buf->types = malloc(cap * sizeof(int32_t));
        buf->mask = malloc(cap * sizeof(int32_t));
        buf->labels = malloc(rows * sizeof(int32_t));
        buf->targets = malloc(rows * sizeof(float));
        if (!buf->ids || !buf->types || !buf->mask || !buf->labels || !buf->targets) {
            train_batch_buf_free(buf);
            return ir_diag_set(d, IR_ERR_NOMEM, "batch: out of memory");
        }
        buf->cap = cap;
        buf->cap_rows = rows;
    }
    for (size_t b = 0; b < B; b++) {
        size_t r = idx[b];
        memcpy(buf->ids + b * T, td->ids + r * td->T, T * sizeof(int32_t));
        memcpy(buf->types + b * T, td->types + r * td->T, T * sizeof(int32_t));
        memcpy(buf->mask + b * T, td->mask + r * td->T, T * sizeof(int32_t));
        if (td->labels)
            buf->labels[b] = td->labels[r];
        if (td->targets)
            buf->targets[b] = td->targets[r];
    }
    *out = (train_batch){0};
    out->B = B;
    out->T = T;
    out->ids = buf->ids;
    out->types = buf->types;
    out->mask = buf->mask;
    out->labels = td->labels ? buf->labels : NULL;
    out->targets = td->targets ? buf->targets : NULL;
    return IR_OK;
}

train_batch_share train_batch_share_get(const train_batch *b)
{
    train_batch_share sh = {1.0, 1.0, 1.0};
    size_t tokens = 0, pairs = 0;
    if (!b->global_rows)
        return sh;
    for (size_t r = 0; r < b->B; r++) {
        size_t v = 0;
        for (size_t t = 0; t < b->T; t++)
            v += !b->mask || b->mask[r * b->T + t] != 0;
        tokens += v;
        pairs += v * v;
    }
    sh.rows = (double)b->B / (double)b->global_rows;
    sh.tokens = b->global_tokens ? (double)tokens / (double)b->global_tokens : 0;
    sh.pairs = b->global_pairs ? (double)pairs / (double)b->global_pairs : 0;
    return sh;
}

void train_batch_split(const train_batch *b, int rank, int ranks,
                       train_batch *out)
{
    size_t r0 = b->B * (size_t)rank / (size_t)ranks;
    size_t r1 = b->B * (size_t)(rank + 1) / (size_t)ranks;
    size_t tokens = 0, pairs = 0;
    for (size_t r = 0; r < b->B; r++) {
        size_t v = 0;
        for (size_t t = 0; t < b->T; t++)
            v += !b->mask || b->mask[r * b->T + t] != 0;
        tokens += v;
        pairs += v * v;
    }
    *out = *b;
    out->B = r1 - r0;
    out->ids = b->ids + r0 * b->T;
    out->types = b->types ? b->types + r0 * b->T : NULL;
    out->mask = b->mask ? b->mask + r0 * b->T : NULL;
    out->labels = b->labels ? b->labels + r0 : NULL;
    out->targets = b->targets ? b->targets + r0 : NULL;
    out->global_rows = b->B;
    out->global_tokens = tokens;
    out->global_pairs = pairs;
}

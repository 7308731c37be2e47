/* augment.c — TinyBERT-style data augmentation with embedding-space
 * neighbours (see augment.h): token classification, the neighbour table
 * (blocked GEMM of normalised embedding rows + a partial top-K per row) and
 * the deterministic copies.
 */
#include "distill/augment.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/gemm.h"
#include "distill/kernels.h"
#include "frontend/unicode.h"
#include "ir/clock.h"

void aug_options_default(aug_options *o)
{
    *o = (aug_options){.copies = 0, .prob = 0.4, .neighbours = 15, .seed = 42};
}

ir_status aug_options_check(const aug_options *o, ir_diag *d)
{
    if (o->copies < 0 || o->copies > AUG_MAX_COPIES)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "augment copies (--augment) = %lld: expected 0 "
                           "(off) to %d copies per example",
                           (long long)o->copies, AUG_MAX_COPIES);
    if (!(o->prob >= 0.0 && o->prob <= 1.0))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "augment prob (--augment-prob) = %g: expected a "
                           "probability in [0, 1]", o->prob);
    if (o->neighbours < 1 || o->neighbours > AUG_MAX_NEIGHBOURS)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "augment neighbours (--augment-neighbours) = %lld: "
                           "expected 1 to %d", (long long)o->neighbours,
                           AUG_MAX_NEIGHBOURS);
    return IR_OK;
}

/* ---- token classes ---------------------------------------------------------- */

/* A letter for our purpose: ASCII A-Z a-z, or a code point from U+00C0 on
 * that is not punctuation, space or control and not in the symbol blocks
 * BERT's vocabulary carries (general punctuation to miscellaneous symbols
 * and arrows, CJK symbols). unicode.h has no letter class; this is close
 * enough to keep digits, currency and symbols out. */
static bool cp_is_letter(uint32_t cp)
{
    if (cp < 0x80)
        return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7)
        return false;
    if (uni_flags(cp) & (UNI_CONTROL | UNI_SPACE | UNI_PUNCT))
        return false;
    if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
        cp == 0xFFFD)
        return false;
    return true;
}

aug_kind aug_token_kind(const char *token, size_t len)
{
    /* [PAD] [UNK] [CLS] [SEP] [MASK] [unused12] ... */
    if (len >= 2 && token[0] == '[' && token[len - 1] == ']')
        return AUG_KIND_OTHER;
    bool piece = len > 2 && token[0] == '#' && token[1] == '#';
    const unsigned char *s = (const unsigned char *)token;
    for (size_t i = piece ? 2 : 0; i < len;) {
        uint32_t cp;
        size_t n = uni_utf8_decode(s + i, len - i, &cp);
        if (cp_is_letter(cp))
            return piece ? AUG_KIND_PIECE : AUG_KIND_WORD;
        i += n ? n : 1;
    }
    /* a piece without a letter ("##5") still joins its word */
    return piece ? AUG_KIND_PIECE : AUG_KIND_OTHER;
}

/* ---- the neighbour table ---------------------------------------------------- */

typedef struct vocab_scan {
    uint8_t *kind;
    size_t V;
    int64_t max_id;
} vocab_scan;

static void vocab_scan_fn(int64_t id, const char *token, size_t len, void *ctx)
{
    vocab_scan *vs = ctx;
    if (id > vs->max_id)
        vs->max_id = id;
    if (id >= 0 && (size_t)id < vs->V)
        vs->kind[id] = (uint8_t)aug_token_kind(token, len);
}

void aug_table_free(aug_table *t)
{
    if (!t)
        return;
    free(t->kind);
    free(t->count);
    free(t->nb);
    memset(t, 0, sizeof *t);
}

/* Row r of sim [n] (similarities to candidates cand[0..n)): the K best
 * other than self into ids, nearest first, ties to the lower id. Insertion
 * into a small sorted list; the K-th best is a threshold that rejects most
 * candidates with one comparison. Returns how many were found. */
static size_t topk_row(const float *sim, const int32_t *cand, size_t n,
                       int32_t self, size_t K, float *best, int32_t *ids)
{
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
        int32_t id = cand[j];
        float s = sim[j];
        if (id == self || s != s)
            continue;
        /* candidates come in increasing id order, so an equal similarity
         * never beats one already kept: ties go to the lower id */
        if (m == K && !(s > best[K - 1]))
            continue;
        size_t p = m < K ? m++ : K - 1;
        while (p > 0 && s > best[p - 1]) {
            best[p] = best[p - 1];
            ids[p] = ids[p - 1];
            p--;
        }
        best[p] = s;
        ids[p] = id;
    }
    return m;
}

enum { AUG_BLOCK_ROWS = 256 };

ir_status aug_table_build(const tok_tokenizer *tok, const float *emb,
                          size_t V, size_t W, const uint8_t *wanted,
                          size_t K, aug_table *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    if (K < 1 || K > AUG_MAX_NEIGHBOURS)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "augment neighbours (--augment-neighbours) = %zu: "
                           "expected 1 to %d", K, AUG_MAX_NEIGHBOURS);
    if (V == 0 || W == 0 || V > INT32_MAX)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "augment: the word-embedding table is %zu x %zu",
                           V, W);
    out->V = V;
    out->K = K;
    out->kind = calloc(V, 1);
    out->count = calloc(V, 1);
    out->nb = malloc(V * K * sizeof *out->nb);
    if (!out->kind || !out->count || !out->nb) {
        aug_table_free(out);
        return ir_diag_set(d, IR_ERR_NOMEM, "augment: out of memory for the "
                           "neighbour table (%zu x %zu)", V, K);
    }
    vocab_scan vs = {out->kind, V, -1};
    tok_vocab_each(tok, vocab_scan_fn, &vs);
    if (vs.max_id < 0 || (size_t)vs.max_id >= V) {
        aug_table_free(out);
        return ir_diag_set(d, IR_ERR_INPUT,
                           "augment: the teacher's word-embedding table has "
                           "%zu rows but the vocabulary has ids up to %lld: "
                           "the vocabulary does not belong to the teacher "
                           "(give the teacher's vocab.txt with --vocab)", V,
                           (long long)vs.max_id);
    }
    for (size_t i = 0; i < V * K; i++)
        out->nb[i] = -1;
    /* candidates (every eligible word) and queries (the wanted ones) */
    size_t ne = 0, nq = 0;
    for (size_t v = 0; v < V; v++)
        if (out->kind[v] == AUG_KIND_WORD) {
            ne++;
            nq += !wanted || wanted[v];
        }
    out->n_words = ne;
    if (ne < 2 || nq == 0)
        return IR_OK; /* nothing to replace with, or nothing to replace */
    size_t B = AUG_BLOCK_ROWS;
    int32_t *cand = malloc(ne * sizeof *cand);
    int32_t *query = malloc(nq * sizeof *query);
    float *norm = malloc(ne * W * sizeof *norm);  /* [ne,W] unit rows */
    float *q = malloc(B * W * sizeof *q);         /* [B,W] */
    float *sim = malloc(B * ne * sizeof *sim);    /* [B,ne] */
    float *best = malloc(B * K * sizeof *best);   /* [B,K] */
    gemm_ctx *g = NULL;
    ir_status st = IR_OK;
    if (!cand || !query || !norm || !q || !sim || !best) {
        st = ir_diag_set(d, IR_ERR_NOMEM, "augment: out of memory for %zu "
                         "word embeddings of width %zu", ne, W);
        goto done;
    }
    size_t je = 0, jq = 0;
    for (size_t v = 0; v < V; v++) {
        if (out->kind[v] != AUG_KIND_WORD)
            continue;
        const float *row = emb + v * W;
        float *dst = norm + je * W;
        double ss = 0.0;
        for (size_t k = 0; k < W; k++)
            ss += (double)row[k] * (double)row[k];
        /* a zero row stays zero: similarity 0 to everything */
        float inv = ss > 0.0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (size_t k = 0; k < W; k++)
            dst[k] = row[k] * inv;
        cand[je++] = (int32_t)v;
        if (!wanted || wanted[v])
            query[jq++] = (int32_t)je - 1; /* index into cand / norm */
    }
    st = gemm_ctx_create(gemm_impl_for_cpu(), &g, d);
    if (st != IR_OK)
        goto done;
    for (size_t r0 = 0; r0 < nq; r0 += B) {
        size_t b = nq - r0 < B ? nq - r0 : B;
        for (size_t r = 0; r < b; r++)
            memcpy(q + r * W, norm + (size_t)query[r0 + r] * W, W * sizeof *q);
        /* sim[b,ne] = q[b,W] . norm[ne,W]^T: cosine similarities */
        st = gemm_f32(g, 0, 1, (int64_t)b, (int64_t)ne, (int64_t)W, 1.0f, q,
                      (int64_t)W, norm, (int64_t)W, 0.0f, sim, (int64_t)ne, d);
        if (st != IR_OK) {
            ir_diag_prefix(d, "augment: neighbour similarities");
            goto done;
        }
#pragma omp parallel for schedule(dynamic, 8)
        for (size_t r = 0; r < b; r++) {
            int32_t v = cand[query[r0 + r]];
            size_t m = topk_row(sim + r * ne, cand, ne, v, K, best + r * K,
                                out->nb + (size_t)v * K);
            out->count[v] = (uint8_t)m;
        }
    }
    out->n_rows = nq;
done:
    gemm_ctx_free(g);
    free(cand);
    free(query);
    free(norm);
    free(q);
    free(sim);
    free(best);
    if (st != IR_OK)
        aug_table_free(out);
    return st;
}

ir_status aug_data_wanted(const train_data *td, size_t V, uint8_t *wanted,
                          ir_diag *d)
{
    memset(wanted, 0, V);
    for (size_t i = 0; i < td->n; i++) {
        const int32_t *row = td->ids + i * td->T;
        for (size_t p = 0; p < td->len[i]; p++) {
            int32_t id = row[p];
            if (id < 0 || (size_t)id >= V)
                return ir_diag_set(d, IR_ERR_INPUT,
                                   "augment: example %zu has token id %d at "
                                   "position %zu, outside the teacher's "
                                   "vocabulary of %zu", i, (int)id, p, V);
            wanted[id] = 1;
        }
    }
    return IR_OK;
}

/* ---- the copies --------------------------------------------------------------- */

/* Writes the copy of row src (len tokens) into dst: a word at p is replaced
 * when its draw (counter 2p) is below prob, by neighbour (counter 2p+1) mod
 * count. Returns eligible and replaced positions. */
static void augment_row(const aug_table *t, const int32_t *src, size_t len,
                        uint64_t seed, double prob, int32_t *dst,
                        size_t *eligible, size_t *replaced)
{
    for (size_t p = 0; p < len; p++) {
        int32_t id = src[p];
        dst[p] = id;
        if (t->kind[id] != AUG_KIND_WORD || !t->count[id])
            continue;
        /* the first piece of a multi-piece word stays */
        if (p + 1 < len && t->kind[src[p + 1]] == AUG_KIND_PIECE)
            continue;
        (*eligible)++;
        if ((double)train_rng_uniform(seed, 2 * (uint64_t)p) >= prob)
            continue;
        uint64_t k = train_rng_u64(seed, 2 * (uint64_t)p + 1) % t->count[id];
        dst[p] = t->nb[(size_t)id * t->K + k];
        (*replaced)++;
    }
}

static ir_status data_alloc(train_data *out, size_t n, size_t T, bool labels,
                            bool targets, ir_diag *d)
{
    out->n = n;
    out->T = T;
    out->ids = malloc(n * T * sizeof *out->ids);
    out->types = malloc(n * T * sizeof *out->types);
    out->mask = malloc(n * T * sizeof *out->mask);
    out->len = malloc(n * sizeof *out->len);
    out->labels = labels ? malloc(n * sizeof *out->labels) : NULL;
    out->targets = targets ? malloc(n * sizeof *out->targets) : NULL;
    if (!out->ids || !out->types || !out->mask || !out->len ||
        (labels && !out->labels) || (targets && !out->targets)) {
        train_data_free(out);
        return ir_diag_set(d, IR_ERR_NOMEM, "augment: out of memory for %zu "
                           "examples of %zu tokens", n, T);
    }
    return IR_OK;
}

ir_status aug_data_augment(const train_data *src, const aug_table *t,
                           const aug_options *o, train_data *out,
                           aug_stats *st, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    ir_status s = aug_options_check(o, d);
    if (s != IR_OK)
        return s;
    double t0 = ir_clock_wall_s();
    size_t n = src->n, T = src->T, copies = (size_t)o->copies;
    if (n > SIZE_MAX / (copies + 1) / (T ? T : 1) / sizeof(int32_t))
        return ir_diag_set(d, IR_ERR_INPUT, "augment: %zu examples x %zu "
                           "copies is too many", n, copies + 1);
    /* every id of the copies is looked up in the table */
    if (copies) {
        for (size_t i = 0; i < n * T; i++)
            if (src->ids[i] < 0 || (size_t)src->ids[i] >= t->V)
                return ir_diag_set(d, IR_ERR_INPUT,
                                   "augment: example %zu has token id %d, "
                                   "outside the teacher's vocabulary of %zu",
                                   i / (T ? T : 1), (int)src->ids[i], t->V);
    }
    size_t N = n * (copies + 1);
    s = data_alloc(out, N, T, src->labels != NULL, src->targets != NULL, d);
    if (s != IR_OK)
        return s;
    out->n_labels = src->n_labels;
    out->pad_id = src->pad_id; /* the rows are copied with their padding */
    out->n_truncated = src->n_truncated * (copies + 1);
    out->tokens = src->tokens * (copies + 1);
    size_t eligible = 0, replaced = 0;
    for (size_t c = 0; c <= copies; c++) {
        size_t base = c * n;
        memcpy(out->types + base * T, src->types, n * T * sizeof *out->types);
        memcpy(out->mask + base * T, src->mask, n * T * sizeof *out->mask);
        memcpy(out->len + base, src->len, n * sizeof *out->len);
        if (src->labels)
            memcpy(out->labels + base, src->labels, n * sizeof *out->labels);
        if (src->targets)
            memcpy(out->targets + base, src->targets, n * sizeof *out->targets);
        if (c == 0) {
            memcpy(out->ids, src->ids, n * T * sizeof *out->ids);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            const int32_t *row = src->ids + i * T;
            int32_t *dst = out->ids + (base + i) * T;
            /* (seed, i, c) -> this copy's stream, independent of the
             * number of copies */
            uint64_t seed = train_rng_u64(train_rng_u64(o->seed, i), c);
            size_t len = src->len[i] < T ? src->len[i] : T;
            augment_row(t, row, len, seed, o->prob, dst, &eligible, &replaced);
            memcpy(dst + len, row + len, (T - len) * sizeof *dst);
        }
    }
    if (st) {
        st->examples_in = n;
        st->examples_out = N;
        st->eligible = eligible;
        st->replaced = replaced;
        st->words = t->n_words;
        st->rows = t->n_rows;
        st->augment_s = ir_clock_wall_s() - t0;
    }
    return IR_OK;
}

ir_status aug_train_data(const train_data *src, const tok_tokenizer *tok,
                         const ir_encoder *teacher, const aug_options *o,
                         train_data *out, aug_stats *st, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    if (st)
        memset(st, 0, sizeof *st);
    ir_status s = aug_options_check(o, d);
    if (s != IR_OK)
        return s;
    const ir_tensor *w = ir_encoder_find(teacher, "embeddings.word");
    if (!w || w->rank != 2 || w->dtype != IR_DT_F32)
        return ir_diag_set(d, IR_ERR_INPUT, "augment: the teacher has no f32 "
                           "[V,W] embeddings.word table");
    size_t V = (size_t)w->dims[0], W = (size_t)w->dims[1];
    uint8_t *wanted = malloc(V ? V : 1);
    if (!wanted)
        return ir_diag_set(d, IR_ERR_NOMEM, "augment: out of memory");
    aug_table t = {0};
    double t0 = ir_clock_wall_s();
    s = aug_data_wanted(src, V, wanted, d);
    if (s == IR_OK && o->copies > 0)
        s = aug_table_build(tok, w->data, V, W, wanted, (size_t)o->neighbours,
                            &t, d);
    free(wanted);
    double t1 = ir_clock_wall_s();
    /* with copies 0 the table stays empty: a plain copy never reads it */
    if (s == IR_OK)
        s = aug_data_augment(src, &t, o, out, st, d);
    aug_table_free(&t);
    if (s == IR_OK && st)
        st->table_s = t1 - t0;
    return s;
}

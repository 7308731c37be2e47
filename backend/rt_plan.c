/* rt_plan.c — the runtime's activation memory: one 64-byte aligned block
 * cut into the buffers rt_internal.h lists, sized for the largest batch and
 * sequence seen so far. A call with a smaller shape reuses it; a larger one
 * replaces it once. Layers do not get their own buffers: each layer reads
 * and overwrites the same x, so depth costs no activation memory. */
#include <stdlib.h>
#include <string.h>

#include "backend/rt_internal.h"

static size_t round16(int64_t n) { return (size_t)((n + 15) / 16 * 16); }

ir_status rt_plan_reserve(rt_plan *p, const rt_config *c, int64_t batch,
                          int64_t seq, ir_diag *d)
{
    int64_t tokens = batch * seq, scores = batch * c->heads * seq * seq;
    if (p->block && tokens <= p->cap_tokens && scores <= p->cap_scores &&
        batch <= p->cap_batch)
        return IR_OK;
    /* Grow to cover both the old and the new shape. */
    if (tokens < p->cap_tokens) tokens = p->cap_tokens;
    if (scores < p->cap_scores) scores = p->cap_scores;
    if (batch < p->cap_batch) batch = p->cap_batch;
    int64_t H = c->hidden, wide = 3 * H > c->ffn ? 3 * H : c->ffn;
    size_t rel = c->rel_buckets > 0 ? round16(scores) : 0;
    size_t sz[12] = {
        round16(tokens * H), round16(tokens * wide), round16(tokens * H),
        round16(tokens * H), round16(scores), round16(tokens),
        c->embed > 0 ? round16(tokens * c->embed) : 0,
        round16(batch * H), round16(batch * H), round16(3 * tokens * H),
        rel, rel};
    size_t total = 0;
    for (int i = 0; i < 12; i++)
        total += sz[i];
    float *block = aligned_alloc(64, total * sizeof(float));
    if (!block)
        return ir_diag_set(d, IR_ERR_NOMEM,
                           "rt: out of memory for activations (%zu bytes for "
                           "batch %lld x seq %lld)", total * sizeof(float),
                           (long long)batch, (long long)(tokens / batch));
    free(p->block);
    p->block = block;
    p->floats = total;
    p->cap_tokens = tokens;
    p->cap_scores = scores;
    p->cap_batch = batch;
    float **slot[12] = {&p->x, &p->big, &p->ctx, &p->tmp, &p->att, &p->madd,
                       &p->wemb, &p->cls, &p->pooled, &p->heads, &p->pbias,
                       &p->sadd};
    size_t off = 0;
    for (int i = 0; i < 12; i++) {
        *slot[i] = sz[i] ? block + off : NULL;
        off += sz[i];
    }
    return IR_OK;
}

void rt_plan_free(rt_plan *p)
{
    free(p->block);
    memset(p, 0, sizeof *p);
}

int64_t rt_plan_bytes(const rt_plan *p) { return (int64_t)(p->floats * sizeof(float)); }

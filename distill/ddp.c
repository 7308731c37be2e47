/* ddp.c — the bucketed, overlapped gradient sum and the start-up
 * fingerprint of ddp.h. */
#include <string.h>

#include "distill/ddp.h"

void train_ddp_begin(train_ddp *g, ir_dist *dist, train_params *p,
                     size_t bucket)
{
    memset(g, 0, sizeof *g);
    g->dist = dist;
    g->grads = p->grads;
    g->n = p->n;
    g->bucket = bucket ? bucket : TRAIN_DDP_BUCKET;
    ir_diag_init(&g->diag);
}

/* Starts the allreduce of pending run k and frees the slot. */
static void run_start(train_ddp *g, int k)
{
    size_t lo = g->lo[k], hi = g->hi[k];
    g->lo[k] = g->hi[k] = 0;
    if (hi <= lo || g->status != IR_OK)
        return;
    int req;
    g->status = ir_dist_iallreduce_f32(g->dist, g->grads + lo, hi - lo, &req,
                                       &g->diag);
    g->buckets++;
}

static void on_ready(void *user, size_t off, size_t n)
{
    train_ddp *g = user;
    g->covered += n;
    int k = -1, free_k = -1, big = 0;
    for (int i = 0; i < TRAIN_DDP_RUNS; i++) {
        if (g->lo[i] == g->hi[i]) {
            if (free_k < 0)
                free_k = i;
            continue;
        }
        if (off + n == g->lo[i]) {
            g->lo[i] = off;
            k = i;
            break;
        }
        if (off == g->hi[i]) {
            g->hi[i] += n;
            k = i;
            break;
        }
        if (g->hi[i] - g->lo[i] > g->hi[big] - g->lo[big])
            big = i;
    }
    if (k < 0) {
        if (free_k < 0) { /* no slot: send the largest run, take its slot */
            run_start(g, big);
            free_k = big;
        }
        k = free_k;
        g->lo[k] = off;
        g->hi[k] = off + n;
    }
    if (g->hi[k] - g->lo[k] >= g->bucket)
        run_start(g, k);
    ir_dist_progress(g->dist);
}

train_grad_ready train_ddp_ready(train_ddp *g)
{
    return (train_grad_ready){on_ready, g};
}

void train_ddp_all_ready(train_ddp *g)
{
    for (size_t at = 0; at < g->n; at += g->bucket)
        on_ready(g, at, g->n - at < g->bucket ? g->n - at : g->bucket);
}

ir_status train_ddp_finish(train_ddp *g, train_extra *x, ir_diag *d)
{
    for (int i = 0; i < TRAIN_DDP_RUNS; i++)
        run_start(g, i);
    if (g->status == IR_OK && x && x->n) {
        int req;
        g->status = ir_dist_iallreduce_f32(g->dist, x->grads, x->n, &req,
                                           &g->diag);
    }
    ir_status s = ir_dist_wait_all(g->dist, d);
    if (g->status != IR_OK) {
        *d = g->diag;
        return g->status;
    }
    if (s != IR_OK)
        return s;
    if (g->covered != g->n)
        return ir_diag_set(d, IR_ERR_FAILED, "internal error: the backward "
                           "reported %zu of %zu gradient floats to the "
                           "data-parallel sum", g->covered, g->n);
    return IR_OK;
}

uint64_t train_ddp_hash(uint64_t h, const void *bytes, size_t n)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

ir_status train_ddp_fingerprint(ir_dist *dist, uint64_t opts_hash,
                                const train_data *data, const train_params *p,
                                const train_extra *x, ir_diag *d)
{
    if (ir_dist_size(dist) == 1)
        return IR_OK;
    uint64_t w = train_ddp_hash(TRAIN_DDP_FNV_SEED, p->params,
                                p->n * sizeof(float));
    if (x && x->n)
        w = train_ddp_hash(w, x->params, x->n * sizeof(float));
    uint64_t mine[3] = {opts_hash, train_data_hash(data), w}, root[3];
    memcpy(root, mine, sizeof root);
    ir_status s = ir_dist_bcast(dist, root, sizeof root, 0, d);
    if (s != IR_OK)
        return s;
    int64_t bad[3];
    for (int i = 0; i < 3; i++)
        bad[i] = mine[i] != root[i] ? ir_dist_rank(dist) : -1;
    if ((s = ir_dist_allreduce_max_i64(dist, bad, 3, d)) != IR_OK)
        return s;
    static const char *const what[3] = {
        "training options (batch, steps, lr, schedule, seed, precisions, loss "
        "settings)", "training data", "starting weights (teacher, student or "
        "initialisation)"};
    for (int i = 0; i < 3; i++)
        if (bad[i] >= 0)
            return ir_diag_set(d, IR_ERR_INPUT, "data-parallel run: rank %lld's "
                               "%s differ from rank 0's; every rank must be "
                               "started with the same options and files",
                               (long long)bad[i], what[i]);
    return IR_OK;
}

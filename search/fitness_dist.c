/* fitness_dist.c — a search's fitness spread over MPI ranks (see
 * fitness_dist.h). Each batch: rank 0 broadcasts {1, n} and the n configs;
 * every rank scores its share and the fitness bits are gathered by a max
 * over ranks in which the others contribute INT64_MIN (exact for every
 * double, -0 and NaN included); a status agreed by a min over the failing
 * ranks. The end: rank 0 broadcasts {0, 0}. */
#include "search/fitness_dist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { CMD_END = 0, CMD_SCORE = 1 };

/* This rank's share of a batch of n configs, agreed and gathered. */
static ir_status score_share(search_fitness_dist *f, const ir_encoder_config *c,
                             size_t n, double *fitness, ir_diag *d)
{
    int rank = ir_dist_rank(f->dc), size = ir_dist_size(f->dc);
    int64_t *bits = malloc((n ? n : 1) * sizeof *bits);
    ir_status s = bits ? IR_OK : ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && s == IR_OK; i++) {
        bits[i] = INT64_MIN;
        if (i % (size_t)size != (size_t)rank)
            continue;
        double v;
        if ((s = f->fitness(f->ctx, &c[i], &v, d)) == IR_OK) {
            memcpy(&bits[i], &v, sizeof v);
            f->scored++;
        }
    }
    /* the lowest failing rank's error is everyone's */
    int64_t failed = s != IR_OK ? rank : size;
    ir_diag dm;
    ir_diag_init(&dm);
    if (ir_dist_allreduce_min_i64(f->dc, &failed, 1, &dm) != IR_OK) {
        free(bits);
        *d = dm;
        return dm.status;
    }
    if (failed < size) {
        free(bits);
        if (ir_dist_bcast_status(f->dc, &s, (int)failed, d) == IR_OK && s == IR_OK)
            s = IR_ERR_FAILED; /* cannot happen: rank `failed` failed */
        return s;
    }
    if ((s = ir_dist_allreduce_max_i64(f->dc, bits, n, d)) == IR_OK)
        for (size_t i = 0; i < n; i++)
            memcpy(&fitness[i], &bits[i], sizeof fitness[i]);
    free(bits);
    return s;
}

ir_status search_fitness_dist_batch(void *ctx, const ir_encoder_config *c,
                                    size_t n, double *fitness, ir_diag *d)
{
    search_fitness_dist *f = ctx;
    if (ir_dist_size(f->dc) == 1)
        return score_share(f, c, n, fitness, d);
    int64_t hdr[2] = {CMD_SCORE, (int64_t)n};
    ir_status s = ir_dist_bcast(f->dc, hdr, sizeof hdr, 0, d);
    if (s == IR_OK)
        s = ir_dist_bcast(f->dc, (void *)c, n * sizeof *c, 0, d);
    if (s == IR_OK)
        s = score_share(f, c, n, fitness, d);
    return s;
}

ir_status search_fitness_dist_one(void *ctx, const ir_encoder_config *c,
                                  double *fitness, ir_diag *d)
{
    return search_fitness_dist_batch(ctx, c, 1, fitness, d);
}

ir_status search_fitness_dist_end(search_fitness_dist *f, ir_diag *d)
{
    if (ir_dist_size(f->dc) == 1)
        return IR_OK;
    int64_t hdr[2] = {CMD_END, 0};
    return ir_dist_bcast(f->dc, hdr, sizeof hdr, 0, d);
}

ir_status search_fitness_dist_serve(search_fitness_dist *f, ir_diag *d)
{
    double timeout = ir_dist_timeout(f->dc);
    ir_encoder_config *c = NULL;
    double *fit = NULL;
    size_t cap = 0;
    ir_status s = IR_OK;
    for (;;) {
        int64_t hdr[2];
        /* rank 0 may time shapes for long between batches */
        ir_dist_set_timeout(f->dc, 0);
        s = ir_dist_bcast(f->dc, hdr, sizeof hdr, 0, d);
        ir_dist_set_timeout(f->dc, timeout);
        if (s != IR_OK || hdr[0] == CMD_END)
            break;
        size_t n = (size_t)hdr[1];
        if (n > cap) {
            free(c);
            free(fit);
            c = malloc(n * sizeof *c);
            fit = malloc(n * sizeof *fit);
            cap = n;
            if (!c || !fit) {
                /* cannot take part: the job cannot go on */
                s = ir_diag_set(d, IR_ERR_NOMEM, "search: out of memory for "
                                "a batch of %zu candidates", n);
                break;
            }
        }
        if ((s = ir_dist_bcast(f->dc, c, n * sizeof *c, 0, d)) != IR_OK)
            break;
        ir_diag dd;
        ir_diag_init(&dd);
        /* a failed fitness is rank 0's to report; a failed collective
         * ends the job */
        if (score_share(f, c, n, fit, &dd) == IR_ERR_IO) {
            *d = dd;
            s = IR_ERR_IO;
            break;
        }
    }
    free(c);
    free(fit);
    return s;
}

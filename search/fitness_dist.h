/* fitness_dist.h — a search's fitness spread over the ranks of an MPI job
 * (ir/dist.h): rank 0 runs the evolution (search/evolution.h) and hands
 * each block of candidates it scores (the initial population, a cycle's
 * children) to every rank; rank r scores candidates r, r + N, ... of it
 * with its own copy of the fitness (the supernet and held-out data loaded
 * on every rank), and the scores are gathered exactly (their bits), so
 * the search is the one process's bit for bit at the same threads a rank.
 * Rank 0 alone draws, measures latency and checks the constraints.
 *
 *     search_fitness_dist fd = {.dc = dc, .fitness = my_fitness, .ctx = my};
 *     if (rank == 0) {
 *         o.fitness = search_fitness_dist_one;  o.fitness_ctx = &fd;
 *         o.fitness_batch = search_fitness_dist_batch;
 *         s = search_evolve(&sp, &o, &res, &d);
 *         search_fitness_dist_end(&fd, &d2);   // always: frees the others
 *     } else
 *         s = search_fitness_dist_serve(&fd, &d);
 *
 * A fitness that fails on any rank fails the batch on every rank with the
 * message of the lowest failing rank; serve then goes on waiting (rank 0's
 * evolution reports the error and ends the others). While they wait for a
 * batch, the other ranks wait without the communicator's timeout: rank 0
 * may spend long timing shapes; a rank that dies is still seen by mpirun.
 * With one process (dc NULL or size 1) the batch is the fitness on each
 * candidate in turn. */
#ifndef DISTILC_SEARCH_FITNESS_DIST_H
#define DISTILC_SEARCH_FITNESS_DIST_H

#include <stddef.h>

#include "ir/diag.h"
#include "ir/dist.h"
#include "search/evolution.h"

typedef struct search_fitness_dist {
    ir_dist *dc;
    search_fitness_fn fitness;  /* this rank's */
    void *ctx;
    size_t scored;              /* candidates this rank scored */
} search_fitness_dist;

/* search_fitness_batch_fn (ctx: the search_fitness_dist), rank 0 only. */
ir_status search_fitness_dist_batch(void *ctx, const ir_encoder_config *c,
                                    size_t n, double *fitness, ir_diag *d);
/* search_fitness_fn (ctx: the search_fitness_dist): a batch of one. */
ir_status search_fitness_dist_one(void *ctx, const ir_encoder_config *c,
                                  double *fitness, ir_diag *d);
/* Rank 0, once its search is over (succeeded or not): the others return
 * from serve. */
ir_status search_fitness_dist_end(search_fitness_dist *f, ir_diag *d);
/* Ranks other than 0: scores their shares of rank 0's batches until it
 * ends; IR_OK then, IR_ERR_IO when the communication fails. */
ir_status search_fitness_dist_serve(search_fitness_dist *f, ir_diag *d);

#endif

/* evolution.h — evolutionary architecture search under constraints:
 * aging (regularized) evolution (Real et al. 2019, "Regularized Evolution
 * for Image Classifier Architecture Search", Algorithm 1) over a
 * search_space, maximising a fitness callback while every candidate it
 * keeps meets the space's constraints, and the Pareto front of fitness
 * against predicted latency over everything it evaluated.
 *
 *     search_evo_opts o; search_evo_opts_default(&o);
 *     o.fitness = my_fitness;  o.fitness_ctx = ...;     // higher is better
 *     o.latency = my_latency;  o.latency_ctx = lm;      // predicted ms
 *     search_result r;
 *     if (search_evolve(&space, &o, &r, &d) != IR_OK) ... d.msg
 *     best = r.all[r.best].cfg;
 *     for (size_t i = 0; i < r.n_front; i++) r.all[r.front[i]] ...
 *     search_result_free(&r);
 *
 * One cycle: draw `tournament` members of the population, the fittest is
 * the parent; with probability crossover_p a second tournament gives a
 * second parent and the child is their uniform crossover; the child is
 * then mutated (each gene with probability mutation_p, at least one). A
 * child that breaks a constraint is redrawn (up to 20 times). The child
 * joins the population and the oldest member leaves. Each distinct genome
 * is evaluated once, and only when it meets the constraints (fitness may
 * be expensive: a supernet evaluation); one that does not is kept with
 * fitness -inf, unusable.
 * Everything depends only on the seed: same seed, same result.
 *
 * Batches (issue 19, parallel search): the initial population is drawn as
 * a block and scored as one (o.fitness_batch when given, else o.fitness
 * on each in turn), more blocks following while fewer than `population`
 * of them are usable. With o.children_per_cycle = K > 1 a cycle draws K
 * children from the same population (each by its own tournaments, in a
 * fixed order), scores those that meet the constraints as one batch
 * (children whose score is unusable are redrawn, and the redraws scored as
 * the next batch), then inserts them in draw order, the K oldest leaving.
 * K = 1 (the default) is the one-child algorithm above, bit for bit. The
 * result depends on the seed and K, never on how a batch callback splits
 * its work, as long as it returns what o.fitness would for each candidate:
 * compress gives every MPI rank a share of each batch
 * (search/fitness_dist.h) while rank 0 alone draws candidates, measures
 * latency and checks the constraints.
 *
 * Checkpoints (o.ckpt_path, search/evolution_ckpt.h): the whole state
 * (every candidate with its fitness and latency, the population ring, the
 * random stream, the cycle count) is written atomically once the initial
 * population is scored, after each generation (`population` cycles) and
 * when the evolution ends. With o.resume a checkpoint found there is
 * continued from: its candidates are not evaluated again (their fitness
 * and latency are the stored ones, bit for bit) and the cycles after it
 * draw what the never stopped run drew, so a run stopped anywhere and
 * resumed ends with the result of a run never stopped (at the same K), as long as the
 * callbacks answer the same for the candidates evaluated after the
 * checkpoint. One written when `stop` ended the evolution says so, and a
 * resume of it runs no more cycles. A checkpoint written with other
 * options (population,
 * generations, tournament, mutation and crossover rates, seed, space,
 * o.ckpt_hash) is refused (IR_ERR_INPUT naming the file and the option),
 * as is a file that is not a whole checkpoint (truncated, corrupt).
 */
#ifndef DISTILC_SEARCH_EVOLUTION_H
#define DISTILC_SEARCH_EVOLUTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"
#include "search/space.h"

/* Fitness to maximise; a non-finite value marks the candidate unusable. */
typedef ir_status (*search_fitness_fn)(void *ctx, const ir_encoder_config *c,
                                       double *fitness, ir_diag *d);
/* Predicted latency in ms at the space's constraint setting. */
typedef ir_status (*search_latency_fn)(void *ctx, const ir_encoder_config *c,
                                       double *ms, ir_diag *d);

/* Scores n candidates at once: fitness[i] must be what search_fitness_fn
 * gives for c[i]. */
typedef ir_status (*search_fitness_batch_fn)(void *ctx,
                                             const ir_encoder_config *c,
                                             size_t n, double *fitness,
                                             ir_diag *d);

/* Numbers of the caller's own a checkpoint keeps (opts.checkpoint). */
enum { SEARCH_EVO_USER = 4 };

typedef struct search_evo_opts {
    size_t population;   /* 32 */
    size_t generations;  /* 10: cycles = generations · population */
    size_t tournament;   /* 8 (capped at population) */
    double mutation_p;   /* 0.3 per gene */
    double crossover_p;  /* 0.25 */
    uint64_t seed;       /* 0 */
    search_fitness_fn fitness;   /* required */
    void *fitness_ctx;
    /* scores a block of candidates (with fitness_ctx): the initial
     * population, a cycle's children; NULL: fitness on each in turn */
    search_fitness_batch_fn fitness_batch;
    size_t children_per_cycle;   /* K, 1 (0 is 1): children per cycle; a
                                    checkpoint of another K is refused */
    search_latency_fn latency;   /* NULL: no latency (0 ms, limit ignored) */
    void *latency_ctx;
    /* called after each cycle (done, total), may be NULL */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
    /* asked after each cycle (with progress_ctx): true ends the evolution
     * there (a time budget); the initial population is always scored.
     * May be NULL. */
    bool (*stop)(void *ctx);
    /* checkpoints (see above); NULL: none */
    const char *ckpt_path;
    bool resume;             /* continue from ckpt_path when it exists */
    /* the caller's hash of what its callbacks compute with (the fitness's
     * data, the latency setting): kept in the checkpoint, a resume with
     * another is refused */
    uint64_t ckpt_hash;
    /* called (with progress_ctx) before each checkpoint is written, may be
     * NULL: the place to persist what the callbacks measured (a latency
     * cache), so that no checkpoint holds a candidate whose measurements
     * are lost, and to put numbers of the caller's own (counters, seconds
     * spent) in user[], which the checkpoint keeps. An error ends the
     * evolution without writing the checkpoint. */
    ir_status (*checkpoint)(void *ctx, size_t done,
                            double user[SEARCH_EVO_USER], ir_diag *d);
    /* called (with progress_ctx) when a checkpoint was loaded, before the
     * evolution continues, with the cycles it had done and its user[];
     * may be NULL */
    void (*resumed)(void *ctx, size_t done, const double user[SEARCH_EVO_USER]);
} search_evo_opts;
void search_evo_opts_default(search_evo_opts *o);

typedef struct search_cand {
    search_genome g;
    ir_encoder_config cfg;
    double fitness;
    double latency_ms;
    int64_t params;
    double size_mb;
    bool feasible;       /* meets every constraint of the space */
    bool front;          /* on the Pareto front */
} search_cand;

typedef struct search_result {
    search_cand *all;    /* every distinct candidate, in evaluation order */
    size_t n;
    size_t *front;       /* indices into all, by increasing latency */
    size_t n_front;
    size_t best;         /* the fittest feasible candidate */
    size_t cycles;       /* evolution cycles run (resumed ones included) */
    size_t resumed_at;   /* cycles done by the checkpoint it resumed from */
    bool resumed;        /* it continued from a checkpoint */
} search_result;

/* IR_ERR_INPUT when no initial population meeting the constraints can be
 * drawn (naming the limit); errors of the callbacks are passed on with the
 * candidate prefixed. */
ir_status search_evolve(const search_space *sp, const search_evo_opts *o,
                        search_result *out, ir_diag *d);
void search_result_free(search_result *r);

/* Marks and lists the feasible candidates no other feasible candidate
 * dominates (fitness >= and latency <=, one of them strictly); idx must
 * hold n entries; returns the count, sorted by increasing latency. Equal
 * points keep the first. */
size_t search_pareto_front(search_cand *c, size_t n, size_t *idx);

/* The stand-in fitness until the supernet estimates accuracy:
 *     ½ · ln(non-embedding parameters) + ½ · ln(encoder FLOPs per token)
 * with parameters counted once per sharing group (the capacity the
 * choices control) and FLOPs at *(int64_t *)ctx tokens of context (the
 * cost every layer still pays when weights are shared). Larger and deeper
 * scores higher; sharing scores lower than the same shape unshared. */
#define SEARCH_PROXY_FITNESS_NAME \
    "proxy: 0.5 ln(non-embedding params) + 0.5 ln(FLOPs/token); no supernet yet"
ir_status search_proxy_fitness(void *ctx, const ir_encoder_config *c,
                               double *fitness, ir_diag *d);

#endif

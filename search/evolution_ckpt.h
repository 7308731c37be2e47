/* evolution_ckpt.h — the file an evolution (search/evolution.h) checkpoints
 * into: what it was started with and where it was, so that a search killed
 * anywhere continues to the result of one never killed.
 *
 *     search_evo_ckpt ck;
 *     if (search_evo_ckpt_read("ckpt/search/evolution.ckpt", &ck, &d) != IR_OK)
 *         ... d.msg names the file and what is wrong with it
 *     ... ck.population, ck.done, ck.cand[i].fitness ...
 *     search_evo_ckpt_free(&ck);
 *
 * Layout (native byte order, little-endian on every machine distilc runs
 * on): "DSTLEVO\0", u32 version, u32 genes per genome; the options as u64
 * (population, generations, tournament, seed, space hash, caller hash) and
 * f64 (mutation and crossover rates); the state: u64 random stream, cycles
 * done, ring head, stopped (0/1), f64 user[SEARCH_EVO_USER], u64 candidate
 * count n; u64 pop[population] (indices into the candidates); n candidates
 * of genes bytes of genome, one byte feasible, f64 fitness, f64 latency;
 * a trailing u64 FNV-1a checksum of everything before it. Doubles are
 * stored as their bits, so a resumed search compares the very numbers the
 * killed one did. Written atomically (ir/file_atomic.h).
 */
#ifndef DISTILC_SEARCH_EVOLUTION_CKPT_H
#define DISTILC_SEARCH_EVOLUTION_CKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"
#include "search/evolution.h"
#include "search/space.h"

enum { SEARCH_EVO_CKPT_VERSION = 1 };

typedef struct search_evo_ckpt {
    /* the options it was written with (search_evo_opts) */
    uint64_t population, generations, tournament, seed;
    double mutation_p, crossover_p;
    uint64_t space_hash;     /* search_space_hash */
    uint64_t caller_hash;    /* search_evo_opts.ckpt_hash */
    /* where the evolution was */
    uint64_t rng;            /* search_rng state */
    uint64_t done;           /* cycles run */
    uint64_t head;           /* the oldest member's slot in pop */
    bool stopped;            /* the evolution ended there (stop callback) */
    double user[SEARCH_EVO_USER];
    size_t *pop;             /* population entries: indices into cand */
    search_cand *cand;       /* g, fitness, latency_ms, feasible (the rest
                                is the decoder's, recomputed on a resume) */
    size_t n;
} search_evo_ckpt;

/* IR_ERR_IO naming the path when it cannot be written. */
ir_status search_evo_ckpt_write(const char *path, const search_evo_ckpt *c,
                                ir_diag *d);
/* Reads and checks a checkpoint: a file that is not one, of another
 * version, truncated, corrupt (checksum) or inconsistent (an index out of
 * range, more cycles than its options allow) is IR_ERR_INPUT naming the
 * path and what is wrong; IR_ERR_IO when it cannot be read. c is
 * allocated only on IR_OK (free with search_evo_ckpt_free). */
ir_status search_evo_ckpt_read(const char *path, search_evo_ckpt *c,
                               ir_diag *d);
void search_evo_ckpt_free(search_evo_ckpt *c);

/* A hash of what a search over sp draws and decodes: the choice lists,
 * the sharing choices, the constraints and the base config's sizes. */
uint64_t search_space_hash(const search_space *sp);

#endif

/* space.h — the architecture search space: which encoder shapes a search
 * may pick (layers, hidden, heads, FFN, factorized embedding size, sharing
 * scheme), what every candidate shares (vocabulary, task head) and the
 * constraints a student must meet (latency, parameters, binary size).
 *
 * A space comes from an XML file validated against search/space.xsd:
 *
 *     search_space sp;
 *     if (search_space_load_file("search/spaces/default.xml", &sp, &d))
 *         ... d.msg: "space.xml:9: element 'heads': '0' is not a valid ..."
 *     search_rng r; search_rng_seed(&r, 42);
 *     search_genome g;
 *     search_space_sample(&sp, &r, &g, &d);         // valid, meets limits
 *     ir_encoder_config c;
 *     search_space_decode(&sp, &g, &c, &d);         // -> ir_encoder_config
 *     search_space_mutate(&sp, &r, &g, 0.3, &child);
 *
 * A candidate is a genome: one index per gene into that gene's choice
 * list. Genomes are what evolution mutates and crosses over; decoding one
 * gives the ir_encoder_config the rest of distilc works with. Validity:
 * heads divide hidden with at least SEARCH_MIN_HEAD_DIM dims per head, a
 * factorized embedding is narrower than hidden, groups:K needs K < layers
 * and K dividing layers, and the static constraints (parameters, size)
 * hold. Latency is checked by the caller, which owns a latency model.
 *
 * The space's types (search_space, search_gene, search_share, ...) and
 * their names are declared in frontend/space_xml.h, beside the XML reader,
 * as frontend/recipe.h does for recipes; this header includes it.
 */
#ifndef DISTILC_SEARCH_SPACE_H
#define DISTILC_SEARCH_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frontend/space_xml.h"
#include "ir/diag.h"
#include "ir/encoder.h"

typedef struct search_genome {
    uint8_t g[SEARCH_GENE_COUNT]; /* index into the gene's choices */
} search_genome;

/* A deterministic generator (splitmix64): same seed, same search. */
typedef struct search_rng {
    uint64_t s;
} search_rng;
void search_rng_seed(search_rng *r, uint64_t seed);
uint64_t search_rng_next(search_rng *r);
double search_rng_uniform(search_rng *r);   /* [0, 1) */
size_t search_rng_below(search_rng *r, size_t n); /* [0, n) */

/* Parses and validates a space (frontend/space_xml.h reads the XML), then
 * checks that some candidate is valid under the constraints. Errors are
 * IR_ERR_INPUT naming the file, line and element ("f.xml:7: element
 * 'heads': ..."); IR_ERR_IO when the file cannot be read. Constraints
 * missing from the file are 0 (none) with seq 128, batch 1, threads 2,
 * fp32. */
ir_status search_space_load_file(const char *path, search_space *sp,
                                 ir_diag *d);
ir_status search_space_load_memory(const char *text, size_t len,
                                   const char *name, search_space *sp,
                                   ir_diag *d);

/* The config a genome stands for; IR_ERR_INPUT naming the rule it breaks
 * (an index out of range, heads not dividing hidden, ...). Does not check
 * the constraints. */
ir_status search_space_decode(const search_space *sp, const search_genome *g,
                              ir_encoder_config *c, ir_diag *d);
/* Bytes of the weights at a precision: fp32 4 per parameter, bf16 2, int8
 * 1 per encoder-layer matrix element and 4 for everything else (the
 * embeddings, biases and norms stay f32). */
double search_config_size_mb(const ir_encoder_config *c, ir_precision p);
/* Parameters outside the embeddings, pooler and head (shared groups once):
 * the capacity the architecture choices control. */
int64_t search_config_body_params(const ir_encoder_config *c);
/* Decodes and checks the static constraints (parameters, size). */
bool search_space_valid(const search_space *sp, const search_genome *g);
/* A uniformly drawn valid genome (rejection sampling); IR_ERR_INPUT when
 * none is found in many draws (the constraints exclude nearly all). */
ir_status search_space_sample(const search_space *sp, search_rng *r,
                              search_genome *out, ir_diag *d);
/* Each gene re-drawn with probability p (at least one gene changes) until
 * the child is valid; returns false (child = parent) when no valid
 * mutation is found. */
bool search_space_mutate(const search_space *sp, search_rng *r,
                         const search_genome *parent, double p,
                         search_genome *child);
/* Uniform crossover: each gene from a or b; false (child = a) when no
 * valid mix is found. */
bool search_space_crossover(const search_space *sp, search_rng *r,
                            const search_genome *a, const search_genome *b,
                            search_genome *child);
/* Genomes in the space (product of list sizes) and how many are valid
 * (enumerated; counts stop at `limit` when limit > 0). */
double search_space_total(const search_space *sp);
size_t search_space_count_valid(const search_space *sp, size_t limit);
/* The i-th genome of the full product in gene order (i < total). */
void search_space_genome_at(const search_space *sp, uint64_t i,
                            search_genome *out);
bool search_genome_equal(const search_genome *a, const search_genome *b);
/* "L4 H312 A12 F1200 E0 none" */
void search_config_format(const ir_encoder_config *c, char *buf, size_t n);

#endif

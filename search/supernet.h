/* supernet.h — a weight-sharing supernet over a search space (once-for-all
 * / HAT style): one set of weights for the space's largest encoder, and
 * every candidate as a slice of it, so a candidate's accuracy can be
 * estimated without training it from scratch.
 *
 *     search_supernet *sn;
 *     search_supernet_new(&space, 42, &sn, &d);   // largest config, N(0,.02)
 *     train_params *sub;
 *     search_supernet_extract(sn, &cfg, &sub, &d); // sliced copy, own grads
 *     ... train_forward / losses / train_backward on sub ...
 *     search_supernet_add_grads(sn, sub, &d);      // back into the slice
 *     train_params_free(sub);
 *     train_adamw_update(search_supernet_params(sn), &opt, step);
 *
 * Slicing (each dimension takes its first entries): `layers` of the
 * supernet's layers, those TinyBERT's uniform map g(m) = m·L/L_c assigns
 * (a sharing group reads the layer of its first member), the first
 * `hidden` dims of every hidden-sized axis (embeddings' columns, norms,
 * pooler, the head's rows), the first `ffn` neurons, and for the packed
 * attention projection the first `hidden` columns of each of q, k and v,
 * read as `heads` heads of hidden/heads dims (the first heads when the head
 * size matches the supernet's). Factorized embeddings (embed > 0) are not
 * sliced yet: such candidates give IR_ERR_UNSUPPORTED.
 *
 * Training follows the sandwich rule (Yu & Huang 2019, "Universally
 * Slimmable Networks"): every step trains the largest and the smallest
 * candidate plus a few random ones; search_supernet_sandwich picks them.
 */
#ifndef DISTILC_SEARCH_SUPERNET_H
#define DISTILC_SEARCH_SUPERNET_H

#include "distill/params.h"
#include "search/space.h"

typedef struct search_supernet search_supernet;

/* The space's largest candidate shape (max layers, hidden, FFN; heads
 * giving the smallest head size >= SEARCH_MIN_HEAD_DIM that divides it; no
 * sharing, no factorization), its weights N(0, 0.02) from seed. */
ir_status search_supernet_new(const search_space *sp, uint64_t seed,
                              search_supernet **out, ir_diag *d);
void search_supernet_free(search_supernet *sn);
const ir_encoder_config *search_supernet_config(const search_supernet *sn);
train_params *search_supernet_params(search_supernet *sn);

/* A supernet holding e's weights. reorder (for a teacher): every axis
 * sorted by importance first (distill/student.h's
 * student_init_from_teacher_ordered), which keeps e's function and makes
 * each slice start as the student the teacher would initialise; without
 * it (a saved supernet) the weights are taken as they are. The full slice
 * (search_supernet_encoder at e's config) is then the reordered teacher,
 * the one whose attention heads and hidden dims the slices line up with.
 * A teacher that shares layers or factorizes its embeddings (ALBERT,
 * ELECTRA-small) is unfolded (search_supernet_unfolded_config): one
 * weight set per layer, its group's, and H-wide embedding tables with the
 * projection folded in (student_init_from_teacher; approximate for
 * embeddings projected after their LayerNorm), so its full slice is close
 * to the teacher, not the teacher: distil from the teacher itself. */
ir_status search_supernet_from_encoder(const ir_encoder *e, bool reorder,
                                       search_supernet **out, ir_diag *d);
/* The config of the supernet of a teacher of config c: c without sharing
 * and with unfactorized embeddings (equal to c for BERT-like teachers). */
void search_supernet_unfolded_config(const ir_encoder_config *c,
                                     ir_encoder_config *out);

/* IR_ERR_INPUT naming the dimension when c is not a slice of the supernet
 * (more layers, wider, another vocabulary...), IR_ERR_UNSUPPORTED for a
 * factorized embedding. */
ir_status search_supernet_check(const search_supernet *sn,
                                const ir_encoder_config *c, ir_diag *d);
/* New train_params of config c holding the slice; grads zero. */
ir_status search_supernet_extract(const search_supernet *sn,
                                  const ir_encoder_config *c,
                                  train_params **out, ir_diag *d);
/* The slice as a new ir_encoder (e.g. to start distillation from the
 * supernet's weights, or to run the candidate in backend/rt). */
ir_status search_supernet_encoder(const search_supernet *sn,
                                  const ir_encoder_config *c, ir_encoder **out,
                                  ir_diag *d);
/* Adds sub's gradients into the supernet's at the slice sub came from. */
ir_status search_supernet_add_grads(search_supernet *sn,
                                    const train_params *sub, ir_diag *d);

/* The sandwich for one step: out[0] the largest valid genome, out[1] the
 * smallest (by parameters), then n_random random valid genomes; returns
 * how many were written (2 + n_random; fewer only for tiny spaces).
 * Only genomes the supernet can slice (no factorized embedding) are
 * drawn. With prev (the previous step's sandwich, 2 + n_random genomes),
 * each random genome is the previous one with one choice changed (a walk
 * through the space: consecutive steps differ in one choice, which keeps
 * them from pulling the shared weights apart), drawn afresh only when no
 * such neighbour can be sliced. */
size_t search_supernet_sandwich(const search_supernet *sn,
                                const search_space *sp, search_rng *r,
                                size_t n_random, const search_genome *prev,
                                search_genome *out);

#endif

/* student.h — making a student encoder from a teacher: the student's config
 * from a spec string and a sharing scheme, the layer mapping, and its
 * initial weights (random, or cut out of the teacher). Copies between an
 * ir_encoder and train_params are distill/params.h's.
 *
 *     student_spec s;
 *     if (student_spec_parse("layers=4,hidden=312,heads=12,ffn=1200", &s,
 *                            &d) != IR_OK) ...             // exit 2
 *     ir_enc_share sh; int64_t k;
 *     student_share_parse("groups:2", &sh, &k, &d);
 *     ir_encoder_config sc;
 *     student_config_make(&teacher->cfg, &s, sh, k, &sc, &d);
 *     int64_t map[IR_ENCODER_MAX_LAYERS];
 *     student_layer_map_uniform(sc.layers, teacher->cfg.layers, map);
 *     train_params *sp;  train_params_new(&sc, &sp, &d);
 *     student_init_from_teacher(sp, tp, map, NULL, &d); // or _init_random
 *
 * Layer mapping (TinyBERT's g(m)): map[m-1] = g(m) is the teacher layer
 * (1-based, 1..L_t) whose output student layer m (1-based) learns; the
 * embeddings (0) always map to 0. Uniform: g(m) = m * L_t / L_s.
 *
 * Initialisation from the teacher (what "matters most" means here: WEIGHT
 * MAGNITUDE, no data needed):
 * - layers: student layer m copies teacher layer g(m); a sharing group
 *   copies the teacher layer of the first student layer that uses it.
 * - hidden width H_s < H_t: keep the H_s residual-stream dimensions c with
 *   the largest sum of squared weights touching c (every embedding column,
 *   every qkv / ffn.in row, every attn.out / ffn.out column, LayerNorm
 *   gammas), in their original order.
 * - heads: per layer keep the A_s teacher heads with the largest sum of
 *   squares of their q, k, v columns and attn.out rows; inside a kept head
 *   keep the hs_s = H_s/A_s dims with the largest |q_j|·|k_j| + |v_j|·|o_j|
 *   (column / row norms); q is scaled by sqrt(hs_s/hs_t) so the scores'
 *   1/sqrt(head size) stays matched. hs_s > hs_t is unsupported.
 * - FFN: keep the F_s neurons with the largest |in_f|·|out_f|.
 * - embeddings: columns sliced to the kept dims; a factorized student
 *   (embed=E) gets word = W·V_E and proj = V_Eᵀ, V_E the top E eigenvectors
 *   of WᵀW (W the sliced [V,H_s] table): the best rank-E approximation.
 *   A teacher whose embeddings are factorized is read through its
 *   projection first (ELECTRA-small and ALBERT project after an E-wide
 *   LayerNorm: every table goes through it, see teacher_wide_tables in
 *   student.c). A factorized student of such a teacher projects after its
 *   LayerNorm too, and keeps the E_s teacher embedding dims with the most
 *   weight instead (E_s <= E_t): its tables, LayerNorm and projection are
 *   the teacher's, sliced.
 * - pooler and head: rows / columns sliced to the kept dims.
 * - MPNet's relative position bias (kept by the student, whose config is
 *   the teacher's but for the spec): its table's columns are the heads
 *   the first attention group kept (one table serves every layer).
 */
#ifndef DISTILC_DISTILL_STUDENT_H
#define DISTILC_DISTILL_STUDENT_H

#include "distill/params.h"
#include "ir/encoder.h"

typedef struct student_spec {
    int64_t layers, hidden, heads, ffn;
    int64_t embed; /* 0 = not factorized */
} student_spec;

/* "layers=L,hidden=H,heads=A,ffn=F[,embed=E]" (keys in any order, all but
 * embed required). IR_ERR_INPUT naming the key or text at fault, or
 * "heads = 5 does not divide hidden = 32". */
ir_status student_spec_parse(const char *text, student_spec *out, ir_diag *d);

/* "none", "all", "groups:K", "attention", "ffn". k is set for groups only
 * (0 otherwise). IR_ERR_INPUT for an unknown scheme or a bad K. */
ir_status student_share_parse(const char *text, ir_enc_share *share,
                              int64_t *k, ir_diag *d);

/* The student config: sizes from s, everything else (vocab, positions,
 * type vocab, labels, head, activation, eps) from the teacher, and the
 * sharing maps. groups:K must divide the student's layers. A factorized
 * student (s->embed > 0) of a factorized teacher projects where the
 * teacher does (embed_kind); any other is project_word. */
ir_status student_config_make(const ir_encoder_config *teacher,
                              const student_spec *s, ir_enc_share share,
                              int64_t k, ir_encoder_config *out, ir_diag *d);

/* g(m) = m * Lt / Ls (integer division), m = 1..Ls, into map[0..Ls). */
void student_layer_map_uniform(int64_t ls, int64_t lt, int64_t *map);
/* A comma list of Ls teacher layers in 1..Lt, e.g. "3,6,9,12". */
ir_status student_layer_map_parse(const char *text, int64_t ls, int64_t lt,
                                  int64_t *map, ir_diag *d);

/* N(0, 0.02) matrices, zero biases, LayerNorm 1 / 0 (BERT's init). */
void student_init_random(train_params *s, uint64_t seed);

/* Copies (and narrows) the teacher's weights into s as the header comment
 * describes. keep_dims, if not NULL, receives the H_s teacher dims kept
 * (ascending), which lets the hidden-state projection W start as the
 * matching selection. IR_ERR_UNSUPPORTED when the student is wider than
 * the teacher anywhere (hidden, heads, head size, ffn, or more layers),
 * suggesting --init random. */
ir_status student_init_from_teacher(train_params *s, const train_params *t,
                                    const int64_t *layer_map,
                                    int64_t *keep_dims, ir_diag *d);

/* The same selection, kept in decreasing importance instead of the
 * teacher's order (residual dims, heads, dims inside a head, FFN neurons),
 * so the first k of any of them are the k that matter most. With s's
 * config equal to t's, s is the teacher reordered: the same function,
 * ready to be sliced (search/supernet.h). keep_dims gets the teacher dim
 * of each student dim, most important first. */
ir_status student_init_from_teacher_ordered(train_params *s,
                                            const train_params *t,
                                            const int64_t *layer_map,
                                            int64_t *keep_dims, ir_diag *d);

#endif

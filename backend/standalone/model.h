/* model.h — the C API of a program emitted by `distilc build`: load the
 * model's weights, run it on token ids, read the logits. Link model.c
 * (compiled with -DDISTILC_MODEL_NO_MAIN to leave out the command-line
 * program) and the sources under rt/ into your own program.
 *
 *     char err[512];
 *     distilc_model *m = model_load("model.weights", -1, err, sizeof err);
 *     if (!m) { fprintf(stderr, "%s\n", err); exit(1); }
 *     int64_t ids[4] = {101, 7592, 2088, 102};
 *     float logits[8];                       // model_labels(m) per row
 *     if (model_run(m, 1, 4, ids, NULL, NULL, logits, err, sizeof err))
 *         fprintf(stderr, "%s\n", err);
 *     model_free(m);
 *
 * Errors come back as a non-zero status (2: bad input such as an id out of
 * range; 1: anything else) with a message in err.
 */
#ifndef DISTILC_MODEL_H
#define DISTILC_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct distilc_model distilc_model;

/* Maps and validates the weights (model.weights written by distilc build;
 * its checksum too, so a flipped bit is refused) and prepares the oneDNN
 * runtime. threads: -1 = the default the program
 * was built with, 0 = all cores, N > 0 = N. NULL with a message in err on
 * error. */
distilc_model *model_load(const char *weights_path, int threads, char *err,
                          size_t errlen);
/* The same at another precision ("fp32", "bf16", "int8"; NULL = the one the
 * program was built for). */
distilc_model *model_load_precision(const char *weights_path, int threads,
                                    const char *precision, char *err,
                                    size_t errlen);
/* The same, with verify_checksum = 0 skipping the checksum (the header,
 * sizes and shapes are still checked): for a huge file on a trusted disk,
 * where reading every byte once more costs time. */
distilc_model *model_load_checked(const char *weights_path, int threads,
                                  const char *precision, int verify_checksum,
                                  char *err, size_t errlen);

/* ids, mask and types are int64 [batch, seq]; mask and types may be NULL
 * (no padding; all type 0). Ids must lie in the vocabulary, types below
 * model_type_vocab(m), the mask be 0 (padding) or 1 (a token). logits is [batch, model_labels(m)]. Returns 0,
 * or 2 for bad input (message names the position), 1 for a failure. */
int model_run(distilc_model *m, int64_t batch, int64_t seq,
              const int64_t *ids, const int64_t *mask, const int64_t *types,
              float *logits, char *err, size_t errlen);

/* Outputs per example (1 for a regression head). */
int model_labels(const distilc_model *m);
/* 0 when the source model had no token_type_ids input: model_run then
 * ignores types (all 0, as that model computed). */
int model_has_token_types(const distilc_model *m);
/* 1 when the head is a regression (one score, no argmax). */
int model_is_regression(const distilc_model *m);
/* Longest sequence the position table allows (RoBERTa's positions start
 * at pad_id + 1, so fewer than its rows); token type vocabulary. */
int64_t model_max_seq(const distilc_model *m);
int64_t model_vocab(const distilc_model *m);
int64_t model_type_vocab(const distilc_model *m);
void model_free(distilc_model *m);

#endif

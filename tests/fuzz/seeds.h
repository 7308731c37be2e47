/* seeds.h — the seed corpus writers of make_seeds, one per group of
 * harnesses: each writes OUT/<harness>/<seed> files for the harnesses it
 * serves (the harness names are those of tests/fuzz/fuzz_<harness>.c).
 * They return 0, or 1 after printing what failed. */
#ifndef DISTILC_FUZZ_SEEDS_H
#define DISTILC_FUZZ_SEEDS_H

#include <stddef.h>

/* OUT/harness/name = data[0..len). */
int seed_put(const char *out, const char *harness, const char *name,
             const void *data, size_t len);
/* The same from a NUL-terminated text. */
int seed_text(const char *out, const char *harness, const char *name,
              const char *text);
/* The same with a prefix of n bytes (mode bytes) before the text. */
int seed_prefixed(const char *out, const char *harness, const char *name,
                  const void *prefix, size_t n, const char *text);
/* A file distilc wrote at path, moved into OUT/harness/name. */
int seed_move(const char *out, const char *harness, const char *name,
              const char *path);

int seeds_onnx(const char *out, const char *tmp);   /* onnx_load, tensor_proto */
int seeds_text(const char *out, const char *src);   /* glue_tsv, user_data,
                                                       vocab_txt,
                                                       tokenizer_json, tokenize,
                                                       json, program_stdin,
                                                       recipe_xml, space_xml */
int seeds_model(const char *out, const char *tmp);  /* state_json, latency_cache,
                                                       calibration, checkpoint,
                                                       model_weights,
                                                       search_ckpt */

#endif

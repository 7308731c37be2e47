/* tokenizer_charsmap.h — SentencePiece's precompiled normalisation map (the
 * "Precompiled" normalizer of XLM-R, ALBERT, T5... tokenizer.json files):
 *
 *   blob = u32 little-endian trie size in bytes
 *        | the trie: a darts-clone double array of u32 units over the UTF-8
 *          bytes of each rule's source
 *        | the replacements: NUL-terminated UTF-8 strings; a trie value is
 *          the offset of one of them
 *
 * Applied as Hugging Face does it: text goes grapheme cluster by grapheme
 * cluster; a cluster shorter than 6 bytes whose bytes start with a rule's
 * source (the shortest such rule) is replaced whole; otherwise each code
 * point is looked up on its own. Reading checks every index, so a damaged
 * blob gives an error or no match, never a read out of bounds. */
#ifndef DISTILC_TOKENIZER_CHARSMAP_H
#define DISTILC_TOKENIZER_CHARSMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tok_charsmap {
    uint32_t *units; /* the double array */
    size_t n_units;
    char *repl; /* the replacement strings */
    size_t repl_len;
} tok_charsmap;

/* From base64 text (as tokenizer.json stores precompiled_charsmap). On
 * failure returns false with the reason in why. */
bool tok_charsmap_init(tok_charsmap *cm, const char *b64, size_t n, char *why,
                       size_t why_len);
/* The replacement of the shortest rule whose source starts s[0..n), or
 * NULL (its length in *len). */
const char *tok_charsmap_match(const tok_charsmap *cm, const char *s, size_t n,
                               size_t *len);
void tok_charsmap_free(tok_charsmap *cm);

#endif

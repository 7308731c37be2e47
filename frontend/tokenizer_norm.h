/* tokenizer_norm.h — Hugging Face normalizers beyond BERT's (private to the
 * tokenizer files): NFC/NFD/NFKC/NFKD (ICU's unorm2), Lowercase,
 * StripAccents, Replace (a string, or a regex run by ICU's uregex), Strip,
 * Prepend and Precompiled (SentencePiece's charsmap, tokenizer_charsmap.c).
 * A Sequence is the array itself. The normalizers are read-only after
 * loading; everything that changes during a call is in tok_norm_scratch. */
#ifndef DISTILC_TOKENIZER_NORM_H
#define DISTILC_TOKENIZER_NORM_H

#include "frontend/tokenizer_charsmap.h"
#include "frontend/tokenizer_pipe.h"

typedef enum tok_norm_kind {
    TOK_NORM_NFC,
    TOK_NORM_NFD,
    TOK_NORM_NFKC,
    TOK_NORM_NFKD,
    TOK_NORM_LOWERCASE,
    TOK_NORM_STRIP_ACCENTS,
    TOK_NORM_REPLACE,
    TOK_NORM_STRIP,
    TOK_NORM_PREPEND,
    TOK_NORM_PRECOMPILED,
    TOK_NORM_COUNT
} tok_norm_kind;

typedef struct tok_norm {
    tok_norm_kind kind;
    char *text;           /* Replace: the pattern string; Prepend: the text */
    size_t text_len;
    char *content;        /* Replace: what replaces each match */
    size_t content_len;
    void *regex;          /* Replace with a Regex pattern: URegularExpression */
    size_t regex_index;   /* its slot in tok_norm_scratch.regex */
    bool left, right;     /* Strip */
    tok_charsmap charsmap; /* Precompiled */
    void *nf, *nf_set; /* NF*: ICU's normaliser filtered to HF's Unicode */
} tok_norm;

/* Per-encoding state: two buffers and ICU objects that are not shareable
 * between threads (regex clones, a grapheme break iterator). */
typedef struct tok_norm_scratch {
    tok_str buf[2];
    uint16_t *u16[2]; /* UTF-16 for ICU's normaliser */
    size_t u16_cap[2];
    void **regex; /* clones, one per Replace regex */
    size_t n_regex;
    void *graphemes; /* UBreakIterator */
    void *utext;     /* UText over the string being split */
} tok_norm_scratch;

/* Unicode versions of the tables in HF tokenizers (its fork of the Rust
 * crate unicode-normalization): code points assigned later are left
 * alone, as HF leaves them (measured against tokenizers 0.23 on every
 * code point by tests/frontend/test_tokenizer_json_hf.py). */
#define TOK_HF_NF_UNICODE "11.0"    /* NFC, NFD, NFKC, NFKD */
#define TOK_HF_MARK_UNICODE 9      /* StripAccents' combining marks */

/* Sets up an NFC/NFD/NFKC/NFKD normalizer (nm->kind set). */
ir_status tok_norm_form_init(tok_norm *nm, char *why, size_t why_len);
/* Compiles a Replace regex (pattern in UTF-8); the message says why not. */
ir_status tok_norm_regex_compile(tok_norm *nm, const char *pattern, size_t n,
                                 char *why, size_t why_len);
/* Runs norms[0..n) on in[0..len) (valid UTF-8); *out points into the
 * scratch (or at in when n == 0) and stays valid until the next call. */
ir_status tok_norm_run(const tok_norm *norms, size_t n, tok_norm_scratch *ns,
                       const char *in, size_t len, const char **out,
                       size_t *out_len, ir_diag *d);
void tok_norm_free(tok_norm *nm);
void tok_norm_scratch_free(tok_norm_scratch *ns);

#endif

/* tokenizer.h — tokenizers identical in output to Hugging Face
 * `tokenizers`: BERT's WordPiece (BertNormalizer + BertPreTokenizer +
 * WordPiece + BertProcessing/TemplateProcessing) from a vocab.txt or a
 * tokenizer.json, and from a tokenizer.json also byte-level BPE (RoBERTa,
 * GPT-2), Unigram (XLM-R, ALBERT, DeBERTa-v3) and SentencePiece BPE with
 * the normalizers, pre-tokenizers and post-processors those files use
 * (tokenizer_pipe.h lists them).
 *
 *     ir_diag d; ir_diag_init(&d);
 *     tok_tokenizer *tok;
 *     tok_options o = tok_options_default();      // uncased BERT
 *     if (tok_load_vocab("vocab.txt", &o, &tok, &d) != IR_OK) ...
 *     tok_encoding enc = {0};
 *     tok_encode(tok, "Hello, world!", "Second text", 128, 0, &enc, &d);
 *     // enc.input_ids[0..enc.len): 101 7592 1010 2088 999 102 2117 3793 102
 *     tok_encoding_free(&enc);
 *     tok_free(tok);
 *
 * Text is UTF-8 bytes. Ill-formed UTF-8 is never an error: each maximal
 * ill-formed subsequence becomes U+FFFD, as Python's
 * bytes.decode("utf-8", "replace") would give HF, and clean_text (on by
 * default) then removes it. A loaded tokenizer is read-only, so threads may
 * share it, each with its own tok_encoding.
 */
#ifndef DISTILC_TOKENIZER_H
#define DISTILC_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"

/* BertNormalizer's options (HF names). strip_accents: -1 = follow
 * lowercase (HF's None), 0 = off, 1 = on. */
typedef struct tok_options {
    bool lowercase;
    int strip_accents;
    bool clean_text;
    bool handle_chinese_chars;
} tok_options;

tok_options tok_options_default(void); /* lowercase, strip -1, clean, cjk */

typedef struct tok_tokenizer tok_tokenizer;

enum { TOK_PAD = 1 }; /* tok_encode flag: pad to max_seq with [PAD] */

/* One encoded example. The caller zero-initialises it once and may reuse it
 * for many calls (buffers grow as needed); tok_encoding_free releases it. */
typedef struct tok_encoding {
    int64_t *input_ids;      /* [len] */
    int64_t *token_type_ids; /* [len] 0 for text A, 1 for text B */
    int64_t *attention_mask; /* [len] 1, 0 on padding */
    size_t len;
    size_t cap;
    void *scratch; /* internal working buffers */
} tok_encoding;

/* vocab.txt: one token per line, id = line number (0-based), trailing
 * whitespace and CR trimmed, a repeated token takes its last line (as HF).
 * [UNK], [CLS] and [SEP] must be present; [PAD], [UNK], [CLS], [SEP] and
 * [MASK] found in the text are single tokens (HF's special tokens). */
ir_status tok_load_vocab(const char *path, const tok_options *opts,
                         tok_tokenizer **out, ir_diag *d);
/* Same, from vocab text in memory; name is used in messages. */
ir_status tok_load_vocab_text(const char *text, size_t len, const char *name,
                              const tok_options *opts, tok_tokenizer **out,
                              ir_diag *d);
/* A Hugging Face tokenizer.json. A WordPiece model needs BERT's normalizer
 * and pre_tokenizer; a BPE or Unigram model takes the components listed in
 * tokenizer_pipe.h. Anything else is IR_ERR_UNSUPPORTED naming the
 * component by its JSON path. The file's own "truncation" and "padding"
 * sections are ignored (max_seq and TOK_PAD decide; the pad id is
 * padding.pad_id, else <pad> or [PAD], else 0). */
ir_status tok_load_json(const char *path, tok_tokenizer **out, ir_diag *d);
ir_status tok_load_json_text(const char *text, size_t len, const char *name,
                             tok_tokenizer **out, ir_diag *d);
void tok_free(tok_tokenizer *tok);

/* Encodes text a, or the pair (a, b) when b is not NULL:
 * [CLS] A [SEP] (B [SEP]), or the loaded template. max_seq > 0 truncates
 * longest_first exactly as HF does (with the special tokens counted);
 * max_seq = 0 never truncates. flags: TOK_PAD pads to max_seq. */
ir_status tok_encode(const tok_tokenizer *tok, const char *a, const char *b,
                     size_t max_seq, int flags, tok_encoding *enc,
                     ir_diag *d);
/* The same with explicit byte lengths (texts may contain NUL bytes). */
ir_status tok_encode_n(const tok_tokenizer *tok, const char *a, size_t a_len,
                       const char *b, size_t b_len, size_t max_seq, int flags,
                       tok_encoding *enc, ir_diag *d);
void tok_encoding_free(tok_encoding *enc);

/* The words the text splits into before WordPiece (normalised, then split
 * on whitespace, punctuation, CJK and special tokens) — HF's normalizer +
 * pre_tokenizer, for debugging and for comparing with HF. fn is called once
 * per word with its UTF-8 bytes. */
typedef void (*tok_word_fn)(const char *word, size_t len, void *ctx);
ir_status tok_words(const tok_tokenizer *tok, const char *text, size_t len,
                    tok_word_fn fn, void *ctx, tok_encoding *scratch,
                    ir_diag *d);

/* Id of a vocabulary token, or -1. */
int64_t tok_token_id(const tok_tokenizer *tok, const char *token);
/* The id TOK_PAD pads with: a tokenizer.json's padding.pad_id, else its
 * <pad> or [PAD] token, else 0 (RoBERTa and XLM-R: 1). Batches padded by
 * hand (training, evaluation) use it too, so a model that numbers
 * positions over ids != pad sees what Hugging Face's tokenizer gives it. */
int64_t tok_pad_id(const tok_tokenizer *tok);
size_t tok_vocab_size(const tok_tokenizer *tok);
/* Calls fn once for every vocabulary entry (id, its bytes, their length),
 * in no particular order: the id -> token direction (decoding, classifying
 * tokens as in distill/augment.h). Entries a repeated token overwrote are
 * not listed, so some ids below tok_vocab_size may never be seen. */
typedef void (*tok_vocab_fn)(int64_t id, const char *token, size_t len,
                             void *ctx);
void tok_vocab_each(const tok_tokenizer *tok, tok_vocab_fn fn, void *ctx);

#endif

/* tokenizer_internal.h — the tokenizer's private layout, shared by
 * tokenizer.c (encoding) and tokenizer_load.c (vocab.txt / tokenizer.json).
 * Not installed for users; include frontend/tokenizer.h instead. */
#ifndef DISTILC_TOKENIZER_INTERNAL_H
#define DISTILC_TOKENIZER_INTERNAL_H

#include "frontend/json.h"
#include "frontend/tokenizer.h"

/* Vocabulary: open-addressing hash table over token bytes kept in one blob;
 * FNV-1a 64 hashes so "##" + piece can be hashed without a copy. */
typedef struct tok_vocab_slot {
    uint64_t hash;
    uint32_t off, len; /* bytes in blob */
    int64_t id;        /* -1: empty slot */
} tok_vocab_slot;

/* An added (special) token. HF matches tokens with normalized=false on the
 * raw text and the others, normalised like the text, on each normalised
 * segment; lstrip/rstrip swallow the whitespace beside a match, single_word
 * keeps only matches not glued to a word character. */
typedef struct tok_added {
    char *text;
    size_t len;
    int64_t id;
    bool lstrip, rstrip, single_word, normalized;
} tok_added;

/* A growable list of token ids. */
typedef struct tok_ids {
    int64_t *v;
    size_t n, cap;
} tok_ids;

ir_status tok_ids_push(tok_ids *a, int64_t id, ir_diag *d);

/* The text -> ids step of a tokenizer other than BERT's streaming
 * WordPiece (tokenizer_pipe.c): set by the tokenizer.json loader, so that
 * tokenizer.c (and the emitted program, which embeds it) does not depend on
 * the normalizers and models it does not use. *scratch is the caller's
 * per-encoding working memory, created on first use. */
typedef struct tok_engine {
    ir_status (*encode)(const tok_tokenizer *t, const char *text, size_t n,
                        tok_ids *out, tok_word_fn fn, void *ctx,
                        void **scratch, ir_diag *d);
    void (*free_model)(void *model);
    void (*free_scratch)(void *scratch);
} tok_engine;

/* One element of a post-processing template: a special token (its ids) or
 * the sequence A (seq 0) / B (seq 1). */
typedef struct tok_piece {
    int seq; /* -1 special, 0 A, 1 B */
    int64_t type_id;
    int64_t *ids;
    size_t n_ids;
} tok_piece;

typedef struct tok_template {
    tok_piece *pieces;
    size_t n;
    size_t n_special; /* ids added around the sequences */
} tok_template;

struct tok_tokenizer {
    tok_options opt;
    bool strip; /* strip_accents resolved */
    tok_vocab_slot *slots;
    size_t n_slots; /* power of two */
    size_t n_tokens;
    char *blob;
    size_t blob_len, blob_cap;
    size_t max_token_bytes;
    char *prefix; /* continuing_subword_prefix, "##" */
    size_t prefix_len;
    size_t max_chars; /* max_input_chars_per_word, 100 */
    int64_t unk_id, pad_id;
    tok_added *added; /* matched in raw text before normalisation */
    size_t n_added;
    uint8_t added_first[256]; /* first bytes of added tokens */
    tok_template single, pair;
    const tok_engine *engine; /* NULL: BERT WordPiece (tokenizer.c) */
    void *model;              /* the engine's data */
};

/* How deeply tokenizer.json may nest "Sequence" normalizers,
 * pre-tokenizers and post-processors (each level is a recursive call of
 * their loaders; real files nest 1 or 2). */
#define TOK_MAX_SEQUENCE_DEPTH 8
#define TOK_MAX_SEQUENCE_DEPTH_TEXT "8" /* for messages */

uint64_t tok_hash_bytes(uint64_t h, const char *s, size_t n);
#define TOK_HASH_SEED 0xcbf29ce484222325ull

/* Adds token -> id (a repeated token is overwritten, as HF's HashMap). */
ir_status tok_vocab_put(tok_tokenizer *t, const char *s, size_t n, int64_t id,
                        ir_diag *d);
int64_t tok_vocab_find(const tok_tokenizer *t, const char *pre, size_t pre_n,
                       const char *s, size_t n);
ir_status tok_added_push(tok_tokenizer *t, const char *s, size_t n,
                         int64_t id, ir_diag *d);
/* Builds [CLS] A [SEP] / [CLS] A [SEP] B [SEP] templates. */
ir_status tok_template_bert(tok_tokenizer *t, int64_t cls, int64_t sep,
                            ir_diag *d);
ir_status tok_piece_push(tok_template *tp, int seq, int64_t type_id,
                         const int64_t *ids, size_t n_ids);
tok_tokenizer *tok_alloc(void);
/* A vocab.txt or tokenizer.json, whole: a regular file of at most
 * TOK_FILE_MAX bytes (the largest Hugging Face tokenizer.json files are
 * tens of MB), `what` naming it in messages (ir/file_read.h). */
#define TOK_FILE_MAX ((int64_t)1 << 30)
ir_status tok_read_file(const char *path, const char *what, char **out,
                        size_t *len, ir_diag *d);

/* ---- tokenizer.json helpers (tokenizer_load.c) ---------------------------
 * Messages start with the file name and the JSON path of the component at
 * fault ("tok.json: pre_tokenizer.pretokenizers[1]: ..."). */
typedef struct tok_jctx {
    const char *name;
    ir_diag *d;
} tok_jctx;

const char *tok_json_type(const json_value *component);
ir_status tok_json_bool(tok_jctx *c, const json_value *obj, const char *key,
                        bool *out, bool *was_null);
/* The BERT (WordPiece) file; anything else in it is IR_ERR_UNSUPPORTED. */
ir_status tok_json_load_bert(tok_jctx *c, tok_tokenizer *t,
                             const json_value *root);
/* post_processor: TemplateProcessing, BertProcessing, RobertaProcessing,
 * ByteLevel (no effect on ids), a Sequence of those, or null. */
ir_status tok_json_post_processor(tok_jctx *c, tok_tokenizer *t,
                                  const json_value *pp, const char *path);
/* added_tokens with their flags; normalize (may be NULL) gives the form a
 * normalized=true token is matched in. */
typedef ir_status (*tok_norm_fn)(void *ctx, const char *s, size_t n,
                                 char **out, size_t *out_len, ir_diag *d);
ir_status tok_json_added(tok_jctx *c, tok_tokenizer *t, const json_value *root,
                         bool flags_ok, tok_norm_fn normalize, void *nctx);

#endif

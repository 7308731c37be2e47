/* tokenizer_pipe_model.h — the loaded pipeline of a BPE or Unigram
 * tokenizer (tok_tokenizer.model when tok_tokenizer.engine is
 * tok_pipe_engine): its normalizers, pre-tokenizers and model. Private to
 * tokenizer_pipe.c (running it) and tokenizer_pipe_load.c (building it). */
#ifndef DISTILC_TOKENIZER_PIPE_MODEL_H
#define DISTILC_TOKENIZER_PIPE_MODEL_H

#include "frontend/tokenizer_bpe.h"
#include "frontend/tokenizer_norm.h"
#include "frontend/tokenizer_pretok.h"
#include "frontend/tokenizer_unigram.h"

typedef struct tok_pipe {
    tok_norm *norms;
    size_t n_norms;
    tok_pretok *pre;
    size_t n_pre;
    bool unigram; /* else BPE */
    tok_bpe bpe;
    tok_unigram uni;
    bool added_raw, added_norm; /* has tokens matched before / after
                                   normalisation */
} tok_pipe;

extern const tok_engine tok_pipe_engine;

void tok_pipe_free(void *pipe);

#endif

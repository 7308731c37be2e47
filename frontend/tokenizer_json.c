/* tokenizer_json.c — reading a Hugging Face tokenizer.json (tokenizers'
 * serialisation, "version": "1.0") and choosing by its model who builds the
 * tokenizer: WordPiece files go to the BERT reader (tokenizer_load.c), BPE
 * and Unigram files to the general pipeline (tokenizer_pipe_load.c). Kept
 * apart from tokenizer_load.c so that the emitted program, which embeds
 * that file for vocab.txt, does not pull in the pipeline. */
#include <stdlib.h>
#include <string.h>

#include "frontend/json.h"
#include "frontend/tokenizer_internal.h"
#include "frontend/tokenizer_pipe.h"

static ir_status load_doc(tok_jctx *c, tok_tokenizer *t, const json_value *root)
{
    if (!root || root->type != JSON_OBJECT)
        return ir_diag_set(c->d, IR_ERR_INPUT, "%s: tokenizer.json must be a "
                           "JSON object", c->name);
    const json_value *m = json_get(root, "model");
    const char *ty = tok_json_type(m);
    if (!m || m->type == JSON_NULL)
        return ir_diag_set(c->d, IR_ERR_INPUT, "%s: model is missing or null",
                           c->name);
    if (!ty)
        return ir_diag_set(c->d, IR_ERR_INPUT, "%s:%zu:%zu: model: an object "
                           "with a \"type\" expected", c->name, m->line, m->col);
    if (strcmp(ty, "WordPiece") == 0)
        return tok_json_load_bert(c, t, root);
    if (strcmp(ty, "BPE") == 0 || strcmp(ty, "Unigram") == 0)
        return tok_pipe_load(c, t, root);
    return ir_diag_set(c->d, IR_ERR_UNSUPPORTED, "%s:%zu:%zu: model: type "
                       "\"%s\" is not supported (WordPiece, BPE, Unigram)",
                       c->name, m->line, m->col, ty);
}

ir_status tok_load_json_text(const char *text, size_t len, const char *name,
                             tok_tokenizer **out, ir_diag *d)
{
    *out = NULL;
    json_doc doc;
    ir_status st = json_parse(text, len, name, &doc, d);
    if (st != IR_OK)
        return st;
    tok_tokenizer *t = tok_alloc();
    if (!t) {
        json_doc_free(&doc);
        return ir_diag_set(d, IR_ERR_NOMEM, "tokenizer: out of memory");
    }
    tok_jctx c = {name, d};
    st = load_doc(&c, t, doc.root);
    json_doc_free(&doc);
    if (st != IR_OK) {
        tok_free(t);
        return st;
    }
    *out = t;
    return IR_OK;
}

ir_status tok_load_json(const char *path, tok_tokenizer **out, ir_diag *d)
{
    char *text;
    size_t len;
    *out = NULL;
    ir_status st = tok_read_file(path, "tokenizer", &text, &len, d);
    if (st != IR_OK)
        return st;
    st = tok_load_json_text(text, len, path, out, d);
    free(text);
    return st;
}

/* tokenizer_load.c — building a BERT tokenizer from a vocab.txt (what HF's
 * BertWordPieceTokenizer(vocab) does) or from a Hugging Face tokenizer.json
 * whose model is WordPiece, rejecting every component that is not the BERT
 * one with IR_ERR_UNSUPPORTED; and the tokenizer.json parts every kind
 * shares (post-processor, added tokens). tokenizer_json.c picks the kind;
 * the emitted program embeds this file, so it needs nothing beyond
 * tokenizer.c, json.c and unicode.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/json.h"
#include "frontend/tokenizer_internal.h"
#include "ir/file_read.h"

tok_tokenizer *tok_alloc(void)
{
    tok_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->opt = tok_options_default();
    t->max_chars = 100;
    t->unk_id = -1;
    t->pad_id = 0;
    return t;
}

static void template_free(tok_template *tp)
{
    for (size_t i = 0; i < tp->n; i++)
        free(tp->pieces[i].ids);
    free(tp->pieces);
    memset(tp, 0, sizeof *tp);
}

void tok_free(tok_tokenizer *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t->blob);
    free(t->prefix);
    for (size_t i = 0; i < t->n_added; i++)
        free(t->added[i].text);
    free(t->added);
    template_free(&t->single);
    template_free(&t->pair);
    if (t->engine && t->model)
        t->engine->free_model(t->model);
    free(t);
}

static ir_status oom(ir_diag *d)
{
    return ir_diag_set(d, IR_ERR_NOMEM, "tokenizer: out of memory");
}

ir_status tok_added_push(tok_tokenizer *t, const char *s, size_t n,
                         int64_t id, ir_diag *d)
{
    if (n == 0)
        return IR_OK; /* an empty added token never matches */
    tok_added *na = realloc(t->added, (t->n_added + 1) * sizeof *na);
    if (!na)
        return oom(d);
    t->added = na;
    char *c = malloc(n + 1);
    if (!c)
        return oom(d);
    memcpy(c, s, n);
    c[n] = '\0';
    t->added[t->n_added++] = (tok_added){.text = c, .len = n, .id = id};
    t->added_first[(unsigned char)s[0]] = 1;
    return IR_OK;
}

ir_status tok_piece_push(tok_template *tp, int seq, int64_t type_id,
                         const int64_t *ids, size_t n_ids)
{
    tok_piece *np = realloc(tp->pieces, (tp->n + 1) * sizeof *np);
    if (!np)
        return IR_ERR_NOMEM;
    tp->pieces = np;
    tok_piece *p = &tp->pieces[tp->n++];
    memset(p, 0, sizeof *p);
    p->seq = seq;
    p->type_id = type_id;
    if (n_ids) {
        p->ids = malloc(n_ids * sizeof *p->ids);
        if (!p->ids)
            return IR_ERR_NOMEM;
        memcpy(p->ids, ids, n_ids * sizeof *ids);
        p->n_ids = n_ids;
        tp->n_special += n_ids;
    }
    return IR_OK;
}

/* cls A sep, and cls A sep [sep] B sep: BERT (HF processors/bert.rs) has one
 * sep between the texts and type 1 from B on; RoBERTa (roberta.rs) two seps
 * and type 0 throughout. */
static ir_status template_around(tok_tokenizer *t, int64_t cls, int64_t sep,
                                 int seps_between, int64_t b_type, ir_diag *d)
{
    bool ok = !tok_piece_push(&t->single, -1, 0, &cls, 1) &&
              !tok_piece_push(&t->single, 0, 0, NULL, 0) &&
              !tok_piece_push(&t->single, -1, 0, &sep, 1) &&
              !tok_piece_push(&t->pair, -1, 0, &cls, 1) &&
              !tok_piece_push(&t->pair, 0, 0, NULL, 0);
    for (int i = 0; ok && i < seps_between; i++)
        ok = !tok_piece_push(&t->pair, -1, 0, &sep, 1);
    ok = ok && !tok_piece_push(&t->pair, 1, b_type, NULL, 0) &&
         !tok_piece_push(&t->pair, -1, b_type, &sep, 1);
    return ok ? IR_OK : oom(d);
}

ir_status tok_template_bert(tok_tokenizer *t, int64_t cls, int64_t sep,
                            ir_diag *d)
{
    return template_around(t, cls, sep, 1, 1, d);
}

ir_status tok_read_file(const char *path, const char *what, char **out,
                        size_t *len, ir_diag *d)
{
    return ir_file_read_all(path, what, TOK_FILE_MAX, out, len, d);
}

static ir_status set_prefix(tok_tokenizer *t, const char *p, size_t n,
                            ir_diag *d)
{
    free(t->prefix);
    t->prefix = malloc(n + 1);
    if (!t->prefix)
        return oom(d);
    memcpy(t->prefix, p, n);
    t->prefix[n] = '\0';
    t->prefix_len = n;
    return IR_OK;
}

static void resolve_options(tok_tokenizer *t)
{
    t->strip = t->opt.strip_accents < 0 ? t->opt.lowercase
                                        : t->opt.strip_accents != 0;
}

/* ---- vocab.txt ---------------------------------------------------------- */

ir_status tok_load_vocab_text(const char *text, size_t len, const char *name,
                              const tok_options *opts, tok_tokenizer **out,
                              ir_diag *d)
{
    *out = NULL;
    tok_tokenizer *t = tok_alloc();
    if (!t)
        return oom(d);
    if (opts)
        t->opt = *opts;
    resolve_options(t);
    ir_status st = set_prefix(t, "##", 2, d);
    /* HF WordPiece::read_file: lines(), each trim_end()'d, id = index. */
    size_t pos = 0;
    int64_t line = 0;
    while (st == IR_OK && pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t e = end;
        while (e > pos && (text[e - 1] == '\r' || text[e - 1] == ' ' ||
                           text[e - 1] == '\t' || text[e - 1] == '\v' ||
                           text[e - 1] == '\f'))
            e--;
        st = tok_vocab_put(t, text + pos, e - pos, line, d);
        line++;
        pos = nl ? end + 1 : len;
    }
    if (st != IR_OK) {
        tok_free(t);
        return st;
    }
    int64_t unk = tok_token_id(t, "[UNK]"), cls = tok_token_id(t, "[CLS]"),
            sep = tok_token_id(t, "[SEP]"), pad = tok_token_id(t, "[PAD]");
    const char *missing = unk < 0 ? "[UNK]" : cls < 0 ? "[CLS]"
                          : sep < 0 ? "[SEP]" : NULL;
    if (missing) {
        tok_free(t);
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: the vocabulary has no %s token (a BERT "
                           "vocab.txt has [PAD] [UNK] [CLS] [SEP] [MASK])",
                           name, missing);
    }
    t->unk_id = unk;
    t->pad_id = pad >= 0 ? pad : 0;
    /* BertWordPieceTokenizer registers these as special (added) tokens. */
    static const char *const specials[] = {"[UNK]", "[SEP]", "[CLS]", "[PAD]",
                                           "[MASK]"};
    for (size_t i = 0; st == IR_OK && i < 5; i++) {
        int64_t id = tok_token_id(t, specials[i]);
        if (id >= 0)
            st = tok_added_push(t, specials[i], strlen(specials[i]), id, d);
    }
    if (st == IR_OK)
        st = tok_template_bert(t, cls, sep, d);
    if (st != IR_OK) {
        tok_free(t);
        return st;
    }
    *out = t;
    return IR_OK;
}

ir_status tok_load_vocab(const char *path, const tok_options *opts,
                         tok_tokenizer **out, ir_diag *d)
{
    char *text;
    size_t len;
    *out = NULL;
    ir_status st = tok_read_file(path, "vocab", &text, &len, d);
    if (st != IR_OK)
        return st;
    st = tok_load_vocab_text(text, len, path, opts, out, d);
    free(text);
    return st;
}

/* ---- tokenizer.json ----------------------------------------------------- */

static ir_status jerr(tok_jctx *c, ir_status s, const json_value *at,
                      const char *what, const char *detail)
{
    if (at)
        return ir_diag_set(c->d, s, "%s:%zu:%zu: %s%s", c->name, at->line,
                           at->col, what, detail);
    return ir_diag_set(c->d, s, "%s: %s%s", c->name, what, detail);
}

/* Reads an optional boolean member; null leaves *out unchanged. */
ir_status tok_json_bool(tok_jctx *c, const json_value *obj, const char *key,
                        bool *out, bool *was_null)
{
    const json_value *v = json_get(obj, key);
    if (was_null)
        *was_null = !v || v->type == JSON_NULL;
    if (!v || v->type == JSON_NULL)
        return IR_OK;
    if (v->type != JSON_TRUE && v->type != JSON_FALSE)
        return ir_diag_set(c->d, IR_ERR_INPUT, "%s:%zu:%zu: \"%s\" must be "
                           "true, false or null, not %s", c->name, v->line,
                           v->col, key, json_type_name(v->type));
    *out = v->type == JSON_TRUE;
    return IR_OK;
}

const char *tok_json_type(const json_value *component)
{
    const json_value *ty = json_get(component, "type");
    return ty && ty->type == JSON_STRING ? ty->u.str : NULL;
}

static ir_status check_kind(tok_jctx *c, const json_value *root, const char *key,
                            const char *want, const char *want2,
                            const json_value **out)
{
    const json_value *v = json_get(root, key);
    *out = v;
    if (!v || v->type == JSON_NULL)
        return ir_diag_set(c->d, IR_ERR_UNSUPPORTED,
                           "%s: %s is missing or null; distilc supports only "
                           "BERT tokenizers (%s%s%s)", c->name, key, want,
                           want2 ? " or " : "", want2 ? want2 : "");
    const char *ty = tok_json_type(v);
    if (!ty || (strcmp(ty, want) != 0 && (!want2 || strcmp(ty, want2) != 0)))
        return ir_diag_set(c->d, IR_ERR_UNSUPPORTED,
                           "%s:%zu:%zu: %s of type \"%s\" is not supported "
                           "(only %s%s%s)", c->name, v->line, v->col, key,
                           ty ? ty : "?", want, want2 ? " or " : "",
                           want2 ? want2 : "");
    return IR_OK;
}

static ir_status load_model(tok_jctx *c, tok_tokenizer *t, const json_value *m)
{
    const json_value *vocab = json_get(m, "vocab");
    if (!vocab || vocab->type != JSON_OBJECT)
        return jerr(c, IR_ERR_INPUT, m, "model.vocab must be an object", "");
    ir_status st;
    for (size_t i = 0; i < vocab->len; i++) {
        const json_member *mb = &vocab->u.members[i];
        if (!mb->value.is_int || mb->value.ival < 0)
            return jerr(c, IR_ERR_INPUT, &mb->value,
                        "model.vocab ids must be non-negative integers: ",
                        mb->key);
        if ((st = tok_vocab_put(t, mb->key, mb->key_len, mb->value.ival,
                                c->d)) != IR_OK)
            return st;
    }
    const json_value *unk = json_get(m, "unk_token");
    if (!unk || unk->type != JSON_STRING)
        return jerr(c, IR_ERR_INPUT, m, "model.unk_token must be a string", "");
    t->unk_id = tok_vocab_find(t, "", 0, unk->u.str, unk->len);
    if (t->unk_id < 0)
        return jerr(c, IR_ERR_INPUT, unk,
                    "model.unk_token is not in model.vocab: ", unk->u.str);
    const json_value *pre = json_get(m, "continuing_subword_prefix");
    if (pre && pre->type == JSON_STRING)
        st = set_prefix(t, pre->u.str, pre->len, c->d);
    else if (!pre || pre->type == JSON_NULL)
        st = set_prefix(t, "##", 2, c->d);
    else
        return jerr(c, IR_ERR_INPUT, pre,
                    "model.continuing_subword_prefix must be a string", "");
    if (st != IR_OK)
        return st;
    const json_value *mx = json_get(m, "max_input_chars_per_word");
    if (mx && mx->type != JSON_NULL) {
        if (!mx->is_int || mx->ival < 0)
            return jerr(c, IR_ERR_INPUT, mx, "model.max_input_chars_per_word "
                        "must be a non-negative integer", "");
        t->max_chars = (size_t)mx->ival;
    }
    return IR_OK;
}

static ir_status load_normalizer(tok_jctx *c, tok_tokenizer *t,
                                 const json_value *n)
{
    bool strip = false, strip_null = true;
    ir_status st;
    t->opt = tok_options_default();
    if ((st = tok_json_bool(c, n, "clean_text", &t->opt.clean_text, NULL)) ||
        (st = tok_json_bool(c, n, "handle_chinese_chars",
                       &t->opt.handle_chinese_chars, NULL)) ||
        (st = tok_json_bool(c, n, "lowercase", &t->opt.lowercase, NULL)) ||
        (st = tok_json_bool(c, n, "strip_accents", &strip, &strip_null)))
        return st;
    t->opt.strip_accents = strip_null ? -1 : strip;
    resolve_options(t);
    return IR_OK;
}

/* The ids of a special token named in a TemplateProcessing. */
static ir_status template_special(tok_jctx *c, const json_value *specials,
                                  const json_value *ref, const char *name,
                                  tok_template *tp, int64_t type_id)
{
    const json_value *sp = json_get(specials, name);
    const json_value *ids = json_get(sp, "ids");
    if (!ids || ids->type != JSON_ARRAY)
        return jerr(c, IR_ERR_INPUT, ref,
                    "post_processor.special_tokens has no ids for ", name);
    int64_t buf[16];
    if (ids->len > 16)
        return jerr(c, IR_ERR_UNSUPPORTED, ids,
                    "post_processor: too many ids for special token ", name);
    for (size_t i = 0; i < ids->len; i++) {
        if (!ids->u.items[i].is_int)
            return jerr(c, IR_ERR_INPUT, &ids->u.items[i],
                        "post_processor: special token ids must be integers: ",
                        name);
        buf[i] = ids->u.items[i].ival;
    }
    if (tok_piece_push(tp, -1, type_id, buf, ids->len))
        return oom(c->d);
    return IR_OK;
}

static ir_status load_template(tok_jctx *c, const json_value *pp, const char *key,
                               tok_template *tp, bool pair)
{
    const json_value *list = json_get(pp, key);
    const json_value *specials = json_get(pp, "special_tokens");
    if (!list || list->type != JSON_ARRAY)
        return jerr(c, IR_ERR_INPUT, pp, "post_processor needs an array ", key);
    bool seen[2] = {false, false};
    for (size_t i = 0; i < list->len; i++) {
        const json_value *it = &list->u.items[i];
        const json_value *sp = json_get(it, "SpecialToken");
        const json_value *sq = json_get(it, "Sequence");
        const json_value *body = sp ? sp : sq;
        const json_value *id = json_get(body, "id");
        const json_value *ty = json_get(body, "type_id");
        if (!body || !id || id->type != JSON_STRING || !ty || !ty->is_int)
            return jerr(c, IR_ERR_INPUT, it, "post_processor: each item must "
                        "be {\"SpecialToken\"|\"Sequence\": {\"id\", "
                        "\"type_id\"}} in ", key);
        ir_status st;
        if (sp) {
            st = template_special(c, specials, id, id->u.str, tp, ty->ival);
        } else {
            int seq = strcmp(id->u.str, "A") == 0 ? 0
                      : strcmp(id->u.str, "B") == 0 ? 1 : -1;
            if (seq < 0 || (seq == 1 && !pair) || seen[seq])
                return jerr(c, IR_ERR_INPUT, id,
                            "post_processor: unexpected sequence ", id->u.str);
            seen[seq] = true;
            st = tok_piece_push(tp, seq, ty->ival, NULL, 0) ? oom(c->d) : IR_OK;
        }
        if (st != IR_OK)
            return st;
    }
    if (!seen[0] || (pair && !seen[1]))
        return jerr(c, IR_ERR_INPUT, list, "post_processor: template lacks "
                    "a sequence: ", key);
    return IR_OK;
}

/* ["token", id] as BertProcessing / RobertaProcessing write cls and sep. */
static ir_status pair_id(tok_jctx *c, const json_value *pp, const char *path,
                         const char *key, int64_t *out)
{
    const json_value *v = json_get(pp, key);
    if (!v || v->type != JSON_ARRAY || v->len != 2 ||
        v->u.items[0].type != JSON_STRING || !v->u.items[1].is_int)
        return ir_diag_set(c->d, IR_ERR_INPUT, "%s:%zu:%zu: %s: \"%s\" must "
                           "be [\"token\", id]", c->name, pp->line, pp->col,
                           path, key);
    *out = v->u.items[1].ival;
    return IR_OK;
}

/* No post-processor: A, and A B, all type 0 (HF without a processor). */
static ir_status template_plain(tok_tokenizer *t, ir_diag *d)
{
    if (tok_piece_push(&t->single, 0, 0, NULL, 0) ||
        tok_piece_push(&t->pair, 0, 0, NULL, 0) ||
        tok_piece_push(&t->pair, 1, 1, NULL, 0))
        return oom(d);
    return IR_OK;
}

static ir_status post_one(tok_jctx *c, tok_tokenizer *t, const json_value *pp,
                          const char *path, int depth)
{
    if (!pp || pp->type == JSON_NULL)
        return IR_OK;

    const char *ty = tok_json_type(pp);
    if (!ty)
        return ir_diag_set(c->d, IR_ERR_INPUT, "%s:%zu:%zu: %s: an object "
                           "with a \"type\" expected", c->name, pp->line,
                           pp->col, path);
    if (t->single.n && strcmp(ty, "ByteLevel") != 0)
        return ir_diag_set(c->d, IR_ERR_UNSUPPORTED, "%s:%zu:%zu: %s: a "
                           "second template-making post-processor (\"%s\") "
                           "is not supported", c->name, pp->line, pp->col,
                           path, ty);
    ir_status st;
    int64_t cls = 0, sep = 0;
    if (strcmp(ty, "Sequence") == 0) {
        if (depth >= TOK_MAX_SEQUENCE_DEPTH) /* this one is level depth + 1 */
            return ir_diag_set(c->d, IR_ERR_UNSUPPORTED, "%s:%zu:%zu: %s: "
                               "Sequences nest more than %d levels deep "
                               "(TOK_MAX_SEQUENCE_DEPTH)", c->name, pp->line,
                               pp->col, path, TOK_MAX_SEQUENCE_DEPTH);
        const json_value *list = json_get(pp, "processors");
        if (!list || list->type != JSON_ARRAY)
            return ir_diag_set(c->d, IR_ERR_INPUT, "%s:%zu:%zu: %s: "
                               "\"processors\" must be an array", c->name,
                               pp->line, pp->col, path);
        for (size_t i = 0; i < list->len; i++) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s.processors[%zu]", path, i);
            if ((st = post_one(c, t, &list->u.items[i], sub, depth + 1)))
                return st;
        }
        return IR_OK;
    }
    if (strcmp(ty, "ByteLevel") == 0)
        return IR_OK; /* trims offsets only */
    if (strcmp(ty, "BertProcessing") == 0) {
        if ((st = pair_id(c, pp, path, "cls", &cls)) ||
            (st = pair_id(c, pp, path, "sep", &sep)))
            return st;
        return tok_template_bert(t, cls, sep, c->d);
    }
    if (strcmp(ty, "RobertaProcessing") == 0) {
        if ((st = pair_id(c, pp, path, "cls", &cls)) ||
            (st = pair_id(c, pp, path, "sep", &sep)))
            return st;
        return template_around(t, cls, sep, 2, 0, c->d);
    }
    if (strcmp(ty, "TemplateProcessing") == 0) {
        if ((st = load_template(c, pp, "single", &t->single, false)) ||
            (st = load_template(c, pp, "pair", &t->pair, true)))
            return st;
        return IR_OK;
    }
    return ir_diag_set(c->d, IR_ERR_UNSUPPORTED, "%s:%zu:%zu: %s: type \"%s\" "
                       "is not supported (TemplateProcessing, BertProcessing, "
                       "RobertaProcessing, ByteLevel, Sequence)", c->name,
                       pp->line, pp->col, path, ty);
}

ir_status tok_json_post_processor(tok_jctx *c, tok_tokenizer *t,
                                  const json_value *pp, const char *path)
{
    ir_status st = post_one(c, t, pp, path, 0);
    if (st == IR_OK && !t->single.n)
        st = template_plain(t, c->d);
    return st;
}

ir_status tok_json_added(tok_jctx *c, tok_tokenizer *t, const json_value *root,
                         bool flags_ok, tok_norm_fn normalize, void *nctx)
{
    const json_value *added = json_get(root, "added_tokens");
    if (!added || added->type == JSON_NULL)
        return IR_OK;
    if (added->type != JSON_ARRAY)
        return jerr(c, IR_ERR_INPUT, added, "added_tokens must be an array", "");
    ir_status st;
    for (size_t i = 0; i < added->len; i++) {
        const json_value *a = &added->u.items[i];
        const json_value *content = json_get(a, "content");
        const json_value *id = json_get(a, "id");
        if (!content || content->type != JSON_STRING || !id || !id->is_int)
            return ir_diag_set(c->d, IR_ERR_INPUT, "%s:%zu:%zu: added_tokens[%zu]"
                               ": needs \"id\" and \"content\"", c->name,
                               a->line, a->col, i);
        static const char *const names[] = {"normalized", "lstrip", "rstrip",
                                            "single_word"};
        bool on[4] = {false, false, false, false};
        for (size_t k = 0; k < 4; k++) {
            if ((st = tok_json_bool(c, a, names[k], &on[k], NULL)) != IR_OK)
                return st;
            if (on[k] && !flags_ok)
                return ir_diag_set(c->d, IR_ERR_UNSUPPORTED,
                                   "%s:%zu:%zu: added_tokens[%zu] \"%s\": "
                                   "%s=true is not supported with WordPiece",
                                   c->name, a->line, a->col, i, content->u.str,
                                   names[k]);
        }
        char *text = (char *)content->u.str, *norm = NULL;
        size_t len = content->len;
        if (on[0] && normalize) {
            if ((st = normalize(nctx, text, len, &norm, &len, c->d)))
                return st;
            text = norm;
        }
        size_t before = t->n_added;
        st = tok_added_push(t, text, len, id->ival, c->d);
        free(norm);
        if (st != IR_OK)
            return st;
        if (t->n_added > before) {
            tok_added *ad = &t->added[t->n_added - 1];
            ad->normalized = on[0];
            ad->lstrip = on[1];
            ad->rstrip = on[2];
            ad->single_word = on[3];
        }
    }
    return IR_OK;
}

ir_status tok_json_load_bert(tok_jctx *c, tok_tokenizer *t,
                             const json_value *root)
{
    const json_value *n, *p, *m, *pp;
    ir_status st;
    if ((st = check_kind(c, root, "normalizer", "BertNormalizer", NULL, &n)) ||
        (st = check_kind(c, root, "pre_tokenizer", "BertPreTokenizer", NULL, &p)) ||
        (st = check_kind(c, root, "model", "WordPiece", NULL, &m)) ||
        (st = check_kind(c, root, "post_processor", "TemplateProcessing",
                         "BertProcessing", &pp)))
        return st;
    if ((st = load_normalizer(c, t, n)) || (st = load_model(c, t, m)))
        return st;
    int64_t pad = tok_vocab_find(t, "", 0, "[PAD]", 5);
    t->pad_id = pad >= 0 ? pad : 0;
    /* BERT's added tokens are plain: matched on the raw text (the streaming
     * WordPiece path has no normalised segments to match in). */
    if ((st = tok_json_post_processor(c, t, pp, "post_processor")))
        return st;
    return tok_json_added(c, t, root, false, NULL, NULL);
}

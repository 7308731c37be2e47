/* tokenizer_pipe_load.c — building the BPE / Unigram pipeline from a
 * tokenizer.json as Hugging Face tokenizers 0.2x writes it (field names and
 * defaults of its serde types). Every component is checked here, so
 * encoding never meets a surprise; one that distilc does not implement is
 * IR_ERR_UNSUPPORTED with its JSON path:
 *   tok.json:12:5: pre_tokenizer.pretokenizers[1]: type "Digits" is not
 *   supported (ByteLevel, Metaspace, WhitespaceSplit, Sequence) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/tokenizer_pipe_model.h"

#define PATH_MAX_LEN 256

static ir_status bad(tok_jctx *c, ir_status s, const json_value *at,
                     const char *path, const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    if (at)
        return ir_diag_set(c->d, s, "%s:%zu:%zu: %s: %s", c->name, at->line,
                           at->col, path, msg);
    return ir_diag_set(c->d, s, "%s: %s: %s", c->name, path, msg);
}

static ir_status unsupported(tok_jctx *c, const json_value *v, const char *path,
                             const char *type, const char *known)
{
    return ir_diag_set(c->d, IR_ERR_UNSUPPORTED, "%s:%zu:%zu: %s: type \"%s\" "
                       "is not supported (%s)", c->name, v->line, v->col, path,
                       type, known);
}

static char *dup_bytes(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Member key of v as a string (NULL when absent or null). */
static ir_status get_str(tok_jctx *c, const json_value *v, const char *path,
                         const char *key, const json_value **out)
{
    const json_value *s = json_get(v, key);
    *out = NULL;
    if (!s || s->type == JSON_NULL)
        return IR_OK;
    if (s->type != JSON_STRING)
        return bad(c, IR_ERR_INPUT, s, path, "\"%s\" must be a string", key);
    *out = s;
    return IR_OK;
}

/* The members of a Sequence normalizer or pre-tokenizer. */
static ir_status sequence_items(tok_jctx *c, const json_value *v,
                                const char *path, const char *key, int depth,
                                const json_value **list)
{
    *list = json_get(v, key);
    if (!*list || (*list)->type != JSON_ARRAY)
        return ir_diag_set(c->d, IR_ERR_INPUT, "%s:%zu:%zu: %s: \"%s\" must "
                           "be an array", c->name, v->line, v->col, path, key);
    if (depth >= TOK_MAX_SEQUENCE_DEPTH) /* this Sequence is level depth + 1 */
        return bad(c, IR_ERR_UNSUPPORTED, v, path, "Sequences nest more than "
                   "%s levels deep (TOK_MAX_SEQUENCE_DEPTH)",
                   TOK_MAX_SEQUENCE_DEPTH_TEXT);
    return IR_OK;
}

/* ---- normalizers --------------------------------------------------------- */

/* Appends one zeroed element of `size` bytes to the array *arr of *n. */
static void *pipe_push(tok_jctx *c, void **arr, size_t *n, size_t size)
{
    char *a = realloc(*arr, (*n + 1) * size);
    if (!a) {
        tok_pipe_oom(c->d);
        return NULL;
    }
    *arr = a;
    return memset(a + (*n)++ * size, 0, size);
}

static ir_status norm_push(tok_jctx *c, tok_pipe *p, tok_norm **out)
{
    void *arr = p->norms;
    *out = pipe_push(c, &arr, &p->n_norms, sizeof **out);
    p->norms = arr;
    return *out ? IR_OK : IR_ERR_NOMEM;
}

static ir_status load_replace(tok_jctx *c, tok_norm *nm, const json_value *v,
                              const char *path, size_t *n_regex)
{
    const json_value *pat = json_get(v, "pattern"), *content;
    const json_value *str = json_get(pat, "String"), *rx = json_get(pat, "Regex");
    ir_status st = get_str(c, v, path, "content", &content);
    if (st != IR_OK)
        return st;
    const json_value *p = str ? str : rx;
    if (!p || p->type != JSON_STRING || !content)
        return bad(c, IR_ERR_INPUT, v, path, "Replace needs \"pattern\": "
                   "{\"String\" or \"Regex\": text} and \"content\"%s", NULL);
    nm->content = dup_bytes(content->u.str, content->len);
    nm->content_len = content->len;
    if (!nm->content)
        return tok_pipe_oom(c->d);
    if (str) {
        nm->text = dup_bytes(p->u.str, p->len);
        nm->text_len = p->len;
        return nm->text ? IR_OK : tok_pipe_oom(c->d);
    }
    char why[128];
    if (tok_norm_regex_compile(nm, p->u.str, p->len, why, sizeof why) != IR_OK)
        return bad(c, IR_ERR_UNSUPPORTED, p, path, "the regex is not one ICU "
                   "accepts (%s)", why);
    nm->regex_index = (*n_regex)++;
    return IR_OK;
}

static ir_status load_norm(tok_jctx *c, tok_pipe *p, const json_value *v,
                           const char *path, size_t *n_regex, int depth)
{
    if (!v || v->type == JSON_NULL)
        return IR_OK;
    const char *ty = tok_json_type(v);
    if (!ty)
        return bad(c, IR_ERR_INPUT, v, path, "an object with a \"type\" "
                   "expected%s", NULL);
    ir_status st;
    if (strcmp(ty, "Sequence") == 0) {
        const json_value *list;
        if ((st = sequence_items(c, v, path, "normalizers", depth, &list)))
            return st;
        for (size_t i = 0; i < list->len; i++) {
            char sub[PATH_MAX_LEN];
            snprintf(sub, sizeof sub, "%s.normalizers[%zu]", path, i);
            if ((st = load_norm(c, p, &list->u.items[i], sub, n_regex,
                                depth + 1)))
                return st;
        }
        return IR_OK;
    }
    static const char *const simple[] = {"NFC", "NFD", "NFKC", "NFKD",
                                         "Lowercase", "StripAccents"};
    static const tok_norm_kind simple_kind[] = {
        TOK_NORM_NFC, TOK_NORM_NFD, TOK_NORM_NFKC, TOK_NORM_NFKD,
        TOK_NORM_LOWERCASE, TOK_NORM_STRIP_ACCENTS};
    tok_norm *nm = NULL;
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        if (strcmp(ty, simple[i]) == 0) {
            if ((st = norm_push(c, p, &nm)))
                return st;
            nm->kind = simple_kind[i];
            char why[128];
            if (nm->kind <= TOK_NORM_NFKD &&
                tok_norm_form_init(nm, why, sizeof why) != IR_OK)
                return bad(c, IR_ERR_FAILED, v, path, "%s", why);
            return IR_OK;
        }
    }
    if (strcmp(ty, "Replace") == 0) {
        if ((st = norm_push(c, p, &nm)))
            return st;
        nm->kind = TOK_NORM_REPLACE;
        return load_replace(c, nm, v, path, n_regex);
    }
    if (strcmp(ty, "Strip") == 0) {
        if ((st = norm_push(c, p, &nm)))
            return st;
        nm->kind = TOK_NORM_STRIP;
        nm->left = nm->right = true;
        if ((st = tok_json_bool(c, v, "strip_left", &nm->left, NULL)) ||
            (st = tok_json_bool(c, v, "strip_right", &nm->right, NULL)))
            return st;
        return IR_OK;
    }
    if (strcmp(ty, "Prepend") == 0) {
        const json_value *s;
        if ((st = get_str(c, v, path, "prepend", &s)))
            return st;
        if (!s)
            return bad(c, IR_ERR_INPUT, v, path, "Prepend needs \"prepend\"%s",
                       NULL);
        if ((st = norm_push(c, p, &nm)))
            return st;
        nm->kind = TOK_NORM_PREPEND;
        nm->text = dup_bytes(s->u.str, s->len);
        nm->text_len = s->len;
        return nm->text ? IR_OK : tok_pipe_oom(c->d);
    }
    if (strcmp(ty, "Precompiled") == 0) {
        const json_value *s;
        if ((st = get_str(c, v, path, "precompiled_charsmap", &s)))
            return st;
        if (!s || !s->len)
            return IR_OK; /* HF: an empty map changes nothing */
        if ((st = norm_push(c, p, &nm)))
            return st;
        nm->kind = TOK_NORM_PRECOMPILED;
        char why[200];
        if (!tok_charsmap_init(&nm->charsmap, s->u.str, s->len, why, sizeof why))
            return bad(c, IR_ERR_INPUT, s, path, "%s", why);
        return IR_OK;
    }
    return unsupported(c, v, path, ty, "NFC, NFD, NFKC, NFKD, Lowercase, "
                       "StripAccents, Replace, Strip, Prepend, Precompiled, "
                       "Sequence");
}

/* ---- pre-tokenizers ------------------------------------------------------ */

static ir_status pre_push(tok_jctx *c, tok_pipe *p, tok_pretok **out)
{
    void *arr = p->pre;
    *out = pipe_push(c, &arr, &p->n_pre, sizeof **out);
    p->pre = arr;
    return *out ? IR_OK : IR_ERR_NOMEM;
}

static ir_status load_metaspace(tok_jctx *c, tok_pretok *pt,
                                const json_value *v, const char *path)
{
    const json_value *rep, *scheme;
    ir_status st;
    if ((st = get_str(c, v, path, "replacement", &rep)) ||
        (st = get_str(c, v, path, "prepend_scheme", &scheme)))
        return st;
    if (!rep) /* older files: str_rep */
        if ((st = get_str(c, v, path, "str_rep", &rep)))
            return st;
    if (!rep || rep->len == 0 || rep->len >= sizeof pt->rep ||
        memchr(rep->u.str, ' ', rep->len))
        return bad(c, IR_ERR_INPUT, v, path, "Metaspace needs a one-character "
                   "\"replacement\" other than a space%s", NULL);
    memcpy(pt->rep, rep->u.str, rep->len);
    pt->rep_len = rep->len;
    pt->split = true;
    if ((st = tok_json_bool(c, v, "split", &pt->split, NULL)))
        return st;
    bool add = true;
    if ((st = tok_json_bool(c, v, "add_prefix_space", &add, NULL)))
        return st;
    pt->prepend = add ? TOK_PREPEND_ALWAYS : TOK_PREPEND_NEVER;
    if (scheme) {
        if (strcmp(scheme->u.str, "always") == 0)
            pt->prepend = TOK_PREPEND_ALWAYS;
        else if (strcmp(scheme->u.str, "first") == 0)
            pt->prepend = TOK_PREPEND_FIRST;
        else if (strcmp(scheme->u.str, "never") == 0)
            pt->prepend = TOK_PREPEND_NEVER;
        else
            return bad(c, IR_ERR_UNSUPPORTED, scheme, path, "prepend_scheme "
                       "\"%s\" is not always, first or never", scheme->u.str);
    }
    return IR_OK;
}

static ir_status load_pre(tok_jctx *c, tok_pipe *p, const json_value *v,
                          const char *path, int depth)
{
    if (!v || v->type == JSON_NULL)
        return IR_OK;
    const char *ty = tok_json_type(v);
    if (!ty)
        return bad(c, IR_ERR_INPUT, v, path, "an object with a \"type\" "
                   "expected%s", NULL);
    ir_status st;
    tok_pretok *pt = NULL;
    if (strcmp(ty, "Sequence") == 0) {
        const json_value *list;
        if ((st = sequence_items(c, v, path, "pretokenizers", depth, &list)))
            return st;
        for (size_t i = 0; i < list->len; i++) {
            char sub[PATH_MAX_LEN];
            snprintf(sub, sizeof sub, "%s.pretokenizers[%zu]", path, i);
            if ((st = load_pre(c, p, &list->u.items[i], sub, depth + 1)))
                return st;
        }
        return IR_OK;
    }
    if (strcmp(ty, "ByteLevel") == 0) {
        if ((st = pre_push(c, p, &pt)))
            return st;
        pt->kind = TOK_PRETOK_BYTELEVEL;
        pt->add_prefix_space = true;
        pt->use_regex = true;
        if ((st = tok_json_bool(c, v, "add_prefix_space", &pt->add_prefix_space,
                                NULL)) ||
            (st = tok_json_bool(c, v, "use_regex", &pt->use_regex, NULL)))
            return st;
        return IR_OK;
    }
    if (strcmp(ty, "Metaspace") == 0) {
        if ((st = pre_push(c, p, &pt)))
            return st;
        pt->kind = TOK_PRETOK_METASPACE;
        return load_metaspace(c, pt, v, path);
    }
    if (strcmp(ty, "WhitespaceSplit") == 0) {
        if ((st = pre_push(c, p, &pt)))
            return st;
        pt->kind = TOK_PRETOK_WHITESPACE_SPLIT;
        return IR_OK;
    }
    return unsupported(c, v, path, ty, "ByteLevel, Metaspace, WhitespaceSplit, "
                       "Sequence");
}

/* ---- models -------------------------------------------------------------- */

static void byte_ids(const tok_tokenizer *t, int64_t ids[256])
{
    for (int b = 0; b < 256; b++) {
        char tok[8];
        snprintf(tok, sizeof tok, "<0x%02X>", b);
        ids[b] = tok_vocab_find(t, "", 0, tok, 6);
    }
}

static ir_status opt_string(tok_jctx *c, const json_value *m, const char *key,
                            char **out, size_t *len)
{
    const json_value *s;
    ir_status st = get_str(c, m, "model", key, &s);
    if (st != IR_OK || !s || !s->len)
        return st;
    *out = dup_bytes(s->u.str, s->len);
    *len = s->len;
    return *out ? IR_OK : tok_pipe_oom(c->d);
}

/* One merge rule: "left right" (older files) or ["left", "right"]. */
static ir_status load_merge(tok_jctx *c, tok_tokenizer *t, tok_bpe *b,
                            const json_value *r, size_t i)
{
    const char *l = NULL, *rt = NULL;
    size_t ln = 0, rn = 0;
    if (r->type == JSON_STRING) {
        const char *sp = memchr(r->u.str, ' ', r->len);
        if (sp && !memchr(sp + 1, ' ', r->len - (size_t)(sp + 1 - r->u.str))) {
            l = r->u.str;
            ln = (size_t)(sp - l);
            rt = sp + 1;
            rn = r->len - ln - 1;
        }
    } else if (r->type == JSON_ARRAY && r->len == 2 &&
               r->u.items[0].type == JSON_STRING &&
               r->u.items[1].type == JSON_STRING) {
        l = r->u.items[0].u.str;
        ln = r->u.items[0].len;
        rt = r->u.items[1].u.str;
        rn = r->u.items[1].len;
    }
    char path[64];
    snprintf(path, sizeof path, "model.merges[%zu]", i);
    if (!l)
        return bad(c, IR_ERR_INPUT, r, path, "a merge is \"left right\" or "
                   "[\"left\", \"right\"]%s", NULL);
    int64_t a = tok_vocab_find(t, "", 0, l, ln), bb = tok_vocab_find(t, "", 0, rt, rn);
    /* The merged token drops the right side's continuing prefix (HF). */
    size_t skip = b->prefix_len && rn >= b->prefix_len &&
                  memcmp(rt, b->prefix, b->prefix_len) == 0 ? b->prefix_len : 0;
    int64_t m = tok_vocab_find(t, l, ln, rt + skip, rn - skip);
    if (a < 0 || bb < 0 || m < 0)
        return bad(c, IR_ERR_INPUT, r, path, "%s is not in model.vocab",
                   a < 0 ? "its left side" : bb < 0 ? "its right side"
                                                    : "the merged token");
    return tok_bpe_add_merge(b, a, bb, m, c->d);
}

static ir_status load_vocab_object(tok_jctx *c, tok_tokenizer *t,
                                   const json_value *vocab)
{
    if (!vocab || vocab->type != JSON_OBJECT)
        return bad(c, IR_ERR_INPUT, vocab, "model.vocab", "must be an object "
                   "of token: id%s", NULL);
    for (size_t i = 0; i < vocab->len; i++) {
        const json_member *mb = &vocab->u.members[i];
        if (!mb->value.is_int || mb->value.ival < 0)
            return bad(c, IR_ERR_INPUT, &mb->value, "model.vocab", "the id of "
                       "\"%s\" must be a non-negative integer", mb->key);
        ir_status st = tok_vocab_put(t, mb->key, mb->key_len, mb->value.ival,
                                     c->d);
        if (st != IR_OK)
            return st;
    }
    return IR_OK;
}

static ir_status load_bpe(tok_jctx *c, tok_tokenizer *t, tok_bpe *b,
                          const json_value *m)
{
    ir_status st;
    const json_value *drop = json_get(m, "dropout"), *unk, *merges;
    if (drop && drop->type == JSON_NUMBER && drop->u.num > 0)
        return bad(c, IR_ERR_UNSUPPORTED, drop, "model.dropout", "BPE dropout "
                   "(random merges) is not supported%s", NULL);
    if ((st = load_vocab_object(c, t, json_get(m, "vocab"))) ||
        (st = opt_string(c, m, "continuing_subword_prefix", &b->prefix,
                         &b->prefix_len)) ||
        (st = opt_string(c, m, "end_of_word_suffix", &b->suffix,
                         &b->suffix_len)) ||
        (st = tok_json_bool(c, m, "fuse_unk", &b->fuse_unk, NULL)) ||
        (st = tok_json_bool(c, m, "byte_fallback", &b->byte_fallback, NULL)) ||
        (st = tok_json_bool(c, m, "ignore_merges", &b->ignore_merges, NULL)) ||
        (st = get_str(c, m, "model", "unk_token", &unk)))
        return st;
    b->unk_id = -1;
    if (unk) {
        b->unk_id = tok_vocab_find(t, "", 0, unk->u.str, unk->len);
        if (b->unk_id < 0)
            return bad(c, IR_ERR_INPUT, unk, "model.unk_token", "\"%s\" is not "
                       "in model.vocab", unk->u.str);
    }
    t->unk_id = b->unk_id;
    byte_ids(t, b->byte_ids);
    merges = json_get(m, "merges");
    if (!merges || merges->type != JSON_ARRAY)
        return bad(c, IR_ERR_INPUT, m, "model", "\"merges\" must be an array%s",
                   NULL);
    for (size_t i = 0; i < merges->len; i++)
        if ((st = load_merge(c, t, b, &merges->u.items[i], i)))
            return st;
    return IR_OK;
}

/* A score as Hugging Face holds it. tokenizers reads JSON numbers with
 * serde_json's default (not correctly rounded) parser: all the digits as
 * an integer, converted to f64, then multiplied or divided once by a power
 * of ten, so some scores end one ulp away from strtod's. Viterbi's exact
 * ties then break differently, so distilc redoes that arithmetic on the
 * digits HF wrote (the shortest that round-trip, found again here). */
static double serde_f64(double x)
{
    if (x == 0 || !isfinite(x))
        return x;
    char buf[40];
    int lo = 1, hi = 17;
    while (lo < hi) { /* fewest significant digits that give x back */
        int mid = (lo + hi) / 2;
        snprintf(buf, sizeof buf, "%.*e", mid - 1, x);
        if (strtod(buf, NULL) == x)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(buf, sizeof buf, "%.*e", lo - 1, x);
    uint64_t sig = 0;
    int digits = 0;
    const char *p = buf + (buf[0] == '-');
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') {
            sig = sig * 10 + (uint64_t)(*p - '0');
            digits++;
        }
    int exp10 = (int)strtol(p + 1, NULL, 10) - (digits - 1);
    double f = (double)sig, pow10;
    while (exp10 < -308) { /* serde_json: divide by 1e308 until in range */
        f /= 1e308;
        exp10 += 308;
    }
    snprintf(buf, sizeof buf, "1e%d", exp10 < 0 ? -exp10 : exp10);
    pow10 = strtod(buf, NULL);
    f = exp10 < 0 ? f / pow10 : f * pow10;
    return x < 0 ? -f : f;
}

static ir_status load_unigram(tok_jctx *c, tok_tokenizer *t, tok_unigram *u,
                              const json_value *m)
{
    const json_value *vocab = json_get(m, "vocab"), *unk = json_get(m, "unk_id");
    ir_status st;
    if (!vocab || vocab->type != JSON_ARRAY || !vocab->len)
        return bad(c, IR_ERR_INPUT, m, "model.vocab", "must be a non-empty "
                   "array of [piece, score]%s", NULL);
    u->score = malloc(vocab->len * sizeof *u->score);
    if (!u->score)
        return tok_pipe_oom(c->d);
    u->n = vocab->len;
    double lowest = INFINITY;
    for (size_t i = 0; i < vocab->len; i++) {
        const json_value *e = &vocab->u.items[i];
        if (e->type != JSON_ARRAY || e->len != 2 ||
            e->u.items[0].type != JSON_STRING ||
            e->u.items[1].type != JSON_NUMBER) {
            char path[64];
            snprintf(path, sizeof path, "model.vocab[%zu]", i);
            return bad(c, IR_ERR_INPUT, e, path, "must be [piece, score]%s",
                       NULL);
        }
        const json_value *p = &e->u.items[0];
        u->score[i] = serde_f64(e->u.items[1].u.num);
        if (u->score[i] < lowest)
            lowest = u->score[i];
        if (p->len > u->max_piece)
            u->max_piece = p->len;
        if ((st = tok_vocab_put(t, p->u.str, p->len, (int64_t)i, c->d)))
            return st;
    }
    u->unk_score = lowest - 10.0;
    u->unk_id = -1;
    if (unk && unk->type != JSON_NULL) {
        if (!unk->is_int || unk->ival < 0 || (size_t)unk->ival >= u->n)
            return bad(c, IR_ERR_INPUT, unk, "model.unk_id", "must be an index "
                       "into model.vocab%s", NULL);
        u->unk_id = unk->ival;
    }
    t->unk_id = u->unk_id;
    if ((st = tok_json_bool(c, m, "byte_fallback", &u->byte_fallback, NULL)))
        return st;
    byte_ids(t, u->byte_ids);
    return IR_OK;
}

/* ---- the whole file ------------------------------------------------------ */

/* Added tokens with normalized=true are matched in normalised text, so
 * their own text is normalised the same way first. */
static ir_status normalize_added(void *ctx, const char *s, size_t n,
                                 char **out, size_t *out_len, ir_diag *d)
{
    const tok_pipe *p = ctx;
    tok_norm_scratch ns = {0};
    const char *r;
    size_t rn;
    ir_status st = tok_norm_run(p->norms, p->n_norms, &ns, s, n, &r, &rn, d);
    if (st == IR_OK) {
        *out = dup_bytes(r, rn);
        *out_len = rn;
        if (!*out)
            st = tok_pipe_oom(d);
    }
    tok_norm_scratch_free(&ns);
    return st;
}

static void pick_pad(tok_tokenizer *t, const json_value *root)
{
    const json_value *pad = json_get(json_get(root, "padding"), "pad_id");
    if (pad && pad->is_int && pad->ival >= 0) {
        t->pad_id = pad->ival;
        return;
    }
    static const char *const names[] = {"<pad>", "[PAD]", "<|pad|>"};
    for (size_t i = 0; i < 3; i++) {
        int64_t id = tok_token_id(t, names[i]);
        if (id >= 0) {
            t->pad_id = id;
            return;
        }
    }
    t->pad_id = 0;
}

ir_status tok_pipe_load(tok_jctx *c, tok_tokenizer *t, const json_value *root)
{
    tok_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return tok_pipe_oom(c->d);
    t->engine = &tok_pipe_engine;
    t->model = p;
    const json_value *m = json_get(root, "model");
    p->unigram = strcmp(tok_json_type(m), "Unigram") == 0;
    size_t n_regex = 0;
    ir_status st;
    if ((st = load_norm(c, p, json_get(root, "normalizer"), "normalizer",
                        &n_regex, 0)) ||
        (st = load_pre(c, p, json_get(root, "pre_tokenizer"), "pre_tokenizer",
                       0)) ||
        (st = p->unigram ? load_unigram(c, t, &p->uni, m)
                         : load_bpe(c, t, &p->bpe, m)) ||
        (st = tok_json_post_processor(c, t, json_get(root, "post_processor"),
                                      "post_processor")) ||
        (st = tok_json_added(c, t, root, true, normalize_added, p)))
        return st;
    for (size_t i = 0; i < t->n_added; i++) {
        p->added_norm |= t->added[i].normalized;
        p->added_raw |= !t->added[i].normalized;
    }
    pick_pad(t, root);
    return IR_OK;
}

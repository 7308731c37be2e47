/* tokenizer_norm.c — running Hugging Face normalizers (normalizers/ in
 * behaviour; the list is in tokenizer_norm.h) on valid UTF-8. Unicode
 * normalisation, regexes, general categories and grapheme clusters come
 * from ICU (libicu), lowercasing from the tables BERT's normalizer uses
 * (frontend/unicode.h: Rust's char::to_lowercase, one code point at a time,
 * as HF lowercases). Each normalizer writes the other of two buffers. */
#include "frontend/tokenizer_norm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uregex.h>
#include <unicode/uset.h>
#include <unicode/ustring.h>
#include <unicode/utext.h>

#include "frontend/unicode.h"

static bool all_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

static ir_status icu_err(ir_diag *d, const char *what, UErrorCode e)
{
    return ir_diag_set(d, IR_ERR_FAILED, "tokenizer: ICU %s failed: %s",
                       what, u_errorName(e));
}

/* A Replace regex comes from a tokenizer.json, and some patterns backtrack
 * without bound on some inputs ("(a+)+$" on a long run of a's and a b): a
 * search stops after this many ticks of ICU's match engine (10,000 steps
 * each: about a second here, and steps, not seconds, so the same input
 * fails on any machine). Real normalizer patterns take a few ticks on a
 * long text. */
enum { REGEX_TICKS = 2000 };

static ir_status regex_limit(URegularExpression *rx, ir_diag *d)
{
    UErrorCode e = U_ZERO_ERROR;
    uregex_setTimeLimit(rx, REGEX_TICKS, &e);
    return U_FAILURE(e) ? icu_err(d, "regex time limit", e) : IR_OK;
}

static ir_status u16_reserve(tok_norm_scratch *ns, int k, size_t n, ir_diag *d)
{
    if (n <= ns->u16_cap[k])
        return IR_OK;
    size_t cap = ns->u16_cap[k] ? ns->u16_cap[k] : 256;
    while (cap < n)
        cap *= 2;
    uint16_t *p = realloc(ns->u16[k], cap * sizeof *p);
    if (!p)
        return tok_pipe_oom(d);
    ns->u16[k] = p;
    ns->u16_cap[k] = cap;
    return IR_OK;
}

/* NFC/NFD/NFKC/NFKD: UTF-8 -> UTF-16 -> unorm2 -> UTF-8. ASCII is left
 * alone by all four, and is most text. */
static ir_status unicode_form(const tok_norm *nm, tok_norm_scratch *ns,
                              const char *in, size_t n, tok_str *out,
                              ir_diag *d)
{
    if (all_ascii(in, n))
        return tok_str_put(out, in, n, d);
    if (n > INT32_MAX / 4)
        return ir_diag_set(d, IR_ERR_INPUT, "tokenizer: text of %zu bytes is "
                           "too long to normalise", n);
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nf = nm->nf;
    ir_status st;
    if ((st = u16_reserve(ns, 0, n + 1, d)))
        return st;
    int32_t len16 = 0;
    u_strFromUTF8((UChar *)ns->u16[0], (int32_t)ns->u16_cap[0], &len16, in,
                  (int32_t)n, &e);
    if (U_FAILURE(e))
        return icu_err(d, "UTF-8 decoding", e);
    /* Decomposition grows text at most 18 times (U+FDFA in NFKD). */
    for (size_t want = (size_t)len16 * 3 + 16;;) {
        if ((st = u16_reserve(ns, 1, want, d)))
            return st;
        e = U_ZERO_ERROR;
        int32_t got = unorm2_normalize(nf, (UChar *)ns->u16[0], len16,
                                       (UChar *)ns->u16[1],
                                       (int32_t)ns->u16_cap[1], &e);
        if (e == U_BUFFER_OVERFLOW_ERROR) {
            want = (size_t)got + 1;
            continue;
        }
        if (U_FAILURE(e))
            return icu_err(d, "normalisation", e);
        out->n = 0;
        int32_t len8 = 0;
        e = U_ZERO_ERROR;
        u_strToUTF8(NULL, 0, &len8, (UChar *)ns->u16[1], got, &e);
        if ((st = tok_str_reserve(out, (size_t)len8 + 1, d)))
            return st;
        e = U_ZERO_ERROR;
        u_strToUTF8(out->p, (int32_t)out->cap, &len8, (UChar *)ns->u16[1], got,
                    &e);
        if (U_FAILURE(e))
            return icu_err(d, "UTF-8 encoding", e);
        out->n = (size_t)len8;
        return IR_OK;
    }
}

/* Calls f on each code point; f appends to out. */
typedef ir_status (*cp_fn)(uint32_t cp, tok_str *out, ir_diag *d);

static ir_status each_cp(const char *in, size_t n, tok_str *out, cp_fn f,
                         ir_diag *d)
{
    const unsigned char *p = (const unsigned char *)in;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += uni_utf8_decode(p + i, n - i, &cp);
        ir_status st = f(cp, out, d);
        if (st != IR_OK)
            return st;
    }
    return IR_OK;
}

static ir_status lower_cp(uint32_t cp, tok_str *out, ir_diag *d)
{
    uint32_t m[UNI_MAP_MAX];
    size_t k = uni_lower(cp, m);
    for (size_t i = 0; i < k; i++) {
        ir_status st = tok_str_cp(out, m[i], d);
        if (st != IR_OK)
            return st;
    }
    return IR_OK;
}

/* StripAccents: drops combining marks (Mn, Mc, Me); it does not decompose,
 * which is why files put NFKD or NFD before it. */
static ir_status strip_cp(uint32_t cp, tok_str *out, ir_diag *d)
{
    /* Marks in Unicode 9 that are letters now, and the reverse. */
    if (cp == 0x1CF2 || cp == 0x1CF3)
        return IR_OK;
    if (cp == 0x111C9)
        return tok_str_cp(out, cp, d);
    if (cp >= 0x300 && (U_GET_GC_MASK((UChar32)cp) & U_GC_M_MASK)) {
        UVersionInfo age;
        u_charAge((UChar32)cp, age);
        if (age[0] <= TOK_HF_MARK_UNICODE)
            return IR_OK;
    }
    return tok_str_cp(out, cp, d);
}

static ir_status replace_string(const tok_norm *nm, const char *in, size_t n,
                                tok_str *out, ir_diag *d)
{
    size_t i = 0;
    ir_status st;
    while (nm->text_len && i + nm->text_len <= n) {
        size_t at = i;
        while (at + nm->text_len <= n &&
               memcmp(in + at, nm->text, nm->text_len) != 0)
            at++;
        if (at + nm->text_len > n)
            break;
        if ((st = tok_str_put(out, in + i, at - i, d)) ||
            (st = tok_str_put(out, nm->content, nm->content_len, d)))
            return st;
        i = at + nm->text_len;
    }
    return tok_str_put(out, in + i, n - i, d);
}

static ir_status replace_regex(const tok_norm *nm, tok_norm_scratch *ns,
                               const char *in, size_t n, tok_str *out,
                               ir_diag *d)
{
    UErrorCode e = U_ZERO_ERROR;
    URegularExpression *rx = ns->regex[nm->regex_index];
    ns->utext = utext_openUTF8(ns->utext, in, (int64_t)n, &e);
    if (U_SUCCESS(e))
        uregex_setUText(rx, ns->utext, &e);
    if (U_FAILURE(e))
        return icu_err(d, "regex input", e);
    size_t i = 0;
    ir_status st;
    while (uregex_findNext(rx, &e) && U_SUCCESS(e)) {
        size_t a = (size_t)uregex_start64(rx, 0, &e);
        size_t b = (size_t)uregex_end64(rx, 0, &e);
        if (U_FAILURE(e) || a < i || b < a || b > n)
            break;
        if ((st = tok_str_put(out, in + i, a - i, d)) ||
            (st = tok_str_put(out, nm->content, nm->content_len, d)))
            return st;
        i = b;
    }
    if (e == U_REGEX_TIME_OUT || e == U_REGEX_STACK_OVERFLOW)
        return ir_diag_set(d, IR_ERR_INPUT, "tokenizer: normalizer Replace regex: "
                           "ICU's matcher gave up on a %zu-byte text (%s: more "
                           "than %d million steps, or its 8 MB backtracking "
                           "stack): the pattern backtracks without bound on it",
                           n, u_errorName(e), REGEX_TICKS / 100);
    if (U_FAILURE(e))
        return icu_err(d, "regex search", e);
    return tok_str_put(out, in + i, n - i, d);
}

static ir_status strip_ends(const tok_norm *nm, const char *in, size_t n,
                            tok_str *out, ir_diag *d)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t a = 0, b = n;
    while (nm->left && a < b) {
        uint32_t cp;
        size_t k = uni_utf8_decode(p + a, b - a, &cp);
        if (!(uni_flags(cp) & UNI_SPACE))
            break;
        a += k;
    }
    while (nm->right && b > a) {
        size_t s = b - 1;
        while (s > a && (p[s] & 0xC0) == 0x80)
            s--;
        uint32_t cp;
        uni_utf8_decode(p + s, b - s, &cp);
        if (!(uni_flags(cp) & UNI_SPACE))
            break;
        b = s;
    }
    return tok_str_put(out, in + a, b - a, d);
}

static ir_status open_graphemes(tok_norm_scratch *ns, const char *in, size_t n,
                                ir_diag *d)
{
    UErrorCode e = U_ZERO_ERROR;
    ns->utext = utext_openUTF8(ns->utext, in, (int64_t)n, &e);
    if (U_SUCCESS(e) && !ns->graphemes)
        ns->graphemes = ubrk_open(UBRK_CHARACTER, "", NULL, 0, &e);
    if (U_SUCCESS(e))
        ubrk_setUText(ns->graphemes, ns->utext, &e);
    return U_FAILURE(e) ? icu_err(d, "grapheme break iterator", e) : IR_OK;
}

/* Precompiled (HF normalizers/precompiled.rs behaviour): a grapheme cluster
 * under 6 bytes is looked up whole, else code point by code point. */
static ir_status precompiled(const tok_norm *nm, tok_norm_scratch *ns,
                             const char *in, size_t n, tok_str *out,
                             ir_diag *d)
{
    const tok_charsmap *cm = &nm->charsmap;
    ir_status st = open_graphemes(ns, in, n, d);
    if (st != IR_OK)
        return st;
    UBreakIterator *bi = ns->graphemes;
    size_t len;
    const char *r;
    for (int32_t a = ubrk_first(bi), b; (b = ubrk_next(bi)) != UBRK_DONE;
         a = b) {
        const char *g = in + a;
        size_t gn = (size_t)(b - a);
        if (gn < 6 && (r = tok_charsmap_match(cm, g, gn, &len))) {
            if ((st = tok_str_put(out, r, len, d)))
                return st;
            continue;
        }
        for (size_t i = 0; i < gn;) {
            uint32_t cp;
            size_t k = uni_utf8_decode((const unsigned char *)g + i, gn - i, &cp);
            r = tok_charsmap_match(cm, g + i, k, &len);
            if ((st = r ? tok_str_put(out, r, len, d)
                        : tok_str_put(out, g + i, k, d)))
                return st;
            i += k;
        }
    }
    return IR_OK;
}

static ir_status norm_one(const tok_norm *nm, tok_norm_scratch *ns,
                          const char *in, size_t n, tok_str *out, ir_diag *d)
{
    out->n = 0;
    switch (nm->kind) {
    case TOK_NORM_NFC:
    case TOK_NORM_NFD:
    case TOK_NORM_NFKC:
    case TOK_NORM_NFKD:
        return unicode_form(nm, ns, in, n, out, d);
    case TOK_NORM_LOWERCASE:
        return each_cp(in, n, out, lower_cp, d);
    case TOK_NORM_STRIP_ACCENTS:
        if (all_ascii(in, n))
            return tok_str_put(out, in, n, d);
        return each_cp(in, n, out, strip_cp, d);
    case TOK_NORM_REPLACE:
        return nm->regex ? replace_regex(nm, ns, in, n, out, d)
                         : replace_string(nm, in, n, out, d);
    case TOK_NORM_STRIP:
        return strip_ends(nm, in, n, out, d);
    case TOK_NORM_PREPEND: {
        ir_status st = IR_OK;
        if (n)
            st = tok_str_put(out, nm->text, nm->text_len, d);
        return st ? st : tok_str_put(out, in, n, d);
    }
    case TOK_NORM_PRECOMPILED:
        return precompiled(nm, ns, in, n, out, d);
    case TOK_NORM_COUNT:
        break;
    }
    return ir_diag_set(d, IR_ERR_FAILED, "tokenizer: normalizer kind %d",
                       (int)nm->kind);
}

/* The regex clones this call needs (ICU regexes keep match state, so each
 * encoding has its own). */
static ir_status clone_regexes(const tok_norm *norms, size_t n,
                               tok_norm_scratch *ns, ir_diag *d)
{
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        if (norms[i].regex && norms[i].regex_index + 1 > want)
            want = norms[i].regex_index + 1;
    if (ns->n_regex >= want)
        return IR_OK;
    void **r = realloc(ns->regex, want * sizeof *r);
    if (!r)
        return tok_pipe_oom(d);
    ns->regex = r;
    for (size_t i = ns->n_regex; i < want; i++)
        r[i] = NULL;
    ns->n_regex = want;
    for (size_t i = 0; i < n; i++) {
        if (!norms[i].regex || r[norms[i].regex_index])
            continue;
        UErrorCode e = U_ZERO_ERROR;
        r[norms[i].regex_index] = uregex_clone(norms[i].regex, &e);
        if (U_FAILURE(e))
            return icu_err(d, "regex clone", e);
        /* a clone keeps the pattern, not the matcher's settings */
        ir_status st = regex_limit(r[norms[i].regex_index], d);
        if (st != IR_OK)
            return st;
    }
    return IR_OK;
}

ir_status tok_norm_run(const tok_norm *norms, size_t n, tok_norm_scratch *ns,
                       const char *in, size_t len, const char **out,
                       size_t *out_len, ir_diag *d)
{
    ir_status st = clone_regexes(norms, n, ns, d);
    if (st != IR_OK)
        return st;
    const char *cur = in;
    size_t cur_len = len;
    for (size_t i = 0; i < n; i++) {
        tok_str *dst = &ns->buf[i & 1];
        if ((st = norm_one(&norms[i], ns, cur, cur_len, dst, d)) != IR_OK)
            return st;
        cur = dst->p ? dst->p : "";
        cur_len = dst->n;
    }
    *out = cur;
    *out_len = cur_len;
    return IR_OK;
}

ir_status tok_norm_regex_compile(tok_norm *nm, const char *pattern, size_t n,
                                 char *why, size_t why_len)
{
    UErrorCode e = U_ZERO_ERROR;
    UParseError pe;
    if (n > INT32_MAX) {
        snprintf(why, why_len, "pattern too long");
        return IR_ERR_INPUT;
    }
    UText *ut = utext_openUTF8(NULL, pattern, (int64_t)n, &e);
    nm->regex = U_SUCCESS(e) ? uregex_openUText(ut, 0, &pe, &e) : NULL;
    utext_close(ut);
    if (U_FAILURE(e)) {
        nm->regex = NULL;
        snprintf(why, why_len, "%s at offset %d", u_errorName(e), pe.offset);
        return IR_ERR_INPUT;
    }
    return IR_OK;
}

ir_status tok_norm_form_init(tok_norm *nm, char *why, size_t why_len)
{
    UErrorCode e = U_ZERO_ERROR;
    tok_norm_kind k = nm->kind;
    const UNormalizer2 *base = k == TOK_NORM_NFC    ? unorm2_getNFCInstance(&e)
                               : k == TOK_NORM_NFD  ? unorm2_getNFDInstance(&e)
                               : k == TOK_NORM_NFKC ? unorm2_getNFKCInstance(&e)
                                                    : unorm2_getNFKDInstance(&e);
    static const UChar pattern[] = u"[:age=" TOK_HF_NF_UNICODE ":]";
    if (U_SUCCESS(e))
        nm->nf_set = uset_openPattern(pattern, -1, &e);
    if (U_SUCCESS(e))
        nm->nf = unorm2_openFiltered(base, nm->nf_set, &e);
    if (U_FAILURE(e)) {
        snprintf(why, why_len, "ICU normaliser: %s", u_errorName(e));
        return IR_ERR_FAILED;
    }
    return IR_OK;
}

void tok_norm_free(tok_norm *nm)
{
    if (nm->nf)
        unorm2_close(nm->nf);
    if (nm->nf_set)
        uset_close(nm->nf_set);
    free(nm->text);
    free(nm->content);
    if (nm->regex)
        uregex_close(nm->regex);
    tok_charsmap_free(&nm->charsmap);
}

void tok_norm_scratch_free(tok_norm_scratch *ns)
{
    free(ns->buf[0].p);
    free(ns->buf[1].p);
    free(ns->u16[0]);
    free(ns->u16[1]);
    for (size_t i = 0; i < ns->n_regex; i++)
        if (ns->regex[i])
            uregex_close(ns->regex[i]);
    free(ns->regex);
    if (ns->graphemes)
        ubrk_close(ns->graphemes);
    if (ns->utext)
        utext_close(ns->utext);
    memset(ns, 0, sizeof *ns);
}

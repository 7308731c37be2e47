/* json.c — the strict JSON reader of json.h: recursive descent over the
 * text, values allocated from a chunked pool owned by the json_doc.
 * Grammar and escapes follow RFC 8259 §2–§8. */
#include "frontend/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/unicode.h"

struct json_chunk {
    json_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes follow */
};

typedef struct parser {
    const char *s;
    size_t n, pos;
    size_t line, line_start;
    const char *name;
    json_doc *doc;
    ir_diag *d;
} parser;

static void *pool_alloc(json_doc *doc, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
           sizeof(max_align_t);
    json_chunk *c = doc->chunks;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > 65536 ? size : 65536;
        c = malloc(sizeof(json_chunk) + cap);
        if (!c)
            return NULL;
        c->next = doc->chunks;
        c->used = 0;
        c->cap = cap;
        doc->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    return p;
}

static ir_status fail(parser *p, const char *what)
{
    return ir_diag_set(p->d, IR_ERR_INPUT, "%s:%zu:%zu: %s", p->name, p->line,
                       p->pos - p->line_start + 1, what);
}

static ir_status nomem(parser *p)
{
    return ir_diag_set(p->d, IR_ERR_NOMEM, "%s: out of memory parsing JSON",
                       p->name);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c == '\n') {
            p->line++;
            p->line_start = p->pos + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        p->pos++;
    }
}

static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* Parses a string at p->pos (the opening quote) into pool memory. */
static ir_status parse_string(parser *p, const char **out, size_t *out_len)
{
    size_t start = ++p->pos;
    /* First pass: find the end and an upper bound of the decoded size (the
     * decoded form is never longer than the source). */
    size_t end = start;
    while (end < p->n && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->n)
        return fail(p, "unterminated string");
    char *buf = pool_alloc(p->doc, end - start + 1);
    if (!buf)
        return nomem(p);
    size_t k = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20)
            return fail(p, "raw control character in string (escape it)");
        if (c == '\\') {
            char e = p->s[p->pos + 1];
            p->pos += 2;
            switch (e) {
            case '"': buf[k++] = '"'; break;
            case '\\': buf[k++] = '\\'; break;
            case '/': buf[k++] = '/'; break;
            case 'b': buf[k++] = '\b'; break;
            case 'f': buf[k++] = '\f'; break;
            case 'n': buf[k++] = '\n'; break;
            case 'r': buf[k++] = '\r'; break;
            case 't': buf[k++] = '\t'; break;
            case 'u': {
                uint32_t cp;
                if (p->pos + 4 > end || !hex4(p->s + p->pos, &cp))
                    return fail(p, "bad \\u escape (need 4 hex digits)");
                p->pos += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return fail(p, "unpaired low surrogate in \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (p->pos + 6 > end || p->s[p->pos] != '\\' ||
                        p->s[p->pos + 1] != 'u' ||
                        !hex4(p->s + p->pos + 2, &lo) || lo < 0xDC00 ||
                        lo > 0xDFFF)
                        return fail(p, "unpaired high surrogate in \\u escape");
                    p->pos += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                k += uni_utf8_encode(cp, buf + k);
                break;
            }
            default:
                p->pos--;
                return fail(p, "unknown escape in string");
            }
            continue;
        }
        if (c < 0x80) {
            buf[k++] = (char)c;
            p->pos++;
            continue;
        }
        uint32_t cp;
        size_t used = uni_utf8_decode((const unsigned char *)p->s + p->pos,
                                      end - p->pos, &cp);
        if (cp == 0xFFFD &&
            !(used == 3 && memcmp(p->s + p->pos, "\xEF\xBF\xBD", 3) == 0))
            return fail(p, "invalid UTF-8 in string");
        memcpy(buf + k, p->s + p->pos, used);
        k += used;
        p->pos += used;
    }
    buf[k] = '\0';
    p->pos = end + 1;
    *out = buf;
    *out_len = k;
    return IR_OK;
}

static ir_status parse_number(parser *p, json_value *v)
{
    size_t start = p->pos;
    const char *s = p->s;
    bool integral = true;
    if (p->pos < p->n && s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->n || s[p->pos] < '0' || s[p->pos] > '9')
        return fail(p, "invalid number");
    if (s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->n && s[p->pos] >= '0' && s[p->pos] <= '9')
            return fail(p, "leading zero in number");
    } else {
        while (p->pos < p->n && s[p->pos] >= '0' && s[p->pos] <= '9')
            p->pos++;
    }
    if (p->pos < p->n && s[p->pos] == '.') {
        integral = false;
        p->pos++;
        if (p->pos >= p->n || s[p->pos] < '0' || s[p->pos] > '9')
            return fail(p, "digit expected after '.'");
        while (p->pos < p->n && s[p->pos] >= '0' && s[p->pos] <= '9')
            p->pos++;
    }
    if (p->pos < p->n && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        integral = false;
        p->pos++;
        if (p->pos < p->n && (s[p->pos] == '+' || s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->n || s[p->pos] < '0' || s[p->pos] > '9')
            return fail(p, "digit expected in exponent");
        while (p->pos < p->n && s[p->pos] >= '0' && s[p->pos] <= '9')
            p->pos++;
    }
    char tmp[64];
    size_t len = p->pos - start;
    if (len >= sizeof tmp) {
        /* Very long literal: strtod needs a NUL-terminated copy. */
        char *big = malloc(len + 1);
        if (!big)
            return nomem(p);
        memcpy(big, s + start, len);
        big[len] = '\0';
        v->u.num = strtod(big, NULL);
        free(big);
        integral = false;
    } else {
        memcpy(tmp, s + start, len);
        tmp[len] = '\0';
        v->u.num = strtod(tmp, NULL);
        if (integral) {
            errno = 0;
            long long ll = strtoll(tmp, NULL, 10);
            if (errno == 0) {
                v->is_int = true;
                v->ival = ll;
            }
        }
    }
    /* 1e999 overflows to infinity, which JSON cannot hold (writers turn it
     * into null): refused like NaN and Infinity. */
    if (isinf(v->u.num)) {
        p->pos = start;
        return fail(p, "number out of range (beyond a double's 1.8e308)");
    }
    v->type = JSON_NUMBER;
    return IR_OK;
}

static ir_status parse_value(parser *p, json_value *v, int depth);

/* Growable scratch vector for the children of one container. */
typedef struct vec {
    void *data;
    size_t count, cap, elem;
} vec;

static void *vec_push(vec *a)
{
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        void *nd = realloc(a->data, cap * a->elem);
        if (!nd)
            return NULL;
        a->data = nd;
        a->cap = cap;
    }
    return (char *)a->data + a->elem * a->count++;
}

static ir_status finish_vec(parser *p, vec *a, void **out)
{
    *out = NULL;
    if (a->count) {
        *out = pool_alloc(p->doc, a->count * a->elem);
        if (!*out) {
            free(a->data);
            return nomem(p);
        }
        memcpy(*out, a->data, a->count * a->elem);
    }
    free(a->data);
    return IR_OK;
}

static ir_status parse_array(parser *p, json_value *v, int depth)
{
    vec a = {NULL, 0, 0, sizeof(json_value)};
    ir_status st;
    p->pos++; /* [ */
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == ']') {
        p->pos++;
    } else {
        for (;;) {
            json_value *item = vec_push(&a);
            if (!item) {
                free(a.data);
                return nomem(p);
            }
            if ((st = parse_value(p, item, depth + 1)) != IR_OK) {
                free(a.data);
                return st;
            }
            skip_ws(p);
            if (p->pos < p->n && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->n && p->s[p->pos] == ']') {
                p->pos++;
                break;
            }
            free(a.data);
            return fail(p, "expected ',' or ']' in array");
        }
    }
    v->type = JSON_ARRAY;
    v->len = a.count;
    void *items;
    if ((st = finish_vec(p, &a, &items)) != IR_OK)
        return st;
    v->u.items = items;
    return IR_OK;
}

static ir_status parse_object(parser *p, json_value *v, int depth)
{
    vec a = {NULL, 0, 0, sizeof(json_member)};
    ir_status st;
    p->pos++; /* { */
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == '}') {
        p->pos++;
    } else {
        for (;;) {
            skip_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != '"') {
                free(a.data);
                return fail(p, "expected a string key in object");
            }
            json_member *m = vec_push(&a);
            if (!m) {
                free(a.data);
                return nomem(p);
            }
            if ((st = parse_string(p, &m->key, &m->key_len)) != IR_OK) {
                free(a.data);
                return st;
            }
            skip_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') {
                free(a.data);
                return fail(p, "expected ':' after object key");
            }
            p->pos++;
            if ((st = parse_value(p, &m->value, depth + 1)) != IR_OK) {
                free(a.data);
                return st;
            }
            skip_ws(p);
            if (p->pos < p->n && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->n && p->s[p->pos] == '}') {
                p->pos++;
                break;
            }
            free(a.data);
            return fail(p, "expected ',' or '}' in object");
        }
    }
    v->type = JSON_OBJECT;
    v->len = a.count;
    void *members;
    if ((st = finish_vec(p, &a, &members)) != IR_OK)
        return st;
    v->u.members = members;
    return IR_OK;
}

static int match_word(parser *p, const char *w)
{
    size_t n = strlen(w);
    if (p->n - p->pos >= n && memcmp(p->s + p->pos, w, n) == 0) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static ir_status parse_value(parser *p, json_value *v, int depth)
{
    memset(v, 0, sizeof *v);
    if (depth >= JSON_MAX_DEPTH) /* the root is level 1, at depth 0 */
        return fail(p, "values nest more than " JSON_MAX_DEPTH_TEXT
                    " levels deep (JSON_MAX_DEPTH)");
    skip_ws(p);
    v->line = p->line;
    v->col = p->pos - p->line_start + 1;
    if (p->pos >= p->n)
        return fail(p, "unexpected end of input, a value was expected");
    char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_object(p, v, depth);
    case '[': return parse_array(p, v, depth);
    case '"':
        v->type = JSON_STRING;
        return parse_string(p, &v->u.str, &v->len);
    case 't':
        if (!match_word(p, "true"))
            break;
        v->type = JSON_TRUE;
        return IR_OK;
    case 'f':
        if (!match_word(p, "false"))
            break;
        v->type = JSON_FALSE;
        return IR_OK;
    case 'n':
        if (!match_word(p, "null"))
            break;
        v->type = JSON_NULL;
        return IR_OK;
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return parse_number(p, v);
    }
    return fail(p, "unexpected character, a value was expected");
}

ir_status json_parse(const char *text, size_t len, const char *name,
                     json_doc *doc, ir_diag *d)
{
    memset(doc, 0, sizeof *doc);
    parser p = {text, len, 0, 1, 0, name ? name : "<json>", doc, d};
    ir_status st;
    doc->root = pool_alloc(doc, sizeof(json_value));
    if (!doc->root)
        return nomem(&p);
    if ((st = parse_value(&p, doc->root, 0)) != IR_OK) {
        json_doc_free(doc);
        return st;
    }
    skip_ws(&p);
    if (p.pos != p.n) {
        json_doc_free(doc);
        return fail(&p, "unexpected text after the JSON value");
    }
    return IR_OK;
}

void json_doc_free(json_doc *doc)
{
    json_chunk *c = doc->chunks;
    while (c) {
        json_chunk *next = c->next;
        free(c);
        c = next;
    }
    doc->chunks = NULL;
    doc->root = NULL;
}

const json_value *json_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->len; i++) {
        const json_member *m = &obj->u.members[i];
        if (m->key_len == kl && memcmp(m->key, key, kl) == 0)
            return &m->value;
    }
    return NULL;
}

const char *json_type_name(json_type t)
{
    static const char *const names[JSON_TYPE_COUNT] = {
        "null", "false", "true", "number", "string", "array", "object"};
    return (unsigned)t < JSON_TYPE_COUNT ? names[t] : "?";
}

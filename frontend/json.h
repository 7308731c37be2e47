/* json.h — a small, strict JSON (RFC 8259) reader: the whole text becomes a
 * tree in one allocation pool that json_doc_free releases. Used for Hugging
 * Face tokenizer.json files and JSON lines.
 *
 *     json_doc doc;
 *     if (json_parse(text, len, "tokenizer.json", &doc, &diag) != IR_OK)
 *         return diag.status;          // "tokenizer.json:3:14: expected ':'"
 *     const json_value *m = json_get(doc.root, "model");
 *     if (m && m->type == JSON_OBJECT) ...
 *     json_doc_free(&doc);
 *
 * Strict means: no comments, no trailing commas, no NaN/Infinity (nor a
 * number beyond a double's range, such as 1e999), no leading zeros,
 * strings must be valid UTF-8 without raw control characters, \u escapes
 * must pair surrogates, nothing but whitespace after the value, nesting at
 * most JSON_MAX_DEPTH. Strings are stored decoded, NUL-terminated,
 * with their byte length (they may contain NUL from \u0000).
 */
#ifndef DISTILC_JSON_H
#define DISTILC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/diag.h"

#define JSON_MAX_DEPTH 512
#define JSON_MAX_DEPTH_TEXT "512" /* for messages */

typedef enum json_type {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
    JSON_TYPE_COUNT
} json_type;

typedef struct json_value json_value;
typedef struct json_member json_member;

struct json_value {
    json_type type;
    size_t len; /* bytes of a string; items of an array; members of object */
    size_t line, col; /* where the value starts (1-based), for messages */
    union {
        double num;
        const char *str;
        json_value *items;    /* JSON_ARRAY */
        json_member *members; /* JSON_OBJECT, in document order */
    } u;
    bool is_int;  /* number written without fraction/exponent, fits int64 */
    int64_t ival; /* its value when is_int */
};

struct json_member {
    const char *key;
    size_t key_len;
    json_value value;
};

typedef struct json_chunk json_chunk;

typedef struct json_doc {
    json_value *root;
    json_chunk *chunks; /* the pool; internal */
} json_doc;

/* Parses text[0..len). name is used in messages ("name:line:col: ..."). */
ir_status json_parse(const char *text, size_t len, const char *name,
                     json_doc *doc, ir_diag *d);
void json_doc_free(json_doc *doc);

/* Member `key` of an object (the first if repeated), or NULL. */
const json_value *json_get(const json_value *obj, const char *key);
const char *json_type_name(json_type t);

/* ---- writing (json_write.c) ---------------------------------------------- */
/* s as a JSON string literal, escaped (NULL is written as ""). */
void json_write_string(FILE *f, const char *s);
/* v with `digits` significant digits (17 round-trips a double); NaN and
 * infinities as null. */
void json_write_number(FILE *f, double v, int digits);
/* v with `decimals` digits after the point ("%.*f"); NaN and infinities as
 * null. */
void json_write_fixed(FILE *f, double v, int decimals);

#endif

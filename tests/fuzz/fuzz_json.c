/* fuzz_json.c — libFuzzer harness for the JSON reader (json_parse), which
 * reads the emitted program's stdin, compress's state.json, the latency
 * cache, calibration files and tokenizer.json: any bytes give a tree or a
 * refusal naming line and column. A tree that parses is written back with
 * the JSON writers (json_write_string, json_write_number) and must parse
 * again to the same shape: what distilc writes, it reads. Strings holding
 * a NUL (from \u0000) are cut there by the writer, so only types, counts
 * and numbers are compared (a number by its value: 2.0 is written "2",
 * which reads back as an integer). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "frontend/json.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void emit(FILE *f, const json_value *v)
{
    switch (v->type) {
    case JSON_NULL: fputs("null", f); break;
    case JSON_FALSE: fputs("false", f); break;
    case JSON_TRUE: fputs("true", f); break;
    case JSON_NUMBER:
        if (v->is_int)
            fprintf(f, "%lld", (long long)v->ival);
        else
            json_write_number(f, v->u.num, 17);
        break;
    case JSON_STRING: json_write_string(f, v->u.str); break;
    case JSON_ARRAY:
        fputc('[', f);
        for (size_t i = 0; i < v->len; i++) {
            if (i)
                fputc(',', f);
            emit(f, &v->u.items[i]);
        }
        fputc(']', f);
        break;
    case JSON_OBJECT:
        fputc('{', f);
        for (size_t i = 0; i < v->len; i++) {
            if (i)
                fputc(',', f);
            json_write_string(f, v->u.members[i].key);
            fputc(':', f);
            emit(f, &v->u.members[i].value);
        }
        fputc('}', f);
        break;
    default: fuzz_fail("a value of no JSON type");
    }
}

static void same_shape(const json_value *a, const json_value *b)
{
    if (a->type != b->type ||
        (a->type == JSON_NUMBER &&
         (a->is_int ? !b->is_int || a->ival != b->ival : a->u.num != b->u.num)))
        fuzz_fail("written JSON read back as another value");
    if (a->type == JSON_ARRAY || a->type == JSON_OBJECT) {
        if (a->len != b->len)
            fuzz_fail("written JSON read back with another count");
        for (size_t i = 0; i < a->len; i++)
            if (a->type == JSON_ARRAY)
                same_shape(&a->u.items[i], &b->u.items[i]);
            else
                same_shape(&a->u.members[i].value, &b->u.members[i].value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_doc doc;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = json_parse((const char *)data, size, "fuzz.json", &doc, &d);
    fuzz_explained(s, &d);
    if (s != IR_OK)
        return 0;
    if (doc.root->type == JSON_OBJECT && doc.root->len)
        (void)json_get(doc.root, doc.root->u.members[0].key);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fuzz_require(f != NULL, "open_memstream");
    emit(f, doc.root);
    fuzz_require(fclose(f) == 0, "open_memstream");
    json_doc again;
    ir_diag_init(&d);
    if (json_parse(text, len, "written.json", &again, &d) != IR_OK) {
        fprintf(stderr, "%s\n", d.msg);
        fuzz_fail("the JSON writers wrote what the reader refuses");
    }
    same_shape(doc.root, again.root);
    json_doc_free(&again);
    json_doc_free(&doc);
    free(text);
    return 0;
}

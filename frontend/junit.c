/* junit.c — JUnit XML reports through libxml2's xmlTextWriter (see
 * junit.h for the layout). Text is cleaned to valid XML 1.0 character data
 * first (XML 1.0 §2.2 "Char"), because libxml2's writer passes invalid bytes
 * through and a CI reader would then reject the whole report. */
#include "frontend/junit.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "ir/file_atomic.h"

/* Length of the valid UTF-8 sequence at s (n bytes left) whose code point
 * XML 1.0 allows, or 0. */
static size_t xml_char_len(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len;
    if (s[0] < 0x80) {
        cp = s[0];
        len = 1;
    } else if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        cp = s[0] & 0x1Fu;
        len = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        cp = s[0] & 0x0Fu;
        len = 3;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        cp = s[0] & 0x07u;
        len = 4;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    /* Overlong forms and out-of-range values. */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    bool ok = cp == 0x9 || cp == 0xA || cp == 0xD ||
              (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
              cp >= 0x10000;
    return ok ? len : 0;
}

/* A malloc'd copy of s with every disallowed byte replaced by '?'. */
static char *xml_clean(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = xml_char_len(p + i, n - i);
        if (k == 0) {
            out[i] = '?';
            i++;
        } else {
            memcpy(out + i, p + i, k);
            i += k;
        }
    }
    out[n] = '\0';
    return out;
}

typedef struct jw {
    xmlTextWriterPtr w;
    int err; /* first libxml2 failure */
} jw;

static void jw_check(jw *j, int rc)
{
    if (rc < 0)
        j->err = 1;
}

static void jw_start(jw *j, const char *name)
{
    if (!j->err)
        jw_check(j, xmlTextWriterStartElement(j->w, BAD_CAST name));
}

static void jw_end(jw *j)
{
    if (!j->err)
        jw_check(j, xmlTextWriterEndElement(j->w));
}

static void jw_attr(jw *j, const char *name, const char *value)
{
    if (j->err || !value)
        return;
    char *c = xml_clean(value);
    if (!c) {
        j->err = 1;
        return;
    }
    jw_check(j, xmlTextWriterWriteAttribute(j->w, BAD_CAST name, BAD_CAST c));
    free(c);
}

static void jw_attr_size(jw *j, const char *name, size_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", v);
    jw_attr(j, name, buf);
}

static void jw_attr_time(jw *j, const char *name, double s)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.3f", s >= 0 && s < 1e12 ? s : 0.0);
    jw_attr(j, name, buf);
}

static void jw_text(jw *j, const char *text)
{
    if (j->err || !text)
        return;
    char *c = xml_clean(text);
    if (!c) {
        j->err = 1;
        return;
    }
    jw_check(j, xmlTextWriterWriteString(j->w, BAD_CAST c));
    free(c);
}

static void suite_counts(const junit_suite *s, size_t *fail, size_t *skip)
{
    for (size_t i = 0; i < s->n_cases; i++) {
        if (s->cases[i].failure_message)
            (*fail)++;
        else if (s->cases[i].skipped_message)
            (*skip)++;
    }
}

static void write_suite(jw *j, const junit_suite *s)
{
    size_t fail = 0, skip = 0;
    suite_counts(s, &fail, &skip);
    const char *sname = s->name ? s->name : "distilc";
    jw_start(j, "testsuite");
    jw_attr(j, "name", sname);
    jw_attr_size(j, "tests", s->n_cases);
    jw_attr_size(j, "failures", fail);
    jw_attr_size(j, "errors", 0);
    jw_attr_size(j, "skipped", skip);
    jw_attr_time(j, "time", s->seconds);
    jw_attr(j, "timestamp", s->timestamp);
    if (s->n_properties) {
        jw_start(j, "properties");
        for (size_t i = 0; i < s->n_properties; i++) {
            jw_start(j, "property");
            jw_attr(j, "name", s->properties[i].name);
            jw_attr(j, "value", s->properties[i].value ? s->properties[i].value : "");
            jw_end(j);
        }
        jw_end(j);
    }
    for (size_t i = 0; i < s->n_cases; i++) {
        const junit_case *c = &s->cases[i];
        jw_start(j, "testcase");
        jw_attr(j, "name", c->name ? c->name : "");
        jw_attr(j, "classname", c->classname ? c->classname : sname);
        jw_attr_time(j, "time", c->seconds);
        if (c->failure_message) {
            jw_start(j, "failure");
            jw_attr(j, "message", c->failure_message);
            jw_attr(j, "type", "failure");
            jw_text(j, c->failure_text);
            jw_end(j);
        } else if (c->skipped_message) {
            jw_start(j, "skipped");
            jw_attr(j, "message", c->skipped_message);
            jw_end(j);
        }
        if (c->system_out) {
            jw_start(j, "system-out");
            jw_text(j, c->system_out);
            jw_end(j);
        }
        jw_end(j);
    }
    jw_end(j);
}

ir_status junit_write_buffer(const junit_suite *suites, size_t n_suites,
                             char **out, size_t *len, ir_diag *d)
{
    *out = NULL;
    if (len)
        *len = 0;
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf)
        return ir_diag_set(d, IR_ERR_NOMEM, "junit: out of memory");
    jw j = {xmlNewTextWriterMemory(buf, 0), 0};
    if (!j.w) {
        xmlBufferFree(buf);
        return ir_diag_set(d, IR_ERR_NOMEM, "junit: cannot create XML writer");
    }
    jw_check(&j, xmlTextWriterSetIndent(j.w, 1));
    jw_check(&j, xmlTextWriterSetIndentString(j.w, BAD_CAST "  "));
    jw_check(&j, xmlTextWriterStartDocument(j.w, NULL, "UTF-8", NULL));

    size_t tests = 0, fail = 0, skip = 0;
    double secs = 0;
    for (size_t i = 0; i < n_suites; i++) {
        tests += suites[i].n_cases;
        suite_counts(&suites[i], &fail, &skip);
        secs += suites[i].seconds;
    }
    jw_start(&j, "testsuites");
    jw_attr(&j, "name", n_suites == 1 && suites[0].name ? suites[0].name : "distilc");
    jw_attr_size(&j, "tests", tests);
    jw_attr_size(&j, "failures", fail);
    jw_attr_size(&j, "errors", 0);
    jw_attr_size(&j, "skipped", skip);
    jw_attr_time(&j, "time", secs);
    for (size_t i = 0; i < n_suites; i++)
        write_suite(&j, &suites[i]);
    jw_end(&j);
    if (!j.err)
        jw_check(&j, xmlTextWriterEndDocument(j.w));
    xmlFreeTextWriter(j.w); /* flushes into buf */
    if (j.err) {
        xmlBufferFree(buf);
        return ir_diag_set(d, IR_ERR_FAILED, "junit: libxml2 could not write the report");
    }
    size_t n = (size_t)xmlBufferLength(buf);
    char *s = malloc(n + 1);
    if (!s) {
        xmlBufferFree(buf);
        return ir_diag_set(d, IR_ERR_NOMEM, "junit: out of memory");
    }
    memcpy(s, xmlBufferContent(buf), n);
    s[n] = '\0';
    xmlBufferFree(buf);
    *out = s;
    if (len)
        *len = n;
    return IR_OK;
}

ir_status junit_write_file(const char *path, const junit_suite *suites,
                           size_t n_suites, ir_diag *d)
{
    char *text;
    size_t n;
    ir_status st = junit_write_buffer(suites, n_suites, &text, &n, d);
    if (st != IR_OK)
        return st;
    st = ir_file_write_atomic(path, text, n, 0644, d);
    free(text);
    if (st != IR_OK)
        ir_diag_prefix(d, "JUnit report");
    return st;
}

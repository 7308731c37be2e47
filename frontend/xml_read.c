/* xml_read.c — parsing distilc's XML inputs safely (see xml_read.h). */
#include "frontend/xml_read.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

/* 1-based line of the first "<!DOCTYPE" in text, 0 when none (libxml2
 * keeps no line for the DTD node). */
static int doctype_line(const char *text, size_t len)
{
    static const char tag[] = "<!DOCTYPE";
    int line = 1;
    for (size_t i = 0; i + sizeof tag - 1 <= len; i++) {
        if (text[i] == '\n')
            line++;
        else if (memcmp(text + i, tag, sizeof tag - 1) == 0)
            return line;
    }
    return 0;
}

ir_status xml_read_doc(const char *text, size_t len, const char *name,
                       xmlDocPtr *out, ir_diag *d)
{
    *out = NULL;
    if (len > INT_MAX)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: %zu bytes, larger than an "
                           "XML file distilc reads (2 GB)", name, len);
    xmlParserCtxtPtr pc = xmlNewParserCtxt();
    if (!pc)
        return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", name);
    /* no XML_PARSE_NOENT (entities stay unexpanded), no XML_PARSE_DTDLOAD,
     * no XML_PARSE_HUGE (libxml2 keeps its depth and size limits) */
    xmlDocPtr doc = xmlCtxtReadMemory(pc, text, (int)len, name, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR |
                                          XML_PARSE_NOWARNING);
    ir_status st = IR_OK;
    if (!doc) {
        xmlErrorPtr e = xmlCtxtGetLastError(pc);
        char msg[512] = "not well-formed XML";
        if (e && e->message) {
            snprintf(msg, sizeof msg, "%s", e->message);
            size_t n = strlen(msg);
            while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                msg[--n] = 0;
        }
        /* libxml2: "Excessive depth in document: 256 use XML_PARSE_HUGE
         * option", an option of its API, not of distilc */
        if (strncmp(msg, "Excessive depth", 15) == 0)
            snprintf(msg, sizeof msg, "elements nest more than %d levels deep "
                     "(XML_READ_MAX_DEPTH; distilc's files nest 3 or 4)",
                     XML_READ_MAX_DEPTH);
        st = ir_diag_set(d, IR_ERR_INPUT, "%s:%d: malformed XML: %s", name,
                         e ? e->line : 0, msg);
    } else if (doc->intSubset || doc->extSubset) {
        st = ir_diag_set(d, IR_ERR_INPUT, "%s:%d: a DOCTYPE is not allowed "
                         "(no DTD, no entity declarations: the file is plain "
                         "elements checked by distilc's XML Schema); remove "
                         "it and write the values in place", name,
                         doctype_line(text, len));
    }
    xmlFreeParserCtxt(pc);
    if (st != IR_OK) {
        if (doc)
            xmlFreeDoc(doc);
        return st;
    }
    *out = doc;
    return IR_OK;
}

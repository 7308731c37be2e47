/* space_xml.c — reading a search space from its XML file (space_xml.h):
 * validated against the compiled-in schema
 * (search/space.xsd, text in frontend/space_text.c) with libxml2, then read
 * into a search_space. XML stays in frontend/ (DESIGN.md); search/ only
 * sees the plain struct.
 *
 * libxml2's error handlers are set per context (never the global ones), so
 * loading spaces concurrently is safe and nothing is printed.
 */
#include "frontend/space_xml.h"
#include "frontend/xml_read.h"
#include "ir/file_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
typedef struct xml_errs {
    const char *name;
    ir_diag *d;
    bool set;
} xml_errs;

/* Keeps the first libxml2 error as "file:line: message (element 'x')". */
static void xml_error_keep(void *ctx, xmlErrorPtr e)
{
    xml_errs *x = ctx;
    if (x->set || !e || e->level < XML_ERR_ERROR)
        return;
    x->set = true;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", e->message ? e->message : "invalid XML");
    size_t len = strlen(msg);
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        msg[--len] = 0;
    const xmlNode *node = e->node;
    const char *elem = (node && node->type == XML_ELEMENT_NODE && node->name)
                           ? (const char *)node->name : NULL;
    int line = e->line;
    if (line <= 0 && node)
        line = (int)xmlGetLineNo((xmlNodePtr)node);
    char where[64] = "";
    if (elem && !strstr(msg, "Element '"))
        snprintf(where, sizeof where, " (element '%s')", elem);
    ir_diag_set(x->d, IR_ERR_INPUT, "%s:%d: %s%s", x->name, line, msg, where);
}

static ir_status xml_input_error(ir_diag *d, const char *name,
                                 const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ir_status xml_input_error(ir_diag *d, const char *name,
                                 const xmlNode *n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!n)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: %s", name, msg);
    return ir_diag_set(d, IR_ERR_INPUT, "%s:%ld: element '%s': %s", name,
                       xmlGetLineNo((xmlNodePtr)n), (const char *)n->name, msg);
}

static const xmlNode *xml_child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* The attribute's value (schema defaults filled in) or def. */
static int64_t xml_int_attr(const xmlNode *n, const char *attr, int64_t def)
{
    if (!n)
        return def;
    xmlChar *v = xmlGetProp((xmlNodePtr)n, (const xmlChar *)attr);
    if (!v)
        return def;
    int64_t r = strtoll((const char *)v, NULL, 10);
    xmlFree(v);
    return r;
}

static double xml_num_attr(const xmlNode *n, const char *attr, double def)
{
    if (!n)
        return def;
    xmlChar *v = xmlGetProp((xmlNodePtr)n, (const xmlChar *)attr);
    if (!v)
        return def;
    double r = strtod((const char *)v, NULL);
    xmlFree(v);
    return r;
}

static bool xml_str_attr(const xmlNode *n, const char *attr, char *buf,
                         size_t len)
{
    xmlChar *v = n ? xmlGetProp((xmlNodePtr)n, (const xmlChar *)attr) : NULL;
    if (!v)
        return false;
    snprintf(buf, len, "%s", (const char *)v);
    xmlFree(v);
    return true;
}

/* Reads a whitespace-separated list into one gene's choices. The schema
 * has checked the items' form and count; duplicates are rejected here
 * (they would bias sampling toward one value). */
static ir_status read_gene(search_space *sp, search_gene g, const xmlNode *n,
                           ir_diag *d)
{
    xmlChar *text = xmlNodeGetContent((xmlNodePtr)n);
    char *save = NULL;
    ir_status s = IR_OK;
    sp->n[g] = 0;
    for (char *tok = strtok_r((char *)text, " \t\r\n", &save); tok;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (sp->n[g] >= SEARCH_MAX_CHOICES) {
            s = xml_input_error(d, sp->name, n, "more than %d choices",
                                SEARCH_MAX_CHOICES);
            break;
        }
        size_t i = sp->n[g];
        if (g == SEARCH_GENE_SHARE) {
            if (!search_share_parse(tok, &sp->share[i])) {
                s = xml_input_error(d, sp->name, n, "'%s' is not none, all, "
                                    "groups:K, attention or ffn", tok);
                break;
            }
            for (size_t j = 0; j < i; j++)
                if (sp->share[j].scheme == sp->share[i].scheme &&
                    sp->share[j].k == sp->share[i].k) {
                    s = xml_input_error(d, sp->name, n, "'%s' listed twice", tok);
                    break;
                }
        } else {
            sp->values[g][i] = strtoll(tok, NULL, 10);
            if (g == SEARCH_GENE_LAYERS && sp->values[g][i] > IR_ENCODER_MAX_LAYERS) {
                s = xml_input_error(d, sp->name, n, "%s layers: at most %d",
                                    tok, IR_ENCODER_MAX_LAYERS);
                break;
            }
            for (size_t j = 0; j < i; j++)
                if (sp->values[g][j] == sp->values[g][i]) {
                    s = xml_input_error(d, sp->name, n, "%s listed twice", tok);
                    break;
                }
        }
        if (s != IR_OK)
            break;
        sp->n[g]++;
    }
    xmlFree(text);
    return s;
}

static ir_status read_space(const xmlNode *root, search_space *sp,
                            space_xml_check_fn has_valid, ir_diag *d)
{
    int64_t version = xml_int_attr(root, "version", 0);
    if (version != 1)
        return xml_input_error(d, sp->name, root, "version %lld is not "
                               "supported: this distilc reads search spaces "
                               "of version 1 (see search/space.xsd)",
                               (long long)version);
    ir_encoder_config *b = &sp->base;
    ir_encoder_config_init(b);
    const xmlNode *base = xml_child(root, "base");
    b->vocab = xml_int_attr(base, "vocab", b->vocab);
    b->max_positions = xml_int_attr(base, "max-positions", b->max_positions);
    b->type_vocab = xml_int_attr(base, "type-vocab", b->type_vocab);
    b->labels = xml_int_attr(base, "labels", b->labels);
    char txt[64];
    ir_act act;
    if (xml_str_attr(base, "activation", txt, sizeof txt) &&
        ir_act_parse(txt, &act) && ir_act_is_ffn(act))
        b->activation = act;
    if (xml_str_attr(base, "head", txt, sizeof txt))
        ir_enc_head_parse(txt, &b->head);
    if (b->head == IR_ENC_HEAD_REGRESSION && b->labels != 1)
        return xml_input_error(d, sp->name, base, "a regression head has "
                               "labels=\"1\", not %lld", (long long)b->labels);

    const xmlNode *choices = xml_child(root, "choices");
    for (int g = 0; g < SEARCH_GENE_COUNT; g++) {
        const xmlNode *n = xml_child(choices, search_gene_name(g));
        ir_status s;
        if (n) {
            if ((s = read_gene(sp, (search_gene)g, n, d)) != IR_OK)
                return s;
        } else { /* embed and sharing are optional: no factorization,
                    no sharing */
            sp->n[g] = 1;
            sp->values[g][0] = 0;
            sp->share[0] = (search_share){IR_ENC_SHARE_NONE, 0};
        }
    }

    search_constraints *c = &sp->cons;
    const xmlNode *cons = xml_child(root, "constraints");
    const xmlNode *lat = xml_child(cons, "latency");
    c->latency_ms = xml_num_attr(lat, "ms", 0);
    /* without a latency element the setting is a default: 128 tokens or
     * the longest the base allows */
    c->seq = xml_int_attr(lat, "seq", 128);
    if (!lat && c->seq > b->max_positions)
        c->seq = b->max_positions;
    c->batch = xml_int_attr(lat, "batch", 1);
    c->threads = xml_int_attr(lat, "threads", 2);
    c->precision = IR_PRECISION_FP32;
    if (xml_str_attr(lat, "precision", txt, sizeof txt))
        ir_precision_parse(txt, &c->precision);
    if (c->seq > b->max_positions)
        return xml_input_error(d, sp->name, lat, "seq=\"%lld\" exceeds the "
                               "base's max-positions=\"%lld\"",
                               (long long)c->seq, (long long)b->max_positions);
    c->max_params = xml_int_attr(xml_child(cons, "params"), "max", 0);
    c->max_size_mb = xml_num_attr(xml_child(cons, "size"), "max-mb", 0);

    if (has_valid && !has_valid(sp))
        return xml_input_error(d, sp->name, choices ? choices : root,
                               "no combination of the choices is a valid "
                               "candidate under the constraints (every "
                               "combination tried, or many random ones of a "
                               "space too large to try them all; heads must "
                               "divide hidden with >= %d dims each, embed < "
                               "hidden, groups:K with K < layers dividing "
                               "layers, parameter and size limits)",
                               SEARCH_MIN_HEAD_DIM);
    return IR_OK;
}

ir_status space_xml_load_memory(const char *text, size_t len,
                                const char *name, search_space *sp,
                                space_xml_check_fn has_valid, ir_diag *d)
{
    memset(sp, 0, sizeof *sp);
    snprintf(sp->name, sizeof sp->name, "%s", name ? name : "space");
    xml_errs errs = {sp->name, d, false};
    ir_status s = IR_OK;

    const char *xsd = search_space_schema_text();
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewMemParserCtxt(xsd, (int)strlen(xsd));
    xml_errs schema_errs = {"search/space.xsd", d, false};
    if (pc)
        xmlSchemaSetParserStructuredErrors(pc, xml_error_keep, &schema_errs);
    xmlSchemaPtr schema = pc ? xmlSchemaParse(pc) : NULL;
    xmlSchemaFreeParserCtxt(pc);
    if (!schema) {
        if (!schema_errs.set)
            ir_diag_set(d, IR_ERR_FAILED, "search/space.xsd: libxml2 could not "
                        "parse the compiled-in schema");
        d->status = IR_ERR_FAILED; /* our schema, not the user's file */
        return IR_ERR_FAILED;
    }

    xmlDocPtr doc = NULL;
    if ((s = xml_read_doc(text, len, sp->name, &doc, d)) != IR_OK)
        goto done;
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    if (!vc) {
        s = ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", sp->name);
        goto done;
    }
    xmlSchemaSetValidStructuredErrors(vc, xml_error_keep, &errs);
    int rc = xmlSchemaValidateDoc(vc, doc);
    xmlSchemaFreeValidCtxt(vc);
    if (rc != 0) {
        if (!errs.set)
            ir_diag_set(d, IR_ERR_INPUT, "%s: does not follow search/space.xsd",
                        sp->name);
        s = IR_ERR_INPUT;
        goto done;
    }
    s = read_space(xmlDocGetRootElement(doc), sp, has_valid, d);
done:
    xmlFreeDoc(doc);
    xmlSchemaFree(schema);
    return s;
}

ir_status space_xml_load_file(const char *path, search_space *sp,
                              space_xml_check_fn has_valid, ir_diag *d)
{
    char *buf;
    size_t len;
    ir_status s = ir_file_read_all(path, "search space", 64 << 20, &buf, &len, d);
    if (s != IR_OK)
        return s;
    s = space_xml_load_memory(buf, len, path, sp, has_valid, d);
    free(buf);
    return s;
}

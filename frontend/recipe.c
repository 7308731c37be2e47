/* recipe.c — reading a distillation recipe: libxml2 parses the XML,
 * xmlSchemaValidateDoc checks it against the compiled-in schema
 * (recipe_schema.c = frontend/recipe.xsd), and a walk over the validated
 * tree fills the plain struct. The schema does the type checks, so the
 * walk only converts; the first error is reported with its line. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "frontend/recipe.h"
#include "frontend/xml_read.h"
#include "ir/file_read.h"

static void stage_default(recipe_stage *s, int64_t epochs, float lr)
{
    memset(s, 0, sizeof *s);
    s->epochs = epochs;
    s->batch = 32;
    s->max_seq = 64;
    s->lr = lr;
    s->warmup = 0.1f;
    s->weight_decay = 0.01f;
    s->temperature = 1.0f;
    s->seed = 42;
}

void recipe_default(recipe *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->share, sizeof r->share, "none");
    snprintf(r->init, sizeof r->init, "teacher");
    stage_default(&r->general, 1, 1e-4f);
    r->general.max_seq = 128;
    stage_default(&r->intermediate, 3, 5e-5f);
    stage_default(&r->prediction, 3, 3e-5f);
    stage_default(&r->supernet, 1, 5e-5f);
    r->supernet.epochs = 0; /* compress: one pass, at most 1000 steps */
    r->augment_prob = 0.4f;
    r->augment_neighbours = 15;
}

/* ---- errors -------------------------------------------------------------- */

typedef struct err_ctx {
    const char *name;
    ir_diag *d;
    bool set;
} err_ctx;

/* Keeps the first schema error as "NAME:LINE: element 'x': what". */
static void on_schema_error(void *user, xmlErrorPtr e)
{
    err_ctx *c = user;
    if (c->set || !e)
        return;
    c->set = true;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", e->message ? e->message : "invalid");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = 0;
    const xmlNode *node = e->node;
    int line = e->line ? e->line : (node ? (int)xmlGetLineNo(node) : 0);
    /* libxml2 writes "Element 'x'[, attribute 'y']: what": keep it as is,
     * lower-cased to read on after the location. */
    if (strncmp(msg, "Element '", 9) == 0) {
        msg[0] = 'e';
        ir_diag_set(c->d, IR_ERR_INPUT, "%s:%d: %s", c->name, line, msg);
        return;
    }
    const char *el = node && node->name ? (const char *)node->name : "?";
    ir_diag_set(c->d, IR_ERR_INPUT, "%s:%d: element '%s': %s", c->name, line,
                el, msg);
}

static void on_quiet(void *user, xmlErrorPtr e) { (void)user; (void)e; }

/* ---- converting validated values ----------------------------------------- */

static char *text_of(const xmlNode *n)
{
    char *s = (char *)xmlNodeGetContent(n);
    if (!s)
        return NULL;
    char *b = s;
    while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
        b++;
    size_t len = strlen(b);
    while (len && (b[len - 1] == ' ' || b[len - 1] == '\t' ||
                   b[len - 1] == '\n' || b[len - 1] == '\r'))
        len--;
    memmove(s, b, len);
    s[len] = 0;
    return s;
}

static ir_status bad_value(ir_diag *d, const char *name, const xmlNode *n,
                           const char *what, const char *text)
{
    return ir_diag_set(d, IR_ERR_INPUT, "%s:%ld: element '%s': '%s' %s", name,
                       xmlGetLineNo(n), (const char *)n->name, text, what);
}

static ir_status get_int(const xmlNode *n, const char *text, const char *name,
                         int64_t *out, ir_diag *d)
{
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < 0)
        return bad_value(d, name, n, "is out of range", text);
    *out = v;
    return IR_OK;
}

static ir_status get_float(const xmlNode *n, const char *text,
                           const char *name, float *out, ir_diag *d)
{
    char *end;
    double v = strtod(text, &end);
    if (*end || !isfinite(v) || !isfinite((float)v))
        return bad_value(d, name, n, "is not a finite float", text);
    *out = (float)v;
    return IR_OK;
}

/* A path from the recipe: relative to the recipe's folder. */
static ir_status set_path(char *dst, size_t n, const char *base,
                          const char *text, const xmlNode *node,
                          const char *name, ir_diag *d)
{
    int w = (text[0] == '/' || !base || strcmp(base, ".") == 0)
                ? snprintf(dst, n, "%s", text)
                : snprintf(dst, n, "%s/%s", base, text);
    if (w < 0 || (size_t)w >= n)
        return bad_value(d, name, node, "is too long a path", text);
    return IR_OK;
}

static ir_status set_text(char *dst, size_t n, const char *text,
                          const xmlNode *node, const char *name, ir_diag *d)
{
    if (strlen(text) >= n)
        return bad_value(d, name, node, "is too long", text);
    snprintf(dst, n, "%s", text);
    return IR_OK;
}

static ir_status read_stage(const xmlNode *sn, recipe_stage *s,
                            const char *name, ir_diag *d)
{
    xmlChar *skip = xmlGetProp(sn, (const xmlChar *)"skip");
    if (skip) {
        s->skip = strcmp((const char *)skip, "true") == 0 ||
                  strcmp((const char *)skip, "1") == 0;
        xmlFree(skip);
    }
    ir_status st = IR_OK;
    for (const xmlNode *n = sn->children; n && st == IR_OK; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *el = (const char *)n->name;
        char *t = text_of(n);
        if (!t)
            return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", name);
        int64_t v = 0;
        if (strcmp(el, "epochs") == 0) st = get_int(n, t, name, &s->epochs, d);
        else if (strcmp(el, "steps") == 0) st = get_int(n, t, name, &s->steps, d);
        else if (strcmp(el, "batch") == 0) st = get_int(n, t, name, &s->batch, d);
        else if (strcmp(el, "max-seq") == 0) st = get_int(n, t, name, &s->max_seq, d);
        else if (strcmp(el, "lr") == 0) st = get_float(n, t, name, &s->lr, d);
        else if (strcmp(el, "warmup") == 0) st = get_float(n, t, name, &s->warmup, d);
        else if (strcmp(el, "weight-decay") == 0)
            st = get_float(n, t, name, &s->weight_decay, d);
        else if (strcmp(el, "temperature") == 0)
            st = get_float(n, t, name, &s->temperature, d);
        else if (strcmp(el, "seed") == 0) {
            st = get_int(n, t, name, &v, d);
            s->seed = (uint64_t)v;
        } else if (strcmp(el, "eval-every") == 0)
            st = get_int(n, t, name, &s->eval_every, d);
        else if (strcmp(el, "ckpt-every") == 0)
            st = get_int(n, t, name, &s->ckpt_every, d);
        else if (strcmp(el, "bucket") == 0)
            st = get_int(n, t, name, &s->bucket, d);
        if (st == IR_OK && strcmp(el, "max-seq") == 0 && s->max_seq < 8)
            st = bad_value(d, name, n, "is below the minimum of 8 tokens", t);
        xmlFree(t);
    }
    return st;
}

static ir_status read_student(const xmlNode *n, recipe *r, const char *name,
                              ir_diag *d)
{
    static const char *keys[] = {"layers", "hidden", "heads", "ffn", "embed"};
    char spec[RECIPE_TEXT_MAX] = "";
    size_t len = 0;
    for (int i = 0; i < 5; i++) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *)keys[i]);
        if (!v)
            continue;
        int w = snprintf(spec + len, sizeof spec - len, "%s%s=%s",
                         len ? "," : "", keys[i], (const char *)v);
        xmlFree(v);
        if (w < 0 || (size_t)w >= sizeof spec - len)
            return bad_value(d, name, n, "is too long", "student");
        len += (size_t)w;
    }
    snprintf(r->student, sizeof r->student, "%s", spec);
    return IR_OK;
}

/* <augment copies=".." prob=".." neighbours=".."/>: the schema checks the
 * ranges (copies 0..64, prob in [0,1], neighbours 1..100). */
static ir_status read_augment(const xmlNode *n, recipe *r, const char *name,
                              ir_diag *d)
{
    static const char *keys[] = {"copies", "prob", "neighbours"};
    ir_status st = IR_OK;
    for (int i = 0; i < 3 && st == IR_OK; i++) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *)keys[i]);
        if (!v)
            continue;
        const char *t = (const char *)v;
        if (i == 0) st = get_int(n, t, name, &r->augment_copies, d);
        else if (i == 1) st = get_float(n, t, name, &r->augment_prob, d);
        else st = get_int(n, t, name, &r->augment_neighbours, d);
        xmlFree(v);
    }
    return st;
}

/* <search population=".." generations=".."/>: the schema makes both
 * positive integers. */
static ir_status read_search(const xmlNode *n, recipe *r, const char *name,
                             ir_diag *d)
{
    static const char *keys[] = {"population", "generations"};
    int64_t *dst[] = {&r->search_population, &r->search_generations};
    ir_status st = IR_OK;
    for (int i = 0; i < 2 && st == IR_OK; i++) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *)keys[i]);
        if (!v)
            continue;
        st = get_int(n, (const char *)v, name, dst[i], d);
        xmlFree(v);
    }
    return st;
}

/* version="N" (the schema makes it a positive integer). */
static ir_status check_version(const xmlNode *root, const char *name,
                               ir_diag *d)
{
    xmlChar *v = xmlGetProp(root, (const xmlChar *)"version");
    long long ver = v ? strtoll((const char *)v, NULL, 10) : 0;
    ir_status st = IR_OK;
    if (ver != RECIPE_VERSION)
        st = ir_diag_set(d, IR_ERR_INPUT, "%s:%ld: element 'recipe': version "
                         "%s, this distilc reads recipes of version %d (see "
                         "frontend/recipe.xsd)", name, xmlGetLineNo(root),
                         v ? (const char *)v : "?", RECIPE_VERSION);
    xmlFree(v);
    return st;
}

static ir_status read_recipe(const xmlNode *root, const char *name,
                             const char *base, recipe *r, ir_diag *d)
{
    ir_status st = check_version(root, name, d);
    snprintf(r->file, sizeof r->file, "%s", name);
    for (const xmlNode *n = root->children; n && st == IR_OK; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *el = (const char *)n->name;
        int line = (int)xmlGetLineNo(n);
        if (strcmp(el, "student") == 0) {
            st = read_student(n, r, name, d);
            r->line.student = line;
            continue;
        }
        if (strcmp(el, "augment") == 0) {
            st = read_augment(n, r, name, d);
            continue;
        }
        if (strcmp(el, "search") == 0) {
            st = read_search(n, r, name, d);
            continue;
        }
        if (strcmp(el, "supernet") == 0) {
            st = read_stage(n, &r->supernet, name, d);
            continue;
        }
        if (strcmp(el, "general") == 0 || strcmp(el, "intermediate") == 0 ||
            strcmp(el, "prediction") == 0) {
            recipe_stage *s = el[0] == 'g' ? &r->general
                              : el[0] == 'i' ? &r->intermediate : &r->prediction;
            st = read_stage(n, s, name, d);
            xmlChar *corpus = el[0] == 'g' ? xmlGetProp(n, (const xmlChar *)"corpus")
                                           : NULL;
            if (st == IR_OK && corpus) {
                st = set_path(r->corpus, sizeof r->corpus, base,
                              (const char *)corpus, n, name, d);
                r->line.corpus = line;
            }
            xmlFree(corpus);
            continue;
        }
        char *t = text_of(n);
        if (!t)
            return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", name);
        if (strcmp(el, "task") == 0) {
            st = set_text(r->task, sizeof r->task, t, n, name, d);
            r->line.task = line;
        } else if (strcmp(el, "data") == 0) {
            st = set_path(r->data, sizeof r->data, base, t, n, name, d);
            r->line.data = line;
        } else if (strcmp(el, "vocab") == 0) {
            st = set_path(r->vocab, sizeof r->vocab, base, t, n, name, d);
            r->line.vocab = line;
        } else if (strcmp(el, "tokenizer") == 0) {
            st = set_path(r->tokenizer, sizeof r->tokenizer, base, t, n, name,
                          d);
            r->line.tokenizer = line;
        } else if (strcmp(el, "share") == 0) {
            st = set_text(r->share, sizeof r->share, t, n, name, d);
            r->line.share = line;
        } else if (strcmp(el, "init") == 0) {
            st = set_text(r->init, sizeof r->init, t, n, name, d);
            r->line.init = line;
        } else if (strcmp(el, "layer-map") == 0) {
            st = set_text(r->layer_map, sizeof r->layer_map, t, n, name, d);
            r->line.layer_map = line;
        } else if (strcmp(el, "controls") == 0)
            r->controls = strcmp(t, "true") == 0 || strcmp(t, "1") == 0;
        xmlFree(t);
    }
    return st;
}

/* ---- loading -------------------------------------------------------------- */

ir_status recipe_load_text(const char *text, size_t len, const char *name,
                           const char *base_dir, recipe *r, ir_diag *d)
{
    ir_status st = IR_OK;
    xmlSchemaParserCtxtPtr spc = NULL;
    xmlSchemaPtr schema = NULL;
    xmlSchemaValidCtxtPtr vc = NULL;
    xmlDocPtr doc = NULL;
    if ((st = xml_read_doc(text, len, name, &doc, d)) != IR_OK)
        return st;
    const char *xsd = recipe_schema_text();
    spc = xmlSchemaNewMemParserCtxt(xsd, (int)strlen(xsd));
    if (spc)
        xmlSchemaSetParserStructuredErrors(spc, on_quiet, NULL);
    schema = spc ? xmlSchemaParse(spc) : NULL;
    vc = schema ? xmlSchemaNewValidCtxt(schema) : NULL;
    if (!vc) {
        st = ir_diag_set(d, IR_ERR_FAILED, "internal: the recipe schema "
                         "(frontend/recipe.xsd) did not load");
        goto out;
    }
    err_ctx ec = {name, d, false};
    xmlSchemaSetValidStructuredErrors(vc, on_schema_error, &ec);
    int rc = xmlSchemaValidateDoc(vc, doc);
    if (rc != 0) {
        if (!ec.set)
            ir_diag_set(d, IR_ERR_INPUT, "%s: does not follow the recipe "
                        "schema (frontend/recipe.xsd)", name);
        st = IR_ERR_INPUT;
        goto out;
    }
    st = read_recipe(xmlDocGetRootElement(doc), name, base_dir, r, d);
out:
    if (vc)
        xmlSchemaFreeValidCtxt(vc);
    if (schema)
        xmlSchemaFree(schema);
    if (spc)
        xmlSchemaFreeParserCtxt(spc);
    xmlFreeDoc(doc);
    return st;
}

ir_status recipe_load_file(const char *path, recipe *r, ir_diag *d)
{
    char *buf;
    size_t len;
    ir_status rs = ir_file_read_all(path, "recipe", RECIPE_FILE_MAX, &buf, &len,
                                    d);
    if (rs != IR_OK)
        return rs;
    char base[RECIPE_PATH_MAX];
    snprintf(base, sizeof base, "%s", path);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(base, sizeof base, ".");
    if (slash == base)
        snprintf(base, sizeof base, "/");
    ir_status st = recipe_load_text(buf, len, path, base, r, d);
    free(buf);
    return st;
}

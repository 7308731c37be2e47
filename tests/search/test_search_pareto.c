/* test_search_pareto.c — the search result writers: pareto.json parses
 * back (frontend/json.h) with the front, best and every candidate; the SVG
 * is well-formed XML (libxml2) with one circle per candidate, the front as
 * a polyline, labelled axes and the latency limit; unwritable paths give
 * IR_ERR_IO naming them. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/json.h"
#include "search/pareto.h"
#include "testutil.h"

static size_t count_elems(xmlNode *n, const char *name)
{
    size_t c = 0;
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
            c++;
        c += count_elems(n->children, name);
    }
    return c;
}

/* A result made by hand: 5 candidates, one infeasible, 2 on the front. */
static void make_result(search_result *r, search_cand *c, size_t *front)
{
    memset(r, 0, sizeof *r);
    memset(c, 0, 5 * sizeof *c);
    double pts[5][2] = {{0.5, 1.0}, {0.8, 2.0}, {0.9, 1.5}, {1.6, 2.5}, {2.5, 3.0}};
    for (int i = 0; i < 5; i++) {
        ir_encoder_config_init(&c[i].cfg);
        c[i].cfg.layers = 2 + i;
        c[i].cfg.hidden = 128;
        c[i].cfg.heads = 2;
        c[i].cfg.ffn = 512;
        ir_encoder_config_share(&c[i].cfg, i == 1 ? IR_ENC_SHARE_ALL : IR_ENC_SHARE_NONE, 0, NULL);
        c[i].latency_ms = pts[i][0];
        c[i].fitness = pts[i][1];
        c[i].params = ir_encoder_config_param_count(&c[i].cfg);
        c[i].size_mb = search_config_size_mb(&c[i].cfg, IR_PRECISION_FP32);
        c[i].feasible = i != 4;
    }
    r->all = c;
    r->n = 5;
    r->front = front;
    r->n_front = search_pareto_front(c, 5, front);
    r->best = 3;
    r->cycles = 7;
}

int main(void)
{
    char dir[256], path[512];
    if (!test_tmpdir(dir, sizeof dir)) {
        fprintf(stderr, "no temporary directory\n");
        return 1;
    }
    search_result r;
    search_cand c[5];
    size_t front[5];
    make_result(&r, c, front);
    CHECK(r.n_front == 3); /* (0.5,1) (0.8,2) (1.6,2.5); (0.9,1.5) dominated */
    search_pareto_meta m = {.space = "t<1>.xml", .fitness = "proxy: \"test\"",
                            .latency = "synthetic"};
    m.cons.latency_ms = 2.0;
    m.cons.seq = 128;
    m.cons.batch = 1;
    m.cons.threads = 2;
    ir_diag d;
    ir_diag_init(&d);

    /* JSON */
    snprintf(path, sizeof path, "%s/pareto.json", dir);
    CHECK_MSG(search_pareto_write_json(path, &r, &m, &d) == IR_OK, "%s", d.msg);
    size_t len = 0;
    char *text = test_read_file(path, &len);
    json_doc doc;
    CHECK(text && json_parse(text, len, path, &doc, &d) == IR_OK);
    if (text && doc.root) {
        const json_value *v = json_get(doc.root, "format");
        CHECK(v && v->type == JSON_STRING && strcmp(v->u.str, "distilc-pareto") == 0);
        v = json_get(doc.root, "version");
        CHECK(v && v->is_int && v->ival == 1);
        v = json_get(doc.root, "fitness");
        CHECK(v && strcmp(v->u.str, "proxy: \"test\"") == 0);
        const json_value *fr = json_get(doc.root, "front");
        CHECK(fr && fr->type == JSON_ARRAY && fr->len == 3);
        if (fr && fr->len == 3) {
            const json_value *l0 = json_get(&fr->u.items[0], "latency_ms");
            const json_value *l2 = json_get(&fr->u.items[2], "latency_ms");
            CHECK(l0 && l2 && l0->u.num == 0.5 && l2->u.num == 1.6);
            const json_value *sh = json_get(&fr->u.items[1], "sharing");
            CHECK(sh && strcmp(sh->u.str, "all") == 0);
        }
        const json_value *all = json_get(doc.root, "candidates");
        CHECK(all && all->type == JSON_ARRAY && all->len == 5);
        if (all && all->len == 5) {
            const json_value *fe = json_get(&all->u.items[4], "feasible");
            CHECK(fe && fe->type == JSON_FALSE);
            const json_value *p = json_get(&all->u.items[0], "params");
            CHECK(p && p->is_int && p->ival == c[0].params);
        }
        const json_value *best = json_get(doc.root, "best");
        const json_value *bl = best ? json_get(best, "layers") : NULL;
        CHECK(bl && bl->ival == 5);
        const json_value *cons = json_get(doc.root, "constraints");
        CHECK(cons && json_get(cons, "latency_ms")->u.num == 2.0);
        json_doc_free(&doc);
    }
    free(text);

    /* non-finite numbers become null, not invalid JSON */
    c[2].fitness = NAN;
    snprintf(path, sizeof path, "%s/nan.json", dir);
    CHECK(search_pareto_write_json(path, &r, &m, &d) == IR_OK);
    text = test_read_file(path, &len);
    CHECK(text && json_parse(text, len, path, &doc, &d) == IR_OK);
    if (text && doc.root)
        json_doc_free(&doc);
    free(text);
    c[2].fitness = 1.5;

    /* SVG */
    snprintf(path, sizeof path, "%s/pareto.svg", dir);
    CHECK_MSG(search_pareto_write_svg(path, &r, &m, &d) == IR_OK, "%s", d.msg);
    xmlDocPtr doc_x = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                  XML_PARSE_NOWARNING);
    CHECK_MSG(doc_x != NULL, "%s is not well-formed XML", path);
    if (doc_x) {
        xmlNode *root = xmlDocGetRootElement(doc_x);
        CHECK(strcmp((const char *)root->name, "svg") == 0);
        /* 5 candidates + 3 legend markers */
        CHECK(count_elems(root, "circle") == 5 + 3);
        CHECK(count_elems(root, "polyline") == 1);
        xmlFreeDoc(doc_x);
    }
    text = test_read_file(path, &len);
    CHECK(text && strstr(text, "predicted latency (ms") && strstr(text, "fitness (higher is better)"));
    CHECK(text && strstr(text, "limit 2 ms"));
    CHECK(text && strstr(text, "t&lt;1&gt;.xml")); /* escaped */
    CHECK(text && strstr(text, "L3 H128 A2 F512 E0 all")); /* tooltips */
    free(text);

    /* an empty result still gives valid files */
    search_result empty = {0};
    snprintf(path, sizeof path, "%s/empty.svg", dir);
    CHECK(search_pareto_write_svg(path, &empty, &m, &d) == IR_OK);
    snprintf(path, sizeof path, "%s/empty.json", dir);
    CHECK(search_pareto_write_json(path, &empty, &m, &d) == IR_OK);
    text = test_read_file(path, &len);
    CHECK(text && json_parse(text, len, path, &doc, &d) == IR_OK);
    if (text && doc.root)
        json_doc_free(&doc);
    free(text);

    /* unwritable path */
    CHECK(search_pareto_write_svg("/nonexistent/dir/p.svg", &r, &m, &d) == IR_ERR_IO);
    CHECK(strstr(d.msg, "/nonexistent/dir/p.svg") != NULL);
    return test_finish("test_search_pareto");
}

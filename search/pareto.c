/* pareto.c — JSON and SVG output of a search result (see pareto.h). The
 * SVG is written by hand: a few hundred circles, a polyline and text need
 * no library, and the file opens in any browser. */
#include "search/pareto.h"
#include "frontend/json.h"
#include "ir/file_atomic.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static void share_name(const ir_encoder_config *c, char *buf, size_t n)
{
    char full[96];
    search_config_format(c, full, sizeof full);
    const char *sp = strrchr(full, ' ');
    snprintf(buf, n, "%s", sp ? sp + 1 : "none");
}

static void put_cand(FILE *f, const search_cand *c)
{
    char sh[32];
    share_name(&c->cfg, sh, sizeof sh);
    fprintf(f, "{\"layers\": %lld, \"hidden\": %lld, \"heads\": %lld, "
               "\"ffn\": %lld, \"embed\": %lld, \"sharing\": \"%s\", "
               "\"params\": %lld, \"size_mb\": ",
            (long long)c->cfg.layers, (long long)c->cfg.hidden,
            (long long)c->cfg.heads, (long long)c->cfg.ffn,
            (long long)c->cfg.embed, sh, (long long)c->params);
    json_write_number(f, c->size_mb, 6);
    fputs(", \"latency_ms\": ", f);
    json_write_number(f, c->latency_ms, 6);
    fputs(", \"fitness\": ", f);
    json_write_number(f, c->fitness, 6);
    fprintf(f, ", \"feasible\": %s, \"front\": %s}", c->feasible ? "true" : "false",
            c->front ? "true" : "false");
}

ir_status search_pareto_json(FILE *f, const search_result *r,
                             const search_pareto_meta *m, ir_diag *d)
{
    fputs("{\n  \"format\": \"distilc-pareto\",\n  \"version\": 1,\n  \"space\": ", f);
    json_write_string(f, m->space);
    fputs(",\n  \"fitness\": ", f);
    json_write_string(f, m->fitness);
    fputs(",\n  \"latency\": ", f);
    json_write_string(f, m->latency);
    fprintf(f, ",\n  \"constraints\": {\"latency_ms\": ");
    json_write_number(f, m->cons.latency_ms, 6);
    fprintf(f, ", \"seq\": %lld, \"batch\": %lld, \"threads\": %lld, "
               "\"precision\": \"%s\", \"max_params\": %lld, \"max_size_mb\": ",
            (long long)m->cons.seq, (long long)m->cons.batch,
            (long long)m->cons.threads, ir_precision_name(m->cons.precision),
            (long long)m->cons.max_params);
    json_write_number(f, m->cons.max_size_mb, 6);
    fprintf(f, "},\n  \"evaluated\": %zu,\n  \"cycles\": %zu,\n  \"best\": ",
            r->n, r->cycles);
    if (r->n)
        put_cand(f, &r->all[r->best]);
    else
        fputs("null", f);
    fputs(",\n  \"front\": [", f);
    for (size_t i = 0; i < r->n_front; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        put_cand(f, &r->all[r->front[i]]);
    }
    fputs(r->n_front ? "\n  ],\n  \"candidates\": [" : "],\n  \"candidates\": [", f);
    for (size_t i = 0; i < r->n; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        put_cand(f, &r->all[i]);
    }
    fputs(r->n ? "\n  ]\n}\n" : "]\n}\n", f);
    if (ferror(f))
        return ir_diag_set(d, IR_ERR_IO, "pareto JSON: write error");
    return IR_OK;
}

/* ---- SVG ---------------------------------------------------------------- */
#define SVG_W 760
#define SVG_H 500
#define SVG_L 80   /* margins: left (y labels), right, top (title), bottom */
#define SVG_R 30
#define SVG_T 50
#define SVG_B 60

static void put_xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about n ticks. */
static double nice_step(double span, int n)
{
    double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

typedef struct axis {
    double lo, hi;
} axis;

static axis axis_fit(double lo, double hi)
{
    if (!(hi > lo)) { /* one point or none: a unit window around it */
        double c = isfinite(lo) ? lo : 0;
        lo = c - 0.5;
        hi = c + 0.5;
    }
    double pad = (hi - lo) * 0.05;
    return (axis){lo - pad, hi + pad};
}

static double px(axis a, double v) { return SVG_L + (v - a.lo) / (a.hi - a.lo) * (SVG_W - SVG_L - SVG_R); }
static double py(axis a, double v) { return SVG_H - SVG_B - (v - a.lo) / (a.hi - a.lo) * (SVG_H - SVG_T - SVG_B); }

static void point_title(FILE *f, const search_cand *c)
{
    char cfg[96];
    search_config_format(&c->cfg, cfg, sizeof cfg);
    fputs("<title>", f);
    put_xml_text(f, cfg);
    fprintf(f, ": %.3f ms, fitness %.4g, %.2fM params%s</title>", c->latency_ms,
            c->fitness, (double)c->params / 1e6, c->feasible ? "" : " (breaks a constraint)");
}

ir_status search_pareto_svg(FILE *f, const search_result *r,
                            const search_pareto_meta *m, ir_diag *d)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < r->n; i++) {
        const search_cand *c = &r->all[i];
        if (!isfinite(c->fitness) || !isfinite(c->latency_ms))
            continue;
        xlo = fmin(xlo, c->latency_ms), xhi = fmax(xhi, c->latency_ms);
        ylo = fmin(ylo, c->fitness), yhi = fmax(yhi, c->fitness);
    }
    if (m->cons.latency_ms > 0 && isfinite(xlo))
        xhi = fmax(xhi, m->cons.latency_ms), xlo = fmin(xlo, m->cons.latency_ms);
    axis ax = axis_fit(xlo, xhi), ay = axis_fit(ylo, yhi);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            SVG_W, SVG_H, SVG_W, SVG_H);
    fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">"
               "distilc search: fitness vs predicted latency (%zu candidates, "
               "%zu on the front)</text>\n", SVG_L, r->n, r->n_front);
    fprintf(f, "<text x=\"%d\" y=\"40\" fill=\"#555\">space ", SVG_L);
    put_xml_text(f, m->space);
    fputs(" · fitness: ", f);
    put_xml_text(f, m->fitness);
    fputs("</text>\n", f);
    /* axes, grid and ticks */
    int x0 = SVG_L, x1 = SVG_W - SVG_R, y0 = SVG_H - SVG_B, y1 = SVG_T;
    fprintf(f, "<g stroke=\"#ddd\">\n");
    double sx = nice_step(ax.hi - ax.lo, 8), sy = nice_step(ay.hi - ay.lo, 6);
    for (double v = ceil(ax.lo / sx) * sx; v <= ax.hi; v += sx)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
                px(ax, v), y0, px(ax, v), y1);
    for (double v = ceil(ay.lo / sy) * sy; v <= ay.hi; v += sy)
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n",
                x0, py(ay, v), x1, py(ay, v));
    fprintf(f, "</g>\n<g fill=\"#333\">\n");
    for (double v = ceil(ax.lo / sx) * sx; v <= ax.hi; v += sx)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                px(ax, v), y0 + 16, fabs(v) < sx * 1e-9 ? 0 : v);
    for (double v = ceil(ay.lo / sy) * sy; v <= ay.hi; v += sy)
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                x0 - 6, py(ay, v) + 4, fabs(v) < sy * 1e-9 ? 0 : v);
    fprintf(f, "</g>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
               "fill=\"none\" stroke=\"#333\"/>\n", x0, y1, x1 - x0, y0 - y1);
    fprintf(f, "<text class=\"xlabel\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
               "predicted latency (ms, ", (x0 + x1) / 2, SVG_H - 18);
    put_xml_text(f, m->latency);
    fputs(")</text>\n", f);
    fprintf(f, "<text class=\"ylabel\" transform=\"translate(20,%d) rotate(-90)\" "
               "text-anchor=\"middle\">fitness (higher is better)</text>\n",
            (y0 + y1) / 2);
    if (m->cons.latency_ms > 0) {
        double x = px(ax, m->cons.latency_ms);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#c00\" "
                   "stroke-dasharray=\"6 4\"/>\n<text x=\"%.1f\" y=\"%d\" fill=\"#c00\">"
                   "limit %g ms</text>\n", x, y0, x, y1, x + 4, y1 + 14,
                m->cons.latency_ms);
    }
    /* every candidate, then the front on top as a staircase */
    fputs("<g class=\"candidates\">\n", f);
    for (size_t i = 0; i < r->n; i++) {
        const search_cand *c = &r->all[i];
        if (c->front || !isfinite(c->fitness) || !isfinite(c->latency_ms))
            continue;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" "
                   "fill-opacity=\"0.6\">", px(ax, c->latency_ms), py(ay, c->fitness),
                c->feasible ? "#8aa" : "#e9a");
        point_title(f, c);
        fputs("</circle>\n", f);
    }
    fputs("</g>\n", f);
    if (r->n_front) {
        fputs("<polyline class=\"front\" fill=\"none\" stroke=\"#e60\" "
              "stroke-width=\"1.5\" points=\"", f);
        for (size_t i = 0; i < r->n_front; i++) {
            const search_cand *c = &r->all[r->front[i]];
            if (i) /* step: latency grows first, then fitness */
                fprintf(f, " %.1f,%.1f", px(ax, c->latency_ms),
                        py(ay, r->all[r->front[i - 1]].fitness));
            fprintf(f, "%s%.1f,%.1f", i ? " " : "", px(ax, c->latency_ms),
                    py(ay, c->fitness));
        }
        fputs("\"/>\n<g class=\"front\">\n", f);
        for (size_t i = 0; i < r->n_front; i++) {
            const search_cand *c = &r->all[r->front[i]];
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#e60\" "
                       "stroke=\"#630\">", px(ax, c->latency_ms), py(ay, c->fitness));
            point_title(f, c);
            fputs("</circle>\n", f);
        }
        fputs("</g>\n", f);
    }
    /* legend */
    fprintf(f, "<g transform=\"translate(%d,%d)\">\n"
               "<circle cx=\"0\" cy=\"0\" r=\"5\" fill=\"#e60\"/><text x=\"10\" y=\"4\">Pareto front</text>\n"
               "<circle cx=\"0\" cy=\"16\" r=\"3\" fill=\"#8aa\"/><text x=\"10\" y=\"20\">feasible</text>\n"
               "<circle cx=\"0\" cy=\"32\" r=\"3\" fill=\"#e9a\"/><text x=\"10\" y=\"36\">breaks a constraint</text>\n"
               "</g>\n</svg>\n", x1 - 150, y0 - 50);
    if (ferror(f))
        return ir_diag_set(d, IR_ERR_IO, "pareto SVG: write error");
    return IR_OK;
}

static ir_status write_file(const char *path,
                            ir_status (*fn)(FILE *, const search_result *,
                                            const search_pareto_meta *, ir_diag *),
                            const search_result *r, const search_pareto_meta *m,
                            ir_diag *d)
{
    ir_file_atomic a;
    ir_status s = ir_file_atomic_open(&a, path, 0644, d);
    if (s != IR_OK)
        return s;
    s = fn(a.f, r, m, d);
    if (s == IR_OK)
        return ir_file_atomic_commit(&a, d);
    ir_file_atomic_abort(&a);
    ir_diag_prefix(d, "%s", path);
    return s;
}

ir_status search_pareto_write_json(const char *path, const search_result *r,
                                   const search_pareto_meta *m, ir_diag *d)
{
    return write_file(path, search_pareto_json, r, m, d);
}

ir_status search_pareto_write_svg(const char *path, const search_result *r,
                                  const search_pareto_meta *m, ir_diag *d)
{
    return write_file(path, search_pareto_svg, r, m, d);
}

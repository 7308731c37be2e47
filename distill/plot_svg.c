/* plot_svg.c — loss and dev-metric curves as SVG (see plot_svg.h). Plain
 * fprintf of a fixed 800x450 canvas: a frame, ticks at "nice" steps, two
 * y axes, and polylines; no styling beyond what a browser needs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "distill/plot_svg.h"
#include "ir/file_atomic.h"

enum { W = 800, H = 450, ML = 70, MR = 70, MT = 40, MB = 50 };

/* A tick step of 1, 2 or 5 times a power of ten giving about n ticks. */
static double nice_step(double span, int n)
{
    if (!(span > 0))
        return 1;
    double raw = span / n, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void text_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
}

typedef struct axis { double lo, hi; } axis;

static double map_x(axis a, double v) { return ML + (v - a.lo) / (a.hi - a.lo) * (W - ML - MR); }
static double map_y(axis a, double v) { return H - MB - (v - a.lo) / (a.hi - a.lo) * (H - MT - MB); }

static axis axis_pad(double lo, double hi)
{
    if (!(hi > lo)) {
        lo -= 0.5;
        hi += 0.5;
    }
    double pad = 0.05 * (hi - lo);
    return (axis){lo - pad, hi + pad};
}

ir_status train_plot_svg(const char *path, const char *title,
                         const train_point *hist, size_t n_hist,
                         const train_dev_point *dev, size_t n_dev,
                         const char *metric_name, ir_diag *d)
{
    ir_file_atomic out;
    if (ir_file_atomic_open(&out, path, 0644, d) != IR_OK)
        return ir_diag_prefix(d, "plot");
    FILE *f = out.f;
    double s_lo = INFINITY, s_hi = -INFINITY, l_lo = INFINITY, l_hi = -INFINITY;
    double m_lo = INFINITY, m_hi = -INFINITY;
    for (size_t i = 0; i < n_hist; i++) {
        if (!isfinite(hist[i].loss))
            continue;
        s_lo = fmin(s_lo, (double)hist[i].step);
        s_hi = fmax(s_hi, (double)hist[i].step);
        l_lo = fmin(l_lo, hist[i].loss);
        l_hi = fmax(l_hi, hist[i].loss);
    }
    for (size_t i = 0; i < n_dev; i++) {
        if (!isfinite(dev[i].metric))
            continue;
        s_lo = fmin(s_lo, (double)dev[i].step);
        s_hi = fmax(s_hi, (double)dev[i].step);
        m_lo = fmin(m_lo, dev[i].metric);
        m_hi = fmax(m_hi, dev[i].metric);
    }
    if (!isfinite(s_lo)) { s_lo = 0; s_hi = 1; }
    if (!isfinite(l_lo)) { l_lo = 0; l_hi = 1; }
    if (!isfinite(m_lo)) { m_lo = 0; m_hi = 1; }
    axis ax = s_hi > s_lo ? (axis){s_lo, s_hi} : (axis){s_lo - 1, s_hi + 1};
    axis ay = axis_pad(l_lo, l_hi), am = axis_pad(m_lo, m_hi);

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H, W, H);
    fprintf(f, "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">", W / 2);
    text_escape(f, title ? title : "training");
    fputs("</text>\n", f);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
               "stroke=\"#444\"/>\n", ML, MT, W - ML - MR, H - MT - MB);
    /* x ticks (steps) */
    double st = nice_step(ax.hi - ax.lo, 8);
    for (double v = ceil(ax.lo / st) * st; v <= ax.hi + 1e-9; v += st)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                map_x(ax, v), MT, map_x(ax, v), H - MB, map_x(ax, v), H - MB + 16, v);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">step</text>\n",
            (W - ML - MR) / 2 + ML, H - 12);
    /* left axis: loss */
    st = nice_step(ay.hi - ay.lo, 6);
    for (double v = ceil(ay.lo / st) * st; v <= ay.hi + 1e-12; v += st)
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#1f5fbf\">%.3g</text>\n",
                ML - 6, map_y(ay, v) + 4, v);
    fprintf(f, "<text transform=\"translate(18,%d) rotate(-90)\" text-anchor=\"middle\" "
               "fill=\"#1f5fbf\">training loss</text>\n", H / 2);
    /* right axis: dev metric */
    if (n_dev) {
        st = nice_step(am.hi - am.lo, 6);
        for (double v = ceil(am.lo / st) * st; v <= am.hi + 1e-12; v += st)
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" fill=\"#c0392b\">%.3g</text>\n",
                    W - MR + 6, map_y(am, v) + 4, v);
        fprintf(f, "<text transform=\"translate(%d,%d) rotate(90)\" text-anchor=\"middle\" "
                   "fill=\"#c0392b\">dev ", W - 14, H / 2);
        text_escape(f, metric_name ? metric_name : "metric");
        fputs("</text>\n", f);
    }
    /* raw loss, then a moving average over ~2% of the steps */
    fputs("<polyline fill=\"none\" stroke=\"#9cbbe8\" stroke-width=\"0.8\" points=\"", f);
    for (size_t i = 0; i < n_hist; i++)
        if (isfinite(hist[i].loss))
            fprintf(f, "%.1f,%.1f ", map_x(ax, (double)hist[i].step), map_y(ay, hist[i].loss));
    fputs("\"/>\n", f);
    size_t win = n_hist / 50 + 1;
    double acc = 0;
    size_t cnt = 0;
    fputs("<polyline fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\" points=\"", f);
    for (size_t i = 0; i < n_hist; i++) {
        if (isfinite(hist[i].loss)) {
            acc += hist[i].loss;
            cnt++;
        }
        if (i >= win && isfinite(hist[i - win].loss)) {
            acc -= hist[i - win].loss;
            cnt--;
        }
        if (cnt)
            fprintf(f, "%.1f,%.1f ", map_x(ax, (double)hist[i].step), map_y(ay, acc / (double)cnt));
    }
    fputs("\"/>\n", f);
    if (n_dev) {
        fputs("<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"1.5\" points=\"", f);
        for (size_t i = 0; i < n_dev; i++)
            if (isfinite(dev[i].metric))
                fprintf(f, "%.1f,%.1f ", map_x(ax, (double)dev[i].step), map_y(am, dev[i].metric));
        fputs("\"/>\n", f);
        for (size_t i = 0; i < n_dev; i++)
            if (isfinite(dev[i].metric))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#c0392b\">"
                           "<title>step %lld: %.4f</title></circle>\n",
                        map_x(ax, (double)dev[i].step), map_y(am, dev[i].metric),
                        (long long)dev[i].step, dev[i].metric);
    }
    fputs("</svg>\n", f);
    if (ir_file_atomic_commit(&out, d) != IR_OK)
        return ir_diag_prefix(d, "plot");
    return IR_OK;
}

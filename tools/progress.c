/* progress.c — the progress reporter (see progress.h). Redraws are limited
 * to ~10 a second on a terminal and JSON lines to ~2 a second, so a fast
 * loop does not spend its time printing. */
#include "frontend/json.h"
#include "ir/clock.h"
#include "tools/progress.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BAR_WIDTH = 24 };

const char *progress_mode_name(progress_mode m)
{
    static const char *const names[PROGRESS_MODE_COUNT] = {"auto", "bar",
                                                           "json", "off"};
    return (unsigned)m < PROGRESS_MODE_COUNT ? names[m] : "?";
}

bool progress_mode_parse(const char *s, progress_mode *out)
{
    for (int i = 0; i < PROGRESS_MODE_COUNT; i++) {
        if (strcmp(s, progress_mode_name((progress_mode)i)) == 0) {
            *out = (progress_mode)i;
            return true;
        }
    }
    return false;
}

void progress_init(progress *p, FILE *out, const char *label, size_t total,
                   progress_mode mode)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    if (mode == PROGRESS_AUTO)
        mode = out && isatty(fileno(out)) ? PROGRESS_BAR : PROGRESS_JSON;
    p->mode = out ? mode : PROGRESS_OFF;
    /* The label goes into JSON: keep it to plain printable ASCII. */
    size_t k = 0;
    for (const char *s = label ? label : ""; *s && k + 1 < sizeof p->label; s++)
        p->label[k++] = (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\')
                            ? *s : '?';
    p->label[k] = '\0';
    p->total = total;
    p->t_start = p->t_last = ir_clock_wall_s();
}

static double rate_of(const progress *p, double t)
{
    double dt = t - p->t_start;
    return dt > 0 ? (double)p->done / dt : 0.0;
}

static void format_eta(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, n, "?");
    else if (s < 60)
        snprintf(buf, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static void draw_bar(progress *p, double t)
{
    double rate = rate_of(p, t);
    double frac = p->total ? (double)p->done / (double)p->total : 1.0;
    if (frac > 1)
        frac = 1;
    char bar[BAR_WIDTH + 1];
    int fill = (int)(frac * BAR_WIDTH);
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    char eta[32];
    format_eta(rate > 0 ? (double)(p->total - p->done) / rate : NAN, eta,
               sizeof eta);
    /* \r and clear-to-end-of-line: the new line may be shorter. */
    fprintf(p->out, "\r%s [%s] %zu/%zu  %.1f/s  ETA %s\x1b[K", p->label, bar,
            p->done, p->total, rate, eta);
    fflush(p->out);
    p->drawn = true;
}

static void json_line(progress *p, double t)
{
    double rate = rate_of(p, t);
    double eta = rate > 0 ? (double)(p->total - p->done) / rate : -1;
    fprintf(p->out, "{\"event\":\"progress\",\"label\":\"%s\",\"done\":%zu,"
            "\"total\":%zu,\"rate\":%.3f,\"eta_s\":", p->label, p->done,
            p->total, rate);
    json_write_fixed(p->out, eta >= 0 ? eta : NAN, 3); /* unknown: null */
    fputs("}\n", p->out);
    fflush(p->out);
}

void progress_update(progress *p, size_t done)
{
    if (p->mode == PROGRESS_OFF)
        return;
    p->done = done > p->total ? p->total : done;
    double t = ir_clock_wall_s();
    double gap = p->mode == PROGRESS_BAR ? 0.1 : 0.5;
    if (t - p->t_last < gap && p->done < p->total && p->drawn)
        return;
    if (t - p->t_last < gap && p->mode == PROGRESS_JSON)
        return; /* the final line comes from progress_finish */
    p->t_last = t;
    if (p->mode == PROGRESS_BAR)
        draw_bar(p, t);
    else
        json_line(p, t);
}

void progress_finish(progress *p)
{
    if (p->mode == PROGRESS_OFF)
        return;
    double t = ir_clock_wall_s();
    if (p->mode == PROGRESS_BAR) {
        draw_bar(p, t);
        fputc('\n', p->out);
    } else {
        fprintf(p->out, "{\"event\":\"progress\",\"label\":\"%s\","
                "\"done\":%zu,\"total\":%zu,\"rate\":%.3f,\"eta_s\":0,"
                "\"final\":true,\"seconds\":%.3f}\n",
                p->label, p->done, p->total, rate_of(p, t), t - p->t_start);
    }
    fflush(p->out);
    p->mode = PROGRESS_OFF; /* finish once */
}

void progress_callback(void *ctx, size_t done, size_t total)
{
    progress *p = ctx;
    if (total != p->total)
        p->total = total;
    progress_update(p, done);
}

/* progress.h — progress reporting for long commands (eval, regress, ...).
 *
 *     progress p;
 *     progress_init(&p, stderr, "SST-2", 872, PROGRESS_AUTO);
 *     for (...) progress_update(&p, done);
 *     progress_finish(&p);
 *
 * On a terminal (isatty) it redraws one line with \r:
 *     SST-2 [##########..........]  436/872  51.2/s  ETA 9s
 * When the stream is not a terminal it writes JSON lines instead, at most
 * about two a second, and always one final line:
 *     {"event":"progress","label":"SST-2","done":436,"total":872,
 *      "rate":51.2,"eta_s":8.5}
 *     {"event":"progress","label":"SST-2","done":872,"total":872,
 *      "rate":50.9,"eta_s":0,"final":true,"seconds":17.1}
 */
#ifndef DISTILC_PROGRESS_H
#define DISTILC_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum progress_mode {
    PROGRESS_AUTO, /* bar on a terminal, JSON lines otherwise */
    PROGRESS_BAR,
    PROGRESS_JSON,
    PROGRESS_OFF,
    PROGRESS_MODE_COUNT
} progress_mode;

typedef struct progress {
    FILE *out;
    progress_mode mode;  /* resolved: BAR, JSON or OFF */
    char label[64];
    size_t done, total;
    double t_start, t_last; /* monotonic seconds; t_last: last line */
    bool drawn;             /* a bar line is on screen */
} progress;

void progress_init(progress *p, FILE *out, const char *label, size_t total,
                   progress_mode mode);
void progress_update(progress *p, size_t done);
/* Final line (JSON) or the completed bar and a newline (terminal). */
void progress_finish(progress *p);
/* Adapter for eval_options.progress (ctx is a progress *). */
void progress_callback(void *ctx, size_t done, size_t total);
/* "auto", "bar", "json", "off"; false when unknown. */
const char *progress_mode_name(progress_mode m);
bool progress_mode_parse(const char *s, progress_mode *out);

#endif

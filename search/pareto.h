/* pareto.h — writing a search's result: the candidates and their Pareto
 * front (fitness against predicted latency) as JSON, and as an SVG scatter
 * plot with the front highlighted, the latency limit drawn and both axes
 * labelled.
 *
 *     search_pareto_meta m = {.space = "default.xml",
 *                             .fitness = "proxy: ln(body parameters)",
 *                             .latency = "latency model, seq 128 batch 1",
 *                             .cons = space.cons};
 *     search_pareto_write_json("out/pareto.json", &result, &m, &d);
 *     search_pareto_write_svg("out/pareto.svg", &result, &m, &d);
 *
 * JSON (format "distilc-pareto", version 1): {"format", "version", "space",
 * "fitness", "latency", "constraints": {...}, "evaluated", "cycles",
 * "best": C, "front": [C...], "candidates": [C...]} where each C is
 * {"layers", "hidden", "heads", "ffn", "embed", "sharing", "params",
 * "size_mb", "latency_ms", "fitness", "feasible", "front"}; "front" is
 * ordered by increasing latency.
 */
#ifndef DISTILC_SEARCH_PARETO_H
#define DISTILC_SEARCH_PARETO_H

#include <stdio.h>

#include "ir/diag.h"
#include "search/evolution.h"

typedef struct search_pareto_meta {
    const char *space;    /* the space file */
    const char *fitness;  /* what the fitness is (proxy or supernet) */
    const char *latency;  /* where the latency numbers come from */
    search_constraints cons;
} search_pareto_meta;

ir_status search_pareto_json(FILE *f, const search_result *r,
                             const search_pareto_meta *m, ir_diag *d);
ir_status search_pareto_svg(FILE *f, const search_result *r,
                            const search_pareto_meta *m, ir_diag *d);
/* The same into a file (IR_ERR_IO naming the path). */
ir_status search_pareto_write_json(const char *path, const search_result *r,
                                   const search_pareto_meta *m, ir_diag *d);
ir_status search_pareto_write_svg(const char *path, const search_result *r,
                                  const search_pareto_meta *m, ir_diag *d);

#endif

/* fuzz_search.h — the small evolution the search checkpoint harness
 * resumes and its seeds (make_seeds) are written by: a space of 48
 * genomes, a population of 4 over 3 generations, and callbacks that need
 * no model (a fitness of the shape, a latency of its FLOPs), so resuming a
 * checkpoint costs microseconds. */
#ifndef DISTILC_FUZZ_SEARCH_H
#define DISTILC_FUZZ_SEARCH_H

#include <math.h>
#include <string.h>

#include "search/evolution.h"

static const char fuzz_search_space_xml[] =
    "<space version=\"1\">\n"
    "  <choices>\n"
    "    <layers>1 2</layers>\n"
    "    <hidden>32 64</hidden>\n"
    "    <heads>1 2 4</heads>\n"
    "    <ffn>32 64</ffn>\n"
    "    <sharing>none all</sharing>\n"
    "  </choices>\n"
    "  <constraints><latency ms=\"0.1\"/></constraints>\n"
    "</space>\n";

static inline ir_status fuzz_search_fitness(void *ctx, const ir_encoder_config *c,
                                            double *f, ir_diag *d)
{
    (void)ctx, (void)d;
    *f = log((double)c->hidden) + 0.5 * log((double)c->ffn) + 0.1 * (double)c->layers -
         (c->heads == 2 ? 0 : 0.05);
    return IR_OK;
}

static inline ir_status fuzz_search_latency(void *ctx, const ir_encoder_config *c,
                                            double *ms, ir_diag *d)
{
    (void)ctx, (void)d;
    double H = (double)c->hidden, F = (double)c->ffn;
    *ms = (double)c->layers * (4 * H * H + 2 * H * F) * 1e-5 / 3.0 + 0.01;
    return IR_OK;
}

/* The options the seeds were written with, checkpointing to path. */
static inline void fuzz_search_opts(search_evo_opts *o, const char *path)
{
    search_evo_opts_default(o);
    o->population = 4;
    o->generations = 3;
    o->tournament = 2;
    o->seed = 5;
    o->fitness = fuzz_search_fitness;
    o->latency = fuzz_search_latency;
    o->ckpt_path = path;
    o->ckpt_hash = 0xf022;
}

#endif

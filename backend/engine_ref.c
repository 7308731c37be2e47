/* engine_ref.c — the reference interpreter as an engine (engine.h): the
 * graph run by ir_interp_run through frontend/eval.h's eval_model, which
 * feeds the inputs by their Hugging Face names. */
#include <stdlib.h>

#include "backend/engine.h"

typedef struct engine_ref {
    engine base;            /* first: the engine * is this struct's */
    ir_graph *g;
    eval_model m;
} engine_ref;

static ir_status ref_run(engine *e, const eval_batch *b, float *logits,
                         ir_diag *d)
{
    return eval_model_run(&((engine_ref *)e)->m, b, logits, d);
}

static void ref_free(engine *e)
{
    engine_ref *r = (engine_ref *)e;
    ir_graph_free(r->g);
    free(r);
}

ir_status engine_ref_new(ir_graph *g, engine **out, ir_diag *d)
{
    *out = NULL;
    engine_ref *r = calloc(1, sizeof *r);
    if (!r) {
        ir_graph_free(g);
        return ir_diag_set(d, IR_ERR_NOMEM, "eval: out of memory");
    }
    r->base = (engine){.name = "ref", .pad_id = -1, .run = ref_run,
                       .free = ref_free};
    r->g = g;
    ir_status s = eval_model_init(&r->m, g, d);
    if (s != IR_OK) {
        ref_free(&r->base);
        return s;
    }
    *out = &r->base;
    return IR_OK;
}

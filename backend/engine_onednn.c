/* engine_onednn.c — the oneDNN encoder runtime as an engine (engine.h):
 * an rt_model run batch by batch through eval_rt_run (eval_rt.h), which
 * pads batches to buckets of tokens. */
#include <stdlib.h>

#include "backend/engine.h"
#include "backend/eval_rt.h"
#include "backend/rt_encoder.h"

typedef struct engine_onednn {
    engine base;            /* first: the engine * is this struct's */
    eval_rt rt;             /* owns rt.m */
} engine_onednn;

static ir_status onednn_run(engine *e, const eval_batch *b, float *logits,
                            ir_diag *d)
{
    return eval_rt_run(&((engine_onednn *)e)->rt, b, logits, d);
}

static void onednn_free(engine *e)
{
    engine_onednn *r = (engine_onednn *)e;
    rt_model_free(r->rt.m);
    free(r);
}

/* Wraps m (owned from here, freed on failure) for an encoder of config c. */
static ir_status wrap(rt_model *m, const ir_encoder_config *c,
                      const rt_options *o, bool types, size_t bucket,
                      engine **out, ir_diag *d)
{
    engine_onednn *r = calloc(1, sizeof *r);
    if (!r) {
        rt_model_free(m);
        return ir_diag_set(d, IR_ERR_NOMEM, "eval: out of memory");
    }
    r->base = (engine){.name = "onednn",
                       .precision = ir_precision_name(o->precision),
                       .pad_id = c->positions == IR_ENC_POS_PADDED ? c->pad_id : -1,
                       .run = onednn_run, .free = onednn_free};
    r->rt = (eval_rt){.m = m, .labels = (size_t)c->labels, .types = types,
                      .bucket = bucket, .max_positions = (size_t)ir_encoder_max_seq(c)};
    *out = &r->base;
    return IR_OK;
}

ir_status engine_onednn_new(ir_graph *g, const rt_options *o, bool types,
                            size_t bucket, engine **out, ir_diag *d)
{
    *out = NULL;
    rt_model *m = NULL;
    ir_encoder *e = NULL;
    ir_status s = rt_model_from_graph(g, o, &m, &e, d);
    if (s == IR_OK)
        s = wrap(m, &e->cfg, o, types, bucket, out, d);
    ir_encoder_free(e);
    return s;
}

ir_status engine_onednn_from_encoder(const ir_encoder *e, const rt_options *o,
                                     bool types, size_t bucket, engine **out,
                                     ir_diag *d)
{
    *out = NULL;
    rt_model *m = NULL;
    ir_status s = rt_model_from_encoder(e, o, &m, d);
    return s == IR_OK ? wrap(m, &e->cfg, o, types, bucket, out, d) : s;
}

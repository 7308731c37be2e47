/* engine.c — what every engine shares (see engine.h); the two engines are
 * engine_ref.c and engine_onednn.c. */
#include "backend/engine.h"

ir_status engine_eval_run(void *ctx, const eval_batch *b, float *logits,
                          ir_diag *d)
{
    engine *e = ctx;
    return e->run(e, b, logits, d);
}

void engine_free(engine *e)
{
    if (e)
        e->free(e);
}

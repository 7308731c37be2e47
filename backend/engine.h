/* engine.h — the two ways distilc runs a classifier on a batch of token
 * ids, behind one interface (a struct of function pointers, as ggml's
 * backends): the reference interpreter (any graph, frontend/eval.h's
 * eval_model) and the oneDNN runtime (BERT-style encoders, backend/rt.h,
 * batches padded to buckets as backend/eval_rt.h does).
 *
 *     engine *e;
 *     if (engine_onednn_new(g, &ro, true, 8, &e, &d) != IR_OK)
 *         engine_ref_new(g, &e, &d);          // the interpreter runs any graph
 *     printf("%s\n", e->name);                 // "onednn" or "ref"
 *     eval_run(&ds, tok, &o, engine_eval_run, e, &r, &d);
 *     engine_free(e);
 *
 * A caller that picks an engine holds an engine *, not a flag: what
 * differs between the two is here, once.
 */
#ifndef DISTILC_BACKEND_ENGINE_H
#define DISTILC_BACKEND_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/rt.h"
#include "frontend/eval.h"
#include "ir/encoder.h"
#include "ir/ir.h"

typedef struct engine engine;
struct engine {
    const char *name;       /* "ref", "onednn": as the commands print it */
    /* The runtime's precision ("fp32", "bf16", "int8"); NULL for the
     * interpreter, which has no such setting. */
    const char *precision;
    /* The id the model counts as padding (its pad_id with padded
     * positions, as the runtime lifted it), for eval_options.pad_id; -1
     * when the engine does not know (the interpreter: the tokenizer's). */
    int64_t pad_id;
    /* Writes logits[rows * n_labels] for b (eval_run_fn's contract). */
    ir_status (*run)(engine *e, const eval_batch *b, float *logits,
                     ir_diag *d);
    void (*free)(engine *e);
};

/* engine_eval_run(e, ...) = e->run(e, ...): an engine as frontend/eval.h's
 * eval_run_fn, ctx being the engine. */
ir_status engine_eval_run(void *ctx, const eval_batch *b, float *logits,
                          ir_diag *d);
void engine_free(engine *e); /* NULL is fine */

/* The reference interpreter on g, which the engine owns from this call on
 * (freed with it, or here on failure). IR_ERR_INPUT when g has an input
 * eval cannot feed or no input_ids (eval_model_init's message). */
ir_status engine_ref_new(ir_graph *g, engine **out, ir_diag *d);

/* The oneDNN runtime compiled from g (rewritten in place by the fusion
 * passes, still the caller's; rt_model_from_graph's "onednn backend: ..."
 * messages). types: the model reads token_type_ids; bucket: pad batches up
 * to a multiple of that many tokens (0: never; see eval_rt.h). */
ir_status engine_onednn_new(ir_graph *g, const rt_options *o, bool types,
                            size_t bucket, engine **out, ir_diag *d);
/* The same from a lifted encoder (e may be freed afterwards). */
ir_status engine_onednn_from_encoder(const ir_encoder *e, const rt_options *o,
                                     bool types, size_t bucket, engine **out,
                                     ir_diag *d);

#endif

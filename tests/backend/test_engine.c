/* test_engine.c — the engine interface (backend/engine.h): the reference
 * interpreter and the oneDNN runtime run the same batch of a random encoder
 * to the same logits (1e-4; the runtime padded to a bucket of 8 tokens as
 * `distilc eval` pads), say their names as the commands print them, and
 * refuse a graph they cannot run with the message the commands show. */
#include <stdlib.h>
#include <string.h>

#include "backend/engine.h"
#include "tests/util/encoder_fixture.h"
#include "tests/util/testutil.h"

static ir_graph *encoder_graph(const ir_encoder *e)
{
    ir_graph *g = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (ir_encoder_to_graph(e, NULL, &g, &d) != IR_OK)
        fprintf(stderr, "ir_encoder_to_graph: %s\n", d.msg);
    return g;
}

/* The batch of x as eval_run hands it to an engine. */
static eval_batch batch_of(const enc_inputs *x, size_t *index, size_t labels)
{
    for (int64_t r = 0; r < x->B; r++)
        index[r] = (size_t)r;
    return (eval_batch){.rows = (size_t)x->B, .seq = (size_t)x->S,
                        .input_ids = x->ids->data,
                        .attention_mask = x->mask->data,
                        .token_type_ids = x->types->data, .index = index,
                        .n_labels = labels, .pad_id = 0};
}

static void test_same_logits(void)
{
    ir_encoder_config c;
    enc_small_config(&c, 32, 2, 4, 50, 32, 3);
    ir_encoder *e = enc_random_encoder(&c, 7, 0.2f);
    CHECK(e != NULL);
    if (!e)
        return;
    enc_inputs x = enc_inputs_make(3, 11, 2, c.vocab, 5);
    size_t index[3];
    eval_batch b = batch_of(&x, index, (size_t)c.labels);
    ir_diag d;
    ir_diag_init(&d);
    engine *ref = NULL, *rt = NULL, *rt_enc = NULL;
    CHECK_MSG(engine_ref_new(encoder_graph(e), &ref, &d) == IR_OK, "%s", d.msg);
    ir_graph *g = encoder_graph(e);
    rt_options o;
    rt_options_default(&o);
    CHECK_MSG(engine_onednn_new(g, &o, true, 8, &rt, &d) == IR_OK, "%s", d.msg);
    ir_graph_free(g);
    CHECK_MSG(engine_onednn_from_encoder(e, &o, true, 0, &rt_enc, &d) == IR_OK,
              "%s", d.msg);
    if (ref && rt && rt_enc) {
        CHECK(strcmp(ref->name, "ref") == 0 && ref->precision == NULL);
        CHECK(strcmp(rt->name, "onednn") == 0 && strcmp(rt->precision, "fp32") == 0);
        float want[9], got[9], got_enc[9];
        CHECK_MSG(engine_eval_run(ref, &b, want, &d) == IR_OK, "%s", d.msg);
        CHECK_MSG(engine_eval_run(rt, &b, got, &d) == IR_OK, "%s", d.msg);
        CHECK_MSG(engine_eval_run(rt_enc, &b, got_enc, &d) == IR_OK, "%s", d.msg);
        double diff = enc_max_diff(got, want, 9), diff_enc = enc_max_diff(got_enc, want, 9);
        printf("engine onednn vs ref: max |diff| %.2e (bucket 8), %.2e (no bucket)\n",
               diff, diff_enc);
        CHECK(diff <= 1e-4 && diff_enc <= 1e-4);
        /* a task wanting another head width is named, not run */
        b.n_labels = 2;
        CHECK(engine_eval_run(rt, &b, got, &d) == IR_ERR_INPUT);
        CHECK(engine_eval_run(ref, &b, got, &d) == IR_ERR_INPUT);
    }
    engine_free(ref);
    engine_free(rt);
    engine_free(rt_enc);
    engine_free(NULL);
    enc_inputs_free(&x);
    ir_encoder_free(e);
}

static void test_refusals(void)
{
    ir_diag d;
    ir_diag_init(&d);
    engine *en = NULL;
    ir_graph *g = enc_not_an_encoder();
    rt_options o;
    rt_options_default(&o);
    CHECK(engine_onednn_new(g, &o, true, 8, &en, &d) == IR_ERR_UNSUPPORTED && !en);
    CHECK_MSG(strstr(d.msg, "onednn backend: cannot lower this graph"), "%s", d.msg);
    /* the interpreter takes the graph, and frees it when it refuses */
    CHECK(engine_ref_new(g, &en, &d) == IR_ERR_INPUT && !en);
    CHECK_MSG(strstr(d.msg, "input_ids"), "%s", d.msg);
}

int main(void)
{
    test_same_logits();
    test_refusals();
    return test_finish("test_engine");
}

/* seeds_model.c — seeds of the harnesses whose files distilc writes from a
 * model or a run, each written by distilc itself: compress state files
 * (compress_state_save: an empty run and a finished one), latency caches
 * of this machine (measured with a tiny timing budget, then an overhead
 * fit, then search_latency_save), calibration JSON lines for the fuzz
 * encoder, trainer checkpoints (train_ckpt_save) and model.weights
 * (emit_write_weights) of the tiny encoder (fuzz_models.h), and search
 * checkpoints written by the small evolution of fuzz_search.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emit.h"
#include "distill/checkpoint.h"
#include "fuzz_models.h"
#include "fuzz_search.h"
#include "pipeline/compress.h"
#include "search/evolution_ckpt.h"
#include "search/latency.h"
#include "seeds.h"

static int fail(const char *what, const ir_diag *d)
{
    fprintf(stderr, "make_seeds: %s: %s\n", what, d->msg);
    return 1;
}

static int seeds_state(const char *out, const char *tmp)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/state.json", tmp);
    static compress_state st;
    compress_state_init(&st);
    ir_diag d;
    ir_diag_init(&d);
    if (compress_state_save(path, &st, &d) != IR_OK)
        return fail(path, &d);
    int rc = seed_move(out, "state_json", "empty.json", path);
    /* a finished run: every stage done, metrics on both sides */
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++) {
        st.done[i] = true;
        st.fp[i] = 0x0123456789abcdefull + (uint64_t)i;
        st.seconds[i] = 1.5 * i;
    }
    compress_results *r = &st.r;
    for (int m = 0; m < 2; m++) {
        compress_model *cm = m ? &r->student : &r->teacher;
        snprintf(cm->shape, sizeof cm->shape, "L%d H64 A2 F128 E0 none", 4 - 2 * m);
        cm->parameters = 1000000 >> m;
        cm->size_bytes = 4000000 >> m;
        cm->latency_ms = 2.5 / (m + 1);
        cm->metrics.n = 2;
        cm->metrics.main = 1;
        snprintf(cm->metrics.name[0], 32, "accuracy");
        snprintf(cm->metrics.name[1], 32, "f1");
        cm->metrics.value[0] = 0.9 - 0.05 * m;
        cm->metrics.value[1] = 0.88 - 0.04 * m;
        cm->dev_examples = 408;
    }
    r->t_layers = 4, r->t_hidden = 64, r->t_heads = 2, r->t_ffn = 128;
    r->sn_trained = true, r->sn_steps = 100, r->sn_seconds = 12;
    r->s_layers = 2, r->s_hidden = 64, r->s_heads = 2, r->s_ffn = 128;
    snprintf(r->s_share, sizeof r->s_share, "groups:2");
    r->dstage[1].ran = r->dstage[2].ran = true;
    r->dstage[1].steps = 50, r->dstage[2].steps = 20;
    r->dstage[1].final_loss = 0.25;
    r->budget_s = 600, r->aug_copies = 2, r->aug_examples = 30;
    if (compress_state_save(path, &st, &d) != IR_OK)
        return fail(path, &d);
    return rc | seed_move(out, "state_json", "finished.json", path);
}

/* A real cache of this machine (a cache from another CPU is refused before
 * its entries are read): the fuzz encoder timed at the harness's query and
 * an overhead fitted for it, then the same with int8 at two threads. */
static int seeds_latency(const char *out, const char *tmp)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/latency.json", tmp);
    search_latency_opts o;
    search_latency_opts_default(&o);
    o.cache_path = path;
    o.load_cache = false;
    o.min_time_ms = 0.5;
    o.reps = 1;
    search_latency *m = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (search_latency_create(&o, &m, &d) != IR_OK)
        return fail("latency model", &d);
    ir_encoder_config c[2];
    fuzz_model_config(&c[0]);
    enc_small_config(&c[1], 16, 1, 2, 40, 16, 2); /* the same, one layer */
    search_latency_query q = fuzz_model_query();
    search_latency_estimate e;
    double ms[2] = {0.2, 0.15};
    int rc = 0;
    if (search_latency_predict(m, &c[0], &q, &e, &d) != IR_OK ||
        search_latency_predict(m, &c[1], &q, &e, &d) != IR_OK ||
        search_latency_calibrate(m, c, ms, 2, &q, &d) != IR_OK ||
        search_latency_save(m, &d) != IR_OK)
        rc = fail("latency seed", &d);
    else
        rc = seed_move(out, "latency_cache", "fp32_t1.json", path);
    q.precision = IR_PRECISION_INT8;
    q.threads = 2;
    if (!rc && (search_latency_predict(m, &c[0], &q, &e, &d) != IR_OK ||
                search_latency_save(m, &d) != IR_OK))
        rc = fail("latency seed (int8)", &d);
    else if (!rc)
        rc = seed_move(out, "latency_cache", "int8_t2.json", path);
    search_latency_free(m);
    return rc;
}

static int seeds_calibration(const char *out)
{
    /* the fuzz encoder: vocabulary 40, 16 positions, 2 token types */
    int rc = seed_text(out, "calibration", "lines.jsonl",
        "{\"input_ids\":[1,7,39,2]}\n"
        "\n"
        "{\"input_ids\":[1,7,2],\"attention_mask\":[1,1,0],\"token_type_ids\":[0,1,1]}\n"
        "{\"input_ids\":[[1,5,2,0],[1,6,7,2]],\"attention_mask\":[[1,1,1,0],[1,1,1,1]]}\n");
    rc |= seed_text(out, "calibration", "bad.jsonl",
        "{\"input_ids\":[1,7,2]}\n{\"input_ids\":[1,40,2]}\n");
    return rc;
}

static int seeds_checkpoint(const char *out, const char *tmp)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/last.ckpt", tmp);
    ir_encoder_config c;
    fuzz_tiny_config(&c);
    train_params *p = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (train_params_new(&c, &p, &d) != IR_OK)
        return fail("train_params_new", &d);
    train_params_init_random(p, 5, 0.1f);
    float ex[4][16] = {{0}};
    for (int i = 0; i < 16; i++)
        ex[0][i] = 0.01f * (float)i;
    train_extra x = {ex[0], ex[1], ex[2], ex[3], 16};
    train_ckpt_state st = {.step = 10, .total_steps = 100, .epoch = 1,
                           .batch_in_epoch = 3, .data_seed = 42,
                           .rng_counter = 77, .best_dev = 0.5, .best_step = 8,
                           .gemm_precision = "fp32", .teacher_precision = "bf16"};
    int rc = 0;
    if (train_ckpt_save(path, p, &x, &st, &d) != IR_OK)
        rc = fail(path, &d);
    else
        rc = seed_move(out, "checkpoint", "tiny.ckpt", path);
    train_params_free(p);
    return rc;
}

static int seeds_weights(const char *out, const char *tmp)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.weights", tmp);
    ir_encoder_config c;
    fuzz_tiny_config(&c);
    ir_encoder *e = enc_random_encoder(&c, 3, 0.2f);
    if (!e)
        return 1;
    ir_diag d;
    ir_diag_init(&d);
    int rc = 0;
    float scales[4] = {0.01f, 0.02f, 0.03f, 0.04f}; /* 1 layer x 4 sites */
    if (emit_write_weights(e, path, NULL, NULL, &d) != IR_OK)
        rc = fail(path, &d);
    else
        rc = seed_move(out, "model_weights", "tiny.weights", path);
    if (!rc && emit_write_weights(e, path, scales, NULL, &d) != IR_OK)
        rc = fail(path, &d);
    else if (!rc)
        rc = seed_move(out, "model_weights", "tiny_int8.weights", path);
    ir_encoder_free(e);
    return rc;
}

/* The evolution stopped (by its stop callback) after `stop_at` cycles, or
 * failing at the checkpoint of cycle `fail_at` (a kill: the file holds the
 * generation before). */
typedef struct seed_evo {
    size_t seen, stop_at, fail_at;
} seed_evo;

static void seed_progress(void *ctx, size_t done, size_t total)
{
    (void)total;
    ((seed_evo *)ctx)->seen = done;
}

static bool seed_stop(void *ctx)
{
    seed_evo *k = ctx;
    return k->stop_at && k->seen >= k->stop_at;
}

static ir_status seed_checkpoint(void *ctx, size_t done,
                                 double user[SEARCH_EVO_USER], ir_diag *d)
{
    seed_evo *k = ctx;
    user[0] = 1.25 * (double)done; /* seconds spent, as compress keeps */
    user[1] = (double)done;
    if (k->fail_at && done == k->fail_at)
        return ir_diag_set(d, IR_ERR_FAILED, "killed");
    return IR_OK;
}

static int seeds_search_ckpt(const char *out, const char *tmp)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/evolution.ckpt", tmp);
    search_space sp;
    ir_diag d;
    ir_diag_init(&d);
    if (search_space_load_memory(fuzz_search_space_xml, strlen(fuzz_search_space_xml),
                                 "fuzz.xml", &sp, &d) != IR_OK)
        return fail("the search seeds' space", &d);
    static const struct { const char *name; seed_evo k; } runs[] = {
        {"finished.ckpt", {0, 0, 0}},
        {"stopped.ckpt", {0, 6, 0}},
        {"generation1.ckpt", {0, 0, 8}},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0] && !rc; i++) {
        seed_evo k = runs[i].k;
        search_evo_opts o;
        fuzz_search_opts(&o, path);
        o.progress = seed_progress;
        o.progress_ctx = &k;
        o.stop = seed_stop;
        o.checkpoint = seed_checkpoint;
        search_result r;
        remove(path);
        ir_status s = search_evolve(&sp, &o, &r, &d);
        if (s == IR_OK)
            search_result_free(&r);
        if (s != (k.fail_at ? IR_ERR_FAILED : IR_OK))
            rc = fail(runs[i].name, &d);
        else
            rc = seed_move(out, "search_ckpt", runs[i].name, path);
    }
    return rc;
}

int seeds_model(const char *out, const char *tmp)
{
    return seeds_state(out, tmp) | seeds_latency(out, tmp) |
           seeds_calibration(out) | seeds_checkpoint(out, tmp) |
           seeds_weights(out, tmp) | seeds_search_ckpt(out, tmp);
}

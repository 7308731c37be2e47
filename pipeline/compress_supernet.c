/* compress_supernet.c — stage 2 of `distilc compress`: the weight-sharing
 * supernet the search estimates candidates with (search/supernet_train.h).
 *
 * The supernet is the teacher itself with every axis sorted by importance,
 * over the space cut to what the teacher can teach (a teacher sharing
 * layers or factorizing its embeddings, ALBERT and ELECTRA-small,
 * unfolded: search_supernet_from_encoder); it is trained with the
 * sandwich rule on the task's training split minus a held-out part (the
 * last min(500, n/5) examples, which the search scores candidates on), and
 * written as OUT/supernet/supernet.onnx with OUT/supernet/supernet.json
 * saying how it was trained.
 *
 * Steps: --supernet-steps when given; else without a budget, one pass
 * over the training part (at most 1000 steps); with one, the stage's share
 * of it: the loop stops at the
 * deadline and its learning rate decays on time as well as steps, so a
 * cut run still ends at a small rate.
 *
 * Checkpoints: OUT/ckpt/supernet/last.ckpt every --ckpt-every steps; a
 * killed stage continues from it (c->resume), to the same supernet bit
 * for bit when the steps are fixed (a budget's deadline counts the
 * seconds trained before the kill). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emit.h"
#include "backend/gemm.h"
#include "distill/teacher.h"
#include "frontend/json.h"
#include "frontend/onnx.h"
#include "frontend/recipe.h"
#include "ir/file_atomic.h"
#include "pipeline/compress_internal.h"
#include "search/evolution.h"
#include "search/supernet_train.h"

enum { HELDOUT_MAX = 500, SUPERNET_STEPS_MAX = 1000 };

/* Rows [from, from + n) of src as a train_data of their own. */
static ir_status data_rows(const train_data *src, size_t from, size_t n,
                           train_data *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    size_t T = src->T;
    out->n = n;
    out->T = T;
    out->n_labels = src->n_labels;
    out->pad_id = src->pad_id;
    out->ids = malloc(n * T * sizeof *out->ids);
    out->types = malloc(n * T * sizeof *out->types);
    out->mask = malloc(n * T * sizeof *out->mask);
    out->len = malloc(n * sizeof *out->len);
    if (src->labels)
        out->labels = malloc(n * sizeof *out->labels);
    if (src->targets)
        out->targets = malloc(n * sizeof *out->targets);
    if (!out->ids || !out->types || !out->mask || !out->len ||
        (src->labels && !out->labels) || (src->targets && !out->targets)) {
        train_data_free(out);
        return ir_diag_set(d, IR_ERR_NOMEM, "supernet data: out of memory");
    }
    memcpy(out->ids, src->ids + from * T, n * T * sizeof *out->ids);
    memcpy(out->types, src->types + from * T, n * T * sizeof *out->types);
    memcpy(out->mask, src->mask + from * T, n * T * sizeof *out->mask);
    memcpy(out->len, src->len + from, n * sizeof *out->len);
    if (src->labels)
        memcpy(out->labels, src->labels + from, n * sizeof *out->labels);
    if (src->targets)
        memcpy(out->targets, src->targets + from, n * sizeof *out->targets);
    for (size_t i = 0; i < n; i++) {
        out->tokens += out->len[i];
        out->n_truncated += out->len[i] >= T;
    }
    return IR_OK;
}

ir_status compress_supernet_data(compress_ctx *c, train_data *train,
                                 train_data *heldout, ir_diag *d)
{
    memset(train, 0, sizeof *train);
    memset(heldout, 0, sizeof *heldout);
    const glue_task *task = compress_task(c->o);
    tok_tokenizer *tok = NULL;
    glue_dataset ds = {0};
    train_data all = {0};
    ir_status s = compress_tokenizer(c, &tok, d);
    if (s != IR_OK)
        return s;
    glue_load_opts gl = {.skip_bad_lines = false, .limit = (size_t)c->o->limit};
    s = glue_load(task, c->o->data, GLUE_SPLIT_TRAIN, &gl, &ds, d);
    if (s == IR_OK)
        s = train_data_from_glue(&ds, tok, (size_t)compress_task_max_seq(c), &all, d);
    if (s != IR_OK)
        ir_diag_prefix(d, "--data");
    else if (all.n < 10)
        s = ir_diag_set(d, IR_ERR_INPUT, "--data: %zu training examples; the "
                        "supernet needs at least 10 (some are held out to score "
                        "candidates)", all.n);
    if (s == IR_OK) {
        compress_fit_inputs(c, tok, &all);
        size_t h = all.n / 5 < HELDOUT_MAX ? all.n / 5 : HELDOUT_MAX;
        s = data_rows(&all, 0, all.n - h, train, d);
        if (s == IR_OK)
            s = data_rows(&all, all.n - h, h, heldout, d);
    }
    train_data_free(&all);
    glue_dataset_free(&ds);
    tok_free(tok);
    if (s != IR_OK) {
        train_data_free(train);
        train_data_free(heldout);
    }
    return s;
}

typedef struct sn_work {
    compress_ctx *c;
    double t0, deadline; /* deadline 0: none */
} sn_work;

/* Under a deadline the step count is a bound, not a plan: the total shown
 * is the steps the pace so far fits before the deadline. */
static void work_cb(void *user, int64_t step, int64_t total, float loss)
{
    (void)loss;
    sn_work *w = user;
    double now = compress_now_s();
    if (w->deadline > 0 && now > w->t0) {
        double fit = (double)step * (w->deadline - w->t0) / (now - w->t0);
        total = fit < (double)step ? step : fit < (double)total ? (int64_t)fit : total;
    }
    compress_work(w->c, "supernet", (size_t)step, (size_t)total);
}

static ir_status write_record(compress_ctx *c, const char *fitness, ir_diag *d)
{
    const compress_results *r = &c->st->r;
    const char *path = compress_path(c, "supernet/supernet.json");
    ir_file_atomic a;
    if (ir_file_atomic_open(&a, path, 0644, d) != IR_OK)
        return d->status;
    FILE *f = a.f;
    fprintf(f, "{\"fitness\": ");
    json_write_string(f, fitness);
    if (r->sn_trained)
        fprintf(f, ", \"steps\": %lld, \"subnetworks\": %lld, \"train_examples\": "
                "%lld, \"heldout_examples\": %lld, \"seconds\": %.3f, "
                "\"first_loss\": %.6g, \"last_loss\": %.6g",
                (long long)r->sn_steps, (long long)r->sn_subnets,
                (long long)r->sn_examples, (long long)r->sn_heldout, r->sn_seconds,
                r->sn_first_loss, r->sn_last_loss);
    fprintf(f, "}\n");
    return ir_file_atomic_commit(&a, d);
}

ir_status compress_stage_supernet(compress_ctx *c, ir_diag *d)
{
    const compress_options *o = c->o;
    compress_results *r = &c->st->r;
    const glue_task *task = compress_task(o);
    r->sn_trained = false;
    r->sn_steps = r->sn_subnets = r->sn_examples = r->sn_heldout = 0;
    r->sn_seconds = r->sn_first_loss = r->sn_last_loss = r->sn_budget_s = 0;
    /* data parallel: rank 0 checks, measures and writes; every rank
     * trains (compress.h) */
    bool lead = ir_dist_rank(o->dist) == 0;
    r->sn_teacher_s = NAN;
    /* a limit no candidate can meet is refused before the training */
    ir_status s = lead ? compress_check_latency_limit(c, d) : IR_OK;
    if (s == IR_OK && lead)
        s = emit_make_dirs(compress_path(c, "supernet"), d);
    if (s != IR_OK)
        return s;
    if (o->proxy_fitness)
        return lead ? write_record(c, SEARCH_PROXY_FITNESS_NAME, d) : IR_OK;

    search_space sp = c->space;
    ir_encoder_config tc;
    compress_teacher_config(c, &sp, &tc);
    if ((s = compress_space_fit_teacher(&sp, &tc, d)) != IR_OK)
        return s;
    ir_encoder *tenc = NULL, *sorted = NULL;
    search_supernet *sn = NULL;
    teacher *t = NULL;
    gemm_ctx *gemm = NULL;
    ir_graph *g = NULL;
    train_data train = {0}, held = {0};
    if ((s = teacher_load_onnx(o->teacher, &tenc, d)) != IR_OK) {
        ir_diag_prefix(d, "teacher '%s'", o->teacher);
        goto done;
    }
    tenc->cfg.head = task->is_regression ? IR_ENC_HEAD_REGRESSION
                                         : IR_ENC_HEAD_CLASSIFICATION;
    /* the teacher sorted by importance is both the supernet's start and
     * the teacher it learns from: its heads and dims line up with the
     * slices. A teacher that shares layers or factorizes its embeddings
     * (ALBERT, ELECTRA-small) starts an unfolded supernet, whose full
     * slice only approximates it: the supernet learns from the teacher
     * itself (the loss's learned projections line the dims up) */
    if ((s = search_supernet_from_encoder(tenc, true, &sn, d)) != IR_OK)
        goto done;
    bool unfolded = !ir_encoder_config_equal(search_supernet_config(sn), &tenc->cfg);
    if (unfolded) {
        const ir_encoder_config *tc0 = &tenc->cfg;
        bool shared = tc0->n_attn_groups < tc0->layers || tc0->n_ffn_groups < tc0->layers;
        compress_note(c, "supernet: the teacher's %s%s%s unfolded (one weight set "
                      "a layer, %lld-wide embedding tables); it learns from the "
                      "teacher itself", shared ? "shared layers" : "",
                      shared && tc0->embed ? " and " : "",
                      tc0->embed ? "factorized embeddings" : "",
                      (long long)tc0->hidden);
    }
    else if ((s = search_supernet_encoder(sn, &tenc->cfg, &sorted, d)) != IR_OK)
        goto done;
    if ((s = teacher_new(unfolded ? tenc : sorted, TEACHER_ENGINE_AUTO, NULL, NULL,
                         &t, d)) != IR_OK ||
        (s = gemm_ctx_create(gemm_impl_for_cpu(), &gemm, d)) != IR_OK)
        goto done;
    search_supernet_params(sn)->gemm = gemm;
    compress_train_threads(c);
    if ((s = compress_supernet_data(c, &train, &held, d)) != IR_OK)
        goto done;

    search_supernet_train_opts so;
    search_supernet_train_opts_default(&so);
    recipe rec;
    recipe_default(&rec);
    so.batch = (size_t)(o->recipe ? o->recipe->supernet.batch
                                  : rec.intermediate.batch);
    int64_t per_epoch = (int64_t)((train.n + so.batch - 1) / so.batch);
    so.steps = per_epoch < SUPERNET_STEPS_MAX ? per_epoch : SUPERNET_STEPS_MAX;
    compress_budget bud;
    compress_budget_split(o, -1, &bud);
    r->sn_budget_s = bud.supernet_s;
    if (o->supernet_steps > 0)
        so.steps = o->supernet_steps;
    else if (bud.supernet_s > 0) {
        /* the deadline ends it; the step count only has to be out of reach */
        so.steps = 4 * SUPERNET_STEPS_MAX;
        so.deadline_s = compress_now_s() + 0.95 * bud.supernet_s;
    }
    char ckpt[4200];
    if ((s = compress_ckpt_dir(c, COMPRESS_SUPERNET, ckpt, sizeof ckpt - 16, d)) != IR_OK)
        goto done;
    strcat(ckpt, "/last.ckpt");
    so.ckpt_path = ckpt;
    so.ckpt_every = o->ckpt_every;
    so.resume = c->resume;
    so.dist = o->dist;
    sn_work w = {c, compress_now_s(), so.deadline_s};
    so.progress = work_cb;
    so.progress_user = &w;
    search_supernet_train_result tr;
    if ((s = search_supernet_train(sn, &sp, t, &train, &so, &tr, d)) != IR_OK)
        goto done;
    r->sn_trained = true;
    r->sn_steps = tr.steps;
    r->sn_subnets = tr.subnets;
    r->sn_examples = (int64_t)train.n;
    r->sn_heldout = (int64_t)held.n;
    r->sn_seconds = tr.seconds;
    r->sn_teacher_s = tr.teacher_seconds;
    r->sn_first_loss = tr.first_loss;
    r->sn_last_loss = tr.last_loss;
    compress_note(c, "supernet: %lld steps (%lld sub-networks) in %.0f s, "
                  "distillation loss %.3g -> %.3g", (long long)tr.steps,
                  (long long)tr.subnets, tr.seconds, tr.first_loss, tr.last_loss);
    if (tr.start_step > 0)
        compress_note(c, "supernet: resumed from its checkpoint at step %lld",
                      (long long)tr.start_step);
    /* the whole supernet, as an encoder the search lifts back, with the
     * teacher's inputs */
    ir_encoder *whole = NULL;
    if (!lead)
        goto done;
    if ((s = search_supernet_encoder(sn, search_supernet_config(sn), &whole, d)) ==
        IR_OK) {
        ir_encoder_graph_opts go;
        ir_encoder_graph_opts_default(&go);
        go.token_types = r->t_token_types;
        s = ir_encoder_to_graph(whole, &go, &g, d);
        ir_encoder_free(whole);
    }
    if (s == IR_OK)
        s = onnx_save_file(g, compress_path(c, "supernet/supernet.onnx"), NULL, d);
    if (s == IR_OK) {
        char fit[COMPRESS_TEXT];
        compress_supernet_fitness_name(c, r->sn_heldout, fit, sizeof fit);
        s = write_record(c, fit, d);
    }
done:
    ir_graph_free(g);
    train_data_free(&train);
    train_data_free(&held);
    teacher_free(t);
    search_supernet_free(sn);
    gemm_ctx_free(gemm);
    ir_encoder_free(sorted);
    ir_encoder_free(tenc);
    return s;
}

void compress_supernet_fitness_name(const compress_ctx *c, int64_t heldout,
                                    char *buf, size_t n)
{
    const glue_task *task = compress_task(c->o);
    snprintf(buf, n, "supernet: %s of the candidate's slice on %lld held-out "
             "training examples (ties: - 2e-4 x its held-out loss, then "
             "+ 1e-7 x size proxy)",
             metric_kind_name(task->metric), (long long)heldout);
}

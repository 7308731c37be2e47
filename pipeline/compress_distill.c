/* compress_distill.c — stage 3 of `distilc compress`: TinyBERT distillation
 * of the searched shape, through the distillation library (teacher.h,
 * student.h, distill_loss.h, trainer.h) exactly as `distilc distill` drives
 * it: student initialised from the teacher, then
 *   general       intermediate losses on --corpus (only with a corpus)
 *   intermediate  intermediate losses on the task's train split
 *   prediction    soft cross-entropy on the task's train split
 * and the student written as OUT/student.onnx.
 *
 * Steps: without a budget, frontend/recipe.h's default epochs per stage.
 * With one, the stage's share of the budget (compress_budget_split, after
 * what the search actually used) is turned into steps from a measured step
 * time: three probe steps on a throwaway copy of the student, the last two
 * timed, then each finished stage's own seconds per step. Before each stage
 * the time left is divided 30/35/35% (general, intermediate, prediction)
 * with a corpus, 50/50 without, among the stages still to run; each gets
 * at least one step and at most its default epochs (stages before the
 * last plan with 1.5x their estimate; the last takes what is left), and
 * every stage runs at lr 2e-4 instead of the recipe's, as short runs need.
 *
 * --augment N (o->augment): the intermediate and prediction stages train
 * on the train split plus N TinyBERT-style copies of each example
 * (distill/augment.h). Budgets and --steps still set the step counts, so
 * the copies change which examples the steps see; without either, the
 * stages keep the unaugmented default's steps (see below). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/gemm.h"
#include "distill/augment.h"
#include "distill/data.h"
#include "distill/distill_loss.h"
#include "frontend/recipe.h"
#include "distill/student.h"
#include "distill/teacher.h"
#include "distill/trainer.h"
#include "frontend/onnx.h"
#include "pipeline/compress_internal.h"

typedef struct probe {
    double t1, t3; /* elapsed after steps 1 and 3 */
} probe;

static void probe_cb(void *user, const train_status *s)
{
    probe *p = user;
    if (s->event != TRAIN_EVENT_STEP)
        return;
    if (s->step == 1)
        p->t1 = s->elapsed_s;
    if (s->step == 3)
        p->t3 = s->elapsed_s;
}

typedef struct dwork {
    compress_ctx *c;
    char label[64];
} dwork;

static void work_cb(void *user, const train_status *s)
{
    dwork *w = user;
    if (s->event == TRAIN_EVENT_STEP)
        compress_work(w->c, w->label, (size_t)s->step, (size_t)s->total_steps);
}

static void loop_options(const recipe_stage *rs, const train_data *td,
                         train_loop_options *o)
{
    train_loop_options_default(o);
    o->batch = (size_t)rs->batch;
    o->max_seq = (size_t)rs->max_seq < td->T ? (size_t)rs->max_seq : 0;
    o->epochs = rs->epochs;
    o->steps = rs->steps;
    o->lr = rs->lr;
    o->warmup = rs->warmup;
    o->weight_decay = rs->weight_decay;
    o->seed = rs->seed;
}

/* Seconds per optimizer step of that loss on td, measured on a
 * copy of sp (sp itself and the projections' state are left as they are:
 * the probe does not step the extra block). */
static ir_status probe_step_time(const train_params *sp, const train_data *td,
                                 const recipe_stage *rs, distill_loss *loss,
                                 distill_stage stage, double *step_s, ir_diag *d)
{
    train_params *cp = NULL;
    ir_status s = train_params_new(&sp->cfg, &cp, d);
    if (s != IR_OK)
        return s;
    memcpy(cp->params, sp->params, sp->n * sizeof *sp->params);
    cp->gemm = sp->gemm;
    train_loop_options o;
    loop_options(rs, td, &o);
    o.steps = 3;
    o.what = "probe";
    probe pr = {0, 0};
    o.progress = probe_cb;
    o.progress_user = &pr;
    distill_loss_set_stage(loss, stage);
    train_result r;
    memset(&r, 0, sizeof r);
    s = train_loop_run(cp, td, &o, distill_loss_fn, loss, &r, d);
    train_result_free(&r);
    train_params_free(cp);
    if (s != IR_OK)
        return ir_diag_prefix(d, "timing a distillation step");
    *step_s = pr.t3 > pr.t1 ? (pr.t3 - pr.t1) / 2 : r.seconds / 3;
    return IR_OK;
}

ir_status compress_stage_distill(compress_ctx *c, ir_diag *d)
{
    const compress_options *o = c->o;
    compress_results *r = &c->st->r;
    const glue_task *task = glue_task_lookup(o->task);
    recipe rec;
    recipe_default(&rec);
    recipe_stage *rs[COMPRESS_DSTAGES] = {&rec.general, &rec.intermediate,
                                          &rec.prediction};
    static const char *const names[COMPRESS_DSTAGES] = {"general", "intermediate",
                                                        "prediction"};
    tok_tokenizer *tok = NULL;
    ir_encoder *tenc = NULL, *senc = NULL;
    train_params *tp = NULL, *sp = NULL;
    teacher *teach = NULL;
    distill_loss *loss = NULL;
    gemm_ctx *gemm = NULL;
    glue_dataset tr_ds = {0};
    train_data tr = {0}, corpus = {0};
    train_result runs[COMPRESS_DSTAGES];
    memset(runs, 0, sizeof runs);
    int64_t *keep = NULL;
    ir_graph *g = NULL;
    memset(r->dstage, 0, sizeof r->dstage);
    r->step_s = NAN;
    r->aug_copies = o->augment;
    r->aug_prob = o->augment_prob;
    r->aug_neighbours = o->augment_neighbours;
    r->aug_examples = r->aug_replaced = r->aug_eligible = 0;

    compress_train_threads(c);
    ir_status s = compress_tokenizer(c, &tok, d);
    if (s != IR_OK)
        goto done;
    if ((s = teacher_load_onnx(o->teacher, &tenc, d)) != IR_OK) {
        ir_diag_prefix(d, "teacher '%s'", o->teacher);
        goto done;
    }
    tenc->cfg.head = task->is_regression ? IR_ENC_HEAD_REGRESSION
                                         : IR_ENC_HEAD_CLASSIFICATION;
    student_spec spec = {.layers = r->s_layers, .hidden = r->s_hidden,
                         .heads = r->s_heads, .ffn = r->s_ffn, .embed = r->s_embed};
    ir_enc_share share;
    int64_t share_k;
    ir_encoder_config sc;
    if ((s = student_share_parse(r->s_share, &share, &share_k, d)) != IR_OK ||
        (s = student_config_make(&tenc->cfg, &spec, share, share_k, &sc, d)) != IR_OK) {
        ir_diag_prefix(d, "the searched student (%lld layers, hidden %lld, %s)",
                       (long long)spec.layers, (long long)spec.hidden, r->s_share);
        goto done;
    }
    distill_loss_opts lo;
    distill_loss_opts_default(&lo, sc.layers, tenc->cfg.layers);
    student_layer_map_uniform(sc.layers, tenc->cfg.layers, lo.layer_map);
    lo.temperature = rec.prediction.temperature;
    if ((s = train_params_new(&sc, &sp, d)) != IR_OK ||
        (s = gemm_ctx_create(gemm_impl_for_cpu(), &gemm, d)) != IR_OK)
        goto done;
    sp->gemm = gemm;
    keep = malloc((size_t)sc.hidden * sizeof *keep);
    if (!keep) {
        s = ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((s = train_params_from_encoder(tenc, &tp, d)) != IR_OK ||
        (s = student_init_from_teacher(sp, tp, lo.layer_map, keep, d)) != IR_OK)
        goto done;
    train_params_free(tp);
    tp = NULL;
    /* the teacher keeps the embedding output and the mapped layers only */
    bool want_h[IR_ENCODER_MAX_LAYERS + 1] = {false};
    bool want_s[IR_ENCODER_MAX_LAYERS] = {false};
    want_h[0] = true;
    for (int64_t m = 0; m < sc.layers; m++) {
        want_h[lo.layer_map[m]] = true;
        want_s[lo.layer_map[m] - 1] = true;
    }
    if ((s = teacher_new(tenc, TEACHER_ENGINE_AUTO, want_h, want_s, &teach, d)) !=
            IR_OK ||
        (s = distill_loss_new(&sc, teach, &lo, &loss, d)) != IR_OK)
        goto done;
    distill_loss_init_proj(loss, keep, rec.intermediate.seed);
    snprintf(r->teacher_engine, sizeof r->teacher_engine, "%s",
             teacher_engine_name(teacher_engine_used(teach)));
    /* the task's length (pairs need more than the recipe's 64), cut to
     * the positions the models have */
    rec.intermediate.max_seq = rec.prediction.max_seq = compress_task_max_seq(c);
    for (int i = 0; i < COMPRESS_DSTAGES; i++)
        if (rs[i]->max_seq > sc.max_positions)
            rs[i]->max_seq = sc.max_positions;
    bool general = o->corpus != NULL;
    glue_load_opts gl = {.skip_bad_lines = false, .limit = (size_t)o->limit};
    s = glue_load(task, o->data, GLUE_SPLIT_TRAIN, &gl, &tr_ds, d);
    if (s == IR_OK)
        s = train_data_from_glue(&tr_ds, tok, (size_t)rec.intermediate.max_seq, &tr, d);
    if (s != IR_OK) {
        ir_diag_prefix(d, "--data");
        goto done;
    }
    size_t n_task = tr.n; /* before augmentation */
    if (o->augment > 0) {
        aug_options ao;
        aug_options_default(&ao);
        ao.copies = o->augment;
        ao.prob = o->augment_prob;
        ao.neighbours = o->augment_neighbours;
        ao.seed = rec.intermediate.seed;
        train_data big;
        aug_stats as;
        compress_work(c, "distill: augmenting the train split", 0, 1);
        if ((s = aug_train_data(&tr, tok, tenc, &ao, &big, &as, d)) != IR_OK) {
            ir_diag_prefix(d, "--augment");
            goto done;
        }
        compress_work(c, "distill: augmenting the train split", 1, 1);
        train_data_free(&tr);
        tr = big;
        r->aug_replaced = (int64_t)as.replaced;
        r->aug_eligible = (int64_t)as.eligible;
        compress_note(c, "distill: --augment %lld: %zu -> %zu train examples, "
                      "%zu of %zu words replaced (neighbours of %zu words in "
                      "%.1f s)", (long long)o->augment, as.examples_in,
                      as.examples_out, as.replaced, as.eligible, as.rows,
                      as.table_s);
    }
    r->aug_examples = (int64_t)tr.n;
    if (general &&
        (s = train_data_from_corpus(o->corpus, tok, (size_t)rec.general.max_seq,
                                    (size_t)o->limit, &corpus, d)) != IR_OK) {
        ir_diag_prefix(d, "--corpus");
        goto done;
    }
    const train_data *data[COMPRESS_DSTAGES] = {&corpus, &tr, &tr};
    /* the budget in steps */
    compress_budget bud;
    compress_budget_split(o, compress_used_before_distill(c), &bud);
    double distill_s = bud.distill_s;
    r->distill_budget_s = distill_s;
    r->fixed_steps = o->distill_steps > 0;
    /* each stage's share of the time left: general / intermediate /
     * prediction 30/35/35% with a corpus, else intermediate / prediction
     * 50/50; re-divided before every stage from the step time measured so
     * far, so a slow or fast stage moves the later ones' step counts */
    static const double with_corpus[3] = {0.3, 0.35, 0.35}, task_only[3] = {0, 0.5, 0.5};
    const double *frac = general ? with_corpus : task_only;
    /* est[i]: expected seconds a step of stage i; the intermediate losses
     * and the prediction loss are probed apart (the latter skips the
     * hidden-state and attention terms and is cheaper) */
    double deadline = 0, est[COMPRESS_DSTAGES] = {NAN, NAN, NAN};
    if (distill_s > 0 && o->distill_steps <= 0) {
        double t0 = compress_now_s();
        compress_work(c, "distill: timing steps", 0, 2);
        if ((s = probe_step_time(sp, &tr, &rec.intermediate, loss,
                                 DISTILL_STAGE_INTERMEDIATE, &est[1], d)) != IR_OK)
            goto done;
        compress_work(c, "distill: timing steps", 1, 2);
        if ((s = probe_step_time(sp, &tr, &rec.prediction, loss,
                                 DISTILL_STAGE_PREDICTION, &est[2], d)) != IR_OK)
            goto done;
        compress_work(c, "distill: timing steps", 2, 2);
        est[0] = est[1];
        r->step_s = est[1];
        /* 5% held back for the stage switches and writing the student */
        deadline = t0 + 0.95 * distill_s;
    }
    /* a budgeted or step-counted run is short (tens to hundreds of steps,
     * not TinyBERT's epochs): larger steps than the recipe's 5e-5 / 3e-5
     * keep far more of the teacher's accuracy there (SST-2, MiniLM-L6
     * teacher, 2 minutes: 85% of its accuracy at the recipe's rates, 93-97%
     * at 1e-4 - 3e-4) */
    if (distill_s > 0 || o->distill_steps > 0)
        rec.general.lr = rec.intermediate.lr = rec.prediction.lr = 2e-4f;
    for (int i = 0; i < COMPRESS_DSTAGES; i++) {
        if (i == 0 && !general)
            continue;
        if (o->distill_steps > 0)
            rs[i]->steps = o->distill_steps;
        else if (deadline > 0) {
            double rest = 0;
            for (int j = i; j < COMPRESS_DSTAGES; j++)
                rest += frac[j];
            /* a stage that is not the last plans with 1.5x its estimate:
             * probes run on three batches of a machine others share, and
             * what an earlier stage leaves over goes to the later ones,
             * while an overrun would take their time */
            bool last = true;
            for (int j = i + 1; j < COMPRESS_DSTAGES; j++)
                last = last && frac[j] == 0;
            double left = (deadline - compress_now_s()) * frac[i] / rest /
                          (last ? 1.0 : 1.5);
            int64_t n = (int64_t)floor(left / (est[i] > 0 ? est[i] : 1));
            int64_t per_epoch = ((int64_t)data[i]->n + rs[i]->batch - 1) / rs[i]->batch;
            int64_t cap = rs[i]->epochs * per_epoch;
            rs[i]->steps = n < 1 ? 1 : n > cap ? cap : n;
            compress_note(c, "distill %s: %lld steps (%.0f s left of the budget's "
                          "%.0f, %.3f s a step)", names[i], (long long)rs[i]->steps,
                          deadline - compress_now_s(), distill_s, est[i]);
        } else if (o->augment > 0 && i > 0) {
            /* no budget: the default epochs over the augmented set would
             * take copies+1 times as long; keep the steps of the
             * unaugmented default, so augmentation changes which examples
             * the steps see, not the run time */
            rs[i]->steps = rs[i]->epochs *
                           (((int64_t)n_task + rs[i]->batch - 1) / rs[i]->batch);
        }
        train_loop_options lopt;
        loop_options(rs[i], data[i], &lopt);
        lopt.what = names[i];
        distill_loss_set_stage(loss, i == 2 ? DISTILL_STAGE_PREDICTION
                                            : DISTILL_STAGE_INTERMEDIATE);
        /* the projections learn with the intermediate losses only */
        if (i < 2 && distill_loss_extra(loss)->n)
            lopt.extra = distill_loss_extra(loss);
        dwork w = {.c = c};
        snprintf(w.label, sizeof w.label, "distill %s", names[i]);
        lopt.progress = work_cb;
        lopt.progress_user = &w;
        s = train_loop_run(sp, data[i], &lopt, distill_loss_fn, loss, &runs[i], d);
        if (s != IR_OK) {
            ir_diag_prefix(d, "%s distillation", names[i]);
            goto done;
        }
        compress_dstage *ds = &r->dstage[i];
        ds->ran = true;
        ds->steps = runs[i].steps;
        ds->examples = (int64_t)data[i]->n;
        /* batches per epoch, the last one partial: as the loop counts */
        size_t per_epoch = (data[i]->n + lopt.batch - 1) / lopt.batch;
        ds->epochs = per_epoch ? (double)runs[i].steps / (double)per_epoch : 0;
        ds->final_loss = runs[i].last_loss;
        ds->seconds = runs[i].seconds;
        ds->tokens_per_s = runs[i].tokens_per_s;
        /* the machine's pace as this stage found it scales the estimates
         * of the stages still to run */
        if (runs[i].steps > runs[i].start_step && runs[i].seconds > 0 && est[i] > 0) {
            double pace = runs[i].seconds /
                          (double)(runs[i].steps - runs[i].start_step) / est[i];
            for (int j = i + 1; j < COMPRESS_DSTAGES; j++)
                est[j] *= pace;
        }
    }
    /* the student as ONNX */
    if ((s = ir_encoder_new(&sc, &senc, d)) != IR_OK ||
        (s = train_params_to_encoder(sp, senc, d)) != IR_OK)
        goto done;
    ir_encoder_graph_opts go;
    ir_encoder_graph_opts_default(&go);
    if ((s = ir_encoder_to_graph(senc, &go, &g, d)) != IR_OK)
        goto done;
    s = onnx_save_file(g, compress_path(c, "student.onnx"), NULL, d);
done:
    for (int i = 0; i < COMPRESS_DSTAGES; i++)
        train_result_free(&runs[i]);
    ir_graph_free(g);
    free(keep);
    train_data_free(&tr);
    train_data_free(&corpus);
    glue_dataset_free(&tr_ds);
    distill_loss_free(loss);
    teacher_free(teach);
    train_params_free(sp);
    train_params_free(tp);
    gemm_ctx_free(gemm);
    ir_encoder_free(tenc);
    ir_encoder_free(senc);
    tok_free(tok);
    return s;
}

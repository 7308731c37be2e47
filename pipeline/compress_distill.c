/* compress_distill.c — stage 3 of `distilc compress`: TinyBERT distillation
 * of the searched shape, through the one driver `distilc distill` uses too
 * (distill/run.h): student initialised from the teacher, then
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
 * stages keep the unaugmented default's steps (see below).
 *
 * Checkpoints: OUT/ckpt/distill/<stage>/ every --ckpt-every steps; a
 * killed stage continues from them (c->resume): a distillation stage with
 * a checkpoint from it, one without afresh, to the same student bit for
 * bit. Under a budget a stage keeps the step count its checkpoint was
 * planned with, and the time its checkpoints say was spent is taken off
 * the budget. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/gemm.h"
#include "distill/augment.h"
#include "distill/data.h"
#include "distill/run.h"
#include "distill/student.h"
#include "distill/teacher.h"
#include "frontend/recipe.h"
#include "frontend/user_data.h"
#include "pipeline/compress_internal.h"

/* The budget's side of the run: what the hooks need to turn the time left
 * into steps before each stage. */
typedef struct dbudget {
    compress_ctx *c;
    const recipe *rec;      /* the stages as probed (the recipe's lr) */
    const train_data *data[DISTILL_RUN_STAGES];
    size_t n_task;          /* train examples before augmentation */
    bool general;
    double distill_s, deadline;
    /* est[i]: expected seconds a step of stage i; the intermediate losses
     * and the prediction loss are probed apart (the latter skips the
     * hidden-state and attention terms and is cheaper) */
    double est[DISTILL_RUN_STAGES];
    bool probed;
} dbudget;

/* Times a step of each loss before the first stage (only with a budget
 * and no --steps); 5% of the budget is held back for the stage switches
 * and writing the student, and what a killed run's checkpoints say it
 * trained is spent. */
static ir_status budget_probe(dbudget *b, distill_job *job, ir_diag *d)
{
    b->probed = true;
    if (!(b->distill_s > 0 && b->c->o->distill_steps <= 0))
        return IR_OK;
    double t0 = compress_now_s();
    for (int i = 0; i < DISTILL_RUN_STAGES; i++) {
        bool found;
        train_ckpt_state ck;
        ir_status s = distill_job_checkpoint(job, i, &found, &ck, d);
        if (s != IR_OK)
            return s;
        if (found)
            t0 -= ck.seconds;
    }
    compress_work(b->c, "distill: timing steps", 0, 2);
    ir_status s = distill_job_time_step(job, DISTILL_RUN_INTERMEDIATE,
                                        &b->rec->intermediate, &b->est[1], d);
    if (s != IR_OK)
        return s;
    compress_work(b->c, "distill: timing steps", 1, 2);
    s = distill_job_time_step(job, DISTILL_RUN_PREDICTION, &b->rec->prediction,
                              &b->est[2], d);
    if (s != IR_OK)
        return s;
    compress_work(b->c, "distill: timing steps", 2, 2);
    b->est[0] = b->est[1];
    b->c->st->r.step_s = b->est[1];
    b->deadline = t0 + 0.95 * b->distill_s;
    return IR_OK;
}

/* stage_begin: the stage's steps from --steps, the budget left, or (with
 * --augment and neither) the unaugmented default's. */
static ir_status budget_stage_begin(void *user, distill_job *job, int i,
                                    recipe_stage *rs, ir_diag *d)
{
    dbudget *b = user;
    const compress_options *o = b->c->o;
    if (!b->probed) {
        ir_status s = budget_probe(b, job, d);
        if (s != IR_OK)
            return s;
    }
    /* each stage's share of the time left: general / intermediate /
     * prediction 30/35/35% with a corpus, else intermediate / prediction
     * 50/50; re-divided before every stage from the step time measured so
     * far, so a slow or fast stage moves the later ones' step counts */
    static const double with_corpus[3] = {0.3, 0.35, 0.35}, task_only[3] = {0, 0.5, 0.5};
    const double *frac = b->general ? with_corpus : task_only;
    bool found = false;
    train_ckpt_state ck;
    if (b->deadline > 0 && o->distill_steps <= 0) {
        ir_status s = distill_job_checkpoint(job, i, &found, &ck, d);
        if (s != IR_OK)
            return s;
    }
    if (o->distill_steps > 0)
        rs->steps = o->distill_steps;
    else if (found) {
        /* a killed run planned this stage: keep its steps */
        rs->steps = ck.total_steps;
        compress_note(b->c, "distill %s: %lld steps, resumed at step %lld",
                      distill_run_stage_name(i), (long long)ck.total_steps,
                      (long long)ck.step);
    } else if (b->deadline > 0) {
        double rest = 0;
        for (int j = i; j < DISTILL_RUN_STAGES; j++)
            rest += frac[j];
        /* a stage that is not the last plans with 1.5x its estimate:
         * probes run on three batches of a machine others share, and
         * what an earlier stage leaves over goes to the later ones,
         * while an overrun would take their time */
        bool last = true;
        for (int j = i + 1; j < DISTILL_RUN_STAGES; j++)
            last = last && frac[j] == 0;
        double left = (b->deadline - compress_now_s()) * frac[i] / rest /
                      (last ? 1.0 : 1.5);
        int64_t n = (int64_t)floor(left / (b->est[i] > 0 ? b->est[i] : 1));
        int64_t per_epoch = ((int64_t)b->data[i]->n + rs->batch - 1) / rs->batch;
        int64_t cap = rs->epochs * per_epoch;
        rs->steps = n < 1 ? 1 : n > cap ? cap : n;
        compress_note(b->c, "distill %s: %lld steps (%.0f s left of the budget's "
                      "%.0f, %.3f s a step)", distill_run_stage_name(i),
                      (long long)rs->steps, b->deadline - compress_now_s(),
                      b->distill_s, b->est[i]);
    } else if (o->augment > 0 && i > 0 && !o->recipe) {
        /* no budget: the default epochs over the augmented set would
         * take copies+1 times as long; keep the steps of the
         * unaugmented default, so augmentation changes which examples
         * the steps see, not the run time */
        rs->steps = rs->epochs * (((int64_t)b->n_task + rs->batch - 1) / rs->batch);
    }
    return IR_OK;
}

static void budget_progress(void *user, int i, const train_status *s)
{
    dbudget *b = user;
    char label[64];
    snprintf(label, sizeof label, "distill %s", distill_run_stage_name(i));
    if (s->event == TRAIN_EVENT_STEP)
        compress_work(b->c, label, (size_t)s->step, (size_t)s->total_steps);
}

/* stage_end: the stage into the results; the machine's pace as this stage
 * found it scales the estimates of the stages still to run. */
static void budget_stage_end(void *user, int i, const distill_stage_result *sr,
                             ir_status s)
{
    dbudget *b = user;
    if (s != IR_OK)
        return;
    const train_result *tr = &sr->train;
    compress_dstage *ds = &b->c->st->r.dstage[i];
    ds->ran = true;
    ds->steps = tr->steps;
    ds->examples = (int64_t)sr->examples;
    /* batches per epoch, the last one partial: as the loop counts */
    size_t batch = (size_t)sr->cfg.batch;
    size_t per_epoch = (sr->examples + batch - 1) / batch;
    ds->epochs = per_epoch ? (double)tr->steps / (double)per_epoch : 0;
    ds->final_loss = tr->last_loss;
    ds->seconds = tr->seconds;
    ds->tokens_per_s = tr->tokens_per_s;
    /* the teacher's forward as the loss timed it, and the rest, over every
     * run of the stage (checkpoints keep both totals) */
    ds->teacher_s = sr->times.teacher;
    ds->student_s = tr->seconds - sr->times.teacher;
    if (tr->steps > tr->start_step && tr->run_seconds > 0 && b->est[i] > 0) {
        double pace = tr->run_seconds / (double)(tr->steps - tr->start_step) /
                      b->est[i];
        for (int j = i + 1; j < DISTILL_RUN_STAGES; j++)
            b->est[j] *= pace;
    }
}

/* The train split (augmented when asked) and the corpus, tokenized at
 * the stages' lengths. */
static ir_status load_data(compress_ctx *c, compress_dsetup *ds, bool augment,
                           bool corpus, bool record, ir_diag *d)
{
    const compress_options *o = c->o;
    compress_results *r = &c->st->r;
    const recipe *rec = &ds->rec;
    glue_load_opts gl = {.skip_bad_lines = false, .limit = (size_t)o->limit};
    ir_status s = glue_load(compress_task(o), o->data, GLUE_SPLIT_TRAIN,
                            &gl, &ds->tr_ds, d);
    if (s == IR_OK)
        s = train_data_from_glue(&ds->tr_ds, ds->tok,
                                 (size_t)rec->intermediate.max_seq, &ds->tr, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "--data");
    compress_fit_inputs(c, ds->tok, &ds->tr);
    ds->n_task = ds->tr.n;
    if (augment && o->augment > 0) {
        aug_options ao;
        aug_options_default(&ao);
        ao.copies = o->augment;
        ao.prob = o->augment_prob;
        ao.neighbours = o->augment_neighbours;
        ao.seed = rec->intermediate.seed;
        train_data big;
        aug_stats as;
        compress_work(c, "distill: augmenting the train split", 0, 1);
        if ((s = aug_train_data(&ds->tr, ds->tok, ds->tenc, &ao, &big, &as, d)) !=
            IR_OK)
            return ir_diag_prefix(d, "--augment");
        compress_work(c, "distill: augmenting the train split", 1, 1);
        train_data_free(&ds->tr);
        ds->tr = big;
        if (record) {
            r->aug_replaced = (int64_t)as.replaced;
            r->aug_eligible = (int64_t)as.eligible;
        }
        compress_note(c, "distill: --augment %lld: %zu -> %zu train examples, "
                      "%zu of %zu words replaced (neighbours of %zu words in "
                      "%.1f s)", (long long)o->augment, as.examples_in,
                      as.examples_out, as.replaced, as.eligible, as.rows,
                      as.table_s);
    }
    if (record)
        r->aug_examples = (int64_t)ds->tr.n;
    if (corpus && o->corpus &&
        (s = train_data_from_corpus(o->corpus, ds->tok, (size_t)rec->general.max_seq,
                                    (size_t)o->limit, &ds->corpus, d)) != IR_OK)
        return ir_diag_prefix(d, "--corpus");
    if (corpus && o->corpus)
        compress_fit_inputs(c, ds->tok, &ds->corpus);
    return IR_OK;
}

void compress_dsetup_close(compress_dsetup *ds)
{
    train_data_free(&ds->tr);
    train_data_free(&ds->corpus);
    glue_dataset_free(&ds->tr_ds);
    gemm_ctx_free(ds->gemm);
    ir_encoder_free(ds->tenc);
    tok_free(ds->tok);
    memset(ds, 0, sizeof *ds);
}

ir_status compress_dsetup_open(compress_ctx *c, bool augment, bool corpus,
                               bool record, compress_dsetup *ds, ir_diag *d)
{
    const compress_options *o = c->o;
    compress_results *r = &c->st->r;
    const glue_task *task = compress_task(o);
    memset(ds, 0, sizeof *ds);
    recipe *rec = &ds->rec;
    if (o->recipe)
        *rec = *o->recipe;
    else
        recipe_default(rec);
    distill_plan *p = &ds->p;
    compress_train_threads(c);
    ir_status s = compress_tokenizer(c, &ds->tok, d);
    if (s != IR_OK)
        return s;
    distill_plan_default(p, rec);
    /* the student's ONNX takes the teacher's inputs (p->token_types) */
    if ((s = teacher_load_onnx_inputs(o->teacher, &ds->tenc, &p->token_types, d)) !=
        IR_OK)
        return s; /* the message names the teacher */
    ds->tenc->cfg.head = task->is_regression ? IR_ENC_HEAD_REGRESSION
                                             : IR_ENC_HEAD_CLASSIFICATION;
    student_spec spec = {.layers = r->s_layers, .hidden = r->s_hidden,
                         .heads = r->s_heads, .ffn = r->s_ffn, .embed = r->s_embed};
    ir_enc_share share;
    int64_t share_k;
    if ((s = student_share_parse(r->s_share, &share, &share_k, d)) != IR_OK ||
        (s = student_config_make(&ds->tenc->cfg, &spec, share, share_k,
                                 &p->student, d)) != IR_OK)
        return ir_diag_prefix(d, "the searched student (%lld layers, hidden %lld, %s)",
                              (long long)spec.layers, (long long)spec.hidden,
                              r->s_share);
    distill_loss_opts_default(&p->loss, p->student.layers, ds->tenc->cfg.layers);
    student_layer_map_uniform(p->student.layers, ds->tenc->cfg.layers,
                              p->loss.layer_map);
    p->loss.temperature = rec->prediction.temperature;
    if ((s = gemm_ctx_create(gemm_impl_for_cpu(), &ds->gemm, d)) != IR_OK)
        return s;
    /* the task's length (pairs need more than the default recipe's 64)
     * unless a recipe says, cut to the positions the models have */
    if (!o->recipe)
        rec->intermediate.max_seq = rec->prediction.max_seq = compress_task_max_seq(c);
    recipe_stage *rs[DISTILL_RUN_STAGES] = {&rec->general, &rec->intermediate,
                                            &rec->prediction};
    for (int i = 0; i < DISTILL_RUN_STAGES; i++)
        if (rs[i]->max_seq > ir_encoder_max_seq(&p->student))
            rs[i]->max_seq = ir_encoder_max_seq(&p->student);
    /* the prediction stage reads the intermediate stage's rows: they must
     * be long enough for both */
    if (rec->prediction.max_seq > rec->intermediate.max_seq)
        rec->intermediate.max_seq = rec->prediction.max_seq;
    if ((s = load_data(c, ds, augment, corpus, record, d)) != IR_OK)
        return s;
    compress_budget bud;
    compress_budget_split(o, compress_used_before_distill(c), &bud);
    ds->distill_s = bud.distill_s;
    for (int i = 0; i < DISTILL_RUN_STAGES; i++)
        p->stage[i] = *rs[i];
    /* a budgeted or step-counted run without a recipe is short (tens to
     * hundreds of steps, not TinyBERT's epochs): larger steps than the
     * default recipe's 5e-5 / 3e-5 keep far more of the teacher's accuracy
     * there (SST-2, MiniLM-L6 teacher, 2 minutes: 85% of its accuracy at
     * the recipe's rates, 93-97% at 1e-4 - 3e-4); the probes keep the
     * recipe's. A recipe's rates are its own. */
    if (!o->recipe && (ds->distill_s > 0 || o->distill_steps > 0))
        for (int i = 0; i < DISTILL_RUN_STAGES; i++)
            p->stage[i].lr = 2e-4f;
    for (int i = 0; i < DISTILL_RUN_STAGES; i++)
        p->stage[i].ckpt_every = o->ckpt_every;
    p->teacher = ds->tenc;
    p->gemm = ds->gemm;
    p->corpus = corpus && o->corpus ? &ds->corpus : NULL;
    p->train = &ds->tr;
    return IR_OK;
}

ir_status compress_stage_distill(compress_ctx *c, ir_diag *d)
{
    const compress_options *o = c->o;
    compress_results *r = &c->st->r;
    compress_dsetup ds;
    char *labels = NULL; /* the student's label names (metadata) */
    distill_result res;
    memset(&res, 0, sizeof res);
    memset(r->dstage, 0, sizeof r->dstage);
    r->step_s = NAN;
    r->aug_copies = o->augment;
    r->aug_prob = o->augment_prob;
    r->aug_neighbours = o->augment_neighbours;
    r->aug_examples = r->aug_replaced = r->aug_eligible = 0;

    ir_status s = compress_dsetup_open(c, true, true, true, &ds, d);
    if (s != IR_OK)
        goto done;
    distill_plan *p = &ds.p;
    dbudget b = {.c = c, .rec = &ds.rec, .general = p->corpus != NULL,
                 .data = {&ds.corpus, &ds.tr, &ds.tr}, .est = {NAN, NAN, NAN},
                 .n_task = ds.n_task, .distill_s = ds.distill_s};
    r->distill_budget_s = b.distill_s;
    r->fixed_steps = o->distill_steps > 0;
    r->recipe_steps = o->recipe != NULL;
    char out[4096], ckpt[4096]; /* compress_path's buffer is shared */
    snprintf(out, sizeof out, "%s", compress_path(c, "student.onnx"));
    p->output = out;
    if ((s = task_labels_to_json(compress_task(o), &labels, d)) != IR_OK)
        goto done;
    p->labels_meta = labels;
    if ((s = compress_ckpt_dir(c, COMPRESS_DISTILL, ckpt, sizeof ckpt, d)) != IR_OK)
        goto done;
    p->ckpt_dir = ckpt;
    p->resume = c->resume;
    p->resume_fresh_ok = true;
    p->dist = o->dist;
    p->user = &b;
    p->stage_begin = budget_stage_begin;
    p->progress = budget_progress;
    p->stage_end = budget_stage_end;
    s = distill_run(p, &res, d);
    if (res.teacher_ready)
        snprintf(r->teacher_engine, sizeof r->teacher_engine, "%s",
                 teacher_engine_name(res.engine));
done:
    free(labels);
    distill_result_free(&res);
    compress_dsetup_close(&ds);
    return s;
}

/* run.c — distill_run (run.h): set up student, teacher and loss, run the
 * three stages through the training loop, hand back the student. The
 * callers' differences live in the plan's hooks, not in copies of this. */
#include "distill/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "distill/params.h"
#include "distill/student.h"
#include "frontend/onnx.h"

struct distill_job {
    const distill_plan *p;
    train_params *sp;          /* the student being trained */
    teacher *teach;
    distill_loss *loss;
};

const char *distill_run_stage_name(int stage)
{
    static const char *const names[DISTILL_RUN_STAGES] = {
        "general", "intermediate", "prediction"};
    return stage >= 0 && stage < DISTILL_RUN_STAGES ? names[stage] : "?";
}

void distill_plan_default(distill_plan *p, const recipe *rec)
{
    recipe def;
    if (!rec) {
        recipe_default(&def);
        rec = &def;
    }
    memset(p, 0, sizeof *p);
    p->engine = TEACHER_ENGINE_AUTO;
    p->teacher_prec = IR_PRECISION_FP32;
    p->token_types = true;
    p->init_seed = rec->intermediate.seed;
    p->stage[DISTILL_RUN_GENERAL] = rec->general;
    p->stage[DISTILL_RUN_INTERMEDIATE] = rec->intermediate;
    p->stage[DISTILL_RUN_PREDICTION] = rec->prediction;
}

void distill_result_free(distill_result *r)
{
    for (int i = 0; i < DISTILL_RUN_STAGES; i++)
        train_result_free(&r->stage[i].train);
    ir_encoder_free(r->student);
    r->student = NULL;
}

static const train_data *stage_data(const distill_plan *p, int stage)
{
    return stage == DISTILL_RUN_GENERAL ? p->corpus : p->train;
}

static distill_stage stage_loss(int stage)
{
    return stage == DISTILL_RUN_PREDICTION ? DISTILL_STAGE_PREDICTION
                                           : DISTILL_STAGE_INTERMEDIATE;
}

/* The loop's settings from a stage's: batches cut to cfg's length only
 * when the data is longer. */
static void loop_options(const recipe_stage *cfg, const train_data *td,
                         train_loop_options *o)
{
    train_loop_options_default(o);
    o->batch = (size_t)cfg->batch;
    o->max_seq = (size_t)cfg->max_seq < td->T ? (size_t)cfg->max_seq : 0;
    o->epochs = cfg->epochs;
    o->steps = cfg->steps;
    o->lr = cfg->lr;
    o->warmup = cfg->warmup;
    o->weight_decay = cfg->weight_decay;
    o->seed = cfg->seed;
    o->eval_every = cfg->eval_every;
    o->ckpt_every = cfg->ckpt_every;
    o->bucket_pool = (size_t)cfg->bucket;
}

/* ---- setting up ------------------------------------------------------------ */

/* The student's parameters, initialised; keep [hidden] gets the teacher
 * dims kept when initialised from the teacher. */
static ir_status student_setup(distill_job *j, int64_t *keep, ir_diag *d)
{
    const distill_plan *p = j->p;
    ir_status s = train_params_new(&p->student, &j->sp, d);
    if (s != IR_OK)
        return s;
    j->sp->gemm = p->gemm;
    if (p->init_random) {
        student_init_random(j->sp, p->init_seed);
        return IR_OK;
    }
    train_params *tp = NULL;
    s = train_params_from_encoder(p->teacher, &tp, d);
    if (s == IR_OK)
        s = student_init_from_teacher(j->sp, tp, p->loss.layer_map, keep, d);
    train_params_free(tp);
    return s;
}

static ir_status job_setup(distill_job *j, distill_result *r, ir_diag *d)
{
    const distill_plan *p = j->p;
    int64_t *keep = malloc((size_t)p->student.hidden * sizeof *keep);
    if (!keep)
        return ir_diag_set(d, IR_ERR_NOMEM, "distillation: out of memory");
    ir_status s = student_setup(j, keep, d);
    if (p->labels_only) { /* no teacher forward, no distillation loss */
        free(keep);
        return s;
    }
    /* The teacher keeps the embedding output and the mapped layers only. */
    bool want_h[IR_ENCODER_MAX_LAYERS + 1] = {false};
    bool want_s[IR_ENCODER_MAX_LAYERS] = {false};
    want_h[0] = true;
    for (int64_t m = 0; m < p->student.layers; m++) {
        want_h[p->loss.layer_map[m]] = true;
        want_s[p->loss.layer_map[m] - 1] = true;
    }
    if (s == IR_OK)
        s = teacher_new_prec(p->teacher, p->engine, p->teacher_prec, want_h,
                             want_s, &j->teach, d);
    if (s == IR_OK) {
        r->teacher_ready = true;
        r->engine = teacher_engine_used(j->teach);
        s = distill_loss_new(&p->student, j->teach, &p->loss, &j->loss, d);
    }
    if (s == IR_OK)
        distill_loss_init_proj(j->loss, p->init_random ? NULL : keep,
                               p->init_seed);
    free(keep);
    return s;
}

/* ---- the stages ------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* What a stage's loss computes with besides the data and the student:
 * recorded in its checkpoints, so a resume with another temperature,
 * layer map or teacher shape is refused rather than continued. */
static uint64_t loss_hash(const distill_plan *p, int stage)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, "distill-loss/1", 14);
    if (p->labels_only)
        h = fnv(h, "labels-only", 11);
    distill_stage ls = stage_loss(stage);
    h = fnv(h, &ls, sizeof ls);
    const distill_loss_opts *lo = &p->loss;
    if (ls == DISTILL_STAGE_PREDICTION) {
        float w[2] = {lo->temperature, lo->w_pred};
        h = fnv(h, w, sizeof w);
    } else {
        float w[3] = {lo->w_emb, lo->w_hidden, lo->w_attn};
        h = fnv(h, w, sizeof w);
        h = fnv(h, lo->layer_map, (size_t)p->student.layers * sizeof lo->layer_map[0]);
    }
    const ir_encoder_config *t = &p->teacher->cfg;
    int64_t shape[] = {t->layers, t->hidden, t->heads, t->ffn, t->vocab, t->labels};
    return fnv(h, shape, sizeof shape);
}

typedef struct stage_hook {
    const distill_plan *p;
    int stage;
} stage_hook;

static void progress_hook(void *user, const train_status *s)
{
    stage_hook *h = user;
    h->p->progress(h->p->user, h->stage, s);
}

/* DIR/<stage>/last.ckpt in buf; false when it does not fit. */
static bool ckpt_path(const distill_plan *p, int stage, char *buf, size_t n)
{
    int k = snprintf(buf, n, "%s/%s/last.ckpt", p->ckpt_dir,
                     distill_run_stage_name(stage));
    return k > 0 && (size_t)k < n;
}

/* Whether the stage has a checkpoint, as rank 0 sees it (the only rank
 * that keeps them) on every rank. */
static bool ckpt_exists(const distill_plan *p, int stage)
{
    char path[4200];
    struct stat sb;
    int32_t yes = p->ckpt_dir && ckpt_path(p, stage, path, sizeof path) &&
                  stat(path, &sb) == 0;
    ir_diag d;
    ir_diag_init(&d);
    if (ir_dist_bcast(p->dist, &yes, sizeof yes, 0, &d) != IR_OK)
        return false; /* the broadcast failed: the loop's own will say so */
    return yes != 0;
}

ir_status distill_job_checkpoint(const distill_job *job, int stage, bool *found,
                                 train_ckpt_state *st, ir_diag *d)
{
    const distill_plan *p = job->p;
    *found = false;
    if (!p->resume || !ckpt_exists(p, stage))
        return IR_OK;
    char path[4200];
    ckpt_path(p, stage, path, sizeof path);
    ir_status s = IR_OK;
    if (ir_dist_rank(p->dist) == 0)
        s = train_ckpt_peek(path, st, d);
    ir_status bs = ir_dist_bcast_status(p->dist, &s, 0, d);
    if (bs == IR_OK && s == IR_OK)
        s = ir_dist_bcast(p->dist, st, sizeof *st, 0, d);
    *found = s == IR_OK;
    return s;
}

/* train_loop_options.teacher_seconds: the distillation loss's clock */
static double loss_teacher_seconds(void *user)
{
    return distill_loss_get_times(user).teacher;
}

static ir_status stage_run(distill_job *j, int i, distill_stage_result *sr,
                           ir_diag *d)
{
    const distill_plan *p = j->p;
    const train_data *td = stage_data(p, i);
    const char *name = distill_run_stage_name(i);
    sr->cfg = p->stage[i];
    if (p->stage_begin) {
        ir_status s = p->stage_begin(p->user, j, i, &sr->cfg, d);
        /* a hook that plans from the clock (compress's budget) may plan
         * other steps on each rank: rank 0's plan is every rank's */
        if (s == IR_OK)
            s = ir_dist_bcast(p->dist, &sr->cfg, sizeof sr->cfg, 0, d);
        if (s != IR_OK)
            return s;
    }
    train_loop_options o;
    loop_options(&sr->cfg, td, &o);
    o.what = name;
    o.dist = p->dist;
    char ckbuf[4096], plotbuf[4096];
    if (p->ckpt_dir) {
        snprintf(ckbuf, sizeof ckbuf, "%s/%s", p->ckpt_dir, name);
        o.ckpt_dir = ckbuf;
        /* a stage the kill came before starts afresh */
        o.resume = p->resume && ckpt_exists(p, i);
        /* recorded, so a resume with other numbers is refused */
        o.gemm_precision = ir_precision_name(gemm_ctx_precision(p->gemm));
        o.teacher_precision = ir_precision_name(p->teacher_prec);
        o.loss_hash = loss_hash(p, i);
    }
    if (p->plot) {
        const char *dot = strrchr(p->plot, '.');
        if (dot && strcmp(dot, ".svg") == 0)
            snprintf(plotbuf, sizeof plotbuf, "%.*s-%s.svg",
                     (int)(dot - p->plot), p->plot, name);
        else
            snprintf(plotbuf, sizeof plotbuf, "%s-%s.svg", p->plot, name);
        o.plot_path = plotbuf;
    }
    if (j->loss)
        distill_loss_set_stage(j->loss, stage_loss(i));
    /* the projections learn with the intermediate losses only */
    if (j->loss && stage_loss(i) == DISTILL_STAGE_INTERMEDIATE &&
        distill_loss_extra(j->loss)->n)
        o.extra = distill_loss_extra(j->loss);
    if (i == DISTILL_RUN_PREDICTION && p->eval) {
        o.eval = p->eval;
        o.eval_user = p->eval_user;
        o.keep_best = true;
    }
    if (j->loss)
        o.teacher_seconds = loss_teacher_seconds;
    stage_hook h = {p, i};
    if (p->progress) {
        o.progress = progress_hook;
        o.progress_user = &h;
    }
    distill_loss_times t0 = {0}, t1 = {0};
    if (j->loss)
        t0 = distill_loss_get_times(j->loss);
    gemm_stats g0 = gemm_ctx_stats(p->gemm);
    ir_status s = j->loss ? train_loop_run(j->sp, td, &o, distill_loss_fn,
                                           j->loss, &sr->train, d)
                          : train_loop_run(j->sp, td, &o, train_loss_finetune,
                                           NULL, &sr->train, d);
    sr->ran = true;
    sr->examples = td->n;
    if (j->loss)
        t1 = distill_loss_get_times(j->loss);
    /* the teacher's seconds count the runs before a resume too (the
     * checkpoint kept them), as the stage's seconds do; the rest are this
     * run's */
    sr->times = (distill_loss_times){t1.student_forward - t0.student_forward,
                                     t1.teacher - t0.teacher +
                                         sr->train.teacher_seconds_before,
                                     t1.terms - t0.terms, t1.calls - t0.calls};
    gemm_stats g1 = gemm_ctx_stats(p->gemm);
    sr->gemm = (gemm_stats){g1.seconds - g0.seconds, g1.flops - g0.flops,
                            g1.calls - g0.calls};
    if (p->stage_end)
        p->stage_end(p->user, i, sr, s);
    if (s != IR_OK)
        ir_diag_prefix(d, "%s distillation", name);
    return s;
}

/* The trained student as an encoder, and as ONNX when the plan asks. */
static ir_status student_out(const distill_job *j, distill_result *r,
                             ir_diag *d)
{
    const distill_plan *p = j->p;
    ir_status s = ir_encoder_new(&p->student, &r->student, d);
    if (s == IR_OK)
        s = train_params_to_encoder(j->sp, r->student, d);
    if (s == IR_OK && !ir_encoder_set_labels(r->student, p->labels_meta))
        s = ir_diag_set(d, IR_ERR_NOMEM, "student: out of memory");
    if (s != IR_OK || !p->output || ir_dist_rank(p->dist) != 0)
        return s;
    ir_graph *g = NULL;
    ir_encoder_graph_opts go;
    ir_encoder_graph_opts_default(&go);
    go.token_types = p->token_types;
    s = ir_encoder_to_graph(r->student, &go, &g, d);
    if (s == IR_OK)
        s = onnx_save_file(g, p->output, NULL, d);
    ir_graph_free(g);
    return s;
}

/* A resume with no checkpoint of any stage that runs is likely a wrong
 * folder: refused, unless the caller resumes whatever is there. */
static ir_status resume_check(const distill_plan *p, ir_diag *d)
{
    if (!p->resume || p->resume_fresh_ok)
        return IR_OK;
    if (!p->ckpt_dir)
        return ir_diag_set(d, IR_ERR_INPUT, "resume needs a checkpoint folder");
    for (int i = 0; i < DISTILL_RUN_STAGES; i++)
        if (stage_data(p, i) && !p->stage[i].skip && ckpt_exists(p, i))
            return IR_OK;
    return ir_diag_set(d, IR_ERR_INPUT, "resume: no checkpoint in %s (a stage's is "
                       "%s/<stage>/last.ckpt; run once without --resume to create "
                       "them)", p->ckpt_dir, p->ckpt_dir);
}

ir_status distill_run(const distill_plan *p, distill_result *r, ir_diag *d)
{
    memset(r, 0, sizeof *r);
    distill_job j = {.p = p};
    ir_status s = resume_check(p, d);
    if (s != IR_OK)
        return s;
    if (p->labels_only && ((p->corpus && !p->stage[DISTILL_RUN_GENERAL].skip) ||
                           !p->stage[DISTILL_RUN_INTERMEDIATE].skip))
        return ir_diag_set(d, IR_ERR_INPUT, "fine-tuning on labels only runs the "
                           "prediction stage: skip general and intermediate");
    s = job_setup(&j, r, d);
    for (int i = 0; i < DISTILL_RUN_STAGES && s == IR_OK; i++) {
        const train_data *td = stage_data(p, i);
        if (td && !p->stage[i].skip)
            s = stage_run(&j, i, &r->stage[i], d);
    }
    if (s == IR_OK)
        s = student_out(&j, r, d);
    distill_loss_free(j.loss);
    teacher_free(j.teach);
    train_params_free(j.sp);
    return s;
}

/* ---- timing a step ---------------------------------------------------------- */

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

ir_status distill_job_time_step(distill_job *job, int stage,
                                const recipe_stage *cfg, double *step_s,
                                ir_diag *d)
{
    const train_params *sp = job->sp;
    const train_data *td = stage_data(job->p, stage);
    if (!job->loss)
        return ir_diag_set(d, IR_ERR_INPUT, "timing a distillation step: the "
                           "run fine-tunes on labels only");
    train_params *cp = NULL;
    ir_status s = train_params_new(&sp->cfg, &cp, d);
    if (s != IR_OK)
        return s;
    memcpy(cp->params, sp->params, sp->n * sizeof *sp->params);
    cp->gemm = sp->gemm;
    train_loop_options o;
    loop_options(cfg, td, &o);
    o.steps = 3;
    o.what = "probe";
    o.dist = job->p->dist;
    probe pr = {0, 0};
    o.progress = probe_cb;
    o.progress_user = &pr;
    /* the extra block is not stepped: the projections stay as they are */
    distill_loss_set_stage(job->loss, stage_loss(stage));
    train_result r;
    memset(&r, 0, sizeof r);
    s = train_loop_run(cp, td, &o, distill_loss_fn, job->loss, &r, d);
    if (s == IR_OK)
        *step_s = pr.t3 > pr.t1 ? (pr.t3 - pr.t1) / 2 : r.seconds / 3;
    /* rank 0's timing (the only one its progress reached) plans every
     * rank's steps */
    if (s == IR_OK)
        s = ir_dist_bcast(job->p->dist, step_s, sizeof *step_s, 0, d);
    train_result_free(&r);
    train_params_free(cp);
    if (s != IR_OK)
        return ir_diag_prefix(d, "timing a distillation step");
    return IR_OK;
}

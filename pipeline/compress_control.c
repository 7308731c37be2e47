/* compress_control.c — the control-finetune and control-kd stages of
 * `distilc compress` (issue 17): what the full method (distill's
 * intermediate and prediction distillation) is measured against, so the
 * GLUE table shows what each part buys.
 *   control-finetune  the searched shape, initialised from the teacher as
 *                     distill initialises it, fine-tuned on the train
 *                     split's labels alone (cross-entropy; MSE for STS-B),
 *                     never running the teacher; the unaugmented split,
 *                     since augmented copies have no labels of their own
 *   control-kd        the same start, trained by the prediction loss alone
 *                     (soft targets at the recipe's temperature:
 *                     DistilBERT-style logit distillation) on distill's own
 *                     data, augmented when distill's was
 * Both take as many steps as distill's task stages took together
 * (intermediate + prediction, so the controls train as long as the full
 * method does on the task), with the prediction stage's settings: batch,
 * length, learning rate, warmup, seed and length buckets. Each writes
 * OUT/controls/{finetune,kd}.onnx, checkpoints into OUT/ckpt/<stage>/ and
 * resumes from them after a kill (distill/run.h, as distill does); their
 * dev metrics and times go into the state and the report. Without
 * o->controls they record that they were not asked for and write nothing. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "distill/run.h"
#include "pipeline/compress_internal.h"

enum { CONTROL_FT, CONTROL_KD };

typedef struct control_work {
    compress_ctx *c;
    const char *label;
} control_work;

static void control_progress(void *user, int stage, const train_status *s)
{
    (void)stage;
    control_work *w = user;
    if (s->event == TRAIN_EVENT_STEP)
        compress_work(w->c, w->label, (size_t)s->step, (size_t)s->total_steps);
}

static ir_status control_run(compress_ctx *c, int k, ir_diag *d)
{
    static const char *const names[2] = {"finetune", "kd"};
    static const compress_stage stages[2] = {COMPRESS_CONTROL_FT,
                                             COMPRESS_CONTROL_KD};
    compress_results *r = &c->st->r;
    compress_control *ct = &r->ctl[k];
    memset(ct, 0, sizeof *ct);
    ct->final_loss = ct->seconds = ct->teacher_s = ct->student_s = NAN;
    if (!c->o->controls)
        return IR_OK;
    /* as long as the full method trained on the task */
    int64_t steps = 0;
    for (int i = DISTILL_RUN_INTERMEDIATE; i < DISTILL_RUN_STAGES; i++)
        if (r->dstage[i].ran)
            steps += r->dstage[i].steps;
    if (steps <= 0)
        return ir_diag_set(d, IR_ERR_FAILED, "distill recorded no task steps to "
                           "match (rerun with --from distill)");
    char dir[4096], out[4096], ckpt[4096], label[64];
    snprintf(dir, sizeof dir, "%s", compress_path(c, "controls"));
    if (mkdir(dir, 0777) != 0) {
        struct stat sb;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return ir_diag_set(d, IR_ERR_IO, "%s: cannot create the folder", dir);
    }
    snprintf(out, sizeof out, "%s/%s.onnx", dir, names[k]);
    snprintf(label, sizeof label, "control %s", names[k]);
    compress_dsetup ds;
    distill_result res;
    memset(&res, 0, sizeof res);
    ir_status s = compress_dsetup_open(c, k == CONTROL_KD, false, false, &ds, d);
    if (s != IR_OK)
        goto done;
    if ((s = compress_ckpt_dir(c, stages[k], ckpt, sizeof ckpt, d)) != IR_OK)
        goto done;
    distill_plan *p = &ds.p;
    p->corpus = NULL;
    p->stage[DISTILL_RUN_GENERAL].skip = true;
    p->stage[DISTILL_RUN_INTERMEDIATE].skip = true;
    p->stage[DISTILL_RUN_PREDICTION].skip = false;
    p->stage[DISTILL_RUN_PREDICTION].steps = steps;
    p->labels_only = k == CONTROL_FT;
    p->output = out;
    p->ckpt_dir = ckpt;
    p->resume = c->resume;
    p->resume_fresh_ok = true;
    control_work w = {c, label};
    p->user = &w;
    p->progress = control_progress;
    compress_note(c, "%s: %lld steps (distill's intermediate + prediction), %s",
                  label, (long long)steps,
                  k == CONTROL_FT ? "labels only, no teacher"
                                  : "prediction loss only");
    if ((s = distill_run(p, &res, d)) != IR_OK)
        goto done;
    const distill_stage_result *sr = &res.stage[DISTILL_RUN_PREDICTION];
    ct->ran = true;
    ct->steps = sr->train.steps;
    ct->examples = (int64_t)sr->examples;
    ct->final_loss = sr->train.last_loss;
    ct->seconds = sr->train.seconds;
    ct->teacher_s = sr->times.teacher;
    ct->student_s = sr->train.seconds - sr->times.teacher; /* every run's */
    s = compress_measure_metrics(c, res.student, p->token_types, label,
                                 &ct->metrics, d);
done:
    distill_result_free(&res);
    compress_dsetup_close(&ds);
    if (s != IR_OK)
        ir_diag_prefix(d, "%s", label);
    return s;
}

ir_status compress_stage_control_ft(compress_ctx *c, ir_diag *d)
{
    return control_run(c, CONTROL_FT, d);
}

ir_status compress_stage_control_kd(compress_ctx *c, ir_diag *d)
{
    return control_run(c, CONTROL_KD, d);
}

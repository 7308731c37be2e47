/* report.c — stage 6 of `distilc compress` and its outputs: report.json,
 * report.svg and the summary table, all from the state (see report.h for
 * the JSON layout). Ratios are teacher / student for latency, parameters
 * and size (larger is better) and student / teacher for the main metric
 * (accuracy retained); any of them is null when a side is unknown. */
#include "pipeline/report.h"
#include "frontend/json.h"
#include "ir/file_atomic.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/compress_internal.h"

static double ratio(double a, double b)
{
    return isfinite(a) && isfinite(b) && b != 0 ? a / b : NAN;
}

static double main_metric(const compress_model *m)
{
    return m->metrics.n > 0 ? m->metrics.value[m->metrics.main] : NAN;
}

static const char *main_name(const compress_state *st)
{
    const compress_metrics *m = &st->r.teacher.metrics;
    if (m->n == 0)
        m = &st->r.student.metrics;
    return m->n > 0 ? m->name[m->main] : "metric";
}

static double distill_seconds(const compress_results *r)
{
    double s = 0;
    for (int i = 0; i < COMPRESS_DSTAGES; i++)
        if (r->dstage[i].ran)
            s += r->dstage[i].seconds;
    return s;
}

void compress_report_budget_text(const compress_state *st, char *buf, size_t n)
{
    const compress_results *r = &st->r;
    int64_t steps[COMPRESS_DSTAGES] = {0};
    double ep[COMPRESS_DSTAGES] = {0};
    for (int i = 0; i < COMPRESS_DSTAGES; i++)
        if (r->dstage[i].ran) {
            steps[i] = r->dstage[i].steps;
            ep[i] = r->dstage[i].epochs;
        }
    char tr[256];
    snprintf(tr, sizeof tr, "%lld general + %lld intermediate (%.2f epochs) + %lld "
             "prediction steps (%.2f epochs)", (long long)steps[0],
             (long long)steps[1], ep[1], (long long)steps[2], ep[2]);
    if (r->aug_copies > 0) {
        size_t k = strlen(tr);
        snprintf(tr + k, sizeof tr - k, " over %lld examples (--augment %lld)",
                 (long long)r->aug_examples, (long long)r->aug_copies);
    }
    char sn[128] = "no supernet (proxy fitness)";
    if (r->sn_trained)
        snprintf(sn, sizeof sn, "supernet %lld steps (%lld sub-networks) in %.0f s",
                 (long long)r->sn_steps, (long long)r->sn_subnets, r->sn_seconds);
    if (!(r->budget_s > 0))
        snprintf(buf, n, "no budget: %s; the search ran %lld cycles (%lld "
                 "candidates), distillation %s: %s", sn, (long long)r->cycles,
                 (long long)r->evaluated,
                 r->fixed_steps ? "--steps per stage"
                 : r->recipe_steps ? "the recipe's stages"
                 : r->aug_copies > 0 ? "the unaugmented default's steps"
                                     : "the default epochs", tr);
    else
        snprintf(buf, n, "%.1f min: %s of %.0f s allowed; search %.0f s allowed, "
                 "%.0f s used (%lld candidates, %lld latencies timed, %lld "
                 "interpolated); distillation %.0f s allowed at %.3f s a step: %s",
                 r->budget_s / 60, sn, r->sn_budget_s, r->search_budget_s,
                 st->seconds[COMPRESS_SEARCH], (long long)r->evaluated,
                 (long long)r->measured, (long long)r->interpolated,
                 r->distill_budget_s, r->step_s, tr);
}

static void metrics_json(FILE *f, const compress_metrics *m)
{
    fputc('{', f);
    for (int i = 0; i < m->n; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_write_string(f, m->name[i]);
        fputs(": ", f);
        json_write_number(f, m->value[i], 10);
    }
    fputc('}', f);
}

static double metrics_main(const compress_metrics *m)
{
    return m->n > 0 ? m->value[m->main] : NAN;
}

/* The teacher's and the student's share of a stage's seconds: what ran the
 * teacher (its forward inside the losses; lift measures the teacher alone)
 * and what ran or made the student (the rest). NaN unknown. */
static void stage_split(const compress_state *st, int i, double *teacher,
                        double *student)
{
    const compress_results *r = &st->r;
    double secs = st->seconds[i];
    *teacher = *student = NAN;
    switch (i) {
    case COMPRESS_LIFT:
        *teacher = secs, *student = 0;
        break;
    case COMPRESS_SUPERNET:
        if (r->sn_trained && isfinite(r->sn_teacher_s))
            *teacher = r->sn_teacher_s, *student = r->sn_seconds - r->sn_teacher_s;
        else if (!r->sn_trained)
            *teacher = *student = 0;
        break;
    case COMPRESS_DISTILL: {
        double t = 0, s = 0;
        for (int k = 0; k < COMPRESS_DSTAGES; k++)
            if (r->dstage[k].ran) {
                t += r->dstage[k].teacher_s;
                s += r->dstage[k].student_s;
            }
        *teacher = t, *student = s;
        break;
    }
    case COMPRESS_CONTROL_FT:
    case COMPRESS_CONTROL_KD: {
        const compress_control *c = &r->ctl[i - COMPRESS_CONTROL_FT];
        if (c->ran)
            *teacher = c->teacher_s, *student = c->student_s;
        else
            *teacher = *student = 0;
        break;
    }
    case COMPRESS_REPORT:
        *teacher = *student = 0;
        break;
    default: /* search, build, eval: the student's candidates and itself */
        *teacher = 0, *student = secs;
        break;
    }
}

/* "controls": the three rows of the GLUE table (issue 17), the full
 * method's beside the two controls', with the steps they shared. */
static void controls_json(FILE *f, const compress_results *r)
{
    static const char *const names[COMPRESS_CONTROLS] = {"finetune", "kd"};
    static const char *const what[COMPRESS_CONTROLS] = {
        "the student's shape fine-tuned on the labels, no distillation",
        "prediction-loss distillation only (DistilBERT-style)"};
    bool asked = r->ctl[0].ran || r->ctl[1].ran;
    double full_s = 0, full_t = 0;
    int64_t full_steps = 0;
    for (int i = 1; i < COMPRESS_DSTAGES; i++)
        if (r->dstage[i].ran) {
            full_s += r->dstage[i].seconds;
            full_t += r->dstage[i].teacher_s;
            full_steps += r->dstage[i].steps;
        }
    fprintf(f, ",\n \"controls\": {\"asked\": %s, \"rows\": [",
            asked ? "true" : "false");
    for (int k = 0; k < COMPRESS_CONTROLS; k++) {
        const compress_control *c = &r->ctl[k];
        if (!c->ran)
            continue;
        fprintf(f, "{\"name\": \"%s\", \"what\": ", names[k]);
        json_write_string(f, what[k]);
        fprintf(f, ", \"steps\": %lld, \"examples\": %lld, \"final_loss\": ",
                (long long)c->steps, (long long)c->examples);
        json_write_number(f, c->final_loss, 10);
        fputs(", \"seconds\": ", f);
        json_write_number(f, c->seconds, 10);
        fputs(", \"teacher_seconds\": ", f);
        json_write_number(f, c->teacher_s, 10);
        fputs(", \"student_seconds\": ", f);
        json_write_number(f, c->student_s, 10);
        fputs(", \"main\": ", f);
        json_write_number(f, metrics_main(&c->metrics), 10);
        fputs(", \"metrics\": ", f);
        metrics_json(f, &c->metrics);
        fputs("}, ", f);
    }
    fputs("{\"name\": \"full\", \"what\": ", f);
    json_write_string(f, "intermediate then prediction distillation (TinyBERT)");
    fprintf(f, ", \"steps\": %lld, \"seconds\": ", (long long)full_steps);
    json_write_number(f, full_s, 10);
    fputs(", \"teacher_seconds\": ", f);
    json_write_number(f, full_t, 10);
    fputs(", \"main\": ", f);
    json_write_number(f, metrics_main(&r->student.metrics), 10);
    fputs(", \"metrics\": ", f);
    metrics_json(f, &r->student.metrics);
    fputs("}]}", f);
}

static void model_json(FILE *f, const compress_model *m, const char *path)
{
    fputs("{\"path\": ", f);
    json_write_string(f, path);
    fputs(", \"shape\": ", f);
    json_write_string(f, m->shape);
    fprintf(f, ", \"parameters\": %lld, \"size_bytes\": ", (long long)m->parameters);
    if (m->size_bytes > 0)
        fprintf(f, "%lld", (long long)m->size_bytes);
    else
        fputs("null", f);
    fputs(", \"latency_ms\": ", f);
    json_write_number(f, m->latency_ms, 10);
    fputs(", \"ort_latency_ms\": null, \"metrics\": {", f);
    for (int i = 0; i < m->metrics.n; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_write_string(f, m->metrics.name[i]);
        fputs(": ", f);
        json_write_number(f, m->metrics.value[i], 10);
    }
    fprintf(f, "}, \"dev_examples\": %lld", (long long)m->dev_examples);
}

ir_status compress_report_json(FILE *f, const compress_options *o,
                               const compress_state *st, ir_diag *d)
{
    const compress_results *r = &st->r;
    char path[4096];
    fputs("{\"format\": \"distilc-compress-report\", \"version\": 1,\n \"task\": ", f);
    const glue_task *t = compress_task(o);
    json_write_string(f, t ? t->name : o->task);
    fputs(", \"metric\": ", f);
    json_write_string(f, main_name(st));
    fprintf(f, ",\n \"setting\": {\"seq\": %lld, \"batch\": %lld, \"threads\": %lld, "
            "\"precision\": ", (long long)r->set_seq, (long long)r->set_batch,
            (long long)r->set_threads);
    json_write_string(f, r->set_precision);
    fputs(", \"clock\": ", f);
    json_write_string(f, r->set_clock[0] ? r->set_clock : "wall");
    fputs("},\n \"teacher\": ", f);
    /* absolute, so bench/compress_report_ort.py finds it from anywhere */
    char *abs = realpath(o->teacher, NULL);
    model_json(f, &r->teacher, abs ? abs : o->teacher);
    free(abs);
    fputs("},\n \"student\": ", f);
    snprintf(path, sizeof path, "%s/student.onnx", o->out);
    model_json(f, &r->student, path);
    snprintf(path, sizeof path, "%s/bin/model", o->out);
    fputs(", \"binary\": ", f);
    json_write_string(f, path);
    fprintf(f, ", \"binary_bytes\": %lld, \"weights_bytes\": %lld},\n",
            (long long)r->program_bytes, (long long)r->weights_bytes);
    fputs(" \"speedup\": ", f);
    json_write_number(f, ratio(r->teacher.latency_ms, r->student.latency_ms), 10);
    fputs(", \"ort_speedup\": null, \"accuracy_retained\": ", f);
    json_write_number(f, ratio(main_metric(&r->student), main_metric(&r->teacher)), 10);
    fputs(", \"parameter_reduction\": ", f);
    json_write_number(f, ratio((double)r->teacher.parameters, (double)r->student.parameters), 10);
    fputs(", \"size_reduction\": ", f);
    json_write_number(f, ratio((double)r->teacher.size_bytes, (double)r->student.size_bytes), 10);
    fprintf(f, ",\n \"supernet\": {\"trained\": %s, \"steps\": %lld, "
            "\"subnetworks\": %lld, \"train_examples\": %lld, "
            "\"heldout_examples\": %lld, \"seconds\": ",
            r->sn_trained ? "true" : "false", (long long)r->sn_steps,
            (long long)r->sn_subnets, (long long)r->sn_examples,
            (long long)r->sn_heldout);
    json_write_number(f, r->sn_seconds, 10);
    fputs(", \"first_loss\": ", f);
    json_write_number(f, r->sn_trained ? r->sn_first_loss : NAN, 10);
    fputs(", \"last_loss\": ", f);
    json_write_number(f, r->sn_trained ? r->sn_last_loss : NAN, 10);
    fputs(", \"teacher_seconds\": ", f);
    json_write_number(f, r->sn_trained ? r->sn_teacher_s : NAN, 10);
    fputs(", \"student_seconds\": ", f);
    json_write_number(f, r->sn_trained ? r->sn_seconds - r->sn_teacher_s : NAN, 10);
    fputs("}", f);
    fputs(",\n \"search\": {\"space\": ", f);
    json_write_string(f, r->space_name);
    fputs(", \"fitness\": ", f);
    json_write_string(f, r->fitness);
    fputs(", \"latency\": ", f);
    json_write_string(f, r->latency_src);
    fputs(", \"predicted_latency_ms\": ", f);
    json_write_number(f, r->predicted_ms, 10);
    fputs(", \"constraints\": {\"latency_ms\": ", f);
    json_write_number(f, r->limit_ms > 0 ? r->limit_ms : NAN, 10);
    fputs(", \"params\": ", f);
    json_write_number(f, r->limit_params > 0 ? (double)r->limit_params : NAN, 10);
    fputs("}, \"sharing\": ", f);
    json_write_string(f, r->s_share);
    fprintf(f, ", \"evaluated\": %lld, \"cycles\": %lld, \"latency_measured\": %lld, "
            "\"latency_interpolated\": %lld, \"timing_load\": {\"seconds\": ",
            (long long)r->evaluated, (long long)r->cycles, (long long)r->measured,
            (long long)r->interpolated);
    json_write_number(f, r->timed_s, 10);
    fputs(", \"other_cores\": ", f);
    json_write_number(f, r->timed_others_cores, 10);
    fputs("}},\n", f);
    fputs(" \"distill\": {\"teacher_engine\": ", f);
    json_write_string(f, r->teacher_engine);
    fputs(", \"step_seconds\": ", f);
    json_write_number(f, r->step_s, 10);
    /* TinyBERT data augmentation of the task stages (copies 0 = off) */
    fprintf(f, ", \"augment\": {\"copies\": %lld, \"prob\": ",
            (long long)r->aug_copies);
    json_write_number(f, r->aug_copies > 0 ? r->aug_prob : NAN, 10);
    fprintf(f, ", \"neighbours\": %lld, \"train_examples\": %lld, "
            "\"replaced\": %lld, \"eligible\": %lld}",
            (long long)r->aug_neighbours, (long long)r->aug_examples,
            (long long)r->aug_replaced, (long long)r->aug_eligible);
    fputs(", \"stages\": [", f);
    static const char *const dn[COMPRESS_DSTAGES] = {"general", "intermediate",
                                                     "prediction"};
    bool first = true;
    for (int i = 0; i < COMPRESS_DSTAGES; i++) {
        const compress_dstage *s = &r->dstage[i];
        if (!s->ran)
            continue;
        fprintf(f, "%s{\"name\": \"%s\", \"steps\": %lld, \"examples\": %lld, "
                "\"epochs\": ", first ? "" : ", ", dn[i], (long long)s->steps,
                (long long)s->examples);
        json_write_number(f, s->epochs, 10);
        fputs(", \"final_loss\": ", f);
        json_write_number(f, s->final_loss, 10);
        fputs(", \"seconds\": ", f);
        json_write_number(f, s->seconds, 10);
        fputs(", \"tokens_per_s\": ", f);
        json_write_number(f, s->tokens_per_s, 10);
        fputs(", \"teacher_seconds\": ", f);
        json_write_number(f, s->teacher_s, 10);
        fputs(", \"student_seconds\": ", f);
        json_write_number(f, s->student_s, 10);
        fputs("}", f);
        first = false;
    }
    fputs("]},\n \"budget\": {\"minutes\": ", f);
    json_write_number(f, r->budget_s > 0 ? r->budget_s / 60 : NAN, 10);
    fputs(", \"supernet_seconds_allowed\": ", f);
    json_write_number(f, r->budget_s > 0 ? r->sn_budget_s : NAN, 10);
    fputs(", \"supernet_seconds_used\": ", f);
    json_write_number(f, st->seconds[COMPRESS_SUPERNET], 10);
    fputs(", \"search_seconds_allowed\": ", f);
    json_write_number(f, r->budget_s > 0 ? r->search_budget_s : NAN, 10);
    fputs(", \"distill_seconds_allowed\": ", f);
    json_write_number(f, r->budget_s > 0 ? r->distill_budget_s : NAN, 10);
    fputs(", \"search_seconds_used\": ", f);
    json_write_number(f, st->seconds[COMPRESS_SEARCH], 10);
    fputs(", \"distill_seconds_used\": ", f);
    json_write_number(f, distill_seconds(r), 10);
    char text[1024];
    compress_report_budget_text(st, text, sizeof text);
    fputs(", \"allowed\": ", f);
    json_write_string(f, text);
    fputs("}", f);
    controls_json(f, r);
    fputs(",\n \"stages\": {", f);
    double total = 0;
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++) {
        fprintf(f, "%s\"%s\": {\"seconds\": ", i ? ", " : "",
                compress_stage_name((compress_stage)i));
        json_write_number(f, st->seconds[i], 10);
        fprintf(f, ", \"ran\": %s", st->ran[i] ? "true" : "false");
        double ts, ss;
        stage_split(st, i, &ts, &ss);
        fputs(", \"teacher_seconds\": ", f);
        json_write_number(f, ts, 10);
        fputs(", \"student_seconds\": ", f);
        json_write_number(f, ss, 10);
        fputs("}", f);
        total += st->seconds[i];
    }
    fputs("},\n \"total_seconds\": ", f);
    json_write_number(f, total, 10);
    fputs("}\n", f);
    if (ferror(f))
        return ir_diag_set(d, IR_ERR_IO, "report.json: write failed");
    return IR_OK;
}

/* ---- SVG: three panels of two bars ------------------------------------------ */

static void svg_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

static void panel(FILE *f, double x0, const char *title, const char *sub,
                  double tv, double sv, const char *fmt, const char *note)
{
    const double w = 220, top = 85, h = 185; /* bar area */
    double vmax = fmax(isfinite(tv) ? tv : 0, isfinite(sv) ? sv : 0);
    if (!(vmax > 0))
        vmax = 1;
    fprintf(f, "<text x=\"%.1f\" y=\"50\" text-anchor=\"middle\" font-size=\"14\" "
               "font-weight=\"bold\">", x0 + w / 2);
    svg_text(f, title);
    fputs("</text>\n", f);
    fprintf(f, "<text x=\"%.1f\" y=\"66\" text-anchor=\"middle\" font-size=\"11\" "
               "fill=\"#555\">", x0 + w / 2);
    svg_text(f, sub);
    fputs("</text>\n", f);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
               "stroke=\"#333\"/>\n", x0 + 10, top + h, x0 + w - 10, top + h);
    const double vals[2] = {tv, sv};
    static const char *const who[2] = {"teacher", "student"};
    static const char *const color[2] = {"#9e9e9e", "#1f77b4"};
    for (int i = 0; i < 2; i++) {
        double bx = x0 + 35 + i * 85, bw = 65;
        char label[64];
        if (isfinite(vals[i])) {
            double bh = h * vals[i] / vmax;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                       "fill=\"%s\"><title>%s</title></rect>\n", bx,
                    top + h - bh, bw, bh, color[i], who[i]);
            snprintf(label, sizeof label, fmt, vals[i]);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                       "font-size=\"12\">%s</text>\n", bx + bw / 2, top + h - bh - 5,
                    label);
        } else
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                       "font-size=\"12\">n/a</text>\n", bx + bw / 2, top + h - 5);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                   "font-size=\"12\">%s</text>\n", bx + bw / 2, top + h + 18, who[i]);
    }
    if (note && *note) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                   "font-size=\"12\" fill=\"#1f77b4\">", x0 + w / 2, top + h + 40);
        svg_text(f, note);
        fputs("</text>\n", f);
    }
}

ir_status compress_report_svg(FILE *f, const compress_options *o,
                              const compress_state *st, ir_diag *d)
{
    const compress_results *r = &st->r;
    const glue_task *t = compress_task(o);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"340\" "
          "viewBox=\"0 0 720 340\" font-family=\"sans-serif\">\n"
          "<rect width=\"720\" height=\"340\" fill=\"white\"/>\n"
          "<text x=\"360\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">", f);
    char title[512];
    snprintf(title, sizeof title, "distilc compress on %s: %s -> %s",
             t ? t->name : o->task, r->teacher.shape, r->student.shape);
    svg_text(f, title);
    fputs("</text>\n", f);
    char note[64], sub[96];
    snprintf(sub, sizeof sub, "distilc runtime, %s, seq %lld, batch %lld",
             r->set_precision, (long long)r->set_seq, (long long)r->set_batch);
    double sp = ratio(r->teacher.latency_ms, r->student.latency_ms);
    snprintf(note, sizeof note, isfinite(sp) ? "%.2fx faster" : "", sp);
    panel(f, 10, "latency (ms)", sub, r->teacher.latency_ms, r->student.latency_ms,
          "%.3g", note);
    double ar = ratio(main_metric(&r->student), main_metric(&r->teacher));
    snprintf(sub, sizeof sub, "%s dev, %lld examples", t ? t->name : o->task,
             (long long)r->teacher.dev_examples);
    snprintf(note, sizeof note, isfinite(ar) ? "%.1f%% retained" : "", 100 * ar);
    panel(f, 250, main_name(st), sub, main_metric(&r->teacher),
          main_metric(&r->student), "%.4f", note);
    double pr = ratio((double)r->teacher.parameters, (double)r->student.parameters);
    snprintf(note, sizeof note, isfinite(pr) ? "%.1fx fewer" : "", pr);
    panel(f, 490, "parameters (millions)", "shared groups counted once",
          r->teacher.parameters > 0 ? (double)r->teacher.parameters / 1e6 : NAN,
          r->student.parameters > 0 ? (double)r->student.parameters / 1e6 : NAN,
          "%.3g", note);
    fputs("</svg>\n", f);
    if (ferror(f))
        return ir_diag_set(d, IR_ERR_IO, "report.svg: write failed");
    return IR_OK;
}

static ir_status write_file(const char *path,
                            ir_status (*fn)(FILE *, const compress_options *,
                                            const compress_state *, ir_diag *),
                            const compress_options *o, const compress_state *st,
                            ir_diag *d)
{
    ir_file_atomic a;
    ir_status s = ir_file_atomic_open(&a, path, 0644, d);
    if (s != IR_OK)
        return s;
    s = fn(a.f, o, st, d);
    if (s == IR_OK)
        return ir_file_atomic_commit(&a, d);
    ir_file_atomic_abort(&a);
    ir_diag_prefix(d, "%s", path);
    return s;
}

ir_status compress_report_write(const compress_options *o,
                                const compress_state *st, ir_diag *d)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/report.json", o->out);
    ir_status s = write_file(path, compress_report_json, o, st, d);
    if (s != IR_OK)
        return s;
    snprintf(path, sizeof path, "%s/report.svg", o->out);
    return write_file(path, compress_report_svg, o, st, d);
}

ir_status compress_stage_report(compress_ctx *c, ir_diag *d)
{
    /* the report counts itself as run (its seconds are the last run's) */
    bool ran = c->st->ran[COMPRESS_REPORT];
    c->st->ran[COMPRESS_REPORT] = true;
    ir_status s = compress_report_write(c->o, c->st, d);
    c->st->ran[COMPRESS_REPORT] = ran;
    return s;
}

/* ---- the table on stdout ---------------------------------------------------- */

static void cell(FILE *f, double v, const char *fmt)
{
    char b[32];
    if (isfinite(v))
        snprintf(b, sizeof b, fmt, v);
    else
        snprintf(b, sizeof b, "n/a");
    fprintf(f, " %14s", b);
}

void compress_report_table(FILE *f, const compress_options *o,
                           const compress_state *st)
{
    const compress_results *r = &st->r;
    const compress_model *t = &r->teacher, *s = &r->student;
    fprintf(f, "teacher  %s  (%s)\n", t->shape, o->teacher);
    fprintf(f, "student  %s  (%s/student.onnx)\n\n", s->shape, o->out);
    fprintf(f, "%-22s %14s %14s %14s\n", "", "teacher", "student", "ratio");
    fprintf(f, "%-22s", "parameters (M)");
    cell(f, (double)t->parameters / 1e6, "%.3f");
    cell(f, (double)s->parameters / 1e6, "%.3f");
    cell(f, ratio((double)t->parameters, (double)s->parameters), "%.2fx smaller");
    fprintf(f, "\n%-22s", "size (MB)");
    cell(f, t->size_bytes > 0 ? (double)t->size_bytes / 1048576.0 : NAN, "%.2f");
    cell(f, s->size_bytes > 0 ? (double)s->size_bytes / 1048576.0 : NAN, "%.2f");
    cell(f, ratio((double)t->size_bytes, (double)s->size_bytes), "%.2fx smaller");
    char lbl[64];
    snprintf(lbl, sizeof lbl, "latency (ms, %s)", r->set_precision);
    fprintf(f, "\n%-22s", lbl);
    cell(f, t->latency_ms, "%.3f");
    cell(f, s->latency_ms, "%.3f");
    cell(f, ratio(t->latency_ms, s->latency_ms), "%.2fx faster");
    snprintf(lbl, sizeof lbl, "dev %s", main_name(st));
    fprintf(f, "\n%-22.22s", lbl);
    cell(f, main_metric(t), "%.4f");
    cell(f, main_metric(s), "%.4f");
    double ar = ratio(main_metric(s), main_metric(t));
    cell(f, isfinite(ar) ? 100 * ar : NAN, "%.1f%% kept");
    fputc('\n', f);
    for (int k = 0; k < COMPRESS_CONTROLS; k++) {
        const compress_control *c = &r->ctl[k];
        if (!c->ran)
            continue;
        snprintf(lbl, sizeof lbl, k ? "control: kd only" : "control: finetune");
        fprintf(f, "%-22s %14s", lbl, "");
        cell(f, metrics_main(&c->metrics), "%.4f");
        double cr = ratio(metrics_main(&c->metrics), main_metric(t));
        cell(f, isfinite(cr) ? 100 * cr : NAN, "%.1f%% kept");
        fprintf(f, "  (%lld steps)\n", (long long)c->steps);
    }
    char text[1024];
    compress_report_budget_text(st, text, sizeof text);
    fprintf(f, "budget: %s\n", text);
    fprintf(f, "fitness: %s\n", r->fitness[0] ? r->fitness : "n/a");
    fprintf(f, "stages:");
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++)
        fprintf(f, " %s %.1fs%s", compress_stage_name((compress_stage)i),
                st->seconds[i], st->ran[i] ? "" : " (skipped)");
    fprintf(f, "\nwrote %s/report.json, %s/report.svg, %s/student.onnx, "
               "%s/bin/model\n", o->out, o->out, o->out, o->out);
}

/* compress_lift.c — stage 1 of `distilc compress`: the teacher ONNX lifted
 * into an encoder (distill/teacher.h: passes "default,fuse", then
 * ir_encoder_lift), checked against the task, and measured: dev metrics and
 * latency on the oneDNN runtime. The measuring helper is shared with the
 * eval stage so teacher and student are timed and scored the same way. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backend/eval_rt.h"
#include "backend/rt_encoder.h"
#include "distill/teacher.h"
#include "frontend/eval.h"
#include "ir/clock.h"
#include "pipeline/compress_internal.h"
#include "search/latency.h"

double compress_now_s(void) { return ir_clock_wall_s(); }

int64_t compress_file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

ir_precision compress_rt_precision(const compress_ctx *c)
{
    return c->space.cons.precision; /* one enum, ir/precision.h */
}

ir_status compress_tokenizer(const compress_ctx *c, tok_tokenizer **out,
                             ir_diag *d)
{
    if (c->o->tokenizer) {
        ir_status s = tok_load_json(c->o->tokenizer, out, d);
        if (s != IR_OK)
            ir_diag_prefix(d, "--tokenizer '%s'", c->o->tokenizer);
        return s;
    }
    tok_options to = tok_options_default();
    ir_status s = tok_load_vocab(c->o->vocab, &to, out, d);
    if (s != IR_OK)
        ir_diag_prefix(d, "--vocab '%s'", c->o->vocab);
    return s;
}

/* The teacher's position numbering as lift recorded it, in a config that
 * ir_encoder_max_seq and teacher_pad_id read. */
static ir_encoder_config teacher_positions(const compress_ctx *c)
{
    const compress_results *r = &c->st->r;
    ir_encoder_config pc;
    memset(&pc, 0, sizeof pc);
    pc.max_positions = r->t_positions;
    pc.positions = r->t_pad_id >= 0 ? IR_ENC_POS_PADDED : IR_ENC_POS_ABSOLUTE;
    pc.pad_id = r->t_pad_id >= 0 ? r->t_pad_id : 0;
    return pc;
}

int64_t compress_task_max_seq(const compress_ctx *c)
{
    const glue_task *task = compress_task(c->o);
    ir_encoder_config pc = teacher_positions(c);
    int64_t n = task && task->is_pair ? 128 : 64, p = ir_encoder_max_seq(&pc);
    return p > 0 && p < n ? p : n;
}

void compress_fit_inputs(const compress_ctx *c, const tok_tokenizer *tok,
                         train_data *td)
{
    ir_encoder_config pc = teacher_positions(c);
    train_data_set_inputs(td, (int32_t)teacher_pad_id(&pc, tok),
                          c->st->r.t_token_types);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of a round of up to 15 timed runs (at least 5, about 1.5 s at
 * most) after 3 warm-up runs, on random ids without padding (a full batch
 * of real text, as `distilc bench` times it); three rounds, and the fastest
 * round's median is kept: another job's burst on a shared machine slows a
 * round, never speeds one up, so one slow stretch cannot inflate a
 * teacher's time and the speed-up with it. */
static ir_status time_model(rt_model *m, const ir_encoder_config *cfg,
                            int64_t B, int64_t S, search_clock clock,
                            double *median_ms, ir_diag *d)
{
    size_t n = (size_t)(B * S);
    int64_t *buf = malloc(3 * n * sizeof *buf);
    float *logits = malloc((size_t)(B * cfg->labels) * sizeof *logits);
    if (!buf || !logits) {
        free(buf);
        free(logits);
        return ir_diag_set(d, IR_ERR_NOMEM, "timing: out of memory");
    }
    int64_t *ids = buf, *types = buf + n, *mask = buf + 2 * n;
    uint64_t r = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < n; i++) {
        r = r * 6364136223846793005u + 1442695040888963407u;
        ids[i] = (int64_t)((r >> 33) % (uint64_t)cfg->vocab);
        types[i] = cfg->type_vocab > 1 && (int64_t)(i % (size_t)S) >= S / 2;
        mask[i] = 1;
    }
    enum { WARMUP = 3, RUNS = 15, ROUNDS = 3 };
    ir_status s = IR_OK;
    for (int i = 0; i < WARMUP && s == IR_OK; i++)
        s = rt_model_run(m, B, S, ids, types, mask, logits, NULL, d);
    *median_ms = INFINITY;
    for (int round = 0; round < ROUNDS && s == IR_OK; round++) {
        double ms[RUNS];
        int k = 0;
        double t_start = compress_now_s();
        while (k < RUNS && s == IR_OK) {
            double a = search_clock_ms(clock);
            s = rt_model_run(m, B, S, ids, types, mask, logits, NULL, d);
            ms[k++] = search_clock_ms(clock) - a;
            if (k >= 5 && compress_now_s() - t_start > 1.5)
                break;
        }
        qsort(ms, (size_t)k, sizeof ms[0], cmp_double);
        double med = k % 2 ? ms[k / 2] : 0.5 * (ms[k / 2 - 1] + ms[k / 2]);
        if (med < *median_ms)
            *median_ms = med;
    }
    free(buf);
    free(logits);
    return s;
}

typedef struct work_ctx {
    compress_ctx *c;
    const char *label;
} work_ctx;

static void eval_progress(void *user, size_t done, size_t total)
{
    work_ctx *w = user;
    compress_work(w->c, w->label, done, total);
}

/* Dev metrics, and the latency when `timed`. */
static ir_status measure(compress_ctx *c, const ir_encoder *e, bool types,
                         const char *label, bool timed, compress_model *m,
                         ir_diag *d)
{
    const compress_options *o = c->o;
    const glue_task *task = compress_task(o);
    search_config_format(&e->cfg, m->shape, sizeof m->shape);
    m->parameters = ir_encoder_param_count(e);
    tok_tokenizer *tok = NULL;
    glue_dataset dev = {0};
    rt_model *rm = NULL;
    eval_result er = {0};
    ir_status s = compress_tokenizer(c, &tok, d);
    if (s != IR_OK)
        return s;
    if ((s = teacher_check_tokenizer(&e->cfg, tok, d)) != IR_OK) {
        ir_diag_prefix(d, "%s", label);
        tok_free(tok);
        return s;
    }
    glue_load_opts gl = {.skip_bad_lines = false, .limit = (size_t)o->dev_limit};
    s = glue_load(task, o->data, GLUE_SPLIT_DEV, &gl, &dev, d);
    if (s != IR_OK) {
        ir_diag_prefix(d, "--data");
        goto done;
    }
    rt_options ro;
    rt_options_default(&ro);
    ro.precision = compress_rt_precision(c);
    ro.threads = (int)c->space.cons.threads;
    s = rt_model_from_encoder(e, &ro, &rm, d);
    if (s != IR_OK) {
        ir_diag_prefix(d, "compiling the %s for the runtime", label);
        goto done;
    }
    /* batches as the model takes them: its pad id, its token types or
     * none, no longer than its positions serve */
    int64_t can_seq = ir_encoder_max_seq(&e->cfg);
    eval_options eo = eval_options_default();
    if ((int64_t)eo.max_seq > can_seq)
        eo.max_seq = (size_t)can_seq;
    eo.pad_id = teacher_pad_id(&e->cfg, tok);
    eval_rt ert = {.m = rm, .labels = (size_t)e->cfg.labels, .types = types,
                   .bucket = 16, .max_positions = (size_t)can_seq};
    work_ctx w = {c, label};
    char wl[64];
    snprintf(wl, sizeof wl, "%s dev", label);
    w.label = wl;
    eo.progress = eval_progress;
    eo.progress_ctx = &w;
    s = eval_run(&dev, tok, &eo, eval_rt_run, &ert, &er, d);
    if (s != IR_OK) {
        ir_diag_prefix(d, "evaluating the %s on %s dev", label, task->name);
        goto done;
    }
    compress_metrics *cm = &m->metrics;
    cm->n = (int)er.metrics.n < COMPRESS_METRICS_MAX ? (int)er.metrics.n
                                                     : COMPRESS_METRICS_MAX;
    cm->main = (int)er.metrics.main < cm->n ? (int)er.metrics.main : 0;
    for (int i = 0; i < cm->n; i++) {
        snprintf(cm->name[i], sizeof cm->name[i], "%s", er.metrics.v[i].name);
        cm->value[i] = er.metrics.v[i].value;
    }
    m->dev_examples = (int64_t)dev.n;
    if (!timed)
        goto done;
    int64_t S = c->space.cons.seq;
    if (S > can_seq) {
        s = ir_diag_set(d, IR_ERR_INPUT, "--seq %lld exceeds the %lld tokens "
                        "the %s's positions serve", (long long)S,
                        (long long)can_seq, label);
        goto done;
    }
    compress_work(c, label, 0, 1);
    s = time_model(rm, &e->cfg, c->space.cons.batch, S,
                   o->cpu_clock ? SEARCH_CLOCK_CPU : SEARCH_CLOCK_WALL,
                   &m->latency_ms, d);
    compress_work(c, label, 1, 1);
    if (s != IR_OK)
        ir_diag_prefix(d, "timing the %s", label);
done:
    eval_result_free(&er);
    rt_model_free(rm);
    glue_dataset_free(&dev);
    tok_free(tok);
    return s;
}

ir_status compress_measure_model(compress_ctx *c, const ir_encoder *e,
                                 bool types, const char *label,
                                 compress_model *m, ir_diag *d)
{
    return measure(c, e, types, label, true, m, d);
}

ir_status compress_measure_metrics(compress_ctx *c, const ir_encoder *e,
                                   bool types, const char *label,
                                   compress_metrics *cm, ir_diag *d)
{
    compress_model m;
    memset(&m, 0, sizeof m);
    ir_status s = measure(c, e, types, label, false, &m, d);
    *cm = m.metrics;
    return s;
}

ir_status compress_stage_lift(compress_ctx *c, ir_diag *d)
{
    const compress_options *o = c->o;
    compress_results *r = &c->st->r;
    const glue_task *task = compress_task(o);
    ir_encoder *e = NULL;
    bool types = true;
    ir_status s = teacher_load_onnx_inputs(o->teacher, &e, &types, d);
    if (s != IR_OK)
        return s; /* the message names the teacher */
    int64_t want = task->is_regression ? 1 : task->n_labels;
    if (e->cfg.labels != want) {
        s = ir_diag_set(d, IR_ERR_INPUT, "teacher '%s' has %lld outputs but %s "
                        "needs %lld: fine-tune it on the task first (distilc "
                        "finetune)", o->teacher, (long long)e->cfg.labels,
                        task->name, (long long)want);
        ir_encoder_free(e);
        return s;
    }
    e->cfg.head = task->is_regression ? IR_ENC_HEAD_REGRESSION
                                      : IR_ENC_HEAD_CLASSIFICATION;
    const ir_encoder_config *tc = &e->cfg;
    r->t_layers = tc->layers;
    r->t_hidden = tc->hidden;
    r->t_heads = tc->heads;
    r->t_ffn = tc->ffn;
    r->t_vocab = tc->vocab;
    r->t_positions = tc->max_positions;
    r->t_type_vocab = tc->type_vocab;
    r->t_labels = tc->labels;
    r->t_activation = ir_act_ffn_code(tc->activation);
    r->t_token_types = types;
    r->t_pad_id = tc->positions == IR_ENC_POS_PADDED ? tc->pad_id : -1;
    snprintf(r->t_pool_act, sizeof r->t_pool_act, "%s",
             ir_act_name(ir_encoder_pool_act(tc)));
    r->t_ln_eps = tc->ln_eps;
    r->t_rel_buckets = tc->rel_buckets;
    r->t_rel_max_distance = tc->rel_max_distance;
    r->t_rel_bidirectional = tc->rel_bidirectional;
    s = compress_measure_model(c, e, types, "teacher", &r->teacher, d);
    r->teacher.size_bytes = compress_file_size(o->teacher);
    ir_encoder_free(e);
    return s;
}

/* compress_state.c — OUT/state.json, the memory of `distilc compress`:
 * which stages finished, with which input fingerprint and in how many
 * seconds, and everything they found out (compress_results), so a rerun
 * that skips a stage still has its numbers for the report.
 *
 * Format "distilc-compress-state", version 1:
 *   {"format": ..., "version": 1,
 *    "stages": {"lift": {"done": true, "fingerprint": "hex", "seconds": s,
 *                        "outputs": {"student.onnx": "hex", ...}},
 *               ...},
 *    "results": {"teacher.parameters": 4386178, "s_share": "none", ...}}
 * The results are flat "key": value pairs from one field table below, so
 * writing and reading cannot drift apart; NaN is written as null. A
 * stage's "outputs" (the hashes of the files it wrote) came after the
 * first release of the format: a state without them still loads, its
 * outputs then checked for existence only. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/json.h"
#include "ir/file_atomic.h"
#include "ir/file_read.h"
#include "pipeline/compress.h"

enum { F_I64, F_INT, F_F64, F_STR, F_BOOL };

typedef struct field {
    char key[48];
    int type;      /* F_INT: an int (metric count and index), F_I64 int64_t */
    size_t off;
    size_t size; /* F_STR: buffer size */
} field;

/* Builds the table (metric slots and distillation stages are repeated
 * entries, so it is filled by code rather than written out). */
static size_t fields_build(field *f, size_t cap)
{
    size_t n = 0;
#define ADD(k, t, o, sz)                                                       \
    do {                                                                      \
        if (n < cap) {                                                        \
            snprintf(f[n].key, sizeof f[n].key, "%s", k);                     \
            f[n].type = t;                                                    \
            f[n].off = o;                                                     \
            f[n].size = sz;                                                   \
        }                                                                     \
        n++;                                                                  \
    } while (0)
#define R(member) offsetof(compress_results, member)
    static const char *const who[2] = {"teacher", "student"};
    for (int m = 0; m < 2; m++) {
        size_t base = m == 0 ? R(teacher) : R(student);
        char k[48];
#define MF(name, t, member, sz)                                               \
    snprintf(k, sizeof k, "%s.%s", who[m], name);                             \
    ADD(k, t, base + offsetof(compress_model, member), sz)
        MF("shape", F_STR, shape, COMPRESS_TEXT);
        MF("parameters", F_I64, parameters, 0);
        MF("size_bytes", F_I64, size_bytes, 0);
        MF("latency_ms", F_F64, latency_ms, 0);
        MF("dev_examples", F_I64, dev_examples, 0);
        size_t mb = base + offsetof(compress_model, metrics);
        snprintf(k, sizeof k, "%s.metrics.n", who[m]);
        ADD(k, F_INT, mb + offsetof(compress_metrics, n), 0);
        snprintf(k, sizeof k, "%s.metrics.main", who[m]);
        ADD(k, F_INT, mb + offsetof(compress_metrics, main), 0);
        for (int i = 0; i < COMPRESS_METRICS_MAX; i++) {
            snprintf(k, sizeof k, "%s.metrics.%d.name", who[m], i);
            ADD(k, F_STR, mb + offsetof(compress_metrics, name) + (size_t)i * 32, 32);
            snprintf(k, sizeof k, "%s.metrics.%d.value", who[m], i);
            ADD(k, F_F64, mb + offsetof(compress_metrics, value) +
                              (size_t)i * sizeof(double), 0);
        }
#undef MF
    }
    ADD("t_layers", F_I64, R(t_layers), 0);
    ADD("t_hidden", F_I64, R(t_hidden), 0);
    ADD("t_heads", F_I64, R(t_heads), 0);
    ADD("t_ffn", F_I64, R(t_ffn), 0);
    ADD("t_vocab", F_I64, R(t_vocab), 0);
    ADD("t_positions", F_I64, R(t_positions), 0);
    ADD("t_type_vocab", F_I64, R(t_type_vocab), 0);
    ADD("t_labels", F_I64, R(t_labels), 0);
    ADD("t_activation", F_I64, R(t_activation), 0);
    ADD("t_token_types", F_BOOL, R(t_token_types), 0);
    ADD("t_pad_id", F_I64, R(t_pad_id), 0);
    ADD("t_pool_act", F_STR, R(t_pool_act),
        sizeof(((compress_results *)0)->t_pool_act));
    ADD("t_ln_eps", F_F64, R(t_ln_eps), 0);
    ADD("t_rel_buckets", F_I64, R(t_rel_buckets), 0);
    ADD("t_rel_max_distance", F_I64, R(t_rel_max_distance), 0);
    ADD("t_rel_bidirectional", F_BOOL, R(t_rel_bidirectional), 0);
    ADD("sn_trained", F_BOOL, R(sn_trained), 0);
    ADD("sn_steps", F_I64, R(sn_steps), 0);
    ADD("sn_subnets", F_I64, R(sn_subnets), 0);
    ADD("sn_examples", F_I64, R(sn_examples), 0);
    ADD("sn_heldout", F_I64, R(sn_heldout), 0);
    ADD("sn_seconds", F_F64, R(sn_seconds), 0);
    ADD("sn_first_loss", F_F64, R(sn_first_loss), 0);
    ADD("sn_last_loss", F_F64, R(sn_last_loss), 0);
    ADD("sn_budget_s", F_F64, R(sn_budget_s), 0);
    ADD("sn_teacher_s", F_F64, R(sn_teacher_s), 0);
    ADD("s_layers", F_I64, R(s_layers), 0);
    ADD("s_hidden", F_I64, R(s_hidden), 0);
    ADD("s_heads", F_I64, R(s_heads), 0);
    ADD("s_ffn", F_I64, R(s_ffn), 0);
    ADD("s_embed", F_I64, R(s_embed), 0);
    ADD("s_share", F_STR, R(s_share), sizeof(((compress_results *)0)->s_share));
    ADD("fitness", F_STR, R(fitness), COMPRESS_TEXT);
    ADD("latency_src", F_STR, R(latency_src), COMPRESS_TEXT);
    ADD("predicted_ms", F_F64, R(predicted_ms), 0);
    ADD("limit_ms", F_F64, R(limit_ms), 0);
    ADD("limit_params", F_I64, R(limit_params), 0);
    ADD("evaluated", F_I64, R(evaluated), 0);
    ADD("cycles", F_I64, R(cycles), 0);
    ADD("measured", F_I64, R(measured), 0);
    ADD("interpolated", F_I64, R(interpolated), 0);
    ADD("timed_s", F_F64, R(timed_s), 0);
    ADD("run_train_threads", F_I64, R(run_train_threads), 0);
    ADD("run_ranks", F_I64, R(run_ranks), 0);
    ADD("timed_others_cores", F_F64, R(timed_others_cores), 0);
    for (int i = 0; i < COMPRESS_DSTAGES; i++) {
        char k[48];
        size_t b = R(dstage) + (size_t)i * sizeof(compress_dstage);
#define DF(name, t, member)                                                   \
    snprintf(k, sizeof k, "dstage.%d.%s", i, name);                           \
    ADD(k, t, b + offsetof(compress_dstage, member), 0)
        DF("ran", F_BOOL, ran);
        DF("steps", F_I64, steps);
        DF("examples", F_I64, examples);
        DF("epochs", F_F64, epochs);
        DF("final_loss", F_F64, final_loss);
        DF("seconds", F_F64, seconds);
        DF("tokens_per_s", F_F64, tokens_per_s);
        DF("teacher_s", F_F64, teacher_s);
        DF("student_s", F_F64, student_s);
#undef DF
    }
    for (int i = 0; i < COMPRESS_CONTROLS; i++) {
        char k[48];
        size_t b = R(ctl) + (size_t)i * sizeof(compress_control);
#define CF(name, t, member)                                                   \
    snprintf(k, sizeof k, "ctl.%d.%s", i, name);                              \
    ADD(k, t, b + offsetof(compress_control, member), 0)
        CF("ran", F_BOOL, ran);
        CF("steps", F_I64, steps);
        CF("examples", F_I64, examples);
        CF("final_loss", F_F64, final_loss);
        CF("seconds", F_F64, seconds);
        CF("teacher_s", F_F64, teacher_s);
        CF("student_s", F_F64, student_s);
        CF("metrics.n", F_INT, metrics.n);
        CF("metrics.main", F_INT, metrics.main);
#undef CF
        size_t mb = b + offsetof(compress_control, metrics);
        for (int m = 0; m < COMPRESS_METRICS_MAX; m++) {
            snprintf(k, sizeof k, "ctl.%d.metrics.%d.name", i, m);
            ADD(k, F_STR, mb + offsetof(compress_metrics, name) + (size_t)m * 32, 32);
            snprintf(k, sizeof k, "ctl.%d.metrics.%d.value", i, m);
            ADD(k, F_F64, mb + offsetof(compress_metrics, value) +
                              (size_t)m * sizeof(double), 0);
        }
    }
    ADD("step_s", F_F64, R(step_s), 0);
    ADD("fixed_steps", F_BOOL, R(fixed_steps), 0);
    ADD("recipe_steps", F_BOOL, R(recipe_steps), 0);
    ADD("teacher_engine", F_STR, R(teacher_engine),
        sizeof(((compress_results *)0)->teacher_engine));
    ADD("aug_copies", F_I64, R(aug_copies), 0);
    ADD("aug_prob", F_F64, R(aug_prob), 0);
    ADD("aug_neighbours", F_I64, R(aug_neighbours), 0);
    ADD("aug_examples", F_I64, R(aug_examples), 0);
    ADD("aug_replaced", F_I64, R(aug_replaced), 0);
    ADD("aug_eligible", F_I64, R(aug_eligible), 0);
    ADD("budget_s", F_F64, R(budget_s), 0);
    ADD("search_budget_s", F_F64, R(search_budget_s), 0);
    ADD("distill_budget_s", F_F64, R(distill_budget_s), 0);
    ADD("program_bytes", F_I64, R(program_bytes), 0);
    ADD("weights_bytes", F_I64, R(weights_bytes), 0);
#undef R
#undef ADD
    return n;
}

enum { FIELDS_MAX = 256 };

void compress_state_init(compress_state *s)
{
    memset(s, 0, sizeof *s);
    s->r.teacher.latency_ms = s->r.student.latency_ms = NAN;
    s->r.predicted_ms = NAN;
    s->r.step_s = NAN;
    /* a state from before these fields: BERT's inputs */
    s->r.t_token_types = true;
    s->r.t_pad_id = -1;
    s->r.t_ln_eps = NAN;
    for (int i = 0; i < COMPRESS_METRICS_MAX; i++)
        s->r.teacher.metrics.value[i] = s->r.student.metrics.value[i] = NAN;
    /* fields a state from before them lacks: unknown */
    s->r.sn_teacher_s = NAN;
    s->r.timed_s = s->r.timed_others_cores = NAN;
    for (int i = 0; i < COMPRESS_DSTAGES; i++)
        s->r.dstage[i].teacher_s = s->r.dstage[i].student_s = NAN;
    for (int k = 0; k < COMPRESS_CONTROLS; k++) {
        compress_control *c = &s->r.ctl[k];
        c->final_loss = c->seconds = c->teacher_s = c->student_s = NAN;
        for (int i = 0; i < COMPRESS_METRICS_MAX; i++)
            c->metrics.value[i] = NAN;
    }
}

ir_status compress_state_save(const char *path, const compress_state *s,
                              ir_diag *d)
{
    ir_file_atomic out;
    if (ir_file_atomic_open(&out, path, 0644, d) != IR_OK)
        return ir_diag_prefix(d, "state file");
    FILE *f = out.f;
    fprintf(f, "{\"format\": \"distilc-compress-state\", \"version\": 1,\n"
               " \"stages\": {");
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++) {
        fprintf(f, "%s\n  \"%s\": {\"done\": %s, \"fingerprint\": \"%016" PRIx64
                   "\", \"seconds\": %.6g, \"outputs\": {", i ? "," : "",
                compress_stage_name((compress_stage)i), s->done[i] ? "true" : "false",
                s->fp[i], isfinite(s->seconds[i]) ? s->seconds[i] : 0.0);
        for (int k = 0; k < s->n_out[i] && k < COMPRESS_OUTPUTS_MAX; k++) {
            fputs(k ? ", " : "", f);
            json_write_string(f, s->out[i][k].name);
            fprintf(f, ": \"%016" PRIx64 "\"", s->out[i][k].hash);
        }
        fputs("}}", f);
    }
    fprintf(f, "},\n \"results\": {");
    field fl[FIELDS_MAX];
    size_t n = fields_build(fl, FIELDS_MAX);
    const char *base = (const char *)&s->r;
    for (size_t i = 0; i < n && i < FIELDS_MAX; i++) {
        fprintf(f, "%s\n  ", i ? "," : "");
        json_write_string(f, fl[i].key);
        fputs(": ", f);
        const void *p = base + fl[i].off;
        switch (fl[i].type) {
        case F_I64: fprintf(f, "%" PRId64, *(const int64_t *)p); break;
        case F_INT: fprintf(f, "%d", *(const int *)p); break;
        case F_F64: json_write_number(f, *(const double *)p, 17); break;
        case F_BOOL: fputs(*(const bool *)p ? "true" : "false", f); break;
        default: json_write_string(f, (const char *)p); break;
        }
    }
    fputs("}}\n", f);
    if (ir_file_atomic_commit(&out, d) != IR_OK)
        return ir_diag_prefix(d, "state file");
    return IR_OK;
}

/* A state file is a few KB; anything past this is not one distilc wrote. */
#define COMPRESS_STATE_MAX_BYTES ((int64_t)16 << 20)

static ir_status bad_state(ir_diag *d, const char *path, const char *what)
{
    return ir_diag_set(d, IR_ERR_INPUT, "state file '%s': %s; delete it or rerun "
                       "with --from lift", path, what);
}

ir_status compress_state_load(const char *path, compress_state *s, ir_diag *d)
{
    compress_state_init(s);
    /* no state yet: a fresh run; anything else must be a regular file of
     * sane size (a FIFO would block the read, ir/file_read.h) */
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return IR_OK;
    char *text = NULL;
    size_t len = 0;
    ir_status rs = ir_file_read_all(path, "state file", COMPRESS_STATE_MAX_BYTES,
                                    &text, &len, d);
    if (rs != IR_OK)
        return rs;
    json_doc doc;
    ir_diag jd;
    ir_diag_init(&jd);
    ir_status st = json_parse(text, len, path, &doc, &jd);
    free(text);
    if (st != IR_OK)
        return bad_state(d, path, jd.msg);
    const json_value *fmt = json_get(doc.root, "format");
    const json_value *ver = json_get(doc.root, "version");
    const json_value *stages = json_get(doc.root, "stages");
    const json_value *res = json_get(doc.root, "results");
    if (!fmt || fmt->type != JSON_STRING ||
        strcmp(fmt->u.str, "distilc-compress-state") != 0 || !ver ||
        !ver->is_int || ver->ival != 1 || !stages || stages->type != JSON_OBJECT ||
        !res || res->type != JSON_OBJECT) {
        json_doc_free(&doc);
        return bad_state(d, path, "not a distilc compress state of version 1");
    }
    for (int i = 0; i < COMPRESS_STAGE_COUNT; i++) {
        const json_value *e = json_get(stages, compress_stage_name((compress_stage)i));
        if (!e || e->type != JSON_OBJECT)
            continue;
        const json_value *done = json_get(e, "done"), *fp = json_get(e, "fingerprint"),
                         *sec = json_get(e, "seconds");
        s->done[i] = done && done->type == JSON_TRUE;
        if (fp && fp->type == JSON_STRING)
            s->fp[i] = strtoull(fp->u.str, NULL, 16);
        if (sec && sec->type == JSON_NUMBER)
            s->seconds[i] = sec->u.num;
        const json_value *outs = json_get(e, "outputs");
        if (outs && outs->type != JSON_OBJECT) {
            json_doc_free(&doc);
            return bad_state(d, path, "a stage's outputs are not an object");
        }
        for (size_t k = 0; outs && k < outs->len; k++) {
            const json_value *h = &outs->u.members[k].value;
            const char *name = outs->u.members[k].key;
            if (s->n_out[i] >= COMPRESS_OUTPUTS_MAX || h->type != JSON_STRING ||
                strlen(name) >= COMPRESS_OUTPUT_NAME) {
                json_doc_free(&doc);
                return bad_state(d, path, "a stage's outputs are malformed");
            }
            compress_output *o = &s->out[i][s->n_out[i]++];
            snprintf(o->name, sizeof o->name, "%s", name);
            o->hash = strtoull(h->u.str, NULL, 16);
        }
    }
    field fl[FIELDS_MAX];
    size_t n = fields_build(fl, FIELDS_MAX);
    char *base = (char *)&s->r;
    for (size_t i = 0; i < n && i < FIELDS_MAX; i++) {
        const json_value *v = json_get(res, fl[i].key);
        if (!v)
            continue; /* older state: the field keeps its default */
        void *p = base + fl[i].off;
        switch (fl[i].type) {
        /* Counts are written as integers; any other number (1e300 has no
         * int64 or int value) keeps the default, like a value of another
         * type. */
        case F_I64:
            if (v->type == JSON_NUMBER && v->is_int)
                *(int64_t *)p = v->ival;
            break;
        case F_INT:
            if (v->type == JSON_NUMBER && v->is_int && v->ival >= INT_MIN &&
                v->ival <= INT_MAX)
                *(int *)p = (int)v->ival;
            break;
        case F_F64:
            *(double *)p = v->type == JSON_NUMBER ? v->u.num : NAN;
            break;
        case F_BOOL:
            *(bool *)p = v->type == JSON_TRUE;
            break;
        default:
            if (v->type == JSON_STRING)
                snprintf((char *)p, fl[i].size, "%s", v->u.str);
            break;
        }
    }
    json_doc_free(&doc);
    for (int m = 0; m < 2 + COMPRESS_CONTROLS; m++) {
        const compress_metrics *cm = m == 0   ? &s->r.teacher.metrics
                                     : m == 1 ? &s->r.student.metrics
                                              : &s->r.ctl[m - 2].metrics;
        if (cm->n > COMPRESS_METRICS_MAX || cm->n < 0)
            return bad_state(d, path, "metric count out of range");
        /* the report reads value[main] and name[main] */
        if (cm->n > 0 && (cm->main < 0 || cm->main >= cm->n))
            return bad_state(d, path, "main metric index out of range");
    }
    return IR_OK;
}

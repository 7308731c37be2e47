/* model_api.c — the model.h API of an emitted program on top of the
 * compiled runtime (backend/rt.h) and the weight file reader
 * (backend/emit_weights.h). backend/emit.c pastes this text into model.c
 * after a generated preamble that defines the MODEL_* macros below (the
 * defaults here only keep this file compilable on its own).
 *
 * The weights are mapped, validated against the config the program was
 * built for, handed to rt_model_create (which copies what it needs into
 * oneDNN's layouts) and unmapped again: a loaded model holds no file. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emit_weights.h"
#include "backend/rt.h"

#ifndef MODEL_PRECISION
#define MODEL_PRECISION IR_PRECISION_FP32 /* set by the preamble */
#define MODEL_THREADS 0
#define MODEL_HIDDEN 0          /* 0: accept any config */
#define MODEL_LAYERS 0
#define MODEL_LABELS 0
#define MODEL_TOKEN_TYPES 1
#endif

struct distilc_model {
    rt_model *rt;
    rt_config cfg;
};

static void model_set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* The weight file must describe the model this program was built for: a
 * retrained model of the same shape is fine, another shape is a mistake. */
static int model_check_shape(const rt_config *c, const char *path, char *err,
                             size_t errlen)
{
    if (MODEL_HIDDEN == 0)
        return 0;
    if (c->hidden != MODEL_HIDDEN || c->layers != MODEL_LAYERS ||
        c->labels != MODEL_LABELS) {
        if (err && errlen)
            snprintf(err, errlen,
                     "%s: weights of a model with hidden %lld, %lld layers, "
                     "%lld labels, but this program was built for hidden %d, "
                     "%d layers, %d labels; use the model.weights written "
                     "with it", path, (long long)c->hidden,
                     (long long)c->layers, (long long)c->labels, MODEL_HIDDEN,
                     MODEL_LAYERS, MODEL_LABELS);
        return 2;
    }
    return 0;
}

distilc_model *model_load_checked(const char *weights_path, int threads,
                                  const char *precision, int verify_checksum,
                                  char *err, size_t errlen)
{
    ir_diag d;
    ir_diag_init(&d);
    rt_options o;
    rt_options_default(&o);
    o.precision = MODEL_PRECISION;
    o.threads = threads >= 0 ? threads : MODEL_THREADS;
    if (precision && !ir_precision_parse(precision, &o.precision)) {
        if (err && errlen)
            snprintf(err, errlen, "unknown precision '%s' (fp32, bf16 or int8)",
                     precision);
        return NULL;
    }
    emit_weights_file f;
    if (emit_weights_open(weights_path, verify_checksum != 0, &f, &d) != IR_OK) {
        model_set_err(err, errlen, d.msg);
        return NULL;
    }
    if (model_check_shape(&f.cfg, weights_path, err, errlen) != 0) {
        emit_weights_close(&f);
        return NULL;
    }
    distilc_model *m = calloc(1, sizeof *m);
    if (!m) {
        emit_weights_close(&f);
        model_set_err(err, errlen, "out of memory");
        return NULL;
    }
    m->cfg = f.cfg;
    ir_status s = rt_model_create(&f.cfg, &f.w, &o, &m->rt, &d);
    emit_weights_close(&f);
    if (s != IR_OK) {
        model_set_err(err, errlen, d.msg);
        free(m);
        return NULL;
    }
    return m;
}

distilc_model *model_load_precision(const char *weights_path, int threads,
                                    const char *precision, char *err,
                                    size_t errlen)
{
    return model_load_checked(weights_path, threads, precision, 1, err, errlen);
}

distilc_model *model_load(const char *weights_path, int threads, char *err,
                          size_t errlen)
{
    return model_load_precision(weights_path, threads, NULL, err, errlen);
}

int model_run(distilc_model *m, int64_t batch, int64_t seq,
              const int64_t *ids, const int64_t *mask, const int64_t *types,
              float *logits, char *err, size_t errlen)
{
    ir_diag d;
    ir_diag_init(&d);
    /* A model exported without token_type_ids runs with type 0, as the
     * source model did. rt.h takes token types before the mask. */
    if (!MODEL_TOKEN_TYPES)
        types = NULL;
    ir_status s = rt_model_run(m->rt, batch, seq, ids, types, mask, logits,
                               NULL, &d);
    if (s == IR_OK)
        return 0;
    model_set_err(err, errlen, d.msg);
    return ir_status_exit_code(s);
}

int model_labels(const distilc_model *m) { return (int)m->cfg.labels; }
int model_has_token_types(const distilc_model *m) { return MODEL_TOKEN_TYPES; }
int model_is_regression(const distilc_model *m) { return m->cfg.regression; }
int64_t model_max_seq(const distilc_model *m)
{
    /* RoBERTa's positions start at pad_id + 1: P - pad_id - 1 tokens fit. */
    if (m->cfg.positions == 1) /* rt_config: padded */
        return m->cfg.max_positions - m->cfg.pad_id - 1;
    return m->cfg.max_positions;
}
int64_t model_vocab(const distilc_model *m) { return m->cfg.vocab; }
int64_t model_type_vocab(const distilc_model *m) { return m->cfg.type_vocab; }

void model_free(distilc_model *m)
{
    if (!m)
        return;
    rt_model_free(m->rt);
    free(m);
}

/* teacher.c — the teacher's forward for distillation through the oneDNN
 * runtime (backend/rt.h, its rt_taps give hidden states and scores) or,
 * as the reference and fallback, the trainer's train_forward. See
 * teacher.h. */
#include <stdlib.h>
#include <string.h>

#include "backend/gemm.h"
#include "backend/input64.h"
#include "backend/rt.h"
#include "backend/rt_encoder.h"
#include "distill/model.h"
#include "distill/params.h"
#include "distill/teacher.h"
#include "frontend/tokenizer.h"
#include "ir/input_role.h"
#include "passes/encoder_from_onnx.h"

struct teacher {
    ir_encoder_config cfg;
    teacher_engine used;
    bool want_hidden[IR_ENCODER_MAX_LAYERS + 1];
    bool want_scores[IR_ENCODER_MAX_LAYERS];
    /* runtime engine */
    rt_model *rt;
    int64_t *in64;                     /* [3,cap_bt]: ids, types, mask */
    float *logits;                     /* [cap_b,NL] */
    float *taps_mem;                   /* the wanted taps, one block */
    size_t cap_bt, cap_b, cap_taps;
    /* trainer engine */
    train_params *p;
    gemm_ctx *gemm;
    train_acts *a;                     /* sized for the last (B,T) */
};

const char *teacher_engine_name(teacher_engine e)
{
    switch (e) {
    case TEACHER_ENGINE_AUTO: return "auto";
    case TEACHER_ENGINE_RT: return "onednn";
    case TEACHER_ENGINE_TRAIN: return "trainer";
    default: return "?";
    }
}

/* encoder_open_options.check: records whether the graph has a token types
 * input (token_type_ids or another exporter's name, ir/input_role.h). */
static ir_status note_token_types(const ir_graph *g, void *user, ir_diag *d)
{
    (void)d;
    bool *has = user;
    *has = false;
    *has = ir_graph_input_with_role(g, IR_INPUT_TYPES) >= 0;
    return IR_OK;
}

ir_status teacher_load_onnx_inputs(const char *path, ir_encoder **out,
                                   bool *token_types, ir_diag *d)
{
    bool has = true;
    encoder_open_options o = {.check = note_token_types, .user = &has};
    ir_status st = encoder_from_onnx(path, &o, out, d);
    if (st != IR_OK)
        ir_diag_prefix(d, "teacher '%s'", path);
    if (token_types)
        *token_types = has;
    return st;
}

ir_status teacher_load_onnx(const char *path, ir_encoder **out, ir_diag *d)
{
    return teacher_load_onnx_inputs(path, out, NULL, d);
}

static ir_status make_train_engine(teacher *t, const ir_encoder *e, ir_diag *d)
{
    ir_status st = train_params_from_encoder(e, &t->p, d);
    if (st != IR_OK)
        return st;
    /* The helper picks oneDNN or OpenBLAS per shape; without it the
     * reference loop still gives the same numbers, only slower. */
    ir_diag dg;
    ir_diag_init(&dg);
    if (gemm_ctx_create(GEMM_AUTO, &t->gemm, &dg) == IR_OK)
        t->p->gemm = t->gemm;
    t->used = TEACHER_ENGINE_TRAIN;
    return IR_OK;
}

ir_status teacher_new(const ir_encoder *e, teacher_engine engine,
                      const bool *want_hidden, const bool *want_scores,
                      teacher **out, ir_diag *d)
{
    return teacher_new_prec(e, engine, IR_PRECISION_FP32, want_hidden, want_scores,
                            out, d);
}

ir_status teacher_new_prec(const ir_encoder *e, teacher_engine engine,
                           ir_precision prec, const bool *want_hidden,
                           const bool *want_scores, teacher **out, ir_diag *d)
{
    *out = NULL;
    if ((unsigned)prec > TEACHER_PRECISION_LAST)
        return ir_diag_set(d, IR_ERR_INPUT, "teacher: unknown precision %d",
                           (int)prec);
    if (prec != IR_PRECISION_FP32 && engine == TEACHER_ENGINE_TRAIN)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED, "teacher: precision %s needs "
                           "the oneDNN runtime engine; the trainer engine "
                           "runs fp32 only", ir_precision_name(prec));
    teacher *t = calloc(1, sizeof *t);
    if (!t)
        return ir_diag_set(d, IR_ERR_NOMEM, "teacher: out of memory");
    t->cfg = e->cfg;
    int64_t L = e->cfg.layers;
    for (int64_t l = 0; l <= L; l++)
        t->want_hidden[l] = want_hidden ? want_hidden[l] : true;
    for (int64_t l = 0; l < L; l++)
        t->want_scores[l] = want_scores ? want_scores[l] : true;
    ir_status st = IR_OK;
    if (engine == TEACHER_ENGINE_AUTO || engine == TEACHER_ENGINE_RT) {
        rt_options o;
        rt_options_default(&o);
        o.precision = prec;
        ir_diag drt;
        ir_diag_init(&drt);
        st = rt_model_from_encoder(e, &o, &t->rt, &drt);
        if (st == IR_OK)
            t->used = TEACHER_ENGINE_RT;
        else if (engine == TEACHER_ENGINE_RT || prec != IR_PRECISION_FP32) {
            /* an explicit bf16 must not quietly become the fp32 fallback */
            *d = drt;
            teacher_free(t);
            return ir_diag_prefix(d, "teacher at %s on the oneDNN runtime",
                                  ir_precision_name(prec));
        }
    }
    if (!t->rt) {
        st = make_train_engine(t, e, d);
        if (st != IR_OK) {
            teacher_free(t);
            return ir_diag_prefix(d, "teacher");
        }
    }
    *out = t;
    return IR_OK;
}

void teacher_free(teacher *t)
{
    if (!t)
        return;
    if (t->rt)
        rt_model_free(t->rt);
    free(t->in64);
    free(t->logits);
    free(t->taps_mem);
    train_acts_free(t->a);
    train_params_free(t->p);
    gemm_ctx_free(t->gemm);
    free(t);
}

teacher_engine teacher_engine_used(const teacher *t) { return t->used; }
const ir_encoder_config *teacher_config(const teacher *t) { return &t->cfg; }

static ir_status check_batch(const teacher *t, size_t B, size_t T, ir_diag *d)
{
    if (B == 0 || T == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "teacher: empty batch (B %zu, T %zu)",
                           B, T);
    if ((int64_t)T > t->cfg.max_positions)
        return ir_diag_set(d, IR_ERR_INPUT, "teacher: sequence length %zu is "
                           "more than its %lld positions", T,
                           (long long)t->cfg.max_positions);
    return IR_OK;
}

/* Grows a buffer to n elements of size sz (contents discarded). */
static bool grow(void **buf, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return true;
    void *b = malloc(n * sz);
    if (!b)
        return false;
    free(*buf);
    *buf = b;
    *cap = n;
    return true;
}

static ir_status run_rt(teacher *t, size_t B, size_t T, const int32_t *ids,
                        const int32_t *types, const int32_t *mask,
                        teacher_outputs *out, ir_diag *d)
{
    const ir_encoder_config *c = &t->cfg;
    int64_t L = c->layers;
    size_t BT = B * T, H = (size_t)c->hidden, A = (size_t)c->heads;
    if (!grow((void **)&t->in64, &t->cap_bt, 3 * BT, sizeof(int64_t)))
        return ir_diag_set(d, IR_ERR_NOMEM, "teacher: out of memory");
    int64_t *ids64 = t->in64, *types64 = ids64 + BT, *mask64 = types64 + BT;
    if (!grow((void **)&t->logits, &t->cap_b, B * (size_t)c->labels, sizeof(float)))
        return ir_diag_set(d, IR_ERR_NOMEM, "teacher: out of memory");
    size_t need = 0;
    for (int64_t l = 0; l <= L; l++)
        need += t->want_hidden[l] ? BT * H : 0;
    for (int64_t l = 0; l < L; l++)
        need += t->want_scores[l] ? B * A * T * T : 0;
    if (!grow((void **)&t->taps_mem, &t->cap_taps, need ? need : 1, sizeof(float)))
        return ir_diag_set(d, IR_ERR_NOMEM, "teacher: out of memory (%zu floats "
                           "of hidden states and scores)", need);
    input64_widen(BT, ids, types, mask, ids64, types64, mask64);
    rt_taps taps;
    memset(&taps, 0, sizeof taps);
    memset(out, 0, sizeof *out);
    float *p = t->taps_mem;
    for (int64_t l = 0; l <= L; l++)
        if (t->want_hidden[l]) {
            taps.hidden[l] = p;
            out->hidden[l] = p;
            p += BT * H;
        }
    for (int64_t l = 0; l < L; l++)
        if (t->want_scores[l]) {
            taps.scores[l] = p;
            out->scores[l] = p;
            p += B * A * T * T;
        }
    ir_status st = rt_model_run(t->rt, (int64_t)B, (int64_t)T, ids64,
                                types64, mask64, t->logits, &taps, d);
    if (st != IR_OK)
        return ir_diag_prefix(d, "teacher");
    out->B = B;
    out->T = T;
    out->logits = t->logits;
    return IR_OK;
}

static ir_status run_train(teacher *t, size_t B, size_t T, const int32_t *ids,
                           const int32_t *types, const int32_t *mask,
                           teacher_outputs *out, ir_diag *d)
{
    if (!t->a || t->a->B != B || t->a->T != T) {
        train_acts_free(t->a);
        t->a = NULL;
        ir_status st = train_acts_new(&t->cfg, B, T, &t->a, d);
        if (st != IR_OK)
            return ir_diag_prefix(d, "teacher");
    }
    ir_status st = train_forward(t->p, t->a, ids, types, mask, d);
    if (st != IR_OK)
        return ir_diag_prefix(d, "teacher");
    memset(out, 0, sizeof *out);
    out->B = B;
    out->T = T;
    out->logits = t->a->logits;
    for (int64_t l = 0; l <= t->cfg.layers; l++)
        out->hidden[l] = t->want_hidden[l] ? t->a->hidden[l] : NULL;
    for (int64_t l = 0; l < t->cfg.layers; l++)
        out->scores[l] = t->want_scores[l] ? t->a->scores[l] : NULL;
    return IR_OK;
}

ir_status teacher_run(teacher *t, size_t B, size_t T, const int32_t *ids,
                      const int32_t *types, const int32_t *mask,
                      teacher_outputs *out, ir_diag *d)
{
    ir_status st = check_batch(t, B, T, d);
    if (st != IR_OK)
        return st;
    if (t->rt)
        return run_rt(t, B, T, ids, types, mask, out, d);
    return run_train(t, B, T, ids, types, mask, out, d);
}

static void max_id_of(int64_t id, const char *token, size_t len, void *ctx)
{
    (void)token;
    (void)len;
    int64_t *m = ctx;
    if (id > *m)
        *m = id;
}

ir_status teacher_check_tokenizer(const ir_encoder_config *c,
                                  const tok_tokenizer *tok, ir_diag *d)
{
    int64_t max_id = -1;
    tok_vocab_each(tok, max_id_of, &max_id);
    if (max_id >= c->vocab)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "the tokenizer gives ids up to %lld but the model's "
                           "word embeddings have %lld rows: the vocabulary "
                           "(--vocab / --tokenizer) belongs to another model",
                           (long long)max_id, (long long)c->vocab);
    return IR_OK;
}

int64_t teacher_pad_id(const ir_encoder_config *c, const tok_tokenizer *tok)
{
    return c->positions == IR_ENC_POS_PADDED ? c->pad_id : tok_pad_id(tok);
}

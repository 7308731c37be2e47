/* teacher.h — the teacher's forward for distillation: logits, the hidden
 * states hidden[0..L] (0 = the embeddings' output: after their LayerNorm,
 * and for ELECTRA-small and ALBERT after the projection to H) and the
 * unnormalised attention scores q·kᵀ/sqrt(dh) of every layer, for one
 * batch at a time.
 *
 *     ir_encoder *e;
 *     if (teacher_load_onnx("teacher.onnx", &e, &d) != IR_OK) ...
 *     teacher *t;
 *     teacher_new(e, TEACHER_ENGINE_AUTO, NULL, NULL, &t, &d); // all taps
 *     teacher_outputs o;
 *     teacher_run(t, B, T, ids, types, mask, &o, &d);
 *     ... o.logits [B,NL], o.hidden[l] [B,T,H], o.scores[l] [B,A,T,T] ...
 *     teacher_free(t); ir_encoder_free(e);
 *
 * Two engines give the same numbers (tested to 1e-4): the oneDNN runtime
 * (backend/rt.h with rt_taps; fast, the default) and the trainer's own
 * forward (distill/model.h train_forward on the teacher as train_params;
 * the reference, and the fallback when the runtime cannot take the model).
 * AUTO tries the runtime and falls back silently; teacher_engine_used says
 * which one runs.
 */
#ifndef DISTILC_DISTILL_TEACHER_H
#define DISTILC_DISTILL_TEACHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/encoder.h"
#include "ir/precision.h"

typedef enum teacher_engine {
    TEACHER_ENGINE_AUTO,  /* runtime, else trainer forward */
    TEACHER_ENGINE_RT,    /* backend/rt.h only (error if it cannot) */
    TEACHER_ENGINE_TRAIN, /* distill/model.h train_forward */
    TEACHER_ENGINE_COUNT
} teacher_engine;
const char *teacher_engine_name(teacher_engine e); /* "auto", "onednn", "trainer" */

/* One batch's results, owned by the teacher and valid until its next run.
 * Entries not asked for (want_* at creation) are NULL. */
typedef struct teacher_outputs {
    size_t B, T;
    const float *logits;                            /* [B,NL] */
    const float *hidden[IR_ENCODER_MAX_LAYERS + 1]; /* [B,T,H] */
    const float *scores[IR_ENCODER_MAX_LAYERS];     /* [B,A,T,T] */
} teacher_outputs;

typedef struct teacher teacher;

/* encoder_from_onnx (passes/encoder_from_onnx.h), its message prefixed
 * "teacher 'PATH'". IR_ERR_IO for an unreadable file, IR_ERR_UNSUPPORTED
 * naming where the BERT pattern broke. */
ir_status teacher_load_onnx(const char *path, ir_encoder **out, ir_diag *d);
/* teacher_load_onnx that also says whether the model takes a
 * token_type_ids input (DistilBERT, RoBERTa and XLM-R exports do not): the
 * student's ONNX keeps the teacher's inputs (distill_plan.token_types). */
ir_status teacher_load_onnx_inputs(const char *path, ir_encoder **out,
                                   bool *token_types, ir_diag *d);
/* Every id the tokenizer can give must be a row of the model's word
 * embeddings. A tokenizer of another model would otherwise stop training
 * at the first batch that meets a high id, or, with a smaller vocabulary,
 * train on the wrong rows. IR_ERR_INPUT naming both sizes; checked before
 * any training starts (distill, finetune, compress). */
struct tok_tokenizer;
ir_status teacher_check_tokenizer(const ir_encoder_config *c,
                                  const struct tok_tokenizer *tok, ir_diag *d);
/* The id a batch for model c pads with: with padded positions (RoBERTa,
 * XLM-R) the model's own pad_id, which its positions count against
 * (transformers' create_position_ids_from_input_ids), whatever vocabulary
 * tokenized the text; else the tokenizer's (tok_pad_id). Training data
 * (train_data_set_inputs) and evaluation batches (eval_options.pad_id)
 * take it. */
int64_t teacher_pad_id(const ir_encoder_config *c,
                       const struct tok_tokenizer *tok);

/* want_hidden [L+1] / want_scores [L] say which taps to fill (NULL: all).
 * e is copied: it may be freed afterwards. */
ir_status teacher_new(const ir_encoder *e, teacher_engine engine,
                      const bool *want_hidden, const bool *want_scores,
                      teacher **out, ir_diag *d);
/* Precision of the teacher's matmuls on the oneDNN runtime (ir/precision.h),
 * fp32 or bf16. The teacher only supplies targets, so bf16 (AVX512-BF16:
 * products of bf16-rounded inputs, f32 accumulation, everything else f32)
 * is a fair speed trade; fp32 is the default. */
#define TEACHER_PRECISION_LAST IR_PRECISION_BF16
/* teacher_new with a precision. bf16 needs the runtime: with
 * TEACHER_ENGINE_TRAIN it is IR_ERR_UNSUPPORTED, and AUTO does not fall
 * back to the trainer's fp32 forward (IR_ERR_UNSUPPORTED naming why the
 * runtime refused, e.g. a CPU without AVX512-BF16). */
ir_status teacher_new_prec(const ir_encoder *e, teacher_engine engine,
                           ir_precision prec, const bool *want_hidden,
                           const bool *want_scores, teacher **out, ir_diag *d);
void teacher_free(teacher *t);
teacher_engine teacher_engine_used(const teacher *t);
const ir_encoder_config *teacher_config(const teacher *t);

/* ids, types (NULL: 0) and mask (NULL: no padding) are [B,T] int32 as
 * distill/data.h's batches. IR_ERR_INPUT naming a bad id or length. */
ir_status teacher_run(teacher *t, size_t B, size_t T, const int32_t *ids,
                      const int32_t *types, const int32_t *mask,
                      teacher_outputs *out, ir_diag *d);

#endif

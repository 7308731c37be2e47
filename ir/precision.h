/* precision.h — the precisions a model can compute at: one enum and one
 * name/parse pair for the runtime (backend/rt.h), the trainer's GEMMs
 * (backend/gemm.h), the distillation teacher (distill/teacher.h), the
 * search's constraints (frontend/space_xml.h) and the emitted standalone
 * program (backend/emit embeds this file and ir/precision.c).
 *
 *     ir_precision p = IR_PRECISION_FP32;
 *     if (!ir_precision_parse("bf16", &p)) ...   // unknown name
 *     printf("%s\n", ir_precision_name(p));      // "bf16"
 *
 * A consumer that supports only some (the GEMM helper and the teacher:
 * fp32 and bf16) names its last one (GEMM_PRECISION_LAST) and refuses
 * the others itself. The numbers 0, 1, 2 keep this order (files may store
 * them).
 */
#ifndef DISTILC_IR_PRECISION_H
#define DISTILC_IR_PRECISION_H

#include <stdbool.h>

typedef enum ir_precision {
    IR_PRECISION_FP32,
    IR_PRECISION_BF16, /* matmuls on bf16-rounded inputs, f32 accumulation */
    IR_PRECISION_INT8, /* linears u8 x s8, the rest f32 */
    IR_PRECISION_COUNT
} ir_precision;

const char *ir_precision_name(ir_precision p); /* "fp32", "bf16", "int8"; "?" */
/* Parses the names above; false if unknown or NULL (out untouched). */
bool ir_precision_parse(const char *s, ir_precision *out);

#endif

/* compress_build.c — stages 4 and 5 of `distilc compress`: the student
 * (OUT/student.onnx, read back like any model so the build sees exactly
 * what was written) compiled into the standalone program OUT/bin/model
 * (backend/emit.h) at the setting's precision and threads, and measured the
 * same way the teacher was (compress_measure_model). The program takes the
 * inputs student.onnx takes, which are the teacher's: no token_type_ids
 * for a DistilBERT, RoBERTa or XLM-R teacher. */
#include <string.h>

#include "backend/emit.h"
#include "distill/teacher.h"
#include "pipeline/compress_internal.h"

/* The student as an encoder, with the task's head kind; *types: whether
 * it takes token_type_ids. */
static ir_status load_student(compress_ctx *c, ir_encoder **e, bool *types,
                              ir_diag *d)
{
    const char *path = compress_path(c, "student.onnx");
    ir_status s = teacher_load_onnx_inputs(path, e, types, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "student '%s'", path);
    const glue_task *task = compress_task(c->o);
    (*e)->cfg.head = task->is_regression ? IR_ENC_HEAD_REGRESSION
                                         : IR_ENC_HEAD_CLASSIFICATION;
    return IR_OK;
}

ir_status compress_stage_build(compress_ctx *c, ir_diag *d)
{
    compress_results *r = &c->st->r;
    ir_encoder *e = NULL;
    bool types = true;
    ir_status s = load_student(c, &e, &types, d);
    if (s != IR_OK)
        return s;
    emit_options eo;
    emit_options_default(&eo);
    eo.precision = compress_rt_precision(c);
    eo.threads = (int)c->space.cons.threads;
    eo.compile = true;
    eo.token_types = types;
    eo.command = c->o->command;
    eo.source = "student.onnx";
    emit_result er;
    memset(&er, 0, sizeof er);
    compress_work(c, "build", 0, 1);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", compress_path(c, "bin"));
    s = emit_encoder(e, dir, &eo, &er, d);
    compress_work(c, "build", 1, 1);
    ir_encoder_free(e);
    if (s != IR_OK)
        return s;
    r->program_bytes = er.program_bytes;
    r->weights_bytes = er.weights_bytes;
    return IR_OK;
}

ir_status compress_stage_eval(compress_ctx *c, ir_diag *d)
{
    compress_results *r = &c->st->r;
    ir_encoder *e = NULL;
    bool types = true;
    ir_status s = load_student(c, &e, &types, d);
    if (s != IR_OK)
        return s;
    s = compress_measure_model(c, e, types, "student", &r->student, d);
    r->student.size_bytes = compress_file_size(compress_path(c, "student.onnx"));
    ir_encoder_free(e);
    return s;
}

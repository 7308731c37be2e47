/* compress_internal.h — what the stages of `distilc compress` share inside
 * the library: the stage functions (one file each) and the helpers that
 * measure a model the same way for teacher and student. Not installed. */
#ifndef DISTILC_SEARCH_COMPRESS_INTERNAL_H
#define DISTILC_SEARCH_COMPRESS_INTERNAL_H

#include "backend/rt.h"
#include "frontend/glue.h"
#include "frontend/tokenizer.h"
#include "ir/encoder.h"
#include "search/compress.h"

ir_status compress_stage_lift(compress_ctx *c, ir_diag *d);    /* compress_lift.c */
ir_status compress_stage_search(compress_ctx *c, ir_diag *d);  /* compress_search.c */
ir_status compress_stage_distill(compress_ctx *c, ir_diag *d); /* compress_distill.c */
ir_status compress_stage_build(compress_ctx *c, ir_diag *d);   /* compress_build.c */
ir_status compress_stage_eval(compress_ctx *c, ir_diag *d);    /* compress_build.c */
ir_status compress_stage_report(compress_ctx *c, ir_diag *d);  /* report.c */

/* The runtime precision of the constraints' setting. */
rt_precision compress_rt_precision(const compress_ctx *c);
/* The tokenizer of --vocab (uncased BERT WordPiece). */
ir_status compress_tokenizer(const compress_ctx *c, tok_tokenizer **out,
                             ir_diag *d);
/* Dev metrics of e (oneDNN runtime at the setting's precision and threads,
 * o->dev_limit examples) and its median latency at the setting's batch and
 * sequence length, into m (shape, parameters and metrics; size_bytes is
 * the caller's). label names it in progress and messages. */
ir_status compress_measure_model(compress_ctx *c, const ir_encoder *e,
                                 const char *label, compress_model *m,
                                 ir_diag *d);
/* Size of a file in bytes, -1 when it cannot be stat'ed. */
int64_t compress_file_size(const char *path);
/* Seconds on the monotonic clock. */
double compress_now_s(void);

#endif

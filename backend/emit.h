/* emit.h — emitting a standalone inference program for an encoder: the
 * weights (model.weights, backend/emit_weights.h), a generated model.c and
 * model.h, the runtime sources (embedded in libdistilc, see
 * backend/emit_sources.h) under rt/, a Makefile, and the compiled program.
 *
 *     emit_options o; emit_options_default(&o);
 *     o.precision = IR_PRECISION_BF16; o.command = "distilc build m.onnx -o out";
 *     emit_result r;
 *     if (emit_encoder(enc, "out", &o, &r, &d) != IR_OK) ... d.msg
 *     // out/model reads JSON lines of token ids, prints logits
 *
 * The emitted program needs libc, libm, libdnnl, libopenblas, ICU (the
 * tokenizer.json kinds of its text mode normalise with it), libxxhash (its
 * weights' checksum, backend/emit_weights.c), and libgomp,
 * which oneDNN's OpenMP build and the runtime's thread setting use —
 * nothing of distilc. See backend/standalone/model_main.c for its command
 * line.
 */
#ifndef DISTILC_BACKEND_EMIT_H
#define DISTILC_BACKEND_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/rt.h"
#include "ir/encoder.h"

typedef struct emit_options {
    ir_precision precision; /* the program's default precision */
    int threads;            /* the program's default threads; 0 = all */
    const char *cc;         /* C compiler (may hold arguments: "ccache gcc");
                               NULL: $CC, else "cc" */
    const char *cflags;     /* NULL: "-O2" */
    bool compile;           /* false: write the sources only */
    /* false when the source model has no token_type_ids input: the program
     * then runs with type 0 everywhere, as that model does. */
    bool token_types;
    /* int8 static activation scales [layers * 4] (backend/calibrate.h order),
     * stored in model.weights; NULL: int8 runs with dynamic scales. */
    const float *act_scales;
    /* For the header comment of model.c (may be NULL). */
    const char *command;    /* the command line that made it */
    const char *source;     /* the model file it came from */
} emit_options;
void emit_options_default(emit_options *o);

typedef struct emit_result {
    char program[4096];     /* DIR/model (when compiled) */
    char weights[4096];     /* DIR/model.weights */
    int64_t weights_bytes;
    int64_t program_bytes;  /* 0 when not compiled */
    uint64_t hash;          /* the weight file's checksum (XXH64) */
    int files;              /* source files written */
    double write_seconds, compile_seconds;
} emit_result;

/* Writes everything into dir (created if needed) and compiles DIR/model
 * when o->compile. Errors: IR_ERR_IO naming the folder or file that could
 * not be written; IR_ERR_FAILED "no C compiler ..." when the compiler is
 * not found, or the compiler's failure with the tail of its output (the
 * whole of it is in DIR/build.log). r may be NULL. */
ir_status emit_encoder(const ir_encoder *e, const char *dir,
                       const emit_options *o, emit_result *r, ir_diag *d);

/* The steps on their own (emit_encoder calls them in this order). */
ir_status emit_write_weights(const ir_encoder *e, const char *path,
                             const float *act_scales, uint64_t *hash,
                             ir_diag *d);
ir_status emit_write_sources(const ir_encoder *e, const char *dir,
                             const emit_options *o, uint64_t hash, int *files,
                             ir_diag *d);
/* Runs the compiler on the sources in dir (emit_compile.c): DIR/model,
 * its output in DIR/build.log. */
ir_status emit_compile(const char *dir, const emit_options *o, ir_diag *d);

/* mkdir -p; IR_ERR_IO naming the folder (and checks it is writable). */
ir_status emit_make_dirs(const char *path, ir_diag *d);

#endif

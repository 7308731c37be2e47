/* diag.h — status codes and the diagnostics object every fallible call fills.
 *
 *     ir_diag d; ir_diag_init(&d);
 *     if (onnx_load_file("m.onnx", &g, &d) != IR_OK)
 *         fprintf(stderr, "distilc: %s\n", d.msg);   // only tools/ prints
 *
 * The message names what is at fault (file, line, node, op, option) and,
 * where useful, how to fix it. The status says whose fault it is, which the
 * command line maps to an exit code: IR_ERR_INPUT and IR_ERR_UNSUPPORTED are
 * the user's input (exit 2); IR_ERR_FAILED, IR_ERR_NOMEM and IR_ERR_IO are
 * failures (exit 1).
 */
#ifndef DISTILC_DIAG_H
#define DISTILC_DIAG_H

#include <stdarg.h>
#include <stddef.h>

typedef enum ir_status {
    IR_OK = 0,
    IR_ERR_INPUT,       /* malformed or inconsistent input */
    IR_ERR_UNSUPPORTED, /* valid input we do not handle (op, dtype, opset) */
    IR_ERR_FAILED,      /* could not complete (numeric failure, internal) */
    IR_ERR_NOMEM,
    IR_ERR_IO,          /* file could not be read or written */
    IR_STATUS_COUNT
} ir_status;

#define IR_DIAG_MSG_MAX 4096

typedef struct ir_diag {
    ir_status status;
    char msg[IR_DIAG_MSG_MAX];
} ir_diag;

void ir_diag_init(ir_diag *d);
/* Sets status and message (printf-style); returns status so callers can
 * `return ir_diag_set(d, IR_ERR_INPUT, "...")`. d may be NULL. */
ir_status ir_diag_set(ir_diag *d, ir_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ir_status ir_diag_vset(ir_diag *d, ir_status s, const char *fmt, va_list ap);
/* Prefixes the existing message: "context: old message". */
ir_status ir_diag_prefix(ir_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *ir_status_name(ir_status s);
/* Exit code for the command line: 0 ok, 2 bad input/unsupported, 1 else. */
int ir_status_exit_code(ir_status s);

/* Internal invariant check: reports file:line through the diag and returns
 * IR_ERR_FAILED from the enclosing function. */
#define IR_CHECK(d, cond)                                                     \
    do {                                                                      \
        if (!(cond))                                                          \
            return ir_diag_set((d), IR_ERR_FAILED,                            \
                               "internal error at %s:%d: %s", __FILE__,       \
                               __LINE__, #cond);                              \
    } while (0)

#endif

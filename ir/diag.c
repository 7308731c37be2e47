/* diag.c — status codes and the diagnostics message buffer. */
#include "ir/diag.h"

#include <stdio.h>
#include <string.h>

void ir_diag_init(ir_diag *d)
{
    d->status = IR_OK;
    d->msg[0] = '\0';
}

ir_status ir_diag_vset(ir_diag *d, ir_status s, const char *fmt, va_list ap)
{
    if (!d)
        return s;
    d->status = s;
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    return s;
}

ir_status ir_diag_set(ir_diag *d, ir_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ir_diag_vset(d, s, fmt, ap);
    va_end(ap);
    return s;
}

ir_status ir_diag_prefix(ir_diag *d, const char *fmt, ...)
{
    if (!d)
        return IR_ERR_FAILED;
    char head[1024], old[IR_DIAG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, d->msg, sizeof old);
    snprintf(d->msg, sizeof d->msg, "%s: %s", head, old);
    return d->status;
}

const char *ir_status_name(ir_status s)
{
    static const char *const names[IR_STATUS_COUNT] = {
        [IR_OK] = "ok",
        [IR_ERR_INPUT] = "bad input",
        [IR_ERR_UNSUPPORTED] = "unsupported",
        [IR_ERR_FAILED] = "failed",
        [IR_ERR_NOMEM] = "out of memory",
        [IR_ERR_IO] = "i/o error",
    };
    _Static_assert(sizeof names / sizeof names[0] == IR_STATUS_COUNT,
                   "status name table out of date");
    return (unsigned)s < IR_STATUS_COUNT ? names[s] : "?";
}

int ir_status_exit_code(ir_status s)
{
    switch (s) {
    case IR_OK: return 0;
    case IR_ERR_INPUT:
    case IR_ERR_UNSUPPORTED: return 2;
    default: return 1;
    }
}

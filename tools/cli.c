/* cli.c — option parsing and error printing for the distilc command (see
 * cli.h). Kept deliberately small: no abbreviations, no option bundling, so
 * a typo is always an error rather than a guess. */
#include "tools/cli.h"

#include "frontend/json.h"

#include "ir/ir.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("distilc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_fail(const ir_diag *d)
{
    cli_error("%s", d->msg[0] ? d->msg : ir_status_name(d->status));
    int code = ir_status_exit_code(d->status);
    return code ? code : 1;
}

static const cli_option *find_long(const cli_option *opts, const char *name,
                                   size_t len)
{
    for (const cli_option *o = opts; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static const cli_option *find_short(const cli_option *opts, char c)
{
    for (const cli_option *o = opts; o->name; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

static int store(const char *cmd, const cli_option *o, const char *value)
{
    switch (o->kind) {
    case CLI_FLAG:
        *(bool *)o->dest = true;
        return CLI_OK;
    case CLI_VALUE:
        *(const char **)o->dest = value;
        return CLI_OK;
    case CLI_LIST: {
        cli_list *l = o->dest;
        if (l->n >= CLI_LIST_MAX) {
            cli_error("%s: option --%s given more than %d times", cmd, o->name,
                      CLI_LIST_MAX);
            return CLI_USAGE;
        }
        l->items[l->n++] = value;
        return CLI_OK;
    }
    }
    return CLI_USAGE;
}

int cli_parse(const char *cmd, int argc, char **argv, const cli_option *opts,
              const char **positional, int max_positional, int *n_positional)
{
    int npos = 0;
    bool options_done = false;
    *n_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == '\0') {
            if (npos >= max_positional) {
                cli_error("%s: unexpected argument '%s', see 'distilc %s "
                          "--help'", cmd, a, cmd);
                return CLI_USAGE;
            }
            positional[npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return CLI_HELP;
        const cli_option *o;
        const char *value = NULL;
        char shown[64];
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(opts, name, len);
            snprintf(shown, sizeof shown, "--%.*s", (int)len, name);
            if (!o) {
                cli_error("%s: unknown option '%s', see 'distilc %s --help'",
                          cmd, shown, cmd);
                return CLI_USAGE;
            }
            if (eq) {
                if (o->kind == CLI_FLAG) {
                    cli_error("%s: option %s takes no value", cmd, shown);
                    return CLI_USAGE;
                }
                value = eq + 1;
            }
        } else {
            o = a[2] == '\0' ? find_short(opts, a[1]) : NULL;
            snprintf(shown, sizeof shown, "%s", a);
            if (!o) {
                cli_error("%s: unknown option '%s', see 'distilc %s --help'",
                          cmd, shown, cmd);
                return CLI_USAGE;
            }
        }
        if (o->kind != CLI_FLAG && !value) {
            if (i + 1 >= argc) {
                cli_error("%s: option %s needs a value", cmd, shown);
                return CLI_USAGE;
            }
            value = argv[++i];
        }
        int rc = store(cmd, o, value);
        if (rc != CLI_OK)
            return rc;
    }
    *n_positional = npos;
    return CLI_OK;
}

bool cli_parse_positive(const char *cmd, const char *opt, const char *text,
                        int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0' || v <= 0) {
        cli_error("%s: option --%s expects a positive integer, got '%s'", cmd,
                  opt, text);
        return false;
    }
    *out = (int64_t)v;
    return true;
}

void cli_format_type(const struct ir_value *v, char *buf, size_t n)
{
    size_t used = 0;
#define PUT(...)                                                              \
    do {                                                                      \
        if (used < n)                                                         \
            used += (size_t)snprintf(buf + used, n - used, __VA_ARGS__);      \
    } while (0)
    PUT("%s", v->dtype == IR_DT_UNDEF ? "?" : ir_dtype_name(v->dtype));
    if (v->rank < 0) {
        PUT("[*]");
        return;
    }
    PUT("[");
    for (int i = 0; i < v->rank; i++) {
        if (ir_dim_known(v->dims[i]))
            PUT("%s%" PRId64, i ? "," : "", v->dims[i].size);
        else
            PUT("%s%s", i ? "," : "", v->dims[i].sym ? v->dims[i].sym : "?");
    }
    PUT("]");
#undef PUT
}

void cli_json_string(FILE *f, const char *s)
{
    json_write_string(f, s);
}

bool cli_check_input_file(const char *cmd, const char *what, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        cli_error("%s: %s '%s': %s", cmd, what, path, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        cli_error("%s: %s '%s' is not a regular file", cmd, what, path);
        return false;
    }
    return true;
}

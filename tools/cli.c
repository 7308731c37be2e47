/* cli.c — option parsing and error printing for the distilc command (see
 * cli.h). Kept deliberately small: no abbreviations, no option bundling, so
 * a typo is always an error rather than a guess. */
#include "tools/cli.h"

#include "frontend/json.h"

#include "ir/ir.h"

#include <errno.h>
#include <math.h>
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

/* The entry named name[0..len) (or, with len 0, whose short name is c),
 * looking into included groups too. */
static const cli_option *find_option(const cli_option *opts, const char *name,
                                     size_t len, char c)
{
    for (const cli_option *o = opts; o->name; o++) {
        if (o->kind == CLI_GROUP) {
            const cli_option *in = find_option(o->dest, name, len, c);
            if (in)
                return in;
        } else if (len ? strlen(o->name) == len &&
                             strncmp(o->name, name, len) == 0
                       : o->short_name && o->short_name == c) {
            return o;
        }
    }
    return NULL;
}

/* The entry's own message for a bad value, with "%s" standing for it. */
static void print_bad(const char *cmd, const char *bad, const char *value)
{
    const char *at = strstr(bad, "%s");
    if (at)
        cli_error("%s: %.*s%s%s", cmd, (int)(at - bad), bad, value, at + 2);
    else
        cli_error("%s: %s", cmd, bad);
}

static int store_int(const char *cmd, const cli_option *o, const char *value)
{
    cli_int *t = o->dest;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    bool parsed = !errno && end != value && *end == '\0';
    if (!parsed || v < t->min) {
        if (t->bad)
            print_bad(cmd, t->bad, value);
        else if (t->min == 1)
            cli_error("%s: option --%s expects a positive integer, got '%s'",
                      cmd, o->name, value);
        else
            cli_error("%s: option --%s expects an integer >= %" PRId64
                      ", got '%s'", cmd, o->name, t->min, value);
        return CLI_USAGE;
    }
    if (t->max != 0 && v > t->max) {
        if (t->bad)
            print_bad(cmd, t->bad, value);
        else
            cli_error("%s: option --%s: at most %" PRId64, cmd, o->name,
                      t->max);
        return CLI_USAGE;
    }
    t->value = (int64_t)v;
    return CLI_OK;
}

static int store_float(const char *cmd, const cli_option *o, const char *value)
{
    cli_float *t = o->dest;
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(v) || !(v >= t->min) ||
        (t->max != 0 && !(v <= t->max))) {
        if (t->bad)
            print_bad(cmd, t->bad, value);
        else
            cli_error("%s: option --%s expects a number in [%g, %g], got '%s'",
                      cmd, o->name, t->min, t->max, value);
        return CLI_USAGE;
    }
    t->value = v;
    return CLI_OK;
}

static int store_enum(const char *cmd, const cli_option *o, const char *value)
{
    cli_enum *t = o->dest;
    for (const cli_name *n = t->names; n->name; n++)
        if (strcmp(n->name, value) == 0) {
            t->value = n->value;
            return CLI_OK;
        }
    if (t->bad)
        print_bad(cmd, t->bad, value);
    else
        cli_error("%s: option --%s: unknown value '%s'", cmd, o->name, value);
    return CLI_USAGE;
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
    case CLI_INT:
        return store_int(cmd, o, value);
    case CLI_FLOAT:
        return store_float(cmd, o, value);
    case CLI_ENUM:
        return store_enum(cmd, o, value);
    case CLI_GROUP:
        break;
    }
    return CLI_USAGE;
}

/* One reading of the command line. The first (storing false) finds the
 * options, the positional arguments and "--help", and reports unknown
 * options; only when it finds no "--help" does the second store the
 * values, so a bad value before "--help" does not hide the help. */
static int parse_pass(const char *cmd, int argc, char **argv,
                      const cli_option *opts, bool storing,
                      const char **positional, int max_positional,
                      int *n_positional)
{
    int npos = 0;
    bool options_done = false;
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
            o = len ? find_option(opts, name, len, 0) : NULL;
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
            o = a[2] == '\0' ? find_option(opts, NULL, 0, a[1]) : NULL;
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
        if (storing) {
            int rc = store(cmd, o, value);
            if (rc != CLI_OK)
                return rc;
        }
    }
    *n_positional = npos;
    return CLI_OK;
}

int cli_parse(const char *cmd, int argc, char **argv, const cli_option *opts,
              const char **positional, int max_positional, int *n_positional)
{
    *n_positional = 0;
    int rc = parse_pass(cmd, argc, argv, opts, false, positional,
                        max_positional, n_positional);
    if (rc != CLI_OK)
        return rc;
    return parse_pass(cmd, argc, argv, opts, true, positional, max_positional,
                      n_positional);
}

bool cli_parse_positive(const char *cmd, const char *opt, const char *text,
                        int64_t *out)
{
    cli_int v = {.min = 1};
    cli_option o = {opt, 0, CLI_INT, &v};
    if (store_int(cmd, &o, text) != CLI_OK)
        return false;
    *out = v.value;
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

void cli_command_line(int argc, char **argv, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "distilc");
    for (int i = 0; i < argc && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, " %s", argv[i]);
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

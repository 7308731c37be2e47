/* cli.h — the small option parser every `distilc` subcommand uses, and the
 * helpers for printing errors the same way everywhere.
 *
 *     const char *out = NULL; bool json = false; cli_list inputs = {0};
 *     cli_option opts[] = {
 *         {"output-dir", 0, CLI_VALUE, &out},
 *         {"json", 0, CLI_FLAG, &json},
 *         {"input", 0, CLI_LIST, &inputs},
 *         {NULL, 0, 0, NULL},
 *     };
 *     const char *pos[1]; int npos;
 *     int rc = cli_parse("run", argc, argv, opts, pos, 1, &npos);
 *     if (rc == CLI_HELP) { usage(stdout); return 0; }
 *     if (rc != CLI_OK) return 2;    // the message is already on stderr
 *
 * Long options are accepted as "--name VALUE" and "--name=VALUE"; a short
 * alias (a single letter, e.g. 'o' for -o) takes "-o VALUE". "--" ends the
 * options. A usage error prints "distilc: CMD: <what>, see 'distilc CMD
 * --help'" on stderr naming the option, and the caller exits 2.
 */
#ifndef DISTILC_TOOLS_CLI_H
#define DISTILC_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"

typedef enum cli_kind {
    CLI_FLAG,  /* dest: bool* */
    CLI_VALUE, /* dest: const char ** (last one wins) */
    CLI_LIST,  /* dest: cli_list* (repeatable) */
} cli_kind;

#define CLI_LIST_MAX 64
typedef struct cli_list {
    const char *items[CLI_LIST_MAX];
    size_t n;
} cli_list;

typedef struct cli_option {
    const char *name; /* long name without dashes; NULL ends the table */
    char short_name;  /* 0 if none */
    cli_kind kind;
    void *dest;
} cli_option;

enum { CLI_OK = 0, CLI_HELP = 1, CLI_USAGE = 2 };

/* argv[0] is the subcommand name and is skipped. */
int cli_parse(const char *cmd, int argc, char **argv, const cli_option *opts,
              const char **positional, int max_positional, int *n_positional);

/* Parses a positive integer option value; prints a usage error naming the
 * option and returns false when it is not one. */
bool cli_parse_positive(const char *cmd, const char *opt, const char *text,
                        int64_t *out);

/* A value's type as text: "i64[batch,seq]", "f32[2,?]", "f32[*]" (unknown
 * rank), "?" for an unknown dtype. */
struct ir_value;
void cli_format_type(const struct ir_value *v, char *buf, size_t n);

/* Writes s as a JSON string literal (quotes, escapes). */
#include <stdio.h>
void cli_json_string(FILE *f, const char *s);

/* A file the user named must exist and be a regular file: a missing one is
 * bad input (exit 2), while a read error on an existing file is a failure
 * (exit 1, from the loader's IR_ERR_IO). Prints "distilc: CMD: WHAT 'path':
 * reason" and returns false when it does not fit. */
bool cli_check_input_file(const char *cmd, const char *what, const char *path);

/* "distilc: <msg>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the diag's message and returns the exit code for its status. */
int cli_fail(const ir_diag *d);

#endif

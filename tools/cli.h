/* cli.h — the small option parser every `distilc` subcommand uses, and the
 * helpers for printing errors the same way everywhere.
 *
 *     const char *out = NULL; bool json = false; cli_list inputs = {0};
 *     cli_int runs = {.value = 20, .min = 1, .max = 1000}; // 20 unless given
 *     cli_option opts[] = {
 *         {"output-dir", 0, CLI_VALUE, &out},
 *         {"json", 0, CLI_FLAG, &json},
 *         {"input", 'i', CLI_LIST, &inputs},
 *         {"runs", 0, CLI_INT, &runs},
 *         {"runtime group", 0, CLI_GROUP, rt.options},
 *         {0},
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
 *
 * Typed options (CLI_INT, CLI_FLOAT, CLI_ENUM) point at a cli_int,
 * cli_float or cli_enum: the value and what it accepts. The parser converts
 * and checks the text; a value that does not fit is a usage error, worded
 * by the option's `bad` text when given (each command keeps the words its
 * users and tests know), else by the kind's default. Values are stored only
 * once the whole command line has been read, so "--help" anywhere still
 * wins. A value keeps what the caller put there unless the option is
 * given: its default, or a "not given" mark (0 for a positive count, -1 for
 * an enum) the command tests afterwards.
 *
 * A CLI_GROUP entry includes another table (ended by {0}) as if its entries
 * were written in place: options several commands share (tools/cli_groups.h)
 * are defined once. Its name only documents the table.
 */
#ifndef DISTILC_TOOLS_CLI_H
#define DISTILC_TOOLS_CLI_H

#include <float.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/diag.h"

typedef enum cli_kind {
    CLI_FLAG,  /* dest: bool* */
    CLI_VALUE, /* dest: const char ** (last one wins) */
    CLI_LIST,  /* dest: cli_list* (repeatable) */
    CLI_INT,   /* dest: cli_int* */
    CLI_FLOAT, /* dest: cli_float* */
    CLI_ENUM,  /* dest: cli_enum* */
    CLI_GROUP, /* dest: const cli_option* (a table included here) */
} cli_kind;

#define CLI_LIST_MAX 64
typedef struct cli_list {
    const char *items[CLI_LIST_MAX];
    size_t n;
} cli_list;

/* A typed option's value and what it accepts. `bad` is the usage error
 * for a value that does not fit, after "CMD: ", a "%s" in it standing for
 * the value; NULL gives the kind's default ("option --NAME expects a
 * positive integer, got 'X'", "option --NAME: at most MAX", ...). */
typedef struct cli_int {
    int64_t value;     /* the default until the option is given */
    int64_t min, max;  /* both included; max 0: no upper limit */
    const char *bad;
} cli_int;

typedef struct cli_float {
    double value;      /* a finite number */
    double min, max;   /* both included; max 0: no upper limit */
    const char *bad;
} cli_float;

/* One name of a cli_enum and the value it stores; a NULL name ends the
 * table. */
typedef struct cli_name {
    const char *name;
    int value;
} cli_name;

typedef struct cli_enum {
    int value;
    const cli_name *names;
    const char *bad;
} cli_enum;

/* .min of a cli_float that must be above zero (the smallest double > 0). */
#define CLI_ABOVE_ZERO DBL_TRUE_MIN

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
void cli_json_string(FILE *f, const char *s);

/* "distilc argv[0] argv[1] ...", for the header comment of what a command
 * writes (truncated to n). */
void cli_command_line(int argc, char **argv, char *buf, size_t n);

/* A file the user named must exist and be a regular file: a missing one is
 * bad input (exit 2), while a read error on an existing file is a failure
 * (exit 1, from the loader's IR_ERR_IO). Prints "distilc: CMD: WHAT 'path':
 * reason" and returns false when it does not fit. */
bool cli_check_input_file(const char *cmd, const char *what, const char *path);

/* An output the user named must be writable before any work starts
 * (tools/cli_output.c): a file's folder must exist and take a file; a
 * folder may be missing when its nearest existing parent takes one. Prints
 * "distilc: CMD: OPT: cannot write 'path': why" and returns false (the
 * command exits 2); a NULL path passes. */
bool cli_check_output_file(const char *cmd, const char *opt, const char *path);
bool cli_check_output_dir(const char *cmd, const char *opt, const char *dir);

/* "distilc: <msg>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the diag's message and returns the exit code for its status. */
int cli_fail(const ir_diag *d);

#endif

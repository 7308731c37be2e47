/* main.c — the distilc command: parses the subcommand name and dispatches to
 * one file per subcommand (tools/cmd_*.c). Only tools/ prints or exits; the
 * library reports through ir_diag and the commands map its status to the
 * exit code: 0 ok, 1 failed, 2 bad input or usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/rt_omp_wait.h"
#include "ir/cpu.h"
#include "tools/cli.h"
#include "tools/cmd_eval.h"
#include "tools/cmd_tokenize.h"
#include "tools/cmds.h"

#ifndef DISTILC_VERSION
#define DISTILC_VERSION "0.0.0"
#endif

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"inspect", cmd_inspect, "describe a model: interface, ops, parameters, FLOPs"},
    {"run", cmd_run, "run a model on .pb inputs (reference interpreter or oneDNN)"},
    {"export-onnx", cmd_export_onnx, "rewrite a model with passes and save it as ONNX"},
    {"eval", cmd_eval, "evaluate a classifier on a GLUE task's dev set"},
    {"regress", cmd_regress, "compare two models on GLUE tasks (JUnit XML report)"},
    {"tokenize", cmd_tokenize, "WordPiece-tokenize text lines to token ids (JSON lines)"},
    {"bench", cmd_bench, "time a BERT-style classifier on the oneDNN runtime"},
    {"build", cmd_build, "compile a classifier into a standalone program (oneDNN)"},
    {"finetune", cmd_finetune, "fine-tune a classifier on a GLUE task, write ONNX"},
    {"distill", cmd_distill, "distil a teacher into a smaller student (TinyBERT)"},
    {"search", cmd_search, "search student shapes under latency/size limits (Pareto front)"},
    {"latency-model", cmd_latency_model, "build and validate the latency model against real runs"},
    {"compress", cmd_compress, "teacher to fast student in one run: search, distil, build, report"},
    {"system", cmd_system, "what this machine gives distilc: CPU, instruction sets, kernels"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: distilc COMMAND [OPTIONS]   (distilc COMMAND --help for "
               "its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  --help       this text\n  --version    print the version\n"
               "\nExit status: 0 ok, 1 failure, 2 bad input or usage.\n");
}

int main(int argc, char **argv)
{
    rt_omp_wait_default(argv); /* backend/rt_omp_wait.h: why */
    /* an unknown ISA cap is a usage error of every command, found first */
    ir_diag cap_d;
    ir_diag_init(&cap_d);
    if (cpu_cap_check(&cap_d) != IR_OK)
        return cli_fail(&cap_d);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        cpu_level l = cpu_level_get();
        printf("distilc %s (kernels for %s; 'distilc system' for the machine)\n",
               DISTILC_VERSION, cpu_level_name(l));
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    cli_error("unknown command '%s', see 'distilc --help'", cmd);
    return 2;
}

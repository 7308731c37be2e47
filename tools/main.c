/* main.c — the distilc command: parses the subcommand name and dispatches to
 * one file per subcommand (tools/cmd_*.c). Only tools/ prints or exits; the
 * library reports through ir_diag and the commands map its status to the
 * exit code: 0 ok, 1 failed, 2 bad input or usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/rt_omp_wait.h"
#include "distill/ddp.h"
#include "ir/cpu.h"
#include "ir/dist.h"
#include "tools/cli.h"
#include "tools/cmd_eval.h"
#include "tools/cmd_tokenize.h"
#include "tools/cmds.h"

#ifndef DISTILC_VERSION
#define DISTILC_VERSION "0.0.0"
#endif

/* A command runs as one process (fn) or data parallel under mpirun
 * (dist_fn, given the communicator: ir/dist.h). */
typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
    int (*dist_fn)(int argc, char **argv, ir_dist *dc);
} command;

static const command commands[] = {
    {"inspect", cmd_inspect, "describe a model: interface, ops, parameters, FLOPs", NULL},
    {"run", cmd_run, "run a model on .pb inputs (reference interpreter or oneDNN)", NULL},
    {"export-onnx", cmd_export_onnx, "rewrite a model with passes and save it as ONNX", NULL},
    {"eval", NULL, "evaluate a classifier on a GLUE task's dev set", cmd_eval},
    {"regress", NULL, "compare two models on GLUE tasks (JUnit XML report)", cmd_regress},
    {"tokenize", cmd_tokenize, "WordPiece-tokenize text lines to token ids (JSON lines)", NULL},
    {"bench", cmd_bench, "time a BERT-style classifier on the oneDNN runtime", NULL},
    {"build", cmd_build, "compile a classifier into a standalone program (oneDNN)", NULL},
    {"finetune", NULL, "fine-tune a classifier on a GLUE task, write ONNX", cmd_finetune},
    {"distill", NULL, "distil a teacher into a smaller student (TinyBERT)", cmd_distill},
    {"search", cmd_search, "search student shapes under latency/size limits (Pareto front)", NULL},
    {"latency-model", cmd_latency_model, "build and validate the latency model against real runs", NULL},
    {"compress", NULL, "teacher to fast student in one run: search, distil, build, report", cmd_compress},
    {"system", cmd_system, "what this machine gives distilc: CPU, instruction sets, kernels", NULL},
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

/* Ranks started with different command lines would train different
 * things: refused on every rank before any work, naming one that differs.
 * (The trainer checks the options, data and weights it gets too.) */
static ir_status dist_same_command(ir_dist *dc, int argc, char **argv,
                                   ir_diag *d)
{
    uint64_t h = TRAIN_DDP_FNV_SEED, root;
    for (int i = 1; i < argc; i++)
        h = train_ddp_hash(h, argv[i], strlen(argv[i]) + 1);
    root = h;
    ir_status s = ir_dist_bcast(dc, &root, sizeof root, 0, d);
    int64_t bad = root != h ? ir_dist_rank(dc) : -1;
    if (s == IR_OK)
        s = ir_dist_allreduce_max_i64(dc, &bad, 1, d);
    if (s == IR_OK && bad >= 0)
        s = ir_diag_set(d, IR_ERR_INPUT, "rank %lld was started with another "
                        "command line than rank 0's; every rank of a "
                        "data-parallel run runs the same command",
                        (long long)bad);
    return s;
}

/* Runs one command: under an MPI launcher (ir/dist.h) the data-parallel
 * ones with the communicator, where only rank 0 writes to stdout (the
 * others' reports go to /dev/null; errors still reach stderr from any
 * rank); a non-zero exit aborts the job, since the other ranks may wait in
 * a collective for this one. */
static int run_command(const command *c, int argc, char **argv)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_dist *dc = NULL;
    if (ir_dist_open(&dc, &argc, &argv, &d) != IR_OK) {
        int rc = cli_fail(&d);
        ir_dist_close(dc, rc);
        return rc;
    }
    /* how long a rank waits for the others before it gives up (ir/dist.h;
     * 300 s): DISTILC_MPI_TIMEOUT seconds, 0 waits forever */
    const char *tmo = getenv("DISTILC_MPI_TIMEOUT");
    if (tmo && *tmo)
        ir_dist_set_timeout(dc, strtod(tmo, NULL));
    int rc;
    if (ir_dist_size(dc) > 1 && !c->dist_fn) {
        cli_error("%s does not run data parallel: start it as one process "
                  "(without mpirun, or with -np 1); finetune, distill, "
                  "compress, eval and regress do", c->name);
        rc = 2;
    } else if (ir_dist_size(dc) > 1 &&
               dist_same_command(dc, argc, argv, &d) != IR_OK) {
        rc = cli_fail(&d);
    } else if (ir_dist_rank(dc) != 0 && !freopen("/dev/null", "w", stdout)) {
        cli_error("rank %d: cannot send its stdout to /dev/null",
                  ir_dist_rank(dc));
        rc = 1;
    } else {
        rc = c->dist_fn ? c->dist_fn(argc - 1, argv + 1, dc)
                        : c->fn(argc - 1, argv + 1);
    }
    fflush(stdout);
    ir_dist_close(dc, rc);
    return rc;
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
            return run_command(&commands[i], argc, argv);
    cli_error("unknown command '%s', see 'distilc --help'", cmd);
    return 2;
}

/* cmds.h — the subcommands of `distilc`, one file each; tools/main.c
 * dispatches to them with argv[0] = the subcommand's name. Each returns the
 * process exit status: 0 ok, 1 failed, 2 bad input or usage. */
#ifndef DISTILC_TOOLS_CMDS_H
#define DISTILC_TOOLS_CMDS_H

#include "ir/dist.h"

int cmd_inspect(int argc, char **argv);
int cmd_system(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_export_onnx(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_finetune(int argc, char **argv, ir_dist *dc); /* dc: data parallel */
int cmd_distill(int argc, char **argv, ir_dist *dc); /* dc: data parallel */
int cmd_search(int argc, char **argv);
int cmd_latency_model(int argc, char **argv);
int cmd_compress(int argc, char **argv, ir_dist *dc); /* dc: data parallel */

#endif

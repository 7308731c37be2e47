/* fuse.h — the fusion passes: rewrite subgraphs as exporters write them
 * into distilc's fused ops (domain "ai.distilc", kernels in ir/ops/fused.c).
 *
 *     pass_ctx ctx; pass_ctx_init(&ctx, &d);
 *     pass_run_list(g, "default,fuse", &ctx);   // "fuse" = all, in order
 *
 * or one at a time, with a report of what was fused and what was declined:
 *
 *     fuse_report rep = {0};
 *     fuse_attention_run(g, &ctx, &rep);
 *     printf("%d fused, %d declined: %s\n", rep.fused, rep.declined, rep.notes);
 *
 * Order matters (the "fuse" pipeline): ms-ops first (ONNX Runtime's
 * com.microsoft ops become distilc's, passes/fuse_ms_ops.c), layer-norm and
 * gelu next (they make the ops the later patterns look for), then embed-layer-norm, attention,
 * linear (MatMul+Add+activation), add-layer-norm last (its residual Add
 * would otherwise swallow the embeddings' sum or a Linear's bias).
 * Every fused graph computes the same outputs in the reference interpreter.
 */
#ifndef DISTILC_PASSES_FUSE_H
#define DISTILC_PASSES_FUSE_H

#include "passes/pass.h"

/* What one fusion pass did. notes holds one line per declined match
 * ("node 'n': reason"), truncated when long. */
typedef struct fuse_report {
    int fused;
    int declined;
    char notes[2048];
} fuse_report;

/* The same as data, per pass, for a caller that prints it its own way
 * (`distilc inspect --explain`): set pass_ctx.fuse_log, run the passes,
 * read, then fuse_log_free. Every fusion pass that ran has an entry, in the
 * order they ran, also when it matched nothing. */
typedef struct fuse_declined {
    char *node;        /* the anchor node of the declined match */
    const char *op;    /* its op's name (static) */
    const char *rule;  /* what the pass looked for there: the rule's comment */
    char *why;         /* where the pattern broke, naming the node */
} fuse_declined;

typedef struct fuse_pass_log {
    const char *pass;  /* "fuse-attention" (static) */
    int fused, declined;
    fuse_declined *declines; /* [declined] */
} fuse_pass_log;

typedef struct fuse_log {
    fuse_pass_log *passes;
    int n_passes;
} fuse_log;

void fuse_log_free(fuse_log *log);

#define FUSE_PIPELINE                                                         \
    "fuse-ms-ops,fuse-layer-norm,fuse-gelu,fuse-embed-layer-norm,"            \
    "fuse-attention,fuse-linear,fuse-add-layer-norm"

/* All of them, in FUSE_PIPELINE order (registered as "fuse"). */
ir_status pass_fuse(ir_graph *g, pass_ctx *ctx);
ir_status pass_fuse_ms_ops(ir_graph *g, pass_ctx *ctx);
ir_status pass_fuse_layer_norm(ir_graph *g, pass_ctx *ctx);
ir_status pass_fuse_gelu(ir_graph *g, pass_ctx *ctx);
ir_status pass_fuse_embed_layer_norm(ir_graph *g, pass_ctx *ctx);
ir_status pass_fuse_attention(ir_graph *g, pass_ctx *ctx);
ir_status pass_fuse_linear(ir_graph *g, pass_ctx *ctx);
ir_status pass_fuse_add_layer_norm(ir_graph *g, pass_ctx *ctx);

/* The same, filling a report (may be NULL). */
ir_status fuse_ms_ops_run(ir_graph *g, pass_ctx *ctx, fuse_report *r);
ir_status fuse_layer_norm_run(ir_graph *g, pass_ctx *ctx, fuse_report *r);
ir_status fuse_gelu_run(ir_graph *g, pass_ctx *ctx, fuse_report *r);
ir_status fuse_embed_layer_norm_run(ir_graph *g, pass_ctx *ctx, fuse_report *r);
ir_status fuse_attention_run(ir_graph *g, pass_ctx *ctx, fuse_report *r);
ir_status fuse_linear_run(ir_graph *g, pass_ctx *ctx, fuse_report *r);
ir_status fuse_add_layer_norm_run(ir_graph *g, pass_ctx *ctx, fuse_report *r);

#endif

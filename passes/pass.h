/* pass.h — graph-to-graph passes and the pass manager.
 *
 * A pass is `ir_status pass(ir_graph *, pass_ctx *)`, one file each, and is
 * registered by name in passes/registry.c. Pipelines are explicit lists:
 *
 *     pass_ctx ctx; pass_ctx_init(&ctx, &d);
 *     ctx.dump_after = "fold";           // print the graph after "fold"
 *     pass_run_list(g, "infer-shapes,fold,simplify-shapes,dce", &ctx);
 *
 * In debug builds (or with ctx.verify set) the verifier runs after every
 * pass and a failure names the pass. Passes report through ctx->diag and
 * never print, except the dumps asked for with dump_after.
 */
#ifndef DISTILC_PASSES_PASS_H
#define DISTILC_PASSES_PASS_H

#include "ir/ir.h"

typedef struct pass_ctx {
    ir_diag *diag;
    bool verify;            /* run ir_graph_verify after each pass */
    const char *dump_after; /* comma-separated pass names, or "all" */
    FILE *dump_out;         /* where dumps go (default stdout) */
    /* Names for symbolic dims of inputs with unknown sizes, in order of the
     * input's axes, used by infer-shapes: default "batch", "seq". */
    int64_t fix_batch, fix_seq; /* >0: treat batch/seq as these sizes */
    /* When set, every fusion pass run without its own report adds its
     * fused / declined matches here (passes/fuse.h), so a caller of
     * "default,fuse" can say why a block was not fused. */
    struct fuse_report *fuse_notes;
    /* When set, every fusion pass also records its counts and each declined
     * match as data (passes/fuse.h: fuse_log), for `inspect --explain`. */
    struct fuse_log *fuse_log;
} pass_ctx;

typedef ir_status (*pass_fn)(ir_graph *g, pass_ctx *ctx);

typedef struct pass_info {
    const char *name;
    const char *summary;
    pass_fn fn;
} pass_info;

void pass_ctx_init(pass_ctx *ctx, ir_diag *d);
const pass_info *pass_find(const char *name);
const pass_info *pass_list_all(int *count);
/* Runs comma-separated passes in order; "default" expands to the standard
 * cleanup pipeline "infer-shapes,fold,simplify-shapes,fold,dce". */
ir_status pass_run_list(ir_graph *g, const char *list, pass_ctx *ctx);

/* The passes (one file each). */
ir_status pass_infer_shapes(ir_graph *g, pass_ctx *ctx);
ir_status pass_fold_constants(ir_graph *g, pass_ctx *ctx);
ir_status pass_simplify_shapes(ir_graph *g, pass_ctx *ctx);
ir_status pass_dce(ir_graph *g, pass_ctx *ctx);
/* Rewrites distilc's internal ops (SliceLike, ExpandLike, RangeLike; domain
 * "ai.distilc") back into standard ONNX ops; run before saving a model. */
ir_status pass_lower_internal(ir_graph *g, pass_ctx *ctx);

#endif

/* fuse_pipeline.c — the "fuse" pass: every fusion in the order they depend
 * on each other (FUSE_PIPELINE in passes/fuse.h), each run through the pass
 * manager so the verifier and --dump-after see them one by one. */
#include "passes/fuse.h"

ir_status pass_fuse(ir_graph *g, pass_ctx *ctx)
{
    return pass_run_list(g, FUSE_PIPELINE, ctx);
}

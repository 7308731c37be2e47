/* inspect_explain.c — the --explain part of `distilc inspect`: for each
 * fusion pass of "default,fuse", how many blocks it fused and, for each it
 * declined, the node it was anchored at, what it looked for there and where
 * the pattern broke; then whether the encoder lift takes the fused graph,
 * and if not the layer, node and expectation where it stopped. */
#include "tools/inspect_explain.h"

#include <inttypes.h>

#include "ir/act.h"
#include "tools/cli.h"

static void lift_text(FILE *f, const encoder_explain *ex)
{
    const ir_encoder_config *c = &ex->cfg;
    switch (ex->stage) {
    case ENCODER_EXPLAIN_OK:
        fprintf(f, "encoder lift: ok: %" PRId64 " layers, hidden %" PRId64
                ", %" PRId64 " heads, ffn %" PRId64 ", vocab %" PRId64
                ", %s, positions %s, %s head with %" PRId64 " output%s\n",
                c->layers, c->hidden, c->heads, c->ffn, c->vocab,
                ir_act_name(c->activation), ir_enc_pos_name(c->positions),
                ir_enc_head_name(c->head), c->labels, c->labels == 1 ? "" : "s");
        return;
    case ENCODER_EXPLAIN_LIFT:
        fprintf(f, "encoder lift: refused\n");
        if (ex->lift.layer >= 0)
            fprintf(f, "  layer     %" PRId64 "\n", ex->lift.layer);
        else
            fprintf(f, "  layer     none (embeddings, head, or the graph as a "
                    "whole)\n");
        if (ex->lift.node[0])
            fprintf(f, "  node      '%s' (%s)\n", ex->lift.node,
                    ex->lift.op ? ex->lift.op : "?");
        else
            fprintf(f, "  node      none\n");
        fprintf(f, "  expected  %s\n", ex->lift.expected);
        return;
    case ENCODER_EXPLAIN_LOAD:
    case ENCODER_EXPLAIN_PASSES:
        fprintf(f, "encoder lift: not reached: the %s failed: %s\n",
                ex->stage == ENCODER_EXPLAIN_LOAD ? "ONNX loader" : "passes",
                ex->message);
        return;
    }
}

void inspect_explain_text(FILE *f, const encoder_explain *ex)
{
    fprintf(f, "explain (passes \"%s\", then the encoder lift):\n", ex->passes);
    for (int i = 0; i < ex->fuse.n_passes; i++) {
        const fuse_pass_log *p = &ex->fuse.passes[i];
        fprintf(f, "  %-24s %d fused", p->pass, p->fused);
        if (p->declined)
            fprintf(f, ", %d declined", p->declined);
        fputc('\n', f);
        for (int k = 0; k < p->declined; k++) {
            const fuse_declined *dc = &p->declines[k];
            fprintf(f, "    declined at node '%s' (%s)\n", dc->node, dc->op);
            fprintf(f, "      looked for: %s\n", dc->rule);
            fprintf(f, "      broke:      %s\n", dc->why);
        }
    }
    lift_text(f, ex);
}

static void json_str_or_null(FILE *f, const char *s)
{
    if (s && *s)
        cli_json_string(f, s);
    else
        fputs("null", f);
}

static void lift_json(FILE *f, const encoder_explain *ex)
{
    const ir_encoder_config *c = &ex->cfg;
    bool ok = ex->stage == ENCODER_EXPLAIN_OK;
    fprintf(f, "\"lift\":{\"ok\":%s,\"stage\":", ok ? "true" : "false");
    cli_json_string(f, encoder_explain_stage_name(ex->stage));
    if (ok) {
        fprintf(f, ",\"layers\":%" PRId64 ",\"hidden\":%" PRId64
                ",\"heads\":%" PRId64 ",\"ffn\":%" PRId64 ",\"vocab\":%" PRId64
                ",\"labels\":%" PRId64 ",\"activation\":",
                c->layers, c->hidden, c->heads, c->ffn, c->vocab, c->labels);
        cli_json_string(f, ir_act_name(c->activation));
        fprintf(f, ",\"positions\":");
        cli_json_string(f, ir_enc_pos_name(c->positions));
        fprintf(f, ",\"head\":");
        cli_json_string(f, ir_enc_head_name(c->head));
    } else if (ex->stage == ENCODER_EXPLAIN_LIFT) {
        fprintf(f, ",\"layer\":");
        if (ex->lift.layer >= 0)
            fprintf(f, "%" PRId64, ex->lift.layer);
        else
            fputs("null", f);
        fprintf(f, ",\"node\":");
        json_str_or_null(f, ex->lift.node);
        fprintf(f, ",\"op\":");
        json_str_or_null(f, ex->lift.node[0] ? ex->lift.op : NULL);
        fprintf(f, ",\"expected\":");
        json_str_or_null(f, ex->lift.expected);
    }
    if (!ok) {
        fprintf(f, ",\"message\":");
        cli_json_string(f, ex->message);
    }
    fputc('}', f);
}

void inspect_explain_json(FILE *f, const encoder_explain *ex)
{
    fprintf(f, ",\"explain\":{\"passes\":");
    cli_json_string(f, ex->passes);
    fprintf(f, ",\"fusion\":[");
    for (int i = 0; i < ex->fuse.n_passes; i++) {
        const fuse_pass_log *p = &ex->fuse.passes[i];
        fprintf(f, "%s{\"pass\":", i ? "," : "");
        cli_json_string(f, p->pass);
        fprintf(f, ",\"fused\":%d,\"declined\":%d,\"declines\":[", p->fused,
                p->declined);
        for (int k = 0; k < p->declined; k++) {
            const fuse_declined *dc = &p->declines[k];
            fprintf(f, "%s{\"node\":", k ? "," : "");
            cli_json_string(f, dc->node);
            fprintf(f, ",\"op\":");
            cli_json_string(f, dc->op);
            fprintf(f, ",\"expected\":");
            cli_json_string(f, dc->rule);
            fprintf(f, ",\"why\":");
            cli_json_string(f, dc->why);
            fputc('}', f);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "],");
    lift_json(f, ex);
    fputc('}', f);
}

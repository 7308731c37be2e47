/* eval.c — evaluation of a classifier on a GLUE split (see eval.h).
 *
 * Every example is tokenised once up front into one flat buffer; examples
 * are then ordered by token count, longest first (so the biggest batch —
 * and any out-of-memory — comes at once, and the progress rate only
 * improves), and cut into batches that pad to their own longest example.
 * Padding uses the tokenizer's pad id (tok_pad_id) or the one the options
 * give, attention mask 0 and token type 0, as Hugging Face's tokenizer
 * pads. Results are written
 * back in dataset order, so predictions line up with the file. */
#include "frontend/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ir/clock.h"
#include "ir/input_role.h"
#include "ir/interp.h"

eval_options eval_options_default(void)
{
    eval_options o = {.max_seq = 128, .batch = 32, .pad_id = -1};
    return o;
}

void eval_result_free(eval_result *r)
{
    if (!r)
        return;
    free(r->pred_class);
    free(r->pred_score);
    free(r->logits);
    memset(r, 0, sizeof *r);
}

typedef struct eval_order {
    size_t len, index;
} eval_order;

/* Longest first; equal lengths keep dataset order (qsort is not stable). */
static int order_cmp(const void *pa, const void *pb)
{
    const eval_order *a = pa, *b = pb;
    if (a->len != b->len)
        return a->len > b->len ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* The tokenised dataset: example i owns ids/types[off[i] .. off[i]+len[i]). */
typedef struct eval_tokens {
    int64_t *ids, *types;
    size_t *off, *len;
    size_t n_tok, cap;
} eval_tokens;

static void eval_tokens_free(eval_tokens *t)
{
    free(t->ids);
    free(t->types);
    free(t->off);
    free(t->len);
}

static ir_status tokenize_all(const glue_dataset *ds, const tok_tokenizer *tok,
                              size_t max_seq, eval_tokens *t, ir_diag *d)
{
    size_t n = ds->n;
    t->off = calloc(n ? n : 1, sizeof *t->off);
    t->len = calloc(n ? n : 1, sizeof *t->len);
    if (!t->off || !t->len)
        return ir_diag_set(d, IR_ERR_NOMEM, "eval: out of memory");
    tok_encoding enc = {0};
    ir_status st = IR_OK;
    for (size_t i = 0; i < n; i++) {
        const glue_example *ex = &ds->examples[i];
        st = tok_encode(tok, ex->text_a, ex->text_b, max_seq, 0, &enc, d);
        if (st != IR_OK) {
            ir_diag_prefix(d, "%s:%zu", ds->path, ex->line);
            break;
        }
        if (t->n_tok + enc.len > t->cap) {
            size_t cap = t->cap ? t->cap : 4096;
            while (cap < t->n_tok + enc.len)
                cap *= 2;
            int64_t *ids = realloc(t->ids, cap * sizeof *ids);
            if (ids)
                t->ids = ids;
            int64_t *ty = realloc(t->types, cap * sizeof *ty);
            if (ty)
                t->types = ty;
            if (!ids || !ty) {
                st = ir_diag_set(d, IR_ERR_NOMEM, "eval: out of memory");
                break;
            }
            t->cap = cap;
        }
        memcpy(t->ids + t->n_tok, enc.input_ids, enc.len * sizeof(int64_t));
        memcpy(t->types + t->n_tok, enc.token_type_ids,
               enc.len * sizeof(int64_t));
        t->off[i] = t->n_tok;
        t->len[i] = enc.len;
        t->n_tok += enc.len;
    }
    tok_encoding_free(&enc);
    return st;
}

/* Runs the batches in `order`, filling r->logits in dataset order. */
static ir_status run_batches(const glue_dataset *ds, const eval_tokens *t,
                             const eval_order *order, int64_t pad_id,
                             const eval_options *o, eval_run_fn run,
                             void *run_ctx, eval_result *r, ir_diag *d)
{
    size_t n = ds->n, nl = r->n_labels, bs = o->batch;
    size_t max_len = n ? order[0].len : 0;
    if (max_len == 0)
        max_len = 1;
    int64_t *ids = malloc(bs * max_len * sizeof *ids);
    int64_t *mask = malloc(bs * max_len * sizeof *mask);
    int64_t *types = malloc(bs * max_len * sizeof *types);
    size_t *index = malloc(bs * sizeof *index);
    float *logits = malloc(bs * nl * sizeof *logits);
    ir_status st = IR_OK;
    if (!ids || !mask || !types || !index || !logits)
        st = ir_diag_set(d, IR_ERR_NOMEM, "eval: out of memory");
    int rank = ir_dist_rank(o->dist), ranks = ir_dist_size(o->dist);
    for (size_t start = 0; st == IR_OK && start < n; start += bs) {
        size_t rows = n - start < bs ? n - start : bs;
        if (ranks > 1 && (start / bs) % (size_t)ranks != (size_t)rank)
            continue; /* another rank's batch: its rows stay zero here */
        size_t seq = order[start].len; /* longest first */
        if (seq == 0)
            seq = 1;
        for (size_t b = 0; b < rows; b++) {
            size_t ex = order[start + b].index, len = t->len[ex];
            int64_t *ri = ids + b * seq, *rm = mask + b * seq,
                    *rt = types + b * seq;
            memcpy(ri, t->ids + t->off[ex], len * sizeof *ri);
            memcpy(rt, t->types + t->off[ex], len * sizeof *rt);
            for (size_t k = 0; k < seq; k++) {
                rm[k] = k < len;
                if (k >= len) {
                    ri[k] = pad_id;
                    rt[k] = 0;
                }
            }
            index[b] = ex;
            r->real_tokens += len;
        }
        r->padded_tokens += rows * seq;
        eval_batch batch = {rows, seq, ids, mask, types, index, nl, pad_id};
        for (size_t k = 0; k < rows * nl; k++)
            logits[k] = NAN; /* a runner that writes nothing is caught */
        double t0 = ir_clock_wall_s();
        st = run(run_ctx, &batch, logits, d);
        r->model_seconds += ir_clock_wall_s() - t0;
        if (st != IR_OK) {
            const glue_example *e0 = &ds->examples[index[0]];
            ir_diag_prefix(d, "%s: batch %zu (examples from line %zu, %zu rows "
                           "x %zu tokens)", ds->path, start / bs + 1, e0->line,
                           rows, seq);
            break;
        }
        for (size_t b = 0; b < rows; b++)
            memcpy(r->logits + index[b] * nl, logits + b * nl,
                   nl * sizeof *logits);
        r->n_batches++;
        if (o->progress && rank == 0)
            o->progress(o->progress_ctx, start + rows, n);
    }
    if (st == IR_OK && ranks > 1) {
        /* every rank's rows, and the counts of every rank's batches */
        st = ir_dist_allreduce_f32(o->dist, r->logits, n * nl, d);
        double c[3] = {(double)r->n_batches, (double)r->real_tokens,
                       (double)r->padded_tokens};
        if (st == IR_OK)
            st = ir_dist_allreduce_f64(o->dist, c, 3, d);
        r->n_batches = (size_t)c[0];
        r->real_tokens = (size_t)c[1];
        r->padded_tokens = (size_t)c[2];
        if (o->progress && rank == 0)
            o->progress(o->progress_ctx, n, n);
    }
    free(ids);
    free(mask);
    free(types);
    free(index);
    free(logits);
    return st;
}

static ir_status compute_metrics(const glue_dataset *ds, eval_result *r,
                                 ir_diag *d)
{
    const glue_task *task = ds->task;
    ir_status st;
    if (task->is_regression) {
        double *gold;
        st = glue_dataset_gold_scores(ds, &gold, d);
        if (st != IR_OK)
            return st;
        st = metrics_compute_scores(task->metric, r->pred_score, gold, ds->n,
                                    &r->metrics, d);
        free(gold);
    } else {
        int *gold;
        st = glue_dataset_gold_classes(ds, &gold, d);
        if (st != IR_OK)
            return st;
        st = metrics_compute_classes(task->metric, r->pred_class, gold, ds->n,
                                     task->n_labels, &r->metrics, d);
        free(gold);
    }
    return st;
}

ir_status eval_run(const glue_dataset *ds, const tok_tokenizer *tok,
                   const eval_options *o, eval_run_fn run, void *run_ctx,
                   eval_result *r, ir_diag *d)
{
    memset(r, 0, sizeof *r);
    eval_options dflt = eval_options_default();
    if (!o)
        o = &dflt;
    if (!ds || !ds->task || !tok || !run)
        return ir_diag_set(d, IR_ERR_INPUT, "eval: missing dataset, "
                           "tokenizer or model");
    if (o->batch == 0 || o->max_seq < 2)
        return ir_diag_set(d, IR_ERR_INPUT, "eval: batch must be >= 1 and "
                           "max_seq >= 2 (got %zu and %zu)", o->batch,
                           o->max_seq);
    double t_start = ir_clock_wall_s();
    const glue_task *task = ds->task;
    size_t n = ds->n;
    r->task = task;
    r->split = ds->split;
    r->n_examples = n;
    r->n_labels = task->is_regression ? 1 : (size_t)task->n_labels;
    size_t nl = r->n_labels, n1 = n ? n : 1;
    /* zeroed: split across ranks (o->dist) the others' rows stay 0 here */
    r->logits = calloc(n1 * nl, sizeof *r->logits);
    if (task->is_regression)
        r->pred_score = malloc(n1 * sizeof *r->pred_score);
    else
        r->pred_class = malloc(n1 * sizeof *r->pred_class);
    eval_order *order = malloc(n1 * sizeof *order);
    eval_tokens t = {0};
    ir_status st = IR_OK;
    if (!r->logits || !order || !(r->pred_score || r->pred_class)) {
        st = ir_diag_set(d, IR_ERR_NOMEM, "eval: out of memory");
        goto done;
    }

    st = tokenize_all(ds, tok, o->max_seq, &t, d);
    if (st != IR_OK)
        goto done;
    r->tokenize_seconds = ir_clock_wall_s() - t_start;
    for (size_t i = 0; i < n; i++)
        order[i] = (eval_order){t.len[i], i};
    qsort(order, n, sizeof *order, order_cmp);
    int64_t pad_id = o->pad_id >= 0 ? o->pad_id : tok_pad_id(tok);
    if (o->progress)
        o->progress(o->progress_ctx, 0, n);
    st = run_batches(ds, &t, order, pad_id, o, run, run_ctx, r, d);
    if (st != IR_OK)
        goto done;

    for (size_t i = 0; i < n; i++) {
        const float *l = r->logits + i * nl;
        if (task->is_regression) {
            r->pred_score[i] = l[0];
            continue;
        }
        size_t best = 0;
        for (size_t k = 1; k < nl; k++)
            if (l[k] > l[best])
                best = k;
        r->pred_class[i] = (int)best;
    }
    for (size_t i = 0; i < n * nl; i++) {
        if (isnan(r->logits[i])) {
            const glue_example *e = &ds->examples[i / nl];
            st = ir_diag_set(d, IR_ERR_FAILED, "%s:%zu: the model gave NaN "
                             "logits for this example", ds->path, e->line);
            goto done;
        }
    }
    if (ds->has_labels) {
        st = compute_metrics(ds, r, d);
        if (st != IR_OK)
            goto done;
        r->has_metrics = true;
    }
    r->seconds = ir_clock_wall_s() - t_start;
done:
    free(order);
    eval_tokens_free(&t);
    if (st != IR_OK)
        eval_result_free(r);
    return st;
}

/* ---- the interpreter runner --------------------------------------------- */

ir_status eval_model_init(eval_model *m, ir_graph *g, ir_diag *d)
{
    m->g = g;
    m->in_ids = m->in_mask = m->in_types = -1;
    m->out_logits = -1;
    int idx[IR_INPUT_ROLE_COUNT];
    ir_status s = ir_graph_input_roles(g, "eval", idx, d);
    if (s != IR_OK)
        return s;
    for (int i = 0; i < g->n_inputs; i++) {
        ir_dtype t = g->inputs[i]->dtype;
        if (t != IR_DT_I64 && t != IR_DT_I32 && t != IR_DT_UNDEF)
            return ir_diag_set(d, IR_ERR_INPUT, "model input '%s' is %s; "
                               "eval feeds token ids as i64 or i32",
                               g->inputs[i]->name, ir_dtype_name(t));
    }
    m->in_ids = idx[IR_INPUT_IDS];
    m->in_mask = idx[IR_INPUT_MASK];
    m->in_types = idx[IR_INPUT_TYPES];
    if (g->n_outputs == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "the model has no outputs");
    m->out_logits = 0;
    for (int i = 0; i < g->n_outputs; i++)
        if (strcmp(g->outputs[i]->name, "logits") == 0)
            m->out_logits = i;
    return IR_OK;
}

/* One [rows, seq] input tensor in the graph input's integer dtype, padded
 * with `pad` up to seq columns (seq >= b->seq). */
static ir_tensor *make_input(const ir_value *v, const eval_batch *b,
                             const int64_t *src, size_t seq, int64_t pad)
{
    int64_t dims[2] = {(int64_t)b->rows, (int64_t)seq};
    ir_dtype t = v->dtype == IR_DT_I32 ? IR_DT_I32 : IR_DT_I64;
    ir_tensor *x = ir_tensor_new(t, 2, dims);
    if (!x)
        return NULL;
    for (size_t r = 0; r < b->rows; r++) {
        for (size_t k = 0; k < seq; k++) {
            int64_t val = k < b->seq ? src[r * b->seq + k] : pad;
            if (t == IR_DT_I64)
                ((int64_t *)x->data)[r * seq + k] = val;
            else
                ((int32_t *)x->data)[r * seq + k] = (int32_t)val;
        }
    }
    return x;
}

ir_status eval_model_run(void *ctx, const eval_batch *b, float *logits,
                         ir_diag *d)
{
    eval_model *m = ctx;
    ir_graph *g = m->g;
    ir_tensor **ins = calloc((size_t)g->n_inputs, sizeof *ins);
    if (!ins)
        return ir_diag_set(d, IR_ERR_NOMEM, "eval: out of memory");
    ir_status st = IR_OK;
    for (int i = 0; i < g->n_inputs && st == IR_OK; i++) {
        const ir_value *v = g->inputs[i];
        const int64_t *src = i == m->in_ids    ? b->input_ids
                             : i == m->in_mask ? b->attention_mask
                                               : b->token_type_ids;
        /* A fixed sequence length (a static export): pad up to it. */
        size_t seq = b->seq;
        if (v->rank == 2 && ir_dim_known(v->dims[1])) {
            if ((size_t)v->dims[1].size < b->seq) {
                st = ir_diag_set(d, IR_ERR_INPUT, "model input '%s' has a "
                                 "fixed length of %lld tokens but this batch "
                                 "needs %zu; use --max-seq %lld", v->name,
                                 (long long)v->dims[1].size, b->seq,
                                 (long long)v->dims[1].size);
                break;
            }
            seq = (size_t)v->dims[1].size;
        }
        ins[i] = make_input(v, b, src, seq, i == m->in_ids ? b->pad_id : 0);
        if (!ins[i])
            st = ir_diag_set(d, IR_ERR_NOMEM, "eval: out of memory");
    }
    ir_tensor **outs = NULL;
    if (st == IR_OK)
        st = ir_interp_run(g, (const ir_tensor *const *)ins, &outs, d);
    for (int i = 0; i < g->n_inputs; i++)
        ir_tensor_free(ins[i]);
    free(ins);
    if (st != IR_OK)
        return st;
    const ir_tensor *y = outs[m->out_logits];
    const char *yname = g->outputs[m->out_logits]->name;
    /* [rows, n_labels]; a regression head may also give [rows]. */
    bool ok = y && y->rank >= 1 && y->dims[0] == (int64_t)b->rows &&
              ir_tensor_numel(y) == (int64_t)(b->rows * b->n_labels) &&
              (y->rank == 2 || (y->rank == 1 && b->n_labels == 1));
    if (!ok) {
        char shape[128] = "?";
        if (y) {
            size_t k = 0;
            k += (size_t)snprintf(shape, sizeof shape, "[");
            for (int i = 0; i < y->rank && k < sizeof shape; i++)
                k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%lld",
                                      i ? "," : "", (long long)y->dims[i]);
            if (k < sizeof shape)
                snprintf(shape + k, sizeof shape - k, "]");
        }
        st = ir_diag_set(d, IR_ERR_INPUT, "model output '%s' has shape %s, "
                         "expected [%zu,%zu] (batch, labels of the task)",
                         yname, shape, b->rows, b->n_labels);
    } else {
        for (size_t i = 0; i < b->rows * b->n_labels; i++)
            logits[i] = (float)ir_tensor_get_f64(y, (int64_t)i);
    }
    ir_interp_free_outputs(g, outs);
    return st;
}

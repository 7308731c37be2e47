/* trainer.c — the training loop of trainer.h: seeded batches, a pluggable
 * loss, backward, clipping, AdamW on a linear schedule, dev evaluation with
 * keep-best, atomic checkpoints and exact resume, NaN/Inf stops; plus the
 * plain fine-tuning loss and the ready-made dev evaluator. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "distill/checkpoint.h"
#include "distill/ddp.h"
#include "distill/losses.h"
#include "distill/plot_svg.h"
#include "distill/schedule.h"
#include "distill/trainer.h"
#include "ir/clock.h"

void train_loop_options_default(train_loop_options *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 32;
    o->epochs = 3;
    o->lr = 5e-5f;
    o->warmup = 0.1f;
    o->weight_decay = 0.01f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->grad_clip = 1.0f;
    o->seed = 42;
    o->keep_best = true;
    o->what = "train";
}

void train_result_free(train_result *r)
{
    if (!r)
        return;
    free(r->hist);
    free(r->dev);
    r->hist = NULL;
    r->dev = NULL;
    r->n_hist = r->n_dev = 0;
}

/* ---- the plain fine-tuning loss ---------------------------------------- */

ir_status train_loss_finetune(void *user, const train_params *p,
                              train_acts *a, train_acts *da,
                              const train_batch *b, train_loss_parts *out,
                              ir_diag *d)
{
    (void)user;
    size_t B = b->B, NL = (size_t)p->cfg.labels;
    ir_status s = train_forward(p, a, b->ids, b->types, b->mask, d);
    if (s != IR_OK)
        return s;
    /* a data-parallel share is weighted by its part of the global batch
     * (exactly 1 for a whole batch), so the ranks' sums are the mean over
     * the global batch */
    double share = train_batch_share_get(b).rows, loss;
    if (p->cfg.head == IR_ENC_HEAD_REGRESSION) {
        if (!b->targets || NL != 1)
            return ir_diag_set(d, IR_ERR_INPUT, "fine-tuning a regression head "
                               "needs float targets and 1 output (has %zu)", NL);
        loss = train_mse_forward(a->logits, b->targets, B);
        train_mse_backward(da->logits, a->logits, b->targets, B,
                           (float)share);
    } else {
        if (!b->labels)
            return ir_diag_set(d, IR_ERR_INPUT, "fine-tuning a classifier needs "
                               "labels; the data has none (a corpus?)");
        float *probs = malloc(B * NL * sizeof *probs);
        if (!probs)
            return ir_diag_set(d, IR_ERR_NOMEM, "fine-tuning loss: out of memory");
        s = train_ce_forward(&loss, probs, a->logits, b->labels, B, NL, d);
        if (s == IR_OK)
            train_ce_backward(da->logits, probs, b->labels, B, NL,
                              (float)share);
        free(probs);
        if (s != IR_OK)
            return s;
    }
    memset(out, 0, sizeof *out);
    out->total = out->pred = (float)(loss * share);
    return IR_OK;
}

/* ---- the dev evaluator ------------------------------------------------- */

/* Sorts indices by length (ties by index) so batches pad little; qsort has
 * no context argument, so the lengths ride along in pairs. */
typedef struct len_idx { uint32_t len; size_t i; } len_idx;
static int cmp_len_idx(const void *x, const void *y)
{
    const len_idx *a = x, *b = y;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

ir_status train_dev_eval(void *user, const train_params *p, double *metric,
                         ir_diag *d)
{
    train_dev_set *ds = user;
    const train_data *td = ds->data;
    size_t bs = ds->batch ? ds->batch : 64, n = td->n;
    bool regression = p->cfg.head == IR_ENC_HEAD_REGRESSION;
    size_t NL = (size_t)p->cfg.labels;
    *metric = NAN;
    if (!td->labels && !td->targets)
        return ir_diag_set(d, IR_ERR_INPUT, "dev evaluation: the dev data has no labels");
    len_idx *order = malloc(n * sizeof *order);
    size_t *idx = malloc(bs * sizeof *idx);
    int *pred = malloc(n * sizeof *pred), *gold = malloc(n * sizeof *gold);
    double *sp = malloc(n * sizeof *sp), *sg = malloc(n * sizeof *sg);
    ir_status s = IR_OK;
    if (!order || !idx || !pred || !gold || !sp || !sg)
        s = ir_diag_set(d, IR_ERR_NOMEM, "dev evaluation: out of memory");
    for (size_t i = 0; s == IR_OK && i < n; i++)
        order[i] = (len_idx){td->len[i], i};
    if (s == IR_OK)
        qsort(order, n, sizeof *order, cmp_len_idx);
    train_batch_buf buf = {0};
    train_acts *a = NULL;
    double loss_sum = 0;
    ds->last_loss = NAN;
    for (size_t at = 0; s == IR_OK && at < n; at += bs) {
        size_t B = n - at < bs ? n - at : bs;
        for (size_t k = 0; k < B; k++)
            idx[k] = order[at + k].i;
        train_batch b;
        s = train_data_batch(td, idx, B, &buf, &b, d);
        if (s != IR_OK)
            break;
        if (!a || a->B != B || a->T != b.T) {
            train_acts_free(a);
            a = NULL;
            s = train_acts_new(&p->cfg, B, b.T, &a, d);
            if (s != IR_OK)
                break;
        }
        s = train_forward(p, a, b.ids, b.types, b.mask, d);
        for (size_t k = 0; s == IR_OK && k < B; k++) {
            size_t r = idx[k];
            const float *z = a->logits + k * NL;
            if (regression) {
                sp[r] = z[0];
                sg[r] = td->targets[r];
                loss_sum += (sp[r] - sg[r]) * (sp[r] - sg[r]);
            } else {
                size_t best = 0;
                for (size_t c = 1; c < NL; c++)
                    if (z[c] > z[best])
                        best = c;
                pred[r] = (int)best;
                gold[r] = td->labels[r];
                /* -log softmax(z)[gold], shifted by the largest logit */
                double e = 0;
                for (size_t c = 0; c < NL; c++)
                    e += exp((double)z[c] - z[best]);
                if (gold[r] >= 0 && (size_t)gold[r] < NL)
                    loss_sum += log(e) - ((double)z[gold[r]] - z[best]);
            }
        }
    }
    train_acts_free(a);
    train_batch_buf_free(&buf);
    if (s == IR_OK) {
        s = regression ? metrics_compute_scores(ds->kind, sp, sg, n, &ds->last, d)
                       : metrics_compute_classes(ds->kind, pred, gold, n, (int)NL,
                                                 &ds->last, d);
        if (s == IR_OK) {
            *metric = ds->last.v[ds->last.main].value;
            ds->last_loss = n ? loss_sum / (double)n : NAN;
        }
    }
    free(order);
    free(idx);
    free(pred);
    free(gold);
    free(sp);
    free(sg);
    return s;
}

/* ---- activations, one pair per batch shape ------------------------------
 * Batches vary in T (dynamic padding) and the last one in B; each shape
 * gets its own activations, kept for reuse, least recently used evicted. */
enum { ACTS_SLOTS = 6 };
typedef struct acts_slot {
    train_acts *a, *da;
    uint64_t used;
} acts_slot;
typedef struct acts_cache {
    acts_slot slot[ACTS_SLOTS];
    uint64_t clock;
} acts_cache;

static ir_status acts_get(acts_cache *c, const ir_encoder_config *cfg, size_t B,
                          size_t T, acts_slot **out, ir_diag *d)
{
    acts_slot *victim = &c->slot[0];
    for (int i = 0; i < ACTS_SLOTS; i++) {
        acts_slot *s = &c->slot[i];
        if (s->a && s->a->B == B && s->a->T == T) {
            s->used = ++c->clock;
            *out = s;
            return IR_OK;
        }
        if (!s->a || s->used < victim->used)
            victim = s;
        if (!s->a)
            break;
    }
    train_acts_free(victim->a);
    train_acts_free(victim->da);
    victim->a = victim->da = NULL;
    ir_status st = train_acts_new(cfg, B, T, &victim->a, d);
    if (st == IR_OK)
        st = train_acts_new(cfg, B, T, &victim->da, d);
    if (st != IR_OK) {
        train_acts_free(victim->a);
        victim->a = NULL;
        return st;
    }
    victim->used = ++c->clock;
    *out = victim;
    return IR_OK;
}

static void acts_cache_free(acts_cache *c)
{
    for (int i = 0; i < ACTS_SLOTS; i++) {
        train_acts_free(c->slot[i].a);
        train_acts_free(c->slot[i].da);
    }
}

/* ---- the loop ------------------------------------------------------------ */

/* The state the loop carries between steps (checkpointed). */
typedef struct loop_state {
    train_ckpt_state ck;
    float *best;             /* [p->n + extra n] best-on-dev params, or NULL */
    bool have_best;
} loop_state;

static ir_status options_check(const train_params *p, const train_data *td,
                               const train_loop_options *o, ir_diag *d)
{
    if (o->batch == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "option batch: must be >= 1");
    if (o->steps < 0 || (o->steps == 0 && o->epochs <= 0))
        return ir_diag_set(d, IR_ERR_INPUT, "options epochs/steps: give epochs >= 1 "
                           "or steps >= 1");
    if (!(o->lr > 0) || !isfinite(o->lr))
        return ir_diag_set(d, IR_ERR_INPUT, "option lr = %g: must be > 0", (double)o->lr);
    if (!(o->warmup >= 0 && o->warmup < 1))
        return ir_diag_set(d, IR_ERR_INPUT, "option warmup = %g: a fraction in [0, 1)",
                           (double)o->warmup);
    if (o->max_seq && o->max_seq > td->T)
        return ir_diag_set(d, IR_ERR_INPUT, "option max_seq = %zu exceeds the data's "
                           "row width %zu", o->max_seq, td->T);
    if (td->n == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "training data is empty");
    if ((int64_t)td->T > p->cfg.max_positions)
        return ir_diag_set(d, IR_ERR_INPUT, "sequence length %zu exceeds the model's "
                           "max_positions %lld", td->T, (long long)p->cfg.max_positions);
    if (o->resume && !o->ckpt_dir)
        return ir_diag_set(d, IR_ERR_INPUT, "option resume needs a checkpoint folder "
                           "(ckpt_dir)");
    if (o->eval_every < 0 || o->ckpt_every < 0)
        return ir_diag_set(d, IR_ERR_INPUT, "options eval_every/ckpt_every must be >= 0");
    return IR_OK;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, name);
    return s;
}

/* Blocks of the squared-norm sum: a fixed split summed in order, so the
 * norm (and the clipping it drives) is the same on any thread count. */
enum { GRAD_NORM_BLOCKS = 64 };

/* Sum of squares of g[0..n) in double, over all threads: a serial pass
 * over a student's ~14 M gradients took ~12 ms a step. */
static double sum_squares(const float *g, size_t n)
{
    double part[GRAD_NORM_BLOCKS];
    size_t per = (n + GRAD_NORM_BLOCKS - 1) / GRAD_NORM_BLOCKS;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t k = 0; k < GRAD_NORM_BLOCKS; k++) {
        double acc = 0;
        size_t end = (k + 1) * per < n ? (k + 1) * per : n;
#pragma omp simd reduction(+ : acc)
        for (size_t i = k * per; i < end; i++)
            acc += (double)g[i] * g[i];
        part[k] = acc;
    }
    double s = 0;
    for (size_t k = 0; k < GRAD_NORM_BLOCKS; k++)
        s += part[k];
    return s;
}

/* Global L2 norm of all gradients (params and extra), in double. */
double train_grad_norm(const train_params *p, const train_extra *x)
{
    double s = sum_squares(p->grads, p->n);
    if (x)
        s += sum_squares(x->grads, x->n);
    return sqrt(s);
}

/* Names the first tensor holding a non-finite gradient. */
static const char *grad_bad_tensor(const train_params *p, const train_extra *x)
{
    for (size_t t = 0; t < p->n_tensors; t++) {
        const float *g = p->grads + p->tensors[t].offset;
        for (size_t k = 0; k < p->tensors[t].numel; k++)
            if (!isfinite(g[k]))
                return p->tensors[t].name;
    }
    if (x)
        for (size_t i = 0; i < x->n; i++)
            if (!isfinite(x->grads[i]))
                return "extra parameters (distillation projections)";
    return "?";
}

/* torch.nn.utils.clip_grad_norm_: scale by max / (norm + 1e-6) if < 1. */
void train_grad_clip(train_params *p, train_extra *x, double norm, float max)
{
    if (!(max > 0))
        return;
    float coef = (float)((double)max / (norm + 1e-6));
    if (coef >= 1.0f)
        return;
    for (size_t i = 0; i < p->n; i++)
        p->grads[i] *= coef;
    if (x)
        for (size_t i = 0; i < x->n; i++)
            x->grads[i] *= coef;
}

/* AdamW on the extra block, the same arithmetic as train_adamw_update
 * without weight decay. */
void train_extra_adamw(train_extra *x, const train_adamw *o, int64_t step)
{
    double bc1 = 1.0 - pow(o->beta1, (double)step);
    double bc2 = 1.0 - pow(o->beta2, (double)step);
    for (size_t k = 0; k < x->n; k++) {
        float g = x->grads[k];
        x->m[k] = o->beta1 * x->m[k] + (1.0f - o->beta1) * g;
        x->v[k] = o->beta2 * x->v[k] + (1.0f - o->beta2) * g * g;
        double mhat = x->m[k] / bc1, vhat = x->v[k] / bc2;
        x->params[k] -= (float)(o->lr * mhat / (sqrt(vhat) + o->eps));
    }
}

static void best_save(loop_state *ls, const train_params *p, const train_extra *x)
{
    if (!ls->best)
        return;
    memcpy(ls->best, p->params, p->n * sizeof(float));
    if (x && x->n)
        memcpy(ls->best + p->n, x->params, x->n * sizeof(float));
    ls->have_best = true;
}

static ir_status ckpt_write(const train_loop_options *o, const char *name,
                            const train_params *p, const train_extra *x,
                            const train_ckpt_state *ck, ir_diag *d)
{
    char *path = path_join(o->ckpt_dir, name);
    if (!path)
        return ir_diag_set(d, IR_ERR_NOMEM, "checkpoint: out of memory");
    ir_status s = IR_OK;
    /* rank 0 writes; every rank learns how it went */
    if (ir_dist_rank(o->dist) == 0)
        s = train_ckpt_save(path, p, x, ck, d);
    ir_dist_bcast_status(o->dist, &s, 0, d);
    if (s == IR_OK && o->progress && ir_dist_rank(o->dist) == 0) {
        train_status st = {.event = TRAIN_EVENT_CKPT, .step = ck->step,
                           .total_steps = ck->total_steps, .dev = NAN,
                           .best_dev = ck->best_dev, .ckpt_path = path};
        o->progress(o->progress_user, &st);
    }
    free(path);
    return s;
}

/* Resumes from ckpt_dir/last.ckpt; restores the best-on-dev copy from
 * best.ckpt when one was recorded. */
static ir_status resume_load(const train_loop_options *o, train_params *p,
                             train_extra *x, loop_state *ls, ir_diag *d)
{
    char *path = path_join(o->ckpt_dir, "last.ckpt");
    if (!path)
        return ir_diag_set(d, IR_ERR_NOMEM, "checkpoint: out of memory");
    struct stat sb;
    ir_status s;
    /* what this run would record, to compare with what the file did */
    train_ckpt_state want = ls->ck, saved;
    if (stat(path, &sb) != 0)
        s = ir_diag_set(d, IR_ERR_INPUT, "resume: no checkpoint %s (run once "
                        "without --resume to create it)", path);
    else
        s = train_ckpt_peek(path, &saved, d);
    /* options first, so a changed option is named rather than met as a
     * config or size mismatch */
    if (s == IR_OK)
        s = train_ckpt_match(path, &saved, &want, d);
    if (s == IR_OK)
        s = train_ckpt_load(path, p, x, &ls->ck, d);
    if (s == IR_OK && saved.file_version < 3) {
        /* an older file: record this run's options from now on */
        ls->ck.lr = want.lr;
        ls->ck.warmup = want.warmup;
        ls->ck.weight_decay = want.weight_decay;
        ls->ck.grad_clip = want.grad_clip;
        ls->ck.batch = want.batch;
        ls->ck.seq = want.seq;
        ls->ck.data_hash = want.data_hash;
        ls->ck.loss_hash = want.loss_hash;
    }
    free(path);
    if (s != IR_OK || !ls->best || isnan(ls->ck.best_dev))
        return s;
    /* the best weights live in best.ckpt; load them through a scratch copy */
    path = path_join(o->ckpt_dir, "best.ckpt");
    train_params *tmp = NULL;
    if (!path)
        return ir_diag_set(d, IR_ERR_NOMEM, "checkpoint: out of memory");
    if (stat(path, &sb) == 0 && train_params_new(&p->cfg, &tmp, d) == IR_OK) {
        size_t nx = x ? x->n : 0;
        float *xb = calloc(4 * nx + 1, sizeof(float));
        train_extra tx = {xb, xb + nx, xb + 2 * nx, xb + 3 * nx, nx};
        train_ckpt_state bst;
        if (xb && train_ckpt_load(path, tmp, x ? &tx : NULL, &bst, d) == IR_OK) {
            memcpy(ls->best, tmp->params, p->n * sizeof(float));
            if (nx)
                memcpy(ls->best + p->n, xb, nx * sizeof(float));
            ls->have_best = true;
        }
        free(xb);
    }
    train_params_free(tmp);
    free(path);
    ir_diag_init(d); /* a missing best copy only weakens keep-best */
    return IR_OK;
}

static ir_status hist_push(train_result *r, size_t *cap, train_point pt, ir_diag *d)
{
    if (r->n_hist == *cap) {
        size_t nc = *cap ? 2 * *cap : 256;
        train_point *nh = realloc(r->hist, nc * sizeof *nh);
        if (!nh)
            return ir_diag_set(d, IR_ERR_NOMEM, "training history: out of memory");
        r->hist = nh;
        *cap = nc;
    }
    r->hist[r->n_hist++] = pt;
    return IR_OK;
}

static ir_status dev_push(train_result *r, train_dev_point pt, ir_diag *d)
{
    train_dev_point *nd = realloc(r->dev, (r->n_dev + 1) * sizeof *nd);
    if (!nd)
        return ir_diag_set(d, IR_ERR_NOMEM, "training history: out of memory");
    r->dev = nd;
    r->dev[r->n_dev++] = pt;
    return IR_OK;
}

/* Cuts a gathered batch to T columns in place (rows move down; the new
 * offset of every row is at most its old one, so a forward copy is safe). */
static void batch_cut(train_batch_buf *buf, train_batch *b, size_t T)
{
    for (size_t r = 0; r < b->B; r++) {
        memmove(buf->ids + r * T, buf->ids + r * b->T, T * sizeof(int32_t));
        memmove(buf->types + r * T, buf->types + r * b->T, T * sizeof(int32_t));
        memmove(buf->mask + r * T, buf->mask + r * b->T, T * sizeof(int32_t));
    }
    b->T = T;
}

static const char *loss_bad_part(const train_loss_parts *l)
{
    if (!isfinite(l->pred)) return "prediction loss";
    if (!isfinite(l->emb)) return "embedding loss";
    if (!isfinite(l->hidden)) return "hidden-state loss";
    if (!isfinite(l->attn)) return "attention loss";
    return "total loss";
}

/* What the steps of one train_loop_run share. */
typedef struct loop_run {
    train_params *p;
    const train_data *train;
    const train_loop_options *o;
    train_loss_fn loss;
    void *user;
    train_result *r;
    const char *what;
    size_t B;
    int64_t per_epoch, total;
    train_schedule sched;
    train_adamw opt;
    train_extra *x;       /* NULL when there are no extra parameters */
    loop_state ls;
    size_t *perm;         /* the current epoch's example order */
    int64_t perm_epoch;
    acts_cache cache;
    train_batch_buf buf;
    train_ddp ddp;        /* the step's gradient sum across ranks */
    int rank, ranks;
    size_t hist_cap;
    double t0, first_s;   /* wall clock at the start, after the first step */
    size_t first_tokens;
    double seconds0;      /* training seconds before this run (resumed) */
    double teacher_at_start; /* o->teacher_seconds at this run's start */
    size_t tokens0;       /* tokens before this run */
} loop_run;

/* The options that set a run's result, hashed for train_ddp_fingerprint
 * (not the paths or callbacks, which may differ between ranks). */
static uint64_t options_hash(const train_loop_options *o)
{
    uint64_t h = TRAIN_DDP_FNV_SEED;
#define H(field) h = train_ddp_hash(h, &o->field, sizeof o->field)
    H(batch); H(max_seq); H(epochs); H(steps); H(lr); H(warmup);
    H(weight_decay); H(beta1); H(beta2); H(eps); H(grad_clip); H(seed);
    H(eval_every); H(ckpt_every); H(resume); H(keep_best); H(stop_at);
    H(loss_hash); H(dist_bucket); H(bucket_pool);
#undef H
    const char *names[2] = {o->gemm_precision ? o->gemm_precision : "fp32",
                            o->teacher_precision ? o->teacher_precision : "fp32"};
    for (int i = 0; i < 2; i++)
        h = train_ddp_hash(h, names[i], strlen(names[i]) + 1);
    uint8_t flags[3] = {o->ckpt_dir != NULL, o->eval != NULL,
                        o->extra != NULL && o->extra->n > 0};
    return train_ddp_hash(h, flags, sizeof flags);
}

/* After rank 0 read the checkpoint: its status, then the whole loop state
 * (weights, moments, extra block, position, best-on-dev copy), to every
 * rank. */
static ir_status resume_share(loop_run *lr, ir_status s, ir_diag *d)
{
    ir_dist *dc = lr->o->dist;
    if (ir_dist_size(dc) == 1)
        return s;
    ir_status bs = ir_dist_bcast_status(dc, &s, 0, d);
    if (bs != IR_OK || s != IR_OK)
        return s;
    train_params *p = lr->p;
    train_extra *x = lr->x;
    size_t nx = x ? x->n : 0;
    float *blocks[6] = {p->params, p->m, p->v, x ? x->params : NULL,
                        x ? x->m : NULL, x ? x->v : NULL};
    for (int i = 0; i < 6 && s == IR_OK; i++)
        if (blocks[i])
            s = ir_dist_bcast(dc, blocks[i], (i < 3 ? p->n : nx) * sizeof(float),
                              0, d);
    if (s == IR_OK)
        s = ir_dist_bcast(dc, &lr->ls.ck, sizeof lr->ls.ck, 0, d);
    if (s == IR_OK)
        s = ir_dist_bcast(dc, &lr->ls.have_best, sizeof lr->ls.have_best, 0, d);
    if (s == IR_OK && lr->ls.have_best && lr->ls.best)
        s = ir_dist_bcast(dc, lr->ls.best, (p->n + nx) * sizeof(float), 0, d);
    return s;
}

/* What a checkpoint records of the data: the examples' hash, and with
 * length buckets the pool too (the order depends on it), mixed in so a
 * run without buckets keeps the hash checkpoints before them recorded. */
static uint64_t order_hash(const train_data *td, const train_loop_options *o)
{
    uint64_t h = train_data_hash(td);
    if (o->bucket_pool)
        h = (h ^ (0x6275636b6574ULL /* "bucket" */ + o->bucket_pool)) *
            0x100000001b3ULL;
    return h;
}

/* Sets up the run: options, schedule, buffers, checkpoint folder, resume. */
static ir_status loop_begin(loop_run *lr, ir_diag *d)
{
    const train_loop_options *o = lr->o;
    train_params *p = lr->p;
    train_result *r = lr->r;
    memset(r, 0, sizeof *r);
    r->best_dev = r->last_dev = r->steady_tokens_per_s = NAN;
    ir_status s = options_check(p, lr->train, o, d);
    if (s != IR_OK)
        return s;
    lr->rank = ir_dist_rank(o->dist);
    lr->ranks = ir_dist_size(o->dist);
    r->ranks = lr->ranks;
    lr->x = o->extra && o->extra->n ? o->extra : NULL;
    s = train_ddp_fingerprint(o->dist, options_hash(o), lr->train, p, lr->x, d);
    if (s != IR_OK)
        return s;
    lr->what = o->what ? o->what : "train";
    lr->B = o->batch;
    size_t n = lr->train->n;
    lr->per_epoch = (int64_t)((n + lr->B - 1) / lr->B);
    lr->total = o->steps > 0 ? o->steps : o->epochs * lr->per_epoch;
    r->total_steps = lr->total;
    train_schedule_init(&lr->sched, o->lr, o->warmup, lr->total);
    lr->opt = (train_adamw){.lr = o->lr, .beta1 = o->beta1, .beta2 = o->beta2,
                            .eps = o->eps, .weight_decay = o->weight_decay};
    lr->ls = (loop_state){.ck = {.total_steps = lr->total, .data_seed = o->seed,
                                 .best_dev = NAN, .best_step = -1,
                                 .last_loss = NAN, .last_dev = NAN,
                                 .lr = o->lr, .warmup = o->warmup,
                                 .weight_decay = o->weight_decay,
                                 .grad_clip = o->grad_clip,
                                 .batch = (int64_t)o->batch,
                                 .seq = (int64_t)(o->max_seq ? o->max_seq
                                                             : lr->train->T),
                                 /* a pass over the data: only when
                                  * checkpoints will record it */
                                 .loss_hash = o->loss_hash,
                                 .data_hash = o->ckpt_dir
                                                  ? order_hash(lr->train, o)
                                                  : 0}};
    snprintf(lr->ls.ck.gemm_precision, sizeof lr->ls.ck.gemm_precision, "%s",
             o->gemm_precision ? o->gemm_precision : "fp32");
    snprintf(lr->ls.ck.teacher_precision, sizeof lr->ls.ck.teacher_precision, "%s",
             o->teacher_precision ? o->teacher_precision : "fp32");
    lr->perm = malloc(n * sizeof *lr->perm);
    if (o->eval && o->keep_best)
        lr->ls.best = malloc((p->n + (lr->x ? lr->x->n : 0)) * sizeof(float));
    if (!lr->perm || (o->eval && o->keep_best && !lr->ls.best))
        return ir_diag_set(d, IR_ERR_NOMEM, "trainer: out of memory");
    /* rank 0 keeps the checkpoints: the others neither create the folder
     * nor read it (it need not be shared between hosts) */
    if (lr->rank == 0 && o->ckpt_dir && mkdir(o->ckpt_dir, 0777) != 0) {
        struct stat sb;
        if (stat(o->ckpt_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            s = ir_diag_set(d, IR_ERR_IO, "checkpoint folder %s: cannot create it",
                            o->ckpt_dir);
    }
    if (s == IR_OK && o->resume && lr->rank == 0)
        s = resume_load(o, p, lr->x, &lr->ls, d);
    if (o->ckpt_dir)
        s = resume_share(lr, s, d);
    /* a resumed run reports the figures of the steps before it too */
    const train_ckpt_state *ck = &lr->ls.ck;
    r->start_step = r->steps = ck->step;
    r->best_dev = ck->best_dev;
    r->best_step = ck->best_step;
    r->last_loss = ck->step ? ck->last_loss : 0.0f;
    r->last_dev = ck->last_dev;
    r->seconds = ck->seconds;
    r->tokens = (size_t)ck->tokens;
    r->tokens_per_s = ck->seconds > 0 ? (double)ck->tokens / ck->seconds : 0;
    lr->seconds0 = ck->seconds;
    r->teacher_seconds_before = ck->teacher_seconds;
    lr->teacher_at_start = o->teacher_seconds ? o->teacher_seconds(lr->user) : 0;
    lr->tokens0 = r->tokens;
    lr->perm_epoch = -1;
    lr->t0 = ir_clock_wall_s();
    return s;
}

/* One optimizer step: the next batch, loss, backward, clipping, AdamW, and
 * the step's point in the history. *lp gets the losses. */
static ir_status loop_step(loop_run *lr, train_loss_parts *lp, ir_diag *d)
{
    const train_loop_options *o = lr->o;
    train_params *p = lr->p;
    train_extra *x = lr->x;
    train_ckpt_state *ck = &lr->ls.ck;
    if (ck->batch_in_epoch >= lr->per_epoch) {
        ck->epoch++;
        ck->batch_in_epoch = 0;
    }
    if (lr->perm_epoch != ck->epoch) {
        ir_status so = train_data_order_buckets(lr->train, o->seed,
                                                (uint64_t)ck->epoch, lr->B,
                                                o->bucket_pool, lr->perm, d);
        if (so != IR_OK)
            return so;
        lr->perm_epoch = ck->epoch;
    }
    size_t n = lr->train->n, at = (size_t)ck->batch_in_epoch * lr->B;
    size_t nb = n - at < lr->B ? n - at : lr->B;
    train_batch b;
    ir_status s = train_data_batch(lr->train, lr->perm + at, nb, &lr->buf, &b, d);
    if (s != IR_OK)
        return s;
    if (o->max_seq && b.T > o->max_seq)
        batch_cut(&lr->buf, &b, o->max_seq);
    /* this rank's rows of the global batch (all of them on one process) */
    train_batch lb = b;
    if (lr->ranks > 1)
        train_batch_split(&b, lr->rank, lr->ranks, &lb);
    train_params_zero_grad(p);
    if (x)
        memset(x->grads, 0, x->n * sizeof(float));
    *lp = (train_loss_parts){0};
    if (lr->ranks > 1)
        train_ddp_begin(&lr->ddp, o->dist, p, o->dist_bucket);
    if (lb.B > 0) {
        acts_slot *slot;
        s = acts_get(&lr->cache, &p->cfg, lb.B, lb.T, &slot, d);
        if (s != IR_OK)
            return s;
        train_acts_zero(slot->da);
        s = lr->loss(lr->user, p, slot->a, slot->da, &lb, lp, d);
        if (s != IR_OK)
            return lr->ranks > 1
                       ? ir_diag_prefix(d, "rank %d: %s step %lld", lr->rank,
                                        lr->what, (long long)ck->step + 1)
                       : ir_diag_prefix(d, "%s step %lld", lr->what,
                                        (long long)ck->step + 1);
        train_grad_ready ready = train_ddp_ready(&lr->ddp);
        train_backward_ready(p, slot->a, slot->da, lb.ids, lb.types, lb.mask,
                             lr->ranks > 1 ? &ready : NULL);
    } else if (lr->ranks > 1) {
        train_ddp_all_ready(&lr->ddp); /* fewer rows than ranks: adds 0 */
    }
    if (lr->ranks > 1) {
        /* the gradient sums, then the losses': every rank ends with the
         * global batch's, the same bits on each */
        if ((s = train_ddp_finish(&lr->ddp, x, d)) != IR_OK)
            return ir_diag_prefix(d, "%s step %lld", lr->what,
                                  (long long)ck->step + 1);
        double parts[5] = {lp->total, lp->pred, lp->emb, lp->hidden, lp->attn};
        if ((s = ir_dist_allreduce_f64(o->dist, parts, 5, d)) != IR_OK)
            return ir_diag_prefix(d, "%s step %lld", lr->what,
                                  (long long)ck->step + 1);
        *lp = (train_loss_parts){(float)parts[0], (float)parts[1],
                                 (float)parts[2], (float)parts[3],
                                 (float)parts[4]};
    }
    if (!isfinite(lp->total) || !isfinite(lp->pred) || !isfinite(lp->emb) ||
        !isfinite(lp->hidden) || !isfinite(lp->attn))
        return ir_diag_set(d, IR_ERR_FAILED, "%s step %lld (epoch %lld): the %s is "
                           "%g; stopped, the last good state is %s%s (try a "
                           "lower learning rate)", lr->what, (long long)ck->step + 1,
                           (long long)ck->epoch, loss_bad_part(lp),
                           (double)lp->total, o->ckpt_dir ? o->ckpt_dir :
                           "not saved (no checkpoint folder)",
                           o->ckpt_dir ? "/last.ckpt" : "");
    double norm = train_grad_norm(p, x);
    if (!isfinite(norm))
        return ir_diag_set(d, IR_ERR_FAILED, "%s step %lld (epoch %lld): gradients "
                           "are not finite (first in %s) with a finite loss %g; "
                           "stopped, nothing of this step was saved (try a "
                           "lower learning rate)", lr->what,
                           (long long)ck->step + 1, (long long)ck->epoch,
                           grad_bad_tensor(p, x), (double)lp->total);
    train_grad_clip(p, x, norm, o->grad_clip);
    lr->opt.lr = train_schedule_lr(&lr->sched, ck->step);
    train_adamw_update(p, &lr->opt, ck->step + 1);
    if (x)
        train_extra_adamw(x, &lr->opt, ck->step + 1);
    ck->step++;
    ck->batch_in_epoch++;
    train_result *r = lr->r;
    for (size_t i = 0; i < b.B * b.T; i++)
        r->tokens += (size_t)(b.mask[i] != 0);
    r->steps = ck->step;
    r->last_loss = lp->total;
    ck->last_loss = lp->total;
    ck->tokens = r->tokens;
    return hist_push(r, &lr->hist_cap,
                     (train_point){ck->step, lp->total, lr->opt.lr}, d);
}

/* Elapsed time and throughput after a step; returns the elapsed seconds.
 * The steady rate leaves out the first step (allocations, primitive
 * creation). */
static double loop_timing(loop_run *lr)
{
    train_result *r = lr->r;
    double el = ir_clock_wall_s() - lr->t0;
    r->run_seconds = el;
    r->seconds = lr->seconds0 + el;
    lr->ls.ck.seconds = r->seconds;
    if (lr->o->teacher_seconds)
        lr->ls.ck.teacher_seconds = r->teacher_seconds_before +
                                    lr->o->teacher_seconds(lr->user) -
                                    lr->teacher_at_start;
    r->tokens_per_s = r->seconds > 0 ? (double)r->tokens / r->seconds : 0;
    if (lr->ls.ck.step - r->start_step == 1) {
        lr->first_s = el;
        lr->first_tokens = r->tokens;
    } else if (el > lr->first_s) {
        r->steady_tokens_per_s =
            (double)(r->tokens - lr->first_tokens) / (el - lr->first_s);
    }
    return el;
}

static void loop_report(const loop_run *lr, train_event ev,
                        const train_loss_parts *lp, double el, double dev)
{
    const train_loop_options *o = lr->o;
    if (!o->progress || lr->rank != 0) /* rank 0 speaks for the run */
        return;
    const train_ckpt_state *ck = &lr->ls.ck;
    int64_t done_here = ck->step - lr->r->start_step;
    train_status st = {.event = ev, .step = ck->step, .total_steps = lr->total,
                       .epoch = ck->epoch, .loss = *lp, .lr = lr->opt.lr,
                       .tokens_per_s = lr->r->tokens_per_s, .elapsed_s = el,
                       .eta_s = el / (double)done_here *
                                (double)(lr->total - ck->step),
                       .dev = dev, .best_dev = lr->r->best_dev};
    o->progress(o->progress_user, &st);
}

/* A dev evaluation after a step: history, best-on-dev copy and
 * checkpoint, progress, plot. */
static ir_status loop_evaluate(loop_run *lr, const train_loss_parts *lp,
                               double el, ir_diag *d)
{
    const train_loop_options *o = lr->o;
    train_result *r = lr->r;
    train_ckpt_state *ck = &lr->ls.ck;
    double m;
    ir_status s = o->eval(o->eval_user, lr->p, &m, d);
    /* every rank evaluates; rank 0's metric decides keep-best on all (a
     * rank on other threads could differ in the last bits) */
    if (s == IR_OK)
        s = ir_dist_bcast(o->dist, &m, sizeof m, 0, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "%s step %lld: dev evaluation", lr->what,
                              (long long)ck->step);
    r->last_dev = m;
    ck->last_dev = m;
    s = dev_push(r, (train_dev_point){ck->step, m}, d);
    bool better = isfinite(m) && (isnan(ck->best_dev) || m > ck->best_dev);
    if (better) {
        ck->best_dev = m;
        ck->best_step = ck->step;
        r->best_dev = m;
        r->best_step = ck->step;
        best_save(&lr->ls, lr->p, lr->x);
        if (s == IR_OK && o->ckpt_dir)
            s = ckpt_write(o, "best.ckpt", lr->p, lr->x, ck, d);
    }
    loop_report(lr, TRAIN_EVENT_EVAL, lp, el, m);
    if (s == IR_OK && o->plot_path && lr->rank == 0)
        s = train_plot_svg(o->plot_path, lr->what, r->hist, r->n_hist, r->dev,
                           r->n_dev, o->metric_name ? o->metric_name : "metric", d);
    return s;
}

static void loop_end(loop_run *lr)
{
    acts_cache_free(&lr->cache);
    train_batch_buf_free(&lr->buf);
    free(lr->perm);
    free(lr->ls.best);
}

ir_status train_loop_run(train_params *p, const train_data *train,
                         const train_loop_options *o, train_loss_fn loss,
                         void *user, train_result *r, ir_diag *d)
{
    loop_run lr = {.p = p, .train = train, .o = o, .loss = loss, .user = user,
                   .r = r};
    double wait0 = ir_dist_wait_seconds(o->dist);
    ir_status s = loop_begin(&lr, d);
    bool stopped = false;
    while (s == IR_OK && lr.ls.ck.step < lr.total) {
        train_loss_parts lp;
        if ((s = loop_step(&lr, &lp, d)) != IR_OK)
            break;
        double el = loop_timing(&lr);
        loop_report(&lr, TRAIN_EVENT_STEP, &lp, el, r->last_dev);
        const train_ckpt_state *ck = &lr.ls.ck;
        bool last = ck->step == lr.total;
        bool evaluated = false;
        if (o->eval && (last || (o->eval_every && ck->step % o->eval_every == 0))) {
            s = loop_evaluate(&lr, &lp, el, d);
            evaluated = true;
        }
        int64_t every = o->ckpt_every ? o->ckpt_every : TRAIN_CKPT_EVERY;
        bool ck_now = ck->step % every == 0 || evaluated;
        bool stop = o->stop_at > 0 && ck->step == o->stop_at && !last;
        if (stop)
            stopped = true;
        if (s == IR_OK && o->ckpt_dir && (last || ck_now || stop))
            s = ckpt_write(o, "last.ckpt", p, lr.x, &lr.ls.ck, d);
        if (stop)
            break;
    }
    if (s == IR_OK && o->plot_path && lr.rank == 0)
        s = train_plot_svg(o->plot_path, lr.what, r->hist, r->n_hist, r->dev,
                           r->n_dev, o->metric_name ? o->metric_name : "metric", d);
    r->comm_wait_s = ir_dist_wait_seconds(o->dist) - wait0;
    /* keep-best: end with the best-on-dev weights (the last ones are in
     * last.ckpt when checkpoints are on) */
    if (s == IR_OK && !stopped && lr.ls.have_best && r->best_step != r->steps) {
        memcpy(p->params, lr.ls.best, p->n * sizeof(float));
        if (lr.x)
            memcpy(lr.x->params, lr.ls.best + p->n, lr.x->n * sizeof(float));
    }
    loop_end(&lr);
    return s;
}

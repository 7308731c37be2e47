/* supernet_train.c — the supernet's distillation loop (sandwich rule) and
 * the slice evaluation the search uses as its fitness; supernet_train.h
 * says what a step does. */
#include "ir/clock.h"
#include "search/supernet_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "distill/checkpoint.h"
#include "distill/ddp.h"
#include "distill/distill_loss.h"
#include "distill/model.h"
#include "distill/schedule.h"
#include "distill/student.h"
#include "distill/trainer.h"

/* SANDWICH_MAX: candidates a step at most; TIME_STEPS: the resolution of
 * the schedule when a deadline drives it */
enum { SANDWICH_MAX = 2 + 16, TIME_STEPS = 1000000 };

void search_supernet_train_opts_default(search_supernet_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 32;
    o->n_random = 2;
    o->lr = 1e-4f;
    o->warmup = 0.1f;
    o->weight_decay = 0.01f;
    o->grad_clip = 1.0f;
    o->seed = 42;
}

/* The supernet-width projections as one extra block: W_e [C, C_t] then
 * W_h [C, C_t], each starting as the selection of the first dims. */
typedef struct proj {
    train_extra x;
    int64_t rows, cols;
} proj;

static ir_status proj_new(proj *pj, int64_t rows, int64_t cols, ir_diag *d)
{
    size_t n = (size_t)(2 * rows * cols);
    float *mem = calloc(4 * n, sizeof *mem);
    if (!mem)
        return ir_diag_set(d, IR_ERR_NOMEM, "supernet training: out of memory");
    pj->x = (train_extra){mem, mem + n, mem + 2 * n, mem + 3 * n, n};
    pj->rows = rows;
    pj->cols = cols;
    for (int b = 0; b < 2; b++)
        for (int64_t i = 0; i < rows && i < cols; i++)
            mem[(size_t)(b * rows * cols + i * cols + i)] = 1.0f;
    return IR_OK;
}

/* Moves the first c_s rows of both projections between the supernet's
 * block and a candidate's (to_sub: weights in; else gradients added out). */
static void proj_move(proj *pj, train_extra *cx, int64_t c_s, bool to_sub)
{
    size_t per = (size_t)(c_s * pj->cols), whole = (size_t)(pj->rows * pj->cols);
    for (int b = 0; b < 2; b++) {
        if (to_sub) {
            memcpy(cx->params + b * per, pj->x.params + b * whole, per * sizeof(float));
            memset(cx->grads + b * per, 0, per * sizeof(float));
        } else
            for (size_t k = 0; k < per; k++)
                pj->x.grads[b * whole + k] += cx->grads[b * per + k];
    }
}

/* One candidate on the batch: forward, distillation terms against the
 * teacher's outputs, backward; gradients summed into the supernet's slice
 * and projections. */
static ir_status run_subnet(search_supernet *sn, proj *pj, teacher *t,
                            const ir_encoder_config *c,
                            const teacher_outputs *tout, const train_batch *b,
                            double *loss, ir_diag *d)
{
    train_params *p = NULL;
    train_acts *a = NULL, *da = NULL;
    distill_loss *L = NULL;
    const ir_encoder_config *tc = teacher_config(t);
    distill_loss_opts lo;
    distill_loss_opts_default(&lo, c->layers, tc->layers);
    student_layer_map_uniform(c->layers, tc->layers, lo.layer_map);
    lo.stage = DISTILL_STAGE_ALL;
    ir_status s = search_supernet_extract(sn, c, &p, d);
    if (s == IR_OK)
        s = train_acts_new(c, b->B, b->T, &a, d);
    if (s == IR_OK)
        s = train_acts_new(c, b->B, b->T, &da, d);
    if (s == IR_OK)
        s = distill_loss_new(c, t, &lo, &L, d);
    if (s != IR_OK)
        goto done;
    distill_loss_set_gemm(L, p->gemm);
    train_extra *cx = distill_loss_extra(L);
    if (cx->n && (c->hidden > pj->rows || cx->n != (size_t)(2 * c->hidden * pj->cols))) {
        s = ir_diag_set(d, IR_ERR_INPUT, "projections of %lld x %lld do not fit "
                        "the supernet's %lld x %lld", (long long)c->hidden,
                        (long long)tc->hidden, (long long)pj->rows,
                        (long long)pj->cols);
        goto done;
    }
    if (cx->n)
        proj_move(pj, cx, c->hidden, true);
    if ((s = train_forward(p, a, b->ids, b->types, b->mask, d)) != IR_OK)
        goto done;
    train_acts_zero(da);
    train_loss_parts parts;
    train_batch_share sh = train_batch_share_get(b);
    if ((s = distill_loss_compute_share(L, a, da, tout, b->mask, &sh, &parts,
                                        d)) != IR_OK)
        goto done;
    if (!isfinite(parts.total)) {
        s = ir_diag_set(d, IR_ERR_FAILED, "the loss is %g (emb %g, hidden %g, "
                        "attention %g, prediction %g)", (double)parts.total,
                        (double)parts.emb, (double)parts.hidden,
                        (double)parts.attn, (double)parts.pred);
        goto done;
    }
    train_backward(p, a, da, b->ids, b->types, b->mask);
    if ((s = search_supernet_add_grads(sn, p, d)) != IR_OK)
        goto done;
    if (cx->n)
        proj_move(pj, cx, c->hidden, false);
    *loss = parts.total;
done:
    distill_loss_free(L);
    train_acts_free(a);
    train_acts_free(da);
    train_params_free(p);
    return s;
}

/* What the loop carries from step to step besides the weights: all of it
 * goes into a checkpoint (as the aux block, explicit words so the layout
 * is the same on every build). */
typedef struct sn_loop {
    search_rng rng;
    uint64_t epoch;       /* of the next order to draw */
    size_t pos;           /* next example in the current order */
    search_genome prev[SANDWICH_MAX];
    size_t n_prev;
    int64_t step;         /* steps done */
    double first_loss, tail_sum, seconds;
    double last_mean;     /* the last step's mean loss */
    int64_t tail_n, subnets;
    uint64_t tokens;
    bool finished;        /* a deadline ended it */
    double teacher_seconds; /* in the teacher's forward, over every run (in
                               the checkpoint's header, not the aux block) */
} sn_loop;

enum { AUX_WORDS = 12,
       AUX_BYTES = AUX_WORDS * 8 + SANDWICH_MAX * SEARCH_GENE_COUNT };

static uint64_t f64_bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static double bits_f64(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static void aux_pack(const sn_loop *l, unsigned char *b)
{
    uint64_t w[AUX_WORDS] = {l->rng.s, l->epoch, l->pos, l->n_prev,
                             f64_bits(l->first_loss), f64_bits(l->tail_sum),
                             (uint64_t)l->tail_n, (uint64_t)l->subnets, l->tokens,
                             l->finished, f64_bits(l->seconds),
                             f64_bits(l->last_mean)};
    memcpy(b, w, sizeof w);
    memcpy(b + sizeof w, l->prev, sizeof l->prev);
}

static void aux_unpack(sn_loop *l, const unsigned char *b)
{
    uint64_t w[AUX_WORDS];
    memcpy(w, b, sizeof w);
    l->rng.s = w[0];
    l->epoch = w[1];
    l->pos = (size_t)w[2];
    l->n_prev = (size_t)w[3];
    l->first_loss = bits_f64(w[4]);
    l->tail_sum = bits_f64(w[5]);
    l->tail_n = (int64_t)w[6];
    l->subnets = (int64_t)w[7];
    l->tokens = w[8];
    l->finished = w[9] != 0;
    l->seconds = bits_f64(w[10]);
    l->last_mean = bits_f64(w[11]);
    memcpy(l->prev, b + sizeof w, sizeof l->prev);
}

/* The checkpoint's header for this run: what train_ckpt_match compares. */
static train_ckpt_state ckpt_state(const search_supernet_train_opts *o,
                                   const train_data *td, uint64_t data_hash,
                                   const sn_loop *l, double last_loss)
{
    train_ckpt_state st = {.step = l->step, .total_steps = o->steps,
                           .epoch = (int64_t)l->epoch, .data_seed = o->seed,
                           .best_dev = NAN, .best_step = -1,
                           .last_dev = NAN, .seconds = l->seconds,
                           .teacher_seconds = l->teacher_seconds,
                           .tokens = l->tokens, .last_loss = (float)last_loss,
                           .lr = o->lr, .warmup = o->warmup,
                           .weight_decay = o->weight_decay,
                           .grad_clip = o->grad_clip, .batch = (int64_t)o->batch,
                           .seq = (int64_t)td->T, .data_hash = data_hash};
    snprintf(st.gemm_precision, sizeof st.gemm_precision, "fp32");
    snprintf(st.teacher_precision, sizeof st.teacher_precision, "fp32");
    return st;
}

static ir_status sn_save(const search_supernet_train_opts *o, train_params *sup,
                         const proj *pj, const train_data *td, uint64_t data_hash,
                         const sn_loop *l, double last_loss, ir_diag *d)
{
    unsigned char aux[AUX_BYTES];
    aux_pack(l, aux);
    train_ckpt_state st = ckpt_state(o, td, data_hash, l, last_loss);
    ir_status s = IR_OK;
    if (ir_dist_rank(o->dist) == 0) /* rank 0 writes, every rank learns */
        s = train_ckpt_save_aux(o->ckpt_path, sup, &pj->x, &st, aux,
                                sizeof aux, d);
    ir_dist_bcast_status(o->dist, &s, 0, d);
    return s == IR_OK ? s : ir_diag_prefix(d, "supernet training");
}

/* Continues from o->ckpt_path when asked and present; l and the weights
 * are left as they are otherwise. */
static ir_status sn_resume_here(const search_supernet_train_opts *o, train_params *sup,
                           proj *pj, const train_data *td, uint64_t data_hash,
                           sn_loop *l, ir_diag *d)
{
    struct stat sb;
    if (!o->resume || !o->ckpt_path || stat(o->ckpt_path, &sb) != 0)
        return IR_OK;
    train_ckpt_state saved, want = ckpt_state(o, td, data_hash, l, 0);
    want.file_version = TRAIN_CKPT_VERSION;
    unsigned char aux[AUX_BYTES];
    ir_status s = train_ckpt_peek(o->ckpt_path, &saved, d);
    if (s == IR_OK)
        s = train_ckpt_match(o->ckpt_path, &saved, &want, d);
    if (s == IR_OK)
        s = train_ckpt_load_aux(o->ckpt_path, sup, &pj->x, &saved, aux, sizeof aux, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "supernet training");
    aux_unpack(l, aux);
    l->step = saved.step;
    l->teacher_seconds = saved.teacher_seconds; /* 0 from a version 3 file */
    if (l->n_prev > SANDWICH_MAX || l->step > o->steps)
        return ir_diag_set(d, IR_ERR_INPUT, "supernet training: checkpoint %s: "
                           "loop state out of range", o->ckpt_path);
    return IR_OK;
}

/* sn_resume_here on rank 0, its status and loop state handed to every
 * rank. */
static ir_status sn_resume(const search_supernet_train_opts *o, train_params *sup,
                           proj *pj, const train_data *td, uint64_t data_hash,
                           sn_loop *l, ir_diag *d)
{
    ir_dist *dc = o->dist;
    ir_status s = IR_OK;
    if (ir_dist_rank(dc) == 0)
        s = sn_resume_here(o, sup, pj, td, data_hash, l, d);
    if (ir_dist_size(dc) == 1 || ir_dist_bcast_status(dc, &s, 0, d) != IR_OK ||
        s != IR_OK)
        return s;
    float *blocks[6] = {sup->params, sup->m, sup->v, pj->x.params, pj->x.m,
                        pj->x.v};
    for (int i = 0; i < 6 && s == IR_OK; i++)
        s = ir_dist_bcast(dc, blocks[i], (i < 3 ? sup->n : pj->x.n) * sizeof(float),
                          0, d);
    if (s == IR_OK)
        s = ir_dist_bcast(dc, l, sizeof *l, 0, d);
    return s;
}

/* The options that set the result, for train_ddp_fingerprint. */
static uint64_t sn_opts_hash(const search_supernet_train_opts *o)
{
    uint64_t h = TRAIN_DDP_FNV_SEED;
#define H(field) h = train_ddp_hash(h, &o->field, sizeof o->field)
    H(steps); H(batch); H(n_random); H(lr); H(warmup); H(weight_decay);
    H(grad_clip); H(seed); H(ckpt_every);
#undef H
    uint8_t flags[2] = {o->ckpt_path != NULL, o->deadline_s > 0};
    return train_ddp_hash(h, flags, sizeof flags);
}

ir_status search_supernet_train(search_supernet *sn, const search_space *sp,
                                teacher *t, const train_data *td,
                                const search_supernet_train_opts *o,
                                search_supernet_train_result *r, ir_diag *d)
{
    memset(r, 0, sizeof *r);
    if (o->steps <= 0 || o->batch == 0 || o->n_random + 2 > SANDWICH_MAX ||
        !(o->lr > 0) || td->n == 0 || o->ckpt_every < 0)
        return ir_diag_set(d, IR_ERR_INPUT, "supernet training: need steps > 0, "
                           "batch > 0, at most %d random candidates, lr > 0, "
                           "ckpt_every >= 0 and data (steps %lld, batch %zu, random "
                           "%zu, lr %g, %zu examples)", SANDWICH_MAX - 2,
                           (long long)o->steps, o->batch, o->n_random,
                           (double)o->lr, td->n);
    const ir_encoder_config *sc = search_supernet_config(sn);
    const ir_encoder_config *tc = teacher_config(t);
    if (tc->vocab != sc->vocab || tc->labels != sc->labels ||
        tc->type_vocab != sc->type_vocab)
        return ir_diag_set(d, IR_ERR_INPUT, "supernet training: the teacher's "
                           "vocabulary, type vocabulary or labels (%lld, %lld, "
                           "%lld) differ from the supernet's (%lld, %lld, %lld)",
                           (long long)tc->vocab, (long long)tc->type_vocab,
                           (long long)tc->labels, (long long)sc->vocab,
                           (long long)sc->type_vocab, (long long)sc->labels);
    proj pj;
    ir_status s = proj_new(&pj, sc->hidden, tc->hidden, d);
    if (s != IR_OK)
        return s;
    size_t *perm = malloc(td->n * sizeof *perm);
    if (!perm) {
        free(pj.x.params);
        return ir_diag_set(d, IR_ERR_NOMEM, "supernet training: out of memory");
    }
    train_params *sup = search_supernet_params(sn);
    ir_dist *dc = o->dist;
    int rank = ir_dist_rank(dc), ranks = ir_dist_size(dc);
    if ((s = train_ddp_fingerprint(dc, sn_opts_hash(o), td, sup, &pj.x, d)) !=
        IR_OK)
        goto out;
    uint64_t data_hash = o->ckpt_path ? train_data_hash(td) : 0;
    int64_t every = o->ckpt_every ? o->ckpt_every : TRAIN_CKPT_EVERY;
    sn_loop l = {.pos = td->n};
    search_rng_seed(&l.rng, o->seed ^ 0x5a4d5749ull);
    if ((s = sn_resume(o, sup, &pj, td, data_hash, &l, d)) != IR_OK)
        goto out;
    r->start_step = l.step;
    if (l.pos < td->n) /* the order of the epoch under way */
        train_data_order(td, o->seed, l.epoch - 1, perm);
    train_schedule sched, tsched;
    train_schedule_init(&sched, o->lr, o->warmup, o->steps);
    train_schedule_init(&tsched, o->lr, o->warmup, TIME_STEPS);
    train_adamw opt = {.lr = o->lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                       .weight_decay = o->weight_decay};
    train_batch_buf buf = {0};
    search_genome gen[SANDWICH_MAX];
    /* a resumed run's clock starts where the killed one stopped */
    double t0 = ir_clock_wall_s() - l.seconds;
    double deadline = o->deadline_s > 0 ? o->deadline_s - l.seconds : 0;
    int64_t tail_from = o->steps - (o->steps + 9) / 10;
    while (l.step < o->steps && !l.finished) {
        int64_t step = l.step;
        if (l.pos >= td->n) {
            train_data_order(td, o->seed, l.epoch++, perm);
            l.pos = 0;
        }
        size_t B = td->n - l.pos < o->batch ? td->n - l.pos : o->batch;
        train_batch b;
        if ((s = train_data_batch(td, perm + l.pos, B, &buf, &b, d)) != IR_OK)
            break;
        /* this rank's rows (all of them on one process); the teacher runs
         * on those only */
        train_batch lb = b;
        if (ranks > 1)
            train_batch_split(&b, rank, ranks, &lb);
        teacher_outputs tout;
        double tt0 = ir_clock_wall_s();
        s = lb.B > 0 ? teacher_run(t, lb.B, lb.T, lb.ids, lb.types, lb.mask, &tout, d)
                     : IR_OK;
        l.teacher_seconds += ir_clock_wall_s() - tt0;
        if (s != IR_OK) {
            ir_diag_prefix(d, "supernet training, step %lld: teacher", (long long)step + 1);
            break;
        }
        size_t n = search_supernet_sandwich(sn, sp, &l.rng, o->n_random,
                                            l.n_prev == 2 + o->n_random ? l.prev : NULL,
                                            gen);
        memcpy(l.prev, gen, n * sizeof *gen);
        l.n_prev = n;
        if (n == 0) {
            s = ir_diag_set(d, IR_ERR_INPUT, "supernet training: no candidate of "
                            "%s can be sliced from the supernet", sp->name);
            break;
        }
        train_params_zero_grad(sup);
        memset(pj.x.grads, 0, pj.x.n * sizeof *pj.x.grads);
        double sum = 0;
        for (size_t k = 0; k < n && s == IR_OK; k++) {
            ir_encoder_config c;
            memset(&c, 0, sizeof c);
            double loss = 0;
            if ((s = search_space_decode(sp, &gen[k], &c, d)) == IR_OK && lb.B > 0)
                s = run_subnet(sn, &pj, t, &c, &tout, &lb, &loss, d);
            if (s != IR_OK) {
                char name[128];
                search_config_format(&c, name, sizeof name);
                ir_diag_prefix(d, "supernet training, step %lld, candidate %s",
                               (long long)step + 1, name);
            }
            sum += loss;
            l.subnets++;
        }
        if (ranks > 1) {
            /* every rank's gradients and losses summed; a rank that failed
             * says so in the same sum, so that all stop together */
            double v[2] = {sum, s != IR_OK};
            ir_diag dd;
            ir_diag_init(&dd);
            ir_status cs = ir_dist_allreduce_f64(dc, v, 2, &dd);
            if (cs == IR_OK && s == IR_OK && v[1] > 0)
                s = ir_diag_set(d, IR_ERR_FAILED, "supernet training, step %lld: "
                                "another rank failed (its message names it)",
                                (long long)step + 1);
            if (cs == IR_OK && s == IR_OK)
                cs = ir_dist_allreduce_f32(dc, sup->grads, sup->n, &dd);
            if (cs == IR_OK && s == IR_OK)
                cs = ir_dist_allreduce_f32(dc, pj.x.grads, pj.x.n, &dd);
            if (cs != IR_OK && s == IR_OK) {
                *d = dd;
                s = cs;
            }
            sum = v[0];
        }
        if (s != IR_OK)
            break;
        double norm = train_grad_norm(sup, &pj.x);
        if (!isfinite(norm)) {
            s = ir_diag_set(d, IR_ERR_FAILED, "supernet training, step %lld: the "
                            "gradient norm is %g", (long long)step + 1, norm);
            break;
        }
        train_grad_clip(sup, &pj.x, norm, o->grad_clip);
        opt.lr = train_schedule_lr(&sched, step);
        if (deadline > t0) {
            /* under a deadline the schedule runs on whichever is further
             * along, steps or time, so a run the deadline ends has warmed
             * up and decayed like a planned one */
            double f = (ir_clock_wall_s() - t0) / (deadline - t0);
            double fs = (double)step / (double)o->steps;
            int64_t k = (int64_t)((f > fs ? f : fs) * TIME_STEPS);
            opt.lr = train_schedule_lr(&tsched, k < TIME_STEPS ? k : TIME_STEPS - 1);
            /* rank 0's clock sets every rank's lr */
            if ((s = ir_dist_bcast(dc, &opt.lr, sizeof opt.lr, 0, d)) != IR_OK)
                break;
        }
        train_adamw_update(sup, &opt, step + 1);
        train_extra_adamw(&pj.x, &opt, step + 1);
        /* the batch's position advances with the step it trained */
        l.pos += B;
        for (size_t i = 0; i < B * b.T; i++)
            l.tokens += b.mask[i] != 0;
        double mean = sum / (double)n;
        l.last_mean = mean;
        if (step == 0)
            l.first_loss = mean;
        if (step >= tail_from) {
            l.tail_sum += mean;
            l.tail_n++;
        }
        l.step = step + 1;
        l.seconds = ir_clock_wall_s() - t0;
        if (o->progress && rank == 0)
            o->progress(o->progress_user, step + 1, o->steps, (float)mean);
        l.finished = deadline > 0 && ir_clock_wall_s() > deadline;
        if (deadline > 0 && ranks > 1) { /* rank 0's clock ends every rank */
            int32_t fin = l.finished;
            if ((s = ir_dist_bcast(dc, &fin, sizeof fin, 0, d)) != IR_OK)
                break;
            l.finished = fin != 0;
        }
        bool last = l.step == o->steps || l.finished;
        if (o->ckpt_path && (last || l.step % every == 0) &&
            (s = sn_save(o, sup, &pj, td, data_hash, &l, mean, d)) != IR_OK)
            break;
    }
    train_batch_buf_free(&buf);
    r->steps = l.step;
    r->subnets = l.subnets;
    r->tokens = (size_t)l.tokens;
    r->first_loss = l.first_loss;
    r->last_loss = l.tail_n ? l.tail_sum / (double)l.tail_n : l.last_mean;
    r->seconds = l.step > r->start_step ? ir_clock_wall_s() - t0 : l.seconds;
    r->teacher_seconds = l.teacher_seconds;
out:
    free(perm);
    free(pj.x.params);
    return s;
}

ir_status search_supernet_evaluate(const search_supernet *sn,
                                   const ir_encoder_config *c,
                                   const train_data *data, metric_kind kind,
                                   double *metric, double *loss, ir_diag *d)
{
    *metric = NAN;
    if (loss)
        *loss = NAN;
    train_params *p = NULL;
    ir_status s = search_supernet_extract(sn, c, &p, d);
    if (s != IR_OK)
        return s;
    train_dev_set ds = {.data = data, .kind = kind};
    s = train_dev_eval(&ds, p, metric, d);
    if (s == IR_OK && loss)
        *loss = ds.last_loss;
    train_params_free(p);
    return s;
}

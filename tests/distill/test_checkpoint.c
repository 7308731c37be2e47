/* test_checkpoint.c — checkpoints of the trainer (distill/checkpoint.h):
 *  - save then load restores params, AdamW moments, extra block and loop
 *    state bit for bit; no .tmp file is left behind;
 *  - a flipped byte (checksum), a truncated file, a foreign file (magic),
 *    another config and another extra size are refused with messages;
 *  - exact resume: N steps uninterrupted vs N/2, stop, resume into fresh
 *    parameters, N/2 more — every step's loss and the final parameters are
 *    identical bitwise (GEMM pinned to oneDNN, then the reference loop),
 *    with dev evaluation, keep-best and extra parameters in play;
 *  - resume refuses another seed, another step count or another
 *    gemm/teacher precision (naming the option and both values);
 *  - resume refuses another lr, batch or training data too, naming it;
 *    the figures (last loss, seconds, tokens) cover the steps before the
 *    resume, also when a finished run is resumed;
 *  - the caller's loop state (aux) rides along, its size checked;
 *  - version 1 and 2 files (before the precisions, before the figures and
 *    options were recorded) still load, with the precisions of version 1
 *    read as fp32.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/gemm.h"
#include "distill/checkpoint.h"
#include "distill/kernels.h"
#include "distill/trainer.h"
#include "testutil.h"

static void tiny_config(ir_encoder_config *c, int64_t hidden)
{
    ir_encoder_config_init(c);
    c->hidden = hidden; c->layers = 2; c->heads = 2; c->ffn = 24; c->vocab = 30;
    c->max_positions = 32; c->type_vocab = 2; c->labels = 2; c->ln_eps = 1e-12f;
    ir_diag d;
    ir_encoder_config_share(c, IR_ENC_SHARE_NONE, 0, &d);
}

static void synth_data(train_data *td, size_t n, size_t T, uint64_t seed)
{
    memset(td, 0, sizeof *td);
    td->n = n; td->T = T; td->n_labels = 2;
    td->ids = calloc(n * T, sizeof(int32_t));
    td->types = calloc(n * T, sizeof(int32_t));
    td->mask = calloc(n * T, sizeof(int32_t));
    td->len = calloc(n, sizeof(uint32_t));
    td->labels = calloc(n, sizeof(int32_t));
    for (size_t i = 0; i < n; i++) {
        size_t len = 3 + train_rng_u64(seed, i) % (T - 3);
        for (size_t t = 0; t < len; t++) {
            td->ids[i * T + t] = 1 + (int32_t)(train_rng_u64(seed, 100 * i + t) % 29);
            td->mask[i * T + t] = 1;
        }
        td->len[i] = (uint32_t)len;
        td->labels[i] = td->ids[i * T + 1] % 2; /* learnable */
    }
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void test_roundtrip_and_errors(void)
{
    ir_diag d;
    ir_diag_init(&d);
    char dir[256], path[300], tmp[310];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    snprintf(path, sizeof path, "%s/a.ckpt", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ir_encoder_config c;
    tiny_config(&c, 8);
    train_params *p, *q;
    CHECK(train_params_new(&c, &p, &d) == IR_OK && train_params_new(&c, &q, &d) == IR_OK);
    train_params_init_random(p, 3, 0.5f);
    for (size_t i = 0; i < p->n; i++) {
        p->m[i] = train_rng_normal(8, i);
        p->v[i] = train_rng_uniform(9, i);
    }
    float xs[4 * 5], xq[4 * 5];
    for (int i = 0; i < 20; i++)
        xs[i] = (float)i * 0.25f;
    memset(xq, 0, sizeof xq);
    train_extra xe = {xs, xs + 5, xs + 10, xs + 15, 5}, xr = {xq, xq + 5, xq + 10, xq + 15, 5};
    train_ckpt_state st = {.step = 17, .total_steps = 40, .epoch = 2, .batch_in_epoch = 3,
                           .data_seed = 99, .rng_counter = 5, .best_dev = 0.75,
                           .best_step = 12, .gemm_precision = "bf16",
                           .teacher_precision = "fp32", .last_dev = 0.5,
                           .seconds = 12.5, .tokens = 1234, .teacher_seconds = 4.75,
                           .last_loss = 0.25f,
                           .lr = 1e-4f, .warmup = 0.1f, .weight_decay = 0.01f,
                           .grad_clip = 1.0f, .batch = 32, .seq = 64,
                           .data_hash = 0x1234567890abcdefULL,
                           .loss_hash = 0xfedcba0987654321ULL,
                           /* what a load says it read */
                           .file_version = TRAIN_CKPT_VERSION}, back;
    CHECK(train_ckpt_save(path, p, &xe, &st, &d) == IR_OK);
    CHECK(file_size(tmp) == -1);
    /* the header alone, for planning a resume */
    memset(&back, 0, sizeof back);
    CHECK(train_ckpt_peek(path, &back, &d) == IR_OK);
    CHECK(memcmp(&st, &back, sizeof st) == 0);
    CHECK(train_ckpt_load(path, q, &xr, &back, &d) == IR_OK);
    CHECK(memcmp(p->params, q->params, p->n * sizeof(float)) == 0);
    CHECK(memcmp(p->m, q->m, p->n * sizeof(float)) == 0);
    CHECK(memcmp(p->v, q->v, p->n * sizeof(float)) == 0);
    CHECK(memcmp(xs, xq, 5 * sizeof(float)) == 0 && memcmp(xs + 10, xq + 10, 10 * sizeof(float)) == 0);
    CHECK(memcmp(&st, &back, sizeof st) == 0);

    /* corrupt one byte in the middle: checksum */
    long size = file_size(path);
    FILE *f = fopen(path, "r+b");
    fseek(f, size / 2, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, size / 2, SEEK_SET);
    fputc(ch ^ 0x10, f);
    fclose(f);
    memset(q->params, 0, q->n * sizeof(float));
    CHECK(train_ckpt_load(path, q, &xr, &back, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "checksum") && strstr(d.msg, "a.ckpt"), "%s", d.msg);
    CHECK(q->params[0] == 0.0f); /* a refused file changes nothing */
    /* truncated */
    CHECK(train_ckpt_save(path, p, &xe, &st, &d) == IR_OK);
    CHECK(truncate(path, size - 100) == 0);
    CHECK(train_ckpt_load(path, q, &xr, &back, &d) == IR_ERR_INPUT);
    char want[96];
    snprintf(want, sizeof want, "truncated: %ld bytes, a checkpoint of this run "
             "has %ld", size - 100, size);
    CHECK_MSG(strstr(d.msg, want) && strstr(d.msg, "a.ckpt") &&
              !strstr(d.msg, "PATH"), "%s", d.msg);
    /* cut inside the header */
    CHECK(truncate(path, 40) == 0);
    CHECK(train_ckpt_load(path, q, &xr, &back, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "truncated: 40 bytes"), "%s", d.msg);
    /* a FIFO where the checkpoint should be: refused, not waited on */
    CHECK(unlink(path) == 0 && mkfifo(path, 0600) == 0);
    CHECK(train_ckpt_load(path, q, &xr, &back, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "FIFO"), "%s", d.msg);
    unlink(path);
    /* not a checkpoint */
    f = fopen(path, "w");
    fputs("hello, this is not a checkpoint at all", f);
    fclose(f);
    CHECK(train_ckpt_load(path, q, &xr, &back, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "magic") != NULL, "%s", d.msg);
    /* another config; another extra size; missing file */
    CHECK(train_ckpt_save(path, p, &xe, &st, &d) == IR_OK);
    ir_encoder_config c2;
    tiny_config(&c2, 12);
    train_params *r;
    CHECK(train_params_new(&c2, &r, &d) == IR_OK);
    CHECK(train_ckpt_load(path, r, &xr, &back, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "config") && strstr(d.msg, "hidden 8"), "%s", d.msg);
    /* the caller's loop state rides along; another size is refused */
    uint64_t aux[3] = {7, 8, 9}, aux_back[3] = {0};
    char aux_path[320];
    snprintf(aux_path, sizeof aux_path, "%s/aux.ckpt", dir);
    CHECK(train_ckpt_save_aux(aux_path, p, NULL, &st, aux, sizeof aux, &d) == IR_OK);
    CHECK(train_ckpt_load_aux(aux_path, q, NULL, &back, aux_back, sizeof aux_back,
                              &d) == IR_OK);
    CHECK(memcmp(aux, aux_back, sizeof aux) == 0);
    CHECK(train_ckpt_load_aux(aux_path, q, NULL, &back, aux_back, 16, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "24 bytes of loop state") != NULL, "%s", d.msg);
    CHECK(train_ckpt_load(aux_path, q, NULL, &back, &d) == IR_ERR_INPUT);
    train_params_free(r);
    xr.n = 4;
    CHECK(train_ckpt_load(path, q, &xr, &back, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "extra") != NULL, "%s", d.msg);
    CHECK(train_ckpt_load(path, q, NULL, &back, &d) == IR_ERR_INPUT);
    snprintf(path, sizeof path, "%s/none.ckpt", dir);
    CHECK(train_ckpt_load(path, q, NULL, &back, &d) == IR_ERR_INPUT);
    /* unwritable folder */
    CHECK(train_ckpt_save("/nonexistent-dir/x.ckpt", p, NULL, &st, &d) == IR_ERR_IO);
    CHECK(strstr(d.msg, "/nonexistent-dir/x.ckpt") != NULL);
    train_params_free(p);
    train_params_free(q);
}

/* One run of the loop over `steps` (total), stopping at stop_at (0 = no),
 * resuming when asked; returns the loss history and the final params. */
typedef struct run_out {
    float loss[64];
    size_t n;
    float last_loss;        /* train_result's, over every run */
    double seconds;
    size_t tokens;
    double teacher_before;  /* train_result.teacher_seconds_before */
    float *params;
    float extra[3];
    ir_status status;
    char msg[IR_DIAG_MSG_MAX];
} run_out;

/* The loss's state: the extra block, and a make-believe teacher that
 * "takes" half a second a call, so its clock is exact. */
typedef struct loss_state {
    train_extra *x;
    int64_t calls;
} loss_state;

static double fake_teacher_seconds(void *user)
{
    return 0.5 * (double)((loss_state *)user)->calls;
}

static ir_status loss_extra(void *user, const train_params *p, train_acts *a,
                            train_acts *da, const train_batch *b,
                            train_loss_parts *out, ir_diag *d)
{
    train_extra *x = ((loss_state *)user)->x;
    ((loss_state *)user)->calls++;
    ir_status s = train_loss_finetune(NULL, p, a, da, b, out, d);
    for (size_t i = 0; i < x->n; i++) {
        out->total += 0.5f * x->params[i] * x->params[i] * (float)(i + 1);
        x->grads[i] += x->params[i] * (float)(i + 1);
    }
    return s;
}

/* An option a resume changes (0: as in the first run). */
typedef struct run_change {
    float lr;
    size_t batch;
    uint64_t data_seed;
} run_change;

static void run_with(const char *ckdir, gemm_impl gi, bool use_gemm, int64_t steps,
                     int64_t stop_at, bool resume, uint64_t seed,
                     const char *teacher_precision, bool gemm_bf16,
                     const run_change *ch, run_out *out)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config c;
    tiny_config(&c, 16);
    train_params *p;
    train_params_new(&c, &p, &d);
    /* a resumed run starts from other weights: the checkpoint must win */
    train_params_init_random(p, resume ? 777 : 5, 0.05f);
    gemm_ctx *g = NULL;
    if (use_gemm) {
        gemm_ctx_create(gi, &g, &d);
        if (gemm_bf16)
            gemm_ctx_set_precision(g, IR_PRECISION_BF16, &d);
        p->gemm = g;
    }
    train_data tr, dev;
    /* 50 / 8: a short last batch each epoch */
    synth_data(&tr, 50, 20, ch && ch->data_seed ? ch->data_seed : 1);
    synth_data(&dev, 24, 20, 2);
    train_dev_set ds = {.data = &dev, .kind = METRIC_KIND_ACC};
    float xb[12] = {1, 1, 1};
    train_extra x = {xb, xb + 3, xb + 6, xb + 9, 3};
    train_loop_options o;
    train_loop_options_default(&o);
    o.batch = ch && ch->batch ? ch->batch : 8;
    o.steps = steps; o.lr = ch && ch->lr > 0 ? ch->lr : 2e-3f; o.seed = seed;
    o.eval = train_dev_eval; o.eval_user = &ds; o.eval_every = 5;
    o.ckpt_dir = ckdir; o.resume = resume; o.stop_at = stop_at; o.extra = &x;
    /* only recorded and compared: the loss here has no teacher */
    o.teacher_precision = teacher_precision;
    if (g)
        o.gemm_precision = ir_precision_name(gemm_ctx_precision(g));
    o.teacher_seconds = fake_teacher_seconds;
    loss_state ls = {&x, 0};
    train_result r;
    out->status = train_loop_run(p, &tr, &o, loss_extra, &ls, &r, &d);
    out->teacher_before = r.teacher_seconds_before;
    snprintf(out->msg, sizeof out->msg, "%s", d.msg);
    out->n = r.n_hist < 64 ? r.n_hist : 64;
    out->last_loss = r.last_loss;
    out->seconds = r.seconds;
    out->tokens = r.tokens;
    for (size_t i = 0; i < out->n; i++)
        out->loss[i] = r.hist[i].loss;
    out->params = malloc(p->n * sizeof(float));
    memcpy(out->params, p->params, p->n * sizeof(float));
    memcpy(out->extra, xb, sizeof out->extra);
    train_result_free(&r);
    train_data_free(&tr);
    train_data_free(&dev);
    train_params_free(p);
    gemm_ctx_free(g);
}

static void run(const char *ckdir, gemm_impl gi, bool use_gemm, int64_t steps,
                int64_t stop_at, bool resume, uint64_t seed,
                const char *teacher_precision, bool gemm_bf16, run_out *out)
{
    run_with(ckdir, gi, use_gemm, steps, stop_at, resume, seed, teacher_precision,
             gemm_bf16, NULL, out);
}

static void test_resume_exact(bool use_gemm)
{
    const char *what = use_gemm ? "onednn" : "reference";
    char dir[256], full[300], split[300];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    snprintf(full, sizeof full, "%s/full", dir);
    snprintf(split, sizeof split, "%s/split", dir);
    enum { N = 20 };
    run_out a, b1, b2;
    run(full, GEMM_ONEDNN, use_gemm, N, 0, false, 42, NULL, false, &a);
    run(split, GEMM_ONEDNN, use_gemm, N, 9, false, 42, NULL, false, &b1);
    run(split, GEMM_ONEDNN, use_gemm, N, 0, true, 42, NULL, false, &b2);
    CHECK_MSG(a.status == IR_OK && b1.status == IR_OK && b2.status == IR_OK,
              "%s / %s / %s", a.msg, b1.msg, b2.msg);
    CHECK(a.n == N && b1.n == 9 && b2.n == N - 9);
    int same = a.n == b1.n + b2.n;
    for (size_t i = 0; same && i < b1.n; i++)
        same &= memcmp(&a.loss[i], &b1.loss[i], sizeof(float)) == 0;
    for (size_t i = 0; same && i < b2.n; i++)
        same &= memcmp(&a.loss[9 + i], &b2.loss[i], sizeof(float)) == 0;
    printf("resume (%s): losses %s; step 10 %.9g vs %.9g\n", what,
           same ? "identical" : "DIFFER", a.n > 9 ? a.loss[9] : NAN,
           b2.n ? b2.loss[0] : NAN);
    CHECK_MSG(same, "%s: losses of the resumed run differ", what);
    ir_encoder_config c;
    tiny_config(&c, 16);
    train_params *p;
    ir_diag d;
    train_params_new(&c, &p, &d);
    /* keep-best picks the same weights in both runs */
    CHECK_MSG(memcmp(a.params, b2.params, p->n * sizeof(float)) == 0,
              "%s: final params differ", what);
    CHECK(memcmp(a.extra, b2.extra, sizeof a.extra) == 0 && a.extra[0] != 1.0f);
    size_t np = p->n;
    train_params_free(p);
    /* the figures cover the steps before the resume: the last loss, the
     * time and the tokens of the whole run */
    CHECK(memcmp(&a.last_loss, &b2.last_loss, sizeof(float)) == 0);
    CHECK(a.tokens == b2.tokens && b2.seconds > 0);
    /* and the teacher's seconds: the killed run's 9 steps at 0.5 s */
    CHECK_MSG(a.teacher_before == 0 && b2.teacher_before == 4.5,
              "teacher seconds before the resume: %g", b2.teacher_before);
    /* resuming a finished run trains nothing and reports its figures */
    run_out f;
    run(split, GEMM_ONEDNN, use_gemm, N, 0, true, 42, NULL, false, &f);
    CHECK_MSG(f.status == IR_OK && f.n == 0, "%s", f.msg);
    CHECK_MSG(f.teacher_before == 10, "a finished run's teacher seconds: %g",
              f.teacher_before); /* all 20 steps' */
    CHECK_MSG(memcmp(&a.last_loss, &f.last_loss, sizeof(float)) == 0 &&
              f.tokens == a.tokens && f.seconds > 0,
              "finished run resumed: last loss %g (want %g), tokens %zu (want %zu), "
              "%g s", (double)f.last_loss, (double)a.last_loss, f.tokens, a.tokens,
              f.seconds);
    CHECK(memcmp(a.params, f.params, np * sizeof(float)) == 0);
    free(f.params);
    /* another seed, length, lr, batch or data is refused, naming it */
    run_out e;
    run(split, GEMM_ONEDNN, use_gemm, N, 0, true, 43, NULL, false, &e);
    CHECK_MSG(e.status == IR_ERR_INPUT && strstr(e.msg, "seed"), "%s", e.msg);
    free(e.params);
    run(split, GEMM_ONEDNN, use_gemm, N + 5, 0, true, 42, NULL, false, &e);
    CHECK_MSG(e.status == IR_ERR_INPUT && strstr(e.msg, "steps"), "%s", e.msg);
    free(e.params);
    run_with(split, GEMM_ONEDNN, use_gemm, N, 0, true, 42, NULL, false,
             &(run_change){.lr = 1e-3f}, &e);
    CHECK_MSG(e.status == IR_ERR_INPUT && strstr(e.msg, "--lr 0.002") &&
              strstr(e.msg, "--lr 0.001"), "%s", e.msg);
    free(e.params);
    run_with(split, GEMM_ONEDNN, use_gemm, N, 0, true, 42, NULL, false,
             &(run_change){.batch = 4}, &e);
    CHECK_MSG(e.status == IR_ERR_INPUT && strstr(e.msg, "--batch 8") &&
              strstr(e.msg, "--batch 4"), "%s", e.msg);
    free(e.params);
    run_with(split, GEMM_ONEDNN, use_gemm, N, 0, true, 42, NULL, false,
             &(run_change){.data_seed = 3}, &e);
    CHECK_MSG(e.status == IR_ERR_INPUT && strstr(e.msg, "other data"), "%s", e.msg);
    free(e.params);
    /* the run was fp32 throughout (NULL = fp32): another precision is
     * refused with the option and both values */
    run(split, GEMM_ONEDNN, use_gemm, N, 0, true, 42, "bf16", false, &e);
    CHECK_MSG(e.status == IR_ERR_INPUT && strstr(e.msg, "--teacher-precision fp32") &&
              strstr(e.msg, "--teacher-precision bf16"), "%s", e.msg);
    free(e.params);
    run(split, GEMM_ONEDNN, use_gemm, N, 0, true, 42, "fp32", false, &e);
    CHECK_MSG(e.status == IR_OK, "explicit fp32 resumes an fp32 run: %s", e.msg);
    free(e.params);
    gemm_ctx *probe = NULL;
    bool have_bf16 = use_gemm && test_part("bf16") && gemm_ctx_create(GEMM_ONEDNN, &probe, &d) == IR_OK &&
                     gemm_ctx_set_precision(probe, IR_PRECISION_BF16, &d) == IR_OK;
    gemm_ctx_free(probe);
    if (use_gemm && !have_bf16 && test_part("bf16"))
        test_skip("--gemm-precision resume check (no bf16 GEMM here)");
    if (have_bf16) {
        run(split, GEMM_ONEDNN, use_gemm, N, 0, true, 42, NULL, true, &e);
        CHECK_MSG(e.status == IR_ERR_INPUT && strstr(e.msg, "--gemm-precision fp32") &&
                  strstr(e.msg, "--gemm-precision bf16"), "%s", e.msg);
        free(e.params);
    }
    free(a.params);
    free(b1.params);
    free(b2.params);
}

/* FNV-1a 64, the checkpoint's checksum (distill/checkpoint.c). */
static uint64_t fnv1a(const unsigned char *b, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* Bytes version 4 added at the end of the header (checkpoint.h: the
 * teacher's seconds), version 3 before them (last loss, last dev,
 * seconds, tokens, four options as floats, batch, seq, data and loss
 * hashes, aux size) and version 2 before those (two precision names). */
enum { V4_HEADER = 8,
       V3_HEADER = 4 + 8 + 8 + 8 + 4 * 4 + 8 + 8 + 8 + 8 + 8,
       V2_HEADER = 2 * TRAIN_CKPT_PRECISION_MAX };

/* An older file is a newer one without the header's last fields: rewrite
 * a version 4 file at path into `version`, with its checksum. */
static void downgrade(const char *path, uint32_t to)
{
    FILE *f = fopen(path, "rb");
    long size = file_size(path);
    unsigned char *b = malloc((size_t)size);
    CHECK(f && b && fread(b, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    uint32_t version, hb;
    memcpy(&version, b + 8, 4);
    memcpy(&hb, b + 12, 4);
    CHECK(version == 4);
    size_t drop = V4_HEADER + (to < 3 ? V3_HEADER : 0) + (to < 2 ? V2_HEADER : 0);
    size_t cut = 16 + hb - drop; /* the dropped fields start here */
    memmove(b + cut, b + cut + drop, (size_t)size - cut - drop);
    size_t n1 = (size_t)size - drop;
    hb -= (uint32_t)drop;
    memcpy(b + 8, &to, 4);
    memcpy(b + 12, &hb, 4);
    uint64_t sum = fnv1a(b, n1 - 8);
    memcpy(b + n1 - 8, &sum, 8);
    f = fopen(path, "wb");
    CHECK(f && fwrite(b, 1, n1, f) == n1);
    fclose(f);
    free(b);
}

/* Version 1 and 2 files still load: the figures unknown, the precisions
 * fp32 in version 1; and a resume from one checks what it recorded. A
 * version 3 file loads with its figures and the teacher's seconds 0. */
static void test_old_versions_load(void)
{
    ir_diag d;
    ir_diag_init(&d);
    char dir[256], path[300];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    snprintf(path, sizeof path, "%s/v1.ckpt", dir);
    ir_encoder_config c;
    tiny_config(&c, 8);
    train_params *p, *q;
    CHECK(train_params_new(&c, &p, &d) == IR_OK && train_params_new(&c, &q, &d) == IR_OK);
    train_params_init_random(p, 4, 0.5f);
    train_ckpt_state st = {.step = 3, .total_steps = 9, .data_seed = 42,
                           .best_dev = NAN, .best_step = -1,
                           .gemm_precision = "bf16", .teacher_precision = "bf16",
                           .last_loss = 0.5f, .lr = 1e-3f, .batch = 8,
                           .seconds = 9, .teacher_seconds = 6}, back;
    CHECK(train_ckpt_save(path, p, NULL, &st, &d) == IR_OK);
    downgrade(path, 3);
    CHECK(train_ckpt_load(path, q, NULL, &back, &d) == IR_OK);
    CHECK(back.file_version == 3 && back.last_loss == 0.5f && back.lr == 1e-3f &&
          back.seconds == 9 && back.teacher_seconds == 0);
    for (uint32_t v = 1; v <= 2; v++) {
        CHECK(train_ckpt_save(path, p, NULL, &st, &d) == IR_OK);
        downgrade(path, v);
        memset(q->params, 0, q->n * sizeof(float));
        ir_status s = train_ckpt_load(path, q, NULL, &back, &d);
        CHECK_MSG(s == IR_OK, "version %u file: %s", v, d.msg);
        CHECK(memcmp(p->params, q->params, p->n * sizeof(float)) == 0);
        CHECK(back.step == 3 && back.total_steps == 9 && back.data_seed == 42);
        CHECK(back.file_version == v && isnan(back.last_loss) && back.lr == 0 &&
              back.batch == 0);
        const char *want = v == 1 ? "fp32" : "bf16";
        CHECK_MSG(!strcmp(back.gemm_precision, want) &&
                  !strcmp(back.teacher_precision, want),
                  "version %u reads as %s: %s / %s", v, want, back.gemm_precision,
                  back.teacher_precision);
        /* options it did not record are not compared */
        train_ckpt_state now = back;
        now.lr = 5e-4f;
        now.batch = 16;
        now.file_version = TRAIN_CKPT_VERSION;
        CHECK(train_ckpt_match(path, &back, &now, &d) == IR_OK);
        now.data_seed = 7;
        CHECK(train_ckpt_match(path, &back, &now, &d) == IR_ERR_INPUT);
    }
    /* a version from the future is refused, naming what this one reads */
    FILE *f = fopen(path, "r+b");
    uint32_t version = 9;
    fseek(f, 8, SEEK_SET);
    fwrite(&version, 4, 1, f);
    fclose(f);
    CHECK(train_ckpt_load(path, q, NULL, &back, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "version 9") != NULL, "%s", d.msg);
    train_params_free(p);
    train_params_free(q);
}

int main(void)
{
    test_roundtrip_and_errors();
    test_old_versions_load();
    test_resume_exact(true);
    test_resume_exact(false);
    return test_finish("test_checkpoint");
}

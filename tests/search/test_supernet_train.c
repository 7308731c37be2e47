/* test_supernet_train.c — a supernet made from a teacher and trained by
 * layer-wise distillation with the sandwich rule: sorting the teacher's
 * axes by importance keeps its function (logits within 1e-5), a few steps
 * lower the distillation loss, the same seed gives the same run bit for
 * bit, a run resumed from a checkpoint taken mid-way (what a kill leaves)
 * ends with the same supernet bit for bit and the same figures, a resume
 * with another lr is refused naming it, a candidate's slice is evaluated
 * on labelled data, bad options or a teacher of another task are refused
 * by name, and a teacher sharing layers or factorizing its embeddings
 * unfolds into a supernet computing its function. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "distill/checkpoint.h"
#include "distill/model.h"
#include "distill/kernels.h"
#include "search/supernet_train.h"
#include "testutil.h"
#include "train_synth.h"

enum { V = 40, T = 12, N = 96 };

static const char *space_xml =
    "<space version=\"1\">\n"
    "  <base vocab=\"40\" max-positions=\"16\" type-vocab=\"2\" labels=\"2\"/>\n"
    "  <choices>\n"
    "    <layers>1 2</layers>\n"
    "    <hidden>16 32</hidden>\n"
    "    <heads>2 4</heads>\n"
    "    <ffn>32 64</ffn>\n"
    "    <embed>0</embed>\n"
    "    <sharing>none all</sharing>\n"
    "  </choices>\n"
    "</space>\n";

/* The teacher: 2 layers x 32, 4 heads, FFN 64, weights N(0, 0.2) so the
 * axes differ in importance. */
static ir_encoder *make_teacher(int64_t labels)
{
    ir_diag d;
    ir_encoder_config c;
    ir_encoder_config_init(&c);
    c.vocab = V, c.max_positions = 16, c.type_vocab = 2, c.labels = labels;
    c.layers = 2, c.hidden = 32, c.heads = 4, c.ffn = 64;
    ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, &d);
    train_params *p;
    ir_encoder *e = NULL;
    if (train_params_new(&c, &p, &d) != IR_OK)
        return NULL;
    train_params_init_random(p, 3, 0.2f);
    if (ir_encoder_new(&c, &e, &d) != IR_OK || train_params_to_encoder(p, e, &d) != IR_OK) {
        ir_encoder_free(e);
        e = NULL;
    }
    train_params_free(p);
    return e;
}

static double max_rel_diff(const float *a, const float *b, size_t n)
{
    double m = 0, s = 1e-6;
    for (size_t i = 0; i < n; i++)
        s = fmax(s, fabs(b[i]));
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]) / s);
    return m;
}

/* The sorted supernet's full slice computes the teacher's logits. */
static void test_reorder_keeps_function(const ir_encoder *te, const train_data *td)
{
    ir_diag d;
    search_supernet *sn;
    CHECK(search_supernet_from_encoder(te, true, &sn, &d) == IR_OK);
    train_params *tp, *sp;
    CHECK(train_params_from_encoder(te, &tp, &d) == IR_OK);
    CHECK(search_supernet_extract(sn, &te->cfg, &sp, &d) == IR_OK);
    CHECK(memcmp(tp->params, sp->params, tp->n * sizeof(float)) != 0); /* moved */
    train_acts *a, *b;
    size_t B = 8;
    CHECK(train_acts_new(&te->cfg, B, T, &a, &d) == IR_OK);
    CHECK(train_acts_new(&te->cfg, B, T, &b, &d) == IR_OK);
    CHECK(train_forward(tp, a, td->ids, td->types, td->mask, &d) == IR_OK);
    CHECK(train_forward(sp, b, td->ids, td->types, td->mask, &d) == IR_OK);
    double e = max_rel_diff(b->logits, a->logits, B * 2);
    CHECK_MSG(e <= 1e-5, "sorted teacher's logits differ by %g (tolerance 1e-5)", e);
    train_acts_free(a);
    train_acts_free(b);
    train_params_free(tp);
    train_params_free(sp);
    search_supernet_free(sn);
}

/* A teacher sharing one layer's weights (ALBERT) and projecting its
 * word table (E 16) unfolds into a supernet with a weight set per layer
 * and a full table, whose full slice computes the teacher's logits (both
 * unfoldings are exact; tolerance 1e-5 relative); one projecting after
 * its LayerNorm (ELECTRA-small) unfolds too (approximately: not
 * compared). */
static void test_unfold(const train_data *td)
{
    ir_diag d;
    for (int kind = 0; kind < 2; kind++) {
        ir_encoder_config c;
        ir_encoder_config_init(&c);
        c.vocab = V, c.max_positions = 16, c.type_vocab = 2, c.labels = 2;
        c.layers = 2, c.hidden = 32, c.heads = 4, c.ffn = 64, c.embed = 16;
        c.embed_kind = kind ? IR_ENC_EMBED_PROJECT_AFTER_LN : IR_ENC_EMBED_PROJECT_WORD;
        CHECK(ir_encoder_config_share(&c, IR_ENC_SHARE_ALL, 0, &d) == IR_OK);
        train_params *tp, *sp = NULL;
        CHECK(train_params_new(&c, &tp, &d) == IR_OK);
        train_params_init_random(tp, 5, 0.2f);
        ir_encoder *e;
        CHECK(ir_encoder_new(&c, &e, &d) == IR_OK);
        CHECK(train_params_to_encoder(tp, e, &d) == IR_OK);
        search_supernet *sn;
        CHECK_MSG(search_supernet_from_encoder(e, true, &sn, &d) == IR_OK, "%s", d.msg);
        const ir_encoder_config *sc = search_supernet_config(sn);
        CHECK(sc->embed == 0 && sc->n_attn_groups == 2 && sc->n_ffn_groups == 2);
        CHECK(search_supernet_extract(sn, sc, &sp, &d) == IR_OK);
        if (kind == 0) {
            train_acts *a, *b;
            size_t B = 8;
            CHECK(train_acts_new(&c, B, T, &a, &d) == IR_OK);
            CHECK(train_acts_new(sc, B, T, &b, &d) == IR_OK);
            CHECK(train_forward(tp, a, td->ids, td->types, td->mask, &d) == IR_OK);
            CHECK(train_forward(sp, b, td->ids, td->types, td->mask, &d) == IR_OK);
            double err = max_rel_diff(b->logits, a->logits, B * 2);
            CHECK_MSG(err <= 1e-5, "unfolded teacher's logits differ by %g "
                      "(tolerance 1e-5)", err);
            train_acts_free(a);
            train_acts_free(b);
        }
        train_params_free(sp);
        train_params_free(tp);
        search_supernet_free(sn);
        ir_encoder_free(e);
    }
}

/* A short training run from the sorted teacher; returns its result. */
static ir_status train_run(const ir_encoder *te, const search_space *sp,
                           const train_data *td, int64_t steps,
                           search_supernet_train_result *r, double *acc,
                           ir_diag *d)
{
    search_supernet *sn = NULL;
    ir_encoder *sorted = NULL;
    teacher *t = NULL;
    ir_status s = search_supernet_from_encoder(te, true, &sn, d);
    if (s == IR_OK)
        s = search_supernet_encoder(sn, &te->cfg, &sorted, d);
    if (s == IR_OK)
        s = teacher_new(sorted, TEACHER_ENGINE_TRAIN, NULL, NULL, &t, d);
    search_supernet_train_opts o;
    search_supernet_train_opts_default(&o);
    o.steps = steps;
    o.batch = 16;
    o.lr = 1e-3f;
    if (s == IR_OK)
        s = search_supernet_train(sn, sp, t, td, &o, r, d);
    if (s == IR_OK && acc) {
        /* a one-layer, half-width candidate, shared-nothing */
        ir_encoder_config c = te->cfg;
        c.layers = 1, c.hidden = 16, c.heads = 2, c.ffn = 32;
        ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, d);
        s = search_supernet_evaluate(sn, &c, td, METRIC_KIND_ACC, acc, NULL, d);
    }
    teacher_free(t);
    ir_encoder_free(sorted);
    search_supernet_free(sn);
    return s;
}

/* Copies the checkpoint as it stood after step 5, as a kill during step 6
 * would leave it (progress comes before that step's checkpoint). */
typedef struct snapshot {
    const char *from, *to;
    bool taken;
} snapshot;

static void snapshot_cb(void *user, int64_t step, int64_t total, float loss)
{
    (void)total, (void)loss;
    snapshot *sn = user;
    if (step != 6)
        return;
    size_t n = 0;
    char *b = test_read_file(sn->from, &n);
    FILE *f = fopen(sn->to, "wb");
    sn->taken = b && f && fwrite(b, 1, n, f) == n;
    if (f)
        fclose(f);
    free(b);
}

/* One run from the sorted teacher with checkpoints at path; its final
 * supernet parameters into *params (malloc'd). */
static ir_status ckpt_run(const ir_encoder *te, const search_space *sp,
                          const train_data *td, const char *path, bool resume,
                          float lr, snapshot *snap,
                          search_supernet_train_result *r, float **params,
                          ir_diag *d)
{
    search_supernet *sn = NULL;
    ir_encoder *sorted = NULL;
    teacher *t = NULL;
    ir_status s = search_supernet_from_encoder(te, true, &sn, d);
    if (s == IR_OK)
        s = search_supernet_encoder(sn, &te->cfg, &sorted, d);
    if (s == IR_OK)
        s = teacher_new(sorted, TEACHER_ENGINE_TRAIN, NULL, NULL, &t, d);
    search_supernet_train_opts o;
    search_supernet_train_opts_default(&o);
    o.steps = 12;
    o.batch = 16;
    o.lr = lr;
    o.ckpt_path = path;
    o.ckpt_every = 5;
    o.resume = resume;
    if (snap) {
        o.progress = snapshot_cb;
        o.progress_user = snap;
    }
    if (s == IR_OK)
        s = search_supernet_train(sn, sp, t, td, &o, r, d);
    if (s == IR_OK) {
        const train_params *p = search_supernet_params(sn);
        *params = malloc(p->n * sizeof(float));
        memcpy(*params, p->params, p->n * sizeof(float));
    }
    teacher_free(t);
    ir_encoder_free(sorted);
    search_supernet_free(sn);
    return s;
}

static void test_resume(const ir_encoder *te, const search_space *sp,
                        const train_data *td)
{
    ir_diag d;
    ir_diag_init(&d);
    char dir[256], whole[300], cut[300];
    CHECK(test_tmpdir(dir, sizeof dir) != NULL);
    snprintf(whole, sizeof whole, "%s/whole.ckpt", dir);
    snprintf(cut, sizeof cut, "%s/cut.ckpt", dir);
    search_supernet_train_result ra, rb;
    float *pa = NULL, *pb = NULL;
    snapshot snap = {whole, cut, false};
    CHECK(ckpt_run(te, sp, td, whole, false, 1e-3f, &snap, &ra, &pa, &d) == IR_OK);
    CHECK(snap.taken);
    /* the checkpoint keeps the teacher's seconds so far (version 4) */
    train_ckpt_state at5;
    CHECK(train_ckpt_peek(cut, &at5, &d) == IR_OK && at5.step == 5 &&
          at5.teacher_seconds > 0 && at5.teacher_seconds < ra.teacher_seconds);
    CHECK_MSG(ckpt_run(te, sp, td, cut, true, 1e-3f, NULL, &rb, &pb, &d) == IR_OK,
              "%s", d.msg);
    /* the resumed run's count starts from the killed run's */
    CHECK_MSG(rb.teacher_seconds > at5.teacher_seconds,
              "teacher seconds %g after resuming from %g", rb.teacher_seconds,
              at5.teacher_seconds);
    CHECK(rb.start_step == 5 && rb.steps == 12 && ra.start_step == 0);
    const train_params *shape = NULL;
    search_supernet *sn;
    CHECK(search_supernet_from_encoder(te, true, &sn, &d) == IR_OK);
    shape = search_supernet_params(sn);
    bool same = pa && pb && memcmp(pa, pb, shape->n * sizeof(float)) == 0;
    printf("supernet resumed at step 5 of 12: parameters %s, loss %.9g -> %.9g "
           "(never stopped: %.9g -> %.9g)\n", same ? "identical" : "DIFFER",
           rb.first_loss, rb.last_loss, ra.first_loss, ra.last_loss);
    CHECK_MSG(same, "the resumed supernet differs from the one never stopped");
    CHECK(ra.first_loss == rb.first_loss && ra.last_loss == rb.last_loss &&
          ra.subnets == rb.subnets && ra.tokens == rb.tokens && rb.seconds > 0);
    /* a finished checkpoint resumes to the end at once */
    free(pb);
    CHECK(ckpt_run(te, sp, td, whole, true, 1e-3f, NULL, &rb, &pb, &d) == IR_OK);
    CHECK(rb.start_step == 12 && rb.last_loss == ra.last_loss && pb &&
          memcmp(pa, pb, shape->n * sizeof(float)) == 0);
    CHECK(rb.teacher_seconds == ra.teacher_seconds); /* from the checkpoint */
    free(pb);
    pb = NULL;
    /* another lr is refused, naming it */
    CHECK(ckpt_run(te, sp, td, whole, true, 2e-3f, NULL, &rb, &pb, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "--lr 0.001") && strstr(d.msg, "--lr 0.002"), "%s", d.msg);
    search_supernet_free(sn);
    free(pa);
    free(pb);
}

int main(void)
{
    ir_diag d;
    ir_diag_init(&d);
    search_space sp;
    CHECK(search_space_load_memory(space_xml, strlen(space_xml), "toy.xml", &sp,
                                   &d) == IR_OK);
    ir_encoder *te = make_teacher(2);
    CHECK(te != NULL);
    if (!te)
        return test_finish("test_supernet_train");
    train_data td;
    train_synth_data(&td, N, T, 7);
    test_reorder_keeps_function(te, &td);

    /* training lowers the sandwich's mean distillation loss */
    search_supernet_train_result r1, r2;
    double acc = NAN;
    CHECK(train_run(te, &sp, &td, 12, &r1, &acc, &d) == IR_OK);
    CHECK_MSG(r1.steps == 12 && r1.subnets == 12 * 4, "%lld steps, %lld sub-networks",
              (long long)r1.steps, (long long)r1.subnets);
    CHECK_MSG(r1.last_loss < 0.8 * r1.first_loss, "loss %g -> %g (want a 20%% drop)",
              r1.first_loss, r1.last_loss);
    CHECK(r1.tokens > 0);
    printf("supernet training: loss %.4f -> %.4f, slice accuracy %.3f\n", r1.first_loss,
           r1.last_loss, acc);
    CHECK_MSG(acc >= 0 && acc <= 1, "slice accuracy %g", acc);
    /* the same seed, the same run */
    CHECK(train_run(te, &sp, &td, 12, &r2, NULL, &d) == IR_OK);
    CHECK(r1.last_loss == r2.last_loss && r1.first_loss == r2.first_loss);
    test_resume(te, &sp, &td);

    /* a deadline ends a long run early (the schedule follows the time) */
    {
        search_supernet *sd;
        teacher *td_t;
        CHECK(search_supernet_from_encoder(te, true, &sd, &d) == IR_OK);
        CHECK(teacher_new(te, TEACHER_ENGINE_TRAIN, NULL, NULL, &td_t, &d) == IR_OK);
        search_supernet_train_opts od;
        search_supernet_train_opts_default(&od);
        od.steps = 100000;
        od.batch = 16;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        od.deadline_s = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec + 0.5;
        search_supernet_train_result rd;
        CHECK(search_supernet_train(sd, &sp, td_t, &td, &od, &rd, &d) == IR_OK);
        CHECK_MSG(rd.steps >= 1 && rd.steps < 100000 && rd.seconds < 30,
                  "%lld steps in %.1f s under a 0.5 s deadline", (long long)rd.steps,
                  rd.seconds);
        teacher_free(td_t);
        search_supernet_free(sd);
    }

    /* bad options and a teacher of another task */
    search_supernet *sn;
    CHECK(search_supernet_from_encoder(te, true, &sn, &d) == IR_OK);
    teacher *t;
    CHECK(teacher_new(te, TEACHER_ENGINE_TRAIN, NULL, NULL, &t, &d) == IR_OK);
    search_supernet_train_opts o;
    search_supernet_train_opts_default(&o);
    CHECK(search_supernet_train(sn, &sp, t, &td, &o, &r1, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "steps 0") != NULL);
    teacher_free(t);
    ir_encoder *t3 = make_teacher(3);
    CHECK(teacher_new(t3, TEACHER_ENGINE_TRAIN, NULL, NULL, &t, &d) == IR_OK);
    o.steps = 2;
    CHECK(search_supernet_train(sn, &sp, t, &td, &o, &r1, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "labels") != NULL);
    teacher_free(t);
    ir_encoder_free(t3);
    search_supernet_free(sn);
    test_unfold(&td);

    train_data_free(&td);
    ir_encoder_free(te);
    return test_finish("test_supernet_train");
}

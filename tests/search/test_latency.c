/* test_latency.c — the latency model on tiny shapes (timings of a
 * millisecond or so each): predictions grow with the model, repeated
 * shapes come from the cache, the cache file round-trips and refuses
 * foreign or broken files, interpolation works without measuring, the
 * overhead fit is exact on exact data, and Kendall's tau is right. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/latency.h"
#include "testutil.h"

static ir_encoder_config cfg(int64_t L, int64_t H, int64_t A, int64_t F)
{
    ir_encoder_config c;
    ir_encoder_config_init(&c);
    c.layers = L, c.hidden = H, c.heads = A, c.ffn = F;
    c.vocab = 1000;
    c.max_positions = 64;
    ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, NULL);
    return c;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

int main(void)
{
    char dir[256], cache[512];
    if (!test_tmpdir(dir, sizeof dir))
        return 1;
    snprintf(cache, sizeof cache, "%s/sub/latency.json", dir);
    search_latency_opts o;
    search_latency_opts_default(&o);
    o.cache_path = cache;
    o.min_time_ms = 2; /* tiny budget: the test checks plumbing, not speed */
    o.reps = 3;
    ir_diag d;
    ir_diag_init(&d);
    search_latency *lm;
    ir_status s = search_latency_create(&o, &lm, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    if (s != IR_OK)
        return test_finish("test_latency");
    CHECK(strcmp(search_latency_cache_path(lm), cache) == 0);

    search_latency_query q = {.batch = 1, .seq = 16, .threads = 1,
                              .precision = IR_PRECISION_FP32};
    ir_encoder_config small = cfg(2, 64, 2, 128), deep = cfg(4, 64, 2, 128);
    ir_encoder_config big = cfg(4, 256, 4, 1024);
    search_latency_estimate es, ed, eb;
    CHECK_MSG(search_latency_predict(lm, &small, &q, &es, &d) == IR_OK, "%s", d.msg);
    CHECK(es.measured > 0 && es.total_ms > 0 && isfinite(es.total_ms));
    CHECK(!es.calibrated && es.overhead_ms == 0);
    size_t n_small = search_latency_entries(lm);
    /* the same shapes again: nothing new is timed; each extra layer adds
     * one full layer, and the last layer (run for [CLS] only) costs less */
    CHECK(search_latency_predict(lm, &deep, &q, &ed, &d) == IR_OK);
    CHECK(ed.measured == 0 && search_latency_entries(lm) == n_small);
    double full = (ed.layers_ms - es.layers_ms) / 2, last = es.layers_ms - full;
    CHECK_MSG(last > 0 && last < full, "last layer %.4f ms, full layer %.4f ms",
              last, full);
    CHECK(ed.total_ms > es.total_ms);
    /* 16x the FLOPs per layer: clearly slower even on a busy machine */
    CHECK(search_latency_predict(lm, &big, &q, &eb, &d) == IR_OK);
    CHECK_MSG(eb.total_ms > ed.total_ms, "big %.4f ms vs small %.4f ms",
              eb.total_ms, ed.total_ms);
    printf("predicted: L2 H64 %.4f ms, L4 H64 %.4f ms, L4 H256 F1024 %.4f ms "
           "(%zu primitives timed)\n", es.total_ms, ed.total_ms, eb.total_ms,
           search_latency_entries(lm));

    /* calibration: overhead = a + b·(MB of layer weights at fp32), exact
     * on exact data */
    ir_encoder_config cs[2] = {small, big};
    double w_small = search_config_body_params(&small) * 4.0 / (1 << 20);
    double w_big = search_config_body_params(&big) * 4.0 / (1 << 20);
    double w_deep = search_config_body_params(&deep) * 4.0 / (1 << 20);
    double meas[2] = {es.total_ms + 0.5 + 0.1 * w_small, eb.total_ms + 0.5 + 0.1 * w_big};
    CHECK(search_latency_calibrate(lm, cs, meas, 2, &q, &d) == IR_OK);
    search_latency_estimate ec;
    CHECK(search_latency_predict(lm, &deep, &q, &ec, &d) == IR_OK);
    CHECK_MSG(ec.calibrated && fabs(ec.overhead_ms - (0.5 + 0.1 * w_deep)) < 1e-9,
              "overhead %.6f", ec.overhead_ms);
    CHECK(fabs(ec.total_ms - (ed.total_ms + ec.overhead_ms)) < 1e-9);
    /* a fit that would go negative is clamped at zero */
    double meas_neg[2] = {es.total_ms - 0.2, eb.total_ms - 0.4};
    CHECK(search_latency_calibrate(lm, cs, meas_neg, 2, &q, &d) == IR_OK);
    search_latency_estimate en;
    CHECK(search_latency_predict(lm, &deep, &q, &en, &d) == IR_OK);
    CHECK(en.calibrated && en.overhead_ms == 0);
    CHECK(search_latency_calibrate(lm, cs, meas, 2, &q, &d) == IR_OK);

    /* the cpu clock times one thread only */
    search_latency_opts oc = o;
    oc.clock = SEARCH_CLOCK_CPU;
    oc.load_cache = false;
    search_latency *lc;
    CHECK(search_latency_create(&oc, &lc, &d) == IR_OK);
    search_latency_query q2t = q;
    q2t.threads = 2;
    CHECK(search_latency_predict(lc, &small, &q2t, &es, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "cpu clock") != NULL);
    search_latency_estimate ecpu;
    CHECK(search_latency_predict(lc, &small, &q, &ecpu, &d) == IR_OK);
    CHECK(ecpu.measured > 0 && ecpu.total_ms > 0);
    search_latency_free(lc);
    search_clock ck;
    CHECK(search_clock_parse("cpu", &ck) && ck == SEARCH_CLOCK_CPU);
    CHECK(!search_clock_parse("tsc", &ck));

    /* bad queries name the field */
    search_latency_query bad = q;
    bad.batch = 0;
    CHECK(search_latency_predict(lm, &small, &bad, &es, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "batch") != NULL);
    bad = q;
    bad.seq = 65;
    CHECK(search_latency_predict(lm, &small, &bad, &es, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "max_positions") != NULL);

    /* round trip through the file */
    CHECK_MSG(search_latency_save(lm, &d) == IR_OK, "%s", d.msg);
    size_t n_all = search_latency_entries(lm);
    search_latency_free(lm);
    o.measure = false;
    CHECK(search_latency_create(&o, &lm, &d) == IR_OK);
    CHECK(search_latency_entries(lm) == n_all);
    search_latency_estimate e2;
    CHECK(search_latency_predict(lm, &deep, &q, &e2, &d) == IR_OK);
    CHECK(e2.measured == 0 && fabs(e2.total_ms - ec.total_ms) < 1e-6 * ec.total_ms);
    /* without measuring, a new shape is interpolated from its neighbours */
    ir_encoder_config mid = cfg(2, 128, 2, 512);
    CHECK_MSG(search_latency_predict(lm, &mid, &q, &e2, &d) == IR_OK, "%s", d.msg);
    CHECK(e2.measured == 0 && e2.total_ms > 0 && isfinite(e2.total_ms));
    CHECK(search_latency_entries(lm) == n_all);
    /* ... but not from another thread count */
    search_latency_query q2 = q;
    q2.threads = 3;
    CHECK(search_latency_predict(lm, &mid, &q2, &e2, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "nothing cached") != NULL);
    search_latency_free(lm);

    /* foreign and broken cache files are refused with a fix */
    char other[512];
    snprintf(other, sizeof other, "%s/other.json", dir);
    write_text(other, "{\"format\": \"distilc-latency\", \"version\": 2, "
                      "\"cpu\": \"a CPU from elsewhere\", \"entries\": {}}");
    o.cache_path = other;
    CHECK(search_latency_create(&o, &lm, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "a CPU from elsewhere") && strstr(d.msg, "--cache"));
    write_text(other, "{\"format\": \"something\"}");
    CHECK(search_latency_create(&o, &lm, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "delete") != NULL);
    write_text(other, "{not json");
    CHECK(search_latency_create(&o, &lm, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "other.json:1:") != NULL, "%s", d.msg);
    /* a missing file is simply an empty cache */
    snprintf(other, sizeof other, "%s/none.json", dir);
    CHECK(search_latency_create(&o, &lm, &d) == IR_OK);
    CHECK(search_latency_entries(lm) == 0);
    search_latency_free(lm);

    /* save_each: a prediction that timed something is in the file at once,
     * so a process killed after it (here: freed without a save) lost
     * nothing; a new model reads the very numbers and times nothing */
    char grow[512];
    snprintf(grow, sizeof grow, "%s/grow.json", dir);
    search_latency_opts_default(&o);
    o.cache_path = grow;
    o.min_time_ms = 2;
    o.reps = 3;
    o.save_each = true;
    search_latency_estimate g1, g2;
    CHECK(search_latency_create(&o, &lm, &d) == IR_OK);
    CHECK_MSG(search_latency_predict(lm, &small, &q, &g1, &d) == IR_OK, "%s", d.msg);
    CHECK(g1.measured > 0);
    search_latency_free(lm);
    o.measure = false;
    CHECK(search_latency_create(&o, &lm, &d) == IR_OK);
    CHECK_MSG(search_latency_predict(lm, &small, &q, &g2, &d) == IR_OK, "%s", d.msg);
    CHECK(g2.measured == 0 && memcmp(&g1.total_ms, &g2.total_ms, sizeof g1.total_ms) == 0);
    search_latency_free(lm);
    /* a cache that cannot be written (its folder became a file after the
     * model was made): the timings still come, and the caller's own save
     * says why */
    char gone[512];
    snprintf(gone, sizeof gone, "%s/gone", dir);
    snprintf(grow, sizeof grow, "%s/gone/latency.json", dir);
    o.cache_path = grow;
    o.measure = true;
    s = search_latency_create(&o, &lm, &d);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    if (s == IR_OK) {
        write_text(gone, "a file where the cache's folder would be");
        CHECK_MSG(search_latency_predict(lm, &small, &q, &g1, &d) == IR_OK, "%s",
                  d.msg);
        CHECK(g1.measured > 0);
        CHECK(search_latency_save(lm, &d) == IR_ERR_IO);
        CHECK_MSG(strstr(d.msg, "latency cache") != NULL, "%s", d.msg);
        search_latency_free(lm);
    }

    /* Kendall's tau-b (values from scipy.stats.kendalltau) */
    double x[4] = {1, 2, 3, 4}, y[4] = {1, 3, 2, 4}, z[4] = {4, 3, 2, 1};
    CHECK(fabs(search_kendall_tau(x, y, 4) - 2.0 / 3.0) < 1e-12);
    CHECK(fabs(search_kendall_tau(x, z, 4) + 1.0) < 1e-12);
    double t1[5] = {1, 2, 2, 3, 4}, t2[5] = {1, 2, 3, 3, 5};
    CHECK(fabs(search_kendall_tau(t1, t2, 5) - 0.8888888888888888) < 1e-12);
    return test_finish("test_latency");
}

/* latency.c — the latency model of search/latency.h: looks up, measures
 * (search/latency_bench.c) or interpolates the time of each primitive a
 * candidate runs, caches the timings per machine in a JSON file, and sums
 * them into a whole-model prediction with the fitted overhead.
 *
 * Timing: one warm-up run (primitive creation, weight packing), one run to
 * size the samples, then samples of ~0.2 ms until min_time_ms is spent
 * (and at least `reps` samples); the fastest sample gives the per-call
 * time. The minimum, not the mean or median, because on a shared
 * machine the noise only ever adds time: a preempted OpenMP thread stalls a
 * barrier for a whole scheduler slice. `distilc latency-model` measures
 * whole models the same way.
 */
#include "ir/clock.h"
#include "ir/file_read.h"
#include "search/latency.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/dnnl_engine.h"
#include "backend/dnnl_matmul.h"
#include "frontend/json.h"
#include "ir/file_atomic.h"
#include "search/latency_internal.h"

#define LAT_FORMAT "distilc-latency"
/* 2: the runtime runs the last layer for [CLS] only (attention tag 1) */
#define LAT_VERSION 2

static const char *const kind_names[LAT_KIND_COUNT] = {
    "linear", "attention", "layernorm", "embed", "overhead", "overhead-per-mb",
};

struct search_latency {
    search_latency_opts o;
    char path[1024];
    char cpu[256];
    lat_entry *e;
    size_t n, cap;
    bool dirty;
    onednn_ctx *ctx; /* created on the first measurement */
    /* what the rest of the machine used while this model timed anything
     * (ir/machine_load.h): summed over every timing, clamped when read */
    double timed_s, others_cpu_s;
    bool load_known;
};

void search_latency_opts_default(search_latency_opts *o)
{
    memset(o, 0, sizeof *o);
    o->load_cache = true;
    o->measure = true;
    o->min_time_ms = 50;
    o->reps = 5;
}

static const char *const clock_names[SEARCH_CLOCK_COUNT] = {"wall", "cpu"};

const char *search_clock_name(search_clock c)
{
    return (unsigned)c < SEARCH_CLOCK_COUNT ? clock_names[c] : "?";
}

bool search_clock_parse(const char *s, search_clock *out)
{
    for (int i = 0; i < SEARCH_CLOCK_COUNT; i++)
        if (strcmp(s, clock_names[i]) == 0) {
            *out = (search_clock)i;
            return true;
        }
    return false;
}

double search_clock_ms(search_clock c)
{
    return 1e3 * ir_clock_s(c == SEARCH_CLOCK_CPU ? IR_CLOCK_THREAD_CPU : IR_CLOCK_WALL);
}

/* ---- the machine and the cache file ------------------------------------ */
static void cpu_describe(char *buf, size_t n)
{
    char model[200] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *p = strchr(line, ':');
                if (p) {
                    p++;
                    while (*p == ' ' || *p == '\t')
                        p++;
                    p[strcspn(p, "\n")] = 0;
                    snprintf(model, sizeof model, "%s", p);
                }
                break;
            }
        }
        fclose(f);
    }
    snprintf(buf, n, "%s x%ld", model, sysconf(_SC_NPROCESSORS_ONLN));
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static void default_path(const char *cpu, char *buf, size_t n)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char dir[768];
    if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/distilc", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.cache/distilc", home);
    else
        snprintf(dir, sizeof dir, "/tmp/distilc-cache");
    /* The version is in the name so that a newer distilc starts its own
     * cache instead of refusing an old one. */
    snprintf(buf, n, "%s/latency-v%d-%016llx.json", dir, LAT_VERSION,
             (unsigned long long)fnv1a(cpu));
}

static void entry_key(const lat_entry *e, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s/t%d/%s/%lld,%lld,%lld,%lld/a%d", kind_names[e->kind],
             ir_precision_name(e->prec), e->threads,
             search_clock_name(e->clock), (long long)e->d[0],
             (long long)e->d[1], (long long)e->d[2], (long long)e->d[3], e->tag);
}

static bool entry_parse(const char *key, lat_entry *e)
{
    char kind[32], prec[16], clk[16];
    long long d0, d1, d2, d3;
    int th, tag;
    if (sscanf(key, "%31[^/]/%15[^/]/t%d/%15[^/]/%lld,%lld,%lld,%lld/a%d", kind,
               prec, &th, clk, &d0, &d1, &d2, &d3, &tag) != 9)
        return false;
    memset(e, 0, sizeof *e);
    int k = 0;
    while (k < LAT_KIND_COUNT && strcmp(kind_names[k], kind) != 0)
        k++;
    if (k == LAT_KIND_COUNT || !ir_precision_parse(prec, &e->prec) ||
        !search_clock_parse(clk, &e->clock))
        return false;
    e->kind = (lat_kind)k;
    e->threads = th;
    e->d[0] = d0, e->d[1] = d1, e->d[2] = d2, e->d[3] = d3;
    e->tag = tag;
    return true;
}

static bool entry_same(const lat_entry *a, const lat_entry *b)
{
    return a->kind == b->kind && a->prec == b->prec &&
           a->threads == b->threads && a->clock == b->clock && a->tag == b->tag &&
           memcmp(a->d, b->d, sizeof a->d) == 0;
}

static lat_entry *entry_find(search_latency *m, const lat_entry *k)
{
    for (size_t i = 0; i < m->n; i++)
        if (entry_same(&m->e[i], k))
            return &m->e[i];
    return NULL;
}

static ir_status entry_put(search_latency *m, const lat_entry *k, double ms,
                           ir_diag *d)
{
    lat_entry *e = entry_find(m, k);
    if (!e) {
        if (m->n == m->cap) {
            size_t cap = m->cap ? 2 * m->cap : 64;
            lat_entry *ne = realloc(m->e, cap * sizeof *ne);
            if (!ne)
                return ir_diag_set(d, IR_ERR_NOMEM, "latency model: out of memory");
            m->e = ne;
            m->cap = cap;
        }
        e = &m->e[m->n++];
        *e = *k;
    }
    e->ms = ms;
    m->dirty = true;
    return IR_OK;
}

static ir_status cache_load(search_latency *m, ir_diag *d)
{
    struct stat sb;
    if (stat(m->path, &sb) != 0 && errno == ENOENT)
        return IR_OK; /* no cache yet */
    char *text;
    size_t got;
    ir_status rs = ir_file_read_all(m->path, "latency cache", 64 << 20, &text,
                                    &got, d);
    if (rs != IR_OK)
        return rs;
    json_doc doc;
    ir_status s = json_parse(text, got, m->path, &doc, d);
    free(text);
    if (s != IR_OK) {
        char why[IR_DIAG_MSG_MAX];
        snprintf(why, sizeof why, "%s", d ? d->msg : "not JSON");
        return ir_diag_set(d, IR_ERR_INPUT, "%s (delete this latency cache "
                           "file; it is rebuilt by measuring)", why);
    }
    const json_value *fmt = json_get(doc.root, "format");
    const json_value *ver = json_get(doc.root, "version");
    const json_value *cpu = json_get(doc.root, "cpu");
    const json_value *ent = json_get(doc.root, "entries");
    if (!fmt || fmt->type != JSON_STRING || strcmp(fmt->u.str, LAT_FORMAT) != 0 ||
        !ver || !ver->is_int || ver->ival != LAT_VERSION || !ent ||
        ent->type != JSON_OBJECT) {
        json_doc_free(&doc);
        return ir_diag_set(d, IR_ERR_INPUT, "%s: not a version-%d "
                           "\"" LAT_FORMAT "\" cache; delete it (it is rebuilt "
                           "by measuring) or pass another --cache",
                           m->path, LAT_VERSION);
    }
    if (!cpu || cpu->type != JSON_STRING || strcmp(cpu->u.str, m->cpu) != 0) {
        ir_diag_set(d, IR_ERR_INPUT, "%s: measured on '%s', this machine is "
                    "'%s'; its timings do not apply here: pass another "
                    "--cache", m->path, cpu && cpu->type == JSON_STRING ?
                    cpu->u.str : "?", m->cpu);
        json_doc_free(&doc);
        return IR_ERR_INPUT;
    }
    for (size_t i = 0; i < ent->len && s == IR_OK; i++) {
        const json_member *mb = &ent->u.members[i];
        lat_entry e;
        if (mb->value.type != JSON_NUMBER || !entry_parse(mb->key, &e)) {
            s = ir_diag_set(d, IR_ERR_INPUT, "%s:%zu: entry '%s' is not "
                            "\"kind/precision/tT/clock/d0,d1,d2,d3/aN\": number; "
                            "delete the file", m->path, mb->value.line, mb->key);
            break;
        }
        s = entry_put(m, &e, mb->value.u.num, d);
    }
    json_doc_free(&doc);
    m->dirty = false;
    return s;
}

static void mkdir_parents(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755); /* EEXIST is fine; fopen reports real errors */
            *p = '/';
        }
}

ir_status search_latency_save(search_latency *m, ir_diag *d)
{
    if (!m->dirty)
        return IR_OK;
    mkdir_parents(m->path);
    ir_file_atomic a;
    if (ir_file_atomic_open(&a, m->path, 0644, d) != IR_OK)
        return ir_diag_prefix(d, "latency cache");
    FILE *f = a.f;
    fprintf(f, "{\n  \"format\": \"" LAT_FORMAT "\",\n  \"version\": %d,\n"
               "  \"cpu\": ", LAT_VERSION);
    json_write_string(f, m->cpu);
    fprintf(f, ",\n  \"units\": \"milliseconds per call\",\n  \"entries\": {");
    for (size_t i = 0; i < m->n; i++) {
        char key[160];
        entry_key(&m->e[i], key, sizeof key);
        fprintf(f, "%s\n    \"%s\": %.17g", i ? "," : "", key, m->e[i].ms);
    }
    fprintf(f, "\n  }\n}\n");
    if (ir_file_atomic_commit(&a, d) != IR_OK)
        return ir_diag_prefix(d, "latency cache");
    m->dirty = false;
    return IR_OK;
}

ir_status search_latency_create(const search_latency_opts *o,
                                search_latency **out, ir_diag *d)
{
    *out = NULL;
    search_latency *m = calloc(1, sizeof *m);
    if (!m)
        return ir_diag_set(d, IR_ERR_NOMEM, "latency model: out of memory");
    search_latency_opts_default(&m->o);
    if (o)
        m->o = *o;
    if (m->o.reps < 1)
        m->o.reps = 1;
    cpu_describe(m->cpu, sizeof m->cpu);
    if (m->o.cache_path)
        snprintf(m->path, sizeof m->path, "%s", m->o.cache_path);
    else
        default_path(m->cpu, m->path, sizeof m->path);
    m->o.cache_path = NULL; /* the caller's string need not outlive us */
    if (m->o.load_cache) {
        ir_status s = cache_load(m, d);
        if (s != IR_OK) {
            search_latency_free(m);
            return s;
        }
    }
    *out = m;
    return IR_OK;
}

void search_latency_free(search_latency *m)
{
    if (!m)
        return;
    onednn_ctx_free(m->ctx);
    free(m->e);
    free(m);
}

const char *search_latency_cache_path(const search_latency *m) { return m->path; }
const char *search_latency_cpu(const search_latency *m) { return m->cpu; }
size_t search_latency_entries(const search_latency *m) { return m->n; }

static double entry_work(const lat_entry *e)
{
    switch (e->kind) {
    case LAT_LINEAR: return (double)e->d[0] * (double)e->d[1] * (double)e->d[2];
    case LAT_ATTENTION: /* S queries, or one ([CLS], tag 1) */
        return (double)e->d[0] * e->d[1] * e->d[2] * e->d[3] *
               (e->tag == 1 ? 1.0 : (double)e->d[2]);
    case LAT_LAYER_NORM: return (double)e->d[0] * (double)e->d[1];
    case LAT_EMBED: /* summed as doubles: a cache's dims may be anything */
        return (double)e->d[0] * ((double)e->d[1] + (double)e->d[2]);
    default: return 1;
    }
}

/* The nearest cached shape of the same primitive, scaled by work. */
static bool interpolate(const search_latency *m, const lat_entry *k, double *ms)
{
    double w = entry_work(k), best = INFINITY;
    const lat_entry *near = NULL;
    for (size_t i = 0; i < m->n; i++) {
        const lat_entry *e = &m->e[i];
        if (e->kind != k->kind || e->prec != k->prec || e->threads != k->threads ||
            e->clock != k->clock || e->tag != k->tag)
            continue;
        double dist = fabs(log(entry_work(e)) - log(w));
        if (dist < best) {
            best = dist;
            near = e;
        }
    }
    if (!near)
        return false;
    *ms = near->ms * w / entry_work(near);
    return true;
}

/* The time of one primitive: cached, measured, or interpolated. */
static ir_status lookup(search_latency *m, lat_entry k, double *ms,
                        int *measured, ir_diag *d)
{
    k.clock = m->o.clock;
    const lat_entry *e = entry_find(m, &k);
    if (e) {
        *ms = e->ms;
        return IR_OK;
    }
    if (!m->o.measure) {
        if (interpolate(m, &k, ms))
            return IR_OK;
        char key[160];
        entry_key(&k, key, sizeof key);
        return ir_diag_set(d, IR_ERR_INPUT, "latency model: nothing cached "
                           "near %s in %s; allow measuring to fill the cache",
                           key, m->path);
    }
    ir_status s = IR_OK;
    if (!m->ctx && (s = onednn_ctx_create(&m->ctx, d)) != IR_OK)
        return s;
    ir_load_mark a = ir_load_mark_now();
    s = lat_measure(m->ctx, &m->o, &k, ms, d);
    ir_load_mark b = ir_load_mark_now();
    search_latency_count_load(m, &a, &b);
    /* Shapes come and go during a search: drop the primitives cached in
     * the context so memory stays flat. */
    onednn_ctx_clear_cache(m->ctx);
    if (s != IR_OK) {
        char key[160];
        entry_key(&k, key, sizeof key);
        return ir_diag_prefix(d, "latency model: timing %s", key);
    }
    (*measured)++;
    return entry_put(m, &k, *ms, d);
}

static lat_entry mk(lat_kind kind, ir_precision p, int threads, int64_t a,
                    int64_t b, int64_t c, int64_t dd, int tag)
{
    lat_entry e = {kind, p, threads, SEARCH_CLOCK_WALL, {a, b, c, dd}, tag, 0};
    return e;
}

static ir_status check_query(const search_latency_query *q,
                             const ir_encoder_config *c, ir_diag *d)
{
    if (q->batch < 1 || q->seq < 1)
        return ir_diag_set(d, IR_ERR_INPUT, "latency model: batch = %lld and "
                           "seq = %lld must be >= 1", (long long)q->batch,
                           (long long)q->seq);
    if (q->seq > c->max_positions)
        return ir_diag_set(d, IR_ERR_INPUT, "latency model: seq = %lld exceeds "
                           "max_positions = %lld", (long long)q->seq,
                           (long long)c->max_positions);
    if (q->threads < 0 || (unsigned)q->precision >= IR_PRECISION_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "latency model: threads = %d or "
                           "precision = %d out of range", q->threads,
                           (int)q->precision);
    return ir_encoder_config_validate(c, d);
}

static int query_threads(const search_latency_query *q)
{
    return q->threads > 0 ? q->threads : omp_get_num_procs();
}

/* The primitive sums (no overhead). */
static ir_status predict_parts(search_latency *m, const ir_encoder_config *c,
                               const search_latency_query *q,
                               search_latency_estimate *e, ir_diag *d)
{
    memset(e, 0, sizeof *e);
    ir_status s = check_query(q, c, d);
    if (s != IR_OK)
        return s;
    int t = query_threads(q);
    if (m->o.clock == SEARCH_CLOCK_CPU && t != 1)
        return ir_diag_set(d, IR_ERR_INPUT, "latency model: the cpu clock "
                           "times one thread; threads = %d needs the wall "
                           "clock", t);
    ir_precision p = q->precision, f32 = IR_PRECISION_FP32;
    ir_precision pp = p == IR_PRECISION_BF16 ? IR_PRECISION_BF16 : IR_PRECISION_FP32;
    int64_t B = q->batch, S = q->seq, T = B * S, H = c->hidden, F = c->ffn;
    int64_t A = c->heads, E = c->embed;
    int act = (int)c->activation;
    const int res = 8;
    double ms;
    /* embeddings */
    lat_entry emb[3] = {
        mk(LAT_EMBED, f32, t, T, H, E, S, 0),
        mk(LAT_LAYER_NORM, f32, t, T, H, 0, 0, 0),
        mk(LAT_LINEAR, pp, t, T, E, H, 0, IR_ACT_NONE + res),
    };
    for (int i = 0; i < (E > 0 ? 3 : 2); i++) {
        if ((s = lookup(m, emb[i], &ms, &e->measured, d)) != IR_OK)
            return s;
        e->embed_ms += ms;
    }
    /* every layer but the last runs the same shapes (rows = T); the last
     * runs its attention, projections and FFN for the [CLS] rows only
     * (rows = B, backend/rt.c) */
    double one = 0, final = 0;
    for (int cls = 0; cls < 2; cls++) {
        int64_t M = cls ? B : T;
        lat_entry layer[7] = {
            mk(LAT_LINEAR, p, t, T, H, 3 * H, 0, IR_ACT_NONE),
            mk(LAT_ATTENTION, f32, t, B, A, S, H / A, cls),
            mk(LAT_LINEAR, p, t, M, H, H, 0, IR_ACT_NONE + res),
            mk(LAT_LAYER_NORM, f32, t, M, H, 0, 0, 0),
            mk(LAT_LINEAR, p, t, M, H, F, 0, act),
            mk(LAT_LINEAR, p, t, M, F, H, 0, IR_ACT_NONE + res),
            mk(LAT_LAYER_NORM, f32, t, M, H, 0, 0, 0),
        };
        for (int i = 0; i < 7; i++) {
            if ((s = lookup(m, layer[i], &ms, &e->measured, d)) != IR_OK)
                return s;
            *(cls ? &final : &one) += ms;
        }
    }
    e->layers_ms = one * (double)(c->layers - 1) + final;
    lat_entry head[2] = {
        mk(LAT_LINEAR, f32, t, B, H, H, 0, IR_ACT_TANH),
        mk(LAT_LINEAR, f32, t, B, H, c->labels, 0, IR_ACT_NONE),
    };
    for (int i = 0; i < 2; i++) {
        if ((s = lookup(m, head[i], &ms, &e->measured, d)) != IR_OK)
            return s;
        e->head_ms += ms;
    }
    e->total_ms = e->embed_ms + e->layers_ms + e->head_ms;
    return IR_OK;
}

/* MB of encoder-layer weights one inference streams in, each sharing
 * group once. The micro-benchmarks run with their weights hot in cache; a
 * whole model reads every group's weights cold once per inference, so the
 * difference to the measured time grows with these bytes (not with the
 * layer count: sharing all layers costs almost nothing extra). */
static double layer_weight_mb(const ir_encoder_config *c, ir_precision p)
{
    double per = p == IR_PRECISION_FP32 ? 4 : p == IR_PRECISION_BF16 ? 2 : 1;
    return (double)search_config_body_params(c) * per / (1024.0 * 1024.0);
}

bool search_latency_calibrated(search_latency *m,
                               const search_latency_query *q)
{
    int t = query_threads(q);
    lat_entry k0 = mk(LAT_OVERHEAD, q->precision, t, q->batch, q->seq, 0, 0, 0);
    lat_entry k1 = mk(LAT_OVERHEAD_MB, q->precision, t, q->batch, q->seq, 0, 0, 0);
    k0.clock = k1.clock = m->o.clock;
    return entry_find(m, &k0) && entry_find(m, &k1);
}

/* opts.save_each: the cache written after new timings; a failure turns it
 * off and is left to the caller's search_latency_save to report. */
static void save_each(search_latency *m)
{
    if (!m->o.save_each || !m->dirty)
        return;
    ir_diag d;
    ir_diag_init(&d);
    if (search_latency_save(m, &d) != IR_OK)
        m->o.save_each = false;
}

void search_latency_count_load(search_latency *m, const ir_load_mark *a,
                               const ir_load_mark *b)
{
    double others, wall;
    bool ok = ir_load_between(a, b, &others, &wall);
    m->timed_s += wall;
    if (ok) {
        m->others_cpu_s += others;
        m->load_known = true;
    }
}

bool search_latency_load(const search_latency *m, search_latency_load_info *out)
{
    out->timed_s = m->timed_s;
    out->others_cores = m->load_known && m->timed_s > 0 && m->others_cpu_s > 0
                            ? m->others_cpu_s / m->timed_s : 0;
    return m->load_known;
}

bool search_latency_timed_busy(const search_latency *m, double expected_cores,
                               search_latency_load_info *out)
{
    return search_latency_load(m, out) && out->timed_s >= 1 &&
           out->others_cores - expected_cores >= 0.5;
}

ir_status search_latency_predict(search_latency *m, const ir_encoder_config *c,
                                 const search_latency_query *q,
                                 search_latency_estimate *out, ir_diag *d)
{
    ir_status s = predict_parts(m, c, q, out, d);
    if (out->measured > 0)
        save_each(m); /* what was timed, even when a later primitive failed */
    if (s != IR_OK)
        return s;
    int t = query_threads(q);
    lat_entry k0 = mk(LAT_OVERHEAD, q->precision, t, q->batch, q->seq, 0, 0, 0);
    lat_entry k1 = mk(LAT_OVERHEAD_MB, q->precision, t, q->batch, q->seq, 0, 0, 0);
    k0.clock = k1.clock = m->o.clock;
    const lat_entry *a = entry_find(m, &k0), *b = entry_find(m, &k1);
    if (a && b) {
        out->calibrated = true;
        out->overhead_ms = a->ms + b->ms * layer_weight_mb(c, q->precision);
        out->total_ms += out->overhead_ms;
        /* a fit on few points may undershoot tiny models: never predict
         * less than a tenth of the primitive sum */
        double floor_ms = 0.1 * (out->embed_ms + out->layers_ms + out->head_ms);
        if (out->total_ms < floor_ms)
            out->total_ms = floor_ms;
    }
    return IR_OK;
}

ir_status search_latency_calibrate(search_latency *m,
                                   const ir_encoder_config *cfgs,
                                   const double *measured_ms, size_t n,
                                   const search_latency_query *q, ir_diag *d)
{
    if (n == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "latency calibration needs at "
                           "least one measured model");
    double sl = 0, sr = 0, sll = 0, slr = 0;
    for (size_t i = 0; i < n; i++) {
        search_latency_estimate e;
        ir_status s = predict_parts(m, &cfgs[i], q, &e, d);
        if (s != IR_OK)
            return s;
        double L = layer_weight_mb(&cfgs[i], q->precision);
        double r = measured_ms[i] - e.total_ms;
        sl += L, sr += r, sll += L * L, slr += L * r;
    }
    double nn = (double)n, var = sll / nn - (sl / nn) * (sl / nn);
    double b = var > 1e-9 ? (slr / nn - (sl / nn) * (sr / nn)) / var : 0;
    double a = sr / nn - b * sl / nn;
    /* Overheads do not pay back time: on a busy machine a noisy point can
     * tilt the line below zero, so clamp each term and refit the other. */
    if (b < 0) {
        b = 0;
        a = sr / nn;
    }
    if (a < 0) {
        a = 0;
        b = sll > 0 ? fmax(slr / sll, 0) : 0;
    }
    int t = query_threads(q);
    lat_entry k0 = mk(LAT_OVERHEAD, q->precision, t, q->batch, q->seq, 0, 0, 0);
    lat_entry k1 = mk(LAT_OVERHEAD_MB, q->precision, t, q->batch, q->seq, 0, 0, 0);
    k0.clock = k1.clock = m->o.clock;
    ir_status s = entry_put(m, &k0, a, d);
    if (s == IR_OK && (s = entry_put(m, &k1, b, d)) == IR_OK)
        save_each(m);
    return s;
}

double search_kendall_tau(const double *x, const double *y, size_t n)
{
    /* tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)) over all pairs */
    double conc = 0, disc = 0, tx = 0, ty = 0, n0 = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double dx = x[i] - x[j], dy = y[i] - y[j];
            n0++;
            if (dx == 0)
                tx++;
            if (dy == 0)
                ty++;
            if (dx == 0 || dy == 0)
                continue;
            if ((dx > 0) == (dy > 0))
                conc++;
            else
                disc++;
        }
    double den = sqrt((n0 - tx) * (n0 - ty));
    return den > 0 ? (conc - disc) / den : 0;
}

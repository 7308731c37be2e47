/* metrics.c — GLUE metrics (see metrics.h for the definitions and the
 * decisions on degenerate inputs). Sums are taken in double over int64
 * counts so a 400k-example MNLI run stays exact. */
#include "frontend/metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *metric_kind_name(metric_kind k)
{
    static const char *const names[METRIC_KIND_COUNT] = {
        [METRIC_KIND_ACC] = "accuracy",
        [METRIC_KIND_ACC_F1] = "accuracy+f1",
        [METRIC_KIND_MCC] = "matthews_correlation",
        [METRIC_KIND_CORR] = "pearson+spearmanr",
    };
    _Static_assert(sizeof names / sizeof names[0] == METRIC_KIND_COUNT,
                   "metric kind table out of date");
    return (unsigned)k < METRIC_KIND_COUNT ? names[k] : "?";
}

double metric_accuracy(const int *pred, const int *gold, size_t n)
{
    if (n == 0)
        return NAN;
    int64_t right = 0;
    for (size_t i = 0; i < n; i++)
        right += pred[i] == gold[i];
    return (double)right / (double)n;
}

double metric_f1(const int *pred, const int *gold, size_t n, int positive)
{
    if (n == 0)
        return NAN;
    int64_t tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        bool p = pred[i] == positive, g = gold[i] == positive;
        tp += p && g;
        fp += p && !g;
        fn += !p && g;
    }
    /* No positives anywhere: precision and recall are 0/0; scikit-learn's
     * zero_division default reports 0. */
    if (2 * tp + fp + fn == 0)
        return 0.0;
    return (double)(2 * tp) / (double)(2 * tp + fp + fn);
}

double metric_matthews(const int *pred, const int *gold, size_t n,
                       int n_classes)
{
    if (n == 0 || n_classes < 1)
        return NAN;
    int64_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        if (pred[i] < 0 || pred[i] >= n_classes || gold[i] < 0 ||
            gold[i] >= n_classes)
            return NAN;
        correct += pred[i] == gold[i];
    }
    /* Per-class counts one class at a time: no allocation, and GLUE has at
     * most three classes. */
    double s = (double)n, pt = 0, pp = 0, tt = 0;
    for (int k = 0; k < n_classes; k++) {
        int64_t p = 0, t = 0;
        for (size_t i = 0; i < n; i++) {
            p += pred[i] == k;
            t += gold[i] == k;
        }
        pt += (double)p * (double)t;
        pp += (double)p * (double)p;
        tt += (double)t * (double)t;
    }
    double cov_tp = (double)correct * s - pt;
    double cov_pp = s * s - pp, cov_tt = s * s - tt;
    /* Constant predictions or constant gold labels: scikit-learn reports 0. */
    if (cov_pp == 0 || cov_tt == 0)
        return 0.0;
    return cov_tp / sqrt(cov_pp * cov_tt);
}

static bool all_equal(const double *x, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (x[i] != x[0])
            return false;
    return true;
}

double metric_pearson(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]) || isnan(y[i]))
            return NAN;
    /* Tested on the values, not on the variance: a constant column of 0.1
     * has a mean that is not exactly 0.1, and its tiny rounding residue
     * would otherwise give a meaningless r. */
    if (all_equal(x, n) || all_equal(y, n))
        return NAN;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    double r = sxy / (sqrt(sxx) * sqrt(syy));
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int ranked_cmp(const void *a, const void *b)
{
    const ranked *p = a, *q = b;
    if (p->v != q->v)
        return p->v < q->v ? -1 : 1;
    /* Equal values: keep the order stable so results never depend on qsort's
     * internals (the ranks of a tie are averaged anyway). */
    return p->i < q->i ? -1 : p->i > q->i;
}

/* rank[i] = 1-based rank of x[i], ties averaged ("average" method). */
static void ranks_average(const double *x, size_t n, ranked *tmp,
                          double *rank)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = (ranked){x[i], i};
    qsort(tmp, n, sizeof *tmp, ranked_cmp);
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && tmp[hi].v == tmp[lo].v)
            hi++;
        /* positions lo..hi-1 hold ranks lo+1..hi; their mean: */
        double r = ((double)(lo + 1) + (double)hi) / 2.0;
        for (size_t k = lo; k < hi; k++)
            rank[tmp[k].i] = r;
        lo = hi;
    }
}

ir_status metric_spearman(const double *x, const double *y, size_t n,
                          double *rho, ir_diag *d)
{
    *rho = NAN;
    if (n < 2)
        return IR_OK;
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]) || isnan(y[i]))
            return IR_OK; /* scipy's default nan_policy propagates */
    ranked *tmp = malloc(n * sizeof *tmp);
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
    if (!tmp || !rx || !ry) {
        free(tmp);
        free(rx);
        free(ry);
        return ir_diag_set(d, IR_ERR_NOMEM,
                           "spearman: out of memory ranking %zu values", n);
    }
    ranks_average(x, n, tmp, rx);
    ranks_average(y, n, tmp, ry);
    *rho = metric_pearson(rx, ry, n);
    free(tmp);
    free(rx);
    free(ry);
    return IR_OK;
}

static void set_add(metric_set *ms, const char *name, double v)
{
    ms->v[ms->n].name = name;
    ms->v[ms->n].value = v;
    ms->n++;
}

/* Two metrics: append their mean as the main metric (see metrics.h). */
static void set_combine(metric_set *ms)
{
    set_add(ms, "combined_score", (ms->v[0].value + ms->v[1].value) / 2.0);
    ms->main = ms->n - 1;
}

ir_status metrics_compute_classes(metric_kind kind, const int *pred,
                                  const int *gold, size_t n, int n_classes,
                                  metric_set *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->n_examples = n;
    if (kind == METRIC_KIND_CORR || (unsigned)kind >= METRIC_KIND_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "metrics: kind '%s' needs scores, not classes",
                           metric_kind_name(kind));
    if (n_classes < 1)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "metrics: n_classes is %d, must be at least 1",
                           n_classes);
    for (size_t i = 0; i < n; i++) {
        if (pred[i] < 0 || pred[i] >= n_classes)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "metrics: prediction %zu is class %d, outside "
                               "0..%d",
                               i, pred[i], n_classes - 1);
        if (gold[i] < 0 || gold[i] >= n_classes)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "metrics: gold label %zu is class %d, outside "
                               "0..%d (a test split has no labels)",
                               i, gold[i], n_classes - 1);
    }
    switch (kind) {
    case METRIC_KIND_ACC:
        set_add(out, "accuracy", metric_accuracy(pred, gold, n));
        break;
    case METRIC_KIND_ACC_F1:
        set_add(out, "accuracy", metric_accuracy(pred, gold, n));
        set_add(out, "f1", metric_f1(pred, gold, n, 1));
        set_combine(out);
        break;
    case METRIC_KIND_MCC:
        set_add(out, "matthews_correlation",
                metric_matthews(pred, gold, n, n_classes));
        break;
    default:
        break;
    }
    return IR_OK;
}

ir_status metrics_compute_scores(metric_kind kind, const double *pred,
                                 const double *gold, size_t n,
                                 metric_set *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->n_examples = n;
    if (kind != METRIC_KIND_CORR)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "metrics: kind '%s' needs classes, not scores",
                           metric_kind_name(kind));
    double rho;
    ir_status st = metric_spearman(pred, gold, n, &rho, d);
    if (st != IR_OK)
        return st;
    set_add(out, "pearson", metric_pearson(pred, gold, n));
    set_add(out, "spearmanr", rho);
    set_combine(out);
    return IR_OK;
}

double metric_set_get(const metric_set *ms, const char *name)
{
    for (size_t i = 0; i < ms->n; i++)
        if (strcmp(ms->v[i].name, name) == 0)
            return ms->v[i].value;
    return NAN;
}

ir_status metrics_per_class(const int *pred, const int *gold, size_t n,
                            int n_classes, metric_class *out, ir_diag *d)
{
    if (n_classes < 1)
        return ir_diag_set(d, IR_ERR_INPUT, "metrics: n_classes is %d, must "
                           "be at least 1", n_classes);
    memset(out, 0, (size_t)n_classes * sizeof *out);
    size_t *tp = calloc((size_t)n_classes, sizeof *tp);
    if (!tp)
        return ir_diag_set(d, IR_ERR_NOMEM, "metrics: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (pred[i] < 0 || pred[i] >= n_classes || gold[i] < 0 ||
            gold[i] >= n_classes) {
            free(tp);
            return ir_diag_set(d, IR_ERR_INPUT, "metrics: example %zu has "
                               "class %d (predicted %d) outside 0..%d", i,
                               gold[i], pred[i], n_classes - 1);
        }
        out[gold[i]].support++;
        out[pred[i]].predicted++;
        tp[gold[i]] += pred[i] == gold[i];
    }
    for (int k = 0; k < n_classes; k++) {
        metric_class *c = &out[k];
        double t = (double)tp[k];
        c->precision = c->predicted ? t / (double)c->predicted : 0.0;
        c->recall = c->support ? t / (double)c->support : 0.0;
        size_t den = c->predicted + c->support; /* 2tp + fp + fn */
        c->f1 = den ? 2.0 * t / (double)den : 0.0;
    }
    free(tp);
    return IR_OK;
}

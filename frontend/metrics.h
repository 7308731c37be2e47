/* metrics.h — the GLUE metrics: accuracy, binary F1, Matthews correlation,
 * Pearson and Spearman correlation, and the metric set each task reports.
 *
 *     int pred[] = {1, 0, 1, 1}, gold[] = {1, 0, 0, 1};
 *     metric_set ms;
 *     ir_diag d; ir_diag_init(&d);
 *     if (metrics_compute_classes(METRIC_KIND_ACC_F1, pred, gold, 4, 2, &ms,
 *                                 &d) == IR_OK)
 *         // ms.v[0] = {"accuracy", 0.75}, ms.v[1] = {"f1", 0.8},
 *         // ms.v[2] = {"combined_score", 0.775}, ms.main == 2
 *
 * Names and sets follow Hugging Face's `glue` metric (evaluate/datasets),
 * which follows GLUE (Wang et al. 2018, table 1):
 *   CoLA            matthews_correlation
 *   MRPC, QQP       accuracy, f1            (f1 of class 1)
 *   STS-B           pearson, spearmanr
 *   everything else accuracy
 * When a task reports two metrics, the set also holds "combined_score", their
 * mean, as Hugging Face's run_glue.py adds it; that is also how the GLUE
 * leaderboard turns a task's two numbers into its one task score, so it is
 * the set's main metric. Otherwise the single metric is the main one.
 * Values are fractions (0.85), not percentages.
 *
 * Degenerate inputs, decided explicitly (and the same as scikit-learn/scipy):
 *   - n == 0: every metric is NaN.
 *   - F1 with no true and no predicted positives (2tp+fp+fn == 0): 0, as
 *     scikit-learn's zero_division default gives.
 *   - Matthews correlation when predictions or gold labels are constant
 *     (a zero factor under the square root): 0, as scikit-learn gives.
 *   - Pearson/Spearman when either side is constant or n < 2: NaN (the
 *     correlation is undefined; scipy also returns NaN). A NaN makes the
 *     combined score NaN too; writers of reports must print it as null.
 */
#ifndef DISTILC_METRICS_H
#define DISTILC_METRICS_H

#include <stddef.h>

#include "ir/diag.h"

/* Which metric set a task reports. */
typedef enum metric_kind {
    METRIC_KIND_ACC,    /* accuracy */
    METRIC_KIND_ACC_F1, /* accuracy, f1 (binary, class 1 positive) */
    METRIC_KIND_MCC,    /* Matthews correlation */
    METRIC_KIND_CORR,   /* Pearson, Spearman (regression) */
    METRIC_KIND_COUNT
} metric_kind;

const char *metric_kind_name(metric_kind k); /* "accuracy", "accuracy+f1", ... */

/* ---- single metrics -------------------------------------------------------
 * Class arrays hold class indices; n is the number of examples. */

/* Fraction of pred[i] == gold[i]. */
double metric_accuracy(const int *pred, const int *gold, size_t n);
/* F1 of class `positive`: 2tp / (2tp + fp + fn). */
double metric_f1(const int *pred, const int *gold, size_t n, int positive);
/* Matthews correlation over classes 0..n_classes-1 (the multi-class form of
 * Gorodkin 2004, which is the usual phi coefficient for two classes):
 *   (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²))
 * with s examples, c correct, p_k / t_k the predicted / true counts of k.
 * NaN when a class index is outside 0..n_classes-1. */
double metric_matthews(const int *pred, const int *gold, size_t n,
                       int n_classes);
/* Pearson's r. */
double metric_pearson(const double *x, const double *y, size_t n);
/* Spearman's rho: Pearson's r of the ranks, tied values getting the mean of
 * the ranks they span (scipy.stats.spearmanr). Allocates scratch space, so
 * it can fail with IR_ERR_NOMEM. */
ir_status metric_spearman(const double *x, const double *y, size_t n,
                          double *rho, ir_diag *d);

/* ---- a task's metric set --------------------------------------------------*/
enum { METRIC_SET_MAX = 4 };

typedef struct metric_value {
    const char *name; /* "accuracy", "f1", "matthews_correlation", "pearson",
                         "spearmanr", "combined_score" */
    double value;
} metric_value;

typedef struct metric_set {
    metric_kind kind;
    size_t n_examples;
    size_t n;                       /* entries used in v */
    metric_value v[METRIC_SET_MAX];
    size_t main;                    /* index in v of the main metric */
} metric_set;

/* Classification kinds (ACC, ACC_F1, MCC). Class indices must lie in
 * 0..n_classes-1 (IR_ERR_INPUT naming the example otherwise). */
ir_status metrics_compute_classes(metric_kind kind, const int *pred,
                                  const int *gold, size_t n, int n_classes,
                                  metric_set *out, ir_diag *d);
/* Regression kind (CORR). */
ir_status metrics_compute_scores(metric_kind kind, const double *pred,
                                 const double *gold, size_t n,
                                 metric_set *out, ir_diag *d);
/* One class's precision, recall and F1 (one-vs-rest) and its gold count:
 * what `distilc eval` prints per label name. Precision with no predicted
 * example of the class, recall with no gold one, and F1 with neither are
 * 0, as scikit-learn's zero_division default gives. */
typedef struct metric_class {
    double precision, recall, f1;
    size_t support;     /* gold examples of the class */
    size_t predicted;   /* examples predicted as the class */
} metric_class;
/* out[n_classes]; class indices outside 0..n_classes-1 are IR_ERR_INPUT. */
ir_status metrics_per_class(const int *pred, const int *gold, size_t n,
                            int n_classes, metric_class *out, ir_diag *d);

/* The value named `name` in the set, or NaN when absent. */
double metric_set_get(const metric_set *ms, const char *name);

#endif

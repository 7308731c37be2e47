/* test_metrics.c — GLUE metrics on hand-computed cases, degenerate inputs
 * and the per-task metric sets.
 *
 * Second mode, used by tests/frontend/test_metrics_sklearn.py: when the env var
 * DISTILC_METRICS_CASES names a file, the test instead reads the cases in
 * it and prints one line per case with the values it computes, for the
 * Python side to compare against scikit-learn and scipy. The file holds
 * whitespace-separated tokens, cases one after another:
 *     cls <n_classes> <n> <n predictions> <n gold labels>
 *     reg <n> <n predictions> <n gold scores>
 * and the output lines are
 *     case <k> accuracy <v> f1 <v> matthews_correlation <v>
 *     case <k> pearson <v> spearmanr <v>
 * (f1 only for two classes; values printed with %.17g, NaN as "nan").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/glue.h"
#include "frontend/metrics.h"
#include "testutil.h"

static bool near(double a, double b) { return fabs(a - b) < 1e-12; }

static void test_accuracy_f1(void)
{
    int pred[] = {1, 0, 1, 1}, gold[] = {1, 0, 0, 1};
    CHECK(near(metric_accuracy(pred, gold, 4), 0.75));
    /* tp 2, fp 1, fn 0: 2·2 / (2·2 + 1 + 0) */
    CHECK(near(metric_f1(pred, gold, 4, 1), 0.8));
    /* class 0 as positive: tp 1, fp 0, fn 1 -> 2/3 */
    CHECK(near(metric_f1(pred, gold, 4, 0), 2.0 / 3.0));
    /* no positives predicted or true: 0 by the zero_division convention */
    int zeros[] = {0, 0, 0};
    CHECK(metric_f1(zeros, zeros, 3, 1) == 0.0);
    CHECK(metric_accuracy(zeros, zeros, 3) == 1.0);
    CHECK(isnan(metric_accuracy(pred, gold, 0)));
    CHECK(isnan(metric_f1(pred, gold, 0, 1)));
}

static void test_matthews(void)
{
    /* tp 2, fp 1, tn 2, fn 1: (2·2 − 1·1) / sqrt(3·3·3·3) = 1/3 */
    int pred[] = {1, 1, 0, 0, 1, 0}, gold[] = {1, 0, 0, 0, 1, 1};
    CHECK(near(metric_matthews(pred, gold, 6, 2), 1.0 / 3.0));
    CHECK(near(metric_matthews(gold, gold, 6, 2), 1.0));
    int flip[] = {0, 1, 1, 1, 0, 0};
    CHECK(near(metric_matthews(flip, gold, 6, 2), -1.0));
    /* constant predictions (a model that always says "acceptable"): 0 */
    int ones[] = {1, 1, 1, 1, 1, 1};
    CHECK(metric_matthews(ones, gold, 6, 2) == 0.0);
    CHECK(metric_matthews(gold, ones, 6, 2) == 0.0);
    /* three classes: c 3, s 6, every class count 2:
     * (3·6 − 12) / sqrt((36 − 12)(36 − 12)) = 0.25 */
    int p3[] = {0, 1, 2, 0, 1, 2}, g3[] = {0, 1, 2, 1, 2, 0};
    CHECK(near(metric_matthews(p3, g3, 6, 3), 0.25));
    CHECK(isnan(metric_matthews(p3, g3, 6, 2))); /* class 2 out of range */
    CHECK(isnan(metric_matthews(p3, g3, 0, 3)));
}

static void test_correlations(void)
{
    ir_diag d;
    ir_diag_init(&d);
    double x[] = {1, 2, 3, 4, 5}, up[] = {2, 4, 6, 8, 10},
           down[] = {5, 4, 3, 2, 1};
    CHECK(near(metric_pearson(x, up, 5), 1.0));
    CHECK(near(metric_pearson(x, down, 5), -1.0));
    /* dx {-1,0,1}, dy {-1,1,0}: 1 / sqrt(2·2) */
    double a[] = {1, 2, 3}, b[] = {1, 3, 2};
    CHECK(near(metric_pearson(a, b, 3), 0.5));

    double rho;
    /* ranks of x with a tie: {1, 2.5, 2.5, 4} against {1, 2, 3, 4}:
     * 4.5 / sqrt(4.5 · 5) = sqrt(0.9) */
    double tx[] = {1, 2, 2, 3}, ty[] = {1, 2, 3, 4};
    CHECK(metric_spearman(tx, ty, 4, &rho, &d) == IR_OK);
    CHECK_MSG(near(rho, sqrt(0.9)), "rho %.17g", rho);
    /* monotone but not linear: rank correlation 1, Pearson below 1 */
    double cx[] = {1, 2, 3, 4}, cy[] = {1, 8, 27, 64};
    CHECK(metric_spearman(cx, cy, 4, &rho, &d) == IR_OK && near(rho, 1.0));
    CHECK(metric_pearson(cx, cy, 4) < 0.99);

    /* undefined: constant side, fewer than two values, NaN inputs */
    double c[] = {0.1, 0.1, 0.1, 0.1, 0.1};
    CHECK(isnan(metric_pearson(c, x, 5)));
    CHECK(isnan(metric_pearson(x, c, 5)));
    CHECK(metric_spearman(c, x, 5, &rho, &d) == IR_OK && isnan(rho));
    CHECK(isnan(metric_pearson(x, up, 1)));
    CHECK(metric_spearman(x, up, 0, &rho, &d) == IR_OK && isnan(rho));
    double withnan[] = {1, NAN, 3};
    CHECK(isnan(metric_pearson(withnan, a, 3)));
}

static void test_sets(void)
{
    ir_diag d;
    ir_diag_init(&d);
    metric_set ms;
    int pred[] = {1, 0, 1, 1}, gold[] = {1, 0, 0, 1};

    /* MRPC / QQP: accuracy, f1 and their mean as the main metric */
    const glue_task *mrpc = glue_task_lookup("mrpc");
    CHECK(mrpc && mrpc->metric == METRIC_KIND_ACC_F1);
    CHECK(metrics_compute_classes(mrpc->metric, pred, gold, 4, 2, &ms, &d) ==
          IR_OK);
    CHECK(ms.n == 3 && strcmp(ms.v[0].name, "accuracy") == 0 &&
          strcmp(ms.v[1].name, "f1") == 0);
    CHECK(strcmp(ms.v[ms.main].name, "combined_score") == 0);
    CHECK(near(ms.v[ms.main].value, (0.75 + 0.8) / 2));
    CHECK(near(metric_set_get(&ms, "f1"), 0.8));
    CHECK(isnan(metric_set_get(&ms, "pearson")));

    /* CoLA: Matthews correlation only */
    const glue_task *cola = glue_task_lookup("CoLA");
    CHECK(metrics_compute_classes(cola->metric, pred, gold, 4, 2, &ms, &d) ==
          IR_OK);
    CHECK(ms.n == 1 && ms.main == 0 &&
          strcmp(ms.v[0].name, "matthews_correlation") == 0);

    /* MNLI: accuracy over three classes */
    int p3[] = {0, 1, 2, 2}, g3[] = {0, 1, 2, 0};
    const glue_task *mnli = glue_task_lookup("mnli-mm");
    CHECK(metrics_compute_classes(mnli->metric, p3, g3, 4, mnli->n_labels,
                                  &ms, &d) == IR_OK);
    CHECK(ms.n == 1 && near(ms.v[0].value, 0.75));

    /* STS-B: pearson, spearmanr, combined */
    double sp[] = {1, 2, 3}, sg[] = {1, 3, 2};
    const glue_task *stsb = glue_task_lookup("STS-B");
    CHECK(metrics_compute_scores(stsb->metric, sp, sg, 3, &ms, &d) == IR_OK);
    CHECK(ms.n == 3 && near(metric_set_get(&ms, "pearson"), 0.5) &&
          near(metric_set_get(&ms, "spearmanr"), 0.5) &&
          strcmp(ms.v[ms.main].name, "combined_score") == 0);

    /* errors: a class out of range names the example; kinds mismatched */
    int bad[] = {1, 0, 5, 1};
    CHECK(metrics_compute_classes(METRIC_KIND_ACC, bad, gold, 4, 2, &ms,
                                  &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "prediction 2") != NULL, "%s", d.msg);
    int nolabel[] = {-1, -1, -1, -1};
    CHECK(metrics_compute_classes(METRIC_KIND_ACC, pred, nolabel, 4, 2, &ms,
                                  &d) == IR_ERR_INPUT);
    CHECK(metrics_compute_classes(METRIC_KIND_CORR, pred, gold, 4, 2, &ms,
                                  &d) == IR_ERR_INPUT);
    CHECK(metrics_compute_scores(METRIC_KIND_ACC, sp, sg, 3, &ms, &d) ==
          IR_ERR_INPUT);
}

/* ---- case-file mode (see the top of the file) ---------------------------*/
static int run_case_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "test_metrics: cannot open %s\n", path);
        return 1;
    }
    char kind[8];
    int status = 0;
    for (size_t k = 0; fscanf(f, "%7s", kind) == 1; k++) {
        size_t n;
        int n_classes = 0;
        bool cls = strcmp(kind, "cls") == 0;
        if ((cls && fscanf(f, "%d %zu", &n_classes, &n) != 2) ||
            (!cls && fscanf(f, "%zu", &n) != 1)) {
            fprintf(stderr, "test_metrics: case %zu: bad header\n", k);
            status = 1;
            break;
        }
        int *ip = calloc(2 * n + 1, sizeof *ip);
        double *dp = calloc(2 * n + 1, sizeof *dp);
        bool ok = ip && dp;
        for (size_t i = 0; ok && i < 2 * n; i++)
            ok = cls ? fscanf(f, "%d", &ip[i]) == 1
                     : fscanf(f, "%lf", &dp[i]) == 1;
        if (!ok) {
            fprintf(stderr, "test_metrics: case %zu: bad values\n", k);
            free(ip);
            free(dp);
            status = 1;
            break;
        }
        if (cls) {
            printf("case %zu accuracy %.17g", k, metric_accuracy(ip, ip + n, n));
            if (n_classes == 2)
                printf(" f1 %.17g", metric_f1(ip, ip + n, n, 1));
            printf(" matthews_correlation %.17g\n",
                   metric_matthews(ip, ip + n, n, n_classes));
        } else {
            ir_diag d;
            ir_diag_init(&d);
            double rho;
            if (metric_spearman(dp, dp + n, n, &rho, &d) != IR_OK) {
                fprintf(stderr, "test_metrics: %s\n", d.msg);
                status = 1;
            }
            printf("case %zu pearson %.17g spearmanr %.17g\n", k,
                   metric_pearson(dp, dp + n, n), rho);
        }
        free(ip);
        free(dp);
    }
    fclose(f);
    return status;
}

int main(void)
{
    const char *cases = getenv("DISTILC_METRICS_CASES");
    if (cases && *cases)
        return run_case_file(cases);
    test_accuracy_f1();
    test_matthews();
    test_correlations();
    test_sets();
    return test_finish("test_metrics");
}

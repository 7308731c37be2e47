/* plot_svg.h — training curves as a standalone SVG: the loss per step (a
 * thin raw line and a thicker moving average) on the left axis, and the dev
 * metric at each evaluation (points joined by a line) on the right axis.
 *
 *     train_plot_svg("curves.svg", "finetune SST-2", r.hist, r.n_hist,
 *                    r.dev, r.n_dev, "accuracy", &d);
 */
#ifndef DISTILC_DISTILL_PLOT_SVG_H
#define DISTILC_DISTILL_PLOT_SVG_H

#include <stddef.h>

#include "distill/trainer.h"
#include "ir/diag.h"

/* Writes the SVG (IR_ERR_IO naming the path). Non-finite values are left
 * out; dev may be empty (n_dev 0), metric_name NULL = "dev metric". */
ir_status train_plot_svg(const char *path, const char *title,
                         const train_point *hist, size_t n_hist,
                         const train_dev_point *dev, size_t n_dev,
                         const char *metric_name, ir_diag *d);

#endif

/* report.h — the result of `distilc compress`: OUT/report.json (format
 * "distilc-compress-report", version 1), OUT/report.svg (bars of latency,
 * dev metric and parameters, teacher against student) and the summary table
 * the command prints. All three are made from the stage machine's state
 * (pipeline/compress.h), so a rerun that skips every stage reports the same.
 *
 *     compress_report_write(&opts, &state, &d);      // report.json + .svg
 *     compress_report_table(stdout, &opts, &state);
 *
 * report.json:
 *   {"format", "version", "task", "metric" (the main one), "setting":
 *    {seq, batch, threads, precision},
 *    "teacher": {"path", "shape", "parameters", "size_bytes", "latency_ms",
 *                "ort_latency_ms": null, "metrics": {name: value},
 *                "dev_examples"},
 *    "student": {... the same, and "binary", "binary_bytes",
 *                "weights_bytes"},
 *    "speedup", "ort_speedup": null, "accuracy_retained",
 *    "parameter_reduction", "size_reduction",
 *    "search": {"space", "fitness", "latency", "predicted_latency_ms",
 *               "constraints": {"latency_ms", "params"}, "sharing",
 *               "evaluated", "cycles", "latency_measured",
 *               "latency_interpolated", "timing_load": {"seconds" (this
 *               run's latency timings), "other_cores" (other processes'
 *               average CPU cores meanwhile; compress warns from 0.5)}},
 *    "distill": {"teacher_engine", "step_seconds", "stages": [{"name",
 *                "steps", "examples", "epochs", "final_loss", "seconds",
 *                "tokens_per_s"}]},
 *    "budget": {"minutes" (null: none), "search_seconds_allowed",
 *               "distill_seconds_allowed", "search_seconds_used",
 *               "distill_seconds_used", "allowed" (a sentence)},
 *    "controls": {"asked", "rows": [{"name": "finetune" | "kd", "what",
 *               "steps", "examples", "final_loss", "seconds",
 *               "teacher_seconds", "student_seconds", "main" (the task's
 *               main dev metric), "metrics"}, ..., {"name": "full", ...
 *               the student's}]} (the controls' rows only when asked),
 *    "stages": {"lift": {"seconds", "ran", "teacher_seconds",
 *               "student_seconds"}, ...}, "total_seconds"}
 * The supernet's and each distillation stage's entries carry
 * "teacher_seconds" (the teacher's forward inside the losses) and
 * "student_seconds" too, over every run of a resumed stage.
 * Unknown numbers are null. bench/compress_report_ort.py fills the
 * ort_latency_ms fields and ort_speedup afterwards (ONNX Runtime is never a
 * pipeline step).
 */
#ifndef DISTILC_PIPELINE_REPORT_H
#define DISTILC_PIPELINE_REPORT_H

#include <stdio.h>

#include "ir/diag.h"
#include "pipeline/compress.h"

ir_status compress_report_json(FILE *f, const compress_options *o,
                               const compress_state *st, ir_diag *d);
ir_status compress_report_svg(FILE *f, const compress_options *o,
                              const compress_state *st, ir_diag *d);
/* OUT/report.json and OUT/report.svg; IR_ERR_IO naming the file. */
ir_status compress_report_write(const compress_options *o,
                                const compress_state *st, ir_diag *d);
/* The summary table: teacher, student and the ratios, then the budget and
 * the stages' seconds. */
void compress_report_table(FILE *f, const compress_options *o,
                           const compress_state *st);
/* The sentence saying what the budget allowed, into buf. */
void compress_report_budget_text(const compress_state *st, char *buf,
                                 size_t n);

#endif

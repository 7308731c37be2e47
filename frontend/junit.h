/* junit.h — JUnit XML test reports (the format CI systems — Jenkins,
 * GitLab, GitHub test reporters — read), written with libxml2's
 * xmlTextWriter. `distilc eval --junit` and `distilc regress --junit` use it.
 *
 *     junit_case cases[2] = {
 *         {.name = "SST-2", .classname = "regress", .seconds = 1.5},
 *         {.name = "CoLA", .classname = "regress", .seconds = 2.0,
 *          .failure_message = "dropped 3.10 points (max 1.00)",
 *          .failure_text = "base 0.5210 candidate 0.4900"},
 *     };
 *     junit_suite s = {.name = "distilc regress", .cases = cases,
 *                      .n_cases = 2, .seconds = 3.5};
 *     ir_diag d; ir_diag_init(&d);
 *     if (junit_write_file("report.xml", &s, 1, &d) != IR_OK) ...d.msg...
 *
 * The layout is the common subset every reader accepts:
 *   <testsuites name tests failures errors skipped time>
 *     <testsuite name tests failures errors skipped time timestamp>
 *       <properties><property name value/>...</properties>
 *       <testcase name classname time>
 *         <failure message type>text</failure> | <skipped message/>
 *         <system-out>text</system-out>
 *       </testcase>
 * Times are seconds with millisecond precision. Text is written as UTF-8;
 * bytes that are not valid UTF-8 or not allowed in XML 1.0 (control
 * characters) are replaced by '?', so a report is always well-formed.
 */
#ifndef DISTILC_JUNIT_H
#define DISTILC_JUNIT_H

#include <stdbool.h>
#include <stddef.h>

#include "ir/diag.h"

typedef struct junit_property {
    const char *name, *value;
} junit_property;

typedef struct junit_case {
    const char *name;
    const char *classname;       /* NULL: the suite's name */
    double seconds;
    const char *failure_message; /* non-NULL: the case failed */
    const char *failure_text;    /* details inside <failure>, may be NULL */
    const char *skipped_message; /* non-NULL: the case was skipped */
    const char *system_out;      /* may be NULL */
} junit_case;

typedef struct junit_suite {
    const char *name;
    const char *timestamp;       /* ISO 8601; NULL: omitted */
    double seconds;
    const junit_property *properties;
    size_t n_properties;
    const junit_case *cases;
    size_t n_cases;
} junit_suite;

/* Writes the report to path (IR_ERR_IO naming it when it cannot be
 * written). */
ir_status junit_write_file(const char *path, const junit_suite *suites,
                           size_t n_suites, ir_diag *d);
/* The report as a malloc'd NUL-terminated string (*len bytes). */
ir_status junit_write_buffer(const junit_suite *suites, size_t n_suites,
                             char **out, size_t *len, ir_diag *d);

#endif

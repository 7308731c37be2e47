/* inspect_explain.h — `distilc inspect --explain`: printing an
 * encoder_explain (passes/encoder_explain.h) as text or as the "explain"
 * member of inspect's JSON object. */
#ifndef DISTILC_TOOLS_INSPECT_EXPLAIN_H
#define DISTILC_TOOLS_INSPECT_EXPLAIN_H

#include <stdio.h>

#include "passes/encoder_explain.h"

void inspect_explain_text(FILE *f, const encoder_explain *ex);
/* Writes ,"explain":{...} (to go inside inspect's object). */
void inspect_explain_json(FILE *f, const encoder_explain *ex);

#endif

/* space_xml.h — a search space as plain data, and reading it from its XML
 * file (validated against search/space.xsd, compiled in, with libxml2). The
 * search itself (decoding, sampling, mutation: search/space.h) works on
 * these structs; XML stays in frontend/, as frontend/recipe.h does for
 * recipes.
 *
 *     search_space sp;
 *     if (space_xml_load_file("search/spaces/default.xml", &sp, NULL, &d))
 *         ... d.msg: "space.xml:9: element 'heads': '0' is not a valid ..."
 *
 * Most callers want search/space.h's search_space_load_file, which also
 * checks that some candidate is valid under the constraints.
 */
#ifndef DISTILC_FRONTEND_SPACE_XML_H
#define DISTILC_FRONTEND_SPACE_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"
#include "ir/encoder.h"
#include "ir/precision.h"

#define SEARCH_MAX_CHOICES 32
#define SEARCH_MIN_HEAD_DIM 16

typedef enum search_gene {
    SEARCH_GENE_LAYERS,
    SEARCH_GENE_HIDDEN,
    SEARCH_GENE_HEADS,
    SEARCH_GENE_FFN,
    SEARCH_GENE_EMBED,
    SEARCH_GENE_SHARE,
    SEARCH_GENE_COUNT
} search_gene;
const char *search_gene_name(search_gene g); /* "layers", ... "sharing" */

typedef struct search_share {
    ir_enc_share scheme;
    int64_t k;          /* group size for IR_ENC_SHARE_GROUPS, else 0 */
} search_share;
/* "none", "all", "groups:2", "attention", "ffn". */
void search_share_format(const search_share *s, char *buf, size_t n);
bool search_share_parse(const char *s, search_share *out);

typedef struct search_constraints {
    double latency_ms;      /* 0: no latency limit */
    int64_t seq, batch, threads;
    ir_precision precision;
    int64_t max_params;     /* 0: none */
    double max_size_mb;     /* 0: none; weights at `precision`
                               (search/space.h: search_config_size_mb) */
} search_constraints;

typedef struct search_space {
    char name[256];         /* file name, for messages */
    ir_encoder_config base; /* vocab, positions, labels, head, activation */
    size_t n[SEARCH_GENE_COUNT];
    /* choice lists; the sharing gene indexes share[] instead */
    int64_t values[SEARCH_GENE_COUNT][SEARCH_MAX_CHOICES];
    search_share share[SEARCH_MAX_CHOICES];
    search_constraints cons;
} search_space;

/* The space's XML schema (search/space.xsd, compiled in) and the default
 * space (search/spaces/default.xml). */
const char *search_space_schema_text(void);
const char *search_space_default_text(void);

/* Whether a space read from a file has a valid candidate: search/space.c's
 * rule, handed in so that the error can point at the <choices> element.
 * NULL: not checked. */
typedef bool (*space_xml_check_fn)(const search_space *sp);

/* Parses and validates a space. Errors are IR_ERR_INPUT naming the file,
 * line and element ("f.xml:7: element 'heads': ...") or the file (missing,
 * not a regular file, over 64 MB); IR_ERR_IO when it is there but cannot
 * be read. Constraints missing from the file are 0 (none) with
 * seq 128, batch 1, threads 2, fp32. */
ir_status space_xml_load_file(const char *path, search_space *sp,
                              space_xml_check_fn has_valid, ir_diag *d);
ir_status space_xml_load_memory(const char *text, size_t len,
                                const char *name, search_space *sp,
                                space_xml_check_fn has_valid, ir_diag *d);

#endif

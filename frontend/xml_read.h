/* xml_read.h — the one way distilc parses the XML files it is given
 * (recipes, search spaces), inside frontend/ only: libxml2 types.
 *
 *     xmlDocPtr doc;
 *     if (xml_read_doc(text, len, "recipe.xml", &doc, &d) != IR_OK)
 *         return d.status;  // "recipe.xml:2: malformed XML: ..."
 *     ... validate, walk ...
 *     xmlFreeDoc(doc);
 *
 * No network, no DTD loading, no entity substitution, nothing printed
 * (errors go to the context, never libxml2's global handlers). A document
 * with a DOCTYPE is refused: distilc's files are plain elements checked by
 * an XML Schema, and an entity a DTD declares (XXE, billion laughs) would
 * otherwise reach the schema validator, which fails on entity references
 * with "Internal error: xmlSchemaVDocWalk". Elements nest at most
 * XML_READ_MAX_DEPTH levels (libxml2's own limit without XML_PARSE_HUGE,
 * which is never set), and the message says so in distilc's words.
 */
#ifndef DISTILC_FRONTEND_XML_READ_H
#define DISTILC_FRONTEND_XML_READ_H

#include <stddef.h>

#include <libxml/tree.h>

#include "ir/diag.h"

enum { XML_READ_MAX_DEPTH = 256 };

/* Parses text[0..len) named `name` in messages. IR_ERR_INPUT
 * "NAME:LINE: malformed XML: ..." (or the DOCTYPE / depth refusal); the
 * caller frees *out with xmlFreeDoc. */
ir_status xml_read_doc(const char *text, size_t len, const char *name,
                       xmlDocPtr *out, ir_diag *d);

#endif

/* space_names.c — the names a search-space file spells genes and sharing
 * schemes with (frontend/space_xml.h), both ways; precisions are spelled
 * by ir/precision.h. */
#include "frontend/space_xml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const gene_names[SEARCH_GENE_COUNT] = {
    "layers", "hidden", "heads", "ffn", "embed", "sharing",
};
_Static_assert(sizeof gene_names / sizeof gene_names[0] == SEARCH_GENE_COUNT,
               "one name per gene");

const char *search_gene_name(search_gene g)
{
    return (unsigned)g < SEARCH_GENE_COUNT ? gene_names[g] : "?";
}

void search_share_format(const search_share *s, char *buf, size_t n)
{
    switch (s->scheme) {
    case IR_ENC_SHARE_NONE: snprintf(buf, n, "none"); break;
    case IR_ENC_SHARE_ALL: snprintf(buf, n, "all"); break;
    case IR_ENC_SHARE_GROUPS: snprintf(buf, n, "groups:%lld", (long long)s->k); break;
    case IR_ENC_SHARE_ATTENTION: snprintf(buf, n, "attention"); break;
    case IR_ENC_SHARE_FFN: snprintf(buf, n, "ffn"); break;
    default: snprintf(buf, n, "?"); break;
    }
}

bool search_share_parse(const char *s, search_share *out)
{
    out->k = 0;
    if (strcmp(s, "none") == 0) out->scheme = IR_ENC_SHARE_NONE;
    else if (strcmp(s, "all") == 0) out->scheme = IR_ENC_SHARE_ALL;
    else if (strcmp(s, "attention") == 0) out->scheme = IR_ENC_SHARE_ATTENTION;
    else if (strcmp(s, "ffn") == 0) out->scheme = IR_ENC_SHARE_FFN;
    else if (strncmp(s, "groups:", 7) == 0) {
        char *end;
        errno = 0;
        long long k = strtoll(s + 7, &end, 10);
        if (errno || *end || end == s + 7 || k < 1 || k > IR_ENCODER_MAX_LAYERS)
            return false;
        out->scheme = IR_ENC_SHARE_GROUPS;
        out->k = k;
    } else
        return false;
    return true;
}

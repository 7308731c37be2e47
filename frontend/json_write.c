/* json_write.c — the writing side of JSON for reports, caches and state
 * files: one string escaper (RFC 8259 §7) and one number writer, so every
 * JSON file distilc writes escapes and spells non-finite values alike. A
 * number keeps the digits its output has always had: `digits` significant
 * ones (%g), or `decimals` after the point (%f).
 */
#include "frontend/json.h"

#include <math.h>

void json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void json_write_number(FILE *f, double v, int digits)
{
    /* JSON has no NaN or infinity: they are written as null. */
    if (isfinite(v))
        fprintf(f, "%.*g", digits, v);
    else
        fputs("null", f);
}

void json_write_fixed(FILE *f, double v, int decimals)
{
    if (isfinite(v))
        fprintf(f, "%.*f", decimals, v);
    else
        fputs("null", f);
}

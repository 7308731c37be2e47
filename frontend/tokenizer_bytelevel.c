/* tokenizer_bytelevel.c — GPT-2's byte-level pre-tokenization, written out
 * by hand instead of run through a regex engine: the pattern (see
 * tokenizer_pretok.h) has no nesting, so one look at the character classes
 * of the next code points decides which alternative matches, as a
 * leftmost-first regex engine would:
 *   ' + s t m d / re ve ll   a contraction
 *   [space] letters          [space] digits          [space] other
 *   a whitespace run: all of it at the end of the text; before a
 *   non-space, all but its last code point (which then starts the next
 *   piece), or, when it is one code point long, that code point alone.
 * Classes: \s is White_Space (as Oniguruma's Unicode \s), \p{L} and \p{N}
 * the general categories, from ICU. */
#include "frontend/tokenizer_pretok.h"

#include <unicode/uchar.h>

#include "frontend/unicode.h"

size_t tok_bytelevel_char(unsigned char b, char out[2])
{
    uint32_t cp = b;
    if (b <= 0x20)
        cp = 0x100 + b;
    else if (b >= 0x7F && b <= 0xA0)
        cp = 0x100 + 33 + (b - 0x7F);
    else if (b == 0xAD)
        cp = 0x100 + 67;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

enum { CL_LETTER, CL_NUMBER, CL_SPACE, CL_OTHER, CL_END };

/* Class of the code point at s[i] (CL_END at n); its length in *k. */
static int class_at(const char *s, size_t n, size_t i, size_t *k)
{
    if (i >= n) {
        *k = 0;
        return CL_END;
    }
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
        *k = 1;
        if ((c | 32) >= 'a' && (c | 32) <= 'z')
            return CL_LETTER;
        if (c >= '0' && c <= '9')
            return CL_NUMBER;
        if (c == ' ' || (c >= 9 && c <= 13))
            return CL_SPACE;
        return CL_OTHER;
    }
    uint32_t cp;
    *k = uni_utf8_decode((const unsigned char *)s + i, n - i, &cp);
    if (uni_flags(cp) & UNI_SPACE)
        return CL_SPACE;
    uint32_t m = U_GET_GC_MASK((UChar32)cp);
    if (m & U_GC_L_MASK)
        return CL_LETTER;
    if (m & U_GC_N_MASK)
        return CL_NUMBER;
    return CL_OTHER;
}

static size_t contraction(const char *s, size_t n, size_t i)
{
    if (s[i] != '\'' || i + 1 >= n)
        return 0;
    char a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
        (a == 'l' && b == 'l'))
        return 3;
    return 0;
}

ir_status tok_bytelevel_split(const char *s, size_t n, tok_piece_fn fn,
                              void *ctx)
{
    size_t i = 0;
    while (i < n) {
        size_t end = i + contraction(s, n, i), k;
        if (end == i) {
            size_t j = s[i] == ' ' ? i + 1 : i;
            int cl = class_at(s, n, j, &k);
            if (cl == CL_LETTER || cl == CL_NUMBER || cl == CL_OTHER) {
                end = j + k;
                size_t k2;
                while (class_at(s, n, end, &k2) == cl)
                    end += k2;
            } else {
                /* whitespace run from i */
                size_t last = i;
                end = i;
                while (class_at(s, n, end, &k) == CL_SPACE) {
                    last = end;
                    end += k;
                }
                if (end < n && last > i)
                    end = last;
            }
        }
        ir_status st = fn(ctx, i, end - i);
        if (st != IR_OK)
            return st;
        i = end;
    }
    return IR_OK;
}

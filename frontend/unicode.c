/* unicode.c — lookups into the generated tables (unicode_tables.c), Hangul
 * decomposition, and a UTF-8 decoder that replaces ill-formed input the way
 * Python does, so text reaching the tokenizer as bytes behaves as it would
 * after HF's Python side decoded it with errors="replace". */
#include "frontend/unicode.h"

static size_t map_lookup(const uint32_t *keys, const uint32_t *at,
                         const uint32_t *pool, size_t count, uint32_t cp,
                         uint32_t out[UNI_MAP_MAX])
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == count || keys[lo] != cp) {
        out[0] = cp;
        return 1;
    }
    size_t off = at[lo] >> 8, n = at[lo] & 0xFF;
    for (size_t i = 0; i < n && i < UNI_MAP_MAX; i++)
        out[i] = pool[off + i];
    return n < UNI_MAP_MAX ? n : UNI_MAP_MAX;
}

size_t uni_lower(uint32_t cp, uint32_t out[UNI_MAP_MAX])
{
    if (cp < 128) {
        out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        return 1;
    }
    if (!(uni_flags(cp) & UNI_LOWER)) {
        out[0] = cp;
        return 1;
    }
    return map_lookup(uni_lower_keys, uni_lower_at, uni_lower_pool,
                      uni_lower_count, cp, out);
}

size_t uni_strip(uint32_t cp, uint32_t out[UNI_MAP_MAX])
{
    /* Hangul syllables: the algorithmic decomposition of Unicode 14 §3.12;
     * the jamo are Lo, so all of them survive mark removal. */
    if (cp >= 0xAC00 && cp <= 0xD7A3) {
        uint32_t s = cp - 0xAC00, t = s % 28;
        out[0] = 0x1100 + s / (21 * 28);
        out[1] = 0x1161 + (s % (21 * 28)) / 28;
        if (t == 0)
            return 2;
        out[2] = 0x11A7 + t;
        return 3;
    }
    if (!(uni_flags(cp) & UNI_STRIP)) {
        out[0] = cp;
        return 1;
    }
    return map_lookup(uni_strip_keys, uni_strip_at, uni_strip_pool,
                      uni_strip_count, cp, out);
}

static int is_cont(unsigned char b) { return (b & 0xC0) == 0x80; }

size_t uni_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char b = s[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t len;
    uint32_t v;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
        v = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        v = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0; /* overlong */
        if (b == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        v = b & 0x07;
        if (b == 0xF0)
            lo = 0x90;
        if (b == 0xF4)
            hi = 0x8F;
    } else {
        *cp = 0xFFFD; /* lone continuation, C0, C1, F5..FF */
        return 1;
    }
    /* Consume the maximal valid prefix; on failure it becomes one U+FFFD. */
    size_t i = 1;
    for (; i < len; i++) {
        if (i >= n)
            break;
        unsigned char c = s[i];
        if (i == 1 ? (c < lo || c > hi) : !is_cont(c))
            break;
        v = (v << 6) | (c & 0x3F);
    }
    if (i < len) {
        *cp = 0xFFFD;
        return i;
    }
    *cp = v;
    return len;
}

size_t uni_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

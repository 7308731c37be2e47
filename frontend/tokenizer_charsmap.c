/* tokenizer_charsmap.c — decoding SentencePiece's precompiled charsmap and
 * looking rules up in its double array (layout: tokenizer_charsmap.h).
 *
 * A darts-clone unit packs, low bit first: the label byte (bits 0-7, bit 31
 * set on a leaf so no byte equals it), has_leaf (bit 8), an offset to the
 * node's children (bits 10-30, shifted left by 8 more when bit 9 is set).
 * From node position p, the child for byte b is at p ^ offset(p) ^ b and is
 * real when its label is b; a node with has_leaf keeps its value in the
 * unit at p ^ offset(p), low 31 bits. */
#include "frontend/tokenizer_charsmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int b64_digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 (RFC 4648 §4) with optional padding; NULL on bad input. */
static unsigned char *b64_decode(const char *s, size_t n, size_t *out_len)
{
    while (n && s[n - 1] == '=')
        n--;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_digit((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out_len = o;
    return out;
}

bool tok_charsmap_init(tok_charsmap *cm, const char *b64, size_t n, char *why,
                       size_t why_len)
{
    memset(cm, 0, sizeof *cm);
    size_t len = 0;
    unsigned char *blob = b64_decode(b64, n, &len);
    if (!blob) {
        snprintf(why, why_len, "precompiled_charsmap is not valid base64");
        return false;
    }
    uint32_t trie = 0;
    if (len >= 4)
        trie = (uint32_t)blob[0] | (uint32_t)blob[1] << 8 |
               (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 24;
    if (len < 4 || trie % 4 || trie > len - 4 || trie == 0) {
        snprintf(why, why_len, "precompiled_charsmap: %zu bytes, trie size %u "
                 "does not fit (expected a u32 size, then that many bytes of "
                 "4-byte units)", len, trie);
        free(blob);
        return false;
    }
    cm->n_units = trie / 4;
    cm->units = malloc(trie);
    cm->repl_len = len - 4 - trie;
    cm->repl = malloc(cm->repl_len + 1);
    if (!cm->units || !cm->repl) {
        free(blob);
        tok_charsmap_free(cm);
        snprintf(why, why_len, "out of memory");
        return false;
    }
    for (size_t i = 0; i < cm->n_units; i++) {
        const unsigned char *u = blob + 4 + 4 * i;
        cm->units[i] = (uint32_t)u[0] | (uint32_t)u[1] << 8 |
                       (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
    }
    memcpy(cm->repl, blob + 4 + trie, cm->repl_len);
    cm->repl[cm->repl_len] = '\0'; /* the last string ends even if cut */
    free(blob);
    return true;
}

static uint32_t unit_offset(uint32_t u)
{
    return (u >> 10) << ((u & (1u << 9)) >> 6);
}

const char *tok_charsmap_match(const tok_charsmap *cm, const char *s, size_t n,
                               size_t *len)
{
    if (!cm->n_units)
        return NULL;
    size_t pos = unit_offset(cm->units[0]);
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        pos ^= b;
        if (pos >= cm->n_units)
            return NULL;
        uint32_t u = cm->units[pos];
        if ((u & ((1u << 31) | 0xFF)) != b)
            return NULL;
        pos ^= unit_offset(u);
        if (pos >= cm->n_units)
            return NULL;
        if (u & (1u << 8)) {
            size_t v = cm->units[pos] & 0x7FFFFFFFu;
            if (v > cm->repl_len)
                return NULL;
            *len = strlen(cm->repl + v);
            return cm->repl + v;
        }
    }
    return NULL;
}

void tok_charsmap_free(tok_charsmap *cm)
{
    free(cm->units);
    free(cm->repl);
    memset(cm, 0, sizeof *cm);
}

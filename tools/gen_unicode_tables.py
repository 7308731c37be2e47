#!/usr/bin/env python3
"""gen_unicode_tables.py — writes frontend/unicode_tables.c, the character
tables behind distilc's BERT tokenizer (frontend/unicode.h).

Run from the repository root:  python3 tools/gen_unicode_tables.py
The output is committed; nothing in the build runs Python.

Base data: Python's unicodedata (Unicode 14.0.0 on Python 3.11). The goal is
not "Unicode 14" but "what Hugging Face `tokenizers` does", and HF mixes
versions: its BertNormalizer/BertPreTokenizer take categories (Cc/Cf/Co/Cs,
P*, Mn) from the Rust crate `unicode_categories` (Unicode 8.0 data), case
mapping from Rust's std (Unicode 16) and NFD from
`unicode-normalization-alignments`. The HF_* lists below are the code points
where those differ from Unicode 14; they were found by comparing every code
point against tokenizers 0.23.3 (tests/frontend/test_tokenizer_hf.py re-checks all
code points through `distilc tokenize --words`).

Per code point we emit one flag byte (two-stage table, 256-entry blocks) and
two sorted maps: lowercase (Rust char::to_lowercase) and strip-accents
(NFD then drop HF's Mn). Hangul syllables are decomposed in C, not tabled.
"""
import sys
import unicodedata

# Unicode 14 Cf characters that unicode_categories (8.0) does not know: kept.
HF_CONTROL_NOT = [(0x890, 0x891), (0x8E2, 0x8E2), (0x110CD, 0x110CD),
                  (0x13430, 0x13438)]
# Unicode 14 Mn characters assigned after 8.0: HF keeps them.
HF_MN_NOT = [(0x7FD, 0x7FD), (0x898, 0x89F), (0x8CA, 0x8E1), (0x9FE, 0x9FE), (0xAFA, 0xAFF), (0xB55, 0xB55), (0xC04, 0xC04), (0xC3C, 0xC3C), (0xD00, 0xD00), (0xD3B, 0xD3C), (0xD81, 0xD81), (0xEBA, 0xEBA), (0x180F, 0x180F), (0x1885, 0x1886), (0x1ABF, 0x1ACE), (0x1DF6, 0x1DFB), (0xA82C, 0xA82C), (0xA8C5, 0xA8C5), (0xA8FF, 0xA8FF), (0xA9BD, 0xA9BD), (0x10D24, 0x10D27), (0x10EAB, 0x10EAC), (0x10F46, 0x10F50), (0x10F82, 0x10F85), (0x11070, 0x11070), (0x11073, 0x11074), (0x110C2, 0x110C2), (0x111C9, 0x111C9), (0x111CF, 0x111CF), (0x1123E, 0x1123E), (0x1133B, 0x1133B), (0x11438, 0x1143F), (0x11442, 0x11444), (0x11446, 0x11446), (0x1145E, 0x1145E), (0x1182F, 0x11837), (0x11839, 0x1183A), (0x1193B, 0x1193C), (0x1193E, 0x1193E), (0x11943, 0x11943), (0x119D4, 0x119D7), (0x119DA, 0x119DB), (0x119E0, 0x119E0), (0x11A01, 0x11A0A), (0x11A33, 0x11A38), (0x11A3B, 0x11A3E), (0x11A47, 0x11A47), (0x11A51, 0x11A56), (0x11A59, 0x11A5B), (0x11A8A, 0x11A96), (0x11A98, 0x11A99), (0x11C30, 0x11C36), (0x11C38, 0x11C3D), (0x11C3F, 0x11C3F), (0x11C92, 0x11CA7), (0x11CAA, 0x11CB0), (0x11CB2, 0x11CB3), (0x11CB5, 0x11CB6), (0x11D31, 0x11D36), (0x11D3A, 0x11D3A), (0x11D3C, 0x11D3D), (0x11D3F, 0x11D45), (0x11D47, 0x11D47), (0x11D90, 0x11D91), (0x11D95, 0x11D95), (0x11D97, 0x11D97), (0x11EF3, 0x11EF4), (0x16F4F, 0x16F4F), (0x16FE4, 0x16FE4), (0x1CF00, 0x1CF2D), (0x1CF30, 0x1CF46), (0x1E000, 0x1E006), (0x1E008, 0x1E018), (0x1E01B, 0x1E021), (0x1E023, 0x1E024), (0x1E026, 0x1E02A), (0x1E130, 0x1E136), (0x1E2AE, 0x1E2AE), (0x1E2EC, 0x1E2EF), (0x1E944, 0x1E94A)]
# Mc in Unicode 14 but Mn in 8.0: HF strips it.
HF_MN_EXTRA = [(0x1734, 0x1734)]
# Decompositions added after HF's NFD tables: HF leaves the character whole.
HF_NFD_NOT = [0x11938]
# Unicode 14 P* characters assigned after 8.0: HF does not split on them.
HF_PUNCT_NOT = [(0x61D, 0x61D), (0x9FD, 0x9FD), (0xA76, 0xA76), (0xC77, 0xC77), (0xC84, 0xC84), (0x1B7D, 0x1B7E), (0x2E43, 0x2E4F), (0x2E52, 0x2E5D), (0x10EAD, 0x10EAD), (0x10F55, 0x10F59), (0x10F86, 0x10F89), (0x1144B, 0x1144F), (0x1145A, 0x1145B), (0x1145D, 0x1145D), (0x11660, 0x1166C), (0x116B9, 0x116B9), (0x1183B, 0x1183B), (0x11944, 0x11946), (0x119E2, 0x119E2), (0x11A3F, 0x11A46), (0x11A9A, 0x11A9C), (0x11A9E, 0x11AA2), (0x11C41, 0x11C45), (0x11C70, 0x11C71), (0x11EF7, 0x11EF8), (0x11FFF, 0x11FFF), (0x12FF1, 0x12FF2), (0x16E97, 0x16E9A), (0x16FE2, 0x16FE2), (0x1E95E, 0x1E95F)]
# Punctuation in 8.0 whose category changed since (U+166D Po -> So,
# U+111C9 Po -> Mn): HF still splits on them.
HF_PUNCT_EXTRA = [(0x166D, 0x166D), (0x111C9, 0x111C9)]
# Lowercase mappings from Unicode 15/16 (Rust std) for code points that are
# unassigned in Unicode 14.
HF_LOWER_EXTRA = {0x1C89: 0x1C8A, 0xA7CB: 0x264, 0xA7CC: 0xA7CD, 0xA7CE: 0xA7CF, 0xA7D2: 0xA7D3, 0xA7D4: 0xA7D5, 0xA7DA: 0xA7DB, 0xA7DC: 0x19B}
HF_LOWER_EXTRA.update({c: c + 0x20 for c in range(0x10D50, 0x10D66)})
HF_LOWER_EXTRA.update({c: c + 0x1B for c in range(0x16EA0, 0x16EB9)})

# Rust char::is_whitespace: the White_Space property (stable since 6.x).
WHITE_SPACE = [(0x9, 0xD), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0),
               (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029),
               (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000)]
# BertNormalizer::is_chinese_char (HF tokenizers, normalizers/bert.rs); note
# HF's third supplementary range starts at 0x2B920, not Google BERT's 0x2B820.
CJK = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
       (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF),
       (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]

F_CONTROL, F_SPACE, F_PUNCT, F_CJK, F_LOWER, F_STRIP = 1, 2, 4, 8, 16, 32
HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3


def in_ranges(cp, ranges):
    return any(a <= cp <= b for a, b in ranges)


def hf_mn(cp):
    if in_ranges(cp, HF_MN_EXTRA):
        return True
    return unicodedata.category(chr(cp)) == 'Mn' and not in_ranges(cp, HF_MN_NOT)


def hf_strip(cp):
    if cp in HF_NFD_NOT:
        nfd = [cp]
    else:
        nfd = [ord(c) for c in unicodedata.normalize('NFD', chr(cp))]
    return [d for d in nfd if not hf_mn(d)]


def hf_lower(cp):
    if cp in HF_LOWER_EXTRA:
        return [HF_LOWER_EXTRA[cp]]
    return [ord(c) for c in chr(cp).lower()]


def flags_of(cp):
    if 0xD800 <= cp <= 0xDFFF:
        return 0  # never produced by the UTF-8 decoder
    cat = unicodedata.category(chr(cp))
    f = 0
    if cp in (0, 0xFFFD) or (cat in ('Cc', 'Cf', 'Co', 'Cs') and cp not in (9, 10, 13)
                             and not in_ranges(cp, HF_CONTROL_NOT)):
        f |= F_CONTROL
    if in_ranges(cp, WHITE_SPACE):
        f |= F_SPACE
    ascii_punct = cp < 128 and chr(cp) in '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'
    if ascii_punct or in_ranges(cp, HF_PUNCT_EXTRA) or (
            cat.startswith('P') and not in_ranges(cp, HF_PUNCT_NOT)):
        f |= F_PUNCT
    if in_ranges(cp, CJK):
        f |= F_CJK
    if hf_lower(cp) != [cp]:
        f |= F_LOWER
    if not (HANGUL_FIRST <= cp <= HANGUL_LAST) and hf_strip(cp) != [cp]:
        f |= F_STRIP
    return f


def emit_map(out, name, entries):
    """entries: sorted list of (cp, [cps]); a key array, an offset/length
    array and one pool."""
    pool, idx = [], []
    for cp, seq in entries:
        idx.append((cp, len(pool), len(seq)))
        pool.extend(seq)
    out.append('const uint32_t uni_%s_keys[%d] = {' % (name, len(idx)))
    out.extend(wrap(['0x%X' % k for k, _, _ in idx]))
    out.append('};')
    out.append('/* (offset << 8 | length) into uni_%s_pool */' % name)
    out.append('const uint32_t uni_%s_at[%d] = {' % (name, len(idx)))
    out.extend(wrap(['0x%X' % (o << 8 | n) for _, o, n in idx]))
    out.append('};')
    out.append('const uint32_t uni_%s_pool[%d] = {' % (name, max(1, len(pool))))
    out.extend(wrap(['0x%X' % c for c in pool] or ['0']))
    out.append('};')
    out.append('const size_t uni_%s_count = %d;' % (name, len(idx)))


def wrap(items, width=76):
    lines, cur = [], '   '
    for it in items:
        if len(cur) + len(it) + 2 > width:
            lines.append(cur)
            cur = '   '
        cur += ' ' + it + ','
    if cur.strip():
        lines.append(cur)
    return lines


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else 'frontend/unicode_tables.c'
    flags = [flags_of(cp) for cp in range(0x110000)]
    blocks, stage1 = {}, []
    for hi in range(0x110000 >> 8):
        blk = tuple(flags[hi << 8:(hi + 1) << 8])
        if blk not in blocks:
            blocks[blk] = len(blocks)
        stage1.append(blocks[blk])
    lower = [(cp, hf_lower(cp)) for cp in range(0x110000) if flags[cp] & F_LOWER]
    strip = [(cp, hf_strip(cp)) for cp in range(0x110000) if flags[cp] & F_STRIP]
    out = ['/* unicode_tables.c — GENERATED by tools/gen_unicode_tables.py from',
           ' * Python unicodedata %s plus the Hugging Face tokenizers' % unicodedata.unidata_version,
           ' * compatibility lists in that script. Do not edit; re-run the script.',
           ' * Layout and meaning: frontend/unicode.h. */',
           '#include "frontend/unicode.h"', '',
           'const char uni_unicode_version[] = "%s";' % unicodedata.unidata_version, '',
           'const uint16_t uni_stage1[%d] = {' % len(stage1)]
    out.extend(wrap([str(b) for b in stage1]))
    out.append('};')
    out.append('const uint8_t uni_stage2[%d][256] = {' % len(blocks))
    for blk in blocks:
        out.append('  {')
        out.extend(wrap([str(v) for v in blk]))
        out.append('  },')
    out.append('};')
    emit_map(out, 'lower', lower)
    emit_map(out, 'strip', strip)
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')
    print('%s: %d blocks, %d lower, %d strip' % (path, len(blocks), len(lower), len(strip)))


if __name__ == '__main__':
    main()

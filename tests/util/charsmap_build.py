"""charsmap_build.py — writes a SentencePiece-style precompiled charsmap (the
blob a "Precompiled" normalizer holds) from a dict of rules, so the oracles
can hand the same map to Hugging Face tokenizers and to distilc without a
SentencePiece model file.

Blob: u32 little-endian size of the trie in bytes, the trie (a darts-clone
double array of u32 units over the rules' UTF-8 source bytes), then the
replacements, each NUL-terminated; a trie value is a replacement's offset.
Unit bits: label byte 0-7 (bit 31 set on a value unit), has-value 8, offset
to the children 10-30. The children of the node at p sit at p ^ offset ^
byte and its value at p ^ offset; the builder packs them first-fit, giving
each node its own p ^ offset.
"""
import struct
import unicodedata


def nfkc_rules(extra=()):
    """Rules like SentencePiece's nmt_nfkc: each code point whose NFKC
    differs, plus combining sequences over ASCII letters and `extra`."""
    rules = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        n = unicodedata.normalize("NFKC", c)
        if n != c:
            rules[c] = n
    for base in "aeiouncAEIOUNC":
        for mark in "\u0300\u0301\u0302\u0303\u0308\u0327":
            seq = base + mark
            n = unicodedata.normalize("NFKC", seq)
            if n != seq:
                rules[seq] = n
    for k, v in extra:
        rules[k] = v
    return rules


def build(rules):
    """rules: {source str: replacement str} -> blob bytes."""
    pool = bytearray()
    offsets = {}
    trie = {}  # nested dicts of byte -> node; key None holds the value
    for src, dst in sorted(rules.items()):
        if dst not in offsets:
            offsets[dst] = len(pool)
            pool += dst.encode() + b"\0"
        node = trie
        for b in src.encode():
            node = node.setdefault(b, {})
        node[None] = offsets[dst]
    size = 1 << 16
    units = [0] * size
    used = bytearray(size)
    used[0] = 1
    bases = set()
    low = [1]  # below it every unit is used

    def place(node, pos):
        labels = sorted(b for b in node if b is not None)
        need = ([0] if None in node else []) + labels
        while used[low[0]]:
            low[0] += 1
        q = low[0]
        while True:  # first free unit q that can hold need[0]
            if not used[q]:
                base = q ^ need[0]
                if base not in bases and all(not used[base ^ b] for b in need):
                    break
            q += 1
        bases.add(base)
        for b in need:
            used[base ^ b] = 1
        offset = pos ^ base
        assert offset < (1 << 21) and base ^ 255 < size
        units[pos] |= (offset << 10) | ((1 << 8) if None in node else 0)
        if None in node:
            units[base] = (1 << 31) | node[None]
        for b in labels:
            units[base ^ b] = b
        for b in labels:
            place(node[b], base ^ b)

    place(trie, 0)
    # Keep every unit a lookup may probe (base ^ any byte).
    del units[(max(bases) | 255) + 1:]
    body = struct.pack("<%dI" % len(units), *units)
    return struct.pack("<I", len(body)) + body + bytes(pool)

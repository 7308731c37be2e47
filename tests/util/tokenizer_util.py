"""tokenizer_util.py — what the tokenizer oracles share: running
`distilc tokenize`, the GLUE files and their text columns, and a list of
hard cases (accents, CJK, emoji, controls, invalid UTF-8, special tokens)."""
import glob
import json
import os
import subprocess


def run_distilc(bin_path, args, lines):
    """lines: list of bytes (no newline). Returns the parsed JSON lines."""
    data = b"".join(l + b"\n" for l in lines)
    p = subprocess.run([bin_path, "tokenize"] + args, input=data, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("distilc tokenize %s failed (%d): %s" % (args, p.returncode, p.stderr.decode(errors="replace")))
    # split("\n"), not splitlines(): words may hold U+2028, U+0085...
    return [json.loads(l) for l in p.stdout.decode().split("\n") if l]


# GLUE layouts: file glob -> (header?, column of text a, column of text b)
GLUE = {"SST-2": (True, 0, None), "CoLA": (False, 3, None),
        "MRPC": (True, 3, 4), "STS-B": (True, 7, 8), "WNLI": (True, 1, 2)}


def glue_examples(path, header, ca, cb):
    with open(path, "rb") as f:
        rows = f.read().split(b"\n")
    if rows and rows[-1] == b"":
        rows.pop()
    if header:
        rows = rows[1:]
    out = []
    for r in rows:
        cols = r.rstrip(b"\r").split(b"\t")
        out.append((cols[ca], cols[cb] if cb is not None else None))
    return out


# No tabs: on a distilc tokenize line a tab separates a pair (tests/frontend/test_tokenizer.c
# covers tabs inside a text).
HARD = [
    "", " ", "Hello, World!", "HELLO world", "Café crème brûlée", "naïve résumé Ångström",
    "Ça va? Œuvre Ærø", "İstanbul ıi", "ΣΊΣΥΦΟΣ όσος", "Straße STRASSE ß", "ǅ ǈ ǋ ǲ", "ﬁ ﬂ ﬀ",
    "北京大学 東京 中文字符测试", "日本語とカタカナ 한국어 텍스트", "𠀀𠀁 𪜀 㐀 豈 丽", "abc中def",
    "emoji 😀😃🤖 👍🏽 👨‍👩‍👧 🇫🇷", "❤️ ☺ ✓", "a\x0bb\x0cc", "nul\x00in\x00text", "ctl\x01\x02\x1f\x7f",
    "zero\u200bwidth\u200cjoiner\u200d", "nbsp\u00a0here\u2028line\u2029para\u3000ideo", "nel\x85x",
    "soft\u00adhyphen", "bom\ufeffmark", "replacement\ufffdchar", "private\ue000use", "x" * 100, "x" * 101,
    "é" * 100, "é" * 101, "supercalifragilisticexpialidocious" * 3, "antidisestablishmentarianism",
    "unbelievably unaffable", "don't can't won't", "e-mail @user #tag $100 50% a&b", "¿Qué? ¡Sí! «quote» “smart” ‘single’",
    "…—–·•", "1,000,000.50 3.14159", "http://example.com/a?b=c&d=e", "[CLS] [SEP] [MASK] [PAD] [UNK]",
    "a[SEP]b[MASK]c", "[sep] [Sep]", "[CLS", "ａｂｃ ＡＢＣ １２３", "Ⅻ ⅻ ① ⑴", "x²³ H₂O", "a\u0301e\u0300o\u0302",
    "\u0301leading mark", "ḱṓṣ ẞ", "Ελληνικά Русский текст Українська", "עברית العربية", "हिन्दी தமிழ் ไทย",
    "ꙮ ߷ ᠀ ༄", "\u166d\u111c9", "\U000e0001 tag", "\u0890x", "mixed ÀÉÎÕÜ àéîõü",
]
INVALID = [b"\xff", b"\xfe\xff", b"abc\x80def", b"\xc3", b"\xc3(", b"\xe2\x82", b"\xe2\x82x",
           b"\xf0\x9f\x98", b"\xed\xa0\x80 surrogate", b"\xc0\xaf overlong", b"\xf4\x90\x80\x80 big",
           b"ok \xe9t\xe9 latin1", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"a\xff[SEP]\xfeb"]


def glue_files(glue_dir, task):
    """Every TSV of one GLUE task (and MRPC's senteval_tokenized copies)."""
    files = sorted(glob.glob(os.path.join(glue_dir, task, "*.tsv")) +
                   glob.glob(os.path.join(glue_dir, task, "senteval_tokenized", "*.tsv")))
    return [f for f in files if os.path.basename(f) != "dev_ids.tsv"]


def hard_examples():
    singles = [(s.encode(), None) for s in HARD] + [(b, None) for b in INVALID]
    pairs = [(HARD[i].encode(), HARD[-1 - i].encode()) for i in range(len(HARD))]
    pairs += [(b, b"second " + b) for b in INVALID]
    long_a = " ".join("word%d" % i for i in range(40)).encode()
    for la in range(0, 12):
        for lb in range(0, 12):
            pairs.append((b" ".join([b"a"] * la), b" ".join([b"b"] * lb)))
    pairs.append((long_a, b"short"))
    pairs.append((b"short", long_a))
    return singles, pairs


def compare_with_hf(check, name, examples, got, tok):
    """Encodes examples ((bytes a, bytes b or None) each, decoded as HF's
    Python side would) with HF's tok and checks distilc's JSON lines `got`
    against it, id for id. Returns how many differ."""
    inputs = [a.decode("utf-8", "replace") if b is None else
              (a.decode("utf-8", "replace"), b.decode("utf-8", "replace")) for a, b in examples]
    want = tok.encode_batch(inputs)
    check(len(got) == len(want), "%s: %d outputs for %d inputs" % (name, len(got), len(want)))
    bad = 0
    for i, (g, w) in enumerate(zip(got, want)):
        ok = (g["input_ids"] == w.ids and g["token_type_ids"] == w.type_ids
              and g["attention_mask"] == w.attention_mask)
        check(ok, "%s #%d %r:\n  distilc %s\n  hf      %s %s" % (
            name, i, examples[i], g["input_ids"], w.ids, w.tokens))
        bad += not ok
    return bad

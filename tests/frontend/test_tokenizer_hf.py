#!/usr/bin/env python3
"""test_tokenizer_hf.py — `distilc tokenize` against Hugging Face tokenizers.

Oracle: tokenizers' BertWordPieceTokenizer (BertNormalizer +
BertPreTokenizer + WordPiece + BertProcessing) on the BERT-base uncased
vocabulary in $DISTILC_SHARED/vocab. Compared, id for id:
  * every sentence / pair of every GLUE file in $DISTILC_SHARED/glue
    (pairs: MRPC, STS-B, WNLI; single: SST-2, CoLA), truncation
    longest_first to 128;
  * a list of hard cases (accents, CJK, emoji, control characters, long
    words, empty strings, invalid UTF-8, special tokens in text), with and
    without lowercasing, several truncation lengths and padding;
  * the words before WordPiece for every Unicode code point (checks the
    generated tables in frontend/unicode_tables.c).
Usage: test_tokenizer_hf.py [DISTILC_BIN]  (default: $DISTILC_BIN)
Skips (exit 77) when tokenizers or the shared data are missing.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

tokenizers = mu.require("tokenizers", message="tokenizers not installed "
                        "(/usr/bin/python3 -m pip install --break-system-packages tokenizers)")
from tokenizers import BertWordPieceTokenizer, Tokenizer  # noqa: E402
from tokenizers import normalizers, pre_tokenizers  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DISTILC_BIN", "")
SHARED = mu.shared_dir()
VOCAB = os.path.join(SHARED, "vocab", "bert-base-uncased-vocab.txt")

checks = mu.Checks(max_printed=20)
check = checks.check


def run_distilc(args, lines):
    """lines: list of bytes (no newline). Returns the parsed JSON lines."""
    data = b"".join(l + b"\n" for l in lines)
    p = subprocess.run([BIN, "tokenize"] + args, input=data, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("distilc tokenize %s failed (%d): %s" % (args, p.returncode, p.stderr.decode(errors="replace")))
    return [json.loads(l) for l in p.stdout.decode().splitlines()]


def hf_tokenizer(lower=True, max_seq=None, pad=False):
    t = BertWordPieceTokenizer(VOCAB, lowercase=lower)
    if max_seq:
        t.enable_truncation(max_seq, strategy="longest_first")
    if pad:
        t.enable_padding(length=max_seq, pad_id=0, pad_token="[PAD]")
    return t


def compare(name, examples, lower=True, max_seq=None, pad=False, json_file=None):
    """examples: list of (bytes a, bytes b or None)."""
    args = ["--tokenizer", json_file] if json_file else ["--vocab", VOCAB]
    if not lower and not json_file:
        args.append("--no-lower")
    if max_seq:
        args += ["--max-seq", str(max_seq)]
    if pad:
        args.append("--pad")
    lines = [a if b is None else a + b"\t" + b for a, b in examples]
    got = run_distilc(args, lines)
    tok = hf_tokenizer(lower, max_seq, pad)
    inputs = [a.decode("utf-8", "replace") if b is None else
              (a.decode("utf-8", "replace"), b.decode("utf-8", "replace")) for a, b in examples]
    want = tok.encode_batch(inputs)
    check(len(got) == len(want), "%s: %d outputs for %d inputs" % (name, len(got), len(want)))
    bad = 0
    for i, (g, w) in enumerate(zip(got, want)):
        ok = (g["input_ids"] == w.ids and g["token_type_ids"] == w.type_ids
              and g["attention_mask"] == w.attention_mask)
        check(ok, "%s #%d %r:\n  distilc %s\n  hf      %s" % (name, i, examples[i], g["input_ids"], w.ids))
        bad += not ok
    print("%-48s %6d examples, %d differ" % (name, len(examples), bad))


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


def compare_words(name, lower):
    """Every code point: the words distilc splits into == HF's normalizer +
    pre_tokenizer output."""
    cps = [c for c in range(0x110000) if not (0xD800 <= c <= 0xDFFF) and c not in (9, 10)]
    chunks = [cps[i:i + 64] for i in range(0, len(cps), 64)]
    texts = [" ".join("x" + chr(c) + "y" for c in ch) for ch in chunks]
    args = ["--vocab", VOCAB, "--words"] + ([] if lower else ["--no-lower"])
    got = run_distilc(args, [t.encode("utf-8", "surrogatepass") for t in texts])
    norm = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                      strip_accents=None, lowercase=lower)
    pre = pre_tokenizers.BertPreTokenizer()
    bad = 0
    for i, t in enumerate(texts):
        want = [w for w, _ in pre.pre_tokenize_str(norm.normalize_str(t))]
        ok = got[i]["words"] == want
        if not ok:
            # Narrow the failure to code points for the message.
            diff = [hex(c) for c in chunks[i]
                    if [w for w, _ in pre.pre_tokenize_str(norm.normalize_str("x" + chr(c) + "y"))] !=
                    run_distilc(args, [("x" + chr(c) + "y").encode()])[0]["words"]]
            check(False, "%s: code points %s" % (name, diff[:10]))
            bad += 1
        else:
            check(True, name)
    print("%-48s %6d code points in %d lines, %d lines differ" % (name, len(cps), len(texts), bad))


def main():
    if not BIN or not os.path.exists(BIN):
        print("FAIL: distilc binary not found (pass it or set DISTILC_BIN)")
        return 1
    p = subprocess.run([BIN, "tokenize", "--help"], capture_output=True)
    if p.returncode != 0:
        print("skipped: %s has no tokenize subcommand yet" % BIN)
        return 77
    if not os.path.exists(VOCAB):
        print("skipped: shared data absent (%s)" % VOCAB)
        return 77
    glue_dir = os.path.join(SHARED, "glue")
    if os.path.isdir(glue_dir):
        for task, (header, ca, cb) in GLUE.items():
            files = sorted(glob.glob(os.path.join(glue_dir, task, "*.tsv")) +
                           glob.glob(os.path.join(glue_dir, task, "senteval_tokenized", "*.tsv")))
            for f in files:
                if os.path.basename(f) in ("dev_ids.tsv",):
                    continue
                compare(os.path.relpath(f, glue_dir), glue_examples(f, header, ca, cb), max_seq=128)
    else:
        print("skipped GLUE part: shared data absent (%s)" % glue_dir)
    singles, pairs = hard_examples()
    for lower in (True, False):
        tag = "lower" if lower else "no-lower"
        compare("hard singles (%s)" % tag, singles, lower=lower)
        compare("hard pairs (%s)" % tag, pairs, lower=lower)
    for max_seq in (3, 4, 5, 8, 9, 16, 128):
        compare("hard pairs max_seq %d" % max_seq, pairs, max_seq=max_seq)
        compare("hard singles max_seq %d padded" % max_seq, singles, max_seq=max_seq, pad=True)
    # The same tokenizer saved by HF as tokenizer.json, read with --tokenizer.
    with tempfile.TemporaryDirectory() as tmp:
        for lower in (True, False):
            path = os.path.join(tmp, "tokenizer-%d.json" % lower)
            hf_tokenizer(lower).save(path)
            tag = "lower" if lower else "no-lower"
            compare("tokenizer.json hard singles (%s)" % tag, singles, lower=lower, json_file=path)
            compare("tokenizer.json hard pairs max_seq 9 (%s)" % tag, pairs, lower=lower, max_seq=9, json_file=path)
        # TemplateProcessing instead of BertProcessing (what transformers
        # writes for bert-base-uncased); HF loads it too.
        with open(os.path.join(tmp, "tokenizer-1.json")) as f:
            doc = json.load(f)
        cls = {"SpecialToken": {"id": "[CLS]", "type_id": 0}}
        doc["post_processor"] = {
            "type": "TemplateProcessing",
            "single": [cls, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [cls, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [102], "tokens": ["[SEP]"]}}}
        path = os.path.join(tmp, "template.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        Tokenizer.from_file(path)  # HF accepts it
        compare("tokenizer.json TemplateProcessing pairs max_seq 9", pairs, max_seq=9, json_file=path)
    compare_words("all code points (lower)", True)
    compare_words("all code points (no-lower)", False)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())

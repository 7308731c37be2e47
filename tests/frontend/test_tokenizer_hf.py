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
import json
import os
import subprocess
import sys
import tempfile

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402
from tokenizer_util import GLUE, compare_with_hf, glue_files, glue_examples, hard_examples, run_distilc  # noqa: E402

tokenizers = mu.require("tokenizers", message="tokenizers not installed "
                        "(/usr/bin/python3 -m pip install --break-system-packages tokenizers)")
from tokenizers import BertWordPieceTokenizer, Tokenizer  # noqa: E402
from tokenizers import normalizers, pre_tokenizers  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DISTILC_BIN", "")
SHARED = mu.shared_dir()
VOCAB = os.path.join(SHARED, "vocab", "bert-base-uncased-vocab.txt")

checks = mu.Checks(max_printed=20)
check = checks.check


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
    got = run_distilc(BIN, args, lines)
    tok = hf_tokenizer(lower, max_seq, pad)
    bad = compare_with_hf(check, name, examples, got, tok)
    print("%-48s %6d examples, %d differ" % (name, len(examples), bad))


def compare_words(name, lower):
    """Every code point: the words distilc splits into == HF's normalizer +
    pre_tokenizer output."""
    cps = [c for c in range(0x110000) if not (0xD800 <= c <= 0xDFFF) and c not in (9, 10)]
    chunks = [cps[i:i + 64] for i in range(0, len(cps), 64)]
    texts = [" ".join("x" + chr(c) + "y" for c in ch) for ch in chunks]
    args = ["--vocab", VOCAB, "--words"] + ([] if lower else ["--no-lower"])
    got = run_distilc(BIN, args, [t.encode("utf-8", "surrogatepass") for t in texts])
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
                    run_distilc(BIN, args, [("x" + chr(c) + "y").encode()])[0]["words"]]
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
            for f in glue_files(glue_dir, task):
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

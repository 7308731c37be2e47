#!/usr/bin/env python3
"""test_tokenizer_bpe_long.py — BPE on very long words: `distilc tokenize
--tokenizer FILE` against Hugging Face tokenizers on lines of 100,000
characters without a space, each one word for the model.

The merge loop is a heap of candidate merges (frontend/tokenizer_bpe.c), so
such a word takes O(n log n); rescanning the word after each merge took
O(n^2), minutes for one line. The ids must still be HF's exactly, ties
(equal rules at several places) going to the leftmost pair as in HF.

The tokenizers are trained here, on a fixed synthetic corpus (tokenizers'
BPE trainer is deterministic): RoBERTa's byte-level layout and
SentencePiece BPE with byte_fallback (the layouts of
test_tokenizer_json_hf.py). The words: the corpus's words glued together,
runs of one letter (every level of "a a", "aa aa", ... ties), and random
letters and digits; distilc reads all of them in one run within
TIME_LIMIT seconds (a bound, not a measurement: it needs a fraction of a
second, the quadratic loop needed minutes).

Usage: test_tokenizer_bpe_long.py [DISTILC_BIN]. Skips (exit 77) without
the tokenizers module.
"""
import os
import random
import sys
import tempfile
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402
from tokenizer_util import run_distilc  # noqa: E402

mu.require("tokenizers", message="tokenizers not installed "
           "(/usr/bin/python3 -m pip install --break-system-packages tokenizers)")
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

BIN = mu.command_arg("test_tokenizer_bpe_long.py [PATH/TO/distilc]")
LONG = 100_000
TIME_LIMIT = 60.0  # seconds for all the words of one tokenizer

checks = mu.Checks(max_printed=10)
check = checks.check


def corpus():
    """Words of 1-4 syllables, and runs of a's, so merges chain deeply."""
    rnd = random.Random(16)
    syll = "ka ri to ne su ma lo pe ti an er in on th the and ing ion qu".split()
    words = ["".join(rnd.choice(syll) for _ in range(rnd.randint(1, 4))) for _ in range(300)]
    text = []
    for _ in range(3000):
        text.append(" ".join(rnd.choice(words) for _ in range(rnd.randint(3, 12))))
    text += ["a" * n for n in (2, 4, 8, 16, 32)] * 50
    return text, words


def bytelevel(text):
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.train_from_iterator(text, trainers.BpeTrainer(
        vocab_size=700, show_progress=False, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    t.post_processor = processors.RobertaProcessing(("</s>", t.token_to_id("</s>")),
                                                    ("<s>", t.token_to_id("<s>")))
    return t


def spm_bpe(text):
    t = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    t.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    t.train_from_iterator(text, trainers.BpeTrainer(
        vocab_size=900, show_progress=False,
        special_tokens=["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]))
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B:1", special_tokens=[("<s>", t.token_to_id("<s>"))])
    return t


def long_words(words):
    rnd = random.Random(100)
    glued = []
    while sum(map(len, glued)) < LONG:
        glued.append(rnd.choice(words))
    out = ["".join(glued)[:LONG], "a" * LONG, "a" * (LONG + 1),
           "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(LONG))]
    return [w.encode() for w in out]


def compare(name, words, got, tok):
    """Id for id against HF; a difference is shown around its first id (the
    words are too long to print). Returns how many words differ."""
    want = tok.encode_batch([w.decode() for w in words])
    check(len(got) == len(want), "%s: %d outputs for %d words" % (name, len(got), len(want)))
    bad = 0
    for i, (g, w) in enumerate(zip(got, want)):
        ids = g["input_ids"]
        if ids == w.ids and g["attention_mask"] == w.attention_mask:
            check(True, "")
            continue
        k = next((k for k, (a, b) in enumerate(zip(ids, w.ids)) if a != b),
                 min(len(ids), len(w.ids)))
        check(False, "%s word %d (%r...): %d ids, HF %d; first difference at id %d:"
              "\n  distilc %s\n  hf      %s %s" % (
                  name, i, words[i][:20], len(ids), len(w.ids), k, ids[max(0, k - 3):k + 5],
                  w.ids[max(0, k - 3):k + 5], w.tokens[max(0, k - 3):k + 5]))
        bad += 1
    return bad


def main():
    if not BIN or not os.path.exists(BIN):
        print("FAIL: distilc binary not found (pass it or set DISTILC_BIN)")
        return 1
    text, words = corpus()
    examples = [(w, None) for w in long_words(words)]  # (text a, no text b)
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("bytelevel-bpe", bytelevel), ("spm-bpe", spm_bpe)):
            path = os.path.join(tmp, name + ".json")
            make(text).save(path)
            t0 = time.monotonic()
            got = run_distilc(BIN, ["--tokenizer", path], [a for a, _ in examples])
            took = time.monotonic() - t0
            check(took < TIME_LIMIT, "%s: %.1f s for %d words of %d characters (limit %.0f s)"
                  % (name, took, len(examples), LONG, TIME_LIMIT))
            bad = compare(name, [a for a, _ in examples], got, Tokenizer.from_file(path))
            lengths = [len(g["input_ids"]) for g in got]
            print("%-14s %d words of %d+ characters in %.2f s: %s ids, %d differ from HF"
                  % (name, len(examples), LONG, took, lengths, bad))
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())

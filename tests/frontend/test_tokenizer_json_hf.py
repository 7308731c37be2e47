#!/usr/bin/env python3
"""test_tokenizer_json_hf.py — `distilc tokenize --tokenizer FILE` against
Hugging Face tokenizers on tokenizer.json files that are not WordPiece.

The files are made here, with a fixed corpus and settings so every run
trains the same ones (tokenizers' trainers are deterministic), on the GLUE
text in $DISTILC_SHARED/glue:
  * bytelevel-bpe: RoBERTa's layout — ByteLevel pre-tokenizer (no prefix
    space), BPE, RobertaProcessing, <mask> with lstrip;
  * gpt2-bpe: GPT-2's — ByteLevel with add_prefix_space, no processor;
  * xlmr-unigram: XLM-R's — Precompiled (an NFKC charsmap) + Replace
    " {2,}", Metaspace (always), Unigram, <s> A </s></s> B </s>;
  * albert-unigram: ALBERT's — Replace ``/'' , NFKD, StripAccents,
    Lowercase, Precompiled, Replace, Metaspace, [CLS] A [SEP] B [SEP] with
    type ids, [MASK] normalized;
  * spm-bpe: SentencePiece BPE as Llama writes it — Prepend "▁" + Replace
    " " "▁" normalizers, no pre-tokenizer, BPE with byte_fallback;
  * metaspace-first: Unigram with prepend_scheme "first" and
    WhitespaceSplit before Metaspace.
Each is compared id for id (ids, type ids, attention mask) with HF on every
sentence / pair of every GLUE file (truncation longest_first to 128), on the
hard cases of tokenizer_util.py with several truncation lengths and
padding, and on every code point once (words of the pre-tokenizers).
Usage: test_tokenizer_json_hf.py [DISTILC_BIN]. Skips (exit 77) when
tokenizers or the GLUE data are missing.
"""
import json
import os
import sys
import tempfile
import time
import unicodedata

# Serial training: the Unigram trainer's parallel sums would make the
# scores, and so Viterbi's near-ties, differ from run to run.
os.environ["TOKENIZERS_PARALLELISM"] = "false"

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402
from tokenizer_util import GLUE, compare_with_hf, glue_files, glue_examples, hard_examples, run_distilc  # noqa: E402

mu.require("tokenizers", message="tokenizers not installed "
           "(/usr/bin/python3 -m pip install --break-system-packages tokenizers)")
from tokenizers import AddedToken, Regex, Tokenizer  # noqa: E402
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

import charsmap_build  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DISTILC_BIN", "")
SHARED = mu.shared_dir()
VOCAB_SIZE = 4000

checks = mu.Checks(max_printed=20)
check = checks.check


def corpus(glue_dir):
    """The training text: every 3rd sentence of every GLUE train file."""
    out = []
    for task, (header, ca, cb) in sorted(GLUE.items()):
        path = os.path.join(glue_dir, task, "train.tsv")
        for i, (a, b) in enumerate(glue_examples(path, header, ca, cb)):
            if i % 3 == 0:
                out.append(a.decode("utf-8", "replace"))
                if b is not None:
                    out.append(b.decode("utf-8", "replace"))
    return out


def roberta_like(text):
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, show_progress=False,
                             special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    t.train_from_iterator(text, tr)
    t.post_processor = processors.RobertaProcessing(("</s>", t.token_to_id("</s>")),
                                                    ("<s>", t.token_to_id("<s>")))
    t.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False)])
    return t


def gpt2_like(text):
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tr = trainers.BpeTrainer(vocab_size=VOCAB_SIZE // 2, show_progress=False,
                             special_tokens=["<|endoftext|>"],
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    t.train_from_iterator(text, tr)
    t.post_processor = processors.ByteLevel(trim_offsets=True)
    return t


def precompiled():
    # A few SentencePiece-like extras: zero-width space removed, NBSP to a
    # space, a rule longer than one code point.
    return normalizers.Precompiled(charsmap_build.build(charsmap_build.nfkc_rules(
        extra=[("\u200b", ""), ("\u00a0", " "), ("\u3000", " "), ("``", "\"")])))


def unigram(text, norm, pre, specials, unk="<unk>"):
    t = Tokenizer(models.Unigram())
    t.normalizer = norm
    t.pre_tokenizer = pre
    tr = trainers.UnigramTrainer(vocab_size=VOCAB_SIZE, show_progress=False,
                                 special_tokens=specials, unk_token=unk)
    t.train_from_iterator(text, tr)
    return t


def xlmr_like(text):
    norm = normalizers.Sequence([precompiled(), normalizers.Replace(Regex(" {2,}"), " ")])
    t = unigram(text, norm, pre_tokenizers.Metaspace("▁", prepend_scheme="always"),
                ["<s>", "<pad>", "</s>", "<unk>"])
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", t.token_to_id("<s>")), ("</s>", t.token_to_id("</s>"))])
    t.add_special_tokens([AddedToken("<mask>", lstrip=True)])
    return t


def albert_like(text):
    norm = normalizers.Sequence([
        normalizers.Replace("``", "\""), normalizers.Replace("''", "\""),
        normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase(),
        precompiled(), normalizers.Replace(Regex(" {2,}"), " ")])
    t = unigram(text, norm, pre_tokenizers.Metaspace("▁", prepend_scheme="always"),
                ["<pad>", "<unk>", "[CLS]", "[SEP]"])
    t.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", t.token_to_id("[CLS]")), ("[SEP]", t.token_to_id("[SEP]"))])
    t.add_special_tokens([AddedToken("[MASK]", lstrip=True, rstrip=False, normalized=True)])
    return t


def spm_bpe_like(text):
    t = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    t.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    bytes_ = ["<0x%02X>" % b for b in range(256)]
    tr = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, show_progress=False,
                             special_tokens=["<unk>", "<s>", "</s>"] + bytes_, limit_alphabet=200)
    t.train_from_iterator(text, tr)
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B:1",
        special_tokens=[("<s>", t.token_to_id("<s>"))])
    return t


def metaspace_first(text):
    pre = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                   pre_tokenizers.Metaspace("▁", prepend_scheme="first")])
    norm = normalizers.Sequence([normalizers.NFC(), normalizers.Strip()])
    return unigram(text, norm, pre, ["<unk>", "<s>"])


KINDS = [("bytelevel-bpe", roberta_like), ("gpt2-bpe", gpt2_like),
         ("xlmr-unigram", xlmr_like), ("albert-unigram", albert_like),
         ("spm-bpe", spm_bpe_like), ("metaspace-first", metaspace_first)]


def compare(name, path, examples, max_seq=None, pad=False):
    """examples: list of (bytes a, bytes b or None). Returns #differing."""
    args = ["--tokenizer", path]
    if max_seq:
        args += ["--max-seq", str(max_seq)]
    if pad:
        args.append("--pad")
    lines = [a if b is None else a + b"\t" + b for a, b in examples]
    got = run_distilc(BIN, args, lines)
    tok = Tokenizer.from_file(path)
    if max_seq:
        tok.enable_truncation(max_seq, strategy="longest_first")
    if pad:
        # distilc pads with <pad> or [PAD] when the file sets no padding.
        pad_id = [i for i in (tok.token_to_id("<pad>"), tok.token_to_id("[PAD]"), 0) if i is not None][0]
        tok.enable_padding(length=max_seq, pad_id=pad_id)
    bad = compare_with_hf(check, name, examples, got, tok)
    return bad


def hf_words(tok, text):
    norm = tok.normalizer.normalize_str(text) if tok.normalizer else text
    if not tok.pre_tokenizer:
        return [norm] if norm else []
    return [w for w, _ in tok.pre_tokenizer.pre_tokenize_str(norm)]


def words_all_code_points(name, path):
    """Every code point assigned in Python's Unicode version, between x and
    y: the words after normalizers and pre-tokenizers. (Code points HF's
    regex engine knows from a newer Unicode than ICU's are left out.)"""
    cps = [c for c in range(0x20, 0x110000)
           if not (0xD800 <= c <= 0xDFFF) and unicodedata.category(chr(c)) != "Cn"]
    chunks = [cps[i:i + 64] for i in range(0, len(cps), 64)]
    texts = [" ".join("x" + chr(c) + "y" for c in ch) for ch in chunks]
    args = ["--tokenizer", path, "--words"]
    got = run_distilc(BIN, args, [t.encode() for t in texts])
    tok = Tokenizer.from_file(path)
    bad = [ch for ch, t, g in zip(chunks, texts, got) if g["words"] != hf_words(tok, t)]
    one = ["x" + chr(c) + "y" for ch in bad for c in ch]
    got1 = run_distilc(BIN, args, [t.encode() for t in one]) if one else []
    diff = [hex(ord(t[1])) for t, g in zip(one, got1) if g["words"] != hf_words(tok, t)]
    check(not bad, "%s words: code points %s%s" % (name, diff[:10], " (only in context)" if not diff else ""))
    print("%-52s %6d code points, %d differ" % (name + " words", len(cps), len(diff)))


def main():
    if not BIN or not os.path.exists(BIN):
        print("FAIL: distilc binary not found (pass it or set DISTILC_BIN)")
        return 1
    glue_dir = os.path.join(SHARED, "glue")
    if not os.path.isdir(glue_dir):
        print("skipped: shared data absent (%s)" % glue_dir)
        return 77
    text = corpus(glue_dir)
    singles, pairs = hard_examples()
    only = os.environ.get("TOKENIZER_KINDS", "")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.environ.get("TOKENIZER_KEEP", tmp)  # keep the files to debug
        for kind, make in KINDS:
            if only and kind not in only.split(","):
                continue
            t0 = time.time()
            path = os.path.join(tmp, kind + ".json")
            make(text).save(path)
            print("%s: trained in %.1f s (%d tokens)" % (kind, time.time() - t0,
                                                          Tokenizer.from_file(path).get_vocab_size()))
            total = bad = 0
            for task, (header, ca, cb) in GLUE.items():
                for f in glue_files(glue_dir, task):
                    ex = glue_examples(f, header, ca, cb)
                    n = compare("%s %s" % (kind, os.path.relpath(f, glue_dir)), path, ex, max_seq=128)
                    print("%-52s %6d examples, %d differ" % (kind + " " + os.path.relpath(f, glue_dir), len(ex), n))
                    total += len(ex)
                    bad += n
            for max_seq in (None, 5, 9, 16):
                bad += compare("%s hard singles %s" % (kind, max_seq), path, singles, max_seq=max_seq,
                               pad=max_seq is not None)
                bad += compare("%s hard pairs %s" % (kind, max_seq), path, pairs, max_seq=max_seq)
            print("%-52s %6d GLUE examples + hard cases, %d differ" % (kind, total, bad))
            words_all_code_points(kind, path)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""test_program_tokenizer.py - the emitted program's text mode with a
Hugging Face tokenizer.json: `DIR/model --tokenizer tokenizer.json` reads
text lines (a tab separating a pair) and must answer exactly what the same
program answers for the ids HF tokenizers gives (JSON lines).

The model is a small random-weight RoBERTa (tests/util/families.py, its
word table as large as the largest tokenizer), built with `distilc build`.
The tokenizers are trained here, with tokenizers' deterministic trainers,
on a fixed synthetic corpus, one per kind the program must read:
  * bytelevel-bpe: RoBERTa's file (ByteLevel, BPE, RobertaProcessing,
    <mask> with lstrip);
  * xlmr-unigram: XLM-R's layout (NFKC + Replace " {2,}", Metaspace,
    Unigram, <s> A </s></s> B </s>);
  * spm-bpe: SentencePiece BPE with byte_fallback (Prepend + Replace
    normalizers, no pre-tokenizer);
  * wordpiece: BERT's tokenizer.json (BertNormalizer, WordPiece).
The lines: sentences, pairs, and tokenizer_util.py's hard cases (accents,
CJK, emoji, controls, special tokens), truncated longest_first to
--max-seq 16 and to the program's default, the longest sequence the
model's positions allow (RoBERTa's: max_position_embeddings - pad_id - 1).
Bad use is refused: --vocab with --tokenizer, --max-seq without text
input (exit 2), a tokenizer.json with an unsupported model (exit 2, naming
it).

Prints "skipped: ..." and exits 77 when torch, onnx, transformers,
tokenizers or a C compiler is missing. Ends with "N passed, N failed".
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

os.environ["TOKENIZERS_PARALLELISM"] = "false"

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402
from tokenizer_util import HARD  # noqa: E402

np, _, _, tokenizers = mu.require("numpy", "onnx", "torch", "tokenizers")
mu.import_transformers()
import families  # noqa: E402
from tokenizers import (AddedToken, Regex, Tokenizer, models, normalizers,  # noqa: E402
                        pre_tokenizers, processors, trainers)

checks = mu.Checks(max_printed=20)
check = checks.check
distilc = None  # mu.Distilc, set by main()


def corpus():
    rnd = random.Random(5)
    syll = "ka ri to ne su ma lo pe ti an er in on th the and ing ion".split()
    words = ["".join(rnd.choice(syll) for _ in range(rnd.randint(1, 3))) for _ in range(200)]
    text = [" ".join(rnd.choice(words) for _ in range(rnd.randint(3, 10))) for _ in range(2000)]
    return text + HARD * 5, words


def bytelevel_bpe(text):
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.train_from_iterator(text, trainers.BpeTrainer(
        vocab_size=500, show_progress=False, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    t.post_processor = processors.RobertaProcessing(("</s>", t.token_to_id("</s>")),
                                                    ("<s>", t.token_to_id("<s>")))
    t.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False)])
    return t


def xlmr_unigram(text):
    t = Tokenizer(models.Unigram())
    t.normalizer = normalizers.Sequence([normalizers.NFKC(),
                                         normalizers.Replace(Regex(" {2,}"), " ")])
    t.pre_tokenizer = pre_tokenizers.Metaspace("▁", prepend_scheme="always")
    t.train_from_iterator(text, trainers.UnigramTrainer(
        vocab_size=400, show_progress=False, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        unk_token="<unk>"))
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", t.token_to_id("<s>")), ("</s>", t.token_to_id("</s>"))])
    return t


def spm_bpe(text):
    t = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    t.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    t.train_from_iterator(text, trainers.BpeTrainer(
        vocab_size=500, show_progress=False, limit_alphabet=60,
        special_tokens=["<unk>", "<pad>", "<s>"] + ["<0x%02X>" % b for b in range(256)]))
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B:1", special_tokens=[("<s>", t.token_to_id("<s>"))])
    return t


def wordpiece(text):
    t = tokenizers.BertWordPieceTokenizer(lowercase=True)
    t.train_from_iterator(text, vocab_size=300, show_progress=False,
                          special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    t = t._tokenizer
    # set at construction only when the vocabulary already had them
    t.post_processor = processors.BertProcessing(("[SEP]", t.token_to_id("[SEP]")),
                                                 ("[CLS]", t.token_to_id("[CLS]")))
    return t


KINDS = [("bytelevel-bpe", bytelevel_bpe), ("xlmr-unigram", xlmr_unigram),
         ("spm-bpe", spm_bpe), ("wordpiece", wordpiece)]


def lines(words):
    """(text a, text b or None): sentences, pairs, the hard cases."""
    rnd = random.Random(9)
    out = [(" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 30))), None)
           for _ in range(12)]
    out += [(" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 12))),
             " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 12)))) for _ in range(8)]
    out += [(h, None) for h in HARD if h.strip(" ")]  # the JSON side has no empty row
    out += [(HARD[i], HARD[-1 - i]) for i in range(0, len(HARD), 7)]
    out += [("a <mask> b", "the <s> and </s> [CLS] [SEP]")]
    return out


def run_program(prog, text, *args):
    return subprocess.run([prog, *args], input=text.encode(), capture_output=True)


def hf_json_lines(tok, examples, max_seq):
    tok.no_padding()
    tok.enable_truncation(max_seq, strategy="longest_first")
    enc = tok.encode_batch([a if b is None else (a, b) for a, b in examples])
    return "".join(json.dumps({"input_ids": e.ids, "attention_mask": e.attention_mask}) + "\n"
                   for e in enc), enc


def logits_of(r, what):
    ok = check(r.returncode == 0, f"{what}: exit {r.returncode}: {r.stderr.decode()[-800:]}")
    return [json.loads(l) for l in r.stdout.decode().splitlines()] if ok else None


def check_kind(kind, path, prog, examples, max_seq):
    """Text lines through --tokenizer vs HF's ids as JSON lines, same
    program: the logits must be identical."""
    tok = Tokenizer.from_file(path)
    text = "".join((a if b is None else a + "\t" + b) + "\n" for a, b in examples)
    args = ["--tokenizer", path] + (["--max-seq", str(max_seq)] if max_seq != DEFAULT_SEQ else [])
    got = logits_of(run_program(prog, text, *args), f"{kind} text, max-seq {max_seq}")
    ids_lines, enc = hf_json_lines(tok, examples, max_seq)
    want = logits_of(run_program(prog, ids_lines), f"{kind} HF ids, max-seq {max_seq}")
    if got is None or want is None:
        return
    if not check(len(got) == len(want) == len(examples),
                 f"{kind}: {len(got)} / {len(want)} answers for {len(examples)} lines"):
        return
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    for i in bad[:5]:
        check(False, f"{kind} max-seq {max_seq} line {i} {examples[i]!r}: text mode "
              f"{got[i]}, HF ids {enc[i].ids} {want[i]}")
    check(not bad, f"{kind} max-seq {max_seq}: {len(bad)} of {len(examples)} lines differ")
    longest = max(len(e.ids) for e in enc)
    print(f"{kind:14s} max-seq {max_seq:2d}: {len(examples)} lines (up to {longest} tokens), "
          f"logits of --tokenizer text vs HF ids: {len(bad)} differ")


def check_refusals(prog, path, vocab_txt, tmp):
    r = run_program(prog, "hello\n", "--vocab", vocab_txt, "--tokenizer", path)
    check(r.returncode == 2 and b"not both" in r.stderr, f"--vocab and --tokenizer: {r.returncode} "
          f"{r.stderr}")
    r = run_program(prog, "{}\n", "--max-seq", "8")
    check(r.returncode == 2 and b"--tokenizer" in r.stderr, f"--max-seq alone: {r.returncode} "
          f"{r.stderr}")
    bad = os.path.join(tmp, "wordlevel.json")
    with open(bad, "w") as f:
        json.dump({"version": "1.0", "added_tokens": [], "normalizer": None,
                   "pre_tokenizer": None, "post_processor": None,
                   "model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}}, f)
    r = run_program(prog, "a\n", "--tokenizer", bad)
    check(r.returncode == 2 and b"WordLevel" in r.stderr and b"model" in r.stderr,
          f"WordLevel: {r.returncode} {r.stderr}")
    r = run_program(prog, "a\n", "--tokenizer", os.path.join(tmp, "absent.json"))
    check(r.returncode != 0 and b"absent.json" in r.stderr, f"absent file: {r.returncode} "
          f"{r.stderr}")
    r = run_program(prog, "", "--help")
    check(r.returncode == 0 and b"--tokenizer FILE" in r.stdout, "--help names --tokenizer")


DEFAULT_SEQ = families.MAXPOS  # RoBERTa: max_position_embeddings (MAXPOS + 2) - pad_id - 1


def main():
    global distilc
    distilc = mu.Distilc(os.path.abspath(mu.command_arg(__doc__)))
    if not shutil.which("cc") and not os.environ.get("CC"):
        mu.skip("no C compiler (cc) on PATH")
    text, words = corpus()
    examples = lines(words)
    with tempfile.TemporaryDirectory(prefix="distilc-progtok-") as tmp:
        paths = []
        for kind, make in KINDS:
            path = os.path.join(tmp, kind + ".json")
            make(text).save(path)
            paths.append((kind, path))
        vocab = max(Tokenizer.from_file(p).get_vocab_size() for _, p in paths)
        d = os.path.join(tmp, "roberta")
        families.export("roberta", d, vocab=vocab)
        out = os.path.join(d, "build")
        r = distilc("build", os.path.join(d, "model.onnx"), "-o", out, "--progress", "off")
        if not check(r.returncode == 0, f"distilc build: {r.stderr[-1500:]}"):
            return checks.finish()
        prog = os.path.join(out, "model")
        for kind, path in paths:
            for max_seq in (16, DEFAULT_SEQ):
                check_kind(kind, path, prog, examples, max_seq)
        vocab_txt = os.path.join(tmp, "vocab.txt")
        with open(vocab_txt, "w") as f:
            f.write("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n")
        check_refusals(prog, paths[0][1], vocab_txt, tmp)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())

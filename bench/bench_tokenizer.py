#!/usr/bin/env python3
"""bench_tokenizer.py — tokens per second of `distilc tokenize` against
Hugging Face tokenizers, one thread each, on the SST-2 train sentences
(67,349 lines) with the BERT-base uncased vocabulary, no truncation.

Usage: bench/bench_tokenizer.py DISTILC_BIN [--shared DIR] [--repeat N]
Build distilc in Release for meaningful numbers. distilc's time includes
process start, reading stdin and printing JSON lines (to /dev/null); HF's
is encode_batch alone, so the comparison favours HF.
"""
import argparse
import os
import subprocess
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"        # HF: one thread
os.environ["TOKENIZERS_PARALLELISM"] = "false"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--shared", default=os.environ.get("DISTILC_SHARED", "../shared"))
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    from tokenizers import BertWordPieceTokenizer
    import tokenizers
    vocab = os.path.join(a.shared, "vocab", "bert-base-uncased-vocab.txt")
    with open(os.path.join(a.shared, "glue", "SST-2", "train.tsv"), "rb") as f:
        rows = f.read().split(b"\n")[1:]
    sents = [r.split(b"\t")[0] for r in rows if r]
    data = b"\n".join(sents) + b"\n"
    texts = [s.decode("utf-8", "replace") for s in sents]

    tok = BertWordPieceTokenizer(vocab)
    best_hf, n_tokens = float("inf"), 0
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        enc = tok.encode_batch(texts)
        best_hf = min(best_hf, time.perf_counter() - t0)
        n_tokens = sum(len(e.ids) for e in enc)

    best_c = float("inf")
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        subprocess.run([a.bin, "tokenize", "--vocab", vocab], input=data,
                       stdout=subprocess.DEVNULL, check=True)
        best_c = min(best_c, time.perf_counter() - t0)

    print("SST-2 train: %d sentences, %d tokens (with [CLS]/[SEP]), best of %d"
          % (len(texts), n_tokens, a.repeat))
    print("hf tokenizers %s (1 thread): %.3f s, %.0f tokens/s"
          % (tokenizers.__version__, best_hf, n_tokens / best_hf))
    print("distilc tokenize          : %.3f s, %.0f tokens/s"
          % (best_c, n_tokens / best_c))
    print("ratio distilc / hf: %.2fx" % (best_hf / best_c))


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Fine-tune the same classifier in PyTorch with distilc finetune's recipe.

The baseline for `distilc finetune`'s accuracy and speed. It starts from the
weights bench/make_teacher_minilm.py wrote (OUT/model.pt, identical to
OUT/model.onnx) and trains exactly as distilc does:
  - the first --limit examples of the GLUE train split, tokenized by
    Hugging Face `tokenizers` (BERT WordPiece, uncased, longest_first
    truncation to --max-seq), the same ids as distilc's tokenizer;
  - the same example order: distilc's seeded Fisher-Yates shuffle per
    epoch (distill/data.c, SplitMix64-style counter RNG) re-implemented
    below, batches padded to the longest example rounded up to 16;
  - AdamW (torch.optim.AdamW, betas 0.9/0.999, eps 1e-8, decay on every
    matrix and embedding table, none on biases and LayerNorm), linear
    warmup then linear decay (per step), global grad-norm clip 1.0;
  - dropout off (distilc trains without dropout), cross-entropy loss;
then reports dev accuracy and training tokens/s (non-padding tokens) as JSON.

    /usr/bin/python3 bench/finetune_torch.py --model /tmp/minilm \
        --data /work/shared/glue --limit 4000 --epochs 1 --batch 32 \
        --max-seq 64 --lr 5e-5 --warmup 0.1 --seed 42 [--threads 2]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "util"))
from bert_export import BertClassifier  # noqa: E402

M64 = (1 << 64) - 1


def rng_u64(seed, counter):
    """distill/rng.c's train_rng_u64."""
    z = (seed * 0xD1B54A32D192ED03 + (counter + 1) * 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def order(n, seed, epoch):
    """distill/data.c's train_data_order."""
    perm = list(range(n))
    base = epoch * n
    for i in range(n, 1, -1):
        j = rng_u64(seed, base + i - 1) % i
        perm[i - 1], perm[j] = perm[j], perm[i - 1]
    return perm


def read_sst2(path, limit):
    rows = []
    with open(path, encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        si, li = head.index("sentence"), head.index("label")
        for line in f:
            if not line.strip():
                continue
            c = line.rstrip("\n").split("\t")
            rows.append((c[si], int(c[li])))
            if limit and len(rows) == limit:
                break
    return rows


def encode(tok, rows, max_seq):
    tok.enable_truncation(max_seq)
    encs = tok.encode_batch([r[0] for r in rows])
    return [e.ids for e in encs], np.array([r[1] for r in rows])


def batch_tensors(ids_list, idx, max_seq, step=16):
    T = max(len(ids_list[i]) for i in idx)
    T = min(max_seq, (T + step - 1) // step * step)
    ids = np.zeros((len(idx), T), dtype=np.int64)
    mask = np.zeros((len(idx), T), dtype=np.int64)
    for r, i in enumerate(idx):
        x = ids_list[i][:T]
        ids[r, :len(x)] = x
        mask[r, :len(x)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask), int(mask.sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="folder from make_teacher_minilm.py")
    ap.add_argument("--data", required=True, help="GLUE root (DATA/SST-2/train.tsv)")
    ap.add_argument("--limit", type=int, default=4000)
    ap.add_argument("--dev-limit", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-seq", type=int, default=64)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--warmup", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    try:
        from tokenizers import BertWordPieceTokenizer
    except ImportError:
        sys.exit("finetune_torch: the tokenizers module is missing")
    torch.set_num_threads(a.threads)
    cfg = dict(vocab=30522, hidden=384, heads=12, ffn=1536, layers=6, max_pos=512,
               type_vocab=2, labels=2)
    state = torch.load(os.path.join(a.model, "model.pt"))
    cfg["vocab"], cfg["hidden"] = state["embeddings.word_embeddings.weight"].shape
    cfg["ffn"] = state["layers.0.intermediate.weight"].shape[0]
    cfg["layers"] = sum(1 for k in state if k.endswith("attention.query.weight"))
    cfg["labels"] = state["classifier.weight"].shape[0]
    cfg["heads"] = 12 if cfg["hidden"] % 12 == 0 else 4
    model = BertClassifier(cfg)
    model.load_state_dict(state)
    model.eval()  # dropout off, as distilc trains

    tok = BertWordPieceTokenizer(os.path.join(a.model, "vocab.txt"), lowercase=True)
    train = read_sst2(os.path.join(a.data, "SST-2", "train.tsv"), a.limit)
    dev = read_sst2(os.path.join(a.data, "SST-2", "dev.tsv"), a.dev_limit)
    tr_ids, tr_y = encode(tok, train, a.max_seq)
    dv_ids, dv_y = encode(tok, dev, a.max_seq)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    per_epoch = math.ceil(len(train) / a.batch)
    total = per_epoch * a.epochs
    warm = math.ceil(a.warmup * total)

    def lr_lambda(k):
        if k < warm:
            return k / max(1, warm)
        return max(0.0, (total - k) / max(1, total - warm))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)

    tokens, t0, losses = 0, time.time(), []
    for epoch in range(a.epochs):
        perm = order(len(train), a.seed, epoch)
        for s in range(per_epoch):
            idx = perm[s * a.batch:(s + 1) * a.batch]
            ids, mask, ntok = batch_tensors(tr_ids, idx, a.max_seq)
            y = torch.from_numpy(tr_y[idx])
            logits = model(ids, mask, torch.zeros_like(ids))
            loss = torch.nn.functional.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            tokens += ntok
            losses.append(loss.item())
    train_s = time.time() - t0

    correct = 0
    with torch.no_grad():
        for s in range(0, len(dev), 64):
            idx = list(range(s, min(len(dev), s + 64)))
            ids, mask, _ = batch_tensors(dv_ids, idx, a.max_seq)
            pred = model(ids, mask, torch.zeros_like(ids)).argmax(-1).numpy()
            correct += int((pred == dv_y[idx]).sum())
    print(json.dumps({"framework": "pytorch " + torch.__version__, "train_examples": len(train),
                      "steps": total, "final_loss": losses[-1],
                      "mean_loss_last_10": float(np.mean(losses[-10:])),
                      "dev_examples": len(dev), "dev_accuracy": correct / len(dev),
                      "train_seconds": train_s, "tokens_per_s": tokens / train_s,
                      "threads": a.threads}))


if __name__ == "__main__":
    main()

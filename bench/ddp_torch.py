#!/usr/bin/python3
"""PyTorch's data-parallel fine-tuning, the peer of distilc under mpirun.

The work of `distilc finetune MODEL --task sst2 --steps N --batch B
--no-eval` (bench/mpi_scaling.sh): the all-MiniLM-L6-v2 classifier of
bench/make_teacher_minilm.py (its model.pt, tests/util/bert_export.py's
BertClassifier) fine-tuned on SST-2's train split with cross-entropy,
AdamW (lr 2e-5, weight decay 0.01), gradient clipping at 1.0, dropout off;
each global batch cut to its longest example rounded up to 16 tokens, as
distilc's trainer cuts it. With --procs P > 1: P processes on this machine
(torch.distributed, gloo), each taking its share of every global batch,
DistributedDataParallel summing the gradients in buckets overlapped with
the backward — PyTorch DDP, as Horovod-style data parallelism runs on CPU.

Prints one JSON line: steady tokens/s (the non-padding tokens of the
global batches, over the steps after the first three), seconds, final loss.

    /usr/bin/python3 bench/ddp_torch.py --model-dir minilm --data ../shared/glue \
        --steps 40 --batch 32 --procs 2 --threads 1
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load_batches(a):
    """The global batches: SST-2 train examples in a seeded order, tokenized
    by the model's WordPiece vocabulary, padded per batch."""
    from tokenizers import BertWordPieceTokenizer
    import numpy as np
    tok = BertWordPieceTokenizer(os.path.join(a.model_dir, "vocab.txt"), lowercase=True)
    tok.enable_truncation(128)
    rows = []
    with open(os.path.join(a.data, "SST-2", "train.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            text, label = line.rstrip("\n").split("\t")
            rows.append((text, int(label)))
    order = np.random.default_rng(42).permutation(len(rows))
    batches = []
    for s in range(a.steps):
        ex = [rows[i] for i in order[s * a.batch:(s + 1) * a.batch]]
        enc = tok.encode_batch([t for t, _ in ex])
        longest = max(len(e.ids) for e in enc)
        T = min(128, (longest + 15) // 16 * 16)
        ids = np.zeros((len(ex), T), dtype=np.int64)
        mask = np.zeros((len(ex), T), dtype=np.int64)
        for i, e in enumerate(enc):
            ids[i, :len(e.ids)] = e.ids
            mask[i, :len(e.ids)] = 1
        batches.append((ids, mask, np.array([l for _, l in ex]), int(mask.sum())))
    return batches


def worker(rank, a, batches, out):
    import torch
    import torch.distributed as dist
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "util"))
    from bert_export import BertClassifier
    torch.set_num_threads(a.threads)
    if a.procs > 1:
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", str(a.port))
        dist.init_process_group("gloo", rank=rank, world_size=a.procs)
    cfg = dict(vocab=30522, hidden=384, heads=12, ffn=1536, layers=6, max_pos=512,
               type_vocab=2, labels=2)
    model = BertClassifier(cfg)
    model.load_state_dict(torch.load(os.path.join(a.model_dir, "model.pt")))
    model.eval()  # dropout off, as distilc trains
    net = model
    if a.procs > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01)
    share = a.batch // a.procs
    times, tokens, loss_v = [], [], 0.0
    for ids, mask, labels, ntok in batches:
        lo, hi = rank * share, (rank + 1) * share if rank < a.procs - 1 else len(ids)
        x = torch.from_numpy(ids[lo:hi])
        m = torch.from_numpy(mask[lo:hi])
        y = torch.from_numpy(labels[lo:hi])
        t0 = time.time()
        opt.zero_grad()
        logits = net(x, m, torch.zeros_like(x))
        # the mean over the global batch: each share's sum over B, and DDP
        # averages over P ranks, so scale by P
        loss = torch.nn.functional.cross_entropy(logits, y, reduction="sum") / a.batch
        (loss * a.procs if a.procs > 1 else loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if a.procs > 1:
            dist.barrier()
        times.append(time.time() - t0)
        tokens.append(ntok)
        loss_v = float(loss)
    if rank == 0:
        steady = sum(tokens[3:]) / sum(times[3:])
        out.put({"peer": "pytorch", "torch": torch.__version__, "procs": a.procs,
                 "threads": a.threads, "steps": len(batches), "batch": a.batch,
                 "steady_tokens_per_s": steady, "train_seconds": sum(times),
                 "last_share_loss": loss_v})
    if a.procs > 1:
        dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", required=True, help="bench/make_teacher_minilm.py's folder")
    ap.add_argument("--data", required=True, help="a GLUE folder holding SST-2/")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--port", type=int, default=29517)
    a = ap.parse_args()
    import torch.multiprocessing as mp
    batches = load_batches(a)
    if a.procs == 1:
        import queue
        q = queue.Queue()
        worker(0, a, batches, q)
    else:
        ctx = mp.get_context("spawn")
        q = ctx.SimpleQueue()
        mp.spawn(worker, args=(a, batches, q), nprocs=a.procs, join=True)
    print(json.dumps(q.get()))


if __name__ == "__main__":
    main()

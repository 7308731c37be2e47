#!/usr/bin/python3
"""How well the supernet ranks candidates: its estimates against the dev
metric of the same candidates distilled independently.

Input: the output folder of a `distilc compress` run (supernet trained, the
default --fitness supernet): OUT/search/pareto.json lists every candidate
the search scored with its supernet estimate. K of them, spread evenly over
the range of estimates (distinct shapes), are then each distilled from the
teacher on their own with `distilc distill` (teacher initialisation,
intermediate then prediction losses, --steps per stage, the same recipe for
all) and evaluated on the task's dev split. Reported (JSON on stdout, a
table on stderr): Kendall's tau between estimate and dev metric, NDCG@k of
the supernet's order against the true metric (relevance = dev metric), and
whether the supernet's top choice is the true best.

    /usr/bin/python3 bench/supernet_rank.py OUT --teacher teacher.onnx \\
        --task sst2 --data ../shared/glue --vocab vocab.txt \\
        --distilc build-rel/distilc [--k 8] [--steps 150] [--threads 2]

Budget: K distillations of 2 x --steps steps each (about 1-2 minutes each
for MiniLM-sized students at 150 steps on 2 cores).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time


def kendall_tau(x, y):
    """Kendall's tau-b (ties in either list handled as scipy does)."""
    n = len(x)
    conc = disc = tx = ty = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx = (x[i] > x[j]) - (x[i] < x[j])
            dy = (y[i] > y[j]) - (y[i] < y[j])
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tx += 1
            elif dy == 0:
                ty += 1
            elif dx == dy:
                conc += 1
            else:
                disc += 1
    den = math.sqrt((conc + disc + tx) * (conc + disc + ty))
    return (conc - disc) / den if den else float("nan")


def ndcg_at(scores, relevance, k):
    """NDCG@k of the order `scores` gives, with gains = relevance."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])[:k]
    ideal = sorted(relevance, reverse=True)[:k]
    dcg = sum(relevance[i] / math.log2(r + 2) for r, i in enumerate(order))
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal))
    return dcg / idcg if idcg else float("nan")


def pick(cands, k):
    """k distinct shapes whose estimates spread evenly from the lowest to
    the highest (for each of k evenly spaced targets, the unused shape with
    the nearest estimate): many shapes tie at the low end, and picking by
    rank alone would compare ties."""
    seen, uniq = set(), []
    scored = [c for c in cands if isinstance(c["fitness"], (int, float))
              and math.isfinite(c["fitness"])]
    for c in sorted(scored, key=lambda c: c["fitness"]):
        key = (c["layers"], c["hidden"], c["heads"], c["ffn"], c["sharing"])
        if key in seen or c["embed"]:
            continue
        seen.add(key)
        uniq.append(c)
    if len(uniq) <= k:
        return uniq
    lo, hi = uniq[0]["fitness"], uniq[-1]["fitness"]
    chosen = []
    for i in range(k):
        target = lo + (hi - lo) * i / (k - 1)
        rest = [c for c in uniq if c not in chosen]
        chosen.append(min(rest, key=lambda c: (abs(c["fitness"] - target), c["params"])))
    return sorted(chosen, key=lambda c: c["fitness"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="a distilc compress output folder")
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--task", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--distilc", default="build-rel/distilc")
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--steps", type=int, default=150, help="per distillation stage")
    ap.add_argument("--lr", default="2e-4")
    ap.add_argument("--limit", type=int, default=8000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ndcg-k", type=int, default=3)
    a = ap.parse_args()

    pareto = json.load(open(os.path.join(a.out, "search", "pareto.json")))
    if not pareto["fitness"].startswith("supernet"):
        sys.exit("supernet_rank: %s was searched with '%s', not a supernet"
                 % (a.out, pareto["fitness"]))
    chosen = pick(pareto["candidates"], a.k)
    if len(chosen) < 3:
        sys.exit("supernet_rank: only %d distinct candidates to compare" % len(chosen))
    rows = []
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for i, c in enumerate(chosen):
            spec = "layers=%d,hidden=%d,heads=%d,ffn=%d" % (
                c["layers"], c["hidden"], c["heads"], c["ffn"])
            student = os.path.join(tmp, "s%d.onnx" % i)
            cmd = [a.distilc, "distill", a.teacher, "--task", a.task, "--data", a.data,
                   "--vocab", a.vocab, "--student", spec, "--share", c["sharing"],
                   "--steps", str(a.steps), "--lr", a.lr, "--limit", str(a.limit),
                   "--max-seq", "128" if a.task.lower() in ("mrpc", "stsb", "sts-b", "rte",
                                                            "qnli", "qqp", "mnli", "wnli") else "64",
                   "--threads", str(a.threads), "--json", "--progress", "off",
                   "-o", student]
            t = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit("supernet_rank: %s failed:\n%s" % (" ".join(cmd), p.stderr[-2000:]))
            rep = json.loads(p.stdout)
            dev = rep["student_dev"][rep["metric"]]
            rows.append(dict(shape=spec + "," + c["sharing"], params=c["params"],
                             latency_ms=c["latency_ms"], estimate=c["fitness"],
                             dev=dev, seconds=round(time.time() - t, 1)))
            print("%-45s estimate %.4f  distilled dev %.4f  (%.0f s)"
                  % (rows[-1]["shape"], c["fitness"], dev, rows[-1]["seconds"]),
                  file=sys.stderr, flush=True)
    est = [r["estimate"] for r in rows]
    dev = [r["dev"] for r in rows]
    best_est = max(range(len(rows)), key=lambda i: est[i])
    best_dev = max(range(len(rows)), key=lambda i: dev[i])
    result = dict(out=a.out, task=a.task, fitness=pareto["fitness"], k=len(rows),
                  steps_per_stage=a.steps, lr=a.lr, limit=a.limit,
                  kendall_tau=kendall_tau(est, dev),
                  ndcg_at_k=ndcg_at(est, dev, a.ndcg_k), ndcg_k=a.ndcg_k,
                  top_choice_is_best=best_est == best_dev,
                  top_choice_regret=dev[best_dev] - dev[best_est],
                  seconds=round(time.time() - t0, 1), candidates=rows)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

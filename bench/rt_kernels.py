#!/usr/bin/env python3
"""rt_kernels.py - the runtime's fp32 linear kernels, model level: `distilc
bench` on one BERT export with each configuration in turn, round after round
(interleaved, so a burst of load elsewhere hits every configuration alike),
and the median over rounds of each run's median latency.

    bench/rt_kernels.py --distilc build-h2/distilc --model bert/model.onnx \
        [--base /tmp/base/build/distilc] [--rounds 3] [--threads 2]

Configurations (environment, binary, --kernel):
  native   before   the --base binary (the commit before this change), else
                    --kernel onednn_packed (the kernel every linear had before)
  native   after    auto: the rule (oneDNN packed on AVX-512)
  avx2     before   --base with ONEDNN_MAX_CPU_ISA=AVX2, else --kernel onednn_packed
  avx2     plain    --kernel onednn_plain
  avx2     after    auto: the rule (OpenBLAS below AVX-512)
"avx2" is the AVX2 machine emulated on this CPU: DISTILC_MAX_ISA=avx2 (which
also caps oneDNN) and OPENBLAS_CORETYPE=Haswell (OpenBLAS's AVX2 kernels).
Prints one Markdown table row per shape and configuration, and the load
average before and after.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def run(binary, model, seq, batch, threads, env_extra, kernel):
    env = dict(os.environ)
    env.update(env_extra)
    cmd = [binary, "bench", model, "--seq", str(seq), "--batch", str(batch),
           "--threads", str(threads), "--json"]
    if kernel:
        cmd += ["--kernel", kernel]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"rt_kernels: {' '.join(cmd)} failed: {p.stderr.strip()}")
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--distilc", required=True)
    ap.add_argument("--base", help="distilc built from the commit before")
    ap.add_argument("--model", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shapes", default="128x1,32x8", help="SEQxBATCH,...")
    a = ap.parse_args()
    avx2 = {"DISTILC_MAX_ISA": "avx2", "OPENBLAS_CORETYPE": "Haswell"}
    confs = []
    if a.base:
        confs.append(("native", "before (base)", a.base, {}, None))
    else:
        confs.append(("native", "before (onednn_packed)", a.distilc, {},
                      "onednn_packed"))
    confs.append(("native", "after (auto)", a.distilc, {}, None))
    if a.base:
        confs.append(("avx2", "before (base)", a.base,
                      dict(avx2, ONEDNN_MAX_CPU_ISA="AVX2"), None))
    else:
        confs.append(("avx2", "before (onednn_packed)", a.distilc, avx2,
                      "onednn_packed"))
    confs.append(("avx2", "onednn_plain", a.distilc, avx2, "onednn_plain"))
    confs.append(("avx2", "after (auto)", a.distilc, avx2, None))
    shapes = [tuple(int(v) for v in s.split("x")) for s in a.shapes.split(",")]
    print(f"load average before: {os.getloadavg()}", flush=True)
    res = {}
    for r in range(a.rounds):
        for seq, batch in shapes:
            for c in confs:
                j = run(c[2], a.model, seq, batch, a.threads, c[3], c[4])
                res.setdefault((seq, batch, c[0], c[1]), []).append(j)
                print(f"round {r + 1} s{seq} b{batch} {c[0]} {c[1]}: "
                      f"{j['median_ms']:.1f} ms ({j.get('kernels', 'n/a')})",
                      file=sys.stderr, flush=True)
    print(f"load average after: {os.getloadavg()}")
    print("| shape | ISA | kernel | median ms (median of rounds) | rounds | "
          "vs before | linears ran on |")
    print("|---|---|---|---|---|---|---|")
    for seq, batch in shapes:
        for isa in ("native", "avx2"):
            rows = [(c[1], res[(seq, batch, isa, c[1])]) for c in confs if c[0] == isa]
            base = statistics.median(j["median_ms"] for j in rows[0][1])
            for name, js in rows:
                med = statistics.median(j["median_ms"] for j in js)
                each = ", ".join(f"{j['median_ms']:.1f}" for j in js)
                kern = js[0].get("kernels", "onednn_packed (before)")
                print(f"| s{seq} b{batch} | {isa} | {name} | {med:.1f} | {each} | "
                      f"{med / base:.2f}x | {kern} |")


if __name__ == "__main__":
    main()

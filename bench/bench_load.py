#!/usr/bin/env python3
"""bench_load.py - how distilc and ONNX Runtime slow down when another
process holds a core (issue 14, item 6), side by side in one run.

    bench/bench_load.sh [--shapes tinybert4-s128-b1,bert-base-s128-b1]
        [--threads 1,2] [--runs 30]

For each shape (random-weight exports, as bench_runtime.py) and thread
count it times, quiet and then with one CPU-bound competitor process (a
Python busy loop, started before and killed after each timing):
  - distilc as shipped (`distilc bench`; OMP_WAIT_POLICY and GOMP_SPINCOUNT
    unset, so distilc sets GOMP_SPINCOUNT=1000: backend/rt_omp_wait.h);
  - distilc with OMP_WAIT_POLICY=passive (idle threads sleep at once);
  - distilc with libgomp's own default (GOMP_SPINCOUNT=300000, what an
    unset OMP_WAIT_POLICY gives: what distilc did before);
  - ONNX Runtime fp32 as a user runs it (its thread pool spins by default).
and prints median latencies and the slowdown loaded / quiet per engine.
The competitor is the only other job on purpose: run nothing else.
"""
import argparse
import os
import subprocess
import sys
import time

import bench_runtime as br  # export, bench_ort, bench_distilc, SHAPES

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--distilc", default=os.path.join(br.ROOT, "build-rel", "distilc"))
ap.add_argument("--shapes", default="tinybert4-s128-b1,bert-base-s128-b1")
ap.add_argument("--threads", default="1,2")
ap.add_argument("--runs", type=int, default=30)
ap.add_argument("--warmup", type=int, default=5)
ap.add_argument("--cache", default=os.path.join(
    os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "distilc-bench"))


def competitor():
    """One CPU-bound process, as another user's job would be."""
    p = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)  # let it reach the scheduler's steady state
    return p


def timed(fn, loaded):
    p = competitor() if loaded else None
    try:
        return fn()
    finally:
        if p:
            p.kill()
            p.wait()


def distilc_ms(a, model, seq, batch, threads, extra_env):
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("GOMP_SPINCOUNT", None)
    env.update(extra_env)
    cmd = [a.distilc, "bench", model, "--seq", str(seq), "--batch", str(batch),
           "--threads", str(threads), "--warmup", str(a.warmup), "--runs",
           str(a.runs), "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    import json
    return json.loads(r.stdout.strip().splitlines()[-1])["median_ms"]


def main():
    a = ap.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    engines = [
        ("distilc (spin 1000, the default)", lambda m, s, b, t: distilc_ms(a, m, s, b, t, {})),
        ("distilc, passive", lambda m, s, b, t: distilc_ms(
            a, m, s, b, t, {"OMP_WAIT_POLICY": "passive"})),
        ("distilc, libgomp default (before)", lambda m, s, b, t: distilc_ms(
            a, m, s, b, t, {"GOMP_SPINCOUNT": "300000"})),
        ("onnxruntime (default)", lambda m, s, b, t: br.bench_ort(
            m, s, b, t, a.warmup, a.runs)[0]["median_ms"]),
    ]
    rows = []
    for shape in a.shapes.split(","):
        name, seq, batch = br.SHAPES[shape]
        model = br.export(a.cache, name)
        for t in (int(x) for x in a.threads.split(",")):
            for label, fn in engines:
                br.log(f"{shape} t{t} {label} ...")
                quiet = timed(lambda: fn(model, seq, batch, t), False)
                loaded = timed(lambda: fn(model, seq, batch, t), True)
                rows.append((shape, t, label, quiet, loaded, loaded / quiet))
    print(subprocess.run([a.distilc, "--version"], capture_output=True,
                         text=True).stdout.strip())
    print(f"{a.runs} runs after {a.warmup} warm-up, medians; loaded = one "
          "CPU-bound competitor process on this 2-core machine\n")
    print("| shape | threads | engine | quiet ms | loaded ms | slowdown |")
    print("|---|---|---|---|---|---|")
    for shape, t, label, q, l, r in rows:
        print(f"| {shape} | {t} | {label} | {q:.2f} | {l:.2f} | {r:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())

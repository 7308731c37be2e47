#!/usr/bin/env python3
"""bench_runtime.py - the oneDNN encoder runtime (`distilc bench`) side by
side with ONNX Runtime on the same exported BERT classifiers.

    bench/bench_runtime.py --distilc build-rel/distilc [--threads 2]
        [--shapes bert-base-s128-b1,bert-base-s32-b8,tinybert4-s128-b1,
              distilbert-base-s128-b1,roberta-base-s128-b1]
        [--cache DIR] [--runs 20] [--warmup 3] [--json FILE]

For each shape it exports a random-weight classifier with
tests/util/bert_export.py once into the cache folder (BERT-base: 12 layers x
768, 12 heads, FFN 3072; TinyBERT-4: 4 x 312, 12 heads, FFN 1200;
vocabulary 30522, 512 positions; on request the teacher families' base
shapes, DistilBERT 6 x 768 and RoBERTa 12 x 768 with its 50265 tokens,
from bench/export_family.py), then in this one process runs:
  - ONNX Runtime fp32 (all graph optimizations, intra_op_num_threads = T,
    the same file);
  - ONNX Runtime int8, dynamic quantization of every MatMul weight
    (onnxruntime.quantization.quantize_dynamic, QInt8 weights; it needs a
    newer onnx than Debian's 1.12, so bench_runtime.sh runs this script in
    a virtual environment of its own with PyPI onnxruntime and onnx, while
    the models are exported by Debian's python3-torch in /usr/bin/python3);
  - `distilc bench --json` at fp32, bf16 and int8;
and prints a markdown table: median latency, p10-p90 spread, ratio to ORT
(distilc fp32 and bf16 vs ORT fp32, distilc int8 vs ORT int8), load time,
peak memory (ORT: the process's peak resident set while loading and
running that session, VmHWM reset first; distilc: its own process), and
the max |logit - fp32 logit| on the bench inputs.
Timings on a loaded machine are only indicative; run it on a quiet one.
On a shared machine --no-spin makes both engines sleep rather than spin
while waiting for work (distilc: OMP_WAIT_POLICY=passive; ORT:
session.intra_op.allow_spinning=0): spinning threads steal the cores the
working ones need, which hurts OpenMP's fork/join far more than ORT's pool.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
except ImportError as e:
    print(f"skipped: {e.name} is not installed for {sys.executable}")
    sys.exit(0)

MODELS = {
    "bert-base": dict(layers=12, hidden=768, heads=12, ffn=3072),
    "tinybert4": dict(layers=4, hidden=312, heads=12, ffn=1200),
    # Teacher families at their base shapes (issue 16), exported by
    # bench/export_family.py from the family's own transformers config.
    "distilbert-base": dict(layers=6, hidden=768, heads=12, ffn=3072, family="distilbert"),
    "roberta-base": dict(layers=12, hidden=768, heads=12, ffn=3072, family="roberta",
                         vocab=50265),
}
SHAPES = {
    "bert-base-s128-b1": ("bert-base", 128, 1),
    "bert-base-s32-b8": ("bert-base", 32, 8),
    "tinybert4-s128-b1": ("tinybert4", 128, 1),
    "distilbert-base-s128-b1": ("distilbert-base", 128, 1),
    "roberta-base-s128-b1": ("roberta-base", 128, 1),
}
# What runs without --shapes: the BERT shapes (the families' are opt-in).
DEFAULT_SHAPES = ("bert-base-s128-b1", "bert-base-s32-b8", "tinybert4-s128-b1")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def export(cache, name):
    d = os.path.join(cache, name)
    model = os.path.join(d, "model.onnx")
    if os.path.exists(model):
        return model
    m = MODELS[name]
    log(f"exporting {name} into {d} ...")
    # torch lives in Debian's interpreter, not necessarily in this one.
    torch_python = os.environ.get("TORCH_PYTHON", "/usr/bin/python3")
    if "family" in m:
        cmd = [torch_python, os.path.join(HERE, "export_family.py"), "--family",
               m["family"], "--out", d, "--layers", str(m["layers"]), "--hidden",
               str(m["hidden"]), "--heads", str(m["heads"]), "--ffn", str(m["ffn"]),
               "--vocab", str(m.get("vocab", 30522)), "--max-pos", "512"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return model
    cmd = [torch_python,
           os.path.join(ROOT, "tests", "util", "bert_export.py"),
           "--out", d, "--opset", "14", "--layers", str(m["layers"]),
           "--hidden", str(m["hidden"]), "--heads", str(m["heads"]),
           "--ffn", str(m["ffn"]), "--vocab", "30522", "--max-pos", "512",
           "--labels", "2", "--batch", "1", "--seq", "8"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return model


def quantize_int8(src, dst, reduce_range=False):
    """ONNX Runtime's own dynamic int8: quantize_dynamic, int8 weights;
    reduce_range=True (7-bit weights) is what ORT recommends on CPUs without
    VNNI, where u8·s8 pairs sum in saturating 16 bits (AVX2)."""
    if reduce_range:
        dst = dst.replace(".onnx", "_rr.onnx")
    if os.path.exists(dst):
        return dst
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(src, dst, weight_type=QuantType.QInt8,
                     reduce_range=reduce_range)
    return dst


def cpu_has_vnni():
    with open("/proc/cpuinfo") as f:
        flags = next((l for l in f if l.startswith("flags")), "").split()
    return "avx512_vnni" in flags or "avx_vnni" in flags


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def feeds(seq, batch, inputs):
    rng = np.random.default_rng(0)
    # From 3: never a pad id (RoBERTa's is 1, its positions count non-pads).
    ids = rng.integers(3, 30522, size=(batch, seq), dtype=np.int64)
    f = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    if "token_type_ids" in inputs:
        t = np.zeros_like(ids)
        t[:, seq // 2:] = 1
        f["token_type_ids"] = t
    return f


def bench_ort(model, seq, batch, threads, warmup, runs, no_spin=False):
    """Runs in a fresh interpreter (spawn) so that its peak RSS is ONNX
    Runtime's alone, not this script's after earlier models."""
    import multiprocessing as mp
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(bench_ort_here, (model, seq, batch, threads, warmup,
                                           runs, no_spin))


def bench_ort_here(model, seq, batch, threads, warmup, runs, no_spin=False):
    reset_peak_rss()
    so = ort.SessionOptions()
    if no_spin:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    t0 = time.perf_counter()
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    load_ms = (time.perf_counter() - t0) * 1e3
    f = feeds(seq, batch, [i.name for i in sess.get_inputs()])
    for _ in range(warmup):
        out = sess.run(None, f)[0]
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        out = sess.run(None, f)[0]
        ts.append((time.perf_counter() - t) * 1e3)
    res = dict(median_ms=float(np.median(ts)), p10_ms=float(np.percentile(ts, 10)),
               p90_ms=float(np.percentile(ts, 90)), load_ms=load_ms,
               peak_rss_mb=peak_rss_mb())
    del sess
    return res, out


def bench_distilc(distilc, model, seq, batch, threads, precision, warmup, runs,
                  no_spin=False):
    cmd = [distilc, "bench", model, "--seq", str(seq), "--batch", str(batch),
           "--threads", str(threads), "--precision", precision, "--warmup",
           str(warmup), "--runs", str(runs), "--json"]
    env = dict(os.environ)
    if no_spin:
        env["OMP_WAIT_POLICY"] = "passive"
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
    return json.loads(r.stdout.strip().splitlines()[-1]), None


def fmt(v, spec=".2f"):
    return "n/a" if v is None or (isinstance(v, float) and v != v) else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distilc", default=os.path.join(ROOT, "build-rel", "distilc"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--shapes", default=",".join(DEFAULT_SHAPES),
                    help="comma-separated, of: " + ", ".join(SHAPES))
    ap.add_argument("--cache", default=os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "distilc-bench"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", help="also write all results to this file")
    ap.add_argument("--reduce-range", choices=("auto", "on", "off"), default="auto",
                    help="ORT int8 with 7-bit weights (auto: on where the CPU "
                    "has no VNNI, as ORT recommends)")
    ap.add_argument("--no-spin", action="store_true",
                    help="idle threads sleep instead of spinning (shared machines)")
    a = ap.parse_args()
    if not os.access(a.distilc, os.X_OK):
        print(f"bench_runtime: no distilc at {a.distilc} (give --distilc)", file=sys.stderr)
        return 2
    shapes = a.shapes.split(",")
    for s in shapes:
        if s not in SHAPES:
            print(f"bench_runtime: unknown shape '{s}' ({', '.join(SHAPES)})", file=sys.stderr)
            return 2
    os.makedirs(a.cache, exist_ok=True)
    rows, results = [], []
    for s in shapes:
        name, seq, batch = SHAPES[s]
        model = export(a.cache, name)
        rr = a.reduce_range == "on" or (a.reduce_range == "auto" and not cpu_has_vnni())
        qmodel = quantize_int8(model, os.path.join(a.cache, name, "model_int8.onnx"), rr)
        log(f"{s}: onnxruntime fp32 ...")
        ort32, logits32 = bench_ort(model, seq, batch, a.threads, a.warmup, a.runs,
                                    a.no_spin)
        log(f"{s}: onnxruntime int8 ...")
        ort8, logits8 = bench_ort(qmodel, seq, batch, a.threads, a.warmup, a.runs,
                                  a.no_spin)
        ort8["max_abs_err_vs_fp32"] = float(np.abs(logits8 - logits32).max())
        ort32["max_abs_err_vs_fp32"] = None
        entries = [("onnxruntime", "fp32", ort32, None), ("onnxruntime", "int8", ort8, None)]
        for p in ("fp32", "bf16", "int8"):
            log(f"{s}: distilc {p} ...")
            res, err = bench_distilc(a.distilc, model, seq, batch, a.threads, p,
                                     a.warmup, a.runs, a.no_spin)
            entries.append(("distilc", p, res, err))
        for engine, p, res, err in entries:
            results.append(dict(shape=s, engine=engine, precision=p, result=res, error=err))
            if res is None:
                rows.append(f"| {s} | {engine} | {p} | failed: {err} | | | | | |")
                continue
            base = ort8 if (engine == "distilc" and p == "int8") else ort32
            ratio = res["median_ms"] / base["median_ms"] if engine == "distilc" else None
            rows.append("| {} | {} | {} | {} | {}-{} | {} | {} | {} | {} |".format(
                s, engine, p, fmt(res["median_ms"]), fmt(res["p10_ms"]), fmt(res["p90_ms"]),
                fmt(ratio) + "x" if ratio else "", fmt(res["load_ms"], ".0f"),
                fmt(res["peak_rss_mb"], ".0f"), fmt(res.get("max_abs_err_vs_fp32"), ".2g")))
    print(f"distilc: {subprocess.run([a.distilc, '--version'], capture_output=True, text=True).stdout.strip()}; "
          f"DISTILC_MAX_ISA={os.environ.get('DISTILC_MAX_ISA', '(unset)')}; ORT int8 "
          f"reduce_range={a.reduce_range == 'on' or (a.reduce_range == 'auto' and not cpu_has_vnni())}")
    print(f"threads {a.threads}{', no spinning' if a.no_spin else ''}, {a.runs} runs "
          f"after {a.warmup} warm-up; ratio = "
          "distilc / onnxruntime (fp32 and bf16 vs ORT fp32, int8 vs ORT int8)\n")
    print("| shape | engine | precision | median ms | p10-p90 ms | ratio | load ms "
          "| peak RSS MB | max abs err vs fp32 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(threads=a.threads, runs=a.runs, warmup=a.warmup,
                           results=results), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

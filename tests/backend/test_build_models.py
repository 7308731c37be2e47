#!/usr/bin/env python3
"""test_build_models.py - `distilc build` end to end on torch-exported BERT
classifiers (tests/util/bert_export.py; Python is only the test oracle).

Usage: test_build_models.py [PATH/TO/distilc]  (default: $DISTILC_BIN)

For opsets 11, 14 and 17, with and without token_type_ids, and a padded
batch, the emitted program DIR/model:
  - prints, for each example as its own JSON line and for the whole batch
    as one line, logits equal to `distilc run --backend ref` (the reference
    interpreter) within 1e-4 fp32, and to torch's within 1e-4;
  - links only libdnnl, libopenblas, ICU, libxxhash, libm, libc and libgomp (NEEDED
    entries; libgomp because the runtime sets oneDNN's OpenMP thread count,
    libopenblas for the larger fp32 linears on CPUs without AVX-512, chosen at
    load time: backend/rt_linear.c; ICU for the text mode's tokenizer.json
    kinds, tests/backend/test_program_tokenizer.py; libxxhash for the
    weights' checksum);
  - refuses a truncated copy of its weights (exit 1, "truncated").
At bf16, int8 (dynamic) and int8 with scales calibrated by
`distilc build --calibrate` the logits stay within a loose bound of the
fp32 ones (printed). With --vocab, text lines give the same logits as
`distilc tokenize` piped into the program. A model whose GELU is broken
(Erf replaced by Tanh) is refused with exit 2 naming the node.

Prints "skipped: ..." and exits 77 when torch, onnx or numpy is missing.
Ends with "N passed, N failed"; exit 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

TOL = 1e-4
ALLOWED_NEEDED = ("libdnnl.so", "libopenblas.so", "libm.so", "libc.so",
                  "libgomp.so", "libicui18n.so", "libicuuc.so", "libicudata.so",
                  "libxxhash.so")

np, onnx, _ = mu.require("numpy", "onnx", "torch")

checks = mu.Checks()
BF16 = [False]  # whether this CPU runs bf16 natively (distilc system)
check = checks.check
distilc = None  # mu.Distilc, set by main()


def export(tmp, name, *extra):
    case = mu.export_bert(os.path.join(tmp, name), *extra, checks=checks, name=name)
    return (case.dir, case.inputs, case.want) if case else None


def reference(d, inputs):
    """distilc run --backend ref on the whole batch."""
    outs, r = mu.run_model(distilc, os.path.join(d, "model.onnx"), inputs,
                           os.path.join(d, "ref_out"), "--backend", "ref")
    if not check(r.returncode == 0, f"{d}: distilc run --backend ref: {r.stderr}"):
        return None
    return outs[0]


def build(d, out, *extra):
    r = distilc("build", os.path.join(d, "model.onnx"), "-o", out,
                "--progress", "off", *extra)
    check(r.returncode == 0, f"{out}: distilc build: {r.stderr[-1500:]}")
    return r


def run_program(prog, text, *args):
    return subprocess.run([prog, *args], input=text, capture_output=True,
                          text=True)


def json_lines(inputs):
    """One line per example, then the batch as one line."""
    names = [n for n, _ in inputs]
    arrays = dict(inputs)
    batch = arrays["input_ids"].shape[0]
    lines = [json.dumps({n: arrays[n][b].tolist() for n in names})
             for b in range(batch)]
    lines.append(json.dumps({n: arrays[n].tolist() for n in names}))
    return "\n".join(lines) + "\n"


def program_logits(prog, inputs, *args):
    r = run_program(prog, json_lines(inputs), *args)
    if not check(r.returncode == 0, f"{prog} {args}: exit {r.returncode}: {r.stderr[-800:]}"):
        return None, None
    outs = [json.loads(l) for l in r.stdout.splitlines()]
    rows = np.array([o["logits"] for o in outs[:-1]], dtype=np.float64)
    return rows, np.array(outs[-1]["logits"], dtype=np.float64)


def needed_libs(path):
    if not shutil.which("readelf"):
        return None
    r = subprocess.run(["readelf", "-d", path], capture_output=True, text=True)
    libs = []
    for line in r.stdout.splitlines():
        if "(NEEDED)" in line:
            libs.append(line.split("[", 1)[1].rstrip("]"))
    return libs


def check_model(tmp, name, extra, precisions=False):
    got = export(tmp, name, *extra)
    if not got:
        return
    d, inputs, want = got
    ref = reference(d, inputs)
    out = os.path.join(d, "build")
    if build(d, out).returncode != 0:
        return
    prog = os.path.join(out, "model")
    rows, batch = program_logits(prog, inputs)
    if rows is None:
        return
    if ref is not None:
        diff = max(mu.max_diff(rows, ref), mu.max_diff(batch, ref))
        check(diff <= TOL, f"{name}: program vs reference interpreter: max diff {diff:.3g}")
        print(f"{name}: program vs distilc run --backend ref: max diff {diff:.3g}")
    diff = max(mu.max_diff(rows, want), mu.max_diff(batch, want))
    check(diff <= TOL, f"{name}: program vs torch: max diff {diff:.3g}")

    libs = needed_libs(prog)
    if libs is not None:
        odd = [l for l in libs if not l.startswith(ALLOWED_NEEDED)]
        check(not odd, f"{name}: program links {odd} (allowed: {ALLOWED_NEEDED})")
        check(any(l.startswith("libdnnl.so") for l in libs),
              f"{name}: program does not link libdnnl: {libs}")

    wpath = os.path.join(out, "model.weights")
    trunc = os.path.join(out, "trunc.weights")
    with open(wpath, "rb") as f:
        data = f.read()
    with open(trunc, "wb") as f:
        f.write(data[: len(data) - 100])
    r = run_program(prog, "", "--weights", trunc)
    check(r.returncode == 1 and "truncated" in r.stderr,
          f"{name}: truncated weights: exit {r.returncode}: {r.stderr}")

    if precisions:
        for prec, bound in (("bf16", 0.05), ("int8", 0.1)):
            if prec == "bf16" and not mu.part("bf16"):
                continue
            if prec != "bf16" and mu.only_part():
                continue
            if prec == "bf16" and not BF16[0]:
                # the clear refusal stays where the CPU has no bf16
                r = run_program(prog, json_lines(inputs), "--precision", "bf16")
                check(r.returncode != 0 and "bf16 needs a CPU" in r.stderr,
                      f"{name}: bf16 without the CPU for it: exit {r.returncode}: "
                      f"{r.stderr[-300:]}")
                continue
            rows_p, _ = program_logits(prog, inputs, "--precision", prec)
            if rows_p is not None:
                diff = mu.max_diff(rows_p, rows)
                print(f"{name}: {prec} vs fp32: max diff {diff:.3g} (bound {bound})")
                check(diff <= bound, f"{name}: {prec} vs fp32 max diff {diff:.3g} > {bound}")
        if mu.only_part():
            return
        # int8 with static scales calibrated on the same examples.
        calib = os.path.join(d, "calib.jsonl")
        with open(calib, "w") as f:
            f.write(json_lines(inputs))
        outq = os.path.join(d, "build-int8")
        r = build(d, outq, "--precision", "int8", "--calibrate", calib)
        if r.returncode == 0:
            check(json.loads(r.stdout)["calibrated_tokens"] > 0,
                  f"{name}: int8 calibration saw no tokens: {r.stdout}")
            rows_q, _ = program_logits(os.path.join(outq, "model"), inputs)
            if rows_q is not None:
                diff = mu.max_diff(rows_q, rows)
                print(f"{name}: int8 calibrated vs fp32: max diff {diff:.3g} (bound 0.1)")
                check(diff <= 0.1, f"{name}: int8 calibrated vs fp32 max diff {diff:.3g}")


def check_vocab(tmp):
    vocab = os.path.join(mu.shared_dir(), "vocab", "bert-base-uncased-vocab.txt")
    if not os.path.exists(vocab):
        print(f"note: the --vocab check did not run ({vocab} absent)")
        return
    got = export(tmp, "vocab", "--opset", "17", "--vocab", "30522")
    if not got:
        return
    d = got[0]
    out = os.path.join(d, "build")
    if build(d, out).returncode != 0:
        return
    prog = os.path.join(out, "model")
    text = ("Hello, world!\nthe quick brown fox\tjumps over the lazy dog\n"
            "Ünïcödé text — with accents and 中文\n\n")
    r1 = run_program(prog, text, "--vocab", vocab, "--max-seq", "16")
    tok = distilc("tokenize", "--vocab", vocab, "--max-seq", "16", input=text)
    check(tok.returncode == 0, f"vocab: distilc tokenize: {tok.stderr}")
    # The program answers the empty line with an error object in both modes
    # (exit 2: one line per input line); tokenize makes it [CLS] [SEP],
    # which the JSON path answers. Compare the first three lines.
    r2 = run_program(prog, tok.stdout)
    ok = r1.returncode == 2 and r2.returncode == 0
    check(ok, f"vocab: program exits {r1.returncode}/{r2.returncode} (want 2/0): "
          f"{r1.stderr} {r2.stderr}")
    if ok:
        o1 = [json.loads(l) for l in r1.stdout.splitlines()]
        b = [json.loads(l)["logits"] for l in r2.stdout.splitlines()]
        check(len(o1) == 4 and len(b) == 4, f"vocab: {len(o1)}/{len(b)} lines")
        check(o1[-1].get("line") == 4 and "empty line" in o1[-1].get("error", ""),
              f"vocab: the empty line got {o1[-1]}")
        a = [o["logits"] for o in o1[:3]]
        diff = mu.max_diff(a, b[:3])
        check(diff == 0.0, f"vocab: --vocab vs tokenize piped: max diff {diff:.3g}")


def check_broken(tmp):
    got = export(tmp, "broken", "--opset", "14")
    if not got:
        return
    d = got[0]
    m = onnx.load(os.path.join(d, "model.onnx"))
    for n in m.graph.node:
        if n.op_type == "Erf":
            n.op_type = "Tanh"
            break
    bad = os.path.join(d, "broken.onnx")
    onnx.save(m, bad)
    r = distilc("build", bad, "-o", os.path.join(d, "out"), "--progress", "off")
    check(r.returncode == 2 and "cannot build" in r.stderr and "node '" in r.stderr,
          f"broken: exit {r.returncode}: {r.stderr}")


def main():
    global distilc
    distilc = mu.Distilc(os.path.abspath(mu.command_arg(__doc__)))
    BF16[0] = mu.machine(distilc.path)["bf16"]
    if not shutil.which("cc") and not os.environ.get("CC"):
        mu.skip("no C compiler (cc) on PATH")
    with tempfile.TemporaryDirectory(prefix="distilc-build-") as tmp:
        if mu.only_part():
            # test_build_models.bf16: the program at bf16 only
            check_model(tmp, "opset17", ["--opset", "17"], precisions=True)
            if not BF16[0]:
                mu.skip("bf16: this CPU has no native bf16 (AVX512-BF16 or AMX); "
                        "the program's refusal was checked")
            return checks.finish()
        check_model(tmp, "opset11", ["--opset", "11"])
        check_model(tmp, "opset14-no-tt", ["--opset", "14", "--no-token-types"])
        check_model(tmp, "opset17", ["--opset", "17"], precisions=True)
        check_model(tmp, "opset17-no-tt-padded",
                    ["--opset", "17", "--no-token-types", "--padded", "--batch", "3"])
        check_model(tmp, "opset14-padded", ["--opset", "14", "--padded"])
        check_vocab(tmp)
        check_broken(tmp)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())

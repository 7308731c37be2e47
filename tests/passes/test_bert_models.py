#!/usr/bin/env python3
"""test_bert_models.py - end-to-end check of the distilc command on BERT
classifiers, against PyTorch and ONNX Runtime (test oracles only; Python is
never a step of distilc itself).

Usage: test_bert_models.py [PATH/TO/distilc]  (default: $DISTILC_BIN)

For several small Hugging Face-style BERT classifiers exported by
tests/util/bert_export.py (opsets 11, 14, 17; with and without
token_type_ids; a padded batch):
  - `distilc run` matches torch's logits within 1e-4;
  - `distilc export-onnx --passes default` gives a model that still matches,
    whose graph after the passes has no Shape op, and that ONNX Runtime
    runs with the same outputs (1e-4);
  - inspect's "parameters" equals the sum of initializer sizes counted with
    the onnx package.
Then two third-party models from $DISTILC_SHARED/bert-onnx (onnxruntime's
bert_toy_optimized.onnx and TFBertForQuestionAnswering.onnx) run in distilc
on random inputs of valid ranges and match ONNX Runtime, and a model with
a com.microsoft op distilc lacks (MultiHeadAttention) is refused with exit 2
naming the op (the ones it has: tests/passes/test_ms_ops.py).

Prints "skipped: ..." and exits 77 when torch, onnx or onnxruntime is missing.
Ends with "N passed, N failed"; exit 1 on any failure.
"""
import json
import os
import sys
import tempfile

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

TOL = 1e-4

np, onnx, ort, _ = mu.require("numpy", "onnx", "onnxruntime", "torch")
checks = mu.Checks()
check = checks.check
distilc = None  # mu.Distilc, set by main()


def run_distilc(model, inputs, workdir, tag):
    """inputs: list of (name, array). Returns (outputs list, process)."""
    return mu.run_model(distilc, model, inputs, os.path.join(workdir, "out_" + tag))


def inspect_json(model):
    r = distilc("inspect", model, "--json")
    if r.returncode != 0:
        return None, r
    return json.loads(r.stdout), r


def initializer_count(model):
    m = onnx.load(model)
    return sum(int(np.prod(t.dims)) for t in m.graph.initializer)


def check_exported_bert(tmp, cfg):
    name, args = mu.case_flags(cfg)
    d = os.path.join(tmp, name)
    case = mu.export_bert(d, *args, checks=checks, name=name)
    if not case:
        return
    model, inputs, want = case.model, case.inputs, case.want

    outs, r = run_distilc(model, inputs, d, "orig")
    if check(r.returncode == 0 and outs, f"{name}: distilc run: {r.stderr.strip()}"):
        diff = mu.max_diff(outs[0], want)
        check(diff <= TOL, f"{name}: distilc run vs torch: max diff {diff:.3g}")

    info, r = inspect_json(model)
    if check(info is not None, f"{name}: inspect failed: {r.stderr.strip()}"):
        n = initializer_count(model)
        check(info["parameters"] == n,
              f"{name}: inspect parameters {info['parameters']} != {n} (onnx)")

    exported = os.path.join(d, "exported.onnx")
    r = distilc("export-onnx", model, "--passes", "default", "-o", exported)
    if not check(r.returncode == 0, f"{name}: export-onnx: {r.stderr.strip()}"):
        return
    outs, r = run_distilc(exported, inputs, d, "exp")
    if check(r.returncode == 0 and outs, f"{name}: run exported: {r.stderr.strip()}"):
        diff = mu.max_diff(outs[0], want)
        check(diff <= TOL, f"{name}: exported model vs torch: max diff {diff:.3g}")
    # The default passes remove all shape arithmetic; lowering distilc's
    # internal *Like ops back to standard ONNX may reintroduce a Shape or
    # two in the written file, so the check is on the graph after dce.
    r = distilc("export-onnx", model, "--passes", "default", "-o", exported,
                "--dump-after", "dce")
    if check(r.returncode == 0, f"{name}: export-onnx --dump-after: {r.stderr.strip()}"):
        shapes = [l for l in r.stdout.splitlines() if " = Shape " in l]
        check(not shapes, f"{name}: graph after default passes still has "
              f"{len(shapes)} Shape ops")
    try:
        got = mu.ort_run(exported, inputs)[0]
        diff = mu.max_diff(got, want)
        check(diff <= TOL, f"{name}: onnxruntime on exported vs torch: max diff {diff:.3g}")
    except Exception as e:  # noqa: BLE001 - any ORT failure is a test failure
        check(False, f"{name}: onnxruntime cannot run the exported model: {e}")


def random_inputs(model_path, rng, batch=2, seq=7):
    """Random feeds of valid ranges for a BERT-like model's inputs: ids below
    the smallest embedding table, token types 0/1, masks of ones with a
    padded tail."""
    m = onnx.load(model_path)
    inits = {t.name: t for t in m.graph.initializer}
    vocab = None
    for node in m.graph.node:
        if node.op_type == "Gather" and node.input[0] in inits:
            rows = inits[node.input[0]].dims[0]
            vocab = rows if vocab is None else min(vocab, rows)
    vocab = vocab or 2
    feeds = []
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        shape = [batch if i == 0 and d is None else (seq if d is None else d)
                 for i, d in enumerate(dims)]
        dtype = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[tt.elem_type]
        n = vi.name.lower()
        if "mask" in n:
            a = np.ones(shape, dtype=dtype)
            if a.ndim == 2 and a.shape[1] > 2:
                a[-1, -2:] = 0
        elif "type" in n or "segment" in n:
            a = rng.integers(0, 2, size=shape).astype(dtype)
        elif np.issubdtype(dtype, np.integer):
            a = rng.integers(0, vocab, size=shape).astype(dtype)
        else:
            a = rng.standard_normal(shape).astype(dtype)
        feeds.append((vi.name, a))
    return feeds


def check_third_party(tmp, shared):
    base = os.path.join(shared, "bert-onnx", "onnxruntime")
    models = [
        os.path.join(base, "test", "testdata", "bert_toy_optimized.onnx"),
        os.path.join(base, "test", "python", "transformers", "test_data", "models",
                     "TFBertForQuestionAnswering.onnx"),
    ]
    rng = np.random.default_rng(0)
    for path in models:
        name = os.path.basename(path)
        if not os.path.exists(path):
            print(f"note: {path} absent, not checked")
            continue
        feeds = random_inputs(path, rng)
        outs, r = run_distilc(path, feeds, tmp, name)
        if not check(r.returncode == 0 and outs, f"{name}: distilc run: {r.stderr.strip()}"):
            continue
        want = mu.ort_run(path, feeds)
        check(len(outs) == len(want), f"{name}: {len(outs)} outputs, onnxruntime has {len(want)}")
        for k, (a, b) in enumerate(zip(outs, want)):
            diff = mu.max_diff(a, b)
            check(diff <= TOL, f"{name}: output {k} vs onnxruntime: max diff {diff:.3g}")

    ms = os.path.join(base, "test", "python", "transformers", "test_data", "models",
                      "attention_mha.onnx")
    if os.path.exists(ms):
        feeds = random_inputs(ms, rng)
        _, r = run_distilc(ms, feeds, tmp, "ms")
        check(r.returncode == 2, f"MultiHeadAttention model: exit {r.returncode}, expected 2")
        check("com.microsoft.MultiHeadAttention" in r.stderr,
              f"MultiHeadAttention model: message does not name the op: {r.stderr.strip()}")


def main():
    global distilc
    distilc = mu.Distilc(mu.command_arg(__doc__))
    shared = mu.shared_dir()
    with tempfile.TemporaryDirectory(prefix="distilc-bert-") as tmp:
        for cfg in [dict(opset=11), dict(opset=14, tt=False), dict(opset=17),
                    dict(opset=17, padded=True), dict(opset=14, tt=False, padded=True)]:
            check_exported_bert(tmp, cfg)
        if os.path.isdir(os.path.join(shared, "bert-onnx")):
            check_third_party(tmp, shared)
        else:
            print("note: shared bert-onnx absent, third-party models not checked")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())

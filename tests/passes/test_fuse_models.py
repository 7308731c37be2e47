#!/usr/bin/python3
"""The fusion passes on real exporter output (a test oracle, not the product).

1. torch-exported BERT classifiers (tests/util/bert_export.py; opsets 11, 14,
   17; with and without token types; padded batches): after
   `default` + the six fusions the graph must hold exactly L Attention,
   2L AddLayerNorm, one EmbedLayerNorm, 3L+2 Linear and no MatMul, Erf or
   Softmax, and its logits (reference interpreter) must equal torch's
   within 1e-4.
2. ONNX Runtime's fusion test inputs in
   $DISTILC_SHARED/bert-onnx/onnxruntime/test/testdata/transform/fusion/
   (layer_norm*, gelu*, embed_layer_norm*, attention*): each is reported as
   fused or declined (with the reason); models with non-standard ops are
   reported as not loadable. Whenever a model runs, its outputs on random
   inputs must be unchanged by fusion (1e-4).

    /usr/bin/python3 tests/passes/test_fuse_models.py build/tests/test_fuse
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

mu.require("numpy", "onnx")  # model_util reads tensors with them

checks = mu.Checks()
check = checks.check


def run_driver(driver, model, inputs=(), write=False):
    env = dict(os.environ)
    if write:
        env["FUSE_WRITE_OUTPUTS"] = "1"
    p = subprocess.run([driver, model, *inputs], capture_output=True, text=True,
                       env=env, timeout=600)
    return p.returncode, p.stdout + p.stderr


def parse_ops(out):
    m = re.search(r"^ops(.*)$", out, re.M)
    if not m:
        return None
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


def bert_models(driver, tmp):
    try:
        import torch  # noqa: F401
    except ImportError:
        print("skipped BERT exports: torch missing")
        return
    layers = 2
    for opset in (11, 14, 17):
        for types in (True, False):
            out = os.path.join(tmp, f"bert_o{opset}_{'t' if types else 'n'}")
            case = mu.export_bert(out, "--opset", opset, "--layers", layers,
                                  "--padded", "--batch", 3, "--seq", 12,
                                  *([] if types else ["--no-token-types"]))
            model = case.model
            ins = [case.input_files[n] for n in case.names]
            rc, text = run_driver(driver, model, ins, write=True)
            name = f"BERT opset {opset} {'with' if types else 'without'} token types"
            check(rc == 0, f"{name}: driver failed:\n{text}")
            ops = parse_ops(text) or {}
            want = {"Attention": layers, "AddLayerNorm": 2 * layers,
                    "EmbedLayerNorm": 1, "Linear": 3 * layers + 2}
            for op, n in want.items():
                check(ops.get(op, 0) == n, f"{name}: {op} = {ops.get(op, 0)}, want {n}")
            for op in ("MatMul", "Erf", "Softmax", "LayerNorm", "LayerNormalization",
                       "ReduceMean", "Gelu"):
                check(op not in ops, f"{name}: {op} left after fusion: {ops}")
            logits = mu.read_pb(model + ".fused_out_0.pb")
            err = mu.max_diff(logits, case.want)
            check(err <= 1e-4, f"{name}: fused logits differ from torch by {err}")
            print(f"{name}: {ops} max|fused - torch| = {err:.2e}")


def ort_cases(driver):
    shared = mu.shared_dir()
    d = os.path.join(shared, "bert-onnx", "onnxruntime", "test", "testdata",
                     "transform", "fusion")
    if not os.path.isdir(d):
        print("skipped ORT fusion cases: shared data absent")
        return
    pats = ("layer_norm*.onnx", "gelu*.onnx", "embed_layer_norm*.onnx", "attention*.onnx")
    files = sorted(f for p in pats for f in glob.glob(os.path.join(d, p)))
    counts = {"fused": 0, "declined": 0, "not loadable": 0}
    for f in files:
        rc, text = run_driver(driver, f)
        base = os.path.basename(f)
        if "load failed" in text or "run before failed" in text or \
                "default pipeline failed" in text:
            reason = text.strip().splitlines()[-1][:160]
            print(f"{base}: not run ({reason})")
            counts["not loadable"] += 1
            continue
        check(rc == 0, f"{base}: fusion broke the model:\n{text}")
        fused = sum(int(n) for n in re.findall(r"fused (\d+)", text))
        notes = [l for l in text.splitlines() if l.startswith("node ")]
        m = re.search(r"maxdiff (\S+)", text)
        diff = float(m.group(1)) if m else float("inf")
        check(diff <= 1e-4, f"{base}: outputs changed by fusion ({diff})")
        ops = parse_ops(text)
        state = "fused" if fused else "declined"
        counts[state] += 1
        why = ("; ".join(notes) if notes else "no pattern recognised") if not fused else ""
        print(f"{base}: {state} ({fused} rewrites) maxdiff {diff:.1e} ops {ops} {why}")
    print("ORT fusion cases:", counts)


def main():
    driver = mu.command_arg("usage: test_fuse_models.py [PATH/TO/test_fuse]", "test_fuse")
    with tempfile.TemporaryDirectory() as tmp:
        bert_models(driver, tmp)
    ort_cases(driver)
    return checks.finish("test_fuse_models")


if __name__ == "__main__":
    sys.exit(main())

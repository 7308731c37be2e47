#!/usr/bin/env python3
"""test_rt_models.py - `distilc run --backend onednn` (the compiled encoder
runtime, backend/rt.h) on BERT classifiers exported from PyTorch by
tests/util/bert_export.py, against PyTorch's own logits (test oracle only).

Usage: test_rt_models.py [PATH/TO/distilc]  (default: $DISTILC_BIN)

Cases: opsets 11, 14 and 17; with and without token_type_ids; padded and
unpadded batches; two sizes. fp32 must match torch within 1e-4 (same
tolerance as the reference interpreter); bf16 within 0.05 and int8 within
0.15 of torch (stated loosely: the logits of these random models are of
size ~0.1-1). Then a model the backend cannot lower (not a BERT encoder)
must exit 2 with a message naming the node, while --backend ref runs it;
and bad options exit 2. Last, `distilc eval` with its default backend
(onednn) matches --backend ref on an MRPC dev subset (shared data; skipped
when absent).

Prints "skipped: ..." and exits 77 when torch or onnx is missing.
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

np, onnx, _ = mu.require("numpy", "onnx", "torch")
from onnx import helper, numpy_helper, TensorProto  # noqa: E402

checks = mu.Checks()
check = checks.check
distilc = None  # mu.Distilc, set by main()
BF16 = [False]  # whether this CPU runs bf16 natively (distilc system)


def run(model, inputs, outdir, *extra):
    """distilc run; its first output (None on failure) and the process."""
    outs, r = mu.run_model(distilc, model, inputs, outdir, *extra)
    return (outs[0] if outs else None), r


def check_model(tmp, cfg):
    name, args = mu.case_flags(cfg)
    name += "-" + cfg.get("size", "small")
    d = os.path.join(tmp, name)
    args += ["--batch", str(cfg.get("batch", 3)), "--seq", str(cfg.get("seq", 9))]
    if cfg.get("size") == "wide":
        args += ["--layers", "3", "--hidden", "64", "--heads", "8", "--ffn", "96",
                 "--labels", "3"]
    case = mu.export_bert(d, *args, checks=checks, name=name)
    if not case:
        return
    model, inputs, want = case.model, case.input_files, case.want

    out, r = run(model, inputs, os.path.join(d, "fp32"), "--backend", "onednn")
    diff = mu.max_diff(out, want)
    if check(r.returncode == 0, f"{name}: run --backend onednn: {r.stderr.strip()}"):
        check(diff <= TOL, f"{name}: onednn fp32 vs torch: max diff {diff:.3g}")
    print(f"{name}: onednn fp32 max |logit - torch| = {diff:.2g}")
    for prec, tol in cfg.get("precisions", []):
        out, r = run(model, inputs, os.path.join(d, prec), "--backend", "onednn",
                     "--precision", prec, "--threads", "1")
        if "bf16" in prec and not BF16[0]:
            # no native bf16 here: the clear refusal is what is checked
            check(r.returncode == 2 and "bf16 needs a CPU" in r.stderr,
                  f"{name}: bf16 without the CPU for it: exit {r.returncode}: "
                  f"{r.stderr.strip()}")
            continue
        diff = mu.max_diff(out, want)
        if check(r.returncode == 0, f"{name}: run --precision {prec}: {r.stderr.strip()}"):
            check(diff <= tol, f"{name}: onednn {prec} vs torch: max diff {diff:.3g} > {tol}")
        print(f"{name}: onednn {prec} max |logit - torch| = {diff:.2g}")


def unliftable_model(path):
    """A valid classifier-shaped graph that is not a BERT encoder: mean of
    word embeddings -> Gemm. The reference runs it; onednn must refuse."""
    rng = np.random.default_rng(0)
    emb = numpy_helper.from_array(rng.standard_normal((20, 8)).astype(np.float32), "emb")
    w = numpy_helper.from_array(rng.standard_normal((8, 2)).astype(np.float32), "w")
    nodes = [
        helper.make_node("Gather", ["emb", "input_ids"], ["e"], name="word_gather"),
        helper.make_node("ReduceMean", ["e"], ["m"], name="mean_pool", axes=[1], keepdims=0),
        helper.make_node("MatMul", ["m", "w"], ["logits"], name="classifier"),
    ]
    g = helper.make_graph(
        nodes, "not_bert",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        [emb, w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
    m.ir_version = 8
    onnx.save(m, path)


def check_refusals(tmp):
    model = os.path.join(tmp, "not_bert.onnx")
    unliftable_model(model)
    ids = os.path.join(tmp, "ids.pb")
    onnx.save_tensor(numpy_helper.from_array(
        np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64), "input_ids"), ids)
    out, r = run(model, {"input_ids": ids}, os.path.join(tmp, "nb"), "--backend", "onednn")
    check(r.returncode == 2 and "Attention" in r.stderr,
          f"not-BERT model: exit {r.returncode}, want 2 naming Attention: {r.stderr.strip()}")
    out, r = run(model, {"input_ids": ids}, os.path.join(tmp, "nb_ref"), "--backend", "ref")
    check(r.returncode == 0, f"not-BERT model under ref: {r.stderr.strip()}")
    # A BERT whose pooler uses Sigmoid instead of tanh: the lift stops at
    # the pooler and must say which node.
    d = os.path.join(tmp, "sigpool")
    r = mu.export_bert_raw(d, "--opset", "14", "--padded")
    if check(r.returncode == 0, f"bert_export.py: {r.stderr[-300:]}"):
        m = onnx.load(os.path.join(d, "model.onnx"))
        for n in m.graph.node:
            if n.op_type == "Tanh":
                n.op_type = "Sigmoid"
        bad = os.path.join(d, "sigmoid_pooler.onnx")
        onnx.save(m, bad)
        ds = os.path.join(d, "test_data_set_0")
        inputs = {n: os.path.join(ds, f"input_{k}.pb")
                  for k, n in enumerate(("input_ids", "attention_mask", "token_type_ids"))}
        out, r = run(bad, inputs, os.path.join(d, "o1"), "--backend", "onednn")
        check(r.returncode == 2 and "node '" in r.stderr,
              f"sigmoid pooler: exit {r.returncode}, want 2 naming the node: {r.stderr.strip()}")
        print(f"sigmoid pooler: {r.stderr.strip()}")
        out, r = run(bad, inputs, os.path.join(d, "o2"), "--backend", "ref")
        check(r.returncode == 0, f"sigmoid pooler under ref: {r.stderr.strip()}")
    # Bad options are usage errors naming the option.
    for extra, needle in ((["--backend", "tpu"], "--backend"),
                          (["--backend", "onednn", "--precision", "fp16"], "--precision"),
                          (["--backend", "onednn", "--threads", "0"], "threads"),
                          (["--precision", "bf16"], "--backend onednn")):
        out, r = run(model, {"input_ids": ids}, os.path.join(tmp, "bad"), *extra)
        check(r.returncode == 2 and needle in r.stderr,
              f"{' '.join(extra)}: exit {r.returncode}, stderr {r.stderr.strip()!r}")


def check_eval(tmp):
    """distilc eval: the default backend (onednn for a BERT) gives the same
    logits as --backend ref on a GLUE dev subset (1e-4)."""
    shared = mu.shared_dir()
    vocab = os.path.join(shared, "vocab", "bert-base-uncased-vocab.txt")
    glue = os.path.join(shared, "glue")
    if not (os.path.exists(vocab) and os.path.isdir(os.path.join(glue, "MRPC"))):
        print("eval check skipped: shared GLUE data or vocabulary absent")
        return
    d = os.path.join(tmp, "eval")
    r = mu.export_bert_raw(d, "--vocab", "30522", "--max-pos", "128")
    if not check(r.returncode == 0, f"bert_export.py: {r.stderr[-300:]}"):
        return
    model = os.path.join(d, "model.onnx")
    logits = {}
    for be in ("ref", None):
        preds = os.path.join(d, f"p_{be}.jsonl")
        args = ["eval", model, "--task", "MRPC", "--data", glue, "--vocab", vocab,
                "--limit", "40", "--batch", "16", "--progress", "off",
                "--predictions", preds, "--json"]
        if be:
            args += ["--backend", be]
        r = distilc(*args)
        if not check(r.returncode == 0, f"eval --backend {be}: {r.stderr.strip()}"):
            return
        check(be or "note:" not in r.stderr, f"eval default backend fell back: {r.stderr}")
        with open(preds) as f:
            logits[be] = np.array([json.loads(line)["logits"] for line in f])
    diff = mu.max_diff(logits[None], logits["ref"])
    check(diff <= TOL, f"eval onednn vs ref: max logit diff {diff:.3g}")
    print(f"eval MRPC[:40]: default (onednn) vs ref max |logit diff| = {diff:.2g}")
    # A model the runtime cannot lower: the default falls back to ref with a
    # note; an explicit --backend onednn is exit 2.
    m = onnx.load(model)
    for n in m.graph.node:
        if n.op_type == "Tanh":
            n.op_type = "Sigmoid"
    bad = os.path.join(d, "sigmoid_pooler.onnx")
    onnx.save(m, bad)
    base = ["eval", bad, "--task", "MRPC", "--data", glue, "--vocab", vocab,
            "--limit", "8", "--progress", "off"]
    r = distilc(*base)
    check(r.returncode == 0 and "note:" in r.stderr and "reference" in r.stderr,
          f"eval fallback to ref: exit {r.returncode}: {r.stderr.strip()}")
    r = distilc(*base, "--backend", "onednn")
    check(r.returncode == 2 and "node '" in r.stderr,
          f"eval --backend onednn on an unliftable model: exit {r.returncode}: {r.stderr.strip()}")
    r = distilc(*base, "--backend", "ref", "--precision", "int8")
    check(r.returncode == 2 and "--precision" in r.stderr,
          f"eval --backend ref --precision int8: exit {r.returncode}: {r.stderr.strip()}")


def check_bench(tmp):
    """distilc bench: the JSON keys, the error vs fp32 for int8, and usage
    errors (exit 2 naming the option or file)."""
    d = os.path.join(tmp, "bench")
    r = mu.export_bert_raw(d)
    if not check(r.returncode == 0, f"bert_export.py: {r.stderr[-300:]}"):
        return
    model = os.path.join(d, "model.onnx")
    r = distilc("bench", model, "--seq", "16", "--batch", "2", "--runs", "3",
                "--warmup", "1", "--precision", "int8", "--json")
    if check(r.returncode == 0, f"bench --json: {r.stderr.strip()}"):
        j = json.loads(r.stdout)
        keys = {"median_ms", "p10_ms", "p90_ms", "gflops", "load_ms", "peak_rss_mb",
                "precision", "threads", "seq", "batch", "max_abs_err_vs_fp32"}
        check(keys <= set(j), f"bench --json lacks {keys - set(j)}")
        check(j["precision"] == "int8" and j["seq"] == 16 and j["batch"] == 2,
              f"bench --json echoes the options: {j}")
        check(j["p10_ms"] <= j["median_ms"] <= j["p90_ms"], f"bench quantiles: {j}")
        check(j["max_abs_err_vs_fp32"] is not None and j["max_abs_err_vs_fp32"] < 0.15,
              f"bench int8 error vs fp32: {j['max_abs_err_vs_fp32']}")
    r = distilc("bench", model, "--seq", "8", "--batch", "1", "--runs", "2")
    check(r.returncode == 0 and "median" in r.stdout, f"bench text: {r.stderr.strip()}")
    for args, needle in ((["--batch", "1"], "--seq"),
                         (["--seq", "8", "--batch", "1", "--precision", "fp16"], "--precision"),
                         (["--seq", "8", "--batch", "0"], "batch"),
                         (["--seq", "999", "--batch", "1"], "--seq")):
        r = distilc("bench", model, *args)
        check(r.returncode == 2 and needle in r.stderr,
              f"bench {' '.join(args)}: exit {r.returncode}, stderr {r.stderr.strip()!r}")
    r = distilc("bench", os.path.join(d, "missing.onnx"), "--seq", "8", "--batch", "1")
    check(r.returncode == 2 and "missing.onnx" in r.stderr,
          f"bench on a missing file: exit {r.returncode}: {r.stderr.strip()!r}")


def main():
    global distilc
    distilc = mu.Distilc(mu.command_arg(__doc__))
    BF16[0] = mu.machine(distilc.path)["bf16"]
    with tempfile.TemporaryDirectory() as tmp:
        for cfg in (
            {"opset": 11, "padded": True},
            {"opset": 14, "padded": True, "tt": False},
            {"opset": 17, "padded": True, "precisions": [("bf16", 0.05), ("int8", 0.15)]},
            {"opset": 17, "tt": False},
            {"opset": 14, "padded": True, "size": "wide", "batch": 4, "seq": 13},
            {"opset": 17, "size": "wide", "batch": 2, "seq": 5},
        ):
            check_model(tmp, cfg)
        check_refusals(tmp)
        check_eval(tmp)
        check_bench(tmp)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""test_ms_ops.py - ONNX Runtime's com.microsoft fused ops (Attention,
EmbedLayerNormalization, SkipLayerNormalization, BiasGelu, FastGelu, Gelu,
FusedMatMul):
distilc's reference kernels (ir/ops/ms_*.c) against ONNX Runtime, and an
ORT-optimised BERT through fuse-ms-ops and the encoder lift.

Usage: test_ms_ops.py [PATH/TO/distilc]  (default: $DISTILC_BIN)

  - one-node graphs (onnx.helper) of each op, several input/attribute
    variants: `distilc run --backend ref` equals ONNX Runtime within 1e-4
    on every output;
  - refusals name the attribute (unidirectional) or list every unknown op
    in the one "unsupported ops" message;
  - ORT's own graphs in ../shared/bert-onnx that use com.microsoft ops:
    those distilc loads run like ORT within 1e-4 (the others are counted
    and printed with distilc's reason), and every graph of EXPECTED_RUN
    must be among them; the FusedMatMul ones also after `export-onnx
    --passes default,fuse` (Transpose + MatMul + Mul, no com.microsoft op
    left) in ORT; skipped when the folder is absent;
  - a torch BERT (tests/util/bert_export.py, padded batch) optimised by
    onnxruntime.transformers.optimizer (model_type 'bert'): `distilc run
    --backend ref` and `--backend onednn` and the program `distilc build`
    writes all give torch's logits within 1e-4.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

TOL = 1e-4
np, onnx, ort = mu.require("numpy", "onnx", "onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

# ORT warns about every unused initializer of its own test graphs; errors
# only (the optimizer's sessions read the default logger).
ort.set_default_logger_severity(3)

# bert-onnx graphs (relative path, "/" -> "_") distilc must run like ORT.
EXPECTED_RUN = {
    "onnxruntime_python_tools_microbench_models_fast_gelu_fp32",
    "onnxruntime_python_tools_microbench_models_skip_layer_norm_fp32",
    "onnxruntime_test_python_transformers_test_data_models_attention_opt",
    "onnxruntime_test_python_transformers_test_data_models_attention_with_varied_qkv_opt",
    "onnxruntime_test_python_transformers_test_data_models_pruned_attention_opt",
    "onnxruntime_test_testdata_transform_fusion_matmul_scale_transposescalematmul_in0_in1_out",
    "onnxruntime_test_testdata_transform_fusion_transpose_matmul_2d_fusion_from_transpose_scale_matmul",
    "onnxruntime_test_testdata_transform_fusion_transpose_matmul_trans_batch_fusion3",
    "onnxruntime_test_testdata_transform_fusion_transpose_matmul_trans_batch_fusion_invalid_case3",
}


def ort_run(path, feeds):
    """ONNX Runtime on the CPU, warnings off: the list of outputs."""
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sess.run(None, dict(feeds))

checks = mu.Checks()
check = checks.check
MS = "com.microsoft"


def model(nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, "g", inputs, outputs,
                          [numpy_helper.from_array(a, n) for n, a in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14),
                                               helper.make_opsetid(MS, 1)])


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def compare(distilc, tmp, name, m, feeds):
    """Runs m in distilc (ref) and ORT on feeds; all outputs within TOL."""
    path = os.path.join(tmp, name + ".onnx")
    onnx.save(m, path)
    want = ort_run(path, feeds)
    got, r = mu.run_model(distilc, path, list(feeds.items()),
                          os.path.join(tmp, name + "_out"), "--backend", "ref")
    if not check(r.returncode == 0 and len(got) == len(want),
                 f"{name}: distilc run: {r.stderr[-600:]}"):
        return
    for k, (g, w) in enumerate(zip(got, want)):
        checks.close(g, w, TOL, f"{name} output {k}")


def gelu_cases(distilc, tmp, rng):
    x = rng.standard_normal((2, 3, 8)).astype(np.float32) * 3
    b = rng.standard_normal(8).astype(np.float32)
    for op, with_b in (("Gelu", False), ("BiasGelu", True), ("FastGelu", True),
                       ("FastGelu", False)):
        ins = ["x", "b"] if with_b else ["x"]
        m = model([helper.make_node(op, ins, ["y"], domain=MS)],
                  [vi("x", TensorProto.FLOAT, [2, 3, 8])],
                  [vi("y", TensorProto.FLOAT, None)], [("b", b)] if with_b else [])
        compare(distilc, tmp, f"{op}{'_bias' if with_b else ''}", m, {"x": x})


def skip_ln_cases(distilc, tmp, rng):
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    x, s = f(2, 3, 8), f(2, 3, 8)
    w = dict(g=f(8), beta=f(8), bias=f(8))
    for name, ins, outs, attrs in (
            ("skipln_full", ["x", "s", "g", "beta", "bias"], ["y"], {"epsilon": 1e-5}),
            ("skipln_nobeta", ["x", "s", "g"], ["y"], {}),
            ("skipln_sum", ["x", "s", "g", "beta", "bias"], ["y", "", "", "sum"], {})):
        m = model([helper.make_node("SkipLayerNormalization", ins, outs, domain=MS, **attrs)],
                  [vi("x", TensorProto.FLOAT, [2, 3, 8]), vi("s", TensorProto.FLOAT, [2, 3, 8])],
                  [vi(o, TensorProto.FLOAT, None) for o in outs if o],
                  [(k, v) for k, v in w.items() if k in ins])
        compare(distilc, tmp, name, m, {"x": x, "s": s})


def embed_cases(distilc, tmp, rng):
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    B, S, C = 2, 5, 8
    ids = rng.integers(0, 20, (B, S)).astype(np.int32)
    seg = rng.integers(0, 2, (B, S)).astype(np.int32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], np.int32)
    pids = np.tile(np.arange(S, dtype=np.int32)[::-1], (B, 1)).copy()
    w = dict(word=f(20, C), pos=f(16, C), segemb=f(2, C), g=f(C), beta=f(C))
    for name, seg_on, mask_on, pid_on, outs in (
            ("eln_all", True, True, True, ["y", "mi", "sum"]),
            ("eln_nosegment", False, True, False, ["y", "mi"]),
            ("eln_nomask", True, False, False, ["y", "mi"])):
        ins = ["ids", "seg" if seg_on else "", "word", "pos",
               "segemb" if seg_on else "", "g", "beta", "mask" if mask_on else "",
               "pids" if pid_on else ""]
        while not ins[-1]:
            ins.pop()
        feeds = {"ids": ids}
        gin = [vi("ids", TensorProto.INT32, [B, S])]
        for on, n, a in ((seg_on, "seg", seg), (mask_on, "mask", mask), (pid_on, "pids", pids)):
            if on:
                feeds[n] = a
                gin.append(vi(n, TensorProto.INT32, [B, S]))
        m = model([helper.make_node("EmbedLayerNormalization", ins, outs, domain=MS,
                                    epsilon=1e-12)],
                  gin, [vi(o, TensorProto.INT32 if o == "mi" else TensorProto.FLOAT, None)
                        for o in outs],
                  [(k, v) for k, v in w.items() if k in ins])
        compare(distilc, tmp, name, m, feeds)


def attention_cases(distilc, tmp, rng):
    B, S, K, H = 2, 4, 8, 2
    x = rng.standard_normal((B, S, K)).astype(np.float32)
    w = rng.standard_normal((K, 3 * K)).astype(np.float32) * 0.5
    b = rng.standard_normal(3 * K).astype(np.float32)
    masks = {
        "none": None,
        "lengths": np.array([4, 2], np.int32),
        "2d": np.array([[1, 1, 1, 1], [1, 0, 1, 0]], np.int32),
        "3d": rng.integers(0, 2, (B, S, S)).astype(np.int32) | np.eye(S, dtype=np.int32),
    }
    for mname, mask in masks.items():
        for attrs in ({"num_heads": H}, {"num_heads": H, "scale": 0.3,
                                         "mask_filter_value": -1e9}):
            ins = ["x", "w", "b"] + (["m"] if mask is not None else [])
            gin = [vi("x", TensorProto.FLOAT, [B, S, K])]
            feeds = {"x": x}
            if mask is not None:
                gin.append(vi("m", TensorProto.INT32, list(mask.shape)))
                feeds["m"] = mask
            m = model([helper.make_node("Attention", ins, ["y"], domain=MS, **attrs)],
                      gin, [vi("y", TensorProto.FLOAT, None)], [("w", w), ("b", b)])
            compare(distilc, tmp, f"attention_{mname}_{len(attrs)}", m, feeds)


def fused_matmul_cases(distilc, tmp, rng):
    """Every flag alone and together, with broadcasting batch axes."""
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    for name, a, b, attrs in (
            ("plain", f(3, 4), f(4, 5), {}),
            ("alpha", f(2, 3, 4), f(4, 5), {"alpha": 0.125}),
            ("transA", f(4, 3), f(4, 5), {"transA": 1}),
            ("transB", f(2, 3, 4), f(2, 5, 4), {"transB": 1, "alpha": -2.0}),
            ("transBatchA", f(3, 2, 6, 4), f(2, 6, 4, 5), {"transBatchA": 1}),
            ("transBatchB", f(2, 6, 3, 4), f(4, 2, 6, 5), {"transBatchB": 1}),
            ("all", f(4, 2, 6, 3), f(5, 2, 6, 4),
             {"transA": 1, "transB": 1, "transBatchA": 1, "transBatchB": 1,
              "alpha": 0.5}),
            ("bcast", f(1, 3, 4), f(2, 4, 5), {"alpha": 3.0})):
        m = model([helper.make_node("FusedMatMul", ["a", "b"], ["y"], domain=MS, **attrs)],
                  [vi("a", TensorProto.FLOAT, list(a.shape)),
                   vi("b", TensorProto.FLOAT, list(b.shape))],
                  [vi("y", TensorProto.FLOAT, None)])
        compare(distilc, tmp, f"fused_matmul_{name}", m, {"a": a, "b": b})


def refusals(distilc, tmp):
    w = np.zeros((8, 24), np.float32)
    m = model([helper.make_node("Attention", ["x", "w"], ["y"], domain=MS,
                                num_heads=2, unidirectional=1)],
              [vi("x", TensorProto.FLOAT, [1, 4, 8])], [vi("y", TensorProto.FLOAT, None)],
              [("w", w)])
    path = os.path.join(tmp, "unidir.onnx")
    onnx.save(m, path)
    _, r = mu.run_model(distilc, path, [("x", np.zeros((1, 4, 8), np.float32))],
                        os.path.join(tmp, "unidir_out"), "--backend", "ref")
    check(r.returncode != 0 and "unidirectional" in r.stderr,
          f"unidirectional=1: want a refusal naming it, got {r.returncode}: {r.stderr}")
    m = model([helper.make_node("MultiHeadAttention", ["x", "x", "x"], ["t"], domain=MS, num_heads=1),
               helper.make_node("Frobnicate", ["t"], ["y"]),
               helper.make_node("Gelu", ["y"], ["z"], domain=MS)],
              [vi("x", TensorProto.FLOAT, [4, 4])], [vi("z", TensorProto.FLOAT, None)])
    path = os.path.join(tmp, "unknown.onnx")
    onnx.save(m, path)
    _, r = mu.run_model(distilc, path, [("x", np.zeros((4, 4), np.float32))],
                        os.path.join(tmp, "unknown_out"), "--backend", "ref")
    check(r.returncode == 2 and "2 nodes use ops" in r.stderr and
          "com.microsoft.MultiHeadAttention" in r.stderr and "Frobnicate" in r.stderr,
          f"unknown ops: want one message listing both, got {r.returncode}: {r.stderr}")


def feed_for(inp, rng):
    t = inp.type.tensor_type
    shape = [d.dim_value if d.dim_value > 0 else 2 for d in t.shape.dim]
    dt = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[t.elem_type]
    if np.issubdtype(dt, np.integer):
        lo_hi = (1, 3) if "mask" in inp.name else (0, 2)
        return rng.integers(*lo_hi, shape).astype(dt)
    return rng.standard_normal(shape).astype(dt)


def shared_graphs(distilc, tmp, rng):
    root = os.path.join(mu.shared_dir() or "", "bert-onnx")
    if not os.path.isdir(root):
        print("bert-onnx: skipped: ../shared/bert-onnx absent")
        return
    ran = refused = 0
    expected = set(EXPECTED_RUN)
    for path in sorted(glob.glob(os.path.join(root, "**", "*.onnx"), recursive=True)):
        m = onnx.load(path)
        if not any(n.domain == MS for n in m.graph.node):
            continue
        name = os.path.relpath(path, root).replace("/", "_")[:-5]
        inits = {i.name for i in m.graph.initializer}
        feeds = {i.name: feed_for(i, rng) for i in m.graph.input if i.name not in inits}
        try:
            want = ort_run(path, feeds)
        except Exception as e:  # ORT itself cannot run some of its test inputs
            print(f"  {name}: ORT does not run it ({str(e)[:80]})")
            continue
        got, r = mu.run_model(distilc, path, list(feeds.items()),
                              os.path.join(tmp, name + "_out"), "--backend", "ref")
        if r.returncode != 0:
            refused += 1
            print(f"  refused {name}: {r.stderr.strip()[-200:]}")
            continue
        ran += 1
        expected.discard(name)
        for k, (g, w) in enumerate(zip(got, want)):
            checks.close(g.astype(np.float64), w.astype(np.float64), TOL,
                         f"{name} output {k}")
        if any(n.op_type == "FusedMatMul" for n in m.graph.node):
            rewritten(distilc, tmp, name, path, feeds, want)
    print(f"bert-onnx com.microsoft graphs: {ran} run like ORT, {refused} refused")
    check(not expected, f"bert-onnx graphs expected to run did not: {sorted(expected)}")


def rewritten(distilc, tmp, name, path, feeds, want):
    """fuse-ms-ops' Transpose + MatMul + Mul, written back to ONNX, in ORT."""
    out = os.path.join(tmp, name + "_fused.onnx")
    r = distilc("export-onnx", path, "--passes", "default,fuse", "-o", out)
    if not check(r.returncode == 0, f"{name}: export-onnx: {r.stderr[-600:]}"):
        return
    left = [n.op_type for n in onnx.load(out).graph.node if n.domain == MS]
    check(not left, f"{name}: com.microsoft ops left after fuse: {left}")
    for k, (g, w) in enumerate(zip(ort_run(out, feeds), want)):
        checks.close(g, w, TOL, f"{name} after fuse-ms-ops, in ORT, output {k}")


def optimised_bert(distilc, tmp):
    mu.require("torch")
    case = mu.export_bert(os.path.join(tmp, "bert"), "--padded", checks=checks,
                          name="bert")
    if not case:
        return
    from onnxruntime.transformers.optimizer import optimize_model
    opt = optimize_model(case.model, model_type="bert", num_heads=case.config["heads"],
                         hidden_size=case.config["hidden"])
    ops = {n.op_type for n in opt.model.graph.node if n.domain == MS}
    check({"Attention", "EmbedLayerNormalization", "SkipLayerNormalization"} <= ops,
          f"optimizer wrote {ops}")
    path = os.path.join(case.dir, "model_opt.onnx")
    opt.save_model_to_file(path)
    for be in ("ref", "onednn"):
        got, r = mu.run_model(distilc, path, case.input_files,
                              os.path.join(case.dir, "out_" + be), "--backend", be)
        if check(r.returncode == 0, f"optimised BERT --backend {be}: {r.stderr[-800:]}"):
            checks.close(got[0], case.want, TOL, f"optimised BERT --backend {be} vs torch")
    out = os.path.join(case.dir, "build")
    r = distilc("build", path, "-o", out, "--progress", "off")
    if not check(r.returncode == 0, f"optimised BERT: distilc build: {r.stderr[-800:]}"):
        return
    arrays = dict(case.inputs)
    line = json.dumps({n: a.tolist() for n, a in arrays.items()}) + "\n"
    p = subprocess.run([os.path.join(out, "model")], input=line,
                       capture_output=True, text=True)
    if check(p.returncode == 0, f"built program: {p.stderr[-800:]}"):
        got = np.array(json.loads(p.stdout.splitlines()[-1])["logits"])
        checks.close(got, case.want, TOL, "optimised BERT built program vs torch")


def main():
    distilc = mu.Distilc(mu.command_arg(__doc__.split("\n")[2]))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        gelu_cases(distilc, tmp, rng)
        skip_ln_cases(distilc, tmp, rng)
        embed_cases(distilc, tmp, rng)
        attention_cases(distilc, tmp, rng)
        fused_matmul_cases(distilc, tmp, rng)
        refusals(distilc, tmp)
        shared_graphs(distilc, tmp, rng)
        optimised_bert(distilc, tmp)
    return checks.finish("test_ms_ops")


if __name__ == "__main__":
    sys.exit(main())

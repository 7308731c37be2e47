#!/usr/bin/python3
"""test_ops_ort.py - the ops added for the non-BERT teacher families (Pad,
CumSum, Sign, GatherElements), one node each, run by `distilc run --backend
ref` and by ONNX Runtime on the same inputs: the outputs must be equal
(these ops only move, pick or add values, so equal to the bit, except
CumSum's float sums within 1e-6).

    test_ops_ort.py DISTILC_BIN

Skips (exit 77) without numpy, onnx and onnxruntime.
"""
import os
import sys
import tempfile

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

np, onnx, _ = mu.require("numpy", "onnx", "onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

checks = mu.Checks()


def tensor_type(dt):
    """ONNX's element type for a numpy dtype (onnx 1.12's mapping)."""
    return onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dt)]


def one_node(path, op, x, inits, attrs, opset, out_type=TensorProto.FLOAT):
    """A model of one node: input x, constant inputs inits (name, array)
    after it ("" for an absent optional one), output y."""
    names = ["x"]
    tensors = []
    for name, arr in inits:
        names.append(name)
        if name:
            tensors.append(numpy_helper.from_array(arr, name))
    xt = tensor_type(x.dtype)
    node = helper.make_node(op, names, ["y"], **attrs)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", xt, x.shape)],
                          [helper.make_tensor_value_info("y", out_type, None)], tensors)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.save(m, path)


def compare(distilc, tmp, name, op, x, inits=(), attrs=None, opset=14, tol=0.0):
    path = os.path.join(tmp, name + ".onnx")
    one_node(path, op, x, list(inits), attrs or {}, opset,
             tensor_type(x.dtype))
    want = mu.ort_run(path, {"x": x})[0]
    outs, r = mu.run_model(distilc, path, [("x", x)], os.path.join(tmp, name),
                           "--backend", "ref")
    if checks.check(r.returncode == 0 and outs, f"{name}: exit {r.returncode}: "
                    f"{r.stderr.strip()}"):
        checks.check(outs[0].shape == want.shape,
                     f"{name}: shape {outs[0].shape} != onnxruntime's {want.shape}")
        if outs[0].shape == want.shape:
            # NaN in the same places on both sides, then the values
            checks.check(np.array_equal(np.isnan(outs[0]), np.isnan(want)),
                         f"{name}: NaN where onnxruntime has none, or not "
                         f"where it has: {outs[0]} vs {want}")
            ok = ~np.isnan(want)
            checks.close(outs[0][ok], want[ok], tol, f"{name} vs onnxruntime")


def main():
    distilc = mu.Distilc(os.path.abspath(mu.command_arg(__doc__)))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    i64 = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="distilc-ops-ort-") as tmp:
        # Pad: every mode, cropping, a constant value, axes (opset 18)
        compare(distilc, tmp, "pad_constant", "Pad", x,
                [("pads", i64(0, 1, 2, 1, 0, 3)), ("cv", np.array(2.5, np.float32))],
                {"mode": "constant"}, 13)
        compare(distilc, tmp, "pad_edge", "Pad", x, [("pads", i64(2, 0, 1, 1, 3, 0))],
                {"mode": "edge"}, 13)
        compare(distilc, tmp, "pad_reflect", "Pad", x, [("pads", i64(1, 3, 2, 2, 0, 4))],
                {"mode": "reflect"}, 13)
        compare(distilc, tmp, "pad_crop", "Pad", x, [("pads", i64(-1, 0, -2, 1, -1, 0))],
                {}, 13)
        compare(distilc, tmp, "pad_axes", "Pad", x,
                [("pads", i64(1, 2, 3, 0)), ("", None), ("axes", i64(-1, 1))],
                {"mode": "constant"}, 18)
        compare(distilc, tmp, "pad_wrap", "Pad", x, [("pads", i64(0, 2, 1, 0, 3, 2))],
                {"mode": "wrap"}, 19)
        # CumSum: axes, exclusive, reverse, integers
        for ax in (0, 1, -1):
            for ex in (0, 1):
                for rev in (0, 1):
                    compare(distilc, tmp, f"cumsum_a{ax}_e{ex}_r{rev}", "CumSum", x,
                            [("axis", np.array(ax, np.int64))],
                            {"exclusive": ex, "reverse": rev}, tol=1e-6)
        xi = rng.integers(-50, 50, (4, 6)).astype(np.int64)
        compare(distilc, tmp, "cumsum_i64", "CumSum", xi,
                [("axis", np.array(1, np.int32))])
        # Sign, float and integer
        xs = np.array([[-2.0, -0.0, 0.0, 3.5, np.nan]], np.float32)
        compare(distilc, tmp, "sign", "Sign", xs)
        compare(distilc, tmp, "sign_i32", "Sign", xi.astype(np.int32))
        # GatherElements on every axis, negative indices
        for ax in (0, 1, 2):
            idx = rng.integers(-x.shape[ax], x.shape[ax], (3, 4, 5)).astype(np.int64)
            idx = idx[:2] if ax != 0 else idx
            compare(distilc, tmp, f"gather_elements_a{ax}", "GatherElements", x,
                    [("idx", idx)], {"axis": ax}, 13)
    return checks.finish("test_ops_ort")


if __name__ == "__main__":
    sys.exit(main())

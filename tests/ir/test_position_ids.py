#!/usr/bin/python3
"""test_position_ids.py - the ops RoBERTa-family exports compute their
position ids with (CumSum, and Sign in some exporters' masks), exported by
torch.onnx the way Hugging Face writes them, run by `distilc run --backend
ref` against PyTorch and ONNX Runtime on a padded batch.

    test_position_ids.py DISTILC_BIN

The module is transformers' create_position_ids_from_input_ids (RoBERTa,
XLM-R, padding_idx 1) written out, plus a Sign of a signed difference and
CumSum's exclusive / reverse forms. Skips (exit 77) without torch and onnx.
"""
import os
import sys
import tempfile

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

torch, np = mu.require("torch", "numpy")
mu.require("onnx")

checks = mu.Checks()
PAD = 1


class PositionIds(torch.nn.Module):
    """RoBERTa: positions start at pad + 1 and padding keeps pad."""

    def forward(self, input_ids, x):
        mask = input_ids.ne(PAD).int()
        pos = (torch.cumsum(mask, dim=1).type_as(mask)) * mask
        pos = pos.long() + PAD
        # the other forms the exporters use: Sign, exclusive / reverse sums
        # (torch has no exclusive flag; flip + cumsum is the reverse form)
        s = torch.sign(x - 0.5)
        rev = torch.flip(torch.cumsum(torch.flip(x, [1]), dim=1), [1])
        return pos, s, rev


def main():
    distilc = mu.Distilc(os.path.abspath(mu.command_arg(__doc__)))
    ids = torch.tensor([[0, 31414, 232, 2, PAD, PAD], [0, 9, 10, 11, 12, 2]])
    x = torch.tensor([[0.5, 0.25, 1.0, -2.0, 0.75, 3.0],
                      [0.0, 0.5, 0.5, 0.5, 1.5, -0.5]], dtype=torch.float32)
    with tempfile.TemporaryDirectory(prefix="distilc-posids-") as tmp:
        model = os.path.join(tmp, "pos.onnx")
        torch.onnx.export(PositionIds(), (ids, x), model, opset_version=14,
                          input_names=["input_ids", "x"],
                          output_names=["position_ids", "sign", "rev"],
                          dynamic_axes={"input_ids": {0: "b", 1: "s"},
                                        "x": {0: "b", 1: "s"}})
        want = [t.numpy() for t in PositionIds()(ids, x)]
        outs, r = mu.run_model(distilc, model, [("input_ids", ids.numpy()),
                                                ("x", x.numpy())],
                               os.path.join(tmp, "out"), "--backend", "ref")
        if checks.check(r.returncode == 0 and len(outs) == 3,
                        f"distilc run --backend ref: exit {r.returncode}: "
                        f"{r.stderr.strip()}"):
            checks.check(np.array_equal(outs[0], want[0]),
                         f"position ids {outs[0].tolist()} != {want[0].tolist()}")
            print(f"position ids: {outs[0].tolist()}")
            checks.close(outs[1], want[1], 0, "sign vs torch")
            checks.close(outs[2], want[2], 1e-6, "reverse cumsum vs torch")
        try:
            got = mu.ort_run(model, {"input_ids": ids.numpy(), "x": x.numpy()})
            checks.check(np.array_equal(got[0], want[0]),
                         "onnxruntime agrees with torch on the position ids")
        except ImportError:
            print("note: onnxruntime missing, its comparison did not run")
    return checks.finish("test_position_ids")


if __name__ == "__main__":
    sys.exit(main())

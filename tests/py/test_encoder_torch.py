#!/usr/bin/python3
"""ir/encoder's ONNX lowering against PyTorch and ONNX Runtime.

A test oracle, not part of the product. `test_encoder --export DIR` writes a
few encoders (plain, no token types at opset 14, factorized + shared +
tanh GELU, attention-only sharing + ReLU + regression head) as ONNX with
their inputs and the reference interpreter's logits. Here each model's
initializers are loaded into a PyTorch module written like
transformers' BertForSequenceClassification (as tests/py/bert_export.py
mirrors it; the graph carries the packed q|k|v as three projections), and
  1. PyTorch's logits must match the interpreter's within 1e-4;
  2. ONNX Runtime, running the saved file, must match them within 1e-4.
Then models torch.onnx.export writes (tests/py/bert_export.py: opsets 14
and 17, with and without token types, padded) are lifted by
`test_encoder --lift DIR` (fuse, lift, lower again) and must give
PyTorch's logits within 1e-4.

    /usr/bin/python3 tests/py/test_encoder_torch.py build/tests/test_encoder
"""
import math
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper
except ImportError as exc:  # pragma: no cover
    print(f"skipped: {exc.name} is not installed")
    sys.exit(0)

TOL = 1e-4


class Encoder(torch.nn.Module):
    """The encoder from named weights (matrices [in, out], as distilc keeps
    them): embeddings -> layers -> pooler -> head."""

    def __init__(self, w, cfg):
        super().__init__()
        self.w = {k: torch.from_numpy(v.copy()) for k, v in w.items()}
        self.c = cfg

    def ln(self, x, prefix):
        h = x.shape[-1]
        return torch.nn.functional.layer_norm(
            x, (h,), self.w[prefix + ".gamma"], self.w[prefix + ".beta"],
            eps=self.c["eps"])

    def act(self, x):
        a = self.c["act"]
        if a == "gelu":
            return torch.nn.functional.gelu(x)
        if a == "gelu_tanh":
            return torch.nn.functional.gelu(x, approximate="tanh")
        return torch.relu(x)

    def forward(self, ids, mask, types):
        w, c = self.w, self.c
        seq = ids.shape[1]
        x = w["embeddings.word"][ids]
        if c["embed"] > 0:
            x = x @ w["embeddings.proj"]
        if types is None:
            types = torch.zeros_like(ids)
        x = x + w["embeddings.type"][types]
        x = x + w["embeddings.position"][torch.arange(seq)][None]
        h = self.ln(x, "embeddings.ln")
        ext = mask[:, None, None, :].to(torch.float32)
        filler = -10000.0 if c["mask"] == "10000" else torch.finfo(torch.float32).min
        ext = (1.0 - ext) * filler
        heads, hidden = c["heads"], c["hidden"]
        d = hidden // heads

        def split(t):
            return t.view(t.shape[0], t.shape[1], heads, d).permute(0, 2, 1, 3)

        for layer in range(c["layers"]):
            a = f"group{c['attn_groups'][layer]}.attn"
            f = f"group{c['ffn_groups'][layer]}.ffn"
            q, k, v = (split(h @ w[f"{a}.{p}.weight"] + w[f"{a}.{p}.bias"])
                       for p in "qkv")
            s = q @ k.transpose(-1, -2) / math.sqrt(d) + ext
            ctx = torch.softmax(s, dim=-1) @ v
            ctx = ctx.permute(0, 2, 1, 3).reshape(h.shape)
            o = ctx @ w[a + ".out.weight"] + w[a + ".out.bias"]
            h1 = self.ln(o + h, a + ".ln")
            g = self.act(h1 @ w[f + ".in.weight"] + w[f + ".in.bias"])
            g = g @ w[f + ".out.weight"] + w[f + ".out.bias"]
            h = self.ln(g + h1, f + ".ln")
        pooled = torch.tanh(h[:, 0] @ w["pooler.weight"] + w["pooler.bias"])
        return pooled @ w["head.weight"] + w["head.bias"]


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as fh:
        t.ParseFromString(fh.read())
    return numpy_helper.to_array(t).copy()


def parse_case(line):
    parts = line.split()
    cfg = {"name": parts[0]}
    for p in parts[1:]:
        k, v = p.split("=", 1)
        cfg[k] = v
    for k in ("layers", "hidden", "heads", "ffn", "embed", "types"):
        cfg[k] = int(cfg[k])
    cfg["eps"] = float(cfg["eps"])
    cfg["attn_groups"] = [int(x) for x in cfg["attn_groups"].split(",")]
    cfg["ffn_groups"] = [int(x) for x in cfg["ffn_groups"].split(",")]
    return cfg


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
        print("note: onnxruntime is not installed; comparing PyTorch only")
    failures = 0
    checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.argv[1], "--export", tmp], check=True,
                             capture_output=True, text=True).stdout
        for line in out.strip().splitlines():
            cfg = parse_case(line)
            base = os.path.join(tmp, cfg["name"])
            model = onnx.load(base + ".onnx")
            onnx.checker.check_model(model)
            weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
            ids = read_pb(base + ".input_ids.pb")
            mask = read_pb(base + ".attention_mask.pb")
            types = read_pb(base + ".token_type_ids.pb")
            want = read_pb(base + ".logits.pb")
            net = Encoder(weights, cfg)
            with torch.no_grad():
                got = net(torch.from_numpy(ids), torch.from_numpy(mask),
                          torch.from_numpy(types) if cfg["types"] else None).numpy()
            err = float(np.max(np.abs(got - want)))
            checks += 1
            ok = err <= TOL
            failures += not ok
            print(f"{cfg['name']}: torch vs interpreter max |diff| {err:.3g}"
                  f" {'ok' if ok else 'FAIL'}")
            if ort is None:
                continue
            sess = ort.InferenceSession(base + ".onnx",
                                        providers=["CPUExecutionProvider"])
            feeds = {"input_ids": ids, "attention_mask": mask}
            if cfg["types"]:
                feeds["token_type_ids"] = types
            got = sess.run(["logits"], feeds)[0]
            err = float(np.max(np.abs(got - want)))
            checks += 1
            ok = err <= TOL
            failures += not ok
            print(f"{cfg['name']}: onnxruntime vs interpreter max |diff| {err:.3g}"
                  f" {'ok' if ok else 'FAIL'}")
        export = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bert_export.py")
        for opset, extra in ((14, []), (17, []), (14, ["--no-token-types"]),
                             (17, ["--layers", "3", "--labels", "1"])):
            out_dir = os.path.join(tmp, f"bert{opset}{''.join(extra)}")
            subprocess.run([sys.executable, export, "--opset", str(opset), "--out",
                            out_dir, "--padded", "--batch", "3"] + extra,
                           check=True, capture_output=True)
            r = subprocess.run([sys.argv[1], "--lift", out_dir],
                               capture_output=True, text=True)
            checks += 1
            failures += r.returncode != 0
            last = (r.stdout.strip().splitlines() or [""])[-1]
            print(f"lift torch export opset {opset} {' '.join(extra)}: {last}"
                  f" {'ok' if r.returncode == 0 else 'FAIL: ' + r.stderr.strip()}")
    print(f"test_encoder_torch: {checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""ir/encoder's ONNX lowering against PyTorch and ONNX Runtime.

A test oracle, not part of the product. `test_encoder --export DIR` writes a
few encoders (plain, no token types at opset 14, factorized + shared +
tanh GELU, attention-only sharing + ReLU + regression head) as ONNX with
their inputs and the reference interpreter's logits. Here each model's
initializers are loaded into a PyTorch module written like
transformers' BertForSequenceClassification (as tests/util/bert_export.py
mirrors it; the graph carries the packed q|k|v as three projections), and
  1. PyTorch's logits must match the interpreter's within 1e-4;
  2. ONNX Runtime, running the saved file, must match them within 1e-4.
Then models torch.onnx.export writes (tests/util/bert_export.py: opsets 14
and 17, with and without token types, padded) are lifted by
`test_encoder --lift DIR` (fuse, lift, lower again) and must give
PyTorch's logits within 1e-4; so must an MPNet (tests/util/families.py)
on rows of up to 260 tokens, where its relative position bias reaches
every bucket.

    /usr/bin/python3 tests/ir/test_encoder_torch.py build/tests/test_encoder
"""
import math
import os
import subprocess
import sys
import tempfile

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

np, onnx, torch = mu.require("numpy", "onnx", "torch", message="{name} is not installed")
from onnx import numpy_helper  # noqa: E402

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
    driver = mu.command_arg(__doc__, "test_encoder")
    try:
        import onnxruntime  # noqa: F401
        have_ort = True
    except ImportError:
        have_ort = False
        print("note: onnxruntime is not installed; comparing PyTorch only")
    checks = mu.Checks()
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([driver, "--export", tmp], check=True,
                             capture_output=True, text=True).stdout
        for line in out.strip().splitlines():
            cfg = parse_case(line)
            base = os.path.join(tmp, cfg["name"])
            model = onnx.load(base + ".onnx")
            onnx.checker.check_model(model)
            weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
            ids = mu.read_pb(base + ".input_ids.pb")
            mask = mu.read_pb(base + ".attention_mask.pb")
            types = mu.read_pb(base + ".token_type_ids.pb")
            want = mu.read_pb(base + ".logits.pb")
            net = Encoder(weights, cfg)
            with torch.no_grad():
                got = net(torch.from_numpy(ids), torch.from_numpy(mask),
                          torch.from_numpy(types) if cfg["types"] else None).numpy()
            checks.close(got, want, TOL, f"{cfg['name']}: torch vs interpreter")
            if not have_ort:
                continue
            feeds = {"input_ids": ids, "attention_mask": mask}
            if cfg["types"]:
                feeds["token_type_ids"] = types
            got = mu.ort_run(base + ".onnx", feeds, ["logits"])[0]
            checks.close(got, want, TOL, f"{cfg['name']}: onnxruntime vs interpreter")
        for opset, extra in ((14, []), (17, []), (14, ["--no-token-types"]),
                             (17, ["--layers", "3", "--labels", "1"])):
            out_dir = os.path.join(tmp, f"bert{opset}{''.join(extra)}")
            mu.export_bert(out_dir, "--opset", opset, "--padded", "--batch", 3, *extra)
            r = subprocess.run([driver, "--lift", out_dir],
                               capture_output=True, text=True)
            ok = checks.check(r.returncode == 0, f"lift torch export opset {opset}: "
                              f"{r.stderr.strip()}")
            last = (r.stdout.strip().splitlines() or [""])[-1]
            print(f"lift torch export opset {opset} {' '.join(extra)}: {last}"
                  f" {'ok' if ok else 'FAIL: ' + r.stderr.strip()}")
        lift_mpnet_long(driver, tmp, checks)
    return checks.finish("test_encoder_torch")


def lift_mpnet_long(driver, tmp, checks):
    """MPNet's relative position bias at long range: rows of 260, 140 and
    12 tokens reach every bucket, distances past max_distance 128 included.
    The torch export is lifted and lowered again (ir_encoder_to_graph
    writes the bucketing op for op) and must give PyTorch's logits."""
    import importlib.util
    if importlib.util.find_spec("transformers") is None:
        print("note: transformers is not installed; MPNet case not run")
        return
    mu.import_transformers()
    import families
    import contextlib
    import io
    import warnings
    out_dir = os.path.join(tmp, "mpnet_long")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        families.export("mpnet", out_dir, lengths=(260, 140, 12),
                        config={"max_position_embeddings": 300})
    r = subprocess.run([driver, "--lift", out_dir], capture_output=True, text=True)
    ok = checks.check(r.returncode == 0, f"lift MPNet export, 260 tokens: "
                      f"{r.stderr.strip()}")
    last = (r.stdout.strip().splitlines() or [""])[-1]
    print(f"lift torch export MPNet, 260 tokens: {last} {'ok' if ok else 'FAIL'}")


if __name__ == "__main__":
    sys.exit(main())

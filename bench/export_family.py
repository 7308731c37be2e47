#!/usr/bin/env python3
"""export_family.py - a random-weight sequence classifier of one teacher
family at a real model's shape, exported by torch.onnx.export (opset 14,
dynamic batch and sequence axes), for the runtime benchmark
(bench_runtime.py's distilbert-base and roberta-base shapes).

    /usr/bin/python3 bench/export_family.py --family roberta --layers 12 \
        --hidden 768 --heads 12 --ffn 3072 --vocab 50265 --out DIR

The family's own config class (tests/util/families.py) with the shape
given; weights random (only the shape matters for latency). Writes
DIR/model.onnx. Needs transformers (pinned by scripts/install-deps.sh).
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "util"))
import families  # noqa: E402
import model_util as mu  # noqa: E402


def config_kwargs(family, a):
    """The family's size keywords: DistilBERT spells them its own way."""
    if family == "distilbert":
        return dict(dim=a.hidden, n_heads=a.heads, hidden_dim=a.ffn, n_layers=a.layers,
                    vocab_size=a.vocab, max_position_embeddings=a.max_pos)
    kw = dict(hidden_size=a.hidden, num_attention_heads=a.heads, intermediate_size=a.ffn,
              num_hidden_layers=a.layers, vocab_size=a.vocab,
              max_position_embeddings=a.max_pos)
    if family in ("roberta", "xlmr", "mpnet"):
        kw.update(pad_token_id=1, max_position_embeddings=a.max_pos + 2)
    if family in ("roberta", "xlmr"):
        kw.update(type_vocab_size=1)
    return kw


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", required=True, choices=sorted(families.FAMILIES))
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--ffn", type=int, default=3072)
    ap.add_argument("--vocab", type=int, default=30522)
    ap.add_argument("--max-pos", type=int, default=512)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    import torch
    tf = mu.import_transformers()
    cfg_cls, model_cls, _, pad_id, token_types = families.FAMILIES[a.family]
    torch.manual_seed(0)
    cfg = getattr(tf, cfg_cls)(num_labels=2, **config_kwargs(a.family, a))
    cfg._attn_implementation = "eager"
    model = getattr(tf, model_cls)(cfg).eval()
    names, arrays = families.batch(pad_id, token_types)
    os.makedirs(a.out, exist_ok=True)
    families._torch_export(model, names, arrays, os.path.join(a.out, "model.onnx"))
    print(os.path.join(a.out, "model.onnx"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""families.py - small random-weight sequence classifiers of the teacher
families users bring (issue 16), built from Hugging Face transformers
configs and exported by torch.onnx.export (opset 14, dynamic batch and
sequence axes). A test oracle, not part of the product.

    import families
    case = families.export("roberta", "/tmp/rob")   # a model_util.BertCase
    case.model, case.input_files, case.want         # model.onnx, .pb, logits

Each family takes the inputs its Hugging Face model takes: input_ids and
attention_mask, plus token_type_ids for BERT, ELECTRA and ALBERT (not for
DistilBERT, RoBERTa, XLM-R, MPNet). The batch is padded (rows of 9, 6 and 3
real tokens) with the family's pad id, so masks and RoBERTa's position ids
(counted over non-pad tokens from pad_id + 1) are exercised. The layout
written is bert_export.py's: model.onnx, test_data_set_0/input_K.pb and
output_0.pb (torch's logits), config.json with the input names.

Weights are random with fixed seeds; the layer norms and biases get
random values too (std 0.1), so a lift that drops a bias or a gamma shows.
"""
import json
import os

import model_util as mu

# Shapes: small enough to export in a second, odd enough to catch a
# transposed weight (H 32, 4 heads, FFN 48, 2 layers, vocab 99).
H, HEADS, FFN, LAYERS, VOCAB, MAXPOS = 32, 4, 48, 2, 99, 40
BATCH_LENGTHS = (9, 6, 3)

# family -> (transformers config class, model class, config kwargs, pad id,
# whether it takes token_type_ids)
FAMILIES = {
    "bert": ("BertConfig", "BertForSequenceClassification",
             dict(hidden_size=H, num_attention_heads=HEADS, intermediate_size=FFN,
                  num_hidden_layers=LAYERS, vocab_size=VOCAB,
                  max_position_embeddings=MAXPOS, type_vocab_size=2), 0, True),
    "distilbert": ("DistilBertConfig", "DistilBertForSequenceClassification",
                   dict(dim=H, n_heads=HEADS, hidden_dim=FFN, n_layers=LAYERS,
                        vocab_size=VOCAB, max_position_embeddings=MAXPOS), 0, False),
    "roberta": ("RobertaConfig", "RobertaForSequenceClassification",
                dict(hidden_size=H, num_attention_heads=HEADS, intermediate_size=FFN,
                     num_hidden_layers=LAYERS, vocab_size=VOCAB, pad_token_id=1,
                     max_position_embeddings=MAXPOS + 2, type_vocab_size=1), 1, False),
    "xlmr": ("XLMRobertaConfig", "XLMRobertaForSequenceClassification",
             dict(hidden_size=H, num_attention_heads=HEADS, intermediate_size=FFN,
                  num_hidden_layers=LAYERS, vocab_size=VOCAB, pad_token_id=1,
                  max_position_embeddings=MAXPOS + 2, type_vocab_size=1), 1, False),
    "electra-small": ("ElectraConfig", "ElectraForSequenceClassification",
                      dict(embedding_size=16, hidden_size=H, num_attention_heads=HEADS,
                           intermediate_size=FFN, num_hidden_layers=LAYERS,
                           vocab_size=VOCAB, max_position_embeddings=MAXPOS), 0, True),
    "electra-base": ("ElectraConfig", "ElectraForSequenceClassification",
                     dict(embedding_size=H, hidden_size=H, num_attention_heads=HEADS,
                          intermediate_size=FFN, num_hidden_layers=LAYERS,
                          vocab_size=VOCAB, max_position_embeddings=MAXPOS), 0, True),
    "albert": ("AlbertConfig", "AlbertForSequenceClassification",
               dict(embedding_size=16, hidden_size=H, num_attention_heads=HEADS,
                    intermediate_size=FFN, num_hidden_layers=LAYERS, vocab_size=VOCAB,
                    max_position_embeddings=MAXPOS, hidden_act="gelu",
                    classifier_dropout_prob=0.1), 0, True),
    "mpnet": ("MPNetConfig", "MPNetForSequenceClassification",
              dict(hidden_size=H, num_attention_heads=HEADS, intermediate_size=FFN,
                   num_hidden_layers=LAYERS, vocab_size=VOCAB, pad_token_id=1,
                   max_position_embeddings=MAXPOS + 2), 1, False),
}
# Extra cases: a regression head (num_labels 1) where it costs one export.
VARIANTS = {"roberta-reg": ("roberta", 1), "distilbert-reg": ("distilbert", 1)}
NAMES = list(FAMILIES) + list(VARIANTS)


def batch(pad_id, token_types, seed=0):
    """The padded batch: (names, arrays) with ids in 3..VOCAB-1 (never a
    pad or special id), attention_mask 1 on real tokens, pads = pad_id."""
    import numpy as np
    rng = np.random.default_rng(seed)
    S = max(BATCH_LENGTHS)
    ids = np.full((len(BATCH_LENGTHS), S), pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    for b, n in enumerate(BATCH_LENGTHS):
        ids[b, :n] = rng.integers(3, VOCAB, n)
        mask[b, :n] = 1
    arrays = {"input_ids": ids, "attention_mask": mask}
    if token_types:
        tt = np.zeros_like(ids)
        for b, n in enumerate(BATCH_LENGTHS):
            tt[b, n // 2:n] = 1
        arrays["token_type_ids"] = tt
    return list(arrays), arrays


def _randomise(model, seed):
    """Biases and LayerNorm parameters away from 0 / 1, so each matters."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                base = 1.0 if name.endswith(("LayerNorm.weight", "layer_norm.weight",
                                             "ln.weight")) else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))


def export(name, out, seed=0):
    """Builds family NAME (FAMILIES or VARIANTS), exports it to OUT and
    returns the model_util.BertCase."""
    import numpy as np
    import torch
    tf = mu.import_transformers()
    family, labels = VARIANTS.get(name, (name, 2))
    cfg_cls, model_cls, kw, pad_id, token_types = FAMILIES[family]
    torch.manual_seed(seed)
    cfg = getattr(tf, cfg_cls)(num_labels=labels, **kw)
    cfg._attn_implementation = "eager"  # the exported graph, not SDPA's
    model = getattr(tf, model_cls)(cfg).eval()
    _randomise(model, seed)

    names, arrays = batch(pad_id, token_types, seed)

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *args):
            return self.m(**dict(zip(names, args))).logits

    wrapped = Wrap(model).eval()
    tensors = tuple(torch.from_numpy(arrays[n]) for n in names)
    with torch.no_grad():
        want = wrapped(*tensors).numpy().astype(np.float32)
    os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
    path = os.path.join(out, "model.onnx")
    axes = {n: {0: "batch", 1: "seq"} for n in names}
    axes["logits"] = {0: "batch"}
    torch.onnx.export(wrapped, tensors, path, opset_version=14, input_names=names,
                      output_names=["logits"], dynamic_axes=axes,
                      do_constant_folding=True)
    ds = os.path.join(out, "test_data_set_0")
    for k, n in enumerate(names):
        mu.write_pb(os.path.join(ds, f"input_{k}.pb"), arrays[n], n)
    mu.write_pb(os.path.join(ds, "output_0.pb"), want, "logits")
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"family": name, "inputs": names, "labels": labels,
                   "pad_id": pad_id}, f)
    return mu.BertCase(out)

"""families.py - small random-weight sequence classifiers of the teacher
families users bring (issue 16), built from Hugging Face transformers
configs and exported each way of WAYS: torch.onnx.export (opset 14,
dynamic batch and sequence axes), Optimum, and ORT's transformer
optimizer. A test oracle, not part of the product.

    import families
    case = families.export("roberta", "/tmp/rob")   # a model_util.BertCase
    opt = families.export("roberta", "/tmp/rob-ort", way="ort",
                          torch_model=case.model)
    case.model, case.input_files, case.want         # model.onnx, .pb, logits
    two = families.export("roberta", "/tmp/rob2", heads=2)  # heads of 16 dims

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


def batch(pad_id, token_types, seed=0, lengths=BATCH_LENGTHS):
    """The padded batch: (names, arrays) with ids in 3..VOCAB-1 (never a
    pad or special id), attention_mask 1 on real tokens, pads = pad_id;
    rows of LENGTHS real tokens."""
    import numpy as np
    rng = np.random.default_rng(seed)
    S = max(lengths)
    ids = np.full((len(lengths), S), pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    for b, n in enumerate(lengths):
        ids[b, :n] = rng.integers(3, VOCAB, n)
        mask[b, :n] = 1
    arrays = {"input_ids": ids, "attention_mask": mask}
    if token_types:
        tt = np.zeros_like(ids)
        for b, n in enumerate(lengths):
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


# The export ways of issue 16's table: torch.onnx.export at opset 14,
# Optimum's exporter (what `optimum-cli export onnx --task
# text-classification` writes, at the opset Optimum picks), and ONNX
# Runtime's transformer optimizer over the torch export as Optimum's O2
# runs it (opt_level 2, transformer fusions, exact GELU: com.microsoft
# Attention, EmbedLayerNormalization, SkipLayerNormalization, BiasGelu).
WAYS = ("torch", "optimum", "ort")


def _build(name, seed, lengths=BATCH_LENGTHS, config=None, vocab=None,
           heads=HEADS):
    """(model, its transformers config, input names, arrays, torch's
    logits, labels, pad id) for family NAME with random weights and HEADS
    attention heads; CONFIG overrides entries of its config
    (max_position_embeddings for longer LENGTHS); VOCAB replaces the word
    table's size (VOCAB) when given."""
    import numpy as np
    import torch
    tf = mu.import_transformers()
    family, labels = VARIANTS.get(name, (name, 2))
    cfg_cls, model_cls, kw, pad_id, token_types = FAMILIES[family]
    if vocab:
        kw = dict(kw, vocab_size=vocab)
    kw = {k: heads if k in ("num_attention_heads", "n_heads") else v
          for k, v in kw.items()}
    torch.manual_seed(seed)
    cfg = getattr(tf, cfg_cls)(num_labels=labels, **{**kw, **(config or {})})
    cfg._attn_implementation = "eager"  # the exported graph, not SDPA's
    model = getattr(tf, model_cls)(cfg).eval()
    _randomise(model, seed)
    names, arrays = batch(pad_id, token_types, seed, lengths)
    with torch.no_grad():
        tensors = {n: torch.from_numpy(arrays[n]) for n in names}
        want = model(**tensors).logits.numpy().astype(np.float32)
    return model, cfg, names, arrays, want, labels, pad_id


def _write_case(out, name, names, arrays, want, labels, pad_id):
    """The data set and config.json beside OUT/model.onnx, the inputs in
    the graph's order (Optimum orders them its own way)."""
    import onnx
    graph_inputs = [i.name for i in onnx.load(os.path.join(out, "model.onnx"),
                                              load_external_data=False).graph.input]
    order = [n for n in graph_inputs if n in names]
    ds = os.path.join(out, "test_data_set_0")
    os.makedirs(ds, exist_ok=True)
    for k, n in enumerate(order):
        mu.write_pb(os.path.join(ds, f"input_{k}.pb"), arrays[n], n)
    mu.write_pb(os.path.join(ds, "output_0.pb"), want, "logits")
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"family": name, "inputs": order, "labels": labels,
                   "pad_id": pad_id}, f)
    return mu.BertCase(out)


def _torch_export(model, names, arrays, path):
    import torch

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *args):
            return self.m(**dict(zip(names, args))).logits

    tensors = tuple(torch.from_numpy(arrays[n]) for n in names)
    axes = {n: {0: "batch", 1: "seq"} for n in names}
    axes["logits"] = {0: "batch"}
    torch.onnx.export(Wrap(model).eval(), tensors, path, opset_version=14,
                      input_names=names, output_names=["logits"], dynamic_axes=axes,
                      do_constant_folding=True)


def _optimum_export(model, out):
    """Optimum in-process (a subprocess optimum-cli would import
    transformers without import_transformers()'s tokenizers stub)."""
    import tempfile
    from optimum.exporters.onnx import main_export
    from optimum.utils import logging
    logging.set_verbosity_error()  # its progress notes are not the test's
    with tempfile.TemporaryDirectory() as hf:
        model.save_pretrained(hf)
        main_export(hf, output=out, task="text-classification", do_validation=False)


def _ort_optimise(src, path, heads=HEADS):
    """Optimum's O2 over SRC: ORT's optimizer knows these encoders as
    "bert" (Optimum maps DistilBERT, RoBERTa, XLM-R, ELECTRA... to it)."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model
    opts = FusionOptions("bert")
    opts.enable_gelu_approximation = False
    opt = optimize_model(src, "bert", num_heads=heads, hidden_size=H, opt_level=2,
                         optimization_options=opts, use_gpu=False)
    opt.save_model_to_file(path)


def export(name, out, seed=0, way="torch", torch_model=None,
           lengths=BATCH_LENGTHS, config=None, vocab=None, heads=HEADS):
    """Builds family NAME (FAMILIES or VARIANTS), exports it the WAY of
    WAYS to OUT and returns the model_util.BertCase. "ort" optimises
    TORCH_MODEL (a torch export's model.onnx, of the same HEADS) when
    given, else exports one into OUT first. LENGTHS, CONFIG and VOCAB (the
    word table's size, for a tokenizer larger than VOCAB's 99 ids): see
    _build. HEADS (dividing H) sets the attention heads: 4 of 8 dims by
    default, 2 of 16 for a teacher whose students the search may pick (it
    keeps heads of 16 dims or more)."""
    model, _, names, arrays, want, labels, pad_id = _build(name, seed, lengths,
                                                           config, vocab, heads)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    if way == "torch":
        _torch_export(model, names, arrays, path)
    elif way == "optimum":
        _optimum_export(model, out)
    elif way == "ort":
        src = torch_model
        if src is None:
            src = os.path.join(out, "torch.onnx")
            _torch_export(model, names, arrays, src)
        _ort_optimise(src, path, heads)
    else:
        raise ValueError(f"unknown export way {way!r}: one of {WAYS}")
    return _write_case(out, name, names, arrays, want, labels, pad_id)

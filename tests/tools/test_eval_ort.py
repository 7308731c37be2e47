#!/usr/bin/env python3
"""test_eval_ort.py — `distilc eval` against onnxruntime + Hugging Face.

Oracle: a tiny BERT classifier exported from PyTorch (tests/util/bert_export.py,
the patterns torch.onnx.export writes for Hugging Face models), run by
onnxruntime one example at a time (no padding at all) on the encodings of
Hugging Face `tokenizers` (BertWordPieceTokenizer, the BERT-base uncased
vocabulary, truncation longest_first to 128). Checked:
  * `distilc eval --predictions` gives the same logits (to float rounding:
    distilc runs padded, length-sorted batches in its reference
    interpreter) and the same predicted labels, example by example;
  * the metrics `distilc eval --json` prints equal scikit-learn's
    (accuracy_score, f1_score) on those predictions;
  * SST-2 (single sentences), MRPC (pairs: token type ids matter) and a
    model without a token_type_ids input (tokenised from HF's own saved
    tokenizer.json rather than vocab.txt).
Usage: test_eval_ort.py DISTILC_BIN. Skips (exit 77, "skipped: ...") when
torch, onnxruntime, tokenizers, scikit-learn or the shared data are absent.
"""
import json
import os
import sys
import tempfile

# The shared helpers are in tests/util/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import model_util as mu  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DISTILC_BIN", "")
SHARED = mu.shared_dir()
GLUE = os.path.join(SHARED, "glue")
VOCAB = os.path.join(SHARED, "vocab", "bert-base-uncased-vocab.txt")

np, _, _, sk_metrics, tokenizers = mu.require(
    "numpy", "onnxruntime", "torch", "sklearn.metrics", "tokenizers",
    message="{name} is not installed (install: /usr/bin/python3 -m pip install "
            "--break-system-packages onnxruntime tokenizers)")
accuracy_score, f1_score = sk_metrics.accuracy_score, sk_metrics.f1_score
BertWordPieceTokenizer = tokenizers.BertWordPieceTokenizer

for p in (os.path.join(GLUE, "SST-2", "dev.tsv"),
          os.path.join(GLUE, "MRPC", "dev.tsv"), VOCAB):
    if not os.path.exists(p):
        print("skipped: shared data absent (%s)" % p)
        sys.exit(77)

checks = mu.Checks(max_printed=20)
check = checks.check


def read_glue(path, cols, label_col, limit):
    """GLUE's TSV as its own scripts read it: header row, tab-separated, no
    quoting, blank lines ignored. Returns (line number, texts, label)."""
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        lines = f.read().split("\n")
    header = lines[0].rstrip("\r").split("\t")
    idx = [header.index(c) for c in cols]
    lab = header.index(label_col)
    for n, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line:
            continue
        f = line.split("\t")
        rows.append((n, [f[i] for i in idx], int(f[lab])))
        if len(rows) == limit:
            break
    return rows


def export(out, extra):
    return mu.export_bert(out, "--layers", 1, "--hidden", 16, "--heads", 2,
                          "--ffn", 32, "--max-pos", 128, "--vocab", 30522,
                          "--seed", 7, *extra).model


def center_classifier(model, rows, tok):
    """A random tiny model predicts one class for everything (its logits
    vary by ~1e-3 around the classifier bias), which would make the label
    and metric checks empty. Shift classifier.bias so the median example
    sits on the decision boundary: about half of each label, margins still
    far above float rounding. Rewrites the file in place."""
    import onnx
    from onnx import numpy_helper
    d = ort_logits(model, rows, tok)
    shift = float(np.median(d[:, 1] - d[:, 0]))
    m = onnx.load(model)
    for init in m.graph.initializer:
        if init.name.endswith("classifier.bias"):
            b = numpy_helper.to_array(init).copy()
            b[1] -= shift
            init.CopyFrom(numpy_helper.from_array(b.astype(np.float32), init.name))
    onnx.save(m, model)


def hf_tokenizer():
    tok = BertWordPieceTokenizer(VOCAB, lowercase=True)
    tok.enable_truncation(128, strategy="longest_first")
    return tok


def ort_logits(model, rows, tok):
    sess = mu.ort_session(model)
    names = [i.name for i in sess.get_inputs()]
    out = []
    for _, texts, _ in rows:
        e = tok.encode(*texts)
        feed = {"input_ids": np.array([e.ids], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids], dtype=np.int64)}
        out.append(sess.run(["logits"], {n: feed[n] for n in names})[0][0])
    return np.array(out)


def compare(tmp, model, task, rows, metric_names, tokenizer_json=None):
    """tokenizer_json: give distilc HF's tokenizer.json instead of vocab.txt."""
    preds_path = os.path.join(tmp, task + ".jsonl")
    tok_args = ["--tokenizer", tokenizer_json] if tokenizer_json else ["--vocab", VOCAB]
    p = mu.Distilc(BIN)("eval", model, "--task", task, "--data", GLUE, *tok_args,
                        "--limit", str(len(rows)), "--batch", "16", "--json",
                        "--progress", "off", "--predictions", preds_path)
    check(p.returncode == 0, "%s: distilc eval exit %d: %s"
          % (task, p.returncode, p.stderr))
    if p.returncode != 0:
        return
    report = json.loads(p.stdout)
    check(report["task"] == task and report["split"] == "dev"
          and report["examples"] == len(rows), "%s: report header %s" % (task, report))
    with open(preds_path) as f:
        preds = [json.loads(l) for l in f]
    check(len(preds) == len(rows), "%s: %d predictions" % (task, len(preds)))
    ref = ort_logits(model, rows, hf_tokenizer())
    ours = np.array([p["logits"] for p in preds], dtype=np.float64)
    worst = mu.max_diff(ours, ref)
    print("%s: %d examples, worst |logit difference| vs onnxruntime %.3g"
          % (task, len(rows), worst))
    check(worst < 1e-4, "%s: logits differ by %g" % (task, worst))
    for i, (pr, row) in enumerate(zip(preds, rows)):
        check(pr["index"] == i and pr["line"] == row[0],
              "%s: example %d index/line %s" % (task, i, pr))
        margin = abs(ref[i][0] - ref[i][1])
        if margin > 1e-5:  # a near tie may fall either way in float
            check(pr["label"] == int(np.argmax(ref[i])),
                  "%s: example %d (line %d): label %d, onnxruntime %d"
                  % (task, i, row[0], pr["label"], int(np.argmax(ref[i]))))
    labels = [p["label"] for p in preds]
    gold = [r[2] for r in rows]
    check(0 < sum(labels) < len(labels), "%s: predictions all one class" % task)
    want = {"accuracy": accuracy_score(gold, labels)}
    if "f1" in metric_names:
        want["f1"] = f1_score(gold, labels)
        want["combined_score"] = (want["accuracy"] + want["f1"]) / 2
    for k, v in want.items():
        got = report["metrics"].get(k)
        check(got is not None and abs(got - v) < 1e-12,
              "%s: %s = %s, scikit-learn %s" % (task, k, got, v))
    check(sorted(report["metrics"]) == sorted(want),
          "%s: metric names %s" % (task, sorted(report["metrics"])))


def main():
    if not BIN or not os.path.exists(BIN):
        print("FAIL: no distilc binary given")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        sst2 = read_glue(os.path.join(GLUE, "SST-2", "dev.tsv"),
                         ["sentence"], "label", 100)
        mrpc = read_glue(os.path.join(GLUE, "MRPC", "dev.tsv"),
                         ["#1 String", "#2 String"], "Quality", 40)
        model = export(os.path.join(tmp, "m"), [])
        center_classifier(model, sst2, hf_tokenizer())
        compare(tmp, model, "SST-2", sst2, ["accuracy"])
        model = export(os.path.join(tmp, "p"), [])
        center_classifier(model, mrpc, hf_tokenizer())
        compare(tmp, model, "MRPC", mrpc, ["accuracy", "f1"])
        notypes = export(os.path.join(tmp, "n"), ["--no-token-types"])
        center_classifier(notypes, sst2[:30], hf_tokenizer())
        tj = os.path.join(tmp, "tokenizer.json")
        hf_tokenizer().save(tj)  # HF's own file: BertNormalizer, WordPiece, ...
        compare(tmp, notypes, "SST-2", sst2[:30], ["accuracy"], tokenizer_json=tj)
    return checks.finish("test_eval_ort")


if __name__ == "__main__":
    sys.exit(main())

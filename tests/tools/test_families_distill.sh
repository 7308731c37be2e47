#!/usr/bin/env bash
# test_families_distill.sh — `distilc distill` with teachers of the other
# families (issue 16): a DistilBERT (relu head, no token types), a
# RoBERTa (positions counted over non-pad tokens from pad_id + 1, no token
# types) and an MPNet (RoBERTa's inputs and positions plus a relative
# position bias, which the student keeps), random weights from
# transformers configs (tests/util/families.py),
# each distilled into a one-layer student for a few steps on tiny_glue's
# SST-2. The student ONNX must take exactly the teacher's inputs and give
# onnxruntime's logits from `distilc run` (reference and oneDNN) to 1e-4
# on a batch padded with the family's pad id. A RoBERTa whose tokenizer is a
# byte-level BPE tokenizer.json is distilled with --tokenizer.
#
# Usage: test_families_distill.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips (exit 77) when /usr/bin/python3 lacks torch, onnx, onnxruntime or
# transformers.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_families_distill.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import sys; sys.path.insert(0, '$HERE/../util')
import torch, onnx, onnxruntime, model_util; model_util.import_transformers()" >/dev/null 2>&1; then
    echo "skipped: /usr/bin/python3 cannot import torch, onnx, onnxruntime and transformers"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-fam-distill-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"
tiny_glue

for fam in distilbert roberta mpnet; do
    "$PY" - "$HERE/../util" "$fam" "$TMP/$fam" >/dev/null 2>"$TMP/export.err" <<'PYEOF' ||
import sys
sys.path.insert(0, sys.argv[1])
import families
families.export(sys.argv[2], sys.argv[3])
PYEOF
        { bad "export $fam"; cat "$TMP/export.err"; continue; }
    S=$TMP/$fam/student.onnx
    run 0 "distill $fam" distill "$TMP/$fam/model.onnx" --task sst2 --data "$TMP/glue" \
        --vocab "$TMP/vocab.txt" --batch 8 --max-seq 32 \
        --student layers=1,hidden=16,heads=2,ffn=32 --steps 3 --json -o "$S" &&
        json "len(j['stages']) == 2 and all(s['steps'] == 3 for s in j['stages'])" \
             "$fam: two stages of 3 steps"
    # the teacher's padded batch (its pad id) as distilc run inputs
    args=()
    k=0
    for n in $("$PY" -c "import json,sys; print(' '.join(json.load(open(sys.argv[1]))['inputs']))" \
                 "$TMP/$fam/config.json"); do
        args+=(--input "$n=$TMP/$fam/test_data_set_0/input_$k.pb")
        k=$((k + 1))
    done
    for be in ref onednn; do
        run 0 "run $fam student ($be)" run "$S" --backend $be "${args[@]}" \
            --output-dir "$TMP/$fam/run-$be"
    done
    if "$PY" - "$TMP/$fam" <<'PYEOF'
import json, sys, numpy as np, onnx, onnxruntime as ort
from onnx import numpy_helper
d = sys.argv[1]
names = json.load(open(d + "/config.json"))["inputs"]
teacher = [i.name for i in onnx.load(d + "/model.onnx").graph.input]
student = [i.name for i in onnx.load(d + "/student.onnx").graph.input]
assert student == teacher == names, (student, teacher)
assert "token_type_ids" not in student
# the family's head and positions were kept, not trained as BERT's
ops = {n.op_type for n in onnx.load(d + "/student.onnx").graph.node}
fam = json.load(open(d + "/config.json"))["family"]
assert ("Relu" in ops) if fam == "distilbert" else ("CumSum" in ops and "Tanh" in ops), ops
# MPNet's relative position bias: its bucketing (a Log) and table
assert ("Log" in ops) == (fam == "mpnet"), ops
if fam == "mpnet":
    inits = {i.name: i.dims for i in onnx.load(d + "/student.onnx").graph.initializer}
    assert list(inits.get("relative_bias", [])) == [32, 2], inits.get("relative_bias")
feeds = {n: numpy_helper.to_array(onnx.load_tensor("%s/test_data_set_0/input_%d.pb" % (d, k)))
         for k, n in enumerate(names)}
sess = ort.InferenceSession(d + "/student.onnx", providers=["CPUExecutionProvider"])
want = sess.run(["logits"], feeds)[0]
for be in ("ref", "onednn"):
    got = numpy_helper.to_array(onnx.load_tensor("%s/run-%s/output_0.pb" % (d, be)))
    diff = float(np.abs(got - want).max())
    print("%s student: inputs %s; logits onnxruntime vs distilc run --backend %s: "
          "max |diff| %.2e (tolerance 1e-4)" % (d.rsplit("/", 1)[1], student, be, diff))
    assert got.shape == want.shape == (3, 2) and diff <= 1e-4, diff
PYEOF
    then ok; else bad "$fam student.onnx: inputs or onnxruntime vs distilc run"; fi
done

# ---- a RoBERTa with its own byte-level BPE tokenizer.json ---------------------
# trained on tiny_glue's text with tokenizers (RoBERTa's layout), the word
# table as large as it: distill --tokenizer, and the teacher's dev metrics
# it reports are those of eval --tokenizer (the same tokens).
if "$PY" - "$HERE/../util" "$TMP" >/dev/null 2>"$TMP/export.err" <<'PYEOF'; then
import glob, sys
sys.path.insert(0, sys.argv[1])
import families
from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
tmp = sys.argv[2]
text = [l.split("\t")[0] for f in glob.glob(tmp + "/glue/*/*.tsv") for l in open(f)]
text += open(tmp + "/corpus.txt").read().split("\n")
t = Tokenizer(models.BPE())
t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
t.train_from_iterator(text, trainers.BpeTrainer(
    vocab_size=300, show_progress=False, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
t.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
t.save(tmp + "/roberta-tok.json")
families.export("roberta", tmp + "/rbpe", vocab=t.get_vocab_size())
PYEOF
    R=$TMP/rbpe/model.onnx
    TOK=(--task sst2 --data "$TMP/glue" --tokenizer "$TMP/roberta-tok.json" --batch 8 --max-seq 32)
    run 0 "distill roberta --tokenizer" distill "$R" "${TOK[@]}" \
        --student layers=1,hidden=16,heads=2,ffn=32 --steps 2 --json -o "$TMP/rbpe/s.onnx" &&
        cp "$TMP/out" "$TMP/rbpe/distill.json"
    run 0 "eval roberta --tokenizer" eval "$R" "${TOK[@]}" --json &&
        json "j['metrics'] == json.load(open('$TMP/rbpe/distill.json'))['teacher_dev']" \
             "distill --tokenizer: the teacher's dev metrics are eval --tokenizer's"
    run 2 "distill --vocab and --tokenizer" distill "$R" "${TOK[@]}" --vocab "$TMP/vocab.txt" \
        --student layers=1,hidden=16,heads=2,ffn=32 --steps 1 -o "$TMP/rbpe/s2.onnx" &&
        has "$TMP/err" "not both" "distill: both named"
else
    bad "export roberta with a tokenizer.json"
    cat "$TMP/export.err"
fi

echo "test_families_distill: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

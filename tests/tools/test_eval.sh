#!/usr/bin/env bash
# test_eval.sh — `distilc eval` and `distilc regress` end to end, on tiny
# BERT classifiers exported from PyTorch (tests/util/bert_export.py) and GLUE
# fixtures this script writes itself (so it needs no shared data):
# reports (table, JSON, JUnit XML checked by xmllint), predictions, the
# metric sets of SST-2 / MRPC / STS-B, a split without labels, progress
# (JSON lines when piped, a bar on a terminal), regress's exit status and
# table, its backends and precisions (an int8 candidate against an fp32
# base on oneDNN, a per-model fallback to the interpreter), and errors that
# name the option, file and line.
#
# Usage: test_eval.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_eval.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-eval-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"



# ---- fixtures: a tiny vocabulary and GLUE files in GLUE's own layouts ----
"$PY" - "$TMP" <<'PYEOF'
import os, random, sys
tmp = sys.argv[1]
words = ("the a movie film is was good bad great awful very not fun dull "
         "man woman dog cat plays runs said today , .").split()
os.makedirs(os.path.join(tmp, "glue", "SST-2"))
os.makedirs(os.path.join(tmp, "glue", "MRPC"))
os.makedirs(os.path.join(tmp, "glue", "STS-B"))
os.makedirs(os.path.join(tmp, "bad", "SST-2"))
with open(os.path.join(tmp, "vocab.txt"), "w") as f:
    f.write("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words) + "\n")
rnd = random.Random(42)
def sent():
    return " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 14)))
with open(os.path.join(tmp, "glue", "SST-2", "dev.tsv"), "w") as f:
    f.write("sentence\tlabel\n")
    for i in range(40):
        f.write("%s\t%d\n" % (sent(), i % 2))
with open(os.path.join(tmp, "glue", "SST-2", "test.tsv"), "w") as f:
    f.write("index\tsentence\n")
    for i in range(5):
        f.write("%d\t%s\n" % (i, sent()))
with open(os.path.join(tmp, "glue", "MRPC", "dev.tsv"), "w") as f:
    f.write("\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n")
    for i in range(20):
        f.write("%d\t%d\t%d\t%s\t%s\n" % (i % 2, i, i + 100, sent(), sent()))
with open(os.path.join(tmp, "glue", "STS-B", "dev.tsv"), "w") as f:
    f.write("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\t"
            "sentence1\tsentence2\tscore\n")
    for i in range(20):
        f.write("%d\tmain\tf\t2012\t%d\tn\tn\t%s\t%s\t%.1f\n"
                % (i, i, sent(), sent(), (i * 7 % 11) / 2))
with open(os.path.join(tmp, "bad", "SST-2", "dev.tsv"), "w") as f:
    f.write("sentence\tlabel\ngood film\t1\nno label column here\nbad film\t0\n")
PYEOF
GLUE=$TMP/glue
VOCAB=$TMP/vocab.txt
export_model() { # DIR ARGS...: a 1-layer, 16-wide classifier for a 30-word vocabulary
    local dir=$1
    shift
    "$PY" "$HERE/../util/bert_export.py" --out "$TMP/$dir" --layers 1 --hidden 16 \
        --heads 2 --ffn 32 --max-pos 64 --vocab 30 "$@" >/dev/null 2>"$TMP/export.err" ||
        { echo "FAIL: bert_export.py $*"; cat "$TMP/export.err"; exit 1; }
}
export_model a --seed 0
export_model b --seed 1
export_model s --seed 2 --labels 1
A=$TMP/a/model.onnx
B=$TMP/b/model.onnx

# ---- eval -----------------------------------------------------------------
run 0 "eval --help" eval --help && has "$TMP/out" "--task" "eval --help"
run 0 "eval SST-2 table" eval "$A" --task SST-2 --data "$GLUE" --vocab "$VOCAB" \
    --max-seq 64 --progress off &&
    has "$TMP/out" "^accuracy +[0-9.]+ +\(main\)" "eval table"
run 0 "eval sst2 --json" eval "$A" --task sst2 --data "$GLUE" --vocab "$VOCAB" \
    --max-seq 64 --batch 8 --json --junit "$TMP/eval.xml" \
    --predictions "$TMP/pred.jsonl" &&
    json "j['task'] == 'SST-2' and j['split'] == 'dev' and j['examples'] == 40 and
          set(j['metrics']) == {'accuracy'} and 0 <= j['metrics']['accuracy'] <= 1 and
          j['seconds'] >= 0 and j['batches'] == 5" "eval --json"
# Piped stderr: JSON progress lines, the last one final with done == total.
has "$TMP/err" '^\{"event":"progress",.*"done":40,"total":40,.*"final":true' "progress JSON lines"
if xmllint --noout "$TMP/eval.xml" 2>"$TMP/xml.err"; then ok; else bad "eval --junit: not well-formed"; cat "$TMP/xml.err"; fi
has "$TMP/eval.xml" '<testcase name="SST-2"' "eval --junit testcase"
if [ "$(wc -l <"$TMP/pred.jsonl")" -eq 40 ]; then ok; else bad "--predictions: want 40 lines"; fi
has "$TMP/pred.jsonl" '^\{"index":0,"line":2,"label":[01],"label_name":"(negative|positive)","logits":\[[-0-9.e]+,[-0-9.e]+\]\}$' "--predictions line"
# The predictions are the argmax of the logits written beside them, and the
# accuracy is computed from them.
if "$PY" - "$TMP" <<'PYEOF'
import json, sys
t = sys.argv[1]
p = [json.loads(l) for l in open(t + "/pred.jsonl")]
gold = [i % 2 for i in range(40)]
assert all(q["label"] == max(range(2), key=lambda k: (q["logits"][k], -k)) for q in p)
acc = sum(q["label"] == g for q, g in zip(p, gold)) / 40
rep = json.load(open(t + "/out"))
assert abs(rep["metrics"]["accuracy"] - acc) < 1e-12, (rep, acc)
PYEOF
then ok; else bad "predictions vs metrics"; fi

# The tokenizer is found beside the model when not given.
cp "$VOCAB" "$TMP/a/vocab.txt"
run 0 "eval, vocab.txt beside the model" eval "$A" --task SST-2 --data "$GLUE/SST-2" \
    --max-seq 64 --limit 10 --json --progress off &&
    json "j['examples'] == 10" "eval --limit 10"
rm "$TMP/a/vocab.txt"
run 0 "eval MRPC" eval "$A" --task MRPC --data "$GLUE" --vocab "$VOCAB" --max-seq 64 \
    --json --progress off &&
    json "set(j['metrics']) == {'accuracy', 'f1', 'combined_score'} and
          j['main_metric'] == 'combined_score'" "eval MRPC metrics"
run 0 "eval STS-B" eval "$TMP/s/model.onnx" --task stsb --data "$GLUE" --vocab "$VOCAB" \
    --max-seq 64 --json --progress off --predictions "$TMP/stsb.jsonl" &&
    json "set(j['metrics']) == {'pearson', 'spearmanr', 'combined_score'}" "eval STS-B metrics"
has "$TMP/stsb.jsonl" '^\{"index":0,"line":2,"score":[-0-9.e]+,"logits":\[[-0-9.e]+\]\}$' "STS-B predictions"
run 0 "eval test split" eval "$A" --task SST-2 --split test --data "$GLUE" --vocab "$VOCAB" \
    --max-seq 64 --json --progress off &&
    json "j['examples'] == 5 and j['metrics'] == {}" "eval test split: no metrics"
# On a terminal: a bar redrawn with \r, with the rate and an ETA.
if command -v script >/dev/null; then
    script -qec "'$DISTILC' eval '$A' --task SST-2 --data '$GLUE' --vocab '$VOCAB' --max-seq 64 --batch 4 --progress auto >/dev/null" /dev/null >"$TMP/tty" 2>&1
    has "$TMP/tty" $'\r''SST-2 \[#+\] 40/40 +[0-9.]+/s +ETA' "progress bar on a terminal"
fi

# ---- eval errors ----------------------------------------------------------
run 2 "eval --backend tpu" eval "$A" --task SST-2 --data "$GLUE" --vocab "$VOCAB" --backend tpu &&
    has "$TMP/err" "--backend 'tpu' is not a backend" "unknown backend message"
run 2 "eval unknown task" eval "$A" --task SST-3 --data "$GLUE" --vocab "$VOCAB" &&
    has "$TMP/err" "--task 'SST-3' is not a GLUE task" "unknown task message"
run 2 "eval without --data" eval "$A" --task SST-2 --vocab "$VOCAB" &&
    has "$TMP/err" "--data" "missing --data message"
run 2 "eval missing --data" eval "$A" --task SST-2 --data "$TMP/nowhere" --vocab "$VOCAB" &&
    has "$TMP/err" "--data .*nowhere: No such file" "missing --data message"
run 2 "eval missing model" eval "$TMP/none.onnx" --task SST-2 --data "$GLUE" --vocab "$VOCAB" &&
    has "$TMP/err" "none.onnx: No such file" "missing model message"
run 2 "eval --limit 0" eval "$A" --task SST-2 --data "$GLUE" --vocab "$VOCAB" --limit 0 &&
    has "$TMP/err" "--limit" "--limit message"
run 2 "eval no tokenizer" eval "$A" --task SST-2 --data "$GLUE" &&
    has "$TMP/err" "--vocab" "no tokenizer message"
run 2 "eval malformed line" eval "$A" --task SST-2 --data "$TMP/bad" --vocab "$VOCAB" &&
    has "$TMP/err" "dev.tsv:3" "malformed line names file:line"
run 0 "eval --skip-bad-lines" eval "$A" --task SST-2 --data "$TMP/bad" --vocab "$VOCAB" \
    --skip-bad-lines --json --progress off &&
    json "j['examples'] == 2 and j['skipped_lines'] == 1" "--skip-bad-lines counts"
run 2 "eval wrong head" eval "$A" --task STS-B --data "$GLUE" --vocab "$VOCAB" --max-seq 64 &&
    has "$TMP/err" "output 'logits' has shape \[[0-9]+,2\], expected \[[0-9]+,1\]" "wrong head message"

# ---- regress --------------------------------------------------------------
run 0 "regress A A" regress "$A" "$A" --task SST-2,MRPC --data "$GLUE" --vocab "$VOCAB" \
    --max-seq 64 --max-drop 0 --progress off &&
    has "$TMP/out" "^SST-2 +accuracy +[0-9.]+ +[0-9.]+ +0.00 +ok" "regress table" &&
    has "$TMP/out" "2 of 2 tasks within" "regress summary"
# A against B and B against A: the drops are opposite, and each run exits 1
# exactly when its drop exceeds --max-drop 0 (on the reference interpreter).
for pair in "$A $B ab" "$B $A ba"; do
    set -- $pair
    "$DISTILC" regress "$1" "$2" --task sst2,mrpc --data "$GLUE" --vocab "$VOCAB" --max-seq 64 \
        --max-drop 0 --json --progress off --junit "$TMP/r_$3.xml" --backend ref \
        >"$TMP/r_$3.json" 2>"$TMP/err"
    echo $? >"$TMP/r_$3.rc"
done
if "$PY" - "$TMP" <<'PYEOF'
import json, sys
t = sys.argv[1]
ab, ba = (json.load(open(t + "/r_%s.json" % k)) for k in ("ab", "ba"))
for rep, k in ((ab, "ab"), (ba, "ba")):
    rc = int(open(t + "/r_%s.rc" % k).read())
    want_fail = any(x["drop"] > 0 for x in rep["tasks"])
    assert rc == (1 if want_fail else 0), (k, rc, rep)
    assert rep["passed"] == (not want_fail)
    for x in rep["tasks"]:
        assert abs(x["drop"] - 100 * (x["base"] - x["candidate"])) < 1e-9
        assert x["passed"] == (x["drop"] <= 0)
    xml = open(t + "/r_%s.xml" % k).read()
    assert xml.count("<testcase ") == 2
    assert xml.count("<failure ") == sum(not x["passed"] for x in rep["tasks"])
for x, y in zip(ab["tasks"], ba["tasks"]):
    assert abs(x["drop"] + y["drop"]) < 1e-9
assert any(not x["passed"] for x in ab["tasks"] + ba["tasks"]), "models agree everywhere"
assert ab["base_backend"] == ab["candidate_backend"] == "ref", ab
PYEOF
then ok; else bad "regress A B / B A"; fi
for k in ab ba; do
    if xmllint --noout "$TMP/r_$k.xml"; then ok; else bad "regress --junit $k: not well-formed"; fi
done
# On the oneDNN runtime --precision is the candidate's and the base stays
# fp32 unless --base-precision says otherwise; --threads applies to both.
# The fp32 base's metrics equal `distilc eval --backend onednn`'s exactly
# (the same code path); an int8 candidate may move them a little (--max-drop
# 100 here: these are random models).
run 0 "eval --backend onednn" eval "$A" --task SST-2 --data "$GLUE" --vocab "$VOCAB" \
    --max-seq 64 --backend onednn --threads 1 --json --progress off &&
    json "j['backend'] == 'onednn' and j['precision'] == 'fp32'" "eval --json backend" &&
    cp "$TMP/out" "$TMP/eval_onednn.json"
run 0 "regress --precision int8" regress "$A" "$A" --task SST-2 --data "$GLUE" --vocab "$VOCAB" \
    --max-seq 64 --max-drop 100 --backend onednn --precision int8 --threads 1 --json --progress off &&
    json "j['base_backend'] == j['candidate_backend'] == 'onednn' and
          j['base_precision'] == 'fp32' and j['candidate_precision'] == 'int8' and j['passed'] and
          j['tasks'][0]['base_metrics'] ==
              json.load(open('$TMP/eval_onednn.json'))['metrics']" "regress int8 candidate vs fp32 base"
run 0 "regress --base-precision int8" regress "$A" "$A" --task SST-2 --data "$GLUE" --vocab "$VOCAB" \
    --max-seq 64 --max-drop 0 --precision int8 --base-precision int8 --progress off &&
    has "$TMP/out" "^SST-2 +accuracy +[0-9.]+ +[0-9.]+ +0.00 +ok" "same precision, no drop" &&
    has "$TMP/out" "base: onednn int8, candidate: onednn int8" "regress table names the runs"
# A candidate the runtime cannot lower (a Sigmoid pooler): by default it
# falls back to the interpreter with a note while the base stays on oneDNN;
# with a precision asked for it is an error naming the node.
"$PY" - "$A" "$TMP/sigmoid.onnx" <<'PYEOF'
import sys, onnx
m = onnx.load(sys.argv[1])
for n in m.graph.node:
    if n.op_type == "Tanh":
        n.op_type = "Sigmoid"
onnx.save(m, sys.argv[2])
PYEOF
run 0 "regress fallback" regress "$A" "$TMP/sigmoid.onnx" --task SST-2 --data "$GLUE" \
    --vocab "$VOCAB" --max-seq 64 --max-drop 100 --json --progress off &&
    json "j['base_backend'] == 'onednn' and j['candidate_backend'] == 'ref'" "per-model fallback" &&
    has "$TMP/err" "note: .*sigmoid.onnx.*reference interpreter" "fallback note"
run 2 "regress --precision on an unlowerable candidate" regress "$A" "$TMP/sigmoid.onnx" \
    --task SST-2 --data "$GLUE" --vocab "$VOCAB" --precision int8 --progress off &&
    has "$TMP/err" "sigmoid.onnx.*node '" "unlowerable candidate names the node"
run 2 "regress --precision fp16" regress "$A" "$B" --task SST-2 --data "$GLUE" --vocab "$VOCAB" \
    --precision fp16 && has "$TMP/err" "--precision 'fp16' is not fp32, bf16 or int8" "--precision message"
run 2 "regress --base-precision f" regress "$A" "$B" --task SST-2 --data "$GLUE" --vocab "$VOCAB" \
    --base-precision f && has "$TMP/err" "--base-precision 'f' is not" "--base-precision message"
run 2 "regress --threads 0" regress "$A" "$B" --task SST-2 --data "$GLUE" --vocab "$VOCAB" \
    --threads 0 && has "$TMP/err" "--threads" "--threads message"
run 2 "regress --backend ref --precision" regress "$A" "$B" --task SST-2 --data "$GLUE" \
    --vocab "$VOCAB" --backend ref --precision int8 &&
    has "$TMP/err" "--precision apply to --backend onednn" "ref with a precision"
run 2 "regress --backend ref --base-precision" regress "$A" "$B" --task SST-2 --data "$GLUE" \
    --vocab "$VOCAB" --backend ref --base-precision bf16 &&
    has "$TMP/err" "--base-precision applies to --backend onednn" "ref with a base precision"
run 2 "regress --backend tpu" regress "$A" "$B" --task SST-2 --data "$GLUE" --vocab "$VOCAB" \
    --backend tpu && has "$TMP/err" "--backend 'tpu' is not a backend" "regress unknown backend"
run 2 "regress --max-drop abc" regress "$A" "$B" --task SST-2 --data "$GLUE" --vocab "$VOCAB" --max-drop abc &&
    has "$TMP/err" "--max-drop" "--max-drop message"
run 2 "regress unknown task in list" regress "$A" "$B" --task SST-2,XYZ --data "$GLUE" --vocab "$VOCAB" &&
    has "$TMP/err" "'XYZ' is not a GLUE task" "task list message"
run 2 "regress test split" regress "$A" "$B" --task SST-2 --split test --data "$GLUE" --vocab "$VOCAB" \
    --progress off && has "$TMP/err" "no labels" "test split message"
run 2 "regress one model" regress "$A" --task SST-2 --data "$GLUE" --vocab "$VOCAB" &&
    has "$TMP/err" "BASE.onnx CANDIDATE.onnx" "one model message"

echo "test_eval.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# test_finetune.sh — `distilc finetune` end to end on tiny BERT classifiers
# exported from PyTorch (tests/util/bert_export.py) and GLUE fixtures this
# script writes (a learnable SST-2: label 1 iff "good" occurs; STS-B):
#  - the fine-tuned model learns the task (dev accuracy >= 0.9) and its ONNX
#    runs in onnxruntime with the logits of distilc's reference interpreter
#    (|diff| < 1e-4) and the accuracy the trainer reported;
#  - a head with the wrong label count gets a fresh head (and says so);
#    STS-B trains a regression head;
#  - --stop-after + --resume writes the same model, byte for byte, as an
#    uninterrupted run; checkpoints, plot and JSON progress lines appear;
#    a resume with another seed, --lr, --batch or --gemm-precision is
#    refused naming the option, and the report of a resumed run has the
#    whole run's final loss;
#  - bad options and files exit 2 naming the option or file.
#
# Usage: test_finetune.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch, onnx and
# onnxruntime.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_finetune.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx, onnxruntime" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch, onnx and onnxruntime"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-finetune-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"

"$PY" - "$TMP" <<'PYEOF'
import os, random, sys
tmp = sys.argv[1]
words = ("the a movie film is was great awful very not fun dull man woman dog "
         "cat plays runs said today , .").split()
os.makedirs(os.path.join(tmp, "glue", "SST-2"))
os.makedirs(os.path.join(tmp, "glue", "STS-B"))
with open(os.path.join(tmp, "vocab.txt"), "w") as f:
    f.write("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good"] + words) + "\n")
rnd = random.Random(7)
def sent(good):
    w = [rnd.choice(words) for _ in range(rnd.randint(2, 12))]
    if good:
        w.insert(rnd.randint(0, len(w)), "good")
    return " ".join(w)
for split, n in (("train", 320), ("dev", 60)):
    with open(os.path.join(tmp, "glue", "SST-2", split + ".tsv"), "w") as f:
        f.write("sentence\tlabel\n")
        for i in range(n):
            y = rnd.randint(0, 1)
            f.write("%s\t%d\n" % (sent(y), y))
    with open(os.path.join(tmp, "glue", "STS-B", split + ".tsv"), "w") as f:
        f.write("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\t"
                "sentence1\tsentence2\tscore\n")
        for i in range(n // 4):
            f.write("%d\tmain\tf\t2012\t%d\tn\tn\t%s\t%s\t%.1f\n"
                    % (i, i, sent(0), sent(i % 2), (i % 2) * 4.0 + 0.5))
PYEOF
GLUE=$TMP/glue
VOCAB=$TMP/vocab.txt
export_model() { # DIR ARGS...: a 2-layer, 32-wide classifier for the fixture vocabulary
    local dir=$1
    shift
    "$PY" "$HERE/../util/bert_export.py" --out "$TMP/$dir" --layers 2 --hidden 32 \
        --heads 2 --ffn 64 --max-pos 64 --vocab 30 "$@" >/dev/null 2>"$TMP/export.err" ||
        { echo "FAIL: bert_export.py $*"; cat "$TMP/export.err"; exit 1; }
}
export_model m2 --seed 0
export_model m3 --seed 1 --labels 3
export_model m1 --seed 2 --labels 1
M=$TMP/m2/model.onnx
COMMON=(--task SST-2 --data "$GLUE" --vocab "$VOCAB" --max-seq 32 --batch 16)

# ---- usage errors -----------------------------------------------------------
run 0 "--help" finetune --help && has "$TMP/out" "--resume" "finetune --help"
run 2 "no -o" finetune "$M" --task SST-2 --data "$GLUE" && has "$TMP/err" "-o" "no -o message"
run 2 "bad task" finetune "$M" --task nope --data "$GLUE" -o "$TMP/x.onnx" &&
    has "$TMP/err" "'nope' is not a GLUE task" "bad task message"
run 2 "bad lr" finetune "$M" "${COMMON[@]}" -o "$TMP/x.onnx" --lr abc && has "$TMP/err" "--lr" "bad lr message"
run 2 "epochs and steps" finetune "$M" "${COMMON[@]}" -o "$TMP/x.onnx" --epochs 1 --steps 3
run 2 "resume without dir" finetune "$M" "${COMMON[@]}" -o "$TMP/x.onnx" --resume &&
    has "$TMP/err" "--ckpt-dir" "resume message"
run 2 "missing model" finetune "$TMP/none.onnx" "${COMMON[@]}" -o "$TMP/x.onnx" &&
    has "$TMP/err" "none.onnx" "missing model message"
run 2 "missing data" finetune "$M" --task SST-2 --data "$TMP/nodata" --vocab "$VOCAB" -o "$TMP/x.onnx" &&
    has "$TMP/err" "nodata" "missing data message"
{ cat "$VOCAB"; for i in $(seq 1 40); do echo "extra$i"; done; } >"$TMP/big_vocab.txt"
run 2 "vocabulary larger than the model's" finetune "$M" --task SST-2 --data "$GLUE" \
    --vocab "$TMP/big_vocab.txt" -o "$TMP/x.onnx" --steps 1 &&
    has "$TMP/err" "word embeddings have 30 rows" "foreign vocabulary named"
run 2 "bad gemm" finetune "$M" "${COMMON[@]}" -o "$TMP/x.onnx" --gemm fast && has "$TMP/err" "--gemm" "bad gemm"

# ---- a recipe gives the task, data and the <prediction> stage's settings -------
cat >"$TMP/ft-recipe.xml" <<XML
<recipe version="1">
  <task>SST-2</task>
  <data>$GLUE</data>
  <vocab>$VOCAB</vocab>
  <prediction><steps>3</steps><batch>8</batch><max-seq>32</max-seq><lr>1e-3</lr></prediction>
</recipe>
XML
run 0 "finetune --recipe" finetune "$M" --recipe "$TMP/ft-recipe.xml" -o "$TMP/rec.onnx" \
    --no-eval --limit 64 --json --progress off &&
    json "j['task'] == 'SST-2' and j['steps'] == 3" "recipe's steps used"
run 0 "finetune --recipe, option overrides" finetune "$M" --recipe "$TMP/ft-recipe.xml" \
    -o "$TMP/rec.onnx" --no-eval --limit 64 --steps 2 --json --progress off &&
    json "j['steps'] == 2" "--steps overrides the recipe"
printf '<recipe version="1"><prediction><lr>fast</lr></prediction></recipe>\n' >"$TMP/bad-recipe.xml"
run 2 "finetune, bad recipe" finetune "$M" --recipe "$TMP/bad-recipe.xml" -o "$TMP/x.onnx" &&
    has "$TMP/err" "bad-recipe.xml:1: element 'lr'" "recipe error names line and element"

# ---- a real run: learns, checkpoints, plot, JSON progress ----------------------
run 0 "finetune SST-2" finetune "$M" "${COMMON[@]}" -o "$TMP/ft.onnx" --epochs 4 --lr 2e-3 \
    --warmup 0.1 --eval-every 20 --ckpt-dir "$TMP/ck" --plot "$TMP/curves.svg" --json &&
    json "j['task'] == 'SST-2' and j['steps'] == 80 and j['train_examples'] == 320 and
          j['dev_examples'] == 60 and j['best_dev'] >= 0.9 and not j['fresh_head'] and
          j['dev_metric'] == 'accuracy' and j['tokens_per_s'] > 0 and j['steady_tokens_per_s'] > 0" "finetune --json report"
cp "$TMP/out" "$TMP/ft.json"
cp "$TMP/err" "$TMP/ft.err"
has "$TMP/ft.err" '^\{"event":"step","step":80,"total":80,' "JSON progress lines (final step)"
has "$TMP/ft.err" '^\{"event":"eval","step":20,.*"dev":' "JSON eval lines"
has "$TMP/ft.err" '"event":"checkpoint".*best.ckpt' "best checkpoint written"
[ -s "$TMP/ck/last.ckpt" ] && [ -s "$TMP/ck/best.ckpt" ] && ok || bad "checkpoints missing"
has "$TMP/curves.svg" "^<svg" "plot is SVG"
has "$TMP/curves.svg" "<polyline" "plot has curves"

# ORT runs the written model with the interpreter's logits and the trainer's accuracy.
run 0 "eval --predictions" eval "$TMP/ft.onnx" --task SST-2 --data "$GLUE" --vocab "$VOCAB" \
    --max-seq 32 --predictions "$TMP/pred.jsonl" --progress off
"$DISTILC" tokenize --vocab "$VOCAB" --max-seq 32 \
    < <(tail -n +2 "$GLUE/SST-2/dev.tsv" | cut -f1) >"$TMP/tok.jsonl" 2>"$TMP/tok.err" || bad "tokenize"
if "$PY" - "$TMP" <<'PYEOF'
import json, sys
import numpy as np, onnxruntime as ort
t = sys.argv[1]
sess = ort.InferenceSession(t + "/ft.onnx", providers=["CPUExecutionProvider"])
names = [i.name for i in sess.get_inputs()]
toks = [json.loads(l) for l in open(t + "/tok.jsonl")]
preds = [json.loads(l) for l in open(t + "/pred.jsonl")]
gold = \
       [int(l.rstrip("\n").split("\t")[1]) for l in list(open(t + "/glue/SST-2/dev.tsv"))[1:]]
rep = json.load(open(t + "/ft.json"))
worst, correct = 0.0, 0
for k, (tk, pr) in enumerate(zip(toks, preds)):
    feed = {n: np.array([tk[n]], dtype=np.int64) for n in names}
    z = sess.run(None, feed)[0][0]
    worst = max(worst, float(np.abs(z - np.array(pr["logits"])).max()))
    correct += int(np.argmax(z) == gold[k])
acc = correct / len(gold)
print("ORT vs interpreter: worst logit diff %.3g; ORT accuracy %.4f, trainer best_dev %.4f"
      % (worst, acc, rep["best_dev"]))
sys.exit(0 if worst < 1e-4 and abs(acc - rep["best_dev"]) < 1e-9 and len(toks) == 60 else 1)
PYEOF
then ok; else bad "onnxruntime run of the fine-tuned model"; fi

# ---- fresh head; regression ------------------------------------------------
run 0 "fresh head" finetune "$TMP/m3/model.onnx" "${COMMON[@]}" -o "$TMP/fh.onnx" --steps 4 \
    --no-eval --json && json "j['fresh_head'] and j['steps'] == 4" "fresh head report"
has "$TMP/err" "head has 3 outputs, SST-2 needs 2: training a fresh head" "fresh head message"
if "$PY" -c "
import onnxruntime as ort, sys
s = ort.InferenceSession('$TMP/fh.onnx', providers=['CPUExecutionProvider'])
sys.exit(0 if s.get_outputs()[0].shape[-1] == 2 else 1)"; then ok; else bad "fresh head: output not 2 wide"; fi
run 0 "STS-B" finetune "$TMP/m1/model.onnx" --task stsb --data "$GLUE" --vocab "$VOCAB" \
    --max-seq 48 --batch 8 -o "$TMP/sts.onnx" --epochs 2 --lr 1e-3 --json &&
    json "j['task'] == 'STS-B' and j['dev_metric'] == 'combined_score' and
          j['best_dev'] is not None and j['steps'] == 20" "STS-B report"

# ---- stop + resume == one run, byte for byte ----------------------------------
R=(finetune "$M" "${COMMON[@]}" --steps 12 --lr 1e-3 --eval-every 4 --progress off)
run 0 "uninterrupted" "${R[@]}" -o "$TMP/u.onnx" --ckpt-dir "$TMP/cu"
run 0 "stop after 5" "${R[@]}" -o "$TMP/r.onnx" --ckpt-dir "$TMP/cr" --stop-after 5 &&
    has "$TMP/err" "stopped after step 5 of 12" "stop message"
[ ! -e "$TMP/r.onnx" ] && ok || bad "--stop-after wrote a model"
run 0 "resume" "${R[@]}" -o "$TMP/r.onnx" --ckpt-dir "$TMP/cr" --resume --json &&
    json "j['resumed_from'] == 5 and j['steps'] == 12" "resume report"
cmp -s "$TMP/u.onnx" "$TMP/r.onnx" && ok || bad "resumed model differs from the uninterrupted one"
run 2 "resume, other seed" "${R[@]}" -o "$TMP/r2.onnx" --ckpt-dir "$TMP/cr" --resume --seed 7 &&
    has "$TMP/err" "seed" "resume seed message"
R2=(finetune "$M" "${COMMON[@]}" --steps 12 --eval-every 4 --progress off -o "$TMP/r2.onnx"
    --ckpt-dir "$TMP/cr" --resume)
run 2 "resume, other lr" "${R2[@]}" --lr 2e-3 &&
    has "$TMP/err" "with --lr 0.001, this run has --lr 0.002" "resume lr message"
run 0 "resume a finished run" "${R2[@]}" --lr 1e-3 --json &&
    json "j['resumed_from'] == 12 and j['final_loss'] > 0" "resumed report keeps the final loss"
# the checkpoint records --gemm-precision (fp32 here): bf16 numbers would
# continue the run silently otherwise (a CPU without bf16 refuses bf16
# itself, first)
want="with --gemm-precision fp32, this run has --gemm-precision bf16"
has_bf16 || want="bf16 needs a CPU"
run 2 "resume, other gemm precision" "${R[@]}" -o "$TMP/r2.onnx" --ckpt-dir "$TMP/cr" \
    --resume --gemm-precision bf16 &&
    has "$TMP/err" "$want" "resume precision message"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

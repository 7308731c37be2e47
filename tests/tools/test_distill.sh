#!/usr/bin/env bash
# test_distill.sh — `distilc distill` end to end: a tiny teacher exported
# from PyTorch (tests/util/bert_export.py, 4 layers x 32), a tiny SST-2-style
# task and corpus this script writes, a few steps of each stage; then
# - the JSON report (stages, tokens/s, teacher and student dev metrics),
#   JSON-lines progress on piped stderr, plots and checkpoints per stage;
# - the student ONNX in onnxruntime matching `distilc run` (reference
#   interpreter and oneDNN runtime) to 1e-4 on a padded batch;
# - a recipe file with the command line overriding it; --resume (refused
#   with another --gemm-precision, --lr, --temperature or data, naming it);
# - kill -9 inside the intermediate stage, then --resume: the same student,
#   byte for byte, as a run never killed, and the report keeps the general
#   stage's final loss (issue 18);
#   random init with ALBERT sharing and factorized embeddings;
# - bad options: exit 2 and a message naming the option.
#
# Usage: test_distill.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_distill.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-distill-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"

# ---- fixtures ----------------------------------------------------------------
tiny_glue
"$PY" "$HERE/../util/bert_export.py" --out "$TMP/t" --layers 4 --hidden 32 --heads 4 \
    --ffn 64 --max-pos 64 --vocab 30 --seed 3 >/dev/null 2>"$TMP/export.err" ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
T=$TMP/t/model.onnx
COMMON=(--task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt" --batch 8 --max-seq 32)

# ---- three stages, JSON report, progress, plots, checkpoints ----------------
run 0 "distill --help" distill --help && has "$TMP/out" "--student" "distill --help"
run 0 "distill 3 stages" distill "$T" "${COMMON[@]}" \
    --student layers=2,hidden=16,heads=2,ffn=32 --corpus "$TMP/corpus.txt" \
    --steps 4 --ckpt-dir "$TMP/ck" --plot "$TMP/loss.svg" --json -o "$TMP/s.onnx" &&
    json "[s['stage'] for s in j['stages']] == ['general', 'intermediate', 'prediction']
          and all(s['steps'] == 4 and s['tokens_per_s'] > 0 and s['steady_tokens_per_s'] > 0 and s['final_loss'] >= 0
                  and s['student_gemm_s'] > 0 and s['student_gemm_gflop'] > 0
                  for s in j['stages'])
          and j['layer_map'] == [2, 4] and j['init'] == 'teacher'
          and 0 <= j['teacher_dev']['accuracy'] <= 1
          and 0 <= j['student_dev']['accuracy'] <= 1
          and j['student_params'] < j['teacher_params'] and j['dev_examples'] == 24" \
         "distill --json"
has "$TMP/err" '^\{"event":"step","stage":"intermediate","step":4,"total":4,' "progress JSON lines"
for st in general intermediate prediction; do
    if [ -s "$TMP/loss-$st.svg" ] && grep -q "<svg" "$TMP/loss-$st.svg"; then ok; else bad "plot $st"; fi
    if [ -s "$TMP/ck/$st/last.ckpt" ]; then ok; else bad "checkpoint $st"; fi
done
run 0 "distill --resume" distill "$T" "${COMMON[@]}" \
    --student layers=2,hidden=16,heads=2,ffn=32 --corpus "$TMP/corpus.txt" \
    --steps 4 --ckpt-dir "$TMP/ck" --resume --json -o "$TMP/s2.onnx" &&
    json "all(s['resumed_from'] == 4 for s in j['stages'])" "resume picks up every stage"
# (a CPU without bf16 refuses bf16 itself, first)
want="general/last.ckpt was written with --gemm-precision fp32, this run has --gemm-precision bf16"
has_bf16 || want="bf16 needs a CPU"
run 2 "distill --resume, other precision" distill "$T" "${COMMON[@]}" \
    --student layers=2,hidden=16,heads=2,ffn=32 --corpus "$TMP/corpus.txt" \
    --steps 4 --ckpt-dir "$TMP/ck" --resume --gemm-precision bf16 -o "$TMP/s3.onnx" &&
    has "$TMP/err" "$want" "resume names the precision option and both values"

run 2 "distill --resume, other --lr" distill "$T" "${COMMON[@]}" \
    --student layers=2,hidden=16,heads=2,ffn=32 --corpus "$TMP/corpus.txt" \
    --steps 4 --ckpt-dir "$TMP/ck" --resume --lr 1e-3 -o "$TMP/s3.onnx" &&
    has "$TMP/err" "was written with --lr 0.0001, this run has --lr 0.001" \
        "resume names --lr and both values"
run 2 "distill --resume, other temperature" distill "$T" "${COMMON[@]}" \
    --student layers=2,hidden=16,heads=2,ffn=32 --corpus "$TMP/corpus.txt" \
    --steps 4 --ckpt-dir "$TMP/ck" --resume --temperature 2 -o "$TMP/s3.onnx" &&
    has "$TMP/err" "prediction/last.ckpt was written with other loss settings" \
        "resume names the loss settings"
run 2 "distill --resume, other data" distill "$T" "${COMMON[@]}" \
    --student layers=2,hidden=16,heads=2,ffn=32 --corpus "$TMP/corpus.txt" \
    --steps 4 --ckpt-dir "$TMP/ck" --resume --limit 20 -o "$TMP/s3.onnx" &&
    has "$TMP/err" "general/last.ckpt was trained on other data" "resume names the data"
run 2 "distill --resume, no checkpoint" distill "$T" "${COMMON[@]}" \
    --student layers=2,hidden=16,heads=2,ffn=32 --steps 4 --ckpt-dir "$TMP/nock" --resume \
    -o "$TMP/s3.onnx" && has "$TMP/err" "resume: no checkpoint in .*nock" "no checkpoint named"

# ---- kill -9 inside the intermediate stage, then --resume --------------------
# (a checkpoint every 3 steps; the kill comes once the intermediate stage
# wrote its first one, so the prediction stage has none)
K=(distill "$T" "${COMMON[@]}" --student layers=2,hidden=16,heads=2,ffn=32
   --corpus "$TMP/corpus.txt" --steps 300 --threads 1 --json)
run 0 "distill, never killed" "${K[@]}" -o "$TMP/whole.onnx" && cp "$TMP/out" "$TMP/whole.json"
"$DISTILC" "${K[@]}" --ckpt-dir "$TMP/kck" --ckpt-every 3 -o "$TMP/killed.onnx" \
    >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 2000); do
    [ -e "$TMP/kck/intermediate/last.ckpt" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
done
{ kill -9 $pid && wait $pid; } 2>/dev/null
[ ! -e "$TMP/kck/prediction/last.ckpt" ] && ok ||
    bad "the kill came after the intermediate stage (the machine was too fast?)"
run 0 "distill --resume after kill -9" "${K[@]}" --ckpt-dir "$TMP/kck" --ckpt-every 3 \
    --resume -o "$TMP/killed.onnx"
cmp -s "$TMP/whole.onnx" "$TMP/killed.onnx" && ok ||
    bad "the resumed student differs from the one never killed"
"$PY" - "$TMP/whole.json" "$TMP/out" <<'PYEOF' && ok || bad "resumed report: final losses"
import json, sys
a, b = (json.load(open(f))["stages"] for f in sys.argv[1:])
print("final losses, never killed / resumed:",
      [(x["final_loss"], y["final_loss"], y["resumed_from"]) for x, y in zip(a, b)])
assert [x["final_loss"] for x in a] == [y["final_loss"] for y in b]
assert b[0]["resumed_from"] == 300 and b[0]["seconds"] > 0 and b[1]["resumed_from"] > 0
PYEOF

# ---- the student runs the same in onnxruntime and distilc ------------------
"$PY" - "$TMP" <<'PYEOF' || bad "input fixtures"
import sys, numpy as np, onnx
from onnx import numpy_helper
t = sys.argv[1]
ids = np.array([[2, 9, 12, 17, 3, 0, 0], [2, 5, 6, 7, 8, 21, 3]], dtype=np.int64)
mask = (ids != 0).astype(np.int64)
types = np.zeros_like(ids)
for name, a in (("input_ids", ids), ("attention_mask", mask), ("token_type_ids", types)):
    open("%s/%s.pb" % (t, name), "wb").write(numpy_helper.from_array(a, name).SerializeToString())
PYEOF
for be in ref onednn; do
    run 0 "run student ($be)" run "$TMP/s.onnx" --backend $be \
        --input "input_ids=$TMP/input_ids.pb" --input "attention_mask=$TMP/attention_mask.pb" \
        --input "token_type_ids=$TMP/token_type_ids.pb" --output-dir "$TMP/run-$be"
done
if "$PY" -c "import onnxruntime" 2>/dev/null; then
    if "$PY" - "$TMP" <<'PYEOF'
import sys, numpy as np, onnx, onnxruntime as ort
from onnx import numpy_helper
t = sys.argv[1]
feeds = {n: numpy_helper.to_array(onnx.load_tensor("%s/%s.pb" % (t, n)))
         for n in ("input_ids", "attention_mask", "token_type_ids")}
sess = ort.InferenceSession(t + "/s.onnx", providers=["CPUExecutionProvider"])
want = sess.run(["logits"], feeds)[0]
for be in ("ref", "onednn"):
    got = numpy_helper.to_array(onnx.load_tensor("%s/run-%s/output_0.pb" % (t, be)))
    diff = float(np.abs(got - want).max())
    print("student logits, onnxruntime vs distilc run --backend %s: max |diff| %.2e" % (be, diff))
    assert got.shape == want.shape == (2, 2) and diff <= 1e-4, diff
PYEOF
    then ok; else bad "student.onnx: onnxruntime vs distilc run"; fi
else
    echo "note: onnxruntime missing, ORT comparison skipped"
fi

# ---- a recipe, overridden by the command line ---------------------------------
cat >"$TMP/r.xml" <<EOF
<?xml version="1.0"?>
<recipe version="1">
  <task>SST-2</task>
  <data>glue</data>
  <vocab>vocab.txt</vocab>
  <student layers="2" hidden="32" heads="4" ffn="48"/>
  <layer-map>3,4</layer-map>
  <intermediate><steps>3</steps><batch>8</batch><max-seq>32</max-seq></intermediate>
  <prediction><steps>2</steps><batch>8</batch><max-seq>32</max-seq>
    <temperature>2</temperature></prediction>
</recipe>
EOF
run 0 "distill --recipe" distill "$T" --recipe "$TMP/r.xml" --json -o "$TMP/r.onnx" &&
    json "[(s['stage'], s['steps']) for s in j['stages']] == [('intermediate', 3), ('prediction', 2)]
          and j['layer_map'] == [3, 4]" "recipe stages"
run 0 "distill --recipe + overrides" distill "$T" --recipe "$TMP/r.xml" --steps 1 \
    --layer-map 1,2 --json -o "$TMP/r.onnx" &&
    json "[s['steps'] for s in j['stages']] == [1, 1] and j['layer_map'] == [1, 2]" \
         "command line overrides the recipe"

# ---- random init, ALBERT sharing, factorized embeddings ---------------------
run 0 "distill random shared factorized" distill "$T" "${COMMON[@]}" \
    --student layers=2,hidden=16,heads=2,ffn=32,embed=8 --share all --init random \
    --steps 2 --temperature 2 --json -o "$TMP/albert.onnx" &&
    json "j['init'] == 'random' and j['share'] == 'all' and len(j['stages']) == 2" "random init"

# ---- a regression teacher (STS-B): MSE prediction loss ---------------------
"$PY" "$HERE/../util/bert_export.py" --out "$TMP/ts" --layers 2 --hidden 32 --heads 4 \
    --ffn 64 --max-pos 64 --vocab 30 --labels 1 --seed 4 >/dev/null 2>"$TMP/export.err" ||
    bad "bert_export.py --labels 1"
run 0 "distill STS-B" distill "$TMP/ts/model.onnx" --task stsb --data "$TMP/glue" \
    --vocab "$TMP/vocab.txt" --student layers=1,hidden=16,heads=2,ffn=32 --steps 2 \
    --batch 8 --max-seq 32 --json -o "$TMP/sts.onnx" &&
    json "j['metric'] == 'combined_score' and j['layer_map'] == [2]
          and 'pearson' in j['student_dev']" "STS-B report"
run 2 "teacher head vs task" distill "$TMP/ts/model.onnx" "${COMMON[@]}" \
    --student layers=1,hidden=16,heads=2,ffn=32 --steps 1 -o "$TMP/x.onnx" &&
    has "$TMP/err" "has 1 outputs but SST-2 needs 2" "label mismatch named"
# a vocabulary of another model: refused before any training, naming both sizes
{ cat "$TMP/vocab.txt"; for i in $(seq 1 40); do echo "extra$i"; done; } >"$TMP/big_vocab.txt"
run 2 "vocabulary larger than the teacher's" distill "$T" --task sst2 --data "$TMP/glue" \
    --vocab "$TMP/big_vocab.txt" --student layers=1,hidden=16,heads=2,ffn=32 --steps 1 \
    -o "$TMP/x.onnx" && has "$TMP/err" "ids up to [0-9]+ but the model's word embeddings have 30 rows" \
    "foreign vocabulary named" && [ ! -e "$TMP/x.onnx" ] && ok

# ---- bad options: exit 2 naming the option -------------------------------------
S=(distill "$T" "${COMMON[@]}" --steps 1 -o "$TMP/x.onnx")
run 2 "spec that does not parse" "${S[@]}" --student layers=2,hidden=16 &&
    has "$TMP/err" "--student: .*missing heads" "bad spec named"
run 2 "heads not dividing hidden" "${S[@]}" --student layers=2,hidden=16,heads=3,ffn=32 &&
    has "$TMP/err" "--student: .*heads = 3 does not divide hidden = 16" "heads named"
run 2 "groups not dividing layers" "${S[@]}" --student layers=3,hidden=16,heads=2,ffn=32 \
    --share groups:2 && has "$TMP/err" "--share groups:2 does not divide" "groups named"
run 2 "unknown share" "${S[@]}" --student layers=2,hidden=16,heads=2,ffn=32 --share some &&
    has "$TMP/err" "--share: unknown sharing 'some'" "share named"
run 2 "bad init" "${S[@]}" --student layers=2,hidden=16,heads=2,ffn=32 --init zeros &&
    has "$TMP/err" "--init 'zeros'" "init named"
run 2 "bad layer map" "${S[@]}" --student layers=2,hidden=16,heads=2,ffn=32 --layer-map 2,9 &&
    has "$TMP/err" "--layer-map: .*'9' is not a teacher layer in 1..4" "layer map named"
run 2 "wider than the teacher" "${S[@]}" --student layers=2,hidden=64,heads=4,ffn=32 &&
    has "$TMP/err" "--init random" "wider student hint"
run 2 "bad temperature" "${S[@]}" --student layers=2,hidden=16,heads=2,ffn=32 --temperature 0 &&
    has "$TMP/err" "--temperature '0'" "temperature named"
printf '<recipe version="1">\n<prediction><lr>fast</lr></prediction>\n</recipe>\n' >"$TMP/bad.xml"
run 2 "bad recipe" distill "$T" --recipe "$TMP/bad.xml" -o "$TMP/x.onnx" &&
    has "$TMP/err" "bad.xml:2: element 'lr'" "recipe error names line and element"
run 2 "missing teacher" "${S[@]}" --student layers=2,hidden=16,heads=2,ffn=32 -- "$TMP/nope.onnx"
run 2 "no student" distill "$T" --task sst2 --data "$TMP/glue" -o "$TMP/x.onnx" &&
    has "$TMP/err" "--student" "missing --student named"

echo "test_distill: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

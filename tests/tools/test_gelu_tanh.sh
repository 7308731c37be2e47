#!/usr/bin/env bash
# test_gelu_tanh.sh — a teacher whose FFN uses tanh GELU (Hugging Face's
# gelu_new, exported by tests/util/bert_export.py --act gelu_new) through
# the trainer, end to end:
# - `distilc distill` (all three stages) writes a student that keeps the
#   teacher's activation: its ONNX has the tanh form (a Tanh per layer
#   besides the pooler's, no Erf) and runs in onnxruntime with the logits
#   of `distilc run` (reference interpreter and oneDNN runtime) to 1e-4 on
#   a padded batch;
# - `distilc finetune` likewise (the same checks on the fine-tuned model),
#   and `distilc compress` (its supernet, search and student keep it too);
# - int8 calibration (`distilc build --precision int8 --calibrate`, which
#   runs the trainer's forward) takes the student, and the program's
#   logits stay within 0.1 of fp32 (the bound tests/backend's int8 builds
#   use).
#
# Usage: test_gelu_tanh.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch,
# onnx and onnxruntime.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_gelu_tanh.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx, onnxruntime" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch, onnx and onnxruntime"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-gelu-tanh-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"

# ---- fixtures: the tiny GLUE task, a 2-layer gelu_new teacher ----------------
tiny_glue
"$PY" "$HERE/../util/bert_export.py" --out "$TMP/t" --layers 2 --hidden 32 --heads 4 \
    --ffn 64 --max-pos 64 --vocab 30 --seed 5 --act gelu_new >/dev/null 2>"$TMP/export.err" ||
    { echo "FAIL: bert_export.py --act gelu_new"; cat "$TMP/export.err"; exit 1; }
T=$TMP/t/model.onnx
COMMON=(--task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt" --batch 8 --max-seq 32)

# ---- distill and finetune through the trainer ----------------------------------
run 0 "distill a gelu_new teacher" distill "$T" "${COMMON[@]}" \
    --student layers=1,hidden=16,heads=2,ffn=32 --corpus "$TMP/corpus.txt" \
    --steps 3 --json --progress off -o "$TMP/s.onnx" &&
    json "[s['stage'] for s in j['stages']] == ['general', 'intermediate', 'prediction']
          and all(s['steps'] == 3 and s['final_loss'] >= 0 for s in j['stages'])" \
         "distill: three stages"
run 0 "finetune a gelu_new model" finetune "$T" "${COMMON[@]}" --steps 4 --json \
    --progress off -o "$TMP/ft.onnx" &&
    json "j['steps'] == 4 and j['final_loss'] >= 0" "finetune report"

# ---- compress: the supernet is the teacher, every candidate keeps its GELU -----
search_fixture "$TMP/ct" 5 --act gelu_new ||
    { echo "FAIL: bert_export.py (search fixture)"; cat "$TMP/export.err"; exit 1; }
run 0 "compress a gelu_new teacher" compress "$TMP/ct/model.onnx" --task sst2 \
    --data "$TMP/glue" --vocab "$TMP/vocab.txt" --space "$TMP/space.xml" \
    --cache "$TMP/latency.json" --steps 2 --supernet-steps 4 --budget-minutes 0.1 \
    --progress off -o "$TMP/co" && cp "$TMP/co/student.onnx" "$TMP/co.onnx"

# ---- int8 calibration runs the trainer's forward ------------------------------
cat >"$TMP/calib.jsonl" <<'EOF'
{"input_ids": [2, 9, 12, 17, 3, 0, 0], "attention_mask": [1, 1, 1, 1, 1, 0, 0], "token_type_ids": [0, 0, 0, 0, 0, 0, 0]}
{"input_ids": [2, 5, 6, 7, 8, 21, 3], "attention_mask": [1, 1, 1, 1, 1, 1, 1], "token_type_ids": [0, 0, 0, 0, 0, 0, 0]}
EOF
run 0 "build int8 --calibrate" build "$TMP/s.onnx" -o "$TMP/b8" --precision int8 \
    --calibrate "$TMP/calib.jsonl" --progress off &&
    json "j['calibrated_tokens'] == 12 and j['precision'] == 'int8'" "calibrated on the real tokens"

# ---- the written models: tanh GELU kept, ORT = distilc run, int8 close ----------
if "$PY" - "$TMP" "$DISTILC" "$HERE/../util" <<'PYEOF'; then ok; else bad "gelu_new models: see above"; fi
import json, os, subprocess, sys
import numpy as np, onnx
tmp, distilc = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
import model_util as mu
checks = mu.Checks()
feeds = [json.loads(line) for line in open(os.path.join(tmp, "calib.jsonl"))]
inputs = [(n, np.array([f[n] for f in feeds], dtype=np.int64))
          for n in ("input_ids", "attention_mask", "token_type_ids")]
fp32 = {}
# compress picks the student's depth (and maybe sharing): at least one layer
for name, layers in (("s", 1), ("ft", 2), ("co", None)):
    model = os.path.join(tmp, name + ".onnx")
    ops = [n.op_type for n in onnx.load(model).graph.node]
    tanh_ok = ops.count("Tanh") == layers + 1 if layers else ops.count("Tanh") >= 2
    checks.check("Erf" not in ops and tanh_ok,
                 f"{name}.onnx: want tanh GELU in each of {layers} layers, no Erf "
                 f"(Erf {ops.count('Erf')}, Tanh {ops.count('Tanh')})")
    want = mu.ort_run(model, inputs, ["logits"])[0]
    for be in ("ref", "onednn"):
        outs, r = mu.run_model(mu.Distilc(distilc), model, inputs,
                               os.path.join(tmp, f"run-{name}-{be}"), "--backend", be)
        got = outs[0] if outs else None
        diff = mu.max_diff(got, want)
        print(f"  {name}.onnx logits, onnxruntime vs distilc run --backend {be}: "
              f"max |diff| {diff:.2e} (bound 1e-4)")
        checks.check(diff <= 1e-4, f"{name}.onnx --backend {be}: {diff:.3g} "
                     f"{r.stderr[-500:]}")
    fp32[name] = want
r = subprocess.run([os.path.join(tmp, "b8", "model")], input=open(
    os.path.join(tmp, "calib.jsonl")).read(), capture_output=True, text=True)
rows = [json.loads(line)["logits"] for line in r.stdout.splitlines()]
diff = mu.max_diff(np.array(rows), fp32["s"]) if r.returncode == 0 else float("inf")
print(f"  s.onnx int8 calibrated program vs fp32: max |diff| {diff:.3g} (bound 0.1)")
checks.check(diff <= 0.1, f"int8 program: {diff:.3g} {r.stderr[-500:]}")
sys.exit(checks.finish("gelu_new models"))
PYEOF

finish test_gelu_tanh.sh

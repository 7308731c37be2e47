#!/usr/bin/env bash
# demo.sh — installs what is needed, builds distilc, makes a small BERT
# classifier with PyTorch (tests/py/bert_export.py), then shows
# `distilc inspect` and `distilc run` on it next to PyTorch's logits.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
B=${BUILD_DIR:-build}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j2 >/dev/null
D=$B/demo
rm -rf "$D"
mkdir -p "$D"

echo "== a small BERT classifier, exported from PyTorch (opset 14)"
/usr/bin/python3 tests/py/bert_export.py --out "$D/bert" --opset 14 --layers 2 \
    --hidden 64 --heads 4 --ffn 128 --batch 2 --seq 16 >/dev/null
echo
echo "== distilc inspect $D/bert/model.onnx --seq 16"
"$B"/distilc inspect "$D/bert/model.onnx" --seq 16
echo
echo "== distilc run (reference interpreter)"
T="$D/bert/test_data_set_0"
"$B"/distilc run "$D/bert/model.onnx" \
    --input "input_ids=$T/input_0.pb" --input "attention_mask=$T/input_1.pb" \
    --input "token_type_ids=$T/input_2.pb" --output-dir "$D/out"
/usr/bin/python3 - "$D/out/output_0.pb" "$T/output_0.pb" <<'PY'
import sys, numpy as np, onnx
from onnx import numpy_helper
got, want = (numpy_helper.to_array(onnx.load_tensor(p)) for p in sys.argv[1:])
np.set_printoptions(precision=5, suppress=True)
print("distilc logits:\n", got)
print("torch logits:\n", want)
print(f"max |difference| = {np.abs(got - want).max():.2e}")
PY

#!/usr/bin/env bash
# Builds distilc in Release (BUILD_DIR, default build-rel) and runs
# bench/bench_runtime.py: the oneDNN runtime against ONNX Runtime on
# BERT-base (seq 128 batch 1, seq 32 batch 8) and TinyBERT-4 (seq 128
# batch 1). Extra arguments go to the script, e.g.
#   bench/bench_runtime.sh --threads 2 --shapes tinybert4-s128-b1
# Run it on a quiet machine: the numbers are only as good as the idle cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-rel}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target distilc >/dev/null
# ONNX Runtime's quantize_dynamic needs onnx >= 1.13, newer than Debian's
# 1.12 that the tests use: the peer runs in a virtual environment of its own.
venv=${ORT_VENV:-$HOME/.cache/distilc-bench/ort-venv}
if ! "$venv/bin/python" -c "import onnxruntime.quantization, onnx" 2>/dev/null; then
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet onnxruntime onnx
fi
exec "$venv/bin/python" "$root/bench/bench_runtime.py" --distilc "$build/distilc" "$@"

#!/usr/bin/env bash
# Builds distilc in Release (BUILD_DIR, default build-rel) and runs
# bench/bench_load.py: distilc and ONNX Runtime, quiet and with one other
# CPU-bound process, at 1 and 2 threads. Extra arguments go to the script.
# Run nothing else meanwhile: the competitor must be the only other job.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-rel}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target distilc >/dev/null
exec /usr/bin/python3 "$root/bench/bench_load.py" --distilc "$build/distilc" "$@"

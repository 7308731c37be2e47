#!/usr/bin/env bash
# Measures `distilc distill` throughput (non-padding tokens per second) for
# the DESIGN.md reference shape: teacher 6x384 (12 heads, FFN 1536,
# vocabulary 30522, random weights from tests/util/bert_export.py) -> student
# 4x312 (12 heads, FFN 1200), batch 32 x seq 64, in two settings:
#   general   a corpus of full 64-token lines (SST-2 train text run
#             together), so every step is 32 x 64 real tokens: the setting
#             of PyTorch's ~1,150 tokens/s for one TinyBERT step (DESIGN.md)
#   task      intermediate + prediction on the first 2000 SST-2 train
#             sentences (short: dynamic padding, ~1/5 of the tokens a step)
# Each line shows the seconds inside the loss fn (student forward, teacher
# forward, loss terms); the rest of a step is backward and AdamW.
#
#   bench/distill_throughput.sh [STEPS] [THREADS]     (default 20, 2)
# Needs torch (for the teacher), /work/shared/glue and /work/shared/vocab
# (or DISTILC_SHARED). Builds Release in BUILD_DIR (default build-rel).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-rel}
shared=${DISTILC_SHARED:-$root/../shared}
steps=${1:-20}
threads=${2:-2}
if [ -z "${SKIP_BUILD:-}" ]; then # SKIP_BUILD=1: use $build/distilc as it is
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j2 --target distilc >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/tests/util/bert_export.py" --out "$work/t" --layers 6 \
    --hidden 384 --heads 12 --ffn 1536 --vocab 30522 --max-pos 128 --seed 0 \
    >/dev/null 2>&1
# 64-token lines: SST-2 sentences run together, 80 words a line
/usr/bin/python3 - "$shared/glue/SST-2/train.tsv" "$work/corpus.txt" "$((steps * 32 + 64))" <<'PYEOF'
import sys
words = " ".join(l.split("\t")[0] for l in list(open(sys.argv[1]))[1:20001]).split()
with open(sys.argv[2], "w") as f:
    for i in range(int(sys.argv[3])):
        f.write(" ".join(words[i * 80:(i + 1) * 80]) + "\n")
PYEOF
printf '<recipe version="1"><intermediate skip="true"/><prediction skip="true"/></recipe>\n' \
    >"$work/general-only.xml"
report='
import json, sys
j = json.load(sys.stdin)
for s in j["stages"]:
    print("%-13s %4d steps  %7.0f tokens/s  %6.1f s  (student fwd %.1f, teacher %.1f, "
          "loss %.1f)" % (s["stage"], s["steps"], s["tokens_per_s"], s["seconds"],
          s["student_forward_s"], s["teacher_s"], s["loss_terms_s"]))
print("teacher engine %s, dev %s teacher %.4f student %.4f" % (j["teacher_engine"],
      j["metric"], j["teacher_dev"][j["metric"]], j["student_dev"][j["metric"]]))'
common=(--task sst2 --data "$shared/glue" --vocab "$shared/vocab/bert-base-uncased-vocab.txt"
        --student layers=4,hidden=312,heads=12,ffn=1200 --steps "$steps" --batch 32
        --max-seq 64 --dev-limit 200 --threads "$threads" --progress off --json)
echo "general (32 x 64 real tokens a step):"
"$build/distilc" distill "$work/t/model.onnx" "${common[@]}" --recipe "$work/general-only.xml" \
    --corpus "$work/corpus.txt" -o "$work/g.onnx" | /usr/bin/python3 -c "$report"
echo "task (SST-2 sentences, dynamic padding):"
"$build/distilc" distill "$work/t/model.onnx" "${common[@]}" --limit 2000 \
    -o "$work/s.onnx" | /usr/bin/python3 -c "$report"
uptime

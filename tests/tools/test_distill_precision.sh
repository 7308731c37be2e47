#!/usr/bin/env bash
# test_distill_precision.sh — the speed options of `distilc distill` and
# `distilc finetune`: --teacher-precision bf16 (the teacher's matmuls on the
# oneDNN runtime in bf16) and --gemm-precision bf16 (the student's GEMMs
# with bf16 operands). On a tiny teacher exported from PyTorch:
# - both reported in the JSON, training runs, and the first-step losses
#   (same weights, same batch) stay within 5% of the fp32 run's;
# - finetune --gemm-precision bf16 runs and reports it;
# - bad values and contradictions exit 2 naming the option.
# Skips when torch/onnx are missing, or bf16 when the CPU has none.
#
# Usage: test_distill_precision.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_distill_precision.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-prec-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"

tiny_glue
"$PY" "$HERE/../util/bert_export.py" --out "$TMP/t" --layers 2 --hidden 64 --heads 4 \
    --ffn 128 --max-pos 64 --vocab 30 --seed 5 >/dev/null 2>"$TMP/export.err" ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
T=$TMP/t/model.onnx
COMMON=(--task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt" --batch 8 --max-seq 32
        --student layers=2,hidden=32,heads=2,ffn=64 --steps 2 --json --progress off)

run 0 "distill fp32" distill "$T" "${COMMON[@]}" -o "$TMP/s32.onnx" &&
    json "j['teacher_precision'] == 'fp32' and j['gemm_precision'] == 'fp32'" "fp32 reported" &&
    cp "$TMP/out" "$TMP/fp32.json"
# The bf16 runs are the ctest case test_cli_distill_precision.bf16; where
# the CPU has no bf16 the clear refusal is checked and the part skipped.
if ! part bf16; then
    :
elif ! has_bf16; then
    run 2 "bf16 refused without the CPU for it" distill "$T" "${COMMON[@]}" \
        --teacher-precision bf16 --gemm-precision bf16 -o "$TMP/s16.onnx" &&
        has "$TMP/err" "bf16 needs a CPU" "the refusal says why"
    part_only && finish_skipped test_distill_precision.sh \
        "bf16: this CPU has no native bf16 (AVX512-BF16 or AMX)"
else
    "$DISTILC" distill "$T" "${COMMON[@]}" --teacher-precision bf16 --gemm-precision bf16 \
        -o "$TMP/s16.onnx" >"$TMP/out" 2>"$TMP/err"
    st=$?
    if [ $st -eq 0 ]; then ok; else bad "distill bf16: exit $st"; cat "$TMP/err"; fi
    json "j['teacher_precision'] == 'bf16' and j['gemm_precision'] == 'bf16'" "bf16 reported"
    # the same weights see the same first batch: the losses of a 2-step run
    # differ only by bf16 rounding (final_loss is the last step's)
    "$PY" - "$TMP/fp32.json" "$TMP/out" <<'PYEOF' && ok || bad "bf16 losses far from fp32"
import json, math, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for sa, sb in zip(a["stages"], b["stages"]):
    la, lb = sa["final_loss"], sb["final_loss"]
    print("%s: fp32 %.6g, bf16 %.6g" % (sa["stage"], la, lb))
    assert math.isfinite(lb) and abs(la - lb) <= 0.05 * abs(la) + 1e-3, (la, lb)
PYEOF
    "$PY" "$HERE/../util/bert_export.py" --out "$TMP/ft" --layers 2 --hidden 32 --heads 2 \
        --ffn 64 --max-pos 64 --vocab 30 --seed 6 >/dev/null 2>&1
    run 0 "finetune bf16" finetune "$TMP/ft/model.onnx" --task sst2 --data "$TMP/glue" \
        --vocab "$TMP/vocab.txt" --batch 8 --max-seq 32 --steps 2 --no-eval --json \
        --progress off --gemm-precision bf16 -o "$TMP/ft.onnx" &&
        json "j['gemm_precision'] == 'bf16' and j['final_loss'] > 0" "finetune bf16 reported"
fi

part_only && finish test_distill_precision.sh

S=(distill "$T" "${COMMON[@]}" -o "$TMP/x.onnx")
run 2 "bad teacher precision" "${S[@]}" --teacher-precision fp16 &&
    has "$TMP/err" "--teacher-precision 'fp16'" "teacher precision named"
run 2 "bad gemm precision" "${S[@]}" --gemm-precision half &&
    has "$TMP/err" "--gemm-precision 'half'" "gemm precision named"
run 2 "bf16 teacher on the trainer engine" "${S[@]}" --teacher-precision bf16 \
    --teacher-engine trainer && has "$TMP/err" "--teacher-engine" "engine conflict named"
run 2 "finetune bad gemm precision" finetune "$T" --task sst2 --data "$TMP/glue" \
    --gemm-precision int4 -o "$TMP/x.onnx" && has "$TMP/err" "--gemm-precision 'int4'" "named"
run 2 "finetune bf16 with --gemm ref" finetune "$T" --task sst2 --data "$TMP/glue" \
    --gemm ref --gemm-precision bf16 -o "$TMP/x.onnx" && has "$TMP/err" "--gemm ref" "named"
finish test_distill_precision.sh

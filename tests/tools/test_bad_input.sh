#!/usr/bin/env bash
# test_bad_input.sh — the distilc command on bad input: every case must exit
# with the documented status and a message naming the problem, never crash
# (under the sanitizer build a report makes the process exit non-zero with
# a different status, which fails the case).
#
# Usage: test_bad_input.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
#
# Exit statuses checked (see `distilc --help`): 2 for bad input or usage,
# including a model or input file that does not exist (the user named a file
# that is not there); 1 is kept for failures on valid input (e.g. a read
# error on an existing file).
#
# Fixtures are made here with the onnx Python package (parts that need it are
# skipped, with a note, when /usr/bin/python3 cannot import onnx).
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_bad_input.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-bad-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

# expect STATUS PATTERN -- distilc ARGS...: runs distilc, checks the exit
# status and that stderr matches PATTERN (extended regex, case-insensitive).
expect() {
    local want=$1 pattern=$2 what=$3
    shift 3
    "$DISTILC" "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    if [ "$got" -eq "$want" ] && grep -qiE -- "$pattern" "$TMP/err" &&
        ! grep -q "Sanitizer\|runtime error" "$TMP/err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $what: exit $got (want $want), stderr:"
        sed 's/^/    /' "$TMP/err"
    fi
}

# ---- usage ---------------------------------------------------------------
expect 2 "unknown command 'frobnicate'" "unknown command" frobnicate
expect 2 "unknown option '--frobnicate'" "bad option" inspect --frobnicate x.onnx
expect 2 "--seq expects a positive integer" "bad --seq value" inspect x.onnx --seq abc
expect 2 "--output-dir needs a value|option --output-dir" "option without value" run x.onnx --output-dir
expect 2 "expected one MODEL.onnx" "no model" inspect
for cmd in inspect run export-onnx; do
    if "$DISTILC" "$cmd" --help >"$TMP/out" 2>&1 && grep -q "usage: distilc $cmd" "$TMP/out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL: distilc $cmd --help"
    fi
done

# ---- files that are not models -------------------------------------------
expect 2 "no such file" "missing model file" inspect "$TMP/does-not-exist.onnx"
expect 2 "no such file" "missing model file (run)" run "$TMP/does-not-exist.onnx" --output-dir "$TMP/o"
: >"$TMP/empty.onnx"
expect 2 "empty\.onnx" "empty file" inspect "$TMP/empty.onnx"
LC_ALL=C awk 'BEGIN { srand(7); for (i = 0; i < 4096; i++) printf "%c", int(rand() * 255) + 1 }' \
    >"$TMP/random.onnx"
expect 2 "random\.onnx" "random bytes" inspect "$TMP/random.onnx"

if ! "$PY" -c "import onnx, numpy" 2>/dev/null; then
    echo "note: python onnx/numpy missing, model fixtures skipped"
else
    "$PY" - "$TMP" <<'PYEOF' || { echo "FAIL: fixture generation"; fail=$((fail + 1)); }
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
tmp = sys.argv[1]
def model(nodes, opset, domain_opsets=(), name="m"):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])
    g = helper.make_graph(nodes, name, [x], [y])
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in domain_opsets]
    m = helper.make_model(g, opset_imports=ops, producer_name="test_bad_input")
    m.ir_version = 8
    return m
onnx.save(model([helper.make_node("Relu", ["x"], ["y"], name="relu0")], 14), f"{tmp}/relu.onnx")
onnx.save(model([helper.make_node("FrobnicateOp", ["x"], ["y"], name="frob0")], 14), f"{tmp}/unknown_op.onnx")
onnx.save(model([helper.make_node("MultiHeadAttention", ["x"], ["y"], name="mha0", domain="com.microsoft")], 14,
                [("com.microsoft", 1)]), f"{tmp}/ms_op.onnx")
onnx.save(model([helper.make_node("Relu", ["x"], ["y"], name="relu0")], 99), f"{tmp}/opset99.onnx")
onnx.save_tensor(numpy_helper.from_array(np.ones((2, 3), np.float32), "x"), f"{tmp}/x_ok.pb")
onnx.save_tensor(numpy_helper.from_array(np.ones((2, 4), np.float32), "x"), f"{tmp}/x_shape.pb")
onnx.save_tensor(numpy_helper.from_array(np.ones((2, 3), np.int64), "x"), f"{tmp}/x_dtype.pb")
onnx.save_tensor(numpy_helper.from_array(np.ones((6,), np.float32), "x"), f"{tmp}/x_rank.pb")
data = open(f"{tmp}/relu.onnx", "rb").read()
open(f"{tmp}/truncated.onnx", "wb").write(data[: len(data) * 2 // 3])
PYEOF
    if [ -f "$TMP/relu.onnx" ]; then
        expect 2 "truncated\.onnx" "truncated model" inspect "$TMP/truncated.onnx"
        expect 2 "x_ok\.pb|not.*model|parse" ".pb that is not a model" inspect "$TMP/x_ok.pb"
        expect 2 "FrobnicateOp" "unknown op (run)" run "$TMP/unknown_op.onnx" --input "x=$TMP/x_ok.pb" --output-dir "$TMP/o"
        expect 2 "MultiHeadAttention" "com.microsoft op outside the table (export)" export-onnx "$TMP/ms_op.onnx" -o "$TMP/o.onnx"
        expect 2 "opset 99" "unsupported opset" inspect "$TMP/opset99.onnx"
        expect 2 "input 'x'.*axis 1" ".pb whose shape does not fit" run "$TMP/relu.onnx" --input "x=$TMP/x_shape.pb" --output-dir "$TMP/o"
        expect 2 "input 'x'.*dtype" ".pb whose dtype does not fit" run "$TMP/relu.onnx" --input "x=$TMP/x_dtype.pb" --output-dir "$TMP/o"
        expect 2 "input 'x'.*rank" ".pb whose rank does not fit" run "$TMP/relu.onnx" --input "x=$TMP/x_rank.pb" --output-dir "$TMP/o"
        expect 2 "input 'x'" "model used as an input .pb" run "$TMP/relu.onnx" --input "x=$TMP/relu.onnx" --output-dir "$TMP/o"
        expect 2 "missing input 'x'" "missing input" run "$TMP/relu.onnx" --output-dir "$TMP/o"
        expect 2 "'nope' is not an input" "unknown input name" run "$TMP/relu.onnx" --input "x=$TMP/x_ok.pb" --input "nope=$TMP/x_ok.pb" --output-dir "$TMP/o"
        expect 2 "no such file" "missing input file" run "$TMP/relu.onnx" --input "x=$TMP/nope.pb" --output-dir "$TMP/o"
        expect 2 "onednn backend: input 'x'" "model the onednn backend cannot run" run "$TMP/relu.onnx" --input "x=$TMP/x_ok.pb" --output-dir "$TMP/o" --backend onednn
        expect 2 "unknown backend 'tpu'" "unknown backend" run "$TMP/relu.onnx" --input "x=$TMP/x_ok.pb" --output-dir "$TMP/o" --backend tpu
        # and the good path still works
        if "$DISTILC" run "$TMP/relu.onnx" --input "x=$TMP/x_ok.pb" --output-dir "$TMP/o" >/dev/null 2>"$TMP/err" &&
            [ -f "$TMP/o/output_0.pb" ]; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1)); echo "FAIL: good run"; cat "$TMP/err"
        fi
        if "$DISTILC" inspect "$TMP/ms_op.onnx" --json >"$TMP/out" 2>"$TMP/err" &&
            grep -q '"unsupported_ops":\["com.microsoft.MultiHeadAttention"\]' "$TMP/out"; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1)); echo "FAIL: inspect lists unsupported ops"; cat "$TMP/out" "$TMP/err"
        fi
    fi
fi

# ---- the CPU cap: an unknown DISTILC_MAX_ISA is a usage error of every
# command, named with the choices; a known one is reported by `system`
DISTILC_MAX_ISA=avx1024 expect 2 "DISTILC_MAX_ISA=avx1024 is not an instruction set.*avx2" \
    "unknown ISA cap" system
DISTILC_MAX_ISA=avx1024 expect 2 "DISTILC_MAX_ISA=avx1024" "unknown ISA cap, other command" \
    inspect "$TMP/none.onnx"
expect 2 "unexpected argument" "system takes no argument" system extra
if DISTILC_MAX_ISA=baseline "$DISTILC" system --json >"$TMP/out" 2>"$TMP/err" &&
    /usr/bin/python3 -c "import json,sys; j=json.load(open('$TMP/out')); \
sys.exit(0 if j['level'] == 'baseline' and not j['bf16'] and not j['int8_vnni'] \
and j['int8_weight_bits'] == 7 else 1)" 2>/dev/null; then
    pass=$((pass + 1))
else
    fail=$((fail + 1)); echo "FAIL: system --json capped at the baseline:"; cat "$TMP/out" "$TMP/err"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

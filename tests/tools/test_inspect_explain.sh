#!/usr/bin/env bash
# test_inspect_explain.sh — `distilc inspect MODEL --explain` says why a model
# does or does not become the encoder that run --backend onednn, build,
# distill and compress work on (issue 16): each fusion pass of
# "default,fuse" with its fused blocks and, per declined one, the node, what
# the pass looked for and where the pattern broke; then the encoder lift's
# verdict, with the layer, node and expectation when it refuses.
# - A BERT (tests/util/bert_export.py) fuses fully: 2 attention blocks, no
#   decline anywhere, the lift takes it (2 layers, hidden 32, 4 heads).
# - The same BERT whose layer 1 adds a learned per-head bias to its scores
#   (--score-scale-layer 1, the shape of MPNet's relative position bias):
#   fuse-attention fuses layer 0 and declines layer 1 at its Softmax,
#   naming the Add; the lift refuses at layer 0, naming the node; text and
#   --json say the same, and `run --backend onednn` refuses the model with
#   the same node and reason.
# - An MPNet (tests/util/families.py, when transformers is there): the
#   explanation agrees with `run --backend onednn` — lift ok exactly when
#   that runs, and a refusal names the declined Softmax nodes it reports.
# - A model with an op distilc lacks stops at the loader (stage "load"),
#   still exit 0; inspect without --explain prints no "explain".
#
# Usage: test_inspect_explain.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips (exit 77) when /usr/bin/python3 cannot import torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_inspect_explain.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-explain-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"

export_bert() { # DIR [ARGS...]
    local dir=$1
    shift
    "$PY" "$HERE/../util/bert_export.py" --out "$dir" --layers 2 --hidden 32 --heads 4 \
        --ffn 64 --seed 4 "$@" >/dev/null 2>"$TMP/export.err" ||
        { echo "FAIL: bert_export.py $*"; cat "$TMP/export.err"; exit 1; }
}

# run_onednn DIR: distilc run --backend onednn on DIR's inputs (out/err in $TMP).
run_onednn() {
    local dir=$1 args=() k=0
    for n in $("$PY" -c "import json,sys; print(' '.join(json.load(open(sys.argv[1]))['inputs']))" \
                 "$dir/config.json"); do
        args+=(--input "$n=$dir/test_data_set_0/input_$k.pb")
        k=$((k + 1))
    done
    "$DISTILC" run "$dir/model.onnx" --backend onednn "${args[@]}" \
        --output-dir "$dir/run" >"$TMP/run.out" 2>"$TMP/run.err"
}

# ---- a BERT fuses fully and lifts ---------------------------------------------
export_bert "$TMP/bert"
run 0 "explain bert (text)" inspect "$TMP/bert/model.onnx" --explain &&
    has "$TMP/out" '^explain \(passes "default,fuse"' "bert: explain section" &&
    has "$TMP/out" '^  fuse-attention +2 fused$' "bert: both attention blocks fused" &&
    has "$TMP/out" '^encoder lift: ok: 2 layers, hidden 32, 4 heads' "bert: lift ok"
if grep -q "declined" "$TMP/out"; then bad "bert: a decline reported"; sed 's/^/    /' "$TMP/out"; else ok; fi
run 0 "explain bert (json)" inspect "$TMP/bert/model.onnx" --explain --json &&
    json "[p['pass'] for p in j['explain']['fusion']] == ['fuse-ms-ops', 'fuse-layer-norm',
          'fuse-gelu', 'fuse-embed-layer-norm', 'fuse-attention', 'fuse-linear',
          'fuse-add-layer-norm']
          and all(p['declined'] == 0 and p['declines'] == [] for p in j['explain']['fusion'])
          and {p['pass']: p['fused'] for p in j['explain']['fusion']}['fuse-attention'] == 2
          and j['explain']['lift'] == {'ok': True, 'stage': 'ok', 'layers': 2, 'hidden': 32,
              'heads': 4, 'ffn': 64, 'vocab': 100, 'labels': 2, 'activation': 'gelu',
              'positions': 'absolute', 'head': 'classification'}" "bert: explain json"
run 0 "inspect bert without --explain" inspect "$TMP/bert/model.onnx" --json &&
    json "'explain' not in j and j['parameters'] > 0" "no explain unless asked"

# ---- a scale on layer 1's scores: declined there, the lift stops ----------------
export_bert "$TMP/bias" --score-scale-layer 1
run 0 "explain score bias (text)" inspect "$TMP/bias/model.onnx" --explain &&
    has "$TMP/out" '^  fuse-attention +1 fused, 1 declined$' "bias: one block declined" &&
    has "$TMP/out" "^    declined at node '/layers.1/attention/Softmax' \(Softmax\)$" \
        "bias: the declined node" &&
    has "$TMP/out" '^      looked for: self-attention: .*Softmax' "bias: what the pass looked for" &&
    has "$TMP/out" "^      broke: +the scores' scale '/layers.1/attention/Mul' is not a division or product by a nonzero constant" \
        "bias: where it broke" &&
    has "$TMP/out" '^encoder lift: refused$' "bias: lift refused" &&
    has "$TMP/out" '^  layer +0$' "bias: the layer" &&
    has "$TMP/out" "^  node +'/layers.0/.*' \(AddLayerNorm\)$" "bias: the node" &&
    has "$TMP/out" '^  expected +.*Attention' "bias: the expectation"
run 0 "explain score bias (json)" inspect "$TMP/bias/model.onnx" --explain --json &&
    json "[(p['fused'], p['declined']) for p in j['explain']['fusion']
           if p['pass'] == 'fuse-attention'] == [(1, 1)]
          and [d for p in j['explain']['fusion'] for d in p['declines']][0]['node']
              == '/layers.1/attention/Softmax'
          and [d for p in j['explain']['fusion'] for d in p['declines']][0]['op'] == 'Softmax'
          and '/layers.1/attention/Mul' in [d for p in j['explain']['fusion'] for d in p['declines']][0]['why']
          and j['explain']['lift']['ok'] is False and j['explain']['lift']['stage'] == 'lift'
          and j['explain']['lift']['layer'] == 0
          and j['explain']['lift']['node'].startswith('/layers.0/')
          and j['explain']['lift']['op'] == 'AddLayerNorm'
          and j['explain']['lift']['expected'] in j['explain']['lift']['message']" \
         "bias: explain json"
cp "$TMP/out" "$TMP/bias.json"
if run_onednn "$TMP/bias"; then
    bad "bias: run --backend onednn took a model the lift refuses"
elif "$PY" - "$TMP/bias.json" "$TMP/run.err" <<'PYEOF'; then ok; else bad "bias: run's refusal differs from the explanation"; fi
import json, sys
ex = json.load(open(sys.argv[1]))["explain"]
err = open(sys.argv[2]).read()
lift = ex["lift"]
declined = [d for p in ex["fusion"] for d in p["declines"]]
assert lift["node"] in err and lift["expected"] in err, err
assert all(d["node"] in err and d["why"] in err for d in declined), err
PYEOF

# ---- MPNet: the explanation agrees with the runtime ----------------------------
if "$PY" - "$HERE/../util" "$TMP/mpnet" >/dev/null 2>"$TMP/export.err" <<'PYEOF'; then
import sys
sys.path.insert(0, sys.argv[1])
import model_util
model_util.import_transformers()
import families
families.export("mpnet", sys.argv[2])
PYEOF
    run 0 "explain mpnet" inspect "$TMP/mpnet/model.onnx" --explain --json
    cp "$TMP/out" "$TMP/mpnet.json"
    run_onednn "$TMP/mpnet"
    rc=$?
    if "$PY" - "$TMP/mpnet.json" "$TMP/run.err" "$rc" <<'PYEOF'; then ok; else bad "mpnet: explanation and runtime disagree"; fi
import json, sys
ex = json.load(open(sys.argv[1]))["explain"]
err, rc = open(sys.argv[2]).read(), int(sys.argv[3])
assert ex["lift"]["ok"] == (rc == 0), (ex["lift"], rc, err)
if rc != 0:
    declined = [d for p in ex["fusion"] for d in p["declines"]]
    assert all(d["node"] in err for d in declined), (declined, err)
    print("mpnet: refused as explained: %d declined, lift: %s"
          % (len(declined), ex["lift"]["expected"]))
PYEOF
else
    echo "note: the MPNet check did not run (no transformers: $(tail -1 "$TMP/export.err"))"
fi

# ---- an op distilc lacks: the loader stops the way ----------------------------
"$PY" - "$TMP/det.onnx" <<'PYEOF' || bad "write det.onnx"
import sys, onnx
from onnx import TensorProto, helper
g = helper.make_graph([helper.make_node("Det", ["x"], ["y"], name="det")], "det",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), sys.argv[1])
PYEOF
run 0 "explain a model with an unsupported op" inspect "$TMP/det.onnx" --explain --json &&
    json "j['explain']['fusion'] == [] and j['explain']['lift']['ok'] is False
          and j['explain']['lift']['stage'] == 'load' and 'Det' in j['explain']['lift']['message']" \
         "det: stops at the loader"
run 0 "explain det (text)" inspect "$TMP/det.onnx" --explain &&
    has "$TMP/out" '^encoder lift: not reached: the ONNX loader failed: .*Det' "det: text"

finish test_inspect_explain.sh

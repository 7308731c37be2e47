#!/usr/bin/env bash
# test_input_names.sh — teachers whose inputs carry other exporters' names
# (ir/input_role.h): TF Hub / Model Garden's (input_word_ids, input_mask,
# input_type_ids) and Google BERT's through tf2onnx (input_ids:0,
# input_mask:0, segment_ids:0). A tiny BERT classifier exported from
# PyTorch with Hugging Face's names is renamed both ways; each renamed
# model must give the original's logits exactly in `distilc eval` (both
# backends) and `distilc run --backend onednn`, build into the same
# program, and teach `distilc distill` a student that keeps token types.
# An unknown name and two inputs of one role are refused, naming them.
#
# Usage: test_input_names.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_input_names.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-names-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"

# ---- fixtures: lib.sh's tiny GLUE root (29 words) and a tiny classifier -----
tiny_glue
"$PY" "$HERE/../util/bert_export.py" --out "$TMP/hf" --layers 1 --hidden 16 --heads 2 \
    --ffn 32 --max-pos 64 --vocab 30 --seed 3 >/dev/null 2>"$TMP/export.err" ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }

# rename SRC DST NAME=NEW...: the model with its inputs renamed
rename() {
    "$PY" - "$@" <<'PYEOF'
import sys
import onnx
src, dst, pairs = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
m = onnx.load(src)
for v in m.graph.input:
    v.name = pairs.get(v.name, v.name)
for n in m.graph.node:
    for k, x in enumerate(n.input):
        n.input[k] = pairs.get(x, x)
onnx.save(m, dst)
PYEOF
}
HF=$TMP/hf/model.onnx
rename "$HF" "$TMP/tfhub.onnx" input_ids=input_word_ids attention_mask=input_mask \
    token_type_ids=input_type_ids
rename "$HF" "$TMP/tf2onnx.onnx" input_ids=input_ids:0 attention_mask=input_mask:0 \
    token_type_ids=segment_ids:0
EVAL=(--task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt" --max-seq 32 --progress off)

# ---- eval: the same logits as Hugging Face's names, on both backends ---------
for backend in ref onednn; do
    run 0 "eval hf $backend" eval "$HF" "${EVAL[@]}" --backend "$backend" \
        --predictions "$TMP/hf-$backend.jsonl"
    for m in tfhub tf2onnx; do
        run 0 "eval $m $backend" eval "$TMP/$m.onnx" "${EVAL[@]}" --backend "$backend" \
            --predictions "$TMP/$m-$backend.jsonl"
        cmp -s "$TMP/hf-$backend.jsonl" "$TMP/$m-$backend.jsonl" && ok ||
            bad "eval $m $backend: predictions differ from Hugging Face's names"
    done
done

# ---- run --backend onednn: the inputs given under the model's own names ------
D=$TMP/hf/test_data_set_0
run 0 "run hf" run "$HF" --backend onednn --input input_ids="$D/input_0.pb" \
    --input attention_mask="$D/input_1.pb" --input token_type_ids="$D/input_2.pb" \
    --output-dir "$TMP/run-hf"
run 0 "run tfhub" run "$TMP/tfhub.onnx" --backend onednn \
    --input input_word_ids="$D/input_0.pb" --input input_mask="$D/input_1.pb" \
    --input input_type_ids="$D/input_2.pb" --output-dir "$TMP/run-tfhub"
cmp -s "$TMP/run-hf/output_0.pb" "$TMP/run-tfhub/output_0.pb" && ok ||
    bad "run --backend onednn: TF Hub names give other logits"

# ---- build: the program (which takes Hugging Face's names) is the same -------
run 0 "build hf" build "$HF" -o "$TMP/b-hf" --progress off
run 0 "build tf2onnx" build "$TMP/tf2onnx.onnx" -o "$TMP/b-tf" --progress off
IN='{"input_ids":[2,7,9,12,3],"attention_mask":[1,1,1,1,1],"token_type_ids":[0,0,0,0,0]}'
a=$(echo "$IN" | "$TMP/b-hf/model" 2>&1)
b=$(echo "$IN" | "$TMP/b-tf/model" 2>&1)
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "built programs differ: '$a' vs '$b'"

# ---- distill: a teacher with TF Hub names still has token types --------------
run 0 "distill tfhub teacher" distill "$TMP/tfhub.onnx" --task sst2 --data "$TMP/glue" \
    --vocab "$TMP/vocab.txt" --student layers=1,hidden=8,heads=2,ffn=16 --steps 2 \
    --max-seq 32 --batch 8 --progress off -o "$TMP/student.onnx"
"$PY" -c "import onnx,sys; m=onnx.load('$TMP/student.onnx')
sys.exit(0 if [i.name for i in m.graph.input] ==
         ['input_ids', 'attention_mask', 'token_type_ids'] else 1)" && ok ||
    bad "the student of a TF Hub-named teacher lost its token types"

# ---- errors: an unknown name, two inputs of one role ------------------------
rename "$HF" "$TMP/foo.onnx" attention_mask=foo
run 2 "unknown input" eval "$TMP/foo.onnx" "${EVAL[@]}" --backend ref
has "$TMP/err" "input 'foo' is not one eval can feed.*input_mask" "unknown name listed"
rename "$HF" "$TMP/twice.onnx" attention_mask=input_word_ids
run 2 "two id inputs" eval "$TMP/twice.onnx" "${EVAL[@]}" --backend ref
has "$TMP/err" "'input_ids' and 'input_word_ids' both carry input_ids" "two of one role"
run 2 "build unknown input" build "$TMP/foo.onnx" -o "$TMP/b-foo" --progress off
has "$TMP/err" "input 'foo' is not one distilc build .* can feed: not token ids" \
    "build names the input"

echo "test_input_names.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

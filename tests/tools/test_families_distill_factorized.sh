#!/usr/bin/env bash
# test_families_distill_factorized.sh — `distilc distill` with the teachers
# whose embeddings are factorized and projected after their LayerNorm
# (issue 16): ELECTRA-small (word, position and type tables E = 16 wide,
# LayerNorm in E, embeddings_project to H = 32) and ALBERT (the same, and
# one layer shared by both depths). Random weights from transformers
# configs (tests/util/families.py), each exported three ways: torch opset
# 14, Optimum, and ONNX Runtime's optimizer over the torch export.
#
# For every export:
# - the teacher's forward in the trainer (the engine distill falls back to,
#   and --teacher-engine trainer) against the oneDNN runtime's (logits,
#   hidden states, attention scores) and its logits against torch's, each
#   to 1e-4 (test_teacher --compare);
# - a few distillation steps on tiny_glue's SST-2 into a one-layer student
#   (ELECTRA-small: unfactorized; ALBERT: E = 8, projected after its
#   LayerNorm as the teacher does); the Optimum exports with the trainer's
#   teacher forward, the others with the runtime's;
# - the student ONNX takes exactly the teacher's inputs, and its logits
#   from onnxruntime and from `distilc run` (reference and oneDNN) agree to
#   1e-4 on the teacher's padded batch.
# And the ALBERT ORT export once more into an ALBERT-shaped student: two
# layers sharing one group (--share all), E = 8 after the LayerNorm, whose
# ONNX holds one layer's weights.
#
# Usage: test_families_distill_factorized.sh [PATH/TO/distilc]
#   (default: $DISTILC_BIN; test_teacher is found in $DISTILC_BUILD_DIR/tests
#   or beside distilc in tests/)
# Skips (exit 77) when /usr/bin/python3 lacks torch, onnx, onnxruntime,
# optimum or transformers.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_families_distill_factorized.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
TEST_TEACHER=${DISTILC_BUILD_DIR:-$(dirname "$DISTILC")}/tests/test_teacher
if ! "$PY" -c "import sys; sys.path.insert(0, '$HERE/../util')
import torch, onnx, onnxruntime, model_util
model_util.import_transformers()
import optimum.exporters.onnx" >/dev/null 2>&1; then
    echo "skipped: /usr/bin/python3 cannot import torch, onnx, onnxruntime, optimum and transformers"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-fam-factorized-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"
tiny_glue
if [ ! -x "$TEST_TEACHER" ]; then
    echo "FAIL: no test_teacher at $TEST_TEACHER (build the tests, or set DISTILC_BUILD_DIR)"
    exit 1
fi

# all six exports in one Python process (transformers imports once)
if ! "$PY" - "$HERE/../util" "$TMP" >/dev/null 2>"$TMP/export.err" <<'PYEOF'
import os, sys
sys.path.insert(0, sys.argv[1])
import families
for fam in ("electra-small", "albert"):
    base = os.path.join(sys.argv[2], fam)
    families.export(fam, base)
    for way in ("optimum", "ort"):
        families.export(fam, base + "-" + way, way=way,
                        torch_model=os.path.join(base, "model.onnx"))
PYEOF
then
    bad "export"
    sed 's/^/    /' "$TMP/export.err" | tail -20
    echo "test_families_distill_factorized: $pass passed, $fail failed"
    exit 1
fi

# student_check DIR STUDENT WHAT: the student takes the teacher's inputs
# and onnxruntime agrees with `distilc run` on the teacher's padded batch.
# EXTRA is a Python assertion on the student's initializers (dict name ->
# shape), e.g. that the tables are E wide.
student_check() {
    local dir=$1 s=$2 what=$3 extra=$4 args=() k=0 n be
    for n in $("$PY" -c "import json,sys; print(' '.join(json.load(open(sys.argv[1]))['inputs']))" \
                 "$dir/config.json"); do
        args+=(--input "$n=$dir/test_data_set_0/input_$k.pb")
        k=$((k + 1))
    done
    for be in ref onednn; do
        run 0 "run $what ($be)" run "$s" --backend $be "${args[@]}" \
            --output-dir "$s.run-$be" || return
    done
    if "$PY" - "$dir" "$s" "$extra" <<'PYEOF'
import json, sys, numpy as np, onnx, onnxruntime as ort
from onnx import numpy_helper
d, s, extra = sys.argv[1:4]
names = json.load(open(d + "/config.json"))["inputs"]
teacher = [i.name for i in onnx.load(d + "/model.onnx", load_external_data=False).graph.input]
m = onnx.load(s)
student = [i.name for i in m.graph.input]
assert student == teacher == names, (student, teacher)
init = {t.name: list(t.dims) for t in m.graph.initializer}
assert eval(extra), (extra, {k: v for k, v in init.items() if k.startswith("emb")})
feeds = {n: numpy_helper.to_array(onnx.load_tensor("%s/test_data_set_0/input_%d.pb" % (d, k)))
         for k, n in enumerate(names)}
want = ort.InferenceSession(s, providers=["CPUExecutionProvider"]).run(["logits"], feeds)[0]
for be in ("ref", "onednn"):
    got = numpy_helper.to_array(onnx.load_tensor("%s.run-%s/output_0.pb" % (s, be)))
    diff = float(np.abs(got - want).max())
    print("  %s: inputs %s; onnxruntime vs distilc run --backend %s: max |diff| %.2e "
          "(tolerance 1e-4)" % (s.rsplit("/", 2)[1] + "/" + s.rsplit("/", 1)[1],
                                student, be, diff))
    assert got.shape == want.shape == (3, 2) and diff <= 1e-4, diff
PYEOF
    then ok; else bad "$what: inputs, embeddings or onnxruntime vs distilc run"; fi
}

for fam in electra-small albert; do
    for way in torch optimum ort; do
        dir=$TMP/$fam
        [ "$way" = torch ] || dir=$TMP/$fam-$way
        what="$fam ($way)"
        # the trainer's teacher forward against the runtime's and torch's
        if "$TEST_TEACHER" --compare "$dir" >"$TMP/cmp.out" 2>&1; then
            ok
            sed "s|^$TMP/|  |" "$TMP/cmp.out"
        else
            bad "$what: the trainer's teacher forward"
            sed 's/^/    /' "$TMP/cmp.out"
        fi
        engine=auto
        [ "$way" = optimum ] && engine=trainer
        if [ "$fam" = albert ]; then
            spec=layers=1,hidden=16,heads=2,ffn=32,embed=8
            # the student's tables and LayerNorm E wide, its projection to H
            extra="init['embeddings.position'][1] == 8 and init['embeddings.proj'] == [8, 16] and init['embeddings.proj_bias'] == [16]"
        else
            spec=layers=1,hidden=16,heads=2,ffn=32
            extra="init['embeddings.word'][1] == 16 and 'embeddings.proj' not in init"
        fi
        S=$dir/student.onnx
        run 0 "distill $what" distill "$dir/model.onnx" --task sst2 --data "$TMP/glue" \
            --vocab "$TMP/vocab.txt" --batch 8 --max-seq 32 --student "$spec" --steps 3 \
            --teacher-engine "$engine" --json -o "$S" &&
            json "len(j['stages']) == 2 and all(s['steps'] == 3 for s in j['stages']) and j['teacher_engine'] == ('trainer' if '$engine' == 'trainer' else 'onednn')" \
                 "$what: two stages of 3 steps on the $engine teacher engine" &&
            student_check "$dir" "$S" "$what student" "$extra"
    done
done

# ALBERT-shaped: two layers, one weight set (the backward sums both uses)
dir=$TMP/albert-ort
S=$dir/student-shared.onnx
run 0 "distill albert (ort) into a shared student" distill "$dir/model.onnx" --task sst2 \
    --data "$TMP/glue" --vocab "$TMP/vocab.txt" --batch 8 --max-seq 32 \
    --student layers=2,hidden=16,heads=2,ffn=32,embed=8 --share all --steps 3 --json -o "$S" &&
    json "j['share'] == 'all' and all(s['steps'] == 3 for s in j['stages'])" "shared student: 3 steps" &&
    student_check "$dir" "$S" "albert shared student" \
        "'group0.attn.q.weight' in init and not any(k.startswith('group1.') for k in init) and any(n.name.startswith('layer1.') for n in m.graph.node) and init['embeddings.proj_bias'] == [16]"

echo "test_families_distill_factorized: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

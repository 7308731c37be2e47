#!/usr/bin/env bash
# test_compress.sh — `distilc compress` end to end on a tiny teacher
# exported from PyTorch (tests/util/bert_export.py, 4 layers x 64, 4 heads),
# lib.sh's tiny SST-2 task and corpus (tiny_glue) and tiny search space
# (search_fixture), with a budget of about half a minute:
# - every stage runs; report.json has the teacher and student objects with
#   parameters, latency_ms and dev metrics, the ratios, budget and stages;
#   report.svg is an SVG; the summary table is printed;
# - OUT/bin/model answers a JSON line; OUT/student.onnx runs in distilc
#   (and in onnxruntime when present, matching to 1e-4);
# - a supernet is trained and scores the candidates (--fitness proxy: none);
# - a rerun skips every stage; --from build redoes build, eval and report;
#   a changed budget redoes the supernet and after; a student.onnx
#   overwritten with garbage redoes distill and after (issue 18);
# - bad input: exit 2 and a message naming the option or file.
#
# Usage: test_compress.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_compress.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-compress-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"
report() { # PYTHON-EXPR-ON-j WHAT  (j = OUT/report.json)
    if "$PY" -c "import json,sys; j=json.load(open('$TMP/o/report.json')); sys.exit(0 if ($1) else 1)"; then
        ok
    else
        bad "$2: not ($1):"
        head -c 2500 "$TMP/o/report.json" | sed 's/^/    /'
    fi
}
stages() { # the stages that ran, from the JSON-lines progress in $TMP/err
    "$PY" -c "
import json, sys
ran = []
for line in open('$TMP/err'):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get('event') == 'stage' and not e['skipped']: ran.append(e['stage'])
print(','.join(ran))"
}

# ---- fixtures ----------------------------------------------------------------
tiny_glue
search_fixture "$TMP/t" 5 ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
T=$TMP/t/model.onnx
COMMON=(--task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt" --space "$TMP/space.xml"
        --cache "$TMP/latency.json" --progress json -o "$TMP/o")

# ---- a whole run -------------------------------------------------------------
run 0 "compress --help" compress --help && has "$TMP/out" "--budget-minutes" "compress --help"
run 0 "compress" compress "$T" "${COMMON[@]}" --corpus "$TMP/corpus.txt" \
    --budget-minutes 0.4
[ "$(stages)" = "lift,supernet,search,distill,build,eval,control-finetune,control-kd,report" ] && ok ||
    bad "first run stages: $(stages)"
has "$TMP/out" "latency \(ms, fp32\)" "summary table"
# a fresh latency cache: the search first fits the model's overhead on a
# few whole models, and says so
has "$TMP/err" "latency model calibrated on 5 whole models" "calibration note"
report "'uncalibrated' not in j['search']['latency']" "search latency calibrated"
has "$TMP/out" "x faster" "summary table speed-up"
report "all(k in j[m] for m in ('teacher', 'student')
            for k in ('parameters', 'latency_ms', 'metrics', 'size_bytes', 'ort_latency_ms'))
        and j['task'] == 'SST-2' and j['metric'] == 'accuracy'
        and 0 <= j['teacher']['metrics']['accuracy'] <= 1
        and 0 <= j['student']['metrics']['accuracy'] <= 1
        and j['student']['parameters'] < j['teacher']['parameters']
        and j['teacher']['latency_ms'] > 0 and j['student']['latency_ms'] > 0
        and j['speedup'] > 0 and j['accuracy_retained'] is not None
        and j['teacher']['dev_examples'] == 24" "report.json teacher/student"
report "[s['name'] for s in j['distill']['stages']] == ['general', 'intermediate', 'prediction']
        and all(s['steps'] >= 1 for s in j['distill']['stages'])
        and j['budget']['minutes'] == 0.4 and 'steps' in j['budget']['allowed']
        and abs(j['budget']['search_seconds_allowed'] - 2.4) < 1e-6
        and abs(j['budget']['supernet_seconds_allowed'] - 7.2) < 1e-6
        and j['search']['fitness'].startswith('supernet: accuracy')
        and j['supernet']['trained'] and j['supernet']['steps'] >= 1
        and j['supernet']['heldout_examples'] > 0
        and j['search']['evaluated'] > 0
        and set(j['stages']) == {'lift', 'supernet', 'search', 'distill', 'build', 'eval', 'control-finetune', 'control-kd', 'report'}
        and all(j['stages'][s]['ran'] for s in j['stages'])" "report.json budget/stages"
has "$TMP/o/report.svg" "<svg" "report.svg"
has "$TMP/o/report.svg" "faster" "report.svg speed-up label"
if command -v xmllint >/dev/null; then
    xmllint --noout "$TMP/o/report.svg" 2>/dev/null && ok || bad "report.svg is not XML"
fi
[ -s "$TMP/o/search/pareto.json" ] && ok || bad "search/pareto.json"
[ -s "$TMP/o/supernet/supernet.onnx" ] && ok || bad "supernet/supernet.onnx"
has "$TMP/o/supernet/supernet.json" '"fitness": "supernet' "supernet/supernet.json"
echo '{"input_ids":[2,9,12,17,3],"attention_mask":[1,1,1,1,1]}' | "$TMP/o/bin/model" >"$TMP/model.out" 2>&1 &&
    has "$TMP/model.out" '^\{"logits":\[[-0-9.e]+,[-0-9.e]+\],"label":[01],"label_name":"(negative|positive)"\}' "bin/model output" ||
    bad "bin/model exit status: $(cat "$TMP/model.out")"

# ---- the student ONNX: distilc and onnxruntime agree ------------------------
"$PY" - "$TMP" <<'PYEOF' || bad "input fixtures"
import sys, numpy as np
from onnx import numpy_helper
t = sys.argv[1]
ids = np.array([[2, 9, 12, 17, 3, 0, 0], [2, 5, 6, 7, 8, 21, 3]], dtype=np.int64)
for name, a in (("input_ids", ids), ("attention_mask", (ids != 0).astype(np.int64)),
                ("token_type_ids", np.zeros_like(ids))):
    open("%s/%s.pb" % (t, name), "wb").write(numpy_helper.from_array(a, name).SerializeToString())
PYEOF
run 0 "run student.onnx" run "$TMP/o/student.onnx" --backend onednn \
    --input "input_ids=$TMP/input_ids.pb" --input "attention_mask=$TMP/attention_mask.pb" \
    --input "token_type_ids=$TMP/token_type_ids.pb" --output-dir "$TMP/run"
if "$PY" -c "import onnxruntime" 2>/dev/null; then
    "$PY" - "$TMP" <<'PYEOF' && ok || bad "student.onnx in onnxruntime differs from distilc"
import sys, numpy as np, onnx, onnxruntime as ort
from onnx import numpy_helper
t = sys.argv[1]
feeds = {n: numpy_helper.to_array(onnx.load_tensor("%s/%s.pb" % (t, n)))
         for n in ("input_ids", "attention_mask", "token_type_ids")}
want = ort.InferenceSession(t + "/o/student.onnx", providers=["CPUExecutionProvider"]).run(["logits"], feeds)[0]
got = numpy_helper.to_array(onnx.load_tensor(t + "/run/output_0.pb"))
sys.exit(0 if float(np.abs(got - want).max()) < 1e-4 else 1)
PYEOF
    # the ONNX Runtime bench script fills the report's ort fields
    if "$PY" "$HERE/../../bench/compress_report_ort.py" "$TMP/o" --runs 3 >"$TMP/ort.out" 2>&1; then
        report "j['teacher']['ort_latency_ms'] > 0 and j['student']['ort_latency_ms'] > 0
                and j['ort_speedup'] > 0" "report.json after compress_report_ort.py"
    else
        bad "compress_report_ort.py: $(tail -3 "$TMP/ort.out")"
    fi
fi

# ---- reruns: skip, --from, changed inputs -----------------------------------
run 0 "rerun" compress "$T" "${COMMON[@]}" --corpus "$TMP/corpus.txt" --budget-minutes 0.4
[ -z "$(stages)" ] && ok || bad "rerun ran: $(stages)"
has "$TMP/err" '"stage":"distill","skipped":true' "rerun skips distill"
has "$TMP/out" "distill [0-9.]+s \(skipped\)" "table marks skipped stages"
# the same files spelt another way (a detour through '..', the teacher
# through a symbolic link): the same inputs, nothing redone
ln -sfn "$T" "$TMP/teacher-link.onnx"
run 0 "rerun, paths spelt otherwise" compress "$TMP/teacher-link.onnx" --task sst2 \
    --data "$TMP/./glue/../glue" --vocab "$TMP/../$(basename "$TMP")/vocab.txt" \
    --space "$TMP/space.xml" --cache "$TMP/latency.json" --progress json -o "$TMP/o" \
    --corpus "$TMP/corpus.txt" --budget-minutes 0.4
[ -z "$(stages)" ] && ok || bad "another spelling of the same paths ran: $(stages): $(grep -m1 "\"why\"" "$TMP/err")"
run 0 "--from build" compress "$T" "${COMMON[@]}" --corpus "$TMP/corpus.txt" \
    --budget-minutes 0.4 --from build
[ "$(stages)" = "build,eval,control-finetune,control-kd,report" ] && ok || bad "--from build ran: $(stages)"
run 0 "new budget" compress "$T" "${COMMON[@]}" --corpus "$TMP/corpus.txt" \
    --budget-minutes 0.3 --share none
[ "$(stages)" = "supernet,search,distill,build,eval,control-finetune,control-kd,report" ] && ok ||
    bad "new budget ran: $(stages)"
report "j['search']['sharing'] == 'none'" "--share none fixes the scheme"

# a budget smaller than a few timings: the search interpolates latencies
# from the cache once its share is spent, every distillation stage gets at
# least one step
run 0 "tiny budget" compress "$T" "${COMMON[@]}" --budget-minutes 0.01 \
    --cache "$TMP/latency-tiny.json" -o "$TMP/tiny"
has "$TMP/err" '"event":"note","text":"search: its 0.1 s of the budget are spent' \
    "tiny budget note"
if "$PY" -c "import json,sys; j=json.load(open('$TMP/tiny/report.json'))
s=j['search']; t=s['timing_load']
sys.exit(0 if s['latency_interpolated'] > 0 and s['latency_measured'] >= 1
    and t['seconds'] > 0 and (t['other_cores'] is None or t['other_cores'] >= 0)
    and all(x['steps'] >= 1 for x in j['distill']['stages']) else 1)"; then ok
else bad "tiny budget report: $(head -c 600 "$TMP/tiny/report.json")"; fi

# the size proxy instead of a supernet: no supernet trained, the report says so
# (with fixed work: --steps per distillation stage, and the CPU clock)
# (and a limit relative to the teacher: --speedup)
run 0 "--fitness proxy" compress "$T" "${COMMON[@]}" --budget-minutes 0.2 --fitness proxy \
    --steps 3 --threads 1 --clock cpu --speedup 1.2 -o "$TMP/proxy"
if "$PY" -c "import json,sys; j=json.load(open('$TMP/proxy/report.json'))
lim=j['search']['constraints']['latency_ms']
sys.exit(0 if j['search']['fitness'].startswith('proxy') and not j['supernet']['trained']
    and abs(lim - j['teacher']['latency_ms'] / 1.2) < 1e-3 * lim
    and j['budget']['supernet_seconds_allowed'] == 0 and j['setting']['clock'] == 'cpu'
    and all(s['steps'] == 3 for s in j['distill']['stages']) else 1)"; then ok
else bad "--fitness proxy report: $(head -c 600 "$TMP/proxy/report.json")"; fi
# a student.onnx overwritten since is not taken for the stage's output: the
# rerun redoes distill (the same student again: fixed steps) and after
P=(compress "$T" "${COMMON[@]}" --budget-minutes 0.2 --fitness proxy --steps 3 --threads 1
   --clock cpu --speedup 1.2 -o "$TMP/proxy")
cp "$TMP/proxy/student.onnx" "$TMP/student.saved"
head -c 4096 /dev/urandom >"$TMP/proxy/student.onnx"
run 0 "rerun over a garbage student.onnx" "${P[@]}"
[ "$(stages)" = "distill,build,eval,control-finetune,control-kd,report" ] && ok || bad "garbage student.onnx reran: $(stages)"
has "$TMP/err" '"stage":"distill","skipped":false,"why":"student.onnx changed since the stage wrote it"' \
    "garbage student.onnx named"
cmp -s "$TMP/student.saved" "$TMP/proxy/student.onnx" && ok ||
    bad "the redone student differs from the first one"
[ ! -e "$TMP/proxy/ckpt" ] && ok || bad "a finished run left its checkpoints"

# the teacher's tokenizer as a tokenizer.json (HF's own file for the same
# WordPiece vocabulary): the lift stage tokenizes the dev split exactly as
# with --vocab, so the teacher's dev metrics are the whole run's
if "$PY" - "$TMP/vocab.txt" "$TMP/tokenizer.json" <<'PYEOF' 2>"$TMP/tok.err"; then
import sys
from tokenizers import BertWordPieceTokenizer
BertWordPieceTokenizer(sys.argv[1], lowercase=True).save(sys.argv[2])
PYEOF
    TOKJSON=(--task sst2 --data "$TMP/glue" --tokenizer "$TMP/tokenizer.json"
             --space "$TMP/space.xml" --cache "$TMP/latency.json" --progress json)
    run 0 "compress --tokenizer" compress "$T" "${TOKJSON[@]}" --budget-minutes 0.1 \
        --fitness proxy --steps 1 -o "$TMP/tokjson"
    if "$PY" -c "import json,sys
a = json.load(open('$TMP/o/report.json'))['teacher']
b = json.load(open('$TMP/tokjson/report.json'))['teacher']
sys.exit(0 if a['metrics'] == b['metrics'] else 1)"; then ok
    else bad "compress --tokenizer: the teacher's dev metrics differ from --vocab's"; fi
    run 2 "compress --vocab and --tokenizer" compress "$T" "${TOKJSON[@]}" \
        --vocab "$TMP/vocab.txt" -o "$TMP/both" && has "$TMP/err" "not both" "both named"
else
    echo "note: compress --tokenizer did not run (no tokenizers module: $(tail -1 "$TMP/tok.err"))"
fi

# ---- bad input ------------------------------------------------------------------
run 2 "no -o" compress "$T" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt"
has "$TMP/err" "-o OUT" "no -o message"
run 2 "missing teacher" compress "$TMP/nope.onnx" "${COMMON[@]}"
has "$TMP/err" "nope.onnx" "missing teacher message"
run 2 "bad task" compress "$T" "${COMMON[@]}" --task nope
has "$TMP/err" "--task 'nope'" "bad task message"
run 2 "bad --from" compress "$T" "${COMMON[@]}" --from nowhere
has "$TMP/err" "--from 'nowhere'" "bad --from message"
run 2 "bad --fitness" compress "$T" "${COMMON[@]}" --fitness best
has "$TMP/err" "--fitness 'best'" "bad --fitness message"
run 2 "bad --clock" compress "$T" "${COMMON[@]}" --clock sundial
has "$TMP/err" "--clock 'sundial'" "bad --clock message"
run 2 "cpu clock, 2 threads" compress "$T" "${COMMON[@]}" --clock cpu --threads 2
has "$TMP/err" "--clock cpu times one thread" "cpu clock threads message"
run 2 "bad --steps" compress "$T" "${COMMON[@]}" --steps 0
has "$TMP/err" "steps" "bad --steps message"
run 2 "bad --share" compress "$T" "${COMMON[@]}" --share groups:x
has "$TMP/err" "--share 'groups:x'" "bad --share message"
run 2 "both limits" compress "$T" "${COMMON[@]}" --latency-ms 3 --params 1000
run 2 "speedup and latency" compress "$T" "${COMMON[@]}" --latency-ms 3 --speedup 2
has "$TMP/err" "one of --latency-ms, --speedup and --params" "speedup and latency message"
run 2 "bad budget" compress "$T" "${COMMON[@]}" --budget-minutes -1
has "$TMP/err" "budget-minutes" "bad budget message"
run 2 "missing corpus" compress "$T" "${COMMON[@]}" --corpus "$TMP/nope.txt"
has "$TMP/err" "nope.txt" "missing corpus message"
# a space with nothing this teacher can teach names the gene and the stage
sed 's|<hidden>32 64</hidden>|<hidden>128</hidden>|' "$TMP/space.xml" >"$TMP/big.xml"
run 2 "space too big" compress "$T" "${COMMON[@]}" --space "$TMP/big.xml" -o "$TMP/o2"
has "$TMP/err" "stage supernet: --space .*big.xml: no hidden choice fits the teacher" \
    "space too big message"

# refused before the supernet trains, naming the limit and what the
# smallest candidate takes (test_bad_input_hardening.sh has the details)
run 2 "impossible latency" compress "$T" "${COMMON[@]}" --latency-ms 0.0001 -o "$TMP/o3"
has "$TMP/err" "stage supernet: --latency-ms: a latency of 0.0001 ms cannot be met" \
    "impossible latency message"

echo "test_compress.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

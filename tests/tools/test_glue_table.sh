#!/usr/bin/env bash
# test_glue_table.sh — bench/glue_table.py --quick end to end (issue 17), so
# CI proves the script that makes the GLUE table works: on lib.sh's tiny
# SST-2 and STS-B tasks, with search_fixture's 4 x 64 BERT as the model to
# fine-tune (the real table fine-tunes MiniLM-L6), tiny step counts and a
# speedup limit the tiny teacher can meet:
# - for each task the teacher is fine-tuned from the recipe, compress runs
#   with the controls, ONNX Runtime times teacher and student, and
#   OUT/glue_table.json and OUT/glue_table.md hold a row per task with the
#   three rows (fine-tune only, prediction KD only, full), the teacher's ORT
#   latency, the student's distilc latency and TinyBERT-4's published row;
# - a rerun skips both tasks (resumable per task);
# - a task whose row is gone is redone from where it stopped: its teacher
#   is kept and compress skips every stage (its own resume);
# - bad usage: an unknown task is exit 2.
#
# Usage: test_glue_table.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch,
# onnx and onnxruntime.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_glue_table.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx, onnxruntime" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch, onnx and onnxruntime"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-glue-table-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"
TABLE=$HERE/../../bench/glue_table.py

tiny_glue
search_fixture "$TMP/t" 5 ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
ARGS=(--quick --tasks sst2,stsb --distilc "$DISTILC" --glue "$TMP/glue"
      --base-model "$TMP/t/model.onnx" --vocab "$TMP/vocab.txt" --space "$TMP/space.xml"
      --cache "$TMP/latency.json" --speedup 1.2 --train-threads 1 --threads 1 --out "$TMP/table")
table() { # WHAT: runs the script, output in $TMP/out and $TMP/err
    if "$PY" "$TABLE" "${ARGS[@]}" >"$TMP/out" 2>"$TMP/err"; then
        ok
    else
        bad "$1: exit $?"
        tail -30 "$TMP/err" | sed 's/^/    /'
    fi
}
check() { # PYTHON-EXPR-ON-j WHAT  (j = OUT/glue_table.json)
    if "$PY" -c "import json,sys; j=json.load(open('$TMP/table/glue_table.json')); sys.exit(0 if ($1) else 1)"; then
        ok
    else
        bad "$2: not ($1)"
        head -c 3000 "$TMP/table/glue_table.json" | sed 's/^/    /'
    fi
}

# the teachers alone first (so two processes can fine-tune them while a
# third compresses): teacher.onnx and teacher.json per task, no table
ARGS+=(--teachers-only)
table "glue_table.py --quick --teachers-only"
unset 'ARGS[${#ARGS[@]}-1]'
[ -s "$TMP/table/stsb/teacher.json" ] && [ -s "$TMP/table/sst2/teacher.onnx" ] &&
    [ ! -e "$TMP/table/glue_table.json" ] && [ ! -e "$TMP/table/sst2/compress" ] &&
    ok || bad "--teachers-only: $(ls -R "$TMP/table")"

table "glue_table.py --quick"
if grep -q "fine-tuning the teacher" "$TMP/err"; then
    bad "the teachers were fine-tuned again"
else
    ok
fi
grep -q -- "--clock cpu" "$TMP/table/sst2/compress.log" && ok ||
    bad "--threads 1 did not time on the CPU clock"
check "[r['task'] for r in j['rows']] == ['SST-2', 'STS-B'] and j['quick']" "the rows"
check "all(r[k] is not None and -1 <= r[k] <= 1 for r in j['rows']
           for k in ('finetune_only', 'kd_only', 'full'))" "the three rows"
check "all(r['teacher']['ort_latency_ms'] > 0 and r['student']['distilc_latency_ms'] > 0
           and r['speedup_vs_teacher_ort'] > 0 and r['wall_seconds'] > 0
           and r['student']['parameters'] < r['teacher']['parameters'] for r in j['rows'])" \
    "latencies, parameters, wall time"
# the machine's load while the search timed (compress's report): a number
check "all(r['search_timing_load']['seconds'] >= 0 for r in j['rows'])" \
    "the search's timing load"
check "[r['tinybert4']['student'] for r in j['rows']] == [92.6, 80.4]
       and j['rows'][0]['metric'] == 'accuracy' and j['rows'][1]['metric'] == 'spearmanr'
       and set(j['targets']['tasks']) == {'SST-2', 'STS-B'}" "TinyBERT-4's row, metrics, targets"
check "all(r['teacher']['finetune_seconds'] > 0 for r in j['rows'])" "the teachers were fine-tuned"
# the limit is the teacher's ONNX Runtime latency over --speedup, timed once
check "all(abs(r['latency_limit_ms'] - json.load(open('$TMP/table/%s/teacher-ort.json'
           % k))['limit_ms']) < 1e-3 * r['latency_limit_ms'] for r, k in zip(j['rows'],
           ('sst2', 'stsb')))" "the latency limit from ONNX Runtime"
has "$TMP/table/glue_table.md" "^\| SST-2 \| accuracy \|" "the Markdown table"
has "$TMP/table/glue_table.md" "TinyBERT-4 \(paper: test set, BERT-base teacher\)" \
    "TinyBERT-4's row in the Markdown"
[ -s "$TMP/table/sst2/compress/controls/kd.onnx" ] && ok || bad "no control model"
# the wall time counts every run of the script (a killed table resumes)
if "$PY" -c "import json,sys; w=json.load(open('$TMP/table/stsb/wall.json'))
r=json.load(open('$TMP/table/stsb/row.json'))
sys.exit(0 if w['teacher'] > 0 and w['compress'] > 0 and
         abs(r['wall_seconds'] - w['teacher'] - w['compress']) < 1e-6 else 1)"; then
    ok
else
    bad "wall.json: $(cat "$TMP/table/stsb/wall.json")"
fi

table "rerun"
has "$TMP/err" "SST-2: done" "the rerun skips SST-2"
has "$TMP/err" "STS-B: done" "the rerun skips STS-B"
if grep -q "fine-tuning the teacher\|compress (a rerun" "$TMP/err"; then
    bad "the rerun ran a task again"
else
    ok
fi

# --retime: the finished tasks' latencies timed again (alone, in real use);
# compress's figures stay in the row
ARGS+=(--retime)
table "--retime"
unset 'ARGS[${#ARGS[@]}-1]'
check "all(r['timing'].startswith('retimed alone') and r['during_compress']['student_distilc_ms'] > 0
           and r['student']['distilc_latency_ms'] > 0 and r['teacher']['ort_latency_ms'] > 0
           and abs(r['speedup_vs_teacher_ort'] - r['teacher']['ort_latency_ms']
                   / r['student']['distilc_latency_ms']) < 1e-9 for r in j['rows'])" \
    "--retime's latencies"
has "$TMP/err" "SST-2: retimed: student" "--retime says what it measured"

rm "$TMP/table/stsb/row.json"
table "a task without its row"
has "$TMP/err" "SST-2: done" "SST-2 still skipped"
if grep -q "STS-B: fine-tuning the teacher" "$TMP/err"; then
    bad "the teacher was fine-tuned again"
else
    ok
fi
if grep -q '"skipped":false' "$TMP/table/stsb/compress.log" &&
   [ "$(grep -c '"skipped":false' "$TMP/table/stsb/compress.log")" -eq 9 ]; then
    ok # the first run's nine stages; the second skipped them all
else
    bad "compress redid stages: $(grep '"skipped":false' "$TMP/table/stsb/compress.log" | head -12)"
fi

if "$PY" "$TABLE" --tasks qnli --out "$TMP/x" --distilc "$DISTILC" >"$TMP/out" 2>"$TMP/err"; then
    bad "an unknown task was taken"
else
    [ $? -eq 2 ] && grep -q "qnli" "$TMP/err" && ok || bad "unknown task: $(cat "$TMP/err")"
fi

# --limit-from base: the base model timed once, before any teacher trains,
# and each task's limit taken from it (tasks side by side never time a
# teacher beside another's training)
if "$PY" "$TABLE" "${ARGS[@]}" --tasks sst2 --limit-from base \
        --out "$TMP/base" >"$TMP/out" 2>"$TMP/err"; then
    "$PY" -c "import json,os,sys
b=json.load(open('$TMP/base/base-ort.json')); t=json.load(open('$TMP/base/sst2/teacher-ort.json'))
r=json.load(open('$TMP/base/sst2/row.json'))
sys.exit(0 if b['ort_ms'] > 0 and t['teacher_ort_ms'] == b['ort_ms']
         and t['source'].startswith('the base model')
         and abs(r['latency_limit_ms'] - b['ort_ms'] / t['speedup'] / (1 + t['margin']))
             < 1e-3 * r['latency_limit_ms']
         and os.path.getmtime('$TMP/base/base-ort.json')
             <= os.path.getmtime('$TMP/base/sst2/teacher.onnx') else 1)" && ok ||
        bad "--limit-from base: $(cat "$TMP/base/base-ort.json" "$TMP/base/sst2/teacher-ort.json")"
else
    bad "--limit-from base: exit $?: $(tail -5 "$TMP/err")"
fi

# an interpreter without ONNX Runtime is refused at the start, not hours in
mkdir -p "$TMP/no-ort"
echo 'raise ImportError("no onnxruntime here", name="onnxruntime")' >"$TMP/no-ort/onnxruntime.py"
if PYTHONPATH="$TMP/no-ort" "$PY" "$TABLE" --tasks cola --out "$TMP/y" --distilc "$DISTILC" \
        >"$TMP/out" 2>"$TMP/err"; then
    bad "ran without onnxruntime"
else
    [ $? -eq 2 ] && grep -q "cannot import onnxruntime" "$TMP/err" && [ ! -e "$TMP/y" ] && ok ||
        bad "without onnxruntime: $(cat "$TMP/err")"
fi

finish test_cli_glue_table

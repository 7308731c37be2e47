#!/usr/bin/env bash
# test_compress_controls.sh — `distilc compress --recipe` with step counts
# written in the recipe, and the controls of the GLUE table (issue 17), on
# lib.sh's tiny SST-2 and STS-B tasks and the 4 x 64 teacher of
# search_fixture:
# - the recipe sets the supernet's steps, the search's population and
#   generations, the distillation stages' steps (20 + 20) and length
#   buckets, and asks for the controls: every stage runs, control-finetune
#   and control-kd included, with 40 steps each (distill's intermediate +
#   prediction); report.json has the three rows (finetune, kd, full) with
#   their dev metric, and teacher and student seconds for every stage (the
#   fine-tuning control never runs the teacher); OUT/controls/*.onnx run in
#   distilc eval; the table prints the controls;
# - a rerun skips every stage; --controls off then on redoes only the
#   controls and the report;
# - kill -9 inside control-kd once its first checkpoint is written, then the
#   same command again: it resumes that stage from its checkpoint, and
#   controls/kd.onnx equals a run never killed, byte for byte (one thread);
# - STS-B (regression): the fine-tuning control trains on MSE;
# - bad input: a recipe that is not one is exit 2 naming the file and line.
#
# Usage: test_compress_controls.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_compress_controls.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-controls-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"
stages() { # the stages that ran, from the JSON-lines progress in $TMP/err
    "$PY" -c "
import json
ran = []
for line in open('$TMP/err'):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get('event') == 'stage' and not e['skipped']: ran.append(e['stage'])
print(','.join(ran))"
}
check() { # OUT PYTHON-EXPR-ON-j WHAT  (j = OUT/report.json)
    if "$PY" -c "import json,sys; j=json.load(open('$1/report.json')); sys.exit(0 if ($2) else 1)"; then
        ok
    else
        bad "$3: not ($2)"
        head -c 3000 "$1/report.json" | sed 's/^/    /'
    fi
}

tiny_glue
search_fixture "$TMP/t" 5 ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
T=$TMP/t/model.onnx
cat >"$TMP/recipe.xml" <<'XML'
<?xml version="1.0"?>
<recipe version="1">
  <task>SST-2</task>
  <data>glue</data>
  <vocab>vocab.txt</vocab>
  <supernet><steps>4</steps><batch>8</batch></supernet>
  <search population="4" generations="1"/>
  <intermediate><steps>20</steps><batch>8</batch><max-seq>32</max-seq>
    <lr>1e-3</lr><bucket>2</bucket></intermediate>
  <prediction><steps>20</steps><batch>8</batch><max-seq>32</max-seq>
    <lr>1e-3</lr><bucket>2</bucket></prediction>
  <controls>true</controls>
</recipe>
XML
COMMON=(--space "$TMP/space.xml" --cache "$TMP/latency.json" --progress json
        --train-threads 1 --ckpt-every 4)

# ---- a whole run from the recipe --------------------------------------------
run 0 "compress --recipe" compress "$T" --recipe "$TMP/recipe.xml" "${COMMON[@]}" -o "$TMP/o"
[ "$(stages)" = "lift,supernet,search,distill,build,eval,control-finetune,control-kd,report" ] &&
    ok || bad "first run stages: $(stages)"
has "$TMP/out" "control: finetune" "the table prints the controls"
check "$TMP/o" "j['supernet']['steps'] == 4
    and [s['steps'] for s in j['distill']['stages']] == [20, 20]
    and j['search']['cycles'] == 4
    and 'the recipe' in j['budget']['allowed']" "recipe step counts"
check "$TMP/o" "[r['name'] for r in j['controls']['rows']] == ['finetune', 'kd', 'full']
    and all(r['steps'] == 40 for r in j['controls']['rows'])
    and all(0 <= r['main'] <= 1 for r in j['controls']['rows'])
    and j['controls']['rows'][2]['main'] == j['student']['metrics']['accuracy']
    and j['controls']['rows'][0]['teacher_seconds'] == 0
    and j['controls']['rows'][1]['teacher_seconds'] > 0" "controls rows"
check "$TMP/o" "all(s['teacher_seconds'] is not None and s['student_seconds'] is not None
        for s in j['stages'].values())
    and j['stages']['distill']['teacher_seconds'] > 0
    and j['stages']['supernet']['teacher_seconds'] > 0
    and all(s['teacher_seconds'] > 0 for s in j['distill']['stages'])" "teacher and student seconds"
for c in finetune kd; do
    run 0 "eval controls/$c.onnx" eval "$TMP/o/controls/$c.onnx" --task sst2 \
        --data "$TMP/glue" --vocab "$TMP/vocab.txt" --json
done

# ---- reruns -------------------------------------------------------------------
run 0 "rerun" compress "$T" --recipe "$TMP/recipe.xml" "${COMMON[@]}" -o "$TMP/o"
[ -z "$(stages)" ] && ok || bad "rerun ran: $(stages)"
sed 's/<controls>true/<controls>false/' "$TMP/recipe.xml" >"$TMP/nocontrols.xml"
run 0 "no controls" compress "$T" --recipe "$TMP/nocontrols.xml" "${COMMON[@]}" -o "$TMP/n"
[ "$(stages)" = "lift,supernet,search,distill,build,eval,control-finetune,control-kd,report" ] &&
    ok || bad "no-controls stages: $(stages)"
check "$TMP/n" "[r['name'] for r in j['controls']['rows']] == ['full']
    and not j['controls']['asked']" "no controls asked"
[ ! -e "$TMP/n/controls" ] && ok || bad "controls written without being asked for"
run 0 "--controls" compress "$T" --recipe "$TMP/nocontrols.xml" --controls "${COMMON[@]}" -o "$TMP/n"
[ "$(stages)" = "control-finetune,control-kd,report" ] && ok || bad "--controls ran: $(stages)"
cmp -s "$TMP/o/controls/kd.onnx" "$TMP/n/controls/kd.onnx" && ok ||
    bad "the same controls from another run differ"

# ---- kill -9 inside control-kd, then resume -------------------------------------
rm -rf "$TMP/k"
"$DISTILC" compress "$T" --recipe "$TMP/recipe.xml" "${COMMON[@]}" -o "$TMP/k" \
    >"$TMP/k.out" 2>"$TMP/k.err" &
pid=$!
ck=$TMP/k/ckpt/control-kd/prediction/last.ckpt
for _ in $(seq 6000); do
    [ -e "$ck" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
done
if [ -e "$ck" ] && kill -9 $pid 2>/dev/null; then
    wait $pid 2>/dev/null
    ok
    run 0 "resumed after kill -9 in control-kd" compress "$T" --recipe "$TMP/recipe.xml" \
        "${COMMON[@]}" -o "$TMP/k"
    [ "$(stages)" = "control-kd,report" ] && ok || bad "the resume ran: $(stages)"
    has "$TMP/err" '"stage":"control-kd","skipped":false,"why":"not done yet"' "control-kd resumed"
    cmp -s "$TMP/o/controls/kd.onnx" "$TMP/k/controls/kd.onnx" && ok ||
        bad "controls/kd.onnx after a kill and resume differs from a run never killed"
    [ ! -e "$TMP/k/ckpt" ] && ok || bad "a finished run left its checkpoints"
else
    wait $pid
    bad "the run finished before control-kd wrote a checkpoint (nothing to kill)"
fi

# ---- regression ------------------------------------------------------------------
search_fixture "$TMP/r" 5 --labels 1 ||
    { echo "FAIL: bert_export.py --labels 1"; cat "$TMP/export.err"; exit 1; }
sed 's/<task>SST-2/<task>STS-B/' "$TMP/recipe.xml" >"$TMP/stsb.xml"
run 0 "STS-B controls" compress "$TMP/r/model.onnx" --recipe "$TMP/stsb.xml" "${COMMON[@]}" \
    -o "$TMP/s"
check "$TMP/s" "[r['name'] for r in j['controls']['rows']] == ['finetune', 'kd', 'full']
    and all(r['main'] is None or -1 <= r['main'] <= 1 for r in j['controls']['rows'])" \
    "STS-B controls rows"

# ---- bad input ---------------------------------------------------------------------
printf '<recipe version="1">\n<steps>3</steps>\n</recipe>\n' >"$TMP/bad.xml"
run 2 "bad recipe" compress "$T" --recipe "$TMP/bad.xml" "${COMMON[@]}" -o "$TMP/b"
has "$TMP/err" "bad.xml:2" "the bad recipe's line named"
run 2 "missing recipe" compress "$T" --recipe "$TMP/none.xml" "${COMMON[@]}" -o "$TMP/b"
has "$TMP/err" "none.xml" "the missing recipe named"

finish test_cli_compress_controls

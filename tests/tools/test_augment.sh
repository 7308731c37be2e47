#!/usr/bin/env bash
# test_augment.sh — `distilc distill --augment N` (TinyBERT data augmentation,
# distill/augment.h) end to end on lib.sh's tiny SST-2 and a tiny teacher:
# - --augment 2: the task stages train on 3x the train rows (the JSON report's
#   stage examples and augment section, the "augment" JSON progress line);
#   the same run twice gives the same report numbers (deterministic copies);
# - a recipe's <augment/> is used, and --augment 0 overrides it;
# - compress --augment 2: report.json's distill section records it and the
#   task stages' 3x examples; the same options skip every stage on a rerun,
#   another --augment redoes distill and after;
# - bad --augment / --augment-prob / --augment-neighbours: exit 2 naming the
#   option; a recipe with a bad <augment> is rejected naming the line.
#
# Usage: test_augment.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_augment.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-augment-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"

tiny_glue
"$PY" "$HERE/../util/bert_export.py" --out "$TMP/t" --layers 2 --hidden 32 --heads 4 \
    --ffn 64 --max-pos 64 --vocab 30 --seed 3 >/dev/null 2>"$TMP/export.err" ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
T=$TMP/t/model.onnx
S=(distill "$T" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt" --batch 8
   --max-seq 32 --student layers=1,hidden=16,heads=2,ffn=32 --steps 2 --dev-limit 8
   -o "$TMP/s.onnx")

# ---- 48 train rows -> 144 ----------------------------------------------------
run 0 "distill --augment 2" "${S[@]}" --augment 2 --augment-neighbours 5 --json &&
    json "[(s['stage'], s['examples']) for s in j['stages']] ==
              [('intermediate', 144), ('prediction', 144)]
          and j['augment']['copies'] == 2 and j['augment']['neighbours'] == 5
          and abs(j['augment']['prob'] - 0.4) < 1e-6
          and j['augment']['train_examples'] == 144
          and 0 < j['augment']['replaced'] < j['augment']['eligible']" \
         "augmented report"
has "$TMP/err" '^\{"event":"augment","copies":2,.*"examples_in":48,"examples":144,' \
    "augment progress line"
cp "$TMP/out" "$TMP/first.json"
run 0 "distill --augment 2 again" "${S[@]}" --augment 2 --augment-neighbours 5 --json &&
    json "j['augment'] ['replaced'] == json.load(open('$TMP/first.json'))['augment']['replaced']" \
         "same options, same copies"
run 0 "distill without --augment" "${S[@]}" --json &&
    json "all(s['examples'] == 48 for s in j['stages']) and j['augment']['copies'] == 0" \
         "no augmentation by default"

# ---- the recipe element, overridden by the command line -------------------
cat >"$TMP/r.xml" <<EOF
<?xml version="1.0"?>
<recipe version="1">
  <student layers="1" hidden="16" heads="2" ffn="32"/>
  <augment copies="1" prob="1" neighbours="3"/>
</recipe>
EOF
R=(distill "$T" --recipe "$TMP/r.xml" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt"
   --batch 8 --max-seq 32 --steps 1 --dev-limit 8 -o "$TMP/r.onnx" --json)
run 0 "recipe <augment>" "${R[@]}" &&
    json "j['augment']['copies'] == 1 and j['augment']['neighbours'] == 3
          and j['augment']['prob'] == 1 and j['stages'][0]['examples'] == 96
          and j['augment']['replaced'] == j['augment']['eligible']" "recipe augment"
run 0 "--augment 0 over the recipe" "${R[@]}" --augment 0 &&
    json "j['stages'][0]['examples'] == 48" "--augment 0 turns it off"

# ---- bad input ------------------------------------------------------------------
run 2 "--augment -1" "${S[@]}" --augment -1 && has "$TMP/err" "--augment '-1'" "negative named"
run 2 "--augment x" "${S[@]}" --augment x && has "$TMP/err" "--augment 'x'" "non-number named"
run 2 "--augment 65" "${S[@]}" --augment 65 && has "$TMP/err" "--augment\\) = 65" "too many named"
run 2 "--augment-prob 2" "${S[@]}" --augment 1 --augment-prob 2 &&
    has "$TMP/err" "--augment-prob\\) = 2" "prob named"
run 2 "--augment-neighbours 0" "${S[@]}" --augment 1 --augment-neighbours 0 &&
    has "$TMP/err" "--augment-neighbours\\) = 0" "neighbours named"
printf '<recipe version="1">\n\n<augment copies="2" prob="1.5"/>\n</recipe>\n' >"$TMP/bad.xml"
run 2 "bad recipe <augment>" distill "$T" --recipe "$TMP/bad.xml" -o "$TMP/x.onnx" &&
    has "$TMP/err" "bad.xml:3: .*augment.*prob" "recipe error names line and element"
printf '<recipe version="1">\n<augment copies="99"/>\n</recipe>\n' >"$TMP/bad2.xml"
run 2 "recipe copies 99" distill "$T" --recipe "$TMP/bad2.xml" -o "$TMP/x.onnx" &&
    has "$TMP/err" "bad2.xml:2: .*augment.*copies" "copies out of range named"

# ---- distilc compress --augment -----------------------------------------------
# the search needs a teacher wide enough for a few shapes (as test_compress.sh)
search_fixture "$TMP/t4" 50 || bad "bert_export.py 4x64"
C=(compress "$TMP/t4/model.onnx" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt" --space "$TMP/space.xml"
   --cache "$TMP/latency.json" --fitness proxy --steps 2 --dev-limit 8 --progress json
   -o "$TMP/o")
ran() { "$PY" -c "
import json
print(','.join(e['stage'] for e in map(json.loads, filter(lambda l: l.startswith('{'), open('$TMP/err')))
               if e.get('event') == 'stage' and not e['skipped']))"; }
run 0 "compress --augment 2" "${C[@]}" --augment 2 &&
    "$PY" -c "import json,sys; j=json.load(open('$TMP/o/report.json'))['distill']
a = j['augment']
sys.exit(0 if a['copies'] == 2 and a['neighbours'] == 15 and abs(a['prob'] - 0.4) < 1e-9
         and a['train_examples'] == 144 and 0 < a['replaced'] < a['eligible']
         and [(s['name'], s['examples']) for s in j['stages']] ==
             [('intermediate', 144), ('prediction', 144)] else 1)" && ok ||
    bad "compress report.json distill.augment"
has "$TMP/err" '"note".*--augment 2: 48 -> 144 train examples' "compress augment note"
run 0 "compress rerun, same --augment" "${C[@]}" --augment 2 &&
    { [ -z "$(ran)" ] && ok || bad "same options reran: $(ran)"; }
run 0 "compress --augment 1" "${C[@]}" --augment 1 &&
    { [ "$(ran)" = "distill,build,eval,control-finetune,control-kd,report" ] && ok || bad "changed --augment reran: $(ran)"; }
run 2 "compress --augment -1" "${C[@]}" --augment -1 && has "$TMP/err" "--augment" "compress --augment named"
run 2 "compress --augment-prob 2" "${C[@]}" --augment 1 --augment-prob 2 &&
    has "$TMP/err" "--augment-prob" "compress --augment-prob named"

finish test_augment.sh

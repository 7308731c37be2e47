#!/usr/bin/env bash
# test_user_data.sh — the user's own data (issue 17 item 4) through the
# distilc command: no --task, named columns, string labels.
# - a small CSV task (quoted texts with ',' and line breaks, labels
#   negative/positive) and a small JSON-lines task (a text pair, labels
#   bird/cat/dog) each go through `distilc compress` (fixed small steps, the
#   proxy fitness, as test_compress.sh's fixed-work run) to OUT/bin/model,
#   which prints the label names: every answer's label_name is the
#   student's label set at the index it prints, and the set is train's,
#   sorted;
# - the student keeps them (ONNX metadata distilc.labels) and `distilc
#   eval` reads them from it: --dev alone is enough, the table names the
#   classes, --predictions and --json (per_class) carry the names;
# - --regression: a TSV pair task fine-tuned and evaluated (Pearson,
#   Spearman), with no label names;
# - bad input: exit 2 and FILE:LINE with the reason — bad quoting, a
#   missing column, invalid UTF-8, an empty text, a label train never had,
#   a non-number with --regression — and --skip-bad-lines skips the row;
#   usage errors name the option.
#
# Usage: test_user_data.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch
# and onnx (the teachers are exported from PyTorch).
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_user_data.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-userdata-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"
lacks() { # FILE REGEX WHAT: FILE does not match
    if grep -qE -- "$2" "$1"; then bad "$3: /$2/ in $1"; else ok; fi
}

# ---- fixtures: test_compress.sh's teacher and vocabulary, two tasks ---------
tiny_glue
search_fixture "$TMP/t" 5 ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
"$PY" "$HERE/../util/bert_export.py" --out "$TMP/t3" --layers 2 --hidden 64 --heads 4 \
    --ffn 128 --max-pos 64 --vocab 30 --seed 4 --labels 3 >/dev/null 2>"$TMP/export.err" ||
    { echo "FAIL: bert_export.py --labels 3"; cat "$TMP/export.err"; exit 1; }
"$PY" - "$TMP" <<'PYEOF' || { echo "FAIL: task fixtures"; exit 1; }
import csv, json, os, random, sys
tmp = sys.argv[1]
words = ("the a movie film is was good bad great awful very not fun dull "
         "man woman dog cat plays runs said today , .").split()
rnd = random.Random(11)
def sent():
    return " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 10)))
os.makedirs(tmp + "/reviews")
for split, n in (("train", 40), ("dev", 16)):
    with open("%s/reviews/%s.csv" % (tmp, split), "w", newline="") as f:
        w = csv.writer(f)                    # RFC 4180 quoting
        w.writerow(["id", "review", "sentiment"])
        for i in range(n):
            s = sent()
            if i % 4 == 0:
                s += ', "really"\nsaid the man'  # ',' '"' and a line break
            w.writerow([i, s, "positive" if "good" in s or "great" in s else "negative"])
os.makedirs(tmp + "/pets")
for split, n in (("train", 36), ("dev", 12)):
    with open("%s/pets/%s.jsonl" % (tmp, split), "w") as f:
        for i in range(n):
            a, b = sent(), sent()
            y = ["dog", "cat", "bird"][i % 3]   # first seen: dog, cat, bird
            f.write(json.dumps({"question": a, "passage": b, "animal": y, "n": i}) + "\n")
PYEOF
SMALL=(--vocab "$TMP/vocab.txt" --space "$TMP/space.xml" --cache "$TMP/latency.json"
       --progress off --budget-minutes 0.2 --fitness proxy --steps 3 --threads 1
       --clock cpu)
EX='{"input_ids":[2,9,12,17,3],"attention_mask":[1,1,1,1,1]}'

# names OUT WANT: OUT/bin/model's answers name a label of the student's set,
# the one at the index it prints, and the set is WANT (JSON list)
names() {
    printf '%s\n%s\n' "$EX" '{"input_ids":[[2,9,3],[2,20,3]],"attention_mask":[[1,1,1],[1,1,1]]}' |
        "$1/bin/model" >"$TMP/model.out" 2>"$TMP/model.err" ||
        { bad "$1/bin/model: exit $?: $(cat "$TMP/model.err")"; return; }
    if "$PY" - "$1" "$2" "$TMP/model.out" <<'PYEOF'
import json, sys, onnx
out, want, answers = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
meta = {p.key: p.value for p in onnx.load(out + "/student.onnx").metadata_props}
labels = json.loads(meta["distilc.labels"])
assert labels == want, (labels, want)
lines = [json.loads(l) for l in open(answers)]
assert len(lines) == 2, lines
one, batch = lines
assert one["label_name"] == labels[one["label"]], one
assert len(one["logits"]) == len(labels), one
assert batch["label_name"] == [labels[k] for k in batch["label"]], batch
PYEOF
    then ok; else bad "$1: label names: $(head -c 400 "$TMP/model.out")"; fi
}

# ---- a CSV task through compress ---------------------------------------------
run 0 "compress CSV" compress "$TMP/t/model.onnx" --data "$TMP/reviews" \
    --text-column review --label-column sentiment "${SMALL[@]}" -o "$TMP/oc"
names "$TMP/oc" '["negative","positive"]'
report() { "$PY" -c "import json,sys; j=json.load(open('$1/report.json')); sys.exit(0 if ($2) else 1)"; }
report "$TMP/oc" "j['task'] == 'reviews' and j['metric'] == 'accuracy' and
                  j['student']['dev_examples'] == 16" && ok ||
    bad "CSV report.json: $(head -c 300 "$TMP/oc/report.json")"

# ---- a JSON-lines task (a text pair, three labels) through compress ----------
run 0 "compress JSON lines" compress "$TMP/t3/model.onnx" \
    --train "$TMP/pets/train.jsonl" --dev "$TMP/pets/dev.jsonl" \
    --text-column question --text-pair-column passage --label-column animal \
    "${SMALL[@]}" -o "$TMP/oj"
names "$TMP/oj" '["bird","cat","dog"]'   # sorted, not first-seen order
# a second run skips every stage: the task's fingerprint is stable
run 0 "compress JSON lines again" compress "$TMP/t3/model.onnx" \
    --train "$TMP/pets/train.jsonl" --dev "$TMP/pets/dev.jsonl" \
    --text-column question --text-pair-column passage --label-column animal \
    "${SMALL[@]}" --progress json -o "$TMP/oj" &&
    lacks "$TMP/err" '"skipped":false' "rerun redid a stage"

# ---- eval takes the label set from the student -----------------------------
S=$TMP/oj/student.onnx
PAIR=(--text-column question --text-pair-column passage --label-column animal
      --vocab "$TMP/vocab.txt" --progress off)
run 0 "eval --dev only" eval "$S" --dev "$TMP/pets/dev.jsonl" "${PAIR[@]}" \
    --predictions "$TMP/pred.jsonl" &&
    has "$TMP/out" "^class bird +precision [0-9.]+ recall [0-9.]+ f1 [0-9.]+ \(4 examples\)" \
        "eval per-class table" &&
    has "$TMP/pred.jsonl" '^\{"index":0,"line":1,"label":[012],"label_name":"(bird|cat|dog)",' \
        "eval --predictions label_name"
run 0 "eval --json" eval "$S" --data "$TMP/pets" "${PAIR[@]}" --json &&
    json "j['task'] == 'pets' and [c['label'] for c in j['per_class']] == ['bird', 'cat', 'dog']
          and sum(c['support'] for c in j['per_class']) == 12" "eval --json per_class"

# ---- regression: a TSV pair task with a number to predict ------------------
printf 'a\tb\tsim\nthe dog runs\ta dog runs\t4.5\nthe cat\tbad film\t0.25\n' >"$TMP/sim.tsv"
printf 'good movie\tgreat film\t3\nthe man\tthe woman\t1.5\n' >>"$TMP/sim.tsv"
REG=(--text-column a --text-pair-column b --label-column sim --regression
     --vocab "$TMP/vocab.txt" --max-seq 64 --progress off)
run 0 "finetune --regression" finetune "$TMP/t/model.onnx" --train "$TMP/sim.tsv" \
    --dev "$TMP/sim.tsv" "${REG[@]}" --steps 2 -o "$TMP/reg.onnx"
run 0 "eval --regression" eval "$TMP/reg.onnx" --dev "$TMP/sim.tsv" "${REG[@]}" --json &&
    json "set(j['metrics']) == {'pearson', 'spearmanr', 'combined_score'} and
          'per_class' not in j and j['examples'] == 4" "eval --regression --json"
"$PY" -c "
import onnx, sys
m = onnx.load('$TMP/reg.onnx')
sys.exit(any(p.key == 'distilc.labels' for p in m.metadata_props))" && ok ||
    bad "a regression model has label names"

# ---- bad rows: exit 2, FILE:LINE and why -------------------------------------
printf 'id,review,sentiment\n1,fine,positive\n2,"oops"x,negative\n' >"$TMP/q.csv"
run 2 "bad quoting" eval "$TMP/oc/student.onnx" --dev "$TMP/q.csv" \
    --text-column review --label-column sentiment --vocab "$TMP/vocab.txt" &&
    has "$TMP/err" "q.csv:3: bad quoting: 'x' after a closing quote" "bad quoting message"
run 0 "--skip-bad-lines" eval "$TMP/oc/student.onnx" --dev "$TMP/q.csv" \
    --text-column review --label-column sentiment --vocab "$TMP/vocab.txt" \
    --skip-bad-lines --progress off &&
    has "$TMP/out" "skipped +1 malformed lines \(first: line 3, bad quoting" "skip note"
printf 'id,text,sentiment\n1,fine,positive\n' >"$TMP/col.csv"
run 2 "missing column" eval "$TMP/oc/student.onnx" --dev "$TMP/col.csv" \
    --text-column review --label-column sentiment --vocab "$TMP/vocab.txt" &&
    has "$TMP/err" "col.csv:1: no column 'review' in the header \(it has 'id', 'text', 'sentiment'" \
        "missing column message"
printf 'review,sentiment\nfine,positive\n\xc3\x28 bad,negative\n' >"$TMP/u.csv"
run 2 "invalid UTF-8" eval "$TMP/oc/student.onnx" --dev "$TMP/u.csv" \
    --text-column review --label-column sentiment --vocab "$TMP/vocab.txt" &&
    has "$TMP/err" "u.csv:3: 'review' is not valid UTF-8" "invalid UTF-8 message"
printf '{"review":"fine","sentiment":"positive"}\n{"review":"","sentiment":"negative"}\n' >"$TMP/e.jsonl"
run 2 "empty text" eval "$TMP/oc/student.onnx" --dev "$TMP/e.jsonl" \
    --text-column review --label-column sentiment --vocab "$TMP/vocab.txt" &&
    has "$TMP/err" "e.jsonl:2: empty text in 'review'" "empty text message"
printf 'review,sentiment\nfine,positive\nmeh,neutral\n' >"$TMP/l.csv"
run 2 "label not in train" eval "$TMP/t/model.onnx" --train "$TMP/reviews/train.csv" \
    --dev "$TMP/l.csv" --text-column review --label-column sentiment \
    --vocab "$TMP/vocab.txt" &&
    has "$TMP/err" "l.csv:3: label 'neutral' is not one of train's labels \('negative', 'positive'\)" \
        "unseen label message"
printf 'text,score\na,1.5\nb,high\n' >"$TMP/r.csv"
run 2 "--regression non-number" finetune "$TMP/t/model.onnx" --train "$TMP/r.csv" \
    --dev "$TMP/r.csv" --label-column score --regression --vocab "$TMP/vocab.txt" --max-seq 64 \
    -o "$TMP/r.onnx" &&
    has "$TMP/err" "r.csv:3: 'score' value 'high' is not a finite number" "regression message"

# ---- usage ----------------------------------------------------------------------
run 2 "--task with columns" eval "$S" --task sst2 --data "$TMP/glue" \
    --text-column question &&
    has "$TMP/err" "for your own data, without --task" "--task with columns message"
run 2 "no data" compress "$TMP/t/model.onnx" --vocab "$TMP/vocab.txt" -o "$TMP/x" &&
    has "$TMP/err" "your own data" "no data message"
run 2 "--metric" eval "$S" --dev "$TMP/pets/dev.jsonl" "${PAIR[@]}" --metric top5 &&
    has "$TMP/err" "unknown metric 'top5'" "--metric message"
run 2 "--metric f1 on three labels" eval "$S" --dev "$TMP/pets/dev.jsonl" "${PAIR[@]}" \
    --metric f1 && has "$TMP/err" "f1 needs two labels" "--metric f1 message"
run 2 "unknown extension" eval "$S" --dev "$TMP/vocab.txt" "${PAIR[@]}" &&
    has "$TMP/err" "must be .csv, .tsv, .jsonl or .json" "extension message"

echo "test_user_data: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

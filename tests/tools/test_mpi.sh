#!/usr/bin/env bash
# test_mpi.sh — data-parallel training under mpirun (issue 19, ir/dist.h,
# distill/ddp.h), two ranks on this machine against one process at the
# same global batch:
#  - finetune and distill (all three stages): the losses of every step and
#    the trained weights agree within 1e-5 relative; two runs on two ranks
#    give the same model byte for byte;
#  - a run stopped at 2 ranks resumes at 1, and one stopped at 1 resumes at
#    2, each ending within 1e-5 of the uninterrupted run;
#  - kill -9 of rank 1 mid-run: the job stops within seconds with a message
#    naming rank 1, and --resume on 2 ranks completes with the model of a
#    run never killed, byte for byte; rank 1 stopped (SIGSTOP) instead:
#    rank 0 gives up after DISTILC_MPI_TIMEOUT (3 s here) with a message;
#  - compress on 2 ranks (supernet and distill data parallel, the search's
#    fitness spread, the rest on rank 0; test_mpi_search.sh checks the
#    search bit for bit): the supernet and the student within 1e-5 of one process's,
#    the same student shape; a time budget works across ranks;
#  - eval (oneDNN on 2 ranks, the reference interpreter on 3) and regress
#    split the examples across ranks: the same predictions file and
#    metrics as one process, exactly (one thread a rank, as the one
#    process);
#  - ranks started with other options or other data are refused (exit 2,
#    naming the rank); a command that does not run data parallel is
#    refused on more than one rank.
# One OpenMP thread per rank (OMP_NUM_THREADS=1).
#
# Weights are compared tensor by tensor as max |a - b| / max |a|, except
# the attention key biases of fine-tuning: their exact gradient is zero
# (softmax is unchanged by a constant added to a query's scores), so what
# the backward computes for them is rounding noise, which AdamW scales up
# to the learning rate; any other order of the float sums moves them.
#
# Usage: test_mpi.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips (exit 77) when distilc was built without MPI (DISTILC_HAVE_MPI from
# ctest), mpirun is missing, or /usr/bin/python3 lacks torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_mpi.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../util/lib.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-mpi-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$HERE/../util/mpi_lib.sh"   # the skips, MPI, mpirun_run

# same_weights A.onnx B.onnx WHAT [SKIP_REGEX]: every tensor within 1e-5
same_weights() {
    "$PY" - "$1" "$2" "${4:-^$}" <<'PYEOF' && ok || bad "$3: weights differ"
import re, sys, onnx, numpy as np
from onnx import numpy_helper
def load(f):
    return {t.name: numpy_helper.to_array(t).astype(np.float64)
            for t in onnx.load(f).graph.initializer
            if numpy_helper.to_array(t).dtype.kind == "f"}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), "other tensors"
worst, where = 0.0, ""
for k in a:
    if re.search(sys.argv[3], k):
        continue
    d = np.max(np.abs(a[k] - b[k])) / max(np.max(np.abs(a[k])), 1e-30)
    if d > worst:
        worst, where = d, k
print("  weights: max relative difference %.3g (%s)" % (worst, where))
sys.exit(0 if worst <= 1e-5 else 1)
PYEOF
}

# same_losses A.err B.err WHAT: the step losses of two --progress json runs
same_losses() {
    "$PY" - "$1" "$2" <<'PYEOF' && ok || bad "$3: step losses differ"
import json, sys
def losses(f):
    out = {}
    for line in open(f):
        if line.startswith("{"):
            e = json.loads(line)
            if e.get("event") == "step":
                out[(e.get("stage"), e["step"])] = e["loss"]
    return out
a, b = losses(sys.argv[1]), losses(sys.argv[2])
# the progress lines are paced by the clock: compare the steps both printed
# (each stage's first and last always are)
common = a.keys() & b.keys()
assert len(common) >= 2, (sorted(a), sorted(b))
worst = max(abs(a[k] - b[k]) / max(abs(a[k]), 1e-30) for k in common)
print("  losses: %d steps, max relative difference %.3g" % (len(common), worst))
sys.exit(0 if worst <= 1e-5 else 1)
PYEOF
}

tiny_glue
"$PY" "$HERE/../util/bert_export.py" --out "$TMP/m" --layers 2 --hidden 32 --heads 2 \
    --ffn 64 --max-pos 64 --vocab 30 --seed 0 >/dev/null 2>"$TMP/export.err" &&
"$PY" "$HERE/../util/bert_export.py" --out "$TMP/t" --layers 4 --hidden 32 --heads 4 \
    --ffn 64 --max-pos 64 --vocab 30 --seed 3 >/dev/null 2>>"$TMP/export.err" ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
KB='attn\.k\.bias$'
FT=(finetune "$TMP/m/model.onnx" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt"
    --max-seq 32 --batch 16 --lr 1e-3 --gemm onednn --json --progress json)

# ---- finetune: 1 rank against 2, and 2 against 2 ------------------------------
run 0 "finetune, 1 process" "${FT[@]}" --steps 12 -o "$TMP/f1.onnx" && cp "$TMP/err" "$TMP/f1.err"
mpirun_run 0 2 "finetune, 2 ranks" "${FT[@]}" --steps 12 -o "$TMP/f2.onnx" &&
    cp "$TMP/err" "$TMP/f2.err" && json "j['steps'] == 12 and j['ranks'] == 2" "2-rank report"
[ "$(grep -c '"event":"step"' "$TMP/f2.err")" -ge 1 ] && ok || bad "rank 0's progress lines"
same_losses "$TMP/f1.err" "$TMP/f2.err" "finetune 1 vs 2 ranks"
same_weights "$TMP/f1.onnx" "$TMP/f2.onnx" "finetune 1 vs 2 ranks" "$KB"
mpirun_run 0 2 "finetune, 2 ranks again" "${FT[@]}" --steps 12 -o "$TMP/f2b.onnx"
cmp -s "$TMP/f2.onnx" "$TMP/f2b.onnx" && ok || bad "two 2-rank runs differ"

# ---- resume at another rank count -------------------------------------------
mpirun_run 0 2 "finetune, stopped at 2 ranks" "${FT[@]}" --steps 12 --stop-after 5 \
    --ckpt-dir "$TMP/ck21" -o "$TMP/r21.onnx"
run 0 "finetune, resumed at 1 rank" "${FT[@]}" --steps 12 --ckpt-dir "$TMP/ck21" --resume \
    -o "$TMP/r21.onnx" && json "j['resumed_from'] == 5 and j['steps'] == 12" "resumed at step 5"
same_weights "$TMP/f1.onnx" "$TMP/r21.onnx" "stopped at 2 ranks, resumed at 1" "$KB"
run 0 "finetune, stopped at 1 rank" "${FT[@]}" --steps 12 --stop-after 7 \
    --ckpt-dir "$TMP/ck12" -o "$TMP/r12.onnx"
mpirun_run 0 2 "finetune, resumed at 2 ranks" "${FT[@]}" --steps 12 --ckpt-dir "$TMP/ck12" \
    --resume -o "$TMP/r12.onnx" && json "j['resumed_from'] == 7" "resumed at step 7"
same_weights "$TMP/f1.onnx" "$TMP/r12.onnx" "stopped at 1 rank, resumed at 2" "$KB"

# ---- distill, every stage ------------------------------------------------------
DS=(distill "$TMP/t/model.onnx" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt"
    --batch 8 --max-seq 32 --student layers=2,hidden=16,heads=2,ffn=32
    --corpus "$TMP/corpus.txt" --steps 6 --json --progress json)
run 0 "distill, 1 process" "${DS[@]}" -o "$TMP/d1.onnx" && cp "$TMP/err" "$TMP/d1.err"
mpirun_run 0 2 "distill, 2 ranks" "${DS[@]}" -o "$TMP/d2.onnx" && cp "$TMP/err" "$TMP/d2.err" &&
    json "[s['stage'] for s in j['stages']] == ['general', 'intermediate', 'prediction']" \
         "2-rank distill report"
same_losses "$TMP/d1.err" "$TMP/d2.err" "distill 1 vs 2 ranks"
same_weights "$TMP/d1.onnx" "$TMP/d2.onnx" "distill 1 vs 2 ranks"

# ---- compress: supernet, search and distill on every rank, the rest on rank 0 -
search_fixture "$TMP/st" 5 || { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
CP=(compress "$TMP/st/model.onnx" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt"
    --space "$TMP/space.xml" --cache "$TMP/latency.json" --corpus "$TMP/corpus.txt"
    --steps 4 --supernet-steps 6 --threads 1 --progress off)
run 0 "compress, 1 process" "${CP[@]}" -o "$TMP/c1"
mpirun_run 0 2 "compress, 2 ranks" "${CP[@]}" -o "$TMP/c2"
same_weights "$TMP/c1/supernet/supernet.onnx" "$TMP/c2/supernet/supernet.onnx" \
    "compress supernet, 1 vs 2 ranks"
same_weights "$TMP/c1/student.onnx" "$TMP/c2/student.onnx" "compress student, 1 vs 2 ranks"
"$PY" - "$TMP/c1/report.json" "$TMP/c2/report.json" <<'PYEOF' && ok || bad "compress reports differ"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
print("  compress: student %s / %s, supernet loss %.9g / %.9g"
      % (a["student"]["shape"], b["student"]["shape"], a["supernet"]["last_loss"],
         b["supernet"]["last_loss"]))
assert a["student"]["shape"] == b["student"]["shape"]
assert abs(a["supernet"]["last_loss"] - b["supernet"]["last_loss"]) <= 1e-5 * abs(a["supernet"]["last_loss"])
PYEOF
# a time budget: rank 0's clock ends the supernet and plans the steps
mpirun_run 0 2 "compress, 2 ranks, a budget" "${CP[@]}" --budget-minutes 0.1 -o "$TMP/c3" &&
    [ -s "$TMP/c3/report.json" ] && [ ! -e "$TMP/c3/ckpt" ] && ok ||
    bad "budgeted compress on 2 ranks: no report, or checkpoints left"

# ---- kill -9 of one rank, then --resume ---------------------------------------
K=("${FT[@]}" --steps 1500 --no-eval --progress off --ckpt-every 5)
mpirun_run 0 2 "finetune, never killed" "${K[@]}" -o "$TMP/whole.onnx"
"${MPI[@]}" -np 2 "$DISTILC" "${K[@]}" --ckpt-dir "$TMP/kck" -o "$TMP/killed.onnx" \
    >"$TMP/kout" 2>"$TMP/kerr" &
mpid=$!
for _ in $(seq 1 3000); do
    [ -e "$TMP/kck/last.ckpt" ] && break
    kill -0 $mpid 2>/dev/null || break
    sleep 0.01
done
victim=""
for p in $(pgrep -P $mpid); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" &&
        victim=$p
done
t0=$(date +%s.%N)
if [ -n "$victim" ]; then kill -9 "$victim"; fi
# the job must end by itself, within seconds
for _ in $(seq 1 300); do
    kill -0 $mpid 2>/dev/null || break
    sleep 0.1
done
if kill -0 $mpid 2>/dev/null; then
    bad "the job still runs 30 s after rank 1 was killed"
    kill -9 $mpid 2>/dev/null
fi
wait $mpid
krc=$?
t1=$(date +%s.%N)
[ -n "$victim" ] && ok || bad "rank 1 not found to kill (the run ended first?)"
[ "$krc" -ne 0 ] && ok || bad "the killed job exited 0"
"$PY" -c "import sys; d = $t1 - $t0; print('  stopped %.1f s after the kill' % d); sys.exit(d > 10)" &&
    ok || bad "the job took more than 10 s to stop"
has "$TMP/kerr" "rank 1" "the stop names rank 1"
mpirun_run 0 2 "finetune --resume after kill -9" "${K[@]}" --ckpt-dir "$TMP/kck" --resume \
    -o "$TMP/killed.onnx" && json "j['resumed_from'] > 0 and j['steps'] == 1500" "resumed"
cmp -s "$TMP/whole.onnx" "$TMP/killed.onnx" && ok ||
    bad "the resumed model differs from the one never killed"

# ---- a rank that hangs (SIGSTOP): the others give up after the timeout ---------
"${MPI[@]}" -x DISTILC_MPI_TIMEOUT=3 -np 2 "$DISTILC" "${K[@]}" --ckpt-dir "$TMP/hck" \
    -o "$TMP/hung.onnx" >"$TMP/kout" 2>"$TMP/kerr" &
mpid=$!
for _ in $(seq 1 3000); do
    [ -e "$TMP/hck/last.ckpt" ] && break
    kill -0 $mpid 2>/dev/null || break
    sleep 0.01
done
victim=""
for p in $(pgrep -P $mpid); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" &&
        victim=$p
done
if [ -n "$victim" ]; then kill -STOP "$victim"; fi
for _ in $(seq 1 300); do
    kill -0 $mpid 2>/dev/null || break
    sleep 0.1
done
if kill -0 $mpid 2>/dev/null; then
    bad "the job still runs 30 s after rank 1 hung (timeout 3 s)"
    kill -9 $mpid 2>/dev/null
fi
wait $mpid
hrc=$?
[ -n "$victim" ] && { kill -CONT "$victim"; kill -9 "$victim"; } 2>/dev/null
[ -n "$victim" ] && ok || bad "rank 1 not found to stop (the run ended first?)"
[ "$hrc" -ne 0 ] && ok || bad "the job with a hung rank exited 0"
has "$TMP/kerr" "rank 0 of 2: MPI .*no answer from the other ranks in 3 s" \
    "the hang is named by the rank that waited"

# ---- eval and regress: the examples split across ranks, metrics exact ----------
EV=(eval "$TMP/f1.onnx" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt" --batch 4
    --json --progress off)
for be in "onednn --threads 1" ref; do
    np=2; [ "$be" = ref ] && np=3
    run 0 "eval ($be), 1 process" "${EV[@]}" --backend $be --predictions "$TMP/p1.tsv" &&
        cp "$TMP/out" "$TMP/e1.json"
    mpirun_run 0 $np "eval ($be), $np ranks" "${EV[@]}" --backend $be \
        --predictions "$TMP/p2.tsv" && cp "$TMP/out" "$TMP/e2.json"
    cmp -s "$TMP/p1.tsv" "$TMP/p2.tsv" && ok || bad "eval ($be): predictions differ on $np ranks"
    "$PY" - "$TMP/e1.json" "$TMP/e2.json" <<'PYEOF' && ok || bad "eval ($be): report differs on $np ranks"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
print("  eval: %s / %s, %d / %d batches" % (a["metrics"], b["metrics"], a["batches"], b["batches"]))
for k in ("metrics", "examples", "batches", "tokens", "padded_tokens"):
    assert a[k] == b[k], k
PYEOF
done
RG=(regress "$TMP/f1.onnx" "$TMP/f2.onnx" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt"
    --batch 4 --threads 1 --json --progress off)
run 0 "regress, 1 process" "${RG[@]}" && cp "$TMP/out" "$TMP/g1.json"
mpirun_run 0 2 "regress, 2 ranks" "${RG[@]}" --junit "$TMP/g2.xml" && cp "$TMP/out" "$TMP/g2.json"
"$PY" - "$TMP/g1.json" "$TMP/g2.json" <<'PYEOF' && ok || bad "regress: reports differ on 2 ranks"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for t in a["tasks"] + b["tasks"]:
    t.pop("seconds", None)
assert a == b
PYEOF
grep -q "<testsuite" "$TMP/g2.xml" && ok || bad "regress on 2 ranks: rank 0's JUnit report"

# ---- ranks that disagree, commands that do not run data parallel -------------
"${MPI[@]}" -np 1 "$DISTILC" "${FT[@]}" --steps 2 -o "$TMP/x.onnx" --lr 1e-3 : \
    -np 1 "$DISTILC" "${FT[@]}" --steps 2 -o "$TMP/x.onnx" --lr 2e-3 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && ok || bad "ranks with other options: exit 2"
has "$TMP/err" "rank 1 was started with another command line" "other options refused"
# the same command line in two folders whose data differ
for w in A B; do
    mkdir -p "$TMP/$w" && cp -r "$TMP/glue" "$TMP/$w/glue"
done
printf 'the good movie\t1\n' >>"$TMP/B/glue/SST-2/train.tsv"
REL=(finetune "$TMP/m/model.onnx" --task sst2 --data glue --vocab "$TMP/vocab.txt"
     --max-seq 32 --batch 16 --steps 2 --json --progress off -o "$TMP/x.onnx")
"${MPI[@]}" -np 1 --wdir "$TMP/A" "$DISTILC" "${REL[@]}" : \
    -np 1 --wdir "$TMP/B" "$DISTILC" "${REL[@]}" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && ok || bad "ranks with other data: exit 2"
has "$TMP/err" "rank 1's training data differ from rank 0's" "other data refused"
mpirun_run 2 2 "inspect on 2 ranks" inspect "$TMP/m/model.onnx" &&
    has "$TMP/err" "inspect does not run data parallel" "inspect refused on 2 ranks"

finish test_mpi.sh

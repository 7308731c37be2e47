#!/usr/bin/env bash
# test_kill_resume.sh — kill -9 anywhere in `distilc compress`, then run the
# same command again until it finishes: the student must be the one a run
# that was never killed makes, bit for bit, at the same thread count
# (issue 18). A small run (lib.sh's tiny SST-2, the 4 x 64 teacher of
# search_fixture, fixed step counts, a checkpoint every 4 steps).
#
# What "the same student" can mean when the search measures latencies: a
# shape timed twice times differently, so two runs that each time their
# shapes need not pick the same student, killed or not. What a kill must
# not change is the run itself: the resumed run must use every timing the
# killed run made (the latency cache is written as it grows, the search
# checkpoints each generation) and end with what a run never killed makes
# with those very timings. So:
# 1. A cold cache, a fixed kill inside the search: the run starts with an
#    empty cache of its own and kills itself (kill -9, the test hook
#    DISTILC_TEST_KILL_AT) at the search's fifth cycle, after its first
#    checkpoint (its initial population scored, calibration and timings in
#    the cache): a kill from outside timed by the clock could land after
#    the search on a fast machine. The cache as the kill left it is kept aside. A truncated
#    search checkpoint is refused first (exit 2 naming the file); then the
#    resumed run is killed again once the distill stage checkpointed, and
#    resumed to the end. Checked: the resumed search said it resumed, and
#    every timing in the killed run's cache is in the final cache with the
#    same value (nothing the killed run measured was measured again).
# 2. The reference, never killed, started with the cache the killed runs
#    left: it must time nothing (the cache file stays as it was, byte for
#    byte) and make the same student and search/pareto.json (every
#    candidate's latency and fitness, in evaluation order) as the killed
#    and resumed run. Together: the kills changed nothing but the time.
# 3. POINTS times: start afresh, SIGKILL at a random point, and half the
#    time kill the resumed run once more the same way; then run it to the
#    end. A point is a random stage (each that took the reference at least
#    50 ms, and the search whatever it took, drawn equally: the training
#    stages and the search are hit as often as the compiler's long build)
#    and a random time within the reference's duration of it, counted from
#    when the run starts that stage (a busy machine moves the stages'
#    start times far more than their lengths). These runs share the
#    reference's cache, which holds every shape: their searches time
#    nothing, so any difference is the resume's.
# "The same": student.onnx, bin/model.weights, search/pareto.json and
# bin/model.c (but the command line in its header) equal the reference's,
# byte for byte, and report.json carries the reference's distillation and
# supernet losses (the figures of stages finished before a kill).
#
# POINTS: DISTILC_KILL_POINTS (default 3, what CI runs: the whole script
# took 105 s in Release on the 2-core VM shared with other jobs); 20 for
# the issue's full check. DISTILC_KILL_SEED fixes the random points
# (printed on every run, to replay a failure).
# Under AddressSanitizer (about ten times slower) the random points are
# skipped, because the kills would land almost all in the first stages and
# the run would take minutes; 1 and 2 still run, in full (66 s).
#
# Usage: test_kill_resume.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_kill_resume.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-kill-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"

POINTS=${DISTILC_KILL_POINTS:-3}
SEED=${DISTILC_KILL_SEED:-$(date +%s)}
RANDOM=$SEED
ASAN=0
grep -qa "__asan_init" "$DISTILC" && ASAN=1

tiny_glue
search_fixture "$TMP/t" 1000 ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
C=(compress "$TMP/t/model.onnx" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt"
   --space "$TMP/space.xml" --cache "$TMP/latency.json" --corpus "$TMP/corpus.txt"
   --steps 40 --supernet-steps 60 --train-threads 1 --ckpt-every 4 --progress json)

now_ms() { date +%s%3N; }

# same OUT: the student files of OUT equal the reference's, byte for byte
same() {
    local o=$1 f
    for f in student.onnx bin/model.weights search/pareto.json; do
        cmp -s "$TMP/ref/$f" "$o/$f" || { echo "    $f differs"; return 1; }
    done
    # the emitted source names the command (and so -o OUT): not compared
    cmp -s <(grep -v '^ \*   command:' "$TMP/ref/bin/model.c") \
           <(grep -v '^ \*   command:' "$o/bin/model.c") ||
        { echo "    bin/model.c differs"; return 1; }
    "$PY" - "$TMP/ref/report.json" "$o/report.json" <<'PYEOF' || return 1
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for key in ("final_loss", "steps"):
    x = [s[key] for s in a["distill"]["stages"]]
    y = [s[key] for s in b["distill"]["stages"]]
    if x != y:
        sys.exit("    report.json distill %s: %s, never killed %s" % (key, y, x))
for key in ("steps", "first_loss", "last_loss"):
    if a["supernet"][key] != b["supernet"][key]:
        sys.exit("    report.json supernet %s: %s, never killed %s"
                 % (key, b["supernet"][key], a["supernet"][key]))
PYEOF
}

# kill_when FILE OUT: starts the run, SIGKILLs it as soon as FILE exists;
# returns 0 when it was killed (not when it ended first)
kill_when() {
    "$DISTILC" "${C[@]}" -o "$2" >/dev/null 2>"$TMP/kill.err" &
    local pid=$!
    while kill -0 $pid 2>/dev/null && [ ! -e "$1" ]; do
        sleep 0.02
    done
    if kill -9 $pid 2>/dev/null; then
        { wait $pid; } 2>/dev/null
        return 0
    fi
    wait $pid
    bad "the run ended (exit $?) before $1 appeared"
    tail -5 "$TMP/kill.err"
    return 1
}

# kill_self LABEL:N OUT: runs with the test hook DISTILC_TEST_KILL_AT (the
# process SIGKILLs itself when the work LABEL reports N done, the same
# kill -9 as from outside, at an exact point); returns 0 when it died so
kill_self() {
    DISTILC_TEST_KILL_AT=$1 "$DISTILC" "${C[@]}" -o "$2" >/dev/null 2>"$TMP/kill.err"
    local rc=$?
    [ $rc -eq 137 ] && return 0
    bad "DISTILC_TEST_KILL_AT=$1: the run ended with exit $rc, not killed"
    tail -5 "$TMP/kill.err"
    return 1
}

# kill_at STAGE MS OUT: starts the run, SIGKILLs it MS milliseconds after
# it started STAGE (unless it finished first, or skipped STAGE); returns 0
# when it was killed
kill_at() {
    # emptied first: the loop below may look before the new run's redirect
    # truncates the file, and the last run's stage events would start the
    # clock early (a kill "in search" that landed in lift)
    : >"$TMP/kill.err"
    "$DISTILC" "${C[@]}" -o "$3" >/dev/null 2>"$TMP/kill.err" &
    local pid=$! t0=
    while kill -0 $pid 2>/dev/null; do
        if [ -z "$t0" ]; then
            grep -q "\"stage\":\"$1\",\"skipped\":false" "$TMP/kill.err" && t0=$(now_ms)
        elif [ $(($(now_ms) - t0)) -ge "$2" ]; then
            break
        fi
        sleep 0.01
    done
    if kill -9 $pid 2>/dev/null; then
        { wait $pid; } 2>/dev/null
        return 0
    fi
    wait $pid
    local rc=$?
    [ $rc -eq 0 ] || { bad "run ended by itself with exit $rc"; tail -5 "$TMP/kill.err"; }
    return 1
}

# ---- 1. a cold cache of its own, killed inside the search -------------------
A=$TMP/cold
SCK=$A/ckpt/search/evolution.ckpt
t0=$(now_ms)
# killed at the search's fifth cycle: after its first checkpoint (the
# initial population scored), inside the first generation
if kill_self search:5 "$A" && { [ -s "$SCK" ] || { bad "no search checkpoint before the kill"; false; }; }; then
    cp "$TMP/latency.json" "$TMP/latency-killed.json" ||
        bad "the killed run left no latency cache"
    # a truncated checkpoint is bad input naming the file, then the real one
    cp "$SCK" "$TMP/evolution.ckpt.saved"
    head -c 100 "$TMP/evolution.ckpt.saved" >"$SCK"
    run 2 "a truncated search checkpoint" "${C[@]}" -o "$A" &&
        has "$TMP/err" "search checkpoint '[^']*evolution.ckpt'.*(truncated|too short)" \
            "the truncated checkpoint is named"
    cp "$TMP/evolution.ckpt.saved" "$SCK"
    # resumed, and killed again inside the distillation
    if kill_when "$A/ckpt/distill/general/last.ckpt" "$A"; then
        has "$TMP/kill.err" "search: resumed from its checkpoint after [0-9]+ cycles" \
            "the search resumed from its checkpoint"
        grep -o "search: resumed from its checkpoint after [0-9]* cycles" "$TMP/kill.err"
        run 0 "resumed after kills in search and distill" "${C[@]}" -o "$A" &&
            has "$TMP/err" '"stage":"distill","skipped":false,"why":"not done yet"' \
                "the distill stage resumed"
        # the same --train-threads: nothing to warn about
        ! grep -q "resumes with" "$TMP/err" && ok ||
            bad "a resume at the same --train-threads was warned about"
    fi
    # every timing the killed run saved is in the final cache, unchanged
    "$PY" - "$TMP/latency-killed.json" "$TMP/latency.json" <<'PYEOF' &&
import json, sys
a, b = (json.load(open(f))["entries"] for f in sys.argv[1:])
lost = [k for k in a if b.get(k) != a[k]]
if not a or lost:
    sys.exit("    %d timings of the killed run (of %d) were lost or re-timed: %s"
             % (len(lost), len(a), lost[:3]))
print("cold cache: the killed run saved %d timings, all reused; %d in the end"
      % (len(a), len(b)))
PYEOF
        ok || bad "the resumed run did not reuse the killed run's timings"
fi
echo "killed in search and distill, resumed: $(($(now_ms) - t0)) ms"

# ---- 1b. resumed with other training threads: it goes on, and says so ------
# (the user may move a killed run to a larger machine; its sums are ordered
# otherwise from there, so the student is not the unkilled run's bit for bit)
B=$TMP/threads
C2=()
for ((i = 0; i < ${#C[@]}; i++)); do
    C2+=("${C[$i]}")
    [ "${C[$i]}" = "--train-threads" ] && { C2+=(2); i=$((i + 1)); }
done
if kill_self "distill general:10" "$B"; then
    run 0 "resumed with 2 training threads" "${C2[@]}" -o "$B" &&
        has "$TMP/err" "warning: distill resumes with 2 training threads on 1 rank; its checkpoints were written with 1 on 1" \
            "the change of --train-threads is said"
fi
rm -rf "$B"

# ---- 2. the reference, never killed, with the timings the kills left --------
cp "$TMP/latency.json" "$TMP/latency-before.json"
t0=$(now_ms)
run 0 "compress, never killed" "${C[@]}" -o "$TMP/ref" || exit 1
D=$(($(now_ms) - t0))
cmp -s "$TMP/latency.json" "$TMP/latency-before.json" && ok ||
    bad "the reference timed shapes the killed and resumed run did not"
same "$A" && ok ||
    bad "killed in search (cold cache) and resumed: the student differs from the never killed one"
# the stages that took at least 50 ms, and the search, "stage ms" a line
"$PY" - "$TMP/err" >"$TMP/spans" <<'PYEOF' || { bad "stage times of the reference"; exit 1; }
import json, sys
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("event") == "stage_done" and (e["seconds"] >= 0.05 or e["stage"] == "search"):
        print(e["stage"], max(1, int(1000 * e["seconds"])))
PYEOF
mapfile -t SPANS <"$TMP/spans"
echo "never killed: $D ms; stages (ms): ${SPANS[*]}; kill points: $POINTS, seed $SEED"

# point: a random stage and a random time in ms within its length
point() {
    local span=(${SPANS[$((RANDOM % ${#SPANS[@]}))]})
    echo "${span[0]} $((RANDOM * span[1] / 32768))"
}

if [ "$ASAN" = 1 ]; then
    # the ASan form of the test: the fixed kills above, checked in full (a
    # run takes ${D} ms here, too slow for $POINTS random ones)
    echo "note: under ASan the fixed kills (search, distill) stand for the $POINTS random ones"
    finish test_kill_resume.sh
fi

# ---- 3. kill at random points, resume until done -----------------------------
for k in $(seq 1 "$POINTS"); do
    o=$TMP/k$k
    p=($(point))
    what="point $k: kill ${p[1]} ms into ${p[0]}"
    if kill_at "${p[0]}" "${p[1]}" "$o" && [ $((RANDOM % 2)) -eq 1 ]; then
        p=($(point))
        what="$what, then ${p[1]} ms into ${p[0]} of the resumed run"
        kill_at "${p[0]}" "${p[1]}" "$o"
    fi
    if run 0 "$what: resume" "${C[@]}" -o "$o"; then
        resumed=$(grep -o '"stage":"[a-z]*","skipped":false,"why":"[^"]*"' "$TMP/err" |
                  head -1 | cut -d'"' -f4,10 | sed 's/"/ (/; s/$/)/')
        echo "$what: the last run began at ${resumed:-nothing (all done)}"
        same "$o" && ok || bad "$what: the student differs from the never killed one"
    fi
    rm -rf "$o"
done
finish test_kill_resume.sh

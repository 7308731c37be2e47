#!/usr/bin/env bash
# run_all.sh — runs every fuzz harness of a fuzz build (tests/fuzz,
# -DDISTILC_FUZZ=ON) one after another, each on its own corpus
# (corpus/<harness>/, seeded at build time and grown by every run), and
# writes a Markdown table of the runs (surface, harness, executions, wall
# and CPU time, speed, slowest input, corpus, result) to paste into
# TESTING.md.
# scripts/test.sh (CI) runs it with a small budget per harness.
#
#   tests/fuzz/run_all.sh [--total S | --each S] [--out FILE] [BUILD_DIR]
#     --total S   S seconds in all, shared evenly (default 900)
#     --each S    S seconds per harness instead (FUZZ_SECONDS sets it too)
#     --out FILE  the Markdown table (default: BUILD_DIR/tests/fuzz/fuzz-runs.md)
#     BUILD_DIR   the fuzz build (default build-fuzz)
# FUZZ_FLAGS adds libFuzzer options to every run (FUZZ_FLAGS=-use_value_profile=1).
#
# A run fails on a crash, a sanitizer report (ASan, UBSan, LeakSanitizer),
# an input slower than 20 s (a hang) or one that needs more than 2 GB; the
# input is kept as BUILD_DIR/tests/fuzz/artifacts/<harness>-crash-<sha1>
# (or -leak-, -timeout-, -oom-) and named in the table and on stdout.
# Replay it with: BUILD_DIR/tests/fuzz/fuzz_<harness> <that file>.
# Prints one line per harness ("fuzz_json: 51234 runs in 15 s (9 s CPU),
# ok") and
# exits 1 when any run failed, 2 on bad usage.
set -uo pipefail

# harness|what it reads (the order of the table)
HARNESSES=(
    "onnx_load|ONNX models (nesting, external data)"
    "tensor_proto|TensorProto .pb (run --input)"
    "glue_tsv|GLUE .tsv"
    "user_data|your own CSV, TSV, JSON lines"
    "vocab_txt|vocab.txt"
    "tokenizer_json|tokenizer.json"
    "tokenize|the tokenizers on any text"
    "json|the JSON reader"
    "program_stdin|the emitted program's stdin"
    "state_json|compress state.json"
    "latency_cache|the latency cache"
    "calibration|int8 calibration lines"
    "recipe_xml|recipe XML"
    "space_xml|search space XML"
    "checkpoint|trainer checkpoints"
    "search_ckpt|search checkpoints"
    "model_weights|model.weights"
)

total=900
each=${FUZZ_SECONDS:-}
out=
build=build-fuzz
while [ $# -gt 0 ]; do
    case $1 in
    --total) total=$2; each=; shift 2 ;;
    --each) each=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
    -*) echo "run_all.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
fdir=$build/tests/fuzz
if [ ! -d "$fdir/corpus" ]; then
    echo "run_all.sh: no $fdir/corpus: build the fuzz targets first" \
         "(cmake --build $build --target fuzz_all)" >&2
    exit 2
fi
n=${#HARNESSES[@]}
[ -n "$each" ] || each=$(( total / n > 0 ? total / n : 1 ))
out=${out:-$fdir/fuzz-runs.md}
fdir=$(cd "$fdir" && pwd)
art=$fdir/artifacts
mkdir -p "$art"
# The harnesses' scratch folders (fuzz_util.h) live here and go at the end:
# in memory where there is a /dev/shm (the harnesses that read a path write
# every input to a file, a hundred times slower on a busy disk).
base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
scratch=$(mktemp -d "$base/distilc-fuzz-run-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

stat_of() { # KEY LOG: the value of libFuzzer's "stat::KEY: N" line
    grep -E "^stat::$1:" "$2" | tail -1 | awk '{print $2}'
}

failed=0
rows=()
sum_runs=0
sum_time=0
sum_cpu=0
for entry in "${HARNESSES[@]}"; do
    h=${entry%%|*}
    surface=${entry#*|}
    bin=$fdir/fuzz_$h
    if [ ! -x "$bin" ]; then
        echo "fuzz_$h: not built"
        rows+=("| $surface | \`fuzz_$h\` | – | – | – | – | – | – | **not built** |")
        failed=1
        continue
    fi
    log=$scratch/$h.log
    mkdir -p "$fdir/corpus/$h"
    start=$(date +%s)
    # bash's time: the run's user + system CPU seconds (the machine may be
    # shared: wall time alone would overstate the fuzzing done)
    TIMEFORMAT='%3U %3S'
    { time (cd "$fdir" && TMPDIR=$scratch ./fuzz_$h -max_total_time="$each" \
        -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art/$h-" ${FUZZ_FLAGS:-} "corpus/$h" >"$log" 2>&1) ; } \
        2>"$scratch/$h.time"
    rc=$?
    secs=$(( $(date +%s) - start ))
    cpu=$(awk '{printf "%.0f", $1 + $2}' "$scratch/$h.time")
    runs=$(stat_of number_of_executed_units "$log")
    runs=${runs:-0}
    speed=$(stat_of average_exec_per_sec "$log")
    slowest=$(stat_of slowest_unit_time_sec "$log")
    corpus=$(find "$fdir/corpus/$h" -type f | wc -l)
    result=ok
    if [ "$rc" -ne 0 ]; then
        failed=1
        kind=crash
        grep -q "ERROR: LeakSanitizer" "$log" && kind=leak
        grep -q "ERROR: libFuzzer: timeout" "$log" && kind=hang
        grep -qE "ERROR: libFuzzer: (out-of-memory|malloc)" "$log" && kind=oom
        grep -q "runtime error:" "$log" && kind=UB
        input=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | sed 's/.* //')
        why=$(grep -m1 -E "ERROR: |runtime error:|broken promise|setup failed" "$log" |
              sed 's/^==[0-9]*==//' | cut -c1-160)
        result="**$kind**: ${input:-no input saved} ($why)"
        echo "---- fuzz_$h: the end of its log ($log):"
        tail -40 "$log"
    fi
    sum_runs=$(( sum_runs + runs ))
    sum_time=$(( sum_time + secs ))
    sum_cpu=$(( sum_cpu + cpu ))
    echo "fuzz_$h: $runs runs in $secs s ($cpu s CPU), $result"
    rows+=("| $surface | \`fuzz_$h\` | $runs | $secs | $cpu | ${speed:-0} | ${slowest:-?} | $corpus | $result |")
done

{
    echo "| surface | harness | executions | time (s) | CPU (s) | exec/s | slowest input (s) | corpus | result |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
    echo "| **all** | $n harnesses | $sum_runs | $sum_time | $sum_cpu | | | | $([ $failed -eq 0 ] && echo "no crash, leak or hang" || echo "**failures above**") |"
} >"$out"
echo "fuzz: $sum_runs runs in $sum_time s ($sum_cpu s CPU) over $n harnesses; table in $out"
exit $failed

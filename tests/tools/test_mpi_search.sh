#!/usr/bin/env bash
# test_mpi_search.sh — compress's search spread over MPI ranks (issue 19,
# search/fitness_dist.h): every rank scores its share of each block of
# candidates on the supernet, rank 0 draws them and times shapes. On one
# supernet (trained once by one process, the search redone with --from
# search) and one latency cache, the search at 2 ranks gives one
# process's result bit for bit: the same pareto.json (every candidate's
# fitness and latency) and the same student shape, with one child a cycle
# and with --children-per-cycle 3 (that K draws otherwise than K = 1 is
# tests/search/test_evolution_batch.c's: this space is small enough for
# both to see every shape).
# A --children-per-cycle above the population is refused (exit 2).
# One OpenMP thread per rank (OMP_NUM_THREADS=1), as the one process.
#
# Usage: test_mpi_search.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips (exit 77) when distilc was built without MPI (DISTILC_HAVE_MPI from
# ctest), mpirun is missing, or /usr/bin/python3 lacks torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_mpi_search.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../util/lib.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-mpisearch-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$HERE/../util/mpi_lib.sh"   # the skips, MPI, mpirun_run

# same_search A B WHAT: the same pareto.json byte for byte, the same shape
same_search() {
    if cmp -s "$1/search/pareto.json" "$2/search/pareto.json" &&
       "$PY" - "$1/report.json" "$2/report.json" <<'PYEOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
print("  %s: student %s / %s" % (sys.argv[1].split("/")[-2], a["student"]["shape"],
                                  b["student"]["shape"]))
sys.exit(0 if a["student"]["shape"] == b["student"]["shape"] else 1)
PYEOF
    then ok; else bad "$3: the searches differ"; fi
}

tiny_glue
search_fixture "$TMP/st" 5 || { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
CP=(compress "$TMP/st/model.onnx" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt"
    --space "$TMP/space.xml" --cache "$TMP/latency.json" --corpus "$TMP/corpus.txt"
    --steps 2 --supernet-steps 6 --threads 1 --progress off)
# one supernet for all: trained once, every search after redone on it
run 0 "compress, 1 process" "${CP[@]}" -o "$TMP/base"
for k in 1 3; do
    cp -r "$TMP/base" "$TMP/k${k}r1"
    cp -r "$TMP/base" "$TMP/k${k}r2"
    run 0 "search K=$k, 1 process" "${CP[@]}" --children-per-cycle $k --from search \
        -o "$TMP/k${k}r1"
    mpirun_run 0 2 "search K=$k, 2 ranks" "${CP[@]}" --children-per-cycle $k \
        --from search -o "$TMP/k${k}r2"
    same_search "$TMP/k${k}r1" "$TMP/k${k}r2" "K=$k, 1 vs 2 ranks"
done
# K = 1 is the search of the first run (same supernet, same cache)
cmp -s "$TMP/base/search/pareto.json" "$TMP/k1r1/search/pareto.json" && ok ||
    bad "--children-per-cycle 1 searched otherwise than the default"
run 2 "K above the population" "${CP[@]}" --children-per-cycle 1000 --from search \
    -o "$TMP/k1r1" && grep -q "children per cycle" "$TMP/err" && ok ||
    bad "no message naming the children per cycle"
finish test_mpi_search.sh

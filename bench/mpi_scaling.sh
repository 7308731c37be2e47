#!/usr/bin/env bash
# mpi_scaling.sh — data-parallel fine-tuning on one machine (issue 19): the
# same global batch trained as 1 rank x 1 thread, 1 rank x T threads and
# N ranks x 1 thread (mpirun), side by side in one run, ROUNDS rounds
# alternating the configurations so that a drift of the machine hits them
# all alike; and the same three with the peer, PyTorch (bench/ddp_torch.py:
# one process, or DistributedDataParallel over gloo), in the same rounds.
# Prints one JSON line per run (distilc finetune --json: steady tokens/s,
# the seconds a rank waited on the gradient sums) and a Markdown table of
# the medians: each configuration's speed as a ratio to its own 1 x 1, and
# distilc's as a ratio to PyTorch's. MODEL_DIR (bench/make_teacher_minilm.py's
# folder: model.onnx, model.pt, vocab.txt) holds both sides' weights.
#
#   bench/mpi_scaling.sh MODEL_DIR/model.onnx MODEL_DIR/vocab.txt GLUE_DIR [STEPS] [ROUNDS]
#   env: DISTILC (default build/distilc), RANKS (2), THREADS (2),
#        BATCH (32), TASK (sst2)
#
# Run it alone: on 2 cores any other process changes OpenMP's and MPI's
# timings.
set -eu
MODEL=${1:?usage: mpi_scaling.sh MODEL.onnx VOCAB.txt GLUE_DIR [STEPS] [ROUNDS]}
VOCAB=${2:?vocab}
DATA=${3:?GLUE folder}
STEPS=${4:-60}
ROUNDS=${5:-3}
DISTILC=${DISTILC:-build/distilc}
RANKS=${RANKS:-2}
THREADS=${THREADS:-2}
BATCH=${BATCH:-32}
TASK=${TASK:-sst2}
MPIRUN=$(command -v mpirun || true)
[ -n "$MPIRUN" ] || { echo "mpi_scaling.sh: no mpirun (apt-get install openmpi-bin)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ARGS=(finetune "$MODEL" --task "$TASK" --data "$DATA" --vocab "$VOCAB"
      -o "$TMP/out.onnx" --steps "$STEPS" --batch "$BATCH" --no-eval
      --json --progress off)

run() { # NAME RANKS THREADS
    local out
    if [ "$2" -eq 1 ]; then
        out=$(OMP_NUM_THREADS=$3 "$DISTILC" "${ARGS[@]}" --threads "$3")
    else
        out=$("$MPIRUN" --allow-run-as-root --oversubscribe -np "$2" \
              -x OMP_NUM_THREADS="$3" -x OMP_WAIT_POLICY=passive \
              "$DISTILC" "${ARGS[@]}" --threads "$3" | grep '^{' | head -1)
    fi
    echo "{\"config\":\"$1\",\"ranks\":$2,\"threads\":$3,\"run\":$out}" | tee -a "$TMP/runs.jsonl"
}

run_torch() { # NAME PROCS THREADS
    local out
    out=$(OMP_NUM_THREADS=$3 /usr/bin/python3 "$(dirname "$0")/ddp_torch.py" \
          --model-dir "$(dirname "$MODEL")" --data "$DATA" --steps "$STEPS" \
          --batch "$BATCH" --procs "$2" --threads "$3" | grep '^{' | tail -1)
    echo "{\"config\":\"$1\",\"peer\":\"pytorch\",\"ranks\":$2,\"threads\":$3,\"run\":$out}" |
        tee -a "$TMP/runs.jsonl"
}

for r in $(seq 1 "$ROUNDS"); do
    run "1x1" 1 1
    run_torch "1x1" 1 1
    run "1x$THREADS" 1 "$THREADS"
    run_torch "1x$THREADS" 1 "$THREADS"
    run "${RANKS}x1" "$RANKS" 1
    run_torch "${RANKS}x1" "$RANKS" 1
done

/usr/bin/python3 - "$TMP/runs.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault((r["config"], r.get("peer", "distilc")), []).append(r)
med = lambda v, k: statistics.median(x["run"][k] for x in v)
runs = lambda v: " ".join("%.0f" % x["run"]["steady_tokens_per_s"] for x in v)
print("\n| ranks x threads | distilc tokens/s (median; runs) | vs its 1 x 1 | waited on gradient sums (s) | PyTorch tokens/s (median; runs) | vs its 1 x 1 | distilc / PyTorch |")
print("|---|---:|---:|---:|---:|---:|---:|")
for cfg in dict.fromkeys(c for c, _ in by):
    d, t = by[(cfg, "distilc")], by.get((cfg, "pytorch"), [])
    dt = med(d, "steady_tokens_per_s")
    d1 = med(by[("1x1", "distilc")], "steady_tokens_per_s")
    if t:
        tt = med(t, "steady_tokens_per_s")
        t1 = med(by[("1x1", "pytorch")], "steady_tokens_per_s")
        peer = "%.0f (%s) | %.2f | %.2f" % (tt, runs(t), tt / t1, dt / tt)
    else:
        peer = "- | - | -"
    print("| %s | %.0f (%s) | %.2f | %.2f | %s |" % (
        cfg.replace("x", " x "), dt, runs(d), dt / d1, med(d, "comm_wait_seconds"), peer))
EOF

#!/usr/bin/env bash
# test_search.sh — `distilc search` and `distilc latency-model` end to end on
# a tiny search space this script writes (short sequences, so every timing
# is a fraction of a millisecond): the Pareto files (JSON checked with
# python's json module when available, SVG with xmllint when available),
# determinism in the seed, the constraint on every front member, errors
# naming the file/line/element or option, and the latency model's report.
#
# Usage: test_search.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_search.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-search-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../util/lib.sh"

expect_err() { # PATTERN WHAT
    if grep -q -- "$1" "$TMP/err"; then ok; else bad "$2: stderr lacks '$1'"; sed 's/^/    /' "$TMP/err" | head -5; fi
}

cat >"$TMP/space.xml" <<'XML'
<?xml version="1.0"?>
<space version="1">
  <base vocab="500" max-positions="64" type-vocab="2" labels="2"/>
  <choices>
    <layers>1 2 3</layers>
    <hidden>32 64 96</hidden>
    <heads>1 2</heads>
    <ffn>64 128 256</ffn>
    <embed>0 16</embed>
    <sharing>none all</sharing>
  </choices>
  <constraints>
    <latency ms="50" seq="8" batch="1" threads="1"/>
    <params max="200000"/>
  </constraints>
</space>
XML
CACHE="$TMP/cache.json"

# a search writes both files and says the fitness is a proxy
run 0 "search" search --space "$TMP/space.xml" -o "$TMP/a" --generations 3 \
    --population 6 --seed 5 --cache "$CACHE" --progress off
[ -s "$TMP/a/pareto.json" ] && ok || bad "pareto.json missing"
[ -s "$TMP/a/pareto.svg" ] && ok || bad "pareto.svg missing"
grep -q "proxy" "$TMP/out" && ok || bad "summary does not say the fitness is a proxy"
grep -q "Pareto front" "$TMP/out" && ok || bad "summary lacks the front"
[ -s "$CACHE" ] && ok || bad "latency cache not written"
if command -v xmllint >/dev/null; then
    xmllint --noout "$TMP/a/pareto.svg" 2>/dev/null && ok || bad "pareto.svg is not XML"
fi
if /usr/bin/python3 -c "import json" 2>/dev/null; then
    /usr/bin/python3 - "$TMP/a/pareto.json" <<'PY' && ok || bad "pareto.json content"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["format"] == "distilc-pareto" and p["version"] == 1
assert "proxy" in p["fitness"]
front = p["front"]
assert front, "empty front"
lat = [c["latency_ms"] for c in front]
assert lat == sorted(lat)
for c in front:
    assert c["feasible"] and c["front"] and c["params"] <= 200000
    assert c["latency_ms"] <= 50
# nobody feasible dominates a front member
for c in front:
    for o in p["candidates"]:
        if o["feasible"]:
            assert not (o["fitness"] >= c["fitness"] and o["latency_ms"] <= c["latency_ms"]
                        and (o["fitness"] > c["fitness"] or o["latency_ms"] < c["latency_ms"]))
PY
fi

# same seed, same candidates (the cache is warm now: no timing noise)
run 0 "search again" search --space "$TMP/space.xml" -o "$TMP/b" --generations 3 \
    --population 6 --seed 5 --cache "$CACHE" --no-measure --progress off --json
grep -q '"evaluated"' "$TMP/out" && ok || bad "--json summary"
if /usr/bin/python3 -c "import json" 2>/dev/null; then
    /usr/bin/python3 - "$TMP/a/pareto.json" "$TMP/b/pareto.json" <<'PY' && ok || bad "not deterministic in the seed"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
key = lambda c: (c["layers"], c["hidden"], c["heads"], c["ffn"], c["embed"], c["sharing"])
assert [key(c) for c in a["candidates"]] == [key(c) for c in b["candidates"]]
PY
fi

# a tighter limit from the command line is honoured
run 0 "search --params" search --space "$TMP/space.xml" -o "$TMP/c" --generations 2 \
    --population 4 --params 60000 --cache "$CACHE" --progress off --json
if /usr/bin/python3 -c "import json" 2>/dev/null; then
    /usr/bin/python3 -c "
import json, sys
p = json.load(open('$TMP/c/pareto.json'))
assert all(c['params'] <= 60000 for c in p['front'])" && ok || bad "--params not honoured"
fi

# errors: schema (file, line, element), options, impossible constraints
printf '<space version="1">\n  <choices>\n    <layers>2</layers>\n    <hidden>64</hidden>\n    <heads>two</heads>\n    <ffn>128</ffn>\n  </choices>\n</space>\n' >"$TMP/bad.xml"
run 2 "bad space" search --space "$TMP/bad.xml" -o "$TMP/d" --progress off
expect_err "bad.xml:5: Element 'heads'" "schema error"
run 2 "missing space" search --space "$TMP/nope.xml" -o "$TMP/d"
expect_err "nope.xml" "missing file"
run 2 "no -o" search --space "$TMP/space.xml"
expect_err "-o DIR" "missing -o"
run 2 "bad precision" search --space "$TMP/space.xml" -o "$TMP/d" --precision fp8
expect_err "fp8" "bad precision"
run 2 "bad latency" search --space "$TMP/space.xml" -o "$TMP/d" --latency-ms -3
expect_err "latency-ms" "bad latency"
run 2 "impossible" search --space "$TMP/space.xml" -o "$TMP/d" --latency-ms 0.000001 \
    --cache "$CACHE" --progress off
expect_err "meet the constraints" "impossible constraint"
run 0 "help" search --help
grep -q "pareto.svg" "$TMP/out" && ok || bad "search --help"

# the latency model against the runtime, tiny: 2 to fit, 3 to check
run 0 "latency-model" latency-model --space "$TMP/space.xml" --validate 3 \
    --calibrate 2 --runs 3 --clock cpu --cache "$CACHE" --json --progress off
if /usr/bin/python3 -c "import json" 2>/dev/null; then
    /usr/bin/python3 -c "
import json, math
p = json.load(open('$TMP/out'))
assert len(p['candidates']) == 3 and p['calibrated_now']
assert all(c['measured_ms'] > 0 and c['predicted_ms'] > 0 for c in p['candidates'])
assert -1 <= p['kendall_tau'] <= 1 and p['mean_rel_error'] >= 0
# how busy the rest of the machine was while it timed: a number however busy
t = p['timing_load']
assert t['seconds'] > 0 and (t['other_cores'] is None or t['other_cores'] >= 0)" && ok || bad "latency-model JSON"
fi

# Timing beside another job: jobs spinning on every core are what the
# latency model sees as other processes' load, and it says so (timings
# taken that way run slow, even on the CPU clock). A fresh cache, so that
# everything is timed.
cores=$(nproc)
if [ "$cores" -ge 2 ] && [ -r /proc/stat ]; then
    spinners=()
    for _ in $(seq "$cores"); do
        (while :; do :; done) &
        spinners+=($!)
    done
    run 0 "latency-model, busy" latency-model --space "$TMP/space.xml" --validate 3 \
        --calibrate 2 --runs 3 --clock cpu --cache "$TMP/busy.json" --json --progress off
    kill "${spinners[@]}" 2>/dev/null
    wait "${spinners[@]}" 2>/dev/null
    expect_err "other processes kept" "busy machine not warned about"
    /usr/bin/python3 -c "
import json
t = json.load(open('$TMP/out'))['timing_load']
assert t['seconds'] >= 1 and t['other_cores'] >= 0.5, t" && ok || bad "busy timing_load"
else
    echo "skipped: the busy-machine check needs 2 cores and /proc/stat ($cores cores here)"
fi
run 0 "latency-model table" latency-model --space "$TMP/space.xml" --validate 2 \
    --runs 2 --clock cpu --cache "$CACHE" --progress off
grep -q "Kendall tau" "$TMP/out" && ok || bad "latency-model table"
grep -q "from the cache" "$TMP/out" && ok || bad "overhead fit not reused"
run 2 "latency-model bad" latency-model --validate x
expect_err "validate" "latency-model bad --validate"
run 2 "cpu clock, 2 threads" latency-model --space "$TMP/space.xml" --clock cpu --threads 2
expect_err "threads 1" "cpu clock needs one thread"
echo "$CACHE" >/dev/null
printf '{"format": "distilc-latency", "version": 7}' >"$TMP/old.json"
run 2 "old cache" latency-model --space "$TMP/space.xml" --cache "$TMP/old.json"
expect_err "delete it" "old cache"

echo "test_search.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

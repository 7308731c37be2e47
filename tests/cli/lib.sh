# lib.sh — the small assertion helpers the command-line tests share. Source
# it after setting DISTILC (the binary), PY (the Python for JSON checks) and
# TMP (a scratch folder):
#
#     . "$(dirname "$0")/lib.sh"
#     run 2 "bad option" eval --nope && has "$TMP/err" "--nope" "names it"
#     run 0 "eval" eval m.onnx ... --json && json "j['metrics']['accuracy'] > 0.5" "accuracy"
#     finish test_eval.sh
#
# Every check counts one pass or prints "FAIL: ..." and counts a failure;
# finish prints "N passed, N failed" and exits 1 on any failure.
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run WANT_STATUS WHAT ARGS...: runs distilc with ARGS, stdout in $TMP/out
# and stderr in $TMP/err; checks the exit status and that no sanitizer
# report appeared.
run() {
    local want=$1 what=$2
    shift 2
    "$DISTILC" "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    if [ "$got" -eq "$want" ] && ! grep -q "Sanitizer\|runtime error" "$TMP/err"; then
        ok
        return 0
    fi
    bad "$what: exit $got (want $want)"
    sed 's/^/    /' "$TMP/err" | tail -20
    return 1
}

# has FILE REGEX WHAT: FILE matches the extended regular expression.
has() {
    if grep -qE -- "$2" "$1"; then
        ok
    else
        bad "$3: no /$2/ in $1:"
        head -c 2000 "$1" | sed 's/^/    /'
    fi
}

# json EXPR WHAT: the Python expression EXPR is true of j = json.load($TMP/out).
json() {
    if "$PY" -c "import json,sys; j=json.load(open('$TMP/out')); sys.exit(0 if ($1) else 1)"; then
        ok
    else
        bad "$2: not ($1):"
        head -c 2000 "$TMP/out" | sed 's/^/    /'
    fi
}

# finish NAME: the summary line; exit status 1 when anything failed.
finish() {
    echo "$1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

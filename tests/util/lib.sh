# lib.sh — the small assertion helpers the command-line tests share. Source
# it after setting DISTILC (the binary), PY (the Python for JSON checks) and
# TMP (a scratch folder):
#
#     . "$(dirname "$0")/../util/lib.sh"
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
    exited $? "$want" "$what"
}

# exited GOT WANT WHAT: passes when a command that wrote its stderr to
# $TMP/err exited WANT with no sanitizer report; else fails showing it.
exited() {
    local got=$1 want=$2 what=$3
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

# skip WHY: the whole test cannot run here: "skipped: WHY", exit 77 (what
# ctest reports as skipped: the convention of tests/util/testutil.h).
skip() {
    echo "skipped: $*"
    exit 77
}

# part NAME: whether this run includes the part NAME (DISTILC_TEST_PART
# unset: every part; "NAME": only it; "-NAME": all but it).
part() {
    case "${DISTILC_TEST_PART:-}" in
        "") return 0 ;;
        -*) [ "${DISTILC_TEST_PART#-}" != "$1" ] ;;
        *) [ "$DISTILC_TEST_PART" = "$1" ] ;;
    esac
}

# part_only: this run is for one part only (DISTILC_TEST_PART=NAME).
part_only() {
    case "${DISTILC_TEST_PART:-}" in
        "" | -*) return 1 ;;
        *) return 0 ;;
    esac
}

# finish_skipped NAME WHY: the part could not run here, but what did run
# passed: "skipped: WHY", exit 77; any failure still exits 1.
finish_skipped() {
    echo "$1: $pass passed, $fail failed, 1 skipped"
    [ "$fail" -eq 0 ] || exit 1
    echo "skipped: $2"
    exit 77
}

# has_bf16: whether this CPU runs bf16 natively (distilc system --json).
has_bf16() {
    "$DISTILC" system --json | "$PY" -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['bf16'] else 1)"
}

# finish NAME: the summary line; exit status 1 when anything failed.
finish() {
    echo "$1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

# tiny_glue: a tiny GLUE root in $TMP for training commands: $TMP/vocab.txt
# (5 special tokens and 24 words), $TMP/glue/SST-2 (48 train / 24 dev, label = "good" or
# "great" in the sentence), $TMP/glue/STS-B (24 / 12) and $TMP/corpus.txt
# (32 lines, every third a pair). Deterministic.
tiny_glue() {
    "$PY" - "$TMP" <<'PYEOF'
import os, random, sys
tmp = sys.argv[1]
words = ("the a movie film is was good bad great awful very not fun dull "
         "man woman dog cat plays runs said today , .").split()
os.makedirs(os.path.join(tmp, "glue", "SST-2"))
with open(os.path.join(tmp, "vocab.txt"), "w") as f:
    f.write("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words) + "\n")
rnd = random.Random(7)
def sent():
    return " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 14)))
for split, n in (("train", 48), ("dev", 24)):
    with open(os.path.join(tmp, "glue", "SST-2", split + ".tsv"), "w") as f:
        f.write("sentence\tlabel\n")
        for i in range(n):
            s = sent()
            f.write("%s\t%d\n" % (s, int("good" in s or "great" in s)))
os.makedirs(os.path.join(tmp, "glue", "STS-B"))
for split, n in (("train", 24), ("dev", 12)):
    with open(os.path.join(tmp, "glue", "STS-B", split + ".tsv"), "w") as f:
        f.write("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\t"
                "sentence1\tsentence2\tscore\n")
        for i in range(n):
            f.write("%d\tmain\tf\t2012\t%d\tn\tn\t%s\t%s\t%.1f\n"
                    % (i, i, sent(), sent(), (i * 7 % 11) / 2))
with open(os.path.join(tmp, "corpus.txt"), "w") as f:
    for i in range(32):
        f.write(sent() + ("\t" + sent() if i % 3 == 0 else "") + "\n")
PYEOF
}

# search_fixture DIR MS [EXPORT-ARGS...]: what the search commands (compress)
# need: a teacher
# wide enough for a few shapes, DIR/model.onnx (4 layers x 64, 4 heads,
# ffn 128, 64 positions, the 30-token vocabulary of tiny_glue; exported by
# tests/util/bert_export.py, seed 3), and $TMP/space.xml, a tiny search space
# under it with a latency limit of MS ms (seq 32, batch 1, 1 thread, fp32).
# EXPORT-ARGS go to bert_export.py as well (--act gelu_new). Needs HERE (this folder) besides DISTILC, PY and TMP. Returns 1 when the
# export fails, its messages in $TMP/export.err.
search_fixture() {
    local dir=$1 ms=$2
    shift 2
    "$PY" "$HERE/../util/bert_export.py" --out "$dir" --layers 4 --hidden 64 --heads 4 \
        --ffn 128 --max-pos 64 --vocab 30 --seed 3 "$@" >/dev/null 2>"$TMP/export.err" ||
        return 1
    cat >"$TMP/space.xml" <<XML
<?xml version="1.0"?>
<space version="1">
  <choices>
    <layers>1 2</layers>
    <hidden>32 64</hidden>
    <heads>1 2 4</heads>
    <ffn>32 64</ffn>
    <embed>0</embed>
    <sharing>none all</sharing>
  </choices>
  <constraints>
    <latency ms="$ms" seq="32" batch="1" threads="1" precision="fp32"/>
  </constraints>
</space>
XML
}

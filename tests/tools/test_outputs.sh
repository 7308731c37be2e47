#!/usr/bin/env bash
# test_outputs.sh — how distilc writes its outputs (issue 18): every file
# atomically, and every output path checked before any work.
#   - eval --predictions when the disk fills up (a file-size limit, which
#     fails the write as ENOSPC would; a 64 KB tmpfs too where this user may
#     mount one; /dev/full for a device): exit 1 with a message naming the
#     file, the earlier file left whole, no temp file left;
#   - a temp file a killed run left beside an output (S.onnx.tmpXXXXXX) is
#     removed by the next write of that output;
#   - an unwritable -o (a path under a regular file, which works as root,
#     where permission bits do not stop anything; and a folder made
#     immutable with chattr +i where the file system allows it) is refused
#     with exit 2 before any work, for distill, finetune, compress, eval,
#     export-onnx and build.
#
# Usage: test_outputs.sh [PATH/TO/distilc]  (default: $DISTILC_BIN)
# Skips ("skipped: ...", exit 77) when /usr/bin/python3 cannot import torch and onnx.
set -u
DISTILC=${1:-${DISTILC_BIN:?usage: test_outputs.sh [PATH/TO/distilc] (or set DISTILC_BIN)}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 cannot import torch and onnx"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/distilc-outputs-XXXXXX")
MNT=$TMP/small
cleanup() {
    umount "$MNT" 2>/dev/null
    chattr -i "$TMP/locked" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
. "$(dirname "$0")/../util/lib.sh"

# ---- fixtures ----------------------------------------------------------------
tiny_glue
"$PY" "$HERE/../util/bert_export.py" --out "$TMP/t" --layers 1 --hidden 16 --heads 2 \
    --ffn 32 --max-pos 64 --vocab 30 --seed 3 >/dev/null 2>"$TMP/export.err" ||
    { echo "FAIL: bert_export.py"; cat "$TMP/export.err"; exit 1; }
T=$TMP/t/model.onnx
EVAL=(eval "$T" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt" --max-seq 32
      --progress off)

# no_temps DIR NAME WHAT: no NAME.tmp* file is left in DIR.
no_temps() {
    if ls -a "$1" | grep -q "^$2\.tmp"; then
        bad "$3: temp files left: $(ls -a "$1" | grep "^$2\.tmp" | tr '\n' ' ')"
    else
        ok
    fi
}

# ---- eval --predictions on a full disk ---------------------------------------
run 0 "eval --predictions" "${EVAL[@]}" --predictions "$TMP/pred.jsonl"
cp "$TMP/pred.jsonl" "$TMP/pred.good"
# A 1 KB file-size limit: the predictions (48 lines, ~4 KB) do not fit. The
# shell ignores SIGXFSZ, so the write fails with EFBIG instead of killing.
(trap '' XFSZ; ulimit -f 1; "$DISTILC" "${EVAL[@]}" --predictions "$TMP/pred.jsonl" \
    >"$TMP/out" 2>"$TMP/err")
rc=$?
if [ "$rc" -eq 1 ]; then ok; else bad "eval --predictions over the size limit: exit $rc (want 1)"; fi
has "$TMP/err" "--predictions: cannot write '.*pred.jsonl'.*left as it was" "full-disk message"
if cmp -s "$TMP/pred.jsonl" "$TMP/pred.good"; then ok; else bad "the earlier predictions were changed"; fi
no_temps "$TMP" pred.jsonl "file-size limit"
# A device is written in place: /dev/full says ENOSPC, and stays a device.
if [ -c /dev/full ]; then
    run 1 "eval --predictions /dev/full" "${EVAL[@]}" --predictions /dev/full &&
        has "$TMP/err" "/dev/full.*No space left on device" "/dev/full message"
    if [ -c /dev/full ]; then ok; else bad "/dev/full is no longer a device"; fi
fi
# A real full file system, where this user may mount a tmpfs.
mkdir -p "$MNT"
if mount -t tmpfs -o size=64k tmpfs "$MNT" 2>/dev/null; then
    head -c 60000 /dev/zero >"$MNT/filler" 2>/dev/null
    echo "old" >"$MNT/pred.jsonl" 2>/dev/null
    run 1 "eval --predictions on a full tmpfs" "${EVAL[@]}" --predictions "$MNT/pred.jsonl" &&
        has "$TMP/err" "pred.jsonl.*No space left on device" "full tmpfs message"
    if [ "$(cat "$MNT/pred.jsonl")" = old ]; then ok; else bad "full tmpfs: the old file changed"; fi
    no_temps "$MNT" pred.jsonl "full tmpfs"
    umount "$MNT"
else
    echo "note: cannot mount a tmpfs here; the file-size limit stood in for it"
fi

# ---- stale temp files of a killed run ------------------------------------------
echo "half a model" >"$TMP/S.onnx.tmpK1ll3d"
echo "half a model" >"$TMP/S.onnx.tmp"
echo "someone else's" >"$TMP/T.onnx.tmpK1ll3d"
run 0 "export-onnx over a killed run's temps" export-onnx "$T" -o "$TMP/S.onnx"
no_temps "$TMP" S.onnx "export-onnx rerun"
if [ -f "$TMP/T.onnx.tmpK1ll3d" ]; then ok; else bad "another output's temp was removed"; fi
echo "half" >"$TMP/pred.jsonl.tmpAbCdEf"
run 0 "eval --predictions over a killed run's temp" "${EVAL[@]}" --predictions "$TMP/pred.jsonl"
no_temps "$TMP" pred.jsonl "eval rerun"

# ---- unwritable outputs, refused before any work --------------------------------
echo "a regular file" >"$TMP/file"
UNDER=$TMP/file/x.onnx # a path under a regular file: ENOTDIR, even as root
DISTILL=(distill "$T" --task sst2 --data "$TMP/glue" --vocab "$TMP/vocab.txt"
         --student layers=1,hidden=16,heads=2,ffn=32 --steps 2 --batch 8 --max-seq 32)
# before SECONDS WHAT: the refusal came within SECONDS (no training ran).
before() {
    local took=$(($(date +%s) - start))
    if [ "$took" -le "$1" ]; then ok; else bad "$2: refused only after $took s"; fi
}
start=$(date +%s)
run 2 "distill -o under a file" "${DISTILL[@]}" -o "$UNDER" &&
    has "$TMP/err" "distill: -o: cannot write '.*file/x.onnx'.*is a file, not a folder" "distill -o message"
before 5 "distill -o"
run 2 "distill --ckpt-dir under a file" "${DISTILL[@]}" -o "$TMP/s.onnx" --ckpt-dir "$TMP/file/ck" &&
    has "$TMP/err" "--ckpt-dir: cannot create folder" "distill --ckpt-dir message"
run 2 "distill --plot in a missing folder" "${DISTILL[@]}" -o "$TMP/s.onnx" --plot "$TMP/no/such/p.svg" &&
    has "$TMP/err" "--plot: .*does not exist" "distill --plot message"
run 2 "finetune -o under a file" finetune "$T" --task sst2 --data "$TMP/glue" \
    --vocab "$TMP/vocab.txt" --steps 2 -o "$UNDER" &&
    has "$TMP/err" "finetune: -o: cannot write" "finetune -o message"
run 2 "compress -o under a file" compress "$T" --task sst2 --data "$TMP/glue" \
    --vocab "$TMP/vocab.txt" -o "$TMP/file/run" &&
    has "$TMP/err" "compress: -o: cannot create folder '.*file/run'" "compress -o message"
run 2 "eval --predictions under a file" "${EVAL[@]}" --predictions "$TMP/file/p.jsonl" &&
    has "$TMP/err" "eval: --predictions: cannot write" "eval --predictions message"
run 2 "eval --junit is a folder" "${EVAL[@]}" --junit "$TMP" &&
    has "$TMP/err" "--junit: .*is a folder" "eval --junit message"
run 2 "export-onnx -o under a file" export-onnx "$T" -o "$UNDER"
run 2 "build -o under a file" build "$T" -o "$TMP/file/prog" &&
    has "$TMP/err" "build: -o: cannot create folder" "build -o message"
if [ -e "$TMP/s.onnx" ]; then bad "a refused run wrote its output"; else ok; fi
# An immutable folder refuses files even to root (where the file system
# supports the flag: ext4, xfs, btrfs; not tmpfs or overlayfs).
mkdir "$TMP/locked"
if chattr +i "$TMP/locked" 2>/dev/null; then
    start=$(date +%s)
    run 2 "distill -o in an immutable folder" "${DISTILL[@]}" -o "$TMP/locked/s.onnx" &&
        has "$TMP/err" "distill: -o: cannot write .*Operation not permitted" "immutable folder message"
    before 5 "immutable -o"
    chattr -i "$TMP/locked"
else
    echo "note: chattr +i is not supported here; the path under a file stood in for it"
fi

finish test_outputs.sh

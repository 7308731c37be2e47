# mpi_lib.sh — what the MPI test scripts share (sourced after lib.sh, with
# DISTILC and PY set): the skips of a build or machine without MPI, and
# `mpirun_run`. One OpenMP thread per rank.
#
# Open MPI runs as root, two ranks on however many cores. In the sanitizer
# build the ranks run without LeakSanitizer (ASan and UBSan still check
# every access): Open MPI leaves allocations of the components it dlopens
# and unloads them at MPI_Finalize, so LSan reports them from an "unknown
# module" that no suppression can name. distilc's own leaks are checked by
# the one-process runs and by every other test.
[ "${DISTILC_HAVE_MPI:-ON}" = "ON" ] ||
    skip "distilc was built without MPI (install libopenmpi-dev and openmpi-bin, reconfigure)"
MPIRUN=${DISTILC_MPIEXEC:-$(command -v mpirun)}
[ -x "$MPIRUN" ] || skip "mpirun not found (openmpi-bin)"
"$PY" -c "import torch, onnx" 2>/dev/null ||
    skip "/usr/bin/python3 cannot import torch and onnx"
export OMP_NUM_THREADS=1
MPI=("$MPIRUN" --allow-run-as-root --oversubscribe --bind-to none
     -x OMP_NUM_THREADS -x "ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}")

# mpirun_run WANT NP WHAT ARGS...: distilc ARGS under mpirun with NP ranks
# (stdout to $TMP/out, stderr to $TMP/err); passes when it exits WANT
# with no sanitizer report
mpirun_run() {
    local want=$1 np=$2 what=$3
    shift 3
    "${MPI[@]}" -np "$np" "$DISTILC" "$@" >"$TMP/out" 2>"$TMP/err"
    exited $? "$want" "$what"
}

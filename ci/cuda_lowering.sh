#!/usr/bin/env bash
# The fused kernels' CUDA text typed and lowered by numba-cuda without a GPU or NVVM
# (what the GPU tier's first compile would reject; tests/fakecupy and numba's simulator
# run kernels as Python and never type them for the CUDA target):
#   bash ci/cuda_lowering.sh [DTYPES] [PARTS] [vector]     (minutes: ~5-50 s a kernel)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
FAKECUPY_NDEV=1 PYTHONPATH=tests/fakecupy${PYTHONPATH:+:$PYTHONPATH} GPUJIT_CACHE_DIR=$cache \
  python3 tests/cuda_lowering_check.py "$@"

#!/usr/bin/env bash
# The GPU tier's tests against tests/fakecupy, a NumPy-backed stand-in for CuPy: checks
# gpujit's CuPy calls, device placement and the fused kernels' argument packing without a
# GPU (not CUDA itself: ci/gpu.sh on a GPU machine does that).
#   bash ci/fake_gpu.sh [pytest arguments]      (default: every cuda-marked test)
# Without NVVM (numba-cuda's toolkit extra) there is no PTX, so the PTX disk-cache test
# (test_kernels_cuda.py::test_the_chain_on_the_gpu_and_its_ptx_cache) cannot pass.
# ci/cuda_lowering.sh checks what this cannot: that numba-cuda types and lowers the kernels.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
export FAKECUPY_NDEV=${FAKECUPY_NDEV:-2} FAKECUPY_STRICT_DEVICE=${FAKECUPY_STRICT_DEVICE:-1}
PYTHONPATH=tests/fakecupy${PYTHONPATH:+:$PYTHONPATH} GPUJIT_CACHE_DIR=$cache python3 -m pytest -m cuda -q \
  -p no:cacheprovider "${@:-tests}"

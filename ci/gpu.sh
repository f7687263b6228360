#!/usr/bin/env bash
# The GPU tier, run from the repository root on a machine with an NVIDIA GPU:
#   bash ci/gpu.sh                   (the fuser's GPU checks; GPU_STEPS=rest|all|"names",
#                                     GPU_STEP_TIMEOUT=seconds a step, GPU_TEST_WORKERS=12,
#                                     GPU_PYTEST_ARGS=-vv to log each test as it ends, so
#                                     a step stopped by its timeout still shows failures)
# Installs gpujit without the network (plus the NumPy wheel carried in .whl/, since
# numba-cuda 0.30 cannot import its CUDA target with NumPy 2.5), runs the CUDA tests, the
# whole suite, the benchmarks and the CUDA example, and copies logs and benchmark JSON to $OUT when set.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
logs=${OUT:-$(mktemp -d)}
mkdir -p "$logs"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
python3 -m pip install -q --no-deps --no-build-isolation -e . || exit 1

status=0
# GPU_STEPS chooses the steps (device time is scarce: 15 minutes a session, 10 a call):
# "issue" (default) is what the fuser's GPU checks need, in that order; "rest" the others;
# "all" both; or a list of step names.
steps=${GPU_STEPS:-issue}
case $steps in
  issue) steps="env pytest-cuda bench-fusion bench-script demo" ;;
  rest) steps="pytest-all bench-eager bench-executor bench-training bench-fused-training
               example-train" ;;
  all) steps="env pytest-cuda bench-fusion bench-script demo pytest-all bench-eager
              bench-executor bench-training bench-fused-training example-train" ;;
esac
started=$(mktemp)       # benchmark JSON newer than this is what this run wrote
# xdist spreads the CUDA tests over processes (CuPy compiles a kernel per new op and dtype),
# test by test, not file by file as pyproject says: test_kernels_cuda.py's op sweeps held one
# worker for over 5 minutes on the H200 (2026-12-04). (Without xdist, drop pyproject's `-n auto`)
xdist=$(python3 -c "import xdist" 2>/dev/null && echo "-n ${GPU_TEST_WORKERS:-12} --dist load" || echo "-o addopts=-ra")
step() {   # step NAME COMMAND...: run, log to $logs/NAME.log, remember a failure
  local name=$1; shift
  case " $(echo $steps) " in *" $name "*) ;; *) return 0 ;; esac
  echo "== $name: $*"
  timeout -k 10 "${GPU_STEP_TIMEOUT:-0}" "$@" 2>&1 | tee "$logs/$name.log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || { echo "== $name failed (exit $rc)"; status=1; }
}
# what the machine offers (a failed run then says why at once): the GPU, CuPy, numba's
# CUDA target and its toolkit (NVVM, to compile PTX)
step env python3 -c "
import numpy, numba, cupy
from numba import cuda
print('numpy', numpy.__version__, 'numba', numba.__version__, 'cupy', cupy.__version__)
print('devices', cupy.cuda.runtime.getDeviceCount(), cupy.cuda.Device(0).compute_capability)
def probe(a):
    a[0] = 1
ptx, _ = cuda.compile_ptx(probe, 'void(float32[::1])', cc=(9, 0))
print('NVVM ok: PTX of', len(ptx), 'bytes')
# output recycling reuses a buffer when these counts of a CuPy array held by one list slot
# equal what kernels/launch.py measured on plain objects (RECYCLE_FREE)
import sys
from gpujit.kernels import launch
held = [cupy.empty(4, numpy.float32)]
def counts():
    o0 = held[0]
    return sys.getrefcount(o0), sys.getrefcount(o0.data), sys.getrefcount(o0.data.mem)
print('recycling: RECYCLE_FREE', launch.RECYCLE_FREE, 'a CuPy array', counts())
"
step pytest-cuda python3 -m pytest -m cuda -q -rfE --durations=15 $xdist ${GPU_PYTEST_ARGS:-}
step bench-fusion python3 benchmarks/fusion.py --device cuda
step bench-script python3 benchmarks/script.py
step demo python3 -m gpujit
step pytest-all python3 -m pytest -q -x $xdist
step bench-eager python3 benchmarks/eager.py
step bench-executor python3 benchmarks/executor.py --device all
step bench-training python3 benchmarks/training.py --device all
step bench-fused-training python3 benchmarks/fused_training.py --device cuda
step example-train python3 examples/train_mlp.py --device cuda
if [ -n "${OUT:-}" ]; then     # only what this run measured ($OUT takes 8 files)
  find benchmarks/results -name '*.json' -newer "$started" -exec cp {} "$OUT"/ \;
fi
exit $status

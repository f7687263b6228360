"""Types and lowers the fused kernels' CUDA text with numba-cuda (cc 9.0) without NVVM or
a GPU: a primitive or construct that numba's CUDA target cannot type (which the NumPy-backed
CuPy's emulated launches and numba's simulator both run as Python) fails here, not on the
next GPU run. Run by ci/cuda_lowering.sh (tests/fakecupy first on the path):
  python tests/cuda_lowering_check.py [DTYPES] [PARTS] [vector]
DTYPES: comma-separated (default every sweep dtype); PARTS: sweep parts (default all);
'vector': the vector-loop sweeps too. ~5-50 s of CPU a kernel (numba's typing and
lowering; NVVM, which makes the PTX, is not needed)."""
from __future__ import annotations

import os
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main(argv):
    warnings.simplefilter("ignore")
    import numpy as np
    import cupy
    from cupy import _emulate
    import test_kernels_cuda as T
    from test_kernels import vector_sweeps
    from gpujit import kernels as K
    from gpujit.kernels import targets
    from numba.cuda import compiler as C
    assert cupy.__file__.startswith(os.path.join(HERE, "fakecupy")), "run with tests/fakecupy"
    dtypes = (argv[0] if argv else "float32,float16,float64,int32,uint8,bool").split(",")
    parts = [int(p) for p in argv[1].split(",")] if len(argv) > 1 else \
        list(range(T.SWEEP_PARTS))
    dev = lambda args: [T._on_device(a) if isinstance(a, np.ndarray) else a for a in args]  # noqa: E731
    for d in dtypes:
        for p in parts:
            names = tuple(op.name for op in T.fusible_ops())[p::T.SWEEP_PARTS]
            g, args, _ = T.sweep_graph(d, names)
            K.build(K.spec_for(g, dev(args), static=True), "cuda")
        if "vector" in argv[2:] and d != "uint8":
            for g, args, _ in vector_sweeps(d):
                K.build(K.spec_for(g, dev(args), static=False), "cuda")
    kernels = list(_emulate._KERNELS.items())     # (the stand-in's record: text, signature)
    print(f"{len(kernels)} kernels", flush=True)
    bad = 0
    for entry, (text, sig) in kernels:
        t0 = time.time()
        try:
            ns = targets._exec_module(text, "lowering_" + entry)
            C._compile_pyfunc_with_fixup(
                ns["kernel"], sig, debug=False, lineinfo=False, device=False, fastmath=False,
                cc=(9, 0), opt=None, abi="numba", abi_info=None, forceinline=False,
                launch_bounds=None, lto=False)
            print(f"ok {entry} {time.time() - t0:.1f}s", flush=True)
        except Exception as e:         # noqa: BLE001  (each kernel's failure reported)
            bad += 1
            print(f"FAIL {entry} {type(e).__name__}: {str(e)[:2000]}\n{text}", flush=True)
    print(f"{bad} of {len(kernels)} kernels failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

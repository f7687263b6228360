"""What makes a CPU kernel's cold compile cheaper in session 56 must not change what it
computes: the object is emitted from numba's optimized llvmlite module with the entry
point linked in (no IR text printed and parsed again), the kernels' numba pipeline has no
SSA reconstruction and keeps IRLegalization's Dels only where a variable holds an NRT
reference (kernels/targets.GpujitLegalization), and LLVM vectorizes the loops without
interleaving them. Each check runs the compiled code against NumPy / Python, or looks at
what the compile did."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from gpujit import kernels as K
from gpujit.kernels import native, targets

from test_kernels import kernel_cache_dir, traced

_FIXTURES = (kernel_cache_dir,)     # (its own kernel cache directory, module-scoped autouse)

elf = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF objects (Linux)")


def _legalized(monkeypatch):
    """The kernels' IRLegalization runs that went to numba's (Dels inserted)."""
    from numba.core import typed_passes as tp
    runs = []
    numbas = tp.IRLegalization.run_pass

    def run_pass(self, state):
        if type(self).__name__ == "GpujitLegalization":
            runs.append(state.func_id.func_name)
        return numbas(self, state)
    monkeypatch.setattr(tp.IRLegalization, "run_pass", run_pass)
    return runs


@elf
def test_a_kernel_of_plain_values_is_lowered_without_dels(monkeypatch):
    from numba.core import types as t
    runs = _legalized(monkeypatch)

    def k(n, a):
        s = 0
        for i in range(n):
            s += i * a
        s = s - a                       # (a name assigned again: one type, no SSA needed)
        return s

    cf = targets._ir_cfunc(t.int64(t.int64, t.int64), error_model="numpy")(k)
    fn = native.load(native.build_entry(cf))
    assert [fn(n, a) for n, a in ((0, 3), (5, 3), (17, -2))] == \
        [k(n, a) for n, a in ((0, 3), (5, 3), (17, -2))]
    assert runs == []


@elf
def test_a_function_holding_an_array_keeps_its_dels(monkeypatch):
    # an NRT array (refcounted): IRLegalization's Dels release it, so numba's pass runs
    from numba.core import types as t
    runs = _legalized(monkeypatch)

    def k(n, a):
        x = np.zeros(n + 1)
        x[n] = a
        return int(x.sum()) * 2

    cf = targets._ir_cfunc(t.int64(t.int64, t.int64), error_model="numpy")(k)
    fn = native.load(native.build_entry(cf))
    assert fn(4, 7) == 14 and fn(0, -3) == -6
    assert runs == ["k"]


def test_fused_loops_are_vectorized_without_interleaving(monkeypatch):
    # one 8-wide float32 body per loop (no 4x interleaved body, no epilogue vector loop);
    # the sizes cover the vector body, the scalar remainder, and both
    seen = []
    emit = native._emit_module

    def spy(module, inner):
        seen.append(str(module))
        return emit(module, inner)
    monkeypatch.setattr(native, "_emit_module", spy)
    for n in (5, 8, 23, 64, 1000):
        x = np.linspace(-3, 3, n, dtype=np.float32)
        y = np.linspace(2, -1, n, dtype=np.float32)
        g = traced(lambda a, b: (a * b + 0.75) * a - b, x, y)
        k = K.build(K.spec_for(g, (x, y), static=True), "cpu")
        np.testing.assert_array_equal(k(x, y)[0], (x * y + np.float32(0.75)) * x - y)
    if seen:                            # (compiled here, not loaded from a disk cache)
        ir = seen[0]
        assert "x float>" in ir and "vec.epilog" not in ir

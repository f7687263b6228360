"""gpujit.script's cache of compiled functions (s54): scripting a function twice compiles
once; a wrapper that functools.wraps copied the function's attributes into is compiled as
itself; a module run by runpy and dropped takes its scripted functions' kernels with it at
one collection (the weak-keyed table it replaced kept them: its value reached its key
through the function's globals)."""
from __future__ import annotations

import functools
import gc
import runpy
import textwrap

import numpy as np

import gpujit
from gpujit import kernels


def _twice(x):
    return x * 2.0 + 1.0


def test_scripting_twice_compiles_once_and_a_wraps_copy_is_its_own():
    a = gpujit.jit.script(_twice)
    assert gpujit.jit.script(_twice) is a

    @functools.wraps(_twice)
    def wrapper(x):
        return x - 3.0
    # (its __dict__ is _twice's copied: the cache entry among it; without __wrapped__, whose
    # source inspect -- and torch.jit.script -- would read instead of the wrapper's)
    assert "__gpujit_compiled__" in vars(wrapper)
    del wrapper.__wrapped__
    w = gpujit.jit.script(wrapper)
    assert w is not a
    x = gpujit.tensor([1.0, 2.0])
    np.testing.assert_allclose(w(x).numpy(), [-2.0, -1.0])
    np.testing.assert_allclose(a(x).numpy(), [3.0, 5.0])
    del a
    gc.collect()
    again = gpujit.jit.script(_twice)        # (rebuilt from the cached core: same answers)
    np.testing.assert_allclose(again(x).numpy(), [3.0, 5.0])


def test_a_dropped_runpy_module_frees_its_kernels(tmp_path):
    path = tmp_path / "prog_s54_cache.py"
    path.write_text(textwrap.dedent("""\
        import gpujit

        @gpujit.jit.script
        def prog_s54_chain(x, y):
            return gpujit.tanh(x * 0.75 + y) * gpujit.sigmoid(x - y)

        for _ in range(3):
            prog_s54_chain(gpujit.rand(6), gpujit.rand(6))
        """))
    old = gpujit.set_fusion_strategy([("STATIC", 2)])
    try:
        ns = runpy.run_path(str(path), run_name="prog_s54_cache")
        assert kernels.cache_info().specializations.get("prog_s54_chain") == ["STATIC(6)"]
        ns.clear()
        del ns
        gc.collect()
        assert "prog_s54_chain" not in kernels.cache_info().specializations
    finally:
        gpujit.set_fusion_strategy(old)

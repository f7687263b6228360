"""Programs found by the seeded fuzzers (tests/program_fuzz_gen*.py, tests/guard_fuzz_gen.py)
in session 26 (helper b26), minimised; the expected values are PyTorch's (2.13 on x86-64,
torch.jit.script where the program is scripted) or Python's / NumPy's, written out."""
from __future__ import annotations

import math


import gpujit


def test_scripted_float_percent_assign_is_torchscript_s_fmod():
    # (mode 5, seed 26401*100003+5) `x %= float('inf')` with x = -1.5 gave nan: gpujit's
    # `%=` on a float was `x % y` (TorchScript's remainder, fmod(b + fmod(a, b), b)), where
    # TorchScript's augmented `%=` is aten::fmod (C's sign, x kept for an infinite y)
    cu = gpujit.jit.CompilationUnit('''
def f(x: float, y: float) -> float:
    x %= y
    return x

def g(x: float, y: float) -> float:
    return x % y

def fi(x: float, n: int) -> float:
    x %= n
    return x

def fd(d: Dict[str, float], y: float) -> Dict[str, float]:
    d["c"] %= y
    return d

def fl(xs: List[float], y: float) -> List[float]:
    xs[0] %= y
    return xs
''')
    inf = math.inf
    for a, b, want in [(-1.5, inf, -1.5), (1.5, -inf, 1.5), (-1.5, 2.0, -1.5),
                       (7.5, -2.0, 1.5), (-0.0, 2.0, -0.0), (inf, 2.0, math.nan),
                       (1.5, 0.0, math.nan)]:
        for _ in range(2):                  # (the profiling call and an optimized one)
            got = cu.f(a, b)
            assert repr(got) == repr(want), (a, b, got)
            assert repr(cu.fd({"c": a}, b)["c"]) == repr(want), (a, b)
            assert repr(cu.fl([a], b)[0]) == repr(want), (a, b)
    assert cu.fi(-1.5, 2) == -1.5
    # `x % y` stays TorchScript's remainder (the sign of the divisor)
    assert cu.g(-1.5, 2.0) == 0.5 and math.isnan(cu.g(-1.5, inf))


def test_scripted_tensor_percent_assign_stays_eager_s_remainder():
    # (deliberate, tests/test_version_alias_s22.py) the float fix leaves Tensors alone
    def f(t, y: float):
        t %= y
        return t

    s = gpujit.jit.script(f)
    for _ in range(2):
        x = gpujit.tensor([-1.5, 1.5])
        assert s(x, 2.0) is not None and x.tolist() == [0.5, 1.5]

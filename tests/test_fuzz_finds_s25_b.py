"""Programs found by the nn.Module generator (tests/program_fuzz_gen_d.py, run by
tests/test_program_fuzz_s24.py) and the non-tensor generator (tests/program_fuzz_gen_e.py,
run by tests/test_program_fuzz_s24b.py) in session 25 (helper b25), minimised; the expected
values are PyTorch's (2.13 on x86-64) or Python's / NumPy's, written out."""
from __future__ import annotations

import pytest

import gpujit

INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1


def test_range_with_a_step_known_only_at_run_time():
    # (seed 25402*100003+15) `for i in range(0, a, b)` was refused ("range() with a step
    # needs a nonzero int constant step"); TorchScript counts it with
    # aten::__range_length and aten::__derive_index, a zero step raising when it runs
    cu = gpujit.jit.CompilationUnit('''
def loop(a: int, b: int, c: int) -> List[int]:
    out: List[int] = []
    for i in range(a, b, c):
        out.append(i)
    return out

def comp(a: int, b: int, c: int) -> List[int]:
    return [i * 2 for i in range(a, b, c)]

def listed(a: int, b: int, c: int) -> List[int]:
    return list(range(a, b, c))

def zero_const(a: int) -> List[int]:
    return [i for i in range(0, a, 0)]
''')
    for args in [(0, 10, 3), (10, 0, -3), (0, 10, -1), (5, 5, 2), (-4, 4, 1), (7, -7, -7),
                 (3, 4, INT64_MAX), (0, -1, INT64_MIN)]:
        want = list(range(*args))
        assert cu.loop(*args) == want, args
        assert cu.listed(*args) == want, args
        assert cu.comp(*args) == [2 * i for i in want], args
    # TorchScript's int64 arithmetic: the distance hi - 1 - lo wraps around (one trip)
    assert cu.loop(INT64_MIN, INT64_MAX, 2 ** 62) == [INT64_MIN]
    assert cu.comp(INT64_MIN, INT64_MAX, 2 ** 62) == [0]
    for fn in (cu.loop, cu.comp, cu.listed):
        with pytest.raises(RuntimeError, match=r"range\(\) arg 3 must not be zero"):
            fn(0, 10, 0)
    with pytest.raises(RuntimeError, match=r"range\(\) arg 3 must not be zero"):
        cu.zero_const(3)


def test_range_with_a_run_time_step_in_a_scripted_function():
    @gpujit.jit.script
    def f(n: int, k: int) -> int:
        s = 0
        for i in range(n, -1, k):
            s = s * 10 + i
        return s
    assert f(9, -3) == 9630
    assert f(9, 3) == 0
    assert f(-1, -1) == 0
    with pytest.raises(RuntimeError, match="must not be zero"):
        f(9, 0)

"""Programs found by the nn.Module generator (tests/program_fuzz_gen_d.py, run by
tests/test_program_fuzz_s24.py) and the non-tensor generator (tests/program_fuzz_gen_e.py,
run by tests/test_program_fuzz_s24b.py) in session 25 (helper b25), minimised; the expected
values are PyTorch's (2.13 on x86-64) or Python's / NumPy's, written out."""
from __future__ import annotations

import math

import numpy as np
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


def test_scripted_torch_tensor_of_floats_keeps_eager_values():
    # (seed 25405*100003+5) TorchScript's aten::tensor stores float data in the default
    # dtype (float32) first and casts that tensor to dtype: its torch.tensor([0.1],
    # dtype=torch.float64) is float32's 0.1, [-2.5e300] -inf, and torch.tensor(1e300)
    # raises. gpujit deliberately keeps the values eager torch.tensor gives (scripted and
    # eager code agree to the last bit): a documented difference from TorchScript
    cu = gpujit.jit.CompilationUnit('''
def lst(fs: List[float]) -> float:
    return float(gpujit.tensor(fs, dtype=gpujit.float64).sum().item())

def nested(fs: List[float]) -> float:
    return float(gpujit.tensor([fs, fs], dtype=gpujit.float64)[1, 0].item())

def num(x: float) -> float:
    return float(gpujit.tensor(x, dtype=gpujit.float64).item())

def to_int(fs: List[float]) -> List[int]:
    r: List[int] = gpujit.tensor(fs, dtype=gpujit.int64).tolist()
    return r

def ints(xs: List[int]) -> List[float]:
    r: List[float] = gpujit.tensor(xs, dtype=gpujit.float64).tolist()
    return r

def store(x: Tensor, v: float) -> Tensor:
    x[0] = v
    x[1:2] = v
    return x
''')
    for _ in range(2):
        assert cu.lst([0.1]) == 0.1 == gpujit.tensor([0.1], dtype=gpujit.float64).item()
        assert cu.lst([-2.5e300]) == -2.5e300 and cu.lst([1e300, 0.5]) == 1e300
        assert cu.nested([0.1]) == 0.1
        assert cu.num(0.1) == 0.1 and cu.num(math.inf) == math.inf
        assert math.isnan(cu.num(math.nan)) and cu.num(1e300) == 1e300
        assert cu.to_int([16777217.0, 1e10, -2.5]) == [16777217, 10000000000, -2]
        # ints are stored as int64 first: 2**53 + 1 exact in int64, then rounded once
        assert cu.ints([2 ** 53 + 1, 3]) == [float(2 ** 53), 3.0]
        x = cu.store(gpujit.zeros(3, dtype=gpujit.float64), 0.1)
        assert x.tolist() == [0.1, 0.1, 0.0]
    assert float(np.float32(0.1)) != 0.1     # (the difference TorchScript's float32 step makes)


def test_int_of_a_float_item_is_checked_against_int64():
    # TorchScript's int(t.item()) is Scalar.toInt(), checked against C's 32-bit int where
    # the Scalar holds a float; gpujit checks int64 as int(t) does (eager Python answers)
    cu = gpujit.jit.CompilationUnit('''
def of_item(x: Tensor) -> int:
    return int(x.item())

def of_tensor(x: Tensor) -> int:
    return int(x)
''')
    for v in (2.0 ** 31 - 1, -2.0 ** 31, 2.0 ** 31, 3e9, -1e18, 1e9, -2.5):
        assert cu.of_item(gpujit.tensor(v, dtype=gpujit.float64)) == int(v)
        assert cu.of_tensor(gpujit.tensor(v, dtype=gpujit.float64)) == int(v)
    for v in (1e19, -1e19, math.nan, math.inf):
        with pytest.raises(RuntimeError, match="without overflow"):
            cu.of_item(gpujit.tensor(v, dtype=gpujit.float64))
    assert cu.of_item(gpujit.tensor(2 ** 40)) == 2 ** 40
    assert cu.of_item(gpujit.tensor(INT64_MIN)) == INT64_MIN


def test_dict_popitem_removes_the_first_item():
    # (seed 25408*100003+2) d.popitem() gave the last item inserted (Python's);
    # TorchScript's aten::popitem removes c10::Dict's first: ('', 3) of
    # {'': 3, 'ab': 0, 'c': -1}
    cu = gpujit.jit.CompilationUnit('''
def pop(d: Dict[str, int]) -> Tuple[Tuple[str, int], Dict[str, int]]:
    it = d.popitem()
    return it, d

def built(n: int) -> Tuple[str, int]:
    d = {"a": 1, "b": 2}
    d["c"] = n
    del d["a"]
    return d.popitem()

def empty(n: int) -> Tuple[str, int]:
    d: Dict[str, int] = {}
    return d.popitem()
''')
    assert cu.pop({"": 3, "ab": 0, "c": -1}) == (("", 3), {"ab": 0, "c": -1})
    assert cu.built(3) == ("b", 2)
    with pytest.raises(KeyError, match="empty"):
        cu.empty(1)


def test_list_times_a_negative_count_raises():
    # (seed 25408*100003+1) [v] * -1 gave [] (Python's); TorchScript's aten::mul.left_t
    # reserves len * n elements first: a non-empty list times a negative n raises
    # (vector::reserve); an empty one gives [], and `xs *= n` clears the list
    cu = gpujit.jit.CompilationUnit('''
def left(xs: List[int], n: int) -> List[int]:
    return xs * n

def right(xs: List[int], n: int) -> List[int]:
    return n * xs

def comp(s: str, n: int) -> List[str]:
    return [t + "!" for t in [s] * n]

def inplace(xs: List[int], n: int) -> List[int]:
    ys = xs
    ys *= n
    return xs
''')
    for fn in (cu.left, cu.right):
        assert fn([1, 2], 2) == [1, 2, 1, 2] and fn([], -3) == [] and fn([1], 0) == []
        with pytest.raises(RuntimeError, match="vector::reserve"):
            fn([1], -1)
    with pytest.raises(RuntimeError, match="vector::reserve"):
        cu.comp("a", -2)
    assert cu.comp("a", 2) == ["a!", "a!"]
    assert cu.inplace([1, 2], -1) == [] and cu.inplace([1, 2], 2) == [1, 2, 1, 2]


def test_return_takes_the_declared_type_as_its_hint():
    # (found while minimising seed 25405*100003+5) `return x.tolist()` was refused
    # ("Expected type hint for result of tolist()") and `-> Optional[List[int]]:
    # return []` returned a List[Tensor]; TorchScript compiles a return's expression
    # with the declared return type as its hint
    cu = gpujit.jit.CompilationUnit('''
def tl(x: Tensor) -> List[List[float]]:
    return x.tolist()

def empty() -> Optional[List[int]]:
    return []

def nested() -> List[Optional[int]]:
    return [None, 1]
''')
    assert cu.tl(gpujit.ones(2, 2)) == [[1.0, 1.0], [1.0, 1.0]]
    assert cu.empty() == [] and cu.nested() == [None, 1]
    with pytest.raises(RuntimeError, match="annotated as having type List\\[float\\]"):
        gpujit.jit.CompilationUnit('''
def bad() -> List[float]:
    return [1, 2]
''')


def test_sorting_floats_with_a_nan_as_torchscript():
    # (seed 25410*100003+15) fs.sort(reverse=True) of [0.0, nan] gave [0.0, nan]
    # (Python's); TorchScript sorts with std::sort and `a != b and (a < b) != reverse`,
    # under which a nan compares with nothing: [nan, 0.0] (libstdc++'s insertion sort for
    # up to 16 elements; values written out from PyTorch 2.13)
    cu = gpujit.jit.CompilationUnit('''
def srt(xs: List[float], r: bool) -> List[float]:
    xs.sort(reverse=r)
    return xs

def sd(xs: List[float]) -> List[float]:
    return sorted(xs)
''')
    nan = math.nan
    got = repr(cu.srt([0.0, nan], True))
    assert got == "[nan, 0.0]"
    xs = [2.5, nan, -math.inf, 1.0, nan, -0.0, 0.0, 2.5]
    assert repr(cu.srt(list(xs), False)) == "[-inf, 2.5, nan, 1.0, nan, -0.0, 0.0, 2.5]"
    assert repr(cu.srt(list(xs), True)) == "[2.5, -0.0, nan, 1.0, -inf, nan, 2.5, 0.0]"
    assert repr(cu.sd(list(xs))) == "[-inf, 2.5, nan, 1.0, nan, -0.0, 0.0, 2.5]"
    # without a nan: Python's order (a stable sort; -0.0 and 0.0 keep their order)
    assert repr(cu.srt([0.0, -0.0, -1.0, 0.0], False)) == "[-1.0, 0.0, -0.0, 0.0]"
    assert cu.srt([3.0, 1.0, 2.0], True) == [3.0, 2.0, 1.0]


def test_str_count_of_an_empty_substring_in_an_empty_str():
    # (seed 25412*100003+1) x /= s.count(s) with s == "" divided by 1 (Python's
    # "".count("") is 1); TorchScript's count loops over std::string::find matches before
    # the end, none in an empty str: 0 (x / 0 is inf)
    cu = gpujit.jit.CompilationUnit('''
def c(s: str, t: str) -> int:
    return s.count(t)

def div(x: float, s: str) -> float:
    x /= s.count(s)
    return x
''')
    assert cu.c("", "") == 0 and cu.c("", "a") == 0
    assert cu.c("aaa", "aa") == 1 and cu.c("abcabc", "bc") == 2
    assert cu.div(2.0, "") == math.inf and cu.div(2.0, "ab") == 2.0


def test_enumerate_with_a_negative_start_counts_from_it():
    # (seed 25413*100003+1) TorchScript runs enumerate(xs, k) as zip(range(k, INT64_MAX),
    # xs), whose length wraps around int64 for a negative k: no iterations. gpujit counts
    # k, k + 1, ... as Python does (a documented difference: TorchScript's is a defect)
    cu = gpujit.jit.CompilationUnit('''
def f(xs: List[int], k: int) -> str:
    acc = ""
    for i, e in enumerate(xs, k):
        acc = acc + str(i) + ":" + str(e) + " "
    return acc

def comp(xs: List[int], k: int) -> List[int]:
    return [i * 10 + e for i, e in enumerate(xs, k)]
''')
    assert cu.f([10, 11, 12], 0) == "0:10 1:11 2:12 "
    assert cu.f([10, 11, 12], 5) == "5:10 6:11 7:12 "
    assert cu.f([10, 11, 12], -2) == "-2:10 -1:11 0:12 "
    assert cu.comp([1, 2], 1) == [11, 22] and cu.comp([1, 2], -3) == [-29, -18]


def test_max_min_of_three_numbers_is_the_list_max():
    # max(a, b, c) of one type was max(max(a, b), c); TorchScript takes the max of the
    # list [a, b, c], where a nan first stays (max(nan, 2.0, 1.0) is nan; the two-argument
    # max(nan, 2.0) is 2.0)
    cu = gpujit.jit.CompilationUnit('''
def g(x: float, y: float) -> List[float]:
    return [max(x, y, 1.0), min(x, y, 1.0), max(1.0, x, y), min(1.0, x, y), max(x, y)]

def i3(a: int, b: int, c: int) -> List[int]:
    return [max(a, b, c), min(a, b, c)]
''')
    got = cu.g(math.nan, 2.0)
    assert math.isnan(got[0]) and math.isnan(got[1]) and got[2:] == [2.0, 1.0, 2.0]
    got = cu.g(2.0, math.nan)
    assert got[:4] == [2.0, 1.0, 2.0, 1.0] and math.isnan(got[4])
    assert cu.i3(3, -1, 7) == [7, -1]


def test_sum_of_ints_wraps_around_int64():
    # (seed 25413*100003+5) TorchScript's aten::sum.int accumulates in a C++ int (`auto
    # sum = 0`): its sums wrap around 32 bits (sum([3000000000]) is -1294967296). gpujit
    # sums as every scripted int computes, in int64 (a documented difference: a defect)
    cu = gpujit.jit.CompilationUnit('''
def s(xs: List[int]) -> int:
    return sum(xs)

def fl(xs: List[float]) -> float:
    return sum(xs)
''')
    assert cu.s([2, 1, INT64_MIN]) == INT64_MIN + 3 and cu.s([INT64_MIN, -1]) == 2 ** 63 - 1
    assert cu.s([3000000000]) == 3000000000 and cu.s([2 ** 31 - 1, 1]) == 2 ** 31
    assert cu.s([2 ** 62] * 4) == 0 and cu.s([]) == 0 and cu.s([5, -7]) == -2
    assert cu.fl([1e300, 0.5]) == 1e300


def test_str_zfill_pads_before_the_sign():
    # (seed 25415*100003+2) "-4".zfill(6) gave Python's "-00004"; TorchScript's zfill
    # writes the zeros before the whole str: "0000-4"
    cu = gpujit.jit.CompilationUnit('''
def z(s: str, w: int) -> str:
    return s.zfill(w)
''')
    assert cu.z("-4", 6) == "0000-4" and cu.z("+4", 3) == "0+4" and cu.z("-", 2) == "0-"
    assert cu.z("abc", 2) == "abc" and cu.z("", 3) == "000" and cu.z("12", -1) == "12"
    assert cu.z("7", 3) == "007"

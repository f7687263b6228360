"""Programs found by the seeded fuzzers (tests/program_fuzz_gen*.py, tests/guard_fuzz_gen.py)
in session 26 (helper b26), minimised; the expected values are PyTorch's (2.13 on x86-64,
torch.jit.script where the program is scripted) or Python's / NumPy's, written out."""
from __future__ import annotations

import math

import numpy as np
import pytest

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


def test_a_raised_key_error_s_message_reads_as_text():
    # (mode 5, seed 26402*100003+1) `raise KeyError("n=" + ...)`: str() of gpujit's error was
    # KeyError's repr of the message and the scripted line after it ("'n=1\\n  in scripted
    # code at ...'"); it reads as text now, as a failed dict lookup's (TorchScript's
    # "builtins.KeyError: n=1"), and is still a KeyError and a jit Error
    cu = gpujit.jit.CompilationUnit('''
def f(x: float) -> int:
    if x > 0:
        raise KeyError("n=" + str(x))
    return 1

def g(d: Dict[str, int]) -> int:
    return d["b"]
''')
    for _ in range(2):
        with pytest.raises(KeyError) as e:
            cu.f(0.5)
        assert isinstance(e.value, gpujit.jit.Error)
        text = str(e.value)       # (TorchScript's traceback, then its class and message)
        assert text.endswith("\nbuiltins.KeyError: n=0.5\n") and \
            'raise KeyError("n=" + str(x))' in text, text
        with pytest.raises(KeyError) as e:
            cu.g({"a": 1})
        # (torch 2.13's words, the last line of its interpreter report)
        assert str(e.value).endswith("\nRuntimeError: KeyError: b\n"), str(e.value)


class _MyKeyError(KeyError):
    def __str__(self):
        return "mine"


def test_a_user_key_error_class_keeps_its_own_str():
    def f(x: int) -> int:
        if x > 0:
            raise _MyKeyError("k")
        return x

    s = gpujit.jit.script(f)
    with pytest.raises(_MyKeyError) as e:
        s(1)
    assert str(e.value) == "mine"


def test_sum_of_an_empty_float_list_is_a_float():
    # (mode 5, seed 26402*100003+0) min(a, sum(torch.jit.annotate(List[float], []))) gave
    # the int 0 (Python's sum([])), where TorchScript's aten::sum.float gives 0.0: the
    # graph typed it float, the value was an int (str() '0' for TorchScript's '0.')
    cu = gpujit.jit.CompilationUnit('''
def f(xs: List[float]) -> float:
    return sum(xs)

def g(a: int) -> str:
    v = min(a, sum(torch.jit.annotate(List[float], [])))
    return str(v)

def h(xs: List[int]) -> int:
    return sum(xs)
''')
    for _ in range(3):                  # (the interpreter's profiling call, then the code)
        r = cu.f([])
        assert type(r) is float and r == 0.0
        assert cu.f([1.5, -0.0]) == 1.5
        assert cu.g(3) == "0."
        r = cu.h([])
        assert type(r) is int and r == 0


def _floor_half(x):
    return (x * 2 + 1) // 2 * x


def test_floor_divide_s_backward_raises_as_pytorch_s():
    # (guard fuzz, seed 2650479562: `t2 = x // 2` with x requiring grad) PyTorch records
    # floor_divide with its output requiring grad and refuses the backward ("derivative for
    # aten::floor_divide is not implemented"); gpujit gave zeros. div(rounding_mode=
    # 'floor') keeps its zero gradient, as PyTorch's
    x = gpujit.tensor([1.5, -2.5], requires_grad=True)
    for fn, name in [(lambda: x // 2, "floor_divide"),
                     (lambda: gpujit.floor_divide(x, -1.5), "floor_divide"),
                     (lambda: 3 // x, "floor_divide"),
                     (lambda: x.clone().floor_divide_(2), "floor_divide_")]:
        y = fn()
        assert y.requires_grad
        with pytest.raises(RuntimeError, match=f"derivative for aten::{name} is not "):
            gpujit.autograd.grad(y.sum(), x)
    y = gpujit.div(x, 2, rounding_mode="floor")
    assert gpujit.autograd.grad(y.sum(), x)[0].tolist() == [0.0, 0.0]
    s = gpujit.jit.script(_floor_half)
    for _ in range(3):                  # (profiling, then the differentiable graph)
        y = s(x)
        assert y.tolist() == [3.0, 5.0]
        with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not"):
            y.sum().backward()
    with gpujit.no_grad():
        assert s(x).tolist() == [3.0, 5.0]


def test_backward_runs_ready_nodes_in_pytorch_s_sequence_order():
    # (guard fuzz, seed 2650479562) the engine ran the ready nodes last-in first-out where
    # PyTorch's ReadyQueue runs the one made last (highest sequence_nr) first: a gradient
    # summed from several paths added up in another order -- another layout of the sum
    # (here the permuted x's gradient: PyTorch's cumsum path arrives first, C-contiguous),
    # other rounding -- and tensor hooks ran in another order
    x = gpujit.from_numpy(np.arange(8, dtype=np.float32).reshape(4, 2)).t()
    x = x.detach().requires_grad_(True)
    t2 = gpujit.div(x, 2, rounding_mode="floor")
    t3 = x.cumsum(-1)
    t5 = gpujit.clamp(t2, -1.5, 2.0)
    g = gpujit.autograd.grad(t3.sum() + t5.sum(), x)[0]
    assert g.stride() == (4, 1) and g.tolist() == [[4.0, 3.0, 2.0, 1.0]] * 2

    order = []
    x = gpujit.ones(2, requires_grad=True)
    a, b, c = x * 2, x * 3, x.exp()
    d = b.sin()
    for n, t in (("a", a), ("b", b), ("c", c), ("d", d)):
        t.register_hook(lambda g, n=n: order.append(n))
    (d.sum() + a.sum() + c.sum()).backward()
    assert order == ["d", "c", "b", "a"]            # PyTorch 2.13's
    order = []
    x = gpujit.ones(2, requires_grad=True)
    p = x * 2
    q, r = p + 1, x - 1
    for n, t in (("p", p), ("q", q), ("r", r)):
        t.register_hook(lambda g, n=n: order.append(n))
    (r.sum() + q.sum()).backward()
    assert order == ["r", "q", "p"]
    assert q.grad_fn._sequence_nr() > p.grad_fn._sequence_nr()


def test_a_chained_comparison_evaluates_its_next_operand_only_when_needed():
    # (mode 5, seed 26405*100003+1) `a < a <= xs[-1]` with an empty xs raised IndexError:
    # every operand of the chain was evaluated first, where Python and TorchScript stop
    # at the first false comparison
    cu = gpujit.jit.CompilationUnit('''
def f(a: int, xs: List[int]) -> bool:
    return a < a <= xs[-1]

def g(a: int, b: int, xs: List[int]) -> bool:
    return a < b < xs[0] < xs[1]

def h(a: int, xs: List[int]) -> int:
    n = 0
    if 0 <= a < len(xs) and xs[a] > 0:
        n = xs[a]
    return n
''')
    for _ in range(2):
        assert cu.f(1, []) is False and cu.f(1, [3]) is False
        assert cu.g(2, 1, []) is False and cu.g(1, 2, [1]) is False
        assert cu.g(1, 2, [3, 4]) is True and cu.g(1, 2, [3, 3]) is False
        with pytest.raises(IndexError):
            cu.g(1, 2, [3])
        assert cu.h(5, [1]) == 0 and cu.h(0, [7]) == 7


def test_min_max_of_an_empty_list_raise_when_they_run():
    # (mode 5, seed 26407*100003+1) min(torch.jit.annotate(List[float], [])) was refused
    # when compiling ("min() of an empty list"); TorchScript compiles it and raises its
    # RuntimeError only where the call runs (Python's ValueError was raised for a list
    # argument; the error is both now)
    cu = gpujit.jit.CompilationUnit('''
def f(a: int) -> float:
    if a > 0:
        return min(torch.jit.annotate(List[float], []))
    return 1.0

def g(xs: List[int]) -> int:
    return max(xs)

def h(xs: List[int], ys: List[int]) -> List[int]:
    return min(xs, ys)
''')
    for _ in range(2):
        assert cu.f(0) == 1.0
        with pytest.raises(RuntimeError, match=r"\nRuntimeError: min\(\) arg is an empty "
                                               r"sequence"):
            cu.f(1)
        with pytest.raises(RuntimeError, match=r"\nRuntimeError: max\(\) arg is an empty "
                                               r"sequence"):
            cu.g([])
        with pytest.raises(ValueError):
            cu.g([])
        assert cu.g([3, 7, 5]) == 7
        assert cu.h([1, 2], [1]) == [1] and cu.h([], [0]) == []


def test_list_times_a_negative_count_that_wraps_to_zero_is_empty():
    # (mode 5, seed 26410*100003+13) xs * abs(a) with a = -2**63 (abs wraps: -2**63) raised
    # gpujit's 'vector::reserve' error; TorchScript reserves len(xs) * n as a C++ size_t,
    # which wraps to 0 for an even len(xs), and its loop over n adds nothing: []
    cu = gpujit.jit.CompilationUnit('''
def f(xs: List[int], n: int) -> List[int]:
    return xs * n
''')
    big = -2 ** 63
    for _ in range(2):
        assert cu.f([1, 2], big) == [] and cu.f([1] * 6, big) == []
        assert cu.f([1] * 16, -2 ** 62) == [] and cu.f([], -5) == []
        for xs, n in (([1, 2, 3], big), ([1], -1)):
            with pytest.raises(RuntimeError, match="vector::reserve"):
                cu.f(xs, n)
        assert cu.f([1, 2], 2) == [1, 2, 1, 2]

"""Numbers at a scripted function's boundary and of either kind.

- Ints outside int64 passed into a scripted function are refused at the call, as
  TorchScript refuses them ("Expected a value of type 'int' for argument ..."), on the first
  call and on the dispatcher's fast path after a specialization exists; ints inside int64
  (and bools, which TorchScript takes for int) still pass.
- A Union[int, float] value is a number (TorchScript's Union of numbers is a subtype of its
  Number): it goes where a Scalar goes (x * n, torch.full, float(n), int(n)) and into
  Python's operators and builtins (-n, abs, max, //, %, round, math.sqrt), each computing
  on the kind of number the value has when it runs.

Where gpujit differs on purpose: TorchScript's math.sqrt of such a number is computed in
float32 (1.4142135381698608); gpujit gives the float64 result. max(n, 1, 0.5), which
TorchScript refuses to compile, and math.isnan(n) work."""
from typing import Dict, List, Optional, Tuple, Union

import pytest

import gpujit as torch
from gpujit.runtime.arguments import ArgumentTypeError

BIG = [1 << 63, -(1 << 63) - 1, 1 << 64, 10 ** 30]


def _int_arg(a: int, b: int) -> int:
    return a + b


def _list_arg(a: List[int]) -> int:
    return a[0]


def _opt_arg(a: Optional[int]) -> int:
    return 0 if a is None else a


def _tuple_arg(a: Tuple[int, float]) -> int:
    return a[0]


def _dict_arg(a: Dict[int, int]) -> int:
    return len(a)


def _union_arg(a: Union[int, float]) -> float:
    return float(a) * 2


def _tensor_and_int(x: torch.Tensor, k: int) -> torch.Tensor:
    return x * 2 + k


CASES = [
    (_int_arg, lambda v: (v, 1), (3, 4), 7),
    (_int_arg, lambda v: (1, v), (3, 4), 7),
    (_list_arg, lambda v: ([v],), ([5],), 5),
    (_opt_arg, lambda v: (v,), (6,), 6),
    (_tuple_arg, lambda v: ((v, 1.0),), ((2, 1.0),), 2),
    (_dict_arg, lambda v: ({v: 1},), ({1: 2},), 1),
    (_union_arg, lambda v: (v,), (3,), 6.0),
]


@pytest.mark.parametrize("big", BIG)
@pytest.mark.parametrize("fn,make,ok_args,ok", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_out_of_range_int_refused_first_and_after_specializing(fn, make, ok_args, ok, big):
    first = torch.jit.script(fn)
    with pytest.raises(RuntimeError, match="Expected a value of type") as info:
        first(*make(big))
    assert isinstance(info.value, ArgumentTypeError)
    assert "outside the range of TorchScript's int" in str(info.value)
    assert str(big) in str(info.value)
    s = torch.jit.script(fn)
    assert s(*ok_args) == ok
    assert s(*ok_args) == ok                # (the dispatcher's fast path now serves it)
    with pytest.raises(RuntimeError, match="Expected a value of type"):
        s(*make(big))
    assert s(*ok_args) == ok


def test_int64_limits_and_bools_pass():
    s = torch.jit.script(_int_arg)
    lo, hi = -(1 << 63), (1 << 63) - 1
    assert s(hi, 0) == hi and s(lo, 0) == lo
    assert s(hi, 1) == lo                   # scripted ints wrap as int64
    assert s(True, 1) == 2                  # TorchScript takes a bool for an int
    assert torch.jit.script(_list_arg)([hi]) == hi


def test_tensor_function_int_argument():
    s = torch.jit.script(_tensor_and_int)
    x = torch.ones(3)
    for _ in range(3):
        assert s(x, 2).tolist() == [4.0, 4.0, 4.0]
    with pytest.raises(RuntimeError, match="argument 'k'"):
        s(x, 1 << 64)
    assert s(x, -1).tolist() == [1.0, 1.0, 1.0]


def test_script_module_forward_int_argument():
    class M(torch.nn.Module):
        def forward(self, x: torch.Tensor, n: int) -> torch.Tensor:
            return x + n

    m = torch.jit.script(M())
    x = torch.zeros(2)
    assert m(x, 3).tolist() == [3.0, 3.0]
    assert m(x, 3).tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="Expected a value of type 'int' for argument 'n'"):
        m(x, 1 << 70)


NUMBER_EXPRS = [
    "x * a", "torch.full([2], a)", "torch.zeros(2) + a", "torch.ones(3).add(a)",
    "torch.ones(2).fill_(a)", "torch.clamp(x, max=a)", "torch.ones(2) > a",
    "float(a) * 2", "int(a) + 1", "a + 1.5", "a - a", "a * a", "a / 2", "a // 2",
    "a // 0.5", "a % 2", "-a % 3", "a ** 2", "2 ** a", "-a", "abs(-a)", "max(a, 1)",
    "min(a, 2.2)", "round(a)", "math.floor(a)", "a > 1.5 and a < 3", "a == 2", "str(a)",
    "f'{a}'", "[a, 1]", "a * 4611686018427387904",
]


def _number_module(lib, tmp_path):
    import importlib.util
    path = tmp_path / f"numbers_{lib.__name__}.py"
    lines = [f"import {lib.__name__} as torch", "import math", "from typing import Union"]
    for i, e in enumerate(NUMBER_EXPRS):
        lines += [f"def f{i}(x: torch.Tensor, a: Union[int, float]):", f"    return {e}"]
    path.write_text("\n".join(lines) + "\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _plain(v):
    if hasattr(v, "tolist") and hasattr(v, "dtype"):
        return ("tensor", str(v.dtype).split(".")[-1], v.tolist())
    return (type(v).__name__, v)


def test_union_of_numbers_is_a_number_as_torchscript(tmp_path):
    ref = pytest.importorskip("torch")
    ours, theirs = _number_module(torch, tmp_path), _number_module(ref, tmp_path)
    for i, e in enumerate(NUMBER_EXPRS):
        s = torch.jit.script(getattr(ours, f"f{i}"))
        r = ref.jit.script(getattr(theirs, f"f{i}"))
        for a in (2, 2.5, -3):
            for _ in range(2):              # (the profiling call, then the optimized one)
                got = _plain(s(torch.ones(2), a))
            want = _plain(r(ref.ones(2), a))
            assert got == want, (e, a, got, want)


def test_union_number_math_and_results_without_torch():
    import math

    def f(a: Union[int, float]) -> Tuple[float, int, float]:
        return math.sqrt(a), math.floor(a), float(max(a, 1, 0.5))

    s = torch.jit.script(f)
    assert s(4) == (2.0, 4, 4.0)
    assert s(2.25) == (1.5, 2, 2.25)
    assert s(0.25) == (0.5, 0, 1.0)
    assert isinstance(s(4)[1], int)

    def g(a: Union[int, float]):
        return -a, abs(a), a // 2, a % 2, round(a)

    sg = torch.jit.script(g)
    assert sg(-7) == (7, 7, -4, 1, -7.0)
    assert [type(v) for v in sg(-7)] == [int, int, int, int, float]
    assert sg(-7.5) == (7.5, 7.5, -4.0, 0.5, -8.0)
    with pytest.raises(RuntimeError):
        torch.jit.script(lambda_free_floordiv_zero)(3)


def lambda_free_floordiv_zero(a: Union[int, float]):
    return a // 0

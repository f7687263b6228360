"""Scripted dtypes are TorchScript's ints (j27): in TorchScript (torch 2.13) a dtype in
scripted code is its ScalarType code (float32 is 6, float64 7, float16 5, int32 3, int64
4), so it meets ints in lists, `in`, `is`, comparisons, arithmetic, annotations, int(),
hash and dict keys, and comes back to Python as an int. Expected values checked against
torch 2.13; eager x.dtype stays a dtype object."""
from typing import Dict, List, Optional

import gpujit as torch


def _s(f):
    return torch.jit.script(f)


def test_in_and_not_in_a_list_of_dtypes():
    def f(x):
        if x.dtype in [torch.float32, torch.float16]:
            return 1
        return 0

    def g(x):
        return x.dtype not in [torch.float64]
    assert _s(f)(torch.ones(2)) == 1 and _s(f)(torch.ones(2, dtype=torch.int64)) == 0
    assert _s(g)(torch.ones(2)) is True


def test_is_and_is_not():
    def f(x):
        return x.dtype is torch.float32, x.dtype is not torch.float64, x.dtype is x.dtype
    assert _s(f)(torch.ones(2)) == (True, True, True)
    assert _s(f)(torch.ones(2, dtype=torch.float64)) == (False, False, True)


def test_annotated_lists_dicts_and_returns():
    def lst(x):
        l: List[int] = [x.dtype]
        return l

    def mixed(x):
        return [x.dtype, torch.float64]

    def ret(x) -> int:
        return x.dtype

    def opt(x) -> Optional[int]:
        return x.dtype

    def dct(x) -> Dict[str, int]:
        return {"a": x.dtype}

    def keys(x):
        d: Dict[int, str] = {torch.float32: "f", torch.float64: "d"}
        return d[x.dtype], {x.dtype: 1}
    x = torch.ones(2)
    assert _s(lst)(x) == [6] and _s(mixed)(x) == [6, 7]
    r = _s(ret)(x)
    assert r == 6 and type(r) is int
    assert _s(opt)(x) == 6 and _s(dct)(x) == {"a": 6}
    assert _s(keys)(x) == ("f", {6: 1})


def test_numbers_of_dtypes():
    def f(x):
        return (x.dtype + 1, int(x.dtype), x.dtype < torch.float64, hash(x.dtype),
                torch.float32 * 2, max(x.dtype, torch.int64), x.dtype == 6)

    def srt(x):
        return sorted([torch.float64, x.dtype])

    def loop(x):
        s = 0
        for d in [torch.float32, torch.int64]:
            s += d
        return s
    assert _s(f)(torch.ones(2)) == (7, 6, True, 6, 12, 6, True)
    assert _s(srt)(torch.ones(2)) == [6, 7]
    assert _s(loop)(torch.ones(2)) == 10


def test_values_returned_to_python_are_ints():
    def f(x):
        return x.dtype, (x.dtype, 1), torch.float32, str(x.dtype)
    r = _s(f)(torch.ones(2, dtype=torch.float16))
    assert r == (5, (5, 1), 6, "5") and type(r[0]) is int
    assert torch.ones(2).dtype is torch.float32       # eager: a dtype object


def test_branches_and_conditional_expressions_unify_with_int():
    def f(x, b: bool):
        return x.dtype if b else 4

    def g(x, d: Optional[int] = None):
        if d is None:
            return x.dtype
        return d
    x = torch.ones(2)
    assert _s(f)(x, True) == 6 and _s(f)(x, False) == 4
    assert _s(g)(x) == 6 and _s(g)(x, 3) == 3


def test_dtype_arguments_still_work():
    def f(x, d: torch.dtype, e: int):
        dt = x.dtype
        return (torch.zeros(2, dtype=dt).dtype, x.to(torch.float64).to(dt).dtype,
                x.to(d).dtype, torch.zeros(1, dtype=e).dtype, d + 1,
                x.view(torch.int32).dtype, x.half().dtype, x.type_as(x.double()).dtype,
                x.sum(dtype=torch.float64).dtype)
    s = _s(f)
    r = s(torch.ones(4), torch.float64, torch.int32)
    assert r == (6, 6, 7, 3, 8, 3, 5, 7, 7)
    r = s(torch.ones(4, dtype=torch.float64), torch.int64, 6)
    assert r == (7, 7, 4, 6, 5, 3, 5, 7, 7)
    # a dtype constant for a ScalarType: its number, as torch 2.13's .code
    assert "torch.sum(x, dtype=7)" in s.code and "torch.to(x, 5)" in s.code


def test_module_attribute_holding_a_dtype():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dt = torch.float64

        def forward(self, x):
            return x.to(self.dt), self.dt, self.dt + 1
    y, d, e = torch.jit.script(M())(torch.ones(2))
    assert y.dtype is torch.float64 and (d, e) == (7, 8)


def test_fused_casts_and_save_load(tmp_path):
    class M(torch.nn.Module):
        def forward(self, x):
            y = (x * 2).to(torch.float16)
            if x.dtype in [torch.float32, torch.float64]:
                y = y + 1
            return y.to(x.dtype), x.dtype
    m = torch.jit.script(M())
    for _ in range(3):
        y, d = m(torch.ones(3))
    assert y.dtype is torch.float32 and y.tolist() == [3.0, 3.0, 3.0] and d == 6
    p = str(tmp_path / "m.pt")
    torch.jit.save(m, p)
    y2, d2 = torch.jit.load(p)(torch.ones(3, dtype=torch.float64))
    assert y2.dtype is torch.float64 and y2.tolist() == [3.0, 3.0, 3.0] and d2 == 7


def test_against_torch():
    import pytest
    real = pytest.importorskip("torch")

    def make(t):
        def f(x):
            l: List[int] = [x.dtype, t.float64]
            return (x.dtype in [t.float32, t.float16], x.dtype is t.float32, l,
                    x.dtype + 1, x.dtype < t.float64, {x.dtype: 1}, x.dtype)
        return f
    a = real.jit.script(make(real))(real.ones(2))
    b = torch.jit.script(make(torch))(torch.ones(2))
    assert a == b

"""TorchScript leftovers (session 28, part 2): min / max as TorchScript's prim::min /
prim::max, torch.device('cpu:0'). Expected values checked against torch 2.13."""
import io
import math
from typing import List, Union

import pytest

import gpujit as torch


def _kinds(fn):
    return [n.kind for n in fn.graph.nodes() if n.kind != "prim::Constant"]


def _schemas(fn):
    return [n.op.name for n in fn.graph.nodes() if n.kind in ("prim::max", "prim::min")]


def max_int_float(a: int, c: float):
    return max(a, c)


def max_int_const(a: int):
    return max(a, 2)


def min_float_int(a: float, b: int):
    return min(a, b)


def min_float_float(a: float, b: float):
    return min(a, b)


def max_bools(a: bool, b: bool):
    return max(a, b)


def min_int_bool(a: int, b: bool):
    return min(a, b)


def min_bool_float(a: bool, b: float):
    return min(a, b)


def max_true_false():
    return max(True, False)


def max_number(a: Union[int, float], b: int):
    return max(a, b)


def max_list(xs: List[int]):
    return max(xs)


def min_float_list(xs: List[float]):
    return min(xs)


def minmax_bool_list(xs: List[bool]):
    return min(xs), max(xs)


def max_three(a: int, b: int, c: int):
    return max(a, b, c)


def min_three_floats(a: float, b: float, c: float):
    return min(a, b, c)


def minmax_lists(xs: List[int], ys: List[int]):
    return min(xs, ys), max(xs, ys)


def minmax_float_lists(xs: List[float], ys: List[float]):
    return min(xs, ys), max(xs, ys)


def min_list_is_new(xs: List[int], ys: List[int]):
    r = min(xs, ys)
    r.append(9)
    return xs, ys


def test_mixed_int_float_max_is_a_float_on_every_call():
    # the optimized (second and later) runs re-resolve prim::max on (int, float): the
    # overload is .int_float, whose result is a float (was 1, an int, from the second call)
    f = torch.jit.script(max_int_float)
    assert _kinds(f) == ["prim::max"] and _schemas(f) == ["prim::max.int_float"]
    for _ in range(4):
        r = f(1, 0.5)
        assert r == 1.0 and type(r) is float
    assert f(0, 0.5) == 0.5
    g = torch.jit.script(min_float_int)
    assert _schemas(g) == ["prim::min.float_int"]
    for _ in range(3):
        r = g(2.5, 1)
        assert r == 1.0 and type(r) is float


def test_two_numbers_are_prim_min_max_as_torchscript():
    f = torch.jit.script(max_int_const)
    assert _kinds(f) == ["prim::max"] and _schemas(f) == ["prim::max.int"]
    assert "return ops.prim.max(a, 2)" in f.code
    for _ in range(3):
        assert f(5) == 5 and f(-1) == 2 and type(f(-1)) is int
    g = torch.jit.script(min_float_float)
    assert _schemas(g) == ["prim::min.float"]
    assert "return ops.prim.min(a, b)" in g.code
    # a < b ? a : b: a nan second is kept, a nan first is not
    for _ in range(3):
        assert math.isnan(g(1.0, float("nan"))) and g(float("nan"), 1.0) == 1.0
    n = torch.jit.script(max_number)
    assert _schemas(n) == ["prim::max"]
    assert n(2.5, 1) == 2.5 and n(1, 3) == 3 and type(n(1, 3)) is int
    assert n(1.0, 3) == 3.0 and type(n(1.0, 3)) is float


def test_bools_are_converted_as_torchscript_converts_them():
    f = torch.jit.script(max_bools)
    assert _kinds(f) == ["aten::Int", "aten::Int", "prim::max"]
    assert "ops.prim.max(int(a), int(b))" in f.code
    for _ in range(3):
        r = f(True, False)
        assert r == 1 and type(r) is int
    g = torch.jit.script(min_int_bool)
    assert _kinds(g) == ["aten::Int", "prim::min"] and _schemas(g) == ["prim::min.int"]
    assert g(3, True) == 1 and g(-3, True) == -3
    h = torch.jit.script(min_bool_float)
    assert _kinds(h) == ["aten::Float", "prim::min"] and _schemas(h) == ["prim::min.float"]
    assert "ops.prim.min(float(a), b)" in h.code
    assert h(True, 2.5) == 1.0 and type(h(True, 2.5)) is float
    c = torch.jit.script(max_true_false)
    assert _kinds(c) == [] and "return 1" in c.code       # folded, as TorchScript's
    assert c() == 1 and type(c()) is int


def test_lists_are_prim_min_max_overloads():
    f = torch.jit.script(max_list)
    assert _schemas(f) == ["prim::max.self_int"] and "ops.prim.max(xs)" in f.code
    assert f([1, 5, 2]) == 5
    with pytest.raises(RuntimeError, match="max\\(\\) arg is an empty sequence"):
        f([])
    g = torch.jit.script(min_float_list)
    assert _schemas(g) == ["prim::min.self_float"]
    nan = float("nan")
    assert g([1.0, nan, 2.0]) == 1.0 and math.isnan(g([nan, 1.0]))
    b = torch.jit.script(minmax_bool_list)
    assert _schemas(b) == ["prim::min.self_bool", "prim::max.self_bool"]
    assert b([True, False]) == (False, True)
    t = torch.jit.script(max_three)
    assert _kinds(t) == ["prim::ListConstruct", "prim::max"]
    assert "ops.prim.max([a, b, c])" in t.code and t(1, 5, 3) == 5
    m = torch.jit.script(min_three_floats)
    assert _schemas(m) == ["prim::min.self_float"]
    assert math.isnan(m(nan, 2.0, 1.0)) and m(2.0, nan, 1.0) == 1.0


def test_two_lists_as_torchscript():
    f = torch.jit.script(minmax_lists)
    assert _schemas(f) == ["prim::min.int_list", "prim::max.int_list"]
    cases = [(([1, 2], [1, 3]), ([1, 2], [1, 3])), (([1, 2], [1, 2, 0]), ([1, 2], [1, 2, 0])),
             (([1, 2, 0], [1, 2]), ([1, 2], [1, 2, 0])), (([], [1]), ([], [1])),
             (([2], [1, 5]), ([1, 5], [2]))]
    for args, want in cases:
        assert f(*args) == want
    g = torch.jit.script(minmax_float_lists)
    nan = float("nan")
    # the first index where they differ decides (a nan differs from everything)
    assert g([nan], [1.0]) == ([1.0], [1.0])
    r = g([1.0], [nan])
    assert all(math.isnan(x[0]) for x in r)
    assert g([1.0, nan], [1.0, 2.0]) == ([1.0, 2.0], [1.0, 2.0])
    # the result is a new list, as TorchScript's
    h = torch.jit.script(min_list_is_new)
    assert h([1, 2], [1, 2]) == ([1, 2], [1, 2])
    assert h([1, 2], [1, 3]) == ([1, 2], [1, 3])


class _MinMax(torch.nn.Module):
    def forward(self, x, a: int, c: float, xs: List[int], ys: List[float], f: bool):
        return (x * max(a, c), min(xs), max(xs, [1, 2]), min(ys), max(f, True),
                min(a, 3, 2))


def test_min_max_saved_and_loaded():
    m = torch.jit.script(_MinMax())
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    m2 = torch.jit.load(buf)
    assert "ops.prim.max(a, c)" in m2.code and "ops.prim.min([a, 3, 2])" in m2.code
    x = torch.ones(2)
    for mm in (m, m, m2, m2, m2):
        r = mm(x, 1, 0.5, [3, 1], [2.5, 0.5], False)
        assert r[0].tolist() == [1.0, 1.0]
        assert r[1:] == (1, [3, 1], 0.5, 1, 1)
    nodes = [n for n in m2.forward.graph.nodes() if n.kind == "prim::max"]
    assert nodes[0].op.name == "prim::max.int_float"


def test_min_max_match_torch():
    real = pytest.importorskip("torch")
    for fn, args in [(max_int_float, (1, 0.5)), (min_float_int, (2.5, 1)),
                     (max_bools, (True, False)), (min_int_bool, (3, True)),
                     (min_bool_float, (True, 2.5)), (max_list, ([1, 5, 2],)),
                     (minmax_lists, ([1, 2, 0], [1, 2])), (max_three, (1, 5, 3))]:
        ours, theirs = torch.jit.script(fn), real.jit.script(fn)
        assert _kinds(ours) == [n.kind() for n in theirs.graph.nodes()
                                if n.kind() != "prim::Constant"]
        for _ in range(3):
            a, b = ours(*args), theirs(*args)
            assert a == b and type(a) is type(b)


def test_cpu_zero_device_keeps_its_index():
    d = torch.device("cpu:0")
    assert str(d) == "cpu:0" and repr(d) == "device(type='cpu', index=0)"
    assert d.type == "cpu" and d.index == 0
    assert d != torch.device("cpu") and d == torch.device("cpu", 0)
    assert str(torch.device("cpu", 0)) == "cpu:0" and torch.device("cpu").index is None
    assert len({d, torch.device("cpu"), torch.device("cpu", 0)}) == 2
    # a tensor placed on it is on 'cpu', as torch's
    x = torch.ones(2)
    for t in (torch.zeros(1, device="cpu:0"), torch.zeros(1, device=d), x.to(d),
              x.to("cpu:0"), torch.tensor([1.0], device=d), torch.empty_like(x, device=d),
              torch.arange(3, device=d), torch.ones(2, device="cpu:0") + x):
        assert t.device == torch.device("cpu") and str(t.device) == "cpu"


def device_facts(x: torch.Tensor, e: torch.device):
    return e == x.device, e.index, e, str(e)


def cpu_zero_constant(x: torch.Tensor):
    d = torch.device("cpu:0")
    return d, str(d), d.index, x.to(d).device, d == torch.device("cpu")


def test_cpu_zero_device_in_script():
    f = torch.jit.script(device_facts)
    assert "prim::index" in _kinds(f)      # TorchScript's prim::index(Device self) -> int?
    assert "ops.prim.index(e)" in f.code
    d = torch.device("cpu:0")
    for _ in range(3):
        assert f(torch.ones(1), d) == (False, 0, d, "cpu:0")
        assert f(torch.ones(1), torch.device("cpu")) == (True, None, torch.device("cpu"),
                                                         "cpu")
    g = torch.jit.script(cpu_zero_constant)
    for _ in range(3):
        r = g(torch.ones(1))
        assert r == (d, "cpu:0", 0, torch.device("cpu"), False)
    buf = io.BytesIO()
    torch.jit.save(f, buf)
    buf.seek(0)
    f2 = torch.jit.load(buf)
    assert f2(torch.ones(1), d) == (False, 0, d, "cpu:0")


def to_device_string(x: torch.Tensor):
    return x.to("cpu"), x.to("cpu:0")


def to_bad_device_string(x: torch.Tensor):
    return x.to("cpu:-2")


def test_to_device_string_is_a_device_constant():
    f = torch.jit.script(to_device_string)
    assert 'torch.to(x, torch.device("cpu"))' in f.code
    assert 'torch.to(x, torch.device("cpu:0"))' in f.code
    for _ in range(3):
        a, b = f(torch.ones(2))
        assert a.device == torch.device("cpu") and b.device == torch.device("cpu")
    g = torch.jit.script(to_bad_device_string)       # refused when it runs, as torch's
    with pytest.raises(RuntimeError, match="Invalid device string"):
        g(torch.ones(2))

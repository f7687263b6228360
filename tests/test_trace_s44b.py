"""What torch.jit.trace / script record, part 4 (session 44, f44), against torch 2.13.

1. aten::div has PyTorch's two overloads: div.Tensor(self, other) for `x / y`,
   `torch.div(x, 3)`, true_divide, and div.Tensor_mode, whose rounding_mode has no default,
   for a call that names rounding_mode (None too). Traced and scripted graphs record 2
   inputs for the first (gpujit recorded a third, a None rounding_mode); the explicit
   `rounding_mode=None` stays in .code (gpujit dropped it) and its node is DivBackward2.
2. A Python number given to add / sub / mul / div / floor_divide / true_divide (and the
   in-place forms) traces as the 0-dim tensor PyTorch's argument parser wraps it in
   (`Double(requires_grad=0, device=cpu) = prim::Constant[value={2.5}]`,
   `torch.mul(x, CONSTANTS.c0)`); the executor's peephole gives the functional ops their
   number back, so the replay promotes as the number did and fused groups get literals.
3. inf / nan print as TorchScript's names in .code (`torch.clamp(x, -inf)`).
"""
import importlib.util
import io
import re
import sys
import warnings

import numpy as np
import pytest

import gpujit as torch


def _torch():
    return pytest.importorskip("torch")


def _quiet_trace(tr, fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tr.jit.trace(fn, *args, **kw)


def _body(code):
    """The statements of a .code text (without the def lines)."""
    lines = code.strip().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.rstrip().endswith(":"))
    return [ln.strip() for ln in lines[start + 1:]]


def _round_trip(tr, traced):
    b = io.BytesIO()
    tr.jit.save(traced, b)
    b.seek(0)
    return tr.jit.load(b)


_n = [0]


def _programs(tmp_path, tr, source):
    """The module of `source` (a file, so that it scripts) with `torch` bound to tr."""
    _n[0] += 1
    name = f"trace_s44b_prog{_n[0]}"
    path = tmp_path / f"{name}.py"
    path.write_text(f"import {tr.__name__} as torch\nfrom {tr.__name__} import Tensor\n" + source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------ 1. div overloads

_DIV_SOURCE = """
def divs(x: Tensor, y: Tensor):
    return (x / y, x / 3, torch.div(x, y, rounding_mode=None),
            torch.div(x, y, rounding_mode="floor"), torch.true_divide(x, y))
"""

_DIV_CODE = ["_0 = torch.div(x, y)",
             "_1 = torch.div(x, 3)",
             "_2 = torch.div(x, y, rounding_mode=None)",
             "_3 = torch.div(x, y, rounding_mode=\"floor\")",
             "return (_0, _1, _2, _3, torch.div(x, y))"]


def _gpujit_div_inputs(graph):
    return [len(n.inputs) for n in graph.nodes if n.kind == "aten::div"]


def test_div_overloads_scripted_code_and_graph(tmp_path):
    p = _programs(tmp_path, torch, _DIV_SOURCE)
    s = torch.jit.script(p.divs)
    assert _body(s.code) == _DIV_CODE
    assert _gpujit_div_inputs(s.graph) == [2, 2, 3, 3, 2]
    assert [n.op.name for n in s.graph.nodes if n.kind == "aten::div"] == [
        "aten::div.Tensor", "aten::div.Tensor", "aten::div.Tensor_mode",
        "aten::div.Tensor_mode", "aten::div.Tensor"]
    x, y = torch.tensor([5., -5.]), torch.tensor([2., 2.])
    got = s(x, y)
    want = ([2.5, -2.5], [5 / 3, -5 / 3], [2.5, -2.5], [2., -3.], [2.5, -2.5])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-6)
    loaded = _round_trip(torch, s)
    assert _body(loaded.code) == _DIV_CODE
    for g, w in zip(loaded(x, y), want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-6)


def test_div_overloads_scripted_match_torch(tmp_path):
    t = _torch()
    s = t.jit.script(_programs(tmp_path, t, _DIV_SOURCE).divs)
    assert _body(s.code) == _DIV_CODE
    assert [len(list(n.inputs())) for n in s.graph.nodes() if n.kind() == "aten::div"] == \
        [2, 2, 3, 3, 2]


def _traced_divs(x, y, mod):
    return (x / y, x / 3, mod.div(x, y, rounding_mode=None),
            mod.div(x, y, rounding_mode="floor"), x.true_divide(y))


def test_div_overloads_traced_graph():
    x, y = torch.tensor([5., -5.]), torch.tensor([2., 2.])
    tr = _quiet_trace(torch, lambda a, b: _traced_divs(a, b, torch), (x, y))
    assert _gpujit_div_inputs(tr.graph) == [2, 2, 3, 3, 2]
    assert _body(tr.code) == [
        "_0 = torch.div(a, b)", "_1 = torch.div(a, CONSTANTS.c0)",
        "_2 = torch.div(a, b, rounding_mode=None)",
        "_3 = torch.div(a, b, rounding_mode=\"floor\")",
        "return (_0, _1, _2, _3, torch.div(a, b))"]
    loaded = _round_trip(torch, tr)
    np.testing.assert_allclose(loaded(x, y)[2].numpy(), [2.5, -2.5])
    np.testing.assert_allclose(loaded(x, y)[3].numpy(), [2., -3.])


def test_div_overloads_traced_match_torch():
    t = _torch()
    x, y = t.tensor([5., -5.]), t.tensor([2., 2.])
    tr = _quiet_trace(t, lambda a, b: _traced_divs(a, b, t), (x, y))
    assert [len(list(n.inputs())) for n in tr.graph.nodes() if n.kind() == "aten::div"] \
        == [2, 2, 3, 3, 2]
    gx, gy = torch.tensor([5., -5.]), torch.tensor([2., 2.])
    gtr = _quiet_trace(torch, lambda a, b: _traced_divs(a, b, torch), (gx, gy))
    assert _body(gtr.code) == _body(tr.code)


@pytest.mark.parametrize("call, name, grad", [
    (lambda x, y: torch.div(x, y), "DivBackward0", 0.5),
    (lambda x, y: x / 2, "DivBackward0", 0.5),
    (lambda x, y: torch.true_divide(x, y), "DivBackward0", 0.5),
    (lambda x, y: torch.div(x, y, rounding_mode=None), "DivBackward2", 0.5),
    (lambda x, y: torch.div(x, 2, rounding_mode=None), "DivBackward2", 0.5),
    (lambda x, y: x.div(y, rounding_mode="floor"), "DivBackward2", 0.),
    (lambda x, y: x.clone().div_(y), "DivBackward0", 0.5),
    (lambda x, y: x.clone().div_(y, rounding_mode=None), "DivBackward2", 0.5),
])
def test_div_grad_fn_names(call, name, grad):
    # (torch 2.13: derivatives.yaml's div.Tensor is DivBackward0, div.Tensor_mode -- the
    # Python binding's overload for any rounding_mode= -- DivBackward2)
    x = torch.ones(3, requires_grad=True)
    y = torch.full((3,), 2.)
    r = call(x, y)
    assert type(r.grad_fn).__name__ == name
    r.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [grad] * 3)


def test_div_overloads_eager():
    x = torch.tensor([5, -5])
    np.testing.assert_allclose(torch.div(x, 2).numpy(), [2.5, -2.5])
    np.testing.assert_allclose(torch.div(x, 2, rounding_mode=None).numpy(), [2.5, -2.5])
    assert torch.div(x, 2, rounding_mode="floor").tolist() == [2, -3]
    assert torch.div(x, 2, rounding_mode="trunc").tolist() == [2, -2]
    o = torch.empty(2)
    torch.div(x, torch.tensor([2, 2]), rounding_mode=None, out=o)
    assert o.tolist() == [2.5, -2.5]
    with pytest.raises(TypeError, match="unexpected keyword argument 'rounding_mode'"):
        torch.true_divide(x, 2, rounding_mode=None)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        x.clone().div_(2)
    a = x.clone()
    a.div_(2, rounding_mode="floor")
    assert a.tolist() == [2, -3]


# ------------------------------------------------------------------ 3. inf / nan in .code

_INF_SOURCE = """
from typing import List


def infs(x: Tensor):
    l: List[float] = [float("inf"), -float("inf"), float("nan"), 1.0]
    return (torch.mul(x, float("inf")), torch.clamp(x, float("-inf"), 0.5),
            x + float("nan"), l)
"""

_INF_CODE = ["l = [inf, -inf, nan, 1.]",
             "_0 = (torch.mul(x, inf), torch.clamp(x, -inf, 0.5), torch.add(x, nan), l)",
             "return _0"]


def _check_infs(r):
    a, b, c, lst = r
    np.testing.assert_array_equal(a.numpy(), [np.inf, np.nan, -np.inf])   # (0 * inf)
    assert b.tolist() == [0.5, 0.0, -1.0]
    assert all(v != v for v in c.tolist())
    assert lst[:2] == [float("inf"), float("-inf")] and lst[2] != lst[2] and lst[3] == 1.0


def test_inf_nan_print_as_torchscript_names(tmp_path):
    # (TorchScript's printer writes the names inf / nan, which its code reader resolves;
    # gpujit wrote float("inf"))
    s = torch.jit.script(_programs(tmp_path, torch, _INF_SOURCE).infs)
    assert _body(s.code) == _INF_CODE
    x = torch.tensor([1.0, 0.0, -1.0])
    _check_infs(s(x))
    loaded = _round_trip(torch, s)       # (the archive's code compiles back)
    assert _body(loaded.code) == _INF_CODE
    _check_infs(loaded(x))


def test_inf_nan_code_matches_torch(tmp_path):
    t = _torch()
    s = t.jit.script(_programs(tmp_path, t, _INF_SOURCE).infs)
    assert _body(s.code) == _INF_CODE


def test_inf_in_traced_code():
    x = torch.tensor([1.0, 0.0, -1.0])
    tr = _quiet_trace(torch, lambda a: torch.clamp(a, float("-inf"), 0.5), (x,))
    assert _body(tr.code) == ["return torch.clamp(a, -inf, 0.5)"]
    assert _round_trip(torch, tr)(x).tolist() == [0.5, 0.0, -1.0]


# ------------------------------------------------------------------ 2. wrapped numbers

def _numbers(x, mod):
    return (x * 2.5, x + 3, mod.add(x, 2.5, alpha=2), x - 1.5, 2 / x,
            mod.div(x, 2, rounding_mode="floor"), mod.floor_divide(x, 2),
            x.clone().mul_(2), 2 * x, mod.true_divide(x, 4))


_NUMBERS_CODE = [
    "_0 = torch.mul(x, CONSTANTS.c0)",
    "_1 = torch.add(x, CONSTANTS.c1)",
    "_2 = torch.add(x, CONSTANTS.c0, alpha=2)",
    "_3 = torch.sub(x, CONSTANTS.c2)",
    "_4 = torch.mul(torch.reciprocal(x), CONSTANTS.c3)",
    "_5 = torch.div(x, CONSTANTS.c3, rounding_mode=\"floor\")",
    "_6 = torch.floor_divide(x, CONSTANTS.c3)",
    "_7 = torch.mul_(torch.clone(x), CONSTANTS.c3)",
    "_8 = (_0, _1, _2, _3, _4, _5, _6, _7, torch.mul(x, CONSTANTS.c3), "
    "torch.div(x, CONSTANTS.c4))",
    "return _8"]

# replayed with int64 / float16 inputs: the functional add / sub / mul / div take the
# number back (wrapped-number promotion: int64 * 2.5 is float32), floor_divide, div with a
# rounding mode and the in-place mul_ keep the 0-dim tensor (torch 2.13's replay)
_NUMBERS_DTYPES = {
    "int64": ["float32", "int64", "float32", "float32", "float32", "int64", "int64",
              "int64", "int64", "float32"],
    "float16": ["float16"] * 10,
}


def _traced_numbers(mod):
    def f(x):
        return _numbers(x, mod)
    return _quiet_trace(mod, f, (mod.ones(3),))


def test_numbers_trace_as_wrapped_tensor_constants():
    tr = _traced_numbers(torch)
    assert _body(tr.code) == _NUMBERS_CODE
    text = str(tr.graph)
    assert text.count("Double(requires_grad=0, device=cpu) = prim::Constant[value={2.5}]()"
                      ) == 2
    assert "Long(requires_grad=0, device=cpu) = prim::Constant[value={3}]()" in text
    assert "Double(requires_grad=0, device=cpu) = prim::Constant[value={1.5}]()" in text
    consts = [n for n in tr.graph.nodes if n.kind == "prim::Constant"
              and isinstance(n.attrs.get("value"), torch.Tensor)]
    assert len(consts) == 10 and all(c.attrs["value"].dim() == 0 for c in consts)
    for name, want in _NUMBERS_DTYPES.items():
        got = [str(r.dtype).split(".")[-1] for r in tr(torch.ones(3, dtype=getattr(
            torch, name)))]
        assert got == want, name
    loaded = _round_trip(torch, tr)
    assert [str(r.dtype).split(".")[-1] for r in loaded(torch.ones(3, dtype=torch.int64))] \
        == _NUMBERS_DTYPES["int64"]


def test_numbers_trace_values():
    tr = _traced_numbers(torch)
    x = torch.tensor([1.5, -2.25, 3.0])
    want = [[3.75, -5.625, 7.5], [4.5, 0.75, 6.0], [6.5, 2.75, 8.0], [0.0, -3.75, 1.5],
            [4 / 3, -8 / 9, 2 / 3], [0.0, -2.0, 1.0], [0.0, -2.0, 1.0], [3.0, -4.5, 6.0],
            [3.0, -4.5, 6.0], [0.375, -0.5625, 0.75]]
    for _ in range(3):          # (profiling runs, then the optimized graph)
        got = tr(x)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-6)


def test_numbers_come_back_in_the_optimized_graph():
    # (torch 2.13's optimized graph of a trace: `%1 : float = prim::Constant[value=2.5]()`
    # into aten::mul, so a fused group gets the literal)
    def f(x):
        return (x * 2.5 + 1).relu() - x / 3
    tr = _quiet_trace(torch, f, (torch.ones(8),))
    x = torch.linspace(-2, 2, 8)
    for _ in range(3):
        tr(x)
    g = torch.jit.last_executed_optimized_graph()
    text = str(g)
    assert "prim::Constant[value={" not in text
    assert "float = prim::Constant[value=2.5]()" in text
    assert "int = prim::Constant[value=3]()" in text
    np.testing.assert_array_equal(tr(x).numpy(), f(x).numpy())
    xh = x.half()
    for _ in range(3):
        r = tr(xh)
    assert r.dtype == torch.float16
    np.testing.assert_array_equal(r.numpy(), f(xh).numpy())


def test_numbers_trace_matches_torch():
    t = _torch()
    tr = _traced_numbers(t)
    assert _body(tr.code) == _NUMBERS_CODE
    for name, want in _NUMBERS_DTYPES.items():
        got = [str(r.dtype).split(".")[-1] for r in tr(t.ones(3, dtype=getattr(t, name)))]
        assert got == want, name
    gtr = _traced_numbers(torch)
    # (the graphs line for line, without source ranges and value numbers: torch's
    # true_divide numbers its output past a value it drops)
    strip = lambda s: [re.sub(r"%\d+", "%_", ln.split(" # ")[0].strip())  # noqa: E731
                       for ln in str(s).splitlines()]
    assert strip(gtr.graph) == strip(tr.graph)

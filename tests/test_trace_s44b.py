"""What torch.jit.trace / script record, part 4 (session 44, f44), against torch 2.13.

1. aten::div has PyTorch's two overloads: div.Tensor(self, other) for `x / y`,
   `torch.div(x, 3)`, true_divide, and div.Tensor_mode, whose rounding_mode has no default,
   for a call that names rounding_mode (None too). Traced and scripted graphs record 2
   inputs for the first (gpujit recorded a third, a None rounding_mode); the explicit
   `rounding_mode=None` stays in .code (gpujit dropped it) and its node is DivBackward2.
"""
import importlib.util
import io
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
        "_0 = torch.div(a, b)", "_1 = torch.div(a, 3)",
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
    # (torch's `x / 3` divides by a tensor constant, CONSTANTS.c0: part 2 below)
    want = [ln for ln in _body(tr.code) if "CONSTANTS" not in ln]
    got = [ln for ln in _body(gtr.code) if "torch.div(a, 3)" not in ln]
    assert got == want


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

"""TorchScript graph fidelity (session 27, helper G27), each expectation checked against
torch 2.13: the dead code TorchScript's cleanup drops when it scripts a function,
torch._C.parse_ir's renumbering, grad_fn names of scripted ops with a Python number
(the Scalar overload TorchScript's matching picks), and the math functions TorchScript's
builtin table has or lacks."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gpujit as torch
from gpujit.frontend.script.errors import FrontendError


# ------------------------------------------------------------------ 1. dead code at script time
def dead_index(ss: str) -> int:
    a = ss.index("xyz")
    return 1


def dead_values(x: torch.Tensor) -> torch.Tensor:
    y = x + 1
    z = torch.relu(x)
    n = len([1, 2])
    return x


def kept_effects(x: torch.Tensor) -> torch.Tensor:
    x.add_(1)                 # in place on an input
    print("hi")
    r = torch.rand(3)         # (an unused draw: dead code, as torch 2.13's DCE drops it)
    if x.sum() > 100:
        raise ValueError("big")
    return x


def test_dead_side_effect_free_nodes_leave_the_scripted_graph():
    f = torch.jit.script(dead_index)
    text = str(f.graph)
    assert "aten::index" not in text and "xyz" not in text, text
    assert f("abc") == 1                          # (torch: no error either)
    g = torch.jit.script(dead_values)
    assert [n.kind() for n in g.graph.nodes()] == []      # torch: `return (%x.1)` only
    x = torch.ones(2)
    assert g(x) is x or np.array_equal(g(x).numpy(), x.numpy())


def test_dead_code_elimination_keeps_effects(capsys):
    f = torch.jit.script(kept_effects)
    kinds = [n.kind() for n in f.graph.nodes()]
    for k in ("aten::add_", "prim::Print", "prim::If"):
        assert k in kinds, kinds
    assert "aten::rand" not in kinds, kinds
    x = torch.zeros(2)
    f(x)
    assert x.tolist() == [1.0, 1.0] and "hi" in capsys.readouterr().out
    with pytest.raises(ValueError, match="big"):
        f(torch.full((2,), 100.0))


# ------------------------------------------------------------------ 2. parse_ir renumbers
_LOOP_IR = '''graph(%a.1 : Tensor, %5 : Tensor, %z : int):
  %y.3 : Tensor = aten::relu(%a.1)
  %c : int = prim::Constant[value=1]()
  %9 : Tensor = aten::add(%y.3, %5, %c)
  %n : int = prim::Constant[value=3]()
  %t : bool = prim::Constant[value=1]()
  %r : Tensor = prim::Loop(%n, %t, %9)
    block0(%i : int, %acc.1 : Tensor):
      %acc.2 : Tensor = aten::mul(%acc.1, %acc.1)
      -> (%t, %acc.2)
  %q : (Tensor, Tensor) = prim::TupleConstruct(%r, %9)
  return (%q)'''

# torch 2.13's str(torch._C.parse_ir(_LOOP_IR))
_LOOP_PARSED = '''graph(%a.1 : Tensor,
      %1 : Tensor,
      %z : int):
  %3 : Tensor = aten::relu(%a.1)
  %4 : int = prim::Constant[value=1]()
  %5 : Tensor = aten::add(%3, %1, %4)
  %6 : int = prim::Constant[value=3]()
  %7 : bool = prim::Constant[value=1]()
  %8 : Tensor = prim::Loop(%6, %7, %5)
    block0(%i : int, %acc.1 : Tensor):
      %11 : Tensor = aten::mul(%acc.1, %acc.1)
      -> (%7, %11)
  %12 : (Tensor, Tensor) = prim::TupleConstruct(%8, %5)
  return (%12)
'''


def test_parse_ir_renumbers_as_torch():
    g = torch._C.parse_ir("graph(%x : Tensor):\n  %y : Tensor = aten::relu(%x)\n"
                          "  return (%y)")
    assert str(g) == "graph(%x : Tensor):\n  %1 : Tensor = aten::relu(%x)\n  return (%1)\n"
    assert str(torch._C.parse_ir(_LOOP_IR)) == _LOOP_PARSED
    # numbered values take numbers in the order of the text; source ranges are not read
    g = torch._C.parse_ir("graph(%0 : Tensor, %x.1 : Tensor):\n"
                          "  %3 : Tensor = aten::relu(%0) # f.py:3:4\n"
                          "  %2 : Tensor = aten::relu(%x.1)\n  return (%2, %3)")
    assert str(g) == ("graph(%0 : Tensor,\n      %x.1 : Tensor):\n"
                      "  %2 : Tensor = aten::relu(%0)\n  %3 : Tensor = aten::relu(%x.1)\n"
                      "  return (%3, %2)\n")


# ------------------------------------------------------------------ 3. grad_fn names
# (name, expression, eager's grad_fn, scripted grad_fn): torch 2.13's
_GRAD_FNS = [
    ("mul_s", "x * 2", "MulBackward0", "MulBackward1"),
    ("rmul", "2 * x", "MulBackward0", "MulBackward1"),
    ("add_s", "x + 2", "AddBackward0", "AddBackward1"),
    ("add_alpha", "torch.add(x, 2, alpha=3)", "AddBackward0", "AddBackward1"),
    ("sub_s", "x - 2.5", "SubBackward0", "SubBackward1"),
    ("rsub", "2 - x", "RsubBackward1", "AddBackward1"),
    ("rsub_fn", "torch.rsub(x, 2)", "RsubBackward1", "RsubBackward1"),
    ("div_s", "x / 2", "DivBackward0", "DivBackward1"),
    ("rdiv", "2 / x", "MulBackward0", "MulBackward1"),
    ("div_floor", "torch.div(x, 2, rounding_mode='floor')", "DivBackward2", "DivBackward3"),
    ("div_trunc_t", "torch.div(x, y, rounding_mode='trunc')", "DivBackward2",
     "DivBackward2"),
    ("mul_t", "x * y", "MulBackward0", "MulBackward0"),
    ("pow_s", "x ** 2", "PowBackward0", "PowBackward0"),
    ("rpow", "2 ** x", "PowBackward2", "PowBackward2"),
    ("pow_t", "x ** y", "PowBackward1", "PowBackward1"),
    ("fmod_s", "torch.fmod(x, 2)", "FmodBackward0", "FmodBackward0"),
    ("fmod_t", "torch.fmod(x, y)", "FmodBackward1", "FmodBackward1"),
    ("remainder_t", "x % y", "RemainderBackward1", "RemainderBackward1"),
    ("lerp_t", "torch.lerp(x, y, x)", "LerpBackward1", "LerpBackward1"),
    ("xlogy_s", "torch.xlogy(x, 2)", "XlogyBackward2", "XlogyBackward2"),
    ("masked_fill_t", "x.masked_fill(x > 0, y.sum())", "MaskedFillBackward1",
     "MaskedFillBackward1"),
    ("max_t", "torch.max(x, y)", "MaximumBackward0", "MaximumBackward0"),
    ("clamp", "torch.clamp(x, 0, 1)", "ClampBackward1", "ClampBackward1"),
]

_SRC = "\n".join(f"def f_{name}(x, y):\n    return {expr}\n" for name, expr, _, _ in _GRAD_FNS)
_NS: dict = {"torch": torch}


def _functions(tmp_path_factory):
    if not _NS.get("done"):
        # (scripting reads the source: the functions live in a file)
        import importlib.util
        p = tmp_path_factory.mktemp("g27") / "g27_grad_fns.py"
        p.write_text("import gpujit as torch\n" + _SRC)
        spec = importlib.util.spec_from_file_location("g27_grad_fns", p)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _NS.update(vars(mod), done=True)
    return _NS


@pytest.mark.parametrize("name,expr,eager,scripted", _GRAD_FNS)
def test_grad_fn_names_follow_the_overload_chosen(tmp_path_factory, name, expr, eager,
                                                  scripted):
    ns = _functions(tmp_path_factory)
    fn = ns[f"f_{name}"]
    x = torch.tensor([0.5, 1.5, 2.0], requires_grad=True)
    y = torch.tensor([1.5, 0.25, 3.0], requires_grad=True)
    assert type(fn(x, y).grad_fn).__name__ == eager
    s = torch.jit.script(fn)
    out = s(x, y)
    assert type(out.grad_fn).__name__ == scripted
    np.testing.assert_allclose(out.detach().numpy(), fn(x, y).detach().numpy())
    out.sum().backward()          # the gradient flows as before


def rsub_only(x: torch.Tensor) -> torch.Tensor:
    return 2 - x


def test_number_minus_tensor_is_neg_then_add_in_the_graph():
    f = torch.jit.script(rsub_only)
    kinds = [n.kind() for n in f.graph.nodes() if n.kind() != "prim::Constant"]
    assert kinds == ["aten::neg", "aten::add"], kinds       # torch 2.13's graph
    x = torch.tensor([1.0, -2.0, 3.0])
    assert f(x).tolist() == [1.0, 4.0, -1.0]


# ------------------------------------------------------------------ 4. math.* in scripted code
def uses_log2(x: float) -> float:
    y = x + 1
    return math.log2(y)


def uses_trunc(x: float) -> int:
    return math.trunc(x)


def uses_hypot(x: float, y: float) -> float:
    return math.hypot(x, y)


def uses_isqrt(n: int) -> int:
    return math.isqrt(n)


def isnan_of_int(n: int) -> bool:
    return math.isnan(n)


def modf_of_int(n: int):
    return math.modf(n)


@pytest.mark.parametrize("fn,name", [(uses_log2, "log2"), (uses_trunc, "trunc"),
                                     (uses_hypot, "hypot"),
                                     (uses_isqrt, "isqrt")])
def test_math_functions_torchscript_lacks_are_refused(fn, name):
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(fn)
    msg = str(e.value)
    assert f"Python builtin <built-in function {name}> is currently not supported in " \
           f"Torchscript" in msg, msg
    assert f"math.{name}(" in msg and "<--- HERE" in msg
    # the marker sits under the callee, as TorchScript's
    line = next(ln for ln in msg.splitlines() if "~" in ln)
    assert line.strip().startswith("~" * len(f"math.{name}"))
    assert isinstance(e.value, FrontendError)


def test_math_function_without_int_overload_refuses_an_int():
    for fn, name in ((isnan_of_int, "isnan"), (modf_of_int, "modf")):
        with pytest.raises(RuntimeError, match="Arguments for call are not valid") as e:
            torch.jit.script(fn)
        assert name in str(e.value)


def frexp_ldexp(x: float, i: int):
    m, e = math.frexp(x)
    return m, e, math.ldexp(x, i), math.ldexp(x, 5000)


def test_math_frexp_and_ldexp():
    f = torch.jit.script(frexp_ldexp)
    # torch 2.13's results
    assert f(3.5, -2) == (0.875, 2, 0.875, math.inf)
    assert f(0.0, 3) == (0.0, 0, 0.0, 0.0)
    assert f(-1e-310, 1) == (-0.5752618031559393, -1029, -2e-310, -math.inf)
    m, e, a, b = f(math.nan, 2)
    assert math.isnan(m) and e == 0 and math.isnan(a) and math.isnan(b)


def sqrt_of_int(n: int) -> float:
    return math.sqrt(n) + math.floor(n) + math.log(n)


def test_math_functions_with_int_overloads_still_take_ints():
    assert torch.jit.script(sqrt_of_int)(4) == 2.0 + 4 + math.log(4)

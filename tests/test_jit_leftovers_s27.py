"""TorchScript differences left by session 26, fixed in session 27 (helper C27).
torch 2.13's TorchScript is the spec; each expected value here is what it answers.

- aten::tensor takes `bool requires_grad` in one node: `aten::tensor.int(int t, *,
  ScalarType? dtype=None, Device? device=None, bool requires_grad=False)` (and .float,
  .bool, and the t[] form) runs from a graph parsed from IR text; scripted
  `torch.tensor(data, requires_grad=True)` is that one node (TorchScript's graph), its
  result a leaf that requires grad, whose uses record gradients. An integer result refuses
  it in PyTorch's words.
- PyTorch's three wordings of the requires_grad refusal: the setter, `requires_grad_()`,
  and a factory's `requires_grad=True`.
- str() of a nan in scripted code writes its sign as C's printf ("-nan" for x86's default
  nan: 0. / 0., inf - inf, fmod(inf, 1.), x % 0.); constant pooling keeps nan and -nan apart.
- str(), print() and format fields of a dtype in scripted code write TorchScript's int code
  of it ("6" for float32).
"""
from __future__ import annotations

import math
from typing import List

import numpy as np
import pytest

import gpujit as torch


def _leaf(t):
    return t.requires_grad and t.grad_fn is None


# ------------------------------------------------------------------ 1. aten::tensor requires_grad
def test_parsed_ir_tensor_int_requires_grad_in_one_node():
    g = torch._C.parse_ir('''
graph(%x : int):
  %d : int = prim::Constant[value=6]()
  %dev : Device = prim::Constant[value="cpu"]()
  %rg : bool = prim::Constant[value=1]()
  %t : Tensor = aten::tensor(%x, %d, %dev, %rg)
  return (%t)
''')
    f = torch._C._create_function_from_graph("f", g)
    r = f(3)
    assert r.dtype == torch.float32 and r.item() == 3.0 and _leaf(r)


def test_parsed_ir_tensor_list_requires_grad_in_one_node():
    g = torch._C.parse_ir('''
graph(%x : float[]):
  %d : int = prim::Constant[value=7]()
  %dev : Device = prim::Constant[value="cpu"]()
  %rg : bool = prim::Constant[value=1]()
  %t : Tensor = aten::tensor(%x, %d, %dev, %rg)
  return (%t)
''')
    f = torch._C._create_function_from_graph("f", g)
    r = f([1.0, 2.0])
    assert r.dtype == torch.float64 and _leaf(r)
    np.testing.assert_array_equal(r.detach().numpy(), [1.0, 2.0])


def test_parsed_ir_int_tensor_requires_grad_refused():
    g = torch._C.parse_ir('''
graph(%x : int):
  %n : NoneType = prim::Constant()
  %rg : bool = prim::Constant[value=1]()
  %t : Tensor = aten::tensor(%x, %n, %n, %rg)
  return (%t)
''')
    f = torch._C._create_function_from_graph("f", g)
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype "
                                           "can require gradients"):
        f(3)


def test_tensor_overloads_take_requires_grad():
    from gpujit.ops.registry import OVERLOADS
    for d in OVERLOADS["aten::tensor"]:
        assert "bool requires_grad=False" in str(d.schema), d.schema
    for d in OVERLOADS["aten::as_tensor"]:
        assert "requires_grad" not in str(d.schema), d.schema


def test_scripted_tensor_requires_grad_is_one_node():
    @torch.jit.script
    def f(y: List[float]):
        x = torch.tensor(y, requires_grad=True)
        c = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
        return x, c
    kinds = [n.kind for n in f.graph.nodes]
    assert "aten::requires_grad_" not in kinds
    assert kinds.count("aten::tensor") == 2
    x, c = f([1.0, 2.0])
    assert _leaf(x) and _leaf(c) and c.dtype == torch.float64
    assert "torch.tensor(y, dtype=None, device=None, requires_grad=True)" in f.code


def test_scripted_tensor_requires_grad_records_gradients():
    @torch.jit.script
    def f(y: List[float]):
        x = torch.tensor(y, requires_grad=True)
        z = (x * x).sum()
        return torch.autograd.grad([z], [x])[0]
    np.testing.assert_array_equal(f([1.0, 2.0]).numpy(), [2.0, 4.0])

    @torch.jit.script
    def h(y: List[float]):
        return torch.tensor(y, requires_grad=True) * 2
    r = h([1.0, 2.0])
    assert r.requires_grad and r.grad_fn is not None


def test_scripted_tensor_requires_grad_flag_variable():
    @torch.jit.script
    def k(n: int, rg: bool):
        return torch.tensor(n, requires_grad=rg)
    assert k(3, False).item() == 3
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex "
                                           "dtype can require gradients"):
        k(3, True)


def test_scripted_tensor_requires_grad_two_leaves_not_merged():
    @torch.jit.script
    def two():
        a = torch.tensor(1.0, requires_grad=True)
        b = torch.tensor(1.0, requires_grad=True)
        return a, b
    a, b = two()
    assert a is not b and _leaf(a) and _leaf(b)


def test_scripted_nested_tensor_requires_grad():
    @torch.jit.script
    def f():
        return torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    r = f()
    assert r.shape == (2, 2) and r.requires_grad


def test_requires_grad_tensor_survives_save_load(tmp_path):
    class M(torch.nn.Module):
        def forward(self, y: List[float]):
            return torch.tensor(y, requires_grad=True) * 3
    m = torch.jit.script(M())
    p = tmp_path / "m.pt"
    torch.jit.save(m, str(p))
    m2 = torch.jit.load(str(p))
    r = m2([1.0])
    assert r.requires_grad and r.item() == 3.0


# ------------------------------------------------------------------ requires_grad refusals
def test_requires_grad_refusal_words():
    with pytest.raises(RuntimeError, match=r"^only Tensors of floating point dtype can "
                                           r"require gradients$"):
        torch.tensor(3).requires_grad_()
    with pytest.raises(RuntimeError, match=r"^Only Tensors of floating point and complex "
                                           r"dtype can require gradients$"):
        torch.tensor(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^only Tensors of floating point and complex "
                                           r"dtype can require gradients$"):
        torch.tensor(3).requires_grad = True
    with pytest.raises(RuntimeError, match=r"^Only Tensors of floating point and complex"):
        torch.zeros(3, dtype=torch.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^Only Tensors of floating point and complex"):
        torch.nn.Parameter(torch.tensor([1]))


# ------------------------------------------------------------------ 4. str() of nan / inf / -0.0
def test_scripted_str_of_nan_writes_its_sign():
    @torch.jit.script
    def f(z: float, m: float, inf: float):
        vals = [z / z, inf - inf, inf * z, math.sqrt(m), float('nan'), -float('nan'),
                math.fmod(inf, 1.0), inf % 1.0, math.fmod(1.0, z), 1.0 % z, -(z / z),
                abs(-float('nan')), math.copysign(float('nan'), -1.0), inf, -inf, -z, z]
        return [str(v) for v in vals], str(float('nan')).upper(), str(-float('nan')).upper()
    texts, up, neg_up = f(0.0, -1.0, float("inf"))
    # (torch 2.13 on x86-64)
    assert texts == ['-nan', '-nan', '-nan', '-nan', 'nan', '-nan', '-nan', '-nan', '-nan',
                     '-nan', 'nan', 'nan', '-nan', 'inf', '-inf', '0.', '0.']
    assert up == "NAN" and neg_up == "-NAN"


def test_scripted_str_of_float_list_with_signed_nan():
    @torch.jit.script
    def f(xs: List[float]):
        return str(xs), f"{xs[0]}", "{}".format(xs[1])
    assert f([-float("nan"), float("nan"), -0.0, 2.0 ** 63]) == \
        ("[-nan, nan, 0., 9.2233720368547758e+18]", "-nan", "nan")


def test_nan_and_negative_nan_constants_stay_apart():
    @torch.jit.script
    def f():
        return str(math.copysign(float('nan'), -1.0)), str(float('nan'))
    assert f() == ("-nan", "nan")


# ------------------------------------------------------------------ 2. dtype text in scripted code
def test_scripted_str_of_dtype_is_its_int_code(capsys):
    @torch.jit.script
    def f(x: torch.Tensor):
        print(x.dtype, [x.dtype], (x.dtype, 1))
        return str(x.dtype), f"{x.dtype}", "{}".format(torch.int64), str([x.dtype])
    assert f(torch.ones(1)) == ("6", "6", "4", "[6]")
    assert capsys.readouterr().out == "6 [6] (6, 1)\n"


def test_scripted_dtype_still_compares_and_casts():
    @torch.jit.script
    def f(x: torch.Tensor):
        return x.dtype == torch.float32, x.dtype == 6, x.to(torch.float64).dtype == 7
    assert f(torch.ones(1)) == (True, True, True)

"""Leftover differences from PyTorch 2.13 fixed in session 31 (helper c31); expected values
are PyTorch 2.13's (eager / torch.jit.script / torch.jit.trace, x86-64), written out.

- `n / x` of a number n and a Tensor x is torch's Tensor.__rdiv__, x.reciprocal() * n, in
  eager code, traces and scripts (TorchScript's builtin div(Scalar, Tensor)): not a true
  division, it differs from torch.div(n, x) in the last bit for about a float32 in four.
- scripted `4 | x`, `False | x`, `True & x`, `2 // x`, `flag + x`, `True < x`: TorchScript
  has no (number, Tensor) builtin for these (a bool is no int to its add / sub / mul / div
  / compare builtins), so x becomes aten::IntImplicit / FloatImplicit (a 0-dim integral
  tensor's value, a RuntimeError otherwise) and the result is a number;
  `2.5 | x` compiles to nothing.
"""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit.frontend.script.errors import FrontendError


def _kinds(fn):
    return [n.kind for n in fn.graph.nodes() if n.kind.startswith("aten::")]


# ------------------------------------------------------------------ n / x

# (float32 values where 7 / x and x.reciprocal() * 7 round apart; torch's bits)
_Y = np.array([5.588135242462158, 4.3365478515625, 9.355966567993164, 0.971293032169342],
              np.float32)
_TORCH_BITS = [1067472632, 1070505391, 1061128473, 1088855764]


def _seven_over(y):
    return 7 / y


def test_number_over_tensor_is_reciprocal_times_number():
    y = gpujit.from_numpy(_Y.copy())
    assert (7 / y).numpy().view(np.int32).tolist() == _TORCH_BITS
    assert y.__rtruediv__(7).numpy().view(np.int32).tolist() == _TORCH_BITS
    s = gpujit.jit.script(_seven_over)
    assert _kinds(s) == ["aten::reciprocal", "aten::mul"]
    t = gpujit.jit.trace(_seven_over, (y,))
    assert _kinds(t) == ["aten::reciprocal", "aten::mul"]
    for _ in range(3):          # (profiled, then specialized and fused)
        assert s(y).numpy().view(np.int32).tolist() == _TORCH_BITS
        assert t(y).numpy().view(np.int32).tolist() == _TORCH_BITS
    # torch.div stays a true division
    assert gpujit.div(7, y).numpy().view(np.int32).tolist() == [b + d for b, d in zip(
        _TORCH_BITS, [-1, 1, -1, -1])]


def test_number_over_tensor_autograd_and_operands():
    x = gpujit.tensor([1.0, 2.0, 4.0], requires_grad=True)
    r = 3 / x
    assert type(r.grad_fn).__name__ == "MulBackward0"
    r.sum().backward()
    assert x.grad.tolist() == [-3.0, -0.75, -0.1875]
    assert (7 / gpujit.tensor([1, 2])).dtype == gpujit.float32
    assert (7 / gpujit.tensor([True, False])).tolist() == [7.0, float("inf")]
    x = gpujit.ones(2)
    assert x.__rtruediv__(other=2).tolist() == [2.0, 2.0]
    assert x.__rtruediv__(2, rounding_mode="floor") is NotImplemented
    assert x.__rtruediv__() is NotImplemented
    for v, name in [("a", "str"), (None, "NoneType"), ([1, 2], "list")]:
        with pytest.raises(TypeError, match=f"unsupported operand type\\(s\\) for /: '{name}' "
                                            f"and 'Tensor'"):
            v / x


# ------------------------------------------------------------------ scripted n <op> x

def _or_false(y: gpujit.Tensor):
    return False | y


def _and_true(y: gpujit.Tensor):
    return True & y


def _or_int(y: gpujit.Tensor):
    return 4 | y


def _lshift_true(y: gpujit.Tensor):
    return True << y


def _floordiv_int(y: gpujit.Tensor):
    return 7 // y


def _floordiv_float(y: gpujit.Tensor):
    return 2.5 // y


def _add_true(y: gpujit.Tensor):
    return True + y


def _div_flag(b: bool, y: gpujit.Tensor):
    return b / y


def _xor_flag(b: bool, y: gpujit.Tensor):
    return b ^ y


def _lt_true(y: gpujit.Tensor):
    return True < y


def _eq_flag(b: bool, y: gpujit.Tensor):
    return b == y


def _or_float(y: gpujit.Tensor):
    return 2.5 | y


@pytest.mark.parametrize("fn, flag, kinds, want", [
    (_or_false, None, ["aten::IntImplicit", "aten::__or__"], 5),
    (_and_true, None, ["aten::IntImplicit", "aten::__and__"], 1),
    (_or_int, None, ["aten::IntImplicit", "aten::__or__"], 5),
    (_lshift_true, None, ["aten::IntImplicit", "aten::__lshift__"], 32),
    (_floordiv_int, None, ["aten::IntImplicit", "aten::floordiv"], 1),
    (_floordiv_float, None, ["aten::FloatImplicit", "aten::floordiv"], 0.0),
    (_add_true, None, ["aten::IntImplicit", "aten::add"], 6),
    (_div_flag, True, ["aten::Int", "aten::IntImplicit", "aten::div"], 0.2),
    (_xor_flag, True, ["aten::Int", "aten::IntImplicit", "aten::__xor__"], 4),
    (_lt_true, None, ["aten::IntImplicit", "aten::lt"], True),
    (_eq_flag, True, ["aten::Int", "aten::IntImplicit", "aten::eq"], False),
])
def test_scripted_number_op_tensor_converts_the_tensor(fn, flag, kinds, want):
    s = gpujit.jit.script(fn)
    assert _kinds(s) == kinds
    pre = () if flag is None else (flag,)
    for _ in range(2):
        r = s(*pre, gpujit.tensor(5))
        assert type(r) is type(want) and r == want
    assert s(*pre, gpujit.tensor(5, dtype=gpujit.uint8)) == want
    int_only = "FloatImplicit" not in kinds[-2]
    for y, msg in [
            (gpujit.tensor([1, 2]), "Cannot input a tensor of dimension other than 0 as a "
                                    "scalar argument"),
            (gpujit.tensor(5.0, requires_grad=True), "Cannot input a tensor that requires "
                                                     "grad as a scalar argument")] + (
            [(gpujit.tensor(True), "Cannot input a tensor of type Bool as an integral "
                                   "argument"),
             (gpujit.tensor(2.5), "Cannot input a tensor of type Float as an integral "
                                  "argument")] if int_only else []):
        with pytest.raises(RuntimeError, match=msg):
            s(*pre, y)


def test_scripted_float_bitwise_tensor_does_not_compile():
    with pytest.raises(FrontendError, match="Arguments for call are not valid"):
        gpujit.jit.script(_or_float)


# ------------------------------------------------------------------ kron's layout

_KRON_VIEW_ERROR = ("view size is not compatible with input tensor's size and stride \\(at "
                    "least one dimension spans across two contiguous subspaces\\)")


def test_kron_of_transposed_inputs_lays_out_as_torch():
    a = gpujit.arange(6.).reshape(2, 3)
    b = gpujit.arange(4.).reshape(2, 2) + 1
    v = gpujit.tensor([1., 2., 3.])
    r = gpujit.kron(a.t(), b.t())            # torch: column-major, as the mul's layout
    assert r.shape == (6, 4) and r.stride() == (1, 6)
    assert r.flatten().tolist()[:8] == [0.0, 0.0, 3.0, 9.0, 0.0, 0.0, 6.0, 12.0]
    assert float(r.sum()) == 150.0
    r = gpujit.kron(a.t().long(), b.t())
    assert r.dtype == gpujit.float32 and r.stride() == (1, 6)
    r = gpujit.kron(a.t(), gpujit.ones(1, 1))
    assert r.stride() == (1, 3) and r.flatten().tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    r = gpujit.kron(v.expand(2, 3), b)       # (an expanded operand's 0 stride orders nothing)
    assert r.stride() == (6, 1) and float(r.sum()) == 120.0
    r = gpujit.kron(a[:, ::2], b)
    assert r.stride() == (4, 1) and float(r.sum()) == 100.0
    c = gpujit.arange(24.).reshape(2, 3, 4).permute(2, 1, 0)
    r = gpujit.kron(c, c)
    assert r.shape == (16, 9, 4) and r.stride() == (1, 16, 144) and float(r.sum()) == 76176.0
    # torch 2.13's kron views the product of the two views: a layout that cannot be viewed
    # so fails (at::_unsafe_view)
    for x, y in [(a.t(), b), (b, a.t()), (a, b.t()), (v, a.t()), (a.t(), b[:1]),
                 (a.t()[:, :1], b.t())]:
        with pytest.raises(RuntimeError, match=_KRON_VIEW_ERROR):
            gpujit.kron(x, y)


def test_kron_of_transposed_inputs_gradient():
    a = gpujit.arange(6.).reshape(2, 3).requires_grad_()
    b = (gpujit.arange(4.).reshape(2, 2) + 1).requires_grad_()
    gpujit.kron(a.t(), b.t()).pow(2).sum().backward()
    assert a.grad.tolist() == [[0.0, 60.0, 120.0], [180.0, 240.0, 300.0]]
    assert b.grad.tolist() == [[110.0, 220.0], [330.0, 440.0]]

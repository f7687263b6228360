"""TorchScript leftovers, part 2 (m27): a scripted module's dtype attribute is an int (read,
assigned from Python and in scripted code), torch.promote_types / result_type / can_cast
in scripted code and through torch.ops, grad_fn names (NotImplemented for ops PyTorch has
no derivative entry for, CppFunction / DifferentiableGraphBackward for a fused group),
torch._C.parse_ir's error, x.element_size(). Expected values checked against torch 2.13."""
import io
from typing import Optional

import pytest

import gpujit as torch


# ------------------------------------------------------------ dtype module attributes

class _Dt(torch.nn.Module):
    od: Optional[torch.dtype]

    def __init__(self):
        super().__init__()
        self.dt = torch.float64
        self.od = None

    def forward(self, x):
        od = self.od
        if od is not None:
            x = x.to(od)
        return x.to(self.dt), self.dt


def test_dtype_attribute_reads_as_its_code_from_python():
    m = torch.jit.script(_Dt())
    assert m.dt == 7 and type(m.dt) is int and getattr(m, "dt") == 7
    assert m.od is None
    y, d = m(torch.ones(2))
    assert y.dtype is torch.float64 and d == 7
    assert "%dt : int = prim::GetAttr" in str(m.graph)


def test_dtype_attribute_assigned_from_python_is_stored_as_its_code():
    m = torch.jit.script(_Dt())
    m.dt = torch.float16
    assert m.dt == 5
    assert m(torch.ones(2))[0].dtype is torch.float16
    m.dt = 3                                    # an int code works as well
    assert m(torch.ones(2))[0].dtype is torch.int32
    m.od = torch.int64
    assert m.od == 4 and m(torch.ones(2))[0].dtype is torch.int32


def test_dtype_attribute_assigned_in_scripted_code():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dt = torch.float64

        def forward(self, x):
            self.dt = torch.float16
            return x.to(self.dt)

    class M2(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dt = torch.float64

        def forward(self, x):
            self.dt = x.dtype
            y = x.to(self.dt)
            self.dt = 4
            return y, self.dt
    m = torch.jit.script(M())
    assert m(torch.ones(2)).dtype is torch.float16 and m.dt == 5
    m2 = torch.jit.script(M2())
    y, d = m2(torch.ones(2))
    assert y.dtype is torch.float32 and d == 4 and m2.dt == 4


def test_assigning_a_wrong_type_to_a_dtype_attribute_names_both_types():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dt = torch.float64

        def forward(self, x):
            self.dt = 1.5
            return x
    with pytest.raises(RuntimeError, match="the attribute 'dt' of M is an int; it cannot "
                                           "be assigned a float"):
        torch.jit.script(M())


def test_dtype_attribute_frozen_fused_and_saved():
    class N(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dt = torch.float64

        def forward(self, x):
            return (x * 2 + 1).to(self.dt) * 3, self.dt
    m = torch.jit.script(N())
    f = torch.jit.freeze(m.eval())
    for _ in range(3):          # the fused kernel reads the frozen int 7 as float64
        y, d = f(torch.ones(2))
    assert y.dtype is torch.float64 and y.tolist() == [9.0, 9.0] and d == 7
    assert "torch.to(torch.add(torch.mul(x, 2), 1), 7)" in f.code
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    m2 = torch.jit.load(buf)
    assert m2.dt == 7 and m2(torch.ones(2))[0].dtype is torch.float64


# ------------------------------------------------------------ promote_types & co.

def test_promote_types_result_type_can_cast_in_scripted_code():
    def f(x, y, n: int, fl: float, b: bool):
        a = torch.promote_types(x.dtype, y.dtype)
        c = (torch.result_type(x, n), torch.result_type(x, fl), torch.result_type(n, x),
             torch.result_type(n, fl), torch.result_type(x[0], y), torch.result_type(x, b))
        d = (torch.can_cast(x.dtype, y.dtype), torch.can_cast(y.dtype, x.dtype),
             torch.can_cast(torch.int32, torch.bool))
        z = torch.zeros(2, dtype=torch.promote_types(x.dtype, torch.float16))
        return a, c, d, z.dtype, torch.result_type(tensor=x, other=y)
    s = torch.jit.script(f)
    r = s(torch.ones(2, dtype=torch.int32), torch.ones(2, dtype=torch.uint8), 1, 2.0, True)
    assert r == (3, (3, 6, 3, 6, 0, 3), (True, True, False), 5, 3)
    r = s(torch.ones(2, dtype=torch.float16), torch.ones(2, dtype=torch.int64), 1, 2.0, True)
    assert r == (5, (5, 5, 5, 6, 5, 5), (False, True, False), 5, 5)

    def g():
        return torch.promote_types(torch.int32, torch.float32)
    assert torch.jit.script(g)() == 6
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    buf.seek(0)
    assert torch.jit.load(buf)(torch.ones(2, dtype=torch.float16),
                               torch.ones(2, dtype=torch.int64), 1, 2.0, True) == r


def test_torch_ops_take_and_give_scalar_type_codes():
    aten = torch.ops.aten
    assert aten.promote_types(torch.int32, torch.float32) == 6
    assert aten.promote_types(6, 7) == 7
    assert aten.promote_types.default(torch.int32, torch.float32) == 6
    assert aten.result_type(torch.ones(2), 1) == 6
    assert aten.result_type.Scalar(torch.ones(2), 1) == 6
    assert aten.can_cast(torch.float32, torch.int32) is False
    assert aten.zeros([2], dtype=6).dtype is torch.float32
    assert aten.to(torch.ones(1), 7).dtype is torch.float64
    assert aten.add.int(2, 3) == 5
    # eager gpujit.promote_types still gives a dtype
    assert torch.promote_types(torch.int32, torch.float32) is torch.float32


def test_element_size_in_scripted_code():
    def f(x):
        return x.element_size(), x.itemsize, x.nbytes
    s = torch.jit.script(f)
    assert s(torch.ones(2, dtype=torch.int32)) == (4, 4, 8)
    assert s(torch.ones(3, dtype=torch.float16)) == (2, 2, 6)


# ------------------------------------------------------------ grad_fn names

def test_floor_divide_records_not_implemented():
    x = torch.ones(2, requires_grad=True)
    for y in (x // 2, torch.floor_divide(x, 2), x.floor_divide(torch.ones(2)), 2 // x):
        assert y.requires_grad
        assert type(y.grad_fn).__name__ == "NotImplemented"
        assert y.grad_fn.name() == "torch::autograd::NotImplemented"
        assert repr(y.grad_fn).startswith("<NotImplemented object at 0x")
    z = x.clone()
    z //= 2
    assert z.grad_fn.name() == "torch::autograd::NotImplemented"
    assert str(x // 2) == "tensor([0., 0.], grad_fn=<NotImplemented>)"
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not "
                                           "implemented"):
        (x // 2).sum().backward()
    # div(rounding_mode='floor') has its derivative (zero)
    assert torch.div(x, 2, rounding_mode="floor").grad_fn.name() == "DivBackward2"


def test_other_ops_without_a_derivative_entry():
    x = torch.ones(3, requires_grad=True)
    for y in (torch.bincount(torch.tensor([0, 1, 2]), weights=x),
              torch.histogram(x, 3)[0], torch.heaviside(x, x)):
        assert y.grad_fn.name() == "torch::autograd::NotImplemented"
    # a derivatives.yaml not_implemented entry keeps its own node
    assert torch.unique(x).grad_fn.name() == "Unique2Backward0"


def test_floor_divide_scripted():
    def f(x):
        return x // 2
    s = torch.jit.script(f)
    x = torch.ones(2, requires_grad=True)
    for _ in range(3):
        y = s(x)
        assert y.requires_grad and type(y.grad_fn).__name__ == "NotImplemented"


def test_fused_group_node_is_a_cpp_function():
    def f(x, y):
        return (x * y + 1).sigmoid() * 2
    s = torch.jit.script(f)
    x, w = torch.ones(3, requires_grad=True), torch.ones(3)
    names = [type(s(x, w).grad_fn).__name__ for _ in range(4)]
    assert names == ["MulBackward1", "CppFunction", "CppFunction", "CppFunction"]
    out = s(x, w)
    assert out.grad_fn.name() == \
        "torch::jit::(anonymous namespace)::DifferentiableGraphBackward"
    assert repr(out.grad_fn).startswith("<CppFunction object at 0x")
    assert "grad_fn=<DifferentiableGraphBackward>" in str(out)
    out.sum().backward()
    assert x.grad is not None


# ------------------------------------------------------------ parse_ir errors

def test_parse_ir_undefined_value_is_torchs_error():
    src = "graph(%a : Tensor):\n  %b : Tensor = aten::relu(%c)\n  return (%b)"
    with pytest.raises(RuntimeError) as info:
        torch._C.parse_ir(src)
    assert str(info.value) == (
        "\nCannot find a variable with name 'c':\n"
        "graph(%a : Tensor):\n"
        "  %b : Tensor = aten::relu(%c)\n"
        "                             ~ <--- HERE\n"
        "  return (%b)\n")
    lines = ["graph(%a : Tensor):"] + [f"  %b{i} : Tensor = aten::relu(%a)" for i in range(12)]
    lines[7] = "  %b6 : Tensor = aten::relu(%zz)"
    lines.append("  return (%a)")
    with pytest.raises(RuntimeError) as info:
        torch._C.parse_ir("\n".join(lines))
    assert str(info.value) == (
        "\nCannot find a variable with name 'zz':\n"
        "  %b4 : Tensor = aten::relu(%a)\n"
        "  %b5 : Tensor = aten::relu(%a)\n"
        "  %b6 : Tensor = aten::relu(%zz)\n"
        "                               ~ <--- HERE\n"
        "  %b7 : Tensor = aten::relu(%a)\n"
        "  %b8 : Tensor = aten::relu(%a)\n")
    # gpujit's own parser keeps its error class
    from gpujit.ir import IRParseError, parse_ir
    with pytest.raises(IRParseError, match="used before it is defined"):
        parse_ir(src)


def test_parse_ir_other_errors_are_runtime_errors():
    with pytest.raises(RuntimeError, match="<--- HERE"):
        torch._C.parse_ir("graph(%a : Tensor):\n  %b : Tensor = aten::relu(%a\n  return (%b)")


# ------------------------------------------------------------ against torch

def test_against_torch():
    real = pytest.importorskip("torch")

    def run(t):
        class N(t.nn.Module):
            def __init__(self):
                super().__init__()
                self.dt = t.float64

            def forward(self, x):
                self.dt = t.float16
                return x.to(self.dt), t.promote_types(x.dtype, t.float32), \
                    t.result_type(x, 2.5), t.can_cast(x.dtype, t.bool), x.element_size()
        m = t.jit.script(N())
        before = m.dt
        y, *rest = m(t.ones(2, dtype=t.int32))
        x = t.ones(2, requires_grad=True)
        return (before, m.dt, str(y.dtype).split(".")[1], *rest,
                type((x // 2).grad_fn).__name__, t.ops.aten.promote_types(6, 3))
    assert run(real) == run(torch)

"""torch.jit.export_opnames and node.schema()'s overload (c59): the values are torch 2.13's
(each module's list printed under `import torch`)."""
from typing import Dict, List, Optional, Tuple

import pytest

import gpujit as torch
from gpujit import nn


def _opnames(m):
    return torch.jit.export_opnames(torch.jit.script(m))


def test_sequential_linear_relu():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    assert _opnames(seq) == ["aten::linear", "aten::relu"]
    t = torch.jit.trace(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), torch.randn(2, 3))
    assert torch.jit.export_opnames(t) == ["aten::linear", "aten::relu"]
    frozen = torch.jit.freeze(torch.jit.script(seq.eval()))
    assert torch.jit.export_opnames(frozen) == ["aten::linear", "aten::relu"]


class _Flow(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU())

    def forward(self, x, n: int):
        y = self.seq(x)
        for i in range(n):
            y = y * 2 + 1
        if y.sum() > 0:
            y = y - x.mean()
        return torch.cat([y, y], 0)

    @torch.jit.export
    def other(self, x):
        return x.sigmoid()


def test_control_flow_submodule_and_exported_method():
    # sorted, each once; Scalar overloads for a number operand; exported methods count
    assert _opnames(_Flow()) == [
        "aten::Bool.Tensor", "aten::add.Scalar", "aten::cat", "aten::gt.Scalar",
        "aten::linear", "aten::mean", "aten::mul.Scalar", "aten::relu", "aten::sigmoid",
        "aten::sub.Tensor", "aten::sum"]


class _Mixed(nn.Module):
    def forward(self, x, y: Optional[torch.Tensor], l: List[int]):
        n = x.size(0)
        d = x.dtype
        l.append(3)
        z = x.view(l)
        if y is not None:
            z = z + y
        assert n > 1, "bad"
        t = (x, n)
        q = len(l)
        f = float(n) * 2.0
        return z + f + q + t[1], x.to(d), x[0], x[1:3, None], x.device


def test_instructions_left_out_and_overloads():
    # prim::dtype / prim::device / raise / tuples are bytecode instructions, not ops;
    # float(int) is TorchScript's Float.Scalar
    assert _opnames(_Mixed()) == [
        "aten::Float.Scalar", "aten::add.Scalar", "aten::add.Tensor", "aten::append.t",
        "aten::gt.int", "aten::len.t", "aten::mul.float", "aten::select.int",
        "aten::size.int", "aten::slice.Tensor", "aten::to.dtype", "aten::unsqueeze",
        "aten::view", "prim::unchecked_cast"]


class _Containers(nn.Module):
    def forward(self, x, t: Tuple[torch.Tensor, int], l: List[int], d: Dict[str, int],
                s: str):
        a, b = t
        p, q = l
        c = x.is_sparse or x.is_cpu
        z = torch.tensor(b)
        n = 0
        for i in range(3):
            if i == b:
                break
            n += i
        w = d.get("k", 1) + d.pop("a")
        v = list(d.keys())
        if "z" in d:
            w += 1
        if 3 in l:
            w += 1
        l.insert(0, 3)
        l.sort()
        ss = s.split(",")
        e = max(l) + max(p, q) + min(1.0, 2)
        u = s.lower() + s[1:]
        return a, c, z, n, w, v, ss, e, u, x.ndim, x.shape[0], x.new_zeros(2), x.numel() // 2


def test_container_and_number_overloads():
    assert _opnames(_Containers()) == [
        "aten::__and__.bool", "aten::__contains__.int_list", "aten::__contains__.str",
        "aten::__getitem__.t", "aten::add.int", "aten::add.int_float", "aten::add.str",
        "aten::eq.int", "aten::floordiv.int", "aten::get.default_str", "aten::insert.t",
        "aten::keys.str", "aten::list.t", "aten::lower", "aten::lt.int", "aten::new_zeros",
        "aten::numel", "aten::pop.Dict_str", "aten::size", "aten::slice.str",
        "aten::sort.int", "aten::split.str", "aten::tensor.int", "prim::TupleUnpack",
        "prim::is_cpu", "prim::is_sparse", "prim::max.int", "prim::max.self_int"]


def test_raise_only_and_traced_cnn():
    class C(nn.Module):
        def forward(self, x):
            raise RuntimeError("x")
    assert _opnames(C()) == []
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                        nn.Linear(8, 3), nn.Softmax(1)).eval()
    t = torch.jit.trace(net, torch.randn(1, 1, 4, 4))
    assert torch.jit.export_opnames(t) == [
        "aten::_convolution", "aten::batch_norm", "aten::flatten.using_ints",
        "aten::linear", "aten::relu", "aten::softmax.int"]


@torch.jit.interface
class _OneTwo(nn.Module):
    def one(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pass

    def two(self, x: torch.Tensor) -> torch.Tensor:
        pass

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pass


class _Foo(nn.Module):
    def one(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y

    def two(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.one(self.two(x), x)


class _Bar(nn.Module):
    def one(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x * y

    def two(self, x: torch.Tensor) -> torch.Tensor:
        return 2 / x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.two(self.one(x, x))


class _UsesInterface(nn.Module):
    sub: _OneTwo

    def __init__(self):
        super().__init__()
        self.sub = _Bar()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sub.forward(x)


def test_interface_call_lists_the_submodule_ops():
    # (PyTorch's test_misc.test_export_opnames_interface)
    s = torch.jit.script(_UsesInterface())
    assert torch.jit.export_opnames(s) == ["aten::mul.Scalar", "aten::mul.Tensor",
                                           "aten::reciprocal"]
    s.sub = torch.jit.script(_Foo())
    assert torch.jit.export_opnames(s) == ["aten::add.Tensor", "aten::mul.Scalar"]


def test_not_a_script_module():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute '_c'"):
        torch.jit.export_opnames(nn.Linear(2, 2))


def _f(x, y, n: int, z: float):
    return (x + 1, x + y, x * 2.0, x - n, x / z, x ** 2, x == 1, x == y, 2 * x,
            torch.pow(2, x), 1 - x)


def test_node_schema_names_the_scalar_overload():
    got = [n.schema() for n in torch.jit.script(_f).graph.nodes()
           if n.kind().startswith("aten")]
    assert got == [
        "aten::add.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor",
        "aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
        "aten::mul.Scalar(Tensor self, Scalar other) -> Tensor",
        "aten::sub.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor",
        "aten::div.Scalar(Tensor self, Scalar other) -> Tensor",
        "aten::pow.Tensor_Scalar(Tensor self, Scalar exponent) -> Tensor",
        "aten::eq.Scalar(Tensor self, Scalar other) -> Tensor",
        "aten::eq.Tensor(Tensor self, Tensor other) -> Tensor",
        "aten::mul.Scalar(Tensor self, Scalar other) -> Tensor",
        "aten::pow.Scalar(Scalar self, Tensor exponent) -> Tensor",
        "aten::neg(Tensor self) -> Tensor",
        "aten::add.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor"]


def test_traced_node_schema():
    t = torch.jit.trace(lambda x, y: (x + 1, x * y, x / 2, x ** 2, x == 1, 2 - x),
                        (torch.ones(2), torch.ones(2)))
    got = [n.schema().split("(")[0] for n in t.graph.nodes() if n.kind().startswith("aten")]
    # (the tracer records a number given to add / div as a tensor constant)
    assert got == ["aten::add.Tensor", "aten::mul.Tensor", "aten::div.Tensor",
                   "aten::pow.Tensor_Scalar", "aten::eq.Scalar", "aten::rsub.Scalar"]


def test_number_op_schemas():
    def g(n: int, m: int, a: float):
        return n ** m, float(n), n + a, a * n
    got = [n.schema() for n in torch.jit.script(g).graph.nodes()
           if n.kind().startswith("aten")]
    assert got == ["aten::pow.int(int a, int b) -> float",
                   "aten::Float.Scalar(Scalar a) -> float",
                   "aten::add.int_float(int a, float b) -> float",
                   "aten::mul.float_int(float a, int b) -> float"]


def test_torch_ops_scalar_overloads_are_torchs():
    # torch.ops.aten.<op>.<Scalar overload>: torch 2.13's names and schemas (pow.Scalar,
    # where.ScalarOther ...), none where torch has none (clamp.Scalar)
    import numpy as np
    a = torch.ops.aten
    x = torch.tensor([1.0, 2.0, 4.0])
    np.testing.assert_allclose(a.pow.Tensor_Scalar(x, 2).numpy(), [1, 4, 16])
    np.testing.assert_allclose(a.pow.Scalar(2, x).numpy(), [2, 4, 16])
    np.testing.assert_allclose(a.where.ScalarOther(x > 1, x, 0.0).numpy(), [0, 2, 4])
    np.testing.assert_allclose(a.where.ScalarSelf(x > 1, 5.0, x).numpy(), [1, 5, 5])
    np.testing.assert_allclose(a.remainder.Scalar_Tensor(5, x).numpy(), [0, 1, 1])
    np.testing.assert_allclose(a.add.Scalar(x, 2, 3).numpy(), [7, 8, 10])
    assert a.bitwise_left_shift.Tensor_Scalar(torch.tensor([1, 2]), 2).tolist() == [4, 8]
    assert str(a.pow.Tensor_Scalar._schema) == \
        "aten::pow.Tensor_Scalar(Tensor self, Scalar exponent) -> Tensor"
    with pytest.raises(AttributeError, match="no overload name 'Scalar'"):
        a.clamp.Scalar
    with pytest.raises(RuntimeError, match="Expected a value of type 'number' for argument "
                                           "'other' but instead found type 'Tensor'"):
        a.mul.Scalar(x, x)

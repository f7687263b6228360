"""Scripted modules share one type where TorchScript's ConcreteTypeStore shares it
(session 35).

torch.jit.script(MyCell()) twice in a process printed `__torch__.MyCell` and then
`__torch__.___torch_mangle_0.MyCell`: gpujit made a new, mangled type for every scripted
module. torch 2.13 infers each module's concrete type (its class, constants, attribute
names and types, parameters and buffers, submodules' types, hooks...) and reuses an
earlier type that is equal, so both print `__torch__.MyCell`; only a module whose concrete
type differs (another Linear size: Linear's in_features are constants; another constant;
another attribute type) gets a new mangled name, children before their parent:

    M(3), M(3), M(4)            -> __torch__.M, __torch__.M, __torch__.___torch_mangle_1.M
                                   (Linear(4, 4) took ___torch_mangle_0 first)
    C(2), C(2), C(3)  (k const) -> __torch__.C, __torch__.C, __torch__.___torch_mangle_2.C
    P with a=M(3), b=M(3), c=C(2), d=C(5): a, b: __torch__.M; c: __torch__.C;
                                   d: __torch__.___torch_mangle_3.C

Traced modules keep getting a type each (torch.jit.trace does not share types).
"""
from __future__ import annotations

import io
import re

import numpy as np

import gpujit as torch

nn = torch.nn


class TypeShareM(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.lin = nn.Linear(n, n)

    def forward(self, x):
        return self.lin(x).relu()


class TypeShareC(nn.Module):
    __constants__ = ["k"]

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        return x * self.k


class TypeShareAttr(nn.Module):
    def __init__(self, v):
        super().__init__()
        self.v = v

    def forward(self, x):
        return x + self.v


class TypeShareP(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = TypeShareM(3)
        self.b = TypeShareM(3)
        self.c = TypeShareC(2)
        self.d = TypeShareC(5)

    def forward(self, x):
        return self.d(self.c(self.b(self.a(x))))


def _self_type(m):
    return re.match(r"graph\(%self[.\d]* : ([\w.]+)", str(m.graph)).group(1)


def _mangle(name):
    m = re.search(r"___torch_mangle_(\d+)", name)
    return None if m is None else int(m.group(1))


def test_equal_modules_share_a_type_and_different_ones_mangle():
    # (sizes no other test scripts: Linear(14, 14)'s type is then new here, mangled after
    # Linear(13, 13)'s, whatever ran before in the process)
    a, b, c = (torch.jit.script(TypeShareM(n)) for n in (13, 13, 14))
    assert _self_type(a) == _self_type(b), (_self_type(a), _self_type(b))
    assert _self_type(c) != _self_type(a) and _mangle(_self_type(c)) is not None
    assert _self_type(a).endswith("TypeShareM") and _self_type(c).endswith("TypeShareM")
    # scripting the same instance again: the same type too (a new ScriptModule)
    m = TypeShareM(13)
    s1, s2 = torch.jit.script(m), torch.jit.script(m)
    assert s1 is not s2 and _self_type(s1) == _self_type(s2) == _self_type(a)
    # Linear(14, 14) is named before the TypeShareM holding it (children first)
    lin = re.search(r"%lin : ([\w.]+)", str(c.graph)).group(1)
    assert _mangle(lin) is not None and _mangle(lin) < _mangle(_self_type(c)), str(c.graph)


def test_constants_and_attribute_types_are_part_of_the_type():
    two, two_again, three = (torch.jit.script(TypeShareC(k)) for k in (2, 2, 3))
    assert _self_type(two) == _self_type(two_again) != _self_type(three)
    i, i2, f = (torch.jit.script(TypeShareAttr(v)) for v in (1, 7, 1.5))
    assert _self_type(i) == _self_type(i2) != _self_type(f)
    x = torch.ones(2)
    np.testing.assert_allclose(i2(x).numpy(), [8.0, 8.0])
    np.testing.assert_allclose(f(x).numpy(), [2.5, 2.5])
    np.testing.assert_allclose(three(x).numpy(), [3.0, 3.0])


def test_a_parent_s_equal_children_share_their_type_and_it_still_runs_saves_and_swaps():
    p = torch.jit.script(TypeShareP())
    g = str(p.graph)
    types = dict(re.findall(r"%(\w) : ([\w.]+) = prim::GetAttr", g))
    assert types["a"] == types["b"] == _self_type(torch.jit.script(TypeShareM(3))), g
    assert types["c"] == _self_type(torch.jit.script(TypeShareC(2))) != types["d"], g
    x = torch.randn(2, 3)
    want = p(x).detach().numpy()
    buf = io.BytesIO()
    torch.jit.save(p, buf)
    buf.seek(0)
    q = torch.jit.load(buf)
    np.testing.assert_allclose(q(x).detach().numpy(), want, rtol=1e-6)
    # a submodule swapped for a scripted module of the shared type is accepted
    p.b = torch.jit.script(TypeShareM(3))
    p(x)


def test_traced_modules_get_a_type_each():
    x = torch.randn(2, 3)
    t1 = torch.jit.trace(TypeShareM(3), x)
    t2 = torch.jit.trace(TypeShareM(3), x)
    assert _self_type(t1) != _self_type(t2)

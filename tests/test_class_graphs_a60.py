"""Scripted class construction and attribute writes print as torch 2.13's graphs and code
(a60): `C(args)` is the arguments, then prim::CreateObject, then __init__'s schema matching
(NoneType default constants) and its CallMethod; `obj.f = v`, `self.f += 1` replay
SimpleValue::setAttr's unranged prim::SetAttr; .code spells the construction as torch,
`c = __torch__.C.__new__(__torch__.C)` then `_1 = (c).__init__(_0, )`; NamedTuple
constructions and field reads are replayed too. And a loaded
archive's class of the same name as a live one no longer answers isinstance() for it (a
wrong answer) nor names itself in saved code (a load error). Expected texts are torch
2.13's (its module name replaced by MOD, lines counted from the def's)."""
import io
import re
from typing import NamedTuple, Optional

import numpy as np

import gpujit as torch

Tensor = torch.Tensor


@torch.jit.script
class D(object):
    def __init__(self, v: float):
        self.v = v


@torch.jit.script
class C(object):
    def __init__(self, n: int, m: float = 2.0, d: Optional[D] = None):
        self.n = n
        self.m = m
        self.d = d

    def run(self, x):
        return x * self.n + self.m

    def twice(self, x):
        return self.run(self.run(x))


def construct_assign(x, k: int):
    c = C(k + 1)
    y = c.run(x)
    return y + c.n


def construct_inline(x):
    return C(3).run(x)


def construct_in_if(x, k: int):
    c = C(k, m=1.5)
    if k > 2:
        c = C(k * 2)
    return c.twice(x)


def construct_in_loop(x, k: int):
    acc = x
    for i in range(k):
        c = C(i)
        acc = c.run(acc)
    return acc


def construct_nested(x):
    c = C(1, 2.0, D(3.0))
    d = c.d
    if d is not None:
        return x * d.v
    return x


def set_fields(x, k: int):
    c = C(k)
    c.n = c.n + 1
    c.m += 1.0
    return c.run(x)


class Counter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.steps = 0
        self.scale = 1.5
        self.register_buffer("buf", torch.zeros(2))

    def forward(self, x):
        self.steps += 1
        self.buf = x * 2
        self.scale = self.scale * 0.5
        return x + self.buf * self.steps


FUNCTIONS = ["construct_assign", "construct_inline", "construct_in_if", "construct_in_loop",
             "construct_nested", "set_fields"]


# torch 2.13's text (module name MOD, lines from the def's)
EXPECTED = {
    'construct_assign': (
        'graph(%x.1 : Tensor,\n'
        '      %k.1 : int):\n'
        '  %7 : NoneType = prim::Constant()\n'
        '  %6 : float = prim::Constant[value=2.]()\n'
        '  %3 : int = prim::Constant[value=1]() # +1:14\n'
        '  %4 : int = aten::add(%k.1, %3) # +1:10\n'
        '  %c.1 : __torch__.MOD.C = prim::CreateObject() # +1:8\n'
        '  %8 : NoneType = prim::CallMethod[name="__init__"](%c.1, %4, %6, %7) # +1:8\n'
        '  %y.1 : Tensor = prim::CallMethod[name="run"](%c.1, %x.1) # +2:8\n'
        '  %n : int = prim::GetAttr[name="n"](%c.1)\n'
        '  %16 : Tensor = aten::add(%y.1, %n, %3) # +3:11\n'
        '  return (%16)\n'
        ,
        'def construct_assign(x: Tensor,\n'
        '    k: int) -> Tensor:\n'
        '  _0 = torch.add(k, 1)\n'
        '  c = __torch__.MOD.C.__new__(__torch__.MOD.C)\n'
        '  _1 = (c).__init__(_0, 2., None, )\n'
        '  y = (c).run(x, )\n'
        '  n = c.n\n'
        '  return torch.add(y, n)\n'
    ),
    'construct_inline': (
        'graph(%x.1 : Tensor):\n'
        '  %4 : NoneType = prim::Constant()\n'
        '  %3 : float = prim::Constant[value=2.]()\n'
        '  %1 : int = prim::Constant[value=3]() # +1:13\n'
        '  %2 : __torch__.MOD.C = prim::CreateObject() # +1:11\n'
        '  %5 : NoneType = prim::CallMethod[name="__init__"](%2, %1, %3, %4) # +1:11\n'
        '  %7 : Tensor = prim::CallMethod[name="run"](%2, %x.1) # +1:11\n'
        '  return (%7)\n'
        ,
        'def construct_inline(x: Tensor) -> Tensor:\n'
        '  _0 = __torch__.MOD.C.__new__(__torch__.MOD.C)\n'
        '  _1 = (_0).__init__(3, 2., None, )\n'
        '  return (_0).run(x, )\n'
    ),
    'construct_in_if': (
        'graph(%x.1 : Tensor,\n'
        '      %k.1 : int):\n'
        '  %14 : float = prim::Constant[value=2.]()\n'
        '  %5 : NoneType = prim::Constant()\n'
        '  %3 : float = prim::Constant[value=1.5]() # +1:15\n'
        '  %8 : int = prim::Constant[value=2]() # +2:11\n'
        '  %c.1 : __torch__.MOD.C = prim::CreateObject() # +1:8\n'
        '  %6 : NoneType = prim::CallMethod[name="__init__"](%c.1, %k.1, %3, %5) # +1:8\n'
        '  %9 : bool = aten::gt(%k.1, %8) # +2:7\n'
        '  %c : __torch__.MOD.C = prim::If(%9) # +2:4\n'
        '    block0():\n'
        '      %12 : int = aten::mul(%k.1, %8) # +3:14\n'
        '      %c.3 : __torch__.MOD.C = prim::CreateObject() # +3:12\n'
        '      %16 : NoneType = prim::CallMethod[name="__init__"](%c.3, %12, %14, %5) # +3:12\n'
        '      -> (%c.3)\n'
        '    block1():\n'
        '      -> (%c.1)\n'
        '  %24 : Tensor = prim::CallMethod[name="twice"](%c, %x.1) # +4:11\n'
        '  return (%24)\n'
        ,
        'def construct_in_if(x: Tensor,\n'
        '    k: int) -> Tensor:\n'
        '  c = __torch__.MOD.C.__new__(__torch__.MOD.C)\n'
        '  _0 = (c).__init__(k, 1.5, None, )\n'
        '  if torch.gt(k, 2):\n'
        '    _1 = torch.mul(k, 2)\n'
        '    c1 = __torch__.MOD.C.__new__(__torch__.MOD.C)\n'
        '    _2 = (c1).__init__(_1, 2., None, )\n'
        '    c0 = c1\n'
        '  else:\n'
        '    c0 = c\n'
        '  return (c0).twice(x, )\n'
    ),
    'construct_in_loop': (
        'graph(%x.1 : Tensor,\n'
        '      %k.1 : int):\n'
        '  %11 : NoneType = prim::Constant()\n'
        '  %10 : float = prim::Constant[value=2.]()\n'
        '  %6 : bool = prim::Constant[value=1]() # +2:4\n'
        '  %acc : Tensor = prim::Loop(%k.1, %6, %x.1) # +2:4\n'
        '    block0(%i.1 : int, %acc.9 : Tensor):\n'
        '      %c.1 : __torch__.MOD.C = prim::CreateObject() # +3:12\n'
        '      %12 : NoneType = prim::CallMethod[name="__init__"](%c.1, %i.1, %10, %11) # +3:12\n'
        '      %acc.3 : Tensor = prim::CallMethod[name="run"](%c.1, %acc.9) # +4:14\n'
        '      -> (%6, %acc.3)\n'
        '  return (%acc)\n'
        ,
        'def construct_in_loop(x: Tensor,\n'
        '    k: int) -> Tensor:\n'
        '  acc = x\n'
        '  for i in range(k):\n'
        '    c = __torch__.MOD.C.__new__(__torch__.MOD.C)\n'
        '    _0 = (c).__init__(i, 2., None, )\n'
        '    acc = (c).run(acc, )\n'
        '  return acc\n'
    ),
    'construct_nested': (
        'graph(%x.1 : Tensor):\n'
        '  %11 : NoneType = prim::Constant() # +3:16\n'
        '  %1 : int = prim::Constant[value=1]() # +1:10\n'
        '  %2 : float = prim::Constant[value=2.]() # +1:13\n'
        '  %3 : float = prim::Constant[value=3.]() # +1:20\n'
        '  %4 : __torch__.MOD.D = prim::CreateObject() # +1:18\n'
        '  %5 : NoneType = prim::CallMethod[name="__init__"](%4, %3) # +1:18\n'
        '  %c.1 : __torch__.MOD.C = prim::CreateObject() # +1:8\n'
        '  %7 : NoneType = prim::CallMethod[name="__init__"](%c.1, %1, %2, %4) # +1:8\n'
        '  %d.1 : __torch__.MOD.D? = prim::GetAttr[name="d"](%c.1)\n'
        '  %12 : bool = aten::__isnot__(%d.1, %11) # +3:7\n'
        '  %44 : Tensor = prim::If(%12) # +3:4\n'
        '    block0():\n'
        '      %d.7 : __torch__.MOD.D = prim::unchecked_cast(%d.1)\n'
        '      %v : float = prim::GetAttr[name="v"](%d.7)\n'
        '      %19 : Tensor = aten::mul(%x.1, %v) # +4:15\n'
        '      -> (%19)\n'
        '    block1():\n'
        '      -> (%x.1)\n'
        '  return (%44)\n'
        ,
        'def construct_nested(x: Tensor) -> Tensor:\n'
        '  _0 = __torch__.MOD.D.__new__(__torch__.MOD.D)\n'
        '  _1 = (_0).__init__(3., )\n'
        '  c = __torch__.MOD.C.__new__(__torch__.MOD.C)\n'
        '  _2 = (c).__init__(1, 2., _0, )\n'
        '  d = c.d\n'
        '  if torch.__isnot__(d, None):\n'
        '    d0 = unchecked_cast(__torch__.MOD.D, d)\n'
        '    v = d0.v\n'
        '    _3 = torch.mul(x, v)\n'
        '  else:\n'
        '    _3 = x\n'
        '  return _3\n'
    ),
    'set_fields': (
        'graph(%x.1 : Tensor,\n'
        '      %k.1 : int):\n'
        '  %5 : NoneType = prim::Constant()\n'
        '  %4 : float = prim::Constant[value=2.]()\n'
        '  %10 : int = prim::Constant[value=1]() # +2:16\n'
        '  %14 : float = prim::Constant[value=1.]() # +3:11\n'
        '  %c.1 : __torch__.MOD.C = prim::CreateObject() # +1:8\n'
        '  %6 : NoneType = prim::CallMethod[name="__init__"](%c.1, %k.1, %4, %5) # +1:8\n'
        '  %n : int = prim::GetAttr[name="n"](%c.1)\n'
        '  %11 : int = aten::add(%n, %10) # +2:10\n'
        '   = prim::SetAttr[name="n"](%c.1, %11)\n'
        '  %m : float = prim::GetAttr[name="m"](%c.1)\n'
        '  %15 : float = aten::add(%m, %14) # +3:4\n'
        '   = prim::SetAttr[name="m"](%c.1, %15)\n'
        '  %18 : Tensor = prim::CallMethod[name="run"](%c.1, %x.1) # +4:11\n'
        '  return (%18)\n'
        ,
        'def set_fields(x: Tensor,\n'
        '    k: int) -> Tensor:\n'
        '  c = __torch__.MOD.C.__new__(__torch__.MOD.C)\n'
        '  _0 = (c).__init__(k, 2., None, )\n'
        '  n = c.n\n'
        '  c.n = torch.add(n, 1)\n'
        '  m = c.m\n'
        '  c.m = torch.add(m, 1.)\n'
        '  return (c).run(x, )\n'
    ),
    'Counter': (
        'graph(%self : __torch__.MOD.Counter,\n'
        '      %x.1 : Tensor):\n'
        '  %3 : int = prim::Constant[value=1]() # +1:22\n'
        '  %6 : int = prim::Constant[value=2]() # +2:23\n'
        '  %9 : float = prim::Constant[value=0.5]() # +3:34\n'
        '  %steps.1 : int = prim::GetAttr[name="steps"](%self)\n'
        '  %4 : int = aten::add(%steps.1, %3) # +1:8\n'
        '   = prim::SetAttr[name="steps"](%self, %4)\n'
        '  %7 : Tensor = aten::mul(%x.1, %6) # +2:19\n'
        '   = prim::SetAttr[name="buf"](%self, %7)\n'
        '  %scale : float = prim::GetAttr[name="scale"](%self)\n'
        '  %10 : float = aten::mul(%scale, %9) # +3:21\n'
        '   = prim::SetAttr[name="scale"](%self, %10)\n'
        '  %buf : Tensor = prim::GetAttr[name="buf"](%self)\n'
        '  %steps : int = prim::GetAttr[name="steps"](%self)\n'
        '  %14 : Tensor = aten::mul(%buf, %steps) # +4:19\n'
        '  %16 : Tensor = aten::add(%x.1, %14, %3) # +4:15\n'
        '  return (%16)\n'
        ,
        'def forward(self,\n'
        '    x: Tensor) -> Tensor:\n'
        '  steps = self.steps\n'
        '  self.steps = torch.add(steps, 1)\n'
        '  self.buf = torch.mul(x, 2)\n'
        '  scale = self.scale\n'
        '  self.scale = torch.mul(scale, 0.5)\n'
        '  buf = self.buf\n'
        '  steps0 = self.steps\n'
        '  return torch.add(x, torch.mul(buf, steps0))\n'
    ),
}


def _norm(text, first):
    text = text.replace(__name__, "MOD")
    return re.sub(r"# \S+MOD\.py:(\d+):(\d+)", lambda m: f"# +{int(m[1]) - first}:{m[2]}",
                  text)


def _check(name, obj, first):
    graph, code = EXPECTED[name]
    assert _norm(str(obj.graph), first) == graph
    assert _norm(obj.code, first) == code


def test_functions_constructing_objects_print_as_torch():
    for name in FUNCTIONS:
        fn = globals()[name]
        _check(name, torch.jit.script(fn), fn.__code__.co_firstlineno)


def test_module_attribute_writes_print_as_torch():
    m = torch.jit.script(Counter())
    _check("Counter", m, Counter.forward.__code__.co_firstlineno)
    out = m(torch.ones(2))
    np.testing.assert_allclose(out.numpy(), [3.0, 3.0])
    assert m.steps == 1 and abs(m.scale - 0.75) < 1e-12


def test_constructions_compute_as_python():
    x = torch.tensor([1.0, -2.0])
    for name, args in (("construct_assign", (3,)), ("construct_inline", ()),
                       ("construct_in_if", (3,)), ("construct_in_if", (1,)),
                       ("construct_in_loop", (3,)), ("construct_nested", ()),
                       ("set_fields", (2,))):
        fn = globals()[name]
        f = torch.jit.script(fn)
        for _ in range(2):
            np.testing.assert_allclose(f(x, *args).numpy(), fn(x, *args).numpy(), rtol=1e-6)


def make_c(n: int) -> C:
    return C(n)


def is_c(c: Optional[C], x: Tensor) -> Tensor:
    if isinstance(c, C):
        return x + c.n
    return x


def test_a_loaded_class_of_the_same_name_does_not_answer_isinstance():
    # loading an archive that holds class C makes a second C type (the archive's own
    # compilation unit); isinstance(c, C) in code scripted afterwards is still the live
    # class's (it was the loaded one's: False for every live C object)
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(make_c), buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    assert loaded(4).n == 4
    f = torch.jit.script(is_c)
    x = torch.tensor([1.0, 2.0])
    for _ in range(3):
        np.testing.assert_allclose(f(C(2), x).numpy(), [3.0, 4.0])
        np.testing.assert_allclose(f(None, x).numpy(), [1.0, 2.0])
    # saved then, the code names the live class (it named the loaded one's mangled name,
    # which the archive does not define: the load failed)
    buf = io.BytesIO()
    torch.jit.save(f, buf)
    buf.seek(0)
    g = torch.jit.load(buf)
    assert f"isinstance(c, __torch__.{__name__}.C)" in g.code
    np.testing.assert_allclose(g(C(2), x).numpy(), [3.0, 4.0])


class Pt2(NamedTuple):
    x: Tensor
    n: int


def nt_input(p: Pt2, y):
    return p.x * p.n + y


def nt_made(y, k: int):
    q = Pt2(n=k, x=y * 2)
    return q.x * q.n


# torch 2.13's
NT_EXPECTED = {
    'nt_input': (
        'graph(%p.1 : NamedTuple(x : Tensor, n : int),\n'
        '      %y.1 : Tensor):\n'
        '  %6 : int = prim::Constant[value=1]()\n'
        '  %3 : int = prim::Constant[value=0]()\n'
        '  %4 : Tensor = prim::TupleIndex(%p.1, %3)\n'
        '  %7 : int = prim::TupleIndex(%p.1, %6)\n'
        '  %8 : Tensor = aten::mul(%4, %7) # +1:11\n'
        '  %11 : Tensor = aten::add(%8, %y.1, %6) # +1:11\n'
        '  return (%11)\n'
    ),
    'nt_made': (
        'graph(%y.1 : Tensor,\n'
        '      %k.1 : int):\n'
        '  %4 : int = prim::Constant[value=2]() # +1:23\n'
        '  %5 : Tensor = aten::mul(%y.1, %4) # +1:19\n'
        '  %13 : Tensor = aten::mul(%5, %k.1) # +2:11\n'
        '  return (%13)\n'
    ),
}


def test_namedtuples_print_as_torch():
    # (NamedTupleConstructor's TupleConstruct, SimpleValue::attr's index constant and
    # TupleIndex, in the naming replay: gpujit kept its own names)
    for fn in (nt_input, nt_made):
        g = torch.jit.script(fn).graph
        assert _norm(str(g), fn.__code__.co_firstlineno) == NT_EXPECTED[fn.__name__]
    y = torch.tensor([1.0, 2.0])
    np.testing.assert_allclose(torch.jit.script(nt_made)(y, 3).numpy(), [6.0, 12.0])


class WithDefaults(NamedTuple):
    a: Tensor
    b: float = 1.5
    c: bool = True
    d: Optional[int] = None
    e: str = "hi"
    f: float = 2.0
    g: int = -1


def nt_defaults(y):
    return WithDefaults(y)


def test_namedtuple_type_shows_defaults_and_its_construction_range():
    # torch 2.13's line (a NamedTuple's TupleConstruct shows NamedTupleConstructor's
    # range; its type, the fields' defaults)
    g = torch.jit.script(nt_defaults).graph
    first = nt_defaults.__code__.co_firstlineno
    line = [ln for ln in _norm(str(g), first).splitlines() if "TupleConstruct" in ln][0]
    assert line == ("  %8 : NamedTuple(a : Tensor, b : float = 1.5, c : bool = True, d : int? "
                    "= None, e : str = hi, f : float = 2., g : int = -1) = "
                    "prim::TupleConstruct(%y.1, %2, %3, %4, %5, %6, %7) # +1:11")
    assert torch.jit.script(nt_defaults)(torch.ones(1)).g == -1

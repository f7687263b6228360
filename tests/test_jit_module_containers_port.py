"""Behaviour ported from PyTorch's test/jit/test_module_containers.py: nn.Sequential /
ModuleList / ModuleDict (and subclasses of them with their own forward) in scripted
modules, compared with eager and literal values.

Skipped: test_module_inplace_construct (``_reconstruct`` of a C++ module: internal). gpujit
runs ``self.mods[i]`` with a variable ``i`` where torch refuses it ("not a literal"): that
part is ported as a passing program.
"""
import typing
from collections import OrderedDict
from typing import List

import numpy as np
import pytest

import gpujit as torch
from jit_module_checks import _roundtrip, _x, check_module

nn = torch.nn


# ---------------------------------------------------------------------- test_module_containers

class _Add10(nn.Module):
    def forward(self, x):
        return x + 10


class _Times2(nn.Module):
    def forward(self, x):
        return x * 2


class _Minus4Times3(nn.Module):
    def forward(self, x):
        return (x - 4) * 3


def test_sequential_with_intermediate_types():
    class A(nn.Module):
        def forward(self, x):
            return x + 3

    class B(nn.Module):
        def forward(self, x):
            return {"1": x}

    class C(nn.Module):
        def __init__(self):
            super().__init__()
            self.foo = nn.Sequential(A(), B())

        def forward(self, x):
            return self.foo(x)

    sm = check_module(C(), (torch.tensor(1),))
    out = sm(torch.tensor(1))
    assert list(out) == ["1"] and out["1"].item() == 4


class _DictLoops(nn.Module):
    def __init__(self):
        super().__init__()
        self.moduledict = nn.ModuleDict(OrderedDict(
            [("one", _Add10()), ("two", _Times2()), ("three", _Minus4Times3())]))

    def forward(self, x, skip_name: str):
        names = torch.jit.annotate(List[str], [])
        values = []
        for name in self.moduledict:
            names.append(name)
        for name, mod in self.moduledict.items():
            if name != skip_name:
                names.append(name)
                x = mod(x)
                values.append(x)
        for mod in self.moduledict.values():
            x = mod(x)
            values.append(x)
        for key in self.moduledict.keys():
            names.append(key)
        return x, names


class _DictLoopsEnumerate(_DictLoops):
    def forward(self, x, skip_name: str):
        names = torch.jit.annotate(List[str], [])
        values = []
        x2 = x
        iter = 0
        i = 0
        for name in self.moduledict:
            names.append(name)
        for i, (name, mod) in enumerate(self.moduledict.items()):
            iter += i
            if name != skip_name:
                names.append(name)
                x = mod(x)
                values.append(x)
        for i, mod in enumerate(self.moduledict.values()):
            iter += i
            x = mod(x)
            values.append(x)
        for i, key in enumerate(self.moduledict.keys()):
            iter += i
            names.append(key)
        for mod, mod in zip(self.moduledict.values(), self.moduledict.values()):
            iter += i
            x2 = mod(mod(x2))
        return x, x2, names, iter


def _dict_loops_ref(x, skip):
    fns = {"one": lambda v: v + 10, "two": lambda v: v * 2, "three": lambda v: (v - 4) * 3}
    for k, f in fns.items():
        if k != skip:
            x = f(x)
    for f in fns.values():
        x = f(x)
    return x


@pytest.mark.parametrize("skip", ["", "one", "two", "three"])
def test_module_dict_iteration_items_values_keys(skip):
    keys = ["one", "two", "three"]
    sm = check_module(_DictLoops(), (torch.tensor(1), skip))
    x, names = sm(torch.tensor(1), skip)
    assert x.item() == _dict_loops_ref(1, skip)
    assert names == keys + [k for k in keys if k != skip] + keys
    sm2 = check_module(_DictLoopsEnumerate(), (torch.tensor(1), skip))
    x, x2, names2, it = sm2(torch.tensor(1), skip)
    assert x.item() == _dict_loops_ref(1, skip) and names2 == names
    ref2 = 1
    for f in (lambda v: v + 10, lambda v: v * 2, lambda v: (v - 4) * 3):
        ref2 = f(f(ref2))
    assert x2.item() == ref2 and it == 3 + 3 + 3 + 3 * 2


def test_custom_containers_with_their_own_forward():
    class CustomSequential(nn.Sequential):
        def __init__(self):
            super().__init__(nn.ReLU(), _Add10())

        def forward(self, x):
            x = x + 3
            for mod in self:
                x = mod(x)
            return x - 5

    class CustomModuleList(nn.ModuleList):
        def __init__(self):
            super().__init__([nn.ReLU(), _Add10()])

        def forward(self, x):
            x = x + 3
            for mod in self:
                x = mod(x)
            return x - 5

    class CustomModuleDict(nn.ModuleDict):
        def __init__(self):
            super().__init__(OrderedDict(
                [("one", _Add10()), ("two", nn.ReLU()), ("three", _Add10())]))

        def forward(self, x):
            x = x + 3
            names = torch.jit.annotate(List[str], [])
            for name, mod in self.items():
                x = mod(x)
                names.append(name)
            return names, x - 5

    x = torch.tensor(.5)
    for cls in (CustomSequential, CustomModuleList):
        sm = check_module(cls(), (x,))
        assert sm(x).item() == pytest.approx(8.5)
    names, y = check_module(CustomModuleDict(), (x,))(x)
    assert names == ["one", "two", "three"] and y.item() == pytest.approx(18.5)


def test_deprecated_script_module_looping_over_a_sequential():
    class M(torch.jit.ScriptModule):
        def __init__(self, mod_list):
            super().__init__()
            self.mods = mod_list

        @torch.jit.script_method
        def forward(self, v):
            for m in self.mods:
                v = m(v)
            return v

    m = M(nn.Sequential(nn.ReLU()))
    x = _x(2, 2)
    np.testing.assert_array_equal(m(x).numpy(), np.maximum(x.numpy(), 0))
    np.testing.assert_array_equal(_roundtrip(m)(x).numpy(), np.maximum(x.numpy(), 0))


class _SubI(nn.Module):
    def __init__(self, i):
        super().__init__()
        self.i = i

    def forward(self, thing):
        return thing - self.i


def test_module_list_constant_and_negative_indices():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.mods = nn.ModuleList([_SubI(i) for i in range(10)])

        def forward(self, v):
            v = self.mods[4].forward(v)
            v = self.mods[-1].forward(v)
            v = self.mods[-9].forward(v)
            return v

    class MForward(M):
        def forward(self, v):
            v = self.mods[4](v)
            v = self.mods[-1](v)
            v = self.mods[-9](v)
            return v

    for cls in (M, MForward):
        assert check_module(cls(), (torch.tensor(1),))(torch.tensor(1)).item() == 1 - 4 - 9 - 1

    class M2(M):
        def forward(self, v):
            return self.mods[-11].forward(v)

    with pytest.raises(Exception, match="-11.*out of range|out of range.*-11"):
        torch.jit.script(M2())

    # torch refuses a variable index here ("i is not a literal"); gpujit runs it
    class M3(M):
        def forward(self, v):
            i = 3
            return self.mods[i].forward(v)

    assert check_module(M3(), (torch.tensor(1),))(torch.tensor(1)).item() == -2


class _CustomBase(nn.Module):
    pass


class _CustomModuleList(_CustomBase, nn.ModuleList):
    def __init__(self, modules=None):
        _CustomBase.__init__(self)
        nn.ModuleList.__init__(self, modules)


class _CustomSequential(_CustomBase, nn.Sequential):
    def __init__(self, modules=None):
        _CustomBase.__init__(self)
        nn.Sequential.__init__(self, modules)


class _CustomModuleDict(_CustomBase, nn.ModuleDict):
    def __init__(self, modules=None):
        _CustomBase.__init__(self)
        nn.ModuleDict.__init__(self, modules)


def test_container_subclasses_index_len_iter_contains_and_identity():
    class MyModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.submod = torch.jit.script(nn.ReLU())
            self.modulelist = _CustomModuleList([self.submod])
            self.sequential = _CustomSequential(self.submod)
            self.moduledict = _CustomModuleDict({"submod": self.submod})

        def forward(self, inputs):
            assert self.modulelist[0] is self.submod, "__getitem__ failing for ModuleList"
            assert len(self.modulelist) == 1, "__len__ failing for ModuleList"
            for module in self.modulelist:
                assert module is self.submod, "__iter__ failing for ModuleList"
            assert self.sequential[0] is self.submod, "__getitem__ failing for Sequential"
            assert len(self.sequential) == 1, "__len__ failing for Sequential"
            for module in self.sequential:
                assert module is self.submod, "__iter__ failing for Sequential"
            assert self.moduledict["submod"] is self.submod, "__getitem__ failing for ModuleDict"
            assert len(self.moduledict) == 1, "__len__ failing for ModuleDict"
            i = 0
            for key in self.moduledict:
                i += 1
            assert i == len(self.moduledict), "iteration failing for ModuleDict"
            assert "submod" in self.moduledict, "__contains__ fails for ModuleDict"
            for key in self.moduledict.keys():
                assert key == "submod", "keys() fails for ModuleDict"
            for item in self.moduledict.items():
                assert item[0] == "submod", "items() fails for ModuleDict"
                assert item[1] is self.submod, "items() fails for ModuleDict"
            for value in self.moduledict.values():
                assert value is self.submod, "values() fails for ModuleDict"
            return inputs

    check_module(MyModule(), (_x(2, 2),))


def test_overridden_len_of_a_module_list_subclass_is_used():
    class LenTwo(_CustomModuleList):
        def __len__(self):
            return 2

    class MyModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.submod = torch.jit.script(nn.ReLU())
            self.modulelist = LenTwo([self.submod])

        def forward(self, inputs):
            assert len(self.modulelist) == 2, "__len__ failing for ModuleList"
            return inputs

    check_module(MyModule(), (_x(2, 2),))


def test_module_dict_getitem_is_the_same_module():
    class MyModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = torch.jit.script(nn.ReLU())
            self.tanh = torch.jit.script(nn.Tanh())
            self.moduledict = nn.ModuleDict({"relu": self.relu, "tanh": self.tanh})

        def forward(self, input):
            assert self.moduledict["relu"] is self.relu
            assert self.moduledict["tanh"] is self.tanh
            assert not (self.moduledict["relu"] is self.tanh)
            return input

    check_module(MyModule(), (_x(2, 2),))


def test_empty_module_dict_contains_nothing():
    class MyModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.submod = torch.jit.script(nn.ReLU())
            self.moduledict = _CustomModuleDict()

        def forward(self, inputs):
            assert "submod" not in self.moduledict, "__contains__ fails for ModuleDict"
            return inputs

    check_module(MyModule(), (_x(2, 2),))


def test_module_dict_missing_key_is_a_compile_error():
    class BadModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.moduledict = nn.ModuleDict({"foo": nn.ReLU(), "bar": nn.ReLU()})

        def forward(self, input):
            return self.moduledict["blah"](input)

    with pytest.raises(RuntimeError, match="blah"):
        torch.jit.script(BadModule())


def test_plain_list_of_modules_is_refused_naming_it():
    class Mod(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = [nn.ReLU(), nn.ReLU()]

        def forward(self):
            return len(self.a)

    with pytest.raises(RuntimeError, match=r"(?s)Module.*self\.a|self\.a.*Module|'a'"):
        torch.jit.script(Mod())


@torch.jit.interface
class _AnyInterface(nn.Module):
    def forward(self, inp: typing.Any) -> typing.Any:
        pass


class _ImplementsAny(nn.Module):
    def forward(self, inp: typing.Any) -> typing.Any:
        if isinstance(inp, torch.Tensor):
            return torch.max(inp, dim=0)
        return inp


class _NotAny(nn.Module):
    def forward(self, inp: torch.Tensor) -> typing.Tuple[torch.Tensor, torch.Tensor]:
        return torch.max(inp, dim=0)


def test_typed_module_dict_and_list_indexed_by_a_variable():
    class ModD(nn.Module):
        def __init__(self):
            super().__init__()
            self.d = nn.ModuleDict({"module": _ImplementsAny()})

        def forward(self, x: torch.Tensor, key: str) -> typing.Any:
            value: _AnyInterface = self.d[key]
            return value.forward(x)

    class ModDict(nn.ModuleDict):
        def __init__(self):
            super().__init__({"module": _ImplementsAny()})

        def forward(self, x: torch.Tensor, key: str) -> typing.Any:
            submodule: _AnyInterface = self[key]
            return submodule.forward(x)

    class ModL(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.ModuleList([_ImplementsAny()])

        def forward(self, x: torch.Tensor, idx: int) -> typing.Any:
            value: _AnyInterface = self.l[idx]
            return value.forward(x)

    class ModList(nn.ModuleList):
        def __init__(self):
            super().__init__([_ImplementsAny()])

        def forward(self, x: torch.Tensor, idx: int) -> typing.Any:
            submodule: _AnyInterface = self[idx]
            return submodule.forward(x)

    x = _x(2, 2)
    ref = x.numpy().max(axis=0)
    for m, key in ((ModD(), "module"), (ModDict(), "module"), (ModL(), 0), (ModList(), 0)):
        sm = torch.jit.script(m)
        values, indices = sm(x, key)
        np.testing.assert_array_equal(values.numpy(), ref)
        np.testing.assert_array_equal(indices.numpy(), x.numpy().argmax(axis=0))

    class WrongD(nn.ModuleDict):
        def __init__(self):
            super().__init__()
            self.d = nn.ModuleDict({"module": _NotAny()})

        def forward(self, x: torch.Tensor, key: str) -> typing.Any:
            submodule: _AnyInterface = self.d[key]
            return submodule.forward(x)

    class WrongL(nn.ModuleList):
        def __init__(self):
            super().__init__()
            self.l = nn.ModuleList([_NotAny()])

        def forward(self, x: torch.Tensor, idx: int) -> typing.Any:
            submodule: _AnyInterface = self.l[idx]
            return submodule.forward(x)

    for m in (WrongD(), WrongL()):
        with pytest.raises(RuntimeError, match="not of annotated type|not compatible|"
                                               "does not implement"):
            torch.jit.script(m)


def test_module_properties_with_setters_and_unused_ones():
    class WithProperties(nn.Module):
        __jit_unused_properties__ = ["ignored_attr"]

        def __init__(self, a: int):
            super().__init__()
            self.a = a

        def forward(self, a: int, b: int):
            self.attr = a + b
            return self.attr

        @property
        def attr(self):
            return self.a

        @property
        def ignored_attr(self):
            return sum([self.a])

        @torch.jit.unused
        @property
        def ignored_attr_2(self):
            return sum([self.a])

        @ignored_attr_2.setter
        def ignored_attr_2(self, value):
            self.a = sum([self.a])

        @attr.setter
        def attr(self, a: int):
            if a > 0:
                self.a = a
            else:
                self.a = 0

    class NoSetter(nn.Module):
        def __init__(self, a: int):
            super().__init__()
            self.a = a

        def forward(self, a: int, b: int):
            return self.attr + a + b

        @property
        def attr(self):
            return self.a + 1

    assert check_module(WithProperties(5), (5, 6))(5, 6) == 11
    assert check_module(WithProperties(5), (-5, -6))(-5, -6) == 0
    assert check_module(NoSetter(5), (5, 6))(5, 6) == 17
    assert check_module(NoSetter(5), (-5, -6))(-5, -6) == -5
    sm = torch.jit.script(WithProperties(3))
    with pytest.raises(AttributeError, match="has no attribute"):
        sm.ignored_attr


def test_parameter_list_and_dict_getitem_and_iteration():
    class GetItem(nn.Module):
        def __init__(self):
            super().__init__()
            self.module_list = nn.ModuleList([nn.Linear(1, 1) for _ in range(10)])
            self.parameter_list = nn.ParameterList(
                [nn.Parameter(torch.zeros(1)) for _ in range(10)])

        def forward(self, x):
            self.module_list[0]
            self.parameter_list[0]
            return x

    class Iter(GetItem):
        def forward(self, x):
            r = x
            for i, p in enumerate(self.parameter_list):
                r = r + p + i
            return r

    class Dict(nn.Module):
        def __init__(self):
            super().__init__()
            self.parameter_dict = nn.ParameterDict(
                {k: nn.Parameter(torch.full((1,), v)) for k, v in zip("abc", (2., 3., 4.))})

        def forward(self, x):
            return self.parameter_dict["a"] * x + \
                self.parameter_dict["b"] * self.parameter_dict["c"]

    check_module(GetItem(), (torch.zeros(1),))
    assert check_module(Iter(), (torch.zeros(1),))(torch.zeros(1)).item() == 45
    assert check_module(Dict(), (torch.ones(1),))(torch.ones(1)).item() == 14


def test_module_list_indexed_by_a_tensor_is_refused():
    class MyModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.mods = nn.ModuleList([nn.Linear(1, 1)])

        def forward(self, x: torch.Tensor, idx: torch.Tensor):
            return self.mods[idx](x)

    with pytest.raises(RuntimeError, match="Tensor"):
        torch.jit.script(MyModule())


def test_properties_from_python_on_the_scripted_module():
    class P(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = 3

        def forward(self, x: int):
            return self.doubled + x

        @property
        def doubled(self) -> int:
            return self.a * 2

        @doubled.setter
        def doubled(self, v: int):
            self.a = v // 2

    sm = torch.jit.script(P())
    assert sm.doubled == 6 and sm(1) == 7
    sm.doubled = 10
    assert sm.a == 5 and sm(1) == 11


def test_loop_variable_defined_before_the_loop_keeps_the_last_element():
    def f(n: int, xs: List[int]):
        i = -1
        for i in range(n):
            pass
        x = 0
        for x in xs:
            pass
        j = 7
        for j in range(2, n):
            pass
        return i, x, j

    sf = torch.jit.script(f)
    for n, xs in ((4, [1, 5, 3]), (0, [])):
        assert sf(n, xs) == f(n, xs)


def test_ignored_method_called_from_forward_runs_in_python():
    class M(nn.Module):
        def __init__(self, foo):
            super().__init__()
            self.foo = foo

        @torch.jit.ignore
        def ignored(self, k: int) -> torch.Tensor:
            return self.foo * k

        def forward(self, x):
            return self.ignored(2) + x

    x = torch.ones(3)
    a = check_module(M(torch.ones(3)), (x,), save=False)
    b = check_module(M(torch.full((3,), 2.0)), (x,), save=False)
    np.testing.assert_array_equal(a(x).numpy(), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(b(x).numpy(), [5.0, 5.0, 5.0])

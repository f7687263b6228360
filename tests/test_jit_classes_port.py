"""Behaviour ported from PyTorch's test/jit/test_class_type.py, test_dataclasses.py,
test_save_load.py and test_union.py: TorchScript classes, save/load round trips and unions,
compared with the same code run unscripted or with literal values.

Skipped from PyTorch's files (one line each):
- test_class_type.test_schema_human_readable: about the C++ schema printer's octal escapes.
- test_class_type.test_imported_classes: needs PyTorch's test/jit/_imported_class_test package.
- test_class_type.test_init_compiled_first: __before_init__ is a no-op check of C++ ordering.
- test_class_type.test_unresolved_class_attributes: gpujit reads a class-level attribute as
  Python does (the value), where TorchScript refuses it; nothing a user relies on.
- test_class_type.test_recursive_script(_module)_builtin_type_resolution,
  test_class_attribute_wrong_type, test_recursive_scripting_failed,
  __jit_unused_properties__: not ported for time (not known to fail).
- test_dataclasses.test_default_factories: gpujit makes a default_factory field a required
  argument (TorchScript raises NotImplementedError); test_no_source /
  test_use_unregistered_dataclass_raises: need TorchScript enums (xfail in _b) / an
  OSError from PyTorch's source lookup.
- test_save_load.py, test_union.py: not reached in this session (tests/test_script_save_load.py
  and tests/test_script_union.py cover much of them).
"""
from typing import List, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit import Tensor
from class_port_helpers import check_script, roundtrip, to_np as _np


# ====================================================== test_class_type.py

def test_get_attr_and_method():
    @torch.jit.script
    class FooTest:
        def __init__(self, x):
            self.foo = x

        def getFooTest(self):
            return self.foo

    @torch.jit.script
    def fn(x):
        foo = FooTest(x)
        return foo.getFooTest(), foo.foo

    x = torch.ones(2, 3)
    a, b = fn(x)
    np.testing.assert_array_equal(_np(a), np.ones((2, 3)))
    np.testing.assert_array_equal(_np(b), np.ones((2, 3)))


def test_contains_calls_dunder_contains():
    @torch.jit.script
    class FooTest:
        def __init__(self):
            pass

        def __contains__(self, key: str) -> bool:
            return key == 'hi'

    @torch.jit.script
    def fn():
        foo = FooTest()
        return 'hi' in foo, 'no' in foo, 'no' not in foo

    assert fn() == (True, False, True)


def test_set_attr_in_method():
    @torch.jit.script
    class FooTest:
        def __init__(self, x: int):
            self.foo = x

        def incFooTest(self, y: int):
            self.foo = self.foo + y

    @torch.jit.script
    def fn(x: int) -> int:
        foo = FooTest(x)
        foo.incFooTest(2)
        return foo.foo

    assert fn(1) == 3


def test_staticmethod_called_through_the_class():
    class X:
        def __init__(self, x: int):
            self.x = x

        @staticmethod
        def identity(x):
            return x

    def fn(x, y):
        return X.identity(x)

    check_script(fn, torch.tensor([1.0, 2.0]), torch.tensor([3.0]))


@pytest.mark.parametrize("body, words", [
    ("set_type", "attribute 'foo' of A is a Tensor; it cannot be assigned an int"),
    ("get_missing", "has no attribute 'asdf'"),
    ("set_missing", "has no attribute 'bar'"),
    ("cond_set", "assignment cannot be in a control-flow block.*'attr'"),
])
def test_attribute_errors(body, words):
    with pytest.raises(RuntimeError, match=words):
        if body == "set_type":
            @torch.jit.script
            class A:
                def __init__(self, x):
                    self.foo = x
                    self.foo = 10
        elif body == "get_missing":
            @torch.jit.script
            class B:
                def __init__(self, x):
                    self.foo = x

                def get(self):
                    return self.asdf
        elif body == "set_missing":
            @torch.jit.script
            class C:
                def __init__(self, x):
                    self.foo = x

                def set(self, y):
                    self.bar = y
        else:
            @torch.jit.script
            class D:
                def __init__(self, x):
                    if bool(x.sum() > 0):
                        self.attr = x


def test_constructor_argument_type_is_checked():
    @torch.jit.script
    class FooTest:
        def __init__(self, x: bool):
            self.foo = x

    with pytest.raises(RuntimeError, match="expects a bool, got an int"):
        @torch.jit.script
        def fn(x: int):
            FooTest(x)


@torch.jit.script
class _Holder:
    def __init__(self, x):
        self.attr = x


def _read_holder(foo: _Holder) -> Tensor:
    return foo.attr


def test_class_type_as_parameter():
    fn = torch.jit.script(_read_holder)

    @torch.jit.script
    def fn2(x):
        foo = _Holder(x)
        return fn(foo)

    x = torch.ones(1)
    np.testing.assert_array_equal(_np(fn2(x)), [1.0])


def test_init_calls_a_method_defined_later():
    @torch.jit.script
    class FooTest:
        def __init__(self, x):
            self.x = x
            self.x = self.get_stuff(x)

        def get_stuff(self, y):
            return self.x + y

    @torch.jit.script
    def fn(x):
        return FooTest(x).x

    np.testing.assert_array_equal(_np(fn(torch.ones(1))), [2.0])


@torch.jit.script
class _FooXY:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def _use_foo(foo: _FooXY) -> _FooXY:
    return foo


def _use_foos(foo: _FooXY, foo2: _FooXY, tup: Tuple[_FooXY, _FooXY]) -> Tensor:
    a, b = tup
    return foo.x + foo2.y + a.x + b.y


def test_objects_made_in_python_pass_in_and_out_of_script():
    x, y = torch.ones(2, 3), torch.zeros(2, 3)
    f = _FooXY(x, y)
    assert f.x is x and f.y is y
    f2 = torch.jit.script(_use_foo)(f)
    np.testing.assert_array_equal(_np(f2.x), np.ones((2, 3)))
    np.testing.assert_array_equal(_np(f2.y), np.zeros((2, 3)))


def test_objects_in_a_tuple_argument():
    x, y = torch.ones(2, 3), torch.zeros(2, 3)
    f, f2, f3 = _FooXY(x, y), _FooXY(x * 2, y * 3), _FooXY(x * 4, y * 4)
    args = (f, f2, (f, f3))
    s = check_script(_use_foos, *args)
    assert str(s.graph_for(*args)).count("prim::GetAttr") == 4


@torch.jit.script
class _SortFoo:
    def __init__(self, x: int):
        self.x = x

    def __lt__(self, other: '_SortFoo') -> bool:
        return self.x < other.x

    def getVal(self):
        return self.x


def _sort_them(li: List[_SortFoo], reverse: bool = False):
    li_sorted = sorted(li)
    ret_sorted = torch.jit.annotate(List[int], [])
    for foo in li_sorted:
        ret_sorted.append(foo.getVal())
    li.sort(reverse=reverse)
    ret_sort = torch.jit.annotate(List[int], [])
    for foo in li:
        ret_sort.append(foo.getVal())
    return ret_sorted, ret_sort


def test_sorting_objects_by_dunder_lt():
    s = torch.jit.script(_sort_them)
    for args in (([2, 1, 3],), ([2, 1, 3], True), ([2],), ([],)):
        vals = args[0]
        rest = args[1:]
        want = _sort_them([_SortFoo(v) for v in vals], *rest)
        got = s([_SortFoo(v) for v in vals], *rest)
        assert got == want

    @torch.jit.script
    def no_reverse():
        li = [_SortFoo(3), _SortFoo(1)]
        li.sort()
        return li[0].getVal()

    assert no_reverse() == 1

    @torch.jit.script
    def sorted_copies():
        li = [_SortFoo(3), _SortFoo(1)]
        li_sorted = sorted(li)
        return li[0].getVal(), li_sorted[0].getVal()

    assert sorted_copies() == (3, 1)


def test_sorting_errors():
    with pytest.raises(RuntimeError, match="'sort' of a list does not take 1 argument"):
        @torch.jit.script
        def bad_reverse():
            li = [_SortFoo(1)]
            li.sort(li)
            return li

    @torch.jit.script
    class NoMethod:
        def __init__(self):
            pass

    with pytest.raises(RuntimeError, match="must define a __lt__"):
        @torch.jit.script
        def no_lt():
            li = [NoMethod(), NoMethod()]
            li.sort()
            return li

    @torch.jit.script
    class WrongLt:
        def __init__(self):
            pass

        def __lt__(self, other):
            pass

    with pytest.raises(RuntimeError, match="must define a __lt__"):
        @torch.jit.script
        def wrong_lt():
            li = [WrongLt(), WrongLt()]
            li.sort()
            return li


def test_class_inheritance_is_refused():
    @torch.jit.script
    class Base:
        def __init__(self):
            self.b = 2

        def two(self, x):
            return x + self.b

    with pytest.raises(RuntimeError, match="does not support inheritance"):
        @torch.jit.script
        class Derived(Base):
            def two(self, x):
                return x + self.b + 2


# ---- save / load of modules whose code uses classes

@torch.jit.script
class _Keep:
    def __init__(self, x):
        self.x = x

    def get_x(self):
        return self.x

    def clone(self):
        return _Keep(self.x)


@torch.jit.script
class _Nested:
    def __init__(self, y):
        self.y = y


@torch.jit.script
class _Nested2:
    def __init__(self, y):
        self.y = y
        self.nested = _Nested(y)


@torch.jit.script
class _Outer:
    def __init__(self, x):
        self.class_attr = _Nested(x)
        self.class_attr2 = _Nested2(x)
        self.x = self.class_attr.y + self.class_attr2.nested.y


class _UsesKeep(torch.nn.Module):
    def forward(self, a):
        return _Keep(a).get_x()


class _UsesClone(torch.nn.Module):
    def forward(self, a):
        return _Keep(a).clone().x


class _UsesOuter(torch.nn.Module):
    def forward(self, a):
        return _Outer(a).x


@pytest.mark.parametrize("mod, k", [(_UsesKeep, 1), (_UsesClone, 1), (_UsesOuter, 2)])
def test_save_load_with_classes(mod, k):
    m = torch.jit.script(mod())
    loaded = roundtrip(m)
    x = torch.tensor([[0.5, 1.0, -2.0], [3.0, 0.0, 4.0]])
    np.testing.assert_array_equal(_np(loaded(x)), k * _np(x))


# ---- interfaces

@torch.jit.script
class _Foo12:
    def __init__(self):
        pass

    def one(self, x: Tensor, y: Tensor) -> Tensor:
        return x + y

    def two(self, x: Tensor) -> Tensor:
        return 2 * x


@torch.jit.script
class _Bar12:
    def __init__(self):
        pass

    def one(self, x: Tensor, y: Tensor) -> Tensor:
        return x * y

    def two(self, x: Tensor) -> Tensor:
        return 2 / x


@torch.jit.interface
class _OneTwo:
    def one(self, x: Tensor, y: Tensor) -> Tensor:
        pass

    def two(self, x: Tensor) -> Tensor:
        pass


@torch.jit.interface
class _OneTwoThree:
    def one(self, x: Tensor, y: Tensor) -> Tensor:
        pass

    def two(self, x: Tensor) -> Tensor:
        pass

    def three(self, x: Tensor) -> Tensor:
        pass


@torch.jit.interface
class _OneTwoWrong:
    def one(self, x: Tensor, y: Tensor) -> Tensor:
        pass

    def two(self, x: int) -> int:
        pass


@torch.jit.script
class _NotMember:
    def __init__(self):
        pass

    def one(self, x: Tensor, y: Tensor) -> Tensor:
        return x + y


@torch.jit.script
class _NotMember2:
    def __init__(self):
        pass

    def one(self, x: Tensor, y: Tensor) -> Tensor:
        return x + y

    def two(self, x: int) -> int:
        return 3


def _use_them(x):
    a = _Foo12()
    b = _Bar12()
    c = torch.jit.annotate(List[_OneTwo], [a, b])
    for i in range(len(c)):
        x = c[i].one(x, x)
        x = c[i].two(x)
    return x


def _as_interface(x: _OneTwo) -> _OneTwo:
    return x


def _inherit(x: _OneTwoThree) -> _OneTwo:
    return _as_interface_s(x)


_as_interface_s = torch.jit.script(_as_interface)


def test_interfaces_of_classes():
    x = torch.tensor([[0.5, 1.0], [2.0, -3.0]])
    check_script(_use_them, x)
    torch.jit.script(_inherit)                    # a wider interface is accepted

    def wrong1():
        return _as_interface_s(_NotMember())

    def wrong2():
        return _as_interface_s(_NotMember2())

    def wrong3():
        return _inherit_s(_as_interface_s(_Foo12()))

    def wrong4(x: _OneTwoWrong) -> int:
        return _as_interface_s(x)

    _inherit_s = torch.jit.script(_inherit)
    for fn, words in ((wrong1, "does not have method"),
                      (wrong2, "is not compatible with interface"),
                      (wrong3, "does not have method"),
                      (wrong4, "is not compatible with interface")):
        with pytest.raises(RuntimeError, match=words):
            torch.jit.script(fn)


class _PyAssign(torch.nn.Module):
    proxy_mod: _OneTwo

    def __init__(self, obj):
        super().__init__()
        self.proxy_mod = obj

    def forward(self, x):
        return self.proxy_mod.two(x)


class _PyAssignThree(torch.nn.Module):
    proxy_mod: _OneTwoThree

    def __init__(self, obj):
        super().__init__()
        self.proxy_mod = obj

    def forward(self, x):
        return self.proxy_mod.two(x)


def test_module_attribute_typed_by_an_interface():
    x = torch.tensor([1.0, -2.0, 3.0])
    m = torch.jit.script(_PyAssign(_Foo12()))
    np.testing.assert_array_equal(_np(m(x)), [2.0, -4.0, 6.0])
    np.testing.assert_array_equal(_np(roundtrip(m)(x)), [2.0, -4.0, 6.0])
    with pytest.raises(RuntimeError, match="is not compatible with interface"):
        torch.jit.script(_PyAssignThree(_Foo12()))

    class PyClass:
        def __init__(self):
            pass
    with pytest.raises(RuntimeError, match="not a TorchScript compatible type|"
                                           "is not compatible with interface"):
        torch.jit.script(_PyAssignThree(PyClass()))


# ---- operator overloads

@torch.jit.script
class _TensorBox:
    def __init__(self, x):
        self.x = x

    def __len__(self) -> int:
        return len(self.x)

    def __neg__(self):
        self.x = -self.x
        return self

    def __mul__(self, other: Tensor) -> Tensor:
        return self.x * other


@torch.jit.script
class _IntBox:
    def __init__(self, x: int):
        self.x = x

    def __add__(self, other: int) -> int:
        return self.x + other

    def __sub__(self, other: int) -> int:
        return self.x - other

    def __mul__(self, other: int) -> int:
        return self.x * other

    def __pow__(self, other: int) -> int:
        return int(self.x ** other)

    def __truediv__(self, other: int) -> float:
        return self.x / other

    def __mod__(self, other: int) -> int:
        return self.x % other

    def __ne__(self, other: int) -> bool:  # type: ignore[override]
        return self.x != other

    def __eq__(self, other: int) -> bool:  # type: ignore[override]
        return self.x == other

    def __lt__(self, other: int) -> bool:
        return self.x < other

    def __gt__(self, other: int) -> bool:
        return self.x > other

    def __le__(self, other: int) -> bool:
        return self.x <= other

    def __ge__(self, other: int) -> bool:
        return self.x >= other

    def __and__(self, other: int) -> int:
        return self.x & other

    def __or__(self, other: int) -> int:
        return self.x | other

    def __xor__(self, other: int) -> int:
        return self.x ^ other

    def __getitem__(self, other: int) -> int:
        return other + 1

    def __setitem__(self, idx: int, val: int) -> None:
        self.x = val * idx

    def __call__(self, val: int) -> int:
        return self.x * val * 3


def _ov_tensor():
    a = _TensorBox(torch.ones([3, 3]))
    return len(a), -a * torch.zeros([3, 3])


def _ov_setitem():
    a = _IntBox(4)
    a[1] = 5
    return a.x


def _ov_call():
    a = _IntBox(5)
    return a(2)


def test_operator_overloads():
    check_script(_ov_tensor)
    check_script(_ov_setitem)
    check_script(_ov_call)
    for fn in (_op_add, _op_sub, _op_mul, _op_pow, _op_div, _op_mod, _op_ne, _op_eq, _op_lt,
               _op_gt, _op_le, _op_ge, _op_and, _op_or, _op_xor, _op_getitem):
        check_script(fn)


def _op_add(): return _IntBox(4) + 3          # noqa: E704
def _op_sub(): return _IntBox(4) - 3          # noqa: E704
def _op_mul(): return _IntBox(4) * 3          # noqa: E704
def _op_pow(): return _IntBox(4) ** 3         # noqa: E704
def _op_div(): return _IntBox(4) / 3          # noqa: E704
def _op_mod(): return _IntBox(4) % 3          # noqa: E704
def _op_ne(): return _IntBox(4) != 3          # noqa: E704
def _op_eq(): return _IntBox(4) == 3          # noqa: E704
def _op_lt(): return _IntBox(4) < 3           # noqa: E704
def _op_gt(): return _IntBox(4) > 3           # noqa: E704
def _op_le(): return _IntBox(4) <= 3          # noqa: E704
def _op_ge(): return _IntBox(4) >= 3          # noqa: E704
def _op_and(): return _IntBox(4) & 3          # noqa: E704
def _op_or(): return _IntBox(4) | 3           # noqa: E704
def _op_xor(): return _IntBox(4) ^ 3          # noqa: E704
def _op_getitem(): return _IntBox(4)[1]       # noqa: E704


def test_operator_without_an_overload_names_it():
    def f():
        return _TensorBox(torch.tensor(1)) + _TensorBox(torch.tensor(1))
    with pytest.raises(RuntimeError, match="__add__"):
        torch.jit.script(f)

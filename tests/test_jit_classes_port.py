"""Behaviour ported from PyTorch's test/jit/test_class_type.py, test_dataclasses.py,
test_save_load.py and test_union.py: TorchScript classes, save/load round trips and unions,
compared with the same code run unscripted or with literal values.

Skipped from PyTorch's files (one line each):
- test_class_type.test_schema_human_readable: about the C++ schema printer's octal escapes.
- test_class_type.test_imported_classes: needs PyTorch's test/jit/_imported_class_test package.
- test_class_type.test_init_compiled_first: __before_init__ is a no-op check of C++ ordering.
"""
import dataclasses
import enum
import io
from typing import Any, Dict, List, Optional, Tuple  # noqa: F401  (annotations below)

import numpy as np
import pytest

import gpujit as torch
from gpujit import Tensor


def _np(t):
    return np.asarray(t.detach().numpy())


def roundtrip(m, **kw):
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    return torch.jit.load(buf, **kw)


def check_script(fn, *args):
    """fn scripted gives what fn gives unscripted."""
    s = torch.jit.script(fn)
    want, got = fn(*args), s(*args)
    _same(got, want)
    return s


def _same(got, want):
    if isinstance(want, torch.Tensor):
        assert isinstance(got, torch.Tensor)
        assert got.dtype == want.dtype and tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6)
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
    else:
        assert type(got) is type(want) and got == want, (got, want)


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


# ---- casts, self-construction, Optional attributes, recursion

@torch.jit.script
class _Castable:
    def __init__(self, val: float):
        self.val = val

    def __int__(self) -> int:
        return int(self.val)

    def __float__(self) -> float:
        return self.val

    def __bool__(self) -> bool:
        return bool(self.val)

    def __str__(self) -> str:
        return str(self.val)


def _casts(foo: _Castable) -> Tuple[int, float, bool, int]:
    k = 0
    if foo:
        k = 1
    return int(foo), float(foo), bool(foo), k


def test_cast_overloads():
    s = torch.jit.script(_casts)
    assert s(_Castable(0.5)) == (0, 0.5, True, 1)
    assert s(_Castable(2.0)) == _casts(_Castable(2.0))
    assert s(_Castable(0.0)) == (0, 0.0, False, 0)
    assert "0.5" in str(_Castable(0.5))

    @torch.jit.script
    class BadBool:
        def __init__(self):
            pass

        def __bool__(self):
            return (1, 2)

    def bad():
        if BadBool():
            print(1)
    with pytest.raises(RuntimeError, match="__bool__"):
        torch.jit.script(bad)


def test_class_constructs_itself_in_a_method():
    @torch.jit.script
    class LSTMStateStack:
        def __init__(self, num_layers: int, hidden_size: int):
            self.num_layers = num_layers
            self.hidden_size = hidden_size
            self.last_state = (torch.zeros(num_layers, 1, hidden_size),
                               torch.zeros(num_layers, 1, hidden_size))
            self.stack = [(self.last_state[0][-1], self.last_state[0][-1])]

        def copy(self):
            other = LSTMStateStack(self.num_layers, self.hidden_size)
            other.stack = list(self.stack)
            return other

    @torch.jit.script
    def f(n: int):
        s = LSTMStateStack(n, 3)
        c = s.copy()
        return len(c.stack), c.stack[0][0].shape

    assert f(2) == (1, [1, 3])


def test_optional_attribute_takes_an_object_later():
    @torch.jit.script
    class Leaf:
        def __init__(self):
            self.x = 1

    @torch.jit.script
    class Tree:
        def __init__(self):
            self.child = torch.jit.annotate(Optional[Leaf], None)

        def add_child(self, child: Leaf) -> None:
            self.child = child

    @torch.jit.script
    def f():
        t = Tree()
        a = t.child is None
        t.add_child(Leaf())
        c = t.child
        return a, c is not None and c.x == 1

    assert f() == (True, True)


def test_recursive_class_type_is_an_error():
    with pytest.raises(RuntimeError, match="'parent' of Tree.*recursive class types"):
        @torch.jit.script
        class Tree:
            def __init__(self):
                self.parent = torch.jit.annotate(Optional[Tree], None)


class _ConstM(torch.nn.Module):
    __constants__ = ["w"]

    def __init__(self, w):
        super().__init__()
        self.w = w

    def forward(self, x):
        y = self.w
        return x, y


@pytest.mark.parametrize("c", [2, 1.0, None, True, 'str', (2, 3), [5.9, 7.3]])
def test_module_constants_round_trip(c):
    m = torch.jit.script(_ConstM(c))
    loaded = roundtrip(m)
    x = torch.tensor([[1.0, 2.0, 3.0]])
    a, b = m(x), loaded(x)
    np.testing.assert_array_equal(_np(a[0]), _np(b[0]))
    want = tuple(c) if isinstance(c, list) else c     # a constant list is a tuple
    assert a[1] == b[1] == want and loaded.w == m.w


# ---- newer PyTorch test_class_type cases

class _Annotated:
    i: int
    f: float

    def __init__(self, i: int, f: float):
        self.i = i
        self.f = f


def _sum_fields(x: _Annotated) -> float:
    return x.i + x.f


def test_python_object_passed_where_a_class_is_expected():
    s = torch.jit.script(_sum_fields)
    assert s(_Annotated(3, 4.0)) == 7.0
    with pytest.raises(RuntimeError, match="_Annotated"):
        s(torch.ones(3, 4))


@torch.jit.script
class _Unused:
    def __init__(self):
        self.count: int = 0
        self.items: List[int] = []

    def used(self):
        self.count += 1
        return self.count

    @torch.jit.unused
    def unused(self, x: int, y: Any, **kwargs) -> int:
        a = next(self.items)
        return a

    def uses_unused(self) -> int:
        return self.unused(y="hi", x=3)


class _ModuleWithUnused(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.obj = _Unused()

    def forward(self):
        return self.obj.used()

    @torch.jit.export
    def calls_unused(self):
        return self.obj.unused(3, "hi")

    @torch.jit.export
    def calls_unused_indirectly(self):
        return self.obj.uses_unused()


def test_unused_methods_of_a_class_raise_when_called():
    sm = torch.jit.script(_ModuleWithUnused())
    assert sm() == _ModuleWithUnused()() == 1
    with pytest.raises(torch.jit.Error):
        sm.calls_unused()
    with pytest.raises(torch.jit.Error):
        sm.calls_unused_indirectly()


@torch.jit.script
class _Meta:
    def __init__(self, a: int):
        self.a = a

    def method(self, other: List['_Meta']) -> '_Meta':
        return _Meta(len(other))


class _ModuleWithMeta(torch.nn.Module):
    def __init__(self, a: int):
        super().__init__()
        self.meta = _Meta(a)

    def forward(self):
        new_obj = self.meta.method([self.meta])
        return new_obj.a


def test_method_annotated_with_its_own_class():
    m = _ModuleWithMeta(5)
    assert torch.jit.script(m)() == m() == 1


def test_container_attributes_annotated_in_init():
    @torch.jit.script
    class Utils:
        def __init__(self):
            self.my_list: List[Tuple[float, int, int]] = []
            self.my_dict: Dict[int, int] = {}

    @torch.jit.script
    def foo():
        y = Utils()
        new_dict: Dict[int, int] = {1: 1, 2: 2}
        y.my_dict = new_dict
        new_list: List[Tuple[float, int, int]] = [(1.0, 1, 1)]
        y.my_list = new_list
        return y

    y = foo()
    assert y.my_dict == {1: 1, 2: 2} and y.my_list == [(1.0, 1, 1)]


@torch.jit.script
class _WithDefaults:
    def __init__(self, a: int = 1, b: Optional[List[int]] = None,
                 c: Tuple[int, int, int] = (1, 2, 3), d: Optional[Dict[int, int]] = None,
                 e: Optional[str] = None):
        self.int = a
        self.tup = c
        self.str = e
        self.list = [1, 2, 3]
        if b is not None:
            self.list = b
        self.dict = {1: 2, 3: 4}
        if d is not None:
            self.dict = d

    def add(self, b: int, scale: float = 1.0) -> float:
        return self.int * scale + b


def _all_defaults() -> int:
    obj: _WithDefaults = _WithDefaults()
    return obj.int + obj.list[2] + obj.tup[1]


def _some_defaults() -> int:
    obj: _WithDefaults = _WithDefaults(b=[5, 6, 7])
    return obj.int + obj.list[2] + obj.dict[1]


def _override_defaults() -> int:
    obj: _WithDefaults = _WithDefaults(3, [9, 10, 11], (12, 13, 14), {3: 4}, "str")
    s: int = obj.int
    for x in obj.list:
        s += x
    for y in obj.tup:
        s += y
    s += obj.dict[3]
    st = obj.str
    if st is not None:
        s += len(st)
    return s


def _method_defaults() -> float:
    obj: _WithDefaults = _WithDefaults()
    return obj.add(3) + obj.add(3, 0.25)


class _SomeDefaults:
    def __init__(self, a: int, b: int = 1):
        self.a = a
        self.b = b


def _default_b() -> int:
    obj: _SomeDefaults = _SomeDefaults(1)
    return obj.a + obj.b


def _set_b() -> int:
    obj: _SomeDefaults = _SomeDefaults(1, 4)
    return obj.a + obj.b


class _MutableDefault:
    def __init__(self, a: List[int] = [1, 2, 3]):  # noqa: B006
        self.a = a


def _mutable_default():
    obj: _MutableDefault = _MutableDefault()
    return obj.a


def test_default_arguments_of_constructors_and_methods():
    for fn in (_all_defaults, _some_defaults, _override_defaults, _method_defaults,
               _default_b, _set_b):
        check_script(fn)
    with pytest.raises(RuntimeError, match="Mutable default parameters are not supported"):
        torch.jit.script(_mutable_default)


@torch.jit.script
class _WithStatic:
    def __init__(self, a: int, b: int):
        self.a: int = a
        self.b: int = b

    def __eq__(self, other: '_WithStatic') -> bool:
        return self.a == other.a and self.b == other.b

    @staticmethod
    def create(args: List['_WithStatic']) -> '_WithStatic':
        return _WithStatic(args[0].a, args[0].b)

    @staticmethod
    def create_from(a: int, b: int) -> '_WithStatic':
        a = _WithStatic(a, b)
        return _WithStatic.create([a])


def _static_user(a: int, b: int) -> _WithStatic:
    return _WithStatic.create_from(a, b)


@torch.jit.script
class _WithClassMethod:
    def __init__(self, a: int):
        self.a: int = a

    def __eq__(self, other: '_WithClassMethod') -> bool:
        return self.a == other.a

    @classmethod
    def create(cls, a: int) -> '_WithClassMethod':
        return cls(a)


def _classmethod_user(a: int) -> _WithClassMethod:
    x = _WithClassMethod(a)
    return x.create(a)


def test_staticmethods_and_classmethods():
    r = torch.jit.script(_static_user)(1, 2)
    assert (r.a, r.b) == (1, 2) and r == _static_user(1, 2)
    r = torch.jit.script(_classmethod_user)(7)
    assert r.a == 7 and r == _classmethod_user(7)


# ====================================================== test_dataclasses.py

@dataclasses.dataclass(order=True)
class _Point:
    x: float
    y: float
    norm: Optional[Tensor] = None

    def __post_init__(self):
        self.norm = (torch.tensor(self.x) ** 2 + torch.tensor(self.y) ** 2) ** 0.5


class _Scheme2(enum.Enum):
    A = 1
    B = 2


@dataclasses.dataclass
class _MixupParams2:
    def __init__(self, alpha: float = 0.125, scheme: _Scheme2 = _Scheme2.A):
        self.alpha = alpha
        self.scheme = scheme


_P = torch.jit.script(_Point)


def _point_norm(x: float, y: float):
    pt = _P(x, y)
    return pt.norm


def _compare_points(x1: float, y1: float, x2: float, y2: float):
    pt1 = _P(x1, y1)
    pt2 = _P(x2, y2)
    return pt1 == pt2, pt1 < pt2, pt1 <= pt2, pt1 > pt2, pt1 >= pt2


def test_dataclass_post_init_and_optional_field():
    for x, y in ((3.0, 4.0), (-1.5, 0.0), (0.0, 0.0), (1e4, -1e4)):
        check_script(_point_norm, x, y)


def test_dataclass_init_vars():
    @torch.jit.script
    @dataclasses.dataclass(order=True)
    class Point2:
        x: float
        y: float
        norm_p: dataclasses.InitVar[int] = 2
        norm: Optional[Tensor] = None

        def __post_init__(self, norm_p: int):
            self.norm = (torch.tensor(self.x) ** norm_p
                         + torch.tensor(self.y) ** norm_p) ** (1 / norm_p)

    def fn(x: float, y: float, p: int):
        return Point2(x, y, p).norm

    check_script(fn, 1.0, 2.0, 3)


def test_dataclass_generated_comparisons():
    for a, b in (((1.0, 2.0), (1.0, 2.0)), ((1.0, 2.0), (1.0, 3.0)),
                 ((2.0, -1.0), (1.0, 5.0)), ((0.0, 0.0), (-0.0, 0.0))):
        check_script(_compare_points, *a, *b)


def test_dataclass_custom_eq_is_kept():
    @torch.jit.script
    @dataclasses.dataclass
    class CustomEq:
        a: int
        b: int

        def __eq__(self, other: "CustomEq") -> bool:
            return self.a == other.a

    def fn(a: int, b1: int, b2: int):
        return CustomEq(a, b1) == CustomEq(a, b2)

    check_script(fn, 1, 2, 3)


@pytest.mark.xfail(strict=True, reason="gpujit has no TorchScript enums yet")
def test_dataclass_with_enum_default():
    s = torch.jit.script(_MixupParams2)
    assert s is _MixupParams2

    def fn(a: float):
        p = _MixupParams2(a)
        return p.alpha, p.scheme == _Scheme2.A
    check_script(fn, 0.5)


# ---- properties, __delitem__, objects as module attributes (newer test_class_type)

def _free_function(x: int) -> int:
    return x + 1


@torch.jit.script
class _Props:
    def __init__(self, a: int):
        self.a = a

    @property
    def attr(self) -> int:
        return self.a - 1

    @attr.setter
    def attr(self, value: int):
        self.a = value + 3


@torch.jit.script
class _NoSetter:
    def __init__(self, a: int):
        self.a = a

    @property
    def attr(self) -> int:
        return _free_function(self.a)


@torch.jit.script
class _UsesProperty:
    def __init__(self, a: int):
        self.a = a

    @property
    def attr(self) -> int:
        return self.a - 2

    @attr.setter
    def attr(self, value: int):
        self.a = value + 4

    def forward(self):
        return self.attr


class _ModuleWithProperties(torch.nn.Module):
    def __init__(self, a: int):
        super().__init__()
        self.props = _Props(a)

    def forward(self, a: int, b: int, c: int, d: int):
        self.props.attr = a
        props = _Props(b)
        no_setter = _NoSetter(c)
        uses = _UsesProperty(a + b)
        props.attr = c
        uses.attr = d
        return self.props.attr + no_setter.attr + uses.forward()


def test_properties_read_and_set():
    want = _ModuleWithProperties(5)(5, 6, 7, 8)
    sm = torch.jit.script(_ModuleWithProperties(5))
    assert sm(5, 6, 7, 8) == want
    assert roundtrip(sm)(5, 6, 7, 8) == want

    def no_setter(c: int):
        n = _NoSetter(c)
        n.attr = 3
    with pytest.raises(RuntimeError, match="property 'attr' of _NoSetter has no setter"):
        torch.jit.script(no_setter)


class _WithDel:
    def __init__(self):
        self._data: Dict[str, Tensor] = {"1": torch.tensor(1.0)}

    def check(self, key: str) -> bool:
        return key in self._data

    def __delitem__(self, key: str):
        del self._data[key]


class _NoDel:
    def __init__(self):
        self._data: Dict[str, Tensor] = {"1": torch.tensor(1.0)}


def _del_item() -> bool:
    example = _WithDel()
    del example["1"]
    return example.check("1")


def _del_missing():
    example = _NoDel()
    key = "1"
    del example[key]


def test_del_item_calls_dunder_delitem():
    check_script(_del_item)
    with pytest.raises(RuntimeError, match="Class does not define __delitem__"):
        torch.jit.script(_del_missing)


class _PlainClass:
    def __init__(self, a: int):
        self.a = a

    def get_a(self) -> int:
        return self.a


class _HoldsObject(torch.nn.Module):
    def __init__(self, obj):
        super().__init__()
        self.obj = obj

    def forward(self) -> int:
        return self.obj.get_a()


def test_object_module_attribute_is_scripted_recursively():
    m = _HoldsObject(_PlainClass(4))
    assert torch.jit.script(m)() == m() == 4

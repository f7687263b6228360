"""TorchScript classes and dataclasses, second part of the port of PyTorch's
test/jit/test_class_type.py (casts, defaults, static/class methods, properties) and
test/jit/test_dataclasses.py; see tests/test_jit_classes_port.py for what is skipped."""
import dataclasses
import enum
from typing import Any, Dict, List, Optional, Tuple  # noqa: F401  (annotations below)

import numpy as np
import pytest

import gpujit as torch
from gpujit import Tensor

from class_port_helpers import check_script, roundtrip, to_np as _np  # noqa: F401


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
    # (torch 2.13's words)
    with pytest.raises(RuntimeError, match="Assignment to attribute 'parent' cannot be of a "
                       "type that contains class(.|\n)*Classes that recursively contain "
                       "instances of themselves are not yet supported"):
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
        # (Python 3.13's @dataclass __eq__ is `x == x and y == y and norm == norm`: run
        # eagerly it answers the last field's tensor(True); scripted, TorchScript's bool)
        want = tuple(bool(w) for w in _compare_points(*a, *b))
        assert torch.jit.script(_compare_points)(*a, *b) == want


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

"""Python Enums in scripted code, ported as behaviour from PyTorch's test/jit/test_enum.py
(gpujit/frontend/script/enums.py). Each test of TestEnum is ported:

  test_enum_value_types, test_enum_comp, test_enum_comp_diff_classes,
  test_heterogenous_value_type_enum_error, test_enum_name, test_enum_value,
  test_enum_as_const, test_non_existent_enum_value, test_enum_ivalue_type,
  test_closed_over_enum_constant, test_enum_as_module_attribute,
  test_string_enum_as_module_attribute, test_enum_return, test_enum_module_return,
  test_enum_iterate, test_enum_explicit_script, test_typed_enum.

Skipped: TestEnumFeatureGuard (PyTorch's old EXPERIMENTAL_ENUM_SUPPORT switch, gone from
PyTorch itself). Beyond the file: enums in lists and dicts, comprehensions over the class,
jit.save / jit.load, `.code`, the generated-code path (calls after the first), and the
refusals (the class as a value or called, `<`, `==` with a non-member), str / f-strings /
print (`Enum<Color.RED>`, TorchScript's text). Differences kept on purpose: an Enum in
`__constants__` works (PyTorch refuses it), and `x is Color.RED` is Python's identity
(TorchScript answers False).

Graph text names types by qualified name: `Enum<__torch__.Color>` (a class defined again
under a used name gets a mangled one), so checks look for `Color>` / `Color.RED`.
"""
import io
from enum import Enum
from typing import Any, Dict, List, Optional

import pytest

import gpujit as torch


class Color(Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


class Foo(Enum):
    ITEM1 = 1
    ITEM2 = 2


class Bar(Enum):
    ITEM1 = 1
    ITEM2 = 2


class FloatEnum(Enum):
    FOO = 1.2
    BAR = 2.3


class StringEnum(Enum):
    FOO = "foo as in foo bar"
    BAR = "bar as in foo bar"


class Mixed(Enum):
    RED = 1
    GREEN = "green"


class TypedColor(int, Enum):
    RED = 1
    GREEN = 2


def _graph(f):
    return str(f.graph)


def _twice(f, *args):
    """f(*args) on the first call (the interpreter) and after (the generated code): the
    same answer."""
    first = f(*args)
    for _ in range(2):
        assert f(*args) == first
    return first


# ---------------------------------------------------------------- value types

def test_enum_value_types():
    @torch.jit.script
    def supported(a: Color, b: FloatEnum, c: StringEnum):
        return (a.name, b.name, c.name, a.value, b.value, c.value)

    g = _graph(supported)
    assert g.index("Color>") < g.index("FloatEnum>") < g.index("StringEnum>")
    assert _twice(supported, Color.GREEN, FloatEnum.BAR, StringEnum.FOO) == (
        "GREEN", "BAR", "FOO", 2, 2.3, "foo as in foo bar")
    assert "float = prim::EnumValue" in g and "str = prim::EnumValue" in g


def test_tensor_and_bool_enum_values_are_refused():
    class TensorEnum(Enum):
        FOO = torch.tensor(0)
        BAR = torch.tensor(1)

    def unsupported(a: TensorEnum):
        return a.name

    with pytest.raises(RuntimeError, match="Cannot create Enum with value type 'Tensor'"):
        torch.jit.script(unsupported)

    class BoolEnum(Enum):
        YES = True

    def unsupported_bool(a: BoolEnum):
        return a.value

    with pytest.raises(RuntimeError, match="Cannot create Enum with value type 'bool'"):
        torch.jit.script(unsupported_bool)


def test_heterogenous_value_type_enum_error():
    def enum_comp(x: Mixed, y: Mixed) -> bool:
        return x == y

    with pytest.raises(RuntimeError, match="Could not unify type list"):
        torch.jit.script(enum_comp)


# ---------------------------------------------------------------- comparisons

def test_enum_comp():
    @torch.jit.script
    def enum_comp(x: Color, y: Color) -> bool:
        return x == y

    assert "aten::eq" in _graph(enum_comp)
    assert _twice(enum_comp, Color.RED, Color.RED) is True
    assert _twice(enum_comp, Color.RED, Color.GREEN) is False

    @torch.jit.script
    def enum_ne(x: Color, y: Color) -> bool:
        return x != y

    assert "aten::ne" in _graph(enum_ne)
    assert _twice(enum_ne, Color.RED, Color.GREEN) is True
    assert _twice(enum_ne, Color.BLUE, Color.BLUE) is False


def test_enum_comp_diff_classes():
    @torch.jit.script
    def enum_comp(x: Foo) -> bool:
        return x == Bar.ITEM1

    g = _graph(enum_comp)
    assert "prim::Constant[value=__torch__." in g and "Bar.ITEM1]" in g
    assert g.index("Bar.ITEM1") < g.index("aten::eq")
    assert _twice(enum_comp, Foo.ITEM1) is False      # same value, other Enum: not equal


def test_ordering_and_non_member_comparisons_are_refused():
    def lt(x: Color) -> bool:
        return x < Color.RED

    with pytest.raises(RuntimeError, match="Arguments for call are not valid"):
        torch.jit.script(lt)

    def eq_int(x: Color) -> bool:
        return x == 1

    with pytest.raises(RuntimeError, match="Arguments for call are not valid"):
        torch.jit.script(eq_int)


# ---------------------------------------------------------------- name, value, constants

def test_enum_name():
    @torch.jit.script
    def enum_name(x: Color) -> str:
        return x.name

    lines = _graph(enum_name).splitlines()
    k = next(i for i, ln in enumerate(lines) if "prim::EnumName" in ln)
    assert "Color>" in lines[k - 1] and "return" in lines[k + 1]
    assert _twice(enum_name, Color.RED) == "RED"
    assert _twice(enum_name, Color.GREEN) == "GREEN"


def test_enum_value():
    @torch.jit.script
    def enum_value(x: Color) -> int:
        return x.value

    lines = _graph(enum_value).splitlines()
    k = next(i for i, ln in enumerate(lines) if "prim::EnumValue" in ln)
    assert "int = prim::EnumValue" in lines[k] and "return" in lines[k + 1]
    assert _twice(enum_value, Color.RED) == 1
    assert _twice(enum_value, Color.GREEN) == 2


def test_enum_as_const():
    @torch.jit.script
    def enum_const(x: Color) -> bool:
        return x == Color.RED

    lines = _graph(enum_const).splitlines()
    k = next(i for i, ln in enumerate(lines) if "prim::Constant[value=__torch__." in ln)
    assert "Color.RED]" in lines[k] and "Enum<__torch__." in lines[k]
    assert "aten::eq" in lines[k + 1] and "return" in lines[k + 2]
    assert _twice(enum_const, Color.RED) is True
    assert _twice(enum_const, Color.GREEN) is False


def test_non_existent_enum_value():
    def enum_const(x: Color) -> bool:
        if x == Color.PURPLE:
            return True
        else:
            return False

    with pytest.raises(RuntimeError, match="has no attribute 'PURPLE'") as e:
        torch.jit.script(enum_const)
    assert "Color.PURPLE" in str(e.value)          # the highlighted source


def test_no_such_attribute_of_a_member():
    def other(x: Color):
        return x.foo

    with pytest.raises(RuntimeError, match="has no attribute or method 'foo'"):
        torch.jit.script(other)


def test_closed_over_enum_constant():
    a = Color

    @torch.jit.script
    def closed_over_aliased_type():
        return a.RED.value

    assert "prim::Constant[value=1]" in _graph(closed_over_aliased_type)
    assert "EnumValue" not in _graph(closed_over_aliased_type)
    assert _twice(closed_over_aliased_type) == 1

    b = Color.RED

    @torch.jit.script
    def closed_over_aliased_value():
        return b.value, b.name

    # (the tuple of two constants is one constant, as torch 2.13's script-time folding)
    assert 'prim::Constant[value=(1, "RED")]' in _graph(closed_over_aliased_value)
    assert _twice(closed_over_aliased_value) == (1, "RED")

    @torch.jit.script
    def returns_alias() -> Color:
        return b

    assert _twice(returns_alias) is Color.RED


# ---------------------------------------------------------------- isinstance, returns

def test_enum_ivalue_type():
    @torch.jit.script
    def is_color_enum(x: Any):
        return isinstance(x, Color)

    g = _graph(is_color_enum)
    assert "prim::isinstance" in g and "Enum<__torch__." in g
    assert _twice(is_color_enum, Color.RED) is True
    assert _twice(is_color_enum, Color.GREEN) is True
    assert _twice(is_color_enum, Foo.ITEM1) is False
    assert _twice(is_color_enum, 1) is False


def test_enum_return():
    @torch.jit.script
    def return_enum(cond: bool):
        if cond:
            return Color.RED
        else:
            return Color.GREEN

    assert _twice(return_enum, True) is Color.RED
    assert _twice(return_enum, False) is Color.GREEN
    assert "-> __torch__.test_jit_enum_port.Color" in return_enum.code   # (TorchScript's)


def test_enum_argument_type_is_checked():
    @torch.jit.script
    def name(x: Color) -> str:
        return x.name

    with pytest.raises(RuntimeError):
        name(Foo.ITEM1)
    with pytest.raises(RuntimeError):
        name(1)


# ---------------------------------------------------------------- modules

def test_enum_as_module_attribute():
    class TestModule(torch.nn.Module):
        def __init__(self, e: Color):
            super().__init__()
            self.e = e

        def forward(self):
            return self.e.value

    scripted = torch.jit.script(TestModule(Color.RED))
    lines = _graph(scripted).splitlines()
    k = next(i for i, ln in enumerate(lines) if 'prim::GetAttr[name="e"]' in ln)
    assert "Enum<__torch__." in lines[k] and "Color>" in lines[k]
    assert "prim::EnumValue" in lines[k + 1] and "return" in lines[k + 2]
    assert _twice(scripted) == 1


def test_string_enum_as_module_attribute():
    class TestModule(torch.nn.Module):
        def __init__(self, e: StringEnum):
            super().__init__()
            self.e = e

        def forward(self):
            return (self.e.name, self.e.value)

    scripted = torch.jit.script(TestModule(StringEnum.FOO))
    assert _twice(scripted) == ("FOO", "foo as in foo bar")


def test_enum_module_return():
    class TestModule(torch.nn.Module):
        def __init__(self, e: Color):
            super().__init__()
            self.e = e

        def forward(self):
            return self.e

    scripted = torch.jit.script(TestModule(Color.RED))
    lines = _graph(scripted).splitlines()
    k = next(i for i, ln in enumerate(lines) if 'prim::GetAttr[name="e"]' in ln)
    assert "return" in lines[k + 1]
    assert _twice(scripted) is Color.RED


def test_enum_attributes_lists_and_constants_in_a_module():
    class M(torch.nn.Module):
        __constants__ = ["fixed"]

        def __init__(self):
            super().__init__()
            self.fixed = Color.BLUE            # (PyTorch refuses an Enum in __constants__)
            self.chosen = Color.GREEN
            self.palette = [Color.RED, Color.GREEN]
            self.by_name: Dict[str, Color] = {"r": Color.RED}

        def forward(self, x: Color, y):
            hit = x == self.chosen
            out = y * 2 if hit else y
            return out, [c.value for c in self.palette], self.by_name["r"], \
                self.fixed.name

    m = torch.jit.script(M())
    y = torch.ones(2)
    out, values, r, fixed = m(Color.GREEN, y)
    assert out.tolist() == [2.0, 2.0] and values == [1, 2] and r is Color.RED
    assert fixed == "BLUE"
    out, *_ = m(Color.RED, y)
    assert out.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- iteration, containers

def test_enum_iterate():
    def iterate_enum(x: Color):
        res: List[int] = []
        for e in Color:
            if e != x:
                res.append(e.value)
        return res

    scripted = torch.jit.script(iterate_enum)
    g = _graph(scripted)
    line = next(ln for ln in g.splitlines() if "Color>[] = prim::Constant" in ln)
    assert line.index("Color.RED") < line.index("Color.GREEN") < line.index("Color.BLUE")
    # definition order, as Python's Enum
    assert _twice(scripted, Color.RED) == [2, 3]
    assert _twice(scripted, Color.GREEN) == [1, 3]


def test_comprehensions_over_the_class():
    @torch.jit.script
    def names() -> List[str]:
        return [c.name for c in Color]

    @torch.jit.script
    def table() -> Dict[str, int]:
        return {c.name: c.value for c in Color}

    assert _twice(names) == ["RED", "GREEN", "BLUE"]
    assert _twice(table) == {"RED": 1, "GREEN": 2, "BLUE": 3}


def test_enums_in_lists_and_dicts():
    @torch.jit.script
    def f(xs: List[Color], d: Dict[str, Color]) -> List[Color]:
        out = [d["a"]]
        for x in xs:
            if x != Color.BLUE:
                out.append(x)
        return out

    assert "Enum<__torch__." in _graph(f) and "Color>[]" in _graph(f)
    assert _twice(f, [Color.RED, Color.BLUE], {"a": Color.GREEN}) == [Color.GREEN,
                                                                       Color.RED]

    @torch.jit.script
    def count(xs: List[Color], c: Color) -> int:
        n = 0
        for x in xs:
            if x == c:
                n += 1
        return n

    assert _twice(count, [Color.RED, Color.GREEN, Color.RED], Color.RED) == 2


def test_the_class_is_not_a_value():
    def as_value(x: Color):
        return Color

    with pytest.raises(RuntimeError, match="EnumClass cannot be used as a value"):
        torch.jit.script(as_value)

    def called(x: int):
        return Color(x)

    with pytest.raises(RuntimeError, match="cannot call a EnumClass"):
        torch.jit.script(called)


# ---------------------------------------------------------------- scripting the class

def test_enum_explicit_script():
    @torch.jit.script
    class Shade(Enum):
        DARK = 1
        LIGHT = 2

    assert torch.jit.script(Shade) is Shade

    class Bad(Enum):
        A = 1
        B = "b"

    with pytest.raises(RuntimeError, match="Could not unify type list"):
        torch.jit.script(Bad)


def test_typed_enum():
    @torch.jit.script
    def is_red(x: TypedColor) -> bool:
        return x == TypedColor.RED

    assert _twice(is_red, TypedColor.RED) is True
    assert _twice(is_red, TypedColor.GREEN) is False

    @torch.jit.script
    def is_typed(x: Any) -> bool:
        return isinstance(x, TypedColor)

    assert _twice(is_typed, TypedColor.RED) is True
    assert _twice(is_typed, 1) is False


# ---------------------------------------------------------------- code, save / load

def test_code_names_the_enum():
    @torch.jit.script
    def f(x: Color) -> bool:
        return x == Color.RED and x.name != "BLUE"

    code = f.code
    # (as TorchScript: the qualified name, `(x).name`)
    assert "x: __torch__.test_jit_enum_port.Color" in code
    assert "__torch__.test_jit_enum_port.Color.RED" in code and "(x).name" in code


def test_save_load_roundtrip():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.e = Color.GREEN
            self.s = StringEnum.BAR

        def forward(self, x: Color):
            res: List[int] = []
            for c in Color:
                if c != x:
                    res.append(c.value)
            return x == self.e, res, self.e, self.s.value, isinstance(x, Color)

    m = torch.jit.script(M())
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    for x in (Color.RED, Color.GREEN):
        assert loaded(x) == m(x)
    assert loaded(Color.GREEN) == (True, [1, 3], Color.GREEN, "bar as in foo bar", True)
    assert "Color.RED" in str(loaded.graph) or "Color>[]" in str(loaded.graph)


def test_example_inputs_and_freeze():
    def name_of(x):
        return x.name

    s = torch.jit.script(name_of, example_inputs=[(Color.BLUE,)])
    assert "Enum<__torch__." in str(s.graph) and _twice(s, Color.BLUE) == "BLUE"

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.e = Color.GREEN

        def forward(self, x):
            if self.e == Color.GREEN:
                return x * 2
            return x

    frozen = torch.jit.freeze(torch.jit.script(M()).eval())
    assert "prim::GetAttr" not in str(frozen.graph)
    assert frozen(torch.ones(2)).tolist() == [2.0, 2.0]


def test_optional_enum_and_defaults():
    @torch.jit.script
    def opt(x: Optional[Color]) -> int:
        if x is None:
            return -1
        return x.value

    @torch.jit.script
    def dflt(x: Color = Color.RED) -> str:
        return x.name

    assert _twice(opt, None) == -1 and _twice(opt, Color.GREEN) == 2
    assert _twice(dflt) == "RED" and _twice(dflt, Color.BLUE) == "BLUE"


def test_str_format_and_print_write_torchscript_text(capsys):
    @torch.jit.script
    def f(x: Color):
        print(x, 3)
        return str(x), f"{x}", "{}".format(x), f"{x.name}:{x.value}"

    assert _twice(f, Color.RED) == ("Enum<Color.RED>",) * 3 + ("RED:1",)
    assert capsys.readouterr().out.splitlines() == ["Enum<Color.RED> 3"] * 3


def test_identity_is_pythons():
    # (TorchScript answers False for `x is Color.RED` whatever x is: it compares boxed
    # copies; gpujit keeps Python's answer, members being singletons)
    @torch.jit.script
    def f(x: Color, y: Color):
        return x is Color.RED, x is not y, x is x

    assert _twice(f, Color.RED, Color.RED) == (True, False, True)
    assert _twice(f, Color.GREEN, Color.RED) == (False, True, True)

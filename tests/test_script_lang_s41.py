"""TorchScript language against torch.jit.script 2.13 (session 41, helper b41): small
programs compiled under `import torch` and `import gpujit as torch`; torch's answers are
written out here (and compared with torch's own where torch is importable).

Finds, minimised:

1. Statements after a `break` / `continue` are compiled by TorchScript (its exit
   transform drops them only afterwards), so their errors are raised: `break` then
   `s += "x"` is "Arguments for call are not valid", `continue` then an undefined name
   "undefined value undefined_name", `break` then `s = 1.5` of an int s "Variable 's'
   previously had type int but is now being assigned to a value of type float", and a
   module's `break` then `x = self.agg(x)` of a None attribute "cannot call a value of
   type 'NoneType'". What follows a `return` or `raise` is not compiled there. gpujit
   skipped all of it.

2. Calling a module attribute that is not a method (None, an int, a list...) is
   "cannot call a value of type 'NoneType'" (its type's annotation), at `self.agg`;
   gpujit said "'M' has no method 'agg'".

3. example_inputs as torch.jit.script takes them (its Profile-Directed Typing, which
   gpujit does without MonkeyType): a list for a module types its forward (gpujit
   refused: "example_inputs for the module M is a dict"), a {callable: [tuples]} dict
   for a function types it from its own entry (gpujit refused), an empty list or dict
   is nothing to learn from, and anything else is torch's ValueError "Error: Unable to
   infer types. Please format the inputs to type `List[Tuple]` or `Dict[Callable,
   List[Tuple]]` to be run with MonkeyType." (torch without MonkeyType warns instead
   and types every parameter Tensor).

4. A call no @_overload declaration takes is torch's "Arguments for call are not
   valid.\nThe following variants are available:" with each declaration's schema
   (`h(int x, str mode="nearest", float y=2.) -> int`; a method's as `g__0(__torch__.M
   self, Tensor x, int? s) -> Tensor`) and why it does not take the call ("Expected a
   value of type 'Optional[int]' for argument 's' but instead found type 'float'.",
   "Expected at most 3 arguments but found 4 positional arguments.", after the
   parameters), then "The original call is:" at the callee; gpujit said "Could not
   match any of the overloads of 'g' to the arguments (a Tensor)". F.interpolate,
   F.upsample, F.upsample_nearest and F.upsample_bilinear are declared with torch's
   overloads, so `F.interpolate(x, scale_factor=2)` (an int) and `size=4.0` are refused
   in those words and `F.upsample(x, scale_factor=[2., 2.])` too (gpujit took a Union:
   its own words, and upsample's list); scripting one directly names torch's module,
   "Function __torch__.torch.nn.functional.interpolate cannot be directly compiled
   because it is overloaded", a user function `__torch__.h`. F.upsample*'s
   deprecation warnings quote the names as torch's: "`nn.functional.upsample` is
   deprecated. Use `nn.functional.interpolate` instead."

5. abs() of a number is TorchScript's prim::abs (.int / .float / .Scalar), printed
   `ops.prim.abs(n)`; gpujit made aten::abs.int (`torch.abs(n)`) and so also took
   `torch.abs(n)` of an int, which torch 2.13 refuses (aten::abs takes a Tensor).

6. A list / dict / str subscript, pop, remove and popitem are TorchScript's nodes,
   `aten::__getitem__(%xs, %i)`, `aten::pop(%xs, %i)`, printed `torch.pop(xs)` for the
   default index -1 as torch 2.13 prints it; gpujit gave each a last input holding the
   scripted line for its error ("/tmp/f.py:5: a = xs[1]", a str constant in every
   graph and in .code: `torch.pop(_0, -1, "...")`). The line now comes from the node's
   source range when the code is generated; the error still names it.

7. A call of an @unused function or method raises torch 2.13's words, "This Python
   function is annotated to be ignored and cannot be run", a RaiseException without a
   class that .code prints `ops.prim.RaiseException(_0)` (gpujit: "dropped is @unused
   (or @ignore(drop=True)): it was dropped from scripted code and cannot run here" /
   "M.un is @unused: ...", with "builtins.RuntimeError"); a RaiseException without a
   class prints so too (as torch's code of an assert holds).

8. A function annotated with a return type other than None may not fall off its end,
   even when None is a value of that type: `-> Optional[int]` / `-> Union[int, None]` /
   `-> Any` with a path that ends without a return is "Function was not annotated as
   having type None, but does not return along all paths" (torch 2.13's
   handleMaybeNoReturn); gpujit returned None there.

9. Refusals in torch's first words: `Tuple[int, ...]` "Expression of type dots cannot be
   used in a type expression", `~n` of an int or bool "Arguments for call are not
   valid" (no aten::bitwise_not takes it; gpujit: "`~` is supported on tensors only").

10. .code of the list mutators whose TorchScript schema returns nothing is a call
    statement, `torch.insert(xs, 0, 3)`, `torch.remove(xs, 3)`, `torch.extend(xs, ys)`,
    `torch.clear(ys)` (gpujit: `_0 = torch.insert(xs, 0, 3)`, naming the container its
    node gives back). Left: xs.sort() / xs.reverse() print as sorted / reversed, clear
    and extend (torch: `torch.sort(xs)`, `torch.reverse(xs)`).

11. d.update(e) is TorchScript's aten::update node, `torch.update(d, e)` in .code; gpujit
    compiled a loop over e's keys (`for _4 in range(torch.len(_3)): ... d[_5] = e[_5]`).
"""
import re
import warnings
from typing import Any, Dict, List, Optional, Tuple, Union

import pytest

import gpujit as torch
from gpujit.frontend.script.errors import FrontendError

try:
    import torch as _torch
except ImportError:         # (CI has no torch: the expected words are written out)
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="compares with PyTorch")


def _refusal(lib, fn):
    with pytest.raises(RuntimeError) as e:
        lib.jit.script(fn)
    return str(e.value)


# ---------------------------------------------------------------- 1. code after break
def _add_str_after_break(n: int) -> int:
    s = 0
    for i in range(n):
        s += i
        break
        s += "x"
    return s


def _undefined_after_continue(n: int) -> int:
    s = 0
    for i in range(n):
        continue
        s = undefined_name(3)  # noqa: F821
    return s


def _retype_after_break(n: int) -> int:
    s = 0
    for i in range(n):
        break
        s = 1.5
    return s


def _undefined_after_continue_in_if(n: int) -> int:
    for i in range(n):
        if i > 0:
            continue
            undefined_x(1)  # noqa: F821
        n += 1
    return n


def _nested_loop_after_break(n: int) -> int:
    for i in range(n):
        break
        for j in range(2):
            undefined_y()  # noqa: F821
    return n


_DEAD = [(_add_str_after_break, "Arguments for call are not valid", 's += "x"'),
         (_undefined_after_continue, "undefined value undefined_name", "undefined_name(3)"),
         (_retype_after_break, "Variable 's' previously had type int but is now being "
                               "assigned to a value of type float", "s = 1.5"),
         (_undefined_after_continue_in_if, "undefined value undefined_x", "undefined_x(1)"),
         (_nested_loop_after_break, "undefined value undefined_y", "undefined_y()")]


@pytest.mark.parametrize("fn, words, line", _DEAD, ids=[f.__name__ for f, _, _ in _DEAD])
def test_code_after_break_or_continue_is_compiled(fn, words, line):
    msg = _refusal(torch, fn)
    assert words in msg and line in msg


@needs_torch
@pytest.mark.parametrize("fn, words, line", _DEAD, ids=[f.__name__ for f, _, _ in _DEAD])
def test_code_after_break_or_continue_torch_refuses_too(fn, words, line):
    msg = _refusal(_torch, fn)
    assert words in msg and line in msg


def _after_return(n: int) -> int:
    return n
    n = "x" + 1


def _after_raise(n: int) -> int:
    if n > 0:
        raise ValueError("x")
        q = undefined_name(3)  # noqa: F821, F841
    return 0


def _return_after_break(n: int) -> int:
    while n > 0:
        n -= 1
        break
        return 5
    return n


def _dead_assignment_after_break(n: int) -> int:
    s = 0
    for i in range(n):
        s += i
        if s > 2:
            break
            s = 100
    return s


@pytest.mark.parametrize("fn, arg, expected", [
    (_after_return, 3, 3), (_after_raise, 0, 0), (_return_after_break, 3, 2),
    (_dead_assignment_after_break, 5, 3)])
def test_dead_code_compiles_and_does_not_run(fn, arg, expected):
    f = torch.jit.script(fn)
    assert f(arg) == expected == fn(arg)
    assert "100" not in f.code and "return 5" not in f.code     # (dropped, as torch's)
    if _torch is not None:
        assert _torch.jit.script(fn)(arg) == expected


def _continue_in_if_then_more(x: torch.Tensor, n: int):
    # what follows the `if` is no dead code of its `continue` branch (nor the `with`'s)
    for i in range(n):
        if i == 0:
            continue
        with torch.no_grad():
            x = x * 2 + 1
            continue
    return x


def test_code_after_an_if_that_continues_is_live():
    f = torch.jit.script(_continue_in_if_then_more)
    assert f(torch.zeros(1), 3).tolist() == [3.0]


class _CallsAttrAfterBreak(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.agg = None

    def forward(self, x):
        for i in range(3):
            break
            x = self.agg(x)
        return x


class _CallsAttrAfterReturn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.agg = None

    def forward(self, x):
        return x
        x = self.agg(x)


def test_module_code_after_break_is_compiled():
    with pytest.raises(RuntimeError, match=r"cannot call a value of type 'NoneType'") as e:
        torch.jit.script(_CallsAttrAfterBreak())
    assert "x = self.agg(x)" in str(e.value)
    m = torch.jit.script(_CallsAttrAfterReturn())
    assert m(torch.ones(2)).tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- 2. calling an attribute
class _CallsAttr(torch.nn.Module):
    def __init__(self, v):
        super().__init__()
        self.agg = v

    def forward(self, x):
        x = self.agg(x)
        return x


@pytest.mark.parametrize("value, shown", [
    (None, "NoneType"), (3, "int"), ("s", "str"), ([1], "List[int]"),
    ((1, 2), "Tuple[int, int]"), (2.5, "float")])
def test_calling_a_non_callable_attribute(value, shown):
    with pytest.raises(FrontendError) as e:
        torch.jit.script(_CallsAttr(value))
    msg = str(e.value)
    assert msg.startswith(f"cannot call a value of type '{shown}'")
    # the range is the callee, `self.agg`, as torch's
    assert "x = self.agg(x)\n            ~~~~~~~~ <--- HERE" in msg
    if _torch is not None:
        class M(_torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.agg = value

            def forward(self, x):
                x = self.agg(x)
                return x
        with pytest.raises(RuntimeError, match=re.escape(f"cannot call a value of type '{shown}'")):
            _torch.jit.script(M())


# ---------------------------------------------------------------- 3. example_inputs
def _add(x, y):
    return x + y


class _Mul(torch.nn.Module):
    def forward(self, x, y):
        return x * y


def test_example_inputs_list_types_a_modules_forward():
    m = torch.jit.script(_Mul(), example_inputs=[(2, 3)])
    assert "%x.1 : int,\n      %y.1 : int" in str(m.graph)     # (torch 2.13: %x.1)
    assert m(4, 5) == 20


def test_example_inputs_dict_types_the_function_it_names():
    f = torch.jit.script(_add, example_inputs={_add: [(1, 2)]})
    assert "%x : int" in str(f.graph) and f(3, 4) == 7


@pytest.mark.parametrize("examples", [[], {}, ()])
def test_empty_example_inputs_are_nothing_to_learn_from(examples):
    f = torch.jit.script(_add, example_inputs=examples)
    assert "%x.1 : Tensor" in str(f.graph)      # (torch 2.13: %x.1)


@pytest.mark.parametrize("obj", [_add, _Mul()], ids=["function", "module"])
@pytest.mark.parametrize("examples", [((1, 2),), 3])
def test_example_inputs_of_another_kind_are_torchs_value_error(obj, examples):
    with pytest.raises(ValueError, match=re.escape(
            "Error: Unable to infer types. Please format the inputs to type `List[Tuple]` "
            "or `Dict[Callable, List[Tuple]]` to be run with MonkeyType.")):
        torch.jit.script(obj, example_inputs=examples)


# ---------------------------------------------------------------- 4. overload refusals
@torch.jit._overload
def _h(x: int, mode: str = "nearest", y: float = 2.0) -> int:
    pass


@torch.jit._overload
def _h(x: float, mode: str = "nearest", y: float = 2.0) -> float:  # noqa: F811
    pass


def _h(x, mode: str = "nearest", y: float = 2.0):  # noqa: F811
    return x


def _h_of_str(x: int):
    return _h("s", y=3)


def _h_of_four(x: int):
    return _h(1, "a", 2.0, 5)


def test_no_overload_taking_the_call_is_torchs_variant_list():
    with pytest.raises(FrontendError) as e:
        torch.jit.script(_h_of_str)
    msg = str(e.value)
    assert msg.startswith(
        'Arguments for call are not valid.\nThe following variants are available:\n  \n'
        '  _h(int x, str mode="nearest", float y=2.) -> int:\n'
        "  Expected a value of type 'int' for argument 'x' but instead found type 'str'.\n"
        '  \n  _h(float x, str mode="nearest", float y=2.) -> float:\n'
        "  Expected a value of type 'float' for argument 'x' but instead found type 'str'.\n"
        "The original call is:\n")
    assert 'return _h("s", y=3)\n               ~~ <--- HERE' in msg
    with pytest.raises(FrontendError) as e:
        torch.jit.script(_h_of_four)
    # (the parameters are checked first, then the count of positional arguments)
    assert ("  _h(int x, str mode=\"nearest\", float y=2.) -> int:\n  Expected at most 3 "
            "arguments but found 4 positional arguments.\n  \n  _h(float x, str mode=\""
            "nearest\", float y=2.) -> float:\n  Expected a value of type 'float' for "
            "argument 'x' but instead found type 'int'.") in str(e.value)


class _Overloaded(torch.nn.Module):
    @torch.jit._overload_method
    def g(self, x: torch.Tensor, s: Optional[int] = None) -> torch.Tensor:
        pass

    @torch.jit._overload_method
    def g(self, x: torch.Tensor, s: Tuple[int, str] = (1, "a")) -> torch.Tensor:  # noqa: F811
        pass

    def g(self, x: torch.Tensor, s=None) -> torch.Tensor:  # noqa: F811
        return x

    def forward(self, x):
        return self.g(x, 2.5)


def test_no_method_overload_taking_the_call_names_each_compiled_method():
    with pytest.raises(FrontendError) as e:
        torch.jit.script(_Overloaded())
    assert ("  g__0(__torch__.test_script_lang_s41._Overloaded self, Tensor x, int? s) -> "
            "Tensor:\n  Expected a value of type 'Optional[int]' for argument 's' but "
            "instead found type 'float'.\n  \n  g__1(__torch__.test_script_lang_s41."
            "_Overloaded self, Tensor x, (int, str) s) -> Tensor:\n  Expected a value of "
            "type 'Tuple[int, str]' for argument 's' but instead found type 'float'.\n"
            "The original call is:") in str(e.value)


def _interp_int_scale(x: torch.Tensor):
    return torch.nn.functional.interpolate(x, scale_factor=2)


def _interp_float_size(x: torch.Tensor):
    return torch.nn.functional.interpolate(x, size=4.0)


def _upsample_scale_list(x: torch.Tensor):
    return torch.nn.functional.upsample(x, scale_factor=[2.0, 2.0])


_INTERP_SCHEMAS = [
    'interpolate(Tensor input, int? size=None, float[]? scale_factor=None, str mode='
    '"nearest", bool? align_corners=None, bool? recompute_scale_factor=None, bool '
    'antialias=False) -> Tensor',
    'interpolate(Tensor input, int[]? size=None, float[]? scale_factor=None, str mode='
    '"nearest", bool? align_corners=None, bool? recompute_scale_factor=None, bool '
    'antialias=False) -> Tensor',
    'interpolate(Tensor input, int? size=None, float? scale_factor=None, str mode='
    '"nearest", bool? align_corners=None, bool? recompute_scale_factor=None, bool '
    'antialias=False) -> Tensor',
    'interpolate(Tensor input, int[]? size=None, float? scale_factor=None, str mode='
    '"nearest", bool? align_corners=None, bool? recompute_scale_factor=None, bool '
    'antialias=False) -> Tensor']


def _variants(schemas, whys):
    return "".join(f"  \n  {s}:\n  {w}\n" for s, w in zip(schemas, whys))


def _expected(t, arg, found):
    return f"Expected a value of type '{t}' for argument '{arg}' but instead found type '{found}'."


_INTERP_CASES = [
    (_interp_int_scale, _INTERP_SCHEMAS,
     [_expected(t, "scale_factor", "int") for t in
      ("Optional[List[float]]", "Optional[List[float]]", "Optional[float]", "Optional[float]")]),
    (_interp_float_size, _INTERP_SCHEMAS,
     [_expected(t, "size", "float") for t in
      ("Optional[int]", "Optional[List[int]]", "Optional[int]", "Optional[List[int]]")]),
    (_upsample_scale_list,
     ['upsample(Tensor input, int? size=None, float? scale_factor=None, str mode="nearest", '
      'bool? align_corners=None) -> Tensor',
      'upsample(Tensor input, int[]? size=None, float? scale_factor=None, str mode="nearest", '
      'bool? align_corners=None) -> Tensor'],
     [_expected("Optional[float]", "scale_factor", "List[float]")] * 2)]


@pytest.mark.parametrize("fn, schemas, whys", _INTERP_CASES,
                         ids=[c[0].__name__ for c in _INTERP_CASES])
def test_interpolate_arguments_no_declaration_takes(fn, schemas, whys):
    expected = ("Arguments for call are not valid.\nThe following variants are available:\n"
                + _variants(schemas, whys) + "The original call is:")
    with pytest.raises(FrontendError) as e:
        torch.jit.script(fn)
    assert str(e.value).startswith(expected)      # (torch 2.13's text, as it printed it)


def test_interpolate_declarations_compile_as_before():
    def f(x: torch.Tensor, s: List[int]):
        return torch.nn.functional.interpolate(x, size=s, mode="bilinear",
                                               align_corners=False) + \
            torch.nn.functional.interpolate(x, scale_factor=2.0) + \
            torch.nn.functional.interpolate(x, size=(4, 4)) + \
            torch.nn.functional.interpolate(x, scale_factor=[2.0, 2.0], mode="bilinear")
    x = torch.arange(4.0).reshape(1, 1, 2, 2)
    got = torch.jit.script(f)(x, [4, 4])
    assert got.tolist() == f(x, [4, 4]).tolist()


@pytest.mark.parametrize("name", ["interpolate", "upsample", "upsample_nearest",
                                  "upsample_bilinear"])
def test_scripting_an_overloaded_library_function_names_torchs_module(name):
    with pytest.raises(FrontendError, match=re.escape(
            f"Function __torch__.torch.nn.functional.{name} cannot be directly compiled "
            f"because it is overloaded. It must be used in a context of a function where "
            f"its inputs can determine which overload to call.")):
        torch.jit.script(getattr(torch.nn.functional, name))


def test_scripting_an_overloaded_function_names_it_qualified():
    with pytest.raises(FrontendError, match=re.escape(
            "Function __torch__.test_script_lang_s41._h cannot be directly compiled")):
        torch.jit.script(_h)


@pytest.mark.parametrize("name", ["upsample", "upsample_nearest", "upsample_bilinear"])
def test_upsample_deprecation_words(name):
    x = torch.ones(1, 1, 2, 2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        getattr(torch.nn.functional, name)(x, scale_factor=2.0)
    assert [(m.category, str(m.message), m.filename) for m in w] == [
        (UserWarning, f"`nn.functional.{name}` is deprecated. Use "
                      f"`nn.functional.interpolate` instead.", __file__)]


# ---------------------------------------------------------------- 5. abs of a number
def _abs_numbers(n: int, x: float, b: bool, u: Union[int, float]):
    return abs(n), abs(x), abs(b), abs(u)


def test_abs_of_a_number_is_prim_abs():
    f = torch.jit.script(_abs_numbers)
    assert "(ops.prim.abs(n), ops.prim.abs(x), ops.prim.abs(int(b)), ops.prim.abs(u))" \
        in f.code
    assert "aten::abs" not in str(f.graph)
    assert f(-3, -0.0, True, -2.5) == (3, 0.0, 1, 2.5)
    assert str(f(-3, -0.0, True, -2.5)[1]) == "0.0"
    if _torch is not None:
        assert "(ops.prim.abs(n), ops.prim.abs(x), ops.prim.abs(int(b)), ops.prim.abs(u))" \
            in _torch.jit.script(_abs_numbers).code


def _tensor_abs_of_int(n: int):
    return torch.abs(n)


def test_torch_abs_of_an_int_is_refused():
    with pytest.raises(FrontendError, match="Arguments for call are not valid"):
        torch.jit.script(_tensor_abs_of_int)


# ---------------------------------------------------------------- 6. container nodes
def _containers(xs: List[int], d: Dict[str, int], s: str) -> int:
    a = xs[1] + d["k"] + len(s[0])
    b = xs.pop()
    c = xs.pop(0)
    xs.remove(3)
    k, v = d.popitem()
    return a + b + c + v


def test_container_nodes_have_torchs_inputs():
    f = torch.jit.script(_containers)
    g = str(f.graph)
    for line in g.splitlines():
        if "aten::__getitem__(" in line or "aten::pop(" in line:
            assert line.split(" # ")[0].count("%") == 3, line   # (output, container, index)
        if "aten::remove(" in line:     # (torch's `-> ()`: container and element only)
            assert line.split(" # ")[0].count("%") == 2, line
        if "aten::popitem" in line:
            assert line.split(" # ")[0].count("%") == 2, line
    assert not any("prim::Constant[value=\"" in line and ".py:" in line.split(" # ")[0]
                   for line in g.splitlines())
    code = f.code
    assert ", -1)" not in code and ".py" not in code
    assert f([1, 2, 3, 4], {"k": 10, "a": 1}, "z") == 2 + 10 + 1 + 4 + 1 + 10


def test_container_errors_still_name_the_scripted_line():
    f = torch.jit.script(_containers)
    with pytest.raises(IndexError) as e:
        f([1], {"k": 1}, "z")
    assert "list index out of range" in str(e.value)
    assert 'a = xs[1] + d["k"] + len(s[0])' in str(e.value)
    with pytest.raises(KeyError) as e:
        f([1, 2], {}, "z")
    assert 'a = xs[1] + d["k"] + len(s[0])' in str(e.value)
    with pytest.raises(ValueError) as e:
        f([1, 2, 4, 5], {"k": 1}, "z")
    assert "xs.remove(3)" in str(e.value)


def _pop_last(xs: List[int]) -> int:
    return xs.pop()


def test_list_pop_prints_without_its_default_index():
    f = torch.jit.script(_pop_last)
    assert "return torch.pop(xs)\n" in f.code
    if _torch is not None:
        assert "return torch.pop(xs)\n" in _torch.jit.script(_pop_last).code


# ---------------------------------------------------------------- 7. @unused calls
@torch.jit.unused
def _dropped(x: int) -> int:
    return 3


def _calls_dropped(x: int, flag: bool) -> int:
    if flag:
        return _dropped(x)
    return x


class _CallsUnusedMethod(torch.nn.Module):
    @torch.jit.unused
    def un(self, x: int) -> int:
        return x + 1000

    def forward(self, x: int) -> int:
        if x > 10:
            return self.un(x)
        return x


_UNUSED_WORDS = "This Python function is annotated to be ignored and cannot be run"


@pytest.mark.parametrize("make", [lambda: _calls_dropped, _CallsUnusedMethod],
                         ids=["function", "method"])
def test_calling_unused_code_raises_torchs_words(make):
    f = torch.jit.script(make())
    args = (1, True) if f.__class__.__name__ == "ScriptFunction" else (11,)
    code = f.code
    assert f'_0 = "{_UNUSED_WORDS}"' in code
    assert "    ops.prim.RaiseException(_0)\n" in code
    with pytest.raises(RuntimeError, match=_UNUSED_WORDS):      # (torch 2.13's .code too)
        f(*args)


# ---------------------------------------------------------------- 8. falling off the end
def _optional_falls(x: int) -> Optional[int]:
    if x > 0:
        return x


def _any_falls(x: int) -> Any:
    if x > 0:
        return x


def _union_none_falls(x: int) -> Union[int, None]:
    x += 1


@pytest.mark.parametrize("fn", [_optional_falls, _any_falls, _union_none_falls])
def test_a_declared_return_type_may_not_fall_off_the_end(fn):
    for lib in (torch, _torch) if _torch is not None else (torch,):
        with pytest.raises(RuntimeError, match="Function was not annotated as having type "
                                               "None, but does not return along all paths"):
            lib.jit.script(fn)


def _none_falls(x: int) -> None:
    if x > 0:
        return None


def _unannotated_falls(x: int):
    if x > 0:
        return x


def _raises_at_the_end(x: int) -> Optional[int]:
    if x > 0:
        return x
    raise ValueError("x")


@pytest.mark.parametrize("fn, arg, expected", [(_none_falls, 1, None),
                                               (_unannotated_falls, -1, None),
                                               (_raises_at_the_end, 2, 2)])
def test_paths_that_may_end_without_a_return(fn, arg, expected):
    assert torch.jit.script(fn)(arg) == expected
    if _torch is not None:
        assert _torch.jit.script(fn)(arg) == expected


# ---------------------------------------------------------------- 9. refusal words
def _var_tuple(x: Tuple[int, ...]) -> int:
    return len(x)


def _invert_int(n: int) -> int:
    return ~n


def _invert_bool(b: bool) -> int:
    return ~b


@pytest.mark.parametrize("fn, words", [
    (_var_tuple, "Expression of type dots cannot be used in a type expression"),
    (_invert_int, "Arguments for call are not valid"),
    (_invert_bool, "Arguments for call are not valid")])
def test_refusals_start_with_torchs_words(fn, words):
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(fn)
    assert str(e.value).startswith(words)
    if _torch is not None:
        with pytest.raises(RuntimeError, match=words):
            _torch.jit.script(fn)


# ---------------------------------------------------------------- 10. void mutators' .code
def _void_mutators(xs: List[int], ys: List[int]) -> List[int]:
    xs.insert(0, 3)
    xs.remove(3)
    xs.extend(ys)
    ys.clear()
    return xs


def test_void_list_mutators_print_as_statements():
    f = torch.jit.script(_void_mutators)
    want = ("  torch.insert(xs, 0, 3)\n  torch.remove(xs, 3)\n  torch.extend(xs, ys)\n"
            "  torch.clear(ys)\n  return xs\n")
    assert f.code.endswith(want)
    assert f([1, 2], [5]) == [1, 2, 5]
    if _torch is not None:
        assert _torch.jit.script(_void_mutators).code.endswith(want)


def _extend_in_loop(xs: List[int], n: int) -> List[int]:
    for i in range(n):
        xs.extend([i])
    return xs + [len(xs)]       # (torch.len after the loop)


def test_void_mutator_statements_in_a_loop_read_back():
    import io
    f = torch.jit.script(_extend_in_loop)
    assert "    torch.extend(xs, [i])\n" in f.code
    buf = io.BytesIO()
    torch.jit.save(f, buf)
    buf.seek(0)
    g = torch.jit.load(buf)         # (`torch.extend(...)` names no loop-carried `torch`)
    assert g([7], 3) == f([7], 3) == [7, 0, 1, 2, 4]


# ---------------------------------------------------------------- 11. dict update
def _update(d: Dict[str, int], e: Dict[str, int]) -> Dict[str, int]:
    d.update(e)
    return d


def test_dict_update_is_one_node():
    f = torch.jit.script(_update)
    assert "= aten::update(%d, %e)" in str(f.graph) and "prim::Loop" not in str(f.graph)
    assert f.code.endswith("  torch.update(d, e)\n  return d\n")
    d = {"a": 1, "b": 2}
    assert f(d, {"b": 5, "c": 3}) == {"a": 1, "b": 5, "c": 3}
    assert d == {"a": 1, "b": 2}        # (the argument is converted: the caller's stays)
    if _torch is not None:
        assert _torch.jit.script(_update).code.endswith("  torch.update(d, e)\n  return d\n")

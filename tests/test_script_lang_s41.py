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
"""
import re

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
    assert "%x : int,\n      %y : int" in str(m.graph)
    assert m(4, 5) == 20


def test_example_inputs_dict_types_the_function_it_names():
    f = torch.jit.script(_add, example_inputs={_add: [(1, 2)]})
    assert "%x : int" in str(f.graph) and f(3, 4) == 7


@pytest.mark.parametrize("examples", [[], {}, ()])
def test_empty_example_inputs_are_nothing_to_learn_from(examples):
    f = torch.jit.script(_add, example_inputs=examples)
    assert "%x : Tensor" in str(f.graph)


@pytest.mark.parametrize("obj", [_add, _Mul()], ids=["function", "module"])
@pytest.mark.parametrize("examples", [((1, 2),), 3])
def test_example_inputs_of_another_kind_are_torchs_value_error(obj, examples):
    with pytest.raises(ValueError, match=re.escape(
            "Error: Unable to infer types. Please format the inputs to type `List[Tuple]` "
            "or `Dict[Callable, List[Tuple]]` to be run with MonkeyType.")):
        torch.jit.script(obj, example_inputs=examples)

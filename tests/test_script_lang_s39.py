"""TorchScript language against torch.jit.script 2.13 (session 39, helper b39): small
programs run under `import torch` and `import gpujit as torch`; torch's answers are
written out here.

Finds, minimised:

1. A list of ints is no `float[]` in TorchScript's schema matching, nor a tuple holding
   an int: `[1] == [1.0]`, `[1] != [1.0]`, `(1, 2.0) == (1, 2.0)`, a NamedTuple of an
   int and a float == another, `a == a` of a Tuple[int, float] are all refused by torch
   2.13 ("Arguments for call are not valid. ... aten::eq.float_list(float[] a, float[]
   b) -> bool: Expected a value of type 'List[float]' for argument 'a' but instead found
   type 'List[int]'"), as `[1.0] + [1]` is. A tuple of ints alone is an int list there
   ((1, 2) == (1, 2), P(1, 2) == P(1, 2) of ints, (1.0,) == (1.0,): True). gpujit took
   an int list (or a tuple with an int) for a float list and answered.

2. An `if` that narrows a variable narrows it after the if only where the other branch
   returns or raises (TorchScript's exit blocks: a return / raise, an if both of whose
   branches exit, a with whose body does); a `continue` or `break` is no such exit:
   `for x in xs: if x is None: continue` then `s += x` is refused by torch 2.13
   ("Arguments for call are not valid" for aten::add of Optional[int]), as are
   `while True: if x is None: break` then `x + 1`, and `if x is not None: pass else:
   continue` then `x + 1`. gpujit (which compiles what follows an exiting if into both
   branches) narrowed it there too.

3. hasattr() answers objects (script classes, modules) and NamedTuples only: torch 2.13
   refuses hasattr(x, "shape") of a Tensor ("hasattr's first argument must be an object
   or NamedTuple, got Tensor instead"; int, str, List[int], Optional[Tensor] alike) and
   of a plain tuple ("hasattr's first argument must be a object or NamedTuple, but got a
   normal Tuple Tuple[int, int] instead"); gpujit answered from Python's classes.

4. A starred name of an unpacking is a tuple in TorchScript: `p, *q = (1, 2, 3)` makes q
   (2, 3) (torch 2.13; `a, (b, *c), *d = 1, (2, 3, 4), 5, 6` gives (1, 2, (3, 4), (5,
   6))); gpujit made Python's list. A list (x.shape too) has no size known when
   compiling: `a, *b = xs` is "cannot statically infer the expected size of a list in
   this context"; `*b, = t` is "A Starred expression may only appear on the lhs within
   the presence of another non-starred expression". gpujit unpacked both.

5. Final in scripted code: torch 2.13 refuses `y: Final = 3` ("Unknown type name
   'Final'"), `y: Final[int] = 3`, `torch.jit.annotate(Final[int], x)` and a script
   class's `self.a: Final[int] = a` ("Unknown type constructor Final"); gpujit took
   Final[int] as int.

6. print(...)'s result is TorchScript's NoneValue: a statement, or held by names (`y =
   print(x)`, `z = y` compile), never a value: `return print(x)`, `[print(x)]`, `if
   print(x):`, `print(x) is None`, `y = print(x); return y` are "None cannot be used as
   a value" (torch 2.13); gpujit made it None.

7. A Python builtin function TorchScript does not compile is refused in its words:
   dir() "Python builtin <built-in function dir> is currently not supported in
   Torchscript" (iter, next, repr, callable, open, setattr, eval ... alike).

8. A list comprehension's .code is TorchScript's loop: `for _1 in range(torch.len(xs)):`
   / `x = xs[_1]` (an unnamed counter; gpujit named it i), `for i in range(n):` over
   range(n), `j = torch.__derive_index(_3, 2, 1)` over range(2, n) (gpujit printed
   `torch.add(2, torch.mul(_1, 1))` and made range(n) max(n, 0) iterations), and `return
   _0`, the list appended to (gpujit returned a copy, `torch.list(_0)`). Left: torch
   spells the append `_2 = torch.append(_0, x)` where gpujit prints `_0.append(x)`, and
   a dict's `torch._set_item(_0, k, v)` as `_0[k] = v` (gpujit's .code printer spells
   every container mutation so).

9. A module attribute's declared type (a class annotation, torch.jit.Attribute) converts
   its value as TorchScript's toIValue: `x: float` holding 1 or True is 1.0, `x: int`
   holding True 1, List[float] / Tuple[float, int] / Dict[str, float] / Optional[float]
   element by element ([1, 2] is [1.0, 2.0]); another kind of plain value is refused
   when scripting: "Could not cast attribute 'x' to type int: Unable to cast Python
   instance of type <class 'float'> to C++ type '?' (#define
   PYBIND11_DETAILED_ERROR_MESSAGES or compile in debug mode for details)", a Tensor's
   "Unable to cast 1 to Tensor" (torch 2.13). gpujit kept the value as it was (an int
   in a float attribute, a str in an int one).

10. x.grad is a Tensor in TorchScript (prim::grad(Tensor a) -> Tensor(*)): `x.grad is
    None` is False when compiling (the `if` branch is not even compiled), `x.grad` is None
    at run time where there is no gradient, `x.grad.sum()` compiles. gpujit typed it
    Optional[Tensor] (True for `is None`, `.sum()` refused). Now typed Tensor as torch's,
    but `x.grad is None` is tested when it runs (lead, session 39): torch's folding gives
    scripted code another answer than eager (`if g is not None: g.sum()` fails on the
    None), and gpujit keeps eager's (test_tensor_attributes' autograd_state).

11. `d is torch.device("cpu")` compares values (a device is no pointer in an IValue;
    gpujit refused `is` on devices); `o.v is not None` of an object's NoneType
    attribute decides the `if` when compiling (gpujit compiled the dead branch and
    refused `o.v + 1`); a bool in a tuple or list constant prints True / False
    (`prim::Constant[value=(False, True)]`, gpujit wrote (0, 1)); names in
    __constants__ that are a submodule, buffer or parameter, or never set, warn as
    torch 2.13 ("'k' was found in ScriptModule constants,  but it is a non-constant
    submodule. Consider removing it." / "... but was not actually set in __init__.").

12. .code of fork / wait: `def __forked_function():` (then __forked_function0 ...) and
    `torch.wait(fut)` (gpujit: `_block`, `torch.jit.wait`); a called function's
    qualified name too long to inline is named once at the top of the function or the
    closure, TorchScript's pooled function constant (`_0 = __torch__.mod.helper`, then
    `_0(x, 2, )`; gpujit inlined it and split the call out).

13. .code: a tuple literal assigned to names binds its own values (`a, b = x + 1, x * 2`
    prints `a = torch.add(x, 1)` / `b = torch.mul(x, 2)`; the tutorial's MyRNNLoop is
    torch's text now), a subscripted expression is parenthesized (`(torch.size(x))[0]`,
    `(d["a"])[0]`, `([1, 2, 3])[i]`); ScriptFunction.qualified_name exists
    (`__torch__.<module>.<name>`).

14. `x[:, 1] += 1` on a Tensor is the in-place op on the view alone (torch 2.13:
    `torch.add_(torch.select(torch.slice(x), 1, 1), 1)`); gpujit also copied the result
    back (`torch.copy_(...)`). An indexing that copies (x[idx] += 1) still index_put_s.
"""
import re
from typing import Dict, Final, List, NamedTuple, Optional, Tuple

import pytest

import gpujit as torch
from gpujit.frontend.script.errors import FrontendError


# ---------------------------------------------------------------- 1. int lists for float[]
class _IF(NamedTuple):
    a: int
    b: float


class _II(NamedTuple):
    a: int
    b: int


def _eq_int_float_lists():
    return [1] == [1.0]


def _ne_int_float_lists():
    return [1] != [1.0]


def _eq_mixed_tuples():
    return (1, 2.0) == (1, 2.0)


def _eq_mixed_namedtuples():
    return _IF(1, 2.0) == _IF(1, 2.0)


def _eq_mixed_tuple_arg(a: Tuple[int, float]):
    return a == a


@pytest.mark.parametrize("fn", [_eq_int_float_lists, _ne_int_float_lists, _eq_mixed_tuples,
                                _eq_mixed_namedtuples, _eq_mixed_tuple_arg])
def test_int_list_is_no_float_list(fn):
    with pytest.raises(RuntimeError, match="Arguments for call are not valid") as e:
        torch.jit.script(fn)
    msg = str(e.value)
    assert "return" in msg and ("==" in msg or "!=" in msg)      # the user's line
    assert re.search(r"\b(eq|ne)\b", msg)


def _eq_int_tuples():
    return (1, 2) == (1, 2), _II(1, 2) == _II(1, 2), (1.0,) == (1.0,), [1] == (1,), \
        [1.0] == [1.0], (True,) == (True,)


def test_homogeneous_tuples_compare_as_lists():
    assert torch.jit.script(_eq_int_tuples)() == (True, True, True, True, True, True)


# ---------------------------------------------------------------- 2. refinement after exits
def _refine_after_continue(xs: List[Optional[int]]):
    s = 0
    for x in xs:
        if x is None:
            continue
        s += x
    return s


def _refine_after_break(x: Optional[int]):
    while True:
        if x is None:
            break
        return x + 1
    return 0


def _refine_after_else_continue(x: Optional[int]):
    for i in range(1):
        if x is not None:
            pass
        else:
            continue
        return x + 1
    return 0


def _refine_after_elif_continue(x: Optional[int], c: bool):
    while True:
        if x is None:
            break
        x = x + 1
        return x
    return 0


@pytest.mark.parametrize("fn", [_refine_after_continue, _refine_after_break,
                                _refine_after_else_continue, _refine_after_elif_continue])
def test_no_refinement_after_continue_or_break(fn):
    with pytest.raises(FrontendError, match="Arguments for call are not valid") as e:
        torch.jit.script(fn)
    assert "Optional[int]" in str(e.value) and "x" in str(e.value)


def _refine_after_return(x: Optional[int]):
    if x is None:
        return 0
    return x + 1


def _refine_after_nested_returns(x: Optional[int], c: bool):
    if x is None:
        if c:
            return 1
        else:
            return 2
    return x + 1


def _refine_after_raise_in_loop(x: Optional[int]):
    for i in range(1):
        if x is None:
            raise ValueError("a")
        return x + 1
    return 0


def _refine_after_return_with_continue(x: Optional[int], c: bool):
    for i in range(2):
        if x is None:
            return 0
        elif c:
            continue
        return x + 1
    return 1


def _refine_inside_continue_branch(xs: List[Optional[int]]):
    s = 0
    for x in xs:
        if x is not None:
            s += x
            continue
        s -= 1
    return s


def _refine_after_return_in_with(x: Optional[int]):
    if x is None:
        with torch.no_grad():
            return 1
    return x + 1


def test_refinement_after_return_or_raise_still_holds():
    assert torch.jit.script(_refine_after_return)(1) == 2
    assert torch.jit.script(_refine_after_return)(None) == 0
    assert torch.jit.script(_refine_after_nested_returns)(1, True) == 2
    assert torch.jit.script(_refine_after_raise_in_loop)(1) == 2
    assert torch.jit.script(_refine_after_return_with_continue)(1, False) == 2
    assert torch.jit.script(_refine_after_return_with_continue)(1, True) == 1
    assert torch.jit.script(_refine_inside_continue_branch)([1, None, 2]) == 2
    assert torch.jit.script(_refine_after_return_in_with)(1) == 2


# ---------------------------------------------------------------- 3. hasattr
def _hasattr_tensor(x: torch.Tensor):
    return hasattr(x, "shape")


def _hasattr_int(x: int):
    return hasattr(x, "real")


def _hasattr_list(x: List[int]):
    return hasattr(x, "append")


def _hasattr_optional(x: Optional[torch.Tensor]):
    return hasattr(x, "shape")


def _hasattr_tuple(x: Tuple[int, int]):
    return hasattr(x, "count")


class _NT(NamedTuple):
    a: int


def _hasattr_namedtuple(p: _NT):
    return hasattr(p, "a"), hasattr(p, "b")


@pytest.mark.parametrize("fn,got", [(_hasattr_tensor, "Tensor"), (_hasattr_int, "int"),
                                    (_hasattr_list, "List[int]"),
                                    (_hasattr_optional, "Optional[Tensor]")])
def test_hasattr_of_a_value_is_refused(fn, got):
    with pytest.raises(FrontendError, match=f"hasattr's first argument must be an object or "
                       f"NamedTuple, got {re.escape(got)} instead") as e:
        torch.jit.script(fn)
    assert "return hasattr(x, " in str(e.value)


def test_hasattr_of_tuples():
    with pytest.raises(FrontendError, match=re.escape(
            "hasattr's first argument must be a object or NamedTuple, but got a normal "
            "Tuple Tuple[int, int] instead")):
        torch.jit.script(_hasattr_tuple)
    assert torch.jit.script(_hasattr_namedtuple)(_NT(1)) == (True, False)


# ---------------------------------------------------------------- 4. starred unpacking
def _star_tuples():
    a, (b, *c), *d = 1, (2, 3, 4), 5, 6
    p, *q = (1,)
    return a, b, c, d, p, q


def _star_typed(t: Tuple[int, str, float]):
    p, *q, r = t
    return p, q, r


def _star_list(xs: List[int]):
    first, *rest = xs
    return first


def _star_shape(x: torch.Tensor):
    n, *dims = x.shape
    return n


def _star_alone(x: torch.Tensor):
    a = (x, x)
    *b, = a
    return b


def test_starred_name_is_a_tuple():
    assert torch.jit.script(_star_tuples)() == (1, 2, (3, 4), (5, 6), 1, ())
    assert torch.jit.script(_star_typed)((1, "a", 2.0)) == (1, ("a",), 2.0)


@pytest.mark.parametrize("fn,words", [
    (_star_list, "cannot statically infer the expected size of a list in this context"),
    (_star_shape, "cannot statically infer the expected size of a list in this context"),
    (_star_alone, "A Starred expression may only appear on the lhs within the presence of "
                  "another non-starred expression")])
def test_starred_unpacking_refusals(fn, words):
    with pytest.raises(FrontendError, match=words) as e:
        torch.jit.script(fn)
    assert ", = " in str(e.value) or "*" in str(e.value)


# ---------------------------------------------------------------- 5. Final
def _final_bare(x: int):
    y: Final = 3
    return x + y


def _final_int(x: int):
    y: Final[int] = 3
    return x + y


def _final_annotate(x: int):
    return torch.jit.annotate(Final[int], x)


class _FinalAttr:
    def __init__(self, a: int):
        self.a: Final[int] = a


def _final_class(x: int):
    return _FinalAttr(x).a


@pytest.mark.parametrize("fn,words", [
    (_final_bare, "Unknown type name 'Final'"), (_final_int, "Unknown type constructor Final"),
    (_final_annotate, "Unknown type constructor Final"),
    (_final_class, "Unknown type constructor Final")])
def test_final_in_scripted_code_is_refused(fn, words):
    with pytest.raises(FrontendError, match=words):
        torch.jit.script(fn)


# ---------------------------------------------------------------- 6. print's result
def _print_returned(x: int):
    return print(x)


def _print_in_list(x: int):
    return [print(x)]


def _print_as_condition(x: int):
    if print(x):
        return 1
    return 0


def _print_is_none(x: int):
    return print(x) is None


def _print_name_returned(x: int):
    y = print(x)
    return y


def _print_names(x: int):
    y = print(x)
    z = y
    print(x)
    return x + 1


@pytest.mark.parametrize("fn", [_print_returned, _print_in_list, _print_as_condition,
                                _print_is_none, _print_name_returned])
def test_print_result_is_no_value(fn):
    with pytest.raises(FrontendError, match="None cannot be used as a value"):
        torch.jit.script(fn)


def test_print_result_held_by_names(capfd):
    assert torch.jit.script(_print_names)(4) == 5
    assert capfd.readouterr().out == "4\n4\n"


# ---------------------------------------------------------------- 7. unsupported builtins
def _dir(x: int):
    return dir()


def _iter(xs: List[int]):
    return iter(xs)


@pytest.mark.parametrize("fn,name", [(_dir, "dir"), (_iter, "iter")])
def test_unsupported_builtin_in_torch_words(fn, name):
    with pytest.raises(FrontendError, match=f"Python builtin <built-in function {name}> is "
                       f"currently not supported in Torchscript"):
        torch.jit.script(fn)


# ---------------------------------------------------------------- 8. comprehension .code
def _comp_list(xs: List[int]):
    return [x * 2 for x in xs]


def _comp_range(x: torch.Tensor, n: int):
    return [x + i for i in range(n)], [x + j for j in range(2, n)]


def _comp_values(n: int):
    return [i for i in range(n)], [i for i in range(5, n)], [i for i in range(n, -3, -1)]


def test_comprehension_code_is_torchs_loop():
    code = torch.jit.script(_comp_list).code
    # torch 2.13 (but for the append, which it spells `_2 = torch.append(_0, ...)`)
    assert code.startswith("def _comp_list(xs: List[int]) -> List[int]:\n"
                           "  _0 = annotate(List[int], [])\n"
                           "  for _1 in range(torch.len(xs)):\n"
                           "    x = xs[_1]\n"), code
    assert code.endswith("  return _0\n"), code
    assert "torch.list" not in code
    code = torch.jit.script(_comp_range).code
    assert "  for i in range(n):\n" in code, code
    # (torch 2.13 numbers it _3: its appends' outputs take _1, _2)
    assert re.search(r"  for (_\d+) in range\(torch.__range_length\(2, n, 1\)\):\n"
                     r"    j = torch.__derive_index\(\1, 2, 1\)\n", code), code


@pytest.mark.parametrize("n,want", [
    (-2, ([], [], [-2])), (0, ([], [], [0, -1, -2])),
    (3, ([0, 1, 2], [], [3, 2, 1, 0, -1, -2])), (7, (list(range(7)), [5, 6], list(range(7, -3, -1))))])
def test_comprehension_over_ranges(n, want):
    assert torch.jit.script(_comp_values)(n) == want


# ---------------------------------------------------------------- 9. declared attribute types
class _Declared(torch.nn.Module):
    f: float
    i: int
    fl: List[float]
    of: Optional[float]
    tf: Tuple[float, int]
    df: Dict[str, float]

    def __init__(self, f, i=1):
        super().__init__()
        self.f, self.i, self.fl, self.of, self.tf, self.df = f, i, [1, 2], 2, (1, 2), {"a": 1}

    def forward(self):
        return self.f, self.i, self.fl, self.of, self.tf, self.df


class _DeclaredTensor(torch.nn.Module):
    t: torch.Tensor

    def __init__(self):
        super().__init__()
        self.t = 1

    def forward(self):
        return self.t


class _ByAttribute(torch.nn.Module):
    def __init__(self, v, t):
        super().__init__()
        self.x = torch.jit.Attribute(v, t)

    def forward(self):
        return self.x


def test_declared_attribute_types_convert_values():
    got = torch.jit.script(_Declared(1, True))()
    assert got == (1.0, 1, [1.0, 2.0], 2.0, (1.0, 2), {"a": 1.0})
    assert [type(v) for v in got[:4]] == [float, int, list, float]
    assert type(got[2][0]) is float and type(got[4][0]) is float
    assert type(got[5]["a"]) is float
    sm = torch.jit.script(_Declared(True))
    assert sm.f == 1.0 and type(sm.f) is float
    got = torch.jit.script(_ByAttribute(1, float))()
    assert got == 1.0 and type(got) is float


@pytest.mark.parametrize("make,words", [
    (lambda: _Declared("a"), "Could not cast attribute 'f' to type float: Unable to cast "
                             "Python instance of type <class 'str'> to C++ type '?'"),
    (lambda: _Declared(1.0, 1.5), "Could not cast attribute 'i' to type int: Unable to "
                                  "cast Python instance of type <class 'float'>"),
    (lambda: _DeclaredTensor(), "Could not cast attribute 't' to type Tensor: Unable to "
                                "cast 1 to Tensor"),
    (lambda: _ByAttribute("a", int), "Could not cast attribute 'x' to type int")])
def test_declared_attribute_types_refuse_other_values(make, words):
    with pytest.raises(RuntimeError, match=re.escape(words)):
        torch.jit.script(make())


# ---------------------------------------------------------------- 10. x.grad is a Tensor
def _grad_is_none(x: torch.Tensor):
    return x.grad is None, x.grad is not None


def _grad_branch(x: torch.Tensor):
    if x.grad is None:
        return 1
    return 2


def _grad_value(x: torch.Tensor):
    return x.grad


def _grad_list(x: torch.Tensor):
    return [x.grad, x]


def _grad_used(x: torch.Tensor):
    return x.grad.sum()


def test_grad_is_a_tensor():
    # torch 2.13: prim::grad(Tensor a) -> Tensor(*); it folds `is None` of it to False (answers (False, True)
    # and 2 below); gpujit tests it when it runs, as eagerly: (True, False) and 1 without a gradient
    sf = torch.jit.script(_grad_is_none)
    assert sf(torch.ones(2)) == (True, False)
    x = torch.ones(2, requires_grad=True)
    x.sum().backward()
    assert sf(x) == (False, True)
    assert "aten::__is__" in str(sf.graph)
    assert torch.jit.script(_grad_branch)(torch.ones(2)) == 1
    assert torch.jit.script(_grad_branch)(x) == 2
    assert torch.jit.script(_grad_value)(torch.ones(2)) is None
    lst = torch.jit.script(_grad_list)(torch.ones(2))
    assert lst[0] is None and lst[1].tolist() == [1.0, 1.0]
    assert "prim::grad" in str(torch.jit.script(_grad_used).graph)    # compiles


# ---------------------------------------------------------------- 11. small ones
def _device_is(a: torch.device):
    b = a
    return a is b, a is torch.device("cpu"), a is not torch.device("cpu")


def test_device_is_compares_values():
    # torch 2.13: a device is no pointer in an IValue; `is` compares its value
    assert torch.jit.script(_device_is)(torch.device("cpu")) == (True, True, False)


class _OptAttr:
    def __init__(self):
        self.v = None


def _none_attribute_test():
    o = _OptAttr()
    if o.v is not None:
        return o.v + 1          # never compiled: o.v is a NoneType (torch 2.13: 0)
    return 0


def test_is_none_of_an_objects_attribute_is_decided_by_its_type():
    assert torch.jit.script(_none_attribute_test)() == 0


def _bool_tuple_constant(x: torch.Tensor):
    return x is None, x is not None


def test_bool_tuple_constant_prints_true_false():
    # torch 2.13: %17 : (bool, bool) = prim::Constant[value=(False, True)]()
    g = str(torch.jit.script(_bool_tuple_constant).graph)
    assert "(bool, bool) = prim::Constant[value=(False, True)]()" in g, g


class _BadConstants(torch.nn.Module):
    __constants__ = ["k", "b", "w", "sub"]

    def __init__(self):
        super().__init__()
        self.register_buffer("b", torch.ones(1))
        self.w = torch.nn.Parameter(torch.ones(1))
        self.sub = torch.nn.Linear(1, 1)

    def forward(self, x: int):
        return x


def test_constants_that_are_no_constants_warn():
    # torch 2.13's words (the double space is theirs)
    with pytest.warns(UserWarning) as rec:
        assert torch.jit.script(_BadConstants())(1) == 1
    said = {str(w.message) for w in rec}
    for name, hint in (("b", "buffer"), ("w", "parameter"), ("sub", "submodule")):
        assert f"'{name}' was found in ScriptModule constants,  but it is a non-constant " \
               f"{hint}. Consider removing it." in said, said
    assert "'k' was found in ScriptModule constants, but was not actually set in " \
           "__init__. Consider removing it." in said, said


# ---------------------------------------------------------------- 12. fork in .code
def _forked_work(x: torch.Tensor, n: int) -> torch.Tensor:
    return x * n


def _two_forks(x: torch.Tensor):
    fut = torch.jit.fork(_forked_work, x, 2)
    fut2 = torch.jit.fork(torch.neg, x)
    return torch.jit.wait(fut) + fut2.wait()


def test_fork_code_is_torchs():
    sf = torch.jit.script(_two_forks)
    # torch 2.13's text
    assert sf.code == (
        "def _two_forks(x: Tensor) -> Tensor:\n"
        "  def __forked_function():\n"
        "    _0 = __torch__.test_script_lang_s39._forked_work\n"
        "    return _0(x, 2, )\n"
        "  fut = fork(__forked_function)\n"
        "  def __forked_function0():\n"
        "    return torch.neg(x)\n"
        "  fut2 = fork(__forked_function0)\n"
        "  _1 = torch.add(torch.wait(fut), torch.wait(fut2))\n"
        "  return _1\n"), sf.code
    assert sf(torch.ones(2)).tolist() == [1.0, 1.0]


def _long_calls(x: torch.Tensor, c: bool):
    y = x * 2
    if c:
        y = _forked_work(y, 2)
    return _forked_work(_forked_work(y, 3), 1)


def test_long_function_names_are_named_once():
    # torch 2.13: the pooled function constant, named at the top when too long to inline
    code = torch.jit.script(_long_calls).code
    assert code == (
        "def _long_calls(x: Tensor,\n"
        "    c: bool) -> Tensor:\n"
        "  _0 = __torch__.test_script_lang_s39._forked_work\n"
        "  y = torch.mul(x, 2)\n"
        "  if c:\n"
        "    y0 = _0(y, 2, )\n"
        "  else:\n"
        "    y0 = y\n"
        "  return _0(_0(y0, 3, ), 1, )\n"), code
    assert torch.jit.script(_long_calls)(torch.ones(1), True).tolist() == [12.0]


# ---------------------------------------------------------------- 13. more .code text
def _tuple_literal_names(x: torch.Tensor):
    a, b = x + 1, x * 2
    return a, b


def _subscripts(i: int, s: str, d: Dict[str, List[int]], x: torch.Tensor):
    return [1, 2, 3][i], s[i], d["a"][0], s.upper()[0], x.shape[0]


def test_code_names_tuple_literal_targets_and_parenthesizes_subscripts():
    # torch 2.13's text
    assert torch.jit.script(_tuple_literal_names).code == (
        "def _tuple_literal_names(x: Tensor) -> Tuple[Tensor, Tensor]:\n"
        "  a = torch.add(x, 1)\n"
        "  b = torch.mul(x, 2)\n"
        "  return (a, b)\n")
    code = torch.jit.script(_subscripts).code
    assert code.endswith(
        "  _0 = (([1, 2, 3])[i], s[i], (d[\"a\"])[0], (torch.upper(s))[0], "
        "(torch.size(x))[0])\n  return _0\n"), code


class _Cell(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


class _RNNLoop(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = torch.jit.trace(_Cell(), (torch.rand(3, 4), torch.rand(3, 4)))

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


def test_tutorial_rnn_loop_code():
    # the TorchScript tutorial's MyRNNLoop, torch 2.13's text
    assert torch.jit.script(_RNNLoop()).code == (
        "def forward(self,\n"
        "    xs: Tensor) -> Tuple[Tensor, Tensor]:\n"
        "  h = torch.zeros([3, 4])\n"
        "  y = torch.zeros([3, 4])\n"
        "  y0 = y\n"
        "  h0 = h\n"
        "  for i in range(torch.size(xs, 0)):\n"
        "    cell = self.cell\n"
        "    _0 = (cell).forward(torch.select(xs, 0, i), h0, )\n"
        "    y1, h1, = _0\n"
        "    y0, h0 = y1, h1\n"
        "  return (y0, h0)\n")


def test_script_function_qualified_name():
    assert torch.jit.script(_tuple_literal_names).qualified_name == \
        "__torch__.test_script_lang_s39._tuple_literal_names"


def _aug_views(x: torch.Tensor):
    x[:, 1] += 1
    x[0] *= 2
    return x


def _aug_index(x: torch.Tensor, idx: torch.Tensor):
    x[idx] += 10
    return x


def test_augmented_assignment_through_a_view_copies_nothing_back():
    # torch 2.13's text: the in-place ops on the views alone
    sf = torch.jit.script(_aug_views)
    assert sf.code == (
        "def _aug_views(x: Tensor) -> Tensor:\n"
        "  _0 = torch.add_(torch.select(torch.slice(x), 1, 1), 1)\n"
        "  _1 = torch.mul_(torch.select(x, 0, 0), 2)\n"
        "  return x\n"), sf.code
    assert sf(torch.zeros(2, 3)).tolist() == [[0.0, 2.0, 0.0], [0.0, 1.0, 0.0]]
    # an index that copies is written back (index_put_)
    got = torch.jit.script(_aug_index)(torch.zeros(3), torch.tensor([0, 2]))
    assert got.tolist() == [10.0, 0.0, 10.0]

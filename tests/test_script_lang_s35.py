"""TorchScript language against torch.jit.script 2.13 (session 35, helper b35): small
programs run under `import torch` and `import gpujit as torch`; torch's answers are
written out here.

Finds, minimised:

1. `a and b` / `a or b` of two operands of one non-bool type (int, float, str, List,
   Tensor): torch 2.13 gives a bool, bool(a) and bool(b) short-circuited (`3 and 5` is
   True, `0 or 5` True, `'' and 'x'` False; the graph's type is bool); gpujit gave
   Python's operand (5, 5, '').  `n = n or 7` rebinds n to a bool.

2. A condition (`if x:`, `not x`, an and/or operand) of an Optional, None or a tuple:
   torch 2.13 refuses it, "Could not cast value of type Optional[int] to bool"
   (NoneType, Tuple[int, int], Optional[Tensor], Device); gpujit took None as False and a
   tuple as its length, and said "an Optional[int] cannot be used as a condition".

3. TorchScript's implicit conversions of a returned value and of a scripted function's
   arguments (tryConvertToType): `def f(b: bool) -> int: return b` returns 1 (-> float:
   1.0), a Tensor returned for an int / float is its aten::IntImplicit / FloatImplicit,
   a tuple converts element by element (`-> Tuple[int, float]: return b, b` is (1, 1.0)),
   a tuple of one element type for a List (`-> List[int]: return (a, b)`), an Optional[X]
   as X; `g(flag)` / `g(t)` of a scripted `g(x: int)` pass 1 / int(t).  gpujit refused
   them all ("Return value was annotated as having type int but is actually of type
   bool").  An int is still no float (torch refuses `gf(n)` for `gf(x: float)`), and an
   annotated assignment `x: int = flag` is still refused.

4. str.format is TorchScript's aten::format: only `{}` fields, left to right, are
   replaced; `{:>5}`, `{0}{0}` and `{{}}` stay as they are ('{:>5}'.format(3) is
   '{:>5}'; '{{}}{}'.format('q') raises "Too few arguments for format string:
   {{}}{}"), extra arguments are unused, and keyword arguments are refused ("Keyword
   argument name unknown"); gpujit used Python's str.format ('    3', '33', '{}q').
   f-strings: a format spec or a conversion (`f"{x:>5}"`, `f"{x!r}"`) is refused,
   NotSupportedError "Don't support formatting in JoinedStr" / "Don't support conversion
   in JoinedStr"; gpujit formatted them as Python.  `"%5d" % x`, `"%.2f"`, `%g`, `%x`:
   torch 2.13 raises "The specifier %5 is not supported in TorchScript format strings"
   (%d %i %e %E %f %F %c %s, %%); gpujit formatted them as Python.

5. A global or closed-over variable that is a value (int, float, bool, str, tuple, list,
   dict, Tensor, dtype, device) named in scripted code: torch 2.13 refuses it, "python
   value of type 'int' cannot be used as a value. Perhaps it is a closed over global
   variable? If so, please consider passing it in as an argument or use a local variable
   instead." (a global None: "undefined value GN"); gpujit compiled its value in.
   Functions, classes, enums, module attributes (`math.pi`) and math.inf itself stay.

6. An object of a script class passed from Python into scripted code is converted into a
   new object (its attributes copied, as lists are): `o1(a)` with `def o1(a: Acc) -> Acc:
   a.add(5); return a` returns a new Acc (n 6, items [5]) and leaves a.n == 1, a.items ==
   []; gpujit shared the caller's object.

7. `e = ValueError("bad", x); raise e`: torch 2.13 compiles it (the message "(bad, 2)":
   several arguments are written as a tuple, as in `raise ValueError("a", x)`); gpujit
   refused ("the builtin 'ValueError' is not supported") and wrote "bad, 2".  Using e as
   a value: "exception message cannot be used as a value".

8. `round(x, 1)` of a float: torch 2.13 refuses it ("Arguments for call are not valid":
   TorchScript has no round(float, int)); gpujit had an aten::round.float_ndigits of its
   own.

9. `__init__` annotations: TorchScript types an attribute by its value, the annotation
   being the value's type hint only.  Script classes: `self.x: float = n` (an int n) is
   an int attribute, `self.best: Optional[int] = None` a NoneType one (`self.best = v`
   later: "Wrong type for attribute assignment. Expected NoneType but got int"), and
   `self.x = None` is a NoneType attribute; gpujit refused the first ("annotated with
   type float ... int") and the last ("assigned None, so its type is unknown") and
   accepted the second's assignment.  Modules: `self.t: Optional[Tensor] = None` is None,
   so `if self.t is not None: return y + self.t` compiles (the branch is dropped);
   gpujit kept Optional[Tensor] and refused `y + self.t`.  `self.xs: List[float] = [1, 2]`
   is a List[int].  (An empty list or dict keeps its annotation in gpujit, beyond
   TorchScript, as tests/test_jit_lang_port_b.py chose.)

10. A class whose attribute holds the class itself: torch 2.13's words, "Assignment to
    attribute 'children' cannot be of a type that contains class ... Classes that
    recursively contain instances of themselves are not yet supported".

11. A bool used as a list or str index or slice bound (`[a, b][a > b]`, `xs[flag] = 7`,
    `xs[flag:]`): torch 2.13 converts it to an int (its schema matching's implicit
    bool -> int); gpujit refused ("list indices must be ints, got a bool").

12. `y = None` and then `y = x` (an int) in an if branch or a loop body: torch 2.13
    refuses it, "Variable 'y' previously had type NoneType but is now being assigned to a
    value of type int" (annotate `y: Optional[int] = None`); gpujit made y an
    Optional[int].

13. str.isidentifier: TorchScript's is Python 2's (it warns so): not empty, no leading
    digit, every byte an ASCII letter or digit; '_a', 'a_b', '_' and 'é' are False in
    torch 2.13, True in Python (and gpujit).

14. `enumerate(xs, start=2)` (start by keyword, also over a ModuleList): torch 2.13
    compiles it (aten::enumerate's start); gpujit refused ("enumerate() takes no keyword
    argument 'start' here").
"""
import math
from math import inf
from typing import List, Optional, Tuple

import pytest

import gpujit as torch
from gpujit.frontend.script import FrontendError
from gpujit.jit.frontend import NotSupportedError


def _err(fn, cls=RuntimeError):
    with pytest.raises(cls) as ei:
        torch.jit.script(fn)
    return str(ei.value)


# ------------------------------------------------------------------ 1. and / or

def ao_int(a: int, b: int):
    return a and b, a or b


def ao_float(a: float, b: float):
    return a and b, a or b


def ao_str(a: str, b: str):
    return a and b, a or b


def ao_list(a: List[int], b: List[int]):
    return a and b, a or b


def ao_tensor(a: torch.Tensor, b: torch.Tensor):
    return a and b, a or b


def ao_three(a: int, b: int, c: int):
    return a and b and c, a or b or c, a and b or c


def rebind_or(n: int):
    n = n or 7
    return n


@pytest.mark.parametrize("fn,args,want", [
    (ao_int, (3, 5), (True, True)), (ao_int, (0, 5), (False, True)),
    (ao_float, (0.0, 2.5), (False, True)), (ao_str, ("", "x"), (False, True)),
    (ao_str, ("a", "b"), (True, True)), (ao_list, ([], [1]), (False, True)),
    (ao_three, (1, 2, 3), (True, True, True)), (ao_three, (0, 0, 5), (False, True, True)),
    (ao_three, (1, 0, 0), (False, True, False)),
])
def test_and_or_give_bools(fn, args, want):
    f = torch.jit.script(fn)
    got = f(*args)
    assert got == want and all(type(g) is bool for g in got), got
    assert "bool" in str(f.graph.outputs[0].type), f.graph


def test_and_or_of_tensors_and_rebinding():
    f = torch.jit.script(ao_tensor)
    assert f(torch.tensor(2.0), torch.tensor(0.0)) == (False, True)
    g = torch.jit.script(rebind_or)
    assert g(0) is True and g(4) is True


# ------------------------------------------------------------------ 2. bool() refusals

def cond_optional(x: Optional[int]):
    if x:
        return 1
    return 0


def cond_tuple(x: Tuple[int, int]):
    if x:
        return 1
    return 0


def cond_none():
    x = None
    if x:
        return 1
    return 0


def and_optional(a: Optional[int], b: Optional[int]):
    return a and b


def not_optional_tensor(x: Optional[torch.Tensor]):
    return not x


@pytest.mark.parametrize("fn,typ", [
    (cond_optional, "Optional[int]"), (cond_tuple, "Tuple[int, int]"),
    (cond_none, "NoneType"), (and_optional, "Optional[int]"),
    (not_optional_tensor, "Optional[Tensor]"),
])
def test_bool_of_optional_none_tuple_is_refused(fn, typ):
    msg = _err(fn)
    assert f"Could not cast value of type {typ} to bool" in msg and "<--- HERE" in msg, msg


# ------------------------------------------------------------------ 3. implicit conversions

def ret_bool_int(b: bool) -> int:
    return b


def ret_bool_float(b: bool) -> float:
    return b


def ret_tensor_int(x: torch.Tensor) -> int:
    return x


def ret_tensor_opt_float(x: torch.Tensor) -> Optional[float]:
    return x


def ret_tuple_elems(b: bool) -> Tuple[int, float]:
    return b, b


def ret_tuple_as_list(a: int, b: int) -> List[int]:
    return (a, b)


def ret_bool_opt_int(b: bool) -> Optional[int]:
    return b


def ret_int_float(x: int) -> float:
    return x


def ann_bool_int(b: bool):
    x: int = b
    return x


@torch.jit.script
def takes_int(x: int) -> int:
    return x + 1


@torch.jit.script
def takes_float(x: float) -> float:
    return x + 1


def call_bool(b: bool):
    return takes_int(b)


def call_tensor(t: torch.Tensor):
    return takes_int(t)


def call_int_for_float(n: int):
    return takes_float(n)


def test_implicit_conversions_of_returns_and_arguments():
    cases = [(ret_bool_int, (True,), 1), (ret_bool_float, (True,), 1.0),
             (ret_tensor_int, (torch.tensor(3),), 3),
             (ret_tensor_opt_float, (torch.tensor(2.0),), 2.0),
             (ret_tuple_elems, (True,), (1, 1.0)), (ret_tuple_as_list, (1, 2), [1, 2]),
             (ret_bool_opt_int, (True,), 1), (call_bool, (True,), 2),
             (call_tensor, (torch.tensor(3),), 4)]
    for fn, args, want in cases:
        got = torch.jit.script(fn)(*args)
        assert got == want and type(got) is type(want), (fn.__name__, got)
        if isinstance(want, tuple):
            assert [type(g) for g in got] == [type(w) for w in want]


def test_no_int_to_float_and_no_conversion_in_annotated_assignment():
    msg = _err(ret_int_float)
    assert "Return value was annotated as having type float but is actually of type " \
        "int" in msg, msg
    msg = _err(ann_bool_int)
    assert "Variable 'x' is annotated with type int but is being assigned to a value of " \
        "type bool" in msg, msg
    msg = _err(call_int_for_float)
    assert "Expected a value of type 'float' for argument 'x' but instead found type " \
        "'int'" in msg, msg


# ------------------------------------------------------------------ 4. format

def fmt_spec(x: int):
    return "{:>5}".format(x)


def fmt_index(x: int):
    return "{0}{0}".format(x)


def fmt_extra(x: int):
    fmt = "a{}b{}c"         # (a variable: pyflakes flags the literal's unused argument)
    return fmt.format(x, "s", 3)


def fmt_escaped(x: str):
    return "{{}}{}".format(x)


def fmt_keyword(x: int):
    return "{name}".format(name=x)


def fstr_spec(x: int):
    return f"{x:>5}"


def fstr_conversion(x: float):
    return f"{x}|{x!r}"


def fstr_braces(x: int):
    return f"{{a}} {x}"


def pct_width(x: int):
    return "%5d" % x


def pct_precision(x: float):
    return "%.2f" % x


def pct_g(x: float):
    return "%e|%g" % (x, x)


def pct_ok(x: float, s: str):
    return "%d %i %f %e %s %c %% %E %F" % (x, 7, x, x, s, 65, x, x)


def test_format_replaces_only_empty_fields():
    assert torch.jit.script(fmt_spec)(3) == "{:>5}"
    assert torch.jit.script(fmt_index)(3) == "{0}{0}"
    assert torch.jit.script(fmt_extra)(1) == "a1bsc"
    assert torch.jit.script(fstr_braces)(1) == "{a} 1"
    with pytest.raises(RuntimeError, match=r"Too few arguments for format string: "
                                           r"\{\{\}\}\{\}"):
        torch.jit.script(fmt_escaped)("q")
    msg = _err(fmt_keyword)
    assert "Keyword argument name unknown" in msg and "aten::format" in msg, msg


def test_fstring_spec_and_conversion_are_not_supported():
    assert "Don't support formatting in JoinedStr" in _err(fstr_spec, NotSupportedError)
    assert "Don't support conversion in JoinedStr" in _err(fstr_conversion,
                                                           NotSupportedError)


def test_percent_format_takes_torchscripts_specifiers_only():
    for fn, arg, key in ((pct_width, 3, "5"), (pct_precision, 1.5, "."),
                         (pct_g, 1.5, "g")):
        with pytest.raises(RuntimeError, match=f"The specifier %{key} is not supported in "
                                               f"TorchScript format strings"):
            torch.jit.script(fn)(arg)
    assert torch.jit.script(pct_ok)(2.7, "s") == \
        "2 7 2.700000 2.700000e+00 s A % 2.700000E+00 2.700000"


# ------------------------------------------------------------------ 5. globals

GI = 3
GF = 2.5
GS = "hi"
GL = [1, 2]
GT = (1, 2)
GD = {"a": 1}
GTEN = torch.ones(2)
GB = True
GN = None
DT = torch.float32


def helper(x: int) -> int:
    return x + 1


def use_gi(x: int):
    return x + GI


def use_gf(x: float):
    return x + GF


def use_gs():
    return GS


def use_gl():
    return GL[0]


def use_gt():
    return len(GT)


def use_gd():
    return GD


def use_gten():
    return GTEN


def use_gb():
    return GB


def use_gn():
    return GN


def use_dt(x: torch.Tensor):
    return x.to(DT)


def use_fn_and_module(x: int):
    return helper(x) + math.pi


def make_closure():
    k = 5

    def inner(x: int):
        return x + k
    return inner


@pytest.mark.parametrize("fn,what", [
    (use_gi, "int"), (use_gf, "float"), (use_gs, "str"), (use_gl, "list"),
    (use_gt, "tuple"), (use_gd, "dict"), (use_gten, "Tensor"), (use_gb, "bool"),
    (use_dt, "dtype"), (make_closure(), "int"),
])
def test_global_values_are_refused(fn, what):
    msg = _err(fn)
    assert f"python value of type '{what}' cannot be used as a value. Perhaps it is a " \
        f"closed over global variable?" in msg and "<--- HERE" in msg, msg


def use_inf():
    return inf, -inf


def test_global_none_is_undefined_and_functions_modules_stay():
    assert "undefined value GN" in _err(use_gn)
    assert torch.jit.script(use_fn_and_module)(1) == 2 + math.pi
    # `inf` / `nan`: TorchScript's own names of the floats
    assert torch.jit.script(use_inf)() == (math.inf, -math.inf)


# ------------------------------------------------------------------ 6. objects copied in

@torch.jit.script
class Acc:
    def __init__(self, n: int):
        self.n = n
        self.items: List[int] = []

    def add(self, k: int):
        self.n += k
        self.items.append(k)


@torch.jit.script
def bump(a: Acc) -> Acc:
    a.add(5)
    return a


@torch.jit.script
def bump_all(xs: List[Acc]) -> int:
    for a in xs:
        a.add(1)
    return len(xs)


def test_objects_passed_in_are_converted_into_new_ones():
    a = Acc(1)
    b = bump(a)
    assert b is not a and (a.n, a.items, b.n, b.items) == (1, [], 6, [5])
    b.add(1)
    assert (a.n, b.n) == (1, 7)
    xs = [Acc(0)]
    assert bump_all(xs) == 1 and xs[0].n == 0


# ------------------------------------------------------------------ 7. raise e

def raise_var(x: int):
    e = ValueError("bad", x)
    if x > 0:
        raise e
    return x


def raise_var_loop(x: int):
    e = ValueError("q")
    for i in range(x):
        if i == 2:
            raise e
    return x


def exception_as_value(x: int):
    e = ValueError(f"v{x}")
    print(e)
    return x


def raise_two_args(x: int):
    raise ValueError("a", x)


def test_raise_of_an_exception_variable():
    f = torch.jit.script(raise_var)
    assert f(0) == 0
    with pytest.raises(ValueError, match=r"\(bad, 2\)"):
        f(2)
    g = torch.jit.script(raise_var_loop)
    assert g(1) == 1
    with pytest.raises(ValueError, match="q"):
        g(3)
    with pytest.raises(ValueError, match=r"\(a, 1\)"):
        torch.jit.script(raise_two_args)(1)
    assert "exception message cannot be used as a value" in _err(exception_as_value,
                                                                  FrontendError)


# ------------------------------------------------------------------ 8. round(x, n)

def round_ndigits(x: float):
    return round(x, 1)


def test_round_with_ndigits_is_refused():
    msg = _err(round_ndigits)
    assert "Arguments for call are not valid" in msg and "round" in msg, msg


# ------------------------------------------------------------------ 9. __init__ annotations

@torch.jit.script
class AnnFloat:
    def __init__(self, n: int):
        self.x: float = n
        self.none = None
        self.xs: List[int] = []


@torch.jit.script
class AnnOptional:
    def __init__(self):
        self.best: Optional[int] = None

    def get(self) -> int:
        b = self.best
        if b is None:
            return -1
        return b


def set_best(a: AnnOptional, v: int):
    a.best = v


class OptionalTensorAttr(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.t: Optional[torch.Tensor] = None
        self.xs: List[float] = [1, 2]

    def forward(self, y: torch.Tensor):
        if self.t is not None:
            return y + self.t, self.xs
        return y, self.xs


def test_init_annotations_type_hint_the_value_only():
    a = AnnFloat(1)
    assert a.x == 1 and type(a.x) is int and a.none is None and a.xs == []
    assert AnnOptional().get() == -1
    msg = _err(set_best)
    assert "Wrong type for attribute assignment. Expected NoneType but got int" in msg, msg
    m = torch.jit.script(OptionalTensorAttr())
    y, xs = m(torch.ones(1))
    assert y.tolist() == [1.0] and xs == [1, 2] and all(type(v) is int for v in xs)


# ------------------------------------------------------------------ 10. recursive classes

def test_recursive_class_uses_torchs_words():
    with pytest.raises(RuntimeError, match="Assignment to attribute 'children' cannot be of "
                       "a type that contains class(.|\\n)*Classes that recursively contain "
                       "instances of themselves are not yet supported"):
        @torch.jit.script
        class Tree:
            def __init__(self):
                self.children: List[Tree] = []


# ------------------------------------------------------------------ 11. bool indices

def bool_index(a: int, b: int, xs: List[int], s: str, flag: bool):
    xs[flag] = 7
    return [a, b][a > b], xs, xs[flag:], s[flag]


def test_bool_indices_are_ints():
    f = torch.jit.script(bool_index)
    assert f(1, 2, [1, 2, 3], "ab", True) == (1, [1, 7, 3], [7, 3], "b")
    assert f(3, 2, [1, 2], "ab", False) == (2, [7, 2], [7, 2], "a")


# ------------------------------------------------------------------ 12. None, then a value

def none_then_int_in_if(x: int):
    y = None
    if x > 0:
        y = x
    return y


def none_then_int_in_loop(x: int):
    y = None
    for i in range(x):
        y = i
    return y


def annotated_none_then_int(x: int):
    y: Optional[int] = None
    if x > 0:
        y = x
    return y


def none_or_int_in_branches(x: int):
    if x > 0:
        y = None
    else:
        y = x
    return y


@pytest.mark.parametrize("fn", [none_then_int_in_if, none_then_int_in_loop])
def test_a_none_variable_keeps_its_type(fn):
    msg = _err(fn)
    assert "Variable 'y' previously had type NoneType but is now being assigned to a " \
        "value of type int" in msg, msg


def test_annotated_or_branch_defined_optional_still_merge():
    assert torch.jit.script(annotated_none_then_int)(2) == 2
    f = torch.jit.script(none_or_int_in_branches)
    assert f(1) is None and f(-1) == -1


# ------------------------------------------------------------------ 13. isidentifier

def isidentifier(s: str) -> bool:
    return s.isidentifier()


def test_isidentifier_is_python_2s():
    f = torch.jit.script(isidentifier)
    want = {"a": True, "a1": True, "A": True, "_a": False, "a_b": False, "_": False,
            "1a": False, "": False, "a b": False, "\u00e9": False}
    assert {s: f(s) for s in want} == want


# ------------------------------------------------------------------ 14. enumerate(start=)

def enumerate_start(xs: List[int]):
    total = 0
    for i, x in enumerate(xs, start=2):
        total += i * x
    return total, [i for i, _ in enumerate(xs, start=5)]


class EnumerateLayers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Tanh()])

    def forward(self, x):
        out: List[int] = []
        for i, layer in enumerate(self.layers, start=1):
            x = layer(x)
            out.append(i)
        return out


def test_enumerate_start_keyword():
    assert torch.jit.script(enumerate_start)([1, 2]) == (8, [5, 6])
    assert torch.jit.script(EnumerateLayers())(torch.ones(1)) == [1, 2]


# ------------------------------------------------------------------ 5b. math.inf itself

NAN_GLOBAL = math.nan
INF_COPY = float("inf")


def use_nan_global():
    return NAN_GLOBAL


def use_inf_copy():
    return INF_COPY


def test_only_math_inf_itself_is_a_usable_global_float():
    # torch 2.13 takes a global that is math.inf itself (`from math import inf`), and
    # refuses math.nan or another inf float like any other float
    for fn in (use_nan_global, use_inf_copy):
        assert "python value of type 'float' cannot be used as a value" in _err(fn)

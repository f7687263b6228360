"""TorchScript language fuzzing against torch.jit.script 2.13 (session 34, helper b34):
several hundred small programs run under `import torch` and `import gpujit as torch`;
torch's answers are written out here.

Finds, minimised:

1. `s * n` of a str and an int: torch 2.13 refuses it at compile time ("Arguments for call
   are not valid" ... every aten::mul schema, `aten::mul.left_t(t[] l, int n)`: "Could
   not match type str to List[t]"); gpujit compiled it to Python's repetition ('ab' * 3 ==
   'ababab').  (`[1, 2] * n` stays: aten::mul.left_t.)

2. A decorated function calling itself, `@torch.jit.script def even(n): ... even(n - 1)`:
   the name is not bound yet while the decorator compiles it; torch 2.13 says "function
   'even' is called recursively. Recursive calls are not supported"; gpujit said
   "undefined name 'even'".  The recursion error of plain functions now starts with
   torch's words too.

3. `a, *b = x` of a tuple whose middle elements differ in type (x: Tuple[int, List[int],
   str]): torch 2.13 compiles it, b is the tuple ([2], 's'); gpujit refused ("a list holds
   one type").  (Where they share one type gpujit keeps Python's list, as before.)

4. `*args`, `**kw` and keyword-only parameters with defaults: torch 2.13 raises
   torch.jit.frontend.NotSupportedError ("Compiled functions can't take variable number
   of arguments or use keyword-only arguments with defaults"); gpujit's error had the
   words but was a plain FrontendError, not NotSupportedError.

5. A lambda called from scripted code (`sq = lambda x: x * x` called by f, or a module's
   `self.fn = lambda x: x` called in forward): torch 2.13 says "Expected a single
   top-level function: <file>:<line>"; gpujit crashed inside its own source reader
   ("internal error StopIteration").

6. `a is b` of two lists, two dicts or two objects of a script class: torch 2.13 compiles
   TorchScript's identity test (aten::__is__): `c = a; [a is b, a is c, a is not b]` is
   [False, True, True] for two equal lists; gpujit refused ("`is` / `is not` is supported
   for comparing with None only").

7. `p == q` of two NamedTuples (and `p == (1, 2)`): torch 2.13 matches them to
   aten::eq.int_list as it does plain tuples (P(1, 2) == P(1, 2) is True, != False);
   gpujit's schema matching excluded NamedTuples ("no variant of 'eq' accepts (P, P)").

8. A Python list or dict passed to a scripted function or method is converted into a new
   TorchScript List / Dict: `def f(a: List[int]) -> List[int]: a.append(1); return a`
   called with x = [0] returns [0, 1] and leaves x == [0] in torch 2.13 (nested lists,
   lists in tuples and dict values alike; the Tensors in them are shared); gpujit handed
   scripted code the caller's own list, so x became [0, 1].

9. A Tensor (any value but a bool, float, int, str, None, device, layout, dtype or a
   list / tuple of them) in `__constants__`: torch 2.13 raises TypeError when scripting,
   "'torch.Tensor' object in attribute 'M.t' is not a valid constant. Valid constants
   are: 1. a nn.ModuleList 2. a value of type {bool, float, int, str, NoneType, ...}";
   gpujit scripted the module and only failed where forward read it.  (An Enum member
   stays accepted, beyond TorchScript, as tests/test_jit_enum_port.py chose.)

10. `b //= 2` (and `@=`): torch 2.13's frontend refuses them, NotSupportedError
    "unsupported kind of augmented assignment: FloorDiv"; gpujit compiled them.

11. A @staticmethod of a module called as `self.st(x)` in forward: torch 2.13 calls it
    without self (`st(x) + M.st(x)` with x = 1 is 4); gpujit compiled it as a method, its
    first parameter the module ("no variant of 'add' accepts (M, int)").

12. A comprehension over a module container, `[l.out_features for l in self.layers]`,
    `{k: m(x) for k, m in self.d.items()}`, `[i for i, l in enumerate(self.layers)]`:
    torch 2.13 compiles them (unrolled, as a for loop over the container); gpujit refused
    ("a comprehension iterates over a list, tuple, ...; got a ModuleList").

13. Setting a scripted module's typed attribute from Python: torch 2.13 converts the value
    to the attribute's type or raises RuntimeError "Could not cast attribute 'x' to type
    int: Unable to cast Python instance of type <class 'str'> to C++ type '?' ..." (m.x =
    True reads back 1, a float attribute set to 2 reads 2.0, a List[int] set to (1, 2)
    reads [1, 2], m.l = ['a'] for a List[int] raises); gpujit stored any value, and
    forward returned the str.

14. `x: int` without a value: torch 2.13 raises UnsupportedNodeError "annotated
    assignments without assigned value aren't supported"; gpujit a plain FrontendError.

15. `assert x > 0, x` (a message that is not a str): torch 2.13 compiles it and raises
    with str(x) ("AssertionError: -1"); gpujit refused ("an assert message must be a
    str").  `assert False` as a function's last statement: torch 2.13 compiles
    `def f(x: int) -> int: assert False` (the path raises); gpujit refused ("declared to
    return an int but falls off its end").

16. `and` / `or` whose operands have two types: TorchScript's and/or always give a bool
    (bool of each operand): torch 2.13 compiles `a and b > 0` (a: int; 3, 5 -> True),
    `n or 1.5` (0 -> True), `flag and n` (True, 0 -> False), `s or n` ('', 0 -> False),
    `n > 0 and x` (a Tensor x: True); gpujit, which gives Python's operand where the
    operands share one type, refused these ("`and` gives one of its operands ..., and
    these differ in type").  (Where they share one type gpujit still gives Python's
    operand, `n or 7` is n, where torch gives a bool: left, see the session report.)

17. enumerate() / zip() of a Tensor: torch 2.13 iterates its rows as `for row in x` does
    (`for i, row in enumerate(torch.ones(2, 3))`: i + row.sum() gives [3, 4]; the rows
    are views, an in-place add through one changes x); gpujit refused ("enumerate()
    with (a Tensor) is not supported").

18. `{**x, 'b': 2}`: torch 2.13 raises NotSupportedError "Dict expansion (e.g.
    `{**dict}`) is not supported"; gpujit a plain FrontendError in other words.

19. An @ignore'd Python function called from scripted code gets Python copies of the
    scripted lists / dicts (TorchScript converts them): `py_mut(xs)` appending 99 leaves
    the scripted xs == [1] in torch 2.13; gpujit passed the list itself ([1, 99]).
"""
from typing import Dict, List, NamedTuple, Tuple

import pytest

import gpujit as torch
from gpujit.jit.frontend import NotSupportedError, UnsupportedNodeError


def _err(fn, cls=RuntimeError):
    with pytest.raises(cls) as ei:
        torch.jit.script(fn)
    return str(ei.value)


# ------------------------------------------------------------------ 1. str * int

def str_times_int(a: str, n: int) -> str:
    return a * n


def int_times_str(a: str, n: int) -> str:
    return n * a


def list_times_int(a: List[int], n: int) -> List[int]:
    return a * n + n * a


@pytest.mark.parametrize("fn", [str_times_int, int_times_str])
def test_str_times_int_is_refused(fn):
    msg = _err(fn)
    assert "Arguments for call are not valid" in msg and "mul" in msg, msg
    assert "<--- HERE" in msg and (" a * n" in msg or " n * a" in msg), msg


def test_list_times_int_still_repeats():
    assert torch.jit.script(list_times_int)([1, 2], 2) == [1, 2, 1, 2, 1, 2, 1, 2]


# ------------------------------------------------------------------ 2. recursion

def test_decorated_self_recursion_says_recursive():
    with pytest.raises(RuntimeError) as ei:
        @torch.jit.script
        def even(n: int) -> bool:
            if n == 0:
                return True
            return not even(n - 1)
    msg = str(ei.value)
    assert "function 'even' is called recursively. Recursive calls are not supported" \
        in msg, msg
    assert "return not even(n - 1)" in msg and "undefined" not in msg, msg


def fact(n: int) -> int:
    if n <= 1:
        return 1
    return n * fact(n - 1)


def test_plain_recursion_uses_torch_words():
    msg = _err(fact)
    assert "function 'fact' is called recursively. Recursive calls are not supported" \
        in msg, msg
    assert "return n * fact(n - 1)" in msg, msg


# ------------------------------------------------------------------ 3. starred tuple

def star_mixed(x: Tuple[int, List[int], str]):
    a, *b = x
    return a, b


def star_same(x: Tuple[int, int, int]):
    *a, b = x
    return a, b


def test_starred_unpack_of_a_mixed_tuple_is_a_tuple():
    # torch 2.13: (1, ([2], 's'))
    assert torch.jit.script(star_mixed)((1, [2], "s")) == (1, ([2], "s"))


def test_starred_unpack_of_one_type_is_a_tuple_too():
    # torch 2.13: ((1, 2), 3) (session 39: gpujit made a list, as Python)
    assert torch.jit.script(star_same)((1, 2, 3)) == ((1, 2), 3)


# ------------------------------------------------------------------ 4. varargs

def var_args(*args: int) -> int:
    return len(args)


def var_kw(x: int, **kw: int) -> int:
    return x


def kw_only_default(x: int, *, y: int = 2) -> int:
    return x + y


class VarArgsModule(torch.nn.Module):
    def forward(self, *args: torch.Tensor) -> int:
        return len(args)


@pytest.mark.parametrize("fn", [var_args, var_kw, kw_only_default, VarArgsModule()])
def test_varargs_raise_not_supported_error(fn):
    msg = _err(fn, NotSupportedError)
    assert "Compiled functions can't take variable number of arguments or use " \
           "keyword-only arguments with defaults" in msg, msg
    assert "<--- HERE" in msg, msg


# ------------------------------------------------------------------ 5. lambdas

sq = lambda x: x * x  # noqa: E731


def calls_lambda(x: int) -> int:
    return sq(x)


class LambdaAttr(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fn = lambda x: x

    def forward(self, x: int) -> int:
        return self.fn(x)


@pytest.mark.parametrize("fn", [calls_lambda, LambdaAttr()])
def test_a_called_lambda_is_not_a_top_level_function(fn):
    msg = _err(fn)
    assert "Expected a single top-level function: " in msg and __file__ in msg, msg
    assert "StopIteration" not in msg and "internal error" not in msg, msg


# ------------------------------------------------------------------ 6. identity

def is_lists(a: List[int], b: List[int]) -> List[bool]:
    c = a
    return [a is b, a is c, a is not b, c is not a]


def is_dicts(a: Dict[str, int], b: Dict[str, int]) -> List[bool]:
    c = a
    return [a is b, a is c]


@torch.jit.script
class Obj:
    def __init__(self, x: int):
        self.x = x


def is_objects(n: int) -> List[bool]:
    a = Obj(n)
    b = a
    return [a is b, a is Obj(n), a is not b]


def test_is_of_lists_dicts_and_objects_is_identity():
    assert torch.jit.script(is_lists)([1], [1]) == [False, True, True, False]
    assert torch.jit.script(is_dicts)({"a": 1}, {"a": 1}) == [False, True]
    assert torch.jit.script(is_objects)(3) == [True, False, False]


# ------------------------------------------------------------------ 7. NamedTuple ==

class P(NamedTuple):
    x: int
    y: int


def nt_eq(p: P, q: P) -> List[bool]:
    return [p == q, p != q, p == (1, 2)]


def test_named_tuples_compare_as_tuples():
    f = torch.jit.script(nt_eq)
    assert f(P(1, 2), P(1, 2)) == [True, False, True]
    assert f(P(2, 1), P(1, 2)) == [False, True, False]


# ------------------------------------------------------------------ 8. list arguments

def appends(a: List[int], d: Dict[str, List[int]], t: Tuple[List[int], int]) -> int:
    a.append(1)
    d["x"].append(2)
    d["y"] = [3]
    t[0].append(4)
    return len(a)


class Appends(torch.nn.Module):
    def forward(self, a: List[int], xs: List[torch.Tensor]) -> List[int]:
        a.append(5)
        xs[0].add_(1)
        xs.append(xs[0])
        return a


def test_list_and_dict_arguments_are_copied_in():
    a, d, inner = [0], {"x": [0]}, [0]
    assert torch.jit.script(appends)(a, d, (inner, 1)) == 2
    assert a == [0] and d == {"x": [0]} and inner == [0]
    a, t = [0], torch.zeros(1)
    xs = [t]
    m = torch.jit.script(Appends())
    assert m(a, xs) == [0, 5] and a == [0] and len(xs) == 1
    assert t.tolist() == [1.0]          # (the Tensor itself is shared)
    assert m.forward(a, xs) == [0, 5] and a == [0]


# ------------------------------------------------------------------ 9. constants

class TensorConstant(torch.nn.Module):
    __constants__ = ["t"]

    def __init__(self):
        super().__init__()
        self.t = torch.ones(2)

    def forward(self, x: int) -> int:
        return x


def test_a_tensor_constant_is_refused_when_scripting():
    with pytest.raises(TypeError) as ei:
        torch.jit.script(TensorConstant())
    assert "'torch.Tensor' object in attribute 'TensorConstant.t' is not a valid " \
           "constant." in str(ei.value), str(ei.value)
    assert "Valid constants are:" in str(ei.value)


# ------------------------------------------------------------------ 10. //=

def floordiv_assign(a: int) -> int:
    b = a
    b //= 2
    return b


def test_floordiv_augmented_assignment_is_not_supported():
    msg = _err(floordiv_assign, NotSupportedError)
    assert "unsupported kind of augmented assignment: FloorDiv" in msg and "b //= 2" in msg


# ------------------------------------------------------------------ 11. staticmethod

class StaticHelper(torch.nn.Module):
    @staticmethod
    def st(x: int, y: int = 2) -> int:
        return x * y

    def forward(self, x: int) -> int:
        return self.st(x) + self.st(x, y=3) + StaticHelper.st(x)


def test_a_module_staticmethod_takes_no_self():
    assert torch.jit.script(StaticHelper())(2) == 14      # torch 2.13: 4 + 6 + 4


# ------------------------------------------------------------------ 12. comprehensions

class CompOverContainers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.Linear(3, 4)])
        self.acts = torch.nn.ModuleDict({"a": torch.nn.ReLU(), "b": torch.nn.Tanh()})

    def forward(self, x: torch.Tensor) -> Tuple[List[int], Dict[str, torch.Tensor],
                                               List[int]]:
        return ([m.out_features for m in self.layers],
                {k: m(x) for k, m in self.acts.items()},
                [i for i, m in enumerate(self.layers)])


def test_comprehensions_over_module_containers():
    x = torch.tensor([-1.0, 1.0])
    feats, acts, idx = torch.jit.script(CompOverContainers())(x)
    assert feats == [3, 4] and idx == [0, 1] and list(acts) == ["a", "b"]
    assert acts["a"].tolist() == [0.0, 1.0]
    assert [round(v, 6) for v in acts["b"].tolist()] == [-0.761594, 0.761594]


# ------------------------------------------------------------------ 13. attribute casts

class Attrs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x = 1
        self.f = 1.5
        self.l = [1]

    def forward(self) -> int:
        return self.x


def test_setting_a_scripted_attribute_converts_or_refuses():
    m = torch.jit.script(Attrs())
    m.x, m.f, m.l = True, 2, (1, 2)
    assert (m.x, m.f, m.l) == (1, 2.0, [1, 2])
    assert type(m.x) is int and type(m.f) is float and m() == 1
    for name, value, t in (("x", "a", "int"), ("x", 2.5, "int"), ("x", None, "int"),
                           ("l", ["a"], "List[int]")):
        with pytest.raises(RuntimeError) as ei:
            setattr(m, name, value)
        assert f"Could not cast attribute '{name}' to type {t}: Unable to cast Python " \
               f"instance of type <class '{type(value).__name__}'>" in str(ei.value)
    assert m() == 1


# ------------------------------------------------------------------ 14. bare annotation

def bare_annotation(a: int) -> int:
    x: int
    x = a
    return x


def test_annotation_without_value_is_unsupported_node():
    msg = _err(bare_annotation, UnsupportedNodeError)
    assert "annotated assignments without assigned value aren't supported" in msg, msg
    assert "x: int" in msg, msg


# ------------------------------------------------------------------ 15. assert

def assert_int_message(x: int) -> int:
    assert x > 0, x
    return x


def assert_false_ends(x: int) -> int:
    if x > 0:
        return x
    assert False, "unreachable"


def test_assert_message_is_formatted_and_assert_false_ends_a_path():
    f = torch.jit.script(assert_int_message)
    assert f(2) == 2
    with pytest.raises(torch.jit.Error, match="-1"):
        f(-1)
    g = torch.jit.script(assert_false_ends)
    assert g(3) == 3
    with pytest.raises(AssertionError, match="unreachable"):
        g(-3)


# ------------------------------------------------------------------ 16. and / or

def and_int_bool(a: int, b: int):
    return a and b > 0


def or_int_float(n: int):
    return n or 1.5


def or_str_int(s: str, n: int):
    return s or n


def and_bool_tensor(x: torch.Tensor, n: int):
    return n > 0 and x


def test_and_or_of_two_types_are_bools():
    f = torch.jit.script(and_int_bool)
    assert f(3, 5) is True and f(0, 5) is False
    g = torch.jit.script(or_int_float)
    assert g(0) is True and g(2) is True
    h = torch.jit.script(or_str_int)
    assert h("", 0) is False and h("x", 0) is True
    k = torch.jit.script(and_bool_tensor)
    assert k(torch.ones(1), 1) is True and k(torch.zeros(1), 1) is False
    assert k(torch.ones(1), 0) is False


# ------------------------------------------------------------------ 17. enumerate a Tensor

def enumerate_rows(x: torch.Tensor) -> List[int]:
    out: List[int] = []
    for i, row in enumerate(x):
        row.add_(1)
        out.append(i + int(row.sum()))
    return out


def zip_rows(x: torch.Tensor, ys: List[int]) -> List[float]:
    return [float(row.sum()) * y for row, y in zip(x, ys)]


def test_enumerate_and_zip_of_a_tensor_iterate_its_rows():
    t = torch.zeros(2, 3)
    assert torch.jit.script(enumerate_rows)(t) == [3, 4]
    assert t.tolist() == [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    assert torch.jit.script(zip_rows)(torch.ones(3, 2), [1, 2]) == [2.0, 4.0]


# ------------------------------------------------------------------ 18. dict expansion

def dict_expansion(x: Dict[str, int]) -> Dict[str, int]:
    return {**x, "b": 2}


def test_dict_expansion_is_not_supported():
    msg = _err(dict_expansion, NotSupportedError)
    assert "Dict expansion (e.g. `{**dict}`) is not supported" in msg, msg
    assert '{**x, "b": 2}' in msg, msg


# ------------------------------------------------------------------ 19. @ignore arguments

@torch.jit.ignore
def py_mut(xs: List[int], d: Dict[str, List[int]]) -> None:
    xs.append(99)
    d["k"].append(99)


def calls_py_mut(xs: List[int]) -> Tuple[List[int], Dict[str, List[int]]]:
    d = {"k": [1]}
    py_mut(xs, d)
    return xs, d


def test_ignored_functions_get_copies_of_lists_and_dicts():
    assert torch.jit.script(calls_py_mut)([1]) == ([1], {"k": [1]})

"""A corpus of bad programs that `gpujit.script` must reject at compile time.

Every program is a real function of this module (so the compiler reads its source with
inspect). The line the error is about carries a `# HERE` comment; each program must give
a `gpujit.jit.FrontendError` (never a KeyError, AttributeError, ... from the compiler's
insides, never an "internal error") whose message names the problem (the `@bad(...)`
words, case-insensitive), shows this file and one of the marked lines with `<--- HERE`
under it. Programs that the compiler wrongly accepts today, or that it rejects with an
internal error, are `xfail(strict=True)` so that they turn red (XPASS) once fixed.
"""
import inspect
import math
import os
from typing import Dict, List, Optional, Tuple, Union  # noqa: F401 (string annotations)

import pytest

import gpujit
import gpujit as torch
import gpujit.nn.functional as F
from gpujit.jit import FrontendError

CASES = []


def bad(*words, at=None, xfail=None):
    """Register the decorated function as a bad program whose error names `words`.
    `at`: text of the line the error shows (default: a line marked `# HERE`)."""
    def register(fn):
        marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
        CASES.append(pytest.param(fn, words, at, id=fn.__name__, marks=marks))
        return fn
    return register


def helper(x):
    return x


SCALE = 2.0


# ====================================================== type mismatches across branches

@bad("'r'", "Tensor", "int")
def an_error(x):
    if x:
        r = torch.rand(1)
    else:
        r = 4   # HERE
    return r


@bad("'r'", "int", "str")
def br_int_str(n: int):
    if n > 0:
        r = 1
    else:
        r = "one"   # HERE
    return r


@bad("'r'", "Tensor", "tuple")
def br_tensor_tuple(x, n: int):
    if n > 0:
        r = x
    else:
        r = (x, x)   # HERE
    return r


@bad("'r'", "list")
def br_list_types(n: int):
    if n > 0:
        r = [1, 2]
    else:
        r = [1.0, 2.0]   # HERE
    return r


@bad("'r'", "bool", "str")
def br_bool_str(n: int):
    if n > 0:
        r = True
    else:
        r = "no"   # HERE
    return r


@bad("'r'", "Tensor", "float")
def br_elif(x, n: int):
    if n > 0:
        r = x
    elif n < -5:
        r = 2.5   # HERE
    else:
        r = x   # HERE
    return r


@bad("'r'", "Tensor", "str")
def br_nested(x, n: int):
    r = x   # HERE
    if n > 0:
        if n > 3:
            r = "big"   # HERE
    return r


@bad("'a'", "int", "float", "loop")
def loop_type_change(n: int):
    a = 0
    for i in range(n):
        a = 1.5   # HERE
    return a


@bad("'a'", "Tensor", "int", "loop")
def while_type_change(x, n: int):
    a = x
    while n > 0:
        a = n   # HERE
        n = n - 1
    return a


@bad("return", "Tensor", "int")
def return_types_differ(x, n: int):
    if n > 0:   # HERE
        return x   # HERE
    return n   # HERE


@bad("return", "str", "int")
def return_types_differ_else(n: int):
    if n > 0:   # HERE
        return "pos"   # HERE
    else:
        return n   # HERE


@bad("'z'", "not defined on every path")
def one_branch(x, n: int):
    if n > 0:
        z = x
    return z   # HERE


@bad("'z'", "not defined")
def one_branch_else(x, n: int):
    if n > 0:
        pass
    else:
        z = x
    return z   # HERE


@bad("if-expression's true branch has type Tensor", "but false branch has type int")
def ternary_types(x, n: int):
    y = x if n > 0 else 1   # HERE
    return y


# (mixed list literals, [n, "a"] and [x, 1], are TorchScript's List[Union[...]] with a
# warning since s26, as torch 2.13: tests/test_jit_leftovers_s26.py; mixed dict keys stay
# an error)
@bad("Dict keys", "int", "str")
def dict_mixed_keys(n: int):
    d = {n: 1, "a": 2}   # HERE
    return d


@bad("unpack", "3", "2")
def unpack_count(x):
    a, b = (x, x, x)   # HERE
    return a


@bad("unpack", "int")
def unpack_int(n: int):
    a, b = n   # HERE
    return a


# ====================================================== undefined names

@bad("undefined", "'yy'")
def undefined_var(x):
    return x + yy   # HERE  # noqa: F821


@bad("undefined", "'frob'")
def undefined_call(x):
    return frob(x)   # HERE  # noqa: F821


@bad("'z'")
def used_before_assignment(x):
    y = z   # HERE  # noqa: F821
    z = x
    return y


@bad("'frobnicate'")
def torch_no_function(x):
    return gpujit.frobnicate(x)   # HERE


@bad("'frobnicate'")
def tensor_no_method(x):
    return x.frobnicate()   # HERE


@bad("'frobnicate'")
def nn_functional_no_function(x):
    return F.frobnicate(x)   # HERE


@bad("'nope'")
def math_no_function(f: float):
    return math.nope(f)   # HERE


@bad("'inner'", "loop")
def loop_local(n: int):
    for i in range(n):
        inner = i * 2
    return inner   # HERE


@bad("'i'", "loop")
def loop_var_after(n: int):
    for i in range(n):
        pass
    return i   # HERE


@bad("'k'", "loop")
def while_local(n: int):
    while n > 0:
        k = n
        n = n - 1
    return k   # HERE


@bad("'w'")
def cond_before_assignment(x):
    if w > 0:   # HERE  # noqa: F821
        w = 1
    return x


@bad("'y'")
def augassign_undefined(x):
    y += x   # HERE  # noqa: F821
    return y


@bad("'foo'")
def int_no_attribute(n: int):
    return n.foo   # HERE


@bad("'foo'")
def tensor_no_attribute(x):
    return x.foo   # HERE


@bad("'foo'")
def str_no_method(s: str):
    return s.foo()   # HERE


@bad("'nope'")
def list_no_method(n: int):
    xs = [n]
    xs.nope(1)   # HERE
    return xs


# ====================================================== wrong op arguments

@bad("'clamp'", "str")
def bad_clamp(x):
    return torch.clamp(x, "a")   # HERE


@bad("'tanh'", "2")
def too_many_args(x):
    return torch.tanh(x, x)   # HERE


@bad("'tanh'")
def too_few_args(x):
    return torch.tanh()   # HERE


@bad("'relu'", "'foo'")
def unknown_keyword(x):
    return torch.relu(x, foo=1)   # HERE


@bad("'add'", "alpha")
def bad_keyword_type(x):
    return torch.add(x, x, alpha="s")   # HERE


@bad("'add'", "other")
def keyword_twice(x):
    return torch.add(x, x, other=x)   # HERE


@bad("'sum'", "str")
def sum_dim_str(x):
    return torch.sum(x, "a")   # HERE


@bad("'zeros'", "str")
def zeros_str(x):
    return torch.zeros("a")   # HERE


@bad("'view'", "str")
def view_str(x):
    return x.view("a")   # HERE


@bad("'cat'", "Tensor")
def cat_of_tensor(x):
    return torch.cat(x)   # HERE


@bad("'matmul'")
def matmul_one_arg(x):
    return torch.matmul(x)   # HERE


@bad("'mul'", "str")
def tensor_times_str(x):
    return x * "a"   # HERE


@bad("'add'", "int", "str")
def int_plus_str(n: int):
    return n + "a"   # HERE


@bad("'add'", "str", "int")
def str_plus_int(s: str):
    return s + 1   # HERE


@bad("'add'", "str")
def tensor_plus_str(x):
    return x + "a"   # HERE


@bad("len()", "List[int], an int")
def len_of_list_and_int(xs: List[int], n: int):
    # (len(n) alone is 1 in torch 2.13: aten::len.any of [n]; a list is never packed)
    return len(xs, n)   # HERE


@bad("range", "int")
def range_of_str(s: str):
    for i in range(s):   # HERE
        pass
    return s


@bad("range expected at most 3 arguments, got 4")     # (torch 2.13's words)
def range_four_args(n: int):
    for i in range(1, 2, 3, n):   # HERE
        pass
    return n


@bad("'abs'", "str")
def abs_of_str(s: str):
    return abs(s)   # HERE


@bad("min")
def min_no_args(n: int):
    return min()   # HERE


@bad("'sqrt'")
def math_sqrt_two_args(f: float):
    return math.sqrt(f, f)   # HERE


@bad("'sqrt'", "str")
def math_sqrt_str(s: str):
    return math.sqrt(s)   # HERE


@bad("'relu'")
def functional_too_many(x):
    return F.relu(x, True, 2, 3)   # HERE


@bad("'size'", "str")
def size_str(x):
    return x.size("a")   # HERE


@bad("'item'")
def item_with_arg(x):
    return x.item(1)   # HERE


@bad("'upper'")
def str_method_args(s: str):
    return s.upper(1)   # HERE


@bad("'append'")
def append_wrong_type(n: int):
    xs: List[int] = [n]
    xs.append(1.5)   # HERE
    return xs


@bad("'append'")
def append_two_args(n: int):
    xs = [n]
    xs.append(1, 2)   # HERE
    return xs


@bad("'transpose'")
def transpose_one_dim(x):
    return x.transpose(0)   # HERE


@bad("'float'", "list")
def float_of_list(n: int):
    return float([n])   # HERE


@bad("'int'", "tuple")
def int_of_tuple(n: int):
    return int((n, n))   # HERE


@bad("'helper2'")
def call_script_wrong_arity(x):
    return helper2(x, x, x)   # HERE


@gpujit.script
def helper2(x, y):
    return x + y


# ====================================================== unsupported syntax

@bad("try")
def try_except(x):
    try:   # HERE
        y = x
    except Exception:
        y = x
    return y


@bad("try")
def try_finally(x):
    try:   # HERE
        y = x
    finally:
        pass
    return y


@bad("with")
def with_open(x):
    with open("f") as f:   # HERE
        pass
    return x


@bad("with")
def with_tensor(x):
    with x:   # HERE
        pass
    return x


@bad("lambda")
def lambda_expr(x):
    f = lambda v: v   # HERE  # noqa: E731
    return x


@bad("global")
def global_stmt(x):
    global SCALE   # HERE
    return x * SCALE


def _outer():
    v = 1

    def nonlocal_stmt(x):
        nonlocal v   # HERE
        return x
    return nonlocal_stmt


nonlocal_stmt = bad("nonlocal")(_outer())


@bad("yield")
def yield_expr(x):
    yield x   # HERE


@bad("yield")
def yield_from(x):
    yield from [x]   # HERE


@bad("async")
async def async_def(x):   # HERE
    return x


@bad("await")
async def await_expr(x):   # HERE
    return await x   # HERE


@bad("*args")
def star_args(*args):   # HERE
    return args


@bad("**kwargs")
def star_kwargs(x, **kwargs):   # HERE
    return x


@bad("keyword-only")
def keyword_only(x, *, y: int = 1):   # HERE (TorchScript takes them without defaults)
    return x + y


@bad("size of a list")
def star_call_of_a_list(x):
    t = [x, x]
    return torch.add(*t)   # HERE (a starred tuple is unpacked, as TorchScript does)


@bad("**")
def star_star_call(x):
    return torch.relu(x, **{})   # HERE


@bad("class")
def class_inside(x):
    class C:   # HERE
        pass
    return x


@bad(":=")
def walrus(x, n: int):
    if (m := n + 1) > 2:   # HERE
        return x
    return x


@bad("nested function")
def nested_def(x):
    def inner(y):   # HERE
        return y
    return inner(x)


@bad("nested function")
def decorated_nested_def(x):
    @gpujit.jit.ignore
    def inner(y):   # HERE
        return y
    return inner(x)


# (a generator expression is a list comprehension in torch 2.13: sum(i for i in
# range(n)) compiles; tests/test_script_lang_s38.py)


@bad("import")
def import_inside(x):
    import os   # HERE
    return x


@bad("import")
def from_import_inside(x):
    from os import path   # HERE
    return x


@bad("match")
def match_stmt(n: int):
    match n:   # HERE
        case 1:
            return 1
    return 0


@bad("cannot unpack")
def starred_assign(d: Dict[str, int]):
    a, *b = d   # HERE
    return a


@bad("else")
def for_else(n: int):
    for i in range(n):   # HERE
        pass
    else:
        n = 0
    return n


@bad("else")
def while_else(n: int):
    while n > 0:   # HERE
        n = n - 1
    else:
        n = 5
    return n


@bad("exec")
def exec_call(x):
    exec("y = 1")   # HERE
    return x


@bad("eval")
def eval_call(x):
    return eval("x")   # HERE


@bad("open")
def open_call(x):
    f = open("file")   # HERE
    return x


@bad("globals")
def globals_call(x):
    g = globals()   # HERE
    return x


@bad("setattr")
def setattr_call(x):
    setattr(x, "a", 1)   # HERE
    return x


@bad("super")
def super_call(x):
    return super().f(x)   # HERE


@bad("bytes")
def bytes_literal(x):
    b = b"abc"   # HERE
    return x


@bad("raise")
def raise_int(x):
    raise 3   # HERE


@bad("raise")
def bare_raise(x):
    raise   # HERE


@bad("x.foo")
def set_tensor_attribute(x):
    x.foo = 1   # HERE
    return x


@bad("module")
def module_as_value(x):
    m = math     # (a name may hold a module, as TorchScript's sugared values)
    return m   # HERE


@bad("function")
def return_function(x):
    return torch.tanh   # HERE


@bad("call")
def call_an_int(n: int):
    return n(3)   # HERE


@bad("int", "index")
def index_an_int(n: int):
    return n[0]   # HERE


@bad("float", "index")
def index_a_float(f: float):
    return f[0]   # HERE


@bad("assign")
def assign_tuple_item(x):
    t = (x, x)
    t[0] = x   # HERE
    return t


@bad("tuple", "index")
def tuple_index_out_of_range(x):
    t = (x, x)
    return t[5]   # HERE


@bad("tuple", "index")
def tuple_variable_index(x, n: int):
    t = (x, n)
    return t[n]   # HERE


@bad("float", "index")
def tensor_float_index(x):
    return x[1.5]   # HERE


@bad("str", "index")
def tensor_str_index(x):
    return x["a"]   # HERE


@bad("`in`")
def in_int(n: int):
    return 1 in n   # HERE


@bad("'lt'", "int", "str")
def compare_int_str(n: int):
    return n < "a"   # HERE


@bad("'recursive'")
def recursive(n: int) -> int:
    if n <= 0:
        return 0
    return recursive(n - 1) + 1   # HERE


@bad("iterate", "int")
def for_over_int(n: int):
    for i in n:   # HERE
        pass
    return n


@bad("target", "range")
def for_unpack_int(n: int):
    for a, b in range(n):   # HERE
        pass
    return n


# ====================================================== return types vs annotations

@bad("declared", "int", "List[int]")
def ret_int_got_list(x: List[int]) -> int:
    return x   # HERE     (a Tensor x is converted: aten::IntImplicit, as TorchScript's)


@bad("declared", "Tensor", "int")
def ret_tensor_got_int(n: int) -> torch.Tensor:
    return n   # HERE


@bad("declared", "float", "str")
def ret_float_got_str(s: str) -> float:
    return s   # HERE


@bad("declared", "tuple")
def ret_tuple_wrong_length(n: int) -> Tuple[int, int]:
    return (n,)   # HERE


@bad("declared", "List[int]")
def ret_list_wrong_element(f: float) -> List[int]:
    return [f]   # HERE


@bad("declared", "None", "int")
def ret_none_got_int(n: int) -> None:
    return n   # HERE


@bad("declared", "int", "None")
def ret_int_falls_off(n: int) -> int:
    n = n + 1   # HERE


@bad("declared", "int", "None")
def ret_int_some_path_none(n: int) -> int:
    if n > 0:
        return 1
    return   # HERE


@bad("declared", "bool", "int")
def ret_bool_got_int(n: int) -> bool:
    return n   # HERE


@bad("declared", "str", "Tensor")
def ret_str_got_tensor(x) -> str:
    return x   # HERE


@bad("declared", "int")
def ret_type_comment(x):   # HERE
    # type: (str) -> int
    return x   # HERE


# ====================================================== bad annotations

@bad("'Foo'")
def annot_undefined_string(x: "Foo"):   # HERE  # noqa: F821
    return x


@bad("annotation")
def annot_number(x: 3):   # HERE
    return x


@bad("annotation", "'os'")
def annot_module(x: os):   # HERE
    return x


@bad("default", "'n'")
def annot_default_mismatch(n: int = "a"):   # HERE
    return n


@bad("type comment", at="# type:")
def type_comment_count(x, n):   # HERE
    # type: (int) -> int
    return n


@bad("type comment", at="# type:")
def type_comment_malformed(x):   # HERE
    # type: (int -> int
    return x


# (a `# type:` comment beside annotations compiles in torch 2.13, the comment's types
# winning: tests/test_script_lang_s38.py)


@bad("'y'", "int", "float")
def local_annot_mismatch(n: int):
    y: int = 1.5   # HERE
    return y


@bad("'y'", "List[int]")
def local_annot_list_mismatch(n: int):
    y: List[int] = [1.0]   # HERE
    return y


@bad("'Bar'")
def local_annot_undefined(n: int):
    y: "Bar" = n   # HERE  # noqa: F821
    return y


@bad("'y'", "int", "Tensor")
def local_annot_tensor_to_int(x):
    y: int = x   # HERE
    return y


@bad("Optional[int]", "'add'")
def optional_without_refinement(n: Optional[int]):
    return n + 1   # HERE


@bad("Tuple")
def annot_variadic_tuple(t: Tuple[int, ...]):   # HERE
    return t


@bad("object", "type")
def annot_object(x: object):   # HERE
    return x


# ====================================================== more wrong programs

@bad("x.shape")
def assign_shape(x):
    x.shape = 3   # HERE
    return x


@bad("math.pi")
def assign_module_constant(x):
    math.pi = 3   # HERE
    return x


# (`assert x, 3` / `assert x, x` compile in torch 2.13, the message formatted with str():
# tests/test_script_lang_s34.py)


# (`n and "a"` compiles in torch 2.13: a bool, as TorchScript's and/or give;
# tests/test_script_lang_s34.py)


@bad("list", "float")
def list_float_index(n: int):
    f = 1.5
    return [n, n][f]   # HERE


# (a Tensor index is a 0-dim tensor's int, aten::IntImplicit, as torch 2.13 compiles
# `[n][x]` and `"abc"[x]`: tests/test_script_language_d62.py)
@bad("list", "float")
def list_float_index(x, n: int, f: float):
    return [n][f]   # HERE


@bad("str")
def str_float_index(x, f: float):
    return "abc"[f]   # HERE


@bad("ellipsis")
def ellipsis_value(x):
    y = ...   # HERE
    return x


@bad("'add'", "None")
def none_plus_int(x):
    return None + 1   # HERE


@bad("'add'", "None")
def none_var_plus_int(x):
    y = None
    return y + 1   # HERE


@bad("'matmul'", "int")
def matmul_int(x):
    return x @ 3   # HERE


@bad("'neg'", "str")
def negate_str(x):
    return -"a"   # HERE


@bad("bitwise_not")         # (TorchScript names the op: no variant takes a float)
def invert_float(f: float):
    return ~f   # HERE


@bad("'pow'", "str")
def int_pow_str(n: int):
    return n ** "a"   # HERE


@bad("'remainder'", "str")
def float_mod_str(f: float):
    return f % "a"   # HERE


@bad("annotated", "value")
def annotated_without_value(x):
    y: int   # HERE
    return y


@bad("'List'", "element")
def annot_bare_list(x: List):   # HERE
    return x


@bad("'Tuple'", "element")
def annot_bare_tuple(x: Tuple):   # HERE
    return x


@bad("'Optional'", "element")
def annot_bare_optional(x: Optional):   # HERE
    return x


@bad("Dict", "key", "value")
def annot_dict_one_type(x: "Dict[str]"):   # HERE
    return x


@bad("List", "one")
def annot_list_two_types(x: "List[int, int]"):   # HERE
    return x


@bad("'List['", "not valid")
def annot_syntax_error(x: "List["):   # HERE
    return x


@bad("'Foo'", at="# type:")
def type_comment_unknown_return(x):
    # type: (int) -> Foo
    return x


@bad("'Foo'")
def annot_unknown_return(x) -> "Foo":   # HERE  # noqa: F821
    return x


@bad("tuple", "'foo'")
def tuple_attribute(x):
    t = (1, 2)
    return t.foo   # HERE


@bad("List[int]", "'foo'")
def shape_attribute(x):
    return x.shape.foo   # HERE


@bad("'__class__'")
def dunder_class(x):
    return x.__class__   # HERE


@bad("'add'", "List[int]", "str")
def shape_plus_str(x):
    return x.shape + "a"   # HERE


@bad("str", "index")
def tensor_tuple_index_str(x):
    return x[1, "a"]   # HERE


@bad("'add'", "Union[int, str]")
def union_without_refinement(x: "Union[int, str]"):
    return x + 1   # HERE


@bad("'add'", "Tensor, Tensor, Tensor, Tensor, Tensor")
def add_five_args(x):
    return torch.add(x, x, x, x, x)   # HERE


@bad("'add'", "alpha")
def add_missing_other(x):
    return torch.add(x, alpha=2)   # HERE


@bad("'add'", "other=")
def add_missing_self(x):
    return torch.add(other=x)   # HERE


@bad("'relu'", "input2")
def relu_unknown_keyword(x):
    return torch.relu(input=x, input2=x)   # HERE


@bad("'sum'", "keepdim=str")
def sum_keepdim_str(x, n: int):
    return x.sum(dim=n, keepdim="yes")   # HERE


@bad("'ones'", "dtype=str")
def ones_dtype_str(x):
    return torch.ones(2, 3, dtype="float")   # HERE


@bad("'zeros'", "str")
def zeros_tuple_with_str(x):
    return torch.zeros((2, "a"))   # HERE


@bad("'reshape'", "float")
def reshape_float(x):
    return x.reshape(2, 2.5)   # HERE


@bad("'permute'", "str")
def permute_str(x):
    return x.permute("a")   # HERE


@bad("list", "Tensor", "int")
def cat_list_with_int(x):
    return torch.cat([x, 1])   # HERE


@bad("'cat'", "dim=str")
def cat_dim_str(x):
    return torch.cat((x, x), dim="0")   # HERE


@bad("'stack'")
def stack_of_tensors(x):
    return torch.stack(x, x)   # HERE


@bad("'softmax'", "('dim')", "got a str")
def softmax_dim_str(x):
    return F.softmax(x, dim="a")   # HERE


@bad("'linear'")
def linear_without_weight(x):
    return F.linear(x)   # HERE


@bad("'clamp'", "min=str")
def clamp_min_str(x):
    return x.clamp(min="a")   # HERE


@bad("'to'", "float")
def to_float(x):
    return x.to(3.5)   # HERE


@bad("'expand'", "str")
def expand_str(x):
    # (x.expand(x) compiles in torch 2.13: a Tensor packed into the sizes is
    # aten::IntImplicit of it, refused when it runs unless 0-dim)
    return x.expand("3")   # HERE


@bad("'max'", "dim=str")
def max_dim_str(x):
    return x.max(dim="a")   # HERE


@bad("'unsqueeze'")
def unsqueeze_no_dim(x):
    return x.unsqueeze()   # HERE


@bad("max", "str")
def max_int_str(x):
    return max(1, "a")   # HERE


@bad("bool")
def bool_two_args(x):
    return bool(1, 2)   # HERE


@bad("len")
def len_two_args(x):
    # (len(x, x) of a Tensor x is 2 in torch 2.13: aten::len.any of [x, x]; a tuple
    # is not packed)
    return len((x, x), x)   # HERE


@bad("int", "str")
def int_two_str(x):
    return int("a", "b")   # HERE


@bad("float")
def float_no_args(x):
    return float()   # HERE


@bad("'floor'", "str")
def math_floor_str(x):
    return math.floor("a")   # HERE


@bad("'log'")
def math_log_no_args(x):
    return math.log()   # HERE


@bad("'add'", "Tensor", "str")
def str_plus_tensor(x, s: str):
    return s + x   # HERE


@bad("'lt'", "Tensor", "str")
def tensor_less_str(x):
    return x < "a"   # HERE


@bad("'lt'", "str")
def chained_compare_str(x, n: int):
    return n < x < "a"   # HERE


@bad("'slice'", "str")
def slice_bound_str(x, n: int):
    return x[n:"a"]   # HERE


@bad("'slice'", "str")
def slice_step_str(x, n: int):
    return x[::n, ::"b"]   # HERE


@bad("'size'")
def size_two_dims(x):
    return x.size(0, 1)   # HERE


@bad("'t'")
def t_with_arg(x):
    return x.t(1)   # HERE


@bad("'relu'")
def functional_relu_no_args(x):
    return F.relu()   # HERE


@bad("module", "'y'")
def functional_module_as_value(x):
    y = F
    return x + y   # HERE


# (min([]) is no compile error: torch 2.13 types the `[]` as the int[] of prim::min.self_int
# and raises 'min() arg is an empty sequence' when it runs; tests/test_language_s33.py)


@bad("print", "keyword")
def print_bad_keyword(x):
    print(x, sep=1)   # HERE
    return x


@bad("default", "'n'")
def default_list_for_int(x, n: int = []):   # HERE
    return x


@bad("default", "'g'")
def default_lambda(x, g=lambda: 1):   # HERE
    return x


# ====================================================== the test

def _marked_lines(fn):
    lines = inspect.getsource(fn).splitlines()
    return {ln.strip() for ln in lines if "# HERE" in ln}


def _highlighted_lines(msg):
    lines = msg.splitlines()
    return {lines[i - 1].strip() for i, ln in enumerate(lines)
            if ln.rstrip().endswith("<--- HERE") and i > 0}


def test_corpus_is_large():
    assert len(CASES) >= 100


@pytest.mark.parametrize("fn,words,at", CASES)
def test_bad_program_is_a_clean_compile_error(fn, words, at):
    with pytest.raises(Exception) as info:
        gpujit.script(fn)
    e = info.value
    assert isinstance(e, FrontendError), f"{type(e).__name__}: {e}"   # (or its NotSupportedError)
    msg = str(e)
    assert "internal error" not in msg, msg
    assert "Traceback" not in msg, msg
    assert "<--- HERE" in msg, msg
    assert os.path.basename(__file__) in msg, msg
    shown = _highlighted_lines(msg)
    if at is None:
        assert shown & _marked_lines(fn), (shown, msg)
    else:
        assert any(at in ln for ln in shown), (shown, msg)
    head = e.message.lower()          # the problem, without the file / function names
    for w in words:
        assert w.lower() in head, (w, msg)

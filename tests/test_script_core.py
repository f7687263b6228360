"""The script compiler for functions: each construct compiled, run through the reference
interpreter and compared with the same Python function run eagerly on gpujit tensors;
every graph lints and survives str -> parse_ir; errors show the user's line."""
from typing import List

import numpy as np
import pytest

import gpujit
import gpujit as torch
import gpujit.nn.functional as F
from gpujit.frontend.script import FrontendError, compile_function
from gpujit.ir import parse_ir
from gpujit.runtime import interpret


def _copy(a):
    return a.clone() if isinstance(a, gpujit.Tensor) else a


def _same(got, want):
    if isinstance(want, gpujit.Tensor):
        assert isinstance(got, gpujit.Tensor), got
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            _same(g, w)
    else:
        assert type(got) is type(want) and got == want, (got, want)


def compiled(fn, arg_types=None):
    g = compile_function(fn, arg_types)
    g.lint()
    text = str(g)
    back = parse_ir(text)
    back.lint()
    assert str(back) == text
    return g


def check(fn, *args, arg_types=None):
    g = compiled(fn, arg_types)
    got = interpret(g, *[_copy(a) for a in args])
    _same(got, fn(*[_copy(a) for a in args]))
    return g


def kinds(g):
    return [n.kind for n in g.walk()]


X = gpujit.tensor([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
Y = gpujit.tensor([[0.5, 0.25, -1.0], [2.0, -3.0, 1.5]])


# ------------------------------------------------------------------ the seed's foo

def foo(len):
    # type: (int) -> torch.Tensor
    rv = torch.zeros(3, 4)
    for i in range(len):
        if i < 10:
            rv = rv - 1.0
        else:
            rv = rv + 1.0
    return rv


def test_seed_foo_graph_shape():
    g = check(foo, 12)
    check(foo, 3)
    assert str(g.inputs[0].type) == "int"
    top = [n.kind for n in g.nodes]
    assert top[-1] == "prim::Loop" and "aten::zeros" in top
    loop = g.nodes[-1]
    # (the body's `True` condition is pooled at the graph's start, as TorchScript's is)
    assert [n.kind for n in loop.blocks[0].nodes][-2:] == ["aten::lt", "prim::If"]
    inner = loop.blocks[0].nodes[-1]
    assert [n.kind for n in inner.blocks[0].nodes][-1] == "aten::sub"
    assert [n.kind for n in inner.blocks[1].nodes][-1] == "aten::add"
    assert inner.blocks[0].nodes[-1].op.name == "aten::sub.Tensor"
    assert loop.blocks[0].nodes[0].source_range.line == foo.__code__.co_firstlineno + 4


# ------------------------------------------------------------------ expressions

def arith(x, y):
    a = x + y
    b = x - 2.0 * y
    c = a * b / (y + 10.0)
    return -c + 1, x ** 2, x @ y.t(), 2 ** x


def scalars(n: int, f: float):
    a = n + 2
    b = a * 3 - n // 2 + n % 3
    c = f * 2.0 + n
    d = n / 2
    return a, b, c, d, -n, -f


def compares(n: int, f: float):
    return n < 3, n >= 2, f == 1.5, n != 4, 0 < n < 10, 0 < n < 2, not n > 3


def boolops(a: bool, b: bool, n: int):
    return a and b, a or b, a and n > 2 or b, (n > 0 and n < 5)


def ternary(x, n: int):
    y = x * 2 if n > 0 else x - 1
    k = 1 if n > 3 else 2
    return y, k


def containers(x, n: int):
    t = (x, n, 2.5)
    l = [n, n + 1, 3]
    a, b, c = t
    p, q, r = l
    return t[1], t[-1], l[0] + l[2], a + 1, b + p, len(l), len(t)


def indexing(x):
    return x[0], x[1, 2], x[:, 1:], x[0:1], x[:, ::2], x[-1]


def methods(x):
    return x.sum(), x.sum(1), x.size(0), x.dim(), x.shape[1], x.t(), x.view(3, 2)


def functions(x, y):
    return (gpujit.tanh(x), torch.sigmoid(y), F.relu(x), torch.clamp(x, -1.0, 1.0),
            torch.clamp(x, min=0.0), torch.add(x, y, alpha=2), gpujit.ones(2, 3) + x)


def builtins_(x, n: int, f: float):
    return (int(f), float(n), bool(n), min(n, 3), max(float(n), f), max(n, -n), abs(-n), abs(x), len(x),
            int(x[0, 0]), float(x[1, 1]))


def number_on_the_left(x, n: int):
    return 2 - x, 2.0 / (x + 10.0), n * x, 1 + x, 3 < x, 0.0 >= x, 2 == x


def tensor_compare(x, y):
    m = x > y
    e = x == 5.0
    return m, e, (x < 0.0).sum()


@pytest.mark.parametrize("fn,args", [
    (arith, (X, Y)), (scalars, (7, 1.5)), (scalars, (-3, -0.5)), (compares, (2, 1.5)),
    (compares, (5, 2.0)), (boolops, (True, False, 3)), (boolops, (False, True, 1)),
    (ternary, (X, 1)), (ternary, (X, 5)), (containers, (X, 4)), (indexing, (X,)),
    (methods, (X,)), (functions, (X, Y)), (builtins_, (X, 5, 2.7)),
    (builtins_, (X, -2, -1.5)), (tensor_compare, (X, Y)), (number_on_the_left, (X, 3)),
])
def test_expressions_match_eager(fn, args):
    check(fn, *args)


def test_tensor_ops_use_registry_schemas():
    g = compiled(arith)
    adds = [n for n in g.walk() if n.kind == "aten::add"]
    assert adds[0].op.name == "aten::add.Tensor" and len(adds[0].inputs) == 3
    assert adds[0].inputs[2].node.attrs["value"] == 1       # alpha
    g = compiled(scalars)
    assert {n.op.name for n in g.walk() if n.kind == "aten::add"} == {"aten::add.int",
                                                                        "aten::add.float"}


def test_number_on_the_left_puts_the_tensor_first():
    g = compiled(number_on_the_left)
    ops = [n.op.name for n in g.walk() if n.kind.startswith("aten::")]
    # (2 - x is TorchScript's builtin __rsub__, -x + 2, as torch 2.13's graph shows)
    assert ops == ["aten::neg", "aten::add.Tensor", "aten::add.Tensor",
                   "aten::reciprocal", "aten::mul.Tensor",
                   "aten::mul.Tensor", "aten::add.Tensor", "aten::gt.Tensor",
                   "aten::le.Tensor", "aten::eq.Tensor"]
    assert all(n.inputs[0].type == gpujit.ir.TENSOR for n in g.walk()
               if n.kind.startswith("aten::") and n.kind != "aten::div")


def test_and_or_short_circuit_via_if():
    g = compiled(boolops)
    assert kinds(g).count("prim::If") == 5


# ------------------------------------------------------------------ statements

def augmented(x, n: int):
    n += 2
    n *= 3
    y = x * 1.0
    y += 1.0
    y -= x
    return y, n


def annotated(n: int):
    k: int = n * 2
    xs: List[int] = []
    return k, xs


def if_elif(x, n: int):
    if n > 5:
        y = x * 2.0
        k = 1
    elif n > 2:
        y = x + 1.0
        k = 2
    else:
        y = x
        k = 3
    return y, k


def if_without_else(x, n: int):
    y = x
    if n > 0:
        y = y + 1.0
    return y


def while_loop(n: int):
    i = 0
    s = 0
    while i < n:
        s = s + i * i
        i += 1
    return s


def for_ranges(n: int):
    a = 0
    for i in range(2, n):
        a = a + i
    b = 0
    for j in range(n, 0, -2):
        b = b * 10 + j
    c = 0
    for k in range(1, n, 3):
        c += k
    return a, b, c


def for_tuple_and_list(x):
    acc = x * 0.0
    for v in (1.0, 2, x):
        acc = acc + v
    total = 0
    for e in [3, 4, 5]:
        total += e
    for row in x:
        acc = acc + row.sum()
    return acc, total


def break_continue(n: int):
    s = 0
    for i in range(n):
        if i == 2:
            continue
        if i > 6:
            break
        s = s + i
    j = 0
    while True:
        j += 1
        if j >= n:
            break
    return s, j


def early_return(x, n: int):
    if n > 3:
        return x * 2.0
    y = x + 1.0
    if n < 0:
        return y
    return y * 3.0


def nested_return(n: int):
    if n > 0:
        if n > 10:
            return 2
        k = 1
    else:
        k = -1
    return k * 5


def asserts(x, n: int):
    assert n > 0, "n must be positive"
    assert n < 100
    if n > 50:
        raise ValueError("too big")
    return x + n


def passes(n: int):
    if n > 1:
        pass
    else:
        n = n + 1
    return n


def no_return(x):
    y = x + 1.0


@pytest.mark.parametrize("fn,args", [
    (augmented, (X, 3)), (annotated, (4,)), (if_elif, (X, 7)), (if_elif, (X, 3)),
    (if_elif, (X, 0)), (if_without_else, (X, 1)), (if_without_else, (X, -1)),
    (while_loop, (5,)), (while_loop, (0,)), (for_ranges, (9,)), (for_ranges, (1,)),
    (for_tuple_and_list, (X,)), (break_continue, (10,)), (break_continue, (4,)),
    (early_return, (X, 5)), (early_return, (X, -2)), (early_return, (X, 1)),
    (nested_return, (20,)), (nested_return, (3,)), (nested_return, (-3,)),
    (asserts, (X, 3)), (passes, (1,)), (passes, (4,)), (no_return, (X,)),
])
def test_statements_match_eager(fn, args):
    check(fn, *args)


def test_augmented_tensor_assignment_is_inplace():
    g = compiled(augmented)
    assert "aten::add_" in kinds(g) and "aten::sub_" in kinds(g)


def test_while_loop_shape():
    g = compiled(while_loop)
    loop = next(n for n in g.nodes if n.kind == "prim::Loop")
    assert loop.inputs[0].node.attrs["value"] == 9223372036854775807
    assert len(loop.outputs) == 2                        # i and s carried


def test_assert_and_raise_raise_at_runtime():
    g = compiled(asserts)
    with pytest.raises(AssertionError, match="n must be positive"):
        interpret(g, X, 0)
    with pytest.raises(AssertionError):
        interpret(g, X, 200)
    with pytest.raises(ValueError, match="too big"):
        interpret(g, X, 60)
    assert "prim::RaiseException" in kinds(g)


def test_type_comment_and_annotations():
    g = compiled(scalars)
    assert [str(v.type) for v in g.inputs] == ["int", "float"]
    assert str(g.outputs[0].type) == "(int, int, float, float, int, float)"




def misc_exprs(x, y, n: int, s: str):
    a, b = x.shape
    sz = x.size()
    if x.sum() > 0:
        z = x * 2.0     # (a global SCALE: refused, as torch 2.13 refuses it)
    else:
        z = x
    if n:
        z = z + 1.0
    t = s == "abc"
    c = torch.cat([x, y], 0)
    c2 = torch.cat((x, y), dim=1)
    v, i = torch.max(x, 1)
    w = F.softmax(x, dim=1)
    r = x.view(-1).reshape(3, 2).permute(1, 0)
    d = x.to(torch.float64)
    return a, b, sz[0] + sz[1], z, t, c, c2, v, i, w, r, d


def nested_loops(n: int):
    total = 0
    for i in range(n):
        for j in range(n):
            if j > i:
                break
            total += j
    k = 0
    while k < n:
        k += 1
        if k % 2 == 0:
            continue
        total += 100
    return total


def returns_none(x):
    if x.sum() > 100.0:
        return
    return None


@pytest.mark.parametrize("fn,args", [
    (misc_exprs, (X, Y, 3, "abc")), (misc_exprs, (-X, Y, 0, "x")), (nested_loops, (6,)),
    (nested_loops, (0,)), (returns_none, (X,)),
])
def test_more_constructs_match_eager(fn, args):
    check(fn, *args)


@pytest.mark.parametrize("fn,args", [
    (foo, (12,)), (arith, (X, Y)), (containers, (X, 4)), (indexing, (X,)),
    (augmented, (X, 3)), (for_tuple_and_list, (X,)), (break_continue, (10,)),
    (early_return, (X, -2)), (misc_exprs, (X, Y, 3, "abc")),
])
def test_graphs_run_through_the_executor(fn, args):
    from gpujit.jit.objects import ScriptFunction
    sf = ScriptFunction(compiled(fn), fn.__name__, fn)
    for _ in range(3):                                   # profiled, then specialized
        _same(sf(*[_copy(a) for a in args]), fn(*[_copy(a) for a in args]))


def test_arg_types_override_the_signature():
    from gpujit.ir import types as T

    def twice(a, b):
        return a * 2 + b
    g = compiled(twice, [T.INT, T.FLOAT])
    assert [str(v.type) for v in g.inputs] == ["int", "float"]
    assert interpret(g, 3, 0.5) == 6.5


# ------------------------------------------------------------------ errors

def branch_types(x, n: int):
    if n > 0:
        r = torch.rand(1)
    else:
        r = 4
    return r


def undefined(x):
    return x + yy   # noqa: F821


def one_branch(x, n: int):
    if n > 0:
        z = x
    return z


def bad_clamp(x):
    return torch.clamp(x, "a")


def bad_construct(x):
    with open("f") as f:
        y = x
    return y


def listcomp(x):
    return [i for i in range(3)]


def empty_list(x):
    xs = []              # List[Tensor], as TorchScript assumes
    xs.append(1)
    return xs


def loop_type_change(n: int):
    a = 0
    for i in range(n):
        a = 1.5
    return a


def loop_local(n: int):
    for i in range(n):
        inner = i * 2
    return inner


def loop_var_after(n: int):
    for i in range(n):
        pass
    return i


def test_loop_locals_are_not_visible_after_the_loop():
    for fn, words in ((loop_local, "'inner' is first assigned inside the loop at line"),
                      (loop_var_after, "'i' is the variable of the loop at line")):
        with pytest.raises(FrontendError) as e:
            compile_function(fn)
        assert words in str(e.value) and "<--- HERE" in str(e.value)


def test_branch_type_error_names_both_lines():
    with pytest.raises(FrontendError) as e:
        compile_function(branch_types)
    msg = str(e.value)
    line = branch_types.__code__.co_firstlineno
    # (torch 2.13's words first, then gpujit's)
    assert msg.startswith("Type mismatch: r is set to type Tensor in the true branch and "
                          "type int in the false branch: 'r' is a Tensor on one branch and "
                          "an int on the other")
    assert f"line {line + 4}, in branch_types" in msg or f"line {line + 4}" in msg
    assert "        r = 4\n        ~~~~~ <--- HERE" in msg
    assert f"(assigned a Tensor at line {line + 2}: r = torch.rand(1))" in msg
    assert "Hint:" in msg


def test_undefined_name():
    with pytest.raises(FrontendError) as e:
        compile_function(undefined)
    msg = str(e.value)
    assert "undefined name 'yy'" in msg
    assert "return x + yy" in msg and "~~ <--- HERE" in msg


def test_no_matching_schema_lists_each_variant():
    with pytest.raises(FrontendError) as e:
        compile_function(bad_clamp)
    msg = str(e.value)
    assert msg.startswith("Arguments for call are not valid: no variant of 'clamp' "
                          "accepts (Tensor, str):")
    assert "'min' expected a number or None, got str" in msg
    assert "return torch.clamp(x, \"a\")" in msg and "<--- HERE" in msg


@pytest.mark.parametrize("fn,words", [
    (one_branch, "'z' is not defined on every path"),
    (bad_construct, "a `with` statement is not supported"),
    (empty_list, "'append' got an int but the list holds a Tensor"),
    (loop_type_change, "Variable 'a' previously had type int but is now being assigned to a "
                       "value of type float"),
])
def test_unsupported_and_wrong_programs(fn, words):
    with pytest.raises(FrontendError) as e:
        compile_function(fn)
    msg = str(e.value)
    assert words in msg, msg
    assert "<--- HERE" in msg


def e_too_many(x):
    return torch.tanh(x, x)


def e_no_attr(x):
    return gpujit.frobnicate(x)


def e_no_method(x):
    return x.frobnicate()


def e_break_in_tuple_loop(x, y):
    for t in (x, y):
        break
    return x


def e_tuple_var_index(x, n: int):
    t = (x, 1)          # (x, x)[n] is fine: its elements share one type
    return t[n]


def e_lambda(x):
    f = lambda v: v   # noqa: E731
    return x


def e_dict(x):
    d = {"a": x}
    return x


def e_str_index(x):
    return x["a"]


def e_global(x):
    global SCALE
    return x


def e_return_types(x, n: int):
    if n > 0:
        return x
    return n


def e_declared(x: str) -> int:
    return x        # (a Tensor x would be converted: aten::IntImplicit, as TorchScript's)


def e_varargs(*xs):
    return xs


def e_nested_def(x):
    def inner(y):
        return y
    return x


def e_device_cond(x):
    if x.device:
        return 1
    return 0


def e_assign_item(x):
    x[0] = "a"
    return x


@pytest.mark.parametrize("fn,words", [
    (e_too_many, "'tanh'"),
    (e_no_attr, "gpujit has no function 'frobnicate'"),
    (e_no_method, "gpujit has no Tensor method 'frobnicate'"),
    (e_break_in_tuple_loop, "`break` is not supported in a loop over a tuple or a module "
                            "container"),
    (e_tuple_var_index, "cannot resolve the output type"),
    (e_lambda, "a lambda is not supported"),
    (e_str_index, "a tensor index must be an int, a slice, None, ..., a Tensor or a list of ints, got a str"),
    (e_global, "`global` is not supported"),
    (e_return_types, "the return value is a Tensor on one path and an int on another"),
    (e_declared, "'e_declared' is declared to return an int but returns a str"),
    (e_varargs, "*xs"),
    (e_nested_def, "a nested function definition is not supported"),
    (e_device_cond, "Could not cast value of type Device to bool"),
    (e_assign_item, "cannot store a str in a Tensor"),
])
def test_error_corpus(fn, words):
    with pytest.raises(FrontendError) as e:
        compile_function(fn)
    msg = str(e.value)
    assert words in msg, msg
    assert "<--- HERE" in msg and fn.__name__ in msg, msg


def test_too_many_arguments_says_why():
    with pytest.raises(FrontendError) as e:
        compile_function(e_too_many)
    assert "takes 1 positional argument but 2 were given" in str(e.value)


def test_scripted_raises_are_jit_errors_and_their_python_class():
    """torch.jit.Error catches what scripted code raises; so does the class it names."""
    @gpujit.jit.script
    def f(x: int):
        assert x > 0, "neg"
        if x > 10:
            raise ValueError("big")
        return x

    for arg, cls in ((-1, AssertionError), (11, ValueError)):
        with pytest.raises(gpujit.jit.Error) as info:
            f(arg)
        assert isinstance(info.value, cls) and type(info.value).__name__ == cls.__name__
    with pytest.raises(AssertionError, match="neg"):
        f(-1)
    assert f(3) == 3

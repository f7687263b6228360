"""PyTorch's class TestScript (test/test_jit.py), its tests of the scripted language,
ported as behaviour (session 16, helper ZY), second part: mutation through aliases,
non-final returns, dicts, calls of Python functions, branch types, while/if on numbers,
`is None` dispatch and Optional refinement. Helpers and the skip list are in
test_jit_testscript_port.py.
"""
from typing import Dict, List, Optional, Tuple

import pytest

import gpujit as torch
from test_jit_testscript_port import _cu_error, _script_error, check_script

_TYPE_COMMENT_NAMES = (Dict, List, Optional, Tuple)   # used by `# type:` comments below


# ------------------------------------------------------------------ mutation and DCE

def test_mutable_dce():
    @torch.jit.script
    def foo():
        a = torch.rand(2, 3)
        a += torch.rand(2, 3)
        b = torch.rand(2, 3)
        b += torch.rand(2, 3)
        return a

    assert foo().shape == (2, 3)

    @torch.jit.script
    def foo_input(a):
        a += torch.ones(2, 3)       # a graph input written in place: kept

    a = torch.zeros(2, 3)
    foo_input(a)
    assert a.tolist() == [[1.] * 3] * 2

    def fn_wildcards():
        x = torch.ones(2, 3)
        ls = []
        ls.append(x)
        x_view = ls[0]
        x.add_(torch.ones(2, 3))
        return x_view

    assert check_script(fn_wildcards).tolist() == [[2.] * 3] * 2

    def fn_list(a):
        ls = []
        ls.append(a)
        c = ls[0]
        c += torch.ones(2, 3)
        return a

    check_script(fn_list, torch.zeros(2, 3))

    def fn_loop(a):
        ls = []
        ls.append(a)
        i = 0
        while i < 3:
            c = ls[0]
            c += torch.ones(2, 3)
            i += 1
        return a

    assert check_script(fn_loop, torch.zeros(2, 3)).tolist() == [[3.] * 3] * 2


def test_view_writes_through_list_and_dict():
    def fn(x, y):
        ls = []
        ls.append(x)
        x_view = ls[0]
        a = x + x
        x_view.add_(y)
        b = x + x
        return a == b

    def fn_dict(x, y):
        d = {"a": x}
        x_view = d["a"]
        a = x + x
        x_view.add_(y)
        b = x + x
        return a == b

    x, y = torch.arange(6.).reshape(2, 3), torch.tensor([[0., 1., 0.], [1., 0., 0.]])
    for f in (fn, fn_dict):
        assert check_script(f, x, y).tolist() == [[True, False, True], [False, True, True]]


def test_select_after_chunk_writes_input():
    def foo(x):
        chunked = torch.chunk(x, 1)
        foo = chunked[0]
        foo.add_(5)
        return x

    assert check_script(foo, torch.zeros(2, 3)).tolist() == [[5.] * 3] * 2


# ------------------------------------------------------------------ returns

def test_non_final_return():
    def simple(x):
        if bool(x > 3):
            return x + 1
        else:
            return x + 2
        raise RuntimeError("nope")

    def nest(x):
        x = x + 1
        if bool(x > 3):
            if bool(x > 4):
                x += 1
            return x + 1
        else:
            return x + 2

    def early_ret(x):
        x = x + 1
        if bool(x > 3):
            return x + 1
        x = x + 1
        return x + 2

    def nest_early_ret(x):
        x = x + 1
        if bool(x > 3):
            if bool(x > 4):
                return x + 2
            return x + 1
        x = x + 1
        return x + 2

    def not_early_ret(x):
        if bool(x > 3):
            if bool(x > 4):
                return 1
            print("foo")
        else:
            print("5")
        return 7

    def not_total_ret(x):
        if bool(x > 3):
            if bool(x > 4):
                return 1
            else:
                return 2
        else:
            print("5")
        return 7

    def nest_while_ret(x):
        while bool(x > 4):
            if bool(x < 3):
                return 4
        return 5

    def nest_for_ret(x):
        for _ in range(3):
            if bool(x < 3):
                return 4
        return 5

    # PyTorch 2.x compiles all of these (old TorchScript refused the last four)
    for v in (0., 3.5, 4.5, 6.):
        for f in (simple, nest, early_ret, nest_early_ret, not_early_ret, not_total_ret,
                  nest_for_ret):
            check_script(f, torch.tensor([v]))
    check_script(nest_while_ret, torch.tensor([1.]))


def test_list_python_op():
    def python_list_op(lst):
        # type: (List[Tensor]) -> Tensor
        return lst[0]

    def fn(lst):
        # type: (List[Tensor]) -> Tensor
        return python_list_op(lst)

    check_script(fn, [torch.ones(2) + 2, torch.ones(2)])


# ------------------------------------------------------------------ dicts

def test_dict_ops_and_literals():
    d = {"a": torch.ones(1), "b": torch.ones(1) + 1, "c": torch.ones(1) + 2}

    @torch.jit.script
    def keys(x):
        # type: (Dict[str, Tensor]) -> List[str]
        return list(x.keys())

    @torch.jit.script
    def values(x):
        # type: (Dict[str, Tensor]) -> List[Tensor]
        return list(x.values())

    def length(x):
        # type: (Dict[str, Tensor]) -> int
        return len(x)

    assert keys(d) == ["a", "b", "c"]
    assert [v.item() for v in values(d)] == [1., 2., 3.]
    assert check_script(length, d) == 3

    def simple(x):
        # type: (Dict[str, int]) -> Dict[str, int]
        return x

    def index(x):
        # type: (Dict[str, int]) -> int
        return x["item"]

    def type_default():
        # type: () -> Dict[str, Tensor]
        return {}

    def list_of_dicts():
        # type: () -> List[Dict[str, Tensor]]
        return [{"word": torch.ones(2) + 3}, {"other word": torch.ones(1) + 2}]

    check_script(simple, {"item": 20, "other_item": 120})
    assert check_script(index, {"item": 20, "other_item": 120}) == 20
    assert check_script(type_default) == {}
    check_script(list_of_dicts)

    @torch.jit.script
    def missing_index(x):
        # type: (Dict[str, int]) -> int
        return x["dne"]

    with pytest.raises(KeyError):
        missing_index({"item": 20, "other_item": 120})

    cu = torch.jit.CompilationUnit('''
        def literal1():
            return torch.jit.annotate(Dict[int, float], {})
        def literal2():
            return torch.jit.annotate(Dict[int, float], {10: 1.2})
        def literal3():
            return torch.jit.annotate(Dict[int, float], {10: 1.2, 11: 1.3})
    ''')
    assert cu.literal1() == {}
    assert cu.literal2() == {10: 1.2}
    assert cu.literal3() == {10: 1.2, 11: 1.3}

    @torch.jit.script
    def mut():
        # type: () -> Dict[str, int]
        a = torch.jit.annotate(Dict[str, int], {})
        a["ok"] = 10
        return a

    assert mut() == {"ok": 10}


def test_dict_to_python_function():
    def python_lookup(my_dict, keys):
        # type: (Dict[str, int], List[str]) -> List[int]
        return [my_dict[k] for k in keys]

    def fn(my_dict, keys):
        # type: (Dict[str, int], List[str]) -> List[int]
        return python_lookup(my_dict, keys)

    assert check_script(fn, {"a": 1, "b": 2, "c": 3}, ["a", "c"]) == [1, 3]


def test_module_dict_attribute_indexed_by_str():
    class M(torch.nn.Module):
        def __init__(self, table):
            super().__init__()
            self.table = torch.jit.Attribute(table, Dict[str, torch.Tensor])
            self.x = torch.nn.Parameter(torch.tensor([100.0]))

        def forward(self, key):
            # type: (str) -> Tensor
            return self.table[key] + self.x

    m = torch.jit.script(M({c: torch.ones(1) + ord(c) - ord("a") for c in "abcdefg"}))
    assert m("c").tolist() == [103.]


def test_optional_tuple_and_split():
    def fn(x=None):
        # type: (Optional[Tuple[int, int]]) -> Tuple[int, int]
        if x is None:
            new_x = (1, 2)
        else:
            new_x = x
        return new_x

    assert check_script(fn, (3, 4)) == (3, 4)
    assert check_script(fn) == (1, 2)

    def split_two(tensor):
        a, b, c = torch.split(tensor, 2, dim=1)
        return a, b, c

    check_script(split_two, torch.arange(18.).reshape(3, 6))


# ------------------------------------------------------------------ calls of Python functions

def _py_foo(a, b, c):
    # type: (Tensor, int, Tuple[Tensor, int]) -> Tuple[int, Tensor]
    d, e = c
    return b + e, a + d


def test_python_call_non_tensor():
    @torch.jit.script
    def bar():
        x = torch.ones(3, 4)
        a, b = _py_foo(x, 3, (x, 3))
        return a, b

    a, b = bar()
    assert a == 6 and b.tolist() == [[2.] * 4] * 3


def _returns_a_tuple():
    # type: () -> Tensor
    return ((3, 4),)  # noqa: T484


def _calls_returns_a_tuple():
    return _returns_a_tuple()


def test_python_call_non_tensor_wrong():
    msg = _script_error(_calls_returns_a_tuple)
    assert "annotated as having type Tensor" in msg, msg


# ------------------------------------------------------------------ tuples and branch types

def test_tuples():
    def foo(i):
        a = (i + 4, i * 2)
        c = a
        if True:
            c = (i * 9, i + 1)
        t0, t1 = c
        while False:
            t0, t1 = c
            c = (t1, t0)
        x = (1,)
        y = 1,
        return t0, x, y

    check_script(foo, torch.arange(30.).reshape(10, 3))


# (PyTorch's versions test `if True:` / `if False:`, whose dead branch TorchScript never
# compiles, so they compile now: test_jit_testscript_port_d.py checks that. The branch
# here is decided at run time, so the types must agree.)
def _mixtypes(x):
    a = (x, x)
    if bool(x.sum() > 0):
        a = 4
    return a


def _diff_tuple_sizes(x):
    if bool(x.sum() > 0):
        c0 = ((x, x), (x, x, x))
    else:
        c0 = ((x, x, x), (x, x))
    return c0


def _diff_type_used(x):
    if bool(x.sum() > 0):
        c0 = 1
    else:
        c0 = 1.0
    return c0


def _diff_existing_type(x):
    c0 = 1.0
    if bool(x.sum() > 0):
        c0 = 1
        print(x)
    return x, c0


def _list_optional_fails(x):
    # type: (bool) -> Optional[int]
    if x:
        y = [1]
    else:
        y = [None]  # noqa: T484
    return y[0]


@pytest.mark.parametrize("fn, words", [
    (_mixtypes, ["'a'", "Tuple[Tensor, Tensor]", "a = 4"]),
    (_diff_tuple_sizes, ["c0", "Tuple[Tuple[Tensor, Tensor], Tuple[Tensor, Tensor, Tensor]]"]),
    (_diff_type_used, ["c0", "int", "float"]),
    (_diff_existing_type, ["c0", "float", "c0 = 1"]),
    (_list_optional_fails, ["y", "List[int]"]),
])
def test_type_mismatches_name_the_variable(fn, words):
    msg = _script_error(fn)
    assert all(w in msg for w in words), msg


def test_branches_may_differ_when_unused_after():
    def diff_type_unused():
        if True:
            c0 = 1
            print(c0)
        else:
            c0 = 1.0
            print(c0)
        return 1

    assert torch.jit.script(diff_type_unused)() == 1

    def test_list(x):
        if bool(x.sum() < 1):
            c = [x, x]
        else:
            c = [x, x, x]
        return torch.cat(c)

    check_script(test_list, torch.zeros(2, 4))
    check_script(test_list, torch.ones(2, 4))

    def tensor_unifying(x, y, z):
        if True:
            x, y, z = x, y, z
        else:
            x, y, z = x, x, y
        return x, y, z

    check_script(tensor_unifying, torch.zeros(2, 2), torch.zeros(2, 4, dtype=torch.long),
                 torch.ones(2, 4))

    def list_tensors(x):
        # type: (bool) -> Tuple[Tensor, List[Tensor]]
        if x:
            a = torch.zeros([1, 1])
            y = [a]
        else:
            a = torch.zeros([1, 2])
            y = [a]
        return a, y

    check_script(list_tensors, True)
    check_script(list_tensors, False)


def test_broadcasting_list3_arguments():
    from gpujit.jit.annotations import BroadcastingList3

    @torch.jit.script
    def float_fn(x, y):
        # type: (float, BroadcastingList3[float]) -> List[float]
        return y

    assert float_fn(2.0, 1.0) == float_fn(2.0, [1.0, 1.0, 1.0]) == [1.0] * 3
    assert float_fn(2.0, (1.0, 1.0, 1.0)) == [1.0] * 3

    @torch.jit.script
    def float_fn_call():
        return float_fn(1.0, 1.0), float_fn(1.0, (1.0, 2.0, 3.0))

    assert float_fn_call() == ([1.0] * 3, [1.0, 2.0, 3.0])

    def int_fn(x: BroadcastingList3[int]) -> List[int]:
        return x

    s = torch.jit.script(int_fn)
    assert s(1) == s([1, 1, 1]) == s((1, 1, 1)) == [1, 1, 1]

    @torch.jit.script
    def int_fn_call():
        return s(1), s((1, 2, 3))

    assert int_fn_call() == ([1, 1, 1], [1, 2, 3])


def test_bad_type_constructors():
    msg = _cu_error('''
def nested(x, y):
    # type: (int, Tuple[int, int[2]]) -> List[int]
    return x
''')
    assert "int[2]" in msg, msg


def test_ntuple_builtins():
    from gpujit.nn.modules.utils import _single, _pair, _triple, _quadruple

    def test_ints():
        return _single(1), _pair(2), _triple(3), _quadruple(4)

    def test_floats():
        return _single(1), _pair(2.1), _triple(3.1), _quadruple(4.1)

    assert check_script(test_ints) == ((1,), (2, 2), (3, 3, 3), (4, 4, 4, 4))
    check_script(test_floats)


def _tuple3(x, y):
    # type: (Tensor, Tensor) -> Tuple[Tensor, Tensor, Tensor]
    return x, x * 2, x * 3


def _unpack4(x):
    x, y, z, w = _tuple3(x, x)
    return x


def _unpack2(x):
    x, y = _tuple3(x, x)
    return x


def test_type_annotations_of_called_functions():
    for f, n in ((_unpack4, "4"), (_unpack2, "2")):
        msg = _script_error(f)
        assert "3 values" in msg and n in msg, msg

    def fn_unpack(x):
        y, z, w = _tuple3(x, x)
        return y

    def fn_index(x):
        q = _tuple3(x, x)
        return q[2]

    def fn_string(str, strpair):
        # type: (str, Tuple[str, str]) -> Tuple[str, int, str, str]
        str1, str2 = strpair
        return str, 2, str1, str2

    x = torch.ones(2, 2)
    check_script(fn_unpack, x)
    check_script(fn_index, x)
    assert check_script(fn_string, "1", ("3", "4")) == ("1", 2, "3", "4")


def test_kwargs_call_of_a_method_and_define_order():
    class M(torch.nn.Module):
        def forward(self, input):
            return self.foo(input=input, bar=1) + self.call_foo(input)

        @torch.jit.export
        def call_foo(self, input):
            return self.foo2(input)

        @torch.jit.export
        def foo2(self, input):
            return input + 1

        @torch.jit.export
        def foo(self, bar, input):
            # type: (int, Tensor) -> Tensor
            return input + bar

    m = torch.jit.script(M())
    assert m(torch.ones((), dtype=torch.int64)).item() == 4


class _Recursive(torch.nn.Module):
    def forward(self, input):
        return self.foo(input)

    def foo(self, input):
        return self.forward(input)


def test_recursive_methods_are_refused():
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(_Recursive())
    assert "recursive" in str(e.value).lower(), str(e.value)


# ------------------------------------------------------------------ while / if on numbers

def test_view_with_size_keyword_and_integral_division():
    cu = torch.jit.CompilationUnit('''
def view_prop(a):
    return a.view(size=[-1])
def div(a):
    return a / a
def fuser_multiple_blocks(this, that, theother, meme):
    i = 0
    while i < 20:
        this = torch.cat([this, meme], dim=0)
        that = torch.cat([that, meme], dim=0)
        theother = torch.cat([theother, meme], dim=0)
        i = i + 1
    return this, that, theother
''')
    assert cu.view_prop(torch.zeros(10, 10)).shape == (100,)
    r = cu.div(torch.ones(10, 10, dtype=torch.long))
    assert r.dtype == torch.float32 and r.tolist() == [[1.] * 10] * 10
    outs = cu.fuser_multiple_blocks(*([torch.ones(0, 10, 10)] * 3 + [torch.ones(1, 10, 10)]))
    assert [tuple(o.shape) for o in outs] == [(20, 10, 10)] * 3

    def fn(x):
        B = x.size(0)
        C = x.size(1)
        T = x.size(2)
        return x.view(T, B, C)

    check_script(fn, torch.arange(15.).reshape(3, 1, 5))


def test_string_print(capsys):
    def func(a):
        print(a, "a" 'b' '''c''' """d""", 2, 1.5)
        return a

    check_script(func, torch.tensor(1))
    out = capsys.readouterr().out.splitlines()
    # eager's line, then scripted code's: the Tensor as ATen's C++ printer writes it
    # (torch 2.13)
    assert out == ["tensor(1) abcd 2 1.5", "1", "[ CPULongType{} ] abcd 2 1.5"], out


def _ints(*vals):
    return [torch.tensor(v) for v in vals]


def test_while_fibb_if():
    def func_while(a, b, max):
        while bool(a < max):
            a = a + 1
            b = b + 1
        c = a + b
        return c

    def fibb(lim):
        first = 1
        second = 1
        i = 1
        somenum = 5
        dontmutateme = 3
        third = 0
        while bool(i < lim):
            third = first + second
            first = second
            second = third
            j = 0
            while j < 10:
                somenum = somenum * 2
                j = j + 1
            i = i + j
            i = i + dontmutateme
        st = second + third
        fs = first + second
        return third, st, fs

    def func_if(a, b):
        # type: (int, int) -> int
        d = 3
        if bool(a > 10):
            a = 3 + d
        else:
            b = 3 + d
            d = 4
        c = a + b
        return c

    def func_if_for(a, b):
        # type: (int, int) -> int
        d = 3
        for _ in range(20):
            if bool(a > 10):
                a = 3 + d
            else:
                b = 3 + d
                d = 4
            d = d + (a + b) * 0
        return d

    def func_noelse(a, b):
        if bool(a > 10):
            a = 3 + b
        c = a + b
        return c

    def write_outer(a, b):
        while bool(a < 10):
            a = a + 1
            b = a + 1
        return a + b

    check_script(func_while, *_ints(1, 1, 10))
    check_script(fibb, *_ints(10))
    for a, b in ((1, -1), (11, 2)):
        check_script(func_if, a, b)
        check_script(func_if_for, a, b)
        check_script(func_noelse, *_ints(-a, b))
    check_script(write_outer, *_ints(42, 1337))
    check_script(write_outer, *_ints(2, 1337))


def test_while_nest_if_on_ints():
    def func(a, b):
        # type: (int, int) -> int
        c = 0
        while a < 10:
            a = a + 1
            b = b + 1
            if a > b:
                c = -a
            else:
                c = -b
        return c + 1

    def func2(a, b):
        # type: (int, int) -> int
        c = 0
        if a > b:
            while a > b:
                b = b + 1
                c = -b
        return c

    for a, b in ((-1234, 4321), (3, -2), (12, 1)):
        assert check_script(func, a, b) == func(a, b)
        assert check_script(func2, a, b) == func2(a, b)


def test_is_none_dispatch():
    @torch.jit.script
    def lhs_none_rhs_none():
        if None is None:
            return 1
        elif None is not None:
            return 2
        else:
            return 3

    @torch.jit.script
    def lhs_opt(lhs=None):
        # type: (Optional[Tensor]) -> int
        if lhs is not None:
            return 2
        elif lhs is None:
            return 1
        else:
            return 3

    @torch.jit.script
    def rhs_opt(rhs=None):
        # type: (Optional[Tensor]) -> int
        if None is rhs:
            return 1
        elif None is not rhs:
            return 2
        else:
            return 3

    @torch.jit.script
    def lhs_never(lhs):
        if lhs is None:
            return 1
        elif lhs is not None:
            return 2
        else:
            return 3

    assert lhs_none_rhs_none() == 1
    assert str(lhs_none_rhs_none.graph).count(": int = prim::Constant") == 1
    assert lhs_opt() == 1 and lhs_opt(torch.ones(1)) == 2
    assert rhs_opt() == 1 and rhs_opt(torch.ones(1)) == 2
    assert lhs_never(torch.ones(1)) == 2
    assert str(lhs_never.graph).count(": int = prim::Constant") == 1


def _bool_cast(a):
    if a:
        return a + 2
    return a + 1


def test_tensor_condition_is_bool_cast():
    # TorchScript 2.x converts a Tensor condition with bool() (old: "expected a boolean")
    s = torch.jit.script(_bool_cast)
    assert s(torch.tensor(1)).item() == 3 and s(torch.tensor(0)).item() == 1


@pytest.mark.parametrize("src", [
    "def f(a, b):\n    while bool(a < 10):\n        a = a + x\n        b = b + 1\n    return a + b\n",
    "def f(a, b):\n    while a < x:\n        a = a + 1\n        b = b + 1\n    return a + b\n",
])
def test_while_undefined_value(src):
    msg = _cu_error(src)
    assert "x" in msg and "<--- HERE" in msg and "defined" in msg, msg


# ------------------------------------------------------------------ Optional refinement

def test_optional_refinement():
    @torch.jit.script
    def if_none_assignment(x):
        # type: (Optional[int]) -> int
        if x is None:
            x = 1
        return x + 1

    @torch.jit.script
    def ternary(x):
        # type: (Optional[int]) -> int
        x = x if x is not None else 2
        return x

    @torch.jit.script
    def both(x, y):
        # type: (Optional[int], Optional[int]) -> int
        if x is not None and y is not None:
            return x + y
        return -1

    @torch.jit.script
    def negated(x, y):
        # type: (Optional[int], Optional[int]) -> int
        if not (x is not None and y is not None):
            return -1
        else:
            return x + y

    @torch.jit.script
    def bool_expression(x):
        # type: (Optional[int]) -> int
        if x is not None and x < 2:
            return x + 1
        return 0

    @torch.jit.script
    def nested(x, y):
        # type: (Optional[int], Optional[int]) -> int
        if x is not None and x < 2 and y is not None:
            x = x + y
        else:
            x = 5
        return x + 2

    @torch.jit.script
    def either(x, y):
        # type: (Optional[int], Optional[int]) -> int
        if y is None or x is None:
            return -1
        else:
            return x + y

    assert if_none_assignment(1) == 2 and if_none_assignment(None) == 2
    assert ternary(None) == 2 and ternary(5) == 5
    for f in (both, negated, either):
        assert f(1, 2) == 3 and f(None, 2) == -1 and f(1, None) == -1
    assert bool_expression(1) == 2 and bool_expression(3) == 0 and bool_expression(None) == 0
    assert nested(1, 2) == 5 and nested(3, 2) == 7 and nested(1, None) == 7


def _or_error(x, y):
    # type: (Optional[int], Optional[int]) -> None
    if x is None or y is None:
        print(x + y)  # noqa: T484


def _and_error(x, y):
    # type: (Optional[int], Optional[int]) -> None
    if x is None and y is None:
        pass
    else:
        print(x + y)  # noqa: T484


def _named_var(x):
    # type: (Optional[int]) -> None
    x_none = x is not None
    if x_none:
        print(x + 1)  # noqa: T484


@pytest.mark.parametrize("fn", [_or_error, _and_error, _named_var])
def test_optional_not_refined(fn):
    msg = _script_error(fn)
    assert "Optional[int]" in msg and "print(x + " in msg, msg

"""Script: calls of Python / scripted / traced functions, Optional refinement, `in` and
isinstance. Each compiled graph is run through the ScriptFunction (executor) and the
reference interpreter against the Python function run eagerly, linted, and its text
round-trips through parse_ir."""
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import pytest

import gpujit
from gpujit.frontend.script import FrontendError
from gpujit.ir import parse_ir
from gpujit.runtime.interpreter import interpret


def _check(fn, *args):
    """Script fn, lint its graph, round-trip the text, and compare the executor's and the
    interpreter's results with the eager function's."""
    sf = gpujit.script(fn)
    g = sf.graph
    g.lint()
    assert str(parse_ir(str(g))) == str(g)
    want = fn(*args)
    for got in (sf(*args), interpret(g, *args)):
        _same(got, want)
    return sf


def _same(got, want):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            _same(a, b)
    elif isinstance(want, gpujit.Tensor):
        np.testing.assert_allclose(np.asarray(got.numpy()), np.asarray(want.numpy()),
                                   rtol=1e-6)
    else:
        assert got == want and type(got) is type(want)


# ------------------------------------------------------------------ calls

def helper_scale(x: int, k: int = 3) -> int:
    return x * k


def helper_tensor(x):
    return gpujit.relu(x) + 1


def calls_plain(a: int, t):
    return helper_scale(a) + helper_scale(a, 2) + helper_scale(x=a, k=5), helper_tensor(t)


def test_call_plain_python_functions():
    t = gpujit.tensor([-1.0, 2.0])
    sf = _check(calls_plain, 4, t)
    calls = [n for n in sf.graph.walk() if n.kind == "prim::CallFunction"]
    assert [n.attrs["name"] for n in calls] == ["helper_scale"] * 3 + ["helper_tensor"]
    callee = calls[0].meta["callee"]
    assert [str(i.type) for i in callee.inputs] == ["int", "int"]
    assert 'Function = prim::Constant[name="helper_scale"]()' in str(sf.graph)


def test_callee_is_inlined_by_the_inliner():
    from gpujit.passes.inline import inline_calls
    g = gpujit.script(calls_plain).graph.copy()
    inline_calls(g)
    g.lint()
    assert not any(n.kind == "prim::CallFunction" for n in g.walk())
    assert interpret(g, 4, gpujit.tensor([1.0]))[0] == 4 * 3 + 8 + 20


@gpujit.script
def scripted_inc(x: int) -> int:
    return x + 1


def calls_scripted(a: int) -> int:
    return scripted_inc(a) * 2


def _traced_body(x):
    return x * 2 + 1


traced_fn = gpujit.trace(_traced_body, (gpujit.tensor([1.0, 2.0]),))


def calls_traced(x):
    return traced_fn(x) - 1


def test_call_scripted_and_traced_functions():
    sf = _check(calls_scripted, 5)
    (n,) = [n for n in sf.graph.walk() if n.kind == "prim::CallFunction"]
    assert n.meta["callee"] is scripted_inc.graph
    _check(calls_traced, gpujit.tensor([3.0, 4.0]))


def rec_a(n: int) -> int:
    if n <= 0:
        return 0
    return rec_b(n - 1)


def rec_b(n: int) -> int:
    return rec_a(n)


def test_recursion_is_a_clear_error():
    with pytest.raises(FrontendError) as e:
        gpujit.script(rec_a)
    msg = str(e.value)
    assert "recursive" in msg and "rec_a -> rec_b -> rec_a" in msg


def helper_bad(x: int) -> int:
    return x


def calls_bad(t: str):
    # (a Tensor t would be converted, aten::IntImplicit, as TorchScript's; a str is not)
    return helper_bad(t)


def test_call_argument_type_error():
    with pytest.raises(FrontendError, match="argument 1 .'x'. of 'helper_bad' must be an int"):
        gpujit.script(calls_bad)


# ------------------------------------------------------------------ Optional refinement

def opt_if(x: Optional[int], y: int) -> int:
    if x is None:
        return y
    else:
        return x + y


def opt_if_not(x: Optional[int], y: int) -> int:
    r = 0
    if x is not None:
        r = x * 2
    else:
        r = y
    return r


def opt_and(x: Optional[int], y: int) -> int:
    if x is not None and x > y:
        return x
    return y


def opt_or(x: Optional[int]) -> int:
    if x is None or x < 0:
        return -1
    return x


def opt_assert(x: Optional[int]) -> int:
    assert x is not None, "x is required"
    return x + 1


def opt_early_return(x: Optional[int]) -> int:
    if x is None:
        return 0
    y = x * 3
    return y


def opt_raise(x: Optional[int]) -> int:
    if x is None:
        raise ValueError("no x")
    return x - 1


def opt_tensor(t, bias: Optional[gpujit.Tensor]):
    out = t * 2
    if bias is not None:
        out = out + bias
    return out


def opt_ifexp(x: Optional[int]) -> int:
    return x if x is not None else 7


def opt_not(x: Optional[int]) -> int:
    if not (x is None):
        return x
    return 5


@pytest.mark.parametrize("fn,arg_sets", [
    (opt_if, [(None, 2), (3, 2)]),
    (opt_if_not, [(None, 2), (3, 2)]),
    (opt_and, [(None, 2), (1, 2), (5, 2)]),
    (opt_or, [(None,), (-3,), (4,)]),
    (opt_assert, [(4,)]),
    (opt_early_return, [(None,), (4,)]),
    (opt_raise, [(4,)]),
    (opt_ifexp, [(None,), (4,)]),
    (opt_not, [(None,), (4,)]),
])
def test_optional_refinement(fn, arg_sets):
    for args in arg_sets:
        sf = _check(fn, *args)
    assert any(n.kind == "prim::unchecked_cast" for n in sf.graph.walk())


def test_optional_tensor_refinement():
    t, b = gpujit.tensor([1.0, -2.0]), gpujit.tensor([0.5, 0.5])
    _check(opt_tensor, t, None)
    _check(opt_tensor, t, b)


def test_refinement_ir():
    g = gpujit.script(opt_if_not).graph
    text = str(g)
    assert "bool = aten::__isnot__(%x" in text
    assert "int = prim::unchecked_cast(%x.1)" in text     # (torch 2.13's value names)
    # the narrowed x is not merged into the if's outputs: only r is
    (node,) = [n for n in g.nodes if n.kind == "prim::If"]
    assert [o.debug_name.split(".")[0] for o in node.outputs] == ["r"]


def test_raise_and_assert_on_none():
    with pytest.raises(Exception, match="no x"):
        interpret(gpujit.script(opt_raise).graph, None)
    with pytest.raises(Exception, match="x is required"):
        gpujit.script(opt_assert)(None)


def opt_unrefined(x: Optional[int]) -> int:
    return x + 1


def test_unrefined_optional_is_an_error():
    with pytest.raises(FrontendError, match=r"add"):
        gpujit.script(opt_unrefined)


# ------------------------------------------------------------------ in / isinstance

def in_list(x: int, xs: List[int]) -> bool:
    return x in xs


def not_in_tuple(s: str) -> bool:
    return s not in ("relu", "tanh")


def in_literal_list(x: int) -> int:
    if x in [1, 2, 3]:
        return 10
    return 20


def in_str_list(s: str, names: List[str]) -> bool:
    return s in names and s not in ["skip"]


@pytest.mark.parametrize("fn,arg_sets", [
    (in_list, [(2, [1, 2, 3]), (5, [1, 2, 3]), (1, [])]),
    (not_in_tuple, [("relu",), ("gelu",)]),
    (in_literal_list, [(2,), (7,)]),
    (in_str_list, [("a", ["a", "skip"]), ("skip", ["skip"]), ("b", ["a"])]),
])
def test_in_and_not_in(fn, arg_sets):
    for args in arg_sets:
        sf = _check(fn, *args)
    assert "aten::__contains__" in str(sf.graph)


def in_dict(k: str, d: Dict[str, int]) -> bool:
    return k in d


def test_in_dict_keys():
    for args in (("a", {"a": 1}), ("b", {"a": 1})):
        sf = gpujit.script(in_dict)
        sf.graph.lint()
        assert interpret(sf.graph, *args) == in_dict(*args)


def in_tensor_list(t, ts: List[gpujit.Tensor]) -> bool:
    return t in ts


def test_in_rejects_tensors():
    with pytest.raises(FrontendError, match="cannot look for a Tensor"):
        gpujit.script(in_tensor_list)


def isinst_static(x: int, t, xs: List[int]) -> Tuple[bool, bool, bool, bool]:
    return (isinstance(x, int), isinstance(x, float), isinstance(t, gpujit.Tensor),
            isinstance(xs, (list, tuple)))


def isinst_generic(xs: List[int]) -> Tuple[bool, bool]:
    # TorchScript allows typing generics in isinstance (eager Python does not)
    return isinstance(xs, List[int]), isinstance(xs, List[float])


def test_isinstance_is_a_constant():
    sf = _check(isinst_static, 3, gpujit.tensor([1.0]), [1])
    g = sf.graph
    assert not any(n.kind == "prim::If" or n.kind.startswith("aten::") for n in g.walk())
    assert sf(3, gpujit.tensor([1.0]), [1]) == (True, False, True, True)
    g = gpujit.script(isinst_generic).graph
    g.lint()
    assert interpret(g, [1]) == (True, False)


def isinst_optional(x: Optional[int]) -> int:
    if isinstance(x, int):
        return x + 1
    return 0


def test_isinstance_on_optional_refines():
    for a in (None, 4):
        _check(isinst_optional, a)


def isinst_union(x: Union[int, str]) -> bool:
    return isinstance(x, int)


def test_isinstance_on_union_is_a_run_time_test():
    for a in (3, "a"):
        sf = _check(isinst_union, a)
    assert "prim::isinstance" in str(sf.graph)


# ------------------------------------------------------------------ combinations

def h_default(x: int, b: Optional[int] = None) -> int:
    if b is None:
        return x
    return x + b


def loop_opt(n: int, step: Optional[int]) -> int:
    acc = 0
    for i in range(n):
        if step is not None:
            acc += step
        else:
            acc += 1
    # constant arguments: after inlining the executor sees `2 is None` on constants
    return acc + h_default(n) + h_default(n, 2) + h_default(n, None)


def test_refinement_in_loops_and_optional_defaults():
    for args in ((3, None), (3, 5), (0, 1)):
        _check(loop_opt, *args)


def test_module_method_calls_a_function():
    from gpujit import nn

    class M(nn.Module):
        def forward(self, x):
            return helper_tensor(x) * 2

    x = gpujit.tensor([-1.0, 2.0])
    m = gpujit.script(M())
    _same(m(x), M()(x))
    assert 'Function = prim::Constant[name="helper_tensor"]()' in str(m.graph) and \
        "prim::CallFunction(%" in str(m.graph)


def _traced_pair(x):
    return x * 2, x + 1


traced_pair = gpujit.trace(_traced_pair, (gpujit.tensor([1.0, 2.0]),))


def calls_traced_pair(x):
    a, b = traced_pair(x)
    return a - b


def test_traced_callee_types_are_not_shape_specialized():
    sf = _check(calls_traced_pair, gpujit.tensor([3.0, 5.0, 7.0]))
    (n,) = [n for n in sf.graph.walk() if n.kind == "prim::CallFunction"]
    assert str(n.output.type) == "(Tensor, Tensor)"


def callee_with_error(x: int) -> int:
    return x + "a"


def calls_callee_with_error(x: int) -> int:
    return callee_with_error(x)


def test_callee_error_says_where_it_was_called_from():
    with pytest.raises(FrontendError) as e:
        gpujit.script(calls_callee_with_error)
    msg = str(e.value)
    assert "in callee_with_error" in msg and "return x + \"a\"" in msg
    assert "called from 'calls_callee_with_error' at" in msg
